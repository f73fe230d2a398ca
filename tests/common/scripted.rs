//! A small HTTP/1.1 server on loopback whose every answer a test scripts:
//! for the misbehaviour the emulator cannot show (a body that never ends,
//! a server that never answers, redirect loops, answers that contradict
//! themselves). Each connection is served on its own thread; requests are
//! logged with their headers so a test can check where the token went.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body_len: usize,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What to answer.
pub enum Answer {
    /// Status, headers and a body (Content-Length is added).
    Full(u16, Vec<(String, String)>, Vec<u8>),
    /// Status and headers announcing `len` bytes, then `len` zero bytes
    /// written as fast as the client reads them.
    Huge(u16, u64),
    /// Status and headers announcing `len` bytes, sent one byte per `every`.
    Trickle(u16, u64, Duration),
    /// Status, headers and a body, announced as `len` bytes (more than
    /// the body: the connection is closed after it, a cut answer).
    #[allow(dead_code)]
    Cut(u16, Vec<(String, String)>, Vec<u8>, u64),
    /// Read the request, then say nothing until the client goes away.
    Silence,
}

impl Answer {
    pub fn json(status: u16, body: &str) -> Answer {
        Answer::Full(
            status,
            vec![("Content-Type".into(), "application/json".into())],
            body.as_bytes().to_vec(),
        )
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Answer {
        if let Answer::Full(_, h, _) = &mut self {
            h.push((name.into(), value.into()));
        }
        self
    }
}

type Handler = dyn Fn(&Seen) -> Answer + Send + Sync;

pub struct Scripted {
    pub origin: String,
    log: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl Scripted {
    pub fn start(handler: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Scripted {
        Scripted::start_at(move |r, _| handler(r))
    }

    /// As [`Scripted::start`], the handler also told the server's own
    /// origin (for answers that name URLs on it).
    pub fn start_at(handler: impl Fn(&Seen, &str) -> Answer + Send + Sync + 'static) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let own = origin.clone();
        let handler: Arc<Handler> = Arc::new(move |r: &Seen| handler(r, &own));
        let (l, s) = (log.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (h, l, s) = (handler.clone(), l.clone(), s.clone());
                std::thread::spawn(move || serve(conn, &*h, &l, &s));
            }
        });
        Scripted { origin, log, stop }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // wake the accept loop
        let _ = TcpStream::connect(self.origin.trim_start_matches("http://"));
    }
}

fn serve(conn: TcpStream, handler: &Handler, log: &Mutex<Vec<Seen>>, stop: &AtomicBool) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
    let mut out = conn.try_clone().expect("clone the socket");
    let mut reader = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_owned(),
            parts.next().unwrap_or("").to_owned(),
        );
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((n, v)) = h.split_once(':') {
                headers.push((n.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        // The body is read and dropped (only its length is kept), so a
        // test can send large bodies without this server holding them.
        let mut left = len;
        let mut buf = vec![0u8; 64 * 1024];
        while left > 0 {
            let want = left.min(buf.len());
            if reader.read_exact(&mut buf[..want]).is_err() {
                return;
            }
            left -= want;
        }
        let seen = Seen {
            method,
            path,
            headers,
            body_len: len,
        };
        log.lock().unwrap().push(seen.clone());
        let head = |status: u16, len: u64, extra: &[(String, String)]| {
            let mut h = format!("HTTP/1.1 {status} X\r\nContent-Length: {len}\r\n");
            for (n, v) in extra {
                h.push_str(&format!("{n}: {v}\r\n"));
            }
            h.push_str("\r\n");
            h
        };
        let ok = match handler(&seen) {
            Answer::Full(status, extra, body) => out
                .write_all(head(status, body.len() as u64, &extra).as_bytes())
                .and_then(|_| out.write_all(&body))
                .is_ok(),
            Answer::Cut(status, extra, body, len) => {
                let _ = out
                    .write_all(head(status, len, &extra).as_bytes())
                    .and_then(|_| out.write_all(&body));
                return;
            }
            Answer::Huge(status, len) => {
                let zeros = vec![b'0'; 64 * 1024];
                let mut left = len;
                let mut r = out.write_all(head(status, len, &[]).as_bytes());
                while r.is_ok() && left > 0 && !stop.load(Ordering::SeqCst) {
                    let n = left.min(zeros.len() as u64) as usize;
                    r = out.write_all(&zeros[..n]);
                    left -= n as u64;
                }
                r.is_ok() && left == 0
            }
            Answer::Trickle(status, len, every) => {
                let mut r = out.write_all(head(status, len, &[]).as_bytes());
                for _ in 0..len {
                    if r.is_err() || stop.load(Ordering::SeqCst) {
                        break;
                    }
                    std::thread::sleep(every);
                    r = out.write_all(b" ");
                }
                r.is_ok()
            }
            Answer::Silence => {
                // Until the client closes its end (a read of 0) or the test ends.
                let _ = reader
                    .get_ref()
                    .set_read_timeout(Some(Duration::from_millis(200)));
                let mut one = [0u8; 1];
                while !stop.load(Ordering::SeqCst) {
                    match reader.get_mut().read(&mut one) {
                        Ok(0) => return,
                        Ok(_) => {}
                        Err(e)
                            if matches!(
                                e.kind(),
                                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                            ) => {}
                        Err(_) => return,
                    }
                }
                false
            }
        };
        if !ok {
            return;
        }
    }
}
