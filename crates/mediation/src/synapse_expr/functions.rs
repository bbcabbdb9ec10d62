//! The predefined functions (PredefinedFunctionNode.java): dispatched on the argument count,
//! arguments evaluated first (except `exists`'s) and refused when null, each with MI's type checks
//! and edge cases. Failures MI reports as EvaluationException are [`EvalError::Empty`]; Java
//! exceptions MI does not catch (bad Base64 or `%` escapes, an illegal charset name, an invalid
//! date pattern, a regular expression that does not compile) are [`EvalError::Fault`].

use super::EvalError;
use super::ast::{Function, Node};
use super::datetime::{Pattern, PatternError, Target};
use super::eval::Evaluator;
use super::java::{self, CharsetError};
use super::value::ExprValue;
use base64::Engine;
use serde_json::Value;

pub(super) fn call(
    ev: &Evaluator<'_>,
    function: Function,
    args: &[Node],
) -> Result<ExprValue, EvalError> {
    let name = function.name();
    match args.len() {
        0 => match function {
            Function::Now => Ok(ExprValue::Long(ev.ctx.now_millis())),
            _ => Err(EvalError::empty(format!(
                "Invalid function: {name} with no arguments"
            ))),
        },
        1 => {
            if function == Function::Exists {
                // The only place MI catches an evaluation error: it means "does not exist".
                return match ev.eval(&args[0]) {
                    Ok(ExprValue::Null) => Ok(ExprValue::Bool(false)),
                    Ok(_) => Ok(ExprValue::Bool(true)),
                    Err(EvalError::Empty { .. }) => Ok(ExprValue::Bool(false)),
                    Err(fault) => Err(fault),
                };
            }
            let source = ev.eval(&args[0])?;
            check_argument(&source, "source", name)?;
            one_argument(ev, function, source)
        }
        2 => {
            let source = ev.eval(&args[0])?;
            let argument1 = ev.eval(&args[1])?;
            check_argument(&source, "source", name)?;
            check_argument(&argument1, "argument1", name)?;
            two_arguments(ev, function, source, argument1)
        }
        3 => {
            let source = ev.eval(&args[0])?;
            let argument1 = ev.eval(&args[1])?;
            let argument2 = ev.eval(&args[2])?;
            check_argument(&source, "source", name)?;
            check_argument(&argument1, "argument1", name)?;
            check_argument(&argument2, "argument2", name)?;
            three_arguments(function, source, argument1, argument2)
        }
        n => Err(EvalError::empty(format!(
            "Invalid number of arguments: {n} provided for the function: {name}"
        ))),
    }
}

fn check_argument(value: &ExprValue, which: &str, name: &str) -> Result<(), EvalError> {
    if value.is_null() {
        return Err(EvalError::empty(format!(
            "Null {which} value provided for the function: {name}"
        )));
    }
    Ok(())
}

fn text(value: &ExprValue) -> Result<String, EvalError> {
    Ok(value.java_as_string()?.unwrap_or_default())
}

fn invalid(name: &str) -> EvalError {
    EvalError::empty(format!("Invalid argument provided for {name} function"))
}

/// `hashicorp-vault()` reads MI's `[[external_vault]] name = "hashicorp"` over HTTP per call;
/// Conflux has no HashiCorp Vault client (expression functions evaluate synchronously).
fn not_supported_vault(name: &str) -> EvalError {
    EvalError::fault(format!(
        "{name}(...) is not supported in Conflux: HashiCorp Vault lookups ([[external_vault]] name = \"hashicorp\") are not implemented; use wso2-vault('alias') with [secrets] in deployment.toml"
    ))
}

fn one_argument(
    ev: &Evaluator<'_>,
    function: Function,
    r: ExprValue,
) -> Result<ExprValue, EvalError> {
    let name = function.name();
    match function {
        Function::Length => {
            if r.is_string() {
                Ok(ExprValue::Int(java::utf16_len(&text(&r)?) as i32))
            } else if let ExprValue::Json(Value::Array(items)) = &r {
                Ok(ExprValue::Int(items.len() as i32))
            } else {
                Err(invalid(name))
            }
        }
        Function::ToLower | Function::ToUpper => {
            let convert = |s: &str| {
                if function == Function::ToLower {
                    s.to_lowercase()
                } else {
                    s.to_uppercase()
                }
            };
            match &r {
                _ if r.is_string() => Ok(ExprValue::String(convert(&text(&r)?))),
                ExprValue::Json(v @ (Value::Number(_) | Value::Bool(_))) => {
                    Ok(ExprValue::Json(Value::String(convert(&v.to_string()))))
                }
                _ => Err(invalid(name)),
            }
        }
        Function::Trim if r.is_string() => {
            Ok(ExprValue::String(java::trim_java(&text(&r)?).to_string()))
        }
        Function::Abs => {
            if r.is_integer() {
                Ok(ExprValue::Int(r.as_int()?.wrapping_abs()))
            } else if r.is_double() {
                Ok(ExprValue::Double(r.as_double()?.abs()))
            } else {
                Err(invalid(name))
            }
        }
        Function::Ceil | Function::Floor => {
            if r.is_integer() {
                Ok(ExprValue::Int(r.as_int()?))
            } else if r.is_double() {
                let d = r.as_double()?;
                Ok(ExprValue::Double(if function == Function::Ceil {
                    d.ceil()
                } else {
                    d.floor()
                }))
            } else {
                Err(invalid(name))
            }
        }
        Function::Round => {
            if r.is_double() {
                // (int) Math.round(d): the long narrowed to an int.
                Ok(ExprValue::Int(java::math_round(r.as_double()?) as i32))
            } else if r.is_integer() {
                Ok(ExprValue::Int(r.as_int()?))
            } else {
                Err(invalid(name))
            }
        }
        Function::Sqrt | Function::Log => {
            if r.is_integer() || r.is_double() {
                let d = r.as_double()?;
                Ok(ExprValue::Double(if function == Function::Sqrt {
                    d.sqrt()
                } else {
                    d.log10()
                }))
            } else {
                Err(invalid(name))
            }
        }
        Function::Base64Encode if r.is_string() => Ok(ExprValue::String(
            base64::engine::general_purpose::STANDARD.encode(text(&r)?.as_bytes()),
        )),
        Function::Base64Decode if r.is_string() => {
            let input = text(&r)?;
            let bytes = java_base64_decoder()
                .decode(input.as_bytes())
                .map_err(|e| {
                    EvalError::fault(format!(
                        "IllegalArgumentException: base64decode of {input:?}: {e}"
                    ))
                })?;
            Ok(ExprValue::String(
                String::from_utf8_lossy(&bytes).into_owned(),
            ))
        }
        Function::UrlEncode if r.is_string() => Ok(ExprValue::String(
            java::url_encode(&text(&r)?, java::Charset::Utf8)
                .replace('+', "%20")
                .replace('*', "%2A"),
        )),
        Function::UrlDecode if r.is_string() => java::url_decode(&text(&r)?)
            .map(ExprValue::String)
            .map_err(|e| EvalError::fault(format!("IllegalArgumentException: {e}"))),
        Function::IsString => Ok(ExprValue::Bool(r.is_string())),
        Function::IsNumber => Ok(ExprValue::Bool(r.is_integer() || r.is_double())),
        Function::IsArray => Ok(ExprValue::Bool(r.is_array())),
        Function::IsObject => Ok(ExprValue::Bool(r.is_object())),
        Function::String => Ok(ExprValue::String(text(&r)?)),
        Function::Integer => {
            if r.is_integer() {
                return Ok(ExprValue::Int(r.as_int()?));
            }
            java::parse_int(&text(&r)?)
                .map(ExprValue::Int)
                .ok_or_else(|| EvalError::empty("Invalid argument provided for integer conversion"))
        }
        Function::Float => {
            if r.is_double() {
                return Ok(ExprValue::Double(r.as_double()?));
            }
            java::parse_double(&text(&r)?)
                .map(ExprValue::Double)
                .ok_or_else(|| EvalError::empty("Invalid argument provided for float conversion"))
        }
        Function::Boolean => {
            if r.is_boolean() {
                return Ok(ExprValue::Bool(r.as_boolean()?));
            }
            Ok(ExprValue::Bool(text(&r)?.eq_ignore_ascii_case("true")))
        }
        Function::Registry => registry(ev, &r, None),
        Function::Object => match r.as_json_object()? {
            Some(object) => Ok(ExprValue::Json(object)),
            None => Err(EvalError::empty(
                "Argument cannot be converted to a JSON object",
            )),
        },
        Function::Array => match r.as_json_array()? {
            Some(array) => Ok(ExprValue::Json(array)),
            None => Err(EvalError::empty(
                "Argument cannot be converted to a JSON array",
            )),
        },
        Function::Xpath => xpath(ev, &text(&r)?, None),
        // PredefinedFunctionNode.fetchSecretValue -> wso2:vault-lookup: the decrypted
        // `[secrets]` value, or the alias itself when there is none.
        Function::Wso2Vault => Ok(ExprValue::String(crate::vault::lookup(&text(&r)?))),
        Function::Not => Ok(ExprValue::Bool(!r.as_boolean()?)),
        Function::Trim
        | Function::Base64Encode
        | Function::Base64Decode
        | Function::UrlEncode
        | Function::UrlDecode => Err(invalid(name)),
        _ => Err(EvalError::empty(format!(
            "Invalid function: {name} with one argument"
        ))),
    }
}

fn two_arguments(
    ev: &Evaluator<'_>,
    function: Function,
    source: ExprValue,
    argument1: ExprValue,
) -> Result<ExprValue, EvalError> {
    let name = function.name();
    let strings = source.is_string() && argument1.is_string();
    let numeric = |v: &ExprValue| v.is_double() || v.is_integer();
    match function {
        Function::SubString if source.is_string() && argument1.is_integer() => {
            let s = text(&source)?;
            let start = argument1.as_int()?;
            let len = java::utf16_len(&s);
            if start < 0 || start as usize > len {
                return Err(EvalError::empty(format!(
                    "Invalid index for subString: {start}, source string length: {len}"
                )));
            }
            Ok(ExprValue::String(java::utf16_substring(
                &s,
                start as usize,
                len,
            )))
        }
        Function::StartsWith if strings => Ok(ExprValue::Bool(
            text(&source)?.starts_with(&text(&argument1)?),
        )),
        Function::EndsWith if strings => Ok(ExprValue::Bool(
            text(&source)?.ends_with(&text(&argument1)?),
        )),
        Function::Contains if strings => {
            Ok(ExprValue::Bool(text(&source)?.contains(&text(&argument1)?)))
        }
        Function::Split if strings => {
            let parts = java::split(&text(&source)?, &text(&argument1)?)
                .map_err(|e| EvalError::fault(format!("PatternSyntaxException: {e}")))?;
            Ok(ExprValue::Json(Value::Array(
                parts.into_iter().map(Value::String).collect(),
            )))
        }
        Function::Pow if numeric(&source) && numeric(&argument1) => Ok(ExprValue::Double(
            java::math_pow(source.as_double()?, argument1.as_double()?),
        )),
        Function::Base64Encode if strings => {
            let charset = charset(name, &text(&argument1)?)?;
            Ok(ExprValue::String(
                base64::engine::general_purpose::STANDARD
                    .encode(java::encode(&text(&source)?, charset)),
            ))
        }
        Function::UrlEncode if strings => {
            let charset_name = text(&argument1)?;
            let charset = charset(name, &charset_name)?;
            let encoded = java::url_encode(&text(&source)?, charset);
            // The `+`/`*` fix-up applies only to the exact name "UTF-8".
            Ok(ExprValue::String(if charset_name == "UTF-8" {
                encoded.replace('+', "%20").replace('*', "%2A")
            } else {
                encoded
            }))
        }
        Function::Registry => registry(ev, &source, Some(&argument1)),
        Function::IndexOf if strings => Ok(ExprValue::Int(java::utf16_index_of(
            &text(&source)?,
            &text(&argument1)?,
            0,
        ))),
        Function::FormatDateTime if argument1.is_string() && source.is_numeric() => {
            let format = text(&argument1)?;
            let pattern = Pattern::compile(&format).map_err(|e| match e {
                PatternError::Invalid(m) => {
                    EvalError::fault(format!("IllegalArgumentException: {m}"))
                }
                PatternError::Unsupported(m) => EvalError::empty(m),
            })?;
            pattern
                .format_epoch_millis(source.as_long()?, ev.ctx.utc_offset_seconds())
                .map(ExprValue::String)
                .map_err(|e| {
                    EvalError::empty(format!(
                        "Invalid date format provided for formatDateTime function. Format: {format} ({})",
                        e.0
                    ))
                })
        }
        Function::CharAt if source.is_string() && argument1.is_integer() => {
            let s = text(&source)?;
            let index = argument1.as_int()?;
            let units: Vec<u16> = s.encode_utf16().collect();
            match usize::try_from(index).ok().and_then(|i| units.get(i)) {
                Some(unit) => Ok(ExprValue::String(String::from_utf16_lossy(&[*unit]))),
                None => Err(EvalError::empty(format!(
                    "Invalid index provided for charAt function. source: {s}, index: {index}"
                ))),
            }
        }
        Function::Xpath => {
            let variable = text(&argument1)?;
            if variable.is_empty() {
                return Err(EvalError::empty(
                    "Invalid variable name provided for XPATH function",
                ));
            }
            xpath(ev, &text(&source)?, Some(&variable))
        }
        Function::Round => {
            if source.is_double() && argument1.is_integer() && argument1.as_int()? > 0 {
                // ExpressionUtils.round: new BigDecimal(Double.toString(x)).setScale(n, HALF_UP).
                let printed = java::double_to_string(source.as_double()?);
                let decimal = java::Decimal::parse(&printed).ok_or_else(|| {
                    EvalError::fault(format!(
                        "NumberFormatException: {printed} is not a decimal number"
                    ))
                })?;
                Ok(ExprValue::Double(
                    decimal
                        .set_scale_half_up(i64::from(argument1.as_int()?))
                        .to_f64(),
                ))
            } else if source.is_integer() || source.is_long() {
                Ok(source)
            } else {
                Err(invalid(name))
            }
        }
        Function::HashicorpVault => Err(not_supported_vault(name)),
        Function::Log if numeric(&source) && numeric(&argument1) => Ok(ExprValue::Double(
            source.as_double()?.ln() / argument1.as_double()?.ln(),
        )),
        Function::SubString
        | Function::StartsWith
        | Function::EndsWith
        | Function::Contains
        | Function::Split
        | Function::Pow
        | Function::Base64Encode
        | Function::UrlEncode
        | Function::IndexOf
        | Function::FormatDateTime
        | Function::CharAt
        | Function::Log => Err(invalid(name)),
        _ => Err(EvalError::empty(format!(
            "Invalid function: {name} with two arguments"
        ))),
    }
}

fn three_arguments(
    function: Function,
    source: ExprValue,
    argument1: ExprValue,
    argument2: ExprValue,
) -> Result<ExprValue, EvalError> {
    let name = function.name();
    match function {
        Function::SubString
            if source.is_string() && argument1.is_integer() && argument2.is_integer() =>
        {
            let s = text(&source)?;
            let (start, end) = (argument1.as_int()?, argument2.as_int()?);
            let len = java::utf16_len(&s);
            if end < 0 || start < 0 || start > end || end as usize > len {
                return Err(EvalError::empty(format!(
                    "Invalid subString indices: start={start}, end={end}, string length={len}"
                )));
            }
            Ok(ExprValue::String(java::utf16_substring(
                &s,
                start as usize,
                end as usize,
            )))
        }
        Function::Replace
            if source.is_string() && argument1.is_string() && argument2.is_string() =>
        {
            Ok(ExprValue::String(
                text(&source)?.replace(&text(&argument1)?, &text(&argument2)?),
            ))
        }
        Function::IndexOf
            if source.is_string() && argument1.is_string() && argument2.is_integer() =>
        {
            Ok(ExprValue::Int(java::utf16_index_of(
                &text(&source)?,
                &text(&argument1)?,
                i64::from(argument2.as_int()?),
            )))
        }
        Function::FormatDateTime
            if source.is_string() && argument1.is_string() && argument2.is_string() =>
        {
            let (input, old_format, new_format) =
                (text(&source)?, text(&argument1)?, text(&argument2)?);
            let output = Pattern::compile(&new_format).map_err(|e| {
                EvalError::empty(format!(
                    "Invalid target format provided for formatDateTime function. Format: {new_format} ({})",
                    pattern_message(&e)
                ))
            })?;
            let failed = || {
                EvalError::empty(format!(
                    "Invalid date/time or source format provided for formatDateTime function. Source: {input} Format: {old_format}"
                ))
            };
            let input_pattern = Pattern::compile(&old_format).map_err(|_| failed())?;
            [Target::DateTime, Target::Date, Target::Time]
                .into_iter()
                .find_map(|target| input_pattern.reformat(&input, target, &output).ok())
                .map(ExprValue::String)
                .ok_or_else(failed)
        }
        Function::HashicorpVault => Err(not_supported_vault(name)),
        Function::SubString | Function::Replace | Function::IndexOf | Function::FormatDateTime => {
            Err(invalid(name))
        }
        _ => Err(EvalError::empty(format!(
            "Invalid function: {name} with three arguments"
        ))),
    }
}

fn pattern_message(e: &PatternError) -> &str {
    match e {
        PatternError::Invalid(m) | PatternError::Unsupported(m) => m,
    }
}

/// `Charset.forName` as ExpressionUtils.getCharset calls it: an unknown charset is an evaluation
/// error, an illegal name an IllegalCharsetNameException MI does not catch.
fn charset(function: &str, name: &str) -> Result<java::Charset, EvalError> {
    java::charset_for_name(name).map_err(|e| match e {
        CharsetError::Unsupported(n) => EvalError::empty(format!(
            "Invalid charset provided for {function} function. Charset: {n}"
        )),
        CharsetError::IllegalName(n) => {
            EvalError::fault(format!("IllegalCharsetNameException: {n}"))
        }
    })
}

/// `Base64.getDecoder()`: the basic alphabet, padding optional but checked when present.
fn java_base64_decoder() -> base64::engine::GeneralPurpose {
    base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
}

/// `registry(key)` / `registry(key, property)` (handleRegistryAccess).
fn registry(
    ev: &Evaluator<'_>,
    key: &ExprValue,
    property: Option<&ExprValue>,
) -> Result<ExprValue, EvalError> {
    if !key.is_string() {
        return Err(EvalError::empty(
            "Invalid argument provided for registry function",
        ));
    }
    let key = text(key)?;
    match property.filter(|p| p.is_string()) {
        Some(property) => {
            let property = text(property)?;
            ev.ctx
                .registry_property(&key, &property)
                .map(ExprValue::String)
                .ok_or_else(|| {
                    EvalError::empty(format!(
                        "Could not find the property: {property} in the registry resource: {key}"
                    ))
                })
        }
        None => ev
            .ctx
            .registry_text(&key)
            .map(ExprValue::String)
            .ok_or_else(|| {
                EvalError::empty(format!("Could not find the registry resource: {key}"))
            }),
    }
}

/// `xpath(expr)` / `xpath(expr, 'var')`: the string value in string context, the node list in
/// object context (a non-node-set result there is a ClassCastException in MI).
fn xpath(
    ev: &Evaluator<'_>,
    expression: &str,
    variable: Option<&str>,
) -> Result<ExprValue, EvalError> {
    let string_mode = !ev.object_mode;
    let result = ev
        .ctx
        .xpath(expression, variable, string_mode)
        .map_err(|e| EvalError::empty(format!("Invalid XPATH expression : {expression} ({e})")))?;
    if string_mode {
        return Ok(ExprValue::String(match result {
            ExprValue::String(s) => s,
            ExprValue::Null => String::new(),
            other => other.java_to_string(),
        }));
    }
    match result {
        ExprValue::Xml(_) | ExprValue::Json(Value::Array(_)) | ExprValue::Null => Ok(result),
        other => Err(EvalError::fault(format!(
            "ClassCastException: xpath('{expression}') gave {} where a node list was expected",
            other.java_to_string()
        ))),
    }
}
