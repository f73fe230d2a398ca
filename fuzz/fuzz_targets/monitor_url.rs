//! Monitor-URL rebuilding (`Job::from_monitor_url`): no panic; a rebuilt
//! job's URL is the input, trimmed, with an http(s) origin.
#![no_main]
use libfuzzer_sys::fuzz_target;
use onedrive_native::{Drive, Job, fuzzing};

fuzz_target!(|input: (&str, &str)| {
    let (url, drive) = input;
    let drive = Drive::parse(drive).unwrap_or(Drive::Me);
    let Ok(job) = Job::from_monitor_url(url, drive.clone()) else {
        return;
    };
    assert_eq!(job.monitor_url(), url.trim());
    assert_eq!(job.drive(), &drive);
    let (scheme, host, _) = fuzzing::origin_of(job.monitor_url()).expect("an origin");
    assert!(scheme == "http" || scheme == "https");
    assert!(!host.is_empty());
    // Saved and rebuilt, it is the same job.
    let again = Job::from_monitor_url(job.monitor_url(), drive).unwrap();
    assert_eq!(again, job);
});
