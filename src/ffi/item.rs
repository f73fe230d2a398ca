//! `od_item`: a driveItem handed out to C, with borrowed string accessors.

use std::ffi::{CString, c_char};
use std::ptr;
use std::sync::OnceLock;

use crate::graph::control::Control;
use crate::graph::item::Item;

use super::args::{conflict_arg, drive_arg, flags_arg, item_arg, with_control};
use super::boundary::{
    ffi_call, ffi_new, free_box, handle_arg, opt_handle_arg, opt_str_arg, str_arg, with_handle,
};
use super::cancel::od_cancel;
use super::client::od_client;
use super::status::od_status;

/// A driveItem (file or folder) as the service returned it. Opaque.
/// Immutable: any number of threads may read one at once. Its strings are
/// borrowed: valid until `od_item_free`, never freed by the caller.
///
/// Methods:
/// - `od_item_id`, `od_item_name`, `od_item_etag`, `od_item_ctag`,
///   `od_item_drive_id`, `od_item_parent_id`, `od_item_quick_xor_hash`,
///   `od_item_last_modified`, `od_item_json`: borrowed strings;
///   `od_item_size`, `od_item_child_count`, `od_item_is_folder`.
/// - `od_item_free`: frees it and its strings.
/// - `od_item_delete` deletes an item by reference.
pub struct od_item {
    pub(crate) item: Item,
    /// The C strings handed out, made on first use (most callers read few).
    strings: [OnceLock<Option<CString>>; FIELDS],
}

/// The string fields, by their index in `od_item::strings`.
#[derive(Clone, Copy)]
enum Field {
    Id,
    Name,
    ETag,
    CTag,
    DriveId,
    ParentId,
    QuickXorHash,
    Json,
    LastModified,
}
const FIELDS: usize = 9;

impl od_item {
    pub(crate) fn new(item: Item) -> od_item {
        od_item {
            item,
            strings: Default::default(),
        }
    }

    /// A borrowed C string of the field; NULL when absent. Text with a NUL
    /// in it cannot go to C: an id reads as "", other fields as absent.
    fn get(&self, f: Field) -> *const c_char {
        let i = &self.item;
        self.strings[f as usize]
            .get_or_init(|| {
                let text = match f {
                    Field::Id => return Some(CString::new(i.id()).unwrap_or_default()),
                    Field::Name => i.name(),
                    Field::ETag => i.etag(),
                    Field::CTag => i.ctag(),
                    Field::DriveId => i.drive_id(),
                    Field::ParentId => i.parent_id(),
                    Field::QuickXorHash => i.quick_xor_hash(),
                    Field::Json => Some(i.raw_json()),
                    Field::LastModified => i.last_modified(),
                };
                text.and_then(|t| CString::new(t).ok())
            })
            .as_ref()
            .map_or(std::ptr::null(), |s| s.as_ptr())
    }
}

/// A count for C: -1 when absent (or beyond `i64`).
fn count(n: Option<u64>) -> i64 {
    n.and_then(|n| i64::try_from(n).ok()).unwrap_or(-1)
}

/// The item's id. Borrowed from the item (valid until `od_item_free`);
/// NULL when `item` is NULL. Any thread.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_id(item: *const od_item) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { with_handle(item, ptr::null(), |i| i.get(Field::Id)) }
}

/// The item's name; borrowed; NULL when absent or `item` is NULL.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_name(item: *const od_item) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { with_handle(item, ptr::null(), |i| i.get(Field::Name)) }
}

/// The item's eTag; borrowed; NULL when absent or `item` is NULL.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_etag(item: *const od_item) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { with_handle(item, ptr::null(), |i| i.get(Field::ETag)) }
}

/// The item's cTag (changes with the content only); borrowed; NULL when
/// absent or `item` is NULL.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_ctag(item: *const od_item) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { with_handle(item, ptr::null(), |i| i.get(Field::CTag)) }
}

/// The id of the drive holding the item (`parentReference.driveId`);
/// borrowed; NULL when absent or `item` is NULL.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_drive_id(item: *const od_item) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { with_handle(item, ptr::null(), |i| i.get(Field::DriveId)) }
}

/// The id of the item's parent folder; borrowed; NULL when absent (the
/// root) or `item` is NULL.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_parent_id(item: *const od_item) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { with_handle(item, ptr::null(), |i| i.get(Field::ParentId)) }
}

/// The file's quickXorHash (base64), the one hash every drive reports;
/// borrowed; NULL for folders, when absent, or when `item` is NULL.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_quick_xor_hash(item: *const od_item) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { with_handle(item, ptr::null(), |i| i.get(Field::QuickXorHash)) }
}

/// When the item last changed: `lastModifiedDateTime` as the service
/// wrote it (ISO 8601 in UTC, e.g. "2026-01-02T03:04:05Z"); borrowed; NULL
/// when absent or `item` is NULL. Any thread.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_last_modified(item: *const od_item) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { with_handle(item, ptr::null(), |i| i.get(Field::LastModified)) }
}

/// How many children a folder holds (`folder.childCount`), or -1 for a
/// file, when absent, or when `item` is NULL. Any thread.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_child_count(item: *const od_item) -> i64 {
    // SAFETY: forwarded from the caller.
    unsafe { with_handle(item, -1, |i| count(i.item.child_count())) }
}

/// The whole driveItem as the service sent it (JSON text); borrowed; NULL
/// when `item` is NULL.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_json(item: *const od_item) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { with_handle(item, ptr::null(), |i| i.get(Field::Json)) }
}

/// The item's size in bytes, or -1 when absent or `item` is NULL.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_size(item: *const od_item) -> i64 {
    // SAFETY: forwarded from the caller.
    unsafe { with_handle(item, -1, |i| count(i.item.size())) }
}

/// Whether the item is a folder (false when `item` is NULL).
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_is_folder(item: *const od_item) -> bool {
    // SAFETY: forwarded from the caller.
    unsafe { with_handle(item, false, |i| i.item.is_folder()) }
}

/// Frees an item and every string borrowed from it. NULL is ignored.
///
/// # Safety
/// `item` must be NULL or an item from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_free(item: *mut od_item) {
    // SAFETY: forwarded from the caller.
    unsafe { free_box(item) }
}

/// Reads an item's metadata (`GET …/items/{id}` or `…/root:/path:`).
///
/// - `drive`: NULL = `/me/drive`; `item` required.
/// - `out_item`: receives the item on `OD_OK`; free it with `od_item_free`.
///
/// Blocking. Any thread.
///
/// # Safety
/// Pointers must be NULL or valid NUL-terminated strings / live handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_get(
    client: *const od_client,
    drive: *const c_char,
    item: *const c_char,
    out_item: *mut *mut od_item,
) -> od_status {
    // SAFETY: the caller's pointers are NULL or valid.
    unsafe {
        ffi_new(out_item, "out_item", || {
            let (client, drive, item) = (
                handle_arg(client, "client")?,
                drive_arg(drive)?,
                item_arg(item, "item")?,
            );
            let found = client.client.item(&drive, &item, &mut Control::none())?;
            Ok(od_item::new(found))
        })
    }
}

/// `od_folder_create` flag: work as `mkdir -p`: create the folders of the
/// path that do not exist yet, keep existing ones (the folder `name` too,
/// which is then returned as it is).
pub const OD_FOLDER_PARENTS: u32 = 1;

/// Creates the folder `name` in the folder `parent` and gives it back
/// (`POST …/children` with a `folder` facet).
///
/// - `drive`: NULL = `/me/drive`.
/// - `parent`: required: `/`, `/a/b`, an id, or `ID:/rel`.
/// - `name`: required; names the service forbids give
///   `OD_ERR_INVALID_NAME` before any request.
/// - `conflict`: an `od_conflict`; the service's default for folders is
///   fail: a name in use is `OD_ERR_CONFLICT`. `OD_CONFLICT_RENAME` makes
///   "name 1"; `OD_CONFLICT_REPLACE` replaces what is there.
/// - `flags`: 0, or `OD_FOLDER_PARENTS`: as `mkdir -p`, existing folders
///   on the way and `name` itself are kept (`conflict` is then not used);
///   a file in the way is `OD_ERR_CONFLICT`. A folder POST whose answer
///   was lost is not repeated: the folder is looked up and taken if there.
/// - `cancel`: optional (NULL).
/// - `out_item`: receives the folder on `OD_OK`; free it with `od_item_free`.
///
/// Blocking: one request (a few more with `OD_FOLDER_PARENTS`), none
/// repeated after the service may have acted on it. Any thread.
///
/// # Safety
/// Pointers must be NULL or valid NUL-terminated strings / live handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_folder_create(
    client: *const od_client,
    drive: *const c_char,
    parent: *const c_char,
    name: *const c_char,
    conflict: i32,
    flags: u32,
    cancel: *const od_cancel,
    out_item: *mut *mut od_item,
) -> od_status {
    // SAFETY: the caller's pointers are NULL or valid.
    unsafe {
        ffi_new(out_item, "out_item", || {
            let (client, drive, parent, name, cancel) = (
                handle_arg(client, "client")?,
                drive_arg(drive)?,
                item_arg(parent, "parent")?,
                str_arg(name, "name")?,
                opt_handle_arg(cancel),
            );
            let conflict = conflict_arg(conflict)?;
            let flags = flags_arg(flags, OD_FOLDER_PARENTS, "flags")?;
            let made = with_control(None, std::ptr::null_mut(), cancel, |ctl| {
                client.client.create_folder(
                    &drive,
                    &parent,
                    name,
                    conflict,
                    flags & OD_FOLDER_PARENTS != 0,
                    ctl,
                )
            })?;
            Ok(od_item::new(made))
        })
    }
}

/// Deletes an item: a file, or a folder with everything in it (to the
/// drive's recycle bin). `OD_OK` once the service answered 204.
///
/// - `drive`: NULL = `/me/drive`.
/// - `item`: required: `/a/b.txt`, an id, or `ID:/rel`; the root is
///   `OD_ERR_INVALID_ARGUMENT`.
/// - `if_match`: optional (NULL): an eTag (or cTag) read earlier, e.g. with
///   `od_item_etag`; when the item has changed since, it is not deleted:
///   `OD_ERR_CONFLICT`.
/// - `cancel`: optional (NULL).
///
/// A missing item is `OD_ERR_NOT_FOUND`. Blocking: one request, not
/// repeated after the service may have acted on it (a lost answer is
/// `OD_ERR_NETWORK`, never a false `OD_ERR_NOT_FOUND`). Any thread.
///
/// # Safety
/// Pointers must be NULL or valid NUL-terminated strings / live handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_delete(
    client: *const od_client,
    drive: *const c_char,
    item: *const c_char,
    if_match: *const c_char,
    cancel: *const od_cancel,
) -> od_status {
    ffi_call(|| {
        // SAFETY: the caller's pointers are NULL or valid.
        let (client, drive, item, if_match, cancel) = unsafe {
            (
                handle_arg(client, "client")?,
                drive_arg(drive)?,
                item_arg(item, "item")?,
                opt_str_arg(if_match, "if_match")?,
                opt_handle_arg(cancel),
            )
        };
        with_control(None, std::ptr::null_mut(), cancel, |ctl| {
            client.client.delete_item(&drive, &item, if_match, ctl)
        })?;
        Ok(())
    })
}
