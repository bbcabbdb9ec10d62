//! `Expression` and `Value`: expression text kept verbatim (XPath, `json-eval(..)`, JSONPath) with the
//! namespace prefixes in scope where it was written; the mediation crate compiles them.

use crate::span::Span;

/// An expression as written, e.g. `//m0:symbol`, `json-eval($.id)`, `get-property('To')`.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    pub text: String,
    /// Prefixed namespace declarations in scope on the element carrying the expression
    /// (XPath 1.0 ignores the default namespace, so it is not listed).
    pub namespaces: Vec<(String, String)>,
    pub span: Span,
}

impl Expression {
    /// True for the `json-eval(...)` form (JSONPath rather than XPath).
    pub fn is_json_eval(&self) -> bool {
        self.text.trim_start().starts_with("json-eval(")
    }
}

/// A value that is either fixed or computed: Synapse's `key="{expr}"` / `name="{expr}"` convention
/// (SYN:`config/xml/ValueFactory.java`: a value wrapped in `{}` is dynamic).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Literal(String, Span),
    Dynamic(Expression),
}

impl Value {
    pub fn span(&self) -> &Span {
        match self {
            Value::Literal(_, span) => span,
            Value::Dynamic(expr) => &expr.span,
        }
    }

    /// The literal text, when it is not dynamic.
    pub fn literal(&self) -> Option<&str> {
        match self {
            Value::Literal(text, _) => Some(text),
            Value::Dynamic(_) => None,
        }
    }
}

/// A value given either as a literal (`value=".."`) or computed (`expression=".."`).
#[derive(Debug, Clone, PartialEq)]
pub enum ValueOrExpression {
    Value(String),
    Expression(Expression),
}
