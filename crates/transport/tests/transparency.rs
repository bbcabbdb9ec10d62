//! Transparency of the pass-through path, in the style of linkerd2-proxy's
//! `linkerd/app/integration/src/tests/transparency.rs` (aesthetics.md §6 item 11): what a client
//! sends reaches the backend and what the backend answers reaches the client, minus exactly the
//! hop-by-hop headers, with framing and bodies preserved and streamed.

mod support;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use conflux_transport::body::ProxyBody;
use http::{Method, Request, Response, StatusCode, header};
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use support::*;
use tokio::sync::{Notify, mpsc};

const GUARD: Duration = Duration::from_secs(60);

/// A request or response body fed from a channel, with an unknown length.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|c| c.map(|b| Ok(Frame::data(b))))
    }
}

fn uri(addr: std::net::SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

#[tokio::test]
async fn hop_by_hop_headers_are_stripped_both_ways_and_end_to_end_kept() {
    let (b, log) = backend(|_req: Request<Incoming>| async {
        let mut r = Response::new(ProxyBody::from("ok"));
        let h = r.headers_mut();
        h.insert(
            header::CONNECTION,
            "x-backend-hop"
                .parse()
                .unwrap_or(header::HeaderValue::from_static("close")),
        );
        h.insert("x-backend-hop", header::HeaderValue::from_static("1"));
        h.insert("keep-alive", header::HeaderValue::from_static("timeout=5"));
        h.insert("x-backend-e2e", header::HeaderValue::from_static("kept"));
        r
    })
    .await;
    let p = proxy(b, None).await;
    let raw = raw_exchange(
        p.addr,
        b"GET /h HTTP/1.1\r\nHost: client.example\r\nConnection: x-hop, close\r\nx-hop: 1\r\nKeep-Alive: 5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nProxy-Authorization: Basic eA==\r\nX-End-To-End: yes\r\nUser-Agent: t/1\r\n\r\n",
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    let lower = raw.to_ascii_lowercase();
    assert!(lower.contains("x-backend-e2e: kept"));
    assert!(!lower.contains("x-backend-hop"));
    assert!(!lower.contains("keep-alive: timeout"));
    let seen = log.last_headers();
    for hop in [
        "x-hop",
        "keep-alive",
        "proxy-connection",
        "te",
        "proxy-authorization",
    ] {
        assert!(
            seen.get(hop).is_none(),
            "{hop} reached the backend: {seen:?}"
        );
    }
    assert_eq!(
        seen.get("x-end-to-end").map(|v| v.as_bytes()),
        Some(&b"yes"[..])
    );
    assert_eq!(
        seen.get("user-agent").map(|v| v.as_bytes()),
        Some(&b"t/1"[..])
    );
    // MI's pass-through writes the backend authority as Host and adds no X-Forwarded-For
    // (wso2-synapse passthru/util/TargetRequestFactory.java).
    assert_eq!(
        seen.get(header::HOST).and_then(|v| v.to_str().ok()),
        Some(b.to_string().as_str())
    );
    assert!(seen.get("x-forwarded-for").is_none());
}

#[tokio::test]
async fn content_length_is_kept_including_zero_and_bodyless_get_gets_no_te() {
    let (b, log) = echo_backend().await;
    let p = proxy(b, None).await;
    let raw = raw_exchange(
        p.addr,
        b"POST /z HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert_eq!(
        log.last_headers()
            .get(header::CONTENT_LENGTH)
            .map(|v| v.as_bytes()),
        Some(&b"0"[..])
    );
    assert!(
        raw.to_ascii_lowercase().contains("content-length: 0"),
        "{raw}"
    );

    let raw = raw_exchange(
        p.addr,
        b"POST /n HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    )
    .await;
    assert!(raw.ends_with("\r\n\r\nhello"), "{raw}");
    assert!(raw.to_ascii_lowercase().contains("content-length: 5"));
    assert_eq!(
        log.last_headers()
            .get(header::CONTENT_LENGTH)
            .map(|v| v.as_bytes()),
        Some(&b"5"[..])
    );

    let _ = raw_exchange(
        p.addr,
        b"GET /g HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    let seen = log.last_headers();
    assert!(seen.get(header::TRANSFER_ENCODING).is_none(), "{seen:?}");
    assert!(seen.get(header::CONTENT_LENGTH).is_none(), "{seen:?}");
}

#[tokio::test]
async fn chunked_stays_chunked_both_ways() {
    let (b, log) = backend(|req: Request<Incoming>| async move {
        // Re-stream the request body with no known length: the response must be chunked.
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            let mut body = req.into_body();
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(data) = frame.into_data()
                    && tx.send(data).await.is_err()
                {
                    return;
                }
            }
        });
        Response::new(ProxyBody::boxed(ChannelBody(rx)))
    })
    .await;
    let p = proxy(b, None).await;
    let raw = raw_exchange(
        p.addr,
        b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    )
    .await;
    let lower = raw.to_ascii_lowercase();
    assert!(lower.contains("transfer-encoding: chunked"), "{raw}");
    assert!(!lower.contains("content-length"), "{raw}");
    assert!(raw.ends_with("0\r\n\r\n"), "{raw}");
    let seen = log.last_headers();
    assert_eq!(
        seen.get(header::TRANSFER_ENCODING).map(|v| v.as_bytes()),
        Some(&b"chunked"[..])
    );
    assert!(seen.get(header::CONTENT_LENGTH).is_none());
}

#[tokio::test]
async fn head_204_and_304_carry_no_body() {
    let (b, _log) = backend(|req: Request<Incoming>| async move {
        let mut r = Response::new(ProxyBody::Empty);
        match req.uri().path() {
            "/204" => *r.status_mut() = StatusCode::NO_CONTENT,
            "/304" => *r.status_mut() = StatusCode::NOT_MODIFIED,
            _ => {
                r.headers_mut().insert(
                    header::CONTENT_LENGTH,
                    header::HeaderValue::from_static("42"),
                );
            }
        }
        r
    })
    .await;
    let p = proxy(b, None).await;
    for (request, status) in [
        (
            &b"HEAD /h HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"[..],
            "200",
        ),
        (
            b"GET /204 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "204",
        ),
        (
            b"GET /304 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "304",
        ),
    ] {
        let raw = raw_exchange(p.addr, request).await;
        assert!(raw.starts_with(&format!("HTTP/1.1 {status}")), "{raw}");
        assert!(
            raw.ends_with("\r\n\r\n"),
            "no body may follow the head: {raw:?}"
        );
        if status == "200" {
            assert!(
                raw.to_ascii_lowercase().contains("content-length: 42"),
                "{raw}"
            );
        }
        if status != "200" {
            assert!(
                !raw.to_ascii_lowercase().contains("transfer-encoding"),
                "{raw}"
            );
        }
    }
}

#[tokio::test]
async fn expect_100_continue_is_answered_before_the_body_is_sent() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (b, log) = echo_backend().await;
    let p = proxy(b, None).await;
    let mut tcp = tokio::net::TcpStream::connect(p.addr)
        .await
        .expect("connect proxy");
    tcp.write_all(b"POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
        .await
        .expect("write head");
    let mut interim = [0u8; 25];
    tokio::time::timeout(GUARD, tcp.read_exact(&mut interim))
        .await
        .expect("100 in time")
        .expect("read 100");
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    tcp.write_all(b"ping").await.expect("write body");
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(GUARD, tcp.read_to_end(&mut rest)).await;
    let rest = String::from_utf8_lossy(&rest);
    assert!(
        rest.starts_with("HTTP/1.1 200") && rest.ends_with("ping"),
        "{rest}"
    );
    assert!(log.last_headers().get(header::EXPECT).is_none());
}

#[tokio::test]
async fn sequential_requests_share_one_pooled_backend_connection() {
    let (b, log) = echo_backend().await;
    let p = proxy(b, None).await;
    let client = h1_client();
    for i in 0..10 {
        let req = Request::post(uri(p.addr, "/pool"))
            .body(ProxyBody::from(format!("n{i}")))
            .expect("request");
        let resp = client.request(req).await.expect("response");
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(body, Bytes::from(format!("n{i}")));
    }
    assert_eq!(log.request_count(), 10);
    assert_eq!(log.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn h2_client_reaches_an_http1_backend() {
    let (b, log) = echo_backend().await;
    let p = proxy(b, None).await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http::<ProxyBody>();
    let req = Request::post(uri(p.addr, "/h2"))
        .body(ProxyBody::from("over h2"))
        .expect("request");
    let resp = client.request(req).await.expect("response");
    assert_eq!(resp.version(), http::Version::HTTP_2);
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(&body[..], b"over h2");
    assert_eq!(
        log.requests.lock().map(|r| r[0].0.clone()).ok(),
        Some(Method::POST)
    );
}

const LARGE: usize = 64 * 1024 * 1024;
const CHUNK: usize = 1024 * 1024;

#[tokio::test]
async fn large_upload_streams_through_without_buffering() {
    let first_bytes_seen = Arc::new(Notify::new());
    let seen = first_bytes_seen.clone();
    let (b, _log) = backend(move |req: Request<Incoming>| {
        let seen = seen.clone();
        async move {
            let mut body = req.into_body();
            let mut hash = Fnv::default();
            let mut total = 0usize;
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(data) = frame.into_data() {
                    if total == 0 {
                        seen.notify_one();
                    }
                    total += data.len();
                    hash.update(&data);
                }
            }
            Response::new(ProxyBody::from(format!("{total} {:x}", hash.0)))
        }
    })
    .await;
    let p = proxy(b, None).await;
    let (tx, rx) = mpsc::channel::<Bytes>(2);
    let mut expected = Fnv::default();
    let chunks: Vec<Bytes> = (0..LARGE / CHUNK)
        .map(|i| pattern_chunk(i as u64 + 7, CHUNK))
        .collect();
    for c in &chunks {
        expected.update(c);
    }
    let sender = tokio::spawn(async move {
        let mut chunks = chunks.into_iter();
        if let Some(first) = chunks.next() {
            let _ = tx.send(first).await;
        }
        // The rest is only sent once the backend has received bytes: a proxy that collected the
        // request body before forwarding would deadlock here and trip the guard.
        tokio::time::timeout(GUARD, first_bytes_seen.notified())
            .await
            .is_ok()
            && {
                for c in chunks {
                    if tx.send(c).await.is_err() {
                        return false;
                    }
                }
                true
            }
    });
    let req = Request::post(uri(p.addr, "/up"))
        .body(ProxyBody::boxed(ChannelBody(rx)))
        .expect("request");
    let resp = tokio::time::timeout(GUARD, h1_client().request(req))
        .await
        .expect("in time")
        .expect("response");
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert!(
        sender.await.unwrap_or(false),
        "backend never saw the first bytes before the end"
    );
    assert_eq!(
        String::from_utf8_lossy(&body),
        format!("{LARGE} {:x}", expected.0)
    );
}

#[tokio::test]
async fn large_download_streams_through_without_buffering() {
    let client_got_bytes = Arc::new(Notify::new());
    let got = client_got_bytes.clone();
    let (b, _log) = backend(move |_req: Request<Incoming>| {
        let got = got.clone();
        async move {
            let (tx, rx) = mpsc::channel::<Bytes>(2);
            tokio::spawn(async move {
                for i in 0..LARGE / CHUNK {
                    if tx.send(pattern_chunk(i as u64 + 99, CHUNK)).await.is_err() {
                        return;
                    }
                    if i == 0 && tokio::time::timeout(GUARD, got.notified()).await.is_err() {
                        return; // the proxy buffered: stop, the client sees a short body
                    }
                }
            });
            let mut r = Response::new(ProxyBody::boxed(ChannelBody(rx)));
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, header::HeaderValue::from(LARGE));
            r
        }
    })
    .await;
    let p = proxy(b, None).await;
    let resp = h1_client()
        .request(
            Request::get(uri(p.addr, "/down"))
                .body(ProxyBody::Empty)
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(
        resp.headers()
            .get(header::CONTENT_LENGTH)
            .map(|v| v.as_bytes()),
        Some(LARGE.to_string().as_bytes())
    );
    let mut body = resp.into_body();
    let mut hash = Fnv::default();
    let mut total = 0;
    while let Some(frame) = tokio::time::timeout(GUARD, body.frame())
        .await
        .expect("frame in time")
    {
        let Ok(data) = frame.expect("frame").into_data() else {
            continue;
        };
        if total == 0 {
            client_got_bytes.notify_one();
        }
        total += data.len();
        hash.update(&data);
    }
    let mut expected = Fnv::default();
    for i in 0..LARGE / CHUNK {
        expected.update(&pattern_chunk(i as u64 + 99, CHUNK));
    }
    assert_eq!(total, LARGE);
    assert_eq!(hash.0, expected.0);
}

/// Every test above again with the proxy on the Conflux HTTP/1 engine (`[transport]
/// http1_engine = "conflux"`, crates/transport/src/h1): a case it accepts that hyper refused
/// is a regression.
mod on_conflux_engine {
    use super::support::{Engine, on_engine};

    #[test]
    fn hop_by_hop_headers_are_stripped_both_ways_and_end_to_end_kept() {
        on_engine(
            Engine::Conflux,
            super::hop_by_hop_headers_are_stripped_both_ways_and_end_to_end_kept,
        );
    }

    #[test]
    fn content_length_is_kept_including_zero_and_bodyless_get_gets_no_te() {
        on_engine(
            Engine::Conflux,
            super::content_length_is_kept_including_zero_and_bodyless_get_gets_no_te,
        );
    }

    #[test]
    fn chunked_stays_chunked_both_ways() {
        on_engine(Engine::Conflux, super::chunked_stays_chunked_both_ways);
    }

    #[test]
    fn head_204_and_304_carry_no_body() {
        on_engine(Engine::Conflux, super::head_204_and_304_carry_no_body);
    }

    #[test]
    fn expect_100_continue_is_answered_before_the_body_is_sent() {
        on_engine(
            Engine::Conflux,
            super::expect_100_continue_is_answered_before_the_body_is_sent,
        );
    }

    #[test]
    fn sequential_requests_share_one_pooled_backend_connection() {
        on_engine(
            Engine::Conflux,
            super::sequential_requests_share_one_pooled_backend_connection,
        );
    }

    #[test]
    fn h2_client_reaches_an_http1_backend() {
        on_engine(Engine::Conflux, super::h2_client_reaches_an_http1_backend);
    }

    #[test]
    fn large_upload_streams_through_without_buffering() {
        on_engine(
            Engine::Conflux,
            super::large_upload_streams_through_without_buffering,
        );
    }

    #[test]
    fn large_download_streams_through_without_buffering() {
        on_engine(
            Engine::Conflux,
            super::large_download_streams_through_without_buffering,
        );
    }
}
