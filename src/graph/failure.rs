//! What a request that got no answer failed of: a transport error made
//! into an [`Error`] of the right kind, and how the retry decision sees
//! an error (see `retry`).

use super::error::{Error, ErrorKind, TransportNote};
use super::retry::Failure;
use super::tls;
use super::url::redact;

/// The error of a request that ran past its total deadline (a peer that
/// trickles would trickle again: not retried).
pub(crate) fn past_deadline(message: String) -> Error {
    let mut e = Error::new(ErrorKind::Timeout, message);
    e.note = Some(TransportNote::PastDeadline);
    e
}

/// How the retry decision sees an error.
pub(crate) fn classify(e: &Error) -> Failure {
    match (e.note, e.kind) {
        (Some(TransportNote::PastDeadline), _) => Failure::PastDeadline,
        (Some(TransportNote::NotConnected), ErrorKind::Network | ErrorKind::Timeout) => {
            Failure::Unsent
        }
        (_, ErrorKind::Network | ErrorKind::Timeout) => Failure::Sent,
        _ => Failure::Final,
    }
}

/// The rustls error somewhere inside a transport error, if any.
fn rustls_cause(e: &ureq::Error) -> Option<&rustls::Error> {
    // (Never `ureq::Error::Rustls`: that comes from ureq's own TLS
    // connector, which this crate does not use.)
    let mut cur: Option<&(dyn std::error::Error + 'static)> = match e {
        ureq::Error::Io(io) => Some(io),
        _ => None,
    };
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(r) = tls::rustls_error(io)
        {
            return Some(r);
        }
        cur = err.source();
    }
    None
}

/// A request to `url` that got no answer: TLS, proxy, network or timeout.
pub(crate) fn transport_error(e: ureq::Error, url: &str, proxied: bool) -> Error {
    use ureq::Error as U;
    // A TLS or certificate failure is not a network blip: its own kind,
    // never retried.
    if let Some(r) = rustls_cause(&e) {
        return Error::new(
            ErrorKind::Tls,
            format!("TLS with {} failed: {}", redact(url), tls::describe(r)),
        );
    }
    if let U::Tls(what) = &e {
        return Error::new(
            ErrorKind::Tls,
            format!("TLS with {} failed: {what}", redact(url)),
        );
    }
    match &e {
        // 407, or 401 as some proxies (tinyproxy) answer a CONNECT.
        U::ConnectProxyFailed(reason) if reason.contains(" 407") || reason.contains(" 401") => {
            let code = if reason.contains(" 407") { 407 } else { 401 };
            return Error::new(
                ErrorKind::Proxy,
                format!(
                    "the proxy refused the credentials (HTTP {code}) on the way to {}",
                    redact(url)
                ),
            );
        }
        U::ConnectProxyFailed(reason) if reason.contains("responded") => {
            return Error::new(
                ErrorKind::Proxy,
                format!(
                    "the proxy would not open a tunnel to {}: {reason}",
                    redact(url)
                ),
            );
        }
        U::Io(io) if proxied && io.kind() == std::io::ErrorKind::PermissionDenied => {
            return Error::new(
                ErrorKind::Proxy,
                format!("the SOCKS proxy refused {}: {io}", redact(url)),
            );
        }
        U::InvalidProxyUrl => return Error::invalid("the proxy URL is not valid"),
        _ => {}
    }
    // An answer that is not HTTP at all (a TLS server sent a plain request
    // answers with a TLS alert) will not become HTTP on a retry.
    if let U::Protocol(p) = &e {
        let hint = if url.starts_with("http://") {
            ": the server may speak HTTPS (an https:// URL)"
        } else {
            ""
        };
        return Error::new(
            ErrorKind::Protocol,
            format!("{}: the answer is not HTTP ({p}){hint}", redact(url)),
        );
    }
    let (kind, unsent) = match &e {
        U::Timeout(t) => (
            ErrorKind::Timeout,
            matches!(t, ureq::Timeout::Connect | ureq::Timeout::Resolve),
        ),
        U::HostNotFound | U::ConnectionFailed => (ErrorKind::Network, true),
        U::BadUri(_) | U::Http(_) => (ErrorKind::InvalidArgument, false),
        U::BodyExceedsLimit(_) => (ErrorKind::Protocol, false),
        U::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            (ErrorKind::Network, true)
        }
        U::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => (ErrorKind::Timeout, false),
        _ => (ErrorKind::Network, false),
    };
    let mut err = Error::new(kind, format!("{}: {e}", redact(url)));
    if unsent {
        err.note = Some(TransportNote::NotConnected);
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How the retry decision sees each error: a deadline passed ends it,
    /// nothing sent may be sent again, something sent only when safe.
    #[test]
    fn classify_by_note_and_kind() {
        let with = |kind, note| {
            let mut e = Error::new(kind, "x");
            e.note = note;
            classify(&e)
        };
        use ErrorKind as K;
        let not_connected = Some(TransportNote::NotConnected);
        assert_eq!(with(K::Network, not_connected), Failure::Unsent);
        assert_eq!(with(K::Timeout, not_connected), Failure::Unsent);
        assert_eq!(with(K::Tls, not_connected), Failure::Final);
        assert_eq!(with(K::Network, None), Failure::Sent);
        assert_eq!(with(K::Timeout, None), Failure::Sent);
        assert_eq!(with(K::Io, None), Failure::Final);
        assert_eq!(
            classify(&past_deadline("late".into())),
            Failure::PastDeadline
        );
    }

    /// not to have reached the service (safe to send again).
    #[test]
    fn transport_failures_by_kind() {
        let url = "https://graph.example/v1.0/me/drive";
        let cases = [
            (ureq::Error::HostNotFound, ErrorKind::Network, true),
            (ureq::Error::ConnectionFailed, ErrorKind::Network, true),
            (
                ureq::Error::BadUri("no host".into()),
                ErrorKind::InvalidArgument,
                false,
            ),
            (
                ureq::Error::Timeout(ureq::Timeout::Connect),
                ErrorKind::Timeout,
                true,
            ),
            (
                ureq::Error::Timeout(ureq::Timeout::RecvBody),
                ErrorKind::Timeout,
                false,
            ),
            (
                ureq::Error::Io(std::io::ErrorKind::ConnectionRefused.into()),
                ErrorKind::Network,
                true,
            ),
            (
                ureq::Error::Io(std::io::ErrorKind::ConnectionReset.into()),
                ErrorKind::Network,
                false,
            ),
        ];
        // A SOCKS proxy that refuses the connection: the proxy's answer,
        // not the network's.
        let refused = || ureq::Error::Io(std::io::ErrorKind::PermissionDenied.into());
        assert_eq!(transport_error(refused(), url, true).kind, ErrorKind::Proxy);
        assert_eq!(
            transport_error(refused(), url, false).kind,
            ErrorKind::Network
        );
        // A proxy that answered the CONNECT with an error status.
        let e = ureq::Error::ConnectProxyFailed("proxy responded with 403".into());
        assert_eq!(transport_error(e, url, true).kind, ErrorKind::Proxy);
        for (e, kind, unsent) in cases {
            let what = format!("{e:?}");
            let err = transport_error(e, url, false);
            assert_eq!(err.kind, kind, "{what}");
            assert_eq!(
                err.note == Some(TransportNote::NotConnected),
                unsent,
                "{what}"
            );
        }
    }
}
