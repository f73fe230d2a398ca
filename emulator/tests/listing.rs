//! Listing children with `$top` and `@odata.nextLink`, seeded big folders.

mod common;

use common::*;
use onedrive_emulator::{Emulator, FaultAction, FaultRule, Profile, Times};
use serde_json::Value;

/// Follow nextLinks from `first` (relative to base_url); every page and the names in order.
fn list_all(emu: &Emulator, first: &str) -> (Vec<Value>, Vec<String>) {
    let auth = bearer(emu);
    let mut url = format!("{}{first}", emu.base_url());
    let mut pages = Vec::new();
    let mut names = Vec::new();
    let mut conn = Conn::open(&url);
    loop {
        let (_, target) = split_url(&url);
        let r = conn
            .send("GET", &target, &[("Authorization", &auth)], b"")
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        for c in v["value"].as_array().unwrap() {
            names.push(c["name"].as_str().unwrap().to_string());
        }
        let next = v["@odata.nextLink"].as_str().map(str::to_string);
        pages.push(v);
        match next {
            Some(n) => {
                assert!(n.starts_with(&emu.api_origin()), "{n}");
                assert!(n.contains("$skiptoken="), "{n}");
                url = n;
            }
            None => return (pages, names),
        }
    }
}

#[test]
fn pages_of_the_default_size_with_every_field() {
    let emu = start(Profile::Personal);
    let drive = emu.default_drive_id();
    emu.seed_files(&drive, "/many", "f", 450).unwrap();
    put_file(&emu, "/many/Zeta.txt", b"zeta");
    mkdir(&emu, "/many", "alpha");
    put_file(&emu, "/many/alpha/inner.txt", b"12345");
    let (pages, names) = list_all(&emu, "/me/drive/root:/many:/children");
    assert_eq!(
        pages
            .iter()
            .map(|p| p["value"].as_array().unwrap().len())
            .collect::<Vec<_>>(),
        [200, 200, 52]
    );
    // name order, case ignored
    assert_eq!(names.len(), 452);
    assert_eq!(names[0], "alpha");
    assert_eq!(names[1], "f001");
    assert_eq!(names[450], "f450");
    assert_eq!(names[451], "Zeta.txt");
    let parent = emu.item_json(&drive, "/many").unwrap();
    let first = &pages[0]["value"][0];
    assert_eq!(first["folder"]["childCount"], 1);
    assert_eq!(first["size"], 5);
    let file = &pages[0]["value"][1];
    for c in [first, file] {
        for k in [
            "id",
            "name",
            "eTag",
            "lastModifiedDateTime",
            "createdDateTime",
        ] {
            assert!(c[k].is_string(), "{k} in {c}");
        }
        assert!(c["size"].is_u64());
        assert_eq!(c["parentReference"]["id"], parent["id"]);
        assert_eq!(c["parentReference"]["driveId"], drive.as_str());
    }
    assert_eq!(file["size"], 0);
    assert!(file["file"]["hashes"]["quickXorHash"].is_string());
    assert!(file.get("folder").is_none());
    // the same item as GET answers, which adds a download URL
    let mut direct = api(&emu, "GET", "/me/drive/root:/many/f001", b"").json();
    let url = direct
        .as_object_mut()
        .unwrap()
        .remove("@microsoft.graph.downloadUrl")
        .unwrap();
    assert!(url.as_str().unwrap().contains("/download/"), "{url}");
    assert_eq!(file, &direct);
    // an empty folder: one empty page
    mkdir(&emu, "/", "none");
    let (pages, names) = list_all(&emu, "/me/drive/root:/none:/children");
    assert_eq!((pages.len(), names.len()), (1, 0));
    assert_eq!(pages[0]["value"], serde_json::json!([]));
}

#[test]
fn top_and_skiptoken() {
    let emu = start(Profile::Business);
    let drive = emu.default_drive_id();
    emu.seed_files(&drive, "/t", "n", 25).unwrap();
    let (pages, names) = list_all(&emu, "/me/drive/root:/t:/children?$top=10");
    assert_eq!(pages.len(), 3);
    assert_eq!(names.len(), 25);
    let (_, by_id) = list_all(
        &emu,
        &format!(
            "/drives/{drive}/items/{}/children?%24top=7",
            emu.item_json(&drive, "/t").unwrap()["id"].as_str().unwrap()
        ),
    );
    assert_eq!(by_id, names);
    // $top above the cap is capped, not refused
    let r = api(&emu, "GET", "/me/drive/root:/t:/children?$top=100000", b"");
    assert_eq!(r.json()["value"].as_array().unwrap().len(), 25);
    for bad in ["$top=0", "$top=-1", "$top=x", "$skiptoken=!!!"] {
        let r = api(
            &emu,
            "GET",
            &format!("/me/drive/root:/t:/children?{bad}"),
            b"",
        );
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.error_code(), "invalidRequest");
    }
    // children added and removed between pages neither repeat nor shift the pages
    let r = api(&emu, "GET", "/me/drive/root:/t:/children?$top=10", b"");
    let next = r.json()["@odata.nextLink"].as_str().unwrap().to_string();
    assert_eq!(
        api(&emu, "DELETE", "/me/drive/root:/t/n10", b"").status,
        204
    );
    put_file(&emu, "/t/a-first.txt", b"");
    put_file(&emu, "/t/n105.txt", b"");
    let auth = bearer(&emu);
    let r = request("GET", &next, &[("Authorization", &auth)], b"").unwrap();
    let got: Vec<String> = r.json()["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got[0], "n105.txt");
    assert_eq!(got[1], "n11");
    // the nextLink wants the token like any API URL
    assert_eq!(request("GET", &next, &[], b"").unwrap().status, 401);
}

#[test]
fn a_hundred_thousand_children() {
    let emu = start(Profile::Personal);
    let drive = emu.default_drive_id();
    emu.seed_files(&drive, "/big", "file-", 100_000).unwrap();
    assert_eq!(
        emu.item_json(&drive, "/big").unwrap()["folder"]["childCount"],
        100_000
    );
    let (pages, names) = list_all(&emu, "/me/drive/root:/big:/children?$top=1000");
    assert_eq!(pages.len(), 100);
    assert_eq!(names.len(), 100_000);
    assert_eq!(names[0], "file-000001");
    assert_eq!(names[99_999], "file-100000");
    assert!(names.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn seeding_through_the_admin_path() {
    let emu = start(Profile::Personal);
    let admin = admin_bearer(&emu);
    let seed = |body: &str| {
        request(
            "POST",
            &format!("{}/_emulator/seed", emu.api_origin()),
            &[
                ("Authorization", &admin),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        )
        .unwrap()
    };
    let r = seed(r#"{"path":"/a/b","count":3}"#);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["count"], 3);
    let (_, names) = list_all(&emu, "/me/drive/root:/a/b:/children");
    assert_eq!(names, ["file1", "file2", "file3"]);
    // a name in use: 409 and nothing made
    let r = seed(r#"{"path":"/a/b","count":5}"#);
    assert_eq!(r.status, 409);
    assert!(
        emu.item_json(&emu.default_drive_id(), "/a/b/file4")
            .is_none()
    );
    let group = emu.drive_ids()[1].clone();
    let r = seed(&format!(
        r#"{{"drive_id":"{group}","path":"/g","count":2,"prefix":"x"}}"#
    ));
    assert_eq!(r.status, 201);
    assert!(emu.item_json(&group, "/g/x2").is_some());
    for bad in [
        r#"{"path":"/a","count":2000000}"#,
        r#"{"path":"/a","count":1,"prefix":"a:b"}"#,
        r#"{"path":"/a","count":1,"bogus":1}"#,
        r#"{"count":1}"#,
    ] {
        assert_eq!(seed(bad).status, 400, "{bad}");
    }
    assert_eq!(
        seed(r#"{"drive_id":"nope","path":"/a","count":1}"#).status,
        404
    );
    // the API token is not the admin's
    let auth = bearer(&emu);
    let r = request(
        "POST",
        &format!("{}/_emulator/seed", emu.api_origin()),
        &[("Authorization", &auth)],
        br#"{"path":"/z","count":1}"#,
    )
    .unwrap();
    assert_eq!(r.status, 401);
}

#[test]
fn a_503_on_a_page() {
    let emu = start(Profile::Personal);
    emu.seed_files(&emu.default_drive_id(), "/p", "f", 30)
        .unwrap();
    let r = api(&emu, "GET", "/me/drive/root:/p:/children?$top=10", b"");
    let next = r.json()["@odata.nextLink"].as_str().unwrap().to_string();
    let mut rule = FaultRule::new(
        Times::Next(1),
        FaultAction::Status {
            status: 503,
            retry_after: Some(2),
        },
    );
    rule.method = Some("GET".into());
    rule.path_contains = Some("/children".into());
    emu.add_fault(rule);
    let auth = bearer(&emu);
    let r = request("GET", &next, &[("Authorization", &auth)], b"").unwrap();
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("2"));
    assert_eq!(r.error_code(), "serviceNotAvailable");
    // the same link again: the page
    let r = request("GET", &next, &[("Authorization", &auth)], b"").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["value"][0]["name"], "f11");
}
