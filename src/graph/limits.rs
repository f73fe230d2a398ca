// The service's size rules and this library's defaults: one definition,
// used by the core (`crate::graph::limits`) and read by build.rs, which
// writes each one into include/onedrive.h as `OD_<NAME>`. Plain integer
// constants only: build.rs `include!`s this file.

/// Upload-session chunks are multiples of this (the service's rule): 320 KiB.
pub const CHUNK_UNIT: u64 = 320 * 1024;
/// The default chunk: 10 MiB (32 × 320 KiB).
pub const DEFAULT_CHUNK_SIZE: u64 = 32 * CHUNK_UNIT;
/// The largest chunk: the service takes less than 60 MiB per request.
pub const MAX_CHUNK_SIZE: u64 = 60 * 1024 * 1024 - CHUNK_UNIT;
/// The simple-upload limit the service documents (4 MiB): larger bodies go
/// through an upload session.
pub const DEFAULT_SIMPLE_UPLOAD_LIMIT: u64 = 4 * 1024 * 1024;
/// The largest simple-upload limit a client accepts: Microsoft Graph's
/// documentation today allows up to 250 MB in one PUT (older versions
/// said 4 MB). Larger bodies always go through an upload session.
pub const MAX_SIMPLE_UPLOAD_LIMIT: u64 = 250 * 1000 * 1000;
