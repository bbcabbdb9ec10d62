//! `<payloadFactory media-type template-type>` with `<format>` (inline or `key=`) and `<args>`
//! (synapse-subset.md §3.11, SYN:`config/xml/PayloadFactoryMediatorFactory.java`). The format's
//! `$n` and MI 4.4 `${...}` placeholders are the mediation crate's business; only
//! `template-type="freemarker"` is refused here.

use roxmltree::Node;

use crate::expression::{Expression, Value};
use crate::span::Span;
use crate::xml::{
    Ctx, Result, all_namespaces, element_children, is_synapse, is_synapse_named, text_of,
};

#[derive(Debug, Clone, PartialEq)]
pub struct PayloadFactory {
    pub media_type: MediaType,
    pub format: Format,
    pub args: Vec<Arg>,
    /// `escapeXmlChars="true"`: XML-escape string arguments inserted into JSON.
    pub escape_xml_chars: bool,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Xml,
    Json,
    Text,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    Inline {
        /// The source between `<format>` and `</format>` as written (XML template for xml).
        raw: String,
        /// The decoded text content (the template for json/text).
        text: String,
        /// Namespaces in scope on `<format>`, default (`""`) included: template elements inherit it.
        namespaces: Vec<(String, String)>,
        span: Span,
    },
    /// `<format key="..."/>`: a local entry or registry resource.
    Key(Value),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub value: ArgValue,
    /// `literal="true"`: insert the value as a string, never as XML/JSON.
    pub literal: bool,
    /// `deepCheck="false"`: do not sniff strings for XML.
    pub deep_check: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    Literal(String),
    Expression {
        expression: Expression,
        evaluator: Evaluator,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evaluator {
    Xml,
    Json,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<PayloadFactory> {
    let media_type = match ctx.attr(node, "media-type") {
        None => MediaType::Xml,
        Some(v) => match v.trim() {
            "xml" => MediaType::Xml,
            "json" => MediaType::Json,
            "text" => MediaType::Text,
            _ => return Err(ctx.invalid_attr(node, "media-type", v, "xml, json or text")),
        },
    };
    // PayloadFactoryMediatorFactory.getTemplateProcessor: `freemarker` (any case) is the
    // FreeMarker engine; anything else, absent included, is the default (regex) engine with its
    // `$n` and `${...}` placeholders.
    if let Some(v) = ctx.attr(node, "template-type")
        && v.eq_ignore_ascii_case("freemarker")
    {
        return Err(ctx.unsupported(
            node,
            format!("payloadFactory template-type=\"{v}\""),
            "Conflux has no FreeMarker engine; write the format for template-type=\"default\" with $n and ${...} placeholders",
        ));
    }
    let mut format = None;
    let mut args = Vec::new();
    for child in element_children(node) {
        if is_synapse_named(child, "format") {
            if format.is_some() {
                return Err(ctx.invalid(child, "<payloadFactory> takes one <format>".into()));
            }
            format = Some(match ctx.value_attr(child, "key") {
                Some(key) => Format::Key(key),
                None => Format::Inline {
                    raw: ctx.inner_source(child),
                    text: text_content(child),
                    namespaces: all_namespaces(child),
                    span: ctx.span(child),
                },
            });
        } else if is_synapse_named(child, "args") {
            for arg in element_children(child) {
                if !is_synapse_named(arg, "arg") {
                    return Err(ctx.unknown(arg, child, "arg"));
                }
                args.push(parse_arg(ctx, arg)?);
            }
        } else {
            return Err(ctx.unknown(child, node, "format or args"));
        }
    }
    let Some(format) = format else {
        return Err(ctx.missing(node, "a child <format>", "the payload template"));
    };
    Ok(PayloadFactory {
        media_type,
        format,
        args,
        escape_xml_chars: ctx.bool_attr(node, "escapeXmlChars", false)?,
        span: ctx.span(node),
    })
}

/// Text of the template for json/text formats: direct text and CDATA (roxmltree merges them).
fn text_content(node: Node) -> String {
    if element_children(node).any(is_synapse) || node.children().any(|c| c.is_element()) {
        return node
            .descendants()
            .filter(|d| d.is_text())
            .filter_map(|d| d.text())
            .collect();
    }
    text_of(node)
}

fn parse_arg(ctx: &Ctx, node: Node) -> Result<Arg> {
    let value = if let Some(v) = ctx.attr(node, "value") {
        ArgValue::Literal(v.to_string())
    } else if let Some(expression) = ctx.expression_attr(node, "expression")? {
        let evaluator = match ctx.attr(node, "evaluator") {
            None => Evaluator::Xml,
            Some(v) if v.trim() == "xml" => Evaluator::Xml,
            Some(v) if v.trim() == "json" => Evaluator::Json,
            Some(v) => return Err(ctx.invalid_attr(node, "evaluator", v, "xml or json")),
        };
        ArgValue::Expression {
            expression,
            evaluator,
        }
    } else {
        return Err(ctx.missing(node, "attribute 'value' or 'expression'", ""));
    };
    Ok(Arg {
        value,
        literal: ctx.bool_attr(node, "literal", false)?,
        deep_check: ctx.bool_attr(node, "deepCheck", true)?,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    #[test]
    fn xml_and_json_templates_with_args() {
        let Mediator::PayloadFactory(p) = parse_one(
            r#"<payloadFactory xmlns:m="urn:m"><format><m:r>$1</m:r></format><args><arg expression="//m:s"/><arg value="x" literal="true"/></args></payloadFactory>"#,
        ) else {
            panic!()
        };
        assert_eq!(p.media_type, MediaType::Xml);
        let Format::Inline {
            raw, namespaces, ..
        } = &p.format
        else {
            panic!()
        };
        assert_eq!(raw, "<m:r>$1</m:r>");
        assert!(
            namespaces.contains(&(String::new(), "http://ws.apache.org/ns/synapse".to_string()))
        );
        assert!(
            matches!(&p.args[0].value, ArgValue::Expression { evaluator: Evaluator::Xml, expression } if expression.text == "//m:s")
        );
        assert!(p.args[1].literal);
        let Mediator::PayloadFactory(p) = parse_one(
            r#"<payloadFactory media-type="json"><format>{"a":"$1"}</format><args><arg evaluator="json" expression="$.a"/></args></payloadFactory>"#,
        ) else {
            panic!()
        };
        let Format::Inline { text, .. } = &p.format else {
            panic!()
        };
        assert_eq!(text, r#"{"a":"$1"}"#);
        let Mediator::PayloadFactory(p) =
            parse_one(r#"<payloadFactory><format key="fmt"/></payloadFactory>"#)
        else {
            panic!()
        };
        assert!(matches!(p.format, Format::Key(ref k) if k.literal() == Some("fmt")));
    }

    #[test]
    fn errors() {
        assert!(
            parse_err("<payloadFactory media-type=\"yaml\"><format/></payloadFactory>")
                .contains("attribute 'media-type'")
        );
        assert!(
            parse_err("<payloadFactory/>").contains("<payloadFactory> requires a child <format>")
        );
        assert_eq!(
            parse_err("<payloadFactory template-type=\"FreeMarker\"><format/></payloadFactory>"),
            "unsupported payloadFactory template-type=\"FreeMarker\" (Conflux has no FreeMarker engine; write the format for template-type=\"default\" with $n and ${...} placeholders) at sequences/S.xml:2:1"
        );
        // Any other value is MI's default engine.
        for t in ["default", "regex", ""] {
            assert!(matches!(
                parse_one(&format!(
                    "<payloadFactory template-type=\"{t}\"><format>x</format></payloadFactory>"
                )),
                Mediator::PayloadFactory(_)
            ));
        }
        assert!(
            parse_err("<payloadFactory><format/><args><arg evaluator=\"js\" expression=\"x\"/></args></payloadFactory>")
                .contains("attribute 'evaluator' of <arg>")
        );
    }
}
