//! Sequence templates: `<template name [onError]><parameter name [defaultValue] [isMandatory]/>...
//! <sequence>mediators</sequence></template>`, deployed from `templates/` and run by
//! `<call-template>` (SYN:`config/xml/TemplateMediatorFactory.java`,
//! SYN:`mediators/template/TemplateMediator.java`). Endpoint templates (`<template><endpoint>`)
//! are reported as unsupported.

use roxmltree::Node;

use crate::mediators::{Mediator, parse_mediator_list};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse};

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub name: String,
    /// The declared parameters, in document order (`TemplateParam`).
    pub parameters: Vec<TemplateParameter>,
    /// `onError="sequence"`: handles a fault inside the template's sequence.
    pub on_error: Option<(String, Span)>,
    /// The mediators of `<sequence>`.
    pub mediators: Vec<Mediator>,
    pub span: Span,
    /// The file as written (for the Management API's `configuration`).
    pub source: String,
}

/// `<parameter name [defaultValue] [isMandatory] [description]/>`.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateParameter {
    pub name: String,
    /// `defaultValue`: used when the caller passes nothing (a literal, never evaluated).
    pub default_value: Option<String>,
    /// `isMandatory="true"`: a call without the parameter fails (500101), default or not.
    pub mandatory: bool,
    pub span: Span,
}

pub(crate) fn parse_template(ctx: &Ctx, node: Node, source: &str) -> Result<Template> {
    // TemplateMediatorFactory: "A EIP template should be a named mediator".
    let name = ctx
        .required_attr(node, "name", "the template's name")?
        .trim()
        .to_string();
    let mut parameters: Vec<TemplateParameter> = Vec::new();
    let mut body: Option<Node> = None;
    for child in element_children(node) {
        if !is_synapse(child) {
            return Err(ctx.unknown(child, node, "parameter or sequence"));
        }
        match child.tag_name().name() {
            "parameter" => {
                // Synapse keeps a parameter without a name (it can never be passed); Conflux
                // refuses it, as it cannot be read either.
                let pname = ctx
                    .required_attr(child, "name", "the parameter's name")?
                    .to_string();
                if let Some(first) = parameters.iter().find(|p| p.name == pname) {
                    return Err(ctx.invalid(
                        child,
                        format!(
                            "parameter '{pname}' is declared twice (first at {})",
                            first.span
                        ),
                    ));
                }
                parameters.push(TemplateParameter {
                    name: pname,
                    default_value: ctx.attr(child, "defaultValue").map(str::to_string),
                    // Boolean.parseBoolean: anything but "true" (any case) is false.
                    mandatory: ctx
                        .attr(child, "isMandatory")
                        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
                    span: ctx.span(child),
                });
            }
            "sequence" => {
                if body.is_some() {
                    return Err(ctx.invalid(child, "a template has one <sequence>".into()));
                }
                body = Some(child);
            }
            "endpoint" => {
                return Err(ctx.unsupported(
                    child,
                    "endpoint template <template><endpoint>".into(),
                    "Tier 2: endpoint templates",
                ));
            }
            _ => return Err(ctx.unknown(child, node, "parameter or sequence")),
        }
    }
    let Some(body) = body else {
        return Err(ctx.missing(node, "a child <sequence>", "the template's mediators"));
    };
    if let Some(key) = ctx.attr(body, "key") {
        return Err(ctx.invalid_attr(body, "key", key, "mediators inside <sequence>"));
    }
    let on_error = ctx
        .attr(node, "onError")
        .filter(|v| !v.trim().is_empty())
        .map(|v| (v.trim().to_string(), ctx.attr_span(node, "onError")));
    Ok(Template {
        name,
        parameters,
        on_error,
        mediators: parse_mediator_list(ctx, body)?,
        span: ctx.span(node),
        source: source.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use crate::artifact::{Artifact, parse_artifact};

    const FILE: &str = "templates/T.xml";

    fn parse(body: &str) -> Result<super::Template, String> {
        let xml = format!(
            "<template xmlns=\"http://ws.apache.org/ns/synapse\" name=\"T\" onError=\"E\">\n{body}\n</template>"
        );
        match parse_artifact(FILE, &xml) {
            Ok(Artifact::Template(t)) => Ok(t),
            Ok(other) => panic!("not a template: {other:?}"),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn parameters_defaults_and_body() {
        let t = parse(
            r#"<parameter name="a"/><parameter name="b" defaultValue="x" isMandatory="TRUE"/><parameter name="c" isMandatory="yes" description="d"/>
<sequence><log/><call-template target="U"><with-param name="p" value="{$func:a}"/></call-template></sequence>"#,
        )
        .unwrap();
        assert_eq!(t.name, "T");
        let params: Vec<(&str, Option<&str>, bool)> = t
            .parameters
            .iter()
            .map(|p| (p.name.as_str(), p.default_value.as_deref(), p.mandatory))
            .collect();
        assert_eq!(
            params,
            [
                ("a", None, false),
                ("b", Some("x"), true),
                ("c", None, false)
            ]
        );
        assert_eq!(t.parameters[1].span.to_string(), "templates/T.xml:2:22");
        assert_eq!(t.mediators.len(), 2);
        assert_eq!(t.mediators[1].name(), "call-template");
        assert_eq!(t.on_error.as_ref().map(|(n, _)| n.as_str()), Some("E"));
    }

    #[test]
    fn malformed_templates_are_located() {
        assert_eq!(
            parse("<parameter name=\"a\"/>").unwrap_err(),
            "<template> requires a child <sequence>: the template's mediators at templates/T.xml:1:1"
        );
        assert!(
            parse("<parameter name=\"a\"/><parameter name=\"a\"/><sequence/>")
                .unwrap_err()
                .starts_with("parameter 'a' is declared twice (first at templates/T.xml:2:1)")
        );
        assert_eq!(
            parse("<endpoint><address uri=\"http://b/$uri\"/></endpoint>").unwrap_err(),
            "unsupported endpoint template <template><endpoint> (Tier 2: endpoint templates) at templates/T.xml:2:1"
        );
        assert!(
            parse("<sequence><xquery key=\"k\"/></sequence>")
                .unwrap_err()
                .starts_with("unsupported mediator <xquery>")
        );
        let err = parse_artifact(
            FILE,
            "<template xmlns=\"http://ws.apache.org/ns/synapse\"><sequence/></template>",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("requires attribute 'name'"),
            "{err}"
        );
    }
}
