//! `conflux cipher-tool`: MI's `ciphertool.sh` over the home's vault keystore, so that values made
//! by either tool decrypt in both (docs-mi "Encrypting Secrets using WSO2 Secure Vault").
//!
//! ```text
//! conflux cipher-tool [--home DIR] TEXT      print TEXT's ciphertext
//! conflux cipher-tool [--home DIR]           encrypt one line read from standard input
//! conflux cipher-tool [--home DIR] -Dconfigure
//!         replace every `alias = "[plain text]"` of deployment.toml's [secrets] by its ciphertext
//! ```
//!
//! The key is `[keystore.internal]`'s, else `[keystore.primary]`'s (`conflux_config::secrets`);
//! the cipher is MI's `RSA/ECB/OAEPwithSHA1andMGF1Padding`, base64. MI's `-Dconfigure` also writes
//! `conf/security/cipher-text.properties`; Conflux reads `[secrets]` directly, so it does not.

use std::io::{IsTerminal as _, Read as _};
use std::path::Path;
use std::process::ExitCode;

use conflux_config::document::Document;
use conflux_config::properties::DEPLOYMENT_FILE_PROPERTY;
use conflux_config::secrets::{self, VaultKey};
use conflux_config::settings::DEPLOYMENT_TOML;
use conflux_config::{ConfigErrors, SystemProperties};
use conflux_transport::tls::vault::KeystoreKeyLoader;

use crate::cli::{EXIT_CONFIG, EXIT_FAILURE};

/// The `-D` flag that rewrites deployment.toml, as MI's `ciphertool.sh -Dconfigure`.
pub const CONFIGURE_PROPERTY: &str = "configure";

/// Longest plain text read from standard input (bytes); one RSA-2048 OAEP block holds 214.
pub const MAX_STDIN_BYTES: u64 = 64 * 1024;

/// Runs the cipher tool; see the module documentation.
pub fn run(home: &Path, properties: &SystemProperties, text: Option<String>) -> ExitCode {
    let home = std::path::absolute(home).unwrap_or_else(|_| home.to_path_buf());
    let path = match properties.value(DEPLOYMENT_FILE_PROPERTY) {
        Some(p) => home.join(p),
        None => home.join(DEPLOYMENT_TOML),
    };
    let toml = match std::fs::read_to_string(&path) {
        Ok(toml) => toml,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            eprintln!("conflux cipher-tool: cannot read {}: {e}", path.display());
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let document = match Document::parse(&path, &toml, properties) {
        Ok(document) => document,
        Err(errors) => return config_errors(ConfigErrors(errors)),
    };
    let keystore = match secrets::vault_keystore(&document, &home) {
        Ok(keystore) => keystore,
        Err(error) => return config_errors(error.into()),
    };
    let key = match secrets::load_key(&keystore, &KeystoreKeyLoader) {
        Ok(key) => key,
        Err(error) => return config_errors(error.into()),
    };
    if properties.value(CONFIGURE_PROPERTY).is_some() {
        return configure(&path, &toml, &document, &key);
    }
    let plain = match text {
        Some(text) => text,
        None => match read_stdin() {
            Ok(text) => text,
            Err(message) => {
                eprintln!("conflux cipher-tool: {message}");
                return ExitCode::from(EXIT_FAILURE);
            }
        },
    };
    match key.encrypt(&plain) {
        Ok(cipher) => {
            println!("{cipher}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("conflux cipher-tool: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn configure(path: &Path, toml: &str, document: &Document, key: &VaultKey) -> ExitCode {
    let (text, aliases) = match secrets::configure(toml, document, key) {
        Ok(done) => done,
        Err(errors) => return config_errors(ConfigErrors(errors)),
    };
    if aliases.is_empty() {
        println!(
            "no plain-text [secrets] values (alias = \"[text]\") in {}; nothing changed",
            path.display()
        );
        return ExitCode::SUCCESS;
    }
    // Write beside and rename, so that a failure never leaves half a deployment.toml.
    let temporary = path.with_extension("toml.cipher-tool");
    let written = std::fs::write(&temporary, &text).and_then(|()| {
        if let Ok(metadata) = std::fs::metadata(path) {
            std::fs::set_permissions(&temporary, metadata.permissions())?;
        }
        std::fs::rename(&temporary, path)
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        eprintln!("conflux cipher-tool: cannot write {}: {e}", path.display());
        return ExitCode::from(EXIT_FAILURE);
    }
    println!(
        "encrypted {} [secrets] value(s) in {}: {}",
        aliases.len(),
        path.display(),
        aliases.join(", ")
    );
    ExitCode::SUCCESS
}

fn read_stdin() -> Result<String, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Enter Plain Text Value: ");
    }
    let mut text = String::new();
    let read = stdin
        .take(MAX_STDIN_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    if read as u64 > MAX_STDIN_BYTES {
        return Err(format!(
            "standard input is longer than {MAX_STDIN_BYTES} bytes (MAX_STDIN_BYTES)"
        ));
    }
    let line = text.strip_suffix('\n').unwrap_or(&text);
    Ok(line.strip_suffix('\r').unwrap_or(line).to_string())
}

fn config_errors(errors: ConfigErrors) -> ExitCode {
    eprintln!("{errors}");
    eprintln!("conflux cipher-tool: nothing was encrypted");
    ExitCode::from(EXIT_CONFIG)
}
