//! The server's lifecycle under load, measured with the counting load generator
//! ([`support::load`]; issue 20, "Lifecycle under load"; reliability.md §2): SIGTERM while
//! clients keep sending (every request that started before the signal completes, nothing fails
//! but refused connects afterwards, the process exits 0 within the drain deadline), SIGTERM with a
//! request that cannot finish (it does not keep the process alive past the drain deadline), and
//! a CApp replaced under load (by rename, in place, and upgraded under a new file name) that
//! loses no request.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::backend::*;
use support::capp::*;
use support::fault_proxy::{Fault, FaultProxy};
use support::load::{self, Outcome, Until};
use support::*;

const NS: &str = "http://ws.apache.org/ns/synapse";
/// Concurrent clients of the load runs.
const CLIENTS: usize = 8;
/// Load before the stop signal, so that every client has requests in flight.
const LOAD_BEFORE_SIGNAL: Duration = Duration::from_millis(2500);
/// How long clients keep trying after the stop signal.
const LOAD_AFTER_SIGNAL: Duration = Duration::from_secs(3);
/// Conflux's drain deadline (`server::DRAIN_TIMEOUT`) plus room for a slow CI machine.
const EXIT_BOUND: Duration = Duration::from_secs(20);
/// CApp replacements during the redeploy run.
const CAPP_REDEPLOYS: usize = 8;

/// An API at `context` answering `answer` as text on GET.
fn text_api(name: &str, context: &str, answer: &str) -> String {
    format!(
        r#"<api xmlns="{NS}" name="{name}" context="{context}">
    <resource methods="GET">
        <inSequence>
            <payloadFactory media-type="text"><format>{answer}</format><args/></payloadFactory>
            <respond/>
        </inSequence>
    </resource>
</api>"#
    )
}

/// An API at `context` sending GETs to `url` (a slow one: the requests are in flight).
fn send_api(name: &str, context: &str, url: &str) -> String {
    format!(
        r#"<api xmlns="{NS}" name="{name}" context="{context}">
    <resource methods="GET" url-mapping="/*">
        <inSequence><send><endpoint><address uri="{url}"/></endpoint></send></inSequence>
    </resource>
</api>"#
    )
}

/// The paths of the SIGTERM run: a slow backend (a response dripped over a few hundred ms), a
/// fast backend, and an answer mediation makes by itself.
const SIGTERM_PATHS: [&str; 3] = ["/slow", "/fast", "/local"];

fn expect_ok(path: &str, outcome: &Outcome) -> Result<(), String> {
    let want = match path {
        "/slow" => "slow answer",
        "/fast" => "fast answer",
        "/local" => "local answer",
        _ => return Err(format!("unknown path {path}")),
    };
    match outcome {
        Outcome::Answered { status: 200, body } if body == want.as_bytes() => Ok(()),
        other => Err(format!("{other:?}")),
    }
}

#[test]
fn sigterm_under_load_completes_in_flight_requests_and_refuses_new_connections() {
    let slow_backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![],
        body: "slow answer".into(),
    });
    // About 100 bytes dripped at 15 ms each: every slow request is in flight for ~1.5 s, so the
    // drain lasts long enough to see new connections refused meanwhile.
    let slow = FaultProxy::start(
        slow_backend.addr,
        Fault::Drip {
            every: Duration::from_millis(15),
        },
    );
    let fast = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![],
        body: "fast answer".into(),
    });
    let home = home_with(&[
        ("api/Slow.xml", send_api("Slow", "/slow", &slow.url())),
        ("api/Fast.xml", send_api("Fast", "/fast", &fast.url())),
        ("api/Local.xml", text_api("Local", "/local", "local answer")),
    ]);
    let mut server = start(&home);
    let port = server.port(HTTP);

    let stop = Arc::new(AtomicBool::new(false));
    let record = Arc::new(Mutex::new(Vec::new()));
    let load = {
        let (stop, record) = (stop.clone(), record.clone());
        std::thread::spawn(move || {
            load::run(
                port,
                CLIENTS,
                Until::Flag(stop),
                Arc::new(|client, n| ("GET", SIGTERM_PATHS[(client + n) % 3].to_string())),
                Arc::new(expect_ok),
                Some(record),
            )
        })
    };
    std::thread::sleep(LOAD_BEFORE_SIGNAL);
    let signalled = Instant::now();
    signal(server.pid(), "TERM");
    let status = server.wait(EXIT_BOUND);
    let exited_after = signalled.elapsed();
    std::thread::sleep(LOAD_AFTER_SIGNAL.saturating_sub(exited_after));
    stop.store(true, Ordering::SeqCst);
    let tally = load.join().expect("load thread");

    let record = record.lock().expect("record");
    let exited = signalled + exited_after;
    let before: Vec<&load::Recorded> = record.iter().filter(|r| r.started < signalled).collect();
    let in_flight = before.iter().filter(|r| r.ended() > signalled).count();
    let lost_before: Vec<String> = before
        .iter()
        .filter(|r| r.outcome.status() != Some(200))
        .map(|r| format!("{:?}", r.outcome))
        .take(10)
        .collect();
    let answered_after = record
        .iter()
        .filter(|r| r.started >= signalled && r.outcome.status() == Some(200))
        .count();
    let refused_while_draining = record
        .iter()
        .filter(|r| r.outcome == Outcome::Refused && r.ended() < exited)
        .count();
    println!(
        "SIGTERM under load: {} sent ({} before the signal, {in_flight} of them in flight at the signal), \
         ok {} ({answered_after} started after the signal), refused {} ({refused_while_draining} while \
         draining), closed before a response {} (retried {}), failed {}; exit {status} {exited_after:?} \
         after the signal",
        tally.sent,
        before.len(),
        tally.ok,
        tally.refused,
        tally.closed_before_response,
        tally.retried,
        tally.failed,
    );
    let output = server.output();
    assert!(status.success(), "exit {status}:\n{output}");
    assert!(output.contains("Received SIGTERM"), "{output}");
    assert!(output.contains("Conflux stopped"), "{output}");
    assert!(
        !output.contains("drain deadline passed"),
        "in-flight requests outlived the drain:\n{output}"
    );
    assert!(in_flight > 0, "no request was in flight at the signal");
    assert!(!before.is_empty());
    assert!(
        lost_before.is_empty(),
        "requests started before SIGTERM did not complete: {lost_before:?}"
    );
    assert_eq!(tally.failed, 0, "{:?}", tally.failures);
    assert!(
        refused_while_draining > 0,
        "new connections must be refused while in-flight requests drain: {tally:?}"
    );
}

/// `server::DRAIN_TIMEOUT`: how long Conflux waits for in-flight requests after a stop signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A request that can never finish (a backend that stalls, and no endpoint timeout shorter than
/// MI's 120 s default) must not keep the process alive: after the drain deadline Conflux closes
/// what is left and exits 0, and the stalled client's connection is closed, not left hanging.
#[test]
fn sigterm_with_a_stalled_request_exits_after_the_drain_deadline() {
    let backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![],
        body: "never".into(),
    });
    let stall = FaultProxy::start(backend.addr, Fault::Stall);
    let home = home_with(&[("api/Stuck.xml", send_api("Stuck", "/stuck", &stall.url()))]);
    let mut server = start(&home);
    let port = server.port(HTTP);
    let client = std::thread::spawn(move || {
        let started = Instant::now();
        let outcome = load::Client::new(port).get("/stuck");
        (outcome, started.elapsed())
    });
    wait_for(
        "the request to reach the stalled backend",
        CHANGE_TIMEOUT,
        || {
            if stall.accepted() > 0 {
                Ok(())
            } else {
                Err(format!("{} connections", stall.accepted()))
            }
        },
    );
    let signalled = Instant::now();
    signal(server.pid(), "TERM");
    let status = server.wait(EXIT_BOUND);
    let exited_after = signalled.elapsed();
    let (outcome, _) = client.join().expect("client thread");
    let output = server.output();
    println!(
        "stalled request at SIGTERM: exit {status} after {exited_after:?}; client saw {outcome:?}"
    );
    assert!(status.success(), "exit {status}:\n{output}");
    assert!(output.contains("drain deadline passed"), "{output}");
    assert!(
        exited_after >= DRAIN_TIMEOUT,
        "exited before the drain deadline: {exited_after:?}"
    );
    assert_eq!(
        outcome,
        Outcome::ClosedBeforeResponse { reused: false },
        "the stalled client must see its connection closed"
    );
}

/// What the CApp under load answers in revision `n`.
fn capp_answer(n: usize) -> String {
    format!("capp revision {n}")
}

/// A CApp `name` (version 1.0.0) whose API answers revision `n`.
fn capp(name: &str, n: usize) -> CAppBuilder {
    CAppBuilder::new(name).api("CarApi", &text_api("CarApi", "/car", &capp_answer(n)))
}

fn expect_capp(path: &str, outcome: &Outcome) -> Result<(), String> {
    match (path, outcome) {
        ("/car", Outcome::Answered { status: 200, body })
            if String::from_utf8_lossy(body).starts_with("capp revision ") =>
        {
            Ok(())
        }
        ("/file", Outcome::Answered { status: 200, body }) if body == b"file answer" => Ok(()),
        ("/pass", Outcome::Answered { status: 200, body }) if body == b"backend answer" => Ok(()),
        (_, other) => Err(format!("{other:?}")),
    }
}

#[test]
fn a_capp_replaced_under_load_loses_no_request() {
    let backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![],
        body: "backend answer".into(),
    });
    let home = home_with(&[
        ("api/File.xml", text_api("File", "/file", "file answer")),
        ("api/Pass.xml", send_api("Pass", "/pass", &backend.url())),
    ]);
    let dir = carbonapps(home.path());
    std::fs::create_dir_all(&dir).unwrap();
    let mut name = "Load".to_string();
    let mut current = capp(&name, 0).write_into_atomically(&dir);
    let server = start(&home);
    let port = server.port(HTTP);
    assert_eq!(get(port, "/car").text(), capp_answer(0));

    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            load::run(
                port,
                CLIENTS,
                Until::Flag(stop),
                Arc::new(|client, n| {
                    let path = ["/car", "/file", "/pass", "/car"][(client + n) % 4];
                    ("GET", path.to_string())
                }),
                Arc::new(expect_capp),
                None,
            )
        })
    };
    let started = Instant::now();
    for n in 1..=CAPP_REDEPLOYS {
        match n % 3 {
            // Renamed into place (what a careful deployment script does).
            1 => {
                current = capp(&name, n).write_into_atomically(&dir);
            }
            // Written in place: the watcher may see a half-written zip, which must not
            // undeploy the running version.
            2 => {
                current = capp(&name, n).write_into(&dir);
            }
            // An upgrade under a new file name: both applications hold the API for a while
            // (one of them is faulty), then the old one is removed.
            _ => {
                name = format!("Load{n}");
                let before = redeploys(&server);
                let next = capp(&name, n).write_into_atomically(&dir);
                wait_for("a redeploy", CHANGE_TIMEOUT, || {
                    if redeploys(&server) > before {
                        Ok(())
                    } else {
                        Err(server.output())
                    }
                });
                std::fs::remove_file(&current).unwrap();
                current = next;
            }
        }
        wait_for_answer(port, "/car", &capp_answer(n));
    }
    // The last removal must have been deployed too before the load stops.
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::SeqCst);
    let tally = load.join().expect("load thread");
    println!(
        "{CAPP_REDEPLOYS} CApp redeploys in {:.1} s under load: {} sent, ok {}, refused {}, \
         closed before a response {} (retried {}), failed {}",
        started.elapsed().as_secs_f64(),
        tally.sent,
        tally.ok,
        tally.refused,
        tally.closed_before_response,
        tally.retried,
        tally.failed
    );
    assert!(tally.sent > CAPP_REDEPLOYS * 10, "{tally:?}");
    assert_eq!(tally.failed, 0, "{:?}", tally.failures);
    assert_eq!(
        (tally.refused, tally.closed_before_response, tally.retried),
        (0, 0, 0),
        "{tally:?}"
    );
    assert_eq!(tally.ok, tally.sent);
}

/// How many redeploys the server has logged.
fn redeploys(server: &Server) -> usize {
    server.output().matches("Redeployed in ").count()
}

/// Waits (up to [`CHANGE_TIMEOUT`]) until GET `path` answers 200 with `body`.
fn wait_for_answer(port: u16, path: &str, body: &str) {
    wait_for(&format!("GET {path} -> {body:?}"), CHANGE_TIMEOUT, || {
        let r = get(port, path);
        if r.status == 200 && r.text() == body {
            Ok(())
        } else {
            Err(format!("{} {:?}", r.status, r.text()))
        }
    });
}
