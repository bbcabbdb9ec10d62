//! `<property>` (and each member of `<propertyGroup>`): set or remove a property in a scope
//! (SYN `mediators/builtin/PropertyMediator.java`). The value is a literal, an expression, or inline
//! XML (`type="OM"`); `type` converts it as MI does (a value that does not convert is a mediation
//! error); `pattern`/`group` keep the chosen group of a whole-string regex match (no match: the empty
//! string); a name in braces (`name="{expr}"`) is evaluated per message. Removing the axis2
//! `TRANSPORT_HEADERS` property drops every transport header, as in MI.

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope, props};
use crate::runtime::value::ValueSource;

#[derive(Debug, Clone)]
pub enum PropertyAction {
    Set(ValueSource),
    Remove,
}

/// MI's property data types (`XMLConfigConstants.DATA_TYPES`), as the artifact declares them.
pub use conflux_artifacts::mediators::PropertyType;

#[derive(Debug, Clone)]
pub enum PropertyName {
    Fixed(String),
    Dynamic(ValueSource),
}

#[derive(Debug, Clone)]
pub struct Property {
    pub name: PropertyName,
    pub scope: Scope,
    pub action: PropertyAction,
    pub value_type: PropertyType,
    /// `pattern` anchored at both ends, and the group to keep.
    pub pattern: Option<(regex::Regex, usize)>,
}

impl Property {
    pub fn needs_payload(&self) -> bool {
        // Setting axis2 `messageType` changes the format the message is written in, so the
        // message must be built to be converted (SYN PropertyMediator.isContentAware).
        let message_type = self.scope == Scope::Axis2
            && matches!(&self.name, PropertyName::Fixed(n) if n == props::MESSAGE_TYPE);
        let name = matches!(&self.name, PropertyName::Dynamic(_));
        let value = matches!(&self.action, PropertyAction::Set(v) if v.needs_payload());
        message_type || name || value
    }

    /// For a literal value: whether it converts to the declared type (checked at deploy time).
    pub fn check_literal(&self) -> Result<(), String> {
        if let PropertyAction::Set(ValueSource::Literal(v)) = &self.action {
            convert(v, self.value_type, false).map_err(|e| {
                format!(
                    "the value {v:?} cannot be converted to {:?}: {e}",
                    self.value_type
                )
            })?;
        }
        Ok(())
    }

    pub fn apply<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<(), String> {
        let name = match &self.name {
            PropertyName::Fixed(n) => n.clone(),
            PropertyName::Dynamic(v) => v.resolve(ctx)?,
        };
        match &self.action {
            PropertyAction::Set(value) => {
                let mut v = value.resolve(ctx)?;
                if let Some((re, group)) = &self.pattern {
                    v = re
                        .captures(&v)
                        .and_then(|c| c.get(*group))
                        .map(|m| m.as_str().to_string())
                        .unwrap_or_default();
                }
                let from_expression = !matches!(value, ValueSource::Literal(_));
                let v = convert(&v, self.value_type, from_expression).map_err(|e| {
                    format!(
                        "property {name}: the value {v:?} cannot be converted to {:?}: {e}",
                        self.value_type
                    )
                })?;
                if self.scope == Scope::Axis2 && name == props::MESSAGE_TYPE {
                    // MediatorPropertyUtils.handleSpecialProperties: the content type follows.
                    ctx.set(Scope::Axis2, props::CONTENT_TYPE, v.clone())?;
                    if let Ok(header) = http::HeaderValue::try_from(v.as_str()) {
                        ctx.headers.insert(http::header::CONTENT_TYPE, header);
                    }
                }
                ctx.mark_om(self.scope, &name, self.value_type == PropertyType::Om);
                ctx.set(self.scope, &name, v)
            }
            PropertyAction::Remove => {
                ctx.mark_om(self.scope, &name, false);
                if self.scope == Scope::Axis2 && name == "TRANSPORT_HEADERS" {
                    ctx.headers.clear();
                } else {
                    ctx.remove(self.scope, &name);
                }
                Ok(())
            }
        }
    }
}

/// The value as MI stores it for `type` (PropertyMediator.convertValue), in its text form. A number
/// an expression gave (`count(//a)` is `"2.0"`) is truncated for the integer types, as
/// PropertyMediator.parseInteger/parseShort do; a literal must be a plain integer.
fn convert(value: &str, value_type: PropertyType, from_expression: bool) -> Result<String, String> {
    let v = value;
    let truncated = |v: &str| -> Option<f64> {
        (from_expression && v.contains('.'))
            .then(|| v.trim().parse::<f64>().ok())
            .flatten()
            .filter(|n| n.is_finite())
            .map(f64::trunc)
    };
    if let Some(n) = truncated(v) {
        let fits = match value_type {
            PropertyType::Integer => (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&n),
            PropertyType::Short => (f64::from(i16::MIN)..=f64::from(i16::MAX)).contains(&n),
            PropertyType::Long => (i64::MIN as f64..=i64::MAX as f64).contains(&n),
            _ => false,
        };
        if fits {
            return Ok(format!("{n:.0}"));
        }
    }
    Ok(match value_type {
        PropertyType::String => v.to_string(),
        // JavaUtils.isTrueExplicitly: "true", "1", "yes" (any case).
        PropertyType::Boolean => {
            let t = v.trim().to_ascii_lowercase();
            (t == "true" || t == "1" || t == "yes").to_string()
        }
        PropertyType::Integer => v
            .trim()
            .parse::<i32>()
            .map_err(|e| e.to_string())?
            .to_string(),
        PropertyType::Long => v
            .trim()
            .parse::<i64>()
            .map_err(|e| e.to_string())?
            .to_string(),
        PropertyType::Short => v
            .trim()
            .parse::<i16>()
            .map_err(|e| e.to_string())?
            .to_string(),
        PropertyType::Float | PropertyType::Double => {
            let n = v.trim().parse::<f64>().map_err(|e| e.to_string())?;
            // Java's Double.toString keeps one decimal for whole numbers.
            if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e7 {
                format!("{n:.1}")
            } else {
                n.to_string()
            }
        }
        PropertyType::Om => {
            crate::runtime::payload::parse_document(v).map_err(|e| format!("not XML: {e}"))?;
            v.to_string()
        }
        PropertyType::Json => {
            serde_json::from_str::<serde_json::Value>(v).map_err(|e| format!("not JSON: {e}"))?;
            v.to_string()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn ctx() -> MessageContext<http_body_util::Full<bytes::Bytes>> {
        crate::runtime::context::test_context(Method::GET, "/a")
    }

    fn set(name: &str, value: &str, value_type: PropertyType) -> Property {
        Property {
            name: PropertyName::Fixed(name.into()),
            scope: Scope::Default,
            action: PropertyAction::Set(ValueSource::Literal(value.into())),
            value_type,
            pattern: None,
        }
    }

    // PropertyMediator.convertValue
    #[test]
    fn types_convert_like_mi_and_bad_values_fail() {
        let mut c = ctx();
        set("b", "YES", PropertyType::Boolean)
            .apply(&mut c)
            .unwrap();
        assert_eq!(c.get(Scope::Default, "b").as_deref(), Some("true"));
        set("i", " 42 ", PropertyType::Integer)
            .apply(&mut c)
            .unwrap();
        assert_eq!(c.get(Scope::Default, "i").as_deref(), Some("42"));
        set("d", "2", PropertyType::Double).apply(&mut c).unwrap();
        assert_eq!(c.get(Scope::Default, "d").as_deref(), Some("2.0"));
        assert!(set("i", "x", PropertyType::Integer).apply(&mut c).is_err());
        assert!(
            set("s", "40000", PropertyType::Short)
                .apply(&mut c)
                .is_err()
        );
        assert!(set("o", "<a>", PropertyType::Om).apply(&mut c).is_err());
        set("o", "<a/>", PropertyType::Om).apply(&mut c).unwrap();
    }

    // PropertyMediator.parseInteger: an expression's "2.0" truncates; a literal "2.0" does not parse.
    #[test]
    fn expression_numbers_truncate_for_integer_types() {
        let mut c = ctx();
        c.set(Scope::Default, "n", "2.0".into()).unwrap();
        let mut p = set("i", "", PropertyType::Integer);
        p.action = PropertyAction::Set(ValueSource::Property(Scope::Default, "n".into()));
        p.apply(&mut c).unwrap();
        assert_eq!(c.get(Scope::Default, "i").as_deref(), Some("2"));
        assert!(
            set("i", "2.0", PropertyType::Integer)
                .apply(&mut c)
                .is_err()
        );
    }

    // MediatorPropertyUtils.handleSpecialProperties: messageType carries ContentType and the header.
    #[test]
    fn message_type_sets_content_type_and_needs_the_payload() {
        let mut c = ctx();
        let mut p = set(
            props::MESSAGE_TYPE,
            "application/json",
            PropertyType::String,
        );
        p.scope = Scope::Axis2;
        assert!(p.needs_payload());
        p.apply(&mut c).unwrap();
        assert_eq!(
            c.get(Scope::Axis2, props::CONTENT_TYPE).as_deref(),
            Some("application/json")
        );
        assert_eq!(c.headers[http::header::CONTENT_TYPE], "application/json");
    }

    // PropertyMediator.getMatchedValue: whole match, chosen group, else "".
    #[test]
    fn pattern_keeps_the_group_of_a_whole_match() {
        let mut c = ctx();
        let mut p = set("v", "id-123", PropertyType::String);
        p.pattern = Some((regex::Regex::new("^(?:id-(\\d+))$").unwrap(), 1));
        p.apply(&mut c).unwrap();
        assert_eq!(c.get(Scope::Default, "v").as_deref(), Some("123"));
        let mut p = set("v", "xid-123", PropertyType::String);
        p.pattern = Some((regex::Regex::new("^(?:id-(\\d+))$").unwrap(), 1));
        p.apply(&mut c).unwrap();
        assert_eq!(c.get(Scope::Default, "v").as_deref(), Some(""));
    }

    #[test]
    fn dynamic_names_and_transport_headers_removal() {
        let mut c = ctx();
        c.set(Scope::Default, "which", "target".into()).unwrap();
        Property {
            name: PropertyName::Dynamic(ValueSource::Property(Scope::Default, "which".into())),
            scope: Scope::Default,
            action: PropertyAction::Set(ValueSource::Literal("v".into())),
            value_type: PropertyType::String,
            pattern: None,
        }
        .apply(&mut c)
        .unwrap();
        assert_eq!(c.get(Scope::Default, "target").as_deref(), Some("v"));
        c.set(Scope::Transport, "X-A", "1".into()).unwrap();
        Property {
            name: PropertyName::Fixed("TRANSPORT_HEADERS".into()),
            scope: Scope::Axis2,
            action: PropertyAction::Remove,
            value_type: PropertyType::String,
            pattern: None,
        }
        .apply(&mut c)
        .unwrap();
        assert!(c.headers.is_empty());
    }
}
