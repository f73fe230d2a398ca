//! Downloads: the redirect to a pre-authenticated URL on the monitor origin, ranges,
//! If-Range, HEAD, hashes, and cuts by fault rules.

mod common;

use common::*;
use onedrive_emulator::{Emulator, FaultAction, FaultRule, Profile, Times, quick_xor_hash};

const UNIT: usize = 320 * 1024;

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 13 % 251) as u8).collect()
}

/// The download URL `GET …/content` redirects to.
fn download_url(emu: &Emulator, rel: &str) -> String {
    let r = api(emu, "GET", &format!("/me/drive/root:{rel}:/content"), b"");
    assert_eq!(r.status, 302, "{}", r.text());
    let loc = r.header("location").expect("Location").to_string();
    assert!(loc.starts_with(&format!("{}/download/", emu.monitor_origin())));
    loc
}

fn get_h(url: &str, headers: &[(&str, &str)]) -> Resp {
    request("GET", url, headers, b"").expect("request")
}

#[test]
fn whole_ranges_and_head() {
    let emu = start(Profile::Personal);
    let data = payload(1000);
    let item = put_file(&emu, "/r/data.bin", &data);
    let etag = item["eTag"].as_str().unwrap().to_string();
    let url = download_url(&emu, "/r/data.bin");

    let r = get(&url);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, data);
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert_eq!(r.header("content-length"), Some("1000"));
    assert_eq!(r.header("content-range"), None);

    for (range, a, b) in [
        ("bytes=0-9", 0, 9),
        ("bytes=10-", 10, 999),
        ("bytes=-10", 990, 999),
        ("bytes=999-999", 999, 999),
        ("bytes=500-5000", 500, 999),
        ("bytes=-5000", 0, 999),
    ] {
        let r = get_h(&url, &[("Range", range)]);
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {a}-{b}/1000").as_str()),
            "{range}"
        );
        assert_eq!(r.body, &data[a..=b], "{range}");
        assert_eq!(r.header("etag"), Some(etag.as_str()));
    }
    for range in ["bytes=1000-", "bytes=1000-1001", "bytes=5000-", "bytes=-0"] {
        let r = get_h(&url, &[("Range", range)]);
        assert_eq!(r.status, 416, "{range}");
        assert_eq!(r.header("content-range"), Some("bytes */1000"), "{range}");
        assert_eq!(r.error_code(), "invalidRange");
    }
    // forms the emulator does not serve are ignored: the whole content
    for range in ["bytes=0-1,5-6", "bytes=9-2", "lines=1-2"] {
        let r = get_h(&url, &[("Range", range)]);
        assert_eq!(r.status, 200, "{range}");
        assert_eq!(r.body, data);
    }

    let h = request("HEAD", &url, &[], b"").unwrap();
    assert_eq!(h.status, 200);
    assert_eq!(h.header("content-length"), Some("1000"));
    assert_eq!(h.header("etag"), Some(etag.as_str()));
    assert!(h.body.is_empty());
    let h = request("HEAD", &url, &[("Range", "bytes=100-")], b"").unwrap();
    assert_eq!(h.status, 206);
    assert_eq!(h.header("content-range"), Some("bytes 100-999/1000"));
    assert_eq!(h.header("content-length"), Some("900"));

    // HEAD on the API's content URL redirects as GET does
    let auth = bearer(&emu);
    let r = request(
        "HEAD",
        &format!("{}/me/drive/root:/r/data.bin:/content", emu.base_url()),
        &[("Authorization", &auth)],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 302);
    assert!(
        r.header("location")
            .unwrap()
            .starts_with(&emu.monitor_origin())
    );
    assert_eq!(request("PUT", &url, &[], b"x").unwrap().status, 405);
}

#[test]
fn if_range_and_a_changed_item() {
    let emu = start(Profile::Personal);
    let v1 = payload(300);
    let etag1 = put_file(&emu, "/f.bin", &v1)["eTag"]
        .as_str()
        .unwrap()
        .to_string();
    let url = download_url(&emu, "/f.bin");
    let r = get_h(&url, &[("Range", "bytes=100-"), ("If-Range", &etag1)]);
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &v1[100..]);
    // a weak tag or a date never matches: the whole content
    let weak = format!("W/{etag1}");
    let r = get_h(&url, &[("Range", "bytes=100-"), ("If-Range", &weak)]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, v1);

    // the item changes: the same URL serves the new content, and the old eTag in
    // If-Range gets all of it (never a splice of two versions)
    let v2 = payload(500).into_iter().rev().collect::<Vec<u8>>();
    let etag2 = put_file(&emu, "/f.bin", &v2)["eTag"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(etag1, etag2);
    let r = get_h(&url, &[("Range", "bytes=100-"), ("If-Range", &etag1)]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, v2);
    assert_eq!(r.header("etag"), Some(etag2.as_str()));
    let r = get_h(&url, &[("Range", "bytes=100-"), ("If-Range", &etag2)]);
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &v2[100..]);
    // a range past the end of the new content is 416 even when If-Range matches
    let r = get_h(&url, &[("Range", "bytes=500-"), ("If-Range", &etag2)]);
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("bytes */500"));

    // the item goes: 404
    assert_eq!(
        api(&emu, "DELETE", "/me/drive/root:/f.bin", b"").status,
        204
    );
    let r = get(&url);
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), "itemNotFound");
}

#[test]
fn zero_bytes() {
    let emu = start(Profile::Personal);
    let item = put_file(&emu, "/empty.txt", b"");
    assert_eq!(item["size"], 0);
    assert_eq!(item["file"]["hashes"]["quickXorHash"], quick_xor_hash(b""));
    let url = download_url(&emu, "/empty.txt");
    let r = get(&url);
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-length"), Some("0"));
    for range in ["bytes=0-", "bytes=0-0", "bytes=-1"] {
        let r = get_h(&url, &[("Range", range)]);
        assert_eq!(r.status, 416, "{range}");
        assert_eq!(r.header("content-range"), Some("bytes */0"));
    }
    let h = request("HEAD", &url, &[], b"").unwrap();
    assert_eq!(h.status, 200);
    assert_eq!(h.header("content-length"), Some("0"));
}

#[test]
fn the_url_is_its_own_capability() {
    let emu = start(Profile::Personal);
    put_file(&emu, "/secret.txt", b"secret");
    let url = download_url(&emu, "/secret.txt");
    let auth = bearer(&emu);
    // the bearer token is refused there, alone or with the capability
    let r = get_h(&url, &[("Authorization", &auth)]);
    assert_eq!(r.status, 401);
    assert!(!r.text().contains("secret\""));
    let (origin_and_path, _) = url.rsplit_once('/').unwrap();
    for bad in [
        format!("{origin_and_path}/"),
        format!("{origin_and_path}/not-a-token"),
    ] {
        assert_eq!(get(&bad).status, 401, "{bad}");
        assert_eq!(get_h(&bad, &[("Authorization", &auth)]).status, 401);
    }
    // the API's content URL wants the token
    let r = request(
        "GET",
        &format!("{}/me/drive/root:/secret.txt:/content", emu.base_url()),
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 401);
    // a folder has no content
    mkdir(&emu, "/", "d");
    let r = api(&emu, "GET", "/me/drive/root:/d:/content", b"");
    assert_eq!(r.status, 400);
    // each GET …/content issues a URL of its own
    assert_ne!(url, download_url(&emu, "/secret.txt"));
    assert_eq!(get(&url).body, b"secret");
}

#[test]
fn hashes_by_profile() {
    for profile in [Profile::Personal, Profile::Business] {
        let emu = start(profile);
        let item = put_file(&emu, "/h.txt", b"hash me");
        let h = &item["file"]["hashes"];
        assert_eq!(h["quickXorHash"], quick_xor_hash(b"hash me"));
        let r = api(&emu, "GET", "/me/drive/root:/h.txt", b"");
        assert_eq!(&r.json()["file"]["hashes"], h);
        match profile {
            Profile::Personal => {
                assert!(h["sha1Hash"].is_string(), "{h}");
                assert!(h["sha256Hash"].is_string(), "{h}");
            }
            Profile::Business => {
                assert!(h.get("sha1Hash").is_none(), "{h}");
                assert!(h.get("sha256Hash").is_none(), "{h}");
            }
        }
    }
}

/// A file made by an upload session lives in a file on disk; ranges of it are read from
/// there.
#[test]
fn ranges_of_a_session_upload() {
    let emu = start(Profile::Personal);
    let total = 3 * UNIT + 77;
    let data = payload(total);
    session_upload(&emu, "/big.bin", &data, 2 * UNIT);
    let url = download_url(&emu, "/big.bin");
    let r = get(&url);
    assert_eq!(r.status, 200);
    assert!(r.body == data);
    let (a, b) = (UNIT + 5, 2 * UNIT + 9);
    let r = get_h(&url, &[("Range", &format!("bytes={a}-{b}"))]);
    assert_eq!(r.status, 206);
    assert!(r.body == data[a..=b]);
    let r = get_h(&url, &[("Range", "bytes=-1")]);
    assert_eq!(r.body, &data[total - 1..]);
}

/// The status line and headers of a raw response, and what followed them.
fn split_raw(raw: &[u8]) -> (String, Vec<u8>) {
    let i = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    (
        String::from_utf8_lossy(&raw[..i]).into_owned(),
        raw[i + 4..].to_vec(),
    )
}

#[test]
fn cut_downloads() {
    let emu = start(Profile::Personal);
    let total = 2 * UNIT + 3;
    let data = payload(total);
    session_upload(&emu, "/cut.bin", &data, 3 * UNIT);
    let url = download_url(&emu, "/cut.bin");
    let cut = |n: u64| {
        let mut rule = FaultRule::new(Times::Next(1), FaultAction::DropBodyAfter(n));
        rule.origin = Some("monitor".into());
        rule.path_contains = Some("/download/".into());
        rule
    };
    // at 1 byte, at a 64 KiB boundary, one byte before the end
    for n in [1usize, 65536, total - 1] {
        emu.add_fault(cut(n as u64));
        let (raw, _) = raw_exchange(&url, "GET", &[], b"");
        let (head, body) = split_raw(&raw);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains(&format!("content-length: {total}")),
            "{head}"
        );
        assert_eq!(body.len(), n);
        assert!(body == data[..n]);
    }
    // a ranged answer, cut
    emu.add_fault(cut(5));
    let (raw, _) = raw_exchange(&url, "GET", &[("Range", "bytes=100-")], b"");
    let (head, body) = split_raw(&raw);
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("content-range: bytes 100-{}/{total}", total - 1)),
        "{head}"
    );
    assert_eq!(body, &data[100..105]);
    // drop_response_after counts the head too
    let mut rule = FaultRule::new(Times::Next(1), FaultAction::DropResponseAfter(12));
    rule.path_contains = Some("/download/".into());
    emu.add_fault(rule);
    let (raw, _) = raw_exchange(&url, "GET", &[], b"");
    assert_eq!(raw, b"HTTP/1.1 200");
    // the rules are spent: the download works again
    assert!(get(&url).body == data);
    let log = emu.requests();
    let faults: Vec<&str> = log.iter().filter_map(|r| r.fault.as_deref()).collect();
    assert_eq!(
        faults,
        [
            "drop_body_after 1",
            "drop_body_after 65536",
            &format!("drop_body_after {}", total - 1),
            "drop_body_after 5",
            "drop_response_after 12"
        ]
    );
}
