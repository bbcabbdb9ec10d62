//! Remote monitoring on the `[monitoring.jmx] rmi_registry_port` in the Jolokia protocol (JMX over
//! HTTP/JSON, <https://jolokia.org/reference/html/manual/jolokia_protocol.html>): a native server has
//! no JVM and so no RMI; MI itself never opens these ports (mi-ports.md §1.5).
//!
//! Implemented so far: `version`, and `read` / `search` over the server MBean
//! `org.wso2.conflux:type=Server` (attributes Status, Version, StartTime, Uptime, PortOffset), in the
//! GET form (`/jolokia/version`, `/jolokia/read/<mbean>[/<attribute>]`, `/jolokia/search/<pattern>`)
//! and the POST form (a JSON request object). Per-transport and per-artifact MBeans come with the
//! observability work.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::status::ServerStatus;

/// The Jolokia protocol version these answers follow.
pub const JOLOKIA_PROTOCOL: &str = "7.2";
/// The one MBean served so far.
pub const SERVER_MBEAN: &str = "org.wso2.conflux:type=Server";
/// Largest POST body accepted (Jolokia requests are small JSON objects).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// The monitoring router.
#[derive(Debug, Clone)]
pub struct Monitoring {
    status: Arc<ServerStatus>,
}

impl Monitoring {
    pub fn new(status: Arc<ServerStatus>) -> Self {
        Monitoring { status }
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
        let answer = match &request {
            Value::Array(items) => Value::Array(items.iter().map(|r| self.execute(r)).collect()),
            single => self.execute(single),
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

    fn execute(&self, request: &Value) -> Value {
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
            Some("read") => self.read(request),
            Some("search") => {
                let pattern = request.get("mbean").and_then(Value::as_str).unwrap_or("");
                let found: Vec<&str> = if matches_pattern(pattern, SERVER_MBEAN) {
                    vec![SERVER_MBEAN]
                } else {
                    vec![]
                };
                json!({"request": request, "value": found, "status": 200})
            }
            Some(other) => error_value(
                request,
                400,
                "java.lang.UnsupportedOperationException",
                &format!(
                    "request type {other} is not supported (supported: version, read, search)"
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

    fn read(&self, request: &Value) -> Value {
        let mbean = request.get("mbean").and_then(Value::as_str).unwrap_or("");
        if mbean != SERVER_MBEAN {
            return error_value(
                request,
                404,
                "javax.management.InstanceNotFoundException",
                &format!("{mbean} is not registered"),
            );
        }
        let attributes = json!({
            "Status": if self.status.is_started() { "started" } else { "starting" },
            "Version": self.status.version,
            "StartTime": self.status.started_at_epoch_ms() as u64,
            "Uptime": self.status.uptime_ms() as u64,
            "PortOffset": self.status.port_offset,
            "FaultyArtifacts": self.status.faulty_artifacts().len(),
        });
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
}

/// `/version`, `/read/<mbean>[/<attribute>]`, `/search/<pattern>` -> a request object.
fn get_form(rest: &str) -> Value {
    let parts: Vec<&str> = rest.trim_start_matches('/').splitn(3, '/').collect();
    match parts.as_slice() {
        [""] | ["version", ..] => json!({"type": "version"}),
        ["read", mbean] => json!({"type": "read", "mbean": mbean}),
        ["read", mbean, attribute] => {
            json!({"type": "read", "mbean": mbean, "attribute": attribute})
        }
        ["search", pattern, ..] => json!({"type": "search", "mbean": pattern}),
        [other, ..] => json!({"type": other}),
        [] => json!({"type": "version"}),
    }
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
}
