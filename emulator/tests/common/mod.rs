//! Test helpers: a tiny blocking HTTP/1.1 client over std::net::TcpStream (plain, or TLS
//! with rustls trusting the CAs of the emulators started here), and shortcuts.
#![allow(dead_code)]

use onedrive_emulator::{Config, Emulator, JobConfig, Profile};
use serde_json::Value;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// The CAs https:// requests trust (those of the emulators `trust` was given), and the
/// client configuration made of them.
static TRUSTED: Mutex<(Vec<String>, Option<Arc<ClientConfig>>)> = Mutex::new((Vec::new(), None));

/// Trust this emulator's CA (if it has one) in every https:// request of this test binary.
pub fn trust(emu: &Emulator) {
    if let Some(pem) = emu.ca_pem() {
        trust_pem(pem);
    }
}

/// Trust this CA (PEM) in every https:// request of this test binary.
pub fn trust_pem(pem: String) {
    let mut t = TRUSTED.lock().unwrap_or_else(|e| e.into_inner());
    if !t.0.contains(&pem) {
        t.0.push(pem);
        t.1 = None;
    }
}

/// A rustls client configuration trusting exactly these CA PEMs (ring, ALPN http/1.1).
pub fn tls_client_config(ca_pems: &[String]) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for pem in ca_pems {
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(cert.expect("CA PEM")).expect("CA certificate");
        }
    }
    let mut c =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(c)
}

fn trusted_config() -> Arc<ClientConfig> {
    let mut t = TRUSTED.lock().unwrap_or_else(|e| e.into_inner());
    if t.1.is_none() {
        t.1 = Some(tls_client_config(&t.0));
    }
    t.1.clone().unwrap()
}

/// A client connection: plain TCP, or TLS over it.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    /// Connect to the origin of `url` ("http://…" or "https://…"); https trusts the CAs
    /// given to `trust`. The TLS handshake happens on the first read or write.
    pub fn connect(url: &str) -> io::Result<Stream> {
        Stream::connect_with(url, trusted_config())
    }

    pub fn connect_with(url: &str, config: Arc<ClientConfig>) -> io::Result<Stream> {
        let (host, _) = split_url(url);
        let tcp = TcpStream::connect(&host)?;
        tcp.set_read_timeout(Some(Duration::from_secs(60)))?;
        if !is_https(url) {
            return Ok(Stream::Plain(tcp));
        }
        let name = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
        let name = name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let name = ServerName::try_from(name).map_err(io::Error::other)?;
        let conn = ClientConnection::new(config, name).map_err(io::Error::other)?;
        Ok(Stream::Tls(Box::new(StreamOwned::new(conn, tcp))))
    }

    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

pub fn is_https(url: &str) -> bool {
    url.starts_with("https://")
}

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The Graph error code, asserting the documented error shape.
    pub fn error_code(&self) -> String {
        let v = self.json();
        let e = &v["error"];
        assert!(e["code"].is_string(), "no error.code in {v}");
        assert!(e["message"].is_string(), "no error.message in {v}");
        let rid = e["innerError"]["request-id"]
            .as_str()
            .expect("innerError.request-id");
        assert!(
            e["innerError"]["date"].is_string(),
            "no innerError.date in {v}"
        );
        assert_eq!(
            Some(rid),
            self.header("request-id"),
            "request-id header = body"
        );
        e["code"].as_str().unwrap().to_string()
    }
}

/// "http(s)://host:port/path?q" -> ("host:port", "/path?q")
pub fn split_url(url: &str) -> (String, String) {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .expect("http or https URL");
    match rest.find('/') {
        Some(i) => (rest[..i].to_string(), rest[i..].to_string()),
        None => (rest.to_string(), "/".to_string()),
    }
}

fn write_request(
    w: &mut impl Write,
    method: &str,
    host: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    close: bool,
) -> io::Result<()> {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    w.write_all(head.as_bytes())?;
    w.write_all(body)?;
    w.flush()
}

pub fn read_response(r: &mut impl BufRead, method: &str) -> io::Result<Resp> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed before a response",
        ));
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad status line {line:?}"),
            )
        })?;
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "eof in headers",
            ));
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if method == "HEAD" || status == 204 || status == 304 || status < 200 {
        // no body
    } else if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if n == 0 {
                let mut end = String::new();
                r.read_line(&mut end)?;
                break;
            }
            let mut chunk = vec![0; n];
            r.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
            let mut crlf = [0; 2];
            r.read_exact(&mut crlf)?;
        }
    } else if let Some(len) = get("content-length") {
        let n: usize = len
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad length"))?;
        body = vec![0; n];
        r.read_exact(&mut body)?;
    } else {
        r.read_to_end(&mut body)?;
    }
    Ok(Resp {
        status,
        headers,
        body,
    })
}

/// One request on a fresh connection.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> io::Result<Resp> {
    let (host, target) = split_url(url);
    let mut stream = Stream::connect(url)?;
    write_request(&mut stream, method, &host, &target, headers, body, true)?;
    let mut r = BufReader::new(stream);
    read_response(&mut r, method)
}

/// Send a request and return every byte the server sends until it closes (or an error).
pub fn raw_exchange(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (Vec<u8>, Option<io::Error>) {
    let (host, target) = split_url(url);
    let mut stream = Stream::connect(url).unwrap();
    stream
        .tcp()
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // The server may close while we are still writing: that is part of what is tested.
    let _ = write_request(&mut stream, method, &host, &target, headers, body, false);
    let mut got = Vec::new();
    let mut r = stream;
    let mut buf = [0u8; 4096];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return (got, None),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return (got, Some(e)),
        }
    }
}

/// A keep-alive connection.
pub struct Conn {
    host: String,
    /// read through the buffer, written through `get_mut` (one request at a time)
    reader: BufReader<Stream>,
}

impl Conn {
    pub fn open(origin_or_url: &str) -> Conn {
        let (host, _) = split_url(origin_or_url);
        Conn {
            host,
            reader: BufReader::new(Stream::connect(origin_or_url).unwrap()),
        }
    }
    pub fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Resp> {
        write_request(
            self.reader.get_mut(),
            method,
            &self.host,
            target,
            headers,
            body,
            false,
        )?;
        read_response(&mut self.reader, method)
    }
}

pub fn fast_jobs() -> JobConfig {
    JobConfig {
        base_ms: 50,
        ..JobConfig::default()
    }
}

pub fn start(profile: Profile) -> Emulator {
    start_with(Config {
        profile,
        job: fast_jobs(),
        ..Config::default()
    })
}

/// Start an emulator and trust its CA (if any) in this binary's https:// requests.
pub fn start_with(config: Config) -> Emulator {
    let emu = Emulator::start(config).expect("start emulator");
    trust(&emu);
    emu
}

pub fn bearer(emu: &Emulator) -> String {
    format!("Bearer {}", emu.token())
}

/// The admin path's Authorization value.
pub fn admin_bearer(emu: &Emulator) -> String {
    format!("Bearer {}", emu.admin_token())
}

/// A call of the admin path: `rel` follows `/_emulator/` ("stats", "jobs/release").
pub fn admin(emu: &Emulator, method: &str, rel: &str, body: &[u8]) -> Resp {
    request(
        method,
        &format!("{}/_emulator/{rel}", emu.api_origin()),
        &[("Authorization", &admin_bearer(emu))],
        body,
    )
    .unwrap()
}

/// An authorized API call; `rel` is relative to base_url (starts with '/').
pub fn api(emu: &Emulator, method: &str, rel: &str, body: &[u8]) -> Resp {
    api_h(emu, method, rel, &[], body)
}

pub fn api_h(
    emu: &Emulator,
    method: &str,
    rel: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let auth = bearer(emu);
    let mut h: Vec<(&str, &str)> = vec![("Authorization", auth.as_str())];
    h.extend_from_slice(headers);
    if method == "POST"
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        h.push(("Content-Type", "application/json"));
    }
    request(method, &format!("{}{rel}", emu.base_url()), &h, body).expect("request")
}

pub fn put_file(emu: &Emulator, rel_path: &str, body: &[u8]) -> Value {
    let r = api(
        emu,
        "PUT",
        &format!("/me/drive/root:{rel_path}:/content"),
        body,
    );
    assert!(
        r.status == 201 || r.status == 200,
        "PUT {rel_path}: {} {}",
        r.status,
        r.text()
    );
    r.json()
}

/// Make folder `name` in the folder at `parent` ("/" = the root); its item JSON.
pub fn mkdir(emu: &Emulator, parent: &str, name: &str) -> Value {
    let r = api(
        emu,
        "POST",
        &format!("/me/drive/root:{parent}:/children"),
        serde_json::json!({"name": name, "folder": {}})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 201, "mkdir {parent} {name}: {}", r.text());
    r.json()
}

/// Upload `data` as `rel_path` through an upload session, in fragments of `fragment`
/// bytes (a multiple of 320 KiB); the item JSON.
pub fn session_upload(emu: &Emulator, rel_path: &str, data: &[u8], fragment: usize) -> Value {
    let r = api(
        emu,
        "POST",
        &format!("/me/drive/root:{rel_path}:/createUploadSession"),
        b"{}",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let url = r.json()["uploadUrl"].as_str().unwrap().to_string();
    let total = data.len();
    let mut a = 0;
    loop {
        let b = (a + fragment).min(total) - 1;
        let cr = format!("bytes {a}-{b}/{total}");
        let r = request("PUT", &url, &[("Content-Range", &cr)], &data[a..=b]).unwrap();
        if b + 1 == total {
            assert!(r.status == 201 || r.status == 200, "{}", r.text());
            return r.json();
        }
        assert_eq!(r.status, 202, "{}", r.text());
        a = b + 1;
    }
}

/// GET without Authorization (monitor origin).
pub fn get(url: &str) -> Resp {
    request("GET", url, &[], b"").expect("request")
}

/// Poll until `f` returns Some, failing after `secs` seconds.
pub fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Poll a monitor URL until it stops answering 202 inProgress; returns the final response.
pub fn poll_job(url: &str) -> Resp {
    wait_for(60, "job to finish", || {
        let r = get(url);
        if r.status == 202 && r.json()["status"] == "inProgress" {
            None
        } else {
            Some(r)
        }
    })
}

pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "onedrive-emulator-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A test CA and a leaf it signs for `names` (IP addresses or DNS names), valid now
/// (or expired a day ago): (CA PEM, leaf PEM, leaf key PEM).
pub fn ca_and_leaf(names: &[&str], expired: bool) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // a name of its own: CAs of one name would pass for each other until the signature
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    ca.distinguished_name.push(
        rcgen::DnType::CommonName,
        format!("test CA {} {n}", std::process::id()),
    );
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let mut leaf =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    if expired {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let epoch = rcgen::date_time_ymd(1970, 1, 1);
        leaf.not_before = epoch + (now - Duration::from_secs(10 * 86400));
        leaf.not_after = epoch + (now - Duration::from_secs(86400));
    }
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_pem = leaf.signed_by(&leaf_key, &issuer).unwrap().pem();
    (ca_pem, leaf_pem, leaf_key.serialize_pem())
}
