//! `od_item`: a driveItem handed out to C, with borrowed string accessors.

use std::ffi::{CString, c_char};

use crate::graph::item::Item;

use super::boundary::{free_box, guard_value};

/// A driveItem (file or folder) as the service returned it. Opaque.
/// Immutable: any number of threads may read one at once. Its strings are
/// borrowed: valid until `od_item_free`, never freed by the caller.
pub struct od_item {
    pub(crate) item: Item,
    id: CString,
    name: Option<CString>,
    etag: Option<CString>,
    ctag: Option<CString>,
    drive_id: Option<CString>,
    parent_id: Option<CString>,
    quick_xor_hash: Option<CString>,
    json: CString,
}

fn c(s: Option<&str>) -> Option<CString> {
    s.and_then(|s| CString::new(s).ok())
}

impl od_item {
    pub(crate) fn new(item: Item) -> od_item {
        od_item {
            // An id with a NUL in it cannot be handed to C; it reads as "".
            id: CString::new(item.id()).unwrap_or_default(),
            name: c(item.name()),
            etag: c(item.etag()),
            ctag: c(item.ctag()),
            drive_id: c(item.drive_id()),
            parent_id: c(item.parent_id()),
            quick_xor_hash: c(item.quick_xor_hash()),
            // serde_json escapes NUL as \u0000, so this cannot fail.
            json: CString::new(item.json().to_string()).unwrap_or_default(),
            item,
        }
    }
}

fn ptr(s: Option<&CString>) -> *const c_char {
    s.map_or(std::ptr::null(), |s| s.as_ptr())
}

/// Reads a borrowed string field of an item, NULL when the item is NULL.
///
/// # Safety
/// `item` must be NULL or a live item.
unsafe fn field(item: *const od_item, f: impl FnOnce(&od_item) -> *const c_char) -> *const c_char {
    // SAFETY: forwarded from the caller.
    guard_value(std::ptr::null(), || {
        unsafe { item.as_ref() }.map_or(std::ptr::null(), f)
    })
}

/// The item's id. Borrowed from the item (valid until `od_item_free`);
/// NULL when `item` is NULL. Any thread.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_id(item: *const od_item) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(item, |i| i.id.as_ptr()) }
}

/// The item's name; borrowed; NULL when absent or `item` is NULL.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_name(item: *const od_item) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(item, |i| ptr(i.name.as_ref())) }
}

/// The item's eTag; borrowed; NULL when absent or `item` is NULL.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_etag(item: *const od_item) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(item, |i| ptr(i.etag.as_ref())) }
}

/// The item's cTag (changes with the content only); borrowed; NULL when
/// absent or `item` is NULL.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_ctag(item: *const od_item) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(item, |i| ptr(i.ctag.as_ref())) }
}

/// The id of the drive holding the item (`parentReference.driveId`);
/// borrowed; NULL when absent or `item` is NULL.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_drive_id(item: *const od_item) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(item, |i| ptr(i.drive_id.as_ref())) }
}

/// The id of the item's parent folder; borrowed; NULL when absent (the
/// root) or `item` is NULL.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_parent_id(item: *const od_item) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(item, |i| ptr(i.parent_id.as_ref())) }
}

/// The file's quickXorHash (base64), the one hash every drive reports;
/// borrowed; NULL for folders, when absent, or when `item` is NULL.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_quick_xor_hash(item: *const od_item) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(item, |i| ptr(i.quick_xor_hash.as_ref())) }
}

/// The whole driveItem as the service sent it (JSON text); borrowed; NULL
/// when `item` is NULL.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_json(item: *const od_item) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(item, |i| i.json.as_ptr()) }
}

/// The item's size in bytes, or -1 when absent or `item` is NULL.
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_size(item: *const od_item) -> i64 {
    guard_value(-1, || {
        // SAFETY: forwarded from the caller.
        unsafe { item.as_ref() }
            .and_then(|i| i.item.size())
            .and_then(|s| i64::try_from(s).ok())
            .unwrap_or(-1)
    })
}

/// Whether the item is a folder (false when `item` is NULL).
///
/// # Safety
/// `item` must be NULL or a live item.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_is_folder(item: *const od_item) -> bool {
    // SAFETY: forwarded from the caller.
    guard_value(false, || {
        unsafe { item.as_ref() }.is_some_and(|i| i.item.is_folder())
    })
}

/// Frees an item and every string borrowed from it. NULL is ignored.
///
/// # Safety
/// `item` must be NULL or an item from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_item_free(item: *mut od_item) {
    // SAFETY: forwarded from the caller.
    guard_value((), || unsafe { free_box(item) })
}
