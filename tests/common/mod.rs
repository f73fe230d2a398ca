//! Shared set-up for the integration tests: an in-process emulator on
//! ephemeral loopback ports and a client pointed at it.

#![allow(dead_code)]

use std::time::Duration;

use onedrive_emulator::{Config, Emulator, FaultAction, FaultRule, JobConfig, Profile, Times};
use onedrive_native::{
    CancelToken, Client, ClientConfig, Control, Drive, ItemRef, RetryPolicy, UploadTarget,
};

pub fn emulator(profile: Profile) -> Emulator {
    Emulator::start(Config {
        profile,
        ..Config::default()
    })
    .expect("the emulator starts")
}

/// An emulator whose jobs take `base_ms` plus a byte-proportional part.
pub fn emulator_with_jobs(profile: Profile, job: JobConfig) -> Emulator {
    Emulator::start(Config {
        profile,
        job,
        ..Config::default()
    })
    .expect("the emulator starts")
}

pub fn config(emu: &Emulator) -> ClientConfig {
    ClientConfig {
        retry: RetryPolicy {
            base_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
            ..RetryPolicy::default()
        },
        // The emulator serves HTTPS with a CA made at its start.
        extra_ca_pem: emu.ca_pem().unwrap_or_default().into_bytes(),
        ..ClientConfig::new(emu.base_url(), emu.token())
    }
}

pub fn client(emu: &Emulator) -> Client {
    Client::new(config(emu)).expect("a client")
}

pub fn ctl() -> Control<'static> {
    Control::none()
}

pub fn item(s: &str) -> ItemRef {
    ItemRef::parse(s).unwrap()
}

pub fn target(parent: &str, name: Option<&str>) -> UploadTarget {
    UploadTarget::new(parent, name).unwrap()
}

pub fn me() -> Drive {
    Drive::Me
}

pub fn fault(
    origin: Option<&str>,
    method: Option<&str>,
    path_contains: Option<&str>,
    times: Times,
    action: FaultAction,
) -> FaultRule {
    FaultRule {
        origin: origin.map(str::to_owned),
        method: method.map(str::to_owned),
        path_contains: path_contains.map(str::to_owned),
        times,
        action,
    }
}

/// A fault answer: this status and a Graph error body, no Retry-After.
pub fn answer_with(status: u16) -> FaultAction {
    FaultAction::Status {
        status,
        retry_after: None,
    }
}

/// Polls `cond` until it holds or `limit` passes (never a fixed sleep).
pub fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    let token = CancelToken::new();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        let _ = token.sleep(Duration::from_millis(10));
    }
    cond()
}

/// Uploads `body` as `name` in the folder `parent` (the service's default
/// conflict behaviour).
pub fn put(c: &Client, parent: &str, name: &str, body: &[u8]) -> onedrive_native::Item {
    c.upload(
        &me(),
        &target(parent, Some(name)),
        body,
        onedrive_native::Conflict::ServiceDefault,
        &mut ctl(),
    )
    .unwrap_or_else(|e| panic!("upload {parent} {name}: {e}"))
}

/// Starts a copy of the item `source` into `dest_parent` under a new name.
pub fn copy_as(c: &Client, source: &str, dest_parent: &str, name: &str) -> onedrive_native::Job {
    try_copy_as(c, source, dest_parent, name)
        .unwrap_or_else(|e| panic!("copy {source} to {dest_parent}/{name}: {e}"))
}

/// `copy_as` for a copy expected to fail.
pub fn try_copy_as(
    c: &Client,
    source: &str,
    dest_parent: &str,
    name: &str,
) -> onedrive_native::Result<onedrive_native::Job> {
    let opts = onedrive_native::CopyOptions {
        name: Some(name.into()),
        ..Default::default()
    };
    c.copy(&me(), &item(source), &item(dest_parent), &opts, &mut ctl())
}

/// Waits for a job, giving up after a minute.
pub fn wait_result(
    c: &Client,
    job: &onedrive_native::Job,
) -> onedrive_native::Result<onedrive_native::JobStatus> {
    let opts = onedrive_native::WaitOptions {
        timeout: Some(Duration::from_secs(60)),
        ..Default::default()
    };
    c.wait_job(job, &opts, &mut ctl())
}
