//! `PATCH` an item: move and rename.

use crate::addr::{
    Action, Addr, check_if_match, conflict_from, item_response, parse_item, read_json,
    resolve_drive, resolve_existing,
};
use crate::state::Ctx;
use crate::state::HResult;
use crate::store::{Conflict, Store, cross_drive};
use crate::util::GraphError;
use serde_json::Value;

/// The folder a PATCH body's `parentReference` names (`id`, else `path` such as
/// `/drive/root:/a/b` or `/drives/{id}/root:/a`, taken as written: not percent-decoded),
/// in the item's drive `drive_id`: another drive is 400.
fn patch_parent(store: &Store, drive_id: &str, pref: &Value) -> Result<String, GraphError> {
    let field = |k: &str| -> Result<Option<&str>, GraphError> {
        match pref.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(GraphError::bad_request(format!(
                "parentReference.{k} must be a string."
            ))),
        }
    };
    if let Some(d) = field("driveId")? {
        if !d.eq_ignore_ascii_case(drive_id) {
            return Err(cross_drive());
        }
    }
    if let Some(id) = field("id")? {
        return match store.get(id) {
            Some(it) if it.drive_id != drive_id => Err(cross_drive()),
            _ => Ok(store.item_in_drive(drive_id, id)?.id.clone()),
        };
    }
    let Some(path) = field("path")? else {
        return Err(GraphError::bad_request(
            "parentReference needs an id or a path.",
        ));
    };
    let (target_drive, rest) = resolve_drive(store, path.trim_start_matches('/'))?;
    if !target_drive.eq_ignore_ascii_case(drive_id) {
        return Err(cross_drive());
    }
    match parse_item(&rest)? {
        Some((addr, Action::None)) => resolve_existing(store, drive_id, &addr),
        _ => Err(GraphError::bad_request(format!(
            "parentReference.path does not name a folder: '{path}'."
        ))),
    }
}

/// `PATCH` an item: move it (`parentReference`) and/or rename it (`name`), with
/// `@microsoft.graph.conflictBehavior` (default fail) and `If-Match`; 200 with the item.
pub(crate) async fn patch(ctx: &mut Ctx, drive_id: &str, addr: &Addr) -> HResult {
    let body = read_json(ctx, true).await?.unwrap_or_default();
    let conflict = conflict_from(ctx, Some(&body), Conflict::Fail)?;
    let name = match body.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) => Some(n.clone()),
        Some(_) => return Err(GraphError::bad_request("name must be a string.").into()),
    };
    let pref = match body.get("parentReference") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v),
        Some(_) => {
            return Err(GraphError::bad_request("parentReference must be an object.").into());
        }
    };
    if name.is_none() && pref.is_none() {
        return Err(GraphError::bad_request(
            "Nothing to change: give a name and/or a parentReference.",
        )
        .into());
    }
    let mut store = ctx.shared.store();
    let id = resolve_existing(&store, drive_id, addr)?;
    check_if_match(ctx, &store, &id)?;
    let it = store.get(&id).ok_or_else(GraphError::not_found)?;
    let (item_drive, current_parent, current_name) =
        (it.drive_id.clone(), it.parent_id.clone(), it.name.clone());
    let new_parent = match pref {
        Some(p) => patch_parent(&store, &item_drive, p)?,
        None => current_parent.ok_or_else(|| {
            GraphError::bad_request("The root folder of a drive cannot be moved or renamed.")
        })?,
    };
    let name = name.unwrap_or(current_name);
    store.move_item(&id, &new_parent, &name, conflict)?;
    item_response(ctx, &store, &id, 200)
}
