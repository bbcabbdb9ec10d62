//! `<throttle id>` (SYN `mediators/throttle/ThrottleMediator.java` over the throttle core of
//! `org.apache.synapse.commons.throttle`): per node, no cluster replication. On a request:
//!
//! 1. **Concurrency** (`MaximumConcurrentAccess`): the message takes a slot of the throttle's
//!    [`ConcurrencyGate`]; none free is a reject. The slot is held by the message
//!    ([`MessageContext::throttle_permits`]) and given back when its mediation ends, i.e. when
//!    the answer goes back to the client, the message is dropped or fails (MI gives it back in
//!    `Axis2Sender.sendBack`, on an endpoint or mediation fault, on a timeout and on an out-only
//!    send).
//! 2. **Rate**, after an accepted concurrency check: the caller is matched against the policy's
//!    `DOMAIN` entries with its domain (the `X-Forwarded-Host` header, else the remote host,
//!    which MI's listener sets to the remote address: `NhttpUtil.getHostName` does no reverse
//!    lookup); when no domain entry applies, against the `IP` entries with its IP (the first
//!    address of `X-Forwarded-For`, else `REMOTE_ADDR`). The entry found decides: `Allow`, `Deny`
//!    ("prohibited permanently") or `Control`, whose window ([`CallerTable`]) is keyed, as MI keys
//!    its `CallerContext`, by the artifact (`ARTIFACT_NAME`) and the **entry** the caller matched,
//!    so the callers that fall under one entry (`other`, a range) share its quota. No entry, or no
//!    known address: accepted. A rate reject gives the concurrency slot back at once.
//! 3. Accepted: `onAccept` runs (a sequence key or inline mediators) and its end is the
//!    throttle's; without one the flow goes on. Rejected: `onReject` runs; without one the
//!    message stops there (Synapse's `false`: the client gets the 202 of a dropped message).
//!
//! In the response flow the throttle does nothing (MI's `<throttle id="A"/>` in an out-sequence).
//!
//! Matching, as `IPBaseThrottleConfiguration` / `DomainBaseThrottleConfiguration` do: an IP
//! entry is the exact address, a range `a.b.c.d - a.b.c.e` (the caller's network part must start
//! the range's first address and its last number lie in the range), or `a.b.c.*`; a domain entry
//! the exact name or `*.` + a parent domain, nearest first; then `other`. Differences: a range
//! bound that is not a number never matches (MI throws); an IPv4 client seen through an IPv6
//! socket is its IPv4 address (as Java reports it).

use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use conflux_artifacts::mediators::{CallerAccess, CallerKind, ThrottlePolicy};

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;
use crate::runtime::engine::{Ended, Engine, Fault, Route, Sequence, Step};
use crate::runtime::mediators::throttle_rate::{
    CallerTable, ConcurrencyGate, ConcurrencyPermit, RateControl,
};

tokio::task_local! {
    /// The address of the client whose request is being mediated (MI's `REMOTE_ADDR`).
    static CLIENT_ADDR: IpAddr;
}

/// Runs `f` (the mediation of one client request) with the client's address known to the
/// throttle mediator. A scope costs no allocation, so the listener sets it for every request.
pub async fn with_client_addr<F: Future>(addr: IpAddr, f: F) -> F::Output {
    CLIENT_ADDR.scope(addr.to_canonical(), f).await
}

fn client_addr() -> Option<IpAddr> {
    CLIENT_ADDR.try_with(|addr| *addr).ok()
}

/// AccessRateController's log lines for a refused caller.
const ACCESS_DENIED_TEMPORALLY: &str =
    "You cannot access this service since you have exceeded the allocated quota.";
const ACCESS_DENIED: &str =
    "You cannot access this service since you have been prohibited permanently.";

/// `onAccept` / `onReject`.
#[derive(Debug, Clone)]
pub enum ThrottleBranch {
    Named(String),
    Inline(Arc<Sequence>),
}

/// A rate window's owner: the artifact and the policy entry the caller matched.
type CallerKey = (Arc<str>, CallerKind, Arc<str>);

#[derive(Debug)]
pub struct Throttle {
    /// The throttle group id.
    pub id: String,
    pub on_accept: Option<ThrottleBranch>,
    pub on_reject: Option<ThrottleBranch>,
    /// `MaximumConcurrentAccess`: the free slots the messages in flight hold.
    gate: Option<Arc<ConcurrencyGate>>,
    ip: Rules,
    domain: Rules,
    /// The rate windows of the callers seen (bounded, see `throttle_rate.rs`).
    windows: Mutex<CallerTable<CallerKey>>,
    /// Time zero of the windows' clock.
    epoch: Instant,
    /// The `<policy key>` that names no deployed entry: MI deploys the mediator and faults each
    /// message (SYN `mediators/throttle/ThrottleMediator.java`: "Cannot find throttling policy
    /// using key : ...").
    pub missing_policy: Option<String>,
}

/// The entries of one caller type.
#[derive(Debug, Default)]
struct Rules {
    /// Keyed entries in policy order (a later entry with the same key replaces an earlier one).
    entries: Vec<Rule>,
    /// `other`.
    other: Option<CallerAccess>,
}

#[derive(Debug)]
struct Rule {
    /// The entry's key: the address, a range's first address, `a.b.c.*`, or the domain.
    key: Arc<str>,
    /// A range's last address.
    range_end: Option<String>,
    access: CallerAccess,
}

/// ThrottleConstants.KEY_OF_DEFAULT_CONFIGURATION_FOR_OTHER.
const OTHER: &str = "other";

impl Rules {
    fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.other.is_none()
    }

    fn add(&mut self, key: &str, range_end: Option<String>, access: CallerAccess) {
        let key = key.trim();
        if key == OTHER {
            self.other = Some(access);
            return;
        }
        self.entries.retain(|r| &*r.key != key);
        self.entries.push(Rule {
            key: Arc::from(key),
            range_end,
            access,
        });
    }

    fn get(&self, key: &str) -> Option<&Rule> {
        self.entries.iter().find(|r| &*r.key == key)
    }

    fn other(&self) -> Option<(Arc<str>, CallerAccess)> {
        self.other.map(|a| (Arc::from(OTHER), a))
    }

    /// IPBaseThrottleConfiguration.getConfigurationKeyOfCaller.
    fn ip_entry(&self, ip: &str) -> Option<(Arc<str>, CallerAccess)> {
        let ip = ip.trim();
        if let Some(rule) = self.get(ip) {
            return Some((rule.key.clone(), rule.access));
        }
        if let Some(dot) = ip.rfind('.').filter(|d| *d > 0) {
            let (net, host) = (&ip[..dot], &ip[dot + 1..]);
            if !self.entries.is_empty() {
                let host = host.trim().parse::<i64>().ok();
                for rule in &self.entries {
                    let in_range = host.is_some_and(|host| {
                        last_number(&rule.key).is_some_and(|low| low <= host)
                            && rule
                                .range_end
                                .as_deref()
                                .and_then(last_number)
                                .is_some_and(|high| high >= host)
                    });
                    if rule.key.starts_with(net) && in_range {
                        return Some((rule.key.clone(), rule.access));
                    }
                }
                if let Some(rule) = self.get(&format!("{net}.*")) {
                    return Some((rule.key.clone(), rule.access));
                }
            }
        }
        self.other()
    }

    /// DomainBaseThrottleConfiguration.getConfigurationKeyOfCaller: the name, else the nearest
    /// `*.parent` entry, else `other`.
    fn domain_entry(&self, domain: &str) -> Option<(Arc<str>, CallerAccess)> {
        let mut name = domain.trim();
        loop {
            if let Some(rule) = self.get(name) {
                return Some((rule.key.clone(), rule.access));
            }
            let (root, more) = match name.find('.').filter(|i| *i > 0) {
                Some(i) => (&name[i + 1..], true),
                None => (name, false),
            };
            let wildcard = format!("*.{root}");
            if let Some(rule) = self.entries.iter().find(|r| r.key.ends_with(&wildcard)) {
                return Some((rule.key.clone(), rule.access));
            }
            if !more {
                return self.other();
            }
            name = root;
        }
    }
}

/// The number after an address's last dot.
fn last_number(address: &str) -> Option<i64> {
    let dot = address.rfind('.').filter(|d| *d > 0)?;
    address[dot + 1..].trim().parse().ok()
}

impl Throttle {
    pub fn new(
        id: &str,
        policy: Option<&ThrottlePolicy>,
        on_accept: Option<ThrottleBranch>,
        on_reject: Option<ThrottleBranch>,
    ) -> Throttle {
        let mut ip = Rules::default();
        let mut domain = Rules::default();
        for caller in policy.map(|p| p.callers.as_slice()).unwrap_or_default() {
            match caller.kind {
                CallerKind::Ip => {
                    // IPBaseCallerConfiguration.setID: `first - second`.
                    let (first, second) = match caller.id.split_once('-') {
                        Some((first, second)) if !second.contains('-') => {
                            (first, Some(second.trim().to_string()))
                        }
                        _ => (caller.id.as_str(), None),
                    };
                    ip.add(first, second, caller.access);
                }
                CallerKind::Domain => domain.add(&caller.id, None, caller.access),
                // The mediator consults IP and domain contexts only.
                CallerKind::Role => {}
            }
        }
        Throttle {
            id: id.to_string(),
            on_accept,
            on_reject,
            gate: policy
                .and_then(|p| p.max_concurrent_access)
                .map(ConcurrencyGate::new),
            ip,
            domain,
            windows: Mutex::new(CallerTable::default()),
            epoch: Instant::now(),
            missing_policy: None,
        }
    }

    /// The concurrency gate, for tests and statistics.
    pub fn gate(&self) -> Option<&Arc<ConcurrencyGate>> {
        self.gate.as_ref()
    }

    /// The throttle's decision for a request: whether it may pass, and the concurrency slot it
    /// then holds.
    fn admit<B>(&self, ctx: &MessageContext<B>) -> (bool, Option<ConcurrencyPermit>) {
        let permit = match &self.gate {
            Some(gate) => match gate.try_acquire() {
                Some(permit) => Some(permit),
                None => return (false, None),
            },
            None => None,
        };
        if self.ip.is_empty() && self.domain.is_empty() {
            return (true, permit);
        }
        // A rate reject gives the slot back (dropping the permit), as MI's incrementAndGet.
        match self.rate_allows(ctx) {
            true => (true, permit),
            false => (false, None),
        }
    }

    fn rate_allows<B>(&self, ctx: &MessageContext<B>) -> bool {
        let header = |name: &str| {
            ctx.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
        };
        let remote = client_addr().map(|ip| ip.to_string());
        if !self.domain.is_empty() {
            let domain = header("x-forwarded-host").or(remote.as_deref());
            if let Some((key, access)) = domain.and_then(|d| self.domain.domain_entry(d)) {
                return self.decide(ctx, CallerKind::Domain, key, access);
            }
        }
        // ThrottleMediator.getIp: X-Forwarded-For's first address, else REMOTE_ADDR.
        let ip = match header("x-forwarded-for") {
            Some(forwarded) => Some(match forwarded.find(',').filter(|i| *i > 0) {
                Some(i) => &forwarded[..i],
                None => forwarded,
            }),
            None => remote.as_deref(),
        };
        match ip.and_then(|ip| self.ip.ip_entry(ip)) {
            Some((key, access)) => self.decide(ctx, CallerKind::Ip, key, access),
            // No address, or no entry for it: not throttled.
            None => true,
        }
    }

    /// AccessRateController.canAccess for the entry a caller matched.
    fn decide<B>(
        &self,
        ctx: &MessageContext<B>,
        kind: CallerKind,
        key: Arc<str>,
        access: CallerAccess,
    ) -> bool {
        match access {
            CallerAccess::Allow => true,
            CallerAccess::Deny => {
                tracing::info!(target: "conflux::mediation", "{{{}}} {ACCESS_DENIED}", ctx.artifact);
                false
            }
            CallerAccess::Control {
                max_count,
                unit_time_ms,
                prohibit_ms,
            } => {
                let control = RateControl {
                    max_count,
                    unit_time_ms,
                    prohibit_ms,
                };
                let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
                let caller = (ctx.artifact.clone(), kind, key);
                let allowed = self
                    .windows
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .can_access(&caller, &control, now);
                if !allowed {
                    tracing::info!(target: "conflux::mediation", "{{{}}} {ACCESS_DENIED_TEMPORALLY}", ctx.artifact);
                }
                allowed
            }
        }
    }
}

impl<B: MessageBody> Engine<'_, B> {
    /// Runs `<throttle>`: the decision, then `onAccept` or `onReject`.
    pub(crate) fn run_throttle<'a>(
        &'a self,
        throttle: &'a Throttle,
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            if ctx.is_response {
                return Ok(Ended::Continue);
            }
            if let Some(key) = &throttle.missing_policy {
                return Err(Fault::mediation(format!(
                    "Cannot find throttling policy using key : {key}"
                )));
            }
            let (allowed, permit) = throttle.admit(ctx);
            ctx.throttle_permits.extend(permit);
            let (branch, what) = if allowed {
                (&throttle.on_accept, "onAccept")
            } else {
                (&throttle.on_reject, "onReject")
            };
            let sequence = match branch {
                None if allowed => return Ok(Ended::Continue),
                None => return Ok(Ended::Dropped),
                Some(ThrottleBranch::Inline(seq)) => seq.clone(),
                Some(ThrottleBranch::Named(key)) => {
                    self.sequences.get(key).cloned().ok_or_else(|| {
                        Fault::mediation(format!("Unable to find {what} sequence with key : {key}"))
                    })?
                }
            };
            self.run_guarded(sequence, ctx, route, depth + 1).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conflux_artifacts::mediators::CallerPolicy;

    fn policy(callers: &[(CallerKind, &str, CallerAccess)]) -> ThrottlePolicy {
        ThrottlePolicy {
            max_concurrent_access: None,
            callers: callers
                .iter()
                .map(|(kind, id, access)| CallerPolicy {
                    kind: *kind,
                    id: id.to_string(),
                    access: *access,
                })
                .collect(),
        }
    }

    fn key(entry: Option<(Arc<str>, CallerAccess)>) -> Option<String> {
        entry.map(|(k, _)| k.to_string())
    }

    // IPBaseThrottleConfiguration.getConfigurationKeyOfCaller.
    #[test]
    fn ip_entries_match_as_mi_matches_them() {
        let t = Throttle::new(
            "t",
            Some(&policy(&[
                (
                    CallerKind::Ip,
                    "10.100.1.160 - 10.100.1.165",
                    CallerAccess::Deny,
                ),
                (CallerKind::Ip, "10.0.0.7", CallerAccess::Allow),
                (CallerKind::Ip, "192.168.1.*", CallerAccess::Allow),
                (CallerKind::Ip, "other", CallerAccess::Deny),
            ])),
            None,
            None,
        );
        let ip = |a: &str| key(t.ip.ip_entry(a));
        assert_eq!(ip("10.0.0.7").as_deref(), Some("10.0.0.7"));
        assert_eq!(ip("10.100.1.160").as_deref(), Some("10.100.1.160"));
        assert_eq!(ip("10.100.1.165").as_deref(), Some("10.100.1.160"));
        assert_eq!(ip("10.100.1.166").as_deref(), Some("other"));
        assert_eq!(ip("192.168.1.20").as_deref(), Some("192.168.1.*"));
        assert_eq!(ip("127.0.0.1").as_deref(), Some("other"));
        assert_eq!(ip("::1").as_deref(), Some("other"));
        // Without `other`, an unknown caller is not throttled.
        let t = Throttle::new(
            "t",
            Some(&policy(&[(CallerKind::Ip, "10.0.0.7", CallerAccess::Deny)])),
            None,
            None,
        );
        assert_eq!(key(t.ip.ip_entry("10.0.0.8")), None);
    }

    // DomainBaseThrottleConfiguration.getConfigurationKeyOfCaller.
    #[test]
    fn domain_entries_match_the_name_then_the_nearest_wildcard() {
        let t = Throttle::new(
            "t",
            Some(&policy(&[
                (CallerKind::Domain, "api.wso2.com", CallerAccess::Allow),
                (CallerKind::Domain, "*.wso2.com", CallerAccess::Deny),
                (CallerKind::Domain, "*.org", CallerAccess::Deny),
            ])),
            None,
            None,
        );
        let d = |a: &str| key(t.domain.domain_entry(a));
        assert_eq!(d("api.wso2.com").as_deref(), Some("api.wso2.com"));
        assert_eq!(d("x.wso2.com").as_deref(), Some("*.wso2.com"));
        assert_eq!(d("a.b.wso2.com").as_deref(), Some("*.wso2.com"));
        assert_eq!(d("apache.org").as_deref(), Some("*.org"));
        assert_eq!(d("example.net"), None);
    }
}
