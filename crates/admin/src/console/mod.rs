//! The built-in web console under `/console/`, served on the listeners where the Management API is
//! served (issue 18): the static front end embedded in the binary ([`assets`]), and a few JSON
//! resources under `/console/api/` the Management API has no equivalent for ([`api`]): the port
//! plan, a summary of this instance, the traffic history ([`traffic`]), a live log tail
//! ([`logs`]) and the fleet of instances on this host and configured peers ([`fleet`]).
//!
//! The browser logs in with the Management API's own `GET /management/login` and sends its token
//! as `Authorization: Bearer` (kept in `sessionStorage`, never a cookie: no CSRF); the console's
//! resources check it with [`ManagementApi`]'s token store. Every response carries a strict
//! Content-Security-Policy and the other headers of [`SECURITY_HEADERS`].

pub mod assets;
pub mod fleet;
pub mod logs;
pub mod traffic;

mod api;

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};

use crate::management::ManagementApi;
use crate::metrics::Observed;
use fleet::Fleet;
use traffic::Traffic;

/// The path the console lives under.
pub const CONTEXT: &str = "/console";

/// What scripts, styles and connections the console's pages may use: only its own files and API.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Headers on every console response.
pub const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cache-control", "no-cache"),
];

/// Whether a request path (without query) belongs to the console.
pub fn is_console_path(path: &str) -> bool {
    path == CONTEXT || path.starts_with("/console/")
}

/// What a port of the plan is doing, as the console shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortState {
    /// Bound by this instance.
    Listening,
    /// Disabled in the configuration, or reserved and never opened.
    Off,
    /// Enabled but not bound.
    Failed,
}

impl PortState {
    pub fn name(self) -> &'static str {
        match self {
            PortState::Listening => "listening",
            PortState::Off => "off",
            PortState::Failed => "failed",
        }
    }
}

/// One port of the plan: `key` is the role name `conflux ports --json` prints (`http`,
/// `internal_https`, ...) or `inbound:<endpoint>` for an inbound HTTP(S) endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct PortRow {
    pub name: String,
    pub key: String,
    pub port: u16,
    /// `http`, `https` or `tcp`.
    pub protocol: &'static str,
    pub bind: String,
    pub state: PortState,
    /// The deployment.toml key that sets the base port, when there is one.
    pub config_key: Option<&'static str>,
}

/// The port plan as the console shows it, built by the binary from its configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PortView {
    pub offset: i32,
    pub ports: Vec<PortRow>,
}

/// Builds the port plan view on each `/console/api/ports` request (inbound endpoints come and go
/// with hot deployment).
pub type PortSource = Arc<dyn Fn() -> PortView + Send + Sync>;

/// Names the process holding a TCP port (`conflux ports --check`'s answer), for ports this
/// instance does not hold.
pub type HolderProbe = Arc<dyn Fn(u16) -> Option<String> + Send + Sync>;

/// One request under [`CONTEXT`].
pub struct ConsoleRequest<'a> {
    pub method: &'a Method,
    /// Path and query, starting with `/console`.
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
}

/// The console. Cloning is cheap.
#[derive(Clone)]
pub struct Console {
    management: ManagementApi,
    ports: PortSource,
    holder_probe: Option<HolderProbe>,
    observed: Option<Arc<dyn Observed>>,
    traffic: Arc<Traffic>,
    fleet: Option<Arc<Fleet>>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("fleet", &self.fleet)
            .finish_non_exhaustive()
    }
}

impl Console {
    /// The console of the server `management` serves, with its port plan.
    pub fn new(management: ManagementApi, ports: PortSource) -> Self {
        Console {
            management,
            ports,
            holder_probe: None,
            observed: None,
            traffic: Arc::new(Traffic::new()),
            fleet: None,
        }
    }

    /// Request and error totals, and the traffic history (sampled by [`Console::traffic`]).
    pub fn with_observed(mut self, observed: Arc<dyn Observed>) -> Self {
        self.observed = Some(observed);
        self
    }

    /// Names who holds a port of the plan this instance does not listen on.
    pub fn with_holder_probe(mut self, probe: HolderProbe) -> Self {
        self.holder_probe = Some(probe);
        self
    }

    /// The other instances `/console/api/fleet` lists.
    pub fn with_fleet(mut self, fleet: Arc<Fleet>) -> Self {
        self.fleet = Some(fleet);
        self
    }

    /// The fleet, when the console has one ([`Fleet::register`] it once the listeners serve, and
    /// [`Fleet::shutdown`] it at shutdown).
    pub fn fleet(&self) -> Option<Arc<Fleet>> {
        self.fleet.clone()
    }

    /// The traffic history; run its sampler with [`Traffic::run`] over [`Console::observed`].
    pub fn traffic(&self) -> Arc<Traffic> {
        self.traffic.clone()
    }

    pub fn observed(&self) -> Option<Arc<dyn Observed>> {
        self.observed.clone()
    }

    /// Whether the console is served on a listener of this kind: where the Management API is.
    pub fn serves(&self, tls: bool) -> bool {
        self.management.serves(tls)
    }

    /// Answers one request under [`CONTEXT`], with [`SECURITY_HEADERS`].
    pub async fn handle(&self, req: ConsoleRequest<'_>) -> Response<Bytes> {
        let mut response = self.dispatch(&req).await;
        let headers = response.headers_mut();
        for (name, value) in SECURITY_HEADERS {
            headers.insert(name, HeaderValue::from_static(value));
        }
        response
    }

    async fn dispatch(&self, req: &ConsoleRequest<'_>) -> Response<Bytes> {
        let (path, query) = match req.path_and_query.split_once('?') {
            Some((p, q)) => (p, q),
            None => (req.path_and_query, ""),
        };
        if path == CONTEXT {
            let mut r = empty(StatusCode::MOVED_PERMANENTLY);
            r.headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static("/console/"));
            return r;
        }
        let Some(rest) = path.strip_prefix("/console/") else {
            return empty(StatusCode::NOT_FOUND);
        };
        if let Some(resource) = rest.strip_prefix("api/") {
            return api::handle(self, req, resource, query).await;
        }
        if rest == "api" {
            return error(StatusCode::NOT_FOUND, "no such console resource");
        }
        serve_asset(req, rest)
    }
}

/// A static file, `304` when the browser's `If-None-Match` is its `ETag`.
fn serve_asset(req: &ConsoleRequest<'_>, rest: &str) -> Response<Bytes> {
    if req.method != Method::GET && req.method != Method::HEAD {
        let mut r = empty(StatusCode::METHOD_NOT_ALLOWED);
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let asset = match assets::lookup(rest) {
        Ok(asset) => asset,
        Err(e @ assets::AssetError::Refused(_)) => {
            return text(StatusCode::BAD_REQUEST, &e.to_string());
        }
        Err(e @ assets::AssetError::NotFound(_)) => {
            return text(StatusCode::NOT_FOUND, &e.to_string());
        }
    };
    let etag = HeaderValue::from_static(asset.etag);
    let fresh = req
        .headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == asset.etag
        });
    let mut r = if fresh {
        empty(StatusCode::NOT_MODIFIED)
    } else if req.method == Method::HEAD {
        let mut r = empty(StatusCode::OK);
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(asset.body.len()));
        r
    } else {
        Response::new(Bytes::from_static(asset.body))
    };
    r.headers_mut().insert(header::ETAG, etag);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    r
}

/// JSON answers and `{"Error": "..."}` objects, as the Management API writes them.
pub(crate) use crate::management::{error, json_response};

fn text(status: StatusCode, message: &str) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(format!("{message}\n")));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn empty(status: StatusCode) -> Response<Bytes> {
    let mut r = Response::new(Bytes::new());
    *r.status_mut() = status;
    r
}

#[cfg(test)]
mod tests;
