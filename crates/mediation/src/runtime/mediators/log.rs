//! `<log>`: one line per message in MI's format (SYN `mediators/builtin/LogMediator.java`;
//! synapse-subset.md §3.8): `{api:NAME} To: /path, MessageID: urn:uuid:..., Direction: request,
//! NAME = value`. Levels `simple` (default), `headers`, `full`, `custom`, and MI 4.4's message
//! template (a `<message>` with `${...}` placeholders, whose line names the request:
//! `{api:NAME METHOD /path?query} text`, SYN `util/logging/LoggingUtils.java`); categories map to
//! log levels. `full` appends `Payload: <json>` for JSON messages and `Envelope: <soap envelope>`
//! otherwise (so it reads the body); `headers` lists the SOAP header blocks. A `<message>` given
//! with another level starts that level's line.

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;
use crate::runtime::expr_context::ExprView;
use crate::runtime::payload::{Payload, parse_document, soap_version};
use crate::runtime::value::ValueSource;
use crate::synapse_expr::InlineTemplate;

/// The request's SOAP action (the `SOAPAction` header, unquoted), which MI logs as both
/// `WSAction` and `SOAPAction`.
fn soap_action<B>(ctx: &MessageContext<B>) -> Option<String> {
    let v = ctx
        .headers
        .get("soapaction")?
        .to_str()
        .ok()?
        .trim()
        .trim_matches('"');
    (!v.is_empty()).then(|| v.to_string())
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
    fn push_properties<B: MessageBody>(&self, out: &mut String, ctx: &MessageContext<B>) {
        for (name, value) in &self.properties {
            // An unset property logs as `null`, as Java appends Synapse's null result.
            let v = match value.resolve_optional(ctx) {
                Ok(Some(v)) => v,
                Ok(None) => "null".to_string(),
                Err(e) => format!("<error: {e}>"),
            };
            out.push_str(&self.separator);
            out.push_str(&format!("{name} = {v}"));
        }
    }

    /// LogMediator.getSimpleLogMessage without its properties: `[template sep]To: ...`.
    fn simple_part<B: MessageBody>(
        &self,
        out: &mut String,
        ctx: &MessageContext<B>,
    ) -> Result<(), String> {
        out.push_str(&self.template(ctx)?);
        if !out.is_empty() {
            out.push_str(&self.separator);
        }
        out.push_str("To: ");
        if !ctx.is_response {
            out.push_str(ctx.to_address());
        }
        // Order: To, From, WSAction, SOAPAction, ReplyTo, MessageID, Direction.
        let sep = &self.separator;
        if let Some(v) = ctx.addressing.get("From") {
            out.push_str(&format!("{sep}From: {v}"));
        }
        if let Some(action) = soap_action(ctx) {
            out.push_str(&format!("{sep}WSAction: {action}{sep}SOAPAction: {action}"));
        }
        if let Some(v) = ctx.addressing.get("ReplyTo") {
            out.push_str(&format!("{sep}ReplyTo: {v}"));
        }
        out.push_str(&format!("{sep}MessageID: {}", ctx.message_id()));
        out.push_str(&format!(
            "{sep}Direction: {}",
            if ctx.is_response {
                "response"
            } else {
                "request"
            }
        ));
        Ok(())
    }

    /// The message part of the log line, as LogMediator builds it for each level (a leading
    /// separator trimmed, `trimLeadingSeparator`).
    pub fn message<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<String, String> {
        let mut out = String::new();
        match self.level {
            LogLevel::Custom | LogLevel::MessageTemplate => {
                // getCustomLogMessage.
                if self.log_message_id {
                    out.push_str(&format!(
                        "MessageID: {}{}",
                        ctx.message_id(),
                        self.separator
                    ));
                }
                out.push_str(&self.template(ctx)?);
                self.push_properties(&mut out, ctx);
            }
            LogLevel::Simple => {
                self.simple_part(&mut out, ctx)?;
                self.push_properties(&mut out, ctx);
            }
            LogLevel::Headers => {
                // getHeadersLogMessage: the SOAP header blocks, `localName : text`.
                out.push_str(&self.template(ctx)?);
                for (name, text) in soap_header_blocks(ctx) {
                    out.push_str(&format!("{}{name} : {text}", self.separator));
                }
                self.push_properties(&mut out, ctx);
            }
            LogLevel::Full => {
                self.simple_part(&mut out, ctx)?;
                self.push_properties(&mut out, ctx);
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
        Ok(match out.strip_prefix(self.separator.as_str()) {
            Some(rest) if !self.separator.is_empty() => rest.to_string(),
            _ => out,
        })
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
        Ok(format!("{} {}", self.prefix(ctx), self.message(ctx)?))
    }

    /// Writes the line at the category's level. TRACE and DEBUG lines are built only when that
    /// level is enabled (LogMediator checks `isTraceEnabled` / `isDebugEnabled` first).
    pub fn apply<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<(), String> {
        match self.category {
            LogCategory::Trace => {
                if tracing::enabled!(target: "LogMediator", tracing::Level::TRACE) {
                    let line = self.line(ctx)?;
                    tracing::trace!(target: "LogMediator", "{line}");
                }
            }
            LogCategory::Debug => {
                if tracing::enabled!(target: "LogMediator", tracing::Level::DEBUG) {
                    let line = self.line(ctx)?;
                    tracing::debug!(target: "LogMediator", "{line}");
                }
            }
            LogCategory::Info => {
                let line = self.line(ctx)?;
                tracing::info!(target: "LogMediator", "{line}");
            }
            LogCategory::Warn => {
                let line = self.line(ctx)?;
                tracing::warn!(target: "LogMediator", "{line}");
            }
            // tracing has no FATAL: MI's FATAL lines are written at ERROR.
            LogCategory::Error | LogCategory::Fatal => {
                let line = self.line(ctx)?;
                tracing::error!(target: "LogMediator", "{line}");
            }
        }
        Ok(())
    }
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
