//! The WSO2 data mapper JSON schema (`X_inputSchema.json`, `X_outputSchema.json`) as the engine
//! reads it (carbon-mediation `datamapper/engine/core/schemas/JacksonJSONSchema.java`): a `title`
//! that names the root element (`prefix:name` for XML), `type`, `properties`, `attributes` (XML
//! attributes by `prefix:name`), `items` (array items: a list whose first entry counts, or an
//! object), `value` (the type of an object element's own text), `namespaces`
//! (`[{"prefix", "url"}]`, one URL may have several prefixes) and, in MI 4.4 schemas,
//! `inputType`/`outputType`.
//!
//! Lookups walk "levels": the names valid at one depth of the document, which is a schema's
//! `properties` and `attributes` together (attributes win a clash, as `Map.putAll` order makes
//! them), or an array item's.

use serde_json::{Map, Value};

use super::DataMapperError;
use conflux_artifacts::mediators::DataType;

/// The XML Schema instance namespace (`xsi:type`, `xsi:nil`).
pub const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// A parsed data mapper schema.
#[derive(Debug, Clone)]
pub struct Schema {
    root: Map<String, Value>,
    /// `title`: the root element's name, `None` when the schema has none (MI 4.4 array schemas).
    title: Option<String>,
    /// `namespaces` in order, as (prefix, url).
    namespaces: Vec<(String, String)>,
    /// The schema's own `inputType` / `outputType`.
    input_type: Option<DataType>,
    output_type: Option<DataType>,
}

/// The element types of the schema language, as strings the way MI compares them.
pub mod types {
    pub const OBJECT: &str = "object";
    pub const ARRAY: &str = "array";
    pub const STRING: &str = "string";
    pub const BOOLEAN: &str = "boolean";
    pub const INTEGER: &str = "integer";
    pub const NUMBER: &str = "number";
    /// Not in the schema (MI's `NULL_ELEMENT_TYPE`).
    pub const NULL: &str = "null";

    /// The types whose text becomes a JSON value.
    pub fn is_primitive(t: &str) -> bool {
        matches!(t, STRING | BOOLEAN | INTEGER | NUMBER)
    }
}

impl Schema {
    /// Parses a schema's text; `what` names it in errors ("input schema KEY").
    pub fn parse(text: &str, what: &str) -> Result<Schema, DataMapperError> {
        let value: Value = serde_json::from_str(text.trim())
            .map_err(|e| DataMapperError::Schema(format!("the {what} is not JSON: {e}")))?;
        let Value::Object(root) = value else {
            return Err(DataMapperError::Schema(format!(
                "the {what} is not a JSON object"
            )));
        };
        let title = root
            .get("title")
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut namespaces = Vec::new();
        if let Some(list) = root.get("namespaces").and_then(Value::as_array) {
            for ns in list {
                let prefix = ns.get("prefix").and_then(Value::as_str);
                let url = ns.get("url").and_then(Value::as_str);
                if let (Some(prefix), Some(url)) = (prefix, url) {
                    namespaces.push((prefix.to_string(), url.to_string()));
                }
            }
        }
        let data_type = |key: &str| -> Result<Option<DataType>, DataMapperError> {
            match root.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => DataType::parse(s).map(Some).ok_or_else(|| {
                    DataMapperError::Schema(format!(
                        "the {what} has \"{key}\": \"{s}\"; expected XML, JSON or CSV"
                    ))
                }),
                Some(other) => Err(DataMapperError::Schema(format!(
                    "the {what} has \"{key}\": {other}; expected XML, JSON or CSV"
                ))),
            }
        };
        let input_type = data_type("inputType")?;
        let output_type = data_type("outputType")?;
        Ok(Schema {
            root,
            title,
            namespaces,
            input_type,
            output_type,
        })
    }

    /// The root element's name (`title`).
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// The root's `type`.
    pub fn root_type(&self) -> &str {
        entry_type(&self.root)
    }

    pub fn input_type(&self) -> Option<DataType> {
        self.input_type
    }

    pub fn output_type(&self) -> Option<DataType> {
        self.output_type
    }

    /// The names valid under the root element: the root's `properties` only (MI's
    /// `buildNextSchema` takes no attributes for the root).
    pub fn root_level(&self) -> Level<'_> {
        Level {
            properties: self.root.get("properties").and_then(Value::as_object),
            attributes: None,
        }
    }

    /// The first array item's schema of the root (a CSV input schema).
    pub fn root_items(&self) -> Option<&Map<String, Value>> {
        items_of(&self.root)
    }

    /// The schema's prefixes for a namespace URI, in schema order (several when the schema gives
    /// one URL several prefixes). `Some(empty)` for the empty URI (no namespace), as MI's
    /// `getPrefixForNamespace("")` answers "".
    pub fn prefixes_for(&self, uri: &str) -> Option<Vec<&str>> {
        if uri.is_empty() {
            return Some(Vec::new());
        }
        let found: Vec<&str> = self
            .namespaces
            .iter()
            .filter(|(_, u)| u == uri)
            .map(|(p, _)| p.as_str())
            .collect();
        (!found.is_empty()).then_some(found)
    }

    /// MI's `getPrefixForNamespace` as one string: the prefixes joined by `,`, `""` for no
    /// namespace, `None` for a URI the schema does not declare.
    pub fn prefix_text(&self, uri: &str) -> Option<String> {
        self.prefixes_for(uri).map(|p| p.join(","))
    }

    /// The namespace of a prefix (the first declaration of it wins, as in MI's `prefixMap`).
    pub fn namespace_of(&self, prefix: &str) -> Option<&str> {
        self.namespaces
            .iter()
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.as_str())
    }

    /// The distinct prefixes with their namespace, in the order a `java.util.HashMap` built in
    /// schema order iterates them (what MI's XMLWriter declares on the root element).
    pub fn declared_namespaces(&self) -> Vec<(&str, &str)> {
        let mut distinct: Vec<(&str, &str)> = Vec::new();
        for (prefix, url) in &self.namespaces {
            if !distinct.iter().any(|(p, _)| p == prefix) {
                distinct.push((prefix, url));
            }
        }
        let keys: Vec<&str> = distinct.iter().map(|(p, _)| *p).collect();
        java_hash_map_order(&keys)
            .into_iter()
            .map(|i| distinct[i])
            .collect()
    }
}

/// The names valid at one depth: a schema's `properties` and `attributes`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Level<'s> {
    properties: Option<&'s Map<String, Value>>,
    attributes: Option<&'s Map<String, Value>>,
}

impl<'s> Level<'s> {
    /// The level under an element of schema `entry`: for an array, its items' names; for
    /// anything else, its own properties and attributes.
    pub fn under(entry: &'s Map<String, Value>) -> Level<'s> {
        let source = if entry_type(entry) == types::ARRAY {
            match items_of(entry) {
                Some(items) => items,
                None => return Level::default(),
            }
        } else {
            entry
        };
        Level {
            properties: source.get("properties").and_then(Value::as_object),
            attributes: source.get("attributes").and_then(Value::as_object),
        }
    }

    /// The schema entry of `name` at this level.
    pub fn get(&self, name: &str) -> Option<&'s Map<String, Value>> {
        self.attributes
            .and_then(|a| a.get(name))
            .or_else(|| self.properties.and_then(|p| p.get(name)))
            .and_then(Value::as_object)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every name at this level.
    pub fn names(&self) -> impl Iterator<Item = &'s str> {
        let props = self.properties.into_iter().flat_map(|m| m.keys());
        let attrs = self.attributes.into_iter().flat_map(|m| m.keys());
        props.chain(attrs).map(String::as_str)
    }

    /// The type of `name` at this level, [`types::NULL`] when it is not here.
    pub fn type_of(&self, name: &str) -> &'s str {
        self.get(name).map_or(types::NULL, entry_type)
    }
}

/// An entry's `type` (a string; a list of types counts by its first non-null one, which MI's
/// cast would refuse), [`types::NULL`] without one.
pub fn entry_type(entry: &Map<String, Value>) -> &str {
    match entry.get("type") {
        Some(Value::String(t)) => t,
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != types::NULL)
            .unwrap_or(types::NULL),
        _ => types::NULL,
    }
}

/// The schema of an array's items: the first entry of an `items` list, or an `items` object.
pub fn items_of(entry: &Map<String, Value>) -> Option<&Map<String, Value>> {
    match entry.get("items")? {
        Value::Array(list) => list.first()?.as_object(),
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The type of an object element's own text (`value.type`), [`types::NULL`] when it has none.
pub fn text_type(entry: &Map<String, Value>) -> &str {
    entry
        .get("value")
        .and_then(Value::as_object)
        .map_or(types::NULL, entry_type)
}

/// Java's `String.hashCode` (UTF-16 code units, wrapping arithmetic).
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// The order a `java.util.HashMap<String, _>` with default settings iterates `keys` inserted in
/// this order (distinct keys): by bucket of the spread hash in the final table (16 buckets,
/// doubled whenever the size passes three quarters of it), insertion order within a bucket.
pub fn java_hash_map_order(keys: &[&str]) -> Vec<usize> {
    let mut capacity: usize = 16;
    while keys.len() * 4 > capacity * 3 {
        capacity *= 2;
    }
    let bucket = |key: &str| {
        let h = java_string_hash(key) as u32;
        ((h ^ (h >> 16)) as usize) & (capacity - 1)
    };
    let mut order: Vec<usize> = (0..keys.len()).collect();
    // A stable sort keeps insertion order inside a bucket.
    order.sort_by_key(|&i| bucket(keys[i]));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hash_codes_match_the_jdk() {
        // Values from java.lang.String.hashCode.
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("sf"), 3667);
        assert_eq!(java_string_hash("xsi"), 118_990);
        assert_eq!(java_string_hash("soapenv"), -2_040_404_606);
        assert_eq!(java_string_hash("axis2ns11"), 1_494_942_422);
    }

    // MI DataMapperSimpleTestCase.testXmlWithUnderscoreToXmlWithUnderscore expects the root
    // `<test xmlns:sf=... xmlns:axis2ns11=... xmlns:xsi=...>`: HashMap order, not schema order.
    #[test]
    fn root_namespaces_follow_java_hash_map_order() {
        let schema = Schema::parse(
            r#"{"title": "test", "type": "object", "properties": {},
                "namespaces": [{"prefix": "axis2ns11", "url": "urn:partner.soap.sforce.com"},
                               {"prefix": "xsi", "url": "http://www.w3.org/2001/XMLSchema-instance"},
                               {"prefix": "sf", "url": "urn:sobject.partner.soap.sforce.com"}]}"#,
            "output schema",
        )
        .unwrap();
        let prefixes: Vec<&str> = schema
            .declared_namespaces()
            .iter()
            .map(|(p, _)| *p)
            .collect();
        assert_eq!(prefixes, ["sf", "axis2ns11", "xsi"]);
    }

    #[test]
    fn a_larger_map_uses_a_larger_table() {
        let keys: Vec<String> = (0..13).map(|i| format!("p{i}")).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let order = java_hash_map_order(&refs);
        assert_eq!(order.len(), 13);
        // 13 keys pass 12 (three quarters of 16): a 32-bucket table.
        let bucket = |k: &str| {
            let h = java_string_hash(k) as u32;
            ((h ^ (h >> 16)) as usize) & 31
        };
        assert!(
            order
                .windows(2)
                .all(|w| bucket(refs[w[0]]) <= bucket(refs[w[1]]))
        );
    }

    #[test]
    fn levels_join_properties_and_attributes_and_arrays_use_their_items() {
        let schema = Schema::parse(
            r#"{"title": "r", "type": "object", "properties": {
                  "a": {"type": "object", "value": {"type": "number"},
                        "properties": {"b": {"type": "string"}},
                        "attributes": {"id": {"type": "integer"}}},
                  "list": {"type": "array", "items": [{"type": "object",
                        "properties": {"c": {"type": "boolean"}},
                        "attributes": {"k": {"type": "string"}}}]},
                  "obj_items": {"type": "array", "items": {"type": "string"}},
                  "multi": {"type": ["null", "string"]}
               }, "inputType": "xml"}"#,
            "input schema",
        )
        .unwrap();
        let root = schema.root_level();
        assert_eq!(root.type_of("a"), "object");
        assert_eq!(root.type_of("missing"), "null");
        assert_eq!(root.type_of("multi"), "string");
        let a = root.get("a").unwrap();
        assert_eq!(text_type(a), "number");
        let under_a = Level::under(a);
        assert_eq!(under_a.type_of("b"), "string");
        assert_eq!(under_a.type_of("id"), "integer");
        let under_list = Level::under(root.get("list").unwrap());
        assert_eq!(under_list.type_of("c"), "boolean");
        assert_eq!(under_list.type_of("k"), "string");
        assert_eq!(
            entry_type(items_of(root.get("obj_items").unwrap()).unwrap()),
            "string"
        );
        assert_eq!(schema.input_type(), Some(DataType::Xml));
        assert_eq!(schema.output_type(), None);
    }

    #[test]
    fn namespaces_resolve_both_ways() {
        let schema = Schema::parse(
            r#"{"title": "r", "namespaces": [
                {"prefix": "test1", "url": "http://test.com/schema"},
                {"prefix": "xsi", "url": "http://www.w3.org/2001/XMLSchema-instance"},
                {"prefix": "test2", "url": "http://test.com/schema"}]}"#,
            "input schema",
        )
        .unwrap();
        assert_eq!(
            schema.prefix_text("http://test.com/schema").as_deref(),
            Some("test1,test2")
        );
        assert_eq!(schema.prefix_text("").as_deref(), Some(""));
        assert_eq!(schema.prefix_text("urn:other"), None);
        assert_eq!(schema.namespace_of("xsi"), Some(XSI_NAMESPACE));
    }

    #[test]
    fn bad_schemas_are_errors() {
        assert!(matches!(
            Schema::parse("{", "input schema k"),
            Err(DataMapperError::Schema(m)) if m.starts_with("the input schema k is not JSON")
        ));
        assert!(matches!(
            Schema::parse("[]", "input schema k"),
            Err(DataMapperError::Schema(m)) if m == "the input schema k is not a JSON object"
        ));
        assert!(matches!(
            Schema::parse(r#"{"outputType": "YAML"}"#, "output schema k"),
            Err(DataMapperError::Schema(m)) if m.contains("\"outputType\": \"YAML\"")
        ));
    }
}
