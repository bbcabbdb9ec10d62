//! The document tree API definitions are converted through, with the two JSON readers and the
//! two JSON printers MI uses on the way: Gson (`SwaggerUtils.getAPISwagger`: JSON read as a
//! `Map` with every number a `Double`; YAML printed with `setPrettyPrinting`) and Jackson
//! (`SwaggerGenerator.getOpenAPIJsonString` and swagger-core's `Json.mapper()`: integers kept,
//! `INDENT_OUTPUT`'s `DefaultPrettyPrinter`). Numbers print as Java prints them
//! (`Double.toString`).

use std::fmt::Write as _;

/// A JSON/YAML value as the Java side holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    /// An integer as decimal digits (Java's `Integer`, `Long` and `BigInteger` print alike).
    Int(String),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in document order; a key given twice keeps its first place and its last value
    /// (`LinkedHashMap.put`).
    Map(Vec<(String, Node)>),
}

impl Node {
    /// `String.valueOf` of the Java value, which is what Gson writes for a map key.
    pub fn java_string(&self) -> String {
        match self {
            Node::Null => "null".into(),
            Node::Bool(b) => b.to_string(),
            Node::Int(digits) => digits.clone(),
            Node::Float(f) => java_double(*f),
            Node::Str(s) => s.clone(),
            Node::Seq(items) => {
                let items: Vec<String> = items.iter().map(Node::java_string).collect();
                format!("[{}]", items.join(", "))
            }
            Node::Map(entries) => {
                let entries: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.java_string()))
                    .collect();
                format!("{{{}}}", entries.join(", "))
            }
        }
    }

    /// The member `key` of a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Adds `key: value` to `entries`, replacing the value of a key already there in its place.
pub fn put(entries: &mut Vec<(String, Node)>, key: String, value: Node) {
    match entries.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 = value,
        None => entries.push((key, value)),
    }
}

/// How a JSON text's numbers are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbers {
    /// Gson `fromJson(text, Map.class)`: every number a `Double` (`ToNumberPolicy.DOUBLE`).
    AllDouble,
    /// Jackson `readTree`: integers stay integers, the rest are doubles.
    IntegersKept,
}

/// Reads a JSON text; `None` when it is not JSON.
pub fn parse_json(text: &str, numbers: Numbers) -> Option<Node> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    Some(from_json(value, numbers))
}

fn from_json(value: serde_json::Value, numbers: Numbers) -> Node {
    use serde_json::Value;
    match value {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Bool(b),
        Value::Number(n) => match numbers {
            Numbers::IntegersKept if n.is_i64() || n.is_u64() => Node::Int(n.to_string()),
            _ => Node::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Node::Str(s),
        Value::Array(items) => {
            Node::Seq(items.into_iter().map(|v| from_json(v, numbers)).collect())
        }
        Value::Object(map) => Node::Map(
            map.into_iter()
                .map(|(k, v)| (k, from_json(v, numbers)))
                .collect(),
        ),
    }
}

/// Java's `Double.toString`: `1.0`, `0.001`, `1.0E7`, `1.0E-4`, `NaN`, `Infinity` (the one
/// Synapse expressions print numbers with).
pub fn java_double(d: f64) -> String {
    crate::synapse_expr::java_compat::double_to_string(d)
}

/// Gson `setPrettyPrinting().create().toJson(value)`: two-space indent, `"key": value`, `[]`
/// and `{}` when empty, map entries whose value is null left out (`serializeNulls` is off),
/// HTML characters escaped (`htmlSafe` is on).
pub fn gson_pretty(node: &Node) -> String {
    let mut out = String::new();
    gson_value(node, 0, &mut out);
    out
}

fn gson_value(node: &Node, depth: usize, out: &mut String) {
    match node {
        Node::Seq(items) if items.is_empty() => out.push_str("[]"),
        Node::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline_indent(out, depth + 1, "  ");
                gson_value(item, depth + 1, out);
            }
            newline_indent(out, depth, "  ");
            out.push(']');
        }
        Node::Map(entries) => {
            let present: Vec<&(String, Node)> =
                entries.iter().filter(|(_, v)| *v != Node::Null).collect();
            if present.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (key, value)) in present.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline_indent(out, depth + 1, "  ");
                gson_string(key, out);
                out.push_str(": ");
                gson_value(value, depth + 1, out);
            }
            newline_indent(out, depth, "  ");
            out.push('}');
        }
        Node::Str(s) => gson_string(s, out),
        scalar => out.push_str(&scalar_text(scalar)),
    }
}

fn newline_indent(out: &mut String, depth: usize, unit: &str) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str(unit);
    }
}

/// Gson's `JsonWriter.string` with `htmlSafe`.
fn gson_string(s: &str, out: &mut String) {
    crate::synapse_expr::java_compat::write_html_safe_string(s, out);
}

/// Jackson's `DefaultPrettyPrinter` (`INDENT_OUTPUT`): objects one member a line as
/// `"key" : value`, arrays inline as `[ a, b ]` (`[ {` ... `}, {` ... `} ]` for objects), `{ }`
/// and `[ ]` when empty; null members left out (`Include.NON_NULL`).
pub fn jackson_pretty(node: &Node) -> String {
    let mut out = String::new();
    jackson_value(node, 0, &mut out);
    out
}

fn jackson_value(node: &Node, nesting: usize, out: &mut String) {
    match node {
        Node::Seq(items) if items.is_empty() => out.push_str("[ ]"),
        Node::Seq(items) => {
            // Arrays are inline (`FixedSpaceIndenter`): they do not add a nesting level.
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push(' ');
                jackson_value(item, nesting, out);
            }
            out.push_str(" ]");
        }
        Node::Map(entries) => {
            let present: Vec<&(String, Node)> =
                entries.iter().filter(|(_, v)| *v != Node::Null).collect();
            if present.is_empty() {
                out.push_str("{ }");
                return;
            }
            out.push('{');
            for (i, (key, value)) in present.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline_indent(out, nesting + 1, "  ");
                jackson_string(key, out);
                out.push_str(" : ");
                jackson_value(value, nesting + 1, out);
            }
            newline_indent(out, nesting, "  ");
            out.push('}');
        }
        Node::Str(s) => jackson_string(s, out),
        scalar => out.push_str(&scalar_text(scalar)),
    }
}

/// Jackson's string escaping: `"`, `\` and control characters; everything else as is.
fn jackson_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A scalar as JSON text (strings are written by the caller's escaper).
fn scalar_text(node: &Node) -> String {
    match node {
        Node::Null => "null".into(),
        Node::Bool(b) => b.to_string(),
        Node::Int(digits) => digits.clone(),
        Node::Float(f) => java_double(*f),
        other => other.java_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_double_matches_double_to_string() {
        for (value, java) in [
            (1.0, "1.0"),
            (8080.0, "8080.0"),
            (0.5, "0.5"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1234567.0, "1234567.0"),
            (1.0e7, "1.0E7"),
            (123456789012.0, "1.23456789012E11"),
            (-2.5, "-2.5"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (100.25, "100.25"),
            (f64::INFINITY, "Infinity"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(java_double(value), java, "{value}");
        }
    }

    #[test]
    fn gson_reads_every_number_as_double_and_prints_pretty() {
        let node = parse_json(
            r#"{"a": 1, "b": [1.5, true, null], "c": {}, "d": [], "e": null, "f": "<x&'y'=>"}"#,
            Numbers::AllDouble,
        )
        .unwrap();
        assert_eq!(
            gson_pretty(&node),
            "{\n  \"a\": 1.0,\n  \"b\": [\n    1.5,\n    true,\n    null\n  ],\n  \"c\": {},\n  \"d\": [],\n  \"f\": \"\\u003cx\\u0026\\u0027y\\u0027\\u003d\\u003e\"\n}"
        );
    }

    #[test]
    fn jackson_pretty_printer_layout() {
        let node = parse_json(
            r#"{"openapi":"3.0.1","servers":[{"url":"http://h/a"},{"url":"https://h/a"}],"n":[1,2],"e":[],"o":{},"x":null,"t":"a\u0001\"b"}"#,
            Numbers::IntegersKept,
        )
        .unwrap();
        assert_eq!(
            jackson_pretty(&node),
            "{\n  \"openapi\" : \"3.0.1\",\n  \"servers\" : [ {\n    \"url\" : \"http://h/a\"\n  }, {\n    \"url\" : \"https://h/a\"\n  } ],\n  \"n\" : [ 1, 2 ],\n  \"e\" : [ ],\n  \"o\" : { },\n  \"t\" : \"a\\u0001\\\"b\"\n}"
        );
    }

    #[test]
    fn a_repeated_key_keeps_its_place_and_last_value() {
        let mut entries = vec![
            ("a".into(), Node::Int("1".into())),
            ("b".into(), Node::Null),
        ];
        put(&mut entries, "a".into(), Node::Int("2".into()));
        assert_eq!(entries[0], ("a".into(), Node::Int("2".into())));
        assert_eq!(entries.len(), 2);
    }
}
