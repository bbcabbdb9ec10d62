//! The client-facing listener of the pass-through transport: [`serve`] accepts TCP connections
//! (optionally TLS), speaks HTTP/1.1 and h2 on them with hyper, and hands every request to a
//! [`Handler`].
//!
//! Protections, each a named default in [`ServerLimits`]: a connection cap (a semaphore; the
//! accept loop waits for a free slot, so excess clients queue in the kernel backlog), back-off on
//! accept errors such as EMFILE, a TLS handshake deadline, a request-head deadline
//! (slowloris; also bounds how long an idle keep-alive connection waits for its next request),
//! head size and header count caps (431), MI's socket timeout as the idle bound for a whole
//! connection, and request-smuggling refusal (see [`crate::framing`]).
//!
//! Shutdown: when the token is cancelled the loop stops accepting and drops the listener, every
//! connection is told to finish (HTTP/1 closes after the in-flight response, h2 sends GOAWAY), and
//! [`serve`] returns once the last connection is gone. The caller bounds that wait with its drain
//! deadline.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::body::ProxyBody;
use crate::conn_io::{ActivityClock, GuardedIo};
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
/// Default deadline for a whole request head, from the moment the connection waits for it
/// (reliability.md §5: 30 s; nginx `client_header_timeout` is 60 s). The connection is closed.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default idle bound of a connection: MI's `[transport.http] socket_timeout`, 180 000 ms.
pub const DEFAULT_SOCKET_TIMEOUT: Duration =
    Duration::from_millis(conflux_config::settings::DEFAULT_SOCKET_TIMEOUT_MS);
/// Default cap on concurrent client connections per listener (sozu's default).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Default deadline for a TLS handshake.
pub const DEFAULT_TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on concurrent h2 streams per connection.
pub const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 250;
/// First pause after a failed accept (EMFILE and friends); doubled up to the maximum.
const ACCEPT_BACKOFF_START: Duration = Duration::from_millis(5);
/// Longest pause after repeated accept failures.
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Limits of one listener; see the `DEFAULT_*` constants for what each protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Largest request head in bytes (431 beyond); raised to [`MIN_MAX_HEADER_BYTES`] if lower.
    pub max_header_bytes: usize,
    /// Most request headers (431 beyond).
    pub max_headers: usize,
    /// Deadline for a request head; the connection is closed when it passes.
    pub header_read_timeout: Duration,
    /// A connection on which no byte moves for this long is closed (MI's socket timeout).
    pub socket_timeout: Duration,
    /// Most concurrent connections; further clients wait in the accept backlog.
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
            socket_timeout: DEFAULT_SOCKET_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            tls_handshake_timeout: DEFAULT_TLS_HANDSHAKE_TIMEOUT,
            max_concurrent_streams: DEFAULT_MAX_CONCURRENT_STREAMS,
        }
    }
}

impl ServerLimits {
    fn effective_max_header_bytes(&self) -> usize {
        self.max_header_bytes.max(MIN_MAX_HEADER_BYTES)
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
    let builder = Arc::new(http_builder(&limits));
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let tracker = TaskTracker::new();
    let mut backoff = ACCEPT_BACKOFF_START;
    loop {
        let permit = tokio::select! {
            () = shutdown.cancelled() => break,
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break, // the semaphore is never closed; treat it as shutdown
            },
        };
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
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
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
        };
        let local = match tcp.local_addr() {
            Ok(local) => local,
            Err(_) => continue,
        };
        let _ = tcp.set_nodelay(true);
        let conn = ConnInfo {
            remote,
            local,
            tls: acceptor.is_some(),
        };
        let task = serve_tcp(
            tcp,
            conn,
            acceptor.clone(),
            handler.clone(),
            limits,
            builder.clone(),
            shutdown.clone(),
        );
        tracker.spawn(async move {
            task.await;
            drop(permit);
        });
    }
    drop(listener);
    tracker.close();
    tracker.wait().await;
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
        // A cut stream (see conn_io) must still let the in-flight response finish.
        .half_close(true)
        .header_read_timeout(limits.header_read_timeout)
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

async fn serve_tcp<H: Handler>(
    tcp: TcpStream,
    conn: ConnInfo,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    handler: H,
    limits: ServerLimits,
    builder: Arc<auto::Builder<TokioExecutor>>,
    shutdown: CancellationToken,
) {
    let Some(acceptor) = acceptor else {
        serve_io(tcp, true, conn, handler, limits, builder, shutdown).await;
        return;
    };
    let handshake = tokio::select! {
        () = shutdown.cancelled() => return,
        result = tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(tcp)) => result,
    };
    match handshake {
        Ok(Ok(stream)) => {
            let is_h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
            serve_io(stream, !is_h2, conn, handler, limits, builder, shutdown).await;
        }
        Ok(Err(error)) => tracing::debug!(%error, remote = %conn.remote, "TLS handshake failed"),
        Err(_) => tracing::debug!(remote = %conn.remote, "TLS handshake timed out"),
    }
}

async fn serve_io<I, H>(
    io: I,
    scan_http1: bool,
    conn: ConnInfo,
    handler: H,
    limits: ServerLimits,
    builder: Arc<auto::Builder<TokioExecutor>>,
    shutdown: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Handler,
{
    let clock = ActivityClock::new();
    let io = GuardedIo::new(
        io,
        clock.clone(),
        scan_http1,
        limits.effective_max_header_bytes(),
    );
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let handler = handler.clone();
        async move {
            if let Err(rejection) = validate_request(&req) {
                tracing::debug!(%rejection, remote = %conn.remote, "request refused");
                return Ok::<_, Infallible>(bad_request_and_close());
            }
            Ok(handler.handle(req, conn).await)
        }
    });
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let idle = idle_watchdog(clock, limits.socket_timeout);
    tokio::pin!(idle);
    let mut draining = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, remote = %conn.remote, "client connection ended with an error");
                }
                return;
            }
            () = idle.as_mut() => {
                tracing::debug!(remote = %conn.remote, "client connection idle past the socket timeout; closing");
                return;
            }
            () = shutdown.cancelled(), if !draining => {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Completes once no byte has moved on the connection for `timeout`.
async fn idle_watchdog(clock: Arc<ActivityClock>, timeout: Duration) {
    loop {
        let deadline = clock.last_activity() + timeout;
        tokio::time::sleep_until(deadline.into()).await;
        if clock.last_activity() + timeout <= std::time::Instant::now() {
            return;
        }
    }
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
