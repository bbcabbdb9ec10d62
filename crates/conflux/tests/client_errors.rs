//! A client's own error never changes an endpoint's state (issue 20): a request whose chunked body
//! is malformed (`0x5`, a chunk size that overflows 64 bits, a bare LF) or that the client cuts
//! off mid-body gets its 4xx (or a closed connection), and the endpoint it was going to, which
//! suspends for 30 s on any error of its own, keeps serving every other client.
//!
//! MI reads such bodies in its pass-through `SourceHandler` (the client side); only failures of
//! the `TargetHandler` (the backend side) reach `AbstractEndpoint.onFault` and the endpoint's
//! `EndpointContext` (wso2-synapse `passthru/SourceHandler.java`, `endpoints/AbstractEndpoint.java`).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::backend::*;
use support::*;

/// Raw bytes on a fresh connection; returns what came back until the server closed (or 30 s).
fn send_raw(port: u16, bytes: &[u8], half_close: bool) -> Vec<u8> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    let _ = stream.write_all(bytes);
    if half_close {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    out
}

fn status_of(raw: &[u8]) -> Option<u16> {
    std::str::from_utf8(raw.get(9..12)?).ok()?.parse().ok()
}

#[test]
fn malformed_or_cut_request_bodies_do_not_suspend_the_endpoint() {
    let backend = Backend::start(Behaviour::Echo);
    // Suspends for 30 s on any error of the endpoint's (MI's default error codes, explicit
    // initial duration), so one miscounted client error would show as 503/303001 below.
    let endpoint = format!(
        r#"<endpoint xmlns="http://ws.apache.org/ns/synapse" name="GuardedEp">
    <address uri="{}/svc">
        <timeout><duration>3000</duration><responseAction>fault</responseAction></timeout>
        <suspendOnFailure><initialDuration>30000</initialDuration><progressionFactor>1</progressionFactor></suspendOnFailure>
        <markForSuspension><retriesBeforeSuspension>0</retriesBeforeSuspension></markForSuspension>
    </address>
</endpoint>"#,
        backend.url()
    );
    let resource = r#"<resource methods="POST" url-mapping="/*">
        <inSequence><send><endpoint key="GuardedEp"/></send></inSequence>
    </resource>"#;
    let home = home_with(&[
        ("endpoints/GuardedEp.xml", endpoint),
        ("api/EchoApi.xml", api("EchoApi", "/echo", resource)),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);

    let good = || http("POST", "127.0.0.1", port, "/echo/x", b"fine");
    let first = good();
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.text(), "fine");

    let chunked = |body: &str| {
        format!(
            "POST /echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{body}"
        )
    };
    for (name, request) in [
        ("hex prefix 0x5", chunked("0x5\r\nhello\r\n0\r\n\r\n")),
        (
            "chunk size overflow",
            chunked("10000000000000000\r\nhello\r\n0\r\n\r\n"),
        ),
        ("bare LF after size", chunked("5\nhello\r\n0\r\n\r\n")),
        ("data longer than size", chunked("3\r\nhello\r\n0\r\n\r\n")),
    ] {
        let raw = send_raw(port, request.as_bytes(), false);
        let status = status_of(&raw);
        assert!(
            status.is_none_or(|s| (400..500).contains(&s)),
            "{name}: a client error, not {:?}",
            String::from_utf8_lossy(&raw)
        );
        let after = good();
        assert_eq!(
            after.status,
            200,
            "{name}: the endpoint must keep serving: {}",
            after.text()
        );
    }

    // A client that promises 100 bytes, sends 4 and leaves.
    let cut =
        b"POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\nConnection: close\r\n\r\nhalf";
    let raw = send_raw(port, cut, true);
    assert!(
        status_of(&raw).is_none_or(|s| s < 500),
        "{:?}",
        String::from_utf8_lossy(&raw)
    );
    let after = good();
    assert_eq!(after.status, 200, "after a cut body: {}", after.text());
    // Every good request reached the backend.
    let fine = sha256_hex(b"fine");
    let seen = backend
        .requests()
        .into_iter()
        .filter(|r| r.body_sha256 == fine)
        .count();
    assert_eq!(seen, 6);

    // The endpoint's own failure still counts: the backend goes away, the endpoint suspends.
    // A pooled connection to the stopped backend may stay open without an answer (the test
    // backend's runtime stops in the background), so the failure is a refusal (502) or the
    // endpoint's 3 s timeout (504); either is the endpoint's own and suspends it.
    drop(backend);
    let down = good();
    assert!([502, 504].contains(&down.status), "{}", down.text());
    let suspended = good();
    assert_eq!(suspended.status, 503, "{}", suspended.text());
    assert!(suspended.text().contains("303001"), "{}", suspended.text());
}
