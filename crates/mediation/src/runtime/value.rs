//! Values that mediators read: a literal, or a property reference in one of MI's short forms
//! (`get-property('name')`, `get-property('scope', 'name')`, `$ctx:name`, `$axis2:name`,
//! `$trp:name`, `$url:name`). Full XPath and JSONPath come with the expression engine; until then
//! any other expression is rejected when the artifact deploys, with its location.

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope};

/// A value resolved per message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    Literal(String),
    Property(Scope, String),
    /// A query parameter of the request (`$url:name`).
    QueryParam(String),
}

impl ValueSource {
    /// Compiles an expression text; `Err` says why it is not supported yet.
    pub fn parse_expression(text: &str) -> Result<ValueSource, String> {
        let t = text.trim();
        for (prefix, scope) in [
            ("$ctx:", Scope::Default),
            ("$axis2:", Scope::Axis2),
            ("$trp:", Scope::Transport),
        ] {
            if let Some(name) = t.strip_prefix(prefix)
                && is_name(name)
            {
                return Ok(ValueSource::Property(scope, name.to_string()));
            }
        }
        if let Some(name) = t.strip_prefix("$url:")
            && is_name(name)
        {
            return Ok(ValueSource::QueryParam(name.to_string()));
        }
        if let Some(args) = t
            .strip_prefix("get-property(")
            .and_then(|r| r.strip_suffix(')'))
        {
            let parts: Vec<&str> = args.split(',').map(str::trim).collect();
            let unquote = |s: &str| {
                s.strip_prefix('\'')
                    .and_then(|s| s.strip_suffix('\''))
                    .or_else(|| s.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
                    .map(str::to_string)
            };
            match parts.as_slice() {
                [name] => {
                    if let Some(name) = unquote(name) {
                        return Ok(ValueSource::Property(Scope::Default, name));
                    }
                }
                [scope, name] => {
                    let scope = match unquote(scope).as_deref() {
                        Some("default") => Some(Scope::Default),
                        Some("axis2") => Some(Scope::Axis2),
                        Some("transport") => Some(Scope::Transport),
                        _ => None,
                    };
                    if let (Some(scope), Some(name)) = (scope, unquote(name)) {
                        return Ok(ValueSource::Property(scope, name));
                    }
                }
                _ => {}
            }
        }
        Err(format!(
            "expression {t:?} is not supported yet (supported so far: get-property('name'), get-property('scope','name'), $ctx:, $axis2:, $trp:, $url:)"
        ))
    }

    /// The value for this message; an unset property reads as the empty string, as in MI.
    pub fn resolve<B: MessageBody>(&self, ctx: &MessageContext<B>) -> String {
        match self {
            ValueSource::Literal(s) => s.clone(),
            ValueSource::Property(scope, name) => ctx.get(*scope, name).unwrap_or_default(),
            ValueSource::QueryParam(name) => ctx
                .get(Scope::Default, &format!("query.param.{name}"))
                .unwrap_or_default(),
        }
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms_parse() {
        assert_eq!(
            ValueSource::parse_expression("get-property('uri.var.id')").unwrap(),
            ValueSource::Property(Scope::Default, "uri.var.id".into())
        );
        assert_eq!(
            ValueSource::parse_expression("get-property('axis2', 'HTTP_SC')").unwrap(),
            ValueSource::Property(Scope::Axis2, "HTTP_SC".into())
        );
        assert_eq!(
            ValueSource::parse_expression("$trp:Content-Type").unwrap(),
            ValueSource::Property(Scope::Transport, "Content-Type".into())
        );
        assert_eq!(
            ValueSource::parse_expression("$url:q").unwrap(),
            ValueSource::QueryParam("q".into())
        );
        assert!(ValueSource::parse_expression("//a/b").is_err());
        assert!(ValueSource::parse_expression("json-eval($.a)").is_err());
    }
}
