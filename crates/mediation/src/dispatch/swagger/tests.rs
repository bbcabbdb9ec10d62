use super::*;
use art::{Artifact, RegistryResource, parse_artifact};

const NS: &str = r#"xmlns="http://ws.apache.org/ns/synapse""#;

/// A Swagger 2.0 definition with Cyrillic text (as in MI's CustomSwaggerWithSpecialCharacters
/// test), without a final line break.
const SWAGGER_2: &str = r##"{
  "swagger": "2.0",
  "info": {
    "version": "1.0.0",
    "title": "Тест"
  },
  "host": "localhost:8290",
  "schemes": [
    "http"
  ],
  "paths": {
    "/test": {
      "post": {
        "consumes": [
          "application/json; charset=utf-8"
        ],
        "responses": {
          "200": {
            "description": "Запрос принят",
            "schema": {
              "$ref": "#/definitions/T"
            }
          }
        }
      }
    }
  },
  "definitions": {
    "T": {
      "type": "object",
      "properties": {
        "msgId": {
          "type": "string",
          "example": "123456",
          "maxLength": 36
        }
      }
    }
  }
}"##;

/// What MI's SnakeYAML `dumpAsMap` makes of [`SWAGGER_2`] (numbers are Gson doubles).
const SWAGGER_2_YAML: &str = "swagger: '2.0'
info:
  version: 1.0.0
  title: Тест
host: localhost:8290
schemes:
- http
paths:
  /test:
    post:
      consumes:
      - application/json; charset=utf-8
      responses:
        '200':
          description: Запрос принят
          schema:
            $ref: '#/definitions/T'
definitions:
  T:
    type: object
    properties:
      msgId:
        type: string
        example: '123456'
        maxLength: 36.0
";

fn api(attributes: &str) -> art::Api {
    let xml = format!(
        r#"<api {NS} name="A" context="/a" {attributes}><resource methods="GET" uri-template="/items/{{id}}"><inSequence><respond/></inSequence></resource></api>"#
    );
    match parse_artifact("api/A.xml", &xml) {
        Ok(Artifact::Api(api)) => api,
        other => panic!("{other:?}"),
    }
}

fn definitions(api: art::Api, capp_swagger: Option<&str>) -> ApiDefinitions {
    let mut artifacts = art::Artifacts::default();
    if let Some(text) = capp_swagger {
        artifacts.swagger.insert(api.name.clone(), text.to_string());
    }
    artifacts.apis.push(api);
    ApiDefinitions::from_artifacts(&artifacts)
}

fn registry(entries: &[(&str, &str, Option<&str>, &str)]) -> art::Registry {
    let mut registry = art::Registry::default();
    for (key, content, media_type, origin) in entries {
        registry
            .insert(
                key,
                RegistryResource::new(
                    content.as_bytes().to_vec(),
                    media_type.map(str::to_string),
                    Vec::new(),
                    *origin,
                ),
            )
            .unwrap();
    }
    registry
}

fn answer(
    defs: &ApiDefinitions,
    key: &str,
    format: DefinitionFormat,
    registry: &art::Registry,
) -> Result<DefinitionResponse, DefinitionError> {
    let api = defs.api(key).expect("API by key");
    defs.respond(api, format, registry)
}

#[test]
fn definition_requests_as_mi_matches_the_query() {
    let json = |key| {
        Some(DefinitionRequest {
            api_key: key,
            format: DefinitionFormat::Json,
        })
    };
    assert_eq!(definition_request("/A?swagger.json"), json("A"));
    assert_eq!(definition_request("/A?swagger.json&x=1"), json("A"));
    assert_eq!(definition_request("/A?swagger.json=1"), json("A"));
    assert_eq!(definition_request("/A:v1.0?swagger.json"), json("A:v1.0"));
    assert_eq!(
        definition_request("/A?swagger.yaml"),
        Some(DefinitionRequest {
            api_key: "A",
            format: DefinitionFormat::Yaml
        })
    );
    for not in [
        "/A",
        "/A?swagger.jsonx",
        "/A?x&swagger.json",
        "/A?swagger.yml",
        "/A?wsdl",
    ] {
        assert_eq!(definition_request(not), None, "{not}");
    }
}

#[test]
fn keys_and_registry_paths() {
    let plain = ApiDefinition::from_api(&api(""));
    assert_eq!(plain.key(), "A");
    assert_eq!(
        plain.registry_key(),
        "conf:integrator/applicationdata/A/swagger.json"
    );
    let versioned = ApiDefinition::from_api(&api(r#"version="1.0" version-type="url""#));
    assert_eq!(versioned.key(), "A:v1.0");
    assert_eq!(
        versioned.registry_key(),
        "conf:integrator/applicationdata/A:v1.0/swagger.json"
    );
    let published = ApiDefinition::from_api(&api(
        r#"publishSwagger="/_system/governance/custom/a.json""#,
    ));
    assert_eq!(published.registry_key(), "gov:/custom/a.json");
    let keyed = ApiDefinition::from_api(&api(r#"publishSwagger="conf:/defs/a.yaml""#));
    assert_eq!(keyed.registry_key(), "conf:/defs/a.yaml");
}

#[test]
fn publish_swagger_json_is_served_as_stored() {
    let defs = definitions(
        api(r#"publishSwagger="/_system/governance/custom/a.json""#),
        None,
    );
    let reg = registry(&[(
        "gov:/custom/a.json",
        SWAGGER_2,
        Some("application/json"),
        "registry/governance/custom/a.json",
    )]);
    let json = answer(&defs, "A", DefinitionFormat::Json, &reg).unwrap();
    assert_eq!(json.content_type, "application/json");
    assert_eq!(json.body, SWAGGER_2);
    let yaml = answer(&defs, "A", DefinitionFormat::Yaml, &reg).unwrap();
    assert_eq!(yaml.content_type, "application/x-yaml");
    assert_eq!(yaml.body, SWAGGER_2_YAML);
}

#[test]
fn a_registry_json_definition_is_served_as_stored() {
    // A CApp item arrives as MI's deployer wrote it (capp::registry: lines ending in `\n`).
    let defs = definitions(
        api(r#"publishSwagger="/_system/governance/custom/a.json""#),
        None,
    );
    let stored = format!("{SWAGGER_2}\n");
    let reg = registry(&[(
        "gov:/custom/a.json",
        &stored,
        Some("application/json"),
        "carbonapps/C.car!/a_1.0.0/resources/a.json",
    )]);
    let json = answer(&defs, "A", DefinitionFormat::Json, &reg).unwrap();
    assert_eq!(json.body, stored);
}

#[test]
fn the_default_registry_path_is_looked_up_without_publish_swagger() {
    let defs = definitions(api(r#"version="2" version-type="context""#), None);
    let reg = registry(&[(
        "conf:/integrator/applicationdata/A:v2/swagger.json",
        SWAGGER_2,
        Some("application/json"),
        "registry/config/integrator/applicationdata/A:v2/swagger.json",
    )]);
    let json = answer(&defs, "A:v2", DefinitionFormat::Json, &reg).unwrap();
    assert_eq!(json.body, SWAGGER_2);
}

#[test]
fn capp_metadata_yaml_is_converted_and_openapi_goes_through_the_model() {
    let yaml = "openapi: 3.0.1\ninfo:\n  title: A\n  description: API Definition of A\n  version: 1.0.0\nservers:\n- url: http://localhost:8290/a\npaths:\n  /items/{id}:\n    get:\n      parameters:\n      - name: id\n        in: path\n        required: true\n        schema:\n          type: string\n      responses:\n        default:\n          description: Default response\n";
    let defs = definitions(api(""), Some(yaml));
    let reg = art::Registry::default();
    let json = answer(&defs, "A", DefinitionFormat::Json, &reg).unwrap();
    assert_eq!(
        json.body,
        "{\n  \"openapi\" : \"3.0.1\",\n  \"info\" : {\n    \"title\" : \"A\",\n    \"description\" : \"API Definition of A\",\n    \"version\" : \"1.0.0\"\n  },\n  \"servers\" : [ {\n    \"url\" : \"http://localhost:8290/a\"\n  } ],\n  \"paths\" : {\n    \"/items/{id}\" : {\n      \"get\" : {\n        \"parameters\" : [ {\n          \"name\" : \"id\",\n          \"in\" : \"path\",\n          \"required\" : true,\n          \"schema\" : {\n            \"type\" : \"string\"\n          }\n        } ],\n        \"responses\" : {\n          \"default\" : {\n            \"description\" : \"Default response\"\n          }\n        }\n      }\n    }\n  }\n}"
    );
    // The YAML, as swagger-core writes it back, is the same text.
    let back = answer(&defs, "A", DefinitionFormat::Yaml, &reg).unwrap();
    assert_eq!(back.body, yaml);
}

#[test]
fn a_document_the_openapi_model_cannot_read_keeps_gson_layout() {
    let yaml = "openapi: 3.0.1\nx-owner: team\ninfo:\n  title: A\n  version: 1\n";
    let defs = definitions(api(""), Some(yaml));
    let json = answer(
        &defs,
        "A",
        DefinitionFormat::Json,
        &art::Registry::default(),
    )
    .unwrap();
    assert_eq!(
        json.body,
        "{\n  \"openapi\": \"3.0.1\",\n  \"x-owner\": \"team\",\n  \"info\": {\n    \"title\": \"A\",\n    \"version\": 1\n  }\n}"
    );
    let same = answer(
        &defs,
        "A",
        DefinitionFormat::Yaml,
        &art::Registry::default(),
    )
    .unwrap();
    assert_eq!(same.body, yaml);
}

#[test]
fn the_registry_wins_over_the_capp_and_xml_or_empty_resources_do_not_count() {
    let defs = definitions(
        api(r#"publishSwagger="gov:/a.json""#),
        Some("{\"swagger\": \"2.0\", \"from\": \"capp\"}"),
    );
    let from_registry = registry(&[("gov:/a.json", SWAGGER_2, Some("application/json"), "r")]);
    let body = |reg: &art::Registry| {
        answer(&defs, "A", DefinitionFormat::Json, reg)
            .unwrap()
            .body
    };
    assert_eq!(body(&from_registry), SWAGGER_2);
    let xml = registry(&[("gov:/a.json", "<swagger/>", Some("application/xml"), "r")]);
    assert!(body(&xml).contains("capp"));
    let empty = registry(&[("gov:/a.json", "", Some("application/json"), "r")]);
    assert!(body(&empty).contains("capp"));
}

#[test]
fn a_text_plain_resource_is_read_as_base64() {
    let defs = definitions(api(r#"publishSwagger="gov:/a.json""#), None);
    let plain = registry(&[("gov:/a.json", SWAGGER_2, None, "r")]);
    let error = answer(&defs, "A", DefinitionFormat::Json, &plain).unwrap_err();
    assert!(
        matches!(&error, DefinitionError::NotBinary { key, media_type } if key == "gov:/a.json" && media_type == "text/plain"),
        "{error}"
    );
    // Unpadded base64 is accepted, as Java's decoder accepts it.
    let text = r#"{"swagger":"2.0"}"#;
    assert_ne!(text.len() % 3, 0, "padding would be needed");
    let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(text);
    let base64 = registry(&[("gov:/a.json", &encoded, Some("text/plain"), "r")]);
    assert_eq!(
        answer(&defs, "A", DefinitionFormat::Json, &base64)
            .unwrap()
            .body,
        text
    );
}

#[test]
fn without_a_custom_definition_one_is_generated() {
    let mut defs = definitions(api(""), None);
    defs.server = ServerAddress::new("example.org", 8280, 8243);
    let json = answer(
        &defs,
        "A",
        DefinitionFormat::Json,
        &art::Registry::default(),
    )
    .unwrap();
    assert!(
        json.body.starts_with("{\n  \"openapi\" : \"3.0.1\",\n  \"info\" : {\n    \"title\" : \"A\",\n    \"description\" : \"API Definition of A\",\n    \"version\" : \"1.0.0\"\n  },\n  \"servers\" : [ {\n    \"url\" : \"http://example.org:8280/a\"\n  }, {\n    \"url\" : \"https://example.org:8243/a\"\n  } ],\n  \"paths\" : {\n    \"/items/{id}\" : {\n      \"get\" : {\n        \"parameters\" : [ {\n          \"name\" : \"id\","),
        "{}",
        json.body
    );
    let yaml = answer(
        &defs,
        "A",
        DefinitionFormat::Yaml,
        &art::Registry::default(),
    )
    .unwrap();
    assert!(
        yaml.body.starts_with("openapi: 3.0.1\ninfo:\n  title: A\n"),
        "{}",
        yaml.body
    );
}

#[test]
fn definitions_that_cannot_be_converted_are_errors() {
    let defs = definitions(api(""), Some("[1, 2]"));
    assert!(matches!(
        answer(
            &defs,
            "A",
            DefinitionFormat::Yaml,
            &art::Registry::default()
        ),
        Err(DefinitionError::NotAnObject { found: "array", .. })
    ));
    let defs = definitions(api(""), Some("a: [1"));
    assert!(matches!(
        answer(
            &defs,
            "A",
            DefinitionFormat::Json,
            &art::Registry::default()
        ),
        Err(DefinitionError::Yaml { .. })
    ));
    // Served as stored when no conversion is needed, as MI does.
    assert_eq!(
        answer(
            &defs,
            "A",
            DefinitionFormat::Yaml,
            &art::Registry::default()
        )
        .unwrap()
        .body,
        "a: [1"
    );
}
