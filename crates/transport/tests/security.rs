//! Hostile requests over raw TCP (reliability.md §4 and §9 rows 7, 8, 13), in sozu's
//! `h1_security_tests.rs` pattern: send the attack, assert the refusal, assert the backend saw
//! nothing, assert a fresh request is still served.

mod support;

use conflux_transport::server::{DEFAULT_MAX_HEADERS, MIN_MAX_HEADER_BYTES, ServerLimits};
use support::*;

async fn still_serves(addr: std::net::SocketAddr) {
    let raw = raw_exchange(
        addr,
        b"GET /fresh HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        raw.starts_with("HTTP/1.1 200"),
        "fresh request after the attack: {raw}"
    );
}

#[tokio::test]
async fn content_length_with_transfer_encoding_is_refused_in_both_orders() {
    let (b, log) = echo_backend().await;
    let p = proxy(b, None).await;
    for attack in [
        &b"POST /s HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX"[..],
        b"POST /s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n0\r\n\r\nX",
        b"POST /s HTTP/1.1\r\nHost: a\r\ntransfer-encoding: chunked\r\ncontent-length: 6\r\n\r\n0\r\n\r\nX",
    ] {
        let raw = raw_exchange(p.addr, attack).await;
        assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");
        assert!(raw.to_ascii_lowercase().contains("connection: close"), "{raw}");
    }
    assert_eq!(log.request_count(), 0, "the backend must see nothing");
    still_serves(p.addr).await;
    assert_eq!(log.request_count(), 1);
}

#[tokio::test]
async fn smuggling_after_a_valid_request_keeps_the_valid_answer() {
    let (b, log) = echo_backend().await;
    let p = proxy(b, None).await;
    let raw = raw_exchange(
        p.addr,
        b"POST /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiPOST /s HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(raw.contains("hiHTTP/1.1 400"), "{raw}");
    assert_eq!(log.request_count(), 1);
}

#[tokio::test]
async fn other_framing_attacks_are_refused() {
    let (b, log) = echo_backend().await;
    let p = proxy(b, None).await;
    for attack in [
        &b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"[..],
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
        b"GET / HTTP/1.1\nHost: a\n\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    ] {
        let raw = raw_exchange(p.addr, attack).await;
        assert!(
            raw.starts_with("HTTP/1.1 400"),
            "{}: {raw}",
            String::from_utf8_lossy(attack)
        );
    }
    assert_eq!(log.request_count(), 0);
    still_serves(p.addr).await;
}

#[tokio::test]
async fn oversized_head_and_too_many_headers_get_431() {
    let (b, log) = echo_backend().await;
    let limits = ServerLimits {
        max_header_bytes: MIN_MAX_HEADER_BYTES,
        ..ServerLimits::default()
    };
    let p = proxy_with(b, None, limits, None).await;
    // Limit + 1: a head one byte over the cap.
    let prefix = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ";
    let filler = "a".repeat(MIN_MAX_HEADER_BYTES + 1 - prefix.len() - 4);
    let attack = format!("{prefix}{filler}\r\n\r\n");
    assert_eq!(attack.len(), MIN_MAX_HEADER_BYTES + 1);
    let raw = raw_exchange(p.addr, attack.as_bytes()).await;
    assert!(raw.starts_with("HTTP/1.1 431"), "{raw}");

    let mut many = String::from("GET / HTTP/1.1\r\nHost: a\r\n");
    for i in 0..DEFAULT_MAX_HEADERS {
        many.push_str(&format!("X-{i}: v\r\n"));
    }
    many.push_str("\r\n"); // Host + DEFAULT_MAX_HEADERS = limit + 1 headers
    let raw = raw_exchange(p.addr, many.as_bytes()).await;
    assert!(raw.starts_with("HTTP/1.1 431"), "{raw}");
    assert_eq!(log.request_count(), 0);
    still_serves(p.addr).await;
}

/// Every test above again with the proxy on the Conflux HTTP/1 engine (`[transport]
/// http1_engine = "conflux"`, crates/transport/src/h1): a case it accepts that hyper refused
/// is a regression.
mod on_conflux_engine {
    use super::support::{Engine, on_engine};

    #[test]
    fn content_length_with_transfer_encoding_is_refused_in_both_orders() {
        on_engine(
            Engine::Conflux,
            super::content_length_with_transfer_encoding_is_refused_in_both_orders,
        );
    }

    #[test]
    fn smuggling_after_a_valid_request_keeps_the_valid_answer() {
        on_engine(
            Engine::Conflux,
            super::smuggling_after_a_valid_request_keeps_the_valid_answer,
        );
    }

    #[test]
    fn other_framing_attacks_are_refused() {
        on_engine(Engine::Conflux, super::other_framing_attacks_are_refused);
    }

    #[test]
    fn oversized_head_and_too_many_headers_get_431() {
        on_engine(
            Engine::Conflux,
            super::oversized_head_and_too_many_headers_get_431,
        );
    }
}
