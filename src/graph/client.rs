//! The client: configuration, the token and where it may go.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use ureq::http::Uri;

use super::error::{Error, Result};
use super::http::{RetryPolicy, Settings, TokenProvider};
use super::session::{UploadSettings, validate_chunk_size};

/// Microsoft Graph's v1.0 endpoint.
pub const DEFAULT_BASE_URL: &str = "https://graph.microsoft.com/v1.0";

pub use super::limits::DEFAULT_SIMPLE_UPLOAD_LIMIT;

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
    /// accepted only for 127.0.0.0/8, ::1 and localhost.
    pub allow_insecure_http: bool,
    /// Simple-upload threshold, chunk size, hashes to check.
    pub upload: UploadSettings,
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

/// A Graph drive client. Cheap to clone; one client serves many threads at
/// once (no lock is held across network I/O or a callback).
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) agent: ureq::Agent,
    /// The base URL without a trailing slash.
    pub(crate) base_url: String,
    api_origin: Origin,
    allow_insecure_http: bool,
    token: RwLock<String>,
    token_provider: RwLock<Option<TokenProvider>>,
    settings: RwLock<Settings>,
    upload: RwLock<UploadSettings>,
}

/// Scheme, host and port, lower-cased: what "the same origin" compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    pub(crate) fn of(url: &str) -> Result<Origin> {
        let uri: Uri = url
            .parse()
            .map_err(|e| Error::invalid(format!("{url:?} is not a URL: {e}")))?;
        let scheme = uri
            .scheme_str()
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| Error::invalid(format!("{url:?} is not an absolute URL")))?;
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| Error::invalid(format!("{url:?} has no host")))?
            .to_ascii_lowercase();
        let port = match (uri.port_u16(), scheme.as_str()) {
            (Some(p), _) => p,
            (None, "https") => 443,
            (None, "http") => 80,
            _ => {
                return Err(Error::invalid(format!(
                    "{url:?}: only http and https are supported"
                )));
            }
        };
        if scheme != "http" && scheme != "https" {
            return Err(Error::invalid(format!(
                "{url:?}: only http and https are supported"
            )));
        }
        Ok(Origin { scheme, host, port })
    }

    fn is_loopback(&self) -> bool {
        let h = self.host.trim_start_matches('[').trim_end_matches(']');
        h == "localhost"
            || h.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client> {
        let base_url = config.base_url.trim_end_matches('/').to_owned();
        let api_origin = Origin::of(&base_url)?;
        if base_url.contains(['?', '#']) {
            return Err(Error::invalid(
                "the base URL may not carry a query or fragment",
            ));
        }
        validate_chunk_size(config.upload.chunk_size)?;
        if config.retry.max_attempts == 0 {
            return Err(Error::invalid("retry attempts must be at least 1"));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .accept("application/json")
            .max_idle_connections_per_host(16)
            .build()
            .into();
        let inner = Inner {
            agent,
            base_url,
            api_origin,
            allow_insecure_http: config.allow_insecure_http,
            token: RwLock::new(config.token),
            token_provider: RwLock::new(config.token_provider),
            settings: RwLock::new(Settings {
                user_agent: config.user_agent,
                connect_timeout: config.connect_timeout,
                request_timeout: config.request_timeout,
                retry: config.retry,
            }),
            upload: RwLock::new(config.upload),
        };
        inner.check_url(&inner.base_url)?;
        Ok(Client {
            inner: Arc::new(inner),
        })
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Replaces the bearer token for every request from now on.
    pub fn set_token(&self, token: &str) {
        *self
            .inner
            .token
            .write()
            .unwrap_or_else(PoisonError::into_inner) = token.to_owned();
    }

    /// Sets (or clears) the callback asked for a fresh token after a 401.
    pub fn set_token_provider(&self, provider: Option<TokenProvider>) {
        *self
            .inner
            .token_provider
            .write()
            .unwrap_or_else(PoisonError::into_inner) = provider;
    }

    /// The bearer token requests carry now.
    pub fn token(&self) -> String {
        self.inner.token()
    }

    pub fn set_user_agent(&self, user_agent: &str) -> Result<()> {
        if user_agent.chars().any(char::is_control) {
            return Err(Error::invalid(
                "a user agent may not hold control characters",
            ));
        }
        self.inner
            .settings
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .user_agent = user_agent.to_owned();
        Ok(())
    }

    pub fn set_timeouts(&self, connect: Duration, request: Duration) -> Result<()> {
        if connect.is_zero() || request.is_zero() {
            return Err(Error::invalid("timeouts must be above zero"));
        }
        let mut s = self
            .inner
            .settings
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        s.connect_timeout = connect;
        s.request_timeout = request;
        Ok(())
    }

    pub fn set_retry_policy(&self, policy: RetryPolicy) -> Result<()> {
        if policy.max_attempts == 0 {
            return Err(Error::invalid("retry attempts must be at least 1"));
        }
        self.inner
            .settings
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retry = policy;
        Ok(())
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.settings().retry
    }

    /// Sets the simple-upload threshold (bodies up to it go in one PUT;
    /// the service takes at most 4 MiB that way), the chunk size of upload
    /// sessions (a positive multiple of 320 KiB below 60 MiB) and the SHA
    /// digests checked besides quickXorHash.
    pub fn set_upload_settings(&self, settings: UploadSettings) -> Result<()> {
        validate_chunk_size(settings.chunk_size)?;
        *self
            .inner
            .upload
            .write()
            .unwrap_or_else(PoisonError::into_inner) = settings;
        Ok(())
    }

    pub fn upload_settings(&self) -> UploadSettings {
        self.inner.upload_settings()
    }
}

impl Inner {
    pub(crate) fn upload_settings(&self) -> UploadSettings {
        *self.upload.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn settings(&self) -> Settings {
        self.settings
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn token(&self) -> String {
        self.token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Asks the token callback for a fresh token (no lock held while it
    /// runs). `true` when it gave one.
    pub(crate) fn refresh_token(&self) -> bool {
        let provider = self
            .token_provider
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match provider.and_then(|p| p()) {
            Some(token) => {
                *self.token.write().unwrap_or_else(PoisonError::into_inner) = token;
                true
            }
            None => false,
        }
    }

    /// The token goes to the API origin only: never to a monitor URL, an
    /// upload URL, or any other host a redirect names.
    pub(crate) fn may_carry_token(&self, url: &str) -> bool {
        Origin::of(url).is_ok_and(|o| o == self.api_origin)
    }

    /// Refuses URLs this client will not talk to: not http(s), or plain
    /// HTTP to a host other than loopback (unless allowed by the config).
    pub(crate) fn check_url(&self, url: &str) -> Result<()> {
        let origin = Origin::of(url)?;
        if origin.scheme == "http" && !origin.is_loopback() && !self.allow_insecure_http {
            return Err(Error::invalid(format!(
                "refusing plain HTTP to {}: use https, or allow insecure HTTP in the client's config",
                origin.host
            )));
        }
        Ok(())
    }

    /// `base_url` + a path that starts with `/`.
    pub(crate) fn api_url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

/// Resolves a `Location` header against the URL it answered: absolute URLs
/// stay as they are, `/path` takes the request's origin.
pub(crate) fn resolve_location(request_url: &str, location: &str) -> Result<String> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return Ok(location.to_owned());
    }
    let uri: Uri = request_url
        .parse()
        .map_err(|e| Error::protocol(format!("bad request URL {request_url:?}: {e}")))?;
    match (uri.scheme_str(), uri.authority(), location.starts_with('/')) {
        (Some(s), Some(a), true) => Ok(format!("{s}://{a}{location}")),
        _ => Err(Error::protocol(format!(
            "cannot resolve the Location {location:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str, insecure: bool) -> Result<Client> {
        Client::new(ClientConfig {
            allow_insecure_http: insecure,
            ..ClientConfig::new(base, "t")
        })
    }

    #[test]
    fn token_goes_to_the_api_origin_only() {
        let c = client("https://graph.microsoft.com/v1.0/", false).unwrap();
        assert_eq!(c.base_url(), "https://graph.microsoft.com/v1.0");
        let i = &c.inner;
        assert!(i.may_carry_token("https://graph.microsoft.com/v1.0/me/drive"));
        assert!(i.may_carry_token("https://GRAPH.microsoft.com:443/beta/x"));
        assert!(!i.may_carry_token("http://graph.microsoft.com/v1.0/me"));
        assert!(!i.may_carry_token("https://graph.microsoft.com:8443/v1.0"));
        assert!(!i.may_carry_token("https://api.onedrive.com/v1.0/monitor/x"));
        assert!(!i.may_carry_token("https://contoso.sharepoint.com/_api/v2.1/x?tempauth=y"));
        assert!(!i.may_carry_token("https://graph.microsoft.com.evil.example/v1.0"));
        assert!(!i.may_carry_token("not a url"));
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:1/v1.0",
            "http://localhost:8080",
            "http://[::1]:9/x",
            "http://127.8.9.10",
        ] {
            client(ok, false).unwrap();
        }
        let e = client("http://example.com/v1.0", false).err().unwrap();
        assert!(e.message.contains("plain HTTP"), "{e}");
        client("http://example.com/v1.0", true).unwrap();
        for bad in [
            "ftp://x/y",
            "graph.microsoft.com",
            "",
            "https://",
            "https://x/v1.0?a=b",
        ] {
            assert!(client(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn locations_resolve() {
        assert_eq!(
            resolve_location("http://a:1/x/y", "/z?q").unwrap(),
            "http://a:1/z?q"
        );
        assert_eq!(
            resolve_location("http://a:1/x", "https://b/c").unwrap(),
            "https://b/c"
        );
        assert!(resolve_location("http://a:1/x", "rel").is_err());
    }
}
