//! `od_cancel`: a flag that stops the blocking calls it is passed to.

use crate::graph::control::CancelToken;

use super::boundary::{ffi_new, free_box, with_handle};
use super::status::od_status;

/// A cancellation flag: raise it from any thread to stop the blocking
/// calls it was passed to (they return `OD_ERR_CANCELLED`). Opaque.
///
/// Methods:
/// - `od_cancel_new`: a new flag, lowered.
/// - `od_cancel_trigger`: raises it; `od_cancel_reset` lowers it again.
/// - `od_cancel_is_triggered`: whether it is raised.
/// - `od_cancel_free`: frees it, once no call uses it.
/// - Passed (NULL allowed) to the calls that may take long (below).
pub struct od_cancel {
    pub(crate) token: CancelToken,
}

/// Creates a cancellation flag, lowered. The caller owns it and frees it
/// with `od_cancel_free` once no call uses it.
///
/// # Safety
/// `out_cancel` must be NULL (refused) or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_cancel_new(out_cancel: *mut *mut od_cancel) -> od_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe {
        ffi_new(out_cancel, "out_cancel", || {
            Ok(od_cancel {
                token: CancelToken::new(),
            })
        })
    }
}

/// Raises the flag: every call using it stops as soon as it can (a sleep
/// or a transfer at once; a request already waiting for its answer when
/// that answer comes). Any thread, any number of times. NULL is ignored.
///
/// # Safety
/// `cancel` must be NULL or a live flag.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_cancel_trigger(cancel: *const od_cancel) {
    // SAFETY: the caller passes NULL or a live flag.
    unsafe { with_handle(cancel, (), |c| c.token.cancel()) }
}

/// Lowers the flag so it can serve another call. NULL is ignored.
///
/// # Safety
/// `cancel` must be NULL or a live flag.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_cancel_reset(cancel: *const od_cancel) {
    // SAFETY: the caller passes NULL or a live flag.
    unsafe { with_handle(cancel, (), |c| c.token.reset()) }
}

/// Whether the flag is raised (false for NULL).
///
/// # Safety
/// `cancel` must be NULL or a live flag.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_cancel_is_triggered(cancel: *const od_cancel) -> bool {
    // SAFETY: the caller passes NULL or a live flag.
    unsafe { with_handle(cancel, false, |c| c.token.is_cancelled()) }
}

/// Frees a flag. NULL is ignored. No call may still be using it.
///
/// # Safety
/// `cancel` must be NULL or a flag from `od_cancel_new` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_cancel_free(cancel: *mut od_cancel) {
    // SAFETY: forwarded from the caller.
    unsafe { free_box(cancel) }
}
