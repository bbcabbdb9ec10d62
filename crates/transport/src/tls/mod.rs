//! TLS material: the server keystore (`[keystore.primary]`) turned into a rustls `ServerConfig`,
//! the truststore (`[truststore]`) plus the system roots turned into a rustls `ClientConfig`, and
//! the self-signed keystore made when the configured one does not exist.
//!
//! Formats are recognised by content, never by extension (a `.jks` file made by Java 9+ is often
//! PKCS#12): JKS (magic `0xFEEDFEED`, decoded by [`jks`]), PKCS#12 (DER, via `p12-keystore`), and
//! PEM (see [`pem`] for where the key is looked for). JCEKS and JKS files this decoder cannot read
//! give an error with the `keytool` command that converts them to PKCS#12. Every config uses the
//! ring provider explicitly, TLS 1.2 and 1.3 only, with the AEAD suites of [`CIPHER_SUITES`]; the
//! server picks by its own order of them.

mod ec_key;
pub mod error;
pub mod jks;
pub mod pem;
pub mod pkcs12;
pub mod self_signed;
pub mod vault;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::RootCertStore;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub use error::{StoreRole, TlsError};

/// Largest keystore or truststore file read, in bytes (MI's truststore is about 200 KiB).
pub const MAX_KEYSTORE_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// ALPN protocols the server offers, in preference order.
pub const SERVER_ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];
/// ALPN protocols the backend client offers (backends are HTTP/1.1 for now).
pub const CLIENT_ALPN: [&[u8]; 1] = [b"http/1.1"];

/// `[keystore.primary]` of deployment.toml, with `file_name` already resolved to an absolute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeystoreSettings {
    /// `file_name`, absolute.
    pub path: PathBuf,
    /// `password`: the store password (ignored for PEM).
    pub password: String,
    /// `alias`: the key entry to use; `None` takes the first private key entry.
    pub alias: Option<String>,
    /// `key_password`: the key entry's password; `None` means `password`.
    pub key_password: Option<String>,
}

/// `[truststore]` of deployment.toml, with `file_name` already resolved to an absolute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruststoreSettings {
    /// `file_name`, absolute.
    pub path: PathBuf,
    /// `password` (ignored for PEM).
    pub password: String,
}

/// A server TLS configuration and what it was made from.
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub config: Arc<rustls::ServerConfig>,
    /// True when the keystore did not exist and a self-signed one was written (log a warning).
    pub generated: bool,
    /// One line for the start-up log: format, file, alias, subject and expiry.
    pub description: String,
    /// Things to log as warnings that do not stop the server (an expired certificate).
    pub warnings: Vec<String>,
    /// The server's own certificate when it is self-signed (issuer = subject), for the backend
    /// client to trust: MI ships `wso2carbon`'s certificate in `client-truststore.jks` too, so a
    /// proxy whose endpoint is the server's own HTTPS port works out of the box.
    pub self_signed: Option<CertificateDer<'static>>,
}

/// The recognised keystore formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeystoreFormat {
    Pem,
    Pkcs12,
    Jks,
    Jceks,
}

impl KeystoreFormat {
    /// Detects the format from the file's content.
    pub fn detect(data: &[u8]) -> Option<KeystoreFormat> {
        if jks::is_jks(data) {
            Some(KeystoreFormat::Jks)
        } else if jks::is_jceks(data) {
            Some(KeystoreFormat::Jceks)
        } else if pkcs12::looks_like_der_sequence(data) {
            Some(KeystoreFormat::Pkcs12)
        } else if pem::is_pem(data) {
            Some(KeystoreFormat::Pem)
        } else {
            None
        }
    }

    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            KeystoreFormat::Pem => "PEM",
            KeystoreFormat::Pkcs12 => "PKCS#12",
            KeystoreFormat::Jks => "JKS",
            KeystoreFormat::Jceks => "JCEKS",
        }
    }
}

/// Cipher suites offered, in server preference order: AEAD only (AES-GCM, ChaCha20-Poly1305) with
/// ECDHE key exchange, TLS 1.3 first, 256-bit before 128-bit (reliability.md §6; testssl.sh
/// rates CBC, RC4, 3DES and static RSA MEDIUM or worse).
pub const CIPHER_SUITES: [rustls::SupportedCipherSuite; 9] = {
    use rustls::crypto::ring::cipher_suite as suite;
    [
        suite::TLS13_AES_256_GCM_SHA384,
        suite::TLS13_AES_128_GCM_SHA256,
        suite::TLS13_CHACHA20_POLY1305_SHA256,
        suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]
};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::CryptoProvider {
        cipher_suites: CIPHER_SUITES.to_vec(),
        ..rustls::crypto::ring::default_provider()
    })
}

const PROTOCOL_VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

fn read_store(role: StoreRole, path: &Path) -> Result<Vec<u8>, TlsError> {
    if !path.is_absolute() {
        return Err(TlsError::RelativePath {
            role,
            path: path.to_owned(),
        });
    }
    let read_error = |source| TlsError::Read {
        role,
        path: path.to_owned(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read_error)?.len();
    if size > MAX_KEYSTORE_FILE_BYTES {
        return Err(TlsError::TooLarge {
            role,
            path: path.to_owned(),
            size,
            limit: MAX_KEYSTORE_FILE_BYTES,
        });
    }
    std::fs::read(path).map_err(read_error)
}

/// The key entry chosen from a keystore.
struct KeyMaterial {
    format: KeystoreFormat,
    alias: Option<String>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

/// Builds the server TLS configuration from the keystore, generating a self-signed keystore for
/// `hostname` first when the file does not exist.
pub fn load_server_config(ks: &KeystoreSettings, hostname: &str) -> Result<ServerTls, TlsError> {
    let role = StoreRole::Keystore;
    if !ks.path.is_absolute() {
        return Err(TlsError::RelativePath {
            role,
            path: ks.path.clone(),
        });
    }
    let generated = match std::fs::symlink_metadata(&ks.path) {
        Ok(_) => false,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            self_signed::generate_keystore(&ks.path, hostname, &ks.password, ks.alias.as_deref())?;
            true
        }
        Err(source) => {
            return Err(TlsError::Read {
                role,
                path: ks.path.clone(),
                source,
            });
        }
    };
    let data = read_store(role, &ks.path)?;
    let material = key_material(&data, ks)?;
    let mut warnings = Vec::new();
    let certificate_summary = describe_certificate(&material.chain[0], &mut warnings, &ks.path);
    let self_signed = material
        .chain
        .first()
        .filter(|certificate| is_self_signed(certificate))
        .cloned();
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(PROTOCOL_VERSIONS)
        .map_err(|source| TlsError::Config { source })?
        .with_no_client_auth()
        .with_single_cert(material.chain, ec_key::with_public_key(material.key))
        .map_err(|source| TlsError::Rustls {
            role,
            path: ks.path.clone(),
            source,
        })?;
    let mut config = config;
    config.alpn_protocols = SERVER_ALPN.iter().map(|p| p.to_vec()).collect();
    // The server's order of CIPHER_SUITES wins over the client's (testssl.sh "server cipher order").
    config.ignore_client_order = true;
    let alias = material
        .alias
        .map(|alias| format!(", alias {alias:?}"))
        .unwrap_or_default();
    Ok(ServerTls {
        config: Arc::new(config),
        generated,
        description: format!(
            "{} keystore {}{alias}{}: {certificate_summary}",
            material.format.name(),
            ks.path.display(),
            if generated {
                " (self-signed, generated)"
            } else {
                ""
            },
        ),
        warnings,
        self_signed,
    })
}

/// True when the certificate names itself as its issuer.
fn is_self_signed(certificate: &CertificateDer<'_>) -> bool {
    x509_parser::parse_x509_certificate(certificate.as_ref())
        .map(|(_, parsed)| parsed.subject().as_raw() == parsed.issuer().as_raw())
        .unwrap_or(false)
}

fn key_material(data: &[u8], ks: &KeystoreSettings) -> Result<KeyMaterial, TlsError> {
    let role = StoreRole::Keystore;
    let path = ks.path.as_path();
    match KeystoreFormat::detect(data) {
        Some(KeystoreFormat::Pem) => {
            let (chain, key) =
                pem::load_key_material(data, path, |sibling| read_store(role, sibling))?;
            Ok(KeyMaterial {
                format: KeystoreFormat::Pem,
                alias: None,
                chain,
                key,
            })
        }
        Some(KeystoreFormat::Pkcs12) => {
            let entry = pkcs12::load_key_entry(
                data,
                path,
                &ks.password,
                ks.key_password.as_deref(),
                ks.alias.as_deref(),
            )?;
            Ok(KeyMaterial {
                format: KeystoreFormat::Pkcs12,
                alias: Some(entry.alias),
                chain: entry.chain,
                key: entry.key,
            })
        }
        Some(format @ (KeystoreFormat::Jks | KeystoreFormat::Jceks)) => {
            jks_key_material(data, ks, format)
        }
        None => Err(TlsError::UnknownFormat {
            role,
            path: path.to_owned(),
        }),
    }
}

fn jks_error(
    role: StoreRole,
    path: &Path,
    format: KeystoreFormat,
    error: jks::JksError,
) -> TlsError {
    match error {
        jks::JksError::Malformed(detail) => TlsError::Malformed {
            role,
            path: path.to_owned(),
            format: format.name(),
            detail,
        },
        jks::JksError::WrongPassword => TlsError::WrongPassword {
            role,
            path: path.to_owned(),
            format: format.name(),
            detail: "the keystore integrity check failed",
        },
        jks::JksError::WrongKeyPassword => TlsError::WrongKeyPassword {
            role,
            path: path.to_owned(),
            alias: String::new(),
        },
        jks::JksError::Unsupported(reason) => {
            let store_type = if format == KeystoreFormat::Jceks {
                "JCEKS"
            } else {
                "JKS"
            };
            let (command, converted) = error::keytool_convert_command(path, store_type);
            TlsError::ConvertToPkcs12 {
                role,
                path: path.to_owned(),
                format: format.name(),
                reason,
                command,
                converted,
            }
        }
    }
}

fn jks_key_material(
    data: &[u8],
    ks: &KeystoreSettings,
    format: KeystoreFormat,
) -> Result<KeyMaterial, TlsError> {
    let role = StoreRole::Keystore;
    let path = ks.path.as_path();
    let store =
        jks::parse(data, &ks.password).map_err(|error| jks_error(role, path, format, error))?;
    let present: Vec<String> = store.entries.iter().map(|e| e.alias().to_owned()).collect();
    let selected = match ks.alias.as_deref() {
        // keytool lower-cases JKS aliases, so compare without case.
        Some(wanted) => match store
            .entries
            .iter()
            .find(|entry| entry.alias().eq_ignore_ascii_case(wanted))
        {
            Some(entry) => entry,
            None => {
                return Err(TlsError::AliasNotFound {
                    role,
                    path: path.to_owned(),
                    alias: wanted.to_owned(),
                    present,
                });
            }
        },
        None => match store
            .entries
            .iter()
            .find(|entry| matches!(entry, jks::JksEntry::PrivateKey { .. }))
        {
            Some(entry) => entry,
            None => {
                return Err(TlsError::NoPrivateKey {
                    role,
                    path: path.to_owned(),
                    what: "the JKS file holds only trusted certificates, no private key".to_owned(),
                    present,
                });
            }
        },
    };
    match selected {
        jks::JksEntry::TrustedCert { alias, .. } => Err(TlsError::NoPrivateKey {
            role,
            path: path.to_owned(),
            what: format!(
                "the entry {alias:?} named by alias is a trusted certificate, not a private key"
            ),
            present,
        }),
        jks::JksEntry::PrivateKey {
            alias,
            encrypted_key,
            chain,
        } => {
            let key_password = ks.key_password.as_deref().unwrap_or(&ks.password);
            let pkcs8 =
                jks::decrypt_private_key(encrypted_key, key_password).map_err(
                    |error| match error {
                        jks::JksError::WrongKeyPassword => TlsError::WrongKeyPassword {
                            role,
                            path: path.to_owned(),
                            alias: alias.clone(),
                        },
                        other => jks_error(role, path, format, other),
                    },
                )?;
            if chain.is_empty() {
                return Err(TlsError::NoPrivateKey {
                    role,
                    path: path.to_owned(),
                    what: format!("the key entry {alias:?} has no certificate"),
                    present,
                });
            }
            Ok(KeyMaterial {
                format,
                alias: Some(alias.clone()),
                chain: chain
                    .iter()
                    .map(|der| CertificateDer::from(der.clone()))
                    .collect(),
                key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pkcs8)),
            })
        }
    }
}

/// "subject ..., valid until ..." for the log; adds a warning when the certificate has expired or
/// is not valid yet (MI starts with an expired certificate too, so this is not an error).
fn describe_certificate(
    certificate: &CertificateDer<'_>,
    warnings: &mut Vec<String>,
    path: &Path,
) -> String {
    match x509_parser::parse_x509_certificate(certificate.as_ref()) {
        Ok((_, parsed)) => {
            let validity = parsed.validity();
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
                .unwrap_or(0);
            if validity.not_after.timestamp() < now {
                warnings.push(format!(
                    "the certificate {} in {} expired on {}; clients will reject it. Renew it.",
                    parsed.subject(),
                    path.display(),
                    validity.not_after
                ));
            } else if validity.not_before.timestamp() > now {
                warnings.push(format!(
                    "the certificate {} in {} is not valid before {}; check the system clock.",
                    parsed.subject(),
                    path.display(),
                    validity.not_before
                ));
            }
            format!(
                "subject {}, valid until {}",
                parsed.subject(),
                validity.not_after
            )
        }
        Err(error) => {
            warnings.push(format!(
                "the certificate in {} could not be parsed for its details: {error}",
                path.display()
            ));
            "certificate details unavailable".to_owned()
        }
    }
}

/// The trust anchors in a truststore file: JKS trusted-certificate entries, PKCS#12 certificates
/// that belong to no key, or every CERTIFICATE block of a PEM file.
pub fn load_trusted_certificates(
    trust: &TruststoreSettings,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let role = StoreRole::Truststore;
    let path = trust.path.as_path();
    let data = read_store(role, path)?;
    match KeystoreFormat::detect(&data) {
        Some(KeystoreFormat::Pem) => pem::certificates(&data, role, path),
        Some(KeystoreFormat::Pkcs12) => pkcs12::trusted_certificates(&data, path, &trust.password),
        Some(format @ (KeystoreFormat::Jks | KeystoreFormat::Jceks)) => {
            let store = jks::parse(&data, &trust.password)
                .map_err(|error| jks_error(role, path, format, error))?;
            Ok(store
                .entries
                .into_iter()
                .filter_map(|entry| match entry {
                    jks::JksEntry::TrustedCert { certificate, .. } => {
                        Some(CertificateDer::from(certificate))
                    }
                    jks::JksEntry::PrivateKey { .. } => None,
                })
                .collect())
        }
        None => Err(TlsError::UnknownFormat {
            role,
            path: path.to_owned(),
        }),
    }
}

/// The backend client configuration: the system's roots (none found is tolerated) plus the
/// truststore's certificates, TLS 1.2/1.3, ALPN `http/1.1`.
pub fn client_config(
    trust: Option<&TruststoreSettings>,
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    client_config_trusting(trust, &[])
}

/// [`client_config`] that also trusts `extra` certificates (the server's own self-signed
/// certificate, [`ServerTls::self_signed`]).
pub fn client_config_trusting(
    trust: Option<&TruststoreSettings>,
    extra: &[CertificateDer<'static>],
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::debug!("system trust roots: {error}");
    }
    let (_, ignored) = roots.add_parsable_certificates(native.certs);
    if ignored > 0 {
        tracing::debug!("system trust roots: {ignored} certificates could not be used");
    }
    if let Some(trust) = trust {
        let certificates = load_trusted_certificates(trust)?;
        let (added, ignored) = roots.add_parsable_certificates(certificates);
        if ignored > 0 {
            tracing::warn!(
                "[truststore] file_name = {:?}: {ignored} of {} certificates are not usable trust anchors and were skipped",
                trust.path.display(),
                added + ignored
            );
        }
    }
    let (_, ignored) = roots.add_parsable_certificates(extra.iter().cloned());
    if ignored > 0 {
        tracing::debug!("the server's own certificate is not a usable trust anchor");
    }
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(PROTOCOL_VERSIONS)
        .map_err(|source| TlsError::Config { source })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = CLIENT_ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}
