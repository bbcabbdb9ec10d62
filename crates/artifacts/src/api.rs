//! REST APIs: `<api name context [version version-type] [hostname port]>` with `<resource>`s.
//! Context rules from SYN:`config/xml/rest/APIFactory.java` and synapse-subset.md §3.2 (must start
//! with '/', trailing '/' trimmed, `{version}` substituted for version-type=context); resources
//! from SYN:`config/xml/rest/ResourceFactory.java`.

use roxmltree::Node;

use crate::proxy::ignored;
use crate::sequence::{SequenceRef, parse_sequence_slot};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse, is_synapse_named};

#[derive(Debug, Clone, PartialEq)]
pub struct Api {
    pub name: String,
    /// Starts with '/', no trailing '/', `{version}` already substituted for `VersionType::Context`.
    pub context: String,
    pub version: Option<String>,
    pub version_type: Option<VersionType>,
    pub hostname: Option<String>,
    pub port: Option<u16>,
    pub resources: Vec<Resource>,
    /// `publishSwagger`: the registry path of the API's custom definition
    /// (`/_system/governance/custom/swagger.json`, or a `gov:`/`conf:` key), as written
    /// (SYN:`config/xml/rest/APIFactory.java` keeps the attribute value unchanged).
    pub publish_swagger: Option<String>,
    pub span: Span,
    /// The file as written (returned by the Management API as `configuration`).
    pub source: String,
    /// Elements MI's factories never read, ignored with a warning ([`crate::proxy::ignored`]).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionType {
    /// Version is the first path segment after the context.
    Url,
    /// `{version}` in the context is replaced by the version.
    Context,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Upper-case; empty means any method.
    pub methods: Vec<String>,
    pub uri_template: Option<(String, Span)>,
    pub url_mapping: Option<(String, Span)>,
    pub protocol: Option<Protocol>,
    pub content_type: Option<String>,
    pub user_agent: Option<String>,
    pub in_sequence: SequenceRef,
    pub out_sequence: SequenceRef,
    pub fault_sequence: SequenceRef,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Https,
}

/// Methods MI's resource factory knows (`RESTConstants`).
const RESOURCE_METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"];

pub(crate) fn parse_api(ctx: &Ctx, node: Node, source: &str) -> Result<Api> {
    let name = ctx
        .required_attr(node, "name", "the API's name")?
        .trim()
        .to_string();
    let raw_context = ctx
        .required_attr(node, "context", "the URL path the API serves, e.g. /orders")?
        .trim();
    if !raw_context.starts_with('/') {
        return Err(ctx.invalid_attr(node, "context", raw_context, "a path starting with '/'"));
    }
    let version = ctx
        .attr(node, "version")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    let version_type = match ctx.attr(node, "version-type").map(str::trim) {
        None | Some("") => None,
        Some("url") => Some(VersionType::Url),
        Some("context") => Some(VersionType::Context),
        Some(other) => return Err(ctx.invalid_attr(node, "version-type", other, "url or context")),
    };
    // VersionStrategyFactory: a version needs a version-type; a version-type alone is accepted
    // (empty version).
    if version.is_some() && version_type.is_none() {
        return Err(ctx.missing(
            node,
            "attribute 'version-type'",
            "url or context, because 'version' is set",
        ));
    }
    let mut context = raw_context.to_string();
    if version_type == Some(VersionType::Context) {
        context = context.replace("{version}", version.as_deref().unwrap_or(""));
    }
    while context.len() > 1 && context.ends_with('/') {
        context.pop();
    }
    let port = match ctx.attr(node, "port") {
        None => None,
        Some(p) => match p.trim().parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(ctx.invalid_attr(node, "port", p, "a port number 1-65535")),
        },
    };
    let mut resources = Vec::new();
    let mut warnings = Vec::new();
    for child in element_children(node) {
        if is_synapse_named(child, "resource") {
            resources.push(parse_resource(ctx, child, &mut warnings)?);
        } else if is_synapse_named(child, "handlers") {
            return Err(ctx.unsupported(child, "API <handlers>".into(), "needs a Java plug-in"));
        } else if !is_synapse_named(child, "description") {
            // SYN:`config/xml/rest/APIFactory.java` reads its children by name.
            warnings.push(ignored(
                ctx,
                child,
                node,
                "resource, handlers and description",
            ));
        }
    }
    if resources.is_empty() {
        return Err(ctx.missing(node, "at least one <resource>", ""));
    }
    Ok(Api {
        name,
        context,
        version,
        version_type,
        hostname: ctx.attr(node, "hostname").map(|h| h.trim().to_string()),
        port,
        resources,
        publish_swagger: ctx.attr(node, "publishSwagger").map(str::to_string),
        span: ctx.span(node),
        source: source.to_string(),
        warnings,
    })
}

fn parse_resource(ctx: &Ctx, node: Node, warnings: &mut Vec<String>) -> Result<Resource> {
    let mut methods = Vec::new();
    if let Some(list) = ctx.attr(node, "methods") {
        for method in list.split_whitespace() {
            let upper = method.to_ascii_uppercase();
            if !RESOURCE_METHODS.contains(&upper.as_str()) {
                return Err(ctx.invalid_attr(
                    node,
                    "methods",
                    method,
                    "GET, POST, PUT, DELETE, HEAD, OPTIONS or PATCH",
                ));
            }
            if !methods.contains(&upper) {
                methods.push(upper);
            }
        }
    }
    let located = |name: &str| {
        ctx.attr(node, name)
            .map(|v| (v.trim().to_string(), ctx.attr_span(node, name)))
    };
    let uri_template = located("uri-template");
    let url_mapping = located("url-mapping");
    if uri_template.is_some() && url_mapping.is_some() {
        return Err(ctx.invalid(
            node,
            "a resource takes uri-template or url-mapping, not both".into(),
        ));
    }
    if let Some((template, _)) = &uri_template {
        // RFC 6570 operators that Synapse rejects at deploy time (synapse-subset.md §3.4).
        if template.contains("{?") || template.contains("{;") || template.contains("{&") {
            return Err(ctx.invalid_attr(
                node,
                "uri-template",
                template,
                "a template without {?..}, {;..} or {&..} expressions",
            ));
        }
    }
    let protocol = match ctx.attr(node, "protocol").map(str::trim) {
        None => None,
        Some("http") => Some(Protocol::Http),
        Some("https") => Some(Protocol::Https),
        Some(other) => return Err(ctx.invalid_attr(node, "protocol", other, "http or https")),
    };
    // SYN:`config/xml/rest/ResourceFactory.java` reads the first of each sequence by name; a
    // mediator written straight into <resource> (a `<respond/>` outside <inSequence>) is ignored.
    let mut seen: Vec<&str> = Vec::new();
    for child in element_children(node) {
        let name = child.tag_name().name();
        let known =
            is_synapse(child) && matches!(name, "inSequence" | "outSequence" | "faultSequence");
        if !known || seen.contains(&name) {
            warnings.push(ignored(
                ctx,
                child,
                node,
                "inSequence, outSequence and faultSequence",
            ));
        } else {
            seen.push(name);
        }
    }
    Ok(Resource {
        methods,
        uri_template,
        url_mapping,
        protocol,
        content_type: ctx.attr(node, "content-type").map(str::to_string),
        user_agent: ctx.attr(node, "user-agent").map(str::to_string),
        in_sequence: parse_sequence_slot(ctx, node, "inSequence", "inSequence")?,
        out_sequence: parse_sequence_slot(ctx, node, "outSequence", "outSequence")?,
        fault_sequence: parse_sequence_slot(ctx, node, "faultSequence", "faultSequence")?,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::{Artifact, parse_artifact};

    fn api(xml: &str) -> Api {
        match parse_artifact("api/A.xml", xml) {
            Ok(Artifact::Api(a)) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn context_version_and_resources() {
        let a = api(
            r#"<api xmlns="http://ws.apache.org/ns/synapse" name="A" context="/v{version}/orders/" version="1.0" version-type="context" hostname="h" port="8290">
  <resource methods="get post" uri-template="/{id}" inSequence="In"><faultSequence><drop/></faultSequence></resource>
  <resource url-mapping="/*"><inSequence><respond/></inSequence></resource>
</api>"#,
        );
        assert_eq!(a.context, "/v1.0/orders");
        assert_eq!(
            (a.version.as_deref(), a.version_type),
            (Some("1.0"), Some(VersionType::Context))
        );
        assert_eq!((a.hostname.as_deref(), a.port), (Some("h"), Some(8290)));
        let r = &a.resources[0];
        assert_eq!(r.methods, ["GET", "POST"]);
        assert_eq!(
            r.uri_template
                .as_ref()
                .map(|(t, s)| (t.as_str(), s.to_string())),
            Some(("/{id}", "api/A.xml:2:32".into()))
        );
        assert!(matches!(r.in_sequence, SequenceRef::Named(ref n, _) if n == "In"));
        assert!(matches!(r.fault_sequence, SequenceRef::Inline(_)));
        assert!(r.out_sequence.is_none());
        assert!(a.resources[1].methods.is_empty());
        assert!(a.source.starts_with("<api"));
    }

    /// SYN:`config/xml/rest/APIFactory.java` reads `<resource>`s and `<handlers>` by name and
    /// `rest/ResourceFactory.java` reads the first `inSequence`/`outSequence`/`faultSequence`: a
    /// `<respond/>` written straight into `<resource>` deploys in MI and does nothing.
    #[test]
    fn elements_api_and_resource_factories_do_not_read_are_ignored_with_a_warning() {
        let a = api(
            "<api xmlns=\"http://ws.apache.org/ns/synapse\" name=\"A\" context=\"/a\">\n <resource methods=\"GET\">\n  <respond/>\n  <inSequence><respond/></inSequence>\n </resource>\n <resourse/>\n</api>",
        );
        assert_eq!(
            a.warnings,
            [
                "element <respond> in <resource> ignored: MI reads only inSequence, outSequence and faultSequence there at api/A.xml:3:3",
                "element <resourse> in <api> ignored: MI reads only resource, handlers and description there at api/A.xml:6:2",
            ]
        );
        assert!(matches!(a.resources[0].in_sequence, SequenceRef::Inline(_)));
        // What MI rejects stays rejected.
        assert!(parse_artifact("api/A.xml", r#"<api xmlns="http://ws.apache.org/ns/synapse" name="A" context="/a"><resource methods="FETCH"><x/></resource></api>"#).is_err());
    }

    #[test]
    fn publish_swagger_is_kept_as_written() {
        let a = api(
            r#"<api xmlns="http://ws.apache.org/ns/synapse" name="A" context="/a" publishSwagger="/_system/governance/custom/s.json"><resource/></api>"#,
        );
        assert_eq!(
            a.publish_swagger.as_deref(),
            Some("/_system/governance/custom/s.json")
        );
        let a = api(
            r#"<api xmlns="http://ws.apache.org/ns/synapse" name="A" context="/a"><resource/></api>"#,
        );
        assert_eq!(a.publish_swagger, None);
    }

    #[test]
    fn root_context_is_kept() {
        let a = api(
            r#"<api xmlns="http://ws.apache.org/ns/synapse" name="A" context="/"><resource/></api>"#,
        );
        assert_eq!(a.context, "/");
    }

    #[test]
    fn located_errors() {
        let err = parse_artifact("api/A.xml", r#"<api xmlns="http://ws.apache.org/ns/synapse" name="A" context="orders"><resource/></api>"#)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value \"orders\" for attribute 'context' of <api>: expected a path starting with '/' at api/A.xml:1:55"
        );
        let err = parse_artifact("api/A.xml", "<api xmlns=\"http://ws.apache.org/ns/synapse\" name=\"A\" context=\"/a\">\n <resource methods=\"FETCH\"/></api>")
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("attribute 'methods' of <resource>")
                && err.to_string().ends_with("api/A.xml:2:12"),
            "{err}"
        );
        let err = parse_artifact("api/A.xml", r#"<api xmlns="http://ws.apache.org/ns/synapse" name="A" context="/a"><resource uri-template="/a" url-mapping="/b"/></api>"#)
            .unwrap_err();
        assert!(err.to_string().contains("not both"));
        let err = parse_artifact("api/A.xml", r#"<api xmlns="http://ws.apache.org/ns/synapse" name="A" context="/a"><handlers/></api>"#)
            .unwrap_err();
        assert!(err.to_string().starts_with("unsupported API <handlers>"));
        let err = parse_artifact("api/A.xml", r#"<api xmlns="http://ws.apache.org/ns/synapse" name="A" context="/a" version="1"><resource/></api>"#)
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("<api> requires attribute 'version-type'"),
            "{err}"
        );
    }
}
