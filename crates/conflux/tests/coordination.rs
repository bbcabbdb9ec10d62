//! Coordination across instances through the real binary: three instances at different port
//! offsets share a private PostgreSQL as MI's `WSO2_COORDINATION_DB` data source. A scheduled
//! task fires on exactly one of them, and a message processor over a JDBC store in the same
//! database forwards on exactly one; when that one is killed with SIGKILL, another takes the work
//! over (within the takeover interval, here `-DheartBeatInterval=500`), and only that one runs it
//! from then on. Skipped with a message where PostgreSQL's server package is missing.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use conflux_dataservices::db::testing::{DbServer, Kind};
use support::backend::{Backend, Behaviour, request};
use support::capp::{Management, wait_for};
use support::*;

/// The instances that fired since request number `from` of `backend` (`/fired/<id>`).
fn firers(backend: &Backend, from: usize) -> Vec<String> {
    backend.requests()[from..]
        .iter()
        .filter_map(|r| r.path_and_query.strip_prefix("/fired/").map(str::to_string))
        .collect()
}

/// Waits until `backend` has more than `count` requests.
fn wait_beyond(backend: &Backend, count: usize, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while backend.requests().len() <= count {
        assert!(
            Instant::now() < deadline,
            "{what}: nothing after {count} requests"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn home(id: &str, db_url: &str, backend: &Backend) -> Home {
    let home = Home::new(&format!(
        "[server]\nhostname = \"localhost\"\n\n[[datasource]]\nid = \"WSO2_COORDINATION_DB\"\nurl = \"{db_url}\"\ndriver = \"org.postgresql.Driver\"\n"
    ));
    home.write(
        &format!("{SYNAPSE}/sequences/Fire.xml"),
        &format!(
            r#"<sequence xmlns="http://ws.apache.org/ns/synapse" name="Fire">
  <property name="HTTP_METHOD" scope="axis2" value="GET"/>
  <call><endpoint><address uri="{}/fired/{id}"/></endpoint></call>
  <drop/>
</sequence>"#,
            backend.url()
        ),
    );
    home.write(
        &format!("{SYNAPSE}/tasks/Tick.xml"),
        r#"<task xmlns="http://ws.apache.org/ns/synapse" name="Tick" class="org.apache.synapse.startup.tasks.MessageInjector" group="synapse.simple.quartz">
  <trigger interval="1"/>
  <property xmlns:task="http://www.wso2.org/products/wso2commons/tasks" name="injectTo" value="sequence"/>
  <property xmlns:task="http://www.wso2.org/products/wso2commons/tasks" name="sequenceName" value="Fire"/>
  <property xmlns:task="http://www.wso2.org/products/wso2commons/tasks" name="message"><tick xmlns=""/></property>
</task>"#,
    );
    home
}

/// The instances' names.
const IDS: [&str; 3] = ["A", "B", "C"];

/// A private PostgreSQL (`None`, with a message, where it is not installed) and a backend that
/// answers 200.
fn setup() -> Option<(DbServer, Backend)> {
    let db = match DbServer::start(Kind::Postgres) {
        Ok(db) => db,
        Err(skip) => {
            eprintln!("skipped: {skip}");
            return None;
        }
    };
    let backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: Vec::new(),
        body: "{}".into(),
    });
    Some((db, backend))
}

/// Starts one instance on each home, at free offsets, with a short takeover interval.
fn start_all(homes: &[Home]) -> Vec<Option<Server>> {
    homes
        .iter()
        .map(|h| {
            Some(Server::start(
                h.path(),
                free_offset(),
                &["-DheartBeatInterval=500"],
            ))
        })
        .collect()
}

#[test]
fn a_task_runs_on_one_of_three_instances_and_moves_when_that_one_is_killed() {
    let Some((db, backend)) = setup() else {
        return;
    };
    let url = db.db().url;
    let ids = IDS;
    let homes: Vec<Home> = ids.iter().map(|id| home(id, &url, &backend)).collect();
    let mut servers = start_all(&homes);

    // One instance takes the task; for several firings nobody else runs it.
    wait_beyond(&backend, 4, "the first firings");
    let first: BTreeSet<String> = firers(&backend, 0).into_iter().collect();
    assert_eq!(
        first.len(),
        1,
        "more than one instance ran the task: {first:?}"
    );
    let holder = first.into_iter().next().unwrap();
    let index = ids.iter().position(|i| *i == holder).unwrap();

    // Kill it without a chance to clean up: PostgreSQL ends its session and frees the lock.
    let victim = servers[index].take().unwrap();
    signal(victim.pid(), "KILL");
    drop(victim);
    let at_kill = backend.requests().len();
    // A firing of the killed one may have been in flight; after it, another takes over.
    wait_beyond(&backend, at_kill + 4, "the firings after the kill");
    let after: Vec<String> = firers(&backend, at_kill);
    let successors: BTreeSet<&String> = after.iter().filter(|f| **f != holder).collect();
    assert_eq!(
        successors.len(),
        1,
        "not exactly one successor ran the task after {holder} was killed: {after:?}"
    );
    // The killed one is gone for good: nothing of it after its last in-flight firing.
    let last = after.iter().rposition(|f| *f == holder);
    let first_successor = after.iter().position(|f| *f != holder).unwrap();
    assert!(
        last.is_none_or(|l| l < first_successor),
        "{holder} fired after its successor took over: {after:?}"
    );
    for s in servers.iter_mut().flatten() {
        s.terminate();
    }
}

const NS: &str = "http://ws.apache.org/ns/synapse";

/// A home whose API `/q/<n>` stores each POST in a JDBC store in the coordination database, and
/// whose processor forwards them to `{backend}/fwd/<id>/<n>`.
fn processor_home(id: &str, db_url: &str, backend: &Backend) -> Home {
    let home = Home::new(&format!(
        "[server]\nhostname = \"localhost\"\n\n[[datasource]]\nid = \"WSO2_COORDINATION_DB\"\nurl = \"{db_url}\"\ndriver = \"org.postgresql.Driver\"\n"
    ));
    let url = db_url.replace('&', "&amp;");
    for (path, xml) in [
        (
            "message-stores/Shared.xml",
            format!(
                r#"<messageStore xmlns="{NS}" name="Shared" class="org.apache.synapse.message.store.impl.jdbc.JDBCMessageStore"><parameter name="store.jdbc.driver">org.postgresql.Driver</parameter><parameter name="store.jdbc.connection.url">{url}</parameter><parameter name="store.jdbc.table">coordinated_store</parameter></messageStore>"#
            ),
        ),
        (
            "endpoints/Target.xml",
            format!(
                r#"<endpoint xmlns="{NS}" name="Target"><address uri="{}/fwd/{id}"/></endpoint>"#,
                backend.url()
            ),
        ),
        (
            "message-processors/Forward.xml",
            format!(
                r#"<messageProcessor xmlns="{NS}" name="Forward" class="org.apache.synapse.message.processor.impl.forwarder.ScheduledMessageForwardingProcessor" messageStore="Shared" targetEndpoint="Target"><parameter name="interval">50</parameter><parameter name="client.retry.interval">100</parameter><parameter name="max.delivery.attempts">-1</parameter></messageProcessor>"#
            ),
        ),
        (
            "api/Q.xml",
            api(
                "Q",
                "/q",
                r#"<resource methods="POST" uri-template="/*"><inSequence>
    <property name="OUT_ONLY" value="true"/>
    <property name="FORCE_SC_ACCEPTED" value="true" scope="axis2"/>
    <store messageStore="Shared"/>
</inSequence></resource>"#,
            ),
        ),
    ] {
        home.write(&format!("{SYNAPSE}/{path}"), &xml);
    }
    home
}

/// `(instance, message number)` of each forwarded message, in arrival order.
fn forwarded(backend: &Backend) -> Vec<(String, String)> {
    backend
        .requests()
        .iter()
        .filter_map(|r| {
            let rest = r.path_and_query.strip_prefix("/fwd/")?;
            let (id, n) = rest.split_once('/')?;
            Some((id.to_string(), n.to_string()))
        })
        .collect()
}

fn post_messages(server: &Server, numbers: std::ops::RangeInclusive<usize>) {
    for n in numbers {
        let r = request(
            "POST",
            server.port(HTTP),
            &format!("/q/{n}"),
            &[("Content-Type", "application/json")],
            format!(r#"{{"n":{n}}}"#).as_bytes(),
        );
        assert_eq!(r.status, 202, "POST {n}: {}", r.text());
    }
}

#[test]
fn a_message_processor_forwards_on_one_instance_and_moves_when_that_one_is_killed() {
    let Some((db, backend)) = setup() else {
        return;
    };
    let url = db.db().url;
    let ids = IDS;
    let homes: Vec<Home> = ids
        .iter()
        .map(|id| processor_home(id, &url, &backend))
        .collect();
    let mut servers = start_all(&homes);
    let wait = Duration::from_secs(60);
    let size = |server: &Server| {
        Management::admin(server.port(INTERNAL_HTTPS)).get_json("message-stores?name=Shared")
            ["size"]
            .as_i64()
            .unwrap_or(-1)
    };

    post_messages(servers[0].as_ref().unwrap(), 1..=5);
    wait_for("five forwarded and the store empty", wait, || {
        let got = forwarded(&backend);
        match size(servers[0].as_ref().unwrap()) {
            0 if got.len() >= 5 => Ok(()),
            left => Err(format!("{left} left in the store; forwarded {got:?}")),
        }
    });
    let first = forwarded(&backend);
    let holders: BTreeSet<&String> = first.iter().map(|(id, _)| id).collect();
    assert_eq!(
        holders.len(),
        1,
        "more than one instance forwarded: {first:?}"
    );
    let numbers: Vec<&str> = first.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(numbers, ["1", "2", "3", "4", "5"], "exactly once, in order");
    let holder = first[0].0.clone();
    let index = ids.iter().position(|i| *i == holder).unwrap();

    let victim = servers[index].take().unwrap();
    signal(victim.pid(), "KILL");
    drop(victim);
    let survivor = servers.iter().flatten().next().unwrap();
    post_messages(survivor, 6..=10);
    wait_for("five more forwarded and the store empty", wait, || {
        let got = forwarded(&backend);
        match size(survivor) {
            0 if got.len() >= 10 => Ok(()),
            left => Err(format!("{left} left in the store; forwarded {got:?}")),
        }
    });
    let all = forwarded(&backend);
    let after = &all[5..];
    let successors: BTreeSet<&String> = after.iter().map(|(id, _)| id).collect();
    assert_eq!(successors.len(), 1, "not exactly one successor: {all:?}");
    assert!(
        !successors.contains(&holder),
        "{holder} was killed: {all:?}"
    );
    let numbers: Vec<&str> = after.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(
        numbers,
        ["6", "7", "8", "9", "10"],
        "exactly once, in order"
    );
    for s in servers.iter_mut().flatten() {
        s.terminate();
    }
}
