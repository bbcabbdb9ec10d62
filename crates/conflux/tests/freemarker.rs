//! `<payloadFactory template-type="freemarker">` end to end through the real binary: MI's data
//! model (SYN `mediators/transform/pfutils/FreeMarkerTemplateProcessor.java`: `payload`, `args`,
//! `ctx`, `axis2`, `trp`, `vars`), JSON and XML in, JSON and XML out, the `<pfPadding>` handling
//! of PayloadFactoryMediator, run-time errors as MI's fault, and template syntax errors failing
//! the deployment with their location. Exact bodies and status codes; several cases are MI's own
//! (synapse `pfutils/FreeMarkerTemplateProcessorTest.java`, MI
//! `PayloadFactorySynapseExpressionTestCase.testPayloadFactoryFreemarker`).

mod support;

use support::backend::*;
use support::*;

fn post(port: u16, path: &str, content_type: &str, body: &str) -> HttpResponse {
    request(
        "POST",
        port,
        path,
        &[("Content-Type", content_type), ("X-Request-Id", "r-42")],
        body.as_bytes(),
    )
}

fn resource(uri: &str, sequence: &str) -> String {
    format!(
        r#"<resource methods="POST" uri-template="{uri}">
        <inSequence>
{sequence}
            <respond/>
        </inSequence>
    </resource>"#
    )
}

fn home() -> Home {
    let resources = [
        // MI PayloadFactorySynapseExpressionTestCase.testPayloadFactoryFreemarker, with MI 4.4
        // GA's `vars` (its artifact still spells the pre-release `var`).
        resource(
            "/json",
            r#"<variable name="userID" value="123" type="INTEGER"/>
            <payloadFactory media-type="json" template-type="freemarker">
                <format><![CDATA[{
    "name": "${payload.firstname} ${payload.lastname}",
    "id": ${vars.userID}
}]]></format>
            </payloadFactory>"#,
        ),
        // SYN testWithJSONPayload: JSON in, XML out, <#list>, ?capitalize.
        resource(
            "/json-to-xml",
            r#"<payloadFactory media-type="xml" template-type="freemarker">
                <format><![CDATA[<contract xmlns="">
<agent-info>
    <id>agn${payload.agent.id}</id>
    <name>${payload.agent.name?capitalize}</name>
</agent-info>
<hotel-info>
    <id>htl${payload.hotelCode}</id>
    <#list payload.rooms as room>
         <room>
             <id>${room.code}</id>
             <number-of-available-rooms>${room.available}</number-of-available-rooms>
         </room>
    </#list>
</hotel-info>
</contract>]]></format>
            </payloadFactory>"#,
        ),
        // SYN testWithXMLPayload: XML in (FreeMarker's DOM), JSON out, `room_has_next`.
        resource(
            "/xml-to-json",
            r#"<payloadFactory media-type="json" template-type="freemarker">
                <format><![CDATA[{
  "agentInfo": {"id": "agn${payload.contract.agent.id}", "name": "${payload.contract.agent.name?capitalize}"},
  "roomInfo": [
    <#list payload.contract.rooms.room as room>
    {"room-code": "${room.code}", "available-rooms": ${room.available}, "kind": "${room.@kind!'std'}"}<#if room_has_next>,</#if>
    </#list>
  ]
}]]></format>
            </payloadFactory>"#,
        ),
        // ctx, axis2, trp and args (SYN testWithCtxPropertyInjection, testWithAxis2PropertyInjection,
        // testWithTransportHeaderPropertyInjection, testWithExpressionsAsArguments).
        resource(
            "/props",
            r#"<property name="customer" value="Smith &amp; Co"/>
            <property name="tier" value="gold" scope="axis2"/>
            <payloadFactory media-type="xml" template-type="freemarker">
                <format><![CDATA[<p:customer xmlns:p="http://ws.wso2.org/dataservice">
<p:name>${ctx.customer?xml}</p:name>
<p:tier>${axis2.tier}</p:tier>
<p:request>${trp["X-Request-Id"]}</p:request>
<p:arg1>${args.arg1}</p:arg1>
<p:arg2>${args.arg2}</p:arg2>
</p:customer>]]></format>
                <args>
                    <arg evaluator="json" expression="$.city"/>
                    <arg value="static"/>
                </args>
            </payloadFactory>"#,
        ),
        // <#if>/<#elseif>, <#list> with <#sep>, ?json_string, ?c and defaults.
        resource(
            "/order",
            r#"<payloadFactory media-type="json" template-type="freemarker">
                <format><![CDATA[<#assign total = 0>
{
  "customer": "${payload.customer?json_string}",
  "lines": [<#list payload.lines as l>{"sku": "${l.sku}", "qty": ${l.qty?c}}<#sep>, </#sep><#assign total = total + l.price * l.qty></#list>],
  "total": ${total?c},
  "band": "<#if total gt 1000>large<#elseif total gt 100>medium<#else>small</#if>",
  "note": "${payload.note!'none'}",
  "express": ${((payload.shipping.express)!false)?c}
}]]></format>
            </payloadFactory>"#,
        ),
        // A reference to a field the payload does not have: MI's fault.
        resource(
            "/missing",
            r#"<payloadFactory media-type="json" template-type="freemarker">
                <format><![CDATA[{"a": ${payload.nothing}}]]></format>
            </payloadFactory>"#,
        ),
        // SYN testWithXMLPayloadWithFtlHeader: a SOAP body's first element, namespaces by
        // <#ftl ns_prefixes>, the output wrapped in <pfPadding> after rendering.
        resource(
            "/soap",
            r#"<payloadFactory media-type="xml" template-type="freemarker">
                <format><![CDATA[<#ftl ns_prefixes={"int0": "http://integration.eib.org/admin/report/mediation/inf/integration"}>
<int:saveHeader xmlns:int="http://integration.eib.org/admin/report/backend/inf/integration">
<int:reportId>${payload['int0:saveHeader']['int0:reportId']}</int:reportId>
<int:title>${payload['int0:saveHeader']['int0:title']}</int:title>
</int:saveHeader>]]></format>
            </payloadFactory>"#,
        ),
        // A text payload is a string; a text result.
        resource(
            "/text",
            r#"<payloadFactory media-type="text" template-type="freemarker">
                <format><![CDATA[Hello ${payload?upper_case}!]]></format>
            </payloadFactory>"#,
        ),
    ];
    home_with(&[("api/Fm.xml", api("Fm", "/fm", &resources.join("\n")))])
}

#[test]
fn json_to_json_with_variables() {
    let home = home();
    let server = start(&home);
    let r = post(
        server.port(HTTP),
        "/fm/json",
        "application/json",
        r#"{"firstname": "Johe", "lastname": "Doe", "path": true}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(
        r.text(),
        "{\n    \"name\": \"Johe Doe\",\n    \"id\": 123\n}"
    );
}

#[test]
fn json_to_xml_with_a_list() {
    let home = home();
    let server = start(&home);
    let r = post(
        server.port(HTTP),
        "/fm/json-to-xml",
        "application/json",
        r#"{"hotelName": "Kingsbury", "hotelCode": "001", "rooms": [{"code": "LX", "available": 23}, {"code": "SUITE", "available": 3}], "agent": {"name": "walkers tours", "id": "1567"}}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("Content-Type"), Some("application/xml"));
    assert_eq!(
        r.text(),
        "<contract>\n<agent-info>\n    <id>agn1567</id>\n    <name>Walkers Tours</name>\n</agent-info>\n<hotel-info>\n    <id>htl001</id>\n         <room>\n             <id>LX</id>\n             <number-of-available-rooms>23</number-of-available-rooms>\n         </room>\n         <room>\n             <id>SUITE</id>\n             <number-of-available-rooms>3</number-of-available-rooms>\n         </room>\n</hotel-info>\n</contract>"
    );
}

#[test]
fn xml_to_json_through_the_dom() {
    let home = home();
    let server = start(&home);
    let r = post(
        server.port(HTTP),
        "/fm/xml-to-json",
        "application/xml",
        "<contract><agent><name>walkers tours</name><id>1567</id></agent><rooms><room kind=\"lux\"><code>LX</code><available>23</available></room><room><code>SV</code><available>1500</available></room></rooms></contract>",
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    // XML values are strings (DOM text): 1500 is written as it is, not in the number format.
    assert_eq!(
        r.text(),
        "{\n  \"agentInfo\": {\"id\": \"agn1567\", \"name\": \"Walkers Tours\"},\n  \"roomInfo\": [\n    {\"room-code\": \"LX\", \"available-rooms\": 23, \"kind\": \"lux\"},\n    {\"room-code\": \"SV\", \"available-rooms\": 1500, \"kind\": \"std\"}\n  ]\n}"
    );
}

#[test]
fn soap_in_with_ftl_namespace_prefixes() {
    let home = home();
    let server = start(&home);
    let r = request(
        "POST",
        server.port(HTTP),
        "/fm/soap",
        &[("Content-Type", "text/xml"), ("SOAPAction", "urn:save")],
        br#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header/><soapenv:Body>
<int0:saveHeader xmlns:int0="http://integration.eib.org/admin/report/mediation/inf/integration">
  <int0:reportId>M551</int0:reportId>
  <int0:title>title</int0:title>
</int0:saveHeader></soapenv:Body></soapenv:Envelope>"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("Content-Type"), Some("text/xml"), "{r:?}");
    assert_eq!(
        r.text(),
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Header/><soapenv:Body><int:saveHeader xmlns:int=\"http://integration.eib.org/admin/report/backend/inf/integration\">\n<int:reportId>M551</int:reportId>\n<int:title>title</int:title>\n</int:saveHeader></soapenv:Body></soapenv:Envelope>"
    );
}

#[test]
fn ctx_axis2_transport_properties_and_args() {
    let home = home();
    let server = start(&home);
    let r = post(
        server.port(HTTP),
        "/fm/props",
        "application/json",
        r#"{"city": "Colombo"}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.text(),
        "<p:customer xmlns:p=\"http://ws.wso2.org/dataservice\">\n<p:name>Smith &amp; Co</p:name>\n<p:tier>gold</p:tier>\n<p:request>r-42</p:request>\n<p:arg1>Colombo</p:arg1>\n<p:arg2>static</p:arg2>\n</p:customer>"
    );
}

#[test]
fn conditionals_lists_and_escaping() {
    let home = home();
    let server = start(&home);
    let port = server.port(HTTP);
    let r = post(
        port,
        "/fm/order",
        "application/json",
        r#"{"customer": "Ann \"A\" Lee", "lines": [{"sku": "p1", "qty": 2, "price": 60}, {"sku": "p2", "qty": 1000, "price": 1}], "shipping": {"express": true}}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    let text = r.text();
    let got: serde_json::Value = serde_json::from_str(&text).expect(&text);
    assert_eq!(
        got,
        serde_json::json!({
            "customer": "Ann \"A\" Lee",
            "lines": [{"sku": "p1", "qty": 2}, {"sku": "p2", "qty": 1000}],
            "total": 1120,
            "band": "large",
            "note": "none",
            "express": true
        })
    );
    let r = post(
        port,
        "/fm/order",
        "application/json",
        r#"{"customer": "B", "lines": [], "note": "n"}"#,
    );
    let text = r.text();
    let got: serde_json::Value = serde_json::from_str(&text).expect(&text);
    assert_eq!(
        got,
        serde_json::json!({"customer": "B", "lines": [], "total": 0, "band": "small", "note": "n", "express": false})
    );
}

#[test]
fn a_missing_reference_is_mi_s_fault() {
    let home = home();
    let server = start(&home);
    let r = post(server.port(HTTP), "/fm/missing", "application/json", "{}");
    assert_eq!(r.status, 500, "{r:?}");
    assert!(
        r.text().contains(
            "Error parsing FreeMarker template, Syntax error or invalid reference : payload.nothing At line: 1 column: 9"
        ),
        "{r:?}"
    );
    // The server goes on serving.
    let r = post(server.port(HTTP), "/fm/text", "text/plain", "world");
    assert_eq!((r.status, r.text().as_str()), (200, "Hello WORLD!"));
    assert_eq!(r.header("Content-Type"), Some("text/plain"));
}

#[test]
fn a_template_syntax_error_fails_the_deployment_with_its_location() {
    let home = home_with(&[(
        "api/Bad.xml",
        api(
            "Bad",
            "/bad",
            &resource(
                "/",
                r#"<payloadFactory media-type="json" template-type="freemarker">
                <format><![CDATA[{
  "a": "${payload.a?no_such_builtin}"
}]]></format>
            </payloadFactory>"#,
            ),
        ),
    )]);
    let (code, text) = check_output(home.path());
    assert_ne!(code, Some(0));
    assert!(
        text.contains(
            "payloadFactory FreeMarker template: ?no_such_builtin is not a supported built-in"
        ),
        "{text}"
    );
    assert!(text.contains("at template line 2, column 21"), "{text}");
    assert!(text.contains("api/Bad.xml:"), "{text}");
}
