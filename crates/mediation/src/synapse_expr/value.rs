//! Values of Synapse expressions (ExpressionResult.java): which Java type a value has decides what
//! the operators and functions do with it, so [`ExprValue`] keeps Java's distinctions: an Integer
//! is not a Long, a Gson JsonPrimitive number read from an array is an integer *and* a double
//! (ExpressionResult.isInteger/isDouble parse its text), a string literal keeps its quotes until
//! `asString()` strips one matching pair.

use super::EvalError;
use super::gson;
use super::java;
use serde_json::Value;

/// A value (MI ExpressionResult): keep Java's distinctions.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprValue {
    /// Java `null` (a null literal, a JSON null read from the payload).
    Null,
    Bool(bool),
    /// `java.lang.Integer` (also a Gson primitive holding a Long that fits an int, which is how
    /// payload numbers read by name come back).
    Int(i32),
    Long(i64),
    Double(f64),
    /// A Java String, raw: a string literal keeps its quotes (`"abc"`), as MI's raw value does.
    String(String),
    /// A Gson JsonElement: object, array, or a primitive as Gson parsed it (from a variable
    /// holding JSON, an array element read by index, a payload string or boolean).
    Json(Value),
    /// Serialized XML (an OMElement variable or an XPath node list).
    Xml(String),
}

impl ExprValue {
    /// MI `ExpressionResult.asString()`: None for null; a String with one pair of matching outer
    /// quotes stripped; a JSON string primitive's value; numbers as Java prints them; objects and
    /// arrays as compact JSON; XML as its text. (A one-character `"` or `'` string makes Java's
    /// `asString` throw; [`ExprValue::as_mi_string`] returns it unchanged.)
    pub fn as_mi_string(&self) -> Option<String> {
        match self.java_as_string() {
            Ok(s) => s,
            Err(_) => match self {
                ExprValue::String(s) => Some(s.clone()),
                _ => None,
            },
        }
    }

    /// `asString()` with Java's failure for a lone quote character (StringIndexOutOfBounds from
    /// `substring(1, 0)`, which MI does not catch).
    pub(super) fn java_as_string(&self) -> Result<Option<String>, EvalError> {
        Ok(Some(match self {
            ExprValue::Null => return Ok(None),
            ExprValue::String(s) => {
                let quoted = (s.starts_with('"') && s.ends_with('"'))
                    || (s.starts_with('\'') && s.ends_with('\''));
                if !quoted {
                    s.clone()
                } else if s.len() == 1 {
                    return Err(EvalError::fault(format!(
                        "StringIndexOutOfBoundsException: begin 1, end 0, length 1 (the value {s})"
                    )));
                } else {
                    s[1..s.len() - 1].to_string()
                }
            }
            ExprValue::Json(Value::String(s)) => s.clone(),
            other => other.java_to_string(),
        }))
    }

    /// Java `toString()` of the raw value (what objectValueOf consumers print): a String as it
    /// is, a JsonElement as Gson's compact JSON (a string primitive quoted), numbers as Java
    /// prints them.
    pub(crate) fn java_to_string(&self) -> String {
        match self {
            ExprValue::Null => "null".into(),
            ExprValue::Bool(b) => b.to_string(),
            ExprValue::Int(i) => i.to_string(),
            ExprValue::Long(l) => l.to_string(),
            ExprValue::Double(d) => java::double_to_string(*d),
            ExprValue::String(s) => s.clone(),
            ExprValue::Json(v) => gson::to_json(v, gson::ELEMENT_TO_STRING),
            ExprValue::Xml(x) => x.clone(),
        }
    }

    /// `isNull()`: Java null or JsonNull.
    pub(super) fn is_null(&self) -> bool {
        matches!(self, ExprValue::Null | ExprValue::Json(Value::Null))
    }

    /// `isInteger()`: an Integer, or a JSON number whose text `Integer.parseInt` accepts.
    pub(super) fn is_integer(&self) -> bool {
        match self {
            ExprValue::Int(_) => true,
            ExprValue::Json(Value::Number(n)) => {
                n.as_i64().is_some_and(|v| i32::try_from(v).is_ok())
            }
            _ => false,
        }
    }

    /// `isLong()`: a Long, or a JSON number whose text `Long.parseLong` accepts.
    pub(super) fn is_long(&self) -> bool {
        match self {
            ExprValue::Long(_) => true,
            ExprValue::Json(Value::Number(n)) => n.is_i64(),
            _ => false,
        }
    }

    /// `isDouble()`: a Double, or any JSON number (its text parses as a double).
    pub(super) fn is_double(&self) -> bool {
        matches!(
            self,
            ExprValue::Double(_) | ExprValue::Json(Value::Number(_))
        )
    }

    pub(super) fn is_numeric(&self) -> bool {
        self.is_integer() || self.is_double() || self.is_long()
    }

    pub(super) fn is_boolean(&self) -> bool {
        matches!(self, ExprValue::Bool(_) | ExprValue::Json(Value::Bool(_)))
    }

    pub(super) fn is_string(&self) -> bool {
        matches!(
            self,
            ExprValue::String(_) | ExprValue::Json(Value::String(_))
        )
    }

    /// `asInt()`: `Number.intValue()` (Java's narrowing), or a JSON number's `getAsInt`.
    pub(super) fn as_int(&self) -> Result<i32, EvalError> {
        Ok(match self {
            ExprValue::Int(i) => *i,
            ExprValue::Long(l) => *l as i32,
            ExprValue::Double(d) => *d as i32,
            ExprValue::Json(Value::Number(n)) => match n.as_i64() {
                Some(v) => v as i32,
                None => (n.as_f64().unwrap_or(0.0).trunc() as i64) as i32,
            },
            other => return Err(other.conversion_error("int")),
        })
    }

    pub(super) fn as_long(&self) -> Result<i64, EvalError> {
        Ok(match self {
            ExprValue::Int(i) => i64::from(*i),
            ExprValue::Long(l) => *l,
            ExprValue::Double(d) => *d as i64,
            ExprValue::Json(Value::Number(n)) => match n.as_i64() {
                Some(v) => v,
                None => n.as_f64().unwrap_or(0.0) as i64,
            },
            other => return Err(other.conversion_error("long")),
        })
    }

    pub(super) fn as_double(&self) -> Result<f64, EvalError> {
        Ok(match self {
            ExprValue::Int(i) => f64::from(*i),
            ExprValue::Long(l) => *l as f64,
            ExprValue::Double(d) => *d,
            ExprValue::Json(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
            other => return Err(other.conversion_error("double")),
        })
    }

    pub(super) fn as_boolean(&self) -> Result<bool, EvalError> {
        match self {
            ExprValue::Bool(b) | ExprValue::Json(Value::Bool(b)) => Ok(*b),
            other => Err(other.conversion_error("boolean")),
        }
    }

    fn conversion_error(&self, to: &str) -> EvalError {
        EvalError::empty(format!(
            "Value : {} cannot be converted to {to}",
            self.java_to_string()
        ))
    }

    /// `isArray()`: a JSON array, or a string (or JSON primitive) that is one once an outer pair of
    /// `"` is stripped and every `\` removed (ExpressionResult.parseStringToJsonArray).
    pub(super) fn is_array(&self) -> bool {
        matches!(self.as_json_array(), Ok(Some(_)))
    }

    pub(super) fn is_object(&self) -> bool {
        matches!(self.as_json_object(), Ok(Some(_)))
    }

    /// `asJsonArray()`: Ok(None) where Java throws EvaluationException.
    pub(super) fn as_json_array(&self) -> Result<Option<Value>, EvalError> {
        self.as_json_container(|v| v.is_array())
    }

    pub(super) fn as_json_object(&self) -> Result<Option<Value>, EvalError> {
        self.as_json_container(|v| v.is_object())
    }

    fn as_json_container(&self, wanted: fn(&Value) -> bool) -> Result<Option<Value>, EvalError> {
        let text = match self {
            ExprValue::Json(v) if wanted(v) => return Ok(Some(v.clone())),
            ExprValue::String(s) => s.clone(),
            ExprValue::Json(Value::String(s)) => s.clone(),
            ExprValue::Json(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
            _ => return Ok(None),
        };
        let stripped = if text.len() >= 2 && text.starts_with('"') && text.ends_with('"') {
            &text[1..text.len() - 1]
        } else if text == "\"" {
            ""
        } else {
            &text
        };
        Ok(gson::parse_lenient(&stripped.replace('\\', ""))
            .ok()
            .filter(wanted))
    }

    /// The value as a Gson JsonElement would hold it, for JSON arrays built by expressions.
    pub(super) fn to_json_value(&self) -> Value {
        match self {
            ExprValue::Null => Value::Null,
            ExprValue::Bool(b) => Value::Bool(*b),
            ExprValue::Int(i) => Value::from(*i),
            ExprValue::Long(l) => Value::from(*l),
            ExprValue::Double(d) => serde_json::Number::from_f64(*d)
                .map_or_else(|| Value::String(java::double_to_string(*d)), Value::Number),
            ExprValue::String(s) => Value::String(s.clone()),
            ExprValue::Json(v) => v.clone(),
            ExprValue::Xml(x) => Value::String(x.clone()),
        }
    }
}

/// `tryParseNumber` of HeadersAndPropertiesAccessNode: Integer, else Long, else Double (Java's
/// `parseDouble`, so `1e5`, ` 12 ` and `NaN` are numbers), else the String.
pub(super) fn parse_number_or_string(text: &str) -> ExprValue {
    if let Some(i) = java::parse_int(text) {
        ExprValue::Int(i)
    } else if let Some(l) = java::parse_long(text) {
        ExprValue::Long(l)
    } else if let Some(d) = java::parse_double(text) {
        ExprValue::Double(d)
    } else {
        ExprValue::String(text.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn as_string_strips_one_pair_of_matching_quotes() {
        let s = |v: &str| ExprValue::String(v.into()).as_mi_string();
        assert_eq!(s("\"abc\"").as_deref(), Some("abc"));
        assert_eq!(s("'abc'").as_deref(), Some("abc"));
        assert_eq!(s("\"abc'").as_deref(), Some("\"abc'"));
        assert_eq!(s("\"\"x\"\"").as_deref(), Some("\"x\""));
        assert_eq!(s("plain").as_deref(), Some("plain"));
        assert!(ExprValue::String("\"".into()).java_as_string().is_err());
        assert_eq!(
            ExprValue::Json(json!("\"keeps\""))
                .as_mi_string()
                .as_deref(),
            Some("\"keeps\"")
        );
        assert_eq!(
            ExprValue::Double(2.0e9).as_mi_string().as_deref(),
            Some("2.0E9")
        );
        assert_eq!(
            ExprValue::Json(json!({"a": [1, null]}))
                .as_mi_string()
                .as_deref(),
            Some("{\"a\":[1,null]}")
        );
        assert_eq!(ExprValue::Null.as_mi_string(), None);
    }

    #[test]
    fn json_numbers_are_integers_and_doubles() {
        let five = ExprValue::Json(json!(5));
        assert!(five.is_integer() && five.is_double() && five.is_long());
        let big = ExprValue::Json(json!(3_000_000_000i64));
        assert!(!big.is_integer() && big.is_long() && big.is_double());
        let half = ExprValue::Json(json!(0.5));
        assert!(!half.is_integer() && !half.is_long() && half.is_double());
        assert!(!ExprValue::Long(5).is_integer());
        assert!(!ExprValue::String("5".into()).is_numeric());
    }

    #[test]
    fn json_containers_from_strings() {
        assert!(ExprValue::String("[1,2,{\\\"abc\\\":5}]".into()).is_array());
        assert!(!ExprValue::String("[1,2,{\\\"abc:5}]".into()).is_array());
        assert!(ExprValue::String("\"{\\\"hello\\\": \\\"world\\\"}\"".into()).is_object());
        assert!(!ExprValue::String("Hello".into()).is_object());
        assert!(!ExprValue::Json(json!(5)).is_array());
        assert!(ExprValue::Json(json!("[1]")).is_array());
    }

    #[test]
    fn lookups_become_numbers_when_java_parses_them() {
        assert_eq!(parse_number_or_string("400"), ExprValue::Int(400));
        assert_eq!(parse_number_or_string("007"), ExprValue::Int(7));
        assert_eq!(
            parse_number_or_string("3000000000"),
            ExprValue::Long(3_000_000_000)
        );
        assert_eq!(parse_number_or_string("1e5"), ExprValue::Double(100000.0));
        assert_eq!(
            parse_number_or_string("Hello"),
            ExprValue::String("Hello".into())
        );
        assert_eq!(parse_number_or_string(""), ExprValue::String(String::new()));
    }
}
