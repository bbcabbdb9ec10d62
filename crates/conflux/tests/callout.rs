//! `<callout>` end to end through the real binary and real backends (SYN
//! `mediators/builtin/CalloutMediator.java`): the request that reaches the backend (SOAP envelope,
//! Content-Type, SOAPAction, transport-scope properties as headers: MI test
//! CallMediatorBlockingTransportHeaderTestCase), the reply written into the message, which goes on
//! as a request, `endpointKey` with a named endpoint, and failures in the fault sequence with
//! ERROR_CODE 401002.

mod support;

use support::backend::*;
use support::*;

const QUOTE_REQUEST: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><m:getQuote xmlns:m="http://services.samples"><m:request><m:symbol>IBM</m:symbol></m:request></m:getQuote></soapenv:Body></soapenv:Envelope>"#;

const QUOTE_REPLY: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><m:getQuoteResponse xmlns:m="http://services.samples"><m:return><m:last>42.5</m:last></m:return></m:getQuoteResponse></soapenv:Body></soapenv:Envelope>"#;

fn soap_backend(reply: &str) -> Backend {
    Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "text/xml; charset=UTF-8".into())],
        body: reply.into(),
    })
}

fn proxy(name: &str, in_sequence: &str, fault_sequence: &str) -> String {
    format!(
        r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="{name}" transports="http https">
    <target>
        <inSequence>{in_sequence}</inSequence>
        <faultSequence>{fault_sequence}</faultSequence>
    </target>
</proxy>"#
    )
}

const FIRST_BODY_CHILD: &str = r#"xmlns:s11="http://schemas.xmlsoap.org/soap/envelope/" xmlns:s12="http://www.w3.org/2003/05/soap-envelope" xpath="s11:Body/child::*[fn:position()=1] | s12:Body/child::*[fn:position()=1]""#;

#[test]
fn callout_sends_soap_with_transport_headers_and_writes_the_reply_into_the_request() {
    let quotes = soap_backend(QUOTE_REPLY);
    let missing = closed_port();
    let not_found = Backend::start(Behaviour::Fixed {
        status: 404,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: "<html>gone</html>".into(),
    });
    let fault_sequence = r#"<payloadFactory media-type="xml">
                <format><failed xmlns=""><code>$1</code><message>$2</message><status>$3</status></failed></format>
                <args>
                    <arg expression="get-property('ERROR_CODE')"/>
                    <arg expression="get-property('ERROR_MESSAGE')"/>
                    <arg expression="get-property('axis2', 'HTTP_SC')"/>
                </args>
            </payloadFactory>
            <respond/>"#;
    let home = home_with(&[
        (
            "proxy-services/QuoteProxy.xml",
            proxy(
                "QuoteProxy",
                &format!(
                    r#"<property name="Authorization" value="Basic cHVubmFkaTpwYXNzd29yZA==" scope="transport"/>
            <callout serviceURL="{}/services/SimpleStockQuoteService" action="urn:getQuote">
                <source {FIRST_BODY_CHILD}/>
                <target {FIRST_BODY_CHILD}/>
            </callout>
            <property name="afterCallout" expression="get-property('axis2', 'HTTP_SC')"/>
            <header name="X-After-Callout" scope="transport" expression="get-property('afterCallout')"/>
            <respond/>"#,
                    quotes.url()
                ),
                fault_sequence,
            ),
        ),
        (
            "endpoints/QuoteEp.xml",
            format!(
                r#"<endpoint xmlns="http://ws.apache.org/ns/synapse" name="QuoteEp"><address uri="{}/quotes"/></endpoint>"#,
                quotes.url()
            ),
        ),
        (
            "api/QuoteApi.xml",
            api(
                "QuoteApi",
                "/quote",
                r#"<resource methods="POST" uri-template="/">
        <inSequence>
            <callout endpointKey="QuoteEp">
                <target key="reply"/>
            </callout>
            <payloadFactory media-type="json">
                <format>{"last": "$1", "status": "$2"}</format>
                <args>
                    <arg xmlns:m="http://services.samples" expression="$body//m:symbol"/>
                    <arg expression="get-property('axis2', 'HTTP_SC')"/>
                </args>
            </payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#,
            ),
        ),
        (
            "proxy-services/RefusedProxy.xml",
            proxy(
                "RefusedProxy",
                &format!(
                    r#"<callout serviceURL="http://127.0.0.1:{missing}/services/S"/><respond/>"#
                ),
                fault_sequence,
            ),
        ),
        (
            "proxy-services/NotFoundProxy.xml",
            proxy(
                "NotFoundProxy",
                &format!(
                    r#"<callout serviceURL="{}/nothing"/><respond/>"#,
                    not_found.url()
                ),
                fault_sequence,
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let soap = |path: &str| {
        request(
            "POST",
            port,
            path,
            &[
                ("Content-Type", "text/xml; charset=UTF-8"),
                ("SOAPAction", "\"urn:mediate\""),
            ],
            QUOTE_REQUEST.as_bytes(),
        )
    };

    // The SimpleStockQuote proxy of CallMediatorBlockingTransportHeaderTestCase, with a reply.
    let r = soap("/services/QuoteProxy");
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.text();
    assert!(
        body.contains("<m:last>42.5</m:last>") && !body.contains("getQuote>"),
        "{body}"
    );
    assert!(body.contains("soapenv:Envelope"), "{body}");
    assert_eq!(r.header("X-After-Callout"), Some("200"));
    let sent = &quotes.requests()[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path_and_query, "/services/SimpleStockQuoteService");
    assert_eq!(
        sent.header("Authorization"),
        Some("Basic cHVubmFkaTpwYXNzd29yZA==")
    );
    assert_eq!(sent.header("Content-Type"), Some("text/xml; charset=UTF-8"));
    assert_eq!(sent.header("SOAPAction"), Some("\"urn:getQuote\""));
    // The body sent is the client's envelope, byte for byte (the source is its only body child).
    assert_eq!(sent.body_sha256, sha256_hex(QUOTE_REQUEST.as_bytes()));

    // endpointKey, no source (the envelope), the reply in a property: the message is unchanged.
    let r = request(
        "POST",
        port,
        "/quote",
        &[("Content-Type", "application/xml")],
        b"<getQuote xmlns=\"http://services.samples\"><symbol>WSO2</symbol></getQuote>",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&r.body).unwrap(),
        serde_json::json!({"last": "WSO2", "status": "200"})
    );
    let sent = &quotes.requests()[1];
    assert_eq!(sent.path_and_query, "/quotes");
    assert_eq!(sent.header("Content-Type"), Some("text/xml; charset=UTF-8"));
    assert_eq!(sent.header("SOAPAction"), Some("\"\""));

    // Failures run the fault sequence with BLOCKING_SENDER_OPERATION_FAILED.
    let r = soap("/services/RefusedProxy");
    assert!(r.text().contains("<code>401002</code>"), "{}", r.text());
    let r = soap("/services/NotFoundProxy");
    let body = r.text();
    assert!(
        body.contains("<code>401002</code>")
            && body.contains("<message>Transport error: 404 Error: Not Found</message>")
            && body.contains("<status>404</status>"),
        "{body}"
    );
}
