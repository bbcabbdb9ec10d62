//! `<iterate preservePayload="true">` over JSON payloads end to end through the real binary, as
//! SYN `mediators/eip/splitter/IterateMediator.java` (JSON branch) and
//! `util/xpath/SynapseJsonPath.java` (`replace`) build the parts, with the artifacts and input of
//! MI's tests-mediator-2 `IterateJsonPathTest` (`TestIterateMediatorJsonwithAttachPath`,
//! `...WithDifferentAttachPath`, `...withRootAttachPath`, `...withPreservePayload`): the same
//! attach path replaces the array by each item, a different one empties the array and receives
//! the item, `$` (also the default) makes the item the whole part. Plus IterateMediatorFactory's
//! attachPath deploy errors.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::backend::*;
use support::*;

/// MI's `json/inputESBIterateJson.json` shape: a list of students beside other members.
const STUDENTS: &str = r#"{"students": {"studentlist": [{"Name": "Alice", "car": "Camry"}, {"Name": "Bob", "car": "Civic"}]}, "placeHolder": {}, "school": "X"}"#;

/// A resource whose sequential iterate aggregates the whole parts (`json-eval($)`) and responds.
fn resource(path: &str, iterate_attributes: &str) -> String {
    format!(
        r#"<resource methods="POST" uri-template="{path}">
        <inSequence>
            <iterate id="it" sequential="true" preservePayload="true" expression="json-eval($.students.studentlist)" {iterate_attributes}>
                <target>
                    <sequence>
                        <aggregate id="it">
                            <completeCondition><messageCount min="-1" max="-1"/></completeCondition>
                            <onComplete expression="json-eval($)"><respond/></onComplete>
                        </aggregate>
                    </sequence>
                </target>
            </iterate>
        </inSequence>
        <faultSequence>
            <payloadFactory media-type="json">
                <format>{{"fault": "$1"}}</format>
                <args><arg expression="get-property('ERROR_MESSAGE')"/></args>
            </payloadFactory>
            <respond/>
        </faultSequence>
    </resource>"#
    )
}

fn body(r: &HttpResponse) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {r:?}"))
}

#[test]
fn json_parts_keep_the_payload_at_the_attach_path() {
    let resources = [
        resource("/same", r#"attachPath="json-eval($.students.studentlist)""#),
        resource("/other", r#"attachPath="json-eval($.placeHolder)""#),
        resource("/root", r#"attachPath="json-eval($)""#),
        resource("/default", ""),
        resource("/missing", r#"attachPath="json-eval($.nowhere)""#),
    ];
    let home = home_with(&[("api/I.xml", api("I", "/i", &resources.join("\n")))]);
    let server = start(&home);
    let port = server.port(HTTP);

    let r = post_json(port, "/i/same", STUDENTS);
    assert_eq!(r.status, 200, "{r:?}\n{}", server.output());
    assert_eq!(
        body(&r),
        json!([
            {"students": {"studentlist": {"Name": "Alice", "car": "Camry"}}, "placeHolder": {}, "school": "X"},
            {"students": {"studentlist": {"Name": "Bob", "car": "Civic"}}, "placeHolder": {}, "school": "X"},
        ])
    );

    let r = post_json(port, "/i/other", STUDENTS);
    assert_eq!(r.status, 200, "{r:?}\n{}", server.output());
    assert_eq!(
        body(&r),
        json!([
            {"students": {"studentlist": []}, "placeHolder": {"Name": "Alice", "car": "Camry"}, "school": "X"},
            {"students": {"studentlist": []}, "placeHolder": {"Name": "Bob", "car": "Civic"}, "school": "X"},
        ])
    );

    let items = json!([{"Name": "Alice", "car": "Camry"}, {"Name": "Bob", "car": "Civic"}]);
    for path in ["/i/root", "/i/default"] {
        let r = post_json(port, path, STUDENTS);
        assert_eq!(r.status, 200, "{path}: {r:?}\n{}", server.output());
        assert_eq!(body(&r), items, "{path}");
    }

    let r = post_json(port, "/i/missing", STUDENTS);
    assert_eq!(
        body(&r),
        json!({"fault": "Error in attaching the splitted elements :: Unable to get the attach path specified by the expression json-eval($.nowhere)"}),
        "{r:?}\n{}",
        server.output()
    );
}

// TestIterateMediatorJsonwithPreservePayload: concurrent parts sent to a backend, the replies
// aggregated in the out-sequence.
#[test]
fn preserved_json_parts_reach_the_backend_and_their_replies_are_aggregated() {
    let backend = Backend::start(Behaviour::Echo);
    let home = home_with(&[(
        "api/P.xml",
        api(
            "P",
            "/p",
            &format!(
                r#"<resource methods="POST">
        <inSequence>
            <iterate preservePayload="true" attachPath="json-eval($.placeHolder)" expression="json-eval($.students.studentlist)">
                <target>
                    <sequence>
                        <send><endpoint><http method="POST" uri-template="{url}/echo"/></endpoint></send>
                    </sequence>
                </target>
            </iterate>
        </inSequence>
        <outSequence>
            <aggregate>
                <completeCondition><messageCount min="2" max="-1"/></completeCondition>
                <onComplete expression="json-eval($)"><respond/></onComplete>
            </aggregate>
        </outSequence>
    </resource>"#,
                url = backend.url()
            ),
        ),
    )]);
    let server = start(&home);
    let r = post_json(server.port(HTTP), "/p", STUDENTS);
    assert_eq!(r.status, 200, "{r:?}\n{}", server.output());
    let Value::Array(mut parts) = body(&r) else {
        panic!("{r:?}")
    };
    // The parts run concurrently: the aggregate has them in the order the replies came.
    parts.sort_by_key(|p| p["placeHolder"]["Name"].as_str().map(str::to_string));
    assert_eq!(
        parts,
        [
            json!({"students": {"studentlist": []}, "placeHolder": {"Name": "Alice", "car": "Camry"}, "school": "X"}),
            json!({"students": {"studentlist": []}, "placeHolder": {"Name": "Bob", "car": "Civic"}, "school": "X"}),
        ]
    );
    let requests = backend.requests();
    assert_eq!(requests.len(), 2);
    let mut sent: Vec<String> = parts
        .iter()
        .map(|p| sha256_hex(p.to_string().as_bytes()))
        .collect();
    let mut received: Vec<String> = requests.iter().map(|r| r.body_sha256.clone()).collect();
    sent.sort();
    received.sort();
    assert_eq!(sent, received, "the backend got exactly the two parts");
}

// IterateMediatorFactory: "if the iterator should not preserve payload, then attachPath can not
// be present"; "both expression and attachPath should be either jsonpath or xpath".
#[test]
fn attach_path_errors_fail_the_deployment_with_the_location() {
    for (iterate, expected) in [
        (
            r#"<iterate expression="json-eval($.a)" attachPath="json-eval($.b)">"#,
            "no attachPath unless preservePayload=\"true\"",
        ),
        (
            r#"<iterate expression="json-eval($.a)" preservePayload="true" attachPath="//b">"#,
            "a json-eval(...) path, as the expression is one",
        ),
    ] {
        let home = home_with(&[(
            "api/Bad.xml",
            api(
                "Bad",
                "/bad",
                &format!(
                    r#"<resource methods="POST"><inSequence>
{iterate}<target><sequence><drop/></sequence></target></iterate>
</inSequence></resource>"#
                ),
            ),
        )]);
        let out = check_home(home.path(), Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(expected) && stderr.contains("api/Bad.xml:4:"),
            "{expected}: {stderr}"
        );
    }
}
