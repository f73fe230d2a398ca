//! The JSON of items and drives, as Graph answers them.

use super::{DriveRec, Kind, OwnerKind, Store};
use crate::config::Profile;
use crate::util;
use serde_json::{Value, json};

impl Store {
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
}
