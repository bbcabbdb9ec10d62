//! The typed, validated configuration of one server: what `deployment.toml` and the `-D`
//! properties say, with MI's defaults where they are silent.
//!
//! Reading a key marks it as used; whatever is left afterwards is either a key MI knows and
//! Conflux does not implement yet (listed once) or an unknown key (warned about with its line).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::document::{Document, Value};
use crate::error::{ConfigError, ConfigErrors, ConfigWarning, Origin};
use crate::known_keys::{MI_TABLES, mi_keys_of_table, split_checked};
use crate::ports::{DEFAULT_PORT_OFFSET, Offset, OffsetSource, PortPlan, PortSpec, Role};
use crate::properties::{DEPLOYMENT_FILE_PROPERTY, PORT_OFFSET_PROPERTY, SystemProperties};

/// Where deployment.toml lives inside a home.
pub const DEPLOYMENT_TOML: &str = "conf/deployment.toml";
/// MI's `[server] hostname` default.
pub const DEFAULT_HOSTNAME: &str = "localhost";
/// Pass-through listeners bind every interface unless a bind address is set.
pub const DEFAULT_BIND_ADDRESS: &str = "0.0.0.0";
/// MI's `[server] hot_deployment` default (config-tool `default.json` `server.hot_deployment`).
pub const DEFAULT_HOT_DEPLOYMENT: bool = true;
/// Where MI deploys carbon applications from, relative to the home.
pub const CARBONAPPS_PATH: &str = "repository/deployment/server/carbonapps";
/// MI's file registry root, relative to the home (`MicroIntegratorRegistry` default `registry/`).
pub const REGISTRY_PATH: &str = "registry";
/// MI's `[server] synapse_config_file_path` default (config-tool `default.json`).
pub const DEFAULT_SYNAPSE_CONFIG_PATH: &str = "repository/deployment/server/synapse-configs";
/// MI's primary keystore (config-tool `default.json`).
pub const DEFAULT_KEYSTORE_FILE: &str = "repository/resources/security/wso2carbon.jks";
/// MI's truststore.
pub const DEFAULT_TRUSTSTORE_FILE: &str = "repository/resources/security/client-truststore.jks";
/// MI's well-known keystore password (it ships in every MI deployment.toml).
pub const DEFAULT_KEYSTORE_PASSWORD: &str = "wso2carbon";
/// MI's keystore alias.
pub const DEFAULT_KEYSTORE_ALIAS: &str = "wso2carbon";
/// `[transport.http] socket_timeout`: MI's pass-through default, 180 s (passthru-http.properties
/// `http.socket.timeout`).
pub const DEFAULT_SOCKET_TIMEOUT_MS: u64 = 180_000;
/// `[transport.http] connection_timeout`: MI's default, 90 s (shipped deployment.toml comment).
pub const DEFAULT_CONNECTION_TIMEOUT_MS: u64 = 90_000;
/// `[transport.http] max_open_connections` when not set: the most connections each pass-through
/// listener holds (more are refused with 503). MI's key (passthru `max_open_connections`) defaults
/// to -1, no cap; Conflux caps by default so that a flood meets a refusal before the descriptor
/// limit. `-1` keeps MI's meaning.
pub const DEFAULT_MAX_OPEN_CONNECTIONS: u64 = 10_000;
/// `[transport.http] client_header_timeout` (a Conflux key, ms): a request head must be complete
/// this long after its first byte (408 + close); reads do not extend it.
pub const DEFAULT_CLIENT_HEADER_TIMEOUT_MS: u64 = 30_000;
/// `[transport.http] client_keepalive_timeout` (a Conflux key, ms): a client connection waiting
/// this long for its next request is closed.
pub const DEFAULT_CLIENT_KEEPALIVE_TIMEOUT_MS: u64 = 60_000;
/// `[transport.http] client_body_timeout` (a Conflux key, ms): longest single wait for request
/// body bytes, and the waiting time each body is granted before `client_body_min_rate` counts, as
/// Apache `mod_reqtimeout` `body=N,MinRate=R` (408). nginx's `client_body_timeout` is 60 s.
pub const DEFAULT_CLIENT_BODY_TIMEOUT_MS: u64 = 30_000;
/// `[transport.http] client_body_min_rate` (a Conflux key, bytes per second, 0 = off): each
/// `client_body_min_rate` bytes received extend the body's waiting allowance by one second, so a
/// body sent at 10 bytes/s is cut about `client_body_timeout` after it starts (408).
pub const DEFAULT_CLIENT_BODY_MIN_RATE: u64 = 500;
/// `[transport.http] client_send_timeout` (a Conflux key, ms): longest time a response write to
/// a client may make no progress before the connection is dropped.
pub const DEFAULT_CLIENT_SEND_TIMEOUT_MS: u64 = 60_000;
/// `[transport.http] client_send_min_rate` (a Conflux key, bytes per second, 0 = off): once a
/// client has kept response writes waiting for `client_send_timeout` in all, it must read this
/// many bytes per second of further waiting, or the connection is reset.
pub const DEFAULT_CLIENT_SEND_MIN_RATE: u64 = 500;
/// `[mediation] synapse.global_timeout_interval`: how long a backend may take to answer when its
/// endpoint sets no `<timeout>`; MI's default, 120 s (synapse.properties
/// `synapse.global_timeout_interval`).
pub const DEFAULT_GLOBAL_TIMEOUT_MS: u64 = 120_000;

/// `[mediation] max_message_size` (a Conflux key, in bytes): the most of a body mediation reads
/// into memory when a mediator needs the content; a larger request is answered 413. Bodies of
/// sequences that never read the content stream through at any size.
pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 10 * 1024 * 1024;

/// `[mediation] max_inflight_branches` (a Conflux key): the most branches of one message (the
/// parts of an iterate, the copies of a clone, the branches of a scatter-gather, the iterations
/// of a parallel foreach) that run at once; the others wait. 20, MI's Synapse worker pool
/// (`synapse.threads.core`); mediation's `runtime::limits::DEFAULT_MAX_INFLIGHT_BRANCHES`.
pub const DEFAULT_MAX_INFLIGHT_BRANCHES: u64 = 20;

/// `[management_api.jwt_token_security_handler] token_config.expiry`: MI's default, 3600 s.
pub const DEFAULT_TOKEN_EXPIRY_SECS: u64 = 3600;
/// `token_store_config.max_size`: MI's default, 200 live tokens.
pub const DEFAULT_TOKEN_STORE_MAX_SIZE: u64 = 200;
/// `token_store_config.clean_up_interval`: MI's default, 600 s.
pub const DEFAULT_TOKEN_CLEAN_UP_SECS: u64 = 600;
/// `[management_api.cors] allowed_headers`: MI's default (`internal-apis.xml.j2`).
pub const DEFAULT_CORS_ALLOWED_HEADERS: &str = "Authorization, Content-Type";
/// MI's default file user store: one admin, `admin`/`admin` (config-tool `default.json`).
pub const DEFAULT_ADMIN_USER: &str = "admin";

/// One `[[internal_apis.users]]` entry.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiUser {
    pub name: String,
    pub password: String,
    pub is_admin: bool,
}

impl std::fmt::Debug for ApiUser {
    // The password stays out of logs and test output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiUser")
            .field("name", &self.name)
            .field("is_admin", &self.is_admin)
            .finish_non_exhaustive()
    }
}

/// The Management API (`[management_api]`, `[internal_apis]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagementApiConfig {
    /// `protocols` contains `https`. Conflux's default is `"https"` only; MI's is `"https http"`.
    pub https: bool,
    /// `protocols` contains `http` (credentials and tokens then cross the network in the clear).
    pub http: bool,
    pub token_expiry: Duration,
    pub token_store_max_size: usize,
    pub token_clean_up_interval: Duration,
    pub remove_oldest_token_on_overflow: bool,
    /// `[[internal_apis.users]]`, or the default `admin`/`admin` administrator.
    pub users: Vec<ApiUser>,
    /// True when `users` is the built-in default (admin/admin).
    pub default_users: bool,
    pub cors_enabled: bool,
    /// Comma-separated in the file; `*` allows every origin.
    pub cors_allowed_origins: Vec<String>,
    pub cors_allowed_headers: String,
}

impl Default for ManagementApiConfig {
    fn default() -> Self {
        ManagementApiConfig {
            https: true,
            http: false,
            token_expiry: Duration::from_secs(DEFAULT_TOKEN_EXPIRY_SECS),
            token_store_max_size: DEFAULT_TOKEN_STORE_MAX_SIZE as usize,
            token_clean_up_interval: Duration::from_secs(DEFAULT_TOKEN_CLEAN_UP_SECS),
            remove_oldest_token_on_overflow: true,
            users: vec![ApiUser {
                name: DEFAULT_ADMIN_USER.into(),
                password: DEFAULT_ADMIN_USER.into(),
                is_admin: true,
            }],
            default_users: true,
            cors_enabled: true,
            cors_allowed_origins: vec!["*".into()],
            cors_allowed_headers: DEFAULT_CORS_ALLOWED_HEADERS.into(),
        }
    }
}

/// TLS key material as configured (`[keystore.primary]`), paths made absolute against the home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeystoreConfig {
    pub file: PathBuf,
    pub password: String,
    pub alias: Option<String>,
    pub key_password: Option<String>,
}

/// Trusted certificates for HTTPS backends (`[truststore]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruststoreConfig {
    pub file: PathBuf,
    pub password: String,
}

/// `[transport.http]` settings other than ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportConfig {
    pub socket_timeout: Duration,
    pub connection_timeout: Duration,
    pub disable_keepalive: bool,
    /// Backend answer deadline for endpoints without `<timeout>`.
    pub global_timeout: Duration,
    /// `[mediation] max_message_size`.
    pub max_message_bytes: u64,
    /// `[mediation] max_inflight_branches`.
    pub max_inflight_branches: u64,
    /// `[transport.http] enable_message_size_validation` with `max_message_size_bytes` (MI's
    /// passthru `message.size.validation.enabled` / `valid.max.message.size.in.bytes`): a request
    /// body larger than this is answered 413 and never mediated. `None`: no validation (MI's
    /// default).
    pub max_request_bytes: Option<u64>,
    /// `[transport.http] sender.proxy_host` / `sender.proxy_port` / `sender.non_proxy_hosts`
    /// (MI's http sender `http.proxyHost` / `http.proxyPort` / `http.nonProxyHosts`).
    pub http_proxy: Option<OutboundProxy>,
    /// `[transport.http] sender.secured_proxy_host` / `sender.secured_proxy_port` /
    /// `sender.secured_non_proxy_hosts` (MI's https sender `http.proxyHost`...): HTTPS backends
    /// are reached through a `CONNECT` tunnel of this proxy.
    pub https_proxy: Option<OutboundProxy>,
    /// Limits on the clients of each pass-through listener.
    pub clients: ClientLimits,
    /// `[transport] http1_engine`: which HTTP/1 server drives plain-HTTP pass-through client
    /// connections (Conflux's own key; MI has no such choice).
    pub http1_engine: Http1Engine,
}

/// `[transport] http1_engine`: the server that drives plain-HTTP/1 pass-through connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Http1Engine {
    /// hyper's HTTP/1 server for every request.
    Hyper,
    /// Conflux's own HTTP/1 driver (`conflux_transport::h1`, the default): requests whose route
    /// is a plain forward go straight to the backend; every other request is handed to hyper.
    #[default]
    Conflux,
}

/// Key of [`Http1Engine`] in deployment.toml.
pub const HTTP1_ENGINE_KEY: &str = "transport.http1_engine";

/// `[transport] http1_engine = "hyper" | "conflux"`.
fn http1_engine(r: &mut Reader<'_>) -> Http1Engine {
    let Some((value, origin)) = r.take(HTTP1_ENGINE_KEY) else {
        return Http1Engine::default();
    };
    match &value {
        Value::String(s) if s.trim().eq_ignore_ascii_case("hyper") => Http1Engine::Hyper,
        Value::String(s) if s.trim().eq_ignore_ascii_case("conflux") => Http1Engine::Conflux,
        _ => {
            r.invalid(
                HTTP1_ENGINE_KEY,
                origin,
                &value,
                "\"conflux\" (the default) or \"hyper\"",
            );
            Http1Engine::default()
        }
    }
}

/// `[transport.http]` limits on clients of the pass-through listeners: MI's
/// `max_open_connections` and Conflux's `client_*` keys (see the `DEFAULT_CLIENT_*` constants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientLimits {
    /// Most connections per listener; `None` (`-1`) is no cap.
    pub max_open_connections: Option<u64>,
    pub header_timeout: Duration,
    pub keepalive_timeout: Duration,
    pub body_timeout: Duration,
    /// Bytes per second; 0 disables the rate check.
    pub body_min_rate: u64,
    pub send_timeout: Duration,
    /// Bytes per second; 0 disables the rate check.
    pub send_min_rate: u64,
}

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits {
            max_open_connections: Some(DEFAULT_MAX_OPEN_CONNECTIONS),
            header_timeout: Duration::from_millis(DEFAULT_CLIENT_HEADER_TIMEOUT_MS),
            keepalive_timeout: Duration::from_millis(DEFAULT_CLIENT_KEEPALIVE_TIMEOUT_MS),
            body_timeout: Duration::from_millis(DEFAULT_CLIENT_BODY_TIMEOUT_MS),
            body_min_rate: DEFAULT_CLIENT_BODY_MIN_RATE,
            send_timeout: Duration::from_millis(DEFAULT_CLIENT_SEND_TIMEOUT_MS),
            send_min_rate: DEFAULT_CLIENT_SEND_MIN_RATE,
        }
    }
}

/// Reads [`ClientLimits`]; a timeout of 0 or a cap below -1 or of 0 is an error naming the key.
fn client_limits(r: &mut Reader<'_>) -> ClientLimits {
    let d = ClientLimits::default();
    let timeout = |r: &mut Reader<'_>, key: &str, default: Duration| {
        let expected = "a duration in milliseconds from 1 (a whole number)";
        match r.unsigned(key, expected) {
            Some((0, origin)) => {
                r.invalid(key, origin, &Value::Integer(0), expected);
                default
            }
            Some((ms, _)) => Duration::from_millis(ms),
            None => default,
        }
    };
    let header_timeout = timeout(r, "transport.http.client_header_timeout", d.header_timeout);
    let keepalive_timeout = timeout(
        r,
        "transport.http.client_keepalive_timeout",
        d.keepalive_timeout,
    );
    let body_timeout = timeout(r, "transport.http.client_body_timeout", d.body_timeout);
    let send_timeout = timeout(r, "transport.http.client_send_timeout", d.send_timeout);
    let rate = "bytes per second (a whole number; 0 turns the check off)";
    let body_min_rate = r
        .unsigned("transport.http.client_body_min_rate", rate)
        .map_or(d.body_min_rate, |(v, _)| v);
    let send_min_rate = r
        .unsigned("transport.http.client_send_min_rate", rate)
        .map_or(d.send_min_rate, |(v, _)| v);
    let key = "transport.http.max_open_connections";
    let max_open_connections = match r.take(key) {
        None => d.max_open_connections,
        Some((Value::Integer(-1), _)) => None,
        Some((Value::Integer(n), _)) if n > 0 => u64::try_from(n).ok(),
        Some((Value::String(t), _)) if t.trim() == "-1" => None,
        Some((Value::String(t), origin)) => match t.trim().parse::<u64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                r.invalid(
                    key,
                    origin,
                    &Value::String(t),
                    "a number of connections from 1, or -1 for no cap",
                );
                d.max_open_connections
            }
        },
        Some((value, origin)) => {
            r.invalid(
                key,
                origin,
                &value,
                "a number of connections from 1, or -1 for no cap",
            );
            d.max_open_connections
        }
    };
    ClientLimits {
        max_open_connections,
        header_timeout,
        keepalive_timeout,
        body_timeout,
        body_min_rate,
        send_timeout,
        send_min_rate,
    }
}

/// An HTTP proxy the backend client sends plain-HTTP requests through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundProxy {
    pub host: String,
    pub port: u16,
    /// `sender.non_proxy_hosts`: host patterns reached directly (MI joins them with `|` into
    /// `http.nonProxyHosts`; each is a Java regex, `*` alone meaning any).
    pub non_proxy_hosts: Vec<String>,
}

/// MI's maximum when validation is on and `max_message_size_bytes` is not set
/// (`Integer.MAX_VALUE`, passthru SourceHandler).
pub const DEFAULT_MAX_REQUEST_BYTES: u64 = i32::MAX as u64;

/// The JSON <-> XML settings: `[mediation]`'s JSON keys, which MI's config tool maps to
/// `synapse.properties` (`key-mappings.json`: `mediation.synapse.enable_xml_nil` ->
/// `synapse.commons.enableXmlNilReadWrite`, ...), or those properties themselves under
/// `[synapse_properties]` (`'synapse.commons.json.output.jsonoutMultiplePI' = false`). The
/// `[mediation]` key wins when both are given. Defaults: Synapse commons
/// `JsonUtil.generateJSONOutputFactory` / `generateJsonXMLInputFactory`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonConfig {
    /// `synapse.preserve_namespace_on_xml_to_json` (`synapse.commons.json.preserve.namespace`).
    pub preserve_namespace: bool,
    /// `synapse.build_valid_nc_name` (`synapse.commons.json.buildValidNCNames`). Conflux always
    /// writes and reads valid XML names for JSON keys, so this is read and has no further effect.
    pub build_valid_nc_names: bool,
    /// `synapse.enable_auto_primitive` (`synapse.commons.json.output.autoPrimitive`).
    pub auto_primitive: bool,
    /// `synapse.commons.json.output.namespaceSepChar` (first character; `_`).
    pub namespace_separator: char,
    /// `synapse.enable_namespace_declaration` (`synapse.commons.json.output.enableNSDeclarations`).
    pub namespace_declarations: bool,
    /// `synapse.disable_auto_primitive_regex`
    /// (`synapse.commons.json.output.disableAutoPrimitive.regex`), as Java reads it back from
    /// synapse.properties (see [`java_properties_value`]).
    pub disable_auto_primitive_regex: Option<String>,
    /// `synapse.disable_custom_replace_regex`
    /// (`synapse.commons.json.json.output.disableAutoPrimitive.customReplaceRegex`).
    pub custom_replace_regex: Option<String>,
    /// `synapse.commons.json.json.output.disableAutoPrimitive.customReplaceSequence` (`""`).
    pub custom_replace_sequence: String,
    /// `synapse.json_out_auto_array` (`synapse.commons.json.output.jsonoutAutoArray`).
    pub json_out_auto_array: bool,
    /// `synapse.commons.json.output.jsonoutMultiplePI`.
    pub json_out_multiple_pi: bool,
    /// `synapse.enable_xml_nil` (`synapse.commons.enableXmlNilReadWrite`).
    pub xml_nil: bool,
    /// `synapse.commons.enableXmlNullForEmptyElement`.
    pub null_for_empty_element: bool,
    /// `synapse.commons.json.output.xmloutMultiplePI`.
    pub xml_out_multiple_pi: bool,
}

impl Default for JsonConfig {
    fn default() -> Self {
        JsonConfig {
            preserve_namespace: false,
            build_valid_nc_names: false,
            auto_primitive: true,
            namespace_separator: '_',
            namespace_declarations: false,
            disable_auto_primitive_regex: None,
            custom_replace_regex: None,
            custom_replace_sequence: String::new(),
            json_out_auto_array: true,
            json_out_multiple_pi: true,
            xml_nil: false,
            null_for_empty_element: true,
            xml_out_multiple_pi: false,
        }
    }
}

/// The validated configuration of a server.
#[derive(Debug, Clone)]
pub struct Config {
    pub home: PathBuf,
    /// The deployment.toml that was read (it may not exist).
    pub deployment_toml: PathBuf,
    pub hostname: String,
    pub ports: PortPlan,
    pub transport: TransportConfig,
    pub keystore: KeystoreConfig,
    pub truststore: TruststoreConfig,
    /// `<synapse_config_file_path>/default`, where artifacts are deployed from.
    pub synapse_config_dir: PathBuf,
    /// `repository/deployment/server/carbonapps`, where `*.car` files are deployed from.
    pub carbonapps_dir: PathBuf,
    /// `registry/`, MI's file registry (`config/`, `governance/`, `local/` behind `conf:`, `gov:`,
    /// `local:` keys; MI `MicroIntegratorRegistry`).
    pub registry_dir: PathBuf,
    /// `[server] hot_deployment` (MI default true): redeploy when artifact files change.
    pub hot_deployment: bool,
    pub management_api: ManagementApiConfig,
    /// `[monitoring.jolokia]`: optional Basic auth of the Jolokia monitoring port.
    pub jolokia: JolokiaConfig,
    /// `[console]`: the built-in web console (Conflux's own table).
    pub console: ConsoleConfig,
    /// `[mediation]`'s JSON <-> XML settings.
    pub json: JsonConfig,
    pub properties: SystemProperties,
    pub warnings: Vec<ConfigWarning>,
    /// `[secrets]`, decrypted (secure vault), for `wso2-vault()` and `wso2:vault-lookup()`.
    pub secrets: crate::secrets::Secrets,
    /// `[[datasource]]` entries (carbon data sources for data services and DB mediators).
    pub datasources: Vec<crate::datasource::DataSourceDef>,
}

/// MI's Prometheus handler class (`[[synapse_handlers]] class`), from MI's observability docs.
pub const METRIC_HANDLER_CLASS: &str =
    "org.wso2.micro.integrator.observability.metric.handler.MetricHandler";

/// `[console]` (Conflux's own table): the web console served under `/console/` where the
/// Management API is served.
#[derive(Clone, PartialEq, Eq)]
pub struct ConsoleConfig {
    /// `enabled` (default true).
    pub enabled: bool,
    /// `discovery` (default true): list the other instances running on this host.
    pub discovery: bool,
    /// `peers`: base URLs (`https://host:port`) of instances on other hosts (HTTPS only: the
    /// console sends them the fleet token, or the caller's Bearer token).
    pub peers: Vec<String>,
    /// `fleet_token`: a secret shared by the instances of a fleet. It becomes this instance's
    /// read-only fleet token and is what the console presents to `peers` (instead of forwarding
    /// the caller's Bearer token, which another instance does not accept).
    pub fleet_token: Option<String>,
}

impl std::fmt::Debug for ConsoleConfig {
    // The fleet token stays out of logs and test output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleConfig")
            .field("enabled", &self.enabled)
            .field("discovery", &self.discovery)
            .field("peers", &self.peers)
            .field("fleet_token", &self.fleet_token.as_ref().map(|_| "(set)"))
            .finish()
    }
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            enabled: true,
            discovery: true,
            peers: Vec::new(),
            fleet_token: None,
        }
    }
}

/// Fewest characters of `[console] fleet_token`.
pub const MIN_FLEET_TOKEN_CHARS: usize = 16;

/// Most characters of `[console] fleet_token` (it travels in a header).
pub const MAX_FLEET_TOKEN_CHARS: usize = 256;

/// Most `[console] peers`.
pub const MAX_CONSOLE_PEERS: usize = 64;

const CONSOLE_PEERS_EXPECTED: &str = "a list of at most 64 base URLs of other instances' Management API, e.g. [\"https://host-b:9164\"] (https://, host and port, no path: credentials are never sent over plain HTTP)";

/// `[console] enabled`, `discovery`, `peers`, `fleet_token`.
fn console(r: &mut Reader<'_>) -> ConsoleConfig {
    let defaults = ConsoleConfig::default();
    let mut config = ConsoleConfig {
        enabled: r.boolean("console.enabled", defaults.enabled),
        discovery: r.boolean("console.discovery", defaults.discovery),
        peers: Vec::new(),
        fleet_token: None,
    };
    let key = "console.fleet_token";
    if let Some((value, origin)) = r.take(key) {
        match &value {
            Value::String(t)
                if (MIN_FLEET_TOKEN_CHARS..=MAX_FLEET_TOKEN_CHARS).contains(&t.len())
                    && t.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                config.fleet_token = Some(t.clone());
            }
            other => {
                // Never echo a secret: say what was found, not the text.
                let found = match other {
                    Value::String(t) => format!("(hidden, {} characters)", t.chars().count()),
                    v => v.display(),
                };
                r.errors.push(ConfigError::InvalidValue {
                    key: display_key(key),
                    origin,
                    value: found,
                    expected: format!(
                        "a shared secret of {MIN_FLEET_TOKEN_CHARS} to {MAX_FLEET_TOKEN_CHARS} visible ASCII characters (no spaces), the same on every instance of the fleet"
                    ),
                });
            }
        }
    }
    let key = "console.peers";
    if let Some((value, origin)) = r.take(key) {
        let peers: Option<Vec<String>> = match &value {
            Value::Array(items) if items.len() <= MAX_CONSOLE_PEERS => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => console_peer(s),
                    _ => None,
                })
                .collect(),
            _ => None,
        };
        match peers {
            Some(peers) => config.peers = peers,
            None => r.invalid(key, origin, &value, CONSOLE_PEERS_EXPECTED),
        }
    }
    config
}

/// A peer's base URL without a trailing `/`, when it is `https://host:port` with nothing after.
fn console_peer(text: &str) -> Option<String> {
    let url = text.trim().trim_end_matches('/');
    let rest = url.strip_prefix("https://")?;
    let (host, port) = rest.rsplit_once(':')?;
    let host_ok = !host.is_empty()
        && !host.contains(['/', '?', '#', '@', ' '])
        && (!host.contains(':') || (host.starts_with('[') && host.ends_with(']')));
    let port_ok = port.parse::<u16>().is_ok_and(|p| p > 0);
    (host_ok && port_ok).then(|| url.to_string())
}

/// `[monitoring.jolokia] username` / `password` (a Conflux table beside MI's `[monitoring.jmx]`):
/// when both are set, the monitoring port requires HTTP Basic auth with them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JolokiaConfig {
    pub credentials: Option<(String, String)>,
}

/// Loads `home`'s configuration with the command line's `-D` properties.
///
/// # Errors
/// Every problem found, each naming the key, its origin, the value and what is valid.
///
/// The secure vault is not opened: `$secret{}` stays literal and [`Config::secrets`] is empty
/// (for tools and tests that read settings only; the server uses [`load_with`]).
pub fn load(home: &Path, properties: SystemProperties) -> Result<Config, ConfigErrors> {
    load_inner(home, properties, None)
}

/// [`load`], with `keys` reading the secure vault's keystore: `[secrets]` is decrypted and every
/// `$secret{alias}` resolved before the settings are read (`secrets::open`).
///
/// # Errors
/// As [`load`], plus every secret that cannot be decrypted and every unknown `$secret{}`.
pub fn load_with(
    home: &Path,
    properties: SystemProperties,
    keys: &dyn crate::secrets::KeyLoader,
) -> Result<Config, ConfigErrors> {
    load_inner(home, properties, Some(keys))
}

fn load_inner(
    home: &Path,
    properties: SystemProperties,
    keys: Option<&dyn crate::secrets::KeyLoader>,
) -> Result<Config, ConfigErrors> {
    // Paths in the configuration (keystores, artifacts) are relative to the home; make it absolute
    // once so that nothing depends on the working directory later.
    let home = std::path::absolute(home).unwrap_or_else(|_| home.to_path_buf());
    let home = home.as_path();
    let deployment_toml = match properties.value(DEPLOYMENT_FILE_PROPERTY) {
        Some(p) => home.join(p),
        None => home.join(DEPLOYMENT_TOML),
    };
    let mut warnings = properties.unknown_property_warnings();
    let mut document = match read_deployment_toml(&deployment_toml) {
        Ok(text) => {
            let document =
                Document::parse(&deployment_toml, &text, &properties).map_err(ConfigErrors)?;
            warnings.extend(document.warnings.iter().cloned());
            document
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            warnings.push(ConfigWarning::NoDeploymentToml {
                path: deployment_toml.clone(),
            });
            Document::default()
        }
        Err(e) => {
            return Err(ConfigError::Read {
                path: deployment_toml,
                reason: e.to_string(),
            }
            .into());
        }
    };
    let secrets = match keys {
        Some(keys) => crate::secrets::open(&mut document, home, keys).map_err(ConfigErrors)?,
        None => crate::secrets::Secrets::default(),
    };
    let mut config = from_document(home, deployment_toml, &document, properties, warnings)?;
    config.secrets = secrets;
    Ok(config)
}

/// The largest deployment.toml read: MI's own is about 10 KiB; a file beyond this is a mistake
/// (or `/dev/zero`), refused before it is held in memory.
pub const MAX_DEPLOYMENT_TOML_BYTES: u64 = 4 * 1024 * 1024;

/// Reads deployment.toml, at most one byte past [`MAX_DEPLOYMENT_TOML_BYTES`].
fn read_deployment_toml(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_DEPLOYMENT_TOML_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_DEPLOYMENT_TOML_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {MAX_DEPLOYMENT_TOML_BYTES} bytes, the most Conflux reads"),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Builds the configuration from an already parsed document (tests use this with in-memory text).
pub fn from_document(
    home: &Path,
    deployment_toml: PathBuf,
    document: &Document,
    properties: SystemProperties,
    mut warnings: Vec<ConfigWarning>,
) -> Result<Config, ConfigErrors> {
    let mut r = Reader::new(document);

    let hostname = r
        .string("server.hostname")
        .unwrap_or_else(|| DEFAULT_HOSTNAME.to_string());
    let offset = resolve_offset(&mut r, &properties);

    let http_enabled = r.boolean("transport.http.listener.enable", true);
    let https_enabled = r.boolean("transport.http.listener.secured_enable", true);
    let http_bind = r
        .string("transport.http.listener.bind_address")
        .unwrap_or_else(|| DEFAULT_BIND_ADDRESS.to_string());
    let https_bind = r
        .string("transport.http.listener.secured_bind_address")
        .unwrap_or_else(|| DEFAULT_BIND_ADDRESS.to_string());
    // MI: `internal_http_api_enable` is the master switch of both internal ports
    // (internal/http/api/ConfigurationLoader#isInternalApiEnabled).
    let internal_enabled = r.boolean("mediation.internal_http_api_enable", true);
    let jmx_enabled = r.boolean("monitoring.jmx.rmi_server_start", true);
    // MI's synapse property `inbound.port.offset.enable` (default false): whether inbound HTTP(S)
    // endpoints' ports get the offset (ports.rs `PortPlan::plan_inbound`).
    let inbound_port_offset = r.boolean("mediation.inbound.port_offset_enable", false);
    let jmx_bind = r
        .string("monitoring.jmx.rmi_hostname")
        .unwrap_or_else(|| hostname.clone());
    // MI's `[[synapse_handlers]]` entry for Prometheus metrics (the MetricHandler) is what Conflux
    // does by default: accept it as understood. Any other handler stays "not supported yet".
    if let Some(entry) = r.doc.get("synapse_handlers")
        && let Value::Array(handlers) = &entry.value
        && !handlers.is_empty()
        && handlers.iter().all(|h| {
            matches!(h, Value::Table(t) if matches!(t.get("class"), Some(Value::String(c)) if c == METRIC_HANDLER_CLASS))
        })
    {
        let _ = r.take("synapse_handlers");
    }
    let jolokia = JolokiaConfig {
        credentials: match (
            r.string("monitoring.jolokia.username"),
            r.string("monitoring.jolokia.password"),
        ) {
            (Some(user), Some(password)) => Some((user, password)),
            _ => None,
        },
    };

    let mut specs = Vec::new();
    for role in Role::ALL {
        let (base, origin) = r
            .port(role.key())
            .unwrap_or((role.default_base(), Origin::Default));
        let (bind, enabled, opened) = match role {
            Role::Http => (http_bind.clone(), http_enabled, true),
            Role::Https => (https_bind.clone(), https_enabled, true),
            Role::InternalHttp | Role::InternalHttps => {
                (DEFAULT_BIND_ADDRESS.to_string(), internal_enabled, true)
            }
            Role::JmxRmiRegistry => (jmx_bind.clone(), jmx_enabled, true),
            Role::JmxRmiServer => (jmx_bind.clone(), jmx_enabled, false),
        };
        specs.push(PortSpec {
            role,
            base,
            origin,
            bind,
            enabled,
            opened,
        });
    }

    let transport = TransportConfig {
        socket_timeout: Duration::from_millis(
            r.millis("transport.http.socket_timeout", DEFAULT_SOCKET_TIMEOUT_MS),
        ),
        connection_timeout: Duration::from_millis(r.millis(
            "transport.http.connection_timeout",
            DEFAULT_CONNECTION_TIMEOUT_MS,
        )),
        disable_keepalive: r.boolean("transport.http.disable_connection_keepalive", false),
        global_timeout: Duration::from_millis(r.millis(
            "mediation.synapse.global_timeout_interval",
            DEFAULT_GLOBAL_TIMEOUT_MS,
        )),
        max_message_bytes: r.message_size("mediation.max_message_size"),
        max_inflight_branches: inflight_branches(&mut r),
        max_request_bytes: message_size_validation(&mut r),
        http_proxy: http_proxy(&mut r, ""),
        https_proxy: http_proxy(&mut r, "secured_"),
        clients: client_limits(&mut r),
        http1_engine: http1_engine(&mut r),
    };

    let keystore_password = r
        .string("keystore.primary.password")
        .unwrap_or_else(|| DEFAULT_KEYSTORE_PASSWORD.to_string());
    let keystore = KeystoreConfig {
        file: home.join(
            r.string("keystore.primary.file_name")
                .unwrap_or_else(|| DEFAULT_KEYSTORE_FILE.to_string()),
        ),
        alias: Some(
            r.string("keystore.primary.alias")
                .unwrap_or_else(|| DEFAULT_KEYSTORE_ALIAS.to_string()),
        ),
        key_password: r.string("keystore.primary.key_password"),
        password: keystore_password,
    };
    let _ = r.string("keystore.primary.type");
    // Read by the secure vault before the settings (`secrets::open`).
    let vault_keys: Vec<String> = document
        .entries()
        .map(|e| e.key.clone())
        .filter(|k| k.starts_with("secrets.") || k.starts_with("keystore.internal."))
        .collect();
    for key in vault_keys {
        let _ = r.take(&key);
    }
    let truststore = TruststoreConfig {
        file: home.join(
            r.string("truststore.file_name")
                .unwrap_or_else(|| DEFAULT_TRUSTSTORE_FILE.to_string()),
        ),
        password: r
            .string("truststore.password")
            .unwrap_or_else(|| DEFAULT_KEYSTORE_PASSWORD.to_string()),
    };
    let _ = r.string("truststore.type");

    let synapse_config_dir = home
        .join(
            r.string("server.synapse_config_file_path")
                .unwrap_or_else(|| DEFAULT_SYNAPSE_CONFIG_PATH.to_string()),
        )
        .join("default");
    let hot_deployment = r.boolean("server.hot_deployment", DEFAULT_HOT_DEPLOYMENT);

    let management_api = management_api(&mut r);
    let console = console(&mut r);
    let json = json_config(&mut r);
    let _ = r.take(crate::datasource::DATASOURCE_KEY);
    let datasources = crate::datasource::read(document).unwrap_or_else(|e| {
        r.errors.extend(e);
        Vec::new()
    });

    let mut errors = std::mem::take(&mut r.errors);
    warnings.extend(r.leftover_warnings());

    let ports = match offset {
        Some(offset) => match PortPlan::build(specs, offset) {
            Ok(plan) => {
                let plan = plan.with_inbound_offset(inbound_port_offset);
                if plan.offset().value < 0 {
                    warnings.push(ConfigWarning::NegativeOffset {
                        offset: plan.offset().value,
                        lowered: plan.offset().value.unsigned_abs(),
                        origin: plan.offset().origin.clone(),
                        http: plan.get(Role::Http).map(|e| e.port).unwrap_or_default(),
                    });
                }
                Some(plan)
            }
            Err(e) => {
                errors.extend(e);
                None
            }
        },
        None => None,
    };
    match ports {
        Some(ports) if errors.is_empty() => Ok(Config {
            home: home.to_path_buf(),
            deployment_toml,
            hostname,
            ports,
            transport,
            keystore,
            truststore,
            synapse_config_dir,
            carbonapps_dir: home.join(CARBONAPPS_PATH),
            registry_dir: home.join(REGISTRY_PATH),
            hot_deployment,
            management_api,
            jolokia,
            console,
            json,
            properties,
            warnings,
            secrets: Default::default(),
            datasources,
        }),
        _ => Err(ConfigErrors(errors)),
    }
}

/// `[mediation]`'s JSON keys and the `synapse.commons.json.*` properties they map to.
/// `[transport.http] enable_message_size_validation` / `max_message_size_bytes`.
fn message_size_validation(r: &mut Reader<'_>) -> Option<u64> {
    let enabled = r.boolean("transport.http.enable_message_size_validation", false);
    let expected = "a size in bytes from 1 (a whole number)";
    let max = match r.unsigned("transport.http.max_message_size_bytes", expected) {
        Some((0, origin)) => {
            r.invalid(
                "transport.http.max_message_size_bytes",
                origin,
                &Value::Integer(0),
                expected,
            );
            None
        }
        Some((v, _)) => Some(v),
        None => None,
    };
    enabled.then(|| max.unwrap_or(DEFAULT_MAX_REQUEST_BYTES))
}

/// `[mediation] max_inflight_branches`: from 1.
fn inflight_branches(r: &mut Reader<'_>) -> u64 {
    let key = "mediation.max_inflight_branches";
    let expected = "a number of branches from 1 (a whole number)";
    match r.unsigned(key, expected) {
        Some((0, origin)) => {
            r.invalid(key, origin, &Value::Integer(0), expected);
            DEFAULT_MAX_INFLIGHT_BRANCHES
        }
        Some((v, _)) => v,
        None => DEFAULT_MAX_INFLIGHT_BRANCHES,
    }
}

/// `[transport.http] sender.{prefix}proxy_host` / `{prefix}proxy_port` /
/// `{prefix}non_proxy_hosts` (`prefix` empty or `secured_`).
fn http_proxy(r: &mut Reader<'_>, prefix: &str) -> Option<OutboundProxy> {
    let host_key = format!("transport.http.sender.{prefix}proxy_host");
    let port_key = format!("transport.http.sender.{prefix}proxy_port");
    let host = r.string(&host_key);
    let port = r.unsigned(&port_key, "a port number from 1 to 65535");
    let non_proxy_key = format!("transport.http.sender.{prefix}non_proxy_hosts");
    let non_proxy_key = non_proxy_key.as_str();
    let mut non_proxy_hosts = Vec::new();
    if let Some((value, origin)) = r.take(non_proxy_key) {
        match &value {
            Value::Array(items) if items.iter().all(|i| matches!(i, Value::String(_))) => {
                non_proxy_hosts = items
                    .iter()
                    .filter_map(|i| match i {
                        Value::String(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect();
            }
            Value::String(s) => non_proxy_hosts = s.split('|').map(str::to_owned).collect(),
            _ => r.invalid(
                non_proxy_key,
                origin,
                &value,
                "a list of host patterns, e.g. [\".*.example.com\"]",
            ),
        }
    }
    let host = host
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())?;
    let port = match port {
        Some((p, origin)) => match u16::try_from(p) {
            Ok(p) if p > 0 => p,
            _ => {
                r.invalid(
                    &port_key,
                    origin,
                    &Value::Integer(i128::from(p)),
                    "a port number from 1 to 65535",
                );
                return None;
            }
        },
        // Java's http.proxyPort defaults to 80.
        None => 80,
    };
    Some(OutboundProxy {
        host,
        port,
        non_proxy_hosts,
    })
}

fn json_config(r: &mut Reader<'_>) -> JsonConfig {
    let defaults = JsonConfig::default();
    // The key to read: the [mediation] key when given, else the synapse.properties entry; the
    // other counts as read too (it is understood, only overridden or absent).
    fn key(r: &mut Reader<'_>, mediation: Option<&str>, property: &str) -> Option<String> {
        let property_key = format!("synapse_properties.'{property}'");
        if let Some(m) = mediation {
            let m = format!("mediation.{m}");
            if r.doc.get(&m).is_some() {
                r.used.insert(property_key);
                return Some(m);
            }
            r.used.insert(m);
        }
        r.used.insert(property_key.clone());
        r.doc.get(&property_key).is_some().then_some(property_key)
    }
    let boolean =
        |r: &mut Reader<'_>, mediation: Option<&str>, property: &str, default: bool| match key(
            r, mediation, property,
        ) {
            Some(k) => r.boolean(&k, default),
            None => default,
        };
    let regex = |r: &mut Reader<'_>, mediation: &str, property: &str| {
        let k = key(r, Some(mediation), property)?;
        let (value, origin) = r.take(&k)?;
        let text = match &value {
            Value::String(s) => java_properties_value(s),
            other => {
                r.invalid(&k, origin, other, "a regular expression (a string)");
                return None;
            }
        };
        match regex::Regex::new(&text) {
            Ok(_) => Some(text),
            Err(e) => {
                r.invalid(
                    &k,
                    origin,
                    &value,
                    &format!(
                        "a valid regular expression ({})",
                        e.to_string().replace('\n', " ")
                    ),
                );
                None
            }
        }
    };
    let preserve_namespace = boolean(
        r,
        Some("synapse.preserve_namespace_on_xml_to_json"),
        "synapse.commons.json.preserve.namespace",
        defaults.preserve_namespace,
    );
    let build_valid_nc_names = boolean(
        r,
        Some("synapse.build_valid_nc_name"),
        "synapse.commons.json.buildValidNCNames",
        defaults.build_valid_nc_names,
    );
    let auto_primitive = boolean(
        r,
        Some("synapse.enable_auto_primitive"),
        "synapse.commons.json.output.autoPrimitive",
        defaults.auto_primitive,
    );
    let namespace_declarations = boolean(
        r,
        Some("synapse.enable_namespace_declaration"),
        "synapse.commons.json.output.enableNSDeclarations",
        defaults.namespace_declarations,
    );
    let json_out_auto_array = boolean(
        r,
        Some("synapse.json_out_auto_array"),
        "synapse.commons.json.output.jsonoutAutoArray",
        defaults.json_out_auto_array,
    );
    let json_out_multiple_pi = boolean(
        r,
        None,
        "synapse.commons.json.output.jsonoutMultiplePI",
        defaults.json_out_multiple_pi,
    );
    let xml_nil = boolean(
        r,
        Some("synapse.enable_xml_nil"),
        "synapse.commons.enableXmlNilReadWrite",
        defaults.xml_nil,
    );
    let null_for_empty_element = boolean(
        r,
        None,
        "synapse.commons.enableXmlNullForEmptyElement",
        defaults.null_for_empty_element,
    );
    let xml_out_multiple_pi = boolean(
        r,
        None,
        "synapse.commons.json.output.xmloutMultiplePI",
        defaults.xml_out_multiple_pi,
    );
    let disable_auto_primitive_regex = regex(
        r,
        "synapse.disable_auto_primitive_regex",
        "synapse.commons.json.output.disableAutoPrimitive.regex",
    );
    let custom_replace_regex = regex(
        r,
        "synapse.disable_custom_replace_regex",
        "synapse.commons.json.json.output.disableAutoPrimitive.customReplaceRegex",
    );
    let custom_replace_sequence = key(
        r,
        None,
        "synapse.commons.json.json.output.disableAutoPrimitive.customReplaceSequence",
    )
    .and_then(|k| r.string(&k))
    .map(|s| java_properties_value(&s))
    .unwrap_or_default();
    let namespace_separator = match key(r, None, "synapse.commons.json.output.namespaceSepChar") {
        Some(k) => match r.take(&k) {
            Some((Value::String(text), origin)) => {
                match java_properties_value(&text).trim().chars().next() {
                    Some(c) => c,
                    None => {
                        r.invalid(
                            &k,
                            origin,
                            &Value::String(text),
                            "one character, e.g. \"_\"",
                        );
                        defaults.namespace_separator
                    }
                }
            }
            Some((other, origin)) => {
                r.invalid(&k, origin, &other, "one character, e.g. \"_\"");
                defaults.namespace_separator
            }
            None => defaults.namespace_separator,
        },
        None => defaults.namespace_separator,
    };
    JsonConfig {
        preserve_namespace,
        build_valid_nc_names,
        auto_primitive,
        namespace_separator,
        namespace_declarations,
        disable_auto_primitive_regex,
        custom_replace_regex,
        custom_replace_sequence,
        json_out_auto_array,
        json_out_multiple_pi,
        xml_nil,
        null_for_empty_element,
        xml_out_multiple_pi,
    }
}

/// What MI's JSON code gets for a `deployment.toml` string: the config tool writes it into
/// `synapse.properties` as `key = value` and `java.util.Properties.load` reads it back, which
/// drops leading whitespace and the backslash of every escape (`\t`, `\n`, `\r`, `\f` and
/// `\uXXXX` become those characters, any other `\c` is `c`): a regex written as `"\\."` in
/// TOML reaches `Pattern.compile` as `.`.
pub fn java_properties_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.trim_start_matches([' ', '\t', '\u{c}']).chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.clone().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(decoded) if hex.len() == 4 => {
                        out.push(decoded);
                        for _ in 0..4 {
                            chars.next();
                        }
                    }
                    _ => out.push('u'),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// `[management_api]` and `[internal_apis]` (MI: `internal-apis.xml.j2`, config-tool `default.json`).
fn management_api(r: &mut Reader<'_>) -> ManagementApiConfig {
    let defaults = ManagementApiConfig::default();
    let mut config = ManagementApiConfig::default();
    if let Some((value, origin)) = r.take("management_api.protocols") {
        match &value {
            Value::String(s) => {
                let words: Vec<&str> = s.split_whitespace().collect();
                if words.is_empty() || words.iter().any(|w| *w != "http" && *w != "https") {
                    r.invalid(
                        "management_api.protocols",
                        origin,
                        &value,
                        "\"https\", \"http\" or \"https http\"",
                    );
                } else {
                    config.https = words.contains(&"https");
                    config.http = words.contains(&"http");
                }
            }
            _ => r.invalid(
                "management_api.protocols",
                origin,
                &value,
                "a string: \"https\", \"http\" or \"https http\"",
            ),
        }
    }
    const JWT: &str = "management_api.jwt_token_security_handler";
    let _ = r.boolean(&format!("{JWT}.enable"), true);
    if let Some((v, _)) = r.unsigned(
        &format!("{JWT}.token_config.expiry"),
        "a token lifetime in seconds (a whole number)",
    ) {
        config.token_expiry = Duration::from_secs(v);
    }
    // MI signs every token with a fresh RSA key of this size; Conflux signs with HMAC-SHA256.
    let _ = r.unsigned(&format!("{JWT}.token_config.size"), "a key size in bits");
    if let Some((v, _)) = r.unsigned(
        &format!("{JWT}.token_store_config.max_size"),
        "the number of tokens kept (a whole number)",
    ) {
        config.token_store_max_size = usize::try_from(v).unwrap_or(usize::MAX);
    }
    if let Some((v, _)) = r.unsigned(
        &format!("{JWT}.token_store_config.clean_up_interval"),
        "an interval in seconds (a whole number)",
    ) {
        config.token_clean_up_interval = Duration::from_secs(v);
    }
    config.remove_oldest_token_on_overflow = r.boolean(
        &format!("{JWT}.token_store_config.remove_oldest_token_on_overflow"),
        defaults.remove_oldest_token_on_overflow,
    );
    config.cors_enabled = r.boolean("management_api.cors.enable", defaults.cors_enabled);
    if let Some(origins) = r.string("management_api.cors.allowed_origins") {
        config.cors_allowed_origins = origins
            .split(',')
            .map(|o| o.trim().to_string())
            .filter(|o| !o.is_empty())
            .collect();
    }
    if let Some(headers) = r.string("management_api.cors.allowed_headers") {
        config.cors_allowed_headers = headers;
    }
    let _ = r.boolean("internal_apis.file_user_store.enable", true);
    if let Some((value, origin)) = r.take("internal_apis.users")
        && let Some(users) = api_users(r, &value, &origin)
    {
        config.users = users;
        config.default_users = false;
    }
    config
}

/// `[[internal_apis.users]]` entries: `user.name`, `user.password`, `user.is_admin` (default false).
fn api_users(r: &mut Reader<'_>, value: &Value, origin: &Origin) -> Option<Vec<ApiUser>> {
    const KEY: &str = "[[internal_apis.users]]";
    let Value::Array(items) = value else {
        r.errors.push(ConfigError::InvalidValue {
            key: KEY.into(),
            origin: origin.clone(),
            value: value.display(),
            expected: "an array of tables with user.name, user.password and user.is_admin".into(),
        });
        return None;
    };
    let mut users = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let user = match item {
            Value::Table(t) => t.get("user"),
            _ => None,
        };
        let field = |name: &str| match user {
            Some(Value::Table(u)) => u.get(name),
            _ => None,
        };
        let text = |v: Option<&Value>| match v {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Integer(i)) => Some(i.to_string()),
            _ => None,
        };
        let key = |field: &str| format!("{KEY} entry {} user.{field}", index + 1);
        let name = text(field("name"));
        let password = text(field("password"));
        let is_admin = match field("is_admin") {
            None => Some(false),
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("true") => Some(true),
            Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("false") => Some(false),
            Some(other) => {
                r.errors.push(ConfigError::InvalidValue {
                    key: key("is_admin"),
                    origin: origin.clone(),
                    value: other.display(),
                    expected: "true or false".into(),
                });
                None
            }
        };
        for (field_name, present) in [("name", name.is_some()), ("password", password.is_some())] {
            if !present {
                r.errors.push(ConfigError::InvalidValue {
                    key: key(field_name),
                    origin: origin.clone(),
                    value: field(field_name).map_or("nothing".into(), Value::display),
                    expected: "a non-empty string".into(),
                });
            }
        }
        if let (Some(name), Some(password), Some(is_admin)) = (name, password, is_admin) {
            if users.iter().any(|u: &ApiUser| u.name == name) {
                r.errors.push(ConfigError::InvalidValue {
                    key: key("name"),
                    origin: origin.clone(),
                    value: format!("{name:?}"),
                    expected: "a user name not given twice".into(),
                });
                continue;
            }
            users.push(ApiUser {
                name,
                password,
                is_admin,
            });
        }
    }
    Some(users)
}

const OFFSET_EXPECTED: &str = "a whole number (negative lowers every port, as in MI), e.g. -DportOffset=3 or [server] offset = 3";

/// `-DportOffset` beats `[server] offset`, which beats 10; a user offset replaces 10.
fn resolve_offset(r: &mut Reader<'_>, properties: &SystemProperties) -> Option<Offset> {
    let doc_offset = r.take("server.offset");
    if let Some(p) = properties.get(PORT_OFFSET_PROPERTY) {
        let origin = Origin::CommandLine(p.argument.clone());
        return match parse_offset(&p.value) {
            Some(value) => Some(Offset {
                value,
                source: OffsetSource::CommandLine,
                origin,
            }),
            None => {
                let expected = if p.argument == format!("-D{PORT_OFFSET_PROPERTY}") {
                    format!(
                        "{OFFSET_EXPECTED} (a bare -DportOffset means \"true\" to MI's launcher)"
                    )
                } else {
                    OFFSET_EXPECTED.to_string()
                };
                r.errors.push(ConfigError::InvalidValue {
                    key: "-DportOffset".into(),
                    origin,
                    value: format!("{:?}", p.value),
                    expected,
                });
                None
            }
        };
    }
    match doc_offset {
        Some((value, origin)) => {
            let parsed = match &value {
                Value::Integer(i) => i32::try_from(*i).ok(),
                Value::String(s) => parse_offset(s),
                _ => None,
            };
            match parsed {
                Some(v) => Some(Offset {
                    value: v,
                    source: OffsetSource::DeploymentToml,
                    origin,
                }),
                None => {
                    r.errors.push(ConfigError::InvalidValue {
                        key: "[server] offset".into(),
                        origin,
                        value: value.display(),
                        expected: OFFSET_EXPECTED.into(),
                    });
                    None
                }
            }
        }
        None => Some(Offset {
            value: DEFAULT_PORT_OFFSET,
            source: OffsetSource::Default,
            origin: Origin::Default,
        }),
    }
}

/// MI trims the offset text and parses it with `Integer.parseInt` (`PersistenceUtils#getPortOffset`,
/// `CarbonUtils#getPortFromServerConfig`): any integer, with an optional sign. Whether the ports it
/// gives are valid is the port plan's check, not the offset's.
fn parse_offset(text: &str) -> Option<i32> {
    let t = text.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<i32>().ok()
}

/// Typed access to the document that remembers which keys were read.
struct Reader<'d> {
    doc: &'d Document,
    used: BTreeSet<String>,
    errors: Vec<ConfigError>,
}

impl<'d> Reader<'d> {
    fn new(doc: &'d Document) -> Self {
        Reader {
            doc,
            used: BTreeSet::new(),
            errors: Vec::new(),
        }
    }

    fn take(&mut self, key: &str) -> Option<(Value, Origin)> {
        self.used.insert(key.to_string());
        self.doc
            .get(key)
            .map(|e| (e.value.clone(), e.origin.clone()))
    }

    fn invalid(&mut self, key: &str, origin: Origin, value: &Value, expected: &str) {
        self.errors.push(ConfigError::InvalidValue {
            key: display_key(key),
            origin,
            value: value.display(),
            expected: expected.to_string(),
        });
    }

    fn string(&mut self, key: &str) -> Option<String> {
        let (value, origin) = self.take(key)?;
        match value {
            Value::String(s) => Some(s),
            Value::Integer(i) => Some(i.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Float(f) => Some(f.to_string()),
            other => {
                self.invalid(key, origin, &other, "a string");
                None
            }
        }
    }

    /// MI renders values into text files, so `"true"` works as well as `true`.
    fn boolean(&mut self, key: &str, default: bool) -> bool {
        let Some((value, origin)) = self.take(key) else {
            return default;
        };
        match &value {
            Value::Bool(b) => *b,
            Value::String(s) if s.trim().eq_ignore_ascii_case("true") => true,
            Value::String(s) if s.trim().eq_ignore_ascii_case("false") => false,
            _ => {
                self.invalid(key, origin, &value, "true or false");
                default
            }
        }
    }

    fn unsigned(&mut self, key: &str, expected: &str) -> Option<(u64, Origin)> {
        let (value, origin) = self.take(key)?;
        let parsed = match &value {
            Value::Integer(i) => u64::try_from(*i).ok(),
            Value::String(s) => {
                let t = s.trim();
                if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
                    t.parse().ok()
                } else {
                    None
                }
            }
            _ => None,
        };
        match parsed {
            Some(v) => Some((v, origin)),
            None => {
                self.invalid(key, origin, &value, expected);
                None
            }
        }
    }

    /// A base port; the plan checks its range once the offset is known.
    fn port(&mut self, key: &str) -> Option<(u32, Origin)> {
        let (v, origin) =
            self.unsigned(key, "a port number from 1 to 65535 (before the offset)")?;
        match u32::try_from(v) {
            Ok(v) => Some((v, origin)),
            Err(_) => Some((u32::MAX, origin)),
        }
    }

    fn message_size(&mut self, key: &str) -> u64 {
        let expected = "a size in bytes from 1 (a whole number, e.g. 10485760 for 10 MiB)";
        match self.unsigned(key, expected) {
            Some((0, origin)) => {
                self.invalid(key, origin, &Value::Integer(0), expected);
                DEFAULT_MAX_MESSAGE_BYTES
            }
            Some((v, _)) => v,
            None => DEFAULT_MAX_MESSAGE_BYTES,
        }
    }

    fn millis(&mut self, key: &str, default: u64) -> u64 {
        self.unsigned(key, "a duration in milliseconds (a whole number)")
            .map(|(v, _)| v)
            .unwrap_or(default)
    }

    /// Warnings for every key nobody read.
    fn leftover_warnings(&self) -> Vec<ConfigWarning> {
        let mut warnings = Vec::new();
        let mut not_yet = Vec::new();
        for entry in self.doc.entries() {
            if self.used.contains(&entry.key) {
                continue;
            }
            let known = match split_checked(&entry.key) {
                Some((table, rest)) => mi_keys_of_table(table)
                    .iter()
                    .any(|k| rest == *k || rest.starts_with(&format!("{k}."))),
                None => {
                    let top = entry.key.split('.').next().unwrap_or("");
                    MI_TABLES.contains(&top)
                }
            };
            if known {
                not_yet.push(entry.key.clone());
            } else {
                warnings.push(ConfigWarning::UnknownKey {
                    key: display_key(&entry.key),
                    origin: entry.origin.clone(),
                });
            }
        }
        if !not_yet.is_empty() {
            warnings.push(ConfigWarning::NotSupportedYet { keys: not_yet });
        }
        warnings
    }
}

/// `transport.http.listener.port` -> `[transport.http] listener.port`, as the user wrote it.
fn display_key(key: &str) -> String {
    match split_checked(key) {
        Some((table, rest)) => format!("[{table}] {rest}"),
        None => match key.rsplit_once('.') {
            Some((table, rest)) => format!("[{table}] {rest}"),
            None => key.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str, defines: &[&str]) -> Result<Config, ConfigErrors> {
        let props = SystemProperties::from_definitions(defines);
        let path = PathBuf::from("/h/conf/deployment.toml");
        let doc = Document::parse(&path, text, &props).map_err(ConfigErrors)?;
        from_document(Path::new("/h"), path, &doc, props, Vec::new())
    }

    fn port(c: &Config, role: Role) -> u16 {
        c.ports.get(role).unwrap().port
    }

    #[test]
    fn empty_file_gives_mi_defaults() {
        let c = load_text("", &[]).unwrap();
        assert_eq!(c.ports.offset().value, 10);
        assert_eq!(c.ports.offset().source, OffsetSource::Default);
        assert_eq!(port(&c, Role::Http), 8290);
        assert_eq!(port(&c, Role::InternalHttps), 9164);
        assert_eq!(c.hostname, "localhost");
        assert_eq!(c.ports.get(Role::JmxRmiRegistry).unwrap().bind, "localhost");
        assert_eq!(c.transport.socket_timeout, Duration::from_secs(180));
        assert_eq!(
            c.synapse_config_dir,
            PathBuf::from("/h/repository/deployment/server/synapse-configs/default")
        );
    }

    #[test]
    fn client_limits_default_read_and_reject_zero_with_their_line() {
        let c = load_text("", &[]).unwrap();
        assert_eq!(c.transport.clients, ClientLimits::default());
        assert_eq!(c.transport.clients.max_open_connections, Some(10_000));
        let c = load_text(
            "[transport.http]\nmax_open_connections = 5\nclient_header_timeout = 1000\nclient_keepalive_timeout = 2000\nclient_body_timeout = 3000\nclient_body_min_rate = 0\nclient_send_timeout = 4000\nclient_send_min_rate = 0\n",
            &[],
        )
        .unwrap();
        let l = c.transport.clients;
        assert_eq!(l.max_open_connections, Some(5));
        assert_eq!(l.header_timeout, Duration::from_secs(1));
        assert_eq!(l.keepalive_timeout, Duration::from_secs(2));
        assert_eq!(l.body_timeout, Duration::from_secs(3));
        assert_eq!(l.body_min_rate, 0);
        assert_eq!(l.send_timeout, Duration::from_secs(4));
        assert_eq!(l.send_min_rate, 0);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        // MI's -1: no cap.
        let c = load_text("[transport.http]\nmax_open_connections = -1\n", &[]).unwrap();
        assert_eq!(c.transport.clients.max_open_connections, None);
        for bad in [
            "max_open_connections = 0",
            "max_open_connections = -2",
            "max_open_connections = \"many\"",
            "client_header_timeout = 0",
            "client_send_timeout = \"slow\"",
            "client_body_min_rate = -1",
        ] {
            let err = load_text(&format!("[transport.http]\n{bad}\n"), &[])
                .unwrap_err()
                .to_string();
            let key = bad.split(' ').next().unwrap_or_default();
            assert!(
                err.contains(key) && err.contains("deployment.toml:2"),
                "{err}"
            );
        }
    }

    #[test]
    fn max_message_size_defaults_reads_and_rejects_zero_with_its_line() {
        let c = load_text("", &[]).unwrap();
        assert_eq!(c.transport.max_message_bytes, DEFAULT_MAX_MESSAGE_BYTES);
        let c = load_text("[mediation]\nmax_message_size = 1024\n", &[]).unwrap();
        assert_eq!(c.transport.max_message_bytes, 1024);
        for bad in ["0", "\"big\"", "-1"] {
            let err = load_text(&format!("[mediation]\nmax_message_size = {bad}\n"), &[])
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("max_message_size") && err.contains("deployment.toml:2"),
                "{err}"
            );
        }
    }

    #[test]
    fn max_inflight_branches_defaults_reads_and_rejects_zero_with_its_line() {
        let c = load_text("", &[]).unwrap();
        assert_eq!(
            c.transport.max_inflight_branches,
            DEFAULT_MAX_INFLIGHT_BRANCHES
        );
        let c = load_text("[mediation]\nmax_inflight_branches = 4\n", &[]).unwrap();
        assert_eq!(c.transport.max_inflight_branches, 4);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        for bad in ["0", "\"many\"", "-1"] {
            let err = load_text(
                &format!("[mediation]\nmax_inflight_branches = {bad}\n"),
                &[],
            )
            .unwrap_err()
            .to_string();
            assert!(
                err.contains("max_inflight_branches") && err.contains("deployment.toml:2"),
                "{err}"
            );
        }
    }

    // MI: the system property wins outright over [server] offset (core Activator).
    #[test]
    fn http1_engine_defaults_to_conflux_and_rejects_other_names_with_its_line() {
        let c = load_text("", &[]).unwrap();
        assert_eq!(c.transport.http1_engine, Http1Engine::Conflux);
        let c = load_text("[transport]\nhttp1_engine = \"conflux\"\n", &[]).unwrap();
        assert_eq!(c.transport.http1_engine, Http1Engine::Conflux);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let c = load_text("[transport]\nhttp1_engine = \"hyper\"\n", &[]).unwrap();
        assert_eq!(c.transport.http1_engine, Http1Engine::Hyper);
        for bad in ["\"nginx\"", "1", "true"] {
            let err = load_text(&format!("[transport]\nhttp1_engine = {bad}\n"), &[])
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("http1_engine")
                    && err.contains("deployment.toml:2")
                    && err.contains("\"conflux\" (the default) or \"hyper\""),
                "{err}"
            );
        }
    }

    #[test]
    fn message_size_validation_is_off_by_default_and_read_with_its_line() {
        let c = load_text("", &[]).unwrap();
        assert_eq!(c.transport.max_request_bytes, None);
        let c = load_text(
            "[transport.http]\nenable_message_size_validation = true\nmax_message_size_bytes = 185\n",
            &[],
        )
        .unwrap();
        assert_eq!(c.transport.max_request_bytes, Some(185));
        let c = load_text(
            "[transport.http]\nenable_message_size_validation = true\n",
            &[],
        )
        .unwrap();
        assert_eq!(
            c.transport.max_request_bytes,
            Some(DEFAULT_MAX_REQUEST_BYTES)
        );
        let c = load_text("[transport.http]\nmax_message_size_bytes = 185\n", &[]).unwrap();
        assert_eq!(c.transport.max_request_bytes, None);
        let err = load_text(
            "[transport.http]\nenable_message_size_validation = true\nmax_message_size_bytes = \"big\"\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("max_message_size_bytes") && err.contains("deployment.toml:3"),
            "{err}"
        );
    }

    #[test]
    fn outbound_http_proxy_keys() {
        let c = load_text(
            "[transport.http]\nsender.proxy_host = \"111.wso2.com\"\nsender.proxy_port = 7777\nsender.non_proxy_hosts = [\".*.222.wso2.com\",\"localhost\"]\n",
            &[],
        )
        .unwrap();
        assert_eq!(
            c.transport.http_proxy,
            Some(OutboundProxy {
                host: "111.wso2.com".into(),
                port: 7777,
                non_proxy_hosts: vec![".*.222.wso2.com".into(), "localhost".into()],
            })
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.transport.https_proxy, None);
        let c = load_text(
            "[transport.http]\nsender.secured_proxy_host = \"p.example\"\nsender.secured_proxy_port = 3128\n",
            &[],
        )
        .unwrap();
        assert_eq!(c.transport.https_proxy.map(|p| p.port), Some(3128));
        assert_eq!(c.transport.http_proxy, None);
        let err = load_text(
            "[transport.http]\nsender.proxy_host = \"p\"\nsender.proxy_port = 70000\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("proxy_port") && err.contains("deployment.toml:3"),
            "{err}"
        );
    }

    #[test]
    fn command_line_beats_file_beats_default() {
        let c = load_text("[server]\noffset = 3\n", &["portOffset=5"]).unwrap();
        assert_eq!(c.ports.offset().value, 5);
        assert_eq!(c.ports.offset().source, OffsetSource::CommandLine);
        assert_eq!(port(&c, Role::Http), 8285);
        let c = load_text("[server]\noffset = 3\n", &[]).unwrap();
        assert_eq!(c.ports.offset().source, OffsetSource::DeploymentToml);
        assert_eq!(port(&c, Role::Https), 8246);
        let c = load_text("[server]\noffset = \" 0 \"\n", &[]).unwrap();
        assert_eq!(port(&c, Role::Http), 8280);
    }

    #[test]
    fn explicit_ports_still_get_the_offset() {
        let c = load_text("[mediation]\ninternal_https_api_port = 9154\n", &[]).unwrap();
        assert_eq!(port(&c, Role::InternalHttps), 9164);
        let c = load_text("[mediation]\ninternal_https_api_port = 9300\n", &[]).unwrap();
        assert_eq!(port(&c, Role::InternalHttps), 9310);
        // MI renders values as text, so a quoted port works (corpus: listener.port = "8290").
        let c = load_text("[transport.http]\nlistener.port = \"8290\"\n", &[]).unwrap();
        assert_eq!(port(&c, Role::Http), 8300);
    }

    #[test]
    fn bad_offsets_are_rejected_with_key_origin_value() {
        for (text, defines, needle) in [
            (
                "[server]\noffset = \"abc\"\n",
                vec![],
                "deployment.toml:2:10",
            ),
            ("[server]\noffset = 1.5\n", vec![], "1.5"),
            ("", vec!["portOffset=abc"], "-DportOffset=abc"),
            ("", vec!["portOffset=3-"], "-DportOffset=3-"),
            ("", vec!["portOffset"], "bare -DportOffset"),
        ] {
            let err = load_text(text, &defines).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
            assert!(err.contains("a whole number"), "{err}");
        }
    }

    // MI reads the offset with Integer.parseInt, so `offset = -810` runs HTTP on 7470; Conflux
    // accepts it too and warns that every port is lowered.
    #[test]
    fn a_negative_offset_is_accepted_with_a_warning() {
        for (text, defines) in [
            ("[server]\noffset = -810\n", vec![]),
            ("", vec!["portOffset=-810"]),
            ("[server]\noffset = \" -810 \"\n", vec![]),
        ] {
            let c = load_text(text, &defines).unwrap();
            assert_eq!(port(&c, Role::Http), 7470);
            let warnings: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
            assert!(
                warnings
                    .iter()
                    .any(|w| w.contains("offset -810") && w.contains("HTTP on 7470")),
                "{warnings:?}"
            );
        }
    }

    #[test]
    fn offset_pushing_a_port_past_65535_is_rejected() {
        let err = load_text("", &["portOffset=65300"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("8280 + offset 65300 = 73580"), "{err}");
    }

    #[test]
    fn switches_turn_roles_off() {
        let c = load_text(
            "[transport.http]\nlistener.enable = false\nlistener.secured_enable = \"false\"\n[mediation]\ninternal_http_api_enable = false\n[monitoring.jmx]\nrmi_server_start = false\n",
            &[],
        )
        .unwrap();
        assert_eq!(c.ports.listeners().count(), 0);
        assert!(c.ports.entries().iter().all(|e| !e.enabled));
    }

    #[test]
    fn bind_addresses_come_from_their_keys() {
        let c = load_text(
            "[server]\nhostname = \"example\"\n[transport.http]\nlistener.bind_address = \"127.0.0.1\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(c.ports.get(Role::Http).unwrap().bind, "127.0.0.1");
        assert_eq!(c.ports.get(Role::Https).unwrap().bind, "0.0.0.0");
        assert_eq!(c.ports.get(Role::JmxRmiRegistry).unwrap().bind, "example");
    }

    #[test]
    fn misspelt_key_is_warned_with_its_line_and_mi_keys_are_quiet() {
        let c = load_text(
            "[server]\nhostnmae = \"x\"\nenable_mtom = true\n[transport.jms]\nsender_enable = true\n[nonsense]\na = 1\n",
            &[],
        )
        .unwrap();
        let text: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
        assert!(
            text.iter()
                .any(|w| w.contains("[server] hostnmae") && w.contains("deployment.toml:2:12")),
            "{text:?}"
        );
        assert!(text.iter().any(|w| w.contains("[nonsense] a")), "{text:?}");
        let not_yet = text
            .iter()
            .find(|w| w.contains("not supported by Conflux yet"))
            .unwrap();
        assert!(not_yet.contains("server.enable_mtom"), "{not_yet}");
        assert!(not_yet.contains("transport.jms.sender_enable"), "{not_yet}");
        assert_eq!(text.len(), 3, "{text:?}");
    }

    #[test]
    fn wrong_types_are_errors_naming_the_key() {
        let err = load_text("[transport.http]\nlistener.enable = 3\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("[transport.http] listener.enable"), "{err}");
        assert!(err.contains("true or false"), "{err}");
        let err = load_text("[transport.http]\nlistener.port = \"http\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("[transport.http] listener.port"), "{err}");
    }

    #[test]
    fn all_errors_are_reported_together() {
        let err = load_text(
            "[transport.http]\nlistener.enable = 3\nsocket_timeout = \"soon\"\n[server]\noffset = \"x\"\n",
            &[],
        )
        .unwrap_err();
        assert_eq!(err.0.len(), 3, "{err}");
    }

    #[test]
    fn management_api_defaults_are_https_only_and_admin_admin() {
        let c = load_text("", &[]).unwrap();
        let m = &c.management_api;
        assert!(m.https && !m.http);
        assert!(m.default_users);
        assert_eq!(m.users[0].name, "admin");
        assert!(m.users[0].is_admin);
        assert_eq!(m.token_expiry, Duration::from_secs(3600));
        assert_eq!(m.token_store_max_size, 200);
        assert_eq!(m.cors_allowed_origins, vec!["*".to_string()]);
    }

    // MI: internal-apis.xml.j2 renders these keys; a [[internal_apis.users]] list replaces the
    // default admin.
    #[test]
    fn management_api_keys_are_read() {
        let c = load_text(
            "[management_api]\nprotocols = \"https http\"\n[management_api.jwt_token_security_handler]\ntoken_config.expiry = 60\ntoken_store_config.max_size = \"5\"\ntoken_store_config.remove_oldest_token_on_overflow = false\n[management_api.cors]\nenable = false\nallowed_origins = \"https://a.example, https://b.example\"\n[[internal_apis.users]]\nuser.name = \"ops\"\nuser.password = \"s3cret\"\nuser.is_admin = \"true\"\n[[internal_apis.users]]\nuser.name = \"viewer\"\nuser.password = \"v\"\n",
            &[],
        )
        .unwrap();
        let m = &c.management_api;
        assert!(m.https && m.http);
        assert_eq!(m.token_expiry, Duration::from_secs(60));
        assert_eq!(m.token_store_max_size, 5);
        assert!(!m.remove_oldest_token_on_overflow);
        assert!(!m.cors_enabled);
        assert_eq!(m.cors_allowed_origins.len(), 2);
        assert!(!m.default_users);
        assert_eq!(m.users.len(), 2);
        assert!(m.users[0].is_admin && !m.users[1].is_admin);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn bad_management_api_values_are_errors() {
        let err = load_text("[management_api]\nprotocols = \"ftp\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("[management_api] protocols"), "{err}");
        let err = load_text("[[internal_apis.users]]\nuser.name = \"a\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("user.password"), "{err}");
    }

    #[test]
    fn console_keys_are_read_and_checked() {
        let c = load_text("", &[]).unwrap();
        assert_eq!(c.console, ConsoleConfig::default());
        assert!(c.console.enabled && c.console.discovery && c.console.peers.is_empty());
        let c = load_text(
            "[console]\nenabled = \"false\"\ndiscovery = false\npeers = [\"https://b.example:9164/\", \"https://[::1]:9164\"]\n",
            &[],
        )
        .unwrap();
        assert!(!c.console.enabled && !c.console.discovery);
        assert_eq!(
            c.console.peers,
            ["https://b.example:9164", "https://[::1]:9164"]
        );
        for bad in [
            "peers = \"https://b:9164\"",
            "peers = [\"ftp://b:21\"]",
            "peers = [\"http://b:9191\"]",
            "peers = [\"https://b\"]",
            "peers = [\"https://b:9164/management\"]",
            "peers = [\"https://b:0\"]",
            "peers = [1]",
            "enabled = \"yes\"",
        ] {
            let err = load_text(&format!("[console]\n{bad}\n"), &[])
                .unwrap_err()
                .to_string();
            assert!(err.contains("[console] "), "{bad}: {err}");
            assert!(err.contains("deployment.toml:2"), "{bad}: {err}");
        }
        // Limit + 1 peers.
        let many: Vec<String> = (0..=MAX_CONSOLE_PEERS)
            .map(|i| format!("\"https://h{i}:9164\""))
            .collect();
        let text = format!("[console]\npeers = [{}]\n", many.join(", "));
        assert!(load_text(&text, &[]).is_err());
        let text = format!("[console]\npeers = [{}]\n", many[1..].join(", "));
        assert_eq!(
            load_text(&text, &[]).unwrap().console.peers.len(),
            MAX_CONSOLE_PEERS
        );
        let c = load_text("[console]\nfleet_token = \"0123456789abcdef\"\n", &[]).unwrap();
        assert_eq!(c.console.fleet_token.as_deref(), Some("0123456789abcdef"));
        assert!(!format!("{:?}", c.console).contains("0123456789abcdef"));
        for bad in ["\"0123456789abcde\"", "\"0123456789 abcdef\"", "42"] {
            let err = load_text(&format!("[console]\nfleet_token = {bad}\n"), &[])
                .unwrap_err()
                .to_string();
            assert!(err.contains("[console] fleet_token"), "{err}");
            assert!(
                !err.contains("0123456789"),
                "the secret is not echoed: {err}"
            );
        }
        let c = load_text("[console]\nenable = true\n", &[]).unwrap();
        assert!(
            c.warnings
                .iter()
                .any(|w| w.to_string().contains("[console] enable")),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn keystore_paths_are_resolved_against_the_home() {
        let c = load_text(
            "[keystore.primary]\nfile_name = \"repository/resources/security/a.p12\"\npassword = \"p\"\nalias = \"k\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(
            c.keystore.file,
            PathBuf::from("/h/repository/resources/security/a.p12")
        );
        assert_eq!(c.keystore.password, "p");
        assert_eq!(c.keystore.alias.as_deref(), Some("k"));
    }

    // MI config tool key-mappings.json: [mediation] synapse.* JSON keys -> synapse.properties
    // synapse.commons.json.*; JsonUtil.generateJSONOutputFactory's defaults otherwise.
    #[test]
    fn json_settings_from_mediation_keys_and_synapse_properties() {
        let c = load_text("", &[]).unwrap();
        assert_eq!(c.json, JsonConfig::default());
        let c = load_text(
            concat!(
                "[mediation]\n",
                "synapse.enable_namespace_declaration = true\n",
                "synapse.build_valid_nc_name = true\n",
                "synapse.enable_auto_primitive = false\n",
                "synapse.json_out_auto_array = \"false\"\n",
                "synapse.preserve_namespace_on_xml_to_json=true\n",
                "synapse.enable_xml_nil = true\n",
                "synapse.disable_auto_primitive_regex = \"^-?(0|[1-9][0-9]*)(\\\\.[0-9]+)?$\"\n",
                "synapse.disable_custom_replace_regex = \"@@@\"\n",
                "[synapse_properties]\n",
                "'synapse.commons.json.output.jsonoutMultiplePI' = false\n",
                "'synapse.commons.json.output.namespaceSepChar' = \"-\"\n",
                "'synapse.commons.enableXmlNullForEmptyElement' = false\n",
                "'synapse.commons.json.json.output.disableAutoPrimitive.customReplaceSequence' = \"#\"\n",
                "'synapse.commons.enableXmlNilReadWrite' = false\n",
            ),
            &[],
        )
        .unwrap();
        assert_eq!(
            c.json,
            JsonConfig {
                preserve_namespace: true,
                build_valid_nc_names: true,
                auto_primitive: false,
                namespace_separator: '-',
                namespace_declarations: true,
                // Properties.load drops the backslash of "\.".
                disable_auto_primitive_regex: Some("^-?(0|[1-9][0-9]*)(.[0-9]+)?$".into()),
                custom_replace_regex: Some("@@@".into()),
                custom_replace_sequence: "#".into(),
                json_out_auto_array: false,
                json_out_multiple_pi: false,
                // The [mediation] key wins over the property.
                xml_nil: true,
                null_for_empty_element: false,
                xml_out_multiple_pi: false,
            }
        );
        // Every one of them is understood: nothing is listed as not supported.
        assert!(
            !c.warnings
                .iter()
                .any(|w| matches!(w, ConfigWarning::NotSupportedYet { .. })),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn json_settings_reject_bad_regexes_and_booleans_with_their_line() {
        let err = load_text(
            "[mediation]\nsynapse.disable_custom_replace_regex = \"(\"\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("disable_custom_replace_regex")
                && err.contains("deployment.toml:2")
                && err.contains("regular expression"),
            "{err}"
        );
        let err = load_text("[mediation]\nsynapse.enable_xml_nil = \"yes\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("enable_xml_nil") && err.contains("true or false"),
            "{err}"
        );
    }

    // java.util.Properties.load(Reader): loadConvert's escapes, leading whitespace dropped.
    #[test]
    fn java_properties_value_unescapes_as_properties_load() {
        assert_eq!(java_properties_value(r"a\.b\\c\d"), r"a.b\cd");
        assert_eq!(java_properties_value(r"\t\n\r\f"), "\t\n\r\u{c}");
        assert_eq!(java_properties_value(r"\u0041\u00e9x"), "Aéx");
        assert_eq!(java_properties_value(r"\u12"), "u12");
        assert_eq!(java_properties_value("  @@@ "), "@@@ ");
        assert_eq!(java_properties_value("end\\"), "end");
    }

    #[test]
    fn jolokia_credentials_and_the_metric_handler() {
        let c = load_text("", &[]).unwrap();
        assert_eq!(c.jolokia.credentials, None);
        let c = load_text(
            "[monitoring.jolokia]\nusername = \"ops\"\npassword = \"pw\"\n[[synapse_handlers]]\nname = \"CustomObservabilityHandler\"\nclass = \"org.wso2.micro.integrator.observability.metric.handler.MetricHandler\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(c.jolokia.credentials, Some(("ops".into(), "pw".into())));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        // A misspelt key in the Conflux table is warned about; another handler is "not yet".
        let c = load_text(
            "[monitoring.jolokia]\nusernme = \"ops\"\n[[synapse_handlers]]\nname = \"x\"\nclass = \"com.example.Other\"\n",
            &[],
        )
        .unwrap();
        let text: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
        assert!(text.iter().any(|w| w.contains("usernme")), "{text:?}");
        assert!(
            text.iter().any(|w| w.contains("synapse_handlers")),
            "{text:?}"
        );
        assert_eq!(c.jolokia.credentials, None);
    }
}
