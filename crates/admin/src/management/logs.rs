//! `/logs` (MI `LogFilesResource`): the files of `repository/logs/` as `{FileName, Size}`, and
//! `?file=NAME` to download one. Only plain file names are accepted and the resolved path must
//! stay inside the logs folder (no `..`, no separators, no symlink leading out).

use std::path::Path;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Value, json};

use super::{Ctx, error, list_response};

/// Largest log file served in one answer (the answer is built in memory).
pub const MAX_LOG_DOWNLOAD_BYTES: u64 = 64 * 1024 * 1024;

/// MI's size text (`Utils.getFileSize`): bytes below 1 KiB, else one decimal and a unit.
fn size_text(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let units = ["KB", "MB", "GB", "TB"];
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", units[unit])
}

pub(super) fn get(ctx: &Ctx<'_>) -> Response<Bytes> {
    let dir = &ctx.facts.logs_dir;
    if let Some(name) = ctx.query.get("file") {
        return download(dir, name);
    }
    let mut files: Vec<(String, u64)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let meta = entry.metadata().ok()?;
            let name = entry.file_name().into_string().ok()?;
            (meta.is_file() && !name.ends_with(".lck")).then_some((name, meta.len()))
        })
        .collect();
    files.sort();
    let mut list: Vec<Value> = files
        .iter()
        .filter(|(name, _)| ctx.matches_search(name))
        .map(|(name, size)| json!({"FileName": name, "Size": size_text(*size)}))
        .collect();
    if files.is_empty() {
        list.push(json!({"FileName": "NO_LOG_FILES", "Size": "---"}));
    }
    list_response(list)
}

/// A plain file name: no separators, no `.`/`..`, no control characters.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control)
}

fn download(dir: &Path, name: &str) -> Response<Bytes> {
    if !is_plain_name(name) {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("Invalid log file name {name:?}: give a file name from the /logs list"),
        );
    }
    // MI answers 500 when the file cannot be read.
    let not_found = || {
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("Log file {name} does not exist"),
        )
    };
    let (Ok(root), Ok(path)) = (
        std::fs::canonicalize(dir),
        std::fs::canonicalize(dir.join(name)),
    ) else {
        return not_found();
    };
    if path.parent() != Some(root.as_path()) {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("Log file {name} is outside the logs folder"),
        );
    }
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() && m.len() > MAX_LOG_DOWNLOAD_BYTES => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "Log file {name} has {} bytes, more than the {MAX_LOG_DOWNLOAD_BYTES} served at once",
                    m.len()
                ),
            );
        }
        Ok(m) if m.is_file() => {}
        _ => return not_found(),
    }
    match std::fs::read(&path) {
        Ok(bytes) => {
            let mut r = Response::new(Bytes::from(bytes));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(_) => not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_mi() {
        assert_eq!(size_text(0), "0 B");
        assert_eq!(size_text(1023), "1023 B");
        assert_eq!(size_text(1024), "1.0 KB");
        assert_eq!(size_text(1536), "1.5 KB");
        assert_eq!(size_text(5 * 1024 * 1024), "5.0 MB");
    }

    #[test]
    fn only_plain_names_are_served() {
        assert!(is_plain_name("wso2carbon.log"));
        for bad in ["", ".", "..", "../x", "a/b", "a\\b", "x\n"] {
            assert!(!is_plain_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn files_outside_or_over_the_limit_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), logs.join("link")).unwrap();
        assert_eq!(download(&logs, "link").status(), 400);
        assert_eq!(download(&logs, "../secret").status(), 400);
        assert_eq!(download(&logs, "missing.log").status(), 500);
        std::fs::write(logs.join("a.log"), "hello").unwrap();
        let r = download(&logs, "a.log");
        assert_eq!(r.status(), 200);
        assert_eq!(r.body().as_ref(), b"hello");
        let big = std::fs::File::create(logs.join("big.log")).unwrap();
        big.set_len(MAX_LOG_DOWNLOAD_BYTES + 1).unwrap();
        assert_eq!(download(&logs, "big.log").status(), 413);
        big.set_len(MAX_LOG_DOWNLOAD_BYTES).unwrap();
        assert_eq!(download(&logs, "big.log").status(), 200);
    }
}
