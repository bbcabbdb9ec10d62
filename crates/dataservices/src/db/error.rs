//! What can go wrong between a data source's configuration and a statement's last row, as
//! typed errors with enough detail for MI's data service faults (`DS Code`, the database's own
//! message, SQLSTATE) and for deploy-time messages.
//!
//! sqlx's errors are sorted here by phase: while connecting they become [`DbError::Connect`],
//! [`DbError::Auth`] or [`DbError::Timeout`]; while a statement runs on an open connection an
//! I/O failure is [`DbError::ConnectionLost`] and a server error is [`DbError::Sql`].

use std::time::Duration;

/// MI's fault code for a database error at request time (`DBConstants.FaultCodes.DATABASE_ERROR`;
/// `SQLQuery` uses it for connection failures too: "Error in opening DBMS connection.").
pub const DATABASE_ERROR: &str = "DATABASE_ERROR";
/// MI's fault code when a data source cannot be reached at deploy time (`RDBMSConfig`); MI's
/// `DBDeployer` then schedules a redeploy of the service.
pub const CONNECTION_UNAVAILABLE_ERROR: &str = "CONNECTION_UNAVAILABLE_ERROR";
/// MI's fault code for a parameter value that does not convert (`NumberFormatException` in
/// `SQLQuery.processPreNormalQuery`).
pub const INCOMPATIBLE_PARAMETERS_ERROR: &str = "INCOMPATIBLE_PARAMETERS_ERROR";

/// Why a wait ended in [`DbError::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    /// No pooled connection became free within `maxWait` (the pool is at `maxActive`).
    Acquire,
    /// Opening a new connection took longer than the connect timeout.
    Connect,
    /// A statement ran longer than the data source's `queryTimeout`.
    Query,
}

/// A data source or statement failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DbError {
    /// The URL names a database Conflux does not speak (Oracle, SQL Server, H2, Derby, DB2, …).
    #[error("unsupported JDBC URL '{url}': {reason}; supported URLs start with {supported}")]
    UnsupportedUrl {
        /// The URL with any password masked.
        url: String,
        reason: String,
        supported: &'static str,
    },
    /// The URL is not a JDBC URL, or a part of it does not parse.
    #[error("invalid JDBC URL '{url}': {reason}")]
    InvalidUrl { url: String, reason: String },
    /// `driverClassName` names a driver that would not accept the URL (MI loads the class and
    /// the driver refuses the URL, so the data source fails there too).
    #[error("driver class '{driver}' does not accept the URL '{url}'; expected {expected}")]
    DriverMismatch {
        driver: String,
        url: String,
        expected: String,
    },
    /// A data source property with a value of the wrong type, or a property MI does not know.
    #[error("data source property '{name}' = '{value}': {reason}")]
    InvalidProperty {
        name: String,
        value: String,
        reason: String,
    },
    /// The server could not be reached or refused the connection (not an authentication failure).
    #[error("cannot connect to {target}: {message}")]
    Connect { target: String, message: String },
    /// The server rejected the user name or password, or the user may not use the database.
    #[error("authentication to {target} failed: {message}")]
    Auth { target: String, message: String },
    #[error("{}", timeout_message(*.kind, .target, *.waited))]
    Timeout {
        kind: TimeoutKind,
        target: String,
        waited: Duration,
    },
    /// An open connection failed while a statement was running (the server went away).
    #[error("connection to {target} was lost: {message}")]
    ConnectionLost { target: String, message: String },
    /// The database rejected a statement.
    #[error("{message}")]
    Sql {
        /// The five-character SQLSTATE, when the database reports one.
        sqlstate: Option<String>,
        /// The database's own error number (MySQL/MariaDB, SQLite), when there is one.
        vendor_code: Option<i64>,
        message: String,
    },
    /// The SQL has a different number of `?` placeholders than values were given.
    #[error(
        "the statement has {expected} parameter placeholder(s) but {given} value(s) were given"
    )]
    ParameterCount { expected: usize, given: usize },
    /// More values than the databases' wire protocols can bind in one statement.
    #[error("{given} parameters exceed the limit of {max} per statement")]
    TooManyParameters { given: usize, max: usize },
    /// A value cannot be bound (for example a `Decimal` whose text is not a number).
    #[error("parameter {index}: {message}")]
    Bind { index: usize, message: String },
    /// A column's type is one this layer cannot read, or its bytes do not decode.
    #[error("column '{column}' of type {type_name}: {message}")]
    Decode {
        column: String,
        type_name: String,
        message: String,
    },
    /// Statement `index` (0-based) of a batch failed; the whole batch was rolled back.
    #[error("statement {index} of the batch failed and the transaction was rolled back: {source}")]
    Batch {
        index: usize,
        #[source]
        source: Box<DbError>,
    },
    /// The data source was closed (undeployed).
    #[error("the data source is closed")]
    Closed,
    /// A pool was asked for outside a Tokio runtime (its upkeep tasks need one).
    #[error("the data source for '{target}' can only be opened inside a Tokio runtime")]
    NoRuntime { target: String },
}

fn timeout_message(kind: TimeoutKind, target: &str, waited: Duration) -> String {
    let ms = waited.as_millis();
    match kind {
        TimeoutKind::Acquire => {
            format!(
                "no connection to {target} became free within {ms} ms (maxWait; the pool is at maxActive)"
            )
        }
        TimeoutKind::Connect => format!("connecting to {target} timed out after {ms} ms"),
        TimeoutKind::Query => {
            format!("the statement on {target} ran longer than {ms} ms (queryTimeout)")
        }
    }
}

impl DbError {
    /// MI's `DS Code` for this error when a request fails.
    pub fn ds_code(&self) -> &'static str {
        match self {
            DbError::Bind { .. } => INCOMPATIBLE_PARAMETERS_ERROR,
            DbError::Batch { source, .. } => source.ds_code(),
            _ => DATABASE_ERROR,
        }
    }

    /// Whether the database itself is unreachable (rather than the statement being wrong): MI
    /// answers `CONNECTION_UNAVAILABLE_ERROR` at deploy time and retries the deployment.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Connect { .. } | DbError::ConnectionLost { .. } | DbError::Closed => true,
            DbError::Timeout { kind, .. } => *kind != TimeoutKind::Query,
            DbError::Batch { source, .. } => source.is_unavailable(),
            _ => false,
        }
    }

    /// The fault code MI gives this error at deploy time.
    pub fn deploy_code(&self) -> &'static str {
        if self.is_unavailable() {
            CONNECTION_UNAVAILABLE_ERROR
        } else {
            DATABASE_ERROR
        }
    }
}

/// The SQLSTATE classes that mean "who you are is not accepted" (28: invalid authorization,
/// 3D: invalid catalog name, that is, no such database) and MySQL's access-denied numbers.
fn is_auth_failure(sqlstate: Option<&str>, vendor_code: Option<i64>) -> bool {
    matches!(vendor_code, Some(1044 | 1045 | 1698)) || sqlstate.is_some_and(|s| s.starts_with("28"))
}

/// Errors that end the connection rather than the statement: SQLSTATE class 08 (connection
/// exception) and PostgreSQL's 57P01-57P03 (administrator or crash shutdown, starting up);
/// MySQL's and MariaDB's "server shutdown in progress" (1053) and "connection killed" (1927,
/// 4031).
fn is_server_going_away(sqlstate: Option<&str>, vendor_code: Option<i64>) -> bool {
    matches!(vendor_code, Some(1053 | 1927 | 4031))
        || sqlstate.is_some_and(|s| s.starts_with("08") || matches!(s, "57P01" | "57P02" | "57P03"))
}

/// Sorts an error raised while opening a connection.
pub(crate) fn from_connect(err: sqlx::Error, target: &str, connect_timeout: Duration) -> DbError {
    match err {
        sqlx::Error::Database(db) => {
            let (sqlstate, vendor_code) = codes(db.as_ref());
            let message = db.message().to_owned();
            if is_auth_failure(sqlstate.as_deref(), vendor_code) {
                DbError::Auth {
                    target: target.to_owned(),
                    message,
                }
            } else {
                DbError::Connect {
                    target: target.to_owned(),
                    message,
                }
            }
        }
        sqlx::Error::PoolTimedOut => DbError::Timeout {
            kind: TimeoutKind::Connect,
            target: target.to_owned(),
            waited: connect_timeout,
        },
        sqlx::Error::PoolClosed => DbError::Closed,
        other => DbError::Connect {
            target: target.to_owned(),
            message: describe(&other),
        },
    }
}

/// Sorts an error raised by a statement on an open connection.
pub(crate) fn from_statement(err: sqlx::Error, target: &str) -> DbError {
    match err {
        sqlx::Error::Database(db) => {
            let (sqlstate, vendor_code) = codes(db.as_ref());
            let message = db.message().to_owned();
            if is_server_going_away(sqlstate.as_deref(), vendor_code) {
                return DbError::ConnectionLost {
                    target: target.to_owned(),
                    message,
                };
            }
            DbError::Sql {
                sqlstate,
                vendor_code,
                message,
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => DbError::ConnectionLost {
            target: target.to_owned(),
            message: describe(&err),
        },
        sqlx::Error::PoolClosed => DbError::Closed,
        sqlx::Error::ColumnDecode { index, source } => DbError::Decode {
            column: index,
            type_name: String::new(),
            message: source.to_string(),
        },
        sqlx::Error::Encode(e) => DbError::Bind {
            index: 0,
            message: e.to_string(),
        },
        other => DbError::Sql {
            sqlstate: None,
            vendor_code: None,
            message: describe(&other),
        },
    }
}

/// The SQLSTATE and vendor number of a database error. sqlx's `code()` is the SQLSTATE for
/// PostgreSQL and MySQL and the extended result code for SQLite.
fn codes(db: &dyn sqlx::error::DatabaseError) -> (Option<String>, Option<i64>) {
    if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        return (my.code().map(str::to_owned), Some(i64::from(my.number())));
    }
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        return (None, db.code().and_then(|c| c.parse().ok()));
    }
    (db.code().map(|c| c.into_owned()), None)
}

/// sqlx's message without its enum wrapper ("error communicating with database: …").
fn describe(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Io(e) => e.to_string(),
        sqlx::Error::Tls(e) => format!("TLS: {e}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_mi() {
        let sql = DbError::Sql {
            sqlstate: Some("42P01".into()),
            vendor_code: None,
            message: "relation \"x\" does not exist".into(),
        };
        assert_eq!(sql.ds_code(), DATABASE_ERROR);
        assert!(!sql.is_unavailable());
        let down = DbError::Connect {
            target: "localhost:1".into(),
            message: "Connection refused".into(),
        };
        assert_eq!(down.ds_code(), DATABASE_ERROR);
        assert_eq!(down.deploy_code(), CONNECTION_UNAVAILABLE_ERROR);
        let bind = DbError::Bind {
            index: 1,
            message: "not a number".into(),
        };
        assert_eq!(bind.ds_code(), INCOMPATIBLE_PARAMETERS_ERROR);
        let batch = DbError::Batch {
            index: 2,
            source: Box::new(down),
        };
        assert!(batch.is_unavailable());
        assert!(batch.to_string().contains("statement 2 of the batch"));
    }

    #[test]
    fn io_errors_while_connecting_are_connect_errors() {
        let refused = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        let e = from_connect(refused, "127.0.0.1:9", Duration::from_secs(1));
        assert!(
            matches!(e, DbError::Connect { ref target, .. } if target == "127.0.0.1:9"),
            "{e:?}"
        );
        let lost = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
        assert!(matches!(
            from_statement(lost, "t"),
            DbError::ConnectionLost { .. }
        ));
    }
}
