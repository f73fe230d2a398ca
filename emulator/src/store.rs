//! The drives and their items: an in-memory tree, optionally mirrored to a data directory.

use crate::Profile;
use crate::content::{Content, FileContent, Staged};
use crate::hash::Hashes;
use crate::util::{self, GraphError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
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

/// A metadata snapshot to write after the store lock is released: `seq` orders them
/// (an older one never overwrites a newer one); `removed` names content files to delete.
pub(crate) struct PersistJob {
    pub seq: u64,
    pub meta: Vec<u8>,
    pub removed: Vec<String>,
}

/// PATCH moves within a drive only, as Graph does.
pub(crate) fn cross_drive() -> GraphError {
    GraphError::bad_request(
        "An item cannot be moved to another drive: copy it there, then delete the original.",
    )
}

pub(crate) fn storage_error(e: io::Error) -> GraphError {
    GraphError::new(500, "generalException", format!("storage error: {e}"))
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    format: u32,
    profile: Profile,
    user: Identity,
    drives: Vec<DriveRec>,
    items: Vec<ItemRec>,
    seq: u64,
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

/// Ids are joined into file names (`content/{id}`): only `A-Z a-z 0-9 ! - _`, at most 256.
fn check_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 256
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'!' | b'-' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(format!("'{}' is not a valid id", id.escape_debug()))
    }
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
    /// Load from `data_dir` when it holds a store, otherwise seed fresh drives.
    /// Loaded contents become files linked into `spool`.
    pub fn open(profile: Profile, data_dir: Option<PathBuf>, spool: &Path) -> io::Result<Store> {
        if let Some(dir) = &data_dir {
            std::fs::create_dir_all(dir.join("content"))?;
            let meta = dir.join("metadata.json");
            if meta.exists() {
                return Self::load(dir, spool);
            }
        }
        let store = Self::seed(profile, data_dir);
        store.save_meta()?;
        Ok(store)
    }

    fn load(dir: &Path, spool: &Path) -> io::Result<Store> {
        let invalid = |why: String| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {why}", dir.join("metadata.json").display()),
            )
        };
        let text = std::fs::read(dir.join("metadata.json"))?;
        let snap: Snapshot = serde_json::from_slice(&text).map_err(|e| invalid(e.to_string()))?;
        let mut items = HashMap::new();
        for it in snap.items {
            let id = it.id.clone();
            if items.insert(id.clone(), it).is_some() {
                return Err(invalid(format!("item id '{id}' appears twice")));
            }
        }
        let mut store = Store {
            profile: snap.profile,
            user: snap.user,
            drives: snap.drives,
            items,
            seq: snap.seq,
            data_dir: Some(dir.to_path_buf()),
            dirty: false,
            persist_seq: 0,
            removed: Vec::new(),
        };
        // Only ids that passed validation are joined into file paths.
        store.validate().map_err(invalid)?;
        for it in store.items.values_mut() {
            if let Kind::File { content, size, .. } = &mut it.kind {
                let data =
                    Content::adopt(&dir.join("content").join(&it.id), spool).map_err(|e| {
                        invalid(format!("cannot read the content of item '{}': {e}", it.id))
                    })?;
                if data.len() != *size {
                    return Err(invalid(format!(
                        "content of item {} has the wrong size",
                        it.id
                    )));
                }
                *content = data;
            }
        }
        Ok(store)
    }

    /// Checks a loaded store: ids usable as file names, at least one drive, every item
    /// in a drive and reachable from its root exactly once through consistent
    /// parent / children links (no cycles, no dangling references), valid names.
    fn validate(&self) -> Result<(), String> {
        if self.drives.is_empty() {
            return Err("the drives list is empty".into());
        }
        for d in &self.drives {
            check_id(&d.id).map_err(|e| format!("drive id: {e}"))?;
            if self
                .drives
                .iter()
                .filter(|o| o.id.eq_ignore_ascii_case(&d.id))
                .count()
                > 1
            {
                return Err(format!("drive id '{}' appears twice", d.id));
            }
            match self.items.get(&d.root_id) {
                Some(r) if r.parent_id.is_none() && r.drive_id == d.id && r.is_folder() => {}
                _ => return Err(format!("drive '{}' has no valid root folder", d.id)),
            }
        }
        for it in self.items.values() {
            check_id(&it.id).map_err(|e| format!("item id: {e}"))?;
            let drive = self
                .drive(&it.drive_id)
                .filter(|d| d.id == it.drive_id)
                .ok_or_else(|| format!("item '{}' names an unknown drive", it.id))?;
            match &it.parent_id {
                None if drive.root_id == it.id => {}
                None => return Err(format!("item '{}' has no parent", it.id)),
                Some(p) => {
                    validate_name(&it.name)
                        .map_err(|e| format!("item '{}': {}", it.id, e.message))?;
                    let linked = match self.items.get(p).map(|p| (&p.drive_id, &p.kind)) {
                        Some((pd, Kind::Folder { children })) => {
                            *pd == it.drive_id && children.get(&key(&it.name)) == Some(&it.id)
                        }
                        _ => false,
                    };
                    if !linked {
                        return Err(format!(
                            "item '{}' is not a child of its parent folder '{p}'",
                            it.id
                        ));
                    }
                }
            }
            if let Kind::Folder { children } = &it.kind {
                for (k, c) in children {
                    match self.items.get(c) {
                        Some(ch)
                            if ch.parent_id.as_deref() == Some(it.id.as_str())
                                && key(&ch.name) == *k => {}
                        _ => {
                            return Err(format!(
                                "folder '{}' lists a child '{c}' that does not name it as parent",
                                it.id
                            ));
                        }
                    }
                }
            }
        }
        // Every item reachable from a root, once: no cycles hanging off the side.
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<&str> = self.drives.iter().map(|d| d.root_id.as_str()).collect();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                return Err(format!("item '{id}' is reachable twice"));
            }
            if let Some(Kind::Folder { children }) = self.items.get(id).map(|it| &it.kind) {
                stack.extend(children.values().map(String::as_str));
            }
        }
        if seen.len() != self.items.len() {
            return Err(format!(
                "{} items are not reachable from any drive root",
                self.items.len() - seen.len()
            ));
        }
        Ok(())
    }

    fn seed(profile: Profile, data_dir: Option<PathBuf>) -> Store {
        let personal = profile == Profile::Personal;
        let user = Identity {
            id: if personal {
                util::random_hex(8)
            } else {
                util::guid()
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
                util::random_hex(8)
            } else {
                format!("b!{}", util::random_token(48))
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
                    id: util::guid(),
                    display_name: "Emulated Group".into(),
                },
            ),
            (
                drive_id(personal),
                "documentLibrary",
                "Documents",
                OwnerKind::Site,
                Identity {
                    id: util::guid(),
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
                Profile::Business => format!("01{}", util::random_base32(32)),
            };
            // a loaded store's seq may lag behind its ids
            if !self.items.contains_key(&id) {
                return id;
            }
        }
    }

    // ----- persistence -----

    /// metadata.json's bytes.
    fn meta_bytes(&self) -> io::Result<Vec<u8>> {
        let mut items: Vec<ItemRec> = self.items.values().cloned().collect();
        items.sort_by(|a, b| a.id.cmp(&b.id));
        let snap = Snapshot {
            format: 1,
            profile: self.profile,
            user: self.user.clone(),
            drives: self.drives.clone(),
            items,
            seq: self.seq,
        };
        serde_json::to_vec_pretty(&snap).map_err(io::Error::other)
    }

    /// Write metadata.json now (at start, before anything is served).
    fn save_meta(&self) -> io::Result<()> {
        let Some(dir) = &self.data_dir else {
            return Ok(());
        };
        let tmp = dir.join("metadata.json.tmp");
        std::fs::write(&tmp, self.meta_bytes()?)?;
        std::fs::rename(tmp, dir.join("metadata.json"))
    }

    /// The snapshot to write once the lock is released, if the metadata changed.
    pub fn take_persist(&mut self) -> Option<PersistJob> {
        if !std::mem::take(&mut self.dirty) || self.data_dir.is_none() {
            return None;
        }
        let meta = match self.meta_bytes() {
            Ok(m) => m,
            Err(e) => {
                eprintln!("onedrive-emulator: cannot serialize metadata.json: {e}");
                return None;
            }
        };
        self.persist_seq += 1;
        Some(PersistJob {
            seq: self.persist_seq,
            meta,
            removed: std::mem::take(&mut self.removed),
        })
    }

    /// Put the content of `id` in place as `content/{id}`: the staged copy renamed (it
    /// was written before the lock), else written here.
    fn place(&mut self, id: &str, staged: Option<Staged>) -> Result<(), GraphError> {
        let Some(dir) = &self.data_dir else {
            return Ok(());
        };
        let dest = dir.join("content").join(id);
        let r = match staged {
            Some(s) => s.commit(&dest),
            None => match self.items.get(id).map(|it| &it.kind) {
                Some(Kind::File { content, .. }) => {
                    let tmp = dir.join("content").join(format!("{id}.tmp"));
                    let _ = std::fs::remove_file(&tmp);
                    content
                        .write_to(&tmp)
                        .and_then(|_| std::fs::rename(&tmp, &dest))
                }
                _ => Ok(()),
            },
        };
        r.map_err(storage_error)
    }

    fn remove_content(&mut self, id: &str) {
        if self.data_dir.is_some() {
            self.removed.push(id.to_string());
        }
    }

    /// The metadata changed: a snapshot is written when the lock is released.
    fn persist(&mut self) -> Result<(), GraphError> {
        self.dirty = true;
        Ok(())
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

    pub fn drive_json(&self, drive: &DriveRec) -> Value {
        let used: u64 = self.tree_size(&drive.root_id);
        let total: u64 = 1 << 40;
        let owner_key = match drive.owner_kind {
            OwnerKind::User => "user",
            OwnerKind::Group => "group",
            OwnerKind::Site => "site",
        };
        json!({
            "id": drive.id,
            "driveType": drive.drive_type,
            "name": drive.name,
            "owner": { owner_key: { "id": drive.owner.id, "displayName": drive.owner.display_name } },
            "quota": { "total": total, "used": used, "remaining": total - used, "deleted": 0, "state": "normal" },
        })
    }

    pub fn item_json(&self, id: &str, api_origin: &str) -> Option<Value> {
        let it = self.items.get(id)?;
        let drive = self.drive(&it.drive_id)?;
        let user = json!({ "user": { "id": self.user.id, "displayName": self.user.display_name } });
        let mut v = json!({
            "id": it.id,
            "name": it.name,
            "size": self.tree_size(id),
            "eTag": it.etag(),
            "cTag": it.ctag(),
            "createdDateTime": it.created,
            "lastModifiedDateTime": it.modified,
            "webUrl": format!("{api_origin}/web/{}/items/{}", drive.id, util::encode_segment(&it.id)),
            "createdBy": user.clone(),
            "lastModifiedBy": user,
            "fileSystemInfo": { "createdDateTime": it.created, "lastModifiedDateTime": it.modified },
        });
        let obj = v.as_object_mut().expect("object");
        match &it.parent_id {
            Some(pid) => {
                let ppath = self.path_of(pid);
                obj.insert(
                    "parentReference".into(),
                    json!({
                        "driveId": drive.id,
                        "driveType": drive.drive_type,
                        "id": pid,
                        "path": format!("/drives/{}/root:{}", drive.id, ppath),
                    }),
                );
            }
            None => {
                obj.insert(
                    "parentReference".into(),
                    json!({ "driveId": drive.id, "driveType": drive.drive_type }),
                );
                obj.insert("root".into(), json!({}));
            }
        }
        match &it.kind {
            Kind::Folder { children } => {
                obj.insert("folder".into(), json!({ "childCount": children.len() }));
            }
            Kind::File { mime, hashes, .. } => {
                // Personal drives report SHA-1 and SHA-256 besides quickXorHash;
                // OneDrive for Business and SharePoint only quickXorHash.
                let hashes = match self.profile {
                    Profile::Personal => json!({
                        "quickXorHash": hashes.quick_xor,
                        "sha1Hash": hashes.sha1,
                        "sha256Hash": hashes.sha256,
                    }),
                    Profile::Business => json!({ "quickXorHash": hashes.quick_xor }),
                };
                obj.insert("file".into(), json!({ "mimeType": mime, "hashes": hashes }));
            }
        }
        Some(v)
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

    /// A copy of the subtree at `id` (iterative: trees may be very deep).
    pub fn snapshot(&self, id: &str) -> Option<TreeSnap> {
        self.items.get(id)?;
        let mut nodes: Vec<SnapNode> = Vec::new();
        let mut stack: Vec<(Option<usize>, String)> = vec![(None, id.to_string())];
        while let Some((parent, cur)) = stack.pop() {
            let Some(it) = self.items.get(&cur) else {
                continue;
            };
            let file = match &it.kind {
                Kind::File {
                    content,
                    mime,
                    hashes,
                    ..
                } => Some((
                    FileContent {
                        content: content.clone(),
                        hashes: hashes.clone(),
                        staged: None,
                    },
                    mime.clone(),
                )),
                Kind::Folder { .. } => None,
            };
            let index = nodes.len();
            nodes.push(SnapNode {
                parent,
                name: it.name.clone(),
                file,
            });
            // reversed so that children are written in name order
            for c in self.children_ids(&cur).into_iter().rev() {
                stack.push((Some(index), c));
            }
        }
        Some(TreeSnap { nodes })
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

    // ----- mutations -----

    fn require_folder(&self, id: &str) -> Result<(), GraphError> {
        match self.items.get(id) {
            Some(it) if it.is_folder() => Ok(()),
            Some(_) => Err(GraphError::bad_request("The parent item is not a folder.")),
            None => Err(GraphError::not_found()),
        }
    }

    fn touch(&mut self, id: &str) {
        let t = now();
        if let Some(it) = self.items.get_mut(id) {
            it.version += 1;
            it.modified = t;
        }
    }

    fn insert_new(&mut self, parent: &str, name: &str, kind: Kind) -> String {
        let drive_id = self.items[parent].drive_id.clone();
        let id = self.new_item_id(&drive_id);
        let t = now();
        self.items.insert(
            id.clone(),
            ItemRec {
                id: id.clone(),
                drive_id,
                parent_id: Some(parent.to_string()),
                name: name.to_string(),
                created: t.clone(),
                modified: t,
                version: 1,
                content_version: 1,
                kind,
            },
        );
        if let Some(Kind::Folder { children }) = self.items.get_mut(parent).map(|p| &mut p.kind) {
            children.insert(key(name), id.clone());
        }
        self.touch(parent);
        id
    }

    /// A file's kind (its hashes were computed before the lock) and its staged copy.
    fn file_kind(fc: FileContent, mime: &str) -> (Kind, Option<Staged>) {
        let kind = Kind::File {
            size: fc.size(),
            hashes: fc.hashes,
            mime: mime.to_string(),
            content: fc.content,
        };
        (kind, fc.staged)
    }

    /// Remove the subtree at `id` from the item map (iterative: trees may be very deep).
    fn remove_tree(&mut self, id: &str, removed: &mut Vec<String>) {
        let mut stack = vec![id.to_string()];
        while let Some(cur) = stack.pop() {
            if let Some(it) = self.items.remove(&cur) {
                if let Kind::Folder { children } = it.kind {
                    stack.extend(children.into_values());
                }
                removed.push(cur);
            }
        }
    }

    fn unlink_and_remove(&mut self, id: &str) -> Vec<String> {
        let parent = self.items.get(id).and_then(|it| it.parent_id.clone());
        let name = self.items.get(id).map(|it| key(&it.name));
        if let (Some(p), Some(n)) = (&parent, name) {
            if let Some(Kind::Folder { children }) = self.items.get_mut(p).map(|it| &mut it.kind) {
                children.remove(&n);
            }
            self.touch(p);
        }
        let mut removed = Vec::new();
        self.remove_tree(id, &mut removed);
        removed
    }

    pub fn delete(&mut self, id: &str) -> Result<(), GraphError> {
        let it = self.items.get(id).ok_or_else(GraphError::not_found)?;
        if it.parent_id.is_none() {
            return Err(GraphError::new(
                403,
                "accessDenied",
                "The root folder of a drive cannot be deleted.",
            ));
        }
        let removed = self.unlink_and_remove(id);
        for r in &removed {
            self.remove_content(r);
        }
        self.persist()
    }

    /// Remove every item below the drives' roots (a reset); the roots stay, with new eTags.
    pub fn reset(&mut self) {
        let roots: Vec<String> = self.drives.iter().map(|d| d.root_id.clone()).collect();
        let mut removed = Vec::new();
        for r in &roots {
            let kids = match self.items.get_mut(r).map(|it| &mut it.kind) {
                Some(Kind::Folder { children }) => std::mem::take(children),
                _ => continue,
            };
            for c in kids.into_values() {
                self.remove_tree(&c, &mut removed);
            }
            self.touch(r);
        }
        for r in &removed {
            self.remove_content(r);
        }
        self.dirty = true;
    }

    /// Create a folder; returns (id, created). With `Replace` an existing folder is replaced by a new, empty one.
    pub fn create_folder(
        &mut self,
        parent: &str,
        name: &str,
        conflict: Conflict,
    ) -> Result<String, GraphError> {
        self.require_folder(parent)?;
        let (name, existing) = self.plan_name(parent, name, conflict)?;
        if let Some(e) = existing {
            for r in self.unlink_and_remove(&e) {
                self.remove_content(&r);
            }
        }
        let id = self.insert_new(
            parent,
            &name,
            Kind::Folder {
                children: BTreeMap::new(),
            },
        );
        self.persist()?;
        Ok(id)
    }

    /// Walk `segs` from `base`, creating missing folders (as the service does for path uploads).
    pub fn ensure_folders(&mut self, base: &str, segs: &[String]) -> Result<String, GraphError> {
        let mut cur = base.to_string();
        let mut created = false;
        for s in segs {
            match self.child(&cur, s) {
                Some(it) if it.is_folder() => cur = it.id.clone(),
                Some(_) => return Err(GraphError::name_exists(s)),
                None => {
                    validate_name(s)?;
                    cur = self.insert_new(
                        &cur,
                        s,
                        Kind::Folder {
                            children: BTreeMap::new(),
                        },
                    );
                    created = true;
                }
            }
        }
        if created {
            self.persist()?;
        }
        Ok(cur)
    }

    /// `count` empty files named `{prefix}{i}` (i from 1, zero-padded to the width of
    /// `count`) in the folder at `segs` below `base` (made if missing): big folders for
    /// tests and benchmarks of listing, without a request per file. A name already in
    /// use: 409, nothing made.
    pub fn seed_files(
        &mut self,
        base: &str,
        segs: &[String],
        prefix: &str,
        count: usize,
    ) -> Result<String, GraphError> {
        let width = count.to_string().len();
        let name = |i: usize| format!("{prefix}{i:0width$}");
        validate_name(&name(count))?;
        if let Ok(parent) = self.resolve(base, segs) {
            self.require_folder(&parent)?;
            if let Some(taken) = (1..=count)
                .map(name)
                .find(|n| self.child(&parent, n).is_some())
            {
                return Err(GraphError::name_exists(&taken));
            }
        }
        let parent = self.ensure_folders(base, segs)?;
        let empty = FileContent::hash(bytes::Bytes::new());
        for i in 1..=count {
            let n = name(i);
            let kind = Kind::File {
                size: 0,
                hashes: empty.hashes.clone(),
                mime: util::mime_for(&n).to_string(),
                content: Content::default(),
            };
            let id = self.insert_new(&parent, &n, kind);
            self.place(&id, None)?;
        }
        self.persist()?;
        Ok(parent)
    }

    /// Whether `ancestor` is `id` or one of the folders above it.
    fn is_within(&self, id: &str, ancestor: &str) -> bool {
        let mut cur = Some(id);
        while let Some(c) = cur {
            if c == ancestor {
                return true;
            }
            cur = self.items.get(c).and_then(|it| it.parent_id.as_deref());
        }
        false
    }

    /// Move `id` into the folder `new_parent` (of the same drive) as `name` (PATCH with
    /// `parentReference` and/or `name`). Another child of that name: 409 with `Fail`,
    /// removed with `Replace`, a free name (`name 1.txt`) taken with `Rename`; the item's
    /// own name (a change of case) is no conflict. Refused with 400 `invalidRequest`: a
    /// drive's root, a folder into itself or its own subtree, another drive, replacing a
    /// folder that holds the item. Bumps the eTag and lastModifiedDateTime of the item
    /// and of both parents.
    pub fn move_item(
        &mut self,
        id: &str,
        new_parent: &str,
        name: &str,
        conflict: Conflict,
    ) -> Result<(), GraphError> {
        let it = self.items.get(id).ok_or_else(GraphError::not_found)?;
        let Some(old_parent) = it.parent_id.clone() else {
            return Err(GraphError::bad_request(
                "The root folder of a drive cannot be moved or renamed.",
            ));
        };
        let (drive, old_key) = (it.drive_id.clone(), key(&it.name));
        self.require_folder(new_parent)?;
        if self.items[new_parent].drive_id != drive {
            return Err(cross_drive());
        }
        if self.is_within(new_parent, id) {
            return Err(GraphError::bad_request(
                "An item cannot be moved into itself or into one of its own subfolders.",
            ));
        }
        validate_name(name)?;
        let taken = |s: &Self, n: &str| s.child(new_parent, n).is_some_and(|c| c.id != id);
        let mut final_name = name.to_string();
        if taken(self, name) {
            match conflict {
                Conflict::Fail => return Err(GraphError::name_exists(name)),
                Conflict::Replace => {
                    let existing = self.child(new_parent, name).expect("taken").id.clone();
                    if self.is_within(id, &existing) {
                        return Err(GraphError::bad_request(
                            "The item to replace holds the item being moved.",
                        ));
                    }
                    for r in self.unlink_and_remove(&existing) {
                        self.remove_content(&r);
                    }
                }
                Conflict::Rename => {
                    let mut n = 1;
                    while taken(self, &final_name) {
                        final_name = renamed(name, n);
                        n += 1;
                    }
                }
            }
        }
        if let Some(Kind::Folder { children }) =
            self.items.get_mut(&old_parent).map(|p| &mut p.kind)
        {
            children.remove(&old_key);
        }
        if let Some(Kind::Folder { children }) = self.items.get_mut(new_parent).map(|p| &mut p.kind)
        {
            children.insert(key(&final_name), id.to_string());
        }
        if let Some(it) = self.items.get_mut(id) {
            it.name = final_name;
            it.parent_id = Some(new_parent.to_string());
        }
        self.touch(id);
        self.touch(&old_parent);
        if old_parent != new_parent {
            self.touch(new_parent);
        }
        self.persist()
    }

    /// Upload a file into `parent`: (id, 201 created | 200 replaced).
    pub fn put_file(
        &mut self,
        parent: &str,
        name: &str,
        content: FileContent,
        conflict: Conflict,
    ) -> Result<(String, u16), GraphError> {
        self.require_folder(parent)?;
        let (name, existing) = self.plan_name(parent, name, conflict)?;
        if let Some(e) = existing {
            if self.items[&e].is_folder() {
                return Err(GraphError::name_exists(&name));
            }
            self.replace_content(&e, content)?;
            return Ok((e, 200));
        }
        let (kind, staged) = Self::file_kind(content, util::mime_for(&name));
        let id = self.insert_new(parent, &name, kind);
        self.place(&id, staged)?;
        self.persist()?;
        Ok((id, 201))
    }

    pub fn replace_content(&mut self, id: &str, content: FileContent) -> Result<(), GraphError> {
        let it = self.items.get_mut(id).ok_or_else(GraphError::not_found)?;
        let Kind::File { mime, .. } = &it.kind else {
            return Err(GraphError::bad_request(
                "Content cannot be uploaded to a folder.",
            ));
        };
        let (kind, staged) = Self::file_kind(content, &mime.clone());
        it.kind = kind;
        it.content_version += 1;
        self.touch(id);
        self.place(id, staged)?;
        self.persist()
    }

    /// Write a snapshot under `parent` (end of a copy job). Returns the new item id.
    pub fn materialize(
        &mut self,
        parent: &str,
        name: &str,
        snap: TreeSnap,
        conflict: Conflict,
    ) -> Result<String, GraphError> {
        self.require_folder(parent)?;
        let (name, existing) = self.plan_name(parent, name, conflict)?;
        if let Some(e) = existing {
            for r in self.unlink_and_remove(&e) {
                self.remove_content(&r);
            }
        }
        let id = self.write_snap(parent, &name, snap)?;
        self.persist()?;
        Ok(id)
    }

    /// Write the nodes of `snap` (parents come first), the top one as `name` under `parent`.
    fn write_snap(
        &mut self,
        parent: &str,
        name: &str,
        snap: TreeSnap,
    ) -> Result<String, GraphError> {
        let mut ids: Vec<String> = Vec::with_capacity(snap.nodes.len());
        for node in snap.nodes {
            let (under, n) = match node.parent {
                Some(p) => (ids[p].clone(), node.name.as_str()),
                None => (parent.to_string(), name),
            };
            let id = match node.file {
                Some((content, mime)) => {
                    let (kind, staged) = Self::file_kind(content, &mime);
                    let id = self.insert_new(&under, n, kind);
                    self.place(&id, staged)?;
                    id
                }
                None => self.insert_new(
                    &under,
                    n,
                    Kind::Folder {
                        children: BTreeMap::new(),
                    },
                ),
            };
            ids.push(id);
        }
        Ok(ids.into_iter().next().unwrap_or_default())
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
