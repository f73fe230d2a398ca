//! Copy and upload-from-URL jobs, the monitor origin, both profiles, job failures.

mod common;

use common::*;
use onedrive_emulator::{Emulator, JobConfig, JobFailMode, Profile};
use serde_json::{Value, json};
use std::io::{Read, Write};

fn copy(emu: &Emulator, rel: &str, body: Value) -> Resp {
    api(emu, "POST", rel, body.to_string().as_bytes())
}

fn location(r: &Resp) -> String {
    assert_eq!(r.status, 202, "{}", r.text());
    assert!(r.body.is_empty(), "a 202 from copy has no body");
    r.header("location").expect("Location").to_string()
}

fn percent(r: &Resp) -> f64 {
    r.json()["percentageComplete"].as_f64().unwrap()
}

fn set_paused(emu: &Emulator, paused: bool) {
    emu.set_job_config(JobConfig {
        paused,
        ..emu.job_config()
    });
}

#[test]
fn copy_progress_until_303_personal() {
    let emu = start(Profile::Personal);
    let src = put_file(&emu, "/src/data.bin", &vec![9u8; 1000]);
    let id = src["id"].as_str().unwrap();
    let auth = bearer(&emu);

    // A slow job (60 s): watch it move, freeze it, and see it stay frozen.
    emu.set_job_config(JobConfig {
        base_ms: 60_000,
        paused: true,
        ..JobConfig::default()
    });
    let slow = copy(
        &emu,
        &format!("/me/drive/items/{id}/copy"),
        json!({"name": "slow.bin"}),
    );
    let slow = location(&slow);
    let m = get(&slow);
    assert_eq!(m.status, 202);
    assert_eq!(m.json()["status"], "inProgress");
    assert_eq!(percent(&m), 0.0, "paused from the start: no progress");
    set_paused(&emu, false);
    let p1 = wait_for(30, "progress", || {
        let p = percent(&get(&slow));
        (p > 0.0).then_some(p)
    });
    set_paused(&emu, true);
    let frozen = percent(&get(&slow));
    assert!(frozen >= p1 && frozen < 100.0, "{p1} {frozen}");
    assert_eq!(percent(&get(&slow)), frozen, "paused jobs do not move");

    // A short job (1.5 s), created while paused, watched until it completes.
    emu.set_job_config(JobConfig {
        base_ms: 1500,
        paused: true,
        ..JobConfig::default()
    });
    let r = copy(
        &emu,
        &format!("/me/drive/items/{id}/copy"),
        json!({"parentReference": {"path": "/drive/root:"}, "name": "copy.bin"}),
    );
    let loc = location(&r);
    assert!(
        loc.starts_with(&format!("{}/", emu.monitor_origin())),
        "{loc}"
    );
    assert!(!loc.contains(id), "the monitor URL is opaque");
    let m = get(&loc);
    assert_eq!(m.status, 202);
    let v = m.json();
    assert_eq!(v["operation"], "ItemCopy");
    assert_eq!(v["status"], "inProgress");
    assert_eq!(percent(&m), 0.0);
    // the token must not go to the monitor origin
    let leak = request("GET", &loc, &[("Authorization", &auth)], b"").unwrap();
    assert_eq!(leak.status, 401);
    assert_eq!(leak.error_code(), "unauthenticated");
    set_paused(&emu, false);
    // progress never goes back, and the job ends with 303 See Other (how many looks see
    // it running depends on the machine's speed: none is asserted; the paused look above
    // saw it in progress)
    let mut last = 0.0;
    let done = wait_for(60, "completion", || {
        let r = get(&loc);
        if r.status == 202 {
            let p = percent(&r);
            assert!(p >= last, "percentage went back from {last} to {p}");
            last = p;
            None
        } else {
            Some(r)
        }
    });
    assert_eq!(done.status, 303, "{}", done.text());
    let item_url = done.header("location").unwrap().to_string();
    let new_id = done.json()["resourceId"].as_str().unwrap().to_string();
    assert_eq!(
        item_url,
        format!(
            "{}/drives/{}/items/{}",
            emu.base_url(),
            emu.default_drive_id(),
            new_id
        )
    );
    let item = request("GET", &item_url, &[("Authorization", &auth)], b"").unwrap();
    assert_eq!(item.status, 200);
    assert_eq!(item.json()["name"], "copy.bin");
    assert_eq!(item.json()["file"]["hashes"], src["file"]["hashes"]);
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/copy.bin").unwrap(),
        vec![9u8; 1000]
    );
    // finished jobs stay answerable; the slow one is still where it was
    assert_eq!(get(&loc).status, 303);
    assert_eq!(get(&slow).status, 202);
}

#[test]
fn copy_business_completion_and_unknown_monitors() {
    let emu = start(Profile::Business);
    put_file(&emu, "/a.txt", b"business");
    let r = copy(
        &emu,
        "/me/drive/root:/a.txt:/copy",
        json!({"name": "b.txt"}),
    );
    let loc = location(&r);
    assert!(loc.contains("tempauth="), "{loc}");
    let done = poll_job(&loc);
    assert_eq!(done.status, 202, "{}", done.text());
    let v = done.json();
    assert_eq!(v["status"], "completed");
    assert_eq!(v["percentageComplete"].as_f64(), Some(100.0));
    let rid = v["resourceId"].as_str().unwrap();
    assert_eq!(
        emu.item_json(&emu.default_drive_id(), "/b.txt").unwrap()["id"],
        rid
    );
    // wrong tempauth
    let bad = loc.split("tempauth=").next().unwrap().to_string() + "tempauth=forged";
    assert_eq!(get(&bad).status, 401);
    // unknown monitor: Business 500 operationNotFound, Personal 404 itemNotFound
    let unknown = format!(
        "{}/_api/v2.0/monitor/doesnotexist?tempauth=x",
        emu.monitor_origin()
    );
    let u = get(&unknown);
    assert_eq!(u.status, 500);
    assert_eq!(u.error_code(), "operationNotFound");
    let p = start(Profile::Personal);
    let u = get(&format!("{}/monitor/doesnotexist", p.monitor_origin()));
    assert_eq!(u.status, 404);
    assert_eq!(u.error_code(), "itemNotFound");
    // any Authorization header at all is refused on the monitor origin
    let u = request("GET", &loc, &[("Authorization", "Bearer whatever")], b"").unwrap();
    assert_eq!(u.status, 401);
}

#[test]
fn copy_folder_recursively_across_drives() {
    let emu = start(Profile::Personal);
    put_file(&emu, "/tree/a.txt", b"A");
    put_file(&emu, "/tree/sub/b.txt", b"BB");
    put_file(&emu, "/tree/sub/deeper/c.txt", b"CCC");
    let group = emu.drive_ids()[1].clone();
    let dest = api(
        &emu,
        "POST",
        &format!("/drives/{group}/root/children"),
        br#"{"name":"dest","folder":{}}"#,
    )
    .json();
    let r = copy(
        &emu,
        "/me/drive/root:/tree:/copy",
        json!({"parentReference": {"driveId": group, "id": dest["id"]}}),
    );
    let done = poll_job(&location(&r));
    assert_eq!(done.status, 303);
    assert!(done.header("location").unwrap().contains(&group));
    assert_eq!(emu.content(&group, "/dest/tree/a.txt").unwrap(), b"A");
    assert_eq!(emu.content(&group, "/dest/tree/sub/b.txt").unwrap(), b"BB");
    assert_eq!(
        emu.content(&group, "/dest/tree/sub/deeper/c.txt").unwrap(),
        b"CCC"
    );
    assert_eq!(emu.item_json(&group, "/dest/tree").unwrap()["size"], 6);
    // the source is untouched
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/tree/sub/deeper/c.txt")
            .unwrap(),
        b"CCC"
    );
}

#[test]
fn copy_routes_and_parent_references() {
    let emu = start(Profile::Personal);
    let drive = emu.default_drive_id();
    let f = put_file(&emu, "/x/file.txt", b"x");
    let fid = f["id"].as_str().unwrap().to_string();
    let dest = api(
        &emu,
        "POST",
        "/me/drive/root/children",
        br#"{"name":"dest","folder":{}}"#,
    )
    .json();
    let did = dest["id"].as_str().unwrap().to_string();
    let other = api(
        &emu,
        "POST",
        "/me/drive/root/children",
        br#"{"name":"other","folder":{}}"#,
    )
    .json();
    // legacy action.copy by id and by path, Graph copy with a path parentReference
    let routes = [
        (
            format!("/drive/items/{fid}/action.copy"),
            json!({"parentReference": {"id": did}, "name": "1.txt"}),
        ),
        (
            "/drive/root:/x/file.txt:/action.copy".to_string(),
            json!({"parentReference": {"id": did}, "name": "2.txt"}),
        ),
        (
            format!("/me/drive/items/{fid}/copy"),
            json!({"parentReference": {"path": "/drive/root:/dest"}, "name": "3.txt"}),
        ),
        (
            format!("/drives/{drive}/items/{fid}/copy"),
            json!({"parentReference": {"driveId": drive, "path": format!("/drives/{drive}/root:/dest")}, "name": "4.txt"}),
        ),
        (
            format!("/me/drive/items/{fid}/copy"),
            json!({"parentReference": {"id": did, "path": "/drive/root:/dest"}, "name": "5.txt"}),
        ),
    ];
    for (route, body) in &routes {
        let r = copy(&emu, route, body.clone());
        let done = poll_job(&location(&r));
        assert_eq!(done.status, 303, "{route}: {}", done.text());
    }
    // an encoded parentReference.path is understood too
    api(
        &emu,
        "POST",
        "/me/drive/root/children",
        br#"{"name":"with space","folder":{}}"#,
    );
    let r = copy(
        &emu,
        &format!("/me/drive/items/{fid}/copy"),
        json!({"parentReference": {"path": "/drive/root:/with%20space"}}),
    );
    assert_eq!(poll_job(&location(&r)).status, 303);
    assert!(emu.content(&drive, "/with space/file.txt").is_some());
    for n in 1..=5 {
        assert_eq!(
            emu.content(&drive, &format!("/dest/{n}.txt")).unwrap(),
            b"x",
            "{n}"
        );
    }
    // only a new name: copy next to the source
    let done = poll_job(&location(&copy(
        &emu,
        &format!("/me/drive/items/{fid}/copy"),
        json!({"name": "twin.txt"}),
    )));
    assert_eq!(done.status, 303);
    assert!(emu.content(&drive, "/x/twin.txt").is_some());
    // copy without Prefer is accepted (the service always copies asynchronously); with it too
    let r = api_h(
        &emu,
        "POST",
        &format!("/me/drive/items/{fid}/copy"),
        &[("Prefer", "respond-async")],
        json!({"name": "p.txt"}).to_string().as_bytes(),
    );
    assert_eq!(poll_job(&location(&r)).status, 303);
    // refusals
    let r = copy(
        &emu,
        &format!("/me/drive/items/{fid}/copy"),
        json!({"parentReference": {"id": did, "path": "/drive/root:/other"}}),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.error_code(), "invalidRequest");
    let _ = other;
    assert_eq!(
        copy(&emu, &format!("/me/drive/items/{fid}/copy"), json!({})).status,
        400
    );
    assert_eq!(
        copy(
            &emu,
            &format!("/me/drive/items/{fid}/copy"),
            json!({"name": "bad?.txt"})
        )
        .status,
        400
    );
    assert_eq!(
        copy(&emu, "/me/drive/items/nope/copy", json!({"name": "n"})).status,
        404
    );
    assert_eq!(
        copy(
            &emu,
            &format!("/me/drive/items/{fid}/copy"),
            json!({"parentReference": {"id": fid}})
        )
        .status,
        400
    );
    assert_eq!(
        copy(
            &emu,
            &format!("/me/drive/items/{fid}/copy"),
            json!({"parentReference": {"driveId": "nope", "id": did}})
        )
        .status,
        400
    );
    assert_eq!(
        copy(&emu, "/me/drive/root/copy", json!({"name": "r"})).status,
        400
    );
}

#[test]
fn copy_conflict_behaviours() {
    let emu = start(Profile::Personal);
    let drive = emu.default_drive_id();
    let f = put_file(&emu, "/c/name.txt", b"source");
    put_file(&emu, "/d/name.txt", b"old");
    let fid = f["id"].as_str().unwrap().to_string();
    let body = json!({"parentReference": {"path": "/drive/root:/d"}});
    // default: fail at once with 409
    let r = copy(&emu, &format!("/me/drive/items/{fid}/copy"), body.clone());
    assert_eq!(r.status, 409);
    assert_eq!(r.error_code(), "nameAlreadyExists");
    let r = copy(
        &emu,
        &format!("/me/drive/items/{fid}/copy?@microsoft.graph.conflictBehavior=fail"),
        body.clone(),
    );
    assert_eq!(r.status, 409);
    // rename
    let r = copy(
        &emu,
        &format!("/me/drive/items/{fid}/copy?@microsoft.graph.conflictBehavior=rename"),
        body.clone(),
    );
    assert_eq!(poll_job(&location(&r)).status, 303);
    assert_eq!(emu.content(&drive, "/d/name 1.txt").unwrap(), b"source");
    // replace
    let r = copy(
        &emu,
        &format!("/me/drive/items/{fid}/copy?@microsoft.graph.conflictBehavior=replace"),
        body.clone(),
    );
    assert_eq!(poll_job(&location(&r)).status, 303);
    assert_eq!(emu.content(&drive, "/d/name.txt").unwrap(), b"source");
    // a name taken while the job ran: fail shows as a failed job
    emu.set_job_config(JobConfig {
        paused: true,
        ..emu.job_config()
    });
    let r = copy(
        &emu,
        &format!("/me/drive/items/{fid}/copy"),
        json!({"parentReference": {"path": "/drive/root:/d"}, "name": "late.txt"}),
    );
    let loc = location(&r);
    put_file(&emu, "/d/late.txt", b"first");
    emu.set_job_config(JobConfig {
        paused: false,
        ..emu.job_config()
    });
    let done = poll_job(&loc);
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(done.json()["status"], "failed");
    assert_eq!(done.json()["error"]["code"], "nameAlreadyExists");
}

#[test]
fn forced_job_failures_in_both_modes() {
    for profile in [Profile::Personal, Profile::Business] {
        let emu = start(profile);
        put_file(&emu, "/f.txt", b"fail me");
        emu.set_job_config(JobConfig {
            fail: Some(JobFailMode::Status),
            ..emu.job_config()
        });
        let r = copy(
            &emu,
            "/me/drive/root:/f.txt:/copy",
            json!({"name": "g.txt"}),
        );
        let done = poll_job(&location(&r));
        assert_eq!(done.status, 200, "{}", done.text());
        let v = done.json();
        assert_eq!(v["status"], "failed");
        assert_eq!(v["operation"], "ItemCopy");
        assert!(v["error"]["code"].is_string());
        let p = v["percentageComplete"].as_f64().unwrap();
        assert!(p > 0.0 && p <= 50.0, "{p}");
        emu.set_job_config(JobConfig {
            fail: Some(JobFailMode::Http500),
            ..emu.job_config()
        });
        let r = copy(
            &emu,
            "/me/drive/root:/f.txt:/copy",
            json!({"name": "h.txt"}),
        );
        let done = poll_job(&location(&r));
        assert_eq!(done.status, 500, "{}", done.text());
        assert_eq!(done.error_code(), "generalException");
        assert!(emu.item_json(&emu.default_drive_id(), "/g.txt").is_none());
        assert!(emu.item_json(&emu.default_drive_id(), "/h.txt").is_none());
        // jobs started after the failure mode is cleared succeed
        emu.set_job_config(JobConfig {
            fail: None,
            ..emu.job_config()
        });
        let r = copy(
            &emu,
            "/me/drive/root:/f.txt:/copy",
            json!({"name": "ok.txt"}),
        );
        let done = poll_job(&location(&r));
        assert!(done.status == 303 || done.json()["status"] == "completed");
    }
}

#[test]
fn url_upload_from_static_and_own_server() {
    let emu = start(Profile::Personal);
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let src = emu.serve_static("image.jpg", data.clone());
    let body = json!({"@microsoft.graph.sourceUrl": src, "name": "halo.jpg", "file": {}});
    let r = api_h(
        &emu,
        "POST",
        "/me/drive/root/children",
        &[("Prefer", "respond-async")],
        body.to_string().as_bytes(),
    );
    let loc = location(&r);
    let done = poll_job(&loc);
    assert_eq!(done.status, 303, "{}", done.text());
    assert_eq!(done.json()["operation"], "DownloadUrl");
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/halo.jpg").unwrap(),
        data
    );
    let item = emu.item_json(&emu.default_drive_id(), "/halo.jpg").unwrap();
    assert_eq!(item["file"]["mimeType"], "image/jpeg");
    assert_eq!(item["id"], done.json()["resourceId"]);

    // a source served by the test itself on loopback
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf).unwrap();
        s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world",
        )
        .unwrap();
    });
    let folder = api(
        &emu,
        "POST",
        "/me/drive/root/children",
        br#"{"name":"in","folder":{}}"#,
    )
    .json();
    let body = json!({"@microsoft.graph.sourceUrl": format!("http://127.0.0.1:{port}/file.txt"), "name": "hello.txt", "file": {}});
    let r = api_h(
        &emu,
        "POST",
        &format!(
            "/me/drive/items/{}/children",
            folder["id"].as_str().unwrap()
        ),
        &[("Prefer", "respond-async")],
        body.to_string().as_bytes(),
    );
    assert_eq!(poll_job(&location(&r)).status, 303);
    server.join().unwrap();
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/in/hello.txt")
            .unwrap(),
        b"hello world"
    );
}

#[test]
fn url_upload_refusals_and_failures() {
    let emu = start(Profile::Personal);
    let src = emu.serve_static("s.bin", b"abc".to_vec());
    let body = json!({"@microsoft.graph.sourceUrl": src, "name": "s.bin", "file": {}}).to_string();
    // without Prefer: respond-async
    let r = api(&emu, "POST", "/me/drive/root/children", body.as_bytes());
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "invalidRequest");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("respond-async")
    );
    // a source that answers 404: the job fails
    let missing = json!({"@microsoft.graph.sourceUrl": format!("{}/static/missing", emu.monitor_origin()), "name": "m.bin", "file": {}});
    let r = api_h(
        &emu,
        "POST",
        "/me/drive/root/children",
        &[("Prefer", "respond-async")],
        missing.to_string().as_bytes(),
    );
    let done = poll_job(&location(&r));
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(done.json()["status"], "failed");
    // an unreachable source fails too
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let unreachable = json!({"@microsoft.graph.sourceUrl": format!("http://127.0.0.1:{port}/x"), "name": "u.bin", "file": {}});
    let r = api_h(
        &emu,
        "POST",
        "/me/drive/root/children",
        &[("Prefer", "respond-async")],
        unreachable.to_string().as_bytes(),
    );
    assert_eq!(poll_job(&location(&r)).json()["status"], "failed");
    // forced failure applies to url_upload too
    emu.set_job_config(JobConfig {
        fail: Some(JobFailMode::Http500),
        ..emu.job_config()
    });
    let r = api_h(
        &emu,
        "POST",
        "/me/drive/root/children",
        &[("Prefer", "respond-async")],
        body.as_bytes(),
    );
    assert_eq!(poll_job(&location(&r)).status, 500);
    emu.set_job_config(JobConfig {
        fail: None,
        ..emu.job_config()
    });
    // name in use: 409 at once (default fail), rename on request
    put_file(&emu, "/s.bin", b"taken");
    let r = api_h(
        &emu,
        "POST",
        "/me/drive/root/children",
        &[("Prefer", "respond-async")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 409);
    let renamed = json!({"@microsoft.graph.sourceUrl": src, "name": "s.bin", "file": {}, "@microsoft.graph.conflictBehavior": "rename"});
    let r = api_h(
        &emu,
        "POST",
        "/me/drive/root/children",
        &[("Prefer", "respond-async")],
        renamed.to_string().as_bytes(),
    );
    assert_eq!(poll_job(&location(&r)).status, 303);
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/s 1.bin").unwrap(),
        b"abc"
    );
    // bad inputs
    let bad = json!({"@microsoft.graph.sourceUrl": "not a url", "name": "b", "file": {}});
    assert_eq!(
        api_h(
            &emu,
            "POST",
            "/me/drive/root/children",
            &[("Prefer", "respond-async")],
            bad.to_string().as_bytes()
        )
        .status,
        400
    );
    let noname = json!({"@microsoft.graph.sourceUrl": src, "file": {}});
    assert_eq!(
        api_h(
            &emu,
            "POST",
            "/me/drive/root/children",
            &[("Prefer", "respond-async")],
            noname.to_string().as_bytes()
        )
        .status,
        400
    );

    // Business: not supported
    let b = start(Profile::Business);
    let src = b.serve_static("s.bin", b"abc".to_vec());
    let body = json!({"@microsoft.graph.sourceUrl": src, "name": "s.bin", "file": {}}).to_string();
    let r = api_h(
        &b,
        "POST",
        "/me/drive/root/children",
        &[("Prefer", "respond-async")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "notSupported");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not supported")
    );
}

/// Issue 27 item 4: tests wait for jobs to land by polling `running_jobs()` (or
/// `GET /_emulator/stats`), not by sleeping: it counts every copy and upload from URL
/// until its result is written, and a reset's cleared jobs end at once.
#[test]
fn running_jobs_counts_jobs_until_their_results_landed() {
    let emu = start(Profile::Personal);
    let drive = emu.default_drive_id();
    assert_eq!(emu.running_jobs(), 0);
    put_file(&emu, "/src.txt", b"abc");
    set_paused(&emu, true);
    let c = copy(
        &emu,
        "/me/drive/root:/src.txt:/copy",
        json!({"name": "c.txt"}),
    );
    location(&c);
    let src = emu.serve_static("s.bin", b"from a URL".to_vec());
    let body = json!({"@microsoft.graph.sourceUrl": src, "name": "u.bin", "file": {}});
    let u = api_h(
        &emu,
        "POST",
        "/me/drive/root/children",
        &[("Prefer", "respond-async")],
        body.to_string().as_bytes(),
    );
    location(&u);
    // counted from the 202 on, and still running while paused
    assert_eq!(emu.running_jobs(), 2);
    let stats = |emu: &Emulator| {
        let r = request(
            "GET",
            &format!("{}/_emulator/stats", emu.api_origin()),
            &[("Authorization", &admin_bearer(emu))],
            b"",
        )
        .unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    };
    assert_eq!(stats(&emu)["running_jobs"], 2);
    assert!(emu.item_json(&drive, "/c.txt").is_none());
    set_paused(&emu, false);
    wait_for(60, "the jobs to land", || {
        (emu.running_jobs() == 0).then_some(())
    });
    // at 0, both results are there, without asking their monitors
    assert_eq!(emu.content(&drive, "/c.txt").unwrap(), b"abc");
    assert_eq!(emu.content(&drive, "/u.bin").unwrap(), b"from a URL");
    assert_eq!(stats(&emu)["running_jobs"], 0);
    // a job a reset clears writes nothing and stops counting
    set_paused(&emu, true);
    put_file(&emu, "/src.txt", b"abc");
    location(&copy(
        &emu,
        "/me/drive/root:/src.txt:/copy",
        json!({"name": "gone.txt"}),
    ));
    assert_eq!(emu.running_jobs(), 1);
    emu.reset();
    wait_for(60, "the cleared job to end", || {
        (emu.running_jobs() == 0).then_some(())
    });
    assert!(emu.item_json(&drive, "/gone.txt").is_none());
    // the connection counter the same way: every connection counted once accepted
    let s = stats(&emu);
    assert!(s["connections_accepted"].as_u64().unwrap() >= 8, "{s}");
    assert_eq!(s["upload_sessions"], 0);
}

/// Issue 27 item 4: a `hold_job` fault keeps the job its request starts in progress until
/// the test releases it, so that a test can act on a running job (time out a wait, cancel
/// it) however slow the machine is; jobs of other requests run as usual.
#[test]
fn a_held_job_stays_in_progress_until_released() {
    let emu = start(Profile::Personal);
    let drive = emu.default_drive_id();
    put_file(&emu, "/held/a.txt", b"held copy");
    put_file(&emu, "/free.txt", b"free copy");
    // the rule as JSON, the way the binary's --fault and the admin path take it
    let rule = admin(
        &emu,
        "POST",
        "faults",
        br#"{"method":"POST","path_contains":"/held","action":"hold_job"}"#,
    );
    assert_eq!(rule.status, 201, "{}", rule.text());
    let held = location(&copy(
        &emu,
        "/me/drive/root:/held/a.txt:/copy",
        json!({"name": "a-copy.txt"}),
    ));
    // an upload from URL into the held folder: held too
    let url_upload_into_held = |src: &str, name: &str| {
        let body = json!({"@microsoft.graph.sourceUrl": src, "name": name, "file": {}});
        location(&api_h(
            &emu,
            "POST",
            "/me/drive/root:/held:/children",
            &[("Prefer", "respond-async")],
            body.to_string().as_bytes(),
        ))
    };
    let held_url =
        url_upload_into_held(&emu.serve_static("u.bin", b"from a URL".to_vec()), "u.bin");
    assert_eq!(emu.held_jobs(), 2);
    let stats = admin(&emu, "GET", "stats", b"").json();
    assert_eq!(
        (stats["held_jobs"].as_u64(), stats["running_jobs"].as_u64()),
        (Some(2), Some(2))
    );
    // a job the rule does not match runs to its end meanwhile
    let free = location(&copy(
        &emu,
        "/me/drive/root:/free.txt:/copy",
        json!({"name": "free-copy.txt"}),
    ));
    assert_eq!(poll_job(&free).status, 303);
    // by then the held ones have not moved
    for url in [&held, &held_url] {
        let m = get(url);
        assert_eq!(m.status, 202, "{}", m.text());
        assert_eq!(m.json()["status"], "inProgress");
        assert_eq!(percent(&m), 0.0);
    }
    assert!(emu.item_json(&drive, "/held/a-copy.txt").is_none());
    assert!(emu.item_json(&drive, "/held/u.bin").is_none());
    assert_eq!(emu.held_jobs(), 2);
    let logged = emu.requests();
    assert_eq!(
        logged
            .iter()
            .filter(|r| r.fault.as_deref() == Some("hold_job"))
            .count(),
        2,
        "{logged:?}"
    );
    // released: both run to their end
    let r = admin(&emu, "POST", "jobs/release", b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["released"], 2);
    assert_eq!(emu.held_jobs(), 0);
    assert_eq!(poll_job(&held).status, 303);
    assert_eq!(poll_job(&held_url).status, 303);
    assert_eq!(
        emu.content(&drive, "/held/a-copy.txt").unwrap(),
        b"held copy"
    );
    assert_eq!(emu.content(&drive, "/held/u.bin").unwrap(), b"from a URL");
    assert_eq!(emu.release_jobs(), 0);
    // a held upload from URL whose source cannot be fetched fails as it would unheld,
    // and is held no more
    let missing = format!("{}/static/missing.bin", emu.monitor_origin());
    let failed = url_upload_into_held(&missing, "m.bin");
    let done = poll_job(&failed);
    assert_eq!(done.json()["status"], "failed", "{}", done.text());
    assert_eq!(emu.held_jobs(), 0);
    // a held job a reset clears ends and writes nothing
    put_file(&emu, "/held/b.txt", b"b");
    emu.add_fault(onedrive_emulator::FaultRule {
        method: Some("POST".into()),
        path_contains: Some("/held".into()),
        ..onedrive_emulator::FaultRule::new(
            onedrive_emulator::Times::Next(1),
            onedrive_emulator::FaultAction::HoldJob,
        )
    });
    location(&copy(
        &emu,
        "/me/drive/root:/held/b.txt:/copy",
        json!({"name": "b-copy.txt"}),
    ));
    assert_eq!((emu.held_jobs(), emu.running_jobs()), (1, 1));
    emu.reset();
    assert_eq!(emu.held_jobs(), 0);
    wait_for(60, "the cleared job to end", || {
        (emu.running_jobs() == 0).then_some(())
    });
    assert!(emu.item_json(&drive, "/held/b-copy.txt").is_none());
}
