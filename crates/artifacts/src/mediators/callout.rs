//! `<callout serviceURL | endpointKey [action] [initAxis2ClientOptions]>` with `<endpoint>`,
//! `<source xpath | key | type="envelope">` and `<target xpath | key>`: a blocking SOAP call whose
//! reply is written into the message, which stays a request.
//!
//! Read as SYN `config/xml/CalloutMediatorFactory.java` reads it: `serviceURL` wins over
//! `endpointKey`, which wins over an inline `<endpoint>` (CalloutMediator.init / mediate); with
//! none of them the message's `To` address is used (a `DefaultEndpoint`); no `<source>` means the
//! whole envelope (`setUseEnvelopeAsSource(true)`); a `<source>` or `<target>` needs `xpath` or
//! `key`; `initAxis2ClientOptions` takes only `true`/`false`. `<enableSec>` (WS-Security, Rampart)
//! and `<configuration axis2xml repository>` (an Axis2 client repository) are reported as
//! unsupported. Runtime: `crates/mediation/src/runtime/mediators/callout.rs`.

use roxmltree::Node;

use crate::endpoint::{EndpointRef, parse_endpoint_ref};
use crate::expression::Expression;
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

#[derive(Debug, Clone, PartialEq)]
pub struct Callout {
    pub service: CalloutService,
    /// `action`: the SOAPAction (and WS-Addressing action) of the request.
    pub action: Option<String>,
    /// `initAxis2ClientOptions` (default true): false sends with the message's own client
    /// options (the `axis2-client` scope) instead of fresh ones.
    pub init_client_options: bool,
    pub source: CalloutSource,
    pub target: CalloutTarget,
    pub span: Span,
}

/// Where the request goes.
#[derive(Debug, Clone, PartialEq)]
pub enum CalloutService {
    /// `serviceURL`: an address endpoint that is never suspended (empty: every call fails).
    Url(String, Span),
    /// `endpointKey="name"` (a key) or an inline `<endpoint>`.
    Endpoint(EndpointRef),
    /// Neither: the message's `To` address.
    To,
}

/// What is sent.
#[derive(Debug, Clone, PartialEq)]
pub enum CalloutSource {
    /// `type="envelope"`, or no `<source>`: the message as it is.
    Envelope,
    /// `xpath`: the first element it selects becomes the body of the request.
    XPath(Expression),
    /// `key`: a property holding an element, else a local entry of that key.
    Key(String),
}

/// Where the reply goes.
#[derive(Debug, Clone, PartialEq)]
pub enum CalloutTarget {
    /// No `<target>`: the reply's envelope replaces the message's.
    Envelope,
    /// `xpath`: the first node it selects is replaced by the reply's payload element.
    XPath(Expression),
    /// `key`: a property that holds the reply's payload element.
    Key(String),
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Callout> {
    let mut endpoint = None;
    let mut source = None;
    let mut target = None;
    for child in element_children(node) {
        if is_synapse_named(child, "endpoint") && endpoint.is_none() {
            endpoint = Some(parse_endpoint_ref(ctx, child)?);
        } else if is_synapse_named(child, "source") && source.is_none() {
            source = Some(parse_source(ctx, child)?);
        } else if is_synapse_named(child, "target") && target.is_none() {
            target = Some(parse_target(ctx, child)?);
        } else if is_synapse_named(child, "enableSec") {
            return Err(ctx.unsupported(
                child,
                "callout <enableSec>".into(),
                "WS-Security needs Rampart",
            ));
        } else if is_synapse_named(child, "configuration") {
            return Err(ctx.unsupported(
                child,
                "callout <configuration>".into(),
                "an Axis2 client repository / axis2.xml",
            ));
        } else {
            return Err(ctx.unknown(
                child,
                node,
                "one each of endpoint, source, target (configuration and enableSec are unsupported)",
            ));
        }
    }
    // An empty serviceURL deploys: each call to it fails (MI test TestFaultSequenceCalled).
    let service = if let Some(url) = ctx.attr(node, "serviceURL") {
        CalloutService::Url(url.trim().to_string(), ctx.attr_span(node, "serviceURL"))
    } else if let Some(key) = ctx.attr(node, "endpointKey") {
        if key.trim().is_empty() {
            return Err(ctx.invalid_attr(node, "endpointKey", key, "the name of an endpoint"));
        }
        CalloutService::Endpoint(EndpointRef::Key(
            key.trim().to_string(),
            ctx.attr_span(node, "endpointKey"),
        ))
    } else if let Some(inline) = endpoint {
        CalloutService::Endpoint(inline)
    } else {
        CalloutService::To
    };
    // CalloutMediatorFactory: "The 'initAxis2ClientOptions' attribute only accepts a boolean value."
    let init_client_options = ctx.bool_attr(node, "initAxis2ClientOptions", true)?;
    Ok(Callout {
        service,
        action: ctx.attr(node, "action").map(str::to_string),
        init_client_options,
        source: source.unwrap_or(CalloutSource::Envelope),
        target: target.unwrap_or(CalloutTarget::Envelope),
        span: ctx.span(node),
    })
}

fn parse_source(ctx: &Ctx, node: Node) -> Result<CalloutSource> {
    if ctx.attr(node, "type") == Some("envelope") {
        return Ok(CalloutSource::Envelope);
    }
    if let Some(xpath) = ctx.expression_attr(node, "xpath")? {
        return Ok(CalloutSource::XPath(xpath));
    }
    if let Some(key) = ctx.attr(node, "key") {
        return Ok(CalloutSource::Key(key.to_string()));
    }
    Err(ctx.missing(
        node,
        "attribute 'xpath' or 'key'",
        "a callout source is an XPath, a key or type=\"envelope\"",
    ))
}

fn parse_target(ctx: &Ctx, node: Node) -> Result<CalloutTarget> {
    if let Some(xpath) = ctx.expression_attr(node, "xpath")? {
        return Ok(CalloutTarget::XPath(xpath));
    }
    if let Some(key) = ctx.attr(node, "key") {
        return Ok(CalloutTarget::Key(key.to_string()));
    }
    Err(ctx.missing(
        node,
        "attribute 'xpath' or 'key'",
        "a callout target is an XPath or a key",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    fn callout(body: &str) -> Callout {
        match parse_one(body) {
            Mediator::Callout(c) => c,
            other => panic!("{other:?}"),
        }
    }

    // MI's SimpleStockQuote proxy (CallMediatorBlockingTransportHeaderTestCase).
    #[test]
    fn service_url_with_xpath_source_and_target() {
        let c = callout(
            r#"<callout serviceURL="http://localhost:8991/services/S" action="urn:getQuote">
                 <source xmlns:s11="http://schemas.xmlsoap.org/soap/envelope/" xpath="s11:Body/child::*[fn:position()=1]"/>
                 <target xmlns:s11="http://schemas.xmlsoap.org/soap/envelope/" xpath="s11:Body/child::*[fn:position()=1]"/>
               </callout>"#,
        );
        assert!(
            matches!(c.service, CalloutService::Url(ref u, _) if u == "http://localhost:8991/services/S")
        );
        assert_eq!(c.action.as_deref(), Some("urn:getQuote"));
        assert!(c.init_client_options);
        let CalloutSource::XPath(x) = &c.source else {
            panic!("{:?}", c.source)
        };
        assert_eq!(x.text, "s11:Body/child::*[fn:position()=1]");
        assert!(x.namespaces.iter().any(|(p, _)| p == "s11"));
        assert!(matches!(c.target, CalloutTarget::XPath(_)));
    }

    #[test]
    fn defaults_keys_and_endpoints() {
        let c = callout("<callout/>");
        assert_eq!(c.service, CalloutService::To);
        assert_eq!(c.source, CalloutSource::Envelope);
        assert_eq!(c.target, CalloutTarget::Envelope);
        let c = callout(
            r#"<callout endpointKey="Ep" initAxis2ClientOptions="FALSE"><source key="req"/><target key="res"/></callout>"#,
        );
        assert!(
            matches!(c.service, CalloutService::Endpoint(EndpointRef::Key(ref k, _)) if k == "Ep")
        );
        assert!(!c.init_client_options);
        assert_eq!(c.source, CalloutSource::Key("req".into()));
        assert_eq!(c.target, CalloutTarget::Key("res".into()));
        let c = callout(
            r#"<callout><endpoint><address uri="http://b/s"/></endpoint><source type="envelope"/></callout>"#,
        );
        assert!(matches!(
            c.service,
            CalloutService::Endpoint(EndpointRef::Inline(_))
        ));
        // serviceURL wins over an inline endpoint (CalloutMediator.init).
        let c = callout(
            r#"<callout serviceURL="http://a/s"><endpoint><address uri="http://b/s"/></endpoint></callout>"#,
        );
        assert!(matches!(c.service, CalloutService::Url(..)));
        let c = callout(r#"<callout serviceURL=""/>"#);
        assert!(matches!(c.service, CalloutService::Url(ref u, _) if u.is_empty()));
    }

    #[test]
    fn errors() {
        assert!(
            parse_err(r#"<callout serviceURL="http://a"><source/></callout>"#)
                .contains("requires attribute 'xpath' or 'key'")
        );
        assert!(
            parse_err(r#"<callout serviceURL="http://a"><target/></callout>"#)
                .contains("requires attribute 'xpath' or 'key'")
        );
        assert!(
            parse_err(r#"<callout serviceURL="http://a" initAxis2ClientOptions="yes"/>"#)
                .contains("attribute 'initAxis2ClientOptions' of <callout>")
        );
        assert!(
            parse_err(r#"<callout serviceURL="http://a"><enableSec policy="p"/></callout>"#)
                .starts_with("unsupported callout <enableSec>")
        );
        assert!(
            parse_err(
                r#"<callout serviceURL="http://a"><configuration axis2xml="a.xml"/></callout>"#
            )
            .starts_with("unsupported callout <configuration>")
        );
        assert!(
            parse_err(r#"<callout serviceURL="http://a"><log/></callout>"#)
                .starts_with("unknown element <log> in <callout>")
        );
    }
}
