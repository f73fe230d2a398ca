//! Downloads from C: to a file, to a write callback; the download rate cap.

use std::ffi::{c_char, c_int, c_void};
use std::path::Path;

use crate::graph::error::Error;

use super::args::{drive_arg, item_arg, od_progress_fn, with_control};
use super::boundary::{FfiError, Out, ffi_call, handle_arg, into_raw, opt_handle_arg, str_arg};
use super::cancel::od_cancel;
use super::client::od_client;
use super::item::od_item;
use super::status::od_status;

/// Takes the next `len` bytes of a download (`data` is valid only during
/// the call). Return 0 to go on, non-zero to stop the download with
/// `OD_ERR_ABORTED_BY_CALLBACK`. Called on the thread that made the call,
/// never after it returned, with the file's bytes in order. It must
/// return normally (no longjmp, no C++ exception through it; see
/// `od_progress_fn`).
pub type od_write_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, data: *const u8, len: usize) -> c_int>;

/// Writes the item to an optional out-param (dropped when it is NULL).
///
/// # Safety
/// As for [`Out::write`].
unsafe fn give_item(out: Option<Out<*mut od_item>>, item: crate::graph::item::Item) {
    if let Some(out) = out {
        // SAFETY: non-NULL; writable as the caller promises.
        unsafe { out.write(into_raw(od_item::new(item))) };
    }
}

/// Downloads a file to `local_path` and gives back its item (as read
/// before the download).
///
/// The bytes go to a temporary file beside the target, `.NAME.odpart`
/// (with the eTag they came from in `.NAME.odpart.etag`), renamed to
/// `local_path` only once complete and verified: an interrupted download
/// never leaves a partial file under the target's name. A later call for
/// the same `local_path` resumes from the temporary file (`Range` and
/// `If-Range`) when the file on the service is unchanged, and starts over
/// otherwise (never splicing two versions). A connection cut mid-way is
/// resumed the same way within the call, under the client's retry policy.
///
/// - `drive`: NULL = `/me/drive`; `item`: required (`/a/b.txt`, an id,
///   `ID:/rel`); a folder is `OD_ERR_INVALID_ARGUMENT`.
/// - `local_path`: required, UTF-8; its folder must exist; a file there is
///   replaced. Local failures are `OD_ERR_IO`.
/// - `progress`, `userdata`: optional (NULL): bytes had of the file's size,
///   at least every 64 KiB.
/// - `cancel`: optional (NULL): the call returns within about 100 ms of
///   `od_cancel_trigger` with `OD_ERR_CANCELLED` (the temporary file kept
///   for a resume).
/// - `out_item`: optional (NULL when not wanted): receives the item on
///   `OD_OK`; free it with `od_item_free`.
///
/// Integrity: the size, the quickXorHash the service reports and its
/// SHA-1 where it gives one (personal drives) are checked:
/// `OD_ERR_HASH_MISMATCH` on a difference, the temporary file removed.
/// The content comes from the pre-authenticated URL the item names
/// (`@microsoft.graph.downloadUrl`), or the one `…/content` redirects to
/// when that no longer works: fetched without the token and never logged
/// or shown (messages carry its origin only). Paced by
/// `od_client_set_download_rate`. Memory stays bounded (a 64 KiB buffer).
///
/// Blocking. Any thread; two downloads to the same `local_path` at once
/// are not supported.
///
/// # Safety
/// Pointers must be NULL or valid NUL-terminated strings / live handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_download_file(
    client: *const od_client,
    drive: *const c_char,
    item: *const c_char,
    local_path: *const c_char,
    progress: od_progress_fn,
    userdata: *mut c_void,
    cancel: *const od_cancel,
    out_item: *mut *mut od_item,
) -> od_status {
    ffi_call(|| {
        let out = Out::optional(out_item);
        // SAFETY: the caller's pointers are NULL or valid.
        let (client, drive, item, path, cancel) = unsafe {
            (
                handle_arg(client, "client")?,
                drive_arg(drive)?,
                item_arg(item, "item")?,
                str_arg(local_path, "local_path")?,
                opt_handle_arg(cancel),
            )
        };
        let got = with_control(progress, userdata, cancel, |ctl| {
            client
                .client
                .download_file(&drive, &item, Path::new(path), ctl)
        })?;
        // SAFETY: NULL or writable as the caller promises.
        unsafe { give_item(out, got) };
        Ok(())
    })
}

/// Downloads a file into `write`, called with its bytes in order, and
/// gives back its item (as read before the download).
///
/// A connection cut mid-way is resumed within the call (`Range`,
/// `If-Range`): `write` never sees a byte twice. When the service answers
/// a resume with the whole file (it ignored `Range`, or the file changed),
/// the bytes `write` already had are passed over; the hash check at the
/// end then tells whether all it had is the service's file. The bytes are
/// the file's only when the call gives `OD_OK`: after
/// `OD_ERR_HASH_MISMATCH` (or any error) drop what `write` received.
///
/// - `drive`, `item`: as for `od_download_file`.
/// - `write`: required; `write_userdata` is passed to it.
/// - `progress`, `userdata`, `cancel`, `out_item`: as for
///   `od_download_file`.
///
/// Blocking. Any thread.
///
/// # Safety
/// Pointers must be NULL or valid NUL-terminated strings / live handles;
/// `write` must be safe to call with `write_userdata` during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_download_stream(
    client: *const od_client,
    drive: *const c_char,
    item: *const c_char,
    write: od_write_fn,
    write_userdata: *mut c_void,
    progress: od_progress_fn,
    userdata: *mut c_void,
    cancel: *const od_cancel,
    out_item: *mut *mut od_item,
) -> od_status {
    ffi_call(|| {
        let out = Out::optional(out_item);
        // SAFETY: the caller's pointers are NULL or valid.
        let (client, drive, item, cancel) = unsafe {
            (
                handle_arg(client, "client")?,
                drive_arg(drive)?,
                item_arg(item, "item")?,
                opt_handle_arg(cancel),
            )
        };
        let write = write
            .ok_or_else(|| FfiError::new(od_status::OD_ERR_NULL_ARGUMENT, "`write` is NULL"))?;
        let mut sink = |data: &[u8]| {
            // SAFETY: the caller gave this callback and userdata to be
            // called during the call; `data` is valid for its length.
            match unsafe { write(write_userdata, data.as_ptr(), data.len()) } {
                0 => Ok(()),
                _ => Err(Error::aborted()),
            }
        };
        let got = with_control(progress, userdata, cancel, |ctl| {
            client.client.download_with(&drive, &item, &mut sink, ctl)
        })?;
        // SAFETY: NULL or writable as the caller promises.
        unsafe { give_item(out, got) };
        Ok(())
    })
}

/// Caps the bytes per second this client's downloads receive, all
/// together; 0 removes the cap (the default). Apart from the upload cap
/// (`od_client_set_upload_rate`): one does not slow the other. Takes
/// effect for the next piece read.
///
/// `OD_ERR_NULL_ARGUMENT` when `client` is NULL. Any thread.
///
/// # Safety
/// `client` must be NULL or a live client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_client_set_download_rate(
    client: *const od_client,
    bytes_per_second: u64,
) -> od_status {
    ffi_call(|| {
        // SAFETY: the caller's pointer is NULL or valid.
        let client = unsafe { handle_arg(client, "client") }?;
        client.client.set_download_rate(bytes_per_second);
        Ok(())
    })
}
