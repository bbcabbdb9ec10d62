//! Opening a deployed `<messageStore>` as a running store: [`open`] picks the implementation by
//! the artifact's kind (in-memory here; JDBC and RabbitMQ in their own files); and
//! [`StoresComponent`], which attaches the open stores to every deployment, carrying over the
//! store objects of unchanged definitions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use conflux_artifacts::Artifacts;
use conflux_mediation::runtime::deployment::Deployment;

use crate::Component;

pub mod jdbc;
pub mod rabbitmq;

const LOG: &str = "conflux::messaging";

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
    open_in(definition, &jdbc::JdbcEnv::default())
}

/// [`open`], resolving a JDBC store's `store.jdbc.dsName` and relative SQLite path in `env`.
pub fn open_in(
    definition: &StoreDefinition,
    env: &jdbc::JdbcEnv,
) -> Result<Arc<dyn MessageStore>, OpenError> {
    match &definition.kind {
        MessageStoreKind::InMemory => Ok(Arc::new(InMemoryStore::new(definition.name.clone()))),
        MessageStoreKind::Jdbc(settings) => {
            jdbc::open(&definition.name, settings, env).map_err(|e| {
                // Without a position of its own, the fault is in the URL's parameter (an
                // unsupported database, a driver class that does not take the URL).
                let reason = match e {
                    jdbc::JdbcOpenError::Db(e, at) if at.is_empty() => {
                        let at = definition
                            .parameters
                            .iter()
                            .rev()
                            .find(|p| p.name == "store.jdbc.connection.url")
                            .map_or(&definition.span, |p| &p.span);
                        format!("{e} at {at}")
                    }
                    other => other.to_string(),
                };
                OpenError::Invalid {
                    store: definition.name.clone(),
                    reason,
                }
            })
        }
        MessageStoreKind::RabbitMq(settings) => Ok(Arc::new(rabbitmq::RabbitMqStore::new(
            &definition.name,
            settings,
        ))),
    }
}

/// A store that is open, with the definition it was opened from.
type OpenStore = (StoreDefinition, Arc<dyn MessageStore>);

/// Opens the message stores of each deployment and attaches them
/// (`deployment.attached.message_stores`). A store whose definition did not change keeps its
/// running object, so the messages of an in-memory store survive a hot redeploy of other
/// artifacts; a changed or new one is opened afresh.
#[derive(Default)]
pub struct StoresComponent {
    /// The stores attached to the last prepared deployment, with their definitions.
    open: Mutex<HashMap<String, OpenStore>>,
    /// What JDBC stores resolve `store.jdbc.dsName` and relative paths against.
    jdbc_env: jdbc::JdbcEnv,
}

impl StoresComponent {
    /// The component of a server with `config` (its home and `[[datasource]]`s).
    pub fn new(config: &conflux_config::Config) -> StoresComponent {
        StoresComponent {
            open: Mutex::default(),
            jdbc_env: jdbc::JdbcEnv {
                home: Some(config.home.clone()),
                datasources: config.datasources.clone(),
            },
        }
    }
}

/// Whether `a` and `b` define the same store (where they were read from does not count).
fn same_definition(a: &StoreDefinition, b: &StoreDefinition) -> bool {
    let parameters = |s: &StoreDefinition| -> Vec<(String, String)> {
        s.parameters
            .iter()
            .map(|p| (p.name.clone(), p.value.clone()))
            .collect()
    };
    a.name == b.name && a.kind == b.kind && a.class == b.class && parameters(a) == parameters(b)
}

impl Component for StoresComponent {
    fn prepare(&self, deployment: &mut Deployment, artifacts: &Artifacts) {
        let Ok(mut open_now) = self.open.lock() else {
            return;
        };
        let mut next = HashMap::new();
        for definition in &artifacts.message_stores {
            let carried = open_now
                .get(&definition.name)
                .filter(|(old, _)| same_definition(old, definition))
                .map(|(_, store)| store.clone());
            let store = match carried {
                Some(store) => store,
                None => match open_in(definition, &self.jdbc_env) {
                    Ok(store) => {
                        tracing::info!(target: LOG, "Message Store [{}] deployed", definition.name);
                        store
                    }
                    Err(e) => {
                        tracing::error!(target: LOG, "{e}");
                        continue;
                    }
                },
            };
            next.insert(definition.name.clone(), (definition.clone(), store));
        }
        for name in open_now.keys().filter(|n| !next.contains_key(*n)) {
            tracing::info!(target: LOG, "Message Store [{name}] undeployed");
        }
        let attached: HashMap<String, Arc<dyn MessageStore>> = next
            .iter()
            .map(|(name, (_, store))| (name.clone(), store.clone()))
            .collect();
        deployment.attached.message_stores = Arc::new(attached);
        *open_now = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifacts(stores: &[(&str, &str)]) -> Artifacts {
        let mut a = Artifacts::default();
        for (name, class) in stores {
            let xml = format!(
                "<messageStore xmlns=\"http://ws.apache.org/ns/synapse\" name=\"{name}\" class=\"{class}\"/>"
            );
            a.message_stores.push(
                conflux_artifacts::message_store::parse_message_store("s.xml", &xml).unwrap(),
            );
        }
        a
    }

    #[test]
    fn an_unchanged_store_keeps_its_object_across_a_redeploy() {
        let c = StoresComponent::default();
        let class = conflux_artifacts::message_store::IN_MEMORY_STORE_CLASS;
        let mut first = Deployment::empty();
        c.prepare(&mut first, &artifacts(&[("A", class), ("B", class)]));
        let mut second = Deployment::empty();
        c.prepare(&mut second, &artifacts(&[("A", class)]));
        assert!(Arc::ptr_eq(
            &first.attached.message_stores["A"],
            &second.attached.message_stores["A"]
        ));
        assert!(!second.attached.message_stores.contains_key("B"));
        let mut third = Deployment::empty();
        c.prepare(&mut third, &artifacts(&[("A", class), ("B", class)]));
        assert_eq!(third.attached.message_stores.len(), 2);
    }
}
