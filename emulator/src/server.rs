//! Listeners, connections, the per-request pipeline (log, faults, dispatch) and shared state.

use crate::config::{FaultAction, LoggedRequest};
use crate::content::RespBody;
use crate::faults::{self};
use crate::rand;
use crate::state::{Body, Ctx, Fail, HResult, Origin, Shared, boxed, lock};
use crate::util::{self, GraphError, Resp};
use http_body_util::BodyExt as _;
use hyper::header::HeaderValue;
use hyper::service::service_fn;
use hyper::{Method, Request};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

/// The request log keeps at most this many entries (the oldest go first).
const LOG_CAP: usize = 100_000;
/// A logged path or query longer than this is cut (and ends in "...").
const LOG_FIELD_MAX: usize = 2048;
/// Read buffer of a connection: bounds a request head (a path of 30,000 levels fits).
const MAX_HEAD: usize = 256 * 1024;

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
                shared.connections_accepted.fetch_add(1, Ordering::SeqCst);
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
        request_id: rand::guid(),
        hold_job: false,
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
                Some(FaultAction::HoldJob) => ctx.hold_job = true,
                Some(FaultAction::HoldRequest) => match shared.hold_bound {
                    Some(bound) => {
                        let _ = tokio::time::timeout(bound, shared.held_requests.hold()).await;
                    }
                    None => shared.held_requests.hold().await,
                },
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
