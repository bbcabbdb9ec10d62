//! The Axis2 sample backend MI's integration tests call on `localhost:9000`–`9003`, as a pure function
//! (request in, response out; the runner owns sockets and sleeping). It answers for the services
//! `Axis2ServerExtension` deploys (`integration/automation-extensions/.../axis2server/`,
//! names in `ServiceNameConstants.java`):
//! - `SimpleStockQuoteService` (and `SecureStockQuoteService`, answered alike: WS-Security is not
//!   enforced) after `integration/samples/axis2Server/src/SimpleStockQuoteService/`: the service
//!   class, the `GetQuoteResponse`/`GetFullQuoteResponse`/`TradingDay`/`GetMarketActivityResponse`
//!   beans and `conf/services.xml` (RPC receivers, so replies are Axis2's POJO serialisation);
//! - `LBService1` after `.../LoadbalanceFailoverService/.../LBService1.java` (raw XML receivers: the
//!   request element comes back with new text); the deployed `tests-mediator-1/.../AXIS2/aar/
//!   LBService1.aar` names its server `Server_1`;
//! - `Axis2Service` after `tests-mediator-1/.../AXIS2/aar/Axis2Service.aar` (echoString, echoInt,
//!   getTime, Ping; RPC receivers; namespace from its package `org.wso2.carbon.service`).
//!
//! Dispatch follows the Dispatch phase of `AXIS2/config/test_axis2_server_9000.xml`: service by
//! request URI, then operation by SOAPAction, WS-Addressing action, URI segment, first body element.
//! Prices are deterministic (seeded by the symbol) but follow `GetQuoteResponse.getRandom`.
//! `GET /services/<Service>?wsdl` answers the WSDL 1.1 document Axis2's ListingAgent generates,
//! with addresses on the request's Host ([`wsdl_answer`]); a body-less POST that would reach the
//! SOAP builder is its parse fault (500).

use roxmltree::{Document, Node};
use std::fmt::Write as _;

pub struct SampleRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub content_type: Option<&'a str>,
    pub soap_action: Option<&'a str>,
    /// The Host header (`host:port` the request came to): Axis2 writes it into `?wsdl` addresses.
    pub host: Option<&'a str>,
    pub body: &'a [u8],
}

pub struct SampleResponse {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
const WSA_NS: &str = "http://www.w3.org/2005/08/addressing";
const WSA_FAULT_ACTION: &str = "http://www.w3.org/2005/08/addressing/soap/fault";
const SAMPLES_NS: &str = "http://services.samples";
const SAMPLES_XSD_NS: &str = "http://services.samples/xsd";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
const AXIS2_SERVICE_NS: &str = "http://service.carbon.wso2.org";
/// `new Date().toString()` on the sample server, frozen so answers are reproducible.
const QUOTE_TIMESTAMP: &str = "Mon Aug 17 14:03:55 UTC 2026";
/// `System.currentTimeMillis()` at that instant, for Axis2Service.getTime.
const FIXED_TIME_MILLIS: i64 = 1_786_975_435_000;
/// `GetFullQuoteResponse.COUNT`.
const FULL_QUOTE_DAYS: u64 = 365;

/// The framing, chosen by Content-Type as Axis2's message builders and formatters are.
#[derive(Clone, Copy, PartialEq)]
enum Wire {
    Soap11,
    Soap12,
    Pox,
}

#[derive(Clone, Copy, PartialEq)]
enum Service {
    StockQuote,
    LoadBalance,
    Axis2Pojo,
}

/// The operations of each service; `true` marks in-only ones (void methods: 202 and no body).
fn operations(service: Service) -> &'static [(&'static str, bool)] {
    match service {
        Service::StockQuote => &[
            ("getQuote", false),
            ("getSimpleQuote", false),
            ("getFullQuote", false),
            ("getMarketActivity", false),
            ("placeOrder", true),
        ],
        Service::LoadBalance => &[
            ("setClientName", false),
            ("sampleOperation", false),
            ("sleepOperation", false),
            ("loadOperation", false),
        ],
        Service::Axis2Pojo => &[
            ("echoString", false),
            ("getTime", false),
            ("echoInt", false),
            ("Ping", true),
        ],
    }
}

fn service_named(name: &str) -> Option<Service> {
    match name {
        "SimpleStockQuoteService" | "SecureStockQuoteService" => Some(Service::StockQuote),
        "LBService1" => Some(Service::LoadBalance),
        "Axis2Service" => Some(Service::Axis2Pojo),
        _ => None,
    }
}

/// An Axis2 fault: soapenv:Server/Receiver when `server`, else the Client/Sender code.
struct Fault {
    server: bool,
    reason: String,
    /// Inner XML of the detail element (Axis2 writes an empty one when it has nothing to say).
    detail: String,
}

fn server_fault(reason: impl Into<String>) -> Fault {
    Fault {
        server: true,
        reason: reason.into(),
        detail: String::new(),
    }
}

/// RPCMessageReceiver's reason when the service threw without a message (a NullPointerException).
fn invocation_fault(operation: &str) -> Fault {
    server_fault(format!(
        "Exception occurred while trying to invoke service method {operation}"
    ))
}

/// The parsed request: its framing, payload element and WS-Addressing To/Action.
struct Exchange<'a, 'input> {
    wire: Wire,
    payload: Option<Node<'a, 'input>>,
    wsa_to: Option<String>,
    wsa_action: Option<String>,
}

pub fn answer(request: &SampleRequest<'_>) -> SampleResponse {
    if let Some(wsdl) = wsdl_answer(request) {
        return wsdl;
    }
    // A POST/PUT without a body and without a REST content type reaches Axis2's SOAP builder,
    // which fails on the empty stream before dispatch (MI test ESBJAVA4402MessageWithoutPayload).
    if matches!(request.method, "POST" | "PUT")
        && request.body.iter().all(u8::is_ascii_whitespace)
        && (request.content_type.is_none()
            || matches!(wire_of(request.content_type), Wire::Soap11 | Wire::Soap12))
    {
        let wire = match request.content_type {
            None => Wire::Soap11,
            ct => wire_of(ct),
        };
        return render_fault(
            wire,
            &server_fault(
                "com.ctc.wstx.exc.WstxEOFException: Unexpected EOF in prolog\n at [row,col {unknown-source}]: [1,0]",
            ),
        );
    }
    // A request without a body is Axis2's REST GET, answered as POX whatever its Content-Type.
    let wire = match request.body.is_empty() {
        true => Wire::Pox,
        false => wire_of(request.content_type),
    };
    let Ok(text) = std::str::from_utf8(request.body) else {
        return render_fault(wire, &server_fault("Invalid UTF-8 sequence in the request"));
    };
    let document;
    let exchange = if text.trim().is_empty() {
        Exchange {
            wire,
            payload: None,
            wsa_to: None,
            wsa_action: None,
        }
    } else {
        document = match Document::parse(text) {
            Ok(document) => document,
            // Axis2's StAX builder fails before dispatch; the fault carries the parser's message.
            Err(e) => {
                return render_fault(
                    wire,
                    &server_fault(format!("Error parsing the request: {e}")),
                );
            }
        };
        match read_exchange(&document, wire) {
            Ok(exchange) => exchange,
            Err(fault) => return render_fault(wire, &fault),
        }
    };
    match dispatch(request, &exchange) {
        Ok(None) => SampleResponse {
            status: 202,
            content_type: String::new(),
            body: String::new(),
        },
        Ok(Some((payload, action))) => render(exchange.wire, &payload, &action, 200),
        Err(fault) => render_fault(exchange.wire, &fault),
    }
}

/// The WSDL 1.1 document of SimpleStockQuoteService as Axis2 1.6 generates it for `?wsdl` (MI's
/// `tests-patches-with-smb2/.../ESBJAVA4931/sample_proxy_3.wsdl`, a saved answer of the sample
/// server), up to its `<wsdl:service>`, which [`wsdl_answer`] writes for the request's host.
const STOCK_QUOTE_WSDL_HEAD: &str = include_str!("axis2_wsdl/SimpleStockQuoteService.wsdl");

/// `GET /services/<Service>?wsdl`: Axis2's ListingAgent answers the service's WSDL 1.1, its
/// addresses on the host and port the request came to (http only: the runner serves no https).
/// The ports are `<Service>HttpSoap11Endpoint`, `...HttpSoap12Endpoint` and `...HttpEndpoint`,
/// each at `/services/<Service>.<port>`.
fn wsdl_answer(request: &SampleRequest<'_>) -> Option<SampleResponse> {
    if request.method != "GET" {
        return None;
    }
    let (_, query) = request.path.split_once('?')?;
    if !query.eq_ignore_ascii_case("wsdl") {
        return None;
    }
    let name = uri_segments(request.path).0?;
    let service = service_named(name)?;
    let host = request.host.unwrap_or("localhost");
    let head = match service {
        Service::StockQuote => STOCK_QUOTE_WSDL_HEAD
            .trim_start()
            .replace("SimpleStockQuoteService", name),
        Service::LoadBalance | Service::Axis2Pojo => generic_wsdl_head(service, name),
    };
    let mut body = head.trim_end().to_string();
    let _ = write!(body, "\n    <wsdl:service name=\"{name}\">");
    for (port, binding, address) in [
        ("HttpSoap11Endpoint", "Soap11Binding", "soap:address"),
        ("HttpSoap12Endpoint", "Soap12Binding", "soap12:address"),
        ("HttpEndpoint", "HttpBinding", "http:address"),
    ] {
        let _ = write!(
            body,
            "\n        <wsdl:port name=\"{name}{port}\" binding=\"ns:{name}{binding}\">\n            <{address} location=\"http://{host}/services/{name}.{name}{port}\"/>\n        </wsdl:port>"
        );
    }
    body.push_str("\n    </wsdl:service>\n</wsdl:definitions>");
    Some(SampleResponse {
        status: 200,
        content_type: "text/xml".into(),
        body,
    })
}

/// The WSDL head (types, messages, port type, bindings) of a service without a saved document:
/// the shape of Axis2's generator, each operation taking and returning any element.
fn generic_wsdl_head(service: Service, name: &str) -> String {
    let tns = match service {
        Service::Axis2Pojo => AXIS2_SERVICE_NS,
        _ => SAMPLES_NS,
    };
    let mut out = format!(
        "<wsdl:definitions xmlns:wsdl=\"http://schemas.xmlsoap.org/wsdl/\" xmlns:ns=\"{tns}\" \
         xmlns:wsaw=\"http://www.w3.org/2006/05/addressing/wsdl\" xmlns:http=\"http://schemas.xmlsoap.org/wsdl/http/\" \
         xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:mime=\"http://schemas.xmlsoap.org/wsdl/mime/\" \
         xmlns:soap=\"http://schemas.xmlsoap.org/wsdl/soap/\" xmlns:soap12=\"http://schemas.xmlsoap.org/wsdl/soap12/\" \
         targetNamespace=\"{tns}\">\n    <wsdl:documentation>{name}</wsdl:documentation>\n    <wsdl:types>\n        \
         <xs:schema attributeFormDefault=\"qualified\" elementFormDefault=\"qualified\" targetNamespace=\"{tns}\">"
    );
    let ops = operations(service);
    for (op, in_only) in ops {
        let _ = write!(
            out,
            "\n            <xs:element name=\"{op}\"><xs:complexType><xs:sequence><xs:any minOccurs=\"0\" processContents=\"skip\"/></xs:sequence></xs:complexType></xs:element>"
        );
        if !in_only {
            let _ = write!(
                out,
                "\n            <xs:element name=\"{op}Response\"><xs:complexType><xs:sequence><xs:any minOccurs=\"0\" processContents=\"skip\"/></xs:sequence></xs:complexType></xs:element>"
            );
        }
    }
    out.push_str("\n        </xs:schema>\n    </wsdl:types>");
    for (op, in_only) in ops {
        let _ = write!(
            out,
            "\n    <wsdl:message name=\"{op}Request\"><wsdl:part name=\"parameters\" element=\"ns:{op}\"/></wsdl:message>"
        );
        if !in_only {
            let _ = write!(
                out,
                "\n    <wsdl:message name=\"{op}Response\"><wsdl:part name=\"parameters\" element=\"ns:{op}Response\"/></wsdl:message>"
            );
        }
    }
    let _ = write!(out, "\n    <wsdl:portType name=\"{name}PortType\">");
    for (op, in_only) in ops {
        let _ = write!(
            out,
            "\n        <wsdl:operation name=\"{op}\"><wsdl:input message=\"ns:{op}Request\" wsaw:Action=\"urn:{op}\"/>"
        );
        if !in_only {
            let _ = write!(
                out,
                "<wsdl:output message=\"ns:{op}Response\" wsaw:Action=\"urn:{op}Response\"/>"
            );
        }
        out.push_str("</wsdl:operation>");
    }
    out.push_str("\n    </wsdl:portType>");
    for (binding, ext) in [
        (
            "Soap11Binding",
            "<soap:binding transport=\"http://schemas.xmlsoap.org/soap/http\" style=\"document\"/>",
        ),
        (
            "Soap12Binding",
            "<soap12:binding transport=\"http://schemas.xmlsoap.org/soap/http\" style=\"document\"/>",
        ),
        ("HttpBinding", "<http:binding verb=\"POST\"/>"),
    ] {
        let _ = write!(
            out,
            "\n    <wsdl:binding name=\"{name}{binding}\" type=\"ns:{name}PortType\">{ext}"
        );
        for (op, _) in ops {
            let operation = match binding {
                "Soap11Binding" => {
                    format!("<soap:operation soapAction=\"urn:{op}\" style=\"document\"/>")
                }
                "Soap12Binding" => {
                    format!("<soap12:operation soapAction=\"urn:{op}\" style=\"document\"/>")
                }
                _ => format!("<http:operation location=\"{op}\"/>"),
            };
            let _ = write!(
                out,
                "\n        <wsdl:operation name=\"{op}\">{operation}</wsdl:operation>"
            );
        }
        out.push_str("\n    </wsdl:binding>");
    }
    out
}

/// How long LBService1.sleepOperation would sleep for this request (its `<load>` text, in ms), so
/// the runner can delay the answer; `None` for every other request.
pub fn requested_delay_ms(request: &SampleRequest<'_>) -> Option<u64> {
    let document = Document::parse(std::str::from_utf8(request.body).ok()?).ok()?;
    let exchange = read_exchange(&document, wire_of(request.content_type)).ok()?;
    let (service, _) = uri_segments(request.path);
    let service = service_named(service?).filter(|s| *s == Service::LoadBalance)?;
    if dispatch_operation(service, request, &exchange)? != "sleepOperation" {
        return None;
    }
    element_text(unqualified_child(exchange.payload?, "load")?)
        .trim()
        .parse()
        .ok()
}

fn wire_of(content_type: Option<&str>) -> Wire {
    let media = content_type.unwrap_or("").split(';').next().unwrap_or("");
    match media.trim().to_ascii_lowercase().as_str() {
        "text/xml" => Wire::Soap11,
        "application/soap+xml" => Wire::Soap12,
        _ => Wire::Pox,
    }
}

fn read_exchange<'a, 'i>(
    document: &'a Document<'i>,
    wire: Wire,
) -> Result<Exchange<'a, 'i>, Fault> {
    let root = document.root_element();
    let envelope_ns = match root.tag_name().namespace() {
        Some(ns)
            if root.tag_name().name() == "Envelope" && (ns == SOAP11_NS || ns == SOAP12_NS) =>
        {
            ns
        }
        _ if wire == Wire::Pox => {
            return Ok(Exchange {
                wire,
                payload: Some(root),
                wsa_to: None,
                wsa_action: None,
            });
        }
        // Axiom's StAXSOAPModelBuilder, given a SOAP content type without an envelope.
        _ => {
            let found = root.tag_name().name();
            let message =
                format!("First Element must contain the local name, Envelope , but found {found}");
            return Err(server_fault(message));
        }
    };
    // A SOAP answer follows the envelope's version; a POX request wrapping an envelope stays POX.
    let wire = match wire {
        Wire::Pox => Wire::Pox,
        _ if envelope_ns == SOAP12_NS => Wire::Soap12,
        _ => Wire::Soap11,
    };
    let child = |parent: Node<'a, 'i>, ns: &str, name: &str| {
        parent
            .children()
            .find(|n| n.is_element() && n.has_tag_name((ns, name)))
    };
    let payload =
        child(root, envelope_ns, "Body").and_then(|b| b.children().find(|n| n.is_element()));
    let header = |name: &str| {
        let element = child(child(root, envelope_ns, "Header")?, WSA_NS, name)?;
        Some(element_text(element).trim().to_string())
    };
    Ok(Exchange {
        wire,
        payload,
        wsa_to: header("To"),
        wsa_action: header("Action"),
    })
}

/// Axis2's `Utils.parseRequestURLForServiceAndOperation`: `/services/<Service>[.<Endpoint>][/<op>]`.
fn uri_segments(path: &str) -> (Option<&str>, Option<&str>) {
    let path = path.split('?').next().unwrap_or(path);
    let Some(start) = path.find("/services/") else {
        return (None, None);
    };
    let mut segments = path[start + "/services/".len()..].split('/');
    let service = segments
        .next()
        .and_then(|s| s.split('.').next())
        .filter(|s| !s.is_empty());
    (service, segments.next().filter(|s| !s.is_empty()))
}

/// SOAPAction, or the `action` parameter of a SOAP 1.2 Content-Type; unquoted, `None` when empty.
fn soap_action<'a>(request: &SampleRequest<'a>) -> Option<&'a str> {
    let from_content_type = request.content_type.and_then(|ct| {
        ct.split(';')
            .skip(1)
            .find_map(|p| p.trim().strip_prefix("action="))
    });
    let action = request
        .soap_action
        .or(from_content_type)?
        .trim()
        .trim_matches('"');
    Some(action).filter(|a| !a.is_empty())
}

/// The operation, as the Dispatch phase finds it: SOAPAction and wsa:Action (matched as
/// SOAPActionBasedDispatcher does: whole, or after the last '/' or ':'), URI segment, body element.
fn dispatch_operation(
    service: Service,
    request: &SampleRequest<'_>,
    exchange: &Exchange<'_, '_>,
) -> Option<&'static str> {
    let known = |name: &str| {
        operations(service)
            .iter()
            .map(|(op, _)| *op)
            .find(|op| *op == name)
    };
    let by_action = |action: &str| {
        known(action)
            .or_else(|| action.rsplit('/').next().and_then(known))
            .or_else(|| action.rsplit(':').next().and_then(known))
    };
    soap_action(request)
        .and_then(by_action)
        .or_else(|| exchange.wsa_action.as_deref().and_then(by_action))
        .or_else(|| uri_segments(request.path).1.and_then(known))
        .or_else(|| exchange.payload.and_then(|p| known(p.tag_name().name())))
}

/// Runs the operation: `Ok(None)` for in-only ones, else the reply payload and its action.
fn dispatch(
    request: &SampleRequest<'_>,
    exchange: &Exchange<'_, '_>,
) -> Result<Option<(String, String)>, Fault> {
    // Axis2 names the EPR by wsa:To when present, else by the request URI the listener saw.
    let epr = exchange.wsa_to.as_deref().unwrap_or(request.path);
    let client_fault = |reason: String| Fault {
        server: false,
        reason,
        detail: String::new(),
    };
    let Some(service) = uri_segments(request.path).0.and_then(service_named) else {
        return Err(client_fault(format!(
            "The service cannot be found for the endpoint reference (EPR) {epr}"
        )));
    };
    let Some(operation) = dispatch_operation(service, request, exchange) else {
        let action = exchange
            .wsa_action
            .as_deref()
            .or(soap_action(request))
            .unwrap_or("null");
        return Err(client_fault(format!(
            "The endpoint reference (EPR) for the Operation not found is {epr} and the WSA Action = {action}. \
             If this EPR was previously reachable, please contact the server administrator."
        )));
    };
    if operations(service).contains(&(operation, true)) {
        return Ok(None);
    }
    let args = arguments(request, exchange);
    let first = args.first();
    let payload = match (service, operation) {
        (Service::StockQuote, "getQuote") => {
            let symbol = first.and_then(|a| a.fields("symbol").into_iter().next());
            if symbol.as_deref() == Some("ERR") {
                return Err(declared_exception_fault(
                    "SimpleStockQuoteService",
                    "Invalid stock symbol : ERR",
                ));
            }
            quote_reply(operation, symbol.as_deref())
        }
        (Service::StockQuote, "getSimpleQuote") => {
            quote_reply(operation, first.map(|a| a.text()).as_deref())
        }
        (Service::StockQuote, "getFullQuote") => {
            let symbol = first.and_then(|a| a.fields("symbol").into_iter().next());
            let mut history = String::new();
            for day in 0..FULL_QUOTE_DAYS {
                history.push_str("<ax21:tradeHistory xsi:type=\"ax21:TradingDay\">");
                let _ = write!(
                    history,
                    "<ax21:day>{day}</ax21:day><ax21:quote xsi:type=\"ax21:GetQuoteResponse\">"
                );
                write_quote(symbol.as_deref(), day, &mut history);
                history.push_str("</ax21:quote></ax21:tradeHistory>");
            }
            bean_reply(operation, "GetFullQuoteResponse", &history)
        }
        (Service::StockQuote, _) => {
            let symbols = first.map(|a| a.fields("symbols")).unwrap_or_default();
            if symbols.is_empty() {
                // `request.getSymbols()` is null and the service dereferences it.
                return Err(invocation_fault(operation));
            }
            let mut quotes = String::new();
            for symbol in &symbols {
                quotes.push_str("<ax21:quotes xsi:type=\"ax21:GetQuoteResponse\">");
                write_quote(Some(symbol), 0, &mut quotes);
                quotes.push_str("</ax21:quotes>");
            }
            bean_reply(operation, "GetMarketActivityResponse", &quotes)
        }
        (Service::LoadBalance, _) => lb_service(operation, exchange.payload)?,
        (Service::Axis2Pojo, "echoString") => {
            pojo_reply(operation, first.map(|a| escape(&a.text())))
        }
        (Service::Axis2Pojo, "echoInt") => {
            let text = first.map(|a| a.text()).unwrap_or_default();
            let value = text
                .parse::<i32>()
                .map_err(|_| server_fault(format!("For input string: \"{text}\"")))?;
            pojo_reply(operation, Some(value.to_string()))
        }
        (Service::Axis2Pojo, _) => pojo_reply(operation, Some(FIXED_TIME_MILLIS.to_string())),
    };
    Ok(Some((payload, format!("urn:{operation}Response"))))
}

/// One RPC argument: a child element of the operation element, or (REST GET) a query parameter.
enum Argument<'a, 'i> {
    Element(Node<'a, 'i>),
    Query(String),
}

impl Argument<'_, '_> {
    fn text(&self) -> String {
        match self {
            Argument::Element(node) => element_text(*node),
            Argument::Query(value) => value.clone(),
        }
    }

    /// A bean property's values: BeanUtil matches child elements by local name, not namespace. A
    /// query parameter is a bare value, so as a bean it has no properties.
    fn fields(&self, name: &str) -> Vec<String> {
        let Argument::Element(node) = self else {
            return Vec::new();
        };
        let matching = node
            .children()
            .filter(|n| n.is_element() && n.tag_name().name() == name);
        matching.map(element_text).collect()
    }
}

/// RPCMessageReceiver binds arguments by position, so repeated `<request>`s beyond the first are unused.
fn arguments<'a, 'i>(
    request: &SampleRequest<'_>,
    exchange: &Exchange<'a, 'i>,
) -> Vec<Argument<'a, 'i>> {
    if let Some(payload) = exchange.payload {
        return payload
            .children()
            .filter(|n| n.is_element())
            .map(Argument::Element)
            .collect();
    }
    let query = request.path.split_once('?').map_or("", |(_, q)| q);
    let values = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').map_or("", |(_, v)| v));
    values
        .map(|v| Argument::Query(v.replace('+', " ")))
        .collect()
}

/// Axiom's `getText()`: the element's own text children, concatenated and untrimmed.
fn element_text(node: Node<'_, '_>) -> String {
    node.children()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

fn unqualified_child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|n| n.is_element() && n.has_tag_name(name) && n.tag_name().namespace().is_none())
}

/// RPCMessageReceiver for a method declaring `throws Exception`: the detail element is named after the
/// service and the exception's simple class name, and holds the message in a `Message` element.
fn declared_exception_fault(service: &str, message: &str) -> Fault {
    let name = format!("{service}Exception");
    let text = escape(message);
    let detail = format!(
        "<ns:{name} xmlns:ns=\"{SAMPLES_NS}\"><ns:{name}><axis2ns1:Message xmlns:axis2ns1=\"{SAMPLES_NS}\">\
         {text}</axis2ns1:Message></ns:{name}></ns:{name}>"
    );
    Fault {
        server: true,
        reason: message.to_string(),
        detail,
    }
}

// ---- POJO replies (Axis2's RPC serialisation: bean properties in alphabetical order) ----

/// `<ns:<op>Response><ns:return xsi:type="ax21:<type>">` around the bean's properties.
fn bean_reply(operation: &str, bean_type: &str, properties: &str) -> String {
    format!(
        "<ns:{operation}Response xmlns:ns=\"{SAMPLES_NS}\"><ns:return xmlns:ax21=\"{SAMPLES_XSD_NS}\" \
         xmlns:xsi=\"{XSI_NS}\" xsi:type=\"ax21:{bean_type}\">{properties}</ns:return></ns:{operation}Response>"
    )
}

fn quote_reply(operation: &str, symbol: Option<&str>) -> String {
    let mut properties = String::new();
    write_quote(symbol, 0, &mut properties);
    bean_reply(operation, "GetQuoteResponse", &properties)
}

/// `new GetQuoteResponse(symbol)`'s properties. `Math.random()` is replaced by a generator seeded
/// from the symbol and `salt` (the trading day), so a symbol always gets the same prices.
fn write_quote(symbol: Option<&str>, salt: u64, out: &mut String) {
    let seed =
        fnv1a(symbol.unwrap_or("null").as_bytes()) ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut random = SplitMix64(seed);
    // GetQuoteResponse.getRandom: one draw gives both the offset and (unless only positive) the sign.
    let mut draw = |base: f64, variance: f64, only_positive: bool| {
        let rand = random.next_f64();
        let sign = if rand > 0.5 { 1.0 } else { -1.0 };
        (base + sign * variance * base * rand) * if only_positive { 1.0 } else { sign }
    };
    // In the constructor's order, as each value depends on `last`.
    let last = draw(100.0, 0.9, true);
    let change = draw(3.0, 0.5, false);
    let (open, high, low) = (
        draw(last, 0.05, false),
        draw(last, 0.05, false),
        draw(last, 0.05, false),
    );
    let volume = draw(10000.0, 1.0, true) as i32;
    let market_cap = draw(10e6, 5.0, false);
    let prev_close = draw(last, 0.15, false);
    let (earnings, pe_ratio) = (draw(10.0, 0.4, false), draw(20.0, 0.30, false));
    let mut property = |name: &str, value: &str| {
        let _ = write!(out, "<ax21:{name}>{value}</ax21:{name}>");
    };
    property("change", &java_double(change));
    property("earnings", &java_double(earnings));
    property("high", &java_double(high));
    property("last", &java_double(last));
    property("lastTradeTimestamp", QUOTE_TIMESTAMP);
    property("low", &java_double(low));
    property("marketCap", &java_double(market_cap));
    // `symbol + " Company"`: Java prints a null symbol as "null".
    property(
        "name",
        &format!("{} Company", escape(symbol.unwrap_or("null"))),
    );
    property("open", &java_double(open));
    property("peRatio", &java_double(pe_ratio));
    property(
        "percentageChange",
        &java_double(change / prev_close * 100.0),
    );
    property("prevClose", &java_double(prev_close));
    match symbol {
        Some(symbol) => property("symbol", &escape(symbol)),
        None => out.push_str("<ax21:symbol xsi:nil=\"true\"/>"),
    }
    let _ = write!(out, "<ax21:volume>{volume}</ax21:volume>");
}

/// Axis2Service's simple-typed return value (already escaped), or `xsi:nil` for a null one.
fn pojo_reply(operation: &str, value: Option<String>) -> String {
    let value = match value {
        Some(value) => format!("<ns:return>{value}</ns:return>"),
        None => format!("<ns:return xmlns:xsi=\"{XSI_NS}\" xsi:nil=\"true\"/>"),
    };
    format!(
        "<ns:{operation}Response xmlns:ns=\"{AXIS2_SERVICE_NS}\">{value}</ns:{operation}Response>"
    )
}

// ---- LBService1: the request element comes back with new text ----

fn lb_service(operation: &str, payload: Option<Node<'_, '_>>) -> Result<String, Fault> {
    let payload = payload.ok_or_else(|| invocation_fault(operation))?;
    let served = "Response from server: Server_1";
    match operation {
        "setClientName" => Ok(serialize_with_text(
            payload,
            payload,
            "Sessions are not supported in this service.",
        )),
        "sampleOperation" => Ok(serialize_with_text(payload, payload, served)),
        // sleep/load replace only the text of the unqualified `<load>` child (`new QName("load")`); a
        // missing child is a NullPointerException, a non-number a NumberFormatException.
        _ => {
            let load =
                unqualified_child(payload, "load").ok_or_else(|| invocation_fault(operation))?;
            let text = element_text(load);
            text.parse::<i64>()
                .map_err(|_| server_fault(format!("For input string: \"{text}\"")))?;
            Ok(serialize_with_text(payload, load, served))
        }
    }
}

/// Serialises `root` as a detached Axiom element, with `target`'s content replaced by `text`. The root
/// declares every namespace in scope but the SOAP envelope's (so prefixes declared on the Envelope
/// still resolve); descendants declare what they declared in the request.
fn serialize_with_text(root: Node<'_, '_>, target: Node<'_, '_>, text: &str) -> String {
    let mut out = String::new();
    write_element(root, target, text, true, &mut out);
    out
}

fn write_element(
    node: Node<'_, '_>,
    target: Node<'_, '_>,
    text: &str,
    is_root: bool,
    out: &mut String,
) {
    let name = qualified_name(node, node.tag_name().namespace(), node.tag_name().name());
    let _ = write!(out, "<{name}");
    let inherited = |prefix: Option<&str>| {
        let parent = node.parent_element()?;
        parent
            .namespaces()
            .find(|ns| ns.name() == prefix)
            .map(|ns| ns.uri())
    };
    for ns in node.namespaces() {
        let wanted = match is_root {
            true => ns.uri() != SOAP11_NS && ns.uri() != SOAP12_NS,
            false => inherited(ns.name()) != Some(ns.uri()),
        };
        match ns.name() {
            _ if !wanted => {}
            Some("xml") => {}
            Some(prefix) => {
                let _ = write!(out, " xmlns:{prefix}=\"{}\"", escape(ns.uri()));
            }
            None => {
                let _ = write!(out, " xmlns=\"{}\"", escape(ns.uri()));
            }
        }
    }
    for attribute in node.attributes() {
        let name = qualified_name(node, attribute.namespace(), attribute.name());
        let _ = write!(out, " {name}=\"{}\"", escape(attribute.value()));
    }
    out.push('>');
    if node == target {
        out.push_str(&escape(text));
    } else {
        for child in node.children() {
            if child.is_element() {
                write_element(child, target, text, false, out);
            } else if let Some(t) = child.text() {
                out.push_str(&escape(t));
            }
        }
    }
    let _ = write!(out, "</{name}>");
}

fn qualified_name(node: Node<'_, '_>, namespace: Option<&str>, local: &str) -> String {
    match namespace
        .and_then(|uri| node.lookup_prefix(uri))
        .filter(|p| !p.is_empty())
    {
        Some(prefix) => format!("{prefix}:{local}"),
        None => local.to_string(),
    }
}

// ---- framing ----

fn render(wire: Wire, payload: &str, action: &str, status: u16) -> SampleResponse {
    let (envelope_ns, content_type) = match wire {
        // ApplicationXMLFormatter writes the payload element alone, without an XML declaration.
        Wire::Pox => {
            let content_type = "application/xml; charset=UTF-8".to_string();
            return SampleResponse {
                status,
                content_type,
                body: payload.to_string(),
            };
        }
        Wire::Soap11 => (SOAP11_NS, "text/xml; charset=UTF-8".to_string()),
        // Axis2's SOAP 1.2 formatter adds the reply's action to the Content-Type.
        Wire::Soap12 => (
            SOAP12_NS,
            format!("application/soap+xml; charset=UTF-8; action=\"{action}\""),
        ),
    };
    let body = format!(
        "<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv=\"{envelope_ns}\">\
         <soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>"
    );
    SampleResponse {
        status,
        content_type,
        body,
    }
}

/// Faults go out with HTTP 500, as the sample server's nhttp listener sends them.
fn render_fault(wire: Wire, fault: &Fault) -> SampleResponse {
    let reason = escape(&fault.reason);
    let detail = &fault.detail;
    let payload = match wire {
        // ApplicationXMLFormatter sends the detail's first element, else the reason element.
        Wire::Pox if !detail.is_empty() => detail.clone(),
        Wire::Pox => format!("<faultstring>{reason}</faultstring>"),
        Wire::Soap11 => {
            let code = match fault.server {
                true => "<faultcode>soapenv:Server</faultcode>".to_string(),
                // DispatchPhase's Client code has no prefix of its own, so Axiom generates one.
                false => {
                    format!("<faultcode xmlns:axis2ns1=\"{SOAP11_NS}\">axis2ns1:Client</faultcode>")
                }
            };
            let detail = if detail.is_empty() {
                "<detail/>".to_string()
            } else {
                format!("<detail>{detail}</detail>")
            };
            format!(
                "<soapenv:Fault>{code}<faultstring>{reason}</faultstring>{detail}</soapenv:Fault>"
            )
        }
        Wire::Soap12 => {
            let code = if fault.server {
                "soapenv:Receiver"
            } else {
                "soapenv:Sender"
            };
            let detail = match detail.is_empty() {
                true => "<soapenv:Detail/>".to_string(),
                false => format!("<soapenv:Detail>{detail}</soapenv:Detail>"),
            };
            format!(
                "<soapenv:Fault><soapenv:Code><soapenv:Value>{code}</soapenv:Value></soapenv:Code><soapenv:Reason>\
                 <soapenv:Text xml:lang=\"en-US\">{reason}</soapenv:Text></soapenv:Reason>{detail}</soapenv:Fault>"
            )
        }
    };
    render(wire, &payload, WSA_FAULT_ACTION, 500)
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

// ---- numbers ----

/// `Double.toString`: plain for 1e-3 <= |d| < 1e7 (with at least one fractional digit), otherwise
/// `d.dddE<exp>`; the digits are the shortest that round-trip, as JDK 19+ prints them.
fn java_double(value: f64) -> String {
    if !value.is_finite() {
        let name = if value.is_nan() {
            "NaN"
        } else if value > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        };
        return name.to_string();
    }
    if value == 0.0 || (1e-3..1e7).contains(&value.abs()) {
        let plain = format!("{value}");
        return if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        };
    }
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let point = if mantissa.contains('.') { "" } else { ".0" };
    format!("{mantissa}{point}E{exponent}")
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let step = |hash: u64, byte: &u8| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, step)
}

/// A small deterministic stand-in for `Math.random()`: uniform in [0, 1).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUOTES: &str = "/services/SimpleStockQuoteService";
    const SOAP11: Option<&str> = Some("text/xml; charset=UTF-8");
    const SOAP12: Option<&str> = Some("application/soap+xml; charset=UTF-8");
    const POX: Option<&str> = Some("application/xml");

    fn call(
        path: &str,
        content_type: Option<&str>,
        action: Option<&str>,
        body: &str,
    ) -> SampleResponse {
        let method = if body.is_empty() { "GET" } else { "POST" };
        let (soap_action, body) = (action, body.as_bytes());
        answer(&SampleRequest {
            method,
            path,
            content_type,
            soap_action,
            host: None,
            body,
        })
    }

    /// The status, each fragment in the body, and a well-formed body.
    fn expect(response: &SampleResponse, status: u16, fragments: &[&str]) {
        let body = &response.body;
        assert_eq!(response.status, status, "{body}");
        for fragment in fragments {
            assert!(body.contains(fragment), "missing {fragment} in {body}");
        }
        assert!(
            body.is_empty() || Document::parse(body).is_ok(),
            "not well-formed: {body}"
        );
    }

    fn soap11(payload: &str) -> String {
        format!("<e:Envelope xmlns:e=\"{SOAP11_NS}\"><e:Body>{payload}</e:Body></e:Envelope>")
    }

    fn soap12(payload: &str) -> String {
        format!("<e:Envelope xmlns:e=\"{SOAP12_NS}\"><e:Body>{payload}</e:Body></e:Envelope>")
    }

    /// StockQuoteClient's payloads: one `<m0:request>` per symbol, or one holding every `<m0:symbols>`.
    fn payload(operation: &str, symbols: &[&str]) -> String {
        let field = |name: &str, s: &str| format!("<m0:{name}>{s}</m0:{name}>");
        let requests: String = match operation {
            "getMarketActivity" => {
                let all: String = symbols.iter().map(|s| field("symbols", s)).collect();
                field("request", &all)
            }
            _ => symbols
                .iter()
                .map(|s| field("request", &field("symbol", s)))
                .collect(),
        };
        format!("<m0:{operation} xmlns:m0=\"{SAMPLES_NS}\">{requests}</m0:{operation}>")
    }

    #[test]
    fn get_quote_in_soap11_soap12_and_pox() {
        let request = payload("getQuote", &["IBM"]);
        let soap = call(QUOTES, SOAP11, Some("\"urn:getQuote\""), &soap11(&request));
        let start = format!(
            "<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv=\"{SOAP11_NS}\"><soapenv:Body>\
             <ns:getQuoteResponse xmlns:ns=\"http://services.samples\"><ns:return xmlns:ax21=\"http://services.samples/xsd\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"ax21:GetQuoteResponse\"><ax21:change>"
        );
        let timestamp = format!("<ax21:lastTradeTimestamp>{QUOTE_TIMESTAMP}</");
        expect(
            &soap,
            200,
            &[&start, "<ax21:name>IBM Company</ax21:name>", &timestamp],
        );
        assert!(soap.body.starts_with(&start));
        assert_eq!(soap.content_type, "text/xml; charset=UTF-8");
        let order = [
            "change",
            "earnings",
            "high",
            "last",
            "lastTradeTimestamp",
            "low",
            "marketCap",
        ];
        let order = order.iter().chain(&[
            "name",
            "open",
            "peRatio",
            "percentageChange",
            "prevClose",
            "symbol",
            "volume",
        ]);
        let positions: Vec<_> = order
            .map(|p| soap.body.find(&format!("<ax21:{p}>")).expect(p))
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{}", soap.body);
        assert_eq!(
            call(QUOTES, SOAP11, None, &soap11(&request)).body,
            soap.body,
            "deterministic"
        );

        let soap = call(
            QUOTES,
            Some("application/soap+xml; action=\"urn:getQuote\""),
            None,
            &soap12(&request),
        );
        expect(
            &soap,
            200,
            &[
                &format!("<soapenv:Envelope xmlns:soapenv=\"{SOAP12_NS}\">"),
                "IBM Company",
            ],
        );
        assert!(
            soap.content_type
                .starts_with("application/soap+xml; charset=UTF-8")
        );

        let pox = call(QUOTES, POX, None, &request);
        expect(&pox, 200, &["<ax21:symbol>IBM</ax21:symbol>"]);
        assert!(
            pox.body.starts_with(
                "<ns:getQuoteResponse xmlns:ns=\"http://services.samples\"><ns:return "
            )
        );
        assert_eq!(pox.content_type, "application/xml; charset=UTF-8");
    }

    #[test]
    fn get_simple_quote_by_rest_get() {
        let response = call(
            "/services/SimpleStockQuoteService/getSimpleQuote?symbol=IBM",
            None,
            None,
            "",
        );
        let start = "<ns:getSimpleQuoteResponse xmlns:ns=\"http://services.samples\"><ns:return";
        expect(
            &response,
            200,
            &[start, "<ax21:name>IBM Company</ax21:name>"],
        );
        assert!(response.body.starts_with(start));
        assert_eq!(response.content_type, "application/xml; charset=UTF-8");
    }

    #[test]
    fn place_order_is_accepted_without_body() {
        let order = format!(
            "<m0:placeOrder xmlns:m0=\"{SAMPLES_NS}\"><m0:order><m0:price>172.2</m0:price>\
             <m0:quantity>100</m0:quantity><m0:symbol>IBM</m0:symbol></m0:order></m0:placeOrder>"
        );
        for response in [
            call(QUOTES, SOAP11, Some("urn:placeOrder"), &soap11(&order)),
            call(QUOTES, SOAP12, None, &soap12(&order)),
            call(QUOTES, POX, None, &order),
        ] {
            expect(&response, 202, &[]);
            assert_eq!(
                (response.content_type.as_str(), response.body.as_str()),
                ("", "")
            );
        }
    }

    #[test]
    fn err_symbol_faults_in_both_soap_versions() {
        let request = payload("getQuote", &["ERR"]);
        let fault = call(QUOTES, SOAP11, Some("urn:getQuote"), &soap11(&request));
        expect(
            &fault,
            500,
            &[
                "<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>Invalid stock symbol : ERR</faultstring>",
                "<detail><ns:SimpleStockQuoteServiceException xmlns:ns=\"http://services.samples\">",
            ],
        );
        let fault = call(QUOTES, SOAP12, None, &soap12(&request));
        expect(
            &fault,
            500,
            &[
                "<soapenv:Code><soapenv:Value>soapenv:Receiver</soapenv:Value></soapenv:Code>",
                "<soapenv:Text xml:lang=\"en-US\">Invalid stock symbol : ERR</soapenv:Text>",
            ],
        );
    }

    #[test]
    fn full_quote_and_market_activity() {
        let full = call(
            QUOTES,
            SOAP11,
            Some("urn:getFullQuote"),
            &soap11(&payload("getFullQuote", &["IBM"])),
        );
        expect(
            &full,
            200,
            &[
                "xsi:type=\"ax21:GetFullQuoteResponse\"><ax21:tradeHistory xsi:type=\"ax21:TradingDay\">\
             <ax21:day>0</ax21:day><ax21:quote xsi:type=\"ax21:GetQuoteResponse\"><ax21:change>",
                "<ax21:day>364</ax21:day>",
            ],
        );
        assert_eq!(full.body.matches("<ax21:tradeHistory ").count(), 365);

        let request = soap11(&payload("getMarketActivity", &["IBM", "MSFT", "WSO2"]));
        let activity = call(QUOTES, SOAP11, Some("urn:getMarketActivity"), &request);
        expect(
            &activity,
            200,
            &["<ns:getMarketActivityResponse xmlns:ns=\"http://services.samples\">"],
        );
        assert_eq!(
            activity
                .body
                .matches("<ax21:quotes xsi:type=\"ax21:GetQuoteResponse\">")
                .count(),
            3
        );
        let at = |name: &str| activity.body.find(&format!("{name} Company")).unwrap();
        assert!(at("IBM") < at("MSFT") && at("MSFT") < at("WSO2"));
    }

    #[test]
    fn repeated_requests_bind_only_the_first() {
        let request = soap11(&payload("getQuote", &["IBM", "MSFT", "WSO2"]));
        let response = call(QUOTES, SOAP11, Some("urn:getQuote"), &request);
        expect(&response, 200, &["IBM Company"]);
        assert_eq!(response.body.matches("<ns:return ").count(), 1);
        assert!(!response.body.contains("MSFT"));
    }

    #[test]
    fn dispatch_by_body_uri_and_endpoint_suffix() {
        // urn:mediate names no operation, so the body element decides.
        let path = "/services/SimpleStockQuoteService.SimpleStockQuoteServiceHttpSoap11Endpoint";
        let request = soap11(&payload("getQuote", &["IBM"]));
        expect(
            &call(path, SOAP11, Some("urn:mediate"), &request),
            200,
            &["<ns:getQuoteResponse"],
        );
        // The URI segment comes before the body element.
        let other = format!("<m0:x xmlns:m0=\"{SAMPLES_NS}\"><m0:symbol>WSO2</m0:symbol></m0:x>");
        let response = call(&format!("{QUOTES}/getSimpleQuote"), POX, None, &other);
        expect(
            &response,
            200,
            &["<ns:getSimpleQuoteResponse", "WSO2 Company"],
        );
    }

    #[test]
    fn unknown_service_and_operation_fault() {
        let request = soap11(&payload("getQuote", &["IBM"]));
        let response = call(
            "/services/NoSuchService",
            SOAP11,
            Some("urn:getQuote"),
            &request,
        );
        let reason =
            "The service cannot be found for the endpoint reference (EPR) /services/NoSuchService<";
        expect(&response, 500, &[reason, "axis2ns1:Client</faultcode>"]);
        let custom = format!(
            "<m0:CheckPriceRequest xmlns:m0=\"{SAMPLES_NS}\"><m0:Code>IBM</m0:Code></m0:CheckPriceRequest>"
        );
        let response = call(QUOTES, SOAP11, Some("urn:mediate"), &soap11(&custom));
        let reason = "The endpoint reference (EPR) for the Operation not found is /services/SimpleStockQuoteService \
                      and the WSA Action = urn:mediate. If this EPR";
        expect(&response, 500, &[reason]);
    }

    #[test]
    fn malformed_and_odd_requests_fault_without_panicking() {
        let response = call(
            QUOTES,
            SOAP11,
            Some("urn:getQuote"),
            "<soapenv:Envelope><unclosed>",
        );
        expect(
            &response,
            500,
            &["<faultcode>soapenv:Server</faultcode><faultstring>Error parsing the request: "],
        );
        let response = call(QUOTES, SOAP11, None, &payload("getQuote", &["IBM"]));
        expect(
            &response,
            500,
            &["First Element must contain the local name, Envelope , but found getQuote"],
        );
        let request = SampleRequest {
            method: "POST",
            path: "/",
            content_type: None,
            soap_action: None,
            host: None,
            body: b"\xff",
        };
        expect(&answer(&request), 500, &["<faultstring>"]);
        for (path, body) in [
            ("/services/SimpleStockQuoteService?%", "<a/>"),
            (
                "/services/LBService1",
                "<sleepOperation><load>soon</load></sleepOperation>",
            ),
            ("/services/Axis2Service/echoInt?x=1.5", ""),
            (
                "/services/SimpleStockQuoteService/getMarketActivity",
                "<getMarketActivity/>",
            ),
        ] {
            expect(&call(path, POX, None, body), 500, &[]);
        }
    }

    #[test]
    fn lb_service_echoes_the_request_element() {
        let envelope = format!(
            "<e:Envelope xmlns:e=\"{SOAP11_NS}\" xmlns:x=\"urn:x\"><e:Body><ns:sleepOperation xmlns:ns=\"{SAMPLES_NS}\">\
             <x:tag a=\"1\">keep</x:tag><load>1500</load></ns:sleepOperation></e:Body></e:Envelope>"
        );
        let (path, body) = ("/services/LBService1", envelope.as_bytes());
        let request = SampleRequest {
            method: "POST",
            path,
            content_type: SOAP11,
            soap_action: None,
            host: None,
            body,
        };
        assert_eq!(requested_delay_ms(&request), Some(1500));
        expect(
            &answer(&request),
            200,
            &[
                "<ns:sleepOperation xmlns:ns=\"http://services.samples\" xmlns:x=\"urn:x\"><x:tag a=\"1\">keep</x:tag>\
             <load>Response from server: Server_1</load></ns:sleepOperation>",
            ],
        );
        let sample = soap11(&format!(
            "<ns:sampleOperation xmlns:ns=\"{SAMPLES_NS}\"><ns:name>x</ns:name></ns:sampleOperation>"
        ));
        expect(
            &call(path, SOAP11, Some("urn:sampleOperation"), &sample),
            200,
            &[
                "<soapenv:Body><ns:sampleOperation xmlns:ns=\"http://services.samples\">\
             Response from server: Server_1</ns:sampleOperation>",
            ],
        );
        assert_eq!(
            requested_delay_ms(&SampleRequest {
                body: sample.as_bytes(),
                ..request
            }),
            None
        );
    }

    #[test]
    fn wsdl_of_each_service_names_the_request_host() {
        for name in ["SimpleStockQuoteService", "LBService1", "Axis2Service"] {
            let path = format!("/services/{name}?wsdl");
            let response = answer(&SampleRequest {
                method: "GET",
                path: &path,
                content_type: None,
                soap_action: None,
                host: Some("localhost:41234"),
                body: b"",
            });
            expect(&response, 200, &[]);
            assert_eq!(response.content_type, "text/xml");
            let doc = Document::parse(&response.body).unwrap();
            let root = doc.root_element();
            assert_eq!(
                root.tag_name().namespace(),
                Some("http://schemas.xmlsoap.org/wsdl/")
            );
            let address = |port: &str| {
                doc.descendants()
                    .find(|n| n.attribute("name") == Some(port))
                    .and_then(|p| p.children().find(|n| n.is_element()))
                    .map(|a| {
                        (
                            a.tag_name().namespace().unwrap_or_default().to_string(),
                            a.attribute("location").unwrap_or_default().to_string(),
                        )
                    })
                    .unwrap()
            };
            assert_eq!(
                address(&format!("{name}HttpSoap11Endpoint")),
                (
                    "http://schemas.xmlsoap.org/wsdl/soap/".to_string(),
                    format!("http://localhost:41234/services/{name}.{name}HttpSoap11Endpoint")
                )
            );
            assert_eq!(
                address(&format!("{name}HttpSoap12Endpoint")).0,
                "http://schemas.xmlsoap.org/wsdl/soap12/"
            );
            assert_eq!(
                address(&format!("{name}HttpEndpoint")).0,
                "http://schemas.xmlsoap.org/wsdl/http/"
            );
        }
        // The saved Axis2 document keeps its types and bindings.
        let response = call(&format!("{QUOTES}?wsdl"), None, None, "");
        assert!(
            response
                .body
                .contains("<wsdl:binding name=\"SimpleStockQuoteServiceSoap11Binding\"")
        );
        assert!(
            response
                .body
                .contains("http://localhost/services/SimpleStockQuoteService.")
        );
    }

    #[test]
    fn post_without_body_is_a_soap_fault() {
        for content_type in [None, SOAP11] {
            let response = answer(&SampleRequest {
                method: "POST",
                path: QUOTES,
                content_type,
                soap_action: Some("urn:getQuote"),
                host: None,
                body: b"",
            });
            expect(
                &response,
                500,
                &[
                    "<faultcode>soapenv:Server</faultcode>",
                    "Unexpected EOF in prolog",
                ],
            );
        }
    }

    #[test]
    fn axis2_service_echoes() {
        let echo = soap11(&format!(
            "<p:echoString xmlns:p=\"{AXIS2_SERVICE_NS}\"><p:s>a&amp;b</p:s></p:echoString>"
        ));
        expect(
            &call(
                "/services/Axis2Service",
                SOAP11,
                Some("urn:echoString"),
                &echo,
            ),
            200,
            &[
                "<ns:echoStringResponse xmlns:ns=\"http://service.carbon.wso2.org\"><ns:return>a&amp;b</ns:return>",
            ],
        );
        let ping = soap11("<p:Ping xmlns:p=\"x\"/>");
        expect(
            &call("/services/Axis2Service", SOAP11, Some("urn:Ping"), &ping),
            202,
            &[],
        );
    }

    #[test]
    fn doubles_print_as_java_does() {
        for (value, java) in [
            (5.498486260437736E7, "5.498486260437736E7"),
            (1e7, "1.0E7"),
            (9451314.231029626, "9451314.231029626"),
            (-2.3141856129298564, "-2.3141856129298564"),
            (100.0, "100.0"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (-1.25e-5, "-1.25E-5"),
            (0.0, "0.0"),
        ] {
            assert_eq!(java_double(value), java);
        }
    }
}
