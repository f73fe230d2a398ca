//! The boundary every C call goes through: panics caught, pointers and
//! strings checked, out-params written only on success.

use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::status::{clear_last_error, od_status, set_last_error};

// Where other modules found them before they moved next to `od_status`.
pub(crate) use super::status::{FfiError, FfiResult};

/// Runs the body of a fallible C function: clears the thread's last error,
/// turns `Err` into its status (recording the detail) and a panic into
/// `OD_ERR_PANIC`.
pub(crate) fn ffi_call(f: impl FnOnce() -> FfiResult) -> od_status {
    clear_last_error();
    let outcome = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        Err(FfiError::new(
            od_status::OD_ERR_PANIC,
            format!("internal error: {what}"),
        ))
    });
    match outcome {
        Ok(()) => od_status::OD_OK,
        Err(e) => {
            set_last_error(&e);
            e.status
        }
    }
}

/// Runs the body of an infallible C function (accessors, `_free`): a panic
/// gives `fallback` instead of unwinding into C.
pub(crate) fn guard_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

fn null(what: &str) -> FfiError {
    FfiError::new(od_status::OD_ERR_NULL_ARGUMENT, format!("`{what}` is NULL"))
}

/// A required string argument.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string that stays valid
/// and unchanged for `'a`.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> FfiResult<&'a str> {
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL, and the caller promises a NUL-terminated string.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str().map_err(|_| {
        FfiError::new(
            od_status::OD_ERR_INVALID_UTF8,
            format!("`{what}` is not valid UTF-8"),
        )
    })
}

/// An optional string argument: NULL is `None`.
///
/// # Safety
/// As for [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(p: *const c_char, what: &str) -> FfiResult<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded from the caller.
        unsafe { str_arg(p, what) }.map(Some)
    }
}

/// A `(pointer, length)` byte argument; NULL is allowed only with length 0.
///
/// # Safety
/// `p` must be NULL or point to `len` readable bytes that stay valid and
/// unchanged for `'a`.
pub(crate) unsafe fn bytes_arg<'a>(p: *const u8, len: usize, what: &str) -> FfiResult<&'a [u8]> {
    if p.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(null(what));
    }
    if len > isize::MAX as usize {
        return Err(FfiError::new(
            od_status::OD_ERR_INVALID_ARGUMENT,
            format!("`{what}` is too long"),
        ));
    }
    // SAFETY: non-NULL, `len` bytes readable as the caller promises, and
    // `len` fits an isize.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A required handle argument.
///
/// # Safety
/// `p` must be NULL or a live handle of type `T` made by this library.
pub(crate) unsafe fn handle_arg<'a, T>(p: *const T, what: &str) -> FfiResult<&'a T> {
    // SAFETY: forwarded from the caller.
    unsafe { p.as_ref() }.ok_or_else(|| null(what))
}

/// An optional handle argument: NULL is `None`.
///
/// # Safety
/// As for [`handle_arg`].
pub(crate) unsafe fn opt_handle_arg<'a, T>(p: *const T) -> Option<&'a T> {
    // SAFETY: forwarded from the caller.
    unsafe { p.as_ref() }
}

/// An out-parameter, checked before any work is done so that a NULL does
/// not throw away the result of a network call.
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    pub fn new(p: *mut T, what: &str) -> FfiResult<Out<T>> {
        if p.is_null() {
            Err(null(what))
        } else {
            Ok(Out(p))
        }
    }

    /// An out-parameter the caller may leave NULL.
    pub fn optional(p: *mut T) -> Option<Out<T>> {
        (!p.is_null()).then_some(Out(p))
    }

    /// Writes the result.
    ///
    /// # Safety
    /// The pointer given to [`Out::new`] must point to writable memory for a `T`.
    pub unsafe fn write(self, v: T) {
        // SAFETY: non-NULL (checked in `new`), writable as the caller promises.
        unsafe { self.0.write(v) }
    }
}

/// Runs a fallible C function whose result is a new handle for the caller
/// (freed by its `_free`): `out` (named `what` in the NULL error) is
/// checked before `f` runs, and written only when `f` succeeds.
///
/// # Safety
/// `out` must be NULL or point to writable memory for a pointer.
pub(crate) unsafe fn ffi_new<T>(
    out: *mut *mut T,
    what: &str,
    f: impl FnOnce() -> FfiResult<T>,
) -> od_status {
    ffi_call(|| {
        let out = Out::new(out, what)?;
        let made = f()?;
        // SAFETY: checked non-NULL by `Out::new`; writable as the caller
        // promises.
        unsafe { out.write(into_raw(made)) };
        Ok(())
    })
}

/// Reads a handle for an infallible accessor: `absent` when `p` is NULL
/// (or `f` panics), else what `f` makes of it.
///
/// # Safety
/// `p` must be NULL or a live handle of type `T` made by this library.
pub(crate) unsafe fn with_handle<T, R: Copy>(p: *const T, absent: R, f: impl FnOnce(&T) -> R) -> R {
    guard_value(absent, || {
        // SAFETY: forwarded from the caller.
        unsafe { p.as_ref() }.map_or(absent, f)
    })
}

/// Moves a value to the heap for C; `free_box` takes it back.
pub(crate) fn into_raw<T>(v: T) -> *mut T {
    Box::into_raw(Box::new(v))
}

/// Frees a handle made by [`into_raw`]; NULL is ignored, and so is a
/// panic in a destructor (it never unwinds into C).
///
/// # Safety
/// `p` must be NULL or a pointer from `into_raw::<T>` not yet freed.
pub(crate) unsafe fn free_box<T>(p: *mut T) {
    guard_value((), || {
        if !p.is_null() {
            // SAFETY: from Box::into_raw, freed once as the caller promises.
            drop(unsafe { Box::from_raw(p) });
        }
    })
}

/// Frees a string this library handed out as owned (`od_session_to_json`).
/// NULL is ignored.
///
/// # Safety
/// `s` must be NULL or such a string, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_string_free(s: *mut c_char) {
    guard_value((), || {
        if !s.is_null() {
            // SAFETY: from CString::into_raw in this library, freed once.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_a_status() {
        let s = ffi_call(|| panic!("boom"));
        assert_eq!(s, od_status::OD_ERR_PANIC);
        assert_eq!(
            super::super::last_error::od_last_error_status(),
            od_status::OD_ERR_PANIC
        );
        assert_eq!(ffi_call(|| Ok(())), od_status::OD_OK);
        assert_eq!(
            super::super::last_error::od_last_error_status(),
            od_status::OD_OK
        );
        assert_eq!(guard_value(7, || panic!("x")), 7);
    }

    #[test]
    fn arguments_are_checked() {
        // SAFETY: NULL and valid C strings only.
        unsafe {
            assert_eq!(
                str_arg(std::ptr::null(), "x").unwrap_err().status,
                od_status::OD_ERR_NULL_ARGUMENT
            );
            let bad = c"\xff\xfe";
            assert_eq!(
                str_arg(bad.as_ptr(), "x").unwrap_err().status,
                od_status::OD_ERR_INVALID_UTF8
            );
            assert_eq!(str_arg(c"ok".as_ptr(), "x").unwrap(), "ok");
            assert_eq!(opt_str_arg(std::ptr::null(), "x").unwrap(), None);
            assert_eq!(bytes_arg(std::ptr::null(), 0, "d").unwrap(), b"");
            assert!(bytes_arg(std::ptr::null(), 1, "d").is_err());
        }
        assert!(Out::<u8>::new(std::ptr::null_mut(), "out").is_err());
    }
}
