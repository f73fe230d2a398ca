//! How a client reaches the network: the ureq agent and its connector
//! chain (SOCKS / CONNECT proxy, TCP, TLS with the client's trust, the
//! cancel flag), and the proxy URLs a caller may give.

use rustls::pki_types::CertificateDer;
use ureq::unversioned::transport::{
    ConnectProxyConnector, Connector, SocksConnector, TcpConnector,
};

use super::buffers::BufferPool;
use super::error::{Error, Result};
use super::tls::TlsConnector;
use super::wire::{CancellableConnector, LiteralsFirst};

/// The agent (its connection pool), and the proxy and extra CAs it was
/// built with. A change builds a new agent (requests under way finish on
/// the old one).
pub(crate) struct Net {
    pub(crate) agent: ureq::Agent,
    /// Set by the caller: used for every target, loopback included.
    /// `None`: a proxy from the environment, never for loopback targets.
    pub(crate) proxy: Option<ureq::Proxy>,
    pub(crate) extra_cas: Vec<CertificateDer<'static>>,
}

/// Each connection's input and output buffers (ureq's defaults, stated).
const INPUT_BUFFER: usize = 128 * 1024;
const OUTPUT_BUFFER: usize = 128 * 1024;
/// Idle connections kept per host.
const IDLE_PER_HOST: usize = 16;
/// Buffers of closed TLS connections kept for the next ones, of each kind:
/// at most 2 MiB held beyond the open connections' own.
const KEPT_BUFFERS: usize = 8;

impl Net {
    pub(crate) fn new(proxy: Option<ureq::Proxy>, extra_cas: Vec<CertificateDer<'static>>) -> Net {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .accept("application/json")
            .input_buffer_size(INPUT_BUFFER)
            .output_buffer_size(OUTPUT_BUFFER)
            .max_idle_connections_per_host(IDLE_PER_HOST);
        if proxy.is_some() {
            config = config.proxy(proxy.clone());
        }
        // SOCKS or an HTTP CONNECT tunnel when a proxy says so, TCP, TLS
        // with the client's trust (graph/tls.rs) and buffers kept from one
        // connection to the next (graph/buffers.rs), and every connection
        // seeing the caller's cancel flag (graph/wire.rs).
        let buffers = BufferPool::new(INPUT_BUFFER, OUTPUT_BUFFER, KEPT_BUFFERS);
        let connector =
            ().chain(SocksConnector::default())
                .chain(ConnectProxyConnector::default())
                .chain(TcpConnector::default())
                .chain(TlsConnector::new(extra_cas.clone(), buffers))
                .chain(CancellableConnector);
        let agent = ureq::Agent::with_parts(config.build(), connector, LiteralsFirst::default());
        Net {
            agent,
            proxy,
            extra_cas,
        }
    }
}

/// A proxy URL the caller gave: `http://[user:password@]host:port` (HTTP
/// CONNECT tunnels, Basic authentication), `https://…` (TLS to the proxy),
/// `socks5://` or `socks5h://` (names resolved by the proxy), `socks4://`,
/// `socks4a://`.
pub(crate) fn parse_proxy(url: &str) -> Result<ureq::Proxy> {
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("http" | "https" | "socks4" | "socks4a" | "socks5" | "socks5h") => {}
        _ => {
            return Err(Error::invalid(
                "a proxy URL starts with http://, https://, socks5://, socks5h://, socks4:// or socks4a://",
            ));
        }
    }
    if url.chars().any(char::is_control) {
        return Err(Error::invalid(
            "a proxy URL may not hold control characters",
        ));
    }
    // The error text never repeats the URL: it may hold a password.
    ureq::Proxy::new(url).map_err(|_| Error::invalid("the proxy URL is not valid"))
}
