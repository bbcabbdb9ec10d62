//! HTTPS backends: the backend client verifies the backend's certificate against `[truststore]`
//! (here a PEM file) plus the system roots, and refuses a certificate nobody vouches for.

use std::sync::Arc;

use conflux_transport::body::ProxyBody;
use conflux_transport::client::{BackendClient, ClientOptions};
use conflux_transport::server::{ConnInfo, ServerLimits, serve};
use conflux_transport::tls::{TruststoreSettings, client_config};
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_util::sync::CancellationToken;

/// An HTTPS backend answering "secure"; returns its port and the certificate in PEM.
async fn tls_backend(shutdown: CancellationToken) -> (u16, String) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("rcgen");
    let pem = certified.cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .expect("server config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handler = |_req: Request<Incoming>, _conn: ConnInfo| async {
        Response::new(ProxyBody::from("secure"))
    };
    tokio::spawn(serve(
        listener,
        Some(Arc::new(config)),
        handler,
        ServerLimits::default(),
        shutdown,
    ));
    (port, pem)
}

fn get(port: u16) -> (Request<ProxyBody>, http::Uri) {
    let uri: http::Uri = format!("https://localhost:{port}/x").parse().expect("uri");
    (
        Request::get(uri.clone())
            .body(ProxyBody::Empty)
            .expect("request"),
        uri,
    )
}

#[tokio::test]
async fn https_backend_trusted_through_the_truststore() {
    let shutdown = CancellationToken::new();
    let (port, pem) = tls_backend(shutdown.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let trust = dir.path().join("trust.pem");
    std::fs::write(&trust, pem).expect("write truststore");
    let tls = client_config(Some(&TruststoreSettings {
        path: trust,
        password: String::new(),
    }))
    .expect("client config");
    let client = BackendClient::new(tls, ClientOptions::default());
    let (req, uri) = get(port);
    let resp = client
        .forward(req, &uri, None)
        .await
        .expect("HTTPS backend answers");
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(&body[..], b"secure");
    shutdown.cancel();
}

#[tokio::test]
async fn untrusted_https_backend_is_refused() {
    let shutdown = CancellationToken::new();
    let (port, _) = tls_backend(shutdown.clone()).await;
    let client = BackendClient::new(
        client_config(None).expect("client config"),
        ClientOptions::default(),
    );
    let (req, uri) = get(port);
    let error = client
        .forward(req, &uri, None)
        .await
        .expect_err("an unknown certificate must be refused");
    // A failed handshake is a failed connection to the back end for MI.
    assert_eq!(error.mi_error_code(), 101_503, "{error}");
    shutdown.cancel();
}

/// `[transport.http] sender.secured_proxy_host`: an HTTPS backend is reached through a `CONNECT`
/// tunnel of the proxy, TLS end to end.
#[tokio::test]
async fn https_backend_through_a_connect_proxy() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let shutdown = CancellationToken::new();
    let (port, pem) = tls_backend(shutdown.clone()).await;
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let proxy_port = proxy.local_addr().expect("addr").port();
    let proxy_task = tokio::spawn(async move {
        let (mut client, _) = proxy.accept().await.expect("accept");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            client.read_exact(&mut byte).await.expect("read");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let mut upstream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("upstream");
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .expect("write");
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        head
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let trust = dir.path().join("trust.pem");
    std::fs::write(&trust, pem).expect("write truststore");
    let tls = client_config(Some(&TruststoreSettings {
        path: trust,
        password: String::new(),
    }))
    .expect("client config");
    let client = BackendClient::new(tls, ClientOptions::default()).with_https_proxy(
        conflux_transport::client::HttpProxy::new("127.0.0.1", proxy_port, &[]).expect("proxy"),
    );
    let (req, uri) = get(port);
    let resp = client
        .forward(req, &uri, None)
        .await
        .expect("HTTPS backend answers through the tunnel");
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(&body[..], b"secure");
    drop(client);
    shutdown.cancel();
    let head = tokio::time::timeout(std::time::Duration::from_secs(5), proxy_task)
        .await
        .map(|h| h.expect("proxy task"));
    if let Ok(head) = head {
        assert!(
            head.starts_with(&format!("CONNECT localhost:{port} HTTP/1.1\r\n")),
            "{head}"
        );
    }
}
