//! Endpoints as mediation sees them: where a message goes (`address` URI, or an `http`
//! uri-template and method), how long to wait, and the faults a send can end in. The sending
//! itself, with connection pooling and the suspension state machine, is the transport's
//! [`Sender`].
//!
//! MI semantics (synapse-subset.md §3.7): an address endpoint gets the axis2 property
//! `REST_URL_POSTFIX` appended (SYN `Axis2FlexibleMEPClient`); an http endpoint expands its
//! uri-template from `uri.var.*` / `query.param.*` and never appends the postfix
//! (SYN `endpoints/HTTPEndpoint.java`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http::{Method, Request, Response};

use crate::dispatch::EndpointUriTemplate;
use crate::runtime::body::MessageBody;
pub use crate::runtime::endpoint_group::{EndpointGroup, GroupChild, GroupKind};

/// MI error codes a send can end in (SYN `SynapseConstants`).
pub mod error_codes {
    /// Connection to the backend failed (refused, reset, DNS).
    pub const CONNECTION_FAILED: u32 = 101_503;
    /// The backend did not answer in time.
    pub const TIMEOUT: u32 = 101_504;
    /// The backend closed the connection before the response was complete.
    pub const CONNECTION_CLOSED: u32 = 101_505;
    /// The backend broke the HTTP protocol.
    pub const PROTOCOL_VIOLATION: u32 = 101_506;
    /// Connecting took too long.
    pub const CONNECT_TIMEOUT: u32 = 101_508;
    /// The endpoint is suspended after earlier failures and was not tried.
    pub const ENDPOINT_NOT_READY: u32 = 303_001;
    /// No child of a failover or load-balance group is ready (`ENDPOINT_FO_NONE_READY`,
    /// `ENDPOINT_LB_NONE_READY`).
    pub const GROUP_NONE_READY: u32 = crate::runtime::endpoint_group::GROUP_NONE_READY;
}

/// What the endpoint's `<timeout><responseAction>` says to do when the backend is late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutAction {
    /// Run the fault handler with 101504.
    Fault,
    /// Drop the late reply (the client gets the implicit 202).
    Discard,
    /// No action configured: the fault handler runs, as for Fault.
    Never,
}

/// How an endpoint computes its target.
#[derive(Debug, Clone)]
pub enum EndpointKind {
    /// `<address uri [format]>`: the URI, with `REST_URL_POSTFIX` appended for a REST message;
    /// `format` forces the message format of the send (Axis2FlexibleMEPClient).
    Address {
        uri: String,
        format: Option<EndpointFormat>,
        /// `<enableAddressing/>`: WS-Addressing headers go on the request
        /// ([`crate::runtime::addressing`]).
        addressing: bool,
    },
    /// `<http uri-template method>`.
    Http {
        template: EndpointUriTemplate,
        method: Option<Method>,
    },
    /// `<default/>`: the message's own `To` address (set with `<header name="To">`), which must be
    /// an absolute http(s) URL.
    Default,
    /// A key that names no deployed endpoint: every send to it is a fault, as MI's
    /// `IndirectEndpoint` does when its key does not resolve.
    Missing,
    /// `<failover>` or `<loadbalance>` over child endpoints ([`EndpointGroup`]).
    Group(Arc<EndpointGroup>),
    /// `<endpoint key-expression>`: a named endpoint chosen per message
    /// ([`crate::runtime::dynamic_endpoint`]).
    Dynamic(Arc<crate::runtime::dynamic_endpoint::DynamicEndpoint>),
    /// `<wsdl uri service port>`: an address endpoint whose address is read from a WSDL document
    /// at the first send ([`crate::runtime::wsdl_endpoint`]).
    Wsdl(Arc<crate::runtime::wsdl_endpoint::WsdlEndpoint>),
    /// `<recipientlist>`: a copy of the message to every member, sent by `<send>` and `<call>`
    /// ([`crate::runtime::recipient_list`]).
    RecipientList(Arc<crate::runtime::recipient_list::RecipientList>),
}

/// The `format` of an address endpoint (`soap11`, `soap12`, `pox`, `rest`, `get`).
pub use conflux_artifacts::endpoint::MessageFormat as EndpointFormat;

/// Suspension settings as the endpoint declares them (`<suspendOnFailure>`, `<markForSuspension>`);
/// the transport's state machine interprets them. Empty code lists mean MI's defaults.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SuspensionSettings {
    pub suspend_error_codes: Vec<i32>,
    /// `None`: MI's 30 s default.
    pub initial_duration_ms: Option<u64>,
    pub progression_factor: Option<f32>,
    pub maximum_duration_ms: Option<u64>,
    pub timeout_error_codes: Vec<i32>,
    pub retries_before_suspension: u32,
    pub retry_delay_ms: u64,
}

/// A deployed endpoint definition (named or inline).
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Index in the deployment's endpoint table: the transport keeps one state per index.
    pub id: usize,
    /// The endpoint's name, or `anonymous` for an inline one (MI's name for them).
    pub name: Arc<str>,
    pub kind: EndpointKind,
    pub timeout: Option<Duration>,
    /// `<duration>{expr}</duration>`: the deadline in milliseconds, computed per message (MI test
    /// `DynamicTimeoutEndpointTestCase`); it travels with the request as [`ResponseTimeout`].
    pub dynamic_timeout: Option<crate::runtime::value::ValueSource>,
    pub timeout_action: TimeoutAction,
    pub suspension: SuspensionSettings,
}

impl Endpoint {
    /// An `<address uri>` endpoint with MI's defaults: no timeout of its own, no suspension
    /// settings, no format or addressing.
    pub fn plain_address(id: usize, name: impl Into<Arc<str>>, uri: impl Into<String>) -> Endpoint {
        Endpoint {
            id,
            name: name.into(),
            kind: EndpointKind::Address {
                uri: uri.into(),
                format: None,
                addressing: false,
            },
            timeout: None,
            dynamic_timeout: None,
            timeout_action: TimeoutAction::Never,
            suspension: SuspensionSettings::default(),
        }
    }
}

/// A per-message answer deadline, set as a request extension when an endpoint's timeout is an
/// expression; the transport prefers it over [`Endpoint::timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseTimeout(pub Duration);

/// Set as a request extension when the message has `POST_TO_URI` (axis2 scope): the request line
/// carries the absolute URI instead of the path, as MI's pass-through sender writes it for
/// proxies that want it (TargetRequest.java, MI test PropertyIntegrationPOST_TO_URI_PropertyTestCase).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbsoluteRequestTarget;

/// Set as a request extension when the message has `NO_KEEPALIVE` (axis2 scope): the backend
/// request asks to close the connection after the exchange (`Connection: Close`, Synapse
/// passthru TargetRequestFactory; MI test PropertyIntegrationNO_KEEPALIVE_PropertyTest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoKeepAlive;

/// Set as a request extension when the message has `REQUEST_HOST_HEADER` (axis2 scope): the
/// backend request's Host header (Synapse passthru TargetRequestFactory; MI test
/// SetHostHttpHeaderTestCase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHostHeader(pub String);

/// A send that did not produce a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (error code {code})")]
pub struct SendFault {
    /// MI's error code ([`error_codes`]).
    pub code: u32,
    pub message: String,
}

/// A response future from the transport.
pub type SendFuture<'a, B> =
    Pin<Box<dyn Future<Output = Result<Response<B>, SendFault>> + Send + 'a>>;

/// Sends a request to an endpoint: implemented by the transport (connection pool, TLS, endpoint
/// suspension), and by tests.
pub trait Sender<B: MessageBody>: Send + Sync {
    /// `request` already carries the absolute target URI and the method to use.
    fn send<'a>(&'a self, endpoint: &'a Endpoint, request: Request<B>) -> SendFuture<'a, B>;

    /// `readyToSend()` of a leaf endpoint (or the switch of a group): false while it is suspended,
    /// in its timeout retry delay, or switched off. Endpoint groups ask it to choose a child.
    fn is_ready(&self, _endpoint: &Endpoint) -> bool {
        true
    }
}
