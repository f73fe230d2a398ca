//! The connection under ureq, made to see the caller's cancel flag while it
//! waits for an answer.
//!
//! ureq is blocking and runs every read of a request on the calling thread,
//! and its own timeouts cannot see a cancel flag: a server that accepts and
//! never answers would hold a call for the whole stall timeout. So each
//! connection is wrapped: a wait for input is cut into short slices, and
//! between slices the flag of the call running on this thread is looked at
//! (set by [`with_cancel`] around each request). A raised flag ends the wait
//! within one slice.
//!
//! Built on ureq's `unversioned` transport API (pinned by Cargo.lock).

use std::cell::RefCell;
use std::fmt;
use std::time::{Duration, Instant};

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

use super::control::CancelToken;

/// How often a wait for input looks at the cancel flag.
const SLICE: Duration = Duration::from_millis(100);

/// The cancel flag of a request, and how long it may go on after the flag
/// was raised (a request whose answer must not be lost: see
/// `Request::grace_on_cancel`).
#[derive(Clone)]
struct Watch {
    token: CancelToken,
    grace: Duration,
    /// When this thread first saw the flag raised.
    seen: Option<Instant>,
}

thread_local! {
    /// The cancel flag of the request this thread is sending.
    static CANCEL: RefCell<Option<Watch>> = const { RefCell::new(None) };
}

/// Runs `f` (one request, on this thread) with `cancel` visible to the
/// connections it uses; a raised flag takes effect after `grace`.
pub(crate) fn with_cancel<T>(
    cancel: Option<&CancelToken>,
    grace: Duration,
    f: impl FnOnce() -> T,
) -> T {
    struct Restore(Option<Watch>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CANCEL.with(|c| *c.borrow_mut() = self.0.take());
        }
    }
    let watch = cancel.map(|token| Watch {
        token: token.clone(),
        grace,
        seen: None,
    });
    let _restore = Restore(CANCEL.with(|c| c.replace(watch)));
    f()
}

/// Whether the request this thread sends is to stop now.
pub(crate) fn cancelled() -> bool {
    CANCEL.with(|c| {
        let mut c = c.borrow_mut();
        let Some(w) = c.as_mut() else {
            return false;
        };
        if !w.token.is_cancelled() {
            return false;
        }
        let seen = *w.seen.get_or_insert_with(Instant::now);
        seen.elapsed() >= w.grace
    })
}

/// Wraps each connection the connector chain makes (graph/connect.rs).
#[derive(Debug)]
pub(crate) struct CancellableConnector;

impl<In: Transport> Connector<In> for CancellableConnector {
    type Out = Cancellable;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Cancellable>, ureq::Error> {
        Ok(chained.map(|inner| Cancellable {
            inner: inner.boxed(),
        }))
    }
}

pub(crate) struct Cancellable {
    inner: Box<dyn Transport>,
}

impl fmt::Debug for Cancellable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancellable").finish_non_exhaustive()
    }
}

/// The error a cancelled wait ends with; the caller's own check turns the
/// call's result into `Cancelled`.
fn cancelled_error() -> ureq::Error {
    ureq::Error::Io(std::io::Error::new(
        std::io::ErrorKind::Interrupted,
        "cancelled",
    ))
}

impl Transport for Cancellable {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        if cancelled() {
            return Err(cancelled_error());
        }
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        // The wait the caller allows, cut into slices; per-read limits as
        // the inner transport would apply them.
        let timeout = timeout.for_read();
        let started = Instant::now();
        loop {
            if cancelled() {
                return Err(cancelled_error());
            }
            let left = if timeout.after.is_not_happening() {
                SLICE
            } else {
                timeout.after.saturating_sub(started.elapsed())
            };
            let slice = NextTimeout {
                after: left.min(SLICE).max(Duration::from_millis(1)).into(),
                reason: timeout.reason,
                per_read: None,
                per_write: timeout.per_write,
            };
            match self.inner.await_input(slice) {
                Err(ureq::Error::Timeout(_)) if left > SLICE => continue,
                other => return other,
            }
        }
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

/// Resolves IP literals itself (no lookup, and no thread: ureq's resolver
/// runs a lookup with a timeout, such as a proxy's, on a thread of its
/// own, even for an address); names go to ureq's resolver.
#[derive(Debug, Default)]
pub(crate) struct LiteralsFirst(DefaultResolver);

impl Resolver for LiteralsFirst {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or_default();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let port = uri.port_u16().or_else(|| match uri.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            Some(s) if s.starts_with("socks") => Some(1080),
            _ => None,
        });
        if let (Ok(ip), Some(port)) = (host.parse::<std::net::IpAddr>(), port) {
            let mut addrs = self.empty();
            addrs.push(std::net::SocketAddr::new(ip, port));
            return Ok(addrs);
        }
        self.0.resolve(uri, config, timeout)
    }
}
