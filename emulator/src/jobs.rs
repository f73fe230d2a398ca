//! The registry of background jobs (copy, upload from URL): timed progress, pause, forced
//! failure, monitor state. What a job does is in `tasks`.

use crate::config::{JobConfig, JobFailMode};
use crate::rand;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Finished jobs stay answerable this long.
const KEEP_FINISHED: Duration = Duration::from_secs(15 * 60);

/// Job time: advances only while jobs are not paused.
struct Clock {
    acc: Duration,
    resumed: Option<Instant>,
}

impl Clock {
    fn now(&self) -> Duration {
        self.acc + self.resumed.map(|r| r.elapsed()).unwrap_or_default()
    }
}

#[derive(Clone, Debug)]
pub(crate) enum JobState {
    Running,
    Completed {
        drive_id: String,
        item_id: String,
    },
    Failed {
        mode: JobFailMode,
        code: String,
        message: String,
        percent: f64,
    },
}

struct Job {
    tempauth: Option<String>,
    operation: &'static str,
    /// job-clock time the timed part started (None while a source is being downloaded)
    start: Option<Duration>,
    duration: Duration,
    fail: Option<JobFailMode>,
    state: JobState,
    finished: Option<Instant>,
    /// held by a `hold_job` fault: its timed part does not begin until released
    held: bool,
    /// [`Jobs::begin`] came while the job was held: the timed part begins at the release
    begin_on_release: bool,
}

impl Job {
    fn due(&self) -> Duration {
        if self.fail.is_some() {
            self.duration / 2
        } else {
            self.duration
        }
    }
}

/// What a monitor request sees.
pub(crate) struct JobView {
    pub operation: &'static str,
    pub percent: f64,
    pub state: JobState,
}

pub(crate) enum Lookup {
    Found(JobView),
    NotFound,
    BadTempauth,
}

struct Inner {
    config: JobConfig,
    clock: Clock,
    map: HashMap<String, Job>,
}

pub(crate) struct Jobs {
    inner: Mutex<Inner>,
    changed: watch::Sender<u64>,
    /// background tasks of jobs not yet ended (see [`Jobs::track`])
    running: Arc<AtomicUsize>,
}

/// One job's background task, counted in [`Jobs::running`] until dropped: when the
/// task has ended, with its outcome written (or nothing, for a job a reset cleared).
pub(crate) struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).floor() / 10.0
}

impl Jobs {
    pub fn new(config: JobConfig) -> Jobs {
        let resumed = if config.paused {
            None
        } else {
            Some(Instant::now())
        };
        Jobs {
            inner: Mutex::new(Inner {
                config,
                clock: Clock {
                    acc: Duration::ZERO,
                    resumed,
                },
                map: HashMap::new(),
            }),
            changed: watch::channel(0).0,
            running: Arc::default(),
        }
    }

    /// Count a job's task as running until the guard is dropped (taken before the 202
    /// is answered, dropped when the task ends).
    pub fn track(&self) -> Running {
        self.running.fetch_add(1, Ordering::SeqCst);
        Running(self.running.clone())
    }

    /// Jobs whose tasks have not ended: 0 once every started copy or upload from URL
    /// has written its result (paused jobs stay running).
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn config(&self) -> JobConfig {
        self.lock().config.clone()
    }

    pub fn set_config(&self, config: JobConfig) {
        {
            let mut g = self.lock();
            if config.paused && !g.config.paused {
                g.clock.acc = g.clock.now();
                g.clock.resumed = None;
            } else if !config.paused && g.config.paused {
                g.clock.resumed = Some(Instant::now());
            }
            g.config = config;
        }
        self.changed.send_modify(|v| *v += 1);
    }

    /// Forget every job (a reset): running ones write nothing when due.
    pub fn clear(&self) {
        self.lock().map.clear();
        self.changed.send_modify(|v| *v += 1);
    }

    /// Whether the job is still known (not cleared by a reset).
    pub fn exists(&self, token: &str) -> bool {
        self.lock().map.contains_key(token)
    }

    /// A new job; returns (token, tempauth). A `held` job stays in progress at 0 % until
    /// [`Jobs::release_held`].
    pub fn create(
        &self,
        operation: &'static str,
        with_tempauth: bool,
        held: bool,
    ) -> (String, Option<String>) {
        let token = rand::random_token(24);
        let tempauth = with_tempauth.then(|| rand::random_token(48));
        let mut g = self.lock();
        g.map
            .retain(|_, j| j.finished.is_none_or(|f| f.elapsed() < KEEP_FINISHED));
        let fail = g.config.fail;
        g.map.insert(
            token.clone(),
            Job {
                tempauth: tempauth.clone(),
                operation,
                start: None,
                duration: Duration::ZERO,
                fail,
                state: JobState::Running,
                finished: None,
                held,
                begin_on_release: false,
            },
        );
        (token, tempauth)
    }

    /// Start the timed part of a job that moves `bytes`.
    pub fn begin(&self, token: &str, bytes: u64) {
        let mut g = self.lock();
        let base = g.config.base_ms;
        let bps = g.config.bytes_per_sec.max(1);
        let ms =
            base.saturating_add((bytes as u128 * 1000 / bps as u128).min(u64::MAX as u128) as u64);
        let now = g.clock.now();
        if let Some(j) = g.map.get_mut(token) {
            j.duration = Duration::from_millis(ms);
            if j.held {
                j.begin_on_release = true;
            } else {
                j.start = Some(now);
            }
        }
    }

    /// Let every held job go: each begins its timed part now (if it was due to). Returns
    /// how many were held.
    pub fn release_held(&self) -> usize {
        let released = {
            let mut g = self.lock();
            let now = g.clock.now();
            let mut n = 0;
            for j in g.map.values_mut().filter(|j| j.held) {
                j.held = false;
                if std::mem::take(&mut j.begin_on_release) {
                    j.start = Some(now);
                }
                n += 1;
            }
            n
        };
        self.changed.send_modify(|v| *v += 1);
        released
    }

    /// Jobs held by a `hold_job` fault and not yet released.
    pub fn held(&self) -> usize {
        self.lock().map.values().filter(|j| j.held).count()
    }

    /// Wait (on job time) until the job is due to finish, or to fail when a failure is forced.
    /// Returns the forced failure mode, if any.
    pub async fn wait_due(&self, token: &str) -> Option<JobFailMode> {
        let mut rx = self.changed.subscribe();
        loop {
            let wait = {
                let g = self.lock();
                let j = g.map.get(token)?;
                let elapsed = j.start.map(|s| g.clock.now().saturating_sub(s));
                if elapsed.is_some_and(|e| e >= j.due()) {
                    return j.fail;
                }
                let elapsed = elapsed.unwrap_or_default();
                if j.held {
                    None
                } else if j.start.is_none() {
                    Some(Duration::from_millis(10))
                } else if g.config.paused {
                    None
                } else {
                    Some(j.due() - elapsed)
                }
            };
            match wait {
                None => {
                    if rx.changed().await.is_err() {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                Some(d) => {
                    tokio::select! {
                        _ = tokio::time::sleep(d) => {}
                        _ = rx.changed() => {}
                    }
                }
            }
        }
    }

    fn finish(&self, token: &str, state: JobState) {
        let mut g = self.lock();
        if let Some(j) = g.map.get_mut(token) {
            j.state = state;
            j.finished = Some(Instant::now());
            j.held = false;
        }
    }

    pub fn complete(&self, token: &str, drive_id: String, item_id: String) {
        self.finish(token, JobState::Completed { drive_id, item_id });
    }

    pub fn fail(&self, token: &str, mode: JobFailMode, code: &str, message: String) {
        let percent = self.view_percent(token);
        self.finish(
            token,
            JobState::Failed {
                mode,
                code: code.to_string(),
                message,
                percent,
            },
        );
    }

    fn view_percent(&self, token: &str) -> f64 {
        let g = self.lock();
        g.map
            .get(token)
            .map(|j| Self::percent(&g.clock, j))
            .unwrap_or(0.0)
    }

    fn percent(clock: &Clock, j: &Job) -> f64 {
        match &j.state {
            JobState::Completed { .. } => 100.0,
            JobState::Failed { percent, .. } => *percent,
            JobState::Running => {
                let Some(start) = j.start else {
                    return 0.0;
                };
                let elapsed = clock.now().saturating_sub(start).as_secs_f64();
                let total = j.duration.as_secs_f64();
                let p = if total <= 0.0 {
                    100.0
                } else {
                    elapsed / total * 100.0
                };
                let cap = if j.fail.is_some() { 50.0 } else { 99.9 };
                round1(p.min(cap))
            }
        }
    }

    pub fn lookup(&self, token: &str, tempauth: Option<&str>) -> Lookup {
        let g = self.lock();
        let Some(j) = g.map.get(token) else {
            return Lookup::NotFound;
        };
        if j.finished.is_some_and(|f| f.elapsed() >= KEEP_FINISHED) {
            return Lookup::NotFound;
        }
        if let Some(want) = &j.tempauth {
            if tempauth != Some(want.as_str()) {
                return Lookup::BadTempauth;
            }
        }
        Lookup::Found(JobView {
            operation: j.operation,
            percent: Self::percent(&g.clock, j),
            state: j.state.clone(),
        })
    }
}
