//! `<foreach collection=...>` (MI 4.4's v2 form, SYN `mediators/v2/ForEachMediatorV2.java`): the
//! `<sequence>` runs once per item of the collection, each on its own message, and the results
//! are written back into the collection or into a variable. Read as
//! SYN:`config/xml/ForEachMediatorFactory.createForEachMediatorV2` reads it: the v2 form is
//! chosen when `collection` is present and not blank (otherwise the classic
//! `expression`/`sequence` form of `foreach_classic.rs`); `parallel-execution` is false only for the exact text `false`;
//! `continue-without-aggregation` is true for `true` in any case, and then `update-original` and
//! the result attributes are not read; `update-original` is false only for the exact text
//! `false`, which requires `result-content-type` and `target-variable` (and
//! `result-enclosing-element` for XML); `counter-variable` is refused with parallel execution;
//! the first `<sequence>` child is the body.

use roxmltree::Node;

use crate::expression::Expression;
use crate::mediators::scatter_gather::{ResultContent, parse_result_content};
use crate::mediators::{Mediator, parse_mediator_list};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

#[derive(Debug, Clone, PartialEq)]
pub struct ForEach {
    /// `collection`: a JSON array (or an XML node list) to iterate.
    pub collection: Expression,
    /// `parallel-execution` (default true).
    pub parallel_execution: bool,
    pub result: ForEachResult,
    /// `counter-variable`: the item's index, sequential execution only.
    pub counter_variable: Option<String>,
    pub sequence: Vec<Mediator>,
    pub span: Span,
}

/// What happens to the iterations' results.
#[derive(Debug, Clone, PartialEq)]
pub enum ForEachResult {
    /// `update-original` (the default): each result replaces its item in the collection.
    UpdateOriginal,
    /// `update-original="false"`: the results go to a variable.
    Variable {
        name: String,
        content: ResultContent,
    },
    /// `continue-without-aggregation="true"`: the results are not gathered.
    ContinueWithoutAggregation,
}

/// Whether `<foreach>` is the v2 form (ForEachMediatorFactory.createSpecificMediator).
pub(crate) fn is_v2(ctx: &Ctx, node: Node) -> bool {
    ctx.attr(node, "collection")
        .is_some_and(|c| !c.trim().is_empty())
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<ForEach> {
    let parallel_execution = ctx.attr(node, "parallel-execution") != Some("false");
    let result = if ctx
        .attr(node, "continue-without-aggregation")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        ForEachResult::ContinueWithoutAggregation
    } else if ctx.attr(node, "update-original") == Some("false") {
        let name = ctx
            .attr(node, "target-variable")
            .filter(|v| !v.trim().is_empty());
        let has_type = ctx
            .attr(node, "result-content-type")
            .is_some_and(|v| !v.trim().is_empty());
        let (Some(name), true) = (name, has_type) else {
            return Err(ctx.missing(
                node,
                "attributes 'result-content-type' and 'target-variable'",
                "where the results go when 'update-original' is 'false'",
            ));
        };
        ForEachResult::Variable {
            name: name.to_string(),
            content: parse_result_content(ctx, node)?,
        }
    } else {
        ForEachResult::UpdateOriginal
    };
    let counter_variable = match ctx.attr(node, "counter-variable") {
        Some(v) if !v.trim().is_empty() => {
            if parallel_execution {
                return Err(ctx.invalid_attr(
                    node,
                    "counter-variable",
                    v,
                    "no counter when parallel-execution is true (MI: \"The 'counter-variable' attribute is not allowed when parallel-execution is true\")",
                ));
            }
            Some(v.to_string())
        }
        _ => None,
    };
    let Some(collection) = ctx.expression_attr(node, "collection")? else {
        return Err(ctx.missing(node, "attribute 'collection'", "the collection to iterate"));
    };
    let Some(sequence) = element_children(node).find(|c| is_synapse_named(*c, "sequence")) else {
        return Err(ctx.missing(
            node,
            "a <sequence> child",
            "the mediators run for each item (MI: \"A 'sequence' element is required\")",
        ));
    };
    Ok(ForEach {
        collection,
        parallel_execution,
        result,
        counter_variable,
        sequence: parse_mediator_list(ctx, sequence)?,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::test_support::*;

    fn foreach(body: &str) -> ForEach {
        match parse_one(body) {
            Mediator::ForEach(f) => f,
            other => panic!("expected foreach, got {other:?}"),
        }
    }

    #[test]
    fn v2_attributes() {
        let f = foreach(
            r#"<foreach collection="${payload.items}" parallel-execution="false" counter-variable="i"><sequence><log/></sequence></foreach>"#,
        );
        assert_eq!(f.collection.text, "${payload.items}");
        assert!(!f.parallel_execution);
        assert_eq!(f.result, ForEachResult::UpdateOriginal);
        assert_eq!(f.counter_variable.as_deref(), Some("i"));
        assert_eq!(f.sequence.len(), 1);
        let f = foreach(
            r#"<foreach collection="${vars.list}" update-original="false" target-variable="out" result-content-type="XML" result-enclosing-element="r"><sequence/></foreach>"#,
        );
        assert!(f.parallel_execution);
        assert_eq!(
            f.result,
            ForEachResult::Variable {
                name: "out".into(),
                content: ResultContent::Xml {
                    enclosing_element: "r".into()
                }
            }
        );
        // continue-without-aggregation wins: the result attributes are not read.
        let f = foreach(
            r#"<foreach collection="${payload}" continue-without-aggregation="TRUE" update-original="false"><sequence/></foreach>"#,
        );
        assert_eq!(f.result, ForEachResult::ContinueWithoutAggregation);
        // update-original is false only for the exact text.
        let f = foreach(
            r#"<foreach collection="${payload}" update-original="FALSE"><sequence/></foreach>"#,
        );
        assert_eq!(f.result, ForEachResult::UpdateOriginal);
    }

    #[test]
    fn factory_errors_and_the_legacy_form() {
        assert!(
            parse_err(
                r#"<foreach collection="${payload}" counter-variable="i"><sequence/></foreach>"#
            )
            .contains("parallel-execution is true")
        );
        assert!(
            parse_err(r#"<foreach collection="${payload}" update-original="false" target-variable="v"><sequence/></foreach>"#)
                .contains("requires attributes 'result-content-type' and 'target-variable'")
        );
        assert!(
            parse_err(r#"<foreach collection="${payload}" update-original="false" target-variable="v" result-content-type="XML"><sequence/></foreach>"#)
                .contains("requires attribute 'result-enclosing-element'")
        );
        assert!(
            parse_err(r#"<foreach collection="${payload}"><log/></foreach>"#)
                .contains("requires a <sequence> child")
        );
        // Without a collection it is the classic form (foreach_classic.rs).
        assert!(matches!(
            parse_one(r#"<foreach collection=" " expression="//a"><sequence/></foreach>"#),
            Mediator::ForEachClassic(_)
        ));
    }
}
