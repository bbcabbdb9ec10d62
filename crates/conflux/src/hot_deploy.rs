//! Swapping deployments while serving: builds the [`Live`] snapshot the listeners serve from a
//! deployer's [`Snapshot`], carrying over what an unchanged artifact owns (counters, endpoint
//! suspension states, a proxy stopped by an operator), and runs the redeploy loop that the
//! hot-deployment watcher and the Management API's CApp upload and delete wake up. Requests in
//! flight hold the `Arc` of the snapshot they started on and finish on it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use conflux_admin::ServerStatus;
use conflux_artifacts::{Application, Applications};
use conflux_config::Config;
use conflux_deployer::{Deployer, Snapshot};
use conflux_mediation::runtime::deployment::DeploymentCounters;
use conflux_messaging::Messaging;
use conflux_transport::client::BackendClient;
use conflux_transport::passthrough::{EndpointSender, Live, ProxySwitches};
use tokio::sync::mpsc;

use crate::deploy;

const LOG: &str = "conflux::deployer";

/// The first snapshot's [`Live`]: every counter at zero, every endpoint ACTIVE.
pub fn first_live(
    mut snapshot: Snapshot,
    client: BackendClient,
    config: &Config,
    messaging: &Messaging,
) -> Live {
    messaging.prepare(&mut snapshot.deployment, &snapshot.artifacts);
    let sender = EndpointSender::new(
        client,
        &snapshot.deployment.endpoints,
        config.transport.global_timeout,
    );
    let counters = DeploymentCounters::for_deployment(&snapshot.deployment);
    let proxy_running =
        crate::management::proxy_switches(&snapshot.deployment, &snapshot.artifacts);
    Live {
        deployment: snapshot.deployment,
        sender,
        counters,
        artifacts: snapshot.artifacts,
        proxy_running,
        applications: snapshot.applications,
    }
}

/// The next [`Live`] after `previous`: the same connection pool; counters, endpoint states and
/// proxy switches of what is still there carry on.
pub fn next_live(
    mut snapshot: Snapshot,
    previous: &Live,
    config: &Config,
    messaging: &Messaging,
) -> Live {
    messaging.prepare(&mut snapshot.deployment, &snapshot.artifacts);
    let sender = previous.sender.carrying(
        &snapshot.deployment.endpoints,
        &previous.deployment.endpoints,
        config.transport.global_timeout,
    );
    let counters = DeploymentCounters::carrying(&snapshot.deployment, &previous.counters);
    let previous_names: Vec<&str> = previous.deployment.proxies.iter().map(proxy_name).collect();
    let proxies = snapshot.deployment.proxies.iter().map(|route| {
        let name = proxy_name(route);
        let start = snapshot
            .artifacts
            .proxy(name)
            .is_none_or(|p| p.start_on_load);
        (name, start)
    });
    let proxy_running = ProxySwitches::carrying(proxies, &previous.proxy_running, &previous_names);
    Live {
        deployment: snapshot.deployment,
        sender,
        counters,
        artifacts: snapshot.artifacts,
        proxy_running,
        applications: snapshot.applications,
    }
}

fn proxy_name(route: &conflux_mediation::runtime::engine::Route) -> &str {
    route
        .artifact
        .strip_prefix("proxy:")
        .unwrap_or(&route.artifact)
}

/// Logs what a snapshot reports that `previous` did not: failures as errors (they name
/// file:line:column), warnings, failures that went away, and the carbon applications deployed and
/// undeployed in MI's words (`CappDeployer`: "Successfully Deployed Carbon Application : N_V").
pub fn log_snapshot(snapshot: &Snapshot, previous: Option<(&[String], &Applications)>) {
    let (old_failures, old_apps) = match previous {
        Some((failures, apps)) => (failures, Some(apps)),
        None => (&[][..], None),
    };
    for failure in snapshot
        .failures
        .iter()
        .filter(|f| !old_failures.contains(f))
    {
        tracing::error!(target: LOG, "{failure}");
    }
    for fixed in old_failures
        .iter()
        .filter(|f| !snapshot.failures.contains(f))
    {
        tracing::info!(target: LOG, "No longer failing: {fixed}");
    }
    if previous.is_none() {
        for warning in &snapshot.warnings {
            tracing::warn!(target: LOG, "{warning}");
        }
    }
    let id = |a: &Application| match &a.version {
        Some(v) => format!("{}_{v}", a.name),
        None => a.name.clone(),
    };
    let was_active = |a: &Application| old_apps.is_some_and(|o| o.active.contains(a));
    for app in snapshot
        .applications
        .active
        .iter()
        .filter(|a| !was_active(a))
    {
        tracing::info!(target: LOG, "Deploying Carbon Application : {}...", app.file_name);
        tracing::info!(target: LOG, "Successfully Deployed Carbon Application : {}{{super-tenant}}", id(app));
    }
    if let Some(old) = old_apps {
        for app in old
            .active
            .iter()
            .filter(|a| !snapshot.applications.active.contains(a))
        {
            tracing::info!(target: LOG, "Successfully undeployed Carbon Application : {}{{super-tenant}}", id(app));
        }
    }
}

/// Wakes the redeploy loop; cloned into the watcher and the Management API.
#[derive(Clone)]
pub struct Trigger(mpsc::UnboundedSender<()>);

impl Trigger {
    pub fn fire(&self) {
        let _ = self.0.send(());
    }
}

/// Everything a redeploy needs.
pub struct Redeployer {
    pub deployer: Arc<Mutex<Deployer>>,
    pub live: Arc<ArcSwap<Live>>,
    pub status: Arc<ServerStatus>,
    pub config: Arc<Config>,
    /// Tasks, message stores and processors, kept in step with each new snapshot.
    pub messaging: Arc<Messaging>,
}

impl Redeployer {
    /// Assembles the sources again and swaps the result in. The previous snapshot keeps
    /// serving the requests that started on it.
    pub fn redeploy(&self) {
        let started = Instant::now();
        let previous = self.live.load_full();
        // Data sources and data services unchanged since `previous` keep their pools.
        let snapshot = match self.deployer.lock() {
            Ok(mut deployer) => deploy::snapshot(
                &mut deployer,
                &self.config,
                Some(&previous.deployment.attached),
            ),
            Err(_) => return,
        };
        let old_failures = self.status.faulty_artifacts();
        log_snapshot(&snapshot, Some((&old_failures, &previous.applications)));
        self.status.set_faulty_artifacts(snapshot.failures.clone());
        let summary = snapshot.summary();
        self.live.store(Arc::new(next_live(
            snapshot,
            &previous,
            &self.config,
            &self.messaging,
        )));
        self.messaging.published(&self.live);
        tracing::info!(target: LOG, "Redeployed in {} ms: {summary}", started.elapsed().as_millis());
    }
}

/// Starts the redeploy loop on the runtime; returns its trigger. With `watch`, the source folders
/// are watched and every change redeploys (MI's hot deployment); without, only the trigger does
/// (the Management API's upload and delete).
pub fn start(redeployer: Redeployer, watch: bool, debounce: Duration) -> Trigger {
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let trigger = Trigger(tx);
    let mut watcher = None;
    if watch {
        let paths = redeployer
            .deployer
            .lock()
            .map(|d| d.sources().watched_paths())
            .unwrap_or_default();
        let fire = trigger.clone();
        match conflux_deployer::watch(&paths, debounce, move |changed| {
            tracing::debug!(target: LOG, "changed: {changed:?}");
            fire.fire();
        }) {
            Ok(w) => {
                tracing::info!(target: LOG, "Hot deployment is on: watching {}", paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
                watcher = Some(w);
            }
            Err(e) => tracing::error!(target: LOG, "{e}; hot deployment is off"),
        }
    }
    let redeployer = Arc::new(redeployer);
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // One redeploy for every trigger that arrived meanwhile.
            while rx.try_recv().is_ok() {}
            let r = redeployer.clone();
            let _ = tokio::task::spawn_blocking(move || r.redeploy()).await;
            if let Some(w) = watcher.as_mut()
                && let Err(e) = w.refresh()
            {
                tracing::warn!(target: LOG, "{e}");
            }
        }
    });
    trigger
}
