//! Simple upload: one PUT of the whole body.

use super::address::{Drive, ItemRef, validate_name};
use super::client::Client;
use super::control::Control;
use super::error::{Error, ErrorKind, Result};
use super::http::{Auth, Body, Request, Retry};
use super::item::Item;
use super::session::BytesSource;

/// What to do when the name is already taken (`@microsoft.graph.conflictBehavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Conflict {
    /// Send nothing: the service's default (replace for uploads, fail for copies).
    #[default]
    ServiceDefault,
    Fail,
    Replace,
    Rename,
}

impl Conflict {
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Conflict::ServiceDefault => None,
            Conflict::Fail => Some("fail"),
            Conflict::Replace => Some("replace"),
            Conflict::Rename => Some("rename"),
        }
    }

    /// `?@microsoft.graph.conflictBehavior=…`, or nothing.
    pub(crate) fn query(self) -> String {
        self.as_str()
            .map(|c| format!("?@microsoft.graph.conflictBehavior={c}"))
            .unwrap_or_default()
    }
}

/// Where an upload goes: a new file `name` under a folder, or a file itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadTarget {
    /// A file called `name` in the folder `parent`.
    Child { parent: ItemRef, name: String },
    /// The file itself: by path, created or replaced; by id, replaced.
    Item(ItemRef),
}

impl UploadTarget {
    /// Builds a target the way the C API takes it: with a name, `item` is
    /// the parent folder; without, `item` is the file itself.
    pub fn new(item: &str, name: Option<&str>) -> Result<UploadTarget> {
        let item = ItemRef::parse(item)?;
        match name {
            Some(name) => {
                validate_name(name)?;
                Ok(UploadTarget::Child {
                    parent: item,
                    name: name.to_owned(),
                })
            }
            None if item.is_root() => Err(Error::new(
                ErrorKind::InvalidName,
                "the root is not a file: give a name, or a path like /folder/file.txt",
            )),
            None => Ok(UploadTarget::Item(item)),
        }
    }

    /// The URL path of the target item, below the drive prefix.
    pub(crate) fn item_url_path(&self) -> String {
        self.item_ref().url_path()
    }

    /// The target file as an item reference.
    pub fn item_ref(&self) -> ItemRef {
        match self {
            UploadTarget::Item(item) => item.clone(),
            UploadTarget::Child { parent, name } => match parent {
                ItemRef::Id(id) => ItemRef::IdPath(id.clone(), vec![name.clone()]),
                ItemRef::Path(segs) => ItemRef::Path([segs.clone(), vec![name.clone()]].concat()),
                ItemRef::IdPath(id, segs) => {
                    ItemRef::IdPath(id.clone(), [segs.clone(), vec![name.clone()]].concat())
                }
            },
        }
    }
}

impl Client {
    /// Uploads `data` to `target` and returns the new or replaced item: in
    /// one PUT up to the simple-upload threshold, through an upload session
    /// above it. Progress is reported as bytes sent (per chunk for sessions).
    pub fn upload(
        &self,
        drive: &Drive,
        target: &UploadTarget,
        data: &[u8],
        conflict: Conflict,
        ctl: &mut Control<'_>,
    ) -> Result<Item> {
        if data.len() as u64 > self.inner.upload_settings().simple_limit {
            return self.upload_from(drive, target, &mut BytesSource::new(data), conflict, ctl);
        }
        self.simple_upload(drive, target, data, conflict, ctl)
    }

    /// One PUT of the whole body.
    pub(crate) fn simple_upload(
        &self,
        drive: &Drive,
        target: &UploadTarget,
        data: &[u8],
        conflict: Conflict,
        ctl: &mut Control<'_>,
    ) -> Result<Item> {
        let url = self.inner.api_url(&format!(
            "{}{}/content{}",
            drive.prefix(),
            target.item_url_path(),
            conflict.query()
        ));
        // Repeating a PUT that replaces is harmless; with rename it would
        // make a second copy, with fail it would report a false conflict.
        let retry = match conflict {
            Conflict::ServiceDefault | Conflict::Replace => Retry::Idempotent,
            Conflict::Fail | Conflict::Rename => Retry::OnlyUnacted,
        };
        let mut req = Request::new("PUT", url, Auth::Bearer, retry)
            .header("Content-Type", "application/octet-stream");
        req.body = Body::Bytes(data);
        req.progress = Some((0, data.len() as u64));
        ctl.report(0, data.len() as u64)?;
        let resp = self.inner.send(&req, ctl)?.success()?;
        Item::from_slice(&resp.body)
    }

    /// Reads an item's metadata.
    pub fn item(&self, drive: &Drive, item: &ItemRef, ctl: &mut Control<'_>) -> Result<Item> {
        let url = self
            .inner
            .api_url(&format!("{}{}", drive.prefix(), item.url_path()));
        let resp = self
            .inner
            .send(
                &Request::new("GET", url, Auth::Bearer, Retry::Idempotent),
                ctl,
            )?
            .success()?;
        Item::from_slice(&resp.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = UploadTarget::new("/a b", Some("c#.txt")).unwrap();
        assert_eq!(t.item_url_path(), "/root:/a%20b/c%23.txt:");
        let t = UploadTarget::new("ID", None).unwrap();
        assert_eq!(t.item_url_path(), "/items/ID");
        let t = UploadTarget::new("/x/y.txt", None).unwrap();
        assert_eq!(t.item_url_path(), "/root:/x/y.txt:");
        for (item, name, want) in [
            ("/", "n m", "/root:/n%20m:"),
            ("X", "n", "/items/X:/n:"),
            ("X:/s", "n", "/items/X:/s/n:"),
        ] {
            assert_eq!(
                UploadTarget::new(item, Some(name)).unwrap().item_url_path(),
                want
            );
        }
        assert_eq!(
            UploadTarget::new("/", None).unwrap_err().kind,
            ErrorKind::InvalidName
        );
        assert_eq!(
            UploadTarget::new("/", Some("a:b")).unwrap_err().kind,
            ErrorKind::InvalidName
        );
        assert_eq!(
            UploadTarget::new("/", Some("")).unwrap_err().kind,
            ErrorKind::InvalidName
        );
        assert_eq!(
            UploadTarget::new("", Some("a")).unwrap_err().kind,
            ErrorKind::InvalidArgument
        );
    }

    #[test]
    fn conflict_query() {
        assert_eq!(Conflict::ServiceDefault.query(), "");
        assert_eq!(
            Conflict::Rename.query(),
            "?@microsoft.graph.conflictBehavior=rename"
        );
    }
}
