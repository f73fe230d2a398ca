//! Changes to the tree: create, upload, replace, delete, move, copy (snapshots), seed, reset.

use super::{
    Conflict, ItemRec, Kind, SnapNode, Store, TreeSnap, cross_drive, key, now, renamed,
    validate_name,
};
use crate::content::{Content, FileContent, Staged};
use crate::util::{self, GraphError};
use std::collections::BTreeMap;

impl Store {
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

    pub(super) fn require_folder(&self, id: &str) -> Result<(), GraphError> {
        match self.items.get(id) {
            Some(it) if it.is_folder() => Ok(()),
            Some(_) => Err(GraphError::bad_request("The parent item is not a folder.")),
            None => Err(GraphError::not_found()),
        }
    }

    pub(super) fn touch(&mut self, id: &str) {
        let t = now();
        if let Some(it) = self.items.get_mut(id) {
            it.version += 1;
            it.modified = t;
        }
    }

    pub(super) fn insert_new(&mut self, parent: &str, name: &str, kind: Kind) -> String {
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
    pub(super) fn file_kind(fc: FileContent, mime: &str) -> (Kind, Option<Staged>) {
        let kind = Kind::File {
            size: fc.size(),
            hashes: fc.hashes,
            mime: mime.to_string(),
            content: fc.content,
        };
        (kind, fc.staged)
    }

    /// Remove the subtree at `id` from the item map (iterative: trees may be very deep).
    pub(super) fn remove_tree(&mut self, id: &str, removed: &mut Vec<String>) {
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

    pub(super) fn unlink_and_remove(&mut self, id: &str) -> Vec<String> {
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

    /// Unlink the subtree at `id` and drop it (its content files go with the next snapshot).
    fn remove_subtree(&mut self, id: &str) {
        for r in self.unlink_and_remove(id) {
            self.remove_content(&r);
        }
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
        self.remove_subtree(id);
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

    /// The name a new item takes in the folder `parent`, the item of that name removed
    /// first with `Replace`.
    fn clear_name(
        &mut self,
        parent: &str,
        name: &str,
        conflict: Conflict,
    ) -> Result<String, GraphError> {
        self.require_folder(parent)?;
        let (name, existing) = self.plan_name(parent, name, conflict)?;
        if let Some(e) = existing {
            self.remove_subtree(&e);
        }
        Ok(name)
    }

    /// Create a folder; returns (id, created). With `Replace` an existing folder is replaced by a new, empty one.
    pub fn create_folder(
        &mut self,
        parent: &str,
        name: &str,
        conflict: Conflict,
    ) -> Result<String, GraphError> {
        let name = self.clear_name(parent, name, conflict)?;
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
    pub(super) fn is_within(&self, id: &str, ancestor: &str) -> bool {
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
                    self.remove_subtree(&existing);
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
        let name = self.clear_name(parent, name, conflict)?;
        let id = self.write_snap(parent, &name, snap)?;
        self.persist()?;
        Ok(id)
    }

    /// Write the nodes of `snap` (parents come first), the top one as `name` under `parent`.
    pub(super) fn write_snap(
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
