//! `<property name action value|expression|<child/> type scope pattern group>`, checked against
//! SYN:`config/xml/PropertyMediatorFactory.java` (name required, a value source required unless
//! `action="remove"`, scope from a fixed list, `group` only with `pattern`).

use roxmltree::Node;

use crate::expression::{Expression, Value};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children};

#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    /// May be dynamic: `name="{json-eval(..)}"`.
    pub name: Value,
    pub action: PropertyAction,
    /// `None` only for `action="remove"`.
    pub value: Option<PropertyValue>,
    pub value_type: PropertyType,
    pub scope: PropertyScope,
    pub pattern: Option<String>,
    pub group: Option<u32>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyAction {
    Set,
    Remove,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PropertyValue {
    Literal(String),
    Expression(Expression),
    /// An inline XML child (type OM), as its source text.
    Xml(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyType {
    String,
    Integer,
    Long,
    Short,
    Float,
    Double,
    Boolean,
    Om,
    Json,
}

/// Every scope the factory accepts. `Default`, `Axis2` and `Transport` are Tier 1; the rest are kept
/// so that the mediation layer can say precisely what it does not support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyScope {
    Default,
    Axis2,
    Transport,
    Axis2Client,
    Operation,
    Registry,
    System,
    Analytics,
    Trace,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Property> {
    let name_text = ctx.required_attr(node, "name", "the property name")?;
    let name = ctx.value_from(node, name_text, ctx.attr_span(node, "name"));
    let action = match ctx.attr(node, "action") {
        None => PropertyAction::Set,
        Some("set") => PropertyAction::Set,
        Some("remove") => PropertyAction::Remove,
        Some(other) => return Err(ctx.invalid_attr(node, "action", other, "set or remove")),
    };
    let value_type = match ctx.attr(node, "type") {
        None => PropertyType::String,
        Some(t) => match t {
            "STRING" => PropertyType::String,
            "INTEGER" => PropertyType::Integer,
            "LONG" => PropertyType::Long,
            "SHORT" => PropertyType::Short,
            "FLOAT" => PropertyType::Float,
            "DOUBLE" => PropertyType::Double,
            "BOOLEAN" => PropertyType::Boolean,
            "OM" => PropertyType::Om,
            "JSON" => PropertyType::Json,
            _ => {
                return Err(ctx.invalid_attr(
                    node,
                    "type",
                    t,
                    "STRING, INTEGER, LONG, SHORT, FLOAT, DOUBLE, BOOLEAN, OM or JSON",
                ));
            }
        },
    };
    let child = element_children(node).next();
    // Factory precedence: value, then child element, then expression.
    let value = if let Some(v) = ctx.attr(node, "value") {
        check_literal(ctx, node, v, value_type)?;
        Some(PropertyValue::Literal(v.to_string()))
    } else if let Some(child) = child {
        Some(PropertyValue::Xml(ctx.standalone_source(child)))
    } else if let Some(expr) = ctx.expression_attr(node, "expression")? {
        Some(PropertyValue::Expression(expr))
    } else if action == PropertyAction::Remove {
        None
    } else {
        return Err(ctx.missing(
            node,
            "attribute 'value' or 'expression' (or a child element)",
            "action is set",
        ));
    };
    let scope = match ctx.attr(node, "scope") {
        None => PropertyScope::Default,
        Some(s) => match s {
            "default" => PropertyScope::Default,
            "axis2" => PropertyScope::Axis2,
            "transport" => PropertyScope::Transport,
            "axis2-client" => PropertyScope::Axis2Client,
            "operation" => PropertyScope::Operation,
            "registry" => PropertyScope::Registry,
            "system" => PropertyScope::System,
            "analytics" => PropertyScope::Analytics,
            "trace" => PropertyScope::Trace,
            _ => {
                return Err(ctx.invalid_attr(
                    node,
                    "scope",
                    s,
                    "default, axis2, transport, axis2-client, operation, registry, system, analytics or trace",
                ));
            }
        },
    };
    let pattern = ctx.attr(node, "pattern").map(str::to_string);
    let group = match ctx.attr(node, "group") {
        None => None,
        Some(_) if pattern.is_none() => {
            return Err(ctx.invalid(
                node,
                "'group' is only allowed when a 'pattern' is specified".into(),
            ));
        }
        Some(g) => Some(
            g.trim()
                .parse()
                .map_err(|_| ctx.invalid_attr(node, "group", g, "a non-negative integer"))?,
        ),
    };
    Ok(Property {
        name,
        action,
        value,
        value_type,
        scope,
        pattern,
        group,
        span: ctx.span(node),
    })
}

/// A literal must convert to its declared type (MI converts it when the mediator is built).
fn check_literal(ctx: &Ctx, node: Node, value: &str, value_type: PropertyType) -> Result<()> {
    let v = value.trim();
    let ok = match value_type {
        PropertyType::Integer => v.parse::<i32>().is_ok(),
        PropertyType::Long => v.parse::<i64>().is_ok(),
        PropertyType::Short => v.parse::<i16>().is_ok(),
        PropertyType::Float => v.parse::<f32>().is_ok(),
        PropertyType::Double => v.parse::<f64>().is_ok(),
        // Java's Boolean.parseBoolean accepts anything (non-"true" is false).
        PropertyType::Boolean | PropertyType::String | PropertyType::Om | PropertyType::Json => {
            true
        }
    };
    if ok {
        Ok(())
    } else {
        Err(ctx.invalid_attr(node, "value", value, &format!("a {value_type:?} number")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    fn prop(xml: &str) -> Property {
        match parse_one(xml) {
            Mediator::Property(p) => p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn set_remove_expression_and_inline_xml() {
        let p = prop(r#"<property name="HTTP_SC" value="404" scope="axis2" type="INTEGER"/>"#);
        assert_eq!(p.name.literal(), Some("HTTP_SC"));
        assert_eq!(
            (p.scope, p.value_type),
            (PropertyScope::Axis2, PropertyType::Integer)
        );
        assert_eq!(p.value, Some(PropertyValue::Literal("404".into())));
        let p = prop(r#"<property name="TRANSPORT_HEADERS" action="remove" scope="axis2"/>"#);
        assert_eq!((p.action, p.value), (PropertyAction::Remove, None));
        let p = prop(r#"<property name="{json-eval($.k)}" expression="json-eval($.v)"/>"#);
        assert!(matches!(p.name, Value::Dynamic(ref e) if e.text == "json-eval($.k)"));
        let p = prop(r#"<property name="x" type="OM"><a><b/></a></property>"#);
        assert_eq!(p.value, Some(PropertyValue::Xml("<a><b/></a>".into())));
    }

    // MI keeps an inline OM value as an element with its namespaces (PropertyMediatorFactory):
    // a prefix declared on the artifact is declared on the value, so the value parses alone.
    #[test]
    fn inline_xml_values_carry_inherited_namespace_declarations() {
        let p = prop(
            r#"<property name="p" type="OM" xmlns:ns="urn:n"><ns:a xmlns:b="urn:b"><b:c/></ns:a></property>"#,
        );
        assert_eq!(
            p.value,
            Some(PropertyValue::Xml(
                r#"<ns:a xmlns:ns="urn:n" xmlns:b="urn:b"><b:c/></ns:a>"#.into()
            ))
        );
    }

    #[test]
    fn located_errors_as_mi() {
        assert_eq!(
            parse_err(r#"<property name="a"/>"#),
            "<property> requires attribute 'value' or 'expression' (or a child element): action is set at sequences/S.xml:2:1"
        );
        assert!(
            parse_err(r#"<property name="a" value="1" scope="session"/>"#)
                .contains("attribute 'scope' of <property>")
        );
        assert!(parse_err(r#"<property value="1"/>"#).contains("requires attribute 'name'"));
        assert!(
            parse_err(r#"<property name="a" value="x" type="INTEGER"/>"#)
                .contains("attribute 'value'")
        );
        assert!(
            parse_err(r#"<property name="a" value="1" group="1"/>"#)
                .contains("'group' is only allowed")
        );
    }
}
