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
mod names;
mod to_xml;

pub use eval::{JsonEval, JsonSource};
pub use from_xml::{try_xml_to_json, xml_to_json};
pub use to_xml::{JsonToXmlOptions, json_to_xml, json_to_xml_with, try_json_to_xml};

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
