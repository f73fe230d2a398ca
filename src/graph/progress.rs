//! A request body as ureq reads it: produced while it is sent, paced under
//! the rate cap, reported as progress, stopped by a cancel, the progress
//! callback or the request's deadline. [`Meter`] (pace and report) serves
//! any transfer that moves bytes piece by piece.

use std::cell::{RefCell, RefMut};
use std::io::Read;
use std::time::Instant;

use super::control::Control;
use super::error::{Error, Result};
use super::failure::past_deadline;
use super::rate::Throttle;
use super::url::redact;

/// A request body that is produced while it is sent (an upload chunk read
/// from its source), and can start over for another attempt.
pub(crate) trait BodySource {
    fn len(&self) -> u64;
    /// Back to the first byte (an error when the source cannot go back).
    fn rewind(&mut self) -> Result<()>;
    fn read(&mut self, buf: &mut [u8]) -> Result<usize>;
}

/// What a request sends.
#[derive(Clone, Copy)]
pub(crate) enum Body<'a> {
    Bytes(&'a [u8]),
    Stream(&'a RefCell<dyn BodySource + 'a>),
}

impl Body<'_> {
    pub(crate) fn len(&self) -> u64 {
        match self {
            Body::Bytes(b) => b.len() as u64,
            Body::Stream(s) => s.borrow().len(),
        }
    }
}

/// Paces a transfer under the rate cap and reports its progress through
/// the caller's [`Control`], piece by piece.
pub(crate) struct Meter<'a> {
    throttle: &'a Throttle,
    deadline: Instant,
    /// Reported as `(offset + done, total)`; `None`: not reported.
    progress: Option<(u64, u64)>,
    done: u64,
}

impl<'a> Meter<'a> {
    /// The largest piece moved at once, whatever the rate.
    const STEP: usize = 64 * 1024;

    pub(crate) fn new(
        throttle: &'a Throttle,
        deadline: Instant,
        progress: Option<(u64, u64)>,
    ) -> Meter<'a> {
        Meter {
            throttle,
            deadline,
            progress,
            done: 0,
        }
    }

    /// The size of the next piece, at most `max`.
    pub(crate) fn piece(&self, max: usize) -> usize {
        self.throttle.step(max.min(Self::STEP))
    }

    pub(crate) fn past_deadline(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// The deadline, moved on by every wait for the rate cap so far.
    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// `n` bytes moved: under a rate cap they wait for their turn (a cancel
    /// ends the wait), then progress is reported (`Err` when the callback
    /// says stop or the caller cancels). A wait for the cap moves the
    /// deadline on by as much: the cap is shared by all of a client's
    /// transfers, so the time a transfer spends held back by it depends on
    /// how many others run, and only the time it is not held back counts
    /// (stalls are still caught by the stall timeout).
    pub(crate) fn passed(&mut self, n: usize, ctl: &mut Control<'_>) -> Result<()> {
        if let Some(at) = self.throttle.reserve(n as u64, Instant::now()) {
            let wait = at.saturating_duration_since(Instant::now());
            self.deadline += wait;
            ctl.sleep(wait)?;
        }
        self.done += n as u64;
        if let (Some((offset, total)), true) = (self.progress, n > 0) {
            ctl.report(offset + self.done, total)?;
        }
        Ok(())
    }
}

/// Where the body's bytes come from while ureq reads it.
enum Cursor<'a> {
    Bytes(&'a [u8], usize),
    Stream(RefMut<'a, dyn BodySource + 'a>),
}

/// The body of a request, read by ureq, reporting progress on the way and
/// stopping the upload when the caller cancels or the callback says stop
/// (the reason is kept in `stopped`: ureq sees only an I/O error).
pub(crate) struct ProgressReader<'a, 'b, 'c, 'p> {
    body: Cursor<'b>,
    pub(crate) meter: Meter<'a>,
    pub(crate) ctl: &'c mut Control<'p>,
    pub(crate) stopped: Option<Error>,
    url: &'a str,
}

impl<'a, 'b, 'c, 'p> ProgressReader<'a, 'b, 'c, 'p> {
    /// Reads `body` from its first byte (a stream is rewound).
    pub(crate) fn new(
        body: Body<'b>,
        meter: Meter<'a>,
        ctl: &'c mut Control<'p>,
        url: &'a str,
    ) -> Result<ProgressReader<'a, 'b, 'c, 'p>> {
        let body = match body {
            Body::Bytes(data) => Cursor::Bytes(data, 0),
            Body::Stream(cell) => {
                let mut source = cell.borrow_mut();
                source.rewind()?;
                Cursor::Stream(source)
            }
        };
        Ok(ProgressReader {
            body,
            meter,
            ctl,
            stopped: None,
            url,
        })
    }

    fn next(&mut self, buf: &mut [u8]) -> Result<usize> {
        self.ctl.check()?;
        if self.meter.past_deadline() {
            return Err(past_deadline(format!(
                "sending to {} did not end in time",
                redact(self.url)
            )));
        }
        let step = self.meter.piece(buf.len());
        let n = match &mut self.body {
            Cursor::Bytes(data, pos) => {
                let n = step.min(data.len() - *pos);
                buf[..n].copy_from_slice(&data[*pos..*pos + n]);
                *pos += n;
                n
            }
            Cursor::Stream(source) => source.read(&mut buf[..step])?,
        };
        self.meter.passed(n, self.ctl)?;
        Ok(n)
    }
}

impl Read for ProgressReader<'_, '_, '_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.next(buf).map_err(|e| {
            let msg = e.message.clone();
            self.stopped = Some(e);
            std::io::Error::other(msg)
        })
    }
}
