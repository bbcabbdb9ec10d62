//! The deployment's [`Router`] for the Conflux HTTP/1 engine (`[transport] http1_engine =
//! "conflux"`, issue 22): which requests of the live deployment the engine may forward directly,
//! and the bookkeeping of the ones it did (per-API/proxy and listener counters, the endpoint's
//! suspension state).
//!
//! A request goes direct only when its answer is the one the general path (hyper, `PassThrough`,
//! `Deployment::handle_counted`) gives, so everything that could make them differ goes General:
//! a size limit, an outbound HTTP proxy, a stopped proxy service, data services,
//! `?swagger`/WSDL requests, fault handlers anywhere in the deployment, and every route but a
//! pure forward (a `DirectPlan::Direct` `<send>`, proxy `<target>` or `<call>` + `<respond/>`
//! reading no property, whose only steps set transport headers to literals or remove them —
//! `header_edits`, applied by the engine as mediation's header map would — or, before the send,
//! log at `simple`/`custom` level from literals and request headers — `request_steps`, written
//! by the router from the raw head with mediation's own log code, `Log::apply_to_head`; an API
//! resource, a proxy service or the main sequence) to a ready `<address>` endpoint (no `format`
//! but `rest`, no addressing, no `discard` timeout action, no dynamic timeout) over plain `http`.
//!
//! Content-based routing (mediation runtime/direct.rs `json_filter`: a `<filter
//! source="json-eval(...)" regex="...">` whose `then` sends) goes direct per request, when the
//! body came in whole with its head, is JSON of at most [`MAX_ROUTED_BODY`] bytes framed by
//! `Content-Length` (`routed_body`), and takes the `then` branch as mediation decides it
//! (`JsonFilterRoute::holds`: mediation's JSON builder, JSONPath and the filter's regex); the
//! `else` branch, and any body mediation's builder refuses, are the general path's.
//! The backend URL is built as mediation's `outbound_request` builds it (`append_postfix` with
//! the REST URL postfix when `method != POST || doingREST`; the main sequence's is MI's
//! `NhttpUtil.getRestUrlPostfix` of the request, as `handle_counted` sets it).
//!
//! With the HTTP access log configured, the router writes each direct exchange's line from the
//! record `PassThrough::handle` would have built (the engine hands it both header maps:
//! `Router::wants_headers`).
//!
//! Counting follows `PassThrough::respond`: a request is counted as received when the router
//! sends it direct (whatever then becomes of it: a body that breaks off, a client that leaves),
//! and the rest (5xx faults, the API's or proxy's counters, the endpoint's state) when it is
//! answered ([`Router::answered`]).
//!
//! The per-route part of that is worked out once per deployment snapshot ([`Table`]) and swapped
//! with it; per request the router dispatches as `handle_counted` does and builds the target.
//!
//! A host name is never looked up on the request path: h1_names.rs resolves it in the
//! background (Java's cache TTLs) and the route goes General while there is no answer or the
//! last lookup failed. The engine tries the name's addresses in order, as hyper's path
//! (transport pool.rs `connect_tcp`) does.

use std::borrow::Cow;
use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use arc_swap::{ArcSwap, ArcSwapOption};
use conflux_mediation::dispatch::api_table::header_text;
use conflux_mediation::dispatch::swagger::definition_request;
use conflux_mediation::dispatch::{ApiDispatch, Protocol, RequestHead};
use conflux_mediation::runtime::context::Scope;
use conflux_mediation::runtime::context::next_message_id;
use conflux_mediation::runtime::deployment::main_rest_url_postfix;
use conflux_mediation::runtime::direct::{DirectPlan, Idiom, JsonFilterRoute, json_filter};
use conflux_mediation::runtime::endpoint::{
    Endpoint, EndpointFormat, EndpointKind, Sender, TimeoutAction,
};
use conflux_mediation::runtime::engine::{Route as MediationRoute, append_postfix};
use conflux_mediation::runtime::mediators::{
    Header, HeaderContent, HeaderTarget, Log, Mediator, Property, PropertyAction, PropertyName,
    PropertyType, RequestFields,
};
use conflux_mediation::runtime::payload::ContentKind;
use conflux_mediation::runtime::value::ValueSource;
use conflux_transport::h1::{
    BackendTarget, DirectForward, DirectRecord, HeaderEdit, RequestView, Route, Router,
};
use conflux_transport::passthrough::{AccessLog, AccessRecord, ListenerCounters, Live};
use conflux_transport::server::ConnInfo;

use crate::h1_names::{Name, NameKey, Names};

/// The `tracing` target of the per-request DEBUG event `{artifact} direct path: h1 engine`.
pub const H1_DIRECT_TARGET: &str = "conflux::h1";

/// What the router needs from the server's configuration.
#[derive(Clone)]
pub struct RouterSettings {
    /// `[transport.http] connection_timeout`: the backend client's connect deadline.
    pub connect_timeout: Duration,
    /// Nothing may go direct (a size limit or an outbound proxy is configured).
    pub general_only: bool,
    /// The HTTP access log, when configured: the router writes the line of each exchange the
    /// engine makes, from the same record `PassThrough::handle` builds.
    pub access_log: Option<Arc<dyn AccessLog>>,
}

/// The [`Router`] over the live deployment.
pub struct DeploymentRouter {
    live: Arc<ArcSwap<Live>>,
    listeners: Arc<ListenerCounters>,
    settings: RouterSettings,
    /// The direct targets of the snapshot `live` held when it was built.
    table: ArcSwapOption<Table>,
    /// The host names of the tables' endpoints, resolved in the background.
    names: Names,
}

/// The direct targets of one deployment snapshot.
struct Table {
    live: Arc<Live>,
    /// `[api][resource]`.
    apis: Vec<Vec<Option<Arc<Target>>>>,
    proxies: Vec<Option<Arc<Target>>>,
    /// The main sequence's, for requests no API or proxy matches.
    main: Option<Arc<Target>>,
}

/// Which counters a direct exchange counts in.
#[derive(Debug, Clone, Copy)]
enum Counted {
    Api(usize),
    Proxy(usize),
    /// The main sequence: no API or proxy counter (as `Deployment::handle_counted`).
    Main,
}

/// A pure-forward route's backend, resolved when the snapshot's table is built.
struct Target {
    live: Arc<Live>,
    endpoint: Arc<Endpoint>,
    /// The endpoint's `<address uri>`, as written.
    address: String,
    /// Where the path of `address` starts (after `http://` and the authority).
    path_start: usize,
    backend: Backend,
    host: Arc<str>,
    timeout: Duration,
    counted: Counted,
    /// `api:X` / `proxy:X`, for the debug event.
    artifact: Arc<str>,
    /// The route's transport-header edits before the send and on the reply.
    request_edits: Arc<[HeaderEdit]>,
    response_edits: Arc<[HeaderEdit]>,
    /// The route's `<log>` steps before the send, each reading only the request head
    /// (`Log::reads_only_the_head`) and no header an edit before it changes: written, in order,
    /// from the raw head when the request goes direct.
    logs: Box<[Log]>,
    /// Content-based routing: the request goes direct only when its body takes the filter's
    /// `then` branch (mediation runtime/direct.rs `JsonFilterRoute`).
    filter: Option<JsonFilterRoute>,
}

/// The largest body the router reads to route a request on its content (a JSON filter); a
/// larger one goes General. The body must also have come in whole with its head.
pub const MAX_ROUTED_BODY: usize = 64 * 1024;

/// Header fields the engine frames, rewrites or adds itself, or that mediation treats specially
/// (runtime/engine.rs `outbound_request`/`response_from`: `Content-Type` follows the message
/// type, `SOAPAction` the WSA action; transport client.rs/headers.rs: `Host`, framing and
/// hop-by-hop fields; location.rs: `Location`; hyper: `Date`; the engine's fault format reads
/// the client's `Accept`): a route that edits one goes General.
const ENGINE_FIELDS: [&str; 17] = [
    "accept",
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
    "expect",
    "location",
    "soapaction",
    "date",
];

/// The edits `steps` make, when every step is a transport-header set to a literal string or a
/// remove (`<header name=X value=Y scope="transport"/>`, `<property name=X value=Y
/// scope="transport"/>`, their `action="remove"` forms), each applied as mediation applies it
/// (mediators header.rs / property.rs `apply`: `MessageContext::set`/`remove` in the transport
/// scope, a `HeaderMap` insert/remove); `None`: any other step (a log, a value read from a
/// header or a property, a pattern, a typed value, an engine field), and the route goes General.
fn header_edits(steps: &[Mediator]) -> Option<Arc<[HeaderEdit]>> {
    steps.iter().map(header_edit).collect()
}

/// The header edits and the logs of the steps before the send.
type RequestSteps = (Arc<[HeaderEdit]>, Box<[Log]>);

/// The edits and the head-only logs of the steps before the send (see [`header_edits`] and
/// [`Target::logs`]); `None`: the route goes General. A log reads the head as it came, so a log
/// reading a header an earlier step edits keeps the route General.
fn request_steps(steps: &[Mediator]) -> Option<RequestSteps> {
    let mut edits = Vec::new();
    let mut logs = Vec::new();
    for step in steps {
        match step {
            Mediator::Log(log) => {
                let edited = |name: &str| {
                    edits
                        .iter()
                        .any(|e: &HeaderEdit| e.name.as_str().eq_ignore_ascii_case(name))
                };
                if !log.reads_only_the_head() || log.header_reads().any(edited) {
                    return None;
                }
                logs.push(log.clone());
            }
            other => edits.push(header_edit(other)?),
        }
    }
    Some((edits.into(), logs.into()))
}

/// One step of [`header_edits`].
fn header_edit(step: &Mediator) -> Option<HeaderEdit> {
    let edit = |name: &str, value: Option<&str>| {
        let name = http::HeaderName::try_from(name).ok()?;
        if ENGINE_FIELDS.contains(&name.as_str()) {
            return None;
        }
        let value = match value {
            Some(v) => Some(http::HeaderValue::try_from(v).ok()?),
            None => None,
        };
        Some(HeaderEdit { name, value })
    };
    match step {
        Mediator::Property(Property {
            name: PropertyName::Fixed(name),
            scope: Scope::Transport,
            action,
            value_type: PropertyType::String,
            pattern: None,
        }) => match action {
            PropertyAction::Set(ValueSource::Literal(v)) => edit(name, Some(v)),
            PropertyAction::Remove => edit(name, None),
            PropertyAction::Set(_) => None,
        },
        Mediator::Header(Header {
            target: HeaderTarget::Transport(name),
            content,
        }) => match content {
            Some(HeaderContent::Value(ValueSource::Literal(v))) => edit(name, Some(v)),
            None => edit(name, None),
            Some(_) => None,
        },
        _ => None,
    }
}

/// Where a target's connections go.
enum Backend {
    /// The host is an IP literal.
    Ip(SocketAddr),
    /// The host is a name, resolved in the background.
    Name(Arc<Name>),
}

impl Backend {
    /// The address to connect to now and the ones to try after it, in order; `None`: the
    /// route goes General (see the module docs).
    fn addresses(&self) -> Option<(SocketAddr, Arc<[SocketAddr]>)> {
        match self {
            Backend::Ip(address) => Some((*address, no_fallbacks())),
            Backend::Name(name) => name.first_and_fallbacks(),
        }
    }
}

/// The empty address list, shared (no allocation per request).
fn no_fallbacks() -> Arc<[SocketAddr]> {
    static EMPTY: std::sync::LazyLock<Arc<[SocketAddr]>> =
        std::sync::LazyLock::new(|| Arc::from([]));
    EMPTY.clone()
}

impl DeploymentRouter {
    pub fn new(
        live: Arc<ArcSwap<Live>>,
        listeners: Arc<ListenerCounters>,
        settings: RouterSettings,
    ) -> Self {
        let router = DeploymentRouter {
            live,
            listeners,
            settings,
            table: ArcSwapOption::empty(),
            names: Names::default(),
        };
        // The first table now, so that its host names are looked up before the first requests
        // (a connection whose first request goes General stays with hyper).
        router.table();
        router
    }

    /// The table of the snapshot served now (built on the first request after a redeploy).
    ///
    /// A guard, not an `Arc`: a guard's load takes no reference count, which two loads per
    /// request paid for before (issue 22). The guard lives for one `route` call.
    fn table(&self) -> arc_swap::Guard<Option<Arc<Table>>> {
        let table = self.table.load();
        if let Some(current) = table.as_deref()
            && Arc::ptr_eq(&current.live, &self.live.load())
        {
            return table;
        }
        drop(table);
        let live = self.live.load_full();
        let built = Arc::new(Table::build(live, &self.settings, &self.names));
        self.table.store(Some(built));
        self.table.load()
    }
}

impl Table {
    fn build(live: Arc<Live>, settings: &RouterSettings, names: &Names) -> Table {
        let deployment = &live.deployment;
        let eligible = !settings.general_only
            && !deployment.has_fault_handlers
            && deployment.attached.data_services.is_empty();
        let target = |route: &MediationRoute, counted: Counted| {
            eligible
                .then(|| Target::of(&live, route, counted, names))
                .flatten()
                .map(Arc::new)
        };
        let apis: Vec<Vec<Option<Arc<Target>>>> = deployment
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
            .collect::<Vec<_>>();
        let main = deployment
            .main_route
            .as_ref()
            .and_then(|r| target(r, Counted::Main));
        // Only this table's names stay cached (an older table still being served keeps its own
        // entries alive through its targets).
        let named: HashSet<NameKey> = apis
            .iter()
            .flatten()
            .chain(proxies.iter())
            .chain(std::iter::once(&main))
            .flatten()
            .filter_map(|t: &Arc<Target>| match &t.backend {
                Backend::Name(name) => Some(name.key()),
                Backend::Ip(_) => None,
            })
            .collect();
        names.retain(&named);
        Table {
            live: live.clone(),
            apis,
            proxies,
            main,
        }
    }
}

impl Target {
    /// The target of `route` when it is a pure forward the engine can make; `None`: General.
    fn of(
        live: &Arc<Live>,
        route: &MediationRoute,
        counted: Counted,
        names: &Names,
    ) -> Option<Target> {
        // A JSON filter's `then` runs as a `<send>` route does once the body has taken it.
        let filter = match &route.direct {
            DirectPlan::Direct(_) => None,
            DirectPlan::General => Some(json_filter(route)?),
        };
        let plan = match (&route.direct, &filter) {
            (DirectPlan::Direct(plan), _) => &**plan,
            (DirectPlan::General, Some(filter)) => &filter.then,
            (DirectPlan::General, None) => return None,
        };
        // `<call>` + `<respond/>` with nothing between them runs as a `<send>` does on the
        // general path (mediation runtime/direct.rs `run_direct`: the reply as it came).
        if !matches!(plan.idiom, Idiom::Send | Idiom::Target | Idiom::CallRespond)
            || !plan.reads_no_properties
        {
            return None;
        }
        let (request_edits, logs) = request_steps(&plan.before)?;
        let response_edits = header_edits(&plan.after)?;
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
        let port = authority.port_u16().unwrap_or(80);
        let host = authority.host();
        let backend = match host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            Ok(ip) => Backend::Ip(SocketAddr::new(ip, port)),
            // A name is looked up in the background, never by a request.
            Err(_) => Backend::Name(names.get(host, port)),
        };
        let host = conflux_transport::headers::host_header_for(&parsed, authority.as_str());
        let path_start = uri.find("://")? + "://".len() + authority.as_str().len();
        Some(Target {
            live: live.clone(),
            endpoint: endpoint.clone(),
            address: uri.clone(),
            path_start,
            backend,
            host: host.into(),
            timeout: endpoint
                .timeout
                .unwrap_or_else(|| live.sender.default_timeout()),
            counted,
            artifact: route.artifact.clone(),
            request_edits,
            response_edits,
            logs,
            filter,
        })
    }

    /// Whether a request to this target goes direct as far as its body decides: always without
    /// a filter; with one, when the filter's `then` branch takes the body (see
    /// [`routed_body`]).
    fn takes<'a>(
        &self,
        request: &RequestView<'a>,
        fields: &Fields<'a>,
        max_message_bytes: usize,
    ) -> bool {
        let Some(filter) = &self.filter else {
            return true;
        };
        routed_body(request, fields, max_message_bytes)
            .is_some_and(|body| filter.holds(body) == Some(true))
    }

    /// Writes the route's log lines for `request` as its `<log>` mediators write them on the
    /// general path (mediation mediators/log.rs `Log::apply_to_head`), all with one message id.
    fn log(&self, request: &RequestView<'_>) {
        if self.logs.is_empty() {
            return;
        }
        let message_id = next_message_id();
        let head = Head(request);
        for log in &self.logs {
            // Only a log that reads more than the head fails, and such a log is never here.
            if let Err(e) = log.apply_to_head(&self.artifact, &head, &message_id) {
                tracing::warn!(target: H1_DIRECT_TARGET, "{{{}}} log line not written: {e}", self.artifact);
            }
        }
    }

    /// The forward of one request whose REST URL postfix is `postfix`.
    fn forward(
        self: &Arc<Self>,
        request: &RequestView<'_>,
        fields: &Fields<'_>,
        postfix: Option<&str>,
        connect_timeout: Duration,
    ) -> Option<DirectForward> {
        let (backend, fallbacks) = self.backend.addresses()?;
        // engine.rs outbound_request: the postfix goes on when `method != POST || doingREST`.
        let rest = request.method() != b"POST" || doing_rest(fields);
        let uri = if rest {
            append_postfix(&self.address, postfix)
        } else {
            self.address.clone()
        };
        let target = backend_target(&uri, self.path_start)?;
        tracing::debug!(target: H1_DIRECT_TARGET, "{{{}}} direct path: h1 engine", self.artifact);
        Some(DirectForward {
            backend,
            fallbacks,
            host: self.host.clone(),
            target,
            uri,
            timeout: Some(self.timeout),
            connect_timeout,
            request_edits: self.request_edits.clone(),
            response_edits: self.response_edits.clone(),
            context: Some(self.clone()),
        })
    }
}

/// The request target of the backend URL `uri` (an endpoint address that parsed, whose path
/// starts at `path_start`, with the request's postfix appended): its path and query as
/// `http::Uri` gives them. A path made only of bytes every path and query accepts
/// (`plainly_valid_target`) is taken as it stands, where it lies in `uri`, without the parse,
/// which copies the whole URL and cost 0.4k instructions per request (bench/BENCHMARKS.md, "The
/// floor"). `None`: not a URL.
fn backend_target(uri: &str, path_start: usize) -> Option<BackendTarget> {
    if let Some(path) = uri.get(path_start..)
        && path.starts_with('/')
        && conflux_transport::h1::conn::plainly_valid_target(path.as_bytes())
    {
        return Some(BackendTarget::InUri(path_start));
    }
    let parsed: http::Uri = uri.parse().ok()?;
    Some(BackendTarget::Own(
        parsed
            .path_and_query()
            .map_or_else(|| "/".to_string(), |p| p.as_str().to_string()),
    ))
}

/// The request head as a log line reads it (mediation mediators/log.rs `RequestFields`).
struct Head<'v, 'a>(&'v RequestView<'a>);

impl RequestFields for Head<'_, '_> {
    /// `http::uri::PathAndQuery` ends at a fragment (hyper's request URI: what `To` logs).
    fn path_and_query(&self) -> &str {
        let target = self.0.target();
        // A byte search (`split_once` with a `char` costs several times more on a short target).
        target
            .bytes()
            .position(|b| b == b'#')
            .map_or(target, |at| &target[..at])
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.0.header(name)
    }
}

/// The header fields the router reads, found in one pass over the head (the first value of
/// each, ASCII case-insensitive, as [`RequestView::header`] finds it).
#[derive(Debug, Default, Clone, Copy)]
struct Fields<'a> {
    host: Option<&'a [u8]>,
    content_type: Option<&'a [u8]>,
    content_length: Option<&'a [u8]>,
    transfer_encoding: Option<&'a [u8]>,
    user_agent: Option<&'a [u8]>,
    max_forwards: Option<&'a [u8]>,
    soapaction: Option<&'a [u8]>,
}

impl<'a> Fields<'a> {
    fn of(request: &RequestView<'a>) -> Self {
        let mut fields = Fields::default();
        for (name, value) in request.headers() {
            let is = |want: &str| name.eq_ignore_ascii_case(want.as_bytes());
            let slot = match name.len() {
                4 if is("host") => &mut fields.host,
                10 if is("user-agent") => &mut fields.user_agent,
                10 if is("soapaction") => &mut fields.soapaction,
                12 if is("content-type") => &mut fields.content_type,
                12 if is("max-forwards") => &mut fields.max_forwards,
                14 if is("content-length") => &mut fields.content_length,
                17 if is("transfer-encoding") => &mut fields.transfer_encoding,
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        fields
    }
}

/// The whole body of `request` when the router may route on it: JSON by its `Content-Type`
/// (mediation payload.rs `ContentKind::of`, the builder the general path picks), framed by a
/// `Content-Length` of at most [`MAX_ROUTED_BODY`] and the deployment's `max_message_bytes`,
/// written without leading zeros, and read whole with the head. Its first and last bytes are
/// not whitespace: the general path sends a JSON body it built as its text trimmed
/// (payload.rs `JsonPayload`'s Display), so only an untrimmed body goes out the same from the
/// engine. `None`: the route goes General.
fn routed_body<'a>(
    request: &RequestView<'a>,
    fields: &Fields<'a>,
    max_message_bytes: usize,
) -> Option<&'a [u8]> {
    // The type as `HeaderValue::to_str` reads it (visible ASCII) on the general path.
    let json = header_text(fields.content_type)
        .is_some_and(|t| !t.trim().is_empty() && ContentKind::of(t) == ContentKind::Json);
    if !json || fields.content_length.is_none_or(|v| v.starts_with(b"0")) {
        return None;
    }
    whole_body(
        request.content_length()?,
        request.body_so_far(),
        max_message_bytes,
    )
}

/// The body of `length` bytes at the start of `so_far` (the bytes read after the head), when it
/// is all there, not empty, at most [`MAX_ROUTED_BODY`] and `max_message_bytes` long, and
/// neither starts nor ends with whitespace.
fn whole_body(length: u64, so_far: &[u8], max_message_bytes: usize) -> Option<&[u8]> {
    let length = usize::try_from(length).ok()?;
    if length == 0 || length > MAX_ROUTED_BODY.min(max_message_bytes) {
        return None;
    }
    let body = so_far.get(..length)?;
    let edge = |b: Option<&u8>| b.is_some_and(|b| !b.is_ascii_whitespace());
    (edge(body.first()) && edge(body.last())).then_some(body)
}

/// Writes the access-log line of a direct exchange from the record `PassThrough::handle` would
/// have built (transport passthrough.rs `AccessRecord`): the engine serves only HTTP/1.1.
fn access_line(log: &dyn AccessLog, record: &DirectRecord<'_>) {
    static EMPTY: std::sync::LazyLock<http::HeaderMap> = std::sync::LazyLock::new(Default::default);
    let (Ok(method), Some(uri)) = (
        http::Method::from_bytes(record.method),
        std::str::from_utf8(record.target)
            .ok()
            .and_then(|target| target.parse::<http::Uri>().ok()),
    ) else {
        return;
    };
    log.record(&AccessRecord {
        conn: record.conn,
        method: &method,
        uri: &uri,
        version: http::Version::HTTP_11,
        request_headers: record.request_headers.unwrap_or(&EMPTY),
        status: http::StatusCode::from_u16(record.status).unwrap_or(http::StatusCode::BAD_GATEWAY),
        response_headers: record.response_headers.unwrap_or(&EMPTY),
        received_at: record.received_at(),
        elapsed: record.elapsed,
    });
}

/// MI's `doingREST` (runtime/context.rs `is_doing_rest`) from the raw head.
fn doing_rest(fields: &Fields<'_>) -> bool {
    let has_body = fields.content_length.is_some() || fields.transfer_encoding.is_some();
    let kind = fields
        .content_type
        .and_then(|v| std::str::from_utf8(v).ok())
        .map(ContentKind::of);
    match kind {
        _ if !has_body => true,
        None => true,
        Some(ContentKind::Soap12) => false,
        Some(ContentKind::Soap11) => fields.soapaction.is_none(),
        Some(_) => true,
    }
}

/// `Deployment::has_body`: an entity body is declared.
fn has_body(fields: &Fields<'_>) -> bool {
    fields.transfer_encoding.is_some()
        || fields
            .content_length
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

    fn logs_failures(&self) -> bool {
        true
    }

    fn wants_headers(&self) -> bool {
        self.settings.access_log.is_some()
    }

    fn answered(&self, record: &DirectRecord<'_>) {
        let Some(target) = record
            .forward
            .context
            .as_ref()
            .and_then(|c| c.downcast_ref::<Target>())
        else {
            return;
        };
        if let Some(log) = &self.settings.access_log {
            access_line(log.as_ref(), record);
        }
        // As PassThrough::respond counts the 5xx answers (the requests: in `direct`).
        if record.status >= 500 {
            self.listeners.faults.fetch_add(1, Ordering::Relaxed);
        }
        let status =
            http::StatusCode::from_u16(record.status).unwrap_or(http::StatusCode::BAD_GATEWAY);
        let counters = &target.live.counters;
        let counted = match target.counted {
            Counted::Api(i) => counters.apis.get(i),
            Counted::Proxy(i) => counters.proxies.get(i),
            Counted::Main => None,
        };
        if let Some(c) = counted {
            c.counters.record_elapsed(record.elapsed, status);
        }
        target
            .live
            .sender
            .report_outcome(&target.endpoint, record.failure);
        // What mediation logs on the hyper path when the send failed and no fault sequence
        // answered (runtime/engine.rs `default_fault`, with passthrough.rs's SendFault).
        if let Some(error) = record.failure {
            tracing::warn!(target: "conflux::mediation", "{{{}}} {} (error code {}); no fault sequence answered the client", target.artifact, error.mi_error_message(), error.mi_error_code());
        }
    }
}

impl DeploymentRouter {
    /// The direct forward of `request`, as `Deployment::handle_counted` would dispatch it.
    fn direct<'a>(&self, request: &RequestView<'a>) -> Option<DirectForward> {
        let table = self.table();
        let table = table.as_deref()?;
        let live = &table.live;
        let deployment = &live.deployment;
        let path = request.target();
        if !path.starts_with('/') || definition_request(path).is_some() {
            return None;
        }
        let method = http::Method::from_bytes(request.method()).ok()?;
        let fields = Fields::of(request);
        let (target, postfix) = if let Some(proxy) = deployment.proxy_table.dispatch(path) {
            if proxy.metadata.is_some() || !live.proxy_running.is_running(proxy.proxy) {
                return None;
            }
            (
                table.proxies.get(proxy.proxy)?.as_ref()?.clone(),
                Some(Cow::Borrowed(proxy.rest_url_postfix)),
            )
        } else {
            let head = RequestHead {
                method: &method,
                path_and_query: path,
                host: fields.host,
                scheme: Protocol::Http,
                content_type: fields.content_type,
                user_agent: fields.user_agent,
                max_forwards: fields.max_forwards,
                has_body: has_body(&fields),
            };
            match deployment.api_table.dispatch(&head) {
                ApiDispatch::Matched(m) => (
                    table.apis.get(m.api)?.get(m.resource)?.as_ref()?.clone(),
                    Some(m.rest_url_postfix),
                ),
                // No API: the main sequence, but for MI's favicon redirect (handle_counted).
                ApiDispatch::NoApi if !(method == http::Method::GET && path == "/favicon.ico") => (
                    table.main.as_ref()?.clone(),
                    Some(Cow::Owned(main_rest_url_postfix(path))),
                ),
                _ => return None,
            }
        };
        // A suspended endpoint fails fast with 303001 on the general path.
        if !live.sender.is_ready(&target.endpoint) {
            return None;
        }
        if !target.takes(request, &fields, deployment.max_message_bytes) {
            return None;
        }
        let forward = target.forward(
            request,
            &fields,
            postfix.as_deref(),
            self.settings.connect_timeout,
        )?;
        // The route's log lines, now that the request is the engine's (mediation writes them
        // before the send, whatever then becomes of it).
        target.log(request);
        // Every request the engine takes is counted here, as PassThrough::respond counts every
        // request hyper hands it before anything else happens: one the client leaves, or whose
        // body breaks off, counts as received all the same.
        self.listeners.http_requests.fetch_add(1, Ordering::Relaxed);
        Some(forward)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The shortcut gives the target http::Uri's parse gives, for every address and postfix
    // shape (the parse is what the engine used before, and what the general path's client uses).
    #[test]
    fn backend_targets_are_the_parsed_urls_path_and_query() {
        let addresses = [
            "http://b:8080",
            "http://b:8080/",
            "http://b/svc",
            "http://b/svc/",
            "http://b/svc?k=v",
            "http://[::1]:9000/a%20b",
            "HTTP://B/Up",
            "http://b/{x}",
        ];
        let postfixes = [
            None,
            Some(""),
            Some("/x"),
            Some("x"),
            Some("?y=1"),
            Some("/x?y=1&z=%2F"),
            Some("/a b"),
            Some("/a#frag"),
            Some("/\"q\""),
            Some("/é"),
        ];
        for address in addresses {
            let parsed: http::Uri = address.parse().expect(address);
            let authority = parsed.authority().expect("authority");
            let path_start = address.find("://").unwrap() + 3 + authority.as_str().len();
            for postfix in postfixes {
                let uri = append_postfix(address, postfix);
                let slow = uri.parse::<http::Uri>().ok().map(|p| {
                    p.path_and_query()
                        .map_or_else(|| "/".to_string(), |p| p.as_str().to_string())
                });
                let fast = backend_target(&uri, path_start).map(|target| match target {
                    BackendTarget::InUri(at) => uri[at..].to_string(),
                    BackendTarget::Own(target) => target,
                    BackendTarget::Client => panic!("{uri}: the client's target"),
                });
                assert_eq!(fast, slow, "{uri}");
            }
        }
    }

    // The body a JSON filter is decided on: whole in the buffer, within MAX_ROUTED_BODY and the
    // deployment's max_message_bytes (the limit and one more), untrimmed.
    #[test]
    fn routed_bodies_are_whole_bounded_and_untrimmed() {
        let body = |n: usize| {
            let mut b = vec![b'1'; n];
            b.push(b'x');
            b
        };
        let big = body(MAX_ROUTED_BODY);
        let at = whole_body(MAX_ROUTED_BODY as u64, &big, usize::MAX);
        assert_eq!(at.map(<[u8]>::len), Some(MAX_ROUTED_BODY));
        let over = body(MAX_ROUTED_BODY + 1);
        assert_eq!(
            whole_body(MAX_ROUTED_BODY as u64 + 1, &over, usize::MAX),
            None
        );
        assert_eq!(whole_body(4, b"1234", 4), Some(&b"1234"[..]));
        assert_eq!(whole_body(5, b"12345", 4), None, "over max_message_bytes");
        assert_eq!(whole_body(5, b"1234", 100), None, "not all read yet");
        assert_eq!(whole_body(3, b"123{}", 100), Some(&b"123"[..]), "pipelined");
        assert_eq!(whole_body(0, b"", 100), None);
        for spaced in [&b" 12"[..], b"12\n", b"\t1\r"] {
            assert_eq!(whole_body(3, spaced, 100), None, "{spaced:?}");
        }
        assert_eq!(whole_body(u64::MAX, b"1", usize::MAX), None);
    }

    // The main sequence's REST URL postfix is synapse NhttpUtil.getRestUrlPostfix's (service
    // path `services`), as mediation's handle_counted sets it and the router uses it.
    #[test]
    fn the_main_sequences_postfix_is_mis() {
        for (uri, postfix) in [
            ("/elsewhere/e?z=3", "elsewhere/e?z=3"),
            ("/elsewhere", "elsewhere"),
            ("/", ""),
            ("/?a=1", "?a=1"),
            ("/services/Unknown/x?a=1", "/x?a=1"),
            ("/services/Unknown?a=1", "?a=1"),
            ("/services/Unknown", ""),
            ("/a/services/P/y", "a/services/P/y"),
            ("/q?u=http://x/y", "q?u=http://x/y"),
        ] {
            assert_eq!(main_rest_url_postfix(uri), postfix, "{uri}");
            assert_eq!(
                append_postfix("http://b/main", Some(&main_rest_url_postfix(uri))),
                match postfix {
                    "" => "http://b/main".to_string(),
                    p if p.starts_with(['/', '?']) => format!("http://b/main{p}"),
                    p => format!("http://b/main/{p}"),
                },
                "{uri}"
            );
        }
    }
}
