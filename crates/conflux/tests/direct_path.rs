//! The direct path for the routes MI users write (issue 22, first bullet; runtime/direct.rs)
//! through the real binary. Each idiom is deployed twice from XML: as written (`/d/...`, which
//! must take the direct path) and with a default-scope `<property name="x" value="1"/>` first in
//! its in-sequence (`/g/...`, which the classifier sends through the general flow). Both go to the
//! same real backend; the answers must be identical (status, headers, body), and what the backend
//! received, the log lines and the backend-down fault answers must match too. The server runs
//! with `CONFLUX_LOG=conflux::direct=debug`, so each direct run writes the event that proves which
//! path the request took.
//!
//! MI sources: the idioms are the tooling defaults (an empty `<outSequence/>` and
//! `<faultSequence/>` from the Integration Studio templates, `<call>` + `<respond/>` from the VS
//! Code extension) and the classic `<outSequence><send/></outSequence>`; the log line is SYN
//! `mediators/builtin/LogMediator.java` `getSimpleLogMessage` (To, ..., MessageID, Direction,
//! then the properties).

mod support;

use support::backend::*;
use support::capp::start_with_env;
use support::*;

/// The reply of the test backend.
const REPLY: &str = r#"{"ok":true}"#;

/// A resource taking every method and path, with these sequences.
fn resource_api(name: &str, context: &str, sequences: &str) -> String {
    api(
        name,
        context,
        &format!(r#"<resource methods="GET POST" url-mapping="/*">{sequences}</resource>"#),
    )
}

/// The direct variant `D{name}` at `/d/{path}` and the general one `G{name}` at `/g/{path}`
/// (a default-scope property first in its in-sequence). `{in}` in `sequences` is replaced by
/// the in-sequence's opening tag.
fn both(name: &str, path: &str, sequences: &str) -> Vec<(String, String)> {
    let direct = sequences.replace("{in}", "<inSequence>");
    let general = sequences.replace("{in}", r#"<inSequence><property name="x" value="1"/>"#);
    vec![
        (
            format!("api/D{name}.xml"),
            resource_api(&format!("D{name}"), &format!("/d/{path}"), &direct),
        ),
        (
            format!("api/G{name}.xml"),
            resource_api(&format!("G{name}"), &format!("/g/{path}"), &general),
        ),
    ]
}

/// An answer as compared between the two paths: status, headers (without `Date`), body.
fn answer(r: &HttpResponse) -> (u16, Vec<(String, String)>, String) {
    let mut headers: Vec<(String, String)> = r
        .headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("date"))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    headers.sort();
    (r.status, headers, r.text())
}

fn post(port: u16, path: &str) -> HttpResponse {
    request(
        "POST",
        port,
        path,
        &[
            ("Content-Type", "application/json"),
            ("User-Agent", "direct-probe"),
            ("X-Drop", "gone"),
        ],
        br#"{"q":1}"#,
    )
}

/// The log line of `artifact` that contains `needle`, with its MessageID replaced by `ID`.
fn log_line(output: &str, artifact: &str, needle: &str) -> String {
    let prefix = format!("{{api:{artifact}}} ");
    let line = output
        .lines()
        .find(|l| l.contains(&prefix) && l.contains(needle) && !l.contains("direct path"))
        .unwrap_or_else(|| panic!("no log line of {artifact} with {needle:?} in:\n{output}"));
    let line = &line[line.find(&prefix).expect("prefix")..];
    match line.find("MessageID: urn:uuid:") {
        Some(start) => {
            let id_end = line[start..]
                .find(',')
                .map_or(line.len(), |end| start + end);
            format!("{}MessageID: ID{}", &line[..start], &line[id_end..])
        }
        None => line.to_string(),
    }
}

// Each idiom answers exactly as the general flow does, reaches the backend with the same request,
// writes the same log lines, and answers a dead backend with the same fault; the direct variants
// log the direct-path event, the general ones never do.
#[test]
fn each_idiom_takes_the_direct_path_and_answers_as_the_general_flow() {
    let backend = Backend::start(Behaviour::Fixed {
        status: 201,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-Backend".into(), "fixed".into()),
        ],
        body: REPLY.into(),
    });
    let url = backend.url();
    let dead = format!("http://127.0.0.1:{}/dead", closed_port());
    let to = |uri: &str| format!(r#"<endpoint><address uri="{uri}"/></endpoint>"#);
    let mut artifacts: Vec<(String, String)> = vec![(
        "endpoints/Backend.xml".into(),
        format!(
            r#"<endpoint xmlns="http://ws.apache.org/ns/synapse" name="Backend"><address uri="{url}"/></endpoint>"#
        ),
    )];
    // (name, sequences): the idioms of issue 22.
    let idioms: Vec<(&str, String)> = vec![
        (
            "Send",
            format!("{{in}}<send>{}</send></inSequence>", to(&url)),
        ),
        (
            "Empty",
            format!(
                "{{in}}<send>{}</send></inSequence><outSequence/><faultSequence/>",
                to(&url)
            ),
        ),
        (
            "OutSend",
            format!(
                "{{in}}<send>{}</send></inSequence><outSequence><send/></outSequence><faultSequence/>",
                to(&url)
            ),
        ),
        (
            "CallRespond",
            r#"{in}<call><endpoint key="Backend"/></call><respond/></inSequence><outSequence/><faultSequence/>"#
                .to_string(),
        ),
        (
            "Log",
            format!(
                r#"{{in}}<log level="simple"><property name="tag" value="static"/><property name="ua" expression="$trp:User-Agent"/></log><send>{}</send></inSequence><outSequence><log/><send/></outSequence>"#,
                to(&url)
            ),
        ),
        (
            "Props",
            format!(
                r#"{{in}}<property name="X-Added" scope="transport" value="static"/><property name="X-Drop" scope="transport" action="remove"/><header name="X-Hdr" scope="transport" value="h"/><send>{}</send></inSequence><outSequence><property name="X-Reply" scope="transport" value="r"/><property name="X-Backend" scope="transport" action="remove"/><send/></outSequence><faultSequence/>"#,
                to(&url)
            ),
        ),
        (
            "CallProps",
            format!(
                r#"{{in}}<property name="X-Added" expression="get-property('transport', 'User-Agent')" scope="transport"/><call>{}</call><property name="X-Reply" scope="transport" value="c"/><log level="simple"/><respond/></inSequence>"#,
                to(&url)
            ),
        ),
        (
            "Down",
            format!(
                "{{in}}<send>{}</send></inSequence><outSequence/><faultSequence/>",
                to(&dead)
            ),
        ),
        (
            "CallDown",
            format!(
                "{{in}}<call>{}</call><respond/></inSequence><faultSequence/>",
                to(&dead)
            ),
        ),
    ];
    for (name, sequences) in &idioms {
        artifacts.extend(both(name, &name.to_ascii_lowercase(), sequences));
    }
    // A proxy whose target takes the message, with the classic out-sequence.
    let proxy = |name: &str, in_sequence: &str| {
        (
            format!("proxy-services/{name}.xml"),
            format!(
                r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="{name}" transports="http">
    <target>
        {in_sequence}
        <endpoint key="Backend"/>
        <outSequence><send/></outSequence>
        <faultSequence/>
    </target>
</proxy>"#
            ),
        )
    };
    artifacts.push(proxy("DProxy", ""));
    artifacts.push(proxy(
        "GProxy",
        r#"<inSequence><property name="x" value="1"/></inSequence>"#,
    ));
    let refs: Vec<(&str, String)> = artifacts
        .iter()
        .map(|(p, x)| (p.as_str(), x.clone()))
        .collect();
    let home = home_with(&refs);
    // Mediation's direct run is what this test watches; the HTTP/1 engine (the default) would
    // take the pure forwards before mediation sees them (h1_engine_routes.rs covers it).
    home.write(
        "conf/deployment.toml",
        "[server]\nhostname = \"localhost\"\n[transport]\nhttp1_engine = \"hyper\"\n",
    );
    let server = start_with_env(
        home.path(),
        &[],
        &[("CONFLUX_LOG", "conflux::direct=debug")],
    );
    let port = server.port(HTTP);

    let mut answers = Vec::new();
    for (name, _) in &idioms {
        let lower = name.to_ascii_lowercase();
        let d = post(port, &format!("/d/{lower}/{lower}-d"));
        let g = post(port, &format!("/g/{lower}/{lower}-g"));
        assert_eq!(answer(&d), answer(&g), "{name}: direct vs general");
        answers.push((*name, d));
    }
    let d = post(port, "/services/DProxy");
    let g = post(port, "/services/GProxy");
    assert_eq!(answer(&d), answer(&g), "proxy: direct vs general");
    answers.push(("Proxy", d));

    // The exact answers.
    for (name, r) in &answers {
        match *name {
            "Down" | "CallDown" => {
                // The general fault machinery's answer after the empty fault sequence: MI's
                // connection-refused error (101503, passthru ConnectCallback) as the default
                // fault answer (runtime/fault.rs).
                assert_eq!(r.status, 502, "{name}: {r:?}");
                assert_eq!(
                    r.text(),
                    r#"{"fault":{"code":101503,"message":"Error connecting to the back end","description":"Bad Gateway"}}"#,
                    "{name}"
                );
            }
            _ => {
                assert_eq!(r.status, 201, "{name}: {r:?}");
                assert_eq!(r.text(), REPLY, "{name}");
                assert_eq!(r.header("content-type"), Some("application/json"), "{name}");
                let backend_header = match *name {
                    "Props" => None,
                    _ => Some("fixed"),
                };
                assert_eq!(r.header("x-backend"), backend_header, "{name}");
                let reply_header = match *name {
                    "Props" => Some("r"),
                    "CallProps" => Some("c"),
                    _ => None,
                };
                assert_eq!(r.header("x-reply"), reply_header, "{name}");
            }
        }
    }

    // What the backend received: the same request from both variants, with the header edits.
    let requests = backend.requests();
    let received = |path: &str| {
        requests
            .iter()
            .find(|r| r.path_and_query.ends_with(path))
            .unwrap_or_else(|| panic!("backend never saw {path}: {requests:?}"))
            .clone()
    };
    for (name, _) in &idioms {
        if name.contains("Down") {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        let d = received(&format!("/{lower}-d"));
        let g = received(&format!("/{lower}-g"));
        assert_eq!(
            (d.method.as_str(), d.body_len, d.body_sha256.as_str()),
            (g.method.as_str(), g.body_len, g.body_sha256.as_str()),
            "{name}"
        );
    }
    let props_d = requests
        .iter()
        .find(|r| r.header("x-added") == Some("static"))
        .expect("the Props request reached the backend with X-Added");
    assert_eq!(props_d.header("x-drop"), None, "X-Drop was removed");
    assert_eq!(
        props_d.header("x-hdr"),
        Some("h"),
        "<header scope=transport> was set"
    );
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.header("x-added") == Some("direct-probe"))
            .count(),
        2,
        "CallProps (both variants) copied User-Agent into X-Added"
    );
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.header("x-drop") == Some("gone"))
            .count(),
        requests.len() - 2,
        "only the Props variants removed X-Drop"
    );

    // Which path each request took.
    let mut needles: Vec<String> = idioms
        .iter()
        .map(|(name, _)| format!("{{api:D{name}}} direct path: "))
        .collect();
    needles.push("{proxy:DProxy} direct path: target".into());
    let needle_refs: Vec<&str> = needles.iter().map(String::as_str).collect();
    // The log lines of the general variants too (read from the server's output by a thread).
    let logged = [
        "{api:GLog} To: , MessageID",
        "{api:GCallProps} To: , MessageID",
        "{api:GDown} Error connecting",
        "{api:GCallDown} Error connecting",
    ];
    let output = server.output_with(&[needle_refs.as_slice(), &logged].concat());
    for needle in &needles {
        assert!(
            output.contains(needle.as_str()),
            "{needle} missing:\n{output}"
        );
    }
    assert!(output.contains("{api:DCallRespond} direct path: call+respond"));
    assert!(output.contains("{api:DOutSend} direct path: send"));
    for (name, _) in &idioms {
        let general = format!("{{api:G{name}}} direct path");
        assert!(!output.contains(&general), "{general} in:\n{output}");
    }
    assert!(!output.contains("{proxy:GProxy} direct path"));

    // The same log lines on both paths, in MI's simple format.
    let request_line = |artifact: &str, path: &str| {
        log_line(&output, artifact, "Direction: request")
            .replace(&format!("{{api:{artifact}}}"), "{api}")
            .replace(path, "PATH")
    };
    let d = request_line("DLog", "/d/log/log-d");
    assert_eq!(
        d,
        "{api} To: PATH, MessageID: ID, Direction: request, tag = static, ua = direct-probe"
    );
    assert_eq!(d, request_line("GLog", "/g/log/log-g"));
    let response_line = |artifact: &str| {
        log_line(&output, artifact, "Direction: response")
            .replace(&format!("{{api:{artifact}}}"), "{api}")
    };
    assert_eq!(
        response_line("DLog"),
        "{api} To: , MessageID: ID, Direction: response"
    );
    assert_eq!(response_line("DLog"), response_line("GLog"));
    assert_eq!(response_line("DCallProps"), response_line("GCallProps"));
    // The fault path logs the same warning for both.
    for name in ["Down", "CallDown"] {
        let warning = |artifact: String| {
            let prefix = format!("{{api:{artifact}}} ");
            output
                .lines()
                .find(|l| l.contains(&prefix) && l.contains("no fault sequence answered"))
                .map(|l| l[l.find(&prefix).unwrap() + prefix.len()..].to_string())
                .unwrap_or_else(|| panic!("no fault warning of {artifact}:\n{output}"))
        };
        assert_eq!(
            warning(format!("D{name}")),
            warning(format!("G{name}")),
            "{name}"
        );
    }
}
