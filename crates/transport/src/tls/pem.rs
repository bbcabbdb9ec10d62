//! PEM keystores: a certificate chain and an unencrypted private key (PKCS#8, PKCS#1 or SEC1).
//!
//! Decision: `file_name` points at the certificate file. The key may be in the same file (a
//! "combined" PEM, chain then key or key then chain) or, when that file holds no key, in a file
//! with the same name and the extension `.key` beside it (`server.crt` + `server.key`,
//! `server.pem` + `server.key`). Encrypted PEM keys are refused with advice, because the
//! password settings of deployment.toml are keystore passwords, not PEM pass-phrases.

use std::path::{Path, PathBuf};

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::error::{StoreRole, TlsError};

/// Does this look like PEM text (a `-----BEGIN ` line anywhere)?
pub fn is_pem(data: &[u8]) -> bool {
    contains(data, b"-----BEGIN ")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// All `CERTIFICATE` blocks of a PEM file, in order.
pub fn certificates(
    data: &[u8],
    role: StoreRole,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    CertificateDer::pem_slice_iter(data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| pem_error(role, path, &error))
}

fn pem_error(role: StoreRole, path: &Path, error: &pem::Error) -> TlsError {
    TlsError::Pem {
        role,
        path: path.to_owned(),
        detail: format!("the PEM text is damaged: {error}. Recreate the file."),
    }
}

/// The private key in `data`, if there is one.
fn private_key(
    data: &[u8],
    role: StoreRole,
    path: &Path,
) -> Result<Option<PrivateKeyDer<'static>>, TlsError> {
    if contains(data, b"-----BEGIN ENCRYPTED PRIVATE KEY")
        || contains(data, b"Proc-Type: 4,ENCRYPTED")
    {
        return Err(TlsError::Pem {
            role,
            path: path.to_owned(),
            detail: "the private key is encrypted, which PEM keystores do not support. \
                     Decrypt it (openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.plain) and keep \
                     the file private, or use a PKCS#12 keystore with a password instead."
                .to_owned(),
        });
    }
    match PrivateKeyDer::from_pem_slice(data) {
        Ok(key) => Ok(Some(key)),
        Err(pem::Error::NoItemsFound) => Ok(None),
        Err(error) => Err(pem_error(role, path, &error)),
    }
}

/// The `.key` file beside a certificate file.
pub fn sibling_key_path(path: &Path) -> PathBuf {
    path.with_extension("key")
}

/// Reads the chain and key of a PEM keystore at `path` whose content is `data`.
pub fn load_key_material(
    data: &[u8],
    path: &Path,
    read_sibling: impl Fn(&Path) -> Result<Vec<u8>, TlsError>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let role = StoreRole::Keystore;
    let chain = certificates(data, role, path)?;
    if chain.is_empty() {
        return Err(TlsError::Pem {
            role,
            path: path.to_owned(),
            detail: "the PEM file holds no CERTIFICATE block. Point file_name at the \
                     certificate file (its key may be in it too, or in a .key file beside it)."
                .to_owned(),
        });
    }
    if let Some(key) = private_key(data, role, path)? {
        return Ok((chain, key));
    }
    let key_path = sibling_key_path(path);
    if key_path == path || !key_path.exists() {
        return Err(TlsError::Pem {
            role,
            path: path.to_owned(),
            detail: format!(
                "the PEM file holds certificates but no private key, and there is no {key_path:?} \
                 beside it. Append the private key to the file, or put it in {key_path:?}."
            ),
        });
    }
    let key_data = read_sibling(&key_path)?;
    match private_key(&key_data, role, &key_path)? {
        Some(key) => Ok((chain, key)),
        None => Err(TlsError::Pem {
            role,
            path: key_path,
            detail: "the key file holds no PRIVATE KEY block (PKCS#8, RSA or EC).".to_owned(),
        }),
    }
}
