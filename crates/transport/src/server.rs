//! The client-facing listener of the pass-through transport: [`serve`] accepts TCP connections
//! (optionally TLS), speaks HTTP/1.1 and h2 on them with hyper, and hands every request to a
//! [`Handler`].
//!
//! Protections, each a named default in [`ServerLimits`] (reliability.md §5):
//! - a connection cap per listener (MI's `[transport.http] max_open_connections`): a client over
//!   the cap is accepted and refused at once, with `503` and `Connection: close` on plain HTTP and
//!   a bare close on TLS (answering would cost a handshake, the most expensive step of an
//!   overload), instead of queueing unseen in the kernel backlog;
//! - back-off on accept errors such as EMFILE, and a TLS handshake deadline;
//! - a total deadline for each request head from its first byte (slowloris; `408` + close), a
//!   minimum request body rate and body read timeout (`408`, the backend exchange aborted), and a
//!   send timeout plus minimum read rate for clients that stop reading or trickle (the connection
//!   is reset; see [`crate::conn_io`]);
//! - a keep-alive idle limit: a connection waiting this long for the first byte of its next
//!   request is closed without an answer (h2: GOAWAY);
//! - head size and header count caps (431), MI's socket timeout as the idle bound for a whole
//!   connection, and request-smuggling refusal (see [`crate::framing`]).
//!
//! For comparison: HAProxy's `timeout http-request` is a total head deadline answered with 408,
//! nginx bounds the head with `client_header_timeout` (60 s) and logs 408; MI has only its 180 s
//! socket timeout, which any byte restarts, and closes without an answer (synapse passthru
//! `SourceHandler.timeout`). Conflux answers 408 once a head has begun and closes silently when
//! nothing was received.
//!
//! A client that goes away: while a request is in flight, hyper watches the client's side of an
//! HTTP/1 connection, and its end of input (FIN) or a reset ends the connection and drops the
//! request's work: the handler's future (mediation, the backend call, whose connection is then
//! closed rather than pooled half-used) or the rest of the response. Mediation gives way
//! regularly so that this happens between two mediators (conflux-mediation
//! `MEDIATION_YIELD_INTERVAL`); h2 drops a stream's work when the client resets it. Each
//! exchange given up this way is counted in [`ListenerStats::client_gone`] and logged as a
//! warning with the method, URL and client, as MI's pass-through `SourceHandler.closed` logs a
//! connection closed by the client. A FIN is taken as the client having gone even when the client
//! only half-closed after its request: HTTP/1 cannot tell the two apart, nginx does the same by
//! default (`proxy_ignore_client_abort off`), and MI closes the connection whenever it reads the
//! end of input (`SourceHandler.endOfInput`), though it reads nothing while it mediates.
//!
//! Shutdown: when the token is cancelled the loop stops accepting and drops the listener, every
//! connection is told to finish (HTTP/1 closes after the in-flight response, h2 sends GOAWAY), and
//! [`serve`] returns once the last connection is gone. The caller bounds that wait with its drain
//! deadline.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use conflux_config::settings;
use http::{Request, Response, StatusCode, header};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::accept_share::{self, Handed, LiveConnection, ThreadShare};
use crate::body::{BoxError, ProxyBody};
#[cfg(any(target_os = "linux", target_os = "android"))]
use crate::conn_io::CLIENT_NOTSENT_LOWAT;
use crate::conn_io::{AbortOnClose, ConnState, GuardedIo, IoTimeouts};
use crate::headers::validate_request;

/// Default cap on a request head (request line plus headers), in bytes; beyond it the client gets
/// 431. Envoy's edge default is 60 KiB; hyper needs at least 8 KiB.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;
/// hyper refuses read buffers smaller than this; smaller configured caps are raised to it.
pub const MIN_MAX_HEADER_BYTES: usize = 8 * 1024;
/// Default cap on the number of request headers (Envoy's `max_headers_count`); beyond it, 431.
pub const DEFAULT_MAX_HEADERS: usize = 100;
/// The header count hyper enforces when none is configured (`proto::h1::role::DEFAULT_MAX_HEADERS`).
const HYPER_DEFAULT_MAX_HEADERS: usize = 100;
/// Default deadline for a whole request head, from its first byte; reads do not extend it
/// (reliability.md §5: 30 s; nginx `client_header_timeout` is 60 s). Answered 408 + close.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration =
    Duration::from_millis(settings::DEFAULT_CLIENT_HEADER_TIMEOUT_MS);
/// Default keep-alive idle limit: how long a connection may wait for the first byte of its next
/// request (also of its first one) before it is closed without an answer. nginx
/// `keepalive_timeout` is 75 s; MI bounds it only by its 180 s socket timeout.
pub const DEFAULT_KEEPALIVE_TIMEOUT: Duration =
    Duration::from_millis(settings::DEFAULT_CLIENT_KEEPALIVE_TIMEOUT_MS);
/// Default longest single wait for request body bytes (nginx `client_body_timeout` is 60 s).
pub const DEFAULT_BODY_READ_TIMEOUT: Duration =
    Duration::from_millis(settings::DEFAULT_CLIENT_BODY_TIMEOUT_MS);
/// Default minimum request body rate in bytes per second, over the time spent waiting for it
/// (Apache `mod_reqtimeout` `MinRate=500`); a body sent at 10 bytes/s is cut after the grace.
pub const DEFAULT_MIN_BODY_RATE: u64 = settings::DEFAULT_CLIENT_BODY_MIN_RATE;
/// Default waiting time every request body is granted before the minimum rate counts: the body
/// read timeout, as in Apache `mod_reqtimeout` `body=N,MinRate=R` (N is also the single-wait
/// limit there).
pub const DEFAULT_BODY_RATE_GRACE: Duration = DEFAULT_BODY_READ_TIMEOUT;
/// Default longest time a write to the client may make no progress (nginx `send_timeout`, 60 s).
pub const DEFAULT_SEND_TIMEOUT: Duration =
    Duration::from_millis(settings::DEFAULT_CLIENT_SEND_TIMEOUT_MS);
/// Default minimum rate, in bytes per second, at which a client must read a response over the
/// time writes to it wait, once the send timeout's worth of waiting is used; a slow reader that
/// trickles (slowhttptest `-X`) keeps every single wait short and is cut by this instead.
pub const DEFAULT_MIN_SEND_RATE: u64 = settings::DEFAULT_CLIENT_SEND_MIN_RATE;
/// Default idle bound of a connection: MI's `[transport.http] socket_timeout`, 180 000 ms.
pub const DEFAULT_SOCKET_TIMEOUT: Duration =
    Duration::from_millis(settings::DEFAULT_SOCKET_TIMEOUT_MS);
/// Default cap on concurrent client connections per listener (sozu's default) when
/// `[transport.http] max_open_connections` is not set; MI's own default is no cap.
pub const DEFAULT_MAX_CONNECTIONS: usize = settings::DEFAULT_MAX_OPEN_CONNECTIONS as usize;
/// Default deadline for a TLS handshake.
pub const DEFAULT_TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on concurrent h2 streams per connection.
pub const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 250;
/// First pause after a failed accept (EMFILE and friends); doubled up to the maximum.
const ACCEPT_BACKOFF_START: Duration = Duration::from_millis(5);
/// Longest pause after repeated accept failures.
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// What a plain-HTTP client over the connection cap receives before the close (RFC 9110 §15.6.4).
const OVER_CAPACITY_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n";
/// How long a refused connection is drained after the 503 so that the close does not reset the
/// answer away (a close with unread request bytes sends RST).
const REFUSAL_LINGER: Duration = Duration::from_millis(500);
/// Most refused connections lingering at once; beyond it they are closed at once.
const MAX_LINGERING_REFUSALS: usize = 256;
/// Most bytes drained from a refused connection.
const REFUSAL_DRAIN_BYTES: usize = 64 * 1024;

/// Limits of one listener; see the `DEFAULT_*` constants for what each protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Largest request head in bytes (431 beyond); raised to [`MIN_MAX_HEADER_BYTES`] if lower.
    pub max_header_bytes: usize,
    /// Most request headers (431 beyond).
    pub max_headers: usize,
    /// Deadline for a whole request head from its first byte (408 + close).
    pub header_read_timeout: Duration,
    /// Longest wait for the first byte of the next request on a connection (close).
    pub keepalive_timeout: Duration,
    /// Longest single wait for request body bytes (408).
    pub body_read_timeout: Duration,
    /// Minimum request body rate in bytes per second after the grace; 0 disables it (408).
    pub min_body_rate: u64,
    /// Waiting time each request body is granted before the minimum rate counts.
    pub body_rate_grace: Duration,
    /// Longest time a write to the client may make no progress (the connection is reset).
    pub send_timeout: Duration,
    /// Minimum read rate of a client in bytes per second after the send timeout's worth of
    /// waiting; 0 disables it (the connection is reset).
    pub min_send_rate: u64,
    /// A connection on which no byte moves for this long is closed (MI's socket timeout).
    pub socket_timeout: Duration,
    /// Most concurrent connections; further clients are refused (503 + close, TLS: close).
    pub max_connections: usize,
    /// Deadline for a TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// Most concurrent h2 streams per connection.
    pub max_concurrent_streams: u32,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_headers: DEFAULT_MAX_HEADERS,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            keepalive_timeout: DEFAULT_KEEPALIVE_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            min_body_rate: DEFAULT_MIN_BODY_RATE,
            body_rate_grace: DEFAULT_BODY_RATE_GRACE,
            send_timeout: DEFAULT_SEND_TIMEOUT,
            min_send_rate: DEFAULT_MIN_SEND_RATE,
            socket_timeout: DEFAULT_SOCKET_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            tls_handshake_timeout: DEFAULT_TLS_HANDSHAKE_TIMEOUT,
            max_concurrent_streams: DEFAULT_MAX_CONCURRENT_STREAMS,
        }
    }
}

/// What one listener counted (relaxed atomics; read them for metrics or tests).
#[derive(Debug, Default)]
pub struct ListenerStats {
    /// Connections accepted and served.
    pub accepted: AtomicU64,
    /// Connections refused because the listener was at its cap.
    pub refused_over_cap: AtomicU64,
    /// Request heads that missed their deadline (408).
    pub head_timeouts: AtomicU64,
    /// Request bodies that arrived too slowly (408).
    pub body_timeouts: AtomicU64,
    /// Connections dropped because the client stopped reading.
    pub send_timeouts: AtomicU64,
    /// Connections closed after waiting too long for their next request.
    pub idle_closes: AtomicU64,
    /// Connections being served now (accepted and not yet finished); a gauge, not a counter.
    pub open: AtomicU64,
    /// Requests being handled or answered now; a gauge, not a counter.
    pub in_flight: AtomicU64,
    /// Exchanges given up because the client closed its connection before its response was
    /// complete: the handler's work (mediation, the backend call) was dropped, or the response
    /// was cut (MI logs each as a connection closed by the client; see [`serve`]).
    pub client_gone: AtomicU64,
}

impl ListenerStats {
    /// The current value of one counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Holds one count in [`ListenerStats::open`] for as long as its connection is served, however
/// the connection's task ends.
struct OpenConnection(Arc<ListenerStats>);

impl OpenConnection {
    fn new(stats: Arc<ListenerStats>) -> Self {
        stats.open.fetch_add(1, Ordering::Relaxed);
        OpenConnection(stats)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ServerLimits {
    pub(crate) fn effective_max_header_bytes(&self) -> usize {
        self.max_header_bytes.max(MIN_MAX_HEADER_BYTES)
    }

    /// The limits of a pass-through listener as `[transport.http]` configures them.
    pub fn from_config(transport: &settings::TransportConfig) -> Self {
        let clients = &transport.clients;
        Self {
            header_read_timeout: clients.header_timeout,
            keepalive_timeout: clients.keepalive_timeout,
            body_read_timeout: clients.body_timeout,
            min_body_rate: clients.body_min_rate,
            body_rate_grace: clients.body_timeout,
            send_timeout: clients.send_timeout,
            min_send_rate: clients.send_min_rate,
            socket_timeout: transport.socket_timeout,
            max_connections: clients
                .max_open_connections
                .map_or(usize::MAX, |cap| usize::try_from(cap).unwrap_or(usize::MAX)),
            ..Self::default()
        }
    }

    pub(crate) fn io_timeouts(&self) -> IoTimeouts {
        IoTimeouts {
            header: self.header_read_timeout,
            body_read: self.body_read_timeout,
            min_body_rate: self.min_body_rate,
            body_rate_grace: self.body_rate_grace,
            send: self.send_timeout,
            min_send_rate: self.min_send_rate,
        }
    }
}

/// Where a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    /// The client's address.
    pub remote: SocketAddr,
    /// The local address the client connected to.
    pub local: SocketAddr,
    /// True when the connection is TLS.
    pub tls: bool,
}

/// What the listener calls for every request. Implemented for any
/// `Fn(Request<Incoming>, ConnInfo) -> impl Future<Output = Response<ProxyBody>>` that is
/// `Clone + Send + Sync + 'static`.
pub trait Handler: Clone + Send + Sync + 'static {
    /// Produces the response for `req`. Errors are responses too (a fault payload, 502, ...).
    fn handle(
        &self,
        req: Request<Incoming>,
        conn: ConnInfo,
    ) -> impl Future<Output = Response<ProxyBody>> + Send + 'static;
}

impl<F, Fut> Handler for F
where
    F: Fn(Request<Incoming>, ConnInfo) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<ProxyBody>> + Send + 'static,
{
    fn handle(
        &self,
        req: Request<Incoming>,
        conn: ConnInfo,
    ) -> impl Future<Output = Response<ProxyBody>> + Send + 'static {
        self(req, conn)
    }
}

/// Serves HTTP/1.1 and h2 (ALPN with TLS, prior knowledge without) on `listener` until `shutdown`
/// is cancelled and every connection has finished. See the module docs.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: H,
    limits: ServerLimits,
    shutdown: CancellationToken,
) {
    serve_counted(listener, tls, handler, limits, Arc::default(), shutdown).await;
}

/// [`serve`], counting refusals and deadline hits in `stats`.
pub async fn serve_counted<H: Handler>(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: H,
    limits: ServerLimits,
    stats: Arc<ListenerStats>,
    shutdown: CancellationToken,
) {
    serve_routed(listener, tls, handler, None, limits, stats, shutdown).await;
}

/// [`serve_counted`], with plain-HTTP/1 connections driven by the Conflux HTTP/1 engine
/// ([`crate::h1`]) when `router` is given: requests it routes directly go straight to their
/// backend, and a connection's first other request hands the connection to hyper and `handler`.
/// TLS connections (and h2 with them) are always hyper's.
pub async fn serve_routed<H: Handler>(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: H,
    router: Option<Arc<dyn crate::h1::Router>>,
    limits: ServerLimits,
    stats: Arc<ListenerStats>,
    shutdown: CancellationToken,
) {
    let admission = Admission::new(&limits);
    accept_loop(
        listener, tls, handler, router, limits, stats, admission, None, shutdown,
    )
    .await;
}

/// What the accept loops of one listener share: the connection cap and the budget of refusals
/// still being drained. One loop per listener, or one per core ([`serve_routed_per_core`]).
#[derive(Clone)]
struct Admission {
    connections: Arc<Semaphore>,
    lingering: Arc<Semaphore>,
}

impl Admission {
    fn new(limits: &ServerLimits) -> Self {
        Self {
            connections: Arc::new(Semaphore::new(
                limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
            )),
            lingering: Arc::new(Semaphore::new(MAX_LINGERING_REFUSALS)),
        }
    }
}

/// [`serve_routed`] for plain HTTP on `threads` threads, each with its own single-threaded
/// runtime accepting from the same listening socket (duplicated descriptors, not
/// `SO_REUSEPORT`, which would let another process bind the same port unnoticed): a connection
/// lives and dies on the thread that accepted it, so no request crosses threads, as with
/// nginx's workers. The kernel wakes the threads waiting on the socket and one wins each
/// connection; a thread that wins more than its share hands the surplus to the least loaded
/// thread (crate `accept_share`), since a burst of connections otherwise lands mostly on the
/// thread that runs first. The connection cap and the counters are the listener's, shared by
/// all threads.
///
/// Everything that can fail (a runtime, a descriptor, a thread) fails here, before any thread
/// accepts; the future returned finishes when every thread has stopped after `shutdown` and
/// drained its connections.
#[allow(clippy::too_many_arguments)]
pub fn serve_routed_per_core<H: Handler>(
    listener: std::net::TcpListener,
    threads: usize,
    thread_stack_bytes: usize,
    handler: H,
    router: Option<Arc<dyn crate::h1::Router>>,
    limits: ServerLimits,
    stats: Arc<ListenerStats>,
    shutdown: CancellationToken,
) -> io::Result<impl Future<Output = ()> + Send + 'static> {
    let admission = Admission::new(&limits);
    // Tokio refuses a blocking socket (a panic, not an error); the flag is shared by the
    // duplicates made below.
    listener.set_nonblocking(true)?;
    let mut cores = Vec::with_capacity(threads.max(1));
    for _ in 0..threads.max(1) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _entered = runtime.enter();
            TcpListener::from_std(listener.try_clone()?)?
        };
        cores.push((runtime, listener));
    }
    drop(listener);
    // Each thread holds a sender; the receiver sees the channel close when the last has ended.
    let (ended_tx, mut ended_rx) = tokio::sync::mpsc::channel::<()>(1);
    // A thread whose connections have all ended keeps its runtime running until every thread's
    // have: connections made on one runtime serve requests of another (the hyper client's pool
    // and the database pools are the process's; their I/O is driven by the runtime that opened
    // them), so a runtime dropped early would cut another thread's exchange short.
    let serving = Arc::new(AtomicU64::new(cores.len() as u64));
    let all_served = CancellationToken::new();
    let shares = accept_share::shares(cores.len());
    for (index, ((runtime, listener), share)) in cores.into_iter().zip(shares).enumerate() {
        let serve = accept_loop(
            listener,
            None,
            handler.clone(),
            router.clone(),
            limits,
            stats.clone(),
            admission.clone(),
            Some(share),
            shutdown.clone(),
        );
        let ended = ended_tx.clone();
        let (serving, all_served) = (serving.clone(), all_served.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("conflux-http-{index}"))
            .stack_size(thread_stack_bytes)
            .spawn(move || {
                runtime.block_on(async {
                    serve.await;
                    if serving.fetch_sub(1, Ordering::AcqRel) == 1 {
                        all_served.cancel();
                    }
                    all_served.cancelled().await;
                });
                drop(ended);
            });
        if let Err(error) = spawned {
            // Threads already started stop with the others' token.
            shutdown.cancel();
            return Err(error);
        }
    }
    drop(ended_tx);
    Ok(async move { while ended_rx.recv().await.is_some() {} })
}

#[allow(clippy::too_many_arguments)]
async fn accept_loop<H: Handler>(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: H,
    router: Option<Arc<dyn crate::h1::Router>>,
    limits: ServerLimits,
    stats: Arc<ListenerStats>,
    admission: Admission,
    mut share: Option<ThreadShare>,
    shutdown: CancellationToken,
) {
    let Admission {
        connections,
        lingering,
    } = admission;
    let serving = Serving {
        builder: Arc::new(http_builder(&limits)),
        acceptor: tls.map(tokio_rustls::TlsAcceptor::from),
        handler,
        router,
        limits,
        stats,
        tracker: TaskTracker::new(),
        shutdown,
    };
    let mut backoff = ACCEPT_BACKOFF_START;
    loop {
        let accepted = tokio::select! {
            () = serving.shutdown.cancelled() => break,
            Some(handed) = next_handed(&mut share) => {
                match TcpStream::from_std(handed.tcp) {
                    Ok(tcp) => serving.spawn(tcp, handed.remote, handed.permit, Some(handed.live)),
                    Err(error) => tracing::debug!(%error, "a handed connection could not be registered"),
                }
                continue;
            }
            accepted = listener.accept() => accepted,
        };
        let (tcp, remote) = match accepted {
            Ok(pair) => {
                backoff = ACCEPT_BACKOFF_START;
                pair
            }
            Err(error) => {
                if is_per_connection_accept_error(&error) {
                    continue;
                }
                // Out of descriptors or memory: wait before trying again instead of spinning.
                tracing::warn!(%error, pause_ms = backoff.as_millis() as u64, "accept failed");
                tokio::select! {
                    () = serving.shutdown.cancelled() => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            serving
                .stats
                .refused_over_cap
                .fetch_add(1, Ordering::Relaxed);
            refuse(
                tcp,
                serving.acceptor.is_some(),
                &lingering,
                &serving.tracker,
            );
            continue;
        };
        serving.stats.accepted.fetch_add(1, Ordering::Relaxed);
        let Some(share) = &share else {
            serving.spawn(tcp, remote, permit, None);
            continue;
        };
        let live = share.place();
        if live.is_on(share) {
            serving.spawn(tcp, remote, permit, Some(live));
            continue;
        }
        let Ok(tcp) = tcp.into_std() else { continue };
        let handed = Handed {
            tcp,
            remote,
            permit,
            live,
        };
        if let Err(returned) = share.hand(handed) {
            let kept = share.keep(returned);
            if let Ok(tcp) = TcpStream::from_std(kept.tcp) {
                serving.spawn(tcp, kept.remote, kept.permit, Some(kept.live));
            }
        }
    }
    drop(listener);
    serving.tracker.close();
    serving.tracker.wait().await;
}

/// The next connection another per-core thread handed to this one; never, without a share.
async fn next_handed(share: &mut Option<ThreadShare>) -> Option<Handed> {
    match share {
        Some(share) => share.next_handed().await,
        None => std::future::pending().await,
    }
}

/// What an accept loop needs to serve a connection it accepted or was handed.
struct Serving<H> {
    builder: Arc<auto::Builder<TokioExecutor>>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    handler: H,
    router: Option<Arc<dyn crate::h1::Router>>,
    limits: ServerLimits,
    stats: Arc<ListenerStats>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

impl<H: Handler> Serving<H> {
    /// Serves `tcp` on this runtime until it ends, holding its place under the connection cap
    /// (`permit`) and, on a per-core listener, in its thread's count (`live`).
    fn spawn(
        &self,
        tcp: TcpStream,
        remote: SocketAddr,
        permit: tokio::sync::OwnedSemaphorePermit,
        live: Option<LiveConnection>,
    ) {
        let Ok(local) = tcp.local_addr() else { return };
        let open = OpenConnection::new(self.stats.clone());
        let _ = tcp.set_nodelay(true);
        // The send rate check sees a client's reading in steps of at most this (conn_io).
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let _ = socket2::SockRef::from(&tcp).set_tcp_notsent_lowat(CLIENT_NOTSENT_LOWAT);
        let conn = ConnInfo {
            remote,
            local,
            tls: self.acceptor.is_some(),
        };
        let task = serve_tcp(
            tcp,
            conn,
            self.acceptor.clone(),
            self.router.clone(),
            self.handler.clone(),
            self.limits,
            self.builder.clone(),
            ConnState::new(self.stats.clone()),
            self.shutdown.clone(),
        );
        self.tracker.spawn(async move {
            task.await;
            drop((open, live));
            drop(permit);
        });
    }
}

/// Turns away a connection over the cap. Plain HTTP gets a 503 written straight into the empty
/// send buffer, then the connection is drained briefly so that the close does not reset the
/// answer away; TLS is closed at once. Neither waits on the client.
fn refuse(tcp: TcpStream, tls: bool, lingering: &Arc<Semaphore>, tracker: &TaskTracker) {
    if tls {
        return;
    }
    if tcp.try_write(OVER_CAPACITY_RESPONSE).is_err() {
        return;
    }
    let Ok(permit) = lingering.clone().try_acquire_owned() else {
        return;
    };
    tracker.spawn(async move {
        let mut tcp = tcp;
        let _ = socket2::SockRef::from(&tcp).shutdown(std::net::Shutdown::Write);
        let drain = async {
            let mut buf = [0u8; 4096];
            let mut drained = 0;
            while drained < REFUSAL_DRAIN_BYTES {
                match tokio::io::AsyncReadExt::read(&mut tcp, &mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => drained += n,
                }
            }
        };
        let _ = tokio::time::timeout(REFUSAL_LINGER, drain).await;
        drop(permit);
    });
}

/// Errors that concern only the connection being accepted; the listener itself is fine.
fn is_per_connection_accept_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

fn http_builder(limits: &ServerLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        // hyper watches for the client's end of input while a request is in flight and ends the
        // connection when it comes, dropping the request's work: the client has gone (see
        // `serve`). conn_io holds back its own cut of a stream until the requests before it
        // have ended, so that those still complete.
        .half_close(false)
        // The head deadline is ours (conn_io): hyper's restarts with every request it waits
        // for and does not see a head the framing scanner still holds.
        .header_read_timeout(None)
        .max_buf_size(limits.effective_max_header_bytes());
    if limits.max_headers != HYPER_DEFAULT_MAX_HEADERS {
        // Setting the limit, even to hyper's own default, makes hyper allocate and fill two
        // header arrays per request instead of using inline ones.
        builder.http1().max_headers(limits.max_headers);
    }
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(
            u32::try_from(limits.effective_max_header_bytes()).unwrap_or(u32::MAX),
        )
        .max_concurrent_streams(limits.max_concurrent_streams);
    builder
}

#[allow(clippy::too_many_arguments)]
async fn serve_tcp<H: Handler>(
    tcp: TcpStream,
    conn: ConnInfo,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    router: Option<Arc<dyn crate::h1::Router>>,
    handler: H,
    limits: ServerLimits,
    builder: Arc<auto::Builder<TokioExecutor>>,
    state: Arc<ConnState>,
    shutdown: CancellationToken,
) {
    if acceptor.is_none()
        && let Some(router) = router
    {
        crate::h1::conn::serve(tcp, conn, router, handler, limits, builder, state, shutdown).await;
        return;
    }
    let Some(acceptor) = acceptor else {
        serve_io(tcp, true, conn, handler, limits, builder, state, shutdown).await;
        return;
    };
    let handshake = tokio::select! {
        () = shutdown.cancelled() => return,
        result = tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(tcp)) => result,
    };
    match handshake {
        Ok(Ok(stream)) => {
            let is_h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
            serve_io(
                stream, !is_h2, conn, handler, limits, builder, state, shutdown,
            )
            .await;
        }
        Ok(Err(error)) => tracing::debug!(%error, remote = %conn.remote, "TLS handshake failed"),
        Err(_) => tracing::debug!(remote = %conn.remote, "TLS handshake timed out"),
    }
}

#[allow(clippy::too_many_arguments)]
async fn serve_io<I, H>(
    io: I,
    scan_http1: bool,
    conn: ConnInfo,
    handler: H,
    limits: ServerLimits,
    builder: Arc<auto::Builder<TokioExecutor>>,
    state: Arc<ConnState>,
    shutdown: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + AbortOnClose + Unpin + Send + 'static,
    H: Handler,
{
    let io = GuardedIo::new(
        io,
        state.clone(),
        limits.io_timeouts(),
        scan_http1,
        limits.effective_max_header_bytes(),
    );
    serve_guarded(io, conn, handler, limits, builder, state, shutdown).await;
}

/// Serves an already guarded client stream with hyper (also a connection the Conflux HTTP/1
/// engine hands over, with the bytes it read put back in front).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn serve_guarded<I, H>(
    io: I,
    conn: ConnInfo,
    handler: H,
    limits: ServerLimits,
    builder: Arc<auto::Builder<TokioExecutor>>,
    state: Arc<ConnState>,
    shutdown: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Handler,
{
    let service_state = state.clone();
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        let handler = handler.clone();
        let state = service_state.clone();
        // In flight from the moment hyper hands the request over, before the future is first
        // polled: hyper reads on (for the client's end of input) in between.
        state.request_began();
        let in_flight = InFlight::new(state.clone(), &req, conn.remote);
        async move {
            if let Err(rejection) = validate_request(&mut req) {
                tracing::debug!(%rejection, remote = %conn.remote, "request refused");
                let mut refusal = bad_request_and_close();
                *refusal.status_mut() = rejection.status();
                return Ok::<_, Infallible>(TrackedBody::wrap(refusal, in_flight));
            }
            let response = handler.handle(req, conn).await;
            if state.body_timed_out() {
                // The body missed its deadline: whatever the handler made of the aborted
                // exchange, the client is told it was too slow.
                return Ok(TrackedBody::wrap(request_timeout_and_close(), in_flight));
            }
            Ok(TrackedBody::wrap(response, in_flight))
        }
    });
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let watchdog = watchdog(
        state.clone(),
        limits.socket_timeout,
        limits.keepalive_timeout,
    );
    tokio::pin!(watchdog);
    // Set once the connection was told to finish (keep-alive expiry or shutdown).
    let mut finishing = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, remote = %conn.remote, "client connection ended with an error");
                }
                return;
            }
            verdict = watchdog.as_mut() => match verdict {
                Watchdog::SocketTimeout => {
                    tracing::debug!(remote = %conn.remote, "client connection idle past the socket timeout; closing");
                    return;
                }
                Watchdog::KeepAliveTimeout => {
                    tracing::debug!(remote = %conn.remote, "no request within the keep-alive timeout; closing");
                    state.stats().idle_closes.fetch_add(1, Ordering::Relaxed);
                    if !finishing {
                        finishing = true;
                        connection.as_mut().graceful_shutdown();
                    }
                    // From now on only the socket timeout bounds a close that does not complete.
                    watchdog.set(self::watchdog(state.clone(), limits.socket_timeout, Duration::MAX));
                }
            },
            () = shutdown.cancelled(), if !finishing => {
                finishing = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Why the watchdog ended a connection.
pub(crate) enum Watchdog {
    /// No byte moved for the socket timeout.
    SocketTimeout,
    /// No request arrived within the keep-alive timeout of the last one ending.
    KeepAliveTimeout,
}

/// Completes when the connection has been silent for `socket_timeout`, or idle between requests
/// for `keepalive`. It never sleeps past a deadline: an idle period that begins while it sleeps
/// ends no earlier than `keepalive` after the moment it went to sleep.
pub(crate) async fn watchdog(
    state: Arc<ConnState>,
    socket_timeout: Duration,
    keepalive: Duration,
) -> Watchdog {
    loop {
        let now = Instant::now();
        let silent_until = state.last_activity() + socket_timeout;
        if silent_until <= now {
            return Watchdog::SocketTimeout;
        }
        let idle_until = match state.idle_since() {
            Some(since) => {
                let until = since.checked_add(keepalive);
                if until.is_some_and(|until| until <= now) {
                    return Watchdog::KeepAliveTimeout;
                }
                until
            }
            None => now.checked_add(keepalive),
        };
        let wake = idle_until.map_or(silent_until, |idle| idle.min(silent_until));
        tokio::time::sleep_until(wake.into()).await;
    }
}

/// Where an exchange was when it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The handler is working on the response (mediation, the backend call).
    Handling,
    /// The response is being written.
    Answering,
    /// The response was written to its end.
    Done,
}

/// Marks a request in flight until its response body is finished or dropped. Dropped before
/// [`Phase::Done`] on a connection whose client has closed, the exchange was given up because
/// the client left: counted in [`ListenerStats::client_gone`] and logged as a warning, as MI's
/// pass-through `SourceHandler.closed` does for a connection closed by the client after the
/// request was read (`REQUEST_DONE`) or while the response was written (`RESPONSE_HEAD`/`BODY`).
struct InFlight {
    state: Arc<ConnState>,
    phase: Phase,
    method: http::Method,
    uri: http::Uri,
    remote: SocketAddr,
}

impl InFlight {
    fn new<B>(state: Arc<ConnState>, req: &Request<B>, remote: SocketAddr) -> Self {
        Self {
            state,
            phase: Phase::Handling,
            method: req.method().clone(),
            uri: req.uri().clone(),
            remote,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.state.request_ended();
        if self.phase == Phase::Done {
            return;
        }
        if !self.state.client_closed() {
            // Shutdown past the drain deadline, or an h2 stream the client reset.
            tracing::debug!(target: "conflux::transport", method = %self.method, uri = %self.uri, remote = %self.remote, phase = ?self.phase, "exchange ended before its response was complete");
            return;
        }
        self.state
            .stats()
            .client_gone
            .fetch_add(1, Ordering::Relaxed);
        match self.phase {
            Phase::Handling => tracing::warn!(
                target: "conflux::transport",
                "Connection closed by the client after the request was read and before the response was sent; the exchange is cancelled (mediation and the back end call stop), HTTP_METHOD = {}, HTTP_URL = {}, CLIENT_ADDRESS = {}",
                self.method, self.uri, self.remote
            ),
            _ => tracing::warn!(
                target: "conflux::transport",
                "Connection closed by the client while the response was being written; the rest of the response is dropped, HTTP_METHOD = {}, HTTP_URL = {}, CLIENT_ADDRESS = {}",
                self.method, self.uri, self.remote
            ),
        }
    }
}

/// A response body that ends its request's in-flight mark when hyper is done with it.
struct TrackedBody {
    inner: ProxyBody,
    in_flight: InFlight,
    /// Body bytes still to go when the response has a known length: hyper stops polling once
    /// it has written that many.
    remaining: Option<u64>,
}

impl TrackedBody {
    fn wrap(response: Response<ProxyBody>, mut in_flight: InFlight) -> Response<TrackedBody> {
        let status = response.status();
        // hyper writes no body for these, whatever the body says.
        in_flight.phase = if in_flight.method == http::Method::HEAD
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
        {
            Phase::Done
        } else {
            Phase::Answering
        };
        let remaining = response.body().size_hint().exact().or_else(|| {
            response
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse().ok())
        });
        if remaining == Some(0) {
            in_flight.phase = Phase::Done;
        }
        response.map(|inner| TrackedBody {
            inner,
            in_flight,
            remaining,
        })
    }
}

impl Drop for TrackedBody {
    fn drop(&mut self) {
        // hyper stops polling a body whose end it has been told of (a known length written).
        if self.inner.is_end_stream() {
            self.in_flight.phase = Phase::Done;
        }
    }
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        match &frame {
            Poll::Ready(None) => this.in_flight.phase = Phase::Done,
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(remaining), Some(data)) = (&mut this.remaining, frame.data_ref()) {
                    *remaining = remaining.saturating_sub(data.len() as u64);
                    if *remaining == 0 {
                        this.in_flight.phase = Phase::Done;
                    }
                }
            }
            _ => {}
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn request_timeout_and_close() -> Response<ProxyBody> {
    let mut response = Response::new(ProxyBody::Empty);
    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
    response
        .headers_mut()
        .insert(header::CONNECTION, http::HeaderValue::from_static("close"));
    response
}

fn bad_request_and_close() -> Response<ProxyBody> {
    let mut response = Response::new(ProxyBody::Empty);
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
        .headers_mut()
        .insert(header::CONNECTION, http::HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_cap_is_raised_to_hypers_minimum() {
        let limits = ServerLimits {
            max_header_bytes: 100,
            ..ServerLimits::default()
        };
        assert_eq!(limits.effective_max_header_bytes(), MIN_MAX_HEADER_BYTES);
        assert_eq!(
            ServerLimits::default().socket_timeout,
            Duration::from_secs(180)
        );
    }

    fn limits_of(toml: &str) -> ServerLimits {
        let properties = conflux_config::SystemProperties::default();
        let path = std::path::PathBuf::from("/h/conf/deployment.toml");
        let document = conflux_config::document::Document::parse(&path, toml, &properties)
            .expect("valid toml");
        let config = settings::from_document(
            std::path::Path::new("/h"),
            path,
            &document,
            properties,
            Vec::new(),
        )
        .expect("valid config");
        ServerLimits::from_config(&config.transport)
    }

    #[test]
    fn pass_through_limits_come_from_transport_http() {
        let defaults = limits_of("");
        assert_eq!(defaults, ServerLimits::default());
        assert_eq!(defaults.max_connections, 10_000);
        let limits = limits_of(
            "[transport.http]\nmax_open_connections = 7\nclient_header_timeout = 1000\nclient_keepalive_timeout = 2000\nclient_body_timeout = 3000\nclient_body_min_rate = 9\nclient_send_timeout = 4000\nclient_send_min_rate = 11\nsocket_timeout = 5000\n",
        );
        assert_eq!(limits.max_connections, 7);
        assert_eq!(limits.header_read_timeout, Duration::from_secs(1));
        assert_eq!(limits.keepalive_timeout, Duration::from_secs(2));
        assert_eq!(limits.body_read_timeout, Duration::from_secs(3));
        assert_eq!(limits.body_rate_grace, Duration::from_secs(3));
        assert_eq!(limits.min_body_rate, 9);
        assert_eq!(limits.send_timeout, Duration::from_secs(4));
        assert_eq!(limits.min_send_rate, 11);
        assert_eq!(limits.socket_timeout, Duration::from_secs(5));
        // MI's -1: no cap.
        let unlimited = limits_of("[transport.http]\nmax_open_connections = -1\n");
        assert_eq!(unlimited.max_connections, usize::MAX);
    }

    #[test]
    fn per_connection_accept_errors_do_not_back_off() {
        assert!(is_per_connection_accept_error(
            &io::ErrorKind::ConnectionAborted.into()
        ));
        assert!(!is_per_connection_accept_error(
            &io::Error::from_raw_os_error(24)
        )); // EMFILE
    }
}
