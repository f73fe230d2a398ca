//! The blocking core: pure Rust, no FFI types.

pub mod address;
pub mod client;
pub mod control;
pub mod copy;
pub mod error;
pub mod hash;
pub(crate) mod http;
pub mod item;
pub mod job;
pub mod limits;
pub mod session;
pub mod upload;

pub use http::RetryPolicy;
