//! Items, drives, paths, simple upload, auth, errors, request log, admin path.

mod common;

use base64::Engine as _;
use common::*;
use onedrive_emulator::{Config, Profile, quick_xor_hash};
use serde_json::{Value, json};
use sha1::Digest as _;

fn upper_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

#[test]
fn design_example_put_by_path_creates_folder() {
    let emu = start(Profile::Personal);
    let body = b"The contents of the file goes here.";
    let r = api(
        &emu,
        "PUT",
        "/me/drive/root:/FolderA/FileB.txt:/content",
        body,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    assert_eq!(v["size"], 35);
    assert_eq!(v["name"], "FileB.txt");
    assert_eq!(v["file"]["mimeType"], "text/plain");
    assert_eq!(v["file"]["hashes"]["quickXorHash"], quick_xor_hash(body));
    assert_eq!(
        v["file"]["hashes"]["sha1Hash"],
        upper_hex(&sha1::Sha1::digest(body))
    );
    assert_eq!(
        v["file"]["hashes"]["sha256Hash"],
        upper_hex(&sha2::Sha256::digest(body))
    );
    for k in [
        "id",
        "eTag",
        "cTag",
        "createdDateTime",
        "lastModifiedDateTime",
    ] {
        assert!(v[k].is_string(), "{k} missing in {v}");
    }
    let drive = emu.default_drive_id();
    let folder = emu
        .item_json(&drive, "/FolderA")
        .expect("FolderA created implicitly");
    assert_eq!(folder["folder"]["childCount"], 1);
    assert_eq!(v["parentReference"]["id"], folder["id"]);
    assert_eq!(v["parentReference"]["driveId"], drive.as_str());
    assert_eq!(
        v["parentReference"]["path"],
        format!("/drives/{drive}/root:/FolderA")
    );
    assert_eq!(emu.content(&drive, "/FolderA/FileB.txt").unwrap(), body);
    assert!(r.header("request-id").is_some());
}

#[test]
fn every_drive_prefix() {
    for profile in [Profile::Personal, Profile::Business] {
        let emu = start(profile);
        let ids = emu.drive_ids();
        assert!(ids.len() >= 3);
        assert_eq!(ids[0], emu.default_drive_id());
        let (me, group, site) = (&ids[0], &ids[1], &ids[2]);
        let cases = [
            ("/me/drive".to_string(), me.clone()),
            ("/drive".to_string(), me.clone()),
            (format!("/drives/{me}"), me.clone()),
            (format!("/users/{}/drive", emu.user_id()), me.clone()),
            (format!("/groups/{}/drive", emu.group_id()), group.clone()),
            (format!("/sites/{}/drive", emu.site_id()), site.clone()),
            (format!("/drives/{group}"), group.clone()),
            (format!("/drives/{site}"), site.clone()),
        ];
        for (i, (prefix, drive)) in cases.iter().enumerate() {
            let d = api(&emu, "GET", prefix, b"");
            assert_eq!(d.status, 200, "{prefix}: {}", d.text());
            assert_eq!(&d.json()["id"], drive.as_str());
            let name = format!("f{i}.txt");
            let r = api(
                &emu,
                "PUT",
                &format!("{prefix}/root:/{name}:/content"),
                name.as_bytes(),
            );
            assert_eq!(r.status, 201, "{prefix}: {}", r.text());
            assert_eq!(&r.json()["parentReference"]["driveId"], drive.as_str());
            let id = r.json()["id"].as_str().unwrap().to_string();
            let g = api(&emu, "GET", &format!("{prefix}/items/{id}"), b"");
            assert_eq!(g.status, 200);
            assert_eq!(g.json()["name"], name.as_str());
            let g = api(&emu, "GET", &format!("{prefix}/root"), b"");
            assert_eq!(g.status, 200);
            assert!(g.json()["root"].is_object());
            assert_eq!(
                emu.content(drive, &format!("/{name}")).unwrap(),
                name.as_bytes()
            );
        }
        // An item of one drive is not visible through another.
        let r = api(
            &emu,
            "PUT",
            &format!("/drives/{group}/root:/only-here.txt:/content"),
            b"x",
        );
        let id = r.json()["id"].as_str().unwrap().to_string();
        assert_eq!(
            api(&emu, "GET", &format!("/me/drive/items/{id}"), b"").status,
            404
        );
        assert_eq!(api(&emu, "GET", "/drives/nope/root", b"").status, 404);
        assert_eq!(api(&emu, "GET", "/groups/nope/drive/root", b"").status, 404);
    }
}

#[test]
fn profiles_shape_ids_and_drive_types() {
    let p = start(Profile::Personal);
    let r = api(&p, "GET", "/me/drive", b"").json();
    assert_eq!(r["driveType"], "personal");
    let item = put_file(&p, "/a.txt", b"a");
    assert!(item["id"].as_str().unwrap().contains('!'), "{item}");
    let b = start(Profile::Business);
    let r = api(&b, "GET", "/me/drive", b"").json();
    assert_eq!(r["driveType"], "business");
    assert!(r["id"].as_str().unwrap().starts_with("b!"));
    let item = put_file(&b, "/a.txt", b"a");
    assert!(item["id"].as_str().unwrap().starts_with("01"), "{item}");
    assert_eq!(item["file"]["hashes"]["quickXorHash"], quick_xor_hash(b"a"));
}

#[test]
fn upload_by_parent_id_and_replace_by_id() {
    let emu = start(Profile::Personal);
    let folder = api(
        &emu,
        "POST",
        "/me/drive/root/children",
        br#"{"name":"Docs","folder":{}}"#,
    );
    assert_eq!(folder.status, 201, "{}", folder.text());
    let fid = folder.json()["id"].as_str().unwrap().to_string();
    let r = api(
        &emu,
        "PUT",
        &format!("/me/drive/items/{fid}:/new.txt:/content"),
        b"one",
    );
    assert_eq!(r.status, 201);
    let v = r.json();
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["parentReference"]["id"], fid.as_str());
    let r2 = api(
        &emu,
        "PUT",
        &format!("/me/drive/items/{id}/content"),
        b"two!",
    );
    assert_eq!(r2.status, 200, "{}", r2.text());
    let v2 = r2.json();
    assert_eq!(v2["id"], id.as_str());
    assert_eq!(v2["size"], 4);
    assert_ne!(v2["eTag"], v["eTag"]);
    assert_ne!(v2["cTag"], v["cTag"]);
    assert_eq!(v2["createdDateTime"], v["createdDateTime"]);
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/Docs/new.txt")
            .unwrap(),
        b"two!"
    );
    // relative path below an item id, nested
    let r3 = api(
        &emu,
        "PUT",
        &format!("/drive/items/{fid}:/sub/deeper/x.bin:/content"),
        &[0u8, 1, 2],
    );
    assert_eq!(r3.status, 201);
    let g = api(
        &emu,
        "GET",
        &format!("/drive/items/{fid}:/sub/deeper/x.bin:"),
        b"",
    );
    assert_eq!(g.json()["id"], r3.json()["id"]);
    assert_eq!(g.json()["file"]["mimeType"], "application/octet-stream");
    // If-Match with a stale eTag
    let stale = v["eTag"].as_str().unwrap();
    let r4 = api_h(
        &emu,
        "PUT",
        &format!("/me/drive/items/{id}/content"),
        &[("If-Match", stale)],
        b"three",
    );
    assert_eq!(r4.status, 412);
    assert_eq!(r4.error_code(), "resourceModified");
    // content to a folder
    let r5 = api(&emu, "PUT", &format!("/me/drive/items/{fid}/content"), b"x");
    assert_eq!(r5.status, 400);
}

#[test]
fn simple_upload_conflict_behaviours() {
    let emu = start(Profile::Personal);
    let first = put_file(&emu, "/c/name.txt", b"v1");
    let id = first["id"].as_str().unwrap().to_string();
    // default: replace -> 200, same id
    let r = api(&emu, "PUT", "/me/drive/root:/c/name.txt:/content", b"v2");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["id"], id.as_str());
    // explicit replace, different case: same item (names are case-insensitive)
    let r = api(
        &emu,
        "PUT",
        "/me/drive/root:/c/NAME.TXT:/content?@microsoft.graph.conflictBehavior=replace",
        b"v3",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["id"], id.as_str());
    assert_eq!(r.json()["name"], "name.txt");
    // fail -> 409 nameAlreadyExists
    let r = api(
        &emu,
        "PUT",
        "/me/drive/root:/c/name.txt:/content?@microsoft.graph.conflictBehavior=fail",
        b"v4",
    );
    assert_eq!(r.status, 409);
    assert_eq!(r.error_code(), "nameAlreadyExists");
    // rename -> "name 1.txt", then "name 2.txt"; '@' may come percent-encoded
    let r = api(
        &emu,
        "PUT",
        "/me/drive/root:/c/name.txt:/content?%40microsoft.graph.conflictBehavior=rename",
        b"v5",
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["name"], "name 1.txt");
    let r = api(
        &emu,
        "PUT",
        "/me/drive/root:/c/name.txt:/content?@microsoft.graph.conflictBehavior=rename",
        b"v6",
    );
    assert_eq!(r.json()["name"], "name 2.txt");
    let r = api(
        &emu,
        "PUT",
        "/me/drive/root:/c/name.txt:/content?@microsoft.graph.conflictBehavior=bogus",
        b"v7",
    );
    assert_eq!(r.status, 400);
    let drive = emu.default_drive_id();
    assert_eq!(emu.content(&drive, "/c/name.txt").unwrap(), b"v3");
    assert_eq!(emu.content(&drive, "/c/name 1.txt").unwrap(), b"v5");
    assert_eq!(
        emu.item_json(&drive, "/c").unwrap()["folder"]["childCount"],
        3
    );
    // a file cannot replace a folder
    let r = api(&emu, "PUT", "/me/drive/root:/c:/content", b"x");
    assert_eq!(r.status, 409);
}

#[test]
fn folders_children_and_conflicts() {
    let emu = start(Profile::Personal);
    let mk = |body: Value| {
        api(
            &emu,
            "POST",
            "/me/drive/root/children",
            body.to_string().as_bytes(),
        )
    };
    let r = mk(json!({"name": "F", "folder": {}}));
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["folder"]["childCount"], 0);
    let fid = r.json()["id"].as_str().unwrap().to_string();
    // default for folder creation: fail
    let r = mk(json!({"name": "f", "folder": {}}));
    assert_eq!(r.status, 409);
    assert_eq!(r.error_code(), "nameAlreadyExists");
    let r = mk(json!({"name": "F", "folder": {}, "@microsoft.graph.conflictBehavior": "rename"}));
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["name"], "F 1");
    put_file(&emu, "/F/inner.txt", b"inner");
    let r = mk(json!({"name": "F", "folder": {}, "@microsoft.graph.conflictBehavior": "replace"}));
    assert_eq!(r.status, 201);
    assert_ne!(r.json()["id"], fid.as_str());
    assert_eq!(r.json()["folder"]["childCount"], 0);
    // children listing, by path and by id, with folders and files
    put_file(&emu, "/F/b.txt", b"bb");
    put_file(&emu, "/F/a.txt", b"a");
    api(
        &emu,
        "POST",
        "/me/drive/root:/F:/children",
        br#"{"name":"sub","folder":{}}"#,
    );
    let l = api(&emu, "GET", "/me/drive/root:/F:/children", b"");
    assert_eq!(l.status, 200);
    let names: Vec<String> = l.json()["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["a.txt", "b.txt", "sub"]);
    let id = emu.item_json(&emu.default_drive_id(), "/F").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let l2 = api(&emu, "GET", &format!("/me/drive/items/{id}/children"), b"");
    assert_eq!(l2.json()["value"].as_array().unwrap().len(), 3);
    let root = api(&emu, "GET", "/me/drive/root/children", b"").json();
    assert_eq!(root["value"].as_array().unwrap().len(), 2);
    // folder size = sum of its files
    assert_eq!(api(&emu, "GET", "/me/drive/root:/F", b"").json()["size"], 3);
    // bad bodies
    assert_eq!(mk(json!({"name": "x"})).status, 400);
    assert_eq!(
        api(&emu, "POST", "/me/drive/root/children", b"{not json").status,
        400
    );
    assert_eq!(mk(json!({"name": "a:b", "folder": {}})).status, 400);
    let file_id = put_file(&emu, "/plain.txt", b"p")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api(
        &emu,
        "POST",
        &format!("/me/drive/items/{file_id}/children"),
        br#"{"name":"x","folder":{}}"#,
    );
    assert_eq!(r.status, 400);
}

#[test]
fn forbidden_names_are_refused() {
    let emu = start(Profile::Personal);
    for enc in [
        "a%22b", "a%2Ab", "a%3Ab", "a%3Cb", "a%3Eb", "a%3Fb", "a%5Cb", "a%7Cb", "a*b", "a%7C",
    ] {
        let r = api(
            &emu,
            "PUT",
            &format!("/me/drive/root:/ok/{enc}.txt:/content"),
            b"x",
        );
        assert_eq!(r.status, 400, "{enc}: {}", r.text());
        assert_eq!(r.error_code(), "invalidRequest", "{enc}");
    }
    // nothing was created on the way
    assert!(emu.item_json(&emu.default_drive_id(), "/ok").is_none());
    let r = api(
        &emu,
        "POST",
        "/me/drive/root/children",
        br#"{"name":"bad|name","folder":{}}"#,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "invalidRequest");
}

#[test]
fn path_encoding() {
    let emu = start(Profile::Personal);
    let drive = emu.default_drive_id();
    let cases = [
        ("/My%20Folder/a%20b.txt", "/My Folder/a b.txt"),
        ("/hash%23dir/c%23.txt", "/hash#dir/c#.txt"),
        ("/pct%25/100%25.txt", "/pct%/100%.txt"),
        (
            "/%C3%A9t%C3%A9/%E6%97%A5%E6%9C%AC%E8%AA%9E.txt",
            "/été/日本語.txt",
        ),
        ("/n1/n2/n3/n4/deep.txt", "/n1/n2/n3/n4/deep.txt"),
        ("/plus+sign/a+b.txt", "/plus+sign/a+b.txt"),
    ];
    for (i, (enc, dec)) in cases.iter().enumerate() {
        let body = format!("body {i}");
        let r = api(
            &emu,
            "PUT",
            &format!("/me/drive/root:{enc}:/content"),
            body.as_bytes(),
        );
        assert_eq!(r.status, 201, "{enc}: {}", r.text());
        let name = dec.rsplit('/').next().unwrap();
        assert_eq!(r.json()["name"], name);
        assert_eq!(emu.content(&drive, dec).unwrap(), body.as_bytes(), "{dec}");
        let g = api(&emu, "GET", &format!("/me/drive/root:{enc}"), b"");
        assert_eq!(g.status, 200, "{enc}");
        assert_eq!(g.json()["id"], r.json()["id"]);
        let g = api(&emu, "GET", &format!("/me/drive/root:{enc}:"), b"");
        assert_eq!(g.json()["id"], r.json()["id"]);
        // the whole "root:/...:" as one encoded segment, as the SDKs send it
        let one = format!("root:{dec}:")
            .replace('%', "%25")
            .replace(':', "%3A")
            .replace('/', "%2F")
            .replace(' ', "%20")
            .replace('#', "%23");
        let g = api(&emu, "GET", &format!("/me/drive/items/{one}"), b"");
        assert_eq!(g.status, 200, "{one}: {}", g.text());
        assert_eq!(g.json()["id"], r.json()["id"]);
    }
    // one-segment form for upload too
    let r = api(
        &emu,
        "PUT",
        "/me/drive/items/root%3A%2FOne%20Seg%2Fx.txt%3A/content",
        b"seg",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(emu.content(&drive, "/One Seg/x.txt").unwrap(), b"seg");
    // parentReference.path is decoded
    let v = api(&emu, "GET", "/me/drive/root:/My%20Folder/a%20b.txt", b"").json();
    assert_eq!(
        v["parentReference"]["path"],
        format!("/drives/{drive}/root:/My Folder")
    );
    // missing items, bad escapes
    assert_eq!(
        api(&emu, "GET", "/me/drive/root:/nope/x.txt", b"").error_code(),
        "itemNotFound"
    );
    assert_eq!(api(&emu, "GET", "/me/drive/root:/bad%zz", b"").status, 400);
    assert_eq!(api(&emu, "GET", "/me/drive/bogus", b"").status, 400);
    assert_eq!(api(&emu, "GET", "/me/drive/items/x/bogus", b"").status, 400);
}

#[test]
fn simple_upload_limit() {
    let emu = start(Profile::Personal);
    let four = vec![7u8; 4 * 1024 * 1024];
    let r = api(&emu, "PUT", "/me/drive/root:/four.bin:/content", &four);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["size"], 4 * 1024 * 1024);
    assert_eq!(
        r.json()["file"]["hashes"]["quickXorHash"],
        quick_xor_hash(&four)
    );
    let mut more = four.clone();
    more.push(1);
    let r = api(&emu, "PUT", "/me/drive/root:/more.bin:/content", &more);
    assert_eq!(r.status, 413, "{}", r.text());
    r.error_code();
    assert!(
        emu.item_json(&emu.default_drive_id(), "/more.bin")
            .is_none()
    );
    // replace by id over the limit is refused too, and the item keeps its content
    let id = emu.item_json(&emu.default_drive_id(), "/four.bin").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api(&emu, "PUT", &format!("/me/drive/items/{id}/content"), &more);
    assert_eq!(r.status, 413);
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/four.bin")
            .unwrap()
            .len(),
        four.len()
    );
    // configurable limit
    let small = start_with(Config {
        simple_upload_limit: 10,
        ..Config::default()
    });
    assert_eq!(
        api(&small, "PUT", "/me/drive/root:/a:/content", &[0; 10]).status,
        201
    );
    assert_eq!(
        api(&small, "PUT", "/me/drive/root:/b:/content", &[0; 11]).status,
        413
    );
}

#[test]
fn delete_items() {
    let emu = start(Profile::Personal);
    let drive = emu.default_drive_id();
    let f = put_file(&emu, "/d/x.txt", b"x");
    put_file(&emu, "/d/sub/y.txt", b"y");
    let id = f["id"].as_str().unwrap();
    let r = api(&emu, "DELETE", &format!("/me/drive/items/{id}"), b"");
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());
    assert_eq!(
        api(&emu, "GET", &format!("/me/drive/items/{id}"), b"").status,
        404
    );
    assert_eq!(
        api(&emu, "DELETE", &format!("/me/drive/items/{id}"), b"").status,
        404
    );
    let r = api(&emu, "DELETE", "/me/drive/root:/d", b"");
    assert_eq!(r.status, 204);
    assert!(emu.item_json(&drive, "/d/sub/y.txt").is_none());
    assert!(emu.item_json(&drive, "/d").is_none());
    let r = api(&emu, "DELETE", "/me/drive/root", b"");
    assert_eq!(r.status, 403);
    assert_eq!(r.error_code(), "accessDenied");
}

#[test]
fn download_redirects_to_the_monitor_origin() {
    let emu = start(Profile::Personal);
    put_file(&emu, "/dl.txt", b"download me");
    let r = api(&emu, "GET", "/me/drive/root:/dl.txt:/content", b"");
    assert_eq!(r.status, 302);
    let loc = r.header("location").unwrap().to_string();
    assert!(loc.starts_with(&emu.monitor_origin()), "{loc}");
    let d = get(&loc);
    assert_eq!(d.status, 200);
    assert_eq!(d.body, b"download me");
    let auth = bearer(&emu);
    assert_eq!(
        request("GET", &loc, &[("Authorization", &auth)], b"")
            .unwrap()
            .status,
        401
    );
}

#[test]
fn auth_on_the_api_origin() {
    let emu = start(Profile::Personal);
    let url = format!("{}/me/drive/root", emu.base_url());
    let r = request("GET", &url, &[], b"").unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "InvalidAuthenticationToken");
    assert!(r.header("www-authenticate").is_some());
    let r = request("GET", &url, &[("Authorization", "Bearer wrong")], b"").unwrap();
    assert_eq!(r.status, 401);
    let r = request("GET", &url, &[("Authorization", "Basic dGVzdA==")], b"").unwrap();
    assert_eq!(r.status, 401);
    let r = request(
        "GET",
        &url,
        &[("Authorization", &format!("bearer {}", emu.token()))],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 200);
    // a refused upload does not create anything and the body is drained
    let r = request(
        "PUT",
        &format!("{}/me/drive/root:/x.txt:/content", emu.base_url()),
        &[],
        &[1; 100_000],
    )
    .unwrap();
    assert_eq!(r.status, 401);
    assert!(emu.item_json(&emu.default_drive_id(), "/x.txt").is_none());
    // custom token
    let emu2 = start_with(Config {
        token: "s3cret".into(),
        ..Config::default()
    });
    assert_eq!(emu2.token(), "s3cret");
    let url2 = format!("{}/me/drive", emu2.base_url());
    assert_eq!(
        request("GET", &url2, &[("Authorization", "Bearer s3cret")], b"")
            .unwrap()
            .status,
        200
    );
    assert_eq!(
        request("GET", &url2, &[("Authorization", "Bearer test-token")], b"")
            .unwrap()
            .status,
        401
    );
}

#[test]
fn keep_alive_connection_serves_many_requests() {
    let emu = start(Profile::Personal);
    let mut c = Conn::open(&emu.api_origin());
    let auth = bearer(&emu);
    let base = emu.base_url();
    let (_, prefix) = split_url(&base);
    for i in 0..20 {
        let r = c
            .send(
                "PUT",
                &format!("{prefix}/me/drive/root:/k/{i}.txt:/content"),
                &[("Authorization", &auth)],
                format!("{i}").as_bytes(),
            )
            .unwrap();
        assert_eq!(r.status, 201);
    }
    let r = c
        .send(
            "GET",
            &format!("{prefix}/me/drive/root:/k:/children"),
            &[("Authorization", &auth)],
            b"",
        )
        .unwrap();
    assert_eq!(r.json()["value"].as_array().unwrap().len(), 20);
    // an error answer keeps the connection usable
    let r = c
        .send(
            "GET",
            &format!("{prefix}/me/drive/root:/none"),
            &[("Authorization", &auth)],
            b"",
        )
        .unwrap();
    assert_eq!(r.status, 404);
    let r = c
        .send(
            "GET",
            &format!("{prefix}/me/drive/root"),
            &[("Authorization", &auth)],
            b"",
        )
        .unwrap();
    assert_eq!(r.status, 200);
}

#[test]
fn quickxorhash_vectors_through_upload() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/quickxorhash_vectors.json"
    );
    let vectors: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(vectors.len() >= 10);
    let emu = start(Profile::Business);
    for (i, v) in vectors.iter().enumerate() {
        let input = base64::engine::general_purpose::STANDARD
            .decode(v["input_base64"].as_str().unwrap())
            .unwrap();
        assert_eq!(quick_xor_hash(&input), v["quickXorHash"].as_str().unwrap());
        let r = api(
            &emu,
            "PUT",
            &format!("/me/drive/root:/v{i}.bin:/content"),
            &input,
        );
        assert_eq!(r.status, 201);
        assert_eq!(
            r.json()["file"]["hashes"]["quickXorHash"],
            v["quickXorHash"]
        );
        assert_eq!(r.json()["size"], v["size"]);
    }
}

#[test]
fn request_log_records_without_secrets() {
    let emu = start(Profile::Personal);
    emu.clear_requests();
    put_file(&emu, "/log%20me.txt", b"12345");
    let _ = request(
        "GET",
        &format!("{}/me/drive/root?select=id", emu.base_url()),
        &[],
        b"",
    )
    .unwrap();
    let url = emu.serve_static("s.txt", b"static".to_vec());
    assert_eq!(get(&url).status, 200);
    let _ = request(
        "GET",
        &format!("{}/_emulator/info", emu.api_origin()),
        &[("Authorization", admin_bearer(&emu).as_str())],
        b"",
    )
    .unwrap();
    let log = emu.requests();
    assert_eq!(log.len(), 4, "{log:?}");
    assert_eq!(log[0].method, "PUT");
    assert_eq!(log[0].origin, "api");
    assert_eq!(log[0].path, "/v1.0/me/drive/root:/log%20me.txt:/content");
    assert_eq!(log[0].status, 201);
    assert!(log[0].authorization);
    assert_eq!(log[0].body_bytes, 5);
    assert_eq!(log[0].fault, None);
    assert_eq!(log[1].query, "select=id");
    assert_eq!(log[1].status, 401);
    assert!(!log[1].authorization);
    assert_eq!(log[2].origin, "monitor");
    assert_eq!(log[3].origin, "admin");
    assert!(
        log.windows(2)
            .all(|w| w[0].seq < w[1].seq && w[0].at_ms <= w[1].at_ms)
    );
    let text = serde_json::to_string(&log).unwrap();
    assert!(
        !text.contains(&emu.token()),
        "the token leaked into the log"
    );
    // the admin view of the log is the same JSON
    let admin = request(
        "GET",
        &format!("{}/_emulator/requests", emu.api_origin()),
        &[("Authorization", admin_bearer(&emu).as_str())],
        b"",
    )
    .unwrap();
    let arr = admin.json();
    assert_eq!(arr.as_array().unwrap().len(), 5);
    assert_eq!(arr[0]["authorization"], true);
    assert!(!admin.text().contains(&emu.token()));
    emu.clear_requests();
    assert!(emu.requests().is_empty());
}

#[test]
fn admin_path() {
    let emu = start(Profile::Business);
    let o = emu.api_origin();
    let info = request(
        "GET",
        &format!("{o}/_emulator/info"),
        &[("Authorization", admin_bearer(&emu).as_str())],
        b"",
    )
    .unwrap();
    assert_eq!(info.status, 200);
    let v = info.json();
    assert_eq!(v["base_url"], emu.base_url().as_str());
    assert_eq!(v["api_origin"], o.as_str());
    assert_eq!(v["monitor_origin"], emu.monitor_origin().as_str());
    assert_eq!(v["profile"], "business");
    assert_eq!(v["default_drive_id"], emu.default_drive_id().as_str());
    assert_eq!(
        v["drive_ids"].as_array().unwrap().len(),
        emu.drive_ids().len()
    );
    // job config round trip
    let j = request(
        "GET",
        &format!("{o}/_emulator/job"),
        &[("Authorization", admin_bearer(&emu).as_str())],
        b"",
    )
    .unwrap()
    .json();
    assert_eq!(j["base_ms"], 50);
    assert_eq!(j["fail"], Value::Null);
    let put = request(
        "PUT",
        &format!("{o}/_emulator/job"),
        &[("Authorization", admin_bearer(&emu).as_str())],
        br#"{"base_ms":7,"bytes_per_sec":1000,"paused":true,"fail":"http500"}"#,
    )
    .unwrap();
    assert_eq!(put.status, 200);
    let jc = emu.job_config();
    assert_eq!((jc.base_ms, jc.bytes_per_sec, jc.paused), (7, 1000, true));
    assert_eq!(jc.fail, Some(onedrive_emulator::JobFailMode::Http500));
    assert_eq!(
        request(
            "PUT",
            &format!("{o}/_emulator/job"),
            &[("Authorization", admin_bearer(&emu).as_str())],
            b"nope"
        )
        .unwrap()
        .status,
        400
    );
    // faults
    let f = request(
        "POST",
        &format!("{o}/_emulator/faults"),
        &[("Authorization", admin_bearer(&emu).as_str())],
        br#"{"times":{"next":1},"action":{"status":{"status":503,"retry_after":2}}}"#,
    )
    .unwrap();
    assert_eq!(f.status, 201, "{}", f.text());
    let r = api(&emu, "GET", "/me/drive", b"");
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("2"));
    assert_eq!(api(&emu, "GET", "/me/drive", b"").status, 200);
    request(
        "POST",
        &format!("{o}/_emulator/faults"),
        &[("Authorization", admin_bearer(&emu).as_str())],
        br#"{"action":{"status":{"status":500}}}"#,
    )
    .unwrap();
    assert_eq!(api(&emu, "GET", "/me/drive", b"").status, 500);
    assert_eq!(
        request(
            "DELETE",
            &format!("{o}/_emulator/faults"),
            &[("Authorization", admin_bearer(&emu).as_str())],
            b""
        )
        .unwrap()
        .status,
        204
    );
    assert_eq!(api(&emu, "GET", "/me/drive", b"").status, 200);
    assert_eq!(
        request(
            "POST",
            &format!("{o}/_emulator/faults"),
            &[("Authorization", admin_bearer(&emu).as_str())],
            br#"{"action":{}}"#
        )
        .unwrap()
        .status,
        400
    );
    // static files
    let s = request(
        "PUT",
        &format!("{o}/_emulator/static/pic%201.jpg"),
        &[("Authorization", admin_bearer(&emu).as_str())],
        b"JPEGDATA",
    )
    .unwrap();
    assert_eq!(s.status, 200);
    let url = s.json()["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&emu.monitor_origin()));
    let g = get(&url);
    assert_eq!(g.body, b"JPEGDATA");
    assert_eq!(g.header("content-type"), Some("image/jpeg"));
    assert_eq!(
        get(&format!("{}/static/none", emu.monitor_origin())).status,
        404
    );
    // requests
    assert_eq!(
        request(
            "DELETE",
            &format!("{o}/_emulator/requests"),
            &[("Authorization", admin_bearer(&emu).as_str())],
            b""
        )
        .unwrap()
        .status,
        204
    );
    assert!(emu.requests().is_empty()); // the clear removes its own entry too
    assert_eq!(
        request(
            "GET",
            &format!("{o}/_emulator/nope"),
            &[("Authorization", admin_bearer(&emu).as_str())],
            b""
        )
        .unwrap()
        .status,
        404
    );
}

#[tokio::test]
async fn start_and_drop_inside_an_async_runtime() {
    let emu = start(Profile::Personal);
    let url = format!("{}/me/drive", emu.base_url());
    let token = bearer(&emu);
    let status = tokio::task::spawn_blocking(move || {
        request("GET", &url, &[("Authorization", &token)], b"")
            .unwrap()
            .status
    })
    .await
    .unwrap();
    assert_eq!(status, 200);
    drop(emu);
}

#[test]
fn concurrent_clients() {
    let emu = start(Profile::Personal);
    let base = emu.base_url();
    let auth = bearer(&emu);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (base, auth) = (base.clone(), auth.clone());
            std::thread::spawn(move || {
                for i in 0..25 {
                    let url = format!("{base}/me/drive/root:/conc/t{t}/f{i}.txt:/content");
                    let r = request(
                        "PUT",
                        &url,
                        &[("Authorization", &auth)],
                        format!("{t}-{i}").as_bytes(),
                    )
                    .unwrap();
                    assert_eq!(r.status, 201);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let drive = emu.default_drive_id();
    for t in 0..4 {
        assert_eq!(
            emu.item_json(&drive, &format!("/conc/t{t}")).unwrap()["folder"]["childCount"],
            25
        );
    }
    let log = emu.requests();
    assert_eq!(log.len(), 100);
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq));
}
