//! The console's live log tail: the complete lines appended to `repository/logs/wso2carbon.log`
//! after a byte offset the browser keeps, at most [`MAX_TAIL_BYTES`] per call. Without an offset,
//! the last [`DEFAULT_TAIL_LINES`] lines. When more than the limit was appended, the oldest part
//! is skipped (`truncated`): a live view wants the newest lines. A file shorter than the offset
//! was rotated, and is read again from its start.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The file the tail reads, in `repository/logs`: MI's `CARBON_LOGFILE` appender
/// (wso2/micro-integrator `distribution/src/conf/log4j2.properties`: `fileName =
/// ${sys:logfiles.home}/wso2carbon.log`, rolled over to `wso2carbon-%d{MM-dd-yyyy}.log`, after
/// which the new file is shorter than the browser's offset and is read from its start).
pub const LOG_FILE: &str = "wso2carbon.log";

/// Most bytes of the file one call returns.
pub const MAX_TAIL_BYTES: u64 = 64 * 1024;

/// Lines returned when the browser gives no offset.
pub const DEFAULT_TAIL_LINES: usize = 200;

/// One answer of the tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    /// Where the next call starts: just after the last complete line returned.
    pub offset: u64,
    pub lines: Vec<String>,
    /// Some bytes between the asked offset and the first line returned were skipped.
    pub truncated: bool,
}

/// Cannot read the log file.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct TailError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

/// The lines of `path` after byte `after` (or the last [`DEFAULT_TAIL_LINES`]); a missing file has
/// no lines yet.
pub fn tail(path: &Path, after: Option<u64>) -> Result<Tail, TailError> {
    let fail = |source| TailError {
        path: path.display().to_string(),
        source,
    };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Tail {
                offset: 0,
                lines: Vec::new(),
                truncated: false,
            });
        }
        Err(e) => return Err(fail(e)),
    };
    let len = file.metadata().map_err(fail)?.len();
    // A file shorter than the offset was rotated or truncated: start over.
    let asked = match after {
        Some(a) if a <= len => a,
        Some(_) => 0,
        None => len.saturating_sub(MAX_TAIL_BYTES),
    };
    let start = asked.max(len.saturating_sub(MAX_TAIL_BYTES));
    let mut skipped = start > asked;
    // Starting where the browser did not stop (bytes skipped, or no offset given), the first line
    // may be cut: read the byte before `start` too, to tell.
    let peek = start > 0 && (skipped || after.is_none());
    let read_from = if peek { start - 1 } else { start };
    file.seek(SeekFrom::Start(read_from)).map_err(fail)?;
    let mut buf = Vec::with_capacity((len - read_from) as usize);
    file.take(len - read_from)
        .read_to_end(&mut buf)
        .map_err(fail)?;
    let first = usize::from(peek);
    let mut from = first;
    if peek
        && buf.first() != Some(&b'\n')
        && let Some(nl) = buf[first..].iter().position(|b| *b == b'\n')
    {
        from = first + nl + 1;
        skipped = true;
    }
    let end = match buf.iter().rposition(|b| *b == b'\n') {
        Some(nl) if nl >= from => nl + 1,
        // One line longer than the limit: return it cut rather than wait for ever.
        _ if (buf.len() - first) as u64 >= MAX_TAIL_BYTES => {
            return Ok(Tail {
                offset: len,
                lines: vec![String::from_utf8_lossy(&buf[first..]).into_owned()],
                truncated: true,
            });
        }
        _ => from,
    };
    let mut lines: Vec<String> = buf[from..end]
        .split(|b| *b == b'\n')
        .map(|l| String::from_utf8_lossy(l.strip_suffix(b"\r").unwrap_or(l)).into_owned())
        .collect();
    // `split` yields an empty piece after the final newline.
    lines.pop();
    if after.is_none() && lines.len() > DEFAULT_TAIL_LINES {
        lines.drain(..lines.len() - DEFAULT_TAIL_LINES);
        skipped = true;
    }
    Ok(Tail {
        offset: read_from + end as u64,
        lines,
        truncated: skipped,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn append(path: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn offsets_follow_complete_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join(LOG_FILE);
        assert_eq!(tail(&log, Some(0)).unwrap().lines, Vec::<String>::new());
        append(&log, "one\ntwo\nthr");
        let t = tail(&log, Some(0)).unwrap();
        assert_eq!(t.lines, ["one", "two"]);
        assert_eq!(t.offset, 8);
        assert!(!t.truncated);
        let t = tail(&log, Some(t.offset)).unwrap();
        assert!(t.lines.is_empty());
        assert_eq!(t.offset, 8, "the partial line waits");
        append(&log, "ee\r\nfour\n");
        let t = tail(&log, Some(8)).unwrap();
        assert_eq!(t.lines, ["three", "four"]);
        assert_eq!(t.offset, 20);
        // Rotated: shorter than the offset, read from the start.
        std::fs::write(&log, "new\n").unwrap();
        let t = tail(&log, Some(20)).unwrap();
        assert_eq!(t.lines, ["new"]);
        assert_eq!(t.offset, 4);
    }

    #[test]
    fn without_an_offset_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join(LOG_FILE);
        let text: String = (0..DEFAULT_TAIL_LINES + 5)
            .map(|i| format!("line {i}\n"))
            .collect();
        append(&log, &text);
        let t = tail(&log, None).unwrap();
        assert_eq!(t.lines.len(), DEFAULT_TAIL_LINES);
        assert_eq!(t.lines[0], "line 5");
        assert!(t.truncated);
        assert_eq!(t.offset, text.len() as u64);
        append(&log, "short\n");
        let t = tail(&log, None).unwrap();
        assert_eq!(t.lines.last().map(String::as_str), Some("short"));
    }

    #[test]
    fn one_call_returns_at_most_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join(LOG_FILE);
        // Exactly the limit: everything, not truncated.
        let line = format!("{}\n", "x".repeat(1023));
        let at_limit = line.repeat((MAX_TAIL_BYTES / 1024) as usize);
        append(&log, &at_limit);
        let t = tail(&log, Some(0)).unwrap();
        assert_eq!(t.lines.len(), 64);
        assert!(!t.truncated);
        assert_eq!(t.offset, MAX_TAIL_BYTES);
        // Limit + 1 bytes after the offset: the oldest (cut) line is skipped.
        std::fs::write(&log, format!("y{at_limit}")).unwrap();
        let t = tail(&log, Some(0)).unwrap();
        assert!(t.truncated);
        assert_eq!(t.lines.len(), 63);
        assert!(t.lines.iter().map(|l| l.len() as u64 + 1).sum::<u64>() <= MAX_TAIL_BYTES);
        assert_eq!(t.offset, MAX_TAIL_BYTES + 1);
    }

    #[test]
    fn a_line_longer_than_the_limit_is_cut_not_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join(LOG_FILE);
        append(&log, &"z".repeat(MAX_TAIL_BYTES as usize + 1));
        let t = tail(&log, Some(0)).unwrap();
        assert!(t.truncated);
        assert_eq!(t.lines.len(), 1);
        assert_eq!(t.lines[0].len() as u64, MAX_TAIL_BYTES);
        assert_eq!(t.offset, MAX_TAIL_BYTES + 1);
    }
}
