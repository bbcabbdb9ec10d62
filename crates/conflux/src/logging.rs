//! Log output in MI's layout, `[2026-11-26 22:08:48,123]  INFO {conflux::server} - message`
//! (MI's `CARBON_CONSOLE` / `CARBON_LOGFILE` pattern `[%d] %5p {%c} - %m%ex%n` in
//! `conf/log4j2.properties`), to the appenders that file gives the root logger: the console, log
//! files under `repository/logs/` (default `wso2carbon.log`, rolled by size) and syslog
//! ([`crate::syslog`]). Levels per logger come from the same file ([`crate::log4j2`]) and can be
//! changed at run time through [`LogLevels`] (the Management API's logging resource uses it).
//! `CONFLUX_LOG` (`RUST_LOG`-style directives) is applied on top, for debugging.
//!
//! Logger names map to tracing targets by reading `.` as `::` (`conflux.server` is the target
//! `conflux::server`), plus a few MI names with a Conflux equivalent ([`MI_LOGGER_ALIASES`]).
//!
//! Each event is formatted once, into a per-thread buffer, and the same bytes go to every
//! appender whose threshold takes it ([`Appenders`]; issue 22: a `<log>` per request must not be
//! formatted once per appender). Only a console that writes ANSI styling (a terminal) formats
//! its own copy.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry, reload};

use crate::log4j2::{AppenderKind, Log4j2Config, ROOT_LOGGER, level_name, parse_level};
use crate::syslog::SyslogSender;

/// Directives used when `CONFLUX_LOG` is not set and there is no log4j2.properties.
pub const DEFAULT_LOG_DIRECTIVES: &str = "info";
/// The log4j2 file read from the home, as in MI.
pub const LOG4J2_FILE: &str = "conf/log4j2.properties";
/// Where MI writes its logs (`${sys:logfiles.home}`).
pub const LOGS_DIR: &str = "repository/logs";
/// MI logger names that have a Conflux target of another name.
pub const MI_LOGGER_ALIASES: &[(&str, &str)] = &[
    (
        "org.apache.synapse.mediators.builtin.LogMediator",
        "LogMediator",
    ),
    ("org.apache.synapse.transport.http.access", "http_access"),
    (
        "org.apache.synapse.transport.passthru",
        "conflux::transport",
    ),
];
/// Most loggers the run-time handle accepts (each is a filter directive).
pub const MAX_LOGGERS: usize = 1024;

/// Formats events like MI's console appender.
struct MiLayout;

impl<S, N> FormatEvent<S, N> for MiLayout
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write_line_start(&mut writer, event.metadata())?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writer.write_char('\n')
    }
}

/// The line up to the message: `[timestamp] LEVEL {target} - `.
fn write_line_start(out: &mut impl fmt::Write, meta: &Metadata<'_>) -> fmt::Result {
    out.write_char('[')?;
    write_timestamp(out, SystemTime::now())?;
    out.write_str("] ")?;
    out.write_str(padded_level(*meta.level()))?;
    out.write_str(" {")?;
    out.write_str(meta.target())?;
    out.write_str("} - ")
}

/// The whole line of `event` as [`MiLayout`] writes it without ANSI styling, appended to `out`.
fn write_line(out: &mut String, event: &Event<'_>) -> fmt::Result {
    write_line_start(out, event.metadata())?;
    MiFields.format_fields(Writer::new(out), event)?;
    out.push('\n');
    Ok(())
}

/// Largest line buffer kept for the next event on a thread (a longer line's is freed).
const KEPT_LINE_BUFFER_BYTES: usize = 16 * 1024;

thread_local! {
    /// The buffer [`Appenders`] formats each event in, reused from event to event.
    static LINE_BUFFER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Where an appender writes a finished line.
enum Output {
    /// Standard output, without ANSI styling.
    Console,
    File(RollingFile),
    Syslog(SyslogSender),
}

/// The appenders that write the plain line: the event is formatted once per event and the same
/// bytes handed to each appender whose threshold takes the event's level.
struct Appenders {
    outputs: Vec<(LevelFilter, Output)>,
    /// The least severe level any appender takes, also the ANSI console's ([`Layer::enabled`]:
    /// a line no appender takes is not built, as with one filter per appender).
    most_verbose: LevelFilter,
}

impl Appenders {
    fn takes(&self, level: &Level) -> bool {
        self.most_verbose >= *level
    }

    fn write(&self, event: &Event<'_>, line: &mut String) {
        if write_line(line, event).is_err() {
            return;
        }
        let level = *event.metadata().level();
        for (threshold, output) in &self.outputs {
            if *threshold < level {
                continue;
            }
            // Failures are dropped: logging must not fail the server.
            match output {
                Output::Console => {
                    let _ = std::io::stdout().lock().write_all(line.as_bytes());
                }
                Output::File(file) => file.write_line(line.as_bytes()),
                Output::Syslog(sender) => sender.send(level, line),
            }
        }
    }
}

impl<S: Subscriber> Layer<S> for Appenders {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.takes(meta.level()) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        self.takes(meta.level())
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        LINE_BUFFER.with(|cell| match cell.try_borrow_mut() {
            Ok(mut line) => {
                line.clear();
                self.write(event, &mut line);
                if line.capacity() > KEPT_LINE_BUFFER_BYTES {
                    *line = String::new();
                }
            }
            // An event while this thread's line is being written (from a writer): its own buffer.
            Err(_) => self.write(event, &mut String::new()),
        });
    }
}

/// `{:>5}` of a level, as MI's `%5p`, without running the formatter.
fn padded_level(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERROR",
        Level::WARN => " WARN",
        Level::INFO => " INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    }
}

/// Event fields written exactly as tracing-subscriber's `DefaultFields` writes them, with the
/// `message` field (every log line has one) escaped in bulk: runs without a byte to escape are
/// copied whole instead of one `char` at a time through a `Formatter` (issue 22). Other fields go
/// through `DefaultVisitor` itself.
struct MiFields;

impl<'a> MakeVisitor<Writer<'a>> for MiFields {
    type Visitor = MiVisitor<'a>;

    fn make_visitor(&self, writer: Writer<'a>) -> MiVisitor<'a> {
        MiVisitor {
            writer,
            is_empty: true,
            result: Ok(()),
        }
    }
}

/// [`MiFields`]' visitor; `is_empty` and `result` mean what they mean in `DefaultVisitor`.
struct MiVisitor<'a> {
    writer: Writer<'a>,
    is_empty: bool,
    result: fmt::Result,
}

impl MiVisitor<'_> {
    /// The `message` field: a space before it unless it is the first field, then its `Debug`
    /// text, ANSI-sanitized when the writer asks for it (as `DefaultVisitor` + `EscapeGuard`).
    fn message(&mut self, value: &dyn fmt::Debug) {
        if self.is_empty {
            self.is_empty = false;
        } else if let Err(e) = self.writer.write_char(' ') {
            self.result = Err(e);
            return;
        }
        self.result = if self.writer.sanitizes_ansi_escapes() {
            write!(Sanitizing(&mut self.writer), "{value:?}")
        } else {
            write!(self.writer, "{value:?}")
        };
    }

    /// Any other field, through `DefaultVisitor` (which skips `log.*` fields without a space).
    fn other(&mut self, field: &Field, record: impl FnOnce(&mut DefaultVisitor<'_>)) {
        let mut visitor = DefaultVisitor::new(self.writer.by_ref(), self.is_empty);
        record(&mut visitor);
        self.result = visitor.finish();
        if !field.name().starts_with("log.") {
            self.is_empty = false;
        }
    }
}

impl Visit for MiVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.result.is_err() {
            return;
        }
        if field.name() == "message" {
            self.message(&format_args!("{value}"));
        } else {
            self.other(field, |v| v.record_str(field, value));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.result.is_err() {
            return;
        }
        self.other(field, |v| v.record_error(field, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() {
            return;
        }
        if field.name() == "message" {
            self.message(value);
        } else {
            self.other(field, |v| v.record_debug(field, value));
        }
    }
}

impl VisitOutput<fmt::Result> for MiVisitor<'_> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

impl VisitFmt for MiVisitor<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        &mut self.writer
    }
}

/// Bytes that may start something tracing-subscriber's `EscapeGuard` escapes: ESC, BEL, BS, FF,
/// DEL, and 0xC2, the first byte of the C1 controls U+0080..U+009F.
const ESCAPE_CANDIDATE: [bool; 256] = {
    let mut table = [false; 256];
    table[0x07] = true;
    table[0x08] = true;
    table[0x0c] = true;
    table[0x1b] = true;
    table[0x7f] = true;
    table[0xc2] = true;
    table
};

/// A `fmt::Write` that escapes what `EscapeGuard` escapes (`\x1b`, `\x07`, `\x08`, `\x0c`, `\x7f`,
/// and C1 controls as `\u{80}`..`\u{9f}`) and copies everything between in one `write_str`.
struct Sanitizing<'w, W: fmt::Write + ?Sized>(&'w mut W);

impl<W: fmt::Write + ?Sized> fmt::Write for Sanitizing<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_sanitized(self.0, s)
    }
}

/// Whether none of the eight bytes of `word` is an [`ESCAPE_CANDIDATE`]: all are in 0x20..0x7f.
/// Conservative (a word with a byte from 0x7f up, or below 0x20, is never called plain); such a
/// word is looked at byte by byte.
fn plain_word(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    // A byte below 0x20 borrows into its high bit (exact as a yes/no answer).
    let below_space = word.wrapping_sub(0x20 * ONES) & !word & HIGH_BITS;
    // A byte from 0x7f up has, or gets by adding one, its high bit.
    let from_delete = (word | word.wrapping_add(ONES)) & HIGH_BITS;
    below_space | from_delete == 0
}

fn write_sanitized<W: fmt::Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    let bytes = s.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    // Up to where bytes are looked at one by one (a word there was not plain).
    let mut bytewise_until = 0;
    while i < bytes.len() {
        if i >= bytewise_until {
            // Most log text: eight plain bytes at a time.
            if let Some(word) = bytes
                .get(i..i + 8)
                .and_then(|w| <[u8; 8]>::try_from(w).ok())
                && plain_word(u64::from_ne_bytes(word))
            {
                i += 8;
                continue;
            }
            bytewise_until = i + 8;
        }
        let b = bytes[i];
        if !ESCAPE_CANDIDATE[usize::from(b)] {
            i += 1;
            continue;
        }
        let mut c1 = [b'\\', b'u', b'{', 0, 0, b'}'];
        let (escape, width): (&str, usize) = match b {
            0x1b => ("\\x1b", 1),
            0x07 => ("\\x07", 1),
            0x08 => ("\\x08", 1),
            0x0c => ("\\x0c", 1),
            0x7f => ("\\x7f", 1),
            _ => match bytes.get(i + 1) {
                // U+0080..U+009F is C2 80..C2 9F: the code point is the second byte.
                Some(&code @ 0x80..=0x9f) => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    c1[3] = HEX[usize::from(code >> 4)];
                    c1[4] = HEX[usize::from(code & 0xf)];
                    (std::str::from_utf8(&c1).map_err(|_| fmt::Error)?, 2)
                }
                _ => {
                    i += 1;
                    continue;
                }
            },
        };
        // `i` is at an ASCII byte or a UTF-8 lead byte: a char boundary.
        out.write_str(&s[copied..i])?;
        out.write_str(escape)?;
        i += width;
        copied = i;
    }
    out.write_str(&s[copied..])
}

/// A run-time level change that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogLevelError {
    #[error(
        "logger {0:?} is not configured; configured loggers are listed in conf/log4j2.properties `loggers =` (or add it with a logger class)"
    )]
    UnknownLogger(String),
    #[error("{0:?} is not a log level; valid: OFF, FATAL, ERROR, WARN, INFO, DEBUG, TRACE, ALL")]
    BadLevel(String),
    #[error("logger name {name:?} cannot be a filter target: {reason}")]
    BadName { name: String, reason: String },
    #[error("at most {MAX_LOGGERS} loggers can be configured")]
    TooMany,
    #[error("the log filter could not be replaced: {0}")]
    Reload(String),
}

/// One logger's level, as the Management API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggerLevel {
    /// The id in `loggers =` (`rootLogger` for the root).
    pub id: String,
    /// The logger name (a Java package in MI's file, or a Conflux target); empty for the root.
    pub name: String,
    /// `OFF`, `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`.
    pub level: &'static str,
}

#[derive(Debug)]
struct LevelsState {
    root: LevelFilter,
    /// id -> (name, level)
    loggers: BTreeMap<String, (String, LevelFilter)>,
    /// `CONFLUX_LOG`, applied after the configured levels.
    overrides: Option<String>,
}

impl LevelsState {
    fn filter(&self) -> Result<EnvFilter, LogLevelError> {
        let mut directives = vec![self.root.to_string().to_lowercase()];
        for (name, level) in self.loggers.values() {
            directives.push(format!(
                "{}={}",
                target_of(name),
                level.to_string().to_lowercase()
            ));
        }
        if let Some(o) = &self.overrides {
            directives.push(o.clone());
        }
        EnvFilter::builder()
            .parse(directives.join(","))
            .map_err(|e| LogLevelError::Reload(e.to_string()))
    }
}

/// The run-time handle to logger levels: read and change them without a restart.
#[derive(Clone)]
pub struct LogLevels {
    state: Arc<Mutex<LevelsState>>,
    reload: Option<reload::Handle<EnvFilter, Registry>>,
}

impl fmt::Debug for LogLevels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogLevels").finish_non_exhaustive()
    }
}

impl LogLevels {
    /// The level of logger `id` (`rootLogger` for the root).
    pub fn get(&self, id: &str) -> Option<LoggerLevel> {
        let state = self.state.lock().ok()?;
        if id == ROOT_LOGGER {
            return Some(LoggerLevel {
                id: ROOT_LOGGER.into(),
                name: String::new(),
                level: level_name(state.root),
            });
        }
        state.loggers.get(id).map(|(name, level)| LoggerLevel {
            id: id.to_string(),
            name: name.clone(),
            level: level_name(*level),
        })
    }

    /// Every configured logger, the root first.
    pub fn list(&self) -> Vec<LoggerLevel> {
        let Ok(state) = self.state.lock() else {
            return Vec::new();
        };
        let mut out = vec![LoggerLevel {
            id: ROOT_LOGGER.into(),
            name: String::new(),
            level: level_name(state.root),
        }];
        out.extend(state.loggers.iter().map(|(id, (name, level))| LoggerLevel {
            id: id.clone(),
            name: name.clone(),
            level: level_name(*level),
        }));
        out
    }

    /// Sets the level of a configured logger (`rootLogger` for the root), effective at once.
    ///
    /// # Errors
    /// Unknown logger id or level name.
    pub fn set(&self, id: &str, level: &str) -> Result<(), LogLevelError> {
        let level = parse_level(level).ok_or_else(|| LogLevelError::BadLevel(level.into()))?;
        self.update(|state| {
            if id == ROOT_LOGGER {
                state.root = level;
                return Ok(());
            }
            match state.loggers.get_mut(id) {
                Some((_, l)) => {
                    *l = level;
                    Ok(())
                }
                None => Err(LogLevelError::UnknownLogger(id.into())),
            }
        })
    }

    /// Adds (or replaces) logger `id` for logger name `name` (MI: `loggingClass`) at `level`.
    ///
    /// # Errors
    /// A bad level, a name that is not a filter target, or more than [`MAX_LOGGERS`].
    pub fn add(&self, id: &str, name: &str, level: &str) -> Result<(), LogLevelError> {
        let level = parse_level(level).ok_or_else(|| LogLevelError::BadLevel(level.into()))?;
        let target = target_of(name);
        if target.is_empty()
            || !target
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, ':' | '_' | '-' | '$'))
        {
            return Err(LogLevelError::BadName {
                name: name.into(),
                reason: "use letters, digits, '.', '_', '-' or '::'".into(),
            });
        }
        self.update(|state| {
            if !state.loggers.contains_key(id) && state.loggers.len() >= MAX_LOGGERS {
                return Err(LogLevelError::TooMany);
            }
            state
                .loggers
                .insert(id.to_string(), (name.to_string(), level));
            Ok(())
        })
    }

    fn update(
        &self,
        change: impl FnOnce(&mut LevelsState) -> Result<(), LogLevelError>,
    ) -> Result<(), LogLevelError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| LogLevelError::Reload("the level table is poisoned".into()))?;
        let before = (state.root, state.loggers.clone());
        change(&mut state)?;
        let applied = state.filter().and_then(|filter| match &self.reload {
            Some(handle) => handle
                .reload(filter)
                .map_err(|e| LogLevelError::Reload(e.to_string())),
            None => Ok(()),
        });
        if applied.is_err() {
            state.root = before.0;
            state.loggers = before.1;
        }
        applied
    }
}

/// The target a logger name filters: an MI alias, else the name with `.` read as `::`.
fn target_of(name: &str) -> String {
    MI_LOGGER_ALIASES
        .iter()
        .find(|(mi, _)| *mi == name)
        .map(|(_, ours)| (*ours).to_string())
        .unwrap_or_else(|| name.replace('.', "::"))
}

/// What [`init`] set up.
#[derive(Debug)]
pub struct LogSetup {
    pub levels: LogLevels,
    /// Problems found in log4j2.properties or while opening sinks; the server logs them.
    pub warnings: Vec<String>,
}

/// Reads `<home>/conf/log4j2.properties` (MI's defaults without it).
pub fn load_config(home: &Path) -> (Log4j2Config, Vec<String>) {
    let logs = home.join(LOGS_DIR);
    let path = home.join(LOG4J2_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => match Log4j2Config::parse(&path.to_string_lossy(), &text, home, &logs) {
            Ok(c) => {
                let w = c.warnings.clone();
                (c, w)
            }
            Err(e) => (
                Log4j2Config::defaults(&logs),
                vec![format!(
                    "{e}; using the default logging (INFO to the console and {}/wso2carbon.log)",
                    logs.display()
                )],
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            (Log4j2Config::defaults(&logs), Vec::new())
        }
        Err(e) => (
            Log4j2Config::defaults(&logs),
            vec![format!(
                "{}: cannot read: {e}; using the default logging",
                path.display()
            )],
        ),
    }
}

/// Builds the subscriber for `config` without installing it (tests install it per thread).
pub fn build(
    config: &Log4j2Config,
    hostname: &str,
    overrides: Option<String>,
) -> (impl Subscriber + Send + Sync + 'static, LogSetup) {
    let mut warnings = Vec::new();
    let mut state = LevelsState {
        root: config.root_level,
        loggers: config
            .loggers
            .iter()
            .take(MAX_LOGGERS)
            .map(|l| (l.id.clone(), (l.name.clone(), l.level)))
            .collect(),
        overrides,
    };
    let filter = match state.filter() {
        Ok(f) => f,
        Err(e) => {
            warnings.push(format!("{e}; CONFLUX_LOG ignored"));
            state.overrides = None;
            state
                .filter()
                .unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_DIRECTIVES))
        }
    };
    let (filter, handle) = reload::Layer::new(filter);
    let console_ansi = console_ansi(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let mut appenders = Appenders {
        outputs: Vec::new(),
        most_verbose: LevelFilter::OFF,
    };
    let mut styled: Vec<Box<dyn Layer<Filtered> + Send + Sync>> = Vec::new();
    for appender in &config.appenders {
        let threshold = appender.threshold;
        let output = match &appender.kind {
            AppenderKind::Console if console_ansi => {
                // Field names in italics: the one appender that formats its own line.
                styled.push(
                    tracing_subscriber::fmt::layer()
                        .event_format(MiLayout)
                        .fmt_fields(MiFields)
                        .with_ansi(true)
                        .with_writer(std::io::stdout)
                        .with_filter(threshold)
                        .boxed(),
                );
                appenders.most_verbose = appenders.most_verbose.max(threshold);
                continue;
            }
            kind => match output(kind, hostname) {
                Ok(output) => output,
                Err(e) => {
                    warnings.push(format!("appender {}: {e}; not used", appender.name));
                    continue;
                }
            },
        };
        appenders.most_verbose = appenders.most_verbose.max(threshold);
        appenders.outputs.push((threshold, output));
    }
    let mut sinks: Vec<Box<dyn Layer<Filtered> + Send + Sync>> = Vec::new();
    if !appenders.outputs.is_empty() {
        sinks.push(appenders.boxed());
    }
    sinks.append(&mut styled);
    let subscriber = tracing_subscriber::registry().with(filter).with(sinks);
    let levels = LogLevels {
        state: Arc::new(Mutex::new(state)),
        reload: Some(handle),
    };
    (subscriber, LogSetup { levels, warnings })
}

type Filtered = tracing_subscriber::layer::Layered<reload::Layer<EnvFilter, Registry>, Registry>;

/// The output of a plain-line appender.
fn output(kind: &AppenderKind, hostname: &str) -> Result<Output, String> {
    Ok(match kind {
        AppenderKind::Console => Output::Console,
        AppenderKind::File {
            path,
            roll_bytes,
            roll_max,
        } => Output::File(
            RollingFile::open(path.clone(), *roll_bytes, *roll_max)
                .map_err(|e| format!("cannot open {}: {e}", path.display()))?,
        ),
        AppenderKind::Syslog(target) => {
            Output::Syslog(SyslogSender::new(target.clone(), hostname).map_err(|e| e.to_string())?)
        }
    })
}

/// Whether console lines may carry ANSI styling (field names in italics): only when stdout is a
/// terminal, so containers, systemd and pipes get plain text, and never when `NO_COLOR` is set to
/// a non-empty value (no-color.org).
fn console_ansi(stdout_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stdout_is_terminal && no_color.is_none_or(|value| value.is_empty())
}

/// Installs the global subscriber for `home` and returns the run-time level handle. Call once.
pub fn init(home: &Path, hostname: &str) -> LogSetup {
    let (config, mut warnings) = load_config(home);
    let overrides = std::env::var("CONFLUX_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let (subscriber, mut setup) = build(&config, hostname, overrides);
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        warnings.push("a logger was already installed; log4j2.properties not applied".into());
    }
    warnings.append(&mut setup.warnings);
    setup.warnings = warnings;
    setup
}

/// A log file that rolls by size like Log4j2's `SizeBasedTriggeringPolicy` +
/// `DefaultRolloverStrategy`: `wso2carbon.log` -> `wso2carbon.log.1` ... `.N` (max N kept).
#[derive(Clone)]
pub struct RollingFile {
    inner: Arc<Mutex<RollingState>>,
}

struct RollingState {
    path: PathBuf,
    file: File,
    written: u64,
    roll_bytes: u64,
    roll_max: u32,
}

impl RollingFile {
    /// Opens (appending) `path`, creating its directory.
    ///
    /// # Errors
    /// The directory or file cannot be created.
    pub fn open(path: PathBuf, roll_bytes: u64, roll_max: u32) -> std::io::Result<RollingFile> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let written = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(RollingFile {
            inner: Arc::new(Mutex::new(RollingState {
                path,
                file,
                written,
                roll_bytes,
                roll_max,
            })),
        })
    }

    pub(crate) fn write_line(&self, line: &[u8]) {
        let Ok(mut s) = self.inner.lock() else {
            return;
        };
        if s.written > 0 && s.written + line.len() as u64 > s.roll_bytes {
            s.roll();
        }
        if s.file.write_all(line).is_ok() {
            s.written += line.len() as u64;
        }
    }
}

impl RollingState {
    fn roll(&mut self) {
        let numbered = |n: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{n}"));
            PathBuf::from(p)
        };
        if self.roll_max == 0 {
            let _ = self.file.set_len(0);
        } else {
            let _ = std::fs::remove_file(numbered(self.roll_max));
            for n in (1..self.roll_max).rev() {
                let _ = std::fs::rename(numbered(n), numbered(n + 1));
            }
            let _ = std::fs::rename(&self.path, numbered(1));
        }
        if let Ok(f) = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
        {
            self.file = f;
            self.written = 0;
        }
    }
}

thread_local! {
    /// The last second [`write_timestamp`] formatted and its `yyyy-MM-dd HH:mm:ss,` text.
    static STAMP_SECOND: std::cell::RefCell<(u64, String)> =
        const { std::cell::RefCell::new((u64::MAX, String::new())) };
}

/// Writes [`timestamp`]`(now)`, formatting the date and time only when the second changes.
fn write_timestamp(out: &mut impl fmt::Write, now: SystemTime) -> fmt::Result {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let millis = since.subsec_millis();
    let digits = [
        b'0' + (millis / 100 % 10) as u8,
        b'0' + (millis / 10 % 10) as u8,
        b'0' + (millis % 10) as u8,
    ];
    let millis = std::str::from_utf8(&digits).map_err(|_| fmt::Error)?;
    STAMP_SECOND.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != secs {
            let mut text = timestamp(UNIX_EPOCH + std::time::Duration::from_secs(secs));
            text.truncate(text.len() - 3); // ",000" -> ","
            *cached = (secs, text);
        }
        out.write_str(&cached.1)
    })?;
    out.write_str(millis)
}

/// `yyyy-MM-dd HH:mm:ss,SSS` in UTC, log4j's default `%d` layout.
fn timestamp(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02},{:03}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    match time::OffsetDateTime::from_unix_timestamp(days.saturating_mul(86_400)) {
        Ok(t) => (
            i64::from(t.year()),
            u32::from(u8::from(t.month())),
            u32::from(t.day()),
        ),
        Err(_) => (1970, 1, 1),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn console_colours_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(console_ansi(true, None));
        assert!(console_ansi(true, Some(OsStr::new(""))));
        assert!(!console_ansi(true, Some(OsStr::new("1"))));
        assert!(!console_ansi(false, None));
        assert!(!console_ansi(false, Some(OsStr::new(""))));
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_819), (2027, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_log4j_shaped() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01 00:00:00,000");
        // 2024-02-29 12:34:56.789 UTC, a leap day.
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789);
        assert_eq!(timestamp(t), "2024-02-29 12:34:56,789");
    }

    /// The escaping `MiLayout` used before issue 22: tracing-subscriber 0.3.23's
    /// `fmt/format/escape.rs` `EscapingWriter`, one `char` at a time. The oracle for
    /// [`write_sanitized`].
    fn sanitized_per_char(s: &str) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for ch in s.chars() {
            match ch {
                '\x1b' => out.push_str("\\x1b"),
                '\x07' => out.push_str("\\x07"),
                '\x08' => out.push_str("\\x08"),
                '\x0c' => out.push_str("\\x0c"),
                '\x7f' => out.push_str("\\x7f"),
                ch if ch as u32 >= 0x80 && ch as u32 <= 0x9f => {
                    write!(out, "\\u{{{:x}}}", ch as u32).unwrap()
                }
                _ => out.push(ch),
            }
        }
        out
    }

    fn sanitized_bulk(s: &str) -> String {
        let mut out = String::new();
        write_sanitized(&mut out, s).unwrap();
        out
    }

    /// Messages that exercise every escape and the bytes next to them.
    const TRICKY: &[&str] = &[
        "",
        "plain ascii",
        "\x1b[31mred\x1b[0m",
        "\x07\x08\x0c\x7f",
        "\x1b",
        "a\x1b",
        "\x1bb",
        "\t\r\n\x00\x01\x1a\x1c\x1f\x7e",
        "line one\nline two\r\n",
        "\"quoted\" 'single' \\back\\slash",
        "\u{80}\u{85}\u{9b}\u{9f}",
        "x\u{80}y\u{9f}z",
        "\u{7f}\u{80}\u{a0}\u{c2}\u{bf}\u{c0}\u{ff}",
        "Ä ö ü ß é \u{0100} \u{0142}",
        "\u{2028}\u{feff}\u{fffd}",
        "日本語 текст 🎉 \u{10ffff}",
        "MessageID: urn:uuid:1 | Direction: request | host = localhost:8290",
    ];

    #[test]
    fn bulk_escaping_equals_the_per_char_escaping_on_tricky_inputs() {
        for s in TRICKY {
            assert_eq!(sanitized_bulk(s), sanitized_per_char(s), "{s:?}");
        }
        // The escapes themselves, pinned.
        assert_eq!(sanitized_bulk("\x1b[1m\u{9b}"), "\\x1b[1m\\u{9b}");
    }

    /// A deterministic xorshift generator, so failures reproduce.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        /// A string of up to 40 chars, weighted towards the escaped ranges and their neighbours.
        fn string(&mut self) -> String {
            let len = (self.next() % 41) as usize;
            (0..len)
                .map(|_| {
                    let r = self.next();
                    let code = match r % 6 {
                        0 => (r >> 8) % 0x20,        // C0 controls
                        1 => 0x70 + (r >> 8) % 0x10, // around DEL
                        2 => 0x78 + (r >> 8) % 0x30, // around the C1 block
                        3 => 0x20 + (r >> 8) % 0x5f, // printable ASCII
                        4 => (r >> 8) % 0x800,       // one and two byte UTF-8
                        _ => (r >> 8) % 0x11_0000,   // anything
                    };
                    char::from_u32(code as u32).unwrap_or('\u{fffd}')
                })
                .collect()
        }
    }

    #[test]
    fn bulk_escaping_equals_the_per_char_escaping_on_random_strings() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let s = rng.string();
            assert_eq!(sanitized_bulk(&s), sanitized_per_char(&s), "{s:?}");
        }
        // Mostly plain text (read eight bytes at a time) with the odd escaped or wide char at
        // every position of a word.
        for _ in 0..20_000 {
            let tail = rng.string();
            let mut s = String::new();
            for _ in 0..(rng.next() % 5) {
                let plain = (rng.next() % 20) as usize;
                s.extend(std::iter::repeat_n('p', plain));
                s.push_str(&tail[..tail.char_indices().nth(1).map_or(tail.len(), |(at, _)| at)]);
            }
            assert_eq!(sanitized_bulk(&s), sanitized_per_char(&s), "{s:?}");
        }
    }

    #[test]
    fn plain_words_are_those_without_an_escape_candidate_or_control() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut word = [b'a'; 8];
                word[at] = b;
                let plain = plain_word(u64::from_ne_bytes(word));
                assert_eq!(plain, (0x20..0x7f).contains(&b), "byte {b:#x} at {at}");
            }
        }
    }

    /// Writes only the fields, with the field formatter under test.
    struct FieldsOnly;

    impl<S, N> FormatEvent<S, N> for FieldsOnly
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
        N: for<'a> FormatFields<'a> + 'static,
    {
        fn format_event(
            &self,
            ctx: &FmtContext<'_, S, N>,
            mut writer: Writer<'_>,
            event: &Event<'_>,
        ) -> fmt::Result {
            ctx.field_format().format_fields(writer.by_ref(), event)?;
            writeln!(writer)
        }
    }

    /// A `MakeWriter` into a shared buffer.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    /// Emits the same events through `DefaultFields` and through [`MiFields`]; returns both texts.
    fn both_field_formats(emit: impl Fn()) -> (String, String) {
        let old = Captured::default();
        let new = Captured::default();
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .event_format(FieldsOnly)
                    .with_ansi(false)
                    .with_writer(old.clone()),
            )
            .with(
                tracing_subscriber::fmt::layer()
                    .event_format(FieldsOnly)
                    .fmt_fields(MiFields)
                    .with_ansi(false)
                    .with_writer(new.clone()),
            );
        tracing::subscriber::with_default(subscriber, || {
            // Other tests' subscribers, live on other threads, may have cached these callsites
            // as disabled; recompute with this one registered.
            tracing::callsite::rebuild_interest_cache();
            emit()
        });
        let text = |c: Captured| String::from_utf8(c.0.lock().unwrap().clone()).unwrap();
        (text(old), text(new))
    }

    #[test]
    fn mi_fields_write_what_default_fields_write() {
        let mut rng = XorShift(42);
        let random: Vec<String> = (0..2_000).map(|_| rng.string()).collect();
        let (old, new) = both_field_formats(|| {
            for s in TRICKY
                .iter()
                .copied()
                .chain(random.iter().map(String::as_str))
            {
                tracing::info!(target: "LogMediator", "{s}");
                tracing::info!(message = s);
                tracing::info!(message = ?s);
                tracing::warn!(k = s, n = 7, "m {s}");
                tracing::warn!(first = true, "after a field {s}");
                tracing::error!(
                    error = &std::io::Error::other(s.to_string()) as &dyn std::error::Error,
                    "e"
                );
                tracing::info!(message = 5_i64);
                tracing::info!(only = %s);
                tracing::info!({ log.target = "x", r#type = "t" }, "log fields {s}");
            }
        });
        // Both layers see the same events. Not all of them when other tests' subscribers run at
        // the same time (tracing's callsite interest cache is process-wide), so only some.
        assert!(old.lines().count() > 10, "{old}");
        if old != new {
            for (a, b) in old.lines().zip(new.lines()) {
                assert_eq!(b, a);
            }
            assert_eq!(new, old);
        }
    }

    /// Writes each event with [`write_line`], the one format [`Appenders`] makes.
    struct OneFormat(Captured);

    impl<S: Subscriber> Layer<S> for OneFormat {
        fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
            let mut line = String::new();
            write_line(&mut line, event).unwrap();
            self.0.0.lock().unwrap().extend_from_slice(line.as_bytes());
        }
    }

    // The line formatted once for every appender is the line the plain fmt layer formats.
    #[test]
    fn the_shared_line_is_the_fmt_layer_line() {
        let old = Captured::default();
        let new = Captured::default();
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .event_format(MiLayout)
                    .fmt_fields(MiFields)
                    .with_ansi(false)
                    .with_writer(old.clone()),
            )
            .with(OneFormat(new.clone()));
        let mut rng = XorShift(99);
        let random: Vec<String> = (0..500).map(|_| rng.string()).collect();
        tracing::subscriber::with_default(subscriber, || {
            tracing::callsite::rebuild_interest_cache();
            for s in TRICKY
                .iter()
                .copied()
                .chain(random.iter().map(String::as_str))
            {
                tracing::info!(target: "LogMediator", "{s}");
                tracing::warn!(k = s, n = 7, "m {s}");
                tracing::error!(message = ?s);
            }
        });
        let text = |c: &Captured| String::from_utf8(c.0.lock().unwrap().clone()).unwrap();
        let (old, new) = (text(&old), text(&new));
        assert!(old.lines().count() > 10, "{old}");
        // The two layers read the clock separately: compare after the timestamp.
        let after_stamp = |t: &str| -> Vec<String> {
            t.split_inclusive('\n')
                .filter(|l| l.starts_with('['))
                .map(|l| l.split_once("] ").map_or(l, |(_, rest)| rest).to_string())
                .collect()
        };
        assert_eq!(after_stamp(&new), after_stamp(&old));
        assert_eq!(new.len(), old.len());
    }

    #[test]
    fn cached_timestamps_equal_formatted_ones() {
        let start = UNIX_EPOCH + Duration::from_millis(1_709_210_096_000);
        let mut rng = XorShift(7);
        let mut t = start;
        for _ in 0..5_000 {
            // Steps of 0..1.5 s: many lines in one second, and second, minute, day changes.
            t += Duration::from_micros(rng.next() % 1_500_000);
            let mut out = String::new();
            write_timestamp(&mut out, t).unwrap();
            assert_eq!(out, timestamp(t));
        }
        // Back in time (a clock step) and the epoch.
        for t in [
            start,
            UNIX_EPOCH,
            UNIX_EPOCH + Duration::from_millis(999),
            start,
        ] {
            let mut out = String::new();
            write_timestamp(&mut out, t).unwrap();
            assert_eq!(out, timestamp(t));
        }
    }

    #[test]
    fn levels_are_padded_like_percent_5p() {
        for level in [
            Level::ERROR,
            Level::WARN,
            Level::INFO,
            Level::DEBUG,
            Level::TRACE,
        ] {
            assert_eq!(padded_level(level), format!("{level:>5}"));
        }
    }

    fn file_config(dir: &Path, text: &str) -> Log4j2Config {
        Log4j2Config::parse("log4j2.properties", text, dir, &dir.join("logs")).unwrap()
    }

    const FILE_ONLY: &str = "appenders = F\nappender.F.type = RollingFile\nappender.F.name = F\n\
        appender.F.fileName = ${sys:logfiles.home}/wso2carbon.log\nrootLogger.level = INFO\n\
        rootLogger.appenderRef.f.ref = F\nloggers = quiet\nlogger.quiet.name = conflux.quiet\n\
        logger.quiet.level = WARN\n";

    #[test]
    fn levels_from_log4j2_and_changed_at_run_time_without_restart() {
        let dir = tempfile::tempdir().unwrap();
        let config = file_config(dir.path(), FILE_ONLY);
        let (subscriber, setup) = build(&config, "localhost", None);
        assert!(setup.warnings.is_empty(), "{:?}", setup.warnings);
        let levels = setup.levels.clone();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "conflux::quiet", "first-info");
            tracing::warn!(target: "conflux::quiet", "first-warn");
            tracing::debug!(target: "conflux::server", "first-debug");
            levels.set("quiet", "DEBUG").unwrap();
            levels.set(ROOT_LOGGER, "debug").unwrap();
            tracing::info!(target: "conflux::quiet", "second-info");
            tracing::debug!(target: "conflux::server", "second-debug");
            levels.add("new", "conflux.server", "ERROR").unwrap();
            tracing::info!(target: "conflux::server", "third-info");
        });
        let text = std::fs::read_to_string(dir.path().join("logs/wso2carbon.log")).unwrap();
        assert!(!text.contains("first-info"), "{text}");
        assert!(
            text.contains("WARN {conflux::quiet} - first-warn"),
            "{text}"
        );
        assert!(!text.contains("first-debug"), "{text}");
        assert!(
            text.contains("]  INFO {conflux::quiet} - second-info"),
            "{text}"
        );
        assert!(
            text.contains("DEBUG {conflux::server} - second-debug"),
            "{text}"
        );
        assert!(!text.contains("third-info"), "{text}");
        assert_eq!(setup.levels.get("quiet").unwrap().level, "DEBUG");
        assert_eq!(setup.levels.get(ROOT_LOGGER).unwrap().level, "DEBUG");
        assert_eq!(setup.levels.list().len(), 3);
    }

    #[test]
    fn bad_changes_are_refused_and_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (_subscriber, setup) = build(&file_config(dir.path(), FILE_ONLY), "h", None);
        let levels = setup.levels;
        assert_eq!(
            levels.set("nope", "INFO"),
            Err(LogLevelError::UnknownLogger("nope".into()))
        );
        assert_eq!(
            levels.set("quiet", "LOUD"),
            Err(LogLevelError::BadLevel("LOUD".into()))
        );
        assert!(matches!(
            levels.add("x", "a b", "INFO"),
            Err(LogLevelError::BadName { .. })
        ));
        assert_eq!(levels.get("quiet").unwrap().level, "WARN");
        // MI's names map to Conflux targets.
        assert_eq!(
            target_of("org.apache.synapse.mediators.builtin.LogMediator"),
            "LogMediator"
        );
        assert_eq!(target_of("conflux.server"), "conflux::server");
    }

    #[test]
    fn logger_count_is_limited() {
        let dir = tempfile::tempdir().unwrap();
        let (_s, setup) = build(&file_config(dir.path(), FILE_ONLY), "h", None);
        // One logger (`quiet`) is configured already.
        for i in 1..MAX_LOGGERS {
            setup
                .levels
                .add(&format!("l{i}"), &format!("t{i}"), "INFO")
                .unwrap();
        }
        assert_eq!(
            setup.levels.add("over", "over", "INFO"),
            Err(LogLevelError::TooMany)
        );
        // Replacing an existing one is still allowed at the limit.
        setup.levels.add("l1", "t1", "DEBUG").unwrap();
    }

    #[test]
    fn files_roll_by_size_keeping_max() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let file = RollingFile::open(path.clone(), 10, 2).unwrap();
        file.write_line(b"0123456789"); // exactly the limit: no roll
        assert!(!dir.path().join("x.log.1").exists());
        file.write_line(b"a"); // limit + 1: rolls first
        file.write_line(b"bcdefghijk");
        file.write_line(b"c");
        file.write_line(b"dddddddddd");
        file.write_line(b"e");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "e");
        assert!(dir.path().join("x.log.1").exists());
        assert!(dir.path().join("x.log.2").exists());
        assert!(!dir.path().join("x.log.3").exists());
    }
}
