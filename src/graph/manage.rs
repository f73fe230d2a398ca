//! Creating folders, moving and renaming items, deleting items.

use serde_json::{Map, Value, json};

use super::address::{Conflict, Drive, ItemRef, validate_name};
use super::client::Client;
use super::control::Control;
use super::error::{Error, ErrorKind, Result};
use super::http::{Auth, Request, Retry};
use super::item::Item;

/// Where [`Client::move_item`] puts an item, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoveOptions {
    /// The new parent folder (`None`: stays where it is): a path, an id or
    /// `ID:/rel`, on the item's drive.
    pub dest_parent: Option<ItemRef>,
    /// The destination drive's id when it is named. Graph does not move
    /// items between drives: an id other than the one `drive` names
    /// (`/drives/{id}`) is `ErrorKind::NotSupported`, before any request.
    pub dest_drive_id: Option<String>,
    /// A new name (`None`: keeps its name).
    pub name: Option<String>,
    /// When the name is taken in the destination: sent as
    /// `@microsoft.graph.conflictBehavior` (`ServiceDefault`: nothing is
    /// sent, the service decides). A name in use with `Fail` is
    /// `ErrorKind::Conflict`.
    pub conflict: Conflict,
    /// An eTag (or cTag) read earlier: an item changed since is not moved
    /// (`ErrorKind::Conflict`).
    pub if_match: Option<String>,
}

impl Client {
    /// Creates the folder `name` in the folder `parent` and returns it
    /// (`POST …/children` with a `folder` facet). `conflict` as the service
    /// takes it (its default for folders is fail: `ErrorKind::Conflict`).
    /// With `make_parents` it works as `mkdir -p`: the folders of the path
    /// that do not exist yet are created, existing ones (`name` too) are
    /// kept and the folder is returned as it is (`conflict` is not used); a
    /// file in the way is `ErrorKind::Conflict`. A POST whose answer was lost
    /// is not sent again: the folder is looked up, and taken if it is there.
    pub fn create_folder(
        &self,
        drive: &Drive,
        parent: &ItemRef,
        name: &str,
        conflict: Conflict,
        make_parents: bool,
        ctl: &mut Control<'_>,
    ) -> Result<Item> {
        validate_name(name)?;
        if make_parents {
            return self.ensure_folder(drive, &parent.join(&[name.to_owned()]), ctl);
        }
        self.post_folder(drive, parent, name, conflict, ctl)
    }

    /// Deletes an item (a file, or a folder with all it holds). With
    /// `if_match` (an eTag or cTag the caller read), an item changed since
    /// is not deleted: `ErrorKind::Conflict`. A missing item is
    /// `ErrorKind::NotFound`. Sent once past failures the service may have
    /// acted on, so that an answer lost on the way never turns a deletion
    /// into a false "not found".
    pub fn delete_item(
        &self,
        drive: &Drive,
        item: &ItemRef,
        if_match: Option<&str>,
        ctl: &mut Control<'_>,
    ) -> Result<()> {
        if item.is_root() {
            return Err(Error::invalid("the root of a drive cannot be deleted"));
        }
        if let Some(tag) = if_match {
            check_tag(tag)?;
        }
        let url = self
            .inner
            .api_url(&format!("{}{}", drive.prefix(), item.url_path()));
        let mut req = Request::new("DELETE", url, Auth::Bearer, Retry::OnlyUnacted);
        if let Some(tag) = if_match {
            req = req.header("If-Match", tag);
        }
        self.inner.send(&req, ctl)?.success().map(drop)
    }

    /// Moves and/or renames an item (`PATCH …/items/{id}` with
    /// `parentReference` and/or `name`) and returns it as it is now.
    ///
    /// A folder moved into itself or its own subtree is refused by the
    /// service (`ErrorKind::BadRequest` on Graph, or `Conflict`). The
    /// request is never repeated after the service may have acted on it:
    /// when its answer is lost (`ErrorKind::Network` or `Timeout`), the
    /// item may or may not have moved, and the error says so; read the
    /// item by its id (ids do not change with a move) to know.
    pub fn move_item(
        &self,
        drive: &Drive,
        item: &ItemRef,
        opts: &MoveOptions,
        ctl: &mut Control<'_>,
    ) -> Result<Item> {
        if item.is_root() {
            return Err(Error::invalid("the root of a drive cannot be moved"));
        }
        if opts.dest_parent.is_none() && opts.name.is_none() {
            return Err(Error::invalid(
                "a move needs a destination folder, a new name, or both",
            ));
        }
        if let Some(name) = &opts.name {
            validate_name(name)?;
        }
        if let Some(tag) = &opts.if_match {
            check_tag(tag)?;
        }
        if let Some(d) = &opts.dest_drive_id {
            if d.is_empty() || d.contains(['/', '?', '#']) {
                return Err(Error::invalid(format!("{d:?} is not a drive id")));
            }
            if !matches!(drive, Drive::Id(same) if same == d) {
                return Err(Error::new(
                    ErrorKind::NotSupported,
                    format!(
                        "Graph does not move items between drives (to {d:?} from {drive}): \
                         copy, then delete"
                    ),
                ));
            }
        }
        let mut body = Map::new();
        if let Some(dest) = &opts.dest_parent {
            let mut parent = Map::new();
            match dest {
                ItemRef::Id(id) => {
                    parent.insert("id".into(), json!(id));
                }
                ItemRef::Path(segs) if segs.is_empty() => {
                    let drive_id = match drive {
                        Drive::Id(d) => Some(d.as_str()),
                        _ => None,
                    };
                    parent.insert("path".into(), json!(dest.reference_path(drive_id)));
                }
                ItemRef::Path(_) | ItemRef::IdPath(..) => {
                    // Sent as an id: an itemReference holds an id or a
                    // path from the root, not both, and services differ on
                    // whether a path there is percent-decoded. One GET.
                    let folder = self.item(drive, dest, ctl)?;
                    parent.insert("id".into(), json!(folder.id()));
                }
            }
            body.insert("parentReference".into(), Value::Object(parent));
        }
        if let Some(name) = &opts.name {
            body.insert("name".into(), json!(name));
        }
        let body = Value::Object(body).to_string();
        let url = self.inner.api_url(&format!(
            "{}{}{}",
            drive.prefix(),
            item.url_path(),
            opts.conflict.query()
        ));
        // Not repeated after the service may have acted: with If-Match a
        // second PATCH would see its own change as a conflict, and with
        // rename it could rename twice.
        let mut req =
            Request::new("PATCH", url, Auth::Bearer, Retry::OnlyUnacted).json(body.as_bytes());
        if let Some(tag) = &opts.if_match {
            req = req.header("If-Match", tag.as_str());
        }
        let resp = self.inner.send(&req, ctl).map_err(|mut e| {
            if matches!(e.kind, ErrorKind::Network | ErrorKind::Timeout) {
                e.message = format!(
                    "{}; the move may or may not have been done: read the item by its id to know",
                    e.message
                );
            }
            e
        })?;
        Item::from_slice(&resp.success()?.body)
    }

    fn post_folder(
        &self,
        drive: &Drive,
        parent: &ItemRef,
        name: &str,
        conflict: Conflict,
        ctl: &mut Control<'_>,
    ) -> Result<Item> {
        let mut body = Map::new();
        body.insert("name".into(), json!(name));
        body.insert("folder".into(), json!({}));
        if let Some(c) = conflict.as_str() {
            body.insert("@microsoft.graph.conflictBehavior".into(), json!(c));
        }
        let body = Value::Object(body).to_string();
        let url = self.inner.api_url(&format!(
            "{}{}",
            drive.prefix(),
            parent.action_url_path("children")
        ));
        // Not repeated after the service may have acted: with rename it
        // would make a second folder, with fail report a false conflict.
        let req = Request::new("POST", url, Auth::Bearer, Retry::OnlyUnacted).json(body.as_bytes());
        let resp = self.inner.send(&req, ctl)?.success()?;
        Item::from_slice(&resp.body)
    }

    /// Makes sure `folder` exists and returns it, creating the missing
    /// folders of its path from the deepest one that exists.
    fn ensure_folder(
        &self,
        drive: &Drive,
        folder: &ItemRef,
        ctl: &mut Control<'_>,
    ) -> Result<Item> {
        let (base, segs) = match folder {
            ItemRef::Path(segs) => (ItemRef::Path(Vec::new()), segs.clone()),
            ItemRef::IdPath(id, segs) => (ItemRef::Id(id.clone()), segs.clone()),
            ItemRef::Id(_) => unreachable!("a folder to make is named by a path"),
        };
        let at = |n: usize| base.join(&segs[..n]);
        // The deepest existing folder of the path (most calls: the whole path).
        let mut have = segs.len();
        let mut deepest = loop {
            match self.item(drive, &at(have), ctl) {
                Ok(item) if item.is_folder() => break item,
                Ok(_) => {
                    return Err(Error::new(
                        ErrorKind::Conflict,
                        format!("{} is a file, not a folder", at(have)),
                    ));
                }
                Err(e) if e.kind == ErrorKind::NotFound && have > 0 => have -= 1,
                Err(e) => return Err(e),
            }
        };
        for (n, name) in segs.iter().enumerate().skip(have) {
            deepest = match self.post_folder(drive, &at(n), name, Conflict::Fail, ctl) {
                Ok(made) => made,
                // Made by someone else meanwhile (Conflict), or maybe by this
                // POST whose answer was lost (Network): fine if a folder is
                // there now; if not, the POST's own error is the answer.
                Err(e) if matches!(e.kind, ErrorKind::Conflict | ErrorKind::Network) => {
                    match self.item(drive, &at(n + 1), ctl) {
                        Ok(there) if there.is_folder() => there,
                        Ok(_) => return Err(e),
                        Err(g) if g.kind == ErrorKind::NotFound => return Err(e),
                        Err(g) => return Err(g),
                    }
                }
                Err(e) => return Err(e),
            };
        }
        Ok(deepest)
    }
}

/// An eTag or cTag as it may go into an `If-Match` header.
fn check_tag(tag: &str) -> Result<()> {
    if tag.is_empty() || tag.chars().any(char::is_control) {
        return Err(Error::invalid(format!("{tag:?} is not an eTag")));
    }
    Ok(())
}
