//! The HTTP access log of the pass-through listeners, configured as MI's
//! `conf/access-log.properties` describes (MI docs, "Configuring HTTP access logs" in
//! `observe-and-manage/classic-observability-logs/configuring-log4j2-properties.md`):
//! `access_log_pattern` (Tomcat-style `%` codes, `%{Header}i` / `%{Header}o`),
//! `access_log_directory` (default `repository/logs`), `access_log_prefix` / `access_log_suffix`.
//!
//! Off by default: the log is written only when `conf/access-log.properties` exists. One line per
//! exchange (MI writes the request and the response on two lines). The file rolls at
//! [`ACCESS_LOG_ROLL_BYTES`] like MI's `HTTP_ACCESS_LOGFILE` appender (1 MB, 20 files).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use conflux_transport::passthrough::{AccessLog, AccessRecord};

use crate::logging::{RollingFile, civil_from_days};

/// The file that switches the access log on and configures it.
pub const ACCESS_LOG_PROPERTIES: &str = "conf/access-log.properties";
/// MI's default pattern: Apache combined with `X-Forwarded-For` first.
pub const DEFAULT_ACCESS_LOG_PATTERN: &str =
    r#"%{X-Forwarded-For}i %h %l %u %t "%r" %s %b "%{Referer}i" "%{User-Agent}i""#;
/// MI's `HTTP_ACCESS_LOGFILE` rolls at 1 MB and keeps 20 files.
pub const ACCESS_LOG_ROLL_BYTES: u64 = 1024 * 1024;
pub const ACCESS_LOG_ROLL_MAX: u32 = 20;
/// Longest pattern accepted.
pub const MAX_PATTERN_CHARS: usize = 4096;

/// A problem in access-log.properties.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessLogError {
    #[error("{file}:{line}: access_log_pattern: {reason}")]
    Pattern {
        file: String,
        line: usize,
        reason: String,
    },
    #[error("{file}: cannot open the access log {path}: {reason}")]
    Open {
        file: String,
        path: String,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(String),
    RequestHeader(String),
    ResponseHeader(String),
    RemoteIp,
    LocalIp,
    LocalPort,
    BytesOrDash,
    Bytes,
    Dash,
    Time,
    RequestLine,
    Status,
    Method,
    Path,
    Query,
    Protocol,
    Seconds,
    Millis,
    ServerName,
}

/// A parsed pattern and where lines go.
pub struct HttpAccessLog {
    tokens: Vec<Token>,
    file: RollingFile,
    hostname: String,
    pub path: PathBuf,
}

/// Loads `<home>/conf/access-log.properties`; `Ok(None)` when it does not exist (the log is off).
///
/// # Errors
/// A malformed pattern or an access log file that cannot be opened.
pub fn load(home: &Path, hostname: &str) -> Result<Option<HttpAccessLog>, AccessLogError> {
    let file = home.join(ACCESS_LOG_PROPERTIES);
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Ok(None);
    };
    let name = file.to_string_lossy().to_string();
    let props = crate::log4j2::properties(&text);
    let get = |k: &str| props.get(k).map(|(v, line)| (v.as_str(), *line));
    let (pattern, line) = get("access_log_pattern").unwrap_or((DEFAULT_ACCESS_LOG_PATTERN, 0));
    let tokens = parse_pattern(pattern).map_err(|reason| AccessLogError::Pattern {
        file: name.clone(),
        line,
        reason,
    })?;
    let dir = get("access_log_directory")
        .map(|(v, _)| home.join(v))
        .unwrap_or_else(|| home.join(crate::logging::LOGS_DIR));
    let prefix = get("access_log_prefix")
        .map(|(v, _)| v)
        .unwrap_or("http_access");
    let suffix = get("access_log_suffix").map(|(v, _)| v).unwrap_or(".log");
    let path = dir.join(format!("{prefix}{suffix}"));
    let rolling = RollingFile::open(path.clone(), ACCESS_LOG_ROLL_BYTES, ACCESS_LOG_ROLL_MAX)
        .map_err(|e| AccessLogError::Open {
            file: name,
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
    Ok(Some(HttpAccessLog {
        tokens,
        file: rolling,
        hostname: hostname.to_string(),
        path,
    }))
}

fn parse_pattern(pattern: &str) -> Result<Vec<Token>, String> {
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!("longer than {MAX_PATTERN_CHARS} characters"));
    }
    let mut tokens = Vec::new();
    let mut literal = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            literal.push(c);
            continue;
        }
        let token = match chars.next() {
            Some('%') => {
                literal.push('%');
                continue;
            }
            Some('{') => {
                let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                match chars.next() {
                    Some('i') => Token::RequestHeader(name),
                    Some('o') => Token::ResponseHeader(name),
                    other => {
                        return Err(format!(
                            "%{{{name}}} must be followed by i (request header) or o (response header), not {other:?}"
                        ));
                    }
                }
            }
            // Single-letter codes of MI's "Supported log pattern formats" table.
            Some(code) => match code {
                'a' | 'h' => Token::RemoteIp,
                'A' => Token::LocalIp,
                'p' => Token::LocalPort,
                'b' => Token::BytesOrDash,
                'B' => Token::Bytes,
                'l' | 'u' => Token::Dash,
                't' => Token::Time,
                'r' => Token::RequestLine,
                's' => Token::Status,
                'm' => Token::Method,
                'U' => Token::Path,
                'q' => Token::Query,
                'H' => Token::Protocol,
                'T' => Token::Seconds,
                'D' => Token::Millis,
                'v' => Token::ServerName,
                'c' => Token::RequestHeader("Cookie".into()),
                'C' => Token::RequestHeader("Accept".into()),
                'e' => Token::RequestHeader("Accept-Encoding".into()),
                'E' => Token::RequestHeader("Transfer-Encoding".into()),
                'L' => Token::RequestHeader("Accept-Language".into()),
                'k' => Token::RequestHeader("Keep-Alive".into()),
                'n' => Token::ResponseHeader("Content-Encoding".into()),
                'S' => Token::RequestHeader("Accept-Charset".into()),
                'V' => Token::ResponseHeader("Vary".into()),
                'x' => Token::RequestHeader("Connection".into()),
                'Z' => Token::ResponseHeader("Server".into()),
                other => {
                    return Err(format!(
                        "%{other} is not supported; valid: a A b B c C D e E h H k l L m n p q r s S t T u U v V x Z, %{{Header}}i, %{{Header}}o, %%"
                    ));
                }
            },
            None => return Err("a lone % at the end".into()),
        };
        if !literal.is_empty() {
            tokens.push(Token::Literal(std::mem::take(&mut literal)));
        }
        tokens.push(token);
    }
    if !literal.is_empty() {
        tokens.push(Token::Literal(literal));
    }
    Ok(tokens)
}

impl HttpAccessLog {
    /// The log line of one exchange (without the newline).
    fn line(&self, r: &AccessRecord<'_>) -> String {
        let header = |map: &http::HeaderMap, name: &str| {
            map.get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_string()
        };
        let length = r
            .response_headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let mut out = String::with_capacity(160);
        for t in &self.tokens {
            match t {
                Token::Literal(s) => out.push_str(s),
                Token::RequestHeader(h) => out.push_str(&header(r.request_headers, h)),
                Token::ResponseHeader(h) => out.push_str(&header(r.response_headers, h)),
                Token::RemoteIp => {
                    let _ = write!(out, "{}", r.conn.remote.ip());
                }
                Token::LocalIp => {
                    let _ = write!(out, "{}", r.conn.local.ip());
                }
                Token::LocalPort => {
                    let _ = write!(out, "{}", r.conn.local.port());
                }
                Token::BytesOrDash => match length {
                    Some(n) if n > 0 => {
                        let _ = write!(out, "{n}");
                    }
                    _ => out.push('-'),
                },
                Token::Bytes => {
                    let _ = write!(out, "{}", length.unwrap_or(0));
                }
                Token::Dash => out.push('-'),
                Token::Time => out.push_str(&clf_time(r.received_at)),
                Token::RequestLine => {
                    let target = r.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                    let _ = write!(out, "{} {target} {:?}", r.method, r.version);
                }
                Token::Status => {
                    let _ = write!(out, "{}", r.status.as_u16());
                }
                Token::Method => out.push_str(r.method.as_str()),
                Token::Path => out.push_str(r.uri.path()),
                Token::Query => {
                    if let Some(q) = r.uri.query() {
                        out.push('?');
                        out.push_str(q);
                    }
                }
                Token::Protocol => {
                    let _ = write!(out, "{:?}", r.version);
                }
                Token::Seconds => {
                    let _ = write!(out, "{:.3}", r.elapsed.as_secs_f64());
                }
                Token::Millis => {
                    let _ = write!(out, "{}", r.elapsed.as_millis());
                }
                Token::ServerName => out.push_str(&self.hostname),
            }
        }
        // One record per line, whatever a header contained.
        out.retain(|c| c != '\n' && c != '\r');
        out
    }
}

impl AccessLog for HttpAccessLog {
    fn record(&self, record: &AccessRecord<'_>) {
        let mut line = self.line(record);
        line.push('\n');
        self.file.write_line(line.as_bytes());
    }
}

/// `[10/Nov/2020:08:52:35.604 +0000]`, MI's access-log time (UTC here).
fn clf_time(at: std::time::SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "[{d:02}/{}/{y:04}:{:02}:{:02}:{:02}.{:03} +0000]",
        MONTHS[(m as usize).saturating_sub(1) % 12],
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use conflux_transport::server::ConnInfo;
    use std::time::Duration;

    fn record_line(pattern: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("conf")).unwrap();
        std::fs::write(
            dir.path().join(ACCESS_LOG_PROPERTIES),
            format!("access_log_pattern={pattern}\naccess_log_prefix=acc\n"),
        )
        .unwrap();
        let log = load(dir.path(), "myhost").unwrap().unwrap();
        let conn = ConnInfo {
            remote: "10.1.2.3:5555".parse().unwrap(),
            local: "127.0.0.1:8290".parse().unwrap(),
            tls: false,
        };
        let mut req = http::HeaderMap::new();
        req.insert("user-agent", "curl/8".parse().unwrap());
        let mut resp = http::HeaderMap::new();
        resp.insert("content-length", "17".parse().unwrap());
        let uri: http::Uri = "/hello/x?a=1".parse().unwrap();
        log.record(&AccessRecord {
            conn: &conn,
            method: &http::Method::GET,
            uri: &uri,
            version: http::Version::HTTP_11,
            request_headers: &req,
            status: http::StatusCode::OK,
            response_headers: &resp,
            received_at: UNIX_EPOCH + Duration::from_millis(1_709_210_096_789),
            elapsed: Duration::from_millis(12),
        });
        std::fs::read_to_string(dir.path().join("repository/logs/acc.log")).unwrap()
    }

    #[test]
    fn mi_default_pattern() {
        let line = record_line(DEFAULT_ACCESS_LOG_PATTERN);
        assert_eq!(
            line,
            "- 10.1.2.3 - - [29/Feb/2024:12:34:56.789 +0000] \"GET /hello/x?a=1 HTTP/1.1\" 200 17 \"-\" \"curl/8\"\n"
        );
    }

    #[test]
    fn other_codes() {
        let line = record_line("%m %U%q %H %s %B %D %A:%p %v %{Content-Length}o 100%%");
        assert_eq!(
            line,
            "GET /hello/x?a=1 HTTP/1.1 200 17 12 127.0.0.1:8290 myhost 17 100%\n"
        );
    }

    #[test]
    fn bad_patterns_are_located_and_limited() {
        assert!(
            parse_pattern("%Q")
                .unwrap_err()
                .contains("%Q is not supported")
        );
        assert!(parse_pattern("%{X}z").is_err());
        assert!(parse_pattern("abc %").is_err());
        assert!(parse_pattern(&"a".repeat(MAX_PATTERN_CHARS)).is_ok());
        assert!(parse_pattern(&"a".repeat(MAX_PATTERN_CHARS + 1)).is_err());
    }

    #[test]
    fn absent_file_means_off() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path(), "h").unwrap().is_none());
    }
}
