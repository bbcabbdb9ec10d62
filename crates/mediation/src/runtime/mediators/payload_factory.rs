//! `<payloadFactory>` (legacy `$n` form; SYN `mediators/transform/PayloadFactoryMediator.java` and
//! `pfutils/*`): the `<format>` template with `$1..$n` replaced by the `<arg>` values in order, set
//! as the new payload, with `messageType`/`ContentType` set to the media type and `NO_ENTITY_BODY`
//! cleared.
//!
//! Argument values as MI inserts them: for `media-type="xml"` a value that is itself XML is inserted
//! as markup (unless `literal="true"` or `deepCheck="false"`) and any other value is escaped; for
//! `json`, a value that is XML (an XPath selecting an element) is converted to JSON, and strings
//! are inserted with JSON's special characters escaped but without quotes (templates write `"$1"`);
//! for `text` values go in as they are. A `value` argument that is not XML is XML-escaped first,
//! whatever the media type (`TemplateProcessor.getArgValues`: `a&b` is `a&amp;b` in json too).
//!
//! A format with MI 4.4 `${...}` placeholders (template-type `default`, which is also MI's engine
//! when no template-type is given: SYN `pfutils/RegexTemplateProcessor.java`) is rendered by
//! [`PayloadTemplate`]: `"${e}"` and `${e}` with MI's escaping, `$n` with the argument values as
//! above. A format without `${` is rendered as before.
//!
//! `template-type="freemarker"` formats are compiled FreeMarker templates ([`crate::freemarker`])
//! rendered over MI's data model (SYN `pfutils/FreeMarkerTemplateProcessor.java`): `payload`
//! (JSON as hashes and sequences, XML as a DOM, text as an XML-escaped string), `args.argN` (the
//! `<args>` values prepared as for `$n`), `ctx`, `axis2`, `trp` and `vars` as strings. For XML
//! the output's first element inside MI's `<pfPadding>` wrapper is the payload.

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope, props};
use crate::runtime::expr_context::ExprView;
use crate::runtime::payload::{Payload, parse_document};
use crate::runtime::value::ValueSource;
use crate::synapse_expr::{PayloadTemplate, TemplateMedia};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Xml,
    Json,
    Text,
}

impl MediaType {
    pub fn content_type(self) -> &'static str {
        match self {
            MediaType::Xml => "application/xml",
            MediaType::Json => "application/json",
            MediaType::Text => "text/plain",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Arg {
    pub value: ValueSource,
    /// `literal="true"`: never treat the value as XML/JSON.
    pub literal: bool,
    /// `deepCheck="false"`: do not look for XML inside string values.
    pub deep_check: bool,
    /// The payloadFactory's `escapeXmlChars="true"`: JSON text a JSONPath gives goes into a JSON
    /// format with its control characters written as escapes (`TemplateProcessor.escapeXMLSpecialChars`).
    pub escape_xml_chars: bool,
}

impl Arg {
    pub fn literal(value: ValueSource) -> Arg {
        Arg {
            value,
            literal: false,
            deep_check: true,
            escape_xml_chars: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PayloadFactory {
    pub media_type: MediaType,
    pub format: String,
    pub args: Vec<Arg>,
    /// The compiled format: MI 4.4's default template when it has `${...}` placeholders, or a
    /// FreeMarker template; `None` for a plain `$n` format.
    pub template: Option<CompiledFormat>,
}

/// A format compiled at deploy time by one of MI's two template engines.
#[derive(Debug, Clone)]
pub enum CompiledFormat {
    /// template-type `default` (RegexTemplateProcessor) with `${...}` placeholders.
    Default(PayloadTemplate),
    /// template-type `freemarker` (FreeMarkerTemplateProcessor).
    FreeMarker(Arc<crate::freemarker::Template>),
}

impl From<PayloadTemplate> for CompiledFormat {
    fn from(t: PayloadTemplate) -> Self {
        CompiledFormat::Default(t)
    }
}

impl From<Arc<crate::freemarker::Template>> for CompiledFormat {
    fn from(t: Arc<crate::freemarker::Template>) -> Self {
        CompiledFormat::FreeMarker(t)
    }
}

impl PayloadFactory {
    pub fn needs_payload(&self) -> bool {
        // It replaces the body, so it always builds the message (also dropping the old body).
        true
    }

    /// The new payload's text.
    pub fn render<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<String, String> {
        // QUOTE_STRING_IN_PAYLOAD_FACTORY_JSON (default scope): JSON strings get their quotes.
        let quote_strings = ctx.is_true(Scope::Default, QUOTE_STRING_IN_PAYLOAD_FACTORY_JSON);
        if let Some(CompiledFormat::FreeMarker(template)) = &self.template {
            return self.render_freemarker(template, ctx, quote_strings);
        }
        let values = self
            .args
            .iter()
            .map(|a| Ok(self.insertable(a, a.value.resolve(ctx)?, quote_strings)))
            .collect::<Result<Vec<String>, String>>()?;
        if let Some(CompiledFormat::Default(template)) = &self.template {
            // RegexTemplateProcessor.replace: json and text are matched without the XML
            // padding; each media type escapes values its own way.
            let media = match self.media_type {
                MediaType::Xml => TemplateMedia::Xml,
                MediaType::Json => TemplateMedia::Json,
                MediaType::Text => TemplateMedia::Text,
            };
            return template
                .render(&ExprView(ctx), media, &values)
                .map_err(|e| e.message().to_string());
        }
        let mut out = String::with_capacity(self.format.len());
        let mut chars = self.format.char_indices().peekable();
        while let Some((_, c)) = chars.next() {
            if c == '$' {
                let mut digits = String::new();
                while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
                    digits.push(d);
                    chars.next();
                }
                if let Some(v) = digits
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|i| values.get(i))
                {
                    out.push_str(v);
                    continue;
                }
                out.push('$');
                out.push_str(&digits);
                continue;
            }
            out.push(c);
        }
        Ok(out)
    }

    /// The FreeMarker template over MI's data model; for XML, the first element of the output
    /// (PayloadFactoryMediator.mediate parses `<pfPadding>OUTPUT</pfPadding>` and adds its first
    /// child element to the body).
    fn render_freemarker<B: MessageBody>(
        &self,
        template: &crate::freemarker::Template,
        ctx: &MessageContext<B>,
        quote_strings: bool,
    ) -> Result<String, String> {
        use crate::freemarker::{Model, PayloadModel};
        let uses = template.uses;
        let xml_text;
        let payload = match &ctx.payload {
            _ if !uses.payload => PayloadModel::None,
            Some(Payload::Json(json)) => PayloadModel::Json(json.value()),
            Some(p @ Payload::Xml { .. }) => {
                xml_text = p.body_xml();
                PayloadModel::Xml(&xml_text)
            }
            Some(Payload::Text(text)) => PayloadModel::Text(text),
            _ => PayloadModel::None,
        };
        let args = if uses.args {
            self.args
                .iter()
                .map(|a| Ok(self.insertable(a, a.value.resolve(ctx)?, quote_strings)))
                .collect::<Result<Vec<String>, String>>()?
        } else {
            Vec::new()
        };
        let sorted = |mut entries: Vec<(String, String)>| {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            entries
        };
        let ctx_props = if uses.ctx {
            sorted(
                ctx.properties
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )
        } else {
            Vec::new()
        };
        let axis2 = if uses.axis2 {
            let mut entries: Vec<(String, String)> = ctx
                .axis2
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            // What MI's ServerWorker sets on every request, answered from the message here.
            for name in [props::MESSAGE_TYPE, props::CONTENT_TYPE, props::HTTP_METHOD] {
                if !ctx.axis2.contains_key(name)
                    && let Some(v) = ctx.get(Scope::Axis2, name)
                {
                    entries.push((name.to_string(), v));
                }
            }
            sorted(entries)
        } else {
            Vec::new()
        };
        let trp = if uses.trp {
            let mut entries: Vec<(String, String)> = Vec::new();
            for (name, value) in &ctx.headers {
                if let Ok(v) = value.to_str()
                    && !entries.iter().any(|(k, _)| k == name.as_str())
                {
                    entries.push((name.as_str().to_string(), v.to_string()));
                }
            }
            sorted(entries)
        } else {
            Vec::new()
        };
        let vars = if uses.vars {
            sorted(
                ctx.variables
                    .iter()
                    .filter(|(_, v)| !matches!(v, crate::synapse_expr::ExprValue::Null))
                    .map(|(k, v)| (k.clone(), v.java_to_string()))
                    .collect(),
            )
        } else {
            Vec::new()
        };
        let model = Model {
            payload,
            args,
            ctx: ctx_props,
            axis2,
            trp,
            vars,
        };
        let out = template.render(&model).map_err(|e| e.to_string())?;
        let out = out.trim();
        if self.media_type != MediaType::Xml {
            return Ok(out.to_string());
        }
        let wrapped;
        let padded = if template.has_header() {
            wrapped = format!("<pfPadding>{out}</pfPadding>");
            wrapped.as_str()
        } else {
            out
        };
        let doc = parse_document(padded)
            .map_err(|e| format!("Error creating SOAP Envelope from source {padded}: {e}"))?;
        match doc.root_element().children().find(|c| c.is_element()) {
            Some(first) => Ok(crate::xpath::serialize(first)),
            None => Err("Generated content is not a valid XML payload".to_string()),
        }
    }

    /// An argument's value as it goes into the template (pfutils `TemplateProcessor.prepareReplacementValue`).
    fn insertable(&self, arg: &Arg, value: String, quote_strings: bool) -> String {
        use crate::synapse_expr::{escape_xml10, is_xml};
        // TemplateProcessor.getArgValues: a `value` argument that is not XML is escaped with
        // escapeXml10 whatever the media type, so `a&b` goes into json and text as `a&amp;b`.
        let value = if matches!(arg.value, ValueSource::Literal(_))
            && self.media_type != MediaType::Xml
            && !is_xml(&value)
        {
            escape_xml10(&value)
        } else {
            value
        };
        // getArgValues copies `literal` into the argument's details for expressions only: a
        // `value` argument is never literal, whatever its attribute says.
        let literal = arg.literal && !matches!(arg.value, ValueSource::Literal(_));
        let trimmed = value.trim();
        let looks_xml = !literal && trimmed.starts_with('<');
        match self.media_type {
            MediaType::Xml => {
                // TemplateProcessor.isXML builds the value's first element only, so several
                // sibling elements (an XPath selecting a list) go in as markup too.
                if looks_xml
                    && arg.deep_check
                    && (parse_document(trimmed).is_ok()
                        || parse_document(&format!("<w>{trimmed}</w>")).is_ok())
                {
                    value
                } else if !literal
                    && matches!(arg.value, ValueSource::Json(_))
                    && let Ok(json @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) =
                        serde_json::from_str::<serde_json::Value>(&value)
                {
                    strip_json_root(&crate::runtime::payload::json_as_xml(&json))
                } else {
                    // getArgValues: escapeXml10 (quotes and apostrophes too; characters XML 1.0
                    // cannot hold are dropped).
                    escape_xml10(&value)
                }
            }
            MediaType::Json => {
                // XML (one element or several, as an XPath selecting siblings gives) is converted
                // inside a <jsonObject> wrapper, which the conversion unwraps (convertXmlArgumentToJson).
                let wrapped = format!("<jsonObject>{trimmed}</jsonObject>");
                if looks_xml && let Ok(doc) = parse_document(&wrapped) {
                    crate::json::xml_to_json_text(doc.root_element())
                } else if !literal && (trimmed.starts_with('{') || trimmed.starts_with('[')) {
                    // JSON text (from json-eval, a property, an XPath) goes in as it is; with
                    // escapeXmlChars, JSONPath text gets its control characters escaped.
                    if arg.escape_xml_chars && matches!(arg.value, ValueSource::Json(_)) {
                        escape_control_chars(&value)
                    } else {
                        value
                    }
                } else if quote_strings && !is_json_scalar(trimmed) {
                    format!("\"{}\"", escape_json(&value))
                } else {
                    escape_json(&value)
                }
            }
            MediaType::Text => value,
        }
    }

    pub fn apply<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<(), String> {
        let text = self.render(ctx)?;
        let payload = match self.media_type {
            MediaType::Xml => {
                // MI turns the text into AXIOM (PayloadFactoryMediator.convertStringToOM) and
                // writes that: empty elements as `<a/>`, namespaces declared where needed.
                let doc = parse_document(text.trim()).map_err(|e| {
                    format!("payloadFactory produced XML that is not well-formed: {e}")
                })?;
                let root = doc.root_element();
                let text = crate::xpath::serialize(root);
                // In the message no default namespace is in scope: `xmlns=""` is redundant there.
                let text =
                    match text.strip_prefix(&format!("<{} xmlns=\"\"", root.tag_name().name())) {
                        Some(rest) if root.tag_name().namespace().is_none_or(str::is_empty) => {
                            format!("<{}{rest}", root.tag_name().name())
                        }
                        _ => text,
                    };
                let mut p = ctx.payload.take().unwrap_or(Payload::Empty);
                // A format that is a whole envelope replaces the envelope; otherwise the body.
                p.set_body_xml(&text).map_err(|e| {
                    format!("payloadFactory produced XML that is not well-formed: {e}")
                })?;
                p
            }
            // A format that renders to nothing (or only spaces: MI's look-ahead counts only ' '
            // as empty) gives an empty JSON payload, not an error (JsonUtil.getNewJsonPayload
            // returns null for an empty stream; PayloadFactoryMediator carries on).
            MediaType::Json if text.bytes().all(|b| b == b' ') => Payload::Empty,
            MediaType::Json => match serde_json::from_str(&text) {
                Ok(value) => {
                    Payload::Json(crate::runtime::payload::JsonPayload::with_text(value, text))
                }
                // MI stores the rendered text as the JSON stream after looking at its first
                // significant character only (JsonUtil.getNewJsonPayload), so templates such as
                // `{Hello World}` or trailing commas go out as written. So does Conflux, with a
                // warning; a mediator that later reads it as JSON fails, as in MI.
                Err(e) if json_stream_can_start(&text) => {
                    tracing::warn!(
                        target: "conflux::mediation",
                        "{{{}}} payloadFactory produced text that is not strict JSON ({e}); it is sent as it is, as MI does: {}",
                        ctx.artifact,
                        text.trim()
                    );
                    Payload::Text(text)
                }
                Err(e) => {
                    return Err(format!(
                        "payloadFactory produced JSON that is not valid: {e}: {text}"
                    ));
                }
            },
            MediaType::Text => Payload::Text(text),
        };
        ctx.set_payload(payload);
        // MI keeps an XML/SOAP message type for XML output and switches any other to the
        // media type's, a whole-envelope format included (PayloadFactoryMediator.setContentType).
        let current_is_xml = ctx
            .get(Scope::Axis2, props::MESSAGE_TYPE)
            .or_else(|| ctx.get(Scope::Transport, "Content-Type"))
            .is_some_and(|t| crate::runtime::payload::ContentKind::of(&t).is_xml());
        if !(self.media_type == MediaType::Xml && current_is_xml) {
            let ct = self.media_type.content_type().to_string();
            ctx.set(Scope::Axis2, props::MESSAGE_TYPE, ct.clone())?;
            ctx.set(Scope::Axis2, props::CONTENT_TYPE, ct)?;
        }
        ctx.remove(Scope::Axis2, props::NO_ENTITY_BODY);
        Ok(())
    }
}

/// Whether MI's JSON builder accepts `text` as a JSON stream: it skips to the first character that
/// can start a JSON value (`{`, `[`, `"`, `t`, `n`, `f`, `-` or a digit) and needs one
/// (JsonUtil.getNewJsonPayload).
fn json_stream_can_start(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c, '{' | '[' | '"' | 't' | 'n' | 'f' | '-' | '0'..='9'))
}

/// `<jsonObject>..</jsonObject>` -> its content, for a JSON object inserted into an XML template.
fn strip_json_root(xml: &str) -> String {
    xml.strip_prefix("<jsonObject>")
        .and_then(|s| s.strip_suffix("</jsonObject>"))
        .unwrap_or(xml)
        .to_string()
}

/// The property that makes payloadFactory quote string arguments in JSON templates.
pub const QUOTE_STRING_IN_PAYLOAD_FACTORY_JSON: &str = "QUOTE_STRING_IN_PAYLOAD_FACTORY_JSON";

/// `true`, `false`, `null` or a JSON number: what MI leaves unquoted (TemplateProcessor.validJsonNumber).
fn is_json_scalar(s: &str) -> bool {
    matches!(s, "true" | "false" | "null")
        || (!s.is_empty() && serde_json::from_str::<serde_json::Number>(s).is_ok())
}

/// JSON string escaping without the quotes.
/// TemplateProcessor.escapeXMLSpecialChars: `\b \f \n \r \t` become JSON escapes, nothing else.
fn escape_control_chars(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out
}

fn escape_json(s: &str) -> String {
    let quoted = serde_json::Value::String(s.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn escape_xml_chars_escapes_control_characters_of_json_path_text_only() {
        // MI test JSONPayloadXMLSpecialCharEscapeTest: `< > &` stay, CR LF become `\r\n`.
        assert_eq!(
            escape_control_chars("{\"a\": \"< > &,\r\nb\t\u{8}\u{c}\"}"),
            "{\"a\": \"< > &,\\r\\nb\\t\\b\\f\"}"
        );
        let pf = PayloadFactory {
            template: None,
            media_type: MediaType::Json,
            format: "$1".into(),
            args: Vec::new(),
        };
        let json_arg = |escape| Arg {
            value: ValueSource::compile_json_path("$.t").unwrap(),
            literal: false,
            deep_check: true,
            escape_xml_chars: escape,
        };
        let text = "{\"c\": \"x\ny\"}".to_string();
        assert_eq!(
            pf.insertable(&json_arg(true), text.clone(), false),
            "{\"c\": \"x\\ny\"}"
        );
        assert_eq!(pf.insertable(&json_arg(false), text.clone(), false), text);
    }

    fn ctx() -> MessageContext<http_body_util::Full<bytes::Bytes>> {
        crate::runtime::context::test_context(Method::GET, "/")
    }

    #[test]
    fn placeholders_are_filled_in_order_and_escaped_for_xml() {
        let mut ctx = ctx();
        ctx.set(Scope::Default, "uri.var.name", "<Tom & Jerry>".into())
            .unwrap();
        let pf = PayloadFactory {
            template: None,
            media_type: MediaType::Xml,
            format: "<hello><name>$1</name><cost>$10 $2</cost></hello>".into(),
            args: vec![
                Arg::literal(ValueSource::Property(Scope::Default, "uri.var.name".into())),
                Arg::literal(ValueSource::Literal("x".into())),
            ],
        };
        assert_eq!(
            pf.render(&ctx).unwrap(),
            "<hello><name>&lt;Tom &amp; Jerry&gt;</name><cost>$10 x</cost></hello>"
        );
    }

    // pfutils: XML values go in as markup for xml, JSON strings are escaped but not quoted.
    #[test]
    fn values_cross_media_types_as_mi_does() {
        let mut ctx = ctx();
        ctx.set(Scope::Default, "q", "say \"hi\"".into()).unwrap();
        let xml = PayloadFactory {
            template: None,
            media_type: MediaType::Xml,
            format: "<r>$1</r>".into(),
            args: vec![Arg::literal(ValueSource::Literal("<a>1</a>".into()))],
        };
        assert_eq!(xml.render(&ctx).unwrap(), "<r><a>1</a></r>");
        // `literal="true"` keeps an expression's XML text as text; a `value` is never literal.
        ctx.set(Scope::Default, "x", "<a>1</a>".into()).unwrap();
        let mut literal = Arg::literal(ValueSource::Property(Scope::Default, "x".into()));
        literal.literal = true;
        let mut literal_value = Arg::literal(ValueSource::Literal("<a>1</a>".into()));
        literal_value.literal = true;
        let xml_literal = PayloadFactory {
            args: vec![literal, literal_value],
            format: "<r>$1$2</r>".into(),
            ..xml
        };
        assert_eq!(
            xml_literal.render(&ctx).unwrap(),
            "<r>&lt;a&gt;1&lt;/a&gt;<a>1</a></r>"
        );
        let json = PayloadFactory {
            template: None,
            media_type: MediaType::Json,
            format: "{\"n\":\"$1\"}".into(),
            args: vec![Arg::literal(ValueSource::Property(
                Scope::Default,
                "q".into(),
            ))],
        };
        assert_eq!(json.render(&ctx).unwrap(), "{\"n\":\"say \\\"hi\\\"\"}");
    }

    // TemplateProcessor.getArgValues escapes a `value` argument with escapeXml10 unless it is
    // XML, for every media type (an expression's value only for xml).
    #[test]
    fn value_arguments_are_xml_escaped_for_every_media_type() {
        let mut ctx = ctx();
        ctx.set(Scope::Default, "p", "a&b".into()).unwrap();
        let pf = |media_type, format: &str| PayloadFactory {
            template: None,
            media_type,
            format: format.into(),
            args: vec![
                Arg::literal(ValueSource::Literal("say \"hi\" & 'bye' <now>".into())),
                Arg::literal(ValueSource::Property(Scope::Default, "p".into())),
                Arg::literal(ValueSource::Literal("<a>1</a>".into())),
            ],
        };
        assert_eq!(
            pf(MediaType::Text, "$1|$2|$3").render(&ctx).unwrap(),
            "say &quot;hi&quot; &amp; &apos;bye&apos; &lt;now&gt;|a&b|<a>1</a>"
        );
        assert_eq!(
            pf(MediaType::Json, "[\"$1\", \"$2\", $3]")
                .render(&ctx)
                .unwrap(),
            "[\"say &quot;hi&quot; &amp; &apos;bye&apos; &lt;now&gt;\", \"a&b\", {\"a\":1}]"
        );
        assert_eq!(
            pf(MediaType::Xml, "<r v=\"$1\">$2</r>")
                .render(&ctx)
                .unwrap(),
            "<r v=\"say &quot;hi&quot; &amp; &apos;bye&apos; &lt;now&gt;\">a&amp;b</r>"
        );
    }

    // TemplateProcessor: JSON text from a property goes in raw; several elements convert together;
    // QUOTE_STRING_IN_PAYLOAD_FACTORY_JSON quotes strings but not numbers/booleans/null.
    #[test]
    fn json_templates_take_json_text_xml_lists_and_quoted_strings() {
        let mut c = ctx();
        c.set(Scope::Default, "j", "{\"x\": 1}".into()).unwrap();
        let pf = |format: &str, args: Vec<Arg>| PayloadFactory {
            template: None,
            media_type: MediaType::Json,
            format: format.into(),
            args,
        };
        let property = Arg::literal(ValueSource::Property(Scope::Default, "j".into()));
        assert_eq!(
            pf("{\"wrap\": $1}", vec![property]).render(&c).unwrap(),
            "{\"wrap\": {\"x\": 1}}"
        );
        let items = Arg::literal(ValueSource::Literal("<item>1</item><item>2</item>".into()));
        assert_eq!(
            pf("$1", vec![items]).render(&c).unwrap(),
            "{\"item\":[1,2]}"
        );
        c.set(
            Scope::Default,
            QUOTE_STRING_IN_PAYLOAD_FACTORY_JSON,
            "true".into(),
        )
        .unwrap();
        let args = vec![
            Arg::literal(ValueSource::Literal("x".into())),
            Arg::literal(ValueSource::Literal("12.5".into())),
            Arg::literal(ValueSource::Literal("true".into())),
        ];
        assert_eq!(
            pf("[$1, $2, $3]", args).render(&c).unwrap(),
            "[\"x\", 12.5, true]"
        );
    }

    #[test]
    fn applying_sets_the_payload_and_message_type() {
        let mut c = ctx();
        let json = PayloadFactory {
            template: None,
            media_type: MediaType::Json,
            format: "{\"a\": $1}".into(),
            args: vec![Arg::literal(ValueSource::Literal("5".into()))],
        };
        json.apply(&mut c).unwrap();
        assert_eq!(
            c.payload,
            Some(Payload::Json(serde_json::json!({"a": 5}).into()))
        );
        assert_eq!(
            c.get(Scope::Axis2, props::MESSAGE_TYPE).as_deref(),
            Some("application/json")
        );
    }

    // MI looks only at the first significant character of a JSON template's output
    // (JsonUtil.getNewJsonPayload): `{Hello World}`, unquoted strings and trailing commas go out
    // as written, with application/json.
    #[test]
    fn json_that_is_not_strict_goes_out_as_written() {
        let mut c = ctx();
        for format in ["{Hello World}", "{\"a\": $1,}", "{\"a\": $1"] {
            let lenient = PayloadFactory {
                template: None,
                media_type: MediaType::Json,
                format: format.into(),
                args: vec![Arg::literal(ValueSource::Literal("5".into()))],
            };
            lenient.apply(&mut c).unwrap();
            assert_eq!(
                c.payload,
                Some(Payload::Text(format.replace("$1", "5"))),
                "{format}"
            );
            assert_eq!(
                c.get(Scope::Axis2, props::MESSAGE_TYPE).as_deref(),
                Some("application/json")
            );
        }
        let nothing_json = PayloadFactory {
            template: None,
            media_type: MediaType::Json,
            format: "Hello World".into(),
            args: vec![],
        };
        assert!(nothing_json.apply(&mut c).is_err());
    }

    // SetPropertyMessageBuilderInvokedWithEmptyContentTypeTestCase: `<format/>` with media-type
    // json is an empty JSON payload (JsonUtil.getNewJsonPayload: an empty or all-space stream is
    // no payload, not an error); a newline is not "empty" there and stays an error.
    #[test]
    fn an_empty_json_format_is_an_empty_payload() {
        let mut c = ctx();
        for format in ["", "   "] {
            let empty = PayloadFactory {
                template: None,
                media_type: MediaType::Json,
                format: format.into(),
                args: vec![],
            };
            empty.apply(&mut c).unwrap();
            assert_eq!(c.payload, Some(Payload::Empty), "{format:?}");
            assert_eq!(
                c.get(Scope::Axis2, props::MESSAGE_TYPE).as_deref(),
                Some("application/json")
            );
        }
        let newline = PayloadFactory {
            template: None,
            media_type: MediaType::Json,
            format: "\n".into(),
            args: vec![],
        };
        assert!(newline.apply(&mut c).is_err());
    }

    mod freemarker_template {
        //! template-type="freemarker" through whole artifacts (PayloadFactoryMediator.mediate).
        use crate::runtime::expr_context::test_support::*;
        use http::StatusCode;

        // The XML result is the first element inside <pfPadding>; text around it is dropped.
        #[tokio::test]
        async fn xml_output_is_the_first_element() {
            let d = deployed(&[(
                "api/F.xml",
                &api(
                    "F",
                    r#"<payloadFactory media-type="xml" template-type="freemarker"><format><![CDATA[ignored <a n="${payload.n?c}">${payload.s}</a><b/>]]></format></payloadFactory><respond/>"#,
                    "",
                ),
            )]);
            let (status, headers, body) = call(
                &d,
                "POST",
                "/F/x",
                Some("application/json"),
                r#"{"n": 1500, "s": "x"}"#,
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(headers[http::header::CONTENT_TYPE], "application/xml");
            assert_eq!(body, r#"<a n="1500">x</a>"#);
        }

        // No element in the output: MI's "Generated content is not a valid XML payload".
        #[tokio::test]
        async fn xml_output_without_an_element_is_a_fault() {
            let d = deployed(&[(
                "api/G.xml",
                &api(
                    "G",
                    r#"<payloadFactory media-type="xml" template-type="freemarker"><format><![CDATA[just ${payload.s}]]></format></payloadFactory><respond/>"#,
                    "",
                ),
            )]);
            let (status, _, body) = call(
                &d,
                "POST",
                "/G/x",
                Some("application/json"),
                r#"{"s": "text"}"#,
            )
            .await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert!(
                body.contains("Generated content is not a valid XML payload"),
                "{body}"
            );
        }

        // <format key>: the template is a local entry's text (compiled at deploy too).
        #[tokio::test]
        async fn a_template_from_a_local_entry() {
            let d = deployed(&[
                (
                    "local-entries/tpl.xml",
                    r#"<localEntry key="tpl" xmlns="http://ws.apache.org/ns/synapse"><![CDATA[{"a": "${payload.a?upper_case}"}]]></localEntry>"#,
                ),
                (
                    "api/K.xml",
                    &api(
                        "K",
                        r#"<payloadFactory media-type="json" template-type="freemarker"><format key="tpl"/></payloadFactory><respond/>"#,
                        "",
                    ),
                ),
            ]);
            let (status, _, body) = call(
                &d,
                "POST",
                "/K/x",
                Some("application/json"),
                r#"{"a": "b"}"#,
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, r#"{"a": "B"}"#);
        }

        // A syntax error fails the deployment, with the template's line and column.
        #[test]
        fn a_syntax_error_fails_the_deployment() {
            let (_, errors) = deploy(&[(
                "api/H.xml",
                &api(
                    "H",
                    r#"<payloadFactory media-type="json" template-type="freemarker"><format><![CDATA[{
  <#list payload.a as x>${x}</#lst>
}]]></format></payloadFactory>"#,
                    "",
                ),
            )]);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(
                errors[0].message,
                "payloadFactory FreeMarker template: unexpected </#lst> at template line 2, column 29"
            );
        }
    }

    mod default_template {
        //! template-type="default" (and no template-type: MI's RegexTemplateProcessor either
        //! way) through whole artifacts.
        use crate::runtime::expr_context::test_support::*;
        use http::StatusCode;

        // MI PayloadFactorySynapseExpressionTestCase.testPayloadFactoryJsonToJson with the 4.4 GA
        // spelling (`vars.`): quoted placeholders are JSON strings (objects escaped into
        // them), unquoted ones go in as JSON.
        #[tokio::test]
        async fn json_to_json_quoted_and_unquoted() {
            let d = deployed(&[(
                "api/P.xml",
                &api(
                    "P",
                    r#"<variable name="id" value="123" type="INTEGER"/><payloadFactory media-type="json" template-type="default"><format><![CDATA[{
  "variable": ${vars.id},
  "username": "${payload.customer_name}",
  "escapedVariable": "${vars.id}",
  "bool": ${payload.path},
  "escapedBool": "${payload.path}",
  "escapedObject": "${payload.pet}",
  "object": ${payload.pet},
  "arg": "$1"
}]]></format><args><arg expression="json-eval($.pet.name)"/></args></payloadFactory><respond/>"#,
                    "",
                ),
            )]);
            let request = "{\"customer_name\": \"[]John&\\nDoe]\", \"pet\": {\"type\": \"cat\\n\\rdog\", \"name\": \"john\"}, \"path\": true}";
            let (status, headers, body) =
                call(&d, "POST", "/P/x", Some("application/json"), request).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(headers[http::header::CONTENT_TYPE], "application/json");
            let got: serde_json::Value = serde_json::from_str(&body).expect(&body);
            assert_eq!(
                got,
                serde_json::json!({
                    "variable": 123,
                    "username": "[]John&\nDoe]",
                    "escapedVariable": "123",
                    "bool": true,
                    "escapedBool": "true",
                    "escapedObject": "{\"type\":\"cat\\n\\rdog\",\"name\":\"john\"}",
                    "object": {"type": "cat\n\rdog", "name": "john"},
                    "arg": "john"
                })
            );
        }

        // media-type xml: strings XML-escaped, a JSON object converted to XML, an XML string
        // inserted as markup; no template-type is the same engine.
        #[tokio::test]
        async fn xml_media_type() {
            let d = deployed(&[(
                "api/Q.xml",
                &api(
                    "Q",
                    r#"<variable name="user" value="123&lt;456"/><variable name="fruit" value="&lt;fruit&gt;apple&lt;/fruit&gt;" type="XML"/><payloadFactory media-type="xml"><format><order xmlns=""><user>${vars.user}</user><load>${vars.fruit}</load><data>${payload.pet}</data><n id="${payload.n}">$1</n></order></format><args><arg value="a&amp;b"/></args></payloadFactory><respond/>"#,
                    "",
                ),
            )]);
            let (status, _, body) = call(
                &d,
                "POST",
                "/Q/x",
                Some("application/json"),
                r#"{"pet": {"type": "cat&", "name": "tom"}, "n": 5}"#,
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                body,
                r#"<order><user>123&lt;456</user><load><fruit>apple</fruit></load><data><type>cat&amp;</type><name>tom</name></data><n id="5">a&amp;b</n></order>"#
            );
        }

        // RegexTemplateProcessor.init: an invalid placeholder fails the deployment.
        #[test]
        fn an_invalid_placeholder_fails_the_deployment() {
            let (_, errors) = deploy(&[(
                "api/R.xml",
                &api(
                    "R",
                    r#"<payloadFactory media-type="json"><format>{"a": ${5-3}}</format></payloadFactory>"#,
                    "",
                ),
            )]);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert!(
                errors[0].message.starts_with("Invalid Payload format : "),
                "{errors:?}"
            );
        }
    }
}
