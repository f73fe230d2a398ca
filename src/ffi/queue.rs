//! `od_queue`: the durable transfer queue (see `crate::queue`) for C.

use std::ffi::{CString, c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, UNIX_EPOCH};

use crate::graph::error::{Error, ErrorKind};
use crate::queue::{
    Event, EventKind, Queue, QueueHandle, QueueOptions, StateSet, Transfer, TransferKind,
    TransferState, WaitReason,
};

use super::args::{conflict_arg, drive_arg, flags_arg, item_arg};
use super::boundary::{
    FfiError, FfiResult, Out, ffi_call, ffi_new, free_box, guard_value, handle_arg, into_raw,
    opt_handle_arg, opt_str_arg, str_arg,
};
use super::client::{od_cancel, od_client};
use super::item::od_item;
use super::status::od_status;

/// Where a transfer stands.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum od_transfer_state {
    /// Waiting for a free slot.
    OD_TRANSFER_QUEUED = 0,
    /// Being sent (`od_transfer_done` / `od_transfer_total`).
    OD_TRANSFER_RUNNING = 1,
    /// Paused by the app (`od_queue_resume`).
    OD_TRANSFER_PAUSED = 2,
    /// Waiting for the network or for a retry (`od_transfer_wait_reason`).
    OD_TRANSFER_WAITING = 3,
    /// Done: `od_transfer_item` (or `od_transfer_item_json`).
    OD_TRANSFER_COMPLETED = 4,
    /// Ended by a permanent error: `od_transfer_error_status` and the rest.
    OD_TRANSFER_FAILED = 5,
    /// Cancelled by the app.
    OD_TRANSFER_CANCELLED = 6,
}

/// What a transfer does.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum od_transfer_kind {
    /// A local file to a drive (`od_queue_enqueue_upload`).
    OD_TRANSFER_UPLOAD = 0,
    /// The service fetches a URL (`od_queue_enqueue_url_upload`).
    OD_TRANSFER_URL_UPLOAD = 1,
    /// A server-side copy (`od_queue_enqueue_copy`).
    OD_TRANSFER_COPY = 2,
}

/// Why a waiting transfer waits.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum od_wait_reason {
    /// Not waiting.
    OD_WAIT_NONE = 0,
    /// The app said "not now" (`od_queue_set_online(q, 0)`).
    OD_WAIT_OFFLINE = 1,
    /// A transient error: retried at `od_transfer_retry_at_ms`.
    OD_WAIT_RETRY = 2,
}

/// What an `od_queue_event` tells.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum od_queue_event_kind {
    /// The transfer entered `state`.
    OD_QUEUE_EVENT_STATE = 0,
    /// A running transfer moved on: `done` of `total`.
    OD_QUEUE_EVENT_PROGRESS = 1,
}

/// `od_queue_open` flag: start offline (nothing runs until
/// `od_queue_set_online(q, 1)`).
pub const OD_QUEUE_START_OFFLINE: u32 = 1;
/// `od_queue_open` flag: keep no events for `od_queue_next_event` (for an
/// app that uses only the callback; undrained state changes accumulate).
pub const OD_QUEUE_NO_POLLING: u32 = 2;

/// The event callback: called on the queue's event thread, one event at a
/// time, in order, never with a lock of the queue held.
///
/// - `id`: the transfer;
/// - `kind`: an `od_queue_event_kind`;
/// - `state`: for `OD_QUEUE_EVENT_STATE`, the new `od_transfer_state`; else -1;
/// - `done`, `total`: for `OD_QUEUE_EVENT_PROGRESS`, uploads in bytes,
///   copies and uploads from URL in hundredths of a percent of 10000;
///   else 0.
///
/// Inside it any `od_queue_*` call is allowed except `od_queue_close` (it
/// fails with `OD_ERR_INVALID_STATE`), `od_queue_free` (it does nothing
/// there) and `od_queue_wait_idle` (the queue cannot go idle while its
/// callback waits). It must return normally (no longjmp, no C++ exception
/// through it).
pub type od_queue_event_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        id: u64,
        kind: i32,
        state: i32,
        done: u64,
        total: u64,
    ),
>;

/// A durable transfer queue. Opaque. Any number of threads may use one
/// queue at once; free it once, when none does.
///
/// Methods:
/// - `od_queue_open`, `od_queue_close`, `od_queue_free`: open (restoring
///   what the directory records), stop, free.
/// - Enqueue: `od_queue_enqueue_upload`, `od_queue_enqueue_url_upload`,
///   `od_queue_enqueue_copy`.
/// - Control: `od_queue_pause`, `od_queue_resume`, `od_queue_cancel`,
///   `od_queue_pause_all`, `od_queue_resume_all`, `od_queue_cancel_all`,
///   `od_queue_remove`, `od_queue_remove_finished`,
///   `od_queue_set_max_running`, `od_queue_set_online`.
/// - Reading: `od_queue_get`, `od_queue_list`, `od_queue_totals`.
/// - Events: `od_queue_set_event_callback`, `od_queue_next_event`,
///   `od_queue_wait_idle`.
pub struct od_queue {
    handle: QueueHandle,
    /// The queue itself, until `od_queue_close`.
    queue: Mutex<Option<Queue>>,
}

/// One transfer as it was when read. Opaque, immutable; strings borrowed
/// from it live until `od_transfer_free` (or the list's free).
///
/// Methods:
/// - Made by `od_queue_get` (and borrowed from a list:
///   `od_transfer_list_get`); `od_transfer_free` frees one from
///   `od_queue_get`.
/// - `od_transfer_id`, `od_transfer_get_kind`, `od_transfer_get_state`,
///   `od_transfer_wait_reason`, `od_transfer_retry_at_ms`,
///   `od_transfer_done`, `od_transfer_total`, `od_transfer_name`,
///   `od_transfer_item`, `od_transfer_item_json`.
/// - Its last error: `od_transfer_error_status`,
///   `od_transfer_error_http_status`, `od_transfer_error_code`,
///   `od_transfer_error_inner_code`, `od_transfer_error_message`,
///   `od_transfer_error_request_id`.
pub struct od_transfer {
    t: Transfer,
    name: CString,
    item_json: Option<CString>,
    code: Option<CString>,
    inner_code: Option<CString>,
    message: Option<CString>,
    request_id: Option<CString>,
}

/// Transfers read together (`od_queue_list`). Opaque, immutable.
///
/// Methods:
/// - Made by `od_queue_list`; `od_transfer_list_count`,
///   `od_transfer_list_get` (a transfer borrowed from the list),
///   `od_transfer_list_free`.
pub struct od_transfer_list {
    items: Vec<od_transfer>,
}

fn cstring(s: &str) -> CString {
    // Strings from the service or from C (no NUL inside); cut at one if any.
    CString::new(s.split('\0').next().unwrap_or_default()).unwrap_or_default()
}

impl od_transfer {
    fn new(t: Transfer) -> od_transfer {
        let e = t.error.as_ref();
        od_transfer {
            name: cstring(&t.name),
            item_json: t.item.as_ref().map(|i| cstring(i.raw_json())),
            code: e.and_then(|e| e.code.as_deref()).map(cstring),
            inner_code: e.and_then(|e| e.inner_code.as_deref()).map(cstring),
            message: e.map(|e| cstring(&e.message)),
            request_id: e.and_then(|e| e.request_id.as_deref()).map(cstring),
            t,
        }
    }
}

fn state_of(s: TransferState) -> od_transfer_state {
    use od_transfer_state::*;
    match s {
        TransferState::Queued => OD_TRANSFER_QUEUED,
        TransferState::Running => OD_TRANSFER_RUNNING,
        TransferState::Paused => OD_TRANSFER_PAUSED,
        TransferState::Waiting => OD_TRANSFER_WAITING,
        TransferState::Completed => OD_TRANSFER_COMPLETED,
        TransferState::Failed => OD_TRANSFER_FAILED,
        TransferState::Cancelled => OD_TRANSFER_CANCELLED,
    }
}

/// An event as `(id, kind, state, done, total)` (see `od_queue_event_fn`).
fn event_of(e: &Event) -> (u64, i32, i32, u64, u64) {
    match e.kind {
        EventKind::State(s) => (
            e.id,
            od_queue_event_kind::OD_QUEUE_EVENT_STATE as i32,
            state_of(s) as i32,
            0,
            0,
        ),
        EventKind::Progress { done, total } => (
            e.id,
            od_queue_event_kind::OD_QUEUE_EVENT_PROGRESS as i32,
            -1,
            done,
            total,
        ),
    }
}

/// Opens (creating) the queue kept in the directory `dir` and restores
/// every transfer recorded there; those that were queued, running or
/// waiting start again (their upload sessions resumed, their jobs
/// followed). Transfers run on the queue's own threads through `client`
/// (shared: its token, settings and rate cap apply to all).
///
/// - `client`: required; the queue keeps its own reference (the client may
///   be freed afterwards).
/// - `dir`: required; the app's private storage. One queue per directory:
///   a second open (in any process) fails with `OD_ERR_INVALID_STATE`.
/// - `max_running`: transfers at once, at least 1.
/// - `flags`: `OD_QUEUE_START_OFFLINE`, `OD_QUEUE_NO_POLLING`, or 0.
/// - `out_queue`: receives the queue on `OD_OK`; free it with `od_queue_free`.
///
/// Any thread.
///
/// # Safety
/// `client` must be NULL or live; strings NULL or NUL-terminated;
/// `out_queue` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_open(
    client: *const od_client,
    dir: *const c_char,
    max_running: u32,
    flags: u32,
    out_queue: *mut *mut od_queue,
) -> od_status {
    ffi_call(|| {
        let out = Out::new(out_queue, "out_queue")?;
        // SAFETY: the caller passes a live client or NULL, a NUL-terminated
        // string or NULL.
        let (client, dir) = unsafe { (handle_arg(client, "client")?, str_arg(dir, "dir")?) };
        let flags = flags_arg(
            flags,
            OD_QUEUE_START_OFFLINE | OD_QUEUE_NO_POLLING,
            "od_queue_open flags",
        )?;
        let opts = QueueOptions {
            max_running: max_running as usize,
            start_offline: flags & OD_QUEUE_START_OFFLINE != 0,
            poll_events: flags & OD_QUEUE_NO_POLLING == 0,
            ..QueueOptions::default()
        };
        let queue = Queue::open(client.client.clone(), Path::new(dir), opts)?;
        let q = od_queue {
            handle: queue.handle(),
            queue: Mutex::new(Some(queue)),
        };
        // SAFETY: checked non-NULL; writable as the caller promises.
        unsafe { out.write(into_raw(q)) };
        Ok(())
    })
}

/// Stops the queue: running transfers are interrupted at a safe point and
/// stay resumable (they go on at the next `od_queue_open`), its threads
/// end, the directory is unlocked. Afterwards the queue can still be read
/// (`od_queue_get`, `od_queue_list`, `od_queue_totals`); calls that change
/// it fail with `OD_ERR_INVALID_STATE`. Closing twice is `OD_OK`.
/// From inside the event callback: `OD_ERR_INVALID_STATE` (it would wait
/// for itself). Any other thread.
///
/// # Safety
/// `queue` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_close(queue: *const od_queue) -> od_status {
    ffi_call(|| {
        // SAFETY: the caller passes a live queue or NULL.
        let q = unsafe { handle_arg(queue, "queue") }?;
        // Checked before the lock: another thread may hold it while it
        // waits for this one to return.
        if q.handle.on_queue_thread() {
            return Err(FfiError::from(Error::new(
                ErrorKind::InvalidState,
                "a queue cannot be closed from its own event callback",
            )));
        }
        let taken = q
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match taken {
            None => Ok(()),
            Some(queue) => queue.close().map_err(FfiError::from),
        }
    })
}

/// Closes the queue (as `od_queue_close`) and frees it. NULL is ignored.
/// Transfers read from it (`od_transfer`, lists) stay valid. From inside
/// the event callback it does nothing (free the queue from another
/// thread). Must not be called while another thread still uses the queue.
///
/// # Safety
/// `queue` must be NULL or a queue from `od_queue_open` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_free(queue: *mut od_queue) {
    guard_value((), || {
        // SAFETY: the caller passes a live queue or NULL.
        if let Some(q) = unsafe { queue.as_ref() } {
            // SAFETY: as above.
            if unsafe { od_queue_close(queue) } != od_status::OD_OK {
                return;
            }
            let _ = q;
        }
        // SAFETY: forwarded from the caller.
        unsafe { free_box(queue) }
    })
}

/// Writes a new transfer's id.
fn enqueued(out: Out<u64>, id: crate::graph::error::Result<u64>) -> FfiResult {
    let id = id?;
    // SAFETY: checked non-NULL by `Out::new`; writable as the caller promises.
    unsafe { out.write(id) };
    Ok(())
}

/// Enqueues the upload of the local file `path` as `name` in the folder
/// `parent` of `drive`. The file's size and modification time are recorded
/// now: a file changed before or while it is sent fails the transfer with
/// `OD_ERR_HASH_MISMATCH` rather than being sent half old, half new.
///
/// - `path`, `parent` (`/folder`, `ID`, `ID:/rel`), `name`: required; copied.
/// - `drive`: NULL = `/me/drive`.
/// - `conflict`: an `od_conflict`. `OD_CONFLICT_RENAME` is sent as "fail"
///   first (so that a request of a killed process landing late is never a
///   second copy), then as "rename" when another file holds the name.
/// - `out_id`: receives the transfer's id (stable across reopenings,
///   never reused).
///
/// The transfer is on disk when this returns `OD_OK`. Any thread.
///
/// # Safety
/// `queue` NULL or live; strings NULL or NUL-terminated; `out_id` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_enqueue_upload(
    queue: *const od_queue,
    path: *const c_char,
    drive: *const c_char,
    parent: *const c_char,
    name: *const c_char,
    conflict: i32,
    out_id: *mut u64,
) -> od_status {
    ffi_call(|| {
        let out = Out::new(out_id, "out_id")?;
        // SAFETY: the caller passes a live queue or NULL and strings that
        // are NUL-terminated or NULL.
        let (q, path, drive, parent, name) = unsafe {
            (
                handle_arg(queue, "queue")?,
                str_arg(path, "path")?,
                drive_arg(drive)?,
                item_arg(parent, "parent")?,
                str_arg(name, "name")?,
            )
        };
        let conflict = conflict_arg(conflict)?;
        enqueued(
            out,
            q.handle
                .enqueue_upload(&PathBuf::from(path), &drive, &parent, name, conflict),
        )
    })
}

/// Enqueues an upload from URL: the service fetches `source_url` into a
/// new file `name` in the folder `parent`. Its request is recorded before
/// it is sent and its monitor URL after; a request that may have reached
/// the service without its answer being kept (a kill, a dropped
/// connection) is never sent again: the transfer completes when the file
/// shows at its destination, else fails with `OD_ERR_UNKNOWN_OUTCOME`.
///
/// - `source_url`, `parent`, `name`: required; `drive`: NULL = `/me/drive`.
/// - `out_id`: receives the transfer's id.
///
/// Any thread.
///
/// # Safety
/// `queue` NULL or live; strings NULL or NUL-terminated; `out_id` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_enqueue_url_upload(
    queue: *const od_queue,
    source_url: *const c_char,
    drive: *const c_char,
    parent: *const c_char,
    name: *const c_char,
    out_id: *mut u64,
) -> od_status {
    ffi_call(|| {
        let out = Out::new(out_id, "out_id")?;
        // SAFETY: as for `od_queue_enqueue_upload`.
        let (q, url, drive, parent, name) = unsafe {
            (
                handle_arg(queue, "queue")?,
                str_arg(source_url, "source_url")?,
                drive_arg(drive)?,
                item_arg(parent, "parent")?,
                str_arg(name, "name")?,
            )
        };
        enqueued(out, q.handle.enqueue_url_upload(url, &drive, &parent, name))
    })
}

/// Enqueues a server-side copy of `source` (of `drive`) into the folder
/// `dest_parent`, of the drive `dest_drive_id` (NULL: the same drive),
/// named `name` (NULL: the source's name). Never posted twice, as
/// `od_queue_enqueue_url_upload` says.
///
/// - `source`, `dest_parent`: required; `drive`: NULL = `/me/drive`.
/// - `conflict`: an `od_conflict`.
/// - `out_id`: receives the transfer's id.
///
/// Any thread.
///
/// # Safety
/// `queue` NULL or live; strings NULL or NUL-terminated; `out_id` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_enqueue_copy(
    queue: *const od_queue,
    drive: *const c_char,
    source: *const c_char,
    dest_parent: *const c_char,
    dest_drive_id: *const c_char,
    name: *const c_char,
    conflict: i32,
    out_id: *mut u64,
) -> od_status {
    ffi_call(|| {
        let out = Out::new(out_id, "out_id")?;
        // SAFETY: as for `od_queue_enqueue_upload`.
        let (q, drive, source, dest_parent, dest_drive, name) = unsafe {
            (
                handle_arg(queue, "queue")?,
                drive_arg(drive)?,
                item_arg(source, "source")?,
                item_arg(dest_parent, "dest_parent")?,
                opt_str_arg(dest_drive_id, "dest_drive_id")?,
                opt_str_arg(name, "name")?,
            )
        };
        let conflict = conflict_arg(conflict)?;
        enqueued(
            out,
            q.handle
                .enqueue_copy(&drive, &source, &dest_parent, dest_drive, name, conflict),
        )
    })
}

/// Runs `f` on the queue's handle.
///
/// # Safety
/// `queue` must be NULL or live.
unsafe fn with_queue(
    queue: *const od_queue,
    f: impl FnOnce(&QueueHandle) -> crate::graph::error::Result<()>,
) -> od_status {
    ffi_call(|| {
        // SAFETY: forwarded from the caller.
        let q = unsafe { handle_arg(queue, "queue") }?;
        f(&q.handle).map_err(FfiError::from)
    })
}

/// Pauses a transfer: a running one stops at once (an upload session is
/// kept, to go on from where it stood). A paused one: `OD_OK`; a finished
/// one: `OD_ERR_INVALID_STATE`; an unknown id: `OD_ERR_NOT_FOUND`. Any
/// thread, also inside the event callback.
///
/// # Safety
/// `queue` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_pause(queue: *const od_queue, id: u64) -> od_status {
    // SAFETY: forwarded from the caller.
    unsafe { with_queue(queue, |q| q.pause(id)) }
}

/// Resumes a paused transfer (`OD_OK` and nothing done for one that is
/// not paused; `OD_ERR_INVALID_STATE` for a finished one; `OD_ERR_NOT_FOUND`
/// for an unknown id). Any thread, also inside the event callback.
///
/// # Safety
/// `queue` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_resume(queue: *const od_queue, id: u64) -> od_status {
    // SAFETY: forwarded from the caller.
    unsafe { with_queue(queue, |q| q.resume(id)) }
}

/// Cancels a transfer: a running one stops at once, an upload session is
/// deleted on the service. A cancelled one: `OD_OK`; a completed or failed
/// one: `OD_ERR_INVALID_STATE`; an unknown id: `OD_ERR_NOT_FOUND`. Any
/// thread, also inside the event callback.
///
/// # Safety
/// `queue` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_cancel(queue: *const od_queue, id: u64) -> od_status {
    // SAFETY: forwarded from the caller.
    unsafe { with_queue(queue, |q| q.cancel(id)) }
}

/// `od_queue_pause` for every unfinished transfer. Any thread.
///
/// # Safety
/// `queue` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_pause_all(queue: *const od_queue) -> od_status {
    // SAFETY: forwarded from the caller.
    unsafe { with_queue(queue, QueueHandle::pause_all) }
}

/// `od_queue_resume` for every paused transfer. Any thread.
///
/// # Safety
/// `queue` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_resume_all(queue: *const od_queue) -> od_status {
    // SAFETY: forwarded from the caller.
    unsafe { with_queue(queue, QueueHandle::resume_all) }
}

/// `od_queue_cancel` for every unfinished transfer. Any thread.
///
/// # Safety
/// `queue` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_cancel_all(queue: *const od_queue) -> od_status {
    // SAFETY: forwarded from the caller.
    unsafe { with_queue(queue, QueueHandle::cancel_all) }
}

/// Removes a finished transfer (its id is never used again).
/// `OD_ERR_INVALID_STATE` for one that has not finished, `OD_ERR_NOT_FOUND`
/// for an unknown id. Any thread.
///
/// # Safety
/// `queue` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_remove(queue: *const od_queue, id: u64) -> od_status {
    // SAFETY: forwarded from the caller.
    unsafe { with_queue(queue, |q| q.remove(id)) }
}

/// Removes every finished transfer; `out_count` (may be NULL) receives
/// how many. Any thread.
///
/// # Safety
/// `queue` must be NULL or live; `out_count` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_remove_finished(
    queue: *const od_queue,
    out_count: *mut u64,
) -> od_status {
    let out = Out::optional(out_count);
    // SAFETY: forwarded from the caller.
    unsafe {
        with_queue(queue, |q| {
            let n = q.remove_finished()?;
            if let Some(out) = out {
                // SAFETY: non-NULL; writable as the caller promises.
                out.write(n as u64);
            }
            Ok(())
        })
    }
}

/// How many transfers may run at once (at least 1, else
/// `OD_ERR_INVALID_ARGUMENT`). Lowering it lets running ones finish. Any
/// thread.
///
/// # Safety
/// `queue` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_set_max_running(queue: *const od_queue, n: u32) -> od_status {
    // SAFETY: forwarded from the caller.
    unsafe { with_queue(queue, |q| q.set_max_running(n as usize)) }
}

/// "Not now" (offline, or on a metered network): `online` 0 stops running
/// transfers at once and makes every unfinished one wait
/// (`OD_WAIT_OFFLINE`) without counting it as a failure; non-zero lets
/// them go on. Any thread.
///
/// # Safety
/// `queue` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_set_online(queue: *const od_queue, online: c_int) -> od_status {
    // SAFETY: forwarded from the caller.
    unsafe {
        with_queue(queue, |q| {
            q.set_online(online != 0);
            Ok(())
        })
    }
}

mod read;
pub use read::*;

#[cfg(test)]
mod tests;
