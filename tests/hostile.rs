//! Hostile services: a small scripted server (tests/common/scripted.rs)
//! that misbehaves on purpose. Every case must end, stay within memory, and
//! never show the token to another host. Bounds are generous (a loaded CI
//! machine): they assert that a call ends, not how fast.

#[path = "common/scripted.rs"]
mod scripted;

use std::io::Read;
use std::net::TcpListener;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use onedrive_native::{
    BytesSource, CHUNK_UNIT, CancelToken, Client, ClientConfig, Conflict, Control, Drive,
    ErrorKind, ItemRef, Job, ReaderSource, RetryPolicy, UploadSession, UploadSettings,
    UploadTarget, WaitOptions, quick_xor_hash,
};
use scripted::{Answer, Scripted, Seen};

const TOKEN: &str = "hostile-test-token";

fn config(api: &Scripted, stall: Duration) -> ClientConfig {
    ClientConfig {
        retry: RetryPolicy {
            base_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            ..RetryPolicy::default()
        },
        request_timeout: stall,
        connect_timeout: stall.min(Duration::from_secs(30)),
        ..ClientConfig::new(api.url("/v1.0"), TOKEN)
    }
}

fn client(api: &Scripted) -> Client {
    Client::new(config(api, Duration::from_secs(30))).unwrap()
}

/// A client that sends anything above one chunk through a session.
fn session_client(api: &Scripted) -> Client {
    let c = client(api);
    c.set_upload_settings(UploadSettings {
        simple_limit: CHUNK_UNIT,
        chunk_size: CHUNK_UNIT,
        ..UploadSettings::default()
    })
    .unwrap();
    c
}

fn json(status: u16, body: String) -> Answer {
    Answer::json(status, &body)
}

fn target() -> UploadTarget {
    UploadTarget::new("/", Some("f.bin")).unwrap()
}

/// Bytes of chunk PUTs the server received.
fn put_bytes(s: &Scripted) -> u64 {
    s.requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.body_len as u64)
        .sum()
}

/// `data` uploaded through a session (above one chunk) to `f.bin`.
fn session_upload(s: &Scripted, data: &[u8]) -> onedrive_native::Result<onedrive_native::Item> {
    session_client(s).upload(
        &Drive::Me,
        &target(),
        data,
        Conflict::Replace,
        &mut Control::none(),
    )
}

fn session_answer(s: &Seen, origin: &str) -> Option<Answer> {
    (s.method == "POST" && s.path.ends_with("/createUploadSession")).then(|| {
        json(
            200,
            format!(
                r#"{{"uploadUrl":"{origin}/up/1","expirationDateTime":"2099-01-01T00:00:00Z"}}"#
            ),
        )
    })
}

fn ranges(from: u64) -> String {
    format!(r#"{{"nextExpectedRanges":["{from}-"]}}"#)
}

/// Runs `handler` against a session upload and checks that it ends with
/// `OD_ERR_PROTOCOL` having sent at most four times the file.
fn gives_up(handler: impl Fn(&Seen, &str) -> Answer + Send + Sync + 'static) {
    let s = Scripted::start_at(move |r, origin| {
        session_answer(r, origin).unwrap_or_else(|| handler(r, origin))
    });
    let size = 3 * CHUNK_UNIT;
    let data = vec![7u8; size as usize];
    let e = session_upload(&s, &data).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol, "{e}");
    assert!(
        put_bytes(&s) <= 4 * size,
        "sent {} bytes of a {size}-byte file",
        put_bytes(&s)
    );
}

#[test]
fn a_session_that_never_advances_is_given_up() {
    gives_up(|r, _| match r.method.as_str() {
        "PUT" => json(202, ranges(0)),
        "GET" => json(200, ranges(0)),
        _ => Answer::Full(204, vec![], vec![]),
    });
}

#[test]
fn ping_pong_416s_are_given_up() {
    let flip = AtomicU64::new(0);
    gives_up(move |r, _| match r.method.as_str() {
        "PUT" => json(
            416,
            r#"{"error":{"code":"invalidRange","message":"have it"}}"#.into(),
        ),
        "GET" => json(
            200,
            ranges(CHUNK_UNIT * (flip.fetch_add(1, Ordering::SeqCst) % 2)),
        ),
        _ => Answer::Full(204, vec![], vec![]),
    });
}

/// A 416 to a chunk the service already has: the session's status names
/// where it stands, and the upload goes on from there.
#[test]
fn a_416_goes_on_from_where_the_service_stands() {
    let size = 2 * CHUNK_UNIT;
    // The service says it has nothing until it has refused the first chunk.
    let refused = std::sync::atomic::AtomicBool::new(false);
    let s = Scripted::start_at(move |r, origin| {
        session_answer(r, origin).unwrap_or_else(|| {
            let first = r
                .header("content-range")
                .is_some_and(|v| v.starts_with("bytes 0-"));
            match r.method.as_str() {
                "PUT" if first => {
                    refused.store(true, Ordering::SeqCst);
                    json(
                        416,
                        r#"{"error":{"code":"invalidRange","message":"have it"}}"#.into(),
                    )
                }
                "PUT" => json(
                    201,
                    format!(r#"{{"id":"F1","name":"f.bin","size":{size}}}"#),
                ),
                "GET" if refused.load(Ordering::SeqCst) => json(200, ranges(CHUNK_UNIT)),
                "GET" => json(200, ranges(0)),
                _ => Answer::Full(204, vec![], vec![]),
            }
        })
    });
    let data = vec![7u8; size as usize];
    let item = session_upload(&s, &data).unwrap();
    assert_eq!(item.id(), "F1");
    let puts: Vec<String> = s
        .requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.header("content-range").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(puts.len(), 2, "{puts:?}");
    assert!(
        puts[1].starts_with(&format!("bytes {CHUNK_UNIT}-")),
        "{puts:?}"
    );
}

#[test]
fn a_404_whose_status_names_an_offset_is_given_up() {
    gives_up(|r, _| match r.method.as_str() {
        "PUT" => json(
            404,
            r#"{"error":{"code":"itemNotFound","message":"gone"}}"#.into(),
        ),
        "GET" => json(200, ranges(0)),
        _ => Answer::Full(204, vec![], vec![]),
    });
}

/// Throttled on every chunk: the service takes nothing, so the bytes do
/// not count against the session's budget; the retry policy bounds the
/// sends (its attempts), and the call ends throttled with the Retry-After.
#[test]
fn a_session_throttled_on_every_chunk_ends_throttled_within_the_policy() {
    let s = Scripted::start_at(move |r, origin| {
        session_answer(r, origin).unwrap_or_else(|| match r.method.as_str() {
            "PUT" => json(
                503,
                r#"{"error":{"code":"serviceNotAvailable","message":"busy"}}"#.into(),
            )
            .with_header("Retry-After", "0"),
            "GET" => json(200, ranges(0)),
            _ => Answer::Full(204, vec![], vec![]),
        })
    });
    let size = CHUNK_UNIT + 1;
    let data = vec![5u8; size as usize];
    let c = session_client(&s);
    let e = c
        .upload(
            &Drive::Me,
            &target(),
            &data,
            Conflict::Replace,
            &mut Control::none(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled, "{e}");
    assert_eq!(e.retry_after, Some(Duration::ZERO), "{e}");
    let puts = s.requests().iter().filter(|r| r.method == "PUT").count();
    assert_eq!(
        puts as u32,
        c.retry_policy().max_attempts,
        "one PUT per attempt"
    );
}

/// The session is lost on the last chunk while an older file of another
/// size holds the name: the upload starts over and ends with the right
/// hashes (it used to end with a false OD_ERR_HASH_MISMATCH).
#[test]
fn a_session_lost_on_the_last_chunk_starts_over_cleanly() {
    let size = 2 * CHUNK_UNIT;
    let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    let qxh = quick_xor_hash(&data);
    let sessions = AtomicU64::new(0);
    let lost = std::sync::atomic::AtomicBool::new(false);
    let s = Scripted::start_at(move |r, origin| {
        let last = r
            .header("content-range")
            .is_some_and(|c| c.starts_with(&format!("bytes {CHUNK_UNIT}-")));
        match (r.method.as_str(), r.path.as_str()) {
            ("POST", _) => {
                let n = sessions.fetch_add(1, Ordering::SeqCst) + 1;
                json(200, format!(r#"{{"uploadUrl":"{origin}/up/{n}"}}"#))
            }
            ("PUT", "/up/1") if last => {
                lost.store(true, Ordering::SeqCst);
                json(404, r#"{"error":{"code":"itemNotFound","message":"lost"}}"#.into())
            }
            ("PUT", _) if last => json(
                201,
                format!(r#"{{"id":"NEW","name":"f.bin","size":{size},"file":{{"hashes":{{"quickXorHash":"{qxh}"}}}}}}"#),
            ),
            ("PUT", _) => json(202, ranges(CHUNK_UNIT)),
            ("GET", "/up/1") if lost.load(Ordering::SeqCst) => {
                json(404, r#"{"error":{"code":"itemNotFound","message":"lost"}}"#.into())
            }
            ("GET", p) if p.starts_with("/up/") => json(200, ranges(0)),
            ("GET", p) if p.contains("root:") => json(
                200,
                r#"{"id":"OLD","name":"f.bin","size":5,"file":{"hashes":{"quickXorHash":"AAAAAAAAAAAAAAAAAAAAAAAAAAA="}}}"#.into(),
            ),
            _ => Answer::Full(204, vec![], vec![]),
        }
    });
    let item = session_upload(&s, &data).unwrap();
    assert_eq!(item.id(), "NEW");
}

#[test]
fn the_first_progress_report_never_exceeds_the_total() {
    let s = Scripted::start(|r| match r.method.as_str() {
        "GET" => json(200, ranges(999_999_999)),
        _ => Answer::Full(204, vec![], vec![]),
    });
    let size = 2 * CHUNK_UNIT;
    let mut session = UploadSession {
        upload_url: s.url("/up/1"),
        size,
        drive: Drive::Me,
        target: target(),
        conflict: Conflict::Replace,
        expiration: None,
    };
    let data = vec![1u8; size as usize];
    let mut worst = 0u64;
    let mut seen = |done: u64, total: u64| {
        worst = worst.max(done.saturating_sub(total));
        true
    };
    let mut ctl = Control::new(None, Some(&mut seen));
    let e = session_client(&s)
        .continue_upload_session(&mut session, &mut BytesSource::new(&data), &mut ctl)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol, "{e}");
    assert_eq!(worst, 0, "a report went past the total");
}

/// A gateway's HTML page with a 202, then a 5xx without a Graph error:
/// both mean "look again", not the end of the job.
#[test]
fn monitor_answers_that_are_not_json_do_not_end_the_wait() {
    let looks = AtomicU64::new(0);
    let s = Scripted::start(move |r| {
        if r.path.contains("/items/NEW") {
            return json(200, r#"{"id":"NEW","name":"copy.txt","size":1}"#.into());
        }
        match looks.fetch_add(1, Ordering::SeqCst) {
            0 => Answer::Full(
                202,
                vec![("Content-Type".into(), "text/html".into())],
                b"<html>busy</html>".to_vec(),
            ),
            1..=2 => Answer::Full(502, vec![], b"Bad Gateway".to_vec()),
            _ => json(200, r#"{"status":"completed","resourceId":"NEW"}"#.into()),
        }
    });
    let job = Job::from_monitor_url(&s.url("/monitor/1"), Drive::Me).unwrap();
    let opts = WaitOptions {
        timeout: Some(Duration::from_secs(60)),
        min_interval: Duration::from_millis(1),
        max_interval: Duration::from_millis(20),
    };
    let status = client(&s)
        .wait_job(&job, &opts, &mut Control::none())
        .unwrap();
    assert_eq!(status.item.unwrap().id(), "NEW");
}

#[test]
fn a_202_storm_ends_at_the_wait_deadline() {
    let s = Scripted::start(|_| json(202, r#"{"status":"inProgress"}"#.into()));
    let job = Job::from_monitor_url(&s.url("/monitor/1"), Drive::Me).unwrap();
    let opts = WaitOptions {
        timeout: Some(Duration::from_secs(1)),
        ..WaitOptions::default()
    };
    let e = client(&s)
        .wait_job(&job, &opts, &mut Control::none())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    assert!(
        s.requests().len() < 200,
        "{} looks in a second",
        s.requests().len()
    );
}

/// The monitor names the finished item by a location on the API origin
/// that is not an item, or by an id that is a dot segment: neither is read
/// with the token.
#[test]
fn a_monitor_cannot_point_the_token_at_anything_but_an_item() {
    let api = Scripted::start(|_| json(200, r#"{"id":"SECRET","name":"secret"}"#.into()));
    let api_origin = api.origin.clone();
    let monitor = Scripted::start(move |r| {
        if r.path.ends_with("/a") {
            Answer::Full(
                303,
                vec![(
                    "Location".into(),
                    format!("{api_origin}/v1.0/me/drive/root:/secret.txt:"),
                )],
                vec![],
            )
        } else {
            json(200, r#"{"status":"completed","resourceId":".."}"#.into())
        }
    });
    let c = client(&api);
    for path in ["/monitor/a", "/monitor/b"] {
        let job = Job::from_monitor_url(&monitor.url(path), Drive::Me).unwrap();
        let e = c.poll_job(&job, &mut Control::none()).unwrap_err();
        assert!(
            matches!(e.kind, ErrorKind::Protocol | ErrorKind::InvalidArgument),
            "{e}"
        );
    }
    assert!(
        api.requests().is_empty(),
        "the API was asked: {:?}",
        api.requests()
    );
    assert!(
        monitor
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none())
    );
}

#[test]
fn redirects_are_not_followed_and_the_token_stays_home() {
    let other = Scripted::start(|_| json(200, r#"{"id":"X"}"#.into()));
    let elsewhere = other.url("/steal");
    let api = Scripted::start(move |r| {
        let to = if r.path.contains("loop") {
            r.path.clone()
        } else {
            elsewhere.clone()
        };
        Answer::Full(302, vec![("Location".into(), to)], vec![])
    });
    let c = client(&api);
    for it in ["/elsewhere.txt", "/loop.txt"] {
        let e = c
            .item(
                &Drive::Me,
                &ItemRef::parse(it).unwrap(),
                &mut Control::none(),
            )
            .unwrap_err();
        assert_eq!(e.http_status, Some(302), "{e}");
    }
    assert_eq!(api.requests().len(), 2);
    assert!(other.requests().is_empty());
}

#[test]
fn a_trickling_answer_ends_by_its_deadline() {
    let s = Scripted::start(|_| Answer::Trickle(200, 10_000, Duration::from_millis(200)));
    let c = Client::new(config(&s, Duration::from_secs(1))).unwrap();
    let started = Instant::now();
    let e = c
        .item(
            &Drive::Me,
            &ItemRef::parse("/x").unwrap(),
            &mut Control::none(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

/// Raises `cancel` once the server has begun its answer.
fn cancel_when(
    rx: std::sync::mpsc::Receiver<()>,
    cancel: CancelToken,
) -> std::thread::JoinHandle<Instant> {
    std::thread::spawn(move || {
        rx.recv().unwrap();
        cancel.cancel();
        Instant::now()
    })
}

/// Reads an item from a server that answers with `answer`, raising the
/// cancel flag once the server has the request: the call must end soon
/// after (the stall timeout is far longer).
fn stops_at_cancel(answer: fn() -> Answer) {
    let (tx, rx) = channel();
    let s = Scripted::start(move |_| {
        let _ = tx.send(());
        answer()
    });
    let cancel = CancelToken::new();
    let at = cancel_when(rx, cancel.clone());
    let mut ctl = Control::new(Some(&cancel), None);
    let c = Client::new(config(&s, Duration::from_secs(300))).unwrap();
    let e = c
        .item(&Drive::Me, &ItemRef::parse("/x").unwrap(), &mut ctl)
        .unwrap_err();
    let cancelled_at = at.join().unwrap();
    assert_eq!(e.kind, ErrorKind::Cancelled, "{e}");
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(10),
        "{:?} after the cancel",
        cancelled_at.elapsed()
    );
}

#[test]
fn a_trickling_answer_stops_at_cancel() {
    stops_at_cancel(|| Answer::Trickle(200, 10_000, Duration::from_millis(200)));
}

/// A server that takes the request and never answers: the cancel is seen
/// while the call waits for the answer.
#[test]
fn a_silent_server_stops_at_cancel() {
    stops_at_cancel(|| Answer::Silence);
}

/// A cancelled upload takes its session off the service with one short
/// DELETE, not the whole retry policy.
#[test]
fn cleanup_after_a_cancel_is_one_short_attempt() {
    let (tx, rx) = channel();
    let s = Scripted::start_at(move |r, origin| {
        if let Some(a) = session_answer(r, origin) {
            return a;
        }
        match r.method.as_str() {
            "PUT" => {
                let _ = tx.send(());
                json(202, ranges(CHUNK_UNIT))
            }
            "GET" => json(200, ranges(0)),
            // busy: come back in 5 s (a retry policy would wait and repeat)
            _ => json(
                503,
                r#"{"error":{"code":"serviceNotAvailable","message":"busy"}}"#.into(),
            )
            .with_header("Retry-After", "5"),
        }
    });
    let cancel = CancelToken::new();
    let at = cancel_when(rx, cancel.clone());
    let data = vec![1u8; 3 * CHUNK_UNIT as usize];
    let mut ctl = Control::new(Some(&cancel), None);
    let e = session_client(&s)
        .upload(&Drive::Me, &target(), &data, Conflict::Replace, &mut ctl)
        .unwrap_err();
    let cancelled_at = at.join().unwrap();
    assert_eq!(e.kind, ErrorKind::Cancelled, "{e}");
    // One DELETE is what shows the retry policy was not applied (it would
    // wait the 5 s Retry-After and send another); the time is a hang guard
    // only, loose enough for a loaded machine.
    let deletes = s.requests().iter().filter(|r| r.method == "DELETE").count();
    assert_eq!(deletes, 1);
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(30),
        "{:?} after the cancel",
        cancelled_at.elapsed()
    );
}

/// A TLS failure (here: a server that does not speak TLS) is not a network
/// blip: one connection, no retry.
#[test]
fn tls_failures_are_not_retried() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicU64::new(0));
    let a = accepted.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            a.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 512];
            let _ = conn.read(&mut buf);
            let _ = std::io::Write::write_all(
                &mut conn,
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
            );
        }
    });
    let c = Client::new(ClientConfig::new(
        format!("https://127.0.0.1:{port}/v1.0"),
        TOKEN,
    ))
    .unwrap();
    let e = c
        .item(
            &Drive::Me,
            &ItemRef::parse("/x").unwrap(),
            &mut Control::none(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Tls, "{e}");
    assert!(e.message.contains("TLS"), "{e}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "retried: {e}");
}

#[test]
fn messages_hold_no_capability_url() {
    let e = Job::from_monitor_url("ftp://h/monitor?tempauth=SECRET", Drive::Me).unwrap_err();
    assert!(!e.message.contains("SECRET"), "{e}");
    let job = Job::from_monitor_url(
        "http://127.0.0.1:1/monitor/SECRET?tempauth=SECRET",
        Drive::Me,
    )
    .unwrap();
    let s = Scripted::start(|_| json(200, "{}".into()));
    let e = client(&s).poll_job(&job, &mut Control::none()).unwrap_err();
    assert!(!e.message.contains("SECRET"), "{e}");
    assert!(!format!("{e:?}").contains("SECRET"), "{e:?}");
}

/// A broken gateway that echoes the bearer token in its error answers
/// (body and request-id): no error, message or Debug output shows it.
#[test]
fn an_echoed_token_never_reaches_an_error() {
    let s = Scripted::start(|r| {
        let auth = r.header("authorization").unwrap_or_default().to_owned();
        let body = if r.method == "GET" {
            format!(r#"{{"error":{{"code":"x{auth}","message":"you sent {auth}, {auth}"}}}}"#)
        } else {
            format!("nope: {auth}")
        };
        Answer::json(if r.method == "GET" { 400 } else { 418 }, &body)
            .with_header("request-id", &auth)
    });
    let c = client(&s);
    let mut errors = vec![
        c.item(
            &Drive::Me,
            &ItemRef::parse("/a").unwrap(),
            &mut Control::none(),
        )
        .unwrap_err(),
    ];
    errors.push(
        c.upload(
            &Drive::Me,
            &target(),
            b"x",
            Conflict::Fail,
            &mut Control::none(),
        )
        .unwrap_err(),
    );
    for e in &errors {
        let all = format!("{e} {e:?} {:?} {:?}", e.code, e.request_id);
        assert!(!all.contains(TOKEN), "{all}");
        assert!(all.contains("[token]"), "{all}");
    }
    assert_eq!(errors[1].http_status, Some(418));
    assert!(
        errors[1].message.contains("nope: Bearer [token]"),
        "{}",
        errors[1]
    );
}

/// An answer whose head is long (the service's own run to a few KiB of
/// headers; a gateway may add more): read whole, the item parsed.
#[test]
fn an_answer_with_a_long_head_is_read() {
    let s = Scripted::start(|_| {
        let mut a = Answer::json(200, r#"{"id":"F1","name":"a","size":1}"#);
        for i in 0..60 {
            a = a.with_header(&format!("x-padding-{i}"), &"v".repeat(200));
        }
        a
    });
    let it = client(&s)
        .item(
            &Drive::Me,
            &ItemRef::parse("/a").unwrap(),
            &mut Control::none(),
        )
        .unwrap();
    assert_eq!(it.id(), "F1");
}

// --- memory, measured in a child process (the peak is process-wide) ------

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Runs the ignored test `name` alone in a child process, with `env`.
fn in_child(name: &str, env: &[(&str, &str)]) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .envs(env.iter().copied())
        .env("HOSTILE_CHILD", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "{name}:\n{text}"
    );
}

fn child() -> bool {
    std::env::var_os("HOSTILE_CHILD").is_some()
}

#[test]
fn huge_and_deeply_repetitive_answers_stay_within_memory() {
    in_child("child_huge_answers", &[]);
}

#[test]
#[ignore = "run by huge_and_deeply_repetitive_answers_stay_within_memory"]
fn child_huge_answers() {
    assert!(child());
    // 20 MB of [0,0,…]: as a JSON tree, hundreds of MB
    let mut array = Vec::with_capacity(20_000_002);
    array.push(b'[');
    for _ in 0..10_000_000 {
        array.extend_from_slice(b"0,");
    }
    array.pop();
    array.push(b']');
    let array = Arc::new(array);
    let a = array.clone();
    let s = Scripted::start(move |r| {
        if r.path.contains("huge") {
            Answer::Huge(200, 400 * 1000 * 1000)
        } else {
            Answer::Full(200, vec![], a.to_vec())
        }
    });
    let c = client(&s);
    let before = peak_rss_kib();
    for it in ["/huge", "/array"] {
        let e = c
            .item(
                &Drive::Me,
                &ItemRef::parse(it).unwrap(),
                &mut Control::none(),
            )
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol, "{it}: {e}");
    }
    let grew = peak_rss_kib().saturating_sub(before);
    // the handler's copy of the array is 20 MB; the client may add 16 MiB
    assert!(grew < 20_000 + 16 * 1024, "peak RSS grew by {grew} KiB");
}

#[test]
fn a_simple_upload_is_streamed_not_buffered() {
    in_child("child_simple_upload_streams", &[]);
}

#[test]
#[ignore = "run by a_simple_upload_is_streamed_not_buffered"]
fn child_simple_upload_streams() {
    assert!(child());
    let s = Scripted::start(|r| json(201, format!(r#"{{"id":"S","size":{}}}"#, r.body_len)));
    let c = client(&s);
    c.set_upload_settings(UploadSettings {
        simple_limit: 200 * 1000 * 1000,
        ..UploadSettings::default()
    })
    .unwrap();
    let size = 96 * 1024 * 1024u64;
    let before = peak_rss_kib();
    let mut source = ReaderSource::new(std::io::repeat(3).take(size), size);
    let it = c
        .upload_from(
            &Drive::Me,
            &target(),
            &mut source,
            Conflict::Replace,
            &mut Control::none(),
        )
        .unwrap();
    assert_eq!(it.size(), Some(size));
    let grew = peak_rss_kib().saturating_sub(before);
    assert!(
        grew < 32 * 1024,
        "a {size}-byte simple upload grew the peak RSS by {grew} KiB"
    );
}

/// Proxies from the environment never carry loopback traffic.
#[test]
fn environment_proxies_are_not_used_for_loopback() {
    let proxy = Scripted::start(|_| Answer::Full(502, vec![], vec![]));
    let p = proxy.url("");
    in_child(
        "child_no_proxy_for_loopback",
        &[
            ("HTTP_PROXY", &p),
            ("http_proxy", &p),
            ("ALL_PROXY", &p),
            ("HTTPS_PROXY", &p),
        ],
    );
    assert!(
        proxy.requests().is_empty(),
        "the proxy saw {:?}",
        proxy.requests()
    );
}

#[test]
#[ignore = "run by environment_proxies_are_not_used_for_loopback"]
fn child_no_proxy_for_loopback() {
    assert!(child());
    let s = Scripted::start(|_| json(200, r#"{"id":"X"}"#.into()));
    let it = client(&s)
        .item(
            &Drive::Me,
            &ItemRef::parse("/x").unwrap(),
            &mut Control::none(),
        )
        .unwrap();
    assert_eq!(it.id(), "X");
    assert_eq!(
        s.requests()[0].header("authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
}

/// A simple upload is checked against the item the service answers with,
/// as a session's is: a size or quickXorHash that is not the file's is
/// `HashMismatch`, a right one passes.
#[test]
fn a_simple_upload_is_checked_against_the_item_returned() {
    let data = vec![3u8; 1000];
    let good = quick_xor_hash(&data);
    for (size, hash, ok) in [
        (1, good.as_str(), false),
        (1000, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", false),
        (1000, good.as_str(), true),
    ] {
        let body = format!(
            r#"{{"id":"X","name":"f.bin","size":{size},"file":{{"hashes":{{"quickXorHash":"{hash}"}}}}}}"#
        );
        let s = Scripted::start(move |_| json(201, body.clone()));
        let r = client(&s).upload(
            &Drive::Me,
            &target(),
            &data,
            Conflict::Replace,
            &mut Control::none(),
        );
        match r {
            Ok(it) => assert!(ok, "size {size}, hash {hash}: accepted {it:?}"),
            Err(e) => {
                assert!(!ok, "size {size}, hash {hash}: {e}");
                assert_eq!(e.kind, ErrorKind::HashMismatch, "{e}");
            }
        }
    }
}

/// A source slower than the request's deadline allows (the stall timeouts
/// plus a second per 16 KiB): the upload ends with Timeout once past it,
/// not when the source is done. (The service here would take it all.)
#[test]
fn a_body_slower_than_its_deadline_ends_at_the_deadline() {
    const SIZE: usize = 16 * 1024;
    let data = vec![7u8; SIZE];
    let qxh = quick_xor_hash(&data);
    let s = Scripted::start(move |_| {
        json(
            201,
            format!(
                r#"{{"id":"NEW","name":"f.bin","size":{SIZE},"file":{{"hashes":{{"quickXorHash":"{qxh}"}}}}}}"#
            ),
        )
    });
    // A deadline of about 1 + 2 × 1 + 1 s = 4 s; the source gives 1 KiB
    // per half second, 8 s for all (each read well inside the 1 s stall
    // timeout).
    let c = Client::new(ClientConfig {
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
        ..config(&s, Duration::from_secs(1))
    })
    .unwrap();
    struct Slow<'a>(&'a [u8], &'a std::cell::Cell<usize>);
    impl Read for Slow<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            std::thread::sleep(Duration::from_millis(500));
            let n = buf.len().min(1024).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            self.1.set(self.0.len());
            Ok(n)
        }
    }
    let left = std::cell::Cell::new(SIZE);
    let mut source = ReaderSource::new(Slow(&data, &left), SIZE as u64);
    let e = c
        .upload_from(
            &Drive::Me,
            &target(),
            &mut source,
            Conflict::Replace,
            &mut Control::none(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    // Stopped while sending (not when the answer came late), with the
    // source's end not reached.
    assert!(e.message.contains("sending to"), "{e}");
    assert!(left.get() > 0, "the whole source was read");
}
