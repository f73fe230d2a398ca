//! Uploads from C: a buffer, a file, a read callback.

use std::ffi::{c_char, c_void};
use std::path::Path;

use super::args::{
    callback_source, conflict_arg, drive_arg, od_progress_fn, od_read_fn, target_arg, with_control,
};
use crate::graph::source::{BytesSource, FileSource, UploadSource};

use super::boundary::{FfiResult, bytes_arg, ffi_new, handle_arg, opt_handle_arg, str_arg};
use super::cancel::od_cancel;
use super::client::od_client;
use super::item::od_item;
use super::status::od_status;

/// Uploads a buffer as a file and gives back the item: in one PUT up to the
/// simple-upload limit (4 MiB unless `od_client_set_upload_options` says
/// otherwise), through an upload session above it (see `od_upload_file`).
///
/// - `client`: required.
/// - `drive`: a drive prefix (`/me/drive`, `/drives/ID`, `/groups/ID/drive`,
///   `/sites/ID/drive`, `/users/ID/drive`, `/drive`); NULL = `/me/drive`.
/// - `item` and `name`: with a `name`, `item` is the parent folder (`/`,
///   `/a/b`, an id, or `ID:/rel`) and the file is `name` inside it; with
///   `name` NULL, `item` is the file itself (a path is created or
///   replaced, an id replaced). Names the service forbids give
///   `OD_ERR_INVALID_NAME` before any request.
/// - `data`, `len`: the content; `data` may be NULL only when `len` is 0.
/// - `conflict`: an `od_conflict`.
/// - `progress`, `userdata`: optional (NULL); bytes sent of `len` (for a
///   session: at the start, after each chunk, and `(len, len)` at the end).
/// - `cancel`: optional (NULL).
/// - `out_item`: receives the new item on `OD_OK`; the caller frees it with
///   `od_item_free`.
///
/// Blocking. Any thread; many at once on one client. All inputs are
/// copied or used only during the call.
///
/// # Safety
/// Pointers must be NULL or valid as described; `data` must hold `len`
/// readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_upload(
    client: *const od_client,
    drive: *const c_char,
    item: *const c_char,
    name: *const c_char,
    data: *const u8,
    len: usize,
    conflict: i32,
    progress: od_progress_fn,
    userdata: *mut c_void,
    cancel: *const od_cancel,
    out_item: *mut *mut od_item,
) -> od_status {
    // SAFETY: the caller's pointers are NULL or valid (see above).
    unsafe {
        run_upload(
            client,
            [drive, item, name],
            conflict,
            (progress, userdata, cancel),
            out_item,
            || bytes_arg(data, len, "data"),
            |data| Ok(BytesSource::new(data)),
        )
    }
}

/// Uploads a local file: one PUT up to the simple-upload limit, an upload
/// session above it (streamed from disk, never held in memory: a chunk sent
/// again is read again; resumed after dropped connections and 5xx; hashes
/// checked at the end,
/// `OD_ERR_HASH_MISMATCH` when they differ). On failure the session is
/// deleted from the service.
///
/// Arguments as for `od_upload`, with `path` (required; UTF-8) in place of
/// the buffer. Progress: `(bytes the service has, size)`, after each chunk.
/// `out_item` receives the item on `OD_OK` (free with `od_item_free`).
///
/// Blocking. Any thread; many at once on one client.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_upload_file(
    client: *const od_client,
    drive: *const c_char,
    item: *const c_char,
    name: *const c_char,
    path: *const c_char,
    conflict: i32,
    progress: od_progress_fn,
    userdata: *mut c_void,
    cancel: *const od_cancel,
    out_item: *mut *mut od_item,
) -> od_status {
    // SAFETY: the caller's pointers are NULL or valid.
    unsafe {
        run_upload(
            client,
            [drive, item, name],
            conflict,
            (progress, userdata, cancel),
            out_item,
            || str_arg(path, "path"),
            |path| FileSource::open(Path::new(path)),
        )
    }
}

/// Uploads `size` bytes that `read` supplies (an app's own storage, a
/// stream): one PUT up to the simple-upload limit, an upload session above
/// it. The stream cannot go back, so the current chunk is kept in memory to
/// resume within it. A callback that fails (negative return), ends before
/// `size` bytes or goes on after them ends the call with `OD_ERR_IO`; the
/// session is deleted.
///
/// `read` is required; `read_userdata` is passed to it untouched. The other
/// arguments as for `od_upload`.
///
/// Blocking. Any thread.
///
/// # Safety
/// Pointers must be NULL or valid as described; `read` must be safe to
/// call with `read_userdata` during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_upload_stream(
    client: *const od_client,
    drive: *const c_char,
    item: *const c_char,
    name: *const c_char,
    size: u64,
    read: od_read_fn,
    read_userdata: *mut c_void,
    conflict: i32,
    progress: od_progress_fn,
    userdata: *mut c_void,
    cancel: *const od_cancel,
    out_item: *mut *mut od_item,
) -> od_status {
    // SAFETY: the caller's pointers are NULL or valid; `read` is the
    // caller's to be called with `read_userdata` during the call.
    unsafe {
        run_upload(
            client,
            [drive, item, name],
            conflict,
            (progress, userdata, cancel),
            out_item,
            || callback_source(read, read_userdata, size),
            Ok,
        )
    }
}

/// What every upload shares: the client and target, the source's
/// arguments (`args`, checked before the conflict; `open` makes the source
/// after), the callbacks, one `upload_from`, the item written out.
///
/// # Safety
/// As for `od_upload`: `client` NULL or live, the strings NULL or
/// NUL-terminated, `cancel` NULL or live, `out_item` NULL or writable;
/// `args` may rely on the same.
#[allow(clippy::too_many_arguments)]
unsafe fn run_upload<T, S: UploadSource>(
    client: *const od_client,
    [drive, item, name]: [*const c_char; 3],
    conflict: i32,
    (progress, userdata, cancel): (od_progress_fn, *mut c_void, *const od_cancel),
    out_item: *mut *mut od_item,
    args: impl FnOnce() -> FfiResult<T>,
    open: impl FnOnce(T) -> crate::Result<S>,
) -> od_status {
    let made = || -> FfiResult<_> {
        // SAFETY: forwarded from the caller.
        let (client, drive, target) = unsafe {
            (
                handle_arg(client, "client")?,
                drive_arg(drive)?,
                target_arg(item, name)?,
            )
        };
        let args = args()?;
        let conflict = conflict_arg(conflict)?;
        let mut source = open(args)?;
        // SAFETY: the caller passes NULL or a live flag.
        let cancel = unsafe { opt_handle_arg(cancel) };
        let made = with_control(progress, userdata, cancel, |ctl| {
            client
                .client
                .upload_from(&drive, &target, &mut source, conflict, ctl)
        })?;
        Ok(od_item::new(made))
    };
    // SAFETY: `out_item` is NULL (refused) or writable, as the caller promises.
    unsafe { ffi_new(out_item, "out_item", made) }
}
