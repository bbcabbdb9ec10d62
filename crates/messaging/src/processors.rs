//! Message processors kept in step with the deployment ([`ProcessorsComponent`]):
//!
//! - in `prepare`, every `<messageProcessor>` of the new deployment gets its switch and counters
//!   (a [`ProcessorState`], attached as `deployment.attached.message_processors` for the
//!   Management API). An unchanged processor over an unchanged store keeps its state, so a
//!   processor an operator deactivated stays inactive across a hot redeploy (as proxies'
//!   switches do); a new or changed one starts as its `is.active` says;
//! - in `published`, the loops follow: a kept processor's loop goes on, a changed or new one
//!   starts, a removed one stops.
//!
//! The scheduled message forwarding processor (SYN
//! `message/processor/impl/forwarder/ForwardingService.java`) sends each message to its named
//! target endpoint through the live deployment's sender ([`Deployment::forward`]); the sampling
//! processor (SYN `sampler/SamplingService.java`) injects each message into its sequence. Both
//! load the current snapshot at each message, so they use the endpoints and sequences of the
//! latest deployment.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conflux_artifacts::Artifacts;
use conflux_artifacts::message_processor::{MessageProcessor, MessageProcessorKind};
use conflux_mediation::messaging::forward::ForwardTarget;
use conflux_mediation::messaging::{
    Deliver, DeliveryOutcome, ForwardingConfig, MessageStore, ProcessorState, ProcessorTask,
    StoredMessage, spawn_forwarding, spawn_sampling,
};
use conflux_mediation::runtime::deployment::Deployment;

use crate::tasks::Leadership;
use crate::{Component, LiveSwap};

const LOG: &str = "conflux::messaging";

/// A processor of the prepared deployment: its definition and store (to tell a change), its state.
struct Prepared {
    definition: MessageProcessor,
    store: Arc<dyn MessageStore>,
    state: Arc<ProcessorState>,
}

pub struct ProcessorsComponent {
    /// What the last `prepare` attached, by processor name.
    prepared: Mutex<HashMap<String, Prepared>>,
    /// The running loops, by processor name.
    running: Mutex<HashMap<String, ProcessorTask>>,
    /// Whether this instance may run a processor now (coordination across instances).
    leadership: Arc<dyn Leadership>,
}

impl ProcessorsComponent {
    pub fn new(leadership: Arc<dyn Leadership>) -> ProcessorsComponent {
        ProcessorsComponent {
            prepared: Mutex::default(),
            running: Mutex::default(),
            leadership,
        }
    }
}

/// The coordination lock name of processor `name` (tasks use their bare names).
fn lock_name(processor: &str) -> String {
    format!("processor:{processor}")
}

/// Whether `a` and `b` define the same processor (where they were read from does not count).
fn same_definition(a: &MessageProcessor, b: &MessageProcessor) -> bool {
    let parameters = |p: &MessageProcessor| -> Vec<(String, String)> {
        p.parameters
            .iter()
            .map(|p| (p.name.clone(), p.value.clone()))
            .collect()
    };
    a.name == b.name
        && a.class == b.class
        && a.message_store == b.message_store
        && a.target_endpoint == b.target_endpoint
        && a.kind == b.kind
        && parameters(a) == parameters(b)
}

fn starts_active(p: &MessageProcessor) -> bool {
    match &p.kind {
        MessageProcessorKind::Forwarding(f) => f.active,
        MessageProcessorKind::Sampling(s) => s.active,
    }
}

impl Component for ProcessorsComponent {
    fn prepare(&self, deployment: &mut Deployment, artifacts: &Artifacts) {
        let Ok(mut prepared) = self.prepared.lock() else {
            return;
        };
        let mut next = HashMap::new();
        for definition in &artifacts.message_processors {
            // MI (MessageProcessorFactory / ScheduledMessageProcessor.init): a processor whose
            // store is not deployed cannot run; `conflux check` reports it too.
            let Some(store) = deployment
                .attached
                .message_stores
                .get(&definition.message_store)
                .cloned()
            else {
                tracing::error!(target: LOG, "message processor [{}]: message store {} is not deployed; the processor does not run", definition.name, definition.message_store);
                continue;
            };
            let state = match prepared.get(&definition.name) {
                Some(old)
                    if same_definition(&old.definition, definition)
                        && Arc::ptr_eq(&old.store, &store) =>
                {
                    old.state.clone()
                }
                _ => Arc::new(ProcessorState::new(
                    definition.name.clone(),
                    definition.class.clone(),
                    starts_active(definition),
                )),
            };
            next.insert(
                definition.name.clone(),
                Prepared {
                    definition: definition.clone(),
                    store,
                    state,
                },
            );
        }
        deployment.attached.message_processors = Arc::new(
            next.iter()
                .map(|(name, p)| (name.clone(), p.state.clone()))
                .collect(),
        );
        *prepared = next;
    }

    fn published(&self, live: &LiveSwap) {
        let current = live.load_full();
        let attached = current.deployment.attached.message_processors.clone();
        let (Ok(prepared), Ok(mut running)) = (self.prepared.lock(), self.running.lock()) else {
            return;
        };
        // Stop what is gone or changed (a changed processor has a new state object).
        running.retain(|name, task| {
            let kept = attached
                .get(name)
                .is_some_and(|state| Arc::ptr_eq(state, task.state()));
            if !kept {
                tracing::info!(target: LOG, "Message processor [{name}] stopped");
            }
            kept
        });
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(target: LOG, "no async runtime: message processors not started");
            return;
        };
        let _guard = runtime.enter();
        for (name, p) in prepared.iter() {
            // Only what the live snapshot attached (a prepared deployment may not have been
            // published).
            let live_state = attached.get(name);
            if running.contains_key(name) || !live_state.is_some_and(|s| Arc::ptr_eq(s, &p.state)) {
                continue;
            }
            let task = match &p.definition.kind {
                MessageProcessorKind::Forwarding(f) => {
                    let config = ForwardingConfig {
                        interval: Duration::from_millis(f.interval_ms),
                        retry_interval: Duration::from_millis(f.retry_interval_ms),
                        max_delivery_attempts: f.max_delivery_attempts,
                        drop_after_max_attempts: f.drop_after_max_attempts,
                    };
                    let forwarder = Forwarder {
                        live: live.clone(),
                        target: ForwardTarget {
                            processor: name.clone(),
                            endpoint: p.definition.target_endpoint.clone().unwrap_or_default(),
                            non_retry_status_codes: f.non_retry_status_codes.clone(),
                            reply_sequence: f.reply_sequence.clone(),
                            fault_sequence: f.fault_sequence.clone(),
                        },
                        deactivate_sequence: f.deactivate_sequence.clone(),
                        leadership: self.leadership.clone(),
                    };
                    spawn_forwarding(
                        p.store.clone(),
                        config,
                        Arc::new(forwarder),
                        p.state.clone(),
                    )
                }
                MessageProcessorKind::Sampling(s) => spawn_sampling(
                    p.store.clone(),
                    Duration::from_millis(s.interval_ms),
                    s.concurrency,
                    Arc::new(Sampler {
                        live: live.clone(),
                        processor: name.clone(),
                        sequence: s.sequence.clone(),
                        leadership: self.leadership.clone(),
                    }),
                    p.state.clone(),
                ),
            };
            tracing::info!(target: LOG, "Message processor [{name}] started ({})", if p.state.is_active() { "active" } else { "inactive" });
            running.insert(name.clone(), task);
        }
    }

    fn shutdown(&self) {
        if let Ok(mut running) = self.running.lock() {
            running.clear();
        }
    }
}

/// Sends through the live deployment's named endpoint.
struct Forwarder {
    live: LiveSwap,
    target: ForwardTarget,
    deactivate_sequence: Option<String>,
    leadership: Arc<dyn Leadership>,
}

impl Deliver for Forwarder {
    fn may_run(&self) -> bool {
        self.leadership.may_run(&lock_name(&self.target.processor))
    }

    fn deliver(&self, message: &StoredMessage) -> impl Future<Output = DeliveryOutcome> + Send {
        let live = self.live.load_full();
        let target = self.target.clone();
        let message = message.clone();
        async move {
            live.deployment
                .forward(&live.sender, &target, &message)
                .await
        }
    }

    /// ForwardingService.deactivateMessageProcessor: the deactivate sequence runs on the message.
    fn deactivated(&self, message: &StoredMessage) -> impl Future<Output = ()> + Send {
        let live = self.live.load_full();
        let sequence = self.deactivate_sequence.clone();
        let artifact = format!("processor:{}", self.target.processor);
        let message = message.clone();
        async move {
            let Some(sequence) = sequence else { return };
            if !live
                .deployment
                .run_stored(&live.sender, &sequence, &artifact, &message)
                .await
            {
                tracing::warn!(target: LOG, "Failed to send the message through the deactivate sequence. Sequence [{sequence}] does not Exist.");
            }
        }
    }
}

/// Injects into the live deployment's sequence.
struct Sampler {
    live: LiveSwap,
    processor: String,
    sequence: String,
    leadership: Arc<dyn Leadership>,
}

impl Deliver for Sampler {
    fn may_run(&self) -> bool {
        self.leadership.may_run(&lock_name(&self.processor))
    }

    fn deliver(&self, message: &StoredMessage) -> impl Future<Output = DeliveryOutcome> + Send {
        let live = self.live.load_full();
        let sequence = self.sequence.clone();
        let artifact = format!("processor:{}", self.processor);
        let message = message.clone();
        async move {
            if live
                .deployment
                .run_stored(&live.sender, &sequence, &artifact, &message)
                .await
            {
                DeliveryOutcome::Delivered
            } else {
                // SamplingService.dispatch: "Sequence X not found" (the message is gone).
                tracing::error!(target: LOG, "message processor [{artifact}]: sequence {sequence} not found; the message is dropped");
                DeliveryOutcome::Failed(format!("sequence {sequence} not found"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stores::StoresComponent;

    const NS: &str = "http://ws.apache.org/ns/synapse";

    fn artifacts(interval: &str) -> Artifacts {
        let mut a = Artifacts::default();
        a.message_stores.push(
            conflux_artifacts::message_store::parse_message_store(
                "s.xml",
                &format!(r#"<messageStore xmlns="{NS}" name="S"/>"#),
            )
            .unwrap(),
        );
        a.message_processors.push(
            conflux_artifacts::message_processor::parse_message_processor(
                "p.xml",
                &format!(
                    r#"<messageProcessor xmlns="{NS}" name="P" messageStore="S" targetEndpoint="E"><parameter name="interval">{interval}</parameter></messageProcessor>"#
                ),
            )
            .unwrap(),
        );
        a
    }

    fn prepare(stores: &StoresComponent, p: &ProcessorsComponent, a: &Artifacts) -> Deployment {
        let mut d = Deployment::empty();
        stores.prepare(&mut d, a);
        p.prepare(&mut d, a);
        d
    }

    // A processor an operator deactivated stays inactive across a redeploy that leaves it
    // unchanged; a changed one starts as its definition says.
    #[test]
    fn an_unchanged_processor_keeps_its_switch_across_a_redeploy() {
        let (stores, processors) = (
            StoresComponent::default(),
            ProcessorsComponent::new(Arc::new(crate::tasks::Standalone)),
        );
        let first = prepare(&stores, &processors, &artifacts("100"));
        let state = first.attached.message_processors["P"].clone();
        assert!(state.is_active());
        state.deactivate();
        let second = prepare(&stores, &processors, &artifacts("100"));
        assert!(Arc::ptr_eq(
            &second.attached.message_processors["P"],
            &state
        ));
        assert!(!second.attached.message_processors["P"].is_active());
        let third = prepare(&stores, &processors, &artifacts("200"));
        assert!(!Arc::ptr_eq(
            &third.attached.message_processors["P"],
            &state
        ));
        assert!(third.attached.message_processors["P"].is_active());
    }

    // A processor whose store is not deployed does not run (and is not attached).
    #[test]
    fn a_processor_without_its_store_is_not_attached() {
        let mut a = artifacts("100");
        a.message_stores.clear();
        let (stores, processors) = (
            StoresComponent::default(),
            ProcessorsComponent::new(Arc::new(crate::tasks::Standalone)),
        );
        let d = prepare(&stores, &processors, &a);
        assert!(d.attached.message_processors.is_empty());
    }
}
