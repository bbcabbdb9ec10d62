//! The XSLT mediator end to end through the real binary (SYN `mediators/transform/XSLTMediator.java`
//! and `config/xml/XSLTMediatorFactory.java`; carbon-mediation `FastXSLTMediator.java`), libxslt
//! doing the transformations: MI's integration scenarios (request and response stylesheets with
//! `<property>` parameters, JSON in and SOAP out, an envelope built from an empty body, dynamic
//! keys, registry resources with `xsl:import`, `fastXSLT`) with stylesheets written here to the
//! same effect, MI's own stylesheets from `../shared/corpus` when it is present, text output,
//! `target`, the limits, and `document()` refused. Exact bodies and status codes.

mod support;

use support::backend::*;
use support::*;

const XSL: &str = "http://www.w3.org/1999/XSL/Transform";

fn local_entry(key: &str, inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<localEntry xmlns="http://ws.apache.org/ns/synapse" key="{key}">{inner}</localEntry>"#
    )
}

/// A stylesheet (XSLT 1.0) with `body` as its top-level content.
fn stylesheet(body: &str) -> String {
    format!(r#"<xsl:stylesheet version="1.0" xmlns:xsl="{XSL}">{body}</xsl:stylesheet>"#)
}

fn post(port: u16, path: &str, content_type: &str, body: &str) -> HttpResponse {
    request(
        "POST",
        port,
        path,
        &[("Content-Type", content_type)],
        body.as_bytes(),
    )
}

/// A resource whose fault sequence answers 500 with `ERROR_MESSAGE` as text.
fn resource(uri: &str, in_sequence: &str) -> String {
    format!(
        r#"<resource methods="POST GET" uri-template="{uri}">
        <inSequence>
{in_sequence}
        </inSequence>
        <faultSequence>
            <payloadFactory media-type="text"><format>$1</format>
                <args><arg expression="$ctx:ERROR_MESSAGE"/></args></payloadFactory>
            <property name="messageType" value="text/plain" scope="axis2"/>
            <property name="HTTP_SC" value="500" scope="axis2"/>
            <respond/>
        </faultSequence>
    </resource>"#
    )
}

/// The backend received exactly `body` (it records a digest).
fn assert_sent(backend: &Backend, body: &str) {
    let sent = &backend.requests()[0];
    assert_eq!(
        (sent.body_len, sent.body_sha256.as_str()),
        (body.len() as u64, sha256_hex(body.as_bytes()).as_str()),
        "the backend did not receive {body}"
    );
}

fn soap11(body: &str) -> String {
    format!(
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"#
    )
}

/// MI's custom quote request (the integration tests' `sendCustomQuoteRequest`).
const CHECK_PRICE_REQUEST: &str = r#"<m0:CheckPriceRequest xmlns:m0="http://services.samples"><m0:Code>IBM</m0:Code></m0:CheckPriceRequest>"#;

/// As MI's xsltTransformRequestWithProperty: CheckPriceRequest to getQuote, the symbol from the
/// `REQUEST_SYMBOL` parameter.
const REQUEST_WITH_PARAMETER: &str = r#"<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
        xmlns:m0="http://services.samples" exclude-result-prefixes="m0">
    <xsl:output method="xml" omit-xml-declaration="yes" indent="yes"/>
    <xsl:param name="REQUEST_SYMBOL"/>
    <xsl:template match="/"><xsl:apply-templates select="//m0:CheckPriceRequest"/></xsl:template>
    <xsl:template match="m0:CheckPriceRequest">
        <m:getQuote xmlns:m="http://services.samples"><m:request><m:symbol><xsl:value-of select="$REQUEST_SYMBOL"/></m:symbol></m:request></m:getQuote>
    </xsl:template>
</xsl:stylesheet>"#;

/// As MI's xsltTransformResponseWithProperty: getQuoteResponse to CheckPriceResponse, the price
/// from the `LAST_PRICE` parameter.
const RESPONSE_WITH_PARAMETER: &str = r#"<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
        xmlns:m0="http://services.samples" xmlns:ax21="http://services.samples/xsd"
        exclude-result-prefixes="m0 ax21">
    <xsl:output method="xml" omit-xml-declaration="yes" indent="yes"/>
    <xsl:param name="LAST_PRICE"/>
    <xsl:template match="/"><xsl:apply-templates select="//m0:return"/></xsl:template>
    <xsl:template match="m0:return">
        <m:CheckPriceResponse xmlns:m="http://services.samples/xsd"><m:Code><xsl:value-of select="ax21:symbol"/></m:Code><m:Price><xsl:value-of select="$LAST_PRICE"/></m:Price></m:CheckPriceResponse>
    </xsl:template>
</xsl:stylesheet>"#;

/// What REQUEST_WITH_PARAMETER writes (libxslt's indentation) for `symbol`.
fn get_quote(symbol: &str) -> String {
    format!(
        "<m:getQuote xmlns:m=\"http://services.samples\">\n  <m:request>\n    <m:symbol>{symbol}</m:symbol>\n  </m:request>\n</m:getQuote>"
    )
}

/// The SimpleStockQuoteService's answer.
const QUOTE_RESPONSE: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><ns:getQuoteResponse xmlns:ns="http://services.samples"><ns:return xmlns:ax21="http://services.samples/xsd"><ax21:last>41.2</ax21:last><ax21:symbol>WSO2</ax21:symbol></ns:return></ns:getQuoteResponse></soapenv:Body></soapenv:Envelope>"#;

// MI's XsltTransformationWithPropertyTestCase (xsltTransformPropertyTestProxy): the request is
// rewritten with a parameter from a property expression, the backend's answer with a literal one.
#[test]
fn request_and_response_stylesheets_with_parameters() {
    let backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "text/xml".into())],
        body: QUOTE_RESPONSE.into(),
    });
    let home = home_with(&[
        (
            "local-entries/req.xml",
            local_entry("xsltRequestWithProperty", REQUEST_WITH_PARAMETER),
        ),
        (
            "local-entries/resp.xml",
            local_entry("xsltResponseWithProperty", RESPONSE_WITH_PARAMETER),
        ),
        (
            "api/Q.xml",
            api(
                "Q",
                "/q",
                &resource(
                    "/",
                    &format!(
                        r#"<property name="REQUEST_SYMBOL" value="WSO2"/>
            <xslt key="xsltRequestWithProperty">
                <property name="REQUEST_SYMBOL" expression="get-property('REQUEST_SYMBOL')"/>
            </xslt>
            <call><endpoint><address uri="{}/services/SimpleStockQuoteService"/></endpoint></call>
            <xslt key="xsltResponseWithProperty">
                <property name="LAST_PRICE" value="37.50"/>
            </xslt>
            <respond/>"#,
                        backend.url()
                    ),
                ),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let response = post_soap(port, "/q", &soap11(CHECK_PRICE_REQUEST));
    assert_eq!(response.status, 200, "{}", response.text());
    assert_sent(&backend, &soap11(&get_quote("WSO2")));
    assert_eq!(
        response.text(),
        soap11(
            "<m:CheckPriceResponse xmlns:m=\"http://services.samples/xsd\">\n  <m:Code>WSO2</m:Code>\n  <m:Price>37.50</m:Price>\n</m:CheckPriceResponse>"
        )
    );
}

/// As MI's in_transform (1_3_1 CApp, JSONProxy): every element into the services.samples
/// namespace.
const INTO_NAMESPACE: &str = r#"<xsl:output method="xml" omit-xml-declaration="yes"/>
    <xsl:template match="*"><xsl:element name="{local-name()}" namespace="http://services.samples"><xsl:copy-of select="attribute::*"/><xsl:apply-templates/></xsl:element></xsl:template>"#;

/// As MI's out_transform: every element out of its namespace.
const OUT_OF_NAMESPACE: &str = r#"<xsl:output method="xml" encoding="UTF-8"/>
    <xsl:template match="*"><xsl:element name="{local-name()}"><xsl:apply-templates/></xsl:element></xsl:template>"#;

// MI's 1_3_1_API_json_to_soap_using_xslt: a JSON request is transformed as its XML form, sent as
// SOAP; the SOAP answer is transformed back and written as JSON.
#[test]
fn json_in_soap_to_the_backend_and_json_out() {
    let backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "text/xml".into())],
        body: QUOTE_RESPONSE.into(),
    });
    let home = home_with(&[
        (
            "local-entries/in.xml",
            local_entry("in_transform", &stylesheet(INTO_NAMESPACE)),
        ),
        (
            "local-entries/out.xml",
            local_entry("out_transform", &stylesheet(OUT_OF_NAMESPACE)),
        ),
        (
            "api/J.xml",
            api(
                "J",
                "/j",
                &resource(
                    "/",
                    &format!(
                        r#"<xslt key="in_transform"/>
            <property name="messageType" scope="axis2" value="text/xml"/>
            <header name="Action" scope="default" value="urn:getQuote"/>
            <enrich>
                <source clone="true" xmlns:m0="http://services.samples" xpath="//m0:getQuote"/>
                <target type="body"/>
            </enrich>
            <call><endpoint><address uri="{}/services/SimpleStockQuoteService" format="soap11"/></endpoint></call>
            <xslt key="out_transform"/>
            <property name="messageType" scope="axis2" value="application/json"/>
            <respond/>"#,
                        backend.url()
                    ),
                ),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let response = post(
        port,
        "/j",
        "application/json",
        r#"{"getQuote":{"request":{"symbol":"WSO2"}}}"#,
    );
    assert_eq!(response.status, 200, "{}", response.text());
    assert_sent(
        &backend,
        &soap11(
            r#"<getQuote xmlns="http://services.samples"><request><symbol>WSO2</symbol></request></getQuote>"#,
        ),
    );
    assert_eq!(
        response.text(),
        r#"{"getQuoteResponse":{"return":{"last":41.2,"symbol":"WSO2"}}}"#
    );
}

// The same flow with MI's own stylesheets (version="2.0", which libxslt runs in
// forwards-compatible mode), read from the corpus.
#[test]
fn mi_corpus_stylesheets_transform_json_to_soap() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/synapse/local-entries");
    let (Ok(in_transform), Ok(out_transform)) = (
        std::fs::read_to_string(corpus.join("in_transform.xml")),
        std::fs::read_to_string(corpus.join("out_transform.xml")),
    ) else {
        eprintln!("skipping: {} is absent", corpus.display());
        return;
    };
    let backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "text/xml".into())],
        body: QUOTE_RESPONSE.into(),
    });
    let home = home_with(&[
        ("local-entries/in_transform.xml", in_transform),
        ("local-entries/out_transform.xml", out_transform),
        (
            "api/C.xml",
            api(
                "C",
                "/c",
                &resource(
                    "/",
                    &format!(
                        r#"<xslt key="in_transform"/>
            <property name="messageType" scope="axis2" value="text/xml"/>
            <enrich>
                <source clone="true" xmlns:m0="http://services.samples" xpath="//m0:getQuote"/>
                <target type="body"/>
            </enrich>
            <call><endpoint><address uri="{}/services/SimpleStockQuoteService" format="soap11"/></endpoint></call>
            <xslt key="out_transform"/>
            <property name="messageType" scope="axis2" value="application/json"/>
            <respond/>"#,
                        backend.url()
                    ),
                ),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let response = post(
        port,
        "/c",
        "application/json",
        r#"{"getQuote":{"request":{"symbol":"WSO2"}}}"#,
    );
    assert_eq!(response.status, 200, "{}", response.text());
    // in_transform indents its output.
    assert_sent(
        &backend,
        &soap11(
            "<getQuote xmlns=\"http://services.samples\">\n    <request>\n      <symbol>WSO2</symbol>\n    </request>\n  </getQuote>",
        ),
    );
    assert_eq!(
        response.text(),
        r#"{"getQuoteResponse":{"return":{"last":41.2,"symbol":"WSO2"}}}"#
    );
    assert!(
        server.output().contains("only 1.1 features are supported"),
        "{}",
        server.output()
    );
}

// MI's XSLTonEmptySoapBodyWithSourceXPath (xsltEmptySoapBodyWithSourceXPath, xsltSimpleEnvelope):
// `source="/"` on a GET without a body; the stylesheet's envelope becomes the message.
#[test]
fn an_envelope_from_an_empty_body() {
    let envelope = r#"<xsl:template match="/"><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header/><soapenv:Body><Address xmlns="http://ws.apache.org/ns/synapse"><FirstName>Hello</FirstName><LastName>World</LastName></Address></soapenv:Body></soapenv:Envelope></xsl:template>"#;
    let home = home_with(&[
        (
            "local-entries/env.xml",
            local_entry("xsltSimpleEnvelope", &stylesheet(envelope)),
        ),
        (
            "api/E.xml",
            api(
                "E",
                "/e",
                &resource(
                    "/",
                    r#"<xslt key="xsltSimpleEnvelope" source="/"/>
            <property name="NO_ENTITY_BODY" scope="axis2" action="remove"/>
            <respond/>"#,
                ),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let response = request("GET", port, "/e", &[("Accept", "text/xml")], b"");
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        response.text(),
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header/><soapenv:Body><Address xmlns="http://ws.apache.org/ns/synapse"><FirstName>Hello</FirstName><LastName>World</LastName></Address></soapenv:Body></soapenv:Envelope>"#
    );
    assert_eq!(response.header("content-type"), Some("text/xml"));
}

/// Orders as CSV: text output.
const ORDERS_TO_CSV: &str = r#"<xsl:output method="text"/>
    <xsl:param name="sep" select="','"/>
    <xsl:template match="/orders"><xsl:for-each select="order"><xsl:value-of select="@id"/><xsl:value-of select="$sep"/><xsl:value-of select="qty"/><xsl:text>&#10;</xsl:text></xsl:for-each></xsl:template>"#;

// XSLTMediator with `<xsl:output method="text">`: the text is wrapped in MI's text element and
// written by the text/plain formatter; `source` picks an element below the body's first child;
// `target` stores the result in a property instead, as XML or, with
// transform.xslt.result.disableBuild, as the raw string.
#[test]
fn text_output_source_and_target() {
    let home = home_with(&[
        (
            "local-entries/csv.xml",
            local_entry("ordersToCsv", &stylesheet(ORDERS_TO_CSV)),
        ),
        (
            "local-entries/rename.xml",
            local_entry(
                "renameQty",
                &stylesheet(
                    r#"<xsl:output omit-xml-declaration="yes"/><xsl:template match="qty"><quantity unit="pc"><xsl:value-of select="."/></quantity></xsl:template>"#,
                ),
            ),
        ),
        (
            "api/T.xml",
            api(
                "T",
                "/t",
                &[
                    resource(
                        "/csv",
                        r#"<xslt key="ordersToCsv"><property name="sep" value=";"/></xslt>
            <property name="messageType" value="text/plain" scope="axis2"/>
            <respond/>"#,
                    ),
                    resource(
                        "/source",
                        r#"<xslt key="renameQty" source="//order[@id='b']/qty"/>
            <respond/>"#,
                    ),
                    resource(
                        "/target",
                        r#"<xslt key="renameQty" source="//order[@id='a']/qty" target="converted"/>
            <enrich><source type="property" property="converted"/><target type="body"/></enrich>
            <respond/>"#,
                    ),
                    resource(
                        "/raw",
                        r#"<property name="transform.xslt.result.disableBuild" value="true"/>
            <xslt key="ordersToCsv" target="csv"/>
            <payloadFactory media-type="text"><format>[$1]</format><args><arg expression="$ctx:csv"/></args></payloadFactory>
            <property name="messageType" value="text/plain" scope="axis2"/>
            <respond/>"#,
                    ),
                ]
                .concat(),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let orders =
        r#"<orders><order id="a"><qty>2</qty></order><order id="b"><qty>5</qty></order></orders>"#;
    let csv = post(port, "/t/csv", "application/xml", orders);
    assert_eq!((csv.status, csv.text().as_str()), (200, "a;2\nb;5\n"));
    assert_eq!(csv.header("content-type"), Some("text/plain"));

    let source = post(port, "/t/source", "application/xml", orders);
    assert_eq!(
        (source.status, source.text().as_str()),
        (
            200,
            r#"<orders><order id="a"><qty>2</qty></order><order id="b"><quantity unit="pc">5</quantity></order></orders>"#
        )
    );

    let target = post(port, "/t/target", "application/xml", orders);
    assert_eq!(
        (target.status, target.text().as_str()),
        (200, r#"<quantity unit="pc">2</quantity>"#)
    );

    let raw = post(port, "/t/raw", "application/xml", orders);
    assert_eq!((raw.status, raw.text().as_str()), (200, "[a,2\nb,5\n]"));
}

// Dynamic keys (MI DynamicKeyXsltTransformationTestCase) pick the stylesheet per message; a
// registry resource imports another through `<resource location key>`.
#[test]
fn dynamic_keys_registry_resources_and_imports() {
    let greet = |word: &str| {
        stylesheet(&format!(
            r#"<xsl:output method="text"/><xsl:template match="/">{word} <xsl:value-of select="/name"/></xsl:template>"#
        ))
    };
    let home = home_with(&[
        (
            "local-entries/hello.xml",
            local_entry("hello", &greet("Hello")),
        ),
        (
            "local-entries/bye.xml",
            local_entry("bye", &greet("Goodbye")),
        ),
        (
            "api/D.xml",
            api(
                "D",
                "/d",
                &[
                    resource(
                        "/dynamic",
                        r#"<xslt key="{$url:which}"/>
            <property name="messageType" value="text/plain" scope="axis2"/>
            <respond/>"#,
                    ),
                    resource(
                        "/import",
                        r#"<xslt key="conf:/xslt/main.xslt">
                <resource location="common.xsl" key="conf:/xslt/common.xsl"/>
            </xslt>
            <property name="messageType" value="text/plain" scope="axis2"/>
            <respond/>"#,
                    ),
                ]
                .concat(),
            ),
        ),
    ]);
    home.write(
        "registry/config/xslt/main.xslt",
        &stylesheet(
            r#"<xsl:import href="common.xsl"/><xsl:output method="text"/>
            <xsl:template match="/"><xsl:call-template name="salute"/>, <xsl:value-of select="/name"/></xsl:template>"#,
        ),
    );
    home.write(
        "registry/config/xslt/common.xsl",
        &stylesheet(r#"<xsl:template name="salute">Greetings</xsl:template>"#),
    );
    let server = start(&home);
    let port = server.port(HTTP);
    for (which, expected) in [
        ("hello", "Hello Ann"),
        ("bye", "Goodbye Ann"),
        ("hello", "Hello Ann"),
    ] {
        let r = post(
            port,
            &format!("/d/dynamic?which={which}"),
            "application/xml",
            "<name>Ann</name>",
        );
        assert_eq!((r.status, r.text().as_str()), (200, expected));
    }
    let missing = post(
        port,
        "/d/dynamic?which=nothing",
        "application/xml",
        "<name>Ann</name>",
    );
    assert_eq!(missing.status, 500);
    assert_eq!(
        missing.text(),
        "Unable to perform XSLT transformation using : {$url:which} against source XPath : s11:Body/child::*[position()=1] | s12:Body/child::*[position()=1] reason : Error creating XSLT transformer using : nothing: no local entry or registry resource of that key"
    );
    let imported = post(port, "/d/import", "application/xml", "<name>Ann</name>");
    assert_eq!(
        (imported.status, imported.text().as_str()),
        (200, "Greetings, Ann")
    );
}

// FastXSLTTransformFileFromLocalFileUsingSample8TestCase: `<fastXSLT>` transforms the whole
// message, and its output is the whole message.
#[test]
fn fast_xslt_transforms_the_whole_message() {
    let backend = Backend::start(Behaviour::Echo);
    let home = home_with(&[
        (
            "local-entries/req.xml",
            local_entry(
                "fastRequest",
                &REQUEST_WITH_PARAMETER.replace("$REQUEST_SYMBOL", "m0:Code"),
            ),
        ),
        (
            "api/F.xml",
            api(
                "F",
                "/f",
                &resource(
                    "/",
                    &format!(
                        r#"<fastXSLT key="fastRequest"/>
            <call><endpoint><address uri="{}/echo"/></endpoint></call>
            <respond/>"#,
                        backend.url()
                    ),
                ),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let response = post_soap(port, "/f", &soap11(CHECK_PRICE_REQUEST));
    assert_eq!(response.status, 200, "{}", response.text());
    // The stylesheet saw the whole envelope and wrote the bare element: the message is now that
    // element, written in a SOAP envelope for the backend (the request's content type).
    assert_sent(&backend, &soap11(&get_quote("IBM")));
}

// document() and xsl:import never read the file system or the network: the transformation
// faults, and nothing of the file reaches the client.
#[test]
fn document_cannot_read_files() {
    let home = home_with(&[
        (
            "local-entries/read.xml",
            local_entry(
                "readPasswd",
                &stylesheet(
                    r#"<xsl:template match="/"><r><xsl:copy-of select="document('file:///etc/passwd')"/></r></xsl:template>"#,
                ),
            ),
        ),
        (
            "api/R.xml",
            api(
                "R",
                "/r",
                &resource("/", r#"<xslt key="readPasswd"/><respond/>"#),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let response = post(port, "/r", "application/xml", "<a/>");
    assert_eq!(response.status, 500);
    assert_eq!(
        response.text(),
        "Unable to perform XSLT transformation using : readPasswd against source XPath : s11:Body/child::*[position()=1] | s12:Body/child::*[position()=1] reason : runtime error: file readPasswd line 1 element copy-of; Local file read for file:///etc/passwd refused; runtime error: file readPasswd line 1 element copy-of; xsltLoadDocument: read rights for file:///etc/passwd denied"
    );
}

/// A template recursing `levels` times below the root template: `2 * levels + 2` nested
/// sequence constructors (the root template's body, each level's body and `xsl:if`, the last
/// body), one more with `extra` (an `xsl:if` around the call).
fn recursion(levels: usize, extra: bool) -> String {
    let (open, close) = if extra {
        (r#"<xsl:if test="true()">"#, "</xsl:if>")
    } else {
        ("", "")
    };
    stylesheet(&format!(
        r#"<xsl:output method="text"/>
        <xsl:template match="/">{open}<xsl:call-template name="r"><xsl:with-param name="n" select="{levels}"/></xsl:call-template>{close}deep</xsl:template>
        <xsl:template name="r"><xsl:param name="n"/><xsl:if test="$n &gt; 0"><xsl:call-template name="r"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template></xsl:if></xsl:template>"#
    ))
}

// The nesting limit (libxslt's xsltMaxDepth, MAX_TEMPLATE_DEPTH = 1000) on a worker thread:
// 1000 nested sequence constructors run, 1001 fault; so does endless recursion.
#[test]
fn nesting_is_limited_on_the_worker_threads() {
    let home = home_with(&[
        (
            "local-entries/at.xml",
            local_entry("atLimit", &recursion(499, false)),
        ),
        (
            "local-entries/over.xml",
            local_entry("overLimit", &recursion(499, true)),
        ),
        (
            "local-entries/endless.xml",
            local_entry(
                "endless",
                &stylesheet(
                    r#"<xsl:template match="/"><xsl:call-template name="r"/></xsl:template><xsl:template name="r"><x><xsl:call-template name="r"/></x></xsl:template>"#,
                ),
            ),
        ),
        (
            "api/L.xml",
            api(
                "L",
                "/l",
                &resource(
                    "/n",
                    r#"<xslt key="{$url:key}"/>
            <property name="messageType" value="text/plain" scope="axis2"/>
            <respond/>"#,
                ),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let at = post(port, "/l/n?key=atLimit", "application/xml", "<a/>");
    assert_eq!((at.status, at.text().as_str()), (200, "deep"));
    for key in ["overLimit", "endless"] {
        let over = post(port, &format!("/l/n?key={key}"), "application/xml", "<a/>");
        assert_eq!(over.status, 500);
        assert!(
            over.text()
                .contains("A potential infinite template recursion was detected"),
            "{key}: {}",
            over.text()
        );
    }
    // The server still serves.
    let again = post(port, "/l/n?key=atLimit", "application/xml", "<a/>");
    assert_eq!(again.text(), "deep");
}

// A stylesheet that does not compile deploys with a warning and faults the messages that reach
// it (MI's invalidXsltTransformerProxy; MI compiles on first use); a static key that names no
// entry and XSLTMediatorFactory's errors fail `conflux check` with the file and line.
#[test]
fn broken_configurations() {
    let home = home_with(&[
        (
            "local-entries/broken.xml",
            local_entry(
                "broken",
                &stylesheet(r#"<xsl:template match="/"><xsl:value-of/></xsl:template>"#),
            ),
        ),
        (
            "api/B.xml",
            api(
                "B",
                "/b",
                &resource("/", r#"<xslt key="broken"/><respond/>"#),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let response = post(port, "/b", "application/xml", "<a/>");
    assert_eq!(response.status, 500);
    assert!(
        response.text().starts_with(
            "Unable to perform XSLT transformation using : broken against source XPath : s11:Body/child::*[position()=1] | s12:Body/child::*[position()=1] reason : Error creating XSLT transformer using : broken: the stylesheet does not compile: "
        ),
        "{}",
        response.text()
    );
    assert!(
        server
            .output()
            .contains("Error creating XSLT transformer using : broken"),
        "{}",
        server.output()
    );

    let cases = [
        (
            r#"<xslt key="nowhere"/>"#,
            "<xslt> key nowhere is not a local entry or registry resource",
        ),
        (r#"<xslt/>"#, "<xslt> requires attribute 'key'"),
        (
            r#"<xslt key="k"><feature name="f" value="yes"/></xslt>"#,
            "invalid value \"yes\" for attribute 'value' of <feature>",
        ),
        (
            r#"<xquery key="k"/>"#,
            "unsupported mediator <xquery> (Conflux has no XQuery processor",
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
        assert!(text.contains("api/B.xml:4:"), "{mediator}: {text}");
    }
}
