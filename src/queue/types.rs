//! The public types of the queue: transfers, their states, events and
//! the options it opens with.

use std::sync::Arc;
use std::time::Duration;
use std::time::SystemTime;

use crate::graph::error::Error;
use crate::graph::item::Item;

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
