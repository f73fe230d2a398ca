//! Cancellation from another thread, and progress reporting that can abort.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::error::{Error, Result};

/// A flag one thread raises to stop a blocking call on another. Cheap to
/// clone (the clones share the flag). A sleeping call wakes at once.
#[derive(Clone, Default, Debug)]
pub struct CancelToken {
    inner: Arc<(Mutex<bool>, Condvar)>,
}

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Raises the flag and wakes every call sleeping on it.
    pub fn cancel(&self) {
        let (flag, cv) = &*self.inner;
        *flag.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cv.notify_all();
    }

    /// Lowers the flag so the token can serve another call.
    pub fn reset(&self) {
        *self.inner.0.lock().unwrap_or_else(PoisonError::into_inner) = false;
    }

    pub fn is_cancelled(&self) -> bool {
        *self.inner.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sleeps for `d`, or less if the flag is raised: `Err(Cancelled)` then.
    pub fn sleep(&self, d: Duration) -> Result<()> {
        let (flag, cv) = &*self.inner;
        let deadline = Instant::now() + d;
        let mut raised = flag.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if *raised {
                return Err(Error::cancelled());
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(());
            }
            raised = cv
                .wait_timeout(raised, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// A progress callback: `(done, total) -> keep going?`.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64) -> bool;

/// What a blocking call is given to be stopped or watched: an optional
/// cancel token and an optional progress callback.
#[derive(Default)]
pub struct Control<'a> {
    pub cancel: Option<&'a CancelToken>,
    pub progress: Option<Progress<'a>>,
    /// The last `(done, total)` reported, said again while a call waits.
    last: Option<(u64, u64)>,
}

/// How often a waiting call reports its last progress again, so that the
/// callback can stop a wait (a Retry-After, a backoff, a job's poll
/// interval): how a binding that sees its host's interrupt only inside a
/// callback (Python's Ctrl-C) stops a call that waits.
pub const PROGRESS_HEARTBEAT: Duration = Duration::from_millis(250);

impl<'a> Control<'a> {
    pub fn none() -> Control<'static> {
        Control::default()
    }

    pub fn new(cancel: Option<&'a CancelToken>, progress: Option<Progress<'a>>) -> Control<'a> {
        Control {
            cancel,
            progress,
            last: None,
        }
    }

    /// `Err(Cancelled)` once the token is raised.
    pub fn check(&self) -> Result<()> {
        match self.cancel {
            Some(c) if c.is_cancelled() => Err(Error::cancelled()),
            _ => Ok(()),
        }
    }

    /// Reports progress; `Err(AbortedByCallback)` when the callback says stop,
    /// `Err(Cancelled)` when the token is raised.
    pub fn report(&mut self, done: u64, total: u64) -> Result<()> {
        self.check()?;
        self.last = Some((done, total));
        if let Some(p) = self.progress.as_mut()
            && !p(done, total)
        {
            return Err(Error::aborted());
        }
        Ok(())
    }

    /// Sleeps, waking early (with `Err(Cancelled)`) if cancelled. With a
    /// progress callback that has reported before, the last report is made
    /// again every [`PROGRESS_HEARTBEAT`] of the wait, and the callback
    /// may stop it (`Err(AbortedByCallback)`).
    pub fn sleep(&mut self, d: Duration) -> Result<()> {
        let Some((done, total)) = self.last.filter(|_| self.progress.is_some()) else {
            return self.sleep_quietly(d);
        };
        let end = Instant::now() + d;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            self.sleep_quietly(left.min(PROGRESS_HEARTBEAT))?;
            if Instant::now() < end {
                self.report(done, total)?;
            }
        }
    }

    fn sleep_quietly(&self, d: Duration) -> Result<()> {
        match self.cancel {
            Some(c) => c.sleep(d),
            None => {
                std::thread::sleep(d);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::error::ErrorKind;

    #[test]
    fn cancel_wakes_a_sleeper() {
        let t = CancelToken::new();
        let t2 = t.clone();
        let h = std::thread::spawn(move || t2.sleep(Duration::from_secs(600)));
        t.cancel();
        assert_eq!(h.join().unwrap().unwrap_err().kind, ErrorKind::Cancelled);
        t.reset();
        assert!(!t.is_cancelled());
        t.sleep(Duration::from_millis(1)).unwrap();
    }

    /// A wait reports the last progress again, and the callback can end it.
    #[test]
    fn a_wait_repeats_the_last_report_and_can_be_stopped() {
        let mut calls = Vec::new();
        let mut cb = |d: u64, t: u64| {
            calls.push((d, t));
            calls.len() < 3
        };
        {
            let mut ctl = Control::new(None, Some(&mut cb));
            // no report yet: nothing to repeat
            ctl.sleep(Duration::from_millis(1)).unwrap();
            ctl.report(5, 10).unwrap();
            let e = ctl.sleep(Duration::from_secs(600)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::AbortedByCallback);
        }
        assert_eq!(calls, [(5, 10), (5, 10), (5, 10)]);
    }

    #[test]
    fn progress_can_abort() {
        let mut seen = Vec::new();
        let mut cb = |d: u64, t: u64| {
            seen.push((d, t));
            d < 5
        };
        let mut c = Control::new(None, Some(&mut cb));
        c.report(1, 10).unwrap();
        assert_eq!(
            c.report(5, 10).unwrap_err().kind,
            ErrorKind::AbortedByCallback
        );
        assert_eq!(seen, vec![(1, 10), (5, 10)]);
    }
}
