//! The cap on a client's upload rate (bytes per second, all its uploads
//! together): each piece of a request body waits for its turn, so that over
//! any stretch of time the bytes sent stay at the cap.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

pub(crate) struct Throttle {
    /// Bytes per second; 0 = no cap.
    rate: AtomicU64,
    /// When the bytes already let through have had their time.
    next: Mutex<Option<Instant>>,
}

impl Throttle {
    pub(crate) fn new() -> Throttle {
        Throttle {
            rate: AtomicU64::new(0),
            next: Mutex::new(None),
        }
    }

    pub(crate) fn set(&self, bytes_per_second: u64) {
        self.rate.store(bytes_per_second, Ordering::Relaxed);
        *self.next.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    pub(crate) fn rate(&self) -> u64 {
        self.rate.load(Ordering::Relaxed)
    }

    /// The largest piece to send at once: a tenth of a second's worth, so
    /// the rate is even, but not below 1 KiB nor above `max`.
    pub(crate) fn step(&self, max: usize) -> usize {
        match self.rate() {
            0 => max,
            r => usize::try_from(r / 10)
                .unwrap_or(max)
                .clamp(1024, max.max(1024))
                .min(max),
        }
    }

    /// Books `n` bytes and returns when they may go (`None`: now).
    pub(crate) fn reserve(&self, n: u64, now: Instant) -> Option<Instant> {
        let rate = self.rate();
        if rate == 0 || n == 0 {
            return None;
        }
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        // An idle spell earns no credit: the turn starts now at the earliest.
        let start = next.map_or(now, |t| t.max(now));
        *next = Some(start + Duration::from_secs_f64(n as f64 / rate as f64));
        (start > now).then_some(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_wait_their_turn_at_the_rate() {
        let t = Throttle::new();
        let now = Instant::now();
        assert_eq!(t.reserve(1000, now), None, "no cap");
        t.set(1000);
        assert_eq!(t.reserve(500, now), None, "the first piece goes at once");
        assert_eq!(t.reserve(500, now), Some(now + Duration::from_millis(500)));
        assert_eq!(t.reserve(1000, now), Some(now + Duration::from_secs(1)));
        // 2 s of bytes booked: a piece booked after a pause starts at once
        let later = now + Duration::from_secs(5);
        assert_eq!(t.reserve(100, later), None);
        assert_eq!(t.step(64 * 1024), 1024);
        t.set(10 << 20);
        assert_eq!(t.step(64 * 1024), 64 * 1024);
        t.set(0);
        assert_eq!(t.step(64 * 1024), 64 * 1024);
    }
}
