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
    FfiError, FfiResult, Out, ffi_call, free_box, guard_value, handle_arg, into_raw,
    opt_handle_arg, opt_str_arg, str_arg,
};
use super::client::{od_cancel, od_client};
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
    /// Done: `od_transfer_item_json`.
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
///   `od_transfer_item_json`.
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

/// Reads one transfer. `out_transfer` receives a snapshot (free it with
/// `od_transfer_free`); `OD_ERR_NOT_FOUND` for an id the queue does not
/// hold. Any thread.
///
/// # Safety
/// `queue` must be NULL or live; `out_transfer` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_get(
    queue: *const od_queue,
    id: u64,
    out_transfer: *mut *mut od_transfer,
) -> od_status {
    ffi_call(|| {
        let out = Out::new(out_transfer, "out_transfer")?;
        // SAFETY: forwarded from the caller.
        let q = unsafe { handle_arg(queue, "queue") }?;
        let t = q.handle.get(id).ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("no transfer {id} in the queue"),
            )
        })?;
        // SAFETY: checked non-NULL; writable as the caller promises.
        unsafe { out.write(into_raw(od_transfer::new(t))) };
        Ok(())
    })
}

/// Reads the transfers whose state is in `state_mask` (bit `1 << state`
/// per `od_transfer_state`; 0x7F: all), in id order. `out_list` receives
/// the list; free it with `od_transfer_list_free`. Any thread.
///
/// # Safety
/// `queue` must be NULL or live; `out_list` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_list(
    queue: *const od_queue,
    state_mask: u32,
    out_list: *mut *mut od_transfer_list,
) -> od_status {
    ffi_call(|| {
        let out = Out::new(out_list, "out_list")?;
        // SAFETY: forwarded from the caller.
        let q = unsafe { handle_arg(queue, "queue") }?;
        let mask = flags_arg(state_mask, StateSet::ALL.0, "state mask")?;
        let items = q
            .handle
            .list(StateSet(mask))
            .into_iter()
            .map(od_transfer::new)
            .collect();
        // SAFETY: checked non-NULL; writable as the caller promises.
        unsafe { out.write(into_raw(od_transfer_list { items })) };
        Ok(())
    })
}

/// The number of transfers in a list; 0 when `list` is NULL.
///
/// # Safety
/// `list` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_list_count(list: *const od_transfer_list) -> usize {
    // SAFETY: forwarded from the caller.
    guard_value(0, || unsafe { list.as_ref() }.map_or(0, |l| l.items.len()))
}

/// The transfer at `index` of a list, borrowed from it (valid until
/// `od_transfer_list_free`; do not free it); NULL when out of range or
/// `list` is NULL.
///
/// # Safety
/// `list` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_list_get(
    list: *const od_transfer_list,
    index: usize,
) -> *const od_transfer {
    guard_value(std::ptr::null(), || {
        // SAFETY: forwarded from the caller.
        unsafe { list.as_ref() }
            .and_then(|l| l.items.get(index))
            .map_or(std::ptr::null(), |t| t as *const od_transfer)
    })
}

/// Frees a list and the transfers borrowed from it. NULL is ignored.
///
/// # Safety
/// `list` must be NULL or a list from `od_queue_list` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_list_free(list: *mut od_transfer_list) {
    // SAFETY: forwarded from the caller.
    guard_value((), || unsafe { free_box(list) })
}

/// Files and bytes of the whole queue. Each out-param may be NULL:
/// `out_files` transfers in every state, `out_completed`, `out_failed`,
/// `out_cancelled` those that ended so, `out_bytes_done` / `out_bytes_total`
/// the bytes of the uploads (a completed one counts whole, failed and
/// cancelled ones not at all). Any thread.
///
/// # Safety
/// `queue` must be NULL or live; each out-param NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_totals(
    queue: *const od_queue,
    out_files: *mut u64,
    out_completed: *mut u64,
    out_failed: *mut u64,
    out_cancelled: *mut u64,
    out_bytes_done: *mut u64,
    out_bytes_total: *mut u64,
) -> od_status {
    ffi_call(|| {
        // SAFETY: forwarded from the caller.
        let q = unsafe { handle_arg(queue, "queue") }?;
        let t = q.handle.totals();
        for (p, v) in [
            (out_files, t.files),
            (out_completed, t.completed),
            (out_failed, t.failed),
            (out_cancelled, t.cancelled),
            (out_bytes_done, t.bytes_done),
            (out_bytes_total, t.bytes_total),
        ] {
            if let Some(out) = Out::optional(p) {
                // SAFETY: non-NULL; writable as the caller promises.
                unsafe { out.write(v) };
            }
        }
        Ok(())
    })
}

/// Sets the event callback (NULL removes it). `userdata` is passed back
/// to it. Once this returns, the old callback has ended and is never
/// called again (from inside the callback itself, the new one takes over
/// from the next event): its `userdata` may then be freed. See
/// `od_queue_event_fn` for what the callback may do. Any thread.
///
/// # Safety
/// `queue` must be NULL or live; `callback` must be safe to call with
/// `userdata` from another thread until it is replaced or the queue closed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_set_event_callback(
    queue: *const od_queue,
    callback: od_queue_event_fn,
    userdata: *mut c_void,
) -> od_status {
    /// The userdata pointer, sent to the event thread.
    struct UserData(*mut c_void);
    // SAFETY: the caller promises the callback may be called with it from
    // another thread.
    unsafe impl Send for UserData {}
    // SAFETY: as above; the library only passes it back.
    unsafe impl Sync for UserData {}
    impl UserData {
        /// The pointer (a method, so that closures take the whole
        /// `UserData`, which is `Send`, not its field).
        fn get(&self) -> *mut c_void {
            self.0
        }
    }
    let data = UserData(userdata);
    let cb = callback.map(|f| {
        let cb: crate::queue::EventCallback = Arc::new(move |e: &Event| {
            let (id, kind, state, done, total) = event_of(e);
            // SAFETY: the caller gave this callback and userdata to be
            // called on the queue's thread until replaced.
            unsafe { f(data.get(), id, kind, state, done, total) };
        });
        cb
    });
    // SAFETY: forwarded from the caller.
    unsafe {
        with_queue(queue, move |q| {
            q.set_event_callback(cb);
            Ok(())
        })
    }
}

/// The next event kept for polling, waiting up to `timeout_ms` for one
/// (0: do not wait). `OD_OK` with the event in the out-params (each may be
/// NULL; their meaning as in `od_queue_event_fn`); `OD_ERR_TIMEOUT` when
/// none came (the out-params untouched). State changes are all kept, in
/// order; progress is kept as the latest per transfer. Nothing is kept
/// when the queue was opened with `OD_QUEUE_NO_POLLING`. Any thread.
///
/// # Safety
/// `queue` must be NULL or live; each out-param NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_next_event(
    queue: *const od_queue,
    timeout_ms: u32,
    out_id: *mut u64,
    out_kind: *mut i32,
    out_state: *mut i32,
    out_done: *mut u64,
    out_total: *mut u64,
) -> od_status {
    ffi_call(|| {
        // SAFETY: forwarded from the caller.
        let q = unsafe { handle_arg(queue, "queue") }?;
        let e = q
            .handle
            .next_event(Duration::from_millis(u64::from(timeout_ms)))
            .ok_or_else(|| Error::new(ErrorKind::Timeout, "no event"))?;
        let (id, kind, state, done, total) = event_of(&e);
        // SAFETY: each non-NULL; writable as the caller promises.
        unsafe {
            for (p, v) in [(out_id, id), (out_done, done), (out_total, total)] {
                if let Some(out) = Out::optional(p) {
                    out.write(v);
                }
            }
            for (p, v) in [(out_kind, kind), (out_state, state)] {
                if let Some(out) = Out::optional(p) {
                    out.write(v);
                }
            }
        }
        Ok(())
    })
}

/// Waits until nothing is queued, running or waiting (paused and finished
/// transfers do not count). `timeout_ms` < 0 waits as long as it takes.
/// `OD_OK` when idle, `OD_ERR_TIMEOUT`, or `OD_ERR_CANCELLED` when `cancel`
/// (may be NULL) is raised. Any thread but inside the event callback
/// (the queue cannot go idle while its callback waits).
///
/// # Safety
/// `queue` must be NULL or live; `cancel` NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_queue_wait_idle(
    queue: *const od_queue,
    timeout_ms: i64,
    cancel: *const od_cancel,
) -> od_status {
    // SAFETY: forwarded from the caller.
    let cancel = unsafe { opt_handle_arg(cancel) };
    // SAFETY: forwarded from the caller.
    unsafe {
        with_queue(queue, |q| {
            let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
            if q.wait_idle(timeout, cancel.map(|c| &c.token))? {
                Ok(())
            } else {
                Err(Error::new(ErrorKind::Timeout, "the queue is not idle yet"))
            }
        })
    }
}

/// Reads a field of a transfer; `fallback` when `t` is NULL.
///
/// # Safety
/// `t` must be NULL or live.
unsafe fn field<T: Copy>(
    t: *const od_transfer,
    fallback: T,
    f: impl FnOnce(&od_transfer) -> T,
) -> T {
    guard_value(fallback, || {
        // SAFETY: forwarded from the caller.
        match unsafe { t.as_ref() } {
            Some(t) => f(t),
            None => fallback,
        }
    })
}

fn ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
}

/// The transfer's id; 0 when `t` is NULL (ids start at 1).
///
/// # Safety
/// `t` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_id(t: *const od_transfer) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe { field(t, 0, |t| t.t.id) }
}

/// What the transfer does; `OD_TRANSFER_UPLOAD` when `t` is NULL.
///
/// # Safety
/// `t` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_get_kind(t: *const od_transfer) -> od_transfer_kind {
    // SAFETY: forwarded from the caller.
    unsafe {
        field(t, od_transfer_kind::OD_TRANSFER_UPLOAD, |t| {
            match t.t.kind {
                TransferKind::Upload => od_transfer_kind::OD_TRANSFER_UPLOAD,
                TransferKind::UrlUpload => od_transfer_kind::OD_TRANSFER_URL_UPLOAD,
                TransferKind::Copy => od_transfer_kind::OD_TRANSFER_COPY,
            }
        })
    }
}

/// Where the transfer stood when read; `OD_TRANSFER_FAILED` when `t` is
/// NULL.
///
/// # Safety
/// `t` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_get_state(t: *const od_transfer) -> od_transfer_state {
    // SAFETY: forwarded from the caller.
    unsafe {
        field(t, od_transfer_state::OD_TRANSFER_FAILED, |t| {
            state_of(t.t.state)
        })
    }
}

/// Why a waiting transfer waits; `OD_WAIT_NONE` when it does not (or `t`
/// is NULL).
///
/// # Safety
/// `t` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_wait_reason(t: *const od_transfer) -> od_wait_reason {
    // SAFETY: forwarded from the caller.
    unsafe {
        field(t, od_wait_reason::OD_WAIT_NONE, |t| match t.t.wait_reason {
            None => od_wait_reason::OD_WAIT_NONE,
            Some(WaitReason::Offline) => od_wait_reason::OD_WAIT_OFFLINE,
            Some(WaitReason::Retry) => od_wait_reason::OD_WAIT_RETRY,
        })
    }
}

/// When a transfer waiting for a retry is due, in milliseconds since the
/// Unix epoch; -1 when it is not waiting for one (or `t` is NULL).
///
/// # Safety
/// `t` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_retry_at_ms(t: *const od_transfer) -> i64 {
    // SAFETY: forwarded from the caller.
    unsafe {
        field(t, -1, |t| {
            t.t.retry_at
                .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
                .map_or(-1, |d| d.as_millis() as i64)
        })
    }
}

/// Progress: uploads in bytes, copies and uploads from URL in hundredths
/// of a percent (of 10000). 0 when `t` is NULL.
///
/// # Safety
/// `t` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_done(t: *const od_transfer) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe { field(t, 0, |t| t.t.done) }
}

/// See `od_transfer_done`. An upload's total is its file's size.
///
/// # Safety
/// `t` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_total(t: *const od_transfer) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe { field(t, 0, |t| t.t.total) }
}

/// The destination name (empty for a copy that keeps its source's name);
/// borrowed from `t`; NULL when `t` is NULL.
///
/// # Safety
/// `t` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_name(t: *const od_transfer) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(t, std::ptr::null(), |t| t.name.as_ptr()) }
}

/// A completed transfer's item (the driveItem JSON the service sent);
/// borrowed from `t`; NULL before completion (or when `t` is NULL).
///
/// # Safety
/// `t` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_item_json(t: *const od_transfer) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(t, std::ptr::null(), |t| ptr(&t.item_json)) }
}

/// The error of a failed transfer (or the transient one a transfer waits
/// after) as an `od_status`; `OD_OK` when there is none (or `t` is NULL).
///
/// # Safety
/// `t` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_error_status(t: *const od_transfer) -> od_status {
    // SAFETY: forwarded from the caller.
    unsafe {
        field(t, od_status::OD_OK, |t| {
            t.t.error
                .as_ref()
                .map_or(od_status::OD_OK, |e| e.kind.into())
        })
    }
}

/// The HTTP status behind the error; 0 when none.
///
/// # Safety
/// `t` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_error_http_status(t: *const od_transfer) -> i32 {
    // SAFETY: forwarded from the caller.
    unsafe {
        field(t, 0, |t| {
            t.t.error
                .as_ref()
                .and_then(|e| e.http_status)
                .map_or(0, i32::from)
        })
    }
}

/// Graph's `error.code` of the error; borrowed; NULL when none.
///
/// # Safety
/// `t` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_error_code(t: *const od_transfer) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(t, std::ptr::null(), |t| ptr(&t.code)) }
}

/// The innermost `innerError.code`; borrowed; NULL when none.
///
/// # Safety
/// `t` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_error_inner_code(t: *const od_transfer) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(t, std::ptr::null(), |t| ptr(&t.inner_code)) }
}

/// The error's message; borrowed; NULL when there is no error.
///
/// # Safety
/// `t` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_error_message(t: *const od_transfer) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(t, std::ptr::null(), |t| ptr(&t.message)) }
}

/// The service's `request-id` of the error; borrowed; NULL when none.
///
/// # Safety
/// `t` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_error_request_id(t: *const od_transfer) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(t, std::ptr::null(), |t| ptr(&t.request_id)) }
}

/// Frees a transfer from `od_queue_get` and its strings. NULL is ignored.
/// (Transfers of a list are freed with the list.)
///
/// # Safety
/// `t` must be NULL or a transfer from `od_queue_get` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_free(t: *mut od_transfer) {
    // SAFETY: forwarded from the caller.
    guard_value((), || unsafe { free_box(t) })
}

#[cfg(test)]
mod tests {
    //! Every `od_queue_*` / `od_transfer_*` function called the way C calls
    //! it, bad inputs included, against a running emulator.

    use super::*;
    use crate::ffi::cancel::{od_cancel_free, od_cancel_new, od_cancel_trigger};
    use crate::ffi::client::{od_client_free, od_client_new};
    use crate::ffi::last_error::od_last_error_status;
    use crate::ffi::network::od_client_add_ca_pem;
    use od_status::*;
    use std::ffi::{CStr, CString};
    use std::ptr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn c(s: &str) -> CString {
        CString::new(s).unwrap()
    }

    fn text(p: *const c_char) -> Option<String> {
        // SAFETY: NULL or a string borrowed from a live object.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned())
    }

    struct Fixture {
        emu: onedrive_emulator::Emulator,
        client: *mut od_client,
        dir: PathBuf,
    }

    impl Fixture {
        fn new(tag: &str) -> Fixture {
            let emu =
                onedrive_emulator::Emulator::start(onedrive_emulator::Config::default()).unwrap();
            let (base, token) = (c(&emu.base_url()), c(&emu.token()));
            let mut client = ptr::null_mut();
            // SAFETY: valid strings, writable out-param.
            assert_eq!(
                unsafe { od_client_new(base.as_ptr(), token.as_ptr(), 0, &mut client) },
                OD_OK
            );
            let ca = emu.ca_pem().unwrap();
            // SAFETY: a live client, `ca.len()` readable bytes.
            assert_eq!(
                unsafe { od_client_add_ca_pem(client, ca.as_ptr(), ca.len()) },
                OD_OK
            );
            let dir = std::env::temp_dir().join(format!("odq-ffi-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Fixture { emu, client, dir }
        }

        fn open(&self, flags: u32) -> *mut od_queue {
            let dir = c(self.dir.join("q").to_str().unwrap());
            let mut q = ptr::null_mut();
            // SAFETY: a live client, a valid string, a writable out-param.
            let s = unsafe { od_queue_open(self.client, dir.as_ptr(), 2, flags, &mut q) };
            assert_eq!(s, OD_OK);
            q
        }

        fn file(&self, name: &str, data: &[u8]) -> CString {
            let p = self.dir.join(name);
            std::fs::write(&p, data).unwrap();
            c(p.to_str().unwrap())
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            // SAFETY: made by od_client_new, freed once.
            unsafe { od_client_free(self.client) };
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn get(q: *const od_queue, id: u64) -> *mut od_transfer {
        let mut t = ptr::null_mut();
        // SAFETY: a live queue, a writable out-param.
        assert_eq!(unsafe { od_queue_get(q, id, &mut t) }, OD_OK);
        t
    }

    fn state(q: *const od_queue, id: u64) -> od_transfer_state {
        let t = get(q, id);
        // SAFETY: a live transfer, freed once.
        unsafe {
            let s = od_transfer_get_state(t);
            od_transfer_free(t);
            s
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "needs a socket")]
    fn open_enqueue_and_read_back() {
        let f = Fixture::new("basic");
        let dir = c(f.dir.join("q").to_str().unwrap());
        let mut q = ptr::null_mut();
        // SAFETY: NULLs and valid pointers only.
        unsafe {
            assert_eq!(
                od_queue_open(ptr::null(), dir.as_ptr(), 2, 0, &mut q),
                OD_ERR_NULL_ARGUMENT
            );
            assert_eq!(
                od_queue_open(f.client, ptr::null(), 2, 0, &mut q),
                OD_ERR_NULL_ARGUMENT
            );
            assert_eq!(
                od_queue_open(f.client, dir.as_ptr(), 2, 0, ptr::null_mut()),
                OD_ERR_NULL_ARGUMENT
            );
            assert_eq!(
                od_queue_open(f.client, dir.as_ptr(), 2, 0x80, &mut q),
                OD_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                od_queue_open(f.client, dir.as_ptr(), 0, 0, &mut q),
                OD_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                od_queue_open(f.client, c"\x80".as_ptr(), 1, 0, &mut q),
                OD_ERR_INVALID_UTF8
            );
        }
        unsafe_client(&f)
            .upload(
                &crate::Drive::Me,
                &crate::UploadTarget::new("/", Some("src.txt")).unwrap(),
                b"copy me",
                crate::Conflict::Fail,
                &mut crate::Control::none(),
            )
            .unwrap();
        let q = f.open(OD_QUEUE_START_OFFLINE);
        let mut q2 = ptr::null_mut();
        // SAFETY: as above.
        unsafe {
            assert_eq!(
                od_queue_open(f.client, dir.as_ptr(), 2, 0, &mut q2),
                OD_ERR_INVALID_STATE
            );
        }
        let path = f.file("a.txt", b"hello queue");
        let root = c("/");
        let (mut id, mut id2, mut id3) = (0u64, 0u64, 0u64);
        // SAFETY: a live queue; NULLs, bad values and valid strings.
        unsafe {
            let s = od_queue_enqueue_upload(
                q,
                path.as_ptr(),
                ptr::null(),
                root.as_ptr(),
                c"a.txt".as_ptr(),
                1,
                &mut id,
            );
            assert_eq!(s, OD_OK);
            assert_eq!(id, 1);
            for (p, parent, name, conflict, want) in [
                (
                    ptr::null(),
                    root.as_ptr(),
                    c"b".as_ptr(),
                    1,
                    OD_ERR_NULL_ARGUMENT,
                ),
                (
                    path.as_ptr(),
                    ptr::null(),
                    c"b".as_ptr(),
                    1,
                    OD_ERR_NULL_ARGUMENT,
                ),
                (
                    path.as_ptr(),
                    root.as_ptr(),
                    ptr::null(),
                    1,
                    OD_ERR_NULL_ARGUMENT,
                ),
                (
                    path.as_ptr(),
                    root.as_ptr(),
                    c"b".as_ptr(),
                    9,
                    OD_ERR_INVALID_ARGUMENT,
                ),
                (
                    path.as_ptr(),
                    root.as_ptr(),
                    c"a:b".as_ptr(),
                    1,
                    OD_ERR_INVALID_NAME,
                ),
                (
                    c"/no/such/file".as_ptr(),
                    root.as_ptr(),
                    c"b".as_ptr(),
                    1,
                    OD_ERR_IO,
                ),
                (
                    path.as_ptr(),
                    root.as_ptr(),
                    c"\x80".as_ptr(),
                    1,
                    OD_ERR_INVALID_UTF8,
                ),
            ] {
                let mut out = 77u64;
                assert_eq!(
                    od_queue_enqueue_upload(q, p, ptr::null(), parent, name, conflict, &mut out),
                    want
                );
                assert_eq!(out, 77, "untouched on failure");
            }
            assert_eq!(
                od_queue_enqueue_upload(
                    ptr::null(),
                    path.as_ptr(),
                    ptr::null(),
                    root.as_ptr(),
                    c"b".as_ptr(),
                    1,
                    &mut id2
                ),
                OD_ERR_NULL_ARGUMENT
            );
            assert_eq!(
                od_queue_enqueue_upload(
                    q,
                    path.as_ptr(),
                    ptr::null(),
                    root.as_ptr(),
                    c"b".as_ptr(),
                    1,
                    ptr::null_mut()
                ),
                OD_ERR_NULL_ARGUMENT
            );
            let url = c(&f.emu.serve_static("s.bin", b"from a URL".to_vec()));
            assert_eq!(
                od_queue_enqueue_url_upload(
                    q,
                    url.as_ptr(),
                    ptr::null(),
                    root.as_ptr(),
                    c"u.bin".as_ptr(),
                    &mut id2
                ),
                OD_OK
            );
            assert_eq!(
                od_queue_enqueue_url_upload(
                    q,
                    ptr::null(),
                    ptr::null(),
                    root.as_ptr(),
                    c"u.bin".as_ptr(),
                    &mut id2
                ),
                OD_ERR_NULL_ARGUMENT
            );
            assert_eq!(
                od_queue_enqueue_url_upload(
                    q,
                    c"nope".as_ptr(),
                    ptr::null(),
                    root.as_ptr(),
                    c"u.bin".as_ptr(),
                    &mut id3
                ),
                OD_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                od_queue_enqueue_copy(
                    q,
                    ptr::null(),
                    c"/src.txt".as_ptr(),
                    root.as_ptr(),
                    ptr::null(),
                    c"c.txt".as_ptr(),
                    1,
                    &mut id3
                ),
                OD_OK
            );
            assert_eq!(
                od_queue_enqueue_copy(
                    q,
                    ptr::null(),
                    ptr::null(),
                    root.as_ptr(),
                    ptr::null(),
                    ptr::null(),
                    1,
                    &mut id3
                ),
                OD_ERR_NULL_ARGUMENT
            );
            assert_eq!(
                od_queue_enqueue_copy(
                    q,
                    c"/nodrive".as_ptr(),
                    c"/a.txt".as_ptr(),
                    root.as_ptr(),
                    ptr::null(),
                    ptr::null(),
                    1,
                    &mut id3
                ),
                OD_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                od_queue_enqueue_copy(
                    q,
                    ptr::null(),
                    c"/a.txt".as_ptr(),
                    root.as_ptr(),
                    ptr::null(),
                    ptr::null(),
                    -1,
                    &mut id3
                ),
                OD_ERR_INVALID_ARGUMENT
            );
        }
        assert_eq!((id2, id3), (2, 3));
        // Offline: everything waits.
        let t = get(q, id);
        // SAFETY: a live transfer, then NULL for every accessor.
        unsafe {
            assert_eq!(od_transfer_id(t), 1);
            assert_eq!(
                od_transfer_get_kind(t),
                od_transfer_kind::OD_TRANSFER_UPLOAD
            );
            assert_eq!(
                od_transfer_get_state(t),
                od_transfer_state::OD_TRANSFER_WAITING
            );
            assert_eq!(od_transfer_wait_reason(t), od_wait_reason::OD_WAIT_OFFLINE);
            assert_eq!(od_transfer_retry_at_ms(t), -1);
            assert_eq!((od_transfer_done(t), od_transfer_total(t)), (0, 11));
            assert_eq!(text(od_transfer_name(t)).as_deref(), Some("a.txt"));
            assert!(od_transfer_item_json(t).is_null());
            assert_eq!(od_transfer_error_status(t), OD_OK);
            assert_eq!(od_transfer_error_http_status(t), 0);
            assert!(od_transfer_error_code(t).is_null());
            assert!(od_transfer_error_inner_code(t).is_null());
            assert!(od_transfer_error_message(t).is_null());
            assert!(od_transfer_error_request_id(t).is_null());
            od_transfer_free(t);
            let n: *const od_transfer = ptr::null();
            assert_eq!(od_transfer_id(n), 0);
            assert_eq!(
                od_transfer_get_kind(n),
                od_transfer_kind::OD_TRANSFER_UPLOAD
            );
            assert_eq!(
                od_transfer_get_state(n),
                od_transfer_state::OD_TRANSFER_FAILED
            );
            assert_eq!(od_transfer_wait_reason(n), od_wait_reason::OD_WAIT_NONE);
            assert_eq!(od_transfer_retry_at_ms(n), -1);
            assert_eq!((od_transfer_done(n), od_transfer_total(n)), (0, 0));
            assert!(od_transfer_name(n).is_null());
            assert!(od_transfer_item_json(n).is_null());
            assert_eq!(od_transfer_error_status(n), OD_OK);
            assert_eq!(od_transfer_error_http_status(n), 0);
            assert!(od_transfer_error_message(n).is_null());
            od_transfer_free(ptr::null_mut());
            let mut out = ptr::null_mut();
            assert_eq!(od_queue_get(q, 99, &mut out), OD_ERR_NOT_FOUND);
            assert_eq!(od_queue_get(ptr::null(), 1, &mut out), OD_ERR_NULL_ARGUMENT);
            assert_eq!(od_queue_get(q, 1, ptr::null_mut()), OD_ERR_NULL_ARGUMENT);
            // Not idle while waiting for the network.
            assert_eq!(od_queue_wait_idle(q, 0, ptr::null()), OD_ERR_TIMEOUT);
            let mut cancel = ptr::null_mut();
            assert_eq!(od_cancel_new(&mut cancel), OD_OK);
            od_cancel_trigger(cancel);
            assert_eq!(od_queue_wait_idle(q, -1, cancel), OD_ERR_CANCELLED);
            od_cancel_free(cancel);
            assert_eq!(
                od_queue_wait_idle(ptr::null(), 0, ptr::null()),
                OD_ERR_NULL_ARGUMENT
            );
            assert_eq!(od_queue_set_online(ptr::null(), 1), OD_ERR_NULL_ARGUMENT);
            assert_eq!(od_queue_set_max_running(q, 0), OD_ERR_INVALID_ARGUMENT);
            assert_eq!(od_queue_set_max_running(q, 3), OD_OK);
            assert_eq!(od_queue_set_online(q, 1), OD_OK);
            assert_eq!(od_queue_wait_idle(q, 60_000, ptr::null()), OD_OK);
        }
        for i in [id, id2, id3] {
            assert_eq!(state(q, i), od_transfer_state::OD_TRANSFER_COMPLETED, "{i}");
        }
        let t = get(q, id3);
        // SAFETY: live objects; NULLs and bad masks.
        unsafe {
            assert_eq!(od_transfer_get_kind(t), od_transfer_kind::OD_TRANSFER_COPY);
            assert!(
                text(od_transfer_item_json(t))
                    .unwrap()
                    .contains("\"c.txt\"")
            );
            od_transfer_free(t);
            let mut list = ptr::null_mut();
            assert_eq!(od_queue_list(q, 1 << 4, &mut list), OD_OK);
            assert_eq!(od_transfer_list_count(list), 3);
            assert_eq!(od_transfer_id(od_transfer_list_get(list, 1)), 2);
            assert!(od_transfer_list_get(list, 3).is_null());
            od_transfer_list_free(list);
            assert_eq!(od_queue_list(q, 1, &mut list), OD_OK);
            assert_eq!(od_transfer_list_count(list), 0);
            od_transfer_list_free(list);
            assert_eq!(od_queue_list(q, 0x100, &mut list), OD_ERR_INVALID_ARGUMENT);
            assert_eq!(
                od_queue_list(ptr::null(), 1, &mut list),
                OD_ERR_NULL_ARGUMENT
            );
            assert_eq!(od_transfer_list_count(ptr::null()), 0);
            assert!(od_transfer_list_get(ptr::null(), 0).is_null());
            od_transfer_list_free(ptr::null_mut());
            let mut t = [9u64; 6];
            let [a, b, cc, d, e, g] = &mut t;
            assert_eq!(od_queue_totals(q, a, b, cc, d, e, g), OD_OK);
            assert_eq!(t, [3, 3, 0, 0, 11, 11]);
            let n = ptr::null_mut();
            assert_eq!(od_queue_totals(q, n, n, n, n, n, n), OD_OK);
            assert_eq!(
                od_queue_totals(ptr::null(), n, n, n, n, n, n),
                OD_ERR_NULL_ARGUMENT
            );
            // Events, polled: each transfer's states in order, then none.
            let (mut id_, mut kind, mut st, mut done, mut total) = (0u64, 9i32, 9i32, 0u64, 0u64);
            let mut seen = Vec::new();
            while od_queue_next_event(q, 0, &mut id_, &mut kind, &mut st, &mut done, &mut total)
                == OD_OK
            {
                if id_ == 1 && kind == 0 {
                    seen.push(st);
                }
            }
            assert_eq!(od_last_error_status(), OD_ERR_TIMEOUT);
            assert_eq!(
                seen,
                vec![3, 0, 1, 4],
                "waiting, queued, running, completed"
            );
            let n = ptr::null_mut();
            assert_eq!(
                od_queue_next_event(ptr::null(), 0, n, n.cast(), n.cast(), n, n),
                OD_ERR_NULL_ARGUMENT
            );
            // Removing.
            assert_eq!(od_queue_remove(q, id), OD_OK);
            assert_eq!(od_queue_remove(q, id), OD_ERR_NOT_FOUND);
            let mut n = 0u64;
            assert_eq!(od_queue_remove_finished(q, &mut n), OD_OK);
            assert_eq!(n, 2);
            assert_eq!(od_queue_remove_finished(q, ptr::null_mut()), OD_OK);
            assert_eq!(
                od_queue_remove_finished(ptr::null(), ptr::null_mut()),
                OD_ERR_NULL_ARGUMENT
            );
            // Closed: read-only, and the directory free again.
            assert_eq!(od_queue_close(q), OD_OK);
            assert_eq!(od_queue_close(q), OD_OK);
            assert_eq!(od_queue_close(ptr::null()), OD_ERR_NULL_ARGUMENT);
            assert_eq!(
                od_queue_enqueue_upload(
                    q,
                    path.as_ptr(),
                    ptr::null(),
                    root.as_ptr(),
                    c"z".as_ptr(),
                    1,
                    &mut id
                ),
                OD_ERR_INVALID_STATE
            );
            let n = ptr::null_mut();
            assert_eq!(od_queue_totals(q, &mut id, n, n, n, n, n), OD_OK);
            assert_eq!(id, 0, "all removed");
            od_queue_free(q);
            od_queue_free(ptr::null_mut());
        }
        let q = f.open(0);
        // SAFETY: a live queue, freed once.
        unsafe { od_queue_free(q) };
    }

    /// What the callback test's callback sees and does.
    struct Seen {
        q: *const od_queue,
        events: AtomicUsize,
        close_refused: AtomicUsize,
        states: Mutex<Vec<(u64, i32)>>,
    }

    unsafe extern "C" fn on_event(
        userdata: *mut c_void,
        id: u64,
        kind: i32,
        state: i32,
        _done: u64,
        _total: u64,
    ) {
        // SAFETY: the test's `Seen`, alive until the callback is removed.
        let seen = unsafe { &*(userdata as *const Seen) };
        seen.events.fetch_add(1, Ordering::SeqCst);
        if kind == od_queue_event_kind::OD_QUEUE_EVENT_STATE as i32 {
            seen.states.lock().unwrap().push((id, state));
            // SAFETY: the live queue; calls allowed inside the callback.
            unsafe {
                if od_queue_close(seen.q) == OD_ERR_INVALID_STATE {
                    seen.close_refused.fetch_add(1, Ordering::SeqCst);
                }
                let mut t = ptr::null_mut();
                assert_eq!(od_queue_get(seen.q, id, &mut t), OD_OK);
                od_transfer_free(t);
            }
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "needs a socket")]
    fn callback_control_and_errors() {
        let f = Fixture::new("cb");
        // A file that is there already: the upload fails with its error.
        unsafe_client(&f)
            .upload(
                &crate::Drive::Me,
                &crate::UploadTarget::new("/", Some("taken.txt")).unwrap(),
                b"theirs",
                crate::Conflict::Fail,
                &mut crate::Control::none(),
            )
            .unwrap();
        let q = f.open(OD_QUEUE_NO_POLLING | OD_QUEUE_START_OFFLINE);
        let seen = Seen {
            q,
            events: AtomicUsize::new(0),
            close_refused: AtomicUsize::new(0),
            states: Mutex::new(Vec::new()),
        };
        let path = f.file("t.txt", b"mine");
        let big = f.file("big.bin", &vec![5u8; 6 << 20]);
        let root = c("/");
        let (mut id, mut big_id) = (0u64, 0u64);
        // SAFETY: a live queue and valid arguments; `seen` outlives the
        // callback (removed below).
        unsafe {
            assert_eq!(
                od_queue_set_event_callback(ptr::null(), Some(on_event), ptr::null_mut()),
                OD_ERR_NULL_ARGUMENT
            );
            assert_eq!(
                od_queue_set_event_callback(q, Some(on_event), &seen as *const Seen as *mut c_void),
                OD_OK
            );
            assert_eq!(
                od_queue_enqueue_upload(
                    q,
                    path.as_ptr(),
                    ptr::null(),
                    root.as_ptr(),
                    c"taken.txt".as_ptr(),
                    1,
                    &mut id
                ),
                OD_OK
            );
            assert_eq!(
                od_queue_enqueue_upload(
                    q,
                    big.as_ptr(),
                    ptr::null(),
                    root.as_ptr(),
                    c"big.bin".as_ptr(),
                    1,
                    &mut big_id
                ),
                OD_OK
            );
            // Paused before it runs, then all resumed and cancelled.
            assert_eq!(od_queue_pause(q, big_id), OD_OK);
            assert_eq!(od_queue_pause(q, 99), OD_ERR_NOT_FOUND);
            assert_eq!(od_queue_pause(ptr::null(), 1), OD_ERR_NULL_ARGUMENT);
            assert_eq!(state(q, big_id), od_transfer_state::OD_TRANSFER_PAUSED);
            assert_eq!(od_queue_resume(q, big_id), OD_OK);
            assert_eq!(od_queue_resume(q, 99), OD_ERR_NOT_FOUND);
            assert_eq!(od_queue_pause_all(q), OD_OK);
            assert_eq!(state(q, id), od_transfer_state::OD_TRANSFER_PAUSED);
            assert_eq!(od_queue_resume_all(q), OD_OK);
            assert_eq!(od_queue_cancel(q, big_id), OD_OK);
            assert_eq!(state(q, big_id), od_transfer_state::OD_TRANSFER_CANCELLED);
            assert_eq!(od_queue_resume(q, big_id), OD_ERR_INVALID_STATE);
            assert_eq!(od_queue_cancel(q, 99), OD_ERR_NOT_FOUND);
            assert_eq!(od_queue_set_online(q, 1), OD_OK);
            assert_eq!(od_queue_wait_idle(q, 60_000, ptr::null()), OD_OK);
            let t = get(q, id);
            assert_eq!(
                od_transfer_get_state(t),
                od_transfer_state::OD_TRANSFER_FAILED
            );
            assert_eq!(od_transfer_error_status(t), OD_ERR_CONFLICT);
            assert_eq!(od_transfer_error_http_status(t), 409);
            assert!(text(od_transfer_error_code(t)).is_some());
            assert!(text(od_transfer_error_message(t)).is_some());
            assert!(text(od_transfer_error_request_id(t)).is_some());
            let _ = od_transfer_error_inner_code(t);
            od_transfer_free(t);
            assert_eq!(od_queue_cancel(q, id), OD_ERR_INVALID_STATE);
            assert_eq!(od_queue_cancel_all(q), OD_OK);
            assert_eq!(od_queue_pause_all(ptr::null()), OD_ERR_NULL_ARGUMENT);
            assert_eq!(od_queue_resume_all(ptr::null()), OD_ERR_NULL_ARGUMENT);
            assert_eq!(od_queue_cancel_all(ptr::null()), OD_ERR_NULL_ARGUMENT);
            assert_eq!(od_queue_remove(ptr::null(), 1), OD_ERR_NULL_ARGUMENT);
            assert_eq!(
                od_queue_set_max_running(ptr::null(), 1),
                OD_ERR_NULL_ARGUMENT
            );
            // Polling is off.
            let n = ptr::null_mut();
            assert_eq!(
                od_queue_next_event(q, 0, n, n.cast(), n.cast(), n, n),
                OD_ERR_TIMEOUT
            );
            // Removing the callback waits for a call in progress: after
            // it, `seen` may go.
            assert_eq!(od_queue_set_event_callback(q, None, ptr::null_mut()), OD_OK);
        }
        assert!(seen.events.load(Ordering::SeqCst) >= 4);
        assert_eq!(
            seen.close_refused.load(Ordering::SeqCst),
            seen.states.lock().unwrap().len(),
            "every close from inside the callback is refused"
        );
        let states = seen.states.lock().unwrap().clone();
        let of = |id: u64| {
            states
                .iter()
                .filter(|s| s.0 == id)
                .map(|s| s.1)
                .collect::<Vec<_>>()
        };
        assert_eq!(of(id).last(), Some(&5), "ends failed");
        assert_eq!(of(big_id).last(), Some(&6), "ends cancelled");
        assert_eq!(f.emu.upload_session_count(), 0);
        // SAFETY: a live queue, freed once.
        unsafe { od_queue_free(q) };
    }

    /// The core client behind the fixture's C client.
    fn unsafe_client(f: &Fixture) -> crate::Client {
        // SAFETY: the fixture's live client.
        unsafe { &*f.client }.client.clone()
    }
}
