//! Hot deployment end to end through the real binary (MI `[server] hot_deployment`, on by
//! default; docs-mi `develop/hot-deployment.md`): artifact files added, changed, broken, fixed and
//! removed while the server runs; CApps dropped into `carbonapps/` (renamed into place and written
//! in place), replaced and deleted; registry files changed under what uses them; a redeploy under
//! load that fails no request; counters and endpoint states of unchanged artifacts carried over;
//! `hot_deployment = false`; and the Management API's CApp upload and delete.
//!
//! Every wait polls with a deadline ([`CHANGE_TIMEOUT`]); nothing asserts on timing.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use support::backend::*;
use support::capp::*;
use support::*;

const NS: &str = "http://ws.apache.org/ns/synapse";

/// An API at `context` answering `answer` as text on GET.
fn text_api(name: &str, context: &str, answer: &str) -> String {
    format!(
        r#"<api xmlns="{NS}" name="{name}" context="{context}">
    <resource methods="GET">
        <inSequence>
            <payloadFactory media-type="text"><format>{answer}</format><args/></payloadFactory>
            <respond/>
        </inSequence>
    </resource>
</api>"#
    )
}

fn artifact_path(home: &Home, relative: &str) -> PathBuf {
    home.path().join(SYNAPSE).join(relative)
}

/// How many redeploys the server has logged.
fn redeploys(server: &Server) -> usize {
    server.output().matches("Redeployed in ").count()
}

/// Waits until the server has logged more than `before` redeploys.
fn wait_for_redeploy(server: &Server, before: usize) {
    wait_for("a redeploy", CHANGE_TIMEOUT, || {
        if redeploys(server) > before {
            Ok(())
        } else {
            Err(server.output())
        }
    });
}

/// Waits until GET `path` answers `status` with `body`.
fn wait_for_answer(port: u16, path: &str, status: u16, body: &str) {
    wait_for(
        &format!("GET {path} -> {status} {body:?}"),
        CHANGE_TIMEOUT,
        || {
            let r = get(port, path);
            if r.status == status && r.text() == body {
                Ok(())
            } else {
                Err(format!("{} {:?}", r.status, r.text()))
            }
        },
    );
}

/// Waits until `/healthz` answers `status` and its body has every one of `needles`; returns it.
fn wait_for_health(server: &Server, status: u16, needles: &[&str]) -> String {
    let port = server.port(INTERNAL_HTTP);
    wait_for(
        &format!("/healthz {status} with {needles:?}"),
        CHANGE_TIMEOUT,
        || {
            let r = get(port, "/healthz");
            let text = r.text();
            if r.status == status && needles.iter().all(|n| text.contains(n)) {
                Ok(text)
            } else {
                Err(format!("{} {text}", r.status))
            }
        },
    )
}

#[test]
fn an_artifact_file_added_changed_broken_fixed_and_removed_while_serving() {
    let home = home_with(&[("api/Steady.xml", text_api("Steady", "/steady", "steady"))]);
    let server = start(&home);
    assert!(
        server.output().contains("Hot deployment is on"),
        "{}",
        server.output()
    );
    let http = server.port(HTTP);
    let file = artifact_path(&home, "api/Hot.xml");
    assert_eq!(get(http, "/hot").status, 404);

    // Added.
    std::fs::write(&file, text_api("Hot", "/hot", "v1")).unwrap();
    wait_for_answer(http, "/hot", 200, "v1");
    assert!(server.output().contains("Redeployed in "));

    // Changed.
    std::fs::write(&file, text_api("Hot", "/hot", "v2")).unwrap();
    wait_for_answer(http, "/hot", 200, "v2");

    // Broken: the previous version keeps serving; /healthz and the log say what is wrong.
    std::fs::write(
        &file,
        format!("<api xmlns=\"{NS}\" name=\"Hot\" context=\"/hot\">\n    <resource methods=\"GET\">\n</api>\n"),
    )
    .unwrap();
    let health = wait_for_health(&server, 500, &["api/Hot.xml:"]);
    assert!(health.contains("keeps serving"), "{health}");
    let r = get(http, "/hot");
    assert_eq!((r.status, r.text().as_str()), (200, "v2"));
    let log = server.output_with(&["api/Hot.xml:"]);
    assert!(log.contains("api/Hot.xml:"), "{log}");

    // Fixed.
    std::fs::write(&file, text_api("Hot", "/hot", "v3")).unwrap();
    wait_for_answer(http, "/hot", 200, "v3");
    wait_for_health(&server, 200, &["ready"]);

    // Removed: MI's answer when no API matches (404, no body).
    std::fs::remove_file(&file).unwrap();
    wait_for_answer(http, "/hot", 404, "");

    // A new kind folder appearing later is watched too.
    let sequence = artifact_path(&home, "sequences/Later.xml");
    std::fs::create_dir_all(sequence.parent().unwrap()).unwrap();
    std::fs::write(
        &sequence,
        format!(
            r#"<sequence xmlns="{NS}" name="Later"><payloadFactory media-type="text"><format>later</format><args/></payloadFactory><respond/></sequence>"#
        ),
    )
    .unwrap();
    std::fs::write(
        &file,
        format!(
            r#"<api xmlns="{NS}" name="Hot" context="/hot"><resource methods="GET"><inSequence><sequence key="Later"/></inSequence></resource></api>"#
        ),
    )
    .unwrap();
    wait_for_answer(http, "/hot", 200, "later");

    let r = get(http, "/steady");
    assert_eq!((r.status, r.text().as_str()), (200, "steady"));
}

fn drop_capp(answer: &str) -> CAppBuilder {
    CAppBuilder::new("Drop").api("DropApi", &text_api("DropApi", "/drop", answer))
}

#[test]
fn a_capp_dropped_in_replaced_broken_and_deleted_while_serving() {
    // No carbonapps folder at start: it is created while the server runs, as a Dockerfile's COPY
    // or a deployment script would.
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    let server = start(&home);
    let http = server.port(HTTP);
    let dir = carbonapps(home.path());
    assert!(!dir.exists());

    // Written to a temporary name, then renamed into place.
    let path = drop_capp("drop v1").write_into_atomically(&dir);
    wait_for_answer(http, "/drop", 200, "drop v1");
    let management = Management::admin(server.port(INTERNAL_HTTPS));
    assert!(
        management
            .applications()
            .active()
            .contains(&"Drop".to_string())
    );

    // Written in place (several writes the watcher sees as one burst).
    CAppBuilder::new("Plain")
        .api("PlainApi", &text_api("PlainApi", "/plain", "plain"))
        .write_into(&dir);
    wait_for_answer(http, "/plain", 200, "plain");

    // Replaced with a new version of the same file.
    drop_capp("drop v2").write_into_atomically(&dir);
    wait_for_answer(http, "/drop", 200, "drop v2");

    // Replaced with a broken file: the previous version keeps serving, the failure shows.
    std::fs::write(&path, b"PK\x03\x04 not a whole zip").unwrap();
    let health = wait_for_health(&server, 500, &["Drop_1.0.0.car"]);
    assert!(health.contains("keeps serving"), "{health}");
    let r = get(http, "/drop");
    assert_eq!((r.status, r.text().as_str()), (200, "drop v2"));
    let apps = management.applications();
    assert!(
        apps.faulty().iter().any(|n| n.starts_with("Drop")),
        "{}",
        apps.0
    );

    // Deleted: gone, and no longer listed.
    std::fs::remove_file(&path).unwrap();
    wait_for_answer(http, "/drop", 404, "");
    wait_for_health(&server, 200, &["ready"]);
    let apps = management.applications();
    assert!(
        !apps
            .active()
            .iter()
            .chain(apps.faulty().iter())
            .any(|n| n.starts_with("Drop"))
    );
    assert_eq!(apps.active(), ["Plain"]);
    let r = get(http, "/plain");
    assert_eq!((r.status, r.text().as_str()), (200, "plain"));
}

#[test]
fn a_registry_file_changed_redeploys_what_uses_it() {
    let home = home_with(&[(
        "api/Reg.xml",
        format!(
            r#"<api xmlns="{NS}" name="Reg" context="/reg">
    <resource methods="GET" uri-template="/text"><inSequence>
        <payloadFactory media-type="json"><format>{{"greeting": "$1"}}</format><args>
            <arg evaluator="xml" expression="get-property('registry', 'conf:/greeting.txt')"/>
        </args></payloadFactory>
        <respond/>
    </inSequence></resource>
    <resource methods="GET" uri-template="/format"><inSequence>
        <payloadFactory media-type="json"><format key="conf:/formats/reply.json"/><args><arg value="x"/></args></payloadFactory>
        <respond/>
    </inSequence></resource>
    <resource methods="GET" uri-template="/sequence"><inSequence>
        <sequence key="gov:/sequences/Reply.xml"/>
    </inSequence></resource>
</api>"#
        ),
    )]);
    let reply = |answer: &str| {
        format!(
            r#"<sequence xmlns="{NS}" name="Reply"><payloadFactory media-type="text"><format>{answer}</format><args/></payloadFactory><respond/></sequence>"#
        )
    };
    home.write("registry/config/greeting.txt", "hello v1");
    home.write(
        "registry/config/formats/reply.json",
        r#"{"reply": "$1", "v": 1}"#,
    );
    home.write(
        "registry/governance/sequences/Reply.xml",
        &reply("sequence v1"),
    );
    let server = start(&home);
    let http = server.port(HTTP);
    wait_for_answer(http, "/reg/text", 200, r#"{"greeting": "hello v1"}"#);
    wait_for_answer(http, "/reg/format", 200, r#"{"reply": "x", "v": 1}"#);
    wait_for_answer(http, "/reg/sequence", 200, "sequence v1");

    home.write("registry/config/greeting.txt", "hello v2");
    wait_for_answer(http, "/reg/text", 200, r#"{"greeting": "hello v2"}"#);
    home.write(
        "registry/config/formats/reply.json",
        r#"{"reply": "$1", "v": 2}"#,
    );
    wait_for_answer(http, "/reg/format", 200, r#"{"reply": "x", "v": 2}"#);
    home.write(
        "registry/governance/sequences/Reply.xml",
        &reply("sequence v2"),
    );
    wait_for_answer(http, "/reg/sequence", 200, "sequence v2");
}

/// A minimal HTTP/1.1 keep-alive client: GET on one connection, responses framed by
/// Content-Length or chunked; reconnects when the server closes.
struct KeepAlive {
    port: u16,
    reader: Option<BufReader<TcpStream>>,
}

impl KeepAlive {
    fn new(port: u16) -> KeepAlive {
        KeepAlive { port, reader: None }
    }

    fn get(&mut self, path: &str) -> Result<(u16, String), String> {
        let reader = match &mut self.reader {
            Some(reader) => reader,
            None => {
                let stream = TcpStream::connect(("127.0.0.1", self.port))
                    .map_err(|e| format!("connect: {e}"))?;
                stream
                    .set_read_timeout(Some(Duration::from_secs(30)))
                    .map_err(|e| e.to_string())?;
                self.reader.insert(BufReader::new(stream))
            }
        };
        let result = exchange(reader, self.port, path);
        match &result {
            Ok((_, _, keep)) if *keep => {}
            _ => self.reader = None,
        }
        result.map(|(status, body, _)| (status, body))
    }
}

/// One GET on `reader`'s connection: (status, body, whether the connection stays open).
fn exchange(
    reader: &mut BufReader<TcpStream>,
    port: u16,
    path: &str,
) -> Result<(u16, String, bool), String> {
    write!(
        reader.get_mut(),
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .map_err(|e| format!("write: {e}"))?;
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| format!("status line: {e}"))?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {line:?}"))?;
    let mut length = None;
    let mut chunked = false;
    let mut close = false;
    loop {
        line.clear();
        reader
            .read_line(&mut line)
            .map_err(|e| format!("header: {e}"))?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase());
            match k.as_str() {
                "content-length" => length = v.parse::<usize>().ok(),
                "transfer-encoding" => chunked = v.contains("chunked"),
                "connection" => close = v.contains("close"),
                _ => {}
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader
                .read_line(&mut line)
                .map_err(|e| format!("chunk size: {e}"))?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| format!("bad chunk size {line:?}"))?;
            if size == 0 {
                line.clear();
                reader
                    .read_line(&mut line)
                    .map_err(|e| format!("chunk end: {e}"))?;
                break;
            }
            let mut chunk = vec![0u8; size + 2];
            reader
                .read_exact(&mut chunk)
                .map_err(|e| format!("chunk: {e}"))?;
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        reader
            .read_exact(&mut body)
            .map_err(|e| format!("body: {e}"))?;
    } else {
        reader
            .read_to_end(&mut body)
            .map_err(|e| format!("body: {e}"))?;
        close = true;
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned(), !close))
}

/// Client threads for the load test.
const LOAD_THREADS: usize = 4;
/// Redeploys while the clients run.
const LOAD_REDEPLOYS: usize = 20;

#[test]
fn a_redeploy_under_load_fails_no_request() {
    let home = home_with(&[
        ("api/Load.xml", text_api("Load", "/load", "load")),
        ("api/Other.xml", text_api("Other", "/other", "other 0")),
    ]);
    let server = start(&home);
    let http = server.port(HTTP);
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..LOAD_THREADS)
        .map(|i| {
            let (stop, sent) = (stop.clone(), sent.clone());
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                let mut client = KeepAlive::new(http);
                while !stop.load(Ordering::Relaxed) {
                    // Thread 0 opens a new connection for every request; the others keep theirs.
                    if i == 0 {
                        client = KeepAlive::new(http);
                    }
                    match client.get("/load") {
                        Ok((200, body)) if body == "load" => {}
                        other => failures.push(format!("{other:?}")),
                    }
                    sent.fetch_add(1, Ordering::Relaxed);
                    if i == 0 {
                        // Spares the ephemeral ports a connection per request uses.
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
                failures
            })
        })
        .collect();

    for revision in 1..=LOAD_REDEPLOYS {
        let before = redeploys(&server);
        if revision % 2 == 1 {
            // Another artifact changes.
            let answer = format!("other {revision}");
            std::fs::write(
                artifact_path(&home, "api/Other.xml"),
                text_api("Other", "/other", &answer),
            )
            .unwrap();
            wait_for_redeploy(&server, before);
            wait_for_answer(http, "/other", 200, &answer);
        } else {
            // The loaded API itself, rewritten as an equivalent version.
            std::fs::write(
                artifact_path(&home, "api/Load.xml"),
                format!(
                    "<!-- revision {revision} -->\n{}",
                    text_api("Load", "/load", "load")
                ),
            )
            .unwrap();
            wait_for_redeploy(&server, before);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let failures: Vec<String> = clients
        .into_iter()
        .flat_map(|c| c.join().expect("client thread"))
        .collect();
    let sent = sent.load(Ordering::Relaxed);
    assert!(redeploys(&server) >= LOAD_REDEPLOYS);
    assert!(sent > LOAD_REDEPLOYS, "only {sent} requests were sent");
    assert!(
        failures.is_empty(),
        "{} of {sent} requests failed during {LOAD_REDEPLOYS} redeploys: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    println!("{sent} requests, 0 failed, during {LOAD_REDEPLOYS} redeploys");
}

/// The value of the one Prometheus sample line starting with `prefix`.
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

const COUNTED: &str = "wso2_integration_api_request_count_total{service_name=\"Counted\",service_type=\"api\",invocation_url=\"/counted\",}";

#[test]
fn counters_and_endpoint_states_of_unchanged_artifacts_survive_a_redeploy() {
    let backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: "backend".into(),
    });
    let home = home_with(&[
        (
            "api/Counted.xml",
            text_api("Counted", "/counted", "counted"),
        ),
        (
            "api/Changing.xml",
            text_api("Changing", "/changing", "changing 1"),
        ),
        (
            "endpoints/SwitchedEp.xml",
            format!(
                r#"<endpoint xmlns="{NS}" name="SwitchedEp"><address uri="{}/switched"/></endpoint>"#,
                backend.url()
            ),
        ),
        (
            "api/Uses.xml",
            format!(
                r#"<api xmlns="{NS}" name="Uses" context="/uses"><resource methods="GET"><inSequence><call><endpoint key="SwitchedEp"/></call><respond/></inSequence></resource></api>"#
            ),
        ),
    ]);
    let server = start(&home);
    let http = server.port(HTTP);
    let metrics = || get(server.port(INTERNAL_HTTP), "/metric-service/metrics").text();
    for _ in 0..3 {
        assert_eq!(get(http, "/counted").status, 200);
    }
    assert_eq!(sample(&metrics(), COUNTED), Some(3.0), "{}", metrics());

    // An operator switches the endpoint off (MI `mi deactivate endpoint`).
    assert_eq!(get(http, "/uses").text(), "backend");
    let management = Management::admin(server.port(INTERNAL_HTTPS));
    let r = management.call(
        "POST",
        "endpoints",
        &[("Content-Type", "application/json".into())],
        json!({"name": "SwitchedEp", "status": "inactive"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let calls = backend.requests().len();
    assert_ne!(get(http, "/uses").status, 200);
    assert_eq!(backend.requests().len(), calls);

    // Another artifact changes: a redeploy.
    let before = redeploys(&server);
    std::fs::write(
        artifact_path(&home, "api/Changing.xml"),
        text_api("Changing", "/changing", "changing 2"),
    )
    .unwrap();
    wait_for_redeploy(&server, before);
    wait_for_answer(http, "/changing", 200, "changing 2");

    // The counter carried on, and counts on.
    assert_eq!(sample(&metrics(), COUNTED), Some(3.0), "{}", metrics());
    assert_eq!(get(http, "/counted").status, 200);
    assert_eq!(sample(&metrics(), COUNTED), Some(4.0), "{}", metrics());
    // The endpoint is still switched off.
    let state: Value = management.get_json("endpoints?endpointName=SwitchedEp");
    assert_eq!(state["isActive"], false, "{state}");
    assert_ne!(get(http, "/uses").status, 200);
    assert_eq!(
        backend.requests().len(),
        calls,
        "a switched-off endpoint was called"
    );
}

#[test]
fn hot_deployment_off_ignores_changes_and_an_upload_still_deploys() {
    let home = Home::new("[server]\nhostname = \"localhost\"\nhot_deployment = false\n");
    home.write(
        &format!("{SYNAPSE}/api/Fixed.xml"),
        &text_api("Fixed", "/fixed", "v1"),
    );
    let server = start(&home);
    let http = server.port(HTTP);
    let log = server.output();
    assert!(!log.contains("Hot deployment is on"), "{log}");
    assert!(
        !log.contains("server.hot_deployment"),
        "hot_deployment is a known key: {log}"
    );

    std::fs::write(
        artifact_path(&home, "api/Fixed.xml"),
        text_api("Fixed", "/fixed", "v2"),
    )
    .unwrap();
    // No watcher: give a watcher several debounce periods to have reacted, then check nothing did.
    std::thread::sleep(Duration::from_millis(1500));
    let r = get(http, "/fixed");
    assert_eq!((r.status, r.text().as_str()), (200, "v1"));
    assert_eq!(redeploys(&server), 0, "{}", server.output());

    // The Management API's upload deploys at once all the same.
    let management = Management::admin(server.port(INTERNAL_HTTPS));
    let capp = CAppBuilder::new("Uploaded").api(
        "UploadedApi",
        &text_api("UploadedApi", "/uploaded", "uploaded"),
    );
    let r = management.upload(&capp.file_name(), &capp.build());
    assert_eq!(r.status, 200, "{}", r.text());
    wait_for_answer(http, "/uploaded", 200, "uploaded");
    assert!(
        management
            .applications()
            .active()
            .contains(&"Uploaded".to_string())
    );
}

#[test]
fn management_api_upload_and_delete_end_to_end() {
    let home = Home::new(
        "[server]\nhostname = \"localhost\"\n\n[[internal_apis.users]]\nuser.name = \"ops\"\nuser.password = \"ops-pass\"\nuser.is_admin = true\n\n[[internal_apis.users]]\nuser.name = \"viewer\"\nuser.password = \"viewer-pass\"\n",
    );
    let server = start(&home);
    let http = server.port(HTTP);
    let port = server.port(INTERNAL_HTTPS);
    let admin = Management::login(port, "ops", "ops-pass");
    let viewer = Management::login(port, "viewer", "viewer-pass");
    let capp = CAppBuilder::new("Up")
        .endpoint(
            "UpEp",
            &format!(r#"<endpoint xmlns="{NS}" name="UpEp"><address uri="http://127.0.0.1:9/up"/></endpoint>"#),
        )
        .api("UpApi", &text_api("UpApi", "/up", "uploaded"));
    let bytes = capp.build();

    // Writing needs an administrator.
    assert_eq!(viewer.upload(&capp.file_name(), &bytes).status, 403);
    assert_eq!(viewer.delete("Up_1.0.0").status, 403);
    // MI's refusals: not multipart, not a .car.
    let r = admin.call(
        "POST",
        "applications",
        &[("Content-Type", "application/octet-stream".into())],
        &bytes,
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("multipart/form-data"), "{}", r.text());
    let r = admin.upload("Up_1.0.0.zip", &bytes);
    assert_eq!(r.status, 400);
    assert!(r.text().contains(".car"), "{}", r.text());

    // Upload: written to carbonapps/ and deployed.
    let r = admin.upload(&capp.file_name(), &bytes);
    assert_eq!(r.status, 200, "{}", r.text());
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        json!({"Message": "Successfully added Carbon Application Up_1.0.0.car"})
    );
    assert_eq!(
        std::fs::read(carbonapps(home.path()).join("Up_1.0.0.car")).unwrap(),
        bytes
    );
    wait_for_answer(http, "/up", 200, "uploaded");
    let apps = admin.applications();
    let app = apps
        .active_app("Up")
        .unwrap_or_else(|| panic!("{}", apps.0));
    assert_eq!(app["version"], "1.0.0");
    assert_eq!(
        artifact_list(&app),
        [
            ("UpEp".to_string(), "endpoint".to_string()),
            ("UpApi".to_string(), "api".to_string())
        ]
    );
    // Readers may list.
    assert_eq!(viewer.applications().active(), ["Up"]);
    // The file itself, as MI's download answers it.
    let r = admin.call(
        "GET",
        "applications?carbonAppName=Up_1.0.0.car",
        &[("Accept", "application/octet-stream".into())],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, bytes);

    // Delete: the file goes, and so does what it deployed.
    let r = admin.delete("Up_1.0.0");
    assert_eq!(r.status, 200, "{}", r.text());
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        json!({"Message": "Successfully removed Carbon Application named Up_1.0.0"})
    );
    assert!(!carbonapps(home.path()).join("Up_1.0.0.car").exists());
    wait_for_answer(http, "/up", 404, "");
    wait_for("Up unlisted", CHANGE_TIMEOUT, || {
        let apps = admin.applications();
        if apps.0["totalCount"] == 0 {
            Ok(())
        } else {
            Err(apps.0.to_string())
        }
    });
    let r = admin.delete("Up_1.0.0");
    assert_eq!(r.status, 404);
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        json!({"Error": "Cannot remove the Carbon Application.Up_1.0.0 does not exist"})
    );
}
