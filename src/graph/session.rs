//! Upload sessions: large files in chunks, resumable, streamed, verified.
//!
//! `createUploadSession` gives an upload URL (pre-authorized: no token goes
//! to it). Chunks are PUT in order with `Content-Range: bytes a-b/total`,
//! each a multiple of 320 KiB but the last. After a dropped connection or a
//! 5xx the session is asked where it stands (`GET uploadUrl`,
//! `nextExpectedRanges`) and the upload goes on from there; a 416 means the
//! service already has those bytes; a 404 means the session is gone and a
//! new one is started (a bounded number of times). Memory stays at one
//! chunk: the source is read into a window that slides along the file.
//! Hashes are computed as the source is read, once per byte, and compared
//! with the item's at the end.

use std::cell::RefCell;

use serde_json::{Value, json};

use super::address::{Conflict, Drive, UploadTarget};
use super::client::Client;
use super::control::Control;
use super::error::{Error, ErrorKind, Result};
use super::http::{Auth, Body, Request, Retry, backoff};
use super::item::Item;
use super::log::LogLevel;
use super::source::UploadSource;
use super::verify::verify;
use super::window::{ChunkBody, Window};

pub use super::session_state::UploadSession;

/// New sessions started after the service lost one, per upload.
const MAX_RESTARTS: u32 = 3;

/// How long the answer to `createUploadSession` is still read after a
/// cancel (so that its session can be deleted).
const CANCEL_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// How long the cleanup of a failed upload's session may wait.
const CLEANUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Rounds in a row that leave the service no further along, beyond the
/// retry policy's attempts, before the upload is given up as going nowhere.
const MAX_STALLS: u32 = 4;

/// How far an upload session got, to stop one that goes nowhere: a service
/// that keeps asking for the same bytes (202 with the same range, 416s
/// that ping-pong, a 404 whose status names an offset) would otherwise be
/// sent the file for ever.
struct Headway {
    total: u64,
    furthest: u64,
    stalls: u32,
    stall_limit: u32,
    sent: u64,
    budget: u64,
}

impl Headway {
    fn new(total: u64, chunk: u64, attempts: u32) -> Headway {
        Headway {
            total,
            furthest: 0,
            stalls: 0,
            stall_limit: attempts.max(2) + MAX_STALLS,
            sent: 0,
            // The file twice, and two chunks more: at most four times the
            // file, however the service answers.
            budget: total.saturating_mul(2) + chunk.min(total).saturating_mul(2),
        }
    }

    /// Before a chunk of `n` bytes goes.
    fn sending(&mut self, n: u64) -> Result<()> {
        self.sent += n;
        if self.sent > self.budget {
            return Err(Error::protocol(format!(
                "the upload session took {} bytes of a {}-byte file and is not done: giving up",
                self.sent - n,
                self.total
            )));
        }
        Ok(())
    }

    /// A chunk of `n` bytes the service refused without taking anything
    /// (429, 503): throttling is governed by the retry policy, not by the
    /// byte budget, which is for answers that claim progress and make none.
    fn refund(&mut self, n: u64) {
        self.sent = self.sent.saturating_sub(n);
    }

    /// The service now wants `offset`: counts a round that got no further.
    fn at(&mut self, offset: u64) -> Result<u64> {
        if offset > self.furthest {
            self.furthest = offset;
            self.stalls = 0;
        } else {
            self.stalls += 1;
            if self.stalls >= self.stall_limit {
                return Err(Error::protocol(format!(
                    "the upload session made no progress in {} rounds (the service keeps asking for byte {offset})",
                    self.stalls
                )));
            }
        }
        Ok(offset)
    }

    /// A new session: it starts from nothing.
    fn restarted(&mut self) -> u64 {
        self.furthest = 0;
        self.stalls = 0;
        self.sent = 0;
        0
    }
}

/// The first byte the service still wants, from `nextExpectedRanges`
/// (`["12345-"]`, `["0-99", "200-"]`): the smallest start.
pub(crate) fn next_expected(body: &Value) -> Option<u64> {
    body.get("nextExpectedRanges")?
        .as_array()?
        .iter()
        .filter_map(|r| r.as_str()?.split('-').next()?.trim().parse::<u64>().ok())
        .min()
}

impl Client {
    /// Starts an upload session for a file of `size` bytes.
    pub fn create_upload_session(
        &self,
        drive: &Drive,
        target: &UploadTarget,
        size: u64,
        conflict: Conflict,
        ctl: &mut Control<'_>,
    ) -> Result<UploadSession> {
        if size == 0 {
            return Err(Error::invalid(
                "an upload session needs at least one byte: upload empty files in one PUT",
            ));
        }
        // The same default as a simple upload (replace), whatever the size.
        let behaviour = conflict.as_str().unwrap_or("replace");
        let body = json!({ "item": {
            "@microsoft.graph.conflictBehavior": behaviour,
            "fileSize": size,
        }});
        let body = body.to_string();
        let url = self.inner.api_url(&format!(
            "{}{}/createUploadSession",
            drive.prefix(),
            target.item_url_path()
        ));
        // A second session, should a retry make one, is harmless: unused
        // sessions expire.
        let mut req =
            Request::new("POST", url, Auth::Bearer, Retry::Idempotent).json(body.as_bytes());
        // A cancel while the answer is on its way would leave a session on
        // the service that nobody can delete: read the answer (a little
        // longer), then delete the session and report the cancel.
        req.grace_on_cancel = CANCEL_GRACE;
        let resp = self.inner.send(&req, ctl)?.success()?;
        let v = resp.json()?;
        let upload_url = v
            .get("uploadUrl")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::protocol("createUploadSession answered without an uploadUrl"))?;
        self.inner.check_url(upload_url)?;
        let session = UploadSession {
            upload_url: upload_url.to_owned(),
            size,
            drive: drive.clone(),
            target: target.clone(),
            conflict,
            expiration: v
                .get("expirationDateTime")
                .and_then(Value::as_str)
                .map(str::to_owned),
        };
        if let Err(e) = ctl.check() {
            self.discard_upload_session(&session);
            return Err(e);
        }
        Ok(session)
    }

    /// Where the session stands: the first byte the service still wants.
    /// `Ok(None)` when the service no longer knows the session.
    pub fn upload_session_offset(
        &self,
        session: &UploadSession,
        ctl: &mut Control<'_>,
    ) -> Result<Option<u64>> {
        let req = Request::new(
            "GET",
            session.upload_url.clone(),
            Auth::None,
            Retry::Idempotent,
        );
        let resp = self.inner.send(&req, ctl)?;
        if resp.status == 404 {
            return Ok(None);
        }
        let v = resp.success()?.json()?;
        next_expected(&v)
            .map(Some)
            .ok_or_else(|| Error::protocol("the upload session names no next expected range"))
    }

    /// Takes a failed or cancelled upload's session off the service: one
    /// DELETE with a short timeout, no retry, whatever the caller's cancel
    /// flag says (the call already failed; this must not make it wait).
    pub(crate) fn discard_upload_session(&self, session: &UploadSession) {
        let mut req = Request::new(
            "DELETE",
            session.upload_url.clone(),
            Auth::None,
            Retry::Idempotent,
        );
        req.attempts = Some(1);
        req.timeout = Some(CLEANUP_TIMEOUT);
        let _ = self.inner.send(&req, &mut Control::none());
    }

    /// Cancels the session on the service (`DELETE uploadUrl`). A session
    /// the service no longer knows counts as cancelled.
    pub fn cancel_upload_session(
        &self,
        session: &UploadSession,
        ctl: &mut Control<'_>,
    ) -> Result<()> {
        let req = Request::new(
            "DELETE",
            session.upload_url.clone(),
            Auth::None,
            Retry::Idempotent,
        );
        let resp = self.inner.send(&req, ctl)?;
        if resp.status == 404 {
            return Ok(());
        }
        resp.success().map(drop)
    }

    /// Sends the source through `session` from wherever the service stands,
    /// and checks the result's size and hashes. The source is read from its
    /// start (what the service already has is read only to be hashed).
    /// `session` is updated when the service loses it and a new one is
    /// started. On error the session is left as it is (save it to go on
    /// later, or cancel it).
    pub fn continue_upload_session(
        &self,
        session: &mut UploadSession,
        source: &mut dyn UploadSource,
        ctl: &mut Control<'_>,
    ) -> Result<Item> {
        self.continue_upload_session_saving(session, source, ctl, &mut |_| Ok(()))
    }

    /// [`Client::continue_upload_session`], calling `saved` with every new
    /// session started in place of a lost one, before any byte goes to it:
    /// a caller that keeps sessions on disk saves the new one there, so
    /// that a process killed afterwards resumes it instead of leaving it
    /// open on the service. An error from `saved` deletes the new session
    /// and ends the upload with that error.
    pub fn continue_upload_session_saving(
        &self,
        session: &mut UploadSession,
        source: &mut dyn UploadSource,
        ctl: &mut Control<'_>,
        saved: &mut dyn FnMut(&UploadSession) -> Result<()>,
    ) -> Result<Item> {
        let item = self.send_session(session, source, ctl, saved)?;
        // The file is there: a callback that says stop now changes nothing.
        let _ = ctl.report(session.size, session.size);
        Ok(item)
    }

    fn send_session(
        &self,
        session: &mut UploadSession,
        source: &mut dyn UploadSource,
        ctl: &mut Control<'_>,
        saved: &mut dyn FnMut(&UploadSession) -> Result<()>,
    ) -> Result<Item> {
        let total = session.size;
        if source.size() != total {
            return Err(Error::invalid(format!(
                "the source has {} bytes, the session expects {total}",
                source.size()
            )));
        }
        if total == 0 {
            return Err(Error::invalid(
                "an upload session cannot carry an empty file",
            ));
        }
        let settings = self.inner.upload_settings();
        let policy = self.inner.settings().retry;
        let chunk = settings.chunk_size;
        let mut window = Window::new(source, settings.hashes);
        let mut offset = match self.upload_session_offset(session, ctl)? {
            Some(o) => o,
            None => {
                self.replace_session(session, total, ctl, saved)?;
                0
            }
        };
        let mut restarts = 0;
        let mut failures = 0u32;
        let mut throttled = std::time::Duration::ZERO;
        let mut headway = Headway::new(total, chunk, policy.max_attempts);
        headway.furthest = offset;
        ctl.report(offset.min(total), total)?;
        loop {
            ctl.check()?;
            if offset >= total {
                return Err(Error::protocol(format!(
                    "the service expects byte {offset} of a {total}-byte file but has not finished it"
                )));
            }
            let end = (offset + chunk).min(total);
            headway.sending(end - offset)?;
            window.seek(offset, ctl)?;
            let body = RefCell::new(ChunkBody::new(&mut window, offset, end));
            let mut req = Request::new(
                "PUT",
                session.upload_url.clone(),
                Auth::None,
                Retry::OnlyUnacted,
            )
            .header(
                "Content-Range",
                format!("bytes {offset}-{}/{total}", end - 1),
            )
            .header("Content-Type", "application/octet-stream");
            req.body = Body::Stream(&body);
            // Progress within the chunk, piece by piece (at most 64 KiB),
            // not only when its answer comes: a 10 MiB chunk takes 80 s at
            // 1 Mbit/s. A chunk sent again reports from its start again.
            req.progress = Some((offset, total));
            // One attempt per round: every send of a chunk goes through this
            // loop and its byte budget (throttling is waited for below).
            req.attempts = Some(1);
            let outcome = self.inner.send(&req, ctl);
            let is_last = end == total;
            // What went wrong, when it is worth asking the session where it
            // stands: a transient failure (counted, backed off) or a 404.
            let transient = match outcome {
                Err(e) if matches!(e.kind, ErrorKind::Network | ErrorKind::Timeout) => Some(e),
                Err(e) => return Err(e),
                Ok(resp) => match resp.status {
                    200 | 201 if is_last => {
                        let item = Item::from_slice(&resp.body)?;
                        return verify(item, total, &window.hashes);
                    }
                    202 => {
                        failures = 0;
                        let next = next_expected(&resp.json()?).ok_or_else(|| {
                            Error::protocol("a chunk was accepted without nextExpectedRanges")
                        })?;
                        offset = headway.at(next)?;
                        ctl.report(offset.min(total), total)?;
                        continue;
                    }
                    416 => {
                        // The service has (some of) these bytes already.
                        let now = self.upload_session_offset(session, ctl)?;
                        if let Some(o) = now {
                            self.log_resume("a 416", offset, o);
                        }
                        match now {
                            Some(o) if o != offset => offset = headway.at(o)?,
                            Some(_) => return Err(resp.error()),
                            None => {
                                self.restart(session, &mut restarts, total, ctl, saved)?;
                                offset = headway.restarted();
                            }
                        }
                        continue;
                    }
                    404 => None,
                    429 | 503 => {
                        // Throttled: nothing was taken. Wait as asked (within
                        // the retry policy), then go on from where it stands.
                        headway.refund(end - offset);
                        failures += 1;
                        let wait = resp
                            .retry_after
                            .unwrap_or_else(|| backoff(&policy, failures));
                        throttled += wait;
                        if failures >= policy.max_attempts.max(2) || throttled > policy.max_wait {
                            return Err(resp.error());
                        }
                        ctl.sleep(wait)?;
                        None
                    }
                    500..=599 => Some(resp.error()),
                    _ => return Err(resp.error()),
                },
            };
            // One recovery path: back off after a transient failure, then
            // go on from where the service stands.
            if let Some(e) = transient {
                failures += 1;
                if failures >= policy.max_attempts.max(2) {
                    return Err(e);
                }
                let wait = backoff(&policy, failures);
                self.inner.log.write(LogLevel::Warn, || {
                    format!(
                        "upload session: the chunk at byte {offset} failed ({}); asking the session where it stands in {} ms",
                        e.message,
                        wait.as_millis()
                    )
                });
                ctl.sleep(wait)?;
            }
            match self.where_now(session, is_last, total, &window, ctl)? {
                Where::At(o) => {
                    self.log_resume("a failed chunk", offset, o);
                    offset = headway.at(o)?;
                }
                Where::Done(item) => {
                    self.inner.log.write(LogLevel::Info, || {
                        "upload session: the last chunk's answer was lost, but the file is there, complete".to_owned()
                    });
                    return Ok(item);
                }
                Where::Lost => {
                    self.restart(session, &mut restarts, total, ctl, saved)?;
                    offset = headway.restarted();
                }
            }
        }
    }

    /// After a failure: where the session stands, or, when the service no
    /// longer knows it right after the last chunk was sent, whether the
    /// file is complete after all (the answer to the last chunk was lost).
    fn where_now(
        &self,
        session: &UploadSession,
        last_sent: bool,
        total: u64,
        window: &Window<'_>,
        ctl: &mut Control<'_>,
    ) -> Result<Where> {
        if let Some(o) = self.upload_session_offset(session, ctl)? {
            return Ok(Where::At(o));
        }
        if last_sent && window.hashed == total {
            // The file may be complete after all: only when the item there
            // is this file (its size and hashes); another (an older file
            // of that name) means the session was lost.
            if let Ok(item) = self.item(&session.drive, &session.target.item_ref(), ctl)
                && let Ok(item) = verify(item, total, &window.hashes)
            {
                return Ok(Where::Done(item));
            }
        }
        Ok(Where::Lost)
    }

    /// Logs where a session goes on after `what` at `offset`.
    fn log_resume(&self, what: &str, offset: u64, at: u64) {
        self.inner.log.write(LogLevel::Info, || {
            format!("upload session: after {what} at byte {offset}, the service expects byte {at}")
        });
    }

    /// Starts a new session after the service lost one (bounded).
    fn restart(
        &self,
        session: &mut UploadSession,
        restarts: &mut u32,
        total: u64,
        ctl: &mut Control<'_>,
        saved: &mut dyn FnMut(&UploadSession) -> Result<()>,
    ) -> Result<()> {
        *restarts += 1;
        self.inner.log.write(LogLevel::Warn, || {
            format!("upload session: starting a new session (restart {restarts} of at most {MAX_RESTARTS})")
        });
        if *restarts > MAX_RESTARTS {
            return Err(Error::new(
                ErrorKind::Service,
                format!("the service lost the upload session {MAX_RESTARTS} times"),
            ));
        }
        self.replace_session(session, total, ctl, saved)
    }

    /// A new session in place of a lost one, handed to `saved` before use.
    fn replace_session(
        &self,
        session: &mut UploadSession,
        total: u64,
        ctl: &mut Control<'_>,
        saved: &mut dyn FnMut(&UploadSession) -> Result<()>,
    ) -> Result<()> {
        *session = self.create_upload_session(
            &session.drive,
            &session.target,
            total,
            session.conflict,
            ctl,
        )?;
        if let Err(e) = saved(session) {
            self.discard_upload_session(session);
            return Err(e);
        }
        Ok(())
    }
}

enum Where {
    At(u64),
    Done(Item),
    Lost,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers that claim progress and make none end within four times the
    /// file; refused chunks are refunded; rounds that get no further end
    /// at the stall limit; a new session starts the counts over.
    #[test]
    fn headway_bounds_what_a_session_may_take() {
        let mut h = Headway::new(100, 40, 3);
        for _ in 0..7 {
            h.sending(40).unwrap(); // 280 of the 280 allowed
        }
        h.refund(40);
        h.sending(40).unwrap();
        let e = h.sending(1).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert!(
            e.message.contains("took 280 bytes of a 100-byte file"),
            "{e}"
        );
        assert_eq!(h.restarted(), 0);
        h.sending(280).unwrap();

        let mut h = Headway::new(100, 40, 3);
        assert_eq!(h.at(40).unwrap(), 40);
        let limit = 3 + MAX_STALLS;
        for _ in 1..limit {
            h.at(40).unwrap();
        }
        assert!(h.at(40).unwrap_err().message.contains("no progress"));
        h.restarted();
        assert_eq!(h.at(0).unwrap(), 0);
    }

    #[test]
    fn next_expected_ranges() {
        assert_eq!(
            next_expected(&json!({"nextExpectedRanges": ["12345-"]})),
            Some(12345)
        );
        assert_eq!(
            next_expected(&json!({"nextExpectedRanges": ["200-", "0-99"]})),
            Some(0)
        );
        assert_eq!(next_expected(&json!({"nextExpectedRanges": []})), None);
        assert_eq!(next_expected(&json!({"nextExpectedRanges": ["x-"]})), None);
        assert_eq!(next_expected(&json!({})), None);
    }
}
