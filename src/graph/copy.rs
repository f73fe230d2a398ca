//! Server-side copy and upload from a URL: both answer 202 with a monitor URL.

use serde_json::{Map, Value, json};

use super::address::Conflict;
use super::address::{Drive, ItemRef, validate_name};
use super::client::Client;
use super::control::Control;
use super::error::{Error, ErrorKind, Result};
use super::http::{Auth, Request, Retry};
use super::job::Job;
use super::url::Origin;

/// Which form of the copy call to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CopyApi {
    /// `POST …/items/{id}/copy` (Microsoft Graph).
    #[default]
    Graph,
    /// `POST …/items/{id}/action.copy` (the older OneDrive API).
    Legacy,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyOptions {
    /// The destination drive, when it is not the source's.
    pub dest_drive_id: Option<String>,
    /// A new name for the copy.
    pub name: Option<String>,
    pub conflict: Conflict,
    pub api: CopyApi,
}

impl Client {
    /// Starts a server-side copy of `source` into the folder `dest_parent`.
    /// A refusal the service gives at once (409 name in use) is an error;
    /// otherwise the job to follow.
    pub fn copy(
        &self,
        drive: &Drive,
        source: &ItemRef,
        dest_parent: &ItemRef,
        opts: &CopyOptions,
        ctl: &mut Control<'_>,
    ) -> Result<Job> {
        if let Some(name) = &opts.name {
            validate_name(name)?;
        }
        if let Some(d) = &opts.dest_drive_id
            && (d.is_empty() || d.contains(['/', '?', '#']))
        {
            return Err(Error::invalid(format!("{d:?} is not a drive id")));
        }
        let mut parent = Map::new();
        if let Some(d) = &opts.dest_drive_id {
            parent.insert("driveId".into(), json!(d));
        }
        match dest_parent {
            ItemRef::Id(id) => {
                parent.insert("id".into(), json!(id));
            }
            ItemRef::Path(_) => {
                let path = dest_parent.reference_path(opts.dest_drive_id.as_deref());
                parent.insert("path".into(), json!(path));
            }
            ItemRef::IdPath(..) => {
                // An itemReference holds an id or a path from the root, not
                // both: find the folder's id first.
                let dest_drive = opts
                    .dest_drive_id
                    .clone()
                    .map_or_else(|| drive.clone(), Drive::Id);
                let folder = self.item(&dest_drive, dest_parent, ctl)?;
                parent.insert("id".into(), json!(folder.id()));
            }
        }
        let mut body = Map::new();
        body.insert("parentReference".into(), Value::Object(parent));
        if let Some(name) = &opts.name {
            body.insert("name".into(), json!(name));
        }
        let body =
            serde_json::to_vec(&Value::Object(body)).map_err(|e| Error::invalid(e.to_string()))?;
        let action = match opts.api {
            CopyApi::Graph => "copy",
            CopyApi::Legacy => "action.copy",
        };
        let url = self.inner.api_url(&format!(
            "{}{}{}",
            drive.prefix(),
            source.action_url_path(action),
            opts.conflict.query()
        ));
        let req = Request::new("POST", url.clone(), Auth::Bearer, Retry::OnlyUnacted)
            .json(&body)
            .header("Prefer", "respond-async");
        let resp = self.inner.send(&req, ctl)?.success()?;
        let dest_drive = opts
            .dest_drive_id
            .clone()
            .map_or_else(|| drive.clone(), Drive::Id);
        Job::from_accepted(resp, &url, dest_drive)
    }

    /// Asks the service to fetch `source_url` into a new file `name` in the
    /// folder `parent`. The service's refusal (the feature is retired, and
    /// never existed on Business drives) is `ErrorKind::NotSupported`.
    pub fn url_upload(
        &self,
        drive: &Drive,
        parent: &ItemRef,
        name: &str,
        source_url: &str,
        ctl: &mut Control<'_>,
    ) -> Result<Job> {
        validate_name(name)?;
        Origin::of(source_url)?;
        let body = json!({
            "@microsoft.graph.sourceUrl": source_url,
            "name": name,
            "file": {},
        });
        let body = serde_json::to_vec(&body).map_err(|e| Error::invalid(e.to_string()))?;
        let url = self.inner.api_url(&format!(
            "{}{}",
            drive.prefix(),
            parent.action_url_path("children")
        ));
        let req = Request::new("POST", url.clone(), Auth::Bearer, Retry::OnlyUnacted)
            .json(&body)
            .header("Prefer", "respond-async");
        let resp = self.inner.send(&req, ctl)?;
        if !resp.is_success() {
            let e = resp.error();
            return Err(if is_refusal_of_feature(&e) {
                e.with_kind(ErrorKind::NotSupported)
            } else {
                e
            });
        }
        Job::from_accepted(resp, &url, drive.clone())
    }
}

/// Whether an error to an upload from URL says the feature is unavailable
/// (rather than, say, a bad name or a full drive).
fn is_refusal_of_feature(e: &Error) -> bool {
    // The wording varies (the feature was never on Business, and has been
    // retired since): look for any of the ways a refusal has been put.
    const SAYS: &[&str] = &[
        "not supported",
        "notsupported",
        "unsupported",
        "not available",
        "no longer",
        "retired",
        "deprecated",
        "not allowed",
        "sourceurl",
        "upload from url",
    ];
    let text = [
        Some(e.message.as_str()),
        e.code.as_deref(),
        e.inner_code.as_deref(),
    ]
    .iter()
    .flatten()
    .map(|t| t.to_ascii_lowercase())
    .collect::<Vec<_>>()
    .join(" ");
    let says_refused = SAYS.iter().any(|s| text.contains(s));
    match (e.kind, e.http_status) {
        (ErrorKind::NotSupported, _) | (_, Some(405 | 501)) => true,
        (
            ErrorKind::BadRequest | ErrorKind::Forbidden | ErrorKind::Service | ErrorKind::Protocol,
            _,
        ) => says_refused,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals() {
        let e = |status, body: &str| Error::from_response(status, body.as_bytes(), None, None);
        assert!(is_refusal_of_feature(&e(501, "")));
        assert!(is_refusal_of_feature(&e(
            400,
            r#"{"error":{"code":"invalidRequest","message":"Upload from URL is not supported"}}"#
        )));
        assert!(is_refusal_of_feature(&e(
            403,
            r#"{"error":{"code":"notSupported","message":"x"}}"#
        )));
        assert!(!is_refusal_of_feature(&e(
            400,
            r#"{"error":{"code":"invalidRequest","message":"bad name"}}"#
        )));
        assert!(!is_refusal_of_feature(&e(
            409,
            r#"{"error":{"code":"nameAlreadyExists","message":"not supported"}}"#
        )));
        for refused in [
            (
                400,
                r#"{"error":{"code":"invalidRequest","message":"Upload from URL is no longer available."}}"#,
            ),
            (
                400,
                r#"{"error":{"code":"invalidRequest","message":"x","innerError":{"code":"sourceUrlNotSupported"}}}"#,
            ),
            (405, ""),
        ] {
            assert!(
                is_refusal_of_feature(&e(refused.0, refused.1)),
                "{refused:?}"
            );
        }
        assert!(!is_refusal_of_feature(&e(
            403,
            r#"{"error":{"code":"accessDenied","message":"Access denied"}}"#
        )));
    }
}
