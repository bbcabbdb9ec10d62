//! Durable message stores through the real binary (issue 17, "Nothing lost"): messages stored by
//! an API with `<store>` into a JDBC store (PostgreSQL through a `[[datasource]]` named by
//! `store.jdbc.dsName`, SQLite by URL) or a RabbitMQ store while the
//! forwarding target is down; the server killed with SIGKILL (`kill -9`) while its processor is
//! retrying the head; the server started again on the same home, the target brought back:
//! every message is delivered exactly once, in order, and the store ends empty. A second test
//! kills the server while clients are still storing: every message the server answered 202 for
//! is delivered.
//!
//! MI sources: SYN `message/store/impl/jdbc/JDBCMessageStore.java` (peek by the lowest
//! indexId, remove after delivery), `message/store/impl/rabbitmq/RabbitMQConsumer.java`
//! (basic.get without auto-ack, ack after delivery), `message/processor/impl/forwarder/
//! ForwardingService.java`. PostgreSQL and RabbitMQ run as private servers; a test whose server
//! is not installed prints why and passes. No assertion is on timing.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use conflux_dataservices::db::testing::{Kind, shared};
use conflux_messaging::testing::RabbitMqServer;
use support::backend::*;
use support::capp::*;
use support::fault_proxy::{Fault, FaultProxy};
use support::*;

const NS: &str = "http://ws.apache.org/ns/synapse";
const JDBC: &str = "org.apache.synapse.message.store.impl.jdbc.JDBCMessageStore";
const RABBITMQ: &str = "org.apache.synapse.message.store.impl.rabbitmq.RabbitMQStore";
const FORWARDER: &str =
    "org.apache.synapse.message.processor.impl.forwarder.ScheduledMessageForwardingProcessor";
const WAIT: Duration = Duration::from_secs(90);
/// Messages stored before the crash.
const MESSAGES: usize = 12;

fn message_store(class: &str, parameters: &[(&str, String)]) -> String {
    let params: String = parameters
        .iter()
        .map(|(k, v)| format!(r#"<parameter name="{k}">{v}</parameter>"#))
        .collect();
    format!(r#"<messageStore xmlns="{NS}" name="Durable" class="{class}">{params}</messageStore>"#)
}

fn jdbc_store(url: &str, driver: &str) -> String {
    // An `&` in a JDBC URL is XML text.
    let url = url.replace('&', "&amp;");
    message_store(
        JDBC,
        &[
            ("store.jdbc.driver", driver.to_string()),
            ("store.jdbc.connection.url", url),
            ("store.jdbc.table", "durable_kill9".to_string()),
        ],
    )
}

fn rabbitmq_store(broker: &RabbitMqServer, queue: &str) -> String {
    message_store(
        RABBITMQ,
        &[
            ("store.rabbitmq.host.name", "127.0.0.1".to_string()),
            ("store.rabbitmq.host.port", broker.port().to_string()),
            ("store.rabbitmq.queue.name", queue.to_string()),
        ],
    )
}

/// The home: the store, an endpoint to `target`, a forwarding processor that retries forever,
/// and an API `/durable` whose POSTs are stored and answered 202; `toml` is added to
/// deployment.toml.
fn home(store_xml: String, target: &str, toml: &str) -> Home {
    let home = Home::new(&format!("[server]\nhostname = \"localhost\"\n{toml}"));
    for (path, xml) in [
        ("message-stores/Durable.xml", store_xml),
        (
            "endpoints/Target.xml",
            format!(
                r#"<endpoint xmlns="{NS}" name="Target"><address uri="{target}/in"/></endpoint>"#
            ),
        ),
        (
            "message-processors/Forward.xml",
            format!(
                r#"<messageProcessor xmlns="{NS}" name="Forward" class="{FORWARDER}" messageStore="Durable" targetEndpoint="Target"><parameter name="interval">50</parameter><parameter name="client.retry.interval">100</parameter><parameter name="max.delivery.attempts">-1</parameter></messageProcessor>"#
            ),
        ),
        (
            "api/durable.xml",
            api(
                "durable",
                "/durable",
                r#"<resource methods="POST" uri-template="/*"><inSequence>
    <property name="OUT_ONLY" value="true"/>
    <property name="FORCE_SC_ACCEPTED" value="true" scope="axis2"/>
    <store messageStore="Durable"/>
</inSequence></resource>"#,
            ),
        ),
    ] {
        home.write(&format!("{SYNAPSE}/{path}"), &xml);
    }
    home
}

fn store_size(m: &Management) -> i64 {
    m.get_json("message-stores?name=Durable")["size"]
        .as_i64()
        .unwrap_or(-2)
}

fn kill_nine(server: &mut Server) {
    signal(server.pid(), "KILL");
    server.wait(Duration::from_secs(20));
}

/// The paths the target received, in order.
fn delivered(backend: &Backend) -> Vec<String> {
    backend
        .requests()
        .into_iter()
        .map(|r| r.path_and_query)
        .collect()
}

/// Stores [`MESSAGES`] messages with the target down, kills the server with SIGKILL, starts it
/// again, brings the target up: each message arrives exactly once, in order.
fn survives_kill_nine(store_xml: String, toml: &str) {
    let backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: Vec::new(),
        body: "{}".into(),
    });
    let target = FaultProxy::start(backend.addr, Fault::Refuse);
    let home = home(store_xml, &target.url(), toml);
    let mut server = start(&home);
    for i in 1..=MESSAGES {
        let r = post_json(
            server.port(HTTP),
            &format!("/durable/{i}"),
            &format!(r#"{{"n":{i}}}"#),
        );
        assert_eq!(r.status, 202, "POST {i}: {}\n{}", r.text(), server.output());
    }
    let m = Management::admin(server.port(INTERNAL_HTTPS));
    assert_eq!(store_size(&m), MESSAGES as i64, "{}", server.output());
    // The processor is retrying the head against the refused target when the server dies.
    wait_for("the processor to try the target", WAIT, || {
        if server.output().contains("failed to forward") {
            Ok(())
        } else {
            Err(server.output())
        }
    });
    kill_nine(&mut server);
    assert!(delivered(&backend).is_empty(), "{:?}", delivered(&backend));

    let mut again = start(&home);
    let m = Management::admin(again.port(INTERNAL_HTTPS));
    assert_eq!(
        store_size(&m),
        MESSAGES as i64,
        "nothing lost across kill -9"
    );
    target.set(Fault::Pass);
    wait_for(
        "every message delivered and the store empty",
        WAIT,
        || match (store_size(&m), delivered(&backend).len()) {
            (0, n) if n >= MESSAGES => Ok(()),
            (size, n) => Err(format!("{size} in the store, {n} delivered")),
        },
    );
    let expected: Vec<String> = (1..=MESSAGES).map(|i| format!("/in/{i}")).collect();
    assert_eq!(delivered(&backend), expected, "exactly once, in order");
    again.terminate();
}

#[test]
fn jdbc_postgres_store_survives_kill_nine() {
    let db = match shared(Kind::Postgres) {
        Ok(db) => db,
        Err(skip) => return eprintln!("skipped: {skip}"),
    };
    // Through `store.jdbc.dsName`: a `[[datasource]]` of deployment.toml, by its JNDI name.
    let toml = format!(
        "[[datasource]]\nid = \"StoreDB\"\nurl = \"{}\"\ndriver = \"org.postgresql.Driver\"\n",
        db.url
    );
    let store = message_store(
        JDBC,
        &[
            ("store.jdbc.dsName", "jdbc/StoreDB".to_string()),
            ("store.jdbc.table", "durable_kill9".to_string()),
        ],
    );
    survives_kill_nine(store, &toml);
}

#[test]
fn jdbc_sqlite_store_survives_kill_nine() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("jdbc:sqlite:{}", dir.path().join("store.db").display());
    survives_kill_nine(jdbc_store(&url, "org.sqlite.JDBC"), "");
}

#[test]
fn rabbitmq_store_survives_kill_nine() {
    let broker = match RabbitMqServer::start() {
        Ok(b) => b,
        Err(skip) => return eprintln!("skipped: {skip}"),
    };
    survives_kill_nine(rabbitmq_store(&broker, "kill9"), "");
}

/// POSTs `{}` to `path`; the status, or `None` when the server is gone (the clients of the
/// kill test expect that, so this does not panic as the support helpers do).
fn try_post(port: u16, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    )
    .ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    let head = String::from_utf8_lossy(&answer);
    head.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// Clients store messages while the server is killed: every message answered 202 before the
/// kill is delivered after the restart (at least once; the ones stored after the answer was
/// lost may be delivered too, and are counted, not required).
#[test]
fn kill_nine_while_storing_loses_no_acknowledged_message() {
    let broker = match RabbitMqServer::start() {
        Ok(b) => b,
        Err(skip) => return eprintln!("skipped: {skip}"),
    };
    let backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: Vec::new(),
        body: "{}".into(),
    });
    let target = FaultProxy::start(backend.addr, Fault::Refuse);
    let home = home(rabbitmq_store(&broker, "storing"), &target.url(), "");
    let mut server = start(&home);
    let port = server.port(HTTP);
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let acknowledged = acknowledged.clone();
            std::thread::spawn(move || {
                for i in 0.. {
                    let path = format!("/durable/{c}-{i}");
                    if try_post(port, &path) == Some(202) {
                        acknowledged.lock().unwrap().insert(format!("/in/{c}-{i}"));
                    } else {
                        return;
                    }
                }
            })
        })
        .collect();
    wait_for("some messages stored", WAIT, || {
        let n = acknowledged.lock().unwrap().len();
        if n >= 20 {
            Ok(())
        } else {
            Err(format!("{n} stored"))
        }
    });
    kill_nine(&mut server);
    for c in clients {
        let _ = c.join();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let mut again = start(&home);
    let m = Management::admin(again.port(INTERNAL_HTTPS));
    target.set(Fault::Pass);
    wait_for("the store drained", WAIT, || match store_size(&m) {
        0 => Ok(()),
        n => Err(format!("{n} in the store")),
    });
    let got: BTreeSet<String> = delivered(&backend).into_iter().collect();
    eprintln!(
        "{} messages acknowledged before the kill, {} delivered after the restart",
        acknowledged.len(),
        got.len()
    );
    let lost: Vec<_> = acknowledged.difference(&got).collect();
    assert!(
        lost.is_empty(),
        "acknowledged but never delivered: {lost:?}"
    );
    again.terminate();
}
