//! Store-and-forward runtime: the in-memory message store ([`InMemoryStore`]: bounded, FIFO,
//! volatile — everything in it is lost when the process stops, as with MI's
//! SYN:`message/store/impl/memory/InMemoryStore.java`) and the scheduled forwarding loop
//! ([`spawn_forwarding`]) following SYN:`message/processor/impl/forwarder/ForwardingService.java`:
//! every `interval` it takes the head of the store, delivers it, removes it on success (a 2xx, or a
//! status listed in `non.retry.status.codes`), retries after `client.retry.interval` on failure, and
//! after `max.delivery.attempts` failures either deactivates itself (the message stays at the head)
//! or, with `max.delivery.drop=Enabled`, drops the message and goes on; and the sampling loop
//! ([`spawn_sampling`]). Both read any [`MessageStore`]; delivery itself is behind the [`Deliver`]
//! trait (`forward.rs` sends through the deployment's endpoints and sequences). A processor's
//! switch and counters are a [`ProcessorState`] the Management API reads.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub mod forward;
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

/// What one delivery attempt came to (decided by the [`Deliver`]er, which knows the reply).
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    /// Delivered: the message leaves the store.
    Delivered,
    /// Not delivered (no answer, or a status that is neither 2xx nor a non-retry code): retried.
    Failed(String),
    /// The processor cannot go on (its endpoint or reply sequence is gone): it deactivates and
    /// the message stays at the head (ForwardingService `deactivateMessageProcessor`).
    Deactivate(String),
}

/// Sends a stored message on: to the processor's target endpoint, or into its sequence.
pub trait Deliver: Send + Sync + 'static {
    fn deliver(&self, message: &StoredMessage) -> impl Future<Output = DeliveryOutcome> + Send;

    /// The processor deactivated itself on `message` (MI runs its deactivate sequence).
    fn deactivated(&self, message: &StoredMessage) -> impl Future<Output = ()> + Send {
        let _ = message;
        std::future::ready(())
    }

    /// Whether this instance may take messages now: with coordination across instances, only
    /// the one holding the processor's lock does; the others wait an interval and ask again.
    fn may_run(&self) -> bool {
        true
    }
}

/// `ForwardingService` settings (see `conflux_artifacts::message_processor::ForwardingSettings`).
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardingConfig {
    pub interval: Duration,
    pub retry_interval: Duration,
    /// `None`: retry forever.
    pub max_delivery_attempts: Option<u32>,
    pub drop_after_max_attempts: bool,
}

/// ForwardingService.validateResponse: a 2xx, or a status listed in `non.retry.status.codes`,
/// is a successful delivery.
pub fn is_delivered(status: u16, non_retry_status_codes: &[u16]) -> bool {
    (200..300).contains(&status) || non_retry_status_codes.contains(&status)
}

/// The state of one deployed message processor that the Management API reads and switches,
/// and its loop follows. Carried across a redeploy that leaves the processor unchanged.
#[derive(Debug)]
pub struct ProcessorState {
    name: String,
    /// MI's class name (`/management/message-processors` `type` comes from it).
    class: String,
    active: AtomicBool,
    woken: Notify,
    delivered: AtomicU64,
    dropped: AtomicU64,
}

/// The deployed message processors by name (`Deployment::attached`).
pub type MessageProcessors = Arc<std::collections::HashMap<String, Arc<ProcessorState>>>;

impl ProcessorState {
    pub fn new(name: impl Into<String>, class: impl Into<String>, active: bool) -> Self {
        Self {
            name: name.into(),
            class: class.into(),
            active: AtomicBool::new(active),
            woken: Notify::new(),
            delivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn class(&self) -> &str {
        &self.class
    }

    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::SeqCst)
    }

    /// Management API `status: active`: resumes with the message at the head, attempts reset.
    pub fn activate(&self) {
        self.active.store(true, Ordering::SeqCst);
        self.woken.notify_one();
    }

    /// Management API `status: inactive`.
    pub fn deactivate(&self) {
        self.active.store(false, Ordering::SeqCst);
    }

    /// Messages delivered (removed after a successful delivery, or handed to the sequence).
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::SeqCst)
    }

    /// Messages dropped after `max.delivery.attempts` with `max.delivery.drop=Enabled`.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::SeqCst)
    }
}

/// A running processor loop; dropping it (undeploy, change, shutdown) stops the loop.
#[derive(Debug)]
pub struct ProcessorTask {
    state: Arc<ProcessorState>,
    task: JoinHandle<()>,
}

impl ProcessorTask {
    pub fn state(&self) -> &Arc<ProcessorState> {
        &self.state
    }
}

impl Drop for ProcessorTask {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Spawns a scheduled forwarding processor's loop on the current tokio runtime.
pub fn spawn_forwarding<D: Deliver>(
    store: Arc<dyn MessageStore>,
    config: ForwardingConfig,
    deliver: Arc<D>,
    state: Arc<ProcessorState>,
) -> ProcessorTask {
    let task = tokio::spawn(forward_loop(store, config, deliver, state.clone()));
    ProcessorTask { state, task }
}

/// Spawns a message sampling processor's loop (SYN `sampler/SamplingService.java`): every
/// `interval`, up to `concurrency` messages are taken from the store and handed to `deliver`
/// (injected into the processor's sequence), whatever comes of them.
pub fn spawn_sampling<D: Deliver>(
    store: Arc<dyn MessageStore>,
    interval: Duration,
    concurrency: u32,
    deliver: Arc<D>,
    state: Arc<ProcessorState>,
) -> ProcessorTask {
    let shared = state.clone();
    let task = tokio::spawn(async move {
        loop {
            if !shared.is_active() {
                shared.woken.notified().await;
                continue;
            }
            if !deliver.may_run() {
                tokio::time::sleep(interval).await;
                continue;
            }
            for _ in 0..concurrency.max(1) {
                let message = match store.peek().await {
                    Ok(Some(message)) => message,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(target: "conflux::messaging", "message processor [{}]: {e}", shared.name);
                        break;
                    }
                };
                // SamplingService.fetch: received and acknowledged before it is dispatched.
                match store.remove(message.id).await {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        tracing::warn!(target: "conflux::messaging", "message processor [{}]: {e}", shared.name);
                        break;
                    }
                }
                deliver.deliver(&message).await;
                shared.delivered.fetch_add(1, Ordering::SeqCst);
            }
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = shared.woken.notified() => {}
            }
        }
    });
    ProcessorTask { state, task }
}

async fn forward_loop<D: Deliver>(
    store: Arc<dyn MessageStore>,
    config: ForwardingConfig,
    deliver: Arc<D>,
    shared: Arc<ProcessorState>,
) {
    let mut attempts: u32 = 0;
    loop {
        if !shared.is_active() {
            attempts = 0;
            shared.woken.notified().await;
            continue;
        }
        if !deliver.may_run() {
            attempts = 0;
            tokio::time::sleep(config.interval).await;
            continue;
        }
        let message = match store.peek().await {
            Ok(Some(message)) => message,
            Ok(None) => {
                // Idle: wait for a store or the next tick, whichever comes first.
                tokio::select! {
                    () = store.stored() => {}
                    () = tokio::time::sleep(config.interval) => {}
                }
                continue;
            }
            Err(e) => {
                tracing::warn!(target: "conflux::messaging", "message processor [{}]: {e}", shared.name);
                tokio::time::sleep(config.retry_interval).await;
                continue;
            }
        };
        match deliver.deliver(&message).await {
            DeliveryOutcome::Delivered => {
                if let Err(e) = store.remove(message.id).await {
                    tracing::warn!(target: "conflux::messaging", "message processor [{}]: {e}", shared.name);
                }
                shared.delivered.fetch_add(1, Ordering::SeqCst);
                attempts = 0;
                tokio::time::sleep(config.interval).await;
            }
            DeliveryOutcome::Deactivate(why) => {
                tracing::error!(target: "conflux::messaging", "{why}. Deactivated the message processor [{}].", shared.name);
                shared.deactivate();
                deliver.deactivated(&message).await;
            }
            DeliveryOutcome::Failed(why) => {
                attempts = attempts.saturating_add(1);
                tracing::warn!(target: "conflux::messaging", "message processor [{}] failed to forward message to its endpoint (attempt {attempts}): {why}", shared.name);
                if config
                    .max_delivery_attempts
                    .is_some_and(|max| attempts >= max)
                {
                    attempts = 0;
                    if config.drop_after_max_attempts {
                        tracing::warn!(target: "conflux::messaging", "Message processor [{}] failed to forward message {} times. Drop message and continue.", shared.name, config.max_delivery_attempts.unwrap_or_default());
                        if let Err(e) = store.remove(message.id).await {
                            tracing::warn!(target: "conflux::messaging", "message processor [{}]: {e}", shared.name);
                        }
                        shared.dropped.fetch_add(1, Ordering::SeqCst);
                    } else {
                        shared.deactivate();
                        deliver.deactivated(&message).await;
                    }
                    continue;
                }
                tokio::time::sleep(config.retry_interval).await;
            }
        }
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
                    Some(sc) if is_delivered(sc, &[404]) => DeliveryOutcome::Delivered,
                    Some(sc) => DeliveryOutcome::Failed(format!("HTTP_SC {sc}")),
                    None => DeliveryOutcome::Failed("connection refused".into()),
                }
            } else {
                self.accepted.lock().unwrap().push(message.payload.clone());
                DeliveryOutcome::Delivered
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
        }
    }

    fn start(
        store: &Arc<InMemoryStore>,
        config: ForwardingConfig,
        backend: &Arc<Backend>,
    ) -> ProcessorTask {
        let store: Arc<dyn MessageStore> = store.clone();
        let state = Arc::new(ProcessorState::new("P", "forwarding", true));
        spawn_forwarding(store, config, backend.clone(), state)
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
        let p = start(&store, config(Some(4), false), &backend);
        until(&backend, || p.state().delivered() == 3).await;
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
        assert!(p.state().is_active());
    }

    #[tokio::test]
    async fn deactivates_after_max_attempts_and_resumes_on_activate() {
        let store = Arc::new(InMemoryStore::new("S"));
        fill(&store, 2);
        let backend = Backend::new(3, None);
        let p = start(&store, config(Some(3), false), &backend);
        until(&backend, || !p.state().is_active()).await;
        assert_eq!(backend.attempts.lock().unwrap().len(), 3);
        assert_eq!(store.len(), 2, "the failed message stays at the head");
        p.state().activate();
        until(&backend, || p.state().delivered() == 2).await;
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
        let p = start(&store, config(Some(2), true), &backend);
        until(&backend, || p.state().delivered() == 1).await;
        assert_eq!(p.state().dropped(), 1);
        assert_eq!(
            *backend.accepted.lock().unwrap(),
            vec![Bytes::from(vec![1])]
        );
        assert!(p.state().is_active());
    }

    #[tokio::test]
    async fn non_retry_status_counts_as_delivered() {
        let store = Arc::new(InMemoryStore::new("S"));
        fill(&store, 1);
        let backend = Backend::new(1, Some(404));
        let p = start(&store, config(Some(4), false), &backend);
        until(&backend, || p.state().delivered() == 1).await;
        assert_eq!(backend.attempts.lock().unwrap().len(), 1);
        assert!(store.is_empty());
    }

    #[tokio::test]
    async fn a_message_stored_later_is_forwarded() {
        let store = Arc::new(InMemoryStore::new("S"));
        let backend = Backend::new(0, None);
        let p = start(&store, config(None, false), &backend);
        fill(&store, 1);
        until(&backend, || p.state().delivered() == 1).await;
    }
}
