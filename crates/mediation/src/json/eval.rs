//! `json-eval(...)` as Synapse's `util/xpath/SynapseJsonPath.java` evaluates it: the expression
//! (or the bare path of `evaluator="json"` / enrich) is compiled once; `$ctx:`, `$axis2:` and
//! `$trp:` prefixes (`^(\$ctx|\$trp|\$axis2):([a-zA-Z0-9_-]+)`) make it read a property instead of
//! the body, with the rest of the text as the path (`$ctx:p` alone is `$`, the whole value); a
//! trailing `.` is dropped. Results follow Jayway: a definite path gives the value itself, an
//! indefinite one a JSON array of matches; `stringValueOf` turns them into text.

use super::JsonError;
use super::jayway::{PathFunction, Translated, translate};
use regex::Regex;
use serde_json::{Number, Value};
use serde_json_path::JsonPath;
use std::sync::{Arc, LazyLock};

/// InlineExpressionUtil.EXPRESSION_PATTERN: an inline `{expression}` in a JSONPath.
static INLINE_EXPRESSION: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"\{[^\s",<>}\]]+\}"#).ok());

/// SynapseJsonPath.EXTRACT_PROP_REGEX.
static PROPERTY_PREFIX: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^(\$ctx|\$trp|\$axis2):([a-zA-Z0-9_-]+)").ok());

/// Where a json-eval reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonSource {
    /// The message body (JSON).
    Body,
    /// A property's value parsed as JSON; `scope` is `default` (`$ctx:`), `axis2` or `transport`
    /// (`$trp:`).
    Property { scope: String, name: String },
}

/// Deepest nesting of `[...]` selectors (filters within filters) a path may have. The RFC 9535
/// parser (serde_json_path) backtracks exponentially in the filter nesting depth (cargo-fuzz
/// target `jsonpath`: 20 s for an 861-byte path); real paths nest two or three deep.
pub const MAX_BRACKET_DEPTH: usize = 8;

/// The deepest `[` nesting of `path` outside quoted strings.
fn bracket_depth(path: &str) -> usize {
    let (mut depth, mut deepest, mut quote, mut escaped) = (0usize, 0usize, None, false);
    for c in path.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => quote = Some(c),
                '[' => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                ']' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    deepest
}

/// A compiled `json-eval(...)` expression, or the bare path of `evaluator="json"` args / enrich
/// JSON paths. Cheap to clone (shared) and pointer-sized, so enums holding it stay small.
#[derive(Debug, Clone)]
pub struct JsonEval {
    pub(super) inner: Arc<Compiled>,
}

#[derive(Debug)]
pub(super) struct Compiled {
    text: String,
    /// The path as SynapseJsonPath receives it (without `json-eval(...)`), when it holds inline
    /// `{...}` expressions (SynapseJsonPath.isJSONPathNeedsProcessing).
    inline: Option<String>,
    source: JsonSource,
    /// The path after the property prefix is resolved (SynapseJsonPath.resolvedExpression).
    resolved: String,
    whole: bool,
    pub(super) path: JsonPath,
    pub(super) translated: Translated,
}

impl JsonEval {
    /// Accepts `json-eval($.a.b)` and bare `$.a.b`; `json-eval($ctx:prop.a.b)` / `$axis2:` /
    /// `$trp:` read the property's value parsed as JSON, and `$ctx:prop` alone is that whole value.
    pub fn compile(text: &str) -> Result<JsonEval, JsonError> {
        let error = |column: usize, message: &str| JsonError::PathSyntax {
            text: text.to_string(),
            column,
            message: message.to_string(),
        };
        let leading = text.len() - text.trim_start().len();
        let trimmed = text.trim();
        let (inner, mut offset) = match trimmed.strip_prefix("json-eval(") {
            Some(rest) => match rest.strip_suffix(')') {
                Some(inner) => (inner, leading + "json-eval(".len()),
                None => {
                    return Err(error(
                        text.chars().count(),
                        "`json-eval(` is not closed by `)`",
                    ));
                }
            },
            None => (trimmed, leading),
        };
        offset += inner.len() - inner.trim_start().len();
        let inner = inner.trim();
        let mut source = JsonSource::Body;
        let mut resolved = inner.to_string();
        let mut path_offset = offset;
        if ["$ctx:", "$trp:", "$axis2:"]
            .iter()
            .any(|p| inner.starts_with(p))
        {
            let Some(found) = PROPERTY_PREFIX.as_ref().and_then(|re| re.captures(inner)) else {
                return Err(error(
                    char_column(text, offset) + inner.find(':').unwrap_or(0) + 1,
                    "expected a property name of letters, digits, `_` or `-` after the scope prefix",
                ));
            };
            let (Some(whole), Some(scope), Some(name)) = (found.get(0), found.get(1), found.get(2))
            else {
                return Err(error(
                    char_column(text, offset),
                    "property prefix not understood",
                ));
            };
            let scope = match scope.as_str() {
                "$ctx" => "default",
                "$axis2" => "axis2",
                _ => "transport",
            };
            source = JsonSource::Property {
                scope: scope.to_string(),
                name: name.as_str().to_string(),
            };
            resolved = format!("${}", &inner[whole.end()..]);
            // The synthetic `$` stands where the prefix's last character was.
            path_offset = offset + whole.end() - 1;
        }
        if resolved.ends_with('.') {
            resolved.pop();
        }
        let column = char_column(text, path_offset);
        if bracket_depth(&resolved) > MAX_BRACKET_DEPTH {
            return Err(error(
                column,
                &format!(
                    "selectors are nested more than {MAX_BRACKET_DEPTH} deep (MAX_BRACKET_DEPTH)"
                ),
            ));
        }
        let translated = translate(&resolved, text, column)?;
        let path = JsonPath::parse(&translated.rfc).map_err(|e| {
            error(
                column,
                &format!(
                    "{} (in the RFC 9535 form `{}`)",
                    e.message(),
                    translated.rfc
                ),
            )
        })?;
        let whole = translated.steps.is_empty()
            && translated.function.is_none()
            && translated.merge.is_none();
        let has_inline = INLINE_EXPRESSION
            .as_ref()
            .is_some_and(|re| re.is_match(&resolved));
        let compiled = Compiled {
            text: text.to_string(),
            inline: has_inline.then(|| inner.to_string()),
            source,
            resolved,
            whole,
            path,
            translated,
        };
        Ok(JsonEval {
            inner: Arc::new(compiled),
        })
    }

    /// Whether the path holds inline `{expression}` parts (`json-eval({$ctx:name})`), which
    /// [`JsonEval::with_inline_values`] must replace before each evaluation.
    pub fn has_inline_expressions(&self) -> bool {
        self.inner.inline.is_some()
    }

    /// The path with its inline `{expression}` parts replaced by their values, compiled, as
    /// SynapseJsonPath.stringValueOf does for each message when the path has them:
    /// InlineExpressionUtil.replaceDynamicValuesForJSONPath replaces every
    /// `\{[^\s",<>}\]]+\}` by the value of the expression inside (`json-eval(..)` or XPath, an
    /// unset value as ""; `value_of` evaluates it), then `JsonPath.compile` compiles the result
    /// as a plain Jayway path (a `$ctx:` prefix is not resolved again, so Jayway refuses it).
    /// Reads from where the original reads. `self` when there is nothing inline.
    pub fn with_inline_values(
        &self,
        value_of: &mut dyn FnMut(&str) -> Result<String, String>,
    ) -> Result<JsonEval, String> {
        let (Some(expression), Some(re)) = (&self.inner.inline, INLINE_EXPRESSION.as_ref()) else {
            return Ok(self.clone());
        };
        let mut replaced = String::with_capacity(expression.len());
        let mut last = 0;
        for found in re.find_iter(expression) {
            replaced.push_str(&expression[last..found.start()]);
            let inside = &found.as_str()[1..found.as_str().len() - 1];
            replaced.push_str(&value_of(inside)?);
            last = found.end();
        }
        replaced.push_str(&expression[last..]);
        let mut path = replaced.trim();
        if let Some(inner) = path.strip_prefix("json-eval(") {
            path = inner.strip_suffix(')').unwrap_or(inner);
        }
        let translated = translate(path, path, 1).map_err(|e| e.to_string())?;
        let rfc_path = JsonPath::parse(&translated.rfc).map_err(|e| {
            format!(
                "invalid JSONPath `{path}` (from `{expression}` after inline expressions): {}",
                e.message()
            )
        })?;
        let compiled = Compiled {
            text: self.inner.text.clone(),
            inline: None,
            source: self.inner.source.clone(),
            resolved: path.to_string(),
            // SynapseJsonPath decides isWholeBody once, from the path it was built with.
            whole: self.inner.whole,
            path: rfc_path,
            translated,
        };
        Ok(JsonEval {
            inner: Arc::new(compiled),
        })
    }

    /// The text this was compiled from.
    pub fn text(&self) -> &str {
        &self.inner.text
    }

    /// Where the expression reads from.
    pub fn source(&self) -> &JsonSource {
        &self.inner.source
    }

    /// The Jayway path after the property prefix is resolved (`$ctx:p.a` -> `$.a`).
    pub fn path_text(&self) -> &str {
        &self.inner.resolved
    }

    /// True for `$` (and `$ctx:p` alone): SynapseJsonPath returns the payload/property text as is.
    pub fn is_whole(&self) -> bool {
        self.inner.whole
    }

    /// The member names of a body path that only names members (`$.a.b`, `$['a'].b`): no index,
    /// wildcard, filter, function or merge, no inline expression. `None` for any other path.
    /// Such a path's value depends only on the members along it, so a reader may skip the rest
    /// of a document (mediation runtime/direct.rs `JsonFilterRoute::holds`).
    pub fn member_chain(&self) -> Option<Vec<String>> {
        let inner = &self.inner;
        let t = &inner.translated;
        if inner.whole
            || inner.inline.is_some()
            || inner.source != JsonSource::Body
            || !t.definite
            || t.function.is_some()
            || t.merge.is_some()
            || t.steps.is_empty()
        {
            return None;
        }
        t.steps
            .iter()
            .map(|step| match step {
                super::jayway::Step::Name(name) => Some(name.clone()),
                _ => None,
            })
            .collect()
    }

    /// Jayway `Path.isDefinite` of the path.
    pub fn is_definite(&self) -> bool {
        self.inner.translated.definite
    }

    /// Jayway semantics: a definite path gives the value itself (None when absent); an indefinite
    /// path (wildcards, `..`, filters, slices, unions) gives a JSON array of matches (possibly
    /// empty). A trailing function (`.length()`, `.sum()`, ...) is applied to that result; None when
    /// it does not apply (Jayway throws).
    pub fn evaluate(&self, root: &Value) -> Option<Value> {
        let nodes = self.inner.path.query(root);
        let matches: Vec<Value> = match &self.inner.translated.merge {
            None => nodes.iter().map(|v| (*v).clone()).collect(),
            // Jayway multiPropertyMergeCase: the present members of each selected object.
            Some(names) => nodes
                .iter()
                .filter_map(|v| v.as_object())
                .map(|object| {
                    Value::Object(
                        names
                            .iter()
                            .filter_map(|k| object.get(k).map(|v| (k.clone(), v.clone())))
                            .collect(),
                    )
                })
                .collect(),
        };
        let result = if self.inner.translated.definite {
            matches.into_iter().next()
        } else {
            Some(Value::Array(matches))
        };
        match self.inner.translated.function {
            None => result,
            Some(function) => apply_function(function, &result?),
        }
    }

    /// MI's string form of a json-eval result (SynapseJsonPath.stringValueOf +
    /// formatJsonPathResponse): a string unquoted, numbers/booleans as text, JSON null as `null`,
    /// objects/arrays as compact JSON, nothing matched -> "" (Jayway's PathNotFoundException is
    /// caught and gives ""). `$` alone gives the whole value as JSON text.
    pub fn string_value(&self, root: &Value) -> String {
        if self.inner.whole {
            return match root {
                Value::String(s) if self.inner.source != JsonSource::Body => s.clone(),
                other => other.to_string(),
            };
        }
        match self.evaluate(root) {
            None => String::new(),
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
        }
    }
}

fn char_column(text: &str, byte_offset: usize) -> usize {
    text.get(..byte_offset)
        .map_or(1, |prefix| prefix.chars().count() + 1)
}

/// Jayway path functions (`com.jayway.jsonpath.internal.function`): aggregations read the numbers
/// of an array (the matches of an indefinite path) and give doubles; `length()` counts array
/// items, object members or string characters.
fn apply_function(function: PathFunction, value: &Value) -> Option<Value> {
    let numbers = || -> Option<Vec<f64>> {
        let items = value.as_array()?;
        let numbers: Vec<f64> = items.iter().filter_map(Value::as_f64).collect();
        (!numbers.is_empty()).then_some(numbers)
    };
    let double = |f: f64| Number::from_f64(f).map(Value::Number);
    match function {
        PathFunction::Length => match value {
            Value::Array(items) => Some(Value::from(items.len())),
            Value::Object(members) => Some(Value::from(members.len())),
            Value::String(s) => Some(Value::from(s.chars().count())),
            _ => None,
        },
        PathFunction::Min => double(numbers()?.into_iter().fold(f64::INFINITY, f64::min)),
        PathFunction::Max => double(numbers()?.into_iter().fold(f64::NEG_INFINITY, f64::max)),
        PathFunction::Sum => double(numbers()?.iter().sum()),
        PathFunction::Avg => {
            let numbers = numbers()?;
            double(numbers.iter().sum::<f64>() / numbers.len() as f64)
        }
        PathFunction::StdDev => {
            let numbers = numbers()?;
            let count = numbers.len() as f64;
            let mean = numbers.iter().sum::<f64>() / count;
            let mean_of_squares = numbers.iter().map(|n| n * n).sum::<f64>() / count;
            double((mean_of_squares - mean * mean).max(0.0).sqrt())
        }
        PathFunction::Keys => value
            .as_object()
            .map(|members| Value::Array(members.keys().cloned().map(Value::String).collect())),
        PathFunction::First => value.as_array()?.first().cloned(),
        PathFunction::Last => value.as_array()?.last().cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store() -> Value {
        // Jayway README's sample document.
        json!({"store": {
            "book": [
                {"category": "reference", "author": "Nigel Rees", "title": "Sayings of the Century", "price": 8.95},
                {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword of Honour", "price": 12.99},
                {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553-21311-3", "price": 8.99},
                {"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord of the Rings", "isbn": "0-395-19395-8", "price": 22.99}
            ],
            "bicycle": {"color": "red", "price": 19.95}
        }, "expensive": 10, "first-name": "Ann", "flag": true, "nothing": null})
    }

    fn eval(text: &str) -> Option<Value> {
        JsonEval::compile(text).expect(text).evaluate(&store())
    }

    fn string(text: &str) -> String {
        JsonEval::compile(text).expect(text).string_value(&store())
    }

    #[test]
    fn compile_accepts_json_eval_and_bare_paths() {
        let e = JsonEval::compile("json-eval($.store.bicycle.color)").expect("valid");
        assert_eq!(
            (e.text(), e.source(), e.path_text()),
            (
                "json-eval($.store.bicycle.color)",
                &JsonSource::Body,
                "$.store.bicycle.color"
            )
        );
        assert_eq!(eval("$.store.bicycle.color"), Some(json!("red")));
        assert_eq!(eval(" json-eval( $.expensive ) "), Some(json!(10)));
        // SynapseJsonPath: "Though SynapseJsonPath support "$.", the JSONPath implementation does not".
        assert_eq!(eval("json-eval($.)"), Some(store()));
        assert_eq!(eval("json-eval($.first-name)"), Some(json!("Ann")));
    }

    // SynapseJsonPath constructor: EXTRACT_PROP_REGEX and resolvedExpression = "$" + rest.
    #[test]
    fn property_prefixes() {
        let e = JsonEval::compile("json-eval($ctx:order.items[0].id)").expect("valid");
        assert_eq!(
            e.source(),
            &JsonSource::Property {
                scope: "default".into(),
                name: "order".into()
            }
        );
        assert_eq!(e.path_text(), "$.items[0].id");
        assert_eq!(e.evaluate(&json!({"items": [{"id": 5}]})), Some(json!(5)));
        let e = JsonEval::compile("json-eval($trp:X-Meta)").expect("valid");
        assert_eq!(
            e.source(),
            &JsonSource::Property {
                scope: "transport".into(),
                name: "X-Meta".into()
            }
        );
        assert!(e.is_whole());
        assert_eq!(e.string_value(&json!({"a": 1})), "{\"a\":1}");
        assert_eq!(e.string_value(&json!("raw text")), "raw text");
        let e = JsonEval::compile("json-eval($axis2:p.a)").expect("valid");
        assert_eq!(
            e.source(),
            &JsonSource::Property {
                scope: "axis2".into(),
                name: "p".into()
            }
        );
        assert!(matches!(
            JsonEval::compile("json-eval($ctx:.a)"),
            Err(JsonError::PathSyntax { column: 16, .. })
        ));
    }

    // Jayway: definite -> the value, indefinite -> a list of matches.
    #[test]
    fn definite_and_indefinite_results() {
        assert_eq!(eval("$.store.book[0].author"), Some(json!("Nigel Rees")));
        assert_eq!(
            eval("$.store.book[-1].title"),
            Some(json!("The Lord of the Rings"))
        );
        assert_eq!(eval("$.store.missing"), None);
        assert_eq!(eval("$.nothing"), Some(Value::Null));
        assert_eq!(eval("$.store.book[9]"), None);
        assert_eq!(
            eval("$.store.book[*].author").map(|v| v.as_array().map(Vec::len)),
            Some(Some(4))
        );
        assert_eq!(eval("$..missing"), Some(json!([])));
        assert_eq!(eval("$.store.book[0,1].price"), Some(json!([8.95, 12.99])));
        assert_eq!(eval("$.store.book[:2].price"), Some(json!([8.95, 12.99])));
        assert_eq!(eval("$['store']['bicycle']['color']"), Some(json!("red")));
        // Jayway PropertyPathToken.multiPropertyMergeCase.
        assert_eq!(
            eval("$.store.bicycle['color','price','none']"),
            Some(json!({"color": "red", "price": 19.95}))
        );
        assert_eq!(
            eval("$.store.book[*]['author','isbn']").map(|v| v[2].clone()),
            Some(json!({"author": "Herman Melville", "isbn": "0-553-21311-3"}))
        );
        assert_eq!(eval("$.expensive['a','b']"), None);
    }

    // Jayway README filter examples.
    #[test]
    fn jayway_filters() {
        assert_eq!(
            eval("$.store.book[?(@.isbn)].title"),
            Some(json!(["Moby Dick", "The Lord of the Rings"]))
        );
        assert_eq!(
            eval("$.store.book[?(@.price < 10)].price"),
            Some(json!([8.95, 8.99]))
        );
        assert_eq!(
            eval("$.store.book[?(@.price <= $['expensive'])].price"),
            Some(json!([8.95, 8.99]))
        );
        assert_eq!(
            eval("$..book[?(@.author =~ /.*REES/i)].price"),
            Some(json!([8.95]))
        );
        assert_eq!(
            eval("$..book[?(@.author =~ /Rees/)].price"),
            Some(json!([]))
        );
        assert_eq!(
            eval("$.store.book[?(@.category in ['reference'])].price"),
            Some(json!([8.95]))
        );
        assert_eq!(
            eval("$.store.book[?(@.category nin ['fiction'])].price"),
            Some(json!([8.95]))
        );
        assert_eq!(
            eval("$.store.book[?(@.title size 9)].price"),
            Some(json!([8.99]))
        );
        assert_eq!(
            eval("$.store.book[?(@.isbn empty false)].price"),
            Some(json!([8.99, 22.99]))
        );
        assert_eq!(
            eval("$.store.book[?(@.price > 20 || @.category == 'reference')].price"),
            Some(json!([8.95, 22.99]))
        );
    }

    #[test]
    fn path_functions() {
        assert_eq!(eval("$.store.book.length()"), Some(json!(4)));
        assert_eq!(eval("$..book[*].length()"), Some(json!(4)));
        assert_eq!(eval("$.store.bicycle.length()"), Some(json!(2)));
        assert_eq!(eval("$..price.min()"), Some(json!(8.95)));
        assert_eq!(eval("$..price.max()"), Some(json!(22.99)));
        assert_eq!(
            eval("$.store.book[*].price.sum()")
                .and_then(|v| v.as_f64())
                .map(|f| (f * 100.0).round()),
            Some(5392.0)
        );
        assert_eq!(string("$.store.bicycle.keys()"), "[\"color\",\"price\"]");
        assert_eq!(
            eval("$.store.book[*].price.avg()")
                .and_then(|v| v.as_f64())
                .map(|f| (f * 1000.0).round()),
            Some(13480.0)
        );
        assert_eq!(
            eval("$.store.book[*].author.first()"),
            Some(json!("Nigel Rees"))
        );
        assert_eq!(eval("$.flag.sum()"), None);
        assert_eq!(eval("$.store.book[*].nothing.max()"), None);
    }

    // SynapseJsonPath.stringValueOf / formatJsonPathResponse.
    #[test]
    fn string_values() {
        assert_eq!(string("json-eval($.store.bicycle.color)"), "red");
        assert_eq!(string("json-eval($.expensive)"), "10");
        assert_eq!(string("json-eval($.flag)"), "true");
        assert_eq!(string("json-eval($.nothing)"), "null");
        assert_eq!(string("json-eval($.missing)"), "");
        assert_eq!(
            string("json-eval($.store.bicycle)"),
            "{\"color\":\"red\",\"price\":19.95}"
        );
        assert_eq!(
            string("json-eval($.store.book[?(@.price > 20)].title)"),
            "[\"The Lord of the Rings\"]"
        );
        assert_eq!(string("json-eval($.store.book.length())"), "4");
        // Java's double sum prints the same digits (Double.toString(8.95 + 12.99)).
        assert_eq!(
            string("json-eval($.store.book[0,1].price.sum())"),
            "21.939999999999998"
        );
    }

    // Jayway's PathCompiler ends each token with `currentIsTail() || readNextToken(..)`: one
    // character left after a token is ignored, and a name may follow `]` (MI tests
    // PropertyJSONPathSupportTestCase and EnrichJSONPayloadWithSpaceTest).
    #[test]
    fn jayway_tolerates_a_stray_last_character_and_names_after_brackets() {
        let tolkien = json!([{"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord of the Rings", "isbn": "0-395-19395-8", "price": 22.99}]);
        assert_eq!(
            eval("$.store.book[?(@.price > 20)])"),
            Some(tolkien.clone())
        );
        assert_eq!(eval("store.book[?(@.price > 20)])"), Some(tolkien));
        assert_eq!(eval("$.store.book[0]x"), eval("$.store.book[0]"));
        assert_eq!(eval("$.store.bicycle["), eval("$.store.bicycle"));
        assert_eq!(
            eval("$.store.book[3]title"),
            Some(json!("The Lord of the Rings"))
        );
        let property =
            JsonEval::compile("$trp:prop.store.book[?(@.price > 20)])").expect("compiles");
        assert_eq!(property.path_text(), "$.store.book[?(@.price > 20)])");
        // Two characters are not a tail: `)x` is read as a name, which no book has.
        assert_eq!(eval("$.store.book[?(@.price > 20)])x"), Some(json!([])));
        assert!(JsonEval::compile("$x").is_err());
    }

    // SynapseJsonPath.stringValueOf with InlineExpressionUtil.replaceDynamicValuesForJSONPath
    // (proxy DynamicPropertiesJsonEval of MI test PropertyIntegrationDynamicNameTestCase).
    #[test]
    fn inline_expressions_are_replaced_for_each_evaluation() {
        let eval = JsonEval::compile("json-eval({$ctx:which})").expect("deploys");
        assert!(eval.has_inline_expressions());
        let mut asked = Vec::new();
        let resolved = eval
            .with_inline_values(&mut |expr| {
                asked.push(expr.to_string());
                Ok("expensive".to_string())
            })
            .expect("resolves");
        assert_eq!(asked, ["$ctx:which"]);
        assert_eq!(resolved.string_value(&store()), "10");
        let nested = JsonEval::compile("$.store.{$ctx:kind}.color").expect("deploys");
        let resolved = nested
            .with_inline_values(&mut |_| Ok("bicycle".to_string()))
            .expect("resolves");
        assert_eq!(resolved.string_value(&store()), "red");
        // An error of the inline expression is the evaluation's error.
        assert!(
            nested
                .with_inline_values(&mut |_| Err("boom".into()))
                .is_err()
        );
        // Jayway compiles the replaced text as it is: a `$ctx:` prefix is not resolved again.
        let prefixed = JsonEval::compile("json-eval($ctx:p.{$ctx:k})").expect("deploys");
        assert!(
            prefixed
                .with_inline_values(&mut |_| Ok("a".into()))
                .is_err()
        );
        assert!(!JsonEval::compile("$.a").unwrap().has_inline_expressions());
    }

    #[test]
    fn compile_errors_carry_columns() {
        for (text, column) in [
            // Jayway ignores a lone `[` at the end (currentIsTail), not an unclosed index.
            ("json-eval($.a[0)", 14),
            ("json-eval($.a", 13),
            ("$.a[?(@.b =~ 'x')]", 6),
            ("json-eval($.a..)", 15),
        ] {
            match JsonEval::compile(text) {
                Err(JsonError::PathSyntax { column: c, .. }) => assert_eq!(c, column, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn whole_body_is_its_json_text() {
        let e = JsonEval::compile("json-eval($)").expect("valid");
        assert!(e.is_whole());
        assert_eq!(e.string_value(&json!({"a": [1, "x"]})), "{\"a\":[1,\"x\"]}");
        assert_eq!(e.evaluate(&json!([1])), Some(json!([1])));
    }

    proptest::proptest! {
        #[test]
        fn compile_and_evaluate_never_panic(text in "(json-eval\\()?\\$?[.a-z0-9@$?()\\[\\]*:'\",=~/<>!&| -]{0,24}\\)?") {
            if let Ok(e) = JsonEval::compile(&text) {
                let _ = e.evaluate(&store());
                let _ = e.string_value(&store());
                let mut doc = store();
                let _ = e.replace(&mut doc, json!(1));
                let _ = e.add_child(&mut doc, json!({"k": 1}));
                let _ = e.remove(&mut doc);
            }
        }

        #[test]
        fn any_text_compiles_or_errors(text in "\\PC{0,40}") {
            let _ = JsonEval::compile(&text);
        }
    }

    #[test]
    fn json_eval_is_shareable() {
        fn assert_traits<T: Clone + std::fmt::Debug + Send + Sync>() {}
        assert_traits::<JsonEval>();
        assert_eq!(
            std::mem::size_of::<JsonEval>(),
            std::mem::size_of::<usize>()
        );
    }
}
