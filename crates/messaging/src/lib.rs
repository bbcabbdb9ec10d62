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

pub mod stores;

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

    /// The server stops: stop every loop (durable state stays where it is).
    fn shutdown(&self) {}
}

/// Every component, called in order.
pub struct Messaging {
    components: Vec<Arc<dyn Component>>,
}

impl Messaging {
    /// The components of this server.
    pub fn new(context: &MessagingContext) -> Messaging {
        let _ = context;
        let components: Vec<Arc<dyn Component>> = Vec::new();
        Messaging { components }
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

    pub fn shutdown(&self) {
        for c in &self.components {
            c.shutdown();
        }
    }
}
