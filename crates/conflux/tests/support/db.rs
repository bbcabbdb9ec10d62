//! Databases for the data-service and DB-mediator end-to-end tests: setting a database up with
//! SQL statements before the binary starts ([`execute`], [`sqlite_in_home`]), waiting for a
//! service to answer as it should after a change ([`wait_for_get`]), and [`Backend`],
//! where a scenario's data lives: a SQLite file in the home, or PostgreSQL / MariaDB (a private
//! server of `conflux_dataservices::db::testing`, the test's own or the binary's shared one;
//! `None`, after printing why, when the Debian packages are missing).

use std::path::Path;
use std::time::Duration;

use conflux_dataservices::db::testing::{self, DbServer, Kind, TestDb};
use conflux_dataservices::db::{DataSource, DataSourceConfig};

use super::capp::wait_for;
use super::{Home, HttpResponse, get};

/// Runs `statements` in order on the database at `url` (a JDBC URL), panicking with the
/// statement that fails.
pub fn execute<S: AsRef<str>>(url: &str, statements: &[S]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let ds = DataSource::connect(DataSourceConfig::new(url.to_string()))
            .await
            .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
        for sql in statements {
            let sql = sql.as_ref();
            ds.update(sql, &[])
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        ds.close().await;
    });
}

/// Creates `<home>/db/<file>` as a SQLite database set up with `statements`; its JDBC URL.
pub fn sqlite_in_home<S: AsRef<str>>(home: &Path, file: &str, statements: &[S]) -> String {
    std::fs::create_dir_all(home.join("db")).expect("db dir");
    let url = format!("jdbc:sqlite:{}", home.join("db").join(file).display());
    execute(&url, statements);
    url
}

/// Polls `GET path` until `done` accepts the answer; after `timeout` the test fails showing the
/// last answer.
pub fn wait_for_get(
    timeout: Duration,
    port: u16,
    path: &str,
    done: impl Fn(&HttpResponse) -> bool,
) {
    wait_for(&format!("GET {path}"), timeout, || {
        let r = get(port, path);
        if done(&r) {
            Ok(())
        } else {
            Err(format!("{} {}", r.status, r.text()))
        }
    });
}

/// Where a scenario's data lives.
pub enum Backend {
    /// A file under the home's `db/`.
    Sqlite,
    /// A server of the test's own, which it may stop and restart.
    Own(DbServer),
    /// The server the tests of this binary share (create tables with `DROP TABLE IF EXISTS`).
    Shared(TestDb),
}

impl Backend {
    /// A private server of `kind` for this test alone.
    pub fn own(kind: Kind) -> Option<Backend> {
        skip_unless(DbServer::start(kind)).map(Backend::Own)
    }

    /// The server of `kind` shared by this binary's tests.
    pub fn shared(kind: Kind) -> Option<Backend> {
        skip_unless(testing::shared(kind)).map(Backend::Shared)
    }

    fn kind(&self) -> Option<Kind> {
        match self {
            Backend::Sqlite => None,
            Backend::Own(server) => Some(server.kind()),
            Backend::Shared(db) => Some(db.kind),
        }
    }

    /// The JDBC URL a service or mediator written in the home uses (SQLite: `db/<file>`
    /// relative to the home, or absolute when `relative` is false), and the absolute one the
    /// test sets the database up with.
    pub fn urls(&self, home: &Home, sqlite_file: &str, relative: bool) -> (String, String) {
        match self {
            Backend::Sqlite => {
                let absolute = format!(
                    "jdbc:sqlite:{}",
                    home.path().join("db").join(sqlite_file).display()
                );
                if relative {
                    (format!("jdbc:sqlite:db/{sqlite_file}"), absolute)
                } else {
                    (absolute.clone(), absolute)
                }
            }
            Backend::Own(server) => {
                let url = server.db().url;
                (url.clone(), url)
            }
            Backend::Shared(db) => (db.url.clone(), db.url.clone()),
        }
    }

    /// The JDBC driver class MI is configured with for this database.
    pub fn driver(&self) -> &'static str {
        match self.kind() {
            None => "org.sqlite.JDBC",
            Some(Kind::Postgres) => "org.postgresql.Driver",
            Some(Kind::MariaDb) => "org.mariadb.jdbc.Driver",
        }
    }

    /// The column type of a double on this database.
    pub fn double(&self) -> &'static str {
        match self.kind() {
            None => "REAL",
            Some(Kind::Postgres) => "DOUBLE PRECISION",
            Some(Kind::MariaDb) => "DOUBLE",
        }
    }

    /// The test's own server, to stop and restart.
    pub fn own_server(&mut self) -> Option<&mut DbServer> {
        match self {
            Backend::Own(server) => Some(server),
            Backend::Sqlite | Backend::Shared(_) => None,
        }
    }
}

fn skip_unless<T>(started: Result<T, testing::Skip>) -> Option<T> {
    started.map_err(|skip| eprintln!("skipped: {skip}")).ok()
}
