//! The client: a handle over the transport, and the setters of its
//! configuration.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use super::error::{Error, Result};
use super::http::Transport;
use super::log::{LogLevel, LogSink};
use super::settings::{
    ClientConfig, RetryPolicy, TokenProvider, UploadSettings, validate_upload_settings,
};
use super::token::AccessToken;

/// A Graph drive client. Cheap to clone; one client serves many threads at
/// once (no lock is held across network I/O or a callback).
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Transport>,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client> {
        Ok(Client {
            inner: Arc::new(Transport::new(config)?),
        })
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Replaces the bearer token for every request from now on (its expiry
    /// unknown: it is refreshed only after a 401).
    pub fn set_token(&self, token: &str) {
        self.inner.tokens.set(AccessToken::new(token, None));
    }

    /// Replaces the bearer token and says when it expires: with a token
    /// callback set, it is refreshed
    /// [`REFRESH_MARGIN`](super::token::REFRESH_MARGIN) before that (and
    /// after a 401).
    pub fn set_access_token(&self, token: AccessToken) {
        self.inner.tokens.set(token);
    }

    /// The token requests carry now, with its expiry.
    pub fn access_token(&self) -> AccessToken {
        self.inner.tokens.get().0
    }

    /// Sets (or clears) the callback asked for a fresh token shortly before
    /// the current one expires and after a 401. When this returns, the callback it replaced is not running and will
    /// not be called again (unless this is called from inside a token
    /// callback: it then does not wait, see `graph::token`).
    pub fn set_token_provider(&self, provider: Option<TokenProvider>) {
        self.inner.tokens.callback.set(provider);
    }

    /// The bearer token requests carry now.
    pub fn token(&self) -> String {
        self.inner.tokens.get().0.token
    }

    /// Sends every request of this client through `proxy` (`None`: no
    /// proxy of the caller's; then one from the environment applies, never
    /// to loopback targets). See `connect::parse_proxy` for the forms. Takes
    /// effect for new connections; requests under way finish as they began.
    pub fn set_proxy(&self, proxy: Option<&str>) -> Result<()> {
        self.inner.set_proxy(proxy)
    }

    /// Trusts the CAs in a PEM bundle too, besides the system's (see
    /// `graph::tls` for what "the system's" is on each platform).
    pub fn add_ca_pem(&self, pem: &[u8]) -> Result<()> {
        self.inner.add_cas(pem)
    }

    /// Sets (or clears) the log callback and the most verbose level it
    /// gets. When this returns, a replaced callback is not running and will
    /// not be called again (the rule of `graph::callback`).
    pub fn set_log(&self, level: LogLevel, sink: Option<LogSink>) {
        self.inner.log.set(level, sink);
    }

    /// Caps the bytes per second this client's uploads send, all together
    /// (0: no cap).
    pub fn set_upload_rate(&self, bytes_per_second: u64) {
        self.inner.throttle.set(bytes_per_second);
    }

    /// Caps the bytes per second this client's downloads receive, all
    /// together (0: no cap). Apart from the upload cap: one does not
    /// slow the other.
    pub fn set_download_rate(&self, bytes_per_second: u64) {
        self.inner.download_throttle.set(bytes_per_second);
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
        validate_upload_settings(&settings)?;
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
            "http://[::1]:9/x",
            "http://127.8.9.10",
        ] {
            client(ok, false).unwrap();
        }
        // the name localhost is the resolver's to map: not trusted as loopback
        let e = client("http://localhost:8080", false).err().unwrap();
        assert!(e.message.contains("plain HTTP"), "{e}");
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
}
