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
mod record;
mod run;
mod store;

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

/// A transfer's id: stable across reopenings, never reused.
pub type TransferId = u64;

/// What a transfer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferKind {
    /// A local file to a drive.
    Upload,
    /// The service fetches a URL into a new file.
    UrlUpload,
    /// A server-side copy.
    Copy,
}

/// Where a transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferState {
    /// Waiting for a free slot.
    Queued = 0,
    /// Being sent (bytes done/total in the snapshot).
    Running = 1,
    /// Paused by the app: it waits for a resume.
    Paused = 2,
    /// Waiting for the network (`set_online(false)`), or for a retry after
    /// a transient error (with when).
    Waiting = 3,
    /// Done: the item is in the snapshot.
    Completed = 4,
    /// Ended by a permanent error (in the snapshot).
    Failed = 5,
    /// Cancelled by the app.
    Cancelled = 6,
}

impl TransferState {
    pub const ALL: [TransferState; 7] = [
        TransferState::Queued,
        TransferState::Running,
        TransferState::Paused,
        TransferState::Waiting,
        TransferState::Completed,
        TransferState::Failed,
        TransferState::Cancelled,
    ];

    /// Completed, failed or cancelled.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TransferState::Completed | TransferState::Failed | TransferState::Cancelled
        )
    }

    /// This state's bit in a [`StateSet`].
    pub fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// A set of states, for [`QueueHandle::list`]: a bit per state
/// ([`TransferState::bit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateSet(pub u32);

impl StateSet {
    pub const ALL: StateSet = StateSet(0x7F);
    pub const FINISHED: StateSet = StateSet(0x70);

    pub fn of(states: &[TransferState]) -> StateSet {
        StateSet(states.iter().fold(0, |m, s| m | s.bit()))
    }

    pub fn contains(self, s: TransferState) -> bool {
        self.0 & s.bit() != 0
    }
}

/// Why a transfer waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitReason {
    /// The app said "not now" (`set_online(false)`).
    Offline,
    /// A transient error (network, timeout, throttling, 5xx): it is retried
    /// at `retry_at`.
    Retry,
}

/// A transfer as it was when asked ([`QueueHandle::get`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    pub id: TransferId,
    pub kind: TransferKind,
    pub state: TransferState,
    /// When `Waiting`: why.
    pub wait_reason: Option<WaitReason>,
    /// When waiting for a retry: when it is due.
    pub retry_at: Option<SystemTime>,
    /// Uploads: bytes the service has; copies and uploads from URL: the
    /// job's progress in hundredths of a percent (total 10000).
    pub done: u64,
    pub total: u64,
    /// The destination name (empty for a copy that keeps the source's
    /// name until it completes).
    pub name: String,
    /// When completed: the item.
    pub item: Option<Item>,
    /// When failed: the error that ended it; when waiting for a retry: the
    /// transient error that made it wait.
    pub error: Option<Error>,
}

/// Files and bytes of the whole queue ([`QueueHandle::totals`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    /// Transfers in the queue (every state).
    pub files: u64,
    pub completed: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Bytes of the uploads (copies and uploads from URL have no byte count
    /// known here): done, and all. A completed upload counts whole; failed
    /// and cancelled ones are left out of both.
    pub bytes_done: u64,
    pub bytes_total: u64,
}

/// What an event tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The transfer entered this state.
    State(TransferState),
    /// A running transfer moved on (at most every 64 KiB and 250 ms).
    Progress { done: u64, total: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub id: TransferId,
    pub kind: EventKind,
}

/// The event callback: called on the queue's threads, never with a lock of
/// the queue held. From inside it, every call on the queue is allowed but
/// `close` (and dropping the last `Queue`), which fails with
/// `ErrorKind::InvalidState` instead of waiting for itself.
pub type EventCallback = Arc<dyn Fn(&Event) + Send + Sync>;

/// Settings of [`Queue::open`].
#[derive(Debug, Clone)]
pub struct QueueOptions {
    /// Transfers running at once (at least 1). Default 4.
    pub max_running: usize,
    /// The first wait after a transient error; it doubles with every error
    /// in a row (with jitter), up to `retry_max`. A Retry-After is honoured.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// How long a copy or upload from URL whose request may have reached
    /// the service (its answer was not kept) is looked for at its
    /// destination before it fails with `ErrorKind::UnknownOutcome`.
    pub unknown_outcome_grace: Duration,
    /// Keep events for [`QueueHandle::next_event`]. Default true; an app
    /// that never drains them sets false (state changes are never dropped,
    /// so undrained ones accumulate).
    pub poll_events: bool,
    /// Start offline (nothing runs until `set_online(true)`).
    pub start_offline: bool,
}

impl Default for QueueOptions {
    fn default() -> Self {
        QueueOptions {
            max_running: 4,
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
            unknown_outcome_grace: Duration::from_secs(30),
            poll_events: true,
            start_offline: false,
        }
    }
}

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

impl QueueHandle {
    /// Whether the calling thread is one of this queue's (inside the event
    /// callback): `close` would fail there.
    pub fn on_queue_thread(&self) -> bool {
        self.shared.on_own_thread()
    }

    /// Enqueues the upload of the local file `path` as `name` in the folder
    /// `parent` of `drive`. The file's size and modification time are
    /// recorded now: a file changed afterwards fails with
    /// `ErrorKind::HashMismatch` instead of being sent half old, half new.
    pub fn enqueue_upload(
        &self,
        path: &Path,
        drive: &Drive,
        parent: &ItemRef,
        name: &str,
        conflict: Conflict,
    ) -> Result<TransferId> {
        let parent = Arc::new(parent.clone());
        self.shared
            .add(upload_spec(path, drive, &parent, name, conflict)?)
    }

    /// Enqueues the uploads of many local files (`(path, name)`) into the
    /// folder `parent`, recorded in one write: for a folder of thousands
    /// of files, one fsync instead of one each. All or none: a bad path
    /// or name fails the call before anything is recorded.
    pub fn enqueue_uploads(
        &self,
        files: &[(PathBuf, String)],
        drive: &Drive,
        parent: &ItemRef,
        conflict: Conflict,
    ) -> Result<Vec<TransferId>> {
        let parent = Arc::new(parent.clone());
        let specs = files
            .iter()
            .map(|(path, name)| upload_spec(path, drive, &parent, name, conflict))
            .collect::<Result<Vec<Spec>>>()?;
        self.shared.add_all(specs)
    }

    /// Enqueues an upload from URL: the service fetches `source_url` into a
    /// new file `name` in the folder `parent`.
    pub fn enqueue_url_upload(
        &self,
        source_url: &str,
        drive: &Drive,
        parent: &ItemRef,
        name: &str,
    ) -> Result<TransferId> {
        validate_name(name)?;
        crate::graph::url::Origin::of(source_url)?;
        self.shared.add(Spec::UrlUpload {
            url: source_url.to_owned(),
            drive: drive.clone(),
            parent: parent.clone(),
            name: name.to_owned(),
        })
    }

    /// Enqueues a server-side copy of `source` into the folder
    /// `dest_parent` (of the drive `dest_drive_id`, else of `drive`),
    /// named `name` (else the source's name).
    pub fn enqueue_copy(
        &self,
        drive: &Drive,
        source: &ItemRef,
        dest_parent: &ItemRef,
        dest_drive_id: Option<&str>,
        name: Option<&str>,
        conflict: Conflict,
    ) -> Result<TransferId> {
        if let Some(n) = name {
            validate_name(n)?;
        }
        if let Some(d) = dest_drive_id {
            Drive::parse(&format!("/drives/{d}"))?;
        }
        self.shared.add(Spec::Copy {
            drive: drive.clone(),
            source: source.clone(),
            dest_parent: dest_parent.clone(),
            dest_drive_id: dest_drive_id.map(str::to_owned),
            name: name.map(str::to_owned),
            conflict,
        })
    }

    /// A snapshot of one transfer; `None` for an id the queue does not
    /// hold (never enqueued, or removed).
    pub fn get(&self, id: TransferId) -> Option<Transfer> {
        lock(&self.shared.state)
            .entries
            .get(&id)
            .map(Entry::snapshot)
    }

    /// Snapshots of the transfers in `states`, by id.
    pub fn list(&self, states: StateSet) -> Vec<Transfer> {
        lock(&self.shared.state)
            .entries
            .values()
            .filter(|e| states.contains(e.state()))
            .map(Entry::snapshot)
            .collect()
    }

    /// Counts and bytes of the whole queue.
    pub fn totals(&self) -> Totals {
        let st = lock(&self.shared.state);
        let mut t = Totals::default();
        for e in st.entries.values() {
            t.files += 1;
            match e.rec.status {
                Status::Completed => t.completed += 1,
                Status::Failed => t.failed += 1,
                Status::Cancelled => t.cancelled += 1,
                _ => {}
            }
            if let Spec::Upload { size, .. } = e.rec.spec {
                match e.rec.status {
                    Status::Completed => {
                        t.bytes_total += size;
                        t.bytes_done += size;
                    }
                    Status::Active | Status::Paused => {
                        t.bytes_total += size;
                        t.bytes_done += e.done.min(size);
                    }
                    // Not to be sent: out of the byte count.
                    Status::Failed | Status::Cancelled => {}
                }
            }
        }
        t
    }

    /// Pauses a transfer: a running one stops at once (an upload session is
    /// kept, to go on from where it stood). Pausing a paused one does
    /// nothing; a finished one is `ErrorKind::InvalidState`.
    pub fn pause(&self, id: TransferId) -> Result<()> {
        self.shared.control(Some(id), Stop::Pause)
    }

    /// Resumes a paused transfer (no effect on one that is not paused;
    /// `ErrorKind::InvalidState` for a finished one).
    pub fn resume(&self, id: TransferId) -> Result<()> {
        self.shared.resume(Some(id))
    }

    /// Cancels a transfer: a running one stops at once; an upload session
    /// is deleted on the service. Cancelling a cancelled one does nothing;
    /// a completed or failed one is `ErrorKind::InvalidState`.
    pub fn cancel(&self, id: TransferId) -> Result<()> {
        self.shared.control(Some(id), Stop::Cancel)
    }

    /// [`QueueHandle::pause`] for every unfinished transfer.
    pub fn pause_all(&self) -> Result<()> {
        self.shared.control(None, Stop::Pause)
    }

    /// [`QueueHandle::resume`] for every paused transfer.
    pub fn resume_all(&self) -> Result<()> {
        self.shared.resume(None)
    }

    /// [`QueueHandle::cancel`] for every unfinished transfer.
    pub fn cancel_all(&self) -> Result<()> {
        self.shared.control(None, Stop::Cancel)
    }

    /// Removes a finished transfer (its id is never used again);
    /// `ErrorKind::InvalidState` for one that has not finished.
    pub fn remove(&self, id: TransferId) -> Result<()> {
        let mut st = lock(&self.shared.state);
        let e = st.entries.get(&id).ok_or_else(|| not_found(id))?;
        if !e.state().is_finished() {
            return Err(Error::new(
                ErrorKind::InvalidState,
                format!("transfer {id} has not finished: cancel it first"),
            ));
        }
        st.store()?.append(&[&record::encode_delete(id)])?;
        st.entries.remove(&id);
        st.maybe_compact();
        Ok(())
    }

    /// Removes every finished transfer; returns how many.
    pub fn remove_finished(&self) -> Result<usize> {
        let mut st = lock(&self.shared.state);
        let ids: Vec<TransferId> = st
            .entries
            .values()
            .filter(|e| e.state().is_finished())
            .map(|e| e.rec.id)
            .collect();
        if ids.is_empty() {
            return Ok(0);
        }
        let payloads: Vec<Vec<u8>> = ids.iter().map(|id| record::encode_delete(*id)).collect();
        let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        st.store()?.append(&refs)?;
        st.entries.0.retain(|e| !e.state().is_finished());
        st.maybe_compact();
        Ok(ids.len())
    }

    /// How many transfers may run at once (at least 1). Lowering it lets
    /// the running ones finish; raising it starts more at once.
    pub fn set_max_running(&self, n: usize) -> Result<()> {
        if n == 0 {
            return Err(Error::invalid("max_running must be at least 1"));
        }
        lock(&self.shared.state).max_running = n;
        self.shared.wake.notify_all();
        Ok(())
    }

    /// "Not now" (offline, or a metered network): `false` stops running
    /// transfers at once and makes every unfinished one wait, without
    /// counting it as a failure; `true` lets them go on.
    pub fn set_online(&self, online: bool) {
        self.shared.set_online(online);
    }

    /// Sets (or, with `None`, removes) the event callback. See
    /// [`EventCallback`] for what it may do.
    ///
    /// Once it returns, the old callback has ended and is never called
    /// again (unless it is the caller: from inside the callback, the new
    /// one takes over from the next event).
    pub fn set_event_callback(&self, callback: Option<EventCallback>) {
        let on = callback.is_some();
        *lock(&self.shared.callback) = callback;
        lock(&self.shared.events).has_callback = on;
        if DISPATCHER.with(Cell::get) != self.shared.key() {
            // Waits for a call of the old callback in progress.
            drop(lock(&self.shared.calling));
        }
    }

    /// The next event kept for polling, waiting up to `timeout` for one;
    /// `None` when none came. State changes are all kept, in order;
    /// progress is kept as the latest per transfer.
    pub fn next_event(&self, timeout: Duration) -> Option<Event> {
        let deadline = Instant::now() + timeout;
        let mut ev = lock(&self.shared.events);
        loop {
            if let Some(slot) = ev.order.pop_front() {
                return Some(match slot {
                    Slot::State(e) => e,
                    Slot::Progress(id) => {
                        let (done, total) = ev.progress.remove(&id).unwrap_or_default();
                        Event {
                            id,
                            kind: EventKind::Progress { done, total },
                        }
                    }
                });
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            ev = self
                .shared
                .events_cv
                .wait_timeout(ev, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Waits until nothing is queued, running or waiting (paused and
    /// finished transfers do not count), up to `timeout` (`None`: as long
    /// as it takes), or until `cancel` is raised. `Ok(true)` when idle,
    /// `Ok(false)` on timeout, `Err(Cancelled)` when cancelled.
    pub fn wait_idle(
        &self,
        timeout: Option<Duration>,
        cancel: Option<&CancelToken>,
    ) -> Result<bool> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut st = lock(&self.shared.state);
        loop {
            if st.unfinished == 0 {
                return Ok(true);
            }
            if cancel.is_some_and(CancelToken::is_cancelled) {
                return Err(Error::cancelled());
            }
            let now = Instant::now();
            let mut slice = Duration::from_millis(50);
            if let Some(d) = deadline {
                if now >= d {
                    return Ok(false);
                }
                slice = slice.min(d - now);
            }
            st = self
                .shared
                .idle
                .wait_timeout(st, slice)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// An upload, with the file's size and time as they are now.
fn upload_spec(
    path: &Path,
    drive: &Drive,
    parent: &Arc<ItemRef>,
    name: &str,
    conflict: Conflict,
) -> Result<Spec> {
    validate_name(name)?;
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::new(ErrorKind::Io, format!("{}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(Error::invalid(format!("{} is not a file", path.display())));
    }
    Ok(Spec::Upload {
        path: std::path::absolute(path)?,
        drive: drive.clone(),
        parent: parent.clone(),
        name: name.to_owned(),
        conflict,
        size: meta.len(),
        mtime_ns: mtime_ns(&meta),
    })
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

impl Shared {
    fn key(self: &Arc<Self>) -> usize {
        Arc::as_ptr(self) as usize
    }

    fn add(self: &Arc<Self>, spec: Spec) -> Result<TransferId> {
        Ok(self.add_all(vec![spec])?[0])
    }

    /// Records the transfers in one write (one fsync), then queues them.
    fn add_all(self: &Arc<Self>, specs: Vec<Spec>) -> Result<Vec<TransferId>> {
        let mut evs = Vec::new();
        let ids = {
            let mut st = lock(&self.state);
            if st.closing {
                return Err(Error::new(ErrorKind::InvalidState, "the queue is closed"));
            }
            let first = st.next_id;
            let recs: Vec<Record> = specs
                .into_iter()
                .zip(first..)
                .map(|(spec, id)| Record {
                    id,
                    spec,
                    status: Status::Active,
                    phase: Phase::Fresh,
                    item: None,
                    error: None,
                })
                .collect();
            let payloads: Vec<Vec<u8>> = recs.iter().map(record::encode).collect();
            let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
            st.store()?.append(&refs)?;
            st.next_id += recs.len() as u64;
            let mut ids = Vec::with_capacity(recs.len());
            for rec in recs {
                let id = rec.id;
                let mut e = Entry::new(rec);
                if !st.online {
                    e.wait = Some((WaitReason::Offline, None, None));
                }
                let state = e.state();
                st.entries.insert(id, e);
                st.unfinished += 1;
                if state == TransferState::Queued {
                    st.ready.insert(id);
                }
                evs.push(Event {
                    id,
                    kind: EventKind::State(state),
                });
                ids.push(id);
            }
            st.maybe_compact();
            self.emit(evs);
            ids
        };
        self.wake.notify_all();
        self.idle.notify_all();
        Ok(ids)
    }

    /// Pause or cancel one transfer (`Some(id)`) or all.
    fn control(self: &Arc<Self>, id: Option<TransferId>, stop: Stop) -> Result<()> {
        let mut evs = Vec::new();
        let mut discard = Vec::new();
        let result = {
            let mut st = lock(&self.state);
            let ids: Vec<TransferId> = match id {
                Some(id) => {
                    let e = st.entries.get(&id).ok_or_else(|| not_found(id))?;
                    let s = e.state();
                    let nothing_to_do = match stop {
                        Stop::Pause => s == TransferState::Paused,
                        _ => s == TransferState::Cancelled,
                    };
                    if nothing_to_do {
                        return Ok(());
                    }
                    if s.is_finished() {
                        return Err(finished(id, s));
                    }
                    vec![id]
                }
                None => st
                    .entries
                    .values()
                    .filter(|e| {
                        let s = e.state();
                        !s.is_finished() && (stop != Stop::Pause || s != TransferState::Paused)
                    })
                    .map(|e| e.rec.id)
                    .collect(),
            };
            let mut result = Ok(());
            for id in ids {
                let running = st.entries.get_mut(&id).and_then(|e| e.running.as_mut());
                if let Some(r) = running {
                    // The worker ends it at a safe point and records it.
                    r.stop = Some(stop);
                    r.cancel.cancel();
                    continue;
                }
                let status = if stop == Stop::Pause {
                    Status::Paused
                } else {
                    Status::Cancelled
                };
                let old = st.touch(id, &mut evs, |e| {
                    let old = e.rec.status;
                    e.rec.status = status;
                    e.wait = None;
                    old
                });
                if let Err(err) = st.persist(id) {
                    // Not on disk: not done either.
                    if let Some(old) = old {
                        st.touch(id, &mut evs, |e| e.rec.status = old);
                    }
                    result = Err(err);
                    break;
                }
                if stop == Stop::Cancel
                    && let Some(Phase::Session(s)) =
                        st.entries.get(&id).map(|e| e.rec.phase.clone())
                {
                    discard.push(s);
                }
            }
            self.emit(evs);
            result
        };
        self.idle.notify_all();
        for s in discard {
            run::discard_session(&self.client, &s);
        }
        result
    }

    fn resume(self: &Arc<Self>, id: Option<TransferId>) -> Result<()> {
        let mut evs = Vec::new();
        let result = {
            let mut st = lock(&self.state);
            let ids: Vec<TransferId> = match id {
                Some(id) => {
                    let s = st.entries.get(&id).ok_or_else(|| not_found(id))?.state();
                    if s.is_finished() {
                        return Err(finished(id, s));
                    }
                    vec![id]
                }
                None => st
                    .entries
                    .values()
                    .filter(|e| e.rec.status == Status::Paused)
                    .map(|e| e.rec.id)
                    .collect(),
            };
            let online = st.online;
            let mut result = Ok(());
            for id in ids {
                if let Some(r) = st.entries.get_mut(&id).and_then(|e| e.running.as_mut()) {
                    // Still stopping for a pause: it starts again instead.
                    if r.stop == Some(Stop::Pause) {
                        r.stop = None;
                    }
                    continue;
                }
                if st
                    .entries
                    .get(&id)
                    .is_some_and(|e| e.rec.status != Status::Paused)
                {
                    continue;
                }
                st.touch(id, &mut evs, |e| {
                    e.rec.status = Status::Active;
                    e.errors = 0;
                    e.wait = (!online).then_some((WaitReason::Offline, None, None));
                });
                if let Err(err) = st.persist(id) {
                    st.touch(id, &mut evs, |e| {
                        e.rec.status = Status::Paused;
                        e.wait = None;
                    });
                    result = Err(err);
                    break;
                }
            }
            self.emit(evs);
            result
        };
        self.wake.notify_all();
        self.idle.notify_all();
        result
    }

    fn set_online(self: &Arc<Self>, online: bool) {
        let mut evs = Vec::new();
        {
            let mut st = lock(&self.state);
            if st.online == online {
                return;
            }
            st.online = online;
            let ids: Vec<TransferId> = st
                .entries
                .values()
                .filter(|e| e.rec.status == Status::Active)
                .map(|e| e.rec.id)
                .collect();
            for id in ids {
                st.touch(id, &mut evs, |e| {
                    if online {
                        if e.wait.is_some_and(|w| w.0 == WaitReason::Offline) {
                            e.wait = None;
                        }
                    } else if let Some(r) = e.running.as_mut() {
                        r.stop = Some(Stop::Offline);
                        r.cancel.cancel();
                    } else {
                        e.wait = Some((WaitReason::Offline, None, None));
                    }
                });
            }
            self.emit(evs);
        }
        self.wake.notify_all();
    }

    fn on_own_thread(self: &Arc<Self>) -> bool {
        QUEUE_THREAD.with(Cell::get) == self.key()
    }

    /// Tells every thread to stop (running transfers at a safe point),
    /// without waiting for them.
    fn stop_all(&self) {
        {
            let mut st = lock(&self.state);
            st.closing = true;
            for e in st.entries.values_mut() {
                if let Some(r) = e.running.as_mut() {
                    r.stop = Some(Stop::Close);
                    r.cancel.cancel();
                }
            }
        }
        self.wake.notify_all();
        self.idle.notify_all();
    }

    /// Stops the threads and waits for them; refused on the queue's own
    /// thread (the event callback), which it would wait for.
    fn close(self: &Arc<Self>) -> Result<()> {
        if self.on_own_thread() {
            return Err(Error::new(
                ErrorKind::InvalidState,
                "a queue cannot be closed from its own event callback",
            ));
        }
        self.stop_all();
        loop {
            let threads: Vec<JoinHandle<()>> = std::mem::take(&mut *lock(&self.threads));
            if threads.is_empty() {
                break;
            }
            for t in threads {
                let _ = t.join();
            }
        }
        // Every worker has recorded its end: the directory is unlocked, the
        // dispatcher delivers the last events and stops.
        lock(&self.state).store = None;
        lock(&self.events).closed = true;
        self.dispatch_cv.notify_all();
        if let Some(t) = lock(&self.dispatcher).take() {
            let _ = t.join();
        }
        Ok(())
    }

    /// Hands events to the polling buffer and to the dispatcher thread,
    /// which calls the callback. Called with the state lock held, so that
    /// events are in the order of the changes; the callback itself never
    /// runs under a lock of the queue.
    fn emit(&self, evs: Vec<Event>) {
        if evs.is_empty() {
            return;
        }
        let mut b = lock(&self.events);
        if self.opts.poll_events {
            for e in &evs {
                match e.kind {
                    EventKind::State(_) => b.order.push_back(Slot::State(*e)),
                    EventKind::Progress { done, total } => {
                        if b.progress.insert(e.id, (done, total)).is_none() {
                            b.order.push_back(Slot::Progress(e.id));
                        }
                    }
                }
            }
            self.events_cv.notify_all();
        }
        if b.has_callback {
            b.dispatch.extend(evs);
            self.dispatch_cv.notify_all();
        }
    }

    /// The dispatcher thread: calls the event callback with each event, in
    /// order, one at a time.
    fn dispatch(self: Arc<Self>) {
        QUEUE_THREAD.with(|q| q.set(self.key()));
        DISPATCHER.with(|q| q.set(self.key()));
        loop {
            let ev = {
                let mut b = lock(&self.events);
                loop {
                    if let Some(e) = b.dispatch.pop_front() {
                        break e;
                    }
                    if b.closed {
                        return;
                    }
                    b = self
                        .dispatch_cv
                        .wait(b)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            };
            let _calling = lock(&self.calling);
            let cb = lock(&self.callback).clone();
            if let Some(cb) = cb {
                cb(&ev);
            }
        }
    }

    /// The scheduler thread: starts transfers as slots free up, turns due
    /// retries back into queued ones.
    fn schedule(self: Arc<Self>) {
        QUEUE_THREAD.with(|q| q.set(self.key()));
        let mut st = lock(&self.state);
        loop {
            if st.closing {
                return;
            }
            let mut evs = Vec::new();
            let now = Instant::now();
            let mut next_due: Option<Instant> = None;
            let due: Vec<TransferId> = st
                .retrying
                .iter()
                .copied()
                .filter(|id| match st.entries.get(id).and_then(|e| e.wait) {
                    Some((_, Some(at), _)) if at > now => {
                        next_due = Some(next_due.map_or(at, |n| n.min(at)));
                        false
                    }
                    _ => true,
                })
                .collect();
            for id in due {
                st.touch(id, &mut evs, |e| e.wait = None);
            }
            while st.online && st.running < st.max_running {
                let Some(id) = st.ready.first().copied() else {
                    break;
                };
                let cancel = CancelToken::new();
                st.touch(id, &mut evs, |e| {
                    e.running = Some(Running {
                        cancel: cancel.clone(),
                        stop: None,
                    });
                });
                st.running += 1;
                let s = self.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("od-queue-{id}"))
                    .spawn(move || s.work(id, cancel));
                match spawned {
                    Ok(h) => {
                        let mut threads = lock(&self.threads);
                        threads.retain(|t| !t.is_finished());
                        threads.push(h);
                    }
                    Err(_) => {
                        // No thread now: try again in a moment.
                        st.running -= 1;
                        st.touch(id, &mut evs, |e| {
                            e.running = None;
                            e.wait =
                                Some((WaitReason::Retry, Some(now + Duration::from_secs(1)), None));
                        });
                        break;
                    }
                }
            }
            if !evs.is_empty() {
                self.emit(evs);
                drop(st);
                self.idle.notify_all();
                st = lock(&self.state);
                continue;
            }
            st = match next_due {
                Some(at) => {
                    self.wake
                        .wait_timeout(st, at.saturating_duration_since(Instant::now()))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self.wake.wait(st).unwrap_or_else(PoisonError::into_inner),
            };
        }
    }

    /// A worker thread: runs one transfer, then records how it ended.
    fn work(self: Arc<Self>, id: TransferId, cancel: CancelToken) {
        QUEUE_THREAD.with(|q| q.set(self.key()));
        let rec = lock(&self.state).entries.get(&id).map(|e| e.rec.clone());
        let outcome = match rec {
            Some(rec) => run::perform(&self, rec, &cancel),
            None => run::Outcome::Stopped,
        };
        // An upload session the transfer leaves for good is deleted before
        // the end is told (no lock held over the request).
        let (stop, phase) = {
            let st = lock(&self.state);
            let e = st.entries.get(&id);
            (
                e.and_then(|e| e.running.as_ref()).and_then(|r| r.stop),
                e.map(|e| e.rec.phase.clone()),
            )
        };
        let abandoned = match &outcome {
            run::Outcome::Failed(_) => true,
            run::Outcome::Stopped => stop == Some(Stop::Cancel),
            _ => false,
        };
        let mut discarded = false;
        if abandoned && let Some(Phase::Session(s)) = phase {
            run::discard_session(&self.client, &s);
            discarded = true;
        }
        self.finish(id, outcome, discarded);
    }

    fn finish(self: &Arc<Self>, id: TransferId, outcome: run::Outcome, discarded: bool) {
        let mut evs = Vec::new();
        let mut discard = None;
        {
            let mut st = lock(&self.state);
            st.running -= 1;
            let stop = st
                .entries
                .get_mut(&id)
                .and_then(|e| e.running.as_ref())
                .and_then(|r| r.stop);
            let (status, item, error, wait) = match outcome {
                run::Outcome::Done(item) => (Status::Completed, Some(item), None, None),
                run::Outcome::Failed(e) => (Status::Failed, None, Some(e), None),
                run::Outcome::Transient(e) => {
                    let delay = st
                        .entries
                        .get_mut(&id)
                        .map(|en| {
                            en.errors += 1;
                            en.last_error = Some(Box::new(e.clone()));
                            self.backoff(en.errors, e.retry_after)
                        })
                        .unwrap_or_default();
                    let wait = if st.online {
                        (
                            WaitReason::Retry,
                            Some(Instant::now() + delay),
                            Some(SystemTime::now() + delay),
                        )
                    } else {
                        (WaitReason::Offline, None, None)
                    };
                    (Status::Active, None, None, Some(wait))
                }
                run::Outcome::Stopped => match stop {
                    Some(Stop::Pause) => (Status::Paused, None, None, None),
                    Some(Stop::Cancel) => (Status::Cancelled, None, None, None),
                    Some(Stop::Offline) => (
                        Status::Active,
                        None,
                        None,
                        Some((WaitReason::Offline, None, None)),
                    ),
                    // Closing, or a resume that came while it stopped.
                    _ => (Status::Active, None, None, None),
                },
            };
            let online = st.online;
            st.touch(id, &mut evs, |e| {
                e.running = None;
                e.rec.status = status;
                if status == Status::Completed {
                    e.done = e.total;
                    e.errors = 0;
                    e.last_error = None;
                }
                if let Some(item) = item {
                    e.rec.item = Some(item.raw_json().to_owned());
                    e.rec.phase = Phase::Fresh;
                }
                if let Some(err) = error {
                    e.rec.error = Some(Box::new(err));
                }
                e.wait = wait.or_else(|| {
                    (e.rec.status == Status::Active && !online).then_some((
                        WaitReason::Offline,
                        None,
                        None,
                    ))
                });
            });
            if matches!(
                status,
                Status::Completed | Status::Failed | Status::Cancelled | Status::Paused
            ) {
                // Best effort: on a failed write, the transfer runs again
                // on the next open and finds its result at the destination.
                let _ = st.persist(id);
            }
            if !discarded && matches!(status, Status::Failed | Status::Cancelled) {
                // An abandoned upload session is deleted on the service.
                if let Some(Phase::Session(s)) = st.entries.get(&id).map(|e| e.rec.phase.clone()) {
                    discard = Some(s);
                }
            }
            self.emit(evs);
        }
        self.wake.notify_all();
        self.idle.notify_all();
        if let Some(s) = discard {
            run::discard_session(&self.client, &s);
        }
    }

    /// The wait before retry `n` (1 = after the first error): doubling from
    /// `retry_base` up to `retry_max`, with jitter (a half to the whole),
    /// never shorter than the service's Retry-After.
    fn backoff(&self, n: u32, retry_after: Option<Duration>) -> Duration {
        let base = self.opts.retry_base;
        let exp = base.saturating_mul(1u32 << n.saturating_sub(1).min(20));
        let cap = exp.min(self.opts.retry_max);
        let mut x = self.seed.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.seed.store(x, Ordering::Relaxed);
        let frac = 0.5 + (x % 1000) as f64 / 2000.0;
        let d = cap.mul_f64(frac);
        retry_after.map_or(d, |r| d.max(r))
    }

    /// Records a new phase before the step it allows is taken.
    pub(crate) fn set_phase(&self, id: TransferId, phase: Phase) -> Result<()> {
        let mut st = lock(&self.state);
        let Some(e) = st.entries.get_mut(&id) else {
            return Err(not_found(id));
        };
        if e.rec.phase == phase {
            return Ok(());
        }
        let old = std::mem::replace(&mut e.rec.phase, phase);
        if let Err(err) = st.persist(id) {
            if let Some(e) = st.entries.get_mut(&id) {
                e.rec.phase = old;
            }
            return Err(err);
        }
        Ok(())
    }

    /// Progress of a running transfer: kept, and an event at most every
    /// 64 KiB and 250 ms (and at the end).
    pub(crate) fn progress(&self, id: TransferId, done: u64, total: u64) {
        {
            let mut st = lock(&self.state);
            let Some(e) = st.entries.get_mut(&id) else {
                return;
            };
            e.done = done;
            e.total = total;
            let now = Instant::now();
            let (last, at) = e.emitted;
            let due = done == total
                || (done.saturating_sub(last) >= 64 * 1024
                    && at.is_none_or(|t| now.duration_since(t) >= Duration::from_millis(250)));
            if !due || (done == last && at.is_some()) {
                return;
            }
            e.emitted = (done, Some(now));
            self.emit(vec![Event {
                id,
                kind: EventKind::Progress { done, total },
            }]);
        }
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn opts(&self) -> &QueueOptions {
        &self.opts
    }
}
