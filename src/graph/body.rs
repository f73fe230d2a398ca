//! Reading an answer's body: each read before the request's deadline,
//! stopping when the caller cancels, failures made into the core's errors;
//! and the cap on an answer read whole.

use std::io::Read;
use std::time::{Duration, Instant};

use super::control::CancelToken;
use super::error::{Error, ErrorKind, Result};
use super::failure::past_deadline;
use super::url::redact;
use super::wire;

/// Largest answer body read into memory. Graph's answers here are small
/// JSON documents (an item, a job status, an upload session, an error): a
/// few KiB. Parsed into a JSON tree, a body takes at most about 32 times
/// its size (a `[0,0,…]` array: a 32-byte value per 2 bytes of text, plus
/// growth), so no answer makes the process allocate more than ~8 MiB.
pub(crate) const MAX_BODY: u64 = 256 * 1024;

/// Largest page of a listing read into memory: up to 1000 children (the
/// most `$top` asks for) of ~2 KiB each. A hostile page parses into at
/// most ~64 MiB, for the time one page is held.
pub(crate) const MAX_PAGE: u64 = 2 * 1024 * 1024;

/// An answer's body as it is read. Run inside `wire::with_cancel` (whose
/// flag it looks at before every read); each read returns within the stall
/// timeout (the agent's per-read timeout). Pace and progress, where wanted,
/// come from a `progress::Meter` fed by the reader's caller.
pub(crate) struct AnswerReader<'a, R> {
    inner: R,
    deadline: Instant,
    url: &'a str,
}

impl<'a, R: Read> AnswerReader<'a, R> {
    pub(crate) fn new(inner: R, deadline: Instant, url: &'a str) -> AnswerReader<'a, R> {
        AnswerReader {
            inner,
            deadline,
            url,
        }
    }

    /// The next bytes, `Ok(0)` at the end.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        if wire::cancelled() {
            return Err(Error::cancelled());
        }
        if Instant::now() >= self.deadline {
            return Err(past_deadline(format!(
                "the answer from {} did not end in time",
                redact(self.url)
            )));
        }
        self.inner.read(buf).map_err(|e| read_error(&e, self.url))
    }
}

fn read_error(e: &std::io::Error, url: &str) -> Error {
    match e.get_ref().and_then(|r| r.downcast_ref::<ureq::Error>()) {
        Some(ureq::Error::Timeout(_)) => Error::new(
            ErrorKind::Timeout,
            format!("reading the answer from {}: {e}", redact(url)),
        ),
        Some(ureq::Error::BodyExceedsLimit(limit)) => Error::protocol(format!(
            "the answer from {} is larger than {limit} bytes",
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
}

/// A 2xx body a caller reads as it comes (a download): any length, each
/// read before the deadline and seeing the caller's cancel flag.
pub(crate) struct AnswerStream {
    reader: ureq::BodyReader<'static>,
    deadline: Instant,
    url: String,
}

impl std::fmt::Debug for AnswerStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: a pre-authenticated one is a capability.
        write!(f, "AnswerStream({})", redact(&self.url))
    }
}

impl AnswerStream {
    pub(crate) fn new(body: ureq::Body, deadline: Instant, url: &str) -> AnswerStream {
        AnswerStream {
            reader: body.into_with_config().limit(u64::MAX).reader(),
            deadline,
            url: url.to_owned(),
        }
    }

    /// The next bytes, `Ok(0)` at the end; a raised cancel flag ends a
    /// wait within the connection's slice.
    pub(crate) fn read(&mut self, buf: &mut [u8], cancel: Option<&CancelToken>) -> Result<usize> {
        let (reader, deadline, url) = (&mut self.reader, self.deadline, self.url.as_str());
        wire::with_cancel(cancel, Duration::ZERO, || {
            AnswerReader::new(reader, deadline, url).read(buf)
        })
    }
}

/// Reads an answer's body whole: at most `cap` bytes ([`MAX_BODY`] but
/// for a page of a listing, [`MAX_PAGE`]).
pub(crate) fn read_capped(
    body: &mut ureq::Body,
    deadline: Instant,
    url: &str,
    cap: u64,
) -> Result<Vec<u8>> {
    let mut reader = AnswerReader::new(body.with_config().limit(cap).reader(), deadline, url);
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}
