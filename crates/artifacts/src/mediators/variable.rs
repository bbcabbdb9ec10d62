//! `<variable name action type value|expression>`, MI 4.4's variable mediator
//! (SYN:`config/xml/VariableMediatorFactory.java`): sets or removes a message variable, read by
//! Synapse expressions as `${vars.NAME}`. What is checked here is what the factory checks (a
//! name; a value or an expression unless the action is `remove`); the type and the conversion of
//! `value` to it are checked when the mediation crate compiles the mediator (MI converts the value
//! in the factory too, so a bad one fails deployment in both).

use roxmltree::Node;

use crate::expression::Expression;
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children};

#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    pub name: String,
    pub action: VariableAction,
    /// `type` as written (MI compares it with `VARIABLE_DATA_TYPES.valueOf`, case-sensitively);
    /// `None` when absent.
    pub value_type: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum VariableAction {
    Set(VariableValue),
    /// `action="remove"`.
    Remove,
}

#[derive(Debug, Clone, PartialEq)]
pub enum VariableValue {
    /// `value="..."`: converted to the type once, at deployment.
    Literal(String),
    /// `expression="${...}"` (or an XPath / `json-eval(...)`, as SynapsePathFactory reads it).
    Expression(Expression),
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Variable> {
    let name = match ctx.attr(node, "name") {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => {
            return Err(ctx.missing(
                node,
                "attribute 'name'",
                "the variable's name (MI: \"The 'name' attribute is required for the configuration of a variable mediator\")",
            ));
        }
    };
    if let Some(child) = element_children(node).next() {
        return Err(ctx.unknown(child, node, "no children"));
    }
    // The factory compares the action with "remove" exactly; any other value sets.
    let remove = ctx.attr(node, "action") == Some("remove");
    let value = if let Some(value) = ctx.attr(node, "value") {
        Some(VariableValue::Literal(value.to_string()))
    } else {
        ctx.expression_attr(node, "expression")?
            .map(VariableValue::Expression)
    };
    let action = match (remove, value) {
        (true, _) => VariableAction::Remove,
        (false, Some(value)) => VariableAction::Set(value),
        (false, None) => {
            return Err(ctx.missing(
                node,
                "attribute 'value' or 'expression'",
                "the value to set (MI: \"'value' or 'expression' attributes is required for a variable mediator when action is SET\")",
            ));
        }
    };
    Ok(Variable {
        name,
        action,
        value_type: ctx.attr(node, "type").map(str::to_string),
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    fn variable(body: &str) -> Variable {
        match parse_one(body) {
            Mediator::Variable(v) => v,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn value_expression_type_and_remove() {
        let v = variable(r#"<variable name="n" type="INTEGER" value="10"/>"#);
        assert_eq!(v.name, "n");
        assert_eq!(v.value_type.as_deref(), Some("INTEGER"));
        assert_eq!(
            v.action,
            VariableAction::Set(VariableValue::Literal("10".into()))
        );
        assert_eq!(v.span.to_string(), "sequences/S.xml:2:1");
        let v = variable(r#"<variable name="sum" expression="${vars.a + 1}"/>"#);
        let VariableAction::Set(VariableValue::Expression(e)) = &v.action else {
            panic!("{v:?}")
        };
        assert_eq!(e.text, "${vars.a + 1}");
        assert_eq!(v.value_type, None);
        // VariableMediatorFactory: value wins over expression.
        let v = variable(r#"<variable name="x" value="v" expression="${vars.y}"/>"#);
        assert_eq!(
            v.action,
            VariableAction::Set(VariableValue::Literal("v".into()))
        );
        // Remove needs no value; an action that is not "remove" sets.
        assert_eq!(
            variable(r#"<variable name="x" action="remove"/>"#).action,
            VariableAction::Remove
        );
        assert_eq!(
            variable(r#"<variable name="x" action="SET" value=""/>"#).action,
            VariableAction::Set(VariableValue::Literal(String::new()))
        );
    }

    #[test]
    fn errors_say_what_mi_says() {
        assert_eq!(
            parse_err(r#"<variable value="1"/>"#),
            "<variable> requires attribute 'name': the variable's name (MI: \"The 'name' attribute is required for the configuration of a variable mediator\") at sequences/S.xml:2:1"
        );
        assert!(
            parse_err(r#"<variable name="" value="1"/>"#).contains("requires attribute 'name'")
        );
        assert!(
            parse_err(r#"<variable name="x"/>"#)
                .starts_with("<variable> requires attribute 'value' or 'expression'")
        );
        assert!(
            parse_err(r#"<variable name="x" action="Remove"/>"#)
                .starts_with("<variable> requires attribute 'value' or 'expression'")
        );
        assert!(
            parse_err(r#"<variable name="x" expression=" "/>"#)
                .contains("attribute 'expression' of <variable>")
        );
        assert!(
            parse_err(r#"<variable name="x" value="1"><log/></variable>"#)
                .starts_with("unknown element <log> in <variable>")
        );
    }
}
