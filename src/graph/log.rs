//! What a client tells its log callback: one line per request, each retry
//! with its reason and wait, each upload-session recovery decision, each
//! look at a job. Lines never carry a token, a query string or an upload
//! URL's path (`url::for_log`). The HTTP library's own trace output is
//! never routed here (it prints whole URLs).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use super::callback::CallbackSlot;

/// How much a line matters; a callback set with a level gets that level
/// and the ones above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum LogLevel {
    /// A call failed.
    Error = 1,
    /// A request failed and will be retried, or a recovery began.
    Warn = 2,
    /// One line per request, and each upload-session decision.
    Info = 3,
    /// Every look at a job, and the waits between them.
    Debug = 4,
}

impl LogLevel {
    pub fn from_u8(n: u8) -> Option<LogLevel> {
        Some(match n {
            1 => LogLevel::Error,
            2 => LogLevel::Warn,
            3 => LogLevel::Info,
            4 => LogLevel::Debug,
            _ => return None,
        })
    }
}

/// Receives log lines (any thread; see `graph::callback` for replacement).
pub type LogSink = Arc<LogFn>;
pub type LogFn = dyn Fn(LogLevel, &str) + Send + Sync;

pub(crate) struct Log {
    /// The most verbose level wanted (0: none).
    max: AtomicU8,
    sink: CallbackSlot<LogFn>,
}

impl Log {
    pub(crate) fn new() -> Log {
        Log {
            max: AtomicU8::new(0),
            sink: CallbackSlot::new(None),
        }
    }

    /// Sets (or clears) the callback and the most verbose level it gets.
    /// Returns once the replaced callback has ended (see `graph::callback`).
    pub(crate) fn set(&self, max: LogLevel, sink: Option<LogSink>) {
        self.max.store(0, Ordering::Relaxed);
        let level = if sink.is_some() { max as u8 } else { 0 };
        self.sink.set(sink);
        self.max.store(level, Ordering::Relaxed);
    }

    pub(crate) fn enabled(&self, level: LogLevel) -> bool {
        level as u8 <= self.max.load(Ordering::Relaxed)
    }

    /// Writes the line `line()` makes, if `level` is wanted (the line is
    /// not even made otherwise).
    pub(crate) fn write(&self, level: LogLevel, line: impl FnOnce() -> String) {
        if self.enabled(level) {
            let line = line();
            self.sink.call(|sink| sink(level, &line));
        }
    }
}

/// A number with one decimal, rounded ("1.5", "-0.5"), for log lines and
/// error messages: seconds of a `Duration`, a job's percent. Written with
/// integers: formatting an `f64` anywhere links core's float printing
/// (Grisu and Dragon4, both precisions: about 14 KB of the library,
/// bench/SIZE_NOTES.md).
pub(crate) struct OneDecimal(i64);

impl OneDecimal {
    /// `d` in seconds.
    pub(crate) fn secs(d: Duration) -> OneDecimal {
        let tenths = d.as_millis().saturating_add(50) / 100;
        OneDecimal(i64::try_from(tenths).unwrap_or(i64::MAX))
    }

    /// `x` itself (NaN is 0; the infinities saturate).
    pub(crate) fn of(x: f64) -> OneDecimal {
        OneDecimal((x * 10.0).round() as i64)
    }
}

impl fmt::Display for OneDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let tenths = self.0.unsigned_abs();
        write!(f, "{sign}{}.{}", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_decimal_rounds_to_a_tenth_with_integers() {
        use super::OneDecimal;
        for (ms, text) in [
            (0, "0.0"),
            (49, "0.0"),
            (50, "0.1"),
            (1_549, "1.5"),
            (1_550, "1.6"),
            (59_999, "60.0"),
            (86_400_000, "86400.0"),
        ] {
            let got = OneDecimal::secs(Duration::from_millis(ms)).to_string();
            assert_eq!(got, text, "{ms} ms");
        }
        assert_eq!(
            OneDecimal::secs(Duration::MAX).to_string(),
            "922337203685477580.7"
        );
        for (x, text) in [
            (0.0, "0.0"),
            (42.25, "42.3"),
            (99.94, "99.9"),
            (100.0, "100.0"),
            (-0.04, "0.0"),
            (-2.5, "-2.5"),
            (f64::NAN, "0.0"),
        ] {
            assert_eq!(OneDecimal::of(x).to_string(), text, "{x}");
        }
    }

    use super::*;
    use std::sync::Mutex;

    #[test]
    fn levels_from_their_numbers() {
        let levels: Vec<_> = (0..=5).map(LogLevel::from_u8).collect();
        use LogLevel as L;
        assert_eq!(
            levels,
            [
                None,
                Some(L::Error),
                Some(L::Warn),
                Some(L::Info),
                Some(L::Debug),
                None
            ]
        );
    }

    #[test]
    fn lines_above_the_level_are_not_even_made() {
        let log = Log::new();
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        log.set(
            LogLevel::Info,
            Some(Arc::new(move |l, s: &str| {
                g.lock().unwrap().push((l, s.to_owned()))
            })),
        );
        log.write(LogLevel::Info, || "one".into());
        log.write(LogLevel::Debug, || panic!("not wanted"));
        log.write(LogLevel::Error, || "two".into());
        assert_eq!(
            *got.lock().unwrap(),
            vec![
                (LogLevel::Info, "one".into()),
                (LogLevel::Error, "two".into())
            ]
        );
        log.set(LogLevel::Debug, None);
        log.write(LogLevel::Error, || panic!("no callback"));
        assert_eq!(LogLevel::from_u8(4), Some(LogLevel::Debug));
        assert_eq!(LogLevel::from_u8(0), None);
        assert_eq!(LogLevel::from_u8(5), None);
    }
}
