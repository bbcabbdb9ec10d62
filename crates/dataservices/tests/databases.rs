//! The database layer on real databases: the same cases on PostgreSQL, MariaDB and SQLite.
//!
//! PostgreSQL and MariaDB are private servers this test binary starts (`db::testing`), or the
//! servers named by `CONFLUX_TEST_POSTGRES_URL` / `CONFLUX_TEST_MARIADB_URL`
//! (`scripts/ci/databases.sh`); without them a case prints why it is skipped. SQLite needs
//! nothing. Every case works in tables of its own, so the cases run in parallel on one server.

use std::time::Duration;

use conflux_dataservices::db::testing::{self, DbServer, Kind};
use conflux_dataservices::db::{
    DataSource, DataSourceConfig, DbError, MAX_PARAMETERS, Outcome, ParamType, Returns, Statement,
    TimeoutKind, Value,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Postgres,
    MariaDb,
    Sqlite,
}

/// A data source on one backend, and what keeps it alive.
struct Db {
    backend: Backend,
    config: DataSourceConfig,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    fn open(backend: Backend) -> Option<Db> {
        let kind = match backend {
            Backend::Postgres => Kind::Postgres,
            Backend::MariaDb => Kind::MariaDb,
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let mut config = DataSourceConfig::new("jdbc:sqlite:test.db");
                config.home = Some(dir.path().to_path_buf());
                config.driver_class = Some("org.sqlite.JDBC".into());
                return Some(Db {
                    backend,
                    config,
                    _dir: Some(dir),
                });
            }
        };
        match testing::shared(kind) {
            Ok(db) => Some(Db {
                backend,
                config: db.config(),
                _dir: None,
            }),
            Err(skip) => {
                eprintln!("skipped on {backend:?}: {skip}");
                None
            }
        }
    }

    async fn ds(&self) -> DataSource {
        DataSource::connect(self.config.clone())
            .await
            .expect("connect")
    }

    /// DDL words that differ between the databases.
    fn ddl(&self, sql: &str) -> String {
        let (auto_id, double, timestamp, text) = match self.backend {
            Backend::Postgres => (
                "SERIAL PRIMARY KEY",
                "DOUBLE PRECISION",
                "TIMESTAMP",
                "TEXT",
            ),
            Backend::MariaDb => (
                "INT AUTO_INCREMENT PRIMARY KEY",
                "DOUBLE",
                "DATETIME(6)",
                "TEXT",
            ),
            Backend::Sqlite => (
                "INTEGER PRIMARY KEY AUTOINCREMENT",
                "DOUBLE",
                "DATETIME",
                "TEXT",
            ),
        };
        sql.replace("{AUTO_ID}", auto_id)
            .replace("{DOUBLE}", double)
            .replace("{TIMESTAMP}", timestamp)
            .replace("{TEXT}", text)
    }

    async fn fresh_table(&self, ds: &DataSource, name: &str, columns: &str) {
        ds.update(&format!("DROP TABLE IF EXISTS {name}"), &[])
            .await
            .expect("drop");
        ds.update(&self.ddl(&format!("CREATE TABLE {name} ({columns})")), &[])
            .await
            .expect("create");
    }
}

/// `case!(name)` runs `async fn name(db: &Db)` once per backend.
macro_rules! on_every_database {
    ($($case:ident),* $(,)?) => {
        mod postgres {
            $(#[tokio::test] async fn $case() { if let Some(db) = super::Db::open(super::Backend::Postgres) { super::$case(&db).await } })*
        }
        mod mariadb {
            $(#[tokio::test] async fn $case() { if let Some(db) = super::Db::open(super::Backend::MariaDb) { super::$case(&db).await } })*
        }
        mod sqlite {
            $(#[tokio::test] async fn $case() { if let Some(db) = super::Db::open(super::Backend::Sqlite) { super::$case(&db).await } })*
        }
    };
}

on_every_database!(
    crud_with_bound_parameters,
    typed_values_round_trip,
    nulls_round_trip,
    injection_strings_are_only_values,
    a_failing_batch_rolls_back_everything,
    a_dropped_transaction_rolls_back,
    generated_keys_are_returned,
    sql_errors_carry_the_databases_message,
    placeholders_and_values_must_match,
    max_rows_stops_reading,
    a_full_pool_times_out_at_max_active_plus_one,
);

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn rows_of(outcome: Outcome) -> conflux_dataservices::db::Rows {
    match outcome {
        Outcome::Rows(r) => r,
        other => panic!("expected rows, got {other:?}"),
    }
}

async fn crud_with_bound_parameters(db: &Db) {
    let ds = db.ds().await;
    db.fresh_table(
        &ds,
        "t_crud",
        "id INTEGER PRIMARY KEY, name VARCHAR(50), city VARCHAR(50)",
    )
    .await;
    for (id, name, city) in [
        (1, "Ann", "Colombo"),
        (2, "Bob", "Kandy"),
        (3, "Cid", "Colombo"),
    ] {
        let n = ds
            .update(
                "INSERT INTO t_crud (id, name, city) VALUES (?, ?, ?)",
                &[Value::Int(id), text(name), text(city)],
            )
            .await
            .expect("insert");
        assert_eq!(n, 1);
    }
    let rows = ds
        .query(
            "SELECT id, name FROM t_crud WHERE city = ? ORDER BY id",
            &[text("Colombo")],
        )
        .await
        .expect("select");
    assert_eq!(rows.columns.as_ref(), ["id", "name"]);
    let got: Vec<(Value, Value)> = rows
        .iter()
        .map(|r| (r.get("ID").unwrap().clone(), r.get("name").unwrap().clone()))
        .collect();
    assert_eq!(
        got,
        [(Value::Int(1), text("Ann")), (Value::Int(3), text("Cid"))]
    );

    let n = ds
        .update(
            "UPDATE t_crud SET city = ? WHERE city = ?",
            &[text("Galle"), text("Colombo")],
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    let n = ds
        .update("DELETE FROM t_crud WHERE id = ?", &[Value::Int(2)])
        .await
        .unwrap();
    assert_eq!(n, 1);
    let rows = ds
        .query("SELECT city FROM t_crud ORDER BY id", &[])
        .await
        .unwrap();
    let cities: Vec<_> = rows
        .iter()
        .map(|r| r.get_index(0).unwrap().clone())
        .collect();
    assert_eq!(cities, [text("Galle"), text("Galle")]);
    // A query with no match is an empty result, not an error.
    assert!(
        ds.query("SELECT id FROM t_crud WHERE id = ?", &[Value::Int(99)])
            .await
            .unwrap()
            .is_empty()
    );
}

async fn typed_values_round_trip(db: &Db) {
    let ds = db.ds().await;
    db.fresh_table(
        &ds,
        "t_types",
        "i INTEGER, b BIGINT, d {DOUBLE}, n NUMERIC(14,4), f BOOLEAN, day DATE, ts {TIMESTAMP}, s {TEXT}",
    )
    .await;
    let day = time::Date::from_calendar_date(2024, time::Month::February, 29).unwrap();
    let ts = time::PrimitiveDateTime::new(
        day,
        time::Time::from_hms_micro(23, 59, 58, 123_456).unwrap(),
    );
    let tricky = "O'Brien said \"hi\" \\ ✓ 日本語 🚀 -- /* ? */";
    let values = vec![
        Value::Int(i64::from(i32::MIN)),
        Value::Int(i64::MAX),
        Value::Double(std::f64::consts::PI),
        Value::Decimal("-12345.5000".into()),
        Value::Bool(true),
        Value::Date(day),
        Value::Timestamp(ts),
        text(tricky),
    ];
    ds.update(
        "INSERT INTO t_types (i, b, d, n, f, day, ts, s) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &values,
    )
    .await
    .expect("insert");
    let rows = ds
        .query("SELECT i, b, d, n, f, day, ts, s FROM t_types", &[])
        .await
        .expect("select");
    assert_eq!(rows.len(), 1);
    let got = rows.rows[0].values();
    let mut expected = values.clone();
    if db.backend == Backend::Sqlite {
        // SQLite's NUMERIC affinity stores a decimal's text as a REAL.
        expected[3] = Value::Double(-12345.5);
    }
    assert_eq!(got, expected.as_slice(), "{:?}", db.backend);

    // The same values as bound parameters find the row (types compare equal on the server).
    let found = ds
        .query("SELECT COUNT(*) AS c FROM t_types WHERE i = ? AND b = ? AND f = ? AND day = ? AND s = ?", &[
            values[0].clone(),
            values[1].clone(),
            values[4].clone(),
            values[5].clone(),
            values[7].clone(),
        ])
        .await
        .expect("select by values");
    assert_eq!(found.rows[0].get("c"), Some(&Value::Int(1)));
}

async fn nulls_round_trip(db: &Db) {
    let ds = db.ds().await;
    db.fresh_table(
        &ds,
        "t_nulls",
        "i INTEGER, d {DOUBLE}, day DATE, s {TEXT}, f BOOLEAN",
    )
    .await;
    let stmt = "INSERT INTO t_nulls (i, d, day, s, f) VALUES (?, ?, ?, ?, ?)";
    ds.update(
        stmt,
        &[
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ],
    )
    .await
    .expect("nulls");
    // The same SQL with typed values afterwards (PostgreSQL prepared it with inferred types first).
    let day = time::Date::from_calendar_date(2000, time::Month::January, 1).unwrap();
    ds.update(
        stmt,
        &[
            Value::Int(5),
            Value::Double(0.5),
            Value::Date(day),
            text("x"),
            Value::Bool(false),
        ],
    )
    .await
    .expect("values after nulls");
    let rows = ds
        .query("SELECT i, d, day, s, f FROM t_nulls ORDER BY i", &[])
        .await
        .unwrap();
    let all: Vec<Vec<Value>> = rows.iter().map(|r| r.values().to_vec()).collect();
    let (with_values, nulls) = if all[0][0].is_null() {
        (&all[1], &all[0])
    } else {
        (&all[0], &all[1])
    };
    assert!(nulls.iter().all(Value::is_null), "{nulls:?}");
    assert_eq!(
        with_values,
        &[
            Value::Int(5),
            Value::Double(0.5),
            Value::Date(day),
            text("x"),
            Value::Bool(false)
        ]
    );
    // `? IS NULL` with a bound NULL: PostgreSQL needs the declared type to know what `?` is.
    let stmt = Statement {
        sql: "SELECT i FROM t_nulls WHERE ? IS NULL".into(),
        params: vec![Value::Null],
        param_types: vec![ParamType::Text],
        returns: Returns::Rows,
    };
    assert_eq!(
        rows_of(ds.execute(&stmt).await.expect("typed null")).len(),
        2
    );
}

async fn injection_strings_are_only_values(db: &Db) {
    let ds = db.ds().await;
    db.fresh_table(&ds, "t_inj", "id INTEGER PRIMARY KEY, name VARCHAR(200)")
        .await;
    ds.update(
        "INSERT INTO t_inj (id, name) VALUES (?, ?)",
        &[Value::Int(1), text("alice")],
    )
    .await
    .unwrap();
    ds.update(
        "INSERT INTO t_inj (id, name) VALUES (?, ?)",
        &[Value::Int(2), text("bob")],
    )
    .await
    .unwrap();
    for attack in [
        "x' OR '1'='1",
        "x\" OR \"1\"=\"1",
        "'; DROP TABLE t_inj; --",
        "x'); DELETE FROM t_inj; --",
        "\\'; DELETE FROM t_inj; #",
        "1 OR 1=1",
    ] {
        let rows = ds
            .query("SELECT id FROM t_inj WHERE name = ?", &[text(attack)])
            .await
            .expect(attack);
        assert!(rows.is_empty(), "{attack}: {rows:?}");
        // Stored and read back verbatim.
        ds.update(
            "INSERT INTO t_inj (id, name) VALUES (?, ?)",
            &[Value::Int(100), text(attack)],
        )
        .await
        .unwrap();
        let back = ds
            .query("SELECT name FROM t_inj WHERE id = ?", &[Value::Int(100)])
            .await
            .unwrap();
        assert_eq!(back.rows[0].get("name"), Some(&text(attack)));
        ds.update("DELETE FROM t_inj WHERE id = ?", &[Value::Int(100)])
            .await
            .unwrap();
    }
    // An id bound as text that "closes" the comparison finds nothing either.
    let rows = ds
        .query(
            "SELECT id FROM t_inj WHERE name = ? OR id = ?",
            &[text("' OR 1=1 --"), Value::Int(-1)],
        )
        .await
        .unwrap();
    assert!(rows.is_empty());
    let left = ds
        .query("SELECT name FROM t_inj ORDER BY id", &[])
        .await
        .unwrap();
    let names: Vec<_> = left
        .iter()
        .map(|r| r.get("name").unwrap().clone())
        .collect();
    assert_eq!(names, [text("alice"), text("bob")]);
}

async fn a_failing_batch_rolls_back_everything(db: &Db) {
    let ds = db.ds().await;
    db.fresh_table(&ds, "t_batch", "id INTEGER PRIMARY KEY, v VARCHAR(20)")
        .await;
    let insert = |id: i64| {
        Statement::update(
            "INSERT INTO t_batch (id, v) VALUES (?, ?)",
            vec![Value::Int(id), text("x")],
        )
    };
    let ok = ds
        .execute_batch(&[insert(1), insert(2)])
        .await
        .expect("batch");
    assert_eq!(ok.len(), 2);
    // The third statement repeats a primary key: the first two of this batch are undone.
    let err = ds
        .execute_batch(&[insert(3), insert(4), insert(1), insert(5)])
        .await
        .unwrap_err();
    match &err {
        DbError::Batch { index, source } => {
            assert_eq!(*index, 2);
            assert!(matches!(**source, DbError::Sql { .. }), "{source:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.ds_code(), "DATABASE_ERROR");
    let rows = ds
        .query("SELECT id FROM t_batch ORDER BY id", &[])
        .await
        .unwrap();
    let ids: Vec<_> = rows.iter().map(|r| r.get("id").unwrap().clone()).collect();
    assert_eq!(ids, [Value::Int(1), Value::Int(2)]);
}

async fn a_dropped_transaction_rolls_back(db: &Db) {
    let ds = db.ds().await;
    db.fresh_table(&ds, "t_tx", "id INTEGER PRIMARY KEY").await;
    {
        let mut tx = ds.begin().await.expect("begin");
        tx.execute(&Statement::update(
            "INSERT INTO t_tx (id) VALUES (?)",
            vec![Value::Int(1)],
        ))
        .await
        .unwrap();
        let inside = tx
            .execute(&Statement::query("SELECT COUNT(*) AS c FROM t_tx", vec![]))
            .await
            .unwrap();
        assert_eq!(rows_of(inside).rows[0].get("c"), Some(&Value::Int(1)));
        // Dropped without commit.
    }
    let mut tx = ds.begin().await.expect("begin");
    tx.execute(&Statement::update(
        "INSERT INTO t_tx (id) VALUES (?)",
        vec![Value::Int(2)],
    ))
    .await
    .unwrap();
    tx.commit().await.expect("commit");
    let rows = ds.query("SELECT id FROM t_tx", &[]).await.unwrap();
    assert_eq!(
        rows.rows
            .iter()
            .map(|r| r.get("id").unwrap().clone())
            .collect::<Vec<_>>(),
        [Value::Int(2)]
    );
}

async fn generated_keys_are_returned(db: &Db) {
    let ds = db.ds().await;
    db.fresh_table(&ds, "t_keys", "id {AUTO_ID}, v VARCHAR(20)")
        .await;
    let stmt = |keys: Vec<String>| Statement {
        sql: "INSERT INTO t_keys (v) VALUES (?)".into(),
        params: vec![text("a")],
        param_types: vec![],
        returns: Returns::GeneratedKeys(keys),
    };
    for expected in [1, 2] {
        let keys = if db.backend == Backend::Postgres {
            vec!["id".to_owned()]
        } else {
            vec![]
        };
        match ds.execute(&stmt(keys)).await.expect("insert") {
            Outcome::Updated {
                rows_affected,
                generated_keys: Some(keys),
            } => {
                assert_eq!(rows_affected, 1);
                assert_eq!(keys.len(), 1);
                assert_eq!(
                    keys.rows[0].get_index(0),
                    Some(&Value::Int(expected)),
                    "{keys:?}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}

async fn sql_errors_carry_the_databases_message(db: &Db) {
    let ds = db.ds().await;
    let err = ds
        .query(
            "SELECT * FROM t_no_such_table WHERE id = ?",
            &[Value::Int(1)],
        )
        .await
        .unwrap_err();
    let DbError::Sql {
        sqlstate,
        vendor_code,
        message,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(message.contains("t_no_such_table"), "{message}");
    match db.backend {
        Backend::Postgres => assert_eq!(sqlstate.as_deref(), Some("42P01")),
        Backend::MariaDb => assert_eq!(
            (sqlstate.as_deref(), *vendor_code),
            (Some("42S02"), Some(1146))
        ),
        Backend::Sqlite => assert_eq!(*vendor_code, Some(1)),
    }
    assert!(!err.is_unavailable());
    // The data source is fine afterwards.
    assert_eq!(
        ds.query("SELECT 1 AS one", &[]).await.unwrap().rows[0].get("one"),
        Some(&Value::Int(1))
    );
}

async fn placeholders_and_values_must_match(db: &Db) {
    let ds = db.ds().await;
    let err = ds
        .query("SELECT ? AS a, ? AS b", &[Value::Int(1)])
        .await
        .unwrap_err();
    assert_eq!(
        err,
        DbError::ParameterCount {
            expected: 2,
            given: 1
        }
    );
    // A `?` in a literal is not a placeholder.
    let rows = ds
        .query("SELECT '?' AS q, ? AS a", &[text("v")])
        .await
        .unwrap();
    assert_eq!(rows.rows[0].values(), [text("?"), text("v")]);
    let params = vec![Value::Int(0); MAX_PARAMETERS + 1];
    let err = ds.query("SELECT 1", &params).await.unwrap_err();
    assert_eq!(
        err,
        DbError::TooManyParameters {
            given: MAX_PARAMETERS + 1,
            max: MAX_PARAMETERS
        }
    );
    let err = ds
        .update("SELECT ?", &[Value::Decimal("12,5".into())])
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Bind { .. }), "{err:?}");
    assert_eq!(err.ds_code(), "INCOMPATIBLE_PARAMETERS_ERROR");
}

async fn max_rows_stops_reading(db: &Db) {
    let mut config = db.config.clone();
    config.pool.max_rows = Some(2);
    let ds = DataSource::connect(config).await.unwrap();
    db.fresh_table(&ds, "t_maxrows", "id INTEGER").await;
    for i in 0..5 {
        ds.update("INSERT INTO t_maxrows (id) VALUES (?)", &[Value::Int(i)])
            .await
            .unwrap();
    }
    assert_eq!(
        ds.query("SELECT id FROM t_maxrows", &[])
            .await
            .unwrap()
            .len(),
        2
    );
    // The connection is usable afterwards (the rest of the result was discarded).
    assert_eq!(
        ds.query("SELECT id FROM t_maxrows WHERE id = ?", &[Value::Int(4)])
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn a_full_pool_times_out_at_max_active_plus_one(db: &Db) {
    let mut config = db.config.clone();
    config.pool.max_active = 2;
    config.pool.max_wait = Duration::from_millis(300);
    let ds = DataSource::connect(config).await.unwrap();
    let first = ds.begin().await.expect("connection 1");
    let second = ds.begin().await.expect("connection 2");
    assert_eq!(ds.stats().open, 2);
    let err = ds
        .begin()
        .await
        .err()
        .expect("a third connection is over maxActive");
    assert!(
        matches!(
            err,
            DbError::Timeout {
                kind: TimeoutKind::Acquire,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("maxWait"), "{err}");
    drop(first);
    let third = ds.begin().await.expect("a connection is free again");
    drop((second, third));
}

#[tokio::test]
async fn unsupported_databases_fail_before_any_io() {
    for url in [
        "jdbc:oracle:thin:@localhost:1521:XE",
        "jdbc:sqlserver://localhost:1433;databaseName=x",
        "jdbc:h2:mem:test",
        "jdbc:derby:memory:x;create=true",
        "jdbc:db2://localhost:50000/x",
    ] {
        let err = DataSource::lazy(DataSourceConfig::new(url)).unwrap_err();
        assert!(
            matches!(err, DbError::UnsupportedUrl { .. }),
            "{url}: {err:?}"
        );
    }
    let mut config = DataSourceConfig::new("jdbc:postgresql://localhost/x");
    config.driver_class = Some("com.mysql.jdbc.Driver".into());
    assert!(matches!(
        DataSource::lazy(config),
        Err(DbError::DriverMismatch { .. })
    ));
}

#[tokio::test]
async fn nothing_listening_is_a_connect_error_not_a_wait() {
    // A port that was free a moment ago; sqlx alone would retry the refusal until maxWait.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for scheme in ["postgresql", "mysql"] {
        let mut config = DataSourceConfig::new(format!("jdbc:{scheme}://127.0.0.1:{port}/x"));
        config.pool.max_wait = Duration::from_secs(600);
        let err = DataSource::connect(config).await.unwrap_err();
        assert!(matches!(err, DbError::Connect { .. }), "{scheme}: {err:?}");
        assert!(err.is_unavailable());
        assert_eq!(err.deploy_code(), "CONNECTION_UNAVAILABLE_ERROR");
        assert!(err.to_string().contains(&port.to_string()), "{err}");
    }
}

#[tokio::test]
async fn sqlite_in_memory_keeps_its_data_across_statements() {
    let ds = DataSource::connect(DataSourceConfig::new("jdbc:sqlite::memory:"))
        .await
        .unwrap();
    ds.update("CREATE TABLE m (v INTEGER)", &[]).await.unwrap();
    ds.update("INSERT INTO m (v) VALUES (?)", &[Value::Int(7)])
        .await
        .unwrap();
    let rows = ds.query("SELECT v FROM m", &[]).await.unwrap();
    assert_eq!(rows.rows[0].get("v"), Some(&Value::Int(7)));
    // A second in-memory data source is a different database.
    let other = DataSource::connect(DataSourceConfig::new("jdbc:sqlite::memory:"))
        .await
        .unwrap();
    assert!(matches!(
        other.query("SELECT v FROM m", &[]).await,
        Err(DbError::Sql { .. })
    ));
}

async fn wrong_password_is_an_auth_error(kind: Kind) {
    let db = match testing::shared(kind) {
        Ok(db) => db,
        Err(skip) => return eprintln!("skipped on {kind:?}: {skip}"),
    };
    let url = db.url.replace("password=conflux", "password=wrong");
    let err = DataSource::connect(DataSourceConfig::new(url))
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Auth { .. }), "{kind:?}: {err:?}");
    assert!(!err.to_string().contains("wrong"), "{err}");
}

#[tokio::test]
async fn postgres_wrong_password_is_an_auth_error() {
    wrong_password_is_an_auth_error(Kind::Postgres).await;
}

#[tokio::test]
async fn mariadb_wrong_password_is_an_auth_error() {
    wrong_password_is_an_auth_error(Kind::MariaDb).await;
}

async fn slow_statements_hit_query_timeout(kind: Kind, sleep_sql: &str) {
    let db = match testing::shared(kind) {
        Ok(db) => db,
        Err(skip) => return eprintln!("skipped on {kind:?}: {skip}"),
    };
    let (config, _) =
        DataSourceConfig::from_properties([("url", db.url.as_str()), ("queryTimeout", "1")], None)
            .unwrap();
    let ds = DataSource::connect(config).await.unwrap();
    let err = ds.query(sleep_sql, &[]).await.unwrap_err();
    assert!(
        matches!(
            err,
            DbError::Timeout {
                kind: TimeoutKind::Query,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        ds.query("SELECT 2 AS two", &[]).await.unwrap().rows[0].get("two"),
        Some(&Value::Int(2))
    );
}

#[tokio::test]
async fn postgres_query_timeout() {
    slow_statements_hit_query_timeout(Kind::Postgres, "SELECT pg_sleep(30)").await;
}

#[tokio::test]
async fn mariadb_query_timeout() {
    slow_statements_hit_query_timeout(Kind::MariaDb, "SELECT SLEEP(30)").await;
}

/// Stops the database under a data source and starts it again: statements fail while it is
/// down (without waiting for maxWait) and work again once it is back, with no restart of the
/// data source.
async fn outage_and_recovery(kind: Kind, test_on_borrow: bool) {
    let mut server = match DbServer::start(kind) {
        Ok(s) => s,
        Err(skip) => return eprintln!("skipped on {kind:?}: {skip}"),
    };
    eprintln!(
        "{kind:?}: a private server took {:?} to initialise and start",
        server.start_cost
    );
    let mut config = server.db().config();
    config.pool.max_wait = Duration::from_secs(600);
    config.pool.test_on_borrow = test_on_borrow;
    let ds = DataSource::connect(config).await.expect("connect");
    ds.update("CREATE TABLE t_outage (id INTEGER)", &[])
        .await
        .unwrap();
    ds.update("INSERT INTO t_outage (id) VALUES (?)", &[Value::Int(1)])
        .await
        .unwrap();

    server.stop();
    // The pooled connection is dead: the first statement reports it (lost, or refused when
    // validated first), the next ones are refused at once.
    for attempt in 0..3 {
        let err = ds.query("SELECT id FROM t_outage", &[]).await.unwrap_err();
        assert!(err.is_unavailable(), "attempt {attempt}: {err:?}");
        assert_eq!(err.ds_code(), "DATABASE_ERROR");
        if attempt > 0 {
            assert!(
                matches!(err, DbError::Connect { .. }),
                "attempt {attempt}: {err:?}"
            );
        }
    }

    server.restart().expect("restart");
    // Without validation, each idle connection of the pool that saw the shutdown fails once
    // (as with MI's pool without testOnBorrow); then the pool connects afresh and works.
    let mut rows = None;
    for attempt in 0..5 {
        match ds.query("SELECT id FROM t_outage", &[]).await {
            Ok(r) => {
                rows = Some(r);
                break;
            }
            Err(e) => assert!(
                e.is_unavailable(),
                "attempt {attempt} after the restart: {e:?}"
            ),
        }
    }
    let rows = rows.expect("works again after the restart");
    assert_eq!(rows.rows[0].get("id"), Some(&Value::Int(1)));
    ds.update("INSERT INTO t_outage (id) VALUES (?)", &[Value::Int(2)])
        .await
        .unwrap();

    // Restarted while idle: without validation the stale connection fails once, then it works;
    // with testOnBorrow the stale connection is noticed before use.
    server.restart().expect("second restart");
    let first = ds.query("SELECT COUNT(*) AS c FROM t_outage", &[]).await;
    if test_on_borrow {
        assert_eq!(
            first.expect("validated").rows[0].get("c"),
            Some(&Value::Int(2))
        );
    } else if let Err(e) = first {
        assert!(matches!(e, DbError::ConnectionLost { .. }), "{e:?}");
    }
    let rows = ds
        .query("SELECT COUNT(*) AS c FROM t_outage", &[])
        .await
        .expect("recovered");
    assert_eq!(rows.rows[0].get("c"), Some(&Value::Int(2)));
}

#[tokio::test]
async fn postgres_outage_and_recovery() {
    outage_and_recovery(Kind::Postgres, false).await;
}

#[tokio::test]
async fn postgres_outage_and_recovery_with_test_on_borrow() {
    outage_and_recovery(Kind::Postgres, true).await;
}

#[tokio::test]
async fn mariadb_outage_and_recovery() {
    outage_and_recovery(Kind::MariaDb, false).await;
}

#[tokio::test]
async fn mariadb_outage_and_recovery_with_test_on_borrow() {
    outage_and_recovery(Kind::MariaDb, true).await;
}
