//! Small helpers: randomness, time formatting, percent-decoding, Graph error bodies.

use crate::content::RespBody;
use base64::Engine as _;
use bytes::Bytes;
use hyper::{Response, StatusCode, header::HeaderValue};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) type Resp = Response<RespBody>;

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u64;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i64 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn parts(t: SystemTime) -> (i64, u32, u32, u64, u64, u64, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = d.as_secs();
    let (y, mo, da) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    (
        y,
        mo,
        da,
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        d.subsec_millis(),
    )
}

/// `2024-05-01T12:34:56.789Z`, the form Graph uses for item timestamps.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s, ms) = parts(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// `2024-05-01T12:34:56`, the form of `innerError.date`.
pub(crate) fn error_date(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s, _) = parts(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
}

/// HTTP date (RFC 7231 IMF-fixdate), for raw responses written by hand.
pub(crate) fn http_date(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = t
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let (y, mo, d, h, mi, s, _) = parts(t);
    format!(
        "{}, {d:02} {} {y:04} {h:02}:{mi:02}:{s:02} GMT",
        DAYS[((secs / 86_400) % 7) as usize],
        MONTHS[(mo - 1) as usize]
    )
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Percent-decode one path segment (or query component when `plus_is_space`).
/// Invalid escapes or invalid UTF-8 give `None`.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hi = hex_val(*b.get(i + 1)?)?;
                let lo = hex_val(*b.get(i + 2)?)?;
                out.push(hi * 16 + lo);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encode a path segment (unreserved characters and a few sub-delims stay).
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'!' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// An opaque, URL-safe token for `s` (a `$skiptoken`).
pub(crate) fn encode_token(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s.as_bytes())
}

/// What [`encode_token`] encoded, or None.
pub(crate) fn decode_token(t: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Decoded query parameters, in order.
pub(crate) fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(k, true).unwrap_or_else(|| k.to_string()),
                percent_decode(v, true).unwrap_or_else(|| v.to_string()),
            )
        })
        .collect()
}

/// A Graph error: HTTP status, code, message (and an optional inner code).
#[derive(Debug, Clone)]
pub(crate) struct GraphError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub inner_code: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl GraphError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        GraphError {
            status,
            code: code.to_string(),
            message: message.into(),
            inner_code: None,
            headers: Vec::new(),
        }
    }
    pub fn inner(mut self, code: &str) -> Self {
        self.inner_code = Some(code.to_string());
        self
    }
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "invalidRequest", message)
    }
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "invalidRequest",
            "The HTTP method is not allowed on this URL.",
        )
    }
    pub fn not_found() -> Self {
        Self::new(404, "itemNotFound", "The resource could not be found.")
    }
    pub fn name_exists(name: &str) -> Self {
        Self::new(
            409,
            "nameAlreadyExists",
            format!("The specified item name already exists. Name: {name}"),
        )
    }

    pub fn to_json(&self, request_id: &str, client_request_id: Option<&str>) -> serde_json::Value {
        let mut inner = serde_json::Map::new();
        if let Some(c) = &self.inner_code {
            inner.insert("code".into(), c.clone().into());
        }
        inner.insert("date".into(), error_date(SystemTime::now()).into());
        inner.insert("request-id".into(), request_id.into());
        if let Some(c) = client_request_id {
            inner.insert("client-request-id".into(), c.into());
        }
        serde_json::json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": inner,
            }
        })
    }

    pub fn response(&self, request_id: &str, client_request_id: Option<&str>) -> Resp {
        let mut r = json_response(self.status, &self.to_json(request_id, client_request_id));
        for (k, v) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                hyper::header::HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                r.headers_mut().append(name, value);
            }
        }
        r
    }
}

/// The Graph error code the emulator uses for a bare HTTP status (fault injection).
pub(crate) fn code_for_status(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("invalidRequest", "The request is malformed or incorrect."),
        401 => ("unauthenticated", "The caller is not authenticated."),
        403 => ("accessDenied", "The caller does not have permission."),
        404 => ("itemNotFound", "The resource could not be found."),
        409 => ("conflict", "The request conflicts with the current state."),
        429 => (
            "activityLimitReached",
            "The app or user has been throttled.",
        ),
        500 => ("generalException", "An unspecified error has occurred."),
        502 => ("badGateway", "The gateway received an invalid response."),
        503 => (
            "serviceNotAvailable",
            "The service is temporarily unavailable. Try again later.",
        ),
        504 => ("gatewayTimeout", "The gateway timed out."),
        s if s >= 500 => ("generalException", "An unspecified error has occurred."),
        _ => ("invalidRequest", "The request could not be processed."),
    }
}

pub(crate) fn json_response(status: u16, value: &serde_json::Value) -> Resp {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut r = Response::new(RespBody::full(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

pub(crate) fn empty_response(status: u16) -> Resp {
    let mut r = Response::new(RespBody::full(Bytes::new()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r
}

pub(crate) fn bytes_response(status: u16, content_type: &str, body: Bytes) -> Resp {
    body_response(status, content_type, RespBody::full(body))
}

pub(crate) fn body_response(status: u16, content_type: &str, body: RespBody) -> Resp {
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

pub(crate) fn with_header(mut r: Resp, name: &'static str, value: &str) -> Resp {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
    r
}

/// MIME type from a file name's extension, as the service infers it.
pub(crate) fn mime_for(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "htm" | "html" => "text/html",
        "css" => "text/css",
        "js" => "application/javascript",
        "json" => "application/json",
        "xml" => "application/xml",
        "md" => "text/markdown",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20.123Z");
        assert_eq!(error_date(t), "2023-11-14T22:13:20");
        assert_eq!(http_date(t), "Tue, 14 Nov 2023 22:13:20 GMT");
    }

    #[test]
    fn decoding() {
        assert_eq!(percent_decode("a%20b%23%25", false).unwrap(), "a b#%");
        assert_eq!(percent_decode("%C3%A9", false).unwrap(), "é");
        assert!(percent_decode("%zz", false).is_none());
        assert!(percent_decode("%FF", false).is_none());
        assert_eq!(percent_decode("a+b", true).unwrap(), "a b");
        assert_eq!(encode_segment("a b#é"), "a%20b%23%C3%A9");
    }

    #[test]
    fn tokens() {
        for s in ["", "a", "name 1 #%é.txt"] {
            let t = encode_token(s);
            assert!(
                t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            assert_eq!(decode_token(&t).as_deref(), Some(s));
        }
        assert_eq!(decode_token("!!"), None);
        assert_eq!(decode_token("_w"), None); // not UTF-8
    }
}
