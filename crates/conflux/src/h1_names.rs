//! Background host-name resolution for the Conflux HTTP/1 engine's router (h1_router.rs): the
//! addresses of each `<address uri>` host name a pure-forward route goes to, looked up off the
//! request path so that no request ever waits on a lookup.
//!
//! A name is looked up (`tokio::net::lookup_host`, in a spawned task) when a deployment's table
//! first names it, and again when its answer is older than [`POSITIVE_TTL`] (a failure: older
//! than [`NEGATIVE_TTL`]); the last answer is used meanwhile. While there is no answer yet, or
//! the last lookup failed, the router sends the route General, where hyper's path looks the name
//! up itself (transport pool.rs `connect_tcp`) and answers with MI's fault when that fails. The
//! TTLs are Java's defaults, which MI runs with: `sun.net.InetAddressCachePolicy` caches a
//! successful lookup for 30 s when `networkaddress.cache.ttl` is unset, and the JDK's
//! `java.security` sets `networkaddress.cache.negative.ttl=10`.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;

/// How long a successful lookup is used before it is refreshed (Java's
/// `networkaddress.cache.ttl` default, `sun.net.InetAddressCachePolicy.DEFAULT_POSITIVE`).
pub const POSITIVE_TTL: Duration = Duration::from_secs(30);

/// How long a failed lookup stands before the name is looked up again (the JDK's
/// `java.security`: `networkaddress.cache.negative.ttl=10`).
pub const NEGATIVE_TTL: Duration = Duration::from_secs(10);

/// A host name and port, the key of a [`Name`].
pub type NameKey = (Arc<str>, u16);

/// One host name and port, with the last answer of its lookup.
pub struct Name {
    host: Arc<str>,
    port: u16,
    answer: ArcSwapOption<Answer>,
    /// A lookup task is under way (at most one per name).
    refreshing: AtomicBool,
}

/// What one lookup gave.
struct Answer {
    /// In the resolver's order; empty: the lookup failed or found nothing.
    addresses: Arc<[SocketAddr]>,
    /// `addresses` but the first (made once, not per request).
    fallbacks: Arc<[SocketAddr]>,
    at: Instant,
}

impl Answer {
    fn new(addresses: Arc<[SocketAddr]>, at: Instant) -> Answer {
        let fallbacks = addresses.get(1..).unwrap_or_default().into();
        Answer {
            addresses,
            fallbacks,
            at,
        }
    }
}

impl Name {
    fn new(host: Arc<str>, port: u16) -> Arc<Name> {
        Arc::new(Name {
            host,
            port,
            answer: ArcSwapOption::empty(),
            refreshing: AtomicBool::new(false),
        })
    }

    /// The key of this name in [`Names`].
    pub fn key(&self) -> NameKey {
        (self.host.clone(), self.port)
    }

    /// The addresses of the last successful lookup, in order; `None` while there is none or
    /// the last lookup failed. Starts a lookup in the background when the answer is missing or
    /// stale; never waits for one.
    pub fn addresses(self: &Arc<Self>) -> Option<Arc<[SocketAddr]>> {
        self.current().map(|a| a.addresses.clone())
    }

    /// [`Name::addresses`] as the first address and the others, for a connection attempt.
    pub fn first_and_fallbacks(self: &Arc<Self>) -> Option<(SocketAddr, Arc<[SocketAddr]>)> {
        let answer = self.current()?;
        Some((*answer.addresses.first()?, answer.fallbacks.clone()))
    }

    /// The last successful answer (see [`Name::addresses`]).
    fn current(self: &Arc<Self>) -> Option<Arc<Answer>> {
        let Some(answer) = self.answer.load_full() else {
            self.refresh();
            return None;
        };
        let ttl = if answer.addresses.is_empty() {
            NEGATIVE_TTL
        } else {
            POSITIVE_TTL
        };
        if answer.at.elapsed() >= ttl {
            self.refresh();
        }
        (!answer.addresses.is_empty()).then_some(answer)
    }

    /// Starts a lookup in a task of the current tokio runtime, unless one is under way (or
    /// there is no runtime: the name then stays unresolved and its routes General).
    fn refresh(self: &Arc<Self>) {
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.refreshing.store(false, Ordering::Release);
            return;
        };
        let name = self.clone();
        runtime.spawn(async move {
            // Clears `refreshing` however the task ends (also when its runtime drops it).
            let _done = Refreshing(&name);
            let addresses: Arc<[SocketAddr]> =
                match tokio::net::lookup_host((&*name.host, name.port)).await {
                    Ok(found) => found.collect(),
                    Err(error) => {
                        tracing::debug!(target: crate::h1_router::H1_DIRECT_TARGET, "looking up {}: {error}; its routes take the general path", name.host);
                        Arc::from([])
                    }
                };
            name.answer
                .store(Some(Arc::new(Answer::new(addresses, Instant::now()))));
        });
    }
}

/// Clears a name's `refreshing` flag when dropped.
struct Refreshing<'a>(&'a Name);

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        self.0.refreshing.store(false, Ordering::Release);
    }
}

/// The names the router's tables go to, kept across redeploys so that a new table starts with
/// the answers the old one had.
#[derive(Default)]
pub struct Names {
    names: Mutex<HashMap<NameKey, Arc<Name>>>,
}

impl Names {
    /// The entry of `host:port`; a new one starts its first lookup at once.
    pub fn get(&self, host: &str, port: u16) -> Arc<Name> {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(name) = names.get(&(Arc::from(host), port)) {
            return name.clone();
        }
        let name = Name::new(host.into(), port);
        name.refresh();
        names.insert((name.host.clone(), port), name.clone());
        name
    }

    /// Forgets every name but `kept` (the names of the table just built).
    pub fn retain(&self, kept: &HashSet<NameKey>) {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        names.retain(|key, _| kept.contains(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Polls `name` until it has an answer (the lookup runs in the background).
    async fn settled(name: &Arc<Name>) -> Option<Arc<[SocketAddr]>> {
        for _ in 0..2_000 {
            if name.answer.load().is_some() {
                return name.addresses();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("no answer for {}", name.host);
    }

    #[tokio::test]
    async fn a_name_is_looked_up_in_the_background_and_cached() {
        let names = Names::default();
        let name = names.get("localhost", 8080);
        let addresses = settled(&name).await.expect("localhost resolves");
        assert!(
            addresses
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 8080),
            "{addresses:?}"
        );
        // The same entry, with its answer, for the same name and port.
        assert!(Arc::ptr_eq(&name, &names.get("localhost", 8080)));
        assert!(!Arc::ptr_eq(&name, &names.get("localhost", 8081)));
        names.retain(&HashSet::from([(Arc::from("localhost"), 8081)]));
        assert!(
            !Arc::ptr_eq(&name, &names.get("localhost", 8080)),
            "forgotten"
        );
    }

    #[tokio::test]
    async fn an_unknown_name_has_no_addresses() {
        let name = Names::default().get("backend.invalid", 80);
        assert_eq!(settled(&name).await, None);
    }

    #[test]
    fn the_first_address_is_tried_first_and_the_others_after_it() {
        let name = Name::new("multi.example".into(), 80);
        let addresses: Vec<SocketAddr> = vec![
            "[::1]:80".parse().unwrap(),
            "127.0.0.1:80".parse().unwrap(),
            "127.0.0.2:80".parse().unwrap(),
        ];
        name.answer.store(Some(Arc::new(Answer::new(
            addresses.clone().into(),
            Instant::now(),
        ))));
        let (first, fallbacks) = name.first_and_fallbacks().expect("an answer");
        assert_eq!(first, addresses[0]);
        assert_eq!(&*fallbacks, &addresses[1..]);
    }

    #[test]
    fn without_a_runtime_nothing_is_looked_up() {
        let name = Names::default().get("localhost", 80);
        assert_eq!(name.addresses(), None);
        assert!(!name.refreshing.load(Ordering::Acquire));
    }

    #[tokio::test]
    async fn a_stale_answer_is_used_while_it_is_refreshed() {
        let name = Name::new("localhost".into(), 80);
        let old: Arc<[SocketAddr]> = Arc::from(["192.0.2.1:80".parse().unwrap()]);
        let at = Instant::now()
            .checked_sub(POSITIVE_TTL + Duration::from_secs(1))
            .expect("an instant in the past");
        name.answer
            .store(Some(Arc::new(Answer::new(old.clone(), at))));
        // The stale answer comes back at once, and a refresh starts.
        assert_eq!(name.addresses(), Some(old.clone()));
        for _ in 0..2_000 {
            if name.answer.load().as_ref().is_some_and(|a| a.at > at) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let fresh = name.addresses().expect("localhost resolves");
        assert_ne!(fresh, old, "refreshed");
        // A failure younger than NEGATIVE_TTL is not retried; an older one is.
        name.answer
            .store(Some(Arc::new(Answer::new(Arc::from([]), Instant::now()))));
        assert_eq!(name.addresses(), None);
        assert!(!name.refreshing.load(Ordering::Acquire), "no retry yet");
        let past = Instant::now()
            .checked_sub(NEGATIVE_TTL)
            .expect("an instant in the past");
        name.answer
            .store(Some(Arc::new(Answer::new(Arc::from([]), past))));
        assert_eq!(name.addresses(), None);
        assert!(name.refreshing.load(Ordering::Acquire), "retried");
    }
}
