//! Job-status bodies, as `poll_job` reads them (`status_from_body`), and
//! the helpers it uses on monitor answers (`item_id_in`, `is_not_found`).
#![no_main]
use libfuzzer_sys::fuzz_target;
use onedrive_native::fuzzing;
use onedrive_native::{ErrorKind, JobState};

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::is_not_found(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(id) = fuzzing::item_id_in(text) {
            assert!(!id.is_empty());
        }
    }
    match fuzzing::job_status_from_body(data) {
        Ok(s) => {
            if let Some(p) = s.percent {
                assert!((0.0..=100.0).contains(&p), "{p}");
            }
            match s.state {
                JobState::Failed | JobState::Cancelled => assert!(s.error.is_some()),
                JobState::Completed => {}
                _ => assert!(s.item.is_none() && s.error.is_none()),
            }
        }
        // The wrapper's client has its cancel flag raised: reading the new
        // item ends there, never on the network.
        Err(e) => assert!(
            matches!(
                e.kind,
                ErrorKind::Protocol | ErrorKind::Cancelled | ErrorKind::InvalidArgument
            ),
            "{e:?}"
        ),
    }
});
