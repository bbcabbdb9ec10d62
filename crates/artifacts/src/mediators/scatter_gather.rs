//! `<scatter-gather>` (MI 4.4): every `<sequence>` branch runs on its own copy of the message and
//! the `<aggregation expression>` of each branch's result is gathered into a JSON array or an
//! XML element, written to the body or a variable. Read as MI 4.4 GA's
//! SYN:`config/xml/ScatterGatherMediatorFactory.java` reads it (the pre-GA names `result-target`,
//! `content-type` and `root-element` are not read, as GA does not read them):
//! `parallel-execution` is false only for the exact text `false`; `result-content-type` is exactly
//! `JSON` or `XML` (`result-enclosing-element` required for XML); `target` is `body` or `variable`
//! in any case (`target-variable` required for a variable); at least one `<sequence>`; an
//! `<aggregation>` with `expression`, optional `condition`, `timeout` (Java `Long.parseLong`),
//! `min-messages` and `max-messages` (`ValueFactory`: `{...}` is dynamic).

use roxmltree::Node;

use crate::expression::{Expression, Value};
use crate::mediators::{Mediator, parse_mediator_list};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

#[derive(Debug, Clone, PartialEq)]
pub struct ScatterGather {
    /// `parallel-execution` (default true).
    pub parallel_execution: bool,
    pub target: ResultTarget,
    pub content: ResultContent,
    pub aggregation: Aggregation,
    /// The `<sequence>` branches, in document order.
    pub branches: Vec<Vec<Mediator>>,
    pub span: Span,
}

/// Where an MI 4.4 EIP mediator writes its result (`target` / `target-variable`).
#[derive(Debug, Clone, PartialEq)]
pub enum ResultTarget {
    Body,
    Variable(String),
}

/// `result-content-type` (and `result-enclosing-element` for XML).
#[derive(Debug, Clone, PartialEq)]
pub enum ResultContent {
    Json,
    Xml { enclosing_element: String },
}

/// `<aggregation>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregation {
    pub expression: Expression,
    pub condition: Option<Expression>,
    /// `timeout` in milliseconds.
    pub timeout_ms: Option<i64>,
    pub min_messages: Option<Value>,
    pub max_messages: Option<Value>,
    pub span: Span,
}

/// A non-blank attribute, else the factory's "required" error.
fn required<'n, 'i>(
    ctx: &Ctx<'_, 'i>,
    node: Node<'n, 'i>,
    name: &str,
    why: &str,
) -> Result<&'n str> {
    match ctx.attr(node, name) {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ctx.missing(node, &format!("attribute '{name}'"), why)),
    }
}

/// `result-content-type` + `result-enclosing-element`, as the v2 factories read them.
pub(crate) fn parse_result_content(ctx: &Ctx, node: Node) -> Result<ResultContent> {
    let kind = required(
        ctx,
        node,
        "result-content-type",
        "JSON or XML (MI: \"The 'result-content-type' attribute is required\")",
    )?;
    match kind {
        "JSON" => Ok(ResultContent::Json),
        "XML" => Ok(ResultContent::Xml {
            enclosing_element: required(
                ctx,
                node,
                "result-enclosing-element",
                "the name of the element that encloses the results when 'result-content-type' is 'XML'",
            )?
            .to_string(),
        }),
        other => Err(ctx.invalid_attr(node, "result-content-type", other, "JSON or XML")),
    }
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<ScatterGather> {
    let content = parse_result_content(ctx, node)?;
    let target_text = required(ctx, node, "target", "body or variable")?;
    // Utils.isTargetVariable / isTargetBody: case-insensitive.
    let target = if target_text.eq_ignore_ascii_case("variable") {
        ResultTarget::Variable(
            required(
                ctx,
                node,
                "target-variable",
                "the variable's name when 'target' is 'variable'",
            )?
            .to_string(),
        )
    } else if target_text.eq_ignore_ascii_case("body") {
        ResultTarget::Body
    } else {
        return Err(ctx.invalid_attr(node, "target", target_text, "body or variable"));
    };
    let branches = element_children(node)
        .filter(|c| is_synapse_named(*c, "sequence"))
        .map(|s| parse_mediator_list(ctx, s))
        .collect::<Result<Vec<_>>>()?;
    if branches.is_empty() {
        return Err(ctx.missing(
            node,
            "a <sequence> child",
            "at least one branch (MI: \"A 'sequence' element is required\")",
        ));
    }
    let Some(agg) = element_children(node).find(|c| is_synapse_named(*c, "aggregation")) else {
        return Err(ctx.missing(
            node,
            "an <aggregation> child",
            "<aggregation expression=\"...\"/> (MI: \"The 'aggregation' element is required\")",
        ));
    };
    let Some(expression) = ctx.expression_attr(agg, "expression")? else {
        return Err(ctx.missing(
            agg,
            "attribute 'expression'",
            "what to gather from each branch",
        ));
    };
    let timeout_ms =
        match ctx.attr(agg, "timeout") {
            None => None,
            Some(v) => Some(v.parse::<i64>().map_err(|_| {
                ctx.invalid_attr(agg, "timeout", v, "a whole number of milliseconds")
            })?),
        };
    Ok(ScatterGather {
        parallel_execution: ctx.attr(node, "parallel-execution") != Some("false"),
        target,
        content,
        aggregation: Aggregation {
            expression,
            condition: ctx.expression_attr(agg, "condition")?,
            timeout_ms,
            min_messages: ctx.value_attr(agg, "min-messages"),
            max_messages: ctx.value_attr(agg, "max-messages"),
            span: ctx.span(agg),
        },
        branches,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::test_support::*;

    fn sg(body: &str) -> ScatterGather {
        match parse_one(body) {
            Mediator::ScatterGather(s) => s,
            other => panic!("expected scatter-gather, got {other:?}"),
        }
    }

    #[test]
    fn ga_attributes() {
        let s = sg(
            r#"<scatter-gather parallel-execution="FALSE" target="Variable" target-variable="out" result-content-type="XML" result-enclosing-element="all">
              <aggregation expression="${payload}" condition="${vars.ok}" timeout="500" min-messages="1" max-messages="{${vars.max}}"/>
              <sequence><log/></sequence>
              <sequence><log/><drop/></sequence>
            </scatter-gather>"#,
        );
        // Only the exact text "false" turns parallel execution off.
        assert!(s.parallel_execution);
        assert_eq!(s.target, ResultTarget::Variable("out".into()));
        assert_eq!(
            s.content,
            ResultContent::Xml {
                enclosing_element: "all".into()
            }
        );
        assert_eq!(s.aggregation.expression.text, "${payload}");
        assert_eq!(
            s.aggregation.condition.as_ref().map(|c| c.text.as_str()),
            Some("${vars.ok}")
        );
        assert_eq!(s.aggregation.timeout_ms, Some(500));
        assert_eq!(
            s.aggregation.min_messages.as_ref().and_then(Value::literal),
            Some("1")
        );
        assert!(matches!(
            s.aggregation.max_messages,
            Some(Value::Dynamic(_))
        ));
        assert_eq!(s.branches.len(), 2);
        assert_eq!(s.branches[1].len(), 2);
        let s = sg(
            r#"<scatter-gather parallel-execution="false" target="body" result-content-type="JSON">
              <aggregation expression="${payload}"/><sequence/></scatter-gather>"#,
        );
        assert!(!s.parallel_execution);
        assert_eq!(s.target, ResultTarget::Body);
        assert_eq!(s.content, ResultContent::Json);
    }

    #[test]
    fn factory_errors() {
        let agg = r#"<aggregation expression="${payload}"/><sequence/>"#;
        // Pre-GA names are not read.
        assert!(
            parse_err(&format!(
                r#"<scatter-gather result-target="body" content-type="JSON">{agg}</scatter-gather>"#
            ))
            .contains("requires attribute 'result-content-type'")
        );
        assert!(
            parse_err(&format!(
                r#"<scatter-gather target="body" result-content-type="json">{agg}</scatter-gather>"#
            ))
            .contains("JSON or XML")
        );
        assert!(
            parse_err(&format!(
                r#"<scatter-gather target="body" result-content-type="XML">{agg}</scatter-gather>"#
            ))
            .contains("requires attribute 'result-enclosing-element'")
        );
        assert!(
            parse_err(&format!(
                r#"<scatter-gather target="variable" result-content-type="JSON">{agg}</scatter-gather>"#
            ))
            .contains("requires attribute 'target-variable'")
        );
        assert!(
            parse_err(&format!(
                r#"<scatter-gather target="header" result-content-type="JSON">{agg}</scatter-gather>"#
            ))
            .contains("body or variable")
        );
        assert!(
            parse_err(
                r#"<scatter-gather target="body" result-content-type="JSON"><aggregation expression="${payload}"/></scatter-gather>"#
            )
            .contains("requires a <sequence> child")
        );
        assert!(
            parse_err(r#"<scatter-gather target="body" result-content-type="JSON"><sequence/></scatter-gather>"#)
                .contains("requires an <aggregation> child")
        );
        assert!(
            parse_err(
                r#"<scatter-gather target="body" result-content-type="JSON"><aggregation/><sequence/></scatter-gather>"#
            )
            .contains("<aggregation> requires attribute 'expression'")
        );
        assert!(
            parse_err(
                r#"<scatter-gather target="body" result-content-type="JSON"><aggregation expression="${payload}" timeout="1s"/><sequence/></scatter-gather>"#
            )
            .contains("attribute 'timeout'")
        );
    }
}
