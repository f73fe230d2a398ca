//! The blocking core: pure Rust, no FFI types.
//!
//! Modules form a one-way graph (tests/module_graph.rs fails on a cycle):
//! leaves first (limits, error, hash, control, url, address, item,
//! callback, settings, token, log, rate, tls, wire), then the transport
//! (retry, failure, connect, progress, body, http), the client handle (client), then
//! the operations over it (metadata, manage, listing, download, source, window, verify,
//! session_state, session, upload, job_status, job, copy).

pub mod address;
pub(crate) mod body;
pub(crate) mod buffers;
pub(crate) mod callback;
pub mod client;
pub(crate) mod connect;
pub mod control;
pub mod copy;
pub mod download;
pub mod error;
pub(crate) mod failure;
pub mod hash;
// Written for Rust 1.85 (nested `if let`); http.rs is being reworked on
// another branch, where its style can follow the 1.89 lints.
#[allow(clippy::collapsible_if)]
pub(crate) mod http;
pub mod item;
pub mod job;
pub(crate) mod job_status;
pub mod limits;
pub mod listing;
pub mod log;
pub mod manage;
pub mod metadata;
pub(crate) mod progress;
pub(crate) mod rate;
pub(crate) mod retry;
pub mod session;
pub mod session_state;
pub mod settings;
pub mod source;
pub(crate) mod tls;
pub mod token;
pub mod upload;
pub mod url;
pub(crate) mod verify;
pub(crate) mod window;
pub(crate) mod wire;

pub use settings::RetryPolicy;
