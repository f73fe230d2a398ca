//! Benchmark: emulator start-up time and small-PUT throughput.
//!
//! `cargo run --release -p onedrive-emulator --example bench [-- PUTS SIZE]`

use onedrive_emulator::{Config, Emulator, Tls};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// This client speaks plain HTTP over TcpStream.
fn plain() -> Config {
    Config {
        tls: Tls::Plain, // the HTTP server's own cost, without TLS
        ..Config::default()
    }
}

struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    host: String,
}

impl Conn {
    fn open(origin: &str) -> std::io::Result<Conn> {
        let host = origin.trim_start_matches("http://").to_string();
        let s = TcpStream::connect(&host)?;
        s.set_nodelay(true)?;
        Ok(Conn {
            writer: s.try_clone()?,
            reader: BufReader::new(s),
            host,
        })
    }

    /// One request; returns the status. Responses must carry Content-Length (the emulator's do).
    fn send(
        &mut self,
        method: &str,
        target: &str,
        token: &str,
        body: &[u8],
    ) -> std::io::Result<u16> {
        let head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        self.writer.write_all(head.as_bytes())?;
        self.writer.write_all(body)?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            if self.reader.read_line(&mut h)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
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
        self.reader.read_exact(&mut body)?;
        Ok(status)
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn startup(runs: usize) -> (Duration, Duration, Duration) {
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let emu = Emulator::start(plain()).expect("start");
        let mut c = Conn::open(&emu.api_origin()).expect("connect");
        let status = c
            .send("GET", "/v1.0/me/drive", &emu.token(), b"")
            .expect("request");
        assert_eq!(status, 200);
        times.push(t.elapsed());
        drop(c);
        drop(emu);
    }
    let min = *times.iter().min().unwrap();
    let max = *times.iter().max().unwrap();
    (min, median(times), max)
}

fn puts(emu: &Emulator, n: usize, size: usize, folder: &str) -> Duration {
    let body = vec![b'x'; size];
    let mut c = Conn::open(&emu.api_origin()).expect("connect");
    let token = emu.token();
    let t = Instant::now();
    for i in 0..n {
        let target = format!("/v1.0/me/drive/root:/{folder}/f{i}.bin:/content");
        let status = c.send("PUT", &target, &token, &body).expect("PUT");
        assert_eq!(status, 201, "PUT {i}");
    }
    t.elapsed()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let size: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(4096);

    let (min, med, max) = startup(20);
    println!(
        "start-up (Emulator::start until the first 200), 20 runs: min {:.2} ms, median {:.2} ms, max {:.2} ms",
        min.as_secs_f64() * 1e3,
        med.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );

    let emu = Emulator::start(plain()).expect("start");
    puts(&emu, 100, size, "warmup");
    let el = puts(&emu, n, size, "bench");
    let rps = n as f64 / el.as_secs_f64();
    println!(
        "small PUTs, memory: {n} x {size} B over one keep-alive connection in {:.3} s: {:.0} req/s, {:.2} MiB/s, {:.1} us/req",
        el.as_secs_f64(),
        rps,
        rps * size as f64 / (1024.0 * 1024.0),
        el.as_secs_f64() * 1e6 / n as f64
    );
    drop(emu);

    let dir = std::env::temp_dir().join(format!("onedrive-emulator-bench-{}", std::process::id()));
    let emu = Emulator::start(Config {
        data_dir: Some(dir.clone()),
        ..plain()
    })
    .expect("start");
    let m = (n / 4).max(1);
    let el = puts(&emu, m, size, "bench");
    let rps = m as f64 / el.as_secs_f64();
    println!(
        "small PUTs, --data-dir: {m} x {size} B in {:.3} s: {:.0} req/s, {:.1} us/req",
        el.as_secs_f64(),
        rps,
        el.as_secs_f64() * 1e6 / m as f64
    );
    drop(emu);
    let _ = std::fs::remove_dir_all(dir);
}
