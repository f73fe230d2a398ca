//! The scheduler: adding transfers, pausing and resuming them, running
//! them on worker threads, recording their outcome (events are delivered
//! by `events`).

use super::*;

impl Shared {
    pub(super) fn key(self: &Arc<Self>) -> usize {
        Arc::as_ptr(self) as usize
    }

    pub(super) fn add(self: &Arc<Self>, spec: Spec) -> Result<TransferId> {
        Ok(self.add_all(vec![spec])?[0])
    }

    /// Records the transfers in one write (one fsync), then queues them.
    pub(super) fn add_all(self: &Arc<Self>, specs: Vec<Spec>) -> Result<Vec<TransferId>> {
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
    pub(super) fn control(self: &Arc<Self>, id: Option<TransferId>, stop: Stop) -> Result<()> {
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

    pub(super) fn resume(self: &Arc<Self>, id: Option<TransferId>) -> Result<()> {
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

    pub(super) fn set_online(self: &Arc<Self>, online: bool) {
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

    pub(super) fn on_own_thread(self: &Arc<Self>) -> bool {
        QUEUE_THREAD.with(Cell::get) == self.key()
    }

    /// Tells every thread to stop (running transfers at a safe point),
    /// without waiting for them.
    pub(super) fn stop_all(&self) {
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
    pub(super) fn close(self: &Arc<Self>) -> Result<()> {
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
        {
            let mut st = lock(&self.state);
            if let Some(mut s) = st.store.take() {
                // The completions no fsync has covered yet (most often
                // none: the last worker made it).
                let _ = s.syncer().sync_to(s.ticket());
            }
        }
        lock(&self.events).closed = true;
        self.dispatch_cv.notify_all();
        if let Some(t) = lock(&self.dispatcher).take() {
            let _ = t.join();
        }
        Ok(())
    }

    /// The scheduler thread: starts transfers as slots free up, turns due
    /// retries back into queued ones.
    pub(super) fn schedule(self: Arc<Self>) {
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
            while let Some((id, cancel)) = self.take_next(&mut st, &mut evs) {
                let s = self.clone();
                let spawned = std::thread::Builder::new()
                    .name("od-queue-worker".to_owned())
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

    /// Marks the next ready transfer running when a slot is free (online,
    /// not closing), its `Sending` record written ahead with the next
    /// ones': its id and cancel token.
    fn take_next(&self, st: &mut State, evs: &mut Vec<Event>) -> Option<(TransferId, CancelToken)> {
        if st.closing || !st.online || st.running >= st.max_running || st.ready.is_empty() {
            return None;
        }
        st.write_ahead(self.client.upload_settings().simple_limit);
        let id = st.ready.first().copied()?;
        let cancel = CancelToken::new();
        st.touch(id, evs, |e| {
            e.running = Some(Running {
                cancel: cancel.clone(),
                stop: None,
            });
        });
        st.running += 1;
        Some((id, cancel))
    }

    /// A worker thread: runs a transfer, records how it ended, and goes on
    /// with the next ready one while a slot is free for it (a thread per
    /// slot rather than per transfer); the scheduler starts one when a
    /// slot has none.
    pub(super) fn work(self: Arc<Self>, id: TransferId, cancel: CancelToken) {
        QUEUE_THREAD.with(|q| q.set(self.key()));
        let mut next = Some((id, cancel));
        while let Some((id, cancel)) = next {
            next = self.work_one(id, cancel);
        }
    }

    /// Runs one transfer and records its end: the next one this thread
    /// runs, if any.
    fn work_one(
        self: &Arc<Self>,
        id: TransferId,
        cancel: CancelToken,
    ) -> Option<(TransferId, CancelToken)> {
        let rec = lock(&self.state).entries.get(&id).map(|e| {
            let mut rec = e.rec.clone();
            if e.ahead.is_some() {
                // Written ahead: no request of it has gone yet, there is
                // nothing to look for at the destination.
                rec.phase = Phase::Fresh;
            }
            rec
        });
        let outcome = match rec {
            Some(rec) => run::perform(self, rec, &cancel),
            None => run::Outcome::Stopped,
        };
        // An upload session the transfer leaves for good is deleted before
        // the end is told (no lock held over the request).
        let session = match &outcome {
            run::Outcome::Failed(_) | run::Outcome::Stopped => {
                let st = lock(&self.state);
                st.entries
                    .get(&id)
                    .filter(|e| {
                        matches!(outcome, run::Outcome::Failed(_))
                            || e.running.as_ref().and_then(|r| r.stop) == Some(Stop::Cancel)
                    })
                    .map(|e| e.rec.phase.clone())
            }
            _ => None,
        };
        let mut discarded = false;
        if let Some(Phase::Session(s)) = session {
            run::discard_session(&self.client, &s);
            discarded = true;
        }
        self.finish(id, outcome, discarded)
    }

    /// Records how a transfer ended, and takes the next one for this
    /// thread when a slot is free.
    fn finish(
        self: &Arc<Self>,
        id: TransferId,
        outcome: run::Outcome,
        discarded: bool,
    ) -> Option<(TransferId, CancelToken)> {
        let mut evs = Vec::new();
        let mut discard = None;
        let mut sync_all = None;
        let (next, wake, idle);
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
                e.ahead = None;
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
            if status == Status::Completed {
                // Written with the next record (one write for many) and
                // made durable by the fsync that one needs (the `Sending`
                // records written ahead need one every few dozen
                // transfers), or by the one below when no transfer is left
                // to start or run. Best effort: a completion lost (a kill
                // before that write, a failed write, a power cut before
                // the fsync) leaves the transfer's last phase, so the next
                // open finds its result at the destination and sends
                // nothing.
                let _ = st.write_later(id);
            } else if matches!(status, Status::Failed | Status::Cancelled | Status::Paused) {
                // On disk before it is told: these cannot be found again at
                // the destination.
                let _ = st.persist(id);
            }
            if st.running == 0 || st.ready.is_empty() {
                sync_all = st.store().ok().map(|s| (s.ticket(), s.syncer()));
            }
            if !discarded && matches!(status, Status::Failed | Status::Cancelled) {
                // An abandoned upload session is deleted on the service.
                if let Some(Phase::Session(s)) = st.entries.get(&id).map(|e| e.rec.phase.clone()) {
                    discard = Some(s);
                }
            }
            next = self.take_next(&mut st, &mut evs);
            // The scheduler has work only when a slot is left free or a
            // retry must be timed; `wait_idle` waits for nothing but the
            // last unfinished transfer (waking them for every transfer
            // cost more context switches than the uploads' own).
            wake = next.is_none() || wait.is_some();
            idle = st.unfinished == 0;
            self.emit(evs);
        }
        if wake {
            self.wake.notify_all();
        }
        if idle {
            self.idle.notify_all();
        }
        if let Some((ticket, syncer)) = sync_all {
            // Every record written so far, before this worker ends (so
            // `close`, which joins it, returns with the completions on
            // disk).
            let _ = syncer.sync_to(ticket);
        }
        if let Some(s) = discard {
            run::discard_session(&self.client, &s);
        }
        next
    }

    /// The wait before retry `n` (1 = after the first error): doubling from
    /// `retry_base` up to `retry_max`, with jitter (a half to the whole),
    /// never shorter than the service's Retry-After.
    pub(super) fn backoff(&self, n: u32, retry_after: Option<Duration>) -> Duration {
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

    /// Records a new phase before the step it allows is taken: it is on
    /// disk when this returns `Ok`. The fsync is waited for without the
    /// state lock and shared with the records other workers wait for.
    /// On a failed fsync the record may or may not be on disk: either is
    /// safe, as the step was not taken (the caller fails the transfer).
    pub(crate) fn set_phase(&self, id: TransferId, phase: Phase) -> Result<()> {
        let (ticket, syncer) = {
            let mut st = lock(&self.state);
            let Some(e) = st.entries.get_mut(&id) else {
                return Err(not_found(id));
            };
            if e.rec.phase == phase {
                // Written ahead by the scheduler: on disk once its fsync
                // (most often shared, and done already) has returned.
                let Some(ticket) = e.ahead.take() else {
                    return Ok(());
                };
                let syncer = st.store()?.syncer();
                drop(st);
                return syncer.sync_to(ticket);
            }
            e.ahead = None;
            let old = std::mem::replace(&mut e.rec.phase, phase);
            match st.write_record(id) {
                Ok(Some(written)) => written,
                Ok(None) => return Err(not_found(id)),
                Err(err) => {
                    if let Some(e) = st.entries.get_mut(&id) {
                        e.rec.phase = old;
                    }
                    return Err(err);
                }
            }
        };
        syncer.sync_to(ticket)
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
