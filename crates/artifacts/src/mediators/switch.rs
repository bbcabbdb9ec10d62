//! `<switch source>` with `<case regex>` (first whole-string match wins) and an optional `<default>`
//! (SYN:`config/xml/SwitchMediatorFactory.java`, `SwitchCase.java`).

use roxmltree::Node;

use crate::expression::Expression;
use crate::mediators::{Mediator, parse_mediator_list};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

#[derive(Debug, Clone, PartialEq)]
pub struct Switch {
    pub source: Expression,
    pub cases: Vec<SwitchCase>,
    pub default: Option<Vec<Mediator>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SwitchCase {
    /// Kept as written; compiled by the mediation crate.
    pub regex: String,
    pub mediators: Vec<Mediator>,
    pub span: Span,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Switch> {
    let Some(source) = ctx.expression_attr(node, "source")? else {
        return Err(ctx.missing(node, "attribute 'source'", "the expression to switch on"));
    };
    let mut cases = Vec::new();
    let mut default = None;
    for child in element_children(node) {
        if is_synapse_named(child, "case") {
            let regex = ctx.required_attr(child, "regex", "the regular expression of this case")?;
            cases.push(SwitchCase {
                regex: regex.to_string(),
                mediators: parse_mediator_list(ctx, child)?,
                span: ctx.span(child),
            });
        } else if is_synapse_named(child, "default") {
            if default.is_some() {
                return Err(ctx.invalid(child, "<switch> takes one <default>".into()));
            }
            default = Some(parse_mediator_list(ctx, child)?);
        } else {
            return Err(ctx.unknown(child, node, "case or default"));
        }
    }
    Ok(Switch {
        source,
        cases,
        default,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::test_support::*;

    #[test]
    fn cases_and_default() {
        let Mediator::Switch(s) = parse_one(
            r#"<switch source="//s"><case regex="IBM"><log/></case><case regex="MSFT"/><default><drop/></default></switch>"#,
        ) else {
            panic!()
        };
        assert_eq!(s.source.text, "//s");
        assert_eq!(
            s.cases.iter().map(|c| c.regex.as_str()).collect::<Vec<_>>(),
            ["IBM", "MSFT"]
        );
        assert_eq!(s.default.map(|d| d.len()), Some(1));
    }

    #[test]
    fn errors() {
        assert!(
            parse_err("<switch><case regex=\"a\"/></switch>")
                .contains("requires attribute 'source'")
        );
        assert!(
            parse_err("<switch source=\"a\"><case/></switch>")
                .contains("<case> requires attribute 'regex'")
        );
        assert!(
            parse_err("<switch source=\"a\"><log/></switch>")
                .starts_with("unknown element <log> in <switch>")
        );
    }
}
