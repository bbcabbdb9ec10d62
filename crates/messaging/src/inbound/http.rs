//! One HTTP or HTTPS inbound endpoint's listener (MI `InboundHttpListener`,
//! `HTTPEndpointManager`, `InboundHttpServerWorker`): each request, with its real method, URI,
//! headers and streamed body, goes to the endpoint's `sequence` (its `onError` as fault
//! sequence). With `dispatch.filter.pattern`, a request whose URI matches the whole pattern is
//! dispatched to the APIs and proxy services as on the pass-through port (and to the main
//! sequence when none takes it); one that does not match goes to the main sequence, as
//! `InboundHttpServerWorker.run` does. The worker pool parameters (`inbound.worker.pool.*`) are
//! accepted and have no effect: requests run on the server's async runtime.

use std::net::TcpListener;
use std::sync::Arc;

use conflux_artifacts::inbound_endpoint::InboundEndpoint;
use conflux_mediation::runtime::inject::InjectTarget;
use conflux_transport::body::ProxyBody;
use conflux_transport::passthrough::PassThrough;
use conflux_transport::server::{ConnInfo, ServerLimits, serve};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use tokio_util::sync::CancellationToken;

use super::{LOG, REBIND_WINDOW, bind};
use crate::LiveSwap;

/// Pause between two attempts to bind a port that a previous version of the endpoint releases.
const REBIND_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// A running HTTP(S) inbound endpoint.
pub struct InboundHttp {
    pub endpoint: Arc<InboundEndpoint>,
    /// `dispatch.filter.pattern`, anchored at both ends.
    pub pattern: Option<regex::Regex>,
    pub live: LiveSwap,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub limits: ServerLimits,
}

impl InboundHttp {
    /// Serves on `listener` (or binds `port`) until `stop`.
    pub async fn run(
        self,
        port: u16,
        listener: Option<TcpListener>,
        retry: bool,
        stop: CancellationToken,
    ) {
        let name = self.endpoint.name.clone();
        let listener = match listener {
            Some(l) => Ok(l),
            None => bind_retrying(port, retry, &stop).await,
        };
        let listener = match listener.and_then(tokio::net::TcpListener::from_std) {
            Ok(l) => l,
            Err(e) => {
                // MI InboundHttpListener.init: "Port X used by inbound endpoint Y is already used
                // by another application".
                tracing::error!(target: LOG, "Port {port} used by inbound endpoint {name} cannot be bound: {e}; the inbound endpoint is not started");
                return;
            }
        };
        let scheme = if self.tls.is_some() { "HTTPS" } else { "HTTP" };
        tracing::info!(target: LOG, "Inbound {scheme} endpoint {name} Listener started on 0.0.0.0:{port}");
        let tls = self.tls.clone();
        let limits = self.limits;
        let server = Arc::new(self);
        let handler = move |req: Request<Incoming>, conn: ConnInfo| {
            let server = server.clone();
            async move { server.handle(req, conn).await }
        };
        serve(listener, tls, handler, limits, stop).await;
        tracing::info!(target: LOG, "Inbound {scheme} endpoint {name} Listener on port {port} closed");
    }

    async fn handle(&self, req: Request<Incoming>, conn: ConnInfo) -> Response<ProxyBody> {
        let live = self.live.load_full();
        let uri = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        match &self.pattern {
            // Matches: the APIs and proxy services (then main), as the pass-through port does.
            Some(pattern) if pattern.is_match(&uri) => {
                PassThrough::new(self.live.clone()).handle(req, conn).await
            }
            Some(_) => {
                if !live.deployment.sequences.contains_key("main") {
                    // MI's shipped main sequence answers nothing useful; Conflux's default main
                    // is a 404 (as on the pass-through port).
                    return status(StatusCode::NOT_FOUND);
                }
                self.inject(req, conn, InjectTarget::Sequence("main")).await
            }
            None => {
                let Some(sequence) = self.endpoint.sequence.as_deref() else {
                    return status(StatusCode::NOT_FOUND);
                };
                let target = InjectTarget::SequenceOnError {
                    sequence,
                    on_error: self.endpoint.on_error.as_deref(),
                };
                self.inject(req, conn, target).await
            }
        }
    }

    async fn inject(
        &self,
        req: Request<Incoming>,
        conn: ConnInfo,
        target: InjectTarget<'_>,
    ) -> Response<ProxyBody> {
        let live = self.live.load_full();
        let request = req.map(ProxyBody::from);
        // MI InboundHttpServerWorker.setInboundProperties: the endpoint's name on the message.
        let properties = vec![(
            "inbound.endpoint.name".to_string(),
            self.endpoint.name.clone(),
        )];
        let transport = if conn.tls { "https" } else { "http" };
        match live
            .deployment
            .inject(&live.sender, target, request, properties, transport)
            .await
        {
            Ok(response) => response,
            Err(e) => {
                // MI: "Sequence: X not found" is logged; the client gets no useful answer.
                tracing::error!(target: LOG, "inbound endpoint {}: {e}", self.endpoint.name);
                status(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

fn status(code: StatusCode) -> Response<ProxyBody> {
    let mut r = Response::new(ProxyBody::full(bytes::Bytes::new()));
    *r.status_mut() = code;
    r
}

async fn bind_retrying(
    port: u16,
    retry: bool,
    stop: &CancellationToken,
) -> std::io::Result<TcpListener> {
    let deadline = tokio::time::Instant::now() + REBIND_WINDOW;
    loop {
        match bind(port) {
            Ok(l) => return Ok(l),
            Err(e) if !retry || tokio::time::Instant::now() >= deadline => return Err(e),
            Err(_) => {
                tokio::select! {
                    () = stop.cancelled() => return Err(std::io::Error::other("undeployed")),
                    () = tokio::time::sleep(REBIND_PAUSE) => {}
                }
            }
        }
    }
}
