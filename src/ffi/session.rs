//! An explicit, resumable upload session from C: create, save, load,
//! send, cancel.

use std::ffi::{CString, c_char, c_void};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use crate::graph::control::Control;
use crate::graph::session::UploadSession;
use crate::graph::source::{FileSource, UploadSource};

use super::args::{
    callback_source, conflict_arg, drive_arg, od_progress_fn, od_read_fn, target_arg, with_control,
};
use super::boundary::{
    FfiError, FfiResult, Out, ffi_call, ffi_new, free_box, handle_arg, opt_handle_arg, str_arg,
    with_handle,
};
use super::cancel::od_cancel;
use super::client::od_client;
use super::item::od_item;
use super::status::od_status;

/// An upload session that can be saved and finished later, by another
/// client or another process. Opaque. One upload at a time per session.
///
/// Methods:
/// - `od_session_create`: a new session on the service.
/// - `od_session_to_json`, `od_session_from_json`: save it, rebuild it.
/// - `od_session_upload_file`, `od_session_upload_stream`: send the file
///   through it, resuming where the service stands.
/// - `od_session_size`: the file size it was made for.
/// - `od_session_cancel`: deletes it on the service.
/// - `od_session_free`: frees the handle.
pub struct od_session {
    session: Mutex<UploadSession>,
}

impl od_session {
    fn get(&self) -> UploadSession {
        self.session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
    fn set(&self, s: UploadSession) {
        *self.session.lock().unwrap_or_else(PoisonError::into_inner) = s;
    }
}

/// Creates an upload session on the service for a file of `size` bytes
/// (above 0) going to (`drive`, `item`, `name`) as for `od_upload`. Nothing
/// is uploaded yet: save it with `od_session_to_json`, then send the bytes
/// with `od_session_upload_file` or `od_session_upload_stream`.
///
/// `out_session` receives the session on `OD_OK`; free it with
/// `od_session_free` (that does not cancel it on the service: see
/// `od_session_cancel`). Blocking (one request). Any thread.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_session_create(
    client: *const od_client,
    drive: *const c_char,
    item: *const c_char,
    name: *const c_char,
    size: u64,
    conflict: i32,
    out_session: *mut *mut od_session,
) -> od_status {
    let made = || -> FfiResult<_> {
        // SAFETY: the caller's pointers are NULL or valid.
        let (client, drive, target) = unsafe {
            (
                handle_arg(client, "client")?,
                drive_arg(drive)?,
                target_arg(item, name)?,
            )
        };
        let conflict = conflict_arg(conflict)?;
        let session = client.client.create_upload_session(
            &drive,
            &target,
            size,
            conflict,
            &mut Control::none(),
        )?;
        Ok(od_session {
            session: Mutex::new(session),
        })
    };
    // SAFETY: `out_session` is NULL (refused) or writable, as the caller promises.
    unsafe { ffi_new(out_session, "out_session", made) }
}

/// The session as JSON text, to save and give later to
/// `od_session_from_json`. It holds the upload URL, a credential for this
/// one upload: store it as you would a token. `out_json` receives a new
/// string on `OD_OK`; free it with `od_string_free`. Any thread.
///
/// # Safety
/// `session` must be NULL or live; `out_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_session_to_json(
    session: *const od_session,
    out_json: *mut *mut c_char,
) -> od_status {
    ffi_call(|| {
        let out = Out::new(out_json, "out_json")?;
        // SAFETY: the caller passes NULL or a live session.
        let session = unsafe { handle_arg(session, "session") }?;
        // serde_json escapes control characters, so there is no NUL in it.
        let text = CString::new(session.get().to_json())
            .map_err(|_| FfiError::new(od_status::OD_ERR_PANIC, "a NUL in the session's JSON"))?;
        // SAFETY: checked non-NULL; writable as the caller promises.
        unsafe { out.write(text.into_raw()) };
        Ok(())
    })
}

/// Rebuilds a session saved with `od_session_to_json` (no request is
/// made). `out_session` receives it on `OD_OK`; free it with
/// `od_session_free`. Malformed text is `OD_ERR_INVALID_ARGUMENT`.
///
/// Trust model: the saved text is trusted as it stands. It is a credential
/// (its upload URL takes the file's bytes without a token) and it is
/// instructions: the file's bytes go to the upload URL it names, and when
/// the service has lost that session a new one is made at the drive and
/// path it names, with the token. A tampered copy can send the file, or
/// its next version, elsewhere. Store it where only the app can change it:
/// it needs integrity, not only confidentiality.
///
/// # Safety
/// `json` must be NULL or NUL-terminated; `out_session` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_session_from_json(
    json: *const c_char,
    out_session: *mut *mut od_session,
) -> od_status {
    let made = || -> FfiResult<_> {
        // SAFETY: the caller passes NULL or a C string.
        let text = unsafe { str_arg(json, "json") }?;
        let session = UploadSession::from_json(text)?;
        Ok(od_session {
            session: Mutex::new(session),
        })
    };
    // SAFETY: `out_session` is NULL (refused) or writable, as the caller promises.
    unsafe { ffi_new(out_session, "out_session", made) }
}

/// Runs one session upload with the callbacks, keeping the session's
/// updates (a new session after the service lost one).
fn run_session(
    client: &od_client,
    session: &od_session,
    source: &mut dyn UploadSource,
    progress: od_progress_fn,
    userdata: *mut c_void,
    cancel: Option<&od_cancel>,
) -> FfiResult<od_item> {
    let mut s = session.get();
    let result = with_control(progress, userdata, cancel, |ctl| {
        client.client.continue_upload_session(&mut s, source, ctl)
    });
    session.set(s);
    Ok(od_item::new(result?))
}

/// Sends a local file through the session, from wherever the service
/// stands: the file is read from its start (what the service already has
/// is only hashed). The file must be the one the session was made for
/// (same size; a changed content ends in `OD_ERR_HASH_MISMATCH`). On
/// failure the session is left on the service: save it and try again
/// later, or `od_session_cancel` it. Arguments and results as for
/// `od_upload_file`.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_session_upload_file(
    client: *const od_client,
    session: *const od_session,
    path: *const c_char,
    progress: od_progress_fn,
    userdata: *mut c_void,
    cancel: *const od_cancel,
    out_item: *mut *mut od_item,
) -> od_status {
    let made = || -> FfiResult<_> {
        // SAFETY: the caller's pointers are NULL or valid.
        let (client, session, path, cancel) = unsafe {
            (
                handle_arg(client, "client")?,
                handle_arg(session, "session")?,
                str_arg(path, "path")?,
                opt_handle_arg(cancel),
            )
        };
        let mut source = FileSource::open(Path::new(path))?;
        run_session(client, session, &mut source, progress, userdata, cancel)
    };
    // SAFETY: `out_item` is NULL (refused) or writable, as the caller promises.
    unsafe { ffi_new(out_item, "out_item", made) }
}

/// As `od_session_upload_file`, with the bytes from a read callback that
/// starts at byte 0 of the file (see `od_upload_stream`); its size must be
/// the session's.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_session_upload_stream(
    client: *const od_client,
    session: *const od_session,
    read: od_read_fn,
    read_userdata: *mut c_void,
    progress: od_progress_fn,
    userdata: *mut c_void,
    cancel: *const od_cancel,
    out_item: *mut *mut od_item,
) -> od_status {
    let made = || -> FfiResult<_> {
        // SAFETY: the caller's pointers are NULL or valid.
        let (client, session, cancel) = unsafe {
            (
                handle_arg(client, "client")?,
                handle_arg(session, "session")?,
                opt_handle_arg(cancel),
            )
        };
        let mut source = callback_source(read, read_userdata, session.get().size)?;
        run_session(client, session, &mut source, progress, userdata, cancel)
    };
    // SAFETY: `out_item` is NULL (refused) or writable, as the caller promises.
    unsafe { ffi_new(out_item, "out_item", made) }
}

/// Cancels the session on the service (`DELETE` of its upload URL); one
/// the service no longer knows counts as cancelled. The handle still needs
/// `od_session_free`. Uploading through it afterwards starts a new session
/// for the same target (as after any session the service lost). Blocking.
/// Any thread.
///
/// # Safety
/// Handles must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_session_cancel(
    client: *const od_client,
    session: *const od_session,
) -> od_status {
    ffi_call(|| {
        // SAFETY: the caller passes NULL or live handles.
        let (client, session) = unsafe {
            (
                handle_arg(client, "client")?,
                handle_arg(session, "session")?,
            )
        };
        client
            .client
            .cancel_upload_session(&session.get(), &mut Control::none())?;
        Ok(())
    })
}

/// The file size the session was made for (0 when `session` is NULL).
///
/// # Safety
/// `session` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_session_size(session: *const od_session) -> u64 {
    // SAFETY: the caller passes NULL or a live session.
    unsafe { with_handle(session, 0, |s| s.get().size) }
}

/// Frees a session handle (the session stays on the service until it is
/// finished, cancelled or expires). NULL is ignored.
///
/// # Safety
/// `session` must be NULL or a session from this library not yet freed,
/// used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_session_free(session: *mut od_session) {
    // SAFETY: forwarded from the caller.
    unsafe { free_box(session) }
}
