//! Tests of `download` (a file of their own: the module's source stays under
//! 700 lines).

use super::*;

/// A file sink flushes behind its writes and still holds exactly what
/// was written, across a restart while a flush may run.
#[test]
fn a_file_sink_flushes_behind_and_keeps_every_byte() {
    let dir = std::env::temp_dir().join(format!("od-sink-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("part");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    let mut sink = FileSink::new(file, &path);
    let piece: Vec<u8> = (0..STEP).map(|i| (i * 31 % 251) as u8).collect();
    let pieces = (FLUSH_EVERY as usize / STEP) + 1;
    for _ in 0..pieces {
        sink.write(&piece).unwrap();
    }
    assert!(
        sink.flushing.is_some(),
        "a flush starts after FLUSH_EVERY bytes"
    );
    assert_eq!(sink.unflushed, STEP as u64 - (FLUSH_EVERY % STEP as u64));
    assert!(sink.restart().unwrap());
    for _ in 0..2 * pieces {
        sink.write(&piece).unwrap();
    }
    sink.finish().unwrap();
    assert!(sink.flushing.is_none());
    drop(sink);
    let got = fs::read(&path).unwrap();
    assert_eq!(got.len(), 2 * pieces * STEP);
    assert!(got.chunks(STEP).all(|c| c == piece.as_slice()));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn content_ranges() {
    assert_eq!(parse_content_range("bytes 5-9/10"), Some((5, 9, Some(10))));
    assert_eq!(parse_content_range("bytes 0-0/*"), Some((0, 0, None)));
    assert_eq!(
        parse_content_range(" Bytes 5-9/10 "),
        Some((5, 9, Some(10)))
    );
    assert_eq!(
        parse_content_range("bytes 05-09/010"),
        Some((5, 9, Some(10)))
    );
    let max = u64::MAX;
    assert_eq!(
        parse_content_range(&format!("bytes 0-{}/{max}", max - 1)),
        Some((0, max - 1, Some(max)))
    );
    for bad in [
        "bytes 9-5/10",
        "5-9/10",
        "bytes 5-9",
        "bytes a-9/10",
        "",
        "bytes",
        "bytes ",
        "bytes */10",
        "bytes 5-9/9",
        "bytes 5-10/10",
        "bytes +5-9/10",
        "bytes 5-+9/10",
        "bytes 5-9/+10",
        "bytes 5 -9/10",
        "bytes 5- 9/10",
        "bytes 5-9/ 10",
        "bytes  5-9/10",
        "bytes -5-9/10",
        "bytes 5-9/10/10",
        "bytes 5--9/10",
        "bytes 5-9/**",
        "bytes 5-9/0x10",
        "bytes 0-18446744073709551616/*",
        "items 5-9/10",
        "bytesX5-9/10",
        "bytés 5-9/10",
        "bytesé5-9/10",
        "\u{e9}\u{e9}\u{e9}5-9/10",
    ] {
        assert_eq!(parse_content_range(bad), None, "{bad:?}");
    }
}

#[test]
fn answers_to_a_content_request() {
    use Answer::*;
    // From byte 0: only a 200 is the file.
    assert_eq!(read_answer(200, None, 0, 10).unwrap(), Rest);
    assert_eq!(read_answer(200, Some("bytes 0-9/10"), 0, 10).unwrap(), Rest);
    for status in [201, 204, 206, 299] {
        let e = read_answer(status, Some("bytes 0-9/10"), 0, 10).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol, "{status}");
    }
    // A 416 to a request without a range is the service's error.
    for status in [300, 404, 416, 429, 500, 503, 99, 0] {
        assert_eq!(
            read_answer(status, None, 0, 10).unwrap(),
            Failed,
            "{status}"
        );
    }
    // From byte 5: the 206 must name exactly 5..10.
    assert_eq!(read_answer(206, Some("bytes 5-9/10"), 5, 10).unwrap(), Rest);
    assert_eq!(read_answer(206, Some("bytes 5-9/*"), 5, 10).unwrap(), Rest);
    for cr in [
        None,
        Some("bytes 4-9/10"),
        Some("bytes 6-9/10"),
        Some("bytes 5-8/10"),
        Some("bytes 5-9/11"),
        Some("bytes 5-10/11"),
        Some("bytes 5-9/9"),
        Some("bytes */10"),
        Some("garbage"),
    ] {
        let e = read_answer(206, cr, 5, 10).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol, "{cr:?}");
    }
    // A 200 to a range is the whole file again; a 416, start over.
    assert_eq!(read_answer(200, None, 5, 10).unwrap(), Whole);
    assert_eq!(
        read_answer(200, Some("bytes 5-9/10"), 5, 10).unwrap(),
        Whole
    );
    assert_eq!(
        read_answer(416, Some("bytes */3"), 5, 10).unwrap(),
        StartOver
    );
    assert_eq!(read_answer(404, None, 5, 10).unwrap(), Failed);
    // The last bytes of the largest file; a LAST of u64::MAX (LAST + 1
    // does not fit) is past any file.
    let max = u64::MAX;
    for cr in [
        format!("bytes {}-{}/{max}", max - 1, max - 1),
        format!("bytes {}-{}/*", max - 1, max - 1),
    ] {
        assert_eq!(read_answer(206, Some(&cr), max - 1, max).unwrap(), Rest);
    }
    let cr = format!("bytes {}-{max}/*", max - 1);
    assert!(read_answer(206, Some(&cr), max - 1, max).is_err());
}

#[test]
fn new_bytes_of_a_piece() {
    let mut skip = 0;
    assert_eq!(new_bytes(b"abc", &mut skip, 0, 3).unwrap(), b"abc");
    // A writer that has 4 bytes already: a whole body passes them over.
    let mut skip = 4;
    assert_eq!(new_bytes(b"abc", &mut skip, 4, 10).unwrap(), b"");
    assert_eq!(skip, 1);
    assert_eq!(new_bytes(b"defg", &mut skip, 4, 10).unwrap(), b"efg");
    assert_eq!(skip, 0);
    assert_eq!(new_bytes(b"", &mut skip, 7, 10).unwrap(), b"");
    // Past the item's size: refused, whatever was skipped.
    let e = new_bytes(b"abcd", &mut 0, 7, 10).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol);
    assert!(new_bytes(b"abcdef", &mut 2, 7, 10).is_err());
    assert_eq!(new_bytes(b"abcde", &mut 2, 7, 10).unwrap(), b"cde");
    assert!(new_bytes(b"a", &mut 0, u64::MAX, u64::MAX).is_err());
    let mut skip = u64::MAX;
    assert_eq!(new_bytes(b"a", &mut skip, u64::MAX, u64::MAX).unwrap(), b"");
    assert_eq!(skip, u64::MAX - 1);
}

#[test]
fn kept_bytes_of_a_temporary_file() {
    assert_eq!(kept_bytes(Some("e1"), Some(5), Some("e1"), 10), 5);
    assert_eq!(kept_bytes(Some("e1"), Some(10), Some("e1"), 10), 10);
    assert_eq!(kept_bytes(Some("e1"), Some(0), Some("e1"), 10), 0);
    // Another version, no eTag on either side, longer than the file,
    // no eTag file or no temporary file: start over.
    assert_eq!(kept_bytes(Some("e0"), Some(5), Some("e1"), 10), 0);
    assert_eq!(kept_bytes(Some(""), Some(5), None, 10), 0);
    assert_eq!(kept_bytes(Some("e1"), Some(11), Some("e1"), 10), 0);
    assert_eq!(kept_bytes(None, Some(5), Some("e1"), 10), 0);
    assert_eq!(kept_bytes(Some("e1"), None, Some("e1"), 10), 0);
}

#[test]
fn partial_files_sit_beside_the_target() {
    let (t, e) = partial_paths(Path::new("/x/y/a b#%é.txt")).unwrap();
    assert_eq!(t, Path::new("/x/y/.a b#%é.txt.odpart"));
    assert_eq!(e, Path::new("/x/y/.a b#%é.txt.odpart.etag"));
    let (t, _) = partial_paths(Path::new("f")).unwrap();
    assert_eq!(t, Path::new(".f.odpart"));
    assert!(partial_paths(Path::new("/")).is_err());
    assert!(partial_paths(Path::new("a/..")).is_err());
}
