//! XPath 1.0 with Synapse's extensions, as WSO2 MI evaluates it in mediators (property
//! `expression`, filter `xpath`, switch `source`, log properties, payloadFactory arguments, enrich
//! custom source/target). Expressions are compiled once at deploy time ([`XPath::compile`]) and
//! evaluated against a read-only `roxmltree` document holding the SOAP envelope, with the
//! envelope element as the context node (SynapseXPath.getContext).
//!
//! Layout: `parser` (lexer, grammar, limits) builds the tree in `ast`; `eval` walks it;
//! `functions` holds the core library and number formatting; `synapse` holds Synapse's
//! functions, variables' scopes and the `stringValueOf` rule; [`serialize`](fn@serialize) writes
//! XML as Axiom does.
//!
//! Functions are resolved as Jaxen does it, when evaluating: an unknown function (Jaxen's
//! `evaluate()` and `document()`, custom `XpathExtensionUtil` extensions, a misspelt name) or a
//! wrong argument count deploys and fails when the expression is evaluated. Synapse's key-store
//! functions `hmac-generate`, `encrypt`, `decrypt` are refused at deploy time (not implemented).
//!
//! XPath 2.0: MI evaluates an expression Jaxen cannot (an XPath 2.0 function) with Saxon when
//! `synapse.enable_xpath_dom_failover` is set, as MI's test servers do. Conflux runs the common
//! XPath 2.0 string functions (`fn:tokenize`, `fn:matches`, `fn:replace`, `fn:string-join`,
//! `fn:upper-case`, `fn:lower-case`, `fn:ends-with`, `fn:current-dateTime`, `fn:current-date`,
//! `fn:current-time`) inside its XPath 1.0 evaluator, whatever that setting, with `fn:` or no
//! prefix; the rest of XPath 2.0 (its syntax, types, and Saxon's evaluation against the body's
//! first element) is not implemented. Streaming XPath is not implemented either.

mod ast;
mod eval;
pub(crate) mod functions;
mod parser;
mod serialize;
mod synapse;
mod xpath2;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod differential;

use std::time::{SystemTime, UNIX_EPOCH};

pub use eval::{MAX_EVALUATION_STEPS, XNode};
pub use parser::{MAX_EXPRESSION_LEN, MAX_NESTING_DEPTH};
pub use serialize::{serialize, serialize_without_indentation};
pub use synapse::{DEFAULT_SYSTEM_DATE_PATTERN, MAX_DATE_PATTERN_LEN};

use eval::{Evaluator, Value};

/// Longest slice of the expression quoted in an error message (characters).
const MAX_QUOTED_EXPRESSION_CHARS: usize = 200;

/// A compile or evaluation error: what went wrong and where in the expression text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", render(.message, *.column, .expression))]
pub struct XPathError {
    message: String,
    column: Option<usize>,
    expression: String,
}

fn render(message: &str, column: Option<usize>, expression: &str) -> String {
    let quoted: String = expression
        .chars()
        .take(MAX_QUOTED_EXPRESSION_CHARS)
        .collect();
    let ellipsis = if expression.chars().count() > MAX_QUOTED_EXPRESSION_CHARS {
        "..."
    } else {
        ""
    };
    match column {
        Some(column) => format!("{message} at column {column} of \"{quoted}{ellipsis}\""),
        None => format!("{message} in \"{quoted}{ellipsis}\""),
    }
}

impl XPathError {
    pub(crate) fn new(message: String, column: Option<usize>, expression: &str) -> XPathError {
        XPathError {
            message,
            column,
            expression: expression.to_string(),
        }
    }

    /// What went wrong, without the location.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// 1-based column (in characters) in the expression text, when the error has one.
    pub fn column(&self) -> Option<usize> {
        self.column
    }
}

/// The result of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum XValue<'a, 'i> {
    /// A node-set of tree nodes (root, elements, text, comments, PIs), in document order.
    Nodes(Vec<roxmltree::Node<'a, 'i>>),
    /// A node-set that contains attribute or namespace nodes, which roxmltree does not model as
    /// `Node`s (e.g. `//@id`), in document order.
    NodeSet(Vec<XNode<'a, 'i>>),
    String(String),
    Number(f64),
    Boolean(bool),
}

/// Parses the XML property values of [`XPath::node_property_texts`]; a value that does not parse
/// stays a string.
fn parse_property_docs(texts: &[(String, String, String)]) -> Vec<eval::PropertyDoc<'_>> {
    texts
        .iter()
        .filter_map(|(scope, name, text)| {
            let doc = roxmltree::Document::parse(text.trim()).ok()?;
            Some(eval::PropertyDoc {
                scope: scope.clone(),
                name: name.clone(),
                doc,
            })
        })
        .collect()
}

/// What an expression can ask of the message context.
pub trait XPathEnv {
    /// A property lookup: scope is "default", "axis2", "transport" (case-insensitive header name), "url"
    /// (query parameter), "func", "system", "env", "registry", "operation"... as written (lowercased).
    /// The one-argument get-property(name) calls this with scope "default" (the env resolves MI's special
    /// names To, MessageID, MESSAGE_FORMAT, ... itself). None when unset.
    fn property(&self, scope: &str, name: &str) -> Option<String>;
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub struct XPath {
    text: String,
    expr: ast::Expr,
    needs_payload: bool,
    /// Properties a path starts from, whose XML values are parsed for each evaluation.
    node_properties: Vec<(String, String)>,
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl XPath {
    /// `namespaces`: prefix -> URI in scope on the element that carried the expression.
    pub fn compile(text: &str, namespaces: &[(String, String)]) -> Result<XPath, XPathError> {
        let mut expr = parser::parse(text, namespaces)?;
        let needs_payload = expr.reads_document();
        let mut node_properties = Vec::new();
        expr.mark_property_nodes(&mut node_properties);
        Ok(XPath {
            text: text.to_string(),
            expr,
            needs_payload,
            node_properties,
        })
    }

    /// The expression text as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn evaluate_value<'a, 'i>(
        &self,
        doc: &'a roxmltree::Document<'i>,
        property_docs: &'a [eval::PropertyDoc<'i>],
        env: &dyn XPathEnv,
        now: i64,
    ) -> Result<Value<'a, 'i>, XPathError> {
        let mut evaluator = Evaluator {
            doc,
            property_docs,
            env,
            text: &self.text,
            now_millis: now,
            steps: 0,
            context_item: None,
        };
        let ctx = evaluator.initial_context();
        evaluator.eval(&self.expr, &ctx)
    }

    /// Evaluates against `doc` (the SOAP envelope; the context node is its root element).
    pub fn evaluate<'a, 'i>(
        &self,
        doc: &'a roxmltree::Document<'i>,
        env: &dyn XPathEnv,
    ) -> Result<XValue<'a, 'i>, XPathError> {
        // Nodes handed back must live in `doc`: a path from an XML property is evaluated by
        // string_value/boolean_value only, which parse the property for the evaluation.
        Ok(match self.evaluate_value(doc, &[], env, now_millis())? {
            Value::Nodes(nodes) => {
                if nodes.iter().all(|n| matches!(n, XNode::Node(_))) {
                    XValue::Nodes(nodes.iter().map(XNode::tree_node).collect())
                } else {
                    XValue::NodeSet(nodes)
                }
            }
            Value::String(s) => XValue::String(s),
            // Saxon's JAXP evaluate(node) with a string result: the first item.
            Value::Strings(items) => XValue::String(items.into_iter().next().unwrap_or_default()),
            Value::Number(n) => XValue::Number(n),
            Value::Boolean(b) => XValue::Boolean(b),
        })
    }

    /// Synapse's SynapseXPath.stringValueOf rule (NOT XPath's first-node rule): text -> text,
    /// attribute -> value, one element -> its trimmed direct text or, when empty, its serialised
    /// XML; several nodes -> concatenated (elements serialised); expressions containing node() ->
    /// serialised XML. A number result is Java's `Double.toString` (`count(//a)` -> `"2.0"`),
    /// because Synapse calls `toString()` on the Double Jaxen returns; `string(count(//a))` is
    /// `"2"` (Jaxen's StringFunction). An unset property reads as "" (Synapse returns null).
    pub fn string_value(
        &self,
        doc: &roxmltree::Document,
        env: &dyn XPathEnv,
    ) -> Result<String, XPathError> {
        self.string_value_at(doc, env, now_millis())
    }

    /// [`XPath::string_value`] with the clock (milliseconds since the Unix epoch) passed in, for
    /// `SYSTEM_DATE` / `SYSTEM_TIME`.
    pub fn string_value_at(
        &self,
        doc: &roxmltree::Document,
        env: &dyn XPathEnv,
        now_millis: i64,
    ) -> Result<String, XPathError> {
        let texts = self.node_property_texts(env);
        let docs = parse_property_docs(&texts);
        let value = self.evaluate_value(doc, &docs, env, now_millis)?;
        let limit = synapse::MAX_STRING_VALUE_BYTES.max(2 * doc.input_text().len());
        synapse::string_value_of(&self.text, &value, limit)
            .map_err(|message| XPathError::new(message, None, &self.text))
    }

    /// XPath boolean() of the result (what filter xpath="..." uses).
    pub fn boolean_value(
        &self,
        doc: &roxmltree::Document,
        env: &dyn XPathEnv,
    ) -> Result<bool, XPathError> {
        let texts = self.node_property_texts(env);
        let docs = parse_property_docs(&texts);
        Ok(self
            .evaluate_value(doc, &docs, env, now_millis())?
            .to_boolean())
    }

    /// The values of the properties paths start from that look like XML.
    fn node_property_texts(&self, env: &dyn XPathEnv) -> Vec<(String, String, String)> {
        self.node_properties
            .iter()
            .filter_map(|(scope, name)| {
                let value = env.property(scope, name)?;
                value
                    .trim_start()
                    .starts_with('<')
                    .then(|| (scope.clone(), name.clone(), value))
            })
            .collect()
    }

    /// false when evaluating never looks at the document: only literals, numbers, get-property, the
    /// $ctx/$axis2/$trp/$url/$func variables and functions of those. The lead uses it to keep messages
    /// streaming when a sequence never reads the payload.
    pub fn needs_payload(&self) -> bool {
        self.needs_payload
    }
}
