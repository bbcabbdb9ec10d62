//! Opening a deployed `<messageStore>` as a running store: [`open`] picks the implementation by
//! the artifact's kind (in-memory here; JDBC and RabbitMQ in their own files).

use std::sync::Arc;

use conflux_artifacts::message_store::{MessageStore as StoreDefinition, MessageStoreKind};
use conflux_mediation::messaging::{InMemoryStore, MessageStore};

/// Why a store could not be opened; names the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("message store '{store}': {reason}")]
    Invalid { store: String, reason: String },
}

/// The running store of `definition`. Durable stores connect lazily: a broker or database that
/// is down makes `store`/`peek` fail, not the deployment.
pub fn open(definition: &StoreDefinition) -> Result<Arc<dyn MessageStore>, OpenError> {
    match &definition.kind {
        MessageStoreKind::InMemory => Ok(Arc::new(InMemoryStore::new(definition.name.clone()))),
    }
}
