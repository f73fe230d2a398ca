//! `od_status`, `od_status_str`, a failure on its way out to C
//! (`FfiError`), and where each thread keeps its last one (read by
//! `last_error`).

use std::cell::RefCell;
use std::ffi::{CStr, c_char};

use crate::graph::error::{Error, ErrorKind};

/// The result of every fallible function. The numbers are stable: new codes
/// are appended, none is ever renumbered or reused.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum od_status {
    /// Success.
    OD_OK = 0,
    /// A required pointer argument was NULL.
    OD_ERR_NULL_ARGUMENT = 1,
    /// A string argument was not valid UTF-8.
    OD_ERR_INVALID_UTF8 = 2,
    /// An argument was malformed or out of range (URL, drive prefix, option).
    OD_ERR_INVALID_ARGUMENT = 3,
    /// A file or folder name the service forbids (empty, `/ \ * < > ? : | "`).
    OD_ERR_INVALID_NAME = 4,
    /// Connection refused or reset, DNS failure, a cut response.
    OD_ERR_NETWORK = 5,
    /// A timeout: connecting, a stalled transfer, or a wait's deadline.
    OD_ERR_TIMEOUT = 6,
    /// Cancelled through an `od_cancel`.
    OD_ERR_CANCELLED = 7,
    /// A progress callback returned non-zero.
    OD_ERR_ABORTED_BY_CALLBACK = 8,
    /// HTTP 401: the token is missing, expired or wrong.
    OD_ERR_UNAUTHORIZED = 9,
    /// HTTP 403.
    OD_ERR_FORBIDDEN = 10,
    /// HTTP 404: no such item, drive or job.
    OD_ERR_NOT_FOUND = 11,
    /// HTTP 409 / 412: the name is in use, or the eTag no longer matches.
    OD_ERR_CONFLICT = 12,
    /// HTTP 413, or a body above what the operation accepts.
    OD_ERR_TOO_LARGE = 13,
    /// HTTP 429 / 503 beyond the retry policy's patience (see Retry-After).
    OD_ERR_THROTTLED = 14,
    /// HTTP 507: the drive is full.
    OD_ERR_QUOTA = 15,
    /// The service does not offer this (e.g. upload from URL on Business).
    OD_ERR_NOT_SUPPORTED = 16,
    /// Another HTTP 400.
    OD_ERR_BAD_REQUEST = 17,
    /// HTTP 5xx that retries did not cure.
    OD_ERR_SERVICE = 18,
    /// The service answered something this library cannot make sense of.
    OD_ERR_PROTOCOL = 19,
    /// An asynchronous job failed.
    OD_ERR_JOB_FAILED = 20,
    /// An asynchronous job was cancelled on the service.
    OD_ERR_JOB_CANCELLED = 21,
    /// A local read or write failed.
    OD_ERR_IO = 22,
    /// A caller's buffer is too small (see the needed length).
    OD_ERR_BUFFER_TOO_SMALL = 23,
    /// The call is not valid in the object's present state (e.g. the item
    /// of a job that has not completed).
    OD_ERR_INVALID_STATE = 24,
    /// A bug in this library: a Rust panic caught at the boundary.
    OD_ERR_PANIC = 25,
    /// A file's size or hash differs: an upload's from what was read, a
    /// download's from what the service reports.
    OD_ERR_HASH_MISMATCH = 26,
    /// TLS failed: the server's certificate is not trusted (add its CA
    /// with `od_client_add_ca_pem`), has expired, or names another host; or
    /// the handshake broke. Never retried.
    OD_ERR_TLS = 27,
    /// The proxy refused: wrong or missing credentials (HTTP 407), or it
    /// would not open a tunnel to the target.
    OD_ERR_PROXY = 28,
    /// A queued copy or upload from URL whose request may have reached the
    /// service without its answer being kept (a kill or a dropped
    /// connection after it went out), and whose result is not at its
    /// destination: it may have been done, may still run, or may never
    /// have been. The queue never sends it again; look at the destination.
    OD_ERR_UNKNOWN_OUTCOME = 29,
}

// `ALL` (every status, in order) and `text()` ("NAME: the variant's doc
// comment"), written by build.rs from the enum above: one definition.
include!(concat!(env!("OUT_DIR"), "/status_table.rs"));

impl od_status {
    pub(crate) fn from_i32(n: i32) -> Option<od_status> {
        usize::try_from(n)
            .ok()
            .and_then(|i| od_status::ALL.get(i))
            .copied()
    }
}

impl From<ErrorKind> for od_status {
    fn from(kind: ErrorKind) -> od_status {
        use od_status::*;
        match kind {
            ErrorKind::InvalidArgument => OD_ERR_INVALID_ARGUMENT,
            ErrorKind::InvalidName => OD_ERR_INVALID_NAME,
            ErrorKind::Network => OD_ERR_NETWORK,
            ErrorKind::Timeout => OD_ERR_TIMEOUT,
            ErrorKind::Cancelled => OD_ERR_CANCELLED,
            ErrorKind::AbortedByCallback => OD_ERR_ABORTED_BY_CALLBACK,
            ErrorKind::Unauthorized => OD_ERR_UNAUTHORIZED,
            ErrorKind::Forbidden => OD_ERR_FORBIDDEN,
            ErrorKind::NotFound => OD_ERR_NOT_FOUND,
            ErrorKind::Conflict => OD_ERR_CONFLICT,
            ErrorKind::TooLarge => OD_ERR_TOO_LARGE,
            ErrorKind::Throttled => OD_ERR_THROTTLED,
            ErrorKind::QuotaExceeded => OD_ERR_QUOTA,
            ErrorKind::NotSupported => OD_ERR_NOT_SUPPORTED,
            ErrorKind::BadRequest => OD_ERR_BAD_REQUEST,
            ErrorKind::Service => OD_ERR_SERVICE,
            ErrorKind::Protocol => OD_ERR_PROTOCOL,
            ErrorKind::JobFailed => OD_ERR_JOB_FAILED,
            ErrorKind::JobCancelled => OD_ERR_JOB_CANCELLED,
            ErrorKind::Io => OD_ERR_IO,
            ErrorKind::HashMismatch => OD_ERR_HASH_MISMATCH,
            ErrorKind::Tls => OD_ERR_TLS,
            ErrorKind::Proxy => OD_ERR_PROXY,
            ErrorKind::InvalidState => OD_ERR_INVALID_STATE,
            ErrorKind::UnknownOutcome => OD_ERR_UNKNOWN_OUTCOME,
        }
    }
}

/// A static, NUL-terminated description of a status, for any number
/// (unknown numbers get a generic text). Never NULL; never freed.
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn od_status_str(status: i32) -> *const c_char {
    match od_status::from_i32(status) {
        Some(s) => s.text().as_ptr(),
        None => c"unknown od_status".as_ptr(),
    }
}

/// A failure on its way out to C: the status plus the detail behind it.
#[derive(Debug)]
pub(crate) struct FfiError {
    pub status: od_status,
    pub error: Error,
}

impl FfiError {
    pub fn new(status: od_status, message: impl Into<String>) -> FfiError {
        // The kind is not shown to C; the status is what counts.
        FfiError {
            status,
            error: Error::new(ErrorKind::InvalidArgument, message),
        }
    }
}

impl From<Error> for FfiError {
    fn from(error: Error) -> FfiError {
        FfiError {
            status: error.kind.into(),
            error,
        }
    }
}

pub(crate) type FfiResult<T = ()> = Result<T, FfiError>;

/// What the last failing call on a thread left behind.
#[derive(Debug, Clone)]
pub(crate) struct LastError {
    pub(crate) status: od_status,
    pub(crate) error: Error,
}

thread_local! {
    static LAST: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

pub(crate) fn set_last_error(err: &FfiError) {
    LAST.with(|l| {
        *l.borrow_mut() = Some(LastError {
            status: err.status,
            error: err.error.clone(),
        })
    });
}

pub(crate) fn clear_last_error() {
    LAST.with(|l| *l.borrow_mut() = None);
}

pub(crate) fn with_last<T>(f: impl FnOnce(Option<&LastError>) -> T) -> T {
    LAST.with(|l| f(l.borrow().as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_never_change() {
        // Appending is fine; renumbering breaks every binding in the field.
        assert_eq!(od_status::ALL.len(), 30);
        assert_eq!(od_status::OD_ERR_HASH_MISMATCH as i32, 26);
        assert_eq!(od_status::OD_ERR_TLS as i32, 27);
        assert_eq!(od_status::OD_ERR_PROXY as i32, 28);
        assert_eq!(od_status::OD_ERR_UNKNOWN_OUTCOME as i32, 29);
        for (i, s) in od_status::ALL.iter().enumerate() {
            assert_eq!(*s as i32, i as i32);
            assert_eq!(od_status::from_i32(i as i32), Some(*s));
            let text = s.text().to_str().unwrap();
            assert!(text.starts_with("OD_"), "{text}");
        }
        assert_eq!(od_status::OD_ERR_PANIC as i32, 25);
        assert_eq!(od_status::from_i32(-1), None);
        assert_eq!(od_status::OD_ERR_HASH_MISMATCH as i32, 26);
        assert_eq!(od_status::from_i32(30), None);
    }
}
