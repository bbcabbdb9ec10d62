//! The secure vault at run time: what `${wso2-vault('alias')}` (MI 4.4 expressions) and
//! `wso2:vault-lookup('alias')` (XPath) read. The secrets are decrypted once at start from
//! deployment.toml's `[secrets]` (conflux-config `secrets`) and installed here by the binary.
//!
//! One table per process, as MI's `SecretManager` is a singleton. An alias with no secret reads as
//! the alias itself: securevault `FileBaseSecretRepository.getSecret` returns it ("returning
//! itself"), and MI's `wso2-vault()` passes that through (synapse
//! `PredefinedFunctionNode.fetchSecretValue`).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

static SECRETS: RwLock<Option<Arc<BTreeMap<String, String>>>> = RwLock::new(None);

/// Installs the process's secrets (alias, plain text), replacing any installed before.
pub fn install<'a>(secrets: impl IntoIterator<Item = (&'a str, &'a str)>) {
    let table: BTreeMap<String, String> = secrets
        .into_iter()
        .map(|(alias, plain)| (alias.to_string(), plain.to_string()))
        .collect();
    let mut slot = SECRETS
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *slot = Some(Arc::new(table));
}

/// The secret of `alias`, or `alias` itself when there is none (MI's rule).
pub fn lookup(alias: &str) -> String {
    let slot = SECRETS
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match slot.as_ref().and_then(|table| table.get(alias)) {
        Some(secret) => secret.clone(),
        None => {
            tracing::debug!(
                alias,
                "no secret for this alias in [secrets]; returning the alias itself (MI)"
            );
            alias.to_string()
        }
    }
}

/// The one table every unit test of the crate installs (tests run in parallel in one process, and
/// `install` replaces the table).
#[cfg(test)]
pub(crate) fn install_test_secrets() {
    install([
        ("vault_test_alias", "s3cret"),
        ("expr_test_db_password", "s3cr3t"),
        ("xpath_test_alias", "x-s3cret"),
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_secrets_are_read_and_unknown_aliases_read_as_themselves() {
        install_test_secrets();
        assert_eq!(lookup("vault_test_alias"), "s3cret");
        assert_eq!(lookup("vault_test_missing"), "vault_test_missing");
    }
}
