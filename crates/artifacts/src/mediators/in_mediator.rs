//! `<in>`: its children run only on the request flow (DOCS/reference/mediators/in-out-mediators/).

use roxmltree::Node;

use crate::mediators::{Mediator, parse_mediator_list};
use crate::span::Span;
use crate::xml::{Ctx, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct In {
    pub mediators: Vec<Mediator>,
    pub span: Span,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<In> {
    Ok(In {
        mediators: parse_mediator_list(ctx, node)?,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    #[test]
    fn parses_children() {
        let Mediator::In(m) = parse_one("<in><log/><send/></in>") else {
            panic!()
        };
        assert_eq!(m.mediators.len(), 2);
        assert!(parse_err("<in><nope/></in>").starts_with("unknown element <nope> in <in>"));
    }
}
