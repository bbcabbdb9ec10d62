//! Values that mediators read, compiled when the artifact deploys: a literal; a property reference
//! in one of MI's short forms (`get-property('name')`, `get-property('scope', 'name')`, `$ctx:name`,
//! `$axis2:name`, `$trp:name`, `$url:name`), answered without any parsing per message; an XPath 1.0
//! expression with Synapse's functions and variables ([`crate::xpath`]); or a `json-eval(...)`
//! JSONPath ([`crate::json`]); or an MI 4.4 Synapse expression, an attribute that is a whole `${...}`
//! (SYN `config/xml/SynapsePathFactory.java`), evaluated by [`crate::synapse_expr`].
//!
//! Whether a value needs the message payload is known at deploy time ([`ValueSource::needs_payload`]):
//! the engine reads a body only for a mediator that needs it, so sequences of property references
//! keep the body streaming.

use std::borrow::Cow;

use conflux_artifacts::Expression;

use crate::json::{JsonEval, JsonSource};
use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope};
use crate::runtime::expr_context::ScopedExpression;
use crate::runtime::payload::{Payload, parse_document};
use crate::xpath::{XPath, XPathEnv};

/// A value resolved per message.
#[derive(Debug, Clone)]
pub enum ValueSource {
    Literal(String),
    Property(Scope, String),
    /// A query parameter of the request (`$url:name`).
    QueryParam(String),
    XPath(XPath),
    Json(JsonEval),
    /// `${...}`: read with MI's `stringValueOf` (an evaluation error MI catches is logged and
    /// reads as ""; one it does not catch faults the message).
    Synapse(ScopedExpression),
}

impl ValueSource {
    /// Compiles an expression as written in an artifact; `Err` says what is wrong with it.
    pub fn compile(expr: &Expression) -> Result<ValueSource, String> {
        Self::compile_text(&expr.text, &expr.namespaces)
    }

    /// Compiles expression text with the namespace prefixes in scope where it was written.
    pub fn compile_text(
        text: &str,
        namespaces: &[(String, String)],
    ) -> Result<ValueSource, String> {
        if let Some(inner) = crate::synapse_expr::whole_expression(text) {
            return ScopedExpression::compile(inner, namespaces).map(ValueSource::Synapse);
        }
        if let Some(short) = short_form(text) {
            return Ok(short);
        }
        let t = text.trim();
        if t.starts_with("json-eval(") {
            return JsonEval::compile(t)
                .map(ValueSource::Json)
                .map_err(|e| format!("invalid json-eval expression {t:?}: {e}"));
        }
        XPath::compile(t, namespaces)
            .map(ValueSource::XPath)
            .map_err(|e| format!("invalid XPath expression: {e}"))
    }

    /// Compiles a JSONPath given without the `json-eval(...)` wrapper (`evaluator="json"`).
    pub fn compile_json_path(text: &str) -> Result<ValueSource, String> {
        JsonEval::compile(text.trim())
            .map(ValueSource::Json)
            .map_err(|e| format!("invalid JSONPath {:?}: {e}", text.trim()))
    }

    /// Whether resolving this value reads the message payload.
    pub fn needs_payload(&self) -> bool {
        match self {
            ValueSource::Literal(_) | ValueSource::Property(..) | ValueSource::QueryParam(_) => {
                false
            }
            ValueSource::XPath(x) => x.needs_payload(),
            ValueSource::Json(j) => matches!(j.source(), JsonSource::Body),
            ValueSource::Synapse(e) => e.needs_payload(),
        }
    }

    /// The value for this message; an unset property reads as the empty string, as in MI.
    pub fn resolve<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<String, String> {
        match self {
            ValueSource::Literal(s) => Ok(s.clone()),
            ValueSource::Property(scope, name) => {
                Ok(ctx.get_string(*scope, name).unwrap_or_default())
            }
            ValueSource::QueryParam(name) => Ok(query_param(ctx, name).unwrap_or_default()),
            ValueSource::XPath(x) => with_envelope(ctx, x.needs_payload(), |doc| {
                x.string_value(doc, &CtxEnv(ctx)).map_err(|e| e.to_string())
            }),
            ValueSource::Json(j) => {
                let j = inline_resolved(j, ctx)?;
                if let Some(text) = whole_body_text(ctx, &j) {
                    return Ok(text);
                }
                Ok(match json_input(ctx, &j) {
                    Some(root) => j.string_value(&root),
                    None => String::new(),
                })
            }
            ValueSource::Synapse(e) => e.string_value(ctx),
        }
    }

    /// The value as MI's `objectValueOf` gives it: a Synapse expression's raw value with its Java
    /// type; any other expression's string value, as a String.
    pub fn object_value<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
    ) -> Result<crate::synapse_expr::ExprValue, String> {
        match self {
            ValueSource::Synapse(e) => e.object_value(ctx),
            other => other
                .resolve(ctx)
                .map(crate::synapse_expr::ExprValue::String),
        }
    }

    /// The value, or `None` for a property reference (`get-property`, `$ctx:`, `$trp:`...) that is
    /// not set: Synapse's `SynapseXPath.stringValueOf` returns null for it, which the log mediator
    /// writes as `null` (LogMediator.setCustomProperties appends the null).
    pub fn resolve_optional<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
    ) -> Result<Option<String>, String> {
        match self {
            ValueSource::Property(scope, name) => Ok(ctx.get_string(*scope, name)),
            ValueSource::QueryParam(name) => Ok(query_param(ctx, name)),
            other => other.resolve(ctx).map(Some),
        }
    }

    /// The value as a condition (filter `xpath=`): XPath's boolean(), a JSONPath result that is
    /// `true` or non-empty, or for `${...}` `Boolean.parseBoolean` of its string value (SYN
    /// `mediators/filters/FilterMediator.java`).
    pub fn truth<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<bool, String> {
        match self {
            ValueSource::XPath(x) => with_envelope(ctx, x.needs_payload(), |doc| {
                x.boolean_value(doc, &CtxEnv(ctx))
                    .map_err(|e| e.to_string())
            }),
            ValueSource::Json(j) => {
                let j = inline_resolved(j, ctx)?;
                Ok(match json_input(ctx, &j) {
                    Some(root) => match j.evaluate(&root) {
                        Some(serde_json::Value::Bool(b)) => b,
                        Some(serde_json::Value::Array(a)) => !a.is_empty(),
                        Some(serde_json::Value::Null) | None => false,
                        Some(_) => true,
                    },
                    None => false,
                })
            }
            ValueSource::Synapse(e) => Ok(e.string_value(ctx)?.eq_ignore_ascii_case("true")),
            other => {
                let v = other.resolve(ctx)?;
                Ok(!v.is_empty() && !v.eq_ignore_ascii_case("false"))
            }
        }
    }

    /// The expression's text, for messages.
    pub fn describe(&self) -> Cow<'_, str> {
        match self {
            ValueSource::Literal(s) => Cow::Borrowed(s),
            ValueSource::Property(_, name) => Cow::Owned(format!("get-property('{name}')")),
            ValueSource::QueryParam(name) => Cow::Owned(format!("$url:{name}")),
            ValueSource::XPath(x) => Cow::Borrowed(x.text()),
            ValueSource::Json(j) => Cow::Borrowed(j.text()),
            ValueSource::Synapse(e) => Cow::Owned(e.to_string()),
        }
    }
}

/// A json-eval with inline `{...}` parts (`json-eval({$ctx:name})`) with them replaced for this
/// message (Synapse util/xpath/SynapseJsonPath.java stringValueOf,
/// InlineExpressionUtil.replaceDynamicValuesForJSONPath); the path itself otherwise.
fn inline_resolved<'j, B: MessageBody>(
    j: &'j JsonEval,
    ctx: &MessageContext<B>,
) -> Result<Cow<'j, JsonEval>, String> {
    if !j.has_inline_expressions() {
        return Ok(Cow::Borrowed(j));
    }
    j.with_inline_values(&mut |expr| ValueSource::compile_text(expr, &[])?.resolve(ctx))
        .map(Cow::Owned)
}

/// The short property-reference forms, recognised before anything is parsed as XPath so that
/// the common case costs one map look-up per message.
fn short_form(text: &str) -> Option<ValueSource> {
    let t = text.trim();
    for (prefix, scope) in [
        ("$ctx:", Scope::Default),
        ("$axis2:", Scope::Axis2),
        ("$trp:", Scope::Transport),
    ] {
        if let Some(name) = t.strip_prefix(prefix)
            && is_name(name)
        {
            return Some(ValueSource::Property(scope, name.to_string()));
        }
    }
    if let Some(name) = t.strip_prefix("$url:")
        && is_name(name)
    {
        return Some(ValueSource::QueryParam(name.to_string()));
    }
    let args = t.strip_prefix("get-property(")?.strip_suffix(')')?;
    let parts: Vec<&str> = args.split(',').map(str::trim).collect();
    let unquote = |s: &str| {
        s.strip_prefix('\'')
            .and_then(|s| s.strip_suffix('\''))
            .or_else(|| s.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
            .filter(|s| is_name(s))
            .map(str::to_string)
    };
    match parts.as_slice() {
        // Special names (To, MessageID, SYSTEM_DATE, ...) are the XPath layer's.
        [name] => unquote(name)
            .filter(|n| !is_special_name(n))
            .map(|n| ValueSource::Property(Scope::Default, n)),
        [scope, name] => {
            let scope = match unquote(scope)?.to_ascii_lowercase().as_str() {
                "default" => Scope::Default,
                "axis2" => Scope::Axis2,
                "transport" => Scope::Transport,
                "operation" => Scope::Operation,
                _ => return None,
            };
            Some(ValueSource::Property(scope, unquote(name)?))
        }
        _ => None,
    }
}

/// Names `get-property('X')` answers from the message rather than from the default scope
/// (SYN `mediators/GetPropertyFunction.java`).
fn is_special_name(name: &str) -> bool {
    matches!(
        name,
        "To" | "From"
            | "Action"
            | "FaultTo"
            | "ReplyTo"
            | "RelatesTo"
            | "MessageID"
            | "FAULT"
            | "MESSAGE_FORMAT"
            | "OperationName"
            | "SYSTEM_DATE"
            | "SYSTEM_TIME"
    )
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// A query parameter of the request URI, decoded.
fn query_param<B>(ctx: &MessageContext<B>, name: &str) -> Option<String> {
    let query = ctx.uri.query()?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k) == name).then(|| decode(v))
    })
}

fn decode(s: &str) -> String {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

/// Runs `f` over the message as a SOAP envelope document (an empty envelope when the payload is
/// not needed or there is none).
pub fn with_envelope<B, R>(
    ctx: &MessageContext<B>,
    needs_payload: bool,
    f: impl FnOnce(&roxmltree::Document) -> Result<R, String>,
) -> Result<R, String> {
    let empty = Payload::Empty;
    let payload = match (&ctx.payload, needs_payload) {
        (Some(p), true) => p,
        _ => &empty,
    };
    let text = payload.envelope_xml();
    let doc =
        parse_document(&text).map_err(|e| format!("the message is not well-formed XML: {e}"))?;
    f(&doc)
}

/// `json-eval($)` over the body: the body's JSON text as it stands, whitespace and all
/// (SynapseJsonPath.stringValueOf with isWholeBody returns the JSON stream's text), or for an XML
/// body the JSON MI's formatter writes for it. `None` for anything else, or once the JSON has been
/// changed (then the compact serialisation is MI's text too).
fn whole_body_text<B>(ctx: &MessageContext<B>, eval: &JsonEval) -> Option<String> {
    if !eval.is_whole() || !matches!(eval.source(), JsonSource::Body) {
        return None;
    }
    match ctx.payload.as_ref()? {
        Payload::Json(json) => json.original_text().map(str::to_string),
        Payload::Empty => None,
        other => {
            let xml = other.body_xml();
            let doc = parse_document(&xml).ok()?;
            Some(crate::json::xml_to_json_text(doc.root_element()))
        }
    }
}

/// The JSON a `json-eval` reads: the payload (an XML payload converted as MI's JSON formatter
/// would), or a property's value parsed as JSON (a value that is not JSON is a JSON string).
/// A JSON payload is read in place, not copied per expression.
///
/// A JSON payload nothing has built yet is read for a member-chain path's members alone
/// (`JsonPayload::member_view`), once; a second read builds it.
fn json_input<'c, B>(
    ctx: &'c MessageContext<B>,
    eval: &JsonEval,
) -> Option<Cow<'c, serde_json::Value>> {
    match eval.source() {
        JsonSource::Body => match ctx.payload.as_ref()? {
            Payload::Json(v) if !v.is_built() => Some(
                match eval.member_chain().and_then(|names| v.member_view(&names)) {
                    Some(view) => Cow::Owned(view),
                    None => Cow::Borrowed(v.value()),
                },
            ),
            Payload::Json(v) => Some(Cow::Borrowed(v.value())),
            Payload::Empty => None,
            other => {
                let xml = other.body_xml();
                let doc = parse_document(&xml).ok()?;
                Some(Cow::Owned(crate::json::xml_to_json(doc.root_element())))
            }
        },
        JsonSource::Property { scope, name } => {
            let scope = match scope.as_str() {
                "axis2" => Scope::Axis2,
                "transport" => Scope::Transport,
                _ => Scope::Default,
            };
            let raw = ctx.get(scope, name)?;
            Some(Cow::Owned(
                serde_json::from_str(&raw).unwrap_or(serde_json::Value::String(raw)),
            ))
        }
    }
}

/// The message context as XPath's `get-property()` and `$ctx:`-style variables see it.
pub struct CtxEnv<'c, B>(pub &'c MessageContext<B>);

impl<B> XPathEnv for CtxEnv<'_, B> {
    fn property(&self, scope: &str, name: &str) -> Option<String> {
        let ctx = self.0;
        match scope {
            "default" => match name {
                "To" => Some(if ctx.is_response {
                    String::new()
                } else {
                    ctx.to_address().to_string()
                }),
                "MessageID" => Some(ctx.message_id()),
                // The dispatched Axis2 operation: proxies and APIs without a WSDL operation run
                // Synapse's `mediate` operation (ProxyService / SynapseDispatcher).
                "OperationName" => Some("mediate".to_string()),
                // getWSAAction: wsa:Action, else the SOAPAction Axis2 read on arrival.
                "Action" => ctx.wsa_action(),
                "MESSAGE_FORMAT" => Some(ctx.message_format().to_string()),
                "FAULT" => ctx.properties.get("FAULT").cloned(),
                _ => ctx
                    .default_property(name)
                    .or_else(|| ctx.addressing.get(name).cloned()),
            },
            "axis2" => ctx.get(Scope::Axis2, name),
            "transport" | "trp" => ctx
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            "url" => query_param(ctx, name),
            "operation" => ctx.operation.get(name).cloned(),
            "axis2-client" => ctx.axis2_client.get(name).cloned(),
            // The parameters of the innermost template call (SynapseXPathVariableContext).
            "func" => ctx.func_stack.last()?.get(name, ctx),
            "env" | "system" => std::env::var(name).ok(),
            "registry" => registry_value(&ctx.registry, name),
            _ => None,
        }
    }
}

/// `get-property('registry', 'KEY')` and `get-property('registry', 'KEY@PROP')`
/// (SYN `mediators/GetPropertyFunction.java`, SCOPE_REGISTRY): the key is split at `@` as Java's
/// `String.split` does (trailing empty parts dropped); with a property name, that property of the
/// resource or collection (`MicroIntegratorRegistry.getResourceProperties`; `KEY/@PROP` names
/// the same resource); without, the resource's value: an XML resource's element, a text
/// resource's text, a binary one (a media type other than text/plain) in base64 as Axiom's
/// `OMText.getText()` gives it.
pub(crate) fn registry_value(registry: &conflux_artifacts::Registry, key: &str) -> Option<String> {
    let mut parts: Vec<&str> = key.split('@').collect();
    while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    match parts.as_slice() {
        [path, property] => registry.property(path, property).map(str::to_string),
        [path] => {
            let resource = registry.get(path)?;
            Some(if resource.is_binary() {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.encode(resource.content())
            } else {
                resource.text().into_owned()
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms_skip_the_xpath_engine() {
        assert!(matches!(
            ValueSource::compile_text("get-property('uri.var.id')", &[]).unwrap(),
            ValueSource::Property(Scope::Default, n) if n == "uri.var.id"
        ));
        assert!(matches!(
            ValueSource::compile_text("get-property('axis2', 'HTTP_SC')", &[]).unwrap(),
            ValueSource::Property(Scope::Axis2, n) if n == "HTTP_SC"
        ));
        assert!(matches!(
            ValueSource::compile_text("$trp:Content-Type", &[]).unwrap(),
            ValueSource::Property(Scope::Transport, n) if n == "Content-Type"
        ));
        assert!(matches!(
            ValueSource::compile_text("$url:q", &[]).unwrap(),
            ValueSource::QueryParam(n) if n == "q"
        ));
        // Special names and everything else go to the XPath engine.
        assert!(matches!(
            ValueSource::compile_text("get-property('MessageID')", &[]).unwrap(),
            ValueSource::XPath(_)
        ));
        assert!(matches!(
            ValueSource::compile_text("//a/b", &[]).unwrap(),
            ValueSource::XPath(_)
        ));
        assert!(matches!(
            ValueSource::compile_text("json-eval($.a)", &[]).unwrap(),
            ValueSource::Json(_)
        ));
        assert!(ValueSource::compile_text("//a[", &[]).is_err());
        assert!(ValueSource::compile_text("json-eval($.[)", &[]).is_err());
    }

    // SynapseJsonPath.stringValueOf(InputStream) with isWholeBody: the stream's text as it is
    // (MI test PayloadFactoryXMLJSONTestCase testJSONToJSONConversionWithCarriageReturn).
    #[test]
    fn json_eval_of_the_whole_body_is_the_original_text() {
        let text = "{\n\t\"CaseExchange\": \"workorder\"\n}";
        let mut ctx = crate::runtime::context::test_context(http::Method::POST, "/a");
        ctx.payload =
            Some(Payload::parse(bytes::Bytes::from(text), Some("application/json")).expect("JSON"));
        let whole = ValueSource::compile_text("json-eval($)", &[]).unwrap();
        assert_eq!(whole.resolve(&ctx).unwrap(), text);
        // A path into it is still evaluated.
        let path = ValueSource::compile_text("json-eval($.CaseExchange)", &[]).unwrap();
        assert_eq!(path.resolve(&ctx).unwrap(), "workorder");
        // An XML body: the JSON MI's formatter writes for it (digits as written).
        ctx.payload = Some(Payload::xml("<a><n>25.0000</n></a>".into()).expect("XML"));
        assert_eq!(whole.resolve(&ctx).unwrap(), r#"{"a":{"n":25.0000}}"#);
    }

    mod synapse_expressions {
        //! `${...}` where MI's SynapsePathFactory reads attributes, and `{${...}}` where its
        //! ValueFactory reads dynamic values: through whole artifacts.
        use crate::runtime::expr_context::test_support::*;
        use http::StatusCode;

        const JSON: Option<&str> = Some("application/json");

        // SynapsePathFactory.getSynapsePath: `${` ... `}` is a SynapseExpression; filter reads
        // Boolean.parseBoolean(stringValueOf) (FilterMediator.test), switch and property its
        // string value, header expression too.
        #[tokio::test]
        async fn filter_switch_property_and_header_read_synapse_expressions() {
            let d = deployed(&[(
                "api/E.xml",
                &api(
                    "E",
                    r#"<filter xpath="${payload.qty > 10}"><then><property name="grade" value="big"/></then><else><property name="grade" value="small"/></else></filter>
<switch source="${payload.kind}"><case regex="bo+k"><property name="shelf" expression="${toUpper(payload.kind) + '-' + props.synapse.grade}"/></case><default><property name="shelf" value="none"/></default></switch>
<header name="X-Total" scope="transport" expression="${payload.qty * 2}"/>
<filter source="${headers['X-Total']}" regex="\d+"><then><property name="numeric" value="yes"/></then></filter>
<payloadFactory media-type="text"><format>$1 $2 $3</format><args><arg expression="$ctx:grade"/><arg expression="$ctx:shelf"/><arg expression="$ctx:numeric"/></args></payloadFactory>
<respond/>"#,
                    "",
                ),
            )]);
            let (status, headers, body) =
                call(&d, "POST", "/E/x", JSON, r#"{"qty": 12, "kind": "book"}"#).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, "big BOOK-big yes");
            assert_eq!(headers["x-total"], "24");
            let (_, _, body) = call(&d, "POST", "/E/x", JSON, r#"{"qty": 2, "kind": "cd"}"#).await;
            assert_eq!(body, "small none yes");
        }

        // A filter whose expression fails evaluates to "" (MI logs the warning), which is false;
        // a value that is not exactly "true" (any case) is false too.
        #[test]
        fn a_failed_filter_expression_is_false_and_logged() {
            let d = deployed(&[(
                "api/F.xml",
                &api(
                    "F",
                    r#"<filter xpath="${payload.a > 1 and payload.b &lt; 2}"><then><property name="r" value="then"/></then><else><property name="r" value="else"/></else></filter>
<filter xpath="${payload.word}"><then><property name="w" value="then"/></then><else><property name="w" value="else"/></else></filter>
<payloadFactory media-type="text"><format>$1 $2</format><args><arg expression="$ctx:r"/><arg expression="$ctx:w"/></args></payloadFactory><respond/>"#,
                    "",
                ),
            )]);
            let ((status, _, body), events) = logged(call(
                &d,
                "POST",
                "/F/x",
                JSON,
                r#"{"a": 5, "b": 1, "word": "TRUE"}"#,
            ));
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, "else then");
            // ExpressionParser: `and` binds tighter than `>`, so this is (a > (1 and b)) < 2.
            let warning = events
                .iter()
                .find(|(_, target, _)| target == crate::synapse_expr::LOG_TARGET)
                .expect("a warning");
            assert_eq!(warning.0, tracing::Level::WARN);
            assert!(
                warning.2.starts_with(
                    "Error evaluating expression: payload.a > 1 and payload.b < 2 cause : "
                ),
                "{warning:?}"
            );
        }

        // An error MI does not catch (urlDecode's IllegalArgumentException) fails the mediator:
        // the fault sequence runs with the error.
        #[tokio::test]
        async fn an_uncaught_evaluation_error_runs_the_fault_sequence() {
            let d = deployed(&[(
                "api/G.xml",
                &api(
                    "G",
                    r#"<property name="p" expression="${urlDecode('%zz')}"/><respond/>"#,
                    r#"<payloadFactory media-type="text"><format>fault: $1</format><args><arg expression="$ctx:ERROR_MESSAGE"/></args></payloadFactory><respond/>"#,
                ),
            )]);
            let (status, _, body) = call(&d, "GET", "/G/x", None, "").await;
            assert_eq!(status, StatusCode::OK);
            assert!(body.starts_with("fault: "), "{body}");
            assert!(body.contains("IllegalArgumentException"), "{body}");
        }

        // ValueFactory: `{${...}}` is a dynamic value read with stringValueOf (a sequence key,
        // a call-template parameter).
        #[tokio::test]
        async fn braced_expressions_are_dynamic_values() {
            let d = deployed(&[
                (
                    "api/H.xml",
                    &api(
                        "H",
                        r#"<variable name="target" value="Named"/><sequence key="{${vars.target}}"/>
<call-template target="T"><with-param name="who" value="{${toUpper(props.synapse.seen)}}"/></call-template><respond/>"#,
                        "",
                    ),
                ),
                (
                    "sequences/Named.xml",
                    &format!(
                        r#"<sequence xmlns="{NS}" name="Named"><property name="seen" value="named"/></sequence>"#
                    ),
                ),
                (
                    "templates/T.xml",
                    &format!(
                        r#"<template xmlns="{NS}" name="T"><parameter name="who"/><sequence><payloadFactory media-type="text"><format>hello ${{params.functionParams.who}}</format></payloadFactory></sequence></template>"#
                    ),
                ),
            ]);
            let (status, _, body) = call(&d, "GET", "/H/x", None, "").await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, "hello NAMED");
        }

        // A syntax error fails the deployment of the artifact, located at the attribute.
        #[test]
        fn a_syntax_error_fails_the_deployment() {
            let (_, errors) = deploy(&[(
                "api/Bad.xml",
                &api("Bad", r#"<property name="p" expression="${5-3}"/>"#, ""),
            )]);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert!(
                errors[0]
                    .message
                    .starts_with("invalid Synapse expression: "),
                "{errors:?}"
            );
            assert!(errors[0].span.starts_with("api/Bad.xml:1:"), "{errors:?}");
        }
    }
}
