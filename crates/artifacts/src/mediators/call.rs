//! `<call [blocking]>[<endpoint>]</call>`: sends and resumes with the reply as the current message.
//! DOCS/reference/mediators/call-mediator/; `blocking="true"` behaves the same for the caller
//! (synapse-subset.md §3.6). The MI 4.x `<source>`/`<target>` forms are not supported.

use roxmltree::Node;

use crate::endpoint::EndpointRef;
use crate::mediators::send::parse_single_endpoint;
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub endpoint: Option<EndpointRef>,
    pub blocking: bool,
    pub span: Span,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Call> {
    if let Some(child) = element_children(node)
        .find(|c| is_synapse_named(*c, "source") || is_synapse_named(*c, "target"))
    {
        return Err(ctx.unsupported(
            child,
            format!("call <{}>", child.tag_name().name()),
            "Tier 2",
        ));
    }
    Ok(Call {
        endpoint: parse_single_endpoint(ctx, node)?,
        blocking: ctx.bool_attr(node, "blocking", false)?,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    #[test]
    fn parses_blocking_and_endpoint() {
        let Mediator::Call(c) = parse_one(r#"<call blocking="true"><endpoint key="E"/></call>"#)
        else {
            panic!()
        };
        assert!(c.blocking);
        assert!(matches!(c.endpoint, Some(EndpointRef::Key(ref k, _)) if k == "E"));
        assert!(
            parse_err("<call><source/></call>")
                .starts_with("unsupported call <source> (Tier 2) at sequences/S.xml:2:7")
        );
    }
}
