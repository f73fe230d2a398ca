//! A download's reading of the service's answers (`read_answer`,
//! `parse_content_range`, `new_bytes`): never a panic; a 206 is resumed
//! only when its Content-Range names exactly the bytes asked for; the bytes
//! taken from a body are the body's past those a writer already has, and
//! never run past the item's size.
//!
//! Input: status (u16 LE), have (u64 LE), size (u64 LE), a flags byte
//! (bit 0: the sink is a caller's writer, which cannot start over), the
//! Content-Range's length (u8) and bytes, then the body, cut into the
//! pieces read at each 0xFF byte.
#![no_main]
use libfuzzer_sys::fuzz_target;
use onedrive_native::fuzzing::{self, DownloadAnswer};

fuzz_target!(|data: &[u8]| {
    let Some((head, rest)) = data.split_at_checked(19) else {
        return;
    };
    let status = u16::from_le_bytes([head[0], head[1]]);
    let n = |i: usize| u64::from_le_bytes(head[i..i + 8].try_into().unwrap());
    let (have, size, writer) = (n(2), n(10), head[18] & 1 == 1);
    let Some((&cr_len, rest)) = rest.split_first() else {
        return;
    };
    let (cr, body) = rest.split_at(usize::from(cr_len).min(rest.len()));
    let cr = String::from_utf8_lossy(cr);

    content_range(&cr, have, size);
    // A download asks only for bytes it lacks.
    if have >= size {
        return;
    }
    let cr = (!cr.is_empty()).then_some(cr.as_ref());
    let Ok(answer) = fuzzing::download_answer(status, cr, have, size) else {
        assert!((200..300).contains(&status), "{status} refused as a 2xx");
        return;
    };
    let start = match answer {
        DownloadAnswer::Failed => {
            assert!(!(200..300).contains(&status));
            return;
        }
        DownloadAnswer::StartOver => {
            assert!(status == 416 && have > 0);
            return;
        }
        DownloadAnswer::Rest => {
            if have > 0 {
                assert_eq!(status, 206);
                let (s, e, t) = fuzzing::content_range(cr.unwrap()).unwrap();
                assert!(s == have && e == size - 1 && t.is_none_or(|t| t == size));
            } else {
                assert_eq!(status, 200);
            }
            have
        }
        DownloadAnswer::Whole => {
            assert!(status == 200 && have > 0);
            // A file starts over; a writer passes over what it has.
            if writer { have } else { 0 }
        }
    };
    let mut skip = if answer == DownloadAnswer::Whole {
        start
    } else {
        0
    };
    let skip0 = skip;
    let (mut at, mut seen, mut taken, mut failed) = (start, Vec::new(), Vec::new(), false);
    for piece in body.split(|b| *b == 0xFF) {
        seen.extend_from_slice(piece);
        match fuzzing::download_new_bytes(piece, &mut skip, at, size) {
            Ok(new) => {
                taken.extend_from_slice(new);
                at += new.len() as u64;
                assert!(at <= size);
            }
            Err(_) => {
                let over = seen.len() as u64 - skip0.min(seen.len() as u64);
                assert!(start.saturating_add(over) > size);
                failed = true;
                break;
            }
        }
    }
    let skipped = usize::try_from(skip0).unwrap_or(usize::MAX).min(seen.len());
    if failed {
        assert!(seen[skipped..].starts_with(&taken));
    } else {
        assert_eq!(seen[skipped..], taken[..]);
    }
    assert_eq!(skip, skip0 - skipped as u64);
});

/// The parser alone: what it accepts is well formed, and a well-formed
/// header of the fuzzer's numbers is read back as written.
fn content_range(cr: &str, a: u64, b: u64) {
    if let Some((s, e, t)) = fuzzing::content_range(cr) {
        assert!(s <= e && t.is_none_or(|t| e < t));
        let numbers = &cr.trim()[6..];
        assert!(
            numbers
                .bytes()
                .all(|c| c.is_ascii_digit() || b"-/*".contains(&c))
        );
    }
    let (s, e) = (a.min(b), a.max(b));
    let total = e.checked_add(1);
    assert_eq!(
        fuzzing::content_range(&format!("bytes {s}-{e}/*")),
        Some((s, e, None))
    );
    if let Some(t) = total {
        assert_eq!(
            fuzzing::content_range(&format!("bytes {s}-{e}/{t}")),
            Some((s, e, Some(t)))
        );
    }
    assert_eq!(fuzzing::content_range(&format!("bytes {s}-{e}/{e}")), None);
    if s < e {
        assert_eq!(fuzzing::content_range(&format!("bytes {e}-{s}/*")), None);
    }
    // The answer a resume wants: exactly the rest, in any of its forms.
    if s > 0 && total.is_some() {
        let t = total.unwrap();
        for header in [format!("bytes {s}-{e}/{t}"), format!("bytes {s}-{e}/*")] {
            let got = fuzzing::download_answer(206, Some(&header), s, t).unwrap();
            assert_eq!(got, DownloadAnswer::Rest, "{header}");
        }
    }
}
