//! SQLite: binding [`Value`]s and reading columns back.
//!
//! SQLite stores a value in one of five storage classes whatever the column says, so a column
//! is read by both: the value's class, refined by the declared type where SQLite's JDBC driver
//! reads it that way (a `BOOLEAN` column's 0/1 as a boolean, a `DATE`/`DATETIME`/`TIME` column's
//! text as a date or time). Dates and times are stored as ISO text (`2024-01-31`,
//! `2024-01-31 10:00:00.5`); decimals as their text, which a NUMERIC column converts.

use std::sync::Arc;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::sqlite::{Sqlite, SqliteArgumentsBuffer, SqliteRow, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Column as _, Decode, Encode, Row as _, Type, TypeInfo as _, ValueRef as _};

use super::driver::encode_value;
use super::error::DbError;
use super::value::{Row, Value};

/// A [`Value`] bound as an SQLite parameter.
pub(super) struct Arg<'a>(pub &'a Value);

impl Type<Sqlite> for Arg<'_> {
    fn type_info() -> SqliteTypeInfo {
        <&str as Type<Sqlite>>::type_info()
    }
}

impl Encode<'_, Sqlite> for Arg<'_> {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        encode_value::<Sqlite>(self.0, buf, |s, buf| {
            let s = s.trim();
            if !is_decimal(s) {
                return Err(format!("'{s}' is not a decimal number").into());
            }
            <&str as Encode<Sqlite>>::encode_by_ref(&s, buf)
        })
    }
}

/// `[+-]digits[.digits][(e|E)[+-]digits]`, what Java's `BigDecimal(String)` accepts.
fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let exp_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    !(int.is_empty() && frac.is_empty()) && digits(int) && digits(frac) && exp_ok
}

pub(super) use super::driver::column_names;

pub(super) fn decode_row(row: &SqliteRow, columns: &Arc<[String]>) -> Result<Row, DbError> {
    let mut values = Vec::with_capacity(columns.len());
    for (i, name) in columns.iter().enumerate() {
        let declared = row.columns()[i].type_info().name().to_owned();
        let decode_err = |message: String| DbError::Decode {
            column: name.clone(),
            type_name: declared.clone(),
            message,
        };
        let raw = row.try_get_raw(i).map_err(|e| decode_err(e.to_string()))?;
        if raw.is_null() {
            values.push(Value::Null);
            continue;
        }
        let class = raw.type_info().name().to_owned();
        values.push(decode(raw, &class, &declared).map_err(|e| decode_err(e.to_string()))?);
    }
    Ok(Row::new(columns.clone(), values))
}

/// `class` is the value's storage class as sqlx names it, `declared` the column's declared type.
fn decode(raw: SqliteValueRef<'_>, class: &str, declared: &str) -> Result<Value, BoxDynError> {
    Ok(match class {
        "REAL" => Value::Double(<f64 as Decode<Sqlite>>::decode(raw)?),
        "BLOB" => Value::Bytes(<Vec<u8> as Decode<Sqlite>>::decode(raw)?),
        "TEXT" | "DATE" | "TIME" | "DATETIME" => {
            let text = <String as Decode<Sqlite>>::decode(raw)?;
            match declared {
                "DATE" => parse_date(&text).map_or(Value::Text(text), Value::Date),
                "TIME" => parse_time(&text).map_or(Value::Text(text), Value::Time),
                "DATETIME" => parse_timestamp(&text).map_or(Value::Text(text), Value::Timestamp),
                _ => Value::Text(text),
            }
        }
        // INTEGER, BOOLEAN, NUMERIC (an integer-valued NUMERIC is stored as an integer).
        _ => {
            let n = <i64 as Decode<Sqlite>>::decode(raw)?;
            if declared == "BOOLEAN" {
                Value::Bool(n != 0)
            } else {
                Value::Int(n)
            }
        }
    })
}

fn parse_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

fn parse_time(s: &str) -> Option<time::Time> {
    let fmt = time::macros::format_description!(
        version = 2,
        "[hour]:[minute][optional [:[second][optional [.[subsecond]]]]]"
    );
    time::Time::parse(s, fmt).ok()
}

fn parse_timestamp(s: &str) -> Option<time::PrimitiveDateTime> {
    let (date, time) = s.split_once([' ', 'T'])?;
    Some(time::PrimitiveDateTime::new(
        parse_date(date)?,
        parse_time(time.trim_end_matches('Z'))?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_checked_before_they_are_stored_as_text() {
        for ok in ["1", "-1.50", "+.5", "3.", "1e10", "2.5E-3"] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in ["", ".", "1.2.3", "1e", "abc", "1; DROP TABLE t", "NaN"] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }

    #[test]
    fn iso_text_parses_as_dates_and_times() {
        assert_eq!(
            parse_date("2024-02-29").map(|d| d.to_string()),
            Some("2024-02-29".into())
        );
        assert_eq!(
            parse_time("10:11").map(|t| t.to_string()),
            Some("10:11:00.0".into())
        );
        assert_eq!(
            parse_time("10:11:12.250").map(|t| t.to_string()),
            Some("10:11:12.25".into())
        );
        assert!(parse_timestamp("2024-01-31T10:00:00").is_some());
        assert!(parse_timestamp("2024-01-31 10:00:00.123456").is_some());
        assert!(parse_timestamp("yesterday").is_none());
    }
}
