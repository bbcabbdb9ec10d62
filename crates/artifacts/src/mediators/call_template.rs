//! `<call-template target [onError]><with-param name value/>...</call-template>`: runs a sequence
//! template with parameters (SYN:`config/xml/InvokeMediatorFactory.java`,
//! SYN:`mediators/template/InvokeMediator.java`). Each `value` is read by
//! SYN:`config/xml/ValueFactory.java`: `{expr}` is an expression evaluated in the caller's
//! context, `{{expr}}` an expression passed unevaluated (the template evaluates it where
//! `$func:name` is read), anything else a literal. A `<with-param>` without `name` is skipped and
//! other children are ignored, as Synapse does.

use roxmltree::Node;

use crate::expression::Expression;
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

#[derive(Debug, Clone, PartialEq)]
pub struct CallTemplate {
    /// The template's name (`target`).
    pub target: String,
    pub target_span: Span,
    /// `<with-param>`s in document order; a name given twice keeps its last value (Synapse's map).
    pub params: Vec<WithParam>,
    /// `onError="sequence"`: handles a fault inside the template.
    pub on_error: Option<(String, Span)>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WithParam {
    pub name: String,
    pub value: ParamValue,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Literal(String),
    /// `{expr}`: evaluated when the template is called, against the caller's message.
    Expression(Expression),
    /// `{{expr}}`: handed to the template as an expression, evaluated where it is read.
    Deferred(Expression),
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<CallTemplate> {
    let target = ctx
        .required_attr(node, "target", "the name of a sequence template")?
        .trim()
        .to_string();
    let mut params: Vec<WithParam> = Vec::new();
    for child in element_children(node).filter(|c| is_synapse_named(*c, "with-param")) {
        let Some(value) = ctx.attr(child, "value") else {
            // ValueFactory.createValue: "The 'value' attribute is required".
            return Err(ctx.missing(child, "attribute 'value'", "the parameter's value"));
        };
        let name = match ctx.attr(child, "name") {
            None => continue,
            Some(n) if n.is_empty() => {
                return Err(ctx.invalid_attr(child, "name", n, "a parameter name"));
            }
            Some(n) => n.to_string(),
        };
        let span = ctx.attr_span(child, "value");
        let trimmed = value.trim();
        let value = if trimmed.len() > 3 && trimmed.starts_with("{{") && trimmed.ends_with("}}") {
            ParamValue::Deferred(ctx.expression(child, &trimmed[2..trimmed.len() - 2], span))
        } else if value.len() >= 2 && value.starts_with('{') && value.ends_with('}') {
            ParamValue::Expression(ctx.expression(child, &value[1..value.len() - 1], span))
        } else {
            ParamValue::Literal(value.to_string())
        };
        params.retain(|p| p.name != name);
        params.push(WithParam {
            name,
            value,
            span: ctx.span(child),
        });
    }
    let on_error = ctx
        .attr(node, "onError")
        .filter(|v| !v.trim().is_empty())
        .map(|v| (v.trim().to_string(), ctx.attr_span(node, "onError")));
    Ok(CallTemplate {
        target,
        target_span: ctx.attr_span(node, "target"),
        params,
        on_error,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    #[test]
    fn literal_expression_and_deferred_values() {
        let Mediator::CallTemplate(c) = parse_one(
            r#"<call-template target="T" onError="E" xmlns:m="urn:m"><with-param name="a" value="lit"/><with-param name="b" value="{//m:x}"/><with-param name="c" value="{{//m:y}}"/><with-param value="skipped"/><other/><with-param name="a" value="last"/></call-template>"#,
        ) else {
            panic!()
        };
        assert_eq!(c.target, "T");
        assert_eq!(c.on_error.as_ref().map(|(n, _)| n.as_str()), Some("E"));
        let names: Vec<&str> = c.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["b", "c", "a"]);
        assert!(
            matches!(&c.params[0].value, ParamValue::Expression(e) if e.text == "//m:x" && e.namespaces == [("m".to_string(), "urn:m".to_string())])
        );
        assert!(matches!(&c.params[1].value, ParamValue::Deferred(e) if e.text == "//m:y"));
        assert!(matches!(&c.params[2].value, ParamValue::Literal(v) if v == "last"));
    }

    #[test]
    fn target_and_value_are_required() {
        assert_eq!(
            parse_err("<call-template/>"),
            "<call-template> requires attribute 'target': the name of a sequence template at sequences/S.xml:2:1"
        );
        assert!(
            parse_err(r#"<call-template target="T"><with-param name="a"/></call-template>"#)
                .starts_with("<with-param> requires attribute 'value'")
        );
        assert!(
            parse_err(
                r#"<call-template target="T"><with-param name="" value="v"/></call-template>"#
            )
            .contains("attribute 'name' of <with-param>")
        );
    }
}
