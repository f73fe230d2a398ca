//! TLS for every request: which certificates a client trusts, and the
//! rustls connection under ureq that checks them.
//!
//! Trust, by platform:
//! - Linux and other Unix systems (not Android, not Apple): the system's
//!   CA bundle (found as OpenSSL finds it, `SSL_CERT_FILE`/`SSL_CERT_DIR`
//!   honoured; read once per process), plus the client's extra CAs. When
//!   the system has no CA bundle (a minimal container), the bundled Mozilla
//!   roots (webpki-roots) stand in for it.
//! - macOS and iOS: the platform's verifier (rustls-platform-verifier: the
//!   keychain, so a CA installed by a company or an MDM profile is
//!   trusted), plus the client's extra CAs given to it.
//! - Windows: the platform's verifier over the Windows store (a CA a
//!   company installs by group policy is trusted), and, for a chain it
//!   refuses, the client's extra CAs checked by WebPKI as on Linux
//!   ([`SystemOrExtra`]). The platform verifier's own way to take extra
//!   roots (a chain engine with an exclusive root store) is not used: Wine's
//!   crypt32 refuses its configuration structure (E_INVALIDARG, "Invalid
//!   parameter"), and a chain to a CA the caller named does not need the
//!   system's policy.
//! - Android and anything else: the bundled Mozilla roots plus the extra CAs.
//!   (The platform verifier needs the app to hand it a JVM context and to
//!   ship its Kotlin component; this library takes no such setup.)
//!
//! There is no way to turn verification off.

use std::fmt;
use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};

use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, NextTimeout, Transport, TransportAdapter,
};

use super::buffers::{BufferPool, PooledBuffers};
use super::error::{Error, ErrorKind, Result};

/// The certificates in a PEM bundle (other PEM sections are skipped). An
/// empty list or a malformed certificate is an error.
pub(crate) fn parse_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::invalid(format!("not a PEM certificate bundle: {e}")))?;
    if certs.is_empty() {
        return Err(Error::invalid("no certificate in the PEM data"));
    }
    // Each must parse as a trust anchor, or the handshake would fail later
    // with a less helpful message.
    for cert in &certs {
        webpki_anchor(cert)?;
    }
    Ok(certs)
}

fn webpki_anchor(cert: &CertificateDer<'_>) -> Result<()> {
    let mut store = rustls::RootCertStore::empty();
    store
        .add(cert.clone())
        .map_err(|e| Error::invalid(format!("a certificate in the PEM data is not usable: {e}")))
}

/// ring's provider, less its private-key loader: a client without client
/// certificates never loads a key, and `rustls::crypto::ring::default_provider`
/// would link ring's RSA, ECDSA and Ed25519 signing code (~36 KB) for it.
/// Cipher suites and key exchange groups are rustls' defaults; the
/// verification algorithms are those of rustls' ring provider
/// (`SUPPORTED_SIG_ALGS`, which it does not export).
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    use rustls::crypto::ring as r;
    Arc::new(rustls::crypto::CryptoProvider {
        cipher_suites: r::DEFAULT_CIPHER_SUITES.to_vec(),
        kx_groups: r::DEFAULT_KX_GROUPS.to_vec(),
        signature_verification_algorithms: SIGNATURE_ALGORITHMS,
        secure_random: &RingNoKeys,
        key_provider: &RingNoKeys,
    })
}

static SIGNATURE_ALGORITHMS: rustls::crypto::WebPkiSupportedAlgorithms = {
    use rustls::SignatureScheme as S;
    use webpki::ring as w;
    rustls::crypto::WebPkiSupportedAlgorithms {
        all: &[
            w::ECDSA_P256_SHA256,
            w::ECDSA_P256_SHA384,
            w::ECDSA_P384_SHA256,
            w::ECDSA_P384_SHA384,
            w::ED25519,
            w::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
            w::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
            w::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
            w::RSA_PKCS1_2048_8192_SHA256,
            w::RSA_PKCS1_2048_8192_SHA384,
            w::RSA_PKCS1_2048_8192_SHA512,
            w::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
            w::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
            w::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
        ],
        // For TLS 1.2 the curve is not fixed by the scheme; for 1.3 it is.
        mapping: &[
            (
                S::ECDSA_NISTP384_SHA384,
                &[w::ECDSA_P384_SHA384, w::ECDSA_P256_SHA384],
            ),
            (
                S::ECDSA_NISTP256_SHA256,
                &[w::ECDSA_P256_SHA256, w::ECDSA_P384_SHA256],
            ),
            (S::ED25519, &[w::ED25519]),
            (S::RSA_PSS_SHA512, &[w::RSA_PSS_2048_8192_SHA512_LEGACY_KEY]),
            (S::RSA_PSS_SHA384, &[w::RSA_PSS_2048_8192_SHA384_LEGACY_KEY]),
            (S::RSA_PSS_SHA256, &[w::RSA_PSS_2048_8192_SHA256_LEGACY_KEY]),
            (S::RSA_PKCS1_SHA512, &[w::RSA_PKCS1_2048_8192_SHA512]),
            (S::RSA_PKCS1_SHA384, &[w::RSA_PKCS1_2048_8192_SHA384]),
            (S::RSA_PKCS1_SHA256, &[w::RSA_PKCS1_2048_8192_SHA256]),
        ],
    }
};

/// ring's randomness; no private keys.
#[derive(Debug)]
struct RingNoKeys;

impl rustls::crypto::SecureRandom for RingNoKeys {
    fn fill(&self, buf: &mut [u8]) -> std::result::Result<(), rustls::crypto::GetRandomFailed> {
        use ring::rand::SecureRandom;
        ring::rand::SystemRandom::new()
            .fill(buf)
            .map_err(|_| rustls::crypto::GetRandomFailed)
    }
}

impl rustls::crypto::KeyProvider for RingNoKeys {
    fn load_private_key(
        &self,
        _key: rustls::pki_types::PrivateKeyDer<'static>,
    ) -> std::result::Result<Arc<dyn rustls::sign::SigningKey>, rustls::Error> {
        Err(rustls::Error::General("no client certificates".into()))
    }
}

/// The verifier for the system's trust plus `extra`.
#[cfg(all(unix, not(target_os = "android"), not(target_vendor = "apple")))]
fn verifier(extra: &[CertificateDer<'static>]) -> Result<Arc<dyn ServerCertVerifier>> {
    /// The system's CA bundle, read once per process.
    static SYSTEM: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    let system = SYSTEM.get_or_init(|| rustls_native_certs::load_native_certs().certs);
    webpki_verifier(system_or_bundled(system), extra)
}

#[cfg(target_vendor = "apple")]
fn verifier(extra: &[CertificateDer<'static>]) -> Result<Arc<dyn ServerCertVerifier>> {
    let v = rustls_platform_verifier::Verifier::new_with_extra_roots(extra.to_vec(), provider())
        .map_err(tls_setup_error)?;
    Ok(Arc::new(v))
}

#[cfg(windows)]
fn verifier(extra: &[CertificateDer<'static>]) -> Result<Arc<dyn ServerCertVerifier>> {
    let system: Arc<dyn ServerCertVerifier> =
        Arc::new(rustls_platform_verifier::Verifier::new(provider()).map_err(tls_setup_error)?);
    if extra.is_empty() {
        return Ok(system);
    }
    let extra = webpki_verifier(rustls::RootCertStore::empty(), extra)?;
    Ok(Arc::new(SystemOrExtra { system, extra }))
}

/// The system's verifier first; a chain it refuses is then checked against
/// the client's extra CAs alone (WebPKI: signatures, validity dates, name,
/// server-auth usage). A certificate the system reports revoked stays
/// refused. When both refuse, the error is the system's, unless the chain
/// does lead to an extra CA and fails there for another reason (its name,
/// its dates): that is the one the caller can act on.
#[cfg_attr(not(windows), allow(dead_code))] // Windows; the tests on every platform
#[derive(Debug)]
struct SystemOrExtra {
    system: Arc<dyn ServerCertVerifier>,
    extra: Arc<dyn ServerCertVerifier>,
}

impl ServerCertVerifier for SystemOrExtra {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let system = self.system.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        system_or_extra(system, || {
            self.extra.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            )
        })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.extra.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.extra.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.extra.supported_verify_schemes()
    }
}

#[cfg(not(any(
    all(unix, not(target_os = "android"), not(target_vendor = "apple")),
    target_vendor = "apple",
    windows
)))]
fn verifier(extra: &[CertificateDer<'static>]) -> Result<Arc<dyn ServerCertVerifier>> {
    webpki_verifier(system_or_bundled(&[]), extra)
}

/// [`SystemOrExtra`]'s choice: the system's answer when it accepts or
/// reports a revocation; otherwise the extra CAs' (asked only then), unless
/// the chain does not lead to them either (then the system's error).
fn system_or_extra<T>(
    system: std::result::Result<T, rustls::Error>,
    extra: impl FnOnce() -> std::result::Result<T, rustls::Error>,
) -> std::result::Result<T, rustls::Error> {
    use rustls::{CertificateError as C, Error as E};
    match system {
        Ok(ok) => Ok(ok),
        Err(e @ E::InvalidCertificate(C::Revoked)) => Err(e),
        Err(system) => match extra() {
            Ok(ok) => Ok(ok),
            Err(E::InvalidCertificate(C::UnknownIssuer)) => Err(system),
            Err(e) => Err(e),
        },
    }
}

/// The system's roots, or the bundled Mozilla roots when the system gave
/// none that parse.
fn system_or_bundled(system: &[CertificateDer<'static>]) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(system.iter().cloned());
    if roots.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    roots
}

fn bundled_verifier() -> Result<Arc<dyn ServerCertVerifier>> {
    webpki_verifier(system_or_bundled(&[]), &[])
}

/// A WebPKI verifier over `roots` plus `extra`.
fn webpki_verifier(
    mut roots: rustls::RootCertStore,
    extra: &[CertificateDer<'static>],
) -> Result<Arc<dyn ServerCertVerifier>> {
    for cert in extra {
        roots.add(cert.clone()).map_err(tls_setup_error)?;
    }
    let v =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| Error::new(ErrorKind::Tls, format!("cannot set up TLS: {e}")))?;
    Ok(v)
}

fn tls_setup_error(e: rustls::Error) -> Error {
    Error::new(ErrorKind::Tls, format!("cannot set up TLS: {e}"))
}

/// The rustls configuration for a client trusting the system plus `extra`.
/// Without extra CAs the verifier (the parsed system store) is built once
/// per process and shared; each client has its own configuration (and
/// session cache).
pub(crate) fn client_config(extra: &[CertificateDer<'static>]) -> Result<Arc<ClientConfig>> {
    static SYSTEM: OnceLock<Arc<dyn ServerCertVerifier>> = OnceLock::new();
    let verifier = if !extra.is_empty() {
        verifier(extra)?
    } else if let Some(v) = SYSTEM.get() {
        v.clone()
    } else {
        // A system store that cannot be used at all: the bundled roots.
        let v = verifier(&[]).or_else(|_| bundled_verifier())?;
        SYSTEM.get_or_init(|| v).clone()
    };
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_setup_error)?
        .dangerous() // a verifier of our choice, never a disabled one
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Words for a certificate the handshake refused.
pub(crate) fn describe(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "the server's certificate is not valid for this host name".to_owned()
            }
            C::Expired | C::ExpiredContext { .. } => {
                "the server's certificate has expired".to_owned()
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet".to_owned()
            }
            C::UnknownIssuer => "the server's certificate is not signed by a trusted CA \
                 (a company CA can be added to the client's trust)"
                .to_owned(),
            C::Revoked => "the server's certificate is revoked".to_owned(),
            other => format!("the server's certificate was refused: {other:?}"),
        },
        other => other.to_string(),
    }
}

/// The rustls error inside an I/O error, if that is what it is.
pub(crate) fn rustls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

/// Wraps a connection to an `https` URL in TLS with the client's trust.
/// The trust (the system's store, read once per process) is set up at the
/// first TLS connection, not before: a client that never speaks TLS never
/// reads it.
pub(crate) struct TlsConnector {
    extra: Vec<CertificateDer<'static>>,
    config: OnceLock<std::result::Result<Arc<ClientConfig>, String>>,
    /// The connections' input and output buffers, kept from one connection
    /// to the next (graph/buffers.rs).
    buffers: Arc<BufferPool>,
}

impl TlsConnector {
    pub(crate) fn new(
        extra: Vec<CertificateDer<'static>>,
        buffers: Arc<BufferPool>,
    ) -> TlsConnector {
        TlsConnector {
            extra,
            config: OnceLock::new(),
            buffers,
        }
    }

    fn config(&self) -> std::result::Result<Arc<ClientConfig>, ureq::Error> {
        self.config
            .get_or_init(|| client_config(&self.extra).map_err(|e| e.message))
            .clone()
            .map_err(|m| ureq::Error::Io(std::io::Error::other(m)))
    }
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector").finish_non_exhaustive()
    }
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> std::result::Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details
            .uri
            .host()
            .ok_or(ureq::Error::Tls("a URL without a host"))?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| ureq::Error::Tls("the host is not a valid TLS server name"))?;
        // As an I/O error (what ureq's own rustls connector would make of it
        // is `ureq::Error::Rustls`, a variant only its `rustls` feature has);
        // `rustls_error` finds it there.
        let mut conn = ClientConnection::new(self.config()?, name)
            .map_err(|e| ureq::Error::Io(std::io::Error::other(e)))?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        conn.complete_io(&mut sock)?;
        Ok(Some(Either::B(TlsTransport {
            buffers: self.buffers.buffers(),
            stream: StreamOwned { conn, sock },
        })))
    }
}

pub(crate) struct TlsTransport {
    buffers: PooledBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTransport").finish_non_exhaustive()
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(
        &mut self,
        amount: usize,
        timeout: NextTimeout,
    ) -> std::result::Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> std::result::Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let n = self.stream.read(input)?;
        self.buffers.input_appended(n);
        Ok(n > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOT_PEM: &[u8] = b"hello";

    /// Each refusal a user meets has its own words; the rest say what
    /// rustls said.
    #[test]
    fn refused_certificates_are_described() {
        use rustls::CertificateError as C;
        let cases = [
            (C::NotValidForName, "not valid for this host name"),
            (C::Expired, "has expired"),
            (C::NotValidYet, "not valid yet"),
            (C::UnknownIssuer, "not signed by a trusted CA"),
            (C::Revoked, "is revoked"),
            (C::BadSignature, "was refused: BadSignature"),
        ];
        for (c, words) in cases {
            let d = describe(&rustls::Error::InvalidCertificate(c));
            assert!(d.contains(words), "{d}");
        }
        let other = rustls::Error::General("boom".into());
        assert_eq!(describe(&other), other.to_string());
    }

    #[test]
    fn pem_without_certificates_is_refused() {
        assert_eq!(
            parse_pem(NOT_PEM).unwrap_err().kind,
            ErrorKind::InvalidArgument
        );
        assert_eq!(parse_pem(b"").unwrap_err().kind, ErrorKind::InvalidArgument);
        let garbage = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(
            parse_pem(garbage).unwrap_err().kind,
            ErrorKind::InvalidArgument
        );
        let truncated = b"-----BEGIN CERTIFICATE-----\nMIIB";
        assert!(parse_pem(truncated).is_err());
    }

    #[test]
    fn an_empty_system_store_falls_back_to_the_bundled_roots() {
        let roots = system_or_bundled(&[]);
        assert_eq!(roots.len(), webpki_roots::TLS_SERVER_ROOTS.len());
        // junk from the system is ignored, and then the fallback applies
        let junk = [CertificateDer::from(vec![1u8, 2, 3])];
        assert_eq!(
            system_or_bundled(&junk).len(),
            webpki_roots::TLS_SERVER_ROOTS.len()
        );
    }

    /// The certificate of a CA named `ca_name` and a leaf for `name` it signed.
    fn ca_and_leaf(
        ca_name: &str,
        name: &str,
    ) -> (CertificateDer<'static>, CertificateDer<'static>) {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.distinguished_name.push(DnType::CommonName, ca_name);
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf = CertificateParams::new(vec![name.to_owned()]).unwrap();
        leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
        (ca_cert.der().clone(), leaf_cert.der().clone())
    }

    #[test]
    fn the_extra_cas_take_a_chain_the_system_refuses() {
        use rustls::{CertificateError as C, Error as E};
        let (ca, leaf) = ca_and_leaf("Company CA", "files.example");
        let (_, stranger) = ca_and_leaf("Another CA", "files.example");
        let extra = webpki_verifier(rustls::RootCertStore::empty(), &[ca]).unwrap();
        let check = |v: &SystemOrExtra, cert: &CertificateDer<'_>, name: &str| {
            let name = ServerName::try_from(name.to_owned()).unwrap();
            let now = rustls::pki_types::UnixTime::now();
            v.verify_server_cert(cert, &[], &name, &[], now).map(|_| ())
        };
        // the real system store (here the bundled roots) does not know the CA
        let v = SystemOrExtra {
            system: bundled_verifier().unwrap(),
            extra,
        };
        assert_eq!(check(&v, &leaf, "files.example"), Ok(()));
        // a chain to the extra CA for another name: that error, not the system's
        assert!(matches!(
            check(&v, &leaf, "other.example"),
            Err(E::InvalidCertificate(
                C::NotValidForName | C::NotValidForNameContext { .. }
            ))
        ));
        // a CA nobody trusts: the system's answer
        assert_eq!(
            check(&v, &stranger, "files.example"),
            Err(E::InvalidCertificate(C::UnknownIssuer))
        );
    }

    #[test]
    fn the_system_answer_stands_when_it_accepts_or_knows_of_a_revocation() {
        use rustls::{CertificateError as C, Error as E};
        let never = || -> std::result::Result<(), E> { panic!("the extra CAs were asked") };
        assert_eq!(system_or_extra(Ok(()), never), Ok(()));
        // what the system knows to be revoked, no extra CA brings back
        let revoked = E::InvalidCertificate(C::Revoked);
        assert_eq!(system_or_extra(Err(revoked.clone()), never), Err(revoked));
        // any other refusal (Wine's revocation failure is an `Other`): the extra CAs decide
        let engine = E::General("chain engine failed".into());
        assert_eq!(system_or_extra(Err(engine.clone()), || Ok(())), Ok(()));
        let unknown = E::InvalidCertificate(C::UnknownIssuer);
        assert_eq!(
            system_or_extra::<()>(Err(engine.clone()), || Err(unknown.clone())),
            Err(engine)
        );
        let expired = E::InvalidCertificate(C::Expired);
        assert_eq!(
            system_or_extra::<()>(Err(unknown), || Err(expired.clone())),
            Err(expired)
        );
    }

    #[test]
    fn a_client_config_without_extra_cas_builds() {
        client_config(&[]).unwrap();
        bundled_verifier().unwrap();
    }
}
