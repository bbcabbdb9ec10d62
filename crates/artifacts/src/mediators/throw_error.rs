//! `<throwError type errorMessage>`, MI 4.4's error mediator
//! (SYN:`config/xml/ThrowErrorMediatorFactory.java`): an absent or empty `type` is `ANY`
//! (`SynapseConstants.DEFAULT_ERROR_TYPE`), an absent or empty `errorMessage` is MI's default
//! message, and `errorMessage="{...}"` is a dynamic value (`{${expr}}`, `{xpath}`,
//! `{json-eval(...)}`: ValueFactory.createValue).

use roxmltree::Node;

use crate::expression::Value;
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children};

/// `SynapseConstants.DEFAULT_ERROR_TYPE`.
pub const DEFAULT_ERROR_TYPE: &str = "ANY";
/// ThrowErrorMediatorFactory's message when none is given.
pub const DEFAULT_ERROR_MESSAGE: &str = "Error occurred in the mediation flow";

#[derive(Debug, Clone, PartialEq)]
pub struct ThrowError {
    /// The error type, which becomes `ERROR_CODE`.
    pub error_type: String,
    /// The message, which becomes `ERROR_MESSAGE`.
    pub message: Value,
    pub span: Span,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<ThrowError> {
    if let Some(child) = element_children(node).next() {
        return Err(ctx.unknown(child, node, "no children"));
    }
    let error_type = match ctx.attr(node, "type") {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => DEFAULT_ERROR_TYPE.to_string(),
    };
    let message = match ctx.attr(node, "errorMessage") {
        Some(m) if !m.is_empty() => ctx.value_from(node, m, ctx.attr_span(node, "errorMessage")),
        _ => Value::Literal(DEFAULT_ERROR_MESSAGE.to_string(), ctx.span(node)),
    };
    Ok(ThrowError {
        error_type,
        message,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    fn throw_error(body: &str) -> ThrowError {
        match parse_one(body) {
            Mediator::ThrowError(t) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_literals_and_dynamic_messages() {
        let t = throw_error("<throwError/>");
        assert_eq!(t.error_type, "ANY");
        assert_eq!(
            t.message.literal(),
            Some("Error occurred in the mediation flow")
        );
        let t = throw_error(r#"<throwError type="" errorMessage=""/>"#);
        assert_eq!(
            (t.error_type.as_str(), t.message.literal()),
            ("ANY", Some("Error occurred in the mediation flow"))
        );
        let t = throw_error(r#"<throwError type="PAYLOAD_ERROR" errorMessage="Bad input"/>"#);
        assert_eq!(
            (t.error_type.as_str(), t.message.literal()),
            ("PAYLOAD_ERROR", Some("Bad input"))
        );
        let t = throw_error(r#"<throwError type="E" errorMessage="{${vars.msg}}"/>"#);
        let Value::Dynamic(e) = &t.message else {
            panic!("{t:?}")
        };
        assert_eq!(e.text, "${vars.msg}");
        assert_eq!(e.span.to_string(), "sequences/S.xml:2:22");
        assert!(
            parse_err("<throwError><log/></throwError>")
                .starts_with("unknown element <log> in <throwError>")
        );
    }
}
