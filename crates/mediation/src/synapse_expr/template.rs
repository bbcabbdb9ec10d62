//! Text with `${...}` placeholders: [`InlineTemplate`] is InlineExpressionUtil's
//! `processInLineSynapseExpressionTemplate` (log `<message>`, the HTTP connector's path, headers
//! and bodies): regex `\$\{(.+?)}`, each match replaced by the expression's string value.
//! [`PayloadTemplate`] is payloadFactory `template-type="default"`
//! (pfutils/RegexTemplateProcessor.java): `"${e}"`, `${e}` and `$n` replaced with MI's escaping,
//! computed the way Java computes it (the escape helpers' `replaceAll`s, then
//! `Matcher.appendReplacement`, whose `$` and `\` handling is part of the result).

use super::gson;
use super::java;
use super::value::ExprValue;
use super::{EvalError, ExprContext, ExprError, SynapseExpression};
use crate::runtime::payload::{json_as_xml, parse_document};
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone)]
enum InlinePart {
    Text(String),
    Expression(SynapseExpression),
}

/// Inline template: text with `${...}` parts (MI InlineExpressionUtil regex `\$\{(.+?)}`:
/// non-greedy, no newline inside), used by log `<message>` and the HTTP connector.
#[derive(Debug, Clone)]
pub struct InlineTemplate {
    parts: Vec<InlinePart>,
}

/// Java's `.` does not match these line terminators.
fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// The next match of `\$\{(.+?)}` at or after byte `from`: (start, inner start, inner end, end).
fn next_inline_match(text: &str, from: usize) -> Option<(usize, usize, usize, usize)> {
    let mut search = from;
    while let Some(offset) = text.get(search..)?.find("${") {
        let start = search + offset;
        let inner_start = start + 2;
        let mut chars = text[inner_start..].char_indices();
        // At least one character, none a line terminator, up to the first `}` after it.
        if let Some((_, first)) = chars.next()
            && !is_line_terminator(first)
        {
            for (i, c) in chars {
                if is_line_terminator(c) {
                    break;
                }
                if c == '}' {
                    let inner_end = inner_start + i;
                    return Some((start, inner_start, inner_end, inner_end + 1));
                }
            }
        }
        search = start + 1;
    }
    None
}

impl InlineTemplate {
    /// Compiles every placeholder (InlineExpressionUtil.initInlineSynapseExpressions): an invalid
    /// expression fails here, at deployment.
    pub fn compile(text: &str) -> Result<InlineTemplate, ExprError> {
        let mut parts = Vec::new();
        let mut last = 0;
        while let Some((start, inner_start, inner_end, end)) = next_inline_match(text, last) {
            if start > last {
                parts.push(InlinePart::Text(text[last..start].to_string()));
            }
            parts.push(InlinePart::Expression(SynapseExpression::compile(
                &text[inner_start..inner_end],
            )?));
            last = end;
        }
        if last < text.len() {
            parts.push(InlinePart::Text(text[last..].to_string()));
        }
        Ok(InlineTemplate { parts })
    }

    pub fn has_expressions(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, InlinePart::Expression(_)))
    }

    pub fn needs_payload(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, InlinePart::Expression(e) if e.needs_payload()))
    }

    /// Each placeholder replaced by the expression's `stringValueOf` (an evaluation error is
    /// logged and gives ""); Err only for a fault (a Java exception MI does not catch).
    pub fn render(&self, ctx: &dyn ExprContext) -> Result<String, EvalError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                InlinePart::Text(t) => out.push_str(t),
                InlinePart::Expression(e) => out.push_str(&e.string_value(ctx)?),
            }
        }
        Ok(out)
    }
}

#[derive(Debug, Clone)]
enum PayloadPart {
    Text(String),
    /// `"${e}"` (quoted) or `${e}`; `whole` is the matched text, `inner` the expression text.
    Expression {
        quoted: bool,
        whole: String,
        inner: String,
        expression: SynapseExpression,
    },
    /// `$n`.
    Argument {
        whole: String,
        digits: String,
    },
}

/// The payloadFactory `media-type` a default template renders for (RegexTemplateProcessor's
/// `JSON_TYPE`, `XML_TYPE` and `TEXT_TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateMedia {
    Json,
    Xml,
    /// Matched without the `<pfPadding>` wrapper, as json is. A Gson value (a payload or JSON
    /// variable value) is escaped as for json; any other value (a Java String, number, boolean
    /// or XML element) goes in as its `toString()` with no escaping at all, since `replace`
    /// escapes those only for json and xml.
    Text,
}

/// payloadFactory template-type="default": `"${e}"` quoted, `${e}` unquoted, `$n` args.
#[derive(Debug, Clone)]
pub struct PayloadTemplate {
    parts: Vec<PayloadPart>,
}

/// A match of the payload pattern: a placeholder (its expression text) or `$n`.
#[derive(Debug, Clone, PartialEq)]
enum PayloadMatch {
    Expression { quoted: bool, inner: String },
    Argument { digits: String },
}

/// The next match of `"\$\{([^}]+)\}"|\$\{([^}]+)\}|\$(\d+)` at or after byte `from`:
/// (start, end, what matched).
fn next_payload_match(text: &str, from: usize) -> Option<(usize, usize, PayloadMatch)> {
    let mut i = from;
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with("\"${")
            && let Some(close) = rest[3..].find('}')
            && close > 0
            && rest.as_bytes().get(3 + close + 1) == Some(&b'"')
        {
            let inner = rest[3..3 + close].to_string();
            return Some((
                i,
                i + 3 + close + 2,
                PayloadMatch::Expression {
                    quoted: true,
                    inner,
                },
            ));
        }
        if rest.starts_with("${")
            && let Some(close) = rest[2..].find('}')
            && close > 0
        {
            let inner = rest[2..2 + close].to_string();
            return Some((
                i,
                i + 2 + close + 1,
                PayloadMatch::Expression {
                    quoted: false,
                    inner,
                },
            ));
        }
        if let Some(after) = rest.strip_prefix('$') {
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() {
                let end = i + 1 + digits.len();
                return Some((i, end, PayloadMatch::Argument { digits }));
            }
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    None
}

impl PayloadTemplate {
    /// Compiles every `${...}` of the format. (MI compiles the `\$\{(.+?)}` matches at deployment
    /// and any other one on first use; Conflux compiles all at deployment.)
    pub fn compile(text: &str) -> Result<PayloadTemplate, ExprError> {
        let mut parts = Vec::new();
        let mut last = 0;
        while let Some((start, end, part)) = next_payload_match(text, last) {
            if start > last {
                parts.push(PayloadPart::Text(text[last..start].to_string()));
            }
            let whole = text[start..end].to_string();
            parts.push(match part {
                PayloadMatch::Expression { quoted, inner } => PayloadPart::Expression {
                    quoted,
                    whole,
                    expression: SynapseExpression::compile(&inner)?,
                    inner,
                },
                PayloadMatch::Argument { digits } => PayloadPart::Argument { whole, digits },
            });
            last = end;
        }
        if last < text.len() {
            parts.push(PayloadPart::Text(text[last..].to_string()));
        }
        Ok(PayloadTemplate { parts })
    }

    pub fn needs_payload(&self) -> bool {
        self.parts.iter().any(
            |p| matches!(p, PayloadPart::Expression { expression, .. } if expression.needs_payload()),
        )
    }

    /// `media`: the payloadFactory's media type; `args`: the already-evaluated `<args>` values
    /// (`$1`..), inserted as given (the caller prepares them as MI's
    /// `TemplateProcessor.prepareReplacementValue` does). For xml the result is the template's
    /// text without the `<pfPadding>` wrapper MI matches inside. A `$n` without an argument stops
    /// the substitution there and keeps the rest of the template as written, as MI does (it logs
    /// "Mis-match detected between number of formatters and arguments").
    pub fn render(
        &self,
        ctx: &dyn ExprContext,
        media: TemplateMedia,
        args: &[String],
    ) -> Result<String, EvalError> {
        let mut results: HashMap<&str, ExprValue> = HashMap::new();
        let mut out = String::new();
        for (index, part) in self.parts.iter().enumerate() {
            match part {
                PayloadPart::Text(t) => out.push_str(t),
                PayloadPart::Argument { whole, digits } => {
                    let arg = digits
                        .parse::<usize>()
                        .ok()
                        .and_then(|n| n.checked_sub(1))
                        .and_then(|i| args.get(i));
                    match arg {
                        Some(value) => out.push_str(value),
                        None => {
                            tracing::error!(
                                target: "RegexTemplateProcessor",
                                "#replace. Mis-match detected between number of formatters and arguments ({whole} with {} argument(s))",
                                args.len()
                            );
                            for rest in &self.parts[index..] {
                                out.push_str(part_text(rest));
                            }
                            return Ok(out);
                        }
                    }
                }
                PayloadPart::Expression {
                    quoted,
                    whole,
                    inner,
                    expression,
                } => {
                    let value = match results.get(inner.as_str()) {
                        Some(v) => v.clone(),
                        None => {
                            // RegexTemplateProcessor.evaluateExpression: stringValueOf when the
                            // expression calls xpath(), objectValueOf otherwise.
                            let v = if inner.contains("xpath(") {
                                ExprValue::String(expression.string_value(ctx)?)
                            } else {
                                expression.object_value(ctx)?
                            };
                            results.insert(inner, v.clone());
                            v
                        }
                    };
                    let replacement = if *quoted {
                        quoted_replacement(&value, media)?
                    } else {
                        unquoted_replacement(&value, media)?
                    };
                    let groups = if *quoted {
                        [Some(whole.as_str()), Some(inner.as_str()), None, None]
                    } else {
                        [Some(whole.as_str()), None, Some(inner.as_str()), None]
                    };
                    out.push_str(&append_replacement(&replacement, &groups)?);
                }
            }
        }
        Ok(out)
    }
}

fn part_text(part: &PayloadPart) -> &str {
    match part {
        PayloadPart::Text(t) => t,
        PayloadPart::Expression { whole, .. } | PayloadPart::Argument { whole, .. } => whole,
    }
}

fn append_replacement(replacement: &str, groups: &[Option<&str>]) -> Result<String, EvalError> {
    java::replacement(replacement, groups).map_err(|e| {
        EvalError::fault(format!(
            "IllegalArgumentException in payloadFactory: {e} (replacement text {replacement:?})"
        ))
    })
}

/// `"${e}"` (RegexTemplateProcessor.replace, group 1).
fn quoted_replacement(value: &ExprValue, media: TemplateMedia) -> Result<String, EvalError> {
    let media_json = media != TemplateMedia::Xml;
    let inner = match value {
        ExprValue::Json(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => {
            primitive_replacement(v, media_json)
        }
        ExprValue::Json(v) => {
            let escaped = escape_json(&java::quote_replacement(&gson::to_json(
                v,
                gson::GSON_TO_JSON,
            )));
            if media_json {
                escaped
            } else {
                convert_json_to_xml(&escaped)?
            }
        }
        other => {
            let text = other.java_to_string();
            match media {
                TemplateMedia::Xml => escape_xml10(&text),
                TemplateMedia::Json if is_xml(&text) => {
                    escape_special_chars(&java::quote_replacement(&text))
                }
                TemplateMedia::Json => escape_special_characters_of_json(&text),
                // Neither escaped nor quoteReplacement'ed: appendReplacement reads its `\` and
                // `$` (a `$` before a non-digit is Java's IllegalArgumentException).
                TemplateMedia::Text => text,
            }
        }
    };
    Ok(format!("\"{inner}\""))
}

/// `${e}` (group 2).
fn unquoted_replacement(value: &ExprValue, media: TemplateMedia) -> Result<String, EvalError> {
    let media_json = media != TemplateMedia::Xml;
    Ok(match value {
        ExprValue::Json(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => {
            primitive_replacement(v, media_json)
        }
        ExprValue::Json(v) => {
            if media_json {
                java::quote_replacement(&gson::to_json(v, gson::GSON_TO_JSON))
            } else {
                java::quote_replacement(&convert_json_to_xml(&gson::to_json(
                    v,
                    gson::ELEMENT_TO_STRING,
                ))?)
            }
        }
        other => {
            let text = other.java_to_string();
            match media {
                TemplateMedia::Json if is_xml(&text) => convert_xml_to_json(&text),
                TemplateMedia::Xml if !is_xml(&text) => {
                    java::quote_replacement(&escape_xml10(&text))
                }
                _ => java::quote_replacement(&text),
            }
        }
    })
}

/// prepareJSONPrimitiveReplacementValue.
fn primitive_replacement(value: &Value, media_json: bool) -> String {
    let as_string = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let escaped = escape_special_chars(&java::quote_replacement(&as_string));
    if media_json {
        escaped
    } else {
        escape_xml10(&escaped)
    }
}

/// TemplateProcessor.escapeSpecialChars: its `replaceAll`s' net effect on the text (a pair of
/// backslashes doubled, `"` and the control characters `\b \f \n \r \t` written as `\\"`,
/// `\\n`...; after appendReplacement these are JSON escapes).
fn escape_special_chars(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if chars.get(i + 1) == Some(&'\\') => {
                out.push_str("\\\\\\\\");
                i += 2;
                continue;
            }
            '"' => out.push_str("\\\\\""),
            '\u{8}' => out.push_str("\\\\b"),
            '\u{c}' => out.push_str("\\\\f"),
            '\n' => out.push_str("\\\\n"),
            '\r' => out.push_str("\\\\r"),
            '\t' => out.push_str("\\\\t"),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// TemplateProcessor.escapeSpecialCharactersOfJson: `\"` -> `\\"`, `\\$` -> `\$`, and the
/// two-character escapes `\b \f \n \r \t` get a second backslash.
fn escape_special_characters_of_json(s: &str) -> String {
    escape_escapes(s, |out, chars, i| {
        if chars[i] == '\\' && chars.get(i + 1) == Some(&'\\') && chars.get(i + 2) == Some(&'$') {
            out.push_str("\\$");
            Some(3)
        } else {
            None
        }
    })
}

/// TemplateProcessor.escapeSpecialCharactersOfXml: as for JSON, but every `$` becomes `\$`.
fn escape_special_characters_of_xml(s: &str) -> String {
    escape_escapes(s, |out, chars, i| {
        (chars[i] == '$').then(|| {
            out.push_str("\\$");
            1
        })
    })
}

/// The shared part of the two helpers above: `\"` and `\b \f \n \r \t` (backslash + letter)
/// get an extra backslash; `special` handles the helper's own rule first.
fn escape_escapes(
    s: &str,
    special: impl Fn(&mut String, &[char], usize) -> Option<usize>,
) -> String {
    // Java applies the replaceAlls one after another; the `\"` rule runs first and its output
    // (`\\"`) is not touched by the later ones, which only match backslash + letter.
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        if let Some(consumed) = special(&mut out, &chars, i) {
            i += consumed;
            continue;
        }
        if chars[i] == '\\'
            && let Some(&next) = chars.get(i + 1)
            && matches!(next, '"' | 'b' | 'f' | 'n' | 'r' | 't')
        {
            out.push_str("\\\\");
            out.push(next);
            i += 2;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// RegexTemplateProcessor.escapeJson: `"` -> `\"`, then every `\` doubled.
fn escape_json(s: &str) -> String {
    s.replace('"', "\\\"").replace('\\', "\\\\")
}

/// commons-text `StringEscapeUtils.escapeXml10`: the five entities, characters XML 1.0 cannot
/// hold removed, C1 controls as numeric references.
pub(crate) fn escape_xml10(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c if ('\u{7f}'..='\u{84}').contains(&c) || ('\u{86}'..='\u{9f}').contains(&c) => {
                out.push_str(&format!("&#{};", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// TemplateProcessor.isXML: the trimmed text ends with `>`, has at least 4 characters and starts
/// with an element (Axiom reads the document element only).
pub(crate) fn is_xml(value: &str) -> bool {
    let trimmed = value.trim();
    trimmed.ends_with('>')
        && java::utf16_len(trimmed) >= 4
        && trimmed.starts_with('<')
        && (parse_document(trimmed).is_ok() || parse_document(&format!("<w>{trimmed}</w>")).is_ok())
}

/// RegexTemplateProcessor.convertJsonToXML: the JSON as MI's XML (the `<jsonObject>` /
/// `<jsonArray>` root dropped), then escapeSpecialCharactersOfXml. Text that is not JSON makes
/// MI throw (SynapseException: a fault).
fn convert_json_to_xml(text: &str) -> Result<String, EvalError> {
    let value: Value = crate::json::parse_json(text.as_bytes()).map_err(|e| {
        EvalError::fault(format!(
            "Error converting JSON to XML, please check your expressions return valid JSON: {e}"
        ))
    })?;
    let xml = json_as_xml(&value);
    let inner = match parse_document(&xml) {
        Ok(doc)
            if matches!(
                doc.root_element().tag_name().name(),
                "jsonObject" | "jsonArray"
            ) =>
        {
            doc.root_element()
                .children()
                .filter(|n| n.is_element())
                .map(|n| xml[n.range()].trim().to_string())
                .collect::<String>()
        }
        _ => xml.clone(),
    };
    Ok(escape_special_characters_of_xml(&inner))
}

/// RegexTemplateProcessor.convertXMLToJSON: `<jsonObject>value</jsonObject>` as JSON, then
/// escapeSpecialCharactersOfJson; XML that does not build falls back to escapeSpecialChars.
fn convert_xml_to_json(value: &str) -> String {
    let wrapped = format!("<jsonObject>{value}</jsonObject>");
    match parse_document(&wrapped) {
        Ok(doc) => {
            escape_special_characters_of_json(&crate::json::xml_to_json_text(doc.root_element()))
        }
        Err(_) => escape_special_chars(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_matches_are_non_greedy_and_single_line() {
        let matches = |t: &str| {
            let mut out = Vec::new();
            let mut from = 0;
            while let Some((_, a, b, end)) = next_inline_match(t, from) {
                out.push(t[a..b].to_string());
                from = end;
            }
            out
        };
        assert_eq!(matches("a ${x} b ${y}"), ["x", "y"]);
        assert_eq!(matches("${a}}"), ["a"]);
        assert_eq!(matches("${}}"), ["}"]);
        assert_eq!(matches("${a\nb} ${c}"), ["c"]);
        assert_eq!(matches("$${a}"), ["a"]);
        assert!(matches("${").is_empty());
        assert!(matches("${}").is_empty());
        assert_eq!(matches("é${é}"), ["é"]);
    }

    #[test]
    fn payload_matches_prefer_the_quoted_form() {
        let parts = |t: &str| {
            let mut out = Vec::new();
            let mut from = 0;
            while let Some((_, end, part)) = next_payload_match(t, from) {
                out.push(match part {
                    PayloadMatch::Expression { quoted, inner } => format!("{quoted}:{inner}"),
                    PayloadMatch::Argument { digits } => format!("arg:{digits}"),
                });
                from = end;
            }
            out
        };
        assert_eq!(
            parts(r#"{"a": "${x}", "b": ${y}, "c": $12}"#),
            ["true:x", "false:y", "arg:12"]
        );
        assert_eq!(parts(r#""x${y}""#), ["false:y"]);
        assert_eq!(parts("${a\nb}"), ["false:a\nb"]);
        assert_eq!(parts("${} $x"), Vec::<String>::new());
    }

    // The escape helpers and appendReplacement together, as MI produces text.
    #[test]
    fn escaping_matches_java_after_append_replacement() {
        let finish = |s: String| java::replacement(&s, &[Some("")]).expect("valid");
        let json_primitive =
            |s: &str| finish(primitive_replacement(&Value::String(s.into()), true));
        assert_eq!(json_primitive("John \"Doe\""), "John \\\"Doe\\\"");
        assert_eq!(json_primitive("a\\nb"), "a\\\\nb");
        assert_eq!(json_primitive("tab\there $5"), "tab\\there $5");
        assert_eq!(json_primitive("\\$"), "\\\\$");
        let xml_primitive =
            |s: &str| finish(primitive_replacement(&Value::String(s.into()), false));
        assert_eq!(xml_primitive("a\"<b>&'"), "a\\&quot;&lt;b&gt;&amp;&apos;");
        // escapeSpecialCharactersOfJson: only backslash sequences change.
        assert_eq!(
            finish(escape_special_characters_of_json("a \\\"b\\\" \\n")),
            "a \\\"b\\\" \\n"
        );
        assert_eq!(
            finish(escape_special_characters_of_json("say \"hi\"")),
            "say \"hi\""
        );
        assert!(
            java::replacement(&escape_special_characters_of_json("cost $5"), &[Some("")]).is_err()
        );
        assert_eq!(escape_xml10("a\u{1}b\u{80}"), "ab&#128;");
        assert_eq!(
            finish(escape_json(&java::quote_replacement("{\"a\":\"x\\ny\"}"))),
            "{\\\"a\\\":\\\"x\\\\ny\\\"}"
        );
        assert!(is_xml("<a>x</a>"));
        assert!(is_xml("<a/><b/>"));
        assert!(!is_xml("<a>"));
        assert!(!is_xml("x <a/>"));
        assert!(!is_xml("1 > 0"));
    }

    #[test]
    fn json_converts_to_xml_without_the_root() {
        assert_eq!(
            convert_json_to_xml(r#"{"a":1,"b":{"c":"x"}}"#).as_deref(),
            Ok("<a>1</a><b><c>x</c></b>")
        );
        assert!(convert_json_to_xml("{\\\"a\\\":1}").is_err_and(|e| e.is_fault()));
        assert_eq!(convert_xml_to_json("<a>1</a>"), r#"{"a":1}"#);
        assert_eq!(convert_xml_to_json("<a>1</b>"), "<a>1</b>");
    }
}
