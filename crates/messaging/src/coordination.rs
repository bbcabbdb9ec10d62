//! Coordination across instances: each scheduled task and message processor runs on exactly one
//! live instance. MI turns its task coordination on when a `[[datasource]]` with id
//! `WSO2_COORDINATION_DB` exists (micro-integrator `ntask/core/internal/TasksDSComponent`
//! `isCoordinationDataSourceAvailable`); Conflux reads the same entry. MI elects through heartbeat
//! rows in that database; Conflux uses PostgreSQL's session advisory locks instead
//! (`pg_try_advisory_lock`), one per work item, held on one dedicated connection: PostgreSQL
//! releases them when that connection ends, so an instance that dies (even `kill -9`) frees its
//! work at once, and a standby takes it over at its next attempt, within
//! [`DEFAULT_TAKEOVER_INTERVAL`] (MI's `heartBeatInterval`, 5 s, when set as a system property or
//! environment variable). An instance that loses its connection stops running what it held before
//! it tries again, so two instances never run one item.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use conflux_config::Config;
use conflux_dataservices::db::url::{Driver, Location};
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio::task::JoinHandle;

use crate::tasks::Leadership;

/// The data source id that turns coordination on (MI's `RDBMSConstantUtils.COORDINATION_DB_NAME`).
pub const COORDINATION_DATASOURCE: &str = "WSO2_COORDINATION_DB";

/// How often a standby tries to take work over and a holder checks its connection: the bound on
/// takeover after the holder dies (MI's `heartBeatInterval` default, 5000 ms).
pub const DEFAULT_TAKEOVER_INTERVAL: Duration = Duration::from_millis(5000);

/// MI's property (system property or environment variable) for the heartbeat interval, in ms.
pub const HEARTBEAT_INTERVAL_PROPERTY: &str = "heartBeatInterval";

/// Why coordination cannot start; names the data source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoordinationError {
    #[error(
        "[[datasource]] id = \"{COORDINATION_DATASOURCE}\": {0}; coordination needs PostgreSQL (jdbc:postgresql://host:port/database)"
    )]
    Unsupported(String),
    #[error("[[datasource]] id = \"{COORDINATION_DATASOURCE}\": url {url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("{HEARTBEAT_INTERVAL_PROPERTY} = {0}: not a number of milliseconds from 100")]
    BadInterval(String),
}

/// Where the coordination database is, and how often to try.
#[derive(Clone)]
pub struct CoordinationSettings {
    pub options: PgConnectOptions,
    pub target: String,
    pub interval: Duration,
}

impl std::fmt::Debug for CoordinationSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoordinationSettings")
            .field("target", &self.target)
            .field("interval", &self.interval)
            .finish()
    }
}

impl CoordinationSettings {
    /// The settings `config` asks for: `None` when there is no `WSO2_COORDINATION_DB` data source
    /// (one instance runs everything, as MI without it).
    pub fn from_config(config: &Config) -> Result<Option<CoordinationSettings>, CoordinationError> {
        let Some(ds) = config
            .datasources
            .iter()
            .find(|d| d.id == COORDINATION_DATASOURCE)
        else {
            return Ok(None);
        };
        let url =
            conflux_dataservices::db::url::parse(&ds.url, Some(&config.home)).map_err(|e| {
                CoordinationError::BadUrl {
                    url: ds.url.clone(),
                    reason: e.to_string(),
                }
            })?;
        if url.driver != Driver::Postgres {
            return Err(CoordinationError::Unsupported(format!(
                "{} is not supported for coordination",
                url.driver.product()
            )));
        }
        let Location::Server {
            host,
            port,
            database,
            user,
            password,
        } = &url.location
        else {
            return Err(CoordinationError::Unsupported(
                "not a server URL".to_string(),
            ));
        };
        let mut options = PgConnectOptions::new_without_pgpass()
            .host(host)
            .port(*port)
            .application_name("conflux-coordination");
        if let Some(db) = database {
            options = options.database(db);
        }
        // The entry's username/password, else the URL's (`user:password@` or `?user=&password=`).
        let user = ds
            .username
            .as_deref()
            .or(user.as_deref())
            .or(url.param("user"));
        if let Some(user) = user {
            options = options.username(user);
        }
        let password = ds
            .password
            .as_deref()
            .or(password.as_deref())
            .or(url.param("password"));
        if let Some(password) = password {
            options = options.password(password);
        }
        let configured = config
            .properties
            .value(HEARTBEAT_INTERVAL_PROPERTY)
            .map(str::to_string)
            .or_else(|| std::env::var(HEARTBEAT_INTERVAL_PROPERTY).ok());
        let interval = match configured {
            None => DEFAULT_TAKEOVER_INTERVAL,
            Some(ms) => match ms.trim().parse::<u64>() {
                Ok(ms) if ms >= 100 => Duration::from_millis(ms),
                _ => return Err(CoordinationError::BadInterval(ms)),
            },
        };
        Ok(Some(CoordinationSettings {
            options,
            target: url.target(),
            interval,
        }))
    }
}

/// The set of work items this instance wants and the set it holds.
#[derive(Debug, Default)]
struct Claims {
    wanted: BTreeSet<String>,
    held: HashSet<String>,
}

/// The lock of one work item: PostgreSQL's own 64-bit text hash of a namespaced key, so every
/// instance computes the same number.
const LOCK_SQL: &str = "SELECT pg_try_advisory_lock(hashtextextended('conflux:' || $1, 0))";

/// Runs work only where this instance holds its lock ([`Leadership`] for tasks and processors).
pub struct Coordinator {
    claims: Arc<Mutex<Claims>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Coordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coordinator").finish_non_exhaustive()
    }
}

fn lock(claims: &Mutex<Claims>) -> MutexGuard<'_, Claims> {
    claims.lock().unwrap_or_else(|p| p.into_inner())
}

impl Coordinator {
    /// Starts the claiming loop on the current Tokio runtime.
    pub fn start(settings: CoordinationSettings) -> Coordinator {
        let claims = Arc::new(Mutex::new(Claims::default()));
        let task = tokio::spawn(claim_loop(settings, claims.clone()));
        Coordinator { claims, task }
    }

    /// The items this instance holds now, sorted (for logs and tests).
    pub fn held(&self) -> Vec<String> {
        let mut held: Vec<String> = lock(&self.claims).held.iter().cloned().collect();
        held.sort();
        held
    }
}

impl Drop for Coordinator {
    fn drop(&mut self) {
        // The connection goes with the task: PostgreSQL releases every lock it held.
        self.task.abort();
    }
}

impl Leadership for Coordinator {
    /// Whether this instance holds `item`; asking also makes the loop try to take it.
    fn may_run(&self, item: &str) -> bool {
        let mut claims = lock(&self.claims);
        if claims.held.contains(item) {
            return true;
        }
        claims.wanted.insert(item.to_string());
        false
    }
}

/// Connects, then every interval checks the connection and tries to lock what is wanted and not
/// held. On any error the connection is dropped and nothing is held until the next success.
async fn claim_loop(settings: CoordinationSettings, claims: Arc<Mutex<Claims>>) {
    let mut reported = false;
    loop {
        match PgConnection::connect_with(&settings.options).await {
            Ok(mut conn) => {
                tracing::info!(target: "conflux::coordination", "coordination: connected to {}; tasks and processors run where this instance holds their lock", settings.target);
                reported = false;
                if let Err(e) = claim_session(&mut conn, &settings, &claims).await {
                    tracing::warn!(target: "conflux::coordination", "coordination: lost {} ({e}); this instance runs no coordinated work until it is back", settings.target);
                }
            }
            Err(e) => {
                if !reported {
                    tracing::warn!(target: "conflux::coordination", "coordination: cannot reach {} ({e}); this instance runs no coordinated work until it can", settings.target);
                    reported = true;
                }
            }
        }
        lock(&claims).held.clear();
        tokio::time::sleep(settings.interval).await;
    }
}

async fn claim_session(
    conn: &mut PgConnection,
    settings: &CoordinationSettings,
    claims: &Mutex<Claims>,
) -> Result<(), sqlx::Error> {
    // A check that does not answer within the interval counts as a lost connection: stop running
    // rather than run on unverified (PostgreSQL keeps the locks until it sees the session end).
    let deadline = |e: tokio::time::error::Elapsed| {
        sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, e))
    };
    loop {
        tokio::time::timeout(
            settings.interval,
            sqlx::query("SELECT 1").execute(&mut *conn),
        )
        .await
        .map_err(deadline)??;
        let todo: Vec<String> = {
            let c = lock(claims);
            c.wanted
                .iter()
                .filter(|w| !c.held.contains(*w))
                .cloned()
                .collect()
        };
        for item in todo {
            let (got,): (bool,) = tokio::time::timeout(
                settings.interval,
                sqlx::query_as(LOCK_SQL).bind(&item).fetch_one(&mut *conn),
            )
            .await
            .map_err(deadline)??;
            if got {
                tracing::info!(target: "conflux::coordination", "coordination: this instance now runs {item}");
                lock(claims).held.insert(item);
            }
        }
        tokio::time::sleep(settings.interval).await;
    }
}
