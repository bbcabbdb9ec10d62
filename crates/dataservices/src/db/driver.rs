//! What the SQLite, MySQL/MariaDB and PostgreSQL bindings share: sending a [`Value`] with sqlx's
//! encoder for its Rust type (each driver only says how a decimal goes), the column names of a
//! row, and reading a row column by column with a driver's own per-type decoder, a column it
//! cannot read being a [`DbError::Decode`] that names the column and its type.

use std::str::FromStr;
use std::sync::Arc;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::types::BigDecimal;
use sqlx::{Column as _, ColumnIndex, Database, Encode, TypeInfo as _, ValueRef as _};

use super::error::DbError;
use super::value::{Row, Value};

/// Encodes `value` into `buf` by the encoder of its Rust type; a `Decimal` goes through
/// `decimal`, which each driver writes its own way.
pub(super) fn encode_value<DB: Database>(
    value: &Value,
    buf: &mut DB::ArgumentBuffer,
    decimal: impl FnOnce(&str, &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError>,
) -> Result<IsNull, BoxDynError>
where
    for<'q> bool: Encode<'q, DB>,
    for<'q> i64: Encode<'q, DB>,
    for<'q> f64: Encode<'q, DB>,
    for<'q> &'q str: Encode<'q, DB>,
    for<'q> &'q [u8]: Encode<'q, DB>,
    for<'q> time::Date: Encode<'q, DB>,
    for<'q> time::Time: Encode<'q, DB>,
    for<'q> time::PrimitiveDateTime: Encode<'q, DB>,
    for<'q> time::OffsetDateTime: Encode<'q, DB>,
{
    match value {
        Value::Null => Ok(IsNull::Yes),
        Value::Bool(b) => <bool as Encode<DB>>::encode_by_ref(b, buf),
        Value::Int(i) => <i64 as Encode<DB>>::encode_by_ref(i, buf),
        Value::Double(d) => <f64 as Encode<DB>>::encode_by_ref(d, buf),
        Value::Decimal(s) => decimal(s, buf),
        Value::Text(s) => <&str as Encode<DB>>::encode_by_ref(&s.as_str(), buf),
        Value::Bytes(b) => <&[u8] as Encode<DB>>::encode_by_ref(&b.as_slice(), buf),
        Value::Date(d) => <time::Date as Encode<DB>>::encode_by_ref(d, buf),
        Value::Time(t) => <time::Time as Encode<DB>>::encode_by_ref(t, buf),
        Value::Timestamp(ts) => <time::PrimitiveDateTime as Encode<DB>>::encode_by_ref(ts, buf),
        Value::TimestampTz(ts) => <time::OffsetDateTime as Encode<DB>>::encode_by_ref(ts, buf),
    }
}

/// A decimal's text as a `NUMERIC`/`DECIMAL` (MySQL, PostgreSQL), refused when it is not one.
pub(super) fn encode_big_decimal<DB: Database>(
    text: &str,
    buf: &mut DB::ArgumentBuffer,
) -> Result<IsNull, BoxDynError>
where
    for<'q> BigDecimal: Encode<'q, DB>,
{
    let d = BigDecimal::from_str(text.trim())
        .map_err(|e| format!("'{text}' is not a decimal number: {e}"))?;
    <BigDecimal as Encode<DB>>::encode_by_ref(&d, buf)
}

/// The names of `row`'s columns, in order (shared by every row of one result).
pub(super) fn column_names<R: sqlx::Row>(row: &R) -> Arc<[String]> {
    row.columns().iter().map(|c| c.name().to_owned()).collect()
}

/// Reads `row` column by column: NULL as [`Value::Null`], anything else by `decode` with the
/// value's type as the server reports it.
pub(super) fn decode_row<R: sqlx::Row>(
    row: &R,
    columns: &Arc<[String]>,
    decode: impl Fn(
        <R::Database as Database>::ValueRef<'_>,
        &<R::Database as Database>::TypeInfo,
    ) -> Result<Value, BoxDynError>,
) -> Result<Row, DbError>
where
    usize: ColumnIndex<R>,
{
    let mut values = Vec::with_capacity(columns.len());
    for (i, name) in columns.iter().enumerate() {
        let decode_err = |type_name: &str, message: String| DbError::Decode {
            column: name.clone(),
            type_name: type_name.to_owned(),
            message,
        };
        let raw = row
            .try_get_raw(i)
            .map_err(|e| decode_err("", e.to_string()))?;
        if raw.is_null() {
            values.push(Value::Null);
            continue;
        }
        let ty = raw.type_info().into_owned();
        values.push(decode(raw, &ty).map_err(|e| decode_err(ty.name(), e.to_string()))?);
    }
    Ok(Row::new(columns.clone(), values))
}
