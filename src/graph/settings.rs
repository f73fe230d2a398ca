//! What a client is configured with: its config, the retry policy, the
//! token provider, upload settings. A leaf: it sends nothing.

use std::time::Duration;

use super::error::{Error, Result};
use super::hash::HashSet;
use super::limits::{
    CHUNK_UNIT, DEFAULT_CHUNK_SIZE, DEFAULT_SIMPLE_UPLOAD_LIMIT, MAX_CHUNK_SIZE,
    MAX_SIMPLE_UPLOAD_LIMIT,
};

/// Microsoft Graph's v1.0 endpoint.
pub const DEFAULT_BASE_URL: &str = "https://graph.microsoft.com/v1.0";

/// How to build a [`Client`].
#[derive(Clone)]
pub struct ClientConfig {
    /// Where the API lives, e.g. `https://graph.microsoft.com/v1.0`.
    pub base_url: String,
    /// The bearer token (may be empty when a token callback supplies it).
    pub token: String,
    /// Asked for a fresh token after a 401; the request is then sent once more.
    pub token_provider: Option<TokenProvider>,
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// How long a request may stall (no bytes either way, or no answer).
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Allow `http://` to hosts other than loopback. Off: plain HTTP is
    /// accepted only for the loopback addresses 127.0.0.0/8 and ::1 (not
    /// the name localhost, which a resolver may map anywhere).
    pub allow_insecure_http: bool,
    /// Simple-upload threshold, chunk size, hashes to check.
    pub upload: UploadSettings,
    /// CA certificates (PEM) trusted besides the system's store (see
    /// `graph::tls`); empty: none.
    pub extra_ca_pem: Vec<u8>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            token: String::new(),
            token_provider: None,
            user_agent: concat!("onedrive-native/", env!("CARGO_PKG_VERSION")).to_owned(),
            connect_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(120),
            retry: RetryPolicy::default(),
            allow_insecure_http: false,
            upload: UploadSettings::default(),
            extra_ca_pem: Vec::new(),
        }
    }
}

impl ClientConfig {
    pub fn new(base_url: impl Into<String>, token: impl Into<String>) -> ClientConfig {
        ClientConfig {
            base_url: base_url.into(),
            token: token.into(),
            ..ClientConfig::default()
        }
    }
}

/// How hard to try before giving up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The most time spent waiting between attempts of one request; a
    /// Retry-After beyond it is not waited for (the error carries it).
    pub max_wait: Duration,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            max_wait: Duration::from_secs(120),
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// Settings a client reads at the start of every request.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub user_agent: String,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
}

pub use super::token::TokenProvider;

/// Upload settings a client reads at the start of every upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadSettings {
    /// Bodies up to this size go in one PUT; larger ones through a session.
    pub simple_limit: u64,
    pub chunk_size: u64,
    /// SHA digests computed besides quickXorHash.
    pub hashes: HashSet,
}

impl Default for UploadSettings {
    fn default() -> Self {
        UploadSettings {
            simple_limit: DEFAULT_SIMPLE_UPLOAD_LIMIT,
            chunk_size: DEFAULT_CHUNK_SIZE,
            hashes: HashSet {
                sha1: false,
                sha256: false,
            },
        }
    }
}

/// Checks upload settings: the chunk size (below), and a simple-upload
/// limit of at most [`MAX_SIMPLE_UPLOAD_LIMIT`].
pub fn validate_upload_settings(settings: &UploadSettings) -> Result<()> {
    validate_chunk_size(settings.chunk_size)?;
    if settings.simple_limit > MAX_SIMPLE_UPLOAD_LIMIT {
        return Err(Error::invalid(format!(
            "simple-upload limit {}: at most {MAX_SIMPLE_UPLOAD_LIMIT} bytes go in one PUT; \
             larger files go through an upload session",
            settings.simple_limit
        )));
    }
    Ok(())
}

/// Checks a chunk size: a positive multiple of 320 KiB below 60 MiB.
pub fn validate_chunk_size(n: u64) -> Result<()> {
    if n == 0 || !n.is_multiple_of(CHUNK_UNIT) || n > MAX_CHUNK_SIZE {
        return Err(Error::invalid(format!(
            "chunk size {n}: must be a positive multiple of 320 KiB ({CHUNK_UNIT} bytes) \
             of at most {MAX_CHUNK_SIZE} bytes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes() {
        validate_chunk_size(CHUNK_UNIT).unwrap();
        validate_chunk_size(DEFAULT_CHUNK_SIZE).unwrap();
        validate_chunk_size(MAX_CHUNK_SIZE).unwrap();
        for bad in [
            0,
            1,
            CHUNK_UNIT + 1,
            MAX_CHUNK_SIZE + CHUNK_UNIT,
            10 * 1024 * 1024 + 1,
        ] {
            assert!(validate_chunk_size(bad).is_err(), "{bad}");
        }
        assert_eq!(DEFAULT_CHUNK_SIZE, 10 * 1024 * 1024);
        // a huge simple limit would have the process buffer (or try to) that
        // much: refused
        let mut s = UploadSettings {
            simple_limit: MAX_SIMPLE_UPLOAD_LIMIT,
            ..UploadSettings::default()
        };
        validate_upload_settings(&s).unwrap();
        s.simple_limit = 1 << 45;
        assert!(validate_upload_settings(&s).is_err());
    }
}
