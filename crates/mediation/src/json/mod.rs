//! JSON payloads as WSO2 MI handles them: the JSON <-> XML mapping that makes a JSON body visible to
//! XPath and turns XML back into JSON on the way out ([`json_to_xml`], [`xml_to_json`], following
//! Synapse commons `json/JsonUtil.java` and its staxon converters), and `json-eval(...)` with Jayway
//! JSONPath semantics on top of serde_json_path ([`JsonEval`], following
//! `util/xpath/SynapseJsonPath.java`), including the enrich mediator's JSON edits
//! (`mediators/elementary/Target.java`).

mod edit;
mod eval;
mod from_xml;
mod jayway;
pub mod members;
mod names;
mod to_xml;

pub use eval::{JsonEval, JsonSource, MAX_BRACKET_DEPTH};
pub use from_xml::{
    try_xml_to_json, xml_to_json, xml_to_json_text, xml_to_json_text_with, xml_to_json_with,
};
pub use to_xml::{JsonToXmlOptions, json_to_xml, json_to_xml_with, try_json_to_xml};

use regex::Regex;
use std::borrow::Cow;
use std::sync::{Arc, LazyLock, RwLock};

/// The JSON <-> XML settings MI reads once from `synapse.properties` (Synapse commons
/// `JsonUtil.generateJSONOutputFactory` / `generateJsonXMLInputFactory`), which `deployment.toml`'s
/// `[mediation] synapse.*` keys set (MI config tool `key-mappings.json`). The defaults are MI's.
#[derive(Debug, Clone)]
pub struct JsonSettings {
    /// `synapse.commons.json.preserve.namespace`: keep prefixes (`ns_name`) instead of
    /// `JsonUtil.removeNamespaces`.
    pub preserve_namespaces: bool,
    /// `synapse.commons.json.output.enableNSDeclarations`: with preserved namespaces, write
    /// declarations as `"@xmlns_p"` members.
    pub namespace_declarations: bool,
    /// `synapse.commons.json.output.namespaceSepChar` (`_`).
    pub namespace_separator: char,
    /// `synapse.commons.json.output.autoPrimitive`: number/boolean/null-looking text becomes
    /// that JSON primitive (staxon `AutoPrimitiveTarget`).
    pub auto_primitive: bool,
    /// `synapse.commons.json.output.jsonoutAutoArray`: adjacent same-name siblings make an array
    /// (staxon `AutoArrayTarget`); off, the key repeats.
    pub auto_array: bool,
    /// `synapse.commons.json.output.jsonoutMultiplePI`: `<?xml-multiple?>` starts an array.
    pub multiple_pi: bool,
    /// `synapse.commons.json.output.disableAutoPrimitive.regex`: text the whole of which matches
    /// stays a string (staxon `CustomRegexIgnoreAutoPrimitiveTarget`).
    pub disable_auto_primitive: Option<Regex>,
    /// `synapse.commons.json.json.output.disableAutoPrimitive.customReplaceRegex` and
    /// `...customReplaceSequence`: text whose start matches has that match replaced and stays a
    /// string (staxon `CustomRegexMatchReplaceIgnoreAutoPrimitiveTarget`).
    pub custom_replace: Option<(Regex, String)>,
    /// `synapse.commons.enableXmlNilReadWrite`: `xsi:nil="true"` <-> JSON `null`.
    pub xml_nil: bool,
    /// `synapse.commons.enableXmlNullForEmptyElement`: an empty element is `null` (else `""`).
    pub null_for_empty_element: bool,
    /// `synapse.commons.json.output.xmloutMultiplePI`: the XML view of a JSON body carries
    /// `<?xml-multiple?>` PIs.
    pub xml_out_multiple_pi: bool,
}

impl Default for JsonSettings {
    fn default() -> Self {
        JsonSettings {
            preserve_namespaces: false,
            namespace_declarations: false,
            namespace_separator: '_',
            auto_primitive: true,
            auto_array: true,
            multiple_pi: true,
            disable_auto_primitive: None,
            custom_replace: None,
            xml_nil: false,
            null_for_empty_element: true,
            xml_out_multiple_pi: false,
        }
    }
}

impl JsonSettings {
    /// `disableAutoPrimitive.regex` as staxon applies it: `Matcher.matches()`, the whole text.
    pub fn disable_auto_primitive_regex(pattern: &str) -> Result<Regex, regex::Error> {
        Regex::new(&format!("^(?:{pattern})$"))
    }

    /// `customReplaceRegex` as staxon applies it: `Matcher.lookingAt()`, from the start.
    pub fn custom_replace_regex(pattern: &str) -> Result<Regex, regex::Error> {
        Regex::new(&format!("^(?:{pattern})"))
    }
}

static SETTINGS: LazyLock<RwLock<Arc<JsonSettings>>> =
    LazyLock::new(|| RwLock::new(Arc::new(JsonSettings::default())));

/// Sets the process-wide JSON settings, as MI's static `JsonUtil` factories are process-wide
/// (the server sets them once at start-up from `deployment.toml`).
pub fn configure(settings: JsonSettings) {
    let mut current = SETTINGS.write().unwrap_or_else(|e| e.into_inner());
    *current = Arc::new(settings);
}

/// The process-wide JSON settings ([`configure`]; MI's defaults until then).
pub fn settings() -> Arc<JsonSettings> {
    SETTINGS.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Parses a JSON body as MI's reader does (staxon's `JsonScanner` takes any character but `"`
/// and `\` inside a string as itself): raw control characters inside strings, which JSON forbids
/// and serde_json rejects, are accepted (MI test TestJSONtoXMLwithUnicodeCharacters).
pub fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, serde_json::Error> {
    match serde_json::from_slice(bytes) {
        Ok(value) => Ok(value),
        Err(e) => match escape_raw_controls(bytes) {
            Cow::Owned(escaped) => serde_json::from_slice(&escaped).map_err(|_| e),
            Cow::Borrowed(_) => Err(e),
        },
    }
}

/// `bytes` with each control character inside a string literal written as `\u00XX`; borrowed
/// when there is none.
fn escape_raw_controls(bytes: &[u8]) -> Cow<'_, [u8]> {
    let mut in_string = false;
    let mut escaped = false;
    let mut out: Option<Vec<u8>> = None;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string && b < 0x20 {
            let out = out.get_or_insert_with(|| bytes[..i].to_vec());
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
            escaped = false;
            continue;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        }
        if let Some(out) = out.as_mut() {
            out.push(b);
        }
    }
    match out {
        Some(out) => Cow::Owned(out),
        None => Cow::Borrowed(bytes),
    }
}

/// Deepest nesting (objects/arrays, or elements) the conversions accept. serde_json's own parser
/// stops at 128; this bounds values built in code and XML from clients so recursion cannot
/// overflow the stack.
pub const MAX_JSON_DEPTH: usize = 512;

/// Errors of the JSON conversions, JSONPath compilation and JSON edits.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JsonError {
    /// A JSON value or XML element nests deeper than [`MAX_JSON_DEPTH`].
    #[error("{what} nests deeper than {limit} levels (MAX_JSON_DEPTH)")]
    TooDeep { what: &'static str, limit: usize },
    /// A JSONPath expression that cannot be parsed; `column` is 1-based in `text`.
    #[error("invalid JSONPath `{text}` at column {column}: {message}")]
    PathSyntax {
        text: String,
        column: usize,
        message: String,
    },
    /// An edit whose path selects nothing it could change.
    #[error("JSONPath `{path}` matches nothing in the payload")]
    NoMatch { path: String },
    /// `child` on a target that is neither an array nor an object (or object + non-object value).
    #[error(
        "cannot append to `{path}`: the target is {found}; only a JSON array (any value) or a JSON object (object value) can take a child"
    )]
    NotContainer { path: String, found: &'static str },
    /// An action MI does not perform on JSON targets.
    #[error("enrich action `{action}` on JSONPath `{path}` is not supported: {reason}")]
    Unsupported {
        path: String,
        action: &'static str,
        reason: &'static str,
    },
    /// XML with text beside child elements, which MI's JSON writer rejects.
    #[error(
        "element <{element}> mixes text {text:?} with child elements; MI's JSON formatter rejects mixed content"
    )]
    MixedContent { element: String, text: String },
}

/// Short name of a JSON value's type for messages.
pub(crate) fn type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // MI test TestJSONtoXMLwithUnicodeCharacters: raw U+0011 U+0012 in a string are accepted.
    #[test]
    fn raw_control_characters_in_strings_are_accepted() {
        let body = "{\n    \"response\":\"\u{11}\u{12}Test\"\n  }";
        assert!(serde_json::from_str::<serde_json::Value>(body).is_err());
        assert_eq!(
            parse_json(body.as_bytes()).expect("MI accepts it"),
            json!({"response": "\u{11}\u{12}Test"})
        );
        // A raw tab or newline inside a string too; an escaped quote does not end the string.
        assert_eq!(
            parse_json(b"[\"a\tb\\\"\nc\"]").expect("accepted"),
            json!(["a\tb\"\nc"])
        );
        // Whitespace between tokens is not touched, and broken JSON stays an error.
        assert_eq!(
            parse_json(b"{\n\t\"a\": 1\n}").expect("valid"),
            json!({"a": 1})
        );
        assert!(parse_json(b"{\"a\": \x01}").is_err());
        assert!(parse_json(b"<soapenv:Envelope/>").is_err());
    }

    #[test]
    fn regexes_are_anchored_as_java_applies_them() {
        let whole = JsonSettings::disable_auto_primitive_regex("[0-9]+").expect("valid");
        assert!(whole.is_match("123"));
        assert!(!whole.is_match("123a"));
        let start = JsonSettings::custom_replace_regex("@@@").expect("valid");
        assert!(start.is_match("@@@1"));
        assert!(!start.is_match("1@@@"));
    }
}
