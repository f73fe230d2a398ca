//! What C reads of the last failure on its thread: `od_last_error_*`.

use std::ffi::c_char;

use super::boundary::guard_value;
use super::status::{clear_last_error, od_status, with_last};

/// Selects a text field of the last error, for `od_last_error_string`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum od_error_field {
    /// A human-readable message (always present after a failure).
    OD_ERROR_MESSAGE = 0,
    /// Graph's `error.code`, e.g. `nameAlreadyExists`.
    OD_ERROR_CODE = 1,
    /// The innermost `innerError.code`, if the service nested codes.
    OD_ERROR_INNER_CODE = 2,
    /// The service's `request-id` (quote it to Microsoft support).
    OD_ERROR_REQUEST_ID = 3,
}

/// The status of the last failed call on this thread, or `OD_OK` when the
/// last fallible call succeeded (every fallible call clears the detail when
/// it starts). Reading the detail does not clear it. Thread-local: it
/// describes calls made on the calling thread only.
#[unsafe(no_mangle)]
pub extern "C" fn od_last_error_status() -> od_status {
    guard_value(od_status::OD_ERR_PANIC, || {
        with_last(|l| l.map_or(od_status::OD_OK, |l| l.status))
    })
}

/// The HTTP status of the answer behind the last failure on this thread,
/// or 0 when there was none (a local error, a network error, no failure).
#[unsafe(no_mangle)]
pub extern "C" fn od_last_error_http_status() -> i32 {
    guard_value(0, || {
        with_last(|l| l.and_then(|l| l.error.http_status).map_or(0, i32::from))
    })
}

/// The Retry-After of the last failure on this thread, in milliseconds,
/// or -1 when the service gave none.
#[unsafe(no_mangle)]
pub extern "C" fn od_last_error_retry_after_ms() -> i64 {
    guard_value(-1, || {
        with_last(|l| {
            l.and_then(|l| l.error.retry_after)
                .map_or(-1, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        })
    })
}

/// Copies a text field of the last failure on this thread into `buf`.
///
/// - `field`: one of `od_error_field`; another number is
///   `OD_ERR_INVALID_ARGUMENT`.
/// - `buf`, `buf_len`: the caller's buffer. `buf` may be NULL only with
///   `buf_len` 0 (to ask for the length).
/// - `out_needed` (may be NULL): always receives the bytes the field needs,
///   its terminating NUL included (1 for an absent field, which reads as "").
///
/// Returns `OD_OK` with the NUL-terminated text in `buf` when it fits;
/// `OD_ERR_BUFFER_TOO_SMALL` otherwise, `buf` untouched. Does not change
/// the last error. Thread-local, like all the last-error functions.
///
/// # Safety
/// `buf` must point to `buf_len` writable bytes (or be NULL with 0);
/// `out_needed` must be NULL or point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_last_error_string(
    field: i32,
    buf: *mut c_char,
    buf_len: usize,
    out_needed: *mut usize,
) -> od_status {
    // Not `ffi_call`: reading the detail must not clear it.
    guard_value(od_status::OD_ERR_PANIC, || {
        let text = with_last(|l| {
            let e = l.map(|l| &l.error);
            let pick = match field {
                0 => e.map(|e| e.message.clone()),
                1 => e.and_then(|e| e.code.clone()),
                2 => e.and_then(|e| e.inner_code.clone()),
                3 => e.and_then(|e| e.request_id.clone()),
                _ => return None,
            };
            Some(pick.unwrap_or_default())
        });
        let Some(text) = text else {
            return od_status::OD_ERR_INVALID_ARGUMENT;
        };
        // An interior NUL would cut the text short; show it as U+FFFD.
        let text = text.replace('\0', "\u{FFFD}");
        let needed = text.len() + 1;
        if !out_needed.is_null() {
            // SAFETY: non-NULL, and the caller promises it is writable.
            unsafe { out_needed.write(needed) };
        }
        if buf.is_null() || buf_len < needed {
            return od_status::OD_ERR_BUFFER_TOO_SMALL;
        }
        // SAFETY: `buf` holds `buf_len >= needed` writable bytes, and the
        // source is a Rust string that cannot overlap the caller's buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
            buf.add(text.len()).write(0);
        }
        od_status::OD_OK
    })
}

/// Forgets the last failure on this thread. Thread-local.
#[unsafe(no_mangle)]
pub extern "C" fn od_last_error_clear() {
    guard_value((), clear_last_error)
}
