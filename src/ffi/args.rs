//! Argument conversions every C function shares: drives, items, upload
//! targets, conflict behaviour, flags, callbacks and the cancel flag.

use std::ffi::{c_char, c_int, c_void};

use crate::graph::address::{Conflict, Drive, ItemRef, UploadTarget};
use crate::graph::control::Control;
use crate::graph::source::UploadSource;

use super::boundary::{FfiError, FfiResult, opt_str_arg, str_arg};
use super::cancel::od_cancel;
use super::status::od_status;

/// A progress callback: `done` of `total` (bytes for transfers; for jobs,
/// percent × 100 of 10000). Return 0 to go on, non-zero to stop the call
/// with `OD_ERR_ABORTED_BY_CALLBACK`. Called on the thread that made the
/// call, never after the call returned. While the call waits (a
/// Retry-After, a backoff, a job's poll interval) the last values are
/// reported again every 250 ms, so that returning non-zero stops a wait
/// too. It must return normally: no
/// longjmp out of it, no C++ exception through it (either skips the
/// library's cleanup: a lock or a connection left behind, memory leaked,
/// behaviour undefined); to stop, return non-zero.
pub type od_progress_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, done: u64, total: u64) -> c_int>;

/// Reads the next bytes of an upload into `buf` (at most `len`). Returns
/// the number of bytes read (0 only at the end), or a negative number on
/// error (the upload stops with `OD_ERR_IO`). Called on the thread that
/// made the call, never after it returned. It must return normally (no
/// longjmp, no C++ exception through it; see `od_progress_fn`); to stop,
/// return a negative number.
pub type od_read_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, buf: *mut u8, len: usize) -> i64>;

/// What to do when the name is taken (`conflict` arguments).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum od_conflict {
    /// Send nothing: the service decides (uploads replace, copies fail).
    OD_CONFLICT_DEFAULT = 0,
    /// Refuse: `OD_ERR_CONFLICT`.
    OD_CONFLICT_FAIL = 1,
    /// Replace the existing file.
    OD_CONFLICT_REPLACE = 2,
    /// Keep both: the new one gets a free name ("name 1.txt").
    OD_CONFLICT_RENAME = 3,
}

pub(crate) fn conflict_arg(n: i32) -> FfiResult<Conflict> {
    Ok(match n {
        0 => Conflict::ServiceDefault,
        1 => Conflict::Fail,
        2 => Conflict::Replace,
        3 => Conflict::Rename,
        _ => {
            return Err(FfiError::new(
                od_status::OD_ERR_INVALID_ARGUMENT,
                format!("{n} is not an od_conflict"),
            ));
        }
    })
}

/// The drive argument: NULL is `/me/drive`.
///
/// # Safety
/// `p` must be NULL or NUL-terminated.
pub(crate) unsafe fn drive_arg(p: *const c_char) -> FfiResult<Drive> {
    // SAFETY: forwarded from the caller.
    match unsafe { opt_str_arg(p, "drive") }? {
        None => Ok(Drive::Me),
        Some(s) => Ok(Drive::parse(s)?),
    }
}

/// An item argument (`/path`, `ID`, `ID:/rel/path`).
///
/// # Safety
/// `p` must be NULL or NUL-terminated.
pub(crate) unsafe fn item_arg(p: *const c_char, what: &str) -> FfiResult<ItemRef> {
    // SAFETY: forwarded from the caller.
    Ok(ItemRef::parse(unsafe { str_arg(p, what) }?)?)
}

/// The `(item, name)` pair every upload takes (see `od_upload`).
///
/// # Safety
/// Both must be NULL or NUL-terminated.
pub(crate) unsafe fn target_arg(
    item: *const c_char,
    name: *const c_char,
) -> FfiResult<UploadTarget> {
    // SAFETY: forwarded from the caller.
    let (item, name) = unsafe { (str_arg(item, "item")?, opt_str_arg(name, "name")?) };
    Ok(UploadTarget::new(item, name)?)
}

/// Refuses flag bits outside `known` (`what` names the argument).
pub(crate) fn flags_arg(flags: u32, known: u32, what: &str) -> FfiResult<u32> {
    if flags & !known != 0 {
        return Err(FfiError::new(
            od_status::OD_ERR_INVALID_ARGUMENT,
            format!("unknown {what} {:#x}", flags & !known),
        ));
    }
    Ok(flags)
}

/// Runs `f` with a Control made of the C callback and cancel flag.
pub(crate) fn with_control<T>(
    progress: od_progress_fn,
    userdata: *mut c_void,
    cancel: Option<&od_cancel>,
    f: impl FnOnce(&mut Control<'_>) -> T,
) -> T {
    let mut call = progress.map(|cb| {
        move |done: u64, total: u64| {
            // SAFETY: the caller of the operation gave this callback and
            // userdata, to be called on this thread during the call.
            unsafe { cb(userdata, done, total) == 0 }
        }
    });
    let mut ctl = Control::new(
        cancel.map(|c| &c.token),
        call.as_mut().map(|c| c as &mut dyn FnMut(u64, u64) -> bool),
    );
    f(&mut ctl)
}

/// A read callback as an upload source of a known size (forward only).
pub(crate) struct CallbackSource {
    read: unsafe extern "C" fn(*mut c_void, *mut u8, usize) -> i64,
    userdata: *mut c_void,
    size: u64,
}

impl UploadSource for CallbackSource {
    fn size(&self) -> u64 {
        self.size
    }
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // SAFETY: the caller of the upload gave this callback and userdata
        // to be called during the call; `buf` is valid for `buf.len()` bytes.
        let n = unsafe { (self.read)(self.userdata, buf.as_mut_ptr(), buf.len()) };
        match usize::try_from(n) {
            Ok(n) if n <= buf.len() => Ok(n),
            Ok(n) => Err(std::io::Error::other(format!(
                "the read callback claimed {n} bytes into a {}-byte buffer",
                buf.len()
            ))),
            Err(_) => Err(std::io::Error::other(format!(
                "the read callback failed ({n})"
            ))),
        }
    }
    fn rewind(&mut self, _pos: u64) -> std::io::Result<bool> {
        Ok(false)
    }
}

/// Takes the `(read, userdata, size)` arguments as a source.
pub(crate) fn callback_source(
    read: od_read_fn,
    userdata: *mut c_void,
    size: u64,
) -> FfiResult<CallbackSource> {
    let read =
        read.ok_or_else(|| FfiError::new(od_status::OD_ERR_NULL_ARGUMENT, "`read` is NULL"))?;
    Ok(CallbackSource {
        read,
        userdata,
        size,
    })
}
