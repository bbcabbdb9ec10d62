//! The console's fleet view: this instance, the other instances running on this host, and the
//! `[console] peers` on other hosts, each with its summary.
//!
//! Discovery: every running instance writes `<runtime dir>/instances/<pid>.json` ([`InstanceInfo`]:
//! management URL, offset, home, pid, the SHA-256 fingerprint of its TLS certificate and a random
//! read-only fleet token) and removes it at shutdown. The runtime directory is
//! `$XDG_RUNTIME_DIR/conflux`, or `/tmp/conflux-<uid>`; it is created with mode 0700 and refused
//! when another user owns it or others may write it; instance files are 0600. Files of processes
//! that no longer run are removed when found.
//!
//! A discovered instance's summary is fetched with its fleet token (`X-Conflux-Fleet-Token`, which
//! opens `/console/api/summary` and nothing else), over TLS that accepts exactly the certificate
//! whose fingerprint its file names (instances on one host usually have distinct self-signed
//! certificates). A configured peer is fetched with the fleet's shared `[console] fleet_token`
//! when set, else with the caller's own `Authorization` header (which only an instance sharing the
//! token signing key accepts), trusting what the backend client trusts (`[truststore]` and this
//! server's own certificate).
//! Every fetch is bounded by [`PEER_TIMEOUT`] and [`MAX_PEER_SUMMARY_BYTES`].

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conflux_transport::body::ProxyBody;
use conflux_transport::client::{BackendClient, ClientOptions};
use http::{HeaderName, HeaderValue, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Limited};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use serde_json::{Value, json};

use super::api::FLEET_TOKEN_HEADER;

/// The folder under the runtime directory that holds one file per running instance.
pub const INSTANCES_DIR: &str = "instances";

/// How long fetching one instance's summary may take, connecting included.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(3);

/// Largest instance file read (they are a few hundred bytes).
pub const MAX_INSTANCE_FILE_BYTES: u64 = 16 * 1024;

/// Largest summary read from another instance.
pub const MAX_PEER_SUMMARY_BYTES: usize = 256 * 1024;

/// Most instance files looked at in one discovery.
pub const MAX_DISCOVERED: usize = 64;

/// Bytes of randomness in a fleet token.
const TOKEN_BYTES: usize = 32;

/// What one instance writes about itself for the others on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceInfo {
    pub pid: u32,
    /// Base URL of its Management API listener (`https://127.0.0.1:9164`).
    pub url: String,
    pub offset: i32,
    pub home: String,
    pub version: String,
    /// The read-only fleet token that opens its `/console/api/summary`.
    pub token: String,
    /// Lower-case hex SHA-256 of its TLS certificate (DER), when it serves HTTPS.
    pub fingerprint: Option<String>,
    /// When the process started, in clock ticks since boot (`/proc/<pid>/stat`), so that a file
    /// left by a killed instance is not taken for a later process given the same id.
    pub start_ticks: Option<u64>,
}

impl InstanceInfo {
    pub fn to_json(&self) -> Value {
        json!({
            "pid": self.pid,
            "url": self.url,
            "offset": self.offset,
            "home": self.home,
            "version": self.version,
            "token": self.token,
            "fingerprint": self.fingerprint,
            "start_ticks": self.start_ticks,
        })
    }

    pub fn from_json(v: &Value) -> Option<Self> {
        let text = |k: &str| v.get(k)?.as_str().map(str::to_string);
        Some(InstanceInfo {
            pid: u32::try_from(v.get("pid")?.as_u64()?).ok()?,
            url: text("url")?,
            offset: i32::try_from(v.get("offset")?.as_i64()?).ok()?,
            home: text("home").unwrap_or_default(),
            version: text("version").unwrap_or_default(),
            token: text("token")?,
            fingerprint: text("fingerprint"),
            start_ticks: v.get("start_ticks").and_then(Value::as_u64),
        })
    }
}

/// Cannot take part in discovery.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("cannot create the runtime directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the runtime directory {path} {problem}: instance discovery is off (remove it, or set XDG_RUNTIME_DIR to a private directory)"
    )]
    UnsafeDir { path: PathBuf, problem: String },
    #[error("cannot write the instance file {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the system random generator failed: no fleet token")]
    Random,
    #[error(
        "no runtime directory: XDG_RUNTIME_DIR is not set and this process's user id is unknown"
    )]
    NoRuntimeDir,
}

/// `$XDG_RUNTIME_DIR/conflux` when that is set to an absolute path, else `/tmp/conflux-<uid>`.
pub fn runtime_dir() -> Result<PathBuf, FleetError> {
    if let Some(xdg) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from)
        && xdg.is_absolute()
    {
        return Ok(xdg.join("conflux"));
    }
    let uid = own_uid().ok_or(FleetError::NoRuntimeDir)?;
    Ok(PathBuf::from(format!("/tmp/conflux-{uid}")))
}

/// This process's user id (Linux `/proc`; the crate allows no `unsafe` for `getuid`).
fn own_uid() -> Option<u32> {
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// Creates `dir` and `dir/instances` (mode 0700) and checks both are directories this user owns
/// that nobody else may write; answers the instances folder.
pub fn prepare_dir(dir: &Path) -> Result<PathBuf, FleetError> {
    let instances = dir.join(INSTANCES_DIR);
    for d in [dir, instances.as_path()] {
        match std::fs::DirBuilder::new().mode(0o700).create(d) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(source) => {
                return Err(FleetError::CreateDir {
                    path: d.to_path_buf(),
                    source,
                });
            }
        }
        check_private(d)?;
    }
    Ok(instances)
}

fn check_private(dir: &Path) -> Result<(), FleetError> {
    let unsafe_dir = |problem: &str| FleetError::UnsafeDir {
        path: dir.to_path_buf(),
        problem: problem.to_string(),
    };
    let meta = std::fs::symlink_metadata(dir).map_err(|source| FleetError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(unsafe_dir("is not a directory (or is a symbolic link)"));
    }
    if own_uid().is_some_and(|uid| uid != meta.uid()) {
        return Err(unsafe_dir(&format!(
            "belongs to user id {}, not to this user",
            meta.uid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        // Ours: make it private again.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|_| unsafe_dir("may be read or written by other users"))?;
    }
    Ok(())
}

/// A fresh random fleet token (hex).
pub fn new_token() -> Result<String, FleetError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; TOKEN_BYTES];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| FleetError::Random)?;
    Ok(hex(&bytes))
}

/// Lower-case hex SHA-256 of a certificate's DER bytes.
pub fn fingerprint(der: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// This instance's file in the instances folder; removed by [`Registration::remove`] or on drop.
#[derive(Debug)]
pub struct Registration {
    path: PathBuf,
}

impl Registration {
    /// Writes `info` to `instances/<pid>.json` (mode 0600, written aside then renamed).
    pub fn write(instances: &Path, info: &InstanceInfo) -> Result<Self, FleetError> {
        let path = instances.join(format!("{}.json", info.pid));
        let aside = instances.join(format!(".{}.json.tmp", info.pid));
        let fail = |source| FleetError::Write {
            path: path.clone(),
            source,
        };
        let _ = std::fs::remove_file(&aside);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&aside)
            .map_err(fail)?;
        file.write_all(info.to_json().to_string().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(fail)?;
        std::fs::rename(&aside, &path).map_err(fail)?;
        Ok(Registration { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the file now.
    pub fn remove(self) {}
}

impl Drop for Registration {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Most entries of the instances folder one clean-up looks at.
pub const MAX_CLEANUP_ENTRIES: usize = 10_000;

/// The process id an instance file is named after (`<pid>.json`).
fn pid_of(path: &Path) -> Option<u32> {
    path.file_name()?
        .to_str()?
        .strip_suffix(".json")?
        .parse::<u32>()
        .ok()
}

/// Removes the files of processes that no longer run (an instance killed without its shutdown,
/// e.g. `kill -9`); answers how many.
pub fn remove_stale(instances: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(instances) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten().take(MAX_CLEANUP_ENTRIES) {
        let path = entry.path();
        if let Some(pid) = pid_of(&path)
            && !is_running(pid)
            && std::fs::remove_file(&path).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// When process `pid` started, in clock ticks since boot (field 22 of Linux `/proc/<pid>/stat`).
pub fn process_start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after the last ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the instance of this file still runs: its process exists and, when the file says when
/// it started, is that same process.
fn still_runs(pid: u32, start_ticks: Option<u64>) -> bool {
    is_running(pid)
        && match (start_ticks, process_start_ticks(pid)) {
            (Some(recorded), Some(now)) => recorded == now,
            _ => true,
        }
}

/// Whether process `pid` runs (Linux `/proc`; elsewhere every process is taken as running).
fn is_running(pid: u32) -> bool {
    let proc_dir = Path::new("/proc");
    !proc_dir.join("self").exists() || proc_dir.join(pid.to_string()).exists()
}

/// The other instances' files in `instances`, sorted by offset; files of processes that no
/// longer run are removed, unreadable or foreign files skipped.
pub fn discover(instances: &Path, own_pid: u32) -> Vec<InstanceInfo> {
    let Ok(entries) = std::fs::read_dir(instances) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten().take(MAX_DISCOVERED * 4) {
        let path = entry.path();
        let Some(pid) = pid_of(&path) else {
            continue;
        };
        if pid == own_pid {
            continue;
        }
        if !is_running(pid) {
            tracing::debug!(target: "conflux::console", "removing the instance file of stopped process {pid}: {}", path.display());
            let _ = std::fs::remove_file(&path);
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let foreign = own_uid().is_some_and(|uid| uid != meta.uid());
        if !meta.is_file() || foreign || meta.len() > MAX_INSTANCE_FILE_BYTES {
            continue;
        }
        let info = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .and_then(|v| InstanceInfo::from_json(&v))
            .filter(|i| i.pid == pid);
        match info {
            Some(info) if !still_runs(pid, info.start_ticks) => {
                tracing::debug!(target: "conflux::console", "removing the instance file of stopped process {pid} (its id now names another process): {}", path.display());
                let _ = std::fs::remove_file(&path);
            }
            Some(info) => found.push(info),
            None => {}
        }
        if found.len() >= MAX_DISCOVERED {
            break;
        }
    }
    found.sort_by(|a, b| a.offset.cmp(&b.offset).then(a.pid.cmp(&b.pid)));
    found
}

/// The instances `/console/api/fleet` lists.
pub struct Fleet {
    own: InstanceInfo,
    /// Where instances register; `None`: discovery is off.
    runtime_dir: Option<PathBuf>,
    /// `runtime_dir/instances`, once this instance registered there.
    instances_dir: Mutex<Option<PathBuf>>,
    registration: Mutex<Option<Registration>>,
    peers: Vec<String>,
    /// `[console] fleet_token`: presented to configured peers instead of the caller's token.
    peer_token: Option<String>,
    /// For configured peers (and discovered instances whose file names no fingerprint).
    client: BackendClient,
    /// One client per pinned certificate fingerprint.
    pinned: Mutex<HashMap<String, BackendClient>>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("url", &self.own.url)
            .field("runtime_dir", &self.runtime_dir)
            .field("peers", &self.peers)
            .finish_non_exhaustive()
    }
}

impl Fleet {
    /// This instance (`own`) with `[console] peers`, fetched trusting what `tls` trusts; no
    /// discovery unless [`Fleet::with_runtime_dir`].
    pub fn new(own: InstanceInfo, tls: Arc<rustls::ClientConfig>, peers: Vec<String>) -> Self {
        Fleet {
            own,
            runtime_dir: None,
            instances_dir: Mutex::new(None),
            registration: Mutex::new(None),
            peers,
            peer_token: None,
            client: BackendClient::new(tls, client_options()),
            pinned: Mutex::new(HashMap::new()),
        }
    }

    /// Discovers the instances registered in `runtime_dir` ([`runtime_dir`]), once
    /// [`Fleet::register`] has registered this one there.
    pub fn with_runtime_dir(mut self, runtime_dir: PathBuf) -> Self {
        self.runtime_dir = Some(runtime_dir);
        self
    }

    /// Presents `token` (the fleet's shared `[console] fleet_token`) to the configured peers
    /// rather than forwarding the caller's `Authorization` (which another instance, signing its own
    /// tokens, refuses).
    pub fn with_peer_token(mut self, token: Option<String>) -> Self {
        self.peer_token = token;
        self
    }

    /// Writes this instance's file (call once its listeners serve); without a runtime directory,
    /// nothing.
    pub fn register(&self) -> Result<(), FleetError> {
        let Some(dir) = &self.runtime_dir else {
            return Ok(());
        };
        let instances = prepare_dir(dir)?;
        let stale = remove_stale(&instances);
        if stale > 0 {
            tracing::debug!(target: "conflux::console", "removed {stale} instance files of stopped processes from {}", instances.display());
        }
        let registration = Registration::write(&instances, &self.own)?;
        if let Ok(mut r) = self.registration.lock() {
            *r = Some(registration);
        }
        if let Ok(mut d) = self.instances_dir.lock() {
            *d = Some(instances);
        }
        Ok(())
    }

    /// This instance as its file describes it.
    pub fn own(&self) -> &InstanceInfo {
        &self.own
    }

    /// This instance's registration file, while registered.
    pub fn registration_path(&self) -> Option<PathBuf> {
        self.registration
            .lock()
            .ok()?
            .as_ref()
            .map(|r| r.path().to_path_buf())
    }

    /// Whether `token` is this instance's fleet token (compared in constant time).
    pub fn token_matches(&self, token: &str) -> bool {
        use subtle::ConstantTimeEq;
        !self.own.token.is_empty() && bool::from(token.as_bytes().ct_eq(self.own.token.as_bytes()))
    }

    /// Removes this instance's file (at shutdown).
    pub fn shutdown(&self) {
        if let Ok(mut r) = self.registration.lock()
            && let Some(r) = r.take()
        {
            r.remove();
        }
    }

    /// This instance (with `own_summary`), then the discovered instances, then the configured
    /// peers not discovered, each with its summary or the error that kept it.
    pub async fn instances(&self, own_summary: Value, bearer: Option<&str>) -> Vec<Value> {
        let mut out = vec![json!({
            "self": true,
            "url": self.own.url,
            "source": "self",
            "reachable": true,
            "error": Value::Null,
            "summary": own_summary,
        })];
        let instances_dir = self.instances_dir.lock().ok().and_then(|d| d.clone());
        let discovered = match instances_dir {
            Some(dir) => discover(&dir, self.own.pid),
            None => Vec::new(),
        };
        let mut fetches = Vec::new();
        for info in &discovered {
            let client = match &info.fingerprint {
                Some(fp) => self.pinned_client(fp),
                None => Some(self.client.clone()),
            };
            let token = info.token.clone();
            let url = info.url.clone();
            fetches.push(Box::pin(async move {
                let result = match client {
                    Some(c) => fetch_summary(&c, &url, FLEET_TOKEN_HEADER, &token).await,
                    None => Err(Fetch::Unreachable(
                        "cannot build a TLS client for its certificate".into(),
                    )),
                };
                (url, "discovered", result)
            })
                as std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>);
        }
        for peer in &self.peers {
            if peer == &self.own.url || discovered.iter().any(|d| &d.url == peer) {
                continue;
            }
            let client = self.client.clone();
            let peer = peer.clone();
            let credentials = match (&self.peer_token, bearer) {
                (Some(token), _) => Some((FLEET_TOKEN_HEADER, token.clone())),
                (None, Some(b)) => Some(("authorization", b.to_string())),
                (None, None) => None,
            };
            fetches.push(Box::pin(async move {
                let result = match credentials {
                    Some((header, value)) => fetch_summary(&client, &peer, header, &value).await,
                    None => Err(Fetch::Refused("no Authorization to forward".into())),
                };
                (peer, "configured", result)
            }));
        }
        for (url, source, result) in futures_util::future::join_all(fetches).await {
            let (reachable, error, summary) = match result {
                Ok(summary) => (true, Value::Null, summary),
                Err(Fetch::Refused(e)) => (true, Value::String(e), Value::Null),
                Err(Fetch::Unreachable(e)) => (false, Value::String(e), Value::Null),
            };
            out.push(json!({
                "self": false,
                "url": url,
                "source": source,
                "reachable": reachable,
                "error": error,
                "summary": summary,
            }));
        }
        out
    }

    fn pinned_client(&self, fingerprint: &str) -> Option<BackendClient> {
        let mut cache = self.pinned.lock().ok()?;
        if let Some(c) = cache.get(fingerprint) {
            return Some(c.clone());
        }
        let config = pinned_tls(fingerprint)?;
        let client = BackendClient::new(config, client_options());
        // Instances come and go: keep the cache bounded.
        if cache.len() >= MAX_DISCOVERED {
            cache.clear();
        }
        cache.insert(fingerprint.to_string(), client.clone());
        Some(client)
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn client_options() -> ClientOptions {
    ClientOptions {
        connect_timeout: PEER_TIMEOUT,
        ..ClientOptions::default()
    }
}

/// Why an instance's summary is missing.
#[derive(Debug)]
enum Fetch {
    /// It answered, but not with a summary (401, 404, bad JSON).
    Refused(String),
    /// No answer: connection, TLS or timeout.
    Unreachable(String),
}

async fn fetch_summary(
    client: &BackendClient,
    base: &str,
    header: &'static str,
    value: &str,
) -> Result<Value, Fetch> {
    let target: Uri = format!("{}/console/api/summary", base.trim_end_matches('/'))
        .parse()
        .map_err(|e| Fetch::Refused(format!("bad URL {base:?}: {e}")))?;
    let mut req = Request::new(ProxyBody::Empty);
    *req.uri_mut() = target.clone();
    let value = HeaderValue::from_str(value)
        .map_err(|_| Fetch::Refused("the credentials are not a valid header".into()))?;
    req.headers_mut()
        .insert(HeaderName::from_static(header), value);
    let exchange = async {
        let response = client
            .forward(req, &target, Some(PEER_TIMEOUT))
            .await
            .map_err(|e| Fetch::Unreachable(e.to_string()))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_PEER_SUMMARY_BYTES)
            .collect()
            .await
            .map_err(|e| Fetch::Unreachable(format!("reading its answer: {e}")))?
            .to_bytes();
        Ok::<_, Fetch>((status, body))
    };
    let (status, body) = tokio::time::timeout(PEER_TIMEOUT, exchange)
        .await
        .map_err(|_| {
            Fetch::Unreachable(format!("no answer within {} s", PEER_TIMEOUT.as_secs()))
        })??;
    match status {
        StatusCode::OK => serde_json::from_slice(&body)
            .map_err(|e| Fetch::Refused(format!("its summary is not JSON: {e}"))),
        StatusCode::UNAUTHORIZED if header == FLEET_TOKEN_HEADER => Err(Fetch::Refused(
            "401 Unauthorized: it does not accept this fleet token (set the same [console] fleet_token on every instance)"
                .into(),
        )),
        StatusCode::UNAUTHORIZED => Err(Fetch::Refused(
            "401 Unauthorized: it does not accept this login (set the same [console] fleet_token on every instance of the fleet)"
                .into(),
        )),
        other => Err(Fetch::Refused(format!(
            "it answered {other} to /console/api/summary"
        ))),
    }
}

/// TLS that accepts only the certificate with this SHA-256 `fingerprint` (hex), with the
/// handshake signatures verified as usual; the name in it is not checked (instances on one host
/// are reached at 127.0.0.1 with certificates made for their hostname).
pub fn pinned_tls(fingerprint: &str) -> Option<Arc<rustls::ClientConfig>> {
    let expected = decode_hex(fingerprint).filter(|b| b.len() == 32)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = PinnedCertificate {
        expected,
        provider: provider.clone(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Some(Arc::new(config))
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[derive(Debug)]
struct PinnedCertificate {
    expected: Vec<u8>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use subtle::ConstantTimeEq;
        let digest = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
        if bool::from(digest.as_ref().ct_eq(&self.expected)) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(pid: u32, offset: i32) -> InstanceInfo {
        InstanceInfo {
            pid,
            url: format!("https://127.0.0.1:{}", 9154 + offset),
            offset,
            home: "/h".into(),
            version: "1.0".into(),
            token: new_token().unwrap(),
            fingerprint: Some(fingerprint(b"cert")),
            start_ticks: process_start_ticks(pid),
        }
    }

    #[test]
    fn instance_files_round_trip_with_private_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let runtime = tmp.path().join("conflux");
        let instances = prepare_dir(&runtime).unwrap();
        assert_eq!(std::fs::metadata(&runtime).unwrap().mode() & 0o777, 0o700);
        assert_eq!(std::fs::metadata(&instances).unwrap().mode() & 0o777, 0o700);
        let me = info(std::process::id(), 10);
        let reg = Registration::write(&instances, &me).unwrap();
        assert_eq!(std::fs::metadata(reg.path()).unwrap().mode() & 0o777, 0o600);
        // Our own file is not listed; another running process's file is. PID 1 always runs.
        assert!(discover(&instances, me.pid).is_empty());
        let other = info(1, 20);
        let other_reg = Registration::write(&instances, &other).unwrap();
        assert_eq!(discover(&instances, me.pid), vec![other.clone()]);
        let path = reg.path().to_path_buf();
        reg.remove();
        assert!(!path.exists());
        drop(other_reg);
        assert!(discover(&instances, me.pid).is_empty());
    }

    #[test]
    fn stale_files_are_removed_and_junk_is_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let instances = prepare_dir(&tmp.path().join("c")).unwrap();
        // A PID above the kernel's pid_max (4194304) never runs.
        let dead = info(4_194_305, 30);
        let stale = Registration::write(&instances, &dead).unwrap();
        let stale_path = stale.path().to_path_buf();
        std::mem::forget(stale);
        std::fs::write(instances.join("1.json"), "not json").unwrap();
        std::fs::write(instances.join("notes.txt"), "x").unwrap();
        // PID in the file differs from the name: skipped.
        let mut liar = info(1, 40);
        liar.pid = 2;
        std::fs::write(instances.join("1.json"), liar.to_json().to_string()).unwrap();
        assert!(discover(&instances, std::process::id()).is_empty());
        assert!(!stale_path.exists(), "the stale file is removed");
        let another = Registration::write(&instances, &info(4_194_306, 31)).unwrap();
        let another_path = another.path().to_path_buf();
        std::mem::forget(another);
        assert_eq!(remove_stale(&instances), 1);
        assert!(!another_path.exists());
        assert!(
            instances.join("1.json").exists(),
            "a running process's file stays"
        );
        // PID 1 runs, but not since the time this file says: a reused id, removed.
        let mut reused = info(1, 60);
        reused.start_ticks = process_start_ticks(1).map(|t| t + 1);
        let reused = Registration::write(&instances, &reused).unwrap();
        let reused_path = reused.path().to_path_buf();
        std::mem::forget(reused);
        assert!(discover(&instances, std::process::id()).is_empty());
        assert!(!reused_path.exists());
        // Over the size limit: skipped.
        let mut big = info(1, 50).to_json();
        big["home"] = Value::String("x".repeat(MAX_INSTANCE_FILE_BYTES as usize));
        std::fs::write(instances.join("1.json"), big.to_string()).unwrap();
        assert!(discover(&instances, std::process::id()).is_empty());
    }

    #[test]
    fn a_runtime_dir_others_may_write_is_made_private_and_a_file_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("open");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        prepare_dir(&dir).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        let file = tmp.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert!(matches!(
            prepare_dir(&file),
            Err(FleetError::UnsafeDir { .. }) | Err(FleetError::CreateDir { .. })
        ));
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert!(matches!(
            prepare_dir(&link),
            Err(FleetError::UnsafeDir { .. })
        ));
    }

    #[test]
    fn tokens_are_random_and_compared_exactly() {
        let a = new_token().unwrap();
        assert_eq!(a.len(), TOKEN_BYTES * 2);
        assert_ne!(a, new_token().unwrap());
        let tls = conflux_transport::tls::client_config(None).unwrap();
        let mut me = info(std::process::id(), 0);
        me.token = a.clone();
        let fleet = Fleet::new(me, tls, Vec::new());
        assert!(fleet.token_matches(&a));
        assert!(!fleet.token_matches(&a[1..]));
        assert!(!fleet.token_matches(""));
    }

    #[test]
    fn instance_json_round_trips() {
        let i = info(7, -3);
        assert_eq!(InstanceInfo::from_json(&i.to_json()), Some(i.clone()));
        let mut v = i.to_json();
        v["pid"] = json!(-1);
        assert_eq!(InstanceInfo::from_json(&v), None);
        assert_eq!(decode_hex("0aff"), Some(vec![10, 255]));
        assert_eq!(decode_hex("0af"), None);
        assert!(pinned_tls("00").is_none());
        assert!(pinned_tls(&fingerprint(b"x")).is_some());
    }
}
