//! `<log>`: one line per message in MI's format (SYN `mediators/builtin/LogMediator.java`;
//! synapse-subset.md §3.8): `{api:NAME} To: /path, MessageID: urn:uuid:..., Direction: request,
//! NAME = value`. Levels `simple` (default), `headers`, `full`, `custom`; categories map to log
//! levels. The payload of `full` is logged only when the body is already built (never buffered
//! for logging).

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;
use crate::runtime::value::ValueSource;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Simple,
    Headers,
    Full,
    Custom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogCategory {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

#[derive(Debug, Clone)]
pub struct Log {
    pub level: LogLevel,
    pub category: LogCategory,
    pub separator: String,
    pub properties: Vec<(String, ValueSource)>,
}

impl Log {
    /// The message part of the log line.
    pub fn line<B: MessageBody>(&self, ctx: &MessageContext<B>) -> String {
        let mut parts: Vec<String> = Vec::new();
        if matches!(self.level, LogLevel::Simple | LogLevel::Full) {
            parts.push(format!(
                "To: {}",
                if ctx.is_response { "" } else { ctx.to() }
            ));
            parts.push(format!("MessageID: {}", ctx.message_id()));
            parts.push(format!(
                "Direction: {}",
                if ctx.is_response {
                    "response"
                } else {
                    "request"
                }
            ));
        }
        if self.level == LogLevel::Headers {
            for (name, value) in &ctx.headers {
                parts.push(format!("{name} : {}", value.to_str().unwrap_or("")));
            }
        }
        for (name, value) in &self.properties {
            parts.push(format!("{name} = {}", value.resolve(ctx)));
        }
        format!("{{{}}} {}", ctx.artifact, parts.join(&self.separator))
    }

    pub fn apply<B: MessageBody>(&self, ctx: &MessageContext<B>) {
        let line = self.line(ctx);
        match self.category {
            LogCategory::Trace => tracing::trace!(target: "LogMediator", "{line}"),
            LogCategory::Debug => tracing::debug!(target: "LogMediator", "{line}"),
            LogCategory::Info => tracing::info!(target: "LogMediator", "{line}"),
            LogCategory::Warn => tracing::warn!(target: "LogMediator", "{line}"),
            LogCategory::Error | LogCategory::Fatal => {
                tracing::error!(target: "LogMediator", "{line}")
            }
        }
    }
}
