//! TLS: the certificate both listeners serve (generated at start, or given as PEM), and
//! the small client that upload from URL fetches its source through (http or https).

use crate::config::Tls;
use bytes::Bytes;
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::fmt::Display;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

const DAY: Duration = Duration::from_secs(24 * 3600);
/// The only application protocol offered and accepted: the emulator speaks HTTP/1.1.
const ALPN: &[u8] = b"http/1.1";

/// What `Config::tls` and `Config::fetch_trust_pem` turn into at start.
pub(crate) struct TlsSetup {
    /// None: the listeners speak plain HTTP.
    pub acceptor: Option<TlsAcceptor>,
    /// The CA a client must trust (the generated one, or the one given with `Tls::Pem`).
    pub ca_pem: Option<String>,
    /// For upload from URL's https:// sources: trusts `ca_pem` and `fetch_trust_pem`.
    pub connector: TlsConnector,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn invalid(what: &str, e: impl Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {e}"))
}

impl TlsSetup {
    pub fn new(tls: &Tls, host: IpAddr, fetch_trust_pem: Option<&str>) -> io::Result<TlsSetup> {
        let (served, ca_pem) = match tls {
            Tls::Plain => (None, None),
            Tls::Generated => {
                let (ca_pem, chain, key) = generate(host)?;
                (Some((chain, key)), Some(ca_pem))
            }
            Tls::Pem {
                cert_chain_pem,
                key_pem,
                ca_pem,
            } => {
                let chain = certs(cert_chain_pem, "Tls::Pem cert_chain_pem")?;
                let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
                    .map_err(|e| invalid("Tls::Pem key_pem", e))?;
                (Some((chain, key)), ca_pem.clone())
            }
        };
        let acceptor = match served {
            Some((chain, key)) => Some(TlsAcceptor::from(server_config(chain, key)?)),
            None => None,
        };
        let mut roots = RootCertStore::empty();
        for (pem, what) in [
            (ca_pem.as_deref(), "the CA PEM"),
            (fetch_trust_pem, "Config::fetch_trust_pem"),
        ] {
            for cert in certs(pem.unwrap_or(""), what)? {
                roots.add(cert).map_err(|e| invalid(what, e))?;
            }
        }
        let mut client = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        client.alpn_protocols = vec![ALPN.to_vec()];
        Ok(TlsSetup {
            acceptor,
            ca_pem,
            connector: TlsConnector::from(Arc::new(client)),
        })
    }
}

/// Every certificate of a PEM text (none for an empty text).
fn certs(pem: &str, what: &str) -> io::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(what, e))?;
    if certs.is_empty() && !pem.trim().is_empty() {
        return Err(invalid(what, "no CERTIFICATE block"));
    }
    Ok(certs)
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> io::Result<Arc<ServerConfig>> {
    if chain.is_empty() {
        return Err(invalid("the TLS certificate chain", "no certificate"));
    }
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| invalid("the TLS certificate and key", e))?;
    config.alpn_protocols = vec![ALPN.to_vec()];
    Ok(Arc::new(config))
}

/// A fresh CA (self-signed, ECDSA P-256) and a leaf it signs for 127.0.0.1, ::1,
/// localhost and `host`, both valid from a day ago for a year: (CA PEM, chain, leaf key).
fn generate(
    host: IpAddr,
) -> io::Result<(String, Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
        IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
    };
    let err = |e: rcgen::Error| io::Error::other(format!("generating the TLS certificates: {e}"));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    let (not_before, not_after) = (epoch + now.saturating_sub(DAY), epoch + now + 365 * DAY);
    let name = |cn: String| {
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "onedrive-emulator");
        dn.push(DnType::CommonName, cn);
        dn
    };
    // A distinct name per start: two emulators' CAs never look alike to a client.
    let tag = crate::rand::random_hex(4);

    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca = CertificateParams::default();
    ca.distinguished_name = name(format!("onedrive-emulator test CA {tag}"));
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = not_before;
    ca.not_after = not_after;
    let ca_pem = ca.self_signed(&ca_key).map_err(err)?.pem();
    let issuer = Issuer::new(ca, ca_key);

    let mut ips = vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ];
    if !ips.contains(&host) {
        ips.push(host);
    }
    let mut leaf = CertificateParams::default();
    leaf.distinguished_name = name(format!("onedrive-emulator {tag}"));
    leaf.subject_alt_names = vec![SanType::DnsName(
        "localhost".to_string().try_into().map_err(err)?,
    )];
    leaf.subject_alt_names
        .extend(ips.into_iter().map(SanType::IpAddress));
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    leaf.not_before = not_before;
    leaf.not_after = not_after;
    let leaf_key = KeyPair::generate().map_err(err)?;
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).map_err(err)?;
    let key = PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    Ok((ca_pem, vec![leaf_cert.der().clone()], key))
}

/// GET `uri` (http:// or https://) on a fresh connection; the body streams in as it is read.
pub(crate) async fn get(
    connector: &TlsConnector,
    uri: &hyper::Uri,
) -> Result<Response<Incoming>, String> {
    let https = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => return Err("the emulator fetches http:// and https:// source URLs only".into()),
    };
    let host = uri.host().ok_or("the source URL has no host")?;
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let host_header = match uri.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    let req = Request::get(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(hyper::header::HOST, host_header)
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("invalid source URL: {e}"))?;
    let unreachable = |e: io::Error| format!("could not reach the source URL: {e}");
    let tcp = TcpStream::connect((bare, port))
        .await
        .map_err(unreachable)?;
    let _ = tcp.set_nodelay(true);
    if !https {
        return send(TokioIo::new(tcp), req).await;
    }
    let name = ServerName::try_from(bare.to_string())
        .map_err(|e| format!("invalid source URL host: {e}"))?;
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| format!("could not reach the source URL: TLS: {e}"))?;
    send(TokioIo::new(tls), req).await
}

async fn send<I>(io: I, req: Request<Empty<Bytes>>) -> Result<Response<Incoming>, String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let failed = |e: hyper::Error| format!("could not reach the source URL: {e}");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(failed)?;
    // Drives the connection until the answer (body included) has been read or dropped.
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender.send_request(req).await.map_err(failed)
}
