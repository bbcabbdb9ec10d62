//! The message as MI 4.4's Synapse expressions (`${...}`, [`crate::synapse_expr`]) read it: the
//! runtime's implementation of [`ExprContext`] over a [`MessageContext`] (SYN
//! `util/synapse/expression/context/EvaluationContext.java`), and [`ScopedExpression`], a
//! compiled expression with the namespace prefixes in scope where it was written, which is how
//! mediators hold one.
//!
//! What each root reads: `payload` the body as JSON (an XML body converted as MI's `$.` JSONPath
//! converts it); `vars` the message's variables; `headers` the transport headers;
//! `props.synapse` / `props.axis2` the default and axis2 scopes; `params.queryParams` /
//! `params.pathParams` the `query.param.*` / `uri.var.*` properties; `params.functionParams` the
//! innermost template call's parameters; `xpath(...)` the envelope, with the namespaces of the
//! element that holds the expression (`xpath(e, 'name')` a variable's XML:
//! `runtime::xpath_variable`). `configs.*` have no values at run time in Conflux (they are
//! resolved when artifacts deploy), so `${configs.x}` read per message is empty.

use std::sync::Arc;

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope, TRANSPORT_IN_NAME};
use crate::runtime::payload::{ContentKind, Payload};
use crate::synapse_expr::{ExprContext, ExprValue, PropertyScope, SynapseExpression};

/// The message as an expression without namespace prefixes reads it (inline templates of the
/// HTTP connector, log messages).
pub struct ExprView<'c, B>(pub &'c MessageContext<B>);

/// The message as an expression written under these namespace prefixes reads it (`xpath('//m:a')`
/// with `xmlns:m` declared on the mediator's element).
pub struct ScopedExprView<'c, B> {
    pub ctx: &'c MessageContext<B>,
    pub namespaces: &'c [(String, String)],
}

/// A `${...}` expression and the namespace prefixes in scope on the element that holds it.
#[derive(Debug, Clone)]
pub struct ScopedExpression {
    pub expression: SynapseExpression,
    pub namespaces: Arc<[(String, String)]>,
}

impl ScopedExpression {
    /// Compiles the text inside `${...}`; `Err` is the syntax error, for the deployment report.
    pub fn compile(
        text: &str,
        namespaces: &[(String, String)],
    ) -> Result<ScopedExpression, String> {
        let expression = SynapseExpression::compile(text)
            .map_err(|e| format!("invalid Synapse expression: {e}"))?;
        Ok(ScopedExpression {
            expression,
            namespaces: namespaces.into(),
        })
    }

    pub fn needs_payload(&self) -> bool {
        self.expression.needs_payload()
    }

    fn view<'c, B>(&'c self, ctx: &'c MessageContext<B>) -> ScopedExprView<'c, B> {
        ScopedExprView {
            ctx,
            namespaces: &self.namespaces,
        }
    }

    /// MI `stringValueOf`: an evaluation error MI catches is logged (`Error evaluating expression:
    /// <expr> cause : <message>`, target [`crate::synapse_expr::LOG_TARGET`]) and gives "";
    /// `Err` is one MI does not catch, which faults the message.
    pub fn string_value<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<String, String> {
        self.expression
            .string_value(&self.view(ctx))
            .map_err(|e| e.message().to_string())
    }

    /// MI `objectValueOf`: the raw value (an evaluation error MI catches, or null, is "").
    pub fn object_value<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
    ) -> Result<ExprValue, String> {
        self.expression
            .object_value(&self.view(ctx))
            .map_err(|e| e.message().to_string())
    }
}

impl std::fmt::Display for ScopedExpression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.expression.fmt(f)
    }
}

impl<B: MessageBody> ExprContext for ScopedExprView<'_, B> {
    fn payload_json(&self) -> Result<serde_json::Value, String> {
        match &self.ctx.payload {
            None | Some(Payload::Empty) => Err("Payload is empty".into()),
            Some(Payload::Json(json)) => Ok(json.value().clone()),
            // A text body is MI's <text> element, which converts to {"text": ...}.
            Some(Payload::Text(text)) => Ok(serde_json::json!({ "text": text })),
            Some(Payload::Binary(_)) => Err("the payload is binary, not JSON or XML".into()),
            // SynapseJsonPath("$.").stringValueOf: the XML body as MI converts it to JSON.
            Some(xml @ Payload::Xml { .. }) => {
                let text = xml
                    .serialize(Some(ContentKind::Json))
                    .map_err(|e| e.to_string())?;
                crate::json::parse_json(&text).map_err(|e| e.to_string())
            }
        }
    }

    fn variable(&self, name: &str) -> Option<ExprValue> {
        self.ctx.variables.get(name).cloned()
    }

    fn header(&self, name: &str) -> Option<String> {
        self.ctx
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    fn property(&self, scope: PropertyScope, name: &str) -> Option<String> {
        match scope {
            PropertyScope::Synapse => {
                if self.ctx.properties.contains_key(name) {
                    self.ctx.get_string(Scope::Default, name)
                } else if name == TRANSPORT_IN_NAME {
                    Some(self.ctx.transport_in.to_string())
                } else {
                    None
                }
            }
            PropertyScope::Axis2 => self.ctx.get_string(Scope::Axis2, name),
        }
    }

    fn query_param(&self, name: &str) -> Option<String> {
        if let Some(v) = self.ctx.properties.get(&format!("query.param.{name}")) {
            return Some(v.clone());
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        self.ctx.uri.query()?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k) == name).then(|| decode(v))
        })
    }

    fn path_param(&self, name: &str) -> Option<String> {
        self.ctx.properties.get(&format!("uri.var.{name}")).cloned()
    }

    fn function_param(&self, name: &str) -> Option<String> {
        self.ctx.func_stack.last()?.get(name, self.ctx)
    }

    fn config(&self, name: &str) -> Option<String> {
        self.ctx.configs.get(name).cloned()
    }

    fn xpath(
        &self,
        expr: &str,
        variable: Option<&str>,
        string_mode: bool,
    ) -> Result<ExprValue, String> {
        if let Some(variable) = variable {
            return crate::runtime::xpath_variable::evaluate(
                expr,
                self.namespaces,
                variable,
                self.ctx.variables.get(variable),
                &crate::runtime::value::CtxEnv(self.ctx),
                string_mode,
            );
        }
        let xpath =
            crate::xpath::XPath::compile(expr, self.namespaces).map_err(|e| e.to_string())?;
        let env = crate::runtime::value::CtxEnv(self.ctx);
        crate::runtime::value::with_envelope(self.ctx, xpath.needs_payload(), |doc| {
            if string_mode {
                return xpath
                    .string_value(doc, &env)
                    .map(ExprValue::String)
                    .map_err(|e| e.to_string());
            }
            Ok(crate::runtime::xpath_variable::object_value(
                xpath.evaluate(doc, &env).map_err(|e| e.to_string())?,
            ))
        })
    }

    fn registry_text(&self, key: &str) -> Option<String> {
        self.ctx.registry.text(key).map(|t| t.into_owned())
    }

    fn registry_property(&self, key: &str, name: &str) -> Option<String> {
        self.ctx.registry.property(key, name).map(str::to_string)
    }

    fn now_millis(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }

    fn in_template(&self) -> bool {
        !self.ctx.func_stack.is_empty()
    }
}

/// [`ExprView`] answers as a [`ScopedExprView`] without prefixes.
impl<'c, B: MessageBody> ExprView<'c, B> {
    fn scoped(&self) -> ScopedExprView<'c, B> {
        ScopedExprView {
            ctx: self.0,
            namespaces: &[],
        }
    }
}

impl<B: MessageBody> ExprContext for ExprView<'_, B> {
    fn payload_json(&self) -> Result<serde_json::Value, String> {
        self.scoped().payload_json()
    }

    fn variable(&self, name: &str) -> Option<ExprValue> {
        self.scoped().variable(name)
    }

    fn header(&self, name: &str) -> Option<String> {
        self.scoped().header(name)
    }

    fn property(&self, scope: PropertyScope, name: &str) -> Option<String> {
        self.scoped().property(scope, name)
    }

    fn query_param(&self, name: &str) -> Option<String> {
        self.scoped().query_param(name)
    }

    fn path_param(&self, name: &str) -> Option<String> {
        self.scoped().path_param(name)
    }

    fn function_param(&self, name: &str) -> Option<String> {
        self.scoped().function_param(name)
    }

    fn config(&self, name: &str) -> Option<String> {
        self.scoped().config(name)
    }

    fn xpath(
        &self,
        expr: &str,
        variable: Option<&str>,
        string_mode: bool,
    ) -> Result<ExprValue, String> {
        self.scoped().xpath(expr, variable, string_mode)
    }

    fn registry_text(&self, key: &str) -> Option<String> {
        self.scoped().registry_text(key)
    }

    fn registry_property(&self, key: &str, name: &str) -> Option<String> {
        self.scoped().registry_property(key, name)
    }

    fn now_millis(&self) -> i64 {
        self.scoped().now_millis()
    }

    fn in_template(&self) -> bool {
        self.scoped().in_template()
    }
}

/// Runs MI 4.4 artifacts end to end in unit tests: an API deployed from its XML, requests through
/// [`crate::runtime::deployment::Deployment::handle`] with a backend that is never reached, and
/// the log events a closure writes.
#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::{Arc, Mutex};

    use bytes::Bytes;
    use http::{HeaderMap, Request, Response, StatusCode};
    use http_body_util::{BodyExt, Full};

    use crate::dispatch::Protocol;
    use crate::runtime::compile::{CompileError, compile};
    use crate::runtime::deployment::Deployment;
    use crate::runtime::endpoint::{Endpoint, SendFault, SendFuture, Sender};

    pub type B = Full<Bytes>;
    pub const NS: &str = "http://ws.apache.org/ns/synapse";

    /// An `<api>` named `name` at `/name` with one resource taking every method at `/*`.
    pub fn api(name: &str, in_sequence: &str, fault_sequence: &str) -> String {
        format!(
            r#"<api xmlns="{NS}" name="{name}" context="/{name}"><resource methods="GET POST" uri-template="/*"><inSequence>{in_sequence}</inSequence><faultSequence>{fault_sequence}</faultSequence></resource></api>"#
        )
    }

    /// Deploys `(label, xml)` artifacts.
    pub fn deploy(files: &[(&str, &str)]) -> (Deployment, Vec<CompileError>) {
        let mut artifacts = conflux_artifacts::Artifacts::default();
        for (label, xml) in files {
            artifacts
                .insert(conflux_artifacts::artifact::parse_artifact(label, xml).unwrap())
                .unwrap();
        }
        compile(&artifacts)
    }

    /// Deploys artifacts that must all compile.
    pub fn deployed(files: &[(&str, &str)]) -> Deployment {
        let (deployment, errors) = deploy(files);
        assert!(errors.is_empty(), "{errors:?}");
        deployment
    }

    /// Fails every send: these tests never leave the server.
    pub struct NoBackend;

    impl Sender<B> for NoBackend {
        fn send<'a>(&'a self, _: &'a Endpoint, _: Request<B>) -> SendFuture<'a, B> {
            Box::pin(async move {
                Err::<Response<B>, _>(SendFault {
                    code: 101_503,
                    message: "no backend in this test".into(),
                })
            })
        }
    }

    /// One request: status, headers, body.
    pub async fn call(
        d: &Deployment,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> (StatusCode, HeaderMap, String) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(ct) = content_type {
            request = request
                .header(http::header::CONTENT_TYPE, ct)
                .header(http::header::CONTENT_LENGTH, body.len());
        }
        let request = request
            .body(B::from(Bytes::from(body.to_string())))
            .unwrap();
        let response = d.handle(&NoBackend, request, Protocol::Http).await;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        (
            parts.status,
            parts.headers,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    /// A log event: level, target, message.
    pub type Event = (tracing::Level, String, String);

    /// Collects the events of the thread it is the default subscriber of.
    #[derive(Clone, Default)]
    pub struct Capture(Arc<Mutex<Vec<Event>>>);

    impl Capture {
        pub fn events(&self) -> Vec<Event> {
            self.0.lock().unwrap().clone()
        }
    }

    struct Message(String);

    impl tracing::field::Visit for Message {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                self.0 = format!("{value:?}");
            }
        }
    }

    impl tracing::Subscriber for Capture {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            let mut message = Message(String::new());
            event.record(&mut message);
            let meta = event.metadata();
            self.0
                .lock()
                .unwrap()
                .push((*meta.level(), meta.target().to_string(), message.0));
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    /// Runs the future on a current-thread runtime with a [`Capture`] as the default
    /// subscriber; its result and the events written.
    pub fn logged<T>(f: impl std::future::Future<Output = T>) -> (T, Vec<Event>) {
        let capture = Capture::default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let out = tracing::subscriber::with_default(capture.clone(), || runtime.block_on(f));
        (out, capture.events())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::context::test_context;
    use http::Method;

    fn ctx() -> MessageContext<http_body_util::Full<bytes::Bytes>> {
        let mut ctx = test_context(Method::GET, "/a?q=a+b&n=007");
        ctx.headers
            .insert("x-count", http::HeaderValue::from_static("400"));
        ctx.properties.insert("uri.var.id".into(), "42".into());
        ctx.properties.insert("greeting".into(), "hi".into());
        ctx.axis2.insert("HTTP_SC".into(), "201".into());
        ctx.variables.insert("n".into(), ExprValue::Int(5));
        ctx
    }

    fn eval(text: &str, ctx: &MessageContext<http_body_util::Full<bytes::Bytes>>) -> String {
        ScopedExpression::compile(text, &[])
            .unwrap()
            .string_value(ctx)
            .unwrap()
    }

    // EvaluationContext: each root reads its part of the message.
    #[test]
    fn roots_read_the_message() {
        let c = ctx();
        assert_eq!(eval("vars.n * 2", &c), "10");
        // HeadersAndPropertiesAccessNode.tryParseNumber: a header "400" is the Integer 400.
        assert_eq!(eval("headers[\"X-Count\"] + 1", &c), "401");
        assert_eq!(eval("params.pathParams.id", &c), "42");
        // An API request's query parameters (query.param.* or the request URI), decoded.
        assert_eq!(eval("params.queryParams.q", &c), "a b");
        assert_eq!(eval("params.queryParams.n + 1", &c), "8");
        assert_eq!(eval("props.synapse.greeting", &c), "hi");
        assert_eq!(eval("props.axis2.HTTP_SC", &c), "201");
        assert_eq!(eval("props.synapse.TRANSPORT_IN_NAME", &c), "http");
        // Missing: "Could not fetch the value of the key", so empty.
        assert_eq!(eval("props.synapse.nothing", &c), "");
        assert_eq!(eval("exists(payload.a)", &c), "false");
    }

    // xpath() inside ${...} resolves the prefixes declared where the expression was written.
    #[test]
    fn xpath_uses_the_namespaces_in_scope() {
        let mut c = ctx();
        c.payload = Some(Payload::xml("<m:a xmlns:m=\"urn:m\"><m:b>7</m:b></m:a>".into()).unwrap());
        let scoped =
            ScopedExpression::compile("xpath('//m:b')", &[("m".to_string(), "urn:m".to_string())])
                .unwrap();
        assert_eq!(scoped.string_value(&c).unwrap(), "7");
        // Without the prefix the XPath does not compile: MI's JaxenException is caught, so "".
        let unscoped = ScopedExpression::compile("xpath('//m:b')", &[]).unwrap();
        assert_eq!(unscoped.string_value(&c).unwrap(), "");
        // The XML body read as JSON.
        assert_eq!(eval("payload.a.b", &c), "7");
    }
}
