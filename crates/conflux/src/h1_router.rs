//! The deployment's [`Router`] for the Conflux HTTP/1 engine (`[transport] http1_engine =
//! "conflux"`, issue 22): which requests of the live deployment the engine may forward directly,
//! and the bookkeeping of the ones it did (per-API/proxy and listener counters, the endpoint's
//! suspension state).
//!
//! A request goes direct only when its answer is the one the general path (hyper, `PassThrough`,
//! `Deployment::handle_counted`) gives, so everything that could make them differ goes General:
//! an access log, a size limit, an outbound HTTP proxy, a stopped proxy service, data services,
//! `?swagger`/WSDL requests, fault handlers anywhere in the deployment, and every route but a
//! pure forward (a `DirectPlan::Direct` `<send>` or proxy `<target>` without steps and reading no
//! property) to a ready `<address>` endpoint (no `format` but `rest`, no addressing, no
//! `discard` timeout action, no dynamic timeout) whose host is an IP literal (never a blocking
//! name lookup) over plain `http`. The backend URL is built as mediation's `outbound_request`
//! builds it (`append_postfix` with the REST URL postfix when `method != POST || doingREST`).
//!
//! The per-route part of that is worked out once per deployment snapshot ([`Table`]) and swapped
//! with it; per request the router dispatches as `handle_counted` does and builds the target.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use arc_swap::{ArcSwap, ArcSwapOption};
use conflux_mediation::dispatch::swagger::definition_request;
use conflux_mediation::dispatch::{ApiDispatch, Protocol, RequestHead};
use conflux_mediation::runtime::direct::{DirectPlan, Idiom};
use conflux_mediation::runtime::endpoint::{
    Endpoint, EndpointFormat, EndpointKind, Sender, TimeoutAction,
};
use conflux_mediation::runtime::engine::{Route as MediationRoute, append_postfix};
use conflux_mediation::runtime::payload::ContentKind;
use conflux_transport::h1::{DirectForward, DirectRecord, RequestView, Route, Router};
use conflux_transport::passthrough::{ListenerCounters, Live};
use conflux_transport::server::ConnInfo;

/// The `tracing` target of the per-request DEBUG event `{artifact} direct path: h1 engine`.
pub const H1_DIRECT_TARGET: &str = "conflux::h1";

/// What the router needs from the server's configuration.
#[derive(Debug, Clone)]
pub struct RouterSettings {
    /// `[transport.http] connection_timeout`: the backend client's connect deadline.
    pub connect_timeout: Duration,
    /// Nothing may go direct (an access log, a size limit or an outbound proxy is configured).
    pub general_only: bool,
}

/// The [`Router`] over the live deployment.
pub struct DeploymentRouter {
    live: Arc<ArcSwap<Live>>,
    listeners: Arc<ListenerCounters>,
    settings: RouterSettings,
    /// The direct targets of the snapshot `live` held when it was built.
    table: ArcSwapOption<Table>,
}

/// The direct targets of one deployment snapshot.
struct Table {
    live: Arc<Live>,
    /// `[api][resource]`.
    apis: Vec<Vec<Option<Arc<Target>>>>,
    proxies: Vec<Option<Arc<Target>>>,
}

/// Which counters a direct exchange counts in.
#[derive(Debug, Clone, Copy)]
enum Counted {
    Api(usize),
    Proxy(usize),
}

/// A pure-forward route's backend, resolved when the snapshot's table is built.
struct Target {
    live: Arc<Live>,
    endpoint: Arc<Endpoint>,
    /// The endpoint's `<address uri>`, as written.
    address: String,
    backend: SocketAddr,
    host: Arc<str>,
    timeout: Duration,
    counted: Counted,
    /// `api:X` / `proxy:X`, for the debug event.
    artifact: Arc<str>,
}

impl DeploymentRouter {
    pub fn new(
        live: Arc<ArcSwap<Live>>,
        listeners: Arc<ListenerCounters>,
        settings: RouterSettings,
    ) -> Self {
        DeploymentRouter {
            live,
            listeners,
            settings,
            table: ArcSwapOption::empty(),
        }
    }

    /// The table of the snapshot served now (built on the first request after a redeploy).
    fn table(&self) -> Arc<Table> {
        let live = self.live.load();
        if let Some(table) = self.table.load_full()
            && Arc::ptr_eq(&table.live, &live)
        {
            return table;
        }
        let table = Arc::new(Table::build(Arc::clone(&live), &self.settings));
        self.table.store(Some(table.clone()));
        table
    }
}

impl Table {
    fn build(live: Arc<Live>, settings: &RouterSettings) -> Table {
        let deployment = &live.deployment;
        let eligible = !settings.general_only
            && !deployment.has_fault_handlers
            && deployment.attached.data_services.is_empty();
        let target = |route: &MediationRoute, counted: Counted| {
            eligible
                .then(|| Target::of(&live, route, counted))
                .flatten()
                .map(Arc::new)
        };
        let apis = deployment
            .apis
            .iter()
            .enumerate()
            .map(|(i, api)| {
                api.resources
                    .iter()
                    .map(|r| target(r, Counted::Api(i)))
                    .collect()
            })
            .collect();
        let proxies = deployment
            .proxies
            .iter()
            .enumerate()
            .map(|(i, r)| target(r, Counted::Proxy(i)))
            .collect();
        Table {
            live: live.clone(),
            apis,
            proxies,
        }
    }
}

impl Target {
    /// The target of `route` when it is a pure forward the engine can make; `None`: General.
    fn of(live: &Arc<Live>, route: &MediationRoute, counted: Counted) -> Option<Target> {
        let DirectPlan::Direct(plan) = &route.direct else {
            return None;
        };
        if !matches!(plan.idiom, Idiom::Send | Idiom::Target)
            || !plan.before.is_empty()
            || !plan.after.is_empty()
            || !plan.reads_no_properties
        {
            return None;
        }
        let endpoint = &plan.endpoint;
        let EndpointKind::Address {
            uri,
            format,
            addressing,
        } = &endpoint.kind
        else {
            return None;
        };
        if *addressing
            || !matches!(format, None | Some(EndpointFormat::Rest))
            || matches!(endpoint.timeout_action, TimeoutAction::Discard)
            || endpoint.dynamic_timeout.is_some()
        {
            return None;
        }
        let parsed: http::Uri = uri.parse().ok()?;
        if parsed.scheme_str() != Some("http") {
            return None;
        }
        let authority = parsed.authority()?;
        if authority.as_str().contains('@') {
            return None;
        }
        // An IP literal only: a name would need a lookup, which must never block a request.
        let ip: IpAddr = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()?;
        let backend = SocketAddr::new(ip, authority.port_u16().unwrap_or(80));
        let host = conflux_transport::headers::host_header_for(&parsed, authority.as_str());
        Some(Target {
            live: live.clone(),
            endpoint: endpoint.clone(),
            address: uri.clone(),
            backend,
            host: host.into(),
            timeout: endpoint
                .timeout
                .unwrap_or_else(|| live.sender.default_timeout()),
            counted,
            artifact: route.artifact.clone(),
        })
    }

    /// The forward of one request whose REST URL postfix is `postfix`.
    fn forward(
        self: &Arc<Self>,
        request: &RequestView<'_>,
        postfix: &str,
        connect_timeout: Duration,
    ) -> Option<DirectForward> {
        // engine.rs outbound_request: the postfix goes on when `method != POST || doingREST`.
        let rest = request.method() != b"POST" || doing_rest(request);
        let uri = if rest {
            append_postfix(&self.address, Some(postfix))
        } else {
            self.address.clone()
        };
        let parsed: http::Uri = uri.parse().ok()?;
        let target = parsed
            .path_and_query()
            .map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
        tracing::debug!(target: H1_DIRECT_TARGET, "{{{}}} direct path: h1 engine", self.artifact);
        Some(DirectForward {
            backend: self.backend,
            host: self.host.clone(),
            target: Some(target),
            uri: uri.into(),
            timeout: Some(self.timeout),
            connect_timeout,
            context: Some(self.clone()),
        })
    }
}

/// MI's `doingREST` (runtime/context.rs `is_doing_rest`) from the raw head.
fn doing_rest(request: &RequestView<'_>) -> bool {
    let has_body =
        request.header("content-length").is_some() || request.header("transfer-encoding").is_some();
    let kind = request
        .header("content-type")
        .and_then(|v| std::str::from_utf8(v).ok())
        .map(ContentKind::of);
    match kind {
        _ if !has_body => true,
        None => true,
        Some(ContentKind::Soap12) => false,
        Some(ContentKind::Soap11) => request.header("soapaction").is_none(),
        Some(_) => true,
    }
}

/// `Deployment::has_body`: an entity body is declared.
fn has_body(request: &RequestView<'_>) -> bool {
    request.header("transfer-encoding").is_some()
        || request
            .header("content-length")
            .is_some_and(|v| v.trim_ascii() != b"0")
}

impl Router for DeploymentRouter {
    fn route(&self, request: &RequestView<'_>, _conn: &ConnInfo) -> Route {
        self.direct(request).map_or(Route::General, Route::Direct)
    }

    fn records(&self) -> bool {
        true
    }

    fn drops_empty_content_length(&self) -> bool {
        true
    }

    fn rewrites_location(&self) -> bool {
        true
    }

    fn answered(&self, record: &DirectRecord<'_>) {
        let Some(target) = record
            .forward
            .context
            .as_ref()
            .and_then(|c| c.clone().downcast::<Target>().ok())
        else {
            return;
        };
        // As PassThrough::respond counts: every request, and the 5xx answers.
        self.listeners.http_requests.fetch_add(1, Ordering::Relaxed);
        if record.status >= 500 {
            self.listeners.faults.fetch_add(1, Ordering::Relaxed);
        }
        let started = Instant::now()
            .checked_sub(record.elapsed)
            .unwrap_or_else(Instant::now);
        let status =
            http::StatusCode::from_u16(record.status).unwrap_or(http::StatusCode::BAD_GATEWAY);
        let counters = &target.live.counters;
        let counted = match target.counted {
            Counted::Api(i) => counters.apis.get(i),
            Counted::Proxy(i) => counters.proxies.get(i),
        };
        if let Some(c) = counted {
            c.counters.record(started, status);
        }
        target
            .live
            .sender
            .report_outcome(&target.endpoint, record.failure);
    }
}

impl DeploymentRouter {
    /// The direct forward of `request`, as `Deployment::handle_counted` would dispatch it.
    fn direct(&self, request: &RequestView<'_>) -> Option<DirectForward> {
        let table = self.table();
        let live = &table.live;
        let deployment = &live.deployment;
        let path = request.target();
        if !path.starts_with('/') || definition_request(path).is_some() {
            return None;
        }
        let method = http::Method::from_bytes(request.method()).ok()?;
        let (target, postfix) = if let Some(proxy) = deployment.proxy_table.dispatch(path) {
            if proxy.metadata.is_some() || !live.proxy_running.is_running(proxy.proxy) {
                return None;
            }
            (
                table.proxies.get(proxy.proxy)?.as_ref()?.clone(),
                proxy.rest_url_postfix.to_string(),
            )
        } else {
            let text = |name: &str| {
                request
                    .header(name)
                    .and_then(|v| std::str::from_utf8(v).ok())
            };
            let head = RequestHead {
                method: &method,
                path_and_query: path,
                host: text("host"),
                scheme: Protocol::Http,
                content_type: text("content-type"),
                user_agent: text("user-agent"),
                max_forwards: text("max-forwards"),
                has_body: has_body(request),
            };
            match deployment.api_table.dispatch(&head) {
                ApiDispatch::Matched(m) => (
                    table.apis.get(m.api)?.get(m.resource)?.as_ref()?.clone(),
                    m.rest_url_postfix,
                ),
                _ => return None,
            }
        };
        // A suspended endpoint fails fast with 303001 on the general path.
        if !live.sender.is_ready(&target.endpoint) {
            return None;
        }
        target.forward(request, &postfix, self.settings.connect_timeout)
    }
}
