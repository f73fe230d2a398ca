//! Background jobs (copy, upload from URL): timed progress, pause, forced failure, monitor state.

use crate::server::Shared;
use crate::store::{Conflict, TreeSnap};
use crate::util;
use crate::{JobConfig, JobFailMode};
use bytes::Bytes;
use http_body_util::BodyExt as _;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Finished jobs stay answerable this long.
const KEEP_FINISHED: Duration = Duration::from_secs(15 * 60);
/// Largest source an upload from URL will fetch.
const MAX_SOURCE_BYTES: usize = 1 << 30;

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
        }
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

    /// A new job; returns (token, tempauth).
    pub fn create(&self, operation: &'static str, with_tempauth: bool) -> (String, Option<String>) {
        let token = util::random_token(24);
        let tempauth = with_tempauth.then(|| util::random_token(48));
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
            j.start = Some(now);
            j.duration = Duration::from_millis(ms);
        }
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
                if j.start.is_none() {
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

/// A job cleared by a reset while it ran: it writes nothing.
fn gone() -> crate::util::GraphError {
    crate::util::GraphError::new(404, "itemNotFound", "The job was cleared by a reset.")
}

/// A copy: wait for the job's duration, then write the snapshot.
pub(crate) fn spawn_copy(
    shared: Arc<Shared>,
    token: String,
    mut snap: TreeSnap,
    parent_id: String,
    name: String,
    conflict: Conflict,
) {
    tokio::spawn(async move {
        shared.jobs.begin(&token, snap.bytes());
        if let Some(mode) = shared.jobs.wait_due(&token).await {
            shared.jobs.fail(
                &token,
                mode,
                "generalException",
                "The copy operation failed.".into(),
            );
            return;
        }
        // the files are copied into the data directory before the store lock
        let staged = match &shared.data_dir {
            Some(dir) => snap
                .stage(&dir.join("content"))
                .map_err(crate::store::storage_error),
            None => Ok(()),
        };
        let result = staged.and_then(|()| {
            let mut store = shared.store();
            if !shared.jobs.exists(&token) {
                return Err(gone());
            }
            store
                .materialize(&parent_id, &name, snap, conflict)
                .map(|id| (store.get(&id).map(|it| it.drive_id.clone()), id))
        });
        match result {
            Ok((Some(drive_id), id)) => shared.jobs.complete(&token, drive_id, id),
            Ok((None, _)) => shared.jobs.fail(
                &token,
                JobFailMode::Status,
                "generalException",
                "The copied item vanished.".into(),
            ),
            Err(e) => shared
                .jobs
                .fail(&token, JobFailMode::Status, &e.code, e.message),
        }
    });
}

async fn download(shared: &Shared, url: &str) -> Result<Bytes, String> {
    if shared.offline {
        return Err("this emulator fetches no source URLs".into());
    }
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e| format!("invalid source URL: {e}"))?;
    let fut = async {
        let resp = crate::tls::get(&shared.fetch_tls, &uri).await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("the source URL answered HTTP {}", status.as_u16()));
        }
        let body = http_body_util::Limited::new(resp.into_body(), MAX_SOURCE_BYTES);
        body.collect()
            .await
            .map(|c| c.to_bytes())
            .map_err(|e| format!("error while downloading the source URL: {e}"))
    };
    match tokio::time::timeout(Duration::from_secs(120), fut).await {
        Ok(r) => r,
        Err(_) => Err("timed out downloading the source URL".into()),
    }
}

/// An upload from URL: download the source, wait for the job's duration, then write the file.
pub(crate) fn spawn_url_upload(
    shared: Arc<Shared>,
    token: String,
    url: String,
    parent_id: String,
    name: String,
    conflict: Conflict,
) {
    tokio::spawn(async move {
        let data = match download(&shared, &url).await {
            Ok(d) => d,
            Err(msg) => {
                let mode = shared.jobs.config().fail.unwrap_or(JobFailMode::Status);
                shared.jobs.fail(&token, mode, "generalException", msg);
                return;
            }
        };
        shared.jobs.begin(&token, data.len() as u64);
        if let Some(mode) = shared.jobs.wait_due(&token).await {
            shared.jobs.fail(
                &token,
                mode,
                "generalException",
                "The upload from URL failed.".into(),
            );
            return;
        }
        // hashed and staged before the store lock
        let prepared = {
            let shared = shared.clone();
            tokio::task::spawn_blocking(move || shared.file_content(data)).await
        };
        let prepared = prepared.unwrap_or_else(|e| {
            Err(crate::util::GraphError::new(
                500,
                "generalException",
                e.to_string(),
            ))
        });
        let result = prepared.and_then(|fc| {
            let mut store = shared.store();
            if !shared.jobs.exists(&token) {
                return Err(gone());
            }
            store
                .put_file(&parent_id, &name, fc, conflict)
                .map(|(id, _)| (store.get(&id).map(|it| it.drive_id.clone()), id))
        });
        match result {
            Ok((Some(drive_id), id)) => shared.jobs.complete(&token, drive_id, id),
            Ok((None, _)) => shared.jobs.fail(
                &token,
                JobFailMode::Status,
                "generalException",
                "The uploaded item vanished.".into(),
            ),
            Err(e) => shared
                .jobs
                .fail(&token, JobFailMode::Status, &e.code, e.message),
        }
    });
}
