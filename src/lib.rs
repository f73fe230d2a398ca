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
pub use graph::download::PARTIAL_SUFFIX;
pub use graph::error::{Error, ErrorKind, Result};
pub use graph::hash::{HashSet, QuickXor, quick_xor_hash};
pub use graph::item::Item;
pub use graph::job::{Job, JobState, JobStatus, WaitOptions};
pub use graph::limits::{
    CHUNK_UNIT, DEFAULT_CHUNK_SIZE, DEFAULT_SIMPLE_UPLOAD_LIMIT, MAX_CHUNK_SIZE,
};
pub use graph::listing::Listing;
pub use graph::log::{LogLevel, LogSink};
pub use graph::manage::MoveOptions;
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
    use std::time::Duration;

    use crate::graph::error::{GraphErrorBody, Result};
    use crate::graph::http::Response;
    use crate::graph::job::JobStatus;
    use crate::graph::job_status;

    pub use crate::graph::url::redact;

    /// `Retry-After` as the transport reads it.
    pub fn parse_retry_after(v: &str) -> Option<Duration> {
        crate::graph::retry::parse_retry_after(v)
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
        crate::graph::job_status::item_id_in(url)
    }

    /// Whether a monitor's error body says the job is unknown.
    pub fn is_not_found(body: &[u8]) -> bool {
        crate::graph::job_status::is_not_found(body)
    }

    /// Where a completed job names its new item (read afterwards by
    /// `poll_job`, with a request).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Finished {
        Id(String),
        Location(String),
    }

    /// What `poll_job` makes of a 2xx job-status body, without any
    /// request: the status, and where the new item is named when it must
    /// still be read.
    pub fn job_status_from_body(body: &[u8]) -> Result<(JobStatus, Option<Finished>)> {
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| crate::Error::protocol(format!("not JSON: {e}")))?;
        let look = job_status::read_status(&value, None)?;
        Ok((look.status, look.finished.map(finished)))
    }

    /// What `poll_job` makes of a monitor's whole answer (HTTP status,
    /// `Location`, body), without any request.
    pub fn monitor_answer(
        status: u16,
        location: Option<String>,
        body: &[u8],
    ) -> Result<(JobStatus, Option<Finished>)> {
        let resp = Response {
            status,
            location,
            body: body.to_vec(),
            ..Response::default()
        };
        let look = job_status::read_answer(&resp)?;
        Ok((look.status, look.finished.map(finished)))
    }

    /// The queue's journal replay over `bytes` (as `Queue::open` reads its
    /// journal): the length of the whole frames and the records decoded.
    #[cfg(feature = "queue")]
    pub fn queue_replay(bytes: &[u8]) -> (u64, usize) {
        crate::queue::replay(bytes)
    }

    /// Appends one journal frame around `payload` to `out`.
    #[cfg(feature = "queue")]
    pub fn queue_frame(payload: &[u8], out: &mut Vec<u8>) {
        crate::queue::frame(payload, out)
    }

    /// Where a page of children leads, as a listing reads it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum NextPage {
        End,
        Follow(String),
        /// The error message the listing ends with.
        Refused(String),
    }

    /// A page of children's body as a listing on `api_base` reads it, `seen`
    /// the nextLinks it followed before: the items' ids and where the page
    /// leads.
    pub fn listing_page(
        api_base: &str,
        seen: &[&str],
        body: &[u8],
    ) -> Result<(Vec<String>, NextPage)> {
        use crate::graph::listing::{Next, read_page};
        let api = crate::graph::url::Origin::of(api_base)?;
        let page = serde_json::from_slice(body)
            .map_err(|e| crate::Error::protocol(format!("not JSON: {e}")))?;
        let (items, next) = read_page(page, &api, |link| !seen.contains(&link))?;
        let next = match next {
            Next::End => NextPage::End,
            Next::Follow(link) => NextPage::Follow(link),
            Next::Refused(e) => NextPage::Refused(e.message),
        };
        Ok((items.iter().map(|i| i.id().to_owned()).collect(), next))
    }

    /// `Content-Range: bytes FIRST-LAST/LENGTH` as a download reads it.
    pub fn content_range(v: &str) -> Option<(u64, u64, Option<u64>)> {
        crate::graph::download::parse_content_range(v)
    }

    /// What an answer to a download's request for the bytes from `have` of
    /// a `size`-byte file holds.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum DownloadAnswer {
        Rest,
        Whole,
        StartOver,
        Failed,
    }

    /// A download's reading of an answer's status and `Content-Range`.
    pub fn download_answer(
        status: u16,
        content_range: Option<&str>,
        have: u64,
        size: u64,
    ) -> Result<DownloadAnswer> {
        use crate::graph::download::{Answer, read_answer};
        Ok(match read_answer(status, content_range, have, size)? {
            Answer::Rest => DownloadAnswer::Rest,
            Answer::Whole => DownloadAnswer::Whole,
            Answer::StartOver => DownloadAnswer::StartOver,
            Answer::Failed => DownloadAnswer::Failed,
        })
    }

    /// The new bytes of the file in a piece of a download's body.
    pub fn download_new_bytes<'d>(
        data: &'d [u8],
        skip: &mut u64,
        have: u64,
        size: u64,
    ) -> Result<&'d [u8]> {
        crate::graph::download::new_bytes(data, skip, have, size)
    }

    fn finished(f: job_status::Finished) -> Finished {
        match f {
            job_status::Finished::Id(id) => Finished::Id(id),
            job_status::Finished::Location(url) => Finished::Location(url),
        }
    }
}
