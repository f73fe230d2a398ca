//! Server-side copy and upload from a URL: both start a job.

use std::ffi::c_char;

use crate::graph::control::Control;
use crate::graph::copy::{CopyApi, CopyOptions};

use super::args::{conflict_arg, drive_arg, flags_arg, item_arg};
use super::boundary::{FfiResult, ffi_new, handle_arg, opt_str_arg, str_arg};
use super::client::od_client;
use super::job::od_job;
use super::status::od_status;

/// `od_copy` flag: send the older OneDrive API form `…/action.copy`
/// instead of Graph's `…/copy`.
pub const OD_COPY_LEGACY: u32 = 1;

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
/// Blocking: one request, within its deadline (see `od_client_set_timeouts`;
/// no cancel flag).
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
    let made = || -> FfiResult<_> {
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
        Ok(od_job::new(job))
    };
    // SAFETY: `out_job` is NULL (refused) or writable, as the caller promises.
    unsafe { ffi_new(out_job, "out_job", made) }
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
/// on it), within its deadline (see `od_client_set_timeouts`); no cancel
/// flag. Any thread.
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
    let made = || -> FfiResult<_> {
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
        let flags = flags_arg(flags, OD_COPY_LEGACY, "flags")?;
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
        Ok(od_job::new(job))
    };
    // SAFETY: `out_job` is NULL (refused) or writable, as the caller promises.
    unsafe { ffi_new(out_job, "out_job", made) }
}
