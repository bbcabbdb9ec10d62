//! The Conflux HTTP/1 engine's own behaviour (crates/transport/src/h1), over real sockets: which
//! requests take the direct path and which go to hyper and the handler for the rest of the
//! connection, backend connection reuse (per connection and across client connections), the
//! replay of a request a reused backend connection dropped unanswered, MI's fault answers, and
//! the re-framing of chunked and close-delimited responses. The shared matrices (framing,
//! security, slow clients, client gone, transparency) run on this engine too, in their files'
//! `on_conflux_engine` modules.
//!
//! Waits are bounded by `HANG` and only detect hangs; nothing asserts on speed.

#[path = "support/raw_backend.rs"]
mod raw_backend;
mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use conflux_transport::body::ProxyBody;
use conflux_transport::h1::{BackendTarget, DirectForward, RequestView, Route, Router};
use conflux_transport::server::{ConnInfo, ListenerStats, ServerLimits, serve_routed};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use raw_backend::{RecordingBackend, Reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

const HANG: Duration = Duration::from_secs(10);

/// Direct to `backend` for targets starting with `/direct`, hyper for everything else.
struct ByPrefix {
    backend: SocketAddr,
    timeout: Option<Duration>,
}

impl Router for ByPrefix {
    fn route(&self, request: &RequestView<'_>, _conn: &ConnInfo) -> Route {
        if !request.target().starts_with("/direct") {
            return Route::General;
        }
        Route::Direct(DirectForward {
            backend: self.backend,
            fallbacks: Arc::from([]),
            host: self.backend.to_string().into(),
            target: BackendTarget::Client,
            uri: format!("http://{}", self.backend),
            timeout: self.timeout,
            connect_timeout: Duration::from_secs(5),
            request_edits: Arc::from([]),
            response_edits: Arc::from([]),
            context: None,
        })
    }
}

struct Engine {
    addr: SocketAddr,
    stats: Arc<ListenerStats>,
    shutdown: CancellationToken,
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A listener on the Conflux engine whose hyper handler answers `418 general`.
async fn engine(backend: SocketAddr, timeout: Option<Duration>) -> Engine {
    engine_with(Arc::new(ByPrefix { backend, timeout })).await
}

/// [`engine`] with any router.
async fn engine_with(router: Arc<dyn Router>) -> Engine {
    let listener = support::bind().await;
    let addr = listener.local_addr().expect("address");
    let stats: Arc<ListenerStats> = Arc::default();
    let shutdown = CancellationToken::new();
    let handler = |_req: Request<Incoming>, _conn: ConnInfo| async move {
        let mut response = Response::new(ProxyBody::from("general"));
        *response.status_mut() = StatusCode::IM_A_TEAPOT;
        response
    };
    tokio::spawn(serve_routed(
        listener,
        None,
        handler,
        Some(router),
        ServerLimits::default(),
        stats.clone(),
        shutdown.clone(),
    ));
    Engine {
        addr,
        stats,
        shutdown,
    }
}

/// One response read off a client connection.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

/// Reads one response (Content-Length or chunked body; none for `head_request`).
async fn read_answer(tcp: &mut TcpStream, pending: &mut Vec<u8>) -> Option<Answer> {
    let deadline = tokio::time::Instant::now() + HANG;
    let mut buf = [0u8; 8192];
    loop {
        if let Some(answer) = parse_answer(pending) {
            return Some(answer);
        }
        let n = tokio::time::timeout_at(deadline, tcp.read(&mut buf))
            .await
            .expect("an answer in time (hang)")
            .ok()?;
        if n == 0 {
            return None;
        }
        pending.extend_from_slice(&buf[..n]);
    }
}

fn parse_answer(pending: &mut Vec<u8>) -> Option<Answer> {
    let end = pending.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&pending[..end]).to_ascii_lowercase();
    let status = head.get(9..12)?.parse().ok()?;
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let (body, used) = if head.contains("transfer-encoding: chunked") {
        let mut body = Vec::new();
        let mut at = end;
        loop {
            let line_end = pending[at..].windows(2).position(|w| w == b"\r\n")? + at;
            let size_text = String::from_utf8_lossy(&pending[at..line_end]).to_string();
            let size = usize::from_str_radix(size_text.trim(), 16).ok()?;
            at = line_end + 2;
            if size == 0 {
                if pending.len() < at + 2 {
                    return None;
                }
                at += 2;
                break;
            }
            if pending.len() < at + size + 2 {
                return None;
            }
            body.extend_from_slice(&pending[at..at + size]);
            at += size + 2;
        }
        (body, at)
    } else {
        let length = length.unwrap_or(0);
        if pending.len() < end + length {
            return None;
        }
        (pending[end..end + length].to_vec(), end + length)
    };
    pending.drain(..used);
    Some(Answer { status, head, body })
}

async fn send(tcp: &mut TcpStream, request: &str) {
    tcp.write_all(request.as_bytes()).await.expect("write");
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// Everything direct to the addresses of a host name: `first`, then `fallbacks` in order.
struct Named {
    first: SocketAddr,
    fallbacks: Arc<[SocketAddr]>,
}

impl Router for Named {
    fn route(&self, _request: &RequestView<'_>, _conn: &ConnInfo) -> Route {
        Route::Direct(DirectForward {
            backend: self.first,
            fallbacks: self.fallbacks.clone(),
            host: "backend.example".into(),
            target: BackendTarget::Client,
            uri: "http://backend.example/x".to_string(),
            timeout: None,
            connect_timeout: Duration::from_secs(5),
            request_edits: Arc::from([]),
            response_edits: Arc::from([]),
            context: None,
        })
    }
}

/// A port nothing listens on.
fn closed_port_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("address")
}

// A name's addresses are tried in order (as the hyper path's pool.rs `connect_tcp`, like
// hyper-util's HttpConnector): the first refuses, the second answers, and the connection made
// to it is reused by the next requests; when every address refuses, MI's connect fault.
#[tokio::test]
async fn a_refused_address_falls_through_to_the_next_of_the_name() {
    let backend = RecordingBackend::start(vec![Reply::KeepAlive(OK)]).await;
    let dead = closed_port_addr();
    let e = engine_with(Arc::new(Named {
        first: dead,
        fallbacks: Arc::from([backend.addr, closed_port_addr()]),
    }))
    .await;
    let mut tcp = TcpStream::connect(e.addr).await.expect("connect");
    let mut pending = Vec::new();
    for _ in 0..3 {
        send(&mut tcp, "GET /a HTTP/1.1\r\nHost: c\r\n\r\n").await;
        let answer = read_answer(&mut tcp, &mut pending).await.expect("answer");
        assert_eq!((answer.status, answer.body.as_slice()), (200, &b"ok"[..]));
    }
    assert_eq!(backend.requests(), 3);
    assert_eq!(
        backend.connections(),
        1,
        "reused under the address it went to"
    );
    assert!(
        backend
            .received_text()
            .to_ascii_lowercase()
            .contains("host: backend.example\r\n")
    );

    let e = engine_with(Arc::new(Named {
        first: dead,
        fallbacks: Arc::from([closed_port_addr()]),
    }))
    .await;
    let mut tcp = TcpStream::connect(e.addr).await.expect("connect");
    send(
        &mut tcp,
        "GET /a HTTP/1.1\r\nHost: c\r\nAccept: application/json\r\n\r\n",
    )
    .await;
    let answer = read_answer(&mut tcp, &mut Vec::new())
        .await
        .expect("answer");
    assert_eq!(answer.status, 502, "{answer:?}");
    assert!(
        String::from_utf8_lossy(&answer.body).contains("101503"),
        "{answer:?}"
    );
}

#[tokio::test]
async fn direct_requests_reuse_one_backend_connection_until_one_goes_to_hyper() {
    let backend = RecordingBackend::start(vec![Reply::KeepAlive(OK)]).await;
    let e = engine(backend.addr, None).await;
    let mut tcp = TcpStream::connect(e.addr).await.expect("connect");
    let mut pending = Vec::new();
    for _ in 0..3 {
        send(&mut tcp, "GET /direct/a HTTP/1.1\r\nHost: c\r\n\r\n").await;
        let answer = read_answer(&mut tcp, &mut pending).await.expect("answer");
        assert_eq!((answer.status, answer.body.as_slice()), (200, &b"ok"[..]));
        assert!(answer.head.contains("date: "), "{}", answer.head);
    }
    // Not a direct route: hyper and the handler, for the rest of the connection.
    send(&mut tcp, "GET /other HTTP/1.1\r\nHost: c\r\n\r\n").await;
    let answer = read_answer(&mut tcp, &mut pending).await.expect("answer");
    assert_eq!(
        (answer.status, answer.body.as_slice()),
        (418, &b"general"[..])
    );
    send(&mut tcp, "GET /direct/b HTTP/1.1\r\nHost: c\r\n\r\n").await;
    let answer = read_answer(&mut tcp, &mut pending).await.expect("answer");
    assert_eq!(answer.status, 418, "the connection stays with hyper");
    assert_eq!(backend.requests(), 3);
    assert_eq!(backend.connections(), 1);
    let seen = backend.received_text().to_ascii_lowercase();
    assert!(seen.contains(&format!("host: {}", backend.addr)), "{seen}");
    assert!(!seen.contains("host: c\r\n"), "{seen}");
}

/// One task per client connection, one backend connection cache per worker: a second client
/// connection on the same worker (this test's runtime has one) reuses the first one's backend
/// connection.
#[tokio::test]
async fn a_later_client_connection_reuses_the_cached_backend_connection() {
    let backend = RecordingBackend::start(vec![Reply::KeepAlive(OK)]).await;
    let e = engine(backend.addr, None).await;
    for _ in 0..2 {
        let mut tcp = TcpStream::connect(e.addr).await.expect("connect");
        send(
            &mut tcp,
            "GET /direct HTTP/1.1\r\nHost: c\r\nConnection: close\r\n\r\n",
        )
        .await;
        let answer = read_answer(&mut tcp, &mut Vec::new())
            .await
            .expect("answer");
        assert_eq!(answer.status, 200);
        assert!(answer.head.contains("connection: close"), "{}", answer.head);
        // The proxy closes after a request that asked it to.
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(HANG, tcp.read_to_end(&mut rest)).await;
        assert!(rest.is_empty());
    }
    assert_eq!(backend.requests(), 2);
    assert_eq!(backend.connections(), 1);
}

/// A pooled connection the backend closes after its answer (without saying so) is not reused;
/// one that drops the next request unanswered gets the request replayed on a new connection.
#[tokio::test]
async fn a_dropped_backend_connection_is_replaced_and_an_unanswered_request_replayed() {
    let backend = RecordingBackend::start(vec![
        Reply::ThenClose(OK),
        Reply::KeepAlive(OK),
        Reply::ThenClose(b""),
        Reply::KeepAlive(OK),
    ])
    .await;
    let e = engine(backend.addr, None).await;
    let mut tcp = TcpStream::connect(e.addr).await.expect("connect");
    let mut pending = Vec::new();
    for _ in 0..3 {
        send(&mut tcp, "GET /direct HTTP/1.1\r\nHost: c\r\n\r\n").await;
        let answer = read_answer(&mut tcp, &mut pending).await.expect("answer");
        assert_eq!(answer.status, 200);
    }
    assert_eq!(backend.requests(), 4, "{}", backend.received_text());
    assert_eq!(backend.connections(), 3);
    assert_eq!(ListenerStats::get(&e.stats.client_gone), 0);
}

#[tokio::test]
async fn backend_failures_get_mis_fault_answers_and_the_connection_stays_usable() {
    // A port nobody listens on.
    let closed = support::bind().await;
    let nobody = closed.local_addr().expect("address");
    drop(closed);
    let e = engine(nobody, None).await;
    let mut tcp = TcpStream::connect(e.addr).await.expect("connect");
    let mut pending = Vec::new();
    send(&mut tcp, "GET /direct HTTP/1.1\r\nHost: c\r\n\r\n").await;
    let answer = read_answer(&mut tcp, &mut pending).await.expect("answer");
    let body = String::from_utf8_lossy(&answer.body).to_string();
    assert_eq!(answer.status, 502);
    assert!(body.contains("<code>101503</code>"), "{body}");
    assert!(
        !body.contains(&nobody.to_string()),
        "the backend's address leaked: {body}"
    );
    send(
        &mut tcp,
        "GET /direct HTTP/1.1\r\nHost: c\r\nAccept: application/json\r\n\r\n",
    )
    .await;
    let answer = read_answer(&mut tcp, &mut pending).await.expect("answer");
    let body = String::from_utf8_lossy(&answer.body).to_string();
    assert!(body.contains("\"code\":101503"), "{body}");
    assert!(answer.head.contains("application/json"), "{}", answer.head);

    // A backend that never answers: the endpoint timeout gives 504.
    let silent = support::raw_backend(|tcp: TcpStream| async move {
        let _keep = tcp;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let e = engine(silent, Some(Duration::from_millis(100))).await;
    let mut tcp = TcpStream::connect(e.addr).await.expect("connect");
    send(&mut tcp, "GET /direct HTTP/1.1\r\nHost: c\r\n\r\n").await;
    let answer = read_answer(&mut tcp, &mut Vec::new())
        .await
        .expect("answer");
    assert_eq!(answer.status, 504);
    assert!(String::from_utf8_lossy(&answer.body).contains("101504"));
}

#[tokio::test]
async fn chunked_and_close_delimited_responses_are_reframed() {
    let backend = RecordingBackend::start(vec![
        Reply::KeepAlive(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: T\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n",
        ),
        Reply::ThenClose(b"HTTP/1.1 200 OK\r\nX-Kind: until-close\r\n\r\nhello"),
    ])
    .await;
    let e = engine(backend.addr, None).await;
    let mut tcp = TcpStream::connect(e.addr).await.expect("connect");
    let mut pending = Vec::new();
    send(&mut tcp, "GET /direct HTTP/1.1\r\nHost: c\r\n\r\n").await;
    let answer = read_answer(&mut tcp, &mut pending).await.expect("answer");
    assert_eq!(answer.body, b"abcde");
    assert!(!answer.head.contains("trailer"), "{}", answer.head);
    send(&mut tcp, "GET /direct HTTP/1.1\r\nHost: c\r\n\r\n").await;
    let answer = read_answer(&mut tcp, &mut pending).await.expect("answer");
    assert_eq!(answer.body, b"hello");
    assert!(
        answer.head.contains("transfer-encoding: chunked"),
        "{}",
        answer.head
    );
    assert!(
        answer.head.contains("x-kind: until-close"),
        "{}",
        answer.head
    );
    let raw = String::from_utf8_lossy(&pending).to_string();
    assert!(raw.is_empty(), "nothing after the last chunk: {raw:?}");
}

/// A response body the backend cuts short never looks complete: the client connection ends
/// before the declared length.
#[tokio::test]
async fn a_response_cut_by_the_backend_aborts_the_client_connection() {
    let backend = RecordingBackend::start(vec![Reply::ThenClose(
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
    )])
    .await;
    let e = engine(backend.addr, None).await;
    let mut tcp = TcpStream::connect(e.addr).await.expect("connect");
    send(&mut tcp, "GET /direct HTTP/1.1\r\nHost: c\r\n\r\n").await;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(HANG, tcp.read_to_end(&mut got))
        .await
        .expect("the connection ends (hang)");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.ends_with("hello"),
        "no more than the backend sent: {text}"
    );
}

/// The endpoint timeout bounds the whole exchange up to the response head, the upload of a
/// body the client is slow to send included (as hyper's client call is bounded); the client gets
/// 504 and the connection closes, its body unread.
#[tokio::test]
async fn the_endpoint_timeout_covers_a_slow_upload() {
    let backend = RecordingBackend::start(vec![Reply::KeepAlive(OK)]).await;
    let e = engine(backend.addr, Some(Duration::from_millis(100))).await;
    let mut tcp = TcpStream::connect(e.addr).await.expect("connect");
    send(
        &mut tcp,
        "POST /direct HTTP/1.1\r\nHost: c\r\nContent-Length: 10\r\n\r\nabc",
    )
    .await;
    let answer = read_answer(&mut tcp, &mut Vec::new())
        .await
        .expect("answer");
    assert_eq!(answer.status, 504);
    assert!(answer.head.contains("connection: close"), "{}", answer.head);
    assert_eq!(
        backend.requests(),
        0,
        "the backend never got a complete request"
    );
}

/// Shutdown: the request in flight is answered (saying the connection closes), then the
/// connection is closed; nothing new is read.
#[tokio::test]
async fn shutdown_lets_the_request_in_flight_finish_then_closes() {
    let (slow, log) = support::backend(|_req: Request<Incoming>| async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Response::new(ProxyBody::from("slow"))
    })
    .await;
    let e = engine(slow, None).await;
    let mut tcp = TcpStream::connect(e.addr).await.expect("connect");
    send(&mut tcp, "GET /direct HTTP/1.1\r\nHost: c\r\n\r\n").await;
    let deadline = tokio::time::Instant::now() + HANG;
    while log.request_count() == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the backend got nothing"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    e.shutdown.cancel();
    let mut pending = Vec::new();
    let answer = read_answer(&mut tcp, &mut pending).await.expect("answer");
    assert_eq!((answer.status, answer.body.as_slice()), (200, &b"slow"[..]));
    assert!(answer.head.contains("connection: close"), "{}", answer.head);
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(HANG, tcp.read_to_end(&mut rest))
        .await
        .expect("closed (hang)");
    assert!(pending.is_empty() && rest.is_empty());
}

/// A chunked upload takes the direct path, re-framed: the backend gets canonical chunks without
/// the client's extensions and trailer fields (as through hyper's client); a malformed chunk is
/// answered 400 and the backend never gets a complete request.
#[tokio::test]
async fn chunked_uploads_are_reframed_and_a_bad_chunk_is_refused() {
    let backend = RecordingBackend::start(vec![Reply::KeepAlive(OK)]).await;
    let e = engine(backend.addr, None).await;
    let mut tcp = TcpStream::connect(e.addr).await.expect("connect");
    send(
        &mut tcp,
        "POST /direct HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n",
    )
    .await;
    let answer = read_answer(&mut tcp, &mut Vec::new())
        .await
        .expect("answer");
    assert_eq!(answer.status, 200, "not the handler's 418");
    let seen = backend.received_text().to_ascii_lowercase();
    assert!(seen.contains("transfer-encoding: chunked\r\n"), "{seen}");
    assert!(
        seen.ends_with("\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"),
        "{seen}"
    );
    assert!(
        !seen.contains("ext=1") && !seen.contains("x-trailer"),
        "{seen}"
    );

    let backend = RecordingBackend::start(vec![Reply::KeepAlive(OK)]).await;
    let e = engine(backend.addr, None).await;
    let mut tcp = TcpStream::connect(e.addr).await.expect("connect");
    send(
        &mut tcp,
        "POST /direct HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0x2\r\nde\r\n0\r\n\r\n",
    )
    .await;
    let answer = read_answer(&mut tcp, &mut Vec::new())
        .await
        .expect("answer");
    assert_eq!(answer.status, 400);
    assert!(answer.head.contains("connection: close"), "{}", answer.head);
    backend.settle().await;
    assert_eq!(backend.requests(), 0);
}
