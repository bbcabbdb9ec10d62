//! `<iterate [id] expression [attachPath] [preservePayload] [continueParent] [sequential]>
//! <target [sequence] [endpoint]>[<sequence>] [<endpoint>]</target></iterate>`: splits the message
//! by `expression` and runs each part through the target
//! (SYN:`config/xml/IterateMediatorFactory.java`, `config/xml/TargetFactory.java`,
//! `mediators/eip/Target.java`).

use roxmltree::Node;

use crate::endpoint::{EndpointRef, parse_endpoint_ref};
use crate::expression::Expression;
use crate::mediators::{Mediator, parse_mediator_list};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

#[derive(Debug, Clone, PartialEq)]
pub struct Iterate {
    /// Matches the `<aggregate id>` that collects the parts.
    pub id: Option<String>,
    pub expression: Expression,
    /// Where each part is attached when `preservePayload` (defaults to the expression's parent in
    /// Synapse: `attachPath` is required then, as in IterateMediatorFactory).
    pub attach_path: Option<Expression>,
    pub preserve_payload: bool,
    pub continue_parent: bool,
    pub sequential: bool,
    pub target: EipTarget,
    pub span: Span,
}

/// An EIP `<target>`: a sequence (inline or by key) and/or an endpoint (inline or by key).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EipTarget {
    pub sequence: Option<EipSequence>,
    pub endpoint: Option<EndpointRef>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EipSequence {
    Key(String, Span),
    Inline(Vec<Mediator>),
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Iterate> {
    let expression = ctx
        .expression_attr(node, "expression")?
        .ok_or_else(|| ctx.missing(node, "attribute expression", "the split expression"))?;
    let preserve_payload = ctx.bool_attr(node, "preservePayload", false)?;
    let attach_path = ctx.expression_attr(node, "attachPath")?;
    let mut target = None;
    for child in element_children(node) {
        if !is_synapse_named(child, "target") {
            return Err(ctx.unknown(child, node, "target"));
        }
        if target.is_some() {
            return Err(ctx.invalid(child, "<iterate> takes one <target>".into()));
        }
        target = Some(parse_target(ctx, child)?);
    }
    let target = target.ok_or_else(|| ctx.missing(node, "<target>", "the target of the parts"))?;
    Ok(Iterate {
        id: ctx.attr(node, "id").map(str::to_string),
        expression,
        attach_path,
        preserve_payload,
        continue_parent: ctx.bool_attr(node, "continueParent", false)?,
        sequential: ctx.bool_attr(node, "sequential", false)?,
        target,
        span: ctx.span(node),
    })
}

/// SYN TargetFactory: `sequence=` / `endpoint=` keys, or inline `<sequence>` / `<endpoint>`.
pub(crate) fn parse_target(ctx: &Ctx, node: Node) -> Result<EipTarget> {
    let mut target = EipTarget::default();
    if let Some(key) = ctx.attr(node, "sequence") {
        target.sequence = Some(EipSequence::Key(
            key.trim().to_string(),
            ctx.attr_span(node, "sequence"),
        ));
    }
    if let Some(key) = ctx.attr(node, "endpoint") {
        target.endpoint = Some(EndpointRef::Key(
            key.trim().to_string(),
            ctx.attr_span(node, "endpoint"),
        ));
    }
    for child in element_children(node) {
        // An inline sequence wins over `sequence=` (Target.mediate uses it first).
        if is_synapse_named(child, "sequence")
            && !matches!(target.sequence, Some(EipSequence::Inline(_)))
        {
            target.sequence = Some(EipSequence::Inline(parse_mediator_list(ctx, child)?));
        } else if is_synapse_named(child, "endpoint")
            && !matches!(target.endpoint, Some(EndpointRef::Inline(..)))
        {
            target.endpoint = Some(parse_endpoint_ref(ctx, child)?);
        } else {
            return Err(ctx.unknown(child, node, "one sequence and one endpoint"));
        }
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::test_support::*;

    #[test]
    fn parses_the_attributes_and_the_target() {
        let Mediator::Iterate(i) = parse_one(
            r#"<iterate xmlns:m0="http://services.samples" id="it" expression="//m0:getQuote/m0:request"
                 preservePayload="true" attachPath="//m0:getQuote" sequential="true">
                 <target><sequence><send><endpoint><address uri="http://b"/></endpoint></send></sequence></target>
               </iterate>"#,
        ) else {
            panic!()
        };
        assert_eq!(i.id.as_deref(), Some("it"));
        assert!(i.preserve_payload && i.sequential && !i.continue_parent);
        assert_eq!(i.attach_path.unwrap().text, "//m0:getQuote");
        assert!(matches!(i.target.sequence, Some(EipSequence::Inline(ref l)) if l.len() == 1));
    }

    #[test]
    fn an_inline_sequence_wins_over_the_sequence_key_and_endpoint_keys_are_kept() {
        let Mediator::Iterate(i) = parse_one(
            r#"<iterate expression="//a"><target sequence="anon" endpoint="Ep"><sequence><drop/></sequence></target></iterate>"#,
        ) else {
            panic!()
        };
        assert!(matches!(i.target.sequence, Some(EipSequence::Inline(_))));
        assert!(matches!(i.target.endpoint, Some(EndpointRef::Key(ref k, _)) if k == "Ep"));
    }

    #[test]
    fn a_missing_expression_or_target_is_an_error() {
        assert!(parse_err(r#"<iterate><target sequence="s"/></iterate>"#).contains("expression"));
        assert!(parse_err(r#"<iterate expression="//a"/>"#).contains("target"));
    }
}
