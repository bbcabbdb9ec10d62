//! Prometheus metrics at `GET /metric-service/metrics` on the internal HTTP port, in the classic
//! text exposition format 0.0.4 that MI's simpleclient serves, with MI's metric families and labels
//! (wso2/micro-integrator `components/mediation/data-publishers/org.wso2.micro.integrator.observability/
//! .../util/MetricConstants.java` for names and label names, `.../prometheus/reporter/
//! PrometheusReporter.java` for help texts, types and default latency buckets).
//!
//! Conflux adds its own families for the listener protections (`conflux_listener_*`, one sample per
//! listener with a `listener` label, see [`LISTENER_FAMILIES`]): MI has no such protections and so
//! no such metrics, so they live outside MI's `wso2_integration_` namespace, as Conflux's own MBeans
//! live in `org.wso2.conflux` next to Synapse's in monitoring.
//!
//! The numbers come from an [`Observed`] source (the binary bridges it to the pass-through's atomic
//! counters); this module only reads snapshots and encodes them, so a scrape never blocks a
//! request. The encoder is ours rather than prometheus-client's: its histogram takes a lock per
//! observation, and MI's HELP lines would gain a trailing '.'.

use std::fmt::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use http::{Response, StatusCode, header};

use crate::status::ServerStatus;

/// MI's `MetricConstants` family names.
pub const API_REQUEST_COUNT_TOTAL: &str = "wso2_integration_api_request_count_total";
pub const API_REQUEST_COUNT_ERROR_TOTAL: &str = "wso2_integration_api_request_count_error_total";
pub const API_LATENCY_SECONDS: &str = "wso2_integration_api_latency_seconds";
pub const PROXY_REQUEST_COUNT_TOTAL: &str = "wso2_integration_proxy_request_count_total";
pub const PROXY_REQUEST_COUNT_ERROR_TOTAL: &str =
    "wso2_integration_proxy_request_count_error_total";
pub const PROXY_LATENCY_SECONDS: &str = "wso2_integration_proxy_latency_seconds";
pub const INBOUND_ENDPOINT_REQUEST_COUNT_TOTAL: &str =
    "wso2_integration_inbound_endpoint_request_count_total";
pub const INBOUND_ENDPOINT_REQUEST_COUNT_ERROR_TOTAL: &str =
    "wso2_integration_inbound_endpoint_request_count_error_total";
pub const INBOUND_ENDPOINT_LATENCY_SECONDS: &str =
    "wso2_integration_inbound_endpoint_latency_seconds";
pub const SERVER_UP: &str = "wso2_integration_server_up";
pub const SERVICE_UP: &str = "wso2_integration_service_up";
pub const SERVER_VERSION: &str = "wso2_integration_server_version";

/// Conflux's listener families: one counter per protection of the client-facing listeners, named
/// after the `[transport.http]` key that sets its limit, plus two gauges.
pub const LISTENER_CONNECTIONS_ACCEPTED_TOTAL: &str = "conflux_listener_connections_accepted_total";
pub const LISTENER_CONNECTIONS_REFUSED_TOTAL: &str = "conflux_listener_connections_refused_total";
pub const LISTENER_HEADER_TIMEOUTS_TOTAL: &str = "conflux_listener_header_timeouts_total";
pub const LISTENER_BODY_TIMEOUTS_TOTAL: &str = "conflux_listener_body_timeouts_total";
pub const LISTENER_SEND_TIMEOUTS_TOTAL: &str = "conflux_listener_send_timeouts_total";
pub const LISTENER_KEEPALIVE_TIMEOUTS_TOTAL: &str = "conflux_listener_keepalive_timeouts_total";
pub const LISTENER_CLIENT_CLOSED_REQUESTS_TOTAL: &str =
    "conflux_listener_client_closed_requests_total";
pub const LISTENER_IN_FLIGHT_REQUESTS: &str = "conflux_listener_in_flight_requests";
pub const LISTENER_OPEN_CONNECTIONS: &str = "conflux_listener_open_connections";
pub const LISTENER_MAX_OPEN_CONNECTIONS: &str = "conflux_listener_max_open_connections";

/// Every listener family with its help text and type, in exposition order.
pub const LISTENER_FAMILIES: [(&str, &str, &str); 10] = [
    (
        LISTENER_CONNECTIONS_ACCEPTED_TOTAL,
        "Total number of client connections accepted and served by a listener",
        "counter",
    ),
    (
        LISTENER_CONNECTIONS_REFUSED_TOTAL,
        "Total number of client connections refused because the listener was at max_open_connections (HTTP: 503, TLS: closed)",
        "counter",
    ),
    (
        LISTENER_HEADER_TIMEOUTS_TOTAL,
        "Total number of request heads not complete within client_header_timeout (408)",
        "counter",
    ),
    (
        LISTENER_BODY_TIMEOUTS_TOTAL,
        "Total number of request bodies cut by client_body_timeout or client_body_min_rate (408)",
        "counter",
    ),
    (
        LISTENER_SEND_TIMEOUTS_TOTAL,
        "Total number of connections reset because the client read the response too slowly (client_send_timeout, client_send_min_rate)",
        "counter",
    ),
    (
        LISTENER_KEEPALIVE_TIMEOUTS_TOTAL,
        "Total number of idle connections closed after client_keepalive_timeout without a request",
        "counter",
    ),
    (
        LISTENER_CLIENT_CLOSED_REQUESTS_TOTAL,
        "Total number of requests given up because the client closed its connection before the response was complete (mediation and the backend call cancelled, or the response cut)",
        "counter",
    ),
    (
        LISTENER_IN_FLIGHT_REQUESTS,
        "Number of requests a listener is handling or answering now",
        "gauge",
    ),
    (
        LISTENER_OPEN_CONNECTIONS,
        "Number of client connections a listener is serving now",
        "gauge",
    ),
    (
        LISTENER_MAX_OPEN_CONNECTIONS,
        "Most client connections a listener serves at once (max_open_connections; +Inf without a cap)",
        "gauge",
    ),
];

/// The content type of the classic text format (simpleclient's `TextFormat.CONTENT_TYPE_004`).
pub const CONTENT_TYPE_004: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The path MI's `MetricAPI` serves.
pub const METRICS_PATH: &str = "/metric-service/metrics";

/// Most `name[]` filters honoured in one scrape (a longer query is refused with 400).
pub const MAX_NAME_FILTERS: usize = 64;

/// One API, proxy service or inbound endpoint with its counters.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceStats {
    /// MI's `service_type` label: `api`, `proxy` or `inbound-endpoint`.
    pub service_type: &'static str,
    pub name: String,
    /// MI's `invocation_url` label (APIs only): the API context.
    pub invocation_url: String,
    pub requests: u64,
    pub errors: u64,
    /// Upper bounds of the latency buckets in seconds, without `+Inf`.
    pub latency_bounds: &'static [f64],
    /// Cumulative counts per bound, then `+Inf`.
    pub cumulative_buckets: Vec<u64>,
    pub latency_sum_seconds: f64,
}

/// One pass-through listener's counters.
#[derive(Debug, Clone, PartialEq)]
pub struct TransportStats {
    /// `http` or `https`.
    pub name: &'static str,
    pub port: u16,
    pub requests: u64,
    pub faults: u64,
}

/// One client-facing listener's protection counters (Conflux's; MI has no equivalent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListenerCounters {
    /// The `listener` label: the port's role name as `conflux ports` prints it (`http`, `https`,
    /// `internal_http`, `internal_https`, `jmx_rmi_registry`).
    pub listener: &'static str,
    pub port: u16,
    pub accepted: u64,
    pub refused_over_cap: u64,
    pub header_timeouts: u64,
    pub body_timeouts: u64,
    pub send_timeouts: u64,
    pub keepalive_timeouts: u64,
    /// Requests given up because their client left before the response was complete.
    pub client_closed: u64,
    /// Requests being handled or answered now.
    pub in_flight: u64,
    /// Connections served now.
    pub open: u64,
    /// The connection cap; `None` is no cap.
    pub max_open: Option<u64>,
}

impl ListenerCounters {
    /// The value of one of [`LISTENER_FAMILIES`] for this listener (`None` for another name).
    pub fn value(&self, family: &str) -> Option<f64> {
        let v = match family {
            LISTENER_CONNECTIONS_ACCEPTED_TOTAL => self.accepted,
            LISTENER_CONNECTIONS_REFUSED_TOTAL => self.refused_over_cap,
            LISTENER_HEADER_TIMEOUTS_TOTAL => self.header_timeouts,
            LISTENER_BODY_TIMEOUTS_TOTAL => self.body_timeouts,
            LISTENER_SEND_TIMEOUTS_TOTAL => self.send_timeouts,
            LISTENER_KEEPALIVE_TIMEOUTS_TOTAL => self.keepalive_timeouts,
            LISTENER_CLIENT_CLOSED_REQUESTS_TOTAL => self.client_closed,
            LISTENER_IN_FLIGHT_REQUESTS => self.in_flight,
            LISTENER_OPEN_CONNECTIONS => self.open,
            LISTENER_MAX_OPEN_CONNECTIONS => {
                return Some(self.max_open.map_or(f64::INFINITY, |cap| cap as f64));
            }
            _ => return None,
        };
        Some(v as f64)
    }
}

/// One endpoint definition and its state (`ACTIVE`, `TIMEOUT`, `SUSPENDED`, `OFF`).
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointStats {
    pub name: String,
    pub state: String,
}

/// What the server exposes to metrics and monitoring; implemented by the binary over the live
/// deployment. Each call takes a fresh snapshot.
pub trait Observed: Send + Sync {
    fn services(&self) -> Vec<ServiceStats>;
    fn transports(&self) -> Vec<TransportStats>;
    fn endpoints(&self) -> Vec<EndpointStats>;
    /// The client-facing listeners' protection counters; none by default.
    fn listeners(&self) -> Vec<ListenerCounters> {
        Vec::new()
    }
}

/// The Prometheus endpoint.
#[derive(Clone)]
pub struct Metrics {
    status: Arc<ServerStatus>,
    observed: Arc<dyn Observed>,
    /// The `host` label of `wso2_integration_server_up`.
    host: String,
    /// The `port` label of `wso2_integration_server_up` (MI: the HTTP pass-through port).
    port: u16,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Metrics {
    pub fn new(
        status: Arc<ServerStatus>,
        observed: Arc<dyn Observed>,
        host: String,
        port: u16,
    ) -> Self {
        Metrics {
            status,
            observed,
            host,
            port,
        }
    }

    /// Answers `GET /metric-service/metrics[?name[]=family...]`.
    pub fn handle(&self, query: Option<&str>) -> Response<Bytes> {
        let filters = match name_filters(query.unwrap_or("")) {
            Ok(f) => f,
            Err(message) => {
                let mut r = Response::new(Bytes::from(message));
                *r.status_mut() = StatusCode::BAD_REQUEST;
                return r;
            }
        };
        let mut r = Response::new(Bytes::from(self.render(&filters)));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static(CONTENT_TYPE_004),
        );
        r
    }

    /// The exposition text; `filters` (family names) keep only those families when not empty.
    pub fn render(&self, filters: &[String]) -> String {
        let services = self.observed.services();
        let mut out = String::with_capacity(4096);
        let wanted = |family: &str| filters.is_empty() || filters.iter().any(|f| f == family);

        let started = self.status.started_at_epoch_ms() as f64 / 1000.0;
        if wanted(SERVER_UP) {
            family(&mut out, SERVER_UP, "Server Status", "gauge");
            sample(
                &mut out,
                SERVER_UP,
                &[("host", &self.host), ("port", &self.port.to_string())],
                if self.status.is_started() {
                    started
                } else {
                    0.0
                },
            );
        }
        if wanted(SERVER_VERSION) {
            family(
                &mut out,
                SERVER_VERSION,
                "Version and Update Level of Server",
                "gauge",
            );
            let update_level = std::env::var("UPDATE_LEVEL").unwrap_or_default();
            sample(
                &mut out,
                SERVER_VERSION,
                &[
                    ("version", self.status.version),
                    ("update_level", &update_level),
                ],
                // MI sets this gauge to the time it was set (epoch seconds), like server_up.
                started,
            );
        }
        if wanted(SERVICE_UP) {
            family(&mut out, SERVICE_UP, "Service Status", "gauge");
            for s in &services {
                sample(
                    &mut out,
                    SERVICE_UP,
                    &[("service_name", &s.name), ("service_type", s.service_type)],
                    started,
                );
            }
        }

        for kind in [KIND_PROXY, KIND_API, KIND_INBOUND] {
            let of_kind: Vec<&ServiceStats> = services
                .iter()
                .filter(|s| s.service_type == kind.service_type)
                .collect();
            let labels = |s: &ServiceStats| -> Vec<(&'static str, String)> {
                let mut l = vec![
                    ("service_name", s.name.clone()),
                    ("service_type", s.service_type.to_string()),
                ];
                if kind.with_invocation_url {
                    l.push(("invocation_url", s.invocation_url.clone()));
                }
                l
            };
            if wanted(kind.total) {
                family(&mut out, kind.total, kind.total_help, "counter");
                for s in &of_kind {
                    sample(
                        &mut out,
                        kind.total,
                        &as_refs(&labels(s)),
                        s.requests as f64,
                    );
                }
            }
            if wanted(kind.errors) {
                family(&mut out, kind.errors, kind.errors_help, "counter");
                for s in &of_kind {
                    sample(&mut out, kind.errors, &as_refs(&labels(s)), s.errors as f64);
                }
            }
            if wanted(kind.latency) {
                family(&mut out, kind.latency, kind.latency_help, "histogram");
                for s in &of_kind {
                    histogram(&mut out, kind.latency, &labels(s), s);
                }
            }
        }

        let listeners = self.observed.listeners();
        for (name, help, kind) in LISTENER_FAMILIES {
            if !wanted(name) {
                continue;
            }
            family(&mut out, name, help, kind);
            for l in &listeners {
                if let Some(value) = l.value(name) {
                    sample(&mut out, name, &[("listener", l.listener)], value);
                }
            }
        }
        out
    }
}

struct Kind {
    service_type: &'static str,
    with_invocation_url: bool,
    total: &'static str,
    total_help: &'static str,
    errors: &'static str,
    errors_help: &'static str,
    latency: &'static str,
    latency_help: &'static str,
}

// Help texts as MI registers them (`.../metric/publisher/prometheus/reporter/PrometheusReporter.java`
// `initialize*Metrics`).
const KIND_PROXY: Kind = Kind {
    service_type: "proxy",
    with_invocation_url: false,
    total: PROXY_REQUEST_COUNT_TOTAL,
    total_help: "Total number of requests to a proxy service",
    errors: PROXY_REQUEST_COUNT_ERROR_TOTAL,
    errors_help: "Total number of error requests to a proxy service",
    latency: PROXY_LATENCY_SECONDS,
    latency_help: "Latency of requests to a proxy service",
};
const KIND_API: Kind = Kind {
    service_type: "api",
    with_invocation_url: true,
    total: API_REQUEST_COUNT_TOTAL,
    total_help: "Total number of requests to an api",
    errors: API_REQUEST_COUNT_ERROR_TOTAL,
    errors_help: "Total number of error requests to an api",
    latency: API_LATENCY_SECONDS,
    latency_help: "Latency of requests to an api",
};
const KIND_INBOUND: Kind = Kind {
    service_type: "inbound-endpoint",
    with_invocation_url: false,
    total: INBOUND_ENDPOINT_REQUEST_COUNT_TOTAL,
    total_help: "Total number of requests to an inbound endpoint.",
    errors: INBOUND_ENDPOINT_REQUEST_COUNT_ERROR_TOTAL,
    errors_help: "Total number of error requests when receiving the message by an inbound endpoint.",
    latency: INBOUND_ENDPOINT_LATENCY_SECONDS,
    latency_help: "Latency of requests to an inbound endpoint.",
};

fn as_refs<'a>(labels: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    labels.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn family(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// One sample line in simpleclient's shape: `name{a="x",b="y",} 1.0`.
fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (k, v) in labels {
            let _ = write!(out, "{k}=\"{}\",", escape_label(v));
        }
        out.push('}');
    }
    out.push(' ');
    out.push_str(&java_double(value));
    out.push('\n');
}

fn histogram(out: &mut String, name: &str, labels: &[(&'static str, String)], s: &ServiceStats) {
    let base = as_refs(labels);
    let bucket = format!("{name}_bucket");
    let bounds = s
        .latency_bounds
        .iter()
        .map(|b| java_double(*b))
        .chain(std::iter::once("+Inf".to_string()));
    for (bound, count) in bounds.zip(&s.cumulative_buckets) {
        let mut l = base.clone();
        l.push(("le", &bound));
        sample(out, &bucket, &l, *count as f64);
    }
    let count = s.cumulative_buckets.last().copied().unwrap_or(0);
    sample(out, &format!("{name}_count"), &base, count as f64);
    sample(out, &format!("{name}_sum"), &base, s.latency_sum_seconds);
}

/// Java's `Double.toString` for the values that occur here: integers as `3.0`, others shortest.
fn java_double(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if v.is_nan() {
        return "NaN".into();
    }
    if v.fract() == 0.0 && v.abs() < 1e7 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// The `name[]=family` parameters of the query (MI's `MetricResource` honours them).
fn name_filters(query: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "name[]" || key == "name%5B%5D" || key == "name%5b%5d" {
            if names.len() == MAX_NAME_FILTERS {
                return Err(format!(
                    "too many name[] filters: at most {MAX_NAME_FILTERS} are accepted"
                ));
            }
            names.push(value.to_string());
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Observed for Fixed {
        fn services(&self) -> Vec<ServiceStats> {
            vec![
                ServiceStats {
                    service_type: "api",
                    name: "Hello\"API".into(),
                    invocation_url: "/hello".into(),
                    requests: 3,
                    errors: 1,
                    latency_bounds: &[0.19, 5.0],
                    cumulative_buckets: vec![2, 3, 3],
                    latency_sum_seconds: 0.25,
                },
                ServiceStats {
                    service_type: "proxy",
                    name: "Echo".into(),
                    invocation_url: "/services/Echo".into(),
                    requests: 0,
                    errors: 0,
                    latency_bounds: &[0.19, 5.0],
                    cumulative_buckets: vec![0, 0, 0],
                    latency_sum_seconds: 0.0,
                },
            ]
        }
        fn transports(&self) -> Vec<TransportStats> {
            Vec::new()
        }
        fn endpoints(&self) -> Vec<EndpointStats> {
            Vec::new()
        }
        fn listeners(&self) -> Vec<ListenerCounters> {
            vec![
                ListenerCounters {
                    listener: "http",
                    port: 8290,
                    accepted: 7,
                    refused_over_cap: 2,
                    header_timeouts: 3,
                    body_timeouts: 4,
                    send_timeouts: 5,
                    keepalive_timeouts: 6,
                    client_closed: 8,
                    in_flight: 9,
                    open: 1,
                    max_open: Some(10_000),
                },
                ListenerCounters {
                    listener: "internal_http",
                    port: 9201,
                    max_open: None,
                    ..ListenerCounters::default()
                },
            ]
        }
    }

    fn metrics() -> Metrics {
        let status = Arc::new(ServerStatus::new("1.2.3", 10));
        status.set_started();
        Metrics::new(status, Arc::new(Fixed), "localhost".into(), 8290)
    }

    #[test]
    fn families_and_labels_follow_mi_metric_constants() {
        let text = metrics().render(&[]);
        assert!(text.contains("# TYPE wso2_integration_api_request_count_total counter\n"));
        assert!(text.contains(
            "wso2_integration_api_request_count_total{service_name=\"Hello\\\"API\",service_type=\"api\",invocation_url=\"/hello\",} 3.0\n"
        ));
        assert!(text.contains(
            "wso2_integration_api_request_count_error_total{service_name=\"Hello\\\"API\",service_type=\"api\",invocation_url=\"/hello\",} 1.0\n"
        ));
        assert!(text.contains(
            "wso2_integration_api_latency_seconds_bucket{service_name=\"Hello\\\"API\",service_type=\"api\",invocation_url=\"/hello\",le=\"0.19\",} 2.0\n"
        ));
        assert!(text.contains("le=\"+Inf\",} 3.0\n"));
        assert!(text.contains("wso2_integration_api_latency_seconds_count{service_name=\"Hello\\\"API\",service_type=\"api\",invocation_url=\"/hello\",} 3.0\n"));
        assert!(text.contains("wso2_integration_api_latency_seconds_sum{service_name=\"Hello\\\"API\",service_type=\"api\",invocation_url=\"/hello\",} 0.25\n"));
        assert!(text.contains(
            "wso2_integration_proxy_request_count_total{service_name=\"Echo\",service_type=\"proxy\",} 0.0\n"
        ));
        assert!(
            text.contains("# TYPE wso2_integration_inbound_endpoint_latency_seconds histogram\n")
        );
        assert!(text.contains("wso2_integration_server_up{host=\"localhost\",port=\"8290\",}"));
        assert!(text.contains("wso2_integration_server_version{version=\"1.2.3\","));
        assert!(text.contains(
            "wso2_integration_service_up{service_name=\"Echo\",service_type=\"proxy\",}"
        ));
    }

    #[test]
    fn name_filters_keep_only_the_named_families() {
        let r = metrics().handle(Some("name[]=wso2_integration_api_request_count_total"));
        assert_eq!(r.headers()[header::CONTENT_TYPE], CONTENT_TYPE_004);
        let text = String::from_utf8(r.into_body().to_vec()).unwrap();
        assert!(text.contains("wso2_integration_api_request_count_total{"));
        assert!(!text.contains("server_up"));
        assert!(!text.contains("latency"));
    }

    #[test]
    fn filter_count_is_limited() {
        let at_limit = vec!["name[]=x"; MAX_NAME_FILTERS].join("&");
        assert_eq!(metrics().handle(Some(&at_limit)).status(), 200);
        let over = vec!["name[]=x"; MAX_NAME_FILTERS + 1].join("&");
        assert_eq!(metrics().handle(Some(&over)).status(), 400);
    }

    #[test]
    fn listener_families_have_one_sample_per_listener() {
        let text = metrics().render(&[]);
        for (name, _, kind) in LISTENER_FAMILIES {
            assert!(
                text.contains(&format!("# TYPE {name} {kind}\n")),
                "{name}: {text}"
            );
            assert!(name.starts_with("conflux_listener_"), "{name}");
            assert_eq!(kind == "counter", name.ends_with("_total"), "{name}");
        }
        for line in [
            "conflux_listener_connections_accepted_total{listener=\"http\",} 7.0\n",
            "conflux_listener_connections_refused_total{listener=\"http\",} 2.0\n",
            "conflux_listener_header_timeouts_total{listener=\"http\",} 3.0\n",
            "conflux_listener_body_timeouts_total{listener=\"http\",} 4.0\n",
            "conflux_listener_send_timeouts_total{listener=\"http\",} 5.0\n",
            "conflux_listener_keepalive_timeouts_total{listener=\"http\",} 6.0\n",
            "conflux_listener_client_closed_requests_total{listener=\"http\",} 8.0\n",
            "conflux_listener_in_flight_requests{listener=\"http\",} 9.0\n",
            "conflux_listener_open_connections{listener=\"http\",} 1.0\n",
            "conflux_listener_max_open_connections{listener=\"http\",} 10000.0\n",
            "conflux_listener_header_timeouts_total{listener=\"internal_http\",} 0.0\n",
            "conflux_listener_max_open_connections{listener=\"internal_http\",} +Inf\n",
        ] {
            assert!(text.contains(line), "{line}: {text}");
        }
        // Each family is one block: HELP, TYPE, then its samples, then the next family.
        let types: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("# TYPE conflux_listener_"))
            .collect();
        assert_eq!(types.len(), LISTENER_FAMILIES.len());
    }

    #[test]
    fn name_filters_select_listener_families() {
        let r = metrics().handle(Some("name[]=conflux_listener_connections_refused_total"));
        let text = String::from_utf8(r.into_body().to_vec()).unwrap();
        assert!(
            text.contains("conflux_listener_connections_refused_total{listener=\"http\",} 2.0\n")
        );
        assert!(
            !text.contains("conflux_listener_header_timeouts_total"),
            "{text}"
        );
        assert!(!text.contains("wso2_integration_"), "{text}");
    }

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(java_double(3.0), "3.0");
        assert_eq!(java_double(0.19), "0.19");
        assert_eq!(java_double(f64::INFINITY), "+Inf");
    }
}
