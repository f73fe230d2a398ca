//! onedrive-native: upload, import and copy files on OneDrive / SharePoint
//! through the Microsoft Graph drive API.
//!
//! The core ([`graph`]) is plain blocking Rust; [`ffi`] is the C ABI over it.

#![deny(unsafe_code)]
// Errors carry the service's whole detail (codes, message, request-id); they
// are the cold path of network-bound calls, so their size costs nothing.
#![allow(clippy::result_large_err)]

pub mod graph;

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
pub use graph::session::UploadSession;
pub use graph::settings::{ClientConfig, DEFAULT_BASE_URL, RetryPolicy, UploadSettings};
pub use graph::source::{BytesSource, FileSource, ReaderSource, UploadSource};
pub use graph::token::{AccessToken, REFRESH_MARGIN};
