//! The mapping script's result written as the output message (carbon-mediation
//! `datamapper/engine/output/`): `MapOutputFormatter` walks the returned object and sends events
//! to `XMLWriter` or `CSVWriter`, ported here event for event so that the documents come out as
//! MI writes them: attributes (`attr_` keys) first and in reverse order, `xATTR` objects that open
//! the element `x`, arrays as repeated elements named after their key, `prefix_name` keys as
//! `prefix:name` when the output schema declares the prefix, `_ELEMVAL` as an element's text,
//! numbers as Java's `Double.toString` writes a non-integral double.

use std::collections::{HashSet, VecDeque};

use serde_json::Value;

use super::input::{ATTRIBUTE_PREFIX, ELEMENT_VALUE_FIELD};
use super::schema::Schema;
use super::{DataMapperError, NAME_SEPARATOR, decode_name};

/// The suffix of a key whose object holds the attributes of the element named by the rest of
/// the key (`SCHEMA_ATTRIBUTE_PARENT_ELEMENT_POSTFIX`).
pub const ATTRIBUTE_PARENT_SUFFIX: &str = "ATTR";

/// The events MapOutputFormatter sends (the engine's `Writer` interface).
trait Writer {
    fn start_object(&mut self, name: &str) -> Result<(), DataMapperError>;
    fn field(&mut self, name: &str, value: &Value) -> Result<(), DataMapperError>;
    fn end_object(&mut self) -> Result<(), DataMapperError>;
    fn start_array(&mut self) -> Result<(), DataMapperError>;
    fn end_array(&mut self) -> Result<(), DataMapperError>;
    fn start_anonymous_object(&mut self) -> Result<(), DataMapperError>;
    fn primitive(&mut self, value: &Value) -> Result<(), DataMapperError>;
}

/// A key of the walked map: an object's key, or an array's index.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Name(String),
    Index(usize),
}

impl Key {
    fn text(&self) -> String {
        match self {
            Key::Name(n) => n.clone(),
            Key::Index(i) => i.to_string(),
        }
    }
}

/// MapOutputFormatter.traverseMap over an object or an array (an array is MI's map of indices).
fn traverse(value: &Value, writer: &mut dyn Writer) -> Result<(), DataMapperError> {
    let keys: Vec<Key> = match value {
        Value::Object(map) => map.keys().map(|k| Key::Name(k.clone())).collect(),
        Value::Array(items) => (0..items.len()).map(Key::Index).collect(),
        _ => return Ok(()),
    };
    let lookup = |key: &Key| -> Option<&Value> {
        match (key, value) {
            (Key::Name(n), Value::Object(map)) => map.get(n),
            (Key::Index(i), Value::Array(items)) => items.get(*i),
            _ => None,
        }
    };
    // isMapContainArray: every key is an int (an empty map counts).
    let array = keys.iter().all(|k| match k {
        Key::Index(_) => true,
        Key::Name(n) => n.parse::<i32>().is_ok(),
    });
    if array {
        writer.start_array()?;
    }
    let ordered = order_keys(&keys);
    let last = keys.len().saturating_sub(1);
    for (index, key) in ordered.iter().enumerate() {
        let name = key.text();
        match lookup(key) {
            Some(child @ (Value::Object(_) | Value::Array(_))) => {
                if array {
                    // The first item reuses the element the key's start event opened.
                    if index != 0 {
                        writer.start_anonymous_object()?;
                    }
                    traverse(child, writer)?;
                    if index != last {
                        writer.end_object()?;
                    }
                } else {
                    writer.start_object(&name)?;
                    traverse(child, writer)?;
                    if !name.ends_with(ATTRIBUTE_PARENT_SUFFIX) {
                        writer.end_object()?;
                    }
                }
            }
            primitive => {
                let primitive = primitive.unwrap_or(&Value::Null);
                if array {
                    if index != 0 {
                        writer.start_anonymous_object()?;
                    }
                    writer.primitive(primitive)?;
                    if index != last {
                        writer.end_object()?;
                    }
                } else {
                    writer.field(&name, primitive)?;
                }
            }
        }
    }
    if array {
        writer.end_array()?;
    }
    Ok(())
}

/// MapOutputFormatter's key order: keys containing `attr_` go to the front (each in turn, so
/// they end up reversed), `xATTR` and `x` go together (`x` even when the map has no such key:
/// it is then looked up, finds nothing, and writes nothing), the rest keep their order.
fn order_keys(keys: &[Key]) -> Vec<Key> {
    let mut ordered: VecDeque<Key> = VecDeque::with_capacity(keys.len());
    // The keys not placed yet (MI's `tempKeys`).
    let mut pending: HashSet<&Key> = keys.iter().collect();
    for key in keys {
        let Key::Name(name) = key else {
            if pending.remove(key) {
                ordered.push_back(key.clone());
            }
            continue;
        };
        if name.contains(ATTRIBUTE_PREFIX) {
            if pending.remove(key) {
                ordered.push_front(key.clone());
            }
        } else if let Some(element) = name.strip_suffix(ATTRIBUTE_PARENT_SUFFIX) {
            if pending.remove(key) {
                let element = Key::Name(element.to_string());
                pending.remove(&element);
                ordered.push_back(key.clone());
                ordered.push_back(element);
            }
        } else if pending.remove(key) {
            let attributes = Key::Name(format!("{name}{ATTRIBUTE_PARENT_SUFFIX}"));
            if pending.remove(&attributes) {
                ordered.push_back(attributes);
            }
            ordered.push_back(key.clone());
        }
    }
    ordered.into()
}

/// A value as XMLWriter/CSVWriter print it: a string as it is, an integer in decimal, a
/// non-integral number as Java's `Double.toString`, a boolean as `true`/`false`.
pub fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(u)) => u.to_string(),
            _ => java_double_to_string(n.as_f64().unwrap_or(0.0)),
        }),
        // Not reached by the walk (objects and arrays are traversed); JSON for completeness.
        other => Some(other.to_string()),
    }
}

/// Java's `Double.toString`: the shortest digits that read back as the value, plain between
/// 10^-3 and 10^7 (`100.0`, `0.001`), `d.dddE±n` outside (`1.0E7`, `1.5E-5`).
pub fn java_double_to_string(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let sign = if f < 0.0 { "-" } else { "" };
    let magnitude = f.abs();
    let scientific = format!("{magnitude:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (1e-3..1e7).contains(&magnitude) {
        let point = exponent + 1;
        let text = if point <= 0 {
            format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            let (whole, fraction) = digits.split_at(point as usize);
            format!("{whole}.{fraction}")
        };
        format!("{sign}{text}")
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exponent}")
    }
}

/// XMLWriter: StAX-like text, each start tag left open until content or the next tag follows
/// (attributes are written into it), elements closed from a stack.
struct XmlWriter<'s> {
    schema: &'s Schema,
    out: String,
    /// Open elements, by qualified name.
    open: Vec<String>,
    /// Whether the last start tag still takes attributes (its `>` is not written yet).
    start_tag_open: bool,
    /// The element names arrays repeat (`arrayElementStack`).
    array_names: Vec<Option<String>>,
    /// The element last opened by a start-object event (`latestElementName`).
    latest: Option<String>,
}

impl<'s> XmlWriter<'s> {
    fn new(schema: &'s Schema) -> Result<XmlWriter<'s>, DataMapperError> {
        let title = schema.title().ok_or_else(|| {
            DataMapperError::Output(
                "the output schema has no title: an XML output needs the root element's name"
                    .into(),
            )
        })?;
        let mut writer = XmlWriter {
            schema,
            out: String::new(),
            open: Vec::new(),
            start_tag_open: false,
            array_names: Vec::new(),
            latest: None,
        };
        writer.element_start(title)?;
        for (prefix, uri) in schema.declared_namespaces() {
            writer.out.push_str(&format!(
                " xmlns:{prefix}=\"{}\"",
                crate::runtime::payload::escape_attribute(uri)
            ));
        }
        Ok(writer)
    }

    fn close_start_tag(&mut self) {
        if self.start_tag_open {
            self.out.push('>');
            self.start_tag_open = false;
        }
    }

    /// XMLWriter.writeStartElement: `p_rest` is `p:rest` when `p` is an output prefix; a
    /// `_Separat0r_` tail (an `xsi:type` qualifier) is dropped.
    fn element_start(&mut self, name: &str) -> Result<(), DataMapperError> {
        let name = decode_name(name);
        let prefix = java_split(&name, "_")
            .into_iter()
            .next()
            .unwrap_or_default();
        let qualified = if self.schema.namespace_of(&prefix).is_some() {
            let name = before_separator(&name);
            let local = name.replacen(&format!("{prefix}_"), "", 1);
            format!("{prefix}:{local}")
        } else {
            before_separator(&name).to_string()
        };
        check_xml_name(&qualified)?;
        self.close_start_tag();
        self.out.push('<');
        self.out.push_str(&qualified);
        self.open.push(qualified);
        self.start_tag_open = true;
        Ok(())
    }

    fn element_end(&mut self) -> Result<(), DataMapperError> {
        let Some(name) = self.open.pop() else {
            return Err(DataMapperError::Output(
                "the mapping's result closes more elements than it opens".into(),
            ));
        };
        self.close_start_tag();
        self.out.push_str("</");
        self.out.push_str(&name);
        self.out.push('>');
        Ok(())
    }

    fn characters(&mut self, text: &str) {
        self.close_start_tag();
        self.out
            .push_str(&crate::runtime::payload::escape_text(text));
    }

    fn attribute(&mut self, name: &str, value: &str) -> Result<(), DataMapperError> {
        check_xml_name(name)?;
        if !self.start_tag_open {
            return Err(DataMapperError::Output(format!(
                "attribute {name} comes after the content of its element (an attr_ key of the mapping's result)"
            )));
        }
        self.out.push_str(&format!(
            " {name}=\"{}\"",
            crate::runtime::payload::escape_attribute(value)
        ));
        Ok(())
    }

    /// The document, once the walk is over (XMLWriter.terminateMessageBuilding).
    fn finish(mut self) -> Result<String, DataMapperError> {
        self.element_end()?;
        if !self.open.is_empty() {
            return Err(DataMapperError::Output(format!(
                "the mapping's result leaves element {} open (an xATTR key without its element)",
                self.open.join(", ")
            )));
        }
        Ok(self.out)
    }
}

impl Writer for XmlWriter<'_> {
    fn start_object(&mut self, name: &str) -> Result<(), DataMapperError> {
        let name = decode_name(name);
        match name.rfind(ATTRIBUTE_PARENT_SUFFIX) {
            Some(at) if name.ends_with(ATTRIBUTE_PARENT_SUFFIX) => {
                let element = &name[..at];
                self.latest = Some(element.to_string());
                self.element_start(element)
            }
            _ => {
                self.element_start(&name)?;
                self.latest = Some(name);
                Ok(())
            }
        }
    }

    fn field(&mut self, name: &str, value: &Value) -> Result<(), DataMapperError> {
        let name = decode_name(name);
        let Some(text) = value_text(value) else {
            return Ok(());
        };
        if name.contains(ATTRIBUTE_PREFIX) {
            let attribute = name.replacen(ATTRIBUTE_PREFIX, "", 1);
            if attribute.contains('_') {
                let parts = java_split(&attribute, "_");
                if let (Some(prefix), Some(local)) = (parts.first(), parts.last())
                    && self.schema.namespace_of(prefix).is_some()
                {
                    return self.attribute(&format!("{prefix}:{local}"), &text);
                }
            }
            return self.attribute(&attribute, &text);
        }
        if name == ELEMENT_VALUE_FIELD {
            self.characters(&text);
            return Ok(());
        }
        self.element_start(&name)?;
        self.characters(&text);
        self.element_end()
    }

    fn end_object(&mut self) -> Result<(), DataMapperError> {
        self.element_end()
    }

    fn start_array(&mut self) -> Result<(), DataMapperError> {
        self.array_names.push(self.latest.clone());
        Ok(())
    }

    fn end_array(&mut self) -> Result<(), DataMapperError> {
        self.array_names.pop();
        Ok(())
    }

    fn start_anonymous_object(&mut self) -> Result<(), DataMapperError> {
        match self.array_names.last().cloned().flatten() {
            Some(name) => self.element_start(&name),
            None => Err(DataMapperError::Output(
                "the mapping returned an array at the top: an XML output needs one root object"
                    .into(),
            )),
        }
    }

    fn primitive(&mut self, value: &Value) -> Result<(), DataMapperError> {
        if let Some(text) = value_text(value) {
            self.characters(&text);
        }
        Ok(())
    }
}

/// CSVWriter: field values separated by `,`, a line break before every record after the first,
/// no quoting and no header.
#[derive(Default)]
struct CsvWriter {
    out: String,
    /// No field written yet on this line.
    line_start: bool,
}

impl Writer for CsvWriter {
    fn start_object(&mut self, _: &str) -> Result<(), DataMapperError> {
        Ok(())
    }

    fn field(&mut self, _: &str, value: &Value) -> Result<(), DataMapperError> {
        if !self.line_start {
            self.out.push(',');
        }
        self.line_start = false;
        // StringBuilder.append(Object): a null is written "null".
        self.out
            .push_str(&value_text(value).unwrap_or_else(|| "null".into()));
        Ok(())
    }

    fn end_object(&mut self) -> Result<(), DataMapperError> {
        Ok(())
    }

    fn start_array(&mut self) -> Result<(), DataMapperError> {
        Ok(())
    }

    fn end_array(&mut self) -> Result<(), DataMapperError> {
        Ok(())
    }

    fn start_anonymous_object(&mut self) -> Result<(), DataMapperError> {
        self.out.push('\n');
        self.line_start = true;
        Ok(())
    }

    fn primitive(&mut self, _: &Value) -> Result<(), DataMapperError> {
        Ok(())
    }
}

/// The XML document MI's XMLWriter writes for `result` under the output schema's root element.
pub fn to_xml(result: &Value, schema: &Schema) -> Result<String, DataMapperError> {
    check_walkable(result)?;
    let mut writer = XmlWriter::new(schema)?;
    traverse(result, &mut writer)?;
    writer.finish()
}

/// The CSV text MI's CSVWriter writes for `result`.
pub fn to_csv(result: &Value) -> Result<String, DataMapperError> {
    check_walkable(result)?;
    let mut writer = CsvWriter {
        out: String::new(),
        line_start: true,
    };
    traverse(result, &mut writer)?;
    Ok(writer.out)
}

/// Only an object or an array is walked (MI: "Failed to execute mapping function" otherwise).
fn check_walkable(result: &Value) -> Result<(), DataMapperError> {
    match result {
        Value::Object(_) | Value::Array(_) => Ok(()),
        other => Err(DataMapperError::Script(format!(
            "Failed to execute mapping function: it returned {other}, not an object"
        ))),
    }
}

/// A key of the script's result used as an element or attribute name must be an XML name
/// (`prefix:local` at most): anything else would change the document's structure.
fn check_xml_name(name: &str) -> Result<(), DataMapperError> {
    let valid_start = |c: char| c.is_alphabetic() || c == '_';
    let valid = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.');
    let part_ok = |part: &str| {
        let mut chars = part.chars();
        chars.next().is_some_and(valid_start) && chars.all(valid)
    };
    let ok = match name.split_once(':') {
        Some((prefix, local)) => part_ok(prefix) && part_ok(local),
        None => part_ok(name),
    };
    if ok {
        Ok(())
    } else {
        Err(DataMapperError::Output(format!(
            "the mapping's result has the key {name:?}, which is not an XML name"
        )))
    }
}

/// The part of a name before `_Separat0r_` (an `xsi:type` qualifier).
fn before_separator(name: &str) -> &str {
    name.split(NAME_SEPARATOR).next().unwrap_or(name)
}

/// Java's `String.split` with a literal separator: trailing empty strings removed.
fn java_split(text: &str, separator: &str) -> Vec<String> {
    let mut parts: Vec<String> = text.split(separator).map(str::to_string).collect();
    while parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(text: &str) -> Schema {
        Schema::parse(text, "output schema").unwrap()
    }

    // MI DataMapperSimpleTestCase.testOneToOneXmlToXml's shape: nested objects in insertion
    // order, undefined (missing) fields left out.
    #[test]
    fn objects_become_nested_elements() {
        let s = schema(r#"{"title": "company", "type": "object"}"#);
        let xml = to_xml(
            &json!({"offices": {"asia": {"fax": "1", "phone": "2"}, "us": {"phone": "3", "fax": null}}}),
            &s,
        )
        .unwrap();
        assert_eq!(
            xml,
            "<company><offices><asia><fax>1</fax><phone>2</phone></asia><us><phone>3</phone></us></offices></company>"
        );
    }

    #[test]
    fn arrays_repeat_their_element_and_empty_ones_leave_an_empty_element() {
        let s = schema(r#"{"title": "menu"}"#);
        let xml = to_xml(
            &json!({"item": [{"name": "a", "price": 1.5}, {"name": "b", "price": 2}], "tag": ["x", "y"], "none": []}),
            &s,
        )
        .unwrap();
        assert_eq!(
            xml,
            "<menu><item><name>a</name><price>1.5</price></item><item><name>b</name><price>2</price></item><tag>x</tag><tag>y</tag><none></none></menu>"
        );
    }

    // ESBJAVA5021's expected output: attributes first and reversed, prefixes from the schema,
    // `_Separat0r_` qualifiers dropped, `_ELEMVAL` as text, `-` restored.
    #[test]
    fn attributes_prefixes_and_element_values() {
        let s = schema(
            r#"{"title": "SOAP-ENV:Envelope", "namespaces": [
                {"prefix": "SOAP-ENV", "url": "http://schemas.xmlsoap.org/soap/envelope/"},
                {"prefix": "test1", "url": "http://test.com/schema"},
                {"prefix": "xsi", "url": "http://www.w3.org/2001/XMLSchema-instance"}]}"#,
        );
        let result = json!({"SOAP_EnC0DeCHaRHyPh3n_ENV_Body": {"data2": {
            "test1_a2": "testA",
            "test1_name2_Separat0r_xsi_type_xsd_string": {
                "_ELEMVAL": "car", "attr_test1_nameType": "productID", "attr_xsi_type": "xsd2:string"},
            "Discounted_Price2_Separat0r_xsi_type_xsd_float": {"_ELEMVAL": 100.5, "attr_plain": "x"}
        }}});
        let xml = to_xml(&result, &s).unwrap();
        assert_eq!(
            xml,
            concat!(
                // java.util.HashMap order: test1 (bucket 13), SOAP-ENV (14), xsi (15).
                "<SOAP-ENV:Envelope xmlns:test1=\"http://test.com/schema\" xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">",
                "<SOAP-ENV:Body><data2><test1:a2>testA</test1:a2>",
                "<test1:name2 xsi:type=\"xsd2:string\" test1:nameType=\"productID\">car</test1:name2>",
                "<Discounted_Price2 plain=\"x\">100.5</Discounted_Price2>",
                "</data2></SOAP-ENV:Body></SOAP-ENV:Envelope>"
            )
        );
    }

    #[test]
    fn attr_parent_keys_open_the_element_and_unbalanced_results_are_errors() {
        let s = schema(r#"{"title": "r"}"#);
        // `xATTR` opens <x> with its attributes and leaves it to `x`, which opens its own: MI's
        // writer then leaves an element open and the document is not well-formed.
        let err = to_xml(&json!({"x": "t", "xATTR": {"attr_id": "1"}}), &s).unwrap_err();
        assert!(err.to_string().contains("leaves element"), "{err}");
        let err = to_xml(&json!([{"a": 1}, {"a": 2}]), &s).unwrap_err();
        assert!(err.to_string().contains("array at the top"), "{err}");
        assert!(to_xml(&json!("text"), &s).is_err());
        // A key that is not an XML name cannot smuggle markup into the document.
        let err = to_xml(&json!({"a><b": "x"}), &s).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the mapping's result has the key \"a><b\", which is not an XML name"
        );
        assert!(to_xml(&json!({"x": {"attr_a=\"1": "v"}}), &s).is_err());
        let untitled = schema(r#"{"type": "object"}"#);
        assert!(to_xml(&json!({}), &untitled).is_err());
    }

    #[test]
    fn csv_is_values_by_record() {
        assert_eq!(
            to_csv(&json!([{"name": "Ann", "age": 31, "score": 9.5}, {"name": "Bob", "age": 40, "score": 1e7}])).unwrap(),
            "Ann,31,9.5\nBob,40,1.0E7"
        );
        assert_eq!(
            to_csv(&json!({"rows": [{"a": "x", "b": true}, {"a": "y", "b": null}]})).unwrap(),
            "x,true\ny,null"
        );
    }

    #[test]
    fn doubles_print_as_java_does() {
        for (f, text) in [
            (100.0, "100.0"),
            (0.5, "0.5"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1.5e-5, "1.5E-5"),
            (1234567.25, "1234567.25"),
            (1e7, "1.0E7"),
            (12345678.9, "1.23456789E7"),
            (-2.5, "-2.5"),
            (0.0, "0.0"),
            (1e21, "1.0E21"),
            (0.1 + 0.2, "0.30000000000000004"),
        ] {
            assert_eq!(java_double_to_string(f), text, "{f}");
        }
        assert_eq!(value_text(&json!(7)).as_deref(), Some("7"));
        assert_eq!(value_text(&json!(2.25)).as_deref(), Some("2.25"));
        assert_eq!(value_text(&json!(null)), None);
    }
}
