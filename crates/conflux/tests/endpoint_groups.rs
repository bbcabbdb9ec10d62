//! Endpoint groups end to end through the real binary: `<failover>` and `<loadbalance>` (Synapse
//! `endpoints/FailoverEndpoint.java`, `endpoints/LoadbalanceEndpoint.java`,
//! `endpoints/algorithms/RoundRobin.java`) over real backends and a port nothing listens on. The
//! children are sent to by the pooled backend client with their own suspension states.

mod support;

use support::backend::*;
use support::*;

fn fixed(body: &str) -> Backend {
    Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: body.into(),
    })
}

fn post(port: u16, path: &str, body: &str) -> HttpResponse {
    request(
        "POST",
        port,
        path,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

fn address(url: &str) -> String {
    format!(r#"<endpoint><address uri="{url}/svc"/></endpoint>"#)
}

#[test]
fn failover_skips_a_dead_child_and_resends_the_whole_message() {
    let dead = closed_port();
    let b = fixed("from-b");
    let c = fixed("from-c");
    // The group is named and defined (by file name) before the endpoint it refers to by key.
    let group = format!(
        r#"<endpoint xmlns="http://ws.apache.org/ns/synapse" name="AFailover"><failover>
  <endpoint><address uri="http://127.0.0.1:{dead}/svc"/></endpoint>
  <endpoint key="ZLeafB"/>
  {}
</failover></endpoint>"#,
        address(&c.url())
    );
    let leaf = format!(
        r#"<endpoint xmlns="http://ws.apache.org/ns/synapse" name="ZLeafB"><address uri="{}/svc"/></endpoint>"#,
        b.url()
    );
    let home = home_with(&[
        ("endpoints/AFailover.xml", group),
        ("endpoints/ZLeafB.xml", leaf),
        (
            "api/Fo.xml",
            api(
                "Fo",
                "/fo",
                r#"<resource methods="POST"><inSequence><send><endpoint key="AFailover"/></send></inSequence></resource>"#,
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let body = r#"{"order": 42, "items": ["a", "b"]}"#;
    for _ in 0..3 {
        let r = post(port, "/fo", body);
        assert_eq!(r.status, 200, "{}\n{}", r.text(), server.output());
        assert_eq!(r.text(), "from-b");
    }
    // The first backend that answers got the request as the client sent it, every time.
    let got = b.requests();
    assert_eq!(got.len(), 3);
    for g in &got {
        assert_eq!(g.method, "POST");
        assert_eq!(g.path_and_query, "/svc");
        assert_eq!(g.body_sha256, sha256_hex(body.as_bytes()));
        assert_eq!(g.header("content-type"), Some("application/json"));
    }
    assert!(c.requests().is_empty());
}

#[test]
fn loadbalance_rotates_round_robin_and_fails_over() {
    let a = fixed("a");
    let b = fixed("b");
    let c = fixed("c");
    let dead = closed_port();
    let rotating = format!(
        r#"<endpoint><loadbalance algorithm="org.apache.synapse.endpoints.algorithms.RoundRobin">{}{}{}</loadbalance></endpoint>"#,
        address(&a.url()),
        address(&b.url()),
        address(&c.url())
    );
    let with_dead = format!(
        r#"<endpoint><loadbalance><endpoint><address uri="http://127.0.0.1:{dead}/svc"/></endpoint>{}</loadbalance></endpoint>"#,
        address(&b.url())
    );
    let weighted = format!(
        r#"<endpoint><loadbalance algorithm="org.apache.synapse.endpoints.algorithms.WeightedRoundRobin">
  <endpoint><address uri="{}/svc"/><property name="loadbalance.weight" value="2"/></endpoint>{}
</loadbalance></endpoint>"#,
        a.url(),
        address(&c.url())
    );
    let home = home_with(&[(
        "api/Lb.xml",
        api(
            "Lb",
            "/lb",
            &format!(
                r#"<resource methods="POST" uri-template="/rr"><inSequence><call>{rotating}</call><respond/></inSequence></resource>
<resource methods="POST" uri-template="/weighted"><inSequence><send>{weighted}</send></inSequence></resource>
<resource methods="POST" uri-template="/dead"><inSequence><send>{with_dead}</send></inSequence></resource>"#
            ),
        ),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);
    let answers: Vec<String> = (0..6)
        .map(|_| {
            let r = post(port, "/lb/rr", "{}");
            assert_eq!(r.status, 200, "{}\n{}", r.text(), server.output());
            r.text()
        })
        .collect();
    assert_eq!(answers, ["a", "b", "c", "a", "b", "c"]);
    // WeightedRoundRobin: child a has weight 2, c the default 1.
    let answers: Vec<String> = (0..6)
        .map(|_| post(port, "/lb/weighted", "{}").text())
        .collect();
    assert_eq!(answers, ["a", "a", "c", "a", "a", "c"]);

    let body = r#"{"n": 1}"#;
    for _ in 0..3 {
        let r = post(port, "/lb/dead", body);
        assert_eq!(r.status, 200, "{}\n{}", r.text(), server.output());
        assert_eq!(r.text(), "b");
    }
    let to_b: Vec<_> = b
        .requests()
        .into_iter()
        .filter(|r| r.body_sha256 == sha256_hex(body.as_bytes()))
        .collect();
    assert_eq!(to_b.len(), 3);
}

#[test]
fn a_group_without_a_working_child_faults_like_its_last_child() {
    let (d1, d2) = (closed_port(), closed_port());
    let home = home_with(&[(
        "api/Dead.xml",
        api(
            "Dead",
            "/dead",
            &format!(
                r#"<resource methods="GET"><inSequence><send><endpoint><failover>
  <endpoint><address uri="http://127.0.0.1:{d1}/svc"/></endpoint>
  <endpoint><address uri="http://127.0.0.1:{d2}/svc"/></endpoint>
</failover></endpoint></send></inSequence>
<faultSequence><payloadFactory media-type="json"><format>{{"code": "$1"}}</format><args><arg expression="get-property('ERROR_CODE')"/></args></payloadFactory><respond/></faultSequence></resource>"#
            ),
        ),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);
    // Both children refuse: the fault is the last child's connection failure.
    let r = get(port, "/dead");
    assert!(
        r.text().contains("101503"),
        "{}\n{}",
        r.text(),
        server.output()
    );
    // Both are suspended now: no child is ready (303000).
    let r = get(port, "/dead");
    assert!(
        r.text().contains("303000"),
        "{}\n{}",
        r.text(),
        server.output()
    );
}

// A child that does not answer in its <timeout> is a failure like any other (101504): the message
// goes to the next child with its payload (MI test ESBJAVA4231EmptyPayloadInFailoverLoadBalance-
// Endpoint). A timeout the children discard ends the message with MI's 202 and no fault handler.
#[test]
fn a_timeout_fails_over_unless_the_child_discards_it() {
    let slow = Backend::start(Behaviour::Stall);
    let b = fixed("from-b");
    let timeout = |action: &str| {
        format!(
            r#"<endpoint><address uri="{}/svc"><timeout><duration>300</duration><responseAction>{action}</responseAction></timeout></address></endpoint>"#,
            slow.url()
        )
    };
    let home = home_with(&[(
        "api/T.xml",
        api(
            "T",
            "/t",
            &format!(
                r#"<resource methods="POST" uri-template="/fault"><inSequence><send><endpoint><loadbalance>{}{}</loadbalance></endpoint></send></inSequence></resource>
<resource methods="POST" uri-template="/discard"><inSequence><send><endpoint><failover>{}</failover></endpoint></send></inSequence>
<faultSequence><payloadFactory media-type="json"><format>{{"fault": true}}</format><args/></payloadFactory><respond/></faultSequence></resource>"#,
                timeout("fault"),
                address(&b.url()),
                timeout("discard")
            ),
        ),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);
    let body = r#"{"value": "Sample string"}"#;
    let r = post(port, "/t/fault", body);
    assert_eq!(r.status, 200, "{}\n{}", r.text(), server.output());
    assert_eq!(r.text(), "from-b");
    assert_eq!(b.requests()[0].body_sha256, sha256_hex(body.as_bytes()));
    let r = post(port, "/t/discard", body);
    assert_eq!(r.status, 202, "{}\n{}", r.text(), server.output());
}
