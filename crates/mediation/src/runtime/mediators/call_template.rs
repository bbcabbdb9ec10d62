//! `<call-template target>`: runs a sequence template with parameters (SYN
//! `mediators/template/InvokeMediator.java`, `TemplateMediator.java`, `TemplateContext.java`).
//!
//! The parameters are evaluated in the caller's context (so `{$func:x}` reads the caller's own
//! frame), then pushed as one function-scope frame on the message's stack, which `$func:name` and
//! `get-property('func', 'name')` read (the top frame only: nested templates see their own
//! parameters). The template's declared parameters decide what the frame holds
//! (TemplateContext.setupParams): a passed value, else the `defaultValue`, else nothing; a missing
//! `isMandatory` parameter fails the call with ERROR_CODE 500101. A `{expr}` value is reduced as
//! Synapse's `Value.resolveObject` does: the first node of a node-set (an element as its direct
//! text, or its XML when it has none; a text or attribute node as its value), an empty node-set
//! passes nothing. A `{{expr}}` value is passed unevaluated and evaluated where `$func:name` is
//! read (SynapseXPathVariableContext). The frame is popped when the template runs to its end; a
//! template that answers, drops or fails leaves it, as Synapse does, so fault handlers still see it.

use std::sync::Arc;

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;
use crate::runtime::engine::Sequence;
use crate::runtime::value::{CtxEnv, ValueSource, with_envelope};
use crate::xpath::{XNode, XPathEnv, XValue};

/// SynapseConstants: the error code of a template call whose mandatory parameter is missing.
pub const MISSING_MANDATORY_PARAMETER: u32 = 500_101;

/// A deployed sequence template.
#[derive(Debug, Clone)]
pub struct Template {
    pub name: Arc<str>,
    pub params: Vec<TemplateParam>,
    /// The template's mediators, with its `onError`.
    pub sequence: Arc<Sequence>,
}

#[derive(Debug, Clone)]
pub struct TemplateParam {
    pub name: String,
    pub default_value: Option<String>,
    pub mandatory: bool,
}

/// One `<with-param>` value.
#[derive(Debug, Clone)]
pub enum ParamSource {
    /// A literal, or `{expr}` evaluated when the template is called.
    Value(ValueSource),
    /// `{{expr}}`: evaluated when the template reads it.
    Deferred(ValueSource),
}

#[derive(Debug, Clone)]
pub struct CallTemplate {
    pub target: Arc<str>,
    pub params: Vec<(String, ParamSource)>,
    /// `onError` of the call: handles a fault inside the template its own `onError` did not.
    pub on_error: Option<String>,
}

/// The parameters of one template call, as the template reads them.
#[derive(Debug, Clone)]
pub struct TemplateFrame {
    pub template: Arc<str>,
    pub values: Vec<(String, FrameValue)>,
}

#[derive(Debug, Clone)]
pub enum FrameValue {
    Text(String),
    Deferred(ValueSource),
}

impl TemplateFrame {
    /// The value of parameter `name` as `$func:name` reads it; `None` when it has none.
    pub fn get<B>(&self, name: &str, ctx: &MessageContext<B>) -> Option<String> {
        match &self.values.iter().find(|(n, _)| n == name)?.1 {
            FrameValue::Text(t) => Some(t.clone()),
            // Synapse evaluates the expression against the envelope alone (no `$func:` inside).
            FrameValue::Deferred(ValueSource::XPath(x)) => with_envelope(ctx, true, |doc| {
                x.string_value(doc, &WithoutFunc(CtxEnv(ctx)))
                    .map_err(|e| e.to_string())
            })
            .ok(),
            FrameValue::Deferred(_) => None,
        }
    }
}

/// The message context without the function scope (a deferred parameter cannot read itself).
struct WithoutFunc<'c, B>(CtxEnv<'c, B>);

impl<B> XPathEnv for WithoutFunc<'_, B> {
    fn property(&self, scope: &str, name: &str) -> Option<String> {
        if scope == "func" {
            return None;
        }
        self.0.property(scope, name)
    }
}

/// Why a template call could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// MI's error code: [`MISSING_MANDATORY_PARAMETER`], or 0 for an evaluation error.
    pub code: u32,
    pub message: String,
}

impl CallTemplate {
    /// Whether evaluating the parameters reads the message content.
    pub fn needs_payload(&self) -> bool {
        self.params.iter().any(|(_, p)| match p {
            ParamSource::Value(v) | ParamSource::Deferred(v) => v.needs_payload(),
        })
    }

    /// Evaluates the parameters for `template` in the caller's context (TemplateContext.setupParams).
    pub fn frame<B: MessageBody>(
        &self,
        template: &Template,
        ctx: &MessageContext<B>,
    ) -> Result<TemplateFrame, CallError> {
        let mut values = Vec::with_capacity(template.params.len());
        for param in &template.params {
            let passed = self
                .params
                .iter()
                .find(|(name, _)| *name == param.name)
                .map(|(_, p)| p);
            let value = match passed {
                None if param.mandatory => {
                    return Err(CallError {
                        code: MISSING_MANDATORY_PARAMETER,
                        message: format!(
                            "Neither a value nor default value is provided for mandatory parameter: {} in seq-template {}",
                            param.name, template.name
                        ),
                    });
                }
                None => param.default_value.clone().map(FrameValue::Text),
                Some(ParamSource::Deferred(v)) => Some(FrameValue::Deferred(v.clone())),
                Some(ParamSource::Value(v)) => resolve_object(v, ctx)
                    .map_err(|e| CallError {
                        code: 0,
                        message: format!(
                            "Error while evaluating parameter {} passed to template {}: {e}",
                            param.name, template.name
                        ),
                    })?
                    .map(FrameValue::Text),
            };
            if let Some(value) = value {
                values.push((param.name.clone(), value));
            }
        }
        Ok(TemplateFrame {
            template: template.name.clone(),
            values,
        })
    }
}

/// Synapse's `Value.resolveObject` reduced to text: the first node of a node-set (none for an
/// empty one), else the value as `stringValueOf` gives it; an unset property is no value.
fn resolve_object<B: MessageBody>(
    v: &ValueSource,
    ctx: &MessageContext<B>,
) -> Result<Option<String>, String> {
    let ValueSource::XPath(x) = v else {
        return v.resolve_optional(ctx);
    };
    with_envelope(ctx, x.needs_payload(), |doc| {
        let env = CtxEnv(ctx);
        let first = match x.evaluate(doc, &env).map_err(|e| e.to_string())? {
            XValue::Nodes(nodes) => match nodes.first() {
                None => return Ok(None),
                Some(node) => XNode::Node(*node),
            },
            XValue::NodeSet(nodes) => match nodes.first() {
                None => return Ok(None),
                Some(node) => *node,
            },
            _ => {
                return x
                    .string_value(doc, &env)
                    .map(Some)
                    .map_err(|e| e.to_string());
            }
        };
        Ok(Some(match first {
            XNode::Node(node) if node.is_element() => {
                let text: String = node
                    .children()
                    .filter(|c| c.is_text())
                    .filter_map(|c| c.text())
                    .collect();
                if text.trim().is_empty() {
                    crate::xpath::serialize(node)
                } else {
                    text.trim().to_string()
                }
            }
            XNode::Node(node) => node
                .descendants()
                .filter(|c| c.is_text())
                .filter_map(|c| c.text())
                .collect(),
            XNode::Attribute(node, i) => node
                .attributes()
                .nth(i)
                .map(|a| a.value().to_string())
                .unwrap_or_default(),
            XNode::Namespace(node, i) => node
                .namespaces()
                .nth(i)
                .map(|n| n.uri().to_string())
                .unwrap_or_default(),
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::context::{Scope, test_context};
    use crate::runtime::payload::Payload;
    use http::Method;

    fn template(params: &[(&str, Option<&str>, bool)]) -> Template {
        Template {
            name: "T".into(),
            params: params
                .iter()
                .map(|(n, d, m)| TemplateParam {
                    name: n.to_string(),
                    default_value: d.map(str::to_string),
                    mandatory: *m,
                })
                .collect(),
            sequence: Arc::new(Sequence {
                name: "T".into(),
                mediators: Vec::new(),
                on_error: None,
            }),
        }
    }

    fn call(params: &[(&str, &str)]) -> CallTemplate {
        CallTemplate {
            target: "T".into(),
            params: params
                .iter()
                .map(|(n, v)| {
                    let source = match v.strip_prefix("{{").and_then(|v| v.strip_suffix("}}")) {
                        Some(e) => {
                            ParamSource::Deferred(ValueSource::compile_text(e, &[]).unwrap())
                        }
                        None => ParamSource::Value(
                            match v.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
                                Some(e) => ValueSource::compile_text(e, &[]).unwrap(),
                                None => ValueSource::Literal(v.to_string()),
                            },
                        ),
                    };
                    (n.to_string(), source)
                })
                .collect(),
            on_error: None,
        }
    }

    fn values<B>(frame: &TemplateFrame, ctx: &MessageContext<B>) -> Vec<(String, Option<String>)> {
        frame
            .values
            .iter()
            .map(|(n, _)| (n.clone(), frame.get(n, ctx)))
            .collect()
    }

    #[test]
    fn parameters_are_evaluated_in_the_callers_context() {
        let mut ctx = test_context(Method::POST, "/a");
        ctx.payload = Some(
            Payload::parse(
                "<r><a>one</a><a>two</a><b><c>x</c></b><d k=\"v\"/></r>".into(),
                Some("application/xml"),
            )
            .unwrap(),
        );
        ctx.set(Scope::Default, "p", "prop".into()).unwrap();
        let t = template(&[
            ("lit", None, false),
            ("first", None, false),
            ("element", None, false),
            ("attr", None, false),
            ("prop", None, false),
            ("count", None, false),
            ("none", None, false),
            ("unset", None, false),
            ("defaulted", Some("dflt"), false),
            ("later", None, false),
            ("undeclared-is-ignored", None, false),
        ]);
        let c = call(&[
            ("lit", "plain"),
            ("first", "{//a}"),
            ("element", "{//b}"),
            ("attr", "{//d/@k}"),
            ("prop", "{get-property('p')}"),
            ("count", "{count(//a)}"),
            ("none", "{//missing}"),
            ("unset", "{$ctx:nothing}"),
            ("later", "{{//b/c}}"),
            ("extra", "not declared"),
        ]);
        let frame = c.frame(&t, &ctx).unwrap();
        let got = values(&frame, &ctx);
        let expected: Vec<(String, Option<String>)> = [
            ("lit", "plain"),
            ("first", "one"),
            ("element", "<b><c>x</c></b>"),
            ("attr", "v"),
            ("prop", "prop"),
            ("count", "2.0"),
            ("defaulted", "dflt"),
            ("later", "x"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), Some(v.to_string())))
        .collect();
        assert_eq!(got, expected);
        assert!(c.needs_payload());
        assert!(!call(&[("a", "{$ctx:x}")]).needs_payload());
    }

    // SynapseXPathVariableContext reads the top frame only; a nested call's parameters are
    // evaluated before its frame is pushed, so `{$func:x}` reads the caller's frame.
    #[test]
    fn nested_frames_read_the_innermost_call() {
        let mut ctx = test_context(Method::GET, "/a");
        let read = |ctx: &MessageContext<_>, expr: &str| {
            ValueSource::compile_text(expr, &[])
                .unwrap()
                .resolve(ctx)
                .unwrap()
        };
        let outer = template(&[("x", None, false)]);
        ctx.func_stack
            .push(call(&[("x", "outer-x")]).frame(&outer, &ctx).unwrap());
        assert_eq!(read(&ctx, "$func:x"), "outer-x");
        let inner = template(&[("y", None, false), ("x", None, false)]);
        let frame = call(&[("y", "{concat($func:x, '!')}")])
            .frame(&inner, &ctx)
            .unwrap();
        ctx.func_stack.push(frame);
        assert_eq!(read(&ctx, "$func:y"), "outer-x!");
        assert_eq!(read(&ctx, "get-property('func', 'y')"), "outer-x!");
        assert_eq!(read(&ctx, "concat('[', $func:x, ']')"), "[]");
        ctx.func_stack.pop();
        assert_eq!(read(&ctx, "get-property('func', 'x')"), "outer-x");
        ctx.func_stack.pop();
        assert_eq!(read(&ctx, "concat('[', $func:x, ']')"), "[]");
    }

    // InvokeMediatorFactory reads `value` with ValueFactory.createValue: `{${...}}` is a Synapse
    // expression, evaluated in the caller's context (TemplateContext: evaluateValue, the string
    // value) and read in the template as `${params.functionParams.NAME}`.
    #[tokio::test]
    async fn synapse_expression_parameters() {
        use crate::runtime::expr_context::test_support::*;
        let template = format!(
            r#"<template xmlns="{NS}" name="Greet"><parameter name="who"/><parameter name="n"/><parameter name="d" defaultValue="x"/><sequence>
                 <payloadFactory media-type="json"><format>{{"hello":"${{params.functionParams.who}}","n":${{params.functionParams.n}},"d":"${{params.functionParams.d}}","xp":"$1"}}</format>
                   <args><arg expression="$func:who"/></args></payloadFactory></sequence></template>"#
        );
        let call = r#"<call-template target="Greet">
                 <with-param name="who" value="{${toUpper(payload.user.name)}}"/>
                 <with-param name="n" value="{${payload.items.length() * 10}}"/>
               </call-template><respond/>"#;
        let d = deployed(&[
            ("templates/Greet.xml", &template),
            ("apis/A.xml", &api("A", call, "")),
        ]);
        let (status, _, body) = call_api(&d, r#"{"user":{"name":"ann"},"items":[1,2]}"#).await;
        assert_eq!(status, http::StatusCode::OK, "{body}");
        assert_eq!(body, r#"{"hello":"ANN","n":20,"d":"x","xp":"ANN"}"#);
    }

    async fn call_api(
        d: &crate::runtime::deployment::Deployment,
        body: &str,
    ) -> (http::StatusCode, http::HeaderMap, String) {
        crate::runtime::expr_context::test_support::call(
            d,
            "POST",
            "/A/x",
            Some("application/json"),
            body,
        )
        .await
    }

    #[test]
    fn a_missing_mandatory_parameter_fails_even_with_a_default() {
        let ctx = test_context(Method::GET, "/a");
        let t = template(&[("opt", None, false), ("must", Some("d"), true)]);
        let err = call(&[("opt", "x")]).frame(&t, &ctx).unwrap_err();
        assert_eq!(err.code, MISSING_MANDATORY_PARAMETER);
        assert_eq!(
            err.message,
            "Neither a value nor default value is provided for mandatory parameter: must in seq-template T"
        );
        assert!(call(&[("must", "y")]).frame(&t, &ctx).is_ok());
    }
}
