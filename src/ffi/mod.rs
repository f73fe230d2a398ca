//! The C ABI: thin conversions over [`crate::graph`], nothing more.
//!
//! Conventions (see README): every fallible function returns `od_status`;
//! results go out through out-params written only on `OD_OK`; handles are
//! opaque and freed by their `_free` function, which accepts NULL; strings
//! passed in are copied; strings handed out are borrowed from their object;
//! no panic crosses the boundary.

#![allow(non_camel_case_types)]

pub mod args;
pub mod boundary;
pub mod cancel;
pub mod client;
pub mod copy;
pub mod download;
pub mod item;
pub mod job;
pub mod last_error;
pub mod listing;
pub mod move_item;
pub mod network;
#[cfg(feature = "queue")]
pub mod queue;
pub mod session;
pub mod status;
pub mod upload;

#[cfg(test)]
mod methods_index;
#[cfg(test)]
mod tests;

use std::ffi::c_char;

/// The library's version ("MAJOR.MINOR.PATCH"), a static string: never
/// NULL, never freed. Any thread.
#[unsafe(no_mangle)]
pub extern "C" fn od_version() -> *const c_char {
    const V: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    V.as_ptr().cast()
}
