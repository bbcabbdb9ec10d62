//! `<sequence key="name"/>` used as a mediator: runs a named sequence (the key may be dynamic,
//! `{expr}`); an anonymous `<sequence>` with children runs them inline
//! (SYN:`config/xml/SequenceMediatorFactory.java`).

use roxmltree::Node;

use crate::expression::Value;
use crate::mediators::{Mediator, parse_mediator_list};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children};

#[derive(Debug, Clone, PartialEq)]
pub struct SequenceMediator {
    pub target: SequenceTarget,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SequenceTarget {
    Key(Value),
    Inline(Vec<Mediator>),
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<SequenceMediator> {
    let target = match ctx.value_attr(node, "key") {
        Some(key) => {
            if key.literal().is_some_and(|k| k.trim().is_empty()) {
                return Err(ctx.invalid_attr(node, "key", "", "the name of a sequence"));
            }
            if let Some(child) = element_children(node).next() {
                return Err(ctx.unknown(child, node, "no children in a sequence reference"));
            }
            SequenceTarget::Key(key)
        }
        None => SequenceTarget::Inline(parse_mediator_list(ctx, node)?),
    };
    Ok(SequenceMediator {
        target,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::test_support::*;

    #[test]
    fn static_dynamic_and_inline() {
        let Mediator::Sequence(s) = parse_one(r#"<sequence key="other"/>"#) else {
            panic!()
        };
        assert!(matches!(s.target, SequenceTarget::Key(ref k) if k.literal() == Some("other")));
        let Mediator::Sequence(s) = parse_one(r#"<sequence key="{get-property('seq')}"/>"#) else {
            panic!()
        };
        assert!(
            matches!(s.target, SequenceTarget::Key(Value::Dynamic(ref e)) if e.text == "get-property('seq')")
        );
        let Mediator::Sequence(s) = parse_one("<sequence><log/></sequence>") else {
            panic!()
        };
        assert!(matches!(s.target, SequenceTarget::Inline(ref l) if l.len() == 1));
        assert!(parse_err(r#"<sequence key=""/>"#).contains("attribute 'key' of <sequence>"));
    }
}
