//! Monitor answers, as `poll_job` reads them before any request
//! (`job_status::read_answer` / `read_status`), and the helpers it uses on
//! them (`item_id_in`, `is_not_found`).
#![no_main]
use libfuzzer_sys::fuzz_target;
use onedrive_native::fuzzing::{self, Finished};
use onedrive_native::{ErrorKind, JobState, JobStatus};

/// What every read status keeps to, whatever the monitor sent.
fn check(s: &JobStatus, finished: &Option<Finished>) {
    if let Some(p) = s.percent {
        assert!((0.0..=100.0).contains(&p), "{p}");
    }
    match s.state {
        JobState::Failed | JobState::Cancelled => {
            assert!(s.error.is_some() && s.item.is_none() && finished.is_none())
        }
        // The item itself, or where it is named, or (rarely) neither.
        JobState::Completed => assert!(s.item.is_none() || finished.is_none()),
        _ => assert!(s.item.is_none() && s.error.is_none() && finished.is_none()),
    }
    if let Some(Finished::Id(id)) = finished {
        assert!(!id.is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::is_not_found(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(id) = fuzzing::item_id_in(text) {
            assert!(!id.is_empty());
        }
    }
    match fuzzing::job_status_from_body(data) {
        Ok((s, finished)) => check(&s, &finished),
        // No request is made: a body is read or refused, nothing else.
        Err(e) => assert!(matches!(e.kind, ErrorKind::Protocol), "{e:?}"),
    }
    // The same body as the answers a monitor gives.
    for (status, location) in [
        (200, None),
        (202, None),
        (303, Some("https://x/v1.0/drives/d/items/A")),
        (303, None),
        (404, None),
        (500, None),
        (502, None),
    ] {
        match fuzzing::monitor_answer(status, location.map(str::to_owned), data) {
            Ok((s, finished)) => {
                check(&s, &finished);
                if status == 303 {
                    assert!(s.state == JobState::Completed && finished.is_some());
                }
            }
            Err(e) => assert!(
                !matches!(
                    e.kind,
                    ErrorKind::Cancelled | ErrorKind::Network | ErrorKind::Timeout
                ),
                "{e:?}"
            ),
        }
    }
});
