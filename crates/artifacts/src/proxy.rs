//! Proxy services: `<proxy name transports startOnLoad>` with `<target>` (in/out/fault sequences and
//! endpoint, each inline or by name), `<parameter>`s and `<publishWSDL>` (kept as written, but for
//! the injected values, `$SYSTEM:`..., MI resolves in them).
//! SYN:`config/xml/ProxyServiceFactory.java`; WS-Security/Addressing/RM and policies are Tier 3.

use std::borrow::Cow;

use roxmltree::Node;

use crate::endpoint::{EndpointRef, parse_endpoint_ref};
use crate::sequence::{SequenceRef, parse_sequence_slot};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse, is_synapse_named, text_of};

/// Transports Conflux serves proxies on; MI exposes a proxy on every transport when the attribute
/// is absent, which for Conflux means these two.
pub const SUPPORTED_PROXY_TRANSPORTS: [&str; 2] = ["http", "https"];

#[derive(Debug, Clone, PartialEq)]
pub struct ProxyService {
    pub name: String,
    pub transports: Vec<String>,
    pub target: ProxyTarget,
    pub parameters: Vec<ProxyParameter>,
    pub publish_wsdl: Option<PublishWsdl>,
    pub start_on_load: bool,
    pub span: Span,
    /// The file as written (returned by the Management API as `configuration`).
    pub source: String,
    /// Elements MI's factory never reads, so ignores, and Conflux ignores too, saying so
    /// (`element <outSequenc> in <target> ignored: ... at file:line:column`); see [`ignored`].
    pub warnings: Vec<String>,
}

/// The warning for an element MI's factory does not read. SYN:`config/xml/ProxyServiceFactory.java`,
/// `rest/APIFactory.java` and `rest/ResourceFactory.java` look their children up by name
/// (`getFirstChildWithName`/`getChildrenWithName`), so anything else, a misspelt `<outSequenc>`
/// or a mediator placed outside any sequence, deploys and does nothing. Conflux deploys it too and
/// names it, so the typo is not silent.
pub(crate) fn ignored(ctx: &Ctx, node: Node, parent: Node, read: &str) -> String {
    format!(
        "element <{}> in <{}> ignored: MI reads only {read} there at {}",
        crate::xml::element_name(node),
        crate::xml::element_name(parent),
        ctx.span(node)
    )
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProxyTarget {
    pub in_sequence: SequenceRef,
    pub out_sequence: SequenceRef,
    pub fault_sequence: SequenceRef,
    pub endpoint: Option<EndpointRef>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProxyParameter {
    pub name: String,
    /// `value=` or the element content (text, or XML as written).
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PublishWsdl {
    pub uri: Option<String>,
    pub key: Option<String>,
    pub endpoint: Option<String>,
    /// Inline WSDL document, as written.
    pub inline: Option<String>,
    /// The whole `<publishWSDL>` element as written.
    pub source: String,
    pub span: Span,
}

pub(crate) fn parse_proxy(ctx: &Ctx, node: Node, source: &str) -> Result<ProxyService> {
    let name = ctx
        .required_attr(node, "name", "the proxy service's name")?
        .trim()
        .to_string();
    let transports: Vec<String> = match ctx.attr(node, "transports") {
        None => SUPPORTED_PROXY_TRANSPORTS
            .iter()
            .map(|t| t.to_string())
            .collect(),
        Some(list) => list
            .split([' ', ','])
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
    };
    // MI's `local` transport is its in-process shortcut for calls between its own services: a
    // proxy listing it is still served over http/https. Any other transport (jms...) is not
    // served here, so a proxy reachable only through such transports is unsupported.
    // `vfs`: the proxy polls a folder (inbound_endpoint.rs `vfs_settings`, the file poller).
    let served = |t: &str| {
        t == "all" || t == "local" || t == "vfs" || SUPPORTED_PROXY_TRANSPORTS.contains(&t)
    };
    if let Some(other) = transports.iter().find(|t| !served(t))
        && !transports
            .iter()
            .any(|t| t == "all" || t == "vfs" || SUPPORTED_PROXY_TRANSPORTS.contains(&t.as_str()))
    {
        return Err(crate::error::ArtifactError::Unsupported {
            what: format!("proxy transport '{other}'"),
            why: "only http and https are served".into(),
            span: ctx.attr_span(node, "transports"),
        });
    }
    // SYN `ProxyServiceFactory` resolves `pinnedServers` (a missing value fails the proxy);
    // Conflux runs one server, so the list itself is not used.
    ctx.injected_attr(node, "pinnedServers")?;
    let mut target = None;
    let mut parameters = Vec::new();
    let mut publish_wsdl = None;
    let mut warnings = Vec::new();
    const READ: &str = "target, parameter, publishWSDL, description and policy";
    for child in element_children(node) {
        if !is_synapse(child) {
            warnings.push(ignored(ctx, child, node, READ));
            continue;
        }
        match child.tag_name().name() {
            // ProxyServiceFactory reads the first <target> only.
            "target" if target.is_some() => warnings.push(ignored(ctx, child, node, READ)),
            "target" => target = Some(parse_target(ctx, child, &mut warnings)?),
            "parameter" => parameters.push(ProxyParameter {
                name: ctx
                    .required_attr(child, "name", "the parameter name")?
                    .to_string(),
                value: match ctx.attr(child, "value") {
                    Some(v) => v.to_string(),
                    None if element_children(child).next().is_some() => {
                        ctx.inner_source(child).trim().to_string()
                    }
                    // ProxyServiceFactory resolves a text parameter's trimmed text.
                    None => ctx
                        .inject(child, "the text", text_of(child).trim(), ctx.span(child))?
                        .into_owned(),
                },
                span: ctx.span(child),
            }),
            "publishWSDL" => {
                // ProxyServiceFactory reads (and resolves) `endpoint`, else `key`, else `uri`;
                // the attributes it does not read are kept as written.
                let endpoint = ctx.injected_attr(child, "endpoint")?;
                let key = match endpoint {
                    None => ctx.injected_attr(child, "key")?,
                    Some(_) => ctx.attr(child, "key").map(Cow::Borrowed),
                };
                let uri = match (&endpoint, &key) {
                    (None, None) => ctx.injected_attr(child, "uri")?,
                    _ => ctx.attr(child, "uri").map(Cow::Borrowed),
                };
                publish_wsdl = Some(PublishWsdl {
                    uri: uri.map(Cow::into_owned),
                    key: key.map(Cow::into_owned),
                    endpoint: endpoint.map(Cow::into_owned),
                    inline: element_children(child)
                        .find(|c| !is_synapse_named(*c, "resource"))
                        .map(|c| ctx.source(c)),
                    source: ctx.source(child),
                    span: ctx.span(child),
                })
            }
            kind @ ("policy" | "enableSec" | "enableAddressing" | "enableRM") => {
                return Err(ctx.unsupported(
                    child,
                    format!("proxy <{kind}>"),
                    "Tier 3: WS-* policies",
                ));
            }
            "description" => {}
            // A `<registry>` definition belongs to `<definitions>`/`registry.xml`; MI's
            // SYN:`config/xml/ProxyServiceFactory.java` reads only the children it knows, so one
            // pasted into a proxy configures nothing there and the proxy still deploys (MI test
            // artifact `MtomEnabledBackEndOUT.xml`); so does any other element, with a warning.
            _ => warnings.push(ignored(ctx, child, node, READ)),
        }
    }
    let Some(target) = target else {
        return Err(ctx.missing(
            node,
            "a child <target>",
            "what the proxy does with a request",
        ));
    };
    if transports.iter().any(|t| t == "vfs") {
        crate::inbound_endpoint::vfs_settings(
            &vfs_parameters(&parameters),
            crate::inbound_endpoint::VfsFlavour::ProxyService,
        )
        .map_err(|e| e.into_artifact_error(ctx, node, &format!("proxy service '{name}'")))?;
    }
    Ok(ProxyService {
        name,
        transports,
        target,
        parameters,
        publish_wsdl,
        start_on_load: ctx.bool_attr(node, "startOnLoad", true)?,
        span: ctx.span(node),
        source: source.to_string(),
        warnings,
    })
}

fn vfs_parameters(parameters: &[ProxyParameter]) -> Vec<crate::message_store::StoreParameter> {
    parameters
        .iter()
        .map(|p| crate::message_store::StoreParameter {
            name: p.name.clone(),
            value: p.value.trim().to_string(),
            span: p.span.clone(),
        })
        .collect()
}

impl ProxyService {
    /// The folder polling of a proxy with the `vfs` transport (its `transport.vfs.*`
    /// parameters, checked when it was parsed).
    pub fn vfs(&self) -> Option<crate::inbound_endpoint::VfsSettings> {
        if !self.transports.iter().any(|t| t == "vfs") {
            return None;
        }
        crate::inbound_endpoint::vfs_settings(
            &vfs_parameters(&self.parameters),
            crate::inbound_endpoint::VfsFlavour::ProxyService,
        )
        .ok()
    }
}

fn parse_target(ctx: &Ctx, node: Node, warnings: &mut Vec<String>) -> Result<ProxyTarget> {
    // ProxyServiceFactory reads the first of each of these by name; anything else is ignored.
    let mut seen: Vec<&str> = Vec::new();
    for child in element_children(node) {
        let name = child.tag_name().name();
        let known = is_synapse(child)
            && matches!(
                name,
                "inSequence" | "outSequence" | "faultSequence" | "endpoint"
            );
        if !known || seen.contains(&name) {
            warnings.push(ignored(
                ctx,
                child,
                node,
                "inSequence, outSequence, faultSequence and endpoint",
            ));
        } else {
            seen.push(name);
        }
    }
    let endpoint_element = element_children(node).find(|c| is_synapse_named(*c, "endpoint"));
    let endpoint = match (
        ctx.attr(node, "endpoint").filter(|v| !v.trim().is_empty()),
        endpoint_element,
    ) {
        (Some(_), Some(el)) => {
            return Err(ctx.invalid(
                el,
                "<endpoint> given both as attribute 'endpoint' and as an element".into(),
            ));
        }
        (Some(name), None) => Some(EndpointRef::Key(
            name.trim().to_string(),
            ctx.attr_span(node, "endpoint"),
        )),
        (None, Some(el)) => Some(parse_endpoint_ref(ctx, el)?),
        (None, None) => None,
    };
    Ok(ProxyTarget {
        in_sequence: parse_sequence_slot(ctx, node, "inSequence", "inSequence")?,
        out_sequence: parse_sequence_slot(ctx, node, "outSequence", "outSequence")?,
        fault_sequence: parse_sequence_slot(ctx, node, "faultSequence", "faultSequence")?,
        endpoint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::{Artifact, parse_artifact};

    fn proxy(xml: &str) -> std::result::Result<ProxyService, String> {
        match parse_artifact("proxy-services/P.xml", xml) {
            Ok(Artifact::ProxyService(p)) => Ok(p),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn target_forms_and_parameters() {
        let p = proxy(r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="P" transports="https http" startOnLoad="true">
  <target inSequence="In" endpoint="Ep"><faultSequence><drop/></faultSequence></target>
  <publishWSDL uri="file:a.wsdl"/>
  <parameter name="serviceType">proxy</parameter>
  <description>d</description>
</proxy>"#)
        .unwrap();
        assert_eq!(p.transports, ["https", "http"]);
        assert!(matches!(p.target.in_sequence, SequenceRef::Named(ref n, _) if n == "In"));
        assert!(
            matches!(p.target.endpoint, Some(EndpointRef::Key(ref n, ref s)) if n == "Ep" && s.to_string() == "proxy-services/P.xml:2:27")
        );
        assert!(matches!(p.target.fault_sequence, SequenceRef::Inline(_)));
        assert_eq!(p.parameters[0].value, "proxy");
        assert_eq!(
            p.publish_wsdl.as_ref().and_then(|w| w.uri.as_deref()),
            Some("file:a.wsdl")
        );
        assert!(p.start_on_load);
        let p = proxy(r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="P"><target><endpoint><address uri="http://b"/></endpoint></target></proxy>"#)
            .unwrap();
        assert_eq!(p.transports, ["http", "https"]);
        assert!(matches!(p.target.endpoint, Some(EndpointRef::Inline(_))));
    }

    /// SYN:`config/xml/ProxyServiceFactory.java` looks its children up by name and never sees a
    /// `<registry>`; MI deploys such a proxy.
    #[test]
    fn registry_definition_inside_a_proxy_is_ignored_as_in_proxy_service_factory() {
        let p = proxy(r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="P">
  <registry provider="org.wso2.carbon.mediation.registry.WSO2Registry"><parameter name="cachableDuration">15000</parameter></registry>
  <target><inSequence><drop/></inSequence></target>
</proxy>"#)
        .unwrap();
        assert!(
            p.parameters.is_empty(),
            "the registry's parameter is not the proxy's"
        );
        assert!(matches!(p.target.in_sequence, SequenceRef::Inline(_)));
        assert!(p.warnings[0].starts_with("element <registry> in <proxy> ignored"));
    }

    /// SYN:`config/xml/ProxyServiceFactory.java` reads `<target>` and its `inSequence`,
    /// `outSequence`, `faultSequence` and `endpoint` children with `getFirstChildWithName`: a
    /// misspelt `<outSequenc>` or an `<out>` left from Synapse 1.x deploys in MI and does nothing.
    /// Conflux deploys it too and names each ignored element with its position.
    #[test]
    fn elements_proxy_service_factory_does_not_read_are_ignored_with_a_warning() {
        let p = proxy("<proxy xmlns=\"http://ws.apache.org/ns/synapse\" name=\"P\">\n  <registri/>\n  <target>\n    <inSequence><drop/></inSequence>\n    <outSequenc><send/></outSequenc>\n    <out><send/></out>\n    <inSequence><log/></inSequence>\n  </target>\n  <x:y xmlns:x=\"urn:x\"/>\n</proxy>")
            .unwrap();
        assert_eq!(
            p.warnings,
            [
                "element <registri> in <proxy> ignored: MI reads only target, parameter, publishWSDL, description and policy there at proxy-services/P.xml:2:3",
                "element <outSequenc> in <target> ignored: MI reads only inSequence, outSequence, faultSequence and endpoint there at proxy-services/P.xml:5:5",
                "element <out> in <target> ignored: MI reads only inSequence, outSequence, faultSequence and endpoint there at proxy-services/P.xml:6:5",
                "element <inSequence> in <target> ignored: MI reads only inSequence, outSequence, faultSequence and endpoint there at proxy-services/P.xml:7:5",
                "element <x:y> in <proxy> ignored: MI reads only target, parameter, publishWSDL, description and policy there at proxy-services/P.xml:9:3",
            ]
        );
        // The first <inSequence> is the one that runs, as in MI.
        let SequenceRef::Inline(seq) = &p.target.in_sequence else {
            panic!("{:?}", p.target.in_sequence)
        };
        assert_eq!(seq.mediators.len(), 1);
        assert!(p.target.out_sequence.is_none());
        // What MI rejects stays rejected: no <target>.
        assert!(
            proxy(r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="P"><targt/></proxy>"#)
                .unwrap_err()
                .contains("requires a child <target>")
        );
    }

    #[test]
    fn located_errors() {
        assert_eq!(
            proxy("<proxy xmlns=\"http://ws.apache.org/ns/synapse\" name=\"P\">\n  <enableSec/><target/></proxy>").unwrap_err(),
            "unsupported proxy <enableSec> (Tier 3: WS-* policies) at proxy-services/P.xml:2:3"
        );
        assert!(proxy(r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="P" transports="jms"><target/></proxy>"#)
            .unwrap_err()
            .starts_with("unsupported proxy transport 'jms'"));
        // A VFS proxy reads its transport.vfs.* parameters (inbound_endpoint.rs).
        let vfs = proxy(
            r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="P" transports="vfs"><target/>
  <parameter name="transport.vfs.FileURI">file:///in</parameter><parameter name="transport.PollInterval">2</parameter></proxy>"#,
        );
        assert!(vfs.is_ok(), "{vfs:?}");
        let err = proxy(
            r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="P" transports="vfs"><target/>
  <parameter name="transport.vfs.FileURI">ftp://host/in</parameter></proxy>"#,
        )
        .unwrap_err();
        assert!(
            err.contains("of proxy service 'P'") && err.contains("ftp scheme"),
            "{err}"
        );
        assert!(err.ends_with("at proxy-services/P.xml:2:3"), "{err}");
        assert!(
            proxy(r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="P"/>"#)
                .unwrap_err()
                .contains("requires a child <target>")
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
            map(&[("WSDL_ENDPOINT", "WsdlEp"), ("BACKEND", "http://env/svc")]),
            map(&[]),
            map(&[("wsdl_key", "conf:/wsdl/p.wsdl"), ("param", "from-file")]),
            ["param".to_string()].into(),
        )
    }

    fn proxy_with(xml: &str) -> std::result::Result<ProxyService, String> {
        match crate::artifact::parse_artifact_with("proxy-services/P.xml", xml, &values()) {
            Ok(Artifact::ProxyService(p)) => Ok(p),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e.to_string()),
        }
    }

    /// SYN `config/xml/ProxyServiceFactory.java` resolves `pinnedServers`, the `publishWSDL`
    /// attribute it reads (`endpoint`, else `key`, else `uri`) and text `<parameter>`s through
    /// `ResolverFactory`; inline endpoints resolve in their own factories.
    #[test]
    fn resolver_factory_in_proxy_services() {
        let p = proxy_with(r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="P" pinnedServers="$SYSTEM:BACKEND">
  <target><endpoint><address uri="$SYSTEM:BACKEND"/></endpoint></target>
  <publishWSDL endpoint="$SYSTEM:WSDL_ENDPOINT" key="$SYSTEM:UNREAD"/>
  <parameter name="a">$FILE:param</parameter>
  <parameter name="b">  ${configs.param}  </parameter>
  <parameter name="c"><x>$SYSTEM:UNREAD</x></parameter>
  <parameter name="d">${payload.x}</parameter>
</proxy>"#)
        .unwrap();
        let values: Vec<&str> = p.parameters.iter().map(|p| p.value.as_str()).collect();
        assert_eq!(
            values,
            [
                "from-file",
                "from-file",
                "<x>$SYSTEM:UNREAD</x>",
                "${payload.x}"
            ]
        );
        let wsdl = p.publish_wsdl.unwrap();
        assert_eq!(wsdl.endpoint.as_deref(), Some("WsdlEp"));
        assert_eq!(wsdl.key.as_deref(), Some("$SYSTEM:UNREAD"));
        let Some(EndpointRef::Inline(e)) = &p.target.endpoint else {
            panic!("{:?}", p.target.endpoint)
        };
        assert!(
            matches!(&e.kind, crate::EndpointKind::Address { uri, .. } if uri == "http://env/svc")
        );
        let p = proxy_with(r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="P"><target/><publishWSDL key="$FILE:wsdl_key" uri="$SYSTEM:UNREAD"/></proxy>"#).unwrap();
        let wsdl = p.publish_wsdl.unwrap();
        assert_eq!(wsdl.key.as_deref(), Some("conf:/wsdl/p.wsdl"));
        assert_eq!(wsdl.uri.as_deref(), Some("$SYSTEM:UNREAD"));
        let p = proxy_with(r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="P"><target/><publishWSDL uri="$FILE:wsdl_key"/></proxy>"#).unwrap();
        assert_eq!(
            p.publish_wsdl.unwrap().uri.as_deref(),
            Some("conf:/wsdl/p.wsdl")
        );
    }

    #[test]
    fn unresolvable_proxy_values_are_located() {
        assert_eq!(
            proxy_with("<proxy xmlns=\"http://ws.apache.org/ns/synapse\" name=\"P\">\n<target/>\n  <parameter name=\"a\">$SYSTEM:NOPE</parameter></proxy>").unwrap_err(),
            "cannot resolve \"$SYSTEM:NOPE\" in the text of <parameter>: environment variable NOPE could not be found at proxy-services/P.xml:3:3"
        );
        assert_eq!(
            proxy_with("<proxy xmlns=\"http://ws.apache.org/ns/synapse\" name=\"P\" pinnedServers=\"$config:nodes\"><target/></proxy>").unwrap_err(),
            "cannot resolve \"$config:nodes\" in attribute 'pinnedServers' of <proxy>: configuration parameter nodes could not be found; declare it in config.properties and set it as an environment variable, a -D system property or in conf/file.properties at proxy-services/P.xml:1:57"
        );
        assert!(
            proxy_with("<proxy xmlns=\"http://ws.apache.org/ns/synapse\" name=\"P\"><target/>\n<publishWSDL uri=\"$FILE:nope\"/></proxy>")
                .unwrap_err()
                .ends_with("file parameter key nope could not be found at proxy-services/P.xml:2:14")
        );
        // parse_artifact resolves nothing.
        let p = proxy("<proxy xmlns=\"http://ws.apache.org/ns/synapse\" name=\"P\" pinnedServers=\"$SYSTEM:NOPE\"><target/><parameter name=\"a\">$SYSTEM:NOPE</parameter></proxy>").unwrap();
        assert_eq!(p.parameters[0].value, "$SYSTEM:NOPE");
    }
}
