//! Running one transfer, with every step the service may act on recorded
//! before it is taken (the rules of docs/ARCHITECTURE.md, "Transfer
//! queue"):
//!
//! - a simple upload records `Sending` before its PUT; found `Sending` on a
//!   start, it first looks at the destination (the same size and
//!   quickXorHash as the local file: done, nothing sent);
//! - a session upload records the session before its first chunk (and every
//!   session started in place of a lost one, before it is used); on a start
//!   it goes on from the service's `nextExpectedRanges`, and when the
//!   service no longer knows the session it looks at the destination
//!   before starting a new one;
//! - a copy or upload from URL records `Posting` before its POST and the
//!   monitor URL after; found `Posting`, it is never posted again: the
//!   destination is looked for, and without it the transfer fails with
//!   `ErrorKind::UnknownOutcome`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::record::{Phase, Record, Spec};
use super::{Shared, mtime_ns};
use crate::graph::address::{Conflict, Drive, ItemRef, UploadTarget};
use crate::graph::client::Client;
use crate::graph::control::{CancelToken, Control};
use crate::graph::copy::CopyOptions;
use crate::graph::error::{Error, ErrorKind, Result};
use crate::graph::hash::QuickXor;
use crate::graph::item::Item;
use crate::graph::job::{Job, WaitOptions};
use crate::graph::session::UploadSession;
use crate::graph::source::FileSource;

/// How a run ended.
pub(crate) enum Outcome {
    Done(Item),
    /// A permanent error: the transfer fails.
    Failed(Error),
    /// A transient error: the transfer waits and tries again.
    Transient(Error),
    /// Interrupted by the queue (pause, cancel, offline, close).
    Stopped,
}

/// Errors a later try may not meet: the network, timeouts, throttling, 5xx.
fn is_transient(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Throttled | ErrorKind::Service
    )
}

fn outcome_of(e: Error, cancel: &CancelToken) -> Outcome {
    if cancel.is_cancelled() {
        Outcome::Stopped
    } else if is_transient(e.kind) {
        Outcome::Transient(e)
    } else {
        Outcome::Failed(e)
    }
}

/// Takes an abandoned session off the service (one short attempt).
pub(crate) fn discard_session(client: &Client, json: &str) {
    if let Ok(s) = UploadSession::from_json(json) {
        client.discard_upload_session(&s);
    }
}

pub(crate) fn perform(shared: &Arc<Shared>, rec: Record, cancel: &CancelToken) -> Outcome {
    let r = match &rec.spec {
        Spec::Upload { .. } => upload(shared, &rec, cancel),
        Spec::UrlUpload { .. } | Spec::Copy { .. } => job(shared, &rec, cancel),
    };
    match r {
        Ok(item) => Outcome::Done(item),
        Err(e) => outcome_of(e, cancel),
    }
}

fn changed(path: &Path) -> Error {
    Error::new(
        ErrorKind::HashMismatch,
        format!(
            "{} changed since it was enqueued (size or modification time): not uploaded",
            path.display()
        ),
    )
}

/// The most of a worker thread's read buffer kept for its next file.
const KEEP_READ_BUF: usize = 256 * 1024;

std::thread_local! {
    static READ_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The buffer a worker reads a file it sends whole into, given back to
/// its thread when dropped (up to [`KEEP_READ_BUF`]): a fresh block per
/// file cost page faults and heap growth on every one of a batch of small
/// files.
struct ReadBuf(Vec<u8>);

impl ReadBuf {
    fn take() -> Self {
        Self(READ_BUF.with_borrow_mut(std::mem::take))
    }
}

impl std::ops::Deref for ReadBuf {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl std::ops::DerefMut for ReadBuf {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl Drop for ReadBuf {
    fn drop(&mut self) {
        if self.0.capacity() <= KEEP_READ_BUF {
            let mut buf = std::mem::take(&mut self.0);
            buf.clear();
            READ_BUF.with_borrow_mut(|b| *b = buf);
        }
    }
}

/// Checks the local file against its size and time at enqueue.
fn check_file(path: &Path, size: u64, mtime: u64) -> Result<()> {
    check_meta(path, std::fs::metadata(path), size, mtime)
}

/// Checks what `fstat` or `stat` said of `path` against its size and time
/// at enqueue.
fn check_meta(
    path: &Path,
    meta: std::io::Result<std::fs::Metadata>,
    size: u64,
    mtime: u64,
) -> Result<()> {
    let meta = meta.map_err(|e| io_at(path, &e))?;
    if meta.len() != size || mtime_ns(&meta) != mtime {
        return Err(changed(path));
    }
    Ok(())
}

fn io_at(path: &Path, e: &std::io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("{}: {e}", path.display()))
}

/// The item at `parent:/name`, or `None` when there is none.
fn item_at(
    client: &Client,
    drive: &Drive,
    parent: &ItemRef,
    name: &str,
    ctl: &mut Control<'_>,
) -> Result<Option<Item>> {
    match client.item(drive, &parent.join(&[name.to_owned()]), ctl) {
        Ok(item) => Ok(Some(item)),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The item at the destination when it is this file (size and
/// quickXorHash): the upload landed, only its answer was lost.
fn landed(
    client: &Client,
    drive: &Drive,
    parent: &ItemRef,
    name: &str,
    size: u64,
    hash: &str,
    ctl: &mut Control<'_>,
) -> Result<Option<Item>> {
    Ok(item_at(client, drive, parent, name, ctl)?
        .filter(|i| i.size() == Some(size) && i.quick_xor_hash() == Some(hash)))
}

fn file_hash(path: &Path, cancel: &CancelToken) -> Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = QuickXor::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        if cancel.is_cancelled() {
            return Err(Error::cancelled());
        }
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(h.finish());
        }
        h.update(&buf[..n]);
    }
}

fn upload(shared: &Arc<Shared>, rec: &Record, cancel: &CancelToken) -> Result<Item> {
    let Spec::Upload {
        path,
        drive,
        parent,
        name,
        conflict,
        size,
        mtime_ns: mtime,
    } = &rec.spec
    else {
        unreachable!("an upload");
    };
    let (size, mtime) = (*size, *mtime);
    let client = shared.client();
    let id = rec.id;
    let mut report = |done: u64, total: u64| {
        shared.progress(id, done, total);
        true
    };
    let settings = client.upload_settings();
    if size <= settings.simple_limit {
        // Read whole (at most the simple limit), the open file checked
        // before and after: what goes is one version of the file.
        let mut file = std::fs::File::open(path).map_err(|e| io_at(path, &e))?;
        check_meta(path, file.metadata(), size, mtime)?;
        let mut data = ReadBuf::take();
        std::io::Read::read_to_end(&mut file, &mut data).map_err(|e| io_at(path, &e))?;
        check_meta(path, file.metadata(), size, mtime)?;
        if data.len() as u64 != size {
            return Err(changed(path));
        }
        // Needed only to recognise an earlier try's upload (the upload
        // itself hashes what it sends).
        let hash = std::cell::OnceCell::new();
        let hash = || {
            hash.get_or_init(|| crate::graph::hash::quick_xor_hash(&data))
                .as_str()
        };
        let mut ctl = Control::new(Some(cancel), None);
        if rec.phase == Phase::Sending
            && let Some(item) = landed(client, drive, parent, name, size, hash(), &mut ctl)?
        {
            return Ok(item);
        }
        shared.set_phase(id, Phase::Sending)?;
        let target = UploadTarget::Child {
            parent: (**parent).clone(),
            name: name.clone(),
        };
        // "Rename" is sent as "fail" first: a PUT of an earlier try still
        // on its way (its process killed) then lands as the file or not at
        // all, never as a second copy "name 1".
        let first = match conflict {
            Conflict::Rename => Conflict::Fail,
            c => *c,
        };
        let mut ctl = Control::new(Some(cancel), Some(&mut report));
        return match client.upload(drive, &target, &data, first, &mut ctl) {
            Ok(item) => Ok(item),
            Err(e) if e.kind == ErrorKind::Conflict && first == Conflict::Fail => {
                // Ours, sent by an earlier try whose answer was lost?
                let mut ctl = Control::new(Some(cancel), None);
                match landed(client, drive, parent, name, size, hash(), &mut ctl)? {
                    Some(item) => Ok(item),
                    None if *conflict == Conflict::Rename => {
                        let mut ctl = Control::new(Some(cancel), Some(&mut report));
                        client.upload(drive, &target, &data, Conflict::Rename, &mut ctl)
                    }
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        };
    }
    check_file(path, size, mtime)?;
    let mut session = match &rec.phase {
        Phase::Session(json) => Some(UploadSession::from_json(json)?),
        _ => None,
    };
    if let Some(s) = &session {
        let mut ctl = Control::new(Some(cancel), None);
        let known = !expired(s.expiration.as_deref())
            && client.upload_session_offset(s, &mut ctl)?.is_some();
        if !known {
            // The last chunk may have landed with only its answer lost.
            let hash = file_hash(path, cancel)?;
            check_file(path, size, mtime)?;
            if let Some(item) = landed(client, drive, parent, name, size, &hash, &mut ctl)? {
                return Ok(item);
            }
            client.discard_upload_session(s);
            session = None;
        }
    }
    let mut session = match session {
        Some(s) => s,
        None => {
            let target = UploadTarget::Child {
                parent: (**parent).clone(),
                name: name.clone(),
            };
            let mut ctl = Control::new(Some(cancel), None);
            let s = client.create_upload_session(drive, &target, size, *conflict, &mut ctl)?;
            if let Err(e) = shared.set_phase(id, Phase::Session(s.to_json())) {
                client.discard_upload_session(&s);
                return Err(e);
            }
            s
        }
    };
    let chunk = settings.chunk_size;
    let mut source = FileSource::open(path)?;
    let mut file_changed = false;
    let mut last_checked = false;
    let mut watch = |done: u64, total: u64| {
        shared.progress(id, done, total);
        if !last_checked && total.saturating_sub(done) <= chunk {
            // Before the last chunk: still the file that was enqueued?
            last_checked = true;
            if check_file(path, size, mtime).is_err() {
                file_changed = true;
                return false;
            }
        }
        true
    };
    let mut ctl = Control::new(Some(cancel), Some(&mut watch));
    let r = client.continue_upload_session_saving(&mut session, &mut source, &mut ctl, &mut |s| {
        shared.set_phase(id, Phase::Session(s.to_json()))
    });
    match r {
        Err(e) if e.kind == ErrorKind::AbortedByCallback && file_changed => Err(changed(path)),
        r => r,
    }
}

/// Whether an upload session's `expirationDateTime` has passed.
fn expired(expiration: Option<&str>) -> bool {
    expiration
        .and_then(parse_rfc3339)
        .is_some_and(|t| t <= SystemTime::now())
}

/// `YYYY-MM-DDTHH:MM:SS[.fff](Z|±hh:mm)` as a time.
fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let f = &frac[..digits.min(9)];
        nanos = f.parse::<u32>().ok()? * 10u32.pow(9 - f.len() as u32);
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let oh: i64 = o.get(1..3)?.parse().ok()?;
            let om: i64 = o.get(4..6)?.parse().ok()?;
            let v = oh * 3600 + om * 60;
            if o.starts_with('-') { -v } else { v }
        }
        _ => return None,
    };
    // Days from the civil date (proleptic Gregorian).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

/// A copy or an upload from URL.
fn job(shared: &Arc<Shared>, rec: &Record, cancel: &CancelToken) -> Result<Item> {
    let client = shared.client();
    let id = rec.id;
    let (dest_drive, parent) = match &rec.spec {
        Spec::UrlUpload { drive, parent, .. } => (drive.clone(), parent),
        Spec::Copy {
            drive,
            dest_parent,
            dest_drive_id,
            ..
        } => (
            dest_drive_id
                .clone()
                .map_or_else(|| drive.clone(), Drive::Id),
            dest_parent,
        ),
        Spec::Upload { .. } => unreachable!("a job"),
    };
    let job = match &rec.phase {
        Phase::Monitor(url) => Job::from_monitor_url(url, dest_drive.clone())?,
        Phase::Posting => return unknown_outcome(shared, rec, &dest_drive, parent, cancel),
        _ => {
            shared.set_phase(id, Phase::Posting)?;
            let mut ctl = Control::new(Some(cancel), None);
            let posted = match &rec.spec {
                Spec::UrlUpload {
                    url,
                    drive,
                    parent,
                    name,
                } => client.url_upload(drive, parent, name, url, &mut ctl),
                Spec::Copy {
                    drive,
                    source,
                    dest_parent,
                    dest_drive_id,
                    name,
                    conflict,
                } => {
                    let opts = CopyOptions {
                        dest_drive_id: dest_drive_id.clone(),
                        name: name.clone(),
                        conflict: *conflict,
                        ..CopyOptions::default()
                    };
                    client.copy(drive, source, dest_parent, &opts, &mut ctl)
                }
                Spec::Upload { .. } => unreachable!("a job"),
            };
            match posted {
                Ok(job) => {
                    shared.set_phase(id, Phase::Monitor(job.monitor_url().to_owned()))?;
                    job
                }
                // The service answered: it did not act, the POST may be
                // sent again.
                Err(e) if e.http_status.is_some() && e.kind != ErrorKind::Protocol => {
                    shared.set_phase(id, Phase::Fresh)?;
                    return Err(e);
                }
                // No answer: it may have been acted on.
                Err(e) if cancel.is_cancelled() => return Err(e),
                Err(_) => return unknown_outcome(shared, rec, &dest_drive, parent, cancel),
            }
        }
    };
    let mut report = |done: u64, total: u64| {
        shared.progress(id, done, total);
        true
    };
    let mut ctl = Control::new(Some(cancel), Some(&mut report));
    match client.wait_job(&job, &WaitOptions::default(), &mut ctl) {
        Ok(status) => match status.item {
            Some(item) => Ok(item),
            None => unknown_outcome(shared, rec, &dest_drive, parent, cancel),
        },
        // The service forgot the job: look for its result.
        Err(e) if e.kind == ErrorKind::NotFound => {
            unknown_outcome(shared, rec, &dest_drive, parent, cancel)
        }
        Err(e) => Err(e),
    }
}

/// A request that may have reached the service without its answer being
/// kept: never sent again. Its result is looked for at the destination
/// (for up to `unknown_outcome_grace`, as a job may still be running);
/// without it the transfer fails with `ErrorKind::UnknownOutcome`.
fn unknown_outcome(
    shared: &Arc<Shared>,
    rec: &Record,
    dest_drive: &Drive,
    parent: &ItemRef,
    cancel: &CancelToken,
) -> Result<Item> {
    let client = shared.client();
    let mut ctl = Control::new(Some(cancel), None);
    let name = match &rec.spec {
        Spec::UrlUpload { name, .. } => name.clone(),
        Spec::Copy {
            name: Some(name), ..
        } => name.clone(),
        Spec::Copy { drive, source, .. } => client
            .item(drive, source, &mut ctl)?
            .name()
            .unwrap_or_default()
            .to_owned(),
        Spec::Upload { .. } => unreachable!("a job"),
    };
    let start = Instant::now();
    let grace = shared.opts().unknown_outcome_grace;
    let mut pause = Duration::from_millis(100);
    loop {
        if let Some(item) = item_at(client, dest_drive, parent, &name, &mut ctl)? {
            return Ok(item);
        }
        let spent = start.elapsed();
        if spent >= grace {
            return Err(Error::new(
                ErrorKind::UnknownOutcome,
                format!(
                    "the request may have reached the service but its answer was not kept, \
                     and {name:?} is not at its destination: not sent again"
                ),
            ));
        }
        ctl.sleep(pause.min(grace - spent))?;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker's read buffer comes back to its thread empty, up to the
    /// size kept; a larger one is let go.
    #[test]
    fn read_buffers_are_kept_per_thread_up_to_a_bound() {
        let mut b = ReadBuf::take();
        b.extend_from_slice(&[7; 1000]);
        let cap = b.capacity();
        drop(b);
        let b = ReadBuf::take();
        assert!(b.is_empty());
        assert_eq!(b.capacity(), cap);
        // Another thread has its own.
        assert_eq!(
            std::thread::spawn(|| ReadBuf::take().capacity())
                .join()
                .unwrap(),
            0
        );
        drop(b);
        let mut b = ReadBuf::take();
        b.resize(KEEP_READ_BUF + 1, 0);
        drop(b);
        assert_eq!(ReadBuf::take().capacity(), 0);
    }

    #[test]
    fn rfc3339_times() {
        let t = |s| parse_rfc3339(s).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_nanos());
        assert_eq!(t("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(t("2000-03-01T00:00:00Z"), Some(951_868_800_000_000_000));
        assert_eq!(
            t("2026-12-06T05:04:03.25Z"),
            Some(1_796_533_443_250_000_000)
        );
        assert_eq!(t("2026-12-06T07:04:03+02:00"), t("2026-12-06T05:04:03Z"));
        for bad in [
            "",
            "2026-12-06",
            "2026-13-01T00:00:00Z",
            "2026-12-06T05:04:03",
            "x026-12-06T05:04:03Z",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
        assert!(expired(Some("2000-01-01T00:00:00Z")));
        assert!(!expired(Some("2999-01-01T00:00:00Z")));
        assert!(!expired(None));
    }
}
