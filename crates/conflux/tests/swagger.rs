//! API definitions end to end through the real binary: `GET /<API name>?swagger.json` and
//! `?swagger.yaml` for a `publishSwagger` registry resource of a CApp (MI's own
//! CustomSwaggerCompositeExporter CApp from `../shared/corpus/car/`, with the expectations of
//! MI's `CustomSwaggerWithSpecialCharactersTestCase`, integration/mediation-tests/tests-patches
//! .../api/apidefinition/), for the swagger metadata a CApp carries, and generated for an API
//! without either (MI `OpenApiForAPIsTestCase`).

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};

use support::capp::*;
use support::*;

const NS: &str = "http://ws.apache.org/ns/synapse";

fn corpus_car() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/car/CustomSwaggerCompositeExporter_1.0.0.car")
}

/// The text of `entry` in the zip `car`.
fn zip_entry(car: &[u8], entry: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(car)).expect("a zip");
    let mut file = archive.by_name(entry).expect("entry in the CApp");
    let mut text = String::new();
    file.read_to_string(&mut text).expect("UTF-8 entry");
    text
}

/// MI's expected `CustomSwagger?swagger.yaml` (testCustomSwaggerYAML).
const CUSTOM_SWAGGER_YAML: &str = "swagger: '2.0'
info:
  version: 1.0.0
  title: TestProject
  description: Test Project
host: localhost:8290
basePath: /services
schemes:
- http
tags:
- name: Test
  description: Test
paths:
  /test:
    post:
      summary: test
      tags:
      - Test
      consumes:
      - application/json; charset=utf-8
      produces:
      - application/json; charset=utf-8
      parameters:
      - in: body
        name: request
        schema:
          $ref: '#/definitions/TestType'
      responses:
        '200':
          description: Request accepted
          schema:
            type: object
            properties:
              status:
                type: string
                description: Status
                enum:
                - ACCEPTED
                example: ACCEPTED
        '400':
          description: Bad Request
          schema:
            $ref: '#/definitions/ErrorType'
        '500':
          description: System Error
          schema:
            $ref: '#/definitions/ErrorType'
definitions:
  TestType:
    type: object
    required:
    - msgId
    properties:
      msgId:
        type: string
        description: UUID
        example: '123456'
  ErrorType:
    type: object
    required:
    - errorCode
    - errorMessage
    properties:
      errorCode:
        type: string
        description: Error Code
        example: '20015'
      errorMessage:
        type: string
        description: Error Text
        example: Example error text
";

/// MI's expected `CustomSwaggerRus?swagger.yaml` differs from [`CUSTOM_SWAGGER_YAML`] in these
/// texts only (testCustomSwaggerWithSpecialCharactersYAML).
const RUS_REPLACEMENTS: [(&str, &str); 8] = [
    ("title: TestProject", "title: Test Project"),
    (
        "description: Request accepted",
        "description: Запрос принят",
    ),
    (
        "description: Status\n",
        "description: Статус выполнения запроса\n",
    ),
    (
        "description: Bad Request",
        "description: Некорректный запрос",
    ),
    ("description: System Error", "description: Системная ошибка"),
    ("description: Error Code", "description: Код ошибки"),
    ("description: Error Text", "description: Текст ошибки"),
    ("example: Example error text", "example: Ошибка запроса"),
];

#[test]
fn custom_swagger_with_special_characters_as_mi_serves_it() {
    let car_path = corpus_car();
    if !car_path.is_file() {
        eprintln!("skipping: the corpus CApp {} is absent", car_path.display());
        return;
    }
    let car = std::fs::read(&car_path).unwrap();
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    let carbonapps = carbonapps(home.path());
    std::fs::create_dir_all(&carbonapps).unwrap();
    std::fs::write(
        carbonapps.join("CustomSwaggerCompositeExporter_1.0.0.car"),
        &car,
    )
    .unwrap();
    let server = start(&home);
    let http = server.port(HTTP);

    for (api, file) in [
        (
            "CustomSwagger",
            "swagger_updated_new_json_1.0.0/resources/swagger_updated_new.json",
        ),
        (
            "CustomSwaggerRus",
            "swagger_rus_json_1.0.0/resources/swagger_rus.json",
        ),
    ] {
        // testCustomSwaggerJSON: the resource as MI's CApp deployer wrote it into the registry
        // (its lines, each ending with a line break), not reformatted.
        let json = get(http, &format!("/{api}?swagger.json"));
        assert_eq!(
            json.status,
            200,
            "{api}: {}\n{}",
            json.text(),
            server.output()
        );
        assert_eq!(json.header("Content-Type"), Some("application/json"));
        let stored = zip_entry(&car, file);
        assert_eq!(json.text(), format!("{stored}\n"), "{api}");
        assert!(json.text().starts_with("{\n  \"swagger\": \"2.0\",\n"));

        // testCustomSwaggerYAML: converted by Gson + SnakeYAML.
        let yaml = get(http, &format!("/{api}?swagger.yaml"));
        assert_eq!(yaml.status, 200, "{api}: {}", yaml.text());
        assert_eq!(yaml.header("Content-Type"), Some("application/x-yaml"));
        let expected = if api == "CustomSwaggerRus" {
            RUS_REPLACEMENTS
                .iter()
                .fold(CUSTOM_SWAGGER_YAML.to_string(), |text, (from, to)| {
                    assert!(text.contains(from), "{from}");
                    text.replace(from, to)
                })
        } else {
            CUSTOM_SWAGGER_YAML.to_string()
        };
        assert_eq!(yaml.text(), expected, "{api}");
    }
    assert!(
        get(http, "/CustomSwaggerRus?swagger.json")
            .text()
            .contains("\"description\": \"Статус выполнения запроса\""),
    );
    // Not a definition request: the query must start with the item.
    assert_ne!(
        get(http, "/CustomSwagger?x&swagger.json").header("Content-Type"),
        Some("application/json")
    );
}

#[test]
fn capp_metadata_and_generated_definitions() {
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    let yaml = "openapi: 3.0.1\ninfo:\n  title: PetsApi\n  version: 1.0.0\npaths:\n  /:\n    get:\n      responses:\n        \"200\":\n          description: the pets\n";
    CAppBuilder::new("SwaggerDefinitions")
        .api(
            "PetsApi",
            &format!(
                r#"<api xmlns="{NS}" name="PetsApi" context="/pets"><resource methods="GET"><inSequence><respond/></inSequence></resource></api>"#
            ),
        )
        .swagger("PetsApi", yaml)
        .api(
            "PlainApi",
            &format!(
                r#"<api xmlns="{NS}" name="PlainApi" context="/plain" version="2.1" version-type="url"><resource methods="POST" uri-template="/orders/{{id}}"><inSequence><respond/></inSequence></resource></api>"#
            ),
        )
        .write_into(&carbonapps(home.path()));
    let server = start(&home);
    let http = server.port(HTTP);

    // The CApp's OpenAPI YAML, as swagger-core writes it back (the same text here).
    let as_yaml = get(http, "/PetsApi?swagger.yaml");
    assert_eq!(
        as_yaml.status,
        200,
        "{}\n{}",
        as_yaml.text(),
        server.output()
    );
    assert_eq!(as_yaml.text(), yaml);
    // In JSON, as Jackson's pretty printer writes it.
    let as_json = get(http, "/PetsApi?swagger.json");
    assert_eq!(as_json.header("Content-Type"), Some("application/json"));
    assert_eq!(
        as_json.text(),
        "{\n  \"openapi\" : \"3.0.1\",\n  \"info\" : {\n    \"title\" : \"PetsApi\",\n    \"version\" : \"1.0.0\"\n  },\n  \"paths\" : {\n    \"/\" : {\n      \"get\" : {\n        \"responses\" : {\n          \"200\" : {\n            \"description\" : \"the pets\"\n          }\n        }\n      }\n    }\n  }\n}"
    );

    // No custom definition: generated from the resources; a versioned API is named with its
    // version (`PlainApi:v2.1`).
    let generated = get(http, "/PlainApi:v2.1?swagger.json");
    assert_eq!(generated.status, 200, "{}", generated.text());
    let tree: serde_json::Value = serde_json::from_slice(&generated.body).unwrap();
    assert_eq!(tree["openapi"], "3.0.1");
    assert_eq!(tree["info"]["title"], "PlainApi");
    assert_eq!(tree["info"]["version"], "2.1");
    let operation = &tree["paths"]["/orders/{id}"]["post"];
    assert_eq!(operation["parameters"][0]["name"], "id");
    assert_eq!(operation["parameters"][0]["in"], "path");
    assert_eq!(operation["requestBody"]["description"], "Sample Payload");
    assert!(
        tree["servers"][0]["url"]
            .as_str()
            .unwrap()
            .ends_with("/plain/2.1"),
        "{tree}"
    );
    assert_eq!(get(http, "/PlainApi?swagger.json").status, 404);
}
