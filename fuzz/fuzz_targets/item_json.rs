//! driveItem JSON (`Item::from_slice`): no panic; an accepted item has a
//! non-empty id, keeps the text it came as, and reads back the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use onedrive_native::Item;

fuzz_target!(|data: &[u8]| {
    let Ok(item) = Item::from_slice(data) else {
        return;
    };
    assert!(!item.id().is_empty());
    // Accepted JSON is UTF-8: the raw text is the body, byte for byte.
    assert_eq!(item.raw_json().as_bytes(), data);
    let _ = (
        item.name(),
        item.size(),
        item.etag(),
        item.ctag(),
        item.web_url(),
    );
    let _ = (item.drive_id(), item.parent_id(), item.is_folder());
    let _ = (item.quick_xor_hash(), item.sha1_hash(), item.sha256_hash());
    let again = Item::from_json(item.json().clone()).expect("an item's own JSON");
    assert_eq!(again.id(), item.id());
});
