//! End to end through the real binary: Prometheus metrics on the internal HTTP port move when
//! requests flow (MI's MetricConstants families and labels), the `-DenablePrometheusApi` switch,
//! Jolokia monitoring over the per-artifact MBeans, log4j2.properties levels, the log file, run-time
//! level changes and a syslog appender received on a local UDP socket.

mod support;

use support::backend::*;
use support::*;

fn observed_home() -> Home {
    let dead = format!("http://127.0.0.1:{}/x", closed_port());
    home_with(&[
        (
            "api/HelloApi.xml",
            r#"<api xmlns="http://ws.apache.org/ns/synapse" name="HelloApi" context="/hello">
    <resource methods="GET" url-mapping="/*">
        <inSequence>
            <payloadFactory media-type="json"><format>{"hello": "world"}</format><args/></payloadFactory>
            <respond/>
        </inSequence>
    </resource>
</api>"#
                .to_string(),
        ),
        (
            "api/DownApi.xml",
            format!(
                r#"<api xmlns="http://ws.apache.org/ns/synapse" name="DownApi" context="/down">
    <resource methods="GET" url-mapping="/*">
        <inSequence><send><endpoint><address uri="{dead}"/></endpoint></send></inSequence>
    </resource>
</api>"#
            ),
        ),
        (
            "proxy-services/EchoProxy.xml",
            r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="EchoProxy" transports="http https" startOnLoad="true">
    <target><inSequence>
        <payloadFactory media-type="xml"><format><ok xmlns=""/></format><args/></payloadFactory>
        <respond/>
    </inSequence></target>
</proxy>"#
                .to_string(),
        ),
    ])
}

/// The value of the one sample line starting with `prefix` (labels included), if any.
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

const HELLO: &str = "wso2_integration_api_request_count_total{service_name=\"HelloApi\",service_type=\"api\",invocation_url=\"/hello\",}";
const DOWN_ERRORS: &str = "wso2_integration_api_request_count_error_total{service_name=\"DownApi\",service_type=\"api\",invocation_url=\"/down\",}";
const PROXY: &str = "wso2_integration_proxy_request_count_total{service_name=\"EchoProxy\",service_type=\"proxy\",}";
const HELLO_COUNT: &str = "wso2_integration_api_latency_seconds_count{service_name=\"HelloApi\",service_type=\"api\",invocation_url=\"/hello\",}";

#[test]
fn metrics_move_when_requests_flow() {
    let home = observed_home();
    let server = Server::start(home.path(), free_offset(), &[]);
    let internal = server.port(INTERNAL_HTTP);
    let http = server.port(HTTP);

    let before = get(internal, "/metric-service/metrics");
    assert_eq!(before.status, 200, "{before:?}");
    assert_eq!(
        before.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = before.text();
    assert_eq!(sample(&text, HELLO), Some(0.0), "{text}");
    assert_eq!(sample(&text, PROXY), Some(0.0), "{text}");
    assert!(text.contains("# TYPE wso2_integration_api_latency_seconds histogram"));
    assert!(text.contains("wso2_integration_server_up{host=\"localhost\","));

    for _ in 0..3 {
        assert_eq!(get(http, "/hello/x").status, 200);
    }
    let down = get(http, "/down/y");
    assert!(down.status >= 500, "{down:?}");
    let proxied = http_post(http, "/services/EchoProxy");
    assert_eq!(proxied.status, 200, "{proxied:?}");

    let after = get(internal, "/metric-service/metrics").text();
    assert_eq!(sample(&after, HELLO), Some(3.0), "{after}");
    assert_eq!(sample(&after, HELLO_COUNT), Some(3.0), "{after}");
    assert_eq!(sample(&after, DOWN_ERRORS), Some(1.0), "{after}");
    assert_eq!(sample(&after, PROXY), Some(1.0), "{after}");
    let inf = "wso2_integration_api_latency_seconds_bucket{service_name=\"HelloApi\",service_type=\"api\",invocation_url=\"/hello\",le=\"+Inf\",}";
    assert_eq!(sample(&after, inf), Some(3.0), "{after}");

    // MI's name[] filter.
    let only = get(
        internal,
        "/metric-service/metrics?name[]=wso2_integration_proxy_request_count_total",
    )
    .text();
    assert_eq!(sample(&only, PROXY), Some(1.0), "{only}");
    assert!(!only.contains("wso2_integration_api_"), "{only}");
}

fn http_post(port: u16, path: &str) -> HttpResponse {
    http("POST", "127.0.0.1", port, path, b"<in/>")
}

#[test]
fn prometheus_api_can_be_switched_off_and_mi_switch_is_accepted() {
    let home = observed_home();
    let off = Server::start(home.path(), free_offset(), &["-DenablePrometheusApi=false"]);
    assert_eq!(
        get(off.port(INTERNAL_HTTP), "/metric-service/metrics").status,
        404
    );
    assert_eq!(get(off.port(INTERNAL_HTTP), "/liveness").status, 200);
    drop(off);
    let on = Server::start(home.path(), free_offset(), &["-DenablePrometheusApi=true"]);
    assert_eq!(
        get(on.port(INTERNAL_HTTP), "/metric-service/metrics").status,
        200
    );
}

const LOGGED_API: &str = r#"<api xmlns="http://ws.apache.org/ns/synapse" name="LoggedApi" context="/logged">
    <resource methods="GET" url-mapping="/*">
        <inSequence>
            <log level="custom"><property name="marker" expression="$url:m"/></log>
            <payloadFactory media-type="json"><format>{"ok": true}</format><args/></payloadFactory>
            <respond/>
        </inSequence>
    </resource>
</api>"#;

/// Waits (bounded) until `path` contains `needle`; returns the file's text.
fn wait_for_file(path: &std::path::Path, needle: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) || std::time::Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

// log4j2.properties levels, the wso2carbon.log file, a Syslog appender received on a local UDP
// socket, and a level changed at run time through the Management API (MI `LoggingResource`).
#[test]
fn log4j2_file_syslog_and_run_time_level_change() {
    let syslog = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    syslog
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let syslog_port = syslog.local_addr().unwrap().port();
    let home = Home::new(
        "[server]\nhostname = \"localhost\"\n[management_api]\nprotocols = \"https http\"\n",
    );
    home.write(&format!("{SYNAPSE}/api/LoggedApi.xml"), LOGGED_API);
    home.write(
        "conf/log4j2.properties",
        &format!(
            "appenders = CARBON_CONSOLE, CARBON_LOGFILE, SYSLOG\n\
             appender.CARBON_CONSOLE.type = Console\nappender.CARBON_CONSOLE.name = CARBON_CONSOLE\n\
             appender.CARBON_LOGFILE.type = RollingFile\nappender.CARBON_LOGFILE.name = CARBON_LOGFILE\n\
             appender.CARBON_LOGFILE.fileName = ${{sys:logfiles.home}}/wso2carbon.log\n\
             appender.SYSLOG.type = Syslog\nappender.SYSLOG.name = Syslog\nappender.SYSLOG.host = 127.0.0.1\n\
             appender.SYSLOG.port = {syslog_port}\nappender.SYSLOG.protocol = UDP\nappender.SYSLOG.format = RFC5424\n\
             appender.SYSLOG.facility = LOCAL1\n\
             rootLogger.level = INFO\nrootLogger.appenderRef.stdout.ref = CARBON_CONSOLE\n\
             rootLogger.appenderRef.file.ref = CARBON_LOGFILE\nrootLogger.appenderRef.sys.ref = Syslog\n\
             loggers = log-mediator\nlogger.log-mediator.name = org.apache.synapse.mediators.builtin.LogMediator\n\
             logger.log-mediator.level = OFF\n"
        ),
    );
    let server = Server::start(home.path(), free_offset(), &[]);
    let log_file = home.path().join("repository/logs/wso2carbon.log");

    // Syslog: RFC 5424 with facility LOCAL1 (17): INFO is <142>.
    let mut buf = vec![0u8; 65_536];
    let mut received = Vec::new();
    while !received
        .iter()
        .any(|l: &String| l.contains("Conflux started"))
    {
        let n = syslog.recv(&mut buf).expect("a syslog datagram");
        received.push(String::from_utf8_lossy(&buf[..n]).to_string());
    }
    let started = received
        .iter()
        .find(|l| l.contains("Conflux started"))
        .unwrap();
    assert!(started.starts_with("<142>1 "), "{started}");
    assert!(started.contains(" localhost conflux "), "{started}");
    assert!(
        started.contains("INFO {conflux::server} - Conflux started"),
        "{started}"
    );

    // DESIGN.md §1 rule 5: with a UDP syslog appender the process holds exactly one bound UDP
    // socket (the sender's ephemeral source port) and listens on exactly the ports of the plan.
    if std::path::Path::new("/proc/net/udp").exists() {
        let sockets = conflux::sockets::listening_sockets_of(server.pid());
        let udp: Vec<_> = sockets
            .iter()
            .filter(|s| s.table.starts_with("udp"))
            .collect();
        assert_eq!(udp.len(), 1, "{sockets:?}");
        let tcp: std::collections::BTreeSet<u16> = sockets
            .iter()
            .filter(|s| s.table.starts_with("tcp"))
            .map(|s| s.local_port)
            .collect();
        let plan: std::collections::BTreeSet<u16> =
            [HTTP, HTTPS, INTERNAL_HTTP, INTERNAL_HTTPS, JMX]
                .into_iter()
                .map(|base| server.port(base))
                .collect();
        assert_eq!(tcp, plan, "{sockets:?}");
    } else {
        eprintln!("skipped the socket-table check: no /proc/net/udp");
    }

    // The file has MI's layout.
    let text = wait_for_file(&log_file, "Conflux started");
    let line = text
        .lines()
        .find(|l| l.contains("Conflux started"))
        .expect("started line");
    assert!(line.starts_with('['), "{line}");
    assert!(
        line.contains("]  INFO {conflux::server} - Conflux started in "),
        "{line}"
    );

    // The log mediator is OFF per log4j2.properties ...
    let http = server.port(HTTP);
    assert_eq!(get(http, "/logged/a?m=before-change").status, 200);
    // ... turned on at run time through the Management API, no restart.
    let internal = server.port(INTERNAL_HTTP);
    let login = request(
        "GET",
        internal,
        "/management/login",
        &[("Authorization", "Basic YWRtaW46YWRtaW4=")],
        b"",
    );
    assert_eq!(login.status, 200, "{:?}", login.text());
    let token: serde_json::Value = serde_json::from_str(&login.text()).unwrap();
    let token = token["AccessToken"]
        .as_str()
        .expect("AccessToken")
        .to_string();
    let bearer = format!("Bearer {token}");
    let patch = request(
        "PATCH",
        internal,
        "/management/logging",
        &[
            ("Authorization", &bearer),
            ("Content-Type", "application/json"),
        ],
        br#"{"loggerName": "log-mediator", "loggingLevel": "INFO"}"#,
    );
    assert_eq!(patch.status, 200, "{:?}", patch.text());
    assert_eq!(get(http, "/logged/a?m=after-change").status, 200);
    let text = wait_for_file(&log_file, "after-change");
    let line = text
        .lines()
        .find(|l| l.contains("after-change"))
        .unwrap_or_default();
    assert!(line.contains(" INFO {LogMediator} - "), "{text}");
    assert!(line.contains("marker = after-change"), "{text}");
    assert!(!text.contains("before-change"), "{text}");
    drop(server);
}

/// The real jolokia.js client (scripts/jolokia-client, `npm ci` there), or `None` with a printed
/// skip when node or the package is absent.
fn jolokia_client() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/jolokia-client");
    let node_ok = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node_ok || !dir.join("node_modules/jolokia.js/package.json").exists() {
        eprintln!(
            "skipped: the jolokia.js client test needs node and `npm ci` in {}",
            dir.display()
        );
        return None;
    }
    Some(dir.join("check.mjs"))
}

fn run_jolokia_client(script: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new("node")
        .arg(script)
        .args(args)
        .output()
        .expect("run node");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

// Jolokia protocol checked with a real client (jolokia.js 2.6), GET and POST forms, against the
// MI-style MBeans; then with [monitoring.jolokia] Basic auth.
#[test]
fn jolokia_js_client_reads_mi_style_mbeans() {
    let Some(script) = jolokia_client() else {
        return;
    };
    let home = observed_home();
    let server = Server::start(home.path(), free_offset(), &[]);
    for _ in 0..2 {
        assert_eq!(get(server.port(HTTP), "/hello/x").status, 200);
    }
    let url = format!("http://127.0.0.1:{}/jolokia", server.port(JMX));
    let (ok, text) = run_jolokia_client(&script, &[&url, "HelloApi", "2"]);
    assert!(ok, "{text}");
    assert!(text.contains("ok   get read HelloApi Requests"), "{text}");
    assert!(text.contains("ok   post exec faultyArtifacts"), "{text}");
    drop(server);

    let home = observed_home();
    home.write(
        "conf/deployment.toml",
        "[server]\nhostname = \"localhost\"\n[monitoring.jolokia]\nusername = \"watcher\"\npassword = \"pw\"\n",
    );
    let server = Server::start(home.path(), free_offset(), &[]);
    let url = format!("http://127.0.0.1:{}/jolokia", server.port(JMX));
    let (ok, text) = run_jolokia_client(&script, &[&url, "HelloApi", "0", "watcher", "pw"]);
    assert!(ok, "{text}");
    let denied = get(server.port(JMX), "/jolokia/version");
    assert_eq!(denied.status, 401);
    assert!(denied.header("www-authenticate").is_some());
}

// A real Prometheus server scrapes the endpoint (scripts/prometheus-scrape.sh); skipped with a
// message when the Debian package `prometheus` is not installed.
#[test]
fn prometheus_server_scrapes_conflux() {
    let installed = ["prometheus", "promtool"].iter().all(|tool| {
        std::process::Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !installed {
        eprintln!("skipped: prometheus/promtool not installed (apt-get install prometheus)");
        return;
    }
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/prometheus-scrape.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg(BIN)
        .output()
        .expect("run the scrape script");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("ok: Prometheus scraped Conflux"), "{text}");
}

// The HTTP access log is off by default and written once conf/access-log.properties exists, in
// MI's default pattern.
#[test]
fn http_access_log_is_off_by_default_and_follows_access_log_properties() {
    let home = observed_home();
    let server = Server::start(home.path(), free_offset(), &[]);
    assert_eq!(get(server.port(HTTP), "/hello/x").status, 200);
    drop(server);
    let log = home.path().join("repository/logs/http_access.log");
    assert!(!log.exists(), "access log written although not configured");

    home.write("conf/access-log.properties", "# MI's default pattern\n");
    let server = Server::start(home.path(), free_offset(), &[]);
    let r = request(
        "GET",
        server.port(HTTP),
        "/hello/x?y=1",
        &[
            ("User-Agent", "observability-test"),
            ("X-Forwarded-For", "203.0.113.9"),
        ],
        b"",
    );
    assert_eq!(r.status, 200);
    let text = wait_for_file(&log, "observability-test");
    let line = text
        .lines()
        .find(|l| l.contains("observability-test"))
        .unwrap_or_default();
    assert!(line.starts_with("203.0.113.9 127.0.0.1 - - ["), "{text}");
    assert!(
        line.contains("] \"GET /hello/x?y=1 HTTP/1.1\" 200 "),
        "{text}"
    );
    assert!(line.ends_with(" \"-\" \"observability-test\""), "{text}");
}

// MI's shipped conf/log4j2.properties loads: the root logger's console, wso2carbon.log and
// wso2error.log appenders are used; only the OSGi appender is reported as not implemented.
#[test]
fn mi_shipped_log4j2_properties_loads() {
    let corpus = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/mi-default-conf/log4j2.properties"
    );
    let Ok(text) = std::fs::read_to_string(corpus) else {
        eprintln!("skipped: {corpus} is absent");
        return;
    };
    let home = observed_home();
    home.write("conf/log4j2.properties", &text);
    let server = Server::start(home.path(), free_offset(), &[]);
    let carbon = wait_for_file(
        &home.path().join("repository/logs/wso2carbon.log"),
        "Conflux started",
    );
    assert!(
        carbon.contains("INFO {conflux::server} - Conflux started"),
        "{carbon}"
    );
    let warnings: Vec<&str> = carbon
        .lines()
        .filter(|l| l.contains("{conflux::logging}"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("PaxOsgi"), "{warnings:?}");
    // ERROR_LOGFILE (threshold WARN) exists and holds that warning only.
    let errors = wait_for_file(
        &home.path().join("repository/logs/wso2error.log"),
        "PaxOsgi",
    );
    assert!(errors.contains("WARN {conflux::logging}"), "{errors}");
    assert!(!errors.contains(" INFO "), "{errors}");
    drop(server);
}
