//! Asynchronous jobs (copy, upload from URL): polling the monitor URL,
//! reading the item a finished job made, waiting for the end.
//!
//! The monitor URL is opaque and pre-authorized: it is never parsed, and
//! the bearer token never goes to it. What its answers say is read in
//! `job_status`, without any request.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::address::{Drive, ItemRef};
use super::client::Client;
use super::control::Control;
use super::error::{Error, ErrorKind, Result};
use super::http::{Auth, Request, Response, Retry};
use super::item::Item;
use super::job_status::{Finished, Look, item_id_in, read_answer};
use super::log::{LogLevel, OneDecimal};
use super::url::{Origin, resolve_location};

pub use super::job_status::{JobState, JobStatus};

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
    /// One look at the job's monitor URL (never with the token); on
    /// completion, the new item read (see `finished_item`).
    pub fn poll_job(&self, job: &Job, ctl: &mut Control<'_>) -> Result<JobStatus> {
        let mut req = Request::new(
            "GET",
            job.monitor_url.clone(),
            Auth::None,
            Retry::Idempotent,
        );
        req.graph_error_is_final = true;
        let resp = self.inner.send(&req, ctl)?;
        let Look {
            mut status,
            finished,
        } = read_answer(&resp)?;
        if let Some(finished) = finished {
            status.item = Some(self.finished_item(job, finished, ctl)?);
        }
        Ok(status)
    }

    /// The item a finished job made: named by `resourceId` (read through
    /// the API, in the job's drive), or by a URL (a 303's Location, a
    /// `resourceLocation`). A URL on the API origin is read with the token;
    /// elsewhere it is pre-authorized and read without it, and when it
    /// turns out not to be, the item id it names is read through the API.
    fn finished_item(&self, job: &Job, finished: Finished, ctl: &mut Control<'_>) -> Result<Item> {
        // An id from the service is checked as a caller's is (a dot
        // segment would retarget a request that carries the token).
        let by_id = |this: &Client, id: &str, ctl: &mut Control<'_>| {
            this.item(&job.drive, &ItemRef::id(id)?, ctl)
        };
        let location = match finished {
            Finished::Id(id) => return by_id(self, &id, ctl),
            Finished::Location(location) => location,
        };
        let url = resolve_location(&job.monitor_url, &location)?;
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
            200..=299 => Item::from_slice(&resp.body),
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
                        .map_or(String::new(), |p| format!(" at {} %", OneDecimal::of(p)))
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
                            "the job did not finish within {} s",
                            OneDecimal::secs(now - started)
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
