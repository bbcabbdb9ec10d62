//! The message store contract every store kind implements ([`MessageStore`]: in-memory here,
//! JDBC and RabbitMQ in `conflux-messaging`), and [`MessageStores`], the deployed stores by name
//! that the `<store>` mediator writes to and message processors read from.
//!
//! The contract is MI's (SYN `message/store/MessageStore.java` and `MessageConsumer.java`): a
//! store is a FIFO queue; a consumer looks at the head (`peek`), and removes it only after it has
//! been handled (`remove`), so a crash between the two leaves the message in a durable store.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;

use super::{InMemoryStore, StoreError, StoredMessage};

/// A boxed future of a store operation (the trait is used as `dyn MessageStore`).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A message as the `<store>` mediator hands it to a store; the store assigns its id.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewMessage {
    pub payload: Bytes,
    pub content_type: Option<String>,
    /// Properties the forwarder needs (transport headers, HTTP method, ...), in order.
    pub properties: Vec<(String, String)>,
}

/// One deployed message store.
pub trait MessageStore: Send + Sync + std::fmt::Debug {
    /// The store's artifact name.
    fn name(&self) -> &str;

    /// MI's class name for `/management/message-stores` (`type`), e.g.
    /// `org.apache.synapse.message.store.impl.memory.InMemoryStore`.
    fn kind(&self) -> &str;

    /// Appends a message at the tail; returns its id.
    fn store(&self, message: NewMessage) -> StoreFuture<'_, u64>;

    /// The head, left in place.
    fn peek(&self) -> StoreFuture<'_, Option<StoredMessage>>;

    /// Removes message `id` if it is still at the head (it was handled); false otherwise.
    fn remove(&self, id: u64) -> StoreFuture<'_, bool>;

    /// How many messages the store holds.
    fn size(&self) -> StoreFuture<'_, usize>;

    /// Resolves when a message may have been stored since the last call (an idle processor waits
    /// on this or its interval, whichever comes first). Stores that cannot tell return at once;
    /// the processor then just waits for its interval.
    fn stored(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(std::future::pending())
    }
}

/// The deployed message stores by name. A hot redeploy keeps the store object (and so the
/// messages) of every store whose definition did not change.
pub type MessageStores = Arc<HashMap<String, Arc<dyn MessageStore>>>;

impl MessageStore for InMemoryStore {
    fn name(&self) -> &str {
        InMemoryStore::name(self)
    }

    fn kind(&self) -> &str {
        conflux_artifacts::message_store::IN_MEMORY_STORE_CLASS
    }

    fn store(&self, message: NewMessage) -> StoreFuture<'_, u64> {
        let result = InMemoryStore::store(
            self,
            message.payload,
            message.content_type,
            message.properties,
        );
        Box::pin(std::future::ready(result))
    }

    fn peek(&self) -> StoreFuture<'_, Option<StoredMessage>> {
        Box::pin(std::future::ready(Ok(InMemoryStore::peek(self))))
    }

    fn remove(&self, id: u64) -> StoreFuture<'_, bool> {
        Box::pin(std::future::ready(Ok(self.remove_head(id))))
    }

    fn size(&self) -> StoreFuture<'_, usize> {
        Box::pin(std::future::ready(Ok(self.len())))
    }

    fn stored(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(self.stored.notified())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_memory_store_behind_the_trait_is_fifo() {
        let store: Arc<dyn MessageStore> = Arc::new(InMemoryStore::with_capacity("S", 2));
        let first = store
            .store(NewMessage {
                payload: Bytes::from_static(b"1"),
                ..NewMessage::default()
            })
            .await
            .unwrap();
        store.store(NewMessage::default()).await.unwrap();
        assert!(store.store(NewMessage::default()).await.is_err());
        assert_eq!(store.size().await.unwrap(), 2);
        let head = store.peek().await.unwrap().unwrap();
        assert_eq!(head.id, first);
        assert!(store.remove(first).await.unwrap());
        assert!(!store.remove(first).await.unwrap());
        assert_eq!(store.size().await.unwrap(), 1);
        assert_eq!(
            store.kind(),
            conflux_artifacts::message_store::IN_MEMORY_STORE_CLASS
        );
    }
}
