//! A read-only decoder of Java's JKS keystore format (magic `0xFEEDFEED`), the format of MI's
//! `wso2carbon.jks` and `client-truststore.jks`.
//!
//! Layout (`sun.security.provider.JavaKeyStore`): magic, version (1 or 2), entry count, then per
//! entry a tag (1 = private key, 2 = trusted certificate), the alias (Java modified UTF-8), a
//! timestamp, and the key (an `EncryptedPrivateKeyInfo`) with its certificate chain, or one
//! certificate; version 2 names each certificate's type. The file ends with a SHA-1 digest over
//! the store password (UTF-16BE), the words "Mighty Aphrodite" and everything before it. Private
//! keys use Sun's key protection (`sun.security.provider.KeyProtector`, OID 1.3.6.1.4.1.42.2.17.1.1):
//! a SHA-1 keystream over the key password and a 20-byte salt, with a SHA-1 check of the plaintext.
//!
//! Every read is bounds-checked; counts and lengths have the caps below. JCEKS (magic
//! `0xCECECECE`) and other key protections are reported as [`JksError::Unsupported`], which the
//! caller turns into the `keytool` conversion advice.

use ring::digest;

/// JKS magic number.
pub const JKS_MAGIC: u32 = 0xFEED_FEED;
/// JCEKS magic number (not read here; the caller suggests converting it).
pub const JCEKS_MAGIC: u32 = 0xCECE_CECE;
/// Most entries a JKS file may hold (MI's `client-truststore.jks` has about 100).
pub const MAX_JKS_ENTRIES: u32 = 4_096;
/// Most certificates in one key entry's chain.
pub const MAX_JKS_CHAIN_LENGTH: u32 = 32;
/// Largest certificate or encrypted key blob, in bytes.
pub const MAX_JKS_BLOB_BYTES: u32 = 64 * 1024;

const TAG_PRIVATE_KEY: u32 = 1;
const TAG_TRUSTED_CERT: u32 = 2;
const TAG_SECRET_KEY: u32 = 3;
const DIGEST_LEN: usize = 20;
const SALT_LEN: usize = 20;
const INTEGRITY_WHITENER: &[u8] = b"Mighty Aphrodite";
/// DER of OID 1.3.6.1.4.1.42.2.17.1.1 (Sun JKS key protection).
const SUN_KEY_PROTECTOR_OID: &[u8] = &[0x2B, 0x06, 0x01, 0x04, 0x01, 0x2A, 0x02, 0x11, 0x01, 0x01];

/// One entry of a JKS file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JksEntry {
    /// A private key, still encrypted, with its certificate chain (leaf first, DER).
    PrivateKey {
        alias: String,
        encrypted_key: Vec<u8>,
        chain: Vec<Vec<u8>>,
    },
    /// A trusted certificate (DER).
    TrustedCert { alias: String, certificate: Vec<u8> },
}

impl JksEntry {
    /// The entry's alias (keytool stores them lower-cased).
    pub fn alias(&self) -> &str {
        match self {
            JksEntry::PrivateKey { alias, .. } | JksEntry::TrustedCert { alias, .. } => alias,
        }
    }
}

/// Why a JKS file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JksError {
    #[error("{0}")]
    Malformed(String),
    #[error("the keystore integrity check failed")]
    WrongPassword,
    #[error("the key's integrity check failed")]
    WrongKeyPassword,
    #[error("{0}")]
    Unsupported(String),
}

/// A parsed JKS keystore whose integrity digest matched the store password.
#[derive(Debug, Clone)]
pub struct JksKeystore {
    pub entries: Vec<JksEntry>,
}

/// Does `data` start with the JKS magic?
pub fn is_jks(data: &[u8]) -> bool {
    data.get(..4) == Some(&JKS_MAGIC.to_be_bytes()[..])
}

/// Does `data` start with the JCEKS magic?
pub fn is_jceks(data: &[u8]) -> bool {
    data.get(..4) == Some(&JCEKS_MAGIC.to_be_bytes()[..])
}

struct Reader<'a> {
    data: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, length: usize, what: &str) -> Result<&'a [u8], JksError> {
        let end = self
            .position
            .checked_add(length)
            .filter(|end| *end <= self.data.len());
        match end {
            Some(end) => {
                let slice = &self.data[self.position..end];
                self.position = end;
                Ok(slice)
            }
            None => Err(JksError::Malformed(format!(
                "the file ends inside {what} at byte {} (needs {length} more bytes, has {})",
                self.position,
                self.data.len().saturating_sub(self.position)
            ))),
        }
    }

    fn u16(&mut self, what: &str) -> Result<u16, JksError> {
        let bytes = self.take(2, what)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, JksError> {
        let bytes = self.take(4, what)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn utf(&mut self, what: &str) -> Result<String, JksError> {
        let length = self.u16(what)?;
        let bytes = self.take(usize::from(length), what)?;
        Ok(decode_modified_utf8(bytes))
    }

    fn blob(&mut self, what: &str) -> Result<&'a [u8], JksError> {
        let length = self.u32(what)?;
        if length > MAX_JKS_BLOB_BYTES {
            return Err(JksError::Malformed(format!(
                "{what} is {length} bytes, more than the {MAX_JKS_BLOB_BYTES} allowed"
            )));
        }
        self.take(length as usize, what)
    }

    fn certificate(&mut self, version: u32, what: &str) -> Result<Vec<u8>, JksError> {
        if version == 2 {
            let certificate_type = self.utf(what)?;
            if certificate_type != "X.509" {
                return Err(JksError::Unsupported(format!(
                    "{what} has certificate type {certificate_type:?}; only X.509 is supported"
                )));
            }
        }
        Ok(self.blob(what)?.to_vec())
    }
}

/// Java's `DataOutput.writeUTF` encoding: UTF-8 with NUL as two bytes and supplementary
/// characters as two 3-byte surrogates. Invalid sequences become U+FFFD.
fn decode_modified_utf8(bytes: &[u8]) -> String {
    let mut units: Vec<u16> = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let first = bytes[index];
        let continuation = |offset: usize| {
            bytes
                .get(index + offset)
                .copied()
                .filter(|byte| byte & 0xC0 == 0x80)
                .map(|byte| u16::from(byte & 0x3F))
        };
        if first < 0x80 {
            units.push(u16::from(first));
            index += 1;
        } else if first & 0xE0 == 0xC0 {
            match continuation(1) {
                Some(low) => {
                    units.push((u16::from(first & 0x1F) << 6) | low);
                    index += 2;
                }
                None => {
                    units.push(0xFFFD);
                    index += 1;
                }
            }
        } else if first & 0xF0 == 0xE0 {
            match (continuation(1), continuation(2)) {
                (Some(middle), Some(low)) => {
                    units.push((u16::from(first & 0x0F) << 12) | (middle << 6) | low);
                    index += 3;
                }
                _ => {
                    units.push(0xFFFD);
                    index += 1;
                }
            }
        } else {
            units.push(0xFFFD);
            index += 1;
        }
    }
    String::from_utf16_lossy(&units)
}

fn password_utf16be(password: &str) -> Vec<u8> {
    password
        .encode_utf16()
        .flat_map(|unit| unit.to_be_bytes())
        .collect()
}

fn sha1(parts: &[&[u8]]) -> digest::Digest {
    let mut context = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
    for part in parts {
        context.update(part);
    }
    context.finish()
}

/// The integrity digest of `body` under `password` (`JavaKeyStore.getPreKeyedHash`).
fn integrity_digest(password: &str, body: &[u8]) -> digest::Digest {
    sha1(&[&password_utf16be(password), INTEGRITY_WHITENER, body])
}

/// Parses a JKS file and checks its integrity digest with `store_password`.
pub fn parse(data: &[u8], store_password: &str) -> Result<JksKeystore, JksError> {
    if is_jceks(data) {
        return Err(JksError::Unsupported(
            "it is a JCEKS keystore (magic 0xCECECECE), not JKS".to_owned(),
        ));
    }
    let mut reader = Reader { data, position: 0 };
    let magic = reader.u32("the header")?;
    if magic != JKS_MAGIC {
        return Err(JksError::Malformed(format!(
            "the header is {magic:#010x}, not the JKS magic 0xfeedfeed"
        )));
    }
    let version = reader.u32("the header")?;
    if version != 1 && version != 2 {
        return Err(JksError::Unsupported(format!(
            "JKS version {version} (versions 1 and 2 exist)"
        )));
    }
    let count = reader.u32("the header")?;
    if count > MAX_JKS_ENTRIES {
        return Err(JksError::Malformed(format!(
            "it claims {count} entries, more than the {MAX_JKS_ENTRIES} allowed"
        )));
    }
    let mut entries = Vec::with_capacity(count as usize);
    for number in 1..=count {
        let what = format!("entry {number} of {count}");
        let tag = reader.u32(&what)?;
        let alias = reader.utf(&what)?;
        let _timestamp = reader.take(8, &what)?;
        match tag {
            TAG_PRIVATE_KEY => {
                let encrypted_key = reader.blob(&what)?.to_vec();
                let chain_length = reader.u32(&what)?;
                if chain_length > MAX_JKS_CHAIN_LENGTH {
                    return Err(JksError::Malformed(format!(
                        "{what} ({alias:?}) claims {chain_length} certificates, more than the {MAX_JKS_CHAIN_LENGTH} allowed"
                    )));
                }
                let mut chain = Vec::with_capacity(chain_length as usize);
                for _ in 0..chain_length {
                    chain.push(reader.certificate(version, &what)?);
                }
                entries.push(JksEntry::PrivateKey {
                    alias,
                    encrypted_key,
                    chain,
                });
            }
            TAG_TRUSTED_CERT => {
                let certificate = reader.certificate(version, &what)?;
                entries.push(JksEntry::TrustedCert { alias, certificate });
            }
            TAG_SECRET_KEY => {
                return Err(JksError::Unsupported(format!(
                    "{what} ({alias:?}) is a secret key, which only JCEKS stores hold"
                )));
            }
            other => {
                return Err(JksError::Malformed(format!(
                    "{what} ({alias:?}) has the unknown tag {other}"
                )));
            }
        }
    }
    let body_length = reader.position;
    let stored_digest = reader.take(DIGEST_LEN, "the integrity digest")?;
    if reader.position != data.len() {
        return Err(JksError::Malformed(format!(
            "{} unexpected bytes after the integrity digest",
            data.len() - reader.position
        )));
    }
    let expected = integrity_digest(store_password, &data[..body_length]);
    if expected.as_ref() != stored_digest {
        return Err(JksError::WrongPassword);
    }
    Ok(JksKeystore { entries })
}

/// Minimal DER reading for `EncryptedPrivateKeyInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }`.
fn der_element(input: &[u8], expected_tag: u8) -> Result<(&[u8], &[u8]), JksError> {
    let malformed = || JksError::Malformed("the encrypted private key is not valid DER".to_owned());
    let (&tag, rest) = input.split_first().ok_or_else(malformed)?;
    if tag != expected_tag {
        return Err(malformed());
    }
    let (&first, mut rest) = rest.split_first().ok_or_else(malformed)?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7F);
        if count == 0 || count > 4 {
            return Err(malformed());
        }
        let bytes = rest.get(..count).ok_or_else(malformed)?;
        rest = &rest[count..];
        bytes
            .iter()
            .fold(0usize, |value, byte| (value << 8) | usize::from(*byte))
    };
    let content = rest.get(..length).ok_or_else(malformed)?;
    Ok((content, &rest[length..]))
}

/// Decrypts a key entry's `EncryptedPrivateKeyInfo` with `key_password`, giving PKCS#8 DER.
pub fn decrypt_private_key(encrypted_key: &[u8], key_password: &str) -> Result<Vec<u8>, JksError> {
    const SEQUENCE: u8 = 0x30;
    const OBJECT_IDENTIFIER: u8 = 0x06;
    const OCTET_STRING: u8 = 0x04;
    let (info, _) = der_element(encrypted_key, SEQUENCE)?;
    let (algorithm, rest) = der_element(info, SEQUENCE)?;
    let (oid, _) = der_element(algorithm, OBJECT_IDENTIFIER)?;
    if oid != SUN_KEY_PROTECTOR_OID {
        return Err(JksError::Unsupported(
            "the private key is not protected with Sun's JKS key protection".to_owned(),
        ));
    }
    let (protected, _) = der_element(rest, OCTET_STRING)?;
    if protected.len() < SALT_LEN + DIGEST_LEN {
        return Err(JksError::Malformed(format!(
            "the protected key is {} bytes, shorter than salt and check ({})",
            protected.len(),
            SALT_LEN + DIGEST_LEN
        )));
    }
    let (salt, rest) = protected.split_at(SALT_LEN);
    let (ciphertext, check) = rest.split_at(rest.len() - DIGEST_LEN);
    let password = password_utf16be(key_password);
    let mut plaintext = Vec::with_capacity(ciphertext.len());
    let mut block = sha1(&[&password, salt]);
    for chunk in ciphertext.chunks(DIGEST_LEN) {
        plaintext.extend(chunk.iter().zip(block.as_ref()).map(|(c, k)| c ^ k));
        block = sha1(&[&password, block.as_ref()]);
    }
    if sha1(&[&password, &plaintext]).as_ref() != check {
        return Err(JksError::WrongKeyPassword);
    }
    Ok(plaintext)
}

/// Test support: encodes a JKS file (version 2) holding trusted certificates and already
/// protected keys, with a correct integrity digest. Used by unit tests for limits.
#[cfg(test)]
pub(crate) fn encode_for_tests(
    entries: &[JksEntry],
    store_password: &str,
    claimed_count: Option<u32>,
) -> Vec<u8> {
    fn utf(out: &mut Vec<u8>, text: &str) {
        out.extend((text.len() as u16).to_be_bytes());
        out.extend(text.as_bytes());
    }
    fn certificate(out: &mut Vec<u8>, der: &[u8]) {
        utf(out, "X.509");
        out.extend((der.len() as u32).to_be_bytes());
        out.extend(der);
    }
    let mut out = Vec::new();
    out.extend(JKS_MAGIC.to_be_bytes());
    out.extend(2u32.to_be_bytes());
    out.extend(claimed_count.unwrap_or(entries.len() as u32).to_be_bytes());
    for entry in entries {
        match entry {
            JksEntry::PrivateKey {
                alias,
                encrypted_key,
                chain,
            } => {
                out.extend(TAG_PRIVATE_KEY.to_be_bytes());
                utf(&mut out, alias);
                out.extend(0u64.to_be_bytes());
                out.extend((encrypted_key.len() as u32).to_be_bytes());
                out.extend(encrypted_key);
                out.extend((chain.len() as u32).to_be_bytes());
                for der in chain {
                    certificate(&mut out, der);
                }
            }
            JksEntry::TrustedCert {
                alias,
                certificate: der,
            } => {
                out.extend(TAG_TRUSTED_CERT.to_be_bytes());
                utf(&mut out, alias);
                out.extend(0u64.to_be_bytes());
                certificate(&mut out, der);
            }
        }
    }
    let digest = integrity_digest(store_password, &out);
    out.extend(digest.as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(alias: &str, size: usize) -> JksEntry {
        JksEntry::TrustedCert {
            alias: alias.to_owned(),
            certificate: vec![0x30; size],
        }
    }

    #[test]
    fn round_trip_of_test_encoder() {
        let data = encode_for_tests(&[trusted("a", 10), trusted("b", 5)], "pw", None);
        let store = parse(&data, "pw").expect("parses");
        assert_eq!(store.entries.len(), 2);
        assert_eq!(store.entries[1].alias(), "b");
        assert_eq!(parse(&data, "other").unwrap_err(), JksError::WrongPassword);
    }

    #[test]
    fn entry_count_limit() {
        let at_limit: Vec<JksEntry> = (0..MAX_JKS_ENTRIES)
            .map(|i| trusted(&i.to_string(), 1))
            .collect();
        let data = encode_for_tests(&at_limit, "pw", None);
        assert_eq!(
            parse(&data, "pw").expect("at limit").entries.len(),
            MAX_JKS_ENTRIES as usize
        );
        let data = encode_for_tests(&[], "pw", Some(MAX_JKS_ENTRIES + 1));
        assert!(matches!(parse(&data, "pw"), Err(JksError::Malformed(m)) if m.contains("entries")));
    }

    #[test]
    fn blob_length_limit() {
        let data = encode_for_tests(&[trusted("a", MAX_JKS_BLOB_BYTES as usize)], "pw", None);
        assert!(parse(&data, "pw").is_ok());
        let data = encode_for_tests(&[trusted("a", MAX_JKS_BLOB_BYTES as usize + 1)], "pw", None);
        assert!(matches!(parse(&data, "pw"), Err(JksError::Malformed(m)) if m.contains("allowed")));
    }

    #[test]
    fn chain_length_limit() {
        let entry = |n: u32| JksEntry::PrivateKey {
            alias: "k".into(),
            encrypted_key: vec![1],
            chain: (0..n).map(|_| vec![0x30]).collect(),
        };
        let data = encode_for_tests(&[entry(MAX_JKS_CHAIN_LENGTH)], "pw", None);
        assert!(parse(&data, "pw").is_ok());
        let data = encode_for_tests(&[entry(MAX_JKS_CHAIN_LENGTH + 1)], "pw", None);
        assert!(
            matches!(parse(&data, "pw"), Err(JksError::Malformed(m)) if m.contains("certificates"))
        );
    }

    #[test]
    fn modified_utf8_aliases() {
        assert_eq!(decode_modified_utf8(b"wso2carbon"), "wso2carbon");
        assert_eq!(decode_modified_utf8(&[0xC3, 0xA9]), "é");
        assert_eq!(decode_modified_utf8(&[0xC0, 0x80]), "\0");
        // U+1F600 as two 3-byte surrogates
        assert_eq!(
            decode_modified_utf8(&[0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]),
            "😀"
        );
        assert_eq!(
            decode_modified_utf8(&[0xFF, b'a', 0xE0]),
            "\u{FFFD}a\u{FFFD}"
        );
    }

    #[test]
    fn trailing_bytes_and_unknown_tags_are_malformed() {
        let mut data = encode_for_tests(&[trusted("a", 3)], "pw", None);
        data.push(0);
        assert!(matches!(parse(&data, "pw"), Err(JksError::Malformed(_))));
        let mut data = encode_for_tests(&[trusted("a", 3)], "pw", None);
        data[15] = 9; // the first entry's tag
        assert!(matches!(parse(&data, "pw"), Err(JksError::Malformed(m)) if m.contains("tag 9")));
    }

    #[test]
    fn garbage_keys_do_not_panic() {
        for input in [
            &[][..],
            &[0x30],
            &[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF],
            &[0x30, 0x02, 0x30, 0x00],
        ] {
            assert!(decrypt_private_key(input, "pw").is_err());
        }
    }
}
