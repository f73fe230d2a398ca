//! The end of an upload: the item the service made against what was read.

use super::error::{Error, ErrorKind, Result};
use super::hash::{Digests, Hashes};
use super::item::Item;

/// Compares the item the service made with what was read (the hashes of
/// the whole file; they stay as they are for another look).
pub(crate) fn verify(item: Item, total: u64, hashes: &Hashes) -> Result<Item> {
    let Digests {
        quick_xor,
        sha1,
        sha256,
    } = hashes.clone().finish();
    let mismatch = |what: &str, ours: &str, theirs: &str| {
        Err(Error::new(
            ErrorKind::HashMismatch,
            format!("the uploaded file's {what} is {theirs}, the source's is {ours}"),
        ))
    };
    if item.size() != Some(total) {
        return mismatch("size", &total.to_string(), &format!("{:?}", item.size()));
    }
    if let Some(theirs) = item.quick_xor_hash()
        && theirs != quick_xor
    {
        return mismatch("quickXorHash", &quick_xor, theirs);
    }
    for (what, ours, theirs) in [
        ("sha1Hash", sha1, item.sha1_hash()),
        ("sha256Hash", sha256, item.sha256_hash()),
    ] {
        if let (Some(ours), Some(theirs)) = (ours, theirs)
            && !ours.eq_ignore_ascii_case(theirs)
        {
            return mismatch(what, &ours, theirs);
        }
    }
    Ok(item)
}
