//! The public settings and records: [`Config`], [`Tls`], [`JobConfig`], [`Profile`],
//! fault rules and the request log's entries (re-exported at the crate root).

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

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
    /// It must be new, empty, or hold only what an earlier run wrote there: files the
    /// emulator did not make fail the start (`InvalidInput`, naming them), since it
    /// removes files of its own there.
    pub data_dir: Option<PathBuf>,
    /// Simple upload body larger than this => 413. Default 4 MiB.
    pub simple_upload_limit: u64,
    pub job: JobConfig,
    /// Open connections per origin. At the limit a new connection takes the slot of the
    /// longest-idle one (no request in flight); when every one is busy it gets a 503.
    /// Default 256.
    pub max_connections: usize,
    /// Upload-session bytes held at once, all live sessions together (they are spooled
    /// to files in `<data_dir>/.onedrive-emulator-spool`, else in a directory of the system's temporary
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
            admin_token: crate::rand::random_token(24),
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
    /// Handle the request normally; a job it starts (a copy, an upload from URL) is
    /// held: in progress at 0 %, its timed part not begun, until released
    /// (`POST /_emulator/jobs/release`, [`Emulator::release_jobs`](crate::Emulator::release_jobs))
    /// or cleared by a reset. For tests that need a job still running when they act on
    /// it, whatever the machine's speed. No effect on a request that starts no job.
    /// JSON: `"action":"hold_job"`.
    HoldJob,
    /// Hold the request, before it is handled, until released (`POST
    /// /_emulator/requests/release`,
    /// [`Emulator::release_requests`](crate::Emulator::release_requests), or a reset);
    /// then handle it normally. For tests that act while a request is on its way (a
    /// cancel while the answer is awaited), whatever the machine's speed: they wait for
    /// [`Emulator::held_requests`](crate::Emulator::held_requests) first. JSON:
    /// `"action":"hold_request"`.
    HoldRequest,
}
