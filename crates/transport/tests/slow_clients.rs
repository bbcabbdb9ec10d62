//! Slow and many clients over raw TCP (reliability.md §5 and §9 rows 10-12, 14; issue 20): a
//! trickled request head, an idle keep-alive connection, a request body below the minimum rate, a
//! client that stops reading a large response, and clients over the connection cap. Every limit is
//! configured short (hundreds of milliseconds) so that each case ends in about a second; the
//! timeouts around the client operations only detect hangs.

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use conflux_transport::body::ProxyBody;
use conflux_transport::server::{ConnInfo, ListenerStats, ServerLimits, serve_routed};
use http::{Request, Response};
use hyper::body::Incoming;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// How long a test waits for something that should take well under a second.
const HANG: Duration = Duration::from_secs(15);

/// Limits short enough for tests; the ones a test does not exercise stay out of the way.
fn short_limits() -> ServerLimits {
    ServerLimits {
        header_read_timeout: Duration::from_millis(600),
        keepalive_timeout: Duration::from_secs(30),
        body_read_timeout: Duration::from_secs(30),
        min_body_rate: 0,
        body_rate_grace: Duration::from_secs(30),
        send_timeout: Duration::from_secs(30),
        ..ServerLimits::default()
    }
}

/// Writes `first`, then `line` every `every` until the server closes or `max` lines went out;
/// returns how many lines went out and what the server sent.
async fn trickle(
    tcp: &mut TcpStream,
    first: &[u8],
    line: &[u8],
    every: Duration,
    max: usize,
) -> (usize, String) {
    tcp.write_all(first).await.expect("first bytes");
    let mut sent = 0;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while sent < max {
        tokio::select! {
            read = tcp.read(&mut buf) => match read {
                Ok(0) | Err(_) => return (sent, String::from_utf8_lossy(&out).into_owned()),
                Ok(n) => out.extend_from_slice(&buf[..n]),
            },
            () = tokio::time::sleep(every) => {
                if tcp.write_all(line).await.is_err() {
                    break;
                }
                sent += 1;
            }
        }
    }
    let rest = read_until_close(tcp, HANG).await;
    (sent, String::from_utf8_lossy(&out).into_owned() + &rest)
}

#[tokio::test]
async fn a_head_trickled_line_by_line_gets_408_at_the_total_deadline() {
    let (b, log) = echo_backend().await;
    let p = proxy_with(b, None, short_limits(), None).await;
    let mut tcp = TcpStream::connect(p.addr).await.expect("connect");
    // 600 ms deadline, a header line every 100 ms: a per-read timer would never fire (before the
    // fix the connection stayed open for MI's 180 s socket timeout).
    let (sent, answer) = tokio::time::timeout(
        HANG,
        trickle(
            &mut tcp,
            b"GET /slow HTTP/1.1\r\nHost: a\r\n",
            b"X-Trickle: 1\r\n",
            Duration::from_millis(100),
            100,
        ),
    )
    .await
    .expect("the head deadline must end the connection");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"));
    assert!(
        sent < 60,
        "cut long before the client gave up: {sent} lines"
    );
    assert_eq!(log.request_count(), 0, "the backend must see nothing");
}

#[tokio::test]
async fn the_head_deadline_applies_to_each_request_on_a_keep_alive_connection() {
    let (b, log) = echo_backend().await;
    let p = proxy_with(b, None, short_limits(), None).await;
    let mut tcp = TcpStream::connect(p.addr).await.expect("connect");
    tcp.write_all(b"GET /one HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .expect("first request");
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(HANG, tcp.read(&mut buf))
        .await
        .expect("first answer")
        .expect("read");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let (_, answer) = tokio::time::timeout(
        HANG,
        trickle(
            &mut tcp,
            b"GET /two HTTP/1.1\r\n",
            b"X-Trickle: 1\r\n",
            Duration::from_millis(100),
            100,
        ),
    )
    .await
    .expect("the second head's deadline must end the connection");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert_eq!(log.request_count(), 1);
}

#[tokio::test]
async fn a_head_finished_in_time_is_served() {
    let (b, log) = echo_backend().await;
    let p = proxy_with(b, None, short_limits(), None).await;
    let mut tcp = TcpStream::connect(p.addr).await.expect("connect");
    let (_, answer) = tokio::time::timeout(
        HANG,
        trickle(
            &mut tcp,
            b"GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n",
            b"\r\n",
            Duration::from_millis(100),
            1,
        ),
    )
    .await
    .expect("served");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert_eq!(log.request_count(), 1);
}

#[tokio::test]
async fn an_idle_connection_is_closed_without_an_answer_at_the_keep_alive_timeout() {
    let (b, log) = echo_backend().await;
    let limits = ServerLimits {
        keepalive_timeout: Duration::from_millis(400),
        // Longer than the keep-alive limit: it must not be what closes the idle connection.
        header_read_timeout: Duration::from_secs(30),
        ..short_limits()
    };
    let p = proxy_with(b, None, limits, None).await;
    // Nothing ever sent.
    let mut silent = TcpStream::connect(p.addr).await.expect("connect");
    assert_eq!(read_until_close(&mut silent, HANG).await, "");
    // Idle after one request.
    let mut tcp = TcpStream::connect(p.addr).await.expect("connect");
    tcp.write_all(b"GET /one HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .expect("request");
    let answer = read_until_close(&mut tcp, HANG).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert_eq!(answer.matches("HTTP/1.1").count(), 1, "{answer:?}");
    assert_eq!(log.request_count(), 1);
}

#[tokio::test]
async fn the_keep_alive_timer_does_not_cut_a_slow_backend() {
    // The backend takes longer than the keep-alive limit: the request is in flight, not idle.
    let (b, _log) = backend(|_req: Request<Incoming>| async move {
        tokio::time::sleep(Duration::from_millis(800)).await;
        Response::new(ProxyBody::from("late"))
    })
    .await;
    let limits = ServerLimits {
        keepalive_timeout: Duration::from_millis(200),
        ..short_limits()
    };
    let p = proxy_with(b, None, limits, None).await;
    let answer = raw_exchange(p.addr, b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(answer.ends_with("late"), "{answer:?}");
}

/// The bytes a recording backend received, one buffer per connection.
type Recorded = Arc<Mutex<Vec<Arc<Mutex<Vec<u8>>>>>>;

/// A raw backend that records every byte it receives per connection and never answers.
async fn recording_backend() -> (SocketAddr, Recorded) {
    let connections: Recorded = Arc::default();
    let seen = connections.clone();
    let addr = raw_backend(move |mut tcp: TcpStream| {
        let bytes: Arc<Mutex<Vec<u8>>> = Arc::default();
        if let Ok(mut all) = seen.lock() {
            all.push(bytes.clone());
        }
        async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = tcp.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                if let Ok(mut b) = bytes.lock() {
                    b.extend_from_slice(&buf[..n]);
                }
            }
        }
    })
    .await;
    (addr, connections)
}

fn received(connections: &Mutex<Vec<Arc<Mutex<Vec<u8>>>>>) -> Vec<String> {
    connections
        .lock()
        .map(|all| {
            all.iter()
                .map(|b| {
                    String::from_utf8_lossy(&b.lock().map(|b| b.clone()).unwrap_or_default())
                        .into_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

fn slow_body_limits() -> ServerLimits {
    ServerLimits {
        min_body_rate: 1000,
        body_rate_grace: Duration::from_millis(500),
        ..short_limits()
    }
}

#[tokio::test]
async fn a_body_below_the_minimum_rate_gets_408_and_the_backend_exchange_is_aborted() {
    let (b, seen) = recording_backend().await;
    let p = proxy_with(b, Some(Duration::from_secs(30)), slow_body_limits(), None).await;
    let mut tcp = TcpStream::connect(p.addr).await.expect("connect");
    // 10 bytes/s against a 1000 bytes/s minimum: cut once the 500 ms grace is used up.
    let (sent, answer) = tokio::time::timeout(
        HANG,
        trickle(
            &mut tcp,
            b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 200\r\n\r\n",
            b"x",
            Duration::from_millis(100),
            200,
        ),
    )
    .await
    .expect("the body rate must end the exchange");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"));
    assert!(
        sent < 100,
        "cut long before the body completed: {sent} bytes"
    );
    // The backend saw the head and part of the body, then its connection closed: never a
    // complete request.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for request in received(&seen) {
        let body = request.split("\r\n\r\n").nth(1).unwrap_or("");
        assert!(
            body.len() < 200,
            "the backend received the whole body: {request:?}"
        );
    }
}

#[tokio::test]
async fn a_chunked_body_below_the_minimum_rate_never_reaches_the_backend_complete() {
    let (b, seen) = recording_backend().await;
    let p = proxy_with(b, Some(Duration::from_secs(30)), slow_body_limits(), None).await;
    let mut tcp = TcpStream::connect(p.addr).await.expect("connect");
    let (_, answer) = tokio::time::timeout(
        HANG,
        trickle(
            &mut tcp,
            b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"1\r\nx\r\n",
            Duration::from_millis(150),
            200,
        ),
    )
    .await
    .expect("the body rate must end the exchange");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    for request in received(&seen) {
        assert!(
            !request.contains("\r\n0\r\n\r\n"),
            "the backend received a terminated body: {request:?}"
        );
    }
}

#[tokio::test]
async fn a_stalled_body_gets_408_at_the_body_read_timeout() {
    let (b, seen) = recording_backend().await;
    let limits = ServerLimits {
        body_read_timeout: Duration::from_millis(400),
        ..short_limits()
    };
    let p = proxy_with(b, Some(Duration::from_secs(30)), limits, None).await;
    let mut tcp = TcpStream::connect(p.addr).await.expect("connect");
    tcp.write_all(b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        .await
        .expect("request");
    let answer = read_until_close(&mut tcp, HANG).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    for request in received(&seen) {
        assert!(!request.ends_with("abc\0\0\0\0\0\0\0"), "{request:?}");
        let body = request.split("\r\n\r\n").nth(1).unwrap_or("");
        assert!(body.len() < 10, "{request:?}");
    }
}

#[tokio::test]
async fn a_fast_client_is_not_charged_for_a_backend_that_reads_slowly() {
    // The backend drains the body slowly, so the proxy stops asking the client for bytes; that
    // time is not the client's. A 4 MiB body against a 100 MB/s minimum rate and 200 ms of grace
    // would be cut at once if it were.
    let total = AtomicU64::new(0);
    let total = Arc::new(total);
    let counted = total.clone();
    let (b, _log) = backend(move |req: Request<Incoming>| {
        let counted = counted.clone();
        async move {
            use http_body_util::BodyExt;
            let mut body = req.into_body();
            while let Some(Ok(frame)) = body.frame().await {
                if let Some(data) = frame.data_ref() {
                    counted.fetch_add(data.len() as u64, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Response::new(ProxyBody::from("stored"))
        }
    })
    .await;
    let limits = ServerLimits {
        min_body_rate: 100_000_000,
        body_rate_grace: Duration::from_millis(200),
        ..short_limits()
    };
    let p = proxy_with(b, Some(Duration::from_secs(30)), limits, None).await;
    const SIZE: usize = 4 * 1024 * 1024;
    let mut tcp = TcpStream::connect(p.addr).await.expect("connect");
    let head = format!(
        "POST /up HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: {SIZE}\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.expect("head");
    let body = pattern_chunk(7, SIZE);
    let (mut rd, mut wr) = tcp.into_split();
    // The write half is handed back, not dropped: dropping it would half-close the connection,
    // which the listener takes as the client having gone (tests/client_gone.rs).
    let writer = tokio::spawn(async move { (wr.write_all(&body).await.is_ok(), wr) });
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(60), rd.read_to_end(&mut out)).await;
    let answer = String::from_utf8_lossy(&out);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(writer.await.is_ok_and(|(written, _)| written));
    assert_eq!(total.load(Ordering::SeqCst), SIZE as u64);
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_and_memory_stays_bounded() {
    // The backend would stream 1 GiB; it counts what the proxy pulled from it.
    const CHUNK: usize = 64 * 1024;
    const TOTAL: u64 = 1 << 30;
    let produced = Arc::new(AtomicU64::new(0));
    let counter = produced.clone();
    let (b, _log) = backend(move |_req: Request<Incoming>| {
        let counter = counter.clone();
        async move {
            let chunk = Bytes::from(vec![b'z'; CHUNK]);
            let stream = futures_util::stream::unfold(0u64, move |sent| {
                let chunk = chunk.clone();
                let counter = counter.clone();
                async move {
                    if sent >= TOTAL {
                        return None;
                    }
                    counter.fetch_add(CHUNK as u64, Ordering::SeqCst);
                    Some((
                        Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(chunk)),
                        sent + CHUNK as u64,
                    ))
                }
            });
            let mut response =
                Response::new(ProxyBody::boxed(http_body_util::StreamBody::new(stream)));
            response
                .headers_mut()
                .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(TOTAL));
            response
        }
    })
    .await;
    let limits = ServerLimits {
        send_timeout: Duration::from_millis(500),
        ..short_limits()
    };
    let p = proxy_with(b, None, limits, None).await;
    let mut tcp = TcpStream::connect(p.addr).await.expect("connect");
    tcp.write_all(b"GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .expect("request");
    // Read nothing until production has stopped (backpressure) and the send timeout has passed.
    let mut last = u64::MAX;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = produced.load(Ordering::SeqCst);
        if now == last {
            break;
        }
        last = now;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let pulled = produced.load(Ordering::SeqCst);
    assert!(
        pulled < 64 * 1024 * 1024,
        "the proxy pulled {pulled} bytes for a client that read nothing"
    );
    // The proxy has given up on the client: reading now drains what was buffered, then ends.
    let mut got = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match tokio::time::timeout(HANG, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got += n as u64,
            Err(_) => panic!("the connection of a client that stopped reading stayed open"),
        }
    }
    assert!(
        got < TOTAL / 4,
        "the response went on after the send timeout: {got} bytes"
    );
    let after = produced.load(Ordering::SeqCst);
    assert!(
        after < pulled + 64 * 1024 * 1024,
        "the backend exchange went on after the cut: {after} bytes"
    );
}

/// The response size of the slow-reader tests: far more than the client's receive buffer, the
/// capped unsent queue and hyper's write buffer together.
const SLOW_READ_BODY: usize = 512 * 1024;

/// A listener answering every request with `size` bytes itself, with counters.
async fn big_answer_listener(
    limits: ServerLimits,
    size: usize,
) -> (SocketAddr, Arc<ListenerStats>, CancellationToken) {
    let listener = bind().await;
    let addr = listener.local_addr().expect("address");
    let stats: Arc<ListenerStats> = Arc::default();
    let shutdown = CancellationToken::new();
    let handler = move |_req: Request<Incoming>, _conn: ConnInfo| async move {
        Response::new(ProxyBody::from(Bytes::from(vec![b'z'; size])))
    };
    let router = answering_router(Bytes::from(vec![b'z'; size])).await;
    tokio::spawn(serve_routed(
        listener,
        None,
        handler,
        router,
        limits,
        stats.clone(),
        shutdown.clone(),
    ));
    (addr, stats, shutdown)
}

/// Requests the big answer over a connection with a small receive buffer (as slowhttptest `-X`
/// sets one) and reads `quota` bytes every `every` until the connection ends; returns the bytes
/// read, and whether they were the whole response (its head is a few dozen bytes on top of the
/// body).
async fn read_at_a_pace(addr: SocketAddr, quota: usize, every: Duration) -> (usize, bool) {
    let got = paced_read(addr, quota, every).await;
    (got, got > SLOW_READ_BODY)
}

async fn paced_read(addr: SocketAddr, quota: usize, every: Duration) -> usize {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("receive buffer");
    let mut tcp = socket.connect(addr).await.expect("connect");
    tcp.write_all(b"GET /big HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let mut got = 0;
    let mut buf = vec![0u8; quota];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut filled = 0;
        while filled < quota {
            match tokio::time::timeout_at(deadline, tcp.read(&mut buf[filled..])).await {
                Ok(Ok(0)) | Ok(Err(_)) => return got + filled,
                Ok(Ok(n)) => filled += n,
                Err(_) => panic!("the connection of a slow reader stayed open ({got} bytes read)"),
            }
        }
        got += filled;
        tokio::time::sleep(every).await;
    }
}

#[tokio::test]
async fn a_reader_at_twice_the_minimum_send_rate_is_served_and_one_at_a_quarter_is_cut() {
    // 64 KiB/s at least, 1 s of waiting banked at most; each step of progress the kernel
    // reports (half the 16 KiB unsent queue) is worth 125 ms.
    let limits = ServerLimits {
        send_timeout: Duration::from_secs(1),
        min_send_rate: 64 * 1024,
        ..short_limits()
    };
    let (addr, stats, _shutdown) = big_answer_listener(limits, SLOW_READ_BODY).await;
    // 128 KiB/s: 8 KiB every 62.5 ms; the whole answer in about 4 s.
    let (got, whole) = read_at_a_pace(addr, 8 * 1024, Duration::from_micros(62_500)).await;
    assert!(whole, "a reader above the rate was cut after {got} bytes");
    assert_eq!(ListenerStats::get(&stats.send_timeouts), 0);
    // 16 KiB/s: 2 KiB every 125 ms; the budget drains by three quarters of the waiting time.
    let (got, whole) = read_at_a_pace(addr, 2 * 1024, Duration::from_millis(125)).await;
    assert!(!whole, "a reader below the rate got the whole answer");
    assert!(got < SLOW_READ_BODY / 2, "cut late: {got} bytes read");
    assert_eq!(ListenerStats::get(&stats.send_timeouts), 1);
}

#[tokio::test]
async fn a_reader_that_read_fast_first_is_still_cut_when_it_trickles() {
    // Reading fast banks at most the send timeout's worth of waiting (1 s). The 3 MiB read
    // first would be worth 48 s at 64 KiB/s; a budget that kept it would let the trickle below
    // (a quarter of the rate, every single wait well under the send timeout) go on for a minute.
    const SIZE: usize = 4 * 1024 * 1024;
    let limits = ServerLimits {
        send_timeout: Duration::from_secs(1),
        min_send_rate: 64 * 1024,
        ..short_limits()
    };
    let (addr, stats, _shutdown) = big_answer_listener(limits, SIZE).await;
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("receive buffer");
    let mut tcp = socket.connect(addr).await.expect("connect");
    tcp.write_all(b"GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .expect("request");
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    while got < 3 * 1024 * 1024 {
        match tokio::time::timeout(HANG, tcp.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got += n,
            other => panic!("the answer stopped early: {other:?}"),
        }
    }
    // Then 2 KiB every 125 ms (16 KiB/s): cut after about 1.3 s.
    let deadline = tokio::time::Instant::now() + HANG;
    loop {
        tokio::time::sleep(Duration::from_millis(125)).await;
        let mut filled = 0;
        while filled < 2048 {
            match tokio::time::timeout_at(deadline, tcp.read(&mut buf[filled..2048])).await {
                Ok(Ok(0)) | Ok(Err(_)) => {
                    assert_eq!(ListenerStats::get(&stats.send_timeouts), 1);
                    return;
                }
                Ok(Ok(n)) => filled += n,
                Err(_) => {
                    panic!("the trickling reader was not cut within {HANG:?} ({got} bytes read)")
                }
            }
        }
        got += filled;
        assert!(got < SIZE, "the trickling reader got the whole answer");
    }
}

/// A listener answering `200 ok` itself, with counters, for the connection-cap tests.
async fn counted_listener(
    limits: ServerLimits,
) -> (SocketAddr, Arc<ListenerStats>, CancellationToken) {
    let listener = bind().await;
    let addr = listener.local_addr().expect("address");
    let stats: Arc<ListenerStats> = Arc::default();
    let shutdown = CancellationToken::new();
    let handler = |_req: Request<Incoming>, _conn: ConnInfo| async move {
        Response::new(ProxyBody::from("ok"))
    };
    let router = answering_router(Bytes::from_static(b"ok")).await;
    tokio::spawn(serve_routed(
        listener,
        None,
        handler,
        router,
        limits,
        stats.clone(),
        shutdown.clone(),
    ));
    (addr, stats, shutdown)
}

#[tokio::test]
async fn connections_over_the_cap_get_503_and_close_at_once() {
    let limits = ServerLimits {
        max_connections: 2,
        ..short_limits()
    };
    let (addr, stats, shutdown) = counted_listener(limits).await;
    // Two connections hold the cap (a request answered, the connection kept open).
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            .await
            .expect("request");
        let mut buf = [0u8; 1024];
        let n = tokio::time::timeout(HANG, tcp.read(&mut buf))
            .await
            .expect("answer")
            .expect("read");
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        held.push(tcp);
    }
    // The third is refused promptly, with an answer, instead of waiting in the backlog.
    let mut third = TcpStream::connect(addr).await.expect("connect");
    let _ = third.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    let answer = read_until_close(&mut third, HANG).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"));
    assert_eq!(ListenerStats::get(&stats.refused_over_cap), 1);
    // A slot freed is a slot served.
    drop(held.pop());
    let mut served = None;
    for _ in 0..50 {
        let answer = raw_exchange(
            addr,
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        )
        .await;
        if answer.starts_with("HTTP/1.1 200") {
            served = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served.is_some(), "a freed slot must be served again");
    shutdown.cancel();
}

#[tokio::test]
async fn the_cap_is_exact_at_the_limit() {
    // limit connections are served, limit + 1 is refused.
    const LIMIT: usize = 5;
    let limits = ServerLimits {
        max_connections: LIMIT,
        ..short_limits()
    };
    let (addr, stats, shutdown) = counted_listener(limits).await;
    let mut held = Vec::new();
    for _ in 0..LIMIT {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            .await
            .expect("request");
        let mut buf = [0u8; 1024];
        let n = tokio::time::timeout(HANG, tcp.read(&mut buf))
            .await
            .expect("answer")
            .expect("read");
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        held.push(tcp);
    }
    assert_eq!(ListenerStats::get(&stats.refused_over_cap), 0);
    let answer = raw_exchange(addr, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert_eq!(ListenerStats::get(&stats.refused_over_cap), 1);
    shutdown.cancel();
}

fn tls_pair() -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("rcgen");
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .expect("server config");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).expect("trust the test certificate");
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

#[tokio::test]
async fn tls_connections_over_the_cap_are_closed_before_any_handshake() {
    let (server_tls, client_tls) = tls_pair();
    let listener = bind().await;
    let addr = listener.local_addr().expect("address");
    let stats: Arc<ListenerStats> = Arc::default();
    let shutdown = CancellationToken::new();
    let handler = |_req: Request<Incoming>, _conn: ConnInfo| async move {
        Response::new(ProxyBody::from("ok"))
    };
    let limits = ServerLimits {
        max_connections: 1,
        ..short_limits()
    };
    // TLS connections stay on hyper whatever the engine; the router is never asked.
    let router = answering_router(Bytes::from_static(b"ok")).await;
    tokio::spawn(serve_routed(
        listener,
        Some(server_tls),
        handler,
        router,
        limits,
        stats.clone(),
        shutdown.clone(),
    ));
    let connector = tokio_rustls::TlsConnector::from(client_tls);
    let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
    let first = TcpStream::connect(addr).await.expect("connect");
    let held = tokio::time::timeout(HANG, connector.connect(name.clone(), first))
        .await
        .expect("first handshake in time");
    assert!(held.is_ok(), "the first connection is under the cap");
    let second = TcpStream::connect(addr).await.expect("connect");
    let refused = tokio::time::timeout(HANG, connector.connect(name, second))
        .await
        .expect("the refusal must be prompt");
    assert!(refused.is_err(), "no handshake over the cap");
    assert_eq!(ListenerStats::get(&stats.refused_over_cap), 1);
    drop(held);
    shutdown.cancel();
}

/// Every test above again with the proxy on the Conflux HTTP/1 engine (`[transport]
/// http1_engine = "conflux"`, crates/transport/src/h1): a case it accepts that hyper refused
/// is a regression.
mod on_conflux_engine {
    use super::support::{Engine, on_engine};

    #[test]
    fn a_head_trickled_line_by_line_gets_408_at_the_total_deadline() {
        on_engine(
            Engine::Conflux,
            super::a_head_trickled_line_by_line_gets_408_at_the_total_deadline,
        );
    }

    #[test]
    fn the_head_deadline_applies_to_each_request_on_a_keep_alive_connection() {
        on_engine(
            Engine::Conflux,
            super::the_head_deadline_applies_to_each_request_on_a_keep_alive_connection,
        );
    }

    #[test]
    fn a_head_finished_in_time_is_served() {
        on_engine(Engine::Conflux, super::a_head_finished_in_time_is_served);
    }

    #[test]
    fn an_idle_connection_is_closed_without_an_answer_at_the_keep_alive_timeout() {
        on_engine(
            Engine::Conflux,
            super::an_idle_connection_is_closed_without_an_answer_at_the_keep_alive_timeout,
        );
    }

    #[test]
    fn the_keep_alive_timer_does_not_cut_a_slow_backend() {
        on_engine(
            Engine::Conflux,
            super::the_keep_alive_timer_does_not_cut_a_slow_backend,
        );
    }

    #[test]
    fn a_body_below_the_minimum_rate_gets_408_and_the_backend_exchange_is_aborted() {
        on_engine(
            Engine::Conflux,
            super::a_body_below_the_minimum_rate_gets_408_and_the_backend_exchange_is_aborted,
        );
    }

    #[test]
    fn a_chunked_body_below_the_minimum_rate_never_reaches_the_backend_complete() {
        on_engine(
            Engine::Conflux,
            super::a_chunked_body_below_the_minimum_rate_never_reaches_the_backend_complete,
        );
    }

    #[test]
    fn a_stalled_body_gets_408_at_the_body_read_timeout() {
        on_engine(
            Engine::Conflux,
            super::a_stalled_body_gets_408_at_the_body_read_timeout,
        );
    }

    #[test]
    fn a_fast_client_is_not_charged_for_a_backend_that_reads_slowly() {
        on_engine(
            Engine::Conflux,
            super::a_fast_client_is_not_charged_for_a_backend_that_reads_slowly,
        );
    }

    #[test]
    fn a_client_that_stops_reading_is_cut_and_memory_stays_bounded() {
        on_engine(
            Engine::Conflux,
            super::a_client_that_stops_reading_is_cut_and_memory_stays_bounded,
        );
    }

    #[test]
    fn a_reader_at_twice_the_minimum_send_rate_is_served_and_one_at_a_quarter_is_cut() {
        on_engine(
            Engine::Conflux,
            super::a_reader_at_twice_the_minimum_send_rate_is_served_and_one_at_a_quarter_is_cut,
        );
    }

    #[test]
    fn a_reader_that_read_fast_first_is_still_cut_when_it_trickles() {
        on_engine(
            Engine::Conflux,
            super::a_reader_that_read_fast_first_is_still_cut_when_it_trickles,
        );
    }

    #[test]
    fn connections_over_the_cap_get_503_and_close_at_once() {
        on_engine(
            Engine::Conflux,
            super::connections_over_the_cap_get_503_and_close_at_once,
        );
    }

    #[test]
    fn the_cap_is_exact_at_the_limit() {
        on_engine(Engine::Conflux, super::the_cap_is_exact_at_the_limit);
    }

    #[test]
    fn tls_connections_over_the_cap_are_closed_before_any_handshake() {
        on_engine(
            Engine::Conflux,
            super::tls_connections_over_the_cap_are_closed_before_any_handshake,
        );
    }
}
