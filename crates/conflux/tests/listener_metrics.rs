//! End to end through the real binary: the client-facing listeners' protection counters
//! (`conflux_listener_*` on `/metric-service/metrics`, and Jolokia's listener MBeans) move by
//! exactly what a test provokes over real sockets: a request head past `client_header_timeout`,
//! connections over `max_open_connections`, a stalled request body past `client_body_timeout`, an
//! idle connection past `client_keepalive_timeout` and a client that leaves while its request
//! waits for a backend (RELIABILITY.md §1, §3).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::backend::{Backend, Behaviour};
use support::*;

/// Longest a test waits for a connection count to settle (connections close asynchronously).
const SETTLE: Duration = Duration::from_secs(20);

/// The value of `family{listener="<listener>",}` in an exposition, if present.
fn listener_sample(text: &str, family: &str, listener: &str) -> Option<f64> {
    let prefix = format!("{family}{{listener=\"{listener}\",}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.parse().ok())
}

/// One scrape of the metrics endpoint with a real HTTP client.
fn scrape(internal: u16) -> String {
    let r = get(internal, "/metric-service/metrics");
    assert_eq!(r.status, 200, "{r:?}");
    r.text()
}

/// Every `conflux_listener_*` counter of `listener`, in the order of `FAMILIES`.
fn counters(text: &str, listener: &str) -> [f64; 7] {
    FAMILIES.map(|f| {
        listener_sample(text, f, listener)
            .unwrap_or_else(|| panic!("no {f} for listener {listener}:\n{text}"))
    })
}

const ACCEPTED: &str = "conflux_listener_connections_accepted_total";
const REFUSED: &str = "conflux_listener_connections_refused_total";
const HEADER: &str = "conflux_listener_header_timeouts_total";
const BODY: &str = "conflux_listener_body_timeouts_total";
const SEND: &str = "conflux_listener_send_timeouts_total";
const KEEPALIVE: &str = "conflux_listener_keepalive_timeouts_total";
const CLIENT_CLOSED: &str = "conflux_listener_client_closed_requests_total";
const IN_FLIGHT: &str = "conflux_listener_in_flight_requests";
const OPEN: &str = "conflux_listener_open_connections";
const MAX_OPEN: &str = "conflux_listener_max_open_connections";
const FAMILIES: [&str; 7] = [
    ACCEPTED,
    REFUSED,
    HEADER,
    BODY,
    SEND,
    KEEPALIVE,
    CLIENT_CLOSED,
];

/// Scrapes until the http listener serves `open` connections (bounded by [`SETTLE`]); returns
/// the last exposition.
fn wait_for_open(internal: u16, open: f64) -> String {
    wait_for(internal, OPEN, open)
}

/// Scrapes until the http listener's `family` reads `value` (bounded by [`SETTLE`]); returns the
/// last exposition.
fn wait_for(internal: u16, family: &str, value: f64) -> String {
    let deadline = Instant::now() + SETTLE;
    loop {
        let text = scrape(internal);
        let now = listener_sample(&text, family, "http");
        if now == Some(value) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "the http listener's {family} is still {now:?}, not {value}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// Everything the server sends until it closes.
fn read_to_close(mut s: TcpStream) -> String {
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    String::from_utf8_lossy(&raw).into_owned()
}

fn jolokia(port: u16, path: &str) -> serde_json::Value {
    let r = get(port, path);
    assert_eq!(r.status, 200, "{r:?}");
    serde_json::from_slice(&r.body).expect("Jolokia JSON")
}

// One head past `client_header_timeout` and one connection over `max_open_connections`: the
// http listener's counters move by exactly one each, its open-connections gauge follows the held
// connections, and no other counter or listener moves.
#[test]
fn a_head_timeout_and_a_refusal_over_the_cap_are_counted_exactly() {
    let home = Home::new(
        "[server]\nhostname = \"localhost\"\n[transport.http]\nclient_header_timeout = 500\nmax_open_connections = 2\n",
    );
    let server = start(&home);
    let (http, internal) = (server.port(HTTP), server.port(INTERNAL_HTTP));

    let before = scrape(internal);
    assert_eq!(counters(&before, "http"), [0.0; 7], "{before}");
    assert_eq!(counters(&before, "https"), [0.0; 7], "{before}");
    assert_eq!(listener_sample(&before, OPEN, "http"), Some(0.0));
    assert_eq!(listener_sample(&before, MAX_OPEN, "http"), Some(2.0));
    assert_eq!(listener_sample(&before, MAX_OPEN, "https"), Some(2.0));
    // The internal listener keeps its own defaults (and counts this scrape).
    assert_eq!(
        listener_sample(&before, MAX_OPEN, "internal_http"),
        Some(10_000.0)
    );
    assert!(listener_sample(&before, ACCEPTED, "internal_http").is_some_and(|n| n >= 1.0));
    let internal_header_before = listener_sample(&before, HEADER, "internal_http");

    // A head that never completes: 408 at the deadline.
    let mut slow = connect(http);
    slow.write_all(b"GET /x HTTP/1.1\r\nHost: localhost\r\n")
        .unwrap();
    let answer = read_to_close(slow);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let after_timeout = wait_for_open(internal, 0.0);
    assert_eq!(
        counters(&after_timeout, "http"),
        [1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
        "{after_timeout}"
    );

    // Two idle connections fill the cap; the third is refused with 503 at once.
    let held = [connect(http), connect(http)];
    wait_for_open(internal, 2.0);
    let refused = read_to_close(connect(http));
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    let at_cap = scrape(internal);
    assert_eq!(listener_sample(&at_cap, OPEN, "http"), Some(2.0));
    assert_eq!(
        counters(&at_cap, "http"),
        [3.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0],
        "{at_cap}"
    );

    // The same figures through Jolokia, on MI's attributes and Conflux's listener MBean.
    let jmx = server.port(JMX);
    let bean = jolokia(
        jmx,
        "/jolokia/read/org.wso2.conflux:type=Listener,name=http",
    );
    assert_eq!(bean["value"]["ConnectionsRefused"], 1, "{bean}");
    assert_eq!(bean["value"]["HeaderTimeouts"], 1, "{bean}");
    assert_eq!(bean["value"]["OpenConnections"], 2, "{bean}");
    assert_eq!(bean["value"]["MaxOpenConnections"], 2, "{bean}");
    let transport = jolokia(
        jmx,
        "/jolokia/read/org.apache.synapse:Type=Transport,Name=passthru-http-receiver/TimeoutsReceiving",
    );
    assert_eq!(transport["value"], 1, "{transport}");
    let connections = jolokia(
        jmx,
        "/jolokia/read/org.apache.synapse:Type=PassThroughConnections,Name=http-listener/ActiveConnections",
    );
    assert_eq!(connections["value"], 2, "{connections}");

    // Closed by the client: the gauge drops, and nothing else moves.
    drop(held);
    let after = wait_for_open(internal, 0.0);
    assert_eq!(
        counters(&after, "http"),
        [3.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0],
        "{after}"
    );
    assert_eq!(counters(&after, "https"), [0.0; 7], "{after}");
    assert_eq!(
        listener_sample(&after, HEADER, "internal_http"),
        internal_header_before
    );
    // Served normally once below the cap again.
    assert_ne!(get(http, "/nothing-here").status, 503);
}

const READ_BODY_API: &str = r#"<api xmlns="http://ws.apache.org/ns/synapse" name="ReadBody" context="/read">
    <resource methods="POST" url-mapping="/*">
        <inSequence>
            <log level="full"/>
            <respond/>
        </inSequence>
    </resource>
</api>"#;

// A body stalled past `client_body_timeout` and a connection idle past
// `client_keepalive_timeout`: one body timeout and one keep-alive timeout, nothing else.
#[test]
fn a_stalled_body_and_an_idle_connection_are_counted_exactly() {
    let home = Home::new(
        "[server]\nhostname = \"localhost\"\n[transport.http]\nclient_body_timeout = 300\nclient_keepalive_timeout = 300\n",
    );
    home.write(&format!("{SYNAPSE}/api/ReadBody.xml"), READ_BODY_API);
    let server = start(&home);
    let (http, internal) = (server.port(HTTP), server.port(INTERNAL_HTTP));
    assert_eq!(counters(&scrape(internal), "http"), [0.0; 7]);

    // 10 of 100 announced bytes, then nothing: 408.
    let mut stalled = connect(http);
    stalled
        .write_all(b"POST /read/x HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n0123456789")
        .unwrap();
    let answer = read_to_close(stalled);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let text = wait_for_open(internal, 0.0);
    assert_eq!(
        counters(&text, "http"),
        [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        "{text}"
    );

    // Connected, never a byte: closed without an answer.
    let idle = connect(http);
    let answer = read_to_close(idle);
    assert_eq!(answer, "", "an idle connection is closed without an answer");
    let text = wait_for_open(internal, 0.0);
    assert_eq!(
        counters(&text, "http"),
        [2.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0],
        "{text}"
    );
}

// A client that sends its request and closes while the backend has not answered: the exchange is
// given up and counted once; the in-flight and open gauges return to 0.
#[test]
fn a_client_leaving_before_its_response_is_counted_once() {
    let backend = Backend::start(Behaviour::Stall);
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    home.write(
        &format!("{SYNAPSE}/api/Stalled.xml"),
        &api(
            "Stalled",
            "/stalled",
            &format!(
                r#"<resource methods="GET" url-mapping="/*">
        <inSequence><send><endpoint><address uri="{}/x"/></endpoint></send></inSequence>
    </resource>"#,
                backend.url()
            ),
        ),
    );
    let server = start(&home);
    let (http, internal) = (server.port(HTTP), server.port(INTERNAL_HTTP));

    let mut client = connect(http);
    client
        .write_all(b"GET /stalled/x HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let waiting = wait_for(internal, IN_FLIGHT, 1.0);
    assert_eq!(
        counters(&waiting, "http"),
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    );
    drop(client);

    let text = wait_for(internal, CLIENT_CLOSED, 1.0);
    let text = if listener_sample(&text, IN_FLIGHT, "http") == Some(0.0) {
        text
    } else {
        wait_for(internal, IN_FLIGHT, 0.0)
    };
    assert_eq!(
        counters(&text, "http"),
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
        "{text}"
    );
    wait_for_open(internal, 0.0);
}
