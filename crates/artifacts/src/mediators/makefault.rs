//! `<makefault version response>` with `<code>`, `<reason>`, `<role>`, `<node>`, `<detail>`: builds a
//! SOAP 1.1/1.2 or POX fault (DOCS/reference/mediators/fault-mediator/,
//! SYN:`config/xml/FaultMediatorFactory.java`).

use roxmltree::Node;

use crate::expression::{Expression, ValueOrExpression};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse, text_of};

#[derive(Debug, Clone, PartialEq)]
pub struct MakeFault {
    pub version: FaultVersion,
    /// Mark the fault as a response (`response`, default true as in Synapse's FaultMediator), so
    /// that a `<send/>` without endpoint answers the client with it.
    pub response: bool,
    pub code: Option<FaultCode>,
    pub reason: Option<ValueOrExpression>,
    pub role: Option<String>,
    pub node: Option<String>,
    pub detail: Option<FaultDetail>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultVersion {
    Soap11,
    Soap12,
    Pox,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FaultCode {
    /// `value="soap11Env:Client"`, prefix resolved against the namespaces in scope. The prefix is
    /// kept: MI writes the code with the prefix the artifact used (Axiom's `setText(QName)`
    /// declares it on the code element when another prefix binds the namespace).
    Value {
        namespace: Option<String>,
        prefix: Option<String>,
        local: String,
    },
    Expression(Expression),
}

#[derive(Debug, Clone, PartialEq)]
pub enum FaultDetail {
    Text(String),
    Expression(Expression),
    /// Element children, as source text.
    Xml(String),
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<MakeFault> {
    let version = match ctx.attr(node, "version") {
        None => FaultVersion::Soap11,
        Some(v) => match v.trim() {
            "soap11" => FaultVersion::Soap11,
            "soap12" => FaultVersion::Soap12,
            "pox" => FaultVersion::Pox,
            _ => return Err(ctx.invalid_attr(node, "version", v, "soap11, soap12 or pox")),
        },
    };
    let mut fault = MakeFault {
        version,
        // FaultMediator.markAsResponse starts true; only response="false" turns it off.
        response: ctx.bool_attr(node, "response", true)?,
        code: None,
        reason: None,
        role: None,
        node: None,
        detail: None,
        span: ctx.span(node),
    };
    for child in element_children(node) {
        if !is_synapse(child) {
            return Err(ctx.unknown(child, node, "code, reason, role, node or detail"));
        }
        match child.tag_name().name() {
            "code" => {
                fault.code = Some(
                    if let Some(expr) = ctx.expression_attr(child, "expression")? {
                        FaultCode::Expression(expr)
                    } else {
                        let value = ctx
                            .required_attr(child, "value", "a fault code such as soap11Env:Client")?
                            .trim();
                        match value.split_once(':') {
                            Some((prefix, local)) => {
                                let Some(uri) = child.lookup_namespace_uri(Some(prefix)) else {
                                    return Err(ctx.invalid_attr(
                                        child,
                                        "value",
                                        value,
                                        "a fault code whose prefix is declared",
                                    ));
                                };
                                FaultCode::Value {
                                    namespace: Some(uri.to_string()),
                                    prefix: Some(prefix.to_string()),
                                    local: local.to_string(),
                                }
                            }
                            None => FaultCode::Value {
                                namespace: None,
                                prefix: None,
                                local: value.to_string(),
                            },
                        }
                    },
                );
            }
            "reason" => {
                fault.reason = Some(if let Some(v) = ctx.attr(child, "value") {
                    ValueOrExpression::Value(v.to_string())
                } else if let Some(expr) = ctx.expression_attr(child, "expression")? {
                    ValueOrExpression::Expression(expr)
                } else {
                    return Err(ctx.missing(
                        child,
                        "attribute 'value' or 'expression'",
                        "the fault reason",
                    ));
                });
            }
            "role" => fault.role = Some(text_of(child).trim().to_string()),
            "node" => fault.node = Some(text_of(child).trim().to_string()),
            "detail" => {
                fault.detail = Some(
                    if let Some(expr) = ctx.expression_attr(child, "expression")? {
                        FaultDetail::Expression(expr)
                    } else if element_children(child).next().is_some() {
                        FaultDetail::Xml(
                            element_children(child)
                                .map(|c| ctx.standalone_source(c))
                                .collect(),
                        )
                    } else {
                        FaultDetail::Text(text_of(child))
                    },
                );
            }
            _ => return Err(ctx.unknown(child, node, "code, reason, role, node or detail")),
        }
    }
    if fault.version != FaultVersion::Pox {
        if fault.code.is_none() {
            return Err(ctx.missing(node, "a child <code>", "SOAP faults need a code"));
        }
        if fault.reason.is_none() {
            return Err(ctx.missing(node, "a child <reason>", "SOAP faults need a reason"));
        }
    }
    Ok(fault)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    #[test]
    fn soap_and_pox_faults() {
        let Mediator::MakeFault(f) = parse_one(
            r#"<makefault version="soap12" response="true" xmlns:s12="http://www.w3.org/2003/05/soap-envelope">
<code value="s12:Receiver"/><reason expression="get-property('ERROR_MESSAGE')"/><role>r</role><detail><d>x</d></detail></makefault>"#,
        ) else {
            panic!()
        };
        assert_eq!((f.version, f.response), (FaultVersion::Soap12, true));
        assert_eq!(
            f.code,
            Some(FaultCode::Value {
                namespace: Some("http://www.w3.org/2003/05/soap-envelope".into()),
                prefix: Some("s12".into()),
                local: "Receiver".into()
            })
        );
        assert!(matches!(f.reason, Some(ValueOrExpression::Expression(_))));
        assert_eq!(f.detail, Some(FaultDetail::Xml("<d>x</d>".into())));
        let Mediator::MakeFault(f) =
            parse_one(r#"<makefault version="pox"><reason value="bad"/></makefault>"#)
        else {
            panic!()
        };
        assert_eq!(f.code, None);
    }

    #[test]
    fn errors() {
        assert!(
            parse_err(r#"<makefault><reason value="x"/></makefault>"#)
                .contains("<makefault> requires a child <code>")
        );
        assert!(
            parse_err(r#"<makefault version="soap13"/>"#)
                .contains("attribute 'version' of <makefault>")
        );
        assert!(
            parse_err(r#"<makefault><code value="zz:Client"/><reason value="x"/></makefault>"#)
                .contains("prefix is declared")
        );
    }
}
