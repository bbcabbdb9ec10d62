//! JSON -> XML: the element MI builds for XPath from a JSON body (Synapse commons
//! `json/JsonUtil.java` with staxon's `JsonXMLStreamReader` and `stream/impl/JsonScanner.java`).
//! A root object becomes `<jsonObject>`; a root array, and any array directly inside an array,
//! becomes `<jsonArray>` holding `<jsonElement>` items (the scanner rewrites `[..]` there to
//! `{"jsonArray":{"jsonElement":[..]}}`); an array member `"a":[..]` becomes repeated `<a>`
//! elements preceded by `<?xml-multiple  a?>`; `null` and `{}` become empty elements; a key
//! `"@x"` becomes attribute `x` and a key `"$"` the element's text; a root scalar becomes
//! `<jsonValue>` holding its JSON text (`JsonUtil.getNewJsonPayload`). Characters XML cannot
//! carry (C0 controls other than tab/LF/CR, which MI's JSON reader accepts raw inside strings) are
//! written as `\uXXXX` text, as MI answers them (MI test TestJSONtoXMLwithUnicodeCharacters).

use super::names::key_to_xml_name;
use super::{JsonError, MAX_JSON_DEPTH};
use serde_json::{Map, Value};

/// Settings of the JSON -> XML view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonToXmlOptions {
    /// Write `<?xml-multiple name?>` before array items. MI writes them when
    /// `synapse.json.to.xml.processing.instruction.enabled=true` (and in `JsonBuilder`); its default
    /// XPath view (`JsonDataSource.getReader` -> `JsonUtil.getReader(.., isPiEnabled())`) omits them,
    /// so single-item and empty arrays do not survive a trip through XML there.
    pub multiple_pi: bool,
    /// Write JSON `null` as `<name nil="true"/>` (staxon `JsonXMLStreamReader` with
    /// `synapse.commons.enableXmlNilReadWrite=true`); else an empty element.
    pub xml_nil: bool,
}

impl JsonToXmlOptions {
    /// With `<?xml-multiple?>` PIs: round-trips arrays (JsonBuilder, `toXml(.., true)`).
    pub const WITH_PIS: JsonToXmlOptions = JsonToXmlOptions {
        multiple_pi: true,
        xml_nil: false,
    };
    /// Without PIs, as MI's defaults do everywhere else: the XPath view of a JSON body
    /// (`JsonDataSource.getReader`), a JSON body sent out as XML (`JsonDataSource.serialize` ->
    /// `toXml(.., false)`) and payloadFactory's JSON arguments in XML formats
    /// (`pfutils/TemplateProcessor.java` -> `toXml(.., false)`).
    pub const MI_DEFAULT: JsonToXmlOptions = JsonToXmlOptions {
        multiple_pi: false,
        xml_nil: false,
    };

    /// [`JsonToXmlOptions::MI_DEFAULT`] under the process-wide [`super::JsonSettings`]
    /// (`synapse.commons.json.output.xmloutMultiplePI`, `synapse.commons.enableXmlNilReadWrite`:
    /// `JsonUtil.generateJsonXMLInputFactory`).
    pub fn configured() -> JsonToXmlOptions {
        let settings = super::settings();
        JsonToXmlOptions {
            multiple_pi: settings.xml_out_multiple_pi,
            xml_nil: settings.xml_nil,
        }
    }
}

impl Default for JsonToXmlOptions {
    fn default() -> Self {
        JsonToXmlOptions::WITH_PIS
    }
}

/// MI's JSON -> XML with `<?xml-multiple?>` processing instructions (see [`JsonToXmlOptions`]).
/// A value nesting deeper than [`MAX_JSON_DEPTH`] gives an empty `<jsonObject/>`; use
/// [`try_json_to_xml`] to see the error.
pub fn json_to_xml(value: &Value) -> String {
    json_to_xml_with(value, JsonToXmlOptions::default())
}

/// [`json_to_xml`] with explicit options.
pub fn json_to_xml_with(value: &Value, options: JsonToXmlOptions) -> String {
    try_json_to_xml(value, options).unwrap_or_else(|_| "<jsonObject/>".to_string())
}

/// MI's JSON -> XML, failing on values nested deeper than [`MAX_JSON_DEPTH`].
pub fn try_json_to_xml(value: &Value, options: JsonToXmlOptions) -> Result<String, JsonError> {
    if json_depth(value) > MAX_JSON_DEPTH {
        return Err(JsonError::TooDeep {
            what: "JSON value",
            limit: MAX_JSON_DEPTH,
        });
    }
    let mut writer = XmlWriter {
        out: String::new(),
        options,
    };
    match value {
        Value::Object(members) => writer.element("jsonObject", members),
        Value::Array(items) => writer.anonymous_array("jsonArray", items),
        scalar => {
            writer.out.push_str("<jsonValue>");
            push_text(&mut writer.out, &scalar.to_string());
            writer.out.push_str("</jsonValue>");
        }
    }
    Ok(writer.out)
}

/// Nesting depth of objects/arrays (a scalar is 0), computed without recursion.
pub(crate) fn json_depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 0usize)];
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(members) => Box::new(members.values()),
            _ => continue,
        };
        deepest = deepest.max(depth + 1);
        pending.extend(children.map(|child| (child, depth + 1)));
    }
    deepest
}

struct XmlWriter {
    out: String,
    options: JsonToXmlOptions,
}

impl XmlWriter {
    /// `<name attrs>text children</name>` for an object's members.
    fn element(&mut self, name: &str, members: &Map<String, Value>) {
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in members {
            if let Some(attribute) = key.strip_prefix('@') {
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    Value::Array(_) | Value::Object(_) => continue,
                    other => other.to_string(),
                };
                self.out.push(' ');
                self.out.push_str(&key_to_xml_name(attribute));
                self.out.push_str("=\"");
                push_attribute_text(&mut self.out, &text);
                self.out.push('"');
            }
        }
        let has_content = members.keys().any(|key| !key.starts_with('@'));
        if !has_content {
            self.out.push_str("/>");
            return;
        }
        self.out.push('>');
        if let Some(text) = members.get("$") {
            match text {
                Value::String(s) => push_text(&mut self.out, s),
                Value::Null | Value::Array(_) | Value::Object(_) => {}
                other => push_text(&mut self.out, &other.to_string()),
            }
        }
        for (key, value) in members {
            if key.starts_with('@') || key == "$" {
                continue;
            }
            self.member(key, value);
        }
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    fn member(&mut self, key: &str, value: &Value) {
        let name = key_to_xml_name(key);
        match value {
            Value::Array(items) => {
                // The PI carries the JSON key itself (staxon passes `currentTagName`, which
                // JsonReaderDelegate does not rename); keys a PI cannot carry use the element name.
                if pi_can_carry(key) {
                    self.multiple_pi(key);
                } else {
                    self.multiple_pi(&name);
                }
                for item in items {
                    self.array_item(&name, item);
                }
            }
            other => self.array_item(&name, other),
        }
    }

    /// One `<name>` element for a value that is not itself an array member list.
    fn array_item(&mut self, name: &str, value: &Value) {
        match value {
            Value::Object(members) => self.element(name, members),
            Value::Array(items) => {
                // An array inside an array: JsonScanner wraps it as {"jsonArray":{"jsonElement":[..]}}.
                self.out.push('<');
                self.out.push_str(name);
                self.out.push('>');
                self.anonymous_array("jsonArray", items);
                self.out.push_str("</");
                self.out.push_str(name);
                self.out.push('>');
            }
            Value::Null => {
                self.out.push('<');
                self.out.push_str(name);
                if self.options.xml_nil {
                    // JsonXMLStreamReader VALUE: readAttrNsDecl("nil", "true").
                    self.out.push_str(" nil=\"true\"");
                }
                self.out.push_str("/>");
            }
            Value::String(text) => self.text_element(name, text),
            other => self.text_element(name, &other.to_string()),
        }
    }

    fn anonymous_array(&mut self, name: &str, items: &[Value]) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self.multiple_pi("jsonElement");
        for item in items {
            self.array_item("jsonElement", item);
        }
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    fn text_element(&mut self, name: &str, text: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        push_text(&mut self.out, text);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    fn multiple_pi(&mut self, name: &str) {
        if self.options.multiple_pi {
            // Two spaces, as MI's serialised view shows it (JsonBuilderTest `xmlWithPi`).
            self.out.push_str("<?xml-multiple  ");
            self.out.push_str(name);
            self.out.push_str("?>");
        }
    }
}

/// Whether `key` can be PI data as is: the JSON writer trims PI data, and `?>` would end the PI.
fn pi_can_carry(key: &str) -> bool {
    !key.is_empty()
        && key.trim() == key
        && !key.contains("?>")
        && key.chars().all(|c| is_xml_char(c) && c != '\r')
}

/// Characters XML 1.0 cannot carry at all (C0 controls other than tab/LF/CR, U+FFFE/U+FFFF)
/// are written as `\uXXXX` text ([`push_escaped_char`]), which is what MI answers for them.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn push_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A parser turns a raw CR into LF; the reference keeps it.
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            c => push_escaped_char(out, c),
        }
    }
}

/// A character XML cannot carry, as the text `\uXXXX` (MI test TestJSONtoXMLwithUnicodeCharacters:
/// a raw U+0011 in a JSON string comes out of MI's XML formatter as `\u0011`).
fn push_escaped_char(out: &mut String, c: char) {
    out.push_str(&format!("\\u{:04X}", u32::from(c)));
}

fn push_attribute_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Attribute-value normalisation would turn these into spaces.
            '\r' => out.push_str("&#13;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c if is_xml_char(c) => out.push(c),
            c => push_escaped_char(out, c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn no_pi() -> JsonToXmlOptions {
        JsonToXmlOptions::MI_DEFAULT
    }

    // JsonScanner SO_OBJECT: the root object is wrapped as "jsonObject".
    #[test]
    fn root_object_is_json_object() {
        assert_eq!(
            json_to_xml(&json!({"symbol": "IBM"})),
            "<jsonObject><symbol>IBM</symbol></jsonObject>"
        );
        assert_eq!(json_to_xml(&json!({})), "<jsonObject/>");
    }

    // JsonScanner SO_ARRAY: a root array is {"jsonArray":{"jsonElement":[..]}}.
    #[test]
    fn root_array_is_json_array_of_json_elements() {
        assert_eq!(
            json_to_xml(&json!([1, "a"])),
            "<jsonArray><?xml-multiple  jsonElement?><jsonElement>1</jsonElement><jsonElement>a</jsonElement></jsonArray>"
        );
        assert_eq!(
            json_to_xml_with(&json!([1]), no_pi()),
            "<jsonArray><jsonElement>1</jsonElement></jsonArray>"
        );
    }

    // JsonXMLStreamReader START_ARRAY: readPI(MULTIPLE_PI_TARGET, name) then one element per item.
    #[test]
    fn member_arrays_repeat_the_element_after_an_xml_multiple_pi() {
        assert_eq!(
            json_to_xml(&json!({"a": [1, 2]})),
            "<jsonObject><?xml-multiple  a?><a>1</a><a>2</a></jsonObject>"
        );
        assert_eq!(
            json_to_xml(&json!({"a": []})),
            "<jsonObject><?xml-multiple  a?></jsonObject>"
        );
        assert_eq!(
            json_to_xml_with(&json!({"a": [1]}), no_pi()),
            "<jsonObject><a>1</a></jsonObject>"
        );
    }

    // The PI names the JSON key, not the renamed element (JsonXMLStreamReader.readPI(.., currentTagName)).
    #[test]
    fn pi_data_is_the_json_key() {
        assert_eq!(
            json_to_xml(&json!({"2a": [true]})),
            "<jsonObject><?xml-multiple  2a?><_JsonReader_PD_2a>true</_JsonReader_PD_2a></jsonObject>"
        );
    }

    // wso2-synapse JsonBuilderTest.testCase `xmlWithPi` (parts in the map's iteration order, which
    // is the document order only with serde_json's preserve_order feature).
    #[test]
    fn json_builder_test_xml_with_pi() {
        let mut members = Map::new();
        let parts = [
            ("id", json!("0001"), "<id>0001</id>"),
            ("ok", json!(true), "<ok>true</ok>"),
            ("amount", json!(5250), "<amount>5250</amount>"),
            (
                "url",
                json!(["http://org.wso2.json/32_32"]),
                "<?xml-multiple  url?><url>http://org.wso2.json/32_32</url>",
            ),
        ];
        for (key, value, _) in &parts {
            members.insert((*key).to_string(), value.clone());
        }
        let body: String = members
            .keys()
            .filter_map(|key| {
                parts
                    .iter()
                    .find(|(k, _, _)| k == key)
                    .map(|(_, _, xml)| *xml)
            })
            .collect();
        assert_eq!(
            json_to_xml(&Value::Object(members)),
            format!("<jsonObject>{body}</jsonObject>")
        );
    }

    #[test]
    fn nested_arrays_use_json_array_wrappers() {
        assert_eq!(
            json_to_xml(&json!({"a": [[1], []]})),
            "<jsonObject><?xml-multiple  a?><a><jsonArray><?xml-multiple  jsonElement?><jsonElement>1</jsonElement></jsonArray></a><a><jsonArray><?xml-multiple  jsonElement?></jsonArray></a></jsonObject>"
        );
    }

    // JsonXMLStreamReader VALUE: NULL gives an element without text (no xsi:nil by default).
    #[test]
    fn null_and_empty_object_are_empty_elements() {
        assert_eq!(
            json_to_xml(&json!({"a": null, "b": {}})),
            "<jsonObject><a/><b/></jsonObject>"
        );
    }

    // JsonXMLStreamReader VALUE with xmlNilReadWriteEnabled: readAttrNsDecl("nil", "true") for a
    // null value (array items too), not for {}.
    #[test]
    fn null_is_nil_true_with_enable_xml_nil_read_write() {
        let options = JsonToXmlOptions {
            multiple_pi: false,
            xml_nil: true,
        };
        assert_eq!(
            json_to_xml_with(&json!({"a": null, "b": {}, "c": [null, 1]}), options),
            "<jsonObject><a nil=\"true\"/><b/><c nil=\"true\"/><c>1</c></jsonObject>"
        );
    }

    // MI test TestJSONtoXMLwithUnicodeCharacters: <response>\u0011\u0012Test...</response>.
    #[test]
    fn characters_xml_cannot_carry_are_written_as_u_escapes() {
        assert_eq!(
            json_to_xml(&json!({"response": "\u{11}\u{12}Test", "a": {"@x": "\u{1}"}})),
            "<jsonObject><response>\\u0011\\u0012Test</response><a x=\"\\u0001\"/></jsonObject>"
        );
    }

    // JsonXMLStreamReader.consumeName: "@x" -> attribute, "$" -> text.
    #[test]
    fn at_keys_become_attributes_and_dollar_the_text() {
        assert_eq!(
            json_to_xml(&json!({"p": {"@id": "7", "$": "text"}})),
            "<jsonObject><p id=\"7\">text</p></jsonObject>"
        );
    }

    #[test]
    fn scalars_keep_their_json_text_and_root_scalar_is_json_value() {
        assert_eq!(
            json_to_xml(&json!({"b": true, "n": -1.5})),
            "<jsonObject><b>true</b><n>-1.5</n></jsonObject>"
        );
        assert_eq!(json_to_xml(&json!("hi")), "<jsonValue>\"hi\"</jsonValue>");
        assert_eq!(json_to_xml(&json!(42)), "<jsonValue>42</jsonValue>");
    }

    #[test]
    fn text_is_escaped_and_names_are_valid() {
        // Keys keep their document order (the workspace enables serde_json's preserve_order, as MI
        // keeps JSON member order).
        let xml = json_to_xml(
            &json!({"1st": "a<b & c>\r", "$x": "\u{1}é日本", "first name": {"@a b": "\"q\"\n"}, "k?>": [1]}),
        );
        assert_eq!(
            xml,
            "<jsonObject><_JsonReader_PD_1st>a&lt;b &amp; c&gt;&#13;</_JsonReader_PD_1st><_JsonReader_PS_x>\\u0001é日本</_JsonReader_PS_x><first_JsonReader_32_name a_JsonReader_32_b=\"&quot;q&quot;&#10;\"/><?xml-multiple  k_JsonReader_63__JsonReader_62_?><k_JsonReader_63__JsonReader_62_>1</k_JsonReader_63__JsonReader_62_></jsonObject>"
        );
        let doc = roxmltree::Document::parse(&xml).expect("valid XML");
        assert_eq!(doc.root_element().tag_name().name(), "jsonObject");
    }

    fn nested_arrays(depth: usize) -> Value {
        let mut value = json!(1);
        for _ in 0..depth {
            value = Value::Array(vec![value]);
        }
        value
    }

    #[test]
    fn depth_limit_is_enforced() {
        assert!(
            try_json_to_xml(&nested_arrays(MAX_JSON_DEPTH), JsonToXmlOptions::default()).is_ok()
        );
        let err = try_json_to_xml(
            &nested_arrays(MAX_JSON_DEPTH + 1),
            JsonToXmlOptions::default(),
        );
        assert_eq!(
            err,
            Err(JsonError::TooDeep {
                what: "JSON value",
                limit: MAX_JSON_DEPTH
            })
        );
        assert_eq!(
            json_to_xml(&nested_arrays(MAX_JSON_DEPTH + 1)),
            "<jsonObject/>"
        );
    }
}
