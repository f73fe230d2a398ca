//! A durable transfer queue: uploads, uploads from URL and copies that
//! survive the process (a crash, a kill, a reboot) and run at most N at a
//! time over one [`Client`].
//!
//! The queue lives in a directory the app chooses (`store.rs`: a journal of
//! CRC-framed JSON records and a snapshot). Every step the service may act
//! on is on disk before it is taken (`run.rs`), so reopening after a
//! `kill -9` at any instant goes on without sending anything twice that the
//! service may already have done. See docs/ARCHITECTURE.md, "Transfer
//! queue", for the states, the durability rules and what a kill at each
//! point leaves.

mod crc;
mod events;
mod handle;
mod record;
mod run;
mod sched;
mod store;
mod types;

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::graph::address::{Conflict, Drive, ItemRef, validate_name};
use crate::graph::client::Client;
use crate::graph::control::CancelToken;
use crate::graph::error::{Error, ErrorKind, Result};
use crate::graph::item::Item;

use record::{Decoded, Phase, Record, Spec, Status};
use store::Store;

pub use types::*;

/// Why a running transfer is being stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Pause,
    Cancel,
    Offline,
    Close,
}

struct Running {
    cancel: CancelToken,
    stop: Option<Stop>,
}

/// A transfer in memory: its record, and what this process knows besides.
struct Entry {
    rec: Record,
    running: Option<Running>,
    wait: Option<(WaitReason, Option<Instant>, Option<SystemTime>)>,
    /// Transient errors in a row (for the backoff).
    errors: u32,
    last_error: Option<Box<Error>>,
    done: u64,
    total: u64,
    /// The last progress event: bytes and when.
    emitted: (u64, Option<Instant>),
    /// The journal ticket of a `Sending` phase the scheduler wrote ahead
    /// (before the transfer started, no fsync waited for), while no
    /// request of this process has gone for it: its worker skips the
    /// destination check and only makes sure the record is on disk.
    ahead: Option<u64>,
}

impl Entry {
    fn new(rec: Record) -> Entry {
        let total = match &rec.spec {
            Spec::Upload { size, .. } => *size,
            _ => 0,
        };
        let done = if rec.status == Status::Completed {
            total
        } else {
            0
        };
        Entry {
            rec,
            running: None,
            wait: None,
            errors: 0,
            last_error: None,
            done,
            total,
            emitted: (0, None),
            ahead: None,
        }
    }

    fn state(&self) -> TransferState {
        match self.rec.status {
            Status::Completed => TransferState::Completed,
            Status::Failed => TransferState::Failed,
            Status::Cancelled => TransferState::Cancelled,
            Status::Paused if self.running.is_none() => TransferState::Paused,
            _ if self.running.is_some() => TransferState::Running,
            _ if self.wait.is_some() => TransferState::Waiting,
            _ => TransferState::Queued,
        }
    }

    fn kind(&self) -> TransferKind {
        match self.rec.spec {
            Spec::Upload { .. } => TransferKind::Upload,
            Spec::UrlUpload { .. } => TransferKind::UrlUpload,
            Spec::Copy { .. } => TransferKind::Copy,
        }
    }

    fn snapshot(&self) -> Transfer {
        let state = self.state();
        let name = match &self.rec.spec {
            Spec::Upload { name, .. } | Spec::UrlUpload { name, .. } => name.clone(),
            Spec::Copy { name, .. } => name.clone().unwrap_or_default(),
        };
        Transfer {
            id: self.rec.id,
            kind: self.kind(),
            state,
            wait_reason: self
                .wait
                .filter(|_| state == TransferState::Waiting)
                .map(|w| w.0),
            retry_at: self
                .wait
                .filter(|_| state == TransferState::Waiting)
                .and_then(|w| w.2),
            done: self.done,
            total: self.total,
            name,
            item: self
                .rec
                .item
                .as_deref()
                .and_then(|j| Item::from_slice(j.as_bytes()).ok()),
            error: self
                .rec
                .error
                .as_deref()
                .or(self
                    .last_error
                    .as_deref()
                    .filter(|_| state == TransferState::Waiting))
                .cloned(),
        }
    }
}

/// The transfers, in id order: a vector searched by id (ids only grow, so
/// new ones go at the end). A `BTreeMap` filled in order leaves its nodes
/// half empty: a third more memory for a large queue.
#[derive(Default)]
struct Entries(Vec<Entry>);

impl Entries {
    fn find(&self, id: TransferId) -> std::result::Result<usize, usize> {
        self.0.binary_search_by_key(&id, |e| e.rec.id)
    }

    fn get(&self, id: &TransferId) -> Option<&Entry> {
        self.find(*id).ok().map(|i| &self.0[i])
    }

    fn get_mut(&mut self, id: &TransferId) -> Option<&mut Entry> {
        self.find(*id).ok().map(|i| &mut self.0[i])
    }

    /// Inserts or replaces.
    fn insert(&mut self, id: TransferId, e: Entry) {
        match self.find(id) {
            Ok(i) => self.0[i] = e,
            Err(i) => self.0.insert(i, e),
        }
    }

    fn remove(&mut self, id: &TransferId) {
        if let Ok(i) = self.find(*id) {
            self.0.remove(i);
        }
    }

    fn values(&self) -> std::slice::Iter<'_, Entry> {
        self.0.iter()
    }

    fn values_mut(&mut self) -> std::slice::IterMut<'_, Entry> {
        self.0.iter_mut()
    }
}

struct State {
    entries: Entries,
    next_id: TransferId,
    /// `None` once closed: the directory is unlocked then.
    store: Option<Store>,
    online: bool,
    max_running: usize,
    running: usize,
    /// Active, not running, not waiting: the order they start in.
    ready: BTreeSet<TransferId>,
    /// Waiting for a retry.
    retrying: BTreeSet<TransferId>,
    /// Active and not paused (queued, running, waiting): wait_idle's count.
    unfinished: usize,
    closing: bool,
}

/// Events kept for `next_event`: state changes in order, progress
/// coalesced to the latest per transfer.
#[derive(Default)]
struct Events {
    order: VecDeque<Slot>,
    progress: HashMap<TransferId, (u64, u64)>,
    /// Events for the callback, in order.
    dispatch: VecDeque<Event>,
    has_callback: bool,
    /// The queue is closed: the dispatcher ends once `dispatch` is empty.
    closed: bool,
}

enum Slot {
    State(Event),
    Progress(TransferId),
}

pub(crate) struct Shared {
    client: Client,
    opts: QueueOptions,
    state: Mutex<State>,
    /// The scheduler's wake-up (a change that may let a transfer start).
    wake: Condvar,
    /// A change of `unfinished` (wait_idle).
    idle: Condvar,
    events: Mutex<Events>,
    events_cv: Condvar,
    dispatch_cv: Condvar,
    callback: Mutex<Option<EventCallback>>,
    /// Held by the dispatcher while the callback runs (and by nothing
    /// else but `set_event_callback`, to wait for it).
    calling: Mutex<()>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    dispatcher: Mutex<Option<JoinHandle<()>>>,
    seed: AtomicU64,
}

thread_local! {
    /// The queue whose thread this is (0: none): `close` from inside a
    /// callback is refused instead of waiting for itself.
    static QUEUE_THREAD: Cell<usize> = const { Cell::new(0) };
    /// The queue whose dispatcher thread this is (0: none).
    static DISPATCHER: Cell<usize> = const { Cell::new(0) };
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A file's modification time in ns since the epoch (0 when unknown).
pub(crate) fn mtime_ns(meta: &std::fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64)
}

/// A handle on an open queue: every call but `close`. Cheap to clone; it
/// may be used from any thread, including inside the event callback.
#[derive(Clone)]
pub struct QueueHandle {
    shared: Arc<Shared>,
}

/// An open queue. Dropping it closes it (as [`Queue::close`]).
pub struct Queue {
    handle: QueueHandle,
    closed: bool,
}

impl std::ops::Deref for Queue {
    type Target = QueueHandle;
    fn deref(&self) -> &QueueHandle {
        &self.handle
    }
}

impl Queue {
    /// Opens (creating) the queue in `dir` and restores every transfer
    /// recorded there: those that were queued, running or waiting start
    /// again as queued; paused, finished ones stay so. Fails with
    /// `ErrorKind::InvalidState` when the directory is already open (in this
    /// process or another); with `ErrorKind::Io` when it cannot be read.
    pub fn open(client: Client, dir: &Path, opts: QueueOptions) -> Result<Queue> {
        if opts.max_running == 0 {
            return Err(Error::invalid("max_running must be at least 1"));
        }
        let mut entries = Entries::default();
        let mut next_id = 1u64;
        let mut folders: HashMap<String, Arc<ItemRef>> = HashMap::new();
        let store = Store::open(dir, &mut |payload| {
            match record::decode(payload)? {
                Decoded::Put(rec) => {
                    let mut rec = *rec;
                    if let Spec::Upload { parent, .. } = &mut rec.spec {
                        // One copy of each folder for all its uploads.
                        let shared = folders
                            .entry(parent.to_string())
                            .or_insert_with(|| parent.clone());
                        *parent = shared.clone();
                    }
                    next_id = next_id.max(rec.id + 1);
                    entries.insert(rec.id, Entry::new(rec));
                }
                Decoded::Delete(id) => {
                    next_id = next_id.max(id + 1);
                    entries.remove(&id);
                }
                Decoded::Next(n) => next_id = next_id.max(n),
            }
            Ok(())
        })?;
        drop(folders);
        let mut ready = BTreeSet::new();
        let mut unfinished = 0;
        let online = !opts.start_offline;
        for e in entries.values_mut() {
            let id = &e.rec.id;
            if e.rec.status == Status::Active {
                unfinished += 1;
                if online {
                    ready.insert(*id);
                } else {
                    e.wait = Some((WaitReason::Offline, None, None));
                }
            }
        }
        let shared = Arc::new(Shared {
            client,
            state: Mutex::new(State {
                entries,
                next_id,
                store: Some(store),
                online,
                max_running: opts.max_running,
                running: 0,
                ready,
                retrying: BTreeSet::new(),
                unfinished,
                closing: false,
            }),
            opts,
            wake: Condvar::new(),
            idle: Condvar::new(),
            events: Mutex::new(Events::default()),
            events_cv: Condvar::new(),
            dispatch_cv: Condvar::new(),
            callback: Mutex::new(None),
            calling: Mutex::new(()),
            threads: Mutex::new(Vec::new()),
            dispatcher: Mutex::new(None),
            seed: AtomicU64::new(
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
                    | 1,
            ),
        });
        let s = shared.clone();
        let scheduler = std::thread::Builder::new()
            .name("od-queue".into())
            .spawn(move || s.schedule())
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot start a thread: {e}")))?;
        lock(&shared.threads).push(scheduler);
        let s = shared.clone();
        let dispatcher = std::thread::Builder::new()
            .name("od-queue-events".into())
            .spawn(move || s.dispatch());
        match dispatcher {
            Ok(t) => *lock(&shared.dispatcher) = Some(t),
            Err(e) => {
                let _ = shared.close();
                return Err(Error::new(
                    ErrorKind::Io,
                    format!("cannot start a thread: {e}"),
                ));
            }
        }
        Ok(Queue {
            handle: QueueHandle { shared },
            closed: false,
        })
    }

    /// A handle for other threads or the event callback.
    pub fn handle(&self) -> QueueHandle {
        self.handle.clone()
    }

    /// Stops the queue: running transfers are interrupted at a safe point
    /// and stay resumable (they start again on the next open), the threads
    /// end, the directory is unlocked. Called from the queue's own thread
    /// (inside the event callback) it fails with `ErrorKind::InvalidState`
    /// and the queue, consumed, stops as when dropped there: its threads
    /// are told to stop, not waited for.
    pub fn close(mut self) -> Result<()> {
        self.handle.shared.close()?;
        self.closed = true;
        Ok(())
    }
}

impl Drop for Queue {
    /// Closes the queue; dropped inside its own event callback, it tells
    /// the threads to stop without waiting for them.
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        let shared = &self.handle.shared;
        if shared.on_own_thread() {
            shared.stop_all();
            lock(&shared.events).closed = true;
            shared.dispatch_cv.notify_all();
        } else {
            let _ = shared.close();
        }
    }
}

fn finished(id: TransferId, s: TransferState) -> Error {
    Error::new(
        ErrorKind::InvalidState,
        format!("transfer {id} has finished ({s:?})"),
    )
}

fn not_found(id: TransferId) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!("no transfer {id} in the queue"),
    )
}

impl State {
    fn store(&mut self) -> Result<&mut Store> {
        self.store
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::InvalidState, "the queue is closed"))
    }

    /// Writes the transfer's record; it is on disk when this returns `Ok`.
    fn persist(&mut self, id: TransferId) -> Result<()> {
        let Some(e) = self.entries.get(&id) else {
            return Ok(());
        };
        let payload = record::encode(&e.rec);
        self.store()?.append(&[&payload])?;
        self.maybe_compact();
        Ok(())
    }

    /// Writes the transfer's record without waiting for the disk: it is
    /// there once the returned syncer's `sync_to(ticket)` has returned
    /// `Ok`, which the caller waits for after letting go of the state lock
    /// (group commit: the workers' records share fsyncs, and nobody waits
    /// for the disk behind the lock). `None`: no such transfer.
    fn write_record(&mut self, id: TransferId) -> Result<Option<(u64, Arc<store::Syncer>)>> {
        let Some(e) = self.entries.get(&id) else {
            return Ok(None);
        };
        let payload = record::encode(&e.rec);
        let store = self.store()?;
        let ticket = store.write(&[&payload])?;
        let syncer = store.syncer();
        self.maybe_compact();
        Ok(Some((ticket, syncer)))
    }

    /// Keeps the transfer's record to be written with the next write
    /// ([`Store::write_later`]): for a completion, whose loss costs only a
    /// check at the destination on the next open.
    fn write_later(&mut self, id: TransferId) -> Result<()> {
        let Some(e) = self.entries.get(&id) else {
            return Ok(());
        };
        let payload = record::encode(&e.rec);
        self.store()?.write_later(&payload)?;
        self.maybe_compact();
        Ok(())
    }

    /// Pipelines the `Sending` records: writes those of the next simple
    /// uploads to start (the ready ones that fill the free slots and
    /// 4 × `max_running` more: one fsync every few dozen transfers rather
    /// than every few; a crash costs at most that many destination checks
    /// more) in one write, without waiting for the disk.
    /// Their workers then find them on disk, made so by an fsync already
    /// shared with other records, rather than each waiting for one on its
    /// way to the wire. A record written ahead whose request never goes
    /// (paused, cancelled, killed) is handled on the next run as any
    /// `Sending`: its destination is checked first. A failed write leaves
    /// the transfers as they were (their workers write their own).
    fn write_ahead(&mut self, simple_limit: u64) {
        let want = self.max_running.saturating_sub(self.running) + 4 * self.max_running;
        let entries = &self.entries;
        let ids: Vec<TransferId> = self
            .ready
            .iter()
            .take(want)
            .copied()
            .filter(|id| {
                entries.get(id).is_some_and(|e| {
                    e.ahead.is_none()
                        && e.rec.status == Status::Active
                        && e.rec.phase == Phase::Fresh
                        && matches!(e.rec.spec, Spec::Upload { size, .. } if size <= simple_limit)
                })
            })
            .collect();
        if ids.is_empty() {
            return;
        }
        let mut payloads = Vec::with_capacity(ids.len());
        for id in &ids {
            if let Some(e) = self.entries.get_mut(id) {
                e.rec.phase = Phase::Sending;
                payloads.push(record::encode(&e.rec));
            }
        }
        let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        let written = self.store().and_then(|s| s.write(&refs));
        for id in &ids {
            if let Some(e) = self.entries.get_mut(id) {
                match written {
                    Ok(ticket) => e.ahead = Some(ticket),
                    Err(_) => e.rec.phase = Phase::Fresh,
                }
            }
        }
        self.maybe_compact();
    }

    /// Folds the journal into a snapshot when it has grown (a failure
    /// leaves the journal as it was: nothing is lost).
    fn maybe_compact(&mut self) {
        if !self.store.as_ref().is_some_and(Store::wants_compaction) {
            return;
        }
        let next = self.next_id;
        let entries = &self.entries;
        let mut payloads = std::iter::once(record::encode_next(next))
            .chain(entries.values().map(|e| record::encode(&e.rec)));
        if let Some(store) = self.store.as_mut() {
            let _ = store.compact(&mut payloads);
        }
    }

    /// Applies `f` to the transfer and keeps the derived sets and counts
    /// right; a change of state becomes an event in `evs`.
    fn touch<T>(
        &mut self,
        id: TransferId,
        evs: &mut Vec<Event>,
        f: impl FnOnce(&mut Entry) -> T,
    ) -> Option<T> {
        let e = self.entries.get_mut(&id)?;
        let before = e.state();
        let out = f(e);
        let after = e.state();
        let active = |s: TransferState| {
            matches!(
                s,
                TransferState::Queued | TransferState::Running | TransferState::Waiting
            )
        };
        if active(before) && !active(after) {
            self.unfinished -= 1;
        } else if !active(before) && active(after) {
            self.unfinished += 1;
        }
        if after == TransferState::Queued {
            self.ready.insert(id);
        } else {
            self.ready.remove(&id);
        }
        if e.wait.is_some_and(|w| w.0 == WaitReason::Retry) && after == TransferState::Waiting {
            self.retrying.insert(id);
        } else {
            self.retrying.remove(&id);
        }
        if before != after {
            evs.push(Event {
                id,
                kind: EventKind::State(after),
            });
        }
        Some(out)
    }
}

/// The journal replay [`Queue::open`] does (frames checked by their CRC,
/// each payload decoded as a record), over bytes in memory, for the fuzz
/// target: the length of the whole frames read and how many payloads
/// decoded. A payload that does not decode is counted out rather than
/// ending the replay, so that the rest is read too.
pub(crate) fn replay(bytes: &[u8]) -> (u64, usize) {
    let mut decoded = 0;
    let good = store::read_frames(&mut &bytes[..], &mut |payload| {
        if record::decode(payload).is_ok() {
            decoded += 1;
        }
        Ok(())
    });
    (good.unwrap_or(0), decoded)
}

/// One journal frame around `payload`, as the store writes it.
pub(crate) fn frame(payload: &[u8], out: &mut Vec<u8>) {
    store::frame(payload, out);
}
