//! Listeners, connections, the per-request pipeline (log, faults, dispatch) and shared state.

use crate::content::{FileContent, Reservation, RespBody, SessionBytes, Spool, SpoolDir};
use crate::faults::{self, Armed};
use crate::hash::Hasher;
use crate::jobs::Jobs;
use crate::store::Store;
use crate::util::{self, GraphError, Resp};
use crate::{FaultAction, LoggedRequest, Profile};
use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Bytes of an unread request body drained after answering, so the connection stays usable.
const DRAIN_CAP: u64 = 128 * 1024 * 1024;
/// The request log keeps at most this many entries (the oldest go first).
const LOG_CAP: usize = 100_000;
/// A logged path or query longer than this is cut (and ends in "...").
const LOG_FIELD_MAX: usize = 2048;
/// Read buffer of a connection: bounds a request head (a path of 30,000 levels fits).
const MAX_HEAD: usize = 256 * 1024;
/// A request body that sends nothing for this long is dropped.
const BODY_IDLE: Duration = Duration::from_secs(60);

/// A request body: hyper's, or an in-memory one (fuzzing).
pub(crate) type Body = http_body_util::combinators::BoxBody<Bytes, BoxError>;
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub(crate) fn boxed<B>(body: B) -> Body
where
    B: hyper::body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed()
}

fn clip(s: &str) -> String {
    if s.len() <= LOG_FIELD_MAX {
        return s.to_string();
    }
    let mut end = LOG_FIELD_MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    Api,
    Monitor,
}

/// An upload session. The map of sessions is locked only to find, add or remove one;
/// a fragment's checks, spool write and hashing happen under the session's own `state`.
pub(crate) struct UploadSession {
    pub target: crate::api::SessionTarget,
    pub expires: Mutex<SystemTime>,
    /// bytes received so far (kept by `state`'s holder, readable without waiting for it)
    pub received: AtomicU64,
    /// completed, cancelled or expired: takes no more fragments
    pub closed: AtomicBool,
    pub state: Mutex<SessionState>,
}

pub(crate) struct SessionState {
    pub file_size: Option<u64>,
    /// the bytes so far, on disk (made with the first fragment)
    pub spool: Option<Spool>,
    /// the hashes of the bytes so far
    pub hasher: Hasher,
    /// what the spool counts against `session_bytes_limit`
    pub held: Reservation,
}

impl UploadSession {
    pub fn new(
        target: crate::api::SessionTarget,
        file_size: Option<u64>,
        expires: SystemTime,
        pool: &Arc<SessionBytes>,
    ) -> UploadSession {
        UploadSession {
            target,
            expires: Mutex::new(expires),
            received: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            state: Mutex::new(SessionState {
                file_size,
                spool: None,
                hasher: Hasher::default(),
                held: Reservation::empty(pool),
            }),
        }
    }
}

type Sessions = HashMap<String, Arc<UploadSession>>;

pub(crate) struct Shared {
    pub token: String,
    pub admin_token: String,
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub session_bytes_limit: u64,
    /// bytes held by live sessions (their spool files), against `session_bytes_limit`
    pub session_bytes: Arc<SessionBytes>,
    /// where sessions spool their bytes
    pub spool: SpoolDir,
    /// `Config::data_dir`: content is staged in its `content/` before the store lock
    pub data_dir: Option<std::path::PathBuf>,
    /// the newest metadata snapshot written (its sequence number); held while writing one
    pub persisted: Mutex<u64>,
    /// read and discard request bodies, answer just enough (benchmarks)
    pub sink: bool,
    /// `Config::latency_ms`: waited before each API / monitor request is handled
    pub latency: Duration,
    /// true: upload from URL fetches nothing (fuzzing)
    pub offline: bool,
    pub profile: Profile,
    pub simple_upload_limit: u64,
    pub api_origin: String,
    pub monitor_origin: String,
    pub started: Instant,
    pub store: Mutex<Store>,
    pub log: Mutex<Vec<LoggedRequest>>,
    pub next_seq: Mutex<u64>,
    pub faults: Mutex<Vec<Armed>>,
    pub jobs: Jobs,
    /// `Config::job`, which a reset restores
    pub initial_job: crate::JobConfig,
    /// use `with_sessions`: it drops expired ones first
    pub sessions: Mutex<Sessions>,
    pub session_lifetime: Mutex<Duration>,
    pub statics: Mutex<HashMap<String, Bytes>>,
    /// download token -> (item id, issued)
    pub downloads: Mutex<HashMap<String, (String, Instant)>>,
    /// Both listeners do this TLS handshake first; None = plain HTTP.
    pub tls: Option<TlsAcceptor>,
    /// The CA a client must trust (`Emulator::ca_pem`).
    pub ca_pem: Option<String>,
    /// Upload from URL's https:// fetches (trusts `ca_pem` and `Config::fetch_trust_pem`).
    pub fetch_tls: TlsConnector,
    /// Called by a session's last fragment once its hashes are known, before the store
    /// is touched (tests: other requests must go through meanwhile).
    #[cfg(test)]
    pub fragment_hook: Mutex<Option<Arc<dyn Fn() + Send + Sync>>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The store, locked. Metadata changes are serialized while it is held; the file write
/// of `metadata.json` happens after it is released (see [`Shared::write_meta`]).
pub(crate) struct StoreGuard<'a> {
    shared: &'a Shared,
    guard: Option<MutexGuard<'a, Store>>,
}

impl std::ops::Deref for StoreGuard<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.guard.as_ref().expect("held until drop")
    }
}

impl std::ops::DerefMut for StoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.guard.as_mut().expect("held until drop")
    }
}

impl Drop for StoreGuard<'_> {
    fn drop(&mut self) {
        let job = self.guard.as_mut().and_then(|g| g.take_persist());
        drop(self.guard.take());
        if let Some(job) = job {
            self.shared.write_meta(job);
        }
    }
}

impl Shared {
    pub fn store(&self) -> StoreGuard<'_> {
        StoreGuard {
            shared: self,
            guard: Some(lock(&self.store)),
        }
    }

    /// Write a metadata snapshot unless a newer one is already on disk, then remove the
    /// content files it no longer names. Outside the store lock, one writer at a time.
    fn write_meta(&self, job: crate::store::PersistJob) {
        let Some(dir) = &self.data_dir else {
            return;
        };
        {
            let mut last = lock(&self.persisted);
            if job.seq > *last {
                let tmp = dir.join("metadata.json.tmp");
                let r = std::fs::write(&tmp, &job.meta)
                    .and_then(|_| std::fs::rename(&tmp, dir.join("metadata.json")));
                if let Err(e) = r {
                    eprintln!("onedrive-emulator: cannot write metadata.json: {e}");
                }
                *last = job.seq;
            }
        }
        for id in job.removed {
            let _ = std::fs::remove_file(dir.join("content").join(id));
        }
    }

    /// `fc`, copied into the data directory (if any) under a temporary name, ready for
    /// the store to rename: the write happens here, before the store lock.
    pub fn stage(&self, fc: &mut FileContent) -> Result<(), GraphError> {
        match &self.data_dir {
            Some(dir) => fc
                .stage(&dir.join("content"))
                .map_err(crate::store::storage_error),
            None => Ok(()),
        }
    }

    /// Hash `data` and stage it, all before the store lock.
    pub fn file_content(&self, data: Bytes) -> Result<FileContent, GraphError> {
        let mut fc = FileContent::hash(data);
        self.stage(&mut fc)?;
        Ok(fc)
    }

    pub fn base_url(&self) -> String {
        format!("{}/v1.0", self.api_origin)
    }

    /// The answer when upload sessions would hold more than the emulator keeps.
    pub fn session_quota_error(&self) -> GraphError {
        GraphError::new(
            507,
            "quotaLimitReached",
            format!(
                "Insufficient storage: the emulator keeps at most {} bytes of upload sessions at once.",
                self.session_bytes_limit
            ),
        )
    }

    /// `f` over the live sessions (expired ones are dropped first). The map is locked
    /// only for `f`; sessions that go away are released (their spool files removed)
    /// after the lock.
    pub fn with_sessions<R>(&self, f: impl FnOnce(&mut Sessions) -> R) -> R {
        let mut expired = Vec::new();
        let r = {
            let mut g = lock(&self.sessions);
            let now = SystemTime::now();
            let gone: Vec<String> = g
                .iter()
                .filter(|(_, s)| *lock(&s.expires) <= now)
                .map(|(k, _)| k.clone())
                .collect();
            for k in gone {
                if let Some(s) = g.remove(&k) {
                    s.closed.store(true, Ordering::SeqCst);
                    expired.push(s);
                }
            }
            f(&mut g)
        };
        drop(expired);
        r
    }

    pub fn session(&self, token: &str) -> Option<Arc<UploadSession>> {
        self.with_sessions(|m| m.get(token).cloned())
    }

    /// Take a session out (completed or cancelled): it takes no more fragments.
    pub fn remove_session(&self, token: &str) -> Option<Arc<UploadSession>> {
        let s = self.with_sessions(|m| m.remove(token))?;
        s.closed.store(true, Ordering::SeqCst);
        Some(s)
    }
}

/// Why a request did not get a normal answer.
pub(crate) enum Fail {
    Graph(GraphError),
    /// the client went away (or a fault): close without answering
    Drop,
}

impl From<GraphError> for Fail {
    fn from(e: GraphError) -> Self {
        Fail::Graph(e)
    }
}

pub(crate) type HResult = Result<Resp, Fail>;

/// Per-request context handed to the route handlers.
pub(crate) struct Ctx {
    pub shared: Arc<Shared>,
    pub method: Method,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Option<Body>,
    pub body_bytes: u64,
    pub request_id: String,
}

impl Ctx {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn query_param(&self, name: &str) -> Option<String> {
        util::parse_query(&self.query)
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Read the whole body; more than `max` bytes gives 413 (the rest is drained, up to a cap).
    pub async fn read_body(&mut self, max: u64) -> Result<Vec<u8>, Fail> {
        let Some(mut body) = self.body.take() else {
            return Ok(Vec::new());
        };
        let mut buf = Vec::new();
        let mut too_large = false;
        while let Some(frame) = next_frame(&mut body).await? {
            let frame = frame.map_err(|_| Fail::Drop)?;
            if let Ok(data) = frame.into_data() {
                self.body_bytes += data.len() as u64;
                if too_large || self.body_bytes > max {
                    too_large = true;
                    buf = Vec::new();
                    if self.body_bytes > max.saturating_add(DRAIN_CAP) {
                        break;
                    }
                    continue;
                }
                buf.extend_from_slice(&data);
            }
        }
        if too_large {
            return Err(GraphError::new(
                413,
                "BadRequest",
                format!("Maximum request length exceeded: the body is larger than {max} bytes."),
            )
            .into());
        }
        Ok(buf)
    }

    /// Read the whole body, keep none of it (sink mode): its length.
    pub async fn discard_body(&mut self) -> Result<u64, Fail> {
        let mut n = 0u64;
        if let Some(mut body) = self.body.take() {
            while let Some(frame) = next_frame(&mut body).await? {
                if let Ok(data) = frame.map_err(|_| Fail::Drop)?.into_data() {
                    n += data.len() as u64;
                }
            }
        }
        self.body_bytes += n;
        Ok(n)
    }

    /// Read and discard what is left of the body.
    pub async fn drain(&mut self) -> Result<(), Fail> {
        if let Some(mut body) = self.body.take() {
            while let Some(frame) = next_frame(&mut body).await? {
                let frame = frame.map_err(|_| Fail::Drop)?;
                if let Ok(data) = frame.into_data() {
                    self.body_bytes += data.len() as u64;
                    if self.body_bytes > DRAIN_CAP {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Read at most `k` bytes of the body (a dropped-request fault).
    async fn read_upto(&mut self, k: u64) {
        if let Some(mut body) = self.body.take() {
            while self.body_bytes < k {
                match next_frame(&mut body).await {
                    Ok(Some(Ok(frame))) => {
                        if let Ok(data) = frame.into_data() {
                            self.body_bytes += data.len() as u64;
                        }
                    }
                    _ => break,
                }
            }
            self.body_bytes = self.body_bytes.min(k);
        }
    }

    pub fn error(&self, e: &GraphError) -> Resp {
        e.response(&self.request_id, self.header("client-request-id"))
    }
}

/// The next frame of a body, or Drop when the client sends nothing for BODY_IDLE.
async fn next_frame(
    body: &mut Body,
) -> Result<Option<Result<hyper::body::Frame<Bytes>, BoxError>>, Fail> {
    tokio::time::timeout(BODY_IDLE, body.frame())
        .await
        .map_err(|_| Fail::Drop)
}

/// A response cut short by a fault: the first `limit` bytes of `head` then `body`.
struct CutResponse {
    head: Vec<u8>,
    body: RespBody,
    limit: u64,
}

impl CutResponse {
    /// Write it to `s`, the body streamed (a cut download is never held whole).
    async fn write(self, s: &mut (impl AsyncWrite + Unpin)) -> io::Result<()> {
        let mut left = self.limit;
        let head = &self.head[..self
            .head
            .len()
            .min(usize::try_from(left).unwrap_or(usize::MAX))];
        s.write_all(head).await?;
        left -= head.len() as u64;
        let mut body = self.body;
        while left > 0 {
            let Some(Ok(frame)) = body.frame().await else {
                break;
            };
            if let Ok(data) = frame.into_data() {
                let n = data.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                s.write_all(&data[..n]).await?;
                left -= n as u64;
            }
        }
        Ok(())
    }
}

/// Per-connection switch: once dead, the connection neither reads nor writes; `cut`
/// is written by hand (a cut response) before the socket closes.
struct ConnCtl {
    dead: AtomicBool,
    cut: Mutex<Option<CutResponse>>,
    /// requests being handled on this connection (0 = idle, waiting for a request)
    busy: AtomicUsize,
    /// since when the connection has been idle
    idle_since: Mutex<Instant>,
    /// told to close (a newer connection needs its slot)
    evict: tokio::sync::Notify,
}

impl Default for ConnCtl {
    fn default() -> Self {
        ConnCtl {
            dead: AtomicBool::new(false),
            cut: Mutex::new(None),
            busy: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            evict: tokio::sync::Notify::new(),
        }
    }
}

/// The open connections of one listener.
type Registry = Arc<Mutex<HashMap<u64, Arc<ConnCtl>>>>;

/// Makes room for one more connection: true if there is room, possibly after telling the
/// longest-idle connection (no request in flight, e.g. one that trickles its headers or
/// merely sits open) to close. False when every slot is busy with a request.
fn make_room(registry: &Registry, max: usize) -> bool {
    let mut conns = lock(registry);
    if conns.len() < max {
        return true;
    }
    let oldest = conns
        .iter()
        .filter(|(_, c)| c.busy.load(Ordering::SeqCst) == 0)
        .min_by_key(|(_, c)| *lock(&c.idle_since))
        .map(|(id, _)| *id);
    match oldest.and_then(|id| conns.remove(&id)) {
        Some(victim) => {
            victim.evict.notify_one();
            true
        }
        None => false,
    }
}

/// Answer 503 and close (after the TLS handshake, if any): every slot is busy with a
/// request. All of it within 2 s.
async fn refuse(stream: TcpStream, tls: Option<TlsAcceptor>) {
    async fn answer(mut stream: impl AsyncWrite + Unpin) -> io::Result<()> {
        let body = br#"{"error":{"code":"serviceNotAvailable","message":"Too many connections."}}"#;
        let head = format!(
            "HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        stream.shutdown().await
    }
    let refuse = async move {
        match tls {
            None => answer(stream).await,
            Some(acceptor) => answer(acceptor.accept(stream).await?).await,
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), refuse).await;
}

/// What a connection speaks HTTP over: the TCP socket, or TLS over it.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// The TCP socket underneath (a cut response ends with its FIN, no TLS close_notify).
    fn tcp(&mut self) -> &mut TcpStream;
}

impl Stream for TcpStream {
    fn tcp(&mut self) -> &mut TcpStream {
        self
    }
}

impl Stream for tokio_rustls::server::TlsStream<TcpStream> {
    fn tcp(&mut self) -> &mut TcpStream {
        self.get_mut().0
    }
}

/// The stream hyper reads and writes, switched off once the connection is dead. When
/// hyper drops it, the stream goes back to `back` (a cut response is written there).
struct FaultIo<S: Stream> {
    inner: Option<S>,
    ctl: Arc<ConnCtl>,
    back: Arc<Mutex<Option<S>>>,
}

impl<S: Stream> FaultIo<S> {
    /// The stream, unless the connection is dead.
    fn live(&mut self) -> io::Result<Pin<&mut S>> {
        if self.ctl.dead.load(Ordering::SeqCst) {
            return Err(aborted());
        }
        self.inner.as_mut().map(Pin::new).ok_or_else(aborted)
    }
}

impl<S: Stream> Drop for FaultIo<S> {
    fn drop(&mut self) {
        if let Some(s) = self.inner.take() {
            *lock(&self.back) = Some(s);
        }
    }
}

fn aborted() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection dropped by a fault",
    )
}

impl<S: Stream> AsyncRead for FaultIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut().live() {
            Ok(s) => s.poll_read(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl<S: Stream> AsyncWrite for FaultIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().live() {
            Ok(s) => s.poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().live() {
            Ok(s) => s.poll_write_vectored(cx, bufs),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.as_ref().is_some_and(|s| s.is_write_vectored())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().inner.as_mut() {
            Some(s) => Pin::new(s).poll_flush(cx),
            None => Poll::Ready(Err(aborted())),
        }
    }

    /// A dead connection is not shut down here: a cut response may still be written.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().live() {
            Ok(s) => s.poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped")
    }
}

impl std::error::Error for Dropped {}

/// Accept connections until `shutdown` flips.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    origin: Origin,
    mut shutdown: watch::Receiver<bool>,
) {
    let registry: Registry = Arc::default();
    let mut next_id = 0u64;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                if !make_room(&registry, shared.max_connections) {
                    tokio::spawn(refuse(stream, shared.tls.clone()));
                    continue;
                }
                next_id += 1;
                let ctl = Arc::new(ConnCtl::default());
                lock(&registry).insert(next_id, ctl.clone());
                let shared = shared.clone();
                let registry = registry.clone();
                let id = next_id;
                tokio::spawn(async move {
                    connection(stream, shared, origin, ctl).await;
                    lock(&registry).remove(&id);
                });
            }
            _ = shutdown.changed() => break,
        }
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>, origin: Origin, ctl: Arc<ConnCtl>) {
    let _ = stream.set_nodelay(true);
    let Some(acceptor) = shared.tls.clone() else {
        return serve_http(stream, shared, origin, ctl).await;
    };
    // The handshake is bounded like a request head (a client that never sends its
    // ClientHello holds no slot for longer), and the connection, idle meanwhile, may be
    // evicted for a newer one. A failed handshake just closes the socket.
    let handshake = tokio::time::timeout(shared.header_read_timeout, acceptor.accept(stream));
    let stream = tokio::select! {
        accepted = handshake => match accepted {
            Ok(Ok(s)) => s,
            _ => return,
        },
        _ = ctl.evict.notified() => return,
    };
    serve_http(stream, shared, origin, ctl).await
}

async fn serve_http<S: Stream>(stream: S, shared: Arc<Shared>, origin: Origin, ctl: Arc<ConnCtl>) {
    let header_timeout = shared.header_read_timeout;
    // The stream comes back here once hyper lets go of it, to write a cut response.
    let back = Arc::new(Mutex::new(None));
    let io = TokioIo::new(FaultIo {
        inner: Some(stream),
        ctl: ctl.clone(),
        back: back.clone(),
    });
    let svc_ctl = ctl.clone();
    let service = service_fn(move |req| {
        let shared = shared.clone();
        let ctl = svc_ctl.clone();
        async move {
            ctl.busy.fetch_add(1, Ordering::SeqCst);
            let r = handle(shared, origin, ctl.clone(), req.map(boxed)).await;
            *lock(&ctl.idle_since) = Instant::now();
            ctl.busy.fetch_sub(1, Ordering::SeqCst);
            r
        }
    });
    {
        // The header read timeout bounds both a request head that trickles in and an idle
        // keep-alive connection (hyper starts it when it waits for a head).
        let conn = hyper::server::conn::http1::Builder::new()
            .keep_alive(true)
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .max_buf_size(MAX_HEAD)
            .serve_connection(io, service);
        let mut conn = std::pin::pin!(conn);
        tokio::select! {
            _ = conn.as_mut() => {}
            _ = ctl.evict.notified() => {
                conn.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(Duration::from_secs(5), conn.as_mut()).await;
            }
        }
    } // hyper's connection, and the FaultIo in it, are dropped: the stream is back
    let cut = lock(&ctl.cut).take();
    let stream = lock(&back).take();
    if let (Some(cut), Some(mut s)) = (cut, stream) {
        let cut = async {
            cut.write(&mut s).await?;
            s.flush().await?;
            s.tcp().shutdown().await
        };
        // a client that stops reading holds the connection no longer than this
        let _ = tokio::time::timeout(Duration::from_secs(120), cut).await;
    }
}

fn serialize(resp: &Resp) -> Vec<u8> {
    use hyper::body::Body as _;
    let status = resp.status();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Unknown")
    )
    .into_bytes();
    for (k, v) in resp.headers() {
        out.extend_from_slice(k.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !resp.headers().contains_key(hyper::header::CONTENT_LENGTH) {
        let len = resp.body().size_hint().exact().unwrap_or(0);
        out.extend_from_slice(format!("content-length: {len}\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!("date: {}\r\n\r\n", util::http_date(SystemTime::now())).as_bytes(),
    );
    out
}

fn finish_log(shared: &Shared, seq: u64, status: u16, body_bytes: u64, fault: Option<String>) {
    let mut log = lock(&shared.log);
    if let Ok(i) = log.binary_search_by_key(&seq, |r| r.seq) {
        let r = &mut log[i];
        r.status = status;
        r.body_bytes = body_bytes;
        r.fault = fault;
    }
}

/// One request without a connection (fuzzing): its status, 0 if dropped.
pub(crate) async fn handle_one(shared: Arc<Shared>, origin: Origin, req: Request<Body>) -> u16 {
    let ctl = Arc::new(ConnCtl::default());
    match handle(shared, origin, ctl, req).await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let _ = resp.into_body().collect().await;
            status
        }
        Err(Dropped) => 0,
    }
}

async fn handle(
    shared: Arc<Shared>,
    origin: Origin,
    ctl: Arc<ConnCtl>,
    req: Request<Body>,
) -> Result<Resp, Dropped> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let health = path == "/health";
    // the emulator's own paths: no token of the API's, no faults, no latency
    let admin = health
        || origin == Origin::Api && (path == "/_emulator" || path.starts_with("/_emulator/"));
    let origin_label = match (origin, admin) {
        (_, true) => "admin",
        (Origin::Api, false) => "api",
        (Origin::Monitor, false) => "monitor",
    };
    let seq = {
        let mut log = lock(&shared.log);
        let mut next = lock(&shared.next_seq);
        let seq = *next;
        *next += 1;
        if log.len() >= LOG_CAP {
            log.drain(..LOG_CAP / 10);
        }
        log.push(LoggedRequest {
            seq,
            at_ms: shared.started.elapsed().as_millis() as u64,
            origin: origin_label.to_string(),
            method: parts.method.to_string(),
            path: clip(&path),
            query: clip(&query),
            status: 0,
            authorization: parts.headers.contains_key(hyper::header::AUTHORIZATION),
            body_bytes: 0,
            fault: None,
        });
        seq
    };
    let mut ctx = Ctx {
        shared: shared.clone(),
        method: parts.method,
        path,
        query,
        headers: parts.headers,
        body: Some(body),
        body_bytes: 0,
        request_id: util::guid(),
    };

    let action = if admin {
        None
    } else {
        faults::pick(
            &mut lock(&shared.faults),
            origin_label,
            ctx.method.as_str(),
            &ctx.path,
        )
    };
    let fault = action.as_ref().map(faults::label);
    if !admin && !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    let mut cut_after = None;
    let result: HResult = match action {
        Some(FaultAction::DropRequestAfter(k)) => {
            ctx.read_upto(k).await;
            ctl.dead.store(true, Ordering::SeqCst);
            finish_log(&shared, seq, 0, ctx.body_bytes, fault);
            return Err(Dropped);
        }
        Some(FaultAction::Status {
            status,
            retry_after,
        }) => {
            let (code, message) = util::code_for_status(status);
            let mut e = GraphError::new(status, code, message);
            if let Some(s) = retry_after {
                e = e.header("Retry-After", s.to_string());
            }
            Err(Fail::Graph(e))
        }
        other => {
            match other {
                Some(FaultAction::DelayMs(ms)) => {
                    tokio::time::sleep(Duration::from_millis(ms)).await
                }
                Some(FaultAction::DropResponseAfter(k)) => cut_after = Some((k, false)),
                Some(FaultAction::DropBodyAfter(n)) => cut_after = Some((n, true)),
                _ => {}
            }
            if health {
                crate::admin::health(&ctx)
            } else if admin {
                crate::admin::handle(&mut ctx).await
            } else if shared.sink {
                crate::sink::handle(&mut ctx, origin).await
            } else {
                match origin {
                    Origin::Api => crate::api::handle(&mut ctx).await,
                    Origin::Monitor => crate::monitor::handle(&mut ctx).await,
                }
            }
        }
    };
    let mut resp = match result {
        Ok(r) => r,
        Err(Fail::Graph(e)) => ctx.error(&e),
        Err(Fail::Drop) => {
            ctl.dead.store(true, Ordering::SeqCst);
            finish_log(&shared, seq, 0, ctx.body_bytes, fault);
            return Err(Dropped);
        }
    };
    if ctx.drain().await.is_err() {
        ctl.dead.store(true, Ordering::SeqCst);
        finish_log(&shared, seq, 0, ctx.body_bytes, fault);
        return Err(Dropped);
    }
    if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
        resp.headers_mut().insert("request-id", v);
    }
    if let Some(c) = ctx.header("client-request-id") {
        if let Ok(v) = HeaderValue::from_str(c) {
            resp.headers_mut().insert("client-request-id", v);
        }
    }
    if let Some((k, body_only)) = cut_after {
        let head = serialize(&resp);
        let mut limit = match body_only {
            true => (head.len() as u64).saturating_add(k),
            false => k,
        };
        if ctx.method == Method::HEAD {
            limit = limit.min(head.len() as u64);
        }
        *lock(&ctl.cut) = Some(CutResponse {
            head,
            body: resp.into_body(),
            limit,
        });
        ctl.dead.store(true, Ordering::SeqCst);
        finish_log(&shared, seq, 0, ctx.body_bytes, fault);
        return Err(Dropped);
    }
    finish_log(&shared, seq, resp.status().as_u16(), ctx.body_bytes, fault);
    Ok(resp)
}
