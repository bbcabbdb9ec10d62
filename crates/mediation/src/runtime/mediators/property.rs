//! `<property>` (and each member of `<propertyGroup>`): set or remove a property in a scope
//! (SYN `mediators/builtin/PropertyMediator.java`). The value is a literal, an expression, or inline
//! XML (`type="OM"`); `type` converts it as MI does (a value that does not convert is a mediation
//! error); `pattern`/`group` keep the chosen group of a whole-string regex match (no match: the empty
//! string); a name in braces (`name="{expr}"`) is evaluated per message. Removing the axis2
//! `TRANSPORT_HEADERS` property drops every transport header, as in MI.

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope};
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
        let name = matches!(&self.name, PropertyName::Dynamic(v) if v.needs_payload());
        let value = matches!(&self.action, PropertyAction::Set(v) if v.needs_payload());
        name || value
    }

    /// For a literal value: whether it converts to the declared type (checked at deploy time).
    pub fn check_literal(&self) -> Result<(), String> {
        if let PropertyAction::Set(ValueSource::Literal(v)) = &self.action {
            convert(v, self.value_type).map_err(|e| {
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
                let v = convert(&v, self.value_type).map_err(|e| {
                    format!(
                        "property {name}: the value {v:?} cannot be converted to {:?}: {e}",
                        self.value_type
                    )
                })?;
                ctx.set(self.scope, &name, v)
            }
            PropertyAction::Remove => {
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

/// The value as MI stores it for `type` (PropertyMediator.convertValue), in its text form.
fn convert(value: &str, value_type: PropertyType) -> Result<String, String> {
    let v = value;
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
