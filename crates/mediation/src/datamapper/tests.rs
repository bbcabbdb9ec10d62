//! Mappings run end to end on the script engine: both script forms (Integration Studio's
//! `map_S_..` functions and MI 4.4's webpack bundles), every input and output type, properties,
//! and the failures a message or a script can cause.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{Map, json};

use super::*;

fn mapping(
    dmc: &str,
    input_schema: &str,
    output_schema: &str,
    types: (Option<DataType>, Option<DataType>),
) -> Result<Mapping, DataMapperError> {
    Mapping::new(
        Resource {
            text: dmc,
            name: "gov:datamapper/T.dmc",
        },
        Resource {
            text: input_schema,
            name: "gov:datamapper/T_inputSchema.json",
        },
        Resource {
            text: output_schema,
            name: "gov:datamapper/T_outputSchema.json",
        },
        types.0,
        types.1,
    )
}

fn payload(body: &str, content_type: &str) -> Payload {
    Payload::parse(Bytes::from(body.to_string()), Some(content_type)).unwrap()
}

fn run(m: &Mapping, p: &Payload) -> Result<Output, DataMapperError> {
    m.run(p, &Map::new(), Limits::default())
}

const PERSON_IN: &str = r#"{"title": "person", "type": "object", "properties": {
    "name": {"type": "string"}, "age": {"type": "number"},
    "tags": {"type": "array", "items": [{"type": "string"}]},
    "address": {"type": "object", "properties": {"city": {"type": "string"}},
                "attributes": {"kind": {"type": "string"}}}}}"#;

const CONTACT_OUT: &str = r#"{"title": "contact", "type": "object", "properties": {
    "fullName": {"type": "string"}, "years": {"type": "number"},
    "label": {"type": "array", "items": [{"type": "string"}]}}}"#;

// Integration Studio's generated form, JSON to JSON (MI DataMapperSimpleTestCase
// testOneToOneJsonToJson's shape): globals `inputperson`, JSON.stringify'd result.
const IS_DMC: &str = r##"
function map_S_person_S_contact( ){
var outputcontact={};
outputcontact.fullName = inputperson.name.toUpperCase();
outputcontact.years = inputperson.age + 1;
outputcontact.label = [];
for (var i in inputperson.tags) { outputcontact.label.push("#" + inputperson.tags[i]); }
return outputcontact;
}
"##;

#[test]
fn integration_studio_json_to_json() {
    let m = mapping(
        IS_DMC,
        PERSON_IN,
        CONTACT_OUT,
        (Some(DataType::Json), Some(DataType::Json)),
    )
    .unwrap();
    assert_eq!(m.call_text(), "JSON.stringify(map_S_person_S_contact())");
    let out = run(
        &m,
        &payload(
            r#"{"name": "ann", "age": 41, "tags": ["a", "b"]}"#,
            "application/json",
        ),
    )
    .unwrap();
    let Output::Json { text, value } = out else {
        panic!("{out:?}")
    };
    assert_eq!(
        text,
        r##"{"fullName":"ANN","years":42,"label":["#a","#b"]}"##
    );
    assert_eq!(value["years"], json!(42));
}

// XML to JSON: the XML is read through the input schema (a single <tags> is still an array,
// <age> a number, the attribute an attr_ field).
#[test]
fn xml_input_is_shaped_by_the_schema() {
    let dmc = r#"function map_S_person_S_contact() {
        return {fullName: inputperson.name, years: inputperson.age * 2, label: inputperson.tags,
                kind: inputperson.address.attr_kind, city: inputperson.address.city};
    }"#;
    let m = mapping(
        dmc,
        PERSON_IN,
        CONTACT_OUT,
        (Some(DataType::Xml), Some(DataType::Json)),
    )
    .unwrap();
    let out = run(
        &m,
        &payload(
            r#"<person><name>Ann</name><age>20.5</age><tags>x</tags><address kind="home"><city>Kandy</city></address></person>"#,
            "application/xml",
        ),
    )
    .unwrap();
    assert_eq!(
        out,
        Output::Json {
            text: r#"{"fullName":"Ann","years":41,"label":["x"],"kind":"home","city":"Kandy"}"#
                .into(),
            value: json!({"fullName": "Ann", "years": 41, "label": ["x"], "kind": "home", "city": "Kandy"}),
        }
    );
}

// XML to XML with namespaces on both sides, arrays and attributes (the output root declares
// the schema's namespaces; prefix_ keys become prefixed elements).
#[test]
fn xml_to_xml_with_namespaces() {
    let input = r#"{"title": "ord:order", "type": "object", "properties": {
        "ord:line": {"type": "array", "items": [{"type": "object", "properties": {
            "ord:sku": {"type": "string"}, "ord:qty": {"type": "integer"}},
            "attributes": {"id": {"type": "string"}}}]}},
        "namespaces": [{"prefix": "ord", "url": "urn:orders"}]}"#;
    let output = r#"{"title": "inv:invoice", "type": "object",
        "namespaces": [{"prefix": "inv", "url": "urn:invoices"}]}"#;
    let dmc = r#"map_S_order_S_invoice = function() {
        var out = {inv_item: []};
        for (var i = 0; i < inputord_order.ord_line.length; i++) {
            var l = inputord_order.ord_line[i];
            out.inv_item.push({attr_ref: l.attr_id, inv_code: l.ord_sku, inv_count: l.ord_qty});
        }
        return out;
    };"#;
    let m = mapping(
        dmc,
        input,
        output,
        (Some(DataType::Xml), Some(DataType::Xml)),
    )
    .unwrap();
    let out = run(
        &m,
        &payload(
            r#"<o:order xmlns:o="urn:orders"><o:line id="1"><o:sku>A</o:sku><o:qty>2</o:qty></o:line><o:line id="2"><o:sku>B</o:sku><o:qty>5</o:qty></o:line></o:order>"#,
            "application/xml",
        ),
    )
    .unwrap();
    assert_eq!(
        out,
        Output::Xml(
            r#"<inv:invoice xmlns:inv="urn:invoices"><inv:item ref="1"><inv:code>A</inv:code><inv:count>2</inv:count></inv:item><inv:item ref="2"><inv:code>B</inv:code><inv:count>5</inv:count></inv:item></inv:invoice>"#
                .into()
        )
    );
}

// MI 4.4's VS Code form: a webpack bundle (`var DataMapper = ...`) with the functions the
// vscode-car-plugin appends (DataMapperBundler.generateMapFunction); types from the schemas.
#[test]
fn vscode_bundle_with_types_in_the_schemas() {
    let dmc = r#"var DataMapper;(()=>{"use strict";var e={};(()=>{var t=e;Object.defineProperty(t,"__esModule",{value:!0}),t.mapFunction=void 0,t.mapFunction=function(e){return{id:e.orderId,total:e.items.reduce(function(e,t){return e+t.price*t.qty},0),first:e.items[0].name}}})(),DataMapper=e})();

function mapFunction(input) {
    return DataMapper.mapFunction(input);
}

function map_S_root_S_root() {
    return mapFunction(inputroot);
}
"#;
    let input = r#"{"$schema": "http://wso2.org/json-schema/wso2-data-mapper-v5.0.0/schema#",
        "type": "object", "title": "root", "properties": {"orderId": {"type": "string"}},
        "inputType": "JSON"}"#;
    let output = r#"{"type": "object", "title": "root", "properties": {}, "outputType": "JSON"}"#;
    let m = mapping(dmc, input, output, (None, None)).unwrap();
    assert_eq!(m.input_type(), DataType::Json);
    assert_eq!(m.output_type(), DataType::Json);
    assert_eq!(m.call_text(), "JSON.stringify(map_S_root_S_root())");
    let out = run(
        &m,
        &payload(
            r#"{"orderId": "o-1", "items": [{"name": "pen", "price": 1.5, "qty": 4}, {"name": "ink", "price": 2, "qty": 1}]}"#,
            "application/json",
        ),
    )
    .unwrap();
    let Output::Json { text, .. } = out else {
        panic!("{out:?}")
    };
    assert_eq!(text, r#"{"id":"o-1","total":8,"first":"pen"}"#);
}

// A bundle without the appended map_S_ function: MI calls mapFunction(JSON.parse(inputVariables)).
#[test]
fn a_bare_map_function_is_called_with_the_input_text() {
    let dmc = "function mapFunction(input) { return {n: input.values.length}; }";
    let schema = r#"{"title": "root", "type": "object"}"#;
    let m = mapping(
        dmc,
        schema,
        schema,
        (Some(DataType::Json), Some(DataType::Json)),
    )
    .unwrap();
    assert_eq!(
        m.call_text(),
        "JSON.stringify(mapFunction(JSON.parse(inputVariables)))"
    );
    let out = run(
        &m,
        &payload("{\n\"values\": [1, 2, 3]\n}", "application/json"),
    )
    .unwrap();
    assert!(matches!(out, Output::Json { text, .. } if text == r#"{"n":3}"#));
}

// CSV in (MI's <text> wrapper of a text/plain body), CSV out: records by position, no header.
#[test]
fn csv_to_csv() {
    let input = r#"{"title": "root", "type": "array", "items": [{"type": "object", "properties": {
        "name": {"type": "string"}, "qty": {"type": "number"}, "price": {"type": "number"}}}]}"#;
    let output = r#"{"title": "root", "type": "array", "items": [{"type": "object", "properties": {
        "item": {"type": "string"}, "cost": {"type": "number"}}}]}"#;
    let dmc = r#"function map_S_root_S_root() {
        return inputroot.map(function (r) { return {item: r.name.toUpperCase(), cost: r.qty * r.price}; });
    }"#;
    let m = mapping(
        dmc,
        input,
        output,
        (Some(DataType::Csv), Some(DataType::Csv)),
    )
    .unwrap();
    let out = run(&m, &payload("pen,4,1.25\nink,1,2\n", "text/plain")).unwrap();
    assert_eq!(out, Output::Csv("PEN,5\nINK,2".into()));
    // Not text: MI's message.
    let err = run(&m, &payload("<a/>", "application/xml")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Request csv data not found. The csv records should contain in a <text></text> tag."
    );
}

// DM_PROPERTIES: the scopes the script names, gathered by the mediator.
#[test]
fn properties_are_found_in_the_script_and_passed_in() {
    let dmc = r#"function map_S_person_S_contact() {
        return {fullName: DM_PROPERTIES.DEFAULT['greeting'] + ' ' + inputperson.name,
                years: DM_PROPERTIES.transport['X-Age'], label: JSON.parse(properties).DEFAULT.greeting};
    }"#;
    let m = mapping(
        dmc,
        PERSON_IN,
        CONTACT_OUT,
        (Some(DataType::Json), Some(DataType::Json)),
    )
    .unwrap();
    assert_eq!(
        m.properties(),
        [
            PropertyReference {
                scope: "DEFAULT".into(),
                name: "greeting".into()
            },
            PropertyReference {
                scope: "transport".into(),
                name: "X-Age".into()
            },
        ]
    );
    let mut props = Map::new();
    props.insert("DEFAULT".into(), json!({"greeting": "Hello"}));
    props.insert("transport".into(), json!({"X-Age": "7"}));
    let out = m
        .run(
            &payload(r#"{"name": "Ann"}"#, "application/json"),
            &props,
            Limits::default(),
        )
        .unwrap();
    assert!(
        matches!(&out, Output::Json { text, .. } if text == r#"{"fullName":"Hello Ann","years":"7","label":"Hello"}"#),
        "{out:?}"
    );
}

// A string result is the output as it is (XML text here), with `-` restored.
#[test]
fn a_string_result_is_the_output_text() {
    let dmc = r#"function map_S_person_S_contact() { return '<contact><x_EnC0DeCHaRHyPh3n_y>' + inputperson.name + '</x_EnC0DeCHaRHyPh3n_y></contact>'; }"#;
    let m = mapping(
        dmc,
        PERSON_IN,
        CONTACT_OUT,
        (Some(DataType::Json), Some(DataType::Xml)),
    )
    .unwrap();
    let out = run(&m, &payload(r#"{"name": "Ann"}"#, "application/json")).unwrap();
    assert_eq!(out, Output::Xml("<contact><x-y>Ann</x-y></contact>".into()));
}

#[test]
fn deploy_errors_name_the_resource() {
    let err = mapping(
        "function map_S_person_S_contact( { }",
        PERSON_IN,
        CONTACT_OUT,
        (Some(DataType::Json), Some(DataType::Json)),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the mapping configuration gov:datamapper/T.dmc does not compile: gov:datamapper/T.dmc:1:"),
        "{err}"
    );
    let err = mapping(IS_DMC, PERSON_IN, CONTACT_OUT, (None, Some(DataType::Json))).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Input type is not defined in the input schema/synapse configuration"),
        "{err}"
    );
    let err = mapping(IS_DMC, "{", CONTACT_OUT, (None, None)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the input schema gov:datamapper/T_inputSchema.json is not JSON"),
        "{err}"
    );
}

#[test]
fn run_time_failures_are_errors() {
    let json_types = (Some(DataType::Json), Some(DataType::Json));
    // The script throws.
    let m = mapping(
        "function map_S_person_S_contact() { return inputperson.missing.name; }",
        PERSON_IN,
        CONTACT_OUT,
        json_types,
    )
    .unwrap();
    let err = run(&m, &payload(r#"{"name": "Ann"}"#, "application/json")).unwrap_err();
    assert!(err.to_string().starts_with("TypeError"), "{err}");
    // The script returns nothing.
    let m = mapping(
        "function map_S_person_S_contact() { }",
        PERSON_IN,
        CONTACT_OUT,
        (Some(DataType::Json), Some(DataType::Xml)),
    )
    .unwrap();
    let err = run(&m, &payload(r#"{"name": "Ann"}"#, "application/json")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Failed to execute mapping function: map_S_person_S_contact() returned undefined, not an object or a string"
    );
    // The message is not of the input type.
    let m = mapping(IS_DMC, PERSON_IN, CONTACT_OUT, json_types).unwrap();
    let err = run(&m, &payload("<person/>", "application/xml")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the input type is JSON, but the message has no JSON payload"
    );
    // A runaway script is stopped by the engine's time limit.
    let m = mapping(
        "function map_S_person_S_contact() { while (true) {} }",
        PERSON_IN,
        CONTACT_OUT,
        json_types,
    )
    .unwrap();
    let limits = Limits {
        max_time: Duration::from_millis(50),
        ..Limits::default()
    };
    let err = m
        .run(
            &payload(r#"{"name": "Ann"}"#, "application/json"),
            &Map::new(),
            limits,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the script ran longer than the limit of 50 ms"
    );
}

// Each message runs in a fresh scope: what one run leaves in the globals is gone in the next.
#[test]
fn runs_do_not_share_globals() {
    let dmc = r#"var seen = typeof seen === 'undefined' ? 0 : seen + 1;
        function map_S_person_S_contact() { return {years: seen}; }"#;
    let m = mapping(
        dmc,
        PERSON_IN,
        CONTACT_OUT,
        (Some(DataType::Json), Some(DataType::Json)),
    )
    .unwrap();
    for _ in 0..2 {
        let out = run(&m, &payload("{}", "application/json")).unwrap();
        assert!(matches!(out, Output::Json { text, .. } if text == r#"{"years":0}"#));
    }
}

#[test]
fn names_encode_and_decode() {
    assert_eq!(
        encode_name("ns:a-b,xsi:type=xsd:string"),
        "ns_a_EnC0DeCHaRHyPh3n_b_Separat0r_xsi_type_xsd_string"
    );
    assert_eq!(decode_name("a_EnC0DeCHaRHyPh3n_b"), "a-b");
}
