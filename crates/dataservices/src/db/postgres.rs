//! PostgreSQL: binding [`Value`]s and reading columns back, over sqlx's binary protocol.
//!
//! Each value is sent with its own type (`produces`), so `Int` goes as `int8`, `Text` as `text`
//! and `Null` as "unspecified" (OID 0), which lets the server infer the parameter's type from
//! where it stands, as `setNull` with the column's type does in JDBC. Columns are read by their
//! type name; a type this layer cannot read (intervals, geometric types, arrays, …) is a
//! [`DbError::Decode`] that says to cast it in SQL.

use std::sync::Arc;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgRow, PgTypeInfo, PgTypeKind, PgValueRef, Postgres};
use sqlx::types::BigDecimal;
use sqlx::{Decode, Encode, Type, TypeInfo as _};

use super::ParamType;
use super::driver::{self, encode_big_decimal, encode_value};
use super::error::DbError;
use super::value::{Row, Value};

/// A [`Value`] bound as a PostgreSQL parameter, with the declared type a NULL is sent as.
pub(super) struct Arg<'a>(pub &'a Value, pub ParamType);

/// "Unspecified": the server infers the parameter's type.
const UNSPECIFIED: PgTypeInfo = PgTypeInfo::with_oid(Oid(0));

impl Type<Postgres> for Arg<'_> {
    fn type_info() -> PgTypeInfo {
        // Replaced per value by `produces`.
        UNSPECIFIED
    }
}

impl Encode<'_, Postgres> for Arg<'_> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        encode_value::<Postgres>(self.0, buf, encode_big_decimal::<Postgres>)
    }

    fn produces(&self) -> Option<PgTypeInfo> {
        Some(match self.0 {
            Value::Null => null_type(self.1),
            Value::Bool(_) => <bool as Type<Postgres>>::type_info(),
            Value::Int(_) => <i64 as Type<Postgres>>::type_info(),
            Value::Double(_) => <f64 as Type<Postgres>>::type_info(),
            Value::Decimal(_) => <BigDecimal as Type<Postgres>>::type_info(),
            Value::Text(_) => <&str as Type<Postgres>>::type_info(),
            Value::Bytes(_) => <&[u8] as Type<Postgres>>::type_info(),
            Value::Date(_) => <time::Date as Type<Postgres>>::type_info(),
            Value::Time(_) => <time::Time as Type<Postgres>>::type_info(),
            Value::Timestamp(_) => <time::PrimitiveDateTime as Type<Postgres>>::type_info(),
            Value::TimestampTz(_) => <time::OffsetDateTime as Type<Postgres>>::type_info(),
        })
    }
}

/// The type a NULL declared as `t` is sent with.
fn null_type(t: ParamType) -> PgTypeInfo {
    match t {
        ParamType::Unknown => UNSPECIFIED,
        ParamType::Bool => <bool as Type<Postgres>>::type_info(),
        ParamType::Int => <i64 as Type<Postgres>>::type_info(),
        ParamType::Double => <f64 as Type<Postgres>>::type_info(),
        ParamType::Decimal => <BigDecimal as Type<Postgres>>::type_info(),
        ParamType::Text => <&str as Type<Postgres>>::type_info(),
        ParamType::Bytes => <&[u8] as Type<Postgres>>::type_info(),
        ParamType::Date => <time::Date as Type<Postgres>>::type_info(),
        ParamType::Time => <time::Time as Type<Postgres>>::type_info(),
        ParamType::Timestamp => <time::PrimitiveDateTime as Type<Postgres>>::type_info(),
        ParamType::TimestampTz => <time::OffsetDateTime as Type<Postgres>>::type_info(),
    }
}

/// A one-letter code per bound value's type: statements are cached by SQL text, so the text
/// carries the types it was prepared with (see `exec_postgres`).
pub(super) fn type_code(v: &Value, declared: ParamType) -> char {
    match v {
        Value::Null => match declared {
            ParamType::Unknown => 'n',
            ParamType::Bool => '0',
            ParamType::Int => '1',
            ParamType::Double => '2',
            ParamType::Decimal => '3',
            ParamType::Text => '4',
            ParamType::Bytes => '5',
            ParamType::Date => '6',
            ParamType::Time => '7',
            ParamType::Timestamp => '8',
            ParamType::TimestampTz => '9',
        },
        Value::Bool(_) => 'b',
        Value::Int(_) => 'i',
        Value::Double(_) => 'f',
        Value::Decimal(_) => 'd',
        Value::Text(_) => 's',
        Value::Bytes(_) => 'x',
        Value::Date(_) => 'D',
        Value::Time(_) => 'T',
        Value::Timestamp(_) => 'S',
        Value::TimestampTz(_) => 'Z',
    }
}

pub(super) use super::driver::column_names;

pub(super) fn decode_row(row: &PgRow, columns: &Arc<[String]>) -> Result<Row, DbError> {
    driver::decode_row(row, columns, decode)
}

fn decode(raw: PgValueRef<'_>, ty: &PgTypeInfo) -> Result<Value, BoxDynError> {
    match ty.kind() {
        PgTypeKind::Domain(base) => return decode(raw, base),
        PgTypeKind::Enum(_) => return Ok(Value::Text(raw.as_str()?.to_owned())),
        _ => {}
    }
    Ok(match ty.name() {
        "BOOL" => Value::Bool(<bool as Decode<Postgres>>::decode(raw)?),
        "INT2" => Value::Int(i64::from(<i16 as Decode<Postgres>>::decode(raw)?)),
        "INT4" => Value::Int(i64::from(<i32 as Decode<Postgres>>::decode(raw)?)),
        "INT8" => Value::Int(<i64 as Decode<Postgres>>::decode(raw)?),
        "OID" => Value::Int(i64::from(<Oid as Decode<Postgres>>::decode(raw)?.0)),
        // Through its shortest text, so that a REAL 0.1 reads as 0.1 rather than 0.100000001…
        "FLOAT4" => Value::Double(
            <f32 as Decode<Postgres>>::decode(raw)?
                .to_string()
                .parse()?,
        ),
        "FLOAT8" => Value::Double(<f64 as Decode<Postgres>>::decode(raw)?),
        "NUMERIC" => {
            Value::Decimal(<BigDecimal as Decode<Postgres>>::decode(raw)?.to_plain_string())
        }
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "UNKNOWN" | "XML" | "JSON" | "citext" => {
            Value::Text(raw.as_str()?.to_owned())
        }
        "CHAR" => Value::Text(char::from(<i8 as Decode<Postgres>>::decode(raw)? as u8).to_string()),
        "JSONB" => {
            // Binary jsonb is a version byte (1) and the JSON text.
            let bytes = raw.as_bytes()?;
            match bytes.split_first() {
                Some((1, text)) => Value::Text(std::str::from_utf8(text)?.to_owned()),
                _ => return Err("unknown jsonb version".into()),
            }
        }
        "UUID" => Value::Text(uuid_text(raw.as_bytes()?)?),
        "BYTEA" => Value::Bytes(<Vec<u8> as Decode<Postgres>>::decode(raw)?),
        "DATE" => Value::Date(<time::Date as Decode<Postgres>>::decode(raw)?),
        "TIME" => Value::Time(<time::Time as Decode<Postgres>>::decode(raw)?),
        "TIMESTAMP" => {
            Value::Timestamp(<time::PrimitiveDateTime as Decode<Postgres>>::decode(raw)?)
        }
        "TIMESTAMPTZ" => {
            Value::TimestampTz(<time::OffsetDateTime as Decode<Postgres>>::decode(raw)?)
        }
        other => {
            return Err(format!(
                "the type {other} is not read by Conflux; cast the column in the query (for example `col::text`)"
            )
            .into());
        }
    })
}

fn uuid_text(b: &[u8]) -> Result<String, BoxDynError> {
    if b.len() != 16 {
        return Err(format!("a UUID has 16 bytes, not {}", b.len()).into());
    }
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}
