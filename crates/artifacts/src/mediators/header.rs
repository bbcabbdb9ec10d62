//! `<header name action scope value|expression|<inline/>>`: sets or removes a SOAP header (default
//! scope; `To`, `Action`... map to addressing fields) or an HTTP header (`scope="transport"`).
//! DOCS/reference/mediators/header-mediator/, SYN:`config/xml/HeaderMediatorFactory.java`.

use roxmltree::Node;

use crate::expression::Expression;
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children};

#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The name as written (`p:local` for a SOAP header block, whose prefix MI keeps); `None` only
    /// for an inline XML header block.
    pub name: Option<String>,
    /// Namespace of a prefixed name (`wsse:Security`), resolved where it was written.
    pub namespace: Option<String>,
    pub action: HeaderAction,
    pub scope: HeaderScope,
    /// `None` for `action="remove"`.
    pub value: Option<HeaderValue>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderAction {
    Set,
    Remove,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderScope {
    /// SOAP / WS-Addressing headers.
    Default,
    /// HTTP headers.
    Transport,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HeaderValue {
    Literal(String),
    Expression(Expression),
    /// Inline header block(s), as source text.
    Xml(String),
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Header> {
    let action = match ctx.attr(node, "action") {
        None | Some("set") => HeaderAction::Set,
        Some("remove") => HeaderAction::Remove,
        Some(other) => return Err(ctx.invalid_attr(node, "action", other, "set or remove")),
    };
    let scope = match ctx.attr(node, "scope") {
        None | Some("default") => HeaderScope::Default,
        Some("transport") => HeaderScope::Transport,
        Some(other) => return Err(ctx.invalid_attr(node, "scope", other, "default or transport")),
    };
    let inline: Vec<Node> = element_children(node).collect();
    let (name, namespace) = match ctx.attr(node, "name") {
        Some(raw) if !raw.trim().is_empty() => {
            let raw = raw.trim();
            match raw.split_once(':') {
                Some((prefix, _local)) => {
                    let Some(uri) = node.lookup_namespace_uri(Some(prefix)) else {
                        return Err(ctx.invalid_attr(
                            node,
                            "name",
                            raw,
                            "a header name whose prefix is declared",
                        ));
                    };
                    // The prefix is kept (`p:local`): MI writes the header block with it.
                    (Some(raw.to_string()), Some(uri.to_string()))
                }
                None => (Some(raw.to_string()), None),
            }
        }
        _ if !inline.is_empty() => (None, None),
        _ => {
            return Err(ctx.missing(
                node,
                "attribute 'name'",
                "the header name (or an inline header element)",
            ));
        }
    };
    let value = if let Some(v) = ctx.attr(node, "value") {
        Some(HeaderValue::Literal(v.to_string()))
    } else if let Some(expr) = ctx.expression_attr(node, "expression")? {
        Some(HeaderValue::Expression(expr))
    } else if !inline.is_empty() {
        Some(HeaderValue::Xml(
            inline.iter().map(|n| ctx.standalone_source(*n)).collect(),
        ))
    } else if action == HeaderAction::Remove {
        None
    } else {
        return Err(ctx.missing(node, "attribute 'value' or 'expression'", "action is set"));
    };
    Ok(Header {
        name,
        namespace,
        action,
        scope,
        value,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    #[test]
    fn forms() {
        let Mediator::Header(h) = parse_one(r#"<header name="To" action="remove"/>"#) else {
            panic!()
        };
        assert_eq!(
            (h.name.as_deref(), h.action, h.value),
            (Some("To"), HeaderAction::Remove, None)
        );
        let Mediator::Header(h) =
            parse_one(r#"<header name="X-A" scope="transport" expression="$ctx:a"/>"#)
        else {
            panic!()
        };
        assert_eq!(h.scope, HeaderScope::Transport);
        assert!(matches!(h.value, Some(HeaderValue::Expression(_))));
        let Mediator::Header(h) = parse_one(r#"<header xmlns:w="urn:w" name="w:Sec" value="1"/>"#)
        else {
            panic!()
        };
        assert_eq!(
            (h.name.as_deref(), h.namespace.as_deref()),
            (Some("w:Sec"), Some("urn:w"))
        );
        let Mediator::Header(h) =
            parse_one(r#"<header><a:MessageID xmlns:a="urn:a">1</a:MessageID></header>"#)
        else {
            panic!()
        };
        assert!(matches!(h.value, Some(HeaderValue::Xml(ref x)) if x.starts_with("<a:MessageID")));
    }

    #[test]
    fn errors() {
        assert!(
            parse_err(r#"<header name="X"/>"#)
                .contains("<header> requires attribute 'value' or 'expression'")
        );
        assert!(
            parse_err(r#"<header name="X" value="1" scope="axis2"/>"#)
                .contains("attribute 'scope' of <header>")
        );
        assert!(parse_err(r#"<header value="1"/>"#).contains("requires attribute 'name'"));
        assert!(parse_err(r#"<header name="q:X" value="1"/>"#).contains("prefix is declared"));
    }
}
