//! Parameters of a query: the binding plan of its SQL (MI `ExpressionQuery`: named `:name` and
//! positional `?` placeholders, `ordinal` attributes, ARRAY expansion), the final SQL text per
//! driver family (`$1..` for PostgreSQL, `?` for MySQL/MariaDB and SQLite), default values
//! (`#{NULL}`, `#{CURRENT_TIMESTAMP}` ...), validators with MI's messages, and the conversion of
//! request strings to typed [`Value`]s per `sqlType` with MI's error messages
//! (`SQLQuery.setParamInPreparedStatement` and its setters). Values are always bound, never
//! spliced into the SQL.

use std::collections::{BTreeMap, HashMap};

use crate::error::{Fault, FaultCode};
use crate::model::{
    Bind, Direction, ParamKind, Query, QueryParam, SqlType, Validator, Value, base64_encode,
};

/// Most placeholders one statement may have after ARRAY expansion (PostgreSQL's protocol limit
/// is 65535 parameters; SQLite's default is 32766).
pub const MAX_BIND_PARAMETERS: usize = 32_766;

/// The SQL dialect a statement is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DriverFamily {
    /// `$1`, `$2`, ... placeholders.
    Postgres,
    /// `?` placeholders (MySQL and MariaDB).
    MySql,
    /// `?` placeholders.
    Sqlite,
}

impl DriverFamily {
    /// The family of a JDBC URL (`jdbc:postgresql:`, `jdbc:mysql:`, `jdbc:mariadb:`,
    /// `jdbc:sqlite:`), None for any other.
    pub fn from_jdbc_url(url: &str) -> Option<Self> {
        let rest = url.trim().strip_prefix("jdbc:")?;
        let driver = rest.split(':').next()?;
        match driver.to_ascii_lowercase().as_str() {
            "postgresql" => Some(DriverFamily::Postgres),
            "mysql" | "mariadb" => Some(DriverFamily::MySql),
            "sqlite" => Some(DriverFamily::Sqlite),
            _ => None,
        }
    }
}

/// The placeholders of a query's SQL and what binds to each: MI numbers every `?` and every
/// `:name` of a declared parameter (outside quotes) from 1, replaces the names by `?`, and binds
/// placeholder *n* to the parameter whose ordinals contain *n*.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindPlan {
    /// The SQL text between placeholders: one more than there are placeholders.
    segments: Vec<String>,
    /// For each placeholder, the index in `Query::params` of the parameter bound there (None: no
    /// parameter has that ordinal; the statement then fails when run, as in MI).
    slots: Vec<Option<usize>>,
}

impl BindPlan {
    /// Builds the plan of `sql` and updates `params`' ordinals as MI's
    /// `ExpressionQuery.processNamedParams` does: a parameter used as `:name` gets exactly the
    /// positions it is used at; a parameter not used by name keeps its `ordinal`, unless a named
    /// use took that position (then it binds nowhere).
    pub fn build(sql: &str, params: &mut [QueryParam]) -> BindPlan {
        let names: HashMap<&str, usize> = params
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.as_str(), i))
            .collect();
        let found = scan_placeholders(sql, &names);
        let mut named_seen: Vec<bool> = vec![false; params.len()];
        let mut named_positions = std::collections::BTreeSet::new();
        let mut cleared: Vec<bool> = vec![false; params.len()];
        for (position, placeholder) in found.iter().enumerate() {
            if let Some(index) = placeholder.param {
                if !cleared[index] {
                    params[index].ordinals.clear();
                    cleared[index] = true;
                }
                params[index].ordinals.insert(position + 1);
                named_positions.insert(position + 1);
                named_seen[index] = true;
            }
        }
        for (index, param) in params.iter_mut().enumerate() {
            if !named_seen[index]
                && let Some(&first) = param.ordinals.iter().next()
                && named_positions.contains(&first)
            {
                param.ordinals.clear();
            }
        }
        // MI's InternalParamCollection: ordinal -> param; a later parameter claiming the same
        // ordinal replaces an earlier one.
        let mut by_ordinal: HashMap<usize, usize> = HashMap::new();
        for (index, param) in params.iter().enumerate() {
            for &ordinal in &param.ordinals {
                by_ordinal.insert(ordinal, index);
            }
        }
        let mut segments = Vec::with_capacity(found.len() + 1);
        let mut start = 0;
        for placeholder in &found {
            segments.push(sql[start..placeholder.start].to_string());
            start = placeholder.end;
        }
        segments.push(sql[start..].to_string());
        let slots = (1..=found.len())
            .map(|ordinal| by_ordinal.get(&ordinal).copied())
            .collect();
        BindPlan { segments, slots }
    }

    /// How many placeholders the SQL has (before ARRAY expansion).
    pub fn placeholder_count(&self) -> usize {
        self.slots.len()
    }

    /// For each placeholder, the index of the parameter bound there.
    pub fn slots(&self) -> &[Option<usize>] {
        &self.slots
    }

    /// The SQL with every placeholder written as `?` (what MI prepares).
    pub fn jdbc_sql(&self) -> String {
        self.render(DriverFamily::MySql, &vec![1; self.slots.len()])
    }

    /// The SQL for `family`, placeholder *i* expanded to `counts[i]` comma-separated
    /// placeholders (ARRAY values; 1 for scalars; missing entries count 1).
    pub fn render(&self, family: DriverFamily, counts: &[usize]) -> String {
        let mut out = String::with_capacity(self.segments.iter().map(String::len).sum::<usize>());
        let mut number = 0usize;
        for (i, segment) in self.segments.iter().enumerate() {
            out.push_str(segment);
            if i < self.slots.len() {
                let count = counts.get(i).copied().unwrap_or(1);
                for k in 0..count {
                    if k > 0 {
                        out.push(',');
                    }
                    number += 1;
                    match family {
                        DriverFamily::Postgres => {
                            out.push('$');
                            out.push_str(&number.to_string());
                        }
                        DriverFamily::MySql | DriverFamily::Sqlite => out.push('?'),
                    }
                }
            }
        }
        out
    }
}

struct Placeholder {
    start: usize,
    end: usize,
    /// The parameter named by `:name` (None for `?`).
    param: Option<usize>,
}

/// MI `ExpressionQuery.extractParamNames`: `'` and `"` toggle quoting (no escapes); outside quotes
/// `?` is a placeholder, and `:` followed by the name of a declared parameter (the text up to the
/// next space, `,`, `(`, `)`, `:`, CR, LF or `.`) is a named placeholder.
fn scan_placeholders(sql: &str, names: &HashMap<&str, usize>) -> Vec<Placeholder> {
    let bytes = sql.as_bytes();
    let mut single = false;
    let mut double = false;
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => single = !single,
            b'"' => double = !double,
            b'?' if !single && !double => out.push(Placeholder {
                start: i,
                end: i + 1,
                param: None,
            }),
            b':' if !single && !double && i + 1 < bytes.len() => {
                let rest = &sql[i + 1..];
                let len = rest
                    .find([' ', ',', ')', '(', ':', '\r', '\n', '.'])
                    .unwrap_or(rest.len());
                if let Some(&index) = names.get(&rest[..len]) {
                    out.push(Placeholder {
                        start: i,
                        end: i + 1 + len,
                        param: Some(index),
                    });
                    i += 1 + len;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// A request value before typing: what MI's `ParamValue` holds (strings; None is SQL NULL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestValue {
    Scalar(Option<String>),
    Array(Vec<Option<String>>),
}

impl RequestValue {
    /// A non-null scalar.
    pub fn text(value: impl Into<String>) -> Self {
        RequestValue::Scalar(Some(value.into()))
    }

    /// MI `ParamValue.getScalarValue()`: an array's first element.
    pub fn scalar(&self) -> Option<&str> {
        match self {
            RequestValue::Scalar(v) => v.as_deref(),
            RequestValue::Array(items) => items.first().and_then(|v| v.as_deref()),
        }
    }

    /// MI `ParamValue.toString()`: the scalar (`null` when absent) or `{a,b}`.
    pub fn mi_string(&self) -> String {
        match self {
            RequestValue::Scalar(v) => v.clone().unwrap_or_else(|| "null".into()),
            RequestValue::Array(items) => format!(
                "{{{}}}",
                items
                    .iter()
                    .map(|v| v.as_deref().unwrap_or("null"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }
}

/// A statement ready to run: final SQL for its family and the values in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The SQL for the query's driver family, ARRAY placeholders expanded.
    pub sql: String,
    /// The same statement with JDBC `?` placeholders (what MI prepares; the form
    /// [`crate::db`]'s `DataSource` takes).
    pub jdbc_sql: String,
    /// One entry per placeholder of `sql`, in order.
    pub binds: Vec<Bind>,
    /// The query's parameters with the values used (after defaults), lower-cased names:
    /// output mappings read them as `query-param`s.
    pub values: Vec<(String, RequestValue)>,
}

/// Values the caller has for MI's `#{...}` default values.
#[derive(Debug, Clone, Default)]
pub struct DefaultContext {
    /// `#{USERNAME}`.
    pub username: Option<String>,
    /// `#{USER_ROLES}`.
    pub user_roles: Vec<String>,
    /// `#{CURRENT_TIMESTAMP}` as MI formats it (`yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`); None: now.
    pub now: Option<String>,
}

/// MI `CallQuery.evaluateDefaultValue`: `#{NAME}` properties, then ARRAY splitting.
pub fn evaluate_default(
    raw: &str,
    kind: ParamKind,
    ctx: &DefaultContext,
) -> Result<RequestValue, Fault> {
    enum Evaluated {
        One(Option<String>),
        Many(Vec<String>),
    }
    let evaluated = match raw.strip_prefix("#{").and_then(|r| r.strip_suffix('}')) {
        Some(name) => match name.trim() {
            "USERNAME" => Evaluated::One(ctx.username.clone()),
            "TENANT_ID" => Evaluated::One(Some("-1234".into())),
            "USER_ROLES" => Evaluated::Many(ctx.user_roles.clone()),
            "CURRENT_TIMESTAMP" => {
                Evaluated::One(Some(ctx.now.clone().unwrap_or_else(current_timestamp_utc)))
            }
            _ => Evaluated::One(None),
        },
        None => Evaluated::One(Some(raw.to_string())),
    };
    Ok(match (kind, evaluated) {
        (ParamKind::Array, Evaluated::Many(items)) => {
            RequestValue::Array(items.into_iter().map(Some).collect())
        }
        (ParamKind::Array, Evaluated::One(None)) => RequestValue::Array(vec![None]),
        (ParamKind::Array, Evaluated::One(Some(text))) => RequestValue::Array(
            split_array_default(&text)
                .map_err(|e| Fault::new(FaultCode::UnknownError, e.clone()).with_nested(e))?
                .into_iter()
                .map(Some)
                .collect(),
        ),
        (ParamKind::Scalar, Evaluated::Many(items)) => {
            RequestValue::Scalar(items.into_iter().next())
        }
        (ParamKind::Scalar, Evaluated::One(v)) => RequestValue::Scalar(v),
    })
}

/// `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` of now, in UTC (MI formats in the JVM zone, which Conflux fixes
/// at UTC).
fn current_timestamp_utc() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let ts = time::OffsetDateTime::UNIX_EPOCH + now;
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        ts.year(),
        u8::from(ts.month()),
        ts.day(),
        ts.hour(),
        ts.minute(),
        ts.second(),
        ts.millisecond()
    )
}

/// MI `CallQuery.getParamValueListFromString`: comma-separated values, each optionally quoted
/// with `'` or `"`, backslash escapes (`\n`, `\r`, `\t`, anything else literally).
pub fn split_array_default(text: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut quoted = false;
    let mut escape = false;
    let mut quote = '\0';
    let mut current = String::new();
    let mut i = 0usize;
    while i < chars.len() {
        let c = chars[i];
        if i == start && !quoted && (c == '\'' || c == '"') {
            quote = c;
            quoted = true;
            start += 1;
            i += 1;
            continue;
        }
        if escape {
            escape = false;
            current.push(match c {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                other => other,
            });
        } else if c == '\\' {
            escape = true;
        } else if quoted && c == quote {
            if i + 1 == chars.len() {
                quoted = false;
                break;
            } else if chars[i + 1] == ',' {
                i += 1;
                out.push(std::mem::take(&mut current));
                start = i + 1;
                quoted = false;
            } else {
                let upto: String = chars[start..=i].iter().collect();
                return Err(format!(
                    "Value started as quoted value with (') but terminated prematurely at {i} maybe escape (\\) is missing before ' or a , Processed Value up to error point: {upto}"
                ));
            }
        } else if !quoted && c == ',' {
            out.push(std::mem::take(&mut current));
            start = i + 1;
        } else {
            current.push(c);
        }
        i += 1;
    }
    if escape {
        return Err("Input ended abruptly with \\".into());
    }
    if quoted {
        return Err("At the end there was a quote present without ending quote.".into());
    }
    out.push(current);
    Ok(out)
}

/// Runs the validators of `param` on `value` (MI `Query.validateParams`): the SCALAR/ARRAY check
/// first, then the declared ones. The fault is MI's VALIDATION_ERROR, whose nested exception is
/// `<message>\nField Name: <name>\nField Value: <value>`.
pub fn validate(param: &QueryParam, value: &RequestValue) -> Result<(), Fault> {
    let fail = |message: String| {
        Err(Fault {
            code: FaultCode::ValidationError,
            message: None,
            nested: Some(format!(
                "{message}\nField Name: {}\nField Value: {}",
                param.name,
                value.mi_string()
            )),
            request_name: None,
            current_params: None,
        })
    };
    match (param.param_type, value) {
        (ParamKind::Scalar, RequestValue::Array(_)) => return fail("Scalar type expected".into()),
        (ParamKind::Array, RequestValue::Scalar(_)) => return fail("Array type expected".into()),
        _ => {}
    }
    for validator in &param.validators {
        let message = validator_message(validator);
        match value {
            RequestValue::Scalar(v) => {
                if !validator_accepts(validator, v.as_deref()) {
                    return fail(message);
                }
            }
            RequestValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    // ParamValue.toString() of a null element is "null".
                    let text = item.as_deref().unwrap_or("null");
                    if !validator_accepts(validator, Some(text)) {
                        return fail(format!("{message} at array index {i}"));
                    }
                }
            }
        }
    }
    Ok(())
}

/// The message of a validator (MI's constructors; absent bounds print as 0).
pub fn validator_message(validator: &Validator) -> String {
    match validator {
        Validator::Length { min, max } => format!(
            "The value length must be between {} and {}",
            min.unwrap_or(0),
            max.unwrap_or(0)
        ),
        Validator::LongRange { min, max } => format!(
            "The long value range expected is [{},{}]",
            min.unwrap_or(0),
            max.unwrap_or(0)
        ),
        Validator::DoubleRange { min, max } => format!(
            "The double value range expected is [{},{}]",
            crate::model::java_double_to_string(min.unwrap_or(0.0)),
            crate::model::java_double_to_string(max.unwrap_or(0.0))
        ),
        Validator::Pattern { source, .. } => format!("Pattern {{{source}}} is expected"),
    }
}

/// `validateScalar` of MI's validators; a null value fails every one (MI dereferences it).
fn validator_accepts(validator: &Validator, value: Option<&str>) -> bool {
    let Some(value) = value else {
        return false;
    };
    match validator {
        Validator::Length { min, max } => {
            let len = value.encode_utf16().count() as i64;
            min.is_none_or(|m| len >= i64::from(m)) && max.is_none_or(|m| len <= i64::from(m))
        }
        Validator::LongRange { min, max } => match parse_java_long(value) {
            Some(n) => min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m),
            None => false,
        },
        Validator::DoubleRange { min, max } => match parse_java_double(value) {
            Some(d) => min.is_none_or(|m| d >= m) && max.is_none_or(|m| d <= m),
            None => false,
        },
        Validator::Pattern { regex, .. } => regex.is_match(value),
    }
}

/// Java `Long.parseLong`: optional sign, ASCII digits, in range.
pub fn parse_java_long(text: &str) -> Option<i64> {
    if text.is_empty() || text == "+" || text == "-" {
        return None;
    }
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok()
}

/// Java `Double.parseDouble`: surrounding whitespace trimmed, optional `d`/`f` suffix, `NaN`,
/// `Infinity`, plain and exponent notation.
pub fn parse_java_double(text: &str) -> Option<f64> {
    let t = text.trim_matches(|c: char| c <= ' ');
    let t = t
        .strip_suffix(['d', 'D', 'f', 'F'])
        .filter(|rest| !rest.is_empty() && !rest.ends_with(['+', '-']))
        .unwrap_or(t);
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if unsigned == "NaN" {
        return Some(f64::NAN);
    }
    if unsigned == "Infinity" {
        return Some(if t.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    // Rust also accepts "inf", "nan" and "infinity" spelled other ways: Java does not.
    if !unsigned
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        || !unsigned.bytes().any(|b| b.is_ascii_digit())
    {
        return None;
    }
    t.parse::<f64>().ok()
}

/// A conversion failure, as MI reports it from `SQLQuery.processPreNormalQuery`.
fn conversion_fault(code: FaultCode, exception: &str, message: &str) -> Fault {
    Fault::new(
        code,
        format!("Error in 'SQLQuery.processPreNormalQuery': {message}"),
    )
    .with_nested(format!("{exception}: {message}"))
}

fn number_format(message: String) -> Fault {
    conversion_fault(
        FaultCode::IncompatibleParameters,
        "java.lang.NumberFormatException",
        &message,
    )
}

fn for_input(text: &str) -> Fault {
    number_format(format!("For input string: \"{text}\""))
}

/// Converts one request value to a typed value for `sql_type` (MI's `set*Value` setters).
/// `service` names the data service in MI's unsupported-type message.
pub fn convert(
    service: &str,
    param: &str,
    sql_type: &SqlType,
    value: Option<&str>,
) -> Result<Value, Fault> {
    // A null binds NULL for every type MI binds (setNull); an empty DATE is NULL too.
    let Some(text) = value else {
        if let SqlType::Unbindable(name) = sql_type {
            return Err(unsupported_type(service, name));
        }
        return Ok(Value::Null);
    };
    Ok(match sql_type {
        SqlType::String | SqlType::Uuid | SqlType::InetAddress | SqlType::Clob => {
            Value::Text(text.to_string())
        }
        SqlType::Integer => Value::Int(i64::from(
            parse_java_int(text).ok_or_else(|| for_input(text))?,
        )),
        SqlType::BigInt => Value::Int(parse_java_long(text).ok_or_else(|| for_input(text))?),
        SqlType::SmallInt => Value::Int(i64::from(parse_java_small::<i16>(text)?)),
        SqlType::TinyInt => Value::Int(i64::from(parse_java_small::<i8>(text)?)),
        SqlType::Double => Value::Double(parse_java_double(text).ok_or_else(|| {
            if text.trim().is_empty() {
                number_format("empty String".into())
            } else {
                for_input(text)
            }
        })?),
        SqlType::Real => Value::Double(
            parse_java_double(text)
                .map(|d| f64::from(d as f32))
                .ok_or_else(|| {
                    if text.trim().is_empty() {
                        number_format("empty String".into())
                    } else {
                        for_input(text)
                    }
                })?,
        ),
        SqlType::Numeric => Value::Decimal(parse_big_decimal(text)?),
        SqlType::Boolean => Value::Bool(text.eq_ignore_ascii_case("true")),
        SqlType::Date => {
            if text.is_empty() {
                Value::Null
            } else {
                Value::Date(parse_date(text)?)
            }
        }
        SqlType::Time => Value::Time(parse_time(param, text)?),
        SqlType::Timestamp => Value::Timestamp(parse_timestamp(param, text)?),
        SqlType::Binary => Value::Bytes(decode_base64_lenient(text)),
        SqlType::Unbindable(name) => return Err(unsupported_type(service, name)),
    })
}

fn unsupported_type(service: &str, name: &str) -> Fault {
    let message = format!("[{service}]  Found Unsupported data type : {name} as input parameter.");
    Fault::new(
        FaultCode::DatabaseError,
        format!("Error in 'SQLQuery.processPreNormalQuery': {message}"),
    )
    .with_nested(message)
}

/// Java `Integer.parseInt`.
pub fn parse_java_int(text: &str) -> Option<i32> {
    parse_java_long(text).and_then(|n| i32::try_from(n).ok())
}

/// Java `Short.parseShort` / `Byte.parseByte`: NumberFormatException texts included.
fn parse_java_small<T: TryFrom<i64>>(text: &str) -> Result<T, Fault> {
    let n = parse_java_int(text).ok_or_else(|| for_input(text))?;
    T::try_from(i64::from(n))
        .map_err(|_| number_format(format!("Value out of range. Value:\"{text}\" Radix:10")))
}

/// `new BigDecimal(text)`: sign, digits with one optional point, optional exponent. Returns the
/// text normalised to plain notation (`BigDecimal.toPlainString()`).
fn parse_big_decimal(text: &str) -> Result<String, Fault> {
    let bad = |c: char| {
        number_format(format!(
            "Character {c} is neither a decimal digit number, decimal point, nor \"e\" notation exponential mark."
        ))
    };
    if text.is_empty() {
        return Err(number_format(
            "Index 0 out of bounds for length 0".to_string(),
        ));
    }
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let (negative, digits) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let mut int_part = String::new();
    let mut frac_part = String::new();
    let mut seen_point = false;
    for c in digits.chars() {
        match c {
            '0'..='9' if seen_point => frac_part.push(c),
            '0'..='9' => int_part.push(c),
            '.' if !seen_point => seen_point = true,
            other => return Err(bad(other)),
        }
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(number_format("No digits found.".into()));
    }
    let exponent: i64 = match exponent {
        Some(e) => parse_java_long(e)
            .filter(|e| e.abs() <= 1_000)
            .ok_or_else(|| number_format("Exponent overflow.".into()))?,
        None => 0,
    };
    // Shift the point by the exponent.
    let mut all = format!("{int_part}{frac_part}");
    let mut point = int_part.len() as i64 + exponent;
    if point < 0 {
        all = format!("{}{all}", "0".repeat((-point) as usize));
        point = 0;
    }
    let point = point as usize;
    if point > all.len() {
        all.push_str(&"0".repeat(point - all.len()));
    }
    let (int, frac) = all.split_at(point);
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let sign = if negative { "-" } else { "" };
    Ok(if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    })
}

/// Axis2 `ConverterUtil.convertToDate` (`yyyy-MM-dd` with an optional zone, which is ignored),
/// falling back to a dateTime as MI's `DBUtils.getDate` does.
fn parse_date(text: &str) -> Result<time::Date, Fault> {
    let t = text.trim();
    if t.len() >= 10 && t.as_bytes().get(4) == Some(&b'-') && t.as_bytes().get(7) == Some(&b'-') {
        let rest = &t[10..];
        let zone_ok = rest.is_empty()
            || rest == "Z"
            || (rest.len() == 6 && rest.starts_with(['+', '-']) && rest.as_bytes()[3] == b':');
        if zone_ok
            && let (Some(y), Some(m), Some(d)) = (
                parse_java_int(&t[0..4]),
                parse_java_int(&t[5..7]),
                parse_java_int(&t[8..10]),
            )
            && let Ok(month) = time::Month::try_from(m as u8)
            && let Ok(date) = time::Date::from_calendar_date(y, month, d as u8)
        {
            return Ok(date);
        }
    }
    parse_date_time(t).map(|ts| ts.date())
}

/// MI `DBUtils.getTime`: `HH:mm:ss[.SSS][zone]`, `HH:mm` gets `:00`.
fn parse_time(param: &str, text: &str) -> Result<time::Time, Fault> {
    if text.is_empty() {
        return Err(Fault::new(
            FaultCode::DatabaseError,
            format!(
                "Error in 'SQLQuery.processPreNormalQuery': Error processing parameter - {param}, Error - Empty string or null value was found as time."
            ),
        ));
    }
    let owned;
    let text = if text.len() == 5 {
        owned = format!("{text}:00");
        owned.as_str()
    } else {
        text
    };
    let bad = || {
        Fault::new(
            FaultCode::DatabaseError,
            format!(
                "Error in 'SQLQuery.processPreNormalQuery': Incorrect Time format for parameter : {param}. Time should be in the format hh:mm:ss"
            ),
        )
    };
    let b = text.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return Err(bad());
    }
    let h = parse_java_int(&text[0..2]).ok_or_else(bad)?;
    let m = parse_java_int(&text[3..5]).ok_or_else(bad)?;
    let s = parse_java_int(&text[6..8]).ok_or_else(bad)?;
    let rest = &text[8..];
    let (millis, zone) = split_fraction(rest);
    let (offset, _) = parse_zone(zone).ok_or_else(bad)?;
    let base = time::Time::from_hms_milli(h as u8, m as u8, s as u8, millis.ok_or_else(bad)?)
        .map_err(|_| bad())?;
    // Normalise to UTC like MI's UTC calendar.
    Ok(base - time::Duration::minutes(offset))
}

/// `.fff` then the zone text.
fn split_fraction(rest: &str) -> (Option<u16>, &str) {
    let Some(frac) = rest.strip_prefix('.') else {
        return (Some(0), rest);
    };
    let end = frac
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(frac.len());
    let digits = &frac[..end];
    if digits.is_empty() {
        return (None, rest);
    }
    // MI: a fraction of other than 3 digits is scaled to milliseconds.
    let mut millis: u64 = digits.parse().unwrap_or(0);
    if digits.len() != 3 {
        millis *= 1000;
        for _ in 0..digits.len() {
            millis /= 10;
        }
    }
    (u16::try_from(millis.min(999)).ok(), &frac[end..])
}

/// A zone suffix: empty (the server zone, UTC), `Z`, or `±hh:mm`; returns minutes east of UTC.
fn parse_zone(zone: &str) -> Option<(i64, bool)> {
    if zone.is_empty() {
        return Some((0, false));
    }
    if zone == "Z" {
        return Some((0, true));
    }
    let b = zone.as_bytes();
    if b.len() != 6 || !matches!(b[0], b'+' | b'-') || b[3] != b':' {
        return None;
    }
    let h = parse_java_int(&zone[1..3])?;
    let m = parse_java_int(&zone[4..6])?;
    let minutes = i64::from(h * 60 + m);
    Some((if b[0] == b'-' { -minutes } else { minutes }, true))
}

/// MI `DBUtils.getTimestamp`.
fn parse_timestamp(param: &str, text: &str) -> Result<time::PrimitiveDateTime, Fault> {
    if text.is_empty() {
        return Err(Fault::new(
            FaultCode::DatabaseError,
            format!(
                "Error in 'SQLQuery.processPreNormalQuery': Error processing parameter - {param}, Error - Empty string or null value was found as timeStamp."
            ),
        ));
    }
    parse_date_time(text)
}

/// Axis2 `ConverterUtil.convertToDateTime`: `yyyy-MM-ddTHH:mm:ss[.f+][Z|±hh:mm]`, in UTC.
fn parse_date_time(text: &str) -> Result<time::PrimitiveDateTime, Fault> {
    let t = text.trim();
    let runtime = |message: String| {
        conversion_fault(
            FaultCode::DatabaseError,
            "java.lang.RuntimeException",
            &message,
        )
    };
    let b = t.as_bytes();
    if b.len() < 19 {
        return Err(number_format(
            "date string can not be less than 19 characters".into(),
        ));
    }
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return Err(runtime(format!(
            "invalid date format ({t}) with out - s at correct place "
        )));
    }
    let field = |range: std::ops::Range<usize>| {
        let part = &t[range];
        parse_java_int(part).ok_or_else(|| for_input(part))
    };
    let (y, mo, d, h, mi, s) = (
        field(0..4)?,
        field(5..7)?,
        field(8..10)?,
        field(11..13)?,
        field(14..16)?,
        field(17..19)?,
    );
    let (millis, zone) = split_fraction(&t[19..]);
    let millis = millis.ok_or_else(|| for_input(&t[19..]))?;
    let (offset, _) =
        parse_zone(zone).ok_or_else(|| number_format("Invalid time zone attribute".into()))?;
    let invalid = || {
        runtime(format!(
            "invalid date format ({t}) with out - s at correct place "
        ))
    };
    let month =
        time::Month::try_from(u8::try_from(mo).map_err(|_| invalid())?).map_err(|_| invalid())?;
    let date = time::Date::from_calendar_date(y, month, u8::try_from(d).map_err(|_| invalid())?)
        .map_err(|_| invalid())?;
    let clock = time::Time::from_hms_milli(
        u8::try_from(h).map_err(|_| invalid())?,
        u8::try_from(mi).map_err(|_| invalid())?,
        u8::try_from(s).map_err(|_| invalid())?,
        millis,
    )
    .map_err(|_| invalid())?;
    Ok(time::PrimitiveDateTime::new(date, clock) - time::Duration::minutes(offset))
}

/// commons-codec `Base64.decodeBase64`: characters outside the alphabet are skipped, a
/// trailing partial group is dropped.
pub fn decode_base64_lenient(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0u32;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => continue,
        };
        buffer = (buffer << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

/// The bindings of one query call: which parameters are present (after defaults, MI
/// `Query.extractParams`), their validation, typing and placement.
///
/// `values` maps the target query's parameter names (as the caller received them: with-param
/// names and default values) to request values.
pub fn prepare(
    service: &str,
    query: &Query,
    family: DriverFamily,
    values: &BTreeMap<String, RequestValue>,
) -> Result<Prepared, Fault> {
    // MI Query.preprocessParams: an ARRAY parameter given one value gets a one-element array.
    let lookup = |param: &QueryParam| -> Option<RequestValue> {
        let value = values.get(&param.name)?;
        Some(match (param.param_type, value) {
            (ParamKind::Array, RequestValue::Scalar(v)) => RequestValue::Array(vec![v.clone()]),
            (_, v) => v.clone(),
        })
    };
    let mut present: Vec<Option<RequestValue>> = Vec::with_capacity(query.params.len());
    for param in &query.params {
        let value = lookup(param);
        if value.is_none()
            && param.direction == Direction::In
            && !param.optional
            && param.default_value.is_none()
        {
            return Err(Fault::new(
                FaultCode::IncompatibleParameters,
                format!(
                    "Error in 'Query.extractParams', cannot find query param with name:{}",
                    param.name
                ),
            ));
        }
        present.push(value);
    }
    for (param, value) in query.params.iter().zip(&present) {
        if let Some(value) = value {
            validate(param, value)?;
        }
    }
    let missing_optional: Vec<bool> = query
        .params
        .iter()
        .zip(&present)
        .map(|(p, v)| v.is_none() && p.optional)
        .collect();
    let mut plan_slots: Vec<Option<usize>> = query.bind_plan.slots().to_vec();
    let mut plan = query.bind_plan.clone();
    if query.is_update() && missing_optional.iter().any(|&m| m) {
        plan = drop_optional_assignments(&query.bind_plan, &missing_optional);
        plan_slots = plan.slots().to_vec();
    }
    let mut counts = Vec::with_capacity(plan_slots.len());
    let mut binds = Vec::new();
    for (position, slot) in plan_slots.iter().enumerate() {
        let Some(index) = slot else {
            return Err(missing_ordinal(position + 1));
        };
        let param = &query.params[*index];
        let Some(value) = &present[*index] else {
            return Err(missing_ordinal(position + 1));
        };
        match value {
            RequestValue::Scalar(v) => {
                counts.push(1);
                binds.push(Bind {
                    name: param.name.clone(),
                    sql_type: param.sql_type.clone(),
                    value: convert(service, &param.name, &param.sql_type, v.as_deref())?,
                });
            }
            RequestValue::Array(items) => {
                counts.push(items.len());
                for item in items {
                    binds.push(Bind {
                        name: param.name.clone(),
                        sql_type: param.sql_type.clone(),
                        value: convert(service, &param.name, &param.sql_type, item.as_deref())?,
                    });
                }
            }
        }
        if binds.len() > MAX_BIND_PARAMETERS {
            return Err(Fault::new(
                FaultCode::IncompatibleParameters,
                format!(
                    "Error in 'SQLQuery.processPreNormalQuery': the statement would bind more than {MAX_BIND_PARAMETERS} values"
                ),
            ));
        }
    }
    let values_out = query
        .params
        .iter()
        .zip(present)
        .filter_map(|(p, v)| v.map(|v| (p.name.to_lowercase(), v)))
        .collect();
    Ok(Prepared {
        sql: plan.render(family, &counts),
        jdbc_sql: plan.render(DriverFamily::MySql, &counts),
        binds,
        values: values_out,
    })
}

fn missing_ordinal(ordinal: usize) -> Fault {
    conversion_fault(
        FaultCode::DatabaseError,
        "java.lang.RuntimeException",
        &format!("Parameters are not Defined Correctly, missing parameter ordinal - {ordinal}"),
    )
}

/// MI `SQLQuery.generateSQLupdateQuery`, approximated: in an `UPDATE ... SET a=?, b=? WHERE ...`
/// the assignments whose placeholder belongs to a missing optional parameter are dropped.
fn drop_optional_assignments(plan: &BindPlan, missing: &[bool]) -> BindPlan {
    let mut segments: Vec<String> = Vec::new();
    let mut slots: Vec<Option<usize>> = Vec::new();
    let mut pending = plan.segments[0].clone();
    for (i, slot) in plan.slots.iter().enumerate() {
        let next = &plan.segments[i + 1];
        let drop = slot.is_some_and(|index| missing[index]);
        if drop {
            // Remove `, col =` before the placeholder (or `col =` after SET) and the comma after.
            let trimmed = pending.trim_end();
            let before_eq = trimmed.strip_suffix('=').unwrap_or(trimmed).trim_end();
            let column_start = before_eq
                .rfind(|c: char| c.is_whitespace() || c == ',')
                .map_or(0, |p| p + 1);
            let head = before_eq[..column_start].trim_end();
            let after = next.trim_start();
            if let Some(rest) = after.strip_prefix(',') {
                pending = format!("{head} {}", rest.trim_start());
            } else {
                let head = head.strip_suffix(',').unwrap_or(head);
                pending = format!("{head} {after}");
            }
        } else {
            segments.push(std::mem::take(&mut pending));
            slots.push(*slot);
            pending = next.clone();
        }
    }
    segments.push(pending);
    BindPlan { segments, slots }
}

/// MI `ParamValue` map `toString()` for the fault's `current_params`: `{k=v, k2=v2}` in Java
/// `HashMap` iteration order.
pub fn mi_params_string(params: &[(String, RequestValue)]) -> String {
    let keys: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    let order = java_hashmap_order(&keys);
    let parts: Vec<String> = order
        .into_iter()
        .map(|i| format!("{}={}", params[i].0, params[i].1.mi_string()))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// Java `String.hashCode()` (over UTF-16 units).
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

/// The iteration order of a Java `HashMap<String, _>` filled with `keys` in order (duplicates
/// keep their first position): bucket by the spread hash over the table size the map grew to,
/// insertion order within a bucket. Returns indices into `keys`.
pub fn java_hashmap_order(keys: &[&str]) -> Vec<usize> {
    let mut unique: Vec<usize> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        if !unique.iter().any(|&j| keys[j] == *k) {
            unique.push(i);
        }
    }
    let mut capacity = 16usize;
    while unique.len() as f64 > capacity as f64 * 0.75 {
        capacity *= 2;
    }
    let bucket = |k: &str| {
        let h = java_string_hash(k) as u32;
        ((h ^ (h >> 16)) as usize) & (capacity - 1)
    };
    let mut order: Vec<(usize, usize)> = unique
        .iter()
        .enumerate()
        .map(|(pos, &i)| (bucket(keys[i]), pos))
        .collect();
    order.sort();
    order.into_iter().map(|(_, pos)| unique[pos]).collect()
}

/// The XML Schema type MI's generated WSDL gives a parameter of `sql_type` (MI
/// `DBUtils.getJavaTypeFromSQLType` through Axis2's type table): what a JSON request value is
/// checked against.
pub fn schema_type(sql_type: &SqlType) -> &'static str {
    match sql_type {
        SqlType::String | SqlType::Uuid | SqlType::InetAddress | SqlType::Clob => "string",
        SqlType::Integer => "int",
        SqlType::TinyInt => "byte",
        SqlType::SmallInt => "short",
        SqlType::BigInt => "long",
        SqlType::Double => "double",
        SqlType::Real => "float",
        SqlType::Numeric => "decimal",
        SqlType::Boolean => "boolean",
        SqlType::Date => "date",
        SqlType::Time => "time",
        SqlType::Timestamp => "dateTime",
        SqlType::Binary => "base64Binary",
        SqlType::Unbindable(name) => match name.as_str() {
            "DECIMAL" | "MONEY" | "SMALLMONEY" => "decimal",
            "FLOAT" => "double",
            "VARBINARY" | "LONG VARBINARY" | "IMAGE" => "base64Binary",
            "ANYURI" => "anyURI",
            _ => "string",
        },
    }
}

/// One value of a JSON request body for a parameter of `sql_type`, as Axis2's
/// `GsonXMLStreamReader` reads it against the service schema: the JSON type must fit the schema
/// type (numbers for numeric types, strings for string, date, time and binary types, booleans for
/// boolean; `null` always), else MI's `IllegalArgumentException` text is returned. Numbers are
/// re-read as the schema type (`14` for a double is `14.0`).
pub fn json_request_value(
    sql_type: &SqlType,
    value: &serde_json::Value,
) -> Result<Option<String>, String> {
    let expected = schema_type(sql_type);
    let token = match value {
        serde_json::Value::Null => return Ok(None),
        serde_json::Value::String(_) => "STRING",
        serde_json::Value::Number(_) => "NUMBER",
        serde_json::Value::Bool(_) => "BOOLEAN",
        serde_json::Value::Array(_) => "BEGIN_ARRAY",
        serde_json::Value::Object(_) => "BEGIN_OBJECT",
    };
    let numeric = ["int", "long", "double", "float", "decimal", "byte", "short"];
    // MI compares with "datetime" in lower case, which the schema type never is; Conflux takes a
    // string for a dateTime as well.
    let fits = expected.eq_ignore_ascii_case(token)
        || (token == "NUMBER" && numeric.contains(&expected))
        || (token == "STRING"
            && [
                "string",
                "date",
                "time",
                "dateTime",
                "base64Binary",
                "anyURI",
            ]
            .contains(&expected));
    if !fits {
        return Err(format!(
            "Value type miss match, Expected value type - '{expected}', but found - '{token}'"
        ));
    }
    Ok(Some(match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => match expected {
            "int" | "byte" | "short" => match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
                Some(i) => i.to_string(),
                None => {
                    return Err(format!("Expected an int but was {n}"));
                }
            },
            "long" => match n.as_i64() {
                Some(i) => i.to_string(),
                None => return Err(format!("Expected a long but was {n}")),
            },
            _ => crate::model::java_double_to_string(n.as_f64().unwrap_or(f64::NAN)),
        },
        _ => return Err("Couldn't read the value, Illegal state exception".into()),
    }))
}

/// The base64 text MI writes for binary OUT values (re-exported for the output layer).
pub fn encode_base64(bytes: &[u8]) -> String {
    base64_encode(bytes)
}

#[cfg(test)]
mod tests;
