//! `<enrich>` with `<source type clone xpath property key>` and `<target type action xpath property>`
//! (DOCS/reference/mediators/enrich-mediator/, SYN:`config/xml/EnrichMediatorFactory.java`:
//! source/target type default `custom`, `clone` default true, action default `replace`).

use roxmltree::Node;

use crate::expression::{Expression, Value};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named, text_of};

#[derive(Debug, Clone, PartialEq)]
pub struct Enrich {
    pub source: EnrichSource,
    pub target: EnrichTarget,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnrichSource {
    pub kind: EnrichSourceKind,
    pub clone: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EnrichSourceKind {
    Custom(Expression),
    Envelope,
    Body,
    Property(String),
    /// Inline XML element(s), as source text.
    InlineXml(String),
    /// Inline text (JSON or plain).
    InlineText(String),
    /// `type="inline" key="..."`: content of a local entry / registry resource.
    InlineKey(Value),
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnrichTarget {
    pub kind: EnrichTargetKind,
    pub action: EnrichAction,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EnrichTargetKind {
    Custom(Expression),
    Envelope,
    Body,
    Property(String),
    /// `type="key"`: rename the JSON key selected by the expression.
    Key(Expression),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrichAction {
    Replace,
    Child,
    Sibling,
    Remove,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Enrich> {
    let mut source = None;
    let mut target = None;
    for child in element_children(node) {
        if is_synapse_named(child, "source") && source.is_none() {
            source = Some(parse_source(ctx, child)?);
        } else if is_synapse_named(child, "target") && target.is_none() {
            target = Some(parse_target(ctx, child)?);
        } else {
            return Err(ctx.unknown(child, node, "one source and one target"));
        }
    }
    let Some(source) = source else {
        return Err(ctx.missing(node, "a child <source>", ""));
    };
    let Some(target) = target else {
        return Err(ctx.missing(node, "a child <target>", ""));
    };
    Ok(Enrich {
        source,
        target,
        span: ctx.span(node),
    })
}

fn required_xpath(ctx: &Ctx, node: Node) -> Result<Expression> {
    match ctx.expression_attr(node, "xpath")? {
        Some(expr) => Ok(expr),
        None => Err(ctx.missing(
            node,
            "attribute 'xpath'",
            "type custom selects with an XPath or JSONPath",
        )),
    }
}

fn parse_source(ctx: &Ctx, node: Node) -> Result<EnrichSource> {
    let kind = match ctx.attr(node, "type").map(str::trim) {
        None | Some("custom") => EnrichSourceKind::Custom(required_xpath(ctx, node)?),
        Some("envelope") => EnrichSourceKind::Envelope,
        Some("body") => EnrichSourceKind::Body,
        Some("property") => EnrichSourceKind::Property(
            ctx.required_attr(node, "property", "the property to copy from")?
                .to_string(),
        ),
        Some("inline") => {
            if let Some(key) = ctx.value_attr(node, "key") {
                EnrichSourceKind::InlineKey(key)
            } else if element_children(node).next().is_some() {
                EnrichSourceKind::InlineXml(
                    element_children(node)
                        .map(|c| ctx.standalone_source(c))
                        .collect(),
                )
            } else {
                let text = text_of(node);
                if text.trim().is_empty() {
                    return Err(ctx.missing(
                        node,
                        "inline content or attribute 'key'",
                        "type is inline",
                    ));
                }
                EnrichSourceKind::InlineText(text.trim().to_string())
            }
        }
        Some(other) => {
            return Err(ctx.invalid_attr(
                node,
                "type",
                other,
                "custom, envelope, body, property or inline",
            ));
        }
    };
    Ok(EnrichSource {
        kind,
        clone: ctx.bool_attr(node, "clone", true)?,
        span: ctx.span(node),
    })
}

fn parse_target(ctx: &Ctx, node: Node) -> Result<EnrichTarget> {
    let kind = match ctx.attr(node, "type").map(str::trim) {
        None | Some("custom") => EnrichTargetKind::Custom(required_xpath(ctx, node)?),
        Some("envelope") => EnrichTargetKind::Envelope,
        Some("body") => EnrichTargetKind::Body,
        Some("property") => EnrichTargetKind::Property(
            ctx.required_attr(node, "property", "the property to write")?
                .to_string(),
        ),
        Some("key") => EnrichTargetKind::Key(required_xpath(ctx, node)?),
        Some(other) => {
            return Err(ctx.invalid_attr(
                node,
                "type",
                other,
                "custom, envelope, body, property or key",
            ));
        }
    };
    let action = match ctx.attr(node, "action").map(str::trim) {
        None | Some("replace") => EnrichAction::Replace,
        Some("child") => EnrichAction::Child,
        Some("sibling") => EnrichAction::Sibling,
        Some("remove") => EnrichAction::Remove,
        Some(other) => {
            return Err(ctx.invalid_attr(
                node,
                "action",
                other,
                "replace, child, sibling or remove",
            ));
        }
    };
    // EnrichMediatorFactory.populateTarget: "Only the replace action is supported for the target
    // type 'key'."
    if matches!(kind, EnrichTargetKind::Key(_)) && action != EnrichAction::Replace {
        return Err(ctx.invalid_attr(
            node,
            "action",
            ctx.attr(node, "action").unwrap_or_default(),
            "replace (the only action of target type key)",
        ));
    }
    Ok(EnrichTarget {
        kind,
        action,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    #[test]
    fn source_and_target_forms() {
        let Mediator::Enrich(e) = parse_one(
            r#"<enrich><source type="custom" clone="false" xpath="//a"/><target type="property" property="P"/></enrich>"#,
        ) else {
            panic!()
        };
        assert!(matches!(e.source.kind, EnrichSourceKind::Custom(ref x) if x.text == "//a"));
        assert!(!e.source.clone);
        assert_eq!(
            (e.target.kind.clone(), e.target.action),
            (
                EnrichTargetKind::Property("P".into()),
                EnrichAction::Replace
            )
        );
        let Mediator::Enrich(e) = parse_one(
            r#"<enrich><source type="inline"><x>1</x></source><target action="child" xpath="$body"/></enrich>"#,
        ) else {
            panic!()
        };
        assert_eq!(
            e.source.kind,
            EnrichSourceKind::InlineXml("<x>1</x>".into())
        );
        assert!(e.source.clone);
        assert_eq!(e.target.action, EnrichAction::Child);
        let Mediator::Enrich(e) = parse_one(
            r#"<enrich><source type="inline">{"a":1}</source><target type="body"/></enrich>"#,
        ) else {
            panic!()
        };
        assert_eq!(
            e.source.kind,
            EnrichSourceKind::InlineText(r#"{"a":1}"#.into())
        );
    }

    // EnrichMediatorFactory.populateTarget: type key takes an xpath and only action replace
    // (MI2479 uses it without an action).
    #[test]
    fn key_target() {
        let Mediator::Enrich(e) = parse_one(
            r#"<enrich><source type="inline">avcId</source><target type="key" xpath="json-eval($.accountNo)"/></enrich>"#,
        ) else {
            panic!()
        };
        assert!(
            matches!(e.target.kind, EnrichTargetKind::Key(ref x) if x.text == "json-eval($.accountNo)")
        );
        assert_eq!(e.target.action, EnrichAction::Replace);
        assert!(
            parse_err(
                r#"<enrich><source type="inline">k</source><target type="key" action="child" xpath="json-eval($.a)"/></enrich>"#
            )
            .contains("attribute 'action' of <target>")
        );
    }

    #[test]
    fn errors() {
        assert!(
            parse_err(r#"<enrich><source/><target type="body"/></enrich>"#)
                .contains("<source> requires attribute 'xpath'")
        );
        assert!(
            parse_err(r#"<enrich><source type="body"/></enrich>"#)
                .contains("requires a child <target>")
        );
        assert!(
            parse_err(
                r#"<enrich><source type="body"/><target type="body" action="append"/></enrich>"#
            )
            .contains("attribute 'action' of <target>")
        );
    }
}
