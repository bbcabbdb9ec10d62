//! Backend faults (reliability.md §9 rows 1-3) and their MI classification: a closed port gives
//! 101503 and 502, a silent backend 101504 and 504 with a short endpoint timeout, and a backend
//! that dies mid-body aborts the client connection instead of ending a truncated 200 cleanly.

mod support;

use std::time::Duration;

use http::{Request, StatusCode};
use http_body_util::BodyExt;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn refused_backend_gives_101503_and_502() {
    let closed = bind().await;
    let addr = closed.local_addr().expect("address");
    drop(closed);
    let p = proxy(addr, None).await;
    let resp = h1_client()
        .request(
            Request::get(format!("http://{}/x", p.addr))
                .header("accept", "application/json")
                .body(conflux_transport::body::ProxyBody::Empty)
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.contains("101503") && text.contains("Error connecting to the back end"),
        "{text}"
    );
}

#[tokio::test]
async fn stalled_backend_times_out_with_101504_and_504() {
    let stall = raw_backend(|mut tcp| async move {
        let mut sink = [0u8; 1024];
        // Read the request and never answer.
        while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
    let p = proxy(stall, Some(Duration::from_millis(200))).await;
    let raw = raw_exchange(
        p.addr,
        b"GET /slow HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 504"), "{raw}");
    assert!(raw.contains("<code>101504</code>"), "{raw}");
}

#[tokio::test]
async fn backend_closing_mid_body_aborts_the_client_connection() {
    let cut = raw_backend(|mut tcp| async move {
        let mut head = [0u8; 4096];
        let _ = tcp.read(&mut head).await;
        let _ = tcp
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial body")
            .await;
        // Dropping the socket cuts the body short.
    })
    .await;
    let p = proxy(cut, None).await;
    let resp = h1_client()
        .request(
            Request::get(format!("http://{}/cut", p.addr))
                .body(conflux_transport::body::ProxyBody::Empty)
                .expect("request"),
        )
        .await
        .expect("the head arrives");
    assert_eq!(resp.status(), StatusCode::OK);
    let outcome = tokio::time::timeout(Duration::from_secs(30), resp.into_body().collect())
        .await
        .expect("the proxy must not hang");
    assert!(
        outcome.is_err(),
        "a cut body must surface as an error, not a complete 200"
    );
}

#[tokio::test]
async fn backend_closing_before_any_response_gives_502_with_101505() {
    let closer = raw_backend(|mut tcp| async move {
        let mut head = [0u8; 4096];
        let _ = tcp.read(&mut head).await;
    })
    .await;
    let p = proxy(closer, None).await;
    let raw = raw_exchange(
        p.addr,
        b"GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 502"), "{raw}");
    assert!(raw.contains("<code>101505</code>"), "{raw}");
}
