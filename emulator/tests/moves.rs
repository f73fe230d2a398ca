//! PATCH: move and rename, conflict behaviour, If-Match, refusals.

mod common;

use common::*;
use onedrive_emulator::{Emulator, FaultAction, FaultRule, Profile, Times};
use serde_json::{Value, json};

fn patch(emu: &Emulator, rel: &str, body: Value) -> Resp {
    api_h(
        emu,
        "PATCH",
        rel,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
}

#[test]
fn move_and_rename_by_id_and_by_path() {
    let emu = start(Profile::Personal);
    let drive = emu.default_drive_id();
    let f = put_file(&emu, "/src/a.txt", b"aaa");
    let dst = mkdir(&emu, "/", "dst");
    let src_before = emu.item_json(&drive, "/src").unwrap();
    let id = f["id"].as_str().unwrap();
    let r = patch(
        &emu,
        &format!("/me/drive/items/{id}"),
        json!({"parentReference": {"id": dst["id"]}, "name": "b #% é.txt"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let moved = r.json();
    assert_eq!(moved["id"], f["id"]);
    assert_eq!(moved["name"], "b #% é.txt");
    assert_eq!(moved["parentReference"]["id"], dst["id"]);
    assert_eq!(
        moved["parentReference"]["path"],
        format!("/drives/{drive}/root:/dst")
    );
    assert_ne!(moved["eTag"], f["eTag"]);
    assert_eq!(moved["cTag"], f["cTag"]);
    assert_eq!(moved["file"]["hashes"], f["file"]["hashes"]);
    assert!(moved["lastModifiedDateTime"].as_str() >= f["lastModifiedDateTime"].as_str());
    assert!(emu.item_json(&drive, "/src/a.txt").is_none());
    assert_eq!(emu.content(&drive, "/dst/b #% é.txt").unwrap(), b"aaa");
    assert_ne!(
        emu.item_json(&drive, "/src").unwrap()["eTag"],
        src_before["eTag"]
    );
    assert_eq!(
        emu.item_json(&drive, "/src").unwrap()["folder"]["childCount"],
        0
    );

    // by path, to a parent given by path; then a rename alone
    let r = patch(
        &emu,
        "/me/drive/root:/dst/b%20%23%25%20%C3%A9.txt",
        json!({"parentReference": {"path": "/drive/root:/src"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["name"], "b #% é.txt");
    let r = patch(
        &emu,
        "/me/drive/root:/src/b%20%23%25%20%C3%A9.txt:",
        json!({"name": "c.txt"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(emu.content(&drive, "/src/c.txt").unwrap(), b"aaa");
    // to the root by /drives/{id}/root: and by driveId + id
    let r = patch(
        &emu,
        "/me/drive/root:/src/c.txt",
        json!({"parentReference": {"path": format!("/drives/{drive}/root:")}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(emu.item_json(&drive, "/c.txt").is_some());
    let r = patch(
        &emu,
        &format!("/drives/{drive}/items/{id}"),
        json!({"parentReference": {"driveId": drive, "id": dst["id"]}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // a change of case is no conflict
    let r = patch(&emu, "/me/drive/root:/dst/c.txt", json!({"name": "C.TXT"}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["name"], "C.TXT");
    // a whole folder moves with its contents
    put_file(&emu, "/tree/x/y/z.bin", b"zz");
    let r = patch(
        &emu,
        "/me/drive/root:/tree/x",
        json!({"parentReference": {"path": "/drive/root:/dst"}, "name": "x2"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(emu.content(&drive, "/dst/x2/y/z.bin").unwrap(), b"zz");
    let z = emu.item_json(&drive, "/dst/x2/y/z.bin").unwrap();
    assert_eq!(
        z["parentReference"]["path"],
        format!("/drives/{drive}/root:/dst/x2/y")
    );
}

#[test]
fn conflict_behaviour() {
    let emu = start(Profile::Personal);
    let drive = emu.default_drive_id();
    put_file(&emu, "/a/n.txt", b"moving");
    put_file(&emu, "/b/n.txt", b"there");
    let to_b = json!({"parentReference": {"path": "/drive/root:/b"}});
    let r = patch(&emu, "/me/drive/root:/a/n.txt", to_b.clone());
    assert_eq!(r.status, 409);
    assert_eq!(r.error_code(), "nameAlreadyExists");
    assert_eq!(emu.content(&drive, "/a/n.txt").unwrap(), b"moving");
    assert_eq!(emu.content(&drive, "/b/n.txt").unwrap(), b"there");

    let r = patch(
        &emu,
        "/me/drive/root:/a/n.txt?@microsoft.graph.conflictBehavior=rename",
        to_b.clone(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["name"], "n 1.txt");
    put_file(&emu, "/a/n.txt", b"again");
    let mut body = to_b.clone();
    body["@microsoft.graph.conflictBehavior"] = json!("rename");
    let r = patch(&emu, "/me/drive/root:/a/n.txt", body);
    assert_eq!(r.json()["name"], "n 2.txt");

    put_file(&emu, "/a/n.txt", b"replacing");
    let mut body = to_b.clone();
    body["@microsoft.graph.conflictBehavior"] = json!("replace");
    let r = patch(&emu, "/me/drive/root:/a/n.txt", body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(emu.content(&drive, "/b/n.txt").unwrap(), b"replacing");
    assert!(emu.item_json(&drive, "/a/n.txt").is_none());
    let r = patch(
        &emu,
        "/me/drive/root:/b/n.txt?@microsoft.graph.conflictBehavior=bogus",
        json!({"name": "m.txt"}),
    );
    assert_eq!(r.status, 400);
}

#[test]
fn if_match() {
    let emu = start(Profile::Personal);
    let v1 = put_file(&emu, "/m.txt", b"1");
    let old = v1["eTag"].as_str().unwrap().to_string();
    put_file(&emu, "/m.txt", b"2");
    let r = api_h(
        &emu,
        "PATCH",
        "/me/drive/root:/m.txt",
        &[("If-Match", &old)],
        br#"{"name":"n.txt"}"#,
    );
    assert_eq!(r.status, 412);
    assert_eq!(r.error_code(), "resourceModified");
    let now = emu.item_json(&emu.default_drive_id(), "/m.txt").unwrap()["eTag"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api_h(
        &emu,
        "PATCH",
        "/me/drive/root:/m.txt",
        &[("If-Match", &now)],
        br#"{"name":"n.txt"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // the old eTag no longer matches after the move either
    let r = api_h(
        &emu,
        "PATCH",
        "/me/drive/root:/n.txt",
        &[("If-Match", &now)],
        br#"{"name":"o.txt"}"#,
    );
    assert_eq!(r.status, 412);
}

#[test]
fn refusals() {
    let emu = start(Profile::Personal);
    let drive = emu.default_drive_id();
    put_file(&emu, "/p/q/r/f.txt", b"f");
    let p = emu.item_json(&drive, "/p").unwrap();
    let q = emu.item_json(&drive, "/p/q").unwrap();
    // into itself, into its subtree
    for (parent, what) in [(&p, "itself"), (&q, "its child")] {
        let r = patch(
            &emu,
            "/me/drive/root:/p",
            json!({"parentReference": {"id": parent["id"]}}),
        );
        assert_eq!(r.status, 400, "{what}");
        assert_eq!(r.error_code(), "invalidRequest");
    }
    let r = patch(
        &emu,
        "/me/drive/root:/p",
        json!({"parentReference": {"path": "/drive/root:/p/q/r"}}),
    );
    assert_eq!(r.status, 400);
    // replacing a folder that holds the item
    let r = patch(
        &emu,
        "/me/drive/root:/p/q/r?@microsoft.graph.conflictBehavior=replace",
        json!({"parentReference": {"path": "/drive/root:"}, "name": "p"}),
    );
    assert_eq!(r.status, 400);
    assert!(emu.item_json(&drive, "/p/q/r/f.txt").is_some());
    // another drive: by driveId, by an id of that drive, by a path in it
    let other = emu.drive_ids()[1].clone();
    let other_root = emu.item_json(&other, "/").unwrap();
    for pref in [
        json!({"driveId": other, "id": other_root["id"]}),
        json!({"id": other_root["id"]}),
        json!({"path": format!("/drives/{other}/root:")}),
    ] {
        let r = patch(
            &emu,
            "/me/drive/root:/p/q/r/f.txt",
            json!({"parentReference": pref}),
        );
        assert_eq!(r.status, 400, "{pref}");
        assert_eq!(r.error_code(), "invalidRequest");
    }
    // the root; a file as the parent; a missing parent; bad names and bodies
    assert_eq!(
        patch(&emu, "/me/drive/root", json!({"name": "x"})).status,
        400
    );
    let r = patch(
        &emu,
        "/me/drive/root:/p/q",
        json!({"parentReference": {"path": "/drive/root:/p/q/r/f.txt"}}),
    );
    assert_eq!(r.status, 400);
    let r = patch(
        &emu,
        "/me/drive/root:/p/q",
        json!({"parentReference": {"id": "nope"}}),
    );
    assert_eq!(r.status, 404);
    let r = patch(
        &emu,
        "/me/drive/root:/p/q",
        json!({"parentReference": {"path": "/drive/root:/missing"}}),
    );
    assert_eq!(r.status, 404);
    for body in [
        json!({"name": "a:b"}),
        json!({"name": ""}),
        json!({"name": 5}),
        json!({}),
        json!({"parentReference": "x"}),
        json!({"parentReference": {}}),
        json!({"parentReference": {"id": 5}}),
    ] {
        assert_eq!(
            patch(&emu, "/me/drive/root:/p/q", body.clone()).status,
            400,
            "{body}"
        );
    }
    assert_eq!(
        api(&emu, "PATCH", "/me/drive/root:/p/q", b"not json").status,
        400
    );
    assert_eq!(
        patch(&emu, "/me/drive/root:/nothing", json!({"name": "x"})).status,
        404
    );
    assert!(emu.item_json(&drive, "/p/q/r/f.txt").is_some());
}

#[test]
fn faults_on_patch() {
    let emu = start(Profile::Personal);
    let drive = emu.default_drive_id();
    put_file(&emu, "/x.txt", b"x");
    let mut rule = FaultRule::new(
        Times::Next(1),
        FaultAction::Status {
            status: 500,
            retry_after: None,
        },
    );
    rule.method = Some("PATCH".into());
    emu.add_fault(rule);
    let r = patch(&emu, "/me/drive/root:/x.txt", json!({"name": "y.txt"}));
    assert_eq!(r.status, 500);
    assert!(emu.item_json(&drive, "/x.txt").is_some());
    // the answer is lost after the move happened: a retry by the old path is a 404,
    // and the item is where the move put it
    let mut rule = FaultRule::new(Times::Next(1), FaultAction::DropResponseAfter(0));
    rule.method = Some("PATCH".into());
    emu.add_fault(rule);
    let auth = bearer(&emu);
    let (raw, _) = raw_exchange(
        &format!("{}/me/drive/root:/x.txt", emu.base_url()),
        "PATCH",
        &[("Authorization", &auth)],
        br#"{"name":"y.txt"}"#,
    );
    assert!(raw.is_empty());
    assert!(emu.item_json(&drive, "/y.txt").is_some());
    assert_eq!(
        patch(&emu, "/me/drive/root:/x.txt", json!({"name": "y.txt"})).status,
        404
    );
}
