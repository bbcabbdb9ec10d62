//! The glue between listeners and mediation: [`EndpointSender`] sends mediation's requests to
//! backends through the pooled [`BackendClient`], honouring each endpoint's timeout and its
//! suspension state (ACTIVE -> TIMEOUT -> SUSPENDED -> ACTIVE, [`crate::endpoint_state`]); a
//! suspended endpoint fails fast with MI's 303001 without connecting. [`PassThrough`] is the
//! handler of the HTTP/HTTPS listeners: it runs each request through the current deployment.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use conflux_mediation::dispatch::Protocol;
use conflux_mediation::runtime::deployment::Deployment;
use conflux_mediation::runtime::endpoint::{
    Endpoint, SendFault, SendFuture, Sender, SuspensionSettings, error_codes,
};
use http::{Request, Response};
use hyper::body::Incoming;

use crate::body::ProxyBody;
use crate::client::BackendClient;
use crate::endpoint_state::{
    DEFAULT_MAXIMUM_DURATION_MS, DEFAULT_PROGRESSION_FACTOR, EndpointState, SuspensionPolicy,
};
use crate::forward::client_response;
use crate::headers::prepare_client_response;
use crate::server::ConnInfo;

/// Sends to endpoints of one deployment; holds one suspension state per endpoint definition.
pub struct EndpointSender {
    client: BackendClient,
    /// Answer deadline for endpoints without `<timeout>` (MI's `synapse.global_timeout_interval`).
    default_timeout: Duration,
    /// Indexed by `Endpoint::id`.
    states: Vec<Mutex<EndpointState>>,
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
            .map(|e| Mutex::new(EndpointState::new(policy(&e.suspension))))
            .collect();
        EndpointSender {
            client,
            default_timeout,
            states,
        }
    }

    fn state(&self, endpoint: &Endpoint) -> Option<&Mutex<EndpointState>> {
        self.states.get(endpoint.id)
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
    fn send<'a>(
        &'a self,
        endpoint: &'a Endpoint,
        request: Request<ProxyBody>,
    ) -> SendFuture<'a, ProxyBody> {
        Box::pin(async move {
            let state = self.state(endpoint);
            if let Some(state) = state {
                let ready = state
                    .lock()
                    .map(|s| s.is_ready(Instant::now()))
                    .unwrap_or(true);
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
            match self
                .client
                .forward(
                    request,
                    &target,
                    Some(endpoint.timeout.unwrap_or(self.default_timeout)),
                )
                .await
            {
                Ok(response) => {
                    if let Some(state) = state
                        && let Ok(mut s) = state.lock()
                    {
                        s.on_success();
                    }
                    Ok(client_response(response))
                }
                Err(error) => {
                    let code = error.mi_error_code();
                    if let Some(state) = state
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
}

/// The handler of the HTTP and HTTPS pass-through listeners. Cloning is cheap; every clone sees
/// the snapshot swapped in last.
#[derive(Clone)]
pub struct PassThrough {
    live: Arc<ArcSwap<Live>>,
}

impl PassThrough {
    pub fn new(live: Arc<ArcSwap<Live>>) -> Self {
        PassThrough { live }
    }

    /// Mediates one client request; the response's hop-by-hop headers are removed.
    pub async fn handle(&self, request: Request<Incoming>, conn: ConnInfo) -> Response<ProxyBody> {
        // An owned snapshot: a redeploy during this request does not disturb it.
        let live = self.live.load_full();
        let scheme = if conn.tls {
            Protocol::Https
        } else {
            Protocol::Http
        };
        let mut response = live
            .deployment
            .handle(&live.sender, request.map(ProxyBody::from), scheme)
            .await;
        prepare_client_response(&mut response);
        response
    }
}
