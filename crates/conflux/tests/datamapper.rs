//! The data mapper mediator end to end through the real binary (carbon-mediation
//! `mediator/datamapper/DataMapperMediator.java` and its engine): a carbon application laid out
//! as MI's tooling builds it, with the MI 4.4 VS Code form (a webpack bundle of the mapping's
//! TypeScript under `resources:datamapper/X/`, types in the schemas) and the Integration Studio
//! form (generated `map_S_..` scripts under `gov:datamapper/`, types on the mediator), and a
//! mapping in the home's file registry. JSON to JSON, XML to XML (namespaces, attributes, arrays
//! of one), SOAP to JSON, JSON to XML with `DM_PROPERTIES`, CSV in and out, a dynamic key, the
//! schema-less `target` mode, a script error in the fault sequence, and deploy errors that name
//! the file. Exact bodies and content types.
//!
//! The mappings are authored for these tests (following the shapes of MI's own data mapper test
//! resources in micro-integrator `integration/mediation-tests/`), not copied.

mod support;

use support::backend::*;
use support::capp::*;
use support::*;

const NS: &str = "http://ws.apache.org/ns/synapse";

/// A `.dmc` as MI 4.4's vscode-car-plugin builds it (DataMapperBundler): the project's
/// `OrderSummary.ts` bundled by webpack (production, `library: 'DataMapper'`), its `dm-utils`
/// operators inlined, then the two functions the plugin appends.
const ORDER_SUMMARY_DMC: &str = r#"var DataMapper;(()=>{"use strict";var t={d:(e,r)=>{for(var n in r)t.o(r,n)&&!t.o(e,n)&&Object.defineProperty(e,n,{enumerable:!0,get:r[n]})},o:(t,e)=>Object.prototype.hasOwnProperty.call(t,e),r:t=>{"undefined"!=typeof Symbol&&Symbol.toStringTag&&Object.defineProperty(t,Symbol.toStringTag,{value:"Module"}),Object.defineProperty(t,"__esModule",{value:!0})}},e={};function r(){for(var t=[],e=0;e<arguments.length;e++)t[e]=arguments[e];return t.join("")}function n(t){return t.reduce(function(t,e){return t+e},0)}function o(t){return{id:t.orderId,customer:r(t.customer.first," ",t.customer.last),total:n(t.lines.map(function(t){return t.qty*t.price})),skus:t.lines.map(function(t){return t.sku}),express:t.shipping.express}}t.r(e),t.d(e,{mapFunction:()=>o}),DataMapper=e})();

function mapFunction(input) {
    return DataMapper.mapFunction(input);
}

function map_S_root_S_root() {
    return mapFunction(inputroot);
}
"#;

/// The schemas the plugin's schemaGenerator writes from the TypeScript interfaces.
const ORDER_SUMMARY_INPUT: &str = r#"{
  "$schema": "http://wso2.org/json-schema/wso2-data-mapper-v5.0.0/schema#",
  "type": "object",
  "title": "root",
  "properties": {
    "orderId": {"type": "string"},
    "customer": {"type": "object", "properties": {"first": {"type": "string"}, "last": {"type": "string"}}},
    "lines": {"type": "array", "items": {"type": "object", "properties": {
      "sku": {"type": "string"}, "qty": {"type": "number"}, "price": {"type": "number"}}}},
    "shipping": {"type": "object", "properties": {"express": {"type": "boolean"}}}
  },
  "inputType": "JSON"
}"#;

const ORDER_SUMMARY_OUTPUT: &str = r#"{
  "$schema": "http://wso2.org/json-schema/wso2-data-mapper-v5.0.0/schema#",
  "type": "object",
  "title": "root",
  "properties": {
    "id": {"type": "string"}, "customer": {"type": "string"}, "total": {"type": "number"},
    "skus": {"type": "array", "items": {"type": "string"}}, "express": {"type": "boolean"}
  },
  "outputType": "JSON"
}"#;

/// Integration Studio's XML-to-XML mapping: namespaced input and output, an array with
/// attributes, numbers and booleans typed by the schema.
const CATALOG_DMC: &str = r#"map_S_library_S_catalog = function(){
var outputcatalog={};

var count_i_lib_book = 0;
outputcatalog =  {};
outputcatalog.cat_source = inputlib_library.lib_name;
outputcatalog.cat_entry =  [];

for(i_lib_book in inputlib_library.lib_book){
outputcatalog.cat_entry[count_i_lib_book] =  {};
outputcatalog.cat_entry[count_i_lib_book].attr_id = inputlib_library.lib_book[i_lib_book].attr_isbn;
outputcatalog.cat_entry[count_i_lib_book].attr_lang = inputlib_library.lib_book[i_lib_book].attr_lib_lang;
outputcatalog.cat_entry[count_i_lib_book].cat_title = inputlib_library.lib_book[i_lib_book].lib_title.toUpperCase();
outputcatalog.cat_entry[count_i_lib_book].cat_authors = inputlib_library.lib_book[i_lib_book].lib_author.join('; ');
outputcatalog.cat_entry[count_i_lib_book].cat_price = inputlib_library.lib_book[i_lib_book].lib_price * 2;
outputcatalog.cat_entry[count_i_lib_book].cat_inStock = inputlib_library.lib_book[i_lib_book].lib_available;

count_i_lib_book++;
}
return outputcatalog;
};
"#;

const CATALOG_INPUT: &str = r#"{
  "$schema" : "http://wso2.org/json-schema/wso2-data-mapper-v5.0.0/schema#",
  "id" : "http://wso2jsonschema.org",
  "title" : "lib:library",
  "type" : "object",
  "properties" : {
    "lib:name" : {"id" : "http://wso2jsonschema.org/lib:name", "type" : "string"},
    "lib:book" : {
      "id" : "http://wso2jsonschema.org/lib:book",
      "type" : "array",
      "items" : [ {
        "id" : "http://wso2jsonschema.org/lib:book/0",
        "type" : "object",
        "properties" : {
          "lib:title" : {"type" : "string"},
          "lib:author" : {"type" : "array", "items" : [ {"type" : "string"} ]},
          "lib:price" : {"type" : "number"},
          "lib:available" : {"type" : "boolean"}
        },
        "attributes" : {
          "isbn" : {"type" : "string"},
          "lib:lang" : {"type" : "string"}
        }
      } ]
    }
  },
  "namespaces" : [ {"prefix" : "lib", "url" : "urn:library"} ]
}"#;

const CATALOG_OUTPUT: &str = r#"{
  "$schema" : "http://wso2.org/json-schema/wso2-data-mapper-v5.0.0/schema#",
  "id" : "http://wso2jsonschema.org",
  "title" : "catalog",
  "type" : "object",
  "properties" : {
    "cat:source" : {"type" : "string"},
    "cat:entry" : {"type" : "array", "items" : [ {"type" : "object",
      "properties" : {"cat:title" : {"type" : "string"}, "cat:authors" : {"type" : "string"},
                      "cat:price" : {"type" : "number"}, "cat:inStock" : {"type" : "boolean"}},
      "attributes" : {"id" : {"type" : "string"}, "lang" : {"type" : "string"}} } ]}
  },
  "namespaces" : [ {"prefix" : "cat", "url" : "urn:catalog"} ]
}"#;

/// JSON to XML with properties: `DM_PROPERTIES.DEFAULT[...]` and `DM_PROPERTIES.TRANSPORT[...]`.
const GREETING_DMC: &str = r#"function map_S_person_S_greeting( ){
var outputgreeting={};
outputgreeting.message = DM_PROPERTIES.DEFAULT['salutation'] + ' ' + inputperson.name;
outputgreeting.tier = DM_PROPERTIES.DEFAULT['tier'];
outputgreeting.channel = DM_PROPERTIES.TRANSPORT['X-Channel'];
outputgreeting.visits = inputperson.visits + 1;
return outputgreeting;
}
"#;

const GREETING_INPUT: &str = r#"{"title": "person", "type": "object", "properties": {
  "name": {"type": "string"}, "visits": {"type": "number"}}}"#;

const GREETING_OUTPUT: &str = r#"{"title": "greeting", "type": "object", "properties": {
  "message": {"type": "string"}, "tier": {"type": "string"}, "channel": {"type": "string"},
  "visits": {"type": "number"}}}"#;

/// CSV in (records by position), JSON or CSV out.
const STOCK_DMC: &str = r#"function map_S_root_S_root( ){
return inputroot.map(function (row) {
  return {item: row.name.toUpperCase(), value: row.qty * row.price, low: row.qty < 3};
});
}
"#;

const STOCK_INPUT: &str = r#"{"title": "root", "type": "array", "items": [{"type": "object",
  "properties": {"name": {"type": "string"}, "qty": {"type": "number"}, "price": {"type": "number"}}}]}"#;

const STOCK_OUTPUT: &str = r#"{"title": "root", "type": "array", "items": [{"type": "object",
  "properties": {"item": {"type": "string"}, "value": {"type": "number"}, "low": {"type": "boolean"}}}]}"#;

/// A mapping whose script fails on the message it is given.
const BROKEN_DMC: &str = r#"function map_S_person_S_greeting( ){
var outputgreeting={};
outputgreeting.message = inputperson.address.city;
return outputgreeting;
}
"#;

/// The schema-less mode: the script is a function of the payload and the variables.
const MINIMAL_DMC: &str = r#"(function (payload, vars) {
    return JSON.stringify({greeting: 'Hi ' + payload.name, order: vars.orderNo, items: payload.items.length});
})
"#;

/// The SOAP-to-JSON mapping kept in the home's file registry (Integration Studio form, the whole
/// envelope as input as for a `soapenv:Envelope` schema).
const QUOTE_DMC: &str = r#"map_S_Envelope_S_quote = function(){
var outputquote={};
outputquote.symbol = inputsoapenv_Envelope.soapenv_Body.m_getQuote.m_request.m_symbol;
outputquote.quantity = inputsoapenv_Envelope.soapenv_Body.m_getQuote.m_request.m_qty;
outputquote.rush = inputsoapenv_Envelope.soapenv_Body.m_getQuote.m_request.attr_rush;
outputquote.limit = inputsoapenv_Envelope.soapenv_Body.m_getQuote.m_request.m_limit;
return outputquote;
};
"#;

const QUOTE_INPUT: &str = r#"{
  "title": "soapenv:Envelope", "type": "object",
  "properties": {"soapenv:Body": {"type": "object", "properties": {
    "m:getQuote": {"type": "object", "properties": {
      "m:request": {"type": "object",
        "properties": {"m:symbol": {"type": "string"}, "m:qty": {"type": "integer"}, "m:limit": {"type": "number"}},
        "attributes": {"rush": {"type": "boolean"}}}}}}}},
  "namespaces": [{"prefix": "soapenv", "url": "http://schemas.xmlsoap.org/soap/envelope/"},
                 {"prefix": "m", "url": "http://services.samples"}]
}"#;

const QUOTE_OUTPUT: &str = r#"{"title": "quote", "type": "object", "properties": {
  "symbol": {"type": "string"}, "quantity": {"type": "number"}, "rush": {"type": "boolean"},
  "limit": {"type": "number"}}}"#;

/// JSON to a SOAP envelope (the shape of product-scenarios 1.1.3's `config_convert_json_to_soap`):
/// the result replaces the envelope; an API answers with the body's element.
const TO_SOAP_DMC: &str = r#"map_S_person_S_Envelope = function(){
var outputsoapenv_Envelope={};
outputsoapenv_Envelope.soapenv_Body = {};
outputsoapenv_Envelope.soapenv_Body.p_register = {};
outputsoapenv_Envelope.soapenv_Body.p_register.attr_p_source = "web";
outputsoapenv_Envelope.soapenv_Body.p_register.p_name = inputperson.name;
outputsoapenv_Envelope.soapenv_Body.p_register.p_visits = inputperson.visits;
return outputsoapenv_Envelope;
};
"#;

const TO_SOAP_OUTPUT: &str = r#"{
  "title": "soapenv:Envelope", "type": "object",
  "properties": {"soapenv:Header": {"type": "null"}, "soapenv:Body": {"type": "object", "properties": {
    "p:register": {"type": "object", "properties": {"p:name": {"type": "string"}, "p:visits": {"type": "number"}},
                   "attributes": {"p:source": {"type": "string"}}}}}},
  "namespaces": [{"prefix": "soapenv", "url": "http://schemas.xmlsoap.org/soap/envelope/"},
                 {"prefix": "p", "url": "urn:people"}]
}"#;

/// A `<respond>` of ERROR_MESSAGE as plain text with status 500 (a fault sequence).
const FAULT_TEXT: &str = r#"<faultSequence>
            <payloadFactory media-type="text">
                <format>$1</format>
                <args><arg expression="$ctx:ERROR_MESSAGE"/></args>
            </payloadFactory>
            <property name="messageType" value="text/plain" scope="axis2"/>
            <property name="HTTP_SC" value="500" scope="axis2"/>
            <respond/>
        </faultSequence>"#;

fn resource(uri: &str, body: &str) -> String {
    format!(
        r#"<resource methods="POST" uri-template="{uri}">
        <inSequence>
            {body}
            <respond/>
        </inSequence>
        {FAULT_TEXT}
    </resource>"#
    )
}

/// The `<datamapper>` of an Integration Studio mapping `name` in `gov:datamapper/`.
fn studio(name: &str, input: &str, output: &str) -> String {
    format!(
        r#"<datamapper config="gov:datamapper/{name}.dmc" inputSchema="gov:datamapper/{name}_inputSchema.json" outputSchema="gov:datamapper/{name}_outputSchema.json" inputType="{input}" outputType="{output}"/>"#
    )
}

/// A mapping's three files as the tooling packs them: one `registry/resource` artifact per file
/// (micro-integrator product-scenarios 1.1.3's Integration Studio CApp has
/// `config_convert_soap_to_json_1.0.0/registry-info.xml` with path `/_system/governance/datamapper`
/// and media type text/plain); MI 4.4 projects register theirs under
/// `/_system/governance/mi-resources/datamapper/<name>` (keys `resources:datamapper/<name>/...`).
fn with_mapping(capp: CAppBuilder, vscode: bool, name: &str, files: [&str; 3]) -> CAppBuilder {
    let path = if vscode {
        format!("/_system/governance/mi-resources/datamapper/{name}")
    } else {
        "/_system/governance/datamapper".to_string()
    };
    let [dmc, input, output] = files;
    let mut capp = capp;
    for (file, content) in [
        (format!("{name}.dmc"), dmc),
        (format!("{name}_inputSchema.json"), input),
        (format!("{name}_outputSchema.json"), output),
    ] {
        let artifact = if vscode {
            format!("resources_datamapper_{name}_{}", file.replace('.', "_"))
        } else {
            file.rsplit_once('.')
                .map_or(file.clone(), |(stem, _)| stem.to_string())
        };
        capp = capp.registry(
            &artifact,
            &[RegistryItem::new(&path, &file, "text/plain", content)],
        );
    }
    capp
}

fn data_mapper_capp() -> CAppBuilder {
    let resources = [
        // MI 4.4's form: keys only, the types are in the schemas.
        resource(
            "/orders",
            r#"<datamapper config="resources:datamapper/OrderSummary/OrderSummary.dmc" inputSchema="resources:datamapper/OrderSummary/OrderSummary_inputSchema.json" outputSchema="resources:datamapper/OrderSummary/OrderSummary_outputSchema.json"/>"#,
        ),
        resource("/catalog", &studio("Catalog", "XML", "XML")),
        resource(
            "/greeting",
            &format!(
                r#"<property name="salutation" value="Hello"/>
            <property name="tier" value="gold"/>
            {}"#,
                studio("Greeting", "JSON", "XML")
            ),
        ),
        // A dynamic key: `{xpath}`, evaluated when the first message arrives.
        resource(
            "/greeting-dynamic",
            r#"<property name="salutation" value="Hey"/>
            <property name="tier" value="silver"/>
            <property name="dmc" value="gov:datamapper/Greeting.dmc"/>
            <datamapper config="{get-property('dmc')}" inputSchema="gov:datamapper/Greeting_inputSchema.json" outputSchema="gov:datamapper/Greeting_outputSchema.json" inputType="JSON" outputType="XML"/>"#,
        ),
        resource("/stock-json", &studio("Stock", "CSV", "JSON")),
        resource(
            "/stock-csv",
            &format!(
                r#"{}
            <property name="messageType" value="text/plain" scope="axis2"/>"#,
                studio("Stock", "CSV", "CSV")
            ),
        ),
        resource("/stock-wrapped", &studio("Stock", "CSV", "CSV")),
        resource(
            "/minimal-variable",
            r#"<variable name="orderNo" type="STRING" value="B-9"/>
            <datamapper config="resources:datamapper/Minimal/Minimal.dmc" inputSchema="resources:datamapper/Minimal/Minimal_inputSchema.json" outputSchema="resources:datamapper/Minimal/Minimal_outputSchema.json" inputType="JSON" outputType="JSON" target="variable" variable="mapped"/>
            <payloadFactory media-type="json">
                <format>{"kept": "${payload.name}", "mapped": "${vars.mapped.greeting}", "order": "${vars.mapped.order}"}</format>
            </payloadFactory>"#,
        ),
        resource("/broken", &studio("Broken", "JSON", "JSON")),
        resource("/to-soap", &studio("ToSoap", "JSON", "XML")),
        resource(
            "/minimal",
            r#"<variable name="orderNo" type="STRING" value="A-7"/>
            <datamapper config="resources:datamapper/Minimal/Minimal.dmc" inputSchema="resources:datamapper/Minimal/Minimal_inputSchema.json" outputSchema="resources:datamapper/Minimal/Minimal_outputSchema.json" inputType="JSON" outputType="JSON" target="body"/>"#,
        ),
    ]
    .concat();
    let mut capp = CAppBuilder::new("DataMapperApp");
    capp = with_mapping(
        capp,
        true,
        "OrderSummary",
        [ORDER_SUMMARY_DMC, ORDER_SUMMARY_INPUT, ORDER_SUMMARY_OUTPUT],
    );
    capp = with_mapping(capp, true, "Minimal", [MINIMAL_DMC, "{}", "{}"]);
    for (name, files) in [
        ("Catalog", [CATALOG_DMC, CATALOG_INPUT, CATALOG_OUTPUT]),
        ("Greeting", [GREETING_DMC, GREETING_INPUT, GREETING_OUTPUT]),
        ("Stock", [STOCK_DMC, STOCK_INPUT, STOCK_OUTPUT]),
        ("Broken", [BROKEN_DMC, GREETING_INPUT, GREETING_OUTPUT]),
        ("ToSoap", [TO_SOAP_DMC, GREETING_INPUT, TO_SOAP_OUTPUT]),
    ] {
        capp = with_mapping(capp, false, name, files);
    }
    capp.api(
        "MapperApi",
        &format!(r#"<api xmlns="{NS}" name="MapperApi" context="/map">{resources}</api>"#),
    )
}

fn post(port: u16, path: &str, content_type: &str, body: &str) -> HttpResponse {
    request(
        "POST",
        port,
        path,
        &[("Content-Type", content_type), ("X-Channel", "web")],
        body.as_bytes(),
    )
}

#[test]
fn data_mappers_from_a_capp_and_the_file_registry() {
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    data_mapper_capp().write_into(&carbonapps(home.path()));
    // Integration Studio's registry layout in the home (registry/governance = gov:).
    home.write("registry/governance/datamapper/Quote.dmc", QUOTE_DMC);
    home.write(
        "registry/governance/datamapper/Quote_inputSchema.json",
        QUOTE_INPUT,
    );
    home.write(
        "registry/governance/datamapper/Quote_outputSchema.json",
        QUOTE_OUTPUT,
    );
    home.write(
        &format!("{SYNAPSE}/proxy-services/QuoteProxy.xml"),
        &format!(
            r#"<proxy xmlns="{NS}" name="QuoteProxy" transports="http https" startOnLoad="true">
    <target>
        <inSequence>
            <datamapper config="gov:datamapper/Quote.dmc" inputSchema="gov:datamapper/Quote_inputSchema.json" outputSchema="gov:datamapper/Quote_outputSchema.json" inputType="XML" outputType="JSON"/>
            <respond/>
        </inSequence>
    </target>
</proxy>"#
        ),
    );
    let server = start(&home);
    let port = server.port(HTTP);

    // MI 4.4 VS Code form, JSON to JSON: the bundle's mapFunction through map_S_root_S_root.
    let r = post(
        port,
        "/map/orders",
        "application/json",
        r#"{"orderId": "o-17", "customer": {"first": "Ann", "last": "Lee"},
            "lines": [{"sku": "pen", "qty": 4, "price": 1.5}, {"sku": "ink", "qty": 1, "price": 5.5}],
            "shipping": {"express": true}}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.text(),
        r#"{"id":"o-17","customer":"Ann Lee","total":11.5,"skus":["pen","ink"],"express":true}"#
    );

    // Integration Studio form, XML to XML: the input's own prefix is read through the schema's
    // namespace, a one-author book is still an array, attributes come first (reversed), the
    // output root declares the output schema's namespace.
    let r = post(
        port,
        "/map/catalog",
        "application/xml",
        r#"<l:library xmlns:l="urn:library"><l:name>City</l:name>
  <l:book isbn="111" l:lang="en"><l:title>Dune</l:title><l:author>Herbert</l:author><l:price>9.75</l:price><l:available>true</l:available></l:book>
  <l:book isbn="222" l:lang="si"><l:title>Gamperaliya</l:title><l:author>Wickramasinghe</l:author><l:author>Guest</l:author><l:price>4.25</l:price><l:available>false</l:available><l:shelf>B2</l:shelf></l:book>
</l:library>"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/xml"));
    assert_eq!(
        r.text(),
        concat!(
            r#"<catalog xmlns:cat="urn:catalog"><cat:source>City</cat:source>"#,
            r#"<cat:entry lang="en" id="111"><cat:title>DUNE</cat:title><cat:authors>Herbert</cat:authors><cat:price>19.5</cat:price><cat:inStock>true</cat:inStock></cat:entry>"#,
            r#"<cat:entry lang="si" id="222"><cat:title>GAMPERALIYA</cat:title><cat:authors>Wickramasinghe; Guest</cat:authors><cat:price>8.5</cat:price><cat:inStock>false</cat:inStock></cat:entry>"#,
            "</catalog>"
        )
    );

    // JSON to XML with DM_PROPERTIES (default scope properties, a transport header).
    let r = post(
        port,
        "/map/greeting",
        "application/json",
        r#"{"name": "Ann", "visits": 2.5}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/xml"));
    assert_eq!(
        r.text(),
        "<greeting><message>Hello Ann</message><tier>gold</tier><channel>web</channel><visits>3.5</visits></greeting>"
    );
    // The same mapping through a dynamic config key.
    let r = post(
        port,
        "/map/greeting-dynamic",
        "application/json",
        r#"{"name": "Bo", "visits": 0.5}"#,
    );
    assert_eq!(
        r.text(),
        "<greeting><message>Hey Bo</message><tier>silver</tier><channel>web</channel><visits>1.5</visits></greeting>"
    );

    // CSV in (a text/plain body, records by position, no header), JSON out.
    let csv = "pen,4,1.25\nink,2,2.5\n";
    let r = post(port, "/map/stock-json", "text/plain", csv);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.text(),
        r#"[{"item":"PEN","value":5,"low":false},{"item":"INK","value":5,"low":true}]"#
    );
    // CSV out, read as plain text.
    let r = post(port, "/map/stock-csv", "text/plain", csv);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "PEN,5,false\nINK,5,true");
    // CSV out as MI leaves it: in MI's text wrapper, messageType text/xml.
    let r = post(port, "/map/stock-wrapped", "text/plain", csv);
    assert_eq!(r.header("content-type"), Some("text/xml"));
    assert_eq!(
        r.text(),
        "<ns:text xmlns:ns=\"http://ws.apache.org/commons/ns/payload\">PEN,5,false\nINK,5,true</ns:text>"
    );

    // SOAP to JSON from the home registry: the whole envelope is the input of a
    // `soapenv:Envelope` schema; an integer, a number and a boolean attribute typed by it.
    let r = request(
        "POST",
        port,
        "/services/QuoteProxy",
        &[("Content-Type", "text/xml"), ("SOAPAction", "urn:getQuote")],
        br#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><m0:getQuote xmlns:m0="http://services.samples"><m0:request rush="TRUE"><m0:symbol>IBM</m0:symbol><m0:qty>300</m0:qty><m0:limit>99.25</m0:limit></m0:request></m0:getQuote></soapenv:Body></soapenv:Envelope>"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.text(),
        r#"{"symbol":"IBM","quantity":300,"rush":true,"limit":99.25}"#
    );

    // The schema-less mode (target="body"): the function gets the payload and the variables.
    let r = post(
        port,
        "/map/minimal",
        "application/json",
        r#"{"name": "Ann", "items": [1, 2, 3]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), r#"{"greeting":"Hi Ann","order":"A-7","items":3}"#);

    // target="variable": the result is a JSON variable, the payload stays.
    let r = post(
        port,
        "/map/minimal-variable",
        "application/json",
        r#"{"name": "Bo", "items": []}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.text(),
        r#"{"kept": "Bo", "mapped": "Hi Bo", "order": "B-9"}"#
    );

    // JSON to a SOAP envelope: the envelope is the new message; the API answers with the
    // body's element, its namespaces declared where they are used.
    let r = post(
        port,
        "/map/to-soap",
        "application/json",
        r#"{"name": "Ann", "visits": 4.5}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/xml"));
    assert_eq!(
        r.text(),
        r#"<p:register xmlns:p="urn:people" p:source="web"><p:name>Ann</p:name><p:visits>4.5</p:visits></p:register>"#
    );

    // A script error is a mediation fault: the fault sequence sees MI's message and the cause.
    let r = post(
        port,
        "/map/broken",
        "application/json",
        r#"{"name": "Ann"}"#,
    );
    assert_eq!(r.status, 500);
    assert!(
        r.text()
            .starts_with("DataMapper mediator : mapping failed: TypeError: cannot read property 'city' of undefined"),
        "{}",
        r.text()
    );
    // A message that is not of the input type, likewise.
    let r = post(port, "/map/orders", "application/xml", "<order/>");
    assert_eq!(r.status, 500);
    assert_eq!(
        r.text(),
        "DataMapper mediator : mapping failed: the input type is JSON, but the message has no JSON payload"
    );
    // The server keeps serving.
    let r = post(
        port,
        "/map/greeting",
        "application/json",
        r#"{"name": "Cy", "visits": 1.5}"#,
    );
    assert_eq!(r.status, 200);
}

// Static keys are read when the artifact deploys: a missing .dmc, a schema that is not JSON,
// a mapping without types or a script that does not parse is an error naming the file, the
// line and the column, as `conflux check` reports it.
#[test]
fn deploy_errors_name_the_artifact_and_the_resource() {
    let cases = [
        (
            r#"<datamapper config="gov:datamapper/Nothing.dmc" inputSchema="gov:datamapper/In.json" outputSchema="gov:datamapper/Out.json" inputType="JSON" outputType="JSON"/>"#,
            "DataMapper mediator : mapping configuration is null: gov:datamapper/Nothing.dmc is not a local entry or registry resource (no file registry/governance/datamapper/Nothing.dmc",
        ),
        (
            r#"<datamapper config="gov:datamapper/Ok.dmc" inputSchema="gov:datamapper/Bad.json" outputSchema="gov:datamapper/Out.json" inputType="JSON" outputType="JSON"/>"#,
            "the input schema gov:datamapper/Bad.json (registry/governance/datamapper/Bad.json) is not JSON",
        ),
        (
            r#"<datamapper config="gov:datamapper/Ok.dmc" inputSchema="gov:datamapper/In.json" outputSchema="gov:datamapper/Out.json"/>"#,
            "Input type is not defined in the input schema/synapse configuration",
        ),
        (
            r#"<datamapper config="gov:datamapper/Syntax.dmc" inputSchema="gov:datamapper/In.json" outputSchema="gov:datamapper/Out.json" inputType="JSON" outputType="JSON"/>"#,
            "the mapping configuration gov:datamapper/Syntax.dmc (registry/governance/datamapper/Syntax.dmc) does not compile: gov:datamapper/Syntax.dmc (registry/governance/datamapper/Syntax.dmc):2:",
        ),
    ];
    for (mediator, expected) in cases {
        let home = home_with(&[(
            "api/D.xml",
            api(
                "D",
                "/d",
                &format!(
                    r#"<resource methods="POST"><inSequence>
{mediator}
<respond/></inSequence></resource>"#
                ),
            ),
        )]);
        home.write(
            "registry/governance/datamapper/Ok.dmc",
            "function map_S_root_S_root() { return {}; }",
        );
        home.write(
            "registry/governance/datamapper/Syntax.dmc",
            "function map_S_root_S_root() {\n  return {a: };\n}",
        );
        home.write(
            "registry/governance/datamapper/In.json",
            r#"{"title": "root"}"#,
        );
        home.write(
            "registry/governance/datamapper/Out.json",
            r#"{"title": "root"}"#,
        );
        home.write("registry/governance/datamapper/Bad.json", "{not json");
        let (code, text) = check_output(home.path());
        assert!(code != Some(0), "{mediator}: {text}");
        assert!(text.contains(expected), "{mediator}: {text}");
        assert!(text.contains("api/D.xml:4:"), "{mediator}: {text}");
    }
}
