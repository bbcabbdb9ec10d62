//! Templates, deployed from `templates/`:
//!
//! - sequence templates, `<template name [onError]><parameter name [defaultValue] [isMandatory]/>...
//!   <sequence>mediators</sequence></template>`, run by `<call-template>`
//!   (SYN:`config/xml/TemplateMediatorFactory.java`, SYN:`mediators/template/TemplateMediator.java`);
//! - endpoint templates, `<template name><parameter name/>...<endpoint>...</endpoint></template>`,
//!   used by `<endpoint template="name" [name] [uri]><parameter name value/></endpoint>`: every
//!   attribute value or element text of the endpoint that is exactly `$param` is replaced by the
//!   value passed (`name` and `uri` are always parameters), and the result is the endpoint
//!   (SYN:`config/xml/endpoints/TemplateFactory.java`, SYN:`endpoints/Template.java`,
//!   SYN:`config/xml/endpoints/TemplateEndpointFactory.java`). A template with an `<endpoint>`
//!   child is an endpoint template, as MI's deployer decides.

use std::sync::Arc;

use roxmltree::Node;

use crate::endpoint::{
    Endpoint, EndpointKind, MarkForSuspension, SuspendOnFailure, parse_endpoint,
};
use crate::error::ArtifactError;
use crate::inject::InjectedValues;
use crate::mediators::{Mediator, parse_mediator_list};
use crate::span::Span;
use crate::xml::{
    Ctx, Result, SYNAPSE_NS, element_children, is_synapse, is_synapse_named, parse_document,
};

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
    /// An endpoint template's `<endpoint>` (then `mediators` is empty).
    pub endpoint: Option<EndpointTemplate>,
    /// Children MI's factory never reads, ignored with a warning ([`crate::proxy::ignored`]).
    pub warnings: Vec<String>,
}

/// The `<endpoint>` of an endpoint template, as written (with the namespaces it inherits
/// declared), before `$param` replacement.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointTemplate {
    pub xml: String,
    pub span: Span,
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
    if let Some(endpoint) = element_children(node).find(|c| is_synapse_named(*c, "endpoint")) {
        return parse_endpoint_template(ctx, node, endpoint, name, source);
    }
    let mut parameters: Vec<TemplateParameter> = Vec::new();
    let mut body: Option<Node> = None;
    let mut warnings = Vec::new();
    // SYN:`config/xml/TemplateMediatorFactory.java` reads the `<parameter>`s and the first
    // `<sequence>` by name: anything else deploys and does nothing, with a warning here.
    const READ: &str = "parameter, sequence and description";
    for child in element_children(node) {
        if !is_synapse(child) {
            warnings.push(crate::proxy::ignored(ctx, child, node, READ));
            continue;
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
            "description" => {}
            _ => warnings.push(crate::proxy::ignored(ctx, child, node, READ)),
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
        endpoint: None,
        warnings,
    })
}

/// SYN `TemplateFactory.createEndpointTemplate`: the parameter names and the first `<endpoint>`.
fn parse_endpoint_template(
    ctx: &Ctx,
    node: Node,
    endpoint: Node,
    name: String,
    source: &str,
) -> Result<Template> {
    let mut parameters = Vec::new();
    for child in element_children(node).filter(|c| is_synapse_named(*c, "parameter")) {
        let pname = ctx
            .required_attr(child, "name", "the parameter's name")?
            .trim()
            .to_string();
        parameters.push(TemplateParameter {
            name: pname,
            default_value: None,
            mandatory: false,
            span: ctx.span(child),
        });
    }
    // SYN `config/xml/endpoints/TemplateFactory.java` reads the `<parameter>`s and the first
    // `<endpoint>` by name.
    let warnings = element_children(node)
        .filter(|c| {
            !(is_synapse_named(*c, "parameter") || is_synapse_named(*c, "description"))
                && *c != endpoint
        })
        .map(|c| crate::proxy::ignored(ctx, c, node, "parameter, endpoint and description"))
        .collect();
    let mut xml = ctx.standalone_source(endpoint);
    // The element inherits the Synapse namespace from <template>: declare it on its own.
    if endpoint.tag_name().namespace() == Some(SYNAPSE_NS)
        && endpoint
            .lookup_prefix(SYNAPSE_NS)
            .is_none_or(|p| p.is_empty())
        && !xml[..xml.find('>').unwrap_or(xml.len())].contains("xmlns=")
    {
        xml.insert_str("<endpoint".len(), &format!(" xmlns=\"{SYNAPSE_NS}\""));
    }
    Ok(Template {
        name,
        parameters,
        on_error: None,
        mediators: Vec::new(),
        span: ctx.span(node),
        source: source.to_string(),
        endpoint: Some(EndpointTemplate {
            xml,
            span: ctx.span(endpoint),
        }),
        warnings,
    })
}

impl Template {
    /// The endpoint an `<endpoint template>` with these parameters stands for (SYN
    /// `endpoints/Template.java` `create`/`replaceElement`): each attribute value or element text
    /// that is exactly `$p`, for a parameter `p` the template declares (or `name`, `uri`) and the
    /// caller passes, becomes the value. Errors are located in the template's file. Injected
    /// values (`$SYSTEM:`...) written in the template's endpoint are kept as written; see
    /// [`Template::expand_endpoint_with`].
    pub fn expand_endpoint(
        &self,
        parameters: &[(String, String)],
    ) -> std::result::Result<Endpoint, ArtifactError> {
        self.expand(parameters, None)
    }

    /// [`Template::expand_endpoint`], resolving the injected values of the expanded endpoint
    /// from `values`: MI builds it with the endpoint factories (SYN `endpoints/Template.java`
    /// `create`), which resolve them, so a missing value fails the template endpoint.
    pub fn expand_endpoint_with(
        &self,
        parameters: &[(String, String)],
        values: &dyn InjectedValues,
    ) -> std::result::Result<Endpoint, ArtifactError> {
        self.expand(parameters, Some(values))
    }

    fn expand(
        &self,
        parameters: &[(String, String)],
        values: Option<&dyn InjectedValues>,
    ) -> std::result::Result<Endpoint, ArtifactError> {
        let Some(template) = &self.endpoint else {
            return Err(ArtifactError::Invalid {
                message: format!(
                    "template {} is a sequence template, not an endpoint template",
                    self.name
                ),
                span: self.span.clone(),
            });
        };
        let mut xml = template.xml.clone();
        for (name, value) in parameters {
            let declared =
                name == "name" || name == "uri" || self.parameters.iter().any(|p| &p.name == name);
            if !declared {
                continue;
            }
            let attr = escape(value, true);
            xml = xml
                .replace(&format!("=\"${name}\""), &format!("=\"{attr}\""))
                .replace(&format!("='${name}'"), &format!("='{attr}'"))
                .replace(
                    &format!(">${name}<"),
                    &format!(">{}<", escape(value, false)),
                );
        }
        let label: Arc<str> = Arc::from(format!(
            "{} (endpoint template {} from line {})",
            template.span.file, self.name, template.span.line
        ));
        let doc = parse_document(&label, &xml)?;
        let ctx = Ctx {
            file: label,
            doc: &doc,
            values,
        };
        parse_endpoint(&ctx, doc.root_element(), false)
    }
}

fn escape(value: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `<endpoint template="T" [name] [uri]><parameter name value/>...</endpoint>`
/// (SYN `TemplateEndpointFactory`): `name` and `uri` are parameters too; a later parameter of the
/// same name wins. Other children are ignored, as Synapse does. The factory resolves injected
/// values (`$SYSTEM:`...) in `name`, `uri`, `template` and each parameter's `value`, in that order.
pub(crate) fn parse_template_endpoint(
    ctx: &Ctx,
    node: Node,
    name: Option<String>,
    template: &str,
) -> Result<Endpoint> {
    let name = match (name, ctx.injected_attr(node, "name")?) {
        (Some(_), Some(resolved)) => {
            let resolved = resolved.trim();
            if resolved.is_empty() {
                let raw = ctx.attr(node, "name").unwrap_or_default();
                return Err(ctx.invalid_attr(
                    node,
                    "name",
                    raw,
                    "the endpoint's name (it resolved to an empty value)",
                ));
            }
            Some(resolved.to_string())
        }
        (name, _) => name,
    };
    let mut parameters: Vec<(String, String)> = Vec::new();
    let mut add = |n: String, v: String| {
        parameters.retain(|(k, _)| *k != n);
        parameters.push((n, v));
    };
    if let Some(n) = &name {
        add("name".into(), n.clone());
    }
    if let Some(uri) = ctx.injected_attr(node, "uri")? {
        add("uri".into(), uri.into_owned());
    }
    let template = ctx.inject(
        node,
        "attribute 'template'",
        template,
        ctx.attr_span(node, "template"),
    )?;
    for child in element_children(node).filter(|c| is_synapse_named(*c, "parameter")) {
        let pname = ctx.required_attr(child, "name", "the parameter's name")?;
        let Some(value) = ctx.injected_attr(child, "value")? else {
            return Err(ctx.missing(child, "attribute 'value'", "the parameter's value"));
        };
        add(pname.to_string(), value.into_owned());
    }
    Ok(Endpoint {
        name,
        kind: EndpointKind::Template {
            template: template.trim().to_string(),
            parameters,
        },
        timeout: None,
        suspend_on_failure: SuspendOnFailure::default(),
        mark_for_suspension: MarkForSuspension::default(),
        retry_disabled_error_codes: Vec::new(),
        retry_enabled_error_codes: Vec::new(),
        properties: Vec::new(),
        span: ctx.span(node),
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

    /// SYN:`config/xml/TemplateMediatorFactory.java` reads `<parameter>`s and the first
    /// `<sequence>` by name, `endpoints/TemplateFactory.java` `<parameter>`s and the first
    /// `<endpoint>`: other children deploy in MI and do nothing; Conflux names them.
    #[test]
    fn children_the_template_factories_do_not_read_are_ignored_with_a_warning() {
        let t = parse("<parameter name=\"a\"/><log/>\n<sequence><drop/></sequence>").unwrap();
        assert_eq!(
            t.warnings,
            [
                "element <log> in <template> ignored: MI reads only parameter, sequence and description there at templates/T.xml:2:22"
            ]
        );
        assert_eq!(t.mediators.len(), 1);
        let t =
            parse("<parameter name=\"a\"/><endpoint><address uri=\"http://h\"/></endpoint><seq/>")
                .unwrap();
        assert!(t.endpoint.is_some());
        assert_eq!(
            t.warnings,
            [
                "element <seq> in <template> ignored: MI reads only parameter, endpoint and description there at templates/T.xml:2:68"
            ]
        );
        // No <sequence> stays an error (TemplateMediatorFactory builds the body from it).
        assert!(parse("<parameter name=\"a\"/><sequenc/>").is_err());
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

    // TemplateFactory / Template.replaceElement / TemplateEndpointFactory.
    #[test]
    fn endpoint_templates_replace_whole_values() {
        let t = parse(
            r#"<x:parameter xmlns:x="http://ws.apache.org/ns/synapse" name="timeout"/><parameter name="unused"/>
<endpoint name="$name"><http method="get" uri-template="$uri"><timeout><duration>$timeout</duration><responseAction>fault</responseAction></timeout></http>
<property name="p" value="pre-$timeout"/></endpoint>"#,
        )
        .unwrap();
        assert!(t.mediators.is_empty() && t.endpoint.is_some());
        let names: Vec<&str> = t.parameters.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["timeout", "unused"]);
        let ep_xml = r#"<endpoint xmlns="http://ws.apache.org/ns/synapse" name="Ep" template="T" uri="http://b/x?a=1&amp;b=2"><parameter name="timeout" value="3000"/><parameter name="other" value="x"/></endpoint>"#;
        let Ok(Artifact::Endpoint(ep)) = parse_artifact("endpoints/Ep.xml", ep_xml) else {
            panic!()
        };
        let crate::EndpointKind::Template {
            template,
            parameters,
        } = &ep.kind
        else {
            panic!("{:?}", ep.kind)
        };
        assert_eq!(template, "T");
        assert_eq!(parameters.len(), 4);
        let expanded = t.expand_endpoint(parameters).unwrap();
        assert_eq!(expanded.name.as_deref(), Some("Ep"));
        assert!(matches!(
            &expanded.kind,
            crate::EndpointKind::Http { uri_template, method } if uri_template == "http://b/x?a=1&b=2" && method.as_deref() == Some("GET")
        ));
        assert!(expanded.timeout.is_some());
        assert!(
            matches!(&expanded.properties[0].value, crate::ValueOrExpression::Value(v) if v == "pre-$timeout")
        );
        // Without a value for $timeout the duration is not a number.
        let err = t.expand_endpoint(&[]).unwrap_err().to_string();
        assert!(
            err.contains("templates/T.xml (endpoint template T from line 3)"),
            "{err}"
        );
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

    fn values() -> crate::inject::ProcessValues {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        crate::inject::ProcessValues::from_parts(
            map(&[("EP_NAME", "EnvEp"), ("BACKEND", "http://env/svc")]),
            map(&[("timeout", "4000")]),
            map(&[("template", "T")]),
            ["timeout".to_string()].into(),
        )
    }

    /// SYN `config/xml/endpoints/TemplateEndpointFactory.java` resolves `name`, `uri`,
    /// `template` and each `<parameter value>`; the expanded endpoint is built by the endpoint
    /// factories, which resolve its own values (SYN `endpoints/Template.java`).
    #[test]
    fn resolver_factory_in_template_endpoints() {
        let xml = r#"<endpoint xmlns="http://ws.apache.org/ns/synapse" name="$SYSTEM:EP_NAME" template="$FILE:template" uri="$SYSTEM:BACKEND"><parameter name="timeout" value="${configs.timeout}"/><parameter name="p" value="${payload.p}"/></endpoint>"#;
        let Ok(Artifact::Endpoint(ep)) =
            crate::artifact::parse_artifact_with("endpoints/Ep.xml", xml, &values())
        else {
            panic!()
        };
        assert_eq!(ep.name.as_deref(), Some("EnvEp"));
        let crate::EndpointKind::Template {
            template,
            parameters,
        } = &ep.kind
        else {
            panic!("{:?}", ep.kind)
        };
        assert_eq!(template, "T");
        let expected = [
            ("name", "EnvEp"),
            ("uri", "http://env/svc"),
            ("timeout", "4000"),
            ("p", "${payload.p}"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(parameters, &expected);

        // parse_artifact resolves nothing.
        let Ok(Artifact::Endpoint(ep)) = parse_artifact("endpoints/Ep.xml", xml) else {
            panic!()
        };
        assert_eq!(ep.name.as_deref(), Some("$SYSTEM:EP_NAME"));

        let err = crate::artifact::parse_artifact_with(
            "endpoints/Ep.xml",
            "<endpoint xmlns=\"http://ws.apache.org/ns/synapse\" name=\"E\" template=\"T\">\n  <parameter name=\"a\" value=\"$SYSTEM:NOPE\"/></endpoint>",
            &values(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot resolve \"$SYSTEM:NOPE\" in attribute 'value' of <parameter>: environment variable NOPE could not be found at endpoints/Ep.xml:2:23"
        );

        // The template's own endpoint: `$SYSTEM:` written there resolves at expansion.
        let t = parse(r#"<parameter name="x"/><endpoint name="$name"><address uri="$SYSTEM:BACKEND"/></endpoint>"#)
            .unwrap();
        let params = [("name".to_string(), "Ep".to_string())];
        let literal = t.expand_endpoint(&params).unwrap();
        assert!(
            matches!(&literal.kind, crate::EndpointKind::Address { uri, .. } if uri == "$SYSTEM:BACKEND")
        );
        let resolved = t.expand_endpoint_with(&params, &values()).unwrap();
        assert!(
            matches!(&resolved.kind, crate::EndpointKind::Address { uri, .. } if uri == "http://env/svc")
        );
        let err = t
            .expand_endpoint_with(&params, &crate::inject::NoValues)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("environment variable BACKEND could not be found at templates/T.xml (endpoint template T from line 2)"),
            "{err}"
        );
    }
}
