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
}

impl<'a> Control<'a> {
    pub fn none() -> Control<'static> {
        Control {
            cancel: None,
            progress: None,
        }
    }

    pub fn new(cancel: Option<&'a CancelToken>, progress: Option<Progress<'a>>) -> Control<'a> {
        Control { cancel, progress }
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
        if let Some(p) = self.progress.as_mut()
            && !p(done, total)
        {
            return Err(Error::aborted());
        }
        Ok(())
    }

    /// Sleeps, waking early (with `Err(Cancelled)`) if cancelled.
    pub fn sleep(&self, d: Duration) -> Result<()> {
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
