//! A client that leaves before its answer (issue 20, "work stops when the client goes away"),
//! over real sockets: the listener notices the client's end of input (FIN) or reset while a
//! request is in flight, drops the exchange (the backend call with it, so the backend sees its
//! connection closed and it is never pooled half-used), counts it in
//! `ListenerStats::client_gone` and keeps serving everyone else.
//!
//! Decisions pinned here:
//! - HTTP/1 cannot tell a client that closed from one that only half-closed (`shutdown(SHUT_WR)`)
//!   after its request: both arrive as FIN. A FIN while a request is in flight is taken as the
//!   client having gone, as nginx does by default (`proxy_ignore_client_abort off`) and as MI's
//!   pass-through does whenever it reads the end of input (`SourceHandler.endOfInput` closes the
//!   connection; MI suspends input while it mediates, so it notices only when it writes or asks
//!   for the next request).
//! - Requests already read on a connection complete before the listener's own cut of the stream
//!   (a refused pipelined head, a late head) takes effect.
//!
//! Waits are bounded by `HANG` and only detect hangs; nothing asserts on speed.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use conflux_transport::body::ProxyBody;
use conflux_transport::client::{BackendClient, ClientOptions};
use conflux_transport::forward::pass_through;
use conflux_transport::server::{ConnInfo, ListenerStats, ServerLimits, serve_routed};
use http::{Request, Response};
use hyper::body::Incoming;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How long a test waits for something that should take well under a second.
const HANG: Duration = Duration::from_secs(15);

/// A proxy forwarding everything to `backend` through `serve_counted`, with its counters.
struct Counted {
    addr: SocketAddr,
    stats: Arc<ListenerStats>,
    shutdown: CancellationToken,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn counted_proxy(backend: SocketAddr, limits: ServerLimits) -> Counted {
    let listener = bind().await;
    let addr = listener.local_addr().expect("proxy address");
    let client = BackendClient::new(test_client_tls(), ClientOptions::default());
    let stats: Arc<ListenerStats> = Arc::default();
    let shutdown = CancellationToken::new();
    let handler = move |req: Request<Incoming>, _conn: ConnInfo| {
        let client = client.clone();
        async move {
            let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
            let target: http::Uri = match format!("http://{backend}{path}").parse() {
                Ok(uri) => uri,
                Err(_) => return Response::new(ProxyBody::Empty),
            };
            match pass_through(&client, req, &target, Some(Duration::from_secs(120))).await {
                Ok(resp) => resp,
                Err((_, fault)) => fault,
            }
        }
    };
    tokio::spawn(serve_routed(
        listener,
        None,
        handler,
        router_for(backend, Some(Duration::from_secs(120))),
        limits,
        stats.clone(),
        shutdown.clone(),
    ));
    Counted {
        addr,
        stats,
        shutdown,
    }
}

/// What a stalling backend saw on one connection.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// A whole request head arrived (its request line).
    Request(String),
    /// The proxy closed or reset the connection.
    Closed,
}

/// A backend that reads a request head and then never answers, reporting the head and the
/// moment the proxy closes the connection; the second element counts connections.
async fn stalling_backend() -> (SocketAddr, mpsc::UnboundedReceiver<Seen>, Arc<AtomicU64>) {
    let (events, seen) = mpsc::unbounded_channel();
    let connections = Arc::new(AtomicU64::new(0));
    let count = connections.clone();
    let addr = raw_backend(move |mut tcp: TcpStream| {
        let events = events.clone();
        count.fetch_add(1, Ordering::SeqCst);
        async move {
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            let mut reported = false;
            loop {
                match tcp.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
                if !reported && got.windows(4).any(|w| w == b"\r\n\r\n") {
                    reported = true;
                    let line = String::from_utf8_lossy(&got);
                    let line = line.lines().next().unwrap_or_default().to_owned();
                    let _ = events.send(Seen::Request(line));
                }
            }
            let _ = events.send(Seen::Closed);
        }
    })
    .await;
    (addr, seen, connections)
}

async fn next(seen: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    match tokio::time::timeout(HANG, seen.recv()).await {
        Ok(Some(event)) => event,
        other => panic!("the backend saw nothing more: {other:?}"),
    }
}

/// Waits until `counter` reads `want`.
async fn until(counter: &AtomicU64, want: u64, what: &str) {
    let deadline = tokio::time::Instant::now() + HANG;
    while ListenerStats::get(counter) != want {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: {} instead of {want}",
            ListenerStats::get(counter)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Connects to the proxy at `addr`, sends `raw` and waits until the backend has seen its request
/// line.
async fn reaching_backend(
    addr: SocketAddr,
    raw: &[u8],
    seen: &mut mpsc::UnboundedReceiver<Seen>,
) -> TcpStream {
    let mut client = TcpStream::connect(addr).await.expect("connect");
    client.write_all(raw).await.expect("request");
    let text = String::from_utf8_lossy(raw);
    let line = text.split("\r\n").next().unwrap_or_default();
    assert_eq!(next(seen).await, Seen::Request(line.to_string()));
    client
}

fn statuses(raw: &str) -> Vec<&str> {
    raw.match_indices("HTTP/1.1 ")
        .filter_map(|(at, _)| raw.get(at + 9..at + 12))
        .collect()
}

#[tokio::test]
async fn a_client_that_closes_while_the_backend_stalls_cancels_the_backend_exchange() {
    let (backend, mut seen, connections) = stalling_backend().await;
    let p = counted_proxy(backend, ServerLimits::default()).await;
    let client =
        reaching_backend(p.addr, b"GET /stall HTTP/1.1\r\nHost: a\r\n\r\n", &mut seen).await;
    until(&p.stats.in_flight, 1, "requests in flight").await;
    drop(client);
    // The backend call is dropped with the exchange: its connection is closed, not pooled.
    assert_eq!(next(&mut seen).await, Seen::Closed);
    until(&p.stats.in_flight, 0, "requests in flight").await;
    assert_eq!(ListenerStats::get(&p.stats.client_gone), 1);
    // Everyone else is still served; the half-used backend connection was not reused.
    let other = reaching_backend(p.addr, b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n", &mut seen).await;
    assert_eq!(connections.load(Ordering::SeqCst), 2);
    drop(other);
    assert_eq!(next(&mut seen).await, Seen::Closed);
    until(&p.stats.client_gone, 2, "exchanges given up").await;
}

#[tokio::test]
async fn a_client_that_resets_while_the_backend_stalls_cancels_the_backend_exchange() {
    let (backend, mut seen, _) = stalling_backend().await;
    let p = counted_proxy(backend, ServerLimits::default()).await;
    let client = reaching_backend(
        p.addr,
        b"POST /stall HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
        &mut seen,
    )
    .await;
    // SO_LINGER 0: the close sends RST instead of FIN.
    socket2::SockRef::from(&client)
        .set_linger(Some(Duration::ZERO))
        .expect("linger");
    drop(client);
    assert_eq!(next(&mut seen).await, Seen::Closed);
    until(&p.stats.in_flight, 0, "requests in flight").await;
    assert_eq!(ListenerStats::get(&p.stats.client_gone), 1);
}

#[tokio::test]
async fn a_client_that_half_closes_after_its_request_is_taken_as_gone() {
    let (backend, mut seen, _) = stalling_backend().await;
    let p = counted_proxy(backend, ServerLimits::default()).await;
    let mut client =
        reaching_backend(p.addr, b"GET /stall HTTP/1.1\r\nHost: a\r\n\r\n", &mut seen).await;
    client.shutdown().await.expect("half-close");
    assert_eq!(next(&mut seen).await, Seen::Closed);
    // No answer: the exchange was given up and the connection closed.
    assert_eq!(read_until_close(&mut client, HANG).await, "");
    assert_eq!(ListenerStats::get(&p.stats.client_gone), 1);
}

#[tokio::test]
async fn a_client_that_leaves_mid_response_stops_the_backend_stream() {
    // The backend streams without end, 16 KiB at a time, counting what the proxy pulled.
    let produced = Arc::new(AtomicU64::new(0));
    let counter = produced.clone();
    let (b, log) = backend(move |_req: Request<Incoming>| {
        let counter = counter.clone();
        async move {
            let chunk = Bytes::from(vec![b'z'; 16 * 1024]);
            let stream = futures_util::stream::unfold((), move |()| {
                let chunk = chunk.clone();
                let counter = counter.clone();
                async move {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                    Some((
                        Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(chunk)),
                        (),
                    ))
                }
            });
            Response::new(ProxyBody::boxed(http_body_util::StreamBody::new(stream)))
        }
    })
    .await;
    let p = counted_proxy(b, ServerLimits::default()).await;
    let mut client = TcpStream::connect(p.addr).await.expect("connect");
    client
        .write_all(b"GET /endless HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .expect("request");
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    while got < 100_000 {
        match tokio::time::timeout(HANG, client.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got += n,
            other => panic!("the response stopped early: {other:?}"),
        }
    }
    drop(client);
    until(&p.stats.client_gone, 1, "exchanges given up").await;
    until(&p.stats.in_flight, 0, "requests in flight").await;
    // The backend stream stops being pulled (its connection closes, nothing reads it).
    let mut last = produced.load(Ordering::SeqCst);
    let deadline = tokio::time::Instant::now() + HANG;
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = produced.load(Ordering::SeqCst);
        if now == last {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the backend stream was still pulled: {now} bytes"
        );
        last = now;
    }
    assert_eq!(log.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_client_that_closes_between_requests_gives_nothing_up() {
    let (b, _log) = echo_backend().await;
    let p = counted_proxy(b, ServerLimits::default()).await;
    let mut client = TcpStream::connect(p.addr).await.expect("connect");
    client
        .write_all(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok")
        .await
        .expect("request");
    let mut buf = vec![0u8; 4096];
    let mut got = String::new();
    while !got.ends_with("ok") {
        match tokio::time::timeout(HANG, client.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.push_str(&String::from_utf8_lossy(&buf[..n])),
            other => panic!("no answer: {other:?} after {got:?}"),
        }
    }
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    drop(client);
    until(&p.stats.in_flight, 0, "requests in flight").await;
    until(&p.stats.open, 0, "open connections").await;
    assert_eq!(ListenerStats::get(&p.stats.client_gone), 0);
}

/// A backend answering `200 slow` after `delay`.
async fn slow_backend(delay: Duration) -> SocketAddr {
    let (addr, _log) = backend(move |_req: Request<Incoming>| async move {
        tokio::time::sleep(delay).await;
        Response::new(ProxyBody::from("slow"))
    })
    .await;
    addr
}

#[tokio::test]
async fn a_refused_pipelined_head_waits_for_the_slow_request_before_it() {
    let p = counted_proxy(
        slow_backend(Duration::from_millis(300)).await,
        ServerLimits::default(),
    )
    .await;
    let mut client = TcpStream::connect(p.addr).await.expect("connect");
    client
        .write_all(b"GET /first HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        .await
        .expect("requests");
    let raw = read_until_close(&mut client, HANG).await;
    assert_eq!(statuses(&raw), ["200", "400"], "{raw}");
    assert!(raw.contains("slow"), "{raw}");
    assert_eq!(ListenerStats::get(&p.stats.client_gone), 0);
}

#[tokio::test]
async fn a_late_pipelined_head_gets_408_after_the_slow_request_before_it() {
    let limits = ServerLimits {
        header_read_timeout: Duration::from_millis(200),
        ..ServerLimits::default()
    };
    let p = counted_proxy(slow_backend(Duration::from_millis(800)).await, limits).await;
    let mut client = TcpStream::connect(p.addr).await.expect("connect");
    // The second head starts while the first request waits for its backend, and misses its
    // deadline then.
    client
        .write_all(b"GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\n")
        .await
        .expect("requests");
    let raw = read_until_close(&mut client, HANG).await;
    assert_eq!(statuses(&raw), ["200", "408"], "{raw}");
    assert_eq!(ListenerStats::get(&p.stats.head_timeouts), 1);
    assert_eq!(ListenerStats::get(&p.stats.client_gone), 0);
}

/// Every test above again with the proxy on the Conflux HTTP/1 engine (`[transport]
/// http1_engine = "conflux"`, crates/transport/src/h1): a case it accepts that hyper refused
/// is a regression.
mod on_conflux_engine {
    use super::support::{Engine, on_engine};

    #[test]
    fn a_client_that_closes_while_the_backend_stalls_cancels_the_backend_exchange() {
        on_engine(
            Engine::Conflux,
            super::a_client_that_closes_while_the_backend_stalls_cancels_the_backend_exchange,
        );
    }

    #[test]
    fn a_client_that_resets_while_the_backend_stalls_cancels_the_backend_exchange() {
        on_engine(
            Engine::Conflux,
            super::a_client_that_resets_while_the_backend_stalls_cancels_the_backend_exchange,
        );
    }

    #[test]
    fn a_client_that_half_closes_after_its_request_is_taken_as_gone() {
        on_engine(
            Engine::Conflux,
            super::a_client_that_half_closes_after_its_request_is_taken_as_gone,
        );
    }

    #[test]
    fn a_client_that_leaves_mid_response_stops_the_backend_stream() {
        on_engine(
            Engine::Conflux,
            super::a_client_that_leaves_mid_response_stops_the_backend_stream,
        );
    }

    #[test]
    fn a_client_that_closes_between_requests_gives_nothing_up() {
        on_engine(
            Engine::Conflux,
            super::a_client_that_closes_between_requests_gives_nothing_up,
        );
    }

    #[test]
    fn a_refused_pipelined_head_waits_for_the_slow_request_before_it() {
        on_engine(
            Engine::Conflux,
            super::a_refused_pipelined_head_waits_for_the_slow_request_before_it,
        );
    }

    #[test]
    fn a_late_pipelined_head_gets_408_after_the_slow_request_before_it() {
        on_engine(
            Engine::Conflux,
            super::a_late_pipelined_head_gets_408_after_the_slow_request_before_it,
        );
    }
}
