//! The JDBC message store (SYN `message/store/impl/jdbc/JDBCMessageStore.java`): a FIFO queue in
//! one database table, on PostgreSQL, MySQL/MariaDB or SQLite through the data services'
//! [`DataSource`] (typed sqlx pools that fail fast while the database is down and reconnect by
//! themselves when it is back).
//!
//! The table has MI's shape (docs-mi "JDBC Message Store"; default name `jdbc_message_store`):
//! `indexId` (auto-increment key, the FIFO order and the [`StoredMessage::id`]), `msg_id` (the
//! message's `urn:uuid:` id) and `message` (a binary column). MI writes a Java-serialized
//! `StorableMessage` there, which Conflux cannot read or write: the `message` column holds
//! Conflux's own encoding ([`encode`]: a `CFLXMSG1` magic, the content type, the properties and
//! the payload), so a table is not shared between MI and Conflux. A row that is not in this
//! encoding stays in the table and makes `peek` fail with a message naming its `indexId`.
//! Unlike MI, which expects the table to exist, Conflux creates it (`CREATE TABLE IF NOT
//! EXISTS`, with MI's columns) on first use.
//!
//! Durability follows from the contract: `store` returns after the INSERT committed; `peek`
//! reads the row with the lowest `indexId` and leaves it; `remove` deletes it by `indexId` after
//! the processor handled it. A crash (`kill -9`) between the two leaves the row, so the message
//! is delivered again after a restart: delivered, or still in the store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use conflux_artifacts::message_store::{JDBC_STORE_CLASS, JdbcConnection, JdbcStoreSettings};
use conflux_config::datasource::DataSourceDef;
use conflux_dataservices::db::{DataSource, DataSourceConfig, DbError, Driver, Outcome, Value};
use conflux_dataservices::db::{Returns, Statement};
use conflux_mediation::messaging::{
    MessageStore, NewMessage, StoreError, StoreFuture, StoredMessage,
};
use tokio::sync::Notify;

/// The first bytes of every message Conflux writes into the `message` column.
pub const ENCODING_MAGIC: &[u8; 8] = b"CFLXMSG1";

/// Why a `message` column could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("it does not start with Conflux's marker (a message MI wrote is Java-serialized)")]
    NotConflux,
    #[error("it ends inside the {0}")]
    Truncated(&'static str),
    #[error("its {0} is not UTF-8")]
    NotUtf8(&'static str),
    #[error("{0} bytes follow the payload")]
    Trailing(usize),
}

/// A message as Conflux stores it in a binary column: [`ENCODING_MAGIC`], then the content type
/// (a flag byte, then length and text when present), the property count, each property's name
/// and value, and the payload. Lengths and counts are big-endian `u32`s.
pub fn encode(message: &NewMessage) -> Vec<u8> {
    fn field(out: &mut Vec<u8>, bytes: &[u8]) {
        // A field is at most one request body or header, far below 4 GiB.
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&bytes[..len as usize]);
    }
    let mut out = Vec::with_capacity(64 + message.payload.len());
    out.extend_from_slice(ENCODING_MAGIC);
    match &message.content_type {
        Some(ct) => {
            out.push(1);
            field(&mut out, ct.as_bytes());
        }
        None => out.push(0),
    }
    let count = u32::try_from(message.properties.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&count.to_be_bytes());
    for (name, value) in message.properties.iter().take(count as usize) {
        field(&mut out, name.as_bytes());
        field(&mut out, value.as_bytes());
    }
    field(&mut out, &message.payload);
    out
}

/// Reads back what [`encode`] wrote. Every length is checked against the bytes that are there,
/// so a damaged row cannot make it allocate more than the row holds.
pub fn decode(bytes: &[u8]) -> Result<NewMessage, DecodeError> {
    struct Reader<'a>(&'a [u8]);
    impl<'a> Reader<'a> {
        fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
            if self.0.len() < n {
                return Err(DecodeError::Truncated(what));
            }
            let (head, rest) = self.0.split_at(n);
            self.0 = rest;
            Ok(head)
        }
        fn u32(&mut self, what: &'static str) -> Result<usize, DecodeError> {
            let b = self.take(4, what)?;
            Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        }
        fn field(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
            let n = self.u32(what)?;
            self.take(n, what)
        }
        fn text(&mut self, what: &'static str) -> Result<String, DecodeError> {
            let b = self.field(what)?;
            String::from_utf8(b.to_vec()).map_err(|_| DecodeError::NotUtf8(what))
        }
    }
    let Some(rest) = bytes.strip_prefix(ENCODING_MAGIC.as_slice()) else {
        return Err(DecodeError::NotConflux);
    };
    let mut r = Reader(rest);
    let content_type = match r.take(1, "content type")?[0] {
        0 => None,
        _ => Some(r.text("content type")?),
    };
    let count = r.u32("property count")?;
    let mut properties = Vec::new();
    for _ in 0..count {
        let name = r.text("property name")?;
        let value = r.text("property value")?;
        properties.push((name, value));
    }
    let payload = Bytes::copy_from_slice(r.field("payload")?);
    if !r.0.is_empty() {
        return Err(DecodeError::Trailing(r.0.len()));
    }
    Ok(NewMessage {
        payload,
        content_type,
        properties,
    })
}

/// A `urn:uuid:` message id (what MI's `msg_id` column holds: the Axis2 message id).
fn message_id() -> String {
    use ring::rand::SecureRandom as _;
    let mut b = [0u8; 16];
    if ring::rand::SystemRandom::new().fill(&mut b).is_err() {
        // No system randomness: a time-based id is still unique enough for a label.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        b = now.to_be_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// MI's table, created when missing: `indexId` never reuses a value (SQLite needs
/// `AUTOINCREMENT` for that), so a stale id cannot remove a newer message.
fn create_table_sql(driver: Driver, table: &str) -> String {
    match driver {
        Driver::Postgres => format!(
            "CREATE TABLE IF NOT EXISTS {table} (indexId BIGSERIAL PRIMARY KEY, msg_id VARCHAR(200) NOT NULL, message BYTEA NOT NULL)"
        ),
        Driver::MySql | Driver::MariaDb => format!(
            "CREATE TABLE IF NOT EXISTS {table} (indexId BIGINT NOT NULL AUTO_INCREMENT, msg_id VARCHAR(200) NOT NULL, message LONGBLOB NOT NULL, PRIMARY KEY (indexId))"
        ),
        Driver::Sqlite => format!(
            "CREATE TABLE IF NOT EXISTS {table} (indexId INTEGER PRIMARY KEY AUTOINCREMENT, msg_id VARCHAR(200) NOT NULL, message BLOB NOT NULL)"
        ),
    }
}

/// What a JDBC store's `store.jdbc.dsName` and relative SQLite paths resolve against: the
/// server's `[[datasource]]` entries and its home.
#[derive(Debug, Clone, Default)]
pub struct JdbcEnv {
    pub home: Option<std::path::PathBuf>,
    pub datasources: Vec<DataSourceDef>,
}

impl JdbcEnv {
    /// The `[[datasource]]` named `name`, or `jdbc/<id>` (the JNDI name MI's template gives it).
    pub fn data_source(&self, name: &str) -> Option<&DataSourceDef> {
        self.datasources.iter().find(|d| d.id == name).or_else(|| {
            let id = name.strip_prefix("jdbc/")?;
            self.datasources.iter().find(|d| d.id == id)
        })
    }
}

/// Why a JDBC store could not be opened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JdbcOpenError {
    /// JDBCConfiguration.lookupDataSource: "Cannot find a DataSource".
    #[error(
        "store.jdbc.dsName '{name}' names no data source; defined: {known} ([[datasource]] id in deployment.toml) at {at}"
    )]
    UnknownDataSource {
        name: String,
        known: String,
        at: String,
    },
    /// The URL, driver class or pool properties are refused; with where they were written
    /// (empty when the caller knows better).
    #[error("{}", db_message(.0, .1))]
    Db(DbError, String),
}

fn db_message(e: &DbError, at: &str) -> String {
    if at.is_empty() {
        e.to_string()
    } else {
        format!("{e} at {at}")
    }
}

/// One deployed JDBC message store.
pub struct JdbcStore {
    name: String,
    table: String,
    ds: DataSource,
    /// Set once the table is known to exist (created or found).
    table_ready: AtomicBool,
    stored: Notify,
}

impl std::fmt::Debug for JdbcStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JdbcStore")
            .field("name", &self.name)
            .field("table", &self.table)
            .field("target", &self.ds.target())
            .finish_non_exhaustive()
    }
}

impl JdbcStore {
    /// Opens the store's pool without connecting (a database that is down makes `store` and
    /// `peek` fail, not the deployment). Must run inside a Tokio runtime.
    pub fn open(
        name: &str,
        settings: &JdbcStoreSettings,
        env: &JdbcEnv,
    ) -> Result<JdbcStore, JdbcOpenError> {
        let config = match &settings.connection {
            JdbcConnection::Url {
                url,
                driver,
                username,
                password,
            } => {
                let mut config = DataSourceConfig::new(url.clone());
                config.driver_class = Some(driver.clone());
                config.username = username.clone();
                config.password = password.clone();
                config.home = env.home.clone();
                config
            }
            JdbcConnection::DataSource { name: ds, span } => {
                let def = env.data_source(ds).ok_or_else(|| {
                    let known: Vec<&str> = env.datasources.iter().map(|d| d.id.as_str()).collect();
                    JdbcOpenError::UnknownDataSource {
                        name: ds.clone(),
                        known: if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        },
                        at: span.to_string(),
                    }
                })?;
                let props = def.properties();
                DataSourceConfig::from_properties(
                    props.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                    env.home.clone(),
                )
                .map_err(|e| JdbcOpenError::Db(e, def.origin.to_string()))?
                .0
            }
        };
        let at = match &settings.connection {
            JdbcConnection::DataSource { span, .. } => span.to_string(),
            JdbcConnection::Url { .. } => String::new(),
        };
        Ok(JdbcStore {
            name: name.to_string(),
            table: settings.table.clone(),
            ds: DataSource::lazy(config).map_err(|e| JdbcOpenError::Db(e, at))?,
            table_ready: AtomicBool::new(false),
            stored: Notify::new(),
        })
    }

    /// The database, for messages (`PostgreSQL at host:port/db`).
    pub fn target(&self) -> &str {
        self.ds.target()
    }

    fn unavailable(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Unavailable {
            store: self.name.clone(),
            reason: e.to_string(),
        }
    }

    async fn ensure_table(&self) -> Result<(), StoreError> {
        if self.table_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        let sql = create_table_sql(self.ds.driver(), &self.table);
        match self.ds.update(&sql, &[]).await {
            Ok(_) => {}
            // A user without CREATE rights on an existing table: the statements that follow
            // tell whether the table is there.
            Err(DbError::Sql { message, .. }) => {
                tracing::debug!(target: "conflux::messaging", "message store [{}]: creating table {}: {message}", self.name, self.table);
            }
            Err(e) => return Err(self.unavailable(e)),
        }
        self.table_ready.store(true, Ordering::Release);
        Ok(())
    }

    async fn insert(&self, message: NewMessage) -> Result<u64, StoreError> {
        self.ensure_table().await?;
        let stmt = Statement {
            sql: format!("INSERT INTO {} (msg_id, message) VALUES (?, ?)", self.table),
            params: vec![Value::Text(message_id()), Value::Bytes(encode(&message))],
            param_types: Vec::new(),
            returns: Returns::GeneratedKeys(vec!["indexId".to_string()]),
        };
        let outcome = self
            .ds
            .execute(&stmt)
            .await
            .map_err(|e| self.unavailable(e))?;
        self.stored.notify_one();
        let key = match outcome {
            Outcome::Updated {
                generated_keys: Some(rows),
                ..
            } => rows.rows.first().and_then(|row| row.get_index(0).cloned()),
            _ => None,
        };
        // The row is committed; an id the driver did not report is only a label.
        Ok(key.as_ref().and_then(as_u64).unwrap_or(0))
    }

    async fn head(&self) -> Result<Option<StoredMessage>, StoreError> {
        self.ensure_table().await?;
        let sql = format!(
            "SELECT indexId, message FROM {} ORDER BY indexId ASC LIMIT 1",
            self.table
        );
        let rows = self
            .ds
            .query(&sql, &[])
            .await
            .map_err(|e| self.unavailable(e))?;
        let Some(row) = rows.rows.first() else {
            return Ok(None);
        };
        let values = row.values();
        let id = values.first().and_then(as_u64).ok_or_else(|| {
            self.unavailable(format!("table {}: indexId is not a number", self.table))
        })?;
        let message = match values.get(1) {
            Some(Value::Bytes(b)) => decode(b),
            Some(Value::Text(t)) => decode(t.as_bytes()),
            _ => Err(DecodeError::NotConflux),
        }
        .map_err(|e| {
            self.unavailable(format!(
                "the message at indexId {id} of table {} cannot be read: {e}",
                self.table
            ))
        })?;
        Ok(Some(StoredMessage {
            id,
            payload: message.payload,
            content_type: message.content_type,
            properties: message.properties,
        }))
    }

    async fn delete(&self, id: u64) -> Result<bool, StoreError> {
        self.ensure_table().await?;
        let Ok(id) = i64::try_from(id) else {
            return Ok(false);
        };
        let sql = format!("DELETE FROM {} WHERE indexId = ?", self.table);
        let n = self
            .ds
            .update(&sql, &[Value::Int(id)])
            .await
            .map_err(|e| self.unavailable(e))?;
        Ok(n > 0)
    }

    async fn count(&self) -> Result<usize, StoreError> {
        self.ensure_table().await?;
        let sql = format!("SELECT COUNT(*) FROM {}", self.table);
        let rows = self
            .ds
            .query(&sql, &[])
            .await
            .map_err(|e| self.unavailable(e))?;
        Ok(rows
            .rows
            .first()
            .and_then(|r| r.get_index(0))
            .and_then(as_u64)
            .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX)))
    }
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Int(i) => u64::try_from(*i).ok(),
        Value::Decimal(s) | Value::Text(s) => s.parse().ok(),
        _ => None,
    }
}

impl MessageStore for JdbcStore {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &str {
        JDBC_STORE_CLASS
    }

    fn store(&self, message: NewMessage) -> StoreFuture<'_, u64> {
        Box::pin(self.insert(message))
    }

    fn peek(&self) -> StoreFuture<'_, Option<StoredMessage>> {
        Box::pin(self.head())
    }

    fn remove(&self, id: u64) -> StoreFuture<'_, bool> {
        Box::pin(self.delete(id))
    }

    fn size(&self) -> StoreFuture<'_, usize> {
        Box::pin(self.count())
    }

    fn stored(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(self.stored.notified())
    }
}

/// Opens `settings` as a store object.
pub fn open(
    name: &str,
    settings: &JdbcStoreSettings,
    env: &JdbcEnv,
) -> Result<Arc<dyn MessageStore>, JdbcOpenError> {
    Ok(Arc::new(JdbcStore::open(name, settings, env)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> NewMessage {
        NewMessage {
            payload: Bytes::from_static(b"<a>\x00\xff</a>"),
            content_type: Some("application/xml".into()),
            properties: vec![
                ("HTTP_METHOD".into(), "POST".into()),
                ("X-A".into(), "".into()),
            ],
        }
    }

    #[test]
    fn encoding_round_trips() {
        let m = message();
        assert_eq!(decode(&encode(&m)).unwrap(), m);
        let empty = NewMessage::default();
        assert_eq!(decode(&encode(&empty)).unwrap(), empty);
    }

    #[test]
    fn damaged_or_foreign_rows_are_refused_not_panicked_on() {
        // A Java-serialized object starts with 0xACED.
        assert_eq!(decode(&[0xac, 0xed, 0, 5]), Err(DecodeError::NotConflux));
        let bytes = encode(&message());
        for cut in ENCODING_MAGIC.len()..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(decode(&long), Err(DecodeError::Trailing(1)));
        // A property count far beyond the bytes present.
        let mut huge = ENCODING_MAGIC.to_vec();
        huge.push(0);
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(decode(&huge), Err(DecodeError::Truncated(_))));
    }

    #[test]
    fn message_ids_are_uuid_urns() {
        let a = message_id();
        assert_eq!(a.len(), "urn:uuid:".len() + 36, "{a}");
        assert!(a.starts_with("urn:uuid:"));
        assert_ne!(a, message_id());
    }

    #[tokio::test]
    async fn an_unsupported_database_is_an_open_error_at_the_url_parameter() {
        let xml = r#"<messageStore xmlns="http://ws.apache.org/ns/synapse" name="S" class="org.apache.synapse.message.store.impl.jdbc.JDBCMessageStore">
<parameter name="store.jdbc.driver">oracle.jdbc.OracleDriver</parameter>
<parameter name="store.jdbc.connection.url">jdbc:oracle:thin:@db:1521:xe</parameter></messageStore>"#;
        let definition =
            conflux_artifacts::message_store::parse_message_store("message-stores/S.xml", xml)
                .unwrap();
        let err = crate::stores::open(&definition).unwrap_err().to_string();
        assert!(
            err.starts_with("message store 'S': unsupported JDBC URL"),
            "{err}"
        );
        assert!(err.ends_with("at message-stores/S.xml:3:1"), "{err}");
    }

    #[tokio::test]
    async fn an_unknown_ds_name_names_what_is_defined_and_where() {
        let xml = r#"<messageStore xmlns="http://ws.apache.org/ns/synapse" name="S" class="org.apache.synapse.message.store.impl.jdbc.JDBCMessageStore">
<parameter name="store.jdbc.dsName">jdbc/Missing</parameter></messageStore>"#;
        let definition =
            conflux_artifacts::message_store::parse_message_store("message-stores/S.xml", xml)
                .unwrap();
        let err = crate::stores::open(&definition).unwrap_err().to_string();
        assert_eq!(
            err,
            "message store 'S': store.jdbc.dsName 'jdbc/Missing' names no data source; defined: none ([[datasource]] id in deployment.toml) at message-stores/S.xml:2:1"
        );
    }
}
