//! Loading keystores and truststores in every supported format, and the errors for bad ones.
//! JKS/JCEKS fixtures come from tests/fixtures/tls (made with keytool, see its README); PEM and
//! PKCS#12 material is generated here with rcgen.

use std::path::{Path, PathBuf};

use conflux_transport::tls::{
    KeystoreSettings, MAX_KEYSTORE_FILE_BYTES, TlsError, TruststoreSettings, load_server_config,
    load_trusted_certificates, pkcs12,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

fn settings(path: &Path, password: &str, alias: Option<&str>) -> KeystoreSettings {
    KeystoreSettings {
        path: path.to_owned(),
        password: password.to_owned(),
        alias: alias.map(str::to_owned),
        key_password: None,
    }
}

fn rcgen_key_and_cert() -> (rcgen::KeyPair, rcgen::Certificate) {
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    (key, cert)
}

fn write_generated_p12(dir: &Path, alias: &str, password: &str) -> PathBuf {
    let (key, cert) = rcgen_key_and_cert();
    let data = pkcs12::encode_key_entry(alias, password, &key.serialize_der(), &[cert.der()])
        .expect("p12");
    let path = dir.join("server.p12");
    std::fs::write(&path, data).expect("write");
    path
}

#[test]
fn pem_combined_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (key, cert) = rcgen_key_and_cert();
    let path = dir.path().join("server.pem");
    std::fs::write(&path, format!("{}{}", cert.pem(), key.serialize_pem())).expect("write");
    let tls = load_server_config(&settings(&path, "ignored", None), "localhost").expect("loads");
    assert!(!tls.generated);
    assert!(
        tls.description.starts_with("PEM keystore"),
        "{}",
        tls.description
    );
    assert!(tls.warnings.is_empty(), "{:?}", tls.warnings);
}

#[test]
fn pem_key_beside_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (key, cert) = rcgen_key_and_cert();
    let path = dir.path().join("server.crt");
    std::fs::write(&path, cert.pem()).expect("write");
    let error = load_server_config(&settings(&path, "", None), "localhost").unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("no private key") && text.contains("server.key"),
        "{text}"
    );
    std::fs::write(dir.path().join("server.key"), key.serialize_pem()).expect("write");
    load_server_config(&settings(&path, "", None), "localhost").expect("loads with .key");
}

#[test]
fn pem_encrypted_key_is_refused_with_advice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, cert) = rcgen_key_and_cert();
    let path = dir.path().join("server.pem");
    std::fs::write(
        &path,
        format!(
            "{}-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
            cert.pem()
        ),
    )
    .expect("write");
    let text = load_server_config(&settings(&path, "", None), "localhost")
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("encrypted") && text.contains("PKCS#12"),
        "{text}"
    );
}

#[test]
fn pkcs12_by_alias_wrong_alias_and_wrong_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_generated_p12(dir.path(), "server", "secret");
    let tls = load_server_config(&settings(&path, "secret", Some("SERVER")), "localhost")
        .expect("alias matches without case");
    assert!(tls.description.contains("PKCS#12"), "{}", tls.description);
    assert!(
        tls.description.contains("\"server\""),
        "{}",
        tls.description
    );
    load_server_config(&settings(&path, "secret", None), "localhost").expect("first key entry");

    let error = load_server_config(&settings(&path, "secret", Some("wso2carbon")), "localhost")
        .unwrap_err();
    match &error {
        TlsError::AliasNotFound { present, .. } => assert_eq!(present, &["server".to_owned()]),
        other => panic!("expected AliasNotFound, got {other}"),
    }
    let text = error.to_string();
    assert!(
        text.contains("[keystore.primary] alias") && text.contains("\"server\""),
        "{text}"
    );

    let error = load_server_config(&settings(&path, "wrong", None), "localhost").unwrap_err();
    assert!(matches!(error, TlsError::WrongPassword { .. }), "{error}");
    assert!(
        error.to_string().contains("[keystore.primary] password"),
        "{error}"
    );
}

#[test]
fn pkcs12_made_by_keytool() {
    let path = fixture("keytool-ec.p12");
    let tls = load_server_config(
        &settings(&path, "storepass1", Some("ecserver")),
        "localhost",
    )
    .expect("keytool PKCS#12 loads");
    assert!(
        tls.description.contains("CN=localhost"),
        "{}",
        tls.description
    );
}

#[test]
fn jks_key_entry_with_separate_key_password() {
    let path = fixture("server-rsa.jks");
    let mut ks = settings(&path, "storepass1", Some("server"));
    ks.key_password = Some("keypass1".to_owned());
    let tls = load_server_config(&ks, "localhost").expect("JKS RSA loads");
    assert!(
        tls.description.starts_with("JKS keystore"),
        "{}",
        tls.description
    );

    // key_password falls back to password, which is not the key's here
    ks.key_password = None;
    let error = load_server_config(&ks, "localhost").unwrap_err();
    assert!(
        matches!(&error, TlsError::WrongKeyPassword { alias, .. } if alias == "server"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("[keystore.primary] key_password"),
        "{error}"
    );
}

#[test]
fn jks_ec_first_key_entry_without_alias() {
    let path = fixture("server-ec.jks");
    let tls = load_server_config(&settings(&path, "storepass1", None), "localhost").expect("loads");
    assert!(
        tls.description.contains("\"ecserver\""),
        "{}",
        tls.description
    );
}

#[test]
fn jks_wrong_password_and_wrong_alias() {
    let path = fixture("server-ec.jks");
    let error = load_server_config(&settings(&path, "nope", None), "localhost").unwrap_err();
    assert!(
        matches!(error, TlsError::WrongPassword { format: "JKS", .. }),
        "{error}"
    );
    let error = load_server_config(
        &settings(&path, "storepass1", Some("wso2carbon")),
        "localhost",
    )
    .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("\"ecserver\""), "{text}");
}

#[test]
fn jks_truststore_as_keystore_has_no_private_key() {
    let path = fixture("truststore.jks");
    let error = load_server_config(&settings(&path, "trustpass", None), "localhost").unwrap_err();
    assert!(matches!(error, TlsError::NoPrivateKey { .. }), "{error}");
    let error = load_server_config(
        &settings(&path, "trustpass", Some("server-rsa")),
        "localhost",
    )
    .unwrap_err();
    assert!(error.to_string().contains("trusted certificate"), "{error}");
}

#[test]
fn jceks_gets_the_keytool_conversion_command() {
    let path = fixture("server.jceks");
    let error = load_server_config(&settings(&path, "storepass1", None), "localhost").unwrap_err();
    let text = error.to_string();
    let expected = format!(
        "keytool -importkeystore -srckeystore {0} -srcstoretype JCEKS -destkeystore {0}.p12 -deststoretype PKCS12",
        path.display()
    );
    assert!(text.contains(&expected), "{text}");
    assert!(text.contains("[keystore.primary] file_name"), "{text}");
}

#[test]
fn truststores_in_every_format() {
    let jks = load_trusted_certificates(&TruststoreSettings {
        path: fixture("truststore.jks"),
        password: "trustpass".into(),
    })
    .expect("JKS truststore");
    assert_eq!(jks.len(), 2);
    let p12 = load_trusted_certificates(&TruststoreSettings {
        path: fixture("truststore.p12"),
        password: "trustpass".into(),
    })
    .expect("PKCS#12 truststore");
    assert_eq!(p12.len(), 1);
    let error = load_trusted_certificates(&TruststoreSettings {
        path: fixture("truststore.p12"),
        password: "wrong".into(),
    })
    .unwrap_err();
    assert!(
        error.to_string().contains("[truststore] password"),
        "{error}"
    );
    let error = load_trusted_certificates(&TruststoreSettings {
        path: fixture("truststore.jks"),
        password: "wrong".into(),
    })
    .unwrap_err();
    assert!(matches!(error, TlsError::WrongPassword { .. }), "{error}");

    let dir = tempfile::tempdir().expect("tempdir");
    let (_, a) = rcgen_key_and_cert();
    let (_, b) = rcgen_key_and_cert();
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, format!("{}{}", a.pem(), b.pem())).expect("write");
    let pem = load_trusted_certificates(&TruststoreSettings {
        path,
        password: String::new(),
    })
    .expect("PEM truststore");
    assert_eq!(pem.len(), 2);
}

#[test]
fn unknown_relative_and_oversized_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "hello").expect("write");
    let error = load_server_config(&settings(&path, "", None), "localhost").unwrap_err();
    assert!(matches!(error, TlsError::UnknownFormat { .. }), "{error}");

    let error =
        load_server_config(&settings(Path::new("conf/ks.p12"), "", None), "localhost").unwrap_err();
    assert!(matches!(error, TlsError::RelativePath { .. }), "{error}");

    let path = dir.path().join("big.p12");
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(MAX_KEYSTORE_FILE_BYTES).expect("size");
    let error = load_server_config(&settings(&path, "", None), "localhost").unwrap_err();
    assert!(
        !matches!(error, TlsError::TooLarge { .. }),
        "at the limit: {error}"
    );
    file.set_len(MAX_KEYSTORE_FILE_BYTES + 1).expect("size");
    let error = load_server_config(&settings(&path, "", None), "localhost").unwrap_err();
    assert!(matches!(error, TlsError::TooLarge { .. }), "{error}");
}

/// Every proper prefix of every keystore is an error, never a panic; a byte flipped in a JKS
/// file breaks its integrity digest.
#[test]
fn truncated_and_corrupt_files_do_not_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let generated = write_generated_p12(dir.path(), "server", "secret");
    let (key, cert) = rcgen_key_and_cert();
    let cases: Vec<(Vec<u8>, &str, bool)> = vec![
        (
            std::fs::read(fixture("server-rsa.jks")).expect("fixture"),
            "storepass1",
            true,
        ),
        (
            std::fs::read(fixture("server-ec.jks")).expect("fixture"),
            "storepass1",
            true,
        ),
        (
            std::fs::read(fixture("truststore.jks")).expect("fixture"),
            "trustpass",
            true,
        ),
        (
            std::fs::read(fixture("keytool-ec.p12")).expect("fixture"),
            "storepass1",
            true,
        ),
        (
            std::fs::read(&generated).expect("generated"),
            "secret",
            true,
        ),
        (
            format!("{}{}", cert.pem(), key.serialize_pem()).into_bytes(),
            "",
            false,
        ),
    ];
    let path = dir.path().join("prefix.bin");
    for (data, password, binary) in cases {
        for length in 0..data.len() {
            std::fs::write(&path, &data[..length]).expect("write");
            let keystore = load_server_config(&settings(&path, password, None), "localhost");
            let truststore = load_trusted_certificates(&TruststoreSettings {
                path: path.clone(),
                password: password.to_owned(),
            });
            if binary {
                assert!(
                    keystore.is_err(),
                    "prefix {length} of {} bytes loaded",
                    data.len()
                );
                assert!(
                    truststore.is_err(),
                    "prefix {length} of {} bytes loaded",
                    data.len()
                );
            }
        }
    }
    let jks = std::fs::read(fixture("server-ec.jks")).expect("fixture");
    for index in 0..jks.len() {
        let mut corrupt = jks.clone();
        corrupt[index] ^= 0x5A;
        std::fs::write(&path, &corrupt).expect("write");
        assert!(
            load_server_config(&settings(&path, "storepass1", None), "localhost").is_err(),
            "byte {index} flipped still loaded"
        );
    }
}

#[test]
fn self_signed_generation_then_reload() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir
        .path()
        .join("repository/resources/security/wso2carbon.jks");
    let mut ks = settings(&path, "wso2carbon", Some("wso2carbon"));
    ks.key_password = Some("wso2carbon".into());
    let first = load_server_config(&ks, "mi.example.test").expect("generates");
    assert!(first.generated);
    assert!(
        first.description.contains("CN=mi.example.test"),
        "{}",
        first.description
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let second = load_server_config(&ks, "mi.example.test").expect("reloads");
    assert!(!second.generated);
    assert!(
        second.description.starts_with("PKCS#12"),
        "{}",
        second.description
    );
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
        .expect("dir")
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");

    // Java's keytool reads what we wrote, whatever the extension (skipped without Java).
    match std::process::Command::new("keytool")
        .args(["-list", "-keystore"])
        .arg(&path)
        .args(["-storepass", "wso2carbon", "-alias", "wso2carbon"])
        .output()
    {
        Ok(output) => {
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(output.status.success(), "keytool -list failed: {stdout}");
            assert!(stdout.contains("PrivateKeyEntry"), "{stdout}");
        }
        Err(error) => println!("skipping the keytool check: {error}"),
    }
}
