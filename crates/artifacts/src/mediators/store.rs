//! `<store messageStore="name|{expr}" sequence?/>`: stores a copy of the message in a message store
//! and lets the flow go on (SYN:`config/xml/MessageStoreMediatorFactory.java`,
//! SYN:`mediators/store/MessageStoreMediator.java`); the runtime side is
//! `conflux_mediation::runtime::mediators::store`.

use roxmltree::Node;

use crate::expression::Expression;
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children};

/// Which store: a name, or an expression (written `{...}`) evaluated per message.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreTarget {
    Name(String),
    Expression(Expression),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Store {
    pub message_store: StoreTarget,
    /// `sequence`: run on the stored copy before it is stored (MessageStoreMediator onStoreSequence).
    pub on_store_sequence: Option<String>,
    pub span: Span,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Store> {
    // MessageStoreMediatorFactory: "Message Store mediator must have a Message store defined".
    let raw = ctx.required_attr(
        node,
        "messageStore",
        "the message store's name or {expression}",
    )?;
    let message_store = match raw.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        Some(path) if !path.trim().is_empty() => {
            StoreTarget::Expression(ctx.expression(node, path, ctx.attr_span(node, "messageStore")))
        }
        Some(_) => {
            return Err(ctx.invalid_attr(
                node,
                "messageStore",
                raw,
                "a store name or a non-empty {expression}",
            ));
        }
        None => StoreTarget::Name(raw.trim().to_string()),
    };
    if let Some(child) = element_children(node).next() {
        return Err(ctx.unknown(child, node, ""));
    }
    Ok(Store {
        message_store,
        on_store_sequence: ctx.attr(node, "sequence").map(|s| s.trim().to_string()),
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::test_support::parse_root;

    fn parse_str(xml: &str) -> std::result::Result<Store, String> {
        parse_root(xml, parse)
    }

    const NS: &str = "xmlns=\"http://ws.apache.org/ns/synapse\"";

    #[test]
    fn named_store_with_on_store_sequence() {
        let s = parse_str(&format!("<store {NS} messageStore=\"S\" sequence=\"Q\"/>")).unwrap();
        assert_eq!(s.message_store, StoreTarget::Name("S".into()));
        assert_eq!(s.on_store_sequence.as_deref(), Some("Q"));
    }

    #[test]
    fn braced_store_is_an_expression() {
        let s = parse_str(&format!(
            "<store {NS} messageStore=\"{{get-property('s')}}\"/>"
        ))
        .unwrap();
        assert!(matches!(s.message_store, StoreTarget::Expression(_)));
    }

    #[test]
    fn store_requires_a_message_store() {
        let err = parse_str(&format!("<store {NS}/>")).unwrap_err();
        assert!(
            err.starts_with("<store> requires attribute 'messageStore'"),
            "{err}"
        );
        let err = parse_str(&format!("<store {NS} messageStore=\"{{}}\"/>")).unwrap_err();
        assert!(err.contains("non-empty {expression}"), "{err}");
    }
}
