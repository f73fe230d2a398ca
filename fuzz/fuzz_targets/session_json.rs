//! A saved upload session (`UploadSession::from_json`): no panic, and what
//! loads saves back to the same session.
#![no_main]
use libfuzzer_sys::fuzz_target;
use onedrive_native::UploadSession;

fuzz_target!(|text: &str| {
    let Ok(s) = UploadSession::from_json(text) else {
        return;
    };
    let again = UploadSession::from_json(&s.to_json()).expect("a saved session loads");
    assert_eq!(again, s);
});
