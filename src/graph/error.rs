//! The one error type of the core: a kind the caller can branch on, plus every
//! detail the service gave (HTTP status, Graph error code and innermost code,
//! message, request-id, Retry-After).

use std::fmt;
use std::time::Duration;

use serde_json::Value;

/// What went wrong, coarse enough to branch on. The C status codes map onto
/// these one to one (see `ffi::status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument was malformed (bad URL, bad drive prefix, bad option).
    InvalidArgument,
    /// A file or folder name the service forbids (empty, `/`, `*`, `:` …).
    InvalidName,
    /// Connection refused, reset, DNS failure, cut response.
    Network,
    /// A timeout: connecting, a stalled transfer, or `wait_job`'s deadline.
    Timeout,
    /// Cancelled through a [`crate::CancelToken`].
    Cancelled,
    /// A progress callback asked to stop.
    AbortedByCallback,
    /// 401: the token is missing, expired or wrong.
    Unauthorized,
    /// 403: the token is fine but the caller may not do this.
    Forbidden,
    /// 404: the item, drive or job does not exist.
    NotFound,
    /// 409 / 412: a name already in use, or an eTag that no longer matches.
    Conflict,
    /// 413, or a body above what the operation accepts.
    TooLarge,
    /// 429 / 503 after the retry policy's patience ran out.
    Throttled,
    /// 507: the drive is full.
    QuotaExceeded,
    /// 501, or the service refused a feature (upload from URL on Business).
    NotSupported,
    /// Another 400 the service gave.
    BadRequest,
    /// 5xx that retries did not cure.
    Service,
    /// The service answered something this client cannot make sense of.
    Protocol,
    /// An asynchronous job ended in failure.
    JobFailed,
    /// An asynchronous job was cancelled on the service side.
    JobCancelled,
    /// A local read or write failed (a file, a caller's reader).
    Io,
    /// A file's size or hash differs: an upload's from what was read, a
    /// download's from what the service reports.
    HashMismatch,
    /// TLS failed: the server's certificate is not trusted, has expired or
    /// names another host, or the handshake broke. Never retried.
    Tls,
    /// The proxy refused: wrong or missing credentials (407), or it would
    /// not open a tunnel to the target.
    Proxy,
    /// The call is not valid in the object's present state (a transfer
    /// that has not finished cannot be removed; a queue directory already
    /// open; closing a queue from its own event callback).
    InvalidState,
    /// A copy or upload from URL whose request may have reached the service
    /// without its answer being kept (the process was killed, or the
    /// connection dropped, after the request went out), and whose result
    /// is not at its destination: it may have been done, may still be
    /// running, or may never have been. The queue does not send it again
    /// (that could make a second copy); look at the destination.
    UnknownOutcome,
}

/// An error from the core, with the service's detail where there was any.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub kind: ErrorKind,
    /// The HTTP status of the answer that caused it, if any.
    pub http_status: Option<u16>,
    /// Graph's top-level `error.code`.
    pub code: Option<String>,
    /// The innermost `innerError.code` (or `innererror.code`), if nested codes were given.
    pub inner_code: Option<String>,
    /// A human-readable message (the service's, or ours).
    pub message: String,
    /// The `request-id` the service gave (header or error body).
    pub request_id: Option<String>,
    /// How long the service asked us to wait (Retry-After).
    pub retry_after: Option<Duration>,
    /// What the transport noted of a request that got no answer, for the
    /// retry decision. Never shown: `code` holds only what the service sent.
    pub(crate) note: Option<TransportNote>,
}

/// A transport's private note on a failure (see `graph::failure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransportNote {
    /// Nothing was sent: the connection was never made.
    NotConnected,
    /// The request ran past its total deadline.
    PastDeadline,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            http_status: None,
            code: None,
            inner_code: None,
            message: message.into(),
            request_id: None,
            retry_after: None,
            note: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub fn protocol(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Protocol, message)
    }

    pub fn cancelled() -> Error {
        Error::new(ErrorKind::Cancelled, "cancelled")
    }

    pub fn aborted() -> Error {
        Error::new(
            ErrorKind::AbortedByCallback,
            "aborted by the progress callback",
        )
    }

    /// Builds the error for an HTTP answer that was not a success: the kind
    /// comes from the status and the Graph code, the detail from the body.
    pub fn from_response(
        status: u16,
        body: &[u8],
        request_id: Option<String>,
        retry_after: Option<Duration>,
    ) -> Error {
        let detail = GraphErrorBody::parse(body);
        let mut kind = kind_for(status, detail.code.as_deref(), detail.inner_code.as_deref());
        if status == 503 && retry_after.is_some() {
            // A 503 that says when to come back is throttling, not an outage.
            kind = ErrorKind::Throttled;
        }
        let message = detail.message.unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() || text.len() > 300 {
                format!("HTTP {status}")
            } else {
                format!("HTTP {status}: {text}")
            }
        });
        Error {
            kind,
            http_status: Some(status),
            code: detail.code,
            inner_code: detail.inner_code,
            message,
            request_id: request_id.or(detail.request_id),
            retry_after,
            note: None,
        }
    }

    /// The same error with another kind (the detail is kept).
    pub fn with_kind(mut self, kind: ErrorKind) -> Error {
        self.kind = kind;
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)?;
        if let Some(status) = self.http_status {
            write!(f, " (HTTP {status}")?;
            if let Some(code) = &self.code {
                write!(f, ", {code}")?;
            }
            if let Some(inner) = &self.inner_code {
                write!(f, "/{inner}")?;
            }
            if let Some(id) = &self.request_id {
                write!(f, ", request-id {id}")?;
            }
            write!(f, ")")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::new(ErrorKind::Io, e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// The parts of a Graph error body:
/// `{"error": {"code", "message", "innerError": {"code", "innerError": …, "request-id"}}}`,
/// inner errors spelled `innerError` or `innererror`, nested to any depth.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct GraphErrorBody {
    pub code: Option<String>,
    pub inner_code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
}

impl GraphErrorBody {
    pub fn parse(body: &[u8]) -> GraphErrorBody {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return GraphErrorBody::default();
        };
        Self::from_value(&value)
    }

    /// Reads a Graph error out of a parsed value: either the whole body
    /// (`{"error": …}`) or the error object itself (as in a failed job's `error`).
    pub fn from_value(value: &Value) -> GraphErrorBody {
        let Some(error) = value.get("error").or(Some(value)).filter(|e| e.is_object()) else {
            return GraphErrorBody::default();
        };
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        let mut out = GraphErrorBody {
            code: text(error, "code"),
            message: text(error, "message"),
            ..GraphErrorBody::default()
        };
        let mut inner = inner_of(error);
        // A bounded walk: a hostile body cannot make us loop for long.
        for _ in 0..32 {
            let Some(level) = inner else { break };
            if let Some(code) = text(level, "code") {
                out.inner_code = Some(code);
            }
            if let Some(id) = text(level, "request-id").or_else(|| text(level, "requestId")) {
                out.request_id = Some(id);
            }
            inner = inner_of(level);
        }
        out
    }
}

fn inner_of(v: &Value) -> Option<&Value> {
    v.get("innerError")
        .or_else(|| v.get("innererror"))
        .filter(|i| i.is_object())
}

fn kind_for(status: u16, code: Option<&str>, inner: Option<&str>) -> ErrorKind {
    let says = |needle: &str| {
        [code, inner]
            .iter()
            .flatten()
            .any(|c| c.eq_ignore_ascii_case(needle))
    };
    if says("notSupported") {
        return ErrorKind::NotSupported;
    }
    if says("quotaLimitReached") || says("insufficientStorage") {
        return ErrorKind::QuotaExceeded;
    }
    match status {
        400 => ErrorKind::BadRequest,
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 | 410 => ErrorKind::NotFound,
        409 | 412 => ErrorKind::Conflict,
        413 => ErrorKind::TooLarge,
        429 => ErrorKind::Throttled,
        501 => ErrorKind::NotSupported,
        503 if says("activityLimitReached") => ErrorKind::Throttled,
        507 => ErrorKind::QuotaExceeded,
        500..=599 => ErrorKind::Service,
        _ => ErrorKind::Protocol,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each status the service answers with, without a code that decides.
    #[test]
    fn kind_for_each_status() {
        use ErrorKind as K;
        let cases = [
            (400, K::BadRequest),
            (401, K::Unauthorized),
            (403, K::Forbidden),
            (404, K::NotFound),
            (410, K::NotFound),
            (409, K::Conflict),
            (412, K::Conflict),
            (413, K::TooLarge),
            (429, K::Throttled),
            (501, K::NotSupported),
            (503, K::Service),
            (507, K::QuotaExceeded),
            (500, K::Service),
            (599, K::Service),
            (418, K::Protocol),
            (302, K::Protocol),
        ];
        for (status, kind) in cases {
            assert_eq!(kind_for(status, None, None), kind, "{status}");
        }
        assert_eq!(
            kind_for(503, Some("activityLimitReached"), None),
            K::Throttled
        );
        assert_eq!(kind_for(400, None, Some("notSupported")), K::NotSupported);
        assert_eq!(
            kind_for(403, Some("quotaLimitReached"), None),
            K::QuotaExceeded
        );
    }

    #[test]
    fn parses_nested_inner_errors_either_spelling() {
        let body = br#"{"error":{"code":"accessDenied","message":"no","innerError":{"code":"a","innererror":{"code":"deepest","request-id":"r-1"}}}}"#;
        let e = GraphErrorBody::parse(body);
        assert_eq!(e.code.as_deref(), Some("accessDenied"));
        assert_eq!(e.inner_code.as_deref(), Some("deepest"));
        assert_eq!(e.message.as_deref(), Some("no"));
        assert_eq!(e.request_id.as_deref(), Some("r-1"));
    }

    #[test]
    fn tolerates_garbage_and_odd_shapes() {
        assert_eq!(GraphErrorBody::parse(b"<html>"), GraphErrorBody::default());
        assert_eq!(GraphErrorBody::parse(b"[]"), GraphErrorBody::default());
        assert_eq!(
            GraphErrorBody::parse(br#"{"error":"x"}"#),
            GraphErrorBody::default()
        );
        let e = GraphErrorBody::parse(br#"{"error":{"code":5,"innerError":"s"}}"#);
        assert_eq!(e, GraphErrorBody::default());
    }

    #[test]
    fn kinds_from_status_and_code() {
        let e = Error::from_response(
            409,
            br#"{"error":{"code":"nameAlreadyExists","message":"m"}}"#,
            None,
            None,
        );
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert_eq!(e.message, "m");
        let e = Error::from_response(
            400,
            br#"{"error":{"code":"notSupported","message":"m"}}"#,
            None,
            None,
        );
        assert_eq!(e.kind, ErrorKind::NotSupported);
        let e = Error::from_response(507, b"", Some("rid".into()), None);
        assert_eq!(e.kind, ErrorKind::QuotaExceeded);
        assert_eq!(e.request_id.as_deref(), Some("rid"));
        assert_eq!(e.message, "HTTP 507");
        let e = Error::from_response(502, b"bad gateway", None, None);
        assert_eq!(e.kind, ErrorKind::Service);
        assert_eq!(e.message, "HTTP 502: bad gateway");
        assert_eq!(
            Error::from_response(418, b"", None, None).kind,
            ErrorKind::Protocol
        );
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut body = String::from(r#"{"code":"x"}"#);
        for _ in 0..100 {
            body = format!(r#"{{"code":"x","innerError":{body}}}"#);
        }
        let body = format!(r#"{{"error":{body}}}"#);
        // serde_json's recursion limit or our bound: either way no crash.
        let _ = GraphErrorBody::parse(body.as_bytes());
    }
}
