//! Wiring of the Management API into the binary: builds [`ManagementApi`] from the configuration,
//! connects its logging resource to the run-time level handle of [`crate::logging`], and sets the
//! start switches of proxy services (`startOnLoad`); builds the web console beside it (its port
//! plan view and its fleet).

use std::sync::Arc;

use arc_swap::ArcSwap;
use conflux_admin::console::fleet::{self, Fleet};
use conflux_admin::console::{Console, PortRow, PortState, PortView};
use conflux_admin::management::{LogLevelError, LoggerLevel};
use conflux_admin::{ManagementApi, Observed, ServerFacts, ServerStatus};
use conflux_artifacts::Artifacts;
use conflux_config::{Config, Role};
use conflux_mediation::runtime::deployment::Deployment;
use conflux_transport::passthrough::{Live, ProxySwitches};
use rustls_pki_types::CertificateDer;

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

/// What the console calls each port of the plan.
fn port_name(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::Http => ("HTTP pass-through", "http"),
        Role::Https => ("HTTPS pass-through", "https"),
        Role::InternalHttp => ("Internal HTTP API (probes, metrics)", "http"),
        Role::InternalHttps => ("Internal HTTPS API (Management API, console)", "https"),
        Role::JmxRmiRegistry => ("Remote monitoring (Jolokia)", "http"),
        Role::JmxRmiServer => ("JMX RMI server (reserved)", "tcp"),
    }
}

/// The port plan as the console shows it: the plan's roles, then the inbound HTTP(S) endpoints
/// of the live deployment. A port this process should listen on is `listening` when the kernel
/// lists it among this process's sockets (`failed` otherwise); where `/proc` tells nothing, every
/// such port is taken as listening (the plan is bound all or nothing at start-up).
pub fn console_ports(config: &Config, live: &Live) -> PortView {
    let mine: std::collections::BTreeSet<u16> =
        crate::sockets::listening_sockets_of(std::process::id())
            .into_iter()
            .filter(|s| s.table.starts_with("tcp"))
            .map(|s| s.local_port)
            .collect();
    let state = |port: u16| {
        if mine.is_empty() || mine.contains(&port) {
            PortState::Listening
        } else {
            PortState::Failed
        }
    };
    let mut ports: Vec<PortRow> = config
        .ports
        .entries()
        .iter()
        .map(|e| {
            let (name, protocol) = port_name(e.role);
            PortRow {
                name: name.to_string(),
                key: e.role.name().to_string(),
                port: e.port,
                protocol,
                bind: e.bind.clone(),
                state: if e.is_listener() {
                    state(e.port)
                } else {
                    PortState::Off
                },
                config_key: Some(e.role.key()),
            }
        })
        .collect();
    let (inbound, _) =
        conflux_messaging::inbound::planned_ports(config, &live.artifacts.inbound_endpoints);
    let bind = std::net::Ipv4Addr::from(conflux_messaging::inbound::INBOUND_BIND_HOST).to_string();
    ports.extend(inbound.into_iter().map(|e| PortRow {
        name: format!("Inbound endpoint {}", e.name),
        key: format!("inbound:{}", e.name),
        port: e.port,
        protocol: if e.protocol.eq_ignore_ascii_case("https") {
            "https"
        } else {
            "http"
        },
        bind: bind.clone(),
        state: state(e.port),
        config_key: None,
    }));
    PortView {
        offset: config.ports.offset().value,
        ports,
    }
}

/// The base URL other instances on this host reach this one's Management API at, or `None` when
/// it is served on no enabled internal listener.
fn management_url(config: &Config, management: &ManagementApi) -> Option<String> {
    let (role, scheme) = if management.serves(true)
        && config
            .ports
            .get(Role::InternalHttps)
            .is_some_and(|e| e.is_listener())
    {
        (Role::InternalHttps, "https")
    } else if management.serves(false)
        && config
            .ports
            .get(Role::InternalHttp)
            .is_some_and(|e| e.is_listener())
    {
        (Role::InternalHttp, "http")
    } else {
        return None;
    };
    let entry = config.ports.get(role)?;
    let host = match entry.bind.as_str() {
        "" | "*" | "0.0.0.0" | "localhost" => "127.0.0.1".to_string(),
        "::" | "[::]" => "[::1]".to_string(),
        h if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
        h => h.to_string(),
    };
    Some(format!("{scheme}://{host}:{}", entry.port))
}

/// The web console (`[console] enabled`), served where `management` is, with its fleet: this
/// instance's file for discovery (`[console] discovery`; written by [`Fleet::register`] once the
/// listeners serve) and `[console] peers`. `own_certificate` is the server's self-signed
/// certificate, whose fingerprint the other instances pin; configured peers are verified as
/// backends are (system roots, `[truststore]`, this server's own certificate).
pub fn console(
    config: &Arc<Config>,
    management: &ManagementApi,
    live: Arc<ArcSwap<Live>>,
    observed: Arc<dyn Observed>,
    own_certificate: Option<CertificateDer<'static>>,
) -> Option<Console> {
    if !config.console.enabled {
        tracing::info!(target: "conflux::console", "[console] enabled = false: /console answers 404");
        return None;
    }
    let ports_config = config.clone();
    let ports_live = live.clone();
    let mut console = Console::new(
        management.clone(),
        Arc::new(move || console_ports(&ports_config, &ports_live.load())),
    )
    .with_observed(observed)
    .with_holder_probe(Arc::new(|port| {
        crate::sockets::tcp_listener_holder(port).map(|h| format!("pid {} `{}`", h.pid, h.command))
    }));
    let url = management_url(config, management);
    if let Some(url) = &url {
        // The same port, under the name users browse to.
        let port = url.rsplit(':').next().unwrap_or_default();
        let scheme = url.split(':').next().unwrap_or("https");
        tracing::info!(target: "conflux::console", "Web console: {scheme}://{}:{port}/console/ (log in with a Management API user)", config.hostname);
    }
    let token = match config
        .console
        .fleet_token
        .clone()
        .map_or_else(fleet::new_token, Ok)
    {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(target: "conflux::console", "{e}; the fleet view shows this instance only");
            return Some(console);
        }
    };
    let own = fleet::InstanceInfo {
        pid: std::process::id(),
        url: url.clone().unwrap_or_default(),
        offset: config.ports.offset().value,
        home: config.home.display().to_string(),
        version: crate::VERSION.to_string(),
        token,
        fingerprint: own_certificate
            .as_ref()
            .map(|c| fleet::fingerprint(c.as_ref())),
        start_ticks: fleet::process_start_ticks(std::process::id()),
    };
    let truststore = conflux_transport::tls::TruststoreSettings {
        path: config.truststore.file.clone(),
        password: config.truststore.password.clone(),
    };
    let trust = truststore.path.exists().then_some(&truststore);
    let own_trusted: Vec<_> = own_certificate.into_iter().collect();
    let client_tls = match conflux_transport::tls::client_config_trusting(trust, &own_trusted) {
        Ok(tls) => tls,
        Err(e) => {
            tracing::warn!(target: "conflux::console", "{e}; the fleet view shows this instance only");
            return Some(console);
        }
    };
    let mut fleet = Fleet::new(own, client_tls, config.console.peers.clone())
        .with_peer_token(config.console.fleet_token.clone());
    if config.console.discovery && url.is_some() {
        match fleet::runtime_dir() {
            Ok(dir) => fleet = fleet.with_runtime_dir(dir),
            Err(e) => tracing::warn!(target: "conflux::console", "{e}; instance discovery is off"),
        }
    }
    console = console.with_fleet(Arc::new(fleet));
    Some(console)
}
