//! `onedrive-emulator`: a local, stateful emulator of the Microsoft Graph OneDrive drive API.
//!
//! It serves the Graph drive routes on one origin (the API origin, which wants
//! `Authorization: Bearer <token>`) and pre-authorized monitor / upload-session URLs on a
//! second origin (which refuses any Authorization header). Copy and upload-from-URL run as
//! timed background jobs. Faults (throttling, 5xx, dropped connections, latency, failed jobs)
//! can be injected from the Rust API, from the CLI, or from the admin path `/_emulator`.
//!
//! ```no_run
//! let emu = onedrive_emulator::Emulator::start(onedrive_emulator::Config::default()).unwrap();
//! println!("{} (token {})", emu.base_url(), emu.token());
//! ```

#![forbid(unsafe_code)]

mod addr;
mod admin;
mod api;
mod config;
mod content;
mod download;
mod faults;
mod hash;
mod jobs;
mod monitor;
mod moves;
mod rand;
mod server;
mod sink;
mod state;
mod store;
mod tasks;
mod tls;
mod util;

pub use config::{
    Completion, Config, FaultAction, FaultRule, JobConfig, JobFailMode, LoggedRequest, Profile,
    Times, Tls,
};
pub use hash::{QuickXorHash, quick_xor_hash};

use bytes::Bytes;
use state::{Origin, Shared, lock};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running emulator. Stops (listeners, background jobs) on drop.
pub struct Emulator {
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
    shutdown: tokio::sync::watch::Sender<bool>,
}

fn origin_of(addr: SocketAddr, https: bool) -> String {
    let scheme = if https { "https" } else { "http" };
    match addr.ip() {
        IpAddr::V6(ip) => format!("{scheme}://[{ip}]:{}", addr.port()),
        IpAddr::V4(ip) => format!("{scheme}://{ip}:{}", addr.port()),
    }
}

fn bind(host: IpAddr, port: u16) -> std::io::Result<std::net::TcpListener> {
    let l = std::net::TcpListener::bind((host, port))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

fn new_shared(
    config: &Config,
    store: store::Store,
    spool: content::SpoolDir,
    tls: tls::TlsSetup,
    api_origin: String,
    monitor_origin: String,
) -> Shared {
    Shared {
        session_bytes: content::SessionBytes::new(config.session_bytes_limit),
        spool,
        data_dir: config.data_dir.clone(),
        persisted: Mutex::new(0),
        sink: config.sink,
        latency: Duration::from_millis(config.latency_ms),
        #[cfg(test)]
        fragment_hook: Mutex::new(None),
        token: config.token.clone(),
        admin_token: config.admin_token.clone(),
        max_connections: config.max_connections.max(1),
        connections_accepted: Default::default(),
        session_bytes_limit: config.session_bytes_limit,
        header_read_timeout: config.header_read_timeout,
        offline: false,
        profile: config.profile,
        simple_upload_limit: config.simple_upload_limit,
        api_origin,
        monitor_origin,
        started: Instant::now(),
        store: Mutex::new(store),
        log: Mutex::new(Vec::new()),
        next_seq: Mutex::new(1),
        faults: Mutex::new(Vec::new()),
        held_requests: Default::default(),
        hold_bound: None,
        jobs: jobs::Jobs::new(config.job.clone()),
        initial_job: config.job.clone(),
        sessions: Default::default(),
        session_lifetime: Mutex::new(state::SESSION_LIFETIME),
        statics: Mutex::new(HashMap::new()),
        downloads: Mutex::new(HashMap::new()),
        tls: tls.acceptor,
        ca_pem: tls.ca_pem,
        fetch_tls: tls.connector,
    }
}

/// For the fuzz target (`emulator/fuzz`), not an API: runs `requests` in order through the
/// request pipeline (log, faults, routing, handlers) of a fresh in-memory emulator, without
/// sockets, and returns their statuses (0: dropped, or not a valid HTTP request).
/// Each is `(monitor origin?, method, path and query, headers, body)`. In the path,
/// `{session}` stands for the newest upload session's token; in header values, `{token}`
/// and `{admin}` for the API and admin tokens. Jobs run on a paused clock with the
/// `fuzzing` feature; upload from URL fetches nothing.
#[doc(hidden)]
#[allow(clippy::type_complexity)]
pub fn fuzz_requests(
    requests: &[(bool, String, String, Vec<(String, String)>, Vec<u8>)],
) -> Vec<u16> {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_all();
    #[cfg(feature = "fuzzing")]
    builder.start_paused(true);
    let Ok(runtime) = builder.build() else {
        return Vec::new();
    };
    let config = Config {
        admin_token: "fuzz-admin".into(),
        job: JobConfig {
            base_ms: 1,
            ..JobConfig::default()
        },
        tls: Tls::Plain,
        ..Config::default()
    };
    let Ok(spool) = content::SpoolDir::new(None) else {
        return Vec::new();
    };
    let Ok(store) = store::Store::open(config.profile, None, &spool.path) else {
        return Vec::new();
    };
    let Ok(tls) = tls::TlsSetup::new(&config.tls, config.host, None) else {
        return Vec::new();
    };
    let _guard = runtime.enter();
    let mut shared = new_shared(
        &config,
        store,
        spool,
        tls,
        "http://127.0.0.1:1".into(),
        "http://127.0.0.1:2".into(),
    );
    shared.offline = true;
    shared.hold_bound = Some(Duration::from_secs(60));
    let shared = Arc::new(shared);
    let mut statuses = Vec::new();
    for (monitor, method, target, headers, body) in requests {
        let session = shared
            .with_sessions(|m| m.keys().next().cloned())
            .unwrap_or_default();
        let target = target.replace("{session}", &session);
        let mut req = hyper::Request::builder()
            .method(method.as_bytes())
            .uri(target);
        for (k, v) in headers {
            let v = v
                .replace("{token}", &config.token)
                .replace("{admin}", &config.admin_token);
            req = req.header(k.as_str(), v);
        }
        let body = state::boxed(http_body_util::Full::new(Bytes::from(body.clone())));
        let Ok(req) = req.body(body) else {
            statuses.push(0);
            continue;
        };
        let origin = if *monitor {
            Origin::Monitor
        } else {
            Origin::Api
        };
        let status = runtime.block_on(server::handle_one(shared.clone(), origin, req));
        statuses.push(status);
    }
    drop(_guard);
    runtime.shutdown_background();
    statuses
}

impl Emulator {
    /// Bind both origins (ephemeral ports unless configured), load or seed the drives, and serve.
    pub fn start(config: Config) -> std::io::Result<Emulator> {
        let tls = tls::TlsSetup::new(&config.tls, config.host, config.fetch_trust_pem.as_deref())?;
        let https = tls.acceptor.is_some();
        if let Some(dir) = &config.data_dir {
            store::check_data_dir(dir)?;
        }
        let spool = content::SpoolDir::new(config.data_dir.as_deref())?;
        let store = store::Store::open(config.profile, config.data_dir.clone(), &spool.path)?;
        let api = bind(config.host, config.api_port)?;
        let mon = bind(config.host, config.monitor_port)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("onedrive-emulator")
            .enable_all()
            .build()?;
        let _guard = runtime.enter();
        let shared = Arc::new(new_shared(
            &config,
            store,
            spool,
            tls,
            origin_of(api.local_addr()?, https),
            origin_of(mon.local_addr()?, https),
        ));
        let (tx, rx) = tokio::sync::watch::channel(false);
        let api = tokio::net::TcpListener::from_std(api)?;
        let mon = tokio::net::TcpListener::from_std(mon)?;
        runtime.spawn(server::serve(api, shared.clone(), Origin::Api, rx.clone()));
        runtime.spawn(server::serve(
            mon,
            shared.clone(),
            Origin::Monitor,
            rx.clone(),
        ));
        runtime.spawn(expire_sessions(Arc::downgrade(&shared), rx));
        drop(_guard);
        Ok(Emulator {
            shared,
            runtime: Some(runtime),
            shutdown: tx,
        })
    }

    /// `https://127.0.0.1:{api}/v1.0` (`http://` with [`Tls::Plain`]): the Graph routes
    /// are relative to it.
    pub fn base_url(&self) -> String {
        self.shared.base_url()
    }

    /// `https://127.0.0.1:{api}` (`http://` with [`Tls::Plain`]).
    pub fn api_origin(&self) -> String {
        self.shared.api_origin.clone()
    }

    /// Where monitor URLs, upload-session URLs and static files live:
    /// `https://127.0.0.1:{monitor}` (`http://` with [`Tls::Plain`]).
    pub fn monitor_origin(&self) -> String {
        self.shared.monitor_origin.clone()
    }

    /// The PEM of the CA a client must trust to reach both origins: the generated CA
    /// ([`Tls::Generated`]), the `ca_pem` given with [`Tls::Pem`], else None.
    pub fn ca_pem(&self) -> Option<String> {
        self.shared.ca_pem.clone()
    }

    pub fn token(&self) -> String {
        self.shared.token.clone()
    }

    /// The bearer token of the admin path `/_emulator` (`Authorization: Bearer {admin_token}`).
    pub fn admin_token(&self) -> String {
        self.shared.admin_token.clone()
    }

    pub fn profile(&self) -> Profile {
        self.shared.profile
    }

    /// The drive behind `/me/drive` and `/drive`.
    pub fn default_drive_id(&self) -> String {
        self.shared.store().default_drive().id.clone()
    }

    /// All seeded drives, the default first: the user's, a group's, a site's.
    pub fn drive_ids(&self) -> Vec<String> {
        self.shared
            .store()
            .drives
            .iter()
            .map(|d| d.id.clone())
            .collect()
    }

    /// The user behind `/me` (also reachable as `/users/{id}/drive`).
    pub fn user_id(&self) -> String {
        self.shared.store().user.id.clone()
    }

    /// The group owning the second seeded drive (`/groups/{id}/drive`).
    pub fn group_id(&self) -> String {
        self.owner_id(store::OwnerKind::Group)
    }

    /// The site owning the third seeded drive (`/sites/{id}/drive`).
    pub fn site_id(&self) -> String {
        self.owner_id(store::OwnerKind::Site)
    }

    fn owner_id(&self, kind: store::OwnerKind) -> String {
        self.shared
            .store()
            .drives
            .iter()
            .find(|d| d.owner_kind == kind)
            .map(|d| d.owner.id.clone())
            .unwrap_or_default()
    }

    /// The request log, in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    pub fn add_fault(&self, rule: FaultRule) {
        lock(&self.shared.faults).push(faults::Armed::new(rule));
    }

    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    pub fn set_job_config(&self, job: JobConfig) {
        self.shared.jobs.set_config(job);
    }

    pub fn job_config(&self) -> JobConfig {
        self.shared.jobs.config()
    }

    /// How long an upload session lives without activity (default 1 hour).
    pub fn set_upload_session_lifetime(&self, lifetime: Duration) {
        *lock(&self.shared.session_lifetime) = lifetime;
    }

    /// The item JSON (as GET would answer) at `path` ("/a/b.txt"; "/" = root) of a drive.
    pub fn item_json(&self, drive_id: &str, path: &str) -> Option<serde_json::Value> {
        let store = self.shared.store();
        let id = store.by_path(drive_id, path)?.id.clone();
        store.item_json(&id, &self.shared.api_origin)
    }

    /// The content of the file at `path` of a drive.
    pub fn content(&self, drive_id: &str, path: &str) -> Option<Vec<u8>> {
        let store = self.shared.store();
        let id = store.by_path(drive_id, path)?.id.clone();
        let content = store.content(&id)?;
        drop(store);
        content.read_all().ok().map(|b| b.to_vec())
    }

    /// Live upload sessions.
    pub fn upload_session_count(&self) -> usize {
        self.shared.with_sessions(|m| m.len())
    }

    /// Copies and uploads from URL still running: 0 once each one started so far has
    /// written its result (a job a reset cleared writes nothing and ends at once, or
    /// once it has fetched its source for an upload from URL; paused jobs keep running). Tests poll it instead of sleeping. `GET
    /// /_emulator/stats` reports it as `running_jobs`.
    pub fn running_jobs(&self) -> usize {
        self.shared.jobs.running()
    }

    /// Jobs held by a `hold_job` fault ([`FaultAction::HoldJob`]) and not yet released:
    /// a test waits for its job to be held before acting on it. `GET /_emulator/stats`
    /// reports it as `held_jobs`.
    pub fn held_jobs(&self) -> usize {
        self.shared.jobs.held()
    }

    /// Lets every held job go (each begins its timed part now); returns how many were
    /// held. `POST /_emulator/jobs/release` does the same.
    pub fn release_jobs(&self) -> usize {
        self.shared.jobs.release_held()
    }

    /// Requests a `hold_request` fault ([`FaultAction::HoldRequest`]) holds now: a test
    /// waits for its request to be held before acting on it. `GET /_emulator/stats`
    /// reports it as `held_requests`.
    pub fn held_requests(&self) -> usize {
        self.shared.held_requests.held()
    }

    /// Lets every held request go on to be handled; returns how many were held. `POST
    /// /_emulator/requests/release` does the same.
    pub fn release_requests(&self) -> usize {
        self.shared.held_requests.release()
    }

    /// TCP connections both origins have accepted since the start (those answered 503
    /// for want of a free slot included): tests wait on it instead of sleeping.
    pub fn connections_accepted(&self) -> u64 {
        self.shared
            .connections_accepted
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Where upload sessions spool their bytes (one file per session that has received
    /// a fragment): `<data_dir>/.onedrive-emulator-spool`, else a new directory in the
    /// system's temporary directory. The emulator's own files in it are removed at
    /// start and at stop, then the directory if nothing else is in it.
    pub fn spool_dir(&self) -> PathBuf {
        self.shared.spool.path.clone()
    }

    /// Make `count` empty files named `{prefix}{i}` (i from 1, zero-padded to the width of
    /// `count`: `f001` … `f100`) in the folder at `path` of a drive (made if missing), in
    /// one step: big folders for tests and benchmarks of listing. Fails (and makes
    /// nothing) when a name is taken or invalid, or `count` is above 1,000,000.
    pub fn seed_files(
        &self,
        drive_id: &str,
        path: &str,
        prefix: &str,
        count: usize,
    ) -> Result<(), String> {
        self.shared
            .seed_files(Some(drive_id), path, prefix, count)
            .map(drop)
            .map_err(|e| e.message)
    }

    /// Back to a fresh drive: every item below the drives' roots, upload sessions, jobs,
    /// fault rules, download URLs, static files and the request log go (held requests are
    /// let go, held jobs end with the rest); the job settings
    /// and the upload session lifetime are those of the start. The drives, their ids and
    /// their roots' ids, the tokens and the origins stay. `POST /_emulator/reset` does the same.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Serve `body` at `GET {monitor_origin}/static/{name}` (a source for upload from URL).
    pub fn serve_static(&self, name: &str, body: Vec<u8>) -> String {
        self.shared.serve_static(name, Bytes::from(body))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(rt) = self.runtime.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                rt.shutdown_background();
            } else {
                rt.shutdown_timeout(Duration::from_secs(2));
            }
        }
        // spool files of unfinished sessions, links of loaded contents
        self.shared.spool.remove();
    }
}

/// Drop expired upload sessions (and their spool files) now and then, not only when a
/// request looks at the sessions.
async fn expire_sessions(
    shared: std::sync::Weak<Shared>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(10)) => {}
            _ = shutdown.changed() => return,
        }
        match shared.upgrade() {
            Some(s) => s.with_sessions(|_| ()),
            None => return,
        }
    }
}
