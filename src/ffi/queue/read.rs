//! Reading a queue from C: its transfers (`od_transfer`, lists), totals,
//! events, waiting for it to be idle.

use super::*;

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

/// A completed transfer's item as an `od_item`, read with the same
/// accessors as any item (`od_item_id`, `od_item_size`, …).
///
/// - `out_item`: receives a new item on `OD_OK` (free it with
///   `od_item_free`); `OD_ERR_INVALID_STATE` when the transfer has not
///   completed; `OD_ERR_NULL_ARGUMENT` when `t` or `out_item` is NULL.
///
/// No request is made. Any thread.
///
/// # Safety
/// `t` must be NULL or live; `out_item` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_transfer_item(
    t: *const od_transfer,
    out_item: *mut *mut od_item,
) -> od_status {
    // SAFETY: `t` is NULL or live and `out_item` NULL or writable, as the
    // caller promises; both are checked for NULL before use.
    unsafe {
        ffi_new(out_item, "out_item", || {
            let t = handle_arg(t, "transfer")?;
            let item = t.t.item.clone().ok_or_else(|| {
                FfiError::new(
                    od_status::OD_ERR_INVALID_STATE,
                    "the transfer has not completed: it has no item yet",
                )
            })?;
            Ok(od_item::new(item))
        })
    }
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
