//! Addressing (`Drive::parse`, `ItemRef::parse`, `validate_name`,
//! `encode_segment`): no URL path built from input holds a raw `/`, `?`
//! or `#` inside a segment, or a dot segment; encoding is injective (each
//! segment decodes back to what was given).
#![no_main]
use libfuzzer_sys::fuzz_target;
use onedrive_native::graph::address::encode_segment;
use onedrive_native::{Drive, ItemRef, validate_name};

fn decode(seg: &str) -> Vec<u8> {
    let b = seg.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).expect("two hex digits");
            out.push(u8::from_str_radix(hex, 16).expect("hex"));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// An encoded segment: only unreserved characters, `%XX`, and the id
/// characters kept readable; never empty or a dot segment.
fn check_encoded(enc: &str, original: &str) {
    assert!(
        !enc.is_empty() && enc != "." && enc != "..",
        "{original:?} -> {enc:?}"
    );
    assert!(
        enc.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%!,@".contains(&b)),
        "{original:?} -> {enc:?}"
    );
    assert_eq!(decode(enc), original.as_bytes(), "{original:?} -> {enc:?}");
}

/// Checks every segment of `path` (a URL path below the API root, `:`
/// marking path-relative addressing) against the items it should hold.
fn check_path(path: &str, want: &[&str]) {
    assert!(!path.contains(['?', '#']), "{path:?}");
    let segs: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches(':'))
        .collect();
    for s in &segs {
        assert!(*s != "." && *s != "..", "dot segment in {path:?}");
    }
    // The wanted segments appear, in order, at the end of the path.
    let tail = &segs[segs.len() - want.len()..];
    for (enc, orig) in tail.iter().zip(want) {
        check_encoded(enc, orig);
    }
}

fuzz_target!(|input: (&str, &str, &str)| {
    let (drive, item, name) = input;
    // Any string: the encoding alone is injective and separator-free.
    let enc = encode_segment(name);
    assert_eq!(decode(&enc), name.as_bytes());
    assert!(!enc.contains(['/', '?', '#']));
    if validate_name(name).is_ok() {
        check_encoded(&enc, name);
    }
    if let Ok(d) = Drive::parse(drive) {
        let prefix = d.prefix();
        match &d {
            Drive::Id(id) | Drive::Group(id) | Drive::Site(id) | Drive::User(id) => {
                let seg = prefix.split('/').nth(2).unwrap();
                check_encoded(seg, id);
            }
            Drive::Me | Drive::Legacy => {}
        }
        assert!(!prefix.contains(['?', '#']));
        assert_eq!(Drive::parse(&d.to_string()).unwrap(), d);
    }
    if let Ok(r) = ItemRef::parse(item) {
        let path = r.url_path();
        match &r {
            ItemRef::Id(id) => check_path(&path, &[id]),
            ItemRef::Path(segs) => {
                check_path(&path, &segs.iter().map(String::as_str).collect::<Vec<_>>())
            }
            ItemRef::IdPath(id, segs) => {
                let mut want = vec![id.as_str()];
                want.extend(segs.iter().map(String::as_str));
                check_path(&path, &want);
            }
        }
        assert_eq!(ItemRef::parse(&r.to_string()).unwrap(), r);
        if validate_name(name).is_ok() {
            let child = r.join(&[name.to_owned()]);
            let _ = child.url_path();
        }
    }
});
