//! `<variable>` (MI 4.4; SYN `mediators/v2/VariableMediator.java`, `mediators/v2/Utils.java`):
//! sets or removes a message variable, which Synapse expressions read as `${vars.NAME}`.
//!
//! Values keep MI's Java types ([`ExprValue`]): a `value` is converted to its `type` once, at
//! deployment (`Utils.convertValue`: BOOLEAN is `JavaUtils.isTrueExplicitly`, numbers Java's
//! parsers, JSON Gson's lenient parser, XML an element); an `expression` is evaluated per
//! message (`Utils.getResolvedValue`): XML and STRING take its string value, other types its raw
//! value, which must already be of the type (`convertExpressionResult`), else the message faults
//! with MI's "Expression '${...}' result does not match the expected data type 'T'".
//!
//! An `expression` that is an XPath or a `json-eval(...)` has no raw value in MI:
//! `SynapseXPath.objectValueOf` and `SynapseJsonPath.objectValueOf` return null. So STRING and
//! XML take its string value as for `${...}`, every other type faults with the data-type message
//! (naming the expression as `${<the XPath>}`, as `handleDataTypeException` writes it), and
//! without a `type` the variable is left as it was, since `Axis2MessageContext.setVariable`
//! ignores a null (an unset property reference, whose string value is null, does the same for
//! STRING and XML).

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;
use crate::runtime::payload::parse_document;
use crate::runtime::value::ValueSource;
use crate::synapse_expr::{ExprValue, java_compat};

/// `XMLConfigConstants.VARIABLE_DATA_TYPES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariableType {
    String,
    Boolean,
    Integer,
    Long,
    Double,
    Json,
    Xml,
}

impl VariableType {
    /// `VARIABLE_DATA_TYPES.valueOf(name)`: the exact upper-case name.
    pub fn parse(name: &str) -> Option<VariableType> {
        Some(match name {
            "STRING" => VariableType::String,
            "BOOLEAN" => VariableType::Boolean,
            "INTEGER" => VariableType::Integer,
            "LONG" => VariableType::Long,
            "DOUBLE" => VariableType::Double,
            "JSON" => VariableType::Json,
            "XML" => VariableType::Xml,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            VariableType::String => "STRING",
            VariableType::Boolean => "BOOLEAN",
            VariableType::Integer => "INTEGER",
            VariableType::Long => "LONG",
            VariableType::Double => "DOUBLE",
            VariableType::Json => "JSON",
            VariableType::Xml => "XML",
        }
    }
}

/// The type an expression's value is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpressionType {
    /// No `type`: the raw value is stored.
    Untyped,
    Typed(VariableType),
    /// A `type` MI does not know: the factory accepts it with an expression, and every message
    /// then fails in `VARIABLE_DATA_TYPES.valueOf` (an IllegalArgumentException).
    Unknown(String),
}

#[derive(Debug, Clone)]
pub enum VariableAction {
    /// A `value`, already converted to its type.
    Set(ExprValue),
    /// An `expression`, evaluated per message.
    Evaluate {
        source: ValueSource,
        value_type: ExpressionType,
        /// The attribute as written, for MI's data-type message (`SynapsePath.getExpression`).
        text: String,
    },
    /// `action="remove"`.
    Remove,
}

#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    pub action: VariableAction,
}

/// `Utils.convertValue`'s failure (an IllegalArgumentException: an unknown type, or a number
/// Java cannot parse).
fn unknown_type(type_name: &str) -> String {
    format!(
        "Unknown type : {type_name} for the variable mediator or the variable value cannot be converted into the specified type."
    )
}

/// `SynapseConfigUtils.stringToOM`'s failure.
fn not_xml(text: &str) -> String {
    format!("Unable to convert a string to OM Node as the string is malformed , String : {text}")
}

/// The text as an XML element (`SynapseConfigUtils.stringToOM`), serialised.
fn element(text: &str) -> Result<ExprValue, String> {
    let doc = parse_document(text).map_err(|_| not_xml(text))?;
    Ok(ExprValue::Xml(crate::xpath::serialize(doc.root_element())))
}

/// `JavaUtils.isTrueExplicitly(String)`: `true` or `yes` in any case, or `1`.
fn is_true_explicitly(value: &str) -> bool {
    value.eq_ignore_ascii_case("true") || value == "1" || value.eq_ignore_ascii_case("yes")
}

/// `Utils.convertValue`: a `value` attribute converted to its `type` (None: a String).
pub fn convert_value(value: &str, type_name: Option<&str>) -> Result<ExprValue, String> {
    let Some(type_name) = type_name else {
        return Ok(ExprValue::String(value.to_string()));
    };
    let Some(value_type) = VariableType::parse(type_name) else {
        return Err(unknown_type(type_name));
    };
    let bad = || unknown_type(type_name);
    Ok(match value_type {
        VariableType::String => ExprValue::String(value.to_string()),
        VariableType::Boolean => ExprValue::Bool(is_true_explicitly(value)),
        VariableType::Double => {
            ExprValue::Double(java_compat::parse_double(value).ok_or_else(bad)?)
        }
        VariableType::Integer => ExprValue::Int(java_compat::parse_int(value).ok_or_else(bad)?),
        VariableType::Long => ExprValue::Long(java_compat::parse_long(value).ok_or_else(bad)?),
        VariableType::Xml => element(value)?,
        // Utils.buildJSONElement: Gson's parser; text it rejects is tried again as a JSON
        // string, and if that fails too the error is logged and the variable holds null.
        VariableType::Json => match java_compat::parse_json(value) {
            Ok(json) => ExprValue::Json(json),
            Err(_) => match java_compat::parse_json(&format!("\"{value}\"")) {
                Ok(json) => ExprValue::Json(json),
                Err(_) => {
                    tracing::error!(target: "conflux::mediation", "Malformed JSON payload : {value}");
                    ExprValue::Null
                }
            },
        },
    })
}

/// `Utils.handleDataTypeException`.
fn type_mismatch(expression: &str, value_type: VariableType) -> String {
    format!(
        "Expression '{expression}' result does not match the expected data type '{}'",
        value_type.name()
    )
}

/// `"${" + SynapsePath.getExpression() + "}"` for an XPath or a JSONPath, as
/// `handleDataTypeException` names it: the XPath as written, or the path inside `json-eval(...)`
/// (SynapsePathFactory strips the wrapper: `substring(10, length - 1)`).
fn mi_path_text(text: &str) -> String {
    let path = text
        .strip_prefix("json-eval(")
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or(text);
    format!("${{{path}}}")
}

/// Gson `JsonPrimitive.getAsInt()` / `getAsLong()` of a number: Java's narrowing of the
/// number's value (LazilyParsedNumber: Integer, then Long, then BigDecimal).
fn json_number_as_i64(n: &serde_json::Number) -> i64 {
    match n.as_i64() {
        Some(v) => v,
        None => {
            let d = n.as_f64().unwrap_or(0.0).trunc();
            // BigDecimal.longValue keeps the low 64 bits; past i128 the value is beyond any
            // JSON number Conflux reads.
            (d as i128) as i64
        }
    }
}

/// `Utils.convertExpressionResult`: the raw value checked against (or, for a Gson primitive,
/// converted to) the type.
fn convert_expression_result(
    value: ExprValue,
    value_type: VariableType,
    expression: &str,
) -> Result<ExprValue, String> {
    use serde_json::Value;
    let mismatch = || type_mismatch(expression, value_type);
    // convertJsonPrimitive.
    if let ExprValue::Json(primitive @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) =
        &value
    {
        return match (value_type, primitive) {
            (VariableType::Boolean, Value::Bool(b)) => Ok(ExprValue::Bool(*b)),
            (VariableType::Double, Value::Number(n)) => {
                Ok(ExprValue::Double(n.as_f64().unwrap_or(0.0)))
            }
            (VariableType::Integer, Value::Number(n)) => {
                Ok(ExprValue::Int(json_number_as_i64(n) as i32))
            }
            (VariableType::Long, Value::Number(n)) => Ok(ExprValue::Long(json_number_as_i64(n))),
            (
                VariableType::Boolean
                | VariableType::Double
                | VariableType::Integer
                | VariableType::Long,
                _,
            ) => Err(mismatch()),
            // getAsString for the other types.
            (_, Value::String(s)) => Ok(ExprValue::String(s.clone())),
            (_, other) => Ok(ExprValue::String(other.to_string())),
        };
    }
    let matches = match value_type {
        VariableType::Boolean => matches!(value, ExprValue::Bool(_)),
        VariableType::Double => matches!(value, ExprValue::Double(_)),
        VariableType::Integer => matches!(value, ExprValue::Int(_)),
        VariableType::Long => matches!(value, ExprValue::Long(_)),
        VariableType::Xml => matches!(value, ExprValue::Xml(_)),
        VariableType::Json => matches!(value, ExprValue::Json(_)),
        VariableType::String => true,
    };
    if matches { Ok(value) } else { Err(mismatch()) }
}

impl Variable {
    pub fn needs_payload(&self) -> bool {
        match &self.action {
            VariableAction::Evaluate { source, .. } => source.needs_payload(),
            VariableAction::Set(_) | VariableAction::Remove => false,
        }
    }

    /// `Utils.getResolvedValue` for an expression; `None` is Java's null, which
    /// `setVariable` ignores.
    fn resolve<B: MessageBody>(
        &self,
        source: &ValueSource,
        value_type: &ExpressionType,
        text: &str,
        ctx: &MessageContext<B>,
    ) -> Result<Option<ExprValue>, String> {
        let value_type = match value_type {
            ExpressionType::Untyped => None,
            ExpressionType::Typed(t) => Some(*t),
            // isXMLType -> VARIABLE_DATA_TYPES.valueOf throws.
            ExpressionType::Unknown(name) => {
                return Err(format!(
                    "No enum constant org.apache.synapse.config.xml.XMLConfigConstants.VARIABLE_DATA_TYPES.{name}"
                ));
            }
        };
        if !matches!(source, ValueSource::Synapse(_)) {
            // SynapseXPath / SynapseJsonPath: stringValueOf (null for an unset property
            // reference), and objectValueOf is always null.
            return match value_type {
                Some(VariableType::Xml) => source
                    .resolve_optional(ctx)?
                    .map(|text| element(&text))
                    .transpose(),
                Some(VariableType::String) => {
                    Ok(source.resolve_optional(ctx)?.map(ExprValue::String))
                }
                None => Ok(None),
                Some(t) => Err(type_mismatch(&mi_path_text(text), t)),
            };
        }
        match value_type {
            Some(VariableType::Xml) => element(&source.resolve(ctx)?).map(Some),
            Some(VariableType::String) => Ok(Some(ExprValue::String(source.resolve(ctx)?))),
            None => source.object_value(ctx).map(Some),
            Some(t) => convert_expression_result(source.object_value(ctx)?, t, &source.describe())
                .map(Some),
        }
    }

    pub fn apply<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<(), String> {
        match &self.action {
            VariableAction::Set(value) => {
                ctx.variables.insert(self.name.clone(), value.clone());
            }
            VariableAction::Evaluate {
                source,
                value_type,
                text,
            } => {
                if let Some(value) = self.resolve(source, value_type, text, ctx)? {
                    ctx.variables.insert(self.name.clone(), value);
                }
            }
            VariableAction::Remove => {
                ctx.variables.remove(&self.name);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::context::test_context;
    use crate::runtime::payload::Payload;
    use http::Method;

    fn expression(text: &str, value_type: ExpressionType) -> Variable {
        Variable {
            name: "v".into(),
            action: VariableAction::Evaluate {
                source: ValueSource::compile_text(text, &[]).expect("compiles"),
                value_type,
                text: text.to_string(),
            },
        }
    }

    fn json_ctx(json: &str) -> MessageContext<http_body_util::Full<bytes::Bytes>> {
        let mut ctx = test_context(Method::POST, "/a");
        ctx.payload = Some(
            Payload::parse(
                bytes::Bytes::from(json.to_string()),
                Some("application/json"),
            )
            .expect("JSON"),
        );
        ctx
    }

    // Utils.convertValue.
    #[test]
    fn values_are_converted_once_as_utils_convert_value_does() {
        assert_eq!(
            convert_value("10", None).unwrap(),
            ExprValue::String("10".into())
        );
        assert_eq!(
            convert_value("10", Some("INTEGER")).unwrap(),
            ExprValue::Int(10)
        );
        assert_eq!(
            convert_value("-7", Some("LONG")).unwrap(),
            ExprValue::Long(-7)
        );
        assert_eq!(
            convert_value(" 1e2 ", Some("DOUBLE")).unwrap(),
            ExprValue::Double(100.0)
        );
        for (text, truth) in [
            ("true", true),
            ("YES", true),
            ("1", true),
            ("on", false),
            ("false", false),
        ] {
            assert_eq!(
                convert_value(text, Some("BOOLEAN")).unwrap(),
                ExprValue::Bool(truth),
                "{text}"
            );
        }
        assert_eq!(
            convert_value(r#"{"a":[1,2]}"#, Some("JSON")).unwrap(),
            ExprValue::Json(serde_json::json!({"a": [1, 2]}))
        );
        // Gson is lenient: an unquoted word is a string.
        assert_eq!(
            convert_value("abc", Some("JSON")).unwrap(),
            ExprValue::Json(serde_json::json!("abc"))
        );
        assert_eq!(
            convert_value("<a xmlns=\"urn:a\"><b>1</b></a>", Some("XML")).unwrap(),
            ExprValue::Xml("<a xmlns=\"urn:a\"><b>1</b></a>".into())
        );
        let unknown = "for the variable mediator or the variable value cannot be converted into the specified type.";
        assert_eq!(
            convert_value("1.5", Some("INTEGER")).unwrap_err(),
            format!("Unknown type : INTEGER {unknown}")
        );
        assert_eq!(
            convert_value("1", Some("FLOAT")).unwrap_err(),
            format!("Unknown type : FLOAT {unknown}")
        );
        // valueOf is case-sensitive.
        assert!(convert_value("1", Some("integer")).is_err());
        assert_eq!(
            convert_value("text", Some("XML")).unwrap_err(),
            "Unable to convert a string to OM Node as the string is malformed , String : text"
        );
    }

    // Utils.getResolvedValue / convertExpressionResult.
    #[test]
    fn expressions_keep_or_check_their_type() {
        let mut ctx = json_ctx(r#"{"count":10,"price":2.5,"name":"John","ok":true,"obj":{"a":1}}"#);
        let run = |v: Variable, ctx: &mut MessageContext<_>| {
            v.apply(ctx).map(|()| ctx.variables.get("v").cloned())
        };
        assert_eq!(
            run(
                expression("${payload.count}", ExpressionType::Untyped),
                &mut ctx
            )
            .unwrap(),
            Some(ExprValue::Int(10))
        );
        assert_eq!(
            run(
                expression(
                    "${payload.count}",
                    ExpressionType::Typed(VariableType::Integer)
                ),
                &mut ctx
            )
            .unwrap(),
            Some(ExprValue::Int(10))
        );
        // A payload number is unwrapped to an Integer: DOUBLE does not match (facts §6.1).
        assert_eq!(
            run(
                expression(
                    "${payload.count}",
                    ExpressionType::Typed(VariableType::Double)
                ),
                &mut ctx
            )
            .unwrap_err(),
            "Expression '${payload.count}' result does not match the expected data type 'DOUBLE'"
        );
        assert_eq!(
            run(
                expression(
                    "${payload.price}",
                    ExpressionType::Typed(VariableType::Double)
                ),
                &mut ctx
            )
            .unwrap(),
            Some(ExprValue::Double(2.5))
        );
        assert_eq!(
            run(
                expression(
                    "${payload.ok}",
                    ExpressionType::Typed(VariableType::Boolean)
                ),
                &mut ctx
            )
            .unwrap(),
            Some(ExprValue::Bool(true))
        );
        assert_eq!(
            run(
                expression("${payload.obj}", ExpressionType::Typed(VariableType::Json)),
                &mut ctx
            )
            .unwrap(),
            Some(ExprValue::Json(serde_json::json!({"a": 1})))
        );
        // A payload string is a Gson primitive (EvaluationContextImpl re-wraps it), which JSON
        // turns into its string (convertJsonPrimitive's getAsString); a Java String is no
        // JsonElement.
        assert_eq!(
            run(
                expression("${payload.name}", ExpressionType::Typed(VariableType::Json)),
                &mut ctx
            )
            .unwrap(),
            Some(ExprValue::String("John".into()))
        );
        assert_eq!(
            run(
                expression("${\"abc\"}", ExpressionType::Typed(VariableType::Json)),
                &mut ctx
            )
            .unwrap_err(),
            "Expression '${\"abc\"}' result does not match the expected data type 'JSON'"
        );
        // STRING takes the string value; a failed evaluation is "" (and then not an INTEGER).
        assert_eq!(
            run(
                expression(
                    "${payload.count + 1}",
                    ExpressionType::Typed(VariableType::String)
                ),
                &mut ctx
            )
            .unwrap(),
            Some(ExprValue::String("11".into()))
        );
        assert_eq!(
            run(
                expression(
                    "${payload.missing}",
                    ExpressionType::Typed(VariableType::Integer)
                ),
                &mut ctx
            )
            .unwrap_err(),
            "Expression '${payload.missing}' result does not match the expected data type 'INTEGER'"
        );
        assert_eq!(
            run(
                expression("${payload.missing}", ExpressionType::Untyped),
                &mut ctx
            )
            .unwrap(),
            Some(ExprValue::String(String::new()))
        );
        // XML: the string value built into an element.
        assert_eq!(
            run(
                expression("${\"<a>1</a>\"}", ExpressionType::Typed(VariableType::Xml)),
                &mut ctx
            )
            .unwrap(),
            Some(ExprValue::Xml("<a>1</a>".into()))
        );
        assert_eq!(
            run(
                expression("${payload.count}", ExpressionType::Unknown("FLOAT".into())),
                &mut ctx
            )
            .unwrap_err(),
            "No enum constant org.apache.synapse.config.xml.XMLConfigConstants.VARIABLE_DATA_TYPES.FLOAT"
        );
    }

    // Utils.getResolvedValue with a SynapseXPath / SynapseJsonPath: objectValueOf is null, so
    // only STRING and XML (stringValueOf) set anything; other types fault, and no type leaves
    // the variable as it was (Axis2MessageContext.setVariable ignores null).
    #[test]
    fn xpath_and_json_eval_expressions_have_no_object_value() {
        let mut ctx = json_ctx(r#"{"name":"John","n":5,"obj":{"a":1}}"#);
        ctx.set(
            crate::runtime::context::Scope::Default,
            "frag",
            "<a>1</a>".into(),
        )
        .unwrap();
        let run = |text: &str, t: ExpressionType, ctx: &mut MessageContext<_>| {
            ctx.variables.insert("v".into(), ExprValue::Int(1));
            expression(text, t)
                .apply(ctx)
                .map(|()| ctx.variables.get("v").cloned())
        };
        let typed = ExpressionType::Typed;
        for text in [
            "json-eval($.name)",
            "//name",
            "$ctx:frag",
            "get-property('frag')",
        ] {
            assert_eq!(
                run(text, ExpressionType::Untyped, &mut ctx).unwrap(),
                Some(ExprValue::Int(1)),
                "{text}"
            );
        }
        assert_eq!(
            run("json-eval($.name)", typed(VariableType::String), &mut ctx).unwrap(),
            Some(ExprValue::String("John".into()))
        );
        assert_eq!(
            run("json-eval($.obj)", typed(VariableType::String), &mut ctx).unwrap(),
            Some(ExprValue::String(r#"{"a":1}"#.into()))
        );
        assert_eq!(
            run("//n", typed(VariableType::String), &mut ctx).unwrap(),
            Some(ExprValue::String("5".into()))
        );
        assert_eq!(
            run("$ctx:frag", typed(VariableType::Xml), &mut ctx).unwrap(),
            Some(ExprValue::Xml("<a>1</a>".into()))
        );
        // An unset property reference: stringValueOf is null, so nothing is set.
        for t in [VariableType::String, VariableType::Xml] {
            assert_eq!(
                run("get-property('unset')", typed(t), &mut ctx).unwrap(),
                Some(ExprValue::Int(1))
            );
        }
        assert_eq!(
            run("json-eval($.name)", typed(VariableType::Xml), &mut ctx).unwrap_err(),
            "Unable to convert a string to OM Node as the string is malformed , String : John"
        );
        for (text, t, shown) in [
            ("json-eval($.n)", VariableType::Integer, "${$.n}"),
            ("json-eval($.obj)", VariableType::Json, "${$.obj}"),
            ("//n", VariableType::Long, "${//n}"),
            ("count(//n) = 1", VariableType::Boolean, "${count(//n) = 1}"),
            ("$ctx:frag", VariableType::Double, "${$ctx:frag}"),
        ] {
            assert_eq!(
                run(text, typed(t), &mut ctx).unwrap_err(),
                format!(
                    "Expression '{shown}' result does not match the expected data type '{}'",
                    t.name()
                )
            );
        }
    }

    // A JSON-typed variable holds Gson primitives, which convertJsonPrimitive converts.
    #[test]
    fn json_primitives_convert_like_gson() {
        let mut ctx = test_context(Method::GET, "/a");
        ctx.variables
            .insert("n".into(), ExprValue::Json(serde_json::json!(7.9)));
        ctx.variables
            .insert("s".into(), ExprValue::Json(serde_json::json!("x")));
        let run = |text: &str, t: VariableType, ctx: &mut MessageContext<_>| {
            expression(text, ExpressionType::Typed(t))
                .apply(ctx)
                .map(|()| ctx.variables.get("v").cloned())
        };
        assert_eq!(
            run("${vars.n}", VariableType::Integer, &mut ctx).unwrap(),
            Some(ExprValue::Int(7))
        );
        assert_eq!(
            run("${vars.n}", VariableType::Long, &mut ctx).unwrap(),
            Some(ExprValue::Long(7))
        );
        assert_eq!(
            run("${vars.n}", VariableType::Json, &mut ctx).unwrap(),
            Some(ExprValue::String("7.9".into()))
        );
        assert_eq!(
            run("${vars.s}", VariableType::Json, &mut ctx).unwrap(),
            Some(ExprValue::String("x".into()))
        );
        assert!(run("${vars.s}", VariableType::Boolean, &mut ctx).is_err());
    }

    #[test]
    fn set_and_remove() {
        let mut ctx = test_context(Method::GET, "/a");
        Variable {
            name: "x".into(),
            action: VariableAction::Set(ExprValue::Int(1)),
        }
        .apply(&mut ctx)
        .unwrap();
        assert_eq!(ctx.variables["x"], ExprValue::Int(1));
        Variable {
            name: "x".into(),
            action: VariableAction::Remove,
        }
        .apply(&mut ctx)
        .unwrap();
        assert!(ctx.variables.is_empty());
    }

    mod flow {
        //! The variable mediator through whole artifacts.
        use crate::runtime::expr_context::test_support::*;
        use http::StatusCode;

        // Variables set from values and expressions, read back with ${vars...} arithmetic; a
        // removed variable is undefined ("Variable x is not defined", so empty).
        #[tokio::test]
        async fn variables_hold_typed_values_for_later_expressions() {
            let d = deployed(&[(
                "api/V.xml",
                &api(
                    "V",
                    r#"<variable name="price" value="12.5" type="DOUBLE"/>
<variable name="qty" expression="${payload.qty}" type="INTEGER"/>
<variable name="order" expression="${payload}" type="JSON"/>
<variable name="gone" value="x"/><variable name="gone" action="remove"/>
<payloadFactory media-type="json"><format>{"total": ${vars.price * vars.qty}, "item": "${vars.order.item}", "half": ${vars.qty / 2}, "gone": "${vars.gone}"}</format></payloadFactory><respond/>"#,
                    "",
                ),
            )]);
            let (status, _, body) = call(
                &d,
                "POST",
                "/V/x",
                Some("application/json"),
                r#"{"qty": 3, "item": "pen"}"#,
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                body,
                r#"{"total": 37.5, "item": "pen", "half": 1.5, "gone": ""}"#
            );
        }

        // A typed expression whose value is not of the type faults the message (SynapseException
        // from Utils.handleDataTypeException): the fault sequence sees MI's message.
        #[tokio::test]
        async fn a_mismatched_type_runs_the_fault_sequence() {
            let d = deployed(&[(
                "api/W.xml",
                &api(
                    "W",
                    r#"<variable name="n" expression="${payload.name}" type="INTEGER"/><respond/>"#,
                    r#"<payloadFactory media-type="text"><format>${props.synapse.ERROR_MESSAGE}</format></payloadFactory><respond/>"#,
                ),
            )]);
            let (_, _, body) = call(
                &d,
                "POST",
                "/W/x",
                Some("application/json"),
                r#"{"name": "x"}"#,
            )
            .await;
            assert_eq!(
                body,
                "Expression '${payload.name}' result does not match the expected data type 'INTEGER'"
            );
        }

        // Utils.convertValue runs in the factory: a value that does not convert fails the
        // deployment, located at the mediator.
        #[test]
        fn a_value_that_does_not_convert_fails_the_deployment() {
            let (_, errors) = deploy(&[(
                "api/X.xml",
                &api(
                    "X",
                    r#"<variable name="n" value="ten" type="INTEGER"/>"#,
                    "",
                ),
            )]);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(
                errors[0].message,
                "variable n: Unknown type : INTEGER for the variable mediator or the variable value cannot be converted into the specified type."
            );
            assert_eq!(errors[0].span, "api/X.xml:1:127");
        }
    }
}
