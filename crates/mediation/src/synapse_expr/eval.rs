//! Evaluation of the syntax tree with the Java nodes' semantics: BinaryOperationNode (no
//! short-circuit, numeric promotion Integer -> Long -> Double with BigDecimal arithmetic for
//! doubles, `==` on printed strings), ConditionalExpressionNode, HeadersAndPropertiesAccessNode,
//! and PayloadAccessNode: index sub-expressions are evaluated and their text replaced
//! (`replaceFirst`) in the access text, which then runs as a Jayway JSONPath through
//! [`crate::json::JsonEval`] with GsonJsonProvider's results (a value read by name is unwrapped and
//! re-wrapped, a value read by index stays the parsed primitive, path functions unwrap).

use super::ast::{Access, AccessKind, BinOp, Filter, LookupKind, Node, Prepared};
use super::value::{ExprValue, parse_number_or_string};
use super::{EvalError, ExprContext, PropertyScope, functions, gson, java};
use crate::json::JsonEval;
use serde_json::Value;
use std::cell::OnceCell;

/// One evaluation: the message context, whether the caller wants the object value (MI's
/// `isObjectValue`, which only changes what `xpath()` returns) and the payload read once.
pub(super) struct Evaluator<'c> {
    pub ctx: &'c dyn ExprContext,
    pub object_mode: bool,
    payload: OnceCell<Result<Value, String>>,
}

impl<'c> Evaluator<'c> {
    pub(super) fn new(ctx: &'c dyn ExprContext, object_mode: bool) -> Evaluator<'c> {
        Evaluator {
            ctx,
            object_mode,
            payload: OnceCell::new(),
        }
    }

    pub(super) fn eval(&self, node: &Node) -> Result<ExprValue, EvalError> {
        match node {
            Node::Literal(value) => Ok(value.clone()),
            Node::Array(items) => self.array_literal(items),
            Node::Chain { first, rest } => {
                let mut acc = self.eval(first)?;
                for (op, right) in rest {
                    let right = self.eval(right)?;
                    acc = binary(acc, *op, right)?;
                }
                Ok(acc)
            }
            Node::Logical { operands, ops } => {
                // Java evaluates every operand (left to right) before the innermost operation.
                let values = operands
                    .iter()
                    .map(|o| self.eval(o))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut values = values.into_iter().rev();
                let mut acc = values.next().unwrap_or(ExprValue::Null);
                for (left, op) in values.zip(ops.iter().rev()) {
                    acc = binary(left, *op, acc)?;
                }
                Ok(acc)
            }
            Node::Conditional {
                condition,
                then,
                otherwise,
            } => {
                let condition = self.eval(condition)?;
                if condition.is_null() {
                    return Err(EvalError::empty(
                        "Condition is null in conditional expression",
                    ));
                }
                if !condition.is_boolean() {
                    return Err(EvalError::empty(
                        "Condition is not a boolean in conditional expression",
                    ));
                }
                if condition.as_boolean()? {
                    self.eval(then)
                } else {
                    self.eval(otherwise)
                }
            }
            Node::Call { function, args } => functions::call(self, *function, args),
            Node::Access(access) => self.access(access),
            Node::Lookup { kind, key } => self.lookup(*kind, key),
            Node::Negate(inner) => {
                let value = self.eval(inner)?;
                if value.is_null() {
                    return Err(EvalError::fault(
                        "IllegalStateException: Cannot negate a null value",
                    ));
                }
                if value.is_integer() {
                    Ok(ExprValue::Int(value.as_int()?.wrapping_neg()))
                } else if value.is_double() {
                    Ok(ExprValue::Double(-value.as_double()?))
                } else {
                    Err(EvalError::fault(format!(
                        "IllegalStateException: Cannot negate a non-numeric value : {}",
                        value.java_as_string()?.unwrap_or_default()
                    )))
                }
            }
            Node::Indices { separator, items } => {
                let mut parts = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        None => parts.push(String::new()),
                        Some(node) => {
                            if let Some(text) = self.eval(node)?.java_as_string()? {
                                parts.push(text);
                            }
                        }
                    }
                }
                Ok(ExprValue::String(parts.join(&separator.to_string())))
            }
            Node::Filter(filter) => self.filter(filter),
        }
    }

    /// LiteralNode.parseArray: ints and doubles stay numbers, everything else is added as its
    /// string (booleans, longs and even objects become strings); a null element is a
    /// NullPointerException.
    fn array_literal(&self, items: &[Node]) -> Result<ExprValue, EvalError> {
        let mut array = Vec::with_capacity(items.len());
        for item in items {
            let value = self.eval(item)?;
            if matches!(value, ExprValue::Null) {
                return Err(EvalError::fault(
                    "NullPointerException: an element of the array literal is null",
                ));
            }
            array.push(if value.is_integer() {
                Value::from(value.as_int()?)
            } else if value.is_double() {
                ExprValue::Double(value.as_double()?).to_json_value()
            } else {
                Value::String(value.java_as_string()?.unwrap_or_default())
            });
        }
        Ok(ExprValue::Json(Value::Array(array)))
    }

    /// FilterExpressionNode: components replaced by their values (strings quoted), `?(...)`.
    fn filter(&self, filter: &Filter) -> Result<ExprValue, EvalError> {
        let mut expression = filter.text.clone();
        for (key, node) in &filter.parts {
            let Some(node) = node else {
                continue;
            };
            let value = self.eval(node)?;
            if matches!(value, ExprValue::Null) {
                continue;
            }
            let mut text = value.java_as_string()?.unwrap_or_default();
            if value.is_string() {
                text = format!("\"{text}\"");
            }
            expression = replace_first(&expression, key, &text)?;
        }
        Ok(ExprValue::String(format!("?({expression})")))
    }

    fn payload(&self) -> Result<&Value, EvalError> {
        match self.payload.get_or_init(|| self.ctx.payload_json()) {
            Ok(value) => Ok(value),
            Err(message) => Err(EvalError::empty(format!(
                "Error while fetching the payload, {message}"
            ))),
        }
    }

    /// PayloadAccessNode.evaluate.
    fn access(&self, access: &Access) -> Result<ExprValue, EvalError> {
        let built;
        let prepared = match &access.prepared {
            Some(prepared) => prepared,
            None => {
                built = prepare_text(access.kind, &self.substitute(access)?);
                &built
            }
        };
        let result = match (access.kind, prepared) {
            (AccessKind::Variable, Prepared::Variable(variable)) => {
                let (name, path) = variable.as_ref().map_err(Clone::clone)?;
                self.variable(name, path.as_ref(), &access.text)?
            }
            (AccessKind::Payload, Prepared::Path(path)) => {
                let doc = self.payload()?;
                read_compiled(doc, path.as_ref().map_err(Clone::clone)?)?
            }
            (AccessKind::Registry, Prepared::Path(path)) => {
                let resource = match &access.function {
                    Some(call) => self.eval(call)?,
                    None => ExprValue::Null,
                };
                let Some(text) = resource.java_as_string()? else {
                    return Err(EvalError::empty(format!(
                        "Could not find a JSON payload to evaluate the expression: {}",
                        access.text
                    )));
                };
                let doc = parse_json_text(&text)?;
                read_compiled(&doc, path.as_ref().map_err(Clone::clone)?)?
            }
            (AccessKind::Object | AccessKind::Array, Prepared::Path(path)) => {
                let value = match &access.function {
                    Some(call) => self.eval(call)?,
                    None => ExprValue::Null,
                };
                let ExprValue::Json(doc) = value else {
                    return Err(EvalError::empty("Value is not a JsonElement"));
                };
                read_compiled(&doc, path.as_ref().map_err(Clone::clone)?)?
            }
            _ => {
                return Err(EvalError::fault(format!(
                    "internal error: the access {} was prepared for another kind",
                    access.text
                )));
            }
        };
        // A JSON null read from a document is Java null.
        Ok(match result {
            ExprValue::Json(Value::Null) => ExprValue::Null,
            other => other,
        })
    }

    /// The access text with each index sub-expression's text replaced by its value (strings
    /// quoted, `[a,b]`/slices unquoted, filters as `?(...)`), in HashMap order.
    fn substitute(&self, access: &Access) -> Result<String, EvalError> {
        let mut expression = initial_text(access);
        for (key, node) in &access.substitutions {
            let Some(node) = node else {
                continue;
            };
            let value = self.eval(node)?;
            if matches!(value, ExprValue::Null) {
                continue;
            }
            let mut text = value.java_as_string()?.unwrap_or_default();
            if value.is_string() && !matches!(node, Node::Filter(_)) {
                text = format!("\"{text}\"");
            }
            if matches!(node, Node::Indices { .. }) {
                text = text.replace('"', "");
            }
            expression = replace_first(&expression, key, &text)?;
        }
        Ok(expression)
    }

    /// The VARIABLE case of PayloadAccessNode.
    fn variable(
        &self,
        name: &str,
        path: Option<&Result<CompiledPath, EvalError>>,
        text: &str,
    ) -> Result<ExprValue, EvalError> {
        let value = match self.ctx.variable(name) {
            None | Some(ExprValue::Null) => {
                return Err(EvalError::empty(format!("Variable {name} is not defined")));
            }
            Some(value) => value,
        };
        let Some(path) = path else {
            return Ok(value);
        };
        match value {
            ExprValue::Xml(_) => Err(EvalError::empty(format!(
                "Could not evaluate JSONPath expression: {text} on non-JSON variable value"
            ))),
            ExprValue::Json(doc) => read_compiled(&doc, path.as_ref().map_err(Clone::clone)?),
            other => {
                // JsonPath.parse(variable.toString()).
                let doc = parse_json_text(&other.java_to_string())?;
                read_compiled(&doc, path.as_ref().map_err(Clone::clone)?)
            }
        }
    }

    /// HeadersAndPropertiesAccessNode.evaluate.
    fn lookup(&self, kind: LookupKind, key: &Node) -> Result<ExprValue, EvalError> {
        let name = self.eval(key)?.java_as_string()?.unwrap_or_default();
        let value = match kind {
            LookupKind::Header => self.ctx.header(&name),
            LookupKind::SynapseProperty => self.ctx.property(PropertyScope::Synapse, &name),
            LookupKind::Axis2Property => self.ctx.property(PropertyScope::Axis2, &name),
            LookupKind::QueryParam => self.ctx.query_param(&name),
            LookupKind::PathParam => self.ctx.path_param(&name),
            LookupKind::FunctionParam => {
                if !self.ctx.in_template() {
                    // EvaluationContext.getFunctionParam: the function stack is null.
                    return Err(EvalError::fault(format!(
                        "NullPointerException: params.functionParams.{name} is read outside a sequence template"
                    )));
                }
                self.ctx.function_param(&name)
            }
            LookupKind::Config => self.ctx.config(&name),
        };
        match value {
            Some(text) => Ok(parse_number_or_string(&text)),
            None => Err(EvalError::empty(format!(
                "Could not fetch the value of the key: {name}"
            ))),
        }
    }
}

/// `String.replaceFirst(escapeSpecialCharacters(key), replacement)`: the key is matched
/// literally, the replacement is a Java replacement string (`$` and `\` are special; a bad one is
/// an IllegalArgumentException MI does not catch).
pub(super) fn replace_first(text: &str, key: &str, replacement: &str) -> Result<String, EvalError> {
    let Some(at) = text.find(key) else {
        return Ok(text.to_string());
    };
    let replaced = java::replacement(replacement, &[Some(key)]).map_err(|e| {
        EvalError::fault(format!(
            "IllegalArgumentException: {e} (substituting {replacement:?} into the JSONPath {text:?})"
        ))
    })?;
    Ok(format!(
        "{}{replaced}{}",
        &text[..at],
        &text[at + key.len()..]
    ))
}

/// The access text before substitution: a leading `payload` is `$` (PayloadAccessNode).
fn initial_text(access: &Access) -> String {
    match access.text.strip_prefix("payload") {
        Some(rest) => format!("${rest}"),
        None => access.text.clone(),
    }
}

/// The JSONPath (and variable name) of an access text whose indices are already substituted.
fn prepare_text(kind: AccessKind, expression: &str) -> Prepared {
    match kind {
        AccessKind::Payload => Prepared::Path(compile_path(expression)),
        AccessKind::Variable => {
            Prepared::Variable(extract_variable_and_path(expression).map(|(name, path)| {
                let path = (!path.is_empty()).then(|| compile_path(&rooted(&path)));
                (name, path)
            }))
        }
        AccessKind::Registry | AccessKind::Object | AccessKind::Array => {
            Prepared::Path(compile_path(&rooted(expression)))
        }
    }
}

/// Fills in [`Access::prepared`] for every access whose indices need no value, so the JSONPath
/// is translated once, at compile time.
pub(super) fn prepare(node: &mut Node) {
    match node {
        Node::Literal(_) => {}
        Node::Array(items) => items.iter_mut().for_each(prepare),
        Node::Chain { first, rest } => {
            prepare(first);
            rest.iter_mut().for_each(|(_, n)| prepare(n));
        }
        Node::Logical { operands, .. } => operands.iter_mut().for_each(prepare),
        Node::Conditional {
            condition,
            then,
            otherwise,
        } => {
            prepare(condition);
            prepare(then);
            prepare(otherwise);
        }
        Node::Call { args, .. } => args.iter_mut().for_each(prepare),
        Node::Access(access) => {
            if let Some(function) = &mut access.function {
                prepare(function);
            }
            access
                .substitutions
                .iter_mut()
                .filter_map(|(_, n)| n.as_mut())
                .for_each(prepare);
            if access.substitutions.iter().all(|(_, n)| n.is_none()) {
                access.prepared = Some(prepare_text(access.kind, &initial_text(access)));
            }
        }
        Node::Lookup { key, .. } => prepare(key),
        Node::Negate(inner) => prepare(inner),
        Node::Indices { items, .. } => items.iter_mut().flatten().for_each(prepare),
        Node::Filter(filter) => filter
            .parts
            .iter_mut()
            .filter_map(|(_, n)| n.as_mut())
            .for_each(prepare),
    }
}

/// `"$" + p` when `p` starts with `.`, else `"$." + p` (PayloadAccessNode).
fn rooted(path: &str) -> String {
    if path.starts_with('.') {
        format!("${path}")
    } else {
        format!("$.{path}")
    }
}

/// Gson parses the text Jayway reads; a syntax error there escapes MI's catch blocks.
fn parse_json_text(text: &str) -> Result<Value, EvalError> {
    gson::parse_lenient(text).map_err(|e| {
        EvalError::fault(format!(
            "InvalidJsonException: com.google.gson.JsonSyntaxException: {e}"
        ))
    })
}

/// ExpressionUtils.extractVariableAndJsonPath: `vars.["n"]rest`, `vars["n"]rest` or
/// `vars.n<rest from the first . or [>`; anything else is an IllegalArgumentException.
pub(super) fn extract_variable_and_path(input: &str) -> Result<(String, String), EvalError> {
    let bracketed = |remaining: &str| -> Result<(String, String), EvalError> {
        match remaining.find("\"]") {
            Some(end) => Ok((
                remaining[..end].to_string(),
                remaining[end + 2..].to_string(),
            )),
            None => Err(EvalError::fault(format!(
                "StringIndexOutOfBoundsException: no closing \"] in {input}"
            ))),
        }
    };
    if let Some(remaining) = input.strip_prefix("vars.[\"") {
        bracketed(remaining)
    } else if let Some(remaining) = input.strip_prefix("vars[\"") {
        bracketed(remaining)
    } else if let Some(remaining) = input.strip_prefix("vars.") {
        match remaining.find(['.', '[']) {
            Some(end) => Ok((remaining[..end].to_string(), remaining[end..].to_string())),
            None => Ok((remaining.to_string(), String::new())),
        }
    } else {
        Err(EvalError::fault(format!(
            "IllegalArgumentException: Invalid input format. Could not parse variable and JSONPath ({input})"
        )))
    }
}

/// Jayway path functions as they appear at the end of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathFunction {
    Length,
    Min,
    Max,
    Avg,
    Sum,
    StdDev,
    Keys,
    First,
    Last,
}

fn split_function(path: &str) -> (&str, Option<PathFunction>) {
    for (suffix, function) in [
        (".length()", PathFunction::Length),
        (".size()", PathFunction::Length),
        (".min()", PathFunction::Min),
        (".max()", PathFunction::Max),
        (".avg()", PathFunction::Avg),
        (".sum()", PathFunction::Sum),
        (".stddev()", PathFunction::StdDev),
        (".keys()", PathFunction::Keys),
        (".first()", PathFunction::First),
        (".last()", PathFunction::Last),
    ] {
        if let Some(base) = path.strip_suffix(suffix) {
            return (base, Some(function));
        }
    }
    (path, None)
}

/// A JSONPath as Jayway compiles it: the path before a trailing function, and the function.
#[derive(Debug, Clone)]
pub(super) struct CompiledPath {
    text: String,
    base: JsonEval,
    function: Option<PathFunction>,
    /// The last step is an array index (or the path is `$`): Jayway hands back the element as
    /// Gson parsed it rather than unwrapping it.
    raw_leaf: bool,
    /// The path starts with a deep scan (`$..x.fn()`), which Jayway's
    /// CompiledPath.invertScannerFunctionRelationship turns into `$.fn($..x)`.
    scan_first: bool,
}

impl PartialEq for CompiledPath {
    fn eq(&self, other: &CompiledPath) -> bool {
        self.text == other.text
    }
}

/// Jayway's `JsonPath.compile`: a path it cannot compile is an InvalidPathException, which MI
/// does not catch (a fault when the expression is evaluated).
pub(super) fn compile_path(path: &str) -> Result<CompiledPath, EvalError> {
    let (base, function) = split_function(path);
    let compiled = JsonEval::compile(base).map_err(|e| {
        EvalError::fault(format!(
            "InvalidPathException: {e} (JSONPath built from the expression: {path})"
        ))
    })?;
    Ok(CompiledPath {
        text: path.to_string(),
        base: compiled,
        function,
        raw_leaf: last_step_is_index(base) || base.trim() == "$",
        scan_first: base.trim_start().starts_with("$.."),
    })
}

/// `JsonPath.parse(doc).read(path)` with GsonJsonProvider: a missing definite path is
/// PathNotFoundException (empty). A path function applies to the value of a definite path, to
/// each match of an indefinite one (giving an array of results), or, after a leading deep scan,
/// to the document with the scan's matches as its parameter.
pub(super) fn read_compiled(doc: &Value, path: &CompiledPath) -> Result<ExprValue, EvalError> {
    let Some(result) = path.base.evaluate(doc) else {
        return Err(EvalError::empty(format!(
            "No results for path: {}",
            path.text
        )));
    };
    let definite = path.base.is_definite();
    match path.function {
        None if !definite || path.raw_leaf => Ok(ExprValue::Json(result)),
        None => Ok(unwrap_and_rewrap(result)),
        Some(function) if path.scan_first => inverted_function(function, doc, &result),
        Some(function) if definite => apply_function(function, &result),
        Some(function) => {
            let matches = result.as_array().map(Vec::as_slice).unwrap_or_default();
            let results = matches
                .iter()
                .map(|m| apply_function(function, m).map(|r| r.to_json_value()))
                .collect::<Result<Vec<Value>, EvalError>>()?;
            Ok(ExprValue::Json(Value::Array(results)))
        }
    }
}

#[cfg(test)]
fn read_path(doc: &Value, path: &str) -> Result<ExprValue, EvalError> {
    read_compiled(doc, &compile_path(path)?)
}

/// Whether a definite path ends with an array index (`[0]`, `[-1]`), which Jayway reads with
/// `getArrayIndex` (no unwrapping), rather than a property (`.a`, `['a']`).
fn last_step_is_index(path: &str) -> bool {
    let Some(inner) = path.trim_end().strip_suffix(']') else {
        return false;
    };
    let Some(open) = inner.rfind('[') else {
        return false;
    };
    let index = inner[open + 1..].trim();
    let digits = index.strip_prefix('-').unwrap_or(index);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// GsonJsonProvider.getMapValue unwraps (a number becomes Integer/Long/Double) and
/// EvaluationContextImpl.addResult wraps again with `Gson.toJsonTree`: strings and booleans stay
/// JSON primitives, an integral number is an int (or long), a fractional one a double.
fn unwrap_and_rewrap(value: Value) -> ExprValue {
    match value {
        Value::Number(n) => number_value(&n),
        Value::Null => ExprValue::Null,
        other => ExprValue::Json(other),
    }
}

fn number_value(n: &serde_json::Number) -> ExprValue {
    if let Some(i) = n.as_i64() {
        // unwrapNumber: |n| <= Integer.MAX_VALUE is an Integer.
        if i.unsigned_abs() <= i32::MAX as u64 {
            ExprValue::Int(i as i32)
        } else {
            ExprValue::Long(i)
        }
    } else if n.is_u64() {
        ExprValue::Json(Value::Number(n.clone()))
    } else {
        ExprValue::Double(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// GsonJsonProvider.unwrap after a path function (`getValue(true)`): numbers the function made
/// are Long/Double, strings are Java Strings.
fn unwrap_function_result(value: &Value) -> ExprValue {
    match value {
        Value::Null => ExprValue::Null,
        Value::Bool(b) => ExprValue::Bool(*b),
        Value::String(s) => ExprValue::String(s.clone()),
        Value::Number(n) => match n.as_i64() {
            Some(i) => ExprValue::Long(i),
            None if n.is_u64() => ExprValue::Json(value.clone()),
            None => ExprValue::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        other => ExprValue::Json(other.clone()),
    }
}

fn empty_aggregation() -> EvalError {
    EvalError::fault(
        "JsonPathException: Aggregation function attempted to calculate value using empty array",
    )
}

/// The numbers of an array (GsonJsonProvider.toIterable unwraps; only Numbers count).
fn numbers_of(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

/// Jayway's path functions on the value of the path before them.
fn apply_function(function: PathFunction, value: &Value) -> Result<ExprValue, EvalError> {
    match function {
        // LengthFunction: arrays and objects; null for anything else. toJsonTree makes the
        // Integer a Long.
        PathFunction::Length => Ok(match value {
            Value::Array(items) => ExprValue::Long(items.len() as i64),
            Value::Object(members) => ExprValue::Long(members.len() as i64),
            _ => ExprValue::Null,
        }),
        PathFunction::Keys => Ok(keys(value)),
        PathFunction::First | PathFunction::Last => sequence(function, value),
        _ => aggregate(function, numbers_of(value)),
    }
}

/// `$..x.fn()`: the function runs on the document, with the scan's matches as a parameter.
/// LengthFunction counts the children of the matches (it appends `.*` to the parameter path);
/// the numeric aggregations add the matches' numbers to the document's own (when it is an
/// array); keys(), first() and last() ignore the parameter and read the document.
fn inverted_function(
    function: PathFunction,
    doc: &Value,
    matches: &Value,
) -> Result<ExprValue, EvalError> {
    let matches = matches.as_array().map(Vec::as_slice).unwrap_or_default();
    match function {
        PathFunction::Length => Ok(ExprValue::Long(
            matches
                .iter()
                .map(|m| match m {
                    Value::Array(items) => items.len() as i64,
                    Value::Object(members) => members.len() as i64,
                    _ => 0,
                })
                .sum(),
        )),
        PathFunction::Keys => Ok(keys(doc)),
        PathFunction::First | PathFunction::Last => sequence(function, doc),
        _ => {
            let mut numbers = numbers_of(doc);
            numbers.extend(matches.iter().filter_map(Value::as_f64));
            aggregate(function, numbers)
        }
    }
}

/// KeySetFunction: an object's names; null for anything else.
fn keys(value: &Value) -> ExprValue {
    match value {
        Value::Object(members) => ExprValue::Json(Value::Array(
            members.keys().cloned().map(Value::String).collect(),
        )),
        _ => ExprValue::Null,
    }
}

/// First/Last (AbstractSequenceAggregation): an element of an array, unwrapped.
fn sequence(function: PathFunction, value: &Value) -> Result<ExprValue, EvalError> {
    let items = value.as_array().ok_or_else(empty_aggregation)?;
    let item = if function == PathFunction::First {
        items.first()
    } else {
        items.last()
    };
    item.map(unwrap_function_result).ok_or_else(|| {
        EvalError::fault("JsonPathException: Target index:0 larger than object count:0")
    })
}

/// The numeric aggregations (AbstractAggregation): doubles; no numbers is a JsonPathException.
fn aggregate(function: PathFunction, numbers: Vec<f64>) -> Result<ExprValue, EvalError> {
    if numbers.is_empty() {
        return Err(empty_aggregation());
    }
    let count = numbers.len() as f64;
    let sum: f64 = numbers.iter().sum();
    Ok(ExprValue::Double(match function {
        PathFunction::Min => numbers
            .iter()
            .fold(f64::MAX, |m, n| if m > *n { *n } else { m }),
        // Jayway's Max starts from Double.MIN_VALUE (the smallest positive double).
        PathFunction::Max => numbers
            .iter()
            .fold(f64::from_bits(1), |m, n| if m < *n { *n } else { m }),
        PathFunction::Avg => sum / count,
        PathFunction::Sum => sum,
        _ => {
            let squares: f64 = numbers.iter().map(|n| n * n).sum();
            (squares / count - sum * sum / count / count).sqrt()
        }
    }))
}

/// BinaryOperationNode.evaluate after both sides are evaluated.
pub(super) fn binary(left: ExprValue, op: BinOp, right: ExprValue) -> Result<ExprValue, EvalError> {
    let left_null = matches!(left, ExprValue::Null);
    let right_null = matches!(right, ExprValue::Null);
    if (left_null || right_null) && !matches!(op, BinOp::Equals | BinOp::NotEquals) {
        return Err(EvalError::empty(format!(
            "Null inputs for {} operation",
            op.name()
        )));
    }
    match op {
        BinOp::Add => addition(&left, &right),
        BinOp::Subtract | BinOp::Multiply | BinOp::Divide | BinOp::Modulo => {
            arithmetic(&left, &right, op)
        }
        BinOp::Equals | BinOp::NotEquals => {
            let equal = match (left_null, right_null) {
                (true, true) => true,
                (false, false) => left.java_as_string()? == right.java_as_string()?,
                _ => false,
            };
            Ok(ExprValue::Bool(equal == (op == BinOp::Equals)))
        }
        BinOp::LessThan
        | BinOp::LessThanOrEqual
        | BinOp::GreaterThan
        | BinOp::GreaterThanOrEqual => {
            let comparable = |v: &ExprValue| v.is_double() || v.is_integer();
            if !(comparable(&left) && comparable(&right)) {
                return Err(EvalError::empty(format!(
                    "Comparison between non-numeric values: {} and {}",
                    left.java_as_string()?.unwrap_or_default(),
                    right.java_as_string()?.unwrap_or_default()
                )));
            }
            let (a, b) = (left.as_double()?, right.as_double()?);
            Ok(ExprValue::Bool(match op {
                BinOp::LessThan => a < b,
                BinOp::LessThanOrEqual => a <= b,
                BinOp::GreaterThan => a > b,
                _ => a >= b,
            }))
        }
        BinOp::And | BinOp::Or => {
            if !(left.is_boolean() && right.is_boolean()) {
                return Err(EvalError::empty(format!(
                    "Logical operation between non-boolean values: {} and {}",
                    left.java_as_string()?.unwrap_or_default(),
                    right.java_as_string()?.unwrap_or_default()
                )));
            }
            let (a, b) = (left.as_boolean()?, right.as_boolean()?);
            Ok(ExprValue::Bool(if op == BinOp::And {
                a && b
            } else {
                a || b
            }))
        }
    }
}

fn decimal_of(text: &str) -> Result<java::Decimal, EvalError> {
    java::Decimal::parse(text).ok_or_else(|| {
        EvalError::fault(format!(
            "NumberFormatException: Character array is missing \"exponent\" mark 'e' or 'E' ({text} is not a decimal number)"
        ))
    })
}

fn addition(left: &ExprValue, right: &ExprValue) -> Result<ExprValue, EvalError> {
    if left.is_numeric() && right.is_numeric() {
        if left.is_double() || right.is_double() {
            let a = decimal_of(&left.java_as_string()?.unwrap_or_default())?;
            let b = decimal_of(&right.java_as_string()?.unwrap_or_default())?;
            Ok(ExprValue::Double(a.add(&b).to_f64()))
        } else if left.is_long() || right.is_long() {
            Ok(ExprValue::Long(
                left.as_long()?.wrapping_add(right.as_long()?),
            ))
        } else {
            let (a, b) = (left.as_int()?, right.as_int()?);
            Ok(match a.checked_add(b) {
                Some(sum) => ExprValue::Int(sum),
                None => ExprValue::Long(i64::from(a) + i64::from(b)),
            })
        }
    } else if left.is_string() && right.is_string() {
        Ok(ExprValue::String(format!(
            "{}{}",
            left.java_as_string()?.unwrap_or_default(),
            right.java_as_string()?.unwrap_or_default()
        )))
    } else {
        Err(EvalError::empty(format!(
            "Addition between non-numeric values: {} and {}",
            left.java_as_string()?.unwrap_or_default(),
            right.java_as_string()?.unwrap_or_default()
        )))
    }
}

fn arithmetic(left: &ExprValue, right: &ExprValue, op: BinOp) -> Result<ExprValue, EvalError> {
    if !left.is_numeric() || !right.is_numeric() {
        return Err(EvalError::empty(format!(
            "Arithmetic operation: {} between non-numeric values: {} and {}",
            op.name(),
            left.java_as_string()?.unwrap_or_default(),
            right.java_as_string()?.unwrap_or_default()
        )));
    }
    let division_by_zero = || EvalError::empty("Division by zero");
    let modulo_by_zero = || EvalError::empty("Modulo by zero");
    if left.is_double() || right.is_double() {
        let (l, r) = (left.as_double()?, right.as_double()?);
        let a = decimal_of(&java::double_to_string(l))?;
        let b = decimal_of(&java::double_to_string(r))?;
        let result = match op {
            BinOp::Subtract => a.subtract(&b),
            BinOp::Multiply => a.multiply(&b),
            BinOp::Divide => a.divide_half_up(&b).ok_or_else(division_by_zero)?,
            _ => a.remainder(&b).ok_or_else(modulo_by_zero)?,
        };
        Ok(ExprValue::Double(result.to_f64()))
    } else if left.is_long() || right.is_long() {
        let (l, r) = (left.as_long()?, right.as_long()?);
        Ok(match op {
            BinOp::Subtract => ExprValue::Long(l.wrapping_sub(r)),
            BinOp::Multiply => ExprValue::Long(l.wrapping_mul(r)),
            BinOp::Divide if r == 0 => return Err(division_by_zero()),
            BinOp::Divide => ExprValue::Double(l as f64 / r as f64),
            _ if r == 0 => return Err(modulo_by_zero()),
            _ => ExprValue::Long(l.wrapping_rem(r)),
        })
    } else {
        let (l, r) = (left.as_int()?, right.as_int()?);
        Ok(match op {
            BinOp::Subtract => ExprValue::Int(l.wrapping_sub(r)),
            BinOp::Multiply => match l.checked_mul(r) {
                Some(product) => ExprValue::Int(product),
                None => ExprValue::Long(i64::from(l) * i64::from(r)),
            },
            BinOp::Divide if r == 0 => return Err(division_by_zero()),
            BinOp::Divide if l.wrapping_rem(r) == 0 => ExprValue::Int(l.wrapping_div(r)),
            BinOp::Divide => ExprValue::Double(f64::from(l) / f64::from(r)),
            _ if r == 0 => return Err(modulo_by_zero()),
            _ => ExprValue::Int(l.wrapping_rem(r)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn variable_names_are_cut_as_expression_utils_does() {
        let cut = |s: &str| extract_variable_and_path(s).map_err(|e| e.is_fault());
        assert_eq!(cut("vars.a"), Ok(("a".into(), String::new())));
        assert_eq!(cut("vars.a.b[0]"), Ok(("a".into(), ".b[0]".into())));
        assert_eq!(cut("vars.a[0].b"), Ok(("a".into(), "[0].b".into())));
        assert_eq!(cut("vars[\"a.b\"].c"), Ok(("a.b".into(), ".c".into())));
        assert_eq!(cut("vars.[\"a\"][1]"), Ok(("a".into(), "[1]".into())));
        assert_eq!(cut("vars.['x']"), Ok((String::new(), "['x']".into())));
        assert_eq!(cut("vars.\"x\""), Ok(("\"x\"".into(), String::new())));
        assert_eq!(cut("vars['x']"), Err(true));
    }

    #[test]
    fn replace_first_is_literal_with_java_replacement_rules() {
        assert_eq!(
            replace_first("$.a[$.i][$.i]", "$.i", "1").ok().as_deref(),
            Some("$.a[1][$.i]")
        );
        assert_eq!(
            replace_first("$.a[x]", "y", "$").ok().as_deref(),
            Some("$.a[x]")
        );
        assert!(replace_first("$.a[x]", "x", "\"$5\"").is_err_and(|e| e.is_fault()));
        assert_eq!(
            replace_first("$.a[x]", "x", "\"a\\\\b\"").ok().as_deref(),
            Some("$.a[\"a\\b\"]")
        );
    }

    #[test]
    fn path_results_follow_gson_json_provider() {
        let doc = json!({"n": 30, "f": 1.5, "s": "x", "b": true, "z": null, "a": [1, "y", 2.5],
            "big": 3_000_000_000i64, "o": {"k": 1}});
        let read = |p: &str| read_path(&doc, p);
        assert_eq!(read("$.n"), Ok(ExprValue::Int(30)));
        assert_eq!(read("$.big"), Ok(ExprValue::Long(3_000_000_000)));
        assert_eq!(read("$.f"), Ok(ExprValue::Double(1.5)));
        assert_eq!(read("$.s"), Ok(ExprValue::Json(json!("x"))));
        assert_eq!(read("$['s']"), Ok(ExprValue::Json(json!("x"))));
        assert_eq!(read("$.b"), Ok(ExprValue::Json(json!(true))));
        assert_eq!(read("$.z"), Ok(ExprValue::Null));
        assert_eq!(read("$.a[0]"), Ok(ExprValue::Json(json!(1))));
        assert_eq!(read("$.a[-1]"), Ok(ExprValue::Json(json!(2.5))));
        assert_eq!(read("$.a[*]"), Ok(ExprValue::Json(json!([1, "y", 2.5]))));
        assert_eq!(read("$.o"), Ok(ExprValue::Json(json!({"k": 1}))));
        assert_eq!(read("$.a.length()"), Ok(ExprValue::Long(3)));
        assert_eq!(read("$.s.length()"), Ok(ExprValue::Null));
        assert_eq!(read("$.o.keys()"), Ok(ExprValue::Json(json!(["k"]))));
        assert_eq!(read("$.a.first()"), Ok(ExprValue::Long(1)));
        assert_eq!(read("$.a.last()"), Ok(ExprValue::Double(2.5)));
        assert_eq!(read("$..n.max()"), Ok(ExprValue::Double(30.0)));
        assert!(read("$.missing").is_err_and(|e| !e.is_fault()));
        assert!(read("$.a[7]").is_err_and(|e| !e.is_fault()));
        assert!(read("$..nothing.min()").is_err_and(|e| e.is_fault()));
        assert!(read("$.s.sum()").is_err_and(|e| e.is_fault()));
        assert!(read("$.a[\"x").is_err_and(|e| e.is_fault()) || read("$.a[\"x").is_err());
        // A function after an indefinite path runs on each match; after a leading scan, on the
        // document with the matches as its parameter.
        assert_eq!(
            read("$.a[*].length()"),
            Ok(ExprValue::Json(json!([null, null, null])))
        );
        assert_eq!(read("$.o.*.length()"), Ok(ExprValue::Json(json!([null]))));
        assert!(read("$.a[*].sum()").is_err_and(|e| e.is_fault()));
        assert_eq!(read("$..a.length()"), Ok(ExprValue::Long(3)));
        assert_eq!(read("$..k.length()"), Ok(ExprValue::Long(0)));
        assert_eq!(read("$..o.keys()"), read("$.keys()"));
        assert!(read("$..a.first()").is_err_and(|e| e.is_fault()));
        // Jayway's Max starts at Double.MIN_VALUE.
        let negatives = json!([-5, -3]);
        assert_eq!(
            read_path(&negatives, "$.max()"),
            Ok(ExprValue::Double(f64::from_bits(1)))
        );
    }

    #[test]
    fn arithmetic_promotes_as_java() {
        let b = |l: ExprValue, op: BinOp, r: ExprValue| binary(l, op, r);
        use ExprValue::{Double, Int, Long};
        assert_eq!(
            b(Int(i32::MAX), BinOp::Add, Int(1)),
            Ok(Long(2_147_483_648))
        );
        assert_eq!(b(Int(i32::MIN), BinOp::Subtract, Int(1)), Ok(Int(i32::MAX)));
        assert_eq!(b(Int(9), BinOp::Divide, Int(3)), Ok(Int(3)));
        assert_eq!(b(Int(5), BinOp::Divide, Int(10)), Ok(Double(0.5)));
        assert_eq!(
            b(Long(20_000_000_000), BinOp::Divide, Int(10)),
            Ok(Double(2.0e9))
        );
        assert_eq!(b(Int(-7), BinOp::Modulo, Int(3)), Ok(Int(-1)));
        assert_eq!(b(Int(i32::MIN), BinOp::Divide, Int(-1)), Ok(Int(i32::MIN)));
        assert_eq!(
            b(ExprValue::Json(json!(5)), BinOp::Add, Int(1)),
            Ok(Double(6.0))
        );
        assert!(b(Double(f64::NAN), BinOp::Add, Double(1.0)).is_err_and(|e| e.is_fault()));
        assert!(b(Double(f64::NAN), BinOp::Divide, Int(0)).is_err_and(|e| e.is_fault()));
        assert!(b(Double(1.0), BinOp::Divide, Int(0)).is_err_and(|e| !e.is_fault()));
        assert!(b(Long(1), BinOp::GreaterThan, Int(0)).is_err_and(|e| !e.is_fault()));
        assert_eq!(
            b(Int(1), BinOp::Equals, Double(1.0)),
            Ok(ExprValue::Bool(false))
        );
        assert_eq!(
            b(
                ExprValue::Bool(true),
                BinOp::Equals,
                ExprValue::String("\"true\"".into())
            ),
            Ok(ExprValue::Bool(true))
        );
    }
}
