//! The backends cases talk to through Conflux, each a hyper HTTP/1.1 server on `127.0.0.1:0`: the
//! Axis2 sample server ([`crate::axis2_sample`]), a fixed answer, or an echo. Every backend records
//! what it receives so that a case can assert what reached it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use crate::axis2_sample::{SampleRequest, answer, requested_delay_ms};
use crate::case::{BackendKind, BackendSpec};

/// One request as a backend received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The request-target as it came: `/path?query`, or the absolute URI.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running backend; it stops when the runtime that serves it is dropped.
pub struct Backend {
    pub addr: SocketAddr,
    recorded: Arc<Mutex<Vec<Recorded>>>,
}

impl Backend {
    /// Binds `127.0.0.1:0` and serves `spec` on the current tokio runtime.
    pub async fn start(spec: BackendSpec) -> std::io::Result<Backend> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let spec = Arc::new(spec);
        let log = recorded.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let spec = spec.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        handle(spec.clone(), log.clone(), request)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .title_case_headers(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Backend { addr, recorded })
    }

    /// Requests received so far.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.recorded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

async fn handle(
    spec: Arc<BackendSpec>,
    log: Arc<Mutex<Vec<Recorded>>>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let method = request.method().to_string();
    // The request-target as sent: origin form (`/a?b`) or, for POST_TO_URI, absolute form.
    let path = request.uri().to_string();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let recorded = Recorded {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    log.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(recorded.clone());
    if spec.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(spec.delay_ms)).await;
    }
    let mut response = hyper::Response::builder();
    let body = match spec.kind {
        BackendKind::Static => {
            response = response.status(spec.status);
            for (name, value) in &spec.headers {
                response = response.header(name.as_str(), value.as_str());
            }
            spec.body.clone()
        }
        BackendKind::Echo => {
            response = response.status(200);
            if let Some(ct) = recorded.header("content-type") {
                response = response.header("Content-Type", ct);
            }
            recorded.body.clone()
        }
        BackendKind::Stockquote => {
            let request = SampleRequest {
                method: &recorded.method,
                path: &recorded.path,
                content_type: recorded.header("content-type"),
                soap_action: recorded.header("soapaction"),
                host: recorded.header("host"),
                body: recorded.body.as_bytes(),
            };
            // LBService1's sleepOperation answers after the <load> it was given.
            if let Some(ms) = requested_delay_ms(&request) {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            let sample = answer(&request);
            response = response.status(sample.status);
            if !sample.content_type.is_empty() {
                response = response.header("Content-Type", sample.content_type);
            }
            sample.body
        }
    };
    Ok(response
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| {
            let mut fallback = hyper::Response::new(Full::new(Bytes::from_static(
                b"conformance backend: invalid status or header in the case file",
            )));
            *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            fallback
        }))
}
