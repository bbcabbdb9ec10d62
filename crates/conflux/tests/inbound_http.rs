//! HTTP inbound endpoints end to end through the real binary: an endpoint on its own port whose
//! sequence reaches a backend; `dispatch.filter.pattern` sending matching requests to the APIs;
//! the port offset not added to `inbound.http.port` (MI's default); `conflux ports` listing the
//! inbound port; an inbound port taken by another process, two endpoints on one port, and an
//! endpoint on a planned port each stopping the server with nothing started and both names said;
//! a hot-deployed endpoint binding when deployed and closing when removed.
//!
//! MI sources: micro-integrator `inbound/endpoint/protocol/http/InboundHttpListener.java` (port
//! offset only with `inbound.port.offset.enable`, "Port X used by inbound endpoint Y is already
//! used by another application"), `InboundHttpServerWorker.java` (sequence, onError, dispatch
//! pattern), SYN `config/xml/inbound/InboundEndpointFactory.java`.

mod support;

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::backend::*;
use support::capp::wait_for;
use support::*;

const NS: &str = "http://ws.apache.org/ns/synapse";
const TIMEOUT: Duration = Duration::from_secs(30);

/// A port nothing listens on now, on every interface (bound on 0.0.0.0, then released).
fn free_port() -> u16 {
    let l = TcpListener::bind("0.0.0.0:0").expect("bind");
    l.local_addr().unwrap().port()
}

fn inbound(name: &str, port: u16, sequence: &str, extra: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<inboundEndpoint xmlns="{NS}" name="{name}" protocol="http" sequence="{sequence}" onError="fault" suspend="false">
    <parameters>
        <parameter name="inbound.http.port">{port}</parameter>
        <parameter name="inbound.worker.pool.size.core">400</parameter>
        {extra}
    </parameters>
</inboundEndpoint>"#
    )
}

fn to_backend(name: &str, url: &str) -> String {
    format!(
        r#"<sequence xmlns="{NS}" name="{name}">
    <header name="X-Inbound" scope="transport" expression="get-property('inbound.endpoint.name')"/>
    <call><endpoint><http method="post" uri-template="{url}"/></endpoint></call>
    <respond/>
</sequence>"#
    )
}

fn backend() -> Backend {
    Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "application/xml".into())],
        body: "<ok/>".into(),
    })
}

/// Runs the server on `home` until it exits (it must fail to start); its exit code and output.
fn failing_start(home: &Home, offset: u32) -> (i32, String) {
    let mut child = Command::new(BIN)
        .arg("--home")
        .arg(home.path())
        .arg(format!("-DportOffset={offset}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn conflux");
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "conflux kept running:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn an_http_inbound_endpoint_on_its_port_reaches_the_backend_and_pattern_dispatches_to_apis() {
    let backend = backend();
    let url = format!("{}/from-inbound", backend.url());
    let port = free_port();
    let dispatch_port = free_port();
    let home = home_with(&[
        ("sequences/InSeq.xml", to_backend("InSeq", &url)),
        (
            "inbound-endpoints/Orders.xml",
            inbound("Orders", port, "InSeq", ""),
        ),
        (
            "inbound-endpoints/Dispatching.xml",
            inbound(
                "Dispatching",
                dispatch_port,
                "InSeq",
                r#"<parameter name="dispatch.filter.pattern">/hello/.*</parameter>"#,
            ),
        ),
        (
            "api/Hello.xml",
            api(
                "Hello",
                "/hello",
                r#"<resource methods="GET" uri-template="/world"><inSequence>
                    <payloadFactory media-type="json"><format>{"from":"api"}</format><args/></payloadFactory>
                    <respond/></inSequence></resource>"#,
            ),
        ),
    ]);
    let server = start(&home);
    assert_ne!(server.offset, 0);

    // The request's method, body and path reach the sequence; the backend's answer comes back.
    let body = b"<order><id>7</id></order>";
    let r = http("POST", "127.0.0.1", port, "/any/path?q=1", body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "<ok/>");
    let seen = backend.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].path_and_query, "/from-inbound");
    assert_eq!(seen[0].header("X-Inbound"), Some("Orders"));
    assert_eq!(seen[0].body_sha256, sha256_hex(body));

    // dispatch.filter.pattern: a matching URI goes to the API; a non-matching one to the main
    // sequence (none deployed: 404), never to the endpoint's sequence.
    let r = get(dispatch_port, "/hello/world");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), r#"{"from":"api"}"#);
    let r = get(dispatch_port, "/elsewhere");
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(backend.requests().len(), 1);

    // The pass-through port still serves the API.
    assert_eq!(get(server.port(HTTP), "/hello/world").status, 200);
    let out = server.output_with(&["Listener started on 0.0.0.0:"]);
    assert!(
        out.contains(&format!(
            "Inbound HTTP endpoint Orders Listener started on 0.0.0.0:{port}"
        )),
        "{out}"
    );

    // `conflux ports` lists the inbound port as written (no offset: MI's default).
    let (code, stdout, stderr) = run(&[
        "ports",
        "--home",
        home.path().to_str().unwrap(),
        &format!("-DportOffset={}", server.offset),
        "--json",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let orders = v["inbound"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Orders")
        .cloned()
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(orders["port"], u64::from(port));
    assert_eq!(orders["offset"], 0);
}

#[test]
fn inbound_port_offset_enable_adds_the_offset() {
    let backend = backend();
    let offset = free_offset();
    // A base whose port with the offset is free now (the offset may be larger than any
    // ephemeral port, so the port is searched upwards from the offset).
    let port = (offset + 1024..=65_535)
        .filter_map(|p| u16::try_from(p).ok())
        .find(|p| std::net::TcpListener::bind(("0.0.0.0", *p)).is_ok())
        .expect("a free port above the offset");
    let base = u32::from(port) - offset;
    let home = Home::new(
        "[server]\nhostname = \"localhost\"\n[mediation]\ninbound.port_offset_enable = true\n",
    );
    home.write(
        &format!("{SYNAPSE}/sequences/InSeq.xml"),
        &to_backend("InSeq", &backend.url()),
    );
    home.write(
        &format!("{SYNAPSE}/inbound-endpoints/Off.xml"),
        &inbound("Off", base as u16, "InSeq", ""),
    );
    let _server = Server::start(home.path(), offset, &[]);
    let r = http("POST", "127.0.0.1", port, "/", b"<a/>");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(backend.requests().len(), 1);
}

#[test]
fn an_inbound_port_held_by_another_process_stops_the_server_with_nothing_started() {
    let holder = TcpListener::bind("0.0.0.0:0").expect("bind");
    let port = holder.local_addr().unwrap().port();
    let home = home_with(&[
        (
            "sequences/InSeq.xml",
            to_backend("InSeq", "http://127.0.0.1:9/x"),
        ),
        (
            "inbound-endpoints/Held.xml",
            inbound("Held", port, "InSeq", ""),
        ),
    ]);
    let offset = free_offset();
    let (code, out) = failing_start(&home, offset);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "cannot listen on port {port} for inbound endpoint Held"
        )),
        "{out}"
    );
    assert!(out.contains("nothing was started"), "{out}");
    assert!(!out.contains("Conflux started"), "{out}");
    drop(holder);
}

#[test]
fn two_inbound_endpoints_on_one_port_or_one_on_a_planned_port_are_refused_naming_both() {
    let port = free_port();
    let offset = free_offset();
    let home = home_with(&[
        (
            "sequences/InSeq.xml",
            to_backend("InSeq", "http://127.0.0.1:9/x"),
        ),
        ("inbound-endpoints/A.xml", inbound("A", port, "InSeq", "")),
        ("inbound-endpoints/B.xml", inbound("B", port, "InSeq", "")),
        (
            "inbound-endpoints/C.xml",
            inbound("C", (u32::from(HTTP) + offset) as u16, "InSeq", ""),
        ),
    ]);
    let (code, out) = failing_start(&home, offset);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("inbound endpoints A (at ") && out.contains("and B (at "),
        "{out}"
    );
    assert!(out.contains(&format!("both want port {port}")), "{out}");
    assert!(
        out.contains("inbound endpoint C wants port")
            && out.contains("http (transport.http.listener.port)"),
        "{out}"
    );
    assert!(out.contains("nothing was started"), "{out}");

    // `conflux ports` says the same and fails.
    let (code, _stdout, stderr) = run(&[
        "ports",
        "--home",
        home.path().to_str().unwrap(),
        &format!("-DportOffset={offset}"),
    ]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains(&format!("both want port {port}")),
        "{stderr}"
    );
}

#[test]
fn a_hot_deployed_inbound_endpoint_binds_when_deployed_and_closes_when_removed() {
    let backend = backend();
    let port = free_port();
    let home = home_with(&[("sequences/InSeq.xml", to_backend("InSeq", &backend.url()))]);
    let server = start(&home);
    let file = format!("{SYNAPSE}/inbound-endpoints/Hot.xml");
    home.write(&file, &inbound("Hot", port, "InSeq", ""));
    let r = wait_for(
        "the hot-deployed inbound endpoint to answer",
        TIMEOUT,
        || {
            std::net::TcpStream::connect(("127.0.0.1", port))
                .map_err(|e| e.to_string())
                .map(|_| http("POST", "127.0.0.1", port, "/", b"<hot/>"))
        },
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(backend.requests().len(), 1);

    std::fs::remove_file(home.path().join(&file)).unwrap();
    wait_for(
        "the removed inbound endpoint's port to close",
        TIMEOUT,
        || match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Err(_) => Ok(()),
            Ok(_) => Err("still listening".into()),
        },
    );
    let out = server.output_with(&["Inbound endpoint Hot undeployed"]);
    assert!(out.contains("Inbound endpoint Hot undeployed"), "{out}");
}

#[test]
fn an_https_inbound_endpoint_serves_with_the_server_keystore() {
    let backend = backend();
    let port = free_port();
    let xml =
        inbound("Secure", port, "InSeq", "").replace("protocol=\"http\"", "protocol=\"https\"");
    let home = home_with(&[
        ("sequences/InSeq.xml", to_backend("InSeq", &backend.url())),
        ("inbound-endpoints/Secure.xml", xml),
    ]);
    let server = start(&home);
    let r = https_request("POST", port, "/secure", b"<s/>");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "<ok/>");
    assert_eq!(backend.requests().len(), 1);
    let out = server.output_with(&["Inbound HTTPS endpoint Secure"]);
    assert!(
        out.contains(&format!(
            "Inbound HTTPS endpoint Secure Listener started on 0.0.0.0:{port}"
        )),
        "{out}"
    );
}

#[test]
fn a_fault_in_the_inbound_sequence_runs_its_on_error_sequence() {
    let port = free_port();
    let down = format!("http://127.0.0.1:{}/down", closed_port());
    let on_error = format!(
        r#"<sequence xmlns="{NS}" name="InErr">
    <payloadFactory media-type="xml"><format><handled xmlns="">$1</handled></format>
        <args><arg evaluator="xml" expression="get-property('ERROR_CODE')"/></args></payloadFactory>
    <respond/>
</sequence>"#
    );
    let xml =
        inbound("Faulty", port, "InSeq", "").replace("onError=\"fault\"", "onError=\"InErr\"");
    let home = home_with(&[
        ("sequences/InSeq.xml", to_backend("InSeq", &down)),
        ("sequences/InErr.xml", on_error),
        ("inbound-endpoints/Faulty.xml", xml),
    ]);
    let _server = start(&home);
    let r = http("POST", "127.0.0.1", port, "/", b"<a/>");
    assert_eq!(r.text(), "<handled>101503</handled>", "{r:?}");
}
