//! Store-and-forward runtime: the in-memory message store ([`InMemoryStore`]: bounded, FIFO,
//! volatile — everything in it is lost when the process stops, as with MI's
//! SYN:`message/store/impl/memory/InMemoryStore.java`) and the scheduled forwarding loop
//! ([`ForwardingProcessor`]) following SYN:`message/processor/impl/forwarder/ForwardingService.java`:
//! every `interval` it takes the head of the store, delivers it, removes it on success (a 2xx, or a
//! status listed in `non.retry.status.codes`), retries after `client.retry.interval` on failure, and
//! after `max.delivery.attempts` failures either deactivates itself (the message stays at the head)
//! or, with `max.delivery.drop=Enabled`, drops the message and goes on. Delivery itself is behind
//! the [`Deliver`] trait so the server can plug in its endpoint runtime.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub mod store;
pub use store::{MessageStore, MessageStores, NewMessage, StoreFuture};

/// Most messages one in-memory store holds. MI's store is unbounded (a `ConcurrentLinkedQueue`);
/// Conflux refuses the message past this count so a dead backend cannot exhaust memory.
pub const IN_MEMORY_STORE_MAX_MESSAGES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// MessageStoreMediator: "Failed to store message" — here because the store is full.
    #[error("message store '{store}' is full ({limit} messages); the message was not stored")]
    Full { store: String, limit: usize },
    /// A durable store's broker or database cannot be reached or refused the operation.
    #[error("message store '{store}' is unavailable: {reason}")]
    Unavailable { store: String, reason: String },
}

/// A copy of a message as the `<store>` mediator saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMessage {
    /// Store-assigned, increasing.
    pub id: u64,
    pub payload: Bytes,
    pub content_type: Option<String>,
    /// Properties the forwarder needs (headers, HTTP method, ...), in order.
    pub properties: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct InMemoryStore {
    name: String,
    capacity: usize,
    queue: Mutex<VecDeque<StoredMessage>>,
    next_id: AtomicU64,
    /// Woken on every store, so an idle processor need not wait for its next tick.
    stored: Notify,
}

impl InMemoryStore {
    pub fn new(name: impl Into<String>) -> Self {
        Self::with_capacity(name, IN_MEMORY_STORE_MAX_MESSAGES)
    }

    pub fn with_capacity(name: impl Into<String>, capacity: usize) -> Self {
        Self {
            name: name.into(),
            capacity,
            queue: Mutex::new(VecDeque::new()),
            next_id: AtomicU64::new(1),
            stored: Notify::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn queue(&self) -> MutexGuard<'_, VecDeque<StoredMessage>> {
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends a message at the tail; returns its id.
    pub fn store(
        &self,
        payload: Bytes,
        content_type: Option<String>,
        properties: Vec<(String, String)>,
    ) -> Result<u64, StoreError> {
        let mut queue = self.queue();
        if queue.len() >= self.capacity {
            return Err(StoreError::Full {
                store: self.name.clone(),
                limit: self.capacity,
            });
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        queue.push_back(StoredMessage {
            id,
            payload,
            content_type,
            properties,
        });
        drop(queue);
        self.stored.notify_one();
        Ok(id)
    }

    /// The head, left in place.
    pub fn peek(&self) -> Option<StoredMessage> {
        self.queue().front().cloned()
    }

    /// Removes the head if it is still message `id`.
    pub fn remove_head(&self, id: u64) -> bool {
        let mut queue = self.queue();
        if queue.front().is_some_and(|m| m.id == id) {
            queue.pop_front();
            true
        } else {
            false
        }
    }

    pub fn len(&self) -> usize {
        self.queue().len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue().is_empty()
    }

    /// Every message, head first (for the Management API).
    pub fn snapshot(&self) -> Vec<StoredMessage> {
        self.queue().iter().cloned().collect()
    }
}

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    /// The backend answered with this HTTP status.
    Status(u16),
    /// No response: connection refused, timeout, ...
    Failed(String),
}

/// Sends a stored message to the processor's target endpoint.
pub trait Deliver: Send + Sync + 'static {
    fn deliver(&self, message: &StoredMessage) -> impl Future<Output = DeliveryOutcome> + Send;
}

/// `ForwardingService` settings (see `conflux_artifacts::message_processor::ForwardingSettings`).
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardingConfig {
    pub interval: Duration,
    pub retry_interval: Duration,
    /// `None`: retry forever.
    pub max_delivery_attempts: Option<u32>,
    pub drop_after_max_attempts: bool,
    pub non_retry_status_codes: Vec<u16>,
    pub start_active: bool,
}

impl ForwardingConfig {
    /// ForwardingService.validateResponse: a 2xx or a listed non-retry status is a success.
    fn is_success(&self, outcome: &DeliveryOutcome) -> bool {
        match outcome {
            DeliveryOutcome::Status(sc) => {
                (200..300).contains(sc) || self.non_retry_status_codes.contains(sc)
            }
            DeliveryOutcome::Failed(_) => false,
        }
    }
}

#[derive(Debug)]
struct Shared {
    active: AtomicBool,
    woken: Notify,
    delivered: AtomicU64,
    dropped: AtomicU64,
}

/// A running forwarding processor; dropping it (undeploy, shutdown) stops its task.
#[derive(Debug)]
pub struct ForwardingProcessor {
    name: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl ForwardingProcessor {
    /// Spawns the processor's loop on the current tokio runtime.
    pub fn spawn<D: Deliver>(
        name: impl Into<String>,
        store: Arc<InMemoryStore>,
        config: ForwardingConfig,
        deliver: Arc<D>,
    ) -> Self {
        let shared = Arc::new(Shared {
            active: AtomicBool::new(config.start_active),
            woken: Notify::new(),
            delivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        });
        let task = tokio::spawn(run(store, config, deliver, shared.clone()));
        Self {
            name: name.into(),
            shared,
            task,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_active(&self) -> bool {
        self.shared.active.load(Ordering::SeqCst)
    }

    /// Management API `status: active`: resumes with the message at the head, attempts reset.
    pub fn activate(&self) {
        self.shared.active.store(true, Ordering::SeqCst);
        self.shared.woken.notify_one();
    }

    /// Management API `status: inactive`.
    pub fn deactivate(&self) {
        self.shared.active.store(false, Ordering::SeqCst);
    }

    /// Messages removed after a successful delivery.
    pub fn delivered(&self) -> u64 {
        self.shared.delivered.load(Ordering::SeqCst)
    }

    /// Messages dropped after `max.delivery.attempts` with `max.delivery.drop=Enabled`.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::SeqCst)
    }
}

impl Drop for ForwardingProcessor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run<D: Deliver>(
    store: Arc<InMemoryStore>,
    config: ForwardingConfig,
    deliver: Arc<D>,
    shared: Arc<Shared>,
) {
    let mut attempts: u32 = 0;
    loop {
        if !shared.active.load(Ordering::SeqCst) {
            attempts = 0;
            shared.woken.notified().await;
            continue;
        }
        let Some(message) = store.peek() else {
            // Idle: wait for a store or the next tick, whichever comes first.
            tokio::select! {
                () = store.stored.notified() => {}
                () = tokio::time::sleep(config.interval) => {}
            }
            continue;
        };
        let outcome = deliver.deliver(&message).await;
        if config.is_success(&outcome) {
            store.remove_head(message.id);
            shared.delivered.fetch_add(1, Ordering::SeqCst);
            attempts = 0;
            tokio::time::sleep(config.interval).await;
            continue;
        }
        attempts = attempts.saturating_add(1);
        if config
            .max_delivery_attempts
            .is_some_and(|max| attempts >= max)
        {
            attempts = 0;
            if config.drop_after_max_attempts {
                store.remove_head(message.id);
                shared.dropped.fetch_add(1, Ordering::SeqCst);
            } else {
                shared.active.store(false, Ordering::SeqCst);
            }
            continue;
        }
        tokio::time::sleep(config.retry_interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_is_fifo_and_refuses_past_its_limit() {
        let store = InMemoryStore::with_capacity("S", 3);
        for i in 0..3u8 {
            store.store(Bytes::from(vec![i]), None, Vec::new()).unwrap();
        }
        // limit + 1
        assert_eq!(
            store.store(Bytes::from_static(b"x"), None, Vec::new()),
            Err(StoreError::Full {
                store: "S".into(),
                limit: 3
            })
        );
        let head = store.peek().unwrap();
        assert_eq!(head.payload.as_ref(), &[0]);
        assert!(store.remove_head(head.id));
        assert!(!store.remove_head(head.id));
        assert_eq!(store.peek().unwrap().payload.as_ref(), &[1]);
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn default_capacity_is_the_named_limit() {
        let store = InMemoryStore::new("S");
        for _ in 0..IN_MEMORY_STORE_MAX_MESSAGES {
            store.store(Bytes::new(), None, Vec::new()).unwrap();
        }
        assert!(store.store(Bytes::new(), None, Vec::new()).is_err());
    }

    /// Fails the first `fail` attempts (with `status`, or no response), then answers `200`;
    /// records every payload it saw and every one it accepted.
    struct Backend {
        fail: Mutex<u32>,
        status: Option<u16>,
        attempts: Mutex<Vec<Bytes>>,
        accepted: Mutex<Vec<Bytes>>,
        seen: Notify,
    }

    impl Backend {
        fn new(fail: u32, status: Option<u16>) -> Arc<Self> {
            Arc::new(Self {
                fail: Mutex::new(fail),
                status,
                attempts: Mutex::new(Vec::new()),
                accepted: Mutex::new(Vec::new()),
                seen: Notify::new(),
            })
        }
    }

    impl Deliver for Backend {
        fn deliver(&self, message: &StoredMessage) -> impl Future<Output = DeliveryOutcome> + Send {
            self.attempts.lock().unwrap().push(message.payload.clone());
            let mut fail = self.fail.lock().unwrap();
            let outcome = if *fail > 0 {
                *fail -= 1;
                match self.status {
                    Some(sc) => DeliveryOutcome::Status(sc),
                    None => DeliveryOutcome::Failed("connection refused".into()),
                }
            } else {
                self.accepted.lock().unwrap().push(message.payload.clone());
                DeliveryOutcome::Status(200)
            };
            drop(fail);
            self.seen.notify_one();
            std::future::ready(outcome)
        }
    }

    fn config(max: Option<u32>, drop: bool) -> ForwardingConfig {
        ForwardingConfig {
            interval: Duration::from_millis(1),
            retry_interval: Duration::from_millis(1),
            max_delivery_attempts: max,
            drop_after_max_attempts: drop,
            non_retry_status_codes: vec![404],
            start_active: true,
        }
    }

    /// Waits (bounded by a generous deadline that only guards against a hang) until `done`.
    async fn until(backend: &Backend, done: impl Fn() -> bool) {
        tokio::time::timeout(Duration::from_secs(30), async {
            while !done() {
                tokio::select! {
                    () = backend.seen.notified() => {}
                    () = tokio::time::sleep(Duration::from_millis(5)) => {}
                }
            }
        })
        .await
        .expect("processor made no progress");
    }

    fn fill(store: &InMemoryStore, n: u8) {
        for i in 0..n {
            store.store(Bytes::from(vec![i]), None, Vec::new()).unwrap();
        }
    }

    #[tokio::test]
    async fn retries_then_delivers_in_order_exactly_once() {
        let store = Arc::new(InMemoryStore::new("S"));
        fill(&store, 3);
        let backend = Backend::new(2, Some(503));
        let p =
            ForwardingProcessor::spawn("P", store.clone(), config(Some(4), false), backend.clone());
        until(&backend, || p.delivered() == 3).await;
        assert_eq!(
            *backend.accepted.lock().unwrap(),
            vec![
                Bytes::from(vec![0]),
                Bytes::from(vec![1]),
                Bytes::from(vec![2])
            ]
        );
        // two failed attempts at the head, then one each
        assert_eq!(backend.attempts.lock().unwrap().len(), 5);
        assert!(store.is_empty());
        assert!(p.is_active());
    }

    #[tokio::test]
    async fn deactivates_after_max_attempts_and_resumes_on_activate() {
        let store = Arc::new(InMemoryStore::new("S"));
        fill(&store, 2);
        let backend = Backend::new(3, None);
        let p =
            ForwardingProcessor::spawn("P", store.clone(), config(Some(3), false), backend.clone());
        until(&backend, || !p.is_active()).await;
        assert_eq!(backend.attempts.lock().unwrap().len(), 3);
        assert_eq!(store.len(), 2, "the failed message stays at the head");
        p.activate();
        until(&backend, || p.delivered() == 2).await;
        assert_eq!(
            *backend.accepted.lock().unwrap(),
            vec![Bytes::from(vec![0]), Bytes::from(vec![1])]
        );
    }

    #[tokio::test]
    async fn drop_enabled_discards_the_message_and_continues() {
        let store = Arc::new(InMemoryStore::new("S"));
        fill(&store, 2);
        let backend = Backend::new(2, Some(500));
        let p =
            ForwardingProcessor::spawn("P", store.clone(), config(Some(2), true), backend.clone());
        until(&backend, || p.delivered() == 1).await;
        assert_eq!(p.dropped(), 1);
        assert_eq!(
            *backend.accepted.lock().unwrap(),
            vec![Bytes::from(vec![1])]
        );
        assert!(p.is_active());
    }

    #[tokio::test]
    async fn non_retry_status_counts_as_delivered() {
        let store = Arc::new(InMemoryStore::new("S"));
        fill(&store, 1);
        let backend = Backend::new(1, Some(404));
        let p =
            ForwardingProcessor::spawn("P", store.clone(), config(Some(4), false), backend.clone());
        until(&backend, || p.delivered() == 1).await;
        assert_eq!(backend.attempts.lock().unwrap().len(), 1);
        assert!(store.is_empty());
    }

    #[tokio::test]
    async fn a_message_stored_later_is_forwarded() {
        let store = Arc::new(InMemoryStore::new("S"));
        let backend = Backend::new(0, None);
        let p =
            ForwardingProcessor::spawn("P", store.clone(), config(None, false), backend.clone());
        fill(&store, 1);
        until(&backend, || p.delivered() == 1).await;
    }
}
