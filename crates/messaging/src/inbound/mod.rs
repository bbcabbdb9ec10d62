//! Inbound endpoints of the live deployment: HTTP/HTTPS listeners on their own ports ([`http`])
//! and file pollers ([`file`]). [`InboundComponent`] keeps them in step with each deployment as
//! MI's `InboundEndpoint.init`/`destroy` do: a new endpoint starts, a removed one stops (its port
//! is closed), a changed one restarts, an unchanged one carries on.
//!
//! Nothing runs before [`InboundComponent::start`], which the server calls once the port plan is
//! bound: the inbound ports are checked against the plan and each other
//! ([`conflux_config::PortPlan::plan_inbound`]) and bound all together, so a clash or a taken port
//! at start-up stops the server with nothing started. After that, a hot-deployed endpoint binds
//! when it is deployed; one that cannot is logged and not started (MI: "Port X used by inbound
//! endpoint Y is already used by another application").

pub mod file;
pub mod http;
pub mod rabbitmq;

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use conflux_artifacts::inbound_endpoint::{InboundEndpoint, InboundProtocol, VfsSettings};
use conflux_config::{Config, InboundPortError, InboundPortSpec};
use tokio_util::sync::CancellationToken;

use crate::{Component, LiveSwap};

/// Log target of inbound endpoints.
pub const LOG: &str = "conflux::inbound";

/// How long a redeployed HTTP endpoint keeps trying to bind a port its previous version is still
/// releasing.
pub const REBIND_WINDOW: Duration = Duration::from_secs(5);

/// The address inbound HTTP(S) listeners bind (MI binds them on every interface).
pub const INBOUND_BIND_HOST: [u8; 4] = [0, 0, 0, 0];

/// Why the inbound endpoints could not start with the server.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Ports(Vec<InboundPortError>),
    #[error(
        "cannot listen on port {port} for inbound endpoint {name} (inbound.http.port at {origin}): {source}"
    )]
    Bind {
        name: String,
        port: u16,
        origin: String,
        source: std::io::Error,
    },
    #[error("inbound endpoint {name}: {why}")]
    Tls { name: String, why: String },
}

/// What runs, as deployed (to tell a change).
// Compared and replaced once per redeploy; boxing the larger variant buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
enum Definition {
    Inbound(InboundEndpoint),
    /// A VFS proxy service's polling (the proxy's flow is looked up per file).
    VfsProxy(VfsSettings),
}

/// An endpoint that runs: its definition and the switch of its loop.
struct Running {
    definition: Definition,
    stop: CancellationToken,
}

/// The key of a VFS proxy in the running table (inbound endpoint names are used as they are).
fn proxy_key(name: &str) -> String {
    format!("proxy:{name}")
}

/// The VFS proxy services of a snapshot with their polling settings.
fn vfs_proxies(live: &conflux_transport::passthrough::Live) -> Vec<(String, VfsSettings)> {
    live.artifacts
        .proxies
        .iter()
        .filter_map(|p| p.vfs().map(|v| (p.name.clone(), v)))
        .collect()
}

#[derive(Default)]
struct State {
    started: bool,
    running: HashMap<String, Running>,
}

/// The inbound endpoints of the live deployment.
pub struct InboundComponent {
    config: Arc<Config>,
    state: Mutex<State>,
    tls: OnceLock<Result<Arc<rustls::ServerConfig>, String>>,
}

impl InboundComponent {
    pub fn new(config: Arc<Config>) -> InboundComponent {
        InboundComponent {
            config,
            state: Mutex::new(State::default()),
            tls: OnceLock::new(),
        }
    }

    /// The names of the endpoints running now, sorted.
    pub fn running(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .state
            .lock()
            .map(|s| s.running.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The server's TLS configuration for HTTPS endpoints, loaded once.
    fn tls(&self) -> Result<Arc<rustls::ServerConfig>, String> {
        self.tls
            .get_or_init(|| {
                let settings = conflux_transport::tls::KeystoreSettings {
                    path: self.config.keystore.file.clone(),
                    password: self.config.keystore.password.clone(),
                    alias: self.config.keystore.alias.clone(),
                    key_password: self.config.keystore.key_password.clone(),
                };
                conflux_transport::tls::load_server_config(&settings, &self.config.hostname)
                    .map(|loaded| loaded.config)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    /// Starts every inbound endpoint of `live` together, or none: the HTTP(S) ports are planned
    /// and bound first; any clash or bind failure is returned and nothing runs.
    ///
    /// # Errors
    /// Every port clash, or the first port that cannot be bound.
    pub fn start(&self, live: &LiveSwap) -> Result<(), StartError> {
        let current = live.load_full();
        let endpoints: Vec<&InboundEndpoint> = current
            .artifacts
            .inbound_endpoints
            .iter()
            .filter(|e| !e.suspend)
            .collect();
        let (_, errors) = self
            .config
            .ports
            .plan_inbound(&port_specs(endpoints.iter().copied()));
        if !errors.is_empty() {
            return Err(StartError::Ports(errors));
        }
        let mut bound: Vec<(&InboundEndpoint, TcpListener)> = Vec::new();
        for endpoint in &endpoints {
            if let Some(port) = self.port_of(endpoint) {
                if matches!(endpoint.protocol, InboundProtocol::Https(_)) {
                    self.tls().map_err(|why| StartError::Tls {
                        name: endpoint.name.clone(),
                        why,
                    })?;
                }
                let listener = bind(port).map_err(|source| StartError::Bind {
                    name: endpoint.name.clone(),
                    port,
                    origin: origin_of(endpoint),
                    source,
                })?;
                bound.push((endpoint, listener));
            }
        }
        let Ok(mut state) = self.state.lock() else {
            return Ok(());
        };
        state.started = true;
        let mut listeners: HashMap<String, TcpListener> = bound
            .into_iter()
            .map(|(e, l)| (e.name.clone(), l))
            .collect();
        for endpoint in endpoints {
            let listener = listeners.remove(&endpoint.name);
            if let Some(running) = self.launch(endpoint, live, listener, false) {
                state.running.insert(endpoint.name.clone(), running);
            }
        }
        for (name, settings) in vfs_proxies(&current) {
            if let Some(running) = launch_vfs_proxy(&name, settings, live) {
                state.running.insert(proxy_key(&name), running);
            }
        }
        Ok(())
    }

    /// The port an HTTP(S) endpoint listens on, as the plan gives it.
    fn port_of(&self, endpoint: &InboundEndpoint) -> Option<u16> {
        let (accepted, _) = self
            .config
            .ports
            .plan_inbound(&port_specs(std::iter::once(endpoint)));
        accepted.first().map(|e| e.port)
    }

    /// Starts `endpoint`: an HTTP(S) endpoint serves on `listener` (or binds its port, retrying
    /// for [`REBIND_WINDOW`] when `retry`); a file endpoint starts polling.
    fn launch(
        &self,
        endpoint: &InboundEndpoint,
        live: &LiveSwap,
        listener: Option<TcpListener>,
        retry: bool,
    ) -> Option<Running> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(target: LOG, "no async runtime: inbound endpoint {} not started", endpoint.name);
            return None;
        };
        let stop = CancellationToken::new();
        let definition = Arc::new(endpoint.clone());
        match &endpoint.protocol {
            InboundProtocol::Http(h) | InboundProtocol::Https(h) => {
                let tls = if matches!(endpoint.protocol, InboundProtocol::Https(_)) {
                    match self.tls() {
                        Ok(tls) => Some(tls),
                        Err(why) => {
                            tracing::error!(target: LOG, "inbound endpoint {} not started: {why}", endpoint.name);
                            return None;
                        }
                    }
                } else {
                    None
                };
                let port = self.port_of(endpoint)?;
                let pattern = match h
                    .dispatch_filter_pattern
                    .as_deref()
                    .map(conflux_artifacts::inbound_endpoint::compile_whole_match)
                    .transpose()
                {
                    Ok(p) => p,
                    Err(why) => {
                        tracing::error!(target: LOG, "inbound endpoint {} not started: dispatch.filter.pattern: {why}", endpoint.name);
                        return None;
                    }
                };
                let server = http::InboundHttp {
                    endpoint: definition,
                    pattern,
                    live: live.clone(),
                    tls,
                    limits: conflux_transport::server::ServerLimits::from_config(
                        &self.config.transport,
                    ),
                };
                runtime.spawn(server.run(port, listener, retry, stop.clone()));
            }
            InboundProtocol::File(settings) => {
                runtime.spawn(file::poll(
                    Arc::new(file::PollTarget::inbound(&definition)),
                    settings.clone(),
                    live.clone(),
                    stop.clone(),
                ));
                tracing::info!(target: LOG, "Inbound endpoint {} polling {} every {} ms", endpoint.name, settings.folder.display(), settings.interval_ms);
            }
            InboundProtocol::RabbitMq(settings) => {
                runtime.spawn(rabbitmq::consume(
                    definition,
                    settings.clone(),
                    live.clone(),
                    stop.clone(),
                ));
            }
        }
        Some(Running {
            definition: Definition::Inbound(endpoint.clone()),
            stop,
        })
    }
}

/// Starts polling for the VFS proxy service `name`.
fn launch_vfs_proxy(name: &str, settings: VfsSettings, live: &LiveSwap) -> Option<Running> {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::error!(target: LOG, "no async runtime: VFS proxy service {name} not started");
        return None;
    };
    let stop = CancellationToken::new();
    tracing::info!(target: LOG, "VFS proxy service {name} polling {} every {} ms", settings.folder.display(), settings.interval_ms);
    runtime.spawn(file::poll(
        Arc::new(file::PollTarget::Proxy(name.to_string())),
        settings.clone(),
        live.clone(),
        stop.clone(),
    ));
    Some(Running {
        definition: Definition::VfsProxy(settings),
        stop,
    })
}

/// The HTTP(S) endpoints among `endpoints` as the port plan sees them.
fn port_specs<'a>(endpoints: impl Iterator<Item = &'a InboundEndpoint>) -> Vec<InboundPortSpec> {
    endpoints
        .filter_map(|e| {
            e.protocol.http().map(|h| InboundPortSpec {
                name: e.name.clone(),
                protocol: e.protocol.name().to_string(),
                base: h.port,
                origin: h.port_span.to_string(),
            })
        })
        .collect()
}

/// The HTTP(S) inbound ports of `endpoints` (not suspended) as the plan gives them, and the
/// endpoints refused (`conflux ports`).
pub fn planned_ports(
    config: &Config,
    endpoints: &[InboundEndpoint],
) -> (Vec<conflux_config::InboundPortEntry>, Vec<InboundPortError>) {
    config
        .ports
        .plan_inbound(&port_specs(endpoints.iter().filter(|e| !e.suspend)))
}

fn origin_of(endpoint: &InboundEndpoint) -> String {
    endpoint
        .protocol
        .http()
        .map(|h| h.port_span.to_string())
        .unwrap_or_else(|| endpoint.span.to_string())
}

/// Binds `port` on every interface (non-blocking, for Tokio).
fn bind(port: u16) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(SocketAddr::from((INBOUND_BIND_HOST, port)))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

impl Component for InboundComponent {
    fn published(&self, live: &LiveSwap) {
        let current = live.load_full();
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if !state.started {
            return;
        }
        let wanted: Vec<&InboundEndpoint> = current
            .artifacts
            .inbound_endpoints
            .iter()
            .filter(|e| !e.suspend)
            .collect();
        let proxies = vfs_proxies(&current);
        state.running.retain(|key, r| {
            let kept = match &r.definition {
                Definition::Inbound(d) => wanted.contains(&d),
                Definition::VfsProxy(d) => proxies
                    .iter()
                    .any(|(name, v)| proxy_key(name) == *key && v == d),
            };
            if !kept {
                r.stop.cancel();
                match &r.definition {
                    Definition::Inbound(_) => {
                        tracing::info!(target: LOG, "Inbound endpoint {key} undeployed")
                    }
                    Definition::VfsProxy(_) => {
                        tracing::info!(target: LOG, "VFS polling of {key} stopped")
                    }
                }
            }
            kept
        });
        for (name, settings) in proxies {
            let key = proxy_key(&name);
            if !state.running.contains_key(&key)
                && let Some(running) = launch_vfs_proxy(&name, settings, live)
            {
                state.running.insert(key, running);
            }
        }
        // Plan the ports of what keeps running first, so that a new endpoint cannot take the
        // port of one that runs.
        let mut order: Vec<&InboundEndpoint> = wanted
            .iter()
            .copied()
            .filter(|e| state.running.contains_key(&e.name))
            .collect();
        order.extend(
            wanted
                .iter()
                .copied()
                .filter(|e| !state.running.contains_key(&e.name)),
        );
        let (_, errors) = self
            .config
            .ports
            .plan_inbound(&port_specs(order.iter().copied()));
        for e in &errors {
            tracing::error!(target: LOG, "{e}; inbound endpoint {} not started", e.endpoint());
        }
        for endpoint in order {
            if state.running.contains_key(&endpoint.name)
                || errors.iter().any(|e| e.endpoint() == endpoint.name)
            {
                continue;
            }
            if let Some(running) = self.launch(endpoint, live, None, true) {
                state.running.insert(endpoint.name.clone(), running);
            }
        }
    }

    fn shutdown(&self) {
        if let Ok(mut state) = self.state.lock() {
            for (_, r) in state.running.drain() {
                r.stop.cancel();
            }
        }
    }
}
