//! Errors and warnings of the configuration stage, and where a value came from.
//!
//! Every error carries the key as the user writes it (`[server] offset`), its [`Origin`], the
//! offending value and what would be valid, so that the message alone is enough to fix the file.

use std::fmt;
use std::path::PathBuf;

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A position in a file (1-based line and column).
    File {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    /// A command-line argument, as typed (`-DportOffset=abc`).
    CommandLine(String),
    /// The built-in default.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, line, column } => {
                write!(f, "{}:{line}:{column}", path.display())
            }
            Origin::CommandLine(arg) => write!(f, "command line `{arg}`"),
            Origin::Default => f.write_str("built-in default"),
        }
    }
}

/// One configuration problem that stops the server from starting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {reason}", path.display())]
    Read { path: PathBuf, reason: String },

    #[error("TOML syntax error at {origin}: {message}")]
    Syntax { origin: Origin, message: String },

    #[error("{key}: invalid value {value} at {origin}; expected {expected}")]
    InvalidValue {
        key: String,
        origin: Origin,
        value: String,
        expected: String,
    },

    #[error("{key}: cannot resolve placeholder {placeholder} at {origin}: {reason}")]
    Placeholder {
        key: String,
        origin: Origin,
        placeholder: String,
        reason: String,
    },

    #[error(
        "{key} ({role}): port {base} + offset {offset} = {result} is outside 1..=65535 (base at {origin}); \
         use an offset from {min_offset} to {max_offset}"
    )]
    PortOutOfRange {
        role: &'static str,
        key: String,
        origin: Origin,
        base: u32,
        offset: i32,
        result: i64,
        min_offset: i64,
        max_offset: i64,
    },

    #[error(
        "port {port} is planned twice: {first_role} ({first_key} = {first_base} + offset {offset}, at {first_origin}) \
         and {second_role} ({second_key} = {second_base} + offset {offset}, at {second_origin}); give one of them another base port"
    )]
    PortClash {
        port: u16,
        offset: i32,
        first_role: &'static str,
        first_key: String,
        first_base: u32,
        first_origin: Origin,
        second_role: &'static str,
        second_key: String,
        second_base: u32,
        second_origin: Origin,
    },
}

/// All the errors found in one pass: the user fixes them together, not one per restart.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "error: {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        ConfigErrors(vec![e])
    }
}

/// Something the user should know about but that does not stop the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigWarning {
    #[error("unknown key {key} at {origin} is ignored (misspelt? MI would ignore it silently)")]
    UnknownKey { key: String, origin: Origin },

    #[error("MI keys not supported by Conflux yet, accepted and ignored: {}", keys.join(", "))]
    NotSupportedYet { keys: Vec<String> },

    #[error("unknown system property -D{key} at {origin} is accepted and ignored")]
    UnknownProperty { key: String, origin: Origin },

    #[error(
        "repeated key in [{table}] at {origin} (invalid TOML; Conflux does not read this table, so it is ignored)"
    )]
    DuplicateKey { table: String, origin: Origin },

    #[error("{path} not found; starting with built-in defaults", path = path.display())]
    NoDeploymentToml { path: PathBuf },

    #[error(
        "port offset {offset} at {origin} is negative: every port is lowered by {lowered} (HTTP on {http}); \
         MI accepts this too, but ports below 1024 need privileges and low ports may clash with other services"
    )]
    NegativeOffset {
        offset: i32,
        lowered: u32,
        origin: Origin,
        http: u16,
    },
}
