//! The standalone binary: its announced lines, the documented example, clean stop on signals.

mod common;

use common::*;
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn spawn(args: &[&str]) -> (Child, Vec<String>, HashMap<String, String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_onedrive-emulator"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn onedrive-emulator");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    // default_drive_id= is the last line
    while !lines
        .last()
        .is_some_and(|l: &String| l.starts_with("default_drive_id="))
    {
        let mut l = String::new();
        assert!(
            out.read_line(&mut l).unwrap() > 0,
            "the emulator stopped early: {lines:?}"
        );
        lines.push(l.trim_end().to_string());
    }
    let kv: HashMap<String, String> = lines[1..]
        .iter()
        .map(|l| {
            let (k, v) = l.split_once('=').expect("key=value");
            (k.to_string(), v.to_string())
        })
        .collect();
    // the printed CA is what a client trusts
    if let Some(path) = kv.get("ca_file") {
        trust_pem(std::fs::read_to_string(path).expect("the ca_file exists"));
    }
    (child, lines, kv)
}

fn signal_and_wait(child: &mut Child, sig: &str) -> std::process::ExitStatus {
    let st = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the emulator did not stop on {sig}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn standalone_design_example_and_sigint() {
    let (mut child, lines, kv) = spawn(&[
        "--port",
        "0",
        "--monitor-port",
        "0",
        "--token",
        "cli-token",
        "--admin-token=cli-admin",
    ]);
    assert_eq!(lines[0], "onedrive-emulator listening");
    let keys: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split('=').next().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "base_url",
            "monitor_origin",
            "ca_file",
            "token",
            "admin_token",
            "profile",
            "default_drive_id"
        ]
    );
    assert_eq!(kv["token"], "cli-token");
    assert_eq!(kv["admin_token"], "cli-admin");
    assert_eq!(kv["profile"], "personal");
    let base = &kv["base_url"];
    assert!(
        base.starts_with("https://127.0.0.1:") && base.ends_with("/v1.0"),
        "{base}"
    );
    assert!(kv["monitor_origin"].starts_with("https://127.0.0.1:"));
    // without --ca-out and --data-dir: a temporary file named with the pid
    let ca_file = std::path::PathBuf::from(&kv["ca_file"]);
    assert!(ca_file.is_absolute(), "{ca_file:?}");
    assert_eq!(
        ca_file,
        std::env::temp_dir().join(format!("onedrive-emulator-{}-ca.pem", child.id()))
    );
    assert!(
        std::fs::read_to_string(&ca_file)
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert_ne!(kv["monitor_origin"], base.trim_end_matches("/v1.0"));
    let auth = "Bearer cli-token";

    let r = request(
        "PUT",
        &format!("{base}/me/drive/root:/FolderA/FileB.txt:/content"),
        &[("Authorization", auth), ("Content-Type", "text/plain")],
        b"The contents of the file goes here.",
    )
    .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["size"], 35);
    let id = r.json()["id"].as_str().unwrap().to_string();

    let body = json!({"parentReference": {"driveId": kv["default_drive_id"], "path": "/drive/root:/FolderA"}, "name": "FileB copy.txt"});
    let r = request(
        "POST",
        &format!("{base}/me/drive/items/{id}/copy"),
        &[
            ("Authorization", auth),
            ("Content-Type", "application/json"),
        ],
        body.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 202);
    let loc = r.header("location").unwrap().to_string();
    assert!(loc.starts_with(&kv["monitor_origin"]));

    let first = get(&loc);
    assert!(
        first.status == 202 || first.status == 303,
        "{}",
        first.status
    );
    let done = poll_job(&loc);
    assert_eq!(done.status, 303);
    let item = request(
        "GET",
        done.header("location").unwrap(),
        &[("Authorization", auth)],
        b"",
    )
    .unwrap();
    assert_eq!(item.json()["name"], "FileB copy.txt");
    assert_eq!(item.json()["size"], 35);

    let leak = request("GET", &loc, &[("Authorization", auth)], b"").unwrap();
    assert_eq!(leak.status, 401);

    let status = signal_and_wait(&mut child, "-INT");
    assert!(status.success(), "{status:?}");
    assert!(
        !ca_file.exists(),
        "the temporary CA file is removed at stop"
    );
}

#[test]
fn standalone_flags_and_sigterm() {
    let dir = temp_dir("cli");
    let dir_s = dir.to_str().unwrap().to_string();
    let fault = r#"{"times":{"next":1},"action":{"status":{"status":429,"retry_after":5}}}"#;
    let (mut child, _, kv) = spawn(&[
        "--profile",
        "business",
        "--token=T2",
        "--data-dir",
        &dir_s,
        "--job-base-ms",
        "0",
        "--job-bytes-per-sec",
        "1000000",
        "--simple-upload-limit",
        "8",
        "--fault",
        fault,
    ]);
    assert_eq!(kv["profile"], "business");
    assert_eq!(
        std::path::Path::new(&kv["ca_file"]),
        dir.join("emulator-ca.pem"),
        "with --data-dir the CA goes there"
    );
    let base = &kv["base_url"];
    let r = request(
        "GET",
        &format!("{base}/me/drive"),
        &[("Authorization", "Bearer T2")],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("5"));
    let r = request(
        "PUT",
        &format!("{base}/me/drive/root:/x:/content"),
        &[("Authorization", "Bearer T2")],
        b"123456789",
    )
    .unwrap();
    assert_eq!(r.status, 413);
    let r = request(
        "PUT",
        &format!("{base}/me/drive/root:/x:/content"),
        &[("Authorization", "Bearer T2")],
        b"12345678",
    )
    .unwrap();
    assert_eq!(r.status, 201);
    let origin = base.trim_end_matches("/v1.0");
    // the admin path wants its own token: the printed one, or --admin-token's
    let admin = format!("Bearer {}", kv["admin_token"]);
    assert!(kv["admin_token"].len() >= 20, "{kv:?}");
    assert_eq!(
        request("GET", &format!("{origin}/_emulator/job"), &[], b"")
            .unwrap()
            .status,
        401
    );
    let job = request(
        "GET",
        &format!("{origin}/_emulator/job"),
        &[("Authorization", &admin)],
        b"",
    )
    .unwrap()
    .json();
    assert_eq!(job["base_ms"], 0);
    assert_eq!(job["bytes_per_sec"], 1_000_000);
    assert!(signal_and_wait(&mut child, "-TERM").success());
    assert!(dir.join("metadata.json").exists());
    assert!(
        dir.join("emulator-ca.pem").exists(),
        "kept: it is not temporary"
    );
    // the same data dir again: the file is still there
    let (mut child, _, kv2) = spawn(&["--profile", "business", "--token=T2", "--data-dir", &dir_s]);
    assert_eq!(kv2["default_drive_id"], kv["default_drive_id"]);
    let r = request(
        "GET",
        &format!("{}/me/drive/root:/x", kv2["base_url"]),
        &[("Authorization", "Bearer T2")],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["size"], 8);
    assert!(signal_and_wait(&mut child, "-INT").success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        &["--bogus"][..],
        &["--port"][..],
        &["--profile", "enterprise"][..],
        &["--fault", "{"][..],
        &["--tls-cert", "c.pem"][..],
        &["--plain-http", "--ca-out", "ca.pem"][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_onedrive-emulator"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_onedrive-emulator"))
        .args([
            "--tls-cert",
            "/nonexistent/c.pem",
            "--tls-key",
            "/nonexistent/k.pem",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/c.pem"));
    let out = Command::new(env!("CARGO_BIN_EXE_onedrive-emulator"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
}

/// A data dir whose metadata was tampered with: the binary must refuse it with a
/// clear message and a non-zero exit, neither panic nor touch files outside the dir.
#[test]
fn tampered_data_dir_is_refused_with_a_clear_error() {
    use onedrive_emulator::Config;
    let dir = temp_dir("tampered");
    {
        let emu = start_with(Config {
            data_dir: Some(dir.clone()),
            ..Config::default()
        });
        let r = api(&emu, "PUT", "/me/drive/root:/f.txt:/content", b"abc");
        assert_eq!(r.status, 201);
    }
    let meta = dir.join("metadata.json");
    let good: serde_json::Value = serde_json::from_slice(&std::fs::read(&meta).unwrap()).unwrap();
    let file_id = good["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "f.txt")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // a file outside the data dir that an escaping id would name
    let outside = dir
        .parent()
        .unwrap()
        .join(format!("onedrive-emulator-outside-{}", std::process::id()));
    std::fs::write(&outside, b"abc").unwrap();
    let escaping = format!("../{}", outside.file_name().unwrap().to_str().unwrap());
    let retarget = |v: &mut serde_json::Value, from: &str, to: &str| {
        let text = v
            .to_string()
            .replace(&format!("\"{from}\""), &format!("\"{to}\""));
        *v = serde_json::from_str(&text).unwrap();
    };
    type Tamper<'a> = Box<dyn Fn(&mut serde_json::Value) + 'a>;
    let cases: Vec<(&str, Tamper)> = vec![
        ("empty drives", Box::new(|v| v["drives"] = json!([]))),
        (
            "escaping id",
            Box::new(|v| retarget(v, &file_id, &escaping)),
        ),
        (
            "absolute id",
            Box::new(|v| retarget(v, &file_id, "/etc/passwd")),
        ),
        (
            "dangling parent",
            Box::new(|v| {
                for it in v["items"].as_array_mut().unwrap() {
                    if it["name"] == "f.txt" {
                        it["parent_id"] = json!("NOPE!1");
                    }
                }
            }),
        ),
        (
            "cycle",
            Box::new(|v| {
                // the file's parent becomes the file itself
                for it in v["items"].as_array_mut().unwrap() {
                    if it["name"] == "f.txt" {
                        it["parent_id"] = it["id"].clone();
                    }
                }
            }),
        ),
        (
            "missing root",
            Box::new(|v| v["drives"][0]["root_id"] = json!("NOPE!2")),
        ),
        ("not json", Box::new(|v| *v = json!("garbage"))),
    ];
    for (what, tamper) in cases {
        let mut v = good.clone();
        tamper(&mut v);
        std::fs::write(&meta, v.to_string()).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_onedrive-emulator"))
            .args(["--port", "0", "--monitor-port", "0", "--data-dir"])
            .arg(&dir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what}: started");
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert!(err.contains("metadata.json"), "{what}: {err}");
        assert!(out.stdout.is_empty(), "{what}: announced readiness");
    }
    assert_eq!(std::fs::read(&outside).unwrap(), b"abc");
    // The untouched metadata still loads.
    std::fs::write(&meta, good.to_string()).unwrap();
    let emu = start_with(Config {
        data_dir: Some(dir.clone()),
        ..Config::default()
    });
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/f.txt").unwrap(),
        b"abc"
    );
    drop(emu);
    let _ = std::fs::remove_file(&outside);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plain_http_prints_no_ca_file() {
    let (mut child, lines, kv) = spawn(&["--plain-http", "--token", "P"]);
    assert_eq!(lines.len(), 7, "{lines:?}");
    assert!(!kv.contains_key("ca_file"), "{kv:?}");
    let base = &kv["base_url"];
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert!(kv["monitor_origin"].starts_with("http://127.0.0.1:"));
    let r = request(
        "GET",
        &format!("{base}/me/drive"),
        &[("Authorization", "Bearer P")],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert!(signal_and_wait(&mut child, "-TERM").success());
}

#[test]
fn ca_out_and_given_certificate_files() {
    let dir = temp_dir("cli-tls");
    // --ca-out: the CA goes where asked, and stays after the stop
    let ca_out = dir.join("sub-ca.pem");
    let (mut child, _, kv) = spawn(&["--ca-out", ca_out.to_str().unwrap(), "--token", "C"]);
    assert_eq!(std::path::Path::new(&kv["ca_file"]), ca_out);
    let r = request(
        "GET",
        &format!("{}/me/drive", kv["base_url"]),
        &[("Authorization", "Bearer C")],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert!(signal_and_wait(&mut child, "-INT").success());
    assert!(ca_out.exists());

    // --tls-cert / --tls-key: served as given; no CA is known, so no ca_file line
    let (ca_pem, chain_pem, key_pem) = ca_and_leaf(&["127.0.0.1"], false);
    let (cert, key) = (dir.join("leaf.pem"), dir.join("leaf.key"));
    std::fs::write(&cert, chain_pem).unwrap();
    std::fs::write(&key, key_pem).unwrap();
    let (mut child, _, kv) = spawn(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
        "--token",
        "G",
    ]);
    assert!(!kv.contains_key("ca_file"), "{kv:?}");
    let base = &kv["base_url"];
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    trust_pem(ca_pem);
    let r = request(
        "GET",
        &format!("{base}/me/drive"),
        &[("Authorization", "Bearer G")],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert!(signal_and_wait(&mut child, "-TERM").success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 25 item 7: `--data-dir DIR` emptied and removed `DIR/spool` at start and at
/// stop, a folder of the user's when DIR is `~` or `/var`. A data dir holding files the
/// emulator did not make is refused (exit 1, the names in the message) and left as it
/// was.
#[test]
fn a_data_dir_with_files_of_the_users_is_refused_and_left_untouched() {
    let dir = temp_dir("users-dir");
    std::fs::create_dir(dir.join("spool")).unwrap();
    std::fs::write(dir.join("spool").join("mail.txt"), b"mine").unwrap();
    std::fs::write(dir.join("notes.txt"), b"also mine").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_onedrive-emulator"))
        .args(["--port", "0", "--monitor-port", "0", "--data-dir"])
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // It must exit at once; one that started serves until stopped: stopped here (it
    // then wipes what it took for its spool), and the test fails on its exit status.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    if !first.is_empty() {
        signal_and_wait(&mut child, "-TERM");
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(first.is_empty(), "announced readiness: {first}");
    assert!(
        err.contains(dir.to_str().unwrap())
            && err.contains("notes.txt, spool")
            && err.contains("did not make"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.join("spool").join("mail.txt")).unwrap(),
        b"mine"
    );
    assert_eq!(std::fs::read(dir.join("notes.txt")).unwrap(), b"also mine");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["notes.txt", "spool"], "nothing written there");
    let _ = std::fs::remove_dir_all(&dir);
}
