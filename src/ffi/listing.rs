//! Listing a folder's children from C: open, next, free.

use std::ffi::c_char;
use std::sync::{Mutex, PoisonError};

use crate::graph::listing::Listing;

use super::args::{drive_arg, item_arg, with_control};
use super::boundary::{Out, ffi_call, ffi_new, free_box, handle_arg, into_raw, opt_handle_arg};
use super::cancel::od_cancel;
use super::client::od_client;
use super::item::od_item;
use super::status::od_status;

/// The children of a folder, read one by one with `od_list_next`. Opaque.
/// Holds at most one page of items; the next page is fetched when the
/// current one is used up. Calls on one listing are serialised (a second
/// thread calling `od_list_next` at the same time waits for the first).
///
/// Methods:
/// - `od_list_open`: makes one (nothing sent yet).
/// - `od_list_next`: the next child, NULL at the end.
/// - `od_list_free`: frees it (the items it gave stay valid).
pub struct od_listing {
    listing: Mutex<Listing>,
}

/// Opens a listing of the children of the folder `item`. Nothing is sent
/// yet: the first `od_list_next` fetches the first page, so a folder that
/// does not exist shows there (`OD_ERR_NOT_FOUND`).
///
/// - `drive`: NULL = `/me/drive`.
/// - `item`: required: the folder (`/`, `/a/b`, an id, or `ID:/rel`).
/// - `page_size`: the number of children asked for per page (`$top`); 0 =
///   the service's default (200 on Graph). The service may give fewer.
/// - `out_listing`: receives the listing on `OD_OK`; free it with
///   `od_list_free`.
///
/// Not blocking. Any thread.
///
/// # Safety
/// Pointers must be NULL or valid NUL-terminated strings / live handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_list_open(
    client: *const od_client,
    drive: *const c_char,
    item: *const c_char,
    page_size: u32,
    out_listing: *mut *mut od_listing,
) -> od_status {
    // SAFETY: the caller's pointers are NULL or valid.
    unsafe {
        ffi_new(out_listing, "out_listing", || {
            let (client, drive, item) = (
                handle_arg(client, "client")?,
                drive_arg(drive)?,
                item_arg(item, "item")?,
            );
            let listing =
                client
                    .client
                    .list_children(&drive, &item, (page_size > 0).then_some(page_size))?;
            Ok(od_listing {
                listing: Mutex::new(listing),
            })
        })
    }
}

/// The next child of a listing. `OD_OK` with `*out_item` set to the item
/// (free it with `od_item_free`), or `OD_OK` with `*out_item` NULL at the
/// end (and on every call after it).
///
/// Fetching a page follows the client's retries and timeouts. A next page
/// on another host than the API's is refused (`OD_ERR_PROTOCOL`, the token
/// never sent there), and so is the same next page named twice (a loop).
/// After any other error the listing is over: later calls give `OD_OK` and
/// NULL. After `OD_ERR_CANCELLED` the same page can be asked for again.
///
/// - `listing`, `out_item`: required.
/// - `cancel`: optional (NULL).
///
/// Blocking when a page is fetched. Any thread (one call at a time per
/// listing; others wait).
///
/// # Safety
/// Pointers must be NULL or live handles; `out_item` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_list_next(
    listing: *mut od_listing,
    cancel: *const od_cancel,
    out_item: *mut *mut od_item,
) -> od_status {
    ffi_call(|| {
        let out = Out::new(out_item, "out_item")?;
        // SAFETY: the caller's pointers are NULL or valid.
        let (listing, cancel) =
            unsafe { (handle_arg(listing, "listing")?, opt_handle_arg(cancel)) };
        let mut listing = listing
            .listing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let next = with_control(None, std::ptr::null_mut(), cancel, |ctl| listing.next(ctl))?;
        let ptr = next.map_or(std::ptr::null_mut(), |i| into_raw(od_item::new(i)));
        // SAFETY: checked non-NULL; writable as the caller promises.
        unsafe { out.write(ptr) };
        Ok(())
    })
}

/// Frees a listing (the items it gave stay valid). NULL is ignored.
///
/// # Safety
/// `listing` must be NULL or a listing not yet freed, not in use by
/// another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_list_free(listing: *mut od_listing) {
    // SAFETY: forwarded from the caller.
    unsafe { free_box(listing) }
}
