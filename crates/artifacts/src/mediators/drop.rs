//! `<drop/>`: stops mediation of the current message (DOCS/reference/mediators/drop-mediator/).

use roxmltree::Node;

use crate::mediators::parse_leaf;
use crate::span::Span;
use crate::xml::{Ctx, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct Drop {
    pub span: Span,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Drop> {
    Ok(Drop {
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
            matches!(parse_one("<drop/>"), Mediator::Drop(d) if d.span.to_string() == "sequences/S.xml:2:1")
        );
        assert!(parse_err("<drop><log/></drop>").starts_with("unknown element <log> in <drop>"));
    }
}
