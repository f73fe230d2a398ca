//! TLS as the client sees it: the emulator's CA trusted through the public
//! API, and the certificates a client must refuse (for another name,
//! expired, from an unknown CA), each with `ErrorKind::Tls` and never
//! retried.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use onedrive_emulator::{Config, Emulator, Tls};
use onedrive_native::{Client, ClientConfig, ErrorKind, LogLevel, RetryPolicy};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

/// A CA: its PEM and the issuer that signs with it.
fn ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let pem = params.self_signed(&key).unwrap().pem();
    (pem, Issuer::new(params, key))
}

/// A leaf for `names` signed by `issuer`, valid from `from` to `to` (years).
fn leaf(
    issuer: &Issuer<'static, KeyPair>,
    names: Vec<SanType>,
    (from, to): (i32, i32),
) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, "leaf");
    params.subject_alt_names = names;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = rcgen::date_time_ymd(from, 1, 1);
    params.not_after = rcgen::date_time_ymd(to, 1, 1);
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn localhost_ip() -> Vec<SanType> {
    vec![SanType::IpAddress("127.0.0.1".parse().unwrap())]
}

fn serving((cert_chain_pem, key_pem): (String, String)) -> Emulator {
    Emulator::start(Config {
        tls: Tls::Pem {
            cert_chain_pem,
            key_pem,
            ca_pem: None,
        },
        ..Config::default()
    })
    .expect("the emulator starts")
}

/// A client of `emu` trusting `ca` (if any), logging its lines, with
/// retries that would show if a TLS failure were retried.
fn client_trusting(emu: &Emulator, ca: Option<&str>) -> (Client, Arc<Mutex<Vec<String>>>) {
    let c = Client::new(ClientConfig {
        retry: RetryPolicy {
            max_attempts: 4,
            base_backoff: std::time::Duration::from_millis(1),
            ..RetryPolicy::default()
        },
        extra_ca_pem: ca.map(|p| p.as_bytes().to_vec()).unwrap_or_default(),
        ..ClientConfig::new(emu.base_url(), emu.token())
    })
    .unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    c.set_log(
        LogLevel::Debug,
        Some(Arc::new(move |_, line: &str| {
            l.lock().unwrap().push(line.to_owned())
        })),
    );
    (c, lines)
}

/// The call fails with a TLS error saying `why`, after one attempt, and
/// the service saw nothing (so no token went anywhere).
fn refused(emu: &Emulator, ca: Option<&str>, why: &str) {
    let (c, lines) = client_trusting(emu, ca);
    let e = c.item(&me(), &item("/"), &mut ctl()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Tls, "{e}");
    assert!(e.message.contains(why), "{e}");
    let attempts = lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("GET ") && l.contains("(attempt "))
        .count();
    assert_eq!(attempts, 1, "not retried: {:?}", lines.lock().unwrap());
    assert!(emu.requests().is_empty());
}

#[test]
fn the_emulators_ca_is_trusted_through_the_public_api() {
    let emu = emulator(onedrive_emulator::Profile::Personal);
    assert!(emu.base_url().starts_with("https://"), "{}", emu.base_url());
    // through ClientConfig (what common::client does) and through add_ca_pem
    put(&client(&emu), "/", "a.txt", b"a");
    let (c, _) = client_trusting(&emu, None);
    c.add_ca_pem(emu.ca_pem().unwrap().as_bytes()).unwrap();
    assert_eq!(
        c.item(&me(), &item("/a.txt"), &mut ctl()).unwrap().size(),
        Some(1)
    );
}

#[test]
fn a_certificate_from_an_unknown_ca_is_refused() {
    let emu = emulator(onedrive_emulator::Profile::Personal);
    refused(&emu, None, "not signed by a trusted CA");
    // another CA than the one that signed it: the same
    let (other, _) = ca("another CA");
    refused(&emu, Some(&other), "not signed by a trusted CA");
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    let (ca_pem, issuer) = ca("test CA");
    let emu = serving(leaf(
        &issuer,
        vec![SanType::DnsName("example.com".try_into().unwrap())],
        (2020, 2100),
    ));
    refused(&emu, Some(&ca_pem), "not valid for this host name");
}

#[test]
fn an_expired_certificate_is_refused() {
    let (ca_pem, issuer) = ca("test CA");
    let emu = serving(leaf(&issuer, localhost_ip(), (2020, 2021)));
    refused(&emu, Some(&ca_pem), "has expired");
}

#[test]
fn a_good_certificate_served_as_given_is_accepted() {
    let (ca_pem, issuer) = ca("test CA");
    let emu = serving(leaf(&issuer, localhost_ip(), (2020, 2100)));
    let (c, _) = client_trusting(&emu, Some(&ca_pem));
    c.item(&me(), &item("/"), &mut ctl()).unwrap();
}

#[test]
fn bad_pem_is_refused_up_front() {
    let emu = emulator(onedrive_emulator::Profile::Personal);
    for pem in [
        &b"not pem"[..],
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ] {
        let e = Client::new(ClientConfig {
            extra_ca_pem: pem.to_vec(),
            ..ClientConfig::new(emu.base_url(), emu.token())
        })
        .err()
        .unwrap_or_else(|| panic!("accepted {pem:?}"));
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{e}");
    }
}
