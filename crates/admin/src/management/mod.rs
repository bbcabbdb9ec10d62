//! MI's Management API under `/management`: JWT login with Basic credentials, Bearer tokens on
//! every other call, and read (and some write) access to what the server runs, with MI's paths,
//! query parameters, JSON field names and status codes (wso2/micro-integrator
//! `components/org.wso2.micro.integrator.extensions/org.wso2.micro.integrator.management.apis/`,
//! `ManagementInternalApi.java` for the resource list, `AuthenticationHandlerAdapter.java` and
//! `JWTTokenSecurityHandler.java` for auth, `Utils.java` for the `{"Error": ..}` object).
//!
//! Order of a request, as MI's `InternalAPIDispatcher`: CORS headers (and an `OPTIONS` preflight
//! answered without auth) -> the root `/management` without auth -> `/login` (Basic) or a Bearer
//! token (401, no body, when missing or bad) -> admin-only prefixes (403, no body) -> admin-only
//! writes (uploading or deleting a carbon application, 403 with no body) -> the resource, or 404
//! with no body when none matches path and method.

pub mod auth;
pub mod jwt;

mod apis;
mod applications;
mod configs;
mod cors;
mod data_services;
mod data_sources;
mod endpoints;
mod local_entries;
mod logging;
mod logs;
mod message_processors;
mod message_stores;
mod proxy_services;
mod sequences;
mod server_info;
mod tasks;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use conflux_config::settings::ManagementApiConfig;
use conflux_config::{Config, Role};
use conflux_transport::passthrough::Live;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::status::ServerStatus;
use auth::{LoginThrottle, Principal, StoreError, TokenStore, UserStore};
use jwt::{Claims, JwtKey};

pub use applications::{MAX_CAPP_UPLOAD_BYTES, MAX_MULTIPART_OVERHEAD_BYTES, RedeployHook};
pub use logging::{LogLevelError, LogLevels, LoggerLevel};

/// The context every resource lives under.
pub const CONTEXT: &str = "/management";

/// Paths only administrators may call (MI `AuthorizationHandler` defaults).
const ADMIN_ONLY_PREFIXES: [&str; 3] = ["/users", "/roles", "/configs"];

/// Writes only administrators may make: uploading and deleting carbon applications. (MI lets any
/// user who is not read-only make them, `SecurityUtils.canUserEdit`; Conflux asks for an admin.)
fn admin_only_write(method: &Method, sub: &str) -> bool {
    let applications = sub == "/applications" || sub.starts_with("/applications/");
    applications && (method == Method::POST || method == Method::DELETE)
}

const AUDIT: &str = "conflux::audit";

/// Facts about this server that resources report (from the configuration, fixed at start-up).
#[derive(Debug, Clone)]
pub struct ServerFacts {
    pub hostname: String,
    pub home: PathBuf,
    /// `synapse-configs/default`, where artifact files live.
    pub synapse_dir: PathBuf,
    /// `repository/deployment/server/carbonapps`, where `/applications` uploads, deletes and
    /// downloads `.car` files.
    pub carbonapps_dir: PathBuf,
    /// `repository/logs`, the only folder `/logs` reads.
    pub logs_dir: PathBuf,
    /// `http://host:port` of the HTTP pass-through listener, when it is enabled.
    pub http_base: Option<String>,
    pub https_base: Option<String>,
    /// The port plan as `conflux ports --json` prints it.
    pub ports: Value,
}

impl ServerFacts {
    pub fn from_config(config: &Config) -> Self {
        let base = |role: Role, scheme: &str| {
            config
                .ports
                .get(role)
                .filter(|e| e.is_listener())
                .map(|e| format!("{scheme}://{}:{}", config.hostname, e.port))
        };
        ServerFacts {
            hostname: config.hostname.clone(),
            home: config.home.clone(),
            synapse_dir: config.synapse_config_dir.clone(),
            carbonapps_dir: config.carbonapps_dir.clone(),
            logs_dir: config.home.join("repository/logs"),
            http_base: base(Role::Http, "http"),
            https_base: base(Role::Https, "https"),
            ports: config.ports.to_json(),
        }
    }
}

/// One request to `/management...`, as the internal listener received it.
pub struct ManagementRequest<'a> {
    pub method: &'a Method,
    /// Path and query, starting with `/management`.
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The client's address (failed logins are slowed down per address).
    pub client: IpAddr,
}

/// Cannot start the Management API.
#[derive(Debug, thiserror::Error)]
pub enum ManagementError {
    #[error("cannot create the Management API token key: {0}")]
    Key(#[from] jwt::JwtError),
}

/// The Management API. Cloning is cheap.
#[derive(Clone)]
pub struct ManagementApi {
    inner: Arc<Inner>,
    /// Run after a carbon application is uploaded or deleted.
    redeploy: Option<RedeployHook>,
    /// The largest `.car` uploaded or downloaded ([`MAX_CAPP_UPLOAD_BYTES`] unless changed).
    max_capp_bytes: usize,
}

struct Inner {
    config: ManagementApiConfig,
    users: UserStore,
    key: JwtKey,
    tokens: Mutex<TokenStore>,
    throttle: Mutex<LoginThrottle>,
    facts: ServerFacts,
    status: Arc<ServerStatus>,
    live: Arc<ArcSwap<Live>>,
    log_levels: Option<Arc<dyn LogLevels>>,
}

impl std::fmt::Debug for ManagementApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagementApi")
            .field("facts", &self.inner.facts)
            .field("redeploy", &self.redeploy.is_some())
            .field("max_capp_bytes", &self.max_capp_bytes)
            .finish_non_exhaustive()
    }
}

impl ManagementApi {
    /// `log_levels` serves `/logging`; without it `/logging` answers 404.
    pub fn new(
        config: ManagementApiConfig,
        facts: ServerFacts,
        status: Arc<ServerStatus>,
        live: Arc<ArcSwap<Live>>,
        log_levels: Option<Arc<dyn LogLevels>>,
    ) -> Result<Self, ManagementError> {
        let key = JwtKey::generate()?;
        let tokens = TokenStore::new(
            config.token_store_max_size,
            config.remove_oldest_token_on_overflow,
            config.token_clean_up_interval,
        );
        Ok(ManagementApi {
            inner: Arc::new(Inner {
                users: UserStore::new(config.users.clone()),
                config,
                key,
                tokens: Mutex::new(tokens),
                throttle: Mutex::new(LoginThrottle::default()),
                facts,
                status,
                live,
                log_levels,
            }),
            redeploy: None,
            max_capp_bytes: MAX_CAPP_UPLOAD_BYTES,
        })
    }

    /// Calls `hook` after a carbon application is uploaded or deleted, so the deployer rescans
    /// `carbonapps/` at once, also when hot deployment is off. The hook runs on the request's
    /// task: it should signal the deployer, not deploy.
    pub fn with_redeploy(mut self, hook: RedeployHook) -> Self {
        self.redeploy = Some(hook);
        self
    }

    /// The largest `.car` file `/applications` accepts or serves (default
    /// [`MAX_CAPP_UPLOAD_BYTES`]; the internal listeners read at most that much plus
    /// [`MAX_MULTIPART_OVERHEAD_BYTES`], see `InternalApi::max_request_body_bytes`).
    pub fn with_max_capp_bytes(mut self, bytes: usize) -> Self {
        self.max_capp_bytes = bytes;
        self
    }

    /// Warnings for the start-up log: the default password, credentials over plain HTTP.
    pub fn startup_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.inner.users.uses_default_password() {
            warnings.push("the Management API user 'admin' has the default password 'admin': set [[internal_apis.users]] user.name / user.password in deployment.toml".to_string());
        }
        if self.inner.config.http {
            warnings.push("[management_api] protocols includes \"http\": Management API credentials and tokens are also accepted over plain HTTP on the internal HTTP port".to_string());
        }
        warnings
    }

    /// Whether the API is served on a listener of this kind (`[management_api] protocols`).
    pub fn serves(&self, tls: bool) -> bool {
        if tls {
            self.inner.config.https
        } else {
            self.inner.config.http
        }
    }

    /// Answers one request under [`CONTEXT`].
    pub async fn handle(&self, req: ManagementRequest<'_>) -> Response<Bytes> {
        let mut response = self.dispatch(&req).await;
        cors::apply(&self.inner.config, req.headers, response.headers_mut());
        response
    }

    async fn dispatch(&self, req: &ManagementRequest<'_>) -> Response<Bytes> {
        let (path, query) = match req.path_and_query.split_once('?') {
            Some((p, q)) => (p, q),
            None => (req.path_and_query, ""),
        };
        let Some(sub) = path.strip_prefix(CONTEXT) else {
            return empty(StatusCode::NOT_FOUND);
        };
        if req.method == Method::OPTIONS {
            return cors::preflight(&self.inner.config, req.headers);
        }
        // MI's handlers skip exactly the context path; `/management/` is authenticated.
        if sub.is_empty() {
            return if req.method == Method::GET {
                json_response(
                    StatusCode::OK,
                    &json!({"WSO2 Micro Integrator": self.inner.status.version, "ManagementApi": "Active"}),
                )
            } else {
                empty(StatusCode::NOT_FOUND)
            };
        }
        let sub = if sub.len() > 1 {
            sub.trim_end_matches('/')
        } else {
            sub
        };
        if sub == "/login" {
            return self.login(req).await;
        }
        let Some((principal, token_id)) = self.bearer(req.headers) else {
            return unauthorized("Bearer");
        };
        if admin_only_write(req.method, sub) && !principal.is_admin {
            return empty(StatusCode::FORBIDDEN);
        }
        if ADMIN_ONLY_PREFIXES
            .iter()
            .any(|p| sub == *p || sub.starts_with(&format!("{p}/")))
        {
            if !principal.is_admin {
                return empty(StatusCode::FORBIDDEN);
            }
            if sub != "/configs" {
                // MI with its file user store (the only store Conflux has).
                return error(
                    StatusCode::FORBIDDEN,
                    "User management is not supported with the file-based user store. Please plug in a user store for the correct functionality",
                );
            }
        }
        let ctx = Ctx {
            live: self.inner.live.load_full(),
            facts: &self.inner.facts,
            status: &self.inner.status,
            query: Query::parse(query),
            headers: req.headers,
            body: req.body,
            log_levels: self.inner.log_levels.as_deref(),
        };
        let writes = applications::Writes {
            max_upload_bytes: self.max_capp_bytes,
            redeploy: self.redeploy.as_ref(),
            user: &principal.user,
        };
        let m = req.method;
        if let Some(rest) = sub.strip_prefix("/applications/")
            && m == Method::DELETE
        {
            return applications::delete(&ctx, &writes, Some(rest));
        }
        match sub {
            "/logout" if m == Method::GET => self.logout(&principal, &token_id),
            "/apis" if m == Method::GET => apis::get(&ctx),
            "/apis" if m == Method::POST => trace_toggle(&ctx, "API"),
            "/proxy-services" if m == Method::GET => proxy_services::get(&ctx),
            "/proxy-services" if m == Method::POST => proxy_services::post(&ctx),
            "/endpoints" if m == Method::GET => endpoints::get(&ctx),
            "/endpoints" if m == Method::POST => endpoints::post(&ctx),
            "/sequences" if m == Method::GET => sequences::get(&ctx),
            "/sequences" if m == Method::POST => trace_toggle(&ctx, "sequence"),
            "/local-entries" if m == Method::GET => local_entries::get(&ctx),
            "/data-services" if m == Method::GET => data_services::get(&ctx),
            "/data-sources" if m == Method::GET => data_sources::get(&ctx),
            "/applications" if m == Method::GET => {
                applications::get(&ctx, self.max_capp_bytes).await
            }
            "/applications" if m == Method::POST => applications::post(&ctx, &writes).await,
            "/applications" if m == Method::DELETE => applications::delete(&ctx, &writes, None),
            "/server" if m == Method::GET => server_info::get(&ctx),
            "/logging" if m == Method::GET && ctx.log_levels.is_some() => logging::get(&ctx),
            "/logging" if m == Method::PATCH && ctx.log_levels.is_some() => logging::patch(&ctx),
            "/logs" if m == Method::GET => logs::get(&ctx),
            "/configs" if m == Method::GET => configs::get(&ctx),
            "/configs" if m == Method::PUT => configs::put(&ctx),
            "/tasks" if m == Method::GET => tasks::get(&ctx),
            "/message-stores" if m == Method::GET => message_stores::get(&ctx).await,
            "/message-processors" if m == Method::GET => message_processors::get(&ctx),
            "/message-processors" if m == Method::POST => message_processors::post(&ctx),
            _ => empty(StatusCode::NOT_FOUND),
        }
    }

    async fn login(&self, req: &ManagementRequest<'_>) -> Response<Bytes> {
        let delay = self
            .inner
            .throttle
            .lock()
            .map(|t| t.delay(req.client, Instant::now()))
            .unwrap_or_default();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let principal = basic_credentials(req.headers)
            .and_then(|(user, password)| self.inner.users.authenticate(&user, &password));
        let Some(principal) = principal else {
            if let Ok(mut t) = self.inner.throttle.lock() {
                t.record_failure(req.client, Instant::now());
            }
            tracing::warn!(target: AUDIT, "failed Management API login from {}", req.client);
            return unauthorized("Basic");
        };
        if let Ok(mut t) = self.inner.throttle.lock() {
            t.record_success(req.client);
        }
        // MI's LoginResource serves GET only; other methods find no resource.
        if req.method != Method::GET {
            return empty(StatusCode::NOT_FOUND);
        }
        let now = now_secs();
        let id = match self.inner.key.new_id() {
            Ok(id) => id,
            Err(_) => {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Error occurred while generating JWT token",
                );
            }
        };
        let claims = Claims {
            subject: principal.user.clone(),
            scope: if principal.is_admin {
                "admin".into()
            } else {
                "default".into()
            },
            issued_at: now,
            expires_at: now.saturating_add(self.inner.config.token_expiry.as_secs()),
            id: id.clone(),
        };
        let stored = match self.inner.tokens.lock() {
            Ok(mut store) => store.insert(id, principal.clone(), claims.expires_at, now),
            Err(_) => Err(StoreError::Full),
        };
        if stored.is_err() {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Max concurrent access limit exceeded",
            );
        }
        tracing::info!(target: AUDIT, "{} logged in at [{}]", principal.user, server_info::rfc3339(u128::from(now) * 1000));
        json_response(
            StatusCode::OK,
            &json!({"AccessToken": self.inner.key.sign(&claims)}),
        )
    }

    fn logout(&self, principal: &Principal, token_id: &str) -> Response<Bytes> {
        let revoked = self
            .inner
            .tokens
            .lock()
            .map(|mut s| s.revoke(token_id))
            .unwrap_or(false);
        if !revoked {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Log out failed due to incorrect credentials",
            );
        }
        tracing::info!(target: AUDIT, "{} logged out at [{}]", principal.user, server_info::rfc3339(u128::from(now_secs()) * 1000));
        empty(StatusCode::OK)
    }

    /// The user of a valid `Authorization: Bearer` token (the console's check, same tokens).
    pub(crate) fn principal(&self, headers: &HeaderMap) -> Option<Principal> {
        self.bearer(headers).map(|(principal, _)| principal)
    }

    /// What the server reports about itself (the console's summary reads it too).
    pub(crate) fn facts(&self) -> &ServerFacts {
        &self.inner.facts
    }

    pub(crate) fn status(&self) -> &Arc<ServerStatus> {
        &self.inner.status
    }

    /// The deployment serving traffic now.
    pub(crate) fn live(&self) -> Arc<Live> {
        self.inner.live.load_full()
    }

    /// The principal and token id of a valid `Authorization: Bearer` token: signature and expiry
    /// checked, then the store (revocation, eviction).
    fn bearer(&self, headers: &HeaderMap) -> Option<(Principal, String)> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let token = value.strip_prefix("Bearer ")?.trim();
        let now = now_secs();
        let claims = self.inner.key.verify(token, now).ok()?;
        let principal = self.inner.tokens.lock().ok()?.lookup(&claims.id, now)?;
        Some((principal, claims.id))
    }
}

/// `Authorization: Basic base64(user:password)`, split at the first `:` as MI does.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?.trim();
    let decoded = STANDARD.decode(encoded).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What a resource handler gets.
pub(crate) struct Ctx<'a> {
    pub live: Arc<Live>,
    pub facts: &'a ServerFacts,
    pub status: &'a ServerStatus,
    pub query: Query,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub log_levels: Option<&'a dyn LogLevels>,
}

impl Ctx<'_> {
    /// The request body as a JSON object, or MI's error answer.
    // The error is the answer itself, returned at once by every caller.
    #[allow(clippy::result_large_err)]
    pub fn json_body(&self) -> Result<serde_json::Map<String, Value>, Response<Bytes>> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(error(StatusCode::BAD_REQUEST, "JSON payload is missing"));
        }
        match serde_json::from_slice::<Value>(self.body) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(error(
                StatusCode::BAD_REQUEST,
                "Error when parsing JSON payload",
            )),
        }
    }

    /// `searchKey`, when given and not blank.
    pub fn search_key(&self) -> Option<String> {
        self.query
            .get("searchKey")
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_lowercase)
    }

    /// MI's `searchKey` rule: case-insensitive substring of the name.
    pub fn matches_search(&self, name: &str) -> bool {
        match self.search_key() {
            Some(key) => name.to_lowercase().contains(&key),
            None => true,
        }
    }

    /// The text of an artifact's file (endpoints and sequences keep no copy of their source).
    pub fn artifact_file(&self, label: &str) -> Option<String> {
        if label.split('/').any(|part| part == "..") {
            return None;
        }
        std::fs::read_to_string(self.facts.synapse_dir.join(label)).ok()
    }
}

/// Decoded query parameters (`application/x-www-form-urlencoded` rules), in order.
#[derive(Debug, Default)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: &str) -> Self {
        Query(
            query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (percent_decode(k), percent_decode(v))
                })
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 3 <= bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// `statistics` and `trace` of an artifact's root element as MI reports them
/// (`"enabled"`/`"disabled"`).
pub(crate) fn stats_and_tracing(source: Option<&str>) -> (&'static str, &'static str) {
    let flag = |on: bool| if on { "enabled" } else { "disabled" };
    let Some(doc) = source.and_then(|s| roxmltree::Document::parse(s).ok()) else {
        return ("disabled", "disabled");
    };
    let root = doc.root_element();
    let attr = |name: &str| {
        std::iter::once(root)
            .chain(root.children().filter(|c| c.is_element()).take(1))
            .any(|n| n.attribute(name) == Some("enable"))
    };
    (flag(attr("statistics")), flag(attr("trace")))
}

/// `{"count": n, "list": [...]}`.
pub(crate) fn list_response(list: Vec<Value>) -> Response<Bytes> {
    json_response(StatusCode::OK, &json!({"count": list.len(), "list": list}))
}

/// `POST {"name","trace"}`: Conflux has no message tracing yet.
fn trace_toggle(ctx: &Ctx<'_>, kind: &str) -> Response<Bytes> {
    match ctx.json_body() {
        Ok(body) if body.contains_key("trace") => error(
            StatusCode::BAD_REQUEST,
            &format!("Tracing of a {kind} is not supported by Conflux yet"),
        ),
        Ok(_) => error(StatusCode::BAD_REQUEST, "Unsupported operation"),
        Err(r) => r,
    }
}

pub(crate) fn json_response(status: StatusCode, value: &Value) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(value.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// MI's error object, `{"Error": "..."}` (`Utils.createJsonErrorObject`).
pub(crate) fn error(status: StatusCode, message: &str) -> Response<Bytes> {
    json_response(status, &json!({ "Error": message }))
}

pub(crate) fn empty(status: StatusCode) -> Response<Bytes> {
    let mut r = Response::new(Bytes::new());
    *r.status_mut() = status;
    r
}

/// 401 without a body, the answer the `mi` CLI logs in again on.
fn unauthorized(scheme: &str) -> Response<Bytes> {
    let mut r = empty(StatusCode::UNAUTHORIZED);
    if let Ok(v) = HeaderValue::from_str(&format!("{scheme} realm=\"WSO2 EI\"")) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

#[cfg(test)]
pub(crate) mod tests;
