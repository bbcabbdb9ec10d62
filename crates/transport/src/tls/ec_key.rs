//! Completes EC private keys that carry no public key, as Java's keytool writes them (in JKS and
//! PKCS#12 alike): ring, behind rustls, refuses an `ECPrivateKey` without its `publicKey` field.
//! The public key is recomputed from the private scalar (RustCrypto p256/p384) and the key is
//! handed on as SEC1 DER with the public key. Any other key is returned unchanged.

use p256::pkcs8::DecodePrivateKey;
use rustls_pki_types::{PrivateKeyDer, PrivateSec1KeyDer};

/// Returns `key` with its EC public key filled in when it is a P-256/P-384 PKCS#8 key; otherwise
/// `key` itself (rustls then accepts or rejects it with its own error).
pub fn with_public_key(key: PrivateKeyDer<'static>) -> PrivateKeyDer<'static> {
    let PrivateKeyDer::Pkcs8(pkcs8) = &key else {
        return key;
    };
    let der = pkcs8.secret_pkcs8_der();
    let sec1 = if let Ok(secret) = p256::SecretKey::from_pkcs8_der(der) {
        secret.to_sec1_der().ok()
    } else if let Ok(secret) = p384::SecretKey::from_pkcs8_der(der) {
        secret.to_sec1_der().ok()
    } else {
        None
    };
    match sec1 {
        Some(sec1) => PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(sec1.to_vec())),
        None => key,
    }
}
