//! The secure vault against a real keystore key and ciphertext made by Java's
//! `RSA/ECB/OAEPwithSHA1andMGF1Padding` and by OpenSSL (tests/fixtures/vault/README.md).

use std::path::{Path, PathBuf};

use super::*;
use crate::properties::SystemProperties;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/vault")
        .join(name)
}

fn fixture_line(name: &str, line: usize) -> String {
    std::fs::read_to_string(fixture(name))
        .unwrap()
        .lines()
        .nth(line)
        .unwrap()
        .to_string()
}

fn java_ciphertext(line: usize) -> String {
    fixture_line("java-ciphertext.txt", line)
}

/// Reads the PKCS#8 key exported from the fixture keystore, and remembers what it was asked for.
struct FixtureLoader {
    asked: std::cell::RefCell<Vec<VaultKeystore>>,
}

impl FixtureLoader {
    fn new() -> Self {
        FixtureLoader {
            asked: Default::default(),
        }
    }
}

impl KeyLoader for FixtureLoader {
    fn private_key_der(&self, keystore: &VaultKeystore) -> Result<Vec<u8>, String> {
        self.asked.borrow_mut().push(keystore.clone());
        std::fs::read(fixture("key.pk8.der")).map_err(|e| e.to_string())
    }
}

fn key() -> VaultKey {
    VaultKey::from_der(&std::fs::read(fixture("key.pk8.der")).unwrap()).unwrap()
}

fn doc(text: &str) -> Document {
    Document::parse(
        Path::new("/h/conf/deployment.toml"),
        text,
        &SystemProperties::default(),
    )
    .unwrap()
}

#[test]
fn ciphertext_of_java_oaep_sha1_decrypts() {
    let key = key();
    assert_eq!(key.decrypt(&java_ciphertext(0)).unwrap(), "admin");
    assert_eq!(key.decrypt(&java_ciphertext(1)).unwrap(), "pässwörd €");
}

#[test]
fn ciphertext_of_openssl_pkeyutl_oaep_sha1_decrypts() {
    let text = fixture_line("openssl-ciphertext.txt", 0);
    assert_eq!(key().decrypt(&text).unwrap(), "from-openssl");
}

#[test]
fn pkcs1_v15_ciphertext_is_refused() {
    // Java's plain "RSA" (securevault's default without the transformation MI sets).
    let text = fixture_line("pkcs1v15-ciphertext.txt", 0);
    assert_eq!(key().decrypt(&text), Err(VaultError::Decrypt));
}

#[test]
fn what_the_cipher_tool_writes_decrypts_and_differs_each_time() {
    let key = key();
    let a = key.encrypt("s3cret").unwrap();
    let b = key.encrypt("s3cret").unwrap();
    // OAEP is randomised, as Java's is: the same text never gives the same ciphertext.
    assert_ne!(a, b);
    assert_eq!(key.decrypt(&a).unwrap(), "s3cret");
    // 2048-bit key: 256 bytes, 344 base64 characters, as MI's values.
    assert_eq!(a.len(), 344);
}

#[test]
fn base64_with_line_breaks_decrypts() {
    let text = java_ciphertext(0);
    let wrapped = format!("{}\n  {}", &text[..76], &text[76..]);
    assert_eq!(key().decrypt(&wrapped).unwrap(), "admin");
}

#[test]
fn tampered_or_malformed_ciphertext_is_refused() {
    let key = key();
    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(java_ciphertext(0))
        .unwrap();
    bytes[10] ^= 1;
    let tampered = base64::engine::general_purpose::STANDARD.encode(&bytes);
    assert_eq!(key.decrypt(&tampered), Err(VaultError::Decrypt));
    assert!(matches!(
        key.decrypt("not base64!"),
        Err(VaultError::NotBase64(_))
    ));
}

#[test]
fn ciphertext_at_the_limit_is_tried_and_one_more_character_is_refused() {
    let key = key();
    let at_limit = "A".repeat(MAX_CIPHERTEXT_CHARS);
    assert_eq!(key.decrypt(&at_limit), Err(VaultError::Decrypt));
    let over = "A".repeat(MAX_CIPHERTEXT_CHARS + 1);
    assert_eq!(
        key.decrypt(&over),
        Err(VaultError::TooLong(MAX_CIPHERTEXT_CHARS + 1))
    );
}

#[test]
fn a_non_rsa_key_is_refused() {
    assert!(matches!(
        VaultKey::from_der(b"\x30\x03\x02\x01\x00"),
        Err(VaultError::NotRsa)
    ));
}

#[test]
fn secrets_decrypt_and_secret_placeholders_resolve() {
    let text = format!(
        "[keystore.primary]\nfile_name = \"repository/resources/security/vault.jks\"\npassword = \"sp\"\nalias = \"k\"\n\
         [monitoring.jolokia]\nusername = \"u\"\npassword = \"pre-$secret{{admin}}-post\"\n\
         [secrets]\nadmin = \"{}\"\n'dotted.alias' = \"{}\"\n",
        java_ciphertext(0),
        java_ciphertext(1)
    );
    let mut d = doc(&text);
    let loader = FixtureLoader::new();
    let secrets = open(&mut d, Path::new("/h"), &loader).unwrap();
    assert_eq!(secrets.get("admin"), Some("admin"));
    assert_eq!(secrets.get("dotted.alias"), Some("pässwörd €"));
    assert_eq!(
        d.get("monitoring.jolokia.password").unwrap().value,
        Value::String("pre-admin-post".into())
    );
    let asked = loader.asked.borrow();
    assert_eq!(
        asked[0].path,
        Path::new("/h/repository/resources/security/vault.jks")
    );
    assert_eq!(asked[0].password, "sp");
    assert_eq!(asked[0].alias.as_deref(), Some("k"));
    // Debug never shows a plain text.
    assert!(!format!("{secrets:?}").contains("pässwörd"));
}

#[test]
fn the_internal_keystore_wins_key_by_key_over_the_primary() {
    let text = format!(
        "[keystore.primary]\nfile_name = \"p.jks\"\npassword = \"pp\"\nalias = \"pa\"\n\
         [keystore.internal]\nfile_name = \"i.p12\"\nalias = \"ia\"\n\
         [secrets]\nadmin = \"{}\"\n",
        java_ciphertext(0)
    );
    let mut d = doc(&text);
    let loader = FixtureLoader::new();
    open(&mut d, Path::new("/h"), &loader).unwrap();
    let asked = &loader.asked.borrow()[0];
    assert_eq!(asked.path, Path::new("/h/i.p12"));
    assert_eq!(asked.path_key, "[keystore.internal] file_name");
    assert_eq!(asked.password, "pp");
    assert_eq!(asked.alias.as_deref(), Some("ia"));
}

#[test]
fn without_secrets_no_keystore_is_read() {
    let mut d = doc("[server]\nhostname = \"h\"\n");
    let loader = FixtureLoader::new();
    assert!(open(&mut d, Path::new("/h"), &loader).unwrap().is_empty());
    assert!(loader.asked.borrow().is_empty());
}

#[test]
fn plain_text_secrets_are_an_error_that_names_the_alias_and_line_and_hides_the_text() {
    let mut d = doc("[secrets]\nadmin = \"[hunter2]\"\n");
    let errors = open(&mut d, Path::new("/h"), &FixtureLoader::new()).unwrap_err();
    let message = errors[0].to_string();
    assert!(message.contains("[secrets] admin"), "{message}");
    assert!(message.contains("deployment.toml:2:"), "{message}");
    assert!(message.contains("cipher-tool -Dconfigure"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn undecryptable_secrets_are_an_error_with_alias_line_and_keystore() {
    let mut d = doc("[secrets]\nadmin = \"c2hvcnQ=\"\n");
    let errors = open(&mut d, Path::new("/h"), &FixtureLoader::new()).unwrap_err();
    let message = errors[0].to_string();
    assert!(message.contains("[secrets] admin"), "{message}");
    assert!(message.contains("deployment.toml:2:9"), "{message}");
    assert!(message.contains("wso2carbon.jks"), "{message}");
    assert!(message.contains("does not decrypt"), "{message}");
}

#[test]
fn an_unreadable_keystore_is_reported_on_its_file_name_key() {
    let mut d = doc(&format!(
        "[keystore.primary]\nfile_name = \"x.jks\"\n[secrets]\na = \"{}\"\n",
        java_ciphertext(0)
    ));
    let errors = open(&mut d, Path::new("/h"), &NoKeyLoader).unwrap_err();
    let message = errors[0].to_string();
    assert!(
        message.starts_with("[keystore.primary] file_name"),
        "{message}"
    );
    assert!(message.contains("deployment.toml:2:"), "{message}");
    assert!(message.contains("/h/x.jks"), "{message}");
}

#[test]
fn an_unknown_secret_placeholder_is_an_error() {
    let mut d = doc("[monitoring.jolokia]\npassword = \"$secret{nope}\"\n");
    let errors = open(&mut d, Path::new("/h"), &FixtureLoader::new()).unwrap_err();
    let message = errors[0].to_string();
    assert!(message.contains("$secret{nope}"), "{message}");
    assert!(
        message.contains("no [secrets] entry named nope"),
        "{message}"
    );
}

#[test]
fn the_vault_keystore_password_cannot_come_from_the_vault() {
    let mut d = doc(&format!(
        "[keystore.primary]\npassword = \"$secret{{ks}}\"\n[secrets]\nks = \"{}\"\n",
        java_ciphertext(0)
    ));
    let errors = open(&mut d, Path::new("/h"), &FixtureLoader::new()).unwrap_err();
    assert!(
        errors[0].to_string().contains("own keystore"),
        "{}",
        errors[0]
    );
}

#[test]
fn secrets_at_the_limit_are_read_and_one_more_is_refused() {
    let entries = |n: usize| -> String { (0..n).map(|i| format!("s{i} = \"[x]\"\n")).collect() };
    let at_limit = doc(&format!("[secrets]\n{}", entries(MAX_SECRETS)));
    assert_eq!(secret_entries(&at_limit).unwrap().len(), MAX_SECRETS);
    let over = doc(&format!("[secrets]\n{}", entries(MAX_SECRETS + 1)));
    let errors = secret_entries(&over).unwrap_err();
    assert!(
        errors[0].to_string().contains("MAX_SECRETS"),
        "{}",
        errors[0]
    );
}

#[test]
fn configure_encrypts_plain_values_in_place_and_keeps_the_rest_of_the_file() {
    let text = "# top\n[secrets]\nadmin = \"[adm\\\"in]\" # keep\nready = 'already'\nother = '[o]'\n[server]\nhostname = \"h\"\n";
    let d = doc(text);
    let key = key();
    let (out, aliases) = configure(text, &d, &key).unwrap();
    assert_eq!(aliases, ["admin", "other"]);
    assert!(out.starts_with("# top\n[secrets]\nadmin = \""), "{out}");
    assert!(
        out.contains("\" # keep\nready = 'already'\nother = \""),
        "{out}"
    );
    assert!(out.ends_with("\"\n[server]\nhostname = \"h\"\n"), "{out}");
    let d = doc(&out);
    let entries = secret_entries(&d).unwrap();
    let SecretValue::Encrypted(admin) = &entries[0].value else {
        panic!("admin is still plain: {out}")
    };
    assert_eq!(key.decrypt(admin).unwrap(), "adm\"in");
    // `ready` is not ciphertext, so opening fails on it alone; the encrypted ones decrypt.
    let mut d = d;
    let errors = open(&mut d, Path::new("/h"), &FixtureLoader::new()).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].to_string().contains("[secrets] ready"));
}

#[test]
fn secret_values_follow_the_cipher_tool_bracket_rule() {
    assert_eq!(
        SecretValue::parse("[a b]"),
        SecretValue::Plain("a b".into())
    );
    assert_eq!(SecretValue::parse("[]"), SecretValue::Plain(String::new()));
    assert_eq!(
        SecretValue::parse("abc="),
        SecretValue::Encrypted("abc=".into())
    );
}

#[test]
fn secret_placeholders_inside_arrays_of_tables_resolve() {
    // MI's management users: `[[internal_apis.users]] user.password = "$secret{admin}"`.
    let text = format!(
        "[[internal_apis.users]]\nuser.name = \"admin\"\nuser.password = \"$secret{{admin}}\"\n[secrets]\nadmin = \"{}\"\n",
        java_ciphertext(0)
    );
    let mut d = doc(&text);
    open(&mut d, Path::new("/h"), &FixtureLoader::new()).unwrap();
    let users = format!("{:?}", d.get("internal_apis.users").unwrap().value);
    assert!(users.contains(r#""password": String("admin")"#), "{users}");
}
