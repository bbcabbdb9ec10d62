//! Mediation end to end through the real binary (issue: mediation tier 1): each test deploys
//! Synapse XML into its own home, sends real requests, and checks status, headers and bodies at
//! the client and what in-process backends received. Covers filter/switch over JSON and XML
//! payloads with XPath and JSONPath (synapse-subset §3.10), enrich (§3.12), makefault
//! (SYN FaultMediator), log levels in MI's line format (§3.8), the payload size limit (413),
//! malformed payloads (400), `<header name="To">` with a default endpoint, SOAP envelopes, and the
//! examples in the bundled home.

mod support;

use support::backend::*;
use support::*;

fn post(port: u16, path: &str, content_type: &str, body: &str) -> HttpResponse {
    request(
        "POST",
        port,
        path,
        &[("Content-Type", content_type)],
        body.as_bytes(),
    )
}

fn json(r: &HttpResponse) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {:?} {}", r.status, r.text()))
}

// switch on json-eval, filter with XPath over a JSON payload seen as XML (MI JsonUtil), and a
// payloadFactory whose arguments are XPath and JSONPath (SYN FilterMediator / SwitchMediator:
// Matcher.matches(); PayloadFactoryMediator).
#[test]
fn switch_and_filter_route_json_and_xml_payloads() {
    let home = home_with(&[(
        "api/OrderApi.xml",
        api(
            "OrderApi",
            "/orders",
            r#"<resource methods="POST" uri-template="/">
        <inSequence>
            <switch source="json-eval($.kind)">
                <case regex="book|ebook">
                    <property name="shelf" value="books"/>
                </case>
                <case regex="music">
                    <property name="shelf" value="records"/>
                </case>
                <default>
                    <property name="shelf" value="misc"/>
                </default>
            </switch>
            <filter xpath="//amount &gt; 100">
                <then>
                    <property name="tier" value="large"/>
                </then>
                <else>
                    <property name="tier" value="small"/>
                </else>
            </filter>
            <payloadFactory media-type="json">
                <format>{"shelf": "$1", "tier": "$2", "title": "$3", "first": "$4"}</format>
                <args>
                    <arg expression="$ctx:shelf"/>
                    <arg expression="$ctx:tier"/>
                    <arg evaluator="json" expression="$.title"/>
                    <arg expression="//items[1]"/>
                </args>
            </payloadFactory>
            <respond/>
        </inSequence>
    </resource>
    <resource methods="POST" uri-template="/xml">
        <inSequence>
            <filter source="//m:order/m:kind" regex="book" xmlns:m="urn:shop">
                <then>
                    <payloadFactory media-type="xml">
                        <format><accepted xmlns=""><title>$1</title><count>$2</count></accepted></format>
                        <args>
                            <arg expression="//m:title" xmlns:m="urn:shop"/>
                            <arg expression="count(//m:item)" xmlns:m="urn:shop"/>
                        </args>
                    </payloadFactory>
                    <respond/>
                </then>
                <else>
                    <property name="HTTP_SC" scope="axis2" value="422"/>
                    <payloadFactory media-type="text">
                        <format>not a book: $1</format>
                        <args><arg expression="//m:order/m:kind" xmlns:m="urn:shop"/></args>
                    </payloadFactory>
                    <respond/>
                </else>
            </filter>
        </inSequence>
    </resource>"#,
        ),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);

    let r = post(
        port,
        "/orders",
        "application/json",
        r#"{"kind": "ebook", "amount": 250, "title": "Dune", "items": ["a", "b"]}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        json(&r),
        serde_json::json!({"shelf": "books", "tier": "large", "title": "Dune", "first": "a"})
    );
    assert_eq!(r.header("content-type"), Some("application/json"));

    let r = post(
        port,
        "/orders",
        "application/json",
        r#"{"kind": "food", "amount": 5, "title": "x", "items": ["z"]}"#,
    );
    assert_eq!(json(&r)["shelf"], "misc");
    assert_eq!(json(&r)["tier"], "small");

    let book = r#"<m:order xmlns:m="urn:shop"><m:kind>book</m:kind><m:title>Dune &amp; co</m:title><m:item/><m:item/></m:order>"#;
    let r = post(port, "/orders/xml", "application/xml", book);
    assert_eq!(r.status, 200, "{r:?}");
    // A number from XPath is Java's Double.toString in Synapse (SynapseXPath.stringValueOf).
    assert_eq!(
        r.text(),
        "<accepted><title>Dune &amp; co</title><count>2.0</count></accepted>"
    );
    assert_eq!(r.header("content-type"), Some("application/xml"));

    let cd = r#"<m:order xmlns:m="urn:shop"><m:kind>cd</m:kind></m:order>"#;
    let r = post(port, "/orders/xml", "application/xml", cd);
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.text(), "not a book: cd");
    assert_eq!(r.header("content-type"), Some("text/plain"));
}

// enrich (SYN EnrichMediator Source/Target): a JSON property into a JSON path, and inline XML as a
// child of the body's first element; the backend receives the edited message.
#[test]
fn enrich_edits_json_and_xml_payloads_before_the_send() {
    let backend = Backend::start(Behaviour::Echo);
    let home = home_with(&[(
        "api/EnrichApi.xml",
        api(
            "EnrichApi",
            "/enrich",
            &format!(
                r#"<resource methods="POST" uri-template="/json">
        <inSequence>
            <property name="meta" value='{{"source": "conflux", "v": 2}}'/>
            <enrich>
                <source type="property" property="meta"/>
                <target xpath="json-eval($.meta)"/>
            </enrich>
            <enrich>
                <source type="inline" clone="true">"archived"</source>
                <target xpath="json-eval($.state)"/>
            </enrich>
            <send><endpoint><address uri="{url}/echo"/></endpoint></send>
        </inSequence>
    </resource>
    <resource methods="POST" uri-template="/xml">
        <inSequence>
            <enrich>
                <source type="inline" clone="true"><stamp xmlns="">checked</stamp></source>
                <target type="body" action="child"/>
            </enrich>
            <enrich>
                <source type="custom" xpath="//name/text()"/>
                <target type="property" property="who"/>
            </enrich>
            <header name="X-Who" scope="transport" expression="$ctx:who"/>
            <send><endpoint><address uri="{url}/echo"/></endpoint></send>
        </inSequence>
    </resource>"#,
                url = backend.url()
            ),
        ),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);

    let r = post(
        port,
        "/enrich/json",
        "application/json",
        r#"{"id": 7, "meta": null, "state": "new"}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        json(&r),
        serde_json::json!({"id": 7, "meta": {"source": "conflux", "v": 2}, "state": "archived"})
    );

    let r = post(
        port,
        "/enrich/xml",
        "application/xml",
        "<person><name>Ann</name></person>",
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.text(),
        "<person><name>Ann</name><stamp>checked</stamp></person>"
    );
    let seen = backend.requests();
    let last = seen.last().expect("backend saw the request");
    assert_eq!(last.header("x-who"), Some("Ann"));
    assert_eq!(last.header("content-type"), Some("application/xml"));
    assert_eq!(last.body_len, r.body.len() as u64);
}

// makefault (SYN FaultMediator): SOAP 1.1, SOAP 1.2 and POX faults answered with status 500.
#[test]
fn makefault_answers_soap_and_pox_faults() {
    let home = home_with(&[(
        "api/FaultApi.xml",
        api(
            "FaultApi",
            "/fault",
            r#"<resource methods="POST" uri-template="/soap11">
        <inSequence>
            <makefault version="soap11" response="true">
                <code xmlns:soap11Env="http://schemas.xmlsoap.org/soap/envelope/" value="soap11Env:Client"/>
                <reason expression="concat('bad symbol: ', //symbol)"/>
                <detail>see the docs</detail>
            </makefault>
            <send/>
        </inSequence>
    </resource>
    <resource methods="POST" uri-template="/soap12">
        <inSequence>
            <makefault version="soap12" response="true">
                <code xmlns:soap12Env="http://www.w3.org/2003/05/soap-envelope" value="soap12Env:Receiver"/>
                <reason value="down"/>
            </makefault>
            <respond/>
        </inSequence>
    </resource>
    <resource methods="POST" uri-template="/pox">
        <inSequence>
            <makefault version="pox" response="true">
                <reason value="plain failure"/>
            </makefault>
            <respond/>
        </inSequence>
    </resource>"#,
        ),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);
    let soap_request = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><getQuote><symbol>XYZ</symbol></getQuote></soapenv:Body></soapenv:Envelope>"#;

    let r = post(port, "/fault/soap11", "text/xml", soap_request);
    assert_eq!(r.status, 500, "{r:?}");
    let t = r.text();
    // The code keeps the artifact's prefix (MI test Soap11FaultCodeClientTestCase).
    assert!(
        t.contains("<faultcode xmlns:soap11Env=\"http://schemas.xmlsoap.org/soap/envelope/\">soap11Env:Client</faultcode>"),
        "{t}"
    );
    assert!(
        t.contains("<faultstring>bad symbol: XYZ</faultstring>"),
        "{t}"
    );
    assert!(t.contains("<detail>see the docs</detail>"), "{t}");
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/xml")),
        "{r:?}"
    );

    let r = post(port, "/fault/soap12", "application/soap+xml", soap_request);
    assert_eq!(r.status, 500, "{r:?}");
    assert!(
        r.text().contains(">soap12Env:Receiver</soapenv:Value>"),
        "{}",
        r.text()
    );
    assert!(
        r.text()
            .contains("<soapenv:Text xml:lang=\"en\">down</soapenv:Text>"),
        "{}",
        r.text()
    );

    let r = post(port, "/fault/pox", "application/xml", "<a/>");
    assert_eq!(r.status, 500, "{r:?}");
    assert_eq!(r.text(), "<Exception>plain failure</Exception>");
}

// LogMediator line formats (synapse-subset §3.8): simple, custom, full with a JSON payload and
// with a SOAP envelope; SOAP envelopes reach XPath with their own namespaces.
#[test]
fn log_levels_write_mi_lines_and_xpath_reads_soap_envelopes() {
    let home = home_with(&[(
        "api/LogApi.xml",
        api(
            "LogApi",
            "/log",
            r#"<resource methods="POST" uri-template="/{id}">
        <inSequence>
            <log/>
            <log level="custom" separator=" | ">
                <property name="ID" expression="$ctx:uri.var.id"/>
                <property name="SYMBOL" expression="//m0:symbol" xmlns:m0="http://services.samples"/>
            </log>
            <log level="full"/>
            <property name="sym" expression="$body/m0:getQuote/m0:symbol" xmlns:m0="http://services.samples"/>
            <payloadFactory media-type="json">
                <format>{"symbol": "$1"}</format>
                <args><arg expression="$ctx:sym"/></args>
            </payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#,
        ),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);
    let soap = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><m0:getQuote xmlns:m0="http://services.samples"><m0:symbol>IBM</m0:symbol></m0:getQuote></soapenv:Body></soapenv:Envelope>"#;
    let r = request(
        "POST",
        port,
        "/log/42",
        &[
            ("Content-Type", "text/xml"),
            ("SOAPAction", "\"urn:getQuote\""),
        ],
        soap.as_bytes(),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(json(&r), serde_json::json!({"symbol": "IBM"}));

    let r = post(port, "/log/7", "application/json", r#"{"a": 1}"#);
    assert_eq!(r.status, 200, "{r:?}");

    // Lines are written as requests flow; give the log a moment to reach the output.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let out = loop {
        let out = server.output();
        if out.contains("Payload: {\"a\": 1}") || std::time::Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(out.contains("{api:LogApi} To: /log/42, WSAction: urn:getQuote, SOAPAction: urn:getQuote, MessageID: urn:uuid:"), "{out}");
    assert!(out.contains("ID = 42 | SYMBOL = IBM"), "{out}");
    assert!(
        out.contains("Direction: request, Envelope: <soapenv:Envelope"),
        "{out}"
    );
    assert!(
        out.contains("Direction: request, Payload: {\"a\": 1}"),
        "{out}"
    );
}

// The body size limit: a route that reads the content answers 413 beyond `[mediation]
// max_message_size`; a pure pass-through route streams any size; malformed JSON is a 400.
#[test]
fn content_limit_413_malformed_400_and_streaming_stays_unlimited() {
    let backend = Backend::start(Behaviour::Echo);
    let home = home_with(&[(
        "api/SizeApi.xml",
        api(
            "SizeApi",
            "/size",
            &format!(
                r#"<resource methods="POST" uri-template="/read">
        <inSequence>
            <property name="id" expression="json-eval($.id)"/>
            <payloadFactory media-type="json">
                <format>{{"id": "$1"}}</format>
                <args><arg expression="$ctx:id"/></args>
            </payloadFactory>
            <respond/>
        </inSequence>
    </resource>
    <resource methods="POST" uri-template="/stream">
        <inSequence>
            <property name="seen" value="yes"/>
            <send><endpoint><address uri="{}/echo"/></endpoint></send>
        </inSequence>
    </resource>"#,
                backend.url()
            ),
        ),
    )]);
    home.write(
        "conf/deployment.toml",
        "[mediation]\nmax_message_size = 1024\n",
    );
    let server = start(&home);
    let port = server.port(HTTP);

    let small = format!(r#"{{"id": "a", "pad": "{}"}}"#, "x".repeat(900));
    let r = post(port, "/size/read", "application/json", &small);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(json(&r), serde_json::json!({"id": "a"}));

    let big = format!(r#"{{"id": "a", "pad": "{}"}}"#, "x".repeat(2000));
    let r = post(port, "/size/read", "application/json", &big);
    assert_eq!(r.status, 413, "{r:?}");

    let r = post(port, "/size/read", "application/json", r#"{"id": "#);
    assert_eq!(r.status, 400, "{r:?}");

    let r = post(port, "/size/stream", "application/json", &big);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body.len(), big.len());
}

// <header name="To"> sets the address a <send/> without endpoint goes to (SYN HeaderMediator,
// default endpoint); a SOAP header block is added to a SOAP message.
#[test]
fn header_to_and_soap_header_blocks() {
    let backend = Backend::start(Behaviour::Echo);
    let home = home_with(&[(
        "api/ToApi.xml",
        api(
            "ToApi",
            "/to",
            &format!(
                r#"<resource methods="POST" uri-template="/">
        <inSequence>
            <header name="To" value="{}/routed"/>
            <header xmlns:t="urn:trace" name="t:Trace" value="abc"/>
            <send/>
        </inSequence>
    </resource>"#,
                backend.url()
            ),
        ),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);
    let soap = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><ping/></s:Body></s:Envelope>"#;
    let r = post(port, "/to", "text/xml", soap);
    assert_eq!(r.status, 200, "{r:?}");
    let t = r.text();
    assert!(
        t.contains(
            "<s:Header><t:Trace xmlns:t=\"urn:trace\">abc</t:Trace></s:Header><s:Body><ping/></s:Body>"
        ),
        "{t}"
    );
    assert_eq!(
        backend
            .requests()
            .last()
            .map(|r| r.path_and_query.clone())
            .as_deref(),
        Some("/routed")
    );
}

// The bundled home's examples: log + property + payloadFactory + respond (GreetingApi), and call
// + a JSON transformation of the reply (TransformApi calling HelloApi through HelloBackend).
#[test]
fn bundled_home_mediation_examples() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&bundled_home(), dir.path());
    // HelloBackend points at the default offset; serve on it only if that is free, else on a
    // free offset with the endpoint rewritten to match.
    let offset = free_offset();
    let endpoint = dir.path().join(SYNAPSE).join("endpoints/HelloBackend.xml");
    let text = std::fs::read_to_string(&endpoint).expect("endpoint");
    std::fs::write(
        &endpoint,
        text.replace("localhost:8290", &format!("localhost:{}", 8280 + offset)),
    )
    .expect("rewrite endpoint");
    // The MI 4.4 sample's HTTP connection points there too.
    let connection = dir.path().join(SYNAPSE).join("local-entries/HelloConn.xml");
    let text = std::fs::read_to_string(&connection).expect("connection");
    std::fs::write(
        &connection,
        text.replace("localhost:8290", &format!("localhost:{}", 8280 + offset)),
    )
    .expect("rewrite connection");
    let server = Server::start(dir.path(), offset, &[]);
    let port = server.port(HTTP);

    // The MI 4.4 sample (OrdersApi): variables, ${...}, the new log, the HTTP connector with a
    // response variable, a default payloadFactory template, throwError into the fault sequence.
    let r = post(
        port,
        "/orders",
        "application/json",
        r#"{"item":"tea","quantity":3,"unitPrice":2.5}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        json(&r),
        serde_json::json!({"item": "tea", "quantity": 3, "total": 7.5,
            "greeting": {"hello": "tea"}, "greetingStatus": 200})
    );
    let r = post(
        port,
        "/orders",
        "application/json",
        r#"{"item":"tea","quantity":0,"unitPrice":2.5}"#,
    );
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(
        json(&r),
        serde_json::json!({"error": "INVALID_ORDER", "message": "quantity must be at least 1, got 0"})
    );
    let r = get(port, "/orders/42?note=rush");
    assert_eq!(
        json(&r),
        serde_json::json!({"id": 42, "even": true, "upper": "RUSH"})
    );
    let log = server.output_with(&["{api:OrdersApi POST /orders} Order of 3 tea: total 7.5"]);
    assert!(
        log.contains("INFO {LogMediator} - {api:OrdersApi POST /orders} Order of 3 tea: total 7.5"),
        "{log}"
    );

    let r = get(port, "/greeting/Ada");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        json(&r),
        serde_json::json!({"greeting": "Hello, Ada!", "shout": "HELLO, ADA!"})
    );
    let r = post(
        port,
        "/greeting/Ada",
        "application/json",
        r#"{"title": "Welcome"}"#,
    );
    assert_eq!(
        json(&r),
        serde_json::json!({"greeting": "Welcome, Ada!", "shout": "WELCOME, ADA!"})
    );

    let r = get(port, "/transform/world");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        json(&r),
        serde_json::json!({"message": "hello world", "upstreamStatus": 200, "via": "conflux"})
    );
}

// An endpoint timeout given as an expression is evaluated per message (MI test
// DynamicTimeoutEndpointTestCase): a stalled backend is cut off at the computed deadline.
#[test]
fn dynamic_endpoint_timeout_is_evaluated_per_message() {
    let stall = Backend::start(Behaviour::Stall);
    let home = home_with(&[
        (
            "endpoints/Slow.xml",
            format!(
                r#"<endpoint xmlns="http://ws.apache.org/ns/synapse" name="Slow">
    <address uri="{}/slow">
        <timeout>
            <duration>{{get-property('tmo')}}</duration>
            <responseAction>fault</responseAction>
        </timeout>
    </address>
</endpoint>"#,
                stall.url()
            ),
        ),
        (
            "api/SlowApi.xml",
            api(
                "SlowApi",
                "/slow",
                r#"<resource methods="GET" url-mapping="/*">
        <inSequence>
            <property name="tmo" expression="$url:ms"/>
            <call><endpoint key="Slow"/></call>
            <respond/>
        </inSequence>
    </resource>"#,
            ),
        ),
    ]);
    let server = start(&home);
    // Without the per-message 300 ms the default deadline (120 s) would apply.
    let r = get(server.port(HTTP), "/slow?ms=300");
    assert_eq!(r.status, 504, "{r:?}");
    assert!(r.text().contains("101504"), "{}", r.text());
}

// A key naming an endpoint that is not deployed: MI deploys the artifact and faults the messages
// that reach it (SYN endpoints/IndirectEndpoint.java); Conflux does the same and warns.
#[test]
fn a_missing_endpoint_deploys_with_a_warning_and_faults_per_message() {
    let home = home_with(&[(
        "api/LazyApi.xml",
        api(
            "LazyApi",
            "/lazy",
            r#"<resource methods="GET" uri-template="/">
        <inSequence>
            <send><endpoint key="NotThere"/></send>
        </inSequence>
        <faultSequence>
            <payloadFactory media-type="json">
                <format>{"error": "$1"}</format>
                <args><arg expression="$ctx:ERROR_MESSAGE"/></args>
            </payloadFactory>
            <property name="HTTP_SC" scope="axis2" value="503"/>
            <respond/>
        </faultSequence>
    </resource>"#,
        ),
    )]);
    let (code, _, stderr) = run(&["check", "--home", home.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning: endpoint NotThere is not deployed")
            && stderr.contains("api/LazyApi.xml:"),
        "{stderr}"
    );
    let server = start(&home);
    let r = get(server.port(HTTP), "/lazy");
    assert_eq!(r.status, 503, "{r:?}");
    assert!(r.text().contains("NotThere"), "{}", r.text());
}

// The usual MI idiom: a backend's XML reply turned into JSON by setting axis2 messageType in the
// out-sequence (SYN PropertyMediator.isContentAware + MediatorPropertyUtils.handleSpecialProperties).
#[test]
fn message_type_converts_an_xml_reply_to_json() {
    let backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "application/xml".into())],
        body: "<quote><symbol>IBM</symbol><price>42.5</price></quote>".into(),
    });
    let home = home_with(&[(
        "api/QuoteApi.xml",
        api(
            "QuoteApi",
            "/quote",
            &format!(
                r#"<resource methods="GET" uri-template="/">
        <inSequence>
            <send><endpoint><address uri="{}/q"/></endpoint></send>
        </inSequence>
        <outSequence>
            <property name="messageType" value="application/json" scope="axis2"/>
            <send/>
        </outSequence>
    </resource>"#,
                backend.url()
            ),
        ),
    )]);
    let server = start(&home);
    let r = get(server.port(HTTP), "/quote");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        json(&r),
        serde_json::json!({"quote": {"symbol": "IBM", "price": 42.5}})
    );
}

// propertyGroup, a dynamic sequence key, an inline sequence, and a named sequence's onError
// (SYN PropertyGroupMediator, SequenceMediator with a {expr} key, onError handling).
#[test]
fn property_group_dynamic_and_inline_sequences_and_on_error() {
    let home = home_with(&[
        (
            "sequences/Greet.xml",
            r#"<sequence xmlns="http://ws.apache.org/ns/synapse" name="Greet">
    <property name="said" expression="concat('hello ', $ctx:who)"/>
</sequence>"#
                .to_string(),
        ),
        (
            "sequences/Broken.xml",
            r#"<sequence xmlns="http://ws.apache.org/ns/synapse" name="Broken" onError="Recover">
    <property name="n" type="INTEGER" expression="$ctx:who"/>
</sequence>"#
                .to_string(),
        ),
        (
            "sequences/Recover.xml",
            r#"<sequence xmlns="http://ws.apache.org/ns/synapse" name="Recover">
    <payloadFactory media-type="text">
        <format>recovered: $1</format>
        <args><arg expression="$ctx:ERROR_MESSAGE"/></args>
    </payloadFactory>
    <property name="HTTP_SC" scope="axis2" value="409"/>
    <respond/>
</sequence>"#
                .to_string(),
        ),
        (
            "api/SeqApi.xml",
            api(
                "SeqApi",
                "/seq",
                r#"<resource methods="GET" uri-template="/{who}">
        <inSequence>
            <propertyGroup>
                <property name="who" expression="$ctx:uri.var.who"/>
                <property name="next" value="Greet"/>
            </propertyGroup>
            <filter source="$ctx:who" regex="broken">
                <then><sequence key="Broken"/></then>
            </filter>
            <sequence key="{$ctx:next}"/>
            <sequence>
                <property name="said" expression="concat($ctx:said, '!')"/>
            </sequence>
            <payloadFactory media-type="json">
                <format>{"said": "$1"}</format>
                <args><arg expression="$ctx:said"/></args>
            </payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#,
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let r = get(port, "/seq/ada");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(json(&r), serde_json::json!({"said": "hello ada!"}));
    let r = get(port, "/seq/broken");
    assert_eq!(r.status, 409, "{r:?}");
    assert!(r.text().starts_with("recovered: "), "{}", r.text());
}

// A pure pass-through resource does not build MI's REST properties per request (nothing on it can
// read them), but a deployed global `fault` sequence can: then they are set as MI sets them
// (SYN api/API.java, api/Resource.java: REST_METHOD, SYNAPSE_REST_API, uri.var.*, query.param.*).
#[test]
fn a_fault_sequence_behind_a_plain_forward_sees_the_rest_properties() {
    let dead = format!("http://127.0.0.1:{}/x", closed_port());
    let home = home_with(&[
        (
            "api/ItemApi.xml",
            api(
                "ItemApi",
                "/items",
                &format!(
                    r#"<resource methods="GET" uri-template="/{{id}}?tag={{tag}}">
        <inSequence><send><endpoint><address uri="{dead}"/></endpoint></send></inSequence>
    </resource>"#
                ),
            ),
        ),
        (
            "sequences/fault.xml",
            r#"<sequence xmlns="http://ws.apache.org/ns/synapse" name="fault">
    <payloadFactory media-type="text">
        <format>$1 $2 $3 $4 $5</format>
        <args>
            <arg expression="$ctx:REST_METHOD"/>
            <arg expression="$ctx:SYNAPSE_REST_API"/>
            <arg expression="$ctx:uri.var.id"/>
            <arg expression="$ctx:query.param.tag"/>
            <arg expression="$ctx:REST_SUB_REQUEST_PATH"/>
        </args>
    </payloadFactory>
    <respond/>
</sequence>"#
                .to_string(),
        ),
    ]);
    let server = start(&home);
    let r = get(server.port(HTTP), "/items/42?tag=red");
    assert_eq!(
        r.text(),
        "GET ItemApi 42 red /42?tag=red",
        "{}",
        server.output()
    );
}
