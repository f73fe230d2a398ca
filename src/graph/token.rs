//! The token callback a client holds, and the rules for replacing it while
//! it may be running on other threads.
//!
//! Once [`TokenSlot::set`] returns, the callback it replaced is not running
//! anywhere and will never be started again, so its owner may free what it
//! uses. The one exception: a `set` made from inside a token callback (on
//! that callback's thread) does not wait (it would wait for itself); the
//! replaced callback may then still be running on other threads until they
//! return. No lock is held while a callback runs.

use std::cell::Cell;
use std::sync::{Condvar, Mutex, PoisonError};

use super::settings::TokenProvider;

thread_local! {
    /// Whether this thread is inside a token callback right now.
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

#[derive(Default)]
struct Slot {
    provider: Option<TokenProvider>,
    /// Bumped by every `set`: which callback a running call belongs to.
    generation: u64,
    /// Calls of the current callback running now.
    running: u32,
    /// Calls of replaced callbacks still running.
    running_old: u32,
}

pub(crate) struct TokenSlot {
    slot: Mutex<Slot>,
    ended: Condvar,
}

impl TokenSlot {
    pub(crate) fn new(provider: Option<TokenProvider>) -> TokenSlot {
        TokenSlot {
            slot: Mutex::new(Slot {
                provider,
                ..Slot::default()
            }),
            ended: Condvar::new(),
        }
    }

    /// Replaces the callback, then waits until no replaced one runs (unless
    /// called from inside a callback: see the module doc).
    pub(crate) fn set(&self, provider: Option<TokenProvider>) {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        slot.provider = provider;
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

    /// Asks the callback for a token (`None`: no callback, or it gave none).
    pub(crate) fn call(&self) -> Option<String> {
        let (provider, generation) = {
            let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
            let provider = slot.provider.clone()?;
            slot.running += 1;
            (provider, slot.generation)
        };
        /// Counts the call as ended however it ends (a panic included).
        struct Running<'a>(&'a TokenSlot, u64, bool);
        impl Drop for Running<'_> {
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
        provider()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::mpsc::channel;

    #[test]
    fn a_replaced_callback_has_ended_when_set_returns() {
        let slot = Arc::new(TokenSlot::new(None));
        let (entered_tx, entered) = channel();
        let (release, release_rx) = channel::<()>();
        let release_rx = Mutex::new(release_rx);
        let ended = Arc::new(Mutex::new(false));
        let e = ended.clone();
        slot.set(Some(Arc::new(move || {
            entered_tx.send(()).unwrap();
            release_rx.lock().unwrap().recv().unwrap();
            *e.lock().unwrap() = true;
            Some("old".into())
        })));
        let s = slot.clone();
        let caller = std::thread::spawn(move || s.call());
        entered.recv().unwrap(); // the old callback is running
        let s = slot.clone();
        let setter = std::thread::spawn(move || {
            s.set(Some(Arc::new(|| Some("new".into()))));
        });
        // the setter cannot return before the old callback ends: let it end
        release.send(()).unwrap();
        setter.join().unwrap();
        assert!(
            *ended.lock().unwrap(),
            "set returned while the old callback ran"
        );
        assert_eq!(caller.join().unwrap().as_deref(), Some("old"));
        assert_eq!(slot.call().as_deref(), Some("new"));
    }

    #[test]
    fn set_from_inside_a_callback_does_not_deadlock() {
        let slot = Arc::new(TokenSlot::new(None));
        let s = slot.clone();
        slot.set(Some(Arc::new(move || {
            s.set(Some(Arc::new(|| Some("second".into()))));
            Some("first".into())
        })));
        assert_eq!(slot.call().as_deref(), Some("first"));
        assert_eq!(slot.call().as_deref(), Some("second"));
        slot.set(None);
        assert_eq!(slot.call(), None);
    }
}
