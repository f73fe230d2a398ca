//! The queue's files: an append-only journal of records and a snapshot,
//! in a directory only one process opens at a time.
//!
//! Every record is framed as `len (u32 LE) | crc32(len bytes ‖ payload) (u32
//! LE) | payload`. Reading stops at the first frame that is cut short or
//! whose check fails: that is the tail a power cut or a kill left half
//! written, and it is cut off before anything is appended again. An append
//! returns once its frames are fsynced: a record acknowledged is on disk.
//!
//! The journal is folded into the snapshot once it grows past a threshold:
//! the live records are written to `snapshot.tmp`, fsynced, renamed over
//! `snapshot`, the directory fsynced, then the journal emptied. A cut at
//! any point leaves either the old snapshot with the whole journal, or the
//! new snapshot with (some of) a journal it already contains; records are
//! whole states of one transfer, so replaying them again ends in the same
//! place.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, ErrorKind as IoKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::crc::{crc32, crc32_parts};
use crate::graph::error::{Error, ErrorKind, Result};

const JOURNAL: &str = "journal";
const SNAPSHOT: &str = "snapshot";
const SNAPSHOT_TMP: &str = "snapshot.tmp";
const LOCK: &str = "lock";

/// A frame's payload larger than this is taken for a torn length.
const MAX_PAYLOAD: usize = 16 << 20;

/// The journal is folded into the snapshot past this size, and when it is
/// larger than the snapshot (so compaction costs at most what it saves).
pub(crate) const COMPACT_AT: u64 = 4 << 20;

pub(crate) struct Store {
    dir: PathBuf,
    journal: File,
    journal_len: u64,
    snapshot_len: u64,
    /// Held for the store's life: a second open of the same directory
    /// fails while it is held; the OS drops it with the process.
    _lock: File,
    /// The journal's fsyncs for records written by [`Store::write`].
    syncer: Arc<Syncer>,
    /// Frames given to [`Store::write_later`], written ahead of the next
    /// write's (in order) or by [`Store::ticket`].
    later: Vec<u8>,
    /// Power-cut tests: bytes (and renames, truncations) still allowed
    /// before every write fails, a partial write keeping its prefix.
    #[cfg(test)]
    pub(crate) budget: Option<u64>,
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("{what} {}: {e}", path.display()))
}

/// One frame around `payload`.
pub(crate) fn frame(payload: &[u8], out: &mut Vec<u8>) {
    let len = (payload.len() as u32).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&crc32_parts(&[&len, payload]).to_le_bytes());
    out.extend_from_slice(payload);
}

/// Reads frames from `r`, handing each payload to `each`; returns the
/// length of the whole frames read (what follows is a torn tail).
pub(crate) fn read_frames(
    r: &mut dyn Read,
    each: &mut dyn FnMut(&[u8]) -> Result<()>,
) -> Result<u64> {
    let mut good = 0u64;
    let mut head = [0u8; 8];
    let mut payload = Vec::new();
    loop {
        match read_full(r, &mut head)? {
            0 => return Ok(good),
            n if n < head.len() => return Ok(good),
            _ => {}
        }
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let sum = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if len > MAX_PAYLOAD {
            return Ok(good);
        }
        payload.clear();
        payload.extend_from_slice(&head[..4]);
        payload.resize(4 + len, 0);
        if read_full(r, &mut payload[4..])? < len {
            return Ok(good);
        }
        if crc32(&payload) != sum {
            return Ok(good);
        }
        each(&payload[4..])?;
        good += 8 + len as u64;
    }
}

/// Fills `buf` as far as the reader goes: the bytes read.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == IoKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(n)
}

impl Store {
    /// Opens (creating) the store in `dir`, replays the snapshot and then
    /// the journal through `each` (payloads in the order written), and cuts
    /// a torn tail off the journal.
    pub(crate) fn open(dir: &Path, each: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<Store> {
        fs::create_dir_all(dir).map_err(|e| io_err("cannot create the queue directory", dir, e))?;
        let lock_path = dir.join(LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_err("cannot open", &lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(Error::new(
                    ErrorKind::InvalidState,
                    format!(
                        "the queue in {} is already open (in this process or another)",
                        dir.display()
                    ),
                ));
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_err("cannot lock", &lock_path, e)),
        }
        let _ = fs::remove_file(dir.join(SNAPSHOT_TMP));
        let snap_path = dir.join(SNAPSHOT);
        let mut snapshot_len = 0;
        match File::open(&snap_path) {
            Ok(f) => {
                let size = f.metadata()?.len();
                let good = read_frames(&mut BufReader::with_capacity(1 << 16, f), each)?;
                if good != size {
                    // Written whole before its rename: a bad frame here is
                    // damage from outside, not a cut; say so rather than
                    // drop transfers without a word.
                    return Err(Error::new(
                        ErrorKind::Io,
                        format!(
                            "{} is damaged at byte {good} of {size}: the queue cannot be read whole",
                            snap_path.display()
                        ),
                    ));
                }
                snapshot_len = size;
            }
            Err(e) if e.kind() == IoKind::NotFound => {}
            Err(e) => return Err(io_err("cannot read", &snap_path, e)),
        }
        let journal_path = dir.join(JOURNAL);
        let mut journal = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&journal_path)
            .map_err(|e| io_err("cannot open", &journal_path, e))?;
        let size = journal.metadata()?.len();
        let good = read_frames(&mut BufReader::with_capacity(1 << 16, &mut journal), each)?;
        if good != size {
            // The torn tail of a cut: drop it, so that appends follow the
            // last whole record.
            journal.set_len(good)?;
            journal.sync_all()?;
        }
        journal.seek(SeekFrom::Start(good))?;
        let syncer = Arc::new(Syncer {
            file: journal.try_clone()?,
            written: AtomicU64::new(0),
            synced: Mutex::new(0),
            durable: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
        });
        Ok(Store {
            dir: dir.to_owned(),
            journal,
            journal_len: good,
            snapshot_len,
            _lock: lock,
            syncer,
            later: Vec::new(),
            #[cfg(test)]
            budget: None,
        })
    }

    /// Appends the payloads as one write and fsyncs it: when this returns
    /// `Ok` they are on disk. A cut before that may keep a prefix of them
    /// (each record whole or not at all).
    pub(crate) fn append(&mut self, payloads: &[&[u8]]) -> Result<()> {
        let len = self.write_frames(payloads)?;
        if let Err(e) = self
            .spend(1)
            .and_then(|()| self.journal.sync_data().map_err(Error::from))
        {
            self.cut_back();
            return Err(e);
        }
        self.journal_len += len;
        let written = self.syncer.written.fetch_add(len, Ordering::AcqRel) + len;
        // Everything written before is on disk with it.
        self.syncer.mark_synced(written);
        Ok(())
    }

    /// Writes the payloads as one write *without* waiting for the disk,
    /// and returns their ticket: they are on disk once
    /// [`Syncer::sync_to`] with it (or any later append or compaction) has
    /// returned `Ok`. The caller waits for that outside its locks, so that
    /// the records of many threads share one fsync (group commit). A failed
    /// write is cut back as in [`Store::append`].
    pub(crate) fn write(&mut self, payloads: &[&[u8]]) -> Result<u64> {
        let len = self.write_frames(payloads)?;
        self.journal_len += len;
        Ok(self.syncer.written.fetch_add(len, Ordering::AcqRel) + len)
    }

    /// Keeps a record to be written with the next write (before its own
    /// records, so that the order holds) or at the next [`Store::ticket`]:
    /// for records whose loss costs only a check on the next open (a
    /// completion), one `write` for many instead of one each. Written at
    /// once past 64 KiB.
    pub(crate) fn write_later(&mut self, payload: &[u8]) -> Result<()> {
        frame(payload, &mut self.later);
        if self.later.len() >= 1 << 16 {
            self.write(&[])?;
        }
        Ok(())
    }

    /// Frames the payloads and writes them after the last whole record,
    /// after the records kept by [`Store::write_later`] (no fsync); returns
    /// their length. A failed write is cut back (the kept records with it).
    fn write_frames(&mut self, payloads: &[&[u8]]) -> Result<u64> {
        let mut buf = std::mem::take(&mut self.later);
        buf.reserve(payloads.iter().map(|p| p.len() + 8).sum());
        for p in payloads {
            frame(p, &mut buf);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        if let Err(e) = self.write_journal(&buf) {
            self.cut_back();
            return Err(e);
        }
        Ok(buf.len() as u64)
    }

    /// Leaves no half-written frame for the next append to follow: cuts
    /// the journal back to the last whole record (best effort; reading
    /// stops at a torn frame anyway).
    fn cut_back(&mut self) {
        // A power-cut test: the machine is off, nothing more is written.
        #[cfg(test)]
        if self.budget == Some(0) {
            return;
        }
        let _ = self.journal.set_len(self.journal_len);
        let _ = self.journal.seek(SeekFrom::Start(self.journal_len));
    }

    /// The ticket of everything written so far (for [`Syncer::sync_to`]),
    /// the records kept by [`Store::write_later`] written first (best
    /// effort: a failed write loses them, as it would have lost them
    /// written on their own).
    pub(crate) fn ticket(&mut self) -> u64 {
        if !self.later.is_empty() {
            let _ = self.write(&[]);
        }
        self.syncer.written.load(Ordering::Acquire)
    }

    /// The fsyncs of what [`Store::write`] wrote; usable without the
    /// store's owner lock.
    pub(crate) fn syncer(&self) -> Arc<Syncer> {
        self.syncer.clone()
    }

    /// Whether the journal is worth folding into the snapshot.
    pub(crate) fn wants_compaction(&self) -> bool {
        self.journal_len >= COMPACT_AT && self.journal_len > self.snapshot_len
    }

    /// Writes `payloads` (every live record) as the new snapshot and
    /// empties the journal.
    pub(crate) fn compact(&mut self, payloads: &mut dyn Iterator<Item = Vec<u8>>) -> Result<()> {
        let tmp = self.dir.join(SNAPSHOT_TMP);
        let f = File::create(&tmp).map_err(|e| io_err("cannot create", &tmp, e))?;
        let mut buf = Vec::with_capacity(1 << 16);
        let mut written = 0u64;
        for p in payloads {
            frame(&p, &mut buf);
            if buf.len() >= 1 << 16 {
                self.write_to(Some(&f), &buf)?;
                written += buf.len() as u64;
                buf.clear();
            }
        }
        self.write_to(Some(&f), &buf)?;
        written += buf.len() as u64;
        self.spend(1)?;
        f.sync_all()?;
        drop(f);
        self.spend(1)?;
        fs::rename(&tmp, self.dir.join(SNAPSHOT))?;
        sync_dir(&self.dir)?;
        self.snapshot_len = written;
        self.spend(1)?;
        self.journal.set_len(0)?;
        self.journal.seek(SeekFrom::Start(0))?;
        self.journal.sync_all()?;
        self.journal_len = 0;
        // The records kept to write later are of the live transfers, whose
        // state the snapshot holds.
        self.later.clear();
        // Every record written so far is in the snapshot, on disk.
        self.syncer
            .mark_synced(self.syncer.written.load(Ordering::Acquire));
        Ok(())
    }

    fn write_journal(&mut self, data: &[u8]) -> Result<()> {
        self.write_to(None, data)
    }

    /// Writes `data` to `f` (the journal when `None`: written through a
    /// shared reference, no second handle), as far as a power-cut test's
    /// budget allows.
    fn write_to(&mut self, f: Option<&File>, data: &[u8]) -> Result<()> {
        let n = self.allowed(data.len());
        let mut f = f.unwrap_or(&self.journal);
        f.write_all(&data[..n])?;
        if n < data.len() {
            return Err(Error::new(ErrorKind::Io, "power cut (test)"));
        }
        Ok(())
    }

    /// How much of a write of `len` bytes a power-cut test's budget
    /// allows (all of it outside tests).
    fn allowed(&mut self, len: usize) -> usize {
        #[cfg(test)]
        if let Some(left) = self.budget {
            let n = left.min(len as u64);
            self.budget = Some(left - n);
            return n as usize;
        }
        len
    }

    /// A power-cut test's budget for one step that is not a write.
    fn spend(&mut self, _n: u64) -> Result<()> {
        #[cfg(test)]
        if let Some(left) = self.budget {
            if left < _n {
                return Err(Error::new(ErrorKind::Io, "power cut (test)"));
            }
            self.budget = Some(left - _n);
        }
        Ok(())
    }
}

/// Group commit for the journal: records written by [`Store::write`] are
/// made durable by `sync_to`, which any thread may call without the
/// store's owner lock. One fsync covers every record written before it
/// started, so threads that wait together share it, and a ticket already
/// covered costs nothing.
pub(crate) struct Syncer {
    /// A handle on the journal (the same file; compaction empties it in
    /// place).
    file: File,
    /// Bytes ever written to the journal by this store (never reset): a
    /// write's ticket is this count just after it.
    written: AtomicU64,
    /// `written` as it was when the last fsync that succeeded began: every
    /// ticket up to it is on disk. Held across the fsync, so that waiters
    /// queue behind it and then find their ticket covered.
    synced: Mutex<u64>,
    /// `synced`, readable without waiting for the fsync that holds it: a
    /// ticket already covered (a record written ahead, most often) returns
    /// at once instead of queueing behind an fsync it does not need.
    durable: AtomicU64,
    /// The fsyncs `sync_to` made (tests).
    syncs: AtomicU64,
}

impl Syncer {
    /// Returns once everything written up to `ticket` is on disk.
    pub(crate) fn sync_to(&self, ticket: u64) -> Result<()> {
        if self.durable.load(Ordering::Acquire) >= ticket {
            return Ok(());
        }
        let mut synced = self.synced.lock().unwrap_or_else(PoisonError::into_inner);
        if *synced >= ticket {
            return Ok(());
        }
        let target = self.written.load(Ordering::Acquire);
        self.file.sync_data()?;
        self.syncs.fetch_add(1, Ordering::Relaxed);
        *synced = (*synced).max(target);
        self.durable.fetch_max(*synced, Ordering::Release);
        Ok(())
    }

    fn mark_synced(&self, upto: u64) {
        let mut synced = self.synced.lock().unwrap_or_else(PoisonError::into_inner);
        *synced = (*synced).max(upto);
        self.durable.fetch_max(*synced, Ordering::Release);
    }

    #[cfg(test)]
    pub(crate) fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests;
