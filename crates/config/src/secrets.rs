//! MI's secure vault: the `[secrets]` table of deployment.toml, decrypted once at start with the
//! vault keystore's private key, and the `$secret{alias}` placeholders that read it.
//!
//! As MI 4.x defines it (docs-mi "Encrypting Secrets using WSO2 Secure Vault"; micro-integrator
//! `distribution/src/conf/ciphertool.sh` and `carbon.properties`):
//! - `alias = "[plain text]"` is input for the cipher tool only. `ciphertool.sh -Dconfigure`
//!   replaces it in deployment.toml with the ciphertext, and the config tool copies `[secrets]` into
//!   `conf/security/cipher-text.properties` (template `cipher-text.properties.j2`), which the
//!   runtime decrypts (securevault `FileBaseSecretRepository.init`). A value still in brackets is
//!   not ciphertext: MI cannot decrypt it, so Conflux refuses to start and says to run the tool.
//! - Ciphertext is base64 of `RSA/ECB/OAEPwithSHA1andMGF1Padding` (`-Dorg.wso2.CipherTransformation`
//!   in ciphertool.sh and carbon.properties): OAEP with SHA-1, MGF1-SHA-1 and an empty label, with
//!   the public key of the internal keystore. `[keystore.internal]` defaults key by key to
//!   `[keystore.primary]` (config-tool `default.json`: `keystore.internal.* = $ref{keystore.primary.*}`).
//! - Dynamic secrets (`alias = "$env{VAR}"`) hold ciphertext in the variable; `$env{}` is resolved
//!   before decryption, so they work the same way.
//!
//! Every failure is a configuration error naming `[secrets] alias`, file:line and why; nothing
//! starts with a secret that cannot be read. Plain text never appears in an error or in `Debug`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::DecodePrivateKey as _;
use sha1::Sha1;

use crate::document::{Document, Entry, Value};
use crate::error::{ConfigError, Origin};
use crate::settings::{DEFAULT_KEYSTORE_ALIAS, DEFAULT_KEYSTORE_FILE, DEFAULT_KEYSTORE_PASSWORD};

/// The cipher MI's cipher tool and secure vault use (ciphertool.sh `-Dorg.wso2.CipherTransformation`).
pub const CIPHER_TRANSFORMATION: &str = "RSA/ECB/OAEPwithSHA1andMGF1Padding";

/// Most `[secrets]` entries read. MI ships 7 in cipher-text.properties; thousands is a mistake.
pub const MAX_SECRETS: usize = 1024;

/// Longest ciphertext accepted, in characters. One RSA block of a 16384-bit key is 2732 base64
/// characters; anything longer is not one value of the cipher tool.
pub const MAX_CIPHERTEXT_CHARS: usize = 4096;

/// The placeholder that reads a secret in deployment.toml values.
pub const SECRET_PLACEHOLDER: &str = "$secret{";

/// The vault's keystore, `[keystore.internal]` falling back to `[keystore.primary]` key by key.
#[derive(Clone, PartialEq, Eq)]
pub struct VaultKeystore {
    /// `file_name`, absolute.
    pub path: PathBuf,
    /// The key `file_name` was read from (`[keystore.internal] file_name`), for messages.
    pub path_key: String,
    pub origin: Origin,
    pub password: String,
    /// `alias`: the key entry the cipher tool encrypts with.
    pub alias: Option<String>,
    /// `key_password`; `None` means `password`.
    pub key_password: Option<String>,
}

impl fmt::Debug for VaultKeystore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultKeystore")
            .field("path", &self.path)
            .field("path_key", &self.path_key)
            .field("alias", &self.alias)
            .finish_non_exhaustive()
    }
}

/// Reads the private key of a keystore. The binary supplies one backed by the TLS keystore reader
/// (JKS, PKCS#12, PEM); the configuration crate reads no keystore formats itself.
pub trait KeyLoader {
    /// The key entry's private key as DER (PKCS#8 or PKCS#1), or why it cannot be read.
    fn private_key_der(&self, keystore: &VaultKeystore) -> Result<Vec<u8>, String>;
}

/// A loader for programs that read no keystores: any encrypted secret is then an error.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoKeyLoader;

impl KeyLoader for NoKeyLoader {
    fn private_key_der(&self, _keystore: &VaultKeystore) -> Result<Vec<u8>, String> {
        Err("this program was built without a keystore reader".to_string())
    }
}

/// Why a secret could not be encrypted or decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("the key is not an RSA private key (the cipher tool needs RSA)")]
    NotRsa,
    #[error("the value is not base64 ({0})")]
    NotBase64(String),
    #[error(
        "the value is {0} characters, longer than one RSA block (MAX_CIPHERTEXT_CHARS {MAX_CIPHERTEXT_CHARS})"
    )]
    TooLong(usize),
    #[error(
        "it does not decrypt with this key ({CIPHER_TRANSFORMATION}): encrypted with another keystore, or not made by the cipher tool"
    )]
    Decrypt,
    #[error("the decrypted bytes are not UTF-8")]
    NotUtf8,
    #[error("cannot encrypt: {0}")]
    Encrypt(String),
}

/// The RSA key the vault decrypts (and the cipher tool encrypts) with.
pub struct VaultKey {
    key: rsa::PrivateKey,
}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultKey(..)")
    }
}

impl VaultKey {
    /// A key from DER, PKCS#8 (what JKS and PKCS#12 hold) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    pub fn from_der(der: &[u8]) -> Result<VaultKey, VaultError> {
        rsa::PrivateKey::from_pkcs8_der(der)
            .or_else(|_| rsa::PrivateKey::from_pkcs1_der(der))
            .map(|key| VaultKey { key })
            .map_err(|_| VaultError::NotRsa)
    }

    /// Decrypts a cipher-tool value: base64 (whitespace ignored, as axiom's Base64Utils does) of
    /// one RSA-OAEP block; the plain text is UTF-8 (Java's `new String(bytes)` on UTF-8 platforms).
    pub fn decrypt(&self, ciphertext: &str) -> Result<String, VaultError> {
        let compact: String = ciphertext
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        if compact.len() > MAX_CIPHERTEXT_CHARS {
            return Err(VaultError::TooLong(compact.len()));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|e| VaultError::NotBase64(e.to_string()))?;
        let plain = self
            .key
            .oaep_decrypt::<Sha1>(&bytes)
            .map_err(|_| VaultError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| VaultError::NotUtf8)
    }

    /// Encrypts `plain` as MI's cipher tool does: OAEP (SHA-1, MGF1-SHA-1, empty label) with the
    /// public key, base64 without line breaks.
    pub fn encrypt(&self, plain: &str) -> Result<String, VaultError> {
        let public = self.key.to_public_key();
        let bytes = public
            .oaep_encrypt::<Sha1>(plain.as_bytes())
            .map_err(|e| VaultError::Encrypt(e.to_string()))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
    }
}

/// The decrypted secrets, by alias. `Debug` shows the aliases only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    values: Arc<BTreeMap<String, String>>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.values.keys()).finish()
    }
}

impl Secrets {
    pub fn get(&self, alias: &str) -> Option<&str> {
        self.values.get(alias).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// (alias, plain text) pairs, for the run-time lookups (`wso2-vault`, `wso2:vault-lookup`).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// One `[secrets]` entry as written.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretEntry {
    pub alias: String,
    /// The flattened document key (`secrets.alias`).
    pub key: String,
    pub value: SecretValue,
    pub origin: Origin,
}

impl fmt::Debug for SecretEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretEntry")
            .field("alias", &self.alias)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// A `[secrets]` value: cipher-tool input or output. `Debug` hides plain text.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretValue {
    /// `"[text]"`: plain text waiting for the cipher tool (the brackets removed).
    Plain(String),
    /// Anything else: ciphertext.
    Encrypted(String),
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretValue::Plain(_) => f.write_str("Plain(..)"),
            SecretValue::Encrypted(text) => f.debug_tuple("Encrypted").field(text).finish(),
        }
    }
}

impl SecretValue {
    /// The cipher tool's rule: a value in square brackets is plain text
    /// (docs-mi: `server_secret = "[secret_1]"`).
    pub fn parse(text: &str) -> SecretValue {
        let trimmed = text.trim();
        match trimmed
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
        {
            Some(plain) => SecretValue::Plain(plain.to_string()),
            None => SecretValue::Encrypted(trimmed.to_string()),
        }
    }
}

fn display_alias(alias: &str) -> String {
    format!("[secrets] {alias}")
}

/// The entries of `[secrets]`, in document order of keys.
pub fn secret_entries(doc: &Document) -> Result<Vec<SecretEntry>, Vec<ConfigError>> {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for entry in doc.entries() {
        let Some(rest) = entry.key.strip_prefix("secrets.") else {
            continue;
        };
        let alias = rest
            .strip_prefix('\'')
            .and_then(|a| a.strip_suffix('\''))
            .unwrap_or(rest)
            .to_string();
        match &entry.value {
            Value::String(text) => entries.push(SecretEntry {
                alias,
                key: entry.key.clone(),
                value: SecretValue::parse(text),
                origin: entry.origin.clone(),
            }),
            other => errors.push(ConfigError::InvalidValue {
                key: display_alias(&alias),
                origin: entry.origin.clone(),
                value: format!("a {}", other.type_name()),
                expected: "a string: \"[plain text]\" for the cipher tool, or its ciphertext"
                    .to_string(),
            }),
        }
    }
    if entries.len() + errors.len() > MAX_SECRETS {
        return Err(vec![ConfigError::InvalidValue {
            key: "[secrets]".to_string(),
            origin: entries
                .get(MAX_SECRETS)
                .map(|e| e.origin.clone())
                .unwrap_or(Origin::Default),
            value: format!("{} entries", entries.len() + errors.len()),
            expected: format!("at most {MAX_SECRETS} (MAX_SECRETS)"),
        }]);
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors)
    }
}

/// The vault keystore: each of `file_name`, `password`, `alias`, `key_password` from
/// `[keystore.internal]`, else `[keystore.primary]`, else MI's default.
pub fn vault_keystore(doc: &Document, home: &Path) -> Result<VaultKeystore, ConfigError> {
    let pick = |name: &str| -> Option<&Entry> {
        doc.get(&format!("keystore.internal.{name}"))
            .or_else(|| doc.get(&format!("keystore.primary.{name}")))
    };
    let text = |name: &str| -> Result<Option<(String, &Entry)>, ConfigError> {
        let Some(entry) = pick(name) else {
            return Ok(None);
        };
        let value = match &entry.value {
            Value::String(s) => s.clone(),
            other => other.display(),
        };
        // The vault needs this keystore open before any secret can be read.
        if value.contains(SECRET_PLACEHOLDER) {
            return Err(ConfigError::Placeholder {
                key: format!("[{}] {name}", table_of(&entry.key)),
                origin: entry.origin.clone(),
                placeholder: value,
                reason: "the secure vault's own keystore cannot take its values from the vault"
                    .to_string(),
            });
        }
        Ok(Some((value, entry)))
    };
    let (file, path_key, origin) = match text("file_name")? {
        Some((file, entry)) => (
            file,
            format!("[{}] file_name", table_of(&entry.key)),
            entry.origin.clone(),
        ),
        None => (
            DEFAULT_KEYSTORE_FILE.to_string(),
            "[keystore.internal] file_name".to_string(),
            Origin::Default,
        ),
    };
    Ok(VaultKeystore {
        path: home.join(file),
        path_key,
        origin,
        password: text("password")?
            .map(|(v, _)| v)
            .unwrap_or_else(|| DEFAULT_KEYSTORE_PASSWORD.to_string()),
        alias: Some(
            text("alias")?
                .map(|(v, _)| v)
                .unwrap_or_else(|| DEFAULT_KEYSTORE_ALIAS.to_string()),
        ),
        key_password: text("key_password")?.map(|(v, _)| v),
    })
}

fn table_of(key: &str) -> &str {
    key.rsplit_once('.').map_or(key, |(table, _)| table)
}

/// Loads the vault key, reporting a failure against the keystore's `file_name` key.
pub fn load_key(keystore: &VaultKeystore, loader: &dyn KeyLoader) -> Result<VaultKey, ConfigError> {
    let failed = |reason: String| ConfigError::InvalidValue {
        key: keystore.path_key.clone(),
        origin: keystore.origin.clone(),
        value: keystore.path.display().to_string(),
        expected: format!(
            "the keystore whose RSA key the cipher tool encrypted [secrets] with: {reason}"
        ),
    };
    let der = loader.private_key_der(keystore).map_err(failed)?;
    VaultKey::from_der(&der).map_err(|e| failed(e.to_string()))
}

/// Opens the vault of `doc`: decrypts every `[secrets]` entry and replaces each `$secret{alias}`
/// in the document's values. The keystore is read only when there is ciphertext to decrypt.
pub fn open(
    doc: &mut Document,
    home: &Path,
    loader: &dyn KeyLoader,
) -> Result<Secrets, Vec<ConfigError>> {
    let entries = secret_entries(doc)?;
    let uses = uses_secrets(doc);
    if entries.is_empty() && !uses {
        return Ok(Secrets::default());
    }
    let mut errors = Vec::new();
    for entry in &entries {
        if let SecretValue::Plain(_) = entry.value {
            errors.push(ConfigError::InvalidValue {
                key: display_alias(&entry.alias),
                origin: entry.origin.clone(),
                value: "\"[...]\" (plain text)".to_string(),
                expected: "ciphertext: encrypt the [secrets] plain-text values with \
                           `conflux cipher-tool -Dconfigure` (MI: `ciphertool.sh -Dconfigure`); \
                           MI's secure vault cannot decrypt a bracketed value either"
                    .to_string(),
            });
        }
    }
    let encrypted: Vec<(&SecretEntry, &str)> = entries
        .iter()
        .filter_map(|e| match &e.value {
            SecretValue::Encrypted(text) => Some((e, text.as_str())),
            SecretValue::Plain(_) => None,
        })
        .collect();
    let mut values = BTreeMap::new();
    if !encrypted.is_empty() {
        let keystore = vault_keystore(doc, home).map_err(|e| vec![e])?;
        let key = load_key(&keystore, loader).map_err(|e| vec![e])?;
        for (entry, text) in encrypted {
            match key.decrypt(text) {
                Ok(plain) => {
                    values.insert(entry.alias.clone(), plain);
                }
                Err(e) => errors.push(ConfigError::InvalidValue {
                    key: display_alias(&entry.alias),
                    origin: entry.origin.clone(),
                    value: format!("ciphertext of {} characters", text.chars().count()),
                    expected: format!(
                        "a value of the cipher tool made with {} (alias {}): {e}",
                        keystore.path.display(),
                        keystore.alias.as_deref().unwrap_or("the first key")
                    ),
                }),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let declared: Vec<String> = entries.iter().map(|e| e.alias.clone()).collect();
    resolve_placeholders(doc, &values, &declared)?;
    Ok(Secrets {
        values: Arc::new(values),
    })
}

/// Whether a value outside `[secrets]` uses `$secret{}`.
fn uses_secrets(doc: &Document) -> bool {
    fn uses(value: &Value) -> bool {
        match value {
            Value::String(s) => s.contains(SECRET_PLACEHOLDER),
            Value::Array(items) => items.iter().any(uses),
            Value::Table(map) => map.values().any(uses),
            _ => false,
        }
    }
    doc.entries()
        .any(|e| !e.key.starts_with("secrets.") && uses(&e.value))
}

fn resolve_placeholders(
    doc: &mut Document,
    values: &BTreeMap<String, String>,
    declared: &[String],
) -> Result<(), Vec<ConfigError>> {
    let mut errors = Vec::new();
    for entry in doc.entries_mut() {
        let Entry { key, value, origin } = entry;
        if key.starts_with("secrets.") {
            continue;
        }
        if let Err(e) = resolve_value(value, values, declared, (key, origin)) {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn resolve_value(
    value: &mut Value,
    values: &BTreeMap<String, String>,
    declared: &[String],
    at: (&str, &Origin),
) -> Result<(), ConfigError> {
    match value {
        Value::String(s) if s.contains(SECRET_PLACEHOLDER) => {
            *s = replace_in(s, values, declared, at)?;
            Ok(())
        }
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|item| resolve_value(item, values, declared, at)),
        Value::Table(map) => map
            .values_mut()
            .try_for_each(|item| resolve_value(item, values, declared, at)),
        _ => Ok(()),
    }
}

fn replace_in(
    text: &str,
    values: &BTreeMap<String, String>,
    declared: &[String],
    at: (&str, &Origin),
) -> Result<String, ConfigError> {
    let error = |placeholder: &str, reason: String| ConfigError::Placeholder {
        key: at.0.to_string(),
        origin: at.1.clone(),
        placeholder: placeholder.to_string(),
        reason,
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(SECRET_PLACEHOLDER) {
        let after = &rest[start + SECRET_PLACEHOLDER.len()..];
        let Some(end) = after.find('}') else {
            return Err(error(&rest[start..], "missing closing `}`".to_string()));
        };
        let alias = &after[..end];
        let placeholder = &rest[start..start + SECRET_PLACEHOLDER.len() + end + 1];
        let Some(secret) = values.get(alias) else {
            let reason = if declared.iter().any(|d| d == alias) {
                format!("[secrets] {alias} has no value")
            } else {
                format!("there is no [secrets] entry named {alias}")
            };
            return Err(error(placeholder, reason));
        };
        out.push_str(&rest[..start]);
        out.push_str(secret);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `ciphertool.sh -Dconfigure` on deployment.toml's text: every `"[plain]"` value of `[secrets]`
/// replaced by its ciphertext, the rest of the file byte for byte. Returns the new text and the
/// aliases encrypted.
pub fn configure(
    text: &str,
    doc: &Document,
    key: &VaultKey,
) -> Result<(String, Vec<String>), Vec<ConfigError>> {
    let entries = secret_entries(doc)?;
    let mut edits = Vec::new();
    let mut errors = Vec::new();
    for entry in &entries {
        let SecretValue::Plain(plain) = &entry.value else {
            continue;
        };
        let Origin::File { line, column, .. } = &entry.origin else {
            continue;
        };
        let literal = offset_of(text, *line, *column).and_then(|at| {
            let len = string_literal_len(&text[at..])?;
            Some((at, len))
        });
        let Some((at, len)) = literal else {
            errors.push(ConfigError::InvalidValue {
                key: display_alias(&entry.alias),
                origin: entry.origin.clone(),
                value: "\"[...]\"".to_string(),
                expected: "a one-line \"...\" or '...' string the cipher tool can replace"
                    .to_string(),
            });
            continue;
        };
        match key.encrypt(plain) {
            Ok(cipher) => edits.push((at, len, cipher, entry.alias.clone())),
            Err(e) => errors.push(ConfigError::InvalidValue {
                key: display_alias(&entry.alias),
                origin: entry.origin.clone(),
                value: "\"[...]\"".to_string(),
                expected: e.to_string(),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    edits.sort_by_key(|(at, ..)| *at);
    let mut out = String::with_capacity(text.len() + edits.len() * 400);
    let mut copied = 0;
    let mut aliases = Vec::new();
    for (at, len, cipher, alias) in edits {
        out.push_str(&text[copied..at]);
        out.push('"');
        out.push_str(&cipher);
        out.push('"');
        copied = at + len;
        aliases.push(alias);
    }
    out.push_str(&text[copied..]);
    Ok((out, aliases))
}

/// Byte offset of a 1-based line and (character) column.
fn offset_of(text: &str, line: usize, column: usize) -> Option<usize> {
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n').nth(line - 2).map(|(i, _)| i + 1)?
    };
    let line_text = &text[line_start..];
    line_text
        .char_indices()
        .nth(column.checked_sub(1)?)
        .map(|(i, _)| line_start + i)
}

/// Length in bytes of the one-line TOML string literal at the start of `s`.
fn string_literal_len(s: &str) -> Option<usize> {
    if s.starts_with("\"\"\"") || s.starts_with("'''") {
        return None;
    }
    let quote = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            '\n' => return None,
            '\\' if quote == '"' && !escaped => escaped = true,
            c if c == quote && !escaped => return Some(i + 1),
            _ => escaped = false,
        }
    }
    None
}

#[cfg(test)]
mod tests;
