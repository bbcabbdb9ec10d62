//! `<callout>`: a blocking request-response call made in the middle of a sequence; the reply is
//! written into the message, which stays a request and goes on to the next mediator. As SYN
//! `mediators/builtin/CalloutMediator.java` (with `message/senders/blocking/BlockingMsgSender.java`
//! and `BlockingMsgSenderUtils.java`) does it:
//!
//! - The request is a copy of the message (`MessageHelper.cloneMessageContext`): the source
//!   (`xpath`: the first element it selects; `key`: a property holding an element, else the local
//!   entry; `type="envelope"` or no source: the message itself) becomes the body of a SOAP envelope
//!   of the message's version (SOAP 1.1 for a message that is not SOAP), its other SOAP headers
//!   kept and its WS-Addressing headers removed (`MessageHelper.removeAddressingHeaders`). A JSON
//!   payload is sent as it is, whatever the source says. The request is a POST with `Content-Type`
//!   `text/xml` and `SOAPAction` (SOAP 1.1) or `application/soap+xml; action=` (SOAP 1.2), the
//!   action being `action=`, else the message's own; the message's transport headers go along
//!   (`TRANSPORT_HEADERS` are copied), so a transport-scope property set before the callout is an
//!   HTTP header of the request (MI test CallMediatorBlockingTransportHeaderTestCase).
//! - It goes to `serviceURL` (an address endpoint that is never suspended), the endpoint of
//!   `endpointKey` or the inline `<endpoint>`, or the message's `To`, through the engine's
//!   [`Sender`](crate::runtime::Sender): the same pooled backend client as `<call>`.
//! - `HTTP_SC` (axis2) becomes the reply's status. A 2xx reply, or a 400/500 carrying a SOAP
//!   envelope, is the result (Axis2 `HTTPSender.handleResponse`); any other status fails with
//!   `Transport error: 404 Error: Not Found`. With `OUT_ONLY` the reply is not read
//!   (`sendRobust`). A reply with no body leaves the message as it was (MI test
//!   CalloutMediatorHandlingEmptySuccessResponseTestCase); a JSON reply becomes the payload
//!   (`JsonUtil.cloneJsonPayload`); otherwise the reply's payload element replaces the first node
//!   the target `xpath` selects, or is stored in the target `key` property (as an element), or,
//!   without a target, the reply's envelope replaces the message's.
//!   `BLOCKING_SENDER_PRESERVE_REQ_HEADERS=false` makes the reply's headers the message's.
//! - A failed call runs the fault handler with `ERROR_CODE` 401002
//!   (`SynapseConstants.BLOCKING_SENDER_OPERATION_FAILED`); `FORCE_ERROR_ON_SOAP_FAULT` makes a
//!   SOAP fault reply a failure too; a timeout of an endpoint whose `responseAction` is `discard`
//!   ends the flow silently (AbstractEndpoint.onFault ignores the fault handlers).
//!
//! `initAxis2ClientOptions="false"` sends with the message's own client options: its
//! `axis2-client` scope goes along. WS-Security (`<enableSec>`) and `<configuration>` are refused
//! when the artifact is parsed.

use std::sync::Arc;

use conflux_artifacts::mediators as am;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use http::{HeaderValue, Method, StatusCode};

use crate::runtime::body::{MessageBody, read_limited};
use crate::runtime::context::{MessageContext, Scope, props};
use crate::runtime::endpoint::{Endpoint, EndpointKind, SendFault, TimeoutAction, error_codes};
use crate::runtime::engine::{Engine, Fault};
use crate::runtime::payload::{
    Payload, SoapVersion, body_element, parse_document, replace_body_content, soap_fault_reason,
    strip_prolog,
};
use crate::runtime::value::{CtxEnv, ValueSource};
use crate::xpath::{XValue, serialize};

/// SYN `SynapseConstants.BLOCKING_SENDER_OPERATION_FAILED`: the error code of a failed callout.
pub const BLOCKING_SENDER_OPERATION_FAILED: u32 = 401_002;

/// Default scope: `false` makes the reply's transport headers the message's.
pub const BLOCKING_SENDER_PRESERVE_REQ_HEADERS: &str = "BLOCKING_SENDER_PRESERVE_REQ_HEADERS";

/// The WS-Addressing namespaces whose header blocks are not sent on.
const ADDRESSING_NAMESPACES: [&str; 2] = [
    "http://www.w3.org/2005/08/addressing",
    "http://schemas.xmlsoap.org/ws/2004/08/addressing",
];

#[derive(Debug, Clone)]
pub struct Callout {
    pub endpoint: Arc<Endpoint>,
    pub action: Option<String>,
    pub init_client_options: bool,
    pub source: CalloutSource,
    pub target: CalloutTarget,
}

#[derive(Debug, Clone)]
pub enum CalloutSource {
    Envelope,
    XPath(ValueSource),
    /// A property holding an element; `local_entry` is the text of the local entry of that key,
    /// read when no such property is set (`synCtx.getEntry(requestKey)`).
    Key {
        name: String,
        local_entry: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub enum CalloutTarget {
    Envelope,
    XPath(ValueSource),
    Key(String),
}

impl Callout {
    /// The runtime mediator for a parsed `<callout>` whose endpoint is resolved; `Err` is the
    /// position and the reason of an expression that does not compile.
    pub fn compile(
        c: &am::Callout,
        endpoint: Arc<Endpoint>,
        local_entry: Option<String>,
    ) -> Result<Callout, (conflux_artifacts::Span, String)> {
        let xpath = |e: &conflux_artifacts::Expression| {
            ValueSource::compile(e).map_err(|m| (e.span.clone(), m))
        };
        Ok(Callout {
            endpoint,
            action: c.action.clone(),
            init_client_options: c.init_client_options,
            source: match &c.source {
                am::CalloutSource::Envelope => CalloutSource::Envelope,
                am::CalloutSource::XPath(e) => CalloutSource::XPath(xpath(e)?),
                am::CalloutSource::Key(k) => CalloutSource::Key {
                    name: k.clone(),
                    local_entry,
                },
            },
            target: match &c.target {
                am::CalloutTarget::Envelope => CalloutTarget::Envelope,
                am::CalloutTarget::XPath(e) => CalloutTarget::XPath(xpath(e)?),
                am::CalloutTarget::Key(k) => CalloutTarget::Key(k.clone()),
            },
        })
    }

    /// The endpoint of `serviceURL`: an address that is never suspended (CalloutMediator.init:
    /// suspend and timeout error codes `-1`), so it keeps no state in the transport. An empty URL
    /// deploys and fails each call, as in MI; a URL of another transport (`jms:`, `vfs:`...) is
    /// refused.
    pub fn service_url(url: &str) -> Result<Arc<Endpoint>, String> {
        if !url.is_empty() {
            let scheme = url.split(':').next().unwrap_or_default();
            if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
                return Err(format!(
                    "unsupported callout serviceURL {url:?}: only http and https services are called"
                ));
            }
            url.parse::<http::Uri>()
                .map_err(|e| format!("callout serviceURL {url:?} is not a valid URI: {e}"))?;
        }
        Ok(Arc::new(Endpoint {
            id: usize::MAX,
            name: Arc::from("AnonymousEndpoint"),
            kind: EndpointKind::Address {
                uri: url.to_string(),
                format: None,
                addressing: false,
            },
            timeout: None,
            dynamic_timeout: None,
            timeout_action: TimeoutAction::Never,
            suspension: Default::default(),
        }))
    }

    /// Makes the call for the message in `ctx` (its payload built) and writes the reply into it.
    /// `Ok(false)`: the flow ends here (a discarded timeout).
    pub(crate) async fn call<B: MessageBody>(
        &self,
        engine: &Engine<'_, B>,
        ctx: &mut MessageContext<B>,
    ) -> Result<bool, Fault> {
        let mut request = self.request(ctx).map_err(failure)?;
        let out_only = ctx.is_true(Scope::Default, props::OUT_ONLY);
        let response = match engine.send(&self.endpoint, &mut request).await {
            Ok(response) => response,
            Err(f)
                if f.code == error_codes::TIMEOUT
                    && self.endpoint.timeout_action == TimeoutAction::Discard =>
            {
                return Ok(false);
            }
            Err(f) => return Err(send_failure(f)),
        };
        let (parts, body) = response.into_parts();
        ctx.axis2
            .insert(props::HTTP_SC.into(), parts.status.as_u16().to_string());
        if out_only {
            return Ok(true);
        }
        let bytes = read_limited(body, engine.max_message_bytes)
            .await
            .map_err(|e| failure(format!("reading the callout reply: {e}")))?;
        let content_type = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let reply = Payload::parse(bytes, content_type);
        let is_envelope = matches!(reply, Ok(Payload::Xml { soap: Some(_), .. }));
        let status = parts.status;
        // Axis2 HTTPSender.handleResponse: 2xx is a reply, a 400/500 one when it is a SOAP
        // (fault) envelope; any other status is a transport error.
        let fault_envelope = is_envelope
            && matches!(
                status,
                StatusCode::BAD_REQUEST | StatusCode::INTERNAL_SERVER_ERROR
            );
        if !(status.is_success() || fault_envelope) {
            return Err(failure(format!(
                "Transport error: {} Error: {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Unknown")
            )));
        }
        let reply = reply.map_err(|e| failure(format!("the callout reply: {e}")))?;
        if ctx.is_true(Scope::Default, props::FORCE_ERROR_ON_SOAP_FAULT)
            && let Some(reason) = soap_fault_reason(&reply)
        {
            return Err(failure(reason));
        }
        if ctx
            .get(Scope::Default, BLOCKING_SENDER_PRESERVE_REQ_HEADERS)
            .is_some_and(|v| v == "false")
        {
            let mut headers = parts.headers;
            headers.remove(CONTENT_LENGTH);
            headers.remove(TRANSFER_ENCODING);
            ctx.headers = headers;
        }
        self.write_reply(ctx, reply).map_err(failure)?;
        Ok(true)
    }

    /// The request: a new message (the original is left as it is) with the source as its
    /// content, the message's transport headers and properties.
    fn request<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
    ) -> Result<MessageContext<B>, String> {
        let payload = ctx.payload.as_ref().unwrap_or(&Payload::Empty);
        let mut headers = ctx.headers.clone();
        for name in [CONTENT_LENGTH, TRANSFER_ENCODING, CONTENT_TYPE] {
            headers.remove(name);
        }
        let own_action = headers.remove("soapaction");
        let (content, soap) = match payload {
            // CalloutMediator: "if the payload is JSON, we do not consider the request (ie.
            // source) path. Instead, we use the complete payload."
            Payload::Json(_) => {
                let ct = ctx
                    .headers
                    .get(CONTENT_TYPE)
                    .cloned()
                    .unwrap_or(HeaderValue::from_static("application/json"));
                headers.insert(CONTENT_TYPE, ct);
                (payload.clone(), None)
            }
            _ => {
                let envelope = payload.envelope_xml();
                let envelope = match self.source_element(ctx)? {
                    None => envelope.into_owned(),
                    Some(element) => replace_body_content(&envelope, &element)?,
                };
                let envelope = without_addressing_headers(&envelope);
                let content = Payload::xml(envelope).map_err(|e| e.to_string())?;
                let version = match content {
                    Payload::Xml {
                        soap: Some(version),
                        ..
                    } => version,
                    _ => SoapVersion::Soap11,
                };
                (content, Some(version))
            }
        };
        let action = self
            .action
            .clone()
            .or_else(|| ctx.addressing.get("Action").cloned());
        match soap {
            Some(SoapVersion::Soap11) => {
                headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/xml; charset=UTF-8"),
                );
                let soap_action = match (&action, own_action) {
                    (Some(a), _) => header_value(&format!("\"{a}\""))?,
                    (None, Some(own)) => own,
                    (None, None) => HeaderValue::from_static("\"\""),
                };
                headers.insert("soapaction", soap_action);
            }
            Some(SoapVersion::Soap12) => {
                let ct = match &action {
                    Some(a) => format!("application/soap+xml; charset=UTF-8; action=\"{a}\""),
                    None => "application/soap+xml; charset=UTF-8".to_string(),
                };
                headers.insert(CONTENT_TYPE, header_value(&ct)?);
            }
            None => {}
        }
        let mut out = MessageContext::new(
            Method::POST,
            ctx.uri.clone(),
            headers,
            B::default(),
            ctx.artifact.clone(),
        );
        out.payload = Some(content);
        out.doing_rest = soap.is_none();
        out.transport_in = ctx.transport_in;
        out.properties = ctx.properties.clone();
        out.operation = ctx.operation.clone();
        out.om_properties = ctx.om_properties.clone();
        out.func_stack = ctx.func_stack.clone();
        out.addressing = ctx.addressing.clone();
        if let Some(action) = &self.action {
            // synapseOutMsgCtx.setWSAAction(action)
            out.addressing.insert("Action".into(), action.clone());
        }
        for name in [props::NO_KEEPALIVE, props::POST_TO_URI] {
            if let Some(v) = ctx.axis2.get(name) {
                out.axis2.insert(name.into(), v.clone());
            }
        }
        if !self.init_client_options {
            out.axis2_client = ctx.axis2_client.clone();
        }
        Ok(out)
    }

    /// The element the source names (CalloutMediator.getRequestPayload), or `None` for the
    /// whole envelope.
    fn source_element<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
    ) -> Result<Option<String>, String> {
        match &self.source {
            CalloutSource::Envelope => Ok(None),
            CalloutSource::Key { name, local_entry } => {
                let value = ctx
                    .get(Scope::Default, name)
                    .or_else(|| local_entry.clone())
                    .filter(|v| is_element(v));
                match value {
                    Some(v) => Ok(Some(strip_prolog(&v).to_string())),
                    None => Err(format!("The property : {name} is not an OMElement")),
                }
            }
            CalloutSource::XPath(ValueSource::XPath(x)) => {
                let envelope = ctx
                    .payload
                    .as_ref()
                    .unwrap_or(&Payload::Empty)
                    .envelope_xml();
                let doc = parse_document(&envelope)
                    .map_err(|e| format!("the message is not well-formed XML: {e}"))?;
                match x.evaluate(&doc, &CtxEnv(ctx)).map_err(|e| e.to_string())? {
                    XValue::Nodes(nodes) if nodes.first().is_some_and(|n| n.is_element()) => {
                        Ok(Some(serialize(nodes[0])))
                    }
                    _ => Err(format!(
                        "The evaluation of the XPath expression : {} did not result in an OMElement",
                        x.text()
                    )),
                }
            }
            // A property reference (`get-property('p')`, `$ctx:p`) holding an element.
            CalloutSource::XPath(other) => {
                if let ValueSource::Property(scope, name) = other
                    && let Some(raw) = ctx.get(*scope, name)
                    && is_element(&raw)
                {
                    return Ok(Some(strip_prolog(&raw).to_string()));
                }
                Err(format!(
                    "The evaluation of the XPath expression : {} did not result in an OMElement",
                    other.describe()
                ))
            }
        }
    }

    /// Puts the reply where the target says.
    fn write_reply<B: MessageBody>(
        &self,
        ctx: &mut MessageContext<B>,
        reply: Payload,
    ) -> Result<(), String> {
        match reply {
            // "Service returned a null response": the message stays as it was.
            Payload::Empty => return Ok(()),
            // JsonUtil.cloneJsonPayload, whatever the target.
            Payload::Json(_) => {
                ctx.set_payload(reply);
                return Ok(());
            }
            _ => {}
        }
        // The reply's payload element: `getEnvelope().getBody().getFirstElement()`.
        let reply_envelope = reply.envelope_xml().into_owned();
        let result = {
            let doc = parse_document(&reply_envelope).map_err(|e| e.to_string())?;
            body_element(&doc)
                .and_then(|b| b.first_element_child())
                .map(serialize)
        };
        match &self.target {
            CalloutTarget::Envelope => {
                ctx.set_payload(reply);
                Ok(())
            }
            CalloutTarget::Key(name) => {
                match result {
                    Some(element) => {
                        ctx.set(Scope::Default, name, element)?;
                        ctx.mark_om(Scope::Default, name, true);
                    }
                    None => {
                        ctx.remove(Scope::Default, name);
                        ctx.mark_om(Scope::Default, name, false);
                    }
                }
                Ok(())
            }
            CalloutTarget::XPath(target) => {
                let result = result.ok_or("the callout reply has no payload element")?;
                let ValueSource::XPath(x) = target else {
                    return Err(format!(
                        "Evaluation of target XPath expression : {} did not yeild an OMNode",
                        target.describe()
                    ));
                };
                let envelope = ctx
                    .payload
                    .as_ref()
                    .unwrap_or(&Payload::Empty)
                    .envelope_xml()
                    .into_owned();
                let edited = {
                    let doc = parse_document(&envelope)
                        .map_err(|e| format!("the message is not well-formed XML: {e}"))?;
                    let node = match x.evaluate(&doc, &CtxEnv(ctx)).map_err(|e| e.to_string())? {
                        XValue::Nodes(nodes) => nodes.into_iter().next().filter(|n| n.is_element()),
                        _ => None,
                    };
                    let Some(node) = node else {
                        return Err(format!(
                            "Evaluation of target XPath expression : {} did not yeild an OMNode",
                            x.text()
                        ));
                    };
                    let range = node.range();
                    format!(
                        "{}{result}{}",
                        &envelope[..range.start],
                        &envelope[range.end..]
                    )
                };
                store(ctx, edited)
            }
        }
    }
}

/// Puts an edited envelope back as the payload, in the form the message had: a message that was
/// not SOAP gets its body's single element back as the payload.
fn store<B: MessageBody>(ctx: &mut MessageContext<B>, envelope: String) -> Result<(), String> {
    let was_soap = matches!(ctx.payload, Some(Payload::Xml { soap: Some(_), .. }));
    let edited = Payload::xml(envelope).map_err(|e| e.to_string())?;
    if was_soap {
        ctx.set_payload(edited);
        return Ok(());
    }
    let single = {
        let Payload::Xml { text, .. } = &edited else {
            return Err("the callout produced a message that is not XML".into());
        };
        let doc = parse_document(text).map_err(|e| e.to_string())?;
        let body = body_element(&doc).ok_or("the message has no SOAP body")?;
        let elements: Vec<_> = body.children().filter(|n| n.is_element()).collect();
        match elements.as_slice() {
            [] => Some(Payload::Empty),
            [one] => Some(Payload::xml(serialize(*one)).map_err(|e| e.to_string())?),
            _ => None,
        }
    };
    ctx.set_payload(single.unwrap_or(edited));
    Ok(())
}

/// Whether a property's text is one XML element (an `OM` property).
fn is_element(value: &str) -> bool {
    value.trim_start().starts_with('<') && parse_document(value.trim()).is_ok()
}

/// The envelope without its WS-Addressing header blocks (MessageHelper.removeAddressingHeaders,
/// unless PRESERVE_WS_ADDRESSING, which Conflux does not read).
fn without_addressing_headers(envelope: &str) -> String {
    let Ok(doc) = parse_document(envelope) else {
        return envelope.to_string();
    };
    let root = doc.root_element();
    let Some(ns) = crate::runtime::payload::soap_version(root).map(SoapVersion::namespace) else {
        return envelope.to_string();
    };
    let Some(header) = root.children().find(|n| {
        n.is_element() && n.tag_name().name() == "Header" && n.tag_name().namespace() == Some(ns)
    }) else {
        return envelope.to_string();
    };
    let ranges: Vec<_> = header
        .children()
        .filter(|n| {
            n.is_element()
                && n.tag_name()
                    .namespace()
                    .is_some_and(|ns| ADDRESSING_NAMESPACES.contains(&ns))
        })
        .map(|n| n.range())
        .collect();
    if ranges.is_empty() {
        return envelope.to_string();
    }
    let mut out = String::with_capacity(envelope.len());
    let mut at = 0;
    for range in ranges {
        out.push_str(&envelope[at..range.start]);
        at = range.end;
    }
    out.push_str(&envelope[at..]);
    out
}

fn header_value(value: &str) -> Result<HeaderValue, String> {
    HeaderValue::try_from(value).map_err(|e| format!("callout header value {value:?}: {e}"))
}

/// A callout failure (BlockingMsgSender.setErrorDetails: BLOCKING_SENDER_OPERATION_FAILED).
fn failure(message: String) -> Fault {
    Fault {
        code: BLOCKING_SENDER_OPERATION_FAILED,
        message,
        status: None,
    }
}

/// A send that failed: a transport failure is the blocking sender's 401002; an endpoint that was
/// not tried (suspended, no group member ready) keeps its own code.
fn send_failure(f: SendFault) -> Fault {
    let code = if (101_000..102_000).contains(&f.code) || f.code == 0 {
        BLOCKING_SENDER_OPERATION_FAILED
    } else {
        f.code
    };
    Fault {
        code,
        message: f.message,
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use bytes::Bytes;
    use http::{HeaderMap, Request, Response, Uri};
    use http_body_util::{BodyExt, Full};

    use super::*;
    use crate::runtime::endpoint::{SendFuture, Sender};

    type B = Full<Bytes>;

    /// What the backend saw.
    #[derive(Debug, Clone, Default)]
    struct Seen {
        method: String,
        uri: String,
        headers: HeaderMap,
        body: String,
    }

    /// Records the request and answers with a fixed reply (or a connection failure).
    struct Backend {
        reply: Result<(u16, &'static str, &'static str), u32>,
        seen: Mutex<Vec<Seen>>,
    }

    impl Sender<B> for Backend {
        fn send<'a>(&'a self, _endpoint: &'a Endpoint, request: Request<B>) -> SendFuture<'a, B> {
            Box::pin(async move {
                let (parts, body) = request.into_parts();
                let body = body.collect().await.unwrap().to_bytes();
                self.seen.lock().unwrap().push(Seen {
                    method: parts.method.to_string(),
                    uri: parts.uri.to_string(),
                    headers: parts.headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                match self.reply {
                    Ok((status, content_type, body)) => {
                        let mut r = Response::new(B::from(Bytes::from_static(body.as_bytes())));
                        *r.status_mut() = StatusCode::from_u16(status).unwrap();
                        if !content_type.is_empty() {
                            r.headers_mut()
                                .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
                        }
                        Ok(r)
                    }
                    Err(code) => Err(SendFault {
                        code,
                        message: "Connection refused".into(),
                    }),
                }
            })
        }
    }

    fn backend(reply: Result<(u16, &'static str, &'static str), u32>) -> Backend {
        Backend {
            reply,
            seen: Mutex::new(Vec::new()),
        }
    }

    const S11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
    const S12: &str = "http://www.w3.org/2003/05/soap-envelope";
    const FIRST_BODY_CHILD: &str =
        "s11:Body/child::*[fn:position()=1] | s12:Body/child::*[fn:position()=1]";

    fn xpath(text: &str) -> ValueSource {
        ValueSource::compile_text(
            text,
            &[("s11".into(), S11.into()), ("s12".into(), S12.into())],
        )
        .unwrap()
    }

    fn callout(source: CalloutSource, target: CalloutTarget) -> Callout {
        Callout {
            endpoint: Callout::service_url("http://backend:8991/services/S").unwrap(),
            action: Some("urn:getQuote".into()),
            init_client_options: true,
            source,
            target,
        }
    }

    /// A request to `proxy:P` with this content, built as the engine builds it.
    async fn message(
        content_type: &str,
        soap_action: Option<&str>,
        body: &str,
    ) -> MessageContext<B> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
        if let Some(a) = soap_action {
            headers.insert("soapaction", HeaderValue::from_str(a).unwrap());
        }
        let mut ctx = MessageContext::new(
            Method::POST,
            Uri::from_static("/services/P"),
            headers,
            B::from(Bytes::from(body.to_string())),
            "proxy:P".into(),
        );
        ctx.build_payload(1 << 20).await.unwrap();
        ctx
    }

    async fn run(
        c: &Callout,
        sender: &Backend,
        ctx: &mut MessageContext<B>,
    ) -> Result<bool, Fault> {
        let engine = Engine {
            sequences: &HashMap::new(),
            templates: &HashMap::new(),
            sender,
            keep_request_headers: true,
            max_message_bytes: 1 << 20,
            max_inflight_branches: crate::runtime::limits::DEFAULT_MAX_INFLIGHT_BRANCHES,
            attached: &Default::default(),
        };
        c.call(&engine, ctx).await
    }

    fn body_xml(ctx: &MessageContext<B>) -> String {
        ctx.payload.as_ref().unwrap().body_xml()
    }

    const QUOTE_REQUEST: &str = concat!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">",
        "<soapenv:Header><wsa:To xmlns:wsa=\"http://www.w3.org/2005/08/addressing\">http://x</wsa:To>",
        "<h:Trace xmlns:h=\"urn:h\">1</h:Trace></soapenv:Header>",
        "<soapenv:Body><m:getQuote xmlns:m=\"http://services.samples\"><m:symbol>IBM</m:symbol></m:getQuote>",
        "</soapenv:Body></soapenv:Envelope>"
    );

    const QUOTE_REPLY: &str = concat!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>",
        "<m:getQuoteResponse xmlns:m=\"http://services.samples\"><m:last>12</m:last></m:getQuoteResponse>",
        "</soapenv:Body></soapenv:Envelope>"
    );

    // MI CallMediatorBlockingTransportHeaderTestCase: the SimpleStockQuote proxy's callout.
    #[tokio::test]
    async fn xpath_source_and_target_with_a_transport_header() {
        let c = callout(
            CalloutSource::XPath(xpath(FIRST_BODY_CHILD)),
            CalloutTarget::XPath(xpath(FIRST_BODY_CHILD)),
        );
        let mut ctx = message("text/xml", Some("\"urn:getQuote\""), QUOTE_REQUEST).await;
        ctx.set(
            Scope::Transport,
            "Authorization",
            "Basic cHVubmFkaTpwYXNzd29yZA==".into(),
        )
        .unwrap();
        let b = backend(Ok((200, "text/xml; charset=UTF-8", QUOTE_REPLY)));
        assert!(run(&c, &b, &mut ctx).await.unwrap());
        let seen = b.seen.lock().unwrap()[0].clone();
        assert_eq!(seen.method, "POST");
        assert_eq!(seen.uri, "http://backend:8991/services/S");
        assert_eq!(
            seen.headers["authorization"],
            "Basic cHVubmFkaTpwYXNzd29yZA=="
        );
        assert_eq!(seen.headers[CONTENT_TYPE], "text/xml; charset=UTF-8");
        assert_eq!(seen.headers["soapaction"], "\"urn:getQuote\"");
        assert!(
            seen.body.contains("<m:symbol>IBM</m:symbol>"),
            "{}",
            seen.body
        );
        // Other SOAP headers go along, WS-Addressing ones do not.
        assert!(seen.body.contains("h:Trace"), "{}", seen.body);
        assert!(!seen.body.contains("wsa:To"), "{}", seen.body);
        // The reply replaced the first body child; the message is still the request.
        assert!(!ctx.is_response);
        assert!(
            body_xml(&ctx).contains("<m:last>12</m:last>"),
            "{}",
            body_xml(&ctx)
        );
        assert!(!body_xml(&ctx).contains("getQuote>"));
        assert!(matches!(
            ctx.payload,
            Some(Payload::Xml {
                soap: Some(SoapVersion::Soap11),
                ..
            })
        ));
        assert_eq!(
            ctx.get(Scope::Axis2, props::HTTP_SC).as_deref(),
            Some("200")
        );
        assert_eq!(
            ctx.get(Scope::Transport, "authorization").as_deref(),
            Some("Basic cHVubmFkaTpwYXNzd29yZA==")
        );
    }

    #[tokio::test]
    async fn a_soap12_message_goes_as_soap12_with_the_action_in_the_content_type() {
        let c = callout(CalloutSource::Envelope, CalloutTarget::Envelope);
        let request = QUOTE_REQUEST.replace(S11, S12);
        let mut ctx = message("application/soap+xml", None, &request).await;
        let b = backend(Ok((200, "application/soap+xml", "")));
        assert!(run(&c, &b, &mut ctx).await.unwrap());
        let seen = b.seen.lock().unwrap()[0].clone();
        assert_eq!(
            seen.headers[CONTENT_TYPE],
            "application/soap+xml; charset=UTF-8; action=\"urn:getQuote\""
        );
        assert!(!seen.headers.contains_key("soapaction"));
        assert!(
            seen.body.contains(S12) && seen.body.contains("getQuote"),
            "{}",
            seen.body
        );
        // An empty reply leaves the message as it was.
        assert!(body_xml(&ctx).contains("<m:symbol>IBM</m:symbol>"));
    }

    #[tokio::test]
    async fn a_plain_xml_message_is_sent_as_soap11_and_the_reply_envelope_replaces_it() {
        let mut c = callout(CalloutSource::Envelope, CalloutTarget::Envelope);
        c.action = None;
        let mut ctx = message("application/xml", None, "<a><b>1</b></a>").await;
        let b = backend(Ok((200, "text/xml", QUOTE_REPLY)));
        assert!(run(&c, &b, &mut ctx).await.unwrap());
        let seen = b.seen.lock().unwrap()[0].clone();
        assert_eq!(seen.headers[CONTENT_TYPE], "text/xml; charset=UTF-8");
        assert_eq!(seen.headers["soapaction"], "\"\"");
        assert!(seen.body.starts_with("<soapenv:Envelope"), "{}", seen.body);
        assert!(seen.body.contains("<a><b>1</b></a>"), "{}", seen.body);
        assert!(body_xml(&ctx).contains("getQuoteResponse"));
    }

    #[tokio::test]
    async fn key_source_and_target() {
        let c = callout(
            CalloutSource::Key {
                name: "req".into(),
                local_entry: Some("<fromEntry/>".into()),
            },
            CalloutTarget::Key("res".into()),
        );
        let mut ctx = message("text/xml", Some("\"x\""), QUOTE_REQUEST).await;
        let b = backend(Ok((200, "text/xml", QUOTE_REPLY)));
        run(&c, &b, &mut ctx).await.unwrap();
        ctx.set(Scope::Default, "req", "<fromProperty/>".into())
            .unwrap();
        run(&c, &b, &mut ctx).await.unwrap();
        let seen = b.seen.lock().unwrap().clone();
        assert!(seen[0].body.contains("<fromEntry/>"), "{}", seen[0].body);
        assert!(seen[1].body.contains("<fromProperty/>"), "{}", seen[1].body);
        let res = ctx.get(Scope::Default, "res").unwrap();
        assert!(res.starts_with("<m:getQuoteResponse"), "{res}");
        assert!(
            ctx.om_properties
                .contains(&(Scope::Default, "res".to_string()))
        );
        // The message itself is untouched.
        assert!(body_xml(&ctx).contains("<m:symbol>IBM</m:symbol>"));
        ctx.set(Scope::Default, "req", "text".into()).unwrap();
        let err = run(&c, &b, &mut ctx).await.unwrap_err();
        assert_eq!(err.message, "The property : req is not an OMElement");
    }

    #[tokio::test]
    async fn failures_are_401002_with_the_status() {
        let c = callout(CalloutSource::Envelope, CalloutTarget::Envelope);
        let mut ctx = message("text/xml", Some("\"x\""), QUOTE_REQUEST).await;
        let err = run(&c, &backend(Ok((404, "text/html", "<html/>"))), &mut ctx)
            .await
            .unwrap_err();
        assert_eq!(err.code, BLOCKING_SENDER_OPERATION_FAILED);
        assert_eq!(err.message, "Transport error: 404 Error: Not Found");
        assert_eq!(
            ctx.get(Scope::Axis2, props::HTTP_SC).as_deref(),
            Some("404")
        );
        let err = run(&c, &backend(Err(error_codes::CONNECTION_FAILED)), &mut ctx)
            .await
            .unwrap_err();
        assert_eq!(err.code, BLOCKING_SENDER_OPERATION_FAILED);
        // A SOAP fault with 500 is a reply (unless FORCE_ERROR_ON_SOAP_FAULT).
        let fault = concat!(
            "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault>",
            "<faultcode>s:Server</faultcode><faultstring>down</faultstring></s:Fault></s:Body></s:Envelope>"
        );
        assert!(
            run(&c, &backend(Ok((500, "text/xml", fault))), &mut ctx)
                .await
                .unwrap()
        );
        assert!(body_xml(&ctx).contains("faultstring"));
        ctx.set(
            Scope::Default,
            props::FORCE_ERROR_ON_SOAP_FAULT,
            "true".into(),
        )
        .unwrap();
        let err = run(&c, &backend(Ok((500, "text/xml", fault))), &mut ctx)
            .await
            .unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (BLOCKING_SENDER_OPERATION_FAILED, "down")
        );
    }

    // MI CalloutMediatorHandlingEmptySuccessResponseTestCase: JSON goes as JSON; an empty reply
    // leaves it.
    #[tokio::test]
    async fn json_is_sent_as_it_is_and_out_only_ignores_the_reply() {
        let c = callout(
            CalloutSource::XPath(xpath(FIRST_BODY_CHILD)),
            CalloutTarget::Envelope,
        );
        let mut ctx = message("application/json", None, r#"{"hello":"world"}"#).await;
        let b = backend(Ok((200, "", "")));
        assert!(run(&c, &b, &mut ctx).await.unwrap());
        let seen = b.seen.lock().unwrap()[0].clone();
        assert_eq!(seen.headers[CONTENT_TYPE], "application/json");
        assert_eq!(seen.body, r#"{"hello":"world"}"#);
        assert!(!seen.headers.contains_key("soapaction"));
        assert!(matches!(ctx.payload, Some(Payload::Json(_))));
        ctx.set(Scope::Default, props::OUT_ONLY, "true".into())
            .unwrap();
        let b = backend(Ok((202, "text/xml", QUOTE_REPLY)));
        assert!(run(&c, &b, &mut ctx).await.unwrap());
        assert!(matches!(ctx.payload, Some(Payload::Json(_))));
        assert_eq!(
            ctx.get(Scope::Axis2, props::HTTP_SC).as_deref(),
            Some("202")
        );
    }

    // MI test TestFaultSequenceCalled: an empty serviceURL fails the call, not the deployment.
    #[tokio::test]
    async fn an_empty_service_url_fails_each_call() {
        let mut c = callout(CalloutSource::Envelope, CalloutTarget::Envelope);
        c.endpoint = Callout::service_url("").unwrap();
        let mut ctx = message("text/xml", Some("\"x\""), QUOTE_REQUEST).await;
        let b = backend(Ok((200, "text/xml", QUOTE_REPLY)));
        let err = run(&c, &b, &mut ctx).await.unwrap_err();
        assert_eq!(err.code, BLOCKING_SENDER_OPERATION_FAILED);
        assert!(b.seen.lock().unwrap().is_empty());
        assert!(Callout::service_url("jms:/Queue?transport.jms.x=1").is_err());
    }

    #[test]
    fn addressing_headers_are_removed() {
        let out = without_addressing_headers(QUOTE_REQUEST);
        assert!(!out.contains("wsa:To") && out.contains("<h:Trace"), "{out}");
        assert_eq!(without_addressing_headers(QUOTE_REPLY), QUOTE_REPLY);
    }
}
