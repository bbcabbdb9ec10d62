//! Store and forward end to end through the real binary: `<store>` into in-memory message stores,
//! scheduled message forwarding processors delivering to backends that fail and then recover
//! (503 answers, a refused port), deactivation after `max.delivery.attempts` and reactivation
//! through the Management API, `max.delivery.drop`, a sampling processor injecting into a
//! sequence, a store and processor deployed from a CApp, and `/management/message-stores` and
//! `/management/message-processors` in MI's JSON shape.
//!
//! MI sources: SYN `mediators/store/MessageStoreMediator.java` (the flow goes on after the store),
//! `message/processor/impl/forwarder/ForwardingService.java` (validateResponse, attempts,
//! drop, deactivation), `message/processor/impl/sampler/SamplingService.java`, micro-integrator
//! `management/apis/MessageStoreResource.java` and `MessageProcessorResource.java`.
//!
//! No assertion is on timing: every wait polls with a generous deadline; exact counts are
//! asserted once the store is empty (everything was delivered or dropped) or the processor is
//! inactive, after which nothing more is sent.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use support::backend::*;
use support::capp::*;
use support::fault_proxy::{Fault, FaultProxy};
use support::*;

const NS: &str = "http://ws.apache.org/ns/synapse";
const IN_MEMORY: &str = "org.apache.synapse.message.store.impl.memory.InMemoryStore";
const FORWARDER: &str =
    "org.apache.synapse.message.processor.impl.forwarder.ScheduledMessageForwardingProcessor";
const SAMPLER: &str = "org.apache.synapse.message.processor.impl.sampler.SamplingProcessor";
const WAIT: Duration = Duration::from_secs(60);

/// A backend that answers `status` to its first `failures` requests and 200 afterwards, and
/// records `(path, body, status answered)` of each request in order.
struct Flaky {
    port: u16,
    seen: Arc<Mutex<Vec<(String, String, u16)>>>,
}

impl Flaky {
    fn start(failures: usize, status: u16) -> Flaky {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind flaky backend");
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split(' ').nth(1).unwrap_or("").to_string();
                let mut length = 0usize;
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = header.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let mut seen = record.lock().unwrap();
                let answer = if seen.len() < failures { status } else { 200 };
                seen.push((path, String::from_utf8_lossy(&body).into_owned(), answer));
                drop(seen);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {answer} X\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
                );
            }
        });
        Flaky { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<(String, String, u16)> {
        self.seen.lock().unwrap().clone()
    }

    /// The paths answered 200, in order.
    fn delivered(&self) -> Vec<String> {
        self.seen()
            .into_iter()
            .filter(|(_, _, s)| *s == 200)
            .map(|(p, _, _)| p)
            .collect()
    }
}

fn store(name: &str) -> String {
    format!(r#"<messageStore xmlns="{NS}" name="{name}" class="{IN_MEMORY}"/>"#)
}

fn forwarder(name: &str, store: &str, endpoint: &str, parameters: &[(&str, &str)]) -> String {
    let mut params = vec![("interval", "50"), ("client.retry.interval", "50")];
    params.extend_from_slice(parameters);
    let params: String = params
        .iter()
        .map(|(k, v)| format!(r#"<parameter name="{k}">{v}</parameter>"#))
        .collect();
    format!(
        r#"<messageProcessor xmlns="{NS}" name="{name}" class="{FORWARDER}" messageStore="{store}" targetEndpoint="{endpoint}">{params}</messageProcessor>"#
    )
}

/// An address endpoint at `{url}/in` that is never suspended (MI's idiom: error code -1), so a
/// retry reaches the backend as soon as it is up again.
fn endpoint(name: &str, url: &str) -> String {
    format!(
        r#"<endpoint xmlns="{NS}" name="{name}"><address uri="{url}/in"><suspendOnFailure><errorCodes>-1</errorCodes><initialDuration>0</initialDuration></suspendOnFailure><markForSuspension><errorCodes>-1</errorCodes></markForSuspension></address></endpoint>"#
    )
}

/// An API `/NAME` whose POSTs are stored in `store` (OUT_ONLY, as MI's store-and-forward
/// samples do) and answered 202.
fn storing_api(name: &str, store: &str) -> String {
    api(
        name,
        &format!("/{name}"),
        &format!(
            r#"<resource methods="POST" uri-template="/*"><inSequence>
    <property name="OUT_ONLY" value="true"/>
    <property name="FORCE_SC_ACCEPTED" value="true" scope="axis2"/>
    <store messageStore="{store}"/>
    <log level="custom"><property name="stored" value="{name}"/></log>
</inSequence></resource>"#
        ),
    )
}

fn post(server: &Server, path: &str, body: &str) {
    let r = post_json(server.port(HTTP), path, body);
    assert_eq!(r.status, 202, "POST {path}: {}", r.text());
}

fn store_size(m: &Management, name: &str) -> i64 {
    m.get_json(&format!("message-stores?name={name}"))["size"]
        .as_i64()
        .unwrap_or(-2)
}

fn status(m: &Management, name: &str) -> String {
    m.get_json(&format!("message-processors?name={name}"))["status"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn wait_until(what: &str, done: impl FnMut() -> Result<(), String>) {
    wait_for(what, WAIT, done);
}

#[test]
fn store_and_forward_through_the_binary() {
    // 503 twice, then 200: each message delivered once, in order, after the retries.
    let flaky = Flaky::start(2, 503);
    // Refused until the fault proxy passes, in front of a backend that always answers 200.
    let healthy = Flaky::start(0, 200);
    let proxy = FaultProxy::start(
        format!("127.0.0.1:{}", healthy.port).parse().unwrap(),
        Fault::Refuse,
    );
    // 500 twice: with max.delivery.drop the first message is dropped, the second delivered.
    let dropping = Flaky::start(2, 500);
    // What the sampling processor's sequence calls.
    let sampled = Flaky::start(0, 200);

    let home = home_with(&[
        ("message-stores/Retry.xml", store("Retry")),
        ("message-stores/Refused.xml", store("Refused")),
        ("message-stores/Drop.xml", store("Drop")),
        ("endpoints/FlakyEp.xml", endpoint("FlakyEp", &flaky.url())),
        ("endpoints/ProxyEp.xml", endpoint("ProxyEp", &proxy.url())),
        ("endpoints/DropEp.xml", endpoint("DropEp", &dropping.url())),
        (
            "message-processors/RetryProc.xml",
            forwarder(
                "RetryProc",
                "Retry",
                "FlakyEp",
                &[("max.delivery.attempts", "10")],
            ),
        ),
        (
            "message-processors/RefusedProc.xml",
            forwarder(
                "RefusedProc",
                "Refused",
                "ProxyEp",
                &[("max.delivery.attempts", "3")],
            ),
        ),
        (
            "message-processors/DropProc.xml",
            forwarder(
                "DropProc",
                "Drop",
                "DropEp",
                &[
                    ("max.delivery.attempts", "2"),
                    ("max.delivery.drop", "Enabled"),
                ],
            ),
        ),
        ("api/retry.xml", storing_api("retry", "Retry")),
        ("api/refused.xml", storing_api("refused", "Refused")),
        ("api/drop.xml", storing_api("drop", "Drop")),
        ("api/sample.xml", storing_api("sample", "Sampled")),
    ]);
    // The sampling processor, its store and sequence come from a CApp.
    let capp = CAppBuilder::new("StoreCApp")
        .synapse("message-store", "Sampled", &store("Sampled"))
        .sequence(
            "SampleSeq",
            &format!(
                r#"<sequence xmlns="{NS}" name="SampleSeq"><call><endpoint><http method="post" uri-template="{}/sampled"/></endpoint></call><drop/></sequence>"#,
                sampled.url()
            ),
        )
        .synapse(
            "message-processors",
            "Sampler",
            &format!(
                r#"<messageProcessor xmlns="{NS}" name="Sampler" class="{SAMPLER}" messageStore="Sampled"><parameter name="sequence">SampleSeq</parameter><parameter name="interval">50</parameter><parameter name="concurrency">2</parameter></messageProcessor>"#
            ),
        );
    capp.write_into(&carbonapps(home.path()));
    let server = start(&home);
    let m = Management::admin(server.port(INTERNAL_HTTPS));

    for i in 1..=3 {
        post(&server, &format!("/retry/{i}"), &format!(r#"{{"n": {i}}}"#));
        post(
            &server,
            &format!("/refused/{i}"),
            &format!(r#"{{"n": {i}}}"#),
        );
    }
    for i in 1..=2 {
        post(&server, &format!("/drop/{i}"), "{}");
        post(
            &server,
            &format!("/sample/{i}"),
            &format!(r#"{{"s": {i}}}"#),
        );
    }

    // 503 then recovery: all three delivered exactly once, in order, after two failed attempts.
    wait_until("Retry drained", || match store_size(&m, "Retry") {
        0 => Ok(()),
        n => Err(format!("{n} left; backend saw {:?}", flaky.seen())),
    });
    let seen = flaky.seen();
    assert_eq!(
        flaky.delivered(),
        vec!["/in/1", "/in/2", "/in/3"],
        "{seen:?}"
    );
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(
        seen.iter().map(|(_, _, s)| *s).collect::<Vec<_>>(),
        vec![503, 503, 200, 200, 200]
    );
    assert_eq!(seen[0].0, "/in/1", "the failed message is retried first");
    let body: Value = serde_json::from_str(&seen[4].1).unwrap();
    assert_eq!(body, json!({"n": 3}));

    // Refused 3 times: deactivated, all three messages still stored.
    wait_until("RefusedProc deactivated", || {
        match status(&m, "RefusedProc").as_str() {
            "inactive" => Ok(()),
            other => Err(other.to_string()),
        }
    });
    assert_eq!(store_size(&m, "Refused"), 3);
    assert!(healthy.seen().is_empty());
    let list = m.get_json("message-processors");
    assert_eq!(list["count"], 4, "{list}");
    let entry = list["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "RefusedProc")
        .cloned()
        .unwrap();
    assert_eq!(
        entry,
        json!({"name": "RefusedProc", "type": "Scheduled-message-forwarding-processor", "status": "inactive"})
    );
    // The backend recovers; the operator reactivates the processor.
    proxy.set(Fault::Pass);
    let r = m.call(
        "POST",
        "message-processors",
        &[("Content-Type", "application/json".into())],
        br#"{"name": "RefusedProc", "status": "active"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        serde_json::from_slice::<Value>(&r.body).unwrap(),
        json!({"Message": "RefusedProc : is activated"})
    );
    wait_until("Refused drained", || match store_size(&m, "Refused") {
        0 => Ok(()),
        n => Err(format!("{n} left")),
    });
    assert_eq!(healthy.delivered(), vec!["/in/1", "/in/2", "/in/3"]);
    assert_eq!(status(&m, "RefusedProc"), "active");

    // max.delivery.drop: the first message is dropped after 2 attempts; the second delivered.
    wait_until("Drop drained", || match store_size(&m, "Drop") {
        0 if !dropping.delivered().is_empty() => Ok(()),
        n => Err(format!("{n} left; backend saw {:?}", dropping.seen())),
    });
    assert_eq!(
        dropping
            .seen()
            .into_iter()
            .map(|(p, _, s)| (p, s))
            .collect::<Vec<_>>(),
        vec![
            ("/in/1".to_string(), 500),
            ("/in/1".to_string(), 500),
            ("/in/2".to_string(), 200)
        ]
    );
    assert_eq!(status(&m, "DropProc"), "active");

    // Sampling from the CApp: each message into the sequence once.
    wait_until("both samples", || match sampled.seen().len() {
        2 => Ok(()),
        n => Err(format!("{n} so far")),
    });
    let bodies: Vec<Value> = sampled
        .seen()
        .iter()
        .map(|(_, b, _)| serde_json::from_str(b).unwrap())
        .collect();
    assert_eq!(bodies, vec![json!({"s": 1}), json!({"s": 2})]);

    // Management JSON.
    let stores = m.get_json("message-stores");
    assert_eq!(stores["count"], 4, "{stores}");
    let sampled_store = stores["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Sampled")
        .cloned()
        .unwrap();
    assert_eq!(
        sampled_store,
        json!({"name": "Sampled", "type": "in-memory-message-store", "size": 0})
    );
    let detail = m.get_json("message-processors?name=Sampler");
    assert_eq!(detail["type"], "Sampling-processor");
    assert_eq!(detail["messageStore"], "Sampled");
    assert_eq!(detail["parameters"]["concurrency"], "2");
    let missing = m.call("GET", "message-stores?name=Nope", &[], b"");
    assert_eq!(missing.status, 404, "{}", missing.text());
    let r = m.call(
        "POST",
        "message-processors",
        &[("Content-Type", "application/json".into())],
        br#"{"name": "Nope", "status": "active"}"#,
    );
    assert_eq!(r.status, 404, "{}", r.text());
}

/// `conflux check` warns about a processor whose store and endpoint are not deployed; the
/// server deploys it and shows it inactive (MI deploys it and deactivates it when it runs).
#[test]
fn a_processor_naming_what_is_not_deployed_is_warned_about() {
    let home = home_with(&[(
        "message-processors/Orphan.xml",
        forwarder("Orphan", "NoStore", "NoEndpoint", &[]),
    )]);
    let out = check_home(home.path(), WAIT);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(
            "message processor Orphan reads message store NoStore, which is not deployed"
        ),
        "{text}"
    );
    assert!(
        text.contains("forwards to endpoint NoEndpoint, which is not deployed"),
        "{text}"
    );
    let server = start(&home);
    let m = Management::admin(server.port(INTERNAL_HTTPS));
    assert_eq!(status(&m, "Orphan"), "inactive");
}

/// A store the `<store>` mediator names that is not deployed is a fault (MI: "Message Store
/// does not exist."), answered as a mediation failure.
#[test]
fn storing_into_a_missing_store_is_a_fault() {
    let home = home_with(&[("api/lost.xml", storing_api("lost", "Missing"))]);
    let out = check_home(home.path(), WAIT);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("message store Missing is not deployed"),
        "{text}"
    );
    let server = start(&home);
    let r = post_json(server.port(HTTP), "/lost/1", "{}");
    assert_ne!(r.status, 202, "{}", r.text());
    // The fault is logged as the answer goes out: wait for the line.
    wait_until("the fault in the log", || {
        let out = server.output();
        if out.contains("Message Store does not exist: Missing") {
            Ok(())
        } else {
            Err(out)
        }
    });
}

/// A hot redeploy of another artifact keeps the in-memory store's messages and the processor's
/// switch (an operator's deactivation, here the processor's own after max attempts); the
/// deactivate sequence ran on the message when it deactivated.
#[test]
fn a_hot_redeploy_keeps_stored_messages_and_the_processor_switch() {
    let healthy = Flaky::start(0, 200);
    let proxy = FaultProxy::start(
        format!("127.0.0.1:{}", healthy.port).parse().unwrap(),
        Fault::Refuse,
    );
    let notified = Flaky::start(0, 200);
    let home = home_with(&[
        ("message-stores/Kept.xml", store("Kept")),
        ("endpoints/KeptEp.xml", endpoint("KeptEp", &proxy.url())),
        (
            "sequences/Deactivated.xml",
            format!(
                r#"<sequence xmlns="{NS}" name="Deactivated"><call><endpoint><http method="post" uri-template="{}/deactivated"/></endpoint></call><drop/></sequence>"#,
                notified.url()
            ),
        ),
        (
            "message-processors/KeptProc.xml",
            forwarder(
                "KeptProc",
                "Kept",
                "KeptEp",
                &[
                    ("max.delivery.attempts", "1"),
                    ("message.processor.deactivate.sequence", "Deactivated"),
                ],
            ),
        ),
        ("api/kept.xml", storing_api("kept", "Kept")),
    ]);
    let server = start(&home);
    let m = Management::admin(server.port(INTERNAL_HTTPS));
    post(&server, "/kept/1", r#"{"k": 1}"#);
    wait_until("KeptProc deactivated", || {
        match status(&m, "KeptProc").as_str() {
            "inactive" => Ok(()),
            other => Err(other.to_string()),
        }
    });
    wait_until("the deactivate sequence", || match notified.seen().len() {
        1 => Ok(()),
        n => Err(format!("{n} calls")),
    });
    assert_eq!(notified.seen()[0].1, r#"{"k": 1}"#);
    post(&server, "/kept/2", r#"{"k": 2}"#);

    // Another artifact arrives: a hot redeploy.
    home.write(
        &format!("{SYNAPSE}/api/other.xml"),
        &api(
            "other",
            "/other",
            r#"<resource methods="GET"><inSequence><payloadFactory media-type="text"><format>here</format><args/></payloadFactory><respond/></inSequence></resource>"#,
        ),
    );
    wait_until("the new API", || match get(server.port(HTTP), "/other") {
        r if r.status == 200 => Ok(()),
        r => Err(r.status.to_string()),
    });
    assert_eq!(store_size(&m, "Kept"), 2);
    assert_eq!(status(&m, "KeptProc"), "inactive");

    proxy.set(Fault::Pass);
    let r = m.call(
        "POST",
        "message-processors",
        &[("Content-Type", "application/json".into())],
        br#"{"name": "KeptProc", "status": "active"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    wait_until("Kept drained", || match store_size(&m, "Kept") {
        0 => Ok(()),
        n => Err(format!("{n} left")),
    });
    assert_eq!(
        healthy
            .seen()
            .into_iter()
            .map(|(p, b, _)| (p, b))
            .collect::<Vec<_>>(),
        vec![
            ("/in/1".to_string(), r#"{"k": 1}"#.to_string()),
            ("/in/2".to_string(), r#"{"k": 2}"#.to_string())
        ]
    );
    // A processor restarted by the redeploy would have tried (refused) and deactivated again.
    assert_eq!(notified.seen().len(), 1, "{:?}", notified.seen());
}
