//! Wiring of the Management API into the binary: builds [`ManagementApi`] from the configuration,
//! connects its logging resource to the run-time level handle of [`crate::logging`], and sets the
//! start switches of proxy services (`startOnLoad`).

use std::sync::Arc;

use arc_swap::ArcSwap;
use conflux_admin::management::{LogLevelError, LoggerLevel};
use conflux_admin::{ManagementApi, ServerFacts, ServerStatus};
use conflux_artifacts::Artifacts;
use conflux_config::Config;
use conflux_mediation::runtime::deployment::Deployment;
use conflux_transport::passthrough::{Live, ProxySwitches};

use crate::logging;

/// The Management API's view of [`logging::LogLevels`]: MI's logger keys are the `loggers =` ids,
/// the component is the logger name.
struct Levels(logging::LogLevels);

impl conflux_admin::LogLevels for Levels {
    fn loggers(&self) -> Vec<LoggerLevel> {
        self.0
            .list()
            .into_iter()
            .map(|l| LoggerLevel {
                name: l.id,
                component: l.name,
                level: l.level.to_string(),
            })
            .collect()
    }

    fn set_level(
        &self,
        name: &str,
        component: Option<&str>,
        level: &str,
    ) -> Result<(), LogLevelError> {
        let other = |e: logging::LogLevelError| match e {
            logging::LogLevelError::UnknownLogger(n) => LogLevelError::NotFound(n),
            e => LogLevelError::Other(e.to_string()),
        };
        match component {
            None => self.0.set(name, level).map_err(other),
            Some(_) if self.0.get(name).is_some() => Err(LogLevelError::Exists(name.into())),
            Some(class) => self.0.add(name, class, level).map_err(other),
        }
    }
}

/// The Management API, or `None` (logged) when it cannot start.
pub fn management_api(
    config: &Config,
    status: Arc<ServerStatus>,
    live: Arc<ArcSwap<Live>>,
    levels: logging::LogLevels,
) -> Option<ManagementApi> {
    match ManagementApi::new(
        config.management_api.clone(),
        ServerFacts::from_config(config),
        status,
        live,
        Some(Arc::new(Levels(levels))),
    ) {
        Ok(api) => {
            for w in api.startup_warnings() {
                tracing::warn!(target: "conflux::management", "{w}");
            }
            Some(api)
        }
        Err(e) => {
            tracing::error!(target: "conflux::management", "{e}; /management answers 404");
            None
        }
    }
}

/// One switch per deployed proxy service, on unless its artifact says `startOnLoad="false"`.
pub fn proxy_switches(deployment: &Deployment, artifacts: &Artifacts) -> ProxySwitches {
    ProxySwitches::new(deployment.proxies.iter().map(|route| {
        let name = route.artifact.strip_prefix("proxy:").unwrap_or_default();
        artifacts.proxy(name).is_none_or(|p| p.start_on_load)
    }))
}
