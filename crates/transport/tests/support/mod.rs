//! Test toolkit for the pass-through core: in-process hyper backends with scripted behaviours
//! (echo, fixed sizes, trickled chunks, close mid-body, stall, 204/304/HEAD, header recording), a
//! proxy that forwards every request to one backend through `BackendClient`, and raw-socket
//! helpers. Everything listens on 127.0.0.1 port 0.

#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use conflux_transport::body::ProxyBody;
use conflux_transport::client::{BackendClient, ClientOptions};
use conflux_transport::forward::pass_through;
use conflux_transport::h1::{BackendTarget, DirectForward, RequestView, Route, Router};
use conflux_transport::server::{ConnInfo, ServerLimits, serve_routed};
use http::{HeaderMap, Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// What a backend saw.
#[derive(Default)]
pub struct BackendLog {
    pub connections: AtomicUsize,
    pub requests: Mutex<Vec<(http::Method, String, HeaderMap)>>,
}

impl BackendLog {
    pub fn request_count(&self) -> usize {
        self.requests.lock().map(|r| r.len()).unwrap_or(0)
    }
    pub fn last_headers(&self) -> HeaderMap {
        self.requests
            .lock()
            .ok()
            .and_then(|r| r.last().map(|(_, _, h)| h.clone()))
            .unwrap_or_default()
    }
}

pub type BackendFn = Arc<
    dyn Fn(Request<Incoming>) -> std::pin::Pin<Box<dyn Future<Output = Response<ProxyBody>> + Send>>
        + Send
        + Sync,
>;

/// A hyper HTTP/1.1 backend answering with `behaviour`; returns its address and log.
pub async fn backend<F, Fut>(behaviour: F) -> (SocketAddr, Arc<BackendLog>)
where
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<ProxyBody>> + Send + 'static,
{
    let listener = bind().await;
    let addr = listener.local_addr().expect("backend address");
    let log = Arc::new(BackendLog::default());
    let behaviour = Arc::new(behaviour);
    let log2 = log.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            log2.connections.fetch_add(1, Ordering::SeqCst);
            let behaviour = behaviour.clone();
            let log = log2.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    if let Ok(mut r) = log.requests.lock() {
                        r.push((
                            req.method().clone(),
                            req.uri().to_string(),
                            req.headers().clone(),
                        ));
                    }
                    let fut = behaviour(req);
                    async move { Ok::<_, Infallible>(fut.await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    (addr, log)
}

/// A raw TCP backend: each connection gets `script` run on it.
pub async fn raw_backend<F, Fut>(script: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = bind().await;
    let addr = listener.local_addr().expect("raw backend address");
    let script = Arc::new(script);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(script(tcp));
        }
    });
    addr
}

pub async fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0")
}

/// A backend echoing the request body (streamed) with the request's content type.
pub async fn echo_backend() -> (SocketAddr, Arc<BackendLog>) {
    backend(|req: Request<Incoming>| async move { Response::new(ProxyBody::from(req.into_body())) })
        .await
}

pub fn test_client_tls() -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    Arc::new(config)
}

/// Which HTTP/1 engine the proxies of a test use (`[transport] http1_engine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Hyper,
    Conflux,
}

thread_local! {
    /// The engine of the test running on this thread, and how many proxies it made with it.
    static ENGINE: std::cell::Cell<(Engine, usize)> = const { std::cell::Cell::new((Engine::Hyper, 0)) };
}

/// Runs `test` (a `#[tokio::test]` function: its body runs on this thread) with its proxies on
/// `engine`, and checks that it made at least one, so a second run of a matrix cannot pass
/// without running on the engine it names.
pub fn on_engine(engine: Engine, test: fn()) {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            ENGINE.with(|e| e.set((Engine::Hyper, 0)));
        }
    }
    let _reset = Reset;
    ENGINE.with(|e| e.set((engine, 0)));
    test();
    let (_, made) = ENGINE.with(std::cell::Cell::get);
    assert!(made > 0, "the test made no proxy on the {engine:?} engine");
}

/// The router for a proxy forwarding everything to `backend` on this thread's engine: `None`
/// on hyper; on the Conflux engine every request is a direct forward (as a deployment's plain
/// `<send>` route is).
pub fn router_for(backend: SocketAddr, timeout: Option<Duration>) -> Option<Arc<dyn Router>> {
    let (engine, made) = ENGINE.with(std::cell::Cell::get);
    if engine == Engine::Hyper {
        return None;
    }
    ENGINE.with(|e| e.set((engine, made + 1)));
    Some(Arc::new(ForwardAll(DirectForward {
        backend,
        fallbacks: Arc::from([]),
        host: backend.to_string().into(),
        target: BackendTarget::Client,
        uri: format!("http://{backend}"),
        timeout,
        connect_timeout: conflux_transport::client::DEFAULT_CONNECT_TIMEOUT,
        request_edits: Arc::from([]),
        response_edits: Arc::from([]),
        context: None,
    })))
}

/// For a listener that answers by itself: on the Conflux engine, a router to a backend that
/// answers every request with `body`, so the engine's direct path serves the same answers; `None`
/// on hyper.
pub async fn answering_router(body: Bytes) -> Option<Arc<dyn Router>> {
    if ENGINE.with(std::cell::Cell::get).0 == Engine::Hyper {
        return None;
    }
    let (addr, _log) = backend(move |_req: Request<Incoming>| {
        let body = body.clone();
        async move { Response::new(ProxyBody::from(body)) }
    })
    .await;
    router_for(addr, None)
}

/// Routes every request straight to one backend.
struct ForwardAll(DirectForward);

impl Router for ForwardAll {
    fn route(&self, _request: &RequestView<'_>, _conn: &ConnInfo) -> Route {
        Route::Direct(self.0.clone())
    }
}

/// A running proxy forwarding everything to `backend` + the request's path and query.
pub struct Proxy {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    pub done: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn proxy(backend: SocketAddr, timeout: Option<Duration>) -> Proxy {
    proxy_with(backend, timeout, ServerLimits::default(), None).await
}

pub async fn proxy_with(
    backend: SocketAddr,
    timeout: Option<Duration>,
    limits: ServerLimits,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Proxy {
    let listener = bind().await;
    let addr = listener.local_addr().expect("proxy address");
    let client = BackendClient::new(test_client_tls(), ClientOptions::default());
    let shutdown = CancellationToken::new();
    let handler = move |req: Request<Incoming>, _conn: ConnInfo| {
        let client = client.clone();
        async move {
            let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
            let target: http::Uri = match format!("http://{backend}{path}").parse() {
                Ok(uri) => uri,
                Err(_) => return Response::new(ProxyBody::Empty),
            };
            match pass_through(&client, req, &target, timeout).await {
                Ok(resp) => resp,
                Err((_, fault)) => fault,
            }
        }
    };
    let done = tokio::spawn(serve_routed(
        listener,
        tls,
        handler,
        router_for(backend, timeout),
        limits,
        Arc::default(),
        shutdown.clone(),
    ));
    Proxy {
        addr,
        shutdown,
        done,
    }
}

/// An HTTP/1.1 hyper client.
pub fn h1_client()
-> hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, ProxyBody>
{
    hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http()
}

/// Sends raw bytes and reads until the peer closes or `limit` passes; returns what came back.
pub async fn raw_exchange(addr: SocketAddr, bytes: &[u8]) -> String {
    let Ok(mut tcp) = TcpStream::connect(addr).await else {
        return String::new();
    };
    let _ = tcp.write_all(bytes).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads until the peer closes (a reset counts as the end); returns what arrived. Panics when the
/// connection is still open after `hang`, which only detects a hang.
pub async fn read_until_close(tcp: &mut TcpStream, hang: Duration) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(hang, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "the connection stayed open; received so far: {}",
                String::from_utf8_lossy(&out)
            ),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Deterministic pseudo-random bytes (xorshift) for large-body tests.
pub fn pattern_chunk(seed: u64, len: usize) -> Bytes {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    Bytes::from(out)
}

/// Streaming FNV-1a 64: the same value whatever the chunking.
#[derive(Clone, Copy)]
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    pub fn update(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}
