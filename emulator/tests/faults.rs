//! Fault injection: throttling, 5xx, dropped requests and responses, latency.

mod common;

use common::*;
use onedrive_emulator::{FaultAction, FaultRule, Profile, Times};
use serde_json::json;
use std::time::{Duration, Instant};

fn status_rule(times: Times, status: u16, retry_after: Option<u64>) -> FaultRule {
    FaultRule::new(
        times,
        FaultAction::Status {
            status,
            retry_after,
        },
    )
}

#[test]
fn throttling_429_and_503_with_and_without_retry_after() {
    let emu = start(Profile::Personal);
    emu.add_fault(status_rule(Times::Next(2), 429, Some(3)));
    for _ in 0..2 {
        let r = api(&emu, "GET", "/me/drive/root", b"");
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("3"));
        assert_eq!(r.error_code(), "activityLimitReached");
    }
    assert_eq!(api(&emu, "GET", "/me/drive/root", b"").status, 200);
    emu.add_fault(status_rule(Times::Next(1), 429, None));
    let r = api(&emu, "GET", "/me/drive/root", b"");
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), None);
    emu.add_fault(status_rule(Times::Next(1), 503, Some(1)));
    let r = api(&emu, "GET", "/me/drive/root", b"");
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.error_code(), "serviceNotAvailable");
    emu.add_fault(status_rule(Times::Next(1), 503, None));
    let r = api(&emu, "GET", "/me/drive/root", b"");
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), None);
    assert_eq!(api(&emu, "GET", "/me/drive/root", b"").status, 200);
    // a throttled upload changes nothing
    emu.add_fault(status_rule(Times::Next(1), 429, Some(1)));
    assert_eq!(
        api(&emu, "PUT", "/me/drive/root:/t.txt:/content", b"x").status,
        429
    );
    assert!(emu.item_json(&emu.default_drive_id(), "/t.txt").is_none());
    let log = emu.requests();
    assert_eq!(
        log.last().unwrap().fault.as_deref(),
        Some("status 429 retry_after 1")
    );
    assert_eq!(log.last().unwrap().status, 429);
}

#[test]
fn every_nth_and_bursts() {
    let emu = start(Profile::Personal);
    emu.add_fault(status_rule(Times::EveryNth(3), 503, Some(0)));
    let got: Vec<u16> = (0..9)
        .map(|_| api(&emu, "GET", "/me/drive", b"").status)
        .collect();
    assert_eq!(got, [200, 200, 503, 200, 200, 503, 200, 200, 503]);
    emu.clear_faults();
    // a 5xx burst: the next 3 requests fail, then all is well
    emu.add_fault(status_rule(Times::Next(3), 500, None));
    emu.add_fault(status_rule(Times::Next(1), 502, None));
    let got: Vec<u16> = (0..6)
        .map(|_| api(&emu, "GET", "/me/drive", b"").status)
        .collect();
    assert_eq!(got, [500, 500, 500, 502, 200, 200]);
    let r = {
        emu.add_fault(status_rule(Times::Next(1), 504, None));
        api(&emu, "GET", "/me/drive", b"")
    };
    assert_eq!(r.status, 504);
    r.error_code();
}

#[test]
fn rule_filters_and_origins() {
    let emu = start(Profile::Personal);
    let mut rule = status_rule(Times::EveryNth(1), 503, None);
    rule.method = Some("PUT".into());
    rule.path_contains = Some("slow".into());
    emu.add_fault(rule);
    assert_eq!(
        api(&emu, "PUT", "/me/drive/root:/fast.txt:/content", b"x").status,
        201
    );
    assert_eq!(api(&emu, "GET", "/me/drive/root:/slow", b"").status, 404);
    assert_eq!(
        api(&emu, "PUT", "/me/drive/root:/slow.txt:/content", b"x").status,
        503
    );
    emu.clear_faults();
    // monitor-only rule
    let mut rule = status_rule(Times::Next(1), 500, None);
    rule.origin = Some("monitor".into());
    emu.add_fault(rule);
    assert_eq!(api(&emu, "GET", "/me/drive", b"").status, 200);
    let url = emu.serve_static("a", b"a".to_vec());
    assert_eq!(get(&url).status, 500);
    assert_eq!(get(&url).status, 200);
    // admin paths are never subject to faults
    emu.add_fault(status_rule(Times::EveryNth(1), 503, None));
    let r = request(
        "GET",
        &format!("{}/_emulator/info", emu.api_origin()),
        &[("Authorization", admin_bearer(&emu).as_str())],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(api(&emu, "GET", "/me/drive", b"").status, 503);
    emu.clear_faults();
}

#[test]
fn dropped_request_leaves_no_trace() {
    let emu = start(Profile::Personal);
    let mut rule = FaultRule::new(Times::Next(1), FaultAction::DropRequestAfter(1000));
    rule.method = Some("PUT".into());
    emu.add_fault(rule);
    let url = format!("{}/me/drive/root:/dropped.bin:/content", emu.base_url());
    let auth = bearer(&emu);
    let (got, _err) = raw_exchange(
        &url,
        "PUT",
        &[("Authorization", &auth)],
        &vec![1u8; 200_000],
    );
    assert!(
        got.is_empty(),
        "no response bytes expected, got {:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(
        emu.item_json(&emu.default_drive_id(), "/dropped.bin")
            .is_none()
    );
    let last = emu.requests().pop().unwrap();
    assert_eq!(last.status, 0);
    assert!(last.body_bytes <= 1000, "{}", last.body_bytes);
    assert_eq!(last.fault.as_deref(), Some("drop_request_after 1000"));
    // the next request goes through
    assert_eq!(
        api(&emu, "PUT", "/me/drive/root:/dropped.bin:/content", b"ok").status,
        201
    );
    // K = 0 on a body-less request
    emu.add_fault(FaultRule::new(
        Times::Next(1),
        FaultAction::DropRequestAfter(0),
    ));
    assert!(
        request(
            "GET",
            &format!("{}/me/drive", emu.base_url()),
            &[("Authorization", &auth)],
            b""
        )
        .is_err()
    );
}

#[test]
fn dropped_response_after_the_state_changed() {
    let emu = start(Profile::Personal);
    let auth = bearer(&emu);
    emu.add_fault(FaultRule::new(
        Times::Next(1),
        FaultAction::DropResponseAfter(12),
    ));
    let url = format!("{}/me/drive/root:/cut.txt:/content", emu.base_url());
    let (got, _) = raw_exchange(&url, "PUT", &[("Authorization", &auth)], b"made it");
    assert_eq!(got, b"HTTP/1.1 201", "exactly K bytes of the response");
    // the upload happened
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/cut.txt").unwrap(),
        b"made it"
    );
    let last = emu.requests().pop().unwrap();
    assert_eq!(last.status, 0);
    assert_eq!(last.fault.as_deref(), Some("drop_response_after 12"));
    // cut inside the body: headers arrive, the body is short
    emu.add_fault(FaultRule::new(
        Times::Next(1),
        FaultAction::DropResponseAfter(400),
    ));
    let (got, _) = raw_exchange(
        &format!("{}/me/drive/root:/cut.txt", emu.base_url()),
        "GET",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(got.len(), 400);
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("content-length: "));
    // a copy whose 202 is lost: nothing at all comes back, yet the copy runs
    emu.add_fault(FaultRule::new(
        Times::Next(1),
        FaultAction::DropResponseAfter(0),
    ));
    let body = json!({"name": "copied.txt"}).to_string();
    let (got, _) = raw_exchange(
        &format!("{}/me/drive/root:/cut.txt:/copy", emu.base_url()),
        "POST",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    );
    assert!(got.is_empty());
    wait_for(60, "the copy to land", || {
        emu.content(&emu.default_drive_id(), "/copied.txt")
    });
    // a K larger than the response: the whole response, then the connection closes
    emu.add_fault(FaultRule::new(
        Times::Next(1),
        FaultAction::DropResponseAfter(1_000_000),
    ));
    let (got, _) = raw_exchange(
        &format!("{}/me/drive", emu.base_url()),
        "GET",
        &[("Authorization", &auth)],
        b"",
    );
    let mut r = std::io::BufReader::new(&got[..]);
    let resp = read_response(&mut r, "GET").unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["id"], emu.default_drive_id().as_str());
}

#[test]
fn dropped_upload_session_fragment_on_the_monitor_origin() {
    let emu = start(Profile::Personal);
    let s = api(
        &emu,
        "POST",
        "/me/drive/root:/big.bin:/createUploadSession",
        b"{}",
    )
    .json();
    let url = s["uploadUrl"].as_str().unwrap().to_string();
    let mut rule = FaultRule::new(Times::Next(1), FaultAction::DropRequestAfter(100));
    rule.origin = Some("monitor".into());
    emu.add_fault(rule);
    let (got, _) = raw_exchange(
        &url,
        "PUT",
        &[("Content-Range", "bytes 0-999/1000")],
        &[5u8; 1000],
    );
    assert!(got.is_empty());
    let st = get(&url).json();
    assert_eq!(st["nextExpectedRanges"][0], "0-");
    let r = request(
        "PUT",
        &url,
        &[("Content-Range", "bytes 0-999/1000")],
        &[5u8; 1000],
    )
    .unwrap();
    assert_eq!(r.status, 201);
}

#[test]
fn added_latency() {
    let emu = start(Profile::Personal);
    emu.add_fault(FaultRule::new(Times::Next(1), FaultAction::DelayMs(300)));
    let t = Instant::now();
    let r = api(&emu, "GET", "/me/drive", b"");
    assert_eq!(r.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        emu.requests().last().unwrap().fault.as_deref(),
        Some("delay_ms 300")
    );
    // from JSON, on every request (no "times"), until cleared
    let rule: FaultRule =
        serde_json::from_str(r#"{"action":{"delay_ms":100},"path_contains":"/root"}"#).unwrap();
    emu.add_fault(rule);
    for _ in 0..2 {
        let t = Instant::now();
        assert_eq!(api(&emu, "GET", "/me/drive/root", b"").status, 200);
        assert!(t.elapsed() >= Duration::from_millis(100));
    }
    emu.clear_faults();
    assert!(emu.requests().last().unwrap().fault.is_some());
    api(&emu, "GET", "/me/drive/root", b"");
    assert!(emu.requests().last().unwrap().fault.is_none());
}

/// Issue 27 item 4: a `hold_request` fault holds its request before it is handled until
/// the test lets it go, so that a test can act while a request is on its way (a cancel
/// while the answer is awaited) without racing a clock. Other requests are served
/// meanwhile; a reset lets held requests go too.
#[test]
fn a_held_request_waits_for_its_release() {
    let emu = start(Profile::Personal);
    put_file(&emu, "/held-req.txt", b"held");
    let rule = admin(
        &emu,
        "POST",
        "faults",
        br#"{"method":"GET","path_contains":"/held-req","times":{"next":1},"action":"hold_request"}"#,
    );
    assert_eq!(rule.status, 201, "{}", rule.text());
    std::thread::scope(|s| {
        let held = s.spawn(|| api(&emu, "GET", "/me/drive/root:/held-req.txt", b""));
        wait_for(60, "the request to be held", || {
            (emu.held_requests() == 1).then_some(())
        });
        // others are served while it waits, and it has not been answered
        assert_eq!(api(&emu, "GET", "/me/drive", b"").status, 200);
        assert!(!held.is_finished());
        assert_eq!(admin(&emu, "GET", "stats", b"").json()["held_requests"], 1);
        let r = admin(&emu, "POST", "requests/release", b"");
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["released"], 1);
        let r = held.join().unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["name"], "held-req.txt");
    });
    assert_eq!(emu.held_requests(), 0);
    assert!(
        emu.requests()
            .iter()
            .any(|r| r.fault.as_deref() == Some("hold_request") && r.status == 200)
    );
    // the rule was spent: the next one goes through
    assert_eq!(
        api(&emu, "GET", "/me/drive/root:/held-req.txt", b"").status,
        200
    );
    // a reset lets a held request go (to a drive where its file is gone)
    emu.add_fault(FaultRule {
        path_contains: Some("/held-req".into()),
        ..FaultRule::new(Times::Next(1), FaultAction::HoldRequest)
    });
    std::thread::scope(|s| {
        let held = s.spawn(|| api(&emu, "GET", "/me/drive/root:/held-req.txt", b""));
        wait_for(60, "the request to be held", || {
            (emu.held_requests() == 1).then_some(())
        });
        emu.reset();
        assert_eq!(held.join().unwrap().status, 404);
    });
    assert_eq!(emu.held_requests(), 0);
    assert_eq!(emu.release_requests(), 0);
}
