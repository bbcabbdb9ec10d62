//! The web console's server side end to end against the real binary (issue 18): the embedded
//! pages with their security headers on the Management API's HTTPS port only, the Bearer check of
//! `/console/api/*`, the port plan against `conflux ports --json`, the traffic history moving
//! after real requests, the admin-only log tail, and two instances at different offsets that find
//! each other through their instance files (a private `XDG_RUNTIME_DIR` per test) and fetch each
//! other's summary over TLS pinned to the certificate fingerprint in the file.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;
use support::backend::https_request_with;
use support::*;

const USERS: &str = "[[internal_apis.users]]\nuser.name = \"ops\"\nuser.password = \"ops-pass\"\nuser.is_admin = true\n\n[[internal_apis.users]]\nuser.name = \"viewer\"\nuser.password = \"viewer-pass\"\n";

/// The header values every console answer carries (the contract with the front end).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

fn home(extra_toml: &str) -> Home {
    let home = Home::new(&format!(
        "[server]\nhostname = \"localhost\"\n{extra_toml}\n{USERS}"
    ));
    home.write(
        &format!("{SYNAPSE}/api/PingApi.xml"),
        &api(
            "PingApi",
            "/ping",
            r#"<resource methods="GET" uri-template="/*"><inSequence><payloadFactory media-type="json"><format>{"pong":true}</format><args/></payloadFactory><respond/></inSequence></resource>"#,
        ),
    );
    home
}

/// Starts conflux on `home` with `runtime_dir` as its `XDG_RUNTIME_DIR`.
fn start_in(home: &Home, runtime_dir: &Path) -> Server {
    let offset = free_offset();
    let mut cmd = Command::new(BIN);
    cmd.arg("--home")
        .arg(home.path())
        .arg(format!("-DportOffset={offset}"))
        .env("XDG_RUNTIME_DIR", runtime_dir);
    Server::spawn(cmd, offset)
}

fn https(port: u16, path: &str, headers: &[(&str, String)]) -> HttpResponse {
    https_request_with("GET", port, path, headers, b"")
}

fn login(port: u16, user: &str, password: &str) -> String {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let r = https(
        port,
        "/management/login",
        &[("Authorization", format!("Basic {basic}"))],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v: Value = serde_json::from_slice(&r.body).expect("JSON");
    format!("Bearer {}", v["AccessToken"].as_str().expect("AccessToken"))
}

fn get_json(port: u16, path: &str, bearer: &str) -> Value {
    let r = https(port, path, &[("Authorization", bearer.to_string())]);
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
    serde_json::from_slice(&r.body).expect("JSON")
}

fn assert_console_headers(r: &HttpResponse, what: &str) {
    for (name, value) in [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-cache"),
    ] {
        assert_eq!(r.header(name), Some(value), "{name} on {what}");
    }
}

/// Polls `f` until it answers `Some` (the server's sampler runs every 2 s); fails after a minute.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within 60 s");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn pages_are_served_with_security_headers_on_the_management_port_only() {
    let runtime = tempfile::tempdir().unwrap();
    let h = home("");
    let server = start_in(&h, runtime.path());
    let port = server.port(INTERNAL_HTTPS);

    let r = https(port, "/console", &[]);
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/console/"));
    assert_console_headers(&r, "/console");

    let r = https(port, "/console/", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_console_headers(&r, "/console/");
    let etag = r.header("etag").expect("ETag").to_string();
    let page = r.text();
    assert!(page.to_lowercase().contains("<html"), "{page}");
    let again = https(port, "/console/", &[("If-None-Match", etag)]);
    assert_eq!(again.status, 304);
    let head = https_request_with("HEAD", port, "/console/index.html", &[], b"");
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length"),
        Some(r.body.len().to_string().as_str())
    );

    for (path, status) in [
        ("/console/../conf/deployment.toml", 400),
        ("/console/%2e%2e/%2e%2e/conf/deployment.toml", 400),
        ("/console/no-such-file.js", 404),
    ] {
        let r = https(port, path, &[]);
        assert_eq!(r.status, status, "{path}");
        assert_console_headers(&r, path);
    }

    // Without a token: 401 with the Management API's error object.
    for resource in ["ports", "summary", "traffic", "logs", "fleet"] {
        let r = https(port, &format!("/console/api/{resource}"), &[]);
        assert_eq!(r.status, 401, "{resource}");
        assert_console_headers(&r, resource);
        let v: Value = serde_json::from_slice(&r.body).expect("JSON");
        assert!(v["Error"].is_string(), "{resource}: {v}");
    }

    // The Management API is HTTPS-only by default: so is the console.
    let plain = get(server.port(INTERNAL_HTTP), "/console/");
    assert_eq!(plain.status, 404);
}

#[test]
fn a_failed_artifact_shows_in_the_summary_with_its_file() {
    let runtime = tempfile::tempdir().unwrap();
    let h = home("");
    h.write(
        &format!("{SYNAPSE}/api/Broken.xml"),
        r#"<api xmlns="http://ws.apache.org/ns/synapse" name="Broken" context="/broken">
  <resource methods="GET"><inSequence><noSuchMediator/></inSequence></resource>
</api>"#,
    );
    let server = start_in(&h, runtime.path());
    let port = server.port(INTERNAL_HTTPS);
    let bearer = login(port, "viewer", "viewer-pass");
    let summary = get_json(port, "/console/api/summary", &bearer);
    assert_eq!(summary["health"], "faulty", "{summary}");
    let failed = summary["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{summary}");
    let file = failed[0]["file"]
        .as_str()
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(file.ends_with("api/Broken.xml:2:39"), "{summary}");
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("noSuchMediator"),
        "{summary}"
    );
    assert_eq!(
        summary["artifacts"]["apis"], 1,
        "the good API still deploys"
    );
}

#[test]
fn console_is_404_when_disabled() {
    let runtime = tempfile::tempdir().unwrap();
    let h = home("[console]\nenabled = false\n");
    let server = start_in(&h, runtime.path());
    let r = https(server.port(INTERNAL_HTTPS), "/console/", &[]);
    assert_eq!(r.status, 404);
    // And it registers nowhere.
    assert!(!runtime.path().join("conflux/instances").exists());
}

#[test]
fn ports_match_conflux_ports() {
    let runtime = tempfile::tempdir().unwrap();
    let h = home("");
    let server = start_in(&h, runtime.path());
    let port = server.port(INTERNAL_HTTPS);
    let bearer = login(port, "viewer", "viewer-pass");
    let console = get_json(port, "/console/api/ports", &bearer);

    let (code, stdout, stderr) = run(&[
        "ports",
        "--json",
        "--home",
        h.path().to_str().unwrap(),
        &format!("-DportOffset={}", server.offset),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let plan: Value = serde_json::from_str(&stdout).expect("ports JSON");
    assert_eq!(console["offset"], plan["offset"]);
    let rows = console["ports"].as_array().unwrap();
    let roles = plan["ports"].as_array().unwrap();
    assert_eq!(rows.len(), roles.len(), "{console}\n{plan}");
    for role in roles {
        let key = role["role"].as_str().unwrap();
        let row = rows
            .iter()
            .find(|r| r["key"] == key)
            .unwrap_or_else(|| panic!("{key} in {console}"));
        assert_eq!(row["port"], role["port"], "{key}");
        assert_eq!(row["bind"], role["bind"], "{key}");
        assert_eq!(row["config_key"], role["key"], "{key}");
        let opened = role["opened"].as_bool().unwrap();
        assert_eq!(
            row["state"],
            if opened { "listening" } else { "off" },
            "{key}"
        );
        if opened {
            assert_eq!(row["holder"], "this instance", "{key}");
        }
    }
}

#[test]
fn traffic_moves_after_requests_and_the_summary_counts_them() {
    let runtime = tempfile::tempdir().unwrap();
    let h = home("");
    let server = start_in(&h, runtime.path());
    let port = server.port(INTERNAL_HTTPS);
    let bearer = login(port, "ops", "ops-pass");
    let summary = get_json(port, "/console/api/summary", &bearer);
    assert_eq!(summary["health"], "ready");
    assert_eq!(summary["offset"], server.offset);
    assert_eq!(summary["artifacts"]["apis"], 1);
    let before = summary["requests_total"].as_u64().unwrap();

    const REQUESTS: u64 = 7;
    for _ in 0..REQUESTS {
        let r = get(server.port(HTTP), "/ping/x");
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let points = eventually("the traffic history shows the requests", || {
        let v = get_json(port, "/console/api/traffic", &bearer);
        assert_eq!(v["interval_ms"], 2000);
        let series = v["series"]
            .as_array()?
            .iter()
            .find(|s| s["kind"] == "api" && s["name"] == "PingApi")?
            .clone();
        let points = series["points"].as_array()?.clone();
        let total: u64 = points.iter().filter_map(|p| p["requests"].as_u64()).sum();
        (total == REQUESTS).then_some(points)
    });
    let busy = points
        .iter()
        .find(|p| p["requests"].as_u64() > Some(0))
        .unwrap();
    assert!(busy["p50_ms"].is_number() && busy["mean_ms"].is_number());
    // `since` leaves out what the browser already has.
    let last = points.last().unwrap()["t"].as_u64().unwrap();
    let v = get_json(port, &format!("/console/api/traffic?since={last}"), &bearer);
    let newer = v["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "PingApi")
        .map(|s| s["points"].as_array().unwrap().clone())
        .unwrap_or_default();
    assert!(newer.iter().all(|p| p["t"].as_u64().unwrap() > last));

    let summary = get_json(port, "/console/api/summary", &bearer);
    assert_eq!(
        summary["requests_total"].as_u64().unwrap(),
        before + REQUESTS
    );
}

#[test]
fn the_log_tail_follows_the_carbon_log_for_administrators() {
    let runtime = tempfile::tempdir().unwrap();
    let h = home("");
    let server = start_in(&h, runtime.path());
    let port = server.port(INTERNAL_HTTPS);
    let viewer = login(port, "viewer", "viewer-pass");
    let r = https(
        port,
        "/console/api/logs",
        &[("Authorization", viewer.clone())],
    );
    assert_eq!(r.status, 403);
    let admin = login(port, "ops", "ops-pass");
    let first = get_json(port, "/console/api/logs", &admin);
    let lines = first["lines"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.as_str().unwrap().contains("Conflux started in")),
        "{first}"
    );
    let offset = first["offset"].as_u64().unwrap();
    // The login above is audited to the log: the tail after `offset` picks up new lines only.
    login(port, "ops", "ops-pass");
    let next = eventually("new log lines", || {
        let v = get_json(port, &format!("/console/api/logs?after={offset}"), &admin);
        (!v["lines"].as_array()?.is_empty()).then_some(v)
    });
    assert!(next["offset"].as_u64().unwrap() > offset);
    assert!(
        next["lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| !l.as_str().unwrap().contains("Conflux started in")),
        "{next}"
    );
}

#[test]
fn two_instances_see_each_other_in_the_fleet() {
    let runtime = tempfile::tempdir().unwrap();
    let home_a = home("");
    let home_b = home("");
    let a = start_in(&home_a, runtime.path());
    let mut b = start_in(&home_b, runtime.path());
    let instances = runtime.path().join("conflux/instances");
    let file_b = instances.join(format!("{}.json", b.pid()));
    eventually("both instance files", || {
        (instances.join(format!("{}.json", a.pid())).exists() && file_b.exists()).then_some(())
    });
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&runtime.path().join("conflux")), 0o700);
    assert_eq!(mode(&file_b), 0o600);

    for (me, other) in [(&a, &b), (&b, &a)] {
        let port = me.port(INTERNAL_HTTPS);
        let bearer = login(port, "viewer", "viewer-pass");
        let fleet = get_json(port, "/console/api/fleet", &bearer);
        let list = fleet["instances"].as_array().unwrap();
        assert_eq!(list[0]["self"], true, "{fleet}");
        assert_eq!(list[0]["summary"]["offset"], me.offset);
        let url = format!("https://127.0.0.1:{}", other.port(INTERNAL_HTTPS));
        let peer = list
            .iter()
            .find(|i| i["url"] == url.as_str())
            .unwrap_or_else(|| panic!("{url} in {fleet}"));
        assert_eq!(peer["self"], false);
        assert_eq!(peer["source"], "discovered");
        assert_eq!(peer["reachable"], true, "{fleet}");
        assert!(peer["error"].is_null(), "{fleet}");
        assert_eq!(peer["summary"]["offset"], other.offset);
        assert_eq!(peer["summary"]["health"], "ready");
        assert_eq!(peer["summary"]["artifacts"]["apis"], 1);
    }

    // The fleet token opens another instance's summary and nothing else.
    let info: Value = serde_json::from_slice(&std::fs::read(&file_b).unwrap()).unwrap();
    let token = info["token"].as_str().unwrap().to_string();
    let port_b = b.port(INTERNAL_HTTPS);
    let r = https(
        port_b,
        "/console/api/summary",
        &[("X-Conflux-Fleet-Token", token.clone())],
    );
    assert_eq!(r.status, 200);
    let r = https(
        port_b,
        "/console/api/ports",
        &[("X-Conflux-Fleet-Token", token)],
    );
    assert_eq!(r.status, 401);

    // A stopped instance removes its file and leaves the fleet.
    assert!(b.terminate().success());
    assert!(!file_b.exists(), "{}", b.output());
    let port_a = a.port(INTERNAL_HTTPS);
    let bearer = login(port_a, "viewer", "viewer-pass");
    let fleet = get_json(port_a, "/console/api/fleet", &bearer);
    assert_eq!(fleet["instances"].as_array().unwrap().len(), 1, "{fleet}");
}

#[test]
fn configured_peers_show_why_they_have_no_summary() {
    let runtime_a = tempfile::tempdir().unwrap();
    let runtime_b = tempfile::tempdir().unwrap();
    let home_b = home("[console]\ndiscovery = false\n");
    let b = start_in(&home_b, runtime_b.path());
    // A gets B's generated keystore: A's client trusts its own certificate, so it verifies B; B
    // refuses A's token (each instance signs its own), which the fleet shows as B's answer.
    let keystore = "repository/resources/security/wso2carbon.jks";
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let peer_b = format!("https://127.0.0.1:{}", b.port(INTERNAL_HTTPS));
    let peer_closed = format!("https://127.0.0.1:{closed}");
    let home_a = home(&format!(
        "[console]\ndiscovery = false\npeers = [\"{peer_b}\", \"{peer_closed}\"]\n"
    ));
    std::fs::create_dir_all(home_a.path().join(keystore).parent().unwrap()).unwrap();
    std::fs::copy(home_b.path().join(keystore), home_a.path().join(keystore)).unwrap();
    let a = start_in(&home_a, runtime_a.path());
    assert!(
        !runtime_a.path().join("conflux").exists(),
        "discovery is off"
    );
    let port = a.port(INTERNAL_HTTPS);
    let bearer = login(port, "viewer", "viewer-pass");
    let fleet = get_json(port, "/console/api/fleet", &bearer);
    let list = fleet["instances"].as_array().unwrap();
    assert_eq!(list.len(), 3, "{fleet}");
    let entry = |url: &str| list.iter().find(|i| i["url"] == url).unwrap().clone();
    let refused = entry(&peer_b);
    assert_eq!(refused["source"], "configured");
    assert_eq!(refused["reachable"], true, "{fleet}");
    assert!(refused["summary"].is_null());
    assert!(
        refused["error"].as_str().unwrap().contains("401"),
        "{fleet}"
    );
    let closed = entry(&peer_closed);
    assert_eq!(closed["reachable"], false, "{fleet}");
    assert!(closed["error"].as_str().is_some_and(|e| !e.is_empty()));
}

#[test]
fn a_shared_fleet_token_opens_configured_peers() {
    const TOKEN: &str = "fleet-secret-0123456789";
    let runtime_a = tempfile::tempdir().unwrap();
    let runtime_b = tempfile::tempdir().unwrap();
    let home_b = home(&format!(
        "[console]\ndiscovery = false\nfleet_token = \"{TOKEN}\"\n"
    ));
    let b = start_in(&home_b, runtime_b.path());
    // A trusts B's certificate through its own keystore (the same self-signed certificate).
    let keystore = "repository/resources/security/wso2carbon.jks";
    let peer_b = format!("https://127.0.0.1:{}", b.port(INTERNAL_HTTPS));
    let home_a = home(&format!(
        "[console]\ndiscovery = false\nfleet_token = \"{TOKEN}\"\npeers = [\"{peer_b}\"]\n"
    ));
    std::fs::create_dir_all(home_a.path().join(keystore).parent().unwrap()).unwrap();
    std::fs::copy(home_b.path().join(keystore), home_a.path().join(keystore)).unwrap();
    let a = start_in(&home_a, runtime_a.path());
    let port = a.port(INTERNAL_HTTPS);
    let bearer = login(port, "viewer", "viewer-pass");
    let fleet = get_json(port, "/console/api/fleet", &bearer);
    let list = fleet["instances"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{fleet}");
    assert_eq!(list[1]["url"], peer_b.as_str());
    assert_eq!(list[1]["source"], "configured");
    assert_eq!(list[1]["reachable"], true, "{fleet}");
    assert!(list[1]["error"].is_null(), "{fleet}");
    assert_eq!(list[1]["summary"]["offset"], b.offset);
}
