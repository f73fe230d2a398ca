//! The bearer token a client holds: its value and expiry, the callback
//! that gives a fresh one, and the rules for refreshing and replacing.
//!
//! Refresh: shortly before the token expires ([`REFRESH_MARGIN`]) and once
//! after a 401. Concurrent requests that need a refresh share one call of
//! the callback: the first asks, the others wait for its answer.
//!
//! Replacing the callback follows the rule of every stored callback
//! (`graph::callback`).

use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use super::callback::CallbackSlot;
use super::control::Control;
use super::error::{Error, ErrorKind, Result};

/// Gives a fresh token (with its expiry when known), or `None`.
pub type TokenProvider = Arc<TokenFn>;
pub type TokenFn = dyn Fn() -> Option<AccessToken> + Send + Sync;

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

/// How often a thread waiting for another's token refresh looks at its
/// cancel flag.
pub(crate) const WAIT_TICK: Duration = Duration::from_millis(50);

/// The token, its callback, and the refresh they share.
pub(crate) struct Tokens {
    current: RwLock<Current>,
    pub(crate) callback: CallbackSlot<TokenFn>,
    /// Whether a refresh is running (the others wait for it).
    refreshing: Mutex<bool>,
    refreshed: Condvar,
}

impl Tokens {
    pub(crate) fn new(token: AccessToken, provider: Option<TokenProvider>) -> Tokens {
        Tokens {
            current: RwLock::new(Current { token, serial: 0 }),
            callback: CallbackSlot::new(provider),
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
    /// Waiting for another thread's refresh ends with the caller's cancel
    /// or after `patience` (see [`Tokens::refresh`]).
    pub(crate) fn for_request(
        &self,
        ctl: &Control<'_>,
        patience: Duration,
    ) -> Result<(String, u64)> {
        let (token, serial) = self.get();
        let expiring = token
            .expires_on
            .is_some_and(|at| SystemTime::now() + REFRESH_MARGIN >= at);
        if expiring && self.callback.is_set() && self.refresh(serial, ctl, patience)? {
            let (token, serial) = self.get();
            return Ok((token.token, serial));
        }
        Ok((token.token, serial))
    }

    /// Asks the callback for a token newer than the one numbered `seen`,
    /// unless another thread already got one; when one is being asked for,
    /// waits for it, but no longer than the caller's cancel (seen within
    /// [`WAIT_TICK`]) or `patience` allow: a token callback that hangs in
    /// one thread does not hang every other caller (`Cancelled`, `Timeout`).
    /// `Ok(true)` when there is a newer token.
    pub(crate) fn refresh(&self, seen: u64, ctl: &Control<'_>, patience: Duration) -> Result<bool> {
        let until = Instant::now() + patience;
        let mut running = self
            .refreshing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        loop {
            if self.get().1 != seen {
                return Ok(true);
            }
            if !*running {
                break;
            }
            ctl.check()?;
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "another request's token callback did not answer within {} s",
                        patience.as_secs()
                    ),
                ));
            }
            running = self
                .refreshed
                .wait_timeout(running, left.min(WAIT_TICK))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
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
        Ok(match self.callback.call(|provider| provider()).flatten() {
            Some(token) => {
                self.set(token);
                true
            }
            None => self.get().1 != seen,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    use crate::graph::control::CancelToken;

    const PATIENCE: Duration = Duration::from_secs(600);

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
        let first =
            std::thread::spawn(move || t.refresh(seen, &Control::none(), PATIENCE).unwrap());
        entered.recv().unwrap(); // one refresh is running
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let t = tokens.clone();
                std::thread::spawn(move || t.refresh(seen, &Control::none(), PATIENCE).unwrap())
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
        assert_eq!(
            tokens.for_request(&Control::none(), PATIENCE).unwrap().0,
            "old"
        );
        tokens.callback.set(Some(Arc::new(move || {
            Some(AccessToken::new("fresh", Some(later)))
        })));
        assert_eq!(
            tokens.for_request(&Control::none(), PATIENCE).unwrap().0,
            "fresh"
        );
        // an hour left: no refresh
        tokens.callback.set(Some(Arc::new(|| panic!("not due"))));
        assert_eq!(
            tokens.for_request(&Control::none(), PATIENCE).unwrap().0,
            "fresh"
        );
    }

    /// A callback that has no new token (None) gives `false`, so the
    /// request that was refused is not sent again with the same token; a
    /// token set meanwhile by another caller (`set`) still counts as newer.
    #[test]
    fn a_declined_refresh_is_no_newer_token() {
        let tokens = Tokens::new(AccessToken::new("t0", None), None);
        tokens.callback.set(Some(Arc::new(|| None)));
        let seen = tokens.get().1;
        assert!(!tokens.refresh(seen, &Control::none(), PATIENCE).unwrap());
        assert_eq!(tokens.get().0.token, "t0");
        tokens.set(AccessToken::new("t1", None));
        assert!(tokens.refresh(seen, &Control::none(), PATIENCE).unwrap());
    }

    /// A caller waiting for another thread's refresh ends at its cancel, and
    /// at its patience, while the callback still runs (issue 25.6).
    #[test]
    fn a_wait_for_another_refresh_ends_at_cancel_and_patience() {
        let (entered_tx, entered) = channel();
        let (release, release_rx) = channel::<()>();
        let release_rx = Mutex::new(release_rx);
        let tokens = Arc::new(Tokens::new(AccessToken::new("t0", None), None));
        tokens.callback.set(Some(Arc::new(move || {
            entered_tx.send(()).unwrap();
            release_rx.lock().unwrap().recv().unwrap();
            Some(AccessToken::new("t1", None))
        })));
        let seen = tokens.get().1;
        let t = tokens.clone();
        let first = std::thread::spawn(move || t.refresh(seen, &Control::none(), PATIENCE));
        entered.recv().unwrap(); // the callback runs and will not return
        // cancelled: ends while the callback still runs
        let cancel = CancelToken::new();
        cancel.cancel();
        let e = tokens
            .refresh(seen, &Control::new(Some(&cancel), None), PATIENCE)
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Cancelled);
        // no cancel: patience
        let e = tokens
            .refresh(seen, &Control::none(), Duration::from_millis(1))
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
        release.send(()).unwrap();
        assert!(first.join().unwrap().unwrap());
        assert_eq!(tokens.get().0.token, "t1");
    }
}
