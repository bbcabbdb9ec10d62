//! Typed values that go into a statement as bound parameters and come back out of a result set,
//! and the rows that carry them.
//!
//! One enum serves both directions, so a value read from one query can be bound into the next
//! (nested queries in MI pass result columns as parameters). The variants follow the JDBC
//! getters MI's data services use (`getBoolean`, `getLong`, `getDouble`, `getBigDecimal`,
//! `getString`, `getBytes`, `getDate`, `getTime`, `getTimestamp`); how a value is written into
//! XML or JSON is the output mapping's business, not this module's.

use std::fmt;
use std::sync::Arc;

/// One SQL value, bound as a parameter or read from a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL. Bound without a type, so that PostgreSQL infers it from the context (as
    /// `setNull` with the column's type would); MySQL and SQLite need none.
    Null,
    Bool(bool),
    /// SMALLINT, INTEGER and BIGINT (bound as BIGINT; PostgreSQL converts on assignment and
    /// compares across integer widths).
    Int(i64),
    /// REAL, FLOAT and DOUBLE.
    Double(f64),
    /// NUMERIC and DECIMAL as exact decimal text (`"12.50"`, `"-3"`, `"1.5E+3"` on input). Kept as
    /// text so that no precision is lost and callers need no big-decimal type; validated when bound.
    /// Also what a MySQL `BIGINT UNSIGNED` above `i64::MAX` reads as.
    Decimal(String),
    /// CHAR, VARCHAR, TEXT and CLOB; also JSON, UUID, ENUM and SET columns, read as their text.
    Text(String),
    /// BINARY, VARBINARY, BLOB and BYTEA.
    Bytes(Vec<u8>),
    Date(time::Date),
    Time(time::Time),
    /// TIMESTAMP / DATETIME without a zone, as the database stores it.
    Timestamp(time::PrimitiveDateTime),
    /// PostgreSQL's TIMESTAMP WITH TIME ZONE, an instant (read back in UTC).
    TimestampTz(time::OffsetDateTime),
}

impl Value {
    /// Whether this is SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The variant's name, for messages ("expected Int, found Text").
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "Null",
            Value::Bool(_) => "Bool",
            Value::Int(_) => "Int",
            Value::Double(_) => "Double",
            Value::Decimal(_) => "Decimal",
            Value::Text(_) => "Text",
            Value::Bytes(_) => "Bytes",
            Value::Date(_) => "Date",
            Value::Time(_) => "Time",
            Value::Timestamp(_) => "Timestamp",
            Value::TimestampTz(_) => "TimestampTz",
        }
    }

    /// The text of a textual value (`Text` or `Decimal`), if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) | Value::Decimal(s) => Some(s),
            _ => None,
        }
    }
}

/// Plain SQL-style text: `true`, `42`, `12.50`, `2024-01-31`, `2024-01-31 10:00:00.5`, NULL as
/// `NULL`, bytes as lowercase hex. Output mappings format values their own way (MI's XML
/// schema types); this is for logs and messages.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Double(d) => write!(f, "{d}"),
            Value::Decimal(s) | Value::Text(s) => f.write_str(s),
            Value::Bytes(b) => b.iter().try_for_each(|byte| write!(f, "{byte:02x}")),
            Value::Date(d) => write!(f, "{d}"),
            Value::Time(t) => write!(f, "{t}"),
            Value::Timestamp(ts) => write!(f, "{} {}", ts.date(), ts.time()),
            Value::TimestampTz(ts) => write!(f, "{} {} {}", ts.date(), ts.time(), ts.offset()),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<f64> for Value {
    fn from(d: f64) -> Self {
        Value::Double(d)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// The rows of one result set, with the column names the driver reported (in select order).
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    pub columns: Arc<[String]>,
    pub rows: Vec<Row>,
}

impl Rows {
    /// A result with these columns and no rows.
    pub fn empty(columns: Arc<[String]>) -> Self {
        Rows {
            columns,
            rows: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Row> {
        self.rows.iter()
    }
}

impl<'a> IntoIterator for &'a Rows {
    type Item = &'a Row;
    type IntoIter = std::slice::Iter<'a, Row>;

    fn into_iter(self) -> Self::IntoIter {
        self.rows.iter()
    }
}

/// One row: a value per column, in the result set's column order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    /// A row over `columns`; `values` has one entry per column.
    pub fn new(columns: Arc<[String]>, values: Vec<Value>) -> Self {
        debug_assert_eq!(columns.len(), values.len());
        Row { columns, values }
    }

    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The value of the first column named `name`, ignoring ASCII case as JDBC's
    /// `ResultSet.findColumn` does (PostgreSQL folds unquoted names to lower case, other
    /// databases keep them as written, and `.dbs` files name columns either way).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
            .map(|i| &self.values[i])
    }

    /// The value at a 0-based column index.
    pub fn get_index(&self, index: usize) -> Option<&Value> {
        self.values.get(index)
    }

    /// `(column name, value)` pairs in column order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.columns
            .iter()
            .map(String::as_str)
            .zip(self.values.iter())
    }

    pub fn into_values(self) -> Vec<Value> {
        self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_lookup_ignores_case_and_keeps_order() {
        let cols: Arc<[String]> = vec!["ID".to_owned(), "name".to_owned()].into();
        let row = Row::new(cols, vec![Value::Int(7), Value::from("x")]);
        assert_eq!(row.get("id"), Some(&Value::Int(7)));
        assert_eq!(row.get("NAME"), Some(&Value::Text("x".into())));
        assert_eq!(row.get("missing"), None);
        let pairs: Vec<_> = row.iter().map(|(c, v)| format!("{c}={v}")).collect();
        assert_eq!(pairs, ["ID=7", "name=x"]);
    }

    #[test]
    fn display_is_plain_sql_text() {
        assert_eq!(Value::Bytes(vec![0, 0xab]).to_string(), "00ab");
        assert_eq!(Value::Null.to_string(), "NULL");
        let ts = time::PrimitiveDateTime::new(
            time::Date::from_calendar_date(2024, time::Month::January, 31).unwrap(),
            time::Time::from_hms(10, 0, 0).unwrap(),
        );
        assert_eq!(Value::Timestamp(ts).to_string(), "2024-01-31 10:00:00.0");
        assert_eq!(Value::from(None::<i64>), Value::Null);
    }
}
