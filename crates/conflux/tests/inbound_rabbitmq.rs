//! RabbitMQ inbound endpoints through the real binary, on a private broker (Debian
//! `rabbitmq-server`; skipped with a message where it is missing): a round trip from an API
//! whose `<store>` writes into a RabbitMQ message store, through the broker, to a `rabbitmq`
//! inbound endpoint on the same queue whose sequence calls a backend; with
//! `rabbitmq.queue.auto.ack=false`, a flow that sets `SET_ROLLBACK_ONLY` has its message rejected
//! (not redelivered) while the others are acknowledged; and a broker restarted under a running
//! consumer, which connects again and goes on (MI `RabbitMQConsumer`, `RabbitMQInjectHandler`).

mod support;

use std::time::Duration;

use conflux_messaging::testing::RabbitMqServer;
use support::backend::{Backend, Behaviour, request};
use support::capp::{Management, wait_for};
use support::*;

const NS: &str = "http://ws.apache.org/ns/synapse";
const WAIT: Duration = Duration::from_secs(60);

/// A home with: store `Q` on queue `queue`, API `/in/<n>` storing into it, inbound endpoint
/// `Consume` on the same queue with `extra` parameters, and sequence `Got` calling
/// `{backend}/got/<n>` (the number from the message) — or, for a message whose `kind` is `bad`,
/// setting `SET_ROLLBACK_ONLY` instead.
fn home(broker: &RabbitMqServer, queue: &str, backend: &Backend, extra: &str) -> Home {
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    let port = broker.port();
    for (path, xml) in [
        (
            "message-stores/Q.xml",
            format!(
                r#"<messageStore xmlns="{NS}" name="Q" class="org.apache.synapse.message.store.impl.rabbitmq.RabbitMQStore"><parameter name="store.rabbitmq.host.name">127.0.0.1</parameter><parameter name="store.rabbitmq.host.port">{port}</parameter><parameter name="store.rabbitmq.queue.name">{queue}</parameter></messageStore>"#
            ),
        ),
        (
            "api/In.xml",
            api(
                "In",
                "/in",
                r#"<resource methods="POST" uri-template="/*"><inSequence>
    <property name="OUT_ONLY" value="true"/>
    <property name="FORCE_SC_ACCEPTED" value="true" scope="axis2"/>
    <store messageStore="Q"/>
</inSequence></resource>"#,
            ),
        ),
        (
            "sequences/Got.xml",
            format!(
                r#"<sequence xmlns="{NS}" name="Got">
  <filter source="json-eval($.kind)" regex="bad">
    <then><property name="SET_ROLLBACK_ONLY" value="true"/><drop/></then>
  </filter>
  <property name="uri.var.n" expression="json-eval($.n)"/>
  <property name="HTTP_METHOD" scope="axis2" value="POST"/>
  <call><endpoint><http method="post" uri-template="{}/got/{{uri.var.n}}"/></endpoint></call>
  <drop/>
</sequence>"#,
                backend.url()
            ),
        ),
        (
            "inbound-endpoints/Consume.xml",
            format!(
                r#"<inboundEndpoint xmlns="{NS}" name="Consume" protocol="rabbitmq" sequence="Got" onError="fault">
  <parameters>
    <parameter name="rabbitmq.server.host.name">127.0.0.1</parameter>
    <parameter name="rabbitmq.server.port">{port}</parameter>
    <parameter name="rabbitmq.queue.name">{queue}</parameter>
    {extra}
  </parameters>
</inboundEndpoint>"#
            ),
        ),
    ] {
        home.write(&format!("{SYNAPSE}/{path}"), &xml);
    }
    home
}

fn post(server: &Server, n: u32, kind: &str) {
    let r = request(
        "POST",
        server.port(HTTP),
        &format!("/in/{n}"),
        &[("Content-Type", "application/json")],
        format!(r#"{{"n":{n},"kind":"{kind}"}}"#).as_bytes(),
    );
    assert_eq!(r.status, 202, "POST {n}: {}\n{}", r.text(), server.output());
}

/// The paths the backend got, in order.
fn got(backend: &Backend) -> Vec<String> {
    backend
        .requests()
        .into_iter()
        .map(|r| r.path_and_query)
        .collect()
}

fn backend() -> Backend {
    Backend::start(Behaviour::Fixed {
        status: 200,
        headers: Vec::new(),
        body: "{}".into(),
    })
}

fn broker() -> Option<RabbitMqServer> {
    match RabbitMqServer::start() {
        Ok(b) => Some(b),
        Err(skip) => {
            eprintln!("skipped: {skip}");
            None
        }
    }
}

#[test]
fn a_message_goes_from_a_store_through_the_broker_to_an_inbound_endpoint() {
    let Some(broker) = broker() else { return };
    let backend = backend();
    let home = home(&broker, "round_trip", &backend, "");
    let server = start(&home);
    for n in 1..=3 {
        post(&server, n, "good");
    }
    wait_for("three messages through the broker", WAIT, || {
        let got = got(&backend);
        if got.len() >= 3 {
            Ok(())
        } else {
            Err(format!("{got:?}\n{}", server.output()))
        }
    });
    assert_eq!(got(&backend), ["/got/1", "/got/2", "/got/3"]);
}

#[test]
fn with_manual_acks_a_rolled_back_message_is_rejected_and_a_restarted_broker_is_reconnected() {
    let Some(mut broker) = broker() else { return };
    let backend = backend();
    let home = home(
        &broker,
        "manual_ack",
        &backend,
        r#"<parameter name="rabbitmq.queue.auto.ack">false</parameter>"#,
    );
    let server = start(&home);
    post(&server, 1, "good");
    post(&server, 2, "bad");
    post(&server, 3, "good");
    wait_for("the good messages", WAIT, || {
        let got = got(&backend);
        if got.len() >= 2 {
            Ok(())
        } else {
            Err(format!("{got:?}\n{}", server.output()))
        }
    });
    // The broker goes away and comes back: the consumer connects again and goes on; the
    // rejected message was not put back, so it never arrives.
    broker.stop();
    broker.restart().expect("restart the broker");
    wait_for("the store to reach the broker again", WAIT, || {
        let r = request(
            "POST",
            server.port(HTTP),
            "/in/4",
            &[("Content-Type", "application/json")],
            br#"{"n":4,"kind":"good"}"#,
        );
        if r.status == 202 {
            Ok(())
        } else {
            Err(format!("{} {}", r.status, r.text()))
        }
    });
    wait_for("the message after the restart", WAIT, || {
        let got = got(&backend);
        if got.iter().any(|p| p == "/got/4") {
            Ok(())
        } else {
            Err(format!("{got:?}\n{}", server.output()))
        }
    });
    assert_eq!(got(&backend), ["/got/1", "/got/3", "/got/4"]);
    // Rejected, not put back: the queue ends empty (a requeued message would stay on it,
    // handed out again and again).
    let m = Management::admin(server.port(INTERNAL_HTTPS));
    wait_for("the queue to be empty", WAIT, || {
        match m.get_json("message-stores?name=Q")["size"].as_i64() {
            Some(0) => Ok(()),
            other => Err(format!("size {other:?}")),
        }
    });
}
