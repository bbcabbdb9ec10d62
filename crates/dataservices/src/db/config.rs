//! A data source's configuration as MI writes it: the RDBMS properties of a `.dbs` `<config>`
//! (and of carbon data sources), read into a URL, credentials and pool settings.
//!
//! MI hands these properties to the Tomcat JDBC pool (`RDBMSDataSourceUtils.assignBeanProps`
//! over `RDBMSConfiguration`, defaults from `RDBMSDataSourceConstants` and Tomcat's
//! `PoolProperties`; the property list is docs-mi "Datasource Parameters"). A property with a
//! number that does not parse, or a name the pool has no setter for, fails the data source in MI
//! and fails it here. Properties the sqlx pool has no equivalent for are accepted and reported
//! back as ignored, so that a deployment can warn about them.

use std::path::PathBuf;
use std::time::Duration;

use super::error::DbError;

/// Tomcat JDBC pool's `maxActive` default (MI sets none of its own).
pub const DEFAULT_MAX_ACTIVE: u32 = 100;
/// MI's `minIdle` default (`RDBMSDataSourceConstants.MIN_IDLE`).
pub const DEFAULT_MIN_IDLE: u32 = 0;
/// MI's `initialSize` default (`RDBMSDataSourceConstants.INITIAL_SIZE`).
pub const DEFAULT_INITIAL_SIZE: u32 = 0;
/// Tomcat's `maxWait` default: how long a request waits for a free connection.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_millis(30_000);
/// Tomcat's `minEvictableIdleTimeMillis` default: an idle connection is closed after this.
pub const DEFAULT_MIN_EVICTABLE_IDLE: Duration = Duration::from_millis(60_000);
/// Stands for "wait for ever" (`maxWait` ≤ 0 in Tomcat): long enough never to matter, short
/// enough for timer arithmetic.
pub const UNBOUNDED_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// MI's property names, with the honoured ones handled in [`DataSourceConfig::from_properties`]
/// and these accepted but without effect on the sqlx pool.
pub const IGNORED_PROPERTIES: &[&str] = &[
    "maxIdle",
    "testOnReturn",
    "testWhileIdle",
    "validatorClassName",
    "timeBetweenEvictionRunsMillis",
    "numTestsPerEvictionRun",
    "removeAbandoned",
    "removeAbandonedTimeout",
    "logAbandoned",
    "connectionProperties",
    "jdbcInterceptors",
    "validationInterval",
    "jmxEnabled",
    "fairQueue",
    "abandonWhenPercentageFull",
    "useEquals",
    "suspectTimeout",
    "validationQueryTimeout",
    "alternateUsernameAllowed",
    "defaultCatalog",
    "defaultAutoCommit",
    "autoCommit",
    "commitOnReturn",
    "rollbackOnReturn",
    "accessToUnderlyingConnectionAllowed",
    "fetchDirection",
    "fetchSize",
    "maxFieldSize",
    "forceStoredProc",
    "forceJDBCBatchRequests",
    "dynamicUserAuthClass",
    "dynamicUserAuthMapping",
    "dataSourceClassName",
    "dataSourceProps",
    "dss.timezone",
    "dss.legacy.timezone.mode",
];

/// The pre-3.0 data service property names (`DBConstants.RDBMS_OLD`) and their current names
/// (`DBConstants.RDBMSv2ToV3Map`), which MI still converts.
const OLD_NAMES: &[(&str, &str)] = &[
    ("org.wso2.ws.dataservice.driver", "driverClassName"),
    ("org.wso2.ws.dataservice.protocol", "url"),
    ("org.wso2.ws.dataservice.user", "username"),
    ("org.wso2.ws.dataservice.password", "password"),
    ("org.wso2.ws.dataservice.query_timeout", "queryTimeout"),
    ("org.wso2.ws.dataservice.autocommit", "autoCommit"),
    ("org.wso2.ws.dataservice.fetch_direction", "fetchDirection"),
    ("org.wso2.ws.dataservice.fetch_size", "fetchSize"),
    ("org.wso2.ws.dataservice.max_field_size", "maxFieldSize"),
    ("org.wso2.ws.dataservice.max_rows", "maxRows"),
    (
        "org.wso2.ws.dataservice.force_jdbc_batch_requests",
        "forceJDBCBatchRequests",
    ),
    (
        "org.wso2.ws.dataservice.force_stored_proc",
        "forceStoredProc",
    ),
    (
        "org.wso2.ws.dataservice.transaction_isolation",
        "defaultTransactionIsolation",
    ),
    ("org.wso2.ws.dataservice.initial_size", "initialSize"),
    ("org.wso2.ws.dataservice.maxpoolsize", "maxActive"),
    ("org.wso2.ws.dataservice.max_idle", "maxIdle"),
    ("org.wso2.ws.dataservice.minpoolsize", "minIdle"),
    ("org.wso2.ws.dataservice.max_wait", "maxWait"),
    (
        "org.wso2.ws.dataservice.validation_query",
        "validationQuery",
    ),
    ("org.wso2.ws.dataservice.test_on_borrow", "testOnBorrow"),
    ("org.wso2.ws.dataservice.test_on_return", "testOnReturn"),
    ("org.wso2.ws.dataservice.test_while_idle", "testWhileIdle"),
    (
        "org.wso2.ws.dataservice.time_between_eviction_runs_mills",
        "timeBetweenEvictionRunsMillis",
    ),
    (
        "org.wso2.ws.dataservice.num_test_per_eviction_run",
        "numTestsPerEvictionRun",
    ),
    (
        "org.wso2.ws.dataservice.min_evictable_idle_time_millis",
        "minEvictableIdleTimeMillis",
    ),
    (
        "org.wso2.ws.dataservice.remove_abandoned",
        "removeAbandoned",
    ),
    (
        "org.wso2.ws.dataservice.remove_abandoned_timeout",
        "removeAbandonedTimeout",
    ),
    ("org.wso2.ws.dataservice.log_abandoned", "logAbandoned"),
];

/// Transaction isolation (`defaultTransactionIsolation`; MI accepts these names with or
/// without a `TRANSACTION_` prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    ReadUncommitted,
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

impl Isolation {
    /// The SQL words (`READ COMMITTED`).
    pub fn sql(self) -> &'static str {
        match self {
            Isolation::ReadUncommitted => "READ UNCOMMITTED",
            Isolation::ReadCommitted => "READ COMMITTED",
            Isolation::RepeatableRead => "REPEATABLE READ",
            Isolation::Serializable => "SERIALIZABLE",
        }
    }
}

/// How the pool behaves. Every field has MI's default; the dblookup/dbreport mediators' `<pool>`
/// properties (`maxactive`, `maxwait`, …) fill the same struct.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolSettings {
    /// `maxActive`: most connections open at once.
    pub max_active: u32,
    /// `minIdle`: connections kept open while idle.
    pub min_idle: u32,
    /// `initialSize`: connections opened when the data source starts (eager start only).
    pub initial_size: u32,
    /// `maxWait`: how long a statement waits for a free connection, and the longest a new
    /// connection may take to open.
    pub max_wait: Duration,
    /// `testOnBorrow`: check a pooled connection (with `validationQuery`, or a ping) before use.
    pub test_on_borrow: bool,
    /// `validationQuery`: the check run by `testOnBorrow`.
    pub validation_query: Option<String>,
    /// `minEvictableIdleTimeMillis`: close a connection idle for this long (None: never).
    pub idle_timeout: Option<Duration>,
    /// `maxAge`: close a connection this old when it is returned (None: never, MI's 0).
    pub max_age: Option<Duration>,
    /// `initSQL`: run on every new connection.
    pub init_sql: Option<String>,
    /// `defaultReadOnly`.
    pub read_only: bool,
    /// `defaultTransactionIsolation`.
    pub isolation: Option<Isolation>,
    /// `queryTimeout` (seconds in MI): the longest a statement may run.
    pub query_timeout: Option<Duration>,
    /// `maxRows`: at most this many rows are read from a result.
    pub max_rows: Option<u64>,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_active: DEFAULT_MAX_ACTIVE,
            min_idle: DEFAULT_MIN_IDLE,
            initial_size: DEFAULT_INITIAL_SIZE,
            max_wait: DEFAULT_MAX_WAIT,
            test_on_borrow: false,
            validation_query: None,
            idle_timeout: Some(DEFAULT_MIN_EVICTABLE_IDLE),
            max_age: None,
            init_sql: None,
            read_only: false,
            isolation: None,
            query_timeout: None,
            max_rows: None,
        }
    }
}

/// Everything needed to open a data source.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSourceConfig {
    /// The JDBC URL (`jdbc:postgresql://…`, `jdbc:mysql://…`, `jdbc:mariadb://…`, `jdbc:sqlite:…`).
    pub url: String,
    /// `driverClassName`, checked against the URL.
    pub driver_class: Option<String>,
    /// `username` (when absent, the URL's `user` property or `user@` part is used).
    pub username: Option<String>,
    pub password: Option<String>,
    pub pool: PoolSettings,
    /// The server home, against which a relative SQLite path resolves.
    pub home: Option<PathBuf>,
}

impl DataSourceConfig {
    /// A configuration for `url` with MI's defaults.
    pub fn new(url: impl Into<String>) -> Self {
        DataSourceConfig {
            url: url.into(),
            driver_class: None,
            username: None,
            password: None,
            pool: PoolSettings::default(),
            home: None,
        }
    }

    /// Reads a `.dbs` `<config>`'s RDBMS properties (values already resolved, `$SYSTEM:` and
    /// secrets included). Empty values count as absent, as in MI's empty template elements.
    /// Returns the configuration and the names of the properties that were accepted but have no
    /// effect (see [`IGNORED_PROPERTIES`]).
    pub fn from_properties<'a>(
        props: impl IntoIterator<Item = (&'a str, &'a str)>,
        home: Option<PathBuf>,
    ) -> Result<(DataSourceConfig, Vec<String>), DbError> {
        let mut cfg = DataSourceConfig::new(String::new());
        cfg.home = home;
        let mut ignored = Vec::new();
        for (raw_name, value) in props {
            let name = OLD_NAMES
                .iter()
                .find(|(old, _)| *old == raw_name)
                .map_or(raw_name, |(_, new)| *new);
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let p = &mut cfg.pool;
            match name {
                "url" => cfg.url = value.to_owned(),
                "driverClassName" => cfg.driver_class = Some(value.to_owned()),
                "username" => cfg.username = Some(value.to_owned()),
                "password" => cfg.password = Some(value.to_owned()),
                "maxActive" => {
                    // Tomcat's ConnectionPool.init: a maxActive below 1 falls back to the default.
                    let n = int(name, value)?;
                    p.max_active = u32::try_from(n)
                        .ok()
                        .filter(|&n| n >= 1)
                        .unwrap_or(DEFAULT_MAX_ACTIVE);
                }
                "minIdle" => p.min_idle = u32::try_from(int(name, value)?).unwrap_or(0),
                "initialSize" => p.initial_size = u32::try_from(int(name, value)?).unwrap_or(0),
                "maxWait" => p.max_wait = millis_or_unbounded(int(name, value)?),
                "testOnBorrow" => p.test_on_borrow = boolean(value),
                "validationQuery" => p.validation_query = Some(value.to_owned()),
                "minEvictableIdleTimeMillis" => {
                    let n = int(name, value)?;
                    p.idle_timeout = u64::try_from(n)
                        .ok()
                        .filter(|&n| n > 0)
                        .map(Duration::from_millis);
                }
                "maxAge" => {
                    let n = long(name, value)?;
                    p.max_age = u64::try_from(n)
                        .ok()
                        .filter(|&n| n > 0)
                        .map(Duration::from_millis);
                }
                "initSQL" => p.init_sql = Some(value.to_owned()),
                "defaultReadOnly" => p.read_only = boolean(value),
                "defaultTransactionIsolation" => p.isolation = isolation(name, value)?,
                "queryTimeout" => {
                    let n = int(name, value)?;
                    p.query_timeout = u64::try_from(n)
                        .ok()
                        .filter(|&n| n > 0)
                        .map(Duration::from_secs);
                }
                "maxRows" => {
                    let n = int(name, value)?;
                    p.max_rows = u64::try_from(n).ok().filter(|&n| n > 0);
                }
                _ if IGNORED_PROPERTIES.contains(&name) => ignored.push(name.to_owned()),
                _ => {
                    return Err(DbError::InvalidProperty {
                        name: raw_name.to_owned(),
                        value: value.to_owned(),
                        reason: "not an RDBMS data source property (MI: \"Setter method for property cannot be found\")"
                            .to_owned(),
                    });
                }
            }
        }
        if cfg.url.is_empty() {
            return Err(DbError::InvalidProperty {
                name: "url".to_owned(),
                value: String::new(),
                reason: "an RDBMS data source needs a JDBC URL".to_owned(),
            });
        }
        Ok((cfg, ignored))
    }
}

/// Java's `Integer.parseInt`, as MI's bean-property conversion uses.
fn int(name: &str, value: &str) -> Result<i32, DbError> {
    value.parse::<i32>().map_err(|_| DbError::InvalidProperty {
        name: name.to_owned(),
        value: value.to_owned(),
        reason: "expected an integer".to_owned(),
    })
}

fn long(name: &str, value: &str) -> Result<i64, DbError> {
    value.parse::<i64>().map_err(|_| DbError::InvalidProperty {
        name: name.to_owned(),
        value: value.to_owned(),
        reason: "expected an integer".to_owned(),
    })
}

/// Java's `Boolean.parseBoolean`: `true` in any case is true, anything else false.
fn boolean(value: &str) -> bool {
    value.eq_ignore_ascii_case("true")
}

fn millis_or_unbounded(n: i32) -> Duration {
    match u64::try_from(n) {
        Ok(ms) if ms > 0 => Duration::from_millis(ms),
        _ => UNBOUNDED_WAIT,
    }
}

fn isolation(name: &str, value: &str) -> Result<Option<Isolation>, DbError> {
    let v = value.trim_start_matches("TRANSACTION_");
    Ok(match v {
        "NONE" => None,
        "READ_UNCOMMITTED" => Some(Isolation::ReadUncommitted),
        "READ_COMMITTED" => Some(Isolation::ReadCommitted),
        "REPEATABLE_READ" => Some(Isolation::RepeatableRead),
        "SERIALIZABLE" => Some(Isolation::Serializable),
        _ => {
            return Err(DbError::InvalidProperty {
                name: name.to_owned(),
                value: value.to_owned(),
                reason: "expected NONE, READ_UNCOMMITTED, READ_COMMITTED, REPEATABLE_READ or SERIALIZABLE".to_owned(),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mi_properties_map_to_pool_settings() {
        let (cfg, ignored) = DataSourceConfig::from_properties(
            [
                ("driverClassName", "org.postgresql.Driver"),
                ("url", "jdbc:postgresql://h/d"),
                ("username", "u"),
                ("password", "p"),
                ("maxActive", "5"),
                ("minIdle", "1"),
                ("maxWait", "2500"),
                ("testOnBorrow", "TRUE"),
                ("validationQuery", "SELECT 1"),
                ("maxIdle", "3"),
                ("validationInterval", "30000"),
                ("defaultTransactionIsolation", "TRANSACTION_SERIALIZABLE"),
                ("queryTimeout", "7"),
                ("initialSize", ""),
            ],
            None,
        )
        .unwrap();
        assert_eq!(cfg.url, "jdbc:postgresql://h/d");
        assert_eq!(cfg.driver_class.as_deref(), Some("org.postgresql.Driver"));
        assert_eq!(
            (cfg.username.as_deref(), cfg.password.as_deref()),
            (Some("u"), Some("p"))
        );
        let p = &cfg.pool;
        assert_eq!(
            (p.max_active, p.min_idle, p.initial_size),
            (5, 1, DEFAULT_INITIAL_SIZE)
        );
        assert_eq!(p.max_wait, Duration::from_millis(2500));
        assert!(p.test_on_borrow);
        assert_eq!(p.validation_query.as_deref(), Some("SELECT 1"));
        assert_eq!(p.isolation, Some(Isolation::Serializable));
        assert_eq!(p.query_timeout, Some(Duration::from_secs(7)));
        assert_eq!(ignored, ["maxIdle", "validationInterval"]);
    }

    #[test]
    fn defaults_are_mis() {
        let p = PoolSettings::default();
        assert_eq!((p.max_active, p.min_idle, p.initial_size), (100, 0, 0));
        assert_eq!(p.max_wait, Duration::from_secs(30));
        assert_eq!(p.idle_timeout, Some(Duration::from_secs(60)));
        assert!(!p.test_on_borrow && p.max_age.is_none());
    }

    #[test]
    fn old_names_convert_and_odd_values_follow_tomcat() {
        let (cfg, _) = DataSourceConfig::from_properties(
            [
                ("org.wso2.ws.dataservice.protocol", "jdbc:sqlite:x.db"),
                ("org.wso2.ws.dataservice.maxpoolsize", "0"),
                ("org.wso2.ws.dataservice.max_wait", "-1"),
            ],
            None,
        )
        .unwrap();
        assert_eq!(cfg.url, "jdbc:sqlite:x.db");
        assert_eq!(cfg.pool.max_active, DEFAULT_MAX_ACTIVE);
        assert_eq!(cfg.pool.max_wait, UNBOUNDED_WAIT);
    }

    #[test]
    fn bad_numbers_unknown_names_and_a_missing_url_fail() {
        let e = DataSourceConfig::from_properties(
            [("url", "jdbc:sqlite:x"), ("maxActive", "ten")],
            None,
        )
        .unwrap_err();
        assert!(
            matches!(e, DbError::InvalidProperty { ref name, .. } if name == "maxActive"),
            "{e:?}"
        );
        // One past i32::MAX does not parse, as in Java.
        let e = DataSourceConfig::from_properties(
            [("url", "jdbc:sqlite:x"), ("maxWait", "2147483648")],
            None,
        );
        assert!(e.is_err());
        let e =
            DataSourceConfig::from_properties([("url", "jdbc:sqlite:x"), ("maxActiv", "1")], None)
                .unwrap_err();
        assert!(e.to_string().contains("maxActiv"), "{e}");
        let e = DataSourceConfig::from_properties([("username", "u")], None).unwrap_err();
        assert!(matches!(e, DbError::InvalidProperty { ref name, .. } if name == "url"));
        let e = DataSourceConfig::from_properties(
            [
                ("url", "jdbc:sqlite:x"),
                ("defaultTransactionIsolation", "CHAOS"),
            ],
            None,
        );
        assert!(e.is_err());
    }

    /// `DataSource::lazy` outside a Tokio runtime is an error naming the (redacted) URL, not a
    /// panic in sqlx's pool upkeep; inside one it opens without I/O.
    #[test]
    fn lazy_outside_a_runtime_is_an_error_not_a_panic() {
        let url = "jdbc:postgresql://127.0.0.1:1/d?user=u&password=hunter2";
        let cfg = DataSourceConfig::new(url.to_owned());
        let Err(e) = crate::db::DataSource::lazy(cfg.clone()) else {
            panic!("no runtime: an error expected");
        };
        assert!(matches!(e, DbError::NoRuntime { .. }), "{e:?}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let _guard = rt.enter();
        assert!(crate::db::DataSource::lazy(cfg).is_ok());
    }
}
