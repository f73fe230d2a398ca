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

    pub(crate) fn is_loopback(&self) -> bool {
        let h = self.host.trim_start_matches('[').trim_end_matches(']');
        h == "localhost"
            || h.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
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
