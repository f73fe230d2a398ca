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
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde_json::{Value, json};

use super::address::Drive;
use super::client::Client;
use super::control::Control;
use super::error::{Error, ErrorKind, Result};
use super::hash::{Digests, HashSet, Hashes};
use super::http::{Auth, Body, BodySource, Request, Retry, backoff};
use super::item::Item;
use super::upload::{Conflict, UploadTarget};

pub use super::limits::{CHUNK_UNIT, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE};

/// New sessions started after the service lost one, per upload.
const MAX_RESTARTS: u32 = 3;

/// Checks a chunk size: a positive multiple of 320 KiB below 60 MiB.
pub fn validate_chunk_size(n: u64) -> Result<()> {
    if n == 0 || n % CHUNK_UNIT != 0 || n > MAX_CHUNK_SIZE {
        return Err(Error::invalid(format!(
            "chunk size {n}: must be a positive multiple of 320 KiB ({CHUNK_UNIT} bytes) \
             of at most {MAX_CHUNK_SIZE} bytes"
        )));
    }
    Ok(())
}

/// Where an upload's bytes come from: its size is known up front, it is
/// read in order, and it may be able to go back (a file can, a stream
/// cannot).
pub trait UploadSource {
    fn size(&self) -> u64;
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize>;
    /// Goes back to `pos`; `Ok(false)` when the source cannot.
    fn rewind(&mut self, pos: u64) -> std::io::Result<bool>;
}

/// A buffer in memory.
pub struct BytesSource<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> BytesSource<'a> {
    pub fn new(data: &'a [u8]) -> BytesSource<'a> {
        BytesSource { data, pos: 0 }
    }
}

impl UploadSource for BytesSource<'_> {
    fn size(&self) -> u64 {
        self.data.len() as u64
    }
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
    fn rewind(&mut self, pos: u64) -> std::io::Result<bool> {
        self.pos = usize::try_from(pos).map_or(self.data.len(), |p| p.min(self.data.len()));
        Ok(true)
    }
}

/// A local file (its size taken when opened).
pub struct FileSource {
    file: File,
    size: u64,
}

impl FileSource {
    pub fn open(path: &Path) -> Result<FileSource> {
        let file = File::open(path).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot open {}: {e}", path.display()),
            )
        })?;
        let meta = file.metadata().map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot stat {}: {e}", path.display()),
            )
        })?;
        if !meta.is_file() {
            return Err(Error::new(
                ErrorKind::Io,
                format!("{} is not a file", path.display()),
            ));
        }
        Ok(FileSource {
            file,
            size: meta.len(),
        })
    }
}

impl UploadSource for FileSource {
    fn size(&self) -> u64 {
        self.size
    }
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.file.read(buf)
    }
    fn rewind(&mut self, pos: u64) -> std::io::Result<bool> {
        self.file.seek(SeekFrom::Start(pos))?;
        Ok(true)
    }
}

/// Any reader of a known size that cannot go back (a stream).
pub struct ReaderSource<R> {
    reader: R,
    size: u64,
}

impl<R: Read> ReaderSource<R> {
    pub fn new(reader: R, size: u64) -> ReaderSource<R> {
        ReaderSource { reader, size }
    }
}

impl<R: Read> UploadSource for ReaderSource<R> {
    fn size(&self) -> u64 {
        self.size
    }
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reader.read(buf)
    }
    fn rewind(&mut self, _pos: u64) -> std::io::Result<bool> {
        Ok(false)
    }
}

/// An upload session: enough to go on with it from another client or a
/// later process ([`UploadSession::to_json`], [`UploadSession::from_json`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSession {
    pub upload_url: String,
    /// The file's size in bytes.
    pub size: u64,
    /// Where the file goes (kept to start a new session if this one is lost).
    pub drive: Drive,
    pub target: UploadTarget,
    pub conflict: Conflict,
    pub expiration: Option<String>,
}

const STATE_VERSION: u64 = 1;

impl UploadSession {
    /// The session as a JSON text to save. It holds the upload URL, which
    /// is a credential for this one upload: store it as you would a token.
    pub fn to_json(&self) -> String {
        let (parent, name, item) = match &self.target {
            UploadTarget::Child { parent, name } => {
                (Some(parent.to_string()), Some(name.clone()), None)
            }
            UploadTarget::Item(item) => (None, None, Some(item.to_string())),
        };
        json!({
            "version": STATE_VERSION,
            "uploadUrl": self.upload_url,
            "size": self.size,
            "drive": self.drive.to_string(),
            "parent": parent,
            "name": name,
            "item": item,
            "conflict": self.conflict.as_str(),
            "expirationDateTime": self.expiration,
        })
        .to_string()
    }

    /// Reads a session saved by [`UploadSession::to_json`].
    pub fn from_json(text: &str) -> Result<UploadSession> {
        let bad = |why: &str| Error::invalid(format!("not a saved upload session: {why}"));
        let v: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
        if v.get("version").and_then(Value::as_u64) != Some(STATE_VERSION) {
            return Err(bad("unknown version"));
        }
        let text_of = |k: &str| v.get(k).and_then(Value::as_str);
        let upload_url = text_of("uploadUrl")
            .ok_or_else(|| bad("no uploadUrl"))?
            .to_owned();
        super::client::Origin::of(&upload_url)?;
        let size = v
            .get("size")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("no size"))?;
        let drive = Drive::parse(text_of("drive").ok_or_else(|| bad("no drive"))?)?;
        let target = match (text_of("parent"), text_of("name"), text_of("item")) {
            (Some(parent), Some(name), None) => UploadTarget::new(parent, Some(name))?,
            (None, None, Some(item)) => UploadTarget::new(item, None)?,
            _ => return Err(bad("no target")),
        };
        let conflict = match text_of("conflict") {
            None => Conflict::ServiceDefault,
            Some("fail") => Conflict::Fail,
            Some("replace") => Conflict::Replace,
            Some("rename") => Conflict::Rename,
            Some(other) => return Err(bad(&format!("conflict {other:?}"))),
        };
        Ok(UploadSession {
            upload_url,
            size,
            drive,
            target,
            conflict,
            expiration: text_of("expirationDateTime").map(str::to_owned),
        })
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

/// The sliding window over the source: holds `[start, start + len)` in
/// `buf[..len]` (`buf` is allocated and zeroed once, then reused),
/// the bytes of the chunk being sent (so a chunk can be sent again, even
/// from a stream that cannot go back), and hashes each byte of the file
/// once, the first time it is read.
struct Window<'s> {
    source: &'s mut dyn UploadSource,
    buf: Vec<u8>,
    len: usize,
    start: u64,
    hashes: Hashes,
    /// Bytes hashed so far (a prefix of the file).
    hashed: u64,
    /// Where the source's read position is (always the window's end).
    read_pos: u64,
}

impl Window<'_> {
    /// Makes the window start at `from`: drops what lies before it, or goes
    /// back in the source, or reads ahead (hashing) to it.
    fn seek(&mut self, from: u64, ctl: &Control<'_>) -> Result<()> {
        let end = self.start + self.len as u64;
        if (self.start..=end).contains(&from) {
            let drop = (from - self.start) as usize;
            self.buf.copy_within(drop..self.len, 0);
            self.len -= drop;
            self.start = from;
            return Ok(());
        }
        if from < self.read_pos && !self.source.rewind(from)? {
            return Err(Error::new(
                ErrorKind::Io,
                format!("the service wants bytes from {from} again, and the source cannot go back"),
            ));
        }
        if from > self.read_pos {
            self.skip_to(from, ctl)?;
        }
        self.read_pos = from;
        self.len = 0;
        self.start = from;
        Ok(())
    }

    /// Copies bytes from file offset `pos` (below `to`) into `buf`, reading
    /// more of the source into the window when `pos` is at its end.
    fn read_at(&mut self, pos: u64, to: u64, buf: &mut [u8]) -> Result<usize> {
        let end = self.start + self.len as u64;
        if pos >= end && pos < to {
            let have = self.len;
            let want = usize::try_from(to - pos)
                .unwrap_or(usize::MAX)
                .min(buf.len())
                .min(1 << 20);
            if self.buf.len() < have + want {
                self.buf.resize(have + want, 0);
            }
            let n = self
                .source
                .read(&mut self.buf[have..have + want])
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Io,
                        format!("reading the source at byte {}: {e}", self.read_pos),
                    )
                })?;
            self.len = have + n;
            if n == 0 {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!(
                        "the source ended at byte {} of {}",
                        self.read_pos,
                        self.source.size()
                    ),
                ));
            }
            self.hash_new(self.read_pos, have);
            self.read_pos += n as u64;
            if self.read_pos == self.source.size() {
                // Before the last bytes go: a source longer than announced
                // would otherwise leave a truncated file on the drive.
                let mut one = [0u8; 1];
                if self.source.read(&mut one)? != 0 {
                    return Err(Error::new(
                        ErrorKind::Io,
                        "the source is longer than its announced size",
                    ));
                }
            }
        }
        let off = (pos - self.start) as usize;
        let n = buf
            .len()
            .min(self.len.saturating_sub(off))
            .min(usize::try_from(to.saturating_sub(pos)).unwrap_or(usize::MAX));
        buf[..n].copy_from_slice(&self.buf[off..off + n]);
        Ok(n)
    }

    /// Hashes what was just read into `buf[at..len]` (file offset `pos`),
    /// skipping bytes hashed before.
    fn hash_new(&mut self, pos: u64, at: usize) {
        let end = self.start + self.len as u64;
        if end > self.hashed && pos <= self.hashed {
            let from = at + (self.hashed - pos) as usize;
            self.hashes.update(&self.buf[from..self.len]);
            self.hashed = end;
        }
    }

    /// Reads (and hashes) the source up to `pos` without keeping it: a
    /// resumed session still needs the hash of what the service has.
    fn skip_to(&mut self, pos: u64, ctl: &Control<'_>) -> Result<()> {
        let mut buf = vec![0u8; 1 << 20];
        while self.read_pos < pos {
            ctl.check()?;
            let step = ((pos - self.read_pos) as usize).min(buf.len());
            let n = self.source.read(&mut buf[..step])?;
            if n == 0 {
                return Err(Error::new(ErrorKind::Io, "the source ended early"));
            }
            if self.read_pos == self.hashed {
                self.hashes.update(&buf[..n]);
                self.hashed += n as u64;
            }
            self.read_pos += n as u64;
        }
        Ok(())
    }
}

/// One chunk `[from, to)` as a request body: read from the window, which
/// reads the source as the bytes go out, so reading, hashing and sending
/// overlap with the service's receiving.
struct ChunkBody<'w, 's> {
    window: &'w mut Window<'s>,
    from: u64,
    to: u64,
    pos: u64,
}

impl BodySource for ChunkBody<'_, '_> {
    fn len(&self) -> u64 {
        self.to - self.from
    }
    fn rewind(&mut self) {
        self.pos = self.from;
    }
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let n = self.window.read_at(self.pos, self.to, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
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
        let req = Request::new("POST", url, Auth::Bearer, Retry::Idempotent).json(body.as_bytes());
        let resp = self.inner.send(&req, ctl)?.success()?;
        let v = resp.json()?;
        let upload_url = v
            .get("uploadUrl")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::protocol("createUploadSession answered without an uploadUrl"))?;
        self.inner.check_url(upload_url)?;
        Ok(UploadSession {
            upload_url: upload_url.to_owned(),
            size,
            drive: drive.clone(),
            target: target.clone(),
            conflict,
            expiration: v
                .get("expirationDateTime")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
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

    /// Uploads from any source: one PUT up to the simple-upload threshold,
    /// an upload session above it.
    pub fn upload_from(
        &self,
        drive: &Drive,
        target: &UploadTarget,
        source: &mut dyn UploadSource,
        conflict: Conflict,
        ctl: &mut Control<'_>,
    ) -> Result<Item> {
        let size = source.size();
        if size <= self.inner.upload_settings().simple_limit {
            let mut data = Vec::with_capacity(size as usize);
            source.read_to_end_exact(&mut data, size)?;
            return self.simple_upload(drive, target, &data, conflict, ctl);
        }
        let mut session = self.create_upload_session(drive, target, size, conflict, ctl)?;
        let result = self.continue_upload_session(&mut session, source, ctl);
        if let Err(e) = &result {
            // Whatever made us give up, the half-uploaded session is no use
            // to anyone: take it off the service (best effort).
            if !matches!(e.kind, ErrorKind::HashMismatch) {
                let _ = self.cancel_upload_session(&session, &mut Control::none());
            }
        }
        result
    }

    /// Uploads a local file (streamed: memory stays at one chunk).
    pub fn upload_file(
        &self,
        drive: &Drive,
        target: &UploadTarget,
        path: &Path,
        conflict: Conflict,
        ctl: &mut Control<'_>,
    ) -> Result<Item> {
        let mut source = FileSource::open(path)?;
        self.upload_from(drive, target, &mut source, conflict, ctl)
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
        let item = self.send_session(session, source, ctl)?;
        // The file is there: a callback that says stop now changes nothing.
        let _ = ctl.report(session.size, session.size);
        Ok(item)
    }

    fn send_session(
        &self,
        session: &mut UploadSession,
        source: &mut dyn UploadSource,
        ctl: &mut Control<'_>,
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
        let mut window = Window {
            source,
            buf: Vec::new(),
            len: 0,
            start: 0,
            hashes: Hashes::new(settings.hashes),
            hashed: 0,
            read_pos: 0,
        };
        let mut offset = match self.upload_session_offset(session, ctl)? {
            Some(o) => o,
            None => {
                *session = self.create_upload_session(
                    &session.drive,
                    &session.target,
                    total,
                    session.conflict,
                    ctl,
                )?;
                0
            }
        };
        let mut restarts = 0;
        let mut failures = 0u32;
        ctl.report(offset, total)?;
        loop {
            ctl.check()?;
            if offset >= total {
                return Err(Error::protocol(format!(
                    "the service expects byte {offset} of a {total}-byte file but has not finished it"
                )));
            }
            let end = (offset + chunk).min(total);
            window.seek(offset, ctl)?;
            let body = RefCell::new(ChunkBody {
                window: &mut window,
                from: offset,
                to: end,
                pos: offset,
            });
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
            let outcome = self.inner.send(&req, ctl);
            let is_last = end == total;
            let resp = match outcome {
                Ok(resp) => resp,
                Err(e) if matches!(e.kind, ErrorKind::Network | ErrorKind::Timeout) => {
                    failures += 1;
                    if failures >= policy.max_attempts.max(2) {
                        return Err(e);
                    }
                    ctl.sleep(backoff(&policy, failures))?;
                    match self.where_now(session, is_last, total, &mut window, ctl)? {
                        Where::At(o) => offset = o,
                        Where::Done(item) => return Ok(item),
                        Where::Lost => {
                            offset = self.restart(session, &mut restarts, total, ctl)?;
                        }
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            match resp.status {
                200 | 201 if is_last => {
                    let item = Item::from_slice(&resp.body)?;
                    return verify(
                        item,
                        total,
                        std::mem::replace(&mut window.hashes, Hashes::new(settings.hashes)),
                    );
                }
                202 => {
                    failures = 0;
                    let next = next_expected(&resp.json()?).ok_or_else(|| {
                        Error::protocol("a chunk was accepted without nextExpectedRanges")
                    })?;
                    offset = next;
                    ctl.report(offset.min(total), total)?;
                }
                416 => {
                    // The service has (some of) these bytes already.
                    match self.upload_session_offset(session, ctl)? {
                        Some(o) if o != offset => offset = o,
                        Some(_) => return Err(resp.error()),
                        None => offset = self.restart(session, &mut restarts, total, ctl)?,
                    }
                }
                404 => match self.where_now(session, is_last, total, &mut window, ctl)? {
                    Where::Done(item) => return Ok(item),
                    Where::At(o) => offset = o,
                    Where::Lost => offset = self.restart(session, &mut restarts, total, ctl)?,
                },
                500..=599 => {
                    failures += 1;
                    if failures >= policy.max_attempts.max(2) {
                        return Err(resp.error());
                    }
                    ctl.sleep(backoff(&policy, failures))?;
                    match self.where_now(session, is_last, total, &mut window, ctl)? {
                        Where::At(o) => offset = o,
                        Where::Done(item) => return Ok(item),
                        Where::Lost => offset = self.restart(session, &mut restarts, total, ctl)?,
                    }
                }
                _ => return Err(resp.error()),
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
        window: &mut Window<'_>,
        ctl: &mut Control<'_>,
    ) -> Result<Where> {
        if let Some(o) = self.upload_session_offset(session, ctl)? {
            return Ok(Where::At(o));
        }
        if last_sent {
            if let Ok(item) = self.item(&session.drive, &session.target.item_ref(), ctl) {
                let settings = self.inner.upload_settings();
                let hashes = std::mem::replace(&mut window.hashes, Hashes::new(settings.hashes));
                if window.hashed == total && item.size() == Some(total) {
                    return verify(item, total, hashes).map(Where::Done);
                }
            }
        }
        Ok(Where::Lost)
    }

    /// Starts a new session after the service lost one (bounded).
    fn restart(
        &self,
        session: &mut UploadSession,
        restarts: &mut u32,
        total: u64,
        ctl: &mut Control<'_>,
    ) -> Result<u64> {
        *restarts += 1;
        if *restarts > MAX_RESTARTS {
            return Err(Error::new(
                ErrorKind::Service,
                format!("the service lost the upload session {MAX_RESTARTS} times"),
            ));
        }
        *session = self.create_upload_session(
            &session.drive,
            &session.target,
            total,
            session.conflict,
            ctl,
        )?;
        Ok(0)
    }
}

enum Where {
    At(u64),
    Done(Item),
    Lost,
}

/// Compares the item the service made with what was read.
fn verify(item: Item, total: u64, hashes: Hashes) -> Result<Item> {
    let Digests {
        quick_xor,
        sha1,
        sha256,
    } = hashes.finish();
    let mismatch = |what: &str, ours: &str, theirs: &str| {
        Err(Error::new(
            ErrorKind::HashMismatch,
            format!("the uploaded file's {what} is {theirs}, the source's is {ours}"),
        ))
    };
    if item.size() != Some(total) {
        return mismatch("size", &total.to_string(), &format!("{:?}", item.size()));
    }
    if let Some(theirs) = item.quick_xor_hash() {
        if theirs != quick_xor {
            return mismatch("quickXorHash", &quick_xor, theirs);
        }
    }
    for (what, ours, theirs) in [
        ("sha1Hash", sha1, item.sha1_hash()),
        ("sha256Hash", sha256, item.sha256_hash()),
    ] {
        if let (Some(ours), Some(theirs)) = (ours, theirs) {
            if !ours.eq_ignore_ascii_case(theirs) {
                return mismatch(what, &ours, theirs);
            }
        }
    }
    Ok(item)
}

/// Upload settings a client reads at the start of every upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadSettings {
    /// Bodies up to this size go in one PUT; larger ones through a session.
    pub simple_limit: u64,
    pub chunk_size: u64,
    /// SHA digests computed besides quickXorHash.
    pub hashes: HashSet,
}

impl Default for UploadSettings {
    fn default() -> Self {
        UploadSettings {
            simple_limit: super::client::DEFAULT_SIMPLE_UPLOAD_LIMIT,
            chunk_size: DEFAULT_CHUNK_SIZE,
            hashes: HashSet {
                sha1: false,
                sha256: false,
            },
        }
    }
}

trait ReadExact {
    fn read_to_end_exact(&mut self, out: &mut Vec<u8>, size: u64) -> Result<()>;
}

impl ReadExact for dyn UploadSource + '_ {
    fn read_to_end_exact(&mut self, out: &mut Vec<u8>, size: u64) -> Result<()> {
        out.resize(size as usize, 0);
        let mut have = 0;
        while have < out.len() {
            let n = self.read(&mut out[have..])?;
            if n == 0 {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!("the source ended at byte {have} of {size}"),
                ));
            }
            have += n;
        }
        let mut one = [0u8; 1];
        if self.read(&mut one)? != 0 {
            return Err(Error::new(
                ErrorKind::Io,
                "the source is longer than its announced size",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::hash::quick_xor_hash;

    #[test]
    fn chunk_sizes() {
        validate_chunk_size(CHUNK_UNIT).unwrap();
        validate_chunk_size(DEFAULT_CHUNK_SIZE).unwrap();
        validate_chunk_size(MAX_CHUNK_SIZE).unwrap();
        for bad in [
            0,
            1,
            CHUNK_UNIT + 1,
            MAX_CHUNK_SIZE + CHUNK_UNIT,
            10 * 1024 * 1024 + 1,
        ] {
            assert!(validate_chunk_size(bad).is_err(), "{bad}");
        }
        assert_eq!(DEFAULT_CHUNK_SIZE, 10 * 1024 * 1024);
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

    #[test]
    fn saved_sessions_round_trip() {
        for target in [
            UploadTarget::new("/a b", Some("c.txt")).unwrap(),
            UploadTarget::new("ID!1", None).unwrap(),
        ] {
            let s = UploadSession {
                upload_url: "https://x.example/up/1?tempauth=z".into(),
                size: 123,
                drive: Drive::Id("b!d".into()),
                target,
                conflict: Conflict::Rename,
                expiration: Some("2026-11-27T00:00:00Z".into()),
            };
            assert_eq!(UploadSession::from_json(&s.to_json()).unwrap(), s);
        }
        for bad in [
            "",
            "{}",
            r#"{"version":2}"#,
            r#"{"version":1,"uploadUrl":"nope","size":1,"drive":"/me/drive","item":"X"}"#,
        ] {
            assert!(UploadSession::from_json(bad).is_err(), "{bad}");
        }
    }

    struct Stream(Vec<u8>, usize);
    impl UploadSource for Stream {
        fn size(&self) -> u64 {
            self.0.len() as u64
        }
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0.len() - self.1).min(1000); // short reads
            buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
        fn rewind(&mut self, _pos: u64) -> std::io::Result<bool> {
            Ok(false)
        }
    }

    /// Positions the window at `from` and reads `[from, to)` through it,
    /// as a chunk upload does.
    fn chunk(w: &mut Window<'_>, from: u64, to: u64) -> Result<Vec<u8>> {
        w.seek(from, &Control::none())?;
        let mut body = ChunkBody {
            window: w,
            from,
            to,
            pos: from,
        };
        let mut out = Vec::new();
        let mut buf = [0u8; 7000];
        loop {
            let n = body.read(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    fn window(source: &mut dyn UploadSource, hashes: HashSet) -> Window<'_> {
        Window {
            source,
            buf: Vec::new(),
            len: 0,
            start: 0,
            hashes: Hashes::new(hashes),
            hashed: 0,
            read_pos: 0,
        }
    }

    #[test]
    fn the_window_hashes_each_byte_once() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 256) as u8).collect();
        // a stream: forward only, with a step back inside the window
        let mut src = Stream(data.clone(), 0);
        let mut w = window(
            &mut src,
            HashSet {
                sha1: false,
                sha256: false,
            },
        );
        assert_eq!(chunk(&mut w, 0, 30_000).unwrap(), data[..30_000]);
        assert_eq!(chunk(&mut w, 10_000, 40_000).unwrap(), data[10_000..40_000]); // resume inside
        assert_eq!(chunk(&mut w, 40_000, 100_000).unwrap(), data[40_000..]);
        assert!(chunk(&mut w, 0, 10).is_err()); // cannot go back
        assert_eq!(w.hashes.finish().quick_xor, quick_xor_hash(&data));
        // a file-like source: resumed at an offset (the prefix only hashed), then a rewind
        let mut src = BytesSource::new(&data);
        let mut w = window(
            &mut src,
            HashSet {
                sha1: true,
                sha256: false,
            },
        );
        assert_eq!(chunk(&mut w, 50_000, 60_000).unwrap(), data[50_000..60_000]);
        assert_eq!(chunk(&mut w, 20_000, 30_000).unwrap(), data[20_000..30_000]);
        assert_eq!(chunk(&mut w, 30_000, 100_000).unwrap(), data[30_000..]);
        assert_eq!(w.hashes.finish().quick_xor, quick_xor_hash(&data));
        // the same chunk sent twice (a retry) reads the source once
        let mut src = Stream(data.clone(), 0);
        let mut w = window(
            &mut src,
            HashSet {
                sha1: false,
                sha256: false,
            },
        );
        let mut body = ChunkBody {
            window: &mut w,
            from: 0,
            to: 50_000,
            pos: 0,
        };
        let mut buf = vec![0u8; 50_000];
        let mut got = 0;
        while got < 20_000 {
            got += body.read(&mut buf[got..20_000]).unwrap();
        }
        body.rewind();
        let mut again = Vec::new();
        loop {
            let n = body.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            again.extend_from_slice(&buf[..n]);
        }
        assert_eq!(again, data[..50_000]);
        // a source longer than announced is caught before its end is sent
        let mut long = Stream(data.clone(), 0);
        struct Liar<'a>(&'a mut Stream);
        impl UploadSource for Liar<'_> {
            fn size(&self) -> u64 {
                50_000
            }
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.0.read(buf)
            }
            fn rewind(&mut self, _: u64) -> std::io::Result<bool> {
                Ok(false)
            }
        }
        let mut liar = Liar(&mut long);
        let mut w = window(
            &mut liar,
            HashSet {
                sha1: false,
                sha256: false,
            },
        );
        assert_eq!(chunk(&mut w, 0, 50_000).unwrap_err().kind, ErrorKind::Io);
    }
}
