//! The Conflux HTTP/1 engine over deployed routes (issue 22; crates/conflux/src/h1_router.rs).
//! The real binary runs twice on the same artifacts, once with `[transport] http1_engine =
//! "conflux"` and once with the default (hyper), against the same real backends; every answer
//! must be the same byte for byte (status line, every header line in order but `Date`, body),
//! and so must what the backend received. The conflux server logs `{api:X} direct path: h1
//! engine` (target `conflux::h1`) for each request its engine forwarded itself, which proves the
//! pure forwards took the engine and the mediated route did not; the counters (Prometheus per
//! API/proxy, MI's `MessagesReceived`/`FaultsReceiving`) move by the same amounts on both.
//!
//! MI sources: the fault answers are passthru `ConnectCallback` (101503) and
//! `endpoints/AbstractEndpoint` (303001 for a suspended endpoint, MI's default suspension of 30 s
//! on any error: `endpoints/EndpointContext.java`); the URL is Axis2FlexibleMEPClient's
//! `REST_URL_POSTFIX` rule (synapse `core/axis2/Axis2FlexibleMEPClient.java`).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::backend::*;
use support::capp::start_with_env;
use support::fault_proxy::{Fault, FaultProxy};
use support::*;

/// One raw exchange on a fresh connection (`Connection: close`), read to EOF.
fn exchange(port: u16, raw: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("read timeout");
    stream.write_all(raw).expect("write request");
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    out
}

/// An answer as compared between the engines: the status line and header lines in order
/// (without `Date`), exactly as received, and the body (de-chunked: chunk boundaries are
/// transport framing).
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    head: Vec<String>,
    body: Vec<u8>,
}

impl Answer {
    fn of(raw: &[u8]) -> Answer {
        let parsed = parse_response(raw);
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("response head");
        let head = String::from_utf8_lossy(&raw[..split])
            .split("\r\n")
            .filter(|l| !l.to_ascii_lowercase().starts_with("date:"))
            .map(str::to_string)
            .collect();
        Answer {
            head,
            body: parsed.body,
        }
    }

    fn status(&self) -> u16 {
        self.head[0]
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status")
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A request with `Connection: close` and a Content-Length body, tagged `X-Run: run`.
fn request_bytes(
    method: &str,
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut raw = head.into_bytes();
    raw.extend_from_slice(body);
    raw
}

/// A chunked upload of `body` in pieces of `piece` bytes, with an extension on the first chunk.
fn chunked_bytes(port: u16, path: &str, run: &str, body: &[u8], piece: usize) -> Vec<u8> {
    let mut raw = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nX-Run: {run}\r\n\r\n"
    )
    .into_bytes();
    for (i, chunk) in body.chunks(piece).enumerate() {
        let ext = if i == 0 { ";ext=1" } else { "" };
        raw.extend_from_slice(format!("{:x}{ext}\r\n", chunk.len()).as_bytes());
        raw.extend_from_slice(chunk);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    raw
}

fn send_api(name: &str, context: &str, resource: &str, endpoint: &str) -> (String, String) {
    (
        format!("api/{name}.xml"),
        format!(
            r#"<api xmlns="http://ws.apache.org/ns/synapse" name="{name}" context="{context}">
    {resource_open}
        <inSequence><send>{endpoint}</send></inSequence>
        <outSequence><send/></outSequence>
        <faultSequence/>
    </resource>
</api>"#,
            resource_open = resource,
        ),
    )
}

fn address(uri: &str) -> String {
    format!(r#"<endpoint><address uri="{uri}"/></endpoint>"#)
}

/// The sample value of the line starting with `prefix` in a Prometheus text.
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn jolokia_value(port: u16, path: &str) -> serde_json::Value {
    let r = get(port, path);
    assert_eq!(r.status, 200, "{r:?}");
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("Jolokia JSON");
    v["value"].clone()
}

const LOG: &str = "conflux::h1=debug,conflux::direct=debug";

// Every scenario answers byte for byte as hyper does; the pure forwards go through the engine,
// the mediated route does not; the backend sees the same requests; the counters agree.
#[test]
fn the_conflux_engine_answers_deployed_routes_as_hyper_does() {
    let echo = Backend::start(Behaviour::Echo);
    let dead = format!("http://127.0.0.1:{}/dead", closed_port());
    let flaky_backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: "up".into(),
    });
    let flaky = FaultProxy::start(flaky_backend.addr, Fault::Refuse);
    let artifacts = vec![
        send_api(
            "Send",
            "/send",
            r#"<resource methods="GET POST" url-mapping="/*">"#,
            &address(&format!("{}/svc", echo.url())),
        ),
        send_api(
            "Items",
            "/items",
            r#"<resource methods="GET" uri-template="/{id}/detail">"#,
            &address(&format!("{}/store/", echo.url())),
        ),
        send_api(
            "Down",
            "/down",
            r#"<resource methods="GET POST" url-mapping="/*">"#,
            &address(&dead),
        ),
        send_api(
            "Flaky",
            "/flaky",
            r#"<resource methods="GET" url-mapping="/*">"#,
            &address(&flaky.url()),
        ),
        (
            "api/Mediated.xml".into(),
            format!(
                r#"<api xmlns="http://ws.apache.org/ns/synapse" name="Mediated" context="/mediated">
    <resource methods="POST" url-mapping="/*">
        <inSequence><log level="full"/><send>{}</send></inSequence>
        <outSequence><send/></outSequence>
    </resource>
</api>"#,
                address(&echo.url())
            ),
        ),
        (
            "proxy-services/EchoProxy.xml".into(),
            format!(
                r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="EchoProxy" transports="http">
    <target>
        <endpoint><address uri="{}/soap"/></endpoint>
        <outSequence><send/></outSequence>
    </target>
</proxy>"#,
                echo.url()
            ),
        ),
    ];
    let homes: Vec<Home> = ["\n[transport]\nhttp1_engine = \"conflux\"\n", ""]
        .iter()
        .map(|transport| {
            let home = Home::new(&format!("[server]\nhostname = \"localhost\"\n{transport}"));
            for (path, xml) in &artifacts {
                home.write(&format!("{SYNAPSE}/{path}"), xml);
            }
            home
        })
        .collect();
    let conflux = start_with_env(homes[0].path(), &[], &[("CONFLUX_LOG", LOG)]);
    let hyper = start_with_env(homes[1].path(), &[], &[("CONFLUX_LOG", LOG)]);
    let servers = [("conflux", &conflux), ("hyper", &hyper)];

    let upload: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
    // (name, request maker): the same request to each server.
    type Make<'a> = Box<dyn Fn(u16, &str) -> Vec<u8> + 'a>;
    let scenarios: Vec<(&str, Make)> = vec![
        (
            "send GET",
            Box::new(|p, run| request_bytes("GET", p, "/send/a/b", &[("X-Run", run)], b"")),
        ),
        (
            "uri-template with query",
            Box::new(|p, run| {
                request_bytes(
                    "GET",
                    p,
                    "/items/42/detail?q=x%20y",
                    &[("X-Run", run), ("Accept", "application/json")],
                    b"",
                )
            }),
        ),
        (
            "POST with a JSON body",
            Box::new(|p, run| {
                request_bytes(
                    "POST",
                    p,
                    "/send/orders?debug=1",
                    &[("X-Run", run), ("Content-Type", "application/json")],
                    br#"{"order":{"id":7,"items":[1,2,3]}}"#,
                )
            }),
        ),
        (
            "proxy target with SOAP",
            Box::new(|p, run| {
                request_bytes(
                    "POST",
                    p,
                    "/services/EchoProxy",
                    &[("X-Run", run), ("Content-Type", "text/xml"), ("SOAPAction", "urn:echo")],
                    b"<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><echo/></soapenv:Body></soapenv:Envelope>",
                )
            }),
        ),
        (
            "proxy target with a REST postfix",
            Box::new(|p, run| {
                request_bytes(
                    "GET",
                    p,
                    "/services/EchoProxy/x/y?k=v",
                    &[("X-Run", run)],
                    b"",
                )
            }),
        ),
        (
            "chunked upload",
            Box::new(|p, run| chunked_bytes(p, "/send/upload", run, &upload, 10_000)),
        ),
        (
            "backend down, JSON",
            Box::new(|p, run| {
                request_bytes(
                    "POST",
                    p,
                    "/down/x",
                    &[("X-Run", run), ("Content-Type", "application/json")],
                    b"{}",
                )
            }),
        ),
        (
            "backend down, XML",
            Box::new(|p, run| {
                request_bytes(
                    "GET",
                    p,
                    "/down/x",
                    &[("X-Run", run), ("Accept", "text/xml")],
                    b"",
                )
            }),
        ),
        (
            "mediated route",
            Box::new(|p, run| {
                request_bytes(
                    "POST",
                    p,
                    "/mediated/m",
                    &[("X-Run", run), ("Content-Type", "application/json")],
                    br#"{"m":1}"#,
                )
            }),
        ),
    ];
    for (name, make) in &scenarios {
        let answers: Vec<Answer> = servers
            .iter()
            .map(|(run, server)| {
                Answer::of(&exchange(server.port(HTTP), &make(server.port(HTTP), run)))
            })
            .collect();
        assert_eq!(answers[0], answers[1], "{name}: conflux engine vs hyper");
        // The dead endpoint is suspended after its first failure (MI's default: 30 s on any
        // error), so the second request to it gets 303001 without a connection attempt.
        let (expected, code) = match *name {
            "backend down, JSON" => (502, Some("101503")),
            "backend down, XML" => (503, Some("<code>303001</code>")),
            _ => (200, None),
        };
        assert_eq!(answers[0].status(), expected, "{name}: {:?}", answers[0]);
        if let Some(code) = code {
            assert!(
                answers[0].text().contains(code),
                "{name}: {}",
                answers[0].text()
            );
        }
        if *name == "chunked upload" {
            assert_eq!(answers[0].body, upload, "the upload came back whole");
        }
    }

    // What the backend received: the same request from both servers (but their own X-Run). The
    // order of differently named fields is not compared: hyper's header map moves the last
    // field into the place of a removed `Connection` (HeaderMap's swap-remove), the engine keeps
    // the client's order; RFC 9110 §5.3 gives that order no meaning.
    let requests = echo.requests();
    let of_run = |run: &str| -> Vec<_> {
        requests
            .iter()
            .filter(|r| r.header("x-run") == Some(run))
            .map(|r| {
                let mut headers: Vec<_> = r
                    .headers
                    .iter()
                    .filter(|(k, _)| k != "x-run")
                    .cloned()
                    .collect();
                headers.sort();
                (
                    r.method.clone(),
                    r.path_and_query.clone(),
                    headers,
                    r.body_len,
                    r.body_sha256.clone(),
                )
            })
            .collect()
    };
    let (sent_c, sent_h) = (of_run("conflux"), of_run("hyper"));
    assert_eq!(sent_c.len(), 7, "{sent_c:?}");
    assert_eq!(sent_c, sent_h, "what the backend received");
    let paths: Vec<&str> = sent_c.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/svc/a/b",
            "/store/42/detail?q=x%20y",
            "/svc/orders?debug=1",
            "/soap",
            "/soap/x/y?k=v",
            "/svc/upload",
            "/m",
        ],
        "backend URLs as mediation builds them"
    );

    // A failing endpoint is suspended (MI's default: 30 s on any error) on both engines: the
    // first request fails with 101503, then the endpoint answers 303001 without being dialled,
    // although the backend is back.
    // (No switch back to Refuse: the fault proxy applies a switch asynchronously.)
    let flaky_get = |port: u16| {
        Answer::of(&exchange(
            port,
            &request_bytes("GET", port, "/flaky/x", &[], b""),
        ))
    };
    let failed: Vec<Answer> = servers
        .iter()
        .map(|(_, server)| flaky_get(server.port(HTTP)))
        .collect();
    assert_eq!(failed[0], failed[1], "the failure: conflux engine vs hyper");
    assert_eq!(failed[0].status(), 502, "{failed:?}");
    assert!(failed[0].text().contains("101503"), "{failed:?}");
    flaky.set(Fault::Pass);
    let dialled = flaky.accepted();
    for _ in 0..2 {
        let suspended: Vec<Answer> = servers
            .iter()
            .map(|(_, server)| flaky_get(server.port(HTTP)))
            .collect();
        assert_eq!(
            suspended[0], suspended[1],
            "suspended: conflux engine vs hyper"
        );
        assert_eq!(suspended[0].status(), 503, "{suspended:?}");
        assert!(suspended[0].text().contains("303001"), "{suspended:?}");
    }
    assert_eq!(
        flaky.accepted(),
        dialled,
        "a suspended endpoint is never dialled"
    );

    // Which path each request took: the pure forwards through the engine on the conflux server
    // (and not through mediation's direct run), never on hyper's; the mediated route through
    // mediation on both.
    let engine_marks = [
        "{api:Send} direct path: h1 engine",
        "{api:Items} direct path: h1 engine",
        "{api:Down} direct path: h1 engine",
        "{api:Flaky} direct path: h1 engine",
        "{proxy:EchoProxy} direct path: h1 engine",
    ];
    let out_c = conflux.output_with(&engine_marks);
    let out_h = hyper.output_with(&[
        "{api:Send} direct path: send",
        "{proxy:EchoProxy} direct path: target",
    ]);
    for mark in engine_marks {
        assert!(out_c.contains(mark), "{mark} missing:\n{out_c}");
        assert!(!out_h.contains(mark), "hyper logged {mark}");
    }
    assert!(!out_c.contains("{api:Mediated} direct path"), "{out_c}");
    assert!(
        !out_c.contains("{api:Send} direct path: send"),
        "mediation ran a forward the engine made:\n{out_c}"
    );
    assert!(out_h.contains("{api:Send} direct path: send"), "{out_h}");
    // Engine-made forwards are counted: 3 per Send (GET, POST, upload), 2 on the proxy.
    assert_eq!(
        out_c.matches("{api:Send} direct path: h1 engine").count(),
        3,
        "{out_c}"
    );
    assert_eq!(
        out_c
            .matches("{proxy:EchoProxy} direct path: h1 engine")
            .count(),
        2,
        "{out_c}"
    );

    // The counters move by the same amounts on both.
    let send = "wso2_integration_api_request_count_total{service_name=\"Send\",service_type=\"api\",invocation_url=\"/send\",}";
    let down_errors = "wso2_integration_api_request_count_error_total{service_name=\"Down\",service_type=\"api\",invocation_url=\"/down\",}";
    let proxy = "wso2_integration_proxy_request_count_total{service_name=\"EchoProxy\",service_type=\"proxy\",}";
    let latency = "wso2_integration_api_latency_seconds_count{service_name=\"Items\",service_type=\"api\",invocation_url=\"/items\",}";
    let mut figures = Vec::new();
    for (run, server) in &servers {
        let metrics = get(server.port(INTERNAL_HTTP), "/metric-service/metrics").text();
        let jmx = server.port(JMX);
        let bean = "/jolokia/read/org.apache.synapse:Type=Transport,Name=passthru-http-receiver";
        let received = jolokia_value(jmx, &format!("{bean}/MessagesReceived"));
        let faults = jolokia_value(jmx, &format!("{bean}/FaultsReceiving"));
        let got = (
            sample(&metrics, send),
            sample(&metrics, down_errors),
            sample(&metrics, proxy),
            sample(&metrics, latency),
            received,
            faults,
        );
        figures.push((run, got));
    }
    assert_eq!(
        figures[0].1,
        (
            Some(3.0),
            Some(2.0),
            Some(2.0),
            Some(1.0),
            serde_json::json!(12),
            serde_json::json!(5)
        ),
        "conflux engine's counters"
    );
    assert_eq!(figures[0].1, figures[1].1, "same counters on both engines");
}

/// One request of a keep-alive sequence: method, path, extra headers, body.
type Step<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, &'a [u8]);

/// Reads one response with a `Content-Length` body (none for `head_request`) from `stream`.
fn read_one(stream: &mut TcpStream, pending: &mut Vec<u8>, head_request: bool) -> Vec<u8> {
    let mut buf = [0u8; 8192];
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().expect("content-length"));
            let total = end + 4 + if head_request { 0 } else { length };
            if pending.len() >= total {
                return pending.drain(..total).collect();
            }
        }
        let n = stream.read(&mut buf).expect("read response");
        assert!(
            n > 0,
            "connection closed before a whole response: {pending:?}"
        );
        pending.extend_from_slice(&buf[..n]);
    }
}

/// Its own server's address in an answer becomes `SELF` (the service prefix of a rewritten
/// `Location` names the listener).
fn normalized(answer: Answer, port: u16) -> Answer {
    let own = format!("127.0.0.1:{port}");
    Answer {
        head: answer
            .head
            .into_iter()
            .map(|l| l.replace(&own, "SELF"))
            .collect(),
        body: answer.body,
    }
}

// Keep-alive connections (direct requests, then one the engine leaves to hyper, then more on the
// same connection), HEAD, an empty POST, SOAP and REST POSTs with a REST URL postfix, and a
// `Location` rewrite (passthru ClientWorker, transport/location.rs): the same answers on both
// engines, and the same requests at the backend.
#[test]
fn keep_alive_location_head_and_postfix_rules_match_hyper() {
    let echo = Backend::start(Behaviour::Echo);
    let moved = Backend::start(Behaviour::Fixed {
        status: 202,
        headers: vec![
            ("Location".into(), "http://10.1.2.3:9763/jobs/17?x=1".into()),
            ("Content-Type".into(), "text/plain".into()),
        ],
        body: "accepted".into(),
    });
    let stalled = Backend::start(Behaviour::Stall);
    let artifacts = vec![
        send_api(
            "Slow",
            "/slow",
            r#"<resource methods="GET" url-mapping="/*">"#,
            &format!(
                r#"<endpoint><address uri="{}"><timeout><duration>300</duration><responseAction>fault</responseAction></timeout></address></endpoint>"#,
                stalled.url()
            ),
        ),
        send_api(
            "Send",
            "/send",
            r#"<resource methods="GET POST HEAD" url-mapping="/*">"#,
            &address(&format!("{}/svc", echo.url())),
        ),
        send_api(
            "Moved",
            "/moved",
            r#"<resource methods="GET" url-mapping="/*">"#,
            &address(&moved.url()),
        ),
        (
            "api/Mediated.xml".into(),
            format!(
                r#"<api xmlns="http://ws.apache.org/ns/synapse" name="Mediated" context="/mediated">
    <resource methods="POST GET" url-mapping="/*">
        <inSequence><property name="x" value="1"/><send>{}</send></inSequence>
    </resource>
</api>"#,
                address(&echo.url())
            ),
        ),
        (
            "proxy-services/EchoProxy.xml".into(),
            format!(
                r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="EchoProxy" transports="http">
    <target><endpoint><address uri="{}/soap"/></endpoint></target>
</proxy>"#,
                echo.url()
            ),
        ),
    ];
    let homes: Vec<Home> = ["\n[transport]\nhttp1_engine = \"conflux\"\n", ""]
        .iter()
        .map(|transport| {
            let home = Home::new(&format!("[server]\nhostname = \"localhost\"\n{transport}"));
            for (path, xml) in &artifacts {
                home.write(&format!("{SYNAPSE}/{path}"), xml);
            }
            home
        })
        .collect();
    let conflux = start_with_env(homes[0].path(), &[], &[("CONFLUX_LOG", LOG)]);
    let hyper = start_with_env(homes[1].path(), &[], &[("CONFLUX_LOG", LOG)]);
    let servers = [("conflux", &conflux), ("hyper", &hyper)];

    // (method, path, headers, body) in order on one keep-alive connection.
    let soap = b"<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body/></soapenv:Envelope>";
    let sequence: Vec<Step> = vec![
        ("GET", "/send/one", vec![], b""),
        ("POST", "/send/empty", vec![], b""),
        ("HEAD", "/send/head", vec![], b""),
        (
            "POST",
            "/services/EchoProxy/op?a=1",
            vec![("Content-Type", "text/xml"), ("SOAPAction", "urn:op")],
            soap,
        ),
        (
            "POST",
            "/services/EchoProxy/op?a=2",
            vec![("Content-Type", "text/xml")],
            soap,
        ),
        (
            "POST",
            "/services/EchoProxy/op?a=3",
            vec![("Content-Type", "application/soap+xml")],
            soap,
        ),
        ("GET", "/moved/x", vec![], b""),
        ("GET", "/send/before-general", vec![], b""),
        ("GET", "/mediated/general", vec![], b""),
        ("GET", "/send/after-general", vec![], b""),
    ];
    let mut all = Vec::new();
    for (run, server) in &servers {
        let port = server.port(HTTP);
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("read timeout");
        let mut pending = Vec::new();
        let mut answers = Vec::new();
        for (method, path, headers, body) in &sequence {
            let mut head =
                format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Run: {run}\r\n");
            if *method == "POST" {
                head.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let mut raw = head.into_bytes();
            raw.extend_from_slice(body);
            stream.write_all(&raw).expect("write request");
            let response = read_one(&mut stream, &mut pending, *method == "HEAD");
            answers.push(normalized(Answer::of(&response), port));
        }
        all.push(answers);
    }
    for (i, (method, path, _, _)) in sequence.iter().enumerate() {
        assert_eq!(
            all[0][i], all[1][i],
            "{method} {path}: conflux engine vs hyper"
        );
    }
    let moved_answer = &all[0][6];
    assert_eq!(moved_answer.status(), 202, "{moved_answer:?}");
    assert!(
        moved_answer
            .head
            .iter()
            .any(|l| l == "location: http://SELF/jobs/17?x=1"),
        "the Location is rewritten to the service prefix: {moved_answer:?}"
    );
    assert_eq!(all[0][2].status(), 200);
    assert!(all[0][2].body.is_empty(), "HEAD has no body");

    // The backend saw the same requests; the SOAP 1.1 POST with a SOAPAction and the SOAP 1.2
    // one (not doingREST) went without the REST URL postfix, the POX one with it.
    let requests = echo.requests();
    let of_run = |run: &str| -> Vec<_> {
        requests
            .iter()
            .filter(|r| r.header("x-run") == Some(run))
            .map(|r| {
                let mut headers: Vec<_> = r
                    .headers
                    .iter()
                    .filter(|(k, _)| k != "x-run")
                    .cloned()
                    .collect();
                headers.sort();
                (
                    r.method.clone(),
                    r.path_and_query.clone(),
                    headers,
                    r.body_sha256.clone(),
                )
            })
            .collect()
    };
    let (sent_c, sent_h) = (of_run("conflux"), of_run("hyper"));
    assert_eq!(sent_c, sent_h, "what the backend received");
    let paths: Vec<&str> = sent_c.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/svc/one",
            "/svc/empty",
            "/svc/head",
            "/soap",
            "/soap/op?a=2",
            "/soap",
            "/svc/before-general",
            "/general",
            "/svc/after-general",
        ]
    );

    // An endpoint timeout (101504, passthru TargetHandler.timeout): the same fault answer.
    let timed_out: Vec<Answer> = servers
        .iter()
        .map(|(_, server)| {
            let port = server.port(HTTP);
            Answer::of(&exchange(
                port,
                &request_bytes(
                    "GET",
                    port,
                    "/slow/x",
                    &[("Accept", "application/json")],
                    b"",
                ),
            ))
        })
        .collect();
    assert_eq!(
        timed_out[0], timed_out[1],
        "timeout: conflux engine vs hyper"
    );
    assert_eq!(timed_out[0].status(), 504, "{timed_out:?}");
    assert!(timed_out[0].text().contains("101504"), "{timed_out:?}");

    // The engine forwarded everything before the mediated request itself; from that one on the
    // connection is hyper's.
    let out = conflux.output_with(&["{api:Moved} direct path: h1 engine"]);
    assert_eq!(
        out.matches("{api:Send} direct path: h1 engine").count(),
        4,
        "{out}"
    );
    assert_eq!(
        out.matches("{proxy:EchoProxy} direct path: h1 engine")
            .count(),
        3,
        "{out}"
    );
    assert!(out.contains("{api:Moved} direct path: h1 engine"), "{out}");
    assert!(out.contains("{api:Slow} direct path: h1 engine"), "{out}");
}

// Routes the router leaves to hyper on the conflux server (a host name, which would need a
// lookup; a forced SOAP format; a header step before the send; an endpoint whose timeout
// discards the reply; an HTTPS address): the same answers, no engine event for them, and the
// header-step route still takes mediation's own direct run.
#[test]
fn routes_outside_the_pure_forward_stay_general_and_answer_alike() {
    let echo = Backend::start(Behaviour::Echo);
    let port = echo.port();
    let artifacts = vec![
        send_api(
            "Named",
            "/named",
            r#"<resource methods="GET" url-mapping="/*">"#,
            &address(&format!("http://localhost:{port}/n")),
        ),
        send_api(
            "Soap",
            "/soap",
            r#"<resource methods="POST" url-mapping="/*">"#,
            &format!(
                r#"<endpoint><address uri="http://127.0.0.1:{port}/s" format="soap11"/></endpoint>"#
            ),
        ),
        (
            "api/Props.xml".into(),
            format!(
                r#"<api xmlns="http://ws.apache.org/ns/synapse" name="Props" context="/props">
    <resource methods="GET" url-mapping="/*">
        <inSequence><property name="X-Added" scope="transport" value="v"/><send>{}</send></inSequence>
    </resource>
</api>"#,
                address(&format!("http://127.0.0.1:{port}/p"))
            ),
        ),
        send_api(
            "Discard",
            "/discard",
            r#"<resource methods="GET" url-mapping="/*">"#,
            &format!(
                r#"<endpoint><address uri="http://127.0.0.1:{port}/d"><timeout><duration>30000</duration><responseAction>discard</responseAction></timeout></address></endpoint>"#
            ),
        ),
        send_api(
            "Tls",
            "/tls",
            r#"<resource methods="GET" url-mapping="/*">"#,
            &address(&format!("https://127.0.0.1:{}/t", closed_port())),
        ),
    ];
    let homes: Vec<Home> = ["\n[transport]\nhttp1_engine = \"conflux\"\n", ""]
        .iter()
        .map(|transport| {
            let home = Home::new(&format!("[server]\nhostname = \"localhost\"\n{transport}"));
            for (path, xml) in &artifacts {
                home.write(&format!("{SYNAPSE}/{path}"), xml);
            }
            home
        })
        .collect();
    let conflux = start_with_env(homes[0].path(), &[], &[("CONFLUX_LOG", LOG)]);
    let hyper = start_with_env(homes[1].path(), &[], &[("CONFLUX_LOG", LOG)]);
    let requests: Vec<Step> = vec![
        ("GET", "/named/a", vec![], b""),
        (
            "POST",
            "/soap/b",
            vec![("Content-Type", "application/xml")],
            b"<m>1</m>",
        ),
        ("GET", "/props/c", vec![], b""),
        ("GET", "/discard/d", vec![], b""),
        ("GET", "/tls/e", vec![], b""),
    ];
    for (method, path, headers, body) in &requests {
        let answers: Vec<Answer> = [&conflux, &hyper]
            .iter()
            .map(|server| {
                let port = server.port(HTTP);
                Answer::of(&exchange(
                    port,
                    &request_bytes(method, port, path, headers, body),
                ))
            })
            .collect();
        assert_eq!(
            answers[0], answers[1],
            "{method} {path}: conflux engine vs hyper"
        );
    }
    let out = conflux.output_with(&["{api:Props} direct path: send"]);
    assert!(out.contains("{api:Props} direct path: send"), "{out}");
    assert!(!out.contains("direct path: h1 engine"), "{out}");
    // The routes did reach the backend (the answers above were not all faults).
    let paths: Vec<String> = echo
        .requests()
        .iter()
        .map(|r| r.path_and_query.clone())
        .collect();
    for path in ["/n/a", "/s", "/p/c", "/d/d"] {
        assert_eq!(
            paths.iter().filter(|p| p.as_str() == path).count(),
            2,
            "{path}: {paths:?}"
        );
    }
}
