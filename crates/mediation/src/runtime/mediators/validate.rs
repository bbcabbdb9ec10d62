//! `<validate>` (SYN `mediators/builtin/ValidateMediator.java`): a JSON payload (or
//! `json-source="true"`) is validated with JSON Schema, anything else with W3C XML Schema; a
//! message that does not validate runs `<on-fail>` with `ERROR_MESSAGE` and `ERROR_DETAIL` set.
//!
//! - JSON: the schema is the entry of the **last** `<schema key>` (ValidateMediator overwrites it
//!   per key); drafts as MI's validator (java-json-tools): `$schema` picks draft 4, 6, 7, 2019-09 or
//!   2020-12, none means draft 4. The instance is `source` (a `json-eval` or `${...}`) or the whole
//!   payload, `{}` when empty. `ERROR_MESSAGE` is the first error in MI's wording,
//!   `ERROR_DETAIL` "Error while validating Json message " and the report.
//! - XML: all schema keys form one schema (Xerces' `newSchema(Source[])`), compiled by libxml2
//!   ([`crate::runtime::xsd`]). The instance is the first element `source` selects, by default
//!   the first child of the SOAP body; none is an on-fail with "Error occurred while accessing
//!   source element: SOURCE". `ERROR_MESSAGE` is every error followed by a newline (libxml2's
//!   wording, not Xerces' `cvc-...` text).
//!
//! Schemas of static keys compile when the artifact deploys; `key="{expr}"` schemas compile on
//! first use and are kept (a deployment's entries do not change while it serves).

use std::sync::{Arc, Mutex};

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope, props};
use crate::runtime::mediators::Mediator;
use crate::runtime::payload::{Payload, body_element, parse_document};
use crate::runtime::value::{CtxEnv, ValueSource};
use crate::runtime::xsd::{XsdError, XsdSchema};
use crate::xpath::XValue;

/// SYN `SourceXPathSupport.DEFAULT_XPATH`: what MI names the default source in messages.
pub const DEFAULT_XML_SOURCE: &str =
    "s11:Body/child::*[position()=1] | s12:Body/child::*[position()=1]";

/// Most schema sets of dynamic keys kept per mediator (each distinct combination of keys is
/// compiled once); past it the oldest is dropped.
pub const MAX_DYNAMIC_SCHEMA_SETS: usize = 64;

/// The schemas of one set of keys, compiled both ways: which one is used depends on the message.
pub struct CompiledSchemas {
    /// The keys as Java's `List.toString` writes them, for messages.
    names: String,
    xsd: Result<XsdSchema, String>,
    json: Result<jsonschema::Validator, String>,
}

impl std::fmt::Debug for CompiledSchemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CompiledSchemas({})", self.names)
    }
}

impl CompiledSchemas {
    /// Compiles the entries' `texts` (in key order) with the `<resource>`s' texts, both ways.
    pub fn compile(
        keys: &[String],
        texts: &[String],
        resources: &[(String, String)],
    ) -> CompiledSchemas {
        let names = format!("[{}]", keys.join(", "));
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let xsd = XsdSchema::compile(&refs, resources).map_err(|e| e.to_string());
        let json = match texts.last() {
            Some(text) => json_schema(text),
            None => Err("no schema".into()),
        };
        CompiledSchemas { names, xsd, json }
    }

    /// Why no message can use these schemas: they are neither XML Schema nor (the last one)
    /// JSON Schema.
    pub fn unusable(&self) -> Option<String> {
        match (&self.xsd, &self.json) {
            (Err(x), Err(j)) => Some(format!(
                "schema {} is neither an XML Schema ({x}) nor a JSON Schema ({j})",
                self.names
            )),
            _ => None,
        }
    }
}

/// A JSON Schema as MI's validator reads it: draft 4 unless `$schema` names another draft.
fn json_schema(text: &str) -> Result<jsonschema::Validator, String> {
    let schema: serde_json::Value =
        serde_json::from_str(text.trim()).map_err(|e| format!("not JSON: {e}"))?;
    let declared = schema.get("$schema").and_then(|s| s.as_str());
    if declared.is_some_and(|s| s.contains("draft-03")) {
        return Err("draft-03 JSON schemas are not supported (use draft 4 or later)".into());
    }
    let mut options = jsonschema::options();
    if declared.is_none() {
        options = options.with_draft(jsonschema::Draft::Draft4);
    }
    options.build(&schema).map_err(|e| e.to_string())
}

/// Schema sets of dynamic keys compiled so far, by their joined keys, oldest first.
pub type CompiledSets = Arc<Mutex<Vec<(String, Arc<CompiledSchemas>)>>>;

/// Where the schemas come from.
#[derive(Debug, Clone)]
pub enum Schemas {
    /// Every key is static: compiled at deploy.
    Static(Arc<CompiledSchemas>),
    /// Some key is `{expr}`: the entries are looked up per message, each set compiled once.
    Dynamic {
        keys: Vec<ValueSource>,
        resources: Arc<Vec<(String, String)>>,
        compiled: CompiledSets,
    },
}

#[derive(Debug, Clone)]
pub struct Validate {
    pub source: Option<ValueSource>,
    /// The source as written, for messages.
    pub source_text: Option<String>,
    pub schemas: Schemas,
    pub json_source: bool,
    pub on_fail: Vec<Mediator>,
}

impl Validate {
    /// Validates the message: `Ok(true)` when it is valid; `Ok(false)` when it is not, with the
    /// error properties set for `<on-fail>`; `Err` for what MI's `handleException` faults.
    pub fn validate<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<bool, String> {
        let schemas = self.schemas(ctx)?;
        let failure = if self.json_source || matches!(ctx.payload, Some(Payload::Json(_))) {
            self.validate_json(&schemas, ctx)?
        } else {
            self.validate_xml(&schemas, ctx)?
        };
        match failure {
            None => Ok(true),
            Some((message, detail)) => {
                ctx.set(Scope::Default, props::ERROR_MESSAGE, message)?;
                ctx.set(Scope::Default, props::ERROR_DETAIL, detail)?;
                Ok(false)
            }
        }
    }

    fn schemas<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
    ) -> Result<Arc<CompiledSchemas>, String> {
        let (keys, resources, compiled) = match &self.schemas {
            Schemas::Static(s) => return Ok(s.clone()),
            Schemas::Dynamic {
                keys,
                resources,
                compiled,
            } => (keys, resources, compiled),
        };
        let mut names = Vec::with_capacity(keys.len());
        for key in keys {
            names.push(key.resolve(ctx)?);
        }
        let joined = names.concat();
        let cached = compiled
            .lock()
            .ok()
            .and_then(|c| c.iter().find(|(k, _)| *k == joined).map(|(_, s)| s.clone()));
        if let Some(schemas) = cached {
            return Ok(schemas);
        }
        let mut texts = Vec::with_capacity(names.len());
        for name in &names {
            // ValidateMediator: "No Schema is available with the key  : KEY".
            let text = entry_text(ctx, name)
                .ok_or_else(|| format!("No Schema is available with the key  : {name}"))?;
            texts.push(text);
        }
        let schemas = CompiledSchemas::compile(&names, &texts, resources);
        if let Some(why) = schemas.unusable() {
            return Err(why);
        }
        let schemas = Arc::new(schemas);
        if let Ok(mut c) = compiled.lock() {
            if c.len() >= MAX_DYNAMIC_SCHEMA_SETS {
                c.remove(0);
            }
            c.push((joined, schemas.clone()));
        }
        Ok(schemas)
    }

    /// The JSON branch: `Some((ERROR_MESSAGE, ERROR_DETAIL))` when the instance is invalid.
    fn validate_json<B: MessageBody>(
        &self,
        schemas: &CompiledSchemas,
        ctx: &MessageContext<B>,
    ) -> Result<Option<(String, String)>, String> {
        let validator = schemas
            .json
            .as_ref()
            .map_err(|e| format!("Error while validating the JSON Schema: {e}"))?;
        let parsed;
        let instance = match &self.source {
            Some(source @ (ValueSource::Json(_) | ValueSource::Synapse(_))) => {
                let text = source.resolve(ctx)?;
                let text = if text.is_empty() { "{}" } else { text.as_str() };
                parsed = serde_json::from_str::<serde_json::Value>(text).map_err(|e| {
                    format!(
                        "Error while validating the JSON Schema for JSONPath {}: {e}",
                        self.source_text.as_deref().unwrap_or_default()
                    )
                })?;
                &parsed
            }
            Some(_) => {
                return Err("Could not find JSONPath or Synapse Expression to extract the message to validate from the payload".into());
            }
            None => match &ctx.payload {
                Some(Payload::Json(json)) => json.value(),
                _ => {
                    parsed = serde_json::Value::Object(Default::default());
                    &parsed
                }
            },
        };
        let mut errors = validator.iter_errors(instance);
        let Some(error) = errors.next() else {
            return Ok(None);
        };
        let message = match error.kind() {
            // java-json-tools reports every missing property of an object in one message, sorted.
            jsonschema::error::ValidationErrorKind::Required { property } => {
                let mut missing = vec![property.to_string()];
                for other in errors {
                    if let jsonschema::error::ValidationErrorKind::Required { property } =
                        other.kind()
                        && other.instance_path() == error.instance_path()
                        && other.schema_path() == error.schema_path()
                    {
                        missing.push(property.to_string());
                    }
                }
                missing.sort();
                missing.dedup();
                format!(
                    "object has missing required properties ([{}])",
                    missing.join(",")
                )
            }
            _ => mi_json_message(&error),
        };
        // ProcessingMessage.toString(): the pointer of the schema holding the keyword.
        let schema_path = error.schema_path().to_string();
        let schema_pointer = schema_path
            .rsplit_once('/')
            .map_or("", |(parent, _)| parent);
        let detail = format!(
            "Error while validating Json message error: {message}\n    level: \"error\"\n    schema: {{\"loadingURI\":\"#\",\"pointer\":\"{schema_pointer}\"}}\n    instance: {{\"pointer\":\"{}\"}}\n    domain: \"validation\"\n    keyword: \"{}\"",
            error.instance_path(),
            error.kind().keyword()
        );
        Ok(Some((message, detail)))
    }

    /// The XML branch: `Some((ERROR_MESSAGE, ERROR_DETAIL))` when the element is invalid or
    /// cannot be found.
    fn validate_xml<B: MessageBody>(
        &self,
        schemas: &CompiledSchemas,
        ctx: &MessageContext<B>,
    ) -> Result<Option<(String, String)>, String> {
        let source_name = self.source_text.as_deref().unwrap_or(DEFAULT_XML_SOURCE);
        let access_error = |detail: String| {
            Some((
                format!("Error occurred while accessing source element: {source_name}"),
                detail,
            ))
        };
        let element = match self.element(ctx)? {
            Ok(xml) => xml,
            Err(detail) => return Ok(access_error(detail)),
        };
        let schema = schemas.xsd.as_ref().map_err(|e| {
            format!(
                "Error creating a new schema objects for schemas : {}: {e}",
                schemas.names
            )
        })?;
        match schema.validate(&element) {
            Ok(errors) if errors.is_empty() => Ok(None),
            Ok(errors) => {
                let detail = errors.last().cloned().unwrap_or_default();
                let mut message = String::new();
                for e in &errors {
                    message.push_str(e);
                    message.push('\n');
                }
                Ok(Some((message, detail)))
            }
            // A string source that is not XML: SynapseConfigUtils.stringToOM fails.
            Err(XsdError::NotWellFormed) => Ok(access_error(
                "the source is not a well-formed XML element".into(),
            )),
            Err(e) => Err(format!("Error validating {source_name} element: {e}")),
        }
    }

    /// The element to validate as XML text, or `Err(detail)` when the source selects none.
    fn element<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
    ) -> Result<Result<String, String>, String> {
        let empty = Payload::Empty;
        let envelope = ctx.payload.as_ref().unwrap_or(&empty).envelope_xml();
        let doc = parse_document(&envelope)
            .map_err(|e| format!("the message is not well-formed XML: {e}"))?;
        let missing = |x: &str| {
            format!("The evaluation of the XPath expression {x} did not result in an OMNode : null")
        };
        Ok(match &self.source {
            None => match body_element(&doc).and_then(|b| b.children().find(|n| n.is_element())) {
                Some(first) => Ok(crate::xpath::serialize(first)),
                None => Err("the SOAP body has no element".into()),
            },
            Some(ValueSource::XPath(x)) => match x
                .evaluate(&doc, &CtxEnv(ctx))
                .map_err(|e| format!("Error evaluating XPath expression : {}: {e}", x.text()))?
            {
                XValue::Nodes(nodes) => match nodes.into_iter().next() {
                    Some(n) if n.is_element() => Ok(crate::xpath::serialize(n)),
                    Some(n) => Ok(n.text().unwrap_or_default().to_string()),
                    None => Err(missing(x.text())),
                },
                XValue::String(s) if !s.is_empty() => Ok(s),
                _ => Err(missing(x.text())),
            },
            Some(other) => match other.resolve(ctx)? {
                s if s.is_empty() => Err(missing(&other.describe())),
                s => Ok(s),
            },
        })
    }

    pub fn needs_payload(&self) -> bool {
        true
    }
}

/// Compiles an artifact's `<validate>`: `entry` gives a local entry's or registry resource's
/// text; `on_fail` is compiled by the caller. Static schema keys compile here: a missing entry
/// fails the deployment; a text that is no schema is a warning (the second value, with
/// `<resource>` keys that name nothing), and a fault
/// for the messages that reach it, as in MI, which compiles on first use (its
/// validateMediatorInvalidXPathTestProxy deploys an invalid schema and answers from on-fail
/// because the source is checked first). `<feature>`s are Xerces settings libxml2 has no
/// counterpart for, and are accepted as MI accepts them.
pub(crate) fn compile(
    v: &conflux_artifacts::mediators::Validate,
    entry: &dyn Fn(&str) -> Option<String>,
    on_fail: Vec<Mediator>,
) -> Result<(Validate, Vec<String>), (conflux_artifacts::Span, String)> {
    use conflux_artifacts::Value;
    let source = match &v.source {
        Some(e) => Some(ValueSource::compile(e).map_err(|err| (e.span.clone(), err))?),
        None => None,
    };
    // A `<resource>` whose key names nothing is only a problem if a schema imports it
    // (SchemaResourceResolver looks keys up when Xerces asks): a warning.
    let mut warnings = Vec::new();
    let mut resources = Vec::with_capacity(v.resources.len());
    for r in &v.resources {
        match entry(&r.key) {
            Some(text) => resources.push((r.location.clone(), text)),
            None => warnings.push(format!(
                "resource key {} of <validate> is not a local entry or registry resource: imports of {} fail at {}",
                r.key, r.location, r.span
            )),
        }
    }
    let schemas = if v.schemas.iter().all(|k| k.literal().is_some()) {
        let mut keys = Vec::with_capacity(v.schemas.len());
        let mut texts = Vec::with_capacity(v.schemas.len());
        for key in &v.schemas {
            let name = key.literal().unwrap_or_default();
            let text = entry(name).ok_or_else(|| {
                (
                    key.span().clone(),
                    format!("No Schema is available with the key  : {name} (no local entry or registry resource of that key)"),
                )
            })?;
            keys.push(name.to_string());
            texts.push(text);
        }
        let compiled = CompiledSchemas::compile(&keys, &texts, &resources);
        warnings.extend(
            compiled
                .unusable()
                .map(|why| format!("{why}: messages that reach it fail at {}", v.span)),
        );
        Schemas::Static(Arc::new(compiled))
    } else {
        let mut keys = Vec::with_capacity(v.schemas.len());
        for key in &v.schemas {
            keys.push(match key {
                Value::Literal(text, _) => ValueSource::Literal(text.clone()),
                Value::Dynamic(e) => {
                    ValueSource::compile(e).map_err(|err| (e.span.clone(), err))?
                }
            });
        }
        Schemas::Dynamic {
            keys,
            resources: Arc::new(resources),
            compiled: Arc::new(Mutex::new(Vec::new())),
        }
    };
    let validate = Validate {
        source,
        source_text: v.source.as_ref().map(|e| e.text.clone()),
        schemas,
        json_source: v.json_source,
        on_fail,
    };
    Ok((validate, warnings))
}

/// An entry's text: a local entry, else a registry resource (SYN `MessageContext.getEntry`).
fn entry_text<B>(ctx: &MessageContext<B>, key: &str) -> Option<String> {
    if let Some(text) = ctx.local_entries.get(key) {
        return Some(text.clone());
    }
    ctx.registry.text(key).map(|t| t.into_owned())
}

/// The first error as MI's validator (java-json-tools json-schema-validator) words it, for the
/// keywords MI users meet; the crate's own wording for the rest.
fn mi_json_message(error: &jsonschema::ValidationError) -> String {
    use jsonschema::error::{TypeKind, ValidationErrorKind as K};
    let instance = error.instance();
    let json = |v: &serde_json::Value| v.to_string();
    match error.kind() {
        K::Type { kind } => {
            let allowed = match kind {
                TypeKind::Single(t) => vec![t.to_string()],
                TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
            };
            format!(
                "instance type ({}) does not match any allowed primitive type (allowed: {})",
                json_type(instance),
                serde_json::Value::from(allowed)
            )
        }
        K::Required { property } => {
            format!(
                "object has missing required properties ([{}])",
                json(property)
            )
        }
        K::Minimum { limit } => format!(
            "numeric instance is lower than the required minimum (minimum: {limit}, found: {instance})"
        ),
        K::Maximum { limit } => format!(
            "numeric instance is greater than the required maximum (maximum: {limit}, found: {instance})"
        ),
        K::ExclusiveMinimum { limit } => {
            format!("numeric instance is not strictly greater than the required minimum {limit}")
        }
        K::ExclusiveMaximum { limit } => {
            format!("numeric instance is not strictly lower than the required maximum {limit}")
        }
        K::MinLength { limit } => format!(
            "string {instance} is too short (length: {}, required minimum: {limit})",
            instance.as_str().map_or(0, |s| s.chars().count())
        ),
        K::MaxLength { limit } => format!(
            "string {instance} is too long (length: {}, maximum allowed: {limit})",
            instance.as_str().map_or(0, |s| s.chars().count())
        ),
        K::Enum { options } => {
            format!("instance value ({instance}) not found in enum (possible values: {options})")
        }
        K::Pattern { pattern } => format!(
            "ECMA 262 regex {} does not match input string {instance}",
            serde_json::Value::from(pattern.as_str())
        ),
        K::AdditionalProperties { unexpected } => format!(
            "object instance has properties which are not allowed by the schema: {}",
            serde_json::Value::from(unexpected.clone())
        ),
        K::MinItems { limit } => format!(
            "array is too short: must have at least {limit} elements but instance has {} elements",
            instance.as_array().map_or(0, Vec::len)
        ),
        K::MaxItems { limit } => format!(
            "array is too long: must have at most {limit} elements but instance has {} elements",
            instance.as_array().map_or(0, Vec::len)
        ),
        K::UniqueItems => "array must not contain duplicate elements".into(),
        _ => error.to_string(),
    }
}

/// java-json-tools' NodeType names: `integer` for whole numbers.
fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERSON: &str = r#"{"type":"object","required":["name"],
        "properties":{"name":{"type":"string","minLength":2},"age":{"type":"integer","minimum":0}}}"#;

    fn first_error(schema: &str, instance: &str) -> Option<String> {
        let v = json_schema(schema).unwrap();
        let instance: serde_json::Value = serde_json::from_str(instance).unwrap();
        v.iter_errors(&instance).next().map(|e| mi_json_message(&e))
    }

    // The wording of java-json-tools' json-schema-validator, which MI's ValidateMediator puts in
    // ERROR_MESSAGE (ProcessingMessage.getMessage()).
    fn failure(schema: &str, instance: &str) -> Option<(String, String)> {
        let v = Validate {
            source: None,
            source_text: None,
            schemas: Schemas::Static(Arc::new(CompiledSchemas::compile(
                &["k".into()],
                &[schema.into()],
                &[],
            ))),
            json_source: true,
            on_fail: Vec::new(),
        };
        let mut ctx = crate::runtime::context::test_context(http::Method::POST, "/v");
        ctx.payload = Some(Payload::Json(
            serde_json::from_str::<serde_json::Value>(instance)
                .unwrap()
                .into(),
        ));
        let schemas = v.schemas(&ctx).unwrap();
        v.validate_json(&schemas, &ctx).unwrap()
    }

    // java-json-tools: every missing property in one message, sorted; ProcessingMessage's
    // toString in ERROR_DETAIL.
    #[test]
    fn missing_properties_are_reported_together() {
        let schema = r#"{"type":"object","required":["zeta","alpha"],
            "properties":{"o":{"type":"object","required":["x"]}}}"#;
        let (message, detail) = failure(schema, "{}").unwrap();
        assert_eq!(
            message,
            r#"object has missing required properties (["alpha","zeta"])"#
        );
        assert_eq!(
            detail,
            "Error while validating Json message error: object has missing required properties ([\"alpha\",\"zeta\"])\n    level: \"error\"\n    schema: {\"loadingURI\":\"#\",\"pointer\":\"\"}\n    instance: {\"pointer\":\"\"}\n    domain: \"validation\"\n    keyword: \"required\""
        );
        let (_, detail) = failure(schema, r#"{"zeta":1,"alpha":2,"o":{}}"#).unwrap();
        assert!(
            detail.contains("schema: {\"loadingURI\":\"#\",\"pointer\":\"/properties/o\"}\n    instance: {\"pointer\":\"/o\"}"),
            "{detail}"
        );
        assert_eq!(failure(schema, r#"{"zeta":1,"alpha":2}"#), None);
    }

    // Each distinct set of dynamic keys compiles once; past MAX_DYNAMIC_SCHEMA_SETS the oldest goes.
    #[test]
    fn dynamic_schema_sets_are_bounded() {
        let compiled: CompiledSets = Arc::default();
        let v = Validate {
            source: None,
            source_text: None,
            schemas: Schemas::Dynamic {
                keys: vec![ValueSource::Property(Scope::Default, "k".into())],
                resources: Arc::default(),
                compiled: compiled.clone(),
            },
            json_source: true,
            on_fail: Vec::new(),
        };
        let mut ctx = crate::runtime::context::test_context(http::Method::POST, "/v");
        ctx.local_entries = Arc::new(
            (0..=MAX_DYNAMIC_SCHEMA_SETS)
                .map(|i| (format!("s{i}"), PERSON.to_string()))
                .collect(),
        );
        for i in 0..=MAX_DYNAMIC_SCHEMA_SETS {
            ctx.set(Scope::Default, "k", format!("s{i}")).unwrap();
            v.schemas(&ctx).unwrap();
        }
        let kept = compiled.lock().unwrap();
        assert_eq!(kept.len(), MAX_DYNAMIC_SCHEMA_SETS);
        assert_eq!(kept[0].0, "s1");
        drop(kept);
        ctx.set(Scope::Default, "k", "missing".into()).unwrap();
        assert_eq!(
            v.schemas(&ctx).unwrap_err(),
            "No Schema is available with the key  : missing"
        );
    }

    #[test]
    fn json_errors_read_as_mi_writes_them() {
        assert_eq!(
            first_error(PERSON, r#"{"age":3}"#).unwrap(),
            r#"object has missing required properties (["name"])"#
        );
        assert_eq!(
            first_error(PERSON, r#"{"name":"ab","age":"x"}"#).unwrap(),
            r#"instance type (string) does not match any allowed primitive type (allowed: ["integer"])"#
        );
        assert_eq!(
            first_error(PERSON, r#"{"name":"ab","age":-1}"#).unwrap(),
            "numeric instance is lower than the required minimum (minimum: 0, found: -1)"
        );
        assert_eq!(
            first_error(PERSON, r#"{"name":"a"}"#).unwrap(),
            r#"string "a" is too short (length: 1, required minimum: 2)"#
        );
        assert_eq!(first_error(PERSON, r#"{"name":"ab","age":4}"#), None);
    }

    // Without $schema MI's validator applies draft 4: a boolean exclusiveMinimum is valid there
    // (a number in draft 6+).
    #[test]
    fn draft_4_is_the_default() {
        let schema = r#"{"type":"number","minimum":5,"exclusiveMinimum":true}"#;
        assert!(json_schema(schema).is_ok());
        assert!(first_error(schema, "5").is_some());
        assert!(first_error(schema, "6").is_none());
        assert!(
            json_schema(r#"{"$schema":"http://json-schema.org/draft-03/schema#"}"#)
                .unwrap_err()
                .contains("draft-03")
        );
    }

    #[test]
    fn a_set_compiles_as_either_kind() {
        let json = CompiledSchemas::compile(&["k".into()], &[PERSON.into()], &[]);
        assert!(json.json.is_ok() && json.xsd.is_err() && json.unusable().is_none());
        let xsd = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a"/></xs:schema>"#;
        let xml = CompiledSchemas::compile(&["k".into()], &[xsd.into()], &[]);
        assert!(xml.xsd.is_ok() && xml.json.is_err() && xml.unusable().is_none());
        let err =
            CompiledSchemas::compile(&["a".into(), "b".into()], &["x".into(), "y".into()], &[])
                .unusable()
                .unwrap();
        assert!(
            err.starts_with("schema [a, b] is neither an XML Schema"),
            "{err}"
        );
    }
}
