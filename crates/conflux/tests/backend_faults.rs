//! Backend faults through the real binary (issue 20, "Backend faults"; reliability.md §3 and §9
//! rows 1-4): a fault-injecting TCP proxy ([`support::fault_proxy`]) sits between Conflux and a
//! real backend and refuses, resets before and in the middle of the response, stalls, drips,
//! answers garbage, or half-closes, also in the middle of a large upload. Each fault must give
//! MI's error code and HTTP status, follow the endpoint's suspension settings, answer every
//! request within a bound (no hung exchange), and 10,000 faulted requests must leave no file
//! descriptor or memory behind.
//!
//! MI's codes: wso2-synapse `passthru/ErrorCodes.java` and `TargetHandler.java` (`exception`:
//! `IOException` -> `SND_IO_ERROR` 101500, `HttpException` -> `PROTOCOL_VIOLATION` 101506;
//! `closed` -> `CONNECTION_CLOSED` 101505), `ConnectCallback.java` (refused -> 101503), synapse
//! core `TimeoutHandler.java` (endpoint timeout -> 101504) and `SynapseConstants`
//! (`ENDPOINT_ADDRESS_NONE_READY` 303001). Suspension: `endpoints/EndpointContext.java` and
//! `AbstractEndpoint.java` (crates/transport/src/endpoint_state.rs reproduces them).

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::backend::*;
use support::fault_proxy::{Fault, FaultProxy};
use support::load::{self, Outcome, Until};
use support::*;

/// The longest any single faulted exchange may take (the slowest fault is a drip of about a
/// hundred bytes; a debug build on a loaded 2-core machine is slow).
const EXCHANGE_BOUND: Duration = Duration::from_secs(15);
/// Faulted requests of the leak test (CI); `CONFLUX_FAULT_REQUESTS` overrides it.
const LEAK_REQUESTS: usize = 10_000;
/// Requests before the leak baseline is taken (pools, caches and allocator arenas fill up).
const LEAK_WARMUP: usize = 1_000;
/// Concurrent clients of the leak test.
const LEAK_CLIENTS: usize = 16;
/// Open descriptors the leak test tolerates above the baseline. Idle pooled backend connections
/// are not leaks: the two keep-alive routes (`/ok`, `/drip`) can each hold up to one pooled
/// connection per concurrent client, and how many the warm-up left depends on how its requests
/// happened to interleave (a CI run grew by 10 with the old slack of 8). A leak of one descriptor
/// per faulted request would add ~1,250 per route, far above this bound.
const FD_SLACK: usize = 2 * LEAK_CLIENTS + 4;

/// Resident memory growth the leak test tolerates after warm-up.
const RSS_SLACK_KIB: u64 = 24 * 1024;
/// The endpoint timeout of the stalling and slow-head routes.
const SHORT_TIMEOUT_MS: u64 = 300;

/// A response body longer than any cut point, so a reset always lands inside it.
const BODY_BYTES: u64 = 64 * 1024;

/// `<address>` options that never suspend the endpoint (`-1` in both lists, docs-mi
/// "Endpoint error handling"), so every request reaches the proxy.
const NEVER_SUSPEND: &str = "<markForSuspension><errorCodes>-1</errorCodes></markForSuspension>\
     <suspendOnFailure><errorCodes>-1</errorCodes></suspendOnFailure>";

/// An API at `/{name}` sending GETs to `{url}/{name}` with these `<address>` children.
fn send_api(name: &str, url: &str, options: &str) -> (String, String) {
    (
        format!("api/{name}.xml"),
        api(
            name,
            &format!("/{name}"),
            &format!(
                r#"<resource methods="GET" url-mapping="/*">
        <inSequence><send><endpoint><address uri="{url}/{name}">{options}</address></endpoint></send></inSequence>
    </resource>"#
            ),
        ),
    )
}

fn timeout(ms: u64) -> String {
    format!("<timeout><duration>{ms}</duration><responseAction>fault</responseAction></timeout>")
}

fn home_of(apis: Vec<(String, String)>) -> Home {
    let artifacts: Vec<(&str, String)> =
        apis.iter().map(|(p, x)| (p.as_str(), x.clone())).collect();
    home_with(&artifacts)
}

/// One GET on a fresh connection, with how long it took.
fn timed_get(port: u16, path: &str) -> (Outcome, Duration) {
    let started = Instant::now();
    let outcome = load::Client::new(port).get(path);
    (outcome, started.elapsed())
}

/// Asserts a complete answer with `status` whose body holds `code`.
fn assert_fault(outcome: &Outcome, status: u16, code: &str) {
    match outcome {
        Outcome::Answered { status: s, body } => {
            let text = String::from_utf8_lossy(body);
            assert_eq!(*s, status, "{text}");
            assert!(text.contains(code), "expected {code} in {text}");
        }
        other => panic!("expected {status} with {code}, got {other:?}"),
    }
}

#[test]
fn each_fault_gives_mis_error_code_and_status_within_a_bound() {
    let backend = Backend::start(Behaviour::Generate {
        len: BODY_BYTES,
        seed: 7,
    });
    let proxy = |fault| FaultProxy::start(backend.addr, fault);
    let refuse = proxy(Fault::Refuse);
    let reset = proxy(Fault::ResetBeforeResponse);
    let cut = proxy(Fault::ResetMidBody { after: 16 * 1024 });
    let stall = proxy(Fault::Stall);
    let garbage = proxy(Fault::Garbage);
    let half = proxy(Fault::HalfClose);
    let slow_head = proxy(Fault::Drip {
        every: Duration::from_millis(20),
    });
    let drip_backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![],
        body: "dripped".into(),
    });
    let drip = FaultProxy::start(
        drip_backend.addr,
        Fault::Drip {
            every: Duration::from_millis(2),
        },
    );
    let home = home_of(vec![
        send_api("refuse", &refuse.url(), NEVER_SUSPEND),
        send_api("reset", &reset.url(), NEVER_SUSPEND),
        send_api("cut", &cut.url(), NEVER_SUSPEND),
        send_api(
            "stall",
            &stall.url(),
            &format!("{}{NEVER_SUSPEND}", timeout(SHORT_TIMEOUT_MS)),
        ),
        send_api("garbage", &garbage.url(), NEVER_SUSPEND),
        send_api("half", &half.url(), NEVER_SUSPEND),
        send_api(
            "slowhead",
            &slow_head.url(),
            &format!("{}{NEVER_SUSPEND}", timeout(SHORT_TIMEOUT_MS)),
        ),
        send_api(
            "drip",
            &drip.url(),
            &format!("{}{NEVER_SUSPEND}", timeout(20_000)),
        ),
        send_api("ok", &backend.url(), ""),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);

    let cases: [(&str, u16, &str); 6] = [
        // ConnectCallback.failed: "Error connecting to the back end".
        ("/refuse", 502, "101503"),
        // An RST while waiting for the response is an IOException in TargetHandler.exception.
        ("/reset", 502, "101500"),
        // TimeoutHandler: the endpoint's <timeout> passed without a response head.
        ("/stall", 504, "101504"),
        // Non-HTTP bytes: an HttpException (protocol violation).
        ("/garbage", 502, "101506"),
        // FIN before any response byte: TargetHandler.closed.
        ("/half", 502, "101505"),
        // A head that drips slower than the endpoint timeout is a timeout too.
        ("/slowhead", 504, "101504"),
    ];
    for (path, status, code) in cases {
        for _ in 0..2 {
            let (outcome, took) = timed_get(port, path);
            assert_fault(&outcome, status, code);
            assert!(took < EXCHANGE_BOUND, "{path} took {took:?}");
        }
    }
    assert!(
        server.output_with(&["101506"]).contains("101506"),
        "the protocol violation is logged with MI's code:\n{}",
        server.output()
    );

    // A reset after the head: the client gets the 200 head and part of the body, then its
    // connection ends; never a complete (truncated) 200.
    let (outcome, took) = timed_get(port, "/cut");
    match outcome {
        Outcome::Truncated { status: 200, got } => assert!((got as u64) < BODY_BYTES),
        other => panic!("expected a truncated 200, got {other:?}"),
    }
    assert!(took < EXCHANGE_BOUND);

    // A slow but steady response is delivered whole.
    let (outcome, took) = timed_get(port, "/drip");
    assert_eq!(outcome.status(), Some(200), "{outcome:?}");
    assert_eq!(outcome.text(), "dripped");
    assert!(took < EXCHANGE_BOUND);

    // The server serves on, and the healthy route is whole.
    let mut client = load::Client::new(port);
    match client.get("/ok") {
        Outcome::Answered { status: 200, body } => {
            assert_eq!(sha256_hex(&body), pattern_sha256(BODY_BYTES, 7));
        }
        other => panic!("healthy route: {other:?}"),
    }
    // Fault responses keep the client's connection usable.
    assert_fault(&client.get("/refuse"), 502, "101503");
    assert_eq!(client.get("/ok").status(), Some(200));
    assert_eq!(get(server.port(INTERNAL_HTTP), "/liveness").status, 200);
}

#[test]
fn suspension_follows_each_endpoints_configuration() {
    let backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![],
        body: "up".into(),
    });
    let default = FaultProxy::start(backend.addr, Fault::Refuse);
    let short = FaultProxy::start(backend.addr, Fault::Refuse);
    let retries = FaultProxy::start(backend.addr, Fault::Stall);
    let cut_backend = Backend::start(Behaviour::Generate {
        len: BODY_BYTES,
        seed: 3,
    });
    let cut = FaultProxy::start(cut_backend.addr, Fault::ResetMidBody { after: 4096 });
    let home = home_of(vec![
        send_api("default", &default.url(), ""),
        send_api(
            "short",
            &short.url(),
            "<suspendOnFailure><initialDuration>1000</initialDuration>\
             <progressionFactor>2</progressionFactor></suspendOnFailure>",
        ),
        send_api(
            "retries",
            &retries.url(),
            &format!(
                "{}<markForSuspension><errorCodes>101504</errorCodes>\
                 <retriesBeforeSuspension>2</retriesBeforeSuspension><retryDelay>0</retryDelay>\
                 </markForSuspension>\
                 <suspendOnFailure><initialDuration>60000</initialDuration></suspendOnFailure>",
                timeout(SHORT_TIMEOUT_MS)
            ),
        ),
        send_api("cut", &cut.url(), ""),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);

    // MI's defaults: any error suspends for 30 s (DEFAULT_ENDPOINT_SUSPEND_TIME); while
    // suspended the endpoint is not dialled at all, even though the backend is back.
    assert_fault(&timed_get(port, "/default").0, 502, "101503");
    default.set(Fault::Pass);
    for _ in 0..3 {
        assert_fault(&timed_get(port, "/default").0, 503, "303001");
    }
    assert_eq!(
        default.accepted(),
        0,
        "a suspended endpoint must not be dialled"
    );

    // initialDuration 1 s: after it the next request is a probe; its success makes the
    // endpoint ACTIVE again.
    assert_fault(&timed_get(port, "/short").0, 502, "101503");
    assert_fault(&timed_get(port, "/short").0, 503, "303001");
    short.set(Fault::Pass);
    let probe = wait_for_status(port, "/short", 200);
    assert_eq!(probe.text(), "up");
    assert_eq!(timed_get(port, "/short").0.status(), Some(200));
    assert!(short.accepted() >= 1, "the probe dials the backend");

    // markForSuspension: two timeouts put it in TIMEOUT (retryDelay 0: still tried), the third
    // suspends it for the configured 60 s.
    for attempt in 1..=3 {
        let (outcome, took) = timed_get(port, "/retries");
        assert_fault(&outcome, 504, "101504");
        assert!(took < EXCHANGE_BOUND, "attempt {attempt} took {took:?}");
    }
    assert_fault(&timed_get(port, "/retries").0, 503, "303001");
    assert_eq!(retries.accepted(), 3);
    assert!(
        server.output_with(&["Suspended"]).contains("Suspended"),
        "{}",
        server.output()
    );

    // A reset after the response head arrived is not an endpoint failure: the head already
    // completed the call (MI removes the callback on the response), so the endpoint stays ACTIVE.
    match timed_get(port, "/cut").0 {
        Outcome::Truncated { status: 200, .. } => {}
        other => panic!("expected a truncated 200, got {other:?}"),
    }
    cut.set(Fault::Pass);
    let whole = timed_get(port, "/cut").0;
    assert_eq!(whole.status(), Some(200), "not suspended: {whole:?}");
}

/// Polls GET `path` until it answers `status` (a suspension running out); fails after 10 s.
fn wait_for_status(port: u16, path: &str, status: u16) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (outcome, _) = timed_get(port, path);
        if outcome.status() == Some(status) {
            return outcome;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never answered {status}: {outcome:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The routes of the leak test: (path, what a correct answer looks like).
const LEAK_ROUTES: [(&str, Expect); 8] = [
    ("/refuse", Expect::Fault(502, "101503")),
    ("/reset", Expect::Fault(502, "101500")),
    ("/cut", Expect::Truncated),
    ("/stall", Expect::Fault(504, "101504")),
    ("/garbage", Expect::Fault(502, "101506")),
    ("/half", Expect::Fault(502, "101505")),
    ("/drip", Expect::Ok),
    ("/ok", Expect::Ok),
];

#[derive(Debug, Clone, Copy)]
enum Expect {
    Fault(u16, &'static str),
    Truncated,
    Ok,
}

fn judge(expect: Expect, outcome: &Outcome) -> Result<(), String> {
    match (expect, outcome) {
        (Expect::Fault(status, code), Outcome::Answered { status: s, body })
            if *s == status && String::from_utf8_lossy(body).contains(code) =>
        {
            Ok(())
        }
        (Expect::Truncated, Outcome::Truncated { status: 200, .. }) => Ok(()),
        (Expect::Ok, Outcome::Answered { status: 200, .. }) => Ok(()),
        (expect, other) => Err(format!("expected {expect:?}, got {other:?}")),
    }
}

#[test]
fn ten_thousand_faulted_requests_leave_no_descriptor_or_memory_behind() {
    let requests = std::env::var("CONFLUX_FAULT_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(LEAK_REQUESTS);
    let backend = Backend::start(Behaviour::Generate {
        len: 8 * 1024,
        seed: 11,
    });
    let small = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![],
        body: "d".into(),
    });
    let proxies = [
        ("refuse", FaultProxy::start(backend.addr, Fault::Refuse)),
        (
            "reset",
            FaultProxy::start(backend.addr, Fault::ResetBeforeResponse),
        ),
        (
            "cut",
            FaultProxy::start(backend.addr, Fault::ResetMidBody { after: 1024 }),
        ),
        ("stall", FaultProxy::start(backend.addr, Fault::Stall)),
        ("garbage", FaultProxy::start(backend.addr, Fault::Garbage)),
        ("half", FaultProxy::start(backend.addr, Fault::HalfClose)),
        (
            "drip",
            FaultProxy::start(
                small.addr,
                Fault::Drip {
                    every: Duration::from_micros(200),
                },
            ),
        ),
    ];
    let mut apis: Vec<_> = proxies
        .iter()
        .map(|(name, p)| {
            let options = if *name == "stall" {
                format!("{}{NEVER_SUSPEND}", timeout(100))
            } else {
                NEVER_SUSPEND.to_string()
            };
            send_api(name, &p.url(), &options)
        })
        .collect();
    apis.push(send_api("ok", &backend.url(), ""));
    let home = home_of(apis);
    let server = start(&home);
    let port = server.port(HTTP);
    let pid = server.pid();

    let pick: Arc<load::Pick> = Arc::new(|client, n| {
        let (path, _) = LEAK_ROUTES[(n + client) % LEAK_ROUTES.len()];
        ("GET", path.to_string())
    });
    let check: Arc<load::Check> = Arc::new(|path, outcome| {
        let expect = LEAK_ROUTES
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, e)| *e)
            .ok_or_else(|| format!("unknown path {path}"))?;
        judge(expect, outcome)
    });
    let run = |n| {
        load::run(
            port,
            LEAK_CLIENTS,
            Until::Requests(n),
            pick.clone(),
            check.clone(),
            None,
        )
    };

    let warm = run(LEAK_WARMUP);
    assert_eq!(warm.failed, 0, "{:?}", warm.failures);
    std::thread::sleep(Duration::from_millis(500));
    let (fds_before, rss_before) = (load::fd_count(pid), load::rss_kib(pid));

    let started = Instant::now();
    let tally = run(requests);
    let took = started.elapsed();
    let fds_after = settle(pid, fds_before + FD_SLACK);
    let rss_after = load::rss_kib(pid);
    println!(
        "{requests} faulted requests in {:.1} s ({LEAK_CLIENTS} clients): ok {} refused {} closed {} failed {}; \
         slowest {:?}; fds {fds_before} -> {fds_after}; VmRSS {rss_before} -> {rss_after} KiB",
        took.as_secs_f64(),
        tally.ok,
        tally.refused,
        tally.closed_before_response,
        tally.failed,
        tally.slowest,
    );
    assert_eq!(tally.sent, requests);
    assert_eq!(tally.failed, 0, "{:?}", tally.failures);
    assert_eq!(
        tally.refused + tally.closed_before_response + tally.retried,
        0,
        "{tally:?}"
    );
    assert!(
        tally.slowest < EXCHANGE_BOUND,
        "an exchange took {:?}",
        tally.slowest
    );
    assert!(
        fds_after <= fds_before + FD_SLACK,
        "descriptors grew from {fds_before} to {fds_after}"
    );
    assert!(
        rss_after <= rss_before + RSS_SLACK_KIB,
        "VmRSS grew from {rss_before} KiB to {rss_after} KiB"
    );
    // Still serving, and no connection is left open through the proxies.
    assert_eq!(load::Client::new(port).get("/ok").status(), Some(200));
}

/// Waits (up to 5 s) until `pid` has at most `target` descriptors open; returns the count.
/// Connections the last requests closed take a moment to be released.
fn settle(pid: u32, target: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = load::fd_count(pid);
        if now <= target || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Size of the upload the backend resets in the middle of.
const UPLOAD_BYTES: usize = 8 * 1024 * 1024;

/// A reset while the request body is still streaming to the backend is the backend's failure
/// (MI: `TargetHandler.exception` in REQUEST_BODY, `SND_IO_ERROR`), not the client's: 502 with
/// 101500, at once, and the client's connection is closed since its body was not read to the end.
#[test]
fn a_backend_reset_during_a_large_upload_is_the_backends_failure() {
    let backend = Backend::start(Behaviour::Echo);
    let reset = FaultProxy::start(backend.addr, Fault::ResetBeforeResponse);
    let home = home_of(vec![(
        "api/upload.xml".into(),
        api(
            "upload",
            "/upload",
            &format!(
                r#"<resource methods="POST" url-mapping="/*">
        <inSequence><send><endpoint><address uri="{}/upload">{NEVER_SUSPEND}</address></endpoint></send></inSequence>
    </resource>"#,
                reset.url()
            ),
        ),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);

    let started = Instant::now();
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(EXCHANGE_BOUND))
        .expect("timeout");
    let mut writer = stream.try_clone().expect("clone");
    let upload = std::thread::spawn(move || {
        use std::io::Write;
        let head = format!(
            "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Type: application/octet-stream\r\nContent-Length: {UPLOAD_BYTES}\r\n\r\n"
        );
        writer.write_all(head.as_bytes())?;
        let chunk = vec![b'u'; 64 * 1024];
        for _ in 0..UPLOAD_BYTES / chunk.len() {
            writer.write_all(&chunk)?;
        }
        Ok::<(), std::io::Error>(())
    });
    let mut raw = Vec::new();
    let _ = std::io::Read::read_to_end(&mut (&stream), &mut raw);
    let took = started.elapsed();
    let _ = upload.join();
    let text = String::from_utf8_lossy(&raw);
    assert!(took < EXCHANGE_BOUND, "took {took:?}");
    assert!(text.starts_with("HTTP/1.1 502"), "{text}");
    assert!(text.contains("101500"), "{text}");
}
