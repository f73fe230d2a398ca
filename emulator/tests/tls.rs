//! HTTPS on both origins: the generated CA and leaf, given certificates, plain HTTP on
//! request, the handshake's bounds, and upload from URL over https.

mod common;

use common::*;
use onedrive_emulator::{Config, Emulator, Profile, Tls};
use serde_json::json;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{self, CertificateError, ClientConfig, ClientConnection};

/// The TLS handshake alone, with `name` as the server name, to the origin of `url`:
/// the ALPN protocol agreed, or the error (a rustls error inside an io::Error).
fn handshake(url: &str, name: &str, config: Arc<ClientConfig>) -> io::Result<Option<Vec<u8>>> {
    let (host, _) = split_url(url);
    let mut tcp = TcpStream::connect(&host)?;
    tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
    let name = ServerName::try_from(name.to_string()).unwrap();
    let mut conn = ClientConnection::new(config, name).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)?;
    }
    Ok(conn.alpn_protocol().map(<[u8]>::to_vec))
}

fn certificate_error(e: &io::Error) -> Option<&CertificateError> {
    match e.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(c) => Some(c),
        _ => None,
    }
}

/// GET /me/drive over one https connection with this client configuration.
fn get_drive(emu: &Emulator, config: Arc<ClientConfig>) -> io::Result<Resp> {
    let url = format!("{}/me/drive", emu.base_url());
    let (host, target) = split_url(&url);
    let mut s = Stream::connect_with(&url, config)?;
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        emu.token()
    )?;
    s.flush()?;
    read_response(&mut io::BufReader::new(s), "GET")
}

/// Reads until the server closes: Ok when it did (EOF or reset), Err if the read timed out.
fn closed_by_server(mut s: TcpStream) -> Result<(), String> {
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => continue, // e.g. a TLS alert before the close
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(format!("still open after 60 s: {e}"));
            }
            Err(_) => return Ok(()), // reset
        }
    }
}

#[test]
fn the_generated_ca_verifies_the_leaf_on_both_origins() {
    let emu = Emulator::start(Config::default()).unwrap();
    let api = emu.api_origin();
    assert!(api.starts_with("https://127.0.0.1:"), "{api}");
    assert!(emu.base_url().starts_with("https://127.0.0.1:"));
    assert!(emu.monitor_origin().starts_with("https://127.0.0.1:"));
    let ca = emu.ca_pem().expect("a generated CA");
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
    let only_this_ca = tls_client_config(&[ca]);

    let r = get_drive(&emu, only_this_ca.clone()).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["id"], emu.default_drive_id().as_str());

    // the leaf names 127.0.0.1, ::1 and localhost; ALPN is http/1.1
    for name in ["127.0.0.1", "::1", "localhost"] {
        let alpn =
            handshake(&api, name, only_this_ca.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]), "{name}");
    }
    let e = handshake(&api, "example.com", only_this_ca.clone()).unwrap_err();
    assert!(
        matches!(
            certificate_error(&e),
            Some(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            )
        ),
        "{e}"
    );

    // the monitor origin: same certificate; Location headers and upload URLs are https
    handshake(&emu.monitor_origin(), "127.0.0.1", only_this_ca).unwrap();
    trust(&emu);
    let s = api_h(
        &emu,
        "POST",
        "/me/drive/root:/big.bin:/createUploadSession",
        &[],
        b"{}",
    )
    .json();
    let upload = s["uploadUrl"].as_str().unwrap();
    assert!(upload.starts_with(&emu.monitor_origin()), "{upload}");
    assert!(upload.starts_with("https://"), "{upload}");
    let r = request("PUT", upload, &[("Content-Range", "bytes 0-2/3")], b"abc").unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let src = emu.serve_static("s.txt", b"static".to_vec());
    assert!(src.starts_with("https://"), "{src}");
    assert_eq!(get(&src).body, b"static");
}

#[test]
fn a_client_that_does_not_trust_the_ca_fails_the_handshake() {
    let emu = Emulator::start(Config::default()).unwrap();
    let other = Emulator::start(Config::default()).unwrap();
    assert_ne!(emu.ca_pem(), other.ca_pem(), "a fresh CA per start");
    let wrong_ca = tls_client_config(&[other.ca_pem().unwrap()]);
    let e = handshake(&emu.api_origin(), "127.0.0.1", wrong_ca.clone()).unwrap_err();
    assert_eq!(
        certificate_error(&e),
        Some(&CertificateError::UnknownIssuer),
        "{e}"
    );
    assert!(get_drive(&emu, wrong_ca).is_err());
    let no_ca = tls_client_config(&[]);
    assert!(handshake(&emu.monitor_origin(), "127.0.0.1", no_ca).is_err());
    // the emulator goes on serving clients that trust it
    let r = get_drive(&emu, tls_client_config(&[emu.ca_pem().unwrap()])).unwrap();
    assert_eq!(r.status, 200);
}

#[test]
fn plain_still_serves_http() {
    let emu = start_with(Config {
        tls: Tls::Plain,
        ..Config::default()
    });
    assert!(emu.api_origin().starts_with("http://127.0.0.1:"));
    assert!(emu.base_url().starts_with("http://127.0.0.1:"));
    assert!(emu.monitor_origin().starts_with("http://127.0.0.1:"));
    assert_eq!(emu.ca_pem(), None);
    assert_eq!(api(&emu, "GET", "/me/drive", b"").status, 200);
    let src = emu.serve_static("p.txt", b"plain".to_vec());
    assert!(src.starts_with("http://"), "{src}");
    assert_eq!(get(&src).body, b"plain");
    // a TLS client gets no handshake from a plain origin
    assert!(handshake(&emu.api_origin(), "127.0.0.1", tls_client_config(&[])).is_err());
}

#[test]
fn pem_serves_the_given_certificate_as_is() {
    let start_pem = |names: &[&str], expired: bool, give_ca: bool| {
        let (ca, chain, key) = ca_and_leaf(names, expired);
        let emu = Emulator::start(Config {
            tls: Tls::Pem {
                cert_chain_pem: chain.clone(),
                key_pem: key,
                ca_pem: give_ca.then(|| ca.clone()),
            },
            ..Config::default()
        })
        .unwrap();
        (emu, ca, chain)
    };
    // a good one: the served leaf is the given one; ca_pem() is the given CA
    let (emu, ca, chain) = start_pem(&["127.0.0.1"], false, true);
    assert!(emu.base_url().starts_with("https://"));
    assert_eq!(emu.ca_pem().as_deref(), Some(ca.as_str()));
    let trusting = tls_client_config(&[ca]);
    let r = get_drive(&emu, trusting.clone()).unwrap();
    assert_eq!(r.status, 200);
    let (host, _) = split_url(&emu.api_origin());
    let mut tcp = TcpStream::connect(&host).unwrap();
    let mut conn =
        ClientConnection::new(trusting, ServerName::try_from("127.0.0.1").unwrap()).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).unwrap();
    }
    use tokio_rustls::rustls::pki_types::CertificateDer;
    use tokio_rustls::rustls::pki_types::pem::PemObject as _;
    let given = CertificateDer::from_pem_slice(chain.as_bytes()).unwrap();
    assert_eq!(conn.peer_certificates().unwrap()[0], given);

    // without ca_pem: no CA to tell
    let (emu, _, _) = start_pem(&["127.0.0.1"], false, false);
    assert_eq!(emu.ca_pem(), None);

    // deliberately bad ones are served all the same, and clients refuse them
    let (emu, ca, _) = start_pem(&["example.com"], false, true);
    let e = handshake(&emu.api_origin(), "127.0.0.1", tls_client_config(&[ca])).unwrap_err();
    assert!(
        matches!(
            certificate_error(&e),
            Some(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            )
        ),
        "{e}"
    );
    let (emu, ca, _) = start_pem(&["127.0.0.1"], true, true);
    let e = handshake(&emu.api_origin(), "127.0.0.1", tls_client_config(&[ca])).unwrap_err();
    assert!(
        matches!(
            certificate_error(&e),
            Some(CertificateError::Expired | CertificateError::ExpiredContext { .. })
        ),
        "{e}"
    );
    let (emu, _, _) = start_pem(&["127.0.0.1"], false, false);
    let (unknown_ca, _, _) = ca_and_leaf(&["127.0.0.1"], false);
    let e = handshake(
        &emu.api_origin(),
        "127.0.0.1",
        tls_client_config(&[unknown_ca]),
    )
    .unwrap_err();
    assert_eq!(
        certificate_error(&e),
        Some(&CertificateError::UnknownIssuer)
    );

    // what cannot be served at all is refused at start
    let bad = |cert_chain_pem: &str, key_pem: &str| {
        Emulator::start(Config {
            tls: Tls::Pem {
                cert_chain_pem: cert_chain_pem.into(),
                key_pem: key_pem.into(),
                ca_pem: None,
            },
            ..Config::default()
        })
        .err()
        .expect("refused")
        .kind()
    };
    let (_, chain, key) = ca_and_leaf(&["127.0.0.1"], false);
    assert_eq!(bad("", &key), io::ErrorKind::InvalidInput);
    assert_eq!(bad(&chain, ""), io::ErrorKind::InvalidInput);
    assert_eq!(bad("not a pem", "not a pem"), io::ErrorKind::InvalidInput);
    let (_, _, other_key) = ca_and_leaf(&["127.0.0.1"], false);
    assert_eq!(
        bad(&chain, &other_key),
        io::ErrorKind::InvalidInput,
        "a key that does not match"
    );
}

#[test]
fn a_connection_that_never_says_hello_is_closed_after_the_header_timeout() {
    let emu = start_with(Config {
        header_read_timeout: Duration::from_millis(300),
        ..Config::default()
    });
    for origin in [emu.api_origin(), emu.monitor_origin()] {
        let (host, _) = split_url(&origin);
        // connects, sends nothing: closed by the server (not by our read timeout)
        let silent = TcpStream::connect(&host).unwrap();
        closed_by_server(silent).unwrap();
        // plain HTTP to the HTTPS port: the handshake fails and the connection closes
        let mut confused = TcpStream::connect(&host).unwrap();
        confused
            .write_all(b"GET /v1.0/me/drive HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        closed_by_server(confused).unwrap();
    }
    // and the emulator still serves
    assert_eq!(api(&emu, "GET", "/me/drive", b"").status, 200);
}

#[test]
fn url_upload_fetches_https_sources() {
    let upload = |emu: &Emulator, src: &str, name: &str| {
        let body = json!({"@microsoft.graph.sourceUrl": src, "name": name, "file": {}});
        let r = api_h(
            emu,
            "POST",
            "/me/drive/root/children",
            &[("Prefer", "respond-async")],
            body.to_string().as_bytes(),
        );
        assert_eq!(r.status, 202, "{}", r.text());
        let monitor = r.header("location").unwrap().to_string();
        assert!(monitor.starts_with("https://"), "{monitor}");
        poll_job(&monitor)
    };
    // from its own https monitor origin
    let emu = start(Profile::Personal);
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let src = emu.serve_static("own.bin", data.clone());
    assert!(src.starts_with("https://"), "{src}");
    let done = upload(&emu, &src, "own.bin");
    assert_eq!(done.status, 303, "{}", done.text());
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/own.bin").unwrap(),
        data
    );

    // from another emulator's: only with its CA in fetch_trust_pem
    let source = start(Profile::Personal);
    let src = source.serve_static("other.bin", b"from elsewhere".to_vec());
    let done = upload(&emu, &src, "other.bin");
    assert_eq!(done.json()["status"], "failed", "{}", done.text());
    let trusting = start_with(Config {
        fetch_trust_pem: source.ca_pem(),
        job: fast_jobs(),
        ..Config::default()
    });
    let done = upload(&trusting, &src, "other.bin");
    assert_eq!(done.status, 303, "{}", done.text());
    assert_eq!(
        trusting
            .content(&trusting.default_drive_id(), "/other.bin")
            .unwrap(),
        b"from elsewhere"
    );
}
