//! XML -> JSON as MI's JSON formatter writes it (Synapse commons `json/JsonUtil.java`
//! `writeAsJson` + staxon `JsonXMLStreamWriter`, `AutoArrayTarget`, `AutoPrimitiveTarget`,
//! `stream/impl/JsonStreamTargetImpl.java`), under the [`JsonSettings`] MI reads from
//! `synapse.properties` (`JsonUtil.generateJSONOutputFactory`). With MI's defaults: namespaces and
//! prefixes are dropped (`removeNamespaces`), whitespace-only text is dropped
//! (`removeIndentations`), attributes become `"@name"` strings, text beside attributes becomes
//! `"$"`, adjacent same-name siblings and `<?xml-multiple?>` PIs make arrays, text that looks like
//! a number/`true`/`false`/`null` becomes that primitive (a number keeps the digits
//! `BigDecimal.toString` gives: `25.0000` stays `25.0000`, `25e1` is `2.5E+2`), an empty element
//! becomes `null`, and an object whose first key is `jsonObject`, `jsonArray` or `jsonElement` is
//! replaced by that key's value (JsonStreamTargetImpl.name skips the braces), which unwraps MI's
//! own wrappers.
//!
//! The conversion builds MI's output first ([`Out`]: numbers as text, keys that may repeat when
//! `jsonoutAutoArray` is off), then writes it as text ([`xml_to_json_text`], what the formatter
//! sends) or as a `serde_json::Value` ([`xml_to_json`], what JSONPath and enrich work on; a
//! repeated key keeps its last value there, as JSON readers do).

use super::names::xml_name_to_key;
use super::{JsonError, JsonSettings, MAX_JSON_DEPTH, settings};
use regex::Regex;
use roxmltree::{Node, NodeType};
use serde_json::{Map, Number, Value};
use std::sync::LazyLock;

const MULTIPLE_PI_TARGET: &str = "xml-multiple";
const WRAPPER_NAMES: [&str; 3] = ["jsonObject", "jsonArray", "jsonElement"];
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// AutoPrimitiveTarget's number pattern.
static NUMBER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$").ok());

/// MI's XML -> JSON with the process-wide settings, lenient where MI fails: text mixed with child
/// elements is kept as `"$"` (MI rejects it) and an element nested deeper than
/// [`MAX_JSON_DEPTH`] gives `null`. Use [`try_xml_to_json`] to get those as errors.
pub fn xml_to_json(element: Node) -> Value {
    xml_to_json_with(element, &settings())
}

/// [`xml_to_json`] with explicit settings.
pub fn xml_to_json_with(element: Node, settings: &JsonSettings) -> Value {
    convert(element, false, settings).map_or(Value::Null, Out::into_value)
}

/// MI's XML -> JSON, failing where MI fails (mixed content) and beyond [`MAX_JSON_DEPTH`].
pub fn try_xml_to_json(element: Node) -> Result<Value, JsonError> {
    convert(element, true, &settings()).map(Out::into_value)
}

/// The JSON text MI's formatter writes for `element` (compact, numbers as `BigDecimal` prints
/// them, keys repeated where `jsonoutAutoArray` is off), lenient as [`xml_to_json`].
pub fn xml_to_json_text(element: Node) -> String {
    xml_to_json_text_with(element, &settings())
}

/// [`xml_to_json_text`] with explicit settings.
pub fn xml_to_json_text_with(element: Node, settings: &JsonSettings) -> String {
    match convert(element, false, settings) {
        Ok(Out::Raw(text)) => text,
        Ok(out) => {
            let mut text = String::new();
            out.write(&mut text);
            text
        }
        Err(_) => "null".to_string(),
    }
}

/// JSON as MI's writer produces it.
#[derive(Debug, Clone, PartialEq)]
enum Out {
    Null,
    Bool(bool),
    /// The number's text as MI writes it (`BigDecimal.toString`).
    Number(String),
    String(String),
    Array(Vec<Out>),
    /// Members in document order; a key may repeat.
    Object(Vec<(String, Out)>),
    /// A `<jsonValue>` root: its JSON text, written as is.
    Raw(String),
}

impl Out {
    fn write(&self, out: &mut String) {
        match self {
            Out::Null => out.push_str("null"),
            Out::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Out::Number(text) | Out::Raw(text) => out.push_str(text),
            Out::String(s) => push_string(out, s),
            Out::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Out::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    push_string(out, key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    fn into_value(self) -> Value {
        match self {
            Out::Null => Value::Null,
            Out::Bool(b) => Value::Bool(b),
            Out::Number(text) => parse_number(&text).map_or(Value::String(text), Value::Number),
            Out::String(s) => Value::String(s),
            Out::Raw(text) => serde_json::from_str(text.trim()).unwrap_or(Value::String(text)),
            Out::Array(items) => Value::Array(items.into_iter().map(Out::into_value).collect()),
            Out::Object(members) => {
                let mut object = Map::new();
                for (key, value) in members {
                    // A repeated key: JSON readers keep the last value.
                    object.insert(key, value.into_value());
                }
                Value::Object(object)
            }
        }
    }
}

/// A JSON string as JsonStreamTargetImpl.encode writes it: `"` and `\` escaped, the usual short
/// escapes, other control characters as `\uXXXX`, everything else as is.
fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn convert(node: Node, strict: bool, settings: &JsonSettings) -> Result<Out, JsonError> {
    let element = match node.node_type() {
        NodeType::Element => node,
        NodeType::Root => match node.children().find(Node::is_element) {
            Some(element) => element,
            None => return Ok(Out::Null),
        },
        _ => {
            return Ok(node
                .text()
                .map_or(Out::Null, |t| Out::String(t.to_string())));
        }
    };
    let name = element.tag_name().name();
    if name == "jsonValue" {
        // JsonUtil.convertOMElementToJson writes a jsonValue element's text as is.
        let text = element_text(element);
        return Ok(match serde_json::from_str::<Value>(text.trim()) {
            Ok(_) => Out::Raw(text.trim().to_string()),
            Err(_) => Out::String(text),
        });
    }
    let walker = Walker { strict, settings };
    let value = walker.element_value(element, 1)?;
    let key = walker.field_name(element);
    if WRAPPER_NAMES.contains(&key.as_str()) {
        return Ok(value);
    }
    Ok(Out::Object(vec![(key, value)]))
}

fn element_text(element: Node) -> String {
    element
        .children()
        .filter(Node::is_text)
        .filter_map(|n| n.text())
        .collect()
}

/// Array state while walking an element's children.
struct OpenMember {
    key: String,
    /// The element name or PI data that continues this member.
    raw: String,
    values: Vec<Out>,
    /// Started by an `xml-multiple` PI: an array even with 0 or 1 items.
    explicit: bool,
}

struct Walker<'s> {
    strict: bool,
    settings: &'s JsonSettings,
}

impl Walker<'_> {
    /// JsonXMLStreamWriter.getFieldName: the local name, with `prefix` + separator in front when
    /// namespaces are preserved (`synapse.commons.json.preserve.namespace`).
    #[inline(never)]
    fn field_name(&self, element: Node) -> String {
        let local = xml_name_to_key(element.tag_name().name());
        match element.tag_name().namespace() {
            Some(uri) if self.settings.preserve_namespaces => match element_prefix(element, uri) {
                Some(prefix) => format!("{prefix}{}{local}", self.settings.namespace_separator),
                None => local,
            },
            _ => local,
        }
    }

    /// The `"@..."` members of `element` (namespace declarations, then attributes) and whether
    /// it is nil. Kept out of [`Walker::element_value`] so that the recursion's frames stay small.
    #[inline(never)]
    fn attribute_members(&self, element: Node) -> (Vec<(String, Out)>, bool) {
        let settings = self.settings;
        let mut members: Vec<(String, Out)> = Vec::new();
        let mut nil = false;
        if settings.preserve_namespaces && settings.namespace_declarations {
            // JsonXMLStreamWriter.writeNsDecl: "@xmlns" / "@xmlns_p" before the attributes.
            for (prefix, uri) in declared_namespaces(element) {
                if settings.xml_nil && uri == XSI_NS {
                    continue;
                }
                let key = match prefix {
                    Some(prefix) => format!("@xmlns{}{prefix}", settings.namespace_separator),
                    None => "@xmlns".to_string(),
                };
                members.push((key, Out::String(uri.to_string())));
            }
        }
        for attribute in element.attributes() {
            // JsonXMLStreamWriter.writeAttribute: xsi:nil="true" (or nil="true" once
            // removeNamespaces dropped the namespace) makes the element null.
            let nil_namespace = match attribute.namespace() {
                None => true,
                Some(uri) => uri == XSI_NS || !settings.preserve_namespaces,
            };
            if settings.xml_nil
                && nil_namespace
                && attribute.name() == "nil"
                && attribute.value() == "true"
            {
                nil = true;
                continue;
            }
            let local = xml_name_to_key(attribute.name());
            let name = match attribute.namespace() {
                Some(uri) if settings.preserve_namespaces => match element.lookup_prefix(uri) {
                    Some(prefix) if !prefix.is_empty() => {
                        format!("{prefix}{}{local}", settings.namespace_separator)
                    }
                    _ => local,
                },
                _ => local,
            };
            members.push((
                format!("@{name}"),
                Out::String(attribute.value().to_string()),
            ));
        }
        (members, nil)
    }

    fn element_value(&self, element: Node, depth: usize) -> Result<Out, JsonError> {
        if depth > MAX_JSON_DEPTH {
            return Err(JsonError::TooDeep {
                what: "XML element",
                limit: MAX_JSON_DEPTH,
            });
        }
        let settings = self.settings;
        let (mut members, nil) = self.attribute_members(element);
        let mut text = String::new();
        let mut has_children = false;
        let mut open: Option<OpenMember> = None;
        let mut pending_unnamed_pi = false;
        for child in element.children() {
            match child.node_type() {
                NodeType::Text => {
                    let piece = child.text().unwrap_or_default();
                    if !piece.trim().is_empty() {
                        text.push_str(piece);
                    }
                }
                NodeType::PI => {
                    let Some(pi) = child
                        .pi()
                        .filter(|pi| settings.multiple_pi && pi.target == MULTIPLE_PI_TARGET)
                    else {
                        continue;
                    };
                    has_children = true;
                    close_member(&mut members, open.take());
                    match pi.value.map(str::trim).filter(|data| !data.is_empty()) {
                        Some(data) => {
                            open = Some(OpenMember {
                                key: xml_name_to_key(data),
                                raw: data.to_string(),
                                values: Vec::new(),
                                explicit: true,
                            });
                        }
                        None => pending_unnamed_pi = true,
                    }
                }
                NodeType::Element => {
                    has_children = true;
                    let raw = child.tag_name().name();
                    let key = self.field_name(child);
                    let value = self.element_value(child, depth + 1)?;
                    match open.as_mut() {
                        // AutoArrayTarget merges adjacent same-name members; an explicit (PI)
                        // array takes them whatever jsonoutAutoArray says.
                        Some(member)
                            if (member.explicit || settings.auto_array)
                                && (member.key == key || member.raw == raw) =>
                        {
                            member.values.push(value)
                        }
                        _ => {
                            close_member(&mut members, open.take());
                            open = Some(OpenMember {
                                key,
                                raw: raw.to_string(),
                                values: vec![value],
                                explicit: std::mem::take(&mut pending_unnamed_pi),
                            });
                        }
                    }
                }
                NodeType::Comment | NodeType::Root => {}
            }
        }
        close_member(&mut members, open.take());
        if nil && !has_children && text.is_empty() {
            return Ok(Out::Null);
        }
        if members.is_empty() && !has_children {
            return Ok(if text.is_empty() {
                // JsonXMLStreamWriter.writeEndElementTag: xmlWriteNullForEmptyElement.
                if settings.null_for_empty_element {
                    Out::Null
                } else {
                    Out::String(String::new())
                }
            } else {
                primitive(&text, settings)
            });
        }
        if !text.is_empty() {
            if has_children && self.strict {
                return Err(JsonError::MixedContent {
                    element: element.tag_name().name().to_string(),
                    text,
                });
            }
            members.push(("$".to_string(), primitive(&text, settings)));
        }
        if members.len() == 1 && WRAPPER_NAMES.contains(&members[0].0.as_str()) {
            return Ok(members.pop().map_or(Out::Null, |(_, value)| value));
        }
        Ok(Out::Object(members))
    }
}

/// The prefix `element` is written with for namespace `uri`: none for the default namespace.
fn element_prefix<'a>(element: Node<'a, '_>, uri: &str) -> Option<&'a str> {
    if element.lookup_namespace_uri(None) == Some(uri) {
        return None;
    }
    element
        .namespaces()
        .find(|ns| ns.uri() == uri && ns.name().is_some())
        .and_then(|ns| ns.name())
}

/// The namespaces declared on `element` itself (in scope there, not in its parent element).
fn declared_namespaces<'a>(element: Node<'a, '_>) -> Vec<(Option<&'a str>, &'a str)> {
    let parent = element.parent_element();
    element
        .namespaces()
        .filter(|ns| ns.name() != Some("xml"))
        .filter(|ns| {
            parent.is_none_or(|p| {
                !p.namespaces()
                    .any(|pns| pns.name() == ns.name() && pns.uri() == ns.uri())
            })
        })
        .map(|ns| (ns.name(), ns.uri()))
        .collect()
}

fn close_member(members: &mut Vec<(String, Out)>, member: Option<OpenMember>) {
    let Some(mut member) = member else { return };
    let value = if member.explicit || member.values.len() > 1 {
        Out::Array(member.values)
    } else {
        member.values.pop().unwrap_or(Out::Null)
    };
    // A later non-adjacent sibling of the same name: MI writes the key twice.
    members.push((member.key, value));
}

/// The primitive staxon's target chain makes of element text (JsonXMLOutputFactory.decorate):
/// nothing without autoPrimitive; else the disable regex (CustomRegexIgnoreAutoPrimitiveTarget)
/// or the custom replace regex (CustomRegexMatchReplaceIgnoreAutoPrimitiveTarget) first, then
/// AutoPrimitiveTarget's "true"/"false"/"null" and numbers (as `new BigDecimal(text)`).
fn primitive(text: &str, settings: &JsonSettings) -> Out {
    if !settings.auto_primitive {
        return Out::String(text.to_string());
    }
    if let Some(regex) = &settings.disable_auto_primitive {
        if regex.is_match(text) {
            return Out::String(text.to_string());
        }
    } else if let Some((regex, replacement)) = &settings.custom_replace
        && regex.is_match(text)
    {
        return Out::String(regex.replacen(text, 1, replacement.as_str()).into_owned());
    }
    auto_primitive(text)
}

/// AutoPrimitiveTarget.value: "true"/"false"/"null" and numbers become JSON primitives.
fn auto_primitive(text: &str) -> Out {
    match text {
        "true" => Out::Bool(true),
        "false" => Out::Bool(false),
        "null" => Out::Null,
        _ if NUMBER.as_ref().is_some_and(|re| re.is_match(text)) => {
            Out::Number(big_decimal_text(text).unwrap_or_else(|| text.to_string()))
        }
        _ => Out::String(text.to_string()),
    }
}

/// `new BigDecimal(text).toString()` for text matching the number pattern: the unscaled digits
/// and scale of the text, printed plain when the scale is not negative and the adjusted exponent
/// is at least -6, else in scientific notation (`25e1` -> `2.5E+2`, `1e-7` -> `1E-7`).
/// `None` when the exponent does not fit.
fn big_decimal_text(text: &str) -> Option<String> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], unsigned[at + 1..].parse::<i64>().ok()?),
        None => (unsigned, 0),
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let scale = i64::try_from(fraction.len()).ok()?.checked_sub(exponent)?;
    i32::try_from(scale).ok()?;
    let all_digits = format!("{integer}{fraction}");
    let digits = match all_digits.trim_start_matches('0') {
        "" => "0",
        digits => digits,
    };
    let count = i64::try_from(digits.len()).ok()?;
    let mut out = String::with_capacity(digits.len() + 8);
    if negative && digits != "0" {
        out.push('-');
    }
    let adjusted = (count - 1).checked_sub(scale)?;
    if scale == 0 {
        out.push_str(digits);
    } else if scale > 0 && adjusted >= -6 {
        let scale = usize::try_from(scale).ok()?;
        if digits.len() > scale {
            let point = digits.len() - scale;
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', scale - digits.len()));
            out.push_str(digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('E');
        if adjusted > 0 {
            out.push('+');
        }
        out.push_str(&adjusted.to_string());
    }
    Some(out)
}

/// Integers exactly (serde_json), others with std's correctly rounded `f64` parsing (serde_json's
/// default float parser can be off by one ulp). Out-of-range values stay strings.
fn parse_number(text: &str) -> Option<Number> {
    if text.contains(['.', 'e', 'E']) {
        text.parse::<f64>().ok().and_then(Number::from_f64)
    } else {
        serde_json::from_str::<Number>(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::super::to_xml::{JsonToXmlOptions, json_to_xml, json_to_xml_with};
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn convert_text(xml: &str) -> Value {
        let doc = roxmltree::Document::parse(xml).expect("test XML parses");
        xml_to_json(doc.root_element())
    }

    fn round_trip(value: &Value) -> Value {
        convert_text(&json_to_xml(value))
    }

    // MI docs "JSON support" / XMLToJsonTestCase: a plain root element is kept as the top key.
    #[test]
    fn other_root_elements_become_a_named_member() {
        assert_eq!(
            convert_text("<getQuote><request><symbol>IBM</symbol></request></getQuote>"),
            json!({"getQuote": {"request": {"symbol": "IBM"}}})
        );
    }

    // wso2-synapse modules/commons/src/test/.../json/JsonFormatterTest.java, expected outputs
    // (numbers compared as values: serde_json does not keep "4.00"'s trailing zeros).
    const PIZZA_TOPPING: &str = "<topping>\n <id>9999</id>\n <name>Steak</name>\n <extraPrice>4.00</extraPrice>\n <category>NONVEG</category>\n </topping>";

    fn pizza(toppings: &str) -> String {
        format!(
            "<pizza>\n <name>Meat Sizzler</name>\n <price>500.0</price>\n <toppings>\n {toppings}\n </toppings>\n</pizza>"
        )
    }

    fn expected(json: &str) -> Value {
        serde_json::from_str(json).expect("expected JSON parses")
    }

    const JSON_OUT_1: &str = r#"{"pizza":{"name":"Meat Sizzler","price":500.0,"toppings":{"topping":{"id":9999,"name":"Steak","extraPrice":4.00,"category":"NONVEG"}}}}"#;

    #[test]
    fn json_formatter_test_case3_single_child_is_not_an_array() {
        assert_eq!(convert_text(&pizza(PIZZA_TOPPING)), expected(JSON_OUT_1));
    }

    #[test]
    fn json_formatter_test_case4_and_5_empty_sibling_is_null_in_the_array() {
        let json_out_2 = r#"{"pizza":{"name":"Meat Sizzler","price":500.0,"toppings":{"topping":[{"id":9999,"name":"Steak","extraPrice":4.00,"category":"NONVEG"},null]}}}"#;
        assert_eq!(
            convert_text(&pizza(&format!("{PIZZA_TOPPING}<topping/>"))),
            expected(json_out_2)
        );
        assert_eq!(
            convert_text(&pizza(&format!("{PIZZA_TOPPING}<topping></topping>"))),
            expected(json_out_2)
        );
    }

    #[test]
    fn json_formatter_test_case6_to_8_wrappers() {
        let inner = pizza(PIZZA_TOPPING);
        assert_eq!(
            convert_text(&format!("<jsonObject>\n {inner}\n</jsonObject>")),
            expected(JSON_OUT_1)
        );
        // One jsonElement without a PI is not an array: the output is the element itself.
        assert_eq!(
            convert_text(&format!(
                "<jsonArray>\n <jsonElement>\n {inner}\n </jsonElement>\n</jsonArray>"
            )),
            expected(JSON_OUT_1)
        );
        assert_eq!(
            convert_text(&format!(
                "<jsonArray>\n <jsonElement>\n {inner}\n </jsonElement>\n <jsonElement/>\n</jsonArray>"
            )),
            Value::Array(vec![expected(JSON_OUT_1), Value::Null])
        );
        // testWriteTo.
        assert_eq!(
            convert_text(
                "<jsonArray><jsonElement>10</jsonElement><jsonElement>20</jsonElement></jsonArray>"
            ),
            json!([10, 20])
        );
    }

    #[test]
    fn json_formatter_test_case9_to_12_attributes_text_and_empty() {
        // nil="true" without synapse.commons.enableXmlNilReadWrite is an ordinary attribute.
        assert_eq!(
            convert_text("<root>\n <abc nil=\"true\"></abc>\n</root>"),
            expected(r#"{"root":{"abc":{"@nil":"true"}}}"#)
        );
        assert_eq!(
            convert_text("<pizza name=\"Meat Sizzler\">\n <price>500.0</price>\n</pizza>"),
            expected(r#"{"pizza":{"@name":"Meat Sizzler","price":500.0}}"#)
        );
        assert_eq!(
            convert_text("<pizza-topping category=\"NONVEG\">Steak</pizza-topping>"),
            expected(r#"{"pizza-topping":{"@category":"NONVEG","$":"Steak"}}"#)
        );
        assert_eq!(
            convert_text(
                "<pizza> <name>Meat Sizzler</name>\n <description></description>\n</pizza>"
            ),
            expected(r#"{"pizza":{"name":"Meat Sizzler","description":null}}"#)
        );
        // testGetBytesXML.
        assert_eq!(convert_text("<name>WSO2</name>"), json!({"name": "WSO2"}));
    }

    // JsonBuilderTest testCase2: jsonOut -> XML with PIs (xmlOutWithPI) and back.
    #[test]
    fn json_builder_test_case2_pizza_round_trip() {
        let xml_out_with_pi = "<jsonObject><pizza><name>Meat Sizzler</name><price>500.0</price><toppings><?xml-multiple  topping?><topping><id>9999</id><name>Steak</name><extraPrice>4.00</extraPrice><category>NONVEG</category></topping><topping><id>9998</id><name>Sun Dried Tomato</name><extraPrice>4.00</extraPrice><category>VEGETARIAN</category></topping></toppings></pizza></jsonObject>";
        let json_out = expected(
            r#"{"pizza":{"name":"Meat Sizzler","price":500.0,"toppings":{"topping":[{"id":9999,"name":"Steak","extraPrice":4.00,"category":"NONVEG"},{"id":9998,"name":"Sun Dried Tomato","extraPrice":4.00,"category":"VEGETARIAN"}]}}}"#,
        );
        assert_eq!(convert_text(xml_out_with_pi), json_out);
        assert_eq!(round_trip(&json_out), json_out);
        // JsonBuilderTest testCase: a one-item array keeps its PI.
        assert_eq!(
            convert_text(
                "<jsonObject><id>0001</id><ok>true</ok><amount>5250</amount><?xml-multiple  url?><url>http://org.wso2.json/32_32</url></jsonObject>"
            ),
            json!({"id": "0001", "ok": true, "amount": 5250, "url": ["http://org.wso2.json/32_32"]})
        );
    }

    #[test]
    fn wrapper_roots_are_unwrapped() {
        assert_eq!(
            convert_text("<jsonObject><a>1</a></jsonObject>"),
            json!({"a": 1})
        );
        assert_eq!(
            convert_text(
                "<jsonArray><jsonElement>1</jsonElement><jsonElement>x</jsonElement></jsonArray>"
            ),
            json!([1, "x"])
        );
        assert_eq!(convert_text("<jsonValue>\"s\"</jsonValue>"), json!("s"));
        assert_eq!(convert_text("<jsonValue>12</jsonValue>"), json!(12));
    }

    // JsonXMLStreamWriter.writeAttr ('@' + name, attributes not auto-primitive) and
    // writeEndElementTag (text beside attributes as "$", auto-primitive).
    #[test]
    fn attributes_and_text() {
        assert_eq!(
            convert_text(r#"<r><price currency="USD" n="1">12.5</price></r>"#),
            json!({"r": {"price": {"@currency": "USD", "@n": "1", "$": 12.5}}})
        );
    }

    // AutoArrayTarget: adjacent siblings with one name -> array; single -> scalar.
    #[test]
    fn repeated_siblings_and_multiple_pis_make_arrays() {
        assert_eq!(
            convert_text("<r><a>1</a><a>2</a><b>3</b></r>"),
            json!({"r": {"a": [1, 2], "b": 3}})
        );
        assert_eq!(
            convert_text("<r><?xml-multiple a?><a>1</a><b/></r>"),
            json!({"r": {"a": [1], "b": null}})
        );
        assert_eq!(
            convert_text("<r><?xml-multiple a?><b>x</b></r>"),
            json!({"r": {"a": [], "b": "x"}})
        );
        assert_eq!(
            convert_text("<r><?xml-multiple?><c>1</c></r>"),
            json!({"r": {"c": [1]}})
        );
    }

    // JsonUtil.removeNamespaces / removeIndentations; AutoPrimitiveTarget; writeNullForEmptyElement.
    #[test]
    fn namespaces_whitespace_primitives_and_empty_elements() {
        let xml = r#"<m:order xmlns:m="urn:o" xmlns:x="urn:x">
            <m:id>007</m:id> <m:qty>3</m:qty> <m:ok>true</m:ok> <m:no>null</m:no>
            <m:big>1e5</m:big> <m:empty/> <m:blank>   </m:blank> <m:item x:code="A"> padded </m:item>
            <!-- comment --><![CDATA[]]>
        </m:order>"#;
        assert_eq!(
            convert_text(xml),
            json!({"order": {"id": "007", "qty": 3, "ok": true, "no": null, "big": 1e5,
                "empty": null, "blank": null, "item": {"@code": "A", "$": " padded "}}})
        );
    }

    #[test]
    fn escaped_names_are_decoded() {
        assert_eq!(
            convert_text(
                "<jsonObject><_JsonReader_PD_1st>a</_JsonReader_PD_1st><_JsonReader_PS_id>b</_JsonReader_PS_id></jsonObject>"
            ),
            json!({"1st": "a", "$id": "b"})
        );
    }

    #[test]
    fn mixed_content_is_an_error_when_strict() {
        let doc = roxmltree::Document::parse("<r>text<a>1</a></r>").expect("parses");
        assert_eq!(
            try_xml_to_json(doc.root_element()),
            Err(JsonError::MixedContent {
                element: "r".into(),
                text: "text".into()
            })
        );
        assert_eq!(
            xml_to_json(doc.root_element()),
            json!({"r": {"a": 1, "$": "text"}})
        );
    }

    fn text_with(xml: &str, settings: &JsonSettings) -> String {
        let doc = roxmltree::Document::parse(xml).expect("test XML parses");
        xml_to_json_text_with(doc.root_element(), settings)
    }

    fn text(xml: &str) -> String {
        text_with(xml, &JsonSettings::default())
    }

    // MI test XMLToJsonTestCase: AutoPrimitiveTarget writes new BigDecimal(text), whose toString
    // keeps the digits as written.
    #[test]
    fn numbers_keep_big_decimal_text() {
        assert_eq!(
            text(
                "<location>\n <name>Bermuda Triangle</name>\n <n>25.0000</n>\n <w>71.0000</w>\n</location>"
            ),
            r#"{"location":{"name":"Bermuda Triangle","n":25.0000,"w":71.0000}}"#
        );
        // JsonFormatterTest expectations, now as text.
        assert_eq!(text(&pizza(PIZZA_TOPPING)), JSON_OUT_1);
    }

    // java.math.BigDecimal(String).toString(): plain when scale >= 0 and the adjusted exponent is
    // >= -6, scientific otherwise.
    #[test]
    fn big_decimal_to_string() {
        for (input, expected) in [
            ("0", "0"),
            ("-0", "0"),
            ("-0.0", "0.0"),
            ("10", "10"),
            ("-12.50", "-12.50"),
            ("0.05", "0.05"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1E-7"),
            ("0.0000000", "0E-7"),
            ("25e1", "2.5E+2"),
            ("7.1e1", "71"),
            ("4.8e3", "4.8E+3"),
            ("1e5", "1E+5"),
            ("1.5e-3", "0.0015"),
            ("-1.23E+2", "-123"),
            ("123e-2", "1.23"),
            ("0e5", "0E+5"),
            ("12345678901234567890123", "12345678901234567890123"),
        ] {
            assert_eq!(
                big_decimal_text(input).as_deref(),
                Some(expected),
                "{input}"
            );
        }
        assert_eq!(big_decimal_text("1e99999999999"), None);
        // As a value, "2.5E+2" is the number 250.
        assert_eq!(convert_text("<n>25e1</n>"), json!({"n": 250.0}));
    }

    // JsonStreamTargetImpl.encode: short escapes, other controls as \uXXXX, '/' and non-ASCII as is.
    #[test]
    fn strings_are_encoded_as_staxon_writes_them() {
        assert_eq!(
            text("<a>q\"\\/&#9;&#10;&#13;é</a>"),
            r#"{"a":"q\"\\/\t\n\ré"}"#
        );
        let mut out = String::new();
        push_string(&mut out, "\u{1}\u{8}\u{c}\u{1f}\u{7f}");
        assert_eq!(out, "\"\\u0001\\b\\f\\u001F\u{7f}\"");
    }

    // MI test XMLToJsonNilTestCase ([mediation] synapse.enable_xml_nil = true):
    // JsonXMLStreamWriter.writeAttribute turns xsi:nil="true" into null and drops the xsi
    // declaration.
    #[test]
    fn enable_xml_nil_writes_nil_elements_as_null() {
        let xml = r#"<TransactionQuery xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><TransactionID>1</TransactionID><ResponseCode>001</ResponseCode><ResponseDescription i:nil="true"/></TransactionQuery>"#;
        let nil = JsonSettings {
            xml_nil: true,
            ..JsonSettings::default()
        };
        assert_eq!(
            text_with(xml, &nil),
            r#"{"TransactionQuery":{"TransactionID":1,"ResponseCode":"001","ResponseDescription":null}}"#
        );
        assert_eq!(
            text(xml),
            r#"{"TransactionQuery":{"TransactionID":1,"ResponseCode":"001","ResponseDescription":{"@nil":"true"}}}"#
        );
        // With preserved namespaces and declarations, the xsi declaration is still not written.
        let preserved = JsonSettings {
            xml_nil: true,
            preserve_namespaces: true,
            namespace_declarations: true,
            ..JsonSettings::default()
        };
        assert_eq!(
            text_with(xml, &preserved),
            r#"{"TransactionQuery":{"TransactionID":1,"ResponseCode":"001","ResponseDescription":null}}"#
        );
    }

    // MI test XMLToJsonTransformationPropertiesTestCase: preserve.namespace + enableNSDeclarations
    // keep prefixes (prefix + namespaceSepChar + local name) and write "@xmlns_p" members.
    #[test]
    fn preserved_namespaces_and_declarations() {
        let xml =
            "<ns:stock xmlns:ns='http://services.samples'>\n <ns:name>WSO2</ns:name>\n</ns:stock>";
        let preserve = JsonSettings {
            preserve_namespaces: true,
            ..JsonSettings::default()
        };
        assert_eq!(
            text_with(xml, &preserve),
            r#"{"ns_stock":{"ns_name":"WSO2"}}"#
        );
        let declarations = JsonSettings {
            preserve_namespaces: true,
            namespace_declarations: true,
            ..JsonSettings::default()
        };
        assert_eq!(
            text_with(xml, &declarations),
            r#"{"ns_stock":{"@xmlns_ns":"http://services.samples","ns_name":"WSO2"}}"#
        );
        // The default namespace has no prefix; its declaration is "@xmlns"; prefixed attributes
        // keep their prefix too.
        assert_eq!(
            text_with(
                r#"<a xmlns="urn:a" xmlns:p="urn:p" p:x="1"><b>2</b></a>"#,
                &declarations
            ),
            r#"{"a":{"@xmlns":"urn:a","@xmlns_p":"urn:p","@p_x":"1","b":2}}"#
        );
        // Declarations alone change nothing: removeNamespaces drops them first.
        let only_declarations = JsonSettings {
            namespace_declarations: true,
            ..JsonSettings::default()
        };
        assert_eq!(
            text_with(xml, &only_declarations),
            r#"{"stock":{"name":"WSO2"}}"#
        );
    }

    // XMLToJsonTransformationPropertiesTestCase: autoPrimitive=false keeps text as strings;
    // jsonoutAutoArray=false repeats the key instead of making an array (a PI still makes one).
    #[test]
    fn auto_primitive_and_auto_array_off() {
        let plain = JsonSettings {
            auto_primitive: false,
            ..JsonSettings::default()
        };
        assert_eq!(
            text_with(
                "<stock><name>WSO2</name><price>10</price><ok>true</ok></stock>",
                &plain
            ),
            r#"{"stock":{"name":"WSO2","price":"10","ok":"true"}}"#
        );
        let no_array = JsonSettings {
            auto_primitive: false,
            auto_array: false,
            ..JsonSettings::default()
        };
        let stocks = "<stocks> <stock><name>WSO2</name><price>10</price></stock>\n <stock><name>IBM</name><price>15</price></stock> </stocks>";
        assert_eq!(
            text_with(stocks, &no_array),
            r#"{"stocks":{"stock":{"name":"WSO2","price":"10"},"stock":{"name":"IBM","price":"15"}}}"#
        );
        assert_eq!(
            text_with("<r><?xml-multiple a?><a>1</a><a>2</a></r>", &no_array),
            r#"{"r":{"a":["1","2"]}}"#
        );
        // As a value the repeated key keeps its last member.
        let doc = roxmltree::Document::parse(stocks).expect("parses");
        assert_eq!(
            xml_to_json_with(doc.root_element(), &no_array),
            json!({"stocks": {"stock": {"name": "IBM", "price": "15"}}})
        );
        // jsonoutMultiplePI=false: the PI is ignored.
        let no_pi = JsonSettings {
            multiple_pi: false,
            ..JsonSettings::default()
        };
        assert_eq!(
            text_with("<r><?xml-multiple a?><a>1</a></r>", &no_pi),
            r#"{"r":{"a":1}}"#
        );
    }

    // MI test JSONDisableAutoPrimitiveNumericTestCase: text the whole of which matches
    // disableAutoPrimitive.regex stays a string (CustomRegexIgnoreAutoPrimitiveTarget).
    #[test]
    fn disable_auto_primitive_regex_keeps_matching_text_as_strings() {
        let settings = JsonSettings {
            disable_auto_primitive: JsonSettings::disable_auto_primitive_regex(
                r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$",
            )
            .ok(),
            ..JsonSettings::default()
        };
        assert_eq!(
            text_with(
                "<l><n>25e1</n><w>7.1e1</w><b>true</b><x>1a</x></l>",
                &settings
            ),
            r#"{"l":{"n":"25e1","w":"7.1e1","b":true,"x":"1a"}}"#
        );
        // A partial match is not enough (Matcher.matches()).
        let partial = JsonSettings {
            disable_auto_primitive: JsonSettings::disable_auto_primitive_regex("2").ok(),
            ..JsonSettings::default()
        };
        assert_eq!(
            text_with("<l><n>25</n><m>2</m></l>", &partial),
            r#"{"l":{"n":25,"m":"2"}}"#
        );
    }

    // MI test ESBJAVA4781EscapeAutoPrimitiveTestCase: text starting with customReplaceRegex has
    // the match replaced by customReplaceSequence ("") and stays a string.
    #[test]
    fn custom_replace_regex_strips_the_prefix_and_keeps_a_string() {
        let settings = JsonSettings {
            custom_replace: JsonSettings::custom_replace_regex("@@@")
                .ok()
                .map(|re| (re, String::new())),
            ..JsonSettings::default()
        };
        assert_eq!(
            text_with(
                "<t><i>1989</i><n>null</n><ie>@@@1989</ie><ne>@@@null</ne><s>x@@@</s><a k=\"@@@1\"/></t>",
                &settings
            ),
            r#"{"t":{"i":1989,"n":null,"ie":"1989","ne":"null","s":"x@@@","a":{"@k":"@@@1"}}}"#
        );
    }

    // synapse.commons.enableXmlNullForEmptyElement=false: an empty element is "".
    #[test]
    fn empty_elements_as_empty_strings() {
        let settings = JsonSettings {
            null_for_empty_element: false,
            ..JsonSettings::default()
        };
        assert_eq!(
            text_with("<r><a/><b></b></r>", &settings),
            r#"{"r":{"a":"","b":""}}"#
        );
    }

    fn nested_elements(depth: usize) -> String {
        format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth))
    }

    #[test]
    fn depth_limit_is_enforced() {
        let ok = nested_elements(MAX_JSON_DEPTH);
        let doc = roxmltree::Document::parse(&ok).expect("parses");
        assert!(try_xml_to_json(doc.root_element()).is_ok());
        let deep = nested_elements(MAX_JSON_DEPTH + 1);
        let doc = roxmltree::Document::parse(&deep).expect("parses");
        assert_eq!(
            try_xml_to_json(doc.root_element()),
            Err(JsonError::TooDeep {
                what: "XML element",
                limit: MAX_JSON_DEPTH
            })
        );
        assert_eq!(xml_to_json(doc.root_element()), Value::Null);
    }

    #[test]
    fn round_trips_common_payloads() {
        for value in [
            json!({"a": {"b": [1, 2.5, -3], "c": "text", "d": true, "e": null}}),
            json!({"single": [1], "empty": [], "objs": [{"x": 1}, {"y": [2]}]}),
            json!({"nested": [[1, 2], [], [[3]]]}),
            json!([{"a": 1}, [2], "s"]),
            json!({"1st": "é日本 <&>", "$ref": "x", "first name": "q\"'", "cr": "a\r\nb"}),
            json!({"big": 12345678901234567u64, "neg": -0.5, "exp": 1.5e300}),
        ] {
            assert_eq!(round_trip(&value), value, "{}", json_to_xml(&value));
        }
    }

    // What MI changes on the way back (AutoPrimitiveTarget + writeNullForEmptyElement):
    // number-, boolean- and null-looking strings become primitives; "" and {} become null.
    #[test]
    fn mi_normalisations_on_the_way_back() {
        assert_eq!(
            round_trip(
                &json!({"zip": "01234", "n": "42", "b": "true", "z": "null", "e": "", "o": {}, "w": "  "})
            ),
            json!({"zip": "01234", "n": 42, "b": true, "z": null, "e": null, "o": null, "w": null})
        );
        // Without PIs (MI's default XPath view) single-item and empty arrays are lost.
        let xml = json_to_xml_with(&json!({"a": [1], "b": []}), JsonToXmlOptions::MI_DEFAULT);
        assert_eq!(convert_text(&xml), json!({"a": 1}));
    }

    /// What MI's round trip gives for `value` (see `mi_normalisations_on_the_way_back`).
    fn mi_normalised(value: &Value) -> Value {
        match value {
            Value::String(s) if s.trim().is_empty() => Value::Null,
            Value::String(s) => auto_primitive(s).into_value(),
            Value::Object(members) if members.is_empty() => Value::Null,
            Value::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), mi_normalised(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(mi_normalised).collect()),
            other => other.clone(),
        }
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z_][a-zA-Z0-9_.-]{0,8}",
            "[0-9$][a-z0-9]{0,4}",
            "[a-z]{1,3}[ :/#é日]{1,2}[a-z]{0,3}",
        ]
        .prop_filter("wrapper names are MI's own; \"$\" is the text key", |k| {
            !["jsonObject", "jsonArray", "jsonElement", "jsonValue", "$"].contains(&k.as_str())
        })
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            (-1.0e6f64..1.0e6).prop_map(|f| json!(f)),
            "\\PC{0,12}".prop_map(Value::String),
            "[0-9]{1,4}|true|false|null| ?".prop_map(Value::String),
        ]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(key(), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn json_xml_json_gives_mi_normalised_value(members in prop::collection::btree_map(key(), json_value(), 1..4)) {
            let value = Value::Object(members.into_iter().collect());
            let xml = json_to_xml(&value);
            let doc = roxmltree::Document::parse(&xml);
            prop_assert!(doc.is_ok(), "unparsable XML {}", xml);
            let back = doc.map(|d| xml_to_json(d.root_element())).unwrap_or_default();
            prop_assert_eq!(back, mi_normalised(&value), "via {}", xml);
        }

        #[test]
        fn top_level_arrays_round_trip(items in prop::collection::vec(json_value(), 0..4)) {
            let value = Value::Array(items);
            let xml = json_to_xml(&value);
            let back = roxmltree::Document::parse(&xml).map(|d| xml_to_json(d.root_element()));
            prop_assert_eq!(back.ok(), Some(mi_normalised(&value)), "via {}", xml);
        }

        #[test]
        fn xml_to_json_never_panics(xml in "<[a-z]{1,3}( [a-z]=\"[^\"<&]{0,3}\")?>([^<&]{0,5}|<[a-z]{1,2}/>|<\\?xml-multiple [a-z]?\\?>){0,4}</[a-z]{1,3}>") {
            if let Ok(doc) = roxmltree::Document::parse(&xml) {
                let _ = xml_to_json(doc.root_element());
                let _ = try_xml_to_json(doc.root_element());
            }
        }
    }
}
