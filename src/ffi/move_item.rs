//! Moving and renaming an item from C.

use std::ffi::c_char;

use crate::graph::manage::MoveOptions;

use super::args::{conflict_arg, drive_arg, item_arg, with_control};
use super::boundary::{ffi_new, handle_arg, opt_handle_arg, opt_str_arg};
use super::cancel::od_cancel;
use super::client::od_client;
use super::item::od_item;
use super::status::od_status;

/// Moves and/or renames an item (`PATCH …/items/{id}`) and gives it back
/// as it is now.
///
/// - `drive`: the item's drive prefix; NULL = `/me/drive`.
/// - `item`: required: `/a/b.txt`, an id, or `ID:/rel`; the root is
///   `OD_ERR_INVALID_ARGUMENT`.
/// - `dest_parent`: the new parent folder (`/`, `/a/b`, an id, `ID:/rel`,
///   as for `od_copy`), NULL to stay in the same folder.
/// - `dest_drive_id`: NULL for the item's drive. Graph does not move items
///   between drives: an id other than the one `drive` names
///   (`/drives/ID`) is `OD_ERR_NOT_SUPPORTED` before any request (copy,
///   then delete).
/// - `new_name`: NULL to keep the name; names the service forbids give
///   `OD_ERR_INVALID_NAME` before any request. `dest_parent` and
///   `new_name` both NULL is `OD_ERR_INVALID_ARGUMENT`.
/// - `conflict`: an `od_conflict`: a name in use with `OD_CONFLICT_FAIL`
///   is `OD_ERR_CONFLICT`; `OD_CONFLICT_REPLACE` replaces what is there,
///   `OD_CONFLICT_RENAME` gives the item a free name ("name 1.txt");
///   `OD_CONFLICT_DEFAULT` sends nothing (the service decides).
/// - `if_match`: optional (NULL): an eTag (or cTag) read earlier; an item
///   changed since is not moved: `OD_ERR_CONFLICT`.
/// - `cancel`: optional (NULL).
/// - `out_item`: receives the moved item on `OD_OK`; free it with
///   `od_item_free`.
///
/// A folder moved into itself or its own subtree is refused by the
/// service: `OD_ERR_BAD_REQUEST` (or `OD_ERR_CONFLICT`, as the service
/// words it). Blocking: one request (two with a destination given by a
/// path or `ID:/rel`, read first to find its id), the move never repeated after the service may
/// have acted on it: when its answer is lost the call gives
/// `OD_ERR_NETWORK` or `OD_ERR_TIMEOUT` and the item may or may not have
/// moved (the last error's message says so): read it by its id, which a
/// move does not change, to know. Any thread.
///
/// # Safety
/// Pointers must be NULL or valid NUL-terminated strings / live handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_move(
    client: *const od_client,
    drive: *const c_char,
    item: *const c_char,
    dest_parent: *const c_char,
    dest_drive_id: *const c_char,
    new_name: *const c_char,
    conflict: i32,
    if_match: *const c_char,
    cancel: *const od_cancel,
    out_item: *mut *mut od_item,
) -> od_status {
    // SAFETY: the caller's pointers are NULL or valid.
    unsafe {
        ffi_new(out_item, "out_item", || {
            let (client, drive, item, dest_parent, dest_drive_id, new_name, if_match, cancel) = (
                handle_arg(client, "client")?,
                drive_arg(drive)?,
                item_arg(item, "item")?,
                match opt_str_arg(dest_parent, "dest_parent")? {
                    Some(_) => Some(item_arg(dest_parent, "dest_parent")?),
                    None => None,
                },
                opt_str_arg(dest_drive_id, "dest_drive_id")?,
                opt_str_arg(new_name, "new_name")?,
                opt_str_arg(if_match, "if_match")?,
                opt_handle_arg(cancel),
            );
            let opts = MoveOptions {
                dest_parent,
                dest_drive_id: dest_drive_id.map(str::to_owned),
                name: new_name.map(str::to_owned),
                conflict: conflict_arg(conflict)?,
                if_match: if_match.map(str::to_owned),
            };
            let moved = with_control(None, std::ptr::null_mut(), cancel, |ctl| {
                client.client.move_item(&drive, &item, &opts, ctl)
            })?;
            Ok(od_item::new(moved))
        })
    }
}
