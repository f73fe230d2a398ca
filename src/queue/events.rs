//! Delivering events: the polling buffer and the dispatcher thread that
//! calls the event callback.

use super::*;

impl Shared {
    /// Hands events to the polling buffer and to the dispatcher thread,
    /// which calls the callback. Called with the state lock held, so that
    /// events are in the order of the changes; the callback itself never
    /// runs under a lock of the queue.
    pub(super) fn emit(&self, evs: Vec<Event>) {
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
    pub(super) fn dispatch(self: Arc<Self>) {
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
}
