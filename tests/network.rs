//! The network people actually have: a real proxy (tinyproxy, microsocks)
//! started on loopback by the test, a capped upload rate, and a log that
//! never shows a secret.

mod common;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use onedrive_emulator::{Emulator, Profile};
use onedrive_native::{Client, Conflict, ErrorKind, LogLevel, UploadSettings};

/// A proxy process on a loopback port, killed on drop.
struct ProxyProcess {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
    _dir: TempDir,
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ProxyProcess {
    /// Waits until the proxy accepts connections.
    fn ready(self) -> ProxyProcess {
        assert!(
            eventually(Duration::from_secs(20), || TcpStream::connect((
                "127.0.0.1",
                self.port
            ))
            .is_ok()),
            "the proxy did not start"
        );
        self
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("od-net-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn port_of(origin: &str) -> u16 {
    origin
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

/// tinyproxy allowing CONNECT to the emulator's two ports, with Basic
/// authentication `user:pa55`.
fn tinyproxy(emu: &Emulator) -> ProxyProcess {
    let dir = temp_dir("tinyproxy");
    let port = free_port();
    let log = dir.0.join("tinyproxy.log");
    let conf = dir.0.join("tinyproxy.conf");
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 60\nAllow 127.0.0.1\nMaxClients 64\n\
             ConnectPort {}\nConnectPort {}\nBasicAuth user pa55\nLogLevel Connect\nLogFile \"{}\"\n",
            port_of(&emu.api_origin()),
            port_of(&emu.monitor_origin()),
            log.display()
        ),
    )
    .unwrap();
    let child = Command::new("tinyproxy")
        .arg("-d")
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tinyproxy runs (make deps installs it)");
    ProxyProcess {
        child,
        port,
        log,
        _dir: dir,
    }
    .ready()
}

/// microsocks (SOCKS5) with user `user`, password `pa55`.
fn microsocks() -> ProxyProcess {
    let dir = temp_dir("microsocks");
    let port = free_port();
    let log = dir.0.join("microsocks.log");
    let child = Command::new("microsocks")
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-u",
            "user",
            "-P",
            "pa55",
        ])
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("microsocks runs (make deps installs it)");
    ProxyProcess {
        child,
        port,
        log,
        _dir: dir,
    }
    .ready()
}

/// A client whose simple uploads stop at 1 MiB, so a 2 MiB file takes an
/// upload session on the upload host.
fn small_simple_limit(c: &Client) {
    c.set_upload_settings(UploadSettings {
        simple_limit: 1 << 20,
        chunk_size: 640 * 1024,
        ..c.upload_settings()
    })
    .unwrap();
}

/// Every operation through `c`: a simple upload, a session upload, a copy
/// waited for, a folder, a delete.
fn every_operation(emu: &Emulator, c: &Client) {
    small_simple_limit(c);
    let small = put(c, "/", "through-proxy.txt", b"hello proxy");
    assert_eq!(small.size(), Some(11));
    let big: Vec<u8> = (0..2 << 20).map(|i| (i % 251) as u8).collect();
    let session_item = put(c, "/", "session-through-proxy.bin", &big);
    assert_eq!(session_item.size(), Some(big.len() as u64));
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/session-through-proxy.bin")
            .unwrap(),
        big
    );
    c.create_folder(
        &me(),
        &item("/"),
        "Backup",
        Conflict::Replace,
        false,
        &mut ctl(),
    )
    .unwrap();
    let job = copy_as(c, "/through-proxy.txt", "/Backup", "copied.txt");
    wait_result(c, &job).unwrap();
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/Backup/copied.txt")
            .unwrap(),
        b"hello proxy"
    );
    c.delete_item(&me(), &item("/through-proxy.txt"), None, &mut ctl())
        .unwrap();
}

#[test]
fn an_http_proxy_with_credentials_carries_every_host() {
    let emu = emulator(Profile::Personal);
    let proxy = tinyproxy(&emu);
    let c = client(&emu);
    c.set_proxy(Some(&format!("http://user:pa55@127.0.0.1:{}", proxy.port)))
        .unwrap();
    every_operation(&emu, &c);
    let log = proxy.log();
    for origin in [emu.api_origin(), emu.monitor_origin()] {
        let line = format!("CONNECT 127.0.0.1:{}", port_of(&origin));
        assert!(
            log.contains(&line),
            "no `{line}` in the proxy's log:\n{log}"
        );
    }
}

#[test]
fn wrong_proxy_credentials_are_their_own_error_and_not_retried() {
    let emu = emulator(Profile::Personal);
    let proxy = tinyproxy(&emu);
    let c = client(&emu);
    for url in [
        format!("http://user:wrong@127.0.0.1:{}", proxy.port),
        format!("http://127.0.0.1:{}", proxy.port),
    ] {
        c.set_proxy(Some(&url)).unwrap();
        emu.clear_requests();
        let e = refused_by_proxy(&c, "x.txt");
        assert!(e.message.contains("credentials"), "{e}");
        assert!(
            !e.message.contains("wrong"),
            "the password is not repeated: {e}"
        );
        assert!(emu.requests().is_empty(), "nothing reached the service");
    }
    let attempts = proxy.log().matches("Request (file descriptor").count();
    assert_eq!(attempts, 2, "one attempt per upload:\n{}", proxy.log());
    // the right credentials again: it works
    c.set_proxy(Some(&format!("http://user:pa55@127.0.0.1:{}", proxy.port)))
        .unwrap();
    put(&c, "/", "x.txt", b"x");
}

#[test]
fn a_socks5_proxy_carries_every_host() {
    let emu = emulator(Profile::Personal);
    let proxy = microsocks();
    let c = client(&emu);
    c.set_proxy(Some(&format!(
        "socks5://user:pa55@127.0.0.1:{}",
        proxy.port
    )))
    .unwrap();
    every_operation(&emu, &c);
    c.set_proxy(Some(&format!(
        "socks5://user:wrong@127.0.0.1:{}",
        proxy.port
    )))
    .unwrap();
    refused_by_proxy(&c, "y.txt");
}

/// A one-byte upload that the proxy refuses: its error.
fn refused_by_proxy(c: &Client, name: &str) -> onedrive_native::Error {
    let e = c
        .upload(
            &me(),
            &target("/", Some(name)),
            b"x",
            Conflict::Replace,
            &mut ctl(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Proxy, "{e}");
    e
}

#[test]
fn proxy_urls_are_checked_and_never_echoed() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    for bad in [
        "ftp://user:SECRET@h:1",
        "user:SECRET@h:1",
        "http://user:SECRET@h:1\n",
        "",
    ] {
        let e = c.set_proxy(Some(bad)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{bad:?}");
        assert!(!e.message.contains("SECRET"), "{e}");
    }
    c.set_proxy(None).unwrap();
    // a proxy nobody listens on: the call fails as a network error
    c.set_proxy(Some(&format!("http://127.0.0.1:{}", free_port())))
        .unwrap();
    c.set_retry_policy(onedrive_native::RetryPolicy {
        max_attempts: 1,
        ..c.retry_policy()
    })
    .unwrap();
    let e = c.item(&me(), &item("/"), &mut ctl()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network, "{e}");
}

#[test]
fn an_upload_rate_cap_holds_the_upload_back() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    small_simple_limit(&c);
    let cap = 256 * 1024;
    c.set_upload_rate(cap);
    let body = vec![7u8; 768 * 1024];
    for name in ["simple.bin", "session.bin"] {
        if name == "session.bin" {
            c.set_upload_settings(UploadSettings {
                simple_limit: 320 * 1024,
                chunk_size: 320 * 1024,
                ..c.upload_settings()
            })
            .unwrap();
        }
        let started = Instant::now();
        put(&c, "/", name, &body);
        // A lower bound only (it holds however slow the machine is): at
        // 256 KiB/s, 768 KiB cannot go in less than ~3 s (the first piece
        // of a tenth of a second goes at once).
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(2800), "{name}: {took:?}");
    }
    c.set_upload_rate(0);
}

/// The rate cap is shared by all of a client's uploads, so each gets a
/// share of it: the time one waits for its turn does not count against its
/// deadline (before, 8 uploads each needing 1.5 s of a 16 KiB/s cap alone
/// ended with `Timeout` once their wait passed their 2 + 2 × 2 + 1.5 s
/// deadline).
#[test]
fn concurrent_uploads_share_the_rate_cap_without_timing_out() {
    let emu = emulator(Profile::Personal);
    let c = Client::new(onedrive_native::ClientConfig {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(2),
        ..config(&emu)
    })
    .unwrap();
    small_simple_limit(&c);
    c.set_upload_rate(16 * 1024);
    for (uploads, size) in [(1usize, 4 * 1024), (2, 4 * 1024), (8, 24 * 1024)] {
        let body = vec![9u8; size];
        std::thread::scope(|s| {
            let all: Vec<_> = (0..uploads)
                .map(|i| {
                    let (c, body) = (&c, &body);
                    s.spawn(move || {
                        let name = format!("cap{uploads}-{i}.bin");
                        c.upload(
                            &me(),
                            &target("/", Some(&name)),
                            body,
                            Conflict::Replace,
                            &mut ctl(),
                        )
                    })
                })
                .collect();
            for h in all {
                let it = h
                    .join()
                    .unwrap()
                    .unwrap_or_else(|e| panic!("{uploads} at once: {e}"));
                assert_eq!(it.size(), Some(size as u64));
            }
        });
    }
    c.set_upload_rate(0);
}

#[test]
fn the_log_at_its_most_verbose_holds_no_secret() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let lines = Arc::new(Mutex::new(Vec::<(LogLevel, String)>::new()));
    let l = lines.clone();
    c.set_log(
        LogLevel::Debug,
        Some(Arc::new(move |level, line: &str| {
            l.lock().unwrap().push((level, line.to_owned()))
        })),
    );
    // a chunk PUT cut once: the session recovers, and says how
    emu.add_fault(fault(
        Some("monitor"),
        Some("PUT"),
        None,
        onedrive_emulator::Times::Next(1),
        onedrive_emulator::FaultAction::DropRequestAfter(1000),
    ));
    every_operation(&emu, &c);
    // an upload from a URL whose query is a secret, a 404
    let source = emu.serve_static("src.jpg", b"jpeg".to_vec()) + "?sig=URLSECRET";
    let job = c
        .url_upload(&me(), &item("/"), "from-url.jpg", &source, &mut ctl())
        .unwrap();
    wait_result(&c, &job).unwrap();
    let _ = c
        .item(&me(), &item("/no/such/file"), &mut ctl())
        .unwrap_err();
    let lines = lines.lock().unwrap();
    let text: String = lines.iter().map(|(_, l)| format!("{l}\n")).collect();
    assert!(
        lines.iter().any(|(l, _)| *l == LogLevel::Debug),
        "job looks at Debug:\n{text}"
    );
    assert!(text.contains("PUT "), "one line per request:\n{text}");
    assert!(text.contains("-> 404"), "{text}");
    assert!(
        text.contains("root:/through-proxy.txt:/content"),
        "API paths are shown:\n{text}"
    );
    assert!(
        text.contains("upload session: after a failed chunk"),
        "recovery decisions:\n{text}"
    );
    assert!(
        text.contains("retrying GET") || text.contains("asking the session"),
        "{text}"
    );
    for secret in [emu.token().as_str(), "tempauth", "URLSECRET", "?"] {
        assert!(!text.contains(secret), "`{secret}` in the log:\n{text}");
    }
    // the monitor/upload origin appears only as its origin
    let mon = emu.monitor_origin();
    for line in text.lines() {
        if let Some(at) = line.find(&mon) {
            let rest = &line[at + mon.len()..];
            let rest = rest
                .strip_prefix(":")
                .map_or(rest, |r| r.trim_start_matches(char::is_numeric));
            assert!(rest.starts_with("/…") || rest.starts_with(' '), "{line}");
        }
    }
    // replacing the callback: once set_log returns, the old one is done
    c.set_log(LogLevel::Debug, None);
    let n = lines.len();
    drop(lines);
    put(&c, "/", "quiet.txt", b"q");
    assert_eq!(n, text.lines().count());
}
