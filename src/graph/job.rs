//! Asynchronous jobs (copy, upload from URL): polling the monitor URL.
//!
//! The monitor URL is opaque and pre-authorized: it is never parsed, and
//! the bearer token never goes to it. Its answers:
//! - 202 (or 200) with an AsyncJobStatus: `status`, `percentageComplete`,
//!   on completion perhaps `resourceId`;
//! - 303 See Other, `Location` = the new item: completed;
//! - 500 with a Graph error body: the job failed;
//! - 404 (or 500 `operationNotFound`): unknown or expired.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::address::{Drive, ItemRef};
use super::client::Client;
use super::control::Control;
use super::error::{Error, ErrorKind, GraphErrorBody, Result};
use super::http::{Auth, Request, Response, Retry};
use super::item::Item;
use super::log::LogLevel;
use super::url::{Origin, resolve_location};

/// A job on the service. It is only its monitor URL (plus the drive in
/// which to look up a `resourceId`), so it can be saved and rebuilt later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    monitor_url: String,
    drive: Drive,
    /// When the service accepted the job, if this process saw it: the job
    /// was at 0 % then, which lets the first look already tell its rate.
    accepted_at: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    NotStarted,
    Running,
    Completed,
    Failed,
    Cancelled,
    /// A status this client does not know; treated as still running.
    Unknown,
}

impl JobState {
    /// Maps the service's status strings (both enums it uses); unknown ones
    /// are accepted as [`JobState::Unknown`].
    pub fn from_status(s: &str) -> JobState {
        match s.to_ascii_lowercase().as_str() {
            "notstarted" | "waiting" => JobState::NotStarted,
            "inprogress" | "updating" | "cancelpending" | "deletepending" => JobState::Running,
            "completed" | "succeeded" => JobState::Completed,
            "failed" | "deletefailed" => JobState::Failed,
            "cancelled" | "canceled" => JobState::Cancelled,
            _ => JobState::Unknown,
        }
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Completed | JobState::Failed | JobState::Cancelled
        )
    }
}

/// What one look at the monitor URL told.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStatus {
    pub state: JobState,
    /// The service's own status word (empty after a 303).
    pub status_text: String,
    /// 0–100, when the service said.
    pub percent: Option<f64>,
    /// The new item, once completed.
    pub item: Option<Item>,
    /// The service's error, once failed.
    pub error: Option<Error>,
    /// How long the service asked to wait before the next look.
    pub retry_after: Option<Duration>,
}

impl Job {
    /// Rebuilds a job from a saved monitor URL. `drive` is where the new
    /// item lives (used when the service names it only by `resourceId`).
    pub fn from_monitor_url(url: &str, drive: Drive) -> Result<Job> {
        let url = url.trim();
        Origin::of(url)?;
        Ok(Job {
            monitor_url: url.to_owned(),
            drive,
            accepted_at: None,
        })
    }

    pub fn monitor_url(&self) -> &str {
        &self.monitor_url
    }

    pub fn drive(&self) -> &Drive {
        &self.drive
    }

    /// The job from a 202 answer to a copy or an upload from URL.
    pub(crate) fn from_accepted(resp: Response, request_url: &str, drive: Drive) -> Result<Job> {
        if resp.status != 202 {
            let mut e = Error::protocol(format!(
                "expected 202 Accepted with a monitor URL, got HTTP {}",
                resp.status
            ));
            e.http_status = Some(resp.status);
            e.request_id = resp.request_id;
            return Err(e);
        }
        let location = resp
            .location
            .as_deref()
            .ok_or_else(|| Error::protocol("202 Accepted without a Location (monitor URL)"))?;
        let url = resolve_location(request_url, location)?;
        let mut job = Job::from_monitor_url(&url, drive)?;
        job.accepted_at = Some(Instant::now());
        Ok(job)
    }
}

impl Client {
    /// One look at the job's monitor URL (never with the token).
    pub fn poll_job(&self, job: &Job, ctl: &mut Control<'_>) -> Result<JobStatus> {
        let mut req = Request::new(
            "GET",
            job.monitor_url.clone(),
            Auth::None,
            Retry::Idempotent,
        );
        req.graph_error_is_final = true;
        let resp = self.inner.send(&req, ctl)?;
        match resp.status {
            // Accepted, nothing (or nothing readable: a gateway's page) said:
            // still running. A 202 says so whatever its body holds.
            200..=299
                if resp.body.iter().all(u8::is_ascii_whitespace)
                    || (resp.status == 202 && resp.json().is_err()) =>
            {
                Ok(still_running(resp.retry_after))
            }
            // A 5xx without a Graph error (a gateway, a proxy): a blip on
            // the way, not news of the job.
            500..=599 if GraphErrorBody::parse(&resp.body).code.is_none() => {
                Ok(still_running(resp.retry_after))
            }
            200..=299 => {
                let body = resp.json()?;
                self.status_from_body(job, &body, resp.retry_after, ctl)
            }
            301..=303 | 307 | 308 => {
                let location = resp.location.as_deref().ok_or_else(|| {
                    Error::protocol("a redirect from the monitor without Location")
                })?;
                let body = serde_json::from_slice::<Value>(&resp.body).ok();
                let item = self.finished_item(job, body.as_ref(), Some(location), ctl)?;
                Ok(JobStatus {
                    state: JobState::Completed,
                    status_text: String::new(),
                    percent: Some(100.0),
                    item,
                    error: None,
                    retry_after: None,
                })
            }
            500 if !is_not_found(&resp.body)
                && GraphErrorBody::parse(&resp.body).code.is_some() =>
            {
                Ok(JobStatus {
                    state: JobState::Failed,
                    status_text: "failed".to_owned(),
                    percent: None,
                    item: None,
                    error: Some(resp.error().with_kind(ErrorKind::JobFailed)),
                    retry_after: None,
                })
            }
            _ => {
                let e = resp.error();
                Err(if is_not_found(&resp.body) {
                    e.with_kind(ErrorKind::NotFound)
                } else {
                    e
                })
            }
        }
    }

    pub(crate) fn status_from_body(
        &self,
        job: &Job,
        body: &Value,
        retry_after: Option<Duration>,
        ctl: &mut Control<'_>,
    ) -> Result<JobStatus> {
        let status_text = body
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let percent = body.get("percentageComplete").and_then(|p| match p {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        let percent = percent
            .filter(|p| p.is_finite())
            .map(|p| p.clamp(0.0, 100.0));
        let mut state = JobState::from_status(&status_text);
        if status_text.is_empty() && body.get("id").is_some() && body.get("status").is_none() {
            // Some monitors answer with the finished item itself.
            return Ok(JobStatus {
                state: JobState::Completed,
                status_text,
                percent: Some(100.0),
                item: Some(Item::from_json(body.clone())?),
                error: None,
                retry_after,
            });
        }
        let mut item = None;
        let mut error = None;
        match state {
            JobState::Completed => {
                let location = body.get("resourceLocation").and_then(Value::as_str);
                item = self.finished_item(job, Some(body), location, ctl)?;
            }
            JobState::Failed | JobState::Cancelled => {
                let detail = body
                    .get("error")
                    .map(GraphErrorBody::from_value)
                    .unwrap_or_default();
                let kind = if state == JobState::Failed {
                    ErrorKind::JobFailed
                } else {
                    ErrorKind::JobCancelled
                };
                let message = detail
                    .message
                    .clone()
                    .or_else(|| {
                        body.get("statusDescription")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .unwrap_or_else(|| format!("the job ended with status {status_text:?}"));
                let mut e = Error::new(kind, message);
                e.code = detail.code;
                e.inner_code = detail.inner_code;
                e.request_id = detail.request_id;
                error = Some(e);
            }
            JobState::NotStarted | JobState::Running | JobState::Unknown => {
                if status_text.is_empty() {
                    state = JobState::Unknown;
                }
            }
        }
        Ok(JobStatus {
            state,
            status_text,
            percent,
            item,
            error,
            retry_after,
        })
    }

    /// The item a finished job made: named by `resourceId` (read through
    /// the API, in the job's drive), or by a URL (a 303's Location, a
    /// `resourceLocation`). A URL on the API origin is read with the token;
    /// elsewhere it is pre-authorized and read without it, and when it
    /// turns out not to be, the item id it names is read through the API.
    /// `None` when the service named no item at all.
    fn finished_item(
        &self,
        job: &Job,
        body: Option<&Value>,
        location: Option<&str>,
        ctl: &mut Control<'_>,
    ) -> Result<Option<Item>> {
        // An id from the service is checked as a caller's is (a dot
        // segment would retarget a request that carries the token).
        let by_id = |this: &Client, id: &str, ctl: &mut Control<'_>| {
            this.item(&job.drive, &ItemRef::id(id)?, ctl).map(Some)
        };
        if let Some(id) = body
            .and_then(|b| b.get("resourceId"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            return by_id(self, id, ctl);
        }
        let Some(location) = location else {
            return Ok(None);
        };
        let url = resolve_location(&job.monitor_url, location)?;
        if self.inner.may_carry_token(&url) {
            // On the API origin the token would go with the request: only
            // an item (`…/items/{id}`), read as the job's drive's item, is
            // followed; a monitor that names anything else there is not.
            return match item_id_in(&url) {
                Some(id) => by_id(self, &id, ctl),
                None => Err(Error::protocol(
                    "the job's completion names a location on the API that is not an item",
                )),
            };
        }
        let resp = self.inner.send(
            &Request::new("GET", url.clone(), Auth::None, Retry::Idempotent),
            ctl,
        )?;
        match resp.status {
            200..=299 => Item::from_slice(&resp.body).map(Some),
            401 | 403 => match item_id_in(&url) {
                Some(id) => by_id(self, &id, ctl),
                None => Err(resp.error()),
            },
            _ => Err(resp.error()),
        }
    }

    /// Polls until the job ends, `timeout` passes, the token is cancelled or
    /// the progress callback says stop. Progress is `(percent × 100, 10000)`.
    ///
    /// The interval adapts: the first look comes 250 ms after the service
    /// accepted the job (right away for a job rebuilt from its URL, then
    /// short), the next ones at the moment the job's observed rate says it
    /// will finish, never more than `max_interval` apart, never sooner than
    /// a Retry-After.
    pub fn wait_job(
        &self,
        job: &Job,
        opts: &WaitOptions,
        ctl: &mut Control<'_>,
    ) -> Result<JobStatus> {
        let started = Instant::now();
        let deadline = opts.timeout.map(|t| started + t);
        // The job's age when known, else the time this wait has waited.
        let origin = job.accepted_at.unwrap_or(started);
        let mut first_progress = job.accepted_at.map(|t| (t, 0.0));
        let mut last_percent = 0.0;
        if let Some(accepted) = job.accepted_at {
            // A first look right after the 202 would tell nothing: give the
            // job a moment, so that one look gives its rate.
            let first =
                (accepted + FIRST_LOOK.max(opts.min_interval)).saturating_duration_since(started);
            let first = deadline.map_or(first, |d| first.min(d - started));
            ctl.sleep(first)?;
        }
        loop {
            let status = self.poll_job(job, ctl)?;
            self.inner.log.write(LogLevel::Debug, || {
                format!(
                    "job look: {:?}{}",
                    status.state,
                    status
                        .percent
                        .map_or(String::new(), |p| format!(" at {p:.1} %"))
                )
            });
            // After every look, with the last percent known (0 before any):
            // a caller's callback also hears that the wait is alive.
            if let Some(p) = status.percent {
                last_percent = p;
            }
            ctl.report((last_percent * 100.0).round() as u64, 10_000)?;
            match status.state {
                JobState::Completed => {
                    if status.percent.is_none() {
                        ctl.report(10_000, 10_000)?;
                    }
                    return Ok(status);
                }
                JobState::Failed | JobState::Cancelled => {
                    return Err(status
                        .error
                        .clone()
                        .unwrap_or_else(|| Error::new(ErrorKind::JobFailed, "the job failed")));
                }
                _ => {}
            }
            let now = Instant::now();
            let mut next = pause(
                next_interval(opts, now - origin, status.percent, &mut first_progress, now),
                status.retry_after,
            );
            if let Some(deadline) = deadline {
                if now >= deadline {
                    let mut e = Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "the job did not finish within {:.1} s",
                            (now - started).as_secs_f64()
                        ),
                    );
                    e.retry_after = Some(next);
                    return Err(e);
                }
                next = next.min(deadline - now);
            }
            self.inner.log.write(LogLevel::Debug, || {
                format!("job: next look in {} ms", next.as_millis())
            });
            ctl.sleep(next)?;
        }
    }
}

/// The item id in a URL of the form `…/items/{id}[/…|?…]`, percent-decoded.
pub(crate) fn item_id_in(url: &str) -> Option<String> {
    let rest = &url[url.find("/items/")? + "/items/".len()..];
    let raw = rest
        .split(['/', '?', '#', ':'])
        .next()
        .filter(|s| !s.is_empty())?;
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).and_then(|&b| hex(b)),
            bytes.get(i + 2).and_then(|&b| hex(b)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

pub(crate) fn is_not_found(body: &[u8]) -> bool {
    let e = GraphErrorBody::parse(body);
    [e.code, e.inner_code].iter().flatten().any(|c| {
        c.eq_ignore_ascii_case("operationNotFound") || c.eq_ignore_ascii_case("itemNotFound")
    })
}

/// A look that told nothing new: the job is taken to be still running.
fn still_running(retry_after: Option<Duration>) -> JobStatus {
    JobStatus {
        state: JobState::Unknown,
        status_text: String::new(),
        percent: None,
        item: None,
        error: None,
        retry_after,
    }
}

/// The longest a monitor's Retry-After is honoured: a look is cheap and the
/// job may be done, so a longer one (a day, say) is cut to this.
pub const MAX_MONITOR_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The pause before the next look: the planned one, or the monitor's
/// Retry-After up to [`MAX_MONITOR_RETRY_AFTER`] when that is longer.
fn pause(planned: Duration, retry_after: Option<Duration>) -> Duration {
    retry_after.map_or(planned, |ra| planned.max(ra.min(MAX_MONITOR_RETRY_AFTER)))
}

/// How long after the service accepted a job `wait_job` first looks.
const FIRST_LOOK: Duration = Duration::from_millis(250);

/// How `wait_job` paces itself.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitOptions {
    /// Give up after this long (`None`: wait as long as it takes).
    pub timeout: Option<Duration>,
    /// The first intervals, and the least any interval is.
    pub min_interval: Duration,
    /// The most any interval is.
    pub max_interval: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: None,
            min_interval: Duration::from_millis(100),
            max_interval: Duration::from_secs(5),
        }
    }
}

/// The next pause: once the job has shown progress, aim at its estimated
/// end; before that, grow with the time already waited (a quarter of it).
/// Near the end the pause shrinks to a tenth of the time waited, so the end
/// is seen within about 10 % of the job's length.
fn next_interval(
    opts: &WaitOptions,
    elapsed: Duration,
    percent: Option<f64>,
    first_progress: &mut Option<(Instant, f64)>,
    now: Instant,
) -> Duration {
    let floor = opts.min_interval;
    let cap = opts.max_interval.max(floor);
    let tenth = elapsed.mul_f64(0.1);
    let guess = match (percent, *first_progress) {
        (Some(p), None) => {
            *first_progress = Some((now, p));
            elapsed.mul_f64(0.25)
        }
        (Some(p), Some((t0, p0))) if p > p0 => {
            let rate = (p - p0) / (now - t0).as_secs_f64().max(1e-3); // percent per second
            let remaining = Duration::from_secs_f64(((100.0 - p) / rate).clamp(0.0, 86_400.0));
            // Aim a little after the estimated end, so that one look finds it.
            (remaining.mul_f64(1.02) + Duration::from_millis(10)).max(tenth)
        }
        _ => elapsed.mul_f64(0.25),
    };
    guess.clamp(floor, cap)
}

/// A job with the status it was last seen in: what a caller that looks at
/// one job from several threads, and asks later how it ended, keeps.
#[derive(Debug)]
pub struct TrackedJob {
    job: Job,
    last: Mutex<Option<JobStatus>>,
}

impl TrackedJob {
    pub fn new(job: Job) -> TrackedJob {
        TrackedJob {
            job,
            last: Mutex::new(None),
        }
    }

    pub fn job(&self) -> &Job {
        &self.job
    }

    /// The status of the last look ([`TrackedJob::poll`] or
    /// [`TrackedJob::wait`]), if any.
    pub fn last(&self) -> Option<JobStatus> {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn remember(&self, status: &JobStatus) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(status.clone());
    }

    /// One look, remembered.
    pub fn poll(&self, client: &Client, ctl: &mut Control<'_>) -> Result<JobStatus> {
        let status = client.poll_job(&self.job, ctl)?;
        self.remember(&status);
        Ok(status)
    }

    /// Follows the job to its end; the end is remembered, a failure or a
    /// cancellation on the service too.
    pub fn wait(
        &self,
        client: &Client,
        opts: &WaitOptions,
        ctl: &mut Control<'_>,
    ) -> Result<JobStatus> {
        match client.wait_job(&self.job, opts, ctl) {
            Ok(status) => {
                self.remember(&status);
                Ok(status)
            }
            Err(e) => {
                let state = match e.kind {
                    ErrorKind::JobFailed => Some(JobState::Failed),
                    ErrorKind::JobCancelled => Some(JobState::Cancelled),
                    _ => None,
                };
                if let Some(state) = state {
                    self.remember(&JobStatus {
                        state,
                        status_text: String::new(),
                        percent: None,
                        item: None,
                        error: Some(e.clone()),
                        retry_after: None,
                    });
                }
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_monitors_retry_after_is_capped() {
        let ms = Duration::from_millis;
        assert_eq!(pause(ms(500), None), ms(500));
        assert_eq!(pause(ms(500), Some(ms(2000))), ms(2000));
        assert_eq!(pause(ms(5000), Some(ms(2000))), ms(5000));
        // a day is cut to a minute: the job may be done long before
        let day = Duration::from_secs(86_400);
        assert_eq!(pause(ms(500), Some(day)), MAX_MONITOR_RETRY_AFTER);
    }

    #[test]
    fn status_words() {
        use JobState::*;
        for (s, st) in [
            ("notStarted", NotStarted),
            ("waiting", NotStarted),
            ("inProgress", Running),
            ("updating", Running),
            ("cancelPending", Running),
            ("deletePending", Running),
            ("completed", Completed),
            ("failed", Failed),
            ("deleteFailed", Failed),
            ("cancelled", Cancelled),
            ("somethingNew", Unknown),
            ("", Unknown),
        ] {
            assert_eq!(JobState::from_status(s), st, "{s}");
        }
        assert!(Completed.is_final() && Failed.is_final() && !Running.is_final());
    }

    #[test]
    fn intervals_aim_at_the_end() {
        let opts = WaitOptions::default();
        let t0 = Instant::now();
        let mut fp = None;
        // first look: short
        assert_eq!(
            next_interval(&opts, Duration::ZERO, Some(0.0), &mut fp, t0),
            opts.min_interval
        );
        // 10 % after 1 s: 9 s to go, capped at 5 s
        let i = next_interval(
            &opts,
            Duration::from_secs(1),
            Some(10.0),
            &mut fp,
            t0 + Duration::from_secs(1),
        );
        assert_eq!(i, opts.max_interval);
        // 90 % after 9 s: ~1 s to go (rate 10 %/s from the first look)
        let i = next_interval(
            &opts,
            Duration::from_secs(9),
            Some(90.0),
            &mut fp,
            t0 + Duration::from_secs(9),
        );
        assert!(
            i >= Duration::from_millis(900) && i <= Duration::from_millis(1100),
            "{i:?}"
        );
        // 100 % but not yet completed: a tenth of the time waited
        let i = next_interval(
            &opts,
            Duration::from_secs(10),
            Some(100.0),
            &mut fp,
            t0 + Duration::from_secs(10),
        );
        assert_eq!(i, Duration::from_secs(1));
        // no percent at all: a quarter of the time waited, capped
        let mut fp = None;
        assert_eq!(
            next_interval(&opts, Duration::from_secs(2), None, &mut fp, t0),
            Duration::from_millis(500)
        );
        assert_eq!(
            next_interval(&opts, Duration::from_secs(60), None, &mut fp, t0),
            opts.max_interval
        );
    }

    #[test]
    fn item_ids_in_urls() {
        assert_eq!(
            item_id_in("https://api.onedrive.com/v1.0/drives/d/items/A!12").as_deref(),
            Some("A!12")
        );
        assert_eq!(
            item_id_in("https://x/_api/v2.0/drives/d/items/01AB%21C?tempauth=z").as_deref(),
            Some("01AB!C")
        );
        assert_eq!(
            item_id_in("https://x/v1.0/drives/d/items/ID/children").as_deref(),
            Some("ID")
        );
        assert_eq!(item_id_in("https://x/v1.0/drives/d/items/"), None);
        assert_eq!(item_id_in("https://x/v1.0/monitor/abc"), None);
    }

    #[test]
    fn saved_jobs() {
        let j = Job::from_monitor_url(" https://api.onedrive.com/monitor/x?tempauth=1 ", Drive::Me)
            .unwrap();
        assert_eq!(
            j.monitor_url(),
            "https://api.onedrive.com/monitor/x?tempauth=1"
        );
        assert!(Job::from_monitor_url("not a url", Drive::Me).is_err());
        assert!(Job::from_monitor_url("", Drive::Me).is_err());
    }
}
