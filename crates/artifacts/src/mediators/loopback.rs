//! `<loopback/>`: moves the message from the request flow to the response flow (DOCS/reference/mediators/loopback-mediator/).

use roxmltree::Node;

use crate::span::Span;
use crate::xml::{Ctx, Result, element_children};

#[derive(Debug, Clone, PartialEq)]
pub struct Loopback {
    pub span: Span,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Loopback> {
    if let Some(child) = element_children(node).next() {
        return Err(ctx.unknown(child, node, "no children"));
    }
    Ok(Loopback {
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    #[test]
    fn parses_and_rejects_children() {
        assert!(
            matches!(parse_one("<loopback/>"), Mediator::Loopback(d) if d.span.to_string() == "sequences/S.xml:2:1")
        );
        assert!(
            parse_err("<loopback><log/></loopback>")
                .starts_with("unknown element <log> in <loopback>")
        );
    }
}
