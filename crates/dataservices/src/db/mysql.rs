//! MySQL and MariaDB: binding [`Value`]s and reading columns back.
//!
//! The binary protocol sends each parameter's type with every execution, so one enum can bind
//! any value. Columns are read by the type the server reports: `TINYINT(1)` as a boolean, as
//! Connector/J does; `BIGINT UNSIGNED` beyond `i64` as a decimal; `BIT(1)` as a boolean and
//! wider `BIT(n)` as an integer; a zero date (`0000-00-00`) as NULL, Connector/J's
//! `zeroDateTimeBehavior=CONVERT_TO_NULL`; a `TIME` outside one day as its text.

use std::sync::Arc;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::mysql::types::MySqlTime;
use sqlx::mysql::{MySql, MySqlRow, MySqlTypeInfo, MySqlValueRef};
use sqlx::types::BigDecimal;
use sqlx::{Decode, Encode, Type, TypeInfo as _};

use super::driver::{self, encode_big_decimal, encode_value};
use super::error::DbError;
use super::value::{Row, Value};

/// A [`Value`] bound as a MySQL parameter.
pub(super) struct Arg<'a>(pub &'a Value);

impl Type<MySql> for Arg<'_> {
    fn type_info() -> MySqlTypeInfo {
        // Replaced per value by `produces`.
        <&str as Type<MySql>>::type_info()
    }
}

impl Encode<'_, MySql> for Arg<'_> {
    fn encode_by_ref(&self, buf: &mut Vec<u8>) -> Result<IsNull, BoxDynError> {
        encode_value::<MySql>(self.0, buf, encode_big_decimal::<MySql>)
    }

    fn produces(&self) -> Option<MySqlTypeInfo> {
        Some(match self.0 {
            Value::Null | Value::Text(_) => <&str as Type<MySql>>::type_info(),
            Value::Bool(_) => <bool as Type<MySql>>::type_info(),
            Value::Int(_) => <i64 as Type<MySql>>::type_info(),
            Value::Double(_) => <f64 as Type<MySql>>::type_info(),
            Value::Decimal(_) => <BigDecimal as Type<MySql>>::type_info(),
            Value::Bytes(_) => <&[u8] as Type<MySql>>::type_info(),
            Value::Date(_) => <time::Date as Type<MySql>>::type_info(),
            Value::Time(_) => <time::Time as Type<MySql>>::type_info(),
            Value::Timestamp(_) => <time::PrimitiveDateTime as Type<MySql>>::type_info(),
            Value::TimestampTz(_) => <time::OffsetDateTime as Type<MySql>>::type_info(),
        })
    }
}

pub(super) use super::driver::column_names;

pub(super) fn decode_row(row: &MySqlRow, columns: &Arc<[String]>) -> Result<Row, DbError> {
    driver::decode_row(row, columns, |raw, ty| decode(raw, ty.name()))
}

fn decode(raw: MySqlValueRef<'_>, type_name: &str) -> Result<Value, BoxDynError> {
    Ok(match type_name {
        "BOOLEAN" => Value::Bool(<bool as Decode<MySql>>::decode(raw)?),
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => {
            Value::Int(<i64 as Decode<MySql>>::decode(raw)?)
        }
        // Read unsigned: the signed reader would sign-extend 255 to -1.
        "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED"
        | "BIGINT UNSIGNED" => {
            let n = <u64 as Decode<MySql>>::decode(raw)?;
            i64::try_from(n).map_or_else(|_| Value::Decimal(n.to_string()), Value::Int)
        }
        "BIT" => {
            let bytes = <&[u8] as Decode<MySql>>::decode(raw)?;
            let n = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            if bytes.len() == 1 && n <= 1 {
                Value::Bool(n == 1)
            } else {
                Value::Int(i64::try_from(n)?)
            }
        }
        // Through its shortest text, so that a FLOAT 0.1 reads as 0.1.
        "FLOAT" => Value::Double(<f32 as Decode<MySql>>::decode(raw)?.to_string().parse()?),
        "DOUBLE" => Value::Double(<f64 as Decode<MySql>>::decode(raw)?),
        "DECIMAL" => Value::Decimal(<BigDecimal as Decode<MySql>>::decode(raw)?.to_plain_string()),
        "CHAR" | "VARCHAR" | "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "SET"
        | "JSON" => Value::Text(<String as Decode<MySql>>::decode(raw)?),
        "BINARY" | "VARBINARY" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "GEOMETRY" => {
            Value::Bytes(<Vec<u8> as Decode<MySql>>::decode(raw)?)
        }
        "DATE" => match <time::Date as Decode<MySql>>::decode(raw) {
            Ok(d) => Value::Date(d),
            Err(_) => Value::Null,
        },
        "DATETIME" | "TIMESTAMP" => match <time::PrimitiveDateTime as Decode<MySql>>::decode(raw) {
            Ok(ts) => Value::Timestamp(ts),
            Err(_) => Value::Null,
        },
        "TIME" => {
            let t = <MySqlTime as Decode<MySql>>::decode(raw)?;
            match time::Time::try_from(t) {
                Ok(t) => Value::Time(t),
                Err(_) => Value::Text(t.to_string()),
            }
        }
        other => {
            return Err(format!(
                "the type {other} is not read by Conflux; cast the column in the query"
            )
            .into());
        }
    })
}
