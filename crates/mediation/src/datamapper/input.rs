//! The message as the mapping script's input variable: the JSON text MI's data mapper engine
//! builds for each input type (carbon-mediation `datamapper/engine/input/readers/`).
//!
//! - XML ([`xml_to_json`], `XMLInputReader.java`): a depth-first walk of the document guided by
//!   the input schema: elements the schema does not name are left out, arrays come from the schema
//!   (one element is a one-item array), values are typed by it (`"number"` text becomes a number),
//!   attributes become `attr_` fields and namespaces `prefix_` names.
//! - CSV ([`csv_to_json`], `CSVInputReader.java`): every record an object whose fields are the
//!   schema's item properties by position.
//! - JSON (`JSONInputReader.java`): the payload's own text; no schema is involved.

use roxmltree::Node;
use serde_json::{Map, Value};

use super::schema::{Level, Schema, XSI_NAMESPACE, entry_type, items_of, text_type, types};
use super::{DataMapperError, encode_name};

/// The field that carries an object element's own text (`SCHEMA_XML_ELEMENT_TEXT_VALUE_FIELD`).
pub const ELEMENT_VALUE_FIELD: &str = "_ELEMVAL";

/// The prefix of attribute fields (`SCHEMA_ATTRIBUTE_FIELD_PREFIX`).
pub const ATTRIBUTE_PREFIX: &str = "attr_";

/// Where a value is written: the enclosing object, or (for what a primitive array item holds)
/// the array named here, where nothing but the item itself can go.
enum Sink<'a> {
    Object(&'a mut Map<String, Value>),
    Array(&'a str),
}

impl Sink<'_> {
    /// A field of the current object. Inside an array there is none to write to: MI's JSON
    /// generator fails there ("Can not write a field name, expecting a value").
    fn field(&mut self, key: String, value: Value) -> Result<(), DataMapperError> {
        match self {
            Sink::Object(map) => {
                map.insert(key, value);
                Ok(())
            }
            Sink::Array(array) => Err(DataMapperError::Input(format!(
                "field {key} cannot be written inside array {array}: the input schema types its items as primitives"
            ))),
        }
    }
}

/// Builds the input variable of an XML message: `root` is the element the input schema's title
/// names (the SOAP envelope, or the first child of its body).
pub fn xml_to_json(root: Node, schema: &Schema) -> Result<Value, DataMapperError> {
    let reader = XmlReader {
        schema,
        xsi_prefixes: schema.prefix_text(XSI_NAMESPACE),
    };
    let name = reader.schema_name(root, Level::default(), true);
    let title = schema.title().unwrap_or_default();
    if name != title {
        return Err(DataMapperError::Input(format!(
            "the input's root element is {name}, but the input schema's root (title) is {title}"
        )));
    }
    if schema.root_type() != types::OBJECT {
        return Err(DataMapperError::Input(format!(
            "the input schema's root {title} has type {}; an XML input needs an object root",
            schema.root_type()
        )));
    }
    let mut object = Map::new();
    if !reader.is_nil(root) {
        let level = schema.root_level();
        let mut sink = Sink::Object(&mut object);
        reader.attributes(root, level, &mut sink)?;
        reader.children(root, level, &mut sink)?;
    }
    Ok(Value::Object(object))
}

struct XmlReader<'s> {
    schema: &'s Schema,
    /// The schema's prefix(es) of the XSI namespace (`xsi:type` and `xsi:nil` are read only when
    /// the schema declares it).
    xsi_prefixes: Option<String>,
}

impl<'s> XmlReader<'s> {
    /// The element children of `parent`, each in `sink` by the names of `level`.
    fn children(
        &self,
        parent: Node,
        level: Level<'s>,
        sink: &mut Sink,
    ) -> Result<(), DataMapperError> {
        // The array the previous sibling went into: a sibling of the same name joins it.
        let mut open_array: Option<String> = None;
        for child in parent.children().filter(Node::is_element) {
            self.element(child, level, sink, &mut open_array)?;
        }
        Ok(())
    }

    /// One element (XMLInputReader.xmlTraverse below the root).
    fn element(
        &self,
        node: Node,
        level: Level<'s>,
        sink: &mut Sink,
        open_array: &mut Option<String>,
    ) -> Result<(), DataMapperError> {
        let name = self.schema_name(node, level, false);
        let previous = open_array.take();
        let Some(entry) = level.get(&name) else {
            tracing::debug!(target: "conflux::mediation", "data mapper: element {name} is not in the input schema");
            return Ok(());
        };
        let key = encode_name(&name);
        let next = Level::under(entry);
        let element_type = entry_type(entry);
        if element_type == types::ARRAY {
            let Sink::Object(map) = sink else {
                return Err(DataMapperError::Input(format!(
                    "array {name} cannot be written inside another array's primitive items"
                )));
            };
            // A new array unless the previous sibling was an item of this one; a later run of
            // the same name replaces it (as JSON.parse keeps the last of a duplicated key).
            if previous.as_deref() != Some(name.as_str())
                || !map.get(&key).is_some_and(Value::is_array)
            {
                map.insert(key.clone(), Value::Array(Vec::new()));
            }
            let item = items_of(entry);
            let item_type = item.map_or(types::NULL, entry_type);
            if item_type == types::OBJECT {
                let object = self.object(node, item.map_or(types::NULL, text_type), next)?;
                if let Some(Value::Array(items)) = map.get_mut(&key) {
                    items.push(Value::Object(object));
                }
            } else if !self.is_nil(node)
                && let Some(Value::Array(items)) = map.get_mut(&key)
            {
                if types::is_primitive(item_type) {
                    items.push(typed(&name, &own_text(node), item_type)?);
                }
                let mut item_sink = Sink::Array(&name);
                self.attributes(node, next, &mut item_sink)?;
                self.children(node, next, &mut item_sink)?;
            }
            *open_array = Some(name);
            return Ok(());
        }
        if element_type == types::OBJECT {
            let object = self.object(node, text_type(entry), next)?;
            return sink.field(key, Value::Object(object));
        }
        if self.is_nil(node) {
            return Ok(());
        }
        if types::is_primitive(element_type) {
            let value = typed(&name, &own_text(node), element_type)?;
            sink.field(key, value)?;
        }
        // A primitive element's attributes and children land in the enclosing object: MI opens
        // no object for it.
        self.attributes(node, next, sink)?;
        self.children(node, next, sink)
    }

    /// An object element: its text as `_ELEMVAL` (when the schema types it), its attributes and
    /// its children; `{}` when it is `xsi:nil`.
    fn object(
        &self,
        node: Node,
        text_type: &str,
        next: Level<'s>,
    ) -> Result<Map<String, Value>, DataMapperError> {
        let mut object = Map::new();
        if self.is_nil(node) {
            return Ok(object);
        }
        if types::is_primitive(text_type) {
            let name = node.tag_name().name();
            object.insert(
                ELEMENT_VALUE_FIELD.to_string(),
                typed(name, &own_text(node), text_type)?,
            );
        }
        let mut sink = Sink::Object(&mut object);
        self.attributes(node, next, &mut sink)?;
        self.children(node, next, &mut sink)?;
        Ok(object)
    }

    /// The element's attributes as `attr_` fields, typed by `level` (an attribute the schema does
    /// not list is written as a string, as MI does after a warning).
    fn attributes(
        &self,
        node: Node,
        level: Level<'s>,
        sink: &mut Sink,
    ) -> Result<(), DataMapperError> {
        for attr in node.attributes() {
            let local = attr.name();
            if local.contains("xmlns") {
                continue;
            }
            let uri = attr.namespace().unwrap_or("");
            let field = format!(
                "{ATTRIBUTE_PREFIX}{}",
                self.prefixed(uri, local, level, false)
            );
            // XMLInputReader.getAttributeQName: an unknown URI gives the prefix "null".
            let qname = match attr.namespace() {
                Some(uri) => format!(
                    "{}:{local}",
                    self.resolve_prefix(uri, local, level, false)
                        .unwrap_or_else(|| "null".into())
                ),
                None => local.to_string(),
            };
            let mut attr_type = level.type_of(&qname);
            if attr_type == types::NULL {
                tracing::warn!(target: "conflux::mediation", "data mapper: attribute {qname} is not in the input schema; it is read as a string");
                attr_type = types::STRING;
            }
            let value = typed(&qname, attr.value(), attr_type)?;
            sink.field(encode_name(&field), value)?;
        }
        Ok(())
    }

    /// `xsi:nil="true"` (in any case), when the schema declares the XSI namespace.
    fn is_nil(&self, node: Node) -> bool {
        self.xsi_prefixes.is_some()
            && node
                .attribute((XSI_NAMESPACE, "nil"))
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// An element's name as the schema spells it: `prefix:local`, and `,XSI:type=P:t` when the
    /// schema declares XSI and the element has an `xsi:type`
    /// (XMLInputReader.getNamespacesAndIdentifiersAddedFieldName).
    fn schema_name(&self, node: Node, level: Level<'s>, root: bool) -> String {
        let uri = node.tag_name().namespace().unwrap_or("");
        let local = node.tag_name().name();
        let mut name = self.prefixed(uri, local, level, root);
        let (Some(xsi), Some(xsi_type)) =
            (&self.xsi_prefixes, node.attribute((XSI_NAMESPACE, "type")))
        else {
            return name;
        };
        let type_ns = xsi_type
            .split_once(':')
            .and_then(|(p, t)| node.lookup_namespace_uri(Some(p)).map(|uri| (uri, t)));
        let Some((type_uri, type_local)) = type_ns else {
            return format!("{name},{xsi}:type={xsi_type}");
        };
        let type_prefixes = self
            .schema
            .prefix_text(type_uri)
            .unwrap_or_else(|| "null".into());
        if !xsi.contains(',') {
            name.push_str(&format!(",{xsi}:type={type_prefixes}:{type_local}"));
            return name;
        }
        // Several prefixes for XSI (and maybe for the type's namespace): the combination the
        // schema has at this level, else the plain name.
        for xsi_prefix in xsi.split(',') {
            for type_prefix in type_prefixes.split(',') {
                let candidate = format!("{name},{xsi_prefix}:type={type_prefix}:{type_local}");
                if level.contains(&candidate) {
                    return candidate;
                }
            }
        }
        name
    }

    /// `prefix:local`, or `local` for no namespace or one the schema does not declare.
    fn prefixed(&self, uri: &str, local: &str, level: Level<'s>, root: bool) -> String {
        match self.resolve_prefix(uri, local, level, root) {
            Some(prefix) if !prefix.is_empty() => format!("{prefix}:{local}"),
            _ => local.to_string(),
        }
    }

    /// XMLInputReader.resolveUriToPrefix: the schema's prefix for `uri`; of several, the one this
    /// level (or the root title) knows `prefix:local` by, else one whose `prefix:local,` starts a
    /// name of the level (an `xsi:type`-qualified name).
    fn resolve_prefix(
        &self,
        uri: &str,
        local: &str,
        level: Level<'s>,
        root: bool,
    ) -> Option<String> {
        let prefixes = self.schema.prefixes_for(uri)?;
        match prefixes.as_slice() {
            [] => Some(String::new()),
            [one] => Some((*one).to_string()),
            several => {
                let title = self.schema.title().unwrap_or_default();
                several
                    .iter()
                    .find(|p| {
                        let qualified = format!("{p}:{local}");
                        (root && qualified == title) || level.contains(&qualified)
                    })
                    .or_else(|| {
                        level.names().find_map(|n| {
                            several
                                .iter()
                                .find(|p| n.starts_with(&format!("{p}:{local},")))
                        })
                    })
                    .map(|p| (*p).to_string())
            }
        }
    }
}

/// Axiom's `OMElement.getText()`: the element's own text and CDATA children, untrimmed.
fn own_text(node: Node) -> String {
    node.children()
        .filter(Node::is_text)
        .filter_map(|n| n.text())
        .collect()
}

/// A text as the schema types it (XMLInputReader.writeFieldElement): a string as it is, a number
/// by `Double.parseDouble`, an integer by `Integer.parseInt`, a boolean by
/// `Boolean.parseBoolean`; any other type as a string.
pub fn typed(name: &str, text: &str, kind: &str) -> Result<Value, DataMapperError> {
    match kind {
        types::NUMBER => java_parse_double(text)
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| {
                DataMapperError::Input(format!(
                    "{name} is \"{text}\", which is not a number (the input schema types it number)"
                ))
            }),
        types::INTEGER => text.parse::<i32>().ok().map(Value::from).ok_or_else(|| {
            DataMapperError::Input(format!(
                "{name} is \"{text}\", which is not an integer (the input schema types it integer)"
            ))
        }),
        types::BOOLEAN => Ok(Value::Bool(text.eq_ignore_ascii_case("true"))),
        _ => Ok(Value::String(text.to_string())),
    }
}

/// Java's `Double.parseDouble` for the texts a message carries: surrounding whitespace (any char
/// up to U+0020) ignored, a trailing `d`/`f` type suffix allowed. Only finite values: the JSON
/// text MI builds from NaN or an infinity is not JSON and its script fails.
fn java_parse_double(text: &str) -> Option<f64> {
    let t = text.trim_matches(|c: char| c <= ' ');
    let t = t
        .strip_suffix(['d', 'D', 'f', 'F'])
        .filter(|rest| rest.ends_with(|c: char| c.is_ascii_digit() || c == '.'))
        .unwrap_or(t);
    if !t
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
    {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The records of a CSV text as the script's input: an array of objects whose fields are the
/// input schema's item properties, by position, typed as for XML (CSVInputReader).
pub fn csv_to_json(csv: &str, schema: &Schema) -> Result<Value, DataMapperError> {
    let records = parse_csv(csv)?;
    let properties = schema
        .root_items()
        .and_then(|items| items.get("properties"))
        .and_then(Value::as_object)
        .ok_or_else(|| {
            DataMapperError::Input(
                "the input schema of a CSV input needs items with properties (the columns)".into(),
            )
        })?;
    let columns: Vec<(&String, &str)> = properties
        .iter()
        .map(|(name, entry)| (name, entry.as_object().map_or(types::NULL, entry_type)))
        .collect();
    let mut rows = Vec::with_capacity(records.len());
    for (index, record) in records.iter().enumerate() {
        if record.len() > columns.len() {
            return Err(DataMapperError::Input(format!(
                "CSV record {} has {} fields; the input schema names {} columns",
                index + 1,
                record.len(),
                columns.len()
            )));
        }
        let mut row = Map::new();
        for (field, (name, kind)) in record.iter().zip(&columns) {
            row.insert((*name).clone(), typed(name, field, kind)?);
        }
        rows.push(Value::Object(row));
    }
    Ok(Value::Array(rows))
}

/// Splits CSV text into records as opencsv's `CSVReader` (MI's reader) does with its defaults:
/// `,` between fields, `"` quoting with `""` for a quote inside, `\` escaping a quote or
/// itself, whitespace before an opening quote ignored, a quoted field spanning lines. Blank
/// lines are skipped.
pub fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, DataMapperError> {
    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    // Whether the current field had a quoted part (an empty quoted field is still a field).
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('"') | Some('\\')) => {
                if let Some(next) = chars.next() {
                    field.push(next);
                }
            }
            '"' if in_quotes => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            }
            '"' => {
                if field.chars().all(char::is_whitespace) {
                    field.clear();
                }
                in_quotes = true;
                quoted = true;
            }
            ',' if !in_quotes => {
                record.push(std::mem::take(&mut field));
                quoted = false;
            }
            '\r' | '\n' if !in_quotes => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                if !record.is_empty() || !field.is_empty() || quoted {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                quoted = false;
            }
            c => field.push(c),
        }
    }
    if in_quotes {
        return Err(DataMapperError::Input(
            "the CSV input ends inside a quoted field".into(),
        ));
    }
    if !record.is_empty() || !field.is_empty() || quoted {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::payload::parse_document;

    fn convert(schema: &str, xml: &str) -> Result<String, DataMapperError> {
        let schema = Schema::parse(schema, "input schema").unwrap();
        let doc = parse_document(xml).unwrap();
        xml_to_json(doc.root_element(), &schema).map(|v| v.to_string())
    }

    const ORDER_SCHEMA: &str = r#"{
      "$schema": "http://wso2.org/json-schema/wso2-data-mapper-v5.0.0/schema#",
      "title": "order", "type": "object",
      "properties": {
        "id": {"type": "integer"},
        "customer": {"type": "string"},
        "total": {"type": "number"},
        "paid": {"type": "boolean"},
        "line": {"type": "array", "items": [{"type": "object", "properties": {
            "sku": {"type": "string"}, "qty": {"type": "number"}},
            "attributes": {"unit": {"type": "string"}}}]},
        "tag": {"type": "array", "items": [{"type": "string"}]},
        "note": {"type": "object", "value": {"type": "string"},
                 "attributes": {"lang": {"type": "string"}, "priority": {"type": "number"}}}
      }
    }"#;

    // XMLInputReader: types from the schema, a one-element array stays an array, unknown
    // elements are left out, the text of an object element is _ELEMVAL.
    #[test]
    fn xml_becomes_json_typed_by_the_schema() {
        let json = convert(
            ORDER_SCHEMA,
            r#"<order>
                 <id>42</id><customer> Ann </customer><total>19.5</total><paid>TRUE</paid>
                 <line unit="pcs"><sku>A-1</sku><qty>2</qty><colour>red</colour></line>
                 <tag>new</tag>
                 <note lang="en" priority="1">fragile</note>
                 <unknown><id>7</id></unknown>
               </order>"#,
        )
        .unwrap();
        assert_eq!(
            json,
            r#"{"id":42,"customer":" Ann ","total":19.5,"paid":true,"line":[{"attr_unit":"pcs","sku":"A-1","qty":2.0}],"tag":["new"],"note":{"_ELEMVAL":"fragile","attr_lang":"en","attr_priority":1.0}}"#
        );
    }

    #[test]
    fn consecutive_siblings_form_one_array_and_a_later_run_replaces_it() {
        let json = convert(
            ORDER_SCHEMA,
            "<order><tag>a</tag><tag>b</tag><customer>c</customer><tag>z</tag></order>",
        )
        .unwrap();
        assert_eq!(json, r#"{"tag":["z"],"customer":"c"}"#);
    }

    // The MI data mapper test ESBJAVA5021MultiplePrefixesAndDashSupport's shape: prefixes from
    // the schema (two for one URL), `-` encoded, xsi:type qualified names.
    #[test]
    fn namespaces_prefixes_and_xsi_types_name_the_fields() {
        let schema = r#"{
          "title": "soapenv:Envelope", "type": "object",
          "properties": {"soapenv:Body": {"type": "object", "properties": {
            "data": {"type": "object", "properties": {
              "t1:aaa-aaa": {"type": "string"},
              "t2:b": {"type": "string"},
              "t2:name,xsi:type=xsd:string": {"type": "object", "value": {"type": "string"},
                 "attributes": {"t1:nameType": {"type": "string"}, "xsi:type": {"type": "string"}}}
            }}}}},
          "namespaces": [
            {"prefix": "soapenv", "url": "http://schemas.xmlsoap.org/soap/envelope/"},
            {"prefix": "t1", "url": "urn:t"}, {"prefix": "t2", "url": "urn:t"},
            {"prefix": "xsi", "url": "http://www.w3.org/2001/XMLSchema-instance"},
            {"prefix": "xsd", "url": "http://www.w3.org/2001/XMLSchema"}]
        }"#;
        let json = convert(
            schema,
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:x2="http://www.w3.org/2001/XMLSchema">
                 <s:Body><data xmlns:a="urn:t">
                   <a:aaa-aaa>A</a:aaa-aaa><a:b>B</a:b>
                   <a:name a:nameType="id" xsi:type="x2:string">car</a:name>
                 </data></s:Body></s:Envelope>"#,
        )
        .unwrap();
        assert_eq!(
            json,
            r#"{"soapenv_Body":{"data":{"t1_aaa_EnC0DeCHaRHyPh3n_aaa":"A","t2_b":"B","t2_name_Separat0r_xsi_type_xsd_string":{"_ELEMVAL":"car","attr_t1_nameType":"id","attr_xsi_type":"x2:string"}}}}"#
        );
    }

    #[test]
    fn xsi_nil_elements_are_empty_and_attributes_of_primitives_go_to_the_parent() {
        let schema = r#"{"title": "r", "type": "object", "properties": {
            "a": {"type": "object", "properties": {"b": {"type": "string"}}},
            "n": {"type": "number", "attributes": {"unit": {"type": "string"}}}},
            "namespaces": [{"prefix": "xsi", "url": "http://www.w3.org/2001/XMLSchema-instance"}]}"#;
        let json = convert(
            schema,
            r#"<r xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><a xsi:nil="true"><b>x</b></a><n unit="kg">5</n></r>"#,
        )
        .unwrap();
        assert_eq!(json, r#"{"a":{},"n":5.0,"attr_unit":"kg"}"#);
    }

    #[test]
    fn text_that_does_not_fit_its_type_and_wrong_roots_are_errors() {
        let err = convert(ORDER_SCHEMA, "<order><total>lots</total></order>").unwrap_err();
        assert_eq!(
            err.to_string(),
            "total is \"lots\", which is not a number (the input schema types it number)"
        );
        let err = convert(ORDER_SCHEMA, "<order><id>4.5</id></order>").unwrap_err();
        assert!(err.to_string().contains("not an integer"), "{err}");
        let err = convert(ORDER_SCHEMA, "<invoice/>").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the input's root element is invoice, but the input schema's root (title) is order"
        );
        let err = convert(ORDER_SCHEMA, r#"<order><tag k="v">a</tag></order>"#).unwrap_err();
        assert!(err.to_string().contains("inside array tag"), "{err}");
    }

    #[test]
    fn java_double_parsing() {
        assert_eq!(java_parse_double(" 2.5 "), Some(2.5));
        assert_eq!(java_parse_double("1e3"), Some(1000.0));
        assert_eq!(java_parse_double("7d"), Some(7.0));
        assert_eq!(java_parse_double("-0.5F"), Some(-0.5));
        assert_eq!(java_parse_double("NaN"), None);
        assert_eq!(java_parse_double("inf"), None);
        assert_eq!(java_parse_double(""), None);
        assert_eq!(java_parse_double("1,5"), None);
    }

    #[test]
    fn csv_records_map_to_the_schema_columns_by_position() {
        let schema = Schema::parse(
            r#"{"type": "array", "items": [{"type": "object", "properties": {
                "name": {"type": "string"}, "age": {"type": "number"}, "member": {"type": "boolean"}}}]}"#,
            "input schema",
        )
        .unwrap();
        let json = csv_to_json("Ann,31,true\r\n\"Smith, Bob\",40.5,no\n\n", &schema).unwrap();
        assert_eq!(
            json.to_string(),
            r#"[{"name":"Ann","age":31.0,"member":true},{"name":"Smith, Bob","age":40.5,"member":false}]"#
        );
        let err = csv_to_json("a,1,true,extra", &schema).unwrap_err();
        assert_eq!(
            err.to_string(),
            "CSV record 1 has 4 fields; the input schema names 3 columns"
        );
        assert!(csv_to_json("x,notanumber", &schema).is_err());
    }

    #[test]
    fn csv_quoting_follows_opencsv() {
        assert_eq!(
            parse_csv("a,\"b \"\"q\"\" c\",  \"d\",\"\"\n\"multi\nline\",x\\\"y").unwrap(),
            vec![vec!["a", "b \"q\" c", "d", ""], vec!["multi\nline", "x\"y"],]
        );
        assert!(parse_csv("\"open").is_err());
        assert!(parse_csv("").unwrap().is_empty());
    }
}
