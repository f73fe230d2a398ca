//! Upload sessions, and persistence across restarts.

mod common;

use common::*;
use onedrive_emulator::{Config, Emulator, Profile, quick_xor_hash};
use serde_json::json;
use std::time::Duration;

const UNIT: usize = 320 * 1024;

fn create(emu: &Emulator, rel: &str, body: serde_json::Value) -> String {
    let r = api(emu, "POST", rel, body.to_string().as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["nextExpectedRanges"][0], "0-");
    assert!(v["expirationDateTime"].is_string());
    let url = v["uploadUrl"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&format!("{}/upload/", emu.monitor_origin())),
        "{url}"
    );
    url
}

fn put_range(url: &str, data: &[u8], a: usize, b: usize, total: usize) -> Resp {
    request(
        "PUT",
        url,
        &[("Content-Range", &format!("bytes {a}-{b}/{total}"))],
        &data[a..=b],
    )
    .unwrap()
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 256) as u8).collect()
}

#[test]
fn upload_in_order_larger_than_simple_limit() {
    for profile in [Profile::Personal, Profile::Business] {
        let emu = start(profile);
        let total = 5 * 1024 * 1024 + 123;
        let data = payload(total);
        let url = create(
            &emu,
            "/me/drive/root:/big/file.bin:/createUploadSession",
            json!({"item": {"@microsoft.graph.conflictBehavior": "rename", "name": "file.bin", "fileSize": total}}),
        );
        assert_eq!(emu.upload_session_count(), 1);
        let chunk = 4 * UNIT;
        let mut a = 0;
        let mut last = None;
        while a < total {
            let b = (a + chunk).min(total) - 1;
            let r = put_range(&url, &data, a, b, total);
            if b + 1 < total {
                assert_eq!(r.status, 202, "{}", r.text());
                assert_eq!(r.json()["nextExpectedRanges"][0], format!("{}-", b + 1));
                assert!(r.json()["expirationDateTime"].is_string());
            } else {
                last = Some(r);
            }
            a = b + 1;
        }
        let r = last.unwrap();
        assert_eq!(r.status, 201, "{}", r.text());
        let v = r.json();
        assert_eq!(v["name"], "file.bin");
        assert_eq!(v["size"], total);
        assert_eq!(v["file"]["hashes"]["quickXorHash"], quick_xor_hash(&data));
        assert_eq!(
            emu.content(&emu.default_drive_id(), "/big/file.bin")
                .unwrap(),
            data
        );
        assert_eq!(emu.upload_session_count(), 0);
        // the finished session is gone
        assert_eq!(get(&url).status, 404);
    }
}

#[test]
fn out_of_order_gap_and_chunk_size() {
    let emu = start(Profile::Personal);
    let total = 3 * UNIT + 10;
    let data = payload(total);
    let url = create(
        &emu,
        "/me/drive/root:/o.bin:/createUploadSession",
        json!({"item": {"fileSize": total}}),
    );
    // a gap: 400 invalidRange
    let r = put_range(&url, &data, UNIT, 2 * UNIT - 1, total);
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "invalidRange");
    // not a multiple of 320 KiB (and not the last chunk): 400
    let r = put_range(&url, &data, 0, 1000, total);
    assert_eq!(r.status, 400);
    r.error_code();
    assert_eq!(put_range(&url, &data, 0, UNIT - 1, total).status, 202);
    // already received: 416 invalidRange
    let r = put_range(&url, &data, 0, UNIT - 1, total);
    assert_eq!(r.status, 416);
    assert_eq!(r.error_code(), "invalidRange");
    // total differing from fileSize, missing / malformed Content-Range, length mismatch
    assert_eq!(
        request(
            "PUT",
            &url,
            &[(
                "Content-Range",
                &format!("bytes {UNIT}-{}/{}", 2 * UNIT - 1, total + 1)
            )],
            &data[UNIT..2 * UNIT]
        )
        .unwrap()
        .status,
        400
    );
    assert_eq!(
        request("PUT", &url, &[], &data[UNIT..2 * UNIT])
            .unwrap()
            .status,
        400
    );
    assert_eq!(
        request(
            "PUT",
            &url,
            &[("Content-Range", "bytes x-y/z")],
            &data[UNIT..2 * UNIT]
        )
        .unwrap()
        .status,
        400
    );
    assert_eq!(
        request(
            "PUT",
            &url,
            &[(
                "Content-Range",
                &format!("bytes {UNIT}-{}/{total}", 2 * UNIT - 1)
            )],
            &data[UNIT..2 * UNIT - 1]
        )
        .unwrap()
        .status,
        400
    );
    // resume via GET
    let st = get(&url);
    assert_eq!(st.status, 200);
    assert_eq!(st.json()["nextExpectedRanges"][0], format!("{UNIT}-"));
    let from: usize = st.json()["nextExpectedRanges"][0]
        .as_str()
        .unwrap()
        .trim_end_matches('-')
        .parse()
        .unwrap();
    assert_eq!(put_range(&url, &data, from, total - 1, total).status, 201);
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/o.bin").unwrap(),
        data
    );
}

#[test]
fn cancel_token_refused_and_expiry() {
    let emu = start(Profile::Personal);
    let url = create(
        &emu,
        "/me/drive/root:/c.bin:/createUploadSession",
        json!({}),
    );
    // the token must not go to uploadUrl
    let auth = bearer(&emu);
    let r = request(
        "PUT",
        &url,
        &[("Authorization", &auth), ("Content-Range", "bytes 0-9/10")],
        &[0; 10],
    )
    .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(
        request("GET", &url, &[("Authorization", &auth)], b"")
            .unwrap()
            .status,
        401
    );
    // DELETE cancels
    assert_eq!(request("DELETE", &url, &[], b"").unwrap().status, 204);
    assert_eq!(emu.upload_session_count(), 0);
    let r = request("PUT", &url, &[("Content-Range", "bytes 0-9/10")], &[0; 10]).unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), "itemNotFound");
    assert_eq!(request("DELETE", &url, &[], b"").unwrap().status, 404);
    assert!(emu.item_json(&emu.default_drive_id(), "/c.bin").is_none());
    // expiry with a short lifetime
    emu.set_upload_session_lifetime(Duration::from_millis(200));
    let url = create(
        &emu,
        "/me/drive/root:/e.bin:/createUploadSession",
        json!({}),
    );
    wait_for(30, "the session to expire", || {
        (get(&url).status == 404).then_some(())
    });
    assert_eq!(emu.upload_session_count(), 0);
    assert_eq!(
        get(&format!("{}/upload/unknown", emu.monitor_origin())).status,
        404
    );
}

#[test]
fn session_targets_and_conflicts() {
    let emu = start(Profile::Personal);
    let drive = emu.default_drive_id();
    let existing = put_file(&emu, "/t/exists.txt", b"old");
    let id = existing["id"].as_str().unwrap();
    // replace an item by id: 200, same id
    let url = create(
        &emu,
        &format!("/me/drive/items/{id}/createUploadSession"),
        json!({}),
    );
    let r = request("PUT", &url, &[("Content-Range", "bytes 0-2/3")], b"new").unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["id"], id);
    assert_eq!(emu.content(&drive, "/t/exists.txt").unwrap(), b"new");
    // fail: 409 at once
    let r = api(
        &emu,
        "POST",
        "/me/drive/root:/t/exists.txt:/createUploadSession",
        json!({"item": {"@microsoft.graph.conflictBehavior": "fail"}})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 409);
    assert_eq!(r.error_code(), "nameAlreadyExists");
    // rename: decided at the end
    let url = create(
        &emu,
        "/me/drive/root:/t/exists.txt:/createUploadSession",
        json!({"item": {"@microsoft.graph.conflictBehavior": "rename"}}),
    );
    let r = request("PUT", &url, &[("Content-Range", "bytes 0-1/2")], b"rn").unwrap();
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["name"], "exists 1.txt");
    // default replace by path: 200
    let url = create(
        &emu,
        "/me/drive/root:/t/exists.txt:/createUploadSession",
        json!({}),
    );
    let r = request("PUT", &url, &[("Content-Range", "bytes 0-1/2")], b"rp").unwrap();
    assert_eq!(r.status, 200);
    // below an item id, with a new sub-folder
    let t = emu.item_json(&drive, "/t").unwrap();
    let url = create(
        &emu,
        &format!(
            "/drives/{drive}/items/{}:/sub/new.txt:/createUploadSession",
            t["id"].as_str().unwrap()
        ),
        json!({}),
    );
    assert_eq!(
        request("PUT", &url, &[("Content-Range", "bytes 0-0/1")], b"n")
            .unwrap()
            .status,
        201
    );
    assert_eq!(emu.content(&drive, "/t/sub/new.txt").unwrap(), b"n");
    // refusals
    assert_eq!(
        api(
            &emu,
            "POST",
            "/me/drive/root:/bad%3F.bin:/createUploadSession",
            b"{}"
        )
        .status,
        400
    );
    assert_eq!(
        api(
            &emu,
            "POST",
            "/me/drive/root:/t:/createUploadSession",
            b"{}"
        )
        .status,
        409
    );
    assert_eq!(
        api(&emu, "POST", "/me/drive/root/createUploadSession", b"{}").status,
        400
    );
    let r = api(
        &emu,
        "POST",
        "/me/drive/root:/huge.bin:/createUploadSession",
        json!({"item": {"fileSize": 300u64 << 30}})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 400);
    assert_eq!(emu.upload_session_count(), 0);
}

#[test]
fn persistence_across_restart() {
    let dir = temp_dir("persist");
    let config = || Config {
        data_dir: Some(dir.clone()),
        job: fast_jobs(),
        ..Config::default()
    };
    let (drive, ids, file_id) = {
        let emu = start_with(config());
        let f = put_file(&emu, "/keep/F%C3%AFle%20%231.txt", b"persisted bytes");
        put_file(&emu, "/keep/gone.txt", b"to delete");
        api(&emu, "DELETE", "/me/drive/root:/keep/gone.txt", b"");
        let copy = api(
            &emu,
            "POST",
            "/me/drive/root:/keep:/copy",
            json!({"name": "keep2"}).to_string().as_bytes(),
        );
        let done = poll_job(copy.header("location").unwrap());
        assert_eq!(done.status, 303);
        (
            emu.default_drive_id(),
            emu.drive_ids(),
            f["id"].as_str().unwrap().to_string(),
        )
    };
    let emu = start_with(config());
    assert_eq!(emu.default_drive_id(), drive);
    assert_eq!(emu.drive_ids(), ids);
    let v = emu
        .item_json(&drive, "/keep/Fïle #1.txt")
        .expect("file survived the restart");
    assert_eq!(v["id"], file_id.as_str());
    assert_eq!(
        emu.content(&drive, "/keep/Fïle #1.txt").unwrap(),
        b"persisted bytes"
    );
    assert_eq!(
        emu.content(&drive, "/keep2/Fïle #1.txt").unwrap(),
        b"persisted bytes"
    );
    assert!(emu.item_json(&drive, "/keep/gone.txt").is_none());
    let r = api(&emu, "GET", &format!("/me/drive/items/{file_id}"), b"");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["file"]["hashes"]["quickXorHash"],
        quick_xor_hash(b"persisted bytes")
    );
    // new ids do not collide with old ones
    let n = put_file(&emu, "/new.txt", b"n");
    assert_ne!(n["id"], file_id.as_str());
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn content_range_overflow_is_refused_not_a_panic() {
    // Issue 13: `b - a + 1` overflowed (a debug-build panic) for an end of u64::MAX.
    let emu = start(Profile::Personal);
    let url = create(
        &emu,
        "/me/drive/root:/overflow.bin:/createUploadSession",
        json!({"item": {}}),
    );
    for range in [
        "bytes 0-18446744073709551615/18446744073709551615",
        "bytes 0-18446744073709551615/*",
        "bytes 1-18446744073709551615/18446744073709551615",
        "bytes 0-99/18446744073709551615",
        "bytes 0-18446744073709551616/5",
    ] {
        let r = request("PUT", &url, &[("Content-Range", range)], b"x").unwrap();
        assert!(matches!(r.status, 400 | 416), "{range}: {}", r.status);
        assert_eq!(r.error_code(), "invalidRange", "{range}");
    }
    // the emulator is still up and the session still usable
    let r = request("PUT", &url, &[("Content-Range", "bytes 0-2/3")], b"abc").unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
}

/// The files in the emulator's spool directory.
fn spooled(emu: &Emulator) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(emu.spool_dir())
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn session_files(emu: &Emulator) -> usize {
    spooled(emu)
        .iter()
        .filter(|n| n.starts_with("session-"))
        .count()
}

#[test]
fn spool_files_go_when_a_session_completes_is_cancelled_or_expires() {
    let emu = start(Profile::Personal);
    let data = payload(3 * UNIT + 5);
    let total = data.len();
    assert!(emu.spool_dir().is_dir());
    // completed: the spool file becomes the content, no session file is left
    let url = create(
        &emu,
        "/me/drive/root:/s1.bin:/createUploadSession",
        json!({}),
    );
    assert_eq!(session_files(&emu), 0, "made with the first fragment");
    assert_eq!(put_range(&url, &data, 0, UNIT - 1, total).status, 202);
    assert_eq!(session_files(&emu), 1);
    let r = put_range(&url, &data, UNIT, total - 1, total);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(session_files(&emu), 0);
    assert_eq!(spooled(&emu).len(), 1, "the content: {:?}", spooled(&emu));
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/s1.bin").unwrap(),
        data
    );
    // replaced: the old content's file goes with it
    put_file(&emu, "/s1.bin", b"small now");
    assert!(spooled(&emu).is_empty(), "{:?}", spooled(&emu));
    // cancelled
    let url = create(
        &emu,
        "/me/drive/root:/s2.bin:/createUploadSession",
        json!({}),
    );
    assert_eq!(put_range(&url, &data, 0, UNIT - 1, total).status, 202);
    assert_eq!(session_files(&emu), 1);
    assert_eq!(request("DELETE", &url, &[], b"").unwrap().status, 204);
    assert_eq!(session_files(&emu), 0);
    // expired: a lifetime of zero makes the fragment's new expiry already past
    let url = create(
        &emu,
        "/me/drive/root:/s3.bin:/createUploadSession",
        json!({}),
    );
    emu.set_upload_session_lifetime(Duration::ZERO);
    assert_eq!(put_range(&url, &data, 0, UNIT - 1, total).status, 202);
    assert_eq!(get(&url).status, 404);
    assert_eq!(session_files(&emu), 0);
    assert_eq!(emu.upload_session_count(), 0);
    // and the directory goes when the emulator stops
    let dir = emu.spool_dir();
    drop(emu);
    assert!(!dir.exists());
}

#[test]
fn a_completed_session_survives_a_restart() {
    let dir = temp_dir("session-persist");
    let config = || Config {
        data_dir: Some(dir.clone()),
        ..Config::default()
    };
    let data = payload(4 * UNIT + 99);
    let total = data.len();
    let (drive, hashes) = {
        let emu = start_with(config());
        let url = create(
            &emu,
            "/me/drive/root:/k/big.bin:/createUploadSession",
            json!({}),
        );
        assert_eq!(put_range(&url, &data, 0, 2 * UNIT - 1, total).status, 202);
        let r = put_range(&url, &data, 2 * UNIT, total - 1, total);
        assert_eq!(r.status, 201, "{}", r.text());
        // an unfinished session does not survive
        let url = create(
            &emu,
            "/me/drive/root:/k/half.bin:/createUploadSession",
            json!({}),
        );
        assert_eq!(put_range(&url, &data, 0, UNIT - 1, total).status, 202);
        (emu.default_drive_id(), r.json()["file"]["hashes"].clone())
    };
    assert!(
        std::fs::read_dir(dir.join(".onedrive-emulator-spool")).is_err(),
        "removed at stop"
    );
    let emu = start_with(config());
    assert_eq!(emu.content(&drive, "/k/big.bin").unwrap(), data);
    assert_eq!(
        emu.item_json(&drive, "/k/big.bin").unwrap()["file"]["hashes"],
        hashes
    );
    assert!(emu.item_json(&drive, "/k/half.bin").is_none());
    assert_eq!(emu.upload_session_count(), 0);
    // downloads stream the file
    let r = api(&emu, "GET", "/me/drive/root:/k/big.bin:/content", b"");
    assert_eq!(r.status, 302);
    let r = get(r.header("location").unwrap());
    assert_eq!(r.status, 200);
    assert_eq!(r.body, data);
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 25 item 7: only the emulator's own files go from its spool directory, at start
/// (left by an emulator that did not stop cleanly) and at stop; anything else found
/// there stops the start with a message, and stays.
#[test]
fn the_spool_directory_loses_only_the_emulators_files() {
    let dir = temp_dir("spool-own");
    let config = || Config {
        data_dir: Some(dir.clone()),
        ..Config::default()
    };
    // a run: the spool is a directory of the data dir with a name only the emulator uses
    let spool = {
        let emu = start_with(config());
        let spool = emu.spool_dir();
        assert_eq!(spool.parent(), Some(dir.as_path()));
        assert_eq!(spool.file_name().unwrap(), ".onedrive-emulator-spool");
        spool
    };
    assert!(
        !spool.exists(),
        "removed at stop when only the emulator's files were in it"
    );
    // what a crash leaves (an unfinished session, a loaded content's link) goes at start
    std::fs::create_dir(&spool).unwrap();
    std::fs::write(spool.join("session-abc"), b"half").unwrap();
    std::fs::write(spool.join("loaded-def"), b"old").unwrap();
    let emu = start_with(config());
    assert!(spooled(&emu).is_empty(), "{:?}", spooled(&emu));
    // a file someone put in it while the emulator ran stays at stop, and so does the directory
    std::fs::write(spool.join("keep.txt"), b"mine").unwrap();
    drop(emu);
    assert_eq!(std::fs::read(spool.join("keep.txt")).unwrap(), b"mine");
    // and the next start refuses it, naming it, and touches nothing
    std::fs::write(spool.join("session-xyz"), b"half").unwrap();
    let err = match Emulator::start(config()) {
        Ok(_) => panic!("started with a foreign file in its spool directory"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let msg = err.to_string();
    assert!(
        msg.contains("keep.txt") && msg.contains(".onedrive-emulator-spool"),
        "{msg}"
    );
    assert_eq!(std::fs::read(spool.join("keep.txt")).unwrap(), b"mine");
    assert!(
        spool.join("session-xyz").exists(),
        "a refused start removes nothing"
    );
    // without the foreign file, the data dir is the emulator's again
    std::fs::remove_file(spool.join("keep.txt")).unwrap();
    drop(start_with(config()));
    assert!(!spool.exists());
    // a data dir holding something else at its top, or in content/, is refused too
    for (what, path) in [
        ("top", dir.join("spool")),
        ("content", dir.join("content").join("my notes.txt")),
    ] {
        std::fs::write(&path, b"x").unwrap();
        let msg = match Emulator::start(config()) {
            Ok(_) => panic!("{what}: started"),
            Err(e) => e.to_string(),
        };
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            msg.contains(name) && msg.contains("did not make"),
            "{what}: {msg}"
        );
        assert!(path.exists(), "{what}");
        std::fs::remove_file(&path).unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
