//! `<log>`: one line per message in MI's format (SYN `mediators/builtin/LogMediator.java`;
//! synapse-subset.md §3.8): `{api:NAME} To: /path, MessageID: urn:uuid:..., Direction: request,
//! NAME = value`. Levels `simple` (default), `headers`, `full`, `custom`; categories map to log
//! levels. `full` appends `Payload: <json>` for JSON messages and `Envelope: <soap envelope>`
//! otherwise (so it reads the body); `headers` lists the SOAP header blocks.

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;
use crate::runtime::payload::{Payload, parse_document, soap_version};
use crate::runtime::value::ValueSource;

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
    pub properties: Vec<(String, ValueSource)>,
}

impl Log {
    pub fn needs_payload(&self) -> bool {
        matches!(self.level, LogLevel::Full | LogLevel::Headers)
            || self.properties.iter().any(|(_, v)| v.needs_payload())
    }

    /// The message part of the log line, as LogMediator builds it for each level.
    pub fn line<B: MessageBody>(&self, ctx: &MessageContext<B>) -> String {
        let mut parts: Vec<String> = Vec::new();
        if matches!(self.level, LogLevel::Simple | LogLevel::Full) {
            parts.push(format!(
                "To: {}",
                if ctx.is_response {
                    ""
                } else {
                    ctx.to_address()
                }
            ));
            // LogMediator.getSimpleLogMessage order: To, From, WSAction, SOAPAction, ReplyTo.
            if let Some(v) = ctx.addressing.get("From") {
                parts.push(format!("From: {v}"));
            }
            if let Some(action) = soap_action(ctx) {
                parts.push(format!("WSAction: {action}"));
                parts.push(format!("SOAPAction: {action}"));
            }
            if let Some(v) = ctx.addressing.get("ReplyTo") {
                parts.push(format!("ReplyTo: {v}"));
            }
            parts.push(format!("MessageID: {}", ctx.message_id()));
            parts.push(format!(
                "Direction: {}",
                if ctx.is_response {
                    "response"
                } else {
                    "request"
                }
            ));
        }
        if self.level == LogLevel::Headers {
            // LogMediator.getHeadersLogMessage: the SOAP header blocks, `localName : text`.
            for (name, text) in soap_header_blocks(ctx) {
                parts.push(format!("{name} : {text}"));
            }
        }
        for (name, value) in &self.properties {
            // An unset property logs as `null`, as Java appends Synapse's null result.
            let v = match value.resolve_optional(ctx) {
                Ok(Some(v)) => v,
                Ok(None) => "null".to_string(),
                Err(e) => format!("<error: {e}>"),
            };
            parts.push(format!("{name} = {v}"));
        }
        if self.level == LogLevel::Full {
            match &ctx.payload {
                Some(Payload::Json(v)) => parts.push(format!("Payload: {v}")),
                Some(p) => parts.push(format!("Envelope: {}", p.envelope_xml())),
                None => parts.push(format!("Envelope: {}", Payload::Empty.envelope_xml())),
            }
        }
        format!("{{{}}} {}", ctx.artifact, parts.join(&self.separator))
    }

    pub fn apply<B: MessageBody>(&self, ctx: &MessageContext<B>) {
        let line = self.line(ctx);
        match self.category {
            LogCategory::Trace => tracing::trace!(target: "LogMediator", "{line}"),
            LogCategory::Debug => tracing::debug!(target: "LogMediator", "{line}"),
            LogCategory::Info => tracing::info!(target: "LogMediator", "{line}"),
            LogCategory::Warn => tracing::warn!(target: "LogMediator", "{line}"),
            LogCategory::Error | LogCategory::Fatal => {
                tracing::error!(target: "LogMediator", "{line}")
            }
        }
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
            properties,
        }
    }

    // LogMediator.getSimpleLogMessage: To, WSAction, SOAPAction, MessageID, Direction, then properties.
    #[test]
    fn simple_and_custom_lines_follow_log_mediator() {
        let c = ctx();
        let props = vec![("SYMBOL".to_string(), ValueSource::Literal("IBM".into()))];
        let simple = log(LogLevel::Simple, props.clone()).line(&c);
        assert!(
            simple.starts_with("{api:Stock} To: /stock/quote, WSAction: urn:getQuote, SOAPAction: urn:getQuote, MessageID: urn:uuid:"),
            "{simple}"
        );
        assert!(
            simple.ends_with(", Direction: request, SYMBOL = IBM"),
            "{simple}"
        );
        assert_eq!(
            log(LogLevel::Custom, props).line(&c),
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
                .ends_with("Direction: request, Payload: {\"a\":1}")
        );
        c.payload = Some(Payload::xml("<a>1</a>".into()).unwrap());
        let line = log(LogLevel::Full, vec![]).line(&c);
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
            log(LogLevel::Headers, vec![]).line(&c),
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
        assert_eq!(custom.line(&c), "{api:Stock} a = 123, b = null, c = null");
    }
}
