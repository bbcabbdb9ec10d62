//! Backend connections and their pool: [`Pool`] keeps idle HTTP/1.1 connections per
//! (scheme, authority) and one shared h2 connection per HTTPS backend that offers `h2` by ALPN;
//! [`connect`] opens a connection (TCP, then TLS with the client's trust roots); [`BackendBody`]
//! is a backend's response body that drives its own connection.
//!
//! Why not hyper-util's pooled client: it runs every HTTP/1.1 connection in a task of its own, so
//! each request crosses two tasks (request over a channel, response back over a oneshot) and the
//! response body is fed from the other task chunk by chunk, and it spawns one more task per
//! request to return the connection to the pool. Here an HTTP/1.1 connection is polled by whoever
//! uses it: while a request waits for its response head, by the forwarding future; while the body
//! streams, by [`BackendBody`]; so one exchange runs in the client connection's own task.
//! An idle pooled connection is polled by nobody; a close by the backend is noticed when it is
//! checked out (one poll sees the end of input) or by the reaper task.

use std::collections::HashMap;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::uri::Authority;
use http::{Request, Response, Uri};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::body::{BoxError, ProxyBody};

/// TCP keep-alive probe time on backend connections (the same as hyper-util's connector had).
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);
/// Shortest and longest pause of the reaper that closes idle connections past their timeout.
const REAP_INTERVAL_MIN: Duration = Duration::from_secs(1);
const REAP_INTERVAL_MAX: Duration = Duration::from_secs(30);

/// How often idle connections are swept: half their idle timeout, within the bounds above.
fn reap_interval(idle_timeout: Duration) -> Duration {
    (idle_timeout / 2).clamp(REAP_INTERVAL_MIN, REAP_INTERVAL_MAX)
}

/// The byte stream to a backend: plain TCP or TLS over TCP.
pub(crate) enum BackendStream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for BackendStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            BackendStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            BackendStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for BackendStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            BackendStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            BackendStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            BackendStream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            BackendStream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            BackendStream::Plain(s) => s.is_write_vectored(),
            BackendStream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            BackendStream::Plain(s) => Pin::new(s).poll_flush(cx),
            BackendStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            BackendStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            BackendStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

type BackendIo = TokioIo<BackendStream>;

/// Which pool a target's connections live in: scheme and authority, compared byte for byte as
/// written in the target (`Authority`'s own `Hash` feeds SipHash one lowercased byte at a time,
/// which cost more than the rest of the pool per request).
#[derive(Debug, Clone)]
pub(crate) struct PoolKey {
    pub https: bool,
    pub authority: Authority,
    /// An HTTP proxy the connection is tunnelled through with `CONNECT` (HTTPS backends behind
    /// `[transport.http] sender.secured_proxy_host`).
    pub tunnel: Option<Authority>,
}

impl PoolKey {
    /// Where the TCP connection goes: the tunnelling proxy, else the backend.
    pub fn connect_authority(&self) -> &Authority {
        self.tunnel.as_ref().unwrap_or(&self.authority)
    }
}

impl PartialEq for PoolKey {
    fn eq(&self, other: &Self) -> bool {
        self.https == other.https
            && self.authority.as_str() == other.authority.as_str()
            && self.tunnel.as_ref().map(Authority::as_str)
                == other.tunnel.as_ref().map(Authority::as_str)
    }
}

impl Eq for PoolKey {}

impl std::hash::Hash for PoolKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write(self.authority.as_str().as_bytes());
        state.write_u8(u8::from(self.https));
        if let Some(tunnel) = &self.tunnel {
            state.write(tunnel.as_str().as_bytes());
        }
    }
}

/// FNV-1a: the pool's keys are a handful of short authorities chosen by the configuration, not
/// by clients, so a fast hash without flooding protection is enough.
#[derive(Clone, Copy)]
struct KeyHasher(u64);

impl Default for KeyHasher {
    fn default() -> Self {
        KeyHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

type KeyMap<V> = HashMap<PoolKey, V, std::hash::BuildHasherDefault<KeyHasher>>;

impl PoolKey {
    /// The key of an absolute `http`/`https` target; `None` for anything else.
    pub fn for_target(target: &Uri) -> Option<Self> {
        let https = match target.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return None,
        };
        Some(PoolKey {
            https,
            authority: target.authority()?.clone(),
            tunnel: None,
        })
    }
}

/// One HTTP/1.1 connection: the request side and the connection state machine (which does the
/// I/O whenever it is polled).
pub(crate) struct H1Conn {
    sender: http1::SendRequest<ProxyBody>,
    conn: http1::Connection<BackendIo, ProxyBody>,
    key: PoolKey,
    /// When it went idle (set on check-in).
    idle_since: Instant,
    /// It has carried a request before (a send that fails before any byte is written may then be
    /// retried on another connection).
    reused: bool,
    /// The connection future has completed; it must not be polled again.
    closed: bool,
}

/// How polling a connection ended when it ended.
enum Driven {
    Pending,
    Closed,
}

impl H1Conn {
    fn drive(&mut self, cx: &mut Context<'_>) -> Driven {
        if self.closed {
            return Driven::Closed;
        }
        match Pin::new(&mut self.conn).poll(cx) {
            Poll::Pending => return Driven::Pending,
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(error)) => tracing::debug!(%error, "back end connection ended"),
        }
        self.closed = true;
        Driven::Closed
    }

    /// Polls once (with `cx`, so the caller's task is woken by the socket from now on): false when
    /// the connection turns out closed or is not ready for a request.
    fn usable(&mut self, cx: &mut Context<'_>) -> bool {
        matches!(self.drive(cx), Driven::Pending) && self.sender.is_ready()
    }

    /// Sends `req` and drives the connection until the response head arrives.
    ///
    /// # Errors
    /// hyper's error, with the request when it was never started (then another connection may
    /// take it).
    async fn send(
        &mut self,
        req: Request<ProxyBody>,
    ) -> Result<Response<Incoming>, (hyper::Error, Option<Request<ProxyBody>>)> {
        let sending = self.sender.try_send_request(req);
        let mut sending = std::pin::pin!(sending);
        let result = poll_fn(|cx| {
            self.drive(cx);
            sending.as_mut().poll(cx)
        })
        .await;
        result.map_err(|mut error| {
            let request = error.take_message();
            (error.into_error(), request)
        })
    }
}

#[derive(Default)]
struct PoolState {
    /// Idle HTTP/1.1 connections, the most recently used last. Boxed: a connection moves from
    /// here to a request and its body and back on every exchange; a pointer moves cheaper than
    /// hyper's connection state.
    #[expect(
        clippy::vec_box,
        reason = "connections move between pool and bodies per request"
    )]
    idle: KeyMap<Vec<Box<H1Conn>>>,
    /// One multiplexed connection per backend that chose h2.
    h2: KeyMap<http2::SendRequest<ProxyBody>>,
}

/// The idle connections of a [`crate::client::BackendClient`] and its clones.
pub(crate) struct Pool {
    state: Mutex<PoolState>,
    idle_timeout: Duration,
    max_idle_per_key: usize,
    reaper_started: AtomicBool,
}

impl Pool {
    pub fn new(idle_timeout: Duration, max_idle_per_key: usize) -> Arc<Self> {
        Arc::new(Pool {
            state: Mutex::new(PoolState::default()),
            idle_timeout,
            max_idle_per_key,
            reaper_started: AtomicBool::new(false),
        })
    }

    /// The h2 connection to `key`, if there is a live one.
    pub fn h2(&self, key: &PoolKey) -> Option<http2::SendRequest<ProxyBody>> {
        let mut state = self.state.lock().ok()?;
        match state.h2.get(key) {
            Some(sender) if !sender.is_closed() => Some(sender.clone()),
            Some(_) => {
                state.h2.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn put_h2(&self, key: PoolKey, sender: http2::SendRequest<ProxyBody>) {
        if let Ok(mut state) = self.state.lock() {
            state.h2.insert(key, sender);
        }
    }

    /// The most recently used idle connection to `key` that is still usable; closed and expired
    /// ones met on the way are dropped (which closes them).
    pub async fn checkout(&self, key: &PoolKey) -> Option<Box<H1Conn>> {
        loop {
            let mut conn = {
                let mut state = self.state.lock().ok()?;
                let idle = state.idle.get_mut(key)?;
                let conn = idle.pop()?;
                if conn.idle_since.elapsed() >= self.idle_timeout {
                    // The most recent one is too old, so all of them are.
                    idle.clear();
                    return None;
                }
                conn
            };
            if poll_fn(|cx| Poll::Ready(conn.usable(cx))).await {
                conn.reused = true;
                return Some(conn);
            }
        }
    }

    /// Takes back a connection whose exchange finished cleanly.
    fn checkin(self: &Arc<Self>, mut conn: Box<H1Conn>) {
        // One poll lets the connection settle into idle and ask for the next request; it is
        // polled again with a real waker when it is checked out.
        if !conn.usable(&mut Context::from_waker(Waker::noop())) {
            return;
        }
        conn.idle_since = Instant::now();
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        match state.idle.get_mut(&conn.key) {
            Some(idle) if idle.len() >= self.max_idle_per_key => return,
            Some(idle) => idle.push(conn),
            None => {
                let key = conn.key.clone();
                state.idle.insert(key, vec![conn]);
            }
        }
        drop(state);
        self.start_reaper();
    }

    /// Starts (once, when there is a runtime) the task that closes idle connections past their
    /// timeout and forgets closed h2 connections; it ends with the pool.
    fn start_reaper(self: &Arc<Self>) {
        if self.reaper_started.load(Ordering::Relaxed) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.reaper_started.swap(true, Ordering::Relaxed) {
            return;
        }
        let pool = Arc::downgrade(self);
        runtime.spawn(reap(pool, reap_interval(self.idle_timeout)));
    }

    fn reap_once(&self) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let now = Instant::now();
        let timeout = self.idle_timeout;
        let mut waker = Context::from_waker(Waker::noop());
        state.idle.retain(|_, idle| {
            idle.retain_mut(|conn| {
                now.duration_since(conn.idle_since) < timeout && conn.usable(&mut waker)
            });
            !idle.is_empty()
        });
        state.h2.retain(|_, sender| !sender.is_closed());
    }

    #[cfg(test)]
    fn idle_count(&self) -> usize {
        self.state
            .lock()
            .map(|s| s.idle.values().map(Vec::len).sum())
            .unwrap_or(0)
    }
}

async fn reap(pool: Weak<Pool>, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        let Some(pool) = pool.upgrade() else {
            return;
        };
        pool.reap_once();
    }
}

/// Why a connection could not be opened.
pub(crate) enum ConnectError {
    /// Refused, unreachable, unresolvable, or the TLS handshake failed.
    Failed(BoxError),
    /// TCP connect plus TLS handshake took longer than the connect timeout.
    TimedOut,
}

/// A freshly opened connection, by the protocol the backend chose.
pub(crate) enum Connected {
    Http1(Box<H1Conn>),
    Http2(http2::SendRequest<ProxyBody>),
}

/// What [`connect`] needs besides the target.
pub(crate) struct Connector {
    /// ALPN offers `h2` and `http/1.1`.
    pub tls: tokio_rustls::TlsConnector,
    pub connect_timeout: Duration,
    pub h1: http1::Builder,
}

impl Connector {
    /// Opens a connection to `key` (TCP, then TLS for https) and does the HTTP handshake.
    pub async fn connect(&self, key: &PoolKey) -> Result<Connected, ConnectError> {
        match tokio::time::timeout(self.connect_timeout, self.open(key)).await {
            Ok(result) => result,
            Err(_) => Err(ConnectError::TimedOut),
        }
    }

    async fn open(&self, key: &PoolKey) -> Result<Connected, ConnectError> {
        let port = key
            .authority
            .port_u16()
            .unwrap_or(if key.https { 443 } else { 80 });
        let host = key.authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let tcp = match &key.tunnel {
            Some(proxy) => {
                let proxy_host = proxy.host();
                let proxy_host = proxy_host
                    .strip_prefix('[')
                    .and_then(|h| h.strip_suffix(']'))
                    .unwrap_or(proxy_host);
                let tcp = connect_tcp(proxy_host, proxy.port_u16().unwrap_or(80)).await?;
                connect_tunnel(tcp, &key.authority, port).await?
            }
            None => connect_tcp(host, port).await?,
        };
        let stream = if key.https {
            let name = rustls_pki_types::ServerName::try_from(host.to_owned())
                .map_err(|e| ConnectError::Failed(Box::new(e)))?;
            let tls = self
                .tls
                .connect(name, tcp)
                .await
                .map_err(|e| ConnectError::Failed(Box::new(e)))?;
            if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
                let (sender, conn) = http2::Builder::new(TokioExecutor::new())
                    .timer(TokioTimer::new())
                    .handshake(TokioIo::new(BackendStream::Tls(Box::new(tls))))
                    .await
                    .map_err(|e| ConnectError::Failed(Box::new(e)))?;
                tokio::spawn(async move {
                    if let Err(error) = conn.await {
                        tracing::debug!(%error, "h2 back end connection ended");
                    }
                });
                return Ok(Connected::Http2(sender));
            }
            BackendStream::Tls(Box::new(tls))
        } else {
            BackendStream::Plain(tcp)
        };
        let (sender, conn) = self
            .h1
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| ConnectError::Failed(Box::new(e)))?;
        Ok(Connected::Http1(Box::new(H1Conn {
            sender,
            conn,
            key: key.clone(),
            idle_since: Instant::now(),
            reused: false,
            closed: false,
        })))
    }
}

/// Largest `CONNECT` answer head read from a proxy.
const MAX_TUNNEL_RESPONSE_BYTES: usize = 16 * 1024;

/// Asks the HTTP proxy on `tcp` for a tunnel to `authority` (RFC 9110 §9.3.6); any 2xx answer
/// opens it.
async fn connect_tunnel(
    mut tcp: TcpStream,
    authority: &Authority,
    port: u16,
) -> Result<TcpStream, ConnectError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fail = |detail: String| ConnectError::Failed(Box::new(io::Error::other(detail)));
    let target = format!("{}:{port}", authority.host());
    let request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
    tcp.write_all(request.as_bytes())
        .await
        .map_err(|e| ConnectError::Failed(Box::new(e)))?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte: nothing after the head may be consumed, it belongs to the TLS handshake.
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_TUNNEL_RESPONSE_BYTES {
            return Err(fail("the proxy's CONNECT answer head is too large".into()));
        }
        let n = tcp
            .read(&mut byte)
            .await
            .map_err(|e| ConnectError::Failed(Box::new(e)))?;
        if n == 0 {
            return Err(fail(
                "the proxy closed the connection during CONNECT".into(),
            ));
        }
        head.push(byte[0]);
    }
    let status_line = head
        .split(|b| *b == b'\n')
        .next()
        .map(|l| String::from_utf8_lossy(l).trim().to_owned())
        .unwrap_or_default();
    let ok = status_line
        .split_whitespace()
        .nth(1)
        .is_some_and(|code| code.len() == 3 && code.starts_with('2'));
    if ok {
        Ok(tcp)
    } else {
        Err(fail(format!(
            "the proxy refused CONNECT {target}: {status_line}"
        )))
    }
}

/// Connects to the first address of `host` that accepts.
async fn connect_tcp(host: &str, port: u16) -> Result<TcpStream, ConnectError> {
    let addresses = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| ConnectError::Failed(Box::new(e)))?;
    let mut last_error = None;
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(tcp) => {
                // Small requests and responses go out at once instead of waiting for an ACK.
                let _ = tcp.set_nodelay(true);
                let keepalive = socket2::TcpKeepalive::new().with_time(TCP_KEEPALIVE);
                let _ = socket2::SockRef::from(&tcp).set_tcp_keepalive(&keepalive);
                return Ok(tcp);
            }
            Err(error) => last_error = Some(error),
        }
    }
    let error = last_error.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host} resolved to no address"),
        )
    });
    Err(ConnectError::Failed(Box::new(error)))
}

/// What sending on a pooled or new HTTP/1.1 connection gave.
pub(crate) enum H1Outcome {
    Response(Response<ProxyBody>),
    /// Failed before the request was started on a reused connection: try another one.
    Retry(Request<ProxyBody>),
    Failed(hyper::Error),
}

/// Sends `req` (origin-form URI) on `conn`; the response body keeps the connection and returns
/// it to `pool` when it ends cleanly.
pub(crate) async fn send_h1(
    pool: &Arc<Pool>,
    mut conn: Box<H1Conn>,
    req: Request<ProxyBody>,
) -> H1Outcome {
    match conn.send(req).await {
        Ok(response) => H1Outcome::Response(response.map(|body| {
            ProxyBody::Backend(BackendBody {
                body,
                lease: Some(Lease {
                    conn,
                    pool: pool.clone(),
                }),
                failed: None,
            })
        })),
        Err((_, Some(req))) if conn.reused => H1Outcome::Retry(req),
        Err((error, _)) => H1Outcome::Failed(error),
    }
}

/// A connection lent to one exchange.
struct Lease {
    conn: Box<H1Conn>,
    pool: Arc<Pool>,
}

/// A backend's HTTP/1.1 response body that drives its own connection while it is read and puts
/// the connection back into the pool when it has been read to the end. Dropped earlier (the
/// client went away, a mediator stopped reading), it closes the connection: the rest of the
/// response would be in the way of the next one.
pub struct BackendBody {
    body: Incoming,
    /// `None` once the connection has closed or gone back to the pool.
    lease: Option<Lease>,
    /// An error held back for one poll, see [`BackendBody::poll_frame`].
    failed: Option<hyper::Error>,
}

impl BackendBody {
    fn finish(&mut self) {
        if let Some(lease) = self.lease.take() {
            lease.pool.checkin(lease.conn);
        }
    }
}

impl Drop for BackendBody {
    fn drop(&mut self) {
        // A body whose end has been reached but not yet polled (hyper stops at the declared
        // length) is complete: its connection can serve the next request.
        if self.body.is_end_stream() {
            self.finish();
        }
    }
}

impl Body for BackendBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if let Some(error) = this.failed.take() {
            return Poll::Ready(Some(Err(error.into())));
        }
        // Body, then the connection (which may feed the body), then the body again.
        for _ in 0..2 {
            match Pin::new(&mut this.body).poll_frame(cx) {
                Poll::Ready(None) => {
                    this.finish();
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(error))) => {
                    // The backend failed mid-body. The error aborts the client's connection; held
                    // back for one round, it lets the client connection flush what it has (the
                    // head, the bytes so far), as it would when the backend runs in a task of its
                    // own, so the client sees a cut response rather than no response.
                    this.lease = None;
                    this.failed = Some(error);
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Poll::Ready(Some(Ok(frame))) => return Poll::Ready(Some(Ok(frame))),
                Poll::Pending => {}
            }
            match this.lease.as_mut().map(|lease| lease.conn.drive(cx)) {
                Some(Driven::Pending) => {}
                Some(Driven::Closed) => this.lease = None,
                None => return Poll::Pending,
            }
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn connector() -> Connector {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|b| {
                b.with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth()
            });
        let Ok(config) = config else {
            panic!("ring supports the default versions");
        };
        Connector {
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            connect_timeout: Duration::from_secs(5),
            h1: http1::Builder::new(),
        }
    }

    /// A backend answering every request on a connection with "ok" (Content-Length 2), then
    /// closing after `answers` requests; counts connections.
    async fn backend(
        answers: usize,
    ) -> (std::net::SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await;
        let Ok(listener) = listener else {
            panic!("bind");
        };
        let Ok(addr) = listener.local_addr() else {
            panic!("address");
        };
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    for _ in 0..answers {
                        let mut seen = Vec::new();
                        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                            match tcp.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => seen.extend_from_slice(&buf[..n]),
                            }
                        }
                        let _ = tcp
                            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                            .await;
                    }
                });
            }
        });
        (addr, accepted)
    }

    fn get(addr: std::net::SocketAddr) -> Request<ProxyBody> {
        let mut req = Request::new(ProxyBody::Empty);
        *req.uri_mut() = Uri::from_static("/x");
        if let Ok(host) = http::HeaderValue::from_str(&addr.to_string()) {
            req.headers_mut().insert(http::header::HOST, host);
        }
        req
    }

    async fn exchange(
        pool: &Arc<Pool>,
        c: &Connector,
        key: &PoolKey,
        addr: std::net::SocketAddr,
    ) -> String {
        let conn = match pool.checkout(key).await {
            Some(conn) => conn,
            None => match c.connect(key).await {
                Ok(Connected::Http1(conn)) => conn,
                _ => panic!("connect"),
            },
        };
        match send_h1(pool, conn, get(addr)).await {
            H1Outcome::Response(resp) => {
                let body = resp.into_body().collect().await.map(|b| b.to_bytes());
                String::from_utf8_lossy(&body.unwrap_or_default()).into_owned()
            }
            _ => String::from("failed"),
        }
    }

    #[tokio::test]
    async fn a_finished_exchange_returns_its_connection_for_the_next() {
        let (addr, accepted) = backend(usize::MAX).await;
        let pool = Pool::new(Duration::from_secs(60), 4);
        let c = connector();
        let key = PoolKey::for_target(&format!("http://{addr}/").parse().unwrap_or_default());
        let Some(key) = key else { panic!("key") };
        for _ in 0..3 {
            assert_eq!(exchange(&pool, &c, &key, addr).await, "ok");
            assert_eq!(pool.idle_count(), 1);
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_connection_closed_while_idle_is_not_handed_out() {
        let (addr, accepted) = backend(1).await;
        let pool = Pool::new(Duration::from_secs(60), 4);
        let c = connector();
        let Some(key) = PoolKey::for_target(&format!("http://{addr}/").parse().unwrap_or_default())
        else {
            panic!("key")
        };
        assert_eq!(exchange(&pool, &c, &key, addr).await, "ok");
        // The backend closes after one answer; the checkout must notice instead of failing.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(exchange(&pool, &c, &key, addr).await, "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn idle_connections_past_the_timeout_are_closed() {
        let (addr, _) = backend(usize::MAX).await;
        let pool = Pool::new(Duration::ZERO, 4);
        let c = connector();
        let Some(key) = PoolKey::for_target(&format!("http://{addr}/").parse().unwrap_or_default())
        else {
            panic!("key")
        };
        assert_eq!(exchange(&pool, &c, &key, addr).await, "ok");
        assert!(pool.checkout(&key).await.is_none());
        assert_eq!(pool.idle_count(), 0);
    }

    #[tokio::test]
    async fn no_more_idle_connections_than_the_limit() {
        let (addr, _) = backend(usize::MAX).await;
        let pool = Pool::new(Duration::from_secs(60), 1);
        let c = connector();
        let Some(key) = PoolKey::for_target(&format!("http://{addr}/").parse().unwrap_or_default())
        else {
            panic!("key")
        };
        // Two exchanges at once need two connections; only one stays idle (limit + 1 offered).
        let (a, b) = tokio::join!(
            exchange(&pool, &c, &key, addr),
            exchange(&pool, &c, &key, addr)
        );
        assert_eq!((a.as_str(), b.as_str()), ("ok", "ok"));
        assert_eq!(pool.idle_count(), 1);
    }

    #[test]
    fn the_reap_interval_is_half_the_idle_timeout_within_its_bounds() {
        assert_eq!(
            reap_interval(Duration::from_secs(10)),
            Duration::from_secs(5)
        );
        assert_eq!(reap_interval(REAP_INTERVAL_MIN * 2), REAP_INTERVAL_MIN);
        assert_eq!(
            reap_interval(REAP_INTERVAL_MIN * 2 - Duration::from_millis(2)),
            REAP_INTERVAL_MIN
        );
        assert_eq!(reap_interval(REAP_INTERVAL_MAX * 2), REAP_INTERVAL_MAX);
        assert_eq!(
            reap_interval(REAP_INTERVAL_MAX * 2 + Duration::from_secs(2)),
            REAP_INTERVAL_MAX
        );
    }
}
