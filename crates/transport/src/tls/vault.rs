//! The secure vault's keystore reader: the private key of `[keystore.internal]` (else
//! `[keystore.primary]`), read by the same code as the TLS keystore (JKS, PKCS#12, PEM), for the
//! configuration crate to decrypt `[secrets]` with (`conflux_config::secrets`).

use conflux_config::secrets::{KeyLoader, VaultKeystore};

use super::{KeystoreSettings, StoreRole, key_material, read_store};

/// Reads the vault key with the TLS keystore code. Unlike the TLS keystore, a missing file is an
/// error: a generated key could not decrypt anything.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeystoreKeyLoader;

impl KeyLoader for KeystoreKeyLoader {
    fn private_key_der(&self, keystore: &VaultKeystore) -> Result<Vec<u8>, String> {
        let settings = KeystoreSettings {
            path: keystore.path.clone(),
            password: keystore.password.clone(),
            alias: keystore.alias.clone(),
            key_password: keystore.key_password.clone(),
        };
        let data = read_store(StoreRole::Keystore, &settings.path).map_err(|e| e.to_string())?;
        let material = key_material(&data, &settings).map_err(|e| e.to_string())?;
        Ok(material.key.secret_der().to_vec())
    }
}
