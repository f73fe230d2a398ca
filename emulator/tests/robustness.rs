//! Issue 13: no request, authenticated or not, crashes the emulator or exhausts its memory.

mod common;

use common::*;
use onedrive_emulator::Profile;
use serde_json::json;

#[test]
fn a_tree_30000_levels_deep_is_sized_copied_and_deleted_without_recursion() {
    let emu = start(Profile::Personal);
    let depth = 30_000;
    let deep = "a/".repeat(depth);
    let v = put_file(&emu, &format!("/{deep}leaf.txt"), b"12345");
    assert_eq!(v["size"], 5);
    // The drive's quota walks the whole tree.
    let r = api(&emu, "GET", "/me/drive", b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["quota"]["used"], 5);
    // The top folder's size walks it too.
    let r = api(&emu, "GET", "/me/drive/root:/a", b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["size"], 5);
    // A copy snapshots and rewrites it.
    let r = api(
        &emu,
        "POST",
        "/me/drive/root:/a:/copy",
        json!({"name": "b"}).to_string().as_bytes(),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let done = poll_job(r.header("location").unwrap());
    assert_eq!(done.status, 303, "{}", done.text());
    let r = api(&emu, "GET", "/me/drive", b"");
    assert_eq!(r.json()["quota"]["used"], 10);
    let copied = format!("/b/{}leaf.txt", &deep[2..]);
    assert_eq!(
        emu.content(&emu.default_drive_id(), &copied).unwrap(),
        b"12345"
    );
    // Deleting both removes every level.
    for top in ["a", "b"] {
        let r = api(&emu, "DELETE", &format!("/me/drive/root:/{top}"), b"");
        assert_eq!(r.status, 204, "{}", r.text());
    }
    let r = api(&emu, "GET", "/me/drive", b"");
    assert_eq!(r.json()["quota"]["used"], 0);
}

#[test]
fn the_admin_path_wants_its_own_token_and_bounds_bodies() {
    let emu = start(Profile::Business);
    let o = emu.api_origin();
    // a job with a tempauth monitor URL, so the log holds a tempauth query
    put_file(&emu, "/t.txt", b"abc");
    let r = api(
        &emu,
        "POST",
        "/me/drive/root:/t.txt:/copy",
        json!({"name": "u.txt"}).to_string().as_bytes(),
    );
    let monitor = r.header("location").unwrap().to_string();
    assert!(monitor.contains("tempauth="));
    get(&monitor);
    let api_token = bearer(&emu);
    let admin = admin_bearer(&emu);
    assert_ne!(emu.admin_token(), emu.token());
    for (method, path) in [
        ("GET", "/_emulator/requests"),
        ("DELETE", "/_emulator/requests"),
        ("GET", "/_emulator/info"),
        ("GET", "/_emulator/faults"),
        ("POST", "/_emulator/faults"),
        ("PUT", "/_emulator/job"),
        ("PUT", "/_emulator/static/x"),
        ("GET", "/_emulator/nope"),
    ] {
        for auth in [None, Some(api_token.as_str()), Some("Bearer wrong")] {
            let h: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
            let r = request(method, &format!("{o}{path}"), &h, b"{}").unwrap();
            assert_eq!(r.status, 401, "{method} {path} with {auth:?}");
            assert_eq!(r.error_code(), "unauthenticated");
            assert!(!r.text().contains("tempauth"), "{method} {path}");
        }
    }
    let log = request(
        "GET",
        &format!("{o}/_emulator/requests"),
        &[("Authorization", &admin)],
        b"",
    )
    .unwrap();
    assert_eq!(log.status, 200);
    assert!(log.text().contains("tempauth"));
    // bounded bodies: a static file over 64 MiB, a fault rule over 64 KiB
    let big = vec![b'x'; 64 * 1024 * 1024 + 1];
    let r = request(
        "PUT",
        &format!("{o}/_emulator/static/big"),
        &[("Authorization", &admin)],
        &big,
    )
    .unwrap();
    assert_eq!(r.status, 413);
    let rule = format!(
        r#"{{"path_contains":"{}","action":{{"delay_ms":1}}}}"#,
        "p".repeat(70 * 1024)
    );
    let r = request(
        "POST",
        &format!("{o}/_emulator/faults"),
        &[("Authorization", &admin)],
        rule.as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 413);
    assert!(emu.requests().iter().all(|r| r.path.len() <= 2051));
}

#[test]
fn preauthorized_item_urls_need_the_monitor_token() {
    use onedrive_emulator::{Completion, Config, JobConfig};
    for profile in [Profile::Personal, Profile::Business] {
        let emu = start_with(Config {
            profile,
            job: JobConfig {
                base_ms: 20,
                completion: Completion::SeeOtherPreauthorized,
                ..JobConfig::default()
            },
            ..Config::default()
        });
        let src = put_file(&emu, "/s.txt", b"abc");
        let r = api(
            &emu,
            "POST",
            "/me/drive/root:/s.txt:/copy",
            json!({"name": "c.txt"}).to_string().as_bytes(),
        );
        let done = poll_job(r.header("location").unwrap());
        assert_eq!(done.status, 303);
        let item_url = done.header("location").unwrap().to_string();
        assert!(item_url.contains("?monitor="), "{item_url}");
        let r = get(&item_url);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["name"], "c.txt");
        // without the capability, or naming another item with it: 401
        let bare = item_url.split('?').next().unwrap();
        assert_eq!(get(bare).status, 401);
        let drive = emu.default_drive_id();
        let other = format!(
            "{}/v1.0/drives/{drive}/items/{}?{}",
            emu.monitor_origin(),
            src["id"].as_str().unwrap(),
            item_url.split('?').nth(1).unwrap()
        );
        assert_eq!(get(&other).status, 401);
        // a guessed (sequential, on Personal) id with no token
        let root = emu.item_json(&drive, "/").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            get(&format!(
                "{}/v1.0/drives/{drive}/items/{root}",
                emu.monitor_origin()
            ))
            .status,
            401
        );
    }
}

#[test]
fn upload_sessions_hold_at_most_the_session_byte_limit() {
    use onedrive_emulator::Config;
    let emu = start_with(Config {
        session_bytes_limit: 1024 * 1024,
        ..Config::default()
    });
    let create = |name: &str, size: Option<u64>| {
        let item = match size {
            Some(s) => json!({"item": {"fileSize": s}}),
            None => json!({"item": {}}),
        };
        api(
            &emu,
            "POST",
            &format!("/me/drive/root:/{name}:/createUploadSession"),
            item.to_string().as_bytes(),
        )
    };
    // declared above the limit (but within the service's 250 GB): refused at once
    let r = create("big.bin", Some(200 << 30));
    assert_eq!(r.status, 507);
    assert_eq!(r.error_code(), "quotaLimitReached");
    // undeclared: the fragment that would pass the limit is refused
    let r = create("a.bin", None);
    assert_eq!(r.status, 200);
    let url = r.json()["uploadUrl"].as_str().unwrap().to_string();
    let unit = 320 * 1024;
    let chunk = vec![7u8; 3 * unit];
    let total = 100 * unit;
    let r = request(
        "PUT",
        &url,
        &[(
            "Content-Range",
            &format!("bytes 0-{}/{total}", 3 * unit - 1),
        )],
        &chunk,
    )
    .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    let r = request(
        "PUT",
        &url,
        &[(
            "Content-Range",
            &format!("bytes {}-{}/{total}", 3 * unit, 6 * unit - 1),
        )],
        &chunk,
    )
    .unwrap();
    assert_eq!(r.status, 507);
    assert_eq!(r.error_code(), "quotaLimitReached");
    // within the limit a session completes as before
    request("DELETE", &url, &[], b"").unwrap();
    let r = create("ok.bin", Some(1000));
    let url = r.json()["uploadUrl"].as_str().unwrap().to_string();
    let r = request(
        "PUT",
        &url,
        &[("Content-Range", "bytes 0-999/1000")],
        &[1u8; 1000],
    )
    .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
}

#[test]
fn slow_headers_and_connection_floods_do_not_starve_others() {
    use onedrive_emulator::Config;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};
    let emu = start_with(Config {
        max_connections: 8,
        header_read_timeout: Duration::from_millis(700),
        ..Config::default()
    });
    // A request head that trickles in (over TLS: after the handshake): closed once the
    // header timeout passes, while another client is served meanwhile.
    let mut slow = Stream::connect(&emu.api_origin()).unwrap();
    slow.write_all(b"GET /v1.0/me/drive HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let mut closed = false;
    // a header line every 100 ms (the trickle), until a write fails: the close; 60 s
    // only as a hang guard against the 700 ms header timeout
    while started.elapsed() < Duration::from_secs(60) {
        assert_eq!(api(&emu, "GET", "/me/drive", b"").status, 200);
        if slow.write_all(b"X-Slow: 1\r\n").is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if !closed {
        slow.tcp()
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        let mut buf = [0u8; 64];
        closed = matches!(slow.read(&mut buf), Ok(0) | Err(_));
    }
    assert!(closed, "a trickled head kept its connection");
    // A flood of idle connections (over TLS: that never send a ClientHello), more than
    // the limit: a new client is still served (the longest-idle connection gives up its
    // slot; were every slot kept, it would get 503). Waited for: the emulator has
    // accepted all 40, so the 8 slots are full of idle ones. An emulator with the
    // default header timeout (30 s), so that the slots are made by evictions, not by
    // that timeout closing the idle ones.
    drop(slow);
    drop(emu);
    let emu = start_with(Config {
        max_connections: 8,
        ..Config::default()
    });
    let (addr, _) = split_url(&emu.api_origin());
    let accepted = emu.connections_accepted();
    let flood: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    wait_for(60, "40 flood connections accepted", || {
        (emu.connections_accepted() >= accepted + 40).then_some(())
    });
    for _ in 0..5 {
        // a hang guard only: the client's 60 s read timeout
        assert_eq!(api(&emu, "GET", "/me/drive", b"").status, 200);
    }
    drop(flood);
}

#[test]
fn the_fuzz_entry_point_runs_requests_without_sockets() {
    let s = |x: &str| x.to_string();
    let auth = vec![(s("authorization"), s("Bearer {token}"))];
    let statuses = onedrive_emulator::fuzz_requests(&[
        (false, s("GET"), s("/v1.0/me/drive"), auth.clone(), vec![]),
        (false, s("GET"), s("/v1.0/me/drive"), vec![], vec![]),
        (
            false,
            s("POST"),
            s("/v1.0/me/drive/root:/f.bin:/createUploadSession"),
            auth,
            b"{}".to_vec(),
        ),
        (
            true,
            s("PUT"),
            s("/upload/{session}"),
            vec![(
                s("content-range"),
                s("bytes 0-18446744073709551615/18446744073709551615"),
            )],
            b"x".to_vec(),
        ),
        (
            false,
            s("GET"),
            s("/_emulator/info"),
            vec![(s("authorization"), s("Bearer {admin}"))],
            vec![],
        ),
        (false, s("G E T"), s("/"), vec![], vec![]),
    ]);
    assert_eq!(statuses, [200, 401, 200, 416, 200, 0]);
}
