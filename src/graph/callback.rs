//! A callback a client stores (the token callback, the log callback) and
//! the rule for replacing it.
//!
//! Once [`CallbackSlot::set`] returns, the callback it replaced is not
//! running anywhere and will never be started again, so its owner may free
//! what it uses. The one exception: a `set` made from inside any stored
//! callback (on that callback's thread) does not wait (it could wait for
//! itself); the replaced callback may then still be running on other
//! threads until they return. No lock is held while a callback runs.

use std::cell::Cell;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

thread_local! {
    /// Whether this thread is inside a stored callback right now.
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

struct Slot<F: ?Sized> {
    callback: Option<Arc<F>>,
    /// Bumped by every `set`: which callback a running call belongs to.
    generation: u64,
    /// Calls of the current callback running now.
    running: u32,
    /// Calls of replaced callbacks still running.
    running_old: u32,
}

pub(crate) struct CallbackSlot<F: ?Sized> {
    slot: Mutex<Slot<F>>,
    ended: Condvar,
}

impl<F: ?Sized> CallbackSlot<F> {
    pub(crate) fn new(callback: Option<Arc<F>>) -> CallbackSlot<F> {
        CallbackSlot {
            slot: Mutex::new(Slot {
                callback,
                generation: 0,
                running: 0,
                running_old: 0,
            }),
            ended: Condvar::new(),
        }
    }

    /// Replaces the callback, then waits until no replaced one runs (unless
    /// called from inside a callback: see the module doc).
    pub(crate) fn set(&self, callback: Option<Arc<F>>) {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        slot.callback = callback;
        slot.generation += 1;
        slot.running_old += slot.running;
        slot.running = 0;
        if IN_CALLBACK.with(Cell::get) {
            return;
        }
        while slot.running_old > 0 {
            slot = self
                .ended
                .wait(slot)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    pub(crate) fn is_set(&self) -> bool {
        self.slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .callback
            .is_some()
    }

    /// Runs `f` with the callback (`None`: no callback is set).
    pub(crate) fn call<R>(&self, f: impl FnOnce(&F) -> R) -> Option<R> {
        let (callback, generation) = {
            let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
            let callback = slot.callback.clone()?;
            slot.running += 1;
            (callback, slot.generation)
        };
        /// Counts the call as ended however it ends (a panic included).
        struct Running<'a, F: ?Sized>(&'a CallbackSlot<F>, u64, bool);
        impl<F: ?Sized> Drop for Running<'_, F> {
            fn drop(&mut self) {
                IN_CALLBACK.with(|c| c.set(self.2));
                let mut slot = self.0.slot.lock().unwrap_or_else(PoisonError::into_inner);
                if slot.generation == self.1 {
                    slot.running -= 1;
                } else {
                    slot.running_old -= 1;
                }
                self.0.ended.notify_all();
            }
        }
        let _running = Running(self, generation, IN_CALLBACK.with(|c| c.replace(true)));
        Some(f(&callback))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    type Cb = dyn Fn() -> &'static str + Send + Sync;

    #[test]
    fn a_replaced_callback_has_ended_when_set_returns() {
        let slot: Arc<CallbackSlot<Cb>> = Arc::new(CallbackSlot::new(None));
        let (entered_tx, entered) = channel();
        let (release, release_rx) = channel::<()>();
        let release_rx = Mutex::new(release_rx);
        let ended = Arc::new(Mutex::new(false));
        let e = ended.clone();
        slot.set(Some(Arc::new(move || {
            entered_tx.send(()).unwrap();
            release_rx.lock().unwrap().recv().unwrap();
            *e.lock().unwrap() = true;
            "old"
        })));
        let s = slot.clone();
        let caller = std::thread::spawn(move || s.call(|f| f()));
        entered.recv().unwrap(); // the old callback is running
        let s = slot.clone();
        let setter = std::thread::spawn(move || s.set(Some(Arc::new(|| "new"))));
        // the setter cannot return before the old callback ends: let it end
        release.send(()).unwrap();
        setter.join().unwrap();
        assert!(
            *ended.lock().unwrap(),
            "set returned while the old callback ran"
        );
        assert_eq!(caller.join().unwrap(), Some("old"));
        assert_eq!(slot.call(|f| f()), Some("new"));
    }

    #[test]
    fn set_from_inside_a_callback_does_not_deadlock() {
        let slot: Arc<CallbackSlot<Cb>> = Arc::new(CallbackSlot::new(None));
        let s = slot.clone();
        slot.set(Some(Arc::new(move || {
            s.set(Some(Arc::new(|| "second")));
            "first"
        })));
        assert_eq!(slot.call(|f| f()), Some("first"));
        assert_eq!(slot.call(|f| f()), Some("second"));
        slot.set(None);
        assert_eq!(slot.call(|f| f()), None);
        assert!(!slot.is_set());
    }
}
