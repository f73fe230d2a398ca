//! `od_job`: following an asynchronous job, saving it, rebuilding it.

use std::ffi::{CString, c_char, c_void};
use std::time::Duration;

use crate::graph::control::Control;
use crate::graph::job::{Job, JobState, TrackedJob, WaitOptions};

use super::args::{drive_arg, od_progress_fn, with_control};
use super::boundary::{
    FfiError, FfiResult, Out, ffi_call, ffi_new, free_box, handle_arg, into_raw, opt_handle_arg,
    str_arg, with_handle,
};
use super::cancel::od_cancel;
use super::client::od_client;
use super::item::od_item;
use super::status::{od_status, set_last_error};

/// Where a job stands.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum od_job_state {
    OD_JOB_NOT_STARTED = 0,
    OD_JOB_RUNNING = 1,
    OD_JOB_COMPLETED = 2,
    OD_JOB_FAILED = 3,
    OD_JOB_CANCELLED = 4,
    /// A status word this library does not know: treat as running.
    OD_JOB_UNKNOWN = 5,
}

impl From<JobState> for od_job_state {
    fn from(s: JobState) -> od_job_state {
        match s {
            JobState::NotStarted => od_job_state::OD_JOB_NOT_STARTED,
            JobState::Running => od_job_state::OD_JOB_RUNNING,
            JobState::Completed => od_job_state::OD_JOB_COMPLETED,
            JobState::Failed => od_job_state::OD_JOB_FAILED,
            JobState::Cancelled => od_job_state::OD_JOB_CANCELLED,
            JobState::Unknown => od_job_state::OD_JOB_UNKNOWN,
        }
    }
}

/// An asynchronous job (a copy, an upload from URL). Opaque. It remembers
/// the last status it was seen in. Any number of threads may use one job at
/// once; free it once, when none does.
///
/// Methods:
/// - Made by `od_copy`, `od_url_upload`, or `od_job_from_monitor_url`
///   (a saved job).
/// - `od_job_monitor_url`: the URL to save it by.
/// - `od_poll_job` (one look), `od_wait_job` (until it ends).
/// - `od_job_last_state`, `od_job_item`: what the last look saw.
/// - `od_job_free`: frees it (the job goes on on the service).
pub struct od_job {
    job: TrackedJob,
    monitor_url: CString,
}

impl od_job {
    pub(crate) fn new(job: Job) -> od_job {
        od_job {
            // A URL parsed by `Origin::of` holds no NUL.
            monitor_url: CString::new(job.monitor_url()).unwrap_or_default(),
            job: TrackedJob::new(job),
        }
    }
}

/// Rebuilds a job from a saved monitor URL (see `od_job_monitor_url`),
/// e.g. after the app restarted.
///
/// - `monitor_url`: required; copied.
/// - `drive`: the destination's drive prefix, used to read the new item
///   when the service names it only by id; NULL = `/me/drive`.
/// - `out_job`: receives the job on `OD_OK`; free it with `od_job_free`.
///
/// No request is made. Any thread.
///
/// Trust model: the monitor URL is trusted as a capability: the library
/// polls it without the token and believes its answers about the job. What
/// it says the new item is goes through checks before the token is used: an
/// id (`resourceId`) must be a plain item id (no `/`, no `.`/`..`), and a
/// location on the API's origin is followed only in the `…/items/{id}`
/// form, read as an item of `drive`; a location elsewhere is read without
/// the token. Store saved monitor URLs where only the app can change them.
///
/// # Safety
/// Strings must be NULL or NUL-terminated; `out_job` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_job_from_monitor_url(
    monitor_url: *const c_char,
    drive: *const c_char,
    out_job: *mut *mut od_job,
) -> od_status {
    let made = || -> FfiResult<_> {
        // SAFETY: the caller passes NUL-terminated strings or NULL.
        let (url, drive) = unsafe { (str_arg(monitor_url, "monitor_url")?, drive_arg(drive)?) };
        let job = Job::from_monitor_url(url, drive)?;
        Ok(od_job::new(job))
    };
    // SAFETY: `out_job` is NULL (refused) or writable, as the caller promises.
    unsafe { ffi_new(out_job, "out_job", made) }
}

/// The job's monitor URL: save it to follow the job later with
/// `od_job_from_monitor_url`. Opaque and pre-authorized: do not parse it,
/// do not send a token to it. Borrowed from the job (valid until
/// `od_job_free`); NULL when `job` is NULL.
///
/// # Safety
/// `job` must be NULL or a live job.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_job_monitor_url(job: *const od_job) -> *const c_char {
    // SAFETY: the caller passes NULL or a live job.
    unsafe { with_handle(job, std::ptr::null(), |j| j.monitor_url.as_ptr()) }
}

/// The state the job was last seen in (by `od_poll_job` or `od_wait_job`);
/// `OD_JOB_UNKNOWN` before the first look or when `job` is NULL.
///
/// # Safety
/// `job` must be NULL or a live job.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_job_last_state(job: *const od_job) -> od_job_state {
    let unknown = od_job_state::OD_JOB_UNKNOWN;
    // SAFETY: the caller passes NULL or a live job.
    unsafe {
        with_handle(job, unknown, |j| {
            j.job.last().map_or(unknown, |s| s.state.into())
        })
    }
}

/// Looks at the job once (one GET of the monitor URL, never with the
/// token; on completion one more to read the new item).
///
/// - `out_state`: receives an `od_job_state` on `OD_OK`. Required.
/// - `out_percent` (may be NULL): receives 0–100, or -1 when the service
///   gave no percentage, on `OD_OK`.
///
/// A job that failed or was cancelled is still `OD_OK` here, with that
/// state; its error (code, message) is then also put in this thread's last
/// error, with status `OD_ERR_JOB_FAILED` / `OD_ERR_JOB_CANCELLED`.
/// A job the service no longer knows is `OD_ERR_NOT_FOUND`.
///
/// Blocking. Any thread.
///
/// # Safety
/// Handles must be NULL or live; out-pointers NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_poll_job(
    client: *const od_client,
    job: *const od_job,
    out_state: *mut od_job_state,
    out_percent: *mut f64,
) -> od_status {
    ffi_call(|| {
        let out_state = Out::new(out_state, "out_state")?;
        let out_percent = Out::optional(out_percent);
        // SAFETY: the caller passes NULL or live handles.
        let (client, job) = unsafe { (handle_arg(client, "client")?, handle_arg(job, "job")?) };
        let status = job.job.poll(&client.client, &mut Control::none())?;
        if let Some(e) = &status.error {
            set_last_error(&FfiError::from(e.clone()));
        }
        // SAFETY: checked non-NULL; writable as the caller promises.
        unsafe {
            out_state.write(status.state.into());
            if let Some(p) = out_percent {
                p.write(status.percent.unwrap_or(-1.0));
            }
        }
        Ok(())
    })
}

/// Follows the job until it ends, polling at an adaptive interval: first
/// 250 ms after the service accepted it (at once for a job rebuilt from its
/// URL), then aimed at the job's estimated end, at most 5 s apart, never
/// sooner than a Retry-After up to 60 s (a longer Retry-After from a
/// monitor, a day say, is cut to 60 s: a look is cheap and the job may be
/// done). A 202 whose body is not JSON (a gateway's page) means still
/// running; a 5xx without a Graph error body is a blip, looked at again;
/// only a Graph error body or a failed status ends the job.
///
/// - `timeout_ms`: give up after this long with `OD_ERR_TIMEOUT`; 0 = no limit.
/// - `progress`, `userdata` (may be NULL): called after each look with
///   (percent × 100, 10000), the last percent the service gave (0 before
///   any); non-zero stops with `OD_ERR_ABORTED_BY_CALLBACK`.
/// - `cancel` (may be NULL): raising it stops the wait with `OD_ERR_CANCELLED`.
/// - `out_item` (may be NULL): receives the new item on `OD_OK`; the caller
///   frees it with `od_item_free`. Left untouched in the rare case of a
///   service that reports completion without naming the item.
///
/// Returns `OD_OK` when the job completed, `OD_ERR_JOB_FAILED` or
/// `OD_ERR_JOB_CANCELLED` (the service's error in the last error) when it
/// did not. Stopping the wait does not stop the job on the service.
///
/// Blocking. Any thread.
///
/// # Safety
/// Handles must be NULL or live; `out_item` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_wait_job(
    client: *const od_client,
    job: *const od_job,
    timeout_ms: u64,
    progress: od_progress_fn,
    userdata: *mut c_void,
    cancel: *const od_cancel,
    out_item: *mut *mut od_item,
) -> od_status {
    ffi_call(|| {
        let out_item = Out::optional(out_item);
        // SAFETY: the caller passes NULL or live handles.
        let (client, job, cancel) = unsafe {
            (
                handle_arg(client, "client")?,
                handle_arg(job, "job")?,
                opt_handle_arg(cancel),
            )
        };
        let opts = WaitOptions {
            timeout: (timeout_ms > 0).then(|| Duration::from_millis(timeout_ms)),
            ..WaitOptions::default()
        };
        let status = with_control(progress, userdata, cancel, |ctl| {
            job.job.wait(&client.client, &opts, ctl)
        })?;
        if let (Some(out), Some(item)) = (out_item, status.item) {
            // SAFETY: non-NULL; writable as the caller promises.
            unsafe { out.write(into_raw(od_item::new(item))) };
        }
        Ok(())
    })
}

/// The item a completed job made, as last seen by `od_poll_job` /
/// `od_wait_job`.
///
/// - `out_item`: receives a new item on `OD_OK` (free it with
///   `od_item_free`). `OD_ERR_INVALID_STATE` when the job has not been
///   seen completed.
///
/// No request is made. Any thread.
///
/// # Safety
/// `job` must be NULL or live; `out_item` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_job_item(job: *const od_job, out_item: *mut *mut od_item) -> od_status {
    let made = || -> FfiResult<_> {
        // SAFETY: the caller passes NULL or a live job.
        let job = unsafe { handle_arg(job, "job") }?;
        let item = job.job.last().and_then(|s| s.item).ok_or_else(|| {
            FfiError::new(
                od_status::OD_ERR_INVALID_STATE,
                "no item known: the job has not been seen completed, or the service named none",
            )
        })?;
        Ok(od_item::new(item))
    };
    // SAFETY: `out_item` is NULL (refused) or writable, as the caller promises.
    unsafe { ffi_new(out_item, "out_item", made) }
}

/// Frees a job. NULL is ignored. This does not stop the job on the service.
///
/// # Safety
/// `job` must be NULL or a job from this library not yet freed, used by no
/// other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_job_free(job: *mut od_job) {
    // SAFETY: forwarded from the caller.
    unsafe { free_box(job) }
}
