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

mod admin;
mod api;
mod content;
mod download;
mod faults;
mod hash;
mod jobs;
mod monitor;
mod server;
mod sink;
mod store;
mod tls;
mod util;

pub use hash::{QuickXorHash, quick_xor_hash};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use server::{Origin, Shared, lock};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which flavour of the service to mimic where Personal and Business differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// OneDrive Personal: monitor completion is `303 See Other`; upload from URL works.
    #[default]
    Personal,
    /// OneDrive for Business / SharePoint: monitor URLs carry `tempauth`, completion is
    /// `202` with `status: completed` and `resourceId`; upload from URL is refused.
    Business,
}

impl Profile {
    pub fn as_str(&self) -> &'static str {
        match self {
            Profile::Personal => "personal",
            Profile::Business => "business",
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "personal" => Ok(Profile::Personal),
            "business" => Ok(Profile::Business),
            other => Err(format!(
                "unknown profile '{other}' (expected personal or business)"
            )),
        }
    }
}

/// Settings of [`Emulator::start`].
#[derive(Clone, Debug)]
pub struct Config {
    /// The bearer token the API origin accepts. Default `"test-token"`.
    pub token: String,
    /// The bearer token the admin path (`/_emulator`) wants. Default: random per start
    /// (the standalone binary prints it as `admin_token=`). The in-process API needs none.
    pub admin_token: String,
    pub profile: Profile,
    /// 0 = ephemeral (default).
    pub api_port: u16,
    /// 0 = ephemeral (default). Monitor AND upload-session URLs live here.
    pub monitor_port: u16,
    /// Default 127.0.0.1.
    pub host: IpAddr,
    /// None = memory only. Some = metadata and contents kept there, loaded at start.
    pub data_dir: Option<PathBuf>,
    /// Simple upload body larger than this => 413. Default 4 MiB.
    pub simple_upload_limit: u64,
    pub job: JobConfig,
    /// Open connections per origin. At the limit a new connection takes the slot of the
    /// longest-idle one (no request in flight); when every one is busy it gets a 503.
    /// Default 256.
    pub max_connections: usize,
    /// Upload-session bytes held at once, all live sessions together (they are spooled
    /// to files in `<data_dir>/spool`, else in a directory of the system's temporary
    /// directory, so memory stays bounded by a few fragments): a session declaring
    /// more, or a fragment that would pass it, gets `507 quotaLimitReached`. Default 2 GiB.
    pub session_bytes_limit: u64,
    /// A request head must arrive within this (it also closes keep-alive connections
    /// idle that long, and bounds a TLS handshake). Default 30 s.
    pub header_read_timeout: Duration,
    /// HTTPS (the default, with a certificate generated at start) or plain HTTP, on both
    /// origins.
    pub tls: Tls,
    /// More CAs (PEM, one or more certificates) that upload from URL trusts when it
    /// fetches an `https://` source, besides the emulator's own CA. None: only its own.
    pub fetch_trust_pem: Option<String>,
    /// Benchmarks: read and discard every request body (no hashing, no storage) and
    /// answer just enough for a client to upload: a simple upload `PUT …/content` gets
    /// 201 with `{id, name, size, file: {}}` (no hashes), `createUploadSession` an
    /// `uploadUrl` on the monitor origin, whose fragments get 202 with
    /// `nextExpectedRanges`, the last one 201 with the same minimal item. Tokens are
    /// still checked. Default false.
    pub sink: bool,
    /// Every answer of the API and monitor origins is delayed by this many ms (an async
    /// wait before the request is handled; no thread blocks), as on a phone network.
    /// The admin path and `/health` are not delayed. Default 0.
    pub latency_ms: u64,
}

/// What both origins speak: HTTPS (with which certificate) or plain HTTP.
#[derive(Clone, Default)]
pub enum Tls {
    /// HTTPS with certificates made at start: a fresh CA (self-signed, ECDSA P-256) and a
    /// leaf it signs for `127.0.0.1`, `::1`, `localhost` and `Config::host`, valid from a
    /// day ago for a year. Clients trust [`Emulator::ca_pem`]. The default.
    #[default]
    Generated,
    /// HTTPS with this certificate chain (leaf first) and private key (PKCS#8, PKCS#1 or
    /// SEC1), served as they are, even when no client would accept them (a wrong name,
    /// expired, an unknown CA: what the tests of a client want). `ca_pem`, if given, is
    /// what [`Emulator::ca_pem`] returns and what upload from URL trusts too.
    Pem {
        cert_chain_pem: String,
        key_pem: String,
        ca_pem: Option<String>,
    },
    /// Plain HTTP (`http://` origins).
    Plain,
}

impl std::fmt::Debug for Tls {
    /// Never shows the private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tls::Generated => f.write_str("Generated"),
            Tls::Pem { ca_pem, .. } => f
                .debug_struct("Pem")
                .field("key_pem", &"<hidden>")
                .field("ca_pem", &ca_pem.is_some())
                .finish_non_exhaustive(),
            Tls::Plain => f.write_str("Plain"),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            token: "test-token".into(),
            admin_token: util::random_token(24),
            profile: Profile::Personal,
            api_port: 0,
            monitor_port: 0,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            data_dir: None,
            simple_upload_limit: 4 * 1024 * 1024,
            job: JobConfig::default(),
            max_connections: 256,
            session_bytes_limit: 2 << 30,
            header_read_timeout: Duration::from_secs(30),
            tls: Tls::Generated,
            fetch_trust_pem: None,
            sink: false,
            latency_ms: 0,
        }
    }
}

/// Timing and behaviour of background jobs (copy, upload from URL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JobConfig {
    /// Fixed part of a job's duration. Default 200.
    pub base_ms: u64,
    /// Duration grows by bytes * 1000 / bytes_per_sec ms. Default 64 MiB/s.
    pub bytes_per_sec: u64,
    /// true => running jobs stay at their current percent until unpaused.
    pub paused: bool,
    /// Some => every job started from now on fails (at ~50 %).
    pub fail: Option<JobFailMode>,
    /// How a completed job names its new item (the real service has used
    /// several forms). Default: as the profile does.
    pub completion: Completion,
}

impl Default for JobConfig {
    fn default() -> Self {
        JobConfig {
            base_ms: 200,
            bytes_per_sec: 64 * 1024 * 1024,
            paused: false,
            fail: None,
            completion: Completion::Profile,
        }
    }
}

/// How a completed job shows on its monitor URL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Completion {
    /// Personal: 303 See Other, Location = the item on the API origin, a
    /// body with `resourceId`. Business: 202 `completed` with `resourceId`.
    #[default]
    Profile,
    /// 303 See Other with Location = the item on the API origin, no body.
    SeeOtherBare,
    /// 303 See Other with Location = a pre-authorized URL of the item on the
    /// monitor origin (like api.onedrive.com's), no body.
    SeeOtherPreauthorized,
    /// 200 `completed` with only a `resourceLocation` (the API item URL).
    ResourceLocation,
}

/// How a failed job shows on its monitor URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobFailMode {
    /// 200 with an AsyncJobStatus whose status is "failed" and an `error` object.
    Status,
    /// HTTP 500 with a Graph error body.
    Http500,
}

/// One entry of the request log. The Authorization value is never recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedRequest {
    pub seq: u64,
    /// ms since the emulator started
    pub at_ms: u64,
    /// "api" | "monitor" | "admin"
    pub origin: String,
    pub method: String,
    /// raw path as received (still percent-encoded)
    pub path: String,
    /// raw query as received, without '?'
    pub query: String,
    /// 0 if the connection was dropped
    pub status: u16,
    /// whether an Authorization header was present
    pub authorization: bool,
    /// request body bytes read
    pub body_bytes: u64,
    /// which fault rule acted, if any
    pub fault: Option<String>,
}

/// A fault to inject. JSON: `{"times":{"next":2},"action":{"status":{"status":429,"retry_after":1}}}`.
/// Without `times` a rule acts on every matching request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// "api" | "monitor" | None = both
    #[serde(default)]
    pub origin: Option<String>,
    /// e.g. "PUT"; None = any
    #[serde(default)]
    pub method: Option<String>,
    /// substring of the raw path; None = any
    #[serde(default)]
    pub path_contains: Option<String>,
    #[serde(default = "Times::always")]
    pub times: Times,
    pub action: FaultAction,
}

impl FaultRule {
    /// A rule for any request on either origin.
    pub fn new(times: Times, action: FaultAction) -> FaultRule {
        FaultRule {
            origin: None,
            method: None,
            path_contains: None,
            times,
            action,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Times {
    /// The next n matching requests.
    Next(u32),
    /// Every n-th matching request, forever.
    EveryNth(u32),
}

impl Times {
    fn always() -> Times {
        Times::EveryNth(1)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer with this status and a Graph error body; Retry-After (seconds) if Some.
    Status {
        status: u16,
        #[serde(default)]
        retry_after: Option<u64>,
    },
    /// Read K bytes of the request body, then drop the connection (no response).
    DropRequestAfter(u64),
    /// Handle the request (state changes), send K bytes of the response (status line and
    /// headers included), then drop. The body is streamed up to the cut, never held whole.
    DropResponseAfter(u64),
    /// Handle the request (state changes), send the status line, the headers and the
    /// first N bytes of the body, then drop (a download cut mid-body). N at or past the
    /// body's length sends all of it, then drops.
    DropBodyAfter(u64),
    /// Added latency before handling.
    DelayMs(u64),
}

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

pub(crate) fn serve_static_on(shared: &Shared, name: &str, body: Bytes) -> String {
    lock(&shared.statics).insert(name.to_string(), body);
    format!(
        "{}/static/{}",
        shared.monitor_origin,
        util::encode_segment(name)
    )
}

/// How long an upload session lives without activity, unless set otherwise.
const SESSION_LIFETIME: Duration = Duration::from_secs(3600);

/// [`Emulator::reset`] and `POST /_emulator/reset`.
pub(crate) fn reset_on(shared: &Shared) {
    {
        // jobs go while the store is held: a job that was about to write finds itself gone
        let mut store = shared.store();
        shared.jobs.clear();
        shared.jobs.set_config(shared.initial_job.clone());
        store.reset();
    }
    let sessions = shared.with_sessions(|m| m.drain().map(|(_, s)| s).collect::<Vec<_>>());
    for s in &sessions {
        s.closed.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    drop(sessions); // their spool files go with the last reference
    *lock(&shared.session_lifetime) = SESSION_LIFETIME;
    lock(&shared.faults).clear();
    lock(&shared.downloads).clear();
    lock(&shared.statics).clear();
    lock(&shared.log).clear();
}

/// The most files one seed request makes.
const SEED_MAX: usize = 1_000_000;

/// [`Emulator::seed_files`] and `POST /_emulator/seed`: returns the folder's id.
pub(crate) fn seed_files_on(
    shared: &Shared,
    drive_id: Option<&str>,
    path: &str,
    prefix: &str,
    count: usize,
) -> Result<String, util::GraphError> {
    if count > SEED_MAX {
        return Err(util::GraphError::bad_request(format!(
            "At most {SEED_MAX} files per seed request."
        )));
    }
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    for s in &segs {
        store::validate_name(s)?;
    }
    let mut store = shared.store();
    let root = match drive_id {
        Some(d) => store.drive(d).map(|d| d.root_id.clone()),
        None => Some(store.default_drive().root_id.clone()),
    }
    .ok_or_else(|| util::GraphError::new(404, "itemNotFound", "The drive could not be found."))?;
    store.seed_files(&root, &segs, prefix, count)
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
        jobs: jobs::Jobs::new(config.job.clone()),
        initial_job: config.job.clone(),
        sessions: Default::default(),
        session_lifetime: Mutex::new(SESSION_LIFETIME),
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
        let body = server::boxed(http_body_util::Full::new(Bytes::from(body.clone())));
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

    /// Where upload sessions spool their bytes (one file per session that has received
    /// a fragment): `<data_dir>/spool`, else a directory in the system's temporary
    /// directory. Removed when the emulator stops.
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
        seed_files_on(&self.shared, Some(drive_id), path, prefix, count)
            .map(drop)
            .map_err(|e| e.message)
    }

    /// Back to a fresh drive: every item below the drives' roots, upload sessions, jobs,
    /// fault rules, download URLs, static files and the request log go; the job settings
    /// and the upload session lifetime are those of the start. The drives, their ids and
    /// their roots' ids, the tokens and the origins stay. `POST /_emulator/reset` does the same.
    pub fn reset(&self) {
        reset_on(&self.shared);
    }

    /// Serve `body` at `GET {monitor_origin}/static/{name}` (a source for upload from URL).
    pub fn serve_static(&self, name: &str, body: Vec<u8>) -> String {
        serve_static_on(&self.shared, name, Bytes::from(body))
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
