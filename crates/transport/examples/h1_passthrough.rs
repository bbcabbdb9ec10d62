//! A bare pass-through listener for quick local comparisons of the two HTTP/1 engines (issue 22):
//! every request goes to one backend, through hyper and the pooled client (`hyper`) or through
//! the Conflux engine's direct path (`conflux`). Not a benchmark harness (bench/ is); indicative
//! only.
//!
//! `cargo run --release -p conflux-transport --example h1_passthrough -- conflux 127.0.0.1:8290 127.0.0.1:9000`

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use conflux_transport::body::ProxyBody;
use conflux_transport::client::{BackendClient, ClientOptions};
use conflux_transport::forward::pass_through;
use conflux_transport::h1::{BackendTarget, DirectForward, RequestView, Route, Router};
use conflux_transport::server::{ConnInfo, ServerLimits, serve_routed};
use http::{Request, Response};
use hyper::body::Incoming;
use tokio_util::sync::CancellationToken;

struct ForwardAll(DirectForward);

impl Router for ForwardAll {
    fn route(&self, _request: &RequestView<'_>, _conn: &ConnInfo) -> Route {
        Route::Direct(self.0.clone())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(engine), Some(listen), Some(backend)) = (args.get(1), args.get(2), args.get(3))
    else {
        return Err("usage: h1_passthrough hyper|conflux LISTEN_ADDR BACKEND_ADDR".into());
    };
    let listen: SocketAddr = listen.parse()?;
    let backend: SocketAddr = backend.parse()?;
    let router: Option<Arc<dyn Router>> = match engine.as_str() {
        "hyper" => None,
        "conflux" => Some(Arc::new(ForwardAll(DirectForward {
            backend,
            fallbacks: Arc::from([]),
            host: backend.to_string().into(),
            target: BackendTarget::Client,
            uri: format!("http://{backend}"),
            timeout: None,
            connect_timeout: Duration::from_secs(10),
            request_edits: Arc::from([]),
            response_edits: Arc::from([]),
            context: None,
        }))),
        other => return Err(format!("unknown engine {other:?}: hyper or conflux").into()),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
        let client = BackendClient::new(Arc::new(tls), ClientOptions::default());
        let handler = move |req: Request<Incoming>, _conn: ConnInfo| {
            let client = client.clone();
            async move {
                let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
                let Ok(target) = format!("http://{backend}{path}").parse::<http::Uri>() else {
                    return Response::new(ProxyBody::Empty);
                };
                match pass_through(&client, req, &target, None).await {
                    Ok(response) => response,
                    Err((_, fault)) => fault,
                }
            }
        };
        println!("{engine} engine on {}", listener.local_addr()?);
        serve_routed(
            listener,
            None,
            handler,
            router,
            ServerLimits::default(),
            Arc::default(),
            CancellationToken::new(),
        )
        .await;
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
