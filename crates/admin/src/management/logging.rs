//! `/logging` (MI `LoggingResource`): logger levels at run time. `GET` lists
//! `{loggerName, componentName, level}` (root first), `?loggerName=` one logger; `PATCH
//! {"loggerName","loggingLevel"}` changes a level, with `"loggerClass"` it adds a logger. Answers
//! `{"message": ...}`, errors 400 `{"Error": ...}`, with MI's texts.
//!
//! The levels themselves live in the binary's logging set-up, reached through [`LogLevels`].

use bytes::Bytes;
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{Ctx, error, json_response, list_response};

/// MI's (log4j2) level names.
pub const LEVELS: [&str; 7] = ["OFF", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

/// One logger as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggerLevel {
    /// MI's logger key (`rootLogger`, `AUDIT_LOG`, `org-apache-synapse`...).
    pub name: String,
    /// The category it applies to (a tracing target in Conflux); empty for the root.
    pub component: String,
    /// Upper-case level name from [`LEVELS`].
    pub level: String,
}

/// Why a level change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogLevelError {
    #[error("Specified logger ('{0}') not found")]
    NotFound(String),
    #[error("Specified logger name ('{0}') already exists, try updating the level instead")]
    Exists(String),
    #[error("{0}")]
    Other(String),
}

/// Run-time access to logger levels, implemented by the binary.
pub trait LogLevels: Send + Sync {
    /// Every logger, root first.
    fn loggers(&self) -> Vec<LoggerLevel>;
    /// Sets `level` (one of [`LEVELS`]) on an existing logger, or adds logger `name` for the
    /// category `component` when it is `Some`.
    fn set_level(
        &self,
        name: &str,
        component: Option<&str>,
        level: &str,
    ) -> Result<(), LogLevelError>;
}

fn to_json(l: &LoggerLevel) -> Value {
    json!({"loggerName": l.name, "componentName": l.component, "level": l.level})
}

pub(super) fn get(ctx: &Ctx<'_>) -> Response<Bytes> {
    let Some(levels) = ctx.log_levels else {
        return super::empty(StatusCode::NOT_FOUND);
    };
    let loggers = levels.loggers();
    if let Some(name) = ctx.query.get("loggerName") {
        return match loggers.iter().find(|l| l.name == name) {
            Some(l) => json_response(StatusCode::OK, &to_json(l)),
            None => error(
                StatusCode::BAD_REQUEST,
                &format!("Logger name ('{name}') not found"),
            ),
        };
    }
    list_response(
        loggers
            .iter()
            .filter(|l| ctx.matches_search(&l.name))
            .map(to_json)
            .collect(),
    )
}

pub(super) fn patch(ctx: &Ctx<'_>) -> Response<Bytes> {
    let Some(levels) = ctx.log_levels else {
        return super::empty(StatusCode::NOT_FOUND);
    };
    let body = match ctx.json_body() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let Some(name) = text("loggerName") else {
        return error(StatusCode::BAD_REQUEST, "Logger name is missing");
    };
    let Some(level) = text("loggingLevel") else {
        return error(StatusCode::BAD_REQUEST, "Log level is missing");
    };
    let upper = level.to_ascii_uppercase();
    if !LEVELS.contains(&upper.as_str()) {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("Invalid log level {level}"),
        );
    }
    let class = text("loggerClass");
    match levels.set_level(name, class, &upper) {
        Ok(()) => {
            tracing::info!(target: "conflux::audit", "logger {name} set to {upper} through the Management API");
            let mut message =
                format!("Successfully added logger for ('{name}') with level {upper}");
            if let Some(c) = class {
                message.push_str(&format!(" for class {c}"));
            }
            json_response(StatusCode::OK, &json!({ "message": message }))
        }
        Err(e) => error(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}
