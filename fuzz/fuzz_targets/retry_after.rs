//! `Retry-After` (`parse_retry_after`): no panic, never negative or above
//! a day, and never from an HTTP-date or a non-number.
#![no_main]
use libfuzzer_sys::fuzz_target;
use onedrive_native::fuzzing;
use std::time::Duration;

fuzz_target!(|v: &str| {
    if let Some(d) = fuzzing::parse_retry_after(v) {
        assert!(d <= Duration::from_secs(86_400), "{v:?} -> {d:?}");
        assert!(v.trim().parse::<f64>().is_ok(), "{v:?}");
    }
});
