//! `<out>`: its children run only on the response flow (DOCS/reference/mediators/in-out-mediators/).

use roxmltree::Node;

use crate::mediators::{Mediator, parse_mediator_list};
use crate::span::Span;
use crate::xml::{Ctx, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct Out {
    pub mediators: Vec<Mediator>,
    pub span: Span,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Out> {
    Ok(Out {
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
        let Mediator::Out(m) = parse_one("<out><log/><send/></out>") else {
            panic!()
        };
        assert_eq!(m.mediators.len(), 2);
        assert!(parse_err("<out><nope/></out>").starts_with("unknown element <nope> in <out>"));
    }
}
