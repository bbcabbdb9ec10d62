//! The console's traffic history: every [`SAMPLE_INTERVAL`] a sampler reads the per-API and
//! per-proxy counters and latency histograms that Prometheus exposes ([`Observed::services`]) and
//! keeps, per service, one point per interval with the requests, errors and estimated p50/p95
//! latency *of that interval* (differences of the cumulative counters), for [`HISTORY`].
//!
//! Quantiles are estimated from the histogram buckets as Prometheus' `histogram_quantile` does:
//! linear interpolation inside the bucket holding the rank; a rank in the `+Inf` bucket answers the
//! largest finite bound. A counter that went down (a redeploy started new counters) counts from
//! zero again.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::metrics::{Observed, ServiceStats};

/// How often the sampler reads the counters.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(2);

/// How long points are kept.
pub const HISTORY: Duration = Duration::from_secs(10 * 60);

/// Points kept per service: [`HISTORY`] / [`SAMPLE_INTERVAL`].
pub const MAX_POINTS: usize = (HISTORY.as_secs() / SAMPLE_INTERVAL.as_secs()) as usize;

/// Most services tracked at once; the services beyond it (in name order) get no history. Bounds the
/// memory of the ring (each series holds at most [`MAX_POINTS`] points).
pub const MAX_SERIES: usize = 1_000;

/// The `kind` of a series: MI's `service_type` labels this history keeps.
const KINDS: [&str; 2] = ["api", "proxy"];

/// One interval of one service.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// End of the interval, Unix milliseconds.
    pub t: u64,
    pub requests: u64,
    pub errors: u64,
    /// Estimated from the histogram buckets; `None` when the interval had no request.
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    /// Exact mean latency (from the latency sum); `None` when the interval had no request.
    pub mean_ms: Option<f64>,
}

#[derive(Debug)]
struct Series {
    /// The counters at the previous sample.
    last: Cumulative,
    points: VecDeque<Point>,
}

#[derive(Debug, Clone)]
struct Cumulative {
    requests: u64,
    errors: u64,
    bounds: &'static [f64],
    buckets: Vec<u64>,
    sum_seconds: f64,
}

impl Cumulative {
    fn of(s: &ServiceStats) -> Self {
        Cumulative {
            requests: s.requests,
            errors: s.errors,
            bounds: s.latency_bounds,
            buckets: s.cumulative_buckets.clone(),
            sum_seconds: s.latency_sum_seconds,
        }
    }
}

/// The traffic history, shared by the sampler and the `/console/api/traffic` handler.
#[derive(Debug, Default)]
pub struct Traffic {
    series: Mutex<BTreeMap<(&'static str, String), Series>>,
}

impl Traffic {
    pub fn new() -> Self {
        Traffic::default()
    }

    /// Takes one sample at `now_ms` (Unix milliseconds) of `services`: a point per API and proxy
    /// seen at the previous sample too, and points older than [`HISTORY`] dropped.
    pub fn sample(&self, now_ms: u64, services: &[ServiceStats]) {
        let Ok(mut all) = self.series.lock() else {
            return;
        };
        let oldest = now_ms.saturating_sub(HISTORY.as_millis() as u64);
        let mut seen = Vec::new();
        for s in services {
            let Some(kind) = KINDS.iter().copied().find(|k| *k == s.service_type) else {
                continue;
            };
            let key = (kind, s.name.clone());
            let now = Cumulative::of(s);
            let tracked = all.len();
            match all.get_mut(&key) {
                Some(series) => {
                    let point = delta(now_ms, &series.last, &now);
                    series.points.push_back(point);
                    series.last = now;
                }
                None if tracked < MAX_SERIES => {
                    all.insert(
                        key.clone(),
                        Series {
                            last: now,
                            points: VecDeque::new(),
                        },
                    );
                }
                None => continue,
            }
            seen.push(key);
        }
        all.retain(|key, series| {
            while series.points.front().is_some_and(|p| p.t <= oldest) {
                series.points.pop_front();
            }
            while series.points.len() > MAX_POINTS {
                series.points.pop_front();
            }
            // An undeployed service keeps its history until it ages out.
            seen.contains(key) || !series.points.is_empty()
        });
    }

    /// `{"interval_ms", "series": [{"kind", "name", "points": [...]}]}`, only points newer than
    /// `since` (Unix milliseconds) when given.
    pub fn to_json(&self, since: Option<u64>) -> Value {
        let series: Vec<Value> = match self.series.lock() {
            Ok(all) => all
                .iter()
                .map(|((kind, name), s)| {
                    let points: Vec<Value> = s
                        .points
                        .iter()
                        .filter(|p| since.is_none_or(|t| p.t > t))
                        .map(|p| {
                            json!({
                                "t": p.t,
                                "requests": p.requests,
                                "errors": p.errors,
                                "p50_ms": p.p50_ms,
                                "p95_ms": p.p95_ms,
                                "mean_ms": p.mean_ms,
                            })
                        })
                        .collect();
                    json!({"kind": kind, "name": name, "points": points})
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        json!({
            "interval_ms": SAMPLE_INTERVAL.as_millis() as u64,
            "series": series,
        })
    }

    /// Samples `observed` every [`SAMPLE_INTERVAL`] until `stop` completes.
    pub async fn run(
        self: Arc<Self>,
        observed: Arc<dyn Observed>,
        stop: impl std::future::Future<Output = ()>,
    ) {
        self.run_every(SAMPLE_INTERVAL, observed, stop).await;
    }

    async fn run_every(
        self: Arc<Self>,
        interval: Duration,
        observed: Arc<dyn Observed>,
        stop: impl std::future::Future<Output = ()>,
    ) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = ticks.tick() => self.sample(now_ms(), &observed.services()),
            }
        }
    }
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The counter's growth, or its value when it went down (new counters after a redeploy).
fn grew(before: u64, now: u64) -> u64 {
    if now >= before { now - before } else { now }
}

fn delta(t: u64, before: &Cumulative, now: &Cumulative) -> Point {
    let reset = now.requests < before.requests || now.buckets.len() != before.buckets.len();
    let buckets: Vec<u64> = if reset {
        now.buckets.clone()
    } else {
        now.buckets
            .iter()
            .zip(&before.buckets)
            .map(|(n, b)| grew(*b, *n))
            .collect()
    };
    let quantile = |q: f64| quantile_ms(q, now.bounds, &buckets);
    let requests = if reset {
        now.requests
    } else {
        grew(before.requests, now.requests)
    };
    let sum = if reset {
        now.sum_seconds
    } else {
        (now.sum_seconds - before.sum_seconds).max(0.0)
    };
    // The histogram's count: the +Inf bucket.
    let observed = buckets.last().copied().unwrap_or(0);
    Point {
        t,
        requests,
        errors: if reset {
            now.errors
        } else {
            grew(before.errors, now.errors)
        },
        p50_ms: quantile(0.5),
        p95_ms: quantile(0.95),
        mean_ms: (observed > 0).then(|| sum * 1000.0 / observed as f64),
    }
}

/// The `q` quantile in milliseconds of cumulative bucket counts (`bounds` in seconds, then
/// `+Inf`), or `None` without observations.
pub fn quantile_ms(q: f64, bounds: &[f64], cumulative: &[u64]) -> Option<f64> {
    let total = *cumulative.last()?;
    if total == 0 {
        return None;
    }
    let rank = q * total as f64;
    let i = cumulative.iter().position(|c| *c as f64 >= rank)?;
    let Some(upper) = bounds.get(i) else {
        // The +Inf bucket: the largest finite bound, as histogram_quantile answers.
        return bounds.last().map(|b| b * 1000.0);
    };
    let lower = if i == 0 { 0.0 } else { bounds[i - 1] };
    let below = if i == 0 { 0 } else { cumulative[i - 1] };
    let inside = cumulative[i] - below;
    let seconds = if inside == 0 {
        *upper
    } else {
        lower + (upper - lower) * (rank - below as f64) / inside as f64
    };
    Some(seconds * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: [f64; 3] = [0.01, 0.1, 1.0];

    fn stats(
        kind: &'static str,
        name: &str,
        requests: u64,
        errors: u64,
        b: [u64; 4],
    ) -> ServiceStats {
        ServiceStats {
            service_type: kind,
            name: name.into(),
            invocation_url: String::new(),
            requests,
            errors,
            latency_bounds: &BOUNDS,
            cumulative_buckets: b.to_vec(),
            // 50 ms each.
            latency_sum_seconds: b[3] as f64 * 0.05,
        }
    }

    fn points(t: &Traffic, name: &str) -> Vec<Value> {
        let v = t.to_json(None);
        v["series"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| s["points"].as_array().unwrap().clone())
            .unwrap_or_default()
    }

    #[test]
    fn points_are_per_interval_deltas() {
        let t = Traffic::new();
        t.sample(1_000, &[stats("api", "A", 10, 1, [5, 10, 10, 10])]);
        assert!(
            points(&t, "A").is_empty(),
            "the first sample is the baseline"
        );
        t.sample(3_000, &[stats("api", "A", 14, 1, [5, 12, 14, 14])]);
        t.sample(5_000, &[stats("api", "A", 14, 3, [5, 12, 14, 14])]);
        let p = points(&t, "A");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0]["t"], 3_000);
        assert_eq!(p[0]["requests"], 4);
        assert_eq!(p[0]["errors"], 0);
        assert_eq!(p[1]["requests"], 0);
        assert_eq!(p[1]["errors"], 2);
        assert!(p[1]["p50_ms"].is_null());
        // 2 of the 4 in (10 ms, 100 ms], 2 in (100 ms, 1 s]: the median is 100 ms.
        assert!(
            (p[0]["p50_ms"].as_f64().unwrap() - 100.0).abs() < 1e-9,
            "{p:?}"
        );
        assert!(
            (p[0]["mean_ms"].as_f64().unwrap() - 50.0).abs() < 1e-9,
            "{p:?}"
        );
        assert!(p[1]["mean_ms"].is_null());
        let v = t.to_json(None);
        assert_eq!(v["interval_ms"], 2_000);
        assert_eq!(v["series"][0]["kind"], "api");
    }

    #[test]
    fn since_returns_only_newer_points() {
        let t = Traffic::new();
        for (i, n) in [0u64, 1, 3, 6].iter().enumerate() {
            t.sample(
                1_000 + 2_000 * i as u64,
                &[stats("proxy", "P", *n, 0, [*n, *n, *n, *n])],
            );
        }
        let v = t.to_json(Some(3_000));
        let pts = v["series"][0]["points"].as_array().unwrap().clone();
        assert_eq!(pts.len(), 2);
        assert_eq!(pts[0]["t"], 5_000);
        assert_eq!(pts[0]["requests"], 2);
        assert_eq!(pts[1]["requests"], 3);
    }

    #[test]
    fn a_counter_that_went_down_counts_from_zero() {
        let t = Traffic::new();
        t.sample(0, &[stats("api", "A", 100, 5, [100, 100, 100, 100])]);
        t.sample(2_000, &[stats("api", "A", 3, 1, [3, 3, 3, 3])]);
        let p = points(&t, "A");
        assert_eq!(p[0]["requests"], 3);
        assert_eq!(p[0]["errors"], 1);
    }

    #[test]
    fn old_points_age_out_and_inbound_endpoints_are_not_kept() {
        let t = Traffic::new();
        let step = SAMPLE_INTERVAL.as_millis() as u64;
        let samples = MAX_POINTS as u64 + 10;
        for i in 0..=samples {
            t.sample(
                i * step,
                &[
                    stats("api", "A", i, 0, [i, i, i, i]),
                    stats("inbound-endpoint", "I", i, 0, [i, i, i, i]),
                ],
            );
        }
        let p = points(&t, "A");
        assert_eq!(p.len(), MAX_POINTS, "points within HISTORY of the last");
        assert!(points(&t, "I").is_empty());
        // Undeployed: kept until its points age out.
        let last = samples * step;
        t.sample(last + step, &[]);
        assert!(!points(&t, "A").is_empty());
        t.sample(last + HISTORY.as_millis() as u64 + step, &[]);
        assert_eq!(t.to_json(None)["series"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn series_beyond_the_limit_get_no_history() {
        let t = Traffic::new();
        let many: Vec<ServiceStats> = (0..=MAX_SERIES)
            .map(|i| stats("api", &format!("A{i:05}"), 0, 0, [0; 4]))
            .collect();
        t.sample(0, &many);
        t.sample(2_000, &many);
        let v = t.to_json(None);
        assert_eq!(v["series"].as_array().unwrap().len(), MAX_SERIES);
    }

    #[test]
    fn quantiles_interpolate_like_histogram_quantile() {
        assert_eq!(quantile_ms(0.5, &BOUNDS, &[0, 0, 0, 0]), None);
        // All in the first bucket: linear from 0 to 10 ms.
        let p = quantile_ms(0.5, &BOUNDS, &[4, 4, 4, 4]).unwrap();
        assert!((p - 5.0).abs() < 1e-9, "{p}");
        // In +Inf: the largest finite bound.
        assert_eq!(quantile_ms(0.95, &BOUNDS, &[0, 0, 0, 10]), Some(1000.0));
    }

    #[tokio::test]
    async fn the_sampler_runs_until_stopped() {
        struct One;
        impl Observed for One {
            fn services(&self) -> Vec<ServiceStats> {
                vec![stats("api", "A", 1, 0, [1, 1, 1, 1])]
            }
            fn transports(&self) -> Vec<crate::metrics::TransportStats> {
                Vec::new()
            }
            fn endpoints(&self) -> Vec<crate::metrics::EndpointStats> {
                Vec::new()
            }
        }
        let traffic = Arc::new(Traffic::new());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(traffic.clone().run_every(
            Duration::from_millis(5),
            Arc::new(One),
            async move {
                let _ = rx.await;
            },
        ));
        let two_points = async {
            while points(&traffic, "A").len() < 2 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), two_points)
            .await
            .expect("the sampler took samples");
        let _ = tx.send(());
        task.await.unwrap();
    }
}
