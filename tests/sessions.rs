//! Large files: upload sessions against the emulator, with dropped
//! connections, lost sessions, saved sessions, cancel and integrity.

mod common;

use std::io::Write;
use std::time::Duration;

use common::*;
use onedrive_emulator::{FaultAction, Profile, Times};
use onedrive_native::{
    BytesSource, CHUNK_UNIT, CancelToken, Client, Conflict, Control, ErrorKind, HashSet,
    ReaderSource, RetryPolicy, UploadSession, UploadSettings, UploadSource, quick_xor_hash,
};

const MIB: usize = 1024 * 1024;

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
fn data(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A client with small chunks (one 320 KiB unit) so a few MiB make many,
/// and a session for anything above one chunk.
fn small_chunks(emu: &onedrive_emulator::Emulator, hashes: HashSet) -> Client {
    let c = client(emu);
    c.set_upload_settings(UploadSettings {
        chunk_size: CHUNK_UNIT,
        hashes,
        simple_limit: CHUNK_UNIT,
    })
    .unwrap();
    c
}

fn no_sha() -> HashSet {
    HashSet {
        sha1: false,
        sha256: false,
    }
}

fn session_puts(emu: &onedrive_emulator::Emulator) -> Vec<onedrive_emulator::LoggedRequest> {
    emu.requests()
        .into_iter()
        .filter(|r| r.origin == "monitor" && r.method == "PUT")
        .collect()
}

#[test]
fn sizes_around_every_boundary() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let hashes = HashSet {
        sha1: true,
        sha256: true,
    };
    c.set_upload_settings(UploadSettings {
        chunk_size: CHUNK_UNIT,
        hashes,
        ..UploadSettings::default()
    })
    .unwrap();
    let drive = emu.default_drive_id();
    let unit = CHUNK_UNIT as usize;
    let four = 4 * MIB;
    for (i, n) in [
        0,
        1,
        unit - 1,
        unit,
        unit + 1,
        3 * unit - 1,
        3 * unit,
        3 * unit + 1,
        four - 1,
        four,
        four + 1,
        four + unit,
    ]
    .into_iter()
    .enumerate()
    {
        let body = data(n, i as u64 + 7);
        let name = format!("size-{n}.bin");
        emu.clear_requests();
        let it = c
            .upload(
                &me(),
                &target("/sizes", Some(&name)),
                &body,
                Conflict::Fail,
                &mut ctl(),
            )
            .unwrap();
        assert_eq!(it.size(), Some(n as u64), "{n}");
        assert_eq!(
            it.quick_xor_hash(),
            Some(quick_xor_hash(&body).as_str()),
            "{n}"
        );
        assert_eq!(
            emu.content(&drive, &format!("/sizes/{name}")).unwrap(),
            body,
            "{n}"
        );
        let puts = session_puts(&emu);
        if n <= four {
            assert!(puts.is_empty(), "{n}: a simple upload, no session");
        } else {
            assert_eq!(
                puts.len(),
                n.div_ceil(unit),
                "{n}: one PUT per 320 KiB chunk"
            );
            assert!(
                puts.iter().all(|r| !r.authorization),
                "no token to the upload URL"
            );
        }
    }
    assert_eq!(emu.upload_session_count(), 0);
}

#[test]
fn a_file_streamed_from_disk_in_default_chunks() {
    let emu = emulator(Profile::Business);
    let c = client(&emu);
    let mut f = tempfile();
    let body = data(100 * MIB, 3);
    f.1.write_all(&body).unwrap();
    f.1.flush().unwrap();
    let mut chunks = Vec::new();
    let mut progress = |d: u64, t: u64| {
        chunks.push((d, t));
        true
    };
    let it = c
        .upload_file(
            &me(),
            &target("/", Some("big.bin")),
            &f.0,
            Conflict::ServiceDefault,
            &mut Control::new(None, Some(&mut progress)),
        )
        .unwrap();
    assert_eq!(it.size(), Some(100 * MIB as u64));
    assert_eq!(it.quick_xor_hash(), Some(quick_xor_hash(&body).as_str()));
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/big.bin").unwrap(),
        body
    );
    // progress at the start, within every chunk at least every 64 KiB,
    // after every chunk, and at the end
    let per_chunk = onedrive_native::DEFAULT_CHUNK_SIZE;
    let total = 100 * MIB as u64;
    assert_eq!(chunks.first(), Some(&(0, total)));
    assert_eq!(chunks.last(), Some(&(total, total)));
    let steps: Vec<u64> = chunks.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert!(steps.iter().all(|s| *s <= 64 * 1024), "a step above 64 KiB");
    for end in (per_chunk..total).step_by(per_chunk as usize) {
        assert!(
            chunks.contains(&(end, total)),
            "no report at the end of a chunk ({end})"
        );
    }
    std::fs::remove_file(&f.0).unwrap();
}

fn tempfile() -> (std::path::PathBuf, std::fs::File) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "od-test-{}-{}.bin",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let f = std::fs::File::create(&path).unwrap();
    (path, f)
}

#[test]
fn connections_dropped_at_random_offsets() {
    let emu = emulator(Profile::Personal);
    let c = small_chunks(&emu, no_sha());
    let drive = emu.default_drive_id();
    let body = data(2 * MIB + 12345, 11);
    let hash = quick_xor_hash(&body);
    let mut seed = 0x5eed_u64;
    let mut rnd = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for trial in 0..60 {
        // Each trial cuts one chunk PUT, at a random chunk and byte, either
        // while the request is sent or after the service took the chunk.
        let skip = rnd(6) as u32 + 1;
        let at = rnd(CHUNK_UNIT);
        let action = if trial % 2 == 0 {
            FaultAction::DropRequestAfter(at)
        } else {
            FaultAction::DropResponseAfter(rnd(200))
        };
        emu.clear_faults();
        emu.add_fault(fault(
            Some("monitor"),
            Some("PUT"),
            None,
            Times::EveryNth(skip + 1),
            action,
        ));
        let name = format!("drop-{trial}.bin");
        let src: &mut dyn UploadSource = if trial % 3 == 0 {
            &mut ReaderSource::new(&body[..], body.len() as u64) // a stream: no going back
        } else {
            &mut BytesSource::new(&body)
        };
        let it = c
            .upload_from(
                &me(),
                &target("/drops", Some(&name)),
                src,
                Conflict::Fail,
                &mut ctl(),
            )
            .unwrap_or_else(|e| panic!("trial {trial}: {e}"));
        assert_eq!(it.quick_xor_hash(), Some(hash.as_str()), "trial {trial}");
        assert_eq!(
            emu.content(&drive, &format!("/drops/{name}")).unwrap(),
            body,
            "trial {trial}"
        );
    }
    emu.clear_faults();
    assert_eq!(emu.upload_session_count(), 0);
    let cut = emu.requests().iter().filter(|r| r.fault.is_some()).count();
    assert!(cut >= 60, "only {cut} connections were cut");
}

#[test]
fn server_errors_and_a_lost_session_mid_upload() {
    let emu = emulator(Profile::Personal);
    let c = small_chunks(&emu, no_sha());
    let body = data(3 * MIB, 5);
    // 5xx bursts on chunk PUTs
    emu.add_fault(fault(
        Some("monitor"),
        Some("PUT"),
        None,
        Times::Next(2),
        answer_with(500),
    ));
    emu.add_fault(fault(
        Some("monitor"),
        Some("PUT"),
        None,
        Times::EveryNth(4),
        FaultAction::Status {
            status: 503,
            retry_after: Some(0),
        },
    ));
    let it = c
        .upload(
            &me(),
            &target("/", Some("e.bin")),
            &body,
            Conflict::Fail,
            &mut ctl(),
        )
        .unwrap();
    assert_eq!(it.quick_xor_hash(), Some(quick_xor_hash(&body).as_str()));
    let statuses: Vec<u16> = session_puts(&emu).iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 500).count(),
        2,
        "{statuses:?}"
    );
    assert!(statuses.contains(&503), "{statuses:?}");
    emu.clear_faults();
    // The session vanishes (a chunk and the status request both answer
    // 404): a new one is started and the upload completes.
    emu.add_fault(fault(
        Some("monitor"),
        None,
        Some("/upload/"),
        Times::Next(2),
        answer_with(404),
    ));
    emu.clear_requests();
    let it = c
        .upload(
            &me(),
            &target("/", Some("f.bin")),
            &body,
            Conflict::Fail,
            &mut ctl(),
        )
        .unwrap();
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/f.bin").unwrap(),
        body
    );
    let sessions = emu
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("createUploadSession"))
        .count();
    assert_eq!(sessions, 2, "a new session after the first was lost");
    assert_eq!(it.size(), Some(body.len() as u64));
    assert_eq!(
        emu.upload_session_count(),
        1,
        "only the one the service 'lost'"
    );
}

/// From bytes, and from a stream (no going back: the bytes the service
/// already has are read and hashed, not sent).
#[test]
fn a_session_saved_by_one_client_is_finished_by_another() {
    let emu = emulator(Profile::Personal);
    let body = data(2 * MIB, 9);
    for (name, stream) in [("s.bin", false), ("t.bin", true)] {
        let saved = {
            let c = small_chunks(&emu, no_sha());
            let mut session = c
                .create_upload_session(
                    &me(),
                    &target("/", Some(name)),
                    body.len() as u64,
                    Conflict::Fail,
                    &mut ctl(),
                )
                .unwrap();
            // send three chunks, then stop (the progress callback says so
            // during the fourth: progress comes piece by piece within chunks)
            let mut stop = |d: u64, _t: u64| d <= 3 * CHUNK_UNIT;
            let e = c
                .continue_upload_session(
                    &mut session,
                    &mut BytesSource::new(&body),
                    &mut Control::new(None, Some(&mut stop)),
                )
                .unwrap_err();
            assert_eq!(e.kind, ErrorKind::AbortedByCallback);
            session.to_json()
        };
        assert_eq!(emu.upload_session_count(), 1);
        let c = small_chunks(
            &emu,
            HashSet {
                sha1: true,
                sha256: true,
            },
        );
        let mut session = UploadSession::from_json(&saved).unwrap();
        assert_eq!(
            c.upload_session_offset(&session, &mut ctl()).unwrap(),
            Some(3 * CHUNK_UNIT)
        );
        emu.clear_requests();
        let (mut bytes, mut reader);
        let source: &mut dyn UploadSource = if stream {
            reader = ReaderSource::new(&body[..], body.len() as u64);
            &mut reader
        } else {
            bytes = BytesSource::new(&body);
            &mut bytes
        };
        let it = c
            .continue_upload_session(&mut session, source, &mut ctl())
            .unwrap();
        assert_eq!(it.quick_xor_hash(), Some(quick_xor_hash(&body).as_str()));
        assert_eq!(
            emu.content(&emu.default_drive_id(), &format!("/{name}"))
                .unwrap(),
            body,
            "{name}"
        );
        // only the missing chunks were sent
        let sent: u64 = session_puts(&emu).iter().map(|r| r.body_bytes).sum();
        assert_eq!(sent, body.len() as u64 - 3 * CHUNK_UNIT);
    }
}

#[test]
fn a_changed_source_is_a_hash_mismatch() {
    let emu = emulator(Profile::Personal);
    let c = small_chunks(&emu, no_sha());
    let body = data(MIB, 1);
    let mut session = c
        .create_upload_session(
            &me(),
            &target("/", Some("m.bin")),
            body.len() as u64,
            Conflict::Fail,
            &mut ctl(),
        )
        .unwrap();
    // one chunk taken, then stop during the second
    let mut stop = |d: u64, _t: u64| d <= CHUNK_UNIT;
    c.continue_upload_session(
        &mut session,
        &mut BytesSource::new(&body),
        &mut Control::new(None, Some(&mut stop)),
    )
    .unwrap_err();
    let other = data(MIB, 2);
    let e = c
        .continue_upload_session(&mut session, &mut BytesSource::new(&other), &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::HashMismatch, "{e}");
}

#[test]
fn cancel_mid_upload_leaves_no_session() {
    let emu = emulator(Profile::Personal);
    let c = small_chunks(&emu, no_sha());
    let body = data(5 * MIB, 4); // above the simple-upload limit
    let token = CancelToken::new();
    let mut progress = |d: u64, _t: u64| {
        if d >= 2 * CHUNK_UNIT {
            token.cancel(); // as another thread would
        }
        true
    };
    let e = c
        .upload(
            &me(),
            &target("/", Some("c.bin")),
            &body,
            Conflict::Fail,
            &mut Control::new(Some(&token.clone()), Some(&mut progress)),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled);
    // the session's DELETE may land after the call stopped waiting for its
    // answer (the cleanup's short timeout): polled, 60 s as a hang guard
    assert!(eventually(Duration::from_secs(60), || emu
        .upload_session_count()
        == 0));
    assert!(emu.item_json(&emu.default_drive_id(), "/c.bin").is_none());
    let log = emu.requests();
    assert!(
        log.iter()
            .any(|r| r.method == "DELETE" && r.origin == "monitor"),
        "{log:#?}"
    );
}

#[test]
fn a_read_callback_that_fails_or_lies_ends_cleanly() {
    let emu = emulator(Profile::Personal);
    let c = small_chunks(&emu, no_sha());
    struct Failing(usize);
    impl std::io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(1);
            self.0 -= n;
            Ok(n)
        }
    }
    let size = 2 * MIB as u64;
    let e = c
        .upload_from(
            &me(),
            &target("/", Some("r.bin")),
            &mut ReaderSource::new(Failing(MIB), size),
            Conflict::Fail,
            &mut ctl(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(e.message.contains("disk on fire"), "{e}");
    // a stream shorter than announced
    let short = vec![0u8; MIB];
    let e = c
        .upload_from(
            &me(),
            &target("/", Some("s.bin")),
            &mut ReaderSource::new(&short[..], size),
            Conflict::Fail,
            &mut ctl(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
    // and one longer
    let long = vec![0u8; 3 * MIB];
    let e = c
        .upload_from(
            &me(),
            &target("/", Some("l.bin")),
            &mut ReaderSource::new(&long[..], size),
            Conflict::Fail,
            &mut ctl(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(eventually(Duration::from_secs(60), || emu
        .upload_session_count()
        == 0));
    for n in ["r.bin", "s.bin", "l.bin"] {
        assert!(
            emu.item_json(&emu.default_drive_id(), &format!("/{n}"))
                .is_none(),
            "{n}"
        );
    }
}

#[test]
fn session_conflicts_and_replace_by_id() {
    let emu = emulator(Profile::Personal);
    let c = small_chunks(&emu, no_sha());
    let body = data(MIB, 8);
    let first = c
        .upload(
            &me(),
            &target("/", Some("k.bin")),
            &body,
            Conflict::Fail,
            &mut ctl(),
        )
        .unwrap();
    let e = c
        .upload(
            &me(),
            &target("/", Some("k.bin")),
            &body,
            Conflict::Fail,
            &mut ctl(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    let renamed = c
        .upload(
            &me(),
            &target("/", Some("k.bin")),
            &body,
            Conflict::Rename,
            &mut ctl(),
        )
        .unwrap();
    assert_eq!(renamed.name(), Some("k 1.bin"));
    assert!(
        emu.requests().iter().all(|r| !r.path.contains("/content")),
        "sessions only"
    );
    let other = data(MIB + 1, 9);
    let replaced = c
        .upload(
            &me(),
            &target(first.id(), None),
            &other,
            Conflict::ServiceDefault,
            &mut ctl(),
        )
        .unwrap();
    assert_eq!(replaced.id(), first.id());
    assert_eq!(
        emu.content(&emu.default_drive_id(), "/k.bin").unwrap(),
        other
    );
    assert_eq!(emu.upload_session_count(), 0);
}

#[test]
fn chunk_sizes_are_checked() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    for bad in [0, 1, CHUNK_UNIT + 1, 10 * MIB as u64 + 1, 60 * MIB as u64] {
        let e = c
            .set_upload_settings(UploadSettings {
                chunk_size: bad,
                ..UploadSettings::default()
            })
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{bad}");
    }
}

/// Sink mode (benchmarks) answers just enough: a simple upload and a session upload
/// both succeed, checked by size alone (the minimal item has no hashes).
#[test]
fn uploads_succeed_against_a_sink_emulator() {
    let emu = onedrive_emulator::Emulator::start(onedrive_emulator::Config {
        sink: true,
        ..onedrive_emulator::Config::default()
    })
    .expect("the emulator starts");
    let c = small_chunks(
        &emu,
        HashSet {
            sha1: true,
            sha256: true,
        },
    );
    let small = data(1000, 21);
    let it = put(&c, "/sink", "small.bin", &small);
    assert_eq!(it.size(), Some(1000));
    assert_eq!(it.name(), Some("small.bin"));
    let mut f = tempfile();
    let body = data(3 * CHUNK_UNIT as usize + 777, 22);
    f.1.write_all(&body).unwrap();
    f.1.flush().unwrap();
    let it = c
        .upload_file(
            &me(),
            &target("/sink", Some("big.bin")),
            &f.0,
            Conflict::ServiceDefault,
            &mut ctl(),
        )
        .unwrap();
    assert_eq!(it.size(), Some(body.len() as u64));
    assert_eq!(it.quick_xor_hash(), None);
    // nothing was stored, and a wrong token is still refused
    assert_eq!(emu.item_json(&emu.default_drive_id(), "/sink"), None);
    let bad = Client::new(onedrive_native::ClientConfig {
        token: "wrong".into(),
        ..config(&emu)
    })
    .unwrap();
    let e = bad
        .upload(
            &me(),
            &target("/sink", Some("x.bin")),
            b"x",
            Conflict::ServiceDefault,
            &mut ctl(),
        )
        .unwrap_err();
    assert_eq!(e.http_status, Some(401), "{e}");
    std::fs::remove_file(&f.0).unwrap();
}

/// The service loses the session again and again: three new sessions are
/// started (the bound), a fourth loss ends the upload with `Service`, and
/// no session is left open on the emulator either way.
#[test]
fn a_session_lost_three_times_is_restarted_and_four_times_gives_up() {
    let emu = emulator(Profile::Personal);
    let c = small_chunks(&emu, no_sha());
    let body = data(MIB, 9);
    let creates = |emu: &onedrive_emulator::Emulator| {
        emu.requests()
            .iter()
            .filter(|r| r.path.ends_with("createUploadSession"))
            .count()
    };
    for (losses, ok) in [(3usize, true), (4, false)] {
        emu.clear_requests();
        // The status GET before the first chunk answers 404 (a new session,
        // not counted: nothing was sent yet); then every loss is a chunk
        // PUT and the status GET after it both answering 404.
        emu.add_fault(fault(
            Some("monitor"),
            None,
            Some("/upload/"),
            Times::Next(2 * losses as u32 + 1),
            answer_with(404),
        ));
        let name = format!("lost{losses}.bin");
        let r = c.upload(
            &me(),
            &target("/", Some(&name)),
            &body,
            Conflict::Fail,
            &mut ctl(),
        );
        emu.clear_faults();
        if ok {
            let it = r.unwrap();
            assert_eq!(it.size(), Some(body.len() as u64));
            assert_eq!(
                emu.content(&emu.default_drive_id(), &format!("/{name}"))
                    .unwrap(),
                body
            );
        } else {
            let e = r.unwrap_err();
            assert_eq!(e.kind, ErrorKind::Service, "{e}");
            assert!(
                emu.item_json(&emu.default_drive_id(), &format!("/{name}"))
                    .is_none()
            );
        }
        assert_eq!(
            creates(&emu),
            losses.min(3) + 2,
            "sessions made after {losses} losses"
        );
    }
}

/// Throttled chunk PUTs take nothing, so they do not count against the
/// session's byte budget: every chunk after the first throttled twice
/// (Retry-After: 0) still uploads; the retry policy governs throttling.
#[test]
fn throttled_chunks_do_not_spend_the_byte_budget() {
    let emu = emulator(Profile::Personal);
    let c = small_chunks(&emu, no_sha());
    let body = data(5 * CHUNK_UNIT as usize, 11);
    // The first rule throttles every third chunk PUT, the second every
    // second of the rest: pass, 503, 503, pass, 503, 503, ...
    for n in [3, 2] {
        emu.add_fault(fault(
            Some("monitor"),
            Some("PUT"),
            None,
            Times::EveryNth(n),
            FaultAction::Status {
                status: 503,
                retry_after: Some(0),
            },
        ));
    }
    let it = c
        .upload(
            &me(),
            &target("/", Some("t.bin")),
            &body,
            Conflict::Fail,
            &mut ctl(),
        )
        .unwrap();
    assert_eq!(it.size(), Some(body.len() as u64));
    let throttled = session_puts(&emu)
        .iter()
        .filter(|r| r.status == 503)
        .count();
    assert_eq!(throttled, 8, "each chunk after the first throttled twice");
}

/// A session is fed only a source of its own size: a shorter or a longer
/// one is refused before any byte goes, and the session stays usable.
#[test]
fn a_source_of_another_size_is_refused_by_the_session() {
    let emu = emulator(Profile::Personal);
    let c = small_chunks(&emu, no_sha());
    let body = data(MIB, 12);
    let mut session = c
        .create_upload_session(
            &me(),
            &target("/", Some("size.bin")),
            body.len() as u64,
            Conflict::Fail,
            &mut ctl(),
        )
        .unwrap();
    emu.clear_requests();
    for n in [body.len() - 1, body.len() + 1] {
        let other = data(n, 12);
        let e = c
            .continue_upload_session(&mut session, &mut BytesSource::new(&other), &mut ctl())
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{n} bytes: {e}");
        assert!(e.message.contains(&n.to_string()), "{e}");
    }
    assert!(session_puts(&emu).is_empty(), "no chunk sent");
    let it = c
        .continue_upload_session(&mut session, &mut BytesSource::new(&body), &mut ctl())
        .unwrap();
    assert_eq!(it.size(), Some(body.len() as u64));
}

/// A chunk answered 429 with a Retry-After beyond the policy's `max_wait`
/// ends the upload with Throttled at once, the wait it asked for told;
/// nothing sleeps for an hour.
#[test]
fn a_chunk_throttled_beyond_max_wait_ends_the_upload_at_once() {
    let emu = emulator(Profile::Personal);
    let c = small_chunks(&emu, no_sha());
    c.set_retry_policy(RetryPolicy {
        max_wait: Duration::from_secs(5),
        ..c.retry_policy()
    })
    .unwrap();
    emu.add_fault(fault(
        Some("monitor"),
        Some("PUT"),
        None,
        Times::Next(1),
        FaultAction::Status {
            status: 429,
            retry_after: Some(3600),
        },
    ));
    let body = data(3 * CHUNK_UNIT as usize, 9);
    let e = c
        .upload_from(
            &me(),
            &target("/", Some("throttled.bin")),
            &mut BytesSource::new(&body),
            Conflict::Fail,
            &mut ctl(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled, "{e}");
    assert_eq!(e.retry_after, Some(Duration::from_secs(3600)));
}

/// Cancelling a session removes it from the service; cancelling it again
/// (the service no longer knows it: 404) is not an error.
#[test]
fn a_session_cancelled_twice_is_cancelled() {
    let emu = emulator(Profile::Business);
    let c = client(&emu);
    let session = c
        .create_upload_session(
            &me(),
            &target("/", Some("x.bin")),
            10,
            Conflict::Fail,
            &mut ctl(),
        )
        .unwrap();
    assert_eq!(emu.upload_session_count(), 1);
    c.cancel_upload_session(&session, &mut ctl()).unwrap();
    assert_eq!(emu.upload_session_count(), 0);
    c.cancel_upload_session(&session, &mut ctl()).unwrap();
}
