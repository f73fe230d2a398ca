//! Large uploads from C: from a file, from a read callback, and through an
//! explicit, resumable `od_session`.

use std::ffi::{CString, c_char, c_void};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use crate::graph::address::UploadTarget;
use crate::graph::hash::HashSet;
use crate::graph::session::UploadSession;
use crate::graph::settings::UploadSettings;
use crate::graph::source::{FileSource, UploadSource};

use super::boundary::{
    FfiError, FfiResult, Out, ffi_call, free_box, guard_value, handle_arg, into_raw,
    opt_handle_arg, opt_str_arg, str_arg,
};
use super::client::{od_cancel, od_client};
use super::item::od_item;
use super::ops::{conflict_arg, drive_arg, od_progress_fn, with_control};
use super::status::od_status;

/// Reads the next bytes of an upload into `buf` (at most `len`). Returns
/// the number of bytes read (0 only at the end), or a negative number on
/// error (the upload stops with `OD_ERR_IO`). Called on the thread that
/// made the call, never after it returned.
pub type od_read_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, buf: *mut u8, len: usize) -> i64>;

/// `od_client_set_upload_options` flag: also compute SHA-1 and compare it
/// with the drive's `sha1Hash` (OneDrive Personal reports it).
pub const OD_HASH_SHA1: u32 = 1;
/// `od_client_set_upload_options` flag: also compute SHA-256 and compare it
/// with the drive's `sha256Hash` where reported.
pub const OD_HASH_SHA256: u32 = 2;

/// Sets how files are uploaded (for calls started afterwards; any thread):
///
/// - `simple_limit`: bodies up to this many bytes go in one PUT, larger
///   ones through an upload session (default 4 MiB, the most the service
///   takes in one PUT).
/// - `chunk_size`: bytes per session request: a positive multiple of
///   320 KiB (327680) below 60 MiB (default 10 MiB, 32 × 320 KiB); another
///   value is `OD_ERR_INVALID_ARGUMENT`.
///   Memory used by an upload stays about one chunk.
/// - `hash_flags`: 0, or `OD_HASH_SHA1` | `OD_HASH_SHA256`: digests to
///   check besides quickXorHash, which is always checked when the drive
///   reports it (every drive does).
///
/// # Safety
/// `client` must be NULL or a live client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_client_set_upload_options(
    client: *const od_client,
    simple_limit: u64,
    chunk_size: u64,
    hash_flags: u32,
) -> od_status {
    ffi_call(|| {
        // SAFETY: the caller passes NULL or a live client.
        let client = unsafe { handle_arg(client, "client") }?;
        if hash_flags & !(OD_HASH_SHA1 | OD_HASH_SHA256) != 0 {
            return Err(FfiError::new(
                od_status::OD_ERR_INVALID_ARGUMENT,
                format!("unknown hash flags {hash_flags:#x}"),
            ));
        }
        client.client.set_upload_settings(UploadSettings {
            simple_limit,
            chunk_size,
            hashes: HashSet {
                sha1: hash_flags & OD_HASH_SHA1 != 0,
                sha256: hash_flags & OD_HASH_SHA256 != 0,
            },
        })?;
        Ok(())
    })
}

/// A read callback as an upload source of a known size (forward only).
struct CallbackSource {
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
fn callback_source(
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

/// The `(item, name)` pair every upload takes (see `od_upload`).
///
/// # Safety
/// Both must be NULL or NUL-terminated.
unsafe fn target_arg(item: *const c_char, name: *const c_char) -> FfiResult<UploadTarget> {
    // SAFETY: forwarded from the caller.
    let (item, name) = unsafe { (str_arg(item, "item")?, opt_str_arg(name, "name")?) };
    Ok(UploadTarget::new(item, name)?)
}

/// Uploads a local file: one PUT up to the simple-upload limit, an upload
/// session above it (streamed from disk: memory stays about one chunk;
/// resumed after dropped connections and 5xx; hashes checked at the end,
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
    ffi_call(|| {
        let out = Out::new(out_item, "out_item")?;
        // SAFETY: the caller's pointers are NULL or valid.
        let (client, drive, target, path, cancel) = unsafe {
            (
                handle_arg(client, "client")?,
                drive_arg(drive)?,
                target_arg(item, name)?,
                str_arg(path, "path")?,
                opt_handle_arg(cancel),
            )
        };
        let conflict = conflict_arg(conflict)?;
        let made = with_control(progress, userdata, cancel, |ctl| {
            client
                .client
                .upload_file(&drive, &target, Path::new(path), conflict, ctl)
        })?;
        // SAFETY: checked non-NULL; writable as the caller promises.
        unsafe { out.write(into_raw(od_item::new(made))) };
        Ok(())
    })
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
    ffi_call(|| {
        let out = Out::new(out_item, "out_item")?;
        // SAFETY: the caller's pointers are NULL or valid.
        let (client, drive, target, cancel) = unsafe {
            (
                handle_arg(client, "client")?,
                drive_arg(drive)?,
                target_arg(item, name)?,
                opt_handle_arg(cancel),
            )
        };
        let mut source = callback_source(read, read_userdata, size)?;
        let conflict = conflict_arg(conflict)?;
        let made = with_control(progress, userdata, cancel, |ctl| {
            client
                .client
                .upload_from(&drive, &target, &mut source, conflict, ctl)
        })?;
        // SAFETY: checked non-NULL; writable as the caller promises.
        unsafe { out.write(into_raw(od_item::new(made))) };
        Ok(())
    })
}

/// An upload session that can be saved and finished later, by another
/// client or another process. Opaque. One upload at a time per session.
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
    ffi_call(|| {
        let out = Out::new(out_session, "out_session")?;
        // SAFETY: the caller's pointers are NULL or valid.
        let (client, drive, target) = unsafe {
            (
                handle_arg(client, "client")?,
                drive_arg(drive)?,
                target_arg(item, name)?,
            )
        };
        let conflict = conflict_arg(conflict)?;
        if size == 0 {
            return Err(FfiError::new(
                od_status::OD_ERR_INVALID_ARGUMENT,
                "an upload session needs at least one byte: upload empty files with od_upload",
            ));
        }
        let session = client.client.create_upload_session(
            &drive,
            &target,
            size,
            conflict,
            &mut crate::graph::control::Control::none(),
        )?;
        // SAFETY: checked non-NULL; writable as the caller promises.
        unsafe {
            out.write(into_raw(od_session {
                session: Mutex::new(session),
            }))
        };
        Ok(())
    })
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
/// # Safety
/// `json` must be NULL or NUL-terminated; `out_session` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_session_from_json(
    json: *const c_char,
    out_session: *mut *mut od_session,
) -> od_status {
    ffi_call(|| {
        let out = Out::new(out_session, "out_session")?;
        // SAFETY: the caller passes NULL or a C string.
        let text = unsafe { str_arg(json, "json") }?;
        let session = UploadSession::from_json(text)?;
        // SAFETY: checked non-NULL; writable as the caller promises.
        unsafe {
            out.write(into_raw(od_session {
                session: Mutex::new(session),
            }))
        };
        Ok(())
    })
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
    ffi_call(|| {
        let out = Out::new(out_item, "out_item")?;
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
        let made = run_session(client, session, &mut source, progress, userdata, cancel)?;
        // SAFETY: checked non-NULL; writable as the caller promises.
        unsafe { out.write(into_raw(made)) };
        Ok(())
    })
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
    ffi_call(|| {
        let out = Out::new(out_item, "out_item")?;
        // SAFETY: the caller's pointers are NULL or valid.
        let (client, session, cancel) = unsafe {
            (
                handle_arg(client, "client")?,
                handle_arg(session, "session")?,
                opt_handle_arg(cancel),
            )
        };
        let mut source = callback_source(read, read_userdata, session.get().size)?;
        let made = run_session(client, session, &mut source, progress, userdata, cancel)?;
        // SAFETY: checked non-NULL; writable as the caller promises.
        unsafe { out.write(into_raw(made)) };
        Ok(())
    })
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
            .cancel_upload_session(&session.get(), &mut crate::graph::control::Control::none())?;
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
    guard_value(0, || {
        unsafe { session.as_ref() }.map_or(0, |s| s.get().size)
    })
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
    guard_value((), || unsafe { free_box(session) })
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
