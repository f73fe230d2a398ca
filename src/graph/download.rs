//! Downloading a file's content: to a local file (through a temporary file
//! beside it, resumable), or to the caller's writer.
//!
//! - The item's metadata is read first: its size, eTag and hashes.
//! - The first request goes straight to the pre-authenticated URL the
//!   item's metadata names (`@microsoft.graph.downloadUrl`, which Graph
//!   gives with a file's item and which works for about an hour), without
//!   the token: two requests for a download instead of three. Where it is
//!   missing or no longer works (any answer but a 2xx or a 416), and for
//!   every later attempt: `GET …/items/{id}/content` with the token, whose
//!   redirect to a fresh pre-authenticated URL is followed without it.
//!   Neither URL is ever logged or shown whole (`url::redact`); the
//!   transport gives the token to the API origin only.
//! - A connection cut mid-body is resumed with `Range` from the bytes
//!   already had, with `If-Range` (the eTag), while attempts bring bytes;
//!   the retry policy's attempts bound the attempts in a row that bring
//!   less than 64 KiB, its backoff the wait between them.
//! - A 200 where a range was asked (a service that ignores `Range`, or a
//!   file changed since: `If-Range`) starts over: a file from its first
//!   byte, never appended to; a writer, which has the first bytes
//!   already, gets the rest of the new body past them (the hash at the end
//!   then tells whether the whole is the service's file).
//! - The size is checked always, the quickXorHash the service reports on
//!   every drive, its SHA-1 where it gives one (personal drives):
//!   `ErrorKind::HashMismatch` on a difference (a file download then
//!   leaves nothing behind).
//! - Progress `(done, total)` after every piece of at most 64 KiB; a
//!   cancel ends a wait within the transport's slice (100 ms).
//! - The client's download rate cap ([`Client::set_download_rate`], apart
//!   from the upload cap) paces the reads.
//! - Memory: one 64 KiB buffer, whatever the size.
//! - A file download is fsynced before its rename; a thread flushes it
//!   behind the writes every 16 MiB, so that the last fsync is short.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Instant;

use super::address::{Drive, ItemRef};
use super::client::Client;
use super::control::Control;
use super::error::{Error, ErrorKind, Result};
use super::failure::classify;
use super::hash::{HashSet, Hashes};
use super::http::{Auth, Request, Response, Retry, backoff};
use super::item::Item;
use super::retry::Failure;
use super::url::{redact, resolve_location};

/// The largest piece read, hashed, written and reported at once.
const STEP: usize = 64 * 1024;

/// The temporary file's name: `.{name}` + this, beside the target.
pub const PARTIAL_SUFFIX: &str = ".odpart";
/// The eTag the temporary file's bytes came from: `.{name}.odpart` + this.
const ETAG_SUFFIX: &str = ".etag";

/// Where a download's bytes go.
trait Sink {
    fn write(&mut self, data: &[u8]) -> Result<()>;
    /// Drops what was written, to start from the first byte; `false` when
    /// what was written cannot be taken back (a caller's writer).
    fn restart(&mut self) -> Result<bool>;
}

/// A file download's bytes written between two background flushes.
const FLUSH_EVERY: u64 = 16 << 20;

/// The temporary file of a download to a file. Every [`FLUSH_EVERY`] bytes
/// a thread of its own starts `sync_data` on a second handle to the file
/// (one at a time), so that the disk writes what came while the next bytes
/// arrive and the fsync before the rename waits only for the tail: without
/// it a 1 GiB download spent a third of its time in that last fsync.
struct FileSink<'a> {
    file: File,
    path: &'a Path,
    /// Written since the last background flush began.
    unflushed: u64,
    flushing: Option<JoinHandle<std::io::Result<()>>>,
}

impl<'a> FileSink<'a> {
    fn new(file: File, path: &'a Path) -> Self {
        Self {
            file,
            path,
            unflushed: 0,
            flushing: None,
        }
    }

    /// Waits for the background flush, if one runs: a failed one fails the
    /// download (after a failed fsync the kernel may report the next one as
    /// a success while the pages it dropped never reached the disk).
    fn join(&mut self) -> Result<()> {
        match self.flushing.take().map(JoinHandle::join) {
            None | Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(e))) => Err(io_error("flushing", self.path, &e)),
            Some(Err(_)) => Err(Error::new(
                ErrorKind::Io,
                format!(
                    "flushing {}: the flushing thread failed",
                    self.path.display()
                ),
            )),
        }
    }

    /// Starts a background flush unless one still runs. Without a second
    /// handle or a thread, the final fsync does it all.
    fn flush_behind(&mut self) -> Result<()> {
        if self.flushing.as_ref().is_some_and(|h| !h.is_finished()) {
            return Ok(());
        }
        self.join()?;
        self.unflushed = 0;
        if let Ok(file) = self.file.try_clone() {
            self.flushing = std::thread::Builder::new()
                .name("od-flush".into())
                .spawn(move || file.sync_data())
                .ok();
        }
        Ok(())
    }

    /// Everything written on disk.
    fn finish(&mut self) -> Result<()> {
        self.join()?;
        self.file
            .sync_all()
            .map_err(|e| io_error("flushing", self.path, &e))
    }
}

impl Sink for FileSink<'_> {
    fn write(&mut self, data: &[u8]) -> Result<()> {
        self.file
            .write_all(data)
            .map_err(|e| io_error("writing", self.path, &e))?;
        self.unflushed += data.len() as u64;
        if self.unflushed >= FLUSH_EVERY {
            self.flush_behind()?;
        }
        Ok(())
    }
    fn restart(&mut self) -> Result<bool> {
        self.file
            .set_len(0)
            .and_then(|()| self.file.seek(SeekFrom::Start(0)).map(drop))
            .map_err(|e| io_error("emptying", self.path, &e))?;
        self.unflushed = 0;
        Ok(true)
    }
}

struct WriterSink<'a, 'w>(&'a mut (dyn FnMut(&[u8]) -> Result<()> + 'w));

impl Sink for WriterSink<'_, '_> {
    fn write(&mut self, data: &[u8]) -> Result<()> {
        (self.0)(data)
    }
    fn restart(&mut self) -> Result<bool> {
        Ok(false)
    }
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("{what} {}: {e}", path.display()))
}

/// The state of one download across its attempts.
struct Fetch<'a> {
    url: String,
    /// The item's pre-authenticated URL, until the first attempt takes it.
    direct: Option<String>,
    etag: Option<&'a str>,
    size: u64,
    have: u64,
    set: HashSet,
    hashes: Hashes,
}

impl Client {
    /// Downloads a file to `path` and returns its item (as read before the
    /// download). The bytes go to `.{name}.odpart` beside `path` (the eTag
    /// they came from to `.{name}.odpart.etag`), renamed to `path` only
    /// once complete and verified; `path`'s folder must exist, a file at
    /// `path` is replaced. An interrupted download leaves the temporary
    /// file: the next call for the same `path` resumes from it when the
    /// file on the service is unchanged (the same eTag), and starts over
    /// otherwise. A hash mismatch removes it.
    pub fn download_file(
        &self,
        drive: &Drive,
        item: &ItemRef,
        path: &Path,
        ctl: &mut Control<'_>,
    ) -> Result<Item> {
        let (temp, tag_file) = partial_paths(path)?;
        let meta = self.download_meta(drive, item, ctl)?;
        let mut fetch = Fetch::new(self, drive, &meta)?;
        // The temporary file is kept only when it is of this version.
        let kept = kept_bytes(
            fs::read_to_string(&tag_file).ok().as_deref(),
            fs::metadata(&temp).ok().map(|m| m.len()),
            meta.etag(),
            fetch.size,
        );
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&temp)
            .map_err(|e| io_error("creating", &temp, &e))?;
        file.set_len(kept)
            .map_err(|e| io_error("truncating", &temp, &e))?;
        hash_prefix(&mut file, &temp, &mut fetch.hashes)?;
        fetch.have = kept;
        match meta.etag() {
            Some(tag) => fs::write(&tag_file, tag),
            None => fs::remove_file(&tag_file).or_else(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    Ok(())
                } else {
                    Err(e)
                }
            }),
        }
        .map_err(|e| io_error("writing", &tag_file, &e))?;
        let mut sink = FileSink::new(file, &temp);
        let outcome = self
            .fetch(&mut fetch, &mut sink, ctl)
            .and_then(|()| sink.finish());
        drop(sink);
        match outcome.and_then(|()| fetch.verify(&meta)) {
            Ok(()) => {
                fs::rename(&temp, path).map_err(|e| io_error("renaming into", path, &e))?;
                let _ = fs::remove_file(&tag_file);
                Ok(meta)
            }
            Err(e) => {
                if e.kind == ErrorKind::HashMismatch {
                    let _ = fs::remove_file(&temp);
                    let _ = fs::remove_file(&tag_file);
                }
                Err(e)
            }
        }
    }

    /// Downloads a file into `write`, called with the bytes in order (an
    /// `Err` from it ends the download with that error), and returns its
    /// item. The bytes given are the file's only once this returns `Ok`:
    /// after a hash mismatch the caller has had bytes that are not.
    pub fn download_with(
        &self,
        drive: &Drive,
        item: &ItemRef,
        write: &mut dyn FnMut(&[u8]) -> Result<()>,
        ctl: &mut Control<'_>,
    ) -> Result<Item> {
        let meta = self.download_meta(drive, item, ctl)?;
        let mut fetch = Fetch::new(self, drive, &meta)?;
        self.fetch(&mut fetch, &mut WriterSink(write), ctl)?;
        fetch.verify(&meta)?;
        Ok(meta)
    }

    /// [`Client::download_with`] into a `Write` (its errors are
    /// `ErrorKind::Io`).
    pub fn download_to_writer(
        &self,
        drive: &Drive,
        item: &ItemRef,
        out: &mut dyn Write,
        ctl: &mut Control<'_>,
    ) -> Result<Item> {
        self.download_with(
            drive,
            item,
            &mut |data| {
                out.write_all(data)
                    .map_err(|e| Error::new(ErrorKind::Io, format!("writing the download: {e}")))
            },
            ctl,
        )
    }

    /// The item to download: a file with a size.
    fn download_meta(&self, drive: &Drive, item: &ItemRef, ctl: &mut Control<'_>) -> Result<Item> {
        let meta = self.item(drive, item, ctl)?;
        if meta.is_folder() {
            return Err(Error::invalid(format!(
                "{item} is a folder: only files have content to download"
            )));
        }
        Ok(meta)
    }

    /// Gets the bytes from `fetch.have` to the end into `sink`, resuming
    /// after cuts as the module doc says.
    fn fetch(
        &self,
        fetch: &mut Fetch<'_>,
        sink: &mut dyn Sink,
        ctl: &mut Control<'_>,
    ) -> Result<()> {
        let policy = self.inner.settings().retry;
        let mut buf = vec![0u8; STEP];
        let mut fails = 0u32;
        ctl.report(fetch.have, fetch.size)?;
        while fetch.have < fetch.size {
            let before = fetch.have;
            let Err(e) = self.attempt(fetch, sink, &mut buf, ctl) else {
                continue;
            };
            // A cut or a stall is resumed; anything else (past the
            // deadline, a refusal, a cancel) is the answer.
            if !matches!(classify(&e), Failure::Sent | Failure::Unsent) {
                return Err(e);
            }
            // Bytes came: the connection works, a cut is worth resuming.
            fails = if fetch.have >= before + STEP as u64 {
                1
            } else {
                fails + 1
            };
            if fails >= policy.max_attempts {
                return Err(e);
            }
            let wait = backoff(&policy, fails);
            self.inner.log.write(super::log::LogLevel::Warn, || {
                format!(
                    "download cut at {} of {} bytes, resuming in {} s: {}",
                    fetch.have,
                    fetch.size,
                    super::log::OneDecimal::secs(wait),
                    e.message
                )
            });
            ctl.sleep(wait)?;
        }
        Ok(())
    }

    /// One request for the rest of the content (and the redirect it
    /// answers with), its body read into `sink` until it ends.
    fn attempt(
        &self,
        fetch: &mut Fetch<'_>,
        sink: &mut dyn Sink,
        buf: &mut [u8],
        ctl: &mut Control<'_>,
    ) -> Result<()> {
        let ranged = fetch.have > 0;
        let request = |url: String, auth: Auth| {
            let mut req = Request::new("GET", url, auth, Retry::Idempotent).streamed();
            if ranged {
                req = req.header("Range", format!("bytes={}-", fetch.have));
                if let Some(tag) = fetch.etag {
                    req = req.header("If-Range", tag);
                }
            }
            req
        };
        let direct = match fetch.direct.take() {
            Some(to) => Some(self.inner.send(&request(to, Auth::None), ctl)?)
                .filter(|r| (200..300).contains(&r.status) || r.status == 416),
            None => None,
        };
        let mut resp = match direct {
            Some(resp) => resp,
            None => self
                .inner
                .send(&request(fetch.url.clone(), Auth::Bearer), ctl)?,
        };
        if is_redirect(resp.status) {
            let to = redirect_target(&fetch.url, &resp)?;
            // The pre-authenticated URL: no token (`Auth::None`, and the
            // transport gives one only to the API origin anyway).
            resp = self.inner.send(&request(to.clone(), Auth::None), ctl)?;
            if is_redirect(resp.status) {
                return Err(Error::protocol(format!(
                    "the download URL {} redirected again",
                    redact(&to)
                )));
            }
        }
        // Bytes of the body to pass over: a writer that has them already.
        let mut skip = 0u64;
        match read_answer(
            resp.status,
            resp.content_range.as_deref(),
            fetch.have,
            fetch.size,
        )? {
            Answer::Rest => {}
            Answer::Whole => {
                if !fetch.restart(sink)? {
                    skip = fetch.have;
                }
            }
            Answer::StartOver => {
                if !fetch.restart(sink)? {
                    return Err(Error::protocol(
                        "the file on the service is shorter than the bytes already given",
                    ));
                }
                return Ok(());
            }
            Answer::Failed => return Err(resp.error()),
        }
        let mut body = resp
            .stream
            .take()
            .ok_or_else(|| Error::protocol("a download answer without a body"))?;
        let throttle = &self.inner.download_throttle;
        loop {
            let want = throttle.step(buf.len());
            let n = body.read(&mut buf[..want], ctl.cancel)?;
            if n == 0 {
                break;
            }
            let data = new_bytes(&buf[..n], &mut skip, fetch.have, fetch.size)?;
            fetch.hashes.update(data);
            sink.write(data)?;
            fetch.have += data.len() as u64;
            if let Some(at) = throttle.reserve(n as u64, Instant::now()) {
                ctl.sleep(at.saturating_duration_since(Instant::now()))?;
            }
            ctl.report(fetch.have, fetch.size)?;
        }
        if fetch.have < fetch.size {
            return Err(Error::new(
                ErrorKind::Network,
                format!(
                    "the download ended after {} of {} bytes",
                    fetch.have, fetch.size
                ),
            ));
        }
        Ok(())
    }
}

impl<'a> Fetch<'a> {
    fn new(client: &Client, drive: &Drive, meta: &'a Item) -> Result<Fetch<'a>> {
        let size = meta
            .size()
            .ok_or_else(|| Error::protocol("the item has no size"))?;
        let set = HashSet {
            sha1: meta.sha1_hash().is_some(),
            sha256: false,
        };
        let id = ItemRef::id(meta.id())?;
        Ok(Fetch {
            url: client.inner.api_url(&format!(
                "{}{}",
                drive.prefix(),
                id.action_url_path("content")
            )),
            direct: meta
                .json()
                .get("@microsoft.graph.downloadUrl")
                .and_then(serde_json::Value::as_str)
                .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                .map(str::to_owned),
            etag: meta.etag(),
            size,
            have: 0,
            set,
            hashes: Hashes::new(set),
        })
    }

    /// Starts over from the first byte, when the sink can.
    fn restart(&mut self, sink: &mut dyn Sink) -> Result<bool> {
        if !sink.restart()? {
            return Ok(false);
        }
        self.have = 0;
        self.hashes = Hashes::new(self.set);
        Ok(true)
    }

    /// The bytes had against the item's size and hashes.
    fn verify(&self, meta: &Item) -> Result<()> {
        let digests = self.hashes.clone().finish();
        let mismatch = |what: &str, ours: &str, theirs: &str| {
            Err(Error::new(
                ErrorKind::HashMismatch,
                format!("the downloaded {what} is {ours}, the service reports {theirs}"),
            ))
        };
        if self.have != self.size {
            return mismatch("size", &self.have.to_string(), &self.size.to_string());
        }
        if let Some(theirs) = meta.quick_xor_hash()
            && theirs != digests.quick_xor
        {
            return mismatch("quickXorHash", &digests.quick_xor, theirs);
        }
        if let (Some(theirs), Some(ours)) = (meta.sha1_hash(), &digests.sha1)
            && !ours.eq_ignore_ascii_case(theirs)
        {
            return mismatch("sha1Hash", ours, theirs);
        }
        Ok(())
    }
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

fn redirect_target(from: &str, resp: &Response) -> Result<String> {
    let location = resp
        .location
        .as_deref()
        .ok_or_else(|| Error::protocol(format!("HTTP {} without a Location", resp.status)))?;
    resolve_location(from, location)
}

/// What an answer to a content request holds, from its status and
/// `Content-Range` (see [`read_answer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The bytes from the first one asked for to the end: a 206 that names
    /// exactly them, or a 200 to a request from byte 0.
    Rest,
    /// The whole file from its first byte where a range was asked: the
    /// service ignored `Range`, or `If-Range` found the file changed.
    Whole,
    /// A 416 to a range: the bytes already had do not fit the file.
    StartOver,
    /// Not a success: the service's error (`Response::error`).
    Failed,
}

/// What the answer (HTTP `status`, `Content-Range`) to a request for the
/// bytes from `have` of a `size`-byte file holds (`have > 0`: the request
/// asked for a range). A 2xx that is none of [`Answer`]'s, or a 206 whose
/// `Content-Range` is not exactly `have`..`size`: `Protocol`. Pure.
pub(crate) fn read_answer(
    status: u16,
    content_range: Option<&str>,
    have: u64,
    size: u64,
) -> Result<Answer> {
    let ranged = have > 0;
    match status {
        206 if ranged => {
            let exact = content_range
                .and_then(parse_content_range)
                .is_some_and(|(s, e, total)| {
                    s == have && e.checked_add(1) == Some(size) && total.is_none_or(|t| t == size)
                });
            if exact {
                Ok(Answer::Rest)
            } else {
                Err(Error::protocol(format!(
                    "a partial answer for bytes {have}- of {size} with Content-Range {content_range:?}"
                )))
            }
        }
        200 if ranged => Ok(Answer::Whole),
        200 => Ok(Answer::Rest),
        416 if ranged => Ok(Answer::StartOver),
        _ if (200..300).contains(&status) => {
            Err(Error::protocol(format!("HTTP {status} to a download")))
        }
        _ => Ok(Answer::Failed),
    }
}

/// `bytes FIRST-LAST/LENGTH` (LENGTH may be `*`), as RFC 9110 writes it:
/// digits only, FIRST <= LAST < LENGTH; the unit in any case.
pub(crate) fn parse_content_range(v: &str) -> Option<(u64, u64, Option<u64>)> {
    let v = v.trim();
    let (unit, rest) = v.split_at_checked(6)?;
    if !unit.eq_ignore_ascii_case("bytes ") {
        return None;
    }
    let (range, total) = rest.split_once('/')?;
    let (s, e) = range.split_once('-')?;
    let total = match total {
        "*" => None,
        t => Some(digits(t)?),
    };
    let (s, e) = (digits(s)?, digits(e)?);
    (s <= e && total.is_none_or(|t| e < t)).then_some((s, e, total))
}

/// A decimal number of one or more ASCII digits (no sign, no space) that
/// fits a u64.
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The part of `data`, a piece of an answer's body, that is new bytes of
/// the file: past the `skip` bytes still to pass over (decreased by what
/// this piece covers), checked not to run past `size` from `have`. Pure.
pub(crate) fn new_bytes<'d>(
    data: &'d [u8],
    skip: &mut u64,
    have: u64,
    size: u64,
) -> Result<&'d [u8]> {
    let k = usize::try_from(*skip).unwrap_or(usize::MAX).min(data.len());
    *skip -= k as u64;
    let data = &data[k..];
    if have
        .checked_add(data.len() as u64)
        .is_none_or(|end| end > size)
    {
        return Err(Error::protocol(format!(
            "the download is longer than the item's {size} bytes"
        )));
    }
    Ok(data)
}

/// The bytes of a kept temporary file to resume from: its length `len`
/// when its eTag file says `tag` and that is the item's `etag`, and it is
/// no longer than the item's `size`; 0 (start over) otherwise. Pure.
pub(crate) fn kept_bytes(
    tag: Option<&str>,
    len: Option<u64>,
    etag: Option<&str>,
    size: u64,
) -> u64 {
    match (tag, len) {
        (Some(tag), Some(len)) if Some(tag) == etag && len <= size => len,
        _ => 0,
    }
}

/// The temporary file and its eTag file for a download to `path`.
fn partial_paths(path: &Path) -> Result<(PathBuf, PathBuf)> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::invalid(format!("{} does not name a file", path.display())))?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let temp = dir.join(format!(".{name}{PARTIAL_SUFFIX}"));
    let tag = dir.join(format!(".{name}{PARTIAL_SUFFIX}{ETAG_SUFFIX}"));
    Ok((temp, tag))
}

/// Hashes the bytes a kept temporary file holds, leaving its position at
/// its end.
fn hash_prefix(file: &mut File, path: &Path, hashes: &mut Hashes) -> Result<()> {
    let mut buf = vec![0u8; STEP];
    file.seek(SeekFrom::Start(0))
        .map_err(|e| io_error("reading", path, &e))?;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| io_error("reading", path, &e))?;
        if n == 0 {
            return Ok(());
        }
        hashes.update(&buf[..n]);
    }
}

#[cfg(test)]
mod tests;
