//! Unit tests of the console over in-memory requests: security headers on every answer, the
//! redirect, assets and their ETags, traversal, the Bearer check (401) and the admin check (403)
//! of the JSON resources, and their shapes.

use std::path::Path;

use arc_swap::ArcSwap;
use conflux_artifacts::{Applications, Artifacts, parse_artifact};
use conflux_config::settings::{ApiUser, ManagementApiConfig};
use conflux_transport::passthrough::Live;
use http::HeaderMap;
use serde_json::{Value, json};

use super::*;
use crate::management::{ManagementRequest, ServerFacts};
use crate::metrics::{EndpointStats, ServiceStats, TransportStats};
use crate::status::ServerStatus;

const NS: &str = "http://ws.apache.org/ns/synapse";

fn live() -> Arc<ArcSwap<Live>> {
    let mut artifacts = Artifacts::default();
    let api = format!(
        r#"<api xmlns="{NS}" name="OrdersApi" context="/orders"><resource methods="GET"><inSequence><respond/></inSequence></resource></api>"#
    );
    artifacts
        .insert(parse_artifact("api/A.xml", &api).expect("artifact"))
        .expect("insert");
    crate::management::tests::live_with(artifacts, Applications::default(), true)
}

struct Counters;

impl Observed for Counters {
    fn services(&self) -> Vec<ServiceStats> {
        vec![ServiceStats {
            service_type: "api",
            name: "OrdersApi".into(),
            invocation_url: "/orders".into(),
            requests: 7,
            errors: 2,
            latency_bounds: &[0.1],
            cumulative_buckets: vec![7, 7],
            latency_sum_seconds: 0.1,
        }]
    }
    fn transports(&self) -> Vec<TransportStats> {
        Vec::new()
    }
    fn endpoints(&self) -> Vec<EndpointStats> {
        Vec::new()
    }
}

fn console_in(logs_dir: &Path) -> Console {
    let config = ManagementApiConfig {
        users: vec![
            ApiUser {
                name: "admin".into(),
                password: "pw".into(),
                is_admin: true,
            },
            ApiUser {
                name: "view".into(),
                password: "v".into(),
                is_admin: false,
            },
        ],
        default_users: false,
        ..ManagementApiConfig::default()
    };
    let facts = ServerFacts {
        hostname: "host-a".into(),
        home: "/h".into(),
        synapse_dir: Path::new("/nonexistent").into(),
        carbonapps_dir: Path::new("/nonexistent/carbonapps").into(),
        logs_dir: logs_dir.into(),
        http_base: None,
        https_base: None,
        ports: json!({}),
    };
    let status = Arc::new(ServerStatus::new("9.9.9", 10));
    status.set_started();
    status.set_faulty_artifacts(vec!["api/Bad.xml:2:3: unknown mediator <x>".into()]);
    let management = ManagementApi::new(config, facts, status, live(), None).expect("api");
    let ports = PortView {
        offset: 10,
        ports: vec![
            PortRow {
                name: "HTTP pass-through".into(),
                key: "http".into(),
                port: 8290,
                protocol: "http",
                bind: "0.0.0.0".into(),
                state: PortState::Listening,
                config_key: Some("transport.http.listener.port"),
            },
            PortRow {
                name: "JMX RMI server".into(),
                key: "jmx_rmi_server".into(),
                port: 11121,
                protocol: "tcp",
                bind: "localhost".into(),
                state: PortState::Off,
                config_key: None,
            },
        ],
    };
    Console::new(management, Arc::new(move || ports.clone()))
        .with_observed(Arc::new(Counters))
        .with_holder_probe(Arc::new(|port| {
            (port == 11121).then(|| "pid 1 `init`".into())
        }))
}

fn console() -> Console {
    console_in(Path::new("/nonexistent/logs"))
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn call(c: &Console, method: Method, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    let r = runtime().block_on(c.handle(ConsoleRequest {
        method: &method,
        path_and_query: path,
        headers: &map,
    }));
    Answer {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.body().clone(),
    }
}

fn login(c: &Console, user: &str, password: &str) -> String {
    use base64::Engine;
    let mut headers = HeaderMap::new();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Basic {basic}")).unwrap(),
    );
    let r = runtime().block_on(c.management.handle(ManagementRequest {
        method: &Method::GET,
        path_and_query: "/management/login",
        headers: &headers,
        body: b"",
        client: std::net::IpAddr::from([127, 0, 0, 1]),
    }));
    assert_eq!(r.status(), 200);
    let v: Value = serde_json::from_slice(r.body()).unwrap();
    format!("Bearer {}", v["AccessToken"].as_str().unwrap())
}

fn assert_security_headers(a: &Answer, what: &str) {
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(
            a.headers.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{name} on {what}"
        );
    }
}

#[test]
fn every_answer_carries_the_security_headers() {
    let c = console();
    let admin = login(&c, "admin", "pw");
    for (method, path, auth) in [
        (Method::GET, "/console", None),
        (Method::GET, "/console/", None),
        (Method::GET, "/console/index.html", None),
        (Method::GET, "/console/missing.js", None),
        (Method::GET, "/console/../Cargo.toml", None),
        (Method::POST, "/console/", None),
        (Method::GET, "/console/api/summary", None),
        (Method::GET, "/console/api/summary", Some(admin.as_str())),
        (Method::GET, "/console/api/nope", Some(admin.as_str())),
        (Method::DELETE, "/console/api/ports", Some(admin.as_str())),
    ] {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
        let a = call(&c, method.clone(), path, &headers);
        assert_security_headers(&a, &format!("{method} {path} ({})", a.status));
    }
    assert_eq!(
        CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    );
}

#[test]
fn the_bare_context_redirects_and_the_root_is_the_index() {
    let c = console();
    let a = call(&c, Method::GET, "/console", &[]);
    assert_eq!(a.status, 301);
    assert_eq!(a.headers["location"], "/console/");
    let a = call(&c, Method::GET, "/console/", &[]);
    assert_eq!(a.status, 200);
    assert_eq!(a.headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(a.body, Bytes::from_static(assets::lookup("").unwrap().body));
    let etag = a.headers["etag"].to_str().unwrap().to_string();
    let again = call(&c, Method::GET, "/console/", &[("if-none-match", &etag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let other = call(&c, Method::GET, "/console/", &[("if-none-match", "\"x\"")]);
    assert_eq!(other.status, 200);
    let head = call(&c, Method::HEAD, "/console/index.html", &[]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(call(&c, Method::POST, "/console/", &[]).status, 405);
}

#[test]
fn traversal_is_400_and_missing_files_404() {
    let c = console();
    for path in [
        "/console/../Cargo.toml",
        "/console/%2e%2e/Cargo.toml",
        "/console/js/%2E%2E/%2E%2E/build.rs",
        "/console/..%2fsrc/lib.rs",
    ] {
        assert_eq!(call(&c, Method::GET, path, &[]).status, 400, "{path}");
    }
    assert_eq!(call(&c, Method::GET, "/console/nope.css", &[]).status, 404);
    assert_eq!(call(&c, Method::GET, "/console/api", &[]).status, 404);
}

#[test]
fn api_resources_need_a_bearer_token() {
    let c = console();
    for resource in ["ports", "summary", "traffic", "logs", "fleet", "nope"] {
        let path = format!("/console/api/{resource}");
        let a = call(&c, Method::GET, &path, &[]);
        assert_eq!(a.status, 401, "{path}");
        assert!(a.json()["Error"].is_string(), "{path}");
        let a = call(&c, Method::GET, &path, &[("authorization", "Bearer nope")]);
        assert_eq!(a.status, 401, "{path}");
        let a = call(
            &c,
            Method::GET,
            &path,
            &[("authorization", "Basic YWRtaW46cHc=")],
        );
        assert_eq!(a.status, 401, "{path}: Basic is for /management/login only");
    }
    let admin = login(&c, "admin", "pw");
    let a = call(
        &c,
        Method::GET,
        "/console/api/nope",
        &[("authorization", &admin)],
    );
    assert_eq!(a.status, 404);
    assert!(a.json()["Error"].is_string());
    let a = call(
        &c,
        Method::POST,
        "/console/api/ports",
        &[("authorization", &admin)],
    );
    assert_eq!(a.status, 405);
}

#[test]
fn the_summary_counts_artifacts_failures_and_requests() {
    let c = console();
    let viewer = login(&c, "view", "v");
    let a = call(
        &c,
        Method::GET,
        "/console/api/summary",
        &[("authorization", &viewer)],
    );
    assert_eq!(a.status, 200);
    let v = a.json();
    assert_eq!(v["name"], "host-a");
    assert_eq!(v["version"], "9.9.9");
    assert_eq!(v["offset"], 10);
    assert_eq!(v["home"], "/h");
    assert_eq!(v["health"], "faulty");
    assert_eq!(v["artifacts"]["apis"], 1);
    assert_eq!(v["artifacts"]["proxy_services"], 0);
    assert_eq!(v["failed"][0]["file"], "api/Bad.xml:2:3");
    assert_eq!(v["failed"][0]["error"], "unknown mediator <x>");
    assert_eq!(v["requests_total"], 7);
    assert_eq!(v["errors_total"], 2);
    assert!(v["uptime_secs"].is_u64());
}

#[test]
fn ports_show_state_and_holder() {
    let c = console();
    let admin = login(&c, "admin", "pw");
    let v = call(
        &c,
        Method::GET,
        "/console/api/ports",
        &[("authorization", &admin)],
    )
    .json();
    assert_eq!(v["offset"], 10);
    assert_eq!(v["ports"][0]["key"], "http");
    assert_eq!(v["ports"][0]["state"], "listening");
    assert_eq!(v["ports"][0]["holder"], "this instance");
    assert_eq!(v["ports"][1]["state"], "off");
    assert_eq!(v["ports"][1]["holder"], "pid 1 `init`");
}

#[test]
fn traffic_answers_the_history_since() {
    let c = console();
    let admin = login(&c, "admin", "pw");
    let services = Counters.services();
    c.traffic().sample(1_000, &services);
    let mut more = services.clone();
    more[0].requests += 3;
    more[0].cumulative_buckets = vec![10, 10];
    c.traffic().sample(3_000, &more);
    let v = call(
        &c,
        Method::GET,
        "/console/api/traffic",
        &[("authorization", &admin)],
    )
    .json();
    assert_eq!(v["interval_ms"], 2000);
    assert_eq!(v["series"][0]["name"], "OrdersApi");
    assert_eq!(v["series"][0]["points"][0]["requests"], 3);
    let v = call(
        &c,
        Method::GET,
        "/console/api/traffic?since=3000",
        &[("authorization", &admin)],
    )
    .json();
    assert_eq!(v["series"][0]["points"].as_array().unwrap().len(), 0);
    let a = call(
        &c,
        Method::GET,
        "/console/api/traffic?since=soon",
        &[("authorization", &admin)],
    );
    assert_eq!(a.status, 400);
}

#[test]
fn the_log_tail_is_for_administrators() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(logs::LOG_FILE), "a\nb\n").unwrap();
    let c = console_in(dir.path());
    let viewer = login(&c, "view", "v");
    let a = call(
        &c,
        Method::GET,
        "/console/api/logs",
        &[("authorization", &viewer)],
    );
    assert_eq!(a.status, 403);
    assert!(a.json()["Error"].is_string());
    let admin = login(&c, "admin", "pw");
    let v = call(
        &c,
        Method::GET,
        "/console/api/logs",
        &[("authorization", &admin)],
    )
    .json();
    assert_eq!(v["lines"], json!(["a", "b"]));
    assert_eq!(v["offset"], 4);
    assert_eq!(v["truncated"], false);
    let v = call(
        &c,
        Method::GET,
        "/console/api/logs?after=2",
        &[("authorization", &admin)],
    )
    .json();
    assert_eq!(v["lines"], json!(["b"]));
}

#[test]
fn the_fleet_token_opens_the_summary_only() {
    let tls = conflux_transport::tls::client_config(None).unwrap();
    let token = fleet::new_token().unwrap();
    let own = fleet::InstanceInfo {
        pid: std::process::id(),
        url: "https://127.0.0.1:9164".into(),
        offset: 10,
        home: "/h".into(),
        version: "9.9.9".into(),
        token: token.clone(),
        fingerprint: None,
        start_ticks: None,
    };
    let c = console().with_fleet(Arc::new(Fleet::new(own, tls, Vec::new())));
    let with_token = [("x-conflux-fleet-token", token.as_str())];
    let a = call(&c, Method::GET, "/console/api/summary", &with_token);
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["name"], "host-a");
    for other in ["ports", "traffic", "logs", "fleet"] {
        let path = format!("/console/api/{other}");
        assert_eq!(
            call(&c, Method::GET, &path, &with_token).status,
            401,
            "{path}"
        );
    }
    let wrong = [("x-conflux-fleet-token", "0000")];
    assert_eq!(
        call(&c, Method::GET, "/console/api/summary", &wrong).status,
        401
    );
    // The fleet lists this instance first, with its summary.
    let admin = login(&c, "admin", "pw");
    let v = call(
        &c,
        Method::GET,
        "/console/api/fleet",
        &[("authorization", &admin)],
    )
    .json();
    assert_eq!(v["instances"][0]["self"], true);
    assert_eq!(v["instances"][0]["source"], "self");
    assert_eq!(v["instances"][0]["summary"]["name"], "host-a");
}

#[test]
fn an_unreachable_peer_shows_its_error() {
    // A port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tls = conflux_transport::tls::client_config(None).unwrap();
    let own = fleet::InstanceInfo {
        pid: std::process::id(),
        url: "https://127.0.0.1:9164".into(),
        offset: 10,
        home: "/h".into(),
        version: "9.9.9".into(),
        token: fleet::new_token().unwrap(),
        fingerprint: None,
        start_ticks: None,
    };
    let peer = format!("https://127.0.0.1:{port}");
    let c = console().with_fleet(Arc::new(Fleet::new(own, tls, vec![peer.clone()])));
    let admin = login(&c, "admin", "pw");
    let v = call(
        &c,
        Method::GET,
        "/console/api/fleet",
        &[("authorization", &admin)],
    )
    .json();
    let instances = v["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 2, "{v}");
    assert_eq!(instances[1]["url"], peer);
    assert_eq!(instances[1]["source"], "configured");
    assert_eq!(instances[1]["reachable"], false);
    assert!(instances[1]["error"].is_string());
    assert!(instances[1]["summary"].is_null());
}
