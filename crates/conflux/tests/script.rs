//! The script mediator end to end through the real binary (SYN `mediators/bsf/ScriptMediator.java`,
//! docs-mi reference/mediators/script-mediator): MI's own script APIs and proxies from
//! `../shared/corpus/synapse` (JSON through `getPayloadJSON`/`setPayloadJSON`, `JSON.stringify`
//! and `JSON.parse`, the null-JSON idioms, Nashorn's XML-as-strings with `getXpathResult`,
//! properties in every scope), scripts by key from the registry (`conf:`, `gov:`), a local entry
//! and `<include>`, the docs' examples, a runaway script stopped by the time limit while the server
//! keeps serving, fresh globals per message, and scripts that fail the deployment with their
//! file and line. Exact bodies and status codes, as MI's tests (tests-mediator-2
//! `mediator/test/script/*`) assert them.

mod support;

use std::path::PathBuf;

use support::backend::*;
use support::*;

/// The patient MI's JSON script tests post (JsonSupportByScriptMediatorTestCase).
const MI_PATIENT: &str = "{\n\"name\": \"John Doe\",\n\"dob\": \"1990-03-19\",\n\"ssn\": \"234-23-525\",\n\"address\": \"California\",\n\"phone\": \"8770586755\",\n\"email\": \"johndoe@gmail.com\",\n\"doctor\": \"thomas collins\",\n\"hospital\": \"grand oak community hospital\",\n\"cardNo\": \"7844481124110331\",\n\"appointment_date\": \"2017-04-02\"\n}";

/// What those scripts build from it: the object literal's key order, as MI logs it.
const DOCTOR: &str = r#"{"name":"John Doe","address":"California","dob":"1990-03-19"}"#;

/// The SimpleStockQuoteService address MI's proxies send to, rewritten to a test backend.
const MI_BACKEND: &str = "http://localhost:9000/services/SimpleStockQuoteService";

/// MI's stockquoteTransformNashorn.js (tests-mediator-2 registry config/script_js): the
/// CheckPriceRequest's Code into a getQuote, the getQuoteResponse back into a CheckPriceResponse.
const STOCKQUOTE_NASHORN_JS: &str = r#"
  function transformRequest(mc) {
      var payload = mc.getPayloadXML();
      var expression = "//*[local-name()='Code']";
      var xpath = mc.getXpathResult(expression);
      var nodeList = xpath.selectNodes(payload);
      var symbol = nodeList.get(0).getText();
      mc.setPayloadXML(
          "<m:getQuote xmlns:m=\"http://services.samples\">"
            + "<m:request>"
                + "<m:symbol>"+ symbol +"</m:symbol>"
            + "</m:request>"
        + "</m:getQuote>");
  }

  function transformResponse(mc) {
      var payload = mc.getPayloadXML();
      var expression = "//*[local-name()='symbol']";
      var xpath = mc.getXpathResult(expression);
      var nodeList = xpath.selectNodes(payload);
      var symbol = nodeList.get(0).getText();

      expression = "//*[local-name()='last']";
      xpath = mc.getXpathResult(expression);
      nodeList = xpath.selectNodes(payload);
      var price = nodeList.get(0).getText();

      mc.setPayloadXML(
          "<m:CheckPriceResponse xmlns:m=\"http://services.samples/xsd\">"
        + "<m:Code>"+ symbol +"</m:Code>"
        + "<m:Price>"+ price +"</m:Price>"
        + "</m:CheckPriceResponse>");
  }
"#;

/// MI's test54.js: entry points that call functions an `<include>` defines.
const TEST54_JS: &str = "function transformReq(mc){\n    transformRequest(mc);\n}\n\nfunction transformRes(mc){\n    transformResponse(mc);\n}\n";

fn corpus(relative: &str) -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/synapse")
        .join(relative);
    std::fs::read_to_string(path).ok()
}

/// The corpus files, or `None` (with a message) when the corpus is absent.
fn corpus_files(files: &[&str]) -> Option<Vec<String>> {
    let texts: Option<Vec<String>> = files.iter().map(|f| corpus(f)).collect();
    if texts.is_none() {
        eprintln!("skipping: the corpus ../shared/corpus/synapse is absent");
    }
    texts
}

fn soap11(body: &str) -> String {
    format!(
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"#
    )
}

/// MI's `sendCustomQuoteRequest`.
fn check_price_request(symbol: &str) -> String {
    soap11(&format!(
        r#"<m0:CheckPriceRequest xmlns:m0="http://services.samples"><m0:Code>{symbol}</m0:Code></m0:CheckPriceRequest>"#
    ))
}

fn check_price_response(symbol: &str, price: &str) -> String {
    soap11(&format!(
        r#"<m:CheckPriceResponse xmlns:m="http://services.samples/xsd"><m:Code>{symbol}</m:Code><m:Price>{price}</m:Price></m:CheckPriceResponse>"#
    ))
}

/// A SimpleStockQuoteService that quotes `symbol` at 41.2.
fn quote_backend(symbol: &str) -> Backend {
    Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "text/xml".into())],
        body: soap11(&format!(
            r#"<ns:getQuoteResponse xmlns:ns="http://services.samples"><ns:return xmlns:ax21="http://services.samples/xsd"><ax21:last>41.2</ax21:last><ax21:symbol>{symbol}</ax21:symbol></ns:return></ns:getQuoteResponse>"#
        )),
    })
}

fn local_entry(key: &str, script: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<localEntry xmlns="http://ws.apache.org/ns/synapse" key="{key}"><![CDATA[{script}]]></localEntry>"#
    )
}

/// A resource that runs `sequence`, then answers the default-scope property `answer` as text;
/// its fault sequence answers 500 with `ERROR_MESSAGE`.
fn text_resource(uri: &str, sequence: &str, answer: &str) -> String {
    format!(
        r#"<resource methods="POST GET" uri-template="{uri}">
        <inSequence>
{sequence}
            <payloadFactory media-type="text"><format>$1</format><args><arg expression="$ctx:{answer}"/></args></payloadFactory>
            <property name="messageType" value="text/plain" scope="axis2"/>
            <respond/>
        </inSequence>
        <faultSequence>
            <payloadFactory media-type="text"><format>$1</format><args><arg expression="$ctx:ERROR_MESSAGE"/></args></payloadFactory>
            <property name="messageType" value="text/plain" scope="axis2"/>
            <property name="HTTP_SC" value="500" scope="axis2"/>
            <respond/>
        </faultSequence>
    </resource>"#
    )
}

// MI's JsonSupportByScriptMediatorTestCase and NativeJsonSupportByNashornJsTestCase, on MI's own
// APIs: the payload as an object (`getPayloadJSON`), `JSON.stringify` with `setJsonText` /
// `getJsonText`, `JSON.parse(getPayloadText())`, and the null-JSON idioms.
#[test]
fn mi_s_json_script_apis_from_the_corpus() {
    let names = [
        "scriptMediatorNativeJSONSupportAPI",
        "scriptMediatorJsStringifyAPI",
        "scriptMediatorJsParseAPI",
        "scriptMediatorJsHandlingNullJsonObjectAPI",
        "nashornJsNativeJSONSupportAPI",
        "nashornJsStringifyAPI",
        "nashornJsParseAPI",
        "nashornJsHandlingNullJsonObjectAPI",
    ];
    let files: Vec<String> = names.iter().map(|n| format!("api/{n}.xml")).collect();
    let Some(texts) = corpus_files(&files.iter().map(String::as_str).collect::<Vec<_>>()) else {
        return;
    };
    let artifacts: Vec<(&str, String)> = files.iter().map(String::as_str).zip(texts).collect();
    let home = home_with(&artifacts);
    let server = start(&home);
    let port = server.port(HTTP);
    for name in names {
        let r = post_json(port, &format!("/{name}"), MI_PATIENT);
        assert_eq!(r.status, 200, "{name}: {}", r.text());
        assert_eq!(r.header("Content-Type"), Some("application/json"), "{name}");
        let expected = if name.ends_with("NullJsonObjectAPI") {
            "{}"
        } else {
            DOCTOR
        };
        assert_eq!(r.text(), expected, "{name}");
    }
    let wanted = format!("JSON_TEXT = {DOCTOR}");
    let log = server.output_with(&[&wanted]);
    assert_eq!(log.matches(&wanted).count(), 2, "{log}");
}

// MI's InlineNashornJsFunctionsForBothInAndOutTestCase and SetRemovePropertiesWithNashornJsTestCase
// on MI's proxies: XML as strings through `getXpathResult(...).selectNodes(...)` and
// `setPayloadXML`, properties set in the axis2, transport and operation scopes and removed again.
#[test]
fn mi_s_nashorn_proxies_rewrite_xml_and_set_and_remove_properties() {
    let Some(texts) = corpus_files(&[
        "proxy-services/nashornJsInAndOutTestProxy.xml",
        "proxy-services/setRemovePropertiesWithNashornJsTestProxy.xml",
    ]) else {
        return;
    };
    let backend = quote_backend("inlineTest");
    let url = format!("{}/services/SimpleStockQuoteService", backend.url());
    let home = home_with(&[
        (
            "proxy-services/nashornJsInAndOutTestProxy.xml",
            texts[0].replace(MI_BACKEND, &url),
        ),
        (
            "proxy-services/setRemovePropertiesWithNashornJsTestProxy.xml",
            texts[1].replace(MI_BACKEND, &url),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    for proxy in [
        "nashornJsInAndOutTestProxy",
        "setRemovePropertiesWithNashornJsTestProxy",
    ] {
        let r = post_soap(
            port,
            &format!("/services/{proxy}"),
            &check_price_request("inlineTest"),
        );
        assert_eq!(r.status, 200, "{proxy}: {}", r.text());
        assert_eq!(
            r.text(),
            check_price_response("inlineTest", "41.2"),
            "{proxy}"
        );
    }
    let sent = backend.requests();
    assert_eq!(sent.len(), 2);
    let get_quote = soap11(
        r#"<m:getQuote xmlns:m="http://services.samples"><m:request><m:symbol>inlineTest</m:symbol></m:request></m:getQuote>"#,
    );
    for request in &sent {
        assert_eq!(request.body_sha256, sha256_hex(get_quote.as_bytes()));
    }
    // The transport-scope property is an HTTP header of the request to the backend.
    assert_eq!(
        sent[1].header("transportProperty"),
        Some("TRANSPORT_PROPERTY")
    );
    let log = server.output_with(&[
        "Axis2_Property = AXIS2_PROPERTY",
        "Transport_Property = TRANSPORT_PROPERTY",
        "Operation_Property = OPERATION_PROPERTY",
        "Axis2_Property_After_Remove = null",
        "Transport_Property_After_Remove = null",
        "Operation_Property_After_Remove = null",
    ]);
    for line in [
        "Axis2_Property = AXIS2_PROPERTY",
        "Transport_Property = TRANSPORT_PROPERTY",
        "Operation_Property = OPERATION_PROPERTY",
        "Axis2_Property_After_Remove = null",
        "Transport_Property_After_Remove = null",
        "Operation_Property_After_Remove = null",
    ] {
        assert!(log.contains(line), "{line} not in {log}");
    }
}

// MI's MediationWithNashornJsScriptStoredInRegistryTestCase, NashornJsScriptStoredInGovRegistryTestCase,
// LocalEntryFunctionTestForNashornTestCase, ScriptWithIncludeOptionTestCase and
// InvokingInvalidFunctionInNashornJsTestCase on MI's proxies: `key` names a `conf:` or `gov:`
// registry resource or a local entry, `function` the function to call, `<include>` adds another
// script's functions; a function the script does not define is MI's NoSuchMethodException fault.
#[test]
fn keyed_scripts_from_the_registry_a_local_entry_and_includes() {
    let proxies = [
        "scriptMediatorNashornJsRetrieveFromRegistryTestProxy",
        "nashornJsRetrieveScriptFromGovRegistryTestProxy",
        "scriptMediatorNashornJsLocalEntryTestProxy",
        "scriptMediatorWithIncludeOptionTestProxy",
        "nashornJsInvokeInvalidFunctionTestProxy",
    ];
    let files: Vec<String> = proxies
        .iter()
        .map(|p| format!("proxy-services/{p}.xml"))
        .collect();
    let Some(texts) = corpus_files(&files.iter().map(String::as_str).collect::<Vec<_>>()) else {
        return;
    };
    let backend = quote_backend("WSO2");
    let url = format!("{}/services/SimpleStockQuoteService", backend.url());
    let mut artifacts: Vec<(&str, String)> = files
        .iter()
        .map(String::as_str)
        .zip(texts.iter().map(|t| t.replace(MI_BACKEND, &url)))
        .collect();
    // MI's local entry reads the file from its samples folder (`src="file:..."`); here the same
    // script is inline.
    artifacts.push((
        "local-entries/stockQuoteNashornJsScript.xml",
        local_entry("stockQuoteNashornJsScript", STOCKQUOTE_NASHORN_JS),
    ));
    let home = home_with(&artifacts);
    home.write(
        "registry/config/script_js/stockquoteTransformNashorn.js",
        STOCKQUOTE_NASHORN_JS,
    );
    home.write(
        "registry/governance/script_js/stockquoteTransformNashorn.js",
        STOCKQUOTE_NASHORN_JS,
    );
    home.write("registry/config/script_js/test54.js", TEST54_JS);
    // MI's stockquoteTransform.js is Rhino's E4X; the include holds the same functions as strings.
    home.write(
        "registry/config/script_js/stockquoteTransform.js",
        STOCKQUOTE_NASHORN_JS,
    );
    let server = start(&home);
    let port = server.port(HTTP);
    for proxy in &proxies[..4] {
        let r = post_soap(
            port,
            &format!("/services/{proxy}"),
            &check_price_request("WSO2"),
        );
        assert_eq!(r.status, 200, "{proxy}: {}", r.text());
        assert_eq!(r.text(), check_price_response("WSO2", "41.2"), "{proxy}");
    }
    assert_eq!(backend.requests().len(), 4);
    let r = post_soap(
        port,
        "/services/nashornJsInvokeInvalidFunctionTestProxy",
        &check_price_request("Invalid"),
    );
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(
        r.text().contains(
            "The script engine returned a NoSuchMethodException executing the external nashornJs script : stockQuoteNashornJsScript function transformRequestInvalid"
        ),
        "{}",
        r.text()
    );
    assert_eq!(
        backend.requests().len(),
        4,
        "nothing was sent for the failed script"
    );
}

// docs-mi's examples: getProperty/print/setProperty, the string concatenation, and
// getPayloadJSON's transform from a registry script; a script whose value is `false` stops the
// flow; every message gets fresh globals.
#[test]
fn the_docs_examples_and_fresh_globals_per_message() {
    let transform = r#"function transform(mc) {
    payload = mc.getPayloadJSON();
    results = payload.results;
    var response = new Array();
    for (i = 0; i < results.length; ++i) {
        location_object = results[i];
        l = new Object();
        l.name = location_object.name;
        l.tags = location_object.types;
        l.id = "ID:" + (location_object.id);
        response[i] = l;
    }
    mc.setPayloadJSON(response);
}"#;
    let resources = [
        text_resource(
            "/time",
            r#"<property name="TIME_1" value="1000"/>
            <property name="TIME_2" value="1250"/>
            <script language="js"><![CDATA[
 var time1 = mc.getProperty("TIME_1");
 var time2 = mc.getProperty("TIME_2");
 var timeTaken = time2 - time1;
 print("Time Duration :  " + timeTaken + " ms ");
 mc.setProperty("RESPONSE_TIME", timeTaken);
]]></script>"#,
            "RESPONSE_TIME",
        ),
        text_resource(
            "/concat",
            r#"<script language="js"><![CDATA[
{var result = "a";
 result = result + "b";
 mc.setProperty('result_str', result.toString());
}]]></script>"#,
            "result_str",
        ),
        text_resource(
            "/stop",
            r#"<script language="js">mc.setProperty('reached', 'script'); false;</script>
            <property name="reached" value="after the script"/>"#,
            "reached",
        ),
        text_resource(
            "/fresh",
            r#"<script language="js"><![CDATA[
if (typeof seen === 'undefined') { seen = 0; }
seen++;
var before = typeof [].leaked;
Array.prototype.leaked = true;
mc.setProperty('seen', seen + ' ' + before + ' ' + typeof previousMessage);
previousMessage = true;
]]></script>"#,
            "seen",
        ),
        r#"<resource methods="POST" uri-template="/transform">
        <inSequence>
            <script language="js" key="conf:/repository/EI/transform.js" function="transform"/>
            <respond/>
        </inSequence>
    </resource>"#
            .to_string(),
    ];
    let home = home_with(&[("api/Docs.xml", api("Docs", "/docs", &resources.join("\n")))]);
    home.write("registry/config/repository/EI/transform.js", transform);
    let server = start(&home);
    let port = server.port(HTTP);
    let r = post_json(port, "/docs/time", "{}");
    assert_eq!((r.status, r.text().as_str()), (200, "250"));
    let r = post_json(port, "/docs/concat", "{}");
    assert_eq!((r.status, r.text().as_str()), (200, "ab"));
    // The script's `false` ends the flow as a drop does: nothing after it runs.
    let r = post_json(port, "/docs/stop", "{}");
    assert_eq!((r.status, r.text().as_str()), (202, ""));
    for _ in 0..3 {
        let r = post_json(port, "/docs/fresh", "{}");
        assert_eq!(
            (r.status, r.text().as_str()),
            (200, "1 undefined undefined")
        );
    }
    let r = post_json(
        port,
        "/docs/transform",
        r#"{"results": [{"name": "Bondi", "types": ["beach", "park"], "id": 7}, {"name": "Manly", "types": [], "id": 8.5}]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.text(),
        r#"[{"name":"Bondi","tags":["beach","park"],"id":"ID:7"},{"name":"Manly","tags":[],"id":"ID:8.5"}]"#
    );
    let log = server.output_with(&["Time Duration :  250 ms"]);
    assert!(log.contains("{api:Docs} Time Duration :  250 ms"), "{log}");
}

// A script that never ends is stopped at the time limit (crate::script::MAX_SCRIPT_TIME, 1 s): the
// fault sequence answers with the reason, and the server serves other requests meanwhile and
// afterwards.
#[test]
fn a_runaway_script_is_a_fault_and_the_server_keeps_serving() {
    let resources = [
        text_resource(
            "/loop",
            r#"<script language="js">mc.setProperty('started', 'yes'); while (true) {}</script>"#,
            "started",
        ),
        text_resource(
            "/ok",
            r#"<script language="js">mc.setProperty('answer', 6 * 7);</script>"#,
            "answer",
        ),
    ];
    let home = home_with(&[("api/L.xml", api("L", "/l", &resources.join("\n")))]);
    let server = start(&home);
    let port = server.port(HTTP);
    let runaway = std::thread::spawn(move || post_json(port, "/l/loop", "{}"));
    let r = post_json(port, "/l/ok", "{}");
    assert_eq!((r.status, r.text().as_str()), (200, "42"));
    let r = runaway.join().unwrap();
    assert_eq!(r.status, 500);
    assert_eq!(
        r.text(),
        "The script engine returned an error executing the inlined js script function mediate: the script ran longer than the limit of 1000 ms"
    );
    for _ in 0..2 {
        let r = post_json(port, "/l/ok", "{}");
        assert_eq!((r.status, r.text().as_str()), (200, "42"));
    }
}

// Deploy errors name the file and line: a syntax error in an inline script (at its line in the
// artifact) or in a registry script, Rhino's E4X, Groovy, MI's invalid language (its
// InvalidScriptLanguageTestProxy), and a key that names nothing.
#[test]
fn broken_scripts_do_not_deploy_and_say_where() {
    let inline_error = api(
        "Inline",
        "/inline",
        r#"<resource methods="POST">
        <inSequence>
            <script language="js"><![CDATA[
                var a = 1;
                var b = ;
            ]]></script>
            <respond/>
        </inSequence>
    </resource>"#,
    );
    let keyed = |name: &str, script: &str| {
        api(
            name,
            &format!("/{name}"),
            &format!(
                r#"<resource methods="POST"><inSequence>
            {script}
            <respond/>
        </inSequence></resource>"#
            ),
        )
    };
    let mut artifacts = vec![
        ("api/Inline.xml", inline_error),
        (
            "api/Registry.xml",
            keyed(
                "Registry",
                r#"<script language="js" key="conf:/bad.js" function="f"/>"#,
            ),
        ),
        (
            "api/E4x.xml",
            keyed(
                "E4x",
                r#"<script language="rhinoJs"><![CDATA[mc.getPayloadXML()..symbol != "IBM";]]></script>"#,
            ),
        ),
        (
            "api/Groovy.xml",
            keyed(
                "Groovy",
                r#"<script language="groovy">println "hi"</script>"#,
            ),
        ),
        (
            "api/Missing.xml",
            keyed(
                "Missing",
                r#"<script language="js" key="conf:/nowhere.js"/>"#,
            ),
        ),
    ];
    let invalid_language = corpus("proxy-services/InvalidScriptLanguageTestProxy.xml");
    if let Some(text) = &invalid_language {
        artifacts.push((
            "proxy-services/InvalidScriptLanguageTestProxy.xml",
            text.clone(),
        ));
    }
    let home = home_with(&artifacts);
    home.write(
        "registry/config/bad.js",
        "function f(mc) {\n  return mc.;\n}\n",
    );
    let (code, text) = check_output(home.path());
    assert_eq!(code, Some(2), "{text}");
    // The inline script's `var b = ;` is on line 7 of the artifact.
    assert!(
        text.contains(
            "SyntaxError: unexpected token in expression: ';' in the <script> at api/Inline.xml:7:"
        ),
        "{text}"
    );
    assert!(
        text.contains("script conf:/bad.js: conf:/bad.js:2:13: SyntaxError: "),
        "{text}"
    );
    assert!(text.contains("at api/Registry.xml:"), "{text}");
    assert!(
        text.contains("E4X XML literals are not supported") && text.contains("api/E4x.xml:"),
        "{text}"
    );
    assert!(
        text.contains("unsupported script language \"groovy\"") && text.contains("api/Groovy.xml:"),
        "{text}"
    );
    assert!(
        text.contains(
            "script conf:/nowhere.js is not in the registry (no file registry/config/nowhere.js"
        ) && text.contains("api/Missing.xml:"),
        "{text}"
    );
    if invalid_language.is_some() {
        assert!(
            text.contains("invalid value \"jh\" for attribute 'language' of <script>")
                && text.contains("InvalidScriptLanguageTestProxy.xml:"),
            "{text}"
        );
    }
}
