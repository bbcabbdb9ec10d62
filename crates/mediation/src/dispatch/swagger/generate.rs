//! The OpenAPI 3 definition MI generates for an API without a custom one: carbon-mediation
//! `OpenAPIProcessor.getOpenAPISpecification` over `GenericApiObjectDefinition.getPathMap`
//! (components/mediation-commons .../rest/api/swagger/), with MI's `MIServerConfig` giving the
//! servers. The tree's members are in the order swagger-core's model classes write them
//! (`OpenAPI`, `Info`, `PathItem`, `Operation`, `Parameter`, `RequestBody`, `Schema`), so it prints
//! as MI prints it (OpenApiForAPIsTestCase's `SwaggerResponse.json`/`.yaml`).

use std::sync::LazyLock;

use regex::Regex;

use super::document::Node;
use super::{ApiDefinition, ServerAddress};

/// `new OpenAPI()`'s version.
const OPENAPI_VERSION: &str = "3.0.1";
/// `SwaggerConstants.DEFAULT_API_VERSION`.
const DEFAULT_API_VERSION: &str = "1.0.0";

/// `PathItem`'s operations in the order the model writes them, with the HTTP method of each.
const OPERATIONS: [(&str, &str); 7] = [
    ("get", "GET"),
    ("put", "PUT"),
    ("post", "POST"),
    ("delete", "DELETE"),
    ("options", "OPTIONS"),
    ("head", "HEAD"),
    ("patch", "PATCH"),
];

/// `SwaggerConstants.PATH_PARAMETER_PATTERN`.
static PATH_PARAMETER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{(.*?)\}").expect("valid regex"));

fn map(entries: Vec<(&str, Node)>) -> Node {
    Node::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

fn text(s: &str) -> Node {
    Node::Str(s.to_string())
}

/// The generated definition of `api`.
pub fn openapi_definition(api: &ApiDefinition, server: &ServerAddress) -> Node {
    let version = api.version.as_deref().unwrap_or(DEFAULT_API_VERSION);
    let info = map(vec![
        ("title", text(&api.name)),
        (
            "description",
            Node::Str(format!("API Definition of {}", api.name)),
        ),
        ("version", text(version)),
    ]);
    let base_path = api.base_path();
    let servers = Node::Seq(vec![
        map(vec![(
            "url",
            Node::Str(format!("http://{}{base_path}", server.http)),
        )]),
        map(vec![(
            "url",
            Node::Str(format!("https://{}{base_path}", server.https)),
        )]),
    ]);
    map(vec![
        ("openapi", text(OPENAPI_VERSION)),
        ("info", info),
        ("servers", servers),
        ("paths", paths(api)),
    ])
}

/// One parameter of `getResourceParameters`.
enum Parameter {
    Query(String),
    Path(String),
    Body,
}

/// `getPathMap` + `populateParameters`: one path per distinct resource path (query part cut
/// off), in first-seen order; a later resource's method replaces an earlier one's.
fn paths(api: &ApiDefinition) -> Node {
    let mut paths: Vec<(String, [Option<Node>; 7])> = Vec::new();
    for resource in &api.resources {
        let uri = resource.template.as_deref().unwrap_or("/");
        let path = path_of(uri).to_string();
        let at = match paths.iter().position(|(p, _)| *p == path) {
            Some(at) => at,
            None => {
                paths.push((path, Default::default()));
                paths.len() - 1
            }
        };
        for method in &resource.methods {
            let Some(slot) = OPERATIONS.iter().position(|(_, m)| m == method) else {
                continue;
            };
            let parameters = match &resource.template {
                Some(uri) => parameters(uri, resource.url_mapping, method),
                None => Vec::new(),
            };
            paths[at].1[slot] = Some(operation(&parameters, method));
        }
    }
    Node::Map(
        paths
            .into_iter()
            .map(|(path, operations)| {
                let item = operations
                    .into_iter()
                    .zip(OPERATIONS)
                    .filter_map(|(op, (name, _))| Some((name.to_string(), op?)))
                    .collect();
                (path, Node::Map(item))
            })
            .collect(),
    )
}

/// `getPathFromUrl`: up to the first `?` (when it is not the first character).
fn path_of(uri: &str) -> &str {
    match uri.find('?') {
        Some(at) if at > 0 => &uri[..at],
        _ => uri,
    }
}

/// `getResourceParameters`: query parameters of a URI template (`?a={a}&b={b}`), then its path
/// parameters, then the body of a POST, PUT or PATCH.
fn parameters(uri: &str, url_mapping: bool, method: &str) -> Vec<Parameter> {
    let mut out = Vec::new();
    if !url_mapping && let Some(at) = uri.find('?').filter(|at| *at > 0) {
        for pair in uri[at + 1..].split('&') {
            if let Some(eq) = pair.find('=').filter(|eq| *eq > 0) {
                out.push(Parameter::Query(pair[..eq].to_string()));
            }
        }
    }
    for capture in PATH_PARAMETER.captures_iter(path_of(uri)) {
        out.push(Parameter::Path(capture[1].to_string()));
    }
    if matches!(method, "POST" | "PUT" | "PATCH") {
        out.push(Parameter::Body);
    }
    out
}

/// An `Operation`: its parameters, a sample request body, and the default response.
fn operation(parameters: &[Parameter], method: &str) -> Node {
    let string_schema = || map(vec![("type", text("string"))]);
    let mut listed = Vec::new();
    let mut body = false;
    for parameter in parameters {
        match parameter {
            Parameter::Path(name) => listed.push(map(vec![
                ("name", text(name)),
                ("in", text("path")),
                ("required", Node::Bool(true)),
                ("schema", string_schema()),
            ])),
            Parameter::Query(name) => listed.push(map(vec![
                ("name", text(name)),
                ("in", text("query")),
                ("schema", string_schema()),
            ])),
            Parameter::Body => body = true,
        }
    }
    // `addDefaultRequestBody`: a POST/PUT/PATCH resource without a template still gets one.
    if parameters.is_empty() && matches!(method, "POST" | "PUT" | "PATCH") {
        body = true;
    }
    let mut entries = Vec::new();
    if !listed.is_empty() {
        entries.push(("parameters", Node::Seq(listed)));
    }
    if body {
        let schema = map(vec![
            ("type", text("object")),
            (
                "properties",
                map(vec![("payload", map(vec![("type", text("object"))]))]),
            ),
        ]);
        entries.push((
            "requestBody",
            map(vec![
                ("description", text("Sample Payload")),
                (
                    "content",
                    map(vec![("application/json", map(vec![("schema", schema)]))]),
                ),
                ("required", Node::Bool(false)),
            ]),
        ));
    }
    entries.push((
        "responses",
        map(vec![(
            "default",
            map(vec![("description", text("Default response"))]),
        )]),
    ));
    map(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::swagger::document::{Numbers, jackson_pretty, parse_json};
    use crate::dispatch::swagger::yaml_emit::{Dialect, emit_yaml};
    use crate::dispatch::swagger::{ApiDefinition, ResourceShape};

    fn resource(methods: &[&str], template: Option<&str>, url_mapping: bool) -> ResourceShape {
        ResourceShape {
            methods: methods.iter().map(|m| m.to_string()).collect(),
            template: template.map(str::to_string),
            url_mapping,
        }
    }

    /// MI's OpenApiForAPIsTestCase API (tests-service .../api/SwaggerPetstore.xml), first
    /// resources.
    fn petstore() -> ApiDefinition {
        ApiDefinition {
            name: "SwaggerPetstore".into(),
            context: "/v2".into(),
            version: Some("1.0.5".into()),
            version_type: Some(conflux_artifacts::VersionType::Context),
            publish_swagger: None,
            resources: vec![
                resource(&["POST"], Some("/pet/{petId}/uploadImage"), false),
                resource(&["POST"], Some("/pet"), true),
                resource(&["PUT"], Some("/pet"), true),
                resource(&["GET"], Some("/pet/findByStatus"), true),
                resource(&["GET"], Some("/pet/{petId}"), false),
                resource(&["POST"], Some("/pet/{petId}"), false),
                resource(&["DELETE"], Some("/pet/{petId}"), false),
            ],
        }
    }

    fn server() -> ServerAddress {
        ServerAddress {
            http: "localhost:8480".into(),
            https: "localhost:8443".into(),
        }
    }

    #[test]
    fn json_matches_mi_swagger_response() {
        let json = jackson_pretty(&openapi_definition(&petstore(), &server()));
        let body = serde_json::json!({
            "description": "Sample Payload",
            "content": {"application/json": {"schema": {"type": "object", "properties": {"payload": {"type": "object"}}}}},
            "required": false
        });
        let path_param = serde_json::json!([{"name": "petId", "in": "path", "required": true, "schema": {"type": "string"}}]);
        let default = serde_json::json!({"default": {"description": "Default response"}});
        let expected = serde_json::json!({
            "openapi": "3.0.1",
            "info": {"title": "SwaggerPetstore", "description": "API Definition of SwaggerPetstore", "version": "1.0.5"},
            "servers": [{"url": "http://localhost:8480/v2"}, {"url": "https://localhost:8443/v2"}],
            "paths": {
                "/pet/{petId}/uploadImage": {"post": {"parameters": path_param, "requestBody": body, "responses": default}},
                "/pet": {
                    "put": {"requestBody": body, "responses": default},
                    "post": {"requestBody": body, "responses": default}
                },
                "/pet/findByStatus": {"get": {"responses": default}},
                "/pet/{petId}": {
                    "get": {"parameters": path_param, "responses": default},
                    "post": {"parameters": path_param, "requestBody": body, "responses": default},
                    "delete": {"parameters": path_param, "responses": default}
                }
            }
        })
        .to_string();
        // Same tree as MI's (OpenApiForAPIsTestCase compares parsed JSON) ...
        assert_eq!(
            parse_json(&json, Numbers::IntegersKept),
            parse_json(&expected, Numbers::IntegersKept)
        );
        // ... and the member order and layout of Jackson's pretty printer.
        assert!(json.starts_with("{\n  \"openapi\" : \"3.0.1\",\n  \"info\" : {\n    \"title\" : \"SwaggerPetstore\",\n    \"description\" : \"API Definition of SwaggerPetstore\",\n    \"version\" : \"1.0.5\"\n  },\n  \"servers\" : [ {\n    \"url\" : \"http://localhost:8480/v2\"\n  }, {\n"), "{json}");
        assert!(json.contains("\"/pet\" : {\n      \"put\" : {"), "{json}");
    }

    #[test]
    fn yaml_matches_mi_swagger_response() {
        let yaml = emit_yaml(
            &openapi_definition(&petstore(), &server()),
            Dialect::Jackson,
        );
        // MI's SwaggerResponse.yaml with the line breaks the test client drops.
        let mi = "openapi: 3.0.1info:  title: SwaggerPetstore  description: API Definition of SwaggerPetstore  version: 1.0.5servers:- url: http://localhost:8480/v2- url: https://localhost:8443/v2paths:  /pet/{petId}/uploadImage:    post:      parameters:      - name: petId        in: path        required: true        schema:          type: string      requestBody:        description: Sample Payload        content:          application/json:            schema:              type: object              properties:                payload:                  type: object        required: false      responses:        default:          description: Default response  /pet:    put:      requestBody:        description: Sample Payload        content:          application/json:            schema:              type: object              properties:                payload:                  type: object        required: false      responses:        default:          description: Default response    post:      requestBody:        description: Sample Payload        content:          application/json:            schema:              type: object              properties:                payload:                  type: object        required: false      responses:        default:          description: Default response  /pet/findByStatus:    get:      responses:        default:          description: Default response  /pet/{petId}:    get:      parameters:      - name: petId        in: path        required: true        schema:          type: string      responses:        default:          description: Default response    post:      parameters:      - name: petId        in: path        required: true        schema:          type: string      requestBody:        description: Sample Payload        content:          application/json:            schema:              type: object              properties:                payload:                  type: object        required: false      responses:        default:          description: Default response    delete:      parameters:      - name: petId        in: path        required: true        schema:          type: string      responses:        default:          description: Default response";
        assert_eq!(yaml.replace('\n', ""), mi);
        assert!(yaml.ends_with("description: Default response\n"));
    }

    #[test]
    fn query_parameters_url_versions_and_bare_resources() {
        let api = ApiDefinition {
            name: "Q".into(),
            context: "/q".into(),
            version: Some("2".into()),
            version_type: Some(conflux_artifacts::VersionType::Url),
            publish_swagger: None,
            resources: vec![
                resource(&["GET"], Some("/find?name={n}&limit={l}"), false),
                resource(&["PATCH"], None, false),
                resource(&[], Some("/any/*"), true),
            ],
        };
        let tree = openapi_definition(&api, &server());
        let json = jackson_pretty(&tree);
        let expected = r#"{"openapi":"3.0.1","info":{"title":"Q","description":"API Definition of Q","version":"2"},"servers":[{"url":"http://localhost:8480/q/2"},{"url":"https://localhost:8443/q/2"}],"paths":{"/find":{"get":{"parameters":[{"name":"name","in":"query","schema":{"type":"string"}},{"name":"limit","in":"query","schema":{"type":"string"}}],"responses":{"default":{"description":"Default response"}}}},"/":{"patch":{"requestBody":{"description":"Sample Payload","content":{"application/json":{"schema":{"type":"object","properties":{"payload":{"type":"object"}}}}},"required":false},"responses":{"default":{"description":"Default response"}}}},"/any/*":{}}}"#;
        assert_eq!(
            parse_json(&json, Numbers::IntegersKept),
            parse_json(expected, Numbers::IntegersKept)
        );
        // A version that looks like a number is quoted in YAML (ALWAYS_QUOTE_NUMBERS_AS_STRINGS).
        assert!(emit_yaml(&tree, Dialect::Jackson).contains("  version: \"2\"\n"));
    }
}
