//! The state every request handler shares ([`Shared`]: the store, sessions, jobs, fault
//! rules, the log …), the per-request context ([`Ctx`]) with its body reading, and the
//! handlers' result types.

use crate::config::{JobConfig, LoggedRequest, Profile};
use crate::content::{FileContent, Reservation, SessionBytes, Spool, SpoolDir};
use crate::faults::Armed;
use crate::hash::Hasher;
use crate::jobs::Jobs;
use crate::store::{Conflict, Store};
use crate::util::{self, GraphError, Resp};
use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::Method;
use hyper::header::HeaderMap;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// How long an upload session lives without activity, unless set otherwise.
pub(crate) const SESSION_LIFETIME: Duration = Duration::from_secs(3600);

/// The most files one seed request makes.
const SEED_MAX: usize = 1_000_000;

/// Largest file an upload session accepts (the service's documented 250 GB).
pub(crate) const MAX_FILE_SIZE: u64 = 250 * 1024 * 1024 * 1024;

/// Where an upload session's bytes go when it completes.
#[derive(Clone, Debug)]
pub(crate) enum SessionTarget {
    Existing(String),
    New {
        base: String,
        parent_segs: Vec<String>,
        name: String,
        conflict: Conflict,
    },
}

/// Bytes of an unread request body drained after answering, so the connection stays usable.
const DRAIN_CAP: u64 = 128 * 1024 * 1024;

/// A request body that sends nothing for this long is dropped.
const BODY_IDLE: Duration = Duration::from_secs(60);

/// A request body: hyper's, or an in-memory one (fuzzing).
pub(crate) type Body = http_body_util::combinators::BoxBody<Bytes, BoxError>;
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub(crate) fn boxed<B>(body: B) -> Body
where
    B: hyper::body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    Api,
    Monitor,
}

/// An upload session. The map of sessions is locked only to find, add or remove one;
/// a fragment's checks, spool write and hashing happen under the session's own `state`.
pub(crate) struct UploadSession {
    pub target: SessionTarget,
    pub expires: Mutex<SystemTime>,
    /// bytes received so far (kept by `state`'s holder, readable without waiting for it)
    pub received: AtomicU64,
    /// completed, cancelled or expired: takes no more fragments
    pub closed: AtomicBool,
    pub state: Mutex<SessionState>,
}

pub(crate) struct SessionState {
    pub file_size: Option<u64>,
    /// the bytes so far, on disk (made with the first fragment)
    pub spool: Option<Spool>,
    /// the hashes of the bytes so far
    pub hasher: Hasher,
    /// what the spool counts against `session_bytes_limit`
    pub held: Reservation,
}

impl UploadSession {
    pub fn new(
        target: SessionTarget,
        file_size: Option<u64>,
        expires: SystemTime,
        pool: &Arc<SessionBytes>,
    ) -> UploadSession {
        UploadSession {
            target,
            expires: Mutex::new(expires),
            received: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            state: Mutex::new(SessionState {
                file_size,
                spool: None,
                hasher: Hasher::default(),
                held: Reservation::empty(pool),
            }),
        }
    }
}

type Sessions = HashMap<String, Arc<UploadSession>>;

pub(crate) struct Shared {
    pub token: String,
    pub admin_token: String,
    pub max_connections: usize,
    /// TCP connections accepted by both listeners so far (refused ones too)
    pub connections_accepted: std::sync::atomic::AtomicU64,
    pub header_read_timeout: Duration,
    pub session_bytes_limit: u64,
    /// bytes held by live sessions (their spool files), against `session_bytes_limit`
    pub session_bytes: Arc<SessionBytes>,
    /// where sessions spool their bytes
    pub spool: SpoolDir,
    /// `Config::data_dir`: content is staged in its `content/` before the store lock
    pub data_dir: Option<std::path::PathBuf>,
    /// the newest metadata snapshot written (its sequence number); held while writing one
    pub persisted: Mutex<u64>,
    /// read and discard request bodies, answer just enough (benchmarks)
    pub sink: bool,
    /// `Config::latency_ms`: waited before each API / monitor request is handled
    pub latency: Duration,
    /// true: upload from URL fetches nothing (fuzzing)
    pub offline: bool,
    pub profile: Profile,
    pub simple_upload_limit: u64,
    pub api_origin: String,
    pub monitor_origin: String,
    pub started: Instant,
    pub store: Mutex<Store>,
    pub log: Mutex<Vec<LoggedRequest>>,
    pub next_seq: Mutex<u64>,
    pub faults: Mutex<Vec<Armed>>,
    /// requests a `hold_request` fault holds until a release
    pub held_requests: crate::faults::Gate,
    /// fuzzing: a held request goes on by itself after this (the runtime's clock is
    /// paused there and skips ahead; nothing else could release it)
    pub hold_bound: Option<Duration>,
    pub jobs: Jobs,
    /// `Config::job`, which a reset restores
    pub initial_job: JobConfig,
    /// use `with_sessions`: it drops expired ones first
    pub sessions: Mutex<Sessions>,
    pub session_lifetime: Mutex<Duration>,
    pub statics: Mutex<HashMap<String, Bytes>>,
    /// download token -> (item id, issued)
    pub downloads: Mutex<HashMap<String, (String, Instant)>>,
    /// Both listeners do this TLS handshake first; None = plain HTTP.
    pub tls: Option<TlsAcceptor>,
    /// The CA a client must trust (`Emulator::ca_pem`).
    pub ca_pem: Option<String>,
    /// Upload from URL's https:// fetches (trusts `ca_pem` and `Config::fetch_trust_pem`).
    pub fetch_tls: TlsConnector,
    /// Called by a session's last fragment once its hashes are known, before the store
    /// is touched (tests: other requests must go through meanwhile).
    #[cfg(test)]
    pub fragment_hook: Mutex<Option<Arc<dyn Fn() + Send + Sync>>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The store, locked. Metadata changes are serialized while it is held; the file write
/// of `metadata.json` happens after it is released (see [`Shared::write_meta`]).
pub(crate) struct StoreGuard<'a> {
    shared: &'a Shared,
    guard: Option<MutexGuard<'a, Store>>,
}

impl std::ops::Deref for StoreGuard<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.guard.as_ref().expect("held until drop")
    }
}

impl std::ops::DerefMut for StoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.guard.as_mut().expect("held until drop")
    }
}

impl Drop for StoreGuard<'_> {
    fn drop(&mut self) {
        let job = self.guard.as_mut().and_then(|g| g.take_persist());
        drop(self.guard.take());
        if let Some(job) = job {
            self.shared.write_meta(job);
        }
    }
}

impl Shared {
    pub fn store(&self) -> StoreGuard<'_> {
        StoreGuard {
            shared: self,
            guard: Some(lock(&self.store)),
        }
    }

    /// Write a metadata snapshot unless a newer one is already on disk, then remove the
    /// content files it no longer names. Outside the store lock, one writer at a time.
    fn write_meta(&self, job: crate::store::PersistJob) {
        let Some(dir) = &self.data_dir else {
            return;
        };
        {
            let mut last = lock(&self.persisted);
            if job.seq > *last {
                let tmp = dir.join("metadata.json.tmp");
                let r = std::fs::write(&tmp, &job.meta)
                    .and_then(|_| std::fs::rename(&tmp, dir.join("metadata.json")));
                if let Err(e) = r {
                    eprintln!("onedrive-emulator: cannot write metadata.json: {e}");
                }
                *last = job.seq;
            }
        }
        for id in job.removed {
            let _ = std::fs::remove_file(dir.join("content").join(id));
        }
    }

    /// `fc`, copied into the data directory (if any) under a temporary name, ready for
    /// the store to rename: the write happens here, before the store lock.
    pub fn stage(&self, fc: &mut FileContent) -> Result<(), GraphError> {
        match &self.data_dir {
            Some(dir) => fc
                .stage(&dir.join("content"))
                .map_err(crate::store::storage_error),
            None => Ok(()),
        }
    }

    /// Hash `data` and stage it, all before the store lock.
    pub fn file_content(&self, data: Bytes) -> Result<FileContent, GraphError> {
        let mut fc = FileContent::hash(data);
        self.stage(&mut fc)?;
        Ok(fc)
    }

    pub fn base_url(&self) -> String {
        format!("{}/v1.0", self.api_origin)
    }

    pub fn serve_static(&self, name: &str, body: Bytes) -> String {
        lock(&self.statics).insert(name.to_string(), body);
        format!(
            "{}/static/{}",
            self.monitor_origin,
            util::encode_segment(name)
        )
    }

    /// [`Emulator::reset`] and `POST /_emulator/reset`.
    pub fn reset(&self) {
        {
            // jobs go while the store is held: a job that was about to write finds itself gone
            let mut store = self.store();
            self.jobs.clear();
            self.jobs.set_config(self.initial_job.clone());
            store.reset();
        }
        let sessions = self.with_sessions(|m| m.drain().map(|(_, s)| s).collect::<Vec<_>>());
        for s in &sessions {
            s.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        drop(sessions); // their spool files go with the last reference
        *lock(&self.session_lifetime) = SESSION_LIFETIME;
        lock(&self.faults).clear();
        self.held_requests.release();
        lock(&self.downloads).clear();
        lock(&self.statics).clear();
        lock(&self.log).clear();
    }

    /// [`Emulator::seed_files`] and `POST /_emulator/seed`: returns the folder's id.
    pub fn seed_files(
        &self,
        drive_id: Option<&str>,
        path: &str,
        prefix: &str,
        count: usize,
    ) -> Result<String, GraphError> {
        if count > SEED_MAX {
            return Err(GraphError::bad_request(format!(
                "At most {SEED_MAX} files per seed request."
            )));
        }
        let segs: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        for s in &segs {
            crate::store::validate_name(s)?;
        }
        let mut store = self.store();
        let root = match drive_id {
            Some(d) => store.drive(d).map(|d| d.root_id.clone()),
            None => Some(store.default_drive().root_id.clone()),
        }
        .ok_or_else(|| GraphError::new(404, "itemNotFound", "The drive could not be found."))?;
        store.seed_files(&root, &segs, prefix, count)
    }

    /// The answer when upload sessions would hold more than the emulator keeps.
    pub fn session_quota_error(&self) -> GraphError {
        GraphError::new(
            507,
            "quotaLimitReached",
            format!(
                "Insufficient storage: the emulator keeps at most {} bytes of upload sessions at once.",
                self.session_bytes_limit
            ),
        )
    }

    /// `f` over the live sessions (expired ones are dropped first). The map is locked
    /// only for `f`; sessions that go away are released (their spool files removed)
    /// after the lock.
    pub fn with_sessions<R>(&self, f: impl FnOnce(&mut Sessions) -> R) -> R {
        let mut expired = Vec::new();
        let r = {
            let mut g = lock(&self.sessions);
            let now = SystemTime::now();
            let gone: Vec<String> = g
                .iter()
                .filter(|(_, s)| *lock(&s.expires) <= now)
                .map(|(k, _)| k.clone())
                .collect();
            for k in gone {
                if let Some(s) = g.remove(&k) {
                    s.closed.store(true, Ordering::SeqCst);
                    expired.push(s);
                }
            }
            f(&mut g)
        };
        drop(expired);
        r
    }

    pub fn session(&self, token: &str) -> Option<Arc<UploadSession>> {
        self.with_sessions(|m| m.get(token).cloned())
    }

    /// Take a session out (completed or cancelled): it takes no more fragments.
    pub fn remove_session(&self, token: &str) -> Option<Arc<UploadSession>> {
        let s = self.with_sessions(|m| m.remove(token))?;
        s.closed.store(true, Ordering::SeqCst);
        Some(s)
    }
}

/// Why a request did not get a normal answer.
pub(crate) enum Fail {
    Graph(GraphError),
    /// the client went away (or a fault): close without answering
    Drop,
}

impl From<GraphError> for Fail {
    fn from(e: GraphError) -> Self {
        Fail::Graph(e)
    }
}

pub(crate) type HResult = Result<Resp, Fail>;

/// Per-request context handed to the route handlers.
pub(crate) struct Ctx {
    pub shared: Arc<Shared>,
    pub method: Method,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Option<Body>,
    pub body_bytes: u64,
    pub request_id: String,
    /// a `hold_job` fault acted: a job this request starts is held until released
    pub hold_job: bool,
}

impl Ctx {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn query_param(&self, name: &str) -> Option<String> {
        util::parse_query(&self.query)
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Read the whole body; more than `max` bytes gives 413 (the rest is drained, up to a cap).
    pub async fn read_body(&mut self, max: u64) -> Result<Vec<u8>, Fail> {
        let Some(mut body) = self.body.take() else {
            return Ok(Vec::new());
        };
        let mut buf = Vec::new();
        let mut too_large = false;
        while let Some(frame) = next_frame(&mut body).await? {
            let frame = frame.map_err(|_| Fail::Drop)?;
            if let Ok(data) = frame.into_data() {
                self.body_bytes += data.len() as u64;
                if too_large || self.body_bytes > max {
                    too_large = true;
                    buf = Vec::new();
                    if self.body_bytes > max.saturating_add(DRAIN_CAP) {
                        break;
                    }
                    continue;
                }
                buf.extend_from_slice(&data);
            }
        }
        if too_large {
            return Err(GraphError::new(
                413,
                "BadRequest",
                format!("Maximum request length exceeded: the body is larger than {max} bytes."),
            )
            .into());
        }
        Ok(buf)
    }

    /// Read the whole body, keep none of it (sink mode): its length.
    pub async fn discard_body(&mut self) -> Result<u64, Fail> {
        let mut n = 0u64;
        if let Some(mut body) = self.body.take() {
            while let Some(frame) = next_frame(&mut body).await? {
                if let Ok(data) = frame.map_err(|_| Fail::Drop)?.into_data() {
                    n += data.len() as u64;
                }
            }
        }
        self.body_bytes += n;
        Ok(n)
    }

    /// Read and discard what is left of the body.
    pub async fn drain(&mut self) -> Result<(), Fail> {
        if let Some(mut body) = self.body.take() {
            while let Some(frame) = next_frame(&mut body).await? {
                let frame = frame.map_err(|_| Fail::Drop)?;
                if let Ok(data) = frame.into_data() {
                    self.body_bytes += data.len() as u64;
                    if self.body_bytes > DRAIN_CAP {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Read at most `k` bytes of the body (a dropped-request fault).
    pub async fn read_upto(&mut self, k: u64) {
        if let Some(mut body) = self.body.take() {
            while self.body_bytes < k {
                match next_frame(&mut body).await {
                    Ok(Some(Ok(frame))) => {
                        if let Ok(data) = frame.into_data() {
                            self.body_bytes += data.len() as u64;
                        }
                    }
                    _ => break,
                }
            }
            self.body_bytes = self.body_bytes.min(k);
        }
    }

    pub fn error(&self, e: &GraphError) -> Resp {
        e.response(&self.request_id, self.header("client-request-id"))
    }
}

/// The next frame of a body, or Drop when the client sends nothing for BODY_IDLE.
async fn next_frame(
    body: &mut Body,
) -> Result<Option<Result<hyper::body::Frame<Bytes>, BoxError>>, Fail> {
    tokio::time::timeout(BODY_IDLE, body.frame())
        .await
        .map_err(|_| Fail::Drop)
}
