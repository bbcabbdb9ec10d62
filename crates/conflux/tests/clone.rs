//! `<clone>` end to end through the real binary (SYN `mediators/eip/splitter/CloneMediator.java`,
//! `mediators/eip/Target.java`): independent copies per target, sequential and concurrent targets,
//! `continueParent`, replies of cloned sends running the out-sequence (the client gets the first
//! answer), a failing copy running the enclosing `onError`, and the function stack copied for
//! `<call-template>` inside targets.

mod support;

use support::backend::*;
use support::*;

fn sequence(name: &str, attrs: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<sequence xmlns="http://ws.apache.org/ns/synapse" name="{name}" {attrs}>
{body}
</sequence>"#
    )
}

fn post_json(port: u16, path: &str, body: &str) -> HttpResponse {
    request(
        "POST",
        port,
        path,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

#[test]
fn sequential_copies_are_independent_and_the_parent_continues() {
    let home = home_with(&[(
        "api/C.xml",
        api(
            "C",
            "/c",
            r#"<resource methods="POST">
        <inSequence>
            <property name="p" value="parent"/>
            <clone id="cl" sequential="true" continueParent="true">
                <target>
                    <sequence>
                        <property name="p" value="one"/>
                        <payloadFactory media-type="json">
                            <format>{"changed": true}</format>
                            <args/>
                        </payloadFactory>
                        <log level="custom">
                            <property name="COPY" expression="concat('first:', $ctx:p, ':', get-property('messageSequence.cl'))"/>
                            <property name="BODY" expression="json-eval($.changed)"/>
                        </log>
                    </sequence>
                </target>
                <target>
                    <sequence>
                        <log level="custom">
                            <property name="COPY" expression="concat('second:', $ctx:p, ':', get-property('messageSequence.cl'))"/>
                            <property name="BODY" expression="json-eval($.name)"/>
                        </log>
                    </sequence>
                </target>
            </clone>
            <payloadFactory media-type="json">
                <format>{"p": "$1", "name": "$2"}</format>
                <args>
                    <arg expression="$ctx:p"/>
                    <arg evaluator="json" expression="$.name"/>
                </args>
            </payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#,
        ),
    )]);
    let server = start(&home);
    let r = post_json(server.port(HTTP), "/c", r#"{"name": "Ada"}"#);
    assert_eq!(r.status, 200, "{r:?}\n{}", server.output());
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body, serde_json::json!({"p": "parent", "name": "Ada"}));
    let log = server.output_with(&[
        "COPY = first:one:0/2, BODY = true",
        "COPY = second:parent:1/2, BODY = Ada",
    ]);
    let first = log.find("COPY = first:one:0/2, BODY = true").expect(&log);
    let second = log
        .find("COPY = second:parent:1/2, BODY = Ada")
        .expect(&log);
    assert!(first < second, "sequential targets run in order\n{log}");
}

#[test]
fn cloned_sends_reply_through_the_out_sequence_and_the_first_answer_wins() {
    let backend = Backend::start(Behaviour::Echo);
    let home = home_with(&[(
        "proxy-services/P.xml",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<proxy xmlns="http://ws.apache.org/ns/synapse" name="P" transports="http">
    <target>
        <inSequence>
            <clone>
                <target><endpoint><address uri="{url}/one"/></endpoint></target>
                <target><endpoint><address uri="{url}/two"/></endpoint></target>
            </clone>
        </inSequence>
        <outSequence>
            <log level="custom"><property name="REPLY" expression="json-eval($.n)"/></log>
            <send/>
        </outSequence>
    </target>
</proxy>"#,
            url = backend.url()
        ),
    )]);
    let server = start(&home);
    let r = post_json(server.port(HTTP), "/services/P", r#"{"n": 7}"#);
    assert_eq!(r.status, 200, "{r:?}\n{}", server.output());
    assert_eq!(r.text(), r#"{"n": 7}"#);
    let mut paths: Vec<String> = backend
        .requests()
        .into_iter()
        .map(|q| q.path_and_query)
        .collect();
    paths.sort();
    assert_eq!(paths, ["/one", "/two"]);
    // Both replies ran the out-sequence; one of them answered the client.
    let log = server.output_with(&["REPLY = 7"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.output().matches("REPLY = 7").count() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(server.output().matches("REPLY = 7").count(), 2, "{log}");
}

#[test]
fn a_failing_copy_runs_the_enclosing_on_error_and_the_function_stack_is_copied() {
    let home = home_with(&[
        (
            "sequences/Cloner.xml",
            sequence(
                "Cloner",
                r#"onError="Handler""#,
                r#"<clone sequential="true">
        <target>
            <sequence>
                <call-template target="Say"><with-param name="MSG" value="Call-1"/></call-template>
            </sequence>
        </target>
        <target>
            <sequence>
                <call-template target="Say"><with-param name="MSG" value="Call-2"/></call-template>
                <sequence key="NotDeployed"/>
            </sequence>
        </target>
    </clone>"#,
            ),
        ),
        (
            "sequences/Handler.xml",
            sequence(
                "Handler",
                "",
                r#"<payloadFactory media-type="text">
        <format>handled $1</format>
        <args><arg expression="$func:MSG"/></args>
    </payloadFactory>
    <respond/>"#,
            ),
        ),
        (
            "templates/Say.xml",
            r#"<template xmlns="http://ws.apache.org/ns/synapse" name="Say">
    <parameter name="MSG"/>
    <sequence>
        <log level="custom"><property name="MSG" expression="$func:MSG"/></log>
    </sequence>
</template>"#
                .to_string(),
        ),
        (
            "api/F.xml",
            api(
                "F",
                "/f",
                r#"<resource methods="POST">
        <inSequence>
            <sequence key="Cloner"/>
        </inSequence>
        <faultSequence>
            <payloadFactory media-type="text"><format>wrong handler</format><args/></payloadFactory>
            <respond/>
        </faultSequence>
    </resource>"#,
            ),
        ),
    ]);
    let server = start(&home);
    let r = post_json(server.port(HTTP), "/f", r#"{"a": 1}"#);
    assert_eq!(r.status, 200, "{r:?}\n{}", server.output());
    // The second copy failed after its template call returned: its frame is gone, the handler
    // sees no MSG, and the original's stack was never touched.
    assert_eq!(r.text(), "handled ");
    let log = server.output_with(&["MSG = Call-1", "MSG = Call-2"]);
    assert!(
        log.contains("MSG = Call-1") && log.contains("MSG = Call-2"),
        "{log}"
    );
}

#[test]
fn replies_of_cloned_sends_are_aggregated_in_the_out_sequence() {
    let backend = Backend::start(Behaviour::Echo);
    let home = home_with(&[(
        "proxy-services/G.xml",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<proxy xmlns="http://ws.apache.org/ns/synapse" name="G" transports="http">
    <target>
        <inSequence>
            <clone>
                <target><endpoint><address uri="{url}/one"/></endpoint></target>
                <target><endpoint><address uri="{url}/two"/></endpoint></target>
                <target><endpoint><address uri="{url}/three"/></endpoint></target>
            </clone>
        </inSequence>
        <outSequence>
            <aggregate>
                <completeCondition><messageCount min="-1" max="-1"/></completeCondition>
                <onComplete expression="//value">
                    <send/>
                </onComplete>
            </aggregate>
        </outSequence>
    </target>
</proxy>"#,
            url = backend.url()
        ),
    )]);
    let server = start(&home);
    let r = request(
        "POST",
        server.port(HTTP),
        "/services/G",
        &[("Content-Type", "application/xml")],
        b"<a><value>7</value></a>",
    );
    assert_eq!(r.status, 200, "{r:?}\n{}", server.output());
    assert_eq!(backend.requests().len(), 3);
    assert_eq!(
        r.text().matches("<value>7</value>").count(),
        3,
        "{}",
        r.text()
    );
}
