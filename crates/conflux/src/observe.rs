//! The bridge from the running server to what metrics and monitoring report
//! ([`conflux_admin::Observed`]): it reads the pass-through's per-API/proxy atomic counters, the
//! per-listener counters and the endpoint states of the live deployment at scrape time. It also
//! owns each listener's protection counters ([`ListenerStats`]), made here before the ports are
//! bound and handed to each listener's accept loop by [`LiveObserved::listener_stats`].

use std::sync::Arc;
use std::sync::atomic::Ordering;

use conflux_admin::Observed;
use conflux_admin::metrics::{EndpointStats, ListenerCounters, ServiceStats, TransportStats};
use conflux_config::{Config, Role};
use conflux_mediation::runtime::deployment::LATENCY_BUCKETS_SECONDS;
use conflux_transport::passthrough::PassThrough;
use conflux_transport::server::ListenerStats;

/// `-DenablePrometheusApi`: MI's switch. Conflux serves metrics unless it is given and not `true`.
pub const PROMETHEUS_PROPERTY: &str = "enablePrometheusApi";

/// Whether `/metric-service/metrics` is served: on by default; `-DenablePrometheusApi=false` turns
/// it off (MI needs `=true` plus the MetricHandler; both are accepted and change nothing here).
pub fn prometheus_enabled(config: &Config) -> bool {
    match config.properties.value(PROMETHEUS_PROPERTY) {
        Some(_) => config.properties.is_true(PROMETHEUS_PROPERTY),
        None => true,
    }
}

/// The live pass-through as an [`Observed`] source.
pub struct LiveObserved {
    passthrough: PassThrough,
    http_port: u16,
    https_port: u16,
    listeners: Vec<Listener>,
}

/// One port the server serves, with its counters.
struct Listener {
    role: Role,
    port: u16,
    /// The connection cap; `None` is no cap.
    max_open: Option<u64>,
    stats: Arc<ListenerStats>,
}

impl LiveObserved {
    pub fn new(passthrough: PassThrough, config: &Config) -> Self {
        let port = |role| config.ports.get(role).map(|e| e.port).unwrap_or(0);
        let listeners = config
            .ports
            .listeners()
            .filter(|e| e.role != Role::JmxRmiServer)
            .map(|e| {
                let cap = crate::server::listener_limits(config, e.role).max_connections;
                Listener {
                    role: e.role,
                    port: e.port,
                    max_open: (cap != usize::MAX).then_some(cap as u64),
                    stats: Arc::default(),
                }
            })
            .collect();
        LiveObserved {
            passthrough,
            http_port: port(Role::Http),
            https_port: port(Role::Https),
            listeners,
        }
    }

    /// The counters the listener of `role` counts into (fresh, and not reported, for a role
    /// that is not in the port plan).
    pub fn listener_stats(&self, role: Role) -> Arc<ListenerStats> {
        self.listeners
            .iter()
            .find(|l| l.role == role)
            .map(|l| l.stats.clone())
            .unwrap_or_default()
    }
}

impl Observed for LiveObserved {
    fn services(&self) -> Vec<ServiceStats> {
        let live = self.passthrough.live();
        live.counters
            .services()
            .map(|s| {
                let snap = s.counters.snapshot();
                ServiceStats {
                    service_type: s.kind.label(),
                    name: s.name.clone(),
                    invocation_url: s.invocation_url.clone(),
                    requests: snap.requests,
                    errors: snap.errors,
                    latency_bounds: &LATENCY_BUCKETS_SECONDS,
                    cumulative_buckets: snap.cumulative_buckets,
                    latency_sum_seconds: snap.latency_sum_seconds,
                }
            })
            .collect()
    }

    fn transports(&self) -> Vec<TransportStats> {
        let c = self.passthrough.listener_counters();
        vec![
            TransportStats {
                name: "http",
                port: self.http_port,
                requests: c.http_requests.load(Ordering::Relaxed),
                faults: c.faults.load(Ordering::Relaxed),
            },
            TransportStats {
                name: "https",
                port: self.https_port,
                requests: c.https_requests.load(Ordering::Relaxed),
                faults: c.faults.load(Ordering::Relaxed),
            },
        ]
    }

    fn listeners(&self) -> Vec<ListenerCounters> {
        self.listeners
            .iter()
            .map(|l| {
                let s = &l.stats;
                ListenerCounters {
                    listener: l.role.name(),
                    port: l.port,
                    accepted: ListenerStats::get(&s.accepted),
                    refused_over_cap: ListenerStats::get(&s.refused_over_cap),
                    header_timeouts: ListenerStats::get(&s.head_timeouts),
                    body_timeouts: ListenerStats::get(&s.body_timeouts),
                    send_timeouts: ListenerStats::get(&s.send_timeouts),
                    keepalive_timeouts: ListenerStats::get(&s.idle_closes),
                    client_closed: ListenerStats::get(&s.client_gone),
                    in_flight: ListenerStats::get(&s.in_flight),
                    open: ListenerStats::get(&s.open),
                    max_open: l.max_open,
                }
            })
            .collect()
    }

    fn endpoints(&self) -> Vec<EndpointStats> {
        let live = self.passthrough.live();
        let states = live.sender.endpoint_states();
        live.deployment
            .endpoints
            .iter()
            .zip(states)
            .map(|(e, state)| EndpointStats {
                name: e.name.to_string(),
                state,
            })
            .collect()
    }
}
