//! A real TLS handshake over loopback for every keystore format: a tokio-rustls server with the
//! loaded `ServerConfig`, and a client built by `client_config` (or trusting the generated
//! certificate directly) that exchanges bytes with it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use conflux_transport::tls::{
    KeystoreSettings, TruststoreSettings, client_config, load_server_config, pkcs12,
};
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

fn keystore(
    path: PathBuf,
    password: &str,
    alias: Option<&str>,
    key_password: Option<&str>,
) -> KeystoreSettings {
    KeystoreSettings {
        path,
        password: password.to_owned(),
        alias: alias.map(str::to_owned),
        key_password: key_password.map(str::to_owned),
    }
}

/// Serves one connection with `server`, connects with `client` to `localhost`, and checks that
/// bytes go both ways and which ALPN protocol was agreed.
async fn handshake(server: Arc<rustls::ServerConfig>, client: Arc<rustls::ClientConfig>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let acceptor = TlsAcceptor::from(server);
    let server_task = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.expect("accept");
        let mut stream = acceptor.accept(socket).await.expect("server handshake");
        let mut buffer = [0u8; 5];
        stream.read_exact(&mut buffer).await.expect("server read");
        assert_eq!(&buffer, b"hello");
        stream.write_all(b"world").await.expect("server write");
        stream.shutdown().await.expect("server shutdown");
        stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec)
    });
    let socket = TcpStream::connect(address).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let mut stream = TlsConnector::from(client)
        .connect(name, socket)
        .await
        .expect("client handshake");
    stream.write_all(b"hello").await.expect("client write");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await.expect("client read");
    assert_eq!(reply, b"world");
    let negotiated = server_task.await.expect("server task");
    assert_eq!(negotiated.as_deref(), Some(&b"http/1.1"[..]));
}

fn trusting(certificate: CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certificate).expect("root");
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

fn rcgen_material() -> (rcgen::KeyPair, rcgen::Certificate) {
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    (key, cert)
}

#[tokio::test]
async fn pem_keystore_with_pem_truststore() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (key, cert) = rcgen_material();
    let path = dir.path().join("server.pem");
    std::fs::write(&path, format!("{}{}", cert.pem(), key.serialize_pem())).expect("write");
    let trust = dir.path().join("trust.pem");
    std::fs::write(&trust, cert.pem()).expect("write");
    let server = load_server_config(&keystore(path, "", None, None), "localhost").expect("server");
    let client = client_config(Some(&TruststoreSettings {
        path: trust,
        password: String::new(),
    }))
    .expect("client");
    handshake(server.config, client).await;
}

#[tokio::test]
async fn pkcs12_keystore() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (key, cert) = rcgen_material();
    let path = dir.path().join("server.p12");
    let data = pkcs12::encode_key_entry("server", "secret", &key.serialize_der(), &[cert.der()])
        .expect("p12");
    std::fs::write(&path, data).expect("write");
    let server = load_server_config(&keystore(path, "secret", Some("server"), None), "localhost")
        .expect("server");
    handshake(server.config, trusting(cert.der().clone())).await;
}

#[tokio::test]
async fn keytool_pkcs12_ec_keystore_with_pkcs12_truststore() {
    let server = load_server_config(
        &keystore(
            fixture("keytool-ec.p12"),
            "storepass1",
            Some("ecserver"),
            None,
        ),
        "localhost",
    )
    .expect("server");
    let client = client_config(Some(&TruststoreSettings {
        path: fixture("truststore.p12"),
        password: "trustpass".into(),
    }))
    .expect("client");
    handshake(server.config, client).await;
}

#[tokio::test]
async fn jks_rsa_keystore_with_jks_truststore() {
    let server = load_server_config(
        &keystore(
            fixture("server-rsa.jks"),
            "storepass1",
            Some("server"),
            Some("keypass1"),
        ),
        "localhost",
    )
    .expect("server");
    let client = client_config(Some(&TruststoreSettings {
        path: fixture("truststore.jks"),
        password: "trustpass".into(),
    }))
    .expect("client");
    handshake(server.config, client).await;
}

#[tokio::test]
async fn jks_ec_keystore_with_jks_truststore() {
    let server = load_server_config(
        &keystore(fixture("server-ec.jks"), "storepass1", None, None),
        "localhost",
    )
    .expect("server");
    let client = client_config(Some(&TruststoreSettings {
        path: fixture("truststore.jks"),
        password: "trustpass".into(),
    }))
    .expect("client");
    handshake(server.config, client).await;
}

#[tokio::test]
async fn generated_self_signed_keystore() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("security/wso2carbon.jks");
    let server = load_server_config(
        &keystore(path.clone(), "wso2carbon", Some("wso2carbon"), None),
        "localhost",
    )
    .expect("generated");
    assert!(server.generated);
    let data = std::fs::read(&path).expect("read");
    let store = p12_keystore::KeyStore::from_pkcs12(
        &data,
        "wso2carbon",
        p12_keystore::Pkcs12ImportPolicy::Strict,
    )
    .expect("our own PKCS#12");
    let (alias, chain) = store.private_key_chain().expect("key entry");
    assert_eq!(alias, "wso2carbon");
    let certificate = CertificateDer::from(chain.certs()[0].as_der().to_vec());
    handshake(server.config, trusting(certificate)).await;
}

#[tokio::test]
async fn client_without_truststore_rejects_an_unknown_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (key, cert) = rcgen_material();
    let path = dir.path().join("server.pem");
    std::fs::write(&path, format!("{}{}", cert.pem(), key.serialize_pem())).expect("write");
    let server = load_server_config(&keystore(path, "", None, None), "localhost").expect("server");
    let client = client_config(None).expect("client with system roots only");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let acceptor = TlsAcceptor::from(server.config);
    let server_task = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.expect("accept");
        acceptor.accept(socket).await.is_ok()
    });
    let socket = TcpStream::connect(address).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let result = TlsConnector::from(client).connect(name, socket).await;
    assert!(
        result.is_err(),
        "a self-signed certificate must not be trusted by default"
    );
    assert!(!server_task.await.expect("server task"));
}

/// MI ships its own certificate in the client truststore: the backend client trusts the server's
/// generated self-signed certificate, so a proxy can call the server's own HTTPS port.
#[tokio::test]
async fn backend_client_trusts_the_generated_self_signed_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("generated.p12");
    let server =
        load_server_config(&keystore(path, "secret", None, None), "localhost").expect("server");
    assert!(server.generated);
    let own = server.self_signed.clone().expect("self-signed certificate");
    let client = conflux_transport::tls::client_config_trusting(None, &[own]).expect("client");
    handshake(server.config, client).await;
}
