//! Serving the small internal listeners (probes, monitoring): an accept loop over a bound listener,
//! optional TLS, HTTP/1.1 and h2 through hyper-util, and graceful shutdown. Handlers answer with
//! complete responses; request bodies are read up to [`MAX_INTERNAL_BODY_BYTES`].

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// Largest request body an internal endpoint reads.
pub const MAX_INTERNAL_BODY_BYTES: usize = 64 * 1024;
/// How long a client may take to finish the TLS handshake.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send the request head.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause after a failed accept (e.g. out of file descriptors) before trying again.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(100);

/// A request as an internal handler sees it: the head and the (bounded) body.
pub struct InternalRequest {
    pub method: http::Method,
    pub path: String,
    pub body: Bytes,
}

/// Serves `handler` on `listener` until `shutdown` is cancelled and open connections are done.
pub async fn serve_internal<H, Fut>(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: H,
    shutdown: CancellationToken,
) where
    H: Fn(InternalRequest) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let acceptor = tls.map(TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let builder = Arc::new(builder);
    loop {
        let (stream, remote) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(target: "conflux::serve", "accept failed on {:?}: {e}", listener.local_addr().ok());
                    tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                    continue;
                }
            },
        };
        let handler = handler.clone();
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let handler = handler.clone();
            async move { Ok::<_, Infallible>(handle(req, handler).await) }
        });
        let builder = builder.clone();
        match &acceptor {
            None => {
                let conn = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(target: "conflux::serve", "connection from {remote}: {e}");
                    }
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let tls = match tokio::time::timeout(
                        TLS_HANDSHAKE_TIMEOUT,
                        acceptor.accept(stream),
                    )
                    .await
                    {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(e)) => {
                            tracing::debug!(target: "conflux::serve", "TLS handshake with {remote} failed: {e}");
                            return;
                        }
                        Err(_) => return,
                    };
                    let conn = builder
                        .serve_connection(TokioIo::new(tls), service)
                        .into_owned();
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(target: "conflux::serve", "connection from {remote}: {e}");
                    }
                });
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

async fn handle<H, Fut>(req: Request<Incoming>, handler: H) -> Response<Full<Bytes>>
where
    H: Fn(InternalRequest) -> Fut,
    Fut: Future<Output = Response<Full<Bytes>>>,
{
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_INTERNAL_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
            return r;
        }
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    handler(InternalRequest {
        method: parts.method,
        path,
        body,
    })
    .await
}
