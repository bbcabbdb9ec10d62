//! MI's data mapper (carbon-mediation `components/mediators/datamapper`): a mapping script (`.dmc`)
//! with an input and an output schema, run on the script engine ([`crate::script`]).
//!
//! A [`Mapping`] is built when the artifact deploys: the schemas parsed, the input and output
//! types settled (the mediator's attributes, else the schemas' `inputType`/`outputType`), the
//! script checked for syntax, and the JavaScript call MI would make worked out
//! (`map_S_<in>_S_<out>()` for Integration Studio's scripts and for MI 4.4's bundles, which end
//! with such a function calling the bundle's `mapFunction`; `mapFunction(JSON.parse(inputVariables))`
//! for a bundle without it; wrapped in `JSON.stringify` for JSON output). Per message,
//! [`Mapping::run`] turns the message into the script's input variable ([`input`]), runs the
//! script in a fresh scope with `DM_PROPERTIES`, and writes the result as the output type asks
//! ([`output`]).
//!
//! MI sources: carbon-mediation `mediator/datamapper/DataMapperMediator.java`, the engine's
//! `core/mapper/MappingResource.java` (function and variable names, `DM_PROPERTIES`),
//! `core/executors/ScriptExecutor.java` (what is evaluated, in which order); wso2/maven-tools
//! `vscode-car-plugin/.../datamapper/DataMapperBundler.java` (how MI 4.4 builds the `.dmc`).
//! Where Conflux differs: integral numbers the script produces print as JavaScript writes them
//! (`900`, where GraalJS keeps a double parsed from `900.0` and MI writes `900.0`); the
//! `xsltStyleSheet` optimisation is never used; a schema without `title` counts as `root`.

pub mod input;
pub mod output;
pub mod schema;

use std::sync::LazyLock;

use conflux_artifacts::mediators::DataType;
use regex::Regex;
use serde_json::{Map, Value};

use crate::runtime::payload::{Payload, body_element, parse_document};
use crate::script::{self, Limits, Script, ScriptError};
use schema::Schema;

/// What `-` is written as in names the script sees (`ENCODE_CHAR_HYPHEN`).
pub const ENCODE_CHAR_HYPHEN: &str = "_EnC0DeCHaRHyPh3n_";

/// What `,` (before an `xsi:type` qualifier) is written as in names (`NAME_SEPERATOR`).
pub const NAME_SEPARATOR: &str = "_Separat0r_";

/// The input schema title MI reads the whole SOAP envelope for (literally this text).
pub const ENVELOPE_TITLE: &str = "soapenv:Envelope";

/// The root name assumed when a schema has no `title` (MI 4.4 writes none for array roots; MI
/// itself then fails with "schema name not found").
pub const DEFAULT_ROOT_NAME: &str = "root";

/// Why a data mapper could not be set up or could not map a message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataMapperError {
    /// The mediator's configuration or its resources (deploy time).
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Schema(String),
    /// The message does not fit the input type or schema.
    #[error("{0}")]
    Input(String),
    /// The script failed, or returned nothing to map.
    #[error("{0}")]
    Script(String),
    #[error("{0}")]
    Output(String),
}

impl From<ScriptError> for DataMapperError {
    fn from(e: ScriptError) -> Self {
        DataMapperError::Script(e.to_string())
    }
}

/// A name as the script sees it (XMLInputReader.getModifiedFieldName).
pub fn encode_name(name: &str) -> String {
    name.replace(':', "_")
        .replace(',', NAME_SEPARATOR)
        .replace('=', "_")
        .replace('-', ENCODE_CHAR_HYPHEN)
}

/// A name of the script's result as written in XML (`-` restored).
pub fn decode_name(name: &str) -> String {
    name.replace(ENCODE_CHAR_HYPHEN, "-")
}

/// `DM_PROPERTIES.SCOPE['NAME']` in a script (MappingResource's pattern).
static PROPERTY_REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(DM_PROPERTIES.)([a-zA-Z_$][a-zA-Z_$0-9]*)\['([a-zA-Z_$][a-zA-Z\-_.$0-9]*)'\]")
        .expect("a valid pattern")
});

/// One property a script reads: the scope as written (`DEFAULT`, `transport`, ...) and the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyReference {
    pub scope: String,
    pub name: String,
}

/// A resource of a mapping: its text and what to call it in errors.
#[derive(Debug, Clone, Copy)]
pub struct Resource<'a> {
    pub text: &'a str,
    /// The key, and where it came from (`gov:datamapper/X.dmc (registry/governance/...)`).
    pub name: &'a str,
}

/// A data mapper ready to run.
#[derive(Debug, Clone)]
pub struct Mapping {
    input_schema: Schema,
    output_schema: Schema,
    input_type: DataType,
    output_type: DataType,
    /// `input<TITLE>`: the global the script reads its input from.
    input_variable: String,
    dmc: Script,
    /// The expression MI evaluates after the script (`JSON.stringify(map_S_a_S_b())`).
    call: Script,
    /// The script reads `inputVariables` (MI's binding of the input text) itself.
    needs_input_text: bool,
    properties: Vec<PropertyReference>,
}

/// What a mapping produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// The JSON text as the script stringified it, and its value.
    Json { text: String, value: Value },
    /// An XML document (the output schema's root element, or a SOAP envelope).
    Xml(String),
    /// CSV records (to be wrapped in MI's `<text>` element).
    Csv(String),
}

impl Mapping {
    /// Sets a mapping up from its script and schemas; `input_type`/`output_type` are the
    /// mediator's attributes (`None` reads them from the schemas).
    pub fn new(
        dmc: Resource,
        input_schema: Resource,
        output_schema: Resource,
        input_type: Option<DataType>,
        output_type: Option<DataType>,
    ) -> Result<Mapping, DataMapperError> {
        let input_schema_parsed = Schema::parse(
            input_schema.text,
            &format!("input schema {}", input_schema.name),
        )?;
        let output_schema_parsed = Schema::parse(
            output_schema.text,
            &format!("output schema {}", output_schema.name),
        )?;
        // DataMapperMediator.initializeInputOutputType.
        let input_type = input_type
            .or(input_schema_parsed.input_type())
            .ok_or_else(|| {
                DataMapperError::Config(format!(
                    "Input type is not defined in the input schema/synapse configuration (no inputType attribute, and no \"inputType\" in {})",
                    input_schema.name
                ))
            })?;
        let output_type = output_type
            .or(output_schema_parsed.output_type())
            .ok_or_else(|| {
                DataMapperError::Config(format!(
                    "Output type is not defined in the output schema/synapse configuration (no outputType attribute, and no \"outputType\" in {})",
                    output_schema.name
                ))
            })?;
        let input_title = input_schema_parsed.title().unwrap_or(DEFAULT_ROOT_NAME);
        let output_title = output_schema_parsed.title().unwrap_or(DEFAULT_ROOT_NAME);
        // ScriptExecutor.getInputVariable and MappingResource.createFunction.
        let input_variable = format!(
            "input{}",
            input_title
                .replace([':', '=', ','], "_")
                .replace('-', ENCODE_CHAR_HYPHEN)
        );
        let last_segment = |title: &str| title.rsplit(':').next().unwrap_or(title).to_string();
        let mut call = format!(
            "map_S_{}_S_{}()",
            last_segment(input_title)
                .replace([':', '=', ','], "_")
                .replace('-', ENCODE_CHAR_HYPHEN),
            last_segment(output_title)
        );
        if !dmc.text.contains(&call) && dmc.text.contains("mapFunction") {
            call = "mapFunction(JSON.parse(inputVariables))".to_string();
        }
        if output_type == DataType::Json {
            call = format!("JSON.stringify({call})");
        }
        let needs_input_text =
            call.contains("inputVariables") || dmc.text.contains("inputVariables");
        let mut properties: Vec<PropertyReference> = Vec::new();
        for found in PROPERTY_REFERENCE.captures_iter(dmc.text) {
            let reference = PropertyReference {
                scope: found[2].to_string(),
                name: found[3].to_string(),
            };
            if !properties.contains(&reference) {
                properties.push(reference);
            }
        }
        let dmc_script = Script::compile(dmc.name, 1, dmc.text).map_err(|e| {
            DataMapperError::Config(format!(
                "the mapping configuration {} does not compile: {e}",
                dmc.name
            ))
        })?;
        let call = Script::compile(&format!("{} (the mapping call)", dmc.name), 1, &call)?;
        Ok(Mapping {
            input_schema: input_schema_parsed,
            output_schema: output_schema_parsed,
            input_type,
            output_type,
            input_variable,
            dmc: dmc_script,
            call,
            needs_input_text,
            properties,
        })
    }

    pub fn input_type(&self) -> DataType {
        self.input_type
    }

    pub fn output_type(&self) -> DataType {
        self.output_type
    }

    /// The properties the script reads through `DM_PROPERTIES` (gathered per message).
    pub fn properties(&self) -> &[PropertyReference] {
        &self.properties
    }

    /// The JavaScript expression run after the script.
    pub fn call_text(&self) -> &str {
        self.call.source()
    }

    /// Maps one message: `payload` read as the input type, the script run with
    /// `DM_PROPERTIES` = `properties` (`{scope: {name: value}}`), its result written as the output
    /// type.
    pub fn run(
        &self,
        payload: &Payload,
        properties: &Map<String, Value>,
        limits: Limits,
    ) -> Result<Output, DataMapperError> {
        let built;
        let input: &Value = match self.input_type {
            DataType::Json => match payload {
                Payload::Json(json) => json.value(),
                _ => {
                    return Err(DataMapperError::Input(
                        "the input type is JSON, but the message has no JSON payload".into(),
                    ));
                }
            },
            DataType::Xml => {
                built = self.xml_input(payload)?;
                &built
            }
            DataType::Csv => {
                built = input::csv_to_json(&csv_text(payload)?, &self.input_schema)?;
                &built
            }
        };
        let input_text = match (self.needs_input_text, payload) {
            (false, _) => None,
            // JSONInputReader passes the payload's own text (its lines joined).
            (true, Payload::Json(json)) if self.input_type == DataType::Json => {
                Some(json.to_string().replace(['\n', '\r'], ""))
            }
            (true, _) => Some(input.to_string()),
        };
        let properties_value = Value::Object(properties.clone());
        let result = script::execute(limits, |scope| {
            scope.set_global_json("properties", &Value::String(properties_value.to_string()))?;
            scope.set_global_json("DM_PROPERTIES", &properties_value)?;
            scope.set_global_json(&self.input_variable, input)?;
            if let Some(text) = &input_text {
                scope.set_global_json("inputVariables", &Value::String(text.clone()))?;
            }
            scope.eval(&self.dmc)?;
            let value = scope.eval(&self.call)?;
            if let Some(text) = value.as_string() {
                let text = text.to_string().map_err(|e| scope.caught(e))?;
                return Ok(Ok(ScriptResult::Text(text)));
            }
            if value.is_object() && !value.is_function() {
                return match scope.from_js(value)? {
                    Some(v) => Ok(Ok(ScriptResult::Value(v))),
                    None => Ok(Err("a value JSON cannot hold")),
                };
            }
            Ok(Err(value.type_name()))
        })?;
        let result = result.map_err(|kind| {
            DataMapperError::Script(format!(
                "Failed to execute mapping function: {} returned {kind}, not an object or a string",
                self.call.source()
            ))
        })?;
        self.write(result)
    }

    /// The XML input: the whole envelope for a `soapenv:Envelope` schema, else the body's first
    /// element (DataMapperMediator.getInputStream).
    fn xml_input(&self, payload: &Payload) -> Result<Value, DataMapperError> {
        let envelope = payload.envelope_xml();
        let doc = parse_document(&envelope).map_err(|e| {
            DataMapperError::Input(format!("the XML input is not well-formed: {e}"))
        })?;
        let root = if self.input_schema.title() == Some(ENVELOPE_TITLE) {
            doc.root_element()
        } else {
            body_element(&doc)
                .and_then(|body| body.first_element_child())
                .ok_or_else(|| {
                    DataMapperError::Input(
                        "the input type is XML, but the message body has no element".into(),
                    )
                })?
        };
        input::xml_to_json(root, &self.input_schema)
    }

    /// The script's result as the output type.
    fn write(&self, result: ScriptResult) -> Result<Output, DataMapperError> {
        match (self.output_type, result) {
            (DataType::Json, ScriptResult::Text(text)) => {
                // ScriptExecutor: a string result has the hyphen encoding undone.
                let text = decode_name(&text);
                let value = serde_json::from_str(&text).map_err(|e| {
                    DataMapperError::Output(format!("the mapping's result is not JSON: {e}"))
                })?;
                Ok(Output::Json { text, value })
            }
            (DataType::Json, ScriptResult::Value(value)) => Ok(Output::Json {
                text: value.to_string(),
                value,
            }),
            (DataType::Xml, ScriptResult::Text(text)) => Ok(Output::Xml(decode_name(&text))),
            (DataType::Xml, ScriptResult::Value(value)) => {
                output::to_xml(&value, &self.output_schema).map(Output::Xml)
            }
            (DataType::Csv, ScriptResult::Text(text)) => Ok(Output::Csv(decode_name(&text))),
            (DataType::Csv, ScriptResult::Value(value)) => output::to_csv(&value).map(Output::Csv),
        }
    }
}

/// What the mapping call evaluated to.
enum ScriptResult {
    Text(String),
    Value(Value),
}

/// The CSV records of a message: the text of MI's `<text>` wrapper (a `text/plain` body)
/// (CSVInputReader.getCSVContent).
fn csv_text(payload: &Payload) -> Result<String, DataMapperError> {
    const MISSING: &str =
        "Request csv data not found. The csv records should contain in a <text></text> tag.";
    if let Payload::Text(text) = payload {
        return Ok(text.clone());
    }
    let envelope = payload.envelope_xml();
    let doc = parse_document(&envelope).map_err(|_| DataMapperError::Input(MISSING.into()))?;
    let first = body_element(&doc).and_then(|b| b.first_element_child());
    match first {
        Some(element) if element.tag_name().name() == "text" => Ok(element
            .children()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect()),
        _ => Err(DataMapperError::Input(MISSING.into())),
    }
}

#[cfg(test)]
mod tests;
