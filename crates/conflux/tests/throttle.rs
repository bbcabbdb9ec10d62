//! `<throttle>` end to end through the real binary (SYN `mediators/throttle/ThrottleMediator.java`
//! and the throttle core's `CallerContext`, `AccessRateController`, `ConcurrentAccessController`,
//! IP/domain caller configurations): a rate policy whose `other` entry's quota is shared by
//! every caller that falls under it, per-IP `Allow`/`Deny` entries matched on `X-Forwarded-For`,
//! a policy from a local entry with `onAccept`/`onReject` sequence keys, and a concurrency limit
//! whose slot goes back when the answer goes back to the client, also after a backend timeout.

mod support;

use std::time::{Duration, Instant};

use support::backend::*;
use support::*;

const WSP: &str = r#"xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy" xmlns:throttle="http://www.wso2.org/products/wso2commons/throttle""#;

fn post(port: u16, path: &str, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    request("POST", port, path, &all, body.as_bytes())
}

/// `onAccept` / `onReject` answering `accepted` / `rejected` (429) as JSON.
const BRANCHES: &str = r#"<onAccept><payloadFactory media-type="json"><format>{"throttle":"accepted"}</format></payloadFactory><respond/></onAccept>
<onReject><property name="HTTP_SC" value="429" scope="axis2"/><payloadFactory media-type="json"><format>{"throttle":"rejected"}</format></payloadFactory><respond/></onReject>"#;

fn control(id: &str, max: u32, unit_ms: u64) -> String {
    format!(
        r#"<wsp:Policy><throttle:ID throttle:type="IP">{id}</throttle:ID><wsp:Policy><throttle:Control><wsp:Policy>
<throttle:MaximumCount>{max}</throttle:MaximumCount><throttle:UnitTime>{unit_ms}</throttle:UnitTime>
</wsp:Policy></throttle:Control></wsp:Policy></wsp:Policy>"#
    )
}

fn access(id: &str, verdict: &str) -> String {
    format!(
        r#"<wsp:Policy><throttle:ID throttle:type="IP">{id}</throttle:ID><wsp:Policy><throttle:{verdict}/></wsp:Policy></wsp:Policy>"#
    )
}

// MI docs "Throttle Mediator": MaximumCount per UnitTime for `other`; CallerContext keys the
// window by the entry (`other`), so every caller that falls under it shares the quota; per-IP
// Allow / Deny entries win over `other` (IPBaseThrottleConfiguration), read from X-Forwarded-For
// (ThrottleMediator.getIp).
#[test]
fn rate_quota_per_entry_and_ip_allow_deny() {
    let policy = format!(
        r#"<wsp:Policy {WSP}><throttle:MediatorThrottleAssertion>{}{}{}</throttle:MediatorThrottleAssertion></wsp:Policy>"#,
        control("other", 2, 600_000),
        access("10.0.0.9", "Allow"),
        access("10.0.0.7", "Deny"),
    );
    let home = home_with(&[(
        "api/T.xml",
        api(
            "T",
            "/t",
            &format!(
                r#"<resource methods="POST" uri-template="/*"><inSequence>
<throttle id="rate"><policy>{policy}</policy>{BRANCHES}</throttle>
</inSequence></resource>"#
            ),
        ),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);
    let accepted = r#"{"throttle":"accepted"}"#;
    let rejected = r#"{"throttle":"rejected"}"#;
    for n in 1..=2 {
        let r = post(port, "/t/x", &[], "{}");
        assert_eq!(
            (r.status, r.text().as_str()),
            (200, accepted),
            "request {n}: {r:?}\n{}",
            server.output()
        );
    }
    // The third in the window: refused.
    let r = post(port, "/t/x", &[], "{}");
    assert_eq!((r.status, r.text().as_str()), (429, rejected), "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    // Another caller under `other` shares its quota.
    let r = post(
        port,
        "/t/x",
        &[("X-Forwarded-For", "10.1.1.1, 127.0.0.1")],
        "{}",
    );
    assert_eq!((r.status, r.text().as_str()), (429, rejected), "{r:?}");
    // An allowed address passes whatever `other` has used; a denied one never does.
    for _ in 0..3 {
        let r = post(port, "/t/x", &[("X-Forwarded-For", "10.0.0.9")], "{}");
        assert_eq!((r.status, r.text().as_str()), (200, accepted), "{r:?}");
    }
    let r = post(port, "/t/x", &[("X-Forwarded-For", "10.0.0.7")], "{}");
    assert_eq!((r.status, r.text().as_str()), (429, rejected), "{r:?}");
    assert!(
        server
            .output_with(&[
                "You cannot access this service since you have been prohibited permanently."
            ])
            .contains(
                "You cannot access this service since you have exceeded the allocated quota."
            ),
        "{}",
        server.output()
    );
}

// ThrottleMediatorFactory: `<policy key>` from a local entry, `onAccept=` / `onReject=`
// sequence keys; without onReject a refused message stops (Synapse's false: MI's 202 for a
// message nobody answered); in the out-sequence the mediator does nothing.
#[test]
fn a_policy_from_a_local_entry_and_sequence_keys() {
    let backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: r#"{"backend":true}"#.into(),
    });
    let policy = format!(
        r#"<wsp:Policy {WSP}><throttle:MediatorThrottleAssertion>{}</throttle:MediatorThrottleAssertion></wsp:Policy>"#,
        control("other", 1, 600_000)
    );
    let home = home_with(&[
        (
            "local-entries/ThrottlePolicy.xml",
            format!(
                r#"<localEntry xmlns="http://ws.apache.org/ns/synapse" key="ThrottlePolicy">{policy}</localEntry>"#
            ),
        ),
        (
            "sequences/Accepted.xml",
            format!(
                r#"<sequence xmlns="http://ws.apache.org/ns/synapse" name="Accepted"><header name="X-Throttle" scope="transport" value="accepted"/><send><endpoint><address uri="{}/b"/></endpoint></send></sequence>"#,
                backend.url()
            ),
        ),
        (
            "sequences/Rejected.xml",
            r#"<sequence xmlns="http://ws.apache.org/ns/synapse" name="Rejected"><property name="HTTP_SC" value="503" scope="axis2"/><payloadFactory media-type="json"><format>{"rejected":true}</format></payloadFactory><respond/></sequence>"#.into(),
        ),
        (
            "api/K.xml",
            api(
                "K",
                "/k",
                r#"<resource methods="POST" uri-template="/keys"><inSequence>
<throttle id="k" onAccept="Accepted" onReject="Rejected"><policy key="ThrottlePolicy"/></throttle>
</inSequence><outSequence><throttle id="k"/><respond/></outSequence></resource>
<resource methods="POST" uri-template="/bare"><inSequence>
<throttle id="b"><policy key="ThrottlePolicy"/></throttle>
<payloadFactory media-type="json"><format>{"passed":true}</format></payloadFactory><respond/>
</inSequence></resource>"#,
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let r = post(port, "/k/keys", &[], "{}");
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, r#"{"backend":true}"#),
        "{r:?}\n{}",
        server.output()
    );
    let r = post(port, "/k/keys", &[], "{}");
    assert_eq!(
        (r.status, r.text().as_str()),
        (503, r#"{"rejected":true}"#),
        "{r:?}"
    );
    assert_eq!(backend.requests().len(), 1);
    assert_eq!(backend.requests()[0].header("x-throttle"), Some("accepted"));
    // Each throttle mediator keeps its own windows: /bare passes once, then stops silently.
    let r = post(port, "/k/bare", &[], "{}");
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, r#"{"passed":true}"#),
        "{r:?}"
    );
    let r = post(port, "/k/bare", &[], "{}");
    assert_eq!((r.status, r.text().as_str()), (202, ""), "{r:?}");
}

// A policy key that names nothing deploys, as in MI, which fails each message with "Cannot find
// throttling policy using key" (SYN `ThrottleMediator`); the warning names the file and the key
// (each message faulting: lenient_deploy.rs).
#[test]
fn a_missing_policy_key_deploys_with_a_warning() {
    let home = home_with(&[(
        "api/M.xml",
        api(
            "M",
            "/m",
            r#"<resource methods="POST" uri-template="/*"><inSequence><throttle id="m"><policy key="NoSuchPolicy"/></throttle><respond/></inSequence></resource>"#,
        ),
    )]);
    let (code, text) = check_output(home.path());
    assert!(code == Some(0), "{text}");
    assert!(
        text.lines().any(
            |l| l.starts_with("warning: throttle m: policy key NoSuchPolicy")
                && l.contains("api/M.xml:")
        ),
        "{text}"
    );
}

// ConcurrentAccessController with MaximumConcurrentAccess 1: while one accepted message is in
// flight (its backend does not answer) the next is refused; the slot comes back when the first
// one's answer (here the timeout fault) goes back to the client (ConcurrencyThrottlingUtils,
// Axis2Sender.handleConcurrentThrottleCount), and the next message is accepted.
#[test]
fn concurrency_slot_is_held_until_the_answer_goes_back() {
    let stalled = Backend::start(Behaviour::Stall);
    let fast = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: r#"{"fast":true}"#.into(),
    });
    let policy = format!(
        r#"<wsp:Policy {WSP}><throttle:MediatorThrottleAssertion><throttle:MaximumConcurrentAccess>1</throttle:MaximumConcurrentAccess></throttle:MediatorThrottleAssertion></wsp:Policy>"#
    );
    let home = home_with(&[(
        "api/C.xml",
        api(
            "C",
            "/c",
            &format!(
                r#"<resource methods="POST" uri-template="/*"><inSequence>
<throttle id="c"><policy>{policy}</policy>
<onAccept><filter source="$trp:X-Slow" regex="yes"><then>
  <call><endpoint><address uri="{slow}/s"><timeout><duration>3000</duration><responseAction>fault</responseAction></timeout></address></endpoint></call>
</then><else>
  <call><endpoint><address uri="{fast}/f"/></endpoint></call>
</else></filter><respond/></onAccept>
<onReject><property name="HTTP_SC" value="503" scope="axis2"/><payloadFactory media-type="json"><format>{{"throttle":"busy"}}</format></payloadFactory><respond/></onReject>
</throttle></inSequence></resource>"#,
                slow = stalled.url(),
                fast = fast.url()
            ),
        ),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);
    let slow = std::thread::spawn(move || post(port, "/c/x", &[("X-Slow", "yes")], "{}"));
    // Wait (generously) until the slow message is at the backend, holding the slot.
    let deadline = Instant::now() + Duration::from_secs(30);
    while stalled.requests().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the slow request never reached the backend\n{}",
            server.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = post(port, "/c/x", &[], "{}");
    assert_eq!(
        (r.status, r.text().as_str()),
        (503, r#"{"throttle":"busy"}"#),
        "{r:?}"
    );
    assert!(fast.requests().is_empty());
    // The slow one ends with the endpoint's timeout fault; its slot comes back.
    let first = slow.join().unwrap();
    assert_eq!(first.status, 504, "{first:?}\n{}", server.output());
    let r = post(port, "/c/x", &[], "{}");
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, r#"{"fast":true}"#),
        "{r:?}"
    );
    // Sequential messages each get the slot back.
    let r = post(port, "/c/x", &[], "{}");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(fast.requests().len(), 2);
}
