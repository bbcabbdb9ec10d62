//! `<iterate>` and `<aggregate>` end to end through the real binary (SYN
//! `mediators/eip/splitter/IterateMediator.java`, `mediators/eip/aggregator/AggregateMediator.java`,
//! `mediators/eip/EIPUtils.java`): parts sent concurrently to a backend whose replies are
//! aggregated in the out-sequence into an enclosing element, sequential parts with
//! `preservePayload`/`attachPath` and their `messageSequence.ID`, and `messageCount max`
//! completing a JSON aggregation early.

mod support;

use support::backend::*;
use support::*;

fn post(port: u16, path: &str, content_type: &str, body: &str) -> HttpResponse {
    request(
        "POST",
        port,
        path,
        &[("Content-Type", content_type)],
        body.as_bytes(),
    )
}

#[test]
fn parts_sent_concurrently_are_aggregated_from_the_out_sequence() {
    let backend = Backend::start(Behaviour::Echo);
    let home = home_with(&[(
        "proxy-services/P.xml",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<proxy xmlns="http://ws.apache.org/ns/synapse" name="P" transports="http">
    <target>
        <inSequence>
            <property name="wrap" type="OM"><all xmlns=""/></property>
            <iterate expression="//order">
                <target>
                    <sequence>
                        <send><endpoint><address uri="{url}/orders"/></endpoint></send>
                    </sequence>
                </target>
            </iterate>
        </inSequence>
        <outSequence>
            <aggregate>
                <onComplete expression="//order" enclosingElementProperty="wrap">
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
    let r = post(
        server.port(HTTP),
        "/services/P",
        "application/xml",
        "<orders><order><id>1</id></order><order><id>2</id></order><order><id>3</id></order></orders>",
    );
    assert_eq!(r.status, 200, "{r:?}\n{}", server.output());
    let text = r.text();
    assert!(
        text.starts_with("<all>") && text.ends_with("</all>"),
        "{text}"
    );
    for id in ["1", "2", "3"] {
        assert!(
            text.contains(&format!("<order><id>{id}</id></order>")),
            "{text}"
        );
    }
    // Each part carried one order only (no preservePayload): three echoed replies, three orders.
    assert_eq!(text.matches("<order>").count(), 3, "{text}");
    assert_eq!(backend.requests().len(), 3);
}

#[test]
fn sequential_parts_keep_the_payload_and_are_numbered() {
    let home = home_with(&[(
        "api/I.xml",
        api(
            "I",
            "/i",
            r#"<resource methods="POST">
        <inSequence>
            <property name="wrap" type="OM"><result xmlns=""/></property>
            <iterate id="it" sequential="true" preservePayload="true" attachPath="//orders" expression="//order">
                <target>
                    <sequence>
                        <log level="custom">
                            <property name="PART" expression="concat(get-property('messageSequence.it'), ' orders=', count(//order), ' id=', //order/id)"/>
                        </log>
                        <aggregate id="it">
                            <completeCondition timeout="10"><messageCount min="-1" max="-1"/></completeCondition>
                            <onComplete expression="//order/id" enclosingElementProperty="wrap">
                                <respond/>
                            </onComplete>
                        </aggregate>
                    </sequence>
                </target>
            </iterate>
        </inSequence>
    </resource>"#,
        ),
    )]);
    let server = start(&home);
    let r = post(
        server.port(HTTP),
        "/i",
        "application/xml",
        "<orders><note>keep</note><order><id>a</id></order><order><id>b</id></order></orders>",
    );
    assert_eq!(r.status, 200, "{r:?}\n{}", server.output());
    assert_eq!(r.text(), "<result><id>a</id><id>b</id></result>");
    let log = server.output_with(&["PART = 0/2 orders=1 id=a", "PART = 1/2 orders=1 id=b"]);
    let first = log.find("PART = 0/2 orders=1 id=a").expect(&log);
    let second = log.find("PART = 1/2 orders=1 id=b").expect(&log);
    assert!(first < second, "{log}");
}

#[test]
fn json_parts_complete_at_the_message_count_maximum() {
    let home = home_with(&[(
        "api/J.xml",
        api(
            "J",
            "/j",
            r#"<resource methods="POST">
        <inSequence>
            <iterate sequential="true" expression="json-eval($.items)">
                <target>
                    <sequence>
                        <aggregate>
                            <completeCondition><messageCount max="2"/></completeCondition>
                            <onComplete expression="json-eval($.v)">
                                <respond/>
                            </onComplete>
                        </aggregate>
                    </sequence>
                </target>
            </iterate>
        </inSequence>
    </resource>"#,
        ),
    )]);
    let server = start(&home);
    let r = post(
        server.port(HTTP),
        "/j",
        "application/json",
        r#"{"items": [{"v": 1}, {"v": 2}, {"v": 3}]}"#,
    );
    assert_eq!(r.status, 200, "{r:?}\n{}", server.output());
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body, serde_json::json!([1, 2]));
}

#[test]
fn an_iterate_without_a_target_is_a_located_deploy_error() {
    let home = home_with(&[(
        "api/Bad.xml",
        api(
            "Bad",
            "/bad",
            r#"<resource methods="GET"><inSequence><iterate expression="//a"/></inSequence></resource>"#,
        ),
    )]);
    let server = start(&home);
    let r = request("GET", server.port(HTTP), "/bad", &[], b"");
    assert_eq!(r.status, 404, "{r:?}");
    assert!(server.output().contains("target"), "{}", server.output());
}
