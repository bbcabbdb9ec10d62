//! The validate mediator end to end through the real binary (SYN
//! `mediators/builtin/ValidateMediator.java`, `config/xml/ValidateMediatorFactory.java`): JSON
//! Schema from a local entry and from the file registry, XSD (libxml2) with the default source and
//! an XPath source, `json-eval` sources, dynamic keys, and `<on-fail>` seeing `ERROR_MESSAGE`.

mod support;

use support::backend::*;
use support::*;

const PERSON_SCHEMA: &str = r#"{"type":"object","required":["name"],
  "properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0}}}"#;

const ORDER_XSD: &str = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
    targetNamespace="urn:orders" xmlns="urn:orders" elementFormDefault="qualified">
  <xs:element name="order"><xs:complexType><xs:sequence>
    <xs:element name="qty" type="xs:int"/>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"#;

fn local_entry(key: &str, inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<localEntry xmlns="http://ws.apache.org/ns/synapse" key="{key}">{inner}</localEntry>"#
    )
}

/// An `<on-fail>` that answers 400 with `ERROR_MESSAGE` as plain text.
const ON_FAIL_TEXT: &str = r#"<on-fail>
                <payloadFactory media-type="text">
                    <format>$1</format>
                    <args><arg expression="$ctx:ERROR_MESSAGE"/></args>
                </payloadFactory>
                <property name="messageType" value="text/plain" scope="axis2"/>
                <property name="HTTP_SC" value="400" scope="axis2"/>
                <respond/>
            </on-fail>"#;

fn post(port: u16, path: &str, content_type: &str, body: &str) -> HttpResponse {
    request(
        "POST",
        port,
        path,
        &[("Content-Type", content_type)],
        body.as_bytes(),
    )
}

// ValidateMediator's JSON branch: the payload is JSON, the schema the entry's text; a valid
// message goes on to the backend, an invalid one runs on-fail with the validator's first message.
#[test]
fn json_schema_from_a_local_entry_and_from_the_registry() {
    let backend = Backend::start(Behaviour::Echo);
    let resource = |context: &str, key: &str| {
        format!(
            r#"<resource methods="POST" uri-template="{context}">
        <inSequence>
            <validate>
                <schema key="{key}"/>
                {ON_FAIL_TEXT}
            </validate>
            <call><endpoint><http method="post" uri-template="{}/echo"/></endpoint></call>
            <respond/>
        </inSequence>
    </resource>"#,
            backend.url()
        )
    };
    let home = home_with(&[
        (
            "local-entries/person.xml",
            local_entry("personSchema", &format!("<![CDATA[{PERSON_SCHEMA}]]>")),
        ),
        (
            "api/V.xml",
            api(
                "V",
                "/v",
                &format!(
                    "{}{}",
                    resource("/local", "personSchema"),
                    resource("/registry", "conf:/schemas/person.json")
                ),
            ),
        ),
    ]);
    home.write("registry/config/schemas/person.json", PERSON_SCHEMA);
    let server = start(&home);
    let port = server.port(HTTP);
    for path in ["/v/local", "/v/registry"] {
        let ok = post(port, path, "application/json", r#"{"name":"Ann","age":3}"#);
        assert_eq!(ok.status, 200, "{path}: {}", ok.text());
        assert_eq!(ok.text(), r#"{"name":"Ann","age":3}"#);
        let missing = post(port, path, "application/json", r#"{"age":3}"#);
        assert_eq!(missing.status, 400);
        assert_eq!(
            missing.text(),
            r#"object has missing required properties (["name"])"#
        );
        let wrong = post(
            port,
            path,
            "application/json",
            r#"{"name":"Ann","age":"x"}"#,
        );
        assert_eq!(
            wrong.text(),
            r#"instance type (string) does not match any allowed primitive type (allowed: ["integer"])"#
        );
    }
    // Only the valid messages reached the backend.
    assert_eq!(backend.requests().len(), 2);
}

// MI's validateMediatorJsonTestProxy: `source="json-eval($.msg)"` validates that part only.
#[test]
fn a_json_eval_source_validates_part_of_the_payload() {
    let home = home_with(&[
        (
            "local-entries/person.xml",
            local_entry("personSchema", &format!("<![CDATA[{PERSON_SCHEMA}]]>")),
        ),
        (
            "api/P.xml",
            api(
                "P",
                "/p",
                &format!(
                    r#"<resource methods="POST">
        <inSequence>
            <validate source="json-eval($.msg)">
                <schema key="personSchema"/>
                {ON_FAIL_TEXT}
            </validate>
            <payloadFactory media-type="json"><format>{{"valid":true}}</format><args/></payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#
                ),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let ok = post(
        port,
        "/p",
        "application/json",
        r#"{"msg":{"name":"x"},"other":1}"#,
    );
    assert_eq!((ok.status, ok.text().as_str()), (200, r#"{"valid":true}"#));
    let bad = post(
        port,
        "/p",
        "application/json",
        r#"{"msg":{"age":-1},"name":"x"}"#,
    );
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.text(),
        r#"object has missing required properties (["name"])"#
    );
}

// The XML branch: the first child of the SOAP body (or the POX root) against an XSD; the errors,
// each followed by a newline, in ERROR_MESSAGE.
#[test]
fn xsd_validation_with_the_default_and_an_xpath_source() {
    let backend = Backend::start(Behaviour::Echo);
    let home = home_with(&[
        (
            "local-entries/order.xml",
            local_entry("orderXsd", ORDER_XSD),
        ),
        (
            "api/X.xml",
            api(
                "X",
                "/x",
                &format!(
                    r#"<resource methods="POST" uri-template="/default">
        <inSequence>
            <validate>
                <schema key="orderXsd"/>
                {ON_FAIL_TEXT}
            </validate>
            <call><endpoint><http method="post" uri-template="{url}/echo"/></endpoint></call>
            <respond/>
        </inSequence>
    </resource>
    <resource methods="POST" uri-template="/xpath">
        <inSequence>
            <validate source="//w:wrap/o:order" xmlns:w="urn:wrap" xmlns:o="urn:orders">
                <schema key="orderXsd"/>
                {ON_FAIL_TEXT}
            </validate>
            <payloadFactory media-type="text"><format>ok</format><args/></payloadFactory>
            <property name="messageType" value="text/plain" scope="axis2"/>
            <respond/>
        </inSequence>
    </resource>"#,
                    url = backend.url()
                ),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let valid = r#"<order xmlns="urn:orders"><qty>2</qty></order>"#;
    let ok = post(port, "/x/default", "application/xml", valid);
    assert_eq!((ok.status, ok.text().as_str()), (200, valid));
    let soap = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><order xmlns="urn:orders"><qty>two</qty></order></soapenv:Body></soapenv:Envelope>"#;
    let bad = request(
        "POST",
        port,
        "/x/default",
        &[("Content-Type", "text/xml"), ("SOAPAction", "urn:order")],
        soap.as_bytes(),
    );
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.text(),
        "Element '{urn:orders}qty': 'two' is not a valid value of the atomic type 'xs:int'.\n"
    );
    assert_eq!(backend.requests().len(), 1);

    let wrapped =
        r#"<w:wrap xmlns:w="urn:wrap"><order xmlns="urn:orders"><qty>5</qty></order></w:wrap>"#;
    let ok = post(port, "/x/xpath", "application/xml", wrapped);
    assert_eq!((ok.status, ok.text().as_str()), (200, "ok"));
    // MI's validateMediatorInvalidXPathTestProxy: a source that selects nothing is an on-fail.
    let other = r#"<w:other xmlns:w="urn:wrap"/>"#;
    let missing = post(port, "/x/xpath", "application/xml", other);
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.text(),
        "Error occurred while accessing source element: //w:wrap/o:order"
    );
}

// MI's validateMediatorDynamicKeyTestProxy: `<schema key="{expr}">` picks the entry per message.
#[test]
fn a_dynamic_key_picks_the_schema_per_message() {
    let home = home_with(&[
        (
            "local-entries/order.xml",
            local_entry("orderXsd", ORDER_XSD),
        ),
        (
            "local-entries/plain.xml",
            local_entry(
                "plainXsd",
                r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="plain" type="xs:string"/></xs:schema>"#,
            ),
        ),
        (
            "api/D.xml",
            api(
                "D",
                "/d",
                &format!(
                    r#"<resource methods="POST">
        <inSequence>
            <validate>
                <schema key="{{$trp:X-Schema}}"/>
                {ON_FAIL_TEXT}
            </validate>
            <payloadFactory media-type="text"><format>valid</format><args/></payloadFactory>
            <property name="messageType" value="text/plain" scope="axis2"/>
            <respond/>
        </inSequence>
    </resource>"#
                ),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let send = |schema: &str, body: &str| {
        request(
            "POST",
            port,
            "/d",
            &[("Content-Type", "application/xml"), ("X-Schema", schema)],
            body.as_bytes(),
        )
    };
    assert_eq!(send("plainXsd", "<plain>x</plain>").text(), "valid");
    assert_eq!(
        send("orderXsd", "<plain>x</plain>").text(),
        "Element 'plain': No matching global declaration available for the validation root.\n"
    );
    assert_eq!(
        send(
            "orderXsd",
            r#"<order xmlns="urn:orders"><qty>1</qty></order>"#
        )
        .text(),
        "valid"
    );
    // A key that names no entry: a mediation fault (ValidateMediator's SynapseException).
    let unknown = send("nothing", "<plain>x</plain>");
    assert_eq!(unknown.status, 500, "{}", unknown.text());
}

// ValidateMediatorFactory's deploy errors, and a static key that names no entry (compiled at
// deploy) fail `conflux check` with the file and line.
#[test]
fn broken_validate_configurations_do_not_deploy() {
    let cases = [
        (
            r#"<validate><on-fail><drop/></on-fail></validate>"#,
            "<validate> requires a <schema key> child",
        ),
        (
            r#"<validate><schema key="s"/><on-fail/></validate>"#,
            "A non-empty <on-fail> child element is required for the <validate> mediator",
        ),
        (
            r#"<validate><schema key="nowhere"/><on-fail><drop/></on-fail></validate>"#,
            "No Schema is available with the key  : nowhere",
        ),
    ];
    for (mediator, expected) in cases {
        let home = home_with(&[(
            "api/B.xml",
            api(
                "B",
                "/b",
                &format!(
                    r#"<resource methods="POST"><inSequence>
        {mediator}
    </inSequence></resource>"#
                ),
            ),
        )]);
        let (code, text) = check_output(home.path());
        assert!(code != Some(0), "{mediator}: {text}");
        assert!(text.contains(expected), "{mediator}: {text}");
        assert!(text.contains("api/B.xml:"), "{mediator}: {text}");
    }
}

// MI's validateMediatorInvalidXPathTestProxy deploys a schema that is not valid XML Schema (an
// element directly inside an element): MI compiles schemas on first use, after looking up the
// source, so a source that selects nothing still answers from on-fail. Conflux deploys it with a
// warning; a message whose source exists faults.
#[test]
fn an_invalid_schema_deploys_and_the_source_is_checked_first() {
    let broken = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a"><xs:element name="b"/></xs:element></xs:schema>"#;
    let home = home_with(&[
        ("local-entries/broken.xml", local_entry("brokenXsd", broken)),
        (
            "api/I.xml",
            api(
                "I",
                "/i",
                &format!(
                    r#"<resource methods="POST">
        <inSequence>
            <validate source="//a">
                <schema key="brokenXsd"/>
                {ON_FAIL_TEXT}
            </validate>
            <respond/>
        </inSequence>
    </resource>"#
                ),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let missing = post(port, "/i", "application/xml", "<b/>");
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.text(),
        "Error occurred while accessing source element: //a"
    );
    let present = post(port, "/i", "application/xml", "<a/>");
    assert_eq!(present.status, 500, "{}", present.text());
    assert!(
        server
            .output()
            .contains("schema [brokenXsd] is neither an XML Schema"),
        "{}",
        server.output()
    );
}
