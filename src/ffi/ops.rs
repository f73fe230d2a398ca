//! The operations: upload, url_upload, copy, and reading an item.

use std::ffi::{c_char, c_int, c_void};

use crate::graph::address::{Conflict, UploadTarget};
use crate::graph::address::{Drive, ItemRef};
use crate::graph::control::Control;
use crate::graph::copy::{CopyApi, CopyOptions};

use super::boundary::{
    FfiError, FfiResult, Out, bytes_arg, ffi_call, handle_arg, into_raw, opt_handle_arg,
    opt_str_arg, str_arg,
};
use super::client::{od_cancel, od_client};
use super::item::od_item;
use super::job::od_job;
use super::status::od_status;

/// A progress callback: `done` of `total` (bytes for transfers; for jobs,
/// percent × 100 of 10000). Return 0 to go on, non-zero to stop the call
/// with `OD_ERR_ABORTED_BY_CALLBACK`. Called on the thread that made the
/// call, never after the call returned.
pub type od_progress_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, done: u64, total: u64) -> c_int>;

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

/// `od_copy` flag: send the older OneDrive API form `…/action.copy`
/// instead of Graph's `…/copy`.
pub const OD_COPY_LEGACY: u32 = 1;

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
    ffi_call(|| {
        let out = Out::new(out_item, "out_item")?;
        // SAFETY: the caller's pointers are NULL or valid (see above).
        let (client, drive, item, name, data) = unsafe {
            (
                handle_arg(client, "client")?,
                drive_arg(drive)?,
                str_arg(item, "item")?,
                opt_str_arg(name, "name")?,
                bytes_arg(data, len, "data")?,
            )
        };
        let conflict = conflict_arg(conflict)?;
        let target = UploadTarget::new(item, name)?;
        // SAFETY: the caller passes NULL or a live flag.
        let cancel = unsafe { opt_handle_arg(cancel) };
        let result = with_control(progress, userdata, cancel, |ctl| {
            client.client.upload(&drive, &target, data, conflict, ctl)
        })?;
        // SAFETY: checked non-NULL; writable as the caller promises.
        unsafe { out.write(into_raw(od_item::new(result))) };
        Ok(())
    })
}

/// Asks the service to download `source_url` into a new file `name` in the
/// folder `parent` (upload from URL), and gives back the job to follow.
///
/// The service has retired this feature and never offered it on Business
/// drives: its refusal is `OD_ERR_NOT_SUPPORTED`, with the service's
/// message in the last error.
///
/// - `drive`: NULL = `/me/drive`; `parent`, `name`, `source_url` required.
/// - `out_job`: receives the job on `OD_OK`; the caller frees it with
///   `od_job_free`.
///
/// Blocking: one request, bounded by the request timeout (no cancel flag).
/// Any thread.
///
/// # Safety
/// Pointers must be NULL or valid NUL-terminated strings / live handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_url_upload(
    client: *const od_client,
    drive: *const c_char,
    parent: *const c_char,
    name: *const c_char,
    source_url: *const c_char,
    out_job: *mut *mut od_job,
) -> od_status {
    ffi_call(|| {
        let out = Out::new(out_job, "out_job")?;
        // SAFETY: the caller's pointers are NULL or valid.
        let (client, drive, parent, name, source_url) = unsafe {
            (
                handle_arg(client, "client")?,
                drive_arg(drive)?,
                item_arg(parent, "parent")?,
                str_arg(name, "name")?,
                str_arg(source_url, "source_url")?,
            )
        };
        let job =
            client
                .client
                .url_upload(&drive, &parent, name, source_url, &mut Control::none())?;
        // SAFETY: checked non-NULL; writable as the caller promises.
        unsafe { out.write(into_raw(od_job::new(job))) };
        Ok(())
    })
}

/// Starts a server-side copy of `source` into the folder `dest_parent`, and
/// gives back the job to follow.
///
/// - `drive`: the source's drive prefix; NULL = `/me/drive`.
/// - `source`, `dest_parent`: item references (`/path`, `ID`, `ID:/rel`);
///   the destination goes to the service as an id or as a path, never both.
/// - `dest_drive_id`: the destination drive's id, NULL for the same drive.
/// - `new_name`: a name for the copy, NULL to keep the source's.
/// - `conflict`: an `od_conflict`; a name in use with `OD_CONFLICT_FAIL`
///   (the service's default for copies) may be refused at once:
///   `OD_ERR_CONFLICT`.
/// - `flags`: 0, or `OD_COPY_LEGACY`.
/// - `out_job`: receives the job on `OD_OK`; free it with `od_job_free`.
///
/// Blocking: one request (never repeated after the service may have acted
/// on it), bounded by the request timeout; no cancel flag. Any thread.
///
/// # Safety
/// Pointers must be NULL or valid NUL-terminated strings / live handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_copy(
    client: *const od_client,
    drive: *const c_char,
    source: *const c_char,
    dest_parent: *const c_char,
    dest_drive_id: *const c_char,
    new_name: *const c_char,
    conflict: i32,
    flags: u32,
    out_job: *mut *mut od_job,
) -> od_status {
    ffi_call(|| {
        let out = Out::new(out_job, "out_job")?;
        // SAFETY: the caller's pointers are NULL or valid.
        let (client, drive, source, dest_parent, dest_drive_id, new_name) = unsafe {
            (
                handle_arg(client, "client")?,
                drive_arg(drive)?,
                item_arg(source, "source")?,
                item_arg(dest_parent, "dest_parent")?,
                opt_str_arg(dest_drive_id, "dest_drive_id")?,
                opt_str_arg(new_name, "new_name")?,
            )
        };
        if flags & !OD_COPY_LEGACY != 0 {
            return Err(FfiError::new(
                od_status::OD_ERR_INVALID_ARGUMENT,
                format!("unknown flags {flags:#x}"),
            ));
        }
        let opts = CopyOptions {
            dest_drive_id: dest_drive_id.map(str::to_owned),
            name: new_name.map(str::to_owned),
            conflict: conflict_arg(conflict)?,
            api: if flags & OD_COPY_LEGACY != 0 {
                CopyApi::Legacy
            } else {
                CopyApi::Graph
            },
        };
        let job = client
            .client
            .copy(&drive, &source, &dest_parent, &opts, &mut Control::none())?;
        // SAFETY: checked non-NULL; writable as the caller promises.
        unsafe { out.write(into_raw(od_job::new(job))) };
        Ok(())
    })
}

/// Reads an item's metadata (`GET …/items/{id}` or `…/root:/path:`).
///
/// - `drive`: NULL = `/me/drive`; `item` required.
/// - `out_item`: receives the item on `OD_OK`; free it with `od_item_free`.
///
/// Blocking. Any thread.
///
/// # Safety
/// Pointers must be NULL or valid NUL-terminated strings / live handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_get(
    client: *const od_client,
    drive: *const c_char,
    item: *const c_char,
    out_item: *mut *mut od_item,
) -> od_status {
    ffi_call(|| {
        let out = Out::new(out_item, "out_item")?;
        // SAFETY: the caller's pointers are NULL or valid.
        let (client, drive, item) = unsafe {
            (
                handle_arg(client, "client")?,
                drive_arg(drive)?,
                item_arg(item, "item")?,
            )
        };
        let found = client.client.item(&drive, &item, &mut Control::none())?;
        // SAFETY: checked non-NULL; writable as the caller promises.
        unsafe { out.write(into_raw(od_item::new(found))) };
        Ok(())
    })
}
