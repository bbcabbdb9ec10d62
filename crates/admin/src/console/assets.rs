//! The console's static files: every file under `crates/admin/console/`, embedded in the binary at
//! compile time by `include_dir!` (the crate's `build.rs` makes Cargo rebuild when a file there is
//! added, changed or removed), so a new file needs no code change. This module maps a request path
//! to one of them with its `Content-Type` (by extension) and a strong `ETag` (SHA-256 of the bytes),
//! and refuses paths that try to leave the directory.

use std::collections::HashMap;
use std::sync::OnceLock;

use include_dir::{Dir, include_dir};

/// Every file of `crates/admin/console/`, recursively.
static CONSOLE_DIR: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/console");

/// The file `/console/` serves.
pub const INDEX: &str = "index.html";

/// Longest asset path (after `/console/`) looked up; longer paths are refused before decoding.
pub const MAX_ASSET_PATH_BYTES: usize = 512;

/// One embedded file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The path under `console/`, `/`-separated.
    pub path: &'static str,
    pub body: &'static [u8],
    pub content_type: &'static str,
    /// Quoted strong entity tag.
    pub etag: &'static str,
}

/// Why a path names no asset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssetError {
    /// `..`, `.`, empty segments, backslashes, NUL or bad escapes: answered 400.
    #[error("the console path {0:?} is not allowed: use a plain path below /console/")]
    Refused(String),
    /// A well-formed path no file has: answered 404.
    #[error("no console file {0:?}")]
    NotFound(String),
}

/// The asset at `rel`, the request path after `/console/` (still percent-encoded); the empty path
/// is [`INDEX`].
pub fn lookup(rel: &str) -> Result<Asset, AssetError> {
    let refused = || AssetError::Refused(rel.chars().take(80).collect());
    if rel.len() > MAX_ASSET_PATH_BYTES {
        return Err(refused());
    }
    let decoded = percent_decode(rel).ok_or_else(refused)?;
    if decoded.is_empty() {
        return find(INDEX).ok_or_else(|| AssetError::NotFound(INDEX.into()));
    }
    let bad_segment = decoded
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..");
    if bad_segment || decoded.contains(['\\', '\0']) {
        return Err(refused());
    }
    find(&decoded).ok_or(AssetError::NotFound(decoded))
}

/// Every embedded file's path, sorted.
pub fn paths() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = etags().keys().copied().collect();
    all.sort_unstable();
    all
}

fn find(path: &str) -> Option<Asset> {
    let file = CONSOLE_DIR.get_file(path)?;
    let path = file.path().to_str()?;
    let etag = etags().get(path)?;
    Some(Asset {
        path,
        body: file.contents(),
        content_type: content_type(path),
        etag,
    })
}

/// Entity tags of every file, computed once.
fn etags() -> &'static HashMap<&'static str, &'static str> {
    static ETAGS: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        let mut map = HashMap::new();
        let mut stack = vec![&CONSOLE_DIR];
        while let Some(dir) = stack.pop() {
            stack.extend(dir.dirs());
            for file in dir.files() {
                let Some(path) = file.path().to_str() else {
                    continue;
                };
                let digest = ring::digest::digest(&ring::digest::SHA256, file.contents());
                let hex: String = digest.as_ref()[..16]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let etag: &'static str = Box::leak(format!("\"{hex}\"").into_boxed_str());
                map.insert(path, etag);
            }
        }
        map
    })
}

/// The media type of a file by its extension; unknown types are `application/octet-stream`
/// (served with `X-Content-Type-Options: nosniff`).
pub fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "txt" | "md" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// `%XX` escapes decoded (UTF-8 required); `None` for a bad escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).and_then(|b| (*b as char).to_digit(16))?;
            let lo = bytes.get(i + 2).and_then(|b| (*b as char).to_digit(16))?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_path_is_the_index_page() {
        let index = lookup("").expect("index.html is embedded");
        assert_eq!(index.path, INDEX);
        assert_eq!(index.content_type, "text/html; charset=utf-8");
        assert!(index.etag.starts_with('"') && index.etag.ends_with('"'));
        assert_eq!(lookup(INDEX).expect("by name").etag, index.etag);
    }

    #[test]
    fn every_embedded_file_is_found_with_its_type() {
        let all = paths();
        assert!(all.contains(&INDEX), "{all:?}");
        for path in all {
            let asset = lookup(path).expect(path);
            assert_eq!(asset.content_type, content_type(path));
            assert_eq!(asset.path, path);
        }
    }

    #[test]
    fn traversal_is_refused_and_missing_files_are_not_found() {
        for bad in [
            "../Cargo.toml",
            "..",
            "%2e%2e/Cargo.toml",
            "%2E%2E%2FCargo.toml",
            "js/../../Cargo.toml",
            "./index.html",
            "js//x.js",
            "..%5cCargo.toml",
            "a\\b",
            "%00",
            "%zz",
            "%c3%28",
        ] {
            assert!(
                matches!(lookup(bad), Err(AssetError::Refused(_))),
                "{bad}: {:?}",
                lookup(bad)
            );
        }
        assert_eq!(
            lookup("nope.js").unwrap_err(),
            AssetError::NotFound("nope.js".into())
        );
        // A directory is not a file.
        if let Some(dir) = CONSOLE_DIR.dirs().next().and_then(|d| d.path().to_str()) {
            assert!(matches!(lookup(dir), Err(AssetError::NotFound(_))), "{dir}");
        }
    }

    #[test]
    fn paths_longer_than_the_limit_are_refused() {
        let at_limit = "a".repeat(MAX_ASSET_PATH_BYTES);
        assert!(matches!(lookup(&at_limit), Err(AssetError::NotFound(_))));
        let over = "a".repeat(MAX_ASSET_PATH_BYTES + 1);
        assert!(matches!(lookup(&over), Err(AssetError::Refused(_))));
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type("a/b.JS"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("x.css"), "text/css; charset=utf-8");
        assert_eq!(
            content_type("vendor/LICENSE-chart.js.txt"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(content_type("logo.svg"), "image/svg+xml");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
