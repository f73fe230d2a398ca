//! Graph error bodies with nested inner errors (`GraphErrorBody::parse`,
//! `Error::from_response`): no panic, the detail comes from the body.
#![no_main]
use libfuzzer_sys::fuzz_target;
use onedrive_native::fuzzing;
use onedrive_native::{Error, ErrorKind};
use std::time::Duration;

fuzz_target!(|input: (u16, bool, &[u8])| {
    let (status, throttle, body) = input;
    let (code, inner, message, rid) = fuzzing::graph_error_body(body);
    let ra = throttle.then(|| Duration::from_secs(1));
    let e = Error::from_response(status, body, None, ra);
    assert_eq!(e.http_status, Some(status));
    assert_eq!(
        (&e.code, &e.inner_code, &e.request_id),
        (&code, &inner, &rid)
    );
    if let Some(m) = message {
        assert_eq!(e.message, m);
    }
    if status == 503 && throttle {
        assert_eq!(e.kind, ErrorKind::Throttled);
    }
    let _ = e.to_string();
});
