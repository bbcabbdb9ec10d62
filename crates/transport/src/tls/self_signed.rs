//! The self-signed certificate made when the configured keystore does not exist: ECDSA P-256
//! (rcgen with ring), subject CN = the server hostname, SANs hostname, `localhost`, `127.0.0.1`
//! and `::1`, valid from yesterday for [`GENERATED_VALIDITY_DAYS`]. It is written as PKCS#12 (the
//! configured password and alias) so that Java's keytool and MI read it too.

use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair};

use super::error::{StoreRole, TlsError};
use super::pkcs12;

/// How long a generated certificate is valid, in days (about ten years).
pub const GENERATED_VALIDITY_DAYS: i64 = 3_650;
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
    let today = days_since_epoch_now();
    let (year, month, day) = civil_from_days(today - 1);
    params.not_before = rcgen::date_time_ymd(year, month, day);
    let (year, month, day) = civil_from_days(today + GENERATED_VALIDITY_DAYS);
    params.not_after = rcgen::date_time_ymd(year, month, day);

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

fn days_since_epoch_now() -> i64 {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    i64::try_from(seconds / 86_400).unwrap_or(0)
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year as i32, month as u8, day as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_819), (2027, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
