//! `<payloadFactory media-type template-type>` with `<format>` (inline or `key=`) and `<args>`
//! (synapse-subset.md §3.11, SYN:`config/xml/PayloadFactoryMediatorFactory.java`). The format's
//! `$n` and MI 4.4 `${...}` placeholders, and `template-type="freemarker"` templates, are the
//! mediation crate's business (it compiles them); here a FreeMarker format is read as MI reads
//! it: the text of `<format>` (its CDATA), never child elements.

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
    /// `template-type="freemarker"` (any case): the format is a FreeMarker template, and an
    /// inline format's `text` is MI's (`removeCDATAFromPayload(getText())`).
    pub freemarker: bool,
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
    let freemarker = ctx
        .attr(node, "template-type")
        .is_some_and(|v| v.eq_ignore_ascii_case("freemarker"));
    let mut format = None;
    let mut args = Vec::new();
    for child in element_children(node) {
        if is_synapse_named(child, "format") {
            if format.is_some() {
                return Err(ctx.invalid(child, "<payloadFactory> takes one <format>".into()));
            }
            format = Some(match ctx.value_attr(child, "key") {
                Some(key) => Format::Key(key),
                None if freemarker => {
                    // MI takes the text of <format> (getText ignores elements), so a template
                    // written as elements would silently be empty: say so instead.
                    if let Some(element) = child.children().find(|c| c.is_element()) {
                        return Err(ctx.invalid(
                            element,
                            "a FreeMarker <format> is text: wrap the template in <![CDATA[ ... ]]>"
                                .into(),
                        ));
                    }
                    let raw = element_inner_text(child).to_string();
                    Format::Inline {
                        text: freemarker_text(&raw),
                        raw,
                        namespaces: all_namespaces(child),
                        span: ctx.span(child),
                    }
                }
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
        freemarker,
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

/// The source between an element's start and end tags, CDATA markers included (roxmltree
/// merges CDATA into the text around it).
fn element_inner_text<'a>(node: Node<'a, '_>) -> &'a str {
    let source = &node.document().input_text()[node.range()];
    let mut quote = None;
    let mut start_tag_end = None;
    for (i, c) in source.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => {
                start_tag_end = Some(i);
                break;
            }
            _ => {}
        }
    }
    match (start_tag_end, source.rfind("</")) {
        (Some(open), Some(close)) if !source[..=open].ends_with("/>") && close > open => {
            &source[open + 1..close]
        }
        _ => "",
    }
}

/// The template MI reads from a FreeMarker `<format>`: its text nodes without the white-space-only
/// ones (`removeIndentations`), CDATA content as written (`removeCDATAFromPayload`), entity
/// references decoded, comments dropped.
fn freemarker_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while !rest.is_empty() {
        let cdata = rest.find("<![CDATA[");
        let comment = rest.find("<!--");
        let next = [cdata, comment].into_iter().flatten().min();
        let (text, after) = match next {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if !text.trim().is_empty() {
            out.push_str(&decode_entities(text));
        }
        rest = if let Some(body) = after.strip_prefix("<![CDATA[") {
            let end = body.find("]]>").unwrap_or(body.len());
            out.push_str(&body[..end]);
            body.get(end + 3..).unwrap_or("")
        } else if let Some(body) = after.strip_prefix("<!--") {
            body.find("-->").map_or("", |end| &body[end + 3..])
        } else {
            ""
        };
    }
    out
}

/// XML's predefined and numeric character references.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after.find(';').and_then(|semi| {
            let name = &after[..semi];
            let c = match name {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => name
                    .strip_prefix("#x")
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
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

    // PayloadFactoryMediatorFactory: a FreeMarker format is `removeCDATAFromPayload(getText())`
    // after `removeIndentations`.
    #[test]
    fn freemarker_format_is_the_cdata_text() {
        let Mediator::PayloadFactory(p) = parse_one(
            "<payloadFactory media-type=\"json\" template-type=\"FreeMarker\"><format>\n  <![CDATA[{\"a\": \"${payload.a}\"}]]>\n  </format></payloadFactory>",
        ) else {
            panic!()
        };
        assert!(p.freemarker);
        let Format::Inline { text, .. } = &p.format else {
            panic!()
        };
        assert_eq!(text, "{\"a\": \"${payload.a}\"}");
        assert_eq!(
            freemarker_text("a &lt;b&gt; &#65;&#x42; &amp;x <!-- c -->"),
            "a <b> AB &x "
        );
        assert!(
            parse_err("<payloadFactory template-type=\"freemarker\"><format><a>${x}</a></format></payloadFactory>")
                .contains("wrap the template in <![CDATA[")
        );
        let Mediator::PayloadFactory(p) = parse_one(
            "<payloadFactory template-type=\"default\"><format>x</format></payloadFactory>",
        ) else {
            panic!()
        };
        assert!(!p.freemarker);
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
