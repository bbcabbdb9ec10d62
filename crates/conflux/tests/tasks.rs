//! Scheduled tasks (MessageInjector) end to end through the real binary: a task with a count
//! reaching a backend exactly that many times through a sequence and through a proxy service, a
//! Quartz cron task firing, a task from a CApp that stops when a hot redeploy removes the CApp,
//! a task injecting into a sequence that is not deployed (warned by `conflux check`, MI's error
//! at each firing), and `/management/tasks` in MI's JSON shape.
//!
//! MI sources: SYN `startup/tasks/MessageInjector.java` (message, format, injectTo,
//! sequenceName, proxyName, `task.name`), `task/TaskDescriptionFactory.java` (trigger),
//! micro-integrator `ntask/core/impl/AbstractQuartzTaskManager.java` (`startNow`, repeat count
//! `count - 1`, "Task scheduled: [ESB_TASK][name]."), `management/apis/TaskResource.java`.
//!
//! No assertion is on timing: every wait polls with a generous deadline, and exact counts are
//! asserted only once the server has logged that the trigger is exhausted (or, for a removed
//! task, once another task has fired several times since).

mod support;

use std::time::Duration;

use serde_json::Value;
use support::backend::*;
use support::capp::*;
use support::*;

const NS: &str = "http://ws.apache.org/ns/synapse";
const INJECTOR: &str = "org.apache.synapse.startup.tasks.MessageInjector";
/// Long enough for a debug build on a loaded 2-core machine to fire several 1 s triggers.
const FIRE_TIMEOUT: Duration = Duration::from_secs(60);

fn backend() -> Backend {
    Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "application/xml".into())],
        body: "<ok/>".into(),
    })
}

/// How many requests `backend` received on `path`.
fn hits(backend: &Backend, path: &str) -> usize {
    backend
        .requests()
        .iter()
        .filter(|r| r.path_and_query == path)
        .count()
}

/// Waits until `backend` received at least `n` requests on `path`; returns how many.
fn wait_for_hits(backend: &Backend, path: &str, n: usize) -> usize {
    wait_for(&format!("{n} request(s) on {path}"), FIRE_TIMEOUT, || {
        let seen = hits(backend, path);
        if seen >= n {
            Ok(seen)
        } else {
            Err(format!("{seen} so far"))
        }
    })
}

fn wait_for_log(server: &Server, needle: &str) {
    wait_for(&format!("log line {needle:?}"), FIRE_TIMEOUT, || {
        let out = server.output();
        if out.contains(needle) {
            Ok(())
        } else {
            Err(out)
        }
    });
}

/// A sequence that sends the message to `url` (with the task's name in `X-Task`).
fn calling_sequence(name: &str, url: &str) -> String {
    format!(
        r#"<sequence xmlns="{NS}" name="{name}">
    <header name="X-Task" scope="transport" expression="get-property('task.name')"/>
    <call><endpoint><http method="post" uri-template="{url}"/></endpoint></call>
    <drop/>
</sequence>"#
    )
}

/// A task with `trigger` and these `<property>` elements.
fn task(name: &str, trigger: &str, properties: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<task xmlns="{NS}" name="{name}" class="{INJECTOR}" group="synapse.simple.quartz">
    {trigger}
    <property xmlns:task="http://www.wso2.org/products/wso2commons/tasks" name="message">
        <m:ping xmlns:m="urn:conflux:test">{name}</m:ping>
    </property>
    {properties}
</task>"#
    )
}

fn into_sequence(sequence: &str) -> String {
    format!(
        r#"<property name="injectTo" value="sequence"/><property name="sequenceName" value="{sequence}"/>"#
    )
}

#[test]
fn a_task_with_a_count_reaches_the_backend_exactly_that_many_times() {
    let backend = backend();
    let url = backend.url();
    let proxy = format!(
        r#"<proxy xmlns="{NS}" name="TaskProxy" transports="http">
    <target><inSequence>
        <call><endpoint><http method="post" uri-template="{url}/proxy"/></endpoint></call>
        <respond/>
    </inSequence></target>
</proxy>"#
    );
    let home = home_with(&[
        (
            "sequences/ToBackend.xml",
            calling_sequence("ToBackend", &format!("{url}/sequence")),
        ),
        ("proxy-services/TaskProxy.xml", proxy),
        (
            "tasks/ThreeTimes.xml",
            task(
                "ThreeTimes",
                r#"<trigger interval="1" count="3"/>"#,
                &format!(
                    r#"{}<property name="format" value="pox"/>"#,
                    into_sequence("ToBackend")
                ),
            ),
        ),
        // No injectTo: the main sequence, whose `<send/>` goes to the task's `to`.
        (
            "sequences/main.xml",
            format!(r#"<sequence xmlns="{NS}" name="main"><send/></sequence>"#),
        ),
        (
            "tasks/OnceToMain.xml",
            task(
                "OnceToMain",
                r#"<trigger once="true"/>"#,
                &format!(
                    r#"<property name="to" value="{url}/to"/><property name="format" value="soap11"/><property name="soapAction" value="urn:ping"/>"#
                ),
            ),
        ),
        (
            "tasks/TwiceToProxy.xml",
            task(
                "TwiceToProxy",
                r#"<trigger interval="1" count="2"/>"#,
                r#"<property name="injectTo" value="proxy"/><property name="proxyName" value="TaskProxy"/>"#,
            ),
        ),
    ]);
    let server = start(&home);
    wait_for_log(&server, "Task [ThreeTimes] completed: fired 3 time(s)");
    wait_for_log(&server, "Task [TwiceToProxy] completed: fired 2 time(s)");
    // Every firing has started; each reaches the backend once.
    assert_eq!(wait_for_hits(&backend, "/sequence", 3), 3);
    assert_eq!(wait_for_hits(&backend, "/proxy", 2), 2);
    wait_for_log(&server, "Task [OnceToMain] completed: fired 1 time(s)");
    assert_eq!(wait_for_hits(&backend, "/to", 1), 1);
    let to_main = backend
        .requests()
        .into_iter()
        .find(|r| r.path_and_query == "/to")
        .unwrap();
    // format=soap11: a SOAP 1.1 envelope with the task's SOAPAction.
    assert!(
        to_main
            .header("Content-Type")
            .is_some_and(|c| c.starts_with("text/xml")),
        "{to_main:?}"
    );
    assert_eq!(
        to_main.header("SOAPAction"),
        Some("\"urn:ping\""),
        "{to_main:?}"
    );
    let out = server.output();
    assert!(
        out.contains("Task scheduled: [ESB_TASK][ThreeTimes]."),
        "{out}"
    );

    let sequence_hits: Vec<Recorded> = backend
        .requests()
        .into_iter()
        .filter(|r| r.path_and_query == "/sequence")
        .collect();
    for r in &sequence_hits {
        // format=pox: the bare message; the sequence read `task.name`.
        assert_eq!(r.header("X-Task"), Some("ThreeTimes"), "{r:?}");
        assert!(
            r.header("Content-Type")
                .is_some_and(|c| c.starts_with("application/xml")),
            "{r:?}"
        );
        let pox = "<m:ping xmlns:m=\"urn:conflux:test\">ThreeTimes</m:ping>";
        assert_eq!(r.body_sha256, sha256_hex(pox.as_bytes()), "{r:?}");
    }
    // No format: a SOAP 1.2 envelope, as MI builds it.
    let proxy_hit = backend
        .requests()
        .into_iter()
        .find(|r| r.path_and_query == "/proxy")
        .unwrap();
    assert!(
        proxy_hit
            .header("Content-Type")
            .is_some_and(|c| c.starts_with("application/soap+xml")),
        "{proxy_hit:?}"
    );
}

#[test]
fn a_quartz_cron_task_fires() {
    let backend = backend();
    let url = backend.url();
    let home = home_with(&[
        (
            "sequences/CronTarget.xml",
            calling_sequence("CronTarget", &format!("{url}/cron")),
        ),
        (
            "tasks/EverySecond.xml",
            task(
                "EverySecond",
                r#"<trigger cron="0/1 * * * * ?"/>"#,
                &into_sequence("CronTarget"),
            ),
        ),
    ]);
    let server = start(&home);
    wait_for_hits(&backend, "/cron", 2);
    let management = Management::admin(server.port(INTERNAL_HTTPS));
    let detail = management.get_json("tasks?taskName=EverySecond");
    assert_eq!(detail["triggerType"], "cron");
    assert_eq!(detail["cronExpression"], "0/1 * * * * ?");
}

#[test]
fn a_task_into_a_sequence_that_is_not_deployed_is_warned_and_logs_mi_error_each_firing() {
    let home = home_with(&[(
        "tasks/Orphan.xml",
        task(
            "Orphan",
            r#"<trigger interval="1" count="2"/>"#,
            &into_sequence("NotThere"),
        ),
    )]);
    let out = check_home(home.path(), FIRE_TIMEOUT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .contains("warning: task Orphan injects into sequence NotThere, which is not deployed")
            && stderr.contains("tasks/Orphan.xml:2:1"),
        "{stderr}"
    );
    let server = start(&home);
    wait_for_log(&server, "Task [Orphan] completed: fired 2 time(s)");
    let out = server.output_with(&["Sequence: NotThere not found (task Orphan)"]);
    assert_eq!(
        out.matches("Sequence: NotThere not found (task Orphan)")
            .count(),
        2,
        "{out}"
    );
}

#[test]
fn a_task_from_a_capp_runs_and_stops_when_a_hot_redeploy_removes_it() {
    let backend = backend();
    let url = backend.url();
    // A home task that keeps firing: the clock-free measure of time passing below.
    let home = home_with(&[
        (
            "sequences/Ticker.xml",
            calling_sequence("Ticker", &format!("{url}/ticker")),
        ),
        (
            "tasks/Ticker.xml",
            task(
                "Ticker",
                r#"<trigger interval="1"/>"#,
                &into_sequence("Ticker"),
            ),
        ),
    ]);
    let capp = CAppBuilder::new("TaskCApp")
        .sequence(
            "CAppTarget",
            &calling_sequence("CAppTarget", &format!("{url}/capp")),
        )
        .synapse(
            "task",
            "CAppTask",
            &task(
                "CAppTask",
                r#"<trigger interval="1"/>"#,
                &into_sequence("CAppTarget"),
            ),
        );
    let car = capp.write_into(&carbonapps(home.path()));
    let server = start(&home);
    wait_for_hits(&backend, "/capp", 2);

    let management = Management::admin(server.port(INTERNAL_HTTPS));
    let list = management.get_json("tasks");
    assert_eq!(list["count"], 2, "{list}");
    let names: Vec<&str> = list["list"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        names.contains(&"CAppTask") && names.contains(&"Ticker"),
        "{list}"
    );

    std::fs::remove_file(&car).unwrap();
    wait_for_log(&server, "Task deleted: [ESB_TASK][CAppTask]");
    // A firing started before the removal may still land; after three more ticks nothing does.
    let ticks = hits(&backend, "/ticker");
    wait_for_hits(&backend, "/ticker", ticks + 3);
    let after_removal = hits(&backend, "/capp");
    let ticks = hits(&backend, "/ticker");
    wait_for_hits(&backend, "/ticker", ticks + 3);
    assert_eq!(
        hits(&backend, "/capp"),
        after_removal,
        "the removed task fired again"
    );
    let list = management.get_json("tasks");
    assert_eq!(list["count"], 1, "{list}");
    // The unchanged home task carried on through the redeploy (not rescheduled).
    assert_eq!(
        server
            .output()
            .matches("Task scheduled: [ESB_TASK][Ticker].")
            .count(),
        1
    );

    // A changed task restarts from its first firing: with count 2 it fires twice more, after
    // firing many times under its old trigger.
    home.write(
        &format!("{SYNAPSE}/tasks/Ticker.xml"),
        &task(
            "Ticker",
            r#"<trigger interval="1" count="2"/>"#,
            &into_sequence("Ticker"),
        ),
    );
    wait_for_log(&server, "Task deleted: [ESB_TASK][Ticker]");
    wait_for_log(&server, "Task [Ticker] completed: fired 2 time(s)");
    assert_eq!(
        server
            .output()
            .matches("Task scheduled: [ESB_TASK][Ticker].")
            .count(),
        2
    );
}

#[test]
fn management_api_tasks_in_mi_shape() {
    let home = home_with(&[
        (
            "tasks/AbcScheduledTask.xml",
            // MI's management-api-tests artifact: no message (each firing logs MI's error).
            format!(
                r#"<task class="{INJECTOR}" group="synapse.simple.quartz" name="AbcScheduledTask" xmlns="{NS}"><trigger once="true"/></task>"#
            ),
        ),
        (
            "tasks/Hourly.xml",
            task(
                "Hourly",
                r#"<trigger interval="3600"/>"#,
                r#"<property name="to" value="http://localhost:9000/services/S"/>"#,
            ),
        ),
    ]);
    let server = start(&home);
    let management = Management::admin(server.port(INTERNAL_HTTPS));
    let list = management.get_json("tasks");
    assert_eq!(list["count"], 2, "{list}");
    assert_eq!(list["list"][0]["name"], "AbcScheduledTask", "{list}");
    // TaskResourceTestCase: the search key matches no task.
    let none = management.get_json("tasks?searchKey=ABCd");
    assert_eq!(none["count"], 0, "{none}");
    let some = management.get_json("tasks?searchKey=abc");
    assert_eq!(some["count"], 1, "{some}");

    let detail = management.get_json("tasks?taskName=Hourly");
    assert_eq!(detail["name"], "Hourly");
    assert_eq!(detail["taskGroup"], "synapse.simple.quartz");
    assert_eq!(detail["implementation"], INJECTOR);
    assert_eq!(detail["triggerType"], "simple");
    assert_eq!(detail["triggerCount"], "-1");
    assert_eq!(detail["triggerInterval"], "3600000");
    assert_eq!(
        detail["properties"]["to"],
        "http://localhost:9000/services/S"
    );
    let configuration = detail["configuration"].as_str().unwrap_or_default();
    assert!(configuration.starts_with("<task "), "{detail}");
    let once = management.get_json("tasks?taskName=AbcScheduledTask");
    assert_eq!(once["triggerCount"], "1");
    assert_eq!(once["triggerInterval"], "1000");

    let missing = management.call("GET", "tasks?taskName=Nope", &[], b"");
    assert_eq!(missing.status, 404);
    let body: Value = serde_json::from_slice(&missing.body).unwrap();
    assert_eq!(body["Error"], "Specified task Nope not found");
    wait_for_log(
        &server,
        "message or registry-key not set (task AbcScheduledTask)",
    );
}

#[test]
fn a_server_that_cannot_bind_its_ports_fires_no_task() {
    let backend = backend();
    let url = backend.url();
    let home = home_with(&[
        (
            "sequences/Early.xml",
            calling_sequence("Early", &format!("{url}/early")),
        ),
        (
            "tasks/Early.xml",
            task(
                "Early",
                r#"<trigger once="true"/>"#,
                &into_sequence("Early"),
            ),
        ),
    ]);
    let offset = free_offset();
    let taken = (u32::from(INTERNAL_HTTPS) + offset) as u16;
    let _blocker = std::net::TcpListener::bind(("0.0.0.0", taken)).unwrap();
    // MI's ntask starts tasks once the server has started; this one never does.
    let (code, stdout, stderr) = run(&[
        "--home",
        home.path().to_str().unwrap(),
        &format!("-DportOffset={offset}"),
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        !format!("{stdout}{stderr}").contains("Task [Early] completed"),
        "{stdout}{stderr}"
    );
    assert_eq!(
        hits(&backend, "/early"),
        0,
        "the task fired before the server served"
    );
}
