//! The zip layer of a CApp: reads every entry of a `.car` into memory (MI extracts to
//! `tmp/carbonapps/`; Conflux never writes to disk) under the `MAX_CAPP_*` limits, and refuses
//! entry names that would escape the archive (zip-slip).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};

use super::CAppError;

/// Largest `.car` file read, in bytes.
pub const MAX_CAPP_BYTES: u64 = 64 * 1024 * 1024;
/// Most entries (files and directories) in one `.car`.
pub const MAX_CAPP_ENTRIES: usize = 10_000;
/// Most bytes one `.car` may unpack to, counted as they are inflated (zip headers are not trusted).
pub const MAX_CAPP_UNPACKED_BYTES: u64 = 256 * 1024 * 1024;
/// Highest unpacked:packed ratio of one entry larger than `CAPP_COMPRESSION_RATIO_FLOOR_BYTES`
/// (a zip bomb guard; XML and JSON compress around 10:1).
pub const MAX_CAPP_COMPRESSION_RATIO: u64 = 100;
/// Entries that unpack to at most this many bytes are never refused for their ratio: tiny or
/// repetitive text files compress far beyond 100:1 and are harmless at this size.
pub const CAPP_COMPRESSION_RATIO_FLOOR_BYTES: u64 = 1024 * 1024;

/// MI's extraction skips `META-INF/` (`AppDeployerUtils.extractCarbonApp`); so does Conflux.
const SKIPPED_PREFIX: &str = "META-INF/";

/// The entries of a CApp: file contents by normalised path (`dir/sub/file`) and every directory
/// (explicit or implied by a file path), both without trailing `/`.
#[derive(Debug, Default)]
pub(crate) struct Entries {
    pub files: BTreeMap<String, Vec<u8>>,
    pub dirs: BTreeSet<String>,
}

impl Entries {
    /// Top-level directories, in name order.
    pub fn top_dirs(&self) -> impl Iterator<Item = &str> {
        self.dirs
            .iter()
            .map(String::as_str)
            .filter(|d| !d.contains('/'))
    }

    /// Direct sub-directories of `dir`, in name order.
    pub fn sub_dirs<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.dirs.iter().filter_map(move |d| {
            let rest = d.strip_prefix(dir)?.strip_prefix('/')?;
            (!rest.contains('/')).then_some(d.as_str())
        })
    }

    /// Every file under `dir` (recursively), in name order.
    pub fn files_under<'a>(
        &'a self,
        dir: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        self.files.iter().filter_map(move |(name, bytes)| {
            name.strip_prefix(dir)?
                .strip_prefix('/')
                .map(|_| (name.as_str(), bytes.as_slice()))
        })
    }
}

/// Reads every entry of `bytes` (a zip) into memory, enforcing the limits and the name rules.
pub(crate) fn read_entries(capp: &str, bytes: &[u8]) -> Result<Entries, CAppError> {
    if bytes.len() as u64 > MAX_CAPP_BYTES {
        return Err(CAppError::TooLarge {
            capp: capp.to_string(),
            size: bytes.len() as u64,
            limit: MAX_CAPP_BYTES,
        });
    }
    let corrupt = |reason: String| CAppError::Corrupt {
        capp: capp.to_string(),
        reason,
    };
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|err| corrupt(err.to_string()))?;
    if archive.len() > MAX_CAPP_ENTRIES {
        return Err(CAppError::TooManyEntries {
            capp: capp.to_string(),
            count: archive.len(),
            limit: MAX_CAPP_ENTRIES,
        });
    }
    if archive.has_duplicate_names() {
        return Err(corrupt(
            "two entries have the same name (which one MI would extract last is unspecified)"
                .to_string(),
        ));
    }

    let mut entries = Entries::default();
    let mut unpacked_total: u64 = 0;
    for index in 0..archive.len() {
        let raw_name = archive
            .name_for_index(index)
            .ok_or_else(|| corrupt(format!("entry #{index} is missing")))?
            .map_err(|err| corrupt(format!("entry #{index}: {err}")))?
            .into_owned();
        let unsafe_name = |why: &str| CAppError::UnsafeEntryName {
            capp: capp.to_string(),
            entry: raw_name.clone(),
            why: why.to_string(),
        };
        let name = check_entry_name(&raw_name).map_err(unsafe_name)?;
        // Skipped before opening: whatever its compression or encryption, nothing reads it.
        if raw_name.starts_with(SKIPPED_PREFIX) {
            continue;
        }
        let mut file = archive
            .by_index(index)
            .map_err(|err| corrupt(format!("{raw_name}: {err}")))?;
        if file.is_symlink() {
            return Err(unsafe_name("a symbolic link"));
        }
        add_parent_dirs(&mut entries.dirs, &name);
        if file.is_dir() {
            entries.dirs.insert(name);
            continue;
        }
        // The packed size bounds the ratio check; a header cannot claim more than the file holds.
        let packed = file.compressed_size().min(bytes.len() as u64);
        let content =
            read_limited(&mut file, packed, &mut unpacked_total).map_err(
                |failure| match failure {
                    ReadFailure::Io(err) => corrupt(format!("{raw_name}: {err}")),
                    ReadFailure::TotalTooLarge => CAppError::UnpackedTooLarge {
                        capp: capp.to_string(),
                        limit: MAX_CAPP_UNPACKED_BYTES,
                    },
                    ReadFailure::Ratio => CAppError::CompressionRatio {
                        capp: capp.to_string(),
                        entry: raw_name.clone(),
                        limit: MAX_CAPP_COMPRESSION_RATIO,
                    },
                },
            )?;
        if entries.dirs.contains(&name) {
            return Err(unsafe_name("both a file and a directory"));
        }
        entries.files.insert(name, content);
    }
    if let Some(clash) = entries.files.keys().find(|f| entries.dirs.contains(*f)) {
        return Err(CAppError::UnsafeEntryName {
            capp: capp.to_string(),
            entry: clash.clone(),
            why: "both a file and a directory".to_string(),
        });
    }
    Ok(entries)
}

/// The entry name without its trailing `/`, or why it is refused: a name that could write outside
/// the extraction directory (or means different files on different systems) is refused whole.
fn check_entry_name(raw: &str) -> Result<String, &'static str> {
    if raw.contains('\0') {
        return Err("contains a NUL character");
    }
    if raw.contains('\\') {
        return Err("contains a backslash");
    }
    if raw.starts_with('/') {
        return Err("an absolute path");
    }
    let bytes = raw.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err("an absolute path (drive letter)");
    }
    let name = raw.strip_suffix('/').unwrap_or(raw);
    if name.is_empty() {
        return Err("an empty name");
    }
    for component in name.split('/') {
        match component {
            ".." => return Err("a '..' path component"),
            "" | "." => return Err("an empty or '.' path component"),
            _ => {}
        }
    }
    Ok(name.to_string())
}

fn add_parent_dirs(dirs: &mut BTreeSet<String>, name: &str) {
    let mut end = 0;
    while let Some(slash) = name[end..].find('/') {
        end += slash;
        dirs.insert(name[..end].to_string());
        end += 1;
    }
}

enum ReadFailure {
    Io(std::io::Error),
    TotalTooLarge,
    Ratio,
}

/// Inflates one entry, counting the real bytes against the CApp total and the entry's ratio.
fn read_limited(
    reader: &mut impl Read,
    packed: u64,
    unpacked_total: &mut u64,
) -> Result<Vec<u8>, ReadFailure> {
    let mut content = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(ReadFailure::Io(err)),
        };
        *unpacked_total += n as u64;
        if *unpacked_total > MAX_CAPP_UNPACKED_BYTES {
            return Err(ReadFailure::TotalTooLarge);
        }
        content.extend_from_slice(&chunk[..n]);
        if ratio_exceeded(content.len() as u64, packed) {
            return Err(ReadFailure::Ratio);
        }
    }
    Ok(content)
}

/// True when an entry of `unpacked` bytes from `packed` bytes is a likely zip bomb.
fn ratio_exceeded(unpacked: u64, packed: u64) -> bool {
    unpacked > CAPP_COMPRESSION_RATIO_FLOOR_BYTES
        && unpacked > packed.saturating_mul(MAX_CAPP_COMPRESSION_RATIO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capp::test_zip::{ZipBuilder, zip_of};

    const CAPP: &str = "carbonapps/T.car";

    #[test]
    fn reads_files_and_implied_directories() {
        let bytes = zip_of(&[("a/b/c.xml", b"<c/>"), ("top.xml", b"<t/>")]);
        let entries = read_entries(CAPP, &bytes).unwrap();
        assert_eq!(entries.files["a/b/c.xml"], b"<c/>");
        assert_eq!(entries.files["top.xml"], b"<t/>");
        assert!(entries.dirs.contains("a") && entries.dirs.contains("a/b"));
        assert_eq!(entries.top_dirs().collect::<Vec<_>>(), ["a"]);
        assert_eq!(entries.sub_dirs("a").collect::<Vec<_>>(), ["a/b"]);
        assert_eq!(entries.files_under("a").count(), 1);
    }

    #[test]
    fn meta_inf_is_skipped_as_mi_does() {
        let bytes = zip_of(&[("META-INF/MANIFEST.MF", b"x"), ("a.xml", b"<a/>")]);
        let entries = read_entries(CAPP, &bytes).unwrap();
        assert!(!entries.files.contains_key("META-INF/MANIFEST.MF"));
        assert!(entries.files.contains_key("a.xml"));
    }

    #[test]
    fn capp_at_byte_limit_is_read_and_one_more_byte_is_refused() {
        // At the limit the size check passes (and the zeros are then not a zip).
        let at_limit = vec![0u8; MAX_CAPP_BYTES as usize];
        assert!(matches!(
            read_entries(CAPP, &at_limit),
            Err(CAppError::Corrupt { .. })
        ));
        let over = vec![0u8; MAX_CAPP_BYTES as usize + 1];
        let err = read_entries(CAPP, &over).unwrap_err();
        assert!(matches!(err, CAppError::TooLarge { size, .. } if size == MAX_CAPP_BYTES + 1));
        assert!(err.to_string().contains(CAPP), "{err}");
    }

    #[test]
    fn entry_count_at_limit_is_read_and_one_more_is_refused() {
        let build = |count: usize| {
            let mut zip = ZipBuilder::new();
            for i in 0..count {
                zip.stored(&format!("d/{i}.txt"), b"");
            }
            zip.finish()
        };
        assert!(read_entries(CAPP, &build(MAX_CAPP_ENTRIES)).is_ok());
        let err = read_entries(CAPP, &build(MAX_CAPP_ENTRIES + 1)).unwrap_err();
        assert!(
            matches!(err, CAppError::TooManyEntries { count, .. } if count == MAX_CAPP_ENTRIES + 1)
        );
    }

    #[test]
    fn unpacked_total_over_limit_is_refused() {
        // 256 entries of 1 MiB zeros (each at the ratio floor, so the ratio check does not fire)
        // unpack to exactly the limit; one more byte is refused. The one compressed MiB is copied.
        let mib = CAPP_COMPRESSION_RATIO_FLOOR_BYTES as usize;
        let copies = (MAX_CAPP_UNPACKED_BYTES as usize) / mib;
        let build = |one_more: bool| {
            let mut zip = ZipBuilder::new();
            zip.deflated("fill/0", &vec![0u8; mib]);
            for i in 1..copies {
                zip.copy("fill/0", &format!("fill/{i}"));
            }
            if one_more {
                zip.stored("one-more", b"x");
            }
            zip.finish()
        };
        let total: usize = read_entries(CAPP, &build(false))
            .unwrap()
            .files
            .values()
            .map(Vec::len)
            .sum();
        assert_eq!(total as u64, MAX_CAPP_UNPACKED_BYTES);
        let err = read_entries(CAPP, &build(true)).unwrap_err();
        assert!(matches!(err, CAppError::UnpackedTooLarge { .. }), "{err}");
    }

    #[test]
    fn ratio_at_limit_passes_and_one_byte_more_is_refused() {
        let packed = 20_000;
        assert!(!ratio_exceeded(packed * MAX_CAPP_COMPRESSION_RATIO, packed));
        assert!(ratio_exceeded(
            packed * MAX_CAPP_COMPRESSION_RATIO + 1,
            packed
        ));
        // Below the floor any ratio is accepted.
        assert!(!ratio_exceeded(CAPP_COMPRESSION_RATIO_FLOOR_BYTES, 1));
        assert!(ratio_exceeded(CAPP_COMPRESSION_RATIO_FLOOR_BYTES + 1, 1));
    }

    #[test]
    fn zip_bomb_entry_is_refused_by_ratio() {
        // 4 MiB of zeros deflate to a few KiB: far above 100:1.
        let mut zip = ZipBuilder::new();
        zip.deflated("bomb.xml", &vec![0u8; 4 * 1024 * 1024]);
        let err = read_entries(CAPP, &zip.finish()).unwrap_err();
        assert!(
            matches!(&err, CAppError::CompressionRatio { entry, .. } if entry == "bomb.xml"),
            "{err}"
        );
        // The floor itself is fine.
        let mut zip = ZipBuilder::new();
        zip.deflated(
            "ok.xml",
            &vec![0u8; CAPP_COMPRESSION_RATIO_FLOOR_BYTES as usize],
        );
        assert!(read_entries(CAPP, &zip.finish()).is_ok());
    }

    #[test]
    fn zip_slip_names_are_refused_naming_the_entry() {
        for (name, why) in [
            ("../evil.xml", "'..'"),
            ("a/../../evil.xml", "'..'"),
            ("/etc/passwd", "absolute"),
            ("C:/evil.xml", "drive letter"),
            ("a\\..\\evil.xml", "backslash"),
            ("a/\0.xml", "NUL"),
            ("a//b.xml", "empty or '.'"),
            ("./a.xml", "empty or '.'"),
        ] {
            let bytes = zip_of(&[(name, b"x")]);
            let err = read_entries(CAPP, &bytes).unwrap_err();
            let CAppError::UnsafeEntryName {
                entry, why: got, ..
            } = &err
            else {
                panic!("{name}: {err}");
            };
            assert_eq!(entry, name);
            assert!(got.contains(why), "{name}: {got}");
            assert!(err.to_string().contains(CAPP), "{err}");
        }
    }

    #[test]
    fn file_and_directory_with_one_name_are_refused() {
        let bytes = zip_of(&[("a", b"x"), ("a/b", b"y")]);
        assert!(matches!(
            read_entries(CAPP, &bytes),
            Err(CAppError::UnsafeEntryName { .. })
        ));
    }

    #[test]
    fn duplicate_entry_names_are_refused() {
        // The zip writer refuses duplicates, so rename one entry in the written bytes.
        let mut bytes = zip_of(&[("a.txt", b"1"), ("b.txt", b"2")]);
        let mut at = 0;
        while let Some(found) = bytes[at..].windows(5).position(|w| w == b"b.txt") {
            at += found;
            bytes[at] = b'a';
        }
        let err = read_entries(CAPP, &bytes).unwrap_err();
        assert!(
            matches!(&err, CAppError::Corrupt { reason, .. } if reason.contains("same name")),
            "{err}"
        );
    }

    #[test]
    fn symbolic_links_are_refused() {
        let mut zip = ZipBuilder::new();
        zip.symlink("link", "/etc/passwd");
        let err = read_entries(CAPP, &zip.finish()).unwrap_err();
        assert!(
            matches!(&err, CAppError::UnsafeEntryName { entry, why, .. } if entry == "link" && why.contains("symbolic link")),
            "{err}"
        );
    }

    #[test]
    fn corrupt_zip_is_a_clear_error() {
        let err = read_entries(CAPP, b"this is not a zip file").unwrap_err();
        assert!(matches!(err, CAppError::Corrupt { .. }));
        assert!(err.to_string().contains("not a readable zip"), "{err}");

        // A damaged body (CRC mismatch) is reported naming the entry.
        let mut bytes = zip_of(&[("a.txt", b"hello hello hello")]);
        let at = bytes
            .windows(5)
            .position(|w| w == b"hello")
            .expect("stored content");
        bytes[at] = b'j';
        let err = read_entries(CAPP, &bytes).unwrap_err();
        assert!(
            matches!(&err, CAppError::Corrupt { reason, .. } if reason.contains("a.txt")),
            "{err}"
        );
    }
}
