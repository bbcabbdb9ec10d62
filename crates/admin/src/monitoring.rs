//! Remote monitoring on the `[monitoring.jmx] rmi_registry_port` in the Jolokia protocol (JMX over
//! HTTP/JSON, <https://jolokia.org/reference/html/manual/jolokia_protocol.html>): a native server has
//! no JVM and so no RMI; MI itself never opens these ports (mi-ports.md §1.5).
//!
//! Requests: `version`, `read` (one, several or all attributes), `list` (with a path), `search`
//! (ObjectName patterns) and `exec` (only the read-only operations listed per MBean), in the GET form
//! (`/jolokia/read/<mbean>[/<attribute>]`, ...) and the POST form (one JSON request or a bulk list).
//!
//! MBeans mirror MI's names where MI has one (Synapse's `org.apache.synapse:Type=ServerManager`,
//! `Type=Transport,Name=passthru-http-receiver`, `Type=Endpoint,Name=<endpoint>`, as listed in MI's
//! "JMX Monitoring" documentation), plus Conflux's `org.wso2.conflux:type=Server` and
//! per-API / per-proxy counters (`org.apache.synapse:Type=API|ProxyService,Name=<name>`), read from
//! [`Observed`] snapshots. The listener protections' counters appear where MI has the attribute
//! (the transport MBean's `TimeoutsReceiving` / `TimeoutsSending`, Synapse passthru `TransportView`;
//! `ActiveConnections` of `Type=PassThroughConnections,Name=http-listener`, passthru
//! `ConnectionsView`) and whole in Conflux's `org.wso2.conflux:type=Listener,name=<listener>`. Names are matched and reported in canonical form (keys sorted), as JMX's
//! `ObjectName.getCanonicalName` does.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::metrics::Observed;
use crate::status::ServerStatus;

/// The Jolokia protocol version these answers follow.
pub const JOLOKIA_PROTOCOL: &str = "7.2";
/// Conflux's own server MBean.
pub const SERVER_MBEAN: &str = "org.wso2.conflux:type=Server";
/// Synapse's server manager MBean (attribute `ServerState`).
pub const SERVER_MANAGER_MBEAN: &str = "org.apache.synapse:Name=ServerManager,Type=ServerManager";
/// Conflux's per-listener protection counters, `name` being the listener (`http`, `https`,
/// `internal_http`, `internal_https`, `jmx_rmi_registry`).
pub const LISTENER_MBEAN_PREFIX: &str = "org.wso2.conflux:type=Listener,name=";
/// Largest POST body accepted (Jolokia requests are small JSON objects).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// Most requests in one bulk POST.
pub const MAX_BULK_REQUESTS: usize = 100;

/// The monitoring router.
#[derive(Clone)]
pub struct Monitoring {
    status: Arc<ServerStatus>,
    observed: Option<Arc<dyn Observed>>,
    /// `user:password` for HTTP Basic auth; `None` lets every caller in.
    credentials: Option<(String, String)>,
}

impl std::fmt::Debug for Monitoring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitoring")
            .field("auth", &self.credentials.is_some())
            .finish_non_exhaustive()
    }
}

/// One MBean as served: canonical name, attributes (read-only) and read-only operations.
#[derive(Debug, Clone)]
struct MBean {
    domain: String,
    /// Key properties, sorted by key.
    keys: Vec<(String, String)>,
    desc: &'static str,
    attributes: serde_json::Map<String, Value>,
    /// Operation name -> its answer (operations here take no arguments and change nothing).
    operations: Vec<(&'static str, &'static str, Value)>,
}

impl MBean {
    fn new(name: &str, desc: &'static str) -> MBean {
        let (domain, keys) = parse_object_name(name).unwrap_or_default();
        MBean {
            domain,
            keys,
            desc,
            attributes: serde_json::Map::new(),
            operations: Vec::new(),
        }
    }

    fn attr(mut self, name: &str, value: Value) -> MBean {
        self.attributes.insert(name.to_string(), value);
        self
    }

    fn canonical(&self) -> String {
        canonical(&self.domain, &self.keys)
    }
}

impl Monitoring {
    pub fn new(status: Arc<ServerStatus>) -> Self {
        Monitoring {
            status,
            observed: None,
            credentials: None,
        }
    }

    /// Serves the transport, endpoint, API and proxy MBeans from `observed`.
    pub fn with_observed(mut self, observed: Arc<dyn Observed>) -> Self {
        self.observed = Some(observed);
        self
    }

    /// Requires HTTP Basic auth with these credentials on every request.
    pub fn with_basic_auth(mut self, user: String, password: String) -> Self {
        self.credentials = Some((user, password));
        self
    }

    /// [`Monitoring::handle`] after checking the `Authorization` header when auth is configured:
    /// 401 with a `WWW-Authenticate` challenge otherwise (Jolokia's agent does the same).
    pub fn handle_authorized(
        &self,
        method: &Method,
        path: &str,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Response<Bytes> {
        if let Some((user, password)) = &self.credentials {
            let given = authorization
                .and_then(|h| h.strip_prefix("Basic "))
                .and_then(|b| base64_decode(b.trim()))
                .and_then(|raw| String::from_utf8(raw).ok());
            let expected = format!("{user}:{password}");
            if !given.is_some_and(|g| constant_time_eq(g.as_bytes(), expected.as_bytes())) {
                let mut r = respond(
                    StatusCode::UNAUTHORIZED,
                    json!({"error": "authentication required", "status": 401}),
                );
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Basic realm=\"jolokia\""),
                );
                return r;
            }
        }
        self.handle(method, path, body)
    }

    /// Answers a GET-form request (`path` after the host) or a POST body.
    pub fn handle(&self, method: &Method, path: &str, body: &[u8]) -> Response<Bytes> {
        let path = path.split('?').next().unwrap_or("");
        let Some(rest) = path.strip_prefix("/jolokia") else {
            return respond(
                StatusCode::NOT_FOUND,
                json!({"error": "not found; the Jolokia agent is at /jolokia", "status": 404}),
            );
        };
        let request = if method == Method::POST {
            if body.len() > MAX_REQUEST_BYTES {
                return respond(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    error_value(
                        &Value::Null,
                        413,
                        "java.lang.IllegalArgumentException",
                        "request too large",
                    ),
                );
            }
            match serde_json::from_slice::<Value>(body) {
                Ok(v) => v,
                Err(e) => {
                    return self.reply(error_value(
                        &Value::Null,
                        400,
                        "java.lang.IllegalArgumentException",
                        &format!("invalid JSON request: {e}"),
                    ));
                }
            }
        } else if method == Method::GET {
            get_form(rest)
        } else {
            return respond(
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"error": "use GET or POST", "status": 405}),
            );
        };
        let beans = self.mbeans();
        let answer = match &request {
            Value::Array(items) if items.len() > MAX_BULK_REQUESTS => error_value(
                &Value::Null,
                400,
                "java.lang.IllegalArgumentException",
                &format!("a bulk request may hold at most {MAX_BULK_REQUESTS} requests"),
            ),
            Value::Array(items) => {
                Value::Array(items.iter().map(|r| self.execute(r, &beans)).collect())
            }
            single => self.execute(single, &beans),
        };
        self.reply(answer)
    }

    fn reply(&self, mut answer: Value) -> Response<Bytes> {
        let now = self.status.started_at_epoch_ms() / 1000 + self.status.uptime_ms() / 1000;
        match &mut answer {
            Value::Object(o) => {
                o.insert("timestamp".into(), json!(now));
            }
            Value::Array(items) => {
                for item in items {
                    if let Value::Object(o) = item {
                        o.insert("timestamp".into(), json!(now));
                    }
                }
            }
            _ => {}
        }
        // Jolokia answers HTTP 200 and puts the outcome in the "status" field.
        respond(StatusCode::OK, answer)
    }

    /// Every MBean with its current attribute values.
    fn mbeans(&self) -> Vec<MBean> {
        let st = &self.status;
        let mut beans = vec![
            MBean::new(SERVER_MBEAN, "Conflux server status")
                .attr(
                    "Status",
                    json!(if st.is_started() {
                        "started"
                    } else {
                        "starting"
                    }),
                )
                .attr("Version", json!(st.version))
                .attr("StartTime", json!(st.started_at_epoch_ms() as u64))
                .attr("Uptime", json!(st.uptime_ms() as u64))
                .attr("PortOffset", json!(st.port_offset))
                .attr("FaultyArtifacts", json!(st.faulty_artifacts().len())),
            MBean::new(SERVER_MANAGER_MBEAN, "Synapse server manager").attr(
                "ServerState",
                json!(if st.is_started() {
                    "STARTED"
                } else {
                    "INITIALIZED"
                }),
            ),
        ];
        beans[0].operations.push((
            "faultyArtifacts",
            "The artifacts that failed to deploy, as file: reason",
            json!(st.faulty_artifacts()),
        ));
        let Some(observed) = &self.observed else {
            return beans;
        };
        let listeners = observed.listeners();
        for t in observed.transports() {
            let listener = listeners.iter().find(|l| l.listener == t.name);
            // MI counts a socket timeout while reading the request head or body as a timeout
            // receiving (passthru `SourceHandler.timeout`); Conflux's send timeouts are the ones
            // sending.
            let receiving = listener.map_or(0, |l| l.header_timeouts + l.body_timeouts);
            let sending = listener.map_or(0, |l| l.send_timeouts);
            beans.push(
                MBean::new(
                    &format!(
                        "org.apache.synapse:Type=Transport,Name=passthru-{}-receiver",
                        t.name
                    ),
                    "Pass-through listener counters",
                )
                .attr("MessagesReceived", json!(t.requests))
                .attr("FaultsReceiving", json!(t.faults))
                .attr("TimeoutsReceiving", json!(receiving))
                .attr("TimeoutsSending", json!(sending))
                .attr("Port", json!(t.port)),
            );
            beans.push(
                MBean::new(
                    &format!(
                        "org.apache.synapse:Type=PassThroughConnections,Name={}-listener",
                        t.name
                    ),
                    "Pass-through listener connections",
                )
                .attr("ActiveConnections", json!(listener.map_or(0, |l| l.open))),
            );
        }
        for l in &listeners {
            beans.push(
                MBean::new(
                    &format!("{LISTENER_MBEAN_PREFIX}{}", l.listener),
                    "Listener protection counters",
                )
                .attr("Port", json!(l.port))
                .attr("ConnectionsAccepted", json!(l.accepted))
                .attr("ConnectionsRefused", json!(l.refused_over_cap))
                .attr("HeaderTimeouts", json!(l.header_timeouts))
                .attr("BodyTimeouts", json!(l.body_timeouts))
                .attr("SendTimeouts", json!(l.send_timeouts))
                .attr("KeepaliveTimeouts", json!(l.keepalive_timeouts))
                .attr("ClientClosedRequests", json!(l.client_closed))
                .attr("InFlightRequests", json!(l.in_flight))
                .attr("OpenConnections", json!(l.open))
                // MI's `max_open_connections = -1`: no cap.
                .attr(
                    "MaxOpenConnections",
                    json!(
                        l.max_open
                            .map_or(-1, |cap| i64::try_from(cap).unwrap_or(i64::MAX))
                    ),
                ),
            );
        }
        for e in observed.endpoints() {
            if e.name == "anonymous" {
                continue;
            }
            beans.push(
                MBean::new(
                    &format!(
                        "org.apache.synapse:Type=Endpoint,Name={}",
                        quote_value(&e.name)
                    ),
                    "Endpoint state",
                )
                .attr("Active", json!(e.state == "ACTIVE"))
                .attr("Timedout", json!(e.state == "TIMEOUT"))
                .attr("Suspended", json!(e.state == "SUSPENDED"))
                .attr("SwitchedOff", json!(e.state == "OFF"))
                .attr("State", json!(e.state)),
            );
        }
        for s in observed.services() {
            let kind = match s.service_type {
                "api" => "API",
                "proxy" => "ProxyService",
                _ => "InboundEndpoint",
            };
            beans.push(
                MBean::new(
                    &format!(
                        "org.apache.synapse:Type={kind},Name={}",
                        quote_value(&s.name)
                    ),
                    "Request counters",
                )
                .attr("Requests", json!(s.requests))
                .attr("Errors", json!(s.errors))
                .attr("LatencySumSeconds", json!(s.latency_sum_seconds))
                .attr("InvocationUrl", json!(s.invocation_url)),
            );
        }
        beans
    }

    fn execute(&self, request: &Value, beans: &[MBean]) -> Value {
        match request.get("type").and_then(Value::as_str) {
            Some("version") => json!({
                "request": request,
                "value": {
                    "protocol": JOLOKIA_PROTOCOL,
                    "agent": self.status.version,
                    "info": {"product": "conflux", "vendor": "Conflux", "version": self.status.version},
                    "config": {},
                },
                "status": 200,
            }),
            Some("read") => read(request, beans),
            Some("search") => {
                let pattern = request.get("mbean").and_then(Value::as_str).unwrap_or("");
                let found: Vec<String> = beans
                    .iter()
                    .filter(|b| matches_pattern(pattern, &b.canonical()))
                    .map(MBean::canonical)
                    .collect();
                json!({"request": request, "value": found, "status": 200})
            }
            Some("list") => list(request, beans),
            Some("exec") => exec(request, beans),
            Some(other) => error_value(
                request,
                400,
                "java.lang.UnsupportedOperationException",
                &format!(
                    "request type {other} is not supported (supported: version, read, list, search, exec)"
                ),
            ),
            None => error_value(
                request,
                400,
                "java.lang.IllegalArgumentException",
                "missing request type",
            ),
        }
    }
}

/// The MBean a request names (any key order), or Jolokia's 404.
fn find<'a>(request: &Value, beans: &'a [MBean]) -> Result<&'a MBean, Value> {
    let mbean = request.get("mbean").and_then(Value::as_str).unwrap_or("");
    let wanted = parse_object_name(mbean).map(|(d, k)| canonical(&d, &k));
    beans
        .iter()
        .find(|b| Some(b.canonical()) == wanted)
        .ok_or_else(|| {
            error_value(
                request,
                404,
                "javax.management.InstanceNotFoundException",
                &format!("{mbean} is not registered"),
            )
        })
}

fn read(request: &Value, beans: &[MBean]) -> Value {
    let mbean = request.get("mbean").and_then(Value::as_str).unwrap_or("");
    if mbean.contains('*') {
        // A pattern read answers every matching MBean's attributes, keyed by name (Jolokia).
        let mut value = serde_json::Map::new();
        for b in beans
            .iter()
            .filter(|b| matches_pattern(mbean, &b.canonical()))
        {
            value.insert(b.canonical(), Value::Object(b.attributes.clone()));
        }
        return json!({"request": request, "value": value, "status": 200});
    }
    let bean = match find(request, beans) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let attributes = &bean.attributes;
    match request.get("attribute") {
        None | Some(Value::Null) => {
            json!({"request": request, "value": attributes, "status": 200})
        }
        Some(Value::String(name)) => match attributes.get(name) {
            Some(v) => json!({"request": request, "value": v, "status": 200}),
            None => error_value(
                request,
                404,
                "javax.management.AttributeNotFoundException",
                &format!("No such attribute: {name}"),
            ),
        },
        Some(Value::Array(names)) => {
            let mut value = serde_json::Map::new();
            for n in names.iter().filter_map(Value::as_str) {
                match attributes.get(n) {
                    Some(v) => {
                        value.insert(n.to_string(), v.clone());
                    }
                    None => {
                        return error_value(
                            request,
                            404,
                            "javax.management.AttributeNotFoundException",
                            &format!("No such attribute: {n}"),
                        );
                    }
                }
            }
            json!({"request": request, "value": value, "status": 200})
        }
        Some(_) => error_value(
            request,
            400,
            "java.lang.IllegalArgumentException",
            "attribute must be a string or a list",
        ),
    }
}

/// Jolokia `list`: `{domain: {keys: {desc, attr: {name: {type, desc, rw}}, op: {...}}}}`, narrowed
/// by `path` (`domain`, `domain/keys`, ...).
fn list(request: &Value, beans: &[MBean]) -> Value {
    let mut tree = serde_json::Map::new();
    for b in beans {
        let attr: serde_json::Map<String, Value> = b
            .attributes
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    json!({"type": java_type(v), "desc": k, "rw": false}),
                )
            })
            .collect();
        let op: serde_json::Map<String, Value> = b
            .operations
            .iter()
            .map(|(name, desc, v)| {
                (
                    (*name).to_string(),
                    json!({"args": [], "ret": java_type(v), "desc": desc}),
                )
            })
            .collect();
        let keys = b
            .keys
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        let domain = tree
            .entry(b.domain.clone())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Value::Object(d) = domain {
            d.insert(keys, json!({"desc": b.desc, "attr": attr, "op": op}));
        }
    }
    let mut value = Value::Object(tree);
    let path = request.get("path").and_then(Value::as_str).unwrap_or("");
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        // Keys in a path segment may come in any order.
        let segment_canonical = parse_object_name(&format!("d:{segment}")).map(|(_, k)| {
            k.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        });
        let next = value
            .get(segment)
            .or_else(|| segment_canonical.as_deref().and_then(|c| value.get(c)))
            .cloned();
        match next {
            Some(v) => value = v,
            None => {
                return error_value(
                    request,
                    404,
                    "java.lang.IllegalArgumentException",
                    &format!("Illegal path: {path}"),
                );
            }
        }
    }
    json!({"request": request, "value": value, "status": 200})
}

fn exec(request: &Value, beans: &[MBean]) -> Value {
    let bean = match find(request, beans) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let operation = request
        .get("operation")
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = operation.split('(').next().unwrap_or("");
    match bean.operations.iter().find(|(n, _, _)| *n == name) {
        Some((_, _, value)) => json!({"request": request, "value": value, "status": 200}),
        None => error_value(
            request,
            404,
            "java.lang.IllegalArgumentException",
            &format!(
                "No operation {operation} found on MBean {}; Conflux exposes only read-only operations",
                bean.canonical()
            ),
        ),
    }
}

fn java_type(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "double",
        Value::Number(_) => "long",
        Value::Array(_) => "[Ljava.lang.String;",
        _ => "java.lang.String",
    }
}

/// `domain:k=v,k2=v2` -> (domain, keys sorted); `None` when malformed.
fn parse_object_name(name: &str) -> Option<(String, Vec<(String, String)>)> {
    let (domain, rest) = name.split_once(':')?;
    let mut keys = Vec::new();
    for prop in rest.split(',').filter(|p| !p.is_empty()) {
        let (k, v) = prop.split_once('=')?;
        keys.push((k.to_string(), v.to_string()));
    }
    keys.sort();
    Some((domain.to_string(), keys))
}

fn canonical(domain: &str, keys: &[(String, String)]) -> String {
    let props: Vec<String> = keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{domain}:{}", props.join(","))
}

/// ObjectName values with `,=:"*?` or newlines must be quoted.
fn quote_value(v: &str) -> String {
    if v.contains([',', '=', ':', '"', '*', '?', '\n']) {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        v.to_string()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Standard base64 (RFC 4648 §4) as HTTP Basic uses it; `None` on bad input.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes().take_while(|c| *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// `/version`, `/read/<mbean>[/<attribute>]`, `/search/<pattern>` -> a request object.
fn get_form(rest: &str) -> Value {
    let decoded = split_get_path(&percent_decode(rest.trim_start_matches('/')));
    let parts: Vec<&str> = decoded.iter().map(String::as_str).collect();
    match parts.as_slice() {
        [""] | ["version", ..] => json!({"type": "version"}),
        ["read", mbean] => json!({"type": "read", "mbean": mbean}),
        ["read", mbean, attribute] => {
            json!({"type": "read", "mbean": mbean, "attribute": attribute})
        }
        ["search", pattern, ..] => json!({"type": "search", "mbean": pattern}),
        ["list"] => json!({"type": "list"}),
        ["list", path] => json!({"type": "list", "path": path}),
        ["list", a, b] => json!({"type": "list", "path": format!("{a}/{b}")}),
        ["exec", mbean, operation] => {
            json!({"type": "exec", "mbean": mbean, "operation": operation.split('/').next().unwrap_or("")})
        }
        [other, ..] => json!({"type": other}),
        [] => json!({"type": "version"}),
    }
}

/// Splits a GET-form path at `/`, honouring Jolokia's escapes (`!/` is a slash inside a part, `!!`
/// a `!`, `!"` a quote), into at most three parts (`type`, `mbean`, the rest).
fn split_get_path(path: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '!' => {
                if let (Some(next), Some(p)) = (chars.next(), parts.last_mut()) {
                    p.push(next);
                }
            }
            '/' if parts.len() < 3 => parts.push(String::new()),
            c => {
                if let Some(p) = parts.last_mut() {
                    p.push(c);
                }
            }
        }
    }
    if parts.len() > 1 && parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    parts
}

/// `%XX` escapes of a URL path (clients escape `:`, `,` and `=` in MBean names).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// JMX ObjectName patterns as Jolokia's search uses them: `domain:key=value,*`, `*:*`.
fn matches_pattern(pattern: &str, name: &str) -> bool {
    let (Some((pd, pk)), Some((nd, nk))) = (pattern.split_once(':'), name.split_once(':')) else {
        return false;
    };
    if pd != "*" && pd != nd {
        return false;
    }
    let name_props: Vec<&str> = nk.split(',').collect();
    let mut wildcard = false;
    for prop in pk.split(',') {
        if prop == "*" {
            wildcard = true;
        } else if !name_props.contains(&prop) {
            return false;
        }
    }
    wildcard || pk.split(',').count() == name_props.len()
}

fn error_value(request: &Value, status: u16, error_type: &str, message: &str) -> Value {
    json!({
        "request": request,
        "error_type": error_type,
        "error": format!("{error_type} : {message}"),
        "status": status,
    })
}

fn respond(status: StatusCode, value: Value) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(value.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(m: &Monitoring, method: Method, path: &str, body: &str) -> Value {
        let r = m.handle(&method, path, body.as_bytes());
        serde_json::from_slice(r.body()).unwrap()
    }

    fn monitoring() -> Monitoring {
        let status = Arc::new(ServerStatus::new("9.9.9", 7));
        status.set_started();
        Monitoring::new(status)
    }

    #[test]
    fn version_in_get_and_post_forms() {
        let m = monitoring();
        let v = call(&m, Method::GET, "/jolokia/version", "");
        assert_eq!(v["status"], 200);
        assert_eq!(v["value"]["protocol"], JOLOKIA_PROTOCOL);
        assert!(v["timestamp"].is_number());
        let v = call(&m, Method::POST, "/jolokia", r#"{"type":"version"}"#);
        assert_eq!(v["value"]["agent"], "9.9.9");
    }

    #[test]
    fn read_server_mbean_attributes() {
        let m = monitoring();
        let v = call(
            &m,
            Method::GET,
            "/jolokia/read/org.wso2.conflux:type=Server/PortOffset",
            "",
        );
        assert_eq!(v["value"], 7);
        let v = call(
            &m,
            Method::POST,
            "/jolokia",
            r#"{"type":"read","mbean":"org.wso2.conflux:type=Server","attribute":["Status","Version"]}"#,
        );
        assert_eq!(v["value"]["Status"], "started");
        let v = call(
            &m,
            Method::GET,
            "/jolokia/read/org.wso2.conflux:type=Server",
            "",
        );
        assert!(v["value"]["Uptime"].is_number());
    }

    #[test]
    fn errors_follow_jolokia() {
        let m = monitoring();
        let v = call(&m, Method::GET, "/jolokia/read/java.lang:type=Memory", "");
        assert_eq!(v["status"], 404);
        assert_eq!(
            v["error_type"],
            "javax.management.InstanceNotFoundException"
        );
        let v = call(
            &m,
            Method::GET,
            "/jolokia/read/org.wso2.conflux:type=Server/Nope",
            "",
        );
        assert_eq!(v["status"], 404);
        let v = call(&m, Method::POST, "/jolokia", "{not json");
        assert_eq!(v["status"], 400);
        let v = call(
            &m,
            Method::POST,
            "/jolokia",
            &" ".repeat(MAX_REQUEST_BYTES + 1),
        );
        assert_eq!(v["status"], 413);
    }

    #[test]
    fn search_and_bulk() {
        let m = monitoring();
        let v = call(&m, Method::GET, "/jolokia/search/org.wso2.conflux:*", "");
        assert_eq!(v["value"][0], SERVER_MBEAN);
        let v = call(&m, Method::GET, "/jolokia/search/java.lang:*", "");
        assert_eq!(v["value"].as_array().unwrap().len(), 0);
        let v = call(
            &m,
            Method::POST,
            "/jolokia",
            r#"[{"type":"version"},{"type":"search","mbean":"*:*"}]"#,
        );
        assert_eq!(v[1]["value"][0], SERVER_MBEAN);
    }

    struct Fixed;
    impl Observed for Fixed {
        fn services(&self) -> Vec<crate::metrics::ServiceStats> {
            vec![crate::metrics::ServiceStats {
                service_type: "api",
                name: "HelloApi".into(),
                invocation_url: "/hello".into(),
                requests: 5,
                errors: 2,
                latency_bounds: &[1.0],
                cumulative_buckets: vec![5, 5],
                latency_sum_seconds: 0.5,
            }]
        }
        fn transports(&self) -> Vec<crate::metrics::TransportStats> {
            vec![crate::metrics::TransportStats {
                name: "http",
                port: 8290,
                requests: 9,
                faults: 1,
            }]
        }
        fn endpoints(&self) -> Vec<crate::metrics::EndpointStats> {
            vec![crate::metrics::EndpointStats {
                name: "Backend".into(),
                state: "SUSPENDED".into(),
            }]
        }
        fn listeners(&self) -> Vec<crate::metrics::ListenerCounters> {
            vec![
                crate::metrics::ListenerCounters {
                    listener: "http",
                    port: 8290,
                    accepted: 20,
                    refused_over_cap: 3,
                    header_timeouts: 2,
                    body_timeouts: 1,
                    send_timeouts: 4,
                    keepalive_timeouts: 5,
                    client_closed: 7,
                    in_flight: 8,
                    open: 6,
                    max_open: Some(10_000),
                },
                crate::metrics::ListenerCounters {
                    listener: "internal_http",
                    port: 9201,
                    open: 1,
                    max_open: None,
                    ..Default::default()
                },
            ]
        }
    }

    fn observed() -> Monitoring {
        monitoring().with_observed(Arc::new(Fixed))
    }

    #[test]
    fn mi_style_mbeans_in_any_key_order_and_url_encoded() {
        let m = observed();
        let v = call(
            &m,
            Method::GET,
            "/jolokia/read/org.apache.synapse%3AType%3DTransport%2CName%3Dpassthru-http-receiver/MessagesReceived",
            "",
        );
        assert_eq!(v["value"], 9, "{v}");
        let v = call(
            &m,
            Method::POST,
            "/jolokia",
            r#"{"type":"read","mbean":"org.apache.synapse:Type=API,Name=HelloApi"}"#,
        );
        assert_eq!(v["value"]["Requests"], 5);
        assert_eq!(v["value"]["Errors"], 2);
        let v = call(
            &m,
            Method::GET,
            "/jolokia/read/org.apache.synapse:Name=Backend,Type=Endpoint/Suspended",
            "",
        );
        assert_eq!(v["value"], true);
        let v = call(
            &m,
            Method::GET,
            "/jolokia/read/org.apache.synapse:Type=ServerManager,Name=ServerManager/ServerState",
            "",
        );
        assert_eq!(v["value"], "STARTED");
        let v = call(
            &m,
            Method::GET,
            "/jolokia/search/org.apache.synapse:Type=Endpoint,*",
            "",
        );
        assert_eq!(
            v["value"][0],
            "org.apache.synapse:Name=Backend,Type=Endpoint"
        );
        let v = call(
            &m,
            Method::GET,
            "/jolokia/read/org.apache.synapse:Type=API,*",
            "",
        );
        assert_eq!(
            v["value"]["org.apache.synapse:Name=HelloApi,Type=API"]["Requests"],
            5
        );
    }

    #[test]
    fn listener_counters_on_mi_attributes_and_conflux_listener_mbeans() {
        let m = observed();
        let v = call(
            &m,
            Method::GET,
            "/jolokia/read/org.apache.synapse:Type=Transport,Name=passthru-http-receiver",
            "",
        );
        assert_eq!(v["value"]["TimeoutsReceiving"], 3, "{v}");
        assert_eq!(v["value"]["TimeoutsSending"], 4, "{v}");
        let v = call(
            &m,
            Method::GET,
            "/jolokia/read/org.apache.synapse:Type=PassThroughConnections,Name=http-listener/ActiveConnections",
            "",
        );
        assert_eq!(v["value"], 6, "{v}");
        let v = call(
            &m,
            Method::GET,
            "/jolokia/read/org.wso2.conflux:type=Listener,name=http",
            "",
        );
        let expected = json!({
            "Port": 8290, "ConnectionsAccepted": 20, "ConnectionsRefused": 3, "HeaderTimeouts": 2,
            "BodyTimeouts": 1, "SendTimeouts": 4, "KeepaliveTimeouts": 5, "ClientClosedRequests": 7,
            "InFlightRequests": 8, "OpenConnections": 6, "MaxOpenConnections": 10000,
        });
        assert_eq!(v["value"], expected, "{v}");
        let v = call(
            &m,
            Method::GET,
            "/jolokia/read/org.wso2.conflux:name=internal_http,type=Listener/MaxOpenConnections",
            "",
        );
        assert_eq!(v["value"], -1, "{v}");
        let v = call(
            &m,
            Method::GET,
            "/jolokia/search/org.wso2.conflux:type=Listener,*",
            "",
        );
        assert_eq!(v["value"].as_array().map(Vec::len), Some(2), "{v}");
    }

    #[test]
    fn list_and_exec() {
        let m = observed();
        let v = call(&m, Method::GET, "/jolokia/list", "");
        assert_eq!(
            v["value"]["org.apache.synapse"]["Name=HelloApi,Type=API"]["attr"]["Requests"]["type"],
            "long"
        );
        let v = call(
            &m,
            Method::GET,
            "/jolokia/list/org.wso2.conflux/type=Server",
            "",
        );
        assert!(v["value"]["op"]["faultyArtifacts"].is_object(), "{v}");
        let v = call(&m, Method::GET, "/jolokia/list/nope", "");
        assert_eq!(v["status"], 404);
        let v = call(
            &m,
            Method::POST,
            "/jolokia",
            r#"{"type":"exec","mbean":"org.wso2.conflux:type=Server","operation":"faultyArtifacts"}"#,
        );
        assert_eq!(v["status"], 200);
        assert_eq!(v["value"], json!([]));
        let v = call(
            &m,
            Method::GET,
            "/jolokia/exec/org.wso2.conflux:type=Server/shutdown",
            "",
        );
        assert_eq!(v["status"], 404);
    }

    #[test]
    fn get_paths_honour_jolokia_escapes() {
        assert_eq!(
            split_get_path("read/a:Name=x!/y,Type=T/Attr"),
            ["read", "a:Name=x/y,Type=T", "Attr"]
        );
        assert_eq!(split_get_path("version/"), ["version"]);
        assert_eq!(
            split_get_path("list/d/k=v/extra"),
            ["list", "d", "k=v/extra"]
        );
    }

    #[test]
    fn bulk_size_is_limited() {
        let m = observed();
        let at = format!(
            "[{}]",
            vec![r#"{"type":"version"}"#; MAX_BULK_REQUESTS].join(",")
        );
        assert_eq!(
            call(&m, Method::POST, "/jolokia", &at)
                .as_array()
                .unwrap()
                .len(),
            MAX_BULK_REQUESTS
        );
        let over = format!(
            "[{}]",
            vec![r#"{"type":"version"}"#; MAX_BULK_REQUESTS + 1].join(",")
        );
        assert_eq!(call(&m, Method::POST, "/jolokia", &over)["status"], 400);
    }

    #[test]
    fn basic_auth_when_configured() {
        let m = observed().with_basic_auth("admin".into(), "s3cret".into());
        let r = m.handle_authorized(&Method::GET, "/jolokia/version", None, b"");
        assert_eq!(r.status(), 401);
        assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
        // "admin:s3cret"
        let ok = m.handle_authorized(
            &Method::GET,
            "/jolokia/version",
            Some("Basic YWRtaW46czNjcmV0"),
            b"",
        );
        assert_eq!(ok.status(), 200);
        // "admin:wrong"
        let bad = m.handle_authorized(
            &Method::GET,
            "/jolokia/version",
            Some("Basic YWRtaW46d3Jvbmc="),
            b"",
        );
        assert_eq!(bad.status(), 401);
        assert_eq!(base64_decode("YWRtaW46czNjcmV0").unwrap(), b"admin:s3cret");
    }
}
