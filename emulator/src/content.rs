//! File content, in memory or in a file on disk; the spool files of upload sessions; the
//! byte budget of live sessions; response bodies that stream a file.

use crate::hash::{self, Hashes};
use crate::rand;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body, Frame, SizeHint};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// A file on disk that nobody writes to any more; removed when the last reference goes.
pub(crate) struct DiskFile {
    path: PathBuf,
    len: u64,
}

impl Drop for DiskFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The bytes of a file: in memory (small uploads, seeds, fetched sources) or a file on
/// disk (completed upload sessions, contents loaded from a data directory). Immutable,
/// cheap to clone.
#[derive(Clone)]
pub(crate) enum Content {
    Mem(Bytes),
    Disk(Arc<DiskFile>),
}

impl Default for Content {
    fn default() -> Self {
        Content::Mem(Bytes::new())
    }
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Content::Mem(b) => write!(f, "Mem({} bytes)", b.len()),
            Content::Disk(d) => write!(f, "Disk({}, {} bytes)", d.path.display(), d.len),
        }
    }
}

impl Content {
    pub fn len(&self) -> u64 {
        match self {
            Content::Mem(b) => b.len() as u64,
            Content::Disk(d) => d.len,
        }
    }

    /// All of it in memory (inspection helpers; not for serving).
    pub fn read_all(&self) -> io::Result<Bytes> {
        match self {
            Content::Mem(b) => Ok(b.clone()),
            Content::Disk(d) => std::fs::read(&d.path).map(Bytes::from),
        }
    }

    /// A response body of `len` bytes from `start` (clamped to the content): a slice of
    /// the bytes, or the file read piece by piece from there as it is sent.
    pub fn body_range(&self, start: u64, len: u64) -> io::Result<RespBody> {
        let start = start.min(self.len());
        let len = len.min(self.len() - start);
        match self {
            Content::Mem(b) => Ok(RespBody::full(
                b.slice(start as usize..(start + len) as usize),
            )),
            Content::Disk(d) => {
                use std::io::{Seek as _, SeekFrom};
                let mut file = std::fs::File::open(&d.path)?;
                file.seek(SeekFrom::Start(start))?;
                Ok(RespBody::File(FileBody {
                    file: tokio::fs::File::from_std(file),
                    remaining: len,
                    buf: vec![0; FILE_PIECE.min(len as usize)],
                    _keep: d.clone(),
                }))
            }
        }
    }

    /// Put a copy at `dest` (which must not exist): a hard link of a file on disk (a plain
    /// copy when linking fails), else the bytes written.
    pub fn write_to(&self, dest: &Path) -> io::Result<()> {
        match self {
            Content::Mem(b) => std::fs::write(dest, b),
            Content::Disk(d) => std::fs::hard_link(&d.path, dest)
                .or_else(|_| std::fs::copy(&d.path, dest).map(drop)),
        }
    }

    /// `path` (a file nobody writes to any more) as content, through a hard link in
    /// `spool` so that the content stays what it is when `path` is replaced; read into
    /// memory when linking fails.
    pub fn adopt(path: &Path, spool: &Path) -> io::Result<Content> {
        let len = std::fs::metadata(path)?.len();
        let link = spool.join(format!("loaded-{}", rand::random_token(16)));
        match std::fs::hard_link(path, &link) {
            Ok(()) => Ok(Content::Disk(Arc::new(DiskFile { path: link, len }))),
            Err(_) => std::fs::read(path).map(|d| Content::Mem(Bytes::from(d))),
        }
    }
}

/// A file's content with its size and hashes, made outside any lock and handed to the
/// store; `staged` is its copy already in the data directory (when there is one), which
/// the store renames to `content/{id}`.
#[derive(Debug)]
pub(crate) struct FileContent {
    pub content: Content,
    pub hashes: Hashes,
    pub staged: Option<Staged>,
}

impl FileContent {
    /// Bytes in memory, hashed here.
    pub fn hash(data: Bytes) -> FileContent {
        FileContent {
            hashes: hash::compute(&data),
            content: Content::Mem(data),
            staged: None,
        }
    }

    pub fn size(&self) -> u64 {
        self.content.len()
    }

    /// Copy the content into `content_dir` under a temporary name (a data directory's
    /// writes happen here, outside the store lock).
    pub fn stage(&mut self, content_dir: &Path) -> io::Result<()> {
        if self.staged.is_none() {
            let path = content_dir.join(format!(".pending-{}", rand::random_token(16)));
            self.content.write_to(&path)?;
            self.staged = Some(Staged(Some(path)));
        }
        Ok(())
    }
}

/// A staged copy of a content in a data directory: removed unless the store takes it.
#[derive(Debug)]
pub(crate) struct Staged(Option<PathBuf>);

impl Staged {
    /// Rename it to `dest` (the store's `content/{id}`).
    pub fn commit(mut self, dest: &Path) -> io::Result<()> {
        match self.0.take() {
            Some(p) => std::fs::rename(p, dest),
            None => Ok(()),
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Bytes held by live upload sessions, all together, against their limit.
pub(crate) struct SessionBytes {
    held: AtomicU64,
    limit: u64,
}

impl SessionBytes {
    pub fn new(limit: u64) -> Arc<SessionBytes> {
        Arc::new(SessionBytes {
            held: AtomicU64::new(0),
            limit,
        })
    }

    /// Hold `n` more bytes, or None when that would pass the limit.
    pub fn reserve(self: &Arc<Self>, n: u64) -> Option<Reservation> {
        self.held
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |cur| {
                cur.checked_add(n).filter(|&t| t <= self.limit)
            })
            .ok()?;
        Some(Reservation {
            pool: self.clone(),
            n,
        })
    }
}

/// Bytes held in [`SessionBytes`]; given back on drop.
pub(crate) struct Reservation {
    pool: Arc<SessionBytes>,
    n: u64,
}

impl Reservation {
    pub fn empty(pool: &Arc<SessionBytes>) -> Reservation {
        Reservation {
            pool: pool.clone(),
            n: 0,
        }
    }

    /// Take over what `other` holds.
    pub fn absorb(&mut self, mut other: Reservation) {
        self.n += std::mem::take(&mut other.n);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.pool.held.fetch_sub(self.n, Ordering::SeqCst);
    }
}

/// The name of the spool directory inside a data directory: a name only the emulator
/// uses, so that a folder of the user's (`~/spool`, `/var/spool`) is never taken for it.
pub(crate) const SPOOL_DIR_NAME: &str = ".onedrive-emulator-spool";

/// The prefixes of the files the emulator makes in its spool directory (`session-`:
/// an unfinished upload session; `content-`: a completed one's content; `loaded-`: a
/// link to a content loaded from a data directory). Nothing else is ever removed there.
const SPOOL_PREFIXES: [&str; 3] = ["session-", "content-", "loaded-"];

/// A file the emulator makes in its spool directory.
fn is_own_file(e: &std::fs::DirEntry) -> bool {
    e.file_name()
        .to_str()
        .is_some_and(|n| SPOOL_PREFIXES.iter().any(|p| n.starts_with(p)))
        && e.file_type().is_ok_and(|t| t.is_file())
}

/// Where upload sessions spool their bytes: `<data-dir>/.onedrive-emulator-spool`, or a
/// fresh directory in the system's temporary directory. Only the emulator's own files
/// (see [`SPOOL_PREFIXES`]) are removed from it, at start (left by an emulator that did
/// not stop cleanly) and at stop, then the directory if that left it empty: whatever
/// else is there stays.
pub(crate) struct SpoolDir {
    pub path: PathBuf,
}

impl SpoolDir {
    pub fn new(data_dir: Option<&Path>) -> io::Result<SpoolDir> {
        let Some(d) = data_dir else {
            let path = std::env::temp_dir().join(format!(
                "onedrive-emulator-{}-{}",
                std::process::id(),
                rand::random_token(12)
            ));
            // a new directory: never one that was there before
            std::fs::create_dir(&path)?;
            return Ok(SpoolDir { path });
        };
        let path = d.join(SPOOL_DIR_NAME);
        if path.is_dir() {
            // checked before anything is removed: a refused start changes nothing
            let foreign = foreign_entries(&path, is_own_file)?;
            if !foreign.is_empty() {
                return Err(foreign_error(&path, &foreign));
            }
        }
        std::fs::create_dir_all(&path)?;
        let spool = SpoolDir { path };
        spool.remove_files();
        Ok(spool)
    }

    /// The emulator's own files in the directory.
    fn remove_files(&self) {
        if let Ok(entries) = std::fs::read_dir(&self.path) {
            for e in entries.flatten() {
                if is_own_file(&e) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }

    /// Its own files, then the directory if nothing else is in it.
    pub fn remove(&self) {
        self.remove_files();
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// The names in `dir` that are not the emulator's (`ours` says which are), sorted, at
/// most 5 then "…": for an error message.
pub(crate) fn foreign_entries(
    dir: &Path,
    ours: impl Fn(&std::fs::DirEntry) -> bool,
) -> io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| !ours(e))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    if names.len() > 5 {
        let more = names.len() - 5;
        names.truncate(5);
        names.push(format!("and {more} more"));
    }
    Ok(names)
}

/// A data directory (or a directory in it) holds `names` that are not the emulator's.
pub(crate) fn foreign_error(dir: &Path, names: &[String]) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{} holds files the emulator did not make ({}): it removes files of its own in its data directory, so it wants one that is new, empty, or used by an earlier run of the emulator (move those files away)",
            dir.display(),
            names.join(", ")
        ),
    )
}

impl Drop for SpoolDir {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The bytes of one upload session so far, in a file of the spool directory (removed
/// unless the session completes and its file becomes content).
pub(crate) struct Spool {
    file: std::fs::File,
    path: Option<PathBuf>,
    len: u64,
}

impl Spool {
    pub fn create(dir: &Path) -> io::Result<Spool> {
        let path = dir.join(format!("session-{}", rand::random_token(16)));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(Spool {
            file,
            path: Some(path),
            len: 0,
        })
    }

    pub fn append(&mut self, data: &[u8]) -> io::Result<()> {
        self.file.write_all(data)?;
        self.len += data.len() as u64;
        Ok(())
    }

    /// The finished file, as content.
    pub fn finish(mut self) -> io::Result<Content> {
        self.file.flush()?;
        let spooled = self
            .path
            .clone()
            .expect("a spool keeps its path until finished");
        // renamed: what is left of sessions in the directory are session-* files
        let name = spooled
            .file_name()
            .map(|n| n.to_string_lossy().replacen("session-", "content-", 1))
            .unwrap_or_default();
        let path = spooled.with_file_name(name);
        std::fs::rename(&spooled, &path)?;
        self.path = None;
        Ok(Content::Disk(Arc::new(DiskFile {
            path,
            len: self.len,
        })))
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A file is sent in pieces of this size.
const FILE_PIECE: usize = 256 * 1024;

/// A response body: bytes in memory, or a file streamed from disk.
pub(crate) enum RespBody {
    Full(Full<Bytes>),
    File(FileBody),
}

impl RespBody {
    pub fn full(b: Bytes) -> RespBody {
        RespBody::Full(Full::new(b))
    }
}

pub(crate) struct FileBody {
    file: tokio::fs::File,
    remaining: u64,
    buf: Vec<u8>,
    /// the file stays while it is sent
    _keep: Arc<DiskFile>,
}

impl Body for RespBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            RespBody::Full(f) => Pin::new(f).poll_frame(cx).map_err(|e| match e {}),
            RespBody::File(fb) => {
                if fb.remaining == 0 {
                    return Poll::Ready(None);
                }
                let want = fb.buf.len().min(fb.remaining as usize);
                let mut rb = ReadBuf::new(&mut fb.buf[..want]);
                match Pin::new(&mut fb.file).poll_read(cx, &mut rb) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
                    Poll::Ready(Ok(())) if rb.filled().is_empty() => Poll::Ready(Some(Err(
                        io::Error::new(io::ErrorKind::UnexpectedEof, "content file too short"),
                    ))),
                    Poll::Ready(Ok(())) => {
                        let piece = Bytes::copy_from_slice(rb.filled());
                        fb.remaining -= piece.len() as u64;
                        Poll::Ready(Some(Ok(Frame::data(piece))))
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            RespBody::Full(f) => f.is_end_stream(),
            RespBody::File(fb) => fb.remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            RespBody::Full(f) => f.size_hint(),
            RespBody::File(fb) => SizeHint::with_exact(fb.remaining),
        }
    }
}
