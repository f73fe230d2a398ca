//! URLs the client meets: origins (what "the same host" means for the
//! token rule) and `Location` headers.

use ureq::http::Uri;

use super::error::{Error, Result};

/// Scheme, host and port, lower-cased: what "the same origin" compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    pub(crate) scheme: String,
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl Origin {
    pub(crate) fn of(url: &str) -> Result<Origin> {
        let uri: Uri = url
            .parse()
            .map_err(|e| Error::invalid(format!("not a URL: {e}")))?;
        let scheme = uri
            .scheme_str()
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| Error::invalid("not an absolute URL"))?;
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| Error::invalid("a URL without a host"))?
            .to_ascii_lowercase();
        let port = match (uri.port_u16(), scheme.as_str()) {
            (Some(p), _) => p,
            (None, "https") => 443,
            (None, "http") => 80,
            _ => {
                return Err(Error::invalid("only http and https URLs are supported"));
            }
        };
        if scheme != "http" && scheme != "https" {
            return Err(Error::invalid("only http and https URLs are supported"));
        }
        Ok(Origin { scheme, host, port })
    }

    /// Whether `url` is on this origin (false for one that is not a URL).
    pub(crate) fn is_origin_of(&self, url: &str) -> bool {
        Origin::of(url).is_ok_and(|o| o == *self)
    }

    /// A loopback IP literal (127.0.0.0/8, ::1). Not the name `localhost`:
    /// what it resolves to is the resolver's choice.
    pub(crate) fn is_loopback_ip(&self) -> bool {
        let h = self.host.trim_start_matches('[').trim_end_matches(']');
        h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
    }

    /// Meant for this machine: a loopback IP literal or `localhost`.
    pub(crate) fn is_loopback(&self) -> bool {
        self.is_loopback_ip() || self.host == "localhost"
    }
}

/// A URL as it may appear in a message: its origin only. Paths and
/// queries of monitor and upload URLs are capabilities (an upload session's
/// id, a `tempauth` token), so no message, log or error text carries them;
/// the full URL is handed out only where the caller asks for it.
pub fn redact(url: &str) -> String {
    match Origin::of(url) {
        Ok(o) => {
            let host = if o.host.contains(':') && !o.host.starts_with('[') {
                format!("[{}]", o.host)
            } else {
                o.host
            };
            format!("{}://{host}:{}/…", o.scheme, o.port)
        }
        Err(_) => "(not a URL)".to_owned(),
    }
}

/// A URL as a log line shows it: on the API origin its path without the
/// query (item paths are the caller's own names, not capabilities);
/// anywhere else (monitor and upload URLs) its origin only, as [`redact`].
pub(crate) fn for_log(url: &str, api: &Origin) -> String {
    match Origin::of(url) {
        Ok(o) if &o == api => {
            let no_query = url.split(['?', '#']).next().unwrap_or(url);
            let path = no_query
                .find("://")
                .and_then(|i| no_query[i + 3..].find('/').map(|j| &no_query[i + 3 + j..]))
                .unwrap_or("/");
            let host = redact(url);
            format!("{}{path}", host.trim_end_matches("/…"))
        }
        _ => redact(url),
    }
}

/// What an API request was about, for a not-found or conflict message: the
/// URL's path below the API's base URL, query left out, percent-decoded
/// (`/me/drive/root:/Backup:/children`). `None` for a URL elsewhere (an
/// upload or monitor URL is a capability: never shown).
pub(crate) fn api_subject(url: &str, base_url: &str) -> Option<String> {
    let rest = url.strip_prefix(base_url)?;
    if !rest.starts_with('/') {
        return None;
    }
    let path = rest.split(['?', '#']).next().unwrap_or(rest);
    Some(percent_decode_lossy(path))
}

/// `%XX` escapes decoded; a malformed escape kept as it is, bytes that are
/// not UTF-8 replaced.
pub(crate) fn percent_decode_lossy(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Resolves a `Location` header against the URL it answered: absolute URLs
/// stay as they are, `/path` takes the request's origin.
pub(crate) fn resolve_location(request_url: &str, location: &str) -> Result<String> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return Ok(location.to_owned());
    }
    let uri: Uri = request_url
        .parse()
        .map_err(|e| Error::protocol(format!("bad request URL {}: {e}", redact(request_url))))?;
    match (uri.scheme_str(), uri.authority(), location.starts_with('/')) {
        (Some(s), Some(a), true) => Ok(format!("{s}://{a}{location}")),
        _ => Err(Error::protocol("cannot resolve a relative Location")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn api_subjects() {
        use super::{api_subject, percent_decode_lossy};
        let base = "https://graph.example/v1.0";
        assert_eq!(
            api_subject(
                "https://graph.example/v1.0/me/drive/root:/a%20b/%C3%A9%23.txt:/content?x=1",
                base
            ),
            Some("/me/drive/root:/a b/é#.txt:/content".to_owned())
        );
        assert_eq!(
            api_subject("https://up.example/up/1?tempauth=x", base),
            None
        );
        assert_eq!(api_subject("https://graph.example/v1.0x/y", base), None);
        for (raw, want) in [
            ("%", "%"),
            ("%4", "%4"),
            ("%zz", "%zz"),
            ("a%41", "aA"),
            ("%ff", "\u{fffd}"),
        ] {
            assert_eq!(percent_decode_lossy(raw), want, "{raw}");
        }
    }

    use super::*;

    #[test]
    fn messages_carry_no_capability() {
        for (url, shown) in [
            (
                "https://contoso.sharepoint.com/_api/v2.0/monitor/abc?tempauth=SECRET",
                "https://contoso.sharepoint.com:443/…",
            ),
            (
                "http://127.0.0.1:9/up/SESSIONSECRET",
                "http://127.0.0.1:9/…",
            ),
            ("http://[::1]:9/x?y", "http://[::1]:9/…"),
            ("nope SECRET", "(not a URL)"),
        ] {
            assert_eq!(redact(url), shown);
        }
        let e = Origin::of("ftp://h/SECRET?tempauth=SECRET").unwrap_err();
        assert!(!e.message.contains("SECRET"), "{e}");
    }

    #[test]
    fn log_lines_show_api_paths_but_no_query_or_capability() {
        let api = Origin::of("https://graph.example:443/v1.0").unwrap();
        assert_eq!(
            for_log(
                "https://graph.example/v1.0/me/drive/root:/a%20b.txt:/content?x=SECRET",
                &api
            ),
            "https://graph.example:443/v1.0/me/drive/root:/a%20b.txt:/content"
        );
        assert_eq!(
            for_log("https://graph.example:443/v1.0#SECRET", &api),
            "https://graph.example:443/v1.0"
        );
        assert_eq!(
            for_log("https://graph.example", &api),
            "https://graph.example:443/"
        );
        assert_eq!(
            for_log("https://up.example/up/SESSIONSECRET?tempauth=SECRET", &api),
            "https://up.example:443/…"
        );
    }

    #[test]
    fn loopback_means_an_ip_literal_for_plain_http() {
        let o = |u: &str| Origin::of(u).unwrap();
        assert!(o("http://127.0.0.1:1").is_loopback_ip());
        assert!(o("http://[::1]:1").is_loopback_ip());
        assert!(!o("http://localhost:1").is_loopback_ip());
        assert!(o("http://localhost:1").is_loopback());
        assert!(!o("http://localhost.evil.example:1").is_loopback());
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
