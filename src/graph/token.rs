//! The bearer token a client holds: its value and expiry, the callback
//! that gives a fresh one, and the rules for refreshing and replacing.
//!
//! Refresh: shortly before the token expires ([`REFRESH_MARGIN`]) and once
//! after a 401. Concurrent requests that need a refresh share one call of
//! the callback: the first asks, the others wait for its answer.
//!
//! Replacing the callback: once [`TokenSlot::set`] returns, the callback it
//! replaced is not running anywhere and will never be started again, so its
//! owner may free what it uses. The one exception: a `set` made from inside
//! a token callback (on that callback's thread) does not wait (it would
//! wait for itself); the replaced callback may then still be running on
//! other threads until they return. No lock is held while a callback runs.

use std::cell::Cell;
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

/// Gives a fresh token (with its expiry when known), or `None`.
pub type TokenProvider = Arc<dyn Fn() -> Option<AccessToken> + Send + Sync>;

/// A token is refreshed when it expires within this (Microsoft identity
/// tokens live 60–90 minutes).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A bearer token and when it expires (if known).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccessToken {
    pub token: String,
    pub expires_on: Option<SystemTime>,
}

impl AccessToken {
    pub fn new(token: impl Into<String>, expires_on: Option<SystemTime>) -> AccessToken {
        AccessToken {
            token: token.into(),
            expires_on,
        }
    }
}

/// The token requests carry now, and a serial number that grows with
/// every change (what a refresh compares to know it is out of date).
#[derive(Default)]
struct Current {
    token: AccessToken,
    serial: u64,
}

/// The token, its callback, and the refresh they share.
pub(crate) struct Tokens {
    current: RwLock<Current>,
    pub(crate) callback: TokenSlot,
    /// Whether a refresh is running (the others wait for it).
    refreshing: Mutex<bool>,
    refreshed: Condvar,
}

impl Tokens {
    pub(crate) fn new(token: AccessToken, provider: Option<TokenProvider>) -> Tokens {
        Tokens {
            current: RwLock::new(Current { token, serial: 0 }),
            callback: TokenSlot::new(provider),
            refreshing: Mutex::new(false),
            refreshed: Condvar::new(),
        }
    }

    pub(crate) fn get(&self) -> (AccessToken, u64) {
        let c = self.current.read().unwrap_or_else(PoisonError::into_inner);
        (c.token.clone(), c.serial)
    }

    pub(crate) fn set(&self, token: AccessToken) {
        let mut c = self.current.write().unwrap_or_else(PoisonError::into_inner);
        c.token = token;
        c.serial += 1;
    }

    /// The token to send now: refreshed first (shared) when it expires
    /// within the margin and a callback can give a new one. Its serial.
    pub(crate) fn for_request(&self) -> (String, u64) {
        let (token, serial) = self.get();
        let expiring = token
            .expires_on
            .is_some_and(|at| SystemTime::now() + REFRESH_MARGIN >= at);
        if expiring && self.callback.is_set() && self.refresh(serial) {
            let (token, serial) = self.get();
            return (token.token, serial);
        }
        (token.token, serial)
    }

    /// Asks the callback for a token newer than the one numbered `seen`,
    /// unless another thread already got one; when one is being asked for,
    /// waits for it. `true` when there is a newer token.
    pub(crate) fn refresh(&self, seen: u64) -> bool {
        let mut running = self
            .refreshing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        loop {
            if self.get().1 != seen {
                return true;
            }
            if !*running {
                break;
            }
            running = self
                .refreshed
                .wait(running)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *running = true;
        drop(running);
        /// Ends the refresh however the callback ends (a panic included).
        struct Done<'a>(&'a Tokens);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                *self
                    .0
                    .refreshing
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = false;
                self.0.refreshed.notify_all();
            }
        }
        let _done = Done(self);
        match self.callback.call() {
            Some(token) => {
                self.set(token);
                true
            }
            None => self.get().1 != seen,
        }
    }
}

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

    pub(crate) fn is_set(&self) -> bool {
        self.slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .provider
            .is_some()
    }

    /// Asks the callback for a token (`None`: no callback, or it gave none).
    pub(crate) fn call(&self) -> Option<AccessToken> {
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
            Some(AccessToken::new("old", None))
        })));
        let s = slot.clone();
        let caller = std::thread::spawn(move || s.call());
        entered.recv().unwrap(); // the old callback is running
        let s = slot.clone();
        let setter = std::thread::spawn(move || {
            s.set(Some(Arc::new(|| Some(AccessToken::new("new", None)))));
        });
        // the setter cannot return before the old callback ends: let it end
        release.send(()).unwrap();
        setter.join().unwrap();
        assert!(
            *ended.lock().unwrap(),
            "set returned while the old callback ran"
        );
        assert_eq!(caller.join().unwrap().unwrap().token, "old");
        assert_eq!(slot.call().unwrap().token, "new");
    }

    #[test]
    fn set_from_inside_a_callback_does_not_deadlock() {
        let slot = Arc::new(TokenSlot::new(None));
        let s = slot.clone();
        slot.set(Some(Arc::new(move || {
            s.set(Some(Arc::new(|| Some(AccessToken::new("second", None)))));
            Some(AccessToken::new("first", None))
        })));
        assert_eq!(slot.call().unwrap().token, "first");
        assert_eq!(slot.call().unwrap().token, "second");
        slot.set(None);
        assert_eq!(slot.call(), None);
    }

    #[test]
    fn concurrent_refreshes_share_one_call() {
        let calls = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let (entered_tx, entered) = channel();
        let (release, release_rx) = channel::<()>();
        let release_rx = Mutex::new(release_rx);
        let n = calls.clone();
        let tokens = Arc::new(Tokens::new(AccessToken::new("t0", None), None));
        tokens.callback.set(Some(Arc::new(move || {
            n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            entered_tx.send(()).unwrap();
            release_rx.lock().unwrap().recv().unwrap();
            Some(AccessToken::new("t1", None))
        })));
        let seen = tokens.get().1;
        let t = tokens.clone();
        let first = std::thread::spawn(move || t.refresh(seen));
        entered.recv().unwrap(); // one refresh is running
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let t = tokens.clone();
                std::thread::spawn(move || t.refresh(seen))
            })
            .collect();
        release.send(()).unwrap();
        assert!(first.join().unwrap());
        for w in waiters {
            assert!(w.join().unwrap());
        }
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(tokens.get().0.token, "t1");
    }

    #[test]
    fn a_token_about_to_expire_is_refreshed_before_it_is_sent() {
        let soon = SystemTime::now() + Duration::from_secs(60);
        let later = SystemTime::now() + Duration::from_secs(3600);
        let tokens = Tokens::new(AccessToken::new("old", Some(soon)), None);
        // no callback: the old token goes
        assert_eq!(tokens.for_request().0, "old");
        tokens.callback.set(Some(Arc::new(move || {
            Some(AccessToken::new("fresh", Some(later)))
        })));
        assert_eq!(tokens.for_request().0, "fresh");
        // an hour left: no refresh
        tokens.callback.set(Some(Arc::new(|| panic!("not due"))));
        assert_eq!(tokens.for_request().0, "fresh");
    }
}
