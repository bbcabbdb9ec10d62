//! PKCS#12 keystores through the `p12-keystore` crate: reading key entries and trusted
//! certificates, and writing a new store (for the self-signed certificate).
//!
//! Aliases are the bags' friendly names, matched case-insensitively as Java's keystores do.
//! PKCS#12 has one password for the MAC and the bags; when the store password fails and a
//! different `key_password` is set, the key password is tried too.

use std::path::Path;

use p12_keystore::{
    Certificate, KeyStore, KeyStoreEntry, Pkcs12Archive, Pkcs12ImportPolicy, PrivateKey,
    PrivateKeyChain,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::error::{StoreRole, TlsError};

/// Is this DER that may be a PKCS#12 PFX (a SEQUENCE)?
pub fn looks_like_der_sequence(data: &[u8]) -> bool {
    data.first() == Some(&0x30)
}

fn map_error(role: StoreRole, path: &Path, error: p12_keystore::error::Error) -> TlsError {
    use p12_keystore::error::Error;
    match error {
        Error::MacError(_) | Error::UnpadError => TlsError::WrongPassword {
            role,
            path: path.to_owned(),
            format: "PKCS#12",
            detail: "the MAC check failed",
        },
        other => TlsError::Malformed {
            role,
            path: path.to_owned(),
            format: "PKCS#12",
            detail: other.to_string(),
        },
    }
}

/// The selected private key entry of a PKCS#12 store.
pub struct KeyEntry {
    pub alias: String,
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

/// Reads the key entry named `alias` (or the first key entry) from a PKCS#12 store.
pub fn load_key_entry(
    data: &[u8],
    path: &Path,
    password: &str,
    key_password: Option<&str>,
    alias: Option<&str>,
) -> Result<KeyEntry, TlsError> {
    let role = StoreRole::Keystore;
    let store = match KeyStore::from_pkcs12(data, password, Pkcs12ImportPolicy::Strict) {
        Ok(store) => store,
        Err(first_error) => match key_password.filter(|other| *other != password) {
            Some(other) => KeyStore::from_pkcs12(data, other, Pkcs12ImportPolicy::Strict)
                .map_err(|_| map_error(role, path, first_error))?,
            None => return Err(map_error(role, path, first_error)),
        },
    };
    let present: Vec<String> = store.entries().map(|(name, _)| name.clone()).collect();
    let (alias, chain) = match alias {
        Some(wanted) => {
            let found = store
                .entries()
                .find(|(name, _)| name.eq_ignore_ascii_case(wanted));
            match found {
                Some((name, KeyStoreEntry::PrivateKeyChain(chain))) => (name.clone(), chain),
                Some((name, _)) => {
                    return Err(TlsError::NoPrivateKey {
                        role,
                        path: path.to_owned(),
                        what: format!("the entry {name:?} named by alias holds no private key"),
                        present,
                    });
                }
                None => {
                    return Err(TlsError::AliasNotFound {
                        role,
                        path: path.to_owned(),
                        alias: wanted.to_owned(),
                        present,
                    });
                }
            }
        }
        None => match store.private_key_chain() {
            Some((name, chain)) => (name.to_owned(), chain),
            None => {
                return Err(TlsError::NoPrivateKey {
                    role,
                    path: path.to_owned(),
                    what: "the PKCS#12 file holds no private key with its certificate".to_owned(),
                    present,
                });
            }
        },
    };
    if chain.certs().is_empty() {
        return Err(TlsError::NoPrivateKey {
            role,
            path: path.to_owned(),
            what: format!("the key entry {alias:?} has no certificate"),
            present,
        });
    }
    Ok(KeyEntry {
        chain: chain
            .certs()
            .iter()
            .map(|cert| CertificateDer::from(cert.as_der().to_vec()))
            .collect(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec())),
        alias,
    })
}

/// The trust anchors of a PKCS#12 truststore: certificates that belong to no private key
/// (keytool's trusted-certificate entries, or the CA bundle of `openssl pkcs12 -nokeys`).
pub fn trusted_certificates(
    data: &[u8],
    path: &Path,
    password: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let archive = Pkcs12Archive::from_pkcs12(data, password)
        .map_err(|error| map_error(StoreRole::Truststore, path, error))?;
    Ok(archive
        .certs
        .iter()
        .filter(|bag| bag.local_key_id.is_none() || bag.trusted)
        .map(|bag| CertificateDer::from(bag.cert.as_der().to_vec()))
        .collect())
}

/// Encodes a PKCS#12 store with one key entry (PBES2/AES-256 and an HMAC-SHA256 MAC, the
/// defaults of Java 17's keytool, which reads it whatever the file's extension).
pub fn encode_key_entry(
    alias: &str,
    password: &str,
    pkcs8_key: &[u8],
    chain: &[&[u8]],
) -> Result<Vec<u8>, String> {
    let key = PrivateKey::from_der(pkcs8_key).map_err(|error| error.to_string())?;
    let certificates = chain
        .iter()
        .map(|der| Certificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| error.to_string())?;
    let local_key_id = ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        chain.first().copied().unwrap_or_default(),
    );
    let mut store = KeyStore::new();
    store.add_entry(
        alias,
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(
            local_key_id.as_ref().to_vec(),
            key,
            certificates,
        )),
    );
    store
        .writer(password)
        .write()
        .map_err(|error| error.to_string())
}
