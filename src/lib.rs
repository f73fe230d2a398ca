//! onedrive-native: upload, import and copy files on OneDrive / SharePoint
//! through the Microsoft Graph drive API.
//!
//! The core ([`graph`]) is plain blocking Rust; [`ffi`] is the C ABI over it.

#![deny(unsafe_code)]
// Errors carry the service's whole detail (codes, message, request-id); they
// are the cold path of network-bound calls, so their size costs nothing.
#![allow(clippy::result_large_err)]

pub mod graph;
#[cfg(feature = "queue")]
pub mod queue;

#[allow(unsafe_code)]
pub mod ffi;

pub use graph::address::{Conflict, Drive, ItemRef, UploadTarget, validate_name};
pub use graph::client::Client;
pub use graph::control::{CancelToken, Control};
pub use graph::copy::{CopyApi, CopyOptions};
pub use graph::error::{Error, ErrorKind, Result};
pub use graph::hash::{HashSet, QuickXor, quick_xor_hash};
pub use graph::item::Item;
pub use graph::job::{Job, JobState, JobStatus, WaitOptions};
pub use graph::limits::{
    CHUNK_UNIT, DEFAULT_CHUNK_SIZE, DEFAULT_SIMPLE_UPLOAD_LIMIT, MAX_CHUNK_SIZE,
};
pub use graph::log::{LogLevel, LogSink};
pub use graph::session::UploadSession;
pub use graph::settings::{ClientConfig, DEFAULT_BASE_URL, RetryPolicy, UploadSettings};
pub use graph::source::{BytesSource, FileSource, ReaderSource, UploadSource};
pub use graph::token::{AccessToken, REFRESH_MARGIN};
#[cfg(feature = "queue")]
pub use queue::{
    Event, EventCallback, EventKind, Queue, QueueHandle, QueueOptions, StateSet, Totals, Transfer,
    TransferId, TransferKind, TransferState, WaitReason,
};

/// Entry points for the fuzz targets in `fuzz/`: the parsers of service
/// input that are crate-private, re-exported or thinly wrapped here so the
/// fuzz crate can reach them without widening visibility across
/// `src/graph`. **Not part of the API**: no stability promise, may change
/// or vanish in any release.
#[doc(hidden)]
pub mod fuzzing {
    use std::sync::OnceLock;
    use std::time::Duration;

    use crate::graph::control::{CancelToken, Control};
    use crate::graph::error::{GraphErrorBody, Result};
    use crate::graph::job::{Job, JobStatus};
    use crate::{Client, ClientConfig, Drive};

    pub use crate::graph::url::redact;

    /// `Retry-After` as the transport reads it.
    pub fn parse_retry_after(v: &str) -> Option<Duration> {
        crate::graph::http::parse_retry_after(v)
    }

    /// A `Location` header resolved against the URL it answered.
    pub fn resolve_location(request_url: &str, location: &str) -> Result<String> {
        crate::graph::url::resolve_location(request_url, location)
    }

    /// Scheme, host and port of a URL, as the token rule compares them.
    pub fn origin_of(url: &str) -> Option<(String, String, u16)> {
        crate::graph::url::Origin::of(url)
            .ok()
            .map(|o| (o.scheme, o.host, o.port))
    }

    /// A Graph error body's (code, innermost code, message, request-id).
    pub fn graph_error_body(
        body: &[u8],
    ) -> (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ) {
        let e = GraphErrorBody::parse(body);
        (e.code, e.inner_code, e.message, e.request_id)
    }

    /// The first byte an upload-session answer (a 202 to a chunk, the
    /// session's status) still wants; `None` for a body that is not JSON
    /// or names none.
    pub fn next_expected(body: &[u8]) -> Option<u64> {
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        crate::graph::session::next_expected(&v)
    }

    /// The item id `poll_job` reads out of a completion URL.
    pub fn item_id_in(url: &str) -> Option<String> {
        crate::graph::job::item_id_in(url)
    }

    /// Whether a monitor's error body says the job is unknown.
    pub fn is_not_found(body: &[u8]) -> bool {
        crate::graph::job::is_not_found(body)
    }

    /// What `poll_job` makes of a 2xx job-status body. No request is
    /// made: the client is a loopback one whose cancel flag is raised, so
    /// a status that names the new item ends, at the latest, in
    /// `Cancelled` where it would read that item.
    pub fn job_status_from_body(body: &[u8]) -> Result<JobStatus> {
        static CLIENT: OnceLock<(Client, Job)> = OnceLock::new();
        let (client, job) = CLIENT.get_or_init(|| {
            let client = Client::new(ClientConfig::new("http://127.0.0.1:9/v1.0", "t"))
                .expect("a loopback client");
            let job = Job::from_monitor_url("http://127.0.0.1:9/monitor/1", Drive::Me)
                .expect("a loopback monitor URL");
            (client, job)
        });
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| crate::Error::protocol(format!("not JSON: {e}")))?;
        let cancel = CancelToken::new();
        cancel.cancel();
        let mut ctl = Control::new(Some(&cancel), None);
        client.status_from_body(job, &value, None, &mut ctl)
    }
}
