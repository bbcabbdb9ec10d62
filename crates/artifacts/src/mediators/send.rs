//! `<send [receive] [buildmessage]>[<endpoint>]</send>`: non-blocking hand-off to an endpoint
//! (none = the message's `To`, or back to the client in an out-sequence).
//! DOCS/reference/mediators/send-mediator/, SYN:`config/xml/SendMediatorFactory.java`.

use roxmltree::Node;

use crate::endpoint::{EndpointRef, parse_endpoint_ref};
use crate::expression::Value;
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

#[derive(Debug, Clone, PartialEq)]
pub struct Send {
    pub endpoint: Option<EndpointRef>,
    /// Sequence that receives the reply instead of the out-sequence.
    pub receive: Option<Value>,
    pub build_message: bool,
    pub span: Span,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Send> {
    Ok(Send {
        endpoint: parse_single_endpoint(ctx, node)?,
        receive: ctx.value_attr(node, "receive"),
        build_message: ctx.bool_attr(node, "buildmessage", false)?,
        span: ctx.span(node),
    })
}

/// At most one `<endpoint>` child; anything else is an error.
pub(crate) fn parse_single_endpoint(ctx: &Ctx, node: Node) -> Result<Option<EndpointRef>> {
    let mut endpoint = None;
    for child in element_children(node) {
        if !is_synapse_named(child, "endpoint") {
            return Err(ctx.unknown(child, node, "endpoint"));
        }
        if endpoint.is_some() {
            return Err(ctx.invalid(
                child,
                format!("<{}> takes at most one <endpoint>", node.tag_name().name()),
            ));
        }
        endpoint = Some(parse_endpoint_ref(ctx, child)?);
    }
    Ok(endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::EndpointKind;
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    #[test]
    fn inline_key_and_empty() {
        let Mediator::Send(s) =
            parse_one(r#"<send receive="r"><endpoint><address uri="http://b"/></endpoint></send>"#)
        else {
            panic!()
        };
        assert!(
            matches!(s.endpoint, Some(EndpointRef::Inline(ref e)) if matches!(e.kind, EndpointKind::Address { .. }))
        );
        assert_eq!(s.receive.as_ref().and_then(|r| r.literal()), Some("r"));
        let Mediator::Send(s) = parse_one(r#"<send><endpoint key="Ep"/></send>"#) else {
            panic!()
        };
        assert!(
            matches!(s.endpoint, Some(EndpointRef::Key(ref k, ref span)) if k == "Ep" && span.to_string() == "sequences/S.xml:2:17")
        );
        let Mediator::Send(s) = parse_one("<send/>") else {
            panic!()
        };
        assert_eq!(s.endpoint, None);
    }

    #[test]
    fn errors() {
        assert!(parse_err("<send><log/></send>").starts_with("unknown element <log> in <send>"));
        assert!(
            parse_err("<send buildmessage=\"yes\"/>")
                .contains("attribute 'buildmessage' of <send>")
        );
        assert!(
            parse_err(r#"<send><endpoint key="a"/><endpoint key="b"/></send>"#)
                .contains("at most one <endpoint>")
        );
    }
}
