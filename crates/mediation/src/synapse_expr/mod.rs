//! WSO2 MI 4.4 **Synapse expressions** (`${...}`), the language itself, as Synapse implements it
//! (`util/xpath/SynapseExpression.java`, the ANTLR grammar `ExpressionLexer.g4` /
//! `ExpressionParser.g4`, and the AST nodes of `util/synapse/expression/ast`). MI is the
//! specification, quirks included: `and`/`or` bind tighter than comparisons (`a > 1 and b < 2`
//! is `(a > (1 and b)) < 2`), `5-3` is a parse error (two numbers), `==` compares printed
//! strings (`1 == 1.0` is false), numbers print as Java does (`2.0E9`), double division is
//! rounded to the dividend's scale (`1 / 3.0` is `0.3`), and an evaluation error makes the
//! expression empty (`""`) with a warning.
//!
//! Layout: `lexer` and `parser` build the tree of `ast` (static JSONPaths are translated once,
//! at compile time); `eval` and `functions` evaluate it over an [`ExprContext`] the runtime
//! implements; `value` holds [`ExprValue`] with Java's type distinctions, `java` and `gson` the
//! Java and Gson behaviour values show, `datetime` the `formatDateTime` patterns, and `template`
//! the `${}` templates of log messages, the HTTP connector ([`InlineTemplate`]) and payloadFactory
//! ([`PayloadTemplate`]). JSONPaths run on [`crate::json::JsonEval`]; what Jayway's
//! GsonJsonProvider adds on top (which results are unwrapped, path functions' result types and
//! failures) is in `eval`.
//!
//! Errors: a syntax error is an [`ExprError`] at compile (deployment) time. At run time MI catches
//! only its EvaluationException (the value becomes empty: [`EvalError::Empty`]); other Java
//! exceptions escape the mediator and send the message to the fault sequence
//! ([`EvalError::Fault`]).
//!
//! Not implemented: `wso2-vault(...)` and `hashicorp-vault(...)` compile and fail with a fault when
//! evaluated (Conflux has no secure vault); the post-4.4 behaviours of Synapse's main line
//! (`${payload}` on an XML message read through XPath, `xpath(e, 'var.field')` on map variables)
//! are not applied.

mod ast;
mod datetime;
mod eval;
mod functions;
mod gson;
mod java;
mod lexer;
mod parser;
mod template;
mod value;

#[cfg(test)]
mod tests;

pub use datetime::MAX_DATE_PATTERN_LEN;

/// Java's and Gson's parsers as the expressions use them, for the runtime's conversions to MI's
/// types (the variable mediator's `type`: `Integer.parseInt`, `Long.parseLong`,
/// `Double.parseDouble`, Gson's lenient `JsonParser`).
pub(crate) mod java_compat {
    pub(crate) use super::gson::parse_lenient as parse_json;
    pub(crate) use super::gson::write_html_safe_string;
    pub(crate) use super::java::{double_to_string, parse_double, parse_int, parse_long};
}
pub use parser::MAX_PARSE_STEPS;
pub use template::{InlineTemplate, PayloadTemplate, TemplateMedia};
/// TemplateProcessor's `escapeXml10` and `isXML`, which the `$n` arguments use too.
pub(crate) use template::{escape_xml10, is_xml};
pub use value::ExprValue;

use ast::{Access, Function, Node};
use eval::Evaluator;
use std::sync::Arc;

/// The tracing target of the warnings expressions log (MI's `SynapseExpression` logger: evaluation
/// errors, characters the lexer drops).
pub const LOG_TARGET: &str = "conflux::synapse_expression";

/// Longest expression text accepted (bytes).
pub const MAX_EXPRESSION_LEN: usize = 64 * 1024;
/// Deepest nesting of parentheses, brackets, function arguments and conditionals accepted; the
/// parser and the evaluator recurse once per level. (Operator chains do not nest.)
pub const MAX_NESTING_DEPTH: usize = 64;

/// Longest part of an expression quoted in an error message (characters).
const MAX_QUOTED_CHARS: usize = 200;

/// A compile (deployment-time) error: what is wrong and where, 1-based column within the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at column {column} of \"{}\"", quote(.text))]
pub struct ExprError {
    pub message: String,
    pub column: usize,
    pub text: String,
}

fn quote(text: &str) -> String {
    let mut quoted: String = text.chars().take(MAX_QUOTED_CHARS).collect();
    if text.chars().count() > MAX_QUOTED_CHARS {
        quoted.push_str("...");
    }
    quoted
}

impl ExprError {
    pub(crate) fn new(message: String, column: usize, text: &str) -> ExprError {
        ExprError {
            message,
            column,
            text: text.to_string(),
        }
    }
}

/// An evaluation error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// MI's EvaluationException: MI logs `Error evaluating expression: <expr> cause : <message>`
    /// and the expression's value is empty.
    #[error("{message}")]
    Empty { message: String },
    /// A Java exception MI does not catch (IllegalArgumentException, NullPointerException,
    /// Jayway's InvalidPathException, ...): the mediator fails and the message goes to the fault
    /// sequence.
    #[error("{message}")]
    Fault { message: String },
}

impl EvalError {
    pub fn empty(message: impl Into<String>) -> EvalError {
        EvalError::Empty {
            message: message.into(),
        }
    }

    pub fn fault(message: impl Into<String>) -> EvalError {
        EvalError::Fault {
            message: message.into(),
        }
    }

    pub fn message(&self) -> &str {
        match self {
            EvalError::Empty { message } | EvalError::Fault { message } => message,
        }
    }

    pub fn is_fault(&self) -> bool {
        matches!(self, EvalError::Fault { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyScope {
    Synapse,
    Axis2,
}

/// What an expression reads from the message. The runtime implements it over its MessageContext.
pub trait ExprContext {
    /// The payload as JSON text or value (XML bodies already converted the way MI's `$.` JSONPath
    /// does); Err(message) e.g. "Payload is empty".
    fn payload_json(&self) -> Result<serde_json::Value, String>;
    /// A variable: `ExprValue::Json` for JSON (and for map variables such as a connector's
    /// `{payload, headers, attributes}`), `Xml` for XML, the Java type otherwise. None (or
    /// `Null`) when unset.
    fn variable(&self, name: &str) -> Option<ExprValue>;
    /// Transport header (case-insensitive).
    fn header(&self, name: &str) -> Option<String>;
    fn property(&self, scope: PropertyScope, name: &str) -> Option<String>;
    /// MI: property `query.param.<name>`
    fn query_param(&self, name: &str) -> Option<String>;
    /// MI: property `uri.var.<name>`
    fn path_param(&self, name: &str) -> Option<String>;
    fn function_param(&self, name: &str) -> Option<String>;
    fn config(&self, name: &str) -> Option<String>;
    /// XPath over the message (string_mode: stringValueOf, else node list as XML); `variable`:
    /// `xpath(expr, 'varName')`. Namespaces are the runtime's business. In object mode the result
    /// should be `Xml` (a node list) or `Null`; any other kind is MI's ClassCastException.
    fn xpath(
        &self,
        expr: &str,
        variable: Option<&str>,
        string_mode: bool,
    ) -> Result<ExprValue, String>;
    fn registry_text(&self, key: &str) -> Option<String>;
    fn registry_property(&self, key: &str, name: &str) -> Option<String>;
    /// now() — time passed in, testable.
    fn now_millis(&self) -> i64;
    /// Seconds east of UTC for formatDateTime (MI uses the JVM default zone).
    fn utc_offset_seconds(&self) -> i32 {
        0
    }
    /// Whether the message is inside a sequence template (MI keeps a function stack there);
    /// `params.functionParams.x` outside one is a NullPointerException in MI.
    fn in_template(&self) -> bool {
        true
    }
}

/// A compiled `${...}` expression (text = the inside, without `${` and `}`).
#[derive(Debug, Clone)]
pub struct SynapseExpression {
    inner: Arc<Compiled>,
}

#[derive(Debug)]
struct Compiled {
    text: String,
    root: Node,
    needs_payload: bool,
}

impl SynapseExpression {
    /// Deploy-time compilation (SynapseExpression's constructor): syntax errors, leftover input
    /// and what ExpressionVisitor rejects are errors.
    pub fn compile(text: &str) -> Result<SynapseExpression, ExprError> {
        if text.len() > MAX_EXPRESSION_LEN {
            return Err(ExprError::new(
                format!(
                    "the expression is {} bytes long; at most {MAX_EXPRESSION_LEN} (MAX_EXPRESSION_LEN) are accepted",
                    text.len()
                ),
                1,
                text,
            ));
        }
        let mut root = parser::parse(text)?;
        eval::prepare(&mut root);
        let needs_payload = reads_payload(&root);
        Ok(SynapseExpression {
            inner: Arc::new(Compiled {
                text: text.to_string(),
                root,
                needs_payload,
            }),
        })
    }

    pub fn text(&self) -> &str {
        &self.inner.text
    }

    /// Whether evaluating may read the message payload: a `payload`/`$` access anywhere, or an
    /// `xpath()` on the message whose XPath reads the document (MI
    /// SynapseExpressionUtils.isSynapseExpressionContentAware, decided on the tree rather than on
    /// the text).
    pub fn needs_payload(&self) -> bool {
        self.inner.needs_payload
    }

    /// The raw value in object context (MI `isObjectValue`; only `xpath()` differs between the
    /// contexts). `ExprValue::Null` is Java null; errors are returned as they are.
    pub fn evaluate(&self, ctx: &dyn ExprContext) -> Result<ExprValue, EvalError> {
        Evaluator::new(ctx, true).eval(&self.inner.root)
    }

    /// [`SynapseExpression::evaluate`] in string context (what `stringValueOf` evaluates).
    pub fn evaluate_in_string_context(
        &self,
        ctx: &dyn ExprContext,
    ) -> Result<ExprValue, EvalError> {
        Evaluator::new(ctx, false).eval(&self.inner.root)
    }

    /// MI `stringValueOf`: asString of the result; an EvalError::Empty-kind error -> "" (the
    /// warning MI logs is logged here, target [`LOG_TARGET`]), Fault kind -> Err.
    pub fn string_value(&self, ctx: &dyn ExprContext) -> Result<String, EvalError> {
        let (value, warning) = self.string_value_with_warning(ctx)?;
        if let Some(warning) = warning {
            tracing::warn!(target: LOG_TARGET, "{warning}");
        }
        Ok(value)
    }

    /// [`SynapseExpression::string_value`] without logging: the warning MI would log
    /// (`Error evaluating expression: <expr> cause : <message>`) is returned instead.
    pub fn string_value_with_warning(
        &self,
        ctx: &dyn ExprContext,
    ) -> Result<(String, Option<String>), EvalError> {
        match self.evaluate_in_string_context(ctx) {
            Ok(value) => Ok((value.java_as_string()?.unwrap_or_default(), None)),
            Err(EvalError::Empty { message }) => Ok((String::new(), Some(self.warning(&message)))),
            Err(fault) => Err(fault),
        }
    }

    /// MI `objectValueOf`: the raw value; evaluation errors -> ExprValue::String("") as MI does
    /// (after logging MI's warning), and so does a null result. Fault kind -> Err.
    pub fn object_value(&self, ctx: &dyn ExprContext) -> Result<ExprValue, EvalError> {
        let (value, warning) = self.object_value_with_warning(ctx)?;
        if let Some(warning) = warning {
            tracing::warn!(target: LOG_TARGET, "{warning}");
        }
        Ok(value)
    }

    /// [`SynapseExpression::object_value`] without logging.
    pub fn object_value_with_warning(
        &self,
        ctx: &dyn ExprContext,
    ) -> Result<(ExprValue, Option<String>), EvalError> {
        match self.evaluate(ctx) {
            Ok(ExprValue::Null) => Ok((ExprValue::String(String::new()), None)),
            Ok(value) => Ok((value, None)),
            Err(EvalError::Empty { message }) => Ok((
                ExprValue::String(String::new()),
                Some(self.warning(&message)),
            )),
            Err(fault) => Err(fault),
        }
    }

    fn warning(&self, message: &str) -> String {
        format!(
            "Error evaluating expression: {} cause : {message}",
            self.inner.text
        )
    }
}

impl std::fmt::Display for SynapseExpression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${{{}}}", self.inner.text)
    }
}

/// A whole attribute value `${...}` -> Some(inner text) (MI SynapsePathFactory: starts with `${`
/// and ends with `}`).
pub fn whole_expression(attr: &str) -> Option<&str> {
    if attr.starts_with("${") && attr.ends_with('}') && attr.len() >= 3 {
        Some(&attr[2..attr.len() - 1])
    } else {
        None
    }
}

/// `{${...}}` dynamic value (MI ValueFactory) -> Some(inner text).
pub fn braced_expression(attr: &str) -> Option<&str> {
    if attr.starts_with("{${") && attr.ends_with("}}") && attr.len() >= 5 {
        Some(&attr[3..attr.len() - 2])
    } else {
        None
    }
}

/// Whether evaluating the tree may read the payload.
fn reads_payload(node: &Node) -> bool {
    match node {
        Node::Literal(_) => false,
        Node::Array(items) => items.iter().any(reads_payload),
        Node::Chain { first, rest } => {
            reads_payload(first) || rest.iter().any(|(_, n)| reads_payload(n))
        }
        Node::Logical { operands, .. } => operands.iter().any(reads_payload),
        Node::Conditional {
            condition,
            then,
            otherwise,
        } => reads_payload(condition) || reads_payload(then) || reads_payload(otherwise),
        Node::Call { function, args } => {
            let own =
                *function == Function::Xpath && args.len() == 1 && xpath_reads_payload(&args[0]);
            own || args.iter().any(reads_payload)
        }
        Node::Access(access) => access_reads_payload(access),
        Node::Lookup { key, .. } => reads_payload(key),
        Node::Negate(inner) => reads_payload(inner),
        Node::Indices { items, .. } => items.iter().flatten().any(reads_payload),
        Node::Filter(filter) => filter
            .parts
            .iter()
            .filter_map(|(_, n)| n.as_ref())
            .any(reads_payload),
    }
}

fn access_reads_payload(access: &Access) -> bool {
    access.kind == ast::AccessKind::Payload
        || access.function.as_ref().is_some_and(reads_payload)
        || access
            .substitutions
            .iter()
            .filter_map(|(_, n)| n.as_ref())
            .any(reads_payload)
}

/// `xpath('...')` on the message reads the payload when its XPath reads the document; an XPath
/// that is not a literal (or does not compile here, where its namespaces are unknown) may.
fn xpath_reads_payload(argument: &Node) -> bool {
    let Node::Literal(ExprValue::String(raw)) = argument else {
        return true;
    };
    let text = ExprValue::String(raw.clone())
        .as_mi_string()
        .unwrap_or_default();
    crate::xpath::XPath::compile(&text, &[]).map_or(true, |x| x.needs_payload())
}
