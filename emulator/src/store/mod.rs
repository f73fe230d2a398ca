//! The drives and their items: an in-memory tree, optionally mirrored to a data directory.
//! Here the records and lookups; the changes in `tree`, the data directory in `persist`,
//! the item and drive JSON in `render`.

mod persist;
mod render;
mod tree;

pub(crate) use persist::{PersistJob, check_data_dir, storage_error};

use crate::config::Profile;
use crate::content::{Content, FileContent};
use crate::hash::Hashes;
use crate::rand;
use crate::util::{self, GraphError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Identity {
    pub id: String,
    pub display_name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum OwnerKind {
    User,
    Group,
    Site,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct DriveRec {
    pub id: String,
    pub drive_type: String,
    pub name: String,
    pub owner_kind: OwnerKind,
    pub owner: Identity,
    pub root_id: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Kind {
    Folder {
        /// lower-cased name -> child id (names are case-insensitive, case-preserving)
        children: BTreeMap<String, String>,
    },
    File {
        #[serde(skip)]
        content: Content,
        size: u64,
        mime: String,
        hashes: Hashes,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ItemRec {
    pub id: String,
    pub drive_id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub created: String,
    pub modified: String,
    pub version: u64,
    pub content_version: u64,
    pub kind: Kind,
}

impl ItemRec {
    pub fn is_folder(&self) -> bool {
        matches!(self.kind, Kind::Folder { .. })
    }

    /// The eTag: changes with every change of the item (content, name, place).
    pub fn etag(&self) -> String {
        format!("\"{{{}}},{}\"", self.id, self.version)
    }

    /// The cTag: changes with the content only.
    pub fn ctag(&self) -> String {
        format!("\"c:{{{}}},{}\"", self.id, self.content_version)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Conflict {
    Fail,
    Replace,
    Rename,
}

impl Conflict {
    pub fn parse(s: &str) -> Result<Conflict, GraphError> {
        match s.to_ascii_lowercase().as_str() {
            "fail" => Ok(Conflict::Fail),
            "replace" => Ok(Conflict::Replace),
            "rename" => Ok(Conflict::Rename),
            _ => Err(GraphError::bad_request(format!(
                "Invalid value for @microsoft.graph.conflictBehavior: '{s}'. Expected fail, replace or rename."
            ))),
        }
    }
}

/// A copy of a subtree taken when a copy job starts. Flat (parents before their
/// children), so that neither building, writing nor dropping it recurses: trees may be
/// tens of thousands of levels deep.
#[derive(Debug)]
pub(crate) struct TreeSnap {
    nodes: Vec<SnapNode>,
}

#[derive(Debug)]
struct SnapNode {
    /// index of the parent node; None for the snapshot's top item
    parent: Option<usize>,
    name: String,
    /// Some for a file
    file: Option<(FileContent, String)>,
}

impl TreeSnap {
    pub fn bytes(&self) -> u64 {
        self.nodes
            .iter()
            .filter_map(|n| n.file.as_ref())
            .map(|(c, _)| c.size())
            .sum()
    }

    /// Stage every file in the data directory's `content_dir` (before the store lock).
    pub fn stage(&mut self, content_dir: &Path) -> io::Result<()> {
        self.nodes
            .iter_mut()
            .filter_map(|n| n.file.as_mut())
            .try_for_each(|(c, _)| c.stage(content_dir))
    }
}

/// PATCH moves within a drive only, as Graph does.
pub(crate) fn cross_drive() -> GraphError {
    GraphError::bad_request(
        "An item cannot be moved to another drive: copy it there, then delete the original.",
    )
}

pub(crate) struct Store {
    pub profile: Profile,
    pub user: Identity,
    pub drives: Vec<DriveRec>,
    pub items: HashMap<String, ItemRec>,
    seq: u64,
    data_dir: Option<PathBuf>,
    /// metadata changed since the last snapshot was taken
    dirty: bool,
    persist_seq: u64,
    /// ids whose content files go once the next snapshot is written
    removed: Vec<String>,
}

const FORBIDDEN: &[char] = &['"', '*', ':', '<', '>', '?', '/', '\\', '|'];

/// Names the service refuses: empty, `.`/`..`, control characters, `" * : < > ? / \ |`.
pub(crate) fn validate_name(name: &str) -> Result<(), GraphError> {
    if name.is_empty() {
        return Err(GraphError::bad_request("The item name must not be empty."));
    }
    if name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| FORBIDDEN.contains(&c) || c.is_control())
    {
        return Err(GraphError::bad_request(format!(
            "The provided name contains invalid characters: '{name}'. A name may not contain \" * : < > ? / \\ |"
        ))
        .inner("invalidName"));
    }
    if name.chars().count() > 400 {
        return Err(GraphError::bad_request("The item name is too long."));
    }
    Ok(())
}
fn renamed(name: &str, n: u32) -> String {
    match name.rfind('.') {
        Some(i) if i > 0 => format!("{} {}{}", &name[..i], n, &name[i..]),
        _ => format!("{name} {n}"),
    }
}

fn key(name: &str) -> String {
    name.to_lowercase()
}

fn now() -> String {
    util::rfc3339(SystemTime::now())
}

impl Store {
    fn seed(profile: Profile, data_dir: Option<PathBuf>) -> Store {
        let personal = profile == Profile::Personal;
        let user = Identity {
            id: if personal {
                rand::random_hex(8)
            } else {
                rand::guid()
            },
            display_name: "Emulated User".into(),
        };
        let mut store = Store {
            profile,
            user: user.clone(),
            drives: Vec::new(),
            items: HashMap::new(),
            seq: 100,
            data_dir,
            dirty: false,
            persist_seq: 0,
            removed: Vec::new(),
        };
        let drive_id = |personal: bool| {
            if personal {
                rand::random_hex(8)
            } else {
                format!("b!{}", rand::random_token(48))
            }
        };
        let specs = [
            (
                if personal {
                    user.id.clone()
                } else {
                    drive_id(false)
                },
                if personal { "personal" } else { "business" },
                "OneDrive",
                OwnerKind::User,
                user.clone(),
            ),
            (
                drive_id(personal),
                "documentLibrary",
                "Documents",
                OwnerKind::Group,
                Identity {
                    id: rand::guid(),
                    display_name: "Emulated Group".into(),
                },
            ),
            (
                drive_id(personal),
                "documentLibrary",
                "Documents",
                OwnerKind::Site,
                Identity {
                    id: rand::guid(),
                    display_name: "Emulated Site".into(),
                },
            ),
        ];
        for (id, drive_type, name, owner_kind, owner) in specs {
            let root_id = store.new_item_id(&id);
            let t = now();
            store.items.insert(
                root_id.clone(),
                ItemRec {
                    id: root_id.clone(),
                    drive_id: id.clone(),
                    parent_id: None,
                    name: "root".into(),
                    created: t.clone(),
                    modified: t,
                    version: 1,
                    content_version: 1,
                    kind: Kind::Folder {
                        children: BTreeMap::new(),
                    },
                },
            );
            store.drives.push(DriveRec {
                id,
                drive_type: drive_type.into(),
                name: name.into(),
                owner_kind,
                owner,
                root_id,
            });
        }
        store
    }

    fn new_item_id(&mut self, drive_id: &str) -> String {
        loop {
            self.seq += 1;
            let id = match self.profile {
                Profile::Personal => format!("{}!{}", drive_id.to_uppercase(), self.seq),
                Profile::Business => format!("01{}", rand::random_base32(32)),
            };
            // a loaded store's seq may lag behind its ids
            if !self.items.contains_key(&id) {
                return id;
            }
        }
    }

    // ----- lookups -----

    pub fn default_drive(&self) -> &DriveRec {
        &self.drives[0]
    }

    pub fn drive(&self, id: &str) -> Option<&DriveRec> {
        self.drives.iter().find(|d| d.id.eq_ignore_ascii_case(id))
    }

    pub fn drive_of_owner(&self, kind: OwnerKind, owner_id: &str) -> Option<&DriveRec> {
        self.drives
            .iter()
            .find(|d| d.owner_kind == kind && d.owner.id.eq_ignore_ascii_case(owner_id))
    }

    pub fn get(&self, id: &str) -> Option<&ItemRec> {
        self.items.get(id)
    }

    /// An item of `drive_id` by id (`root` names the drive's root).
    pub fn item_in_drive(&self, drive_id: &str, id: &str) -> Result<&ItemRec, GraphError> {
        let drive = self.drive(drive_id).ok_or_else(GraphError::not_found)?;
        let id = if id.eq_ignore_ascii_case("root") {
            drive.root_id.as_str()
        } else {
            id
        };
        match self.items.get(id) {
            Some(it) if it.drive_id == drive.id => Ok(it),
            _ => Err(GraphError::not_found()),
        }
    }

    pub fn child(&self, folder_id: &str, name: &str) -> Option<&ItemRec> {
        match &self.items.get(folder_id)?.kind {
            Kind::Folder { children } => children.get(&key(name)).and_then(|id| self.items.get(id)),
            Kind::File { .. } => None,
        }
    }

    /// Walk `segs` from `base_id`; 404 when a segment is missing.
    pub fn resolve(&self, base_id: &str, segs: &[String]) -> Result<String, GraphError> {
        let mut cur = base_id.to_string();
        for s in segs {
            cur = self
                .child(&cur, s)
                .ok_or_else(GraphError::not_found)?
                .id
                .clone();
        }
        Ok(cur)
    }

    /// "/a/b" from the drive root ("" for the root itself).
    pub fn path_of(&self, id: &str) -> String {
        let mut parts = Vec::new();
        let mut cur = self.items.get(id);
        while let Some(it) = cur {
            match &it.parent_id {
                Some(p) => {
                    parts.push(it.name.clone());
                    cur = self.items.get(p);
                }
                None => break,
            }
        }
        parts.reverse();
        parts.iter().map(|p| format!("/{p}")).collect()
    }

    /// Bytes of all files below (and at) `id`. Iterative: trees may be very deep.
    fn tree_size(&self, id: &str) -> u64 {
        let mut total = 0u64;
        let mut stack = vec![id];
        while let Some(cur) = stack.pop() {
            match self.items.get(cur).map(|it| &it.kind) {
                Some(Kind::File { size, .. }) => total = total.saturating_add(*size),
                Some(Kind::Folder { children }) => {
                    stack.extend(children.values().map(String::as_str))
                }
                None => {}
            }
        }
        total
    }

    /// The item by path below the root of `drive_id` ("/" or "" = root).
    pub fn by_path(&self, drive_id: &str, path: &str) -> Option<&ItemRec> {
        let drive = self.drive(drive_id)?;
        let segs: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let id = self.resolve(&drive.root_id, &segs).ok()?;
        self.items.get(&id)
    }

    /// The children of `id` in listing order: by lower-cased name, the key they are kept
    /// under (a file has none).
    pub fn children_ids(&self, id: &str) -> Vec<String> {
        match self.items.get(id).map(|it| &it.kind) {
            Some(Kind::Folder { children }) => children.values().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// One page of the children of `id` in listing order: at most `top` ids after the
    /// child keyed `after` (exclusive; None = from the first), and the key of the last
    /// one when more follow. A range of the folder's ordered map: a page costs
    /// O(log n + top) however many children there are, and children added or removed
    /// meanwhile neither repeat nor shift the pages.
    pub fn children_page(
        &self,
        id: &str,
        after: Option<&str>,
        top: usize,
    ) -> (Vec<String>, Option<String>) {
        use std::ops::Bound;
        let Some(Kind::Folder { children }) = self.items.get(id).map(|it| &it.kind) else {
            return (Vec::new(), None);
        };
        let from = match after {
            Some(k) => Bound::Excluded(k.to_string()),
            None => Bound::Unbounded,
        };
        let mut page: Vec<(&String, &String)> = children
            .range((from, Bound::Unbounded))
            .take(top.saturating_add(1))
            .collect();
        let more = page.len() > top;
        page.truncate(top);
        let next = if more {
            page.last().map(|(k, _)| (*k).clone())
        } else {
            None
        };
        (page.into_iter().map(|(_, id)| id.clone()).collect(), next)
    }

    pub fn content(&self, id: &str) -> Option<Content> {
        match &self.items.get(id)?.kind {
            Kind::File { content, .. } => Some(content.clone()),
            Kind::Folder { .. } => None,
        }
    }

    /// The name a new item would get under `parent` given the conflict behaviour,
    /// or the error the service answers at once. `Ok((name, Some(existing)))` for replace.
    pub fn plan_name(
        &self,
        parent: &str,
        name: &str,
        conflict: Conflict,
    ) -> Result<(String, Option<String>), GraphError> {
        validate_name(name)?;
        match self.child(parent, name) {
            None => Ok((name.to_string(), None)),
            Some(existing) => match conflict {
                Conflict::Fail => Err(GraphError::name_exists(name)),
                Conflict::Replace => Ok((existing.name.clone(), Some(existing.id.clone()))),
                Conflict::Rename => {
                    let mut n = 1;
                    loop {
                        let cand = renamed(name, n);
                        if self.child(parent, &cand).is_none() {
                            return Ok((cand, None));
                        }
                        n += 1;
                    }
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_scheme() {
        assert_eq!(renamed("name.txt", 1), "name 1.txt");
        assert_eq!(renamed("a.b.txt", 2), "a.b 2.txt");
        assert_eq!(renamed("folder", 1), "folder 1");
        assert_eq!(renamed(".hidden", 1), ".hidden 1");
    }

    #[test]
    fn names() {
        assert!(validate_name("ok name #%.txt").is_ok());
        for bad in [
            "", ".", "..", "a:b", "a*b", "a?b", "a<b", "a>b", "a|b", "a\\b", "a\"b", "a/b",
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
