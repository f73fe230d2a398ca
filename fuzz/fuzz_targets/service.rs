//! Structure-aware state machine: a simple upload, a session upload and a
//! wait on a job, each against a scripted service whose answers (status,
//! Location / Retry-After / Content-Type, body, or a dropped connection)
//! come from the fuzzer; the script repeats once it runs out, so a service
//! that answers the same way for ever is covered.
//!
//! Transport: loopback (std TcpListener threads). The client speaks HTTP
//! only through ureq with its own connector; there is no in-process seam
//! short of changing src/graph, so the honest choice is a real socket.
//! Two listeners: the API origin, and another origin (upload and monitor
//! URLs live there) that must never see the token.
//!
//! Asserts: no panic; the call ends within a bounded number of requests and
//! time; bytes sent for an upload stay at most 4x the file size; the token
//! goes to the API origin only.
#![no_main]
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use onedrive_native::{
    Client, ClientConfig, Conflict, Control, Drive, Job, RetryPolicy, UploadSettings, UploadTarget,
    WaitOptions,
};

const TOKEN: &str = "SECRET-TOKEN-4711";
const CHUNK: u64 = 320 * 1024;

#[derive(Arbitrary, Debug, Clone)]
enum Where {
    Api,
    Other,
    /// A closed port on loopback: connection refused.
    Closed,
    /// `localhost` on the API port: another origin by name.
    LocalhostApi,
}

#[derive(Arbitrary, Debug, Clone)]
enum Url {
    Abs(Where, Path),
    Relative(Path),
    Raw(String),
}

#[derive(Arbitrary, Debug, Clone)]
enum Path {
    Item(String),
    Upload(u8),
    Monitor,
    Raw(String),
}

#[derive(Arbitrary, Debug, Clone)]
enum Offset {
    Zero,
    Chunk(u8),
    End,
    Past,
    Raw(u64),
}

#[derive(Arbitrary, Debug, Clone)]
enum Body {
    Empty,
    Item {
        id: String,
        size: Option<Offset>,
        folder: bool,
    },
    Ranges(Vec<Offset>),
    RangeText(Vec<String>),
    Session(Url),
    Job {
        status: u8,
        percent: Option<f64>,
        resource_id: Option<String>,
        location: Option<Url>,
    },
    Error {
        code: u8,
        inner: Option<u8>,
    },
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug, Clone)]
struct Answer {
    status: u16,
    location: Option<Url>,
    retry_after: Option<u8>,
    json: bool,
    body: Body,
    drop: bool,
}

#[derive(Arbitrary, Debug)]
enum Call {
    Simple { size: u16, conflict: u8 },
    Session { chunks: u8, extra: u16 },
    Wait,
}

#[derive(Arbitrary, Debug)]
struct Input {
    call: Call,
    script: Vec<Answer>,
}

struct Server {
    api: u16,
    other: u16,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    script: Vec<Answer>,
    next: usize,
    requests: u32,
    put_bytes: u64,
    leak: Option<String>,
    size: u64,
}

fn server() -> &'static Server {
    static S: OnceLock<&'static Server> = OnceLock::new();
    S.get_or_init(|| {
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let b = TcpListener::bind("127.0.0.1:0").unwrap();
        let s: &'static Server = Box::leak(Box::new(Server {
            api: a.local_addr().unwrap().port(),
            other: b.local_addr().unwrap().port(),
            state: Mutex::new(State::default()),
        }));
        for l in [a, b] {
            std::thread::spawn(move || {
                for conn in l.incoming().flatten() {
                    std::thread::spawn(move || handle(s, conn));
                }
            });
        }
        s
    })
}

fn host_of(s: &Server, w: &Where) -> String {
    match w {
        Where::Api => format!("127.0.0.1:{}", s.api),
        Where::Other => format!("127.0.0.1:{}", s.other),
        Where::Closed => "127.0.0.1:1".to_owned(),
        Where::LocalhostApi => format!("localhost:{}", s.api),
    }
}

fn clean(t: &str) -> String {
    t.chars().filter(|c| !c.is_control()).take(200).collect()
}

fn path_text(p: &Path) -> String {
    match p {
        Path::Item(id) => format!("/v1.0/me/drive/items/{}", clean(id)),
        Path::Upload(n) => format!("/up/{n}"),
        Path::Monitor => "/monitor/1".to_owned(),
        Path::Raw(r) => clean(r),
    }
}

fn url_text(s: &Server, u: &Url) -> String {
    match u {
        Url::Abs(w, p) => format!("http://{}{}", host_of(s, w), path_text(p)),
        Url::Relative(p) => path_text(p),
        Url::Raw(r) => clean(r),
    }
}

fn offset(o: &Offset, size: u64) -> u64 {
    match o {
        Offset::Zero => 0,
        Offset::Chunk(k) => u64::from(*k % 8) * CHUNK,
        Offset::End => size,
        Offset::Past => size + 1,
        Offset::Raw(n) => *n,
    }
}

const WORDS: &[&str] = &[
    "notStarted",
    "inProgress",
    "completed",
    "failed",
    "cancelled",
    "waiting",
    "deleteFailed",
    "x",
    "",
];
const CODES: &[&str] = &[
    "itemNotFound",
    "operationNotFound",
    "accessDenied",
    "notSupported",
    "activityLimitReached",
    "generalException",
];

fn body_text(s: &Server, b: &Body, size: u64) -> Vec<u8> {
    use serde_json::json;
    let v = match b {
        Body::Empty => return Vec::new(),
        Body::Raw(r) => return r.clone(),
        Body::Item {
            id,
            size: sz,
            folder,
        } => {
            let mut v = json!({"id": id, "name": "f"});
            if let Some(o) = sz {
                v["size"] = json!(offset(o, size));
            }
            if *folder {
                v["folder"] = json!({"childCount": 0});
            }
            v
        }
        Body::Ranges(r) => {
            json!({"nextExpectedRanges": r.iter().map(|o| format!("{}-", offset(o, size))).collect::<Vec<_>>()})
        }
        Body::RangeText(r) => json!({"nextExpectedRanges": r}),
        Body::Session(u) => {
            json!({"uploadUrl": url_text(s, u), "expirationDateTime": "2030-01-01T00:00:00Z"})
        }
        Body::Job {
            status,
            percent,
            resource_id,
            location,
        } => {
            let mut v = json!({"status": WORDS[usize::from(*status) % WORDS.len()]});
            if let Some(p) = percent {
                v["percentageComplete"] = json!(p);
            }
            if let Some(r) = resource_id {
                v["resourceId"] = json!(r);
            }
            if let Some(l) = location {
                v["resourceLocation"] = json!(url_text(s, l));
            }
            v
        }
        Body::Error { code, inner } => {
            let mut e = json!({"code": CODES[usize::from(*code) % CODES.len()], "message": "m"});
            if let Some(i) = inner {
                e["innerError"] =
                    json!({"code": CODES[usize::from(*i) % CODES.len()], "request-id": "r"});
            }
            json!({ "error": e })
        }
    };
    v.to_string().into_bytes()
}

fn handle(s: &'static Server, conn: TcpStream) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let mut r = BufReader::new(&conn);
    let mut line = String::new();
    if r.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let method = line.split(' ').next().unwrap_or("").to_owned();
    let (mut len, mut host, mut auth) = (0u64, String::new(), false);
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 {
            return;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').unwrap_or((h, ""));
        match k.to_ascii_lowercase().as_str() {
            "content-length" => len = v.trim().parse().unwrap_or(0),
            "host" => host = v.trim().to_owned(),
            "authorization" => auth = v.contains(TOKEN),
            _ => {}
        }
    }
    let got = std::io::copy(&mut (&mut r).take(len), &mut std::io::sink()).unwrap_or(0);
    let answer = {
        let mut st = s.state.lock().unwrap();
        st.requests += 1;
        if method == "PUT" {
            st.put_bytes += got;
        }
        if auth && host != format!("127.0.0.1:{}", s.api) {
            st.leak = Some(format!("{method} to {host}"));
        }
        if st.script.is_empty() {
            None
        } else {
            let a = st.script[st.next % st.script.len()].clone();
            st.next += 1;
            Some((a, st.size))
        }
    };
    let Some((a, size)) = answer else { return };
    if a.drop {
        return; // the connection closes unanswered
    }
    let status = 200 + a.status % 400;
    let body = body_text(s, &a.body, size);
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(l) = &a.location {
        head += &format!("Location: {}\r\n", url_text(s, l));
    }
    if let Some(ra) = a.retry_after {
        let v = match ra % 4 {
            0 => "0".to_owned(),
            1 => "0.002".to_owned(),
            2 => "bogus".to_owned(),
            _ => u32::from(ra).to_string(),
        };
        head += &format!("Retry-After: {v}\r\n");
    }
    if a.json {
        head += "Content-Type: application/json\r\n";
    }
    head += "\r\n";
    let mut w = &conn;
    let _ = w.write_all(head.as_bytes());
    let _ = w.write_all(&body);
}

fn client(s: &Server, simple_limit: u64) -> Client {
    let mut cfg = ClientConfig::new(format!("http://127.0.0.1:{}/v1.0", s.api), TOKEN);
    cfg.connect_timeout = Duration::from_millis(200);
    cfg.request_timeout = Duration::from_millis(500);
    cfg.retry = RetryPolicy {
        max_attempts: 3,
        max_wait: Duration::from_millis(20),
        base_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(2),
    };
    cfg.upload = UploadSettings {
        simple_limit,
        chunk_size: CHUNK,
        ..UploadSettings::default()
    };
    Client::new(cfg).unwrap()
}

fuzz_target!(|input: Input| {
    let s = server();
    let mut script = input.script;
    script.truncate(48);
    let size = match &input.call {
        Call::Simple { size, .. } => u64::from(*size),
        Call::Session { chunks, extra } => u64::from(chunks % 3) * CHUNK + u64::from(*extra) + 1,
        Call::Wait => 0,
    };
    {
        let mut st = s.state.lock().unwrap();
        *st = State {
            script,
            size,
            ..State::default()
        };
    }
    let started = Instant::now();
    let target = UploadTarget::new("/", Some("f.bin")).unwrap();
    let result = match &input.call {
        Call::Simple { conflict, .. } => {
            let c = client(s, 1 << 20);
            let conflict = [
                Conflict::ServiceDefault,
                Conflict::Fail,
                Conflict::Replace,
                Conflict::Rename,
            ][usize::from(conflict % 4)];
            c.upload(
                &Drive::Me,
                &target,
                &vec![1u8; size as usize],
                conflict,
                &mut Control::none(),
            )
            .map(drop)
        }
        Call::Session { .. } => {
            let c = client(s, 0);
            c.upload(
                &Drive::Me,
                &target,
                &vec![2u8; size as usize],
                Conflict::Rename,
                &mut Control::none(),
            )
            .map(drop)
        }
        Call::Wait => {
            let c = client(s, 0);
            let job = Job::from_monitor_url(
                &format!("http://127.0.0.1:{}/monitor/1", s.other),
                Drive::Me,
            )
            .unwrap();
            let opts = WaitOptions {
                timeout: Some(Duration::from_millis(300)),
                min_interval: Duration::from_millis(1),
                max_interval: Duration::from_millis(3),
            };
            c.wait_job(&job, &opts, &mut Control::none()).map(drop)
        }
    };
    let elapsed = started.elapsed();
    let st = s.state.lock().unwrap();
    if let Err(e) = &result {
        assert!(!e.to_string().contains(TOKEN), "the token in an error: {e}");
    }
    assert!(
        st.leak.is_none(),
        "token sent off the API origin: {:?}",
        st.leak
    );
    assert!(st.requests <= 400, "{} requests: {result:?}", st.requests);
    assert!(
        elapsed < Duration::from_secs(20),
        "took {elapsed:?}: {result:?}"
    );
    if size > 0 {
        assert!(
            st.put_bytes <= 4 * size,
            "{} bytes sent for a {size}-byte file: {result:?}",
            st.put_bytes
        );
    }
});
