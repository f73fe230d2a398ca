//! The one place requests are sent from: the request and answer model,
//! and `Transport::send`, which adds the token (to the API origin only),
//! retries (the decision is `retry::decide`), bounds each request by its
//! stall timeout and total deadline, and sees the caller's cancel flag.
//! The agent and its connectors are in `connect`, failures are classified
//! in `failure`, request bodies are read in `progress`, answers in `body`.

use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use ureq::http;

use super::body;
use super::connect::{self, Net};
use super::control::Control;
use super::error::{Error, ErrorKind, Result};
use super::failure::{self, transport_error};
use super::log::{Log, LogLevel, OneDecimal};
use super::progress::{Meter, ProgressReader};
use super::rate::Throttle;
use super::retry::{Attempt, Decision, Outcome, decide};
use super::settings::{ClientConfig, Settings, UploadSettings, validate_upload_settings};
use super::tls;
use super::token::{AccessToken, Tokens};
use super::url::{Origin, api_subject, for_log, redact};
use super::wire::with_cancel;

pub(crate) use super::progress::{Body, BodySource};
pub(crate) use super::retry::{Retry, backoff};

/// Whether the bearer token goes with the request. It goes only to the API
/// origin, whatever this says: see [`Transport::may_carry_token`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    Bearer,
    /// Monitor URLs, upload URLs: pre-authorized, a token there is refused.
    None,
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
    /// A 2xx answer's body is left for the caller to read as a stream
    /// (`Response::stream`, past the answer cap, paced by the download
    /// rate cap); any other answer is read whole as usual.
    pub stream_answer: bool,
    /// The largest answer read whole (`body::MAX_BODY` unless raised).
    pub answer_cap: u64,
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
            stream_answer: false,
            answer_cap: body::MAX_BODY,
        }
    }

    /// See [`Request::stream_answer`].
    pub fn streamed(mut self) -> Request<'a> {
        self.stream_answer = true;
        self
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

/// An answer, read whole (bodies here are JSON, small), or for a streamed
/// request's 2xx its head with the body still to read.
#[derive(Debug, Default)]
pub(crate) struct Response {
    pub status: u16,
    pub location: Option<String>,
    /// `Content-Range` (a 206's).
    pub content_range: Option<String>,
    /// A streamed request's 2xx body, to read (`body` is then empty).
    pub stream: Option<body::AnswerStream>,
    pub request_id: Option<String>,
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
    /// Which token the request carried (see `Tokens::refresh`).
    pub token_serial: u64,
    /// What a not-found or conflict answer was about: the API path asked
    /// for (never a capability URL), added to the error's message.
    pub subject: Option<String>,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The answer as an error (for statuses the caller did not expect).
    pub fn error(&self) -> Error {
        let mut e = Error::from_response(
            self.status,
            &self.body,
            self.request_id.clone(),
            self.retry_after,
        );
        if let Some(what) = &self.subject {
            e.message = format!("{} (asked for {what})", e.message);
        }
        e
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
    /// The download rate cap, apart from the upload one.
    pub(crate) download_throttle: Throttle,
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
            download_throttle: Throttle::new(),
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
        let proxy = proxy.map(connect::parse_proxy).transpose()?;
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
        self.api_origin.is_origin_of(url)
    }

    /// Refuses URLs this client will not talk to: not http(s), or plain
    /// HTTP to a host other than loopback (unless allowed by the config).
    pub(crate) fn check_url(&self, url: &str) -> Result<()> {
        let origin = Origin::of(url)?;
        if origin.scheme == "http" && !origin.is_loopback_ip() && !self.allow_insecure_http {
            return Err(Error::invalid(format!(
                "refusing plain HTTP to {}: plain http:// is allowed only to the loopback \
                 addresses 127.0.0.0/8 and [::1] (not the name localhost: write 127.0.0.1); \
                 use https, or allow insecure HTTP in the client's config",
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

/// The slowest transfer a request's total deadline allows for its body:
/// a request may take its stall timeout plus its size at this rate, plus
/// the time it waits for the upload rate cap.
const SLOWEST_RATE: u64 = 16 * 1024;

/// A request whose answer has begun: its status and headers are in,
/// its body is still to be read (before `deadline`).
pub(crate) struct Opened {
    pub(crate) answer: http::Response<ureq::Body>,
    /// The request's total deadline, the body's reading included.
    pub(crate) deadline: Instant,
    /// Which token the request carried (see `Tokens::refresh`).
    pub(crate) token_serial: u64,
    /// The token itself: an error answer that echoes it has it blanked
    /// before any error, log line or caller can show it.
    token: Option<String>,
}

impl Opened {
    fn header(&self, name: &str) -> Option<String> {
        self.answer
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The answer, its body read whole by `read`, or left as a stream when
    /// `stream` gives the URL and the slowest rate its deadline allows.
    fn into_response(
        self,
        read: impl FnOnce(&mut ureq::Body, Instant) -> Result<Vec<u8>>,
        stream: Option<(&str, u64)>,
    ) -> Result<Response> {
        let status = self.answer.status().as_u16();
        let location = self.header("location");
        let content_range = self.header("content-range");
        let request_id = self
            .header("request-id")
            .or_else(|| self.header("client-request-id"));
        let retry_after = self
            .header("retry-after")
            .and_then(|v| super::retry::parse_retry_after(&v));
        let (deadline, token_serial) = (self.deadline, self.token_serial);
        let token = self.token;
        let mut answer = self.answer.into_body();
        let (body, stream) = match stream {
            Some((url, slowest)) => {
                // The deadline grows with the size: a download may take its
                // stall timeouts plus its length at the slowest rate.
                let len = answer.content_length().unwrap_or(0);
                let deadline = deadline + Duration::from_secs(len / slowest.max(1));
                let stream = body::AnswerStream::new(answer, deadline, url);
                (Vec::new(), Some(stream))
            }
            None => (read(&mut answer, deadline)?, None),
        };
        let (mut body, mut request_id) = (body, request_id);
        if let Some(token) = token.filter(|_| !(200..300).contains(&status)) {
            blank(&mut body, token.as_bytes());
            if let Some(id) = &mut request_id {
                *id = id.replace(token.as_str(), TOKEN_BLANK);
            }
        }
        Ok(Response {
            status,
            location,
            content_range,
            stream,
            request_id,
            retry_after,
            body,
            token_serial,
            subject: None,
        })
    }
}

impl Transport {
    /// Sends `req`, retrying as `retry` says. Any HTTP answer is `Ok`
    /// (check the status); `Err` is for what never got an answer.
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
            let sent_at = Instant::now();
            let mut outcome = self.send_once(req, ctl);
            self.log_outcome(req, &outcome, attempt, sent_at.elapsed());
            if let Ok(resp) = &mut outcome
                && matches!(resp.status, 404 | 409 | 412)
            {
                resp.subject = api_subject(&req.url, &self.base_url);
            }
            if let Ok(resp) = &outcome
                && resp.status == 401
                && req.auth == Auth::Bearer
                && !refreshed
            {
                refreshed = true;
                // Shared with other requests that got their 401 with the
                // same token: one callback call for all of them.
                let patience = self.settings().request_timeout;
                if self.tokens.refresh(resp.token_serial, ctl, patience)? {
                    continue;
                }
            }
            let seen = match &outcome {
                Ok(resp) => Outcome::Answer {
                    status: resp.status,
                    retry_after: resp.retry_after,
                    final_graph_error: req.graph_error_is_final && has_graph_error(&resp.body),
                },
                Err(e) => Outcome::Failed(failure::classify(e)),
            };
            let now = Attempt {
                number: attempt,
                max: policy.max_attempts,
                wait_left: policy.max_wait.saturating_sub(waited),
                safety: req.retry,
            };
            match decide(&now, &seen, backoff(&policy, attempt)) {
                Decision::Retry { after: d } => {
                    self.log.write(LogLevel::Warn, || {
                        format!(
                            "retrying {} {} in {} s (attempt {} of {}): {}",
                            req.method,
                            for_log(&req.url, &self.api_origin),
                            OneDecimal::secs(d),
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
                Decision::Stop => {
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
                                "{} (after {attempt} attempts in {} s)",
                                e.message,
                                OneDecimal::secs(started.elapsed())
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

    /// One attempt, its answer read whole (at most `req.answer_cap`).
    fn send_once(&self, req: &Request<'_>, ctl: &mut Control<'_>) -> Result<Response> {
        let opened = self.open(req, ctl)?;
        let streamed = req.stream_answer && opened.answer.status().is_success();
        let slowest = match self.download_throttle.rate() {
            0 => SLOWEST_RATE,
            cap => cap.min(SLOWEST_RATE),
        };
        opened.into_response(
            |body, deadline| {
                with_cancel(ctl.cancel, req.grace_on_cancel, || {
                    body::read_capped(body, deadline, &req.url, req.answer_cap)
                })
            },
            streamed.then_some((req.url.as_str(), slowest)),
        )
    }

    /// One attempt up to the answer's status and headers: the request
    /// built (token to the API origin only), its body sent (progress, rate
    /// cap, cancel), the answer's head received.
    fn open(&self, req: &Request<'_>, ctl: &mut Control<'_>) -> Result<Opened> {
        let settings = self.settings();
        let mut builder = http::Request::builder()
            .method(req.method)
            .uri(&req.url)
            .header("User-Agent", settings.user_agent.as_str());
        for (name, value) in &req.headers {
            builder = builder.header(*name, value);
        }
        let mut token_serial = 0;
        let mut sent_token = None;
        if req.auth == Auth::Bearer && self.may_carry_token(&req.url) {
            let (token, serial) = self.tokens.for_request(ctl, settings.request_timeout)?;
            token_serial = serial;
            if !token.is_empty() {
                builder = builder.header("Authorization", format!("Bearer {token}"));
                sent_token = Some(token);
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
        // Waits for the upload rate cap move it on as they happen (Meter).
        let total = connect + stall.saturating_mul(2) + Duration::from_secs(len / SLOWEST_RATE);
        let deadline = Instant::now() + total;
        let cancel = ctl.cancel;
        let meter = Meter::new(&self.throttle, deadline, req.progress);
        let mut reader = ProgressReader::new(req.body, meter, ctl, &req.url)?;
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
        let deadline = reader.meter.deadline();
        let ctl = reader.ctl;
        // A wait cut short by the cancel flag (graph/wire.rs) is a cancel.
        if result.is_err() || req.grace_on_cancel.is_zero() {
            ctl.check()?;
        }
        let answer = result.map_err(|e| transport_error(e, &req.url, proxied))?;
        Ok(Opened {
            answer,
            deadline,
            token_serial,
            token: sent_token,
        })
    }
}

/// What an echoed token is replaced with.
const TOKEN_BLANK: &str = "[token]";

/// Replaces every occurrence of `token` in `body` with [`TOKEN_BLANK`]:
/// an error answer that echoes the bearer token (a broken proxy or
/// gateway) must not carry it into an error message or a log line.
fn blank(body: &mut Vec<u8>, token: &[u8]) {
    let Some(&first) = token.first() else {
        return;
    };
    let mut at = 0;
    while let Some(i) = body[at..].iter().position(|&b| b == first) {
        let i = at + i;
        if body[i..].starts_with(token) {
            body.splice(i..i + token.len(), TOKEN_BLANK.bytes());
            at = i + TOKEN_BLANK.len();
        } else {
            at = i + 1;
        }
    }
}

fn has_graph_error(body: &[u8]) -> bool {
    super::error::GraphErrorBody::parse(body).code.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_tokens_are_blanked() {
        let cases: [(&str, &str); 7] = [
            ("", ""),
            ("nothing here", "nothing here"),
            ("tok", "[token]"),
            ("tok tok", "[token] [token]"),
            ("ttok: to tokt", "t[token]: to [token]t"),
            ("tokto", "[token]to"),
            ("to", "to"),
        ];
        for (body, want) in cases {
            let mut b = body.as_bytes().to_vec();
            blank(&mut b, b"tok");
            assert_eq!(String::from_utf8(b).unwrap(), want, "{body:?}");
        }
        let mut b = b"abc".to_vec();
        blank(&mut b, b"");
        assert_eq!(b, b"abc");
    }
}
