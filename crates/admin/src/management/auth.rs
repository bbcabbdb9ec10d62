//! Who may call the Management API: the file user store (`[[internal_apis.users]]`), the token
//! store behind `/login` and `/logout`, and the slow-down of repeated failed logins.
//!
//! All three are free of I/O and take the time as an argument. MI sources:
//! `FileBasedUserStoreManager` (plain compare; Conflux compares digests in constant time),
//! `JWTInMemoryTokenStore` (max size, least-recently-used eviction or "Max concurrent access limit
//! exceeded"), `JWTTokenCleanupTask` (purge every `clean_up_interval`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use conflux_config::settings::ApiUser;
use ring::digest::{SHA256, digest};
use subtle::ConstantTimeEq;

/// The caller a valid token or password belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: String,
    pub is_admin: bool,
}

/// `[[internal_apis.users]]`, with passwords compared in constant time.
#[derive(Debug, Clone)]
pub struct UserStore {
    users: Vec<ApiUser>,
}

impl UserStore {
    pub fn new(users: Vec<ApiUser>) -> Self {
        UserStore { users }
    }

    /// The user with these credentials. Every user is compared, and digests of equal length are
    /// compared, so neither the time nor the result tells which part was wrong.
    pub fn authenticate(&self, name: &str, password: &str) -> Option<Principal> {
        let name_digest = digest(&SHA256, name.as_bytes());
        let password_digest = digest(&SHA256, password.as_bytes());
        let mut found = None;
        for user in &self.users {
            let name_ok = digest(&SHA256, user.name.as_bytes())
                .as_ref()
                .ct_eq(name_digest.as_ref());
            let password_ok = digest(&SHA256, user.password.as_bytes())
                .as_ref()
                .ct_eq(password_digest.as_ref());
            if bool::from(name_ok & password_ok) {
                found = Some(Principal {
                    user: user.name.clone(),
                    is_admin: user.is_admin,
                });
            }
        }
        found
    }

    /// True while a user still has MI's shipped password `admin`/`admin`.
    pub fn uses_default_password(&self) -> bool {
        self.users
            .iter()
            .any(|u| u.name == "admin" && u.password == "admin")
    }
}

/// Why a login could not be given a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The store is full and eviction is off (MI's 500 "Max concurrent access limit exceeded").
    Full,
}

#[derive(Debug, Clone)]
struct StoredToken {
    principal: Principal,
    expires_at: u64,
    /// Sequence number of the last use, for least-recently-used eviction.
    last_used: u64,
}

/// The live tokens by id (`jti`). Times are seconds since the epoch.
#[derive(Debug)]
pub struct TokenStore {
    max_size: usize,
    evict_oldest: bool,
    clean_up_interval: u64,
    tokens: HashMap<String, StoredToken>,
    uses: u64,
    last_clean_up: u64,
}

impl TokenStore {
    pub fn new(max_size: usize, evict_oldest: bool, clean_up_interval: Duration) -> Self {
        TokenStore {
            max_size,
            evict_oldest,
            clean_up_interval: clean_up_interval.as_secs(),
            tokens: HashMap::new(),
            uses: 0,
            last_clean_up: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Keeps a new token, first dropping expired ones when the clean-up interval has passed (or
    /// the store is full), then the least recently used one if the store is still full.
    pub fn insert(
        &mut self,
        id: String,
        principal: Principal,
        expires_at: u64,
        now: u64,
    ) -> Result<(), StoreError> {
        if self.tokens.len() >= self.max_size
            || now.saturating_sub(self.last_clean_up) >= self.clean_up_interval
        {
            self.clean_up(now);
        }
        if self.tokens.len() >= self.max_size {
            if !self.evict_oldest || self.max_size == 0 {
                return Err(StoreError::Full);
            }
            if let Some(oldest) = self
                .tokens
                .iter()
                .min_by_key(|(_, t)| t.last_used)
                .map(|(id, _)| id.clone())
            {
                self.tokens.remove(&oldest);
            }
        }
        self.uses += 1;
        self.tokens.insert(
            id,
            StoredToken {
                principal,
                expires_at,
                last_used: self.uses,
            },
        );
        Ok(())
    }

    /// The principal of a live token, marking it used; `None` if revoked, evicted or expired.
    pub fn lookup(&mut self, id: &str, now: u64) -> Option<Principal> {
        self.uses += 1;
        let uses = self.uses;
        match self.tokens.get_mut(id) {
            Some(t) if now < t.expires_at => {
                t.last_used = uses;
                Some(t.principal.clone())
            }
            Some(_) => {
                self.tokens.remove(id);
                None
            }
            None => None,
        }
    }

    /// `/logout`: false when the token was not live.
    pub fn revoke(&mut self, id: &str) -> bool {
        self.tokens.remove(id).is_some()
    }

    fn clean_up(&mut self, now: u64) {
        self.tokens.retain(|_, t| now < t.expires_at);
        self.last_clean_up = now;
    }
}

/// Failed logins a client may make before answers to it are delayed.
pub const FREE_LOGIN_FAILURES: u32 = 3;
/// The first delay; it doubles with every further failure.
pub const FIRST_LOGIN_DELAY: Duration = Duration::from_millis(500);
/// The longest delay.
pub const MAX_LOGIN_DELAY: Duration = Duration::from_secs(8);
/// A client's failures are forgotten after this long without one.
pub const LOGIN_FAILURE_MEMORY: Duration = Duration::from_secs(15 * 60);
/// Clients tracked at once; beyond it the stalest is forgotten.
pub const MAX_TRACKED_CLIENTS: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Slows down password guessing: after [`FREE_LOGIN_FAILURES`] failed logins from one address,
/// every further login attempt from it waits, doubling up to [`MAX_LOGIN_DELAY`]. A correct
/// password is still accepted after the wait, so nobody can lock an administrator out.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    clients: HashMap<IpAddr, Failures>,
}

impl LoginThrottle {
    /// How long to wait before checking this client's credentials.
    pub fn delay(&self, client: IpAddr, now: Instant) -> Duration {
        match self.clients.get(&client) {
            Some(f) if now.duration_since(f.last) < LOGIN_FAILURE_MEMORY => delay_after(f.count),
            _ => Duration::ZERO,
        }
    }

    pub fn record_failure(&mut self, client: IpAddr, now: Instant) {
        if !self.clients.contains_key(&client) && self.clients.len() >= MAX_TRACKED_CLIENTS {
            self.clients
                .retain(|_, f| now.duration_since(f.last) < LOGIN_FAILURE_MEMORY);
            if self.clients.len() >= MAX_TRACKED_CLIENTS
                && let Some(stalest) = self
                    .clients
                    .iter()
                    .min_by_key(|(_, f)| f.last)
                    .map(|(ip, _)| *ip)
            {
                self.clients.remove(&stalest);
            }
        }
        let entry = self.clients.entry(client).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.duration_since(entry.last) >= LOGIN_FAILURE_MEMORY {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
    }

    pub fn record_success(&mut self, client: IpAddr) {
        self.clients.remove(&client);
    }

    pub fn tracked(&self) -> usize {
        self.clients.len()
    }
}

fn delay_after(failures: u32) -> Duration {
    if failures < FREE_LOGIN_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_LOGIN_FAILURES).min(16);
    FIRST_LOGIN_DELAY
        .saturating_mul(1 << doublings)
        .min(MAX_LOGIN_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, password: &str, is_admin: bool) -> ApiUser {
        ApiUser {
            name: name.into(),
            password: password.into(),
            is_admin,
        }
    }

    fn principal(name: &str) -> Principal {
        Principal {
            user: name.into(),
            is_admin: false,
        }
    }

    #[test]
    fn users_authenticate_with_exact_credentials() {
        let store = UserStore::new(vec![user("admin", "admin", true), user("v", "pw", false)]);
        assert!(store.authenticate("admin", "admin").unwrap().is_admin);
        assert!(!store.authenticate("v", "pw").unwrap().is_admin);
        assert_eq!(store.authenticate("v", "pW"), None);
        assert_eq!(store.authenticate("V", "pw"), None);
        assert_eq!(store.authenticate("v", ""), None);
        assert!(store.uses_default_password());
        assert!(!UserStore::new(vec![user("admin", "x", true)]).uses_default_password());
    }

    #[test]
    fn tokens_live_until_expiry_or_revocation() {
        let mut store = TokenStore::new(10, true, Duration::from_secs(600));
        store.insert("a".into(), principal("u"), 100, 0).unwrap();
        assert_eq!(store.lookup("a", 99), Some(principal("u")));
        assert_eq!(store.lookup("a", 100), None);
        assert!(store.is_empty());
        store.insert("b".into(), principal("u"), 100, 0).unwrap();
        assert!(store.revoke("b"));
        assert!(!store.revoke("b"));
        assert_eq!(store.lookup("b", 1), None);
    }

    // MI JWTInMemoryTokenStore: when full, the least recently accessed token goes.
    #[test]
    fn store_at_max_size_plus_one_evicts_the_least_recently_used() {
        let mut store = TokenStore::new(2, true, Duration::from_secs(600));
        store.insert("a".into(), principal("a"), 100, 0).unwrap();
        store.insert("b".into(), principal("b"), 100, 0).unwrap();
        assert!(store.lookup("a", 1).is_some());
        store.insert("c".into(), principal("c"), 100, 1).unwrap();
        assert_eq!(store.len(), 2);
        assert!(store.lookup("b", 1).is_none());
        assert!(store.lookup("a", 1).is_some());
        assert!(store.lookup("c", 1).is_some());
    }

    #[test]
    fn store_without_eviction_refuses_when_full_unless_tokens_expired() {
        let mut store = TokenStore::new(1, false, Duration::from_secs(600));
        store.insert("a".into(), principal("a"), 100, 0).unwrap();
        assert_eq!(
            store.insert("b".into(), principal("b"), 100, 1),
            Err(StoreError::Full)
        );
        // Once "a" expired, the purge makes room.
        store.insert("b".into(), principal("b"), 300, 150).unwrap();
        assert!(store.lookup("b", 151).is_some());
    }

    #[test]
    fn clean_up_runs_after_its_interval() {
        let mut store = TokenStore::new(10, true, Duration::from_secs(600));
        store.insert("a".into(), principal("a"), 10, 0).unwrap();
        store
            .insert("b".into(), principal("b"), 10_000, 20)
            .unwrap();
        assert_eq!(store.len(), 2);
        store
            .insert("c".into(), principal("c"), 10_000, 700)
            .unwrap();
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn failed_logins_beyond_the_free_ones_are_delayed_and_doubling() {
        let mut t = LoginThrottle::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let now = Instant::now();
        for _ in 0..FREE_LOGIN_FAILURES - 1 {
            t.record_failure(ip, now);
        }
        assert_eq!(t.delay(ip, now), Duration::ZERO);
        t.record_failure(ip, now);
        assert_eq!(t.delay(ip, now), FIRST_LOGIN_DELAY);
        t.record_failure(ip, now);
        assert_eq!(t.delay(ip, now), FIRST_LOGIN_DELAY * 2);
        for _ in 0..40 {
            t.record_failure(ip, now);
        }
        assert_eq!(t.delay(ip, now), MAX_LOGIN_DELAY);
        assert_eq!(t.delay(other, now), Duration::ZERO);
        assert_eq!(
            t.delay(ip, now + LOGIN_FAILURE_MEMORY),
            Duration::ZERO,
            "forgotten after the memory period"
        );
        t.record_success(ip);
        assert_eq!(t.delay(ip, now), Duration::ZERO);
    }

    #[test]
    fn tracked_clients_limit_plus_one_forgets_the_stalest() {
        let mut t = LoginThrottle::default();
        let start = Instant::now();
        let stalest = IpAddr::from(0u32.to_be_bytes());
        for _ in 0..FREE_LOGIN_FAILURES {
            t.record_failure(stalest, start);
        }
        assert_eq!(t.delay(stalest, start), FIRST_LOGIN_DELAY);
        for i in 1..MAX_TRACKED_CLIENTS as u32 {
            let ip = IpAddr::from(i.to_be_bytes());
            t.record_failure(ip, start + Duration::from_millis(u64::from(i)));
        }
        assert_eq!(t.tracked(), MAX_TRACKED_CLIENTS);
        let newcomer: IpAddr = "203.0.113.9".parse().unwrap();
        t.record_failure(newcomer, start + Duration::from_secs(10));
        assert_eq!(t.tracked(), MAX_TRACKED_CLIENTS);
        assert_eq!(t.delay(stalest, start), Duration::ZERO);
    }
}
