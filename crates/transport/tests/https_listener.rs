//! The listener over TLS (rustls, ring provider, rcgen certificate made at test time): an HTTPS
//! client is proxied to a plain HTTP backend on h1 and h2 (ALPN), and graceful shutdown lets an
//! in-flight request finish before `serve` returns.

mod support;

use std::sync::Arc;
use std::time::Duration;

use conflux_transport::body::ProxyBody;
use http::Request;
use http_body_util::BodyExt;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use support::*;

fn tls_pair() -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("rcgen");
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let mut server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .expect("server config");
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).expect("trust the test certificate");
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

async fn https_request(
    addr: std::net::SocketAddr,
    client: Arc<rustls::ClientConfig>,
    alpn: &[u8],
) -> (http::Version, String) {
    let mut config = (*client).clone();
    config.alpn_protocols = vec![alpn.to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let tls = connector.connect(name, tcp).await.expect("TLS handshake");
    // hyper's connection-level client writes no Host; HTTP/1.1 needs one (RFC 9112 §3.2).
    let req = Request::post(format!("https://localhost:{}/tls", addr.port()))
        .header("host", format!("localhost:{}", addr.port()))
        .body(ProxyBody::from("secret"))
        .expect("request");
    let resp = if alpn == b"h2" {
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                .await
                .expect("h2 handshake");
        tokio::spawn(conn);
        sender.send_request(req).await.expect("h2 response")
    } else {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .expect("h1 handshake");
        tokio::spawn(conn);
        sender.send_request(req).await.expect("h1 response")
    };
    let version = resp.version();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (version, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn https_clients_on_h1_and_h2_reach_a_plain_backend() {
    let (server, client) = tls_pair();
    let (b, log) = echo_backend().await;
    let p = proxy_with(b, None, Default::default(), Some(server)).await;
    let (version, body) = https_request(p.addr, client.clone(), b"http/1.1").await;
    assert_eq!((version, body.as_str()), (http::Version::HTTP_11, "secret"));
    let (version, body) = https_request(p.addr, client, b"h2").await;
    assert_eq!((version, body.as_str()), (http::Version::HTTP_2, "secret"));
    assert_eq!(log.request_count(), 2);
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests_then_returns() {
    let arrived = Arc::new(tokio::sync::Notify::new());
    let arrived_in_backend = arrived.clone();
    let (b, _log) = backend(move |_req| {
        let arrived = arrived_in_backend.clone();
        async move {
            arrived.notify_one();
            // Still working when the shutdown starts.
            tokio::time::sleep(Duration::from_millis(300)).await;
            http::Response::new(ProxyBody::from("late but complete"))
        }
    })
    .await;
    let p = proxy(b, None).await;
    let addr = p.addr;
    let in_flight =
        tokio::spawn(
            async move { raw_exchange(addr, b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n").await },
        );
    arrived.notified().await;
    p.shutdown.cancel();
    let answer = in_flight.await.unwrap_or_default();
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.ends_with("late but complete"),
        "{answer}"
    );
    let mut p = p;
    assert!(
        tokio::time::timeout(Duration::from_secs(30), &mut p.done)
            .await
            .is_ok(),
        "serve must return"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no new connections after shutdown"
    );
}
