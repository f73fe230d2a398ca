//! An upload session as state to save and load: enough to go on with it
//! from another client or a later process.

use serde_json::{Value, json};

use super::address::{Conflict, Drive, UploadTarget};
use super::error::{Error, Result};
use super::url::Origin;

/// An upload session: enough to go on with it from another client or a
/// later process ([`UploadSession::to_json`], [`UploadSession::from_json`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSession {
    pub upload_url: String,
    /// The file's size in bytes.
    pub size: u64,
    /// Where the file goes (kept to start a new session if this one is lost).
    pub drive: Drive,
    pub target: UploadTarget,
    pub conflict: Conflict,
    pub expiration: Option<String>,
}

const STATE_VERSION: u64 = 1;

impl UploadSession {
    /// The session as a JSON text to save. It holds the upload URL, which
    /// is a credential for this one upload: store it as you would a token.
    pub fn to_json(&self) -> String {
        let (parent, name, item) = match &self.target {
            UploadTarget::Child { parent, name } => {
                (Some(parent.to_string()), Some(name.clone()), None)
            }
            UploadTarget::Item(item) => (None, None, Some(item.to_string())),
        };
        json!({
            "version": STATE_VERSION,
            "uploadUrl": self.upload_url,
            "size": self.size,
            "drive": self.drive.to_string(),
            "parent": parent,
            "name": name,
            "item": item,
            "conflict": self.conflict.as_str(),
            "expirationDateTime": self.expiration,
        })
        .to_string()
    }

    /// Reads a session saved by [`UploadSession::to_json`].
    pub fn from_json(text: &str) -> Result<UploadSession> {
        let bad = |why: &str| Error::invalid(format!("not a saved upload session: {why}"));
        let v: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
        if v.get("version").and_then(Value::as_u64) != Some(STATE_VERSION) {
            return Err(bad("unknown version"));
        }
        let text_of = |k: &str| v.get(k).and_then(Value::as_str);
        let upload_url = text_of("uploadUrl")
            .ok_or_else(|| bad("no uploadUrl"))?
            .to_owned();
        Origin::of(&upload_url)?;
        let size = v
            .get("size")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("no size"))?;
        let drive = Drive::parse(text_of("drive").ok_or_else(|| bad("no drive"))?)?;
        let target = match (text_of("parent"), text_of("name"), text_of("item")) {
            (Some(parent), Some(name), None) => UploadTarget::new(parent, Some(name))?,
            (None, None, Some(item)) => UploadTarget::new(item, None)?,
            _ => return Err(bad("no target")),
        };
        let conflict = Conflict::parse(text_of("conflict"))
            .ok_or_else(|| bad(&format!("conflict {:?}", v.get("conflict"))))?;
        Ok(UploadSession {
            upload_url,
            size,
            drive,
            target,
            conflict,
            expiration: text_of("expirationDateTime").map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_sessions_round_trip() {
        for target in [
            UploadTarget::new("/a b", Some("c.txt")).unwrap(),
            UploadTarget::new("ID!1", None).unwrap(),
        ] {
            let s = UploadSession {
                upload_url: "https://x.example/up/1?tempauth=z".into(),
                size: 123,
                drive: Drive::Id("b!d".into()),
                target,
                conflict: Conflict::Rename,
                expiration: Some("2026-11-27T00:00:00Z".into()),
            };
            assert_eq!(UploadSession::from_json(&s.to_json()).unwrap(), s);
        }
        for bad in [
            "",
            "{}",
            r#"{"version":2}"#,
            r#"{"version":1,"uploadUrl":"nope","size":1,"drive":"/me/drive","item":"X"}"#,
        ] {
            assert!(UploadSession::from_json(bad).is_err(), "{bad}");
        }
    }
}
