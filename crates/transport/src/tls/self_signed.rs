//! The self-signed certificate made when the configured keystore does not exist: ECDSA P-256
//! (rcgen with ring), subject CN = the server hostname, SANs hostname, `localhost`, `127.0.0.1`
//! and `::1`, valid from yesterday for [`GENERATED_VALIDITY_DAYS`]. It is written as PKCS#12 (the
//! configured password and alias) so that Java's keytool and MI read it too.

use std::io::Write;
use std::path::Path;

use rcgen::{CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair};

use super::error::{StoreRole, TlsError};
use super::pkcs12;

/// How long a generated certificate is valid, in days: the CA/Browser Forum ceiling for TLS
/// server certificates (398 days since 2020) less one, so testssl.sh and browsers accept the
/// lifetime; the backdated day is inside this span.
pub const GENERATED_VALIDITY_DAYS: i64 = 397;
/// The alias of the generated key when the configuration names none.
pub const DEFAULT_GENERATED_ALIAS: &str = "conflux";

/// Generates a key and certificate for `hostname` and writes them to `path` as PKCS#12 with file
/// mode 0600, creating parent directories.
pub fn generate_keystore(
    path: &Path,
    hostname: &str,
    password: &str,
    alias: Option<&str>,
) -> Result<(), TlsError> {
    let fail = |detail: String| TlsError::Generate {
        role: StoreRole::Keystore,
        path: path.to_owned(),
        detail,
    };
    let mut names: Vec<String> = Vec::new();
    for name in [hostname, "localhost", "127.0.0.1", "::1"] {
        if !name.is_empty() && !names.iter().any(|known| known.eq_ignore_ascii_case(name)) {
            names.push(name.to_owned());
        }
    }
    let mut params = CertificateParams::new(names).map_err(|error| {
        fail(format!(
            "hostname {hostname:?} is not a valid DNS name: {error}"
        ))
    })?;
    let mut subject = DistinguishedName::new();
    subject.push(
        DnType::CommonName,
        if hostname.is_empty() {
            "localhost"
        } else {
            hostname
        },
    );
    subject.push(DnType::OrganizationName, "Conflux self-signed");
    params.distinguished_name = subject;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = time::OffsetDateTime::now_utc();
    // Backdated a day for clocks slightly behind; the whole span stays GENERATED_VALIDITY_DAYS.
    params.not_before = now - time::Duration::days(1);
    params.not_after = params.not_before + time::Duration::days(GENERATED_VALIDITY_DAYS);

    let key_pair = KeyPair::generate().map_err(|error| fail(format!("key generation: {error}")))?;
    let certificate = params
        .self_signed(&key_pair)
        .map_err(|error| fail(format!("certificate signing: {error}")))?;
    let pkcs12 = pkcs12::encode_key_entry(
        alias.unwrap_or(DEFAULT_GENERATED_ALIAS),
        password,
        &key_pair.serialize_der(),
        &[certificate.der().as_ref()],
    )
    .map_err(|error| fail(format!("PKCS#12 encoding: {error}")))?;

    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|error| fail(format!("cannot create {}: {error}", parent.display())))?;
    }
    write_private_file(path, &pkcs12)
        .map_err(|error| fail(format!("cannot write the file: {error}")))
}

/// Writes `contents` to a temporary file beside `path` (mode 0600) and renames it into place, so
/// that a crash never leaves a half-written keystore.
fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".tmp-{}", std::process::id()));
    let temporary = std::path::PathBuf::from(temporary);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| {
        let mut file = options.open(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}
