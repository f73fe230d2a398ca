//! `nextExpectedRanges` and upload-session answers (`next_expected`): no
//! panic; the answer is the smallest start the body names.
#![no_main]
use libfuzzer_sys::fuzz_target;
use onedrive_native::fuzzing;

fuzz_target!(|data: &[u8]| {
    let Some(n) = fuzzing::next_expected(data) else {
        return;
    };
    let v: serde_json::Value = serde_json::from_slice(data).unwrap();
    let ranges = v["nextExpectedRanges"].as_array().unwrap();
    assert!(
        ranges
            .iter()
            .any(|r| r.as_str().is_some_and(|s| s.contains(&n.to_string())))
    );
});
