//! Benchmark of the standalone emulator (release build), over plain HTTP from raw
//! keep-alive connections (a cheap client: bodies sent from one preallocated buffer).
//!
//! `cargo run --release -p onedrive-emulator --example bench -- [--emulator PATH] [--session-mib N]`
//!
//! PATH defaults to `onedrive-emulator` next to this example's directory (target/release);
//! it is started with `--plain-http --port 0 --monitor-port 0` (`cargo build --release -p
//! onedrive-emulator` first). N (default 1024) is the size of the single session.
//!
//! Prints one JSON object per line, `"bench"` naming which:
//! - `{"bench":"small_puts","clients":C,"requests":N,"size":4096,"seconds":S,"rps":R}`:
//!   N simple uploads of `size` bytes (`PUT /v1.0/me/drive/root:/bench/e/f{i}.bin:/content`)
//!   spread over C concurrent clients (C = 1, 8, 32), each its own connection and thread.
//! - `{"bench":"session","mib":M,"chunk_mib":10,"seconds":S,"gib_per_s":G,
//!   "cpu_s_per_gib":U,"rss_before_mib":B,"peak_rss_mib":P}`: one upload session of M MiB
//!   in 10 MiB fragments; U is the emulator process's user+system CPU seconds per GiB
//!   (/proc/PID/stat), B its resident memory before (VmRSS), P its peak (VmHWM) after.
//! - `{"bench":"sessions_parallel","sessions":4,"mib_each":256,"seconds":S,"gib_per_s":G}`:
//!   four concurrent sessions, aggregate rate.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

const MIB: usize = 1024 * 1024;
const CHUNK: usize = 10 * MIB;

struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    host: String,
}

impl Conn {
    fn open(origin: &str) -> Conn {
        let host = origin.trim_start_matches("http://").to_string();
        let s = TcpStream::connect(&host).expect("connect");
        s.set_nodelay(true).expect("nodelay");
        Conn {
            writer: s.try_clone().expect("clone"),
            reader: BufReader::new(s),
            host,
        }
    }

    /// One request; returns the status and body. Responses carry Content-Length.
    fn send(&mut self, method: &str, target: &str, headers: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\n{headers}Content-Length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        self.writer.write_all(head.as_bytes()).expect("write");
        self.writer.write_all(body).expect("write");
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read");
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            assert!(self.reader.read_line(&mut h).expect("read") > 0, "EOF");
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body).expect("read body");
        (status, body)
    }
}

struct Emu {
    child: Child,
    api: String,
    monitor: String,
    auth: String,
}

impl Emu {
    fn start(path: &PathBuf) -> Emu {
        let mut child = Command::new(path)
            .args(["--plain-http", "--port", "0", "--monitor-port", "0"])
            .arg("--session-bytes-limit")
            .arg((8u64 << 30).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let out = BufReader::new(child.stdout.take().expect("stdout"));
        let (mut api, mut monitor, mut token) = (String::new(), String::new(), String::new());
        for line in out.lines() {
            let line = line.expect("stdout");
            if let Some(v) = line.strip_prefix("base_url=") {
                api = v.trim_end_matches("/v1.0").to_string();
            } else if let Some(v) = line.strip_prefix("monitor_origin=") {
                monitor = v.to_string();
            } else if let Some(v) = line.strip_prefix("token=") {
                token = v.to_string();
            } else if line.starts_with("default_drive_id=") {
                break;
            }
        }
        Emu {
            child,
            api,
            monitor,
            auth: format!("Authorization: Bearer {token}\r\n"),
        }
    }

    fn proc_file(&self, name: &str) -> String {
        std::fs::read_to_string(format!("/proc/{}/{name}", self.child.id())).unwrap_or_default()
    }

    /// user + system CPU seconds so far.
    fn cpu_s(&self) -> f64 {
        let stat = self.proc_file("stat");
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
            + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
        ticks as f64 / 100.0 // USER_HZ
    }

    /// A /proc/PID/status field in MiB (VmRSS, VmHWM).
    fn mem_mib(&self, field: &str) -> f64 {
        self.proc_file("status")
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    }

    /// One session of `total` bytes from `buf` (cycled), in CHUNK fragments.
    fn session(&self, name: &str, total: usize, buf: &[u8]) {
        let mut c = Conn::open(&self.api);
        let (status, body) = c.send(
            "POST",
            &format!("/v1.0/me/drive/root:/bench/s/{name}:/createUploadSession"),
            &self.auth,
            b"{}",
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let url = v["uploadUrl"].as_str().expect("uploadUrl");
        let target = url
            .strip_prefix(&self.monitor)
            .expect("on the monitor origin");
        let mut m = Conn::open(&self.monitor);
        let mut a = 0;
        while a < total {
            let n = CHUNK.min(total - a);
            let range = format!("Content-Range: bytes {a}-{}/{total}\r\n", a + n - 1);
            let (status, body) = m.send("PUT", target, &range, &buf[..n]);
            let want = if a + n == total { 201 } else { 202 };
            assert_eq!(status, want, "{}", String::from_utf8_lossy(&body));
            a += n;
        }
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// `print`: false for the warm-up.
fn small_puts(emu: &Emu, clients: usize, total: usize, size: usize, print: bool) {
    let body = vec![b'x'; size];
    let per = total / clients;
    let t = Instant::now();
    std::thread::scope(|s| {
        for k in 0..clients {
            let body = &body;
            s.spawn(move || {
                let mut c = Conn::open(&emu.api);
                for i in 0..per {
                    let target =
                        format!("/v1.0/me/drive/root:/bench/e/f{}.bin:/content", k * per + i);
                    let (status, _) = c.send("PUT", &target, &emu.auth, body);
                    assert!(status == 201 || status == 200, "PUT: {status}");
                }
            });
        }
    });
    let secs = t.elapsed().as_secs_f64();
    let n = per * clients;
    if !print {
        return;
    }
    println!(
        "{}",
        serde_json::json!({"bench": "small_puts", "clients": clients, "requests": n, "size": size,
            "seconds": secs, "rps": n as f64 / secs})
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut mib = 1024usize;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--emulator" => path = args.next().map(PathBuf::from),
            "--session-mib" => {
                mib = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--session-mib N")
            }
            other => panic!("unknown argument {other}"),
        }
    }
    let path = path.unwrap_or_else(|| {
        let exe = std::env::current_exe().expect("current_exe");
        // target/release/examples/bench -> target/release/onedrive-emulator
        exe.parent()
            .and_then(|p| p.parent())
            .expect("target dir")
            .join("onedrive-emulator")
    });
    let emu = Emu::start(&path);
    // warm-up
    small_puts(&emu, 1, 200, 4096, false);
    for clients in [1, 8, 32] {
        small_puts(&emu, clients, 4000, 4096, true);
    }
    drop(emu);

    let buf: Vec<u8> = (0..CHUNK).map(|i| (i * 131 + i / 4099) as u8).collect();
    let emu = Emu::start(&path);
    let rss_before = emu.mem_mib("VmRSS");
    let cpu0 = emu.cpu_s();
    let t = Instant::now();
    emu.session("one.bin", mib * MIB, &buf);
    let secs = t.elapsed().as_secs_f64();
    let cpu = emu.cpu_s() - cpu0;
    let gib = mib as f64 / 1024.0;
    println!(
        "{}",
        serde_json::json!({"bench": "session", "mib": mib, "chunk_mib": CHUNK / MIB, "seconds": secs,
            "gib_per_s": gib / secs, "cpu_s_per_gib": cpu / gib,
            "rss_before_mib": rss_before, "peak_rss_mib": emu.mem_mib("VmHWM")})
    );
    drop(emu);

    let emu = Emu::start(&path);
    let each = 256usize;
    let t = Instant::now();
    std::thread::scope(|s| {
        for k in 0..4 {
            let (emu, buf) = (&emu, &buf);
            s.spawn(move || emu.session(&format!("p{k}.bin"), each * MIB, buf));
        }
    });
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"bench": "sessions_parallel", "sessions": 4, "mib_each": each,
            "seconds": secs, "gib_per_s": 4.0 * each as f64 / 1024.0 / secs})
    );
}
