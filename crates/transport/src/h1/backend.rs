//! The backend connections of the Conflux HTTP/1 engine. A client connection's task owns the
//! backend connection it last used and keeps it between requests to the same backend; when the
//! client connection ends, or moves to another backend, the connection goes to the process's cache
//! of idle connections, as hyper's client pool does. The cache is one map behind a mutex, taken
//! only when a client connection starts or ends or changes backend (not per request), and never
//! across an await. Its entries are per single-threaded runtime (the per-core listener threads
//! keep their sockets to themselves) and shared on a multi-threaded one: there tokio's scheduler
//! moves tasks between workers, so per-worker caches each grew towards the number of concurrent
//! clients, and the process held several times the idle connections a shared pool holds.
//!
//! A cached connection is checked before use: one the backend has closed (or that has unread
//! bytes, which no idle HTTP/1 connection may have) or that has been idle longer than
//! [`IDLE_TIMEOUT`] is dropped instead.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

/// Most idle connections kept per backend address.
pub const MAX_IDLE_PER_BACKEND: usize = 64;
/// Idle connections older than this are not reused (the hyper client's pool idle timeout).
pub const IDLE_TIMEOUT: Duration = crate::client::DEFAULT_POOL_IDLE_TIMEOUT;

/// Cached connections [`put`] probes for a close by the backend, each time.
pub const PROBES_PER_PUT: usize = 2;

/// One backend's idle connections, oldest first.
#[derive(Default)]
struct Idle {
    conns: Vec<(TcpStream, Instant)>,
    /// The next connection [`put`] probes.
    probe_at: usize,
}

/// Whose idle connections: a single-threaded runtime's own (the per-core listener threads,
/// transport server.rs `serve_routed_per_core`: a socket is driven by the runtime that opened
/// it, so one runtime's connections would make another's exchanges cross threads), else the
/// process's (`None`: one multi-threaded runtime, where any worker drives any socket).
type Owner = Option<std::thread::ThreadId>;

fn owner() -> Owner {
    use tokio::runtime::{Handle, RuntimeFlavor};
    Handle::try_current()
        .ok()
        .filter(|h| h.runtime_flavor() == RuntimeFlavor::CurrentThread)
        .map(|_| std::thread::current().id())
}

static IDLE: LazyLock<Mutex<HashMap<(Owner, SocketAddr), Idle>>> = LazyLock::new(Mutex::default);

/// The cache (a panic while it was held left nothing half done that matters: idle connections).
fn idle() -> MutexGuard<'static, HashMap<(Owner, SocketAddr), Idle>> {
    IDLE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether an idle connection can carry a request: still open, nothing unread.
pub fn is_reusable(stream: &TcpStream) -> bool {
    let mut probe = [0u8; 1];
    matches!(stream.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// An idle connection to `addr` from the cache, checked for use.
pub fn take(addr: SocketAddr) -> Option<TcpStream> {
    let mut idle = idle();
    let conns = &mut idle.get_mut(&(owner(), addr))?.conns;
    while let Some((stream, since)) = conns.pop() {
        if since.elapsed() < IDLE_TIMEOUT && is_reusable(&stream) {
            return Some(stream);
        }
    }
    None
}

/// Returns a connection that finished its exchange cleanly to the cache.
pub fn put(addr: SocketAddr, stream: TcpStream) {
    {
        let mut idle = idle();
        let cache = idle.entry((owner(), addr)).or_default();
        cache
            .conns
            .retain(|(_, since)| since.elapsed() < IDLE_TIMEOUT);
        // A connection the backend closed while it sat here (a backend's own keep-alive
        // timeout) holds a descriptor until it is found: each put probes a few, in turn, so
        // they go about as fast as they come (hyper's pool drops them when its connection task
        // sees the end).
        for _ in 0..PROBES_PER_PUT {
            if cache.conns.is_empty() {
                break;
            }
            let at = cache.probe_at % cache.conns.len();
            if is_reusable(&cache.conns[at].0) {
                cache.probe_at = at + 1;
            } else {
                cache.conns.remove(at);
                cache.probe_at = at;
            }
        }
        if cache.conns.len() < MAX_IDLE_PER_BACKEND {
            cache.conns.push((stream, Instant::now()));
        }
    }
}

/// How many idle connections to `addr` the cache holds (tests, metrics).
pub fn idle_count(addr: SocketAddr) -> usize {
    idle()
        .iter()
        .filter(|((_, a), _)| *a == addr)
        .map(|(_, cache)| cache.conns.len())
        .sum()
}

/// Why a new connection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("connect timed out")]
    TimedOut,
    #[error(transparent)]
    Failed(#[from] io::Error),
}

/// A new connection to `addr`, with `TCP_NODELAY`, within `timeout`.
///
/// # Errors
/// The connect failed or took longer than `timeout`.
pub async fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, ConnectError> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
        Ok(Err(e)) => Err(ConnectError::Failed(e)),
        Err(_) => Err(ConnectError::TimedOut),
    }
}

/// A new connection to the first of `addresses` that accepts, tried in order (as hyper-util's
/// `HttpConnector` and the hyper path's transport pool.rs `connect_tcp` do), with
/// `TCP_NODELAY`; `timeout` bounds all the attempts together. The error is the last attempt's.
///
/// # Errors
/// Every attempt failed, or they took longer than `timeout` together.
pub async fn connect_any(
    addresses: impl Iterator<Item = SocketAddr>,
    timeout: Duration,
) -> Result<(SocketAddr, TcpStream), ConnectError> {
    let attempts = async {
        let mut last = None;
        for addr in addresses {
            match TcpStream::connect(addr).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    return Ok((addr, stream));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(ConnectError::Failed(last.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "no address to connect to")
        })))
    };
    tokio::time::timeout(timeout, attempts)
        .await
        .unwrap_or(Err(ConnectError::TimedOut))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn closed_connections_are_skipped_and_the_cache_is_capped() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let open = connect(addr, Duration::from_secs(5))
            .await
            .expect("connect");
        let _open_peer = listener.accept().await.expect("accept").0;
        let closed = connect(addr, Duration::from_secs(5))
            .await
            .expect("connect");
        let mut closed_peer = listener.accept().await.expect("accept").0;
        closed_peer.shutdown().await.expect("close");
        drop(closed_peer);
        closed.readable().await.expect("the close arrives");
        put(addr, open);
        put(addr, closed);
        // The newest (closed) one is skipped and dropped; the open one is taken.
        let taken = take(addr).expect("the open connection");
        assert!(is_reusable(&taken));
        assert_eq!(idle_count(addr), 0);
        let mut peers = Vec::new();
        for _ in 0..MAX_IDLE_PER_BACKEND + 1 {
            let stream = connect(addr, Duration::from_secs(5))
                .await
                .expect("connect");
            peers.push(listener.accept().await.expect("accept").0);
            put(addr, stream);
        }
        assert_eq!(idle_count(addr), MAX_IDLE_PER_BACKEND);
    }

    /// Connections the backend closed while cached are dropped by later puts, not kept until
    /// their idle timeout (each holds a descriptor).
    #[tokio::test]
    async fn connections_closed_while_cached_are_dropped_by_later_puts() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut live_peers = Vec::new();
        for round in 0..20 {
            let stream = connect(addr, Duration::from_secs(5))
                .await
                .expect("connect");
            let mut peer = listener.accept().await.expect("accept").0;
            if round % 2 == 0 {
                // The backend closes it after the exchange, as a keep-alive timeout would.
                peer.shutdown().await.expect("close");
                drop(peer);
                stream.readable().await.expect("the close arrives");
            } else {
                live_peers.push(peer);
            }
            put(addr, stream);
        }
        // 10 live ones, and of the 10 closed ones only what the last puts had no turn for.
        let cached = idle_count(addr);
        assert!(
            (10..=10 + PROBES_PER_PUT).contains(&cached),
            "{cached} cached"
        );
    }

    /// A port nothing listens on (bound, then released).
    fn closed_addr() -> SocketAddr {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    }

    // The addresses of a name are tried in order, as hyper-util's HttpConnector does: a refused
    // first address falls through to the next; every one refused is the last one's error.
    #[tokio::test]
    async fn every_address_is_tried_in_order() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let live = listener.local_addr().expect("addr");
        let (dead_a, dead_b) = (closed_addr(), closed_addr());
        let (addr, _stream) =
            connect_any([dead_a, live, dead_b].into_iter(), Duration::from_secs(5))
                .await
                .expect("the second address accepts");
        assert_eq!(addr, live);
        let _peer = listener.accept().await.expect("accept");
        match connect_any([dead_a, dead_b].into_iter(), Duration::from_secs(5)).await {
            Err(ConnectError::Failed(e)) => {
                assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}")
            }
            other => panic!("expected refused: {:?}", other.map(|c| c.0)),
        }
        match connect_any(std::iter::empty(), Duration::from_secs(5)).await {
            Err(ConnectError::Failed(e)) => assert_eq!(e.kind(), io::ErrorKind::NotFound),
            other => panic!("expected no address: {:?}", other.map(|c| c.0)),
        }
    }
}
