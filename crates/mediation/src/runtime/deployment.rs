//! One immutable snapshot of what is deployed (APIs with their dispatch table, proxy services,
//! named sequences and endpoints), and [`Deployment::handle`], which takes a client request to its
//! answer: dispatch (proxy service by `/services/NAME`, else API by context and resource, else the
//! `main` sequence), the properties MI sets on a dispatched message, then the engine.
//!
//! A hot redeploy builds a new snapshot and swaps it in; requests in flight keep the old one.
//!
//! Also owns the per-artifact traffic counters ([`ArtifactCounters`], [`DeploymentCounters`]) that
//! Prometheus metrics and Jolokia monitoring read: allocated once per deployment, updated with
//! relaxed atomics on the request path (no lock, no allocation, no map look-up per request).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use http::header::{ALLOW, HeaderValue};
use http::{Request, Response, StatusCode};

use crate::dispatch::swagger::{
    ApiDefinition, ApiDefinitions, DefinitionFormat, definition_request,
};
use crate::dispatch::{ApiDispatch, ApiMatch, ApiTable, Protocol, ProxyTable, RequestHead};
use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope, props};
use crate::runtime::endpoint::{Endpoint, Sender};
use crate::runtime::engine::{Engine, Route, Sequence};
use crate::runtime::mediators::Template;

/// The routes of one deployed API, in resource order.
#[derive(Debug, Clone)]
pub struct DeployedApi {
    pub name: String,
    pub context: String,
    pub version: Option<String>,
    pub resources: Vec<Route>,
}

/// Everything deployed, ready to serve.
#[derive(Debug)]
pub struct Deployment {
    pub api_table: ApiTable,
    /// Indexed like the APIs of `api_table`.
    pub apis: Vec<DeployedApi>,
    pub proxy_table: ProxyTable,
    /// Indexed like the names of `proxy_table`.
    pub proxies: Vec<Route>,
    pub sequences: HashMap<String, Arc<Sequence>>,
    /// The route of a request no API or proxy matched: the `main` sequence, planned once when the
    /// deployment is built (runtime/direct.rs), as every other route is. `None`: no `main`.
    pub main_route: Option<Route>,
    /// Sequence templates, by name (run by `<call-template>`).
    pub templates: HashMap<String, Arc<Template>>,
    /// Every endpoint definition, named and inline, indexed by `Endpoint::id`.
    pub endpoints: Vec<Arc<Endpoint>>,
    pub named_endpoints: HashMap<String, Arc<Endpoint>>,
    /// Artifacts that failed to deploy, as `file:line:column: reason`.
    pub failures: Vec<String>,
    /// Artifacts that deployed with something to warn about (e.g. a reference to an endpoint that
    /// is not deployed, which fails per message as in MI).
    pub warnings: Vec<String>,
    /// Whether any fault handler is deployed (a fault sequence, a global `fault`, an `onError`):
    /// only then does a send keep a copy of the request headers for it.
    pub has_fault_handlers: bool,
    /// The most bytes of a body mediation reads when a mediator needs the content
    /// (`[mediation] max_message_size`); larger requests get 413.
    pub max_message_bytes: usize,
    /// The most branches of one message that run at once (`[mediation] max_inflight_branches`).
    pub max_inflight_branches: usize,
    /// Text and inline-XML local entries by key: `get-property('key')` falls back to them
    /// (GetPropertyFunction: an unset property is looked up as an entry).
    pub local_entries: Arc<HashMap<String, String>>,
    /// The file registry (`conf:`/`gov:`/`local:` resources), read per message by
    /// `get-property('registry', key)`; registry sequences and endpoints are compiled already.
    pub registry: Arc<conflux_artifacts::Registry>,
    /// Config property values, read by `${configs.NAME}`.
    pub configs: Arc<std::collections::BTreeMap<String, String>>,
    /// What `GET /<API name>?swagger.json` and `?swagger.yaml` serve (`dispatch::swagger`).
    pub api_definitions: ApiDefinitions,
    /// What the server attaches beyond the compiled artifacts: message stores, data services.
    pub attached: Attached,
}

/// What the server attaches to a deployment beyond the compiled Synapse artifacts: the message
/// stores the `<store>` mediator writes to, and the data services `/services/<name>` and
/// `dataServiceCall` reach. Both outlive one snapshot (a store keeps its messages and a data
/// service its pool across a hot redeploy that leaves them unchanged), so the server builds them
/// and sets them on each new deployment.
#[derive(Clone, Default)]
pub struct Attached {
    pub message_stores: crate::messaging::MessageStores,
    /// The message processors' switches and counters (the Management API reads them).
    pub message_processors: crate::messaging::MessageProcessors,
    pub data_services: conflux_dataservices::service::DataServices,
    /// Named data sources (`[[datasource]]`, CApp and project `<datasource>`s).
    pub data_sources: conflux_dataservices::service::DataSources,
}

impl std::fmt::Debug for Attached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attached")
            .field(
                "message_stores",
                &self.message_stores.keys().collect::<Vec<_>>(),
            )
            .field(
                "message_processors",
                &self.message_processors.keys().collect::<Vec<_>>(),
            )
            .field(
                "data_services",
                &self.data_services.keys().collect::<Vec<_>>(),
            )
            .field(
                "data_sources",
                &self.data_sources.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Deployment {
    /// Nothing deployed: every request gets MI's "no API matched" answer.
    pub fn empty() -> Deployment {
        Deployment {
            api_table: ApiTable::default(),
            apis: Vec::new(),
            proxy_table: ProxyTable::build(Vec::new()),
            proxies: Vec::new(),
            sequences: HashMap::new(),
            main_route: None,
            templates: HashMap::new(),
            endpoints: Vec::new(),
            named_endpoints: HashMap::new(),
            failures: Vec::new(),
            warnings: Vec::new(),
            has_fault_handlers: false,
            max_message_bytes: crate::runtime::payload::DEFAULT_MAX_MESSAGE_BYTES,
            max_inflight_branches: crate::runtime::limits::DEFAULT_MAX_INFLIGHT_BRANCHES,
            local_entries: Arc::default(),
            registry: Arc::default(),
            configs: Arc::default(),
            api_definitions: ApiDefinitions::default(),
            attached: Attached::default(),
        }
    }

    /// Mediates one request to the client's answer.
    pub async fn handle<B: MessageBody>(
        &self,
        sender: &dyn Sender<B>,
        request: Request<B>,
        scheme: Protocol,
    ) -> Response<B> {
        self.handle_counted(sender, request, scheme, None).await
    }

    /// [`Deployment::handle`], counting the request against the API or proxy service it reaches
    /// in `counters` (built by [`DeploymentCounters::for_deployment`] from this deployment).
    pub async fn handle_counted<B: MessageBody>(
        &self,
        sender: &dyn Sender<B>,
        request: Request<B>,
        scheme: Protocol,
        counters: Option<&DeploymentCounters>,
    ) -> Response<B> {
        let started = Instant::now();
        let (parts, body) = request.into_parts();
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .to_string();
        // MI's HTTP GET request processors answer `/<API name>?swagger.json|yaml` before any
        // dispatch, for GET, HEAD and OPTIONS (passthru ServerWorker -> PassThroughNHttpGetProcessor).
        if matches!(
            parts.method,
            http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
        ) && let Some(request) = definition_request(&path_and_query)
            && let Some(api) = self.api_definitions.api(request.api_key)
            && self.apis.iter().any(|deployed| deployed.name == api.name)
        {
            return self.api_definition(api, request.format);
        }
        let engine = self.engine(sender);

        if let Some(proxy) = self.proxy_table.dispatch(&path_and_query)
            && let Some(route) = self.proxies.get(proxy.proxy)
        {
            let postfix = proxy.rest_url_postfix.to_string();
            let mut ctx = dispatched(parts, body, route, scheme);
            self.share_with(&mut ctx);
            ctx.axis2.insert(props::REST_URL_POSTFIX.into(), postfix);
            let response = engine.mediate(route, ctx).await;
            if let Some(c) = counters.and_then(|c| c.proxies.get(proxy.proxy)) {
                c.counters.record(started, response.status());
            }
            return response;
        }

        let head = RequestHead {
            method: &parts.method,
            path_and_query: &path_and_query,
            host: parts
                .headers
                .get(http::header::HOST)
                .map(HeaderValue::as_bytes),
            scheme,
            content_type: parts
                .headers
                .get(http::header::CONTENT_TYPE)
                .map(HeaderValue::as_bytes),
            user_agent: parts
                .headers
                .get(http::header::USER_AGENT)
                .map(HeaderValue::as_bytes),
            max_forwards: parts.headers.get("max-forwards").map(HeaderValue::as_bytes),
            has_body: has_body(&parts.headers),
        };
        match self.api_table.dispatch(&head) {
            ApiDispatch::Matched(m) => {
                let api = &self.apis[m.api];
                let route = &api.resources[m.resource];
                let mut ctx = dispatched(parts, body, route, scheme);
                self.share_with(&mut ctx);
                ctx.axis2.insert(
                    props::REST_URL_POSTFIX.into(),
                    m.rest_url_postfix.to_string(),
                );
                // Properties MI sets on a dispatched REST request (SYN api/API.java, Resource.java),
                // unless nothing on the route or in a fault handler could read them.
                if !route.reads_no_properties() || self.has_fault_handlers {
                    set_rest_properties(&mut ctx, api, &m);
                }
                let response = engine.mediate(route, ctx).await;
                if let Some(c) = counters.and_then(|c| c.apis.get(m.api)) {
                    c.counters.record(started, response.status());
                }
                response
            }
            ApiDispatch::NoResource { status, .. } => {
                status_only(StatusCode::from_u16(status).unwrap_or(StatusCode::NOT_FOUND))
            }
            ApiDispatch::Options { allow, .. } => {
                let mut r = status_only::<B>(StatusCode::OK);
                if let Ok(v) = HeaderValue::try_from(allow) {
                    r.headers_mut().insert(ALLOW, v);
                }
                r
            }
            // A malformed %-escape Java's URLDecoder rejects: MI answers 400.
            ApiDispatch::BadRequest { .. } => status_only(StatusCode::BAD_REQUEST),
            // MI's HTTP GET processor (micro-integrator Axis2HttpGetRequestProcessor, FAVICON_ICO
            // in AbstractHttpGetRequestProcessor): a browser's favicon request is redirected.
            ApiDispatch::NoApi
                if parts.method == http::Method::GET && path_and_query == "/favicon.ico" =>
            {
                let mut r = status_only::<B>(StatusCode::MOVED_PERMANENTLY);
                r.headers_mut().insert(
                    http::header::LOCATION,
                    HeaderValue::from_static("http://wso2.org/favicon.ico"),
                );
                r
            }
            ApiDispatch::NoApi => match &self.main_route {
                Some(route) => {
                    let mut ctx = dispatched(parts, body, route, scheme);
                    self.share_with(&mut ctx);
                    // MI sets it on every request (synapse passthru
                    // ServerWorker.processHttpRequestUri), so a main-sequence `<send>` carries
                    // the request's path on (Axis2FlexibleMEPClient).
                    ctx.axis2.insert(
                        props::REST_URL_POSTFIX.into(),
                        main_rest_url_postfix(&path_and_query),
                    );
                    engine.mediate(route, ctx).await
                }
                // MI's shipped main sequence: 404 with no body.
                None => status_only(StatusCode::NOT_FOUND),
            },
        }
    }
}

/// The REST URL postfix of a request no API or proxy service took, as MI computes it for every
/// request (synapse nhttp `NhttpUtil.getRestUrlPostfix` with the service path `services`): the
/// path and query after the first `/`, or after `/services/<name>` for a request under the
/// service path. `GET /elsewhere/e?z=3` gives `elsewhere/e?z=3`. The transport's `Location`
/// rewriting finds a request's service prefix with it too (transport location.rs).
pub fn main_rest_url_postfix(path_and_query: &str) -> String {
    const CONTEXT: &str = "/services";
    let after_service = |rest: &str| -> String {
        // The [proxy] service name goes, the rest stays (the query alone without a path).
        match rest.get(1..).and_then(|tail| tail.find('/')) {
            Some(pos) => rest[pos + 1..].to_owned(),
            None => rest
                .find('?')
                .map_or(String::new(), |q| rest[q..].to_owned()),
        }
    };
    if let Some(rest) = path_and_query.strip_prefix(CONTEXT) {
        return after_service(rest);
    }
    let mut rest = path_and_query;
    if let Some(scheme_end) = rest.find("://")
        && rest.find('?').is_none_or(|q| scheme_end < q)
    {
        rest = &rest[scheme_end + 3..];
    }
    if let Some(slash) = rest.find('/') {
        rest = &rest[slash + 1..];
    }
    if rest.starts_with(&CONTEXT[1..])
        && let Some(at) = rest.find(CONTEXT)
    {
        return after_service(&rest[at + CONTEXT.len()..]);
    }
    rest.to_owned()
}

impl Deployment {
    /// The engine over this deployment, sending through `sender`.
    pub(crate) fn engine<'d, B: MessageBody>(&'d self, sender: &'d dyn Sender<B>) -> Engine<'d, B> {
        Engine {
            sequences: &self.sequences,
            templates: &self.templates,
            sender,
            keep_request_headers: self.has_fault_handlers,
            max_message_bytes: self.max_message_bytes,
            max_inflight_branches: self.max_inflight_branches,
            attached: &self.attached,
        }
    }

    /// Gives a new message what every message of this deployment reads: the local entries, the
    /// registry and the config properties.
    pub(crate) fn share_with<B>(&self, ctx: &mut MessageContext<B>) {
        ctx.local_entries = self.local_entries.clone();
        ctx.registry = self.registry.clone();
        ctx.configs = self.configs.clone();
    }

    /// The definition of `api`: 200 with the text, or MI's 500 "Error processing request" when
    /// it cannot be read (the reason is logged).
    fn api_definition<B: MessageBody>(
        &self,
        api: &ApiDefinition,
        format: DefinitionFormat,
    ) -> Response<B> {
        match self.api_definitions.respond(api, format, &self.registry) {
            Ok(definition) => {
                let mut r = Response::new(B::from(bytes::Bytes::from(definition.body)));
                r.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static(definition.content_type),
                );
                r
            }
            Err(e) => {
                tracing::error!(target: "conflux::mediation", "Error processing request for the definition of API {}: {e}", api.name);
                let mut r = Response::new(B::from(bytes::Bytes::from_static(
                    b"Error processing request",
                )));
                *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                r
            }
        }
    }
}

/// MI's default latency histogram buckets in seconds, for APIs, proxy services and inbound
/// endpoints alike (wso2/micro-integrator `PrometheusReporter.initMetric`:
/// `{0.19, 0.20, 0.25, 0.30, 0.35, 0.40, 0.50, 0.60, 1, 5}`).
pub const LATENCY_BUCKETS_SECONDS: [f64; 10] =
    [0.19, 0.20, 0.25, 0.30, 0.35, 0.40, 0.50, 0.60, 1.0, 5.0];

/// The same bounds in microseconds, which is what the request path compares against.
const LATENCY_BUCKETS_MICROS: [u64; 10] = [
    190_000, 200_000, 250_000, 300_000, 350_000, 400_000, 500_000, 600_000, 1_000_000, 5_000_000,
];

/// Request, error and latency counters of one API or proxy service. Every update is a relaxed
/// atomic add; readers see a consistent-enough picture for monitoring (MI's simpleclient gives no
/// stronger guarantee).
#[derive(Debug, Default)]
pub struct ArtifactCounters {
    requests: AtomicU64,
    errors: AtomicU64,
    /// Non-cumulative: `buckets[i]` counts observations in `(bound[i-1], bound[i]]`; the last slot
    /// is `+Inf`.
    buckets: [AtomicU64; LATENCY_BUCKETS_MICROS.len() + 1],
    latency_sum_micros: AtomicU64,
}

/// A point-in-time copy of [`ArtifactCounters`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CountersSnapshot {
    pub requests: u64,
    pub errors: u64,
    /// Cumulative counts per bound of [`LATENCY_BUCKETS_SECONDS`], then `+Inf` (= all observed).
    pub cumulative_buckets: Vec<u64>,
    pub latency_sum_seconds: f64,
}

impl ArtifactCounters {
    /// Counts one finished request. An error is a server-side failure answer (5xx): a mediation
    /// fault, an unreachable or timed-out endpoint, or a backend's 5xx passed through.
    pub fn record(&self, started: Instant, status: StatusCode) {
        self.record_elapsed(started.elapsed(), status);
    }

    /// [`ArtifactCounters::record`] for a request that took `elapsed` (measured by the caller,
    /// which saves reading the clock again).
    pub fn record_elapsed(&self, elapsed: std::time::Duration, status: StatusCode) {
        self.observe(elapsed.as_micros() as u64, status.is_server_error());
    }

    fn observe(&self, micros: u64, error: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if error {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let slot = LATENCY_BUCKETS_MICROS
            .iter()
            .position(|&bound| micros <= bound)
            .unwrap_or(LATENCY_BUCKETS_MICROS.len());
        self.buckets[slot].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> CountersSnapshot {
        let mut running = 0;
        let cumulative_buckets = self
            .buckets
            .iter()
            .map(|b| {
                running += b.load(Ordering::Relaxed);
                running
            })
            .collect();
        CountersSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            cumulative_buckets,
            latency_sum_seconds: self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

/// Which kind of service an artifact is, with MI's `service_type` label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    Api,
    Proxy,
    InboundEndpoint,
}

impl ServiceKind {
    /// MI's `service_type` label (`MetricHandler`: "api", "proxy", "inbound-endpoint").
    pub fn label(self) -> &'static str {
        match self {
            ServiceKind::Api => "api",
            ServiceKind::Proxy => "proxy",
            ServiceKind::InboundEndpoint => "inbound-endpoint",
        }
    }
}

/// One counted service: its identity and its counters.
#[derive(Debug)]
pub struct CountedService {
    pub kind: ServiceKind,
    pub name: String,
    /// The API's context (MI's `invocation_url` label); the proxy's `/services/NAME` path.
    pub invocation_url: String,
    /// Shared with the next deployment when this service survives a redeploy unchanged in name.
    pub counters: Arc<ArtifactCounters>,
}

/// The counters of every API and proxy service of one deployment, indexed like
/// [`Deployment::apis`] and [`Deployment::proxies`].
#[derive(Debug, Default)]
pub struct DeploymentCounters {
    pub apis: Vec<CountedService>,
    pub proxies: Vec<CountedService>,
}

impl DeploymentCounters {
    /// Allocates one set of counters per API and proxy service of `deployment`.
    pub fn for_deployment(deployment: &Deployment) -> DeploymentCounters {
        let apis = deployment
            .apis
            .iter()
            .map(|api| CountedService {
                kind: ServiceKind::Api,
                name: api.name.clone(),
                invocation_url: api.context.clone(),
                counters: Arc::default(),
            })
            .collect();
        let proxies = deployment
            .proxies
            .iter()
            .map(|route| {
                let name = route
                    .artifact
                    .strip_prefix("proxy:")
                    .unwrap_or(&route.artifact)
                    .to_string();
                CountedService {
                    kind: ServiceKind::Proxy,
                    invocation_url: format!("/services/{name}"),
                    name,
                    counters: Arc::default(),
                }
            })
            .collect();
        DeploymentCounters { apis, proxies }
    }

    /// Counters for `deployment` that keep counting where `previous` left off for every API and
    /// proxy service that is still deployed under the same name (a hot redeploy must not reset
    /// the figures of what it did not change).
    pub fn carrying(deployment: &Deployment, previous: &DeploymentCounters) -> DeploymentCounters {
        let mut next = DeploymentCounters::for_deployment(deployment);
        let reuse = |services: &mut [CountedService], old: &[CountedService]| {
            for service in services {
                if let Some(o) = old.iter().find(|o| o.name == service.name) {
                    service.counters = o.counters.clone();
                }
            }
        };
        reuse(&mut next.apis, &previous.apis);
        reuse(&mut next.proxies, &previous.proxies);
        next
    }

    /// Every counted service, APIs first.
    pub fn services(&self) -> impl Iterator<Item = &CountedService> {
        self.apis.iter().chain(self.proxies.iter())
    }
}

/// MI's listener sets NO_ENTITY_BODY when the request has no body (e.g. a GET).
/// The context of a dispatched request, with `NO_ENTITY_BODY` set when it carries no body (as
/// MI's listener does).
fn dispatched<B: MessageBody>(
    parts: http::request::Parts,
    body: B,
    route: &Route,
    scheme: Protocol,
) -> MessageContext<B> {
    let mut ctx = MessageContext::new(
        parts.method,
        parts.uri,
        parts.headers,
        body,
        route.artifact.clone(),
    );
    ctx.transport_in = match scheme {
        Protocol::Http => "http",
        Protocol::Https => "https",
    };
    set_no_entity_body(&mut ctx);
    ctx
}

/// The default-scope properties MI sets on a request dispatched to an API resource.
fn set_rest_properties<B: MessageBody>(
    ctx: &mut MessageContext<B>,
    api: &DeployedApi,
    m: &ApiMatch,
) {
    for (name, value) in &m.uri_vars {
        ctx.properties
            .insert(format!("uri.var.{name}"), value.clone());
    }
    for (name, value) in &m.query_params {
        ctx.properties
            .insert(format!("query.param.{name}"), value.clone());
    }
    ctx.properties
        .insert("REST_API_CONTEXT".into(), api.context.clone());
    ctx.properties
        .insert("SYNAPSE_REST_API".into(), api.name.clone());
    if let Some(v) = &api.version {
        ctx.properties
            .insert("SYNAPSE_REST_API_VERSION".into(), v.clone());
    }
    ctx.properties
        .insert("REST_FULL_REQUEST_PATH".into(), m.full_path.to_owned());
    ctx.properties
        .insert("REST_SUB_REQUEST_PATH".into(), m.sub_path.to_owned());
    ctx.properties
        .insert("REST_METHOD".into(), ctx.method.as_str().to_string());
}

fn set_no_entity_body<B: MessageBody>(ctx: &mut MessageContext<B>) {
    if !has_body(&ctx.headers) {
        let _ = ctx.set(Scope::Axis2, props::NO_ENTITY_BODY, "true".into());
    }
}

fn has_body(headers: &http::HeaderMap) -> bool {
    headers.contains_key(http::header::TRANSFER_ENCODING)
        || headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

fn status_only<B: MessageBody>(status: StatusCode) -> Response<B> {
    let mut r = Response::new(B::default());
    *r.status_mut() = status;
    r
}

#[cfg(test)]
mod counter_tests {
    use super::*;

    #[test]
    fn observations_land_in_cumulative_buckets_like_simpleclient() {
        let c = ArtifactCounters::default();
        c.observe(1_000, false); // 0.001 s -> first bucket
        c.observe(190_000, false); // exactly on the 0.19 bound: le is inclusive
        c.observe(190_001, true); // just above -> 0.20
        c.observe(6_000_000, true); // above 5 s -> +Inf only
        let s = c.snapshot();
        assert_eq!(s.requests, 4);
        assert_eq!(s.errors, 2);
        assert_eq!(
            s.cumulative_buckets.len(),
            LATENCY_BUCKETS_SECONDS.len() + 1
        );
        assert_eq!(s.cumulative_buckets[0], 2);
        assert_eq!(s.cumulative_buckets[1], 3);
        assert_eq!(s.cumulative_buckets[9], 3);
        assert_eq!(s.cumulative_buckets[10], 4);
        assert!((s.latency_sum_seconds - 6.381_001).abs() < 1e-9);
    }

    #[test]
    fn bucket_bounds_agree() {
        for (s, us) in LATENCY_BUCKETS_SECONDS.iter().zip(LATENCY_BUCKETS_MICROS) {
            assert_eq!((s * 1e6).round() as u64, us);
        }
    }
}

#[cfg(test)]
mod api_definition_tests {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};

    use super::*;
    use crate::runtime::compile::compile;
    use crate::runtime::endpoint::{Endpoint, SendFault, SendFuture, Sender};

    type B = Full<Bytes>;

    struct NoBackend;

    impl Sender<B> for NoBackend {
        fn send<'a>(&'a self, _: &'a Endpoint, _: Request<B>) -> SendFuture<'a, B> {
            Box::pin(async {
                Err(SendFault {
                    code: 101503,
                    message: "no backend in this test".into(),
                })
            })
        }
    }

    fn deployment(registry_json: Option<&str>) -> Deployment {
        let mut artifacts = conflux_artifacts::Artifacts::default();
        let api = r#"<api xmlns="http://ws.apache.org/ns/synapse" name="Pets" context="/pets" version="1.0" version-type="url" publishSwagger="/_system/governance/custom/pets.json"><resource methods="GET" uri-template="/{id}"><inSequence><payloadFactory media-type="json"><format>{"mediated": true}</format><args/></payloadFactory><respond/></inSequence></resource></api>"#;
        artifacts
            .insert(conflux_artifacts::parse_artifact("api/Pets.xml", api).unwrap())
            .unwrap();
        if let Some(json) = registry_json {
            artifacts
                .registry
                .insert(
                    "gov:/custom/pets.json",
                    conflux_artifacts::RegistryResource::new(
                        json.as_bytes().to_vec(),
                        Some("application/json".into()),
                        Vec::new(),
                        "registry/governance/custom/pets.json",
                    ),
                )
                .unwrap();
        }
        let (deployment, errors) = compile(&artifacts);
        assert!(errors.is_empty(), "{errors:?}");
        deployment
    }

    async fn call(
        d: &Deployment,
        method: http::Method,
        target: &str,
    ) -> (StatusCode, Option<String>, String) {
        let request = Request::builder()
            .method(method)
            .uri(target)
            .body(B::default())
            .unwrap();
        let response = d.handle(&NoBackend, request, Protocol::Http).await;
        let status = response.status();
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            content_type,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    #[tokio::test]
    async fn the_api_name_with_its_version_serves_the_published_definition() {
        let d = deployment(Some(r#"{"swagger": "2.0", "info": {"title": "Pets"}}"#));
        let (status, content_type, body) =
            call(&d, http::Method::GET, "/Pets:v1.0?swagger.json").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("application/json"));
        assert_eq!(body, r#"{"swagger": "2.0", "info": {"title": "Pets"}}"#);
        let (status, content_type, body) =
            call(&d, http::Method::OPTIONS, "/Pets:v1.0?swagger.yaml&x").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("application/x-yaml"));
        assert_eq!(body, "swagger: '2.0'\ninfo:\n  title: Pets\n");
    }

    #[tokio::test]
    async fn without_the_resource_the_definition_is_generated() {
        let d = deployment(None);
        let (status, _, body) = call(&d, http::Method::GET, "/Pets:v1.0?swagger.yaml").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.contains("- url: http://localhost:8290/pets/1.0\n"),
            "{body}"
        );
        assert!(body.contains("  /{id}:\n    get:\n"), "{body}");
    }

    #[tokio::test]
    async fn other_requests_are_dispatched_as_before() {
        let d = deployment(None);
        // The name without the version names no API; a POST is never a definition request;
        // the API's own URL with the query is an ordinary call.
        for (method, target) in [
            (http::Method::GET, "/Pets?swagger.json"),
            (http::Method::POST, "/Pets:v1.0?swagger.json"),
        ] {
            let (status, content_type, _) = call(&d, method, target).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{target}");
            assert_eq!(content_type, None);
        }
        let (status, _, body) = call(&d, http::Method::GET, "/pets/1.0/7?swagger.json").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, r#"{"mediated": true}"#);
    }
}
