//! `<dblookup>` and `<dbreport>` at run time (SYN `mediators/db/AbstractDBMediator.java`,
//! `DBLookupMediator.java`, `DBReportMediator.java`): each mediator owns one connection pool,
//! created when it is deployed (lazily: the first message connects) and shared by all messages.
//! Per message, each `<statement>` runs in order with its parameters evaluated against the
//! message and bound by their JDBC type (never spliced into the SQL).
//!
//! - dblookup: the first row of each result sets the `<result>` properties (default scope), as
//!   the JDBC object's `toString()`; a NULL column leaves its property untouched, no row sets
//!   nothing.
//! - dbreport: each statement is an update; `DBREPORT_MODIFIED_RAW_COUNT` (MI's spelling) gets
//!   its update count. With `useTransaction="true"` the statements of one message run in one
//!   transaction, committed after the last one and rolled back when one fails (MI enlists the
//!   connection in a JTA transaction that a `<transaction>` mediator ends; Conflux has none, so
//!   the mediator's own statements are the transaction).
//! - A failure is a fault with MI's message, e.g. `SQL Exception occurred while executing
//!   statement : <sql> against DataSource : <url>`; the database's own error is logged.

use std::sync::{Arc, OnceLock};

use conflux_dataservices::service::DataSources;

use conflux_artifacts::mediators as am;
use conflux_artifacts::{Span, ValueOrExpression};
use conflux_dataservices::db::{
    DataSource, DataSourceConfig, DbError, Isolation, Outcome, ParamType, PoolSettings, Returns,
    Statement, Value,
};

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope};
use crate::runtime::value::ValueSource;

/// The property dbreport sets to the update count of its last statement (SYN
/// `DBReportMediator.MODIFIED_ROW_COUNT_PROP_NAME`, spelled as MI spells it).
pub const DBREPORT_MODIFIED_ROW_COUNT: &str = "DBREPORT_MODIFIED_RAW_COUNT";

/// A compiled `<dblookup>` / `<dbreport>`.
#[derive(Debug)]
pub struct DbMediator {
    pub kind: am::DbKind,
    pub pool: DbPool,
    pub statements: Vec<DbStatement>,
}

/// Where the mediator's connections come from: its own pool, opened at deploy when an async
/// runtime is there (the server), else on the first message (`conflux check` compiles without
/// one); or a data source of the server named by `<dsName>`, looked up per message.
pub enum DbPool {
    Own {
        config: Box<DataSourceConfig>,
        pool: OnceLock<DataSource>,
    },
    Named(String),
}

impl std::fmt::Debug for DbPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbPool")
            .field("name", &self.name())
            .finish()
    }
}

impl DbPool {
    /// The URL as MI's `getDSName()` names the data source in messages (credentials redacted),
    /// or the data source's name.
    pub fn name(&self) -> String {
        match self {
            DbPool::Own { config, .. } => conflux_dataservices::db::url::redact(&config.url),
            DbPool::Named(name) => name.clone(),
        }
    }

    /// The pool to use; a named data source is found by its name or MI's JNDI name `jdbc/<id>`.
    fn get<'a>(&'a self, named: &'a DataSources) -> Result<&'a DataSource, DbError> {
        match self {
            DbPool::Own { config, pool } => {
                if let Some(pool) = pool.get() {
                    return Ok(pool);
                }
                let opened = DataSource::lazy((**config).clone())?;
                Ok(pool.get_or_init(|| opened))
            }
            DbPool::Named(name) => named
                .get(name)
                .or_else(|| name.strip_prefix("jdbc/").and_then(|n| named.get(n)))
                .map(|source| &source.pool)
                .ok_or_else(|| DbError::Connect {
                    target: format!("data source {name}"),
                    message: "no data source of that name is configured ([[datasource]] id, jdbc/<id>, or a data source artifact)".into(),
                }),
        }
    }
}

#[derive(Debug)]
pub struct DbStatement {
    pub sql: String,
    pub parameters: Vec<(ValueSource, am::JdbcType)>,
    pub results: Vec<(String, Column)>,
}

/// A `<result column>`: a 1-based number or a name (MI tries `Integer.parseInt` first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    Index(usize),
    Name(String),
}

/// Compiles a `<dblookup>`/`<dbreport>`: the pool settings and URL are checked here (a bad URL,
/// driver class or property does not deploy).
pub(crate) fn compile(m: &am::DbMediator) -> Result<DbMediator, (Span, String)> {
    let pool = match &m.pool {
        am::DbConnection::Pool(p) => compile_pool(p).map_err(|e| (p.span.clone(), e))?,
        am::DbConnection::DataSource { name, .. } => DbPool::Named(name.clone()),
    };
    let mut statements = Vec::with_capacity(m.statements.len());
    for s in &m.statements {
        let mut parameters = Vec::with_capacity(s.parameters.len());
        for p in &s.parameters {
            let source = match &p.value {
                ValueOrExpression::Value(v) => ValueSource::Literal(v.clone()),
                ValueOrExpression::Expression(e) => {
                    ValueSource::compile(e).map_err(|err| (e.span.clone(), err))?
                }
            };
            parameters.push((source, p.jdbc_type));
        }
        let results = s
            .results
            .iter()
            .map(|(name, column)| {
                let column = match column.parse::<i64>() {
                    Ok(n) => usize::try_from(n).map(Column::Index).map_err(|_| {
                        (
                            s.span.clone(),
                            format!("<result column=\"{column}\">: column numbers start at 1"),
                        )
                    })?,
                    Err(_) => Column::Name(column.clone()),
                };
                Ok((name.clone(), column))
            })
            .collect::<Result<Vec<_>, (Span, String)>>()?;
        statements.push(DbStatement {
            sql: s.sql.clone(),
            parameters,
            results,
        });
    }
    Ok(DbMediator {
        kind: m.kind,
        pool,
        statements,
    })
}

/// The pool of `<connection><pool>`: MI's BasicDataSource properties mapped onto the data
/// services pool settings (SYN `AbstractDBMediatorFactory.readPoolProperty`).
fn compile_pool(p: &am::DbPool) -> Result<DbPool, String> {
    let mut config = DataSourceConfig::new(p.url.clone());
    config.driver_class = Some(p.driver.clone());
    config.username = p.user.clone();
    config.password = p.password.clone();
    config.pool = pool_settings(&p.properties)?;
    let url = conflux_dataservices::db::url::parse(&config.url, None).map_err(|e| e.to_string())?;
    conflux_dataservices::db::url::check_driver_class(&p.driver, &url, &config.url)
        .map_err(|e| e.to_string())?;
    let pool = if tokio::runtime::Handle::try_current().is_ok() {
        OnceLock::from(DataSource::lazy(config.clone()).map_err(|e| e.to_string())?)
    } else {
        OnceLock::new()
    };
    Ok(DbPool::Own {
        config: Box::new(config),
        pool,
    })
}

/// `<property name value>` of a `<pool>`. MI reads these names (lower case) and ignores any
/// other; values it cannot parse are errors here (MI's `Integer.parseInt` throws at deploy).
fn pool_settings(props: &[(String, String)]) -> Result<PoolSettings, String> {
    let mut s = PoolSettings::default();
    let int = |name: &str, value: &str| {
        value
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("pool property '{name}' = '{value}': expected an integer"))
    };
    for (name, value) in props {
        match name.as_str() {
            "maxactive" => {
                s.max_active = u32::try_from(int(name, value)?)
                    .ok()
                    .filter(|n| *n >= 1)
                    .unwrap_or(s.max_active);
            }
            "minidle" => s.min_idle = u32::try_from(int(name, value)?).unwrap_or(0),
            "initialsize" => s.initial_size = u32::try_from(int(name, value)?).unwrap_or(0),
            "maxwait" => {
                // BasicDataSource: a negative maxWait waits indefinitely.
                let n = int(name, value)?;
                s.max_wait = u64::try_from(n)
                    .map(std::time::Duration::from_millis)
                    .unwrap_or(std::time::Duration::from_secs(24 * 3600));
            }
            "testonborrow" => s.test_on_borrow = value.trim() == "true",
            "validationquery" => s.validation_query = Some(value.clone()),
            "isolation" => {
                s.isolation = match value.trim() {
                    "Connection.TRANSACTION_NONE" => None,
                    "Connection.TRANSACTION_READ_COMMITTED" => Some(Isolation::ReadCommitted),
                    "Connection.TRANSACTION_READ_UNCOMMITTED" => Some(Isolation::ReadUncommitted),
                    "Connection.TRANSACTION_REPEATABLE_READ" => Some(Isolation::RepeatableRead),
                    "Connection.TRANSACTION_SERIALIZABLE" => Some(Isolation::Serializable),
                    other => {
                        return Err(format!(
                            "pool property 'isolation' = '{other}': expected Connection.TRANSACTION_NONE, _READ_COMMITTED, _READ_UNCOMMITTED, _REPEATABLE_READ or _SERIALIZABLE"
                        ));
                    }
                };
            }
            // Accepted by MI; statement pooling, idle testing and auto-commit are the pool's own.
            _ => {}
        }
    }
    Ok(s)
}

/// Why one statement failed, before it is worded as MI words it.
enum StatementError {
    /// The database refused (MI's SQLException).
    Sql(DbError),
    /// A parameter could not be evaluated or converted (MI's other exceptions).
    Other(String),
}

impl DbMediator {
    /// Runs the statements for one message.
    /// Runs the statements for one message; `named` are the server's data sources (`<dsName>`).
    pub async fn run<B: MessageBody>(
        &self,
        ctx: &mut MessageContext<B>,
        named: &DataSources,
    ) -> Result<(), String> {
        match self.kind {
            am::DbKind::Lookup => {
                for stmt in &self.statements {
                    self.lookup(stmt, ctx, named)
                        .await
                        .map_err(|e| self.fail(stmt, e))?;
                }
                Ok(())
            }
            am::DbKind::Report {
                use_transaction: false,
            } => {
                for stmt in &self.statements {
                    let result = match self.bind(stmt, ctx, Returns::Count) {
                        Ok(statement) => match self.pool.get(named) {
                            Ok(pool) => pool.execute(&statement).await.map_err(StatementError::Sql),
                            Err(e) => Err(StatementError::Sql(e)),
                        },
                        Err(e) => Err(e),
                    };
                    let count = updated(result).map_err(|e| self.fail(stmt, e))?;
                    ctx.set(
                        Scope::Default,
                        DBREPORT_MODIFIED_ROW_COUNT,
                        count.to_string(),
                    )?;
                }
                Ok(())
            }
            am::DbKind::Report {
                use_transaction: true,
            } => self.report_in_transaction(ctx, named).await,
        }
    }

    async fn report_in_transaction<B: MessageBody>(
        &self,
        ctx: &mut MessageContext<B>,
        named: &DataSources,
    ) -> Result<(), String> {
        let Some(first) = self.statements.first() else {
            return Ok(());
        };
        let pool = self
            .pool
            .get(named)
            .map_err(|e| self.fail(first, StatementError::Sql(e)))?;
        // "SQL Error while bind connection to tx".
        let mut tx = pool.begin().await.map_err(|e| {
            tracing::error!(target: "conflux::mediation", "dbreport: {e}");
            format!(
                "SQL Error while bind connection to tx : {} against DataSource : {}",
                first.sql,
                self.pool.name()
            )
        })?;
        let mut counts = Vec::with_capacity(self.statements.len());
        for stmt in &self.statements {
            let result = match self.bind(stmt, ctx, Returns::Count) {
                Ok(statement) => tx.execute(&statement).await.map_err(StatementError::Sql),
                Err(e) => Err(e),
            };
            match updated(result) {
                Ok(count) => counts.push(count),
                Err(e) => {
                    // Dropping the transaction rolls it back; say so explicitly.
                    if let Err(rb) = tx.rollback().await {
                        tracing::warn!(target: "conflux::mediation", "dbreport rollback failed: {rb}");
                    }
                    return Err(self.fail(stmt, e));
                }
            }
        }
        tx.commit()
            .await
            .map_err(|e| self.fail(first, StatementError::Sql(e)))?;
        if let Some(count) = counts.last() {
            ctx.set(
                Scope::Default,
                DBREPORT_MODIFIED_ROW_COUNT,
                count.to_string(),
            )?;
        }
        Ok(())
    }

    async fn lookup<B: MessageBody>(
        &self,
        stmt: &DbStatement,
        ctx: &mut MessageContext<B>,
        named: &DataSources,
    ) -> Result<(), StatementError> {
        let statement = self.bind(stmt, ctx, Returns::Rows)?;
        let pool = self.pool.get(named).map_err(StatementError::Sql)?;
        let rows = match pool
            .execute(&statement)
            .await
            .map_err(StatementError::Sql)?
        {
            Outcome::Rows(rows) => rows,
            Outcome::Updated { .. } => return Ok(()),
        };
        // DBLookupMediator: only the first row is read.
        let Some(row) = rows.rows.first() else {
            return Ok(());
        };
        for (property, column) in &stmt.results {
            let value = match column {
                Column::Index(n) => n.checked_sub(1).and_then(|i| row.get_index(i)),
                Column::Name(name) => row.get(name),
            };
            let Some(value) = value else {
                // The JDBC driver's SQLException for an unknown column.
                let column = match column {
                    Column::Index(n) => n.to_string(),
                    Column::Name(name) => name.clone(),
                };
                return Err(StatementError::Other(format!(
                    "the result has no column {column}"
                )));
            };
            if let Some(text) = java_string(value) {
                ctx.set(Scope::Default, property, text)
                    .map_err(StatementError::Other)?;
            }
        }
        Ok(())
    }

    /// The statement with its parameters evaluated and converted (AbstractDBMediator
    /// `getPreparedStatement`).
    fn bind<B: MessageBody>(
        &self,
        stmt: &DbStatement,
        ctx: &MessageContext<B>,
        returns: Returns,
    ) -> Result<Statement, StatementError> {
        let mut params = Vec::with_capacity(stmt.parameters.len());
        let mut param_types = Vec::with_capacity(stmt.parameters.len());
        for (index, (source, jdbc_type)) in stmt.parameters.iter().enumerate() {
            let text = source.resolve(ctx).map_err(StatementError::Other)?;
            let value = convert(*jdbc_type, &text)
                .map_err(|e| StatementError::Other(format!("parameter {}: {e}", index + 1)))?;
            params.push(value);
            param_types.push(param_type(*jdbc_type));
        }
        Ok(Statement {
            sql: stmt.sql.clone(),
            params,
            param_types,
            returns,
        })
    }

    /// MI's message for a failed statement; the cause is logged.
    fn fail(&self, stmt: &DbStatement, error: StatementError) -> String {
        let report = matches!(self.kind, am::DbKind::Report { .. });
        let (lead, cause) = match (&error, report) {
            (StatementError::Sql(e), false) => (
                "SQL Exception occurred while executing statement",
                e.to_string(),
            ),
            (StatementError::Other(e), false) => ("Error executing statement", e.clone()),
            (StatementError::Sql(e), true) => {
                ("SQL Error while executing insert statement", e.to_string())
            }
            (StatementError::Other(e), true) => {
                ("Error while executing insert statement", e.clone())
            }
        };
        let message = format!(
            "{lead} : {} against DataSource : {}",
            stmt.sql,
            self.pool.name()
        );
        tracing::error!(target: "conflux::mediation", "{message}: {cause}");
        message
    }

    pub fn needs_payload(&self) -> bool {
        self.statements
            .iter()
            .flat_map(|s| s.parameters.iter())
            .any(|(source, _)| source.needs_payload())
    }
}

fn updated(result: Result<Outcome, StatementError>) -> Result<u64, StatementError> {
    match result? {
        Outcome::Updated { rows_affected, .. } => Ok(rows_affected),
        Outcome::Rows(rows) => Ok(rows.rows.len() as u64),
    }
}

/// The declared type a NULL is bound with.
fn param_type(t: am::JdbcType) -> ParamType {
    use am::JdbcType as J;
    match t {
        J::Char | J::Varchar | J::LongVarchar => ParamType::Text,
        J::Numeric | J::Decimal => ParamType::Decimal,
        J::Bit => ParamType::Bool,
        J::TinyInt | J::SmallInt | J::Integer | J::BigInt => ParamType::Int,
        J::Real | J::Float | J::Double => ParamType::Double,
        J::Date => ParamType::Date,
        J::Time => ParamType::Time,
        J::Timestamp => ParamType::Timestamp,
    }
}

/// A parameter's text as AbstractDBMediator binds it for its JDBC type: an empty value is NULL;
/// numbers parse as Java's `Byte/Short/Integer/Long.parseX`, `Float/Double.parseX` and
/// `new BigDecimal`; BIT is `Boolean.parseBoolean`; dates, times and timestamps parse as
/// `java.sql.Date/Time/Timestamp.valueOf`.
pub fn convert(t: am::JdbcType, text: &str) -> Result<Value, String> {
    use am::JdbcType as J;
    if text.is_empty() {
        return Ok(Value::Null);
    }
    let bad = || format!("'{text}' is not a valid {}", t.name());
    Ok(match t {
        J::Char | J::Varchar | J::LongVarchar => Value::Text(text.to_string()),
        J::Numeric | J::Decimal => {
            if !is_big_decimal(text) {
                return Err(bad());
            }
            Value::Decimal(text.to_string())
        }
        J::Bit => Value::Bool(text.eq_ignore_ascii_case("true")),
        J::TinyInt => Value::Int(text.parse::<i8>().map_err(|_| bad())?.into()),
        J::SmallInt => Value::Int(text.parse::<i16>().map_err(|_| bad())?.into()),
        J::Integer => Value::Int(text.parse::<i32>().map_err(|_| bad())?.into()),
        J::BigInt => Value::Int(text.parse::<i64>().map_err(|_| bad())?),
        J::Real => Value::Double(text.trim().parse::<f32>().map_err(|_| bad())?.into()),
        J::Float | J::Double => Value::Double(text.trim().parse::<f64>().map_err(|_| bad())?),
        J::Date => Value::Date(parse_date(text).ok_or_else(bad)?),
        J::Time => Value::Time(parse_time(text).ok_or_else(bad)?),
        J::Timestamp => Value::Timestamp(parse_timestamp(text).ok_or_else(bad)?),
    })
}

/// `new BigDecimal(text)`: sign, digits with one optional point, optional exponent.
fn is_big_decimal(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(int) && digits(frac) && !(int.is_empty() && frac.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

fn number<T: std::str::FromStr>(s: &str, max_len: usize) -> Option<T> {
    (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `java.sql.Date.valueOf`: `yyyy-[m]m-[d]d`.
fn parse_date(text: &str) -> Option<time::Date> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    let month = time::Month::try_from(number::<u8>(m, 2)?).ok()?;
    time::Date::from_calendar_date(number(y, 4)?, month, number(d, 2)?).ok()
}

/// `java.sql.Time.valueOf`: `hh:mm:ss`.
fn parse_time(text: &str) -> Option<time::Time> {
    let mut parts = text.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    time::Time::from_hms(number(h, 2)?, number(m, 2)?, number(s, 2)?).ok()
}

/// `java.sql.Timestamp.valueOf`: `yyyy-[m]m-[d]d hh:mm:ss[.f...]` (up to 9 fraction digits).
fn parse_timestamp(text: &str) -> Option<time::PrimitiveDateTime> {
    let (date, rest) = text.split_once(' ')?;
    let (clock, fraction) = match rest.split_once('.') {
        Some((c, f)) => (c, Some(f)),
        None => (rest, None),
    };
    let t = parse_time(clock)?;
    let nanos = match fraction {
        None => 0,
        Some(f) => {
            let n: u32 = number(f, 9)?;
            n * 10u32.pow(9 - u32::try_from(f.len()).ok()?)
        }
    };
    let t = time::Time::from_hms_nano(t.hour(), t.minute(), t.second(), nanos).ok()?;
    Some(time::PrimitiveDateTime::new(parse_date(date)?, t))
}

/// A column value as the JDBC object's `toString()` gives it (what DBLookupMediator stores);
/// None for SQL NULL. Binary columns, whose `byte[]` has no readable `toString()`, are base64.
pub fn java_string(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Double(_) => conflux_dataservices::model::mi_text(value)?,
        Value::Decimal(d) | Value::Text(d) => d.clone(),
        Value::Bytes(bytes) => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(bytes)
        }
        Value::Date(d) => date_string(*d),
        Value::Time(t) => format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()),
        Value::Timestamp(ts) => timestamp_string(*ts),
        Value::TimestampTz(ts) => {
            let utc = ts.to_offset(time::UtcOffset::UTC);
            timestamp_string(time::PrimitiveDateTime::new(utc.date(), utc.time()))
        }
    })
}

fn date_string(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `java.sql.Timestamp.toString`: `yyyy-mm-dd hh:mm:ss.f`, trailing fraction zeros dropped
/// (at least one digit).
fn timestamp_string(ts: time::PrimitiveDateTime) -> String {
    let fraction = format!("{:09}", ts.nanosecond());
    let fraction = fraction.trim_end_matches('0');
    format!(
        "{} {:02}:{:02}:{:02}.{}",
        date_string(ts.date()),
        ts.hour(),
        ts.minute(),
        ts.second(),
        if fraction.is_empty() { "0" } else { fraction }
    )
}

/// Shared so that clones of a compiled sequence use one pool.
pub type SharedDb = Arc<DbMediator>;

#[cfg(test)]
mod tests;
