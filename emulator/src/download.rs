//! Pre-authenticated download URLs (`{monitor_origin}/download/{token}`), where
//! `GET …/content` redirects: the item's current content, whole or a byte range.

use crate::rand;
use crate::state::{Ctx, HResult, lock};
use crate::util::{self, GraphError};
use hyper::Method;
use std::time::{Duration, Instant};

/// A download URL works this long after it was issued.
pub(crate) const DOWNLOAD_URL_LIFETIME: Duration = Duration::from_secs(3600);

/// What a `Range` header asks of a content of a known size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ask {
    /// no Range, one the emulator ignores (several ranges, a bad form), or an `If-Range`
    /// that no longer matches: the whole content, 200
    Whole,
    /// bytes `start..=end`, 206
    Part { start: u64, end: u64 },
    /// a range that starts at or past the end (or asks for 0 bytes): 416
    Unsatisfiable,
}

/// `Range: bytes=a-b | a- | -n` against a content of `size` bytes (RFC 9110 §14).
/// Forms the emulator does not serve (several ranges, another unit, a malformed one) are
/// ignored, as the RFC allows: the whole content.
pub(crate) fn parse_range(header: Option<&str>, size: u64) -> Ask {
    let Some(h) = header else {
        return Ask::Whole;
    };
    let h = h.trim();
    let Some(spec) = h
        .get(..6)
        .filter(|u| u.eq_ignore_ascii_case("bytes="))
        .map(|_| h[6..].trim())
    else {
        return Ask::Whole;
    };
    if spec.contains(',') {
        return Ask::Whole;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ask::Whole;
    };
    let num = |s: &str| -> Option<u64> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    match (a.trim().is_empty(), b.trim().is_empty()) {
        // -n: the last n bytes
        (true, false) => match num(b) {
            None => Ask::Whole,
            Some(0) => Ask::Unsatisfiable,
            Some(_) if size == 0 => Ask::Unsatisfiable,
            Some(n) => Ask::Part {
                start: size.saturating_sub(n),
                end: size - 1,
            },
        },
        // a-
        (false, true) => match num(a) {
            None => Ask::Whole,
            Some(start) if start >= size => Ask::Unsatisfiable,
            Some(start) => Ask::Part {
                start,
                end: size - 1,
            },
        },
        // a-b
        (false, false) => match (num(a), num(b)) {
            (Some(start), Some(end)) if end >= start => {
                if start >= size {
                    Ask::Unsatisfiable
                } else {
                    Ask::Part {
                        start,
                        end: end.min(size - 1),
                    }
                }
            }
            _ => Ask::Whole,
        },
        (true, true) => Ask::Whole,
    }
}

/// Whether `If-Range` (when present) lets the Range apply: it must be the item's current
/// eTag, compared strongly (a weak tag or a date never matches).
fn if_range_holds(if_range: Option<&str>, etag: &str) -> bool {
    if_range.is_none_or(|v| v.trim() == etag)
}

/// `GET` / `HEAD {monitor_origin}/download/{token}`: the token alone grants the item (the
/// origin refuses any Authorization header before this runs).
pub(crate) fn serve(ctx: &Ctx, token: &str) -> HResult {
    if ctx.method != Method::GET && ctx.method != Method::HEAD {
        return Err(GraphError::method_not_allowed().into());
    }
    let id = lock(&ctx.shared.downloads)
        .get(token)
        .filter(|(_, issued)| issued.elapsed() < DOWNLOAD_URL_LIFETIME)
        .map(|(id, _)| id.clone());
    let Some(id) = id else {
        return Err(GraphError::new(
            401,
            "unauthenticated",
            "This download URL is unknown or has expired: ask for the item's content again.",
        )
        .into());
    };
    // the store lock is released before the content is opened and sent
    let found = {
        let store = ctx.shared.store();
        store
            .get(&id)
            .and_then(|it| Some((it.name.clone(), it.etag(), store.content(&id)?)))
    };
    let Some((name, etag, content)) = found else {
        return Err(GraphError::not_found().into());
    };
    let size = content.len();
    let ask = if if_range_holds(ctx.header("if-range"), &etag) {
        parse_range(ctx.header("range"), size)
    } else {
        Ask::Whole
    };
    let (status, start, len) = match ask {
        Ask::Whole => (200, 0, size),
        Ask::Part { start, end } => (206, start, end - start + 1),
        Ask::Unsatisfiable => {
            return Err(GraphError::new(
                416,
                "invalidRange",
                format!("The requested range is not satisfiable: the content has {size} bytes."),
            )
            .header("Content-Range", format!("bytes */{size}"))
            .into());
        }
    };
    let body = content
        .body_range(start, len)
        .map_err(crate::store::storage_error)?;
    let mut r = util::body_response(status, util::mime_for(&name), body);
    r = util::with_header(r, "etag", &etag);
    r = util::with_header(r, "accept-ranges", "bytes");
    r = util::with_header(r, "content-length", &len.to_string());
    if status == 206 {
        let range = format!("bytes {start}-{}/{size}", start + len - 1);
        r = util::with_header(r, "content-range", &range);
    }
    Ok(r)
}

/// A new download URL for item `id` (on the monitor origin).
pub(crate) fn issue(ctx: &Ctx, id: String) -> String {
    let token = rand::random_token(32);
    {
        let mut d = lock(&ctx.shared.downloads);
        // Expired URLs (refused on use whatever is kept) are pruned once
        // every 1,024 issued, not at each: every GET of a file's item
        // issues one.
        if d.len() % 1024 == 1023 {
            d.retain(|_, (_, t)| t.elapsed() < DOWNLOAD_URL_LIFETIME);
        }
        d.insert(token.clone(), (id, Instant::now()));
    }
    format!("{}/download/{token}", ctx.shared.monitor_origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let part = |start, end| Ask::Part { start, end };
        assert_eq!(parse_range(None, 10), Ask::Whole);
        assert_eq!(parse_range(Some("bytes=0-3"), 10), part(0, 3));
        assert_eq!(parse_range(Some("Bytes = 2-"), 10), Ask::Whole);
        assert_eq!(parse_range(Some("BYTES=2-"), 10), part(2, 9));
        assert_eq!(parse_range(Some("bytes=2-100"), 10), part(2, 9));
        assert_eq!(parse_range(Some("bytes=9-9"), 10), part(9, 9));
        assert_eq!(parse_range(Some("bytes=-3"), 10), part(7, 9));
        assert_eq!(parse_range(Some("bytes=-30"), 10), part(0, 9));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Ask::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=10-20"), 10), Ask::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 10), Ask::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-"), 0), Ask::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-5"), 0), Ask::Unsatisfiable);
        // ignored: the whole content
        for h in [
            "bytes=5-2",
            "bytes=0-1,4-5",
            "items=0-1",
            "bytes=a-b",
            "bytes=-",
            "bytes=+1-2",
            "bytes=1",
            "",
            "bytes=18446744073709551616-",
        ] {
            assert_eq!(parse_range(Some(h), 10), Ask::Whole, "{h}");
        }
        assert_eq!(
            parse_range(Some("bytes=18446744073709551615-"), 10),
            Ask::Unsatisfiable
        );
    }

    #[test]
    fn if_range() {
        assert!(if_range_holds(None, "\"{A},1\""));
        assert!(if_range_holds(Some(" \"{A},1\" "), "\"{A},1\""));
        assert!(!if_range_holds(Some("\"{A},2\""), "\"{A},1\""));
        assert!(!if_range_holds(Some("W/\"{A},1\""), "\"{A},1\""));
        assert!(!if_range_holds(
            Some("Tue, 14 Nov 2023 22:13:20 GMT"),
            "\"{A},1\""
        ));
    }
}
