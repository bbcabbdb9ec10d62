//! The database layer of data services: a [`DataSource`] opened from MI's RDBMS properties (a
//! JDBC URL, credentials, Tomcat-pool settings) runs SQL with `?` placeholders and ordered,
//! typed bind values on PostgreSQL, MySQL/MariaDB or SQLite, returning rows of
//! (column name, [`Value`]) or an update count with generated keys, alone or as a batch in one
//! transaction.
//!
//! Each database has its own typed sqlx pool (not `AnyPool`), so values bind with their real
//! types and columns read back by the types the server reports. Values are always bound, never
//! spliced into SQL text.
//!
//! A data source whose database is down fails fast and recovers by itself. sqlx's pool retries
//! a refused connection until `maxWait` (30 s by default) runs out, so when a request has waited
//! [`PROBE_AFTER`] for a new connection, or the data source is known to be down, one direct
//! connection attempt is made and its error (refused, authentication, timeout) returned at once.
//! A connection lost mid-statement marks the data source down and replaces the pool, so that no
//! other request inherits a dead connection from before the outage; the next request finds the
//! database back, or fails fast again. Like MI's default pool (`testOnBorrow=false`), an idle
//! connection is not checked before use, so the first statement after a database restart can
//! fail once; `testOnBorrow=true` checks it first and reconnects.
//!
//! Layout: [`url`] (JDBC URLs, driver classes), [`config`] (properties and pool settings),
//! [`sql`] (placeholders), [`value`] (values and rows), [`error`], and one module per driver for
//! binding and decoding. Running a data service request on data sources (one transaction per
//! request) is `crate::service`'s.

pub mod config;
mod driver;
pub mod error;
mod mysql;
mod postgres;
pub mod sql;
mod sqlite;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod url;
pub mod value;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::TryStreamExt as _;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlSslMode};
use sqlx::pool::{PoolConnection, PoolOptions};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{AssertSqlSafe, ConnectOptions as _, Connection as _, MySql, Pool, Postgres, Sqlite};

pub use config::{DataSourceConfig, Isolation, PoolSettings};
pub use error::{DbError, TimeoutKind};
pub use url::{Driver, JdbcUrl};
pub use value::{Row, Rows, Value};

use error::{from_connect, from_statement};

/// The most values one statement may bind: PostgreSQL's and MySQL's wire protocols count
/// parameters in 16 bits.
pub const MAX_PARAMETERS: usize = 65_535;

/// How long a connection request may wait on sqlx's pool before a direct connection attempt
/// checks that the database is there at all (see [`DataSource`]'s fail-fast behaviour). Longer
/// than opening a connection to a healthy local database takes, so that normally no such
/// attempt is made.
pub const PROBE_AFTER: Duration = Duration::from_millis(100);

/// What a statement gives back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Returns {
    /// The rows of a query.
    Rows,
    /// The update count of an INSERT, UPDATE, DELETE or DDL statement.
    Count,
    /// The update count and the keys the database generated (MI's `returnGeneratedKeys`, with
    /// its `keyColumns`; empty for all columns on PostgreSQL, which returns them through
    /// `RETURNING`). MySQL and MariaDB report the AUTO_INCREMENT values (column `GENERATED_KEY`
    /// as Connector/J names it, `insert_id` for MariaDB's driver), SQLite the last row id
    /// (column `last_insert_rowid()`, as its JDBC driver names it).
    GeneratedKeys(Vec<String>),
}

/// The declared type of a parameter (MI's `sqlType`), which a NULL value needs on PostgreSQL
/// when the server cannot infer it from the SQL (`? IS NULL`); JDBC's `setNull` passes it too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ParamType {
    /// Let the server infer it (PostgreSQL's "unspecified").
    #[default]
    Unknown,
    Bool,
    Int,
    Double,
    Decimal,
    Text,
    Bytes,
    Date,
    Time,
    Timestamp,
    TimestampTz,
}

/// One SQL statement with `?` placeholders and a value for each, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Value>,
    /// The declared type of each parameter, by position; only NULLs use it (missing entries are
    /// [`ParamType::Unknown`]).
    pub param_types: Vec<ParamType>,
    pub returns: Returns,
}

impl Statement {
    /// A query returning rows.
    pub fn query(sql: impl Into<String>, params: Vec<Value>) -> Self {
        Statement {
            sql: sql.into(),
            params,
            param_types: Vec::new(),
            returns: Returns::Rows,
        }
    }

    /// A statement returning an update count.
    pub fn update(sql: impl Into<String>, params: Vec<Value>) -> Self {
        Statement {
            sql: sql.into(),
            params,
            param_types: Vec::new(),
            returns: Returns::Count,
        }
    }
}

/// What a statement gave back.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Rows(Rows),
    Updated {
        rows_affected: u64,
        /// Present when [`Returns::GeneratedKeys`] was asked for.
        generated_keys: Option<Rows>,
    },
}

/// Connection counts for the management API (`/management/data-sources`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open (busy or idle).
    pub open: u32,
    pub idle: u32,
    /// `maxActive`.
    pub max: u32,
}

/// A pooled connection to one database; cheap to clone (clones share the pool).
#[derive(Clone)]
pub struct DataSource {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataSource")
            .field("target", &self.inner.target)
            .finish_non_exhaustive()
    }
}

struct Inner {
    url: JdbcUrl,
    settings: PoolSettings,
    /// `url.target()`, for messages.
    target: String,
    options: Options,
    /// The current pool and its generation; a lost connection replaces the pool of its
    /// generation (once, however many requests notice).
    pool: RwLock<(u64, Pools)>,
    next_generation: AtomicU64,
    /// Set when a connection could not be opened or was lost; cleared by a successful probe.
    down: AtomicBool,
    closed: AtomicBool,
    /// URL properties this layer does not use, for a deploy warning.
    ignored_url_properties: Vec<String>,
}

#[derive(Clone)]
enum Options {
    Postgres(PgConnectOptions),
    MySql(MySqlConnectOptions),
    Sqlite(SqliteConnectOptions),
}

#[derive(Clone)]
enum Pools {
    Postgres(Pool<Postgres>),
    MySql(Pool<MySql>),
    Sqlite(Pool<Sqlite>),
}

impl Pools {
    fn size(&self) -> u32 {
        match self {
            Pools::Postgres(p) => p.size(),
            Pools::MySql(p) => p.size(),
            Pools::Sqlite(p) => p.size(),
        }
    }

    fn num_idle(&self) -> usize {
        match self {
            Pools::Postgres(p) => p.num_idle(),
            Pools::MySql(p) => p.num_idle(),
            Pools::Sqlite(p) => p.num_idle(),
        }
    }

    /// Closes the pool in the background: idle connections now, busy ones when returned.
    fn close_in_background(self) {
        tokio::spawn(async move {
            match self {
                Pools::Postgres(p) => p.close().await,
                Pools::MySql(p) => p.close().await,
                Pools::Sqlite(p) => p.close().await,
            }
        });
    }
}

/// A connection taken from the pool, with the pool generation it came from.
enum Conn {
    Postgres(PoolConnection<Postgres>),
    MySql(PoolConnection<MySql>),
    Sqlite(PoolConnection<Sqlite>),
}

impl Conn {
    fn close_on_drop(&mut self) {
        match self {
            Conn::Postgres(c) => c.close_on_drop(),
            Conn::MySql(c) => c.close_on_drop(),
            Conn::Sqlite(c) => c.close_on_drop(),
        }
    }
}

/// Names SQLite in-memory databases apart (one per data source).
static MEMORY_DB_SEQ: AtomicUsize = AtomicUsize::new(0);

impl DataSource {
    /// Opens a data source and checks that one connection can be made, as MI does when it
    /// deploys a data service (`SQLConfig.initSQLDataSource`); then opens `initialSize`
    /// connections. An unreachable database is an error with
    /// [`DbError::is_unavailable`] (MI then retries the deployment).
    pub async fn connect(config: DataSourceConfig) -> Result<DataSource, DbError> {
        let ds = DataSource::lazy(config)?;
        let first = ds.acquire().await?;
        let warm = ds
            .inner
            .settings
            .initial_size
            .min(ds.inner.settings.max_active) as usize;
        let mut held = Vec::with_capacity(warm.max(1));
        held.push(first);
        for _ in 1..warm {
            match ds.acquire().await {
                Ok(c) => held.push(c),
                Err(e) => {
                    tracing::warn!(target = %ds.inner.target, error = %e, "initialSize: could not open every initial connection");
                    break;
                }
            }
        }
        drop(held);
        Ok(ds)
    }

    /// A data source that connects on first use: only the URL and the driver class are checked.
    /// The pool's upkeep runs on the current Tokio runtime, so outside one this is
    /// [`DbError::NoRuntime`] (not a panic); [`DataSourceConfig::from_properties`] checks a
    /// configuration without a runtime.
    pub fn lazy(config: DataSourceConfig) -> Result<DataSource, DbError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(DbError::NoRuntime {
                target: url::redact(&config.url),
            });
        }
        let url = url::parse(&config.url, config.home.as_deref())?;
        if let Some(class) = &config.driver_class {
            url::check_driver_class(class, &url, &config.url)?;
        }
        let (options, ignored_url_properties) = connect_options(&url, &config)?;
        let settings = config.pool.clone();
        let pool = build_pool(&options, &settings);
        Ok(DataSource {
            inner: Arc::new(Inner {
                target: url.target(),
                url,
                settings,
                options,
                pool: RwLock::new((0, pool)),
                next_generation: AtomicU64::new(1),
                down: AtomicBool::new(false),
                closed: AtomicBool::new(false),
                ignored_url_properties,
            }),
        })
    }

    /// The database behind this data source.
    pub fn driver(&self) -> Driver {
        self.inner.url.driver
    }

    /// `PostgreSQL at host:port/db`, `SQLite file …`: for messages and the management API.
    pub fn target(&self) -> &str {
        &self.inner.target
    }

    pub fn settings(&self) -> &PoolSettings {
        &self.inner.settings
    }

    /// URL properties that have no effect here (for a deploy warning).
    pub fn ignored_url_properties(&self) -> &[String] {
        &self.inner.ignored_url_properties
    }

    pub fn stats(&self) -> PoolStats {
        let pools = self.current_pool().1;
        PoolStats {
            open: pools.size(),
            idle: u32::try_from(pools.num_idle()).unwrap_or(u32::MAX),
            max: self.inner.settings.max_active,
        }
    }

    /// Closes the pool (an undeployed data service); later statements fail with
    /// [`DbError::Closed`].
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        match self.current_pool().1 {
            Pools::Postgres(p) => p.close().await,
            Pools::MySql(p) => p.close().await,
            Pools::Sqlite(p) => p.close().await,
        }
    }

    /// Runs a query and returns its rows.
    pub async fn query(&self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        match self.run(&StmtRef::new(sql, params, &Returns::Rows)).await? {
            Outcome::Rows(rows) => Ok(rows),
            Outcome::Updated { .. } => Ok(Rows::empty(Arc::from(Vec::new()))),
        }
    }

    /// Runs an INSERT, UPDATE, DELETE or DDL statement and returns the update count.
    pub async fn update(&self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        match self
            .run(&StmtRef::new(sql, params, &Returns::Count))
            .await?
        {
            Outcome::Updated { rows_affected, .. } => Ok(rows_affected),
            Outcome::Rows(rows) => Ok(rows.len() as u64),
        }
    }

    /// Runs one statement on a pooled connection, outside any transaction (auto-commit).
    pub async fn execute(&self, stmt: &Statement) -> Result<Outcome, DbError> {
        self.run(&StmtRef::of(stmt)).await
    }

    async fn run(&self, st: &StmtRef<'_>) -> Result<Outcome, DbError> {
        let (generation, mut conn) = self.acquire().await?;
        let result = self.exec_on(&mut conn, st).await;
        self.after_failure(generation, &mut conn, &result);
        result
    }

    /// Runs `statements` in one transaction, in order: all commit, or on the first error all are
    /// rolled back and that error is returned as [`DbError::Batch`] with its index (MI's batch
    /// requests and boxcarring).
    pub async fn execute_batch(&self, statements: &[Statement]) -> Result<Vec<Outcome>, DbError> {
        let mut tx = self.begin().await?;
        let mut outcomes = Vec::with_capacity(statements.len());
        for (index, stmt) in statements.iter().enumerate() {
            match tx.execute(stmt).await {
                Ok(o) => outcomes.push(o),
                Err(e) => {
                    let rollback = tx.rollback().await;
                    if let Err(r) = rollback {
                        tracing::warn!(error = %r, "rollback after a failed batch statement failed");
                    }
                    return Err(DbError::Batch {
                        index,
                        source: Box::new(e),
                    });
                }
            }
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Starts a transaction on a connection of its own. Dropping it without
    /// [`Transaction::commit`] rolls it back.
    pub async fn begin(&self) -> Result<Transaction, DbError> {
        let (generation, conn) = self.acquire().await?;
        let target = &self.inner.target;
        let tx = match conn {
            Conn::Postgres(c) => sqlx::Transaction::begin(c, None).await.map(Tx::Postgres),
            Conn::MySql(c) => sqlx::Transaction::begin(c, None).await.map(Tx::MySql),
            Conn::Sqlite(c) => sqlx::Transaction::begin(c, None).await.map(Tx::Sqlite),
        };
        match tx {
            Ok(tx) => Ok(Transaction {
                ds: self.clone(),
                generation,
                tx,
            }),
            Err(e) => {
                let e = from_statement(e, target);
                if matches!(e, DbError::ConnectionLost { .. }) {
                    self.mark_lost(generation);
                }
                Err(e)
            }
        }
    }

    fn current_pool(&self) -> (u64, Pools) {
        let guard = self
            .inner
            .pool
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (guard.0, guard.1.clone())
    }

    /// Marks the data source down and replaces the pool of `generation` (whose connections may
    /// all be dead) with a fresh one.
    fn mark_lost(&self, generation: u64) {
        self.inner.down.store(true, Ordering::SeqCst);
        if matches!(self.inner.options, Options::Sqlite(_)) {
            return;
        }
        let old = {
            let mut guard = self
                .inner
                .pool
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if guard.0 != generation {
                return;
            }
            let next = self.inner.next_generation.fetch_add(1, Ordering::SeqCst);
            let fresh = build_pool(&self.inner.options, &self.inner.settings);
            std::mem::replace(&mut *guard, (next, fresh)).1
        };
        tracing::warn!(target = %self.inner.target, "connection lost: the pool is replaced");
        old.close_in_background();
    }

    fn after_failure(&self, generation: u64, conn: &mut Conn, result: &Result<Outcome, DbError>) {
        match result {
            Err(DbError::ConnectionLost { .. }) => {
                conn.close_on_drop();
                self.mark_lost(generation);
            }
            Err(DbError::Timeout {
                kind: TimeoutKind::Query,
                ..
            }) => conn.close_on_drop(),
            _ => {}
        }
    }

    /// Makes one connection directly (not through the pool) to learn at once whether the
    /// database is there; see the module documentation.
    async fn probe(&self) -> Result<(), DbError> {
        let result = self.probe_once().await;
        if result.is_err() {
            self.inner.down.store(true, Ordering::SeqCst);
        }
        result
    }

    async fn probe_once(&self) -> Result<(), DbError> {
        let timeout = self.inner.settings.max_wait;
        let target = &self.inner.target;
        let fail = |e| from_connect(e, target, timeout);
        let elapsed = |_| DbError::Timeout {
            kind: TimeoutKind::Connect,
            target: target.clone(),
            waited: timeout,
        };
        match &self.inner.options {
            Options::Postgres(o) => {
                let c = tokio::time::timeout(timeout, o.connect())
                    .await
                    .map_err(elapsed)?
                    .map_err(fail)?;
                tokio::spawn(c.close());
            }
            Options::MySql(o) => {
                let c = tokio::time::timeout(timeout, o.connect())
                    .await
                    .map_err(elapsed)?
                    .map_err(fail)?;
                tokio::spawn(c.close());
            }
            // A local file: the pool reports its errors at once.
            Options::Sqlite(_) => {}
        }
        Ok(())
    }

    /// `pool.acquire()`, but when it has not finished after [`PROBE_AFTER`] and the pool is
    /// below `maxActive` (so sqlx is opening a connection, which it retries while the server
    /// refuses it until `maxWait` runs out), a direct connection attempt decides: if the
    /// database is not there, that error returns at once (the outer `Err`). Once per call.
    async fn acquire_watching<DB: sqlx::Database>(
        &self,
        pool: &Pool<DB>,
    ) -> Result<Result<PoolConnection<DB>, sqlx::Error>, DbError> {
        let mut acquire = std::pin::pin!(pool.acquire());
        let mut probed = false;
        loop {
            tokio::select! {
                r = &mut acquire => return Ok(r),
                () = tokio::time::sleep(PROBE_AFTER), if !probed => {}
            }
            if pool.size() >= self.inner.settings.max_active {
                // Waiting for a busy connection to come back, not connecting.
                continue;
            }
            probed = true;
            self.probe().await?;
        }
    }

    async fn acquire(&self) -> Result<(u64, Conn), DbError> {
        match self.try_acquire().await {
            // A pooled connection that failed validation: the pool was replaced; try once more
            // (which probes first, so a database that is really down fails fast).
            Err(DbError::ConnectionLost { .. }) => self.try_acquire().await,
            other => other,
        }
    }

    async fn try_acquire(&self) -> Result<(u64, Conn), DbError> {
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(DbError::Closed);
        }
        let (generation, pools) = self.current_pool();
        if self.inner.down.load(Ordering::SeqCst) {
            self.probe().await?;
            self.inner.down.store(false, Ordering::SeqCst);
        }
        let settings = &self.inner.settings;
        let target = &self.inner.target;
        let acquired = match &pools {
            Pools::Postgres(p) => self.acquire_watching(p).await?.map(Conn::Postgres),
            Pools::MySql(p) => self.acquire_watching(p).await?.map(Conn::MySql),
            Pools::Sqlite(p) => self.acquire_watching(p).await?.map(Conn::Sqlite),
        };
        let mut conn = match acquired {
            Ok(c) => c,
            Err(sqlx::Error::PoolTimedOut) => {
                // Busy, or did the database go away while we waited?
                self.probe().await?;
                return Err(DbError::Timeout {
                    kind: TimeoutKind::Acquire,
                    target: target.clone(),
                    waited: settings.max_wait,
                });
            }
            Err(e) => {
                let e = from_connect(e, target, settings.max_wait);
                if e.is_unavailable() {
                    self.inner.down.store(true, Ordering::SeqCst);
                }
                return Err(e);
            }
        };
        if settings.test_on_borrow
            && let Err(e) = self.validate(&mut conn).await
        {
            conn.close_on_drop();
            self.mark_lost(generation);
            return Err(e);
        }
        Ok((generation, conn))
    }

    /// `testOnBorrow`: the `validationQuery`, or a protocol-level ping without one.
    async fn validate(&self, conn: &mut Conn) -> Result<(), DbError> {
        let target = &self.inner.target;
        let query = self.inner.settings.validation_query.as_deref();
        let result = match (conn, query) {
            (Conn::Postgres(c), Some(q)) => sqlx::raw_sql(AssertSqlSafe(q.to_owned()))
                .execute(&mut **c)
                .await
                .map(drop),
            (Conn::MySql(c), Some(q)) => sqlx::raw_sql(AssertSqlSafe(q.to_owned()))
                .execute(&mut **c)
                .await
                .map(drop),
            (Conn::Sqlite(c), Some(q)) => sqlx::raw_sql(AssertSqlSafe(q.to_owned()))
                .execute(&mut **c)
                .await
                .map(drop),
            (Conn::Postgres(c), None) => c.ping().await,
            (Conn::MySql(c), None) => c.ping().await,
            (Conn::Sqlite(c), None) => c.ping().await,
        };
        result.map_err(|e| DbError::ConnectionLost {
            target: target.clone(),
            message: format!("validation failed: {}", from_statement(e, target)),
        })
    }

    async fn exec_on(&self, conn: &mut Conn, st: &StmtRef<'_>) -> Result<Outcome, DbError> {
        let ctx = self.exec_ctx();
        let fut = async {
            match conn {
                Conn::Postgres(c) => exec_postgres(c, st, &ctx).await,
                Conn::MySql(c) => exec_mysql(c, st, &ctx).await,
                Conn::Sqlite(c) => exec_sqlite(c, st, &ctx).await,
            }
        };
        with_query_timeout(&ctx, fut).await
    }

    fn exec_ctx(&self) -> ExecCtx<'_> {
        ExecCtx {
            driver: self.inner.url.driver,
            target: &self.inner.target,
            max_rows: self.inner.settings.max_rows,
            query_timeout: self.inner.settings.query_timeout,
        }
    }
}

/// A transaction on one connection. Dropping it without [`Transaction::commit`] rolls it back.
pub struct Transaction {
    ds: DataSource,
    generation: u64,
    tx: Tx,
}

enum Tx {
    Postgres(sqlx::Transaction<'static, Postgres>),
    MySql(sqlx::Transaction<'static, MySql>),
    Sqlite(sqlx::Transaction<'static, Sqlite>),
}

impl Transaction {
    /// Runs one statement inside the transaction.
    pub async fn execute(&mut self, stmt: &Statement) -> Result<Outcome, DbError> {
        let ctx = self.ds.exec_ctx();
        let st = StmtRef::of(stmt);
        let fut = async {
            match &mut self.tx {
                Tx::Postgres(t) => exec_postgres(t, &st, &ctx).await,
                Tx::MySql(t) => exec_mysql(t, &st, &ctx).await,
                Tx::Sqlite(t) => exec_sqlite(t, &st, &ctx).await,
            }
        };
        let result = with_query_timeout(&ctx, fut).await;
        if matches!(result, Err(DbError::ConnectionLost { .. })) {
            self.ds.mark_lost(self.generation);
        }
        result
    }

    pub async fn commit(self) -> Result<(), DbError> {
        let target = self.ds.inner.target.clone();
        let result = match self.tx {
            Tx::Postgres(t) => t.commit().await,
            Tx::MySql(t) => t.commit().await,
            Tx::Sqlite(t) => t.commit().await,
        };
        result.map_err(|e| from_statement(e, &target))
    }

    pub async fn rollback(self) -> Result<(), DbError> {
        let target = self.ds.inner.target.clone();
        let result = match self.tx {
            Tx::Postgres(t) => t.rollback().await,
            Tx::MySql(t) => t.rollback().await,
            Tx::Sqlite(t) => t.rollback().await,
        };
        result.map_err(|e| from_statement(e, &target))
    }
}

/// A statement as the executors take it (borrowed from a [`Statement`] or from arguments).
struct StmtRef<'a> {
    sql: &'a str,
    params: &'a [Value],
    param_types: &'a [ParamType],
    returns: &'a Returns,
}

impl<'a> StmtRef<'a> {
    fn new(sql: &'a str, params: &'a [Value], returns: &'a Returns) -> Self {
        StmtRef {
            sql,
            params,
            param_types: &[],
            returns,
        }
    }

    fn of(stmt: &'a Statement) -> Self {
        StmtRef {
            sql: &stmt.sql,
            params: &stmt.params,
            param_types: &stmt.param_types,
            returns: &stmt.returns,
        }
    }

    fn param_type(&self, index: usize) -> ParamType {
        self.param_types.get(index).copied().unwrap_or_default()
    }
}

/// What statement execution needs to know about its data source.
struct ExecCtx<'a> {
    driver: Driver,
    target: &'a str,
    max_rows: Option<u64>,
    query_timeout: Option<Duration>,
}

async fn with_query_timeout(
    ctx: &ExecCtx<'_>,
    fut: impl Future<Output = Result<Outcome, DbError>>,
) -> Result<Outcome, DbError> {
    match ctx.query_timeout {
        Some(limit) => tokio::time::timeout(limit, fut).await.unwrap_or_else(|_| {
            Err(DbError::Timeout {
                kind: TimeoutKind::Query,
                target: ctx.target.to_owned(),
                waited: limit,
            })
        }),
        None => fut.await,
    }
}

/// Checks the placeholder count and rewrites placeholders for the dialect.
fn prepare_sql<'s>(
    sql: &'s str,
    params: &[Value],
    driver: Driver,
) -> Result<std::borrow::Cow<'s, str>, DbError> {
    if params.len() > MAX_PARAMETERS {
        return Err(DbError::TooManyParameters {
            given: params.len(),
            max: MAX_PARAMETERS,
        });
    }
    let prepared = sql::prepare(sql, driver.dialect());
    if prepared.parameters() != params.len() {
        return Err(DbError::ParameterCount {
            expected: prepared.parameters(),
            given: params.len(),
        });
    }
    Ok(prepared.sql)
}

/// Binds `$args` (driver `Arg`s) to `sqlx::query($sql)`.
macro_rules! bound {
    ($sql:expr, $args:expr) => {{
        let mut q = sqlx::query(AssertSqlSafe($sql));
        for arg in $args {
            q = q.bind(arg);
        }
        q
    }};
}

/// Streams the rows of `$query` on `$conn`, decoding each with `$m::decode_row`, stopping at
/// `max_rows`.
macro_rules! fetch_rows {
    ($m:ident, $conn:expr, $query:expr, $ctx:expr) => {{
        let mut stream = $query.fetch(&mut *$conn);
        let mut columns = None;
        let mut rows = Vec::new();
        while let Some(r) = stream
            .try_next()
            .await
            .map_err(|e| from_statement(e, $ctx.target))?
        {
            let cols = columns.get_or_insert_with(|| $m::column_names(&r));
            rows.push($m::decode_row(&r, cols)?);
            if $ctx.max_rows.is_some_and(|m| rows.len() as u64 >= m) {
                break;
            }
        }
        Rows {
            columns: columns.unwrap_or_else(|| Arc::from(Vec::new())),
            rows,
        }
    }};
}

async fn exec_postgres(
    conn: &mut PgConnection,
    st: &StmtRef<'_>,
    ctx: &ExecCtx<'_>,
) -> Result<Outcome, DbError> {
    let (params, returns) = (st.params, st.returns);
    let prepared = prepare_sql(st.sql, params, ctx.driver)?;
    let mut text = prepared.trim_end().trim_end_matches(';').to_owned();
    if let Returns::GeneratedKeys(cols) = returns
        && !text.to_ascii_lowercase().contains("returning")
    {
        // What the PostgreSQL JDBC driver does for getGeneratedKeys.
        text.push_str("\nRETURNING ");
        text.push_str(&if cols.is_empty() {
            "*".to_owned()
        } else {
            cols.join(", ")
        });
    }
    if !params.is_empty() {
        // sqlx caches prepared statements by SQL text, and a statement keeps the parameter
        // types it was prepared with: the text names them, so that binding other types (a NULL
        // where an integer was, text where a date was) prepares a statement of its own instead
        // of sending bytes the cached statement would misread.
        text.push_str("\n/*conflux:");
        text.extend(
            params
                .iter()
                .enumerate()
                .map(|(i, v)| postgres::type_code(v, st.param_type(i))),
        );
        text.push_str("*/");
    }
    let query = bound!(
        text,
        params
            .iter()
            .enumerate()
            .map(|(i, v)| postgres::Arg(v, st.param_type(i)))
    );
    match returns {
        Returns::Rows => Ok(Outcome::Rows(fetch_rows!(postgres, conn, query, ctx))),
        Returns::GeneratedKeys(_) => {
            let keys = fetch_rows!(postgres, conn, query, ctx);
            Ok(Outcome::Updated {
                rows_affected: keys.len() as u64,
                generated_keys: Some(keys),
            })
        }
        Returns::Count => {
            let done = query
                .execute(&mut *conn)
                .await
                .map_err(|e| from_statement(e, ctx.target))?;
            Ok(Outcome::Updated {
                rows_affected: done.rows_affected(),
                generated_keys: None,
            })
        }
    }
}

async fn exec_mysql(
    conn: &mut MySqlConnection,
    st: &StmtRef<'_>,
    ctx: &ExecCtx<'_>,
) -> Result<Outcome, DbError> {
    let (params, returns) = (st.params, st.returns);
    let text = prepare_sql(st.sql, params, ctx.driver)?.into_owned();
    let query = bound!(text, params.iter().map(mysql::Arg));
    match returns {
        Returns::Rows => Ok(Outcome::Rows(fetch_rows!(mysql, conn, query, ctx))),
        Returns::Count | Returns::GeneratedKeys(_) => {
            let done = query
                .execute(&mut *conn)
                .await
                .map_err(|e| from_statement(e, ctx.target))?;
            let generated_keys = matches!(returns, Returns::GeneratedKeys(_)).then(|| {
                let name = if ctx.driver == Driver::MariaDb {
                    "insert_id"
                } else {
                    "GENERATED_KEY"
                };
                let columns: Arc<[String]> = Arc::from(vec![name.to_owned()]);
                let first = done.last_insert_id();
                let rows = if first == 0 {
                    Vec::new()
                } else {
                    // One key per inserted row; AUTO_INCREMENT hands out consecutive values to
                    // one multi-row INSERT (with the default increment of 1).
                    (0..done.rows_affected().max(1))
                        .map(|k| {
                            let key = first.saturating_add(k);
                            let v = i64::try_from(key)
                                .map_or_else(|_| Value::Decimal(key.to_string()), Value::Int);
                            Row::new(columns.clone(), vec![v])
                        })
                        .collect()
                };
                Rows { columns, rows }
            });
            Ok(Outcome::Updated {
                rows_affected: done.rows_affected(),
                generated_keys,
            })
        }
    }
}

async fn exec_sqlite(
    conn: &mut SqliteConnection,
    st: &StmtRef<'_>,
    ctx: &ExecCtx<'_>,
) -> Result<Outcome, DbError> {
    let (params, returns) = (st.params, st.returns);
    let text = prepare_sql(st.sql, params, ctx.driver)?.into_owned();
    let query = bound!(text, params.iter().map(sqlite::Arg));
    match returns {
        Returns::Rows => Ok(Outcome::Rows(fetch_rows!(sqlite, conn, query, ctx))),
        Returns::Count | Returns::GeneratedKeys(_) => {
            let done = query
                .execute(&mut *conn)
                .await
                .map_err(|e| from_statement(e, ctx.target))?;
            let generated_keys = matches!(returns, Returns::GeneratedKeys(_)).then(|| {
                let columns: Arc<[String]> = Arc::from(vec!["last_insert_rowid()".to_owned()]);
                let rows = if done.rows_affected() == 0 {
                    Vec::new()
                } else {
                    vec![Row::new(
                        columns.clone(),
                        vec![Value::Int(done.last_insert_rowid())],
                    )]
                };
                Rows { columns, rows }
            });
            Ok(Outcome::Updated {
                rows_affected: done.rows_affected(),
                generated_keys,
            })
        }
    }
}

/// An `after_connect` hook running `$session`'s statements on each new connection.
macro_rules! session_hook {
    ($session:expr) => {
        move |conn, _| {
            let session = $session.clone();
            Box::pin(async move {
                for s in session.iter() {
                    sqlx::raw_sql(AssertSqlSafe(s.clone()))
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        }
    };
}

/// The sqlx pool for `settings`; connects lazily.
fn build_pool(options: &Options, settings: &PoolSettings) -> Pools {
    fn base<DB: sqlx::Database>(s: &PoolSettings) -> PoolOptions<DB> {
        PoolOptions::new()
            .max_connections(s.max_active)
            .min_connections(s.min_idle.min(s.max_active))
            .acquire_timeout(s.max_wait)
            .idle_timeout(s.idle_timeout)
            .max_lifetime(s.max_age)
            // Validation is ours (`testOnBorrow`): sqlx's would retry a dead server until maxWait.
            .test_before_acquire(false)
    }
    let session = session_sql(options, settings);
    match options {
        Options::Postgres(o) => {
            let opts = base::<Postgres>(settings).after_connect(session_hook!(session));
            Pools::Postgres(opts.connect_lazy_with(o.clone()))
        }
        Options::MySql(o) => {
            let opts = base::<MySql>(settings).after_connect(session_hook!(session));
            Pools::MySql(opts.connect_lazy_with(o.clone()))
        }
        Options::Sqlite(o) => {
            let mut opts = base::<Sqlite>(settings);
            if settings_is_memory(o) {
                // An in-memory database lives as long as one connection to it: keep one.
                opts = opts
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None);
            }
            let opts = opts.after_connect(session_hook!(session));
            Pools::Sqlite(opts.connect_lazy_with(o.clone()))
        }
    }
}

fn settings_is_memory(o: &SqliteConnectOptions) -> bool {
    o.get_filename()
        .to_string_lossy()
        .starts_with("file:conflux-memory-")
}

/// Statements every new connection runs: isolation, read-only, then `initSQL`.
fn session_sql(options: &Options, s: &PoolSettings) -> Arc<Vec<String>> {
    let mut v = Vec::new();
    match options {
        Options::Postgres(_) => {
            if let Some(i) = s.isolation {
                v.push(format!(
                    "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL {}",
                    i.sql()
                ));
            }
            if s.read_only {
                v.push("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY".to_owned());
            }
        }
        Options::MySql(_) => {
            if let Some(i) = s.isolation {
                v.push(format!(
                    "SET SESSION TRANSACTION ISOLATION LEVEL {}",
                    i.sql()
                ));
            }
            if s.read_only {
                v.push("SET SESSION TRANSACTION READ ONLY".to_owned());
            }
        }
        Options::Sqlite(_) => {
            if s.isolation == Some(Isolation::ReadUncommitted) {
                v.push("PRAGMA read_uncommitted = 1".to_owned());
            }
            if s.read_only {
                v.push("PRAGMA query_only = 1".to_owned());
            }
        }
    }
    v.extend(s.init_sql.iter().cloned());
    Arc::new(v)
}

/// The sqlx connect options for a parsed URL and the configured credentials, and the URL
/// properties left unused.
fn connect_options(
    url: &JdbcUrl,
    config: &DataSourceConfig,
) -> Result<(Options, Vec<String>), DbError> {
    let mut ignored = Vec::new();
    let invalid = |name: &str, value: &str, reason: &str| DbError::InvalidUrl {
        url: url::redact(&config.url),
        reason: format!("property {name}={value}: {reason}"),
    };
    match &url.location {
        url::Location::Server {
            host,
            port,
            database,
            user,
            password,
        } => {
            let username = config
                .username
                .clone()
                .or_else(|| url.param("user").map(str::to_owned))
                .or_else(|| user.clone());
            let password = config
                .password
                .clone()
                .or_else(|| url.param("password").map(str::to_owned))
                .or_else(|| password.clone());
            if url.driver == Driver::Postgres {
                let mut o = PgConnectOptions::new_without_pgpass()
                    .host(host)
                    .port(*port);
                if let Some(u) = &username {
                    o = o.username(u);
                }
                if let Some(p) = &password {
                    o = o.password(p);
                }
                if let Some(d) = database {
                    o = o.database(d);
                }
                // pgjdbc: `ssl=true` alone means verify-full; the default is prefer.
                let mut ssl = PgSslMode::Prefer;
                for (k, v) in &url.params {
                    match k.as_str() {
                        "user" | "password" => {}
                        "ssl" if v.eq_ignore_ascii_case("true") || v.is_empty() => ssl = PgSslMode::VerifyFull,
                        "ssl" => ssl = PgSslMode::Disable,
                        "sslmode" => {
                            ssl = v.parse().map_err(|_| {
                                invalid(k, v, "expected disable, allow, prefer, require, verify-ca or verify-full")
                            })?
                        }
                        "sslrootcert" => o = o.ssl_root_cert(v),
                        "sslcert" => o = o.ssl_client_cert(v),
                        "sslkey" => o = o.ssl_client_key(v),
                        "currentSchema" => o = o.options([("search_path", v.as_str())]),
                        "ApplicationName" => o = o.application_name(v),
                        _ => ignored.push(k.clone()),
                    }
                }
                Ok((Options::Postgres(o.ssl_mode(ssl)), ignored))
            } else {
                let mut o = MySqlConnectOptions::new()
                    .host(host)
                    .port(*port)
                    // Connector/J leaves the session's sql_mode and time zone as the server has them.
                    .pipes_as_concat(false)
                    .no_engine_substitution(false)
                    .timezone(None);
                if let Some(u) = &username {
                    o = o.username(u);
                }
                if let Some(p) = &password {
                    o = o.password(p);
                }
                if let Some(d) = database {
                    o = o.database(d);
                }
                let mut ssl = MySqlSslMode::Preferred;
                for (k, v) in &url.params {
                    let on = v.eq_ignore_ascii_case("true");
                    match k.to_ascii_lowercase().as_str() {
                        "user" | "password" => {}
                        "usessl" | "requiressl" if on => ssl = MySqlSslMode::Required,
                        "usessl" => ssl = MySqlSslMode::Disabled,
                        "sslmode" => {
                            ssl = match v.to_ascii_lowercase().as_str() {
                                "disabled" | "disable" => MySqlSslMode::Disabled,
                                "preferred" => MySqlSslMode::Preferred,
                                "required" | "trust" => MySqlSslMode::Required,
                                "verify_ca" | "verify-ca" => MySqlSslMode::VerifyCa,
                                "verify_identity" | "verify-full" => MySqlSslMode::VerifyIdentity,
                                _ => {
                                    return Err(invalid(
                                        k,
                                        v,
                                        "expected DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY",
                                    ));
                                }
                            }
                        }
                        "requiressl" => {}
                        _ => ignored.push(k.clone()),
                    }
                }
                Ok((Options::MySql(o.ssl_mode(ssl)), ignored))
            }
        }
        url::Location::SqliteFile(_) | url::Location::SqliteMemory => {
            let mut o = match &url.location {
                url::Location::SqliteFile(path) => SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true),
                _ => {
                    let n = MEMORY_DB_SEQ.fetch_add(1, Ordering::Relaxed);
                    SqliteConnectOptions::new()
                        .filename(format!("file:conflux-memory-{n}"))
                        .in_memory(true)
                        .shared_cache(true)
                }
            }
            // SQLite's JDBC driver leaves foreign keys off, as SQLite does.
            .foreign_keys(false);
            for (k, v) in &url.params {
                let on = matches!(v.to_ascii_lowercase().as_str(), "true" | "on" | "1" | "yes");
                match k.as_str() {
                    "foreign_keys" => o = o.foreign_keys(on),
                    "journal_mode" => {
                        let mode: SqliteJournalMode = v.parse().map_err(|_| {
                            invalid(
                                k,
                                v,
                                "expected DELETE, TRUNCATE, PERSIST, MEMORY, WAL or OFF",
                            )
                        })?;
                        o = o.journal_mode(mode);
                    }
                    "synchronous" => {
                        let mode: SqliteSynchronous = v
                            .parse()
                            .map_err(|_| invalid(k, v, "expected OFF, NORMAL, FULL or EXTRA"))?;
                        o = o.synchronous(mode);
                    }
                    "busy_timeout" => {
                        let ms: u64 = v
                            .parse()
                            .map_err(|_| invalid(k, v, "expected milliseconds"))?;
                        o = o.busy_timeout(Duration::from_millis(ms));
                    }
                    "read_only" => o = o.read_only(on),
                    _ => ignored.push(k.clone()),
                }
            }
            Ok((Options::Sqlite(o), ignored))
        }
    }
}
