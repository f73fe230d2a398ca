//! The data directory: `metadata.json` (loaded and validated at start, written after each
//! change outside the store lock) and `content/{id}`.

use super::{DriveRec, Identity, ItemRec, Kind, Store, key, validate_name};
use crate::config::Profile;
use crate::content::{Content, Staged};
use crate::util::GraphError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

/// A metadata snapshot to write after the store lock is released: `seq` orders them
/// (an older one never overwrites a newer one); `removed` names content files to delete.
pub(crate) struct PersistJob {
    pub seq: u64,
    pub meta: Vec<u8>,
    pub removed: Vec<String>,
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

/// What the emulator writes at the top of a data directory: files, and directories.
const DATA_FILES: [&str; 3] = ["metadata.json", "metadata.json.tmp", "emulator-ca.pem"];
const DATA_DIRS: [&str; 2] = ["content", crate::content::SPOOL_DIR_NAME];

/// Whether `name` in `content/` is one the emulator makes: `{id}`, `{id}.tmp` (being
/// written) or `.pending-{token}` (staged).
fn is_content_file(name: &str) -> bool {
    let id = name.strip_suffix(".tmp").unwrap_or(name);
    name.strip_prefix(".pending-")
        .is_some_and(|t| check_id(t).is_ok())
        || check_id(id).is_ok()
}

/// A data directory may be missing, empty, or hold what an earlier emulator wrote there
/// and nothing else: the emulator removes files of its own in it, so it refuses a
/// directory that holds any it does not recognise (`--data-dir ~` would otherwise mix
/// the drive with the user's files), with a message naming them.
pub(crate) fn check_data_dir(dir: &Path) -> io::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the data directory {} is not a directory", dir.display()),
        ));
    }
    let is_dir = |e: &std::fs::DirEntry| e.file_type().is_ok_and(|t| t.is_dir());
    let is_file = |e: &std::fs::DirEntry| e.file_type().is_ok_and(|t| t.is_file());
    let foreign = crate::content::foreign_entries(dir, |e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        (DATA_FILES.contains(&name.as_ref()) && is_file(e))
            || (DATA_DIRS.contains(&name.as_ref()) && is_dir(e))
    })?;
    if !foreign.is_empty() {
        return Err(crate::content::foreign_error(dir, &foreign));
    }
    let content = dir.join("content");
    if content.is_dir() {
        let foreign = crate::content::foreign_entries(&content, |e| {
            is_file(e) && is_content_file(&e.file_name().to_string_lossy())
        })?;
        if !foreign.is_empty() {
            return Err(crate::content::foreign_error(&content, &foreign));
        }
    }
    Ok(())
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

    pub(super) fn load(dir: &Path, spool: &Path) -> io::Result<Store> {
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
    pub(super) fn validate(&self) -> Result<(), String> {
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

    /// metadata.json's bytes.
    pub(super) fn meta_bytes(&self) -> io::Result<Vec<u8>> {
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
    pub(super) fn save_meta(&self) -> io::Result<()> {
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
    pub(super) fn place(&mut self, id: &str, staged: Option<Staged>) -> Result<(), GraphError> {
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

    pub(super) fn remove_content(&mut self, id: &str) {
        if self.data_dir.is_some() {
            self.removed.push(id.to_string());
        }
    }

    /// The metadata changed: a snapshot is written when the lock is released.
    pub(super) fn persist(&mut self) -> Result<(), GraphError> {
        self.dirty = true;
        Ok(())
    }
}
