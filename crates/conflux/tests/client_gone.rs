//! Work stops when the client goes away (issue 20), through the real binary over real sockets:
//! a mediated call to a backend that never answers is dropped when its client closes (the
//! backend sees its connection closed), a long run of computing mediators (XPath over the
//! deepest XML body allowed) stops between two mediators, each is logged as a connection closed
//! by the client with the method and URL (the meaning of MI's pass-through
//! `SourceHandler.closed` warning), and the server keeps serving.
//!
//! Waits only bound hangs; nothing asserts on speed.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use conflux_mediation::runtime::limits::MAX_XML_DEPTH;
use support::*;

/// How long a test waits for something that takes a fraction of it.
const HANG: Duration = Duration::from_secs(60);

/// What the stalling backend saw on one connection.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// A whole request head, by its request line.
    Request(String),
    /// Conflux closed (or reset) the connection.
    Closed,
}

/// A backend that reads each request head and never answers; reports each head and each close.
fn stalling_backend() -> (u16, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let port = listener.local_addr().expect("address").port();
    let (events, seen) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let events = events.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                let mut reported = false;
                loop {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                    if !reported && got.windows(4).any(|w| w == b"\r\n\r\n") {
                        reported = true;
                        let text = String::from_utf8_lossy(&got);
                        let line = text.lines().next().unwrap_or_default().to_owned();
                        let _ = events.send(Seen::Request(line));
                    }
                }
                let _ = events.send(Seen::Closed);
            });
        }
    });
    (port, seen)
}

fn next(seen: &mpsc::Receiver<Seen>) -> Seen {
    seen.recv_timeout(HANG)
        .unwrap_or_else(|_| panic!("the backend saw nothing more within {HANG:?}"))
}

/// Waits until the server's output contains `needle`.
fn wait_for_output(server: &Server, needle: &str) -> String {
    let deadline = Instant::now() + HANG;
    loop {
        let output = server.output();
        if output.contains(needle) {
            return output;
        }
        assert!(
            Instant::now() < deadline,
            "no {needle:?} in the output:\n{output}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A resource answering at once, to show the server still serves.
const OK_RESOURCE: &str = r#"<resource methods="GET" uri-template="/ok">
        <inSequence>
            <payloadFactory media-type="json"><format>{"ok": true}</format><args/></payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#;

#[test]
fn a_mediated_call_to_a_stalled_backend_is_dropped_when_the_client_closes() {
    let (backend, seen) = stalling_backend();
    let resource = format!(
        r#"<resource methods="POST" uri-template="/call">
        <inSequence>
            <call>
                <endpoint>
                    <address uri="http://127.0.0.1:{backend}/stall">
                        <timeout><duration>600000</duration><responseAction>fault</responseAction></timeout>
                    </address>
                </endpoint>
            </call>
            <respond/>
        </inSequence>
    </resource>
    {OK_RESOURCE}"#
    );
    let home = home_with(&[("api/Gone.xml", api("Gone", "/gone", &resource))]);
    let server = start(&home);
    let port = server.port(HTTP);

    let mut client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    client
        .write_all(
            format!("POST /gone/call HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}")
                .as_bytes(),
        )
        .expect("request");
    // The address with the API's REST_URL_POSTFIX, as MI sends it.
    assert_eq!(
        next(&seen),
        Seen::Request("POST /stall/call HTTP/1.1".into())
    );
    drop(client);
    // The backend call goes with the exchange: the backend sees its connection closed.
    assert_eq!(next(&seen), Seen::Closed);
    let output = wait_for_output(&server, "Connection closed by the client after the request");
    assert!(
        output.contains("HTTP_METHOD = POST, HTTP_URL = /gone/call"),
        "{output}"
    );

    let ok = get(port, "/gone/ok");
    assert_eq!(ok.status, 200, "{}", ok.text());
}

#[test]
fn xpath_over_a_deep_body_stops_between_mediators_when_the_client_closes() {
    // Forty mediators that each evaluate `//a` over the deepest body allowed, each logging its
    // number after it: all of them together take far longer than noticing the client's close.
    const STEPS: usize = 40;
    let steps: String = (1..=STEPS)
        .map(|n| {
            format!(
                r#"<property name="p{n}" expression="//a"/>
            <log level="custom"><property name="step" value="done {n}."/></log>
            "#
            )
        })
        .collect();
    let resource = format!(
        r#"<resource methods="POST" uri-template="/xpath">
        <inSequence>
            {steps}<payloadFactory media-type="json"><format>{{"ok": true}}</format><args/></payloadFactory>
            <respond/>
        </inSequence>
    </resource>
    {OK_RESOURCE}"#
    );
    let home = home_with(&[("api/Deep.xml", api("Deep", "/deep", &resource))]);
    let server = start(&home);
    let port = server.port(HTTP);
    // `//a` serialises the text at the bottom once per level: about 4 MB per evaluation.
    let text = "x".repeat(4 * 1024);
    let body = format!(
        "{}{text}{}",
        "<a>".repeat(MAX_XML_DEPTH),
        "</a>".repeat(MAX_XML_DEPTH)
    );
    let mut client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    client
        .write_all(
            format!(
                "POST /deep/xpath HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .expect("request");
    // The client leaves once mediation is under way.
    wait_for_output(&server, "done 1.");
    drop(client);
    let output = wait_for_output(&server, "Connection closed by the client after the request");
    assert!(
        output.contains("HTTP_URL = /deep/xpath"),
        "the warning names the request: {output}"
    );
    // The exchange was dropped at a mediator boundary: the rest of the sequence never ran.
    assert!(
        !output.contains(&format!("done {STEPS}.")),
        "mediation ran to its end after the client had gone:\n{output}"
    );
    let ok = get(port, "/deep/ok");
    assert_eq!(ok.status, 200, "{}", ok.text());
}
