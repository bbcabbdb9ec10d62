//! The TLS policy of the HTTPS listener (reliability.md §6, issue 20): TLS 1.2 and 1.3 only, AEAD
//! cipher suites with ECDHE only, the server's cipher order wins over the client's, and the
//! generated self-signed certificate is valid for at most 397 days. Each property is checked with
//! a real handshake or on the certificate actually written.

use std::sync::Arc;

use conflux_transport::tls::self_signed::GENERATED_VALIDITY_DAYS;
use conflux_transport::tls::{CIPHER_SUITES, KeystoreSettings, ServerTls, load_server_config};
use rustls::{CipherSuite, ProtocolVersion};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// The CA/Browser Forum ceiling (398 days) less one; what testssl.sh accepts without a finding.
const MAX_CERTIFICATE_DAYS: i64 = 397;

fn generated_server(dir: &tempfile::TempDir) -> ServerTls {
    let settings = KeystoreSettings {
        path: dir.path().join("security/wso2carbon.jks"),
        password: "wso2carbon".to_owned(),
        alias: Some("wso2carbon".to_owned()),
        key_password: None,
    };
    let server = load_server_config(&settings, "localhost").expect("generates a keystore");
    assert!(server.generated);
    server
}

/// A client that trusts the generated certificate and offers only `suites`, in that order.
fn client(
    server: &ServerTls,
    suites: Vec<rustls::SupportedCipherSuite>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(server.self_signed.clone().expect("self-signed certificate"))
        .expect("root");
    let provider = rustls::crypto::CryptoProvider {
        cipher_suites: suites,
        ..rustls::crypto::ring::default_provider()
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// Handshakes over loopback; the suite and version the server agreed to, or the client's error.
async fn negotiate(
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
) -> Result<(CipherSuite, ProtocolVersion), std::io::Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let acceptor = TlsAcceptor::from(server);
    let server_task = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.expect("accept");
        if let Ok(mut stream) = acceptor.accept(socket).await {
            let mut byte = [0u8; 1];
            let _ = stream.read_exact(&mut byte).await;
            let _ = stream.write_all(&byte).await;
            let _ = stream.shutdown().await;
        }
    });
    let socket = TcpStream::connect(address).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let result = TlsConnector::from(client).connect(name, socket).await;
    let outcome = match result {
        Ok(mut stream) => {
            stream.write_all(b"x").await.expect("write");
            let mut echo = [0u8; 1];
            stream.read_exact(&mut echo).await.expect("echo");
            let (_, connection) = stream.get_ref();
            Ok((
                connection.negotiated_cipher_suite().expect("suite").suite(),
                connection.protocol_version().expect("version"),
            ))
        }
        Err(error) => Err(error),
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), server_task)
        .await
        .expect("server task ends")
        .expect("server task");
    outcome
}

fn suite_name(suite: CipherSuite) -> String {
    format!("{suite:?}")
}

#[test]
fn every_offered_suite_is_aead_with_forward_secrecy() {
    for suite in CIPHER_SUITES {
        let name = suite_name(suite.suite());
        assert!(
            name.contains("_GCM_") || name.contains("CHACHA20_POLY1305"),
            "{name} is not an AEAD suite"
        );
        if matches!(suite, rustls::SupportedCipherSuite::Tls12(_)) {
            assert!(name.starts_with("TLS_ECDHE_"), "{name} lacks ECDHE");
        }
    }
}

#[test]
fn generated_certificate_is_valid_for_at_most_397_days() {
    const { assert!(GENERATED_VALIDITY_DAYS <= MAX_CERTIFICATE_DAYS) };
    let dir = tempfile::tempdir().expect("tempdir");
    let server = generated_server(&dir);
    let der = server.self_signed.expect("self-signed certificate");
    let (_, certificate) = x509_parser::parse_x509_certificate(der.as_ref()).expect("parses");
    let validity = certificate.validity();
    let seconds = validity.not_after.timestamp() - validity.not_before.timestamp();
    assert!(
        seconds <= MAX_CERTIFICATE_DAYS * 86_400,
        "the certificate spans {} days",
        seconds / 86_400
    );
    assert!(
        validity.is_valid(),
        "the certificate is valid now: {validity:?}"
    );
}

#[tokio::test]
async fn server_cipher_order_wins_in_tls13() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = generated_server(&dir);
    assert!(server.config.ignore_client_order);
    use rustls::crypto::ring::cipher_suite as suite;
    // The client prefers ChaCha20, then AES-128; the server's first choice is AES-256.
    let client = client(
        &server,
        vec![
            suite::TLS13_CHACHA20_POLY1305_SHA256,
            suite::TLS13_AES_128_GCM_SHA256,
            suite::TLS13_AES_256_GCM_SHA384,
        ],
        &[&rustls::version::TLS13],
    );
    let (agreed, version) = negotiate(server.config.clone(), client)
        .await
        .expect("handshake");
    assert_eq!(version, ProtocolVersion::TLSv1_3);
    assert_eq!(agreed, CipherSuite::TLS13_AES_256_GCM_SHA384);
}

#[tokio::test]
async fn server_cipher_order_wins_in_tls12() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = generated_server(&dir);
    use rustls::crypto::ring::cipher_suite as suite;
    // The generated key is ECDSA, so only the ECDHE_ECDSA suites apply.
    let client = client(
        &server,
        vec![
            suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        ],
        &[&rustls::version::TLS12],
    );
    let (agreed, version) = negotiate(server.config.clone(), client)
        .await
        .expect("handshake");
    assert_eq!(version, ProtocolVersion::TLSv1_2);
    assert_eq!(agreed, CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384);
}

/// Runs `openssl s_client` with `args` against a server that accepts handshakes until dropped;
/// true when the handshake completed. `None` when the openssl binary is absent.
async fn openssl_handshake(server: Arc<rustls::ServerConfig>, args: &[&str]) -> Option<bool> {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let acceptor = TlsAcceptor::from(server);
    let server_task = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(socket).await;
            });
        }
    });
    let output = tokio::process::Command::new("openssl")
        .arg("s_client")
        .arg("-connect")
        .arg(address.to_string())
        .args(args)
        .stdin(std::process::Stdio::null())
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(30), output)
        .await
        .expect("openssl finishes");
    server_task.abort();
    match output {
        Ok(output) => {
            let stdout = String::from_utf8_lossy(&output.stdout);
            // s_client prints the agreed cipher; "(NONE)" or "0000" when nothing was agreed.
            // (The exit status is not used: s_client fails when the server closes without
            // close_notify, which this server does.)
            let agreed = stdout.contains("Cipher is") && !stdout.contains("Cipher is (NONE)");
            if !agreed {
                println!(
                    "openssl {args:?}: {stdout}\n{}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            Some(agreed)
        }
        Err(error) => {
            println!("skipping the openssl check: {error}");
            None
        }
    }
}

#[tokio::test]
async fn old_protocols_and_cbc_suites_are_refused_to_openssl() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = generated_server(&dir);
    let Some(tls12) = openssl_handshake(server.config.clone(), &["-tls1_2"]).await else {
        return;
    };
    assert!(tls12, "TLS 1.2 with default suites is accepted");
    for args in [
        &["-tls1_1", "-cipher", "ALL:@SECLEVEL=0"][..],
        &["-tls1", "-cipher", "ALL:@SECLEVEL=0"][..],
        &[
            "-tls1_2",
            "-cipher",
            "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384",
        ][..],
        &["-tls1_2", "-cipher", "AES128-GCM-SHA256:AES256-SHA"][..],
    ] {
        assert_eq!(
            openssl_handshake(server.config.clone(), args).await,
            Some(false),
            "openssl s_client {args:?} must be refused"
        );
    }
}
