//! The Management API end to end over HTTPS against the real binary, written as a replay of what
//! WSO2's `mi` CLI does (wso2/product-mi-tooling `cmd/impl/common.go`,
//! `cmd/credentials/miCredentials.go`; management-api.md §6): `GET /management/login` with Basic
//! credentials and a string map answer holding `AccessToken`, Bearer on every call, one re-login
//! and retry on 401, write answers parsed as string->string maps. Each step asserts the fields the
//! CLI reads. Further tests: the root without auth, 401/403/404 order, CORS preflight, the
//! protocols switch, log files confined to repository/logs, and the effect of deactivating a proxy
//! service and an endpoint on real traffic.

mod support;

use std::collections::HashMap;
use std::io::{Read, Write};

use serde_json::Value;
use support::backend::*;
use support::*;

const NS: &str = "http://ws.apache.org/ns/synapse";

const USERS: &str = "[[internal_apis.users]]\nuser.name = \"ops\"\nuser.password = \"ops-pass\"\nuser.is_admin = true\n\n[[internal_apis.users]]\nuser.name = \"viewer\"\nuser.password = \"viewer-pass\"\n";

/// A home with one artifact of each kind; the endpoint points at `backend`.
fn home(backend: &str, extra_toml: &str) -> Home {
    let home = Home::new(&format!(
        "[server]\nhostname = \"localhost\"\n{extra_toml}\n{USERS}"
    ));
    home.write(
        &format!("{SYNAPSE}/api/HelloApi.xml"),
        &format!(
            r#"<api xmlns="{NS}" name="HelloApi" context="/hello" version="1.0" version-type="url">
  <resource methods="GET" uri-template="/greet/{{name}}"><inSequence><call><endpoint key="HelloEp"/></call><respond/></inSequence></resource>
  <resource methods="POST PUT" url-mapping="/items/*"><inSequence><respond/></inSequence></resource>
</api>"#
        ),
    );
    home.write(
        &format!("{SYNAPSE}/proxy-services/HelloProxy.xml"),
        &format!(
            r#"<proxy xmlns="{NS}" name="HelloProxy" transports="http https"><target><inSequence><respond/></inSequence></target></proxy>"#
        ),
    );
    home.write(
        &format!("{SYNAPSE}/endpoints/HelloEp.xml"),
        &format!(
            r#"<endpoint xmlns="{NS}" name="HelloEp"><address uri="{backend}/backend"/></endpoint>"#
        ),
    );
    home.write(
        &format!("{SYNAPSE}/sequences/AbcSequence.xml"),
        &format!(
            r#"<sequence xmlns="{NS}" name="AbcSequence" trace="enable"><log/><drop/></sequence>"#
        ),
    );
    home.write(
        &format!("{SYNAPSE}/local-entries/Greeting.xml"),
        &format!(r#"<localEntry xmlns="{NS}" key="Greeting">hello world</localEntry>"#),
    );
    home.write("repository/logs/extra.log", "line one\nline two\n");
    home
}

fn backend() -> Backend {
    Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: "from backend".into(),
    })
}

/// One request over TLS that accepts the server's self-signed certificate.
fn https(
    method: &str,
    port: u16,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> HttpResponse {
    support::backend::https_request_with(method, port, path, headers, body)
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64_encode(format!("{user}:{password}").as_bytes())
    )
}

/// Standard Base64 (the test crate has no base64 dependency).
fn base64_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The `mi` CLI's HTTP behaviour, replayed.
struct MiCli {
    port: u16,
    user: String,
    password: String,
    token: Option<String>,
    /// Logins performed (to see the re-login on 401).
    logins: u32,
}

impl MiCli {
    fn new(port: u16, user: &str, password: &str) -> MiCli {
        MiCli {
            port,
            user: user.into(),
            password: password.into(),
            token: None,
            logins: 0,
        }
    }

    /// `mi login`: 200 and a body that unmarshals into a string map containing `AccessToken`.
    fn login(&mut self) -> Result<(), u16> {
        let r = https(
            "GET",
            self.port,
            "/management/login",
            &[("Authorization", basic(&self.user, &self.password))],
            b"",
        );
        if r.status != 200 {
            return Err(r.status);
        }
        let map = string_map(&r.body);
        self.token = Some(map.get("AccessToken").expect("AccessToken").clone());
        self.logins += 1;
        Ok(())
    }

    /// One call with Bearer; on 401 log in again and retry (2 attempts in all).
    fn call(&mut self, method: &str, resource: &str, body: Option<&Value>) -> HttpResponse {
        let path = format!("/management/{resource}");
        let mut last = None;
        for _ in 0..2 {
            let mut headers = vec![(
                "Authorization",
                format!("Bearer {}", self.token.clone().unwrap_or_default()),
            )];
            if body.is_some() {
                headers.push(("Content-Type", "application/json".into()));
            }
            let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
            let r = https(method, self.port, &path, &headers, &bytes);
            if r.status != 401 {
                return r;
            }
            last = Some(r);
            self.login().expect("re-login after 401");
        }
        last.expect("a response")
    }

    /// A GET the CLI accepts only with 200 and JSON.
    fn get(&mut self, resource: &str) -> Value {
        let r = self.call("GET", resource, None);
        assert_eq!(
            r.status,
            200,
            "{resource}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.header("content-type"), Some("application/json"));
        serde_json::from_slice(&r.body).expect("JSON")
    }

    /// A write whose answer the CLI parses as map[string]string and reads `key` from.
    fn write(&mut self, method: &str, resource: &str, body: Value, key: &str) -> String {
        let r = self.call(method, resource, Some(&body));
        assert_eq!(
            r.status,
            200,
            "{resource}: {}",
            String::from_utf8_lossy(&r.body)
        );
        string_map(&r.body)
            .remove(key)
            .unwrap_or_else(|| panic!("{key} in {}", String::from_utf8_lossy(&r.body)))
    }
}

/// Go's `json.Unmarshal` into `map[string]string`: every value must be a string.
fn string_map(body: &[u8]) -> HashMap<String, String> {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not a string map ({e}): {}", String::from_utf8_lossy(body)))
}

fn names(list: &Value) -> Vec<String> {
    list["list"]
        .as_array()
        .expect("list")
        .iter()
        .map(|i| i["name"].as_str().expect("name").to_string())
        .collect()
}

#[test]
fn mi_cli_session_replay_over_https() {
    let backend = backend();
    let home = home(&backend.url(), "");
    let server = Server::start(home.path(), free_offset(), &[]);
    let port = server.port(INTERNAL_HTTPS);
    let http_port = server.port(HTTP);
    let mut cli = MiCli::new(port, "ops", "ops-pass");

    // mi login: a wrong password is exactly 401 with no body.
    let mut wrong = MiCli::new(port, "ops", "nope");
    assert_eq!(wrong.login(), Err(401));
    cli.login().expect("login");
    assert_eq!(cli.token.as_deref().map(|t| t.split('.').count()), Some(3));

    // 401 -> re-login: a stale token (garbage here) makes the CLI log in again and retry.
    cli.token = Some("stale.token.value".into());
    let apis = cli.get("apis");
    assert_eq!(cli.logins, 2);

    // mi get apis / get apis HelloApi
    assert_eq!(apis["count"], 1);
    assert_eq!(apis["list"][0]["name"], "HelloApi");
    assert_eq!(
        apis["list"][0]["url"],
        format!("http://localhost:{http_port}/hello/1.0")
    );
    let api = cli.get("apis?apiName=HelloApi");
    assert_eq!(api["name"], "HelloApi");
    assert_eq!(api["version"], "1.0");
    assert_eq!(api["stats"], "disabled");
    assert_eq!(api["tracing"], "disabled");
    assert_eq!(api["resources"][0]["methods"], serde_json::json!(["GET"]));
    assert_eq!(api["resources"][0]["url"], "/greet/{name}");
    assert_eq!(
        api["resources"][1]["methods"],
        serde_json::json!(["POST", "PUT"])
    );
    assert_eq!(api["resources"][1]["url"], "/items/*");
    assert!(api["configuration"].as_str().unwrap().contains("<api "));
    assert_eq!(cli.call("GET", "apis?apiName=Nope", None).status, 404);
    assert_eq!(cli.get("apis?searchKey=hELLo")["count"], 1);
    assert_eq!(cli.get("apis?searchKey=zzz")["count"], 0);

    // mi get proxy-services [name]
    let proxies = cli.get("proxy-services");
    assert_eq!(names(&proxies), vec!["HelloProxy"]);
    assert_eq!(
        proxies["list"][0]["wsdl1_1"],
        format!("http://localhost:{http_port}/services/HelloProxy?wsdl")
    );
    assert_eq!(
        proxies["list"][0]["wsdl2_0"],
        format!("http://localhost:{http_port}/services/HelloProxy?wsdl2")
    );
    let proxy = cli.get("proxy-services?proxyServiceName=HelloProxy");
    for key in ["name", "wsdl1_1", "wsdl2_0", "stats", "tracing"] {
        assert!(proxy[key].is_string(), "{key} in {proxy}");
    }
    assert_eq!(proxy["isRunning"], true);

    // mi get endpoints [name]
    let endpoints = cli.get("endpoints");
    assert_eq!(endpoints["list"][0]["name"], "HelloEp");
    assert_eq!(endpoints["list"][0]["type"], "address");
    assert_eq!(endpoints["list"][0]["isActive"], true);
    let ep = cli.get("endpoints?endpointName=HelloEp");
    assert_eq!(ep["type"], "Address Endpoint");
    assert_eq!(ep["address"], format!("{}/backend", backend.url()));
    assert_eq!(ep["isActive"], true);
    assert!(ep["configuration"].as_str().unwrap().contains("HelloEp"));

    // mi get sequences [name]: the built-ins are listed too.
    let sequences = cli.get("sequences");
    let seq_names = names(&sequences);
    assert!(
        seq_names.contains(&"AbcSequence".to_string()),
        "{seq_names:?}"
    );
    assert!(seq_names.contains(&"main".to_string()) && seq_names.contains(&"fault".to_string()));
    assert_eq!(sequences["count"], seq_names.len());
    let seq = cli.get("sequences?sequenceName=AbcSequence");
    assert_eq!(seq["tracing"], "enabled");
    assert_eq!(seq["stats"], "disabled");
    assert_eq!(
        seq["mediators"],
        serde_json::json!(["LogMediator", "DropMediator"])
    );

    // mi get local-entries [name]
    let entries = cli.get("local-entries");
    assert_eq!(entries["count"], 1);
    assert_eq!(entries["list"][0]["type"], "Inline Text");
    let entry = cli.get("local-entries?name=Greeting");
    assert_eq!(entry["value"], "hello world");
    let missing = cli.call("GET", "local-entries?name=Nope", None);
    assert_eq!(missing.status, 404);
    assert_eq!(
        string_map(&missing.body)["Error"],
        "Reference for Nope could not be resolved"
    );

    // mi get composite-apps: MI's shape, nothing deployed.
    let apps = cli.get("applications");
    assert_eq!(apps["totalCount"], 0);
    assert_eq!(apps["activeList"], serde_json::json!([]));

    // mi get log-levels rootLogger / update log-level
    let root = cli.get("logging?loggerName=rootLogger");
    assert_eq!(root["loggerName"], "rootLogger");
    assert!(root["level"].is_string() && root["componentName"].is_string());
    let message = cli.write(
        "PATCH",
        "logging",
        serde_json::json!({"loggerName": "rootLogger", "loggingLevel": "DEBUG"}),
        "message",
    );
    assert_eq!(
        message,
        "Successfully added logger for ('rootLogger') with level DEBUG"
    );
    assert_eq!(cli.get("logging?loggerName=rootLogger")["level"], "DEBUG");
    // mi add log-level: a new logger with a class.
    let message = cli.write(
        "PATCH",
        "logging",
        serde_json::json!({"loggerName": "synapse-api", "loggerClass": "conflux.mediation", "loggingLevel": "warn"}),
        "message",
    );
    assert_eq!(
        message,
        "Successfully added logger for ('synapse-api') with level WARN for class conflux.mediation"
    );
    assert_eq!(
        cli.get("logging?loggerName=synapse-api")["componentName"],
        "conflux.mediation"
    );
    let bad = cli.call(
        "PATCH",
        "logging",
        Some(&serde_json::json!({"loggerName": "rootLogger", "loggingLevel": "LOUD"})),
    );
    assert_eq!(bad.status, 400);
    assert_eq!(string_map(&bad.body)["Error"], "Invalid log level LOUD");

    // mi deactivate/activate proxy-service: traffic follows.
    let path = "/services/HelloProxy";
    assert_eq!(get(http_port, path).status, 200);
    let m = cli.write(
        "POST",
        "proxy-services",
        serde_json::json!({"name": "HelloProxy", "status": "inactive"}),
        "Message",
    );
    assert_eq!(m, "Proxy service HelloProxy stopped successfully");
    // Axis2's inactive-service SOAP fault, status 500 (MI ESBJAVA3546CAppProxyOnLoadTestCase).
    assert_eq!(get(http_port, path).status, 500);
    assert_eq!(
        cli.get("proxy-services?proxyServiceName=HelloProxy")["isRunning"],
        false
    );
    let m = cli.write(
        "POST",
        "proxy-services",
        serde_json::json!({"name": "HelloProxy", "status": "active"}),
        "Message",
    );
    assert_eq!(m, "Proxy service HelloProxy started successfully");
    assert_eq!(get(http_port, path).status, 200);
    let unknown = cli.call(
        "POST",
        "proxy-services",
        Some(&serde_json::json!({"name": "Nope", "status": "active"})),
    );
    assert_eq!(unknown.status, 404);
    assert_eq!(
        string_map(&unknown.body)["Error"],
        "Proxy service could not be found"
    );

    // mi deactivate/activate endpoint: a switched-off endpoint is not called.
    assert_eq!(get(http_port, "/hello/1.0/greet/x").status, 200);
    let calls = backend.requests().len();
    let m = cli.write(
        "POST",
        "endpoints",
        serde_json::json!({"name": "HelloEp", "status": "inactive"}),
        "Message",
    );
    assert_eq!(m, "HelloEp is switched Off");
    assert_eq!(cli.get("endpoints?endpointName=HelloEp")["isActive"], false);
    assert_ne!(get(http_port, "/hello/1.0/greet/x").status, 200);
    assert_eq!(
        backend.requests().len(),
        calls,
        "the backend was not called"
    );
    let m = cli.write(
        "POST",
        "endpoints",
        serde_json::json!({"name": "HelloEp", "status": "active"}),
        "Message",
    );
    assert_eq!(m, "HelloEp is switched On");
    assert_eq!(get(http_port, "/hello/1.0/greet/x").status, 200);

    // mi get logs / get logs extra.log
    let logs = cli.get("logs");
    let files: Vec<&str> = logs["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["FileName"].as_str().unwrap())
        .collect();
    assert!(files.contains(&"extra.log"), "{files:?}");
    assert!(logs["list"][0]["Size"].is_string());
    let file = cli.call("GET", "logs?file=extra.log", None);
    assert_eq!(file.status, 200);
    assert_eq!(file.body, b"line one\nline two\n");
    let escape = cli.call("GET", "logs?file=..%2Fconf%2Fdeployment.toml", None);
    assert_eq!(escape.status, 400);

    // The server resource reports the port plan.
    let info = cli.get("server");
    assert_eq!(info["productName"], "Conflux");
    assert!(info["osName"].is_string() && info["productVersion"].is_string());
    assert!(info["ports"].to_string().contains(&port.to_string()));

    // mi logout: the token is revoked; the CLI's next call logs in again.
    let token = cli.token.clone().unwrap();
    let r = cli.call("GET", "logout", None);
    assert_eq!(r.status, 200);
    let stale = https(
        "GET",
        port,
        "/management/apis",
        &[("Authorization", format!("Bearer {token}"))],
        b"",
    );
    assert_eq!(stale.status, 401);
    assert!(stale.body.is_empty());
    let logins = cli.logins;
    cli.token = Some(token);
    cli.get("endpoints");
    assert_eq!(cli.logins, logins + 1);
}

#[test]
fn auth_order_admin_only_cors_and_root() {
    let home = home("http://127.0.0.1:9", "");
    let server = Server::start(home.path(), free_offset(), &[]);
    let port = server.port(INTERNAL_HTTPS);

    // The root needs no token.
    let root = https("GET", port, "/management", &[], b"");
    assert_eq!(root.status, 200);
    let root: Value = serde_json::from_slice(&root.body).unwrap();
    assert_eq!(root["ManagementApi"], "Active");

    // Unknown resource: 401 without a token, 404 with one (MI authenticates first).
    let r = https("GET", port, "/management/nope", &[], b"");
    assert_eq!(r.status, 401);
    assert!(r.body.is_empty());
    let mut viewer = MiCli::new(port, "viewer", "viewer-pass");
    viewer.login().unwrap();
    assert_eq!(viewer.call("GET", "nope", None).status, 404);
    assert_eq!(viewer.call("DELETE", "apis", None).status, 404);

    // Admin-only: 403 with no body for a non-admin, 200 for an admin.
    let r = viewer.call("GET", "configs?configName=correlation", None);
    assert_eq!(r.status, 403);
    assert!(r.body.is_empty());
    let mut admin = MiCli::new(port, "ops", "ops-pass");
    admin.login().unwrap();
    let configs = admin.get("configs?configName=correlation");
    assert_eq!(configs["configName"], "correlation");
    assert_eq!(configs["configs"]["enabled"], false);
    // Non-admins may read artifacts.
    assert_eq!(viewer.get("apis")["count"], 1);

    // CORS: preflight without a token; every answer carries the headers.
    let pre = https(
        "OPTIONS",
        port,
        "/management/apis",
        &[
            ("Origin", "https://dashboard.example".into()),
            ("Access-Control-Request-Method", "GET".into()),
        ],
        b"",
    );
    assert_eq!(pre.status, 200);
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        pre.header("access-control-allow-headers"),
        Some("Authorization, Content-Type")
    );
    let denied = https("GET", port, "/management/apis", &[], b"");
    assert_eq!(denied.header("access-control-allow-origin"), Some("*"));

    // Failed logins are slowed down, never locked out: the right password still gets a token.
    let mut guesser = MiCli::new(port, "ops", "guess");
    for _ in 0..4 {
        assert_eq!(guesser.login(), Err(401));
    }
    let mut ops = MiCli::new(port, "ops", "ops-pass");
    ops.login().expect("login after failures");
    assert!(
        server
            .output()
            .contains("failed Management API login from 127.0.0.1")
    );

    // Basic credentials are for /login only.
    let r = https(
        "GET",
        port,
        "/management/apis",
        &[("Authorization", basic("ops", "ops-pass"))],
        b"",
    );
    assert_eq!(r.status, 401);

    // Not on the internal HTTP port by default (Conflux's protocols default is "https").
    assert_eq!(get(server.port(INTERNAL_HTTP), "/management").status, 404);
    assert_eq!(get(server.port(INTERNAL_HTTP), "/liveness").status, 200);
    // The default-password warning is absent: users are configured.
    assert!(!server.output().contains("default password"));
}

#[test]
fn protocols_https_http_serves_plain_http_as_mi_and_default_users_warn() {
    let home = Home::new(
        "[server]\nhostname = \"localhost\"\n[management_api]\nprotocols = \"https http\"\n[management_api.cors]\nallowed_origins = \"https://dash.example\"\n",
    );
    let server = Server::start(home.path(), free_offset(), &[]);
    assert!(
        server.output().contains("default password 'admin'"),
        "{}",
        server.output()
    );
    let http_port = server.port(INTERNAL_HTTP);
    let login = http_with_auth(http_port, "/management/login", &basic("admin", "admin"));
    assert_eq!(login.status, 200);
    let token = string_map(&login.body)["AccessToken"].clone();
    let apis = http_with_auth(http_port, "/management/apis", &format!("Bearer {token}"));
    assert_eq!(apis.status, 200);
    let apis: Value = serde_json::from_slice(&apis.body).unwrap();
    assert_eq!(apis["count"], 0);
    assert_eq!(apis["list"], serde_json::json!([]));
    // A token works on either port: one store.
    let https_port = server.port(INTERNAL_HTTPS);
    let r = https(
        "GET",
        https_port,
        "/management/sequences",
        &[("Authorization", format!("Bearer {token}"))],
        b"",
    );
    assert_eq!(r.status, 200);
    // Restricted CORS origins: an unlisted origin's preflight is refused.
    let pre = https(
        "OPTIONS",
        https_port,
        "/management/apis",
        &[("Origin", "https://evil.example".into())],
        b"",
    );
    assert_eq!(pre.status, 403);
    let pre = https(
        "OPTIONS",
        https_port,
        "/management/apis",
        &[("Origin", "https://dash.example".into())],
        b"",
    );
    assert_eq!(pre.status, 200);
    assert_eq!(
        pre.header("access-control-allow-origin"),
        Some("https://dash.example")
    );
}

fn http_with_auth(port: u16, path: &str, authorization: &str) -> HttpResponse {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: {authorization}\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_response(&raw)
}
