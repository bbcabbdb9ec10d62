//! API definitions: `GET /<API name>?swagger.json` and `?swagger.yaml` answered before any
//! dispatch, as MI's HTTP GET request processors do (carbon.xml `HttpGetRequestProcessors` items
//! `swagger.json`/`swagger.yaml` -> micro-integrator transport handlers
//! `PassThroughNHttpGetProcessor`, `RequestProcessorDispatcherUtil`, `SwaggerJsonProcessor`,
//! `SwaggerYamlProcessor`, `SwaggerGenerator`, `utils/SwaggerUtils.java`).
//!
//! Which definition (`SwaggerUtils.getAPISwagger`):
//! 1. the registry resource the API's `publishSwagger` names (else
//!    `conf:integrator/applicationdata/<name>[:v<version>]/swagger.json`), when it exists, is not
//!    XML and is not empty;
//! 2. else the swagger text its CApp carried (`metadata/<api>_swagger_<v>/`);
//! 3. else one generated from the API's resources (`generate`).
//!
//! A custom text is served as stored when its format is the one asked for; otherwise JSON is
//! read by Gson (numbers become doubles) and written by SnakeYAML, or YAML is read by SnakeYAML
//! and written by Gson. Then MI's `SwaggerGenerator.getOpenAPIJsonString` runs every answer
//! through swagger-core's OpenAPI model: a document the model reads (an OpenAPI 3 document of
//! known fields) comes out as Jackson writes it; any other (Swagger 2.0 has a `swagger` field the
//! model does not know) is left as it was. Answers are 200 with `Content-Type: application/json`
//! or `application/x-yaml`; a definition that cannot be read is a 500.
//!
//! Not done (MI differs): MI's model writes members in its classes' order and re-types values
//! (a YAML `version: 1.0` comes out `"1.0"`), and it rejects unknown fields at any depth; Conflux
//! keeps the source's order and types and checks the fields of the top three levels only. JSON is
//! recognised strictly (Gson's lenient reader also takes comments and unquoted names).

mod document;
mod generate;
mod yaml_emit;
mod yaml_load;

use std::collections::HashMap;

use base64::Engine as _;
use conflux_artifacts as art;

pub use document::Node;
pub use yaml_load::{
    MAX_YAML_CHARS, MAX_YAML_COLLECTION_ALIASES, MAX_YAML_DEPTH, MAX_YAML_NODES, YamlError,
};

use document::{Numbers, gson_pretty, jackson_pretty, parse_json};
use yaml_emit::{Dialect, emit_yaml};
use yaml_load::load_yaml;

/// `SwaggerConstants.CONTENT_TYPE_JSON`.
pub const JSON_CONTENT_TYPE: &str = "application/json";
/// `SwaggerConstants.CONTENT_TYPE_YAML`.
pub const YAML_CONTENT_TYPE: &str = "application/x-yaml";

/// Where MI looks for an API's definition when it has no `publishSwagger`
/// (`SwaggerProcessorConstants.CONFIG_REG_PREFIX` + `SwaggerConstants.DEFAULT_SWAGGER_REGISTRY_PATH`).
const DEFAULT_REGISTRY_PATH: &str = "conf:integrator/applicationdata/";

/// The format a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefinitionFormat {
    Json,
    Yaml,
}

impl DefinitionFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            DefinitionFormat::Json => JSON_CONTENT_TYPE,
            DefinitionFormat::Yaml => YAML_CONTENT_TYPE,
        }
    }
}

/// A request for an API definition: the API key named by the path (`/Name` or
/// `/Name:v1.0.0`, i.e. the path without its leading `/`) and the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefinitionRequest<'a> {
    pub api_key: &'a str,
    pub format: DefinitionFormat,
}

/// Whether `path_and_query` asks for an API definition: the query starts with the item
/// `swagger.json` or `swagger.yaml`, followed by nothing, `&` or `=`
/// (`PassThroughNHttpGetProcessor.process`). Whether the path names an API is for the caller.
pub fn definition_request(path_and_query: &str) -> Option<DefinitionRequest<'_>> {
    // A byte search: `str::find` with a `char` costs several times more on a short target, and
    // every request to an API comes here.
    let mark = path_and_query.bytes().position(|b| b == b'?')?;
    let (path, query) = (&path_and_query[..mark], &path_and_query[mark + 1..]);
    // Both items start so: most queries are ruled out here.
    if !query.starts_with("swagger.") {
        return None;
    }
    let format = [
        ("swagger.json", DefinitionFormat::Json),
        ("swagger.yaml", DefinitionFormat::Yaml),
    ]
    .into_iter()
    .find(|(item, _)| {
        query.starts_with(item)
            && (query.len() == item.len()
                || query.find('&') == Some(item.len())
                || query.find('=') == Some(item.len()))
    })?
    .1;
    Some(DefinitionRequest {
        api_key: path.get(1..).unwrap_or(""),
        format,
    })
}

/// The transport addresses generated definitions name as servers (MI `MIServerConfig.getHost`:
/// the `hostname` parameter and each listener's port, or its `WSDLEPRPrefix`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddress {
    /// `host:port` of the HTTP listener.
    pub http: String,
    /// `host:port` of the HTTPS listener.
    pub https: String,
}

impl Default for ServerAddress {
    /// MI's default `[server] hostname` and listener ports at the default offset 10.
    fn default() -> Self {
        ServerAddress {
            http: "localhost:8290".into(),
            https: "localhost:8253".into(),
        }
    }
}

impl ServerAddress {
    /// `hostname:port` for each listener.
    pub fn new(hostname: &str, http_port: u16, https_port: u16) -> Self {
        ServerAddress {
            http: format!("{hostname}:{http_port}"),
            https: format!("{hostname}:{https_port}"),
        }
    }
}

/// One resource as the generator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceShape {
    /// Upper-case; empty means any method (no operation is generated).
    pub methods: Vec<String>,
    /// The `uri-template` or `url-mapping`; `None` for a resource with neither.
    pub template: Option<String>,
    pub url_mapping: bool,
}

/// What serving one API's definition needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiDefinition {
    /// The API's `name`.
    pub name: String,
    pub context: String,
    pub version: Option<String>,
    /// `version-type`; `None` is Synapse's `DefaultStrategy` (no versioning).
    pub version_type: Option<art::VersionType>,
    /// `publishSwagger`, as written.
    pub publish_swagger: Option<String>,
    pub resources: Vec<ResourceShape>,
}

impl ApiDefinition {
    pub fn from_api(api: &art::Api) -> Self {
        ApiDefinition {
            name: api.name.clone(),
            context: api.context.clone(),
            version: api.version.clone(),
            version_type: api.version_type,
            publish_swagger: api.publish_swagger.clone(),
            resources: api
                .resources
                .iter()
                .map(|r| ResourceShape {
                    methods: r.methods.clone(),
                    template: r
                        .uri_template
                        .as_ref()
                        .or(r.url_mapping.as_ref())
                        .map(|(t, _)| t.clone()),
                    url_mapping: r.uri_template.is_none() && r.url_mapping.is_some(),
                })
                .collect(),
        }
    }

    /// Synapse `API.getName()`: the name, with `:v<version>` when there is a version; the path
    /// of the definition URL.
    pub fn key(&self) -> String {
        match &self.version {
            Some(v) => format!("{}:v{v}", self.name),
            None => self.name.clone(),
        }
    }

    /// The context, with the version for a URL-versioned API.
    fn base_path(&self) -> String {
        match self.version_type {
            Some(art::VersionType::Url) => {
                format!("{}/{}", self.context, self.version.as_deref().unwrap_or(""))
            }
            _ => self.context.clone(),
        }
    }

    /// The registry key of the custom definition (`retrieveAPISwaggerFromRegistry`).
    pub fn registry_key(&self) -> String {
        match &self.publish_swagger {
            Some(path) => art::registry_key_for_path(path, None),
            None => {
                let version = match self.version_type {
                    Some(_) => format!(":v{}", self.version.as_deref().unwrap_or("")),
                    None => String::new(),
                };
                format!("{DEFAULT_REGISTRY_PATH}{}{version}/swagger.json", self.name)
            }
        }
    }
}

/// Why a definition could not be served (MI fails the request: "Error processing request").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    #[error(
        "registry resource {key} (media type {media_type}) is not base64: MI reads a non-XML definition resource as binary, so give it a media type such as application/json or application/x-yaml"
    )]
    NotBinary { key: String, media_type: String },
    #[error("the definition of API {api} is not YAML: {error}")]
    Yaml { api: String, error: YamlError },
    #[error("the definition of API {api} is a JSON {found}, not an object")]
    NotAnObject { api: String, found: &'static str },
}

/// A definition ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionResponse {
    pub content_type: &'static str,
    pub body: String,
}

/// The definitions of the deployed APIs, by API key ([`ApiDefinition::key`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiDefinitions {
    pub server: ServerAddress,
    apis: HashMap<String, ApiDefinition>,
    /// Swagger texts from CApps, by API name.
    capp_definitions: HashMap<String, String>,
}

impl ApiDefinitions {
    /// Every API of `artifacts`, with the swagger texts their CApps carried.
    pub fn from_artifacts(artifacts: &art::Artifacts) -> Self {
        ApiDefinitions {
            server: ServerAddress::default(),
            apis: artifacts
                .apis
                .iter()
                .map(|api| {
                    let definition = ApiDefinition::from_api(api);
                    (definition.key(), definition)
                })
                .collect(),
            capp_definitions: artifacts
                .swagger
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// The API the definition URL path names.
    pub fn api(&self, key: &str) -> Option<&ApiDefinition> {
        self.apis.get(key)
    }

    /// The definition of `api` in `format`, with the registry `registry` for `publishSwagger`.
    pub fn respond(
        &self,
        api: &ApiDefinition,
        format: DefinitionFormat,
        registry: &art::Registry,
    ) -> Result<DefinitionResponse, DefinitionError> {
        let custom = match registry_definition(registry, &api.registry_key())? {
            Some(text) => Some(text),
            None => self
                .capp_definitions
                .get(&api.name)
                .filter(|t| !t.is_empty())
                .cloned(),
        };
        let body = match custom {
            Some(source) => {
                let converted = convert(&api.name, source, format)?;
                through_openapi_model(&converted, format).unwrap_or(converted)
            }
            None => {
                let tree = generate::openapi_definition(api, &self.server);
                match format {
                    DefinitionFormat::Json => jackson_pretty(&tree),
                    DefinitionFormat::Yaml => emit_yaml(&tree, Dialect::Jackson),
                }
            }
        };
        Ok(DefinitionResponse {
            content_type: format.content_type(),
            body,
        })
    }
}

/// `java.util.Base64.getDecoder()`: the standard alphabet, padding optional.
const JAVA_BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// `SwaggerUtils.fetchSwaggerFromRegistry`: a missing, XML or empty resource is no definition;
/// a binary one (not `text/plain`) is its bytes; a `text/plain` one is base64-decoded, which
/// fails for anything but base64.
fn registry_definition(
    registry: &art::Registry,
    key: &str,
) -> Result<Option<String>, DefinitionError> {
    let Some(resource) = registry.get(key) else {
        return Ok(None);
    };
    if resource.is_xml() {
        return Ok(None);
    }
    let text = if resource.is_binary() {
        // A CApp's item already reads as MI's deployer wrote it (lines ending in `\n`).
        String::from_utf8_lossy(resource.content()).into_owned()
    } else {
        let encoded = resource.text();
        match JAVA_BASE64.decode(encoded.as_bytes()) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(_) => {
                return Err(DefinitionError::NotBinary {
                    key: key.to_string(),
                    media_type: resource
                        .media_type()
                        .unwrap_or(art::registry::DEFAULT_MEDIA_TYPE)
                        .to_string(),
                });
            }
        }
    };
    Ok(Some(text).filter(|t| !t.is_empty()))
}

/// `getAPISwagger`'s conversion of a custom definition to the format asked for.
fn convert(api: &str, source: String, format: DefinitionFormat) -> Result<String, DefinitionError> {
    let json = parse_json(&source, Numbers::AllDouble);
    match (format, json) {
        (DefinitionFormat::Json, Some(_)) | (DefinitionFormat::Yaml, None) => Ok(source),
        // Gson `fromJson(text, Map.class)` then SnakeYAML `dumpAsMap`.
        (DefinitionFormat::Yaml, Some(tree)) => match tree {
            Node::Map(_) => Ok(emit_yaml(&tree, Dialect::SnakeYaml)),
            other => Err(DefinitionError::NotAnObject {
                api: api.to_string(),
                found: kind(&other),
            }),
        },
        // SnakeYAML `load` then Gson `toJson(value, LinkedHashMap.class)`.
        (DefinitionFormat::Json, None) => {
            let tree = load_yaml(&source).map_err(|error| DefinitionError::Yaml {
                api: api.to_string(),
                error,
            })?;
            match tree {
                Node::Map(_) | Node::Null => Ok(gson_pretty(&tree)),
                other => Err(DefinitionError::NotAnObject {
                    api: api.to_string(),
                    found: kind(&other),
                }),
            }
        }
    }
}

fn kind(node: &Node) -> &'static str {
    match node {
        Node::Null => "null",
        Node::Bool(_) => "boolean",
        Node::Int(_) | Node::Float(_) => "number",
        Node::Str(_) => "string",
        Node::Seq(_) => "array",
        Node::Map(_) => "object",
    }
}

/// `SwaggerGenerator.getOpenAPIJsonString`: the text as swagger-core's OpenAPI model writes it
/// (Jackson, null members left out), or `None` when the model does not read it.
fn through_openapi_model(text: &str, format: DefinitionFormat) -> Option<String> {
    let tree = match format {
        DefinitionFormat::Json => parse_json(text, Numbers::IntegersKept)?,
        DefinitionFormat::Yaml => load_yaml(text).ok()?,
    };
    if !openapi_model_reads(&tree) {
        return None;
    }
    let tree = without_null_members(tree);
    Some(match format {
        DefinitionFormat::Json => jackson_pretty(&tree),
        DefinitionFormat::Yaml => emit_yaml(&tree, Dialect::Jackson),
    })
}

/// Fields of swagger-core's `OpenAPI`, `Info`, `Server`, `PathItem` and `Operation`; a plain
/// Jackson `ObjectMapper` fails on any other (`FAIL_ON_UNKNOWN_PROPERTIES`).
const OPENAPI_FIELDS: &[&str] = &[
    "openapi",
    "info",
    "externalDocs",
    "servers",
    "security",
    "tags",
    "paths",
    "components",
    "extensions",
    "jsonSchemaDialect",
    "webhooks",
];
const INFO_FIELDS: &[&str] = &[
    "title",
    "description",
    "termsOfService",
    "contact",
    "license",
    "version",
    "summary",
    "extensions",
];
const SERVER_FIELDS: &[&str] = &["url", "description", "variables", "extensions"];
const PATH_ITEM_FIELDS: &[&str] = &[
    "summary",
    "description",
    "get",
    "put",
    "post",
    "delete",
    "options",
    "head",
    "patch",
    "trace",
    "servers",
    "parameters",
    "$ref",
    "extensions",
];
const OPERATION_FIELDS: &[&str] = &[
    "tags",
    "summary",
    "description",
    "externalDocs",
    "operationId",
    "parameters",
    "requestBody",
    "responses",
    "callbacks",
    "deprecated",
    "security",
    "servers",
    "extensions",
];
const OPERATION_NAMES: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn openapi_model_reads(tree: &Node) -> bool {
    let fields_in = |node: &Node, known: &[&str]| match node {
        Node::Map(entries) => entries.iter().all(|(k, _)| known.contains(&k.as_str())),
        _ => true,
    };
    if tree.get("openapi").is_none() || !fields_in(tree, OPENAPI_FIELDS) {
        return false;
    }
    if let Some(info) = tree.get("info")
        && !fields_in(info, INFO_FIELDS)
    {
        return false;
    }
    if let Some(Node::Seq(servers)) = tree.get("servers")
        && !servers.iter().all(|s| fields_in(s, SERVER_FIELDS))
    {
        return false;
    }
    if let Some(Node::Map(paths)) = tree.get("paths") {
        for (_, item) in paths {
            if !fields_in(item, PATH_ITEM_FIELDS) {
                return false;
            }
            for name in OPERATION_NAMES {
                if let Some(operation) = item.get(name)
                    && !fields_in(operation, OPERATION_FIELDS)
                {
                    return false;
                }
            }
        }
    }
    true
}

/// `JsonInclude.Include.NON_NULL`.
fn without_null_members(node: Node) -> Node {
    match node {
        Node::Map(entries) => Node::Map(
            entries
                .into_iter()
                .filter(|(_, v)| *v != Node::Null)
                .map(|(k, v)| (k, without_null_members(v)))
                .collect(),
        ),
        Node::Seq(items) => Node::Seq(items.into_iter().map(without_null_members).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests;
