//! `<datamapper>` (carbon-mediation `mediator/datamapper/DataMapperMediator.java`): runs a
//! [`crate::datamapper::Mapping`] over the message and replaces the payload with its output, with
//! `messageType`/`ContentType` set for the output type (`application/json`, `application/xml`, and
//! MI's `text/xml` for CSV, whose records travel in MI's `<text>` wrapper).
//!
//! The mapping's resources are the entries of its keys (local entries, then the registry:
//! `gov:`, `conf:`, `resources:`). Static keys are read and checked when the artifact deploys;
//! `{expr}` keys are evaluated for the first message and the mapping built then is kept, as MI
//! keeps the MappingResource it builds on first use.
//!
//! With `target` (MI's schema-less mode of 2025) the script must evaluate to a function; it is
//! called with the payload as JSON and the message variables, and its result (a JSON text) becomes
//! the body or a variable. The `xsltStyleSheet` optimisation is not used: the script always runs.

use std::sync::{Arc, OnceLock};

use conflux_artifacts::Span;
use conflux_artifacts::mediators::{DataMapperTarget, DataType};
use serde_json::{Map, Value};

use crate::datamapper::{DataMapperError, Mapping, Output, Resource};
use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope, props};
use crate::runtime::payload::{ContentKind, JsonPayload, PAYLOAD_NS, Payload, escape_text};
use crate::runtime::value::ValueSource;
use crate::script::{self, Limits, Script};
use crate::synapse_expr::ExprValue;

/// The prefix of every mapping failure, as MI's `handleException` words it.
const MAPPING_FAILED: &str = "DataMapper mediator : mapping failed";

#[derive(Debug, Clone)]
pub struct DataMapper {
    mapping: MappingSource,
    /// `target`: the schema-less mode (`None`: MI's schema-driven mapping).
    target: Option<DataMapperTarget>,
    limits: Limits,
}

/// Where the mapping comes from.
#[derive(Debug, Clone)]
enum MappingSource {
    /// Built at deploy time from static keys.
    Ready(Arc<Prepared>),
    /// Some key is `{expr}`: built for the first message and kept.
    OnFirstUse(Box<Deferred>),
}

/// The keys of a mapping built on first use.
#[derive(Debug, Clone)]
struct Deferred {
    config: ValueSource,
    input_schema: ValueSource,
    output_schema: ValueSource,
    input_type: Option<DataType>,
    output_type: Option<DataType>,
    schema_less: bool,
    built: Arc<OnceLock<Result<Arc<Prepared>, String>>>,
}

/// What runs per message.
#[derive(Debug)]
enum Prepared {
    Mapping(Box<Mapping>),
    /// The schema-less mode: the script, and the declared types.
    Function {
        script: Script,
        input_type: DataType,
        output_type: DataType,
    },
}

impl DataMapper {
    /// Content aware (DataMapperMediator.isContentAware).
    pub fn needs_payload(&self) -> bool {
        true
    }

    pub fn apply<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<(), String> {
        let prepared = self.prepared(ctx)?;
        match (&*prepared, &self.target) {
            (Prepared::Mapping(mapping), _) => {
                let properties = properties(mapping, ctx);
                let empty = Payload::Empty;
                let payload = ctx.payload.as_ref().unwrap_or(&empty);
                let output = mapping
                    .run(payload, &properties, self.limits)
                    .map_err(|e| format!("{MAPPING_FAILED}: {e}"))?;
                write_output(ctx, output, mapping.input_type() == DataType::Csv)?;
                set_message_type(ctx, mapping.output_type())
            }
            (
                Prepared::Function {
                    script,
                    input_type,
                    output_type,
                },
                Some(target),
            ) => {
                let output = self
                    .run_function(script, *input_type, ctx)
                    .map_err(|e| format!("Mapping failed in DataMapper mediator: {e}"))?;
                match target {
                    DataMapperTarget::Body => write_target_body(ctx, *output_type, &output)?,
                    DataMapperTarget::Variable(name) => {
                        let value = crate::runtime::mediators::convert_value(
                            &output,
                            Some(output_type.as_str()),
                        )
                        .unwrap_or(ExprValue::String(output));
                        ctx.variables.insert(name.clone(), value);
                    }
                }
                set_message_type(ctx, *output_type)
            }
            (Prepared::Function { .. }, None) => {
                Err("DataMapper mediator : Invalid configurations".into())
            }
        }
    }

    fn prepared<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<Arc<Prepared>, String> {
        match &self.mapping {
            MappingSource::Ready(p) => Ok(p.clone()),
            MappingSource::OnFirstUse(deferred) => {
                let Deferred {
                    config,
                    input_schema,
                    output_schema,
                    input_type,
                    output_type,
                    schema_less,
                    built,
                } = &**deferred;
                built
                .get_or_init(|| {
                    let key = |v: &ValueSource| -> Result<String, String> {
                        let key = v.resolve(ctx)?;
                        if key.trim().is_empty() {
                            return Err("DataMapper mediator : Invalid configurations".into());
                        }
                        Ok(key)
                    };
                    let (config, input_schema, output_schema) =
                        (key(config)?, key(input_schema)?, key(output_schema)?);
                    let text = |key: &str, what: &str| {
                        entry_text(ctx, key).ok_or_else(|| {
                            format!("DataMapper mediator : {what} is null (no local entry or registry resource {key})")
                        })
                    };
                    let dmc = text(&config, "mapping configuration")?;
                    let input = text(&input_schema, "input schema")?;
                    let output = text(&output_schema, "output schema")?;
                    prepare(
                        (&dmc, &config),
                        (&input, &input_schema),
                        (&output, &output_schema),
                        *input_type,
                        *output_type,
                        *schema_less,
                    )
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
                })
                .clone()
            }
        }
    }

    /// The schema-less mode (DataMapperMediator.transform, ScriptRunner): the script evaluates
    /// to a function, called with the payload and the variables; its result's text.
    fn run_function<B: MessageBody>(
        &self,
        script: &Script,
        input_type: DataType,
        ctx: &MessageContext<B>,
    ) -> Result<String, DataMapperError> {
        let empty = Payload::Empty;
        let payload = ctx.payload.as_ref().unwrap_or(&empty);
        let input: Value = match (input_type, payload) {
            (DataType::Json, Payload::Json(json)) => json.value().clone(),
            (DataType::Json, _) => Value::Null,
            // JsonUtil.toJsonString(envelope): MI's XML-to-JSON of the payload.
            _ => {
                let text = payload
                    .serialize(Some(ContentKind::Json))
                    .map_err(|e| DataMapperError::Input(e.to_string()))?;
                serde_json::from_slice(&text).unwrap_or(Value::Null)
            }
        };
        let variables: Map<String, Value> = ctx
            .variables
            .iter()
            .map(|(name, value)| (name.clone(), variable_json(value)))
            .collect();
        let variables = Value::Object(variables);
        let text = script::execute(self.limits, |scope| {
            let function = scope.eval(script)?;
            let Some(function) = function.as_function() else {
                return Ok(None);
            };
            let input = scope.to_js(&input)?;
            let variables = scope.to_js(&variables)?;
            let result: rquickjs::Value = function
                .call((input, variables))
                .map_err(|e| scope.caught(e))?;
            // Graal's Value.toString(): a string as it is, anything else in JavaScript's form.
            let rquickjs::Coerced(text) = result
                .get::<rquickjs::Coerced<String>>()
                .map_err(|e| scope.caught(e))?;
            Ok(Some(text))
        })?;
        text.ok_or_else(|| {
            DataMapperError::Script(format!(
                "{} does not evaluate to a function (target mode calls it with the payload and the variables)",
                script.name()
            ))
        })
    }
}

/// Builds what runs per message from the resources' texts (and names for errors).
fn prepare(
    dmc: (&str, &str),
    input_schema: (&str, &str),
    output_schema: (&str, &str),
    input_type: Option<DataType>,
    output_type: Option<DataType>,
    schema_less: bool,
) -> Result<Prepared, DataMapperError> {
    if schema_less {
        let script = Script::compile(dmc.1, 1, dmc.0).map_err(|e| {
            DataMapperError::Config(format!(
                "the mapping configuration {} does not compile: {e}",
                dmc.1
            ))
        })?;
        // The types are still read as MI does (attributes, else the schemas).
        let schema_type = |text: &str, what: &str, key: &str| -> Option<DataType> {
            let schema = crate::datamapper::schema::Schema::parse(text, what).ok()?;
            match key {
                "input" => schema.input_type(),
                _ => schema.output_type(),
            }
        };
        let input_type = input_type
            .or_else(|| schema_type(input_schema.0, "input schema", "input"))
            .ok_or_else(|| {
                DataMapperError::Config(
                    "Input type is not defined in the input schema/synapse configuration".into(),
                )
            })?;
        let output_type = output_type
            .or_else(|| schema_type(output_schema.0, "output schema", "output"))
            .ok_or_else(|| {
                DataMapperError::Config(
                    "Output type is not defined in the output schema/synapse configuration".into(),
                )
            })?;
        return Ok(Prepared::Function {
            script,
            input_type,
            output_type,
        });
    }
    Mapping::new(
        Resource {
            text: dmc.0,
            name: dmc.1,
        },
        Resource {
            text: input_schema.0,
            name: input_schema.1,
        },
        Resource {
            text: output_schema.0,
            name: output_schema.1,
        },
        input_type,
        output_type,
    )
    .map(|m| Prepared::Mapping(Box::new(m)))
}

/// A local entry's or registry resource's text (`synCtx.getEntry(key)`).
fn entry_text<B>(ctx: &MessageContext<B>, key: &str) -> Option<String> {
    if let Some(text) = ctx.local_entries.get(key) {
        return Some(text.clone());
    }
    ctx.registry.text(key).map(|t| t.into_owned())
}

/// `DM_PROPERTIES`: `{SCOPE: {NAME: value}}` for the properties the script names
/// (DataMapperMediator.getPropertiesMap); an unknown scope or an unset property is "" (MI warns).
fn properties<B: MessageBody>(mapping: &Mapping, ctx: &MessageContext<B>) -> Map<String, Value> {
    let mut out: Map<String, Value> = Map::new();
    for reference in mapping.properties() {
        let name = reference.name.as_str();
        let value = match reference.scope.to_ascii_uppercase().as_str() {
            "DEFAULT" | "SYNAPSE" => ctx.get_string(Scope::Default, name),
            "TRANSPORT" => ctx.get(Scope::Transport, name),
            "AXIS2" => ctx.get(Scope::Axis2, name),
            "AXIS2CLIENT" => ctx.get(Scope::Axis2Client, name),
            "OPERATION" => ctx.get(Scope::Operation, name),
            "FUNC" => ctx.func_stack.last().and_then(|frame| frame.get(name, ctx)),
            other => {
                tracing::warn!(target: "conflux::mediation", "{{{}}} data mapper: {other} scope is not found. Setting it to an empty value.", ctx.artifact);
                Some(String::new())
            }
        };
        let value = value.unwrap_or_else(|| {
            tracing::warn!(target: "conflux::mediation", "{{{}}} data mapper: {}['{name}'] not found. Setting it to an empty value.", ctx.artifact, reference.scope);
            String::new()
        });
        if let Value::Object(scope) = out
            .entry(reference.scope.clone())
            .or_insert_with(|| Value::Object(Map::new()))
        {
            scope.insert(name.to_string(), Value::String(value));
        }
    }
    out
}

/// The mapping's output as the new payload (transformWithSchemaValidation). CSV records from a
/// CSV input replace the text of the input's text wrapper (the message stays text); from any
/// other input they go into a new `<text xmlns="http://ws.apache.org/commons/ns/payload">`.
fn write_output<B: MessageBody>(
    ctx: &mut MessageContext<B>,
    output: Output,
    csv_input: bool,
) -> Result<(), String> {
    match output {
        Output::Json { text, value } => {
            ctx.set_payload(Payload::Json(JsonPayload::with_text(value, text)));
            Ok(())
        }
        Output::Xml(text) => set_xml(ctx, &text),
        Output::Csv(csv) if csv_input => {
            ctx.set_payload(Payload::Text(csv));
            Ok(())
        }
        Output::Csv(csv) => set_xml(
            ctx,
            &format!("<text xmlns=\"{PAYLOAD_NS}\">{}</text>", escape_text(&csv)),
        ),
    }
}

/// XML output: a SOAP envelope replaces the message; anything else replaces the body's content
/// (the whole message when it is not SOAP). The text is read the way Axiom would read it back
/// (AXIOMUtil.stringToOM) and written as the rest of Conflux writes elements.
fn set_xml<B: MessageBody>(ctx: &mut MessageContext<B>, text: &str) -> Result<(), String> {
    let normalized = {
        let doc = crate::runtime::payload::parse_document(text).map_err(|e| {
            format!("{MAPPING_FAILED}: the mapping's XML output is not well-formed: {e}")
        })?;
        crate::xpath::serialize(doc.root_element())
    };
    let replacement =
        Payload::xml(normalized.clone()).map_err(|e| format!("{MAPPING_FAILED}: {e}"))?;
    match (&replacement, ctx.payload.as_mut()) {
        (Payload::Xml { soap: None, .. }, Some(current @ Payload::Xml { soap: Some(_), .. })) => {
            current
                .set_body_xml(&normalized)
                .map_err(|e| format!("{MAPPING_FAILED}: {e}"))?;
            let current = current.clone();
            ctx.set_payload(current);
        }
        _ => ctx.set_payload(replacement),
    }
    Ok(())
}

/// The schema-less mode's body (DataMapperMediator.setOutput): JSON as the new JSON payload;
/// XML or CSV through MI's JSON-to-XML, whose first element becomes the body.
fn write_target_body<B: MessageBody>(
    ctx: &mut MessageContext<B>,
    output_type: DataType,
    output: &str,
) -> Result<(), String> {
    let value: Value = serde_json::from_str(output.trim()).map_err(|e| {
        format!("Unable to add output JSON to Message Context in Data Mapper mediator. {e}")
    })?;
    if output_type == DataType::Json {
        ctx.set_payload(Payload::Json(JsonPayload::with_text(
            value,
            output.to_string(),
        )));
        return Ok(());
    }
    let xml = crate::runtime::payload::json_as_xml(&value);
    let doc = crate::runtime::payload::parse_document(&xml).map_err(|e| {
        format!("Unable to convert output JSON to XML in Data Mapper mediator. {e}")
    })?;
    let first = doc
        .root_element()
        .first_element_child()
        .map(crate::xpath::serialize)
        .unwrap_or_default();
    if first.is_empty() {
        ctx.set_payload(Payload::Empty);
        return Ok(());
    }
    set_xml(ctx, &first)
}

/// `messageType` and `ContentType` for the output type (DataMapperMediator.mediate).
fn set_message_type<B: MessageBody>(
    ctx: &mut MessageContext<B>,
    output_type: DataType,
) -> Result<(), String> {
    let content_type = match output_type {
        DataType::Json => "application/json",
        DataType::Xml => "application/xml",
        DataType::Csv => "text/xml",
    };
    ctx.set(Scope::Axis2, props::MESSAGE_TYPE, content_type.into())?;
    ctx.set(Scope::Axis2, props::CONTENT_TYPE, content_type.into())?;
    ctx.remove(Scope::Axis2, props::NO_ENTITY_BODY);
    Ok(())
}

/// A message variable as Gson writes it for the schema-less mode's `vars`.
fn variable_json(value: &ExprValue) -> Value {
    match value {
        ExprValue::Null => Value::Null,
        ExprValue::Bool(b) => Value::Bool(*b),
        ExprValue::Int(i) => Value::from(*i),
        ExprValue::Long(l) => Value::from(*l),
        ExprValue::Double(d) => serde_json::Number::from_f64(*d).map_or(Value::Null, Value::Number),
        ExprValue::String(s) | ExprValue::Xml(s) => Value::String(s.clone()),
        ExprValue::Json(v) => v.clone(),
    }
}

/// Compiles `<datamapper>`: static keys are read through `entry` (text and a label for errors:
/// the key and the file it came from) and the mapping built now; `Err` carries the position.
pub(crate) fn compile(
    d: &conflux_artifacts::mediators::DataMapper,
    entry: &dyn Fn(&str) -> Option<(String, String)>,
) -> Result<DataMapper, (Span, String)> {
    use conflux_artifacts::Value as Key;
    let schema_less = d.target.is_some();
    let literal = |key: &Key| key.literal().map(str::to_string);
    let mapping = match (
        literal(&d.config),
        literal(&d.input_schema),
        literal(&d.output_schema),
    ) {
        (Some(config), Some(input), Some(output)) => {
            let read = |key: &str, span: &Span, what: &str| {
                entry(key).ok_or_else(|| {
                    (
                        span.clone(),
                        format!(
                            "DataMapper mediator : {what} is null: {key} is not a local entry or registry resource{}",
                            conflux_artifacts::registry::registry_file_path(key)
                                .map(|p| format!(" (no file registry/{p}, and no CApp registry resource of that key)"))
                                .unwrap_or_default()
                        ),
                    )
                })
            };
            let (dmc, dmc_name) = read(&config, d.config.span(), "mapping configuration")?;
            let (input_text, input_name) = read(&input, d.input_schema.span(), "input schema")?;
            let (output_text, output_name) =
                read(&output, d.output_schema.span(), "output schema")?;
            let prepared = prepare(
                (&dmc, &dmc_name),
                (&input_text, &input_name),
                (&output_text, &output_name),
                d.input_type,
                d.output_type,
                schema_less,
            )
            .map_err(|e| (d.span.clone(), e.to_string()))?;
            MappingSource::Ready(Arc::new(prepared))
        }
        _ => {
            let source = |key: &Key| match key {
                Key::Literal(text, _) => Ok(ValueSource::Literal(text.clone())),
                Key::Dynamic(expr) => {
                    ValueSource::compile(expr).map_err(|e| (expr.span.clone(), e))
                }
            };
            MappingSource::OnFirstUse(Box::new(Deferred {
                config: source(&d.config)?,
                input_schema: source(&d.input_schema)?,
                output_schema: source(&d.output_schema)?,
                input_type: d.input_type,
                output_type: d.output_type,
                schema_less,
                built: Arc::new(OnceLock::new()),
            }))
        }
    };
    Ok(DataMapper {
        mapping,
        target: d.target.clone(),
        limits: Limits::default(),
    })
}
