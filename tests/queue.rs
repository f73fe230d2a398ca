//! The transfer queue against the emulator: states, control, faults,
//! durability across a reopen, events.

#![cfg(feature = "queue")]

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use onedrive_emulator::{Emulator, FaultAction, JobConfig, Profile, Times};
use onedrive_native::{
    Client, Conflict, ErrorKind, Event, EventKind, Queue, QueueOptions, RetryPolicy, StateSet,
    TransferKind, TransferState, UploadSettings, WaitReason,
};

const LIMIT: Duration = Duration::from_secs(60);

/// A directory removed when the test ends (passed or not).
struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempdir(tag: &str) -> TempDir {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "odq-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}

/// A client with a small simple-upload limit and chunk, so sessions come
/// cheap; `attempts` 1 hands every transient error to the queue.
fn small_client(emu: &Emulator, attempts: u32) -> Client {
    let mut cfg = config(emu);
    cfg.retry = RetryPolicy {
        max_attempts: attempts,
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..RetryPolicy::default()
    };
    let c = Client::new(cfg).unwrap();
    c.set_upload_settings(UploadSettings {
        simple_limit: 320 * 1024,
        chunk_size: 320 * 1024,
        ..UploadSettings::default()
    })
    .unwrap();
    c
}

fn opts() -> QueueOptions {
    QueueOptions {
        retry_base: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        unknown_outcome_grace: Duration::from_secs(5),
        ..QueueOptions::default()
    }
}

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

fn content(emu: &Emulator, path: &str) -> Option<Vec<u8>> {
    emu.content(&emu.default_drive_id(), path)
}

/// A fault answering `code` (with a Retry-After when given).
fn status(
    origin: Option<&str>,
    method: Option<&str>,
    path: Option<&str>,
    times: Times,
    code: u16,
    retry_after: Option<u64>,
) -> onedrive_emulator::FaultRule {
    fault(
        origin,
        method,
        path,
        times,
        FaultAction::Status {
            status: code,
            retry_after,
        },
    )
}

/// Drains the polled events until `id` reaches a finished state.
fn events_until_finished(q: &Queue, ids: &[u64]) -> Vec<Event> {
    let mut seen = Vec::new();
    let mut open: HashSet<u64> = ids.iter().copied().collect();
    let start = std::time::Instant::now();
    while !open.is_empty() {
        assert!(start.elapsed() < LIMIT, "events: {seen:?}");
        if let Some(e) = q.next_event(Duration::from_millis(200)) {
            if let EventKind::State(s) = e.kind
                && s.is_finished()
            {
                open.remove(&e.id);
            }
            seen.push(e);
        }
    }
    seen
}

fn states_of(events: &[Event], id: u64) -> Vec<TransferState> {
    events
        .iter()
        .filter(|e| e.id == id)
        .filter_map(|e| match e.kind {
            EventKind::State(s) => Some(s),
            _ => None,
        })
        .collect()
}

#[test]
fn uploads_of_every_size_complete_with_events() {
    let emu = emulator(Profile::Personal);
    let dir = tempdir("sizes");
    let files = dir.join("files");
    std::fs::create_dir_all(&files).unwrap();
    let q = Queue::open(small_client(&emu, 6), &dir.join("q"), opts()).unwrap();
    let sizes = [0usize, 1000, 320 * 1024, 320 * 1024 + 1, 1_000_000];
    let mut ids = Vec::new();
    for (i, n) in sizes.iter().enumerate() {
        let p = write(&files, &format!("f{i}"), &bytes(*n, i as u8));
        ids.push(
            q.enqueue_upload(&p, &me(), &item("/"), &format!("f{i}.bin"), Conflict::Fail)
                .unwrap(),
        );
    }
    assert_eq!(ids, vec![1, 2, 3, 4, 5]);
    let events = events_until_finished(&q, &ids);
    assert!(q.wait_idle(Some(LIMIT), None).unwrap());
    for (i, n) in sizes.iter().enumerate() {
        assert_eq!(
            content(&emu, &format!("/f{i}.bin")).unwrap(),
            bytes(*n, i as u8)
        );
        let t = q.get(ids[i]).unwrap();
        assert_eq!(t.state, TransferState::Completed);
        assert_eq!(t.kind, TransferKind::Upload);
        assert_eq!((t.done, t.total), (*n as u64, *n as u64));
        assert_eq!(t.item.unwrap().size(), Some(*n as u64));
        assert_eq!(
            states_of(&events, ids[i]),
            vec![
                TransferState::Queued,
                TransferState::Running,
                TransferState::Completed
            ]
        );
    }
    // The 1 MB upload went in chunks and told its progress.
    assert!(events.iter().any(|e| e.id == ids[4]
        && matches!(e.kind, EventKind::Progress { done, total: 1_000_000 } if done > 0)));
    let t = q.totals();
    assert_eq!((t.files, t.completed, t.failed), (5, 5, 0));
    assert_eq!(t.bytes_done, t.bytes_total);
    assert_eq!(q.list(StateSet::of(&[TransferState::Completed])).len(), 5);
    assert!(q.list(StateSet::of(&[TransferState::Queued])).is_empty());
    assert_eq!(emu.upload_session_count(), 0);
    // Removing finished ones: ids are never reused.
    q.remove(ids[0]).unwrap();
    assert!(q.get(ids[0]).is_none());
    assert_eq!(q.remove(ids[0]).unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(q.remove_finished().unwrap(), 4);
    q.close().unwrap();
    let q = Queue::open(small_client(&emu, 6), &dir.join("q"), opts()).unwrap();
    assert_eq!(q.totals().files, 0);
    let p = write(&files, "again", b"again");
    assert_eq!(
        q.enqueue_upload(&p, &me(), &item("/"), "again.bin", Conflict::Fail)
            .unwrap(),
        6
    );
    assert!(q.wait_idle(Some(LIMIT), None).unwrap());
}

#[test]
fn a_directory_opens_once() {
    let emu = emulator(Profile::Personal);
    let dir = tempdir("lock");
    let q = Queue::open(client(&emu), &dir, opts()).unwrap();
    let e = Queue::open(client(&emu), &dir, opts()).err().unwrap();
    assert_eq!(e.kind, ErrorKind::InvalidState);
    drop(q);
    Queue::open(client(&emu), &dir, opts()).unwrap();
}

#[test]
fn bad_arguments_are_refused_before_anything_is_recorded() {
    let emu = emulator(Profile::Personal);
    let dir = tempdir("bad");
    let q = Queue::open(client(&emu), &dir.join("q"), opts()).unwrap();
    let p = write(&dir, "x", b"x");
    let e = q
        .enqueue_upload(&p, &me(), &item("/"), "a:b", Conflict::Fail)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidName);
    let e = q
        .enqueue_upload(&dir.join("missing"), &me(), &item("/"), "m", Conflict::Fail)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
    let e = q
        .enqueue_url_upload("not a url", &me(), &item("/"), "n")
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert_eq!(q.totals().files, 0);
    assert_eq!(q.pause(99).unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(
        q.set_max_running(0).unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
    let zero = QueueOptions {
        max_running: 0,
        ..opts()
    };
    assert!(Queue::open(client(&emu), &dir.join("q2"), zero).is_err());
}

/// Waits until the transfer is in `state`.
fn reach(q: &Queue, id: u64, state: TransferState) {
    assert!(
        eventually(LIMIT, || q.get(id).unwrap().state == state),
        "{id} never {state:?}: {:?}",
        q.get(id)
    );
}

#[test]
fn pause_resume_and_cancel() {
    let emu = emulator(Profile::Personal);
    let dir = tempdir("pause");
    // Slow chunks: the uploads are surely running when paused.
    emu.add_fault(fault(
        Some("monitor"),
        Some("PUT"),
        None,
        Times::EveryNth(1),
        FaultAction::DelayMs(100),
    ));
    let q = Queue::open(small_client(&emu, 6), &dir.join("q"), opts()).unwrap();
    let a = write(&dir, "a", &bytes(3_000_000, 1));
    let b = write(&dir, "b", &bytes(3_000_000, 2));
    let ia = q
        .enqueue_upload(&a, &me(), &item("/"), "a.bin", Conflict::Fail)
        .unwrap();
    // Paused once the service has taken a chunk of it (progress alone
    // comes within chunks, before the service has anything), so that the
    // resume below has something to go on from.
    let accepted = |emu: &Emulator| {
        emu.requests()
            .iter()
            .any(|r| r.origin == "monitor" && r.method == "PUT" && r.status == 202)
    };
    assert!(eventually(LIMIT, || accepted(&emu)));
    q.pause(ia).unwrap();
    let ib = q
        .enqueue_upload(&b, &me(), &item("/"), "b.bin", Conflict::Fail)
        .unwrap();
    reach(&q, ia, TransferState::Paused);
    q.pause(ia).unwrap(); // again: nothing to do
    // The paused upload keeps its session, to go on from where it stood.
    assert!(emu.upload_session_count() >= 1);
    assert!(eventually(LIMIT, || q.get(ib).unwrap().done > 0));
    q.cancel(ib).unwrap();
    reach(&q, ib, TransferState::Cancelled);
    assert_eq!(q.resume(ib).unwrap_err().kind, ErrorKind::InvalidState);
    assert_eq!(q.cancel(ib).map(|_| ()), Ok(()));
    // Nothing runs: idle although a transfer is paused.
    assert!(q.wait_idle(Some(LIMIT), None).unwrap());
    assert!(
        eventually(LIMIT, || emu.upload_session_count() == 1),
        "the cancelled one's session is deleted: {} open",
        emu.upload_session_count()
    );
    let sent_before = chunk_bytes(&emu);
    q.resume(ia).unwrap();
    reach(&q, ia, TransferState::Completed);
    assert_eq!(content(&emu, "/a.bin").unwrap(), bytes(3_000_000, 1));
    assert!(content(&emu, "/b.bin").is_none());
    // Resumed from where the service stood, not from the start.
    assert!(chunk_bytes(&emu) - sent_before < 3_000_000);
    assert_eq!(emu.upload_session_count(), 0);
    // All at once.
    let ids: Vec<u64> = (0..3)
        .map(|i| {
            let p = write(&dir, &format!("c{i}"), &bytes(1_000_000, 9));
            q.enqueue_upload(&p, &me(), &item("/"), &format!("c{i}.bin"), Conflict::Fail)
                .unwrap()
        })
        .collect();
    q.pause_all().unwrap();
    for id in &ids {
        reach(&q, *id, TransferState::Paused);
    }
    q.resume_all().unwrap();
    q.cancel_all().unwrap();
    for id in &ids {
        reach(&q, *id, TransferState::Cancelled);
    }
    assert!(eventually(LIMIT, || emu.upload_session_count() == 0));
    assert_eq!(q.remove(ia).map(|_| ()), Ok(()));
}

/// Bytes the upload sessions have been sent (chunk PUTs on the monitor
/// origin).
fn chunk_bytes(emu: &Emulator) -> u64 {
    emu.requests()
        .iter()
        .filter(|r| r.origin == "monitor" && r.method == "PUT")
        .map(|r| r.body_bytes)
        .sum()
}

#[test]
fn offline_waits_without_spending_retries() {
    let emu = emulator(Profile::Personal);
    let dir = tempdir("offline");
    let o = QueueOptions {
        start_offline: true,
        ..opts()
    };
    let q = Queue::open(small_client(&emu, 6), &dir.join("q"), o).unwrap();
    let p = write(&dir, "a", &bytes(2_000_000, 3));
    let id = q
        .enqueue_upload(&p, &me(), &item("/"), "a.bin", Conflict::Fail)
        .unwrap();
    let t = q.get(id).unwrap();
    assert_eq!(t.state, TransferState::Waiting);
    assert_eq!(t.wait_reason, Some(WaitReason::Offline));
    assert!(!q.wait_idle(Some(Duration::from_millis(50)), None).unwrap());
    assert!(emu.requests().iter().all(|r| r.origin == "admin"));
    // Online, then offline again while it runs: it stops and waits.
    emu.add_fault(fault(
        Some("monitor"),
        Some("PUT"),
        None,
        Times::EveryNth(1),
        FaultAction::DelayMs(100),
    ));
    q.set_online(true);
    assert!(eventually(LIMIT, || q.get(id).unwrap().done > 0));
    q.set_online(false);
    reach(&q, id, TransferState::Waiting);
    let t = q.get(id).unwrap();
    assert_eq!(t.wait_reason, Some(WaitReason::Offline));
    assert!(
        t.error.is_none(),
        "an offline stop is no error: {:?}",
        t.error
    );
    let token = onedrive_native::CancelToken::new();
    token.cancel();
    assert_eq!(
        q.wait_idle(None, Some(&token)).unwrap_err().kind,
        ErrorKind::Cancelled
    );
    emu.clear_faults();
    q.set_online(true);
    reach(&q, id, TransferState::Completed);
    assert_eq!(content(&emu, "/a.bin").unwrap(), bytes(2_000_000, 3));
}

#[test]
fn transient_faults_wait_and_go_on() {
    let emu = emulator(Profile::Personal);
    let dir = tempdir("transient");
    // Every kind of transient trouble, more than the client's own retries
    // (one attempt) absorb.
    emu.add_fault(status(
        Some("api"),
        Some("PUT"),
        None,
        Times::Next(2),
        503,
        None,
    ));
    emu.add_fault(status(
        Some("api"),
        Some("POST"),
        Some("createUploadSession"),
        Times::Next(2),
        500,
        None,
    ));
    emu.add_fault(fault(
        Some("monitor"),
        Some("PUT"),
        None,
        Times::EveryNth(3),
        FaultAction::DropRequestAfter(1000),
    ));
    emu.add_fault(status(
        Some("api"),
        Some("POST"),
        Some("copy"),
        Times::Next(2),
        429,
        Some(0),
    ));
    let q = Queue::open(small_client(&emu, 1), &dir.join("q"), opts()).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    q.set_event_callback(Some(Arc::new(move |e: &Event| s2.lock().unwrap().push(*e))));
    let small = write(&dir, "s", &bytes(5000, 4));
    let large = write(&dir, "l", &bytes(1_500_000, 5));
    let is = q
        .enqueue_upload(&small, &me(), &item("/"), "s.bin", Conflict::Fail)
        .unwrap();
    let il = q
        .enqueue_upload(&large, &me(), &item("/"), "l.bin", Conflict::Fail)
        .unwrap();
    put(&client(&emu), "/", "src.bin", b"copy me");
    let ic = q
        .enqueue_copy(
            &me(),
            &item("/src.bin"),
            &item("/"),
            None,
            Some("dst.bin"),
            Conflict::Fail,
        )
        .unwrap();
    assert!(q.wait_idle(Some(LIMIT), None).unwrap());
    for id in [is, il, ic] {
        let t = q.get(id).unwrap();
        assert_eq!(t.state, TransferState::Completed, "{t:?}");
    }
    assert_eq!(content(&emu, "/s.bin").unwrap(), bytes(5000, 4));
    assert_eq!(content(&emu, "/l.bin").unwrap(), bytes(1_500_000, 5));
    assert_eq!(content(&emu, "/dst.bin").unwrap(), b"copy me");
    let seen = seen.lock().unwrap();
    for id in [is, il, ic] {
        assert!(
            states_of(&seen, id).contains(&TransferState::Waiting),
            "{id} never waited: {:?}",
            states_of(&seen, id)
        );
    }
    assert_eq!(emu.upload_session_count(), 0);
}

#[test]
fn permanent_errors_fail_at_once_with_the_error() {
    let emu = emulator(Profile::Personal);
    let dir = tempdir("permanent");
    put(&client(&emu), "/", "taken.bin", b"someone else's");
    let q = Queue::open(small_client(&emu, 6), &dir.join("q"), opts()).unwrap();
    let p = write(&dir, "a", b"mine");
    let id = q
        .enqueue_upload(&p, &me(), &item("/"), "taken.bin", Conflict::Fail)
        .unwrap();
    reach(&q, id, TransferState::Failed);
    let e = q.get(id).unwrap().error.unwrap();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert_eq!(e.http_status, Some(409));
    assert!(e.code.is_some());
    assert!(e.request_id.is_some());
    assert_eq!(content(&emu, "/taken.bin").unwrap(), b"someone else's");
    // A copy of an item that does not exist.
    let ic = q
        .enqueue_copy(
            &me(),
            &item("/nothing"),
            &item("/"),
            None,
            Some("x"),
            Conflict::Fail,
        )
        .unwrap();
    reach(&q, ic, TransferState::Failed);
    assert_eq!(q.get(ic).unwrap().error.unwrap().kind, ErrorKind::NotFound);
    // The failure is on disk.
    q.close().unwrap();
    let q = Queue::open(small_client(&emu, 6), &dir.join("q"), opts()).unwrap();
    let t = q.get(id).unwrap();
    assert_eq!(t.state, TransferState::Failed);
    assert_eq!(t.error.unwrap().http_status, Some(409));
}

#[test]
fn a_file_changed_since_enqueue_fails_with_hash_mismatch() {
    let emu = emulator(Profile::Personal);
    let dir = tempdir("changed");
    let o = QueueOptions {
        start_offline: true,
        ..opts()
    };
    let q = Queue::open(small_client(&emu, 6), &dir.join("q"), o).unwrap();
    let small = write(&dir, "s", b"old");
    let large = write(&dir, "l", &bytes(1_000_000, 1));
    let is = q
        .enqueue_upload(&small, &me(), &item("/"), "s.bin", Conflict::Fail)
        .unwrap();
    let il = q
        .enqueue_upload(&large, &me(), &item("/"), "l.bin", Conflict::Fail)
        .unwrap();
    std::fs::write(&small, b"new!").unwrap();
    std::fs::write(&large, bytes(1_000_001, 2)).unwrap();
    q.set_online(true);
    for id in [is, il] {
        reach(&q, id, TransferState::Failed);
        assert_eq!(
            q.get(id).unwrap().error.unwrap().kind,
            ErrorKind::HashMismatch
        );
    }
    assert!(content(&emu, "/s.bin").is_none());
    assert!(content(&emu, "/l.bin").is_none());
}

#[test]
fn jobs_are_followed_from_their_monitor_url_across_a_reopen() {
    let emu = emulator(Profile::Personal);
    let dir = tempdir("monitor");
    put(&client(&emu), "/", "src.bin", b"copied");
    let source = emu.serve_static("page.html", b"fetched".to_vec());
    emu.set_job_config(JobConfig {
        paused: true,
        ..JobConfig::default()
    });
    let q = Queue::open(small_client(&emu, 6), &dir.join("q"), opts()).unwrap();
    let ic = q
        .enqueue_copy(
            &me(),
            &item("/src.bin"),
            &item("/"),
            None,
            Some("c.bin"),
            Conflict::Fail,
        )
        .unwrap();
    let iu = q
        .enqueue_url_upload(&source, &me(), &item("/"), "u.html")
        .unwrap();
    // Both accepted and polled: their monitor URLs are on disk.
    assert!(eventually(LIMIT, || {
        emu.requests()
            .iter()
            .filter(|r| r.origin == "monitor" && r.method == "GET")
            .count()
            >= 2
    }));
    q.close().unwrap();
    emu.set_job_config(JobConfig::default());
    let posts = |emu: &Emulator| {
        emu.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.origin == "api")
            .count()
    };
    assert_eq!(posts(&emu), 2);
    let q = Queue::open(small_client(&emu, 6), &dir.join("q"), opts()).unwrap();
    assert!(q.wait_idle(Some(LIMIT), None).unwrap());
    for id in [ic, iu] {
        let t = q.get(id).unwrap();
        assert_eq!(t.state, TransferState::Completed, "{t:?}");
    }
    assert_eq!(q.get(iu).unwrap().kind, TransferKind::UrlUpload);
    assert_eq!(posts(&emu), 2, "nothing posted again");
    assert_eq!(content(&emu, "/c.bin").unwrap(), b"copied");
    assert_eq!(content(&emu, "/u.html").unwrap(), b"fetched");
}

#[test]
fn a_post_without_its_answer_is_never_sent_again() {
    let emu = emulator(Profile::Personal);
    let dir = tempdir("posting");
    put(&client(&emu), "/", "src.bin", b"copied");
    // The service takes the copy, the answer is lost: the copy is found at
    // its destination.
    emu.add_fault(fault(
        Some("api"),
        Some("POST"),
        Some("copy"),
        Times::Next(1),
        FaultAction::DropResponseAfter(0),
    ));
    let q = Queue::open(small_client(&emu, 6), &dir.join("q"), opts()).unwrap();
    let ic = q
        .enqueue_copy(
            &me(),
            &item("/src.bin"),
            &item("/"),
            None,
            Some("c.bin"),
            Conflict::Fail,
        )
        .unwrap();
    reach(&q, ic, TransferState::Completed);
    assert_eq!(content(&emu, "/c.bin").unwrap(), b"copied");
    let copies = |emu: &Emulator| {
        emu.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/copy"))
            .count()
    };
    assert_eq!(copies(&emu), 1);
    // The request never reached the service, but the client cannot know:
    // nothing at the destination, and it is not sent again.
    emu.add_fault(fault(
        Some("api"),
        Some("POST"),
        Some("copy"),
        Times::Next(1),
        FaultAction::DropRequestAfter(0),
    ));
    let o = QueueOptions {
        unknown_outcome_grace: Duration::from_millis(300),
        ..opts()
    };
    q.close().unwrap();
    let q = Queue::open(small_client(&emu, 6), &dir.join("q"), o).unwrap();
    let id = q
        .enqueue_copy(
            &me(),
            &item("/src.bin"),
            &item("/"),
            None,
            Some("d.bin"),
            Conflict::Fail,
        )
        .unwrap();
    reach(&q, id, TransferState::Failed);
    let e = q.get(id).unwrap().error.unwrap();
    assert_eq!(e.kind, ErrorKind::UnknownOutcome, "{e}");
    assert_eq!(copies(&emu), 2);
    assert!(content(&emu, "/d.bin").is_none());
}

#[test]
fn at_most_max_running_at_once() {
    let emu = emulator(Profile::Personal);
    let dir = tempdir("max");
    emu.add_fault(fault(
        Some("api"),
        Some("PUT"),
        None,
        Times::EveryNth(1),
        FaultAction::DelayMs(30),
    ));
    let o = QueueOptions {
        max_running: 2,
        ..opts()
    };
    let q = Queue::open(small_client(&emu, 6), &dir.join("q"), o).unwrap();
    let running = Arc::new(Mutex::new((HashSet::new(), 0usize)));
    let r2 = running.clone();
    let handle = q.handle();
    q.set_event_callback(Some(Arc::new(move |e: &Event| {
        if let EventKind::State(s) = e.kind {
            let mut r = r2.lock().unwrap();
            if s == TransferState::Running {
                r.0.insert(e.id);
            } else {
                r.0.remove(&e.id);
            }
            r.1 = r.1.max(r.0.len());
        }
        // Calls on the queue from inside the callback are allowed.
        let _ = handle.get(e.id);
        let _ = handle.totals();
    })));
    let ids: Vec<u64> = (0..10)
        .map(|i| {
            let p = write(&dir, &format!("f{i}"), &bytes(1000, i as u8));
            q.enqueue_upload(&p, &me(), &item("/"), &format!("f{i}.bin"), Conflict::Fail)
                .unwrap()
        })
        .collect();
    assert!(eventually(LIMIT, || q
        .get(ids[3])
        .unwrap()
        .state
        .is_finished()));
    q.set_max_running(4).unwrap();
    assert!(q.wait_idle(Some(LIMIT), None).unwrap());
    let max = running.lock().unwrap().1;
    assert!((1..=4).contains(&max), "at most {max} at once");
    assert_eq!(q.totals().completed, 10);
}

/// The scheduler writes the `Sending` records of the next uploads ahead of
/// their start (one fsync for several): one whose request never went is,
/// after a reopen, checked at the destination like any `Sending`, then
/// sent once; nothing is lost or sent twice.
#[test]
fn records_written_ahead_are_checked_after_a_reopen() {
    let emu = emulator(Profile::Personal);
    let dir = tempdir("ahead");
    // Slow PUTs: the first two are still running at the close.
    emu.add_fault(fault(
        Some("api"),
        Some("PUT"),
        None,
        Times::EveryNth(1),
        FaultAction::DelayMs(300),
    ));
    let o = QueueOptions {
        max_running: 2,
        ..opts()
    };
    let files: Vec<(PathBuf, String)> = (0..6)
        .map(|i| {
            let name = format!("w{i}.bin");
            (write(&dir, &name, &bytes(1000 + i, i as u8)), name)
        })
        .collect();
    let q = Queue::open(small_client(&emu, 6), &dir.join("q"), o.clone()).unwrap();
    let ids = q
        .enqueue_uploads(&files, &me(), &item("/"), Conflict::Rename)
        .unwrap();
    reach(&q, ids[0], TransferState::Running);
    reach(&q, ids[1], TransferState::Running);
    q.close().unwrap();
    let before = emu.requests().len();
    let q = Queue::open(small_client(&emu, 6), &dir.join("q"), o).unwrap();
    assert!(q.wait_idle(Some(LIMIT), None).unwrap());
    assert_eq!(q.totals().completed, 6);
    let after: Vec<_> = emu.requests().into_iter().skip(before).collect();
    for (i, (_, name)) in files.iter().enumerate() {
        assert_eq!(
            content(&emu, &format!("/{name}")).unwrap(),
            bytes(1000 + i, i as u8)
        );
        assert!(
            content(&emu, &format!("/w{i} 1.bin")).is_none(),
            "{name} twice"
        );
        let puts = after
            .iter()
            .filter(|r| r.method == "PUT" && r.path.contains(name.as_str()))
            .count();
        assert!(puts <= 1, "{name}: {puts} PUTs after the reopen");
    }
    // The next two had their records written ahead (the first start wrote
    // the records of both slots and 4 x max_running more) and never started:
    // each is looked for before it is sent.
    for name in ["w2.bin", "w3.bin"] {
        let checks = after
            .iter()
            .filter(|r| r.method == "GET" && r.path.contains(name))
            .count();
        assert!(checks >= 1, "{name}: not checked at the destination");
    }
}
