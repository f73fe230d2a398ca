//! What an app calls on an open queue: enqueue, control, read, events.

use super::*;

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
