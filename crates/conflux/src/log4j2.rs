//! Reads the subset of MI's `conf/log4j2.properties` that MI users edit: the `loggers =` list with
//! `logger.<id>.name` / `.level`, `rootLogger.level` and its `appenderRef`s, and appenders of type
//! `Console`, `RollingFile`/`File` (`fileName`, `policies.size.size`, `strategy.max`,
//! `filter.threshold.level`) and `Syslog` (`host`, `port`, `protocol` UDP|TCP, `facility`,
//! `format` RFC5424 or BSD, `appName`).
//!
//! Log4j2 semantics kept (checked against MI's shipped file, mi-ports.md §6.3): only logger ids
//! listed in `loggers =` are configured (MI's file defines `logger.org-apache` without listing it,
//! and it must stay dead); appender references resolve by appender *name*, case-sensitively;
//! `${sys:logfiles.home}` is `<home>/repository/logs`. Everything else in the file (layouts other
//! than MI's, routing appenders, additivity) is accepted and ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tracing::level_filters::LevelFilter;

/// A Log4j2 file larger than this is refused (MI's own is about 30 KiB).
pub const MAX_LOG4J2_BYTES: usize = 1024 * 1024;
/// Log4j2's `SizeBasedTriggeringPolicy` default when `size` is absent: 10 MB.
pub const DEFAULT_ROLL_BYTES: u64 = 10 * 1024 * 1024;
/// Log4j2's `DefaultRolloverStrategy` default `max`.
pub const DEFAULT_ROLL_MAX: u32 = 7;
/// The logger id of the root logger in MI's Management API (`LoggingResource`).
pub const ROOT_LOGGER: &str = "rootLogger";

/// A problem in log4j2.properties, located by file and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Log4j2Error {
    #[error(
        "{file}:{line}: {key} = {value:?} is not a log level; valid: OFF, FATAL, ERROR, WARN, INFO, DEBUG, TRACE, ALL"
    )]
    BadLevel {
        file: String,
        line: usize,
        key: String,
        value: String,
    },
    #[error("{file}:{line}: {key} = {value:?} {reason}")]
    BadValue {
        file: String,
        line: usize,
        key: String,
        value: String,
        reason: String,
    },
    #[error("{file}: {size} bytes is larger than the {max} accepted")]
    TooLarge {
        file: String,
        size: usize,
        max: usize,
    },
}

/// Where a configured appender writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppenderKind {
    Console,
    File {
        path: PathBuf,
        roll_bytes: u64,
        roll_max: u32,
    },
    Syslog(SyslogTarget),
}

/// A `type = Syslog` appender's destination and framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogTarget {
    pub host: String,
    pub port: u16,
    pub protocol: SyslogProtocol,
    /// The facility number (LOCAL0 = 16, Log4j2's default).
    pub facility: u8,
    /// `format = RFC5424`; otherwise BSD (RFC 3164), Log4j2's default.
    pub rfc5424: bool,
    pub app_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogProtocol {
    Udp,
    Tcp,
}

/// One appender the root logger writes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appender {
    pub name: String,
    pub kind: AppenderKind,
    /// `filter.threshold.level`: the least severe level this appender takes.
    pub threshold: LevelFilter,
}

/// One configured logger: its id in `loggers =`, its name (a Java package or a Conflux target)
/// and level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggerConfig {
    pub id: String,
    pub name: String,
    pub level: LevelFilter,
}

/// The parts of log4j2.properties Conflux applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log4j2Config {
    pub root_level: LevelFilter,
    pub loggers: Vec<LoggerConfig>,
    /// Appenders referenced by the root logger, in reference order.
    pub appenders: Vec<Appender>,
    /// Problems that did not stop the file from loading (unknown appender references, types).
    pub warnings: Vec<String>,
}

impl Log4j2Config {
    /// Without a log4j2.properties: INFO to the console and `<logs>/wso2carbon.log`, as MI's
    /// shipped file does for the root logger.
    pub fn defaults(logs_dir: &Path) -> Log4j2Config {
        Log4j2Config {
            root_level: LevelFilter::INFO,
            loggers: Vec::new(),
            appenders: vec![
                Appender {
                    name: "CARBON_CONSOLE".into(),
                    kind: AppenderKind::Console,
                    threshold: LevelFilter::TRACE,
                },
                Appender {
                    name: "CARBON_LOGFILE".into(),
                    kind: AppenderKind::File {
                        path: logs_dir.join("wso2carbon.log"),
                        roll_bytes: DEFAULT_ROLL_BYTES,
                        roll_max: 20,
                    },
                    threshold: LevelFilter::TRACE,
                },
            ],
            warnings: Vec::new(),
        }
    }

    /// Parses `text` (the contents of `file`); `logs_dir` replaces `${sys:logfiles.home}` and
    /// `home` replaces `${sys:carbon.home}`.
    ///
    /// # Errors
    /// The first malformed level or value, with its line.
    pub fn parse(
        file: &str,
        text: &str,
        home: &Path,
        logs_dir: &Path,
    ) -> Result<Log4j2Config, Log4j2Error> {
        if text.len() > MAX_LOG4J2_BYTES {
            return Err(Log4j2Error::TooLarge {
                file: file.into(),
                size: text.len(),
                max: MAX_LOG4J2_BYTES,
            });
        }
        let props = properties(text);
        let get = |key: &str| props.get(key).map(|(v, line)| (v.as_str(), *line));
        let level_of = |key: &str| -> Result<Option<LevelFilter>, Log4j2Error> {
            match get(key) {
                None => Ok(None),
                Some((v, line)) => parse_level(v).map(Some).ok_or(Log4j2Error::BadLevel {
                    file: file.into(),
                    line,
                    key: key.into(),
                    value: v.into(),
                }),
            }
        };
        let mut warnings = Vec::new();

        let root_level = level_of("rootLogger.level")?.unwrap_or(LevelFilter::ERROR);
        let mut loggers = Vec::new();
        for id in list(get("loggers").map(|(v, _)| v).unwrap_or("")) {
            let Some((name, _)) = get(&format!("logger.{id}.name")) else {
                warnings.push(format!(
                    "{file}: logger {id} is listed in `loggers` but has no logger.{id}.name; ignored"
                ));
                continue;
            };
            let level = level_of(&format!("logger.{id}.level"))?.unwrap_or(root_level);
            loggers.push(LoggerConfig {
                id: id.to_string(),
                name: name.to_string(),
                level,
            });
        }

        // Appenders by name (refs resolve by name), among those listed in `appenders =` when the
        // list is given, else every `appender.<id>.type`.
        let listed: Vec<String> = match get("appenders") {
            Some((v, _)) => list(v).map(str::to_string).collect(),
            None => {
                let mut ids: Vec<String> = props
                    .keys()
                    .filter_map(|k| k.strip_prefix("appender.")?.strip_suffix(".type"))
                    .map(str::to_string)
                    .collect();
                ids.dedup();
                ids
            }
        };
        let substitute = |v: &str| {
            v.replace("${sys:logfiles.home}", &logs_dir.to_string_lossy())
                .replace("${sys:carbon.home}", &home.to_string_lossy())
        };
        let mut by_name: BTreeMap<String, (String, usize)> = BTreeMap::new();
        for id in &listed {
            if let Some((name, line)) = get(&format!("appender.{id}.name")) {
                by_name.insert(name.to_string(), (id.clone(), line));
            }
        }
        let mut appenders = Vec::new();
        let mut refs: Vec<(&String, &(String, usize))> = props
            .iter()
            .filter(|(k, _)| k.starts_with("rootLogger.appenderRef.") && k.ends_with(".ref"))
            .collect();
        refs.sort_by_key(|(_, (_, line))| *line);
        for (_, (reference, line)) in refs {
            let Some((id, _)) = by_name.get(reference.as_str()) else {
                warnings.push(format!(
                    "{file}:{line}: rootLogger.appenderRef refers to appender {reference:?}, which is not defined (appender names are case-sensitive); ignored"
                ));
                continue;
            };
            let key = |suffix: &str| format!("appender.{id}.{suffix}");
            let threshold = level_of(&key("filter.threshold.level"))?.unwrap_or(LevelFilter::TRACE);
            let kind = match get(&key("type")).map(|(v, _)| v) {
                Some("Console") => AppenderKind::Console,
                Some("RollingFile") | Some("File") | Some("RollingRandomAccessFile") => {
                    let Some((path, _)) = get(&key("fileName")) else {
                        warnings.push(format!("{file}: appender {id} has no fileName; ignored"));
                        continue;
                    };
                    let roll_bytes = match get(&key("policies.size.size")) {
                        Some((v, line)) => parse_size(v).ok_or_else(|| Log4j2Error::BadValue {
                            file: file.into(),
                            line,
                            key: key("policies.size.size"),
                            value: v.into(),
                            reason: "is not a size; valid: a number with KB, MB or GB, e.g. 10MB"
                                .into(),
                        })?,
                        None => DEFAULT_ROLL_BYTES,
                    };
                    let roll_max = match get(&key("strategy.max")) {
                        Some((v, line)) => v.parse().map_err(|_| Log4j2Error::BadValue {
                            file: file.into(),
                            line,
                            key: key("strategy.max"),
                            value: v.into(),
                            reason: "is not a whole number".into(),
                        })?,
                        None => DEFAULT_ROLL_MAX,
                    };
                    AppenderKind::File {
                        path: PathBuf::from(substitute(path)),
                        roll_bytes,
                        roll_max,
                    }
                }
                Some("Syslog") => AppenderKind::Syslog(syslog_target(file, &get, id)?),
                other => {
                    warnings.push(format!(
                        "{file}: appender {id} has type {other:?}, which Conflux does not implement (Console, RollingFile, File, Syslog); ignored"
                    ));
                    continue;
                }
            };
            appenders.push(Appender {
                name: reference.clone(),
                kind,
                threshold,
            });
        }
        Ok(Log4j2Config {
            root_level,
            loggers,
            appenders,
            warnings,
        })
    }
}

fn syslog_target<'a>(
    file: &str,
    get: &dyn Fn(&str) -> Option<(&'a str, usize)>,
    id: &str,
) -> Result<SyslogTarget, Log4j2Error> {
    let key = |suffix: &str| format!("appender.{id}.{suffix}");
    let bad = |k: String, v: &str, line: usize, reason: &str| Log4j2Error::BadValue {
        file: file.into(),
        line,
        key: k,
        value: v.into(),
        reason: reason.into(),
    };
    let host = get(&key("host")).map(|(v, _)| v).unwrap_or("localhost");
    let port = match get(&key("port")) {
        Some((v, line)) => v
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad(key("port"), v, line, "is not a port; valid: 1-65535"))?,
        None => 514,
    };
    // Log4j2's socket builder defaults to TCP (mi-ports.md §6.2).
    let protocol = match get(&key("protocol")) {
        Some((v, line)) => match v.to_ascii_uppercase().as_str() {
            "UDP" => SyslogProtocol::Udp,
            "TCP" => SyslogProtocol::Tcp,
            _ => {
                return Err(bad(
                    key("protocol"),
                    v,
                    line,
                    "is not a protocol; valid: UDP, TCP",
                ));
            }
        },
        None => SyslogProtocol::Tcp,
    };
    let facility = match get(&key("facility")) {
        Some((v, line)) => facility_number(v).ok_or_else(|| {
            bad(
                key("facility"),
                v,
                line,
                "is not a syslog facility; valid: KERN, USER, MAIL, DAEMON, AUTH, SYSLOG, LPR, NEWS, UUCP, CRON, AUTHPRIV, FTP, LOCAL0-LOCAL7",
            )
        })?,
        None => 16,
    };
    let rfc5424 = get(&key("format")).is_some_and(|(v, _)| v.eq_ignore_ascii_case("RFC5424"))
        || get(&key("layout.type")).is_some_and(|(v, _)| v == "Rfc5424Layout");
    let app_name = get(&key("appName"))
        .map(|(v, _)| v.to_string())
        .unwrap_or_else(|| "conflux".into());
    Ok(SyslogTarget {
        host: host.to_string(),
        port,
        protocol,
        facility,
        rfc5424,
        app_name,
    })
}

/// Log4j2 level names, any case (MI's file writes one as `Error`).
pub fn parse_level(v: &str) -> Option<LevelFilter> {
    Some(match v.trim().to_ascii_uppercase().as_str() {
        "OFF" => LevelFilter::OFF,
        "FATAL" | "ERROR" => LevelFilter::ERROR,
        "WARN" => LevelFilter::WARN,
        "INFO" => LevelFilter::INFO,
        "DEBUG" => LevelFilter::DEBUG,
        "TRACE" | "ALL" => LevelFilter::TRACE,
        _ => return None,
    })
}

/// The Log4j2 name of a level, as the Management API reports it.
pub fn level_name(level: LevelFilter) -> &'static str {
    match level {
        LevelFilter::OFF => "OFF",
        LevelFilter::ERROR => "ERROR",
        LevelFilter::WARN => "WARN",
        LevelFilter::INFO => "INFO",
        LevelFilter::DEBUG => "DEBUG",
        _ => "TRACE",
    }
}

fn facility_number(v: &str) -> Option<u8> {
    const NAMES: [&str; 24] = [
        "KERN", "USER", "MAIL", "DAEMON", "AUTH", "SYSLOG", "LPR", "NEWS", "UUCP", "CRON",
        "AUTHPRIV", "FTP", "NTP", "AUDIT", "ALERT", "CLOCK", "LOCAL0", "LOCAL1", "LOCAL2",
        "LOCAL3", "LOCAL4", "LOCAL5", "LOCAL6", "LOCAL7",
    ];
    let v = v.trim().to_ascii_uppercase();
    NAMES.iter().position(|n| *n == v).map(|i| i as u8)
}

fn parse_size(v: &str) -> Option<u64> {
    let v = v.trim().to_ascii_uppercase();
    let (number, unit) = match v.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => v.split_at(i),
        None => (v.as_str(), ""),
    };
    let n: f64 = number.trim().parse().ok()?;
    let factor = match unit.trim() {
        "" | "B" | "BYTES" => 1.0,
        "KB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = n * factor;
    (bytes >= 1.0).then_some(bytes as u64)
}

fn list(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// Java properties: `key = value` or `key: value`, `#`/`!` comments, `\` line continuations.
/// Returns each key's value and the line it starts on (the last definition wins, as in Java).
pub(crate) fn properties(text: &str) -> BTreeMap<String, (String, usize)> {
    let mut out = BTreeMap::new();
    let mut pending: Option<(String, usize)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim_start();
        let (mut logical, start) = match pending.take() {
            Some((acc, start)) => (acc, start),
            None => {
                if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                    continue;
                }
                (String::new(), line_no)
            }
        };
        let continued = line.ends_with('\\') && !line.ends_with("\\\\");
        logical.push_str(if continued {
            &line[..line.len() - 1]
        } else {
            line
        });
        if continued {
            pending = Some((logical, start));
            continue;
        }
        let split = logical.find(['=', ':']).unwrap_or(logical.len());
        let key = logical[..split].trim().to_string();
        let value = logical.get(split + 1..).unwrap_or("").trim().to_string();
        if !key.is_empty() {
            out.insert(key, (value, start));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

    fn parse(text: &str) -> Result<Log4j2Config, Log4j2Error> {
        Log4j2Config::parse(
            "log4j2.properties",
            text,
            Path::new("/mi"),
            Path::new("/mi/logs"),
        )
    }

    #[test]
    fn mi_shipped_file_loads_with_its_gotchas() {
        let path = format!("{CORPUS}/mi-default-conf/log4j2.properties");
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("skipped: {path} is absent");
            return;
        };
        let c = parse(&text).expect("MI's shipped log4j2.properties loads");
        assert_eq!(c.root_level, LevelFilter::INFO);
        let names: Vec<&str> = c.appenders.iter().map(|a| a.name.as_str()).collect();
        // osgi (PaxOsgi) is not implemented and is reported, not fatal.
        assert_eq!(names, ["CARBON_CONSOLE", "CARBON_LOGFILE", "ERROR_LOGFILE"]);
        assert!(
            c.warnings.iter().any(|w| w.contains("PaxOsgi")),
            "{:?}",
            c.warnings
        );
        assert_eq!(
            c.appenders[1].kind,
            AppenderKind::File {
                path: PathBuf::from("/mi/logs/wso2carbon.log"),
                roll_bytes: 10 * 1024 * 1024,
                roll_max: 20
            }
        );
        assert_eq!(c.appenders[2].threshold, LevelFilter::WARN);
        // Defined but not listed in `loggers =`: dead, as in Log4j2.
        assert!(!c.loggers.iter().any(|l| l.id == "org-apache"));
        let wire = c
            .loggers
            .iter()
            .find(|l| l.name == "org.apache.synapse.transport.http.wire")
            .expect("wire logger");
        assert_eq!(wire.level, LevelFilter::OFF);
        assert!(c.loggers.len() > 60, "{}", c.loggers.len());
    }

    #[test]
    fn syslog_appender_with_continuation_lines_and_case_sensitive_refs() {
        let c = parse(
            "appenders = CONSOLE, \\\n   SYS\nappender.CONSOLE.type = Console\nappender.CONSOLE.name = CONSOLE\n\
             appender.SYS.type = Syslog\nappender.SYS.name = Syslog\nappender.SYS.host = 127.0.0.1\n\
             appender.SYS.port = 5514\nappender.SYS.protocol = udp\nappender.SYS.facility = LOCAL3\n\
             appender.SYS.format = RFC5424\nappender.SYS.filter.threshold.level = WARN\n\
             rootLogger.level = debug\nrootLogger.appenderRef.a.ref = CONSOLE\n\
             rootLogger.appenderRef.b.ref = syslog\nrootLogger.appenderRef.c.ref = Syslog\n\
             loggers = x\nlogger.x.name = conflux.server\nlogger.x.level = Error\n",
        )
        .unwrap();
        assert_eq!(c.root_level, LevelFilter::DEBUG);
        assert_eq!(c.appenders.len(), 2);
        assert_eq!(
            c.appenders[1].kind,
            AppenderKind::Syslog(SyslogTarget {
                host: "127.0.0.1".into(),
                port: 5514,
                protocol: SyslogProtocol::Udp,
                facility: 19,
                rfc5424: true,
                app_name: "conflux".into()
            })
        );
        assert_eq!(c.appenders[1].threshold, LevelFilter::WARN);
        assert!(
            c.warnings
                .iter()
                .any(|w| w.contains(":15:") && w.contains("\"syslog\""))
        );
        assert_eq!(c.loggers[0].level, LevelFilter::ERROR);
    }

    #[test]
    fn bad_values_name_the_line_key_and_value() {
        let e = parse("rootLogger.level = LOUD\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "log4j2.properties:1: rootLogger.level = \"LOUD\" is not a log level; valid: OFF, FATAL, ERROR, WARN, INFO, DEBUG, TRACE, ALL"
        );
        let e = parse(
            "\nappender.S.type = Syslog\nappender.S.name = S\nappender.S.protocol = SCTP\nrootLogger.appenderRef.s.ref = S\n",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("log4j2.properties:4: appender.S.protocol = \"SCTP\""),
            "{e}"
        );
    }

    #[test]
    fn size_limit_is_enforced() {
        let at = "#".repeat(MAX_LOG4J2_BYTES);
        assert!(parse(&at).is_ok());
        let over = "#".repeat(MAX_LOG4J2_BYTES + 1);
        assert!(matches!(parse(&over), Err(Log4j2Error::TooLarge { .. })));
    }

    #[test]
    fn sizes_parse_like_log4j() {
        assert_eq!(parse_size("10MB"), Some(10 * 1024 * 1024));
        assert_eq!(parse_size("1 KB"), Some(1024));
        assert_eq!(parse_size("lots"), None);
    }
}
