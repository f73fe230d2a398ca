//! The one place requests are sent from: the token rule, retries,
//! Retry-After, timeouts, cancellation and upload progress.
//!
//! Retry rules:
//! - 429 and 503 are retried for every method (the service did not act),
//!   waiting for Retry-After, or backing off when it is absent, as long as
//!   the policy's attempts and total wait allow.
//! - Other 5xx and network errors are retried only for requests marked
//!   [`Retry::Idempotent`]; a POST the service may have acted on is never
//!   sent twice. Failures to connect are retried for every request (nothing
//!   was sent).
//! - A 401 is retried once after the token callback gave a fresh token.

use std::cell::{RefCell, RefMut};
use std::io::Read;
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use rustls::pki_types::CertificateDer;
use ureq::http;
use ureq::unversioned::transport::{
    ConnectProxyConnector, Connector, SocksConnector, TcpConnector,
};

use super::control::Control;
use super::error::{Error, ErrorKind, Result};
use super::log::{Log, LogLevel};
use super::rate::Throttle;
use super::settings::{
    ClientConfig, RetryPolicy, Settings, UploadSettings, validate_upload_settings,
};
use super::tls::{self, TlsConnector};
use super::token::{AccessToken, Tokens};
use super::url::{Origin, for_log, redact};
use super::wire::{self, CancellableConnector, LiteralsFirst, with_cancel};

/// Which failures a request may be repeated after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Safe to repeat after any failure (GET, DELETE, PUT that replaces).
    Idempotent,
    /// Only after answers that prove nothing was done (429, 503, connect failures).
    OnlyUnacted,
}

/// Whether the bearer token goes with the request. It goes only to the API
/// origin, whatever this says: see [`Transport::may_carry_token`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    Bearer,
    /// Monitor URLs, upload URLs: pre-authorized, a token there is refused.
    None,
}

/// A request body that is produced while it is sent (an upload chunk read
/// from its source), and can start over for another attempt.
pub(crate) trait BodySource {
    fn len(&self) -> u64;
    /// Back to the first byte (an error when the source cannot go back).
    fn rewind(&mut self) -> Result<()>;
    fn read(&mut self, buf: &mut [u8]) -> Result<usize>;
}

/// What a request sends.
#[derive(Clone, Copy)]
pub(crate) enum Body<'a> {
    Bytes(&'a [u8]),
    Stream(&'a RefCell<dyn BodySource + 'a>),
}

impl Body<'_> {
    fn len(&self) -> u64 {
        match self {
            Body::Bytes(b) => b.len() as u64,
            Body::Stream(s) => s.borrow().len(),
        }
    }
}

pub(crate) struct Request<'a> {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body<'a>,
    pub auth: Auth,
    pub retry: Retry,
    /// Report upload progress of the body through the control's callback,
    /// as `(offset + sent, total)`.
    pub progress: Option<(u64, u64)>,
    /// A 500 with a Graph error body is the final answer, not a blip to
    /// retry (monitor URLs report a failed job that way).
    pub graph_error_is_final: bool,
    /// Attempts at most, whatever the retry policy allows (a cleanup
    /// makes one).
    pub attempts: Option<u32>,
    /// Replaces the client's stall timeout for this request (a cleanup
    /// waits briefly).
    pub timeout: Option<Duration>,
    /// Raised cancel flag or not, wait this long for the answer of a request
    /// already sent: one whose answer names something to clean up (a new
    /// upload session). Zero for every other request.
    pub grace_on_cancel: Duration,
}

impl<'a> Request<'a> {
    pub fn new(method: &'static str, url: String, auth: Auth, retry: Retry) -> Request<'a> {
        Request {
            method,
            url,
            headers: Vec::new(),
            body: Body::Bytes(&[]),
            auth,
            retry,
            progress: None,
            graph_error_is_final: false,
            attempts: None,
            timeout: None,
            grace_on_cancel: Duration::ZERO,
        }
    }

    pub fn json(mut self, body: &'a [u8]) -> Request<'a> {
        self.headers
            .push(("Content-Type", "application/json".to_owned()));
        self.body = Body::Bytes(body);
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Request<'a> {
        self.headers.push((name, value.into()));
        self
    }
}

/// An answer, read whole (bodies here are JSON, small).
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub location: Option<String>,
    pub request_id: Option<String>,
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
    /// Which token the request carried (see `Tokens::refresh`).
    pub token_serial: u64,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The answer as an error (for statuses the caller did not expect).
    pub fn error(&self) -> Error {
        Error::from_response(
            self.status,
            &self.body,
            self.request_id.clone(),
            self.retry_after,
        )
    }

    /// `Ok(self)` for a 2xx, the answer as an error otherwise.
    pub fn success(self) -> Result<Response> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(self.error())
        }
    }

    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            let mut err =
                Error::protocol(format!("HTTP {}: the body is not JSON: {e}", self.status));
            err.http_status = Some(self.status);
            err.request_id = self.request_id.clone();
            err
        })
    }
}

/// What every request goes through: the HTTP agent, the token and its
/// rule, the settings read at the start of each request.
pub(crate) struct Transport {
    /// The base URL without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) api_origin: Origin,
    allow_insecure_http: bool,
    pub(crate) tokens: Tokens,
    pub(crate) settings: RwLock<Settings>,
    pub(crate) upload: RwLock<UploadSettings>,
    net: RwLock<Net>,
    pub(crate) log: Log,
    pub(crate) throttle: Throttle,
}

/// How a client reaches the network: the agent (its connection pool), and
/// the proxy and extra CAs it was built with. A change builds a new agent
/// (requests under way finish on the old one).
struct Net {
    agent: ureq::Agent,
    /// Set by the caller: used for every target, loopback included.
    /// `None`: a proxy from the environment, never for loopback targets.
    proxy: Option<ureq::Proxy>,
    extra_cas: Vec<CertificateDer<'static>>,
}

impl Net {
    fn new(proxy: Option<ureq::Proxy>, extra_cas: Vec<CertificateDer<'static>>) -> Net {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .accept("application/json")
            .max_idle_connections_per_host(16);
        if proxy.is_some() {
            config = config.proxy(proxy.clone());
        }
        // SOCKS or an HTTP CONNECT tunnel when a proxy says so, TCP, TLS
        // with the client's trust (graph/tls.rs), and every connection
        // seeing the caller's cancel flag (graph/wire.rs).
        let connector =
            ().chain(SocksConnector::default())
                .chain(ConnectProxyConnector::default())
                .chain(TcpConnector::default())
                .chain(TlsConnector::new(extra_cas.clone()))
                .chain(CancellableConnector);
        let agent = ureq::Agent::with_parts(config.build(), connector, LiteralsFirst::default());
        Net {
            agent,
            proxy,
            extra_cas,
        }
    }
}

impl Transport {
    pub(crate) fn new(config: ClientConfig) -> Result<Transport> {
        let base_url = config.base_url.trim_end_matches('/').to_owned();
        let api_origin = Origin::of(&base_url)?;
        if base_url.contains(['?', '#']) {
            return Err(Error::invalid(
                "the base URL may not carry a query or fragment",
            ));
        }
        validate_upload_settings(&config.upload)?;
        if config.retry.max_attempts == 0 {
            return Err(Error::invalid("retry attempts must be at least 1"));
        }
        let extra_cas = match config.extra_ca_pem.as_slice() {
            [] => Vec::new(),
            pem => tls::parse_pem(pem)?,
        };
        let transport = Transport {
            net: RwLock::new(Net::new(None, extra_cas)),
            log: Log::new(),
            throttle: Throttle::new(),
            base_url,
            api_origin,
            allow_insecure_http: config.allow_insecure_http,
            tokens: Tokens::new(AccessToken::new(config.token, None), config.token_provider),
            settings: RwLock::new(Settings {
                user_agent: config.user_agent,
                connect_timeout: config.connect_timeout,
                request_timeout: config.request_timeout,
                retry: config.retry,
            }),
            upload: RwLock::new(config.upload),
        };
        transport.check_url(&transport.base_url)?;
        Ok(transport)
    }

    /// Sends every request through `proxy` from now on (`None`: back to a
    /// proxy from the environment, never used for loopback targets).
    pub(crate) fn set_proxy(&self, proxy: Option<&str>) -> Result<()> {
        let proxy = proxy.map(parse_proxy).transpose()?;
        let mut net = self.net.write().unwrap_or_else(PoisonError::into_inner);
        *net = Net::new(proxy, net.extra_cas.clone());
        Ok(())
    }

    /// Trusts the CAs in `pem` too, from the next connection on.
    pub(crate) fn add_cas(&self, pem: &[u8]) -> Result<()> {
        let certs = tls::parse_pem(pem)?;
        let mut net = self.net.write().unwrap_or_else(PoisonError::into_inner);
        let mut extra = net.extra_cas.clone();
        extra.extend(certs);
        *net = Net::new(net.proxy.clone(), extra);
        Ok(())
    }

    fn agent(&self) -> (ureq::Agent, bool) {
        let net = self.net.read().unwrap_or_else(PoisonError::into_inner);
        (net.agent.clone(), net.proxy.is_some())
    }

    pub(crate) fn upload_settings(&self) -> UploadSettings {
        *self.upload.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn settings(&self) -> Settings {
        self.settings
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The token goes to the API origin only: never to a monitor URL, an
    /// upload URL, or any other host a redirect names.
    pub(crate) fn may_carry_token(&self, url: &str) -> bool {
        Origin::of(url).is_ok_and(|o| o == self.api_origin)
    }

    /// Refuses URLs this client will not talk to: not http(s), or plain
    /// HTTP to a host other than loopback (unless allowed by the config).
    pub(crate) fn check_url(&self, url: &str) -> Result<()> {
        let origin = Origin::of(url)?;
        if origin.scheme == "http" && !origin.is_loopback_ip() && !self.allow_insecure_http {
            return Err(Error::invalid(format!(
                "refusing plain HTTP to {}: use https, or allow insecure HTTP in the client's config",
                origin.host
            )));
        }
        Ok(())
    }

    /// `base_url` + a path that starts with `/`.
    pub(crate) fn api_url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

/// Largest answer body read into memory. Graph's answers here are small
/// JSON documents (an item, a job status, an upload session, an error): a
/// few KiB. Parsed into a JSON tree, a body takes at most about 32 times
/// its size (a `[0,0,…]` array: a 32-byte value per 2 bytes of text, plus
/// growth), so no answer makes the process allocate more than ~8 MiB.
pub(crate) const MAX_BODY: u64 = 256 * 1024;

/// The slowest transfer a request's total deadline allows for its body:
/// a request may take its stall timeout plus its size at this rate.
const SLOWEST_RATE: u64 = 16 * 1024;

impl Transport {
    /// Sends `req`, retrying as the module doc says. Any HTTP answer is
    /// `Ok` (check the status); `Err` is for what never got an answer.
    pub(crate) fn send(&self, req: &Request<'_>, ctl: &mut Control<'_>) -> Result<Response> {
        self.check_url(&req.url)?;
        let mut policy = self.settings().retry;
        if let Some(n) = req.attempts {
            policy.max_attempts = policy.max_attempts.min(n);
        }
        let started = Instant::now();
        let mut waited = Duration::ZERO;
        let mut refreshed = false;
        let mut attempt = 0u32;
        loop {
            ctl.check()?;
            attempt += 1;
            let more = attempt < policy.max_attempts.max(1);
            let sent_at = Instant::now();
            let outcome = self.send_once(req, ctl);
            self.log_outcome(req, &outcome, attempt, sent_at.elapsed());
            let delay = match &outcome {
                Ok(resp) if resp.status == 401 && req.auth == Auth::Bearer && !refreshed => {
                    refreshed = true;
                    // Shared with other requests that got their 401 with
                    // the same token: one callback call for all of them.
                    if self.tokens.refresh(resp.token_serial) {
                        continue;
                    }
                    None
                }
                Ok(resp) if matches!(resp.status, 429 | 503) => Some(
                    resp.retry_after
                        .unwrap_or_else(|| backoff(&policy, attempt)),
                ),
                Ok(resp)
                    if matches!(resp.status, 500 | 502 | 504)
                        && req.retry == Retry::Idempotent
                        && !(req.graph_error_is_final && has_graph_error(&resp.body)) =>
                {
                    Some(backoff(&policy, attempt))
                }
                Ok(_) => None,
                Err(e) if e.code.as_deref() == Some(PAST_DEADLINE) => None,
                Err(e) if e.kind == ErrorKind::Network || e.kind == ErrorKind::Timeout => {
                    let unsent = e.code.as_deref() == Some(NOT_CONNECTED);
                    (unsent || req.retry == Retry::Idempotent).then(|| backoff(&policy, attempt))
                }
                Err(_) => None,
            };
            match delay {
                Some(d) if more && waited + d <= policy.max_wait => {
                    self.log.write(LogLevel::Warn, || {
                        format!(
                            "retrying {} {} in {:.1} s (attempt {} of {}): {}",
                            req.method,
                            for_log(&req.url, &self.api_origin),
                            d.as_secs_f64(),
                            attempt + 1,
                            policy.max_attempts,
                            match &outcome {
                                Ok(resp) => format!("HTTP {}", resp.status),
                                Err(e) => e.message.clone(),
                            }
                        )
                    });
                    ctl.sleep(d)?;
                    waited += d;
                }
                _ => {
                    if let Err(e) = &outcome
                        && e.kind != ErrorKind::Cancelled
                    {
                        self.log.write(LogLevel::Error, || {
                            format!(
                                "{} {} failed after {attempt} attempt(s): {}",
                                req.method,
                                for_log(&req.url, &self.api_origin),
                                e.message
                            )
                        });
                    }
                    return outcome.map_err(|mut e| {
                        if attempt > 1 {
                            e.message = format!(
                                "{} (after {attempt} attempts in {:.1} s)",
                                e.message,
                                started.elapsed().as_secs_f64()
                            );
                        }
                        e
                    });
                }
            }
        }
    }

    /// One line per attempt: method, where (no query, no capability),
    /// status or failure, duration, attempt, request-id.
    fn log_outcome(
        &self,
        req: &Request<'_>,
        outcome: &Result<Response>,
        attempt: u32,
        took: Duration,
    ) {
        let level = match outcome {
            Ok(_) => LogLevel::Info,
            Err(e) if e.kind == ErrorKind::Cancelled => LogLevel::Info,
            Err(_) => LogLevel::Warn,
        };
        self.log.write(level, || {
            let what = match outcome {
                Ok(resp) => format!("{}", resp.status),
                Err(e) => format!("failed: {}", e.message),
            };
            let id = match outcome {
                Ok(Response {
                    request_id: Some(id),
                    ..
                }) => format!(", request-id {id}"),
                _ => String::new(),
            };
            format!(
                "{} {} -> {what} in {} ms (attempt {attempt}{id})",
                req.method,
                for_log(&req.url, &self.api_origin),
                took.as_millis()
            )
        });
    }

    fn send_once(&self, req: &Request<'_>, ctl: &mut Control<'_>) -> Result<Response> {
        let settings = self.settings();
        let mut builder = http::Request::builder()
            .method(req.method)
            .uri(&req.url)
            .header("User-Agent", settings.user_agent.as_str());
        for (name, value) in &req.headers {
            builder = builder.header(*name, value);
        }
        let mut token_serial = 0;
        if req.auth == Auth::Bearer && self.may_carry_token(&req.url) {
            let (token, serial) = self.tokens.for_request();
            token_serial = serial;
            if !token.is_empty() {
                builder = builder.header("Authorization", format!("Bearer {token}"));
            }
        }
        let len = req.body.len();
        let stall = req.timeout.unwrap_or(settings.request_timeout);
        // A request with its own (short) timeout waits no longer to connect.
        let connect = req.timeout.map_or(settings.connect_timeout, |t| {
            t.min(settings.connect_timeout)
        });
        // A total deadline besides the stall timeout: a peer that trickles
        // cannot keep a request alive for ever. It is checked between the
        // reads and writes of the body (each bounded by the stall timeout;
        // not ureq's global timeout, whose resolver thread outlives calls).
        let slowest = match self.throttle.rate() {
            0 => SLOWEST_RATE,
            cap => cap.min(SLOWEST_RATE),
        };
        let total = connect + stall.saturating_mul(2) + Duration::from_secs(len / slowest);
        let deadline = Instant::now() + total;
        let cancel = ctl.cancel;
        let mut reader = ProgressReader {
            body: match req.body {
                Body::Bytes(data) => Cursor::Bytes(data, 0),
                Body::Stream(cell) => {
                    let mut source = cell.borrow_mut();
                    source.rewind()?;
                    Cursor::Stream(source)
                }
            },
            sent: 0,
            progress: req.progress,
            ctl,
            stopped: None,
            deadline,
            url: &req.url,
            throttle: &self.throttle,
        };
        let (agent, proxied) = self.agent();
        let result = {
            let body = ureq::SendBody::from_reader(&mut reader);
            let request = builder
                .header("Content-Length", len.to_string())
                .body(body)
                .map_err(|e| {
                    Error::invalid(format!(
                        "cannot build a request for {}: {e}",
                        redact(&req.url)
                    ))
                })?;
            let mut config = agent
                .configure_request(request)
                .timeout_connect(Some(connect))
                .timeout_recv_response(Some(stall))
                .timeout_per_read(Some(stall))
                .timeout_per_write(Some(stall));
            // A proxy from the environment never carries loopback traffic
            // (a token meant for a local service would go to the proxy); a
            // proxy the caller set carries everything.
            if !proxied && Origin::of(&req.url).is_ok_and(|o| o.is_loopback()) {
                config = config.proxy(None);
            }
            with_cancel(cancel, req.grace_on_cancel, || agent.run(config.build()))
        };
        if let Some(stop) = reader.stopped.take() {
            return Err(stop);
        }
        let ctl = reader.ctl;
        // A wait cut short by the cancel flag (graph/wire.rs) is a cancel.
        if result.is_err() || req.grace_on_cancel.is_zero() {
            ctl.check()?;
        }
        let mut resp = result.map_err(|e| transport_error(e, &req.url, proxied))?;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let status = resp.status().as_u16();
        let location = header("location");
        let request_id = header("request-id").or_else(|| header("client-request-id"));
        let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v));
        let body = with_cancel(cancel, req.grace_on_cancel, || {
            read_body(resp.body_mut(), deadline, &req.url)
        })?;
        Ok(Response {
            status,
            location,
            request_id,
            retry_after,
            body,
            token_serial,
        })
    }
}

/// Reads an answer's body: at most [`MAX_BODY`] bytes, before the
/// request's deadline, stopping when the caller cancels (checked after
/// every read, which returns at least every stall timeout).
fn read_body(body: &mut ureq::Body, deadline: Instant, url: &str) -> Result<Vec<u8>> {
    let mut reader = body.with_config().limit(MAX_BODY).reader();
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if wire::cancelled() {
            return Err(Error::cancelled());
        }
        if Instant::now() >= deadline {
            let mut e = Error::new(
                ErrorKind::Timeout,
                format!("the answer from {} did not end in time", redact(url)),
            );
            // A peer that trickles would trickle again: not retried.
            e.code = Some(PAST_DEADLINE.to_owned());
            return Err(e);
        }
        let n = reader.read(&mut buf).map_err(|e| {
            match e.get_ref().and_then(|r| r.downcast_ref::<ureq::Error>()) {
                Some(ureq::Error::Timeout(_)) => Error::new(
                    ErrorKind::Timeout,
                    format!("reading the answer from {}: {e}", redact(url)),
                ),
                Some(ureq::Error::BodyExceedsLimit(_)) => Error::protocol(format!(
                    "the answer from {} is larger than {MAX_BODY} bytes",
                    redact(url)
                )),
                _ if e.kind() == std::io::ErrorKind::TimedOut => Error::new(
                    ErrorKind::Timeout,
                    format!("reading the answer from {}: {e}", redact(url)),
                ),
                _ => Error::new(
                    ErrorKind::Network,
                    format!("reading the answer from {}: {e}", redact(url)),
                ),
            }
        })?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Marks a transport error that happened before anything was sent.
const NOT_CONNECTED: &str = "notConnected";
/// Marks a request that ran past its total deadline: never retried.
const PAST_DEADLINE: &str = "pastDeadline";
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

fn transport_error(e: ureq::Error, url: &str, proxied: bool) -> Error {
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
    let (kind, unsent) = match &e {
        U::Timeout(t) => (
            ErrorKind::Timeout,
            matches!(t, ureq::Timeout::Connect | ureq::Timeout::Resolve),
        ),
        U::HostNotFound | U::ConnectionFailed => (ErrorKind::Network, true),
        U::BadUri(_) | U::Http(_) => (ErrorKind::InvalidArgument, false),
        U::BodyExceedsLimit(_) => (ErrorKind::Protocol, false),
        U::Protocol(_) => (ErrorKind::Network, false),
        U::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            (ErrorKind::Network, true)
        }
        U::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => (ErrorKind::Timeout, false),
        _ => (ErrorKind::Network, false),
    };
    let mut err = Error::new(kind, format!("{}: {e}", redact(url)));
    if unsent {
        err.code = Some(NOT_CONNECTED.to_owned());
    }
    err
}

/// A proxy URL the caller gave: `http://[user:password@]host:port` (HTTP
/// CONNECT tunnels, Basic authentication), `https://…` (TLS to the proxy),
/// `socks5://` or `socks5h://` (names resolved by the proxy), `socks4://`,
/// `socks4a://`.
fn parse_proxy(url: &str) -> Result<ureq::Proxy> {
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

fn has_graph_error(body: &[u8]) -> bool {
    super::error::GraphErrorBody::parse(body).code.is_some()
}

/// Exponential backoff with jitter: base·2^(n-1), capped, ±25 %.
pub(crate) fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let exp = policy
        .base_backoff
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let capped = exp.min(policy.max_backoff);
    let jitter = jitter_fraction(); // in [0.75, 1.25)
    capped.mul_f64(jitter)
}

fn jitter_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded per process; a fresh hasher per call is enough
    // jitter to spread clients that were throttled together.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    0.75 + (h.finish() % 1000) as f64 / 2000.0
}

/// `Retry-After` in seconds (the form Graph sends). An HTTP-date is not
/// trusted (clocks differ): the caller backs off instead.
pub(crate) fn parse_retry_after(v: &str) -> Option<Duration> {
    let secs: f64 = v.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// Where the body's bytes come from while ureq reads it.
enum Cursor<'a> {
    Bytes(&'a [u8], usize),
    Stream(RefMut<'a, dyn BodySource + 'a>),
}

/// The body of a request, read by ureq, reporting progress on the way and
/// stopping the upload when the caller cancels or the callback says stop.
struct ProgressReader<'a, 'c, 'p> {
    body: Cursor<'a>,
    sent: u64,
    progress: Option<(u64, u64)>,
    ctl: &'c mut Control<'p>,
    stopped: Option<Error>,
    deadline: Instant,
    url: &'a str,
    throttle: &'a Throttle,
}

impl Read for ProgressReader<'_, '_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        const STEP: usize = 64 * 1024;
        let stop = |this: &mut Self, e: Error| {
            let msg = e.message.clone();
            this.stopped = Some(e);
            Err(std::io::Error::other(msg))
        };
        if let Err(e) = self.ctl.check() {
            return stop(self, e);
        }
        if Instant::now() >= self.deadline {
            let mut e = Error::new(
                ErrorKind::Timeout,
                format!("sending to {} did not end in time", redact(self.url)),
            );
            e.code = Some(PAST_DEADLINE.to_owned());
            return stop(self, e);
        }
        let step = self.throttle.step(buf.len().min(STEP));
        let n = match &mut self.body {
            Cursor::Bytes(data, pos) => {
                let n = step.min(data.len() - *pos);
                buf[..n].copy_from_slice(&data[*pos..*pos + n]);
                *pos += n;
                n
            }
            Cursor::Stream(source) => match source.read(&mut buf[..step]) {
                Ok(n) => n,
                Err(e) => return stop(self, e),
            },
        };
        // Under a rate cap, the piece waits for its turn (a cancel ends the
        // wait).
        if let Some(at) = self.throttle.reserve(n as u64, Instant::now()) {
            let wait = at
                .min(self.deadline)
                .saturating_duration_since(Instant::now());
            if let Err(e) = self.ctl.sleep(wait) {
                return stop(self, e);
            }
        }
        self.sent += n as u64;
        if let (Some((offset, total)), true) = (self.progress, n > 0) {
            if let Err(e) = self.ctl.report(offset + self.sent, total) {
                return stop(self, e);
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("NaN"), None);
        assert_eq!(parse_retry_after("1e30"), Some(Duration::from_secs(86_400)));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        let first = backoff(&p, 1);
        assert!(first >= Duration::from_millis(150) && first < Duration::from_millis(250));
        let late = backoff(&p, 30);
        assert!(late <= p.max_backoff.mul_f64(1.25));
        assert!(late >= p.max_backoff.mul_f64(0.75));
    }
}
