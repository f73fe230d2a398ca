//! What a test harness or a benchmark uses around the drive: /health, reset, latency.

mod common;

use common::*;
use onedrive_emulator::{Config, FaultAction, FaultRule, JobConfig, Profile, Times};
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn health_needs_no_token_and_is_never_faulted() {
    let emu = start(Profile::Personal);
    // every other request fails
    emu.add_fault(FaultRule::new(
        Times::EveryNth(1),
        FaultAction::Status {
            status: 503,
            retry_after: None,
        },
    ));
    for origin in [emu.api_origin(), emu.monitor_origin()] {
        let r = get(&format!("{origin}/health"));
        assert_eq!(r.status, 200, "{origin}");
        assert_eq!(r.json(), json!({"status": "ok"}));
        assert_eq!(
            request("HEAD", &format!("{origin}/health"), &[], b"")
                .unwrap()
                .status,
            200
        );
        assert_eq!(
            request("POST", &format!("{origin}/health"), &[], b"")
                .unwrap()
                .status,
            405
        );
    }
    assert_eq!(api(&emu, "GET", "/me/drive", b"").status, 503);
    // nor is the admin path
    let admin = admin_bearer(&emu);
    let r = request(
        "GET",
        &format!("{}/_emulator/info", emu.api_origin()),
        &[("Authorization", &admin)],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 200);
    let log = emu.requests();
    assert!(
        log.iter()
            .filter(|r| r.path == "/health" || r.path.starts_with("/_emulator"))
            .all(|r| r.fault.is_none() && r.origin == "admin")
    );
}

#[test]
fn reset_through_the_admin_path() {
    let emu = start_with(Config {
        job: JobConfig {
            base_ms: 50,
            ..JobConfig::default()
        },
        ..Config::default()
    });
    let drive = emu.default_drive_id();
    let drives = emu.drive_ids();
    let root = emu.item_json(&drive, "/").unwrap();
    put_file(&emu, "/a/b.txt", b"b");
    let group = drives[1].clone();
    let r = api(
        &emu,
        "PUT",
        &format!("/drives/{group}/root:/g.txt:/content"),
        b"g",
    );
    assert_eq!(r.status, 201);
    // a session holding a fragment (a spool file), a paused copy, a fault rule, a
    // download URL, a static file
    let r = api(
        &emu,
        "POST",
        "/me/drive/root:/s.bin:/createUploadSession",
        b"{}",
    );
    let up = r.json()["uploadUrl"].as_str().unwrap().to_string();
    let r = request(
        "PUT",
        &up,
        &[("Content-Range", "bytes 0-327679/655360")],
        &vec![7u8; 327_680],
    )
    .unwrap();
    assert_eq!(r.status, 202);
    assert_eq!(emu.upload_session_count(), 1);
    emu.set_job_config(JobConfig {
        paused: true,
        ..emu.job_config()
    });
    let r = api(&emu, "POST", "/me/drive/root:/a:/copy", br#"{"name":"a2"}"#);
    assert_eq!(r.status, 202);
    let monitor = r.header("location").unwrap().to_string();
    let r = api(&emu, "GET", "/me/drive/root:/a/b.txt:/content", b"");
    let download = r.header("location").unwrap().to_string();
    let stat = emu.serve_static("src.txt", b"src".to_vec());
    emu.add_fault(FaultRule::new(
        Times::Next(5),
        FaultAction::Status {
            status: 500,
            retry_after: None,
        },
    ));

    let admin = admin_bearer(&emu);
    let reset = format!("{}/_emulator/reset", emu.api_origin());
    // the API's token is not enough
    let auth = bearer(&emu);
    assert_eq!(
        request("POST", &reset, &[("Authorization", &auth)], b"")
            .unwrap()
            .status,
        401
    );
    assert!(emu.item_json(&drive, "/a/b.txt").is_some());
    let r = request("POST", &reset, &[("Authorization", &admin)], b"").unwrap();
    assert_eq!(r.status, 204, "{}", r.text());

    assert_eq!(emu.drive_ids(), drives);
    assert!(emu.item_json(&drive, "/a").is_none());
    assert!(emu.item_json(&group, "/g.txt").is_none());
    let root_now = emu.item_json(&drive, "/").unwrap();
    assert_eq!(root_now["id"], root["id"]);
    assert_eq!(root_now["folder"]["childCount"], 0);
    assert_eq!(emu.upload_session_count(), 0);
    assert_eq!(emu.job_config(), emu_start_job());
    let spool: Vec<_> = std::fs::read_dir(emu.spool_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("session-"))
        .collect();
    assert!(spool.is_empty(), "{spool:?}");
    // the fault rule went too (these would be 500s), with the log
    assert_eq!(get(&monitor).status, 404);
    assert_eq!(get(&download).status, 401);
    assert_eq!(get(&stat).status, 404);
    assert_eq!(request("GET", &up, &[], b"").unwrap().status, 404);
    assert!(
        emu.requests()
            .iter()
            .all(|r| !r.path.contains("createUploadSession"))
    );
    // and the drive works as new
    put_file(&emu, "/a/b.txt", b"again");
    assert_eq!(emu.content(&drive, "/a/b.txt").unwrap(), b"again");
    // the same through the Rust API
    emu.reset();
    assert!(emu.item_json(&drive, "/a").is_none());
}

fn emu_start_job() -> JobConfig {
    JobConfig {
        base_ms: 50,
        ..JobConfig::default()
    }
}

#[test]
fn latency_delays_every_answer() {
    let emu = start_with(Config {
        latency_ms: 200,
        ..Config::default()
    });
    put_file(&emu, "/l.txt", b"late");
    let t = Instant::now();
    let r = api(&emu, "GET", "/me/drive/root:/l.txt:/content", b"");
    assert_eq!(r.status, 302);
    assert!(t.elapsed() >= Duration::from_millis(200));
    let t = Instant::now();
    assert_eq!(get(r.header("location").unwrap()).body, b"late");
    assert!(t.elapsed() >= Duration::from_millis(200));
    // faulted answers are delayed too
    emu.add_fault(FaultRule::new(
        Times::Next(1),
        FaultAction::Status {
            status: 503,
            retry_after: None,
        },
    ));
    let t = Instant::now();
    assert_eq!(api(&emu, "GET", "/me/drive", b"").status, 503);
    assert!(t.elapsed() >= Duration::from_millis(200));
}

/// The wait blocks no thread: with more delayed requests in flight than the runtime has
/// threads, the emulator still answers what is not delayed.
#[test]
fn latency_blocks_no_thread() {
    let emu = start_with(Config {
        latency_ms: 60_000,
        ..Config::default()
    });
    let url = format!("{}/me/drive", emu.base_url());
    let auth = bearer(&emu);
    let waiting: Vec<_> = (0..6)
        .map(|_| {
            let (url, auth) = (url.clone(), auth.clone());
            std::thread::spawn(move || request("GET", &url, &[("Authorization", &auth)], b""))
        })
        .collect();
    wait_for(30, "six delayed requests", || {
        let n = emu
            .requests()
            .iter()
            .filter(|r| r.origin == "api" && r.status == 0)
            .count();
        (n == 6).then_some(())
    });
    let r = get(&format!("{}/health", emu.api_origin()));
    assert_eq!(r.status, 200);
    drop(emu);
    for w in waiting {
        // the emulator stopped under them: no answer
        assert!(w.join().unwrap().is_err());
    }
}
