//! `<aggregate [id]>[<correlateOn expression/>][<completeCondition [timeout]><messageCount
//! [min] [max]/></completeCondition>]<onComplete expression [sequence]
//! [enclosingElementProperty]>mediators</onComplete></aggregate>`: collects the parts an
//! `<iterate>` split off and continues with one merged message
//! (SYN:`config/xml/AggregateMediatorFactory.java`, `mediators/eip/aggregator/AggregateMediator.java`).
//! `messageCount min` / `max` are ValueFactory values: a number, or `{expr}` (an XPath, a
//! `json-eval(...)` or MI 4.4's `{${...}}`) read when an aggregation starts.

use roxmltree::Node;

use crate::expression::{Expression, Value};
use crate::mediators::iterate::EipSequence;
use crate::mediators::parse_mediator_list;
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub id: Option<String>,
    pub correlate_on: Option<Expression>,
    /// `completeCondition timeout` in seconds (0: none).
    pub timeout_seconds: f64,
    /// `messageCount min` / `max` (-1 or absent: not set).
    pub min_messages: MessageCount,
    pub max_messages: MessageCount,
    /// `onComplete expression`: the part of each collected message that is merged.
    pub expression: Expression,
    pub enclosing_element_property: Option<String>,
    pub on_complete: EipSequence,
    pub span: Span,
}

/// A `messageCount` bound (SYN `config/xml/ValueFactory.java` createValue): a number, or an
/// expression whose value MI parses with `Double.parseDouble` when an aggregation starts.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageCount {
    /// A number (-1: not set).
    Fixed(i64),
    /// `{expr}`: `{${vars.n}}`, `{//count}`, `{json-eval($.n)}`.
    Dynamic(Expression),
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Aggregate> {
    let mut correlate_on = None;
    let mut timeout_seconds = 0.0;
    let (mut min_messages, mut max_messages) = (MessageCount::Fixed(-1), MessageCount::Fixed(-1));
    let mut on_complete = None;
    for child in element_children(node) {
        if is_synapse_named(child, "correlateOn") {
            correlate_on = ctx.expression_attr(child, "expression")?;
        } else if is_synapse_named(child, "completeCondition") {
            if let Some(t) = ctx.attr(child, "timeout") {
                timeout_seconds = t
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|t| t.is_finite() && *t >= 0.0)
                    .ok_or_else(|| ctx.invalid_attr(child, "timeout", t, "seconds"))?;
            }
            for count in element_children(child) {
                if !is_synapse_named(count, "messageCount") {
                    return Err(ctx.unknown(count, child, "messageCount"));
                }
                for (name, slot) in [("min", &mut min_messages), ("max", &mut max_messages)] {
                    *slot = match ctx.value_attr(count, name) {
                        None => MessageCount::Fixed(-1),
                        Some(Value::Dynamic(expression)) => MessageCount::Dynamic(expression),
                        Some(Value::Literal(v, _)) => {
                            MessageCount::Fixed(v.trim().parse().map_err(|_| {
                                ctx.invalid_attr(count, name, &v, "a number or {expression}")
                            })?)
                        }
                    };
                }
            }
        } else if is_synapse_named(child, "onComplete") {
            let expression = ctx.expression_attr(child, "expression")?.ok_or_else(|| {
                ctx.missing(child, "attribute expression", "the aggregation expression")
            })?;
            let sequence = match ctx.attr(child, "sequence") {
                Some(key) => {
                    EipSequence::Key(key.trim().to_string(), ctx.attr_span(child, "sequence"))
                }
                None => EipSequence::Inline(parse_mediator_list(ctx, child)?),
            };
            on_complete = Some((
                expression,
                ctx.attr(child, "enclosingElementProperty")
                    .map(str::to_string),
                sequence,
            ));
        } else {
            return Err(ctx.unknown(child, node, "correlateOn, completeCondition or onComplete"));
        }
    }
    let (expression, enclosing_element_property, on_complete) = on_complete
        .ok_or_else(|| ctx.missing(node, "<onComplete>", "what to do with the merged message"))?;
    Ok(Aggregate {
        id: ctx.attr(node, "id").map(str::to_string),
        correlate_on,
        timeout_seconds,
        min_messages,
        max_messages,
        expression,
        enclosing_element_property,
        on_complete,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    #[test]
    fn parses_conditions_and_on_complete() {
        let Mediator::Aggregate(a) = parse_one(
            r#"<aggregate id="it"><completeCondition timeout="5"><messageCount min="2" max="-1"/></completeCondition>
                 <onComplete xmlns:m0="test" expression="//m0:r" enclosingElementProperty="wrap"><send/></onComplete></aggregate>"#,
        ) else {
            panic!()
        };
        assert_eq!(
            (a.timeout_seconds, &a.min_messages, &a.max_messages),
            (5.0, &MessageCount::Fixed(2), &MessageCount::Fixed(-1))
        );
        assert_eq!(a.enclosing_element_property.as_deref(), Some("wrap"));
        assert!(matches!(a.on_complete, EipSequence::Inline(ref l) if l.len() == 1));
    }

    // AggregateMediatorFactory reads min/max with ValueFactory.createValue: `{...}` is dynamic,
    // `{${...}}` a Synapse expression.
    #[test]
    fn message_counts_may_be_expressions() {
        let Mediator::Aggregate(a) = parse_one(
            r#"<aggregate><completeCondition><messageCount min="{${vars.n}}" max="{//m}"/></completeCondition>
                 <onComplete expression="${payload}"><respond/></onComplete></aggregate>"#,
        ) else {
            panic!()
        };
        let MessageCount::Dynamic(min) = &a.min_messages else {
            panic!("{a:?}")
        };
        assert_eq!(min.text, "${vars.n}");
        let MessageCount::Dynamic(max) = &a.max_messages else {
            panic!("{a:?}")
        };
        assert_eq!(max.text, "//m");
        assert!(
            parse_err(
                r#"<aggregate><completeCondition><messageCount min="two"/></completeCondition><onComplete expression="//a"/></aggregate>"#
            )
            .contains("a number or {expression}")
        );
    }

    #[test]
    fn on_complete_is_required() {
        assert!(parse_err("<aggregate/>").contains("onComplete"));
    }
}
