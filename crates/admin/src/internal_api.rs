//! MI's internal APIs as served on the internal HTTP port (9191 + offset) and, in Conflux, also on
//! the internal HTTPS port: the liveness and readiness probes.
//!
//! Bodies follow MI byte for byte where clients may parse them:
//! `LivenessResource` answers `{"server" : "started"}`; `ReadinessResource` answers
//! `{"version":"<v>","status" : "ready"}` with 200, or 500 and the faulty list
//! (wso2/micro-integrator `components/org.wso2.micro.integrator.extensions/
//! org.wso2.micro.integrator.probes/.../ReadinessResource.java`). MI lists only faulty CApps; Conflux
//! lists every artifact that failed to deploy.
//!
//! [`InternalApi::handle_request`] also routes `/management...` to the Management API
//! ([`crate::management`]) on the listeners `[management_api] protocols` allows (404 elsewhere),
//! and `/console...` to the web console ([`crate::console`]) on the same listeners.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Response, StatusCode, header};

use crate::console::{Console, ConsoleRequest, is_console_path};
use crate::management::{
    CONTEXT as MANAGEMENT_CONTEXT, MAX_CAPP_UPLOAD_BYTES, MAX_MULTIPART_OVERHEAD_BYTES,
    ManagementApi, ManagementRequest,
};
use crate::metrics::{METRICS_PATH, Metrics};
use crate::status::ServerStatus;

/// Largest request body the internal listeners read, except carbon application uploads
/// ([`InternalApi::max_request_body_bytes`]); Jolokia and Management API requests are small JSON.
pub const MAX_INTERNAL_BODY_BYTES: usize = 64 * 1024;

/// The internal API router.
#[derive(Debug, Clone)]
pub struct InternalApi {
    status: Arc<ServerStatus>,
    /// Prometheus metrics at [`METRICS_PATH`]; `None` when switched off (404 as in MI).
    metrics: Option<Metrics>,
    /// The Management API under `/management`; `None` answers 404 there.
    management: Option<ManagementApi>,
    /// The web console under `/console/`, where the Management API is served; `None` answers 404.
    console: Option<Console>,
}

impl InternalApi {
    pub fn new(status: Arc<ServerStatus>) -> Self {
        InternalApi {
            status,
            metrics: None,
            management: None,
            console: None,
        }
    }

    /// The largest body the listener should read for a request with this method and path (and
    /// optional query) before calling [`InternalApi::handle_request`]: a carbon application
    /// upload (`POST /management/applications`) may carry [`MAX_CAPP_UPLOAD_BYTES`] of file plus
    /// its multipart framing; everything else [`MAX_INTERNAL_BODY_BYTES`].
    pub fn max_request_body_bytes(method: &Method, path: &str) -> usize {
        let path = path.split('?').next().unwrap_or("");
        let upload_path = format!("{MANAGEMENT_CONTEXT}/applications");
        let path = if path.len() > 1 {
            path.trim_end_matches('/')
        } else {
            path
        };
        if method == Method::POST && path == upload_path {
            MAX_CAPP_UPLOAD_BYTES + MAX_MULTIPART_OVERHEAD_BYTES
        } else {
            MAX_INTERNAL_BODY_BYTES
        }
    }

    /// Serves the Management API under `/management` (on the listeners its protocols allow).
    pub fn with_management(mut self, management: ManagementApi) -> Self {
        self.management = Some(management);
        self
    }

    /// Serves the web console under `/console/` (on the listeners the Management API is served on).
    pub fn with_console(mut self, console: Console) -> Self {
        self.console = Some(console);
        self
    }

    /// Answers one complete request: `/management...` goes to the Management API when it is
    /// served on this kind of listener (`tls`), everything else to [`InternalApi::handle`].
    pub async fn handle_request(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
        client: std::net::IpAddr,
        tls: bool,
    ) -> Response<Bytes> {
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let path = path_and_query.split('?').next().unwrap_or("");
        let under_management =
            path == MANAGEMENT_CONTEXT || path.starts_with(&format!("{MANAGEMENT_CONTEXT}/"));
        if under_management {
            return match &self.management {
                Some(m) if m.serves(tls) => {
                    m.handle(ManagementRequest {
                        method: &parts.method,
                        path_and_query,
                        headers: &parts.headers,
                        body,
                        client,
                    })
                    .await
                }
                _ => empty(StatusCode::NOT_FOUND),
            };
        }
        if is_console_path(path) {
            return match &self.console {
                Some(c) if c.serves(tls) => {
                    c.handle(ConsoleRequest {
                        method: &parts.method,
                        path_and_query,
                        headers: &parts.headers,
                    })
                    .await
                }
                _ => empty(StatusCode::NOT_FOUND),
            };
        }
        self.handle(&parts.method, path_and_query)
    }

    /// Serves Prometheus metrics at `/metric-service/metrics`.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Answers one request from its method and path (the probes need nothing else).
    pub fn handle(&self, method: &Method, path: &str) -> Response<Bytes> {
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        match path.trim_end_matches('/') {
            "/liveness" => get_only(method, || self.liveness()),
            "/healthz" => get_only(method, || self.readiness()),
            METRICS_PATH if self.metrics.is_some() => get_only(method, || match &self.metrics {
                Some(m) => m.handle(query),
                None => empty(StatusCode::NOT_FOUND),
            }),
            _ => {
                // MI: InternalAPIDispatcher logs "No Internal API found to dispatch the message to".
                tracing::warn!(target: "conflux::internal_api", "No Internal API found to dispatch the message to : {path}");
                empty(StatusCode::NOT_FOUND)
            }
        }
    }

    fn liveness(&self) -> Response<Bytes> {
        if self.status.is_started() {
            json(StatusCode::OK, r#"{"server" : "started"}"#.to_string())
        } else {
            empty(StatusCode::SERVICE_UNAVAILABLE)
        }
    }

    fn readiness(&self) -> Response<Bytes> {
        let version = serde_json::to_string(self.status.version).unwrap_or_default();
        let faulty = self.status.faulty_artifacts();
        if !self.status.is_started() {
            let body = format!(r#"{{"version":{version},"status" : "not ready, starting"}}"#);
            return json(StatusCode::SERVICE_UNAVAILABLE, body);
        }
        if faulty.is_empty() {
            json(
                StatusCode::OK,
                format!(r#"{{"version":{version},"status" : "ready"}}"#),
            )
        } else {
            let list = serde_json::to_string(&faulty).unwrap_or_else(|_| "[]".into());
            json(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    r#"{{"version":{version},"status": "not ready, faulty artifacts detected", "Faulty artifacts" : {list}}}"#
                ),
            )
        }
    }
}

fn get_only(method: &Method, f: impl FnOnce() -> Response<Bytes>) -> Response<Bytes> {
    if method == Method::GET || method == Method::HEAD {
        f()
    } else {
        let mut r = empty(StatusCode::METHOD_NOT_ALLOWED);
        r.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET"));
        r
    }
}

fn json(status: StatusCode, body: String) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

fn empty(status: StatusCode) -> Response<Bytes> {
    let mut r = Response::new(Bytes::new());
    *r.status_mut() = status;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: Response<Bytes>) -> String {
        String::from_utf8(r.into_body().to_vec()).unwrap()
    }

    fn api() -> (InternalApi, Arc<ServerStatus>) {
        let status = Arc::new(ServerStatus::new("1.2.3", 10));
        (InternalApi::new(status.clone()), status)
    }

    #[test]
    fn liveness_matches_mi_once_started() {
        let (api, status) = api();
        assert_eq!(api.handle(&Method::GET, "/liveness").status(), 503);
        status.set_started();
        let r = api.handle(&Method::GET, "/liveness");
        assert_eq!(r.status(), 200);
        assert_eq!(body(r), r#"{"server" : "started"}"#);
    }

    #[test]
    fn readiness_matches_mi_and_lists_faulty_artifacts() {
        let (api, status) = api();
        status.set_started();
        let r = api.handle(&Method::GET, "/healthz");
        assert_eq!(r.status(), 200);
        assert_eq!(body(r), r#"{"version":"1.2.3","status" : "ready"}"#);
        status.set_faulty_artifacts(vec!["api/Bad.xml: unsupported mediator <xquery>".into()]);
        let r = api.handle(&Method::GET, "/healthz");
        assert_eq!(r.status(), 500);
        let text = body(r);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v["Faulty artifacts"][0],
            "api/Bad.xml: unsupported mediator <xquery>"
        );
    }

    #[test]
    fn only_capp_uploads_may_send_large_bodies() {
        let limit = InternalApi::max_request_body_bytes;
        let upload = MAX_CAPP_UPLOAD_BYTES + MAX_MULTIPART_OVERHEAD_BYTES;
        assert_eq!(MAX_INTERNAL_BODY_BYTES, 64 * 1024);
        assert_eq!(limit(&Method::POST, "/management/applications"), upload);
        assert_eq!(limit(&Method::POST, "/management/applications/"), upload);
        assert_eq!(limit(&Method::POST, "/management/applications?x=1"), upload);
        for (method, path) in [
            (Method::GET, "/management/applications"),
            (Method::DELETE, "/management/applications/x"),
            (Method::POST, "/management/applications/x"),
            (Method::POST, "/management/apis"),
            (Method::POST, "/jolokia"),
            (Method::POST, "/applications"),
        ] {
            assert_eq!(
                limit(&method, path),
                MAX_INTERNAL_BODY_BYTES,
                "{method} {path}"
            );
        }
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405() {
        let (api, status) = api();
        status.set_started();
        assert_eq!(api.handle(&Method::GET, "/nope").status(), 404);
        assert_eq!(api.handle(&Method::GET, "/management").status(), 404);
        assert_eq!(api.handle(&Method::POST, "/healthz").status(), 405);
        assert_eq!(api.handle(&Method::GET, "/healthz?x=1").status(), 200);
    }
}
