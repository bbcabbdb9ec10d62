//! MI's JDBC URLs, read into what a sqlx driver needs: which database, where, and the URL's own
//! `?key=value` properties.
//!
//! The forms are the JDBC drivers' own: `jdbc:postgresql://host:port/db?…` (and
//! `jdbc:postgresql:db`), `jdbc:mysql://[user[:password]@]host:port/db?…`,
//! `jdbc:mariadb://host:port/db?…`, and `jdbc:sqlite:path` (relative to the server home, as MI
//! runs from it) or `jdbc:sqlite::memory:`. Databases Conflux does not speak (Oracle, SQL
//! Server, H2, Derby, DB2, …) are a typed error that names the URL and the supported schemes, and
//! the `driverClassName` of a data source is checked against the URL as the JDBC driver would:
//! MI loads the class, and a driver handed a URL it does not accept fails the data source.

use std::path::{Path, PathBuf};

use super::error::DbError;
use super::sql::Dialect;

/// The URL prefixes this layer accepts, for messages.
pub const SUPPORTED_SCHEMES: &str =
    "jdbc:postgresql:, jdbc:mysql://, jdbc:mariadb:// and jdbc:sqlite:";

/// PostgreSQL's port when the URL gives none.
pub const DEFAULT_POSTGRES_PORT: u16 = 5432;
/// MySQL's and MariaDB's port when the URL gives none.
pub const DEFAULT_MYSQL_PORT: u16 = 3306;

/// Which database a URL names. MySQL and MariaDB share sqlx's MySQL driver; they differ in the
/// driver classes that accept their URLs and in the name of the generated-key column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    Postgres,
    MySql,
    MariaDb,
    Sqlite,
}

impl Driver {
    pub fn dialect(self) -> Dialect {
        match self {
            Driver::Postgres => Dialect::Postgres,
            Driver::MySql | Driver::MariaDb => Dialect::MySql,
            Driver::Sqlite => Dialect::Sqlite,
        }
    }

    /// The product name, for messages and the management API.
    pub fn product(self) -> &'static str {
        match self {
            Driver::Postgres => "PostgreSQL",
            Driver::MySql => "MySQL",
            Driver::MariaDb => "MariaDB",
            Driver::Sqlite => "SQLite",
        }
    }

    /// The JDBC driver classes that accept this kind of URL.
    pub fn driver_classes(self) -> &'static [&'static str] {
        match self {
            Driver::Postgres => &["org.postgresql.Driver"],
            // MariaDB Connector/J 2.x also takes jdbc:mysql: URLs (3.x with permitMysqlScheme).
            Driver::MySql => &[
                "com.mysql.cj.jdbc.Driver",
                "com.mysql.jdbc.Driver",
                "org.mariadb.jdbc.Driver",
            ],
            Driver::MariaDb => &["org.mariadb.jdbc.Driver"],
            Driver::Sqlite => &["org.sqlite.JDBC"],
        }
    }
}

/// Where the database is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Server {
        host: String,
        port: u16,
        database: Option<String>,
        /// `user[:password]@` before the host (MySQL Connector/J 8 form).
        user: Option<String>,
        password: Option<String>,
    },
    SqliteFile(PathBuf),
    SqliteMemory,
}

/// A parsed JDBC URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JdbcUrl {
    pub driver: Driver,
    pub location: Location,
    /// The URL's `?key=value&…` properties, percent-decoded, in order.
    pub params: Vec<(String, String)>,
}

impl JdbcUrl {
    /// The value of URL property `name` (names compared ignoring ASCII case, as the drivers do).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `host:port/database` or the SQLite file, for messages (never a password).
    pub fn target(&self) -> String {
        match &self.location {
            Location::Server {
                host,
                port,
                database,
                ..
            } => {
                let host = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host.clone()
                };
                format!(
                    "{} at {host}:{port}/{}",
                    self.driver.product(),
                    database.as_deref().unwrap_or("")
                )
            }
            Location::SqliteFile(p) => format!("SQLite file {}", p.display()),
            Location::SqliteMemory => "SQLite in-memory database".to_owned(),
        }
    }
}

/// The JDBC subprotocols of databases Conflux does not support, with their names.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("oracle", "Oracle"),
    ("sqlserver", "Microsoft SQL Server"),
    ("jtds", "SQL Server / Sybase (jTDS)"),
    ("h2", "H2"),
    ("derby", "Apache Derby"),
    ("db2", "IBM Db2"),
    ("hsqldb", "HSQLDB"),
    ("informix-sqli", "Informix"),
    ("as400", "IBM i (AS/400)"),
    ("sybase", "Sybase"),
    ("snowflake", "Snowflake"),
    ("redshift", "Amazon Redshift"),
    ("cassandra", "Cassandra"),
];

/// Driver classes of those databases, so that a mismatch names the database, not just the class.
const UNSUPPORTED_CLASSES: &[(&str, &str)] = &[
    ("oracle.jdbc.", "Oracle"),
    ("com.microsoft.sqlserver.", "Microsoft SQL Server"),
    ("net.sourceforge.jtds.", "jTDS"),
    ("org.h2.", "H2"),
    ("org.apache.derby.", "Apache Derby"),
    ("com.ibm.db2.", "IBM Db2"),
    ("org.hsqldb.", "HSQLDB"),
];

/// Parses `url`; a relative SQLite path is resolved against `home` (the server home) when given.
pub fn parse(url: &str, home: Option<&Path>) -> Result<JdbcUrl, DbError> {
    let url = url.trim();
    let invalid = |reason: &str| DbError::InvalidUrl {
        url: redact(url),
        reason: reason.to_owned(),
    };
    let Some(rest) = strip_prefix_ignore_case(url, "jdbc:") else {
        return Err(invalid("a JDBC URL starts with 'jdbc:'"));
    };
    let sub_end = rest.find(':').unwrap_or(rest.len());
    let sub = rest[..sub_end].to_ascii_lowercase();
    let after = &rest[(sub_end + 1).min(rest.len())..];
    match sub.as_str() {
        "postgresql" => parse_server(url, Driver::Postgres, after),
        "mysql" => parse_server(url, Driver::MySql, after),
        "mariadb" => parse_server(url, Driver::MariaDb, after),
        "sqlite" => Ok(parse_sqlite(after, home)),
        other => {
            let reason = match UNSUPPORTED.iter().find(|(p, _)| *p == other) {
                Some((p, name)) => format!("{name} (jdbc:{p}:) is not supported"),
                None if other.starts_with("mysql+") || other.starts_with("mysqlx") => {
                    format!("the MySQL X / DNS SRV protocol (jdbc:{other}:) is not supported")
                }
                None => format!("unknown JDBC subprotocol '{other}'"),
            };
            Err(DbError::UnsupportedUrl {
                url: redact(url),
                reason,
                supported: SUPPORTED_SCHEMES,
            })
        }
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix))
    .then(|| &s[prefix.len()..])
}

/// `//[user[:password]@]host[:port][/database][?params]` (or PostgreSQL's `database[?params]`).
fn parse_server(url: &str, driver: Driver, after: &str) -> Result<JdbcUrl, DbError> {
    let invalid = |reason: String| DbError::InvalidUrl {
        url: redact(url),
        reason,
    };
    let unsupported = |reason: String| DbError::UnsupportedUrl {
        url: redact(url),
        reason,
        supported: SUPPORTED_SCHEMES,
    };
    let default_port = match driver {
        Driver::Postgres => DEFAULT_POSTGRES_PORT,
        _ => DEFAULT_MYSQL_PORT,
    };
    let (body, query) = match after.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (after, None),
    };
    let params = query.map(parse_params).unwrap_or_default();
    let Some(authority_and_path) = body.strip_prefix("//") else {
        if driver == Driver::Postgres && !body.contains('/') {
            // jdbc:postgresql:database
            return Ok(JdbcUrl {
                driver,
                location: Location::Server {
                    host: "localhost".to_owned(),
                    port: default_port,
                    database: (!body.is_empty()).then(|| percent_decode(body)),
                    user: None,
                    password: None,
                },
                params,
            });
        }
        if let Some((mode, _)) = body.split_once("//") {
            // jdbc:mysql:loadbalance://, jdbc:mariadb:replication://, …
            return Err(unsupported(format!(
                "the {} high-availability mode '{}' is not supported; give one host",
                driver.product(),
                mode.trim_end_matches(':')
            )));
        }
        return Err(invalid(format!(
            "expected '//host' after 'jdbc:{}:'",
            scheme_word(driver)
        )));
    };
    let (authority, path) = match authority_and_path.find('/') {
        Some(i) => (&authority_and_path[..i], &authority_and_path[i + 1..]),
        None => (authority_and_path, ""),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if hostport.contains(',') {
        return Err(unsupported(
            "several hosts (failover or load balancing) are not supported; give one host"
                .to_owned(),
        ));
    }
    if hostport.starts_with("address=") || hostport.starts_with('(') {
        return Err(unsupported(
            "the 'address=(…)' host form is not supported; give host:port".to_owned(),
        ));
    }
    let (host, port) = split_host_port(hostport).map_err(invalid)?;
    let port = match port {
        Some(p) => p,
        None => default_port,
    };
    let (user, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((name, pw)) => (Some(percent_decode(name)), Some(percent_decode(pw))),
            None => (Some(percent_decode(u)), None),
        },
        None => (None, None),
    };
    let database = (!path.is_empty()).then(|| percent_decode(path));
    Ok(JdbcUrl {
        driver,
        location: Location::Server {
            host: if host.is_empty() {
                "localhost".to_owned()
            } else {
                host
            },
            port,
            database,
            user,
            password,
        },
        params,
    })
}

fn scheme_word(driver: Driver) -> &'static str {
    match driver {
        Driver::Postgres => "postgresql",
        Driver::MySql => "mysql",
        Driver::MariaDb => "mariadb",
        Driver::Sqlite => "sqlite",
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(s: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some((h, after)) = rest.split_once(']') else {
            return Err(format!("unclosed '[' in host '{s}'"));
        };
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(format!("unexpected '{after}' after host '[{h}]'")),
        };
        (h.to_owned(), port)
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (s.to_owned(), None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|&n| n != 0)
                .ok_or_else(|| format!("port '{p}' is not a number from 1 to 65535"))?,
        ),
    };
    Ok((host, port))
}

/// `jdbc:sqlite:` + `:memory:` / empty (in memory), or a file path (optionally `file:`-prefixed),
/// optionally followed by `?pragma=value&…` as the SQLite JDBC driver allows.
fn parse_sqlite(after: &str, home: Option<&Path>) -> JdbcUrl {
    let (path, query) = match after.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (after, None),
    };
    let params = query.map(parse_params).unwrap_or_default();
    let path = path.strip_prefix("file:").unwrap_or(path);
    let location = if path.is_empty() || path == ":memory:" {
        Location::SqliteMemory
    } else {
        let p = PathBuf::from(percent_decode(path));
        let p = match home {
            Some(home) if p.is_relative() => home.join(p),
            _ => p,
        };
        Location::SqliteFile(p)
    };
    JdbcUrl {
        driver: Driver::Sqlite,
        location,
        params,
    }
}

/// `a=1&b=2`; `&amp;` (an XML escape that survives in some deployment.toml files) separates too.
fn parse_params(query: &str) -> Vec<(String, String)> {
    query
        .replace("&amp;", "&")
        .split(['&', ';'])
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(kv), String::new()),
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The URL with the values of password-like properties (`?password=…`, `;password=…`) and any
/// `user:password@` (or Oracle's `user/password@`) password replaced by `****`, for messages
/// and logs.
pub fn redact(url: &str) -> String {
    let mut s = url.to_owned();
    if let Some(at) = s.find('@') {
        let before = &s[..at];
        let (start, sep) = match before.rfind("//") {
            Some(i) => (i + 2, ':'),
            None => (before.rfind(':').map_or(0, |i| i + 1), '/'),
        };
        if let Some(p) = before[start..].find(sep) {
            s.replace_range(start + p + 1..at, "****");
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    // Everything after the first `?` or `;` is key=value properties.
    if let Some(i) = rest.find(['?', ';']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        while !rest.is_empty() {
            let delim = &rest[..1];
            let body = &rest[1..];
            let end = body.find(['&', ';']).unwrap_or(body.len());
            let kv = &body[..end];
            out.push_str(delim);
            match kv.split_once('=') {
                Some((k, _)) if is_secret_key(k) => {
                    out.push_str(k);
                    out.push_str("=****");
                }
                _ => out.push_str(kv),
            }
            rest = &body[end..];
        }
    } else {
        out.push_str(rest);
    }
    out
}

fn is_secret_key(k: &str) -> bool {
    let k = k.trim_start_matches("amp;").to_ascii_lowercase();
    k.contains("password")
        || k == "pwd"
        || k == "pass"
        || k.ends_with("sslpassword")
        || k.contains("secret")
}

/// Checks `driverClassName` against the URL's database (an empty class is fine: the URL
/// decides, as `DriverManager` would).
pub fn check_driver_class(class: &str, url: &JdbcUrl, raw_url: &str) -> Result<(), DbError> {
    let class = class.trim();
    if class.is_empty() || url.driver.driver_classes().contains(&class) {
        return Ok(());
    }
    let expected = url.driver.driver_classes().join(" or ");
    let expected = match UNSUPPORTED_CLASSES
        .iter()
        .find(|(p, _)| class.starts_with(p))
    {
        Some((_, name)) => format!(
            "{expected} for this {} URL ({name} is not supported)",
            url.driver.product()
        ),
        None => format!("{expected} for this {} URL", url.driver.product()),
    };
    Err(DbError::DriverMismatch {
        driver: class.to_owned(),
        url: redact(raw_url),
        expected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(url: &str) -> (Driver, String, u16, Option<String>) {
        let u = parse(url, None).unwrap();
        match u.location {
            Location::Server {
                host,
                port,
                database,
                ..
            } => (u.driver, host, port, database),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn server_urls() {
        assert_eq!(
            server("jdbc:postgresql://db.example:6543/orders?ssl=true"),
            (
                Driver::Postgres,
                "db.example".into(),
                6543,
                Some("orders".into())
            )
        );
        assert_eq!(
            server("jdbc:postgresql:orders"),
            (
                Driver::Postgres,
                "localhost".into(),
                5432,
                Some("orders".into())
            )
        );
        assert_eq!(
            server("jdbc:postgresql://[::1]/x"),
            (Driver::Postgres, "::1".into(), 5432, Some("x".into()))
        );
        assert_eq!(
            server("jdbc:mysql://localhost/"),
            (Driver::MySql, "localhost".into(), 3306, None)
        );
        assert_eq!(
            server("JDBC:MariaDB://h:3307/d"),
            (Driver::MariaDb, "h".into(), 3307, Some("d".into()))
        );
        let u = parse(
            "jdbc:mysql://u%40x:p%3Aw@h/d?useSSL=false&amp;allowPublicKeyRetrieval=true",
            None,
        )
        .unwrap();
        assert_eq!(u.param("usessl"), Some("false"));
        assert_eq!(u.param("allowPublicKeyRetrieval"), Some("true"));
        match u.location {
            Location::Server { user, password, .. } => {
                assert_eq!(
                    (user.as_deref(), password.as_deref()),
                    (Some("u@x"), Some("p:w"))
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sqlite_urls_resolve_against_home() {
        let home = Path::new("/srv/mi");
        let u = parse("jdbc:sqlite:data/app.db?foreign_keys=true", Some(home)).unwrap();
        assert_eq!(
            u.location,
            Location::SqliteFile(PathBuf::from("/srv/mi/data/app.db"))
        );
        assert_eq!(u.param("foreign_keys"), Some("true"));
        assert_eq!(
            parse("jdbc:sqlite:/abs.db", Some(home)).unwrap().location,
            Location::SqliteFile(PathBuf::from("/abs.db"))
        );
        assert_eq!(
            parse("jdbc:sqlite::memory:", None).unwrap().location,
            Location::SqliteMemory
        );
        assert_eq!(
            parse("jdbc:sqlite:", None).unwrap().location,
            Location::SqliteMemory
        );
    }

    #[test]
    fn unsupported_databases_name_the_url_and_the_supported_schemes() {
        for (url, name) in [
            ("jdbc:oracle:thin:@localhost:1521:xe", "Oracle"),
            (
                "jdbc:sqlserver://h:1433;databaseName=x;password=secret",
                "SQL Server",
            ),
            ("jdbc:h2:../testdb_dblookup;AUTO_SERVER=TRUE", "H2"),
            ("jdbc:derby://localhost:1527/db", "Derby"),
            ("jdbc:db2://h:50000/x", "Db2"),
        ] {
            let e = parse(url, None).unwrap_err();
            let msg = e.to_string();
            assert!(matches!(e, DbError::UnsupportedUrl { .. }), "{url}: {e:?}");
            assert!(
                msg.contains(name)
                    && msg.contains("jdbc:postgresql:")
                    && msg.contains("jdbc:sqlite:"),
                "{msg}"
            );
            assert!(msg.contains(&url[..12]), "{msg}");
        }
        assert!(matches!(
            parse("jdbc:mysql:loadbalance://a,b/x", None),
            Err(DbError::UnsupportedUrl { .. })
        ));
        assert!(matches!(
            parse("jdbc:postgresql://a:1,b:2/x", None),
            Err(DbError::UnsupportedUrl { .. })
        ));
        assert!(matches!(
            parse("postgresql://h/x", None),
            Err(DbError::InvalidUrl { .. })
        ));
        assert!(matches!(
            parse("jdbc:mysql://h:99999/x", None),
            Err(DbError::InvalidUrl { .. })
        ));
        assert!(matches!(
            parse("jdbc:mysql://h:0/x", None),
            Err(DbError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("jdbc:mysql://root:hunter2@h/d?user=a&password=hunter2&x=1"),
            "jdbc:mysql://root:****@h/d?user=a&password=****&x=1"
        );
        assert_eq!(
            redact("jdbc:oracle:thin:scott/tiger@h:1521:xe"),
            "jdbc:oracle:thin:scott/****@h:1521:xe"
        );
        let e = parse(
            "jdbc:sqlserver://h:1433;databaseName=x;password=hunter2",
            None,
        )
        .unwrap_err();
        assert!(
            !e.to_string().contains("hunter2") && e.to_string().contains("password=****"),
            "{e}"
        );
    }

    #[test]
    fn driver_classes_must_accept_the_url() {
        let url = "jdbc:postgresql://h/d";
        let pg = parse(url, None).unwrap();
        assert!(check_driver_class("org.postgresql.Driver", &pg, url).is_ok());
        assert!(check_driver_class("", &pg, url).is_ok());
        let e = check_driver_class("com.mysql.jdbc.Driver", &pg, url).unwrap_err();
        assert!(e.to_string().contains("org.postgresql.Driver"), "{e}");
        let e = check_driver_class("org.h2.Driver", &pg, url).unwrap_err();
        assert!(e.to_string().contains("H2 is not supported"), "{e}");
        let my = parse("jdbc:mysql://h/d", None).unwrap();
        for class in [
            "com.mysql.jdbc.Driver",
            "com.mysql.cj.jdbc.Driver",
            "org.mariadb.jdbc.Driver",
        ] {
            assert!(
                check_driver_class(class, &my, "jdbc:mysql://h/d").is_ok(),
                "{class}"
            );
        }
        let maria = parse("jdbc:mariadb://h/d", None).unwrap();
        assert!(
            check_driver_class("com.mysql.cj.jdbc.Driver", &maria, "jdbc:mariadb://h/d").is_err()
        );
        let lite = parse("jdbc:sqlite:x.db", None).unwrap();
        assert!(check_driver_class("org.sqlite.JDBC", &lite, "jdbc:sqlite:x.db").is_ok());
    }
}
