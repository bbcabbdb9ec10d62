//! `<respond/>`: sends the current message back to the client and stops the flow (SYN:`mediators/builtin/RespondMediator.java`).

use roxmltree::Node;

use crate::mediators::parse_leaf;
use crate::span::Span;
use crate::xml::{Ctx, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct Respond {
    pub span: Span,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Respond> {
    Ok(Respond {
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
            matches!(parse_one("<respond/>"), Mediator::Respond(d) if d.span.to_string() == "sequences/S.xml:2:1")
        );
        assert!(
            parse_err("<respond><log/></respond>")
                .starts_with("unknown element <log> in <respond>")
        );
    }
}
