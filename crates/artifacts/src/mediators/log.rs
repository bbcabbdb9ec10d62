//! `<log level category separator logMessageID logFullPayload>` with a `<message>` template and
//! `<property name value|expression>` children. Levels and categories as
//! SYN:`config/xml/LogMediatorFactory.java`: `logFullPayload="true"` is the `full` level, else
//! `level`, else the MI 4.4 message-template level when there is a `<message>`, else `simple`; an
//! invalid `level` fails deployment (synapse-subset.md §2.4: `level="none"` is rejected by MI).

use roxmltree::Node;

use crate::expression::ValueOrExpression;
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named, text_of};

#[derive(Debug, Clone, PartialEq)]
pub struct Log {
    pub level: LogLevel,
    pub category: LogCategory,
    /// `None`: MI's default `", "`.
    pub separator: Option<String>,
    /// The `<message>` text as written (direct text and CDATA, not trimmed), with its `${...}`
    /// placeholders and `\n` / `\t` escapes still in it.
    pub message: Option<LogMessage>,
    /// `logMessageID="true"`: the custom and message-template lines start with the message id.
    pub log_message_id: bool,
    pub properties: Vec<LogProperty>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogMessage {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Simple,
    Headers,
    Full,
    Custom,
    /// MI 4.4 `MESSAGE_TEMPLATE`: the `<message>` (and properties), with the
    /// `{api:NAME METHOD /path}` prefix.
    MessageTemplate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogCategory {
    Info,
    Trace,
    Debug,
    Warn,
    Error,
    Fatal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogProperty {
    pub name: String,
    pub value: ValueOrExpression,
    pub span: Span,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Log> {
    let mut properties = Vec::new();
    let mut message = None;
    for child in element_children(node) {
        if is_synapse_named(child, "property") {
            properties.push(parse_log_property(ctx, child)?);
        } else if is_synapse_named(child, "message") {
            // LogMediatorFactory reads the first <message> (OMElement.getText: the text and
            // CDATA children, as written).
            if message.is_none() {
                message = Some(LogMessage {
                    text: text_of(child),
                    span: ctx.span(child),
                });
            }
        } else {
            return Err(ctx.unknown(child, node, "message or property"));
        }
    }
    // Boolean.parseBoolean: "true" in any case; anything else is false.
    let flag = |name: &str| {
        ctx.attr(node, name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    };
    let level = match ctx.attr(node, "level") {
        _ if flag("logFullPayload") => LogLevel::Full,
        None if message.is_some() => LogLevel::MessageTemplate,
        None => LogLevel::Simple,
        Some("simple") => LogLevel::Simple,
        Some("headers") => LogLevel::Headers,
        Some("full") => LogLevel::Full,
        Some("custom") => LogLevel::Custom,
        Some(other) => {
            return Err(ctx.invalid_attr(node, "level", other, "simple, headers, full or custom"));
        }
    };
    // The factory trims and upper-cases the category before comparing.
    let category = match ctx.attr(node, "category") {
        None => LogCategory::Info,
        Some(value) => match value.trim().to_ascii_uppercase().as_str() {
            "INFO" => LogCategory::Info,
            "TRACE" => LogCategory::Trace,
            "DEBUG" => LogCategory::Debug,
            "WARN" => LogCategory::Warn,
            "ERROR" => LogCategory::Error,
            "FATAL" => LogCategory::Fatal,
            _ => {
                return Err(ctx.invalid_attr(
                    node,
                    "category",
                    value,
                    "INFO, TRACE, DEBUG, WARN, ERROR or FATAL",
                ));
            }
        },
    };
    Ok(Log {
        level,
        category,
        separator: ctx.attr(node, "separator").map(str::to_string),
        message,
        log_message_id: flag("logMessageID"),
        properties,
        span: ctx.span(node),
    })
}

/// A `<property>` child of log (SYN:`config/xml/MediatorPropertyFactory.java`).
pub(crate) fn parse_log_property(ctx: &Ctx, node: Node) -> Result<LogProperty> {
    let name = ctx
        .required_attr(node, "name", "the name to log")?
        .to_string();
    let value = if let Some(v) = ctx.attr(node, "value") {
        ValueOrExpression::Value(v.to_string())
    } else if let Some(expr) = ctx.expression_attr(node, "expression")? {
        ValueOrExpression::Expression(expr)
    } else {
        return Err(ctx.missing(node, "attribute 'value' or 'expression'", ""));
    };
    Ok(LogProperty {
        name,
        value,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    #[test]
    fn parses_level_category_and_properties() {
        let m = parse_one(
            r#"<log level="custom" category="warn" separator="|" xmlns:m0="urn:m0">
  <property name="SYMBOL" expression="//m0:symbol"/><property name="K" value="v"/></log>"#,
        );
        let Mediator::Log(log) = m else { panic!() };
        assert_eq!(log.level, LogLevel::Custom);
        assert_eq!(log.category, LogCategory::Warn);
        assert_eq!(log.separator.as_deref(), Some("|"));
        let ValueOrExpression::Expression(e) = &log.properties[0].value else {
            panic!()
        };
        assert_eq!(e.text, "//m0:symbol");
        assert_eq!(e.namespaces, vec![("m0".to_string(), "urn:m0".to_string())]);
        assert_eq!(e.span.to_string(), "sequences/S.xml:3:27");
        assert_eq!(
            log.properties[1].value,
            ValueOrExpression::Value("v".into())
        );
    }

    #[test]
    fn defaults_are_simple_info() {
        let Mediator::Log(log) = parse_one("<log/>") else {
            panic!()
        };
        assert_eq!(
            (log.level, log.category, log.separator),
            (LogLevel::Simple, LogCategory::Info, None)
        );
    }

    #[test]
    fn level_none_is_rejected_like_mi() {
        assert_eq!(
            parse_err("<log level=\"none\"/>"),
            "invalid value \"none\" for attribute 'level' of <log>: expected simple, headers, full or custom at sequences/S.xml:2:6"
        );
        assert!(parse_err("<log category=\"LOUD\"/>").contains("attribute 'category' of <log>"));
        assert!(
            parse_err("<log><property name=\"a\"/></log>")
                .contains("<property> requires attribute 'value' or 'expression'")
        );
        assert!(
            parse_err("<log><foo/></log>")
                .starts_with("unknown element <foo> in <log>: expected message or property")
        );
    }

    // LogMediatorFactory: logFullPayload wins, then level, then <message> makes MESSAGE_TEMPLATE.
    #[test]
    fn message_templates_and_the_level_they_imply() {
        let Mediator::Log(log) = parse_one(
            "<log category=\"DEBUG\" logMessageID=\"TRUE\"><message>Hi ${vars.name}\\n<![CDATA[<x>]]> </message><property name=\"p\" value=\"v\"/></log>",
        ) else {
            panic!()
        };
        assert_eq!(log.level, LogLevel::MessageTemplate);
        assert_eq!(log.category, LogCategory::Debug);
        assert!(log.log_message_id);
        let message = log.message.expect("message");
        assert_eq!(message.text, "Hi ${vars.name}\\n<x> ");
        assert_eq!(message.span.to_string(), "sequences/S.xml:2:43");
        assert_eq!(log.properties.len(), 1);
        let level = |body: &str| match parse_one(body) {
            Mediator::Log(l) => l.level,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            level("<log level=\"custom\"><message>m</message></log>"),
            LogLevel::Custom
        );
        assert_eq!(
            level("<log level=\"custom\" logFullPayload=\"true\"><message>m</message></log>"),
            LogLevel::Full
        );
        assert_eq!(
            level("<log logFullPayload=\"yes\"><message>m</message></log>"),
            LogLevel::MessageTemplate
        );
        assert_eq!(level("<log><message/></log>"), LogLevel::MessageTemplate);
        let Mediator::Log(log) = parse_one("<log logMessageID=\"1\"/>") else {
            panic!()
        };
        assert!(!log.log_message_id);
        assert_eq!(log.level, LogLevel::Simple);
    }
}
