//! The classic `<foreach expression="xpath|json-eval(...)" [sequence="key"] [id]
//! [continueLoopOnFailure]><sequence>...</sequence></foreach>` (before MI 4.4's
//! `collection=` form, see `foreach.rs`), read as SYN `config/xml/ForEachMediatorFactory.java`
//! reads it when `collection` is absent or blank: `expression` is required, `sequence=` wins over
//! the first inline `<sequence>` child, `continueLoopOnFailure` is Java's `Boolean.parseBoolean`
//! (true only for `true` in any case), and an inline sequence whose own mediators include a
//! `call`, `send` or `callout` is refused ("Sequence cannot contain Call, Send or CallOut
//! mediators"; only its top level is checked, as there). A referenced sequence is checked when a
//! message reaches the foreach, as MI does.
//!
//! Difference: a foreach with neither `sequence=` nor a `<sequence>` is refused at deploy (MI
//! deploys it and fails each message with "Couldn't find sequence information").

use roxmltree::Node;

use crate::expression::Expression;
use crate::mediators::iterate::EipSequence;
use crate::mediators::parse_mediator_list;
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

#[derive(Debug, Clone, PartialEq)]
pub struct ForEachClassic {
    /// `id`: prefixes the `FOREACH_COUNTER` / `FOREACH_ORIGINAL_MESSAGE` properties (`ID_`).
    pub id: Option<String>,
    /// The XPath or `json-eval(...)` JSONPath whose matches are iterated.
    pub expression: Expression,
    pub sequence: EipSequence,
    /// `continueLoopOnFailure`: a failed iteration is logged and skipped.
    pub continue_loop_on_failure: bool,
    pub span: Span,
}

/// Mediators an inline foreach sequence may not hold at its top level (ForEachMediatorFactory
/// validateSequence: CallMediator, CalloutMediator, SendMediator).
pub const FORBIDDEN_IN_FOREACH: &[&str] = &["call", "send", "callout"];

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<ForEachClassic> {
    let Some(expression) = ctx.expression_attr(node, "expression")? else {
        return Err(ctx.missing(
            node,
            "attribute 'expression'",
            "the XPath/JSONPath to split by (MI: \"XPath/JSONPath expression is required for an ForEach Mediator under the \\\"expression\\\" attribute\")",
        ));
    };
    let sequence = match ctx.attr(node, "sequence") {
        Some(key) => EipSequence::Key(key.to_string(), ctx.attr_span(node, "sequence")),
        None => {
            let Some(inline) = element_children(node).find(|c| is_synapse_named(*c, "sequence"))
            else {
                return Err(ctx.missing(
                    node,
                    "attribute 'sequence' or a <sequence> child",
                    "the mediators run for each match",
                ));
            };
            let mediators = parse_mediator_list(ctx, inline)?;
            if let Some(m) = mediators
                .iter()
                .find(|m| FORBIDDEN_IN_FOREACH.contains(&m.name()))
            {
                return Err(ctx.invalid(
                    inline,
                    format!(
                        "<foreach> sequence cannot hold <{}> (MI: \"Sequence cannot contain Call, Send or CallOut mediators\"; use <iterate> to send each part)",
                        m.name()
                    ),
                ));
            }
            EipSequence::Inline(mediators)
        }
    };
    Ok(ForEachClassic {
        id: ctx.attr(node, "id").map(str::to_string),
        expression,
        sequence,
        continue_loop_on_failure: ctx
            .attr(node, "continueLoopOnFailure")
            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    fn foreach(body: &str) -> ForEachClassic {
        match parse_one(body) {
            Mediator::ForEachClassic(f) => f,
            other => panic!("expected classic foreach, got {other:?}"),
        }
    }

    // MI test proxy foreachSinglePropertyTestProxy and foreach_simple_sequenceref.
    #[test]
    fn attributes_and_sequences() {
        let f = foreach(
            r#"<foreach xmlns:m0="http://services.samples" expression="//m0:getQuote/m0:request" id="f1"><sequence><log/></sequence></foreach>"#,
        );
        assert_eq!(f.expression.text, "//m0:getQuote/m0:request");
        assert_eq!(f.id.as_deref(), Some("f1"));
        assert!(!f.continue_loop_on_failure);
        assert!(matches!(f.sequence, EipSequence::Inline(ref l) if l.len() == 1));
        // sequence= wins over an inline sequence; continueLoopOnFailure is parseBoolean.
        let f = foreach(
            r#"<foreach expression="json-eval($.items)" sequence="each" continueLoopOnFailure="TRUE"><sequence><drop/></sequence></foreach>"#,
        );
        assert!(f.expression.is_json_eval());
        assert!(matches!(f.sequence, EipSequence::Key(ref k, _) if k == "each"));
        assert!(f.continue_loop_on_failure);
        // A blank collection is the classic form too (ForEachMediatorFactory isNotBlank).
        let f = foreach(r#"<foreach collection=" " expression="//a"><sequence/></foreach>"#);
        assert_eq!(f.expression.text, "//a");
    }

    // ForEachMediatorFactory.validateSequence: the inline sequence's own mediators only.
    #[test]
    fn call_send_and_callout_are_refused_at_the_top_level() {
        for m in [
            "<call/>",
            "<send/>",
            r#"<callout serviceURL="http://b"><source type="envelope"/><target key="k"/></callout>"#,
        ] {
            let e = parse_err(&format!(
                r#"<foreach expression="//a"><sequence><log/>{m}</sequence></foreach>"#
            ));
            assert!(e.contains("sequence cannot hold"), "{m}: {e}");
        }
        let f = foreach(
            r#"<foreach expression="//a"><sequence><filter xpath="true()"><send/></filter></sequence></foreach>"#,
        );
        assert!(matches!(f.sequence, EipSequence::Inline(_)));
    }

    #[test]
    fn expression_and_sequence_are_required() {
        assert!(parse_err(r#"<foreach><sequence/></foreach>"#).contains("attribute 'expression'"));
        assert!(parse_err(r#"<foreach expression="//a"/>"#).contains("<sequence> child"));
    }
}
