//! The structural limits a message body is held to before mediation builds it: XML nesting
//! depth, attribute and namespace counts, node count; JSON nesting depth, keys per object, values
//! in total and the length of one number. The body size limit comes first
//! ([`super::payload::DEFAULT_MAX_MESSAGE_BYTES`], `[mediation] max_message_size`, 413); these
//! keep the time and memory one message of that size can cost linear in its size, where parsers
//! and path expressions would otherwise pay per level or per pair (a 1.6 MB body of nested
//! namespace declarations kept roxmltree busy for minutes; `//a` over 10,000 levels serialised
//! hundreds of megabytes). A body past a limit is answered 400, like a malformed one.
//!
//! Both checks are one pass over the bytes and decide nothing about well-formedness, which stays
//! the parsers' verdict.
//!
//! Also here: how many branches of one message run at once ([`DEFAULT_MAX_INFLIGHT_BRANCHES`]),
//! which the splitting mediators hold to (runtime/mediators/branches.rs).

use conflux_artifacts::xml_limits::{self, XmlLimitError, XmlLimits};

use super::payload::PayloadError;

/// Deepest element nesting of a message (the root is level 1): Woodstox's default
/// (`ReaderConfig.DEFAULT_MAX_ELEMENT_DEPTH`), the StAX parser MI builds messages with.
pub const MAX_XML_DEPTH: usize = 1000;

/// Most attributes on one element. Woodstox allows 1000, but roxmltree's duplicate check is
/// quadratic per element: 1000 elements of 1000 attributes (8 MB) cost 5 s of CPU per parse.
pub const MAX_XML_ATTRIBUTES_PER_ELEMENT: usize = 256;

/// Most attributes in one message, namespace declarations included.
pub const MAX_XML_ATTRIBUTES: usize = 1_000_000;

/// Most namespace bindings in scope on one element: roxmltree resolves every element and prefixed
/// attribute name by walking them. SOAP messages with WS-Security use a few dozen.
pub const MAX_XML_NAMESPACES_IN_SCOPE: usize = 128;

/// Most namespace bindings roxmltree copies onto elements that declare one (all bindings in scope
/// on each such element, summed): nested declarations grow it quadratically.
pub const MAX_XML_NAMESPACE_BINDINGS: usize = 1_000_000;

/// The most nodes one message document may have (roxmltree's `nodes_limit`: elements, text,
/// comments, instructions and the document node). 10 MiB of dense XML stays well under it.
pub const MAX_XML_NODES: u32 = 4_000_000;

/// Stack of each worker thread that mediates: the main thread's 8 MiB rather than tokio's 2 MiB,
/// so that sequences nested to `MAX_SEQUENCE_DEPTH` (each level polls a chain of mediator
/// futures) fit in a debug build too. It is address space; only the pages used are memory.
pub const WORKER_STACK_BYTES: usize = 8 * 1024 * 1024;

/// Most branches of one message that run at once, unless `[mediation] max_inflight_branches` says
/// otherwise: the parts of an `<iterate>` (`sequential="true"` runs one), the copies of a
/// `<clone>`, the branches of a `<scatter-gather>` and the iterations of a parallel `<foreach>`.
/// The others wait, unbuilt, and start as running ones end (runtime/mediators/branches.rs).
///
/// MI hands each branch to the Synapse worker pool (SYN `mediators/eip/Target.java`,
/// `injectAsync`), whose default is 20 core threads over an unbounded queue
/// (`util/concurrent/SynapseThreadPool.java` `SYNAPSE_CORE_THREADS`; MI's config tool
/// `default.json` `synapse.threads.core` = 20): a Java pool with an unbounded queue never grows
/// past its core threads, so at most 20 branches run at once there, for all messages together.
/// Conflux bounds each message instead (a split inside a split multiplies the bounds).
pub const DEFAULT_MAX_INFLIGHT_BRANCHES: usize = 20;

/// The limits of message XML, as one value for the scanner.
pub const MESSAGE_XML_LIMITS: XmlLimits = XmlLimits {
    max_depth: MAX_XML_DEPTH,
    max_attributes_per_element: MAX_XML_ATTRIBUTES_PER_ELEMENT,
    max_attributes: MAX_XML_ATTRIBUTES,
    max_namespaces_in_scope: MAX_XML_NAMESPACES_IN_SCOPE,
    max_namespace_bindings: MAX_XML_NAMESPACE_BINDINGS,
};

/// Deepest nesting of arrays and objects in a JSON message. serde_json refuses the 128th level on
/// its own (its recursion limit of 128), so this is the limit whether or not the scan runs; the
/// scan names it. (Jackson's `StreamReadConstraints` allow 1000.)
pub const MAX_JSON_MESSAGE_DEPTH: usize = 127;

/// Most keys in one JSON object.
pub const MAX_JSON_KEYS_PER_OBJECT: usize = 100_000;

/// Most values in one JSON message: every string, number, literal, array and object, object keys
/// included. A `serde_json::Value` takes 32 bytes or more each, and MI's XML view of JSON
/// (`<jsonArray><jsonElement>`) tens of bytes more.
pub const MAX_JSON_VALUES: usize = 1_000_000;

/// Longest number literal in a JSON message: Jackson's `StreamReadConstraints.DEFAULT_MAX_NUM_LEN`.
/// Longer ones are not needed to write any `f64` exactly and only make conversions work harder.
pub const MAX_JSON_NUMBER_LENGTH: usize = 1000;

/// Checks message XML against [`MESSAGE_XML_LIMITS`].
pub fn check_xml(text: &str) -> Result<(), PayloadError> {
    xml_over_limit(text).map_or(Ok(()), |detail| Err(refused("XML", detail)))
}

/// Which XML limit `text` crosses, and where.
fn xml_over_limit(text: &str) -> Option<String> {
    let e = xml_limits::check_structure(text, &MESSAGE_XML_LIMITS).err()?;
    let constant = match e {
        XmlLimitError::Depth { .. } => "MAX_XML_DEPTH",
        XmlLimitError::AttributesPerElement { .. } => "MAX_XML_ATTRIBUTES_PER_ELEMENT",
        XmlLimitError::Attributes { .. } => "MAX_XML_ATTRIBUTES",
        XmlLimitError::NamespacesInScope { .. } => "MAX_XML_NAMESPACES_IN_SCOPE",
        XmlLimitError::NamespaceBindings { .. } => "MAX_XML_NAMESPACE_BINDINGS",
    };
    Some(format!(
        "{e} ({constant}) at line {}",
        xml_limits::line_at(text, e.offset())
    ))
}

/// What the JSON scan saw besides the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JsonScan {
    /// Some object key starts with `@` (or with an escape that may spell one): MI's JSON-to-XML
    /// mapping makes those attributes and namespace declarations, so the XML view XPath sees has
    /// to pass the XML limits too ([`check_json_xml_view`]).
    pub attribute_keys: bool,
}

/// Checks JSON text against the JSON limits in one pass (strings are skipped, escapes honoured).
pub fn check_json(bytes: &[u8]) -> Result<JsonScan, PayloadError> {
    let mut scan = JsonScan::default();
    // Keys seen in each open object; `None` for an array. Never deeper than MAX_JSON_MESSAGE_DEPTH.
    let mut open: Vec<Option<usize>> = Vec::new();
    let mut values = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if values > MAX_JSON_VALUES {
            return Err(refused(
                "JSON",
                format!(
                    "the message has more than {MAX_JSON_VALUES} values (MAX_JSON_VALUES) at byte {i}"
                ),
            ));
        }
        let b = bytes[i];
        match b {
            b'"' => {
                values += 1;
                let may_be_attribute = matches!(bytes.get(i + 1), Some(b'@' | b'\\'));
                i = string_end(bytes, i + 1);
                if may_be_attribute
                    && bytes[i..].iter().find(|c| !c.is_ascii_whitespace()) == Some(&b':')
                {
                    scan.attribute_keys = true;
                }
                continue;
            }
            b'{' | b'[' => {
                values += 1;
                if open.len() == MAX_JSON_MESSAGE_DEPTH {
                    return Err(refused(
                        "JSON",
                        format!(
                            "arrays and objects nest deeper than {MAX_JSON_MESSAGE_DEPTH} levels (MAX_JSON_MESSAGE_DEPTH) at byte {i}"
                        ),
                    ));
                }
                open.push((b == b'{').then_some(0));
            }
            b'}' | b']' => {
                open.pop();
            }
            b':' => {
                if let Some(Some(keys)) = open.last_mut() {
                    *keys += 1;
                    if *keys > MAX_JSON_KEYS_PER_OBJECT {
                        return Err(refused(
                            "JSON",
                            format!(
                                "an object has more than {MAX_JSON_KEYS_PER_OBJECT} keys (MAX_JSON_KEYS_PER_OBJECT) at byte {i}"
                            ),
                        ));
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                values += 1;
                let start = i;
                while i < bytes.len()
                    && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                {
                    i += 1;
                }
                if i - start > MAX_JSON_NUMBER_LENGTH {
                    return Err(refused(
                        "JSON",
                        format!(
                            "a number is longer than {MAX_JSON_NUMBER_LENGTH} characters (MAX_JSON_NUMBER_LENGTH) at byte {start}"
                        ),
                    ));
                }
                continue;
            }
            b't' | b'f' | b'n' => values += 1,
            _ => {}
        }
        i += 1;
        // Letters of a literal (`true`) are not values of their own.
        while i < bytes.len() && b.is_ascii_lowercase() && bytes[i].is_ascii_lowercase() {
            i += 1;
        }
    }
    if values > MAX_JSON_VALUES {
        return Err(refused(
            "JSON",
            format!("the message has more than {MAX_JSON_VALUES} values (MAX_JSON_VALUES)"),
        ));
    }
    Ok(scan)
}

/// Checks the XML view of a JSON value (MI's mapping, as XPath sees it) against the XML limits:
/// `@` keys become attributes and namespace declarations, whose counts the JSON limits do not
/// bound as tightly (60,000 `@` keys in one object cost 10 s in roxmltree before this check).
pub fn check_json_xml_view(value: &serde_json::Value) -> Result<(), PayloadError> {
    let xml = super::payload::json_as_xml(value);
    xml_over_limit(&xml).map_or(Ok(()), |detail| {
        Err(refused(
            "JSON",
            format!("as XML (its `@` keys are attributes): {detail}"),
        ))
    })
}

/// The index just past the closing quote of the string whose content starts at `i`.
fn string_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn refused(kind: &'static str, detail: String) -> PayloadError {
    tracing::warn!(target: "conflux::mediation", "{kind} message refused: {detail}");
    PayloadError::OverLimit { kind, detail }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::payload::Payload;
    use bytes::Bytes;

    fn over_limit(result: Result<Payload, PayloadError>, constant: &str) {
        match result {
            Err(PayloadError::OverLimit { detail, .. }) => {
                assert!(detail.contains(constant), "{detail}")
            }
            other => panic!("expected {constant}, got {other:?}"),
        }
    }

    fn xml(text: String) -> Result<Payload, PayloadError> {
        Payload::parse(Bytes::from(text), Some("application/xml"))
    }

    fn json(text: String) -> Result<Payload, PayloadError> {
        Payload::parse(Bytes::from(text), Some("application/json"))
    }

    fn nested_xml(depth: usize) -> String {
        format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth))
    }

    fn element_with_attributes(n: usize) -> String {
        let attrs: String = (0..n).map(|i| format!(" a{i}=\"\"")).collect();
        format!("<e{attrs}/>")
    }

    #[test]
    fn xml_depth_at_the_limit_builds_and_one_more_is_refused() {
        assert!(xml(nested_xml(MAX_XML_DEPTH)).is_ok());
        over_limit(xml(nested_xml(MAX_XML_DEPTH + 1)), "MAX_XML_DEPTH");
        over_limit(xml(nested_xml(100_000)), "MAX_XML_DEPTH");
    }

    #[test]
    fn xml_attributes_per_element_at_the_limit_and_one_more() {
        let at = element_with_attributes(MAX_XML_ATTRIBUTES_PER_ELEMENT);
        assert!(xml(format!("<r>{at}</r>")).is_ok());
        let over = element_with_attributes(MAX_XML_ATTRIBUTES_PER_ELEMENT + 1);
        over_limit(
            xml(format!("<r>{over}</r>")),
            "MAX_XML_ATTRIBUTES_PER_ELEMENT",
        );
    }

    #[test]
    fn xml_attributes_in_total_at_the_limit_and_one_more() {
        let per = MAX_XML_ATTRIBUTES_PER_ELEMENT;
        let full = element_with_attributes(per).repeat(MAX_XML_ATTRIBUTES / per);
        let rest = element_with_attributes(MAX_XML_ATTRIBUTES % per);
        // The scan alone at the limit (parsing a million attributes is slow in a debug build).
        assert!(check_xml(&format!("<r>{full}{rest}</r>")).is_ok());
        over_limit(
            xml(format!("<r>{full}{rest}<e x=\"\"/></r>")),
            "(MAX_XML_ATTRIBUTES)",
        );
    }

    #[test]
    fn xml_namespaces_in_scope_at_the_limit_and_one_more() {
        let decls = |n: usize| -> String { (0..n).map(|i| format!(" xmlns:p{i}=\"u\"")).collect() };
        // Spread over nested elements so no element passes the attribute limit.
        let half = MAX_XML_NAMESPACES_IN_SCOPE / 2;
        let at = format!(
            "<a{}><b{}/></a>",
            decls(half),
            decls(half).replace("p", "q")
        );
        assert!(xml(at).is_ok());
        let over = format!(
            "<a{}><b{}/></a>",
            decls(half),
            decls(half + 1).replace("p", "q")
        );
        over_limit(xml(over), "MAX_XML_NAMESPACES_IN_SCOPE");
    }

    #[test]
    fn xml_namespace_bindings_at_the_limit_and_one_more() {
        // Siblings each declaring MAX_XML_NAMESPACES_IN_SCOPE / 2 under a root declaring the same
        // number: each copies the full in-scope set.
        let n = MAX_XML_NAMESPACES_IN_SCOPE;
        let decls: String = (0..n / 2).map(|i| format!(" xmlns:p{i}=\"u\"")).collect();
        let child = format!("<c{}/>", decls.replace("p", "q"));
        let per_child = n;
        let root_cost = n / 2;
        let children = (MAX_XML_NAMESPACE_BINDINGS - root_cost) / per_child;
        let body = child.repeat(children);
        assert!(check_xml(&format!("<r{decls}>{body}</r>")).is_ok());
        over_limit(
            xml(format!("<r{decls}>{body}{child}</r>")),
            "MAX_XML_NAMESPACE_BINDINGS",
        );
    }

    #[test]
    fn xml_nodes_at_the_limit_and_one_more() {
        // The document node and the root element count: MAX_XML_NODES - 2 children fill it.
        let children = MAX_XML_NODES as usize - 2;
        assert!(xml(format!("<r>{}</r>", "<a/>".repeat(children))).is_ok());
        let err = xml(format!("<r>{}</r>", "<a/>".repeat(children + 1))).unwrap_err();
        assert!(
            matches!(&err, PayloadError::Malformed { detail, .. } if detail.contains("nodes limit")),
            "{err:?}"
        );
    }

    #[test]
    fn billion_laughs_and_external_entities_are_refused_without_expansion() {
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>"#;
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]><r>&x;</r>"#;
        for text in [laughs, xxe] {
            let err = xml(text.to_string()).unwrap_err();
            assert!(
                matches!(&err, PayloadError::Malformed { detail, .. } if detail.contains("DTD")),
                "{err:?}"
            );
        }
    }

    fn nested_json(depth: usize) -> String {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn json_depth_at_the_limit_builds_and_one_more_is_refused() {
        assert!(json(nested_json(MAX_JSON_MESSAGE_DEPTH)).is_ok());
        over_limit(
            json(nested_json(MAX_JSON_MESSAGE_DEPTH + 1)),
            "MAX_JSON_MESSAGE_DEPTH",
        );
        over_limit(json(nested_json(100_000)), "MAX_JSON_MESSAGE_DEPTH");
        // Brackets inside strings are text.
        let text = format!("{{\"a\":\"{}\"}}", "[{".repeat(1000));
        assert!(json(text).is_ok());
    }

    #[test]
    fn json_keys_per_object_at_the_limit_and_one_more() {
        let object = |n: usize| -> String {
            let keys: Vec<String> = (0..n).map(|i| format!("\"k{i}\":0")).collect();
            format!("{{{}}}", keys.join(","))
        };
        assert!(json(object(MAX_JSON_KEYS_PER_OBJECT)).is_ok());
        over_limit(
            json(object(MAX_JSON_KEYS_PER_OBJECT + 1)),
            "MAX_JSON_KEYS_PER_OBJECT",
        );
        // A colon inside a string is not a key.
        assert!(check_json(format!("{{\"a\":\"{}\"}}", ":".repeat(200_000)).as_bytes()).is_ok());
    }

    #[test]
    fn json_values_at_the_limit_and_one_more() {
        // The array itself is one value.
        let array = |n: usize| format!("[{}]", vec!["0"; n].join(","));
        assert!(json(array(MAX_JSON_VALUES - 1)).is_ok());
        over_limit(json(array(MAX_JSON_VALUES)), "MAX_JSON_VALUES");
        let literals = format!("[{}]", vec!["true"; MAX_JSON_VALUES - 1].join(","));
        assert!(check_json(literals.as_bytes()).is_ok());
    }

    #[test]
    fn json_number_length_at_the_limit_and_one_more() {
        // `0.999…`: a long literal that is still a finite f64.
        let digits = |n: usize| format!("{{\"n\":0.{}}}", "9".repeat(n - 2));
        assert!(json(digits(MAX_JSON_NUMBER_LENGTH)).is_ok());
        over_limit(
            json(digits(MAX_JSON_NUMBER_LENGTH + 1)),
            "MAX_JSON_NUMBER_LENGTH",
        );
        over_limit(json(digits(100_000)), "MAX_JSON_NUMBER_LENGTH");
    }

    #[test]
    fn attribute_keys_are_held_to_the_xml_limits() {
        let object = |n: usize, prefix: &str| -> String {
            let keys: Vec<String> = (0..n).map(|i| format!("\"{prefix}a{i}\":\"\"")).collect();
            format!("{{\"r\":{{{}}}}}", keys.join(","))
        };
        assert!(json(object(MAX_XML_ATTRIBUTES_PER_ELEMENT, "@")).is_ok());
        over_limit(
            json(object(MAX_XML_ATTRIBUTES_PER_ELEMENT + 1, "@")),
            "MAX_XML_ATTRIBUTES_PER_ELEMENT",
        );
        // `\u0040` is `@` too.
        over_limit(
            json(object(MAX_XML_ATTRIBUTES_PER_ELEMENT + 1, "\\u0040")),
            "MAX_XML_ATTRIBUTES_PER_ELEMENT",
        );
        // Plain keys are elements, and `@` inside values is text.
        assert!(json(object(MAX_XML_ATTRIBUTES_PER_ELEMENT + 1, "")).is_ok());
        let scan = check_json(br#"{"a": "@x", "b": ["@y"]}"#).unwrap();
        assert!(!scan.attribute_keys);
        assert!(check_json(br#"{"@a" : 1}"#).unwrap().attribute_keys);
    }

    #[test]
    fn huge_exponents_are_malformed_not_infinite() {
        // serde_json refuses a number out of f64 range; short, so no limit is involved.
        for text in ["[1e999999]", "[-1e999999]", "[1e-999999]"] {
            match json(text.to_string()) {
                Ok(Payload::Json(v)) => assert!(v.value()[0].as_f64().is_some_and(f64::is_finite)),
                Err(PayloadError::Malformed { .. }) => {}
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
