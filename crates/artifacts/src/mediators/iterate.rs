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
    /// Where each part is attached when `preservePayload` (IterateMediatorFactory: `$` for a
    /// json-eval expression, `.` for an XPath when absent; only with `preservePayload`, and of the
    /// expression's kind).
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
    if let Some(attach) = &attach_path {
        // IterateMediatorFactory: "Wrong configuration for the iterate mediator :: if the iterator
        // should not preserve payload, then attachPath can not be present", and "both expression
        // and attachPath should be either jsonpath or xpath".
        if !preserve_payload {
            return Err(ctx.invalid_attr(
                node,
                "attachPath",
                &attach.text,
                "no attachPath unless preservePayload=\"true\" (an iterator that does not preserve the payload has nothing to attach to)",
            ));
        }
        if attach.is_json_eval() != expression.is_json_eval() {
            let expected = if expression.is_json_eval() {
                "a json-eval(...) path, as the expression is one (both expression and attachPath are JSONPath or both XPath)"
            } else {
                "an XPath, as the expression is one (both expression and attachPath are JSONPath or both XPath)"
            };
            return Err(ctx.invalid_attr(node, "attachPath", &attach.text, expected));
        }
    }
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

    // IterateMediatorFactory's two attachPath errors.
    #[test]
    fn attach_path_needs_preserve_payload_and_the_expression_s_kind() {
        let err = parse_err(
            r#"<iterate expression="//a" attachPath="//b"><target sequence="s"/></iterate>"#,
        );
        assert!(
            err.contains("attachPath") && err.contains("preservePayload"),
            "{err}"
        );
        let err = parse_err(
            r#"<iterate expression="json-eval($.a)" preservePayload="true" attachPath="//b"><target sequence="s"/></iterate>"#,
        );
        assert!(
            err.contains("//b") && err.contains("json-eval(...) path"),
            "{err}"
        );
        let err = parse_err(
            r#"<iterate expression="//a" preservePayload="true" attachPath="json-eval($.b)"><target sequence="s"/></iterate>"#,
        );
        assert!(err.contains("an XPath, as the expression is one"), "{err}");
        let Mediator::Iterate(i) = parse_one(
            r#"<iterate expression="json-eval($.a)" preservePayload="true" attachPath="json-eval($.b)"><target sequence="s"/></iterate>"#,
        ) else {
            panic!()
        };
        assert_eq!(i.attach_path.unwrap().text, "json-eval($.b)");
    }

    #[test]
    fn a_missing_expression_or_target_is_an_error() {
        assert!(parse_err(r#"<iterate><target sequence="s"/></iterate>"#).contains("expression"));
        assert!(parse_err(r#"<iterate expression="//a"/>"#).contains("target"));
    }
}
