//! JSON as Gson (which Synapse expressions and Jayway's GsonJsonProvider use) reads and writes it:
//! [`parse_lenient`] is `JsonParser.parseString` (lenient `JsonReader`: comments, unquoted and
//! single-quoted strings, `=`/`=>` and `;` separators, omitted array values as null, the whole
//! input consumed), [`to_json`] is `JsonElement.toString()` / `Gson.toJson` (compact, Gson's string
//! escapes, optionally HTML-safe and dropping null members as `new Gson()` does).

use serde_json::{Map, Number, Value};

/// Deepest nesting the lenient parser accepts.
const MAX_DEPTH: usize = crate::json::MAX_JSON_DEPTH;

/// How a JSON value is written.
#[derive(Debug, Clone, Copy)]
pub(super) struct Style {
    /// `new Gson().toJson` escapes `< > & = '` as `\u003c`...
    pub html_safe: bool,
    /// `JsonElement.toString()` writes null members; `new Gson().toJson` drops them.
    pub serialize_nulls: bool,
}

/// `JsonElement.toString()`.
pub(super) const ELEMENT_TO_STRING: Style = Style {
    html_safe: false,
    serialize_nulls: true,
};

/// `new Gson().toJson(element)`.
pub(super) const GSON_TO_JSON: Style = Style {
    html_safe: true,
    serialize_nulls: false,
};

pub(super) fn to_json(value: &Value, style: Style) -> String {
    let mut out = String::new();
    write_value(value, style, &mut out);
    out
}

fn write_value(value: &Value, style: Style, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(s, style, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, style, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            let mut first = true;
            for (name, member) in members {
                if member.is_null() && !style.serialize_nulls {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                write_string(name, style, out);
                out.push(':');
                write_value(member, style, out);
            }
            out.push('}');
        }
    }
}

/// Gson JsonWriter.string: `"` `\` and control characters escaped (`\t \b \n \r \f` short,
/// others `\u00xx`), U+2028/U+2029 escaped, and with HTML safety `< > & = '` too.
/// Gson's `JsonWriter.string` with HTML safety (what `new Gson().toJson` writes for a string).
pub(crate) fn write_html_safe_string(s: &str, out: &mut String) {
    write_string(s, GSON_TO_JSON, out);
}

fn write_string(s: &str, style: Style, out: &mut String) {
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
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            '<' | '>' | '&' | '=' | '\'' if style.html_safe => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Gson `JsonParser.parseString` (lenient): Err(message) where Gson throws JsonSyntaxException.
/// An empty document is JSON null.
pub(crate) fn parse_lenient(text: &str) -> Result<Value, String> {
    let mut parser = Lenient {
        chars: text.chars().collect(),
        pos: 0,
    };
    if parser.skip_whitespace_and_comments()?.is_none() {
        return Ok(Value::Null);
    }
    let value = parser.value(0)?;
    if !value.is_null() && parser.skip_whitespace_and_comments()?.is_some() {
        return Err(format!(
            "Did not consume the entire document (at character {})",
            parser.pos + 1
        ));
    }
    Ok(value)
}

struct Lenient {
    chars: Vec<char>,
    pos: usize,
}

impl Lenient {
    fn error<T>(&self, message: &str) -> Result<T, String> {
        Err(format!("{message} at character {}", self.pos + 1))
    }

    /// Skips whitespace and `//`, `#`, `/* */` comments; the next character, if any.
    fn skip_whitespace_and_comments(&mut self) -> Result<Option<char>, String> {
        loop {
            let Some(&c) = self.chars.get(self.pos) else {
                return Ok(None);
            };
            match c {
                ' ' | '\t' | '\n' | '\r' => self.pos += 1,
                '#' => self.skip_line(),
                '/' if self.chars.get(self.pos + 1) == Some(&'/') => self.skip_line(),
                '/' if self.chars.get(self.pos + 1) == Some(&'*') => {
                    let rest = &self.chars[self.pos + 2..];
                    match rest.windows(2).position(|w| w == ['*', '/']) {
                        Some(end) => self.pos += 2 + end + 2,
                        None => return self.error("Unterminated comment"),
                    }
                }
                c => return Ok(Some(c)),
            }
        }
    }

    fn skip_line(&mut self) {
        while let Some(&c) = self.chars.get(self.pos) {
            self.pos += 1;
            if c == '\n' || c == '\r' {
                break;
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return self.error("JSON nests too deeply");
        }
        match self.skip_whitespace_and_comments()? {
            None => self.error("End of input"),
            Some('{') => {
                self.pos += 1;
                self.object(depth)
            }
            Some('[') => {
                self.pos += 1;
                self.array(depth)
            }
            Some(q @ ('"' | '\'')) => {
                self.pos += 1;
                self.quoted(q).map(Value::String)
            }
            Some(_) => self.literal(),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, String> {
        let mut members = Map::new();
        if self.skip_whitespace_and_comments()? == Some('}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            let name = match self.skip_whitespace_and_comments()? {
                Some(q @ ('"' | '\'')) => {
                    self.pos += 1;
                    self.quoted(q)?
                }
                Some(c) if !is_literal_terminator(c) => self.unquoted(),
                _ => return self.error("Expected name"),
            };
            match self.skip_whitespace_and_comments()? {
                Some(':') => self.pos += 1,
                Some('=') => {
                    self.pos += 1;
                    if self.chars.get(self.pos) == Some(&'>') {
                        self.pos += 1;
                    }
                }
                _ => return self.error("Expected ':'"),
            }
            let value = self.value(depth + 1)?;
            members.insert(name, value);
            match self.skip_whitespace_and_comments()? {
                Some(',' | ';') => self.pos += 1,
                Some('}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                _ => return self.error("Unterminated object"),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, String> {
        let mut items = Vec::new();
        if self.skip_whitespace_and_comments()? == Some(']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            // An omitted value (`[1,,2]`, `[1,]`, `[,1]`) is null in lenient mode.
            match self.skip_whitespace_and_comments()? {
                Some(',' | ';' | ']') => items.push(Value::Null),
                _ => items.push(self.value(depth + 1)?),
            }
            match self.skip_whitespace_and_comments()? {
                Some(',' | ';') => self.pos += 1,
                Some(']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return self.error("Unterminated array"),
            }
        }
    }

    fn quoted(&mut self, quote: char) -> Result<String, String> {
        let mut out = String::new();
        loop {
            let Some(&c) = self.chars.get(self.pos) else {
                return self.error("Unterminated string");
            };
            self.pos += 1;
            if c == quote {
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(&e) = self.chars.get(self.pos) else {
                return self.error("Unterminated escape sequence");
            };
            self.pos += 1;
            match e {
                'u' => {
                    let hex: String = self.chars.iter().skip(self.pos).take(4).collect();
                    let unit = (hex.len() == 4)
                        .then(|| u16::from_str_radix(&hex, 16).ok())
                        .flatten();
                    let Some(unit) = unit else {
                        return self.error("Malformed Unicode escape");
                    };
                    self.pos += 4;
                    // A surrogate pair is two escapes; a lone surrogate cannot be held in Rust.
                    if (0xD800..0xDC00).contains(&unit)
                        && self.chars.get(self.pos) == Some(&'\\')
                        && self.chars.get(self.pos + 1) == Some(&'u')
                    {
                        let low: String = self.chars.iter().skip(self.pos + 2).take(4).collect();
                        if let Ok(low) = u16::from_str_radix(&low, 16)
                            && (0xDC00..0xE000).contains(&low)
                        {
                            self.pos += 6;
                            out.push_str(&String::from_utf16_lossy(&[unit, low]));
                            continue;
                        }
                    }
                    out.push(char::from_u32(u32::from(unit)).unwrap_or('\u{FFFD}'));
                }
                't' => out.push('\t'),
                'b' => out.push('\u{8}'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                'f' => out.push('\u{c}'),
                '\n' | '\'' | '"' | '\\' | '/' => out.push(e),
                _ => return self.error("Invalid escape sequence"),
            }
        }
    }

    /// An unquoted name or value: up to the next character that ends a literal.
    fn unquoted(&mut self) -> String {
        let start = self.pos;
        while self
            .chars
            .get(self.pos)
            .is_some_and(|c| !is_literal_terminator(*c))
        {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// `true`/`false`/`null` (any case per letter), a JSON number, or an unquoted string.
    fn literal(&mut self) -> Result<Value, String> {
        let start = self.pos;
        let word = self.unquoted();
        if word.is_empty() {
            self.pos = start;
            return self.error("Expected value");
        }
        let keyword = |k: &str| {
            word.len() == k.len()
                && word.eq_ignore_ascii_case(k)
                && word
                    .chars()
                    .zip(k.chars())
                    .all(|(w, k)| w == k || w == k.to_ascii_uppercase())
        };
        if keyword("true") {
            return Ok(Value::Bool(true));
        }
        if keyword("false") {
            return Ok(Value::Bool(false));
        }
        if keyword("null") {
            return Ok(Value::Null);
        }
        Ok(json_number(&word).unwrap_or(Value::String(word)))
    }
}

/// Characters that end an unquoted literal in Gson's lenient reader.
fn is_literal_terminator(c: char) -> bool {
    matches!(
        c,
        '/' | '\\'
            | ';'
            | '#'
            | '='
            | '{'
            | '}'
            | '['
            | ']'
            | ':'
            | ','
            | ' '
            | '\t'
            | '\u{c}'
            | '\r'
            | '\n'
    )
}

/// A JSON number literal (`-`? int frac? exp?) as serde_json holds it; None for anything else,
/// and for magnitudes a double cannot hold.
fn json_number(word: &str) -> Option<Value> {
    let bytes = word.as_bytes();
    let mut i = usize::from(bytes.first() == Some(&b'-'));
    let int_start = i;
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if i == int_start {
        return None;
    }
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == frac_start {
            return None;
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    if let Ok(n) = word.parse::<i64>() {
        return Some(Value::Number(n.into()));
    }
    if let Ok(n) = word.parse::<u64>() {
        return Some(Value::Number(n.into()));
    }
    word.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_as_gson() {
        let v = json!({"a": "x\"y\\z\n\u{1}<>&='", "n": null, "l": [1, 2.5, null, true]});
        assert_eq!(
            to_json(&v, ELEMENT_TO_STRING),
            r#"{"a":"x\"y\\z\n\u0001<>&='","n":null,"l":[1,2.5,null,true]}"#
        );
        assert_eq!(
            to_json(&v, GSON_TO_JSON),
            r#"{"a":"x\"y\\z\n\u0001\u003c\u003e\u0026\u003d\u0027","l":[1,2.5,null,true]}"#
        );
        assert_eq!(
            to_json(&json!("\u{2028}"), ELEMENT_TO_STRING),
            r#""\u2028""#
        );
    }

    #[test]
    fn parses_leniently_as_gson() {
        assert_eq!(parse_lenient(r#"{"a": 1}"#), Ok(json!({"a": 1})));
        assert_eq!(
            parse_lenient("{a: 'b', c = 2; d => [1;2,,]} // tail"),
            Ok(json!({"a": "b", "c": 2, "d": [1, 2, null, null]}))
        );
        assert_eq!(parse_lenient("[,1]"), Ok(json!([null, 1])));
        assert_eq!(parse_lenient("# c\n/* x */ TRUE"), Ok(json!(true)));
        assert_eq!(parse_lenient("hello"), Ok(json!("hello")));
        assert_eq!(parse_lenient("NaN"), Ok(json!("NaN")));
        assert_eq!(parse_lenient("1.50"), Ok(json!(1.5)));
        assert_eq!(parse_lenient(""), Ok(Value::Null));
        assert_eq!(parse_lenient("  "), Ok(Value::Null));
        assert_eq!(parse_lenient("null trailing"), Ok(Value::Null));
        assert_eq!(parse_lenient(r#""\u00e9\ud83d\ude00""#), Ok(json!("é😀")));
        assert!(parse_lenient("hello world").is_err());
        assert!(parse_lenient("{\"a\":1,}").is_err());
        assert!(parse_lenient("[1,2").is_err());
        assert!(parse_lenient(r#"{"abc:5}"#).is_err());
        assert!(parse_lenient(r#""a\qb""#).is_err());
        assert!(parse_lenient(&"[".repeat(MAX_DEPTH + 2)).is_err());
    }
}
