//! The glue between listeners and mediation: [`EndpointSender`] sends mediation's requests to
//! backends through the pooled [`BackendClient`], honouring each endpoint's timeout and its
//! suspension state (ACTIVE -> TIMEOUT -> SUSPENDED -> ACTIVE, [`crate::endpoint_state`]); a
//! suspended endpoint fails fast with MI's 303001 without connecting. [`PassThrough`] is the
//! handler of the HTTP/HTTPS listeners: it runs each request through the current deployment.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use conflux_mediation::dispatch::Protocol;
use conflux_mediation::runtime::deployment::{Deployment, DeploymentCounters};
use conflux_mediation::runtime::endpoint::{
    Endpoint, ResponseTimeout, SendFault, SendFuture, Sender, SuspensionSettings, error_codes,
};
use http::{Request, Response};
use hyper::body::Incoming;

use crate::body::ProxyBody;
use crate::client::BackendClient;
use crate::endpoint_state::{
    DEFAULT_MAXIMUM_DURATION_MS, DEFAULT_PROGRESSION_FACTOR, EndpointState, EndpointStatus,
    SuspensionPolicy,
};
use crate::forward::client_response;
use crate::headers::prepare_client_response;
use crate::server::ConnInfo;

/// Sends to endpoints of one deployment; holds one suspension state per endpoint definition.
pub struct EndpointSender {
    client: BackendClient,
    /// Answer deadline for endpoints without `<timeout>` (MI's `synapse.global_timeout_interval`).
    default_timeout: Duration,
    /// Indexed by `Endpoint::id`; shared with the next deployment's sender for the endpoints a
    /// hot redeploy leaves unchanged ([`EndpointSender::carrying`]).
    states: Vec<Arc<Mutex<EndpointState>>>,
}

impl EndpointSender {
    /// `endpoints` are the deployment's endpoint definitions, in `id` order.
    pub fn new(
        client: BackendClient,
        endpoints: &[Arc<Endpoint>],
        default_timeout: Duration,
    ) -> Self {
        let states = endpoints
            .iter()
            .map(|e| Arc::new(Mutex::new(EndpointState::new(policy(&e.suspension)))))
            .collect();
        EndpointSender {
            client,
            default_timeout,
            states,
        }
    }

    /// A sender for the endpoints of a new deployment that shares this one's connection pool,
    /// and keeps the suspension state (SUSPENDED, switched off by an operator, ...) of every
    /// endpoint whose definition did not change: same name, same target and same policy
    /// (`previous` are this sender's endpoints, in `id` order). Changed and new endpoints start
    /// ACTIVE, as MI's redeployed endpoints do.
    pub fn carrying(
        &self,
        endpoints: &[Arc<Endpoint>],
        previous: &[Arc<Endpoint>],
        default_timeout: Duration,
    ) -> Self {
        let identity = |e: &Endpoint| format!("{}|{:?}|{:?}", e.name, e.kind, e.suspension);
        let mut unclaimed: Vec<(String, &Arc<Mutex<EndpointState>>)> = previous
            .iter()
            .zip(&self.states)
            .map(|(e, state)| (identity(e), state))
            .collect();
        let states = endpoints
            .iter()
            .map(|e| {
                let id = identity(e);
                match unclaimed.iter().position(|(old, _)| *old == id) {
                    Some(i) => unclaimed.swap_remove(i).1.clone(),
                    None => Arc::new(Mutex::new(EndpointState::new(policy(&e.suspension)))),
                }
            })
            .collect();
        EndpointSender {
            client: self.client.clone(),
            default_timeout,
            states,
        }
    }

    fn state(&self, endpoint: &Endpoint) -> Option<&Mutex<EndpointState>> {
        self.states.get(endpoint.id).map(|s| &**s)
    }

    /// The answer deadline of endpoints without a `<timeout>` of their own.
    pub fn default_timeout(&self) -> Duration {
        self.default_timeout
    }

    /// Moves `endpoint`'s suspension state after an exchange made without [`Sender::send`] (the
    /// Conflux HTTP/1 engine's direct forwards), exactly as `send` does: a success resets it, a
    /// failure (`Some`) counts towards TIMEOUT/SUSPENDED unless it was the client's own error.
    pub fn report_outcome(
        &self,
        endpoint: &Endpoint,
        failure: Option<&crate::error::BackendError>,
    ) {
        let Some(state) = self.state(endpoint) else {
            return;
        };
        let Ok(mut s) = state.lock() else {
            return;
        };
        match failure {
            None => s.on_success(),
            Some(error) if !error.is_client_error() => {
                let code = error.mi_error_code();
                let class = s.on_failure(code as i32, Instant::now());
                tracing::warn!(target: "conflux::endpoint", "endpoint {} failed with {code} ({error}); state now {:?} ({class:?})", endpoint.name, s.state());
            }
            Some(_) => {}
        }
    }

    /// The state of the endpoint with this `Endpoint::id` (Management API `isActive`).
    pub fn endpoint_status(&self, id: usize) -> Option<EndpointStatus> {
        self.states
            .get(id)
            .and_then(|s| s.lock().ok().map(|s| s.state()))
    }

    /// Switches an endpoint on (ACTIVE) or off (maintenance), as MI's `EndpointContext.switchOn`
    /// and `switchOff` do for the Management API. False when there is no such endpoint.
    pub fn switch_endpoint(&self, id: usize, on: bool) -> bool {
        match self.states.get(id).and_then(|s| s.lock().ok()) {
            Some(mut state) => {
                if on {
                    state.switch_on();
                } else {
                    state.switch_off();
                }
                true
            }
            None => false,
        }
    }

    /// The state (`ACTIVE`, `TIMEOUT`, `SUSPENDED`, ...) of each endpoint, in `id` order, for
    /// monitoring; read under each endpoint's lock, off the request path.
    pub fn endpoint_states(&self) -> Vec<String> {
        self.states
            .iter()
            .map(|s| {
                s.lock()
                    .map(|s| format!("{:?}", s.state()).to_uppercase())
                    .unwrap_or_else(|_| "UNKNOWN".into())
            })
            .collect()
    }
}

fn policy(s: &SuspensionSettings) -> SuspensionPolicy {
    SuspensionPolicy {
        suspend_error_codes: s.suspend_error_codes.clone(),
        initial_duration_ms: s.initial_duration_ms,
        progression_factor: s.progression_factor.unwrap_or(DEFAULT_PROGRESSION_FACTOR),
        maximum_duration_ms: s.maximum_duration_ms.unwrap_or(DEFAULT_MAXIMUM_DURATION_MS),
        timeout_error_codes: s.timeout_error_codes.clone(),
        retries_before_suspension: s.retries_before_suspension,
        retry_delay_ms: s.retry_delay_ms,
    }
}

impl Sender<ProxyBody> for EndpointSender {
    /// The endpoint's suspension state at this instant (endpoint groups choose their child by
    /// it); an endpoint without a state (an implicit one) is always ready.
    fn is_ready(&self, endpoint: &Endpoint) -> bool {
        self.state(endpoint)
            .and_then(|s| s.lock().ok().map(|s| s.is_ready_now()))
            .unwrap_or(true)
    }

    fn send<'a>(
        &'a self,
        endpoint: &'a Endpoint,
        mut request: Request<ProxyBody>,
    ) -> SendFuture<'a, ProxyBody> {
        Box::pin(async move {
            let state = self.state(endpoint);
            if let Some(state) = state {
                let ready = state.lock().map(|s| s.is_ready_now()).unwrap_or(true);
                if !ready {
                    // SYN AbstractEndpoint: a leaf that is not ready fails with 303001.
                    return Err(SendFault {
                        code: error_codes::ENDPOINT_NOT_READY,
                        message: format!(
                            "Currently , Address endpoint : [ Name : {} ] [ State : SUSPENDED ]",
                            endpoint.name
                        ),
                    });
                }
            }
            let target = request.uri().clone();
            if request
                .extensions_mut()
                .remove::<conflux_mediation::runtime::AbsoluteRequestTarget>()
                .is_some()
            {
                request.extensions_mut().insert(crate::client::AbsoluteForm);
            }
            if request
                .extensions_mut()
                .remove::<conflux_mediation::runtime::NoKeepAlive>()
                .is_some()
            {
                request.extensions_mut().insert(crate::client::CloseAfter);
            }
            if let Some(host) = request
                .extensions_mut()
                .remove::<conflux_mediation::runtime::RequestHostHeader>()
            {
                request
                    .extensions_mut()
                    .insert(crate::client::HostOverride(host.0));
            }
            // A per-message deadline (a dynamic `<duration>`) wins over the endpoint's own.
            let timeout = request
                .extensions()
                .get::<ResponseTimeout>()
                .map(|t| t.0)
                .or(endpoint.timeout)
                .unwrap_or(self.default_timeout);
            match self.client.forward(request, &target, Some(timeout)).await {
                Ok(mut response) => {
                    crate::location::rewrite_location(&mut response);
                    if let Some(state) = state
                        && let Ok(mut s) = state.lock()
                    {
                        s.on_success();
                    }
                    Ok(client_response(response))
                }
                Err(error) => {
                    let code = error.mi_error_code();
                    // A client's own error (a malformed or cut request body) says nothing about
                    // the endpoint: it must not move it towards TIMEOUT or SUSPENDED for everyone.
                    if let Some(state) = state.filter(|_| !error.is_client_error())
                        && let Ok(mut s) = state.lock()
                    {
                        let class = s.on_failure(code as i32, Instant::now());
                        tracing::warn!(target: "conflux::endpoint", "endpoint {} failed with {code} ({error}); state now {:?} ({class:?})", endpoint.name, s.state());
                    }
                    Err(SendFault {
                        code,
                        message: error.mi_error_message().to_string(),
                    })
                }
            }
        })
    }
}

/// What the pass-through listeners serve: one deployment and the sender of its endpoints.
pub struct Live {
    pub deployment: Deployment,
    pub sender: EndpointSender,
    /// Per-API and per-proxy counters of `deployment` ([`DeploymentCounters::for_deployment`]).
    pub counters: DeploymentCounters,
    /// The parsed artifacts `deployment` was compiled from (the Management API shows them).
    pub artifacts: conflux_artifacts::Artifacts,
    /// Which proxy services run, indexed like `deployment.proxies`; an operator stops one through
    /// the Management API (MI: `ProxyServiceResource` stop/start).
    pub proxy_running: ProxySwitches,
    /// The carbon applications found, active and faulty (Management API `/applications`).
    pub applications: conflux_artifacts::Applications,
}

/// Run/stop switches of the deployed proxy services.
#[derive(Debug, Default)]
pub struct ProxySwitches {
    running: Vec<AtomicBool>,
    /// True while any proxy is stopped, so that the request path checks nothing otherwise.
    any_stopped: AtomicBool,
}

impl ProxySwitches {
    /// Switches for a new deployment's proxies (`(name, startOnLoad)` in index order): a proxy
    /// that `previous` (`previous_names`, in its index order) had stopped or started by hand
    /// keeps that state; a new proxy starts as its artifact says.
    pub fn carrying<'a>(
        proxies: impl IntoIterator<Item = (&'a str, bool)>,
        previous: &ProxySwitches,
        previous_names: &[&str],
    ) -> Self {
        ProxySwitches::new(proxies.into_iter().map(|(name, start_on_load)| {
            previous_names
                .iter()
                .position(|n| *n == name)
                .map_or(start_on_load, |i| previous.is_running(i))
        }))
    }

    /// Every proxy running, except those deployed with `startOnLoad="false"`.
    pub fn new(start_on_load: impl IntoIterator<Item = bool>) -> Self {
        let running: Vec<AtomicBool> = start_on_load.into_iter().map(AtomicBool::new).collect();
        let any_stopped = running.iter().any(|r| !r.load(Ordering::Relaxed));
        ProxySwitches {
            running,
            any_stopped: AtomicBool::new(any_stopped),
        }
    }

    pub fn is_running(&self, index: usize) -> bool {
        self.running
            .get(index)
            .is_some_and(|r| r.load(Ordering::Acquire))
    }

    /// False when there is no such proxy.
    pub fn set_running(&self, index: usize, on: bool) -> bool {
        let Some(flag) = self.running.get(index) else {
            return false;
        };
        flag.store(on, Ordering::Release);
        let any = self.running.iter().any(|r| !r.load(Ordering::Acquire));
        self.any_stopped.store(any, Ordering::Release);
        true
    }

    pub fn any_stopped(&self) -> bool {
        self.any_stopped.load(Ordering::Acquire)
    }
}

/// What a stopped proxy service answers, as MI does: its Axis2 service is inactive, so
/// `AxisConfiguration.getService` throws Axis2's `serviceinactive` fault and the pass-through
/// `ServerWorker.handleException` sends it as a SOAP fault with status 500 (MI test
/// ESBJAVA3546CAppProxyOnLoadTestCase).
fn inactive_proxy_response(name: &str) -> Response<ProxyBody> {
    let escaped = name
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let body = format!(
        "<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>The system is attempting to access an inactive service: {escaped}</faultstring><detail/></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    );
    let mut response = Response::new(ProxyBody::full(bytes::Bytes::from(body)));
    *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/xml; charset=UTF-8"),
    );
    response
}

/// Requests received per pass-through listener (MI's transport MBean counters), relaxed atomics.
#[derive(Debug, Default)]
pub struct ListenerCounters {
    pub http_requests: AtomicU64,
    pub https_requests: AtomicU64,
    /// Answers with a 5xx status, either listener.
    pub faults: AtomicU64,
}

impl ListenerCounters {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// The handler of the HTTP and HTTPS pass-through listeners. Cloning is cheap; every clone sees
/// the snapshot swapped in last.
#[derive(Clone)]
pub struct PassThrough {
    live: Arc<ArcSwap<Live>>,
    listeners: Arc<ListenerCounters>,
    /// The HTTP access log, when configured (off by default).
    access_log: Option<Arc<dyn AccessLog>>,
    /// `[transport.http] enable_message_size_validation` / `max_message_size_bytes`.
    max_request_bytes: Option<u64>,
}

/// One exchange as the HTTP access log sees it (built only when an access log is configured).
pub struct AccessRecord<'a> {
    pub conn: &'a ConnInfo,
    pub method: &'a http::Method,
    pub uri: &'a http::Uri,
    pub version: http::Version,
    pub request_headers: &'a http::HeaderMap,
    pub status: http::StatusCode,
    pub response_headers: &'a http::HeaderMap,
    pub received_at: std::time::SystemTime,
    /// From the request head to the response head.
    pub elapsed: Duration,
}

/// Where access records go (the binary writes `http_access.log`).
pub trait AccessLog: Send + Sync {
    fn record(&self, record: &AccessRecord<'_>);
}

impl PassThrough {
    pub fn new(live: Arc<ArcSwap<Live>>) -> Self {
        PassThrough {
            live,
            listeners: Arc::default(),
            access_log: None,
            max_request_bytes: None,
        }
    }

    /// Answers 413 to requests whose body is larger than `limit` bytes, before any mediation (MI's
    /// passthru `SourceHandler` with `message.size.validation.enabled`): a declared
    /// `Content-Length` beyond the limit is refused at once; a body without one is read up to the
    /// limit first, so that nothing has been sent anywhere when it turns out too large.
    pub fn with_max_request_bytes(mut self, limit: Option<u64>) -> Self {
        self.max_request_bytes = limit;
        self
    }

    /// Records every exchange of the pass-through listeners in `log`.
    pub fn with_access_log(mut self, log: Arc<dyn AccessLog>) -> Self {
        self.access_log = Some(log);
        self
    }

    /// The snapshot the listeners serve now.
    pub fn live(&self) -> Arc<Live> {
        self.live.load_full()
    }

    /// The per-listener request counters.
    pub fn listener_counters(&self) -> Arc<ListenerCounters> {
        self.listeners.clone()
    }

    /// Mediates one client request; the response's hop-by-hop headers are removed.
    pub async fn handle(&self, request: Request<Incoming>, conn: ConnInfo) -> Response<ProxyBody> {
        let Some(access_log) = &self.access_log else {
            return self.respond(request, conn).await;
        };
        // Only with an access log configured: keep what the log line needs from the request.
        let received_at = std::time::SystemTime::now();
        let started = Instant::now();
        let (method, uri, version) = (
            request.method().clone(),
            request.uri().clone(),
            request.version(),
        );
        let request_headers = request.headers().clone();
        let response = self.respond(request, conn).await;
        access_log.record(&AccessRecord {
            conn: &conn,
            method: &method,
            uri: &uri,
            version,
            request_headers: &request_headers,
            status: response.status(),
            response_headers: response.headers(),
            received_at,
            elapsed: started.elapsed(),
        });
        response
    }

    async fn respond(&self, request: Request<Incoming>, conn: ConnInfo) -> Response<ProxyBody> {
        // An owned snapshot: a redeploy during this request does not disturb it.
        let live = self.live.load_full();
        let scheme = if conn.tls {
            self.listeners
                .https_requests
                .fetch_add(1, Ordering::Relaxed);
            Protocol::Https
        } else {
            self.listeners.http_requests.fetch_add(1, Ordering::Relaxed);
            Protocol::Http
        };
        if live.proxy_running.any_stopped()
            && let Some(path) = request.uri().path_and_query().map(|p| p.as_str())
            && let Some(proxy) = live.deployment.proxy_table.dispatch(path)
            && !live.proxy_running.is_running(proxy.proxy)
        {
            let name = live
                .deployment
                .proxies
                .get(proxy.proxy)
                .map(|route| {
                    route
                        .artifact
                        .strip_prefix("proxy:")
                        .unwrap_or(&route.artifact)
                })
                .unwrap_or_default();
            return inactive_proxy_response(name);
        }
        let data_services = &live.deployment.attached.data_services;
        if !data_services.is_empty()
            && let Some(path) = request.uri().path_and_query().map(|p| p.as_str())
            && let Some(service) = crate::data_services::lookup(data_services, path)
            && live.deployment.proxy_table.dispatch(path).is_none()
        {
            let service = service.clone();
            let mut response = crate::data_services::serve(&service, request).await;
            if response.status().is_server_error() {
                self.listeners.faults.fetch_add(1, Ordering::Relaxed);
            }
            prepare_client_response(&mut response);
            return response;
        }
        let request = match self.max_request_bytes {
            Some(limit) => match within_size_limit(request, limit).await {
                Ok(request) => request,
                Err(response) => return response,
            },
            None => request.map(ProxyBody::from),
        };
        let prefix = crate::location::service_prefix(
            conn.tls,
            conn.local,
            request.uri().path_and_query().map_or("/", |p| p.as_str()),
        );
        // Mediation's future is large (every mediator's state) and each layer above would hold
        // and move a copy of it (the task-local scopes below, this method, the handler, hyper's
        // dispatcher): boxed once here, the layers above move a pointer (bench/callgrind.sh
        // counted ~93 KB of memcpy per request before).
        let mediation = Box::pin(live.deployment.handle_counted(
            &live.sender,
            request,
            scheme,
            Some(&live.counters),
        ));
        // The client's address, for the throttle mediator (MI's REMOTE_ADDR).
        let mut response = crate::location::with_service_prefix(
            prefix,
            conflux_mediation::runtime::mediators::with_client_addr(conn.remote.ip(), mediation),
        )
        .await;
        if response.status().is_server_error() {
            self.listeners.faults.fetch_add(1, Ordering::Relaxed);
        }
        prepare_client_response(&mut response);
        response
    }
}

/// The request with its body, or the 413 answer when the body is larger than `limit` bytes.
async fn within_size_limit(
    request: Request<Incoming>,
    limit: u64,
) -> Result<Request<ProxyBody>, Response<ProxyBody>> {
    use http_body::Body as _;
    use http_body_util::BodyExt as _;
    let too_large = || {
        let mut response = Response::new(ProxyBody::Empty);
        *response.status_mut() = http::StatusCode::PAYLOAD_TOO_LARGE;
        response.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
        response
    };
    let (parts, body) = request.into_parts();
    if let Some(length) = body.size_hint().exact() {
        // Content-Length known up front (or no body at all).
        return if length > limit {
            tracing::warn!(target: "conflux::transport", "request body of {length} bytes to {} exceeds max_message_size_bytes = {limit}: answered 413", parts.uri);
            Err(too_large())
        } else {
            Ok(Request::from_parts(parts, ProxyBody::from(body)))
        };
    }
    // Chunked: counted while it is read, before anything is sent.
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    match http_body_util::Limited::new(body, cap).collect().await {
        Ok(collected) => Ok(Request::from_parts(
            parts,
            ProxyBody::full(collected.to_bytes()),
        )),
        Err(error) => {
            if error.is::<http_body_util::LengthLimitError>() {
                tracing::warn!(target: "conflux::transport", "request body to {} exceeds max_message_size_bytes = {limit}: answered 413", parts.uri);
                Err(too_large())
            } else {
                // The client went away mid-body: nothing to mediate.
                let mut response = Response::new(ProxyBody::Empty);
                *response.status_mut() = http::StatusCode::BAD_REQUEST;
                Err(response)
            }
        }
    }
}
