//! The secure vault reads its RSA key from a real JKS keystore (made by keytool) and decrypts
//! ciphertext made by Java's `RSA/ECB/OAEPwithSHA1andMGF1Padding`, as MI's cipher tool writes it
//! (fixtures in crates/config/tests/fixtures/vault, see the README there).

use std::path::{Path, PathBuf};

use conflux_config::Origin;
use conflux_config::secrets::{KeyLoader, VaultKey, VaultKeystore, load_key};
use conflux_transport::tls::vault::KeystoreKeyLoader;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../config/tests/fixtures/vault")
        .join(name)
}

fn keystore(path: PathBuf, password: &str, alias: &str) -> VaultKeystore {
    VaultKeystore {
        path,
        path_key: "[keystore.primary] file_name".into(),
        origin: Origin::Default,
        password: password.into(),
        alias: Some(alias.into()),
        key_password: None,
    }
}

#[test]
fn the_jks_key_decrypts_java_cipher_tool_output() {
    let ks = keystore(fixture("wso2carbon.jks"), "wso2carbon", "wso2carbon");
    let key = load_key(&ks, &KeystoreKeyLoader).expect("vault key");
    let lines = std::fs::read_to_string(fixture("java-ciphertext.txt")).unwrap();
    let mut lines = lines.lines();
    assert_eq!(key.decrypt(lines.next().unwrap()).unwrap(), "admin");
    assert_eq!(key.decrypt(lines.next().unwrap()).unwrap(), "pässwörd €");
}

#[test]
fn the_jks_key_is_the_key_exported_for_the_config_tests() {
    let der = KeystoreKeyLoader
        .private_key_der(&keystore(
            fixture("wso2carbon.jks"),
            "wso2carbon",
            "wso2carbon",
        ))
        .unwrap();
    let exported = std::fs::read(fixture("key.pk8.der")).unwrap();
    let from_jks = VaultKey::from_der(&der).unwrap();
    let from_export = VaultKey::from_der(&exported).unwrap();
    let cipher = from_export.encrypt("x").unwrap();
    assert_eq!(from_jks.decrypt(&cipher).unwrap(), "x");
}

#[test]
fn a_wrong_password_or_missing_keystore_says_why() {
    let wrong = KeystoreKeyLoader
        .private_key_der(&keystore(fixture("wso2carbon.jks"), "nope", "wso2carbon"))
        .unwrap_err();
    assert!(wrong.contains("password"), "{wrong}");
    let missing = KeystoreKeyLoader
        .private_key_der(&keystore(
            fixture("missing.jks"),
            "wso2carbon",
            "wso2carbon",
        ))
        .unwrap_err();
    assert!(missing.contains("missing.jks"), "{missing}");
}
