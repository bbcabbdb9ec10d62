//! `<filter (source regex | xpath)>` with `<then>`/`<else>` or direct children (run when true).
//! Regex is a whole-string match of the source (synapse-subset.md §3.10,
//! SYN:`config/xml/FilterMediatorFactory.java`).

use roxmltree::Node;

use crate::expression::Expression;
use crate::mediators::{Mediator, parse_mediator, parse_mediator_list};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub condition: FilterCondition,
    pub then: Vec<Mediator>,
    /// `Some` when an `<else>` is present.
    pub otherwise: Option<Vec<Mediator>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FilterCondition {
    /// Boolean value of an XPath (or json-eval) expression.
    Xpath(Expression),
    /// Whole-string regex match of the source's string value; the regex is kept as written.
    SourceRegex {
        source: Expression,
        regex: String,
        regex_span: Span,
    },
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Filter> {
    let condition = match (
        ctx.expression_attr(node, "xpath")?,
        ctx.expression_attr(node, "source")?,
    ) {
        (Some(xpath), None) => {
            if ctx.attr(node, "regex").is_some() {
                return Err(ctx.invalid(
                    node,
                    "<filter> takes either xpath or source+regex, not both".into(),
                ));
            }
            FilterCondition::Xpath(xpath)
        }
        (None, Some(source)) => {
            let regex = ctx.required_attr(
                node,
                "regex",
                "the regular expression matched against source",
            )?;
            FilterCondition::SourceRegex {
                source,
                regex: regex.to_string(),
                regex_span: ctx.attr_span(node, "regex"),
            }
        }
        (Some(_), Some(_)) => {
            return Err(ctx.invalid(
                node,
                "<filter> takes either xpath or source+regex, not both".into(),
            ));
        }
        (None, None) => {
            return Err(ctx.missing(
                node,
                "attribute 'xpath' or 'source'+'regex'",
                "the condition",
            ));
        }
    };
    let children: Vec<Node> = element_children(node).collect();
    let has_branches = children
        .iter()
        .any(|c| is_synapse_named(*c, "then") || is_synapse_named(*c, "else"));
    let (then, otherwise) = if has_branches {
        let mut then = None;
        let mut otherwise = None;
        for child in children {
            let slot = if is_synapse_named(child, "then") {
                &mut then
            } else if is_synapse_named(child, "else") {
                &mut otherwise
            } else {
                return Err(ctx.unknown(child, node, "then or else"));
            };
            if slot.is_some() {
                return Err(ctx.invalid(
                    child,
                    format!("<filter> takes one <{}>", child.tag_name().name()),
                ));
            }
            if ctx.attr(child, "sequence").is_some() {
                return Err(ctx.unsupported(
                    child,
                    "filter branch sequence=".into(),
                    "use an inline branch or <sequence key>",
                ));
            }
            *slot = Some(parse_mediator_list(ctx, child)?);
        }
        (then.unwrap_or_default(), otherwise)
    } else {
        let list = children
            .into_iter()
            .map(|c| parse_mediator(ctx, c, node))
            .collect::<Result<Vec<_>>>()?;
        (list, None)
    };
    Ok(Filter {
        condition,
        then,
        otherwise,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::test_support::*;

    #[test]
    fn both_forms() {
        let Mediator::Filter(f) = parse_one(
            r#"<filter source="get-property('To')" regex=".*/Stock.*"><then><drop/></then><else><respond/></else></filter>"#,
        ) else {
            panic!()
        };
        assert!(
            matches!(f.condition, FilterCondition::SourceRegex { ref regex, .. } if regex == ".*/Stock.*")
        );
        assert_eq!(f.then.len(), 1);
        assert_eq!(f.otherwise.as_ref().map(Vec::len), Some(1));
        let Mediator::Filter(f) = parse_one(r#"<filter xpath="//a"><log/><drop/></filter>"#) else {
            panic!()
        };
        assert!(matches!(f.condition, FilterCondition::Xpath(_)));
        assert_eq!((f.then.len(), f.otherwise), (2, None));
    }

    #[test]
    fn errors() {
        assert!(parse_err(r#"<filter source="a"/>"#).contains("requires attribute 'regex'"));
        assert!(parse_err("<filter/>").contains("requires attribute 'xpath' or 'source'+'regex'"));
        assert_eq!(
            parse_err("<filter xpath=\"a\"><then>\n  <xquery/></then></filter>"),
            "unsupported mediator <xquery> (Conflux has no XQuery processor; transform the message with <xslt> (XSLT 1.0) instead) at sequences/S.xml:3:3"
        );
        assert!(
            parse_err(r#"<filter xpath="a"><then/><log/></filter>"#)
                .starts_with("unknown element <log> in <filter>")
        );
    }
}
