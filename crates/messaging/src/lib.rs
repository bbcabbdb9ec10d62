//! The asynchronous side of Conflux: what runs without a client request. Scheduled tasks, message
//! stores and processors, inbound endpoints (and, later, coordination across instances).
//!
//! Each kind is a [`Component`] of [`Messaging`], which the server calls around every deployment
//! swap: [`Component::prepare`] before a new snapshot is published (attach what mediation needs,
//! e.g. the message stores the `<store>` mediator writes to), [`Component::published`] after it
//! (start what is new, stop what is gone, carry on what did not change), and
//! [`Component::shutdown`] when the server stops. Components keep the `ArcSwap` they are given in
//! `published` and load the current snapshot from it each time they work, so a task that fires
//! after a redeploy injects into the new one.

use std::sync::Arc;

pub mod coordination;
pub mod inbound;
pub mod processors;
pub mod stores;
pub mod tasks;
#[cfg(feature = "test-support")]
pub mod testing;

use arc_swap::ArcSwap;
use conflux_artifacts::Artifacts;
use conflux_config::Config;
use conflux_mediation::runtime::deployment::Deployment;
use conflux_transport::passthrough::Live;

/// The snapshot the listeners serve now (swapped on every redeploy).
pub type LiveSwap = Arc<ArcSwap<Live>>;

/// What every component is built with.
#[derive(Clone)]
pub struct MessagingContext {
    pub config: Arc<Config>,
}

/// One kind of asynchronous work, kept in step with the deployment.
pub trait Component: Send + Sync {
    /// Before `deployment` is published: attach what mediation reads (`deployment.attached`).
    /// Runs on a blocking thread inside the Tokio runtime.
    fn prepare(&self, _deployment: &mut Deployment, _artifacts: &Artifacts) {}

    /// After a snapshot is published in `live`: start what is new, stop what is gone.
    fn published(&self, _live: &LiveSwap) {}

    /// The server has bound its port plan and serves (MI's `completedServerStartup`): start
    /// what must not run before, e.g. scheduled tasks.
    fn started(&self) {}

    /// The server stops: stop every loop (durable state stays where it is).
    fn shutdown(&self) {}
}

/// Every component, called in order.
pub struct Messaging {
    components: Vec<Arc<dyn Component>>,
    /// Also in `components`; the server starts it once the port plan is bound.
    inbound: Arc<inbound::InboundComponent>,
}

impl Messaging {
    /// The components of this server.
    /// Starts coordination when `[[datasource]] id = "WSO2_COORDINATION_DB"` is configured
    /// (inside the Tokio runtime); a coordination data source Conflux cannot use is an error.
    pub fn new(context: &MessagingContext) -> Result<Messaging, coordination::CoordinationError> {
        let leadership: Arc<dyn tasks::Leadership> =
            match coordination::CoordinationSettings::from_config(&context.config)? {
                Some(settings) => Arc::new(coordination::Coordinator::start(settings)),
                None => Arc::new(tasks::Standalone),
            };
        let mut components: Vec<Arc<dyn Component>> = Vec::new();
        components.push(Arc::new(tasks::TasksComponent::new(leadership.clone())));
        // Stores first: the processors read the stores attached in `prepare`.
        components.push(Arc::new(stores::StoresComponent::new(&context.config)));
        components.push(Arc::new(processors::ProcessorsComponent::new(leadership)));
        let inbound = Arc::new(inbound::InboundComponent::new(context.config.clone()));
        components.push(inbound.clone());
        Ok(Messaging {
            components,
            inbound,
        })
    }

    pub fn prepare(&self, deployment: &mut Deployment, artifacts: &Artifacts) {
        for c in &self.components {
            c.prepare(deployment, artifacts);
        }
    }

    pub fn published(&self, live: &LiveSwap) {
        for c in &self.components {
            c.published(live);
        }
    }

    /// Starts the inbound endpoints with the server, after the port plan is bound: their ports
    /// are checked and bound all together, or the error says why and nothing of them runs.
    ///
    /// # Errors
    /// An inbound port that clashes or cannot be bound.
    pub fn start_inbound(&self, live: &LiveSwap) -> Result<(), inbound::StartError> {
        self.inbound.start(live)
    }

    /// The inbound endpoints running now, sorted by name.
    pub fn inbound_running(&self) -> Vec<String> {
        self.inbound.running()
    }

    /// The server started serving: components start what waits for that (scheduled tasks).
    pub fn started(&self) {
        for c in &self.components {
            c.started();
        }
    }

    pub fn shutdown(&self) {
        for c in &self.components {
            c.shutdown();
        }
    }
}
