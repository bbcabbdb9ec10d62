//! Hostile payloads through the real binary (issue 20, "Hostile payloads"): XML and JSON bodies
//! past the structural limits of `conflux_mediation::runtime::limits` (depth, attribute and key
//! counts, namespaces, number length), DTDs with entity expansion (billion laughs) or external
//! entities, and a deep-but-allowed body whose client leaves before the answer. Each is answered
//! 400 (413 for size, covered in tests/mediation.rs), nothing is fetched, the work stays bounded,
//! and the server keeps answering the next request.

mod support;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use conflux_mediation::runtime::limits::{
    MAX_JSON_KEYS_PER_OBJECT, MAX_JSON_MESSAGE_DEPTH, MAX_JSON_NUMBER_LENGTH, MAX_JSON_VALUES,
    MAX_XML_ATTRIBUTES_PER_ELEMENT, MAX_XML_DEPTH, MAX_XML_NAMESPACES_IN_SCOPE,
};
use support::backend::*;
use support::*;

/// One API whose resources read the body: `/xpath` evaluates `//a` to a string (Synapse
/// serialises every matching element), `/count` counts, `/json` reads a JSONPath.
fn hostile_home() -> Home {
    home_with(&[(
        "api/Hostile.xml",
        api(
            "Hostile",
            "/hostile",
            r#"<resource methods="POST" uri-template="/xpath">
        <inSequence>
            <property name="all" expression="//a"/>
            <log level="custom"><property name="xpath" value="evaluated"/></log>
            <payloadFactory media-type="json">
                <format>{"ok": true}</format>
                <args/>
            </payloadFactory>
            <respond/>
        </inSequence>
    </resource>
    <resource methods="POST" uri-template="/count">
        <inSequence>
            <property name="n" expression="count(//*)"/>
            <payloadFactory media-type="json">
                <format>{"n": "$1"}</format>
                <args><arg expression="$ctx:n"/></args>
            </payloadFactory>
            <respond/>
        </inSequence>
    </resource>
    <resource methods="POST" uri-template="/json">
        <inSequence>
            <property name="a" expression="json-eval($.a)"/>
            <payloadFactory media-type="json">
                <format>{"a": "$1"}</format>
                <args><arg expression="$ctx:a"/></args>
            </payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#,
        ),
    )])
}

fn post(port: u16, path: &str, content_type: &str, body: &[u8]) -> HttpResponse {
    request("POST", port, path, &[("Content-Type", content_type)], body)
}

fn nested_xml(depth: usize) -> String {
    format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth))
}

/// A refusal: 400 with the limit named in the fault the client reads.
fn assert_refused(r: &HttpResponse, constant: &str) {
    assert_eq!(r.status, 400, "{constant}: {} {}", r.status, r.text());
    assert!(r.text().contains(constant), "{constant}: {}", r.text());
}

/// The server still answers an ordinary mediated request.
fn still_serving(port: u16) {
    let r = post(port, "/hostile/count", "application/xml", b"<r><a/></r>");
    assert_eq!(r.status, 200, "{}", r.text());
    // Envelope, Body, r, a.
    assert!(r.text().contains("4.0"), "{}", r.text());
}

#[test]
fn xml_depth_at_the_limit_is_mediated_and_deeper_bodies_are_refused_fast() {
    let home = hostile_home();
    let server = start(&home);
    let port = server.port(HTTP);

    // MAX_XML_DEPTH levels: `//a` serialises every level (MI's string rule), quadratic in depth but
    // bounded by the limit.
    let started = Instant::now();
    let r = post(
        port,
        "/hostile/xpath",
        "application/xml",
        nested_xml(MAX_XML_DEPTH).as_bytes(),
    );
    let at_limit = started.elapsed();
    assert_eq!(r.status, 200, "{}", r.text());

    let r = post(
        port,
        "/hostile/xpath",
        "application/xml",
        nested_xml(MAX_XML_DEPTH + 1).as_bytes(),
    );
    assert_refused(&r, "MAX_XML_DEPTH");

    let started = Instant::now();
    let r = post(
        port,
        "/hostile/xpath",
        "text/xml",
        nested_xml(100_000).as_bytes(),
    );
    let refused = started.elapsed();
    assert_refused(&r, "MAX_XML_DEPTH");
    eprintln!(
        "figures: //a over {MAX_XML_DEPTH} levels {at_limit:?}; 100,000 levels refused in {refused:?}"
    );
    still_serving(port);
}

#[test]
fn attribute_and_namespace_bombs_are_refused() {
    let home = hostile_home();
    let server = start(&home);
    let port = server.port(HTTP);
    let attributes = |n: usize| -> String { (0..n).map(|i| format!(" a{i}=\"\"")).collect() };

    let at = format!("<r><e{}/></r>", attributes(MAX_XML_ATTRIBUTES_PER_ELEMENT));
    assert_eq!(
        post(port, "/hostile/count", "application/xml", at.as_bytes()).status,
        200
    );
    let over = format!(
        "<r><e{}/></r>",
        attributes(MAX_XML_ATTRIBUTES_PER_ELEMENT + 1)
    );
    let r = post(port, "/hostile/count", "application/xml", over.as_bytes());
    assert_refused(&r, "MAX_XML_ATTRIBUTES_PER_ELEMENT");

    // 100,000 attributes on one element: quadratic in roxmltree (55 s before the limit).
    let started = Instant::now();
    let bomb = format!("<r><e{}/></r>", attributes(100_000));
    let r = post(port, "/hostile/count", "application/xml", bomb.as_bytes());
    assert_refused(&r, "MAX_XML_ATTRIBUTES_PER_ELEMENT");
    eprintln!(
        "figures: 100,000 attributes refused in {:?}",
        started.elapsed()
    );

    // Nested namespace declarations: each level copies every binding in scope (a 1.6 MB body of
    // 300 levels x 300 declarations ran for more than 5 minutes before the limit).
    let started = Instant::now();
    let mut bomb = String::new();
    for level in 0..300 {
        bomb.push_str("<a");
        for i in 0..100 {
            bomb.push_str(&format!(" xmlns:p{level}_{i}=\"urn:x\""));
        }
        bomb.push('>');
    }
    bomb.push_str(&"</a>".repeat(300));
    let r = post(port, "/hostile/count", "application/xml", bomb.as_bytes());
    assert_refused(&r, "MAX_XML_NAMESPACES_IN_SCOPE");
    eprintln!(
        "figures: namespace bomb (300 levels x 100 declarations) refused in {:?}",
        started.elapsed()
    );
    let decls = |prefix: &str, n: usize| -> String {
        (0..n)
            .map(|i| format!(" xmlns:{prefix}{i}=\"urn:x\""))
            .collect()
    };
    let half = MAX_XML_NAMESPACES_IN_SCOPE / 2;
    let at = format!("<a{}><b{}/></a>", decls("p", half), decls("q", half));
    assert_eq!(
        post(port, "/hostile/count", "application/xml", at.as_bytes()).status,
        200
    );
    let over = format!("<a{}><b{}/></a>", decls("p", half), decls("q", half + 1));
    let r = post(port, "/hostile/count", "application/xml", over.as_bytes());
    assert_refused(&r, "MAX_XML_NAMESPACES_IN_SCOPE");
    still_serving(port);
}

/// A listener that records whether anything connected to it.
fn trap() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind trap");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    (listener, port)
}

#[test]
fn billion_laughs_and_external_entities_are_refused_and_nothing_is_fetched() {
    let home = hostile_home();
    let server = start(&home);
    let port = server.port(HTTP);
    let (listener, trap_port) = trap();

    let mut laughs =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol0 \"lol\">\n");
    for i in 1..10 {
        let refs = format!("&lol{};", i - 1).repeat(10);
        laughs.push_str(&format!("<!ENTITY lol{i} \"{refs}\">\n"));
    }
    laughs.push_str("]>\n<lolz>&lol9;</lolz>");
    let xxe = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"http://127.0.0.1:{trap_port}/secret\">]><r>&x;</r>"
    );
    let parameter = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY % p SYSTEM \"http://127.0.0.1:{trap_port}/dtd\"> %p;]><r/>"
    );
    let external_dtd = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE r SYSTEM \"http://127.0.0.1:{trap_port}/r.dtd\"><r/>"
    );
    for body in [&laughs, &xxe, &parameter, &external_dtd] {
        for content_type in ["application/xml", "text/xml"] {
            let started = Instant::now();
            let r = post(port, "/hostile/xpath", content_type, body.as_bytes());
            assert_eq!(r.status, 400, "{body}: {}", r.text());
            assert!(r.text().contains("DTD"), "{}", r.text());
            assert!(started.elapsed() < Duration::from_secs(10), "a hang");
        }
    }
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the server connected to an external entity's address"
    );
    still_serving(port);
}

#[test]
fn json_limits_are_refused_at_limit_plus_one() {
    let home = hostile_home();
    let server = start(&home);
    let port = server.port(HTTP);
    let json = |body: String| post(port, "/hostile/json", "application/json", body.as_bytes());

    let nested = |depth: usize| {
        format!(
            "{{\"a\":{}1{}}}",
            "[".repeat(depth - 1),
            "]".repeat(depth - 1)
        )
    };
    assert_eq!(json(nested(MAX_JSON_MESSAGE_DEPTH)).status, 200);
    assert_refused(
        &json(nested(MAX_JSON_MESSAGE_DEPTH + 1)),
        "MAX_JSON_MESSAGE_DEPTH",
    );
    assert_refused(&json(nested(100_000)), "MAX_JSON_MESSAGE_DEPTH");

    let object = |n: usize| -> String {
        let keys: Vec<String> = (0..n).map(|i| format!("\"k{i}\":0")).collect();
        format!("{{\"a\":1,{}}}", keys.join(","))
    };
    assert_eq!(json(object(MAX_JSON_KEYS_PER_OBJECT - 1)).status, 200);
    assert_refused(
        &json(object(MAX_JSON_KEYS_PER_OBJECT)),
        "MAX_JSON_KEYS_PER_OBJECT",
    );

    // The object, "a", 1, "b", the array: five values besides the array's items.
    let values = |n: usize| format!("{{\"a\":1,\"b\":[{}]}}", vec!["0"; n].join(","));
    assert_eq!(json(values(MAX_JSON_VALUES - 5)).status, 200);
    assert_refused(&json(values(MAX_JSON_VALUES - 4)), "MAX_JSON_VALUES");

    let number = |n: usize| format!("{{\"a\":0.{}}}", "9".repeat(n - 2));
    assert_eq!(json(number(MAX_JSON_NUMBER_LENGTH)).status, 200);
    assert_refused(
        &json(number(MAX_JSON_NUMBER_LENGTH + 1)),
        "MAX_JSON_NUMBER_LENGTH",
    );
    let started = Instant::now();
    assert_refused(
        &json(format!("{{\"a\":{}}}", "7".repeat(100_000))),
        "MAX_JSON_NUMBER_LENGTH",
    );
    eprintln!(
        "figures: 100,000-digit number refused in {:?}",
        started.elapsed()
    );
    // `@` keys are attributes in MI's XML view of JSON: 60,000 in one object cost roxmltree 10 s
    // per parse before the view was held to the XML limits.
    let keys: Vec<String> = (0..60_000).map(|i| format!("\"@a{i}\":\"\"")).collect();
    let started = Instant::now();
    assert_refused(
        &json(format!("{{\"r\":{{{}}}}}", keys.join(","))),
        "MAX_XML_ATTRIBUTES_PER_ELEMENT",
    );
    eprintln!(
        "figures: 60,000 `@` keys refused in {:?}",
        started.elapsed()
    );
    // Out of f64 range: malformed (serde_json), not infinity.
    for huge in ["1e999999", "-1e999999"] {
        let r = json(format!("{{\"a\":{huge}}}"));
        assert_eq!(r.status, 400, "{huge}: {}", r.text());
    }
    still_serving(port);
}

#[test]
fn mediation_of_a_deep_body_ends_after_its_client_has_gone() {
    let home = hostile_home();
    let server = start(&home);
    let port = server.port(HTTP);
    // The deepest allowed body with a 40 KB text at the bottom: `//a` would serialise the text
    // once per level (40 MB); the string-value cap ends the evaluation instead.
    let text = "x".repeat(40 * 1024);
    let body = format!(
        "{}{text}{}",
        "<a>".repeat(MAX_XML_DEPTH),
        "</a>".repeat(MAX_XML_DEPTH)
    );
    {
        let path = "/hostile/xpath";
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).expect("head");
        stream.write_all(body.as_bytes()).expect("body");
        // The client leaves without reading the answer.
        drop(stream);
    }
    // The work ends either way: the exchange is cancelled when the server sees the client gone
    // (at the next mediator boundary, or before mediation starts when the FIN comes first), or
    // the evaluation that was already running ends at the string-value cap and its fault is
    // logged. Then the server answers the next client.
    // A generous deadline that only detects a runaway (a debug build under parallel tests takes
    // seconds to serialise the 32 MiB the cap allows).
    let deadline = Instant::now() + Duration::from_secs(120);
    let ended = |output: &str| {
        output.contains("MAX_STRING_VALUE_BYTES")
            || output.contains("Connection closed by the client after the request")
    };
    while !ended(&server.output()) {
        assert!(Instant::now() < deadline, "{}", server.output());
        std::thread::sleep(Duration::from_millis(50));
    }
    still_serving(port);
}
