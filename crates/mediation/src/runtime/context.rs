//! The message context: the current message (request or response: method, URI, transport headers,
//! body, status) and the properties mediators read and write, in MI's scopes.
//!
//! Scopes (synapse-subset.md §3.9): `default` survives from request to response; `axis2` belongs to
//! the current message (`HTTP_SC`, `messageType`, `ContentType`, `REST_URL_POSTFIX`,
//! `NO_ENTITY_BODY`, `HTTP_METHOD`); `transport` is the current message's HTTP headers;
//! `operation` and `axis2-client` are kept for the whole exchange like `default`.
//!
//! The body is a stream until a mediator needs its content: [`MessageContext::build_payload`] then
//! reads it once into a [`Payload`], and [`MessageContext::take_outgoing_body`] writes that payload
//! back out in the format `messageType` asks for.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};

use crate::runtime::body::{MessageBody, read_limited};
use crate::runtime::fault::FaultFormat;
use crate::runtime::payload::{ContentKind, Payload, PayloadError};

/// Well-known axis2-scope property names.
pub mod props {
    pub const REST_URL_POSTFIX: &str = "REST_URL_POSTFIX";
    pub const HTTP_SC: &str = "HTTP_SC";
    pub const HTTP_SC_DESC: &str = "HTTP_SC_DESC";
    pub const MESSAGE_TYPE: &str = "messageType";
    pub const CONTENT_TYPE: &str = "ContentType";
    pub const NO_ENTITY_BODY: &str = "NO_ENTITY_BODY";
    pub const HTTP_METHOD: &str = "HTTP_METHOD";
    pub const FORCE_SC_ACCEPTED: &str = "FORCE_SC_ACCEPTED";
    /// Default scope: do not wait for a reply.
    pub const OUT_ONLY: &str = "OUT_ONLY";
    /// Default scope: treat the message as a response (legacy echo idiom).
    pub const RESPONSE: &str = "RESPONSE";
    pub const ERROR_CODE: &str = "ERROR_CODE";
    pub const ERROR_MESSAGE: &str = "ERROR_MESSAGE";
    pub const ERROR_DETAIL: &str = "ERROR_DETAIL";
    pub const ERROR_EXCEPTION: &str = "ERROR_EXCEPTION";
    /// Default scope: a SOAP fault reply goes to the fault handler.
    pub const FORCE_ERROR_ON_SOAP_FAULT: &str = "FORCE_ERROR_ON_SOAP_FAULT";
    /// Axis2 scope: the request line carries the absolute URI.
    pub const POST_TO_URI: &str = "POST_TO_URI";
    /// Axis2 scope: close the backend connection after the exchange.
    pub const NO_KEEPALIVE: &str = "NO_KEEPALIVE";
}

/// The longest stretch for which the mediation of one message runs without giving way: past it,
/// the engine yields once before its next mediator (a cancellation point). The message is
/// mediated inside its client connection's task, so yielding lets that connection notice a client
/// that has closed and drop the exchange (conflux-transport `server`), and lets the other
/// connections of the worker thread have their turn. Mediation that waits (a backend call, a
/// body read) gives way by itself; this bounds a run of mediators that only compute (XPath over
/// a large body, a long sequence) to this interval plus one mediator.
pub const MEDIATION_YIELD_INTERVAL: Duration = Duration::from_millis(10);

/// The properties of one scope. Looked up several times per message on the pass-through path, so
/// with foldhash (fast on short keys, seeded per process) rather than SipHash; keys that come from
/// a client (`query.param.*`) are bounded by the request-head limit.
pub type PropertyMap = HashMap<String, String, foldhash::fast::RandomState>;

/// Where a property lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Default,
    Axis2,
    Transport,
    /// Lives for the whole request/response exchange, like `default` (MI: the operation context).
    Operation,
    /// The axis2 scope of the outgoing client request (MI: `axis2-client`).
    Axis2Client,
}

/// The message being mediated and its properties.
pub struct MessageContext<B> {
    /// The client's request method (the outgoing method unless `HTTP_METHOD` says otherwise).
    pub method: Method,
    /// The client's request URI (path and query).
    pub uri: Uri,
    /// Transport headers of the current message.
    pub headers: HeaderMap,
    /// Body of the current message.
    pub body: B,
    /// Status of the current message when it is a response.
    pub status: StatusCode,
    /// Whether the current message is a response (after send/call/loopback).
    pub is_response: bool,
    /// `default` scope.
    pub properties: PropertyMap,
    /// `axis2` scope.
    pub axis2: PropertyMap,
    /// Sequence number of this message in the process; formatted as MI's `urn:uuid:` id only when
    /// something asks for it ([`MessageContext::message_id`]), which keeps formatting off the
    /// pass-through path.
    sequence: u64,
    /// `api:NAME` or `proxy:NAME`, the prefix of log mediator lines.
    pub artifact: Arc<str>,
    /// Headers set by mediators: what a request turned into a response (respond) carries back.
    pub headers_set: Vec<HeaderName>,
    /// How the client wants an unhandled fault reported, judged from its request.
    pub fault_format: FaultFormat,
    /// The body's content once a mediator needed it; then `body` is empty and this is what is
    /// sent on.
    pub payload: Option<Payload>,
    /// WS-Addressing fields set by `<header name="To|Action|ReplyTo|...">` (`To` overrides the
    /// address a `<send/>` without endpoint goes to).
    pub addressing: PropertyMap,
    /// `operation` scope.
    pub operation: PropertyMap,
    /// `axis2-client` scope.
    pub axis2_client: PropertyMap,
    /// Set by `makefault`: the message is a fault, sent with status 500 unless `HTTP_SC` is set
    /// (MI: `setProcessingFault(true)`).
    pub fault_response: bool,
    /// The transport the request came in on, `http` or `https`: the default-scope
    /// `TRANSPORT_IN_NAME` MI sets on every message (Axis2SynapseEnvironment.injectMessage),
    /// answered on demand rather than stored per message.
    pub transport_in: &'static str,
    /// MI's `doingREST` of the request (passthru ServerWorker, Axis2 HTTPTransportUtils): no
    /// body, no or a non-SOAP Content-Type, or `text/xml` without a SOAPAction header. It makes
    /// `MESSAGE_FORMAT` answer `pox` and a `text/xml` messageType write plain XML.
    pub doing_rest: bool,
    /// Properties set with `type="OM"`: MI stores an element, which reads as its text
    /// (SynapseXPath.stringValueOf) where a string is wanted.
    pub om_properties: Vec<(Scope, String)>,
    /// The function stack of template calls (Synapse's `_SYNAPSE_FUNCTION_STACK`): the top frame
    /// is what `$func:name` and `get-property('func', name)` read.
    pub func_stack: Vec<crate::runtime::mediators::TemplateFrame>,
    /// The deployment's local entries, which an unset default-scope property falls back to.
    pub local_entries: std::sync::Arc<std::collections::HashMap<String, String>>,
    /// The deployment's file registry, which `get-property('registry', key)` reads
    /// (SYN `mediators/GetPropertyFunction.java`, SCOPE_REGISTRY).
    pub registry: Arc<conflux_artifacts::Registry>,
    /// Config property values of the deployment (`${configs.NAME}`).
    pub configs: Arc<std::collections::BTreeMap<String, String>>,
    /// The `charset` the request's Content-Type named (MI's CHARACTER_SET_ENCODING of the request).
    pub request_charset: Option<String>,
    /// MI 4.4 variables (`vars.NAME`), set by the variable mediator and by connector operations'
    /// `responseVariable`.
    pub variables: HashMap<String, crate::synapse_expr::ExprValue>,
    /// Set by `<throwError>`: `ERROR_CODE` and `ERROR_MESSAGE` hold what it gave, and the fault
    /// handler that runs next keeps them (SYN `FaultHandler.handleFault` fills them only while
    /// `ERROR_CODE` is unset).
    pub thrown_error: bool,
    /// Set by a `<cache>` finder on a miss: the entry its collector fills with the response (MI's
    /// `CachableResponse` property).
    pub cache_ticket: Option<crate::runtime::mediators::CacheTicket>,
    /// Concurrency slots of `<throttle>` mediators this message holds; dropping the context
    /// gives them back (runtime/mediators/throttle.rs).
    pub throttle_permits: Vec<crate::runtime::mediators::ConcurrencyPermit>,
    /// When mediation of this message last gave way ([`MEDIATION_YIELD_INTERVAL`]); `None`
    /// before its first mediator.
    gave_way_at: Option<Instant>,
}

impl<B: MessageBody> MessageContext<B> {
    pub fn new(method: Method, uri: Uri, headers: HeaderMap, body: B, artifact: Arc<str>) -> Self {
        let fault_format = FaultFormat::for_request(&headers);
        let doing_rest = is_doing_rest(&headers);
        let request_charset = charset_of(&headers);
        MessageContext {
            method,
            uri,
            headers,
            body,
            status: StatusCode::OK,
            is_response: false,
            properties: PropertyMap::default(),
            axis2: PropertyMap::default(),
            sequence: MESSAGE_COUNTER.fetch_add(1, Ordering::Relaxed),
            artifact,
            headers_set: Vec::new(),
            fault_format,
            payload: None,
            addressing: PropertyMap::default(),
            operation: PropertyMap::default(),
            axis2_client: PropertyMap::default(),
            fault_response: false,
            transport_in: "http",
            doing_rest,
            om_properties: Vec::new(),
            func_stack: Vec::new(),
            local_entries: Default::default(),
            registry: Default::default(),
            configs: Default::default(),
            request_charset,
            variables: HashMap::new(),
            thrown_error: false,
            cache_ticket: None,
            throttle_permits: Vec::new(),
            gave_way_at: None,
        }
    }

    /// True when this message has been mediated for [`MEDIATION_YIELD_INTERVAL`] since it last
    /// gave way (the first call starts the clock); the engine then yields once.
    pub(crate) fn should_give_way(&mut self) -> bool {
        let now = Instant::now();
        match self.gave_way_at {
            Some(since) if now.duration_since(since) < MEDIATION_YIELD_INTERVAL => false,
            Some(_) => {
                self.gave_way_at = Some(now);
                true
            }
            None => {
                self.gave_way_at = Some(now);
                false
            }
        }
    }

    /// Reads the body into a [`Payload`] unless that was done already; at most `limit` bytes.
    pub async fn build_payload(&mut self, limit: usize) -> Result<(), PayloadError> {
        if self.payload.is_some() {
            return Ok(());
        }
        if let Some(length) = self
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            && length > limit as u64
        {
            return Err(PayloadError::TooLarge { limit });
        }
        let bytes = read_limited(self.take_body(), limit).await?;
        let content_type = self
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let payload = Payload::parse(bytes.clone(), content_type).inspect_err(|e| {
            if let PayloadError::Malformed { kind, .. } = e {
                if *kind == "JSON" {
                    // MI's JsonStreamBuilder.processDocument logs this when the JSON builder fails.
                    tracing::error!(target: "conflux::mediation", "Error occurred while processing document for application/json: {e}");
                }
                // RelayUtils.buildMessage: the failure and the raw message (cut at a limit here).
                let raw = &bytes[..bytes.len().min(MAX_LOGGED_RAW_BYTES)];
                tracing::error!(target: "conflux::mediation", "Error while building the message.\n{}", String::from_utf8_lossy(raw));
            }
        })?;
        self.payload = Some(payload);
        if !self.is_response {
            self.adopt_addressing();
        }
        Ok(())
    }

    /// Whether this is a SOAP request whose WS-Addressing headers have not been read yet.
    pub fn may_carry_addressing(&self) -> bool {
        !self.is_response
            && self.payload.is_none()
            && !self.addressing.contains_key("To")
            && self
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| {
                    let t = t.to_ascii_lowercase();
                    t.starts_with("text/xml") || t.starts_with("application/soap+xml")
                })
    }

    /// Takes `To`, `Action`, `ReplyTo`, `FaultTo`, `From` and `RelatesTo` from the request's
    /// WS-Addressing header blocks, as the addressing module MI engages globally does when a
    /// message arrives (Axis2 AddressingInHandler); values a header mediator set win.
    fn adopt_addressing(&mut self) {
        let Some(Payload::Xml {
            text,
            soap: Some(_),
        }) = &self.payload
        else {
            return;
        };
        if !text.contains("addressing") {
            return;
        }
        for (name, value) in crate::runtime::payload::addressing_headers(text) {
            self.addressing.entry(name).or_insert(value);
        }
    }

    /// The payload, built or not: a mediator that replaces the body calls this after
    /// [`Self::build_payload`] or on a message whose old body it discards.
    pub fn payload_mut(&mut self) -> &mut Payload {
        self.payload.get_or_insert(Payload::Empty)
    }

    /// Replaces the message's content with a built payload (the old body is dropped).
    pub fn set_payload(&mut self, payload: Payload) {
        self.body = B::default();
        self.payload = Some(payload);
        self.headers.remove(http::header::CONTENT_LENGTH);
        self.headers.remove(http::header::TRANSFER_ENCODING);
    }

    /// The body to send on: the stream untouched, or the built payload written in the format
    /// `messageType` (else the message's content type) asks for, with `Content-Type` and
    /// framing headers set to match.
    pub fn take_outgoing_body(&mut self) -> Result<B, PayloadError> {
        let Some(payload) = self.payload.take() else {
            return Ok(self.take_body());
        };
        let message_type = self.axis2.get(props::MESSAGE_TYPE).cloned().or_else(|| {
            self.headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
        let mut kind = message_type.as_deref().map(ContentKind::of);
        // Axis2 MessageProcessorSelector: a REST message with messageType text/xml is written by
        // the application/xml formatter (no envelope), under its text/xml Content-Type.
        if kind == Some(ContentKind::Soap11)
            && self.doing_rest
            && self.axis2.contains_key(props::MESSAGE_TYPE)
        {
            kind = Some(ContentKind::Xml);
        }
        let form = message_type.as_deref().is_some_and(|t| {
            t.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
        let bytes = match &payload {
            Payload::Binary(raw) if form => match crate::runtime::payload::reencode_form(raw) {
                Some(text) => bytes::Bytes::from(text),
                None => payload.serialize(kind)?,
            },
            _ => payload.serialize(kind)?,
        };
        self.headers.remove(http::header::CONTENT_LENGTH);
        self.headers.remove(http::header::TRANSFER_ENCODING);
        if self.headers.get(http::header::CONTENT_TYPE).is_none()
            && let Some(ct) = message_type
                .as_deref()
                .or(payload.natural_content_type())
                .and_then(|v| HeaderValue::try_from(v).ok())
        {
            self.headers.insert(http::header::CONTENT_TYPE, ct);
        }
        self.name_charset(&payload);
        self.payload = Some(payload);
        Ok(B::from(bytes))
    }

    /// The formatter that writes a built message names its charset in the Content-Type
    /// (Axis2 ApplicationXMLFormatter, SOAPMessageFormatter, synapse JsonStreamFormatter:
    /// `CHARACTER_SET_ENCODING`, UTF-8 by default), unless `setCharacterEncoding` is `false`.
    fn name_charset(&mut self, payload: &Payload) {
        // MI's pass-through writes the formatter's Content-Type, with the charset, when the
        // message's CHARACTER_SET_ENCODING is known (set by a mediator, or named by the request)
        // or DISABLE_CHUNKING sends it through the formatter (MI tests ContentTypeCharsetTestCase,
        // ESBJAVA4468, ESBJAVA4940); otherwise the type a mediator set goes out as it is
        // (HTTPDeleteTestCases compares it whole).
        // MultipartFormDataFormatter always names it (MI test
        // MultipartFormDataWithCharacterEncodingPropertyTestCase).
        let multipart = self
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.to_ascii_lowercase().starts_with("multipart/form-data"));
        let known = self.axis2.contains_key("CHARACTER_SET_ENCODING")
            || self.request_charset.is_some()
            || multipart
            || self.is_true(Scope::Axis2, "DISABLE_CHUNKING");
        if !known
            || matches!(payload, Payload::Binary(_) | Payload::Empty)
            || self
                .get(Scope::Axis2, "setCharacterEncoding")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
        {
            return;
        }
        let Some(current) = self
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.to_ascii_lowercase().contains("charset="))
        else {
            return;
        };
        let charset = self
            .get(Scope::Axis2, "CHARACTER_SET_ENCODING")
            .or_else(|| self.request_charset.clone())
            .unwrap_or_else(|| "UTF-8".to_string());
        if let Ok(value) = HeaderValue::try_from(format!("{current}; charset={charset}")) {
            self.headers.insert(http::header::CONTENT_TYPE, value);
        }
    }

    /// Sets a property. A transport-scope value that is not a valid header is reported.
    pub fn set(&mut self, scope: Scope, name: &str, value: String) -> Result<(), String> {
        match scope {
            Scope::Default => {
                self.properties.insert(name.to_string(), value);
            }
            Scope::Axis2 => {
                self.axis2.insert(name.to_string(), value);
            }
            Scope::Operation => {
                self.operation.insert(name.to_string(), value);
            }
            Scope::Axis2Client => {
                self.axis2_client.insert(name.to_string(), value);
            }
            Scope::Transport => {
                let name =
                    HeaderName::try_from(name).map_err(|e| format!("header name {name:?}: {e}"))?;
                let value = HeaderValue::try_from(value)
                    .map_err(|e| format!("header {name} value: {e}"))?;
                if !self.headers_set.contains(&name) {
                    self.headers_set.push(name.clone());
                }
                self.headers.insert(name, value);
            }
        }
        Ok(())
    }

    pub fn remove(&mut self, scope: Scope, name: &str) {
        match scope {
            Scope::Default => {
                self.properties.remove(name);
            }
            Scope::Axis2 => {
                self.axis2.remove(name);
            }
            Scope::Operation => {
                self.operation.remove(name);
            }
            Scope::Axis2Client => {
                self.axis2_client.remove(name);
            }
            Scope::Transport => {
                self.headers.remove(name);
            }
        }
    }

    /// Replaces the current message's body.
    pub fn set_body(&mut self, body: B) {
        self.body = body;
    }

    /// Takes the body out, leaving an empty one.
    pub fn take_body(&mut self) -> B {
        std::mem::take(&mut self.body)
    }
}

/// A context for unit tests: a request with this method and URI to `api:A`, no headers, no body.
#[cfg(test)]
pub(crate) fn test_context(
    method: Method,
    uri: &'static str,
) -> MessageContext<http_body_util::Full<bytes::Bytes>> {
    MessageContext::new(
        method,
        Uri::from_static(uri),
        HeaderMap::new(),
        Default::default(),
        "api:A".into(),
    )
}

/// The `charset` parameter of a Content-Type header, if any.
fn charset_of(headers: &HeaderMap) -> Option<String> {
    let content_type = headers.get(http::header::CONTENT_TYPE)?.to_str().ok()?;
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

/// How much of a body that fails to build is written to the log with the error.
pub const MAX_LOGGED_RAW_BYTES: usize = 4096;

/// MI's `doingREST` for a request with these headers (see [`MessageContext::doing_rest`]).
fn is_doing_rest(headers: &HeaderMap) -> bool {
    let has_body = headers.contains_key(http::header::CONTENT_LENGTH)
        || headers.contains_key(http::header::TRANSFER_ENCODING);
    // Decided for every request: no allocation, case-insensitive by ContentKind's rules.
    let kind = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(ContentKind::of);
    match kind {
        _ if !has_body => true,
        None => true,
        Some(ContentKind::Soap12) => false,
        Some(ContentKind::Soap11) => !headers.contains_key("soapaction"),
        Some(_) => true,
    }
}

/// The default-scope property naming the transport a request came in on.
pub const TRANSPORT_IN_NAME: &str = "TRANSPORT_IN_NAME";

/// Counts messages in this process.
static MESSAGE_COUNTER: AtomicU64 = AtomicU64::new(0);

impl<B> MessageContext<B> {
    pub fn get(&self, scope: Scope, name: &str) -> Option<String> {
        match scope {
            Scope::Default => self.default_property(name),
            // Axis2's MessageContext.getProperty falls back to the client options, which is
            // where MI's `axis2-client` scope lives (PropertyMediator).
            Scope::Axis2 => self
                .axis2
                .get(name)
                .or_else(|| self.axis2_client.get(name))
                .cloned()
                .or_else(|| self.axis2_from_message(name)),
            Scope::Operation => self.operation.get(name).cloned(),
            Scope::Axis2Client => self.axis2_client.get(name).cloned(),
            Scope::Transport => self
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        }
    }

    /// The axis2 properties MI's ServerWorker sets from every request, answered from the message
    /// itself while no mediator has set them: `HTTP_METHOD`, `ContentType` (the header) and
    /// `messageType` (its media type).
    fn axis2_from_message(&self, name: &str) -> Option<String> {
        let content_type = || {
            self.headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
        };
        match name {
            props::HTTP_METHOD if !self.is_response => Some(self.method.as_str().to_string()),
            props::CONTENT_TYPE => content_type().map(str::to_string),
            props::MESSAGE_TYPE => content_type()
                .map(|t| t.split(';').next().unwrap_or("").trim().to_string())
                .filter(|t| !t.is_empty()),
            _ => None,
        }
    }

    /// Synapse's `getWSAAction()`: the action a header mediator or the request's `wsa:Action`
    /// set, else the SOAPAction Axis2 read on arrival (quotes stripped).
    pub fn wsa_action(&self) -> Option<String> {
        self.addressing.get("Action").cloned().or_else(|| {
            self.headers
                .get("soapaction")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().trim_matches('"').to_string())
                .filter(|v| !v.is_empty())
        })
    }

    /// Marks `name` as holding an element (`type="OM"`) or not.
    pub fn mark_om(&mut self, scope: Scope, name: &str, om: bool) {
        self.om_properties
            .retain(|(s, n)| !(*s == scope && n == name));
        if om {
            self.om_properties.push((scope, name.to_string()));
        }
    }

    /// A property as a string: an `OM` property reads as Synapse's string value of its element.
    pub fn get_string(&self, scope: Scope, name: &str) -> Option<String> {
        let value = self.get(scope, name)?;
        if self
            .om_properties
            .iter()
            .any(|(s, n)| *s == scope && n == name)
        {
            return Some(crate::runtime::payload::element_string_value(&value));
        }
        Some(value)
    }

    /// A default-scope property, with the ones MI sets on every message answered on demand.
    pub fn default_property(&self, name: &str) -> Option<String> {
        match self.properties.get(name) {
            Some(v) => Some(v.clone()),
            None if name == TRANSPORT_IN_NAME => Some(self.transport_in.to_string()),
            // GetPropertyFunction: a key that is no property is looked up as an entry.
            None => self.local_entries.get(name).cloned(),
        }
    }

    /// MI's `To` of the current message: an address set with `<header name="To">`, else the
    /// request path as received.
    pub fn to_address(&self) -> &str {
        match self.addressing.get("To") {
            Some(to) => to,
            None => self.to(),
        }
    }

    /// MI's `MESSAGE_FORMAT` (`get-property('MESSAGE_FORMAT')`): `soap11`, `soap12`, `pox` or
    /// `get` (SYN `mediators/GetPropertyFunction.java`).
    pub fn message_format(&self) -> &'static str {
        let content_type = self
            .axis2
            .get(props::MESSAGE_TYPE)
            .map(String::as_str)
            .or_else(|| {
                self.headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
            });
        // GetPropertyFunction asks isDoingPOX (= doingREST) first, so a REST GET is `pox` and
        // `get` is never the answer.
        if self.doing_rest {
            return "pox";
        }
        match content_type.map(ContentKind::of) {
            Some(ContentKind::Soap11) => "soap11",
            Some(ContentKind::Soap12) => "soap12",
            _ => "pox",
        }
    }

    pub fn is_true(&self, scope: Scope, name: &str) -> bool {
        self.get(scope, name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// MI's `To` of the current request: the request path as received.
    pub fn to(&self) -> &str {
        self.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    }

    /// MI's `urn:uuid:` message id: random per process, then the message's sequence number.
    pub fn message_id(&self) -> String {
        message_id_of(self.sequence)
    }
}

/// The message id of a message that has no context: the next sequence number, as
/// [`MessageContext::new`] takes it (the HTTP/1 engine's router logs a request it forwards
/// itself with one: conflux h1_router.rs).
pub fn next_message_id() -> String {
    message_id_of(MESSAGE_COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The `urn:uuid:` id of message number `n`: random per process, then the number.
///
/// The first 29 characters depend only on the process's seed and are built once; each id then
/// appends 16 hex digits with no formatting machinery (`format!` here was 2.3k instructions per
/// request on the engine's `<log>` route, issue 22).
fn message_id_of(n: u64) -> String {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ (u64::from(std::process::id()) << 32);
        format!(
            "urn:uuid:{:08x}-{:04x}-4{:03x}-8",
            (seed >> 32) as u32,
            (seed >> 16) as u16,
            (seed & 0xfff) as u16,
        )
    });
    let mut id = String::with_capacity(MESSAGE_ID_LEN);
    id.push_str(prefix);
    push_hex(&mut id, (n >> 48) & 0xfff, 3);
    id.push('-');
    push_hex(&mut id, n & 0xffff_ffff_ffff, 12);
    id
}

/// Length of a message id: `urn:uuid:` and the 36 characters of a UUID.
const MESSAGE_ID_LEN: usize = 45;

/// Appends the low `digits` hex digits of `value`, zero-padded, lower case.
fn push_hex(out: &mut String, value: u64, digits: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..digits).rev() {
        out.push(char::from(HEX[((value >> (shift * 4)) & 0xf) as usize]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> MessageContext<http_body_util::Full<bytes::Bytes>> {
        crate::runtime::context::test_context(Method::GET, "/a?b=1")
    }

    #[test]
    fn scopes_are_separate_and_transport_is_headers() {
        let mut c = ctx();
        c.set(Scope::Default, "x", "1".into()).unwrap();
        c.set(Scope::Axis2, "x", "2".into()).unwrap();
        c.set(Scope::Transport, "X-Test", "3".into()).unwrap();
        assert_eq!(c.get(Scope::Default, "x").as_deref(), Some("1"));
        assert_eq!(c.get(Scope::Axis2, "x").as_deref(), Some("2"));
        assert_eq!(c.get(Scope::Transport, "x-test").as_deref(), Some("3"));
        c.remove(Scope::Transport, "X-TEST");
        assert!(c.get(Scope::Transport, "x-test").is_none());
        assert!(c.set(Scope::Transport, "bad header", "v".into()).is_err());
    }

    #[test]
    fn mediation_gives_way_once_the_interval_has_passed() {
        let mut c = ctx();
        // The first mediator starts the clock.
        assert!(!c.should_give_way());
        std::thread::sleep(MEDIATION_YIELD_INTERVAL);
        assert!(c.should_give_way());
    }

    #[test]
    fn message_ids_are_unique_and_uuid_shaped() {
        let a = ctx().message_id();
        let b = ctx().message_id();
        assert_ne!(a, b);
        assert!(a.starts_with("urn:uuid:") && a.len() == 45, "{a}");
    }

    #[test]
    fn message_id_digits_are_the_number_in_the_uuid_layout() {
        let id = message_id_of(0x0123_4567_89ab_cdef);
        assert_eq!(id.len(), MESSAGE_ID_LEN);
        assert_eq!(&id[28..], "8123-456789abcdef", "{id}");
        let first = message_id_of(0);
        assert_eq!(&first[..28], &id[..28], "one prefix per process");
        assert_eq!(&first[28..], "8000-000000000000");
        let bytes = id.as_bytes();
        for (at, byte) in bytes.iter().enumerate().skip(9) {
            let dash = matches!(at, 17 | 22 | 27 | 32);
            assert_eq!(*byte == b'-', dash, "{id} at {at}");
            assert!(
                dash || byte.is_ascii_hexdigit() && !byte.is_ascii_uppercase(),
                "{id}"
            );
        }
        assert_eq!(bytes[23], b'4', "version 4 nibble: {id}");
    }
}
