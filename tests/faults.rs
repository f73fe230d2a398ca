//! How the client survives the service's misbehaviour: throttling, 5xx,
//! dropped connections, slow answers. Checked through the emulator's log.

mod common;

use std::time::Duration;

use common::*;
use onedrive_emulator::{FaultAction, Profile, Times};
use onedrive_native::{Client, ClientConfig, Conflict, ErrorKind, JobState, RetryPolicy};

fn puts_to(emu: &onedrive_emulator::Emulator, name: &str) -> Vec<onedrive_emulator::LoggedRequest> {
    emu.requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.contains(name))
        .collect()
}

#[test]
fn throttling_waits_as_told() {
    for status in [429, 503] {
        let emu = emulator(Profile::Personal);
        let c = client(&emu);
        emu.add_fault(fault(
            Some("api"),
            Some("PUT"),
            None,
            Times::Next(2),
            FaultAction::Status {
                status,
                retry_after: Some(1),
            },
        ));
        let it = put(&c, "/", "t.txt", b"t");
        assert_eq!(it.size(), Some(1));
        let puts = puts_to(&emu, "t.txt");
        let statuses: Vec<u16> = puts.iter().map(|r| r.status).collect();
        assert_eq!(statuses[..2], [status, status]);
        assert!(statuses[2] == 200 || statuses[2] == 201, "{statuses:?}");
        // each retry came no sooner than the Retry-After said
        for w in puts.windows(2) {
            assert!(w[1].at_ms - w[0].at_ms >= 1000, "{status}: {:?}", puts);
        }
    }
}

#[test]
fn throttling_without_retry_after_backs_off() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    emu.add_fault(fault(
        Some("api"),
        Some("PUT"),
        None,
        Times::Next(3),
        answer_with(429),
    ));
    put(&c, "/", "b.txt", b"b");
    assert_eq!(puts_to(&emu, "b.txt").len(), 4);
}

#[test]
fn throttling_beyond_the_policy_is_an_error_with_retry_after() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    c.set_retry_policy(RetryPolicy {
        max_wait: Duration::from_secs(5),
        ..c.retry_policy()
    })
    .unwrap();
    emu.add_fault(fault(
        Some("api"),
        None,
        None,
        Times::Next(1),
        FaultAction::Status {
            status: 429,
            retry_after: Some(3600),
        },
    ));
    let e = c.item(&me(), &item("/"), &mut ctl()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert_eq!(e.retry_after, Some(Duration::from_secs(3600)));
    assert_eq!(e.http_status, Some(429));
    // every Nth: attempts run out
    let c = Client::new(ClientConfig {
        retry: RetryPolicy {
            max_attempts: 2,
            base_backoff: Duration::from_millis(1),
            ..RetryPolicy::default()
        },
        ..config(&emu)
    })
    .unwrap();
    emu.add_fault(fault(
        Some("api"),
        None,
        None,
        Times::EveryNth(1),
        FaultAction::Status {
            status: 503,
            retry_after: Some(0),
        },
    ));
    let e = c.item(&me(), &item("/"), &mut ctl()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    emu.clear_faults();
    c.item(&me(), &item("/"), &mut ctl()).unwrap();
}

#[test]
fn server_errors_are_retried_when_safe() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    for status in [500, 502, 504] {
        emu.clear_requests();
        emu.add_fault(fault(
            Some("api"),
            Some("PUT"),
            None,
            Times::Next(2),
            answer_with(status),
        ));
        c.upload(
            &me(),
            &target("/", Some("s.txt")),
            b"s",
            Conflict::Replace,
            &mut ctl(),
        )
        .unwrap();
        assert_eq!(puts_to(&emu, "s.txt").len(), 3, "{status}");
        emu.add_fault(fault(
            Some("api"),
            Some("GET"),
            None,
            Times::Next(2),
            answer_with(status),
        ));
        c.item(&me(), &item("/s.txt"), &mut ctl()).unwrap();
    }
    // An upload with rename would make a second file if repeated: not retried.
    emu.clear_requests();
    emu.add_fault(fault(
        Some("api"),
        Some("PUT"),
        None,
        Times::Next(1),
        answer_with(500),
    ));
    let e = c
        .upload(
            &me(),
            &target("/", Some("s.txt")),
            b"s",
            Conflict::Rename,
            &mut ctl(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Service);
    assert_eq!(puts_to(&emu, "s.txt").len(), 1);
}

#[test]
fn a_post_the_service_may_have_acted_on_is_never_sent_twice() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let src = put(&c, "/", "p.txt", b"p");
    let copy_posts = |emu: &onedrive_emulator::Emulator| {
        emu.requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .count()
    };
    // a 500 to the copy POST
    emu.clear_requests();
    emu.add_fault(fault(
        Some("api"),
        Some("POST"),
        None,
        Times::Next(1),
        answer_with(500),
    ));
    let e = try_copy_as(&c, src.id(), "/", "q.txt").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Service);
    assert_eq!(copy_posts(&emu), 1);
    // the answer cut after the service acted: still one POST
    emu.clear_requests();
    emu.add_fault(fault(
        Some("api"),
        Some("POST"),
        None,
        Times::Next(1),
        FaultAction::DropResponseAfter(10),
    ));
    let e = try_copy_as(&c, src.id(), "/", "r.txt").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network, "{e}");
    assert_eq!(copy_posts(&emu), 1);
    // but a 429 proves nothing was done: retried
    emu.clear_requests();
    emu.add_fault(fault(
        Some("api"),
        Some("POST"),
        None,
        Times::Next(1),
        FaultAction::Status {
            status: 429,
            retry_after: Some(0),
        },
    ));
    let job = copy_as(&c, src.id(), "/", "s.txt");
    assert_eq!(copy_posts(&emu), 2);
    wait_result(&c, &job).unwrap();
    // url_upload is a POST too
    emu.clear_requests();
    emu.add_fault(fault(
        Some("api"),
        Some("POST"),
        None,
        Times::Next(1),
        answer_with(502),
    ));
    let src = emu.serve_static("u.bin", vec![1; 10]);
    let e = c
        .url_upload(&me(), &item("/"), "u.bin", &src, &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Service);
    assert_eq!(copy_posts(&emu), 1);
}

#[test]
fn dropped_connections() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    // request cut while sending: a replace is safe to send again
    emu.add_fault(fault(
        Some("api"),
        Some("PUT"),
        None,
        Times::Next(1),
        FaultAction::DropRequestAfter(1000),
    ));
    let data = vec![5u8; 100_000];
    let it = c
        .upload(
            &me(),
            &target("/", Some("d.bin")),
            &data,
            Conflict::Replace,
            &mut ctl(),
        )
        .unwrap();
    assert_eq!(it.size(), Some(100_000));
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/d.bin").unwrap(),
        data
    );
    // response cut after the service acted: the replace is repeated, same result
    emu.add_fault(fault(
        Some("api"),
        Some("PUT"),
        None,
        Times::Next(1),
        FaultAction::DropResponseAfter(20),
    ));
    c.upload(
        &me(),
        &target("/", Some("d.bin")),
        b"v2",
        Conflict::Replace,
        &mut ctl(),
    )
    .unwrap();
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/d.bin").unwrap(),
        b"v2"
    );
    // a GET of the monitor is repeated too
    let job = copy_as(&c, "/d.bin", "/", "e.bin");
    emu.add_fault(fault(
        Some("monitor"),
        Some("GET"),
        None,
        Times::Next(1),
        FaultAction::DropResponseAfter(5),
    ));
    wait_result(&c, &job).unwrap();
    // a monitor 503 burst with Retry-After 0
    let job = copy_as(&c, "/d.bin", "/", "f.bin");
    emu.add_fault(fault(
        Some("monitor"),
        None,
        None,
        Times::Next(3),
        FaultAction::Status {
            status: 503,
            retry_after: Some(0),
        },
    ));
    wait_result(&c, &job).unwrap();
}

#[test]
fn slow_answers_time_out() {
    let emu = emulator(Profile::Personal);
    let c = Client::new(ClientConfig {
        request_timeout: Duration::from_millis(1000),
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
        ..config(&emu)
    })
    .unwrap();
    emu.add_fault(fault(
        Some("api"),
        Some("GET"),
        None,
        Times::Next(1),
        FaultAction::DelayMs(30_000),
    ));
    let e = c.item(&me(), &item("/"), &mut ctl()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    // a short delay (well within the timeout, even on a loaded machine) is only slow
    emu.add_fault(fault(
        Some("api"),
        Some("GET"),
        None,
        Times::Next(1),
        FaultAction::DelayMs(20),
    ));
    c.item(&me(), &item("/"), &mut ctl()).unwrap();
}

#[test]
fn nothing_listening_is_a_network_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = Client::new(ClientConfig {
        retry: RetryPolicy {
            max_attempts: 2,
            base_backoff: Duration::from_millis(1),
            ..RetryPolicy::default()
        },
        ..ClientConfig::new(format!("http://127.0.0.1:{port}/v1.0"), "t")
    })
    .unwrap();
    let e = c.item(&me(), &item("/"), &mut ctl()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network, "{e}");
}

/// `http://` to a server that speaks HTTPS: the answer is not HTTP, and a
/// retry would not make it so: one attempt, `Protocol`, with a hint about
/// the scheme (it used to be retried 6 times as a network error).
#[test]
fn plain_http_to_an_https_server_fails_at_once_with_a_hint() {
    let emu = emulator(Profile::Personal);
    let https = emu.base_url();
    let plain = https.replacen("https://", "http://", 1);
    assert_ne!(plain, https, "the emulator serves HTTPS");
    let c = Client::new(ClientConfig::new(plain, emu.token())).unwrap();
    let e = c.item(&me(), &item("/"), &mut ctl()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol, "{e}");
    assert!(e.message.contains("https://"), "{e}");
    assert!(!e.message.contains("attempts"), "retried: {e}");
}

/// Requests the service may have acted on before their answer was lost:
/// each is sent once and the caller is told `Network`, never a false
/// result that a repeat would produce (a second folder "F 1", a false
/// NotFound after a delete that worked, a false Conflict for the file just
/// written). Every request the library sends that is not safe to repeat
/// (`Retry::OnlyUnacted` in src/graph): the folder POST, the DELETE of an
/// item, a simple upload with conflict fail or rename, the copy and
/// url_upload POSTs (`a_post_the_service_may_have_acted_on_is_never_sent_twice`)
/// and a session's chunk PUTs (tests/sessions.rs, the answer cut mid-upload).
#[test]
fn answers_cut_after_the_service_acted_are_never_repeated() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let drive = emu.default_drive_id();
    let sent = |emu: &onedrive_emulator::Emulator, method: &str| {
        emu.requests()
            .into_iter()
            .filter(|r| r.origin == "api" && r.method == method)
            .count()
    };
    let cut_next = |emu: &onedrive_emulator::Emulator, method: &str| {
        emu.clear_requests();
        emu.add_fault(fault(
            Some("api"),
            Some(method),
            None,
            Times::Next(1),
            FaultAction::DropResponseAfter(10),
        ));
    };

    // a folder POST with rename: one folder, not "F" and "F 1"
    cut_next(&emu, "POST");
    let e = c
        .create_folder(&me(), &item("/"), "F", Conflict::Rename, false, &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network, "{e}");
    assert_eq!(sent(&emu, "POST"), 1);
    assert!(emu.item_json(&drive, "/F").is_some());
    assert!(emu.item_json(&drive, "/F 1").is_none());
    // with fail: the folder made is not reported as a conflict
    cut_next(&emu, "POST");
    let e = c
        .create_folder(&me(), &item("/"), "G", Conflict::Fail, false, &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network, "{e}");
    assert_eq!(sent(&emu, "POST"), 1);
    assert!(emu.item_json(&drive, "/G").is_some());

    // mkdir -p: the POST that made "P" lost its answer: the folder is
    // looked up and taken, the POST not repeated
    cut_next(&emu, "POST");
    let made = c
        .create_folder(&me(), &item("/P"), "Q", Conflict::Fail, true, &mut ctl())
        .unwrap();
    assert_eq!(made.name(), Some("Q"));
    assert_eq!(sent(&emu, "POST"), 2, "P, then Q once");
    // ... but a POST refused outright (403) is the answer, not looked past
    emu.clear_requests();
    emu.add_fault(fault(
        Some("api"),
        Some("POST"),
        None,
        Times::Next(1),
        answer_with(403),
    ));
    let e = c
        .create_folder(&me(), &item("/P"), "R", Conflict::Fail, true, &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden, "{e}");
    let after_post = emu
        .requests()
        .into_iter()
        .skip_while(|r| r.method != "POST")
        .filter(|r| r.origin == "api")
        .count();
    assert_eq!(after_post, 1, "nothing after the refused POST");

    // a DELETE that worked is not reported as NotFound
    put(&c, "/", "gone.txt", b"x");
    cut_next(&emu, "DELETE");
    let e = c
        .delete_item(&me(), &item("/gone.txt"), None, &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network, "{e}");
    assert_eq!(sent(&emu, "DELETE"), 1);
    assert!(emu.item_json(&drive, "/gone.txt").is_none());

    // a simple upload with fail: the file just written is no conflict;
    // with rename: one file, not "r.txt" and "r 1.txt"
    for (name, conflict) in [("once.txt", Conflict::Fail), ("r.txt", Conflict::Rename)] {
        cut_next(&emu, "PUT");
        let e = c
            .upload(&me(), &target("/", Some(name)), b"1", conflict, &mut ctl())
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Network, "{name}: {e}");
        assert_eq!(sent(&emu, "PUT"), 1, "{name}");
        assert_eq!(emu.content(&drive, &format!("/{name}")).unwrap(), b"1");
    }
    assert!(emu.item_json(&drive, "/r 1.txt").is_none());
}

/// mkdir -p: a lookup the service refuses (403) is the answer; nothing
/// above it is looked at or created.
#[test]
fn mkdir_p_stops_at_a_refused_lookup() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    emu.add_fault(fault(
        Some("api"),
        Some("GET"),
        None,
        Times::Next(1),
        answer_with(403),
    ));
    let e = c
        .create_folder(&me(), &item("/A"), "B", Conflict::Fail, true, &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden, "{e}");
    let sent: Vec<_> = emu.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(sent, ["GET"], "one refused lookup, nothing after it");
}

/// A monitor that answers a 5xx with a Graph error in its body has given
/// the job's final word: one GET, the job Failed with that error, not
/// retried as a blip.
#[test]
fn a_monitors_graph_error_is_the_jobs_final_answer() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    emu.set_job_config(onedrive_emulator::JobConfig {
        paused: true,
        ..emu.job_config()
    });
    let src = put(&c, "/", "m.txt", b"m");
    let job = copy_as(&c, src.id(), "/", "m2.txt");
    emu.clear_requests();
    emu.add_fault(fault(
        Some("monitor"),
        Some("GET"),
        None,
        Times::Next(1),
        answer_with(500),
    ));
    let st = c.poll_job(&job, &mut ctl()).unwrap();
    assert_eq!(st.state, JobState::Failed, "{st:?}");
    let e = st.error.unwrap();
    assert_eq!(e.kind, ErrorKind::JobFailed, "{e}");
    assert_eq!(
        (e.http_status, e.code.as_deref()),
        (Some(500), Some("generalException"))
    );
    let gets = emu
        .requests()
        .iter()
        .filter(|r| r.origin == "monitor")
        .count();
    assert_eq!(gets, 1);
}

/// The line for an attempt a cancel ended is Info (the caller asked for
/// it), never Warn. The emulator holds the request until the cancel is
/// raised, whatever the machine's speed.
#[test]
fn a_cancelled_attempt_is_logged_as_info() {
    use onedrive_native::{CancelToken, Control, LogLevel};
    use std::sync::{Arc, Mutex};
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let sink_lines = Arc::new(Mutex::new(Vec::new()));
    let sink = sink_lines.clone();
    c.set_log(
        LogLevel::Info,
        Some(Arc::new(move |level, line: &str| {
            sink.lock().unwrap().push((level, line.to_owned()))
        })),
    );
    emu.add_fault(fault(
        Some("api"),
        Some("GET"),
        None,
        Times::Next(1),
        FaultAction::HoldRequest,
    ));
    let token = CancelToken::new();
    let r = std::thread::scope(|s| {
        let call = s.spawn(|| c.item(&me(), &item("/"), &mut Control::new(Some(&token), None)));
        assert!(
            eventually(Duration::from_secs(60), || emu.held_requests() == 1),
            "the GET never reached the emulator"
        );
        token.cancel();
        assert_eq!(emu.release_requests(), 1);
        call.join().unwrap()
    });
    assert_eq!(r.unwrap_err().kind, ErrorKind::Cancelled);
    let lines = sink_lines.lock().unwrap();
    let attempts: Vec<_> = lines
        .iter()
        .filter(|(_, l)| l.starts_with("GET "))
        .collect();
    assert!(!attempts.is_empty(), "{lines:?}");
    assert!(
        attempts.iter().all(|(level, _)| *level == LogLevel::Info),
        "{lines:?}"
    );
    drop(lines);
    // An attempt that failed (its answer cut, then retried) is a Warn.
    emu.add_fault(fault(
        Some("api"),
        Some("GET"),
        None,
        Times::Next(1),
        FaultAction::DropResponseAfter(10),
    ));
    c.item(&me(), &item("/"), &mut ctl()).unwrap();
    let lines = sink_lines.lock().unwrap();
    assert!(
        lines
            .iter()
            .any(|(level, l)| *level == LogLevel::Warn && l.starts_with("GET ")),
        "{lines:?}"
    );
}
