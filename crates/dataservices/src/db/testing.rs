//! Real PostgreSQL and MariaDB servers for tests (feature `test-support`), so that
//! `cargo test` needs nothing started beforehand: when the Debian packages are installed, a test
//! binary initialises a private server in a fresh directory under the system temp dir, on a
//! free loopback port, with a `conflux` user (password `conflux`) and database, and removes it
//! when the binary exits. Initialising and starting one costs about half a second.
//!
//! [`shared`] gives every test in a binary the same server (or an external one named by
//! `CONFLUX_TEST_POSTGRES_URL` / `CONFLUX_TEST_MARIADB_URL`, as `scripts/ci/databases.sh`
//! prints them); [`DbServer::start`] gives a test a server of its own that it may stop and
//! restart. Without the binaries both return a [`Skip`] that says what to install.
//!
//! A shared server lives in a static that is never dropped, so each server is watched by a
//! small `sh` loop that stops it (by the PID in its pid file) and removes its directory once the
//! test process is gone. PostgreSQL refuses to run as root: as root, the server runs as the
//! `postgres` user the Debian package creates; MariaDB runs with `--user=root`.

use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::config::DataSourceConfig;

pub mod process;

pub use process::Skip;
use process::{Watchdog, free_port, in_path, open_log, private_dir, wait_ready};

/// How long a server may take to accept connections after it is started.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a stopping server may take to exit before it is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// The user, password and database every test server has.
pub const TEST_USER: &str = "conflux";
pub const TEST_PASSWORD: &str = "conflux";
pub const TEST_DATABASE: &str = "conflux";

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Postgres,
    MariaDb,
}

impl Kind {
    fn env_var(self) -> &'static str {
        match self {
            Kind::Postgres => "CONFLUX_TEST_POSTGRES_URL",
            Kind::MariaDb => "CONFLUX_TEST_MARIADB_URL",
        }
    }

    fn package(self) -> &'static str {
        match self {
            Kind::Postgres => "postgresql",
            Kind::MariaDb => "mariadb-server",
        }
    }
}

/// A database a test can connect to.
#[derive(Debug, Clone)]
pub struct TestDb {
    pub kind: Kind,
    /// The JDBC URL, with the user and password as URL properties.
    pub url: String,
}

impl TestDb {
    /// A data source configuration for this database with MI's pool defaults.
    pub fn config(&self) -> DataSourceConfig {
        DataSourceConfig::new(self.url.clone())
    }
}

/// The server shared by the tests of this process: the external one named by the kind's
/// environment variable, or a private one started on first use.
pub fn shared(kind: Kind) -> Result<TestDb, Skip> {
    static POSTGRES: OnceLock<Result<TestDb, Skip>> = OnceLock::new();
    static MARIADB: OnceLock<Result<TestDb, Skip>> = OnceLock::new();
    let cell = match kind {
        Kind::Postgres => &POSTGRES,
        Kind::MariaDb => &MARIADB,
    };
    cell.get_or_init(|| {
        if let Ok(url) = std::env::var(kind.env_var())
            && !url.is_empty()
        {
            return Ok(TestDb { kind, url });
        }
        // Never dropped: the watchdog stops it when the process exits.
        let server = DbServer::start(kind)?;
        let db = server.db();
        std::mem::forget(server);
        Ok(db)
    })
    .clone()
}

/// A private server: one test's own, which it may [`stop`](DbServer::stop) and
/// [`restart`](DbServer::restart). Dropping it stops it and removes its files.
pub struct DbServer {
    kind: Kind,
    dir: PathBuf,
    port: u16,
    binaries: Binaries,
    /// As root, the uid/gid PostgreSQL runs as.
    run_as: Option<(u32, u32)>,
    server: Option<Child>,
    watchdog: Option<Watchdog>,
    /// How long initialisation and the first start took.
    pub start_cost: Duration,
}

#[derive(Debug, Clone)]
enum Binaries {
    Postgres {
        bin: PathBuf,
    },
    MariaDb {
        server: PathBuf,
        install: PathBuf,
        client: PathBuf,
    },
}

impl DbServer {
    /// Initialises and starts a server with the `conflux` user and database.
    pub fn start(kind: Kind) -> Result<DbServer, Skip> {
        let began = Instant::now();
        let binaries = find_binaries(kind)?;
        let run_as = if kind == Kind::Postgres && is_root() {
            Some(postgres_ids().ok_or_else(|| {
                Skip(
                    "running as root, but there is no `postgres` user to run PostgreSQL as"
                        .to_owned(),
                )
            })?)
        } else {
            None
        };
        let dir = private_dir(match kind {
            Kind::Postgres => "pg",
            Kind::MariaDb => "mariadb",
        })?;
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| Skip::failed("chown", e))?;
        }
        let port = free_port()?;
        let mut server = DbServer {
            kind,
            dir,
            port,
            binaries,
            run_as,
            server: None,
            watchdog: None,
            start_cost: Duration::ZERO,
        };
        server.init()?;
        server.spawn()?;
        server.watch()?;
        server.create_user()?;
        server.start_cost = began.elapsed();
        Ok(server)
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database's JDBC URL and kind.
    pub fn db(&self) -> TestDb {
        let scheme = match self.kind {
            Kind::Postgres => "postgresql",
            Kind::MariaDb => "mariadb",
        };
        TestDb {
            kind: self.kind,
            url: format!(
                "jdbc:{scheme}://127.0.0.1:{}/{TEST_DATABASE}?user={TEST_USER}&password={TEST_PASSWORD}",
                self.port
            ),
        }
    }

    /// Stops the server (PostgreSQL's fast shutdown, MariaDB's normal one: open connections are
    /// cut) and waits for it to exit. Its data stays for [`restart`](DbServer::restart).
    pub fn stop(&mut self) {
        if let Some(child) = self.server.take() {
            let signal = match self.kind {
                Kind::Postgres => "-INT",
                Kind::MariaDb => "-TERM",
            };
            let pid = child.id();
            process::stop(child, pid, signal, STOP_TIMEOUT);
        }
    }

    /// Starts the stopped server again on the same port, and waits until it accepts connections.
    pub fn restart(&mut self) -> Result<(), Skip> {
        self.stop();
        self.spawn()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn pid_file(&self) -> PathBuf {
        match self.kind {
            Kind::Postgres => self.data_dir().join("postmaster.pid"),
            Kind::MariaDb => self.dir.join("mariadb.pid"),
        }
    }

    fn socket(&self) -> PathBuf {
        match self.kind {
            Kind::Postgres => self.dir.clone(),
            Kind::MariaDb => self.dir.join("mariadb.sock"),
        }
    }

    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        if let Some((uid, gid)) = self.run_as {
            c.uid(uid).gid(gid);
        }
        c.stdin(Stdio::null());
        c
    }

    fn init(&self) -> Result<(), Skip> {
        let log = self.dir.join("init.log");
        let mut cmd = match &self.binaries {
            Binaries::Postgres { bin } => {
                let mut c = self.command(&bin.join("initdb"));
                c.arg("-D").arg(self.data_dir()).args([
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                ]);
                c
            }
            Binaries::MariaDb { install, .. } => {
                let mut c = self.command(install);
                c.arg("--no-defaults")
                    .arg(format!("--datadir={}", self.data_dir().display()))
                    .args([
                        "--auth-root-authentication-method=normal",
                        "--skip-test-db",
                        "--skip-name-resolve",
                        "--innodb-log-file-size=4M",
                        "--innodb-data-file-path=ibdata1:4M:autoextend",
                    ]);
                if is_root() {
                    c.arg("--user=root");
                }
                c
            }
        };
        run_logged(&mut cmd, &log).map_err(|e| {
            Skip(format!(
                "initialising the {:?} server failed: {e}",
                self.kind
            ))
        })
    }

    fn spawn(&mut self) -> Result<(), Skip> {
        let (log, log2, _) = open_log(&self.log_file())?;
        let mut cmd = match &self.binaries {
            Binaries::Postgres { bin } => {
                let mut c = self.command(&bin.join("postgres"));
                c.arg("-D")
                    .arg(self.data_dir())
                    .arg("-p")
                    .arg(self.port.to_string())
                    .arg("-k")
                    .arg(self.socket());
                for setting in [
                    "listen_addresses=127.0.0.1",
                    "fsync=off",
                    "full_page_writes=off",
                    "synchronous_commit=off",
                    "max_connections=200",
                ] {
                    c.arg("-c").arg(setting);
                }
                c
            }
            Binaries::MariaDb { server, .. } => {
                let mut c = self.command(server);
                c.arg("--no-defaults")
                    .arg(format!("--datadir={}", self.data_dir().display()))
                    .arg(format!("--port={}", self.port))
                    .arg(format!("--socket={}", self.socket().display()))
                    .arg(format!("--pid-file={}", self.pid_file().display()))
                    .args([
                        "--bind-address=127.0.0.1",
                        "--skip-name-resolve",
                        "--skip-log-bin",
                        "--innodb-buffer-pool-size=16M",
                        "--innodb-log-file-size=4M",
                        "--max-connections=200",
                    ]);
                if is_root() {
                    c.arg("--user=root");
                }
                c
            }
        };
        let child = cmd
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| Skip(format!("starting the {:?} server failed: {e}", self.kind)))?;
        self.server = Some(child);
        self.wait_ready()
    }

    /// Waits until the port accepts TCP connections and the superuser can query (the server is
    /// up), or the server exits.
    fn wait_ready(&mut self) -> Result<(), Skip> {
        let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.port);
        let mut server = self.server.take();
        let what = format!("the {:?} server", self.kind);
        let ready = wait_ready(&what, &mut server, START_TIMEOUT, &self.log_file(), || {
            TcpStream::connect_timeout(&addr.into(), Duration::from_millis(200)).is_ok()
                && self.client_ok()
        });
        self.server = server;
        ready
    }

    fn log_file(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// Whether the server answers a query over its Unix socket as its superuser.
    fn client_ok(&self) -> bool {
        self.admin_sql("SELECT 1").is_ok()
    }

    fn admin_sql(&self, sql: &str) -> Result<(), String> {
        let mut c = match &self.binaries {
            Binaries::Postgres { bin } => {
                let mut c = Command::new(bin.join("psql"));
                c.arg("-h")
                    .arg(self.socket())
                    .arg("-p")
                    .arg(self.port.to_string())
                    .args([
                        "-U",
                        "postgres",
                        "-d",
                        "postgres",
                        "-v",
                        "ON_ERROR_STOP=1",
                        "-q",
                        "-c",
                        sql,
                    ]);
                c
            }
            Binaries::MariaDb { client, .. } => {
                let mut c = Command::new(client);
                c.arg("--no-defaults")
                    .arg(format!("--socket={}", self.socket().display()))
                    .args(["-u", "root", "-e", sql]);
                c
            }
        };
        let out = c.stdin(Stdio::null()).output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    fn create_user(&self) -> Result<(), Skip> {
        let statements: &[String] = match self.kind {
            Kind::Postgres => &[
                format!("CREATE ROLE {TEST_USER} LOGIN PASSWORD '{TEST_PASSWORD}'"),
                format!("CREATE DATABASE {TEST_DATABASE} OWNER {TEST_USER}"),
            ],
            Kind::MariaDb => &[
                format!("CREATE USER '{TEST_USER}'@'%' IDENTIFIED BY '{TEST_PASSWORD}'"),
                format!("CREATE DATABASE {TEST_DATABASE} CHARACTER SET utf8mb4"),
                format!("GRANT ALL ON {TEST_DATABASE}.* TO '{TEST_USER}'@'%'"),
            ],
        };
        for s in statements {
            self.admin_sql(s)
                .map_err(|e| Skip(format!("creating the test user failed: {e}")))?;
        }
        Ok(())
    }

    /// A watchdog that stops the server and removes its directory once this process is gone.
    fn watch(&mut self) -> Result<(), Skip> {
        let signal = match self.kind {
            Kind::Postgres => "INT",
            Kind::MariaDb => "TERM",
        };
        let cleanup = format!(
            "pid=$(head -n 1 '{pidfile}' 2>/dev/null); \
             [ -n \"$pid\" ] && kill -{signal} \"$pid\" 2>/dev/null; \
             while [ -n \"$pid\" ] && kill -0 \"$pid\" 2>/dev/null; do sleep 0.2; done; \
             rm -rf '{dir}'",
            pidfile = self.pid_file().display(),
            dir = self.dir.display(),
        );
        self.watchdog = Some(Watchdog::start(&cleanup)?);
        Ok(())
    }
}

impl Drop for DbServer {
    fn drop(&mut self) {
        self.stop();
        self.watchdog = None;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run_logged(cmd: &mut Command, log: &Path) -> Result<(), String> {
    let out = cmd.output().map_err(|e| e.to_string())?;
    let _ = std::fs::write(log, [out.stdout.as_slice(), out.stderr.as_slice()].concat());
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "{} ({})",
            out.status,
            stderr.lines().rev().take(3).collect::<Vec<_>>().join(" | ")
        ))
    }
}

fn is_root() -> bool {
    // The effective uid as the kernel reports it, without libc.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// The `postgres` user's uid and gid from /etc/passwd.
fn postgres_ids() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.starts_with("postgres:"))?;
    let mut f = line.split(':');
    let uid = f.nth(2)?.parse().ok()?;
    let gid = f.next()?.parse().ok()?;
    Some((uid, gid))
}

fn find_binaries(kind: Kind) -> Result<Binaries, Skip> {
    let missing = |what: &str| {
        Skip(format!(
            "{what} not found: install the Debian package `{}` (or set {} to a JDBC URL)",
            kind.package(),
            kind.env_var()
        ))
    };
    match kind {
        Kind::Postgres => {
            // Debian keeps initdb and postgres in /usr/lib/postgresql/<version>/bin.
            let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
                .collect();
            versions.sort();
            let bin = versions
                .into_iter()
                .rev()
                .map(|(_, b)| b)
                .find(|b| {
                    b.join("initdb").is_file()
                        && b.join("postgres").is_file()
                        && b.join("psql").is_file()
                })
                .or_else(|| {
                    let initdb = in_path("initdb")?;
                    let dir = std::fs::canonicalize(initdb).ok()?.parent()?.to_path_buf();
                    (dir.join("postgres").is_file() && dir.join("psql").is_file()).then_some(dir)
                })
                .ok_or_else(|| missing("PostgreSQL's initdb/postgres/psql"))?;
            Ok(Binaries::Postgres { bin })
        }
        Kind::MariaDb => {
            let server = in_path("mariadbd")
                .or_else(|| in_path("mysqld"))
                .ok_or_else(|| missing("mariadbd"))?;
            let install = in_path("mariadb-install-db")
                .or_else(|| in_path("mysql_install_db"))
                .ok_or_else(|| missing("mariadb-install-db"))?;
            let client = in_path("mariadb")
                .or_else(|| in_path("mysql"))
                .ok_or_else(|| missing("the mariadb client"))?;
            Ok(Binaries::MariaDb {
                server,
                install,
                client,
            })
        }
    }
}
