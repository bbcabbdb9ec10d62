//! `TlsError`: every way loading TLS material can fail, each message naming the file, the
//! deployment.toml setting, what went wrong and what to do about it.

use std::path::{Path, PathBuf};

/// The deployment.toml table a keystore file came from, so that messages name the right keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreRole {
    /// `[keystore.primary]`: the server certificate and private key.
    Keystore,
    /// `[truststore]`: certificates trusted when connecting to backends.
    Truststore,
}

impl StoreRole {
    /// The TOML table name, e.g. `[keystore.primary]`.
    pub fn section(self) -> &'static str {
        match self {
            StoreRole::Keystore => "[keystore.primary]",
            StoreRole::Truststore => "[truststore]",
        }
    }
}

impl std::fmt::Display for StoreRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.section())
    }
}

/// Errors from loading keystores and truststores or building rustls configurations.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{role} file_name = {path:?}: cannot read the file: {source}. Check the path and its permissions.", path = path.display())]
    Read {
        role: StoreRole,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{role} file_name = {path:?}: the file is {size} bytes, more than the {limit} bytes a keystore may have; point file_name at the keystore itself.", path = path.display())]
    TooLarge {
        role: StoreRole,
        path: PathBuf,
        size: u64,
        limit: u64,
    },

    #[error("{role} file_name = {path:?}: the content is not a keystore this server reads (it is not PEM, PKCS#12 or JKS). Supported: a PEM file with the certificate chain and an unencrypted private key, a PKCS#12 file (.p12/.pfx), or a JKS file.", path = path.display())]
    UnknownFormat { role: StoreRole, path: PathBuf },

    #[error("{role} file_name = {path:?}: the {format} file is damaged: {detail}. Recreate it, or restore it from a backup.", path = path.display())]
    Malformed {
        role: StoreRole,
        path: PathBuf,
        format: &'static str,
        detail: String,
    },

    #[error("{role} password: wrong password for the {format} file {path:?} ({detail}). Set {role} password to the password the file was created with.", path = path.display())]
    WrongPassword {
        role: StoreRole,
        path: PathBuf,
        format: &'static str,
        detail: &'static str,
    },

    #[error("{role} key_password: wrong password for the private key {alias:?} in {path:?} (its integrity check failed). Set {role} key_password to the key's password (when it is not set, password is used).", path = path.display())]
    WrongKeyPassword {
        role: StoreRole,
        path: PathBuf,
        alias: String,
    },

    #[error("{role} alias = {alias:?}: no entry with that alias in {path:?}; the entries present are: {present}. Set {role} alias to one of them.", path = path.display(), present = list_or_none(present))]
    AliasNotFound {
        role: StoreRole,
        path: PathBuf,
        alias: String,
        present: Vec<String>,
    },

    #[error("{role} file_name = {path:?}: {what}. The entries present are: {present}. A server keystore needs a private key entry with its certificate chain.", path = path.display(), present = list_or_none(present))]
    NoPrivateKey {
        role: StoreRole,
        path: PathBuf,
        what: String,
        present: Vec<String>,
    },

    #[error("{role} file_name = {path:?}: {detail}", path = path.display())]
    Pem {
        role: StoreRole,
        path: PathBuf,
        detail: String,
    },

    #[error("{role} file_name = {path:?}: this {format} keystore cannot be read here ({reason}). Convert it to PKCS#12 with\n    {command}\nand point {role} file_name at {converted:?} (PKCS#12 has one password: use the store password as the key password).", path = path.display(), converted = converted.display())]
    ConvertToPkcs12 {
        role: StoreRole,
        path: PathBuf,
        format: &'static str,
        reason: String,
        command: String,
        converted: PathBuf,
    },

    #[error("{role} file_name = {path:?}: rustls rejected the certificate and key: {source}. Check that the private key belongs to the first certificate and is RSA, ECDSA (P-256/P-384) or Ed25519.", path = path.display())]
    Rustls {
        role: StoreRole,
        path: PathBuf,
        source: rustls::Error,
    },

    #[error("{role} file_name = {path:?}: the keystore does not exist and a self-signed one could not be created: {detail}", path = path.display())]
    Generate {
        role: StoreRole,
        path: PathBuf,
        detail: String,
    },

    #[error("{role} file_name = {path:?}: the path must be absolute (the caller resolves it against the server home).", path = path.display())]
    RelativePath { role: StoreRole, path: PathBuf },

    #[error("TLS configuration: {source}")]
    Config { source: rustls::Error },
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items
            .iter()
            .map(|item| format!("{item:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The `keytool` command that converts a JKS/JCEKS store at `path` to PKCS#12 beside it.
pub fn keytool_convert_command(path: &Path, store_type: &str) -> (String, PathBuf) {
    let mut converted = path.as_os_str().to_owned();
    converted.push(".p12");
    let converted = PathBuf::from(converted);
    let command = format!(
        "keytool -importkeystore -srckeystore {} -srcstoretype {store_type} -destkeystore {} -deststoretype PKCS12",
        shell_quote(&path.display().to_string()),
        shell_quote(&converted.display().to_string()),
    );
    (command, converted)
}

fn shell_quote(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@,".contains(c));
    if plain && !text.is_empty() {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keytool_command_quotes_paths_with_spaces() {
        let (command, converted) = keytool_convert_command(Path::new("/opt/mi home/ks.jks"), "JKS");
        assert_eq!(
            command,
            "keytool -importkeystore -srckeystore '/opt/mi home/ks.jks' -srcstoretype JKS \
             -destkeystore '/opt/mi home/ks.jks.p12' -deststoretype PKCS12"
        );
        assert_eq!(converted, PathBuf::from("/opt/mi home/ks.jks.p12"));
    }

    #[test]
    fn alias_not_found_lists_aliases() {
        let error = TlsError::AliasNotFound {
            role: StoreRole::Keystore,
            path: PathBuf::from("/k.p12"),
            alias: "wso2carbon".into(),
            present: vec!["server".into(), "ca".into()],
        };
        let text = error.to_string();
        assert!(
            text.contains("[keystore.primary] alias = \"wso2carbon\""),
            "{text}"
        );
        assert!(text.contains("\"server\", \"ca\""), "{text}");
    }
}
