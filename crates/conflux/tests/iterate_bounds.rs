//! The bound on the branches of one message that run at once (`[mediation]
//! max_inflight_branches`, mediation's `runtime::limits::DEFAULT_MAX_INFLIGHT_BRANCHES`, MI's 20
//! Synapse worker threads: SYN `util/concurrent/SynapseThreadPool.java`), end to end through the
//! binary: an `<iterate>` whose parts each `<call>` a backend that counts the requests it holds
//! at once, then `<aggregate>` (SYN `mediators/eip/splitter/IterateMediator.java`,
//! `mediators/eip/aggregator/AggregateMediator.java`). Also: `sequential="true"` runs one part at
//! a time in order, and an aggregation that completes by its timeout answers with the parts that
//! arrived while the parts whose replies never come are abandoned.
//!
//! The backend ([`Gate`]) holds each request until `hold_until` requests are in flight or no
//! request has arrived for a quiet period, so the parts the bound lets through are all in flight
//! together (the most seen is the bound exactly), and one part more than the bound would be seen.

mod support;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use support::backend::request;
use support::*;

/// How long the backend waits with no new request before it lets the held ones go: long enough
/// for the parts started together to all arrive on a loaded machine.
const QUIET: Duration = Duration::from_millis(400);

#[derive(Default)]
struct Counts {
    in_flight: usize,
    max: usize,
    total: usize,
    last_arrival: Option<Instant>,
}

/// An in-process JSON backend on 127.0.0.1:0 that counts the requests it holds at once; it
/// answers `{"v": n}` with the request's own body, and never answers a request whose `v` is in
/// `stall`.
struct Gate {
    addr: std::net::SocketAddr,
    counts: Arc<Mutex<Counts>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Gate {
    fn start(hold_until: usize, quiet: Duration, stall: fn(i64) -> bool) -> Gate {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("gate runtime");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind gate");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("gate addr");
        let counts = Arc::new(Mutex::new(Counts::default()));
        let shared = counts.clone();
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("register gate");
            while let Ok((stream, _)) = listener.accept().await {
                let counts = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        hold(req, counts.clone(), hold_until, quiet, stall)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Gate {
            addr,
            counts,
            runtime: Some(runtime),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The most requests held at once, and how many arrived.
    fn seen(&self) -> (usize, usize) {
        let c = self.counts.lock().expect("counts");
        (c.max, c.total)
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn hold(
    req: Request<hyper::body::Incoming>,
    counts: Arc<Mutex<Counts>>,
    hold_until: usize,
    quiet: Duration,
    stall: fn(i64) -> bool,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let v = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|j| j["v"].as_i64())
        .unwrap_or(-1);
    {
        let mut c = counts.lock().expect("counts");
        c.in_flight += 1;
        c.total += 1;
        c.max = c.max.max(c.in_flight);
        c.last_arrival = Some(Instant::now());
    }
    if stall(v) {
        // Counted as in flight for good: its reply never comes.
        std::future::pending::<()>().await;
    }
    loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let c = counts.lock().expect("counts");
        if c.in_flight >= hold_until || c.last_arrival.is_some_and(|t| t.elapsed() >= quiet) {
            break;
        }
    }
    // Out of flight before the reply leaves, so the next part's request is never counted with it.
    counts.lock().expect("counts").in_flight -= 1;
    Ok(Response::builder()
        .header("Content-Type", "application/json")
        .body(Full::new(body))
        .expect("response"))
}

/// An API whose POST iterates over `$.items`, calls `url` with each, and aggregates the replies'
/// `v` (with `timeout` seconds) into the answer.
fn iterating_api(url: &str, sequential: bool, timeout: u32) -> String {
    api(
        "I",
        "/i",
        &format!(
            r#"<resource methods="POST">
        <inSequence>
            <iterate expression="json-eval($.items)" sequential="{sequential}">
                <target>
                    <sequence>
                        <call><endpoint><address uri="{url}/item"/></endpoint></call>
                        <aggregate>
                            <completeCondition timeout="{timeout}"><messageCount min="-1" max="-1"/></completeCondition>
                            <onComplete expression="json-eval($.v)">
                                <respond/>
                            </onComplete>
                        </aggregate>
                    </sequence>
                </target>
            </iterate>
        </inSequence>
    </resource>"#
        ),
    )
}

fn home(deployment_toml: &str, api: String) -> Home {
    let home = Home::new(deployment_toml);
    home.write(&format!("{SYNAPSE}/api/I.xml"), &api);
    home
}

/// Posts `{"items": [{"v": 0}, ..., {"v": n - 1}]}` and reads the aggregated `v`s.
fn post_items(server: &Server, n: usize) -> Vec<i64> {
    let items: Vec<serde_json::Value> = (0..n).map(|v| serde_json::json!({ "v": v })).collect();
    let body = serde_json::json!({ "items": items }).to_string();
    let r = request(
        "POST",
        server.port(HTTP),
        "/i",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{r:?}\n{}", server.output());
    match serde_json::from_slice::<serde_json::Value>(&r.body) {
        Ok(serde_json::Value::Array(values)) => values
            .iter()
            .map(|v| v.as_i64().unwrap_or_else(|| panic!("{v}")))
            .collect(),
        other => panic!("{other:?}: {}", r.text()),
    }
}

fn sorted(mut values: Vec<i64>) -> Vec<i64> {
    values.sort_unstable();
    values
}

#[test]
fn an_iterate_of_50_calls_the_backend_at_most_4_at_once_and_aggregates_all() {
    let limit = 4;
    // Holding until limit + 1 are in flight: one part over the bound would be seen at once.
    let gate = Gate::start(limit + 1, QUIET, |_| false);
    let home = home(
        &format!("[mediation]\nmax_inflight_branches = {limit}\n"),
        iterating_api(&gate.url(), false, 120),
    );
    let server = start(&home);
    let values = post_items(&server, 50);
    assert_eq!(sorted(values), (0..50).collect::<Vec<_>>());
    let (max, total) = gate.seen();
    assert_eq!(total, 50);
    assert_eq!(max, limit, "{}", server.output());
}

#[test]
fn the_default_bound_is_20_parts_at_once() {
    // DEFAULT_MAX_INFLIGHT_BRANCHES + 1 parts, none configured.
    let gate = Gate::start(21, QUIET, |_| false);
    let home = home("", iterating_api(&gate.url(), false, 120));
    let server = start(&home);
    let values = post_items(&server, 21);
    assert_eq!(sorted(values), (0..21).collect::<Vec<_>>());
    assert_eq!(gate.seen(), (20, 21), "{}", server.output());
}

#[test]
fn sequential_parts_call_the_backend_one_at_a_time_in_order() {
    let gate = Gate::start(2, QUIET, |_| false);
    let home = home("", iterating_api(&gate.url(), true, 120));
    let server = start(&home);
    // In order: sequential parts arrive at the aggregate one after the other.
    assert_eq!(post_items(&server, 8), (0..8).collect::<Vec<_>>());
    assert_eq!(gate.seen(), (1, 8), "{}", server.output());
}

#[test]
fn an_aggregation_timeout_answers_with_what_arrived_and_abandons_the_rest() {
    // Parts 0, 3, 6 and 9 never get a reply. With 4 at once: 0 and 3 hold two places while
    // 1, 2, 4, 5, 7 and 8 pass through the other two, then 6 and 9 fill them and the parts have
    // nothing left to run; the aggregation completes by its 3 s timeout with the six that came.
    let gate = Gate::start(usize::MAX, Duration::from_millis(100), |v| v % 3 == 0);
    let home = home(
        "[mediation]\nmax_inflight_branches = 4\n",
        iterating_api(&gate.url(), false, 3),
    );
    let server = start(&home);
    let values = post_items(&server, 10);
    assert_eq!(sorted(values), vec![1, 2, 4, 5, 7, 8]);
    let (max, total) = gate.seen();
    assert_eq!(total, 10);
    assert!(max <= 4, "{max}");
    // The server goes on serving.
    let values = post_items(&server, 2);
    assert_eq!(sorted(values), vec![1]);
}
