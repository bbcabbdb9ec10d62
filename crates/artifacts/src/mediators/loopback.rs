//! `<loopback/>`: moves the message from the request flow to the response flow (DOCS/reference/mediators/loopback-mediator/).

use roxmltree::Node;

use crate::mediators::parse_leaf;
use crate::span::Span;
use crate::xml::{Ctx, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct Loopback {
    pub span: Span,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Loopback> {
    Ok(Loopback {
        span: parse_leaf(ctx, node)?,
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
