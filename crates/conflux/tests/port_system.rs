//! End to end through the real binary: the port plan, offset resolution, validation, all-or-nothing
//! start-up, several instances side by side, health probes, no port outside the plan, and a clean
//! stop. (Issue: "The port system, end to end".)

mod support;

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use support::*;

const DEFAULT_TOML: &str = "[server]\nhostname = \"localhost\"\n";

#[test]
fn starts_logs_the_plan_answers_probes_and_stops_cleanly() {
    let home = Home::new(DEFAULT_TOML);
    let offset = free_offset();
    let mut server = Server::start(home.path(), offset, &[]);
    let out = server.output();
    assert!(
        out.contains(&format!("port plan (offset {offset} from command line)")),
        "{out}"
    );
    for base in [HTTP, HTTPS, INTERNAL_HTTP, INTERNAL_HTTPS] {
        assert!(
            out.contains(&format!(
                "Listener started on 0.0.0.0:{}",
                server.port(base)
            )),
            "{out}"
        );
    }
    assert!(
        out.contains(&format!(
            "Listener started on 127.0.0.1:{}",
            server.port(JMX)
        )),
        "{out}"
    );

    // MI's probes (LivenessResource / ReadinessResource).
    let live = get(server.port(INTERNAL_HTTP), "/liveness");
    assert_eq!(live.status, 200);
    assert_eq!(live.text(), r#"{"server" : "started"}"#);
    let ready = get(server.port(INTERNAL_HTTP), "/healthz");
    assert_eq!(ready.status, 200);
    assert!(
        ready.text().contains(r#""status" : "ready""#),
        "{}",
        ready.text()
    );
    assert_eq!(
        get(server.port(INTERNAL_HTTP), "/no-such-thing").status,
        404
    );
    // No API deployed: MI's main sequence answers 404 with no body.
    let none = get(server.port(HTTP), "/anything");
    assert_eq!(none.status, 404);
    assert!(none.body.is_empty());
    // Monitoring on the JMX registry port speaks Jolokia.
    let v = get(server.port(JMX), "/jolokia/version");
    assert_eq!(v.status, 200);
    assert!(v.text().contains(r#""protocol":"7.2""#), "{}", v.text());

    let status = server.terminate();
    assert!(status.success(), "{status}");
    let out = server.output();
    assert!(out.contains("Received SIGTERM"), "{out}");
    assert!(out.contains("Conflux stopped"), "{out}");
}

#[test]
fn sigint_also_stops_cleanly() {
    let home = Home::new(DEFAULT_TOML);
    let mut server = Server::start(home.path(), free_offset(), &[]);
    signal(server.pid(), "INT");
    assert!(server.wait(Duration::from_secs(20)).success());
    assert!(server.output().contains("Conflux stopped"));
}

fn ports_json(home: &Home, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["ports", "--json", "--home", home.path().to_str().unwrap()];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = run(&all);
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

// MI docs "changing the default ports with offset"; mi-ports.md §2.2 worked examples.
#[test]
fn offset_resolution_matches_mi() {
    let plain = Home::new(DEFAULT_TOML);
    let v = ports_json(&plain, &[]);
    assert_eq!(v["offset"], 10);
    assert_eq!(v["offset_source"], "default");
    let http = &v["ports"][0];
    assert_eq!(http["role"], "http");
    assert_eq!(http["key"], "transport.http.listener.port");
    assert_eq!(http["base"], 8280);
    assert_eq!(http["port"], 8290);
    assert_eq!(http["bind"], "0.0.0.0");
    assert_eq!(http["enabled"], true);
    let roles: Vec<&str> = v["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        [
            "http",
            "https",
            "internal_http",
            "internal_https",
            "jmx_rmi_registry",
            "jmx_rmi_server"
        ]
    );
    let ports: Vec<u64> = v["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, [8290, 8253, 9201, 9164, 10009, 11121]);

    let three = Home::new("[server]\noffset = 3\n");
    let v = ports_json(&three, &[]);
    assert_eq!(v["offset_source"], "deployment.toml");
    assert_eq!(v["ports"][0]["port"], 8283);
    // The command line wins, and replaces (does not add to) the file's offset.
    let v = ports_json(&three, &["-DportOffset=5"]);
    assert_eq!(v["offset"], 5);
    assert_eq!(v["offset_source"], "command line");
    assert_eq!(v["ports"][1]["port"], 8248);
    let v = ports_json(&three, &["--port-offset", "0"]);
    assert_eq!(v["ports"][0]["port"], 8280);
    // Explicit ports get the offset too.
    let explicit = Home::new("[mediation]\ninternal_https_api_port = 9154\n");
    assert_eq!(ports_json(&explicit, &[])["ports"][3]["port"], 9164);
    // MI parses any integer (Integer.parseInt): a public project runs `offset = -810`, HTTP on
    // 7470. Accepted, with a warning that names the lowered ports.
    let negative = Home::new("[server]\noffset = -810\n");
    let v = ports_json(&negative, &[]);
    assert_eq!(v["offset"], -810);
    assert_eq!(v["ports"][0]["port"], 7470);
    assert_eq!(
        ports_json(&three, &["--port-offset", "-3"])["ports"][0]["port"],
        8277
    );
    let (code, _, stderr) = run(&["check", "--home", negative.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("offset -810") && stderr.contains("HTTP on 7470"),
        "{stderr}"
    );
}

#[test]
fn disabled_roles_are_shown_and_not_opened() {
    let home = Home::new(
        "[transport.http]\nlistener.secured_enable = false\n[monitoring.jmx]\nrmi_server_start = false\n",
    );
    let v = ports_json(&home, &[]);
    assert_eq!(v["ports"][1]["enabled"], false);
    assert_eq!(v["ports"][4]["enabled"], false);
    let (code, stdout, _) = run(&["ports", "--home", home.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(stdout.contains("disabled"), "{stdout}");
    let mut server = Server::start(home.path(), free_offset(), &[]);
    let listening = listening_ports(server.pid());
    assert!(!listening.contains(&server.port(HTTPS)));
    assert!(!listening.contains(&server.port(JMX)));
    assert!(server.terminate().success());
}

#[test]
fn bad_configuration_exits_2_naming_key_location_value() {
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "[server\noffset = 1\n",
            &[],
            &["TOML syntax error", "deployment.toml:1:"],
        ),
        (
            "[server]\noffset = \"abc\"\n",
            &[],
            &[
                "[server] offset",
                "deployment.toml:2:10",
                "\"abc\"",
                "a whole number",
            ],
        ),
        (
            "[server]\noffset = -8300\n",
            &[],
            &["8280 + offset -8300 = -20", "from -8242 to"],
        ),
        ("", &["-DportOffset"], &["-DportOffset", "bare"]),
        ("", &["-DportOffset=x1"], &["-DportOffset=x1"]),
        (
            "",
            &["-DportOffset=65300"],
            &["8280 + offset 65300 = 73580"],
        ),
        (
            "[mediation]\ninternal_http_api_port = 8280\n",
            &[],
            &[
                "port 8290 is planned twice",
                "http (transport.http.listener.port",
                "internal_http (mediation.internal_http_api_port",
                "deployment.toml:2:26",
            ],
        ),
        (
            "[transport.http]\nlistener.enable = \"yes\"\n",
            &[],
            &["[transport.http] listener.enable", "true or false"],
        ),
    ];
    for (toml, args, needles) in cases {
        let home = Home::new(toml);
        for command in [None, Some("ports"), Some("check")] {
            let mut all: Vec<&str> = command.into_iter().collect();
            all.extend(["--home", home.path().to_str().unwrap()]);
            all.extend_from_slice(args);
            let (code, _, stderr) = run(&all);
            assert_eq!(code, 2, "{command:?} {toml:?} {args:?}: {stderr}");
            for needle in *needles {
                assert!(
                    stderr.contains(needle),
                    "{toml:?} {args:?}: missing {needle:?} in\n{stderr}"
                );
            }
            assert!(stderr.contains("nothing was started"), "{stderr}");
        }
    }
}

#[test]
fn unknown_keys_and_properties_are_warned_not_fatal() {
    let home = Home::new("[server]\nhostnmae = \"x\"\n[transport.jms]\nsender_enable = true\n");
    let (code, _, stderr) = run(&[
        "check",
        "--home",
        home.path().to_str().unwrap(),
        "-DnotAnMiProperty=1",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("unknown key [server] hostnmae"), "{stderr}");
    assert!(stderr.contains("deployment.toml:2:12"), "{stderr}");
    assert!(
        stderr.contains("not supported by Conflux yet")
            && stderr.contains("transport.jms.sender_enable"),
        "{stderr}"
    );
    assert!(stderr.contains("-DnotAnMiProperty"), "{stderr}");
}

#[test]
fn env_and_sys_placeholders_work() {
    let home = Home::new(
        "[server]\noffset = \"$sys{myOffset}\"\n[mediation]\ninternal_http_api_port = \"$env{CONFLUX_TEST_PORT}\"\n",
    );
    let out = Command::new(BIN)
        .args([
            "ports",
            "--json",
            "--home",
            home.path().to_str().unwrap(),
            "-DmyOffset=7",
        ])
        .env("CONFLUX_TEST_PORT", "9300")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["offset"], 7);
    assert_eq!(v["ports"][2]["port"], 9307);
}

#[test]
fn a_taken_port_binds_nothing_and_suggests_a_free_offset() {
    let home = Home::new(DEFAULT_TOML);
    let offset = free_offset();
    let blocker_port = (u32::from(INTERNAL_HTTPS) + offset) as u16;
    let blocker = TcpListener::bind(("0.0.0.0", blocker_port)).unwrap();
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = run(&[
        "--home",
        home.path().to_str().unwrap(),
        &format!("-DportOffset={offset}"),
    ]);
    let elapsed = started.elapsed();
    let all = format!("{stdout}{stderr}");
    assert_eq!(code, 1, "{all}");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert!(
        all.contains(&format!(
            "cannot listen on 0.0.0.0:{blocker_port} for internal_https"
        )),
        "{all}"
    );
    assert!(
        all.contains(&format!(
            "mediation.internal_https_api_port = 9154 + offset {offset} = {blocker_port}"
        )),
        "{all}"
    );
    assert!(
        all.contains(&format!("held by pid {}", std::process::id())),
        "{all}"
    );
    assert!(all.contains("nothing was started"), "{all}");
    assert!(!all.contains("Conflux started"), "{all}");
    let suggested: u32 = all
        .split("try -DportOffset=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no suggestion in {all}"));
    assert_ne!(suggested, offset);
    // The process is gone and the other ports of its plan are free again.
    for base in [HTTP, HTTPS, INTERNAL_HTTP] {
        let port = (u32::from(base) + offset) as u16;
        assert!(
            TcpListener::bind(("0.0.0.0", port)).is_ok(),
            "port {port} still bound"
        );
    }
    // `ports --check` names the taken port and its holder.
    let (code, stdout, _) = run(&[
        "ports",
        "--check",
        "--home",
        home.path().to_str().unwrap(),
        &format!("-DportOffset={offset}"),
    ]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains(&format!(
            "port {blocker_port} (internal_https) is taken by pid {}",
            std::process::id()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("try -DportOffset="), "{stdout}");
    drop(blocker);
}

#[test]
fn three_instances_run_side_by_side() {
    let homes: Vec<Home> = (0..3).map(|_| Home::new(DEFAULT_TOML)).collect();
    let mut servers = Vec::new();
    for home in &homes {
        servers.push(Server::start(home.path(), free_offset(), &[]));
    }
    let offsets: BTreeSet<u32> = servers.iter().map(|s| s.offset).collect();
    assert_eq!(offsets.len(), 3);
    for s in &servers {
        assert_eq!(get(s.port(INTERNAL_HTTP), "/liveness").status, 200);
        assert_eq!(get(s.port(HTTP), "/x").status, 404);
        let v = get(
            s.port(JMX),
            "/jolokia/read/org.wso2.conflux:type=Server/PortOffset",
        );
        assert!(
            v.text().contains(&format!("\"value\":{}", s.offset)),
            "{}",
            v.text()
        );
    }
    for s in &mut servers {
        assert!(s.terminate().success());
    }
}

/// The TCP ports `pid` listens on and the UDP ports it has bound, from the kernel's tables.
fn listening_ports(pid: u32) -> BTreeSet<u16> {
    conflux::sockets::listening_sockets_of(pid)
        .iter()
        .map(|s| s.local_port)
        .collect()
}

#[test]
fn listens_on_exactly_the_enabled_ports_of_the_plan() {
    if !std::path::Path::new("/proc/net/tcp").exists() {
        eprintln!("skipping: no /proc/net/tcp on this system");
        return;
    }
    let home = Home::new(DEFAULT_TOML);
    let mut server = Server::start(home.path(), free_offset(), &[]);
    // Exercise every listener first, so that lazily opened sockets would show up.
    get(server.port(INTERNAL_HTTP), "/healthz");
    get(server.port(HTTP), "/");
    get(server.port(JMX), "/jolokia/version");
    https_get(server.port(INTERNAL_HTTPS), "/healthz");
    let sockets = conflux::sockets::listening_sockets_of(server.pid());
    let listening: BTreeSet<u16> = sockets.iter().map(|s| s.local_port).collect();
    let expected: BTreeSet<u16> = [HTTP, HTTPS, INTERNAL_HTTP, INTERNAL_HTTPS, JMX]
        .iter()
        .map(|b| server.port(*b))
        .collect();
    assert_eq!(listening, expected, "sockets: {sockets:?}");
    assert!(
        sockets.iter().all(|s| s.table.starts_with("tcp")),
        "no UDP socket expected: {sockets:?}"
    );
    assert!(server.terminate().success());
}

#[test]
fn internal_https_serves_the_probes_over_tls() {
    let home = Home::new(DEFAULT_TOML);
    let mut server = Server::start(home.path(), free_offset(), &[]);
    let r = https_get(server.port(INTERNAL_HTTPS), "/healthz");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("ready"));
    assert!(server.terminate().success());
}

#[test]
fn micro_integrator_sh_forwards_mi_arguments() {
    let script = bundled_home().join("bin/micro-integrator.sh");
    let home = Home::new(DEFAULT_TOML);
    let offset = free_offset();
    let mut cmd = Command::new("sh");
    cmd.arg(&script)
        .arg(format!("-DportOffset={offset}"))
        .env("CONFLUX_BIN", BIN)
        .env("CONFLUX_HOME", home.path());
    let mut server = Server::spawn(cmd, offset);
    assert!(
        server
            .output()
            .contains(&format!("offset {offset} from command line"))
    );
    assert_eq!(get(server.port(INTERNAL_HTTP), "/liveness").status, 200);
    // The script execs the binary, so the signal reaches the server itself.
    assert!(server.terminate().success());
    let (code, stdout, _) = {
        let out = Command::new("sh")
            .arg(&script)
            .arg("version")
            .env("CONFLUX_BIN", BIN)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            (),
        )
    };
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with("Conflux "), "{stdout}");
}

#[test]
fn version_and_check() {
    let (code, stdout, _) = run(&["version"]);
    assert_eq!(code, 0);
    assert!(stdout.contains(env!("CARGO_PKG_VERSION")));
    let (code, stdout, stderr) = run(&["check", "--home", bundled_home().to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

/// A GET over TLS that accepts the server's self-signed certificate.
fn https_get(port: u16, path: &str) -> HttpResponse {
    support::backend::https_request("GET", port, path, b"")
}

/// A backend that answers every request after `delay`, on a thread; returns its port.
fn slow_backend(delay: Duration) -> u16 {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                std::thread::sleep(delay);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nslow",
                );
            });
        }
    });
    port
}

#[test]
fn sigterm_lets_in_flight_requests_finish() {
    let backend = slow_backend(Duration::from_millis(1500));
    let home = Home::new(DEFAULT_TOML);
    home.write(
        "repository/deployment/server/synapse-configs/default/api/Slow.xml",
        &format!(
            r#"<api xmlns="http://ws.apache.org/ns/synapse" name="Slow" context="/slow">
  <resource methods="GET"><inSequence><send><endpoint><address uri="http://127.0.0.1:{backend}/"/></endpoint></send></inSequence></resource>
</api>"#
        ),
    );
    let mut server = Server::start(home.path(), free_offset(), &[]);
    let port = server.port(HTTP);
    let in_flight = std::thread::spawn(move || get(port, "/slow/x"));
    // Let the request reach the backend, then ask the server to stop.
    std::thread::sleep(Duration::from_millis(500));
    signal(server.pid(), "TERM");
    let response = in_flight.join().unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "slow");
    assert!(server.wait(Duration::from_secs(20)).success());
    let out = server.output();
    assert!(
        out.contains("Received SIGTERM") && out.contains("Conflux stopped"),
        "{out}"
    );
    // New connections are refused once it stopped.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
