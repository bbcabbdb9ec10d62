//! The classic `<foreach expression>` end to end through the real binary (SYN
//! `mediators/builtin/ForEachMediator.java`, `config/xml/ForEachMediatorFactory.java`): MI's
//! Sample 18 (each request of a SOAP 1.2 getQuote replaced in place by the iteration's
//! payload), a JSON array rewritten at its path by a referred sequence with the id-prefixed
//! counter and original message, and the deploy-time refusal of call/send/callout inside.

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

// MI Sample18TestCase (synapse_sample_18 / docs-mi "ForEach Mediator"): foreach over
// //m0:getQuote/m0:request with a payloadFactory per request; the results stand where the
// requests were (appended to their parent), the envelope's namespaces are not repeated on them.
#[test]
fn sample_18_transforms_each_request_in_place() {
    let home = home_with(&[(
        "proxy-services/Sample18.xml",
        r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="Sample18" transports="http">
  <target><inSequence>
    <foreach xmlns:m0="http://services.samples" expression="//m0:getQuote/m0:request">
      <sequence>
        <payloadFactory media-type="xml">
          <format><m0:checkPriceRequest xmlns:m0="http://services.samples"><m0:code>$1</m0:code></m0:checkPriceRequest></format>
          <args><arg expression="//m0:request/m0:symbol"/></args>
        </payloadFactory>
      </sequence>
    </foreach>
    <log level="full"/>
    <header name="X-Count" scope="transport" expression="get-property('FOREACH_COUNTER')"/>
    <respond/>
  </inSequence></target>
</proxy>"#
            .into(),
    )]);
    let server = start(&home);
    let envelope = |body: &str| {
        format!(
            r#"<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:m0="http://services.samples"><soap:Header/><soap:Body>{body}</soap:Body></soap:Envelope>"#
        )
    };
    let r = post(
        server.port(HTTP),
        "/services/Sample18",
        "application/soap+xml",
        &envelope(
            "<m0:getQuote><m0:request><m0:symbol>IBM</m0:symbol></m0:request><m0:request><m0:symbol>WSO2</m0:symbol></m0:request><m0:request><m0:symbol>MSFT</m0:symbol></m0:request></m0:getQuote>",
        ),
    );
    assert_eq!(r.status, 200, "{r:?}\n{}", server.output());
    let expected = envelope(
        "<m0:getQuote><m0:checkPriceRequest><m0:code>IBM</m0:code></m0:checkPriceRequest><m0:checkPriceRequest><m0:code>WSO2</m0:code></m0:checkPriceRequest><m0:checkPriceRequest><m0:code>MSFT</m0:code></m0:checkPriceRequest></m0:getQuote>",
    );
    assert_eq!(r.text(), expected);
    assert_eq!(r.header("x-count"), Some("3"));
    // What MI's test reads in the log.
    let log = server
        .output_with(&["<m0:checkPriceRequest><m0:code>MSFT</m0:code></m0:checkPriceRequest>"]);
    assert!(
        log.contains(
            "<m0:getQuote><m0:checkPriceRequest><m0:code>IBM</m0:code></m0:checkPriceRequest>"
        ),
        "{log}"
    );
}

// json-eval over a JSON payload through a referred sequence (`sequence=`): each item is the
// payload in turn, the results replace the array where it was; `ID_FOREACH_COUNTER` counts and
// `ID_FOREACH_ORIGINAL_MESSAGE` keeps the message as it was, for the iterations and after.
#[test]
fn a_json_array_is_rewritten_through_a_referred_sequence() {
    let home = home_with(&[
        (
            "sequences/Line.xml",
            r#"<sequence xmlns="http://ws.apache.org/ns/synapse" name="Line">
  <payloadFactory media-type="json">
    <format>{"sku":"$1","line":$2}</format>
    <args><arg evaluator="json" expression="$.sku"/><arg expression="get-property('order_FOREACH_COUNTER')"/></args>
  </payloadFactory>
</sequence>"#
                .into(),
        ),
        (
            "api/Orders.xml",
            api(
                "Orders",
                "/orders",
                r#"<resource methods="POST" uri-template="/*"><inSequence>
  <foreach id="order" expression="json-eval($.order.lines)" sequence="Line"/>
  <header name="X-Lines" scope="transport" expression="get-property('order_FOREACH_COUNTER')"/>
  <header name="X-Customer" scope="transport" expression="$ctx:order_FOREACH_ORIGINAL_MESSAGE//customer"/>
  <respond/>
</inSequence></resource>"#,
            ),
        ),
    ]);
    let server = start(&home);
    let r = post(
        server.port(HTTP),
        "/orders/new",
        "application/json",
        r#"{"order":{"customer":"c1","lines":[{"sku":"a","qty":1},{"sku":"b","qty":2}]}}"#,
    );
    assert_eq!(r.status, 200, "{r:?}\n{}", server.output());
    assert_eq!(
        r.text(),
        r#"{"order":{"customer":"c1","lines":[{"sku":"a","line":0},{"sku":"b","line":1}]}}"#
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-lines"), Some("2"));
    assert_eq!(r.header("x-customer"), Some("c1"));
}

// ForEachMediatorFactory: "Sequence cannot contain Call, Send or CallOut mediators" — the
// artifact does not deploy, the error is located; the rest of the deployment still serves.
#[test]
fn call_send_or_callout_in_the_sequence_is_refused_at_deploy() {
    let home = home_with(&[
        (
            "api/Bad.xml",
            api(
                "Bad",
                "/bad",
                r#"<resource methods="POST" uri-template="/*"><inSequence>
  <foreach expression="//item"><sequence><call><endpoint><address uri="http://localhost:1/x"/></endpoint></call></sequence></foreach>
  <respond/>
</inSequence></resource>"#,
            ),
        ),
        (
            "api/Good.xml",
            api(
                "Good",
                "/good",
                r#"<resource methods="POST" uri-template="/*"><inSequence>
  <foreach expression="//item"><sequence><payloadFactory media-type="xml"><format><done xmlns="">$1</done></format><args><arg expression="//item"/></args></payloadFactory></sequence></foreach>
  <respond/>
</inSequence></resource>"#,
            ),
        ),
    ]);
    let (code, text) = check_output(home.path());
    assert!(code != Some(0), "{text}");
    assert!(
        text.contains("Bad.xml") && text.contains("sequence cannot hold <call>"),
        "{text}"
    );
    let server = start(&home);
    let r = post(
        server.port(HTTP),
        "/good/x",
        "application/xml",
        "<list><item>1</item><n/><item>2</item></list>",
    );
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "<list><n/><done>1</done><done>2</done></list>"),
        "{r:?}\n{}",
        server.output()
    );
    assert_eq!(
        post(server.port(HTTP), "/bad/x", "application/xml", "<a/>").status,
        404
    );
}
