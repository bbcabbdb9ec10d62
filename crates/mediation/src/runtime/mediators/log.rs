//! `<log>`: one line per message in MI's format (SYN `mediators/builtin/LogMediator.java`;
//! synapse-subset.md §3.8): `{api:NAME} To: /path, MessageID: urn:uuid:..., Direction: request,
//! NAME = value`. Levels `simple` (default), `headers`, `full`, `custom`, and MI 4.4's message
//! template (a `<message>` with `${...}` placeholders, whose line names the request:
//! `{api:NAME METHOD /path?query} text`, SYN `util/logging/LoggingUtils.java`); categories map to
//! log levels. `full` appends `Payload: <json>` for JSON messages and `Envelope: <soap envelope>`
//! otherwise (so it reads the body); `headers` lists the SOAP header blocks. A `<message>` given
//! with another level starts that level's line.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt::Write as _;

use crate::runtime::Scope;
use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;
use crate::runtime::expr_context::ExprView;
use crate::runtime::payload::{Payload, parse_document, soap_version};
use crate::runtime::value::ValueSource;
use crate::synapse_expr::InlineTemplate;

/// The request's SOAP action (the `SOAPAction` header, unquoted), which MI logs as both
/// `WSAction` and `SOAPAction`.
fn soap_action(value: &str) -> Option<&str> {
    let v = value.trim().trim_matches('"');
    (!v.is_empty()).then_some(v)
}

/// A header value as `HeaderValue::to_str` reads it: visible ASCII and tabs, else nothing (a
/// transport property with other bytes reads as unset).
fn header_text(value: &[u8]) -> Option<&str> {
    value
        .iter()
        .all(|&b| b == b'\t' || (32..127).contains(&b))
        .then(|| std::str::from_utf8(value).ok())
        .flatten()
}

/// What the simple and custom levels read of a message (LogMediator.getSimpleLogMessage,
/// setCustomProperties): a message context on the general path, or a request head that no
/// mediator has touched ([`RequestFields`]).
trait LineSource {
    /// `To` (the request's address; empty in the response flow).
    fn to(&self) -> &str;
    fn is_response(&self) -> bool;
    /// A WS-Addressing value (`From`, `ReplyTo`).
    fn addressing(&self, name: &str) -> Option<&str>;
    /// The raw `SOAPAction` header value.
    fn soap_action_header(&self) -> Option<&str>;
    fn message_id(&self) -> Cow<'_, str>;
    /// The processed `<message>` template, "" without one.
    fn template(&self, log: &Log) -> Result<String, String>;
    /// A property's value; `None` for an unset property reference. Borrowed where the source
    /// holds the text (a literal, a header of the raw head), so a line copies it only once.
    fn property<'v>(&'v self, value: &'v ValueSource) -> Result<Option<Cow<'v, str>>, String>;
}

impl<B: MessageBody> LineSource for MessageContext<B> {
    fn to(&self) -> &str {
        if self.is_response {
            ""
        } else {
            self.to_address()
        }
    }

    fn is_response(&self) -> bool {
        self.is_response
    }

    fn addressing(&self, name: &str) -> Option<&str> {
        self.addressing.get(name).map(String::as_str)
    }

    fn soap_action_header(&self) -> Option<&str> {
        self.headers.get("soapaction")?.to_str().ok()
    }

    fn message_id(&self) -> Cow<'_, str> {
        Cow::Owned(MessageContext::message_id(self))
    }

    fn template(&self, log: &Log) -> Result<String, String> {
        log.template(self)
    }

    fn property<'v>(&'v self, value: &'v ValueSource) -> Result<Option<Cow<'v, str>>, String> {
        Ok(value.resolve_optional(self)?.map(Cow::Owned))
    }
}

/// A request as it arrived, before any mediator ran: what a head-only log line
/// ([`Log::reads_only_the_head`]) reads of it. The Conflux HTTP/1 engine's router (conflux
/// h1_router.rs) writes the line of a request it forwards itself through this, from the raw head.
pub trait RequestFields {
    /// The request-target as `http::Uri::path_and_query` gives it (what `To` logs).
    fn path_and_query(&self) -> &str;
    /// The first value of the header `name` (ASCII case-insensitive), as received.
    fn header(&self, name: &str) -> Option<&[u8]>;
}

/// A [`RequestFields`] with its message id, taken once per message.
struct HeadSource<'r> {
    request: &'r dyn RequestFields,
    message_id: &'r str,
}

impl LineSource for HeadSource<'_> {
    fn to(&self) -> &str {
        self.request.path_and_query()
    }

    fn is_response(&self) -> bool {
        false
    }

    fn addressing(&self, _name: &str) -> Option<&str> {
        // A request's WS-Addressing headers are read with its body (MessageContext
        // adopt_addressing), which a head-only line never builds.
        None
    }

    fn soap_action_header(&self) -> Option<&str> {
        header_text(self.request.header("soapaction")?)
    }

    fn message_id(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.message_id)
    }

    fn template(&self, _log: &Log) -> Result<String, String> {
        // A head-only line has no template (Log::reads_only_the_head).
        Ok(String::new())
    }

    fn property<'v>(&'v self, value: &'v ValueSource) -> Result<Option<Cow<'v, str>>, String> {
        match value {
            ValueSource::Literal(v) => Ok(Some(Cow::Borrowed(v))),
            ValueSource::Property(Scope::Transport, name) => Ok(self
                .request
                .header(name)
                .and_then(header_text)
                .map(Cow::Borrowed)),
            other => Err(format!(
                "{} is not read from the request head",
                other.describe()
            )),
        }
    }
}

/// `(localName, text)` of each SOAP header block of a SOAP message.
fn soap_header_blocks<B>(ctx: &MessageContext<B>) -> Vec<(String, String)> {
    let Some(Payload::Xml {
        text,
        soap: Some(_),
    }) = &ctx.payload
    else {
        return Vec::new();
    };
    let Ok(doc) = parse_document(text) else {
        return Vec::new();
    };
    let root = doc.root_element();
    let Some(ns) = soap_version(root).map(|v| v.namespace()) else {
        return Vec::new();
    };
    root.children()
        .filter(|n| {
            n.is_element()
                && n.tag_name().name() == "Header"
                && n.tag_name().namespace() == Some(ns)
        })
        .flat_map(|h| h.children().filter(|n| n.is_element()))
        .map(|b| {
            let text: String = b
                .children()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .collect();
            (b.tag_name().name().to_string(), text)
        })
        .collect()
}

/// Level and category as the artifact declares them.
pub use conflux_artifacts::mediators::{LogCategory, LogLevel};

#[derive(Debug, Clone)]
pub struct Log {
    pub level: LogLevel,
    pub category: LogCategory,
    pub separator: String,
    /// The `<message>` template (its `\n` / `\t` escapes already turned into a newline / tab).
    pub message: Option<InlineTemplate>,
    /// `logMessageID="true"`: custom and message-template lines start with `MessageID: ...`.
    pub log_message_id: bool,
    pub properties: Vec<(String, ValueSource)>,
}

impl Log {
    pub fn needs_payload(&self) -> bool {
        matches!(self.level, LogLevel::Full | LogLevel::Headers)
            || self.properties.iter().any(|(_, v)| v.needs_payload())
            || self
                .message
                .as_ref()
                .is_some_and(InlineTemplate::needs_payload)
    }

    /// The processed `<message>` (LogMediator.processMessageTemplate), "" without one. An
    /// evaluation error MI catches gives "" for its placeholder; `Err` is one it does not catch.
    fn template<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<String, String> {
        match &self.message {
            Some(template) => template
                .render(&ExprView(ctx))
                .map_err(|e| e.message().to_string()),
            None => Ok(String::new()),
        }
    }

    /// `sep + NAME = value` per property (LogMediator.setCustomProperties).
    fn push_properties(&self, out: &mut String, ctx: &impl LineSource) {
        for (name, value) in &self.properties {
            // An unset property logs as `null`, as Java appends Synapse's null result.
            out.push_str(&self.separator);
            out.push_str(name);
            out.push_str(" = ");
            match ctx.property(value) {
                Ok(Some(v)) => out.push_str(&v),
                Ok(None) => out.push_str("null"),
                Err(e) => {
                    let _ = write!(out, "<error: {e}>");
                }
            }
        }
    }

    /// LogMediator.getSimpleLogMessage without its properties: `[template sep]To: ...`.
    /// `out` holds the line up to this message (the artifact prefix, or nothing) and this
    /// message begins at `start`.
    fn simple_part(
        &self,
        out: &mut String,
        start: usize,
        ctx: &impl LineSource,
    ) -> Result<(), String> {
        out.push_str(&ctx.template(self)?);
        if out.len() > start {
            out.push_str(&self.separator);
        }
        out.push_str("To: ");
        out.push_str(ctx.to());
        // Order: To, From, WSAction, SOAPAction, ReplyTo, MessageID, Direction. Pieces are
        // pushed, not `write!`n: the engine writes this line per request (issue 22).
        let sep = self.separator.as_str();
        let mut field = |name: &str, value: &str| {
            out.push_str(sep);
            out.push_str(name);
            out.push_str(value);
        };
        if let Some(v) = ctx.addressing("From") {
            field("From: ", v);
        }
        if let Some(action) = ctx.soap_action_header().and_then(soap_action) {
            field("WSAction: ", action);
            field("SOAPAction: ", action);
        }
        if let Some(v) = ctx.addressing("ReplyTo") {
            field("ReplyTo: ", v);
        }
        field("MessageID: ", &ctx.message_id());
        field(
            "Direction: ",
            if ctx.is_response() {
                "response"
            } else {
                "request"
            },
        );
        Ok(())
    }

    /// getCustomLogMessage and getSimpleLogMessage (their properties included), the levels a
    /// [`LineSource`] answers.
    /// `start` as in [`Log::simple_part`].
    fn custom_or_simple(
        &self,
        out: &mut String,
        start: usize,
        ctx: &impl LineSource,
    ) -> Result<(), String> {
        match self.level {
            LogLevel::Custom | LogLevel::MessageTemplate => {
                // getCustomLogMessage.
                if self.log_message_id {
                    out.push_str("MessageID: ");
                    out.push_str(&ctx.message_id());
                    out.push_str(&self.separator);
                }
                out.push_str(&ctx.template(self)?);
            }
            _ => self.simple_part(out, start, ctx)?,
        }
        self.push_properties(out, ctx);
        self.trim_leading_separator(out, start);
        Ok(())
    }

    /// Removes a separator at `start`, where the message begins (LogMediator.trimLeadingSeparator).
    fn trim_leading_separator(&self, out: &mut String, start: usize) {
        let sep = self.separator.as_str();
        if !sep.is_empty() && out[start..].starts_with(sep) {
            out.replace_range(start..start + sep.len(), "");
        }
    }

    /// The message part of the log line, as LogMediator builds it for each level (a leading
    /// separator trimmed, `trimLeadingSeparator`).
    pub fn message<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<String, String> {
        let mut out = String::new();
        self.write_message(&mut out, ctx)?;
        Ok(out)
    }

    /// [`Log::message`] appended to `out`.
    fn write_message<B: MessageBody>(
        &self,
        out: &mut String,
        ctx: &MessageContext<B>,
    ) -> Result<(), String> {
        let start = out.len();
        match self.level {
            LogLevel::Custom | LogLevel::MessageTemplate | LogLevel::Simple => {
                return self.custom_or_simple(out, start, ctx);
            }
            LogLevel::Headers => {
                // getHeadersLogMessage: the SOAP header blocks, `localName : text`.
                out.push_str(&self.template(ctx)?);
                for (name, text) in soap_header_blocks(ctx) {
                    let _ = write!(out, "{}{name} : {text}", self.separator);
                }
                self.push_properties(out, ctx);
            }
            LogLevel::Full => {
                self.simple_part(out, start, ctx)?;
                self.push_properties(out, ctx);
                let sep = &self.separator;
                match &ctx.payload {
                    Some(Payload::Json(v)) => out.push_str(&format!("{sep}Payload: {v}")),
                    Some(p) => out.push_str(&format!("{sep}Envelope: {}", p.envelope_xml())),
                    None => {
                        out.push_str(&format!("{sep}Envelope: {}", Payload::Empty.envelope_xml()))
                    }
                }
            }
        }
        self.trim_leading_separator(out, start);
        Ok(())
    }

    /// The prefix naming the artifact (LoggingUtils.getFormattedLog): `{api:NAME}`, and for the
    /// message-template level of an API (LOG_ENTRY_POINT_INFO) `{api:NAME METHOD /path?query}`.
    fn prefix<B>(&self, ctx: &MessageContext<B>) -> String {
        if self.level == LogLevel::MessageTemplate && ctx.artifact.starts_with("api:") {
            let method = ctx.properties.get("REST_METHOD").map_or("", String::as_str);
            let path = ctx
                .properties
                .get("REST_FULL_REQUEST_PATH")
                .map_or("", String::as_str);
            let info = format!("{} {method} {path}", ctx.artifact);
            return format!("{{{}}}", info.trim());
        }
        format!("{{{}}}", ctx.artifact)
    }

    /// The whole line: prefix and message.
    pub fn line<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<String, String> {
        let mut out = String::new();
        self.write_line(&mut out, ctx)?;
        Ok(out)
    }

    /// [`Log::line`] appended to `out`.
    fn write_line<B: MessageBody>(
        &self,
        out: &mut String,
        ctx: &MessageContext<B>,
    ) -> Result<(), String> {
        out.push_str(&self.prefix(ctx));
        out.push(' ');
        self.write_message(out, ctx)
    }

    /// Writes the line at the category's level. TRACE and DEBUG lines are built only when that
    /// level is enabled (LogMediator checks `isTraceEnabled` / `isDebugEnabled` first).
    pub fn apply<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<(), String> {
        self.write(|out| self.write_line(out, ctx))
    }

    /// Writes the line `line` appends to an empty buffer at the category's level (building it
    /// only when that level is enabled for TRACE and DEBUG).
    fn write(&self, line: impl FnOnce(&mut String) -> Result<(), String>) -> Result<(), String> {
        let enabled = match self.category {
            LogCategory::Trace => tracing::enabled!(target: "LogMediator", tracing::Level::TRACE),
            LogCategory::Debug => tracing::enabled!(target: "LogMediator", tracing::Level::DEBUG),
            _ => true,
        };
        if !enabled {
            return Ok(());
        }
        with_line_buffer(|out| {
            line(out)?;
            let line = out.as_str();
            match self.category {
                LogCategory::Trace => tracing::trace!(target: "LogMediator", "{line}"),
                LogCategory::Debug => tracing::debug!(target: "LogMediator", "{line}"),
                LogCategory::Info => tracing::info!(target: "LogMediator", "{line}"),
                LogCategory::Warn => tracing::warn!(target: "LogMediator", "{line}"),
                // tracing has no FATAL: MI's FATAL lines are written at ERROR.
                LogCategory::Error | LogCategory::Fatal => {
                    tracing::error!(target: "LogMediator", "{line}")
                }
            }
            Ok(())
        })
    }

    /// Whether the line reads nothing but the request head, so that it can be written before
    /// any mediation from the raw head ([`Log::apply_to_head`]): the `simple` or `custom` level
    /// without a `<message>` template, whose properties are literals or transport headers
    /// (`$trp:NAME`, `get-property('transport', 'NAME')`). LogMediator.getSimpleLogMessage reads
    /// To, From, WSAction, SOAPAction, ReplyTo, MessageID and Direction: no content.
    pub fn reads_only_the_head(&self) -> bool {
        matches!(self.level, LogLevel::Simple | LogLevel::Custom)
            && self.message.is_none()
            && self.properties.iter().all(|(_, v)| {
                matches!(
                    v,
                    ValueSource::Literal(_) | ValueSource::Property(Scope::Transport, _)
                )
            })
    }

    /// The transport headers the line's properties read.
    pub fn header_reads(&self) -> impl Iterator<Item = &str> {
        self.properties.iter().filter_map(|(_, v)| match v {
            ValueSource::Property(Scope::Transport, name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// The line of a request that no mediator has touched yet, read from its head, with the
    /// message id `message_id`: the line [`Log::line`] makes of a message context holding that
    /// request. `Err` for a log that reads more than the head ([`Log::reads_only_the_head`]).
    pub fn head_line(
        &self,
        artifact: &str,
        request: &dyn RequestFields,
        message_id: &str,
    ) -> Result<String, String> {
        let mut out = String::new();
        self.write_head_line(&mut out, artifact, request, message_id)?;
        Ok(out)
    }

    /// [`Log::head_line`] appended to `out`.
    fn write_head_line(
        &self,
        out: &mut String,
        artifact: &str,
        request: &dyn RequestFields,
        message_id: &str,
    ) -> Result<(), String> {
        if !self.reads_only_the_head() {
            return Err("the log line reads more than the request head".into());
        }
        out.push('{');
        out.push_str(artifact);
        out.push_str("} ");
        let start = out.len();
        self.custom_or_simple(
            out,
            start,
            &HeadSource {
                request,
                message_id,
            },
        )
    }

    /// Writes [`Log::head_line`] at the category's level, as [`Log::apply`] writes a line.
    pub fn apply_to_head(
        &self,
        artifact: &str,
        request: &dyn RequestFields,
        message_id: &str,
    ) -> Result<(), String> {
        self.write(|out| self.write_head_line(out, artifact, request, message_id))
    }
}

/// Largest line buffer kept for the next line on a thread; a longer line's buffer (a `full` log
/// of a large payload) is freed after use.
const KEPT_LINE_BUFFER_BYTES: usize = 16 * 1024;

thread_local! {
    /// The buffer each thread builds its log lines in, reused from line to line.
    static LINE_BUFFER: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Runs `f` with this thread's empty line buffer (a new one if it is in use: a line written
/// while another is built).
fn with_line_buffer<R>(f: impl FnOnce(&mut String) -> R) -> R {
    LINE_BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut out) => {
            out.clear();
            let result = f(&mut out);
            if out.capacity() > KEPT_LINE_BUFFER_BYTES {
                *out = String::new();
            } else {
                out.clear();
            }
            result
        }
        Err(_) => f(&mut String::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Scope;
    use http::{HeaderMap, HeaderValue, Method, Uri};

    fn ctx() -> MessageContext<http_body_util::Full<bytes::Bytes>> {
        let mut headers = HeaderMap::new();
        headers.insert("soapaction", HeaderValue::from_static("\"urn:getQuote\""));
        MessageContext::new(
            Method::POST,
            Uri::from_static("/stock/quote"),
            headers,
            Default::default(),
            "api:Stock".into(),
        )
    }

    fn log(level: LogLevel, properties: Vec<(String, ValueSource)>) -> Log {
        Log {
            level,
            category: LogCategory::Info,
            separator: ", ".into(),
            message: None,
            log_message_id: false,
            properties,
        }
    }

    // LogMediator.getSimpleLogMessage: To, WSAction, SOAPAction, MessageID, Direction, then properties.
    #[test]
    fn simple_and_custom_lines_follow_log_mediator() {
        let c = ctx();
        let props = vec![("SYMBOL".to_string(), ValueSource::Literal("IBM".into()))];
        let simple = log(LogLevel::Simple, props.clone()).line(&c).unwrap();
        assert!(
            simple.starts_with("{api:Stock} To: /stock/quote, WSAction: urn:getQuote, SOAPAction: urn:getQuote, MessageID: urn:uuid:"),
            "{simple}"
        );
        assert!(
            simple.ends_with(", Direction: request, SYMBOL = IBM"),
            "{simple}"
        );
        assert_eq!(
            log(LogLevel::Custom, props).line(&c).unwrap(),
            "{api:Stock} SYMBOL = IBM"
        );
    }

    // LogMediator.getFullLogMessage: `Payload: <json>` for JSON, else `Envelope: <envelope>`.
    #[test]
    fn full_appends_the_payload_or_the_envelope() {
        let mut c = ctx();
        c.payload = Some(Payload::Json(serde_json::json!({"a": 1}).into()));
        assert!(
            log(LogLevel::Full, vec![])
                .line(&c)
                .unwrap()
                .ends_with("Direction: request, Payload: {\"a\":1}")
        );
        c.payload = Some(Payload::xml("<a>1</a>".into()).unwrap());
        let line = log(LogLevel::Full, vec![]).line(&c).unwrap();
        assert!(line.contains("Envelope: <soapenv:Envelope"), "{line}");
        assert!(
            line.ends_with("<soapenv:Body><a>1</a></soapenv:Body></soapenv:Envelope>"),
            "{line}"
        );
    }

    // LogMediator.getHeadersLogMessage: the SOAP header blocks as `localName : text`.
    #[test]
    fn headers_lists_soap_header_blocks() {
        let mut c = ctx();
        c.payload = Some(
            Payload::xml(format!(
                "<s:Envelope xmlns:s=\"{}\"><s:Header><h:Token xmlns:h=\"urn:h\">t1</h:Token></s:Header><s:Body/></s:Envelope>",
                crate::runtime::payload::SOAP11_NS
            ))
            .unwrap(),
        );
        assert_eq!(
            log(LogLevel::Headers, vec![]).line(&c).unwrap(),
            "{api:Stock} Token : t1"
        );
    }

    // MI test PropertyIntegrationOperationScopeRemovePropertiesTestCase: a removed property logs
    // `symbol = null` (SynapseXPath.stringValueOf returns null, StringBuffer appends "null").
    #[test]
    fn an_unset_property_logs_as_null() {
        let mut c = ctx();
        c.set(Scope::Operation, "IntVal", "123".into()).unwrap();
        let expression = |text: &str| ValueSource::compile_text(text, &[]).unwrap();
        let custom = log(
            LogLevel::Custom,
            vec![
                (
                    "a".into(),
                    expression("get-property('operation', 'IntVal')"),
                ),
                ("b".into(), expression("get-property('operation', 'Gone')")),
                ("c".into(), expression("$ctx:gone")),
            ],
        );
        assert_eq!(
            custom.line(&c).unwrap(),
            "{api:Stock} a = 123, b = null, c = null"
        );
    }

    fn with_message(level: LogLevel, template: &str) -> Log {
        Log {
            message: Some(InlineTemplate::compile(template).unwrap()),
            ..log(level, vec![])
        }
    }

    fn api_request() -> MessageContext<http_body_util::Full<bytes::Bytes>> {
        let mut c = MessageContext::new(
            Method::POST,
            Uri::from_static("/orders/7?x=1"),
            HeaderMap::new(),
            Default::default(),
            "api:OrderApi".into(),
        );
        c.properties.insert("REST_METHOD".into(), "POST".into());
        c.properties
            .insert("REST_FULL_REQUEST_PATH".into(), "/orders/7?x=1".into());
        c.variables.insert(
            "customer".into(),
            crate::synapse_expr::ExprValue::String("Ada".into()),
        );
        c
    }

    // LogMediator MESSAGE_TEMPLATE: the processed template, then the properties; the API's line
    // names the request (LoggingUtils.getFormattedLogForAPI with LOG_ENTRY_POINT_INFO).
    #[test]
    fn message_template_lines_name_the_request() {
        let c = api_request();
        let mut m = with_message(
            LogLevel::MessageTemplate,
            "Order for ${vars.customer}: ${params.queryParams.x}",
        );
        m.properties = vec![("k".into(), ValueSource::Literal("v".into()))];
        assert_eq!(
            m.line(&c).unwrap(),
            "{api:OrderApi POST /orders/7?x=1} Order for Ada: 1, k = v"
        );
        // A failed placeholder is empty (MI logs the evaluation warning).
        let m = with_message(LogLevel::MessageTemplate, "[${vars.missing}]");
        assert_eq!(m.line(&c).unwrap(), "{api:OrderApi POST /orders/7?x=1} []");
        // Only the message-template level carries the request; a proxy has no request line.
        let custom = with_message(LogLevel::Custom, "Order for ${vars.customer}");
        assert_eq!(custom.line(&c).unwrap(), "{api:OrderApi} Order for Ada");
        let mut proxy = api_request();
        proxy.artifact = "proxy:P".into();
        assert_eq!(
            with_message(LogLevel::MessageTemplate, "x")
                .line(&proxy)
                .unwrap(),
            "{proxy:P} x"
        );
        // Without REST_METHOD / REST_FULL_REQUEST_PATH the parts are left out (joined, trimmed).
        let mut bare = api_request();
        bare.properties.clear();
        assert_eq!(
            with_message(LogLevel::MessageTemplate, "x")
                .line(&bare)
                .unwrap(),
            "{api:OrderApi} x"
        );
    }

    // getCustomLogMessage with logMessageID; getSimpleLogMessage with a template before `To:`.
    #[test]
    fn message_id_and_templates_in_other_levels() {
        let c = api_request();
        let mut m = with_message(LogLevel::MessageTemplate, "hello");
        m.log_message_id = true;
        assert_eq!(
            m.message(&c).unwrap(),
            format!("MessageID: {}, hello", c.message_id())
        );
        let simple = with_message(LogLevel::Simple, "hello ${vars.customer}");
        assert_eq!(
            simple.message(&c).unwrap(),
            format!(
                "hello Ada, To: /orders/7?x=1, MessageID: {}, Direction: request",
                c.message_id()
            )
        );
        // An empty template adds nothing, and a leading separator is trimmed.
        let empty = with_message(LogLevel::MessageTemplate, "");
        let mut empty = Log {
            properties: vec![("a".into(), ValueSource::Literal("1".into()))],
            ..empty.clone()
        };
        assert_eq!(empty.message(&c).unwrap(), "a = 1");
        empty.separator = String::new();
        assert_eq!(empty.message(&c).unwrap(), "a = 1");
    }

    /// A raw request head: path and query, header lines as received.
    struct Head(&'static str, Vec<(&'static str, &'static [u8])>);

    impl RequestFields for Head {
        fn path_and_query(&self) -> &str {
            self.0
        }

        fn header(&self, name: &str) -> Option<&[u8]> {
            self.1
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        }
    }

    // A head-only line (the HTTP/1 engine's, conflux h1_router.rs) is the line the general path
    // writes for a context holding the same request: To, SOAPAction, MessageID, Direction, then
    // the properties (a header that is not visible ASCII reads as unset: HeaderValue::to_str).
    #[test]
    fn head_lines_are_the_context_lines() {
        let headers: Vec<(&'static str, &'static [u8])> = vec![
            ("Host", b"h:1"),
            ("SOAPAction", b"\"urn:a\""),
            ("X-Dup", b"first"),
            ("x-dup", b"second"),
            ("X-Bin", b"caf\xc3\xa9"),
        ];
        let mut map = HeaderMap::new();
        for (name, value) in &headers {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        let c = MessageContext::new(
            Method::GET,
            Uri::from_static("/a/b?c=1"),
            map,
            http_body_util::Full::<bytes::Bytes>::default(),
            "api:A".into(),
        );
        let head = Head("/a/b?c=1", headers);
        let trp = |name: &str| ValueSource::compile_text(&format!("$trp:{name}"), &[]).unwrap();
        let props = vec![
            ("host".to_string(), trp("Host")),
            ("dup".to_string(), trp("X-Dup")),
            ("bin".to_string(), trp("X-Bin")),
            ("none".to_string(), trp("X-None")),
            (
                "tp".to_string(),
                ValueSource::compile_text("get-property('transport', 'host')", &[]).unwrap(),
            ),
            ("lit".to_string(), ValueSource::Literal("v".into())),
        ];
        for level in [LogLevel::Simple, LogLevel::Custom] {
            for with_id in [false, true] {
                let mut l = log(level, props.clone());
                l.log_message_id = with_id;
                l.separator = " | ".into();
                assert!(l.reads_only_the_head());
                assert_eq!(
                    l.head_line("api:A", &head, &c.message_id()).unwrap(),
                    l.line(&c).unwrap(),
                    "{level:?} {with_id}"
                );
            }
        }
        let simple = log(LogLevel::Simple, props).head_line("api:A", &head, "urn:uuid:x");
        assert_eq!(
            simple.unwrap(),
            "{api:A} To: /a/b?c=1, WSAction: urn:a, SOAPAction: urn:a, MessageID: urn:uuid:x, Direction: request, host = h:1, dup = first, bin = null, none = null, tp = h:1, lit = v"
        );
        // Anything that reads more than the head is refused.
        for other in [
            log(LogLevel::Full, vec![]),
            log(LogLevel::Headers, vec![]),
            log(
                LogLevel::Simple,
                vec![(
                    "p".into(),
                    ValueSource::compile_text("$ctx:p", &[]).unwrap(),
                )],
            ),
            with_message(LogLevel::Simple, "m"),
        ] {
            assert!(!other.reads_only_the_head());
            assert!(other.head_line("api:A", &head, "urn:uuid:x").is_err());
        }
        assert_eq!(
            log(LogLevel::Custom, vec![("h".into(), trp("Host"))])
                .header_reads()
                .collect::<Vec<_>>(),
            ["Host"]
        );
    }

    // A placeholder that fails as MI's uncaught exceptions do fails the mediator.
    #[test]
    fn a_template_fault_fails_the_log() {
        let c = api_request();
        let m = with_message(LogLevel::MessageTemplate, "${base64decode('%%%')}");
        assert!(m.apply(&c).is_err());
    }

    mod flow {
        //! The log mediator through whole artifacts: the line each category writes.
        use crate::runtime::expr_context::test_support::*;

        // LogMediator.mediate: a category's level; MESSAGE_TEMPLATE names the request; `\n` in
        // the template is a newline (setMessageTemplate).
        #[test]
        fn message_template_lines_are_written_at_the_category_level() {
            let d = deployed(&[(
                "api/L.xml",
                &api(
                    "L",
                    r#"<variable name="who" expression="${payload.user}"/><log category="WARN"><message>User ${vars.who} asked\n${payload.n * 2}</message></log><log level="custom" category="ERROR"><property name="p" expression="${vars.who}"/></log><respond/>"#,
                    "",
                ),
            )]);
            let (_, events) = logged(call(
                &d,
                "POST",
                "/L/x?y=1",
                Some("application/json"),
                r#"{"user": "ada", "n": 4}"#,
            ));
            let lines: Vec<_> = events
                .iter()
                .filter(|(_, target, _)| target == "LogMediator")
                .map(|(level, _, line)| (*level, line.as_str()))
                .collect();
            assert_eq!(
                lines,
                [
                    (
                        tracing::Level::WARN,
                        "{api:L POST /L/x?y=1} User ada asked\n8"
                    ),
                    (tracing::Level::ERROR, "{api:L} p = ada"),
                ]
            );
        }

        // LogMediatorFactory: "Invalid message template" fails the deployment.
        #[test]
        fn an_invalid_template_fails_the_deployment() {
            let (_, errors) = deploy(&[(
                "api/M.xml",
                &api("M", r#"<log><message>${vars.}</message></log>"#, ""),
            )]);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert!(
                errors[0].message.starts_with("Invalid message template : "),
                "{errors:?}"
            );
        }
    }
}
