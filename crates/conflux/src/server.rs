//! The server lifecycle: configuration -> TLS material -> artifacts -> bind every port of the plan
//! (or none) -> serve -> on SIGTERM/SIGINT stop accepting, drain in-flight requests within
//! [`DRAIN_TIMEOUT`], exit 0.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::Bytes;
use conflux_admin::{InternalApi, Metrics, Monitoring, ServerStatus};
use conflux_config::{Config, Role};
use conflux_transport::body::ProxyBody;
use conflux_transport::client::{BackendClient, ClientOptions};
use conflux_transport::passthrough::PassThrough;
use conflux_transport::server::{
    ConnInfo, ServerLimits, serve_counted, serve_routed, serve_routed_per_core,
};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::bind;
use crate::cli::{EXIT_CONFIG, EXIT_FAILURE};
use crate::logging;

/// Largest request body the monitoring listener reads (Jolokia requests are small JSON objects);
/// the internal listeners ask [`InternalApi::max_request_body_bytes`] (a CApp upload is larger).
pub use conflux_admin::MAX_INTERNAL_BODY_BYTES;

use conflux_mediation::runtime::limits::WORKER_STACK_BYTES;

/// One worker thread per CPU this process may run on. With a single CPU (a container limit, a
/// `taskset`), a current-thread runtime serves everything on that thread: the same work without
/// the work-stealing scheduler's cross-thread hand-offs.
fn runtime_builder() -> tokio::runtime::Builder {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpus == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder
            .worker_threads(cpus)
            .thread_stack_size(WORKER_STACK_BYTES);
        builder
    }
}

/// How long in-flight requests may take to finish after a stop signal.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

const LOG: &str = "conflux::server";

/// Starts the server and runs it until a stop signal.
pub fn run(config: Config, origin: crate::deploy::Origin) -> ExitCode {
    let started = Instant::now();
    let log = logging::init(&config.home, &config.hostname);
    let runtime = match runtime_builder()
        .enable_all()
        .thread_name("conflux-worker")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(target: LOG, "cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    runtime.block_on(run_async(config, origin, started, log))
}

async fn run_async(
    config: Config,
    origin: crate::deploy::Origin,
    started: Instant,
    log: logging::LogSetup,
) -> ExitCode {
    tracing::info!(target: LOG, "Starting Conflux {} (home {})", crate::VERSION, config.home.display());
    for w in &log.warnings {
        tracing::warn!(target: "conflux::logging", "{w}");
    }
    // The run-time level handle; the Management API's logging resource reads and changes it.
    let log_levels = log.levels;
    for w in &config.warnings {
        tracing::warn!(target: "conflux::config", "{w}");
    }
    for line in config.ports.render_table().lines() {
        tracing::info!(target: "conflux::ports", "{line}");
    }

    let needs_tls = config
        .ports
        .listeners()
        .any(|e| matches!(e.role, Role::Https | Role::InternalHttps));
    let (tls, own_certificate) = if needs_tls {
        match crate::server::load_tls(&config) {
            Ok((tls, own)) => (Some(tls), own),
            Err(e) => {
                tracing::error!(target: LOG, "{e}; nothing was started");
                return ExitCode::from(EXIT_FAILURE);
            }
        }
    } else {
        (None, None)
    };

    let sources = match crate::deploy::sources(&config, &origin) {
        Ok(sources) => sources,
        Err(e) => {
            tracing::error!(target: LOG, "{e}; nothing was started");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let mut deployer = crate::deploy::deployer(&config, sources);
    let snapshot = crate::deploy::snapshot(&mut deployer, &config, None);
    crate::hot_deploy::log_snapshot(&snapshot, None);
    tracing::info!(target: "conflux::deployer", "{}", snapshot.summary());
    // The console's fleet pins this certificate's fingerprint.
    let console_certificate = own_certificate.clone();
    let client = match backend_client(&config, own_certificate) {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(target: LOG, "{e}; nothing was started");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let failures = snapshot.failures.clone();
    let config = Arc::new(config);
    let messaging = match conflux_messaging::Messaging::new(&conflux_messaging::MessagingContext {
        config: config.clone(),
    }) {
        Ok(messaging) => Arc::new(messaging),
        Err(e) => {
            tracing::error!(target: LOG, "{e}; nothing was started");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let live = Arc::new(ArcSwap::from_pointee(crate::hot_deploy::first_live(
        snapshot, client, &config, &messaging,
    )));
    messaging.published(&live);
    let mut passthrough =
        PassThrough::new(live.clone()).with_max_request_bytes(config.transport.max_request_bytes);
    let mut access_logged: Option<Arc<dyn conflux_transport::passthrough::AccessLog>> = None;
    match crate::access_log::load(&config.home, &config.hostname) {
        Ok(Some(access_log)) => {
            tracing::info!(target: LOG, "HTTP access log: {}", access_log.path.display());
            let access_log = Arc::new(access_log);
            passthrough = passthrough.with_access_log(access_log.clone());
            access_logged = Some(access_log);
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(target: LOG, "{e}; the HTTP access log is off"),
    }
    let observed = Arc::new(crate::observe::LiveObserved::new(
        passthrough.clone(),
        &config,
    ));

    let bound = match bind::bind_all(&config.ports) {
        Ok(bound) => bound,
        Err(e) => {
            tracing::error!(target: LOG, "{e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    // The inbound endpoints' ports join the plan: checked and bound now, all or nothing.
    if let Err(e) = messaging.start_inbound(&live) {
        tracing::error!(target: LOG, "{e}; nothing was started");
        messaging.shutdown();
        return ExitCode::from(EXIT_FAILURE);
    }

    let status = Arc::new(ServerStatus::new(
        crate::VERSION,
        config.ports.offset().value,
    ));
    status.set_faulty_artifacts(failures);
    let mut internal = InternalApi::new(status.clone());
    if crate::observe::prometheus_enabled(&config) {
        let http_port = config.ports.get(Role::Http).map(|e| e.port).unwrap_or(0);
        internal = internal.with_metrics(Metrics::new(
            status.clone(),
            observed.clone(),
            config.hostname.clone(),
            http_port,
        ));
    }
    let trigger = crate::hot_deploy::start(
        crate::hot_deploy::Redeployer {
            deployer: Arc::new(std::sync::Mutex::new(deployer)),
            live: live.clone(),
            status: status.clone(),
            config: config.clone(),
            messaging: messaging.clone(),
        },
        config.hot_deployment && !matches!(origin, crate::deploy::Origin::CApp(_)),
        conflux_deployer::watch::DEFAULT_DEBOUNCE,
    );
    let mut console = None;
    if let Some(management) =
        crate::management::management_api(&config, status.clone(), live.clone(), log_levels.clone())
    {
        let trigger = trigger.clone();
        let management = management.with_redeploy(Arc::new(move || trigger.fire()));
        console = crate::management::console(
            &config,
            &management,
            live.clone(),
            observed.clone(),
            console_certificate,
        );
        if let Some(console) = &console {
            internal = internal.with_console(console.clone());
        }
        internal = internal.with_management(management);
    }
    let mut monitoring = Monitoring::new(status.clone()).with_observed(observed.clone());
    if let Some((user, password)) = config.jolokia.credentials.clone() {
        monitoring = monitoring.with_basic_auth(user, password);
    }
    // `[transport] http1_engine = "conflux"`: plain-HTTP pass-through connections are driven by
    // conflux_transport::h1, which forwards the deployment's pure-forward routes itself
    // (h1_router.rs) and hands everything else to hyper.
    let router: Option<Arc<dyn conflux_transport::h1::Router>> =
        (config.transport.http1_engine == conflux_config::settings::Http1Engine::Conflux).then(|| {
            let settings = crate::h1_router::RouterSettings {
                connect_timeout: config.transport.connection_timeout,
                general_only: config.transport.max_request_bytes.is_some()
                    || config.transport.http_proxy.is_some(),
                access_log: access_logged.clone(),
            };
            tracing::info!(target: LOG, "[transport] http1_engine = \"conflux\": the HTTP pass-through listener forwards pure-forward routes with the Conflux HTTP/1 engine{}", if settings.general_only { " (none qualify: a message size limit or an HTTP proxy is configured)" } else { "" });
            Arc::new(crate::h1_router::DeploymentRouter::new(
                live.clone(),
                passthrough.listener_counters(),
                settings,
            )) as Arc<dyn conflux_transport::h1::Router>
        });
    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();

    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    for b in bound {
        // With the engine on several CPUs, the plain pass-through listener gets one thread and
        // single-threaded runtime per CPU (transport server.rs `serve_routed_per_core`): no
        // request moves between threads, as none does between nginx's workers.
        if b.entry.role == Role::Http
            && cpus > 1
            && let Some(router) = router.clone()
        {
            let passthrough = passthrough.clone();
            let handler = move |req: Request<Incoming>, conn: ConnInfo| {
                let passthrough = passthrough.clone();
                async move { passthrough.handle(req, conn).await }
            };
            match serve_routed_per_core(
                b.listener,
                cpus,
                WORKER_STACK_BYTES,
                handler,
                Some(router),
                listener_limits(&config, Role::Http),
                observed.listener_stats(Role::Http),
                shutdown.clone(),
            ) {
                Ok(serving) => tracker.spawn(serving),
                Err(e) => {
                    tracing::error!(target: LOG, "cannot start the pass-through HTTP threads for {}: {e}", b.address);
                    shutdown.cancel();
                    return ExitCode::from(EXIT_FAILURE);
                }
            };
            tracing::info!(target: LOG, "Pass-through HTTP Listener started on {}", b.address);
            tracing::debug!(target: LOG, "the pass-through HTTP listener runs on {cpus} threads, one runtime each");
            continue;
        }
        let listener = match tokio::net::TcpListener::from_std(b.listener) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(target: LOG, "cannot register {} with the runtime: {e}", b.address);
                return ExitCode::from(EXIT_FAILURE);
            }
        };
        let token = shutdown.clone();
        let (name, tls) = match b.entry.role {
            Role::Http => ("Pass-through HTTP", None),
            Role::Https => ("Pass-through HTTPS", tls.clone()),
            Role::InternalHttp => ("Pass-through EI_INTERNAL_HTTP_INBOUND_ENDPOINT", None),
            Role::InternalHttps => (
                "Pass-through EI_INTERNAL_HTTPS_INBOUND_ENDPOINT",
                tls.clone(),
            ),
            Role::JmxRmiRegistry => ("Remote monitoring (Jolokia)", None),
            Role::JmxRmiServer => continue,
        };
        let limits = listener_limits(&config, b.entry.role);
        // Counted into the metrics' and monitoring's `conflux_listener_*` counters.
        let stats = observed.listener_stats(b.entry.role);
        match b.entry.role {
            Role::Http | Role::Https => {
                let passthrough = passthrough.clone();
                let handler = move |req: Request<Incoming>, conn: ConnInfo| {
                    let passthrough = passthrough.clone();
                    async move { passthrough.handle(req, conn).await }
                };
                // TLS connections are always hyper's (serve_routed only routes plain TCP).
                let router = router.clone().filter(|_| b.entry.role == Role::Http);
                tracker.spawn(serve_routed(
                    listener, tls, handler, router, limits, stats, token,
                ));
            }
            Role::InternalHttp | Role::InternalHttps => {
                let api = internal.clone();
                let handler = move |req: Request<Incoming>, conn: ConnInfo| {
                    let api = api.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let limit =
                            InternalApi::max_request_body_bytes(&parts.method, parts.uri.path());
                        match Limited::new(body, limit).collect().await {
                            Ok(body) => complete(
                                api.handle_request(
                                    &parts,
                                    &body.to_bytes(),
                                    conn.remote.ip(),
                                    conn.tls,
                                )
                                .await,
                            ),
                            Err(_) => status_only(StatusCode::PAYLOAD_TOO_LARGE),
                        }
                    }
                };
                tracker.spawn(serve_counted(listener, tls, handler, limits, stats, token));
            }
            Role::JmxRmiRegistry => {
                let monitoring = monitoring.clone();
                let handler = move |req: Request<Incoming>, _conn: ConnInfo| {
                    let monitoring = monitoring.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let path = parts
                            .uri
                            .path_and_query()
                            .map(|p| p.as_str().to_string())
                            .unwrap_or_default();
                        match Limited::new(body, MAX_INTERNAL_BODY_BYTES).collect().await {
                            Ok(body) => {
                                let authorization = parts
                                    .headers
                                    .get(http::header::AUTHORIZATION)
                                    .and_then(|h| h.to_str().ok());
                                complete(monitoring.handle_authorized(
                                    &parts.method,
                                    &path,
                                    authorization,
                                    &body.to_bytes(),
                                ))
                            }
                            Err(_) => status_only(StatusCode::PAYLOAD_TOO_LARGE),
                        }
                    }
                };
                tracker.spawn(serve_counted(listener, None, handler, limits, stats, token));
            }
            Role::JmxRmiServer => {}
        }
        // MI's shape: "Pass-through HTTP Listener started on 0.0.0.0:8290".
        tracing::info!(target: LOG, "{name} Listener started on {}", b.address);
    }
    if let Some(e) = config.ports.get(Role::JmxRmiServer).filter(|e| e.enabled) {
        tracing::info!(target: LOG, "jmx_rmi_server port {} is reserved in the plan and not opened", e.port);
    }

    status.set_started();
    if let Some(console) = &console {
        // The traffic history for the console's charts, from the same counters as Prometheus.
        if let Some(observed) = console.observed() {
            tracker.spawn(
                console
                    .traffic()
                    .run(observed, shutdown.clone().cancelled_owned()),
            );
        }
        // Other instances on this host find this one from now on.
        if let Some(fleet) = console.fleet()
            && let Err(e) = fleet.register()
        {
            tracing::warn!(target: "conflux::console", "{e}");
        }
    }
    // Scheduled tasks fire from now on (MI's ntask starts them on completedServerStartup).
    messaging.started();
    tracing::info!(target: LOG, "Conflux started in {} ms", started.elapsed().as_millis());

    let signal = wait_for_stop_signal().await;
    tracing::info!(target: LOG, "Received {signal}: no longer accepting connections; draining in-flight requests (up to {} s)", DRAIN_TIMEOUT.as_secs());
    shutdown.cancel();
    if let Some(fleet) = console.as_ref().and_then(|c| c.fleet()) {
        fleet.shutdown();
    }
    messaging.shutdown();
    tracker.close();
    if tokio::time::timeout(DRAIN_TIMEOUT, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(target: LOG, "drain deadline passed; closing the remaining connections");
    }
    tracing::info!(target: LOG, "Conflux stopped");
    ExitCode::SUCCESS
}

/// The limits of the listener of `role`: `[transport.http]` client limits are the pass-through
/// listeners'; the internal and monitoring ports keep their own defaults so that a flood of one is
/// not the other's.
pub(crate) fn listener_limits(config: &Config, role: Role) -> ServerLimits {
    match role {
        Role::Http | Role::Https => ServerLimits::from_config(&config.transport),
        _ => ServerLimits {
            socket_timeout: config.transport.socket_timeout,
            ..ServerLimits::default()
        },
    }
}

/// The pooled client to backends, trusting the system roots, `[truststore]` when it exists and
/// the server's own self-signed certificate (MI ships it in `client-truststore.jks`).
fn backend_client(
    config: &Config,
    own_certificate: Option<rustls_pki_types::CertificateDer<'static>>,
) -> Result<BackendClient, String> {
    let truststore = conflux_transport::tls::TruststoreSettings {
        path: config.truststore.file.clone(),
        password: config.truststore.password.clone(),
    };
    let trust = if truststore.path.exists() {
        Some(&truststore)
    } else {
        tracing::info!(target: LOG, "[truststore] file_name {} does not exist: HTTPS backends are verified against the system roots only", truststore.path.display());
        None
    };
    let own: Vec<_> = own_certificate.into_iter().collect();
    let tls =
        conflux_transport::tls::client_config_trusting(trust, &own).map_err(|e| e.to_string())?;
    let client = BackendClient::new(
        tls,
        ClientOptions {
            connect_timeout: config.transport.connection_timeout,
            ..ClientOptions::default()
        },
    );
    let mut client = client;
    if let Some(proxy) = &config.transport.http_proxy {
        let http_proxy = conflux_transport::client::HttpProxy::new(
            &proxy.host,
            proxy.port,
            &proxy.non_proxy_hosts,
        )?;
        tracing::info!(target: LOG, "HTTP backends are reached through the proxy {}:{}", proxy.host, proxy.port);
        client = client.with_http_proxy(http_proxy);
    }
    if let Some(proxy) = &config.transport.https_proxy {
        let https_proxy = conflux_transport::client::HttpProxy::new(
            &proxy.host,
            proxy.port,
            &proxy.non_proxy_hosts,
        )?;
        tracing::info!(target: LOG, "HTTPS backends are reached through a CONNECT tunnel of the proxy {}:{}", proxy.host, proxy.port);
        client = client.with_https_proxy(https_proxy);
    }
    Ok(client)
}

/// A complete response in the transport's body type.
fn complete(response: Response<Bytes>) -> Response<ProxyBody> {
    response.map(ProxyBody::full)
}

fn status_only(status: StatusCode) -> Response<ProxyBody> {
    let mut r = Response::new(ProxyBody::Empty);
    *r.status_mut() = status;
    r
}

async fn wait_for_stop_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without signal handlers the server can only be killed; keep serving.
        std::future::pending::<()>().await;
        return "no signal";
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

/// Loads (or, when the keystore file is missing, generates) the server's TLS material; the second
/// value is the server's certificate when it is self-signed.
pub fn load_tls(
    config: &Config,
) -> Result<
    (
        Arc<rustls::ServerConfig>,
        Option<rustls_pki_types::CertificateDer<'static>>,
    ),
    String,
> {
    let settings = conflux_transport::tls::KeystoreSettings {
        path: config.keystore.file.clone(),
        password: config.keystore.password.clone(),
        alias: config.keystore.alias.clone(),
        key_password: config.keystore.key_password.clone(),
    };
    let loaded = conflux_transport::tls::load_server_config(&settings, &config.hostname)
        .map_err(|e| e.to_string())?;
    if loaded.generated {
        tracing::warn!(
            target: LOG,
            "[keystore.primary] file_name {} did not exist: generated a self-signed certificate for {} there. Replace it with your own keystore for production.",
            config.keystore.file.display(),
            config.hostname
        );
    }
    for w in &loaded.warnings {
        tracing::warn!(target: LOG, "{w}");
    }
    tracing::info!(target: LOG, "TLS: {}", loaded.description);
    Ok((loaded.config, loaded.self_signed))
}

/// `conflux check`: the configuration (already loaded by the caller) and every artifact of
/// `origin` (the home, a project folder, or one CApp).
pub fn check(config: &Config, origin: &crate::deploy::Origin) -> ExitCode {
    for w in &config.warnings {
        eprintln!("warning: {w}");
    }
    println!("{}: configuration OK", config.deployment_toml.display());
    let sources = match crate::deploy::sources(config, origin) {
        Ok(sources) => sources,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let mut deployer = crate::deploy::deployer(config, sources);
    let (snapshot, data_services) = crate::deploy::check_snapshot(&mut deployer, config);
    for failure in &snapshot.failures {
        eprintln!("error: {failure}");
    }
    for warning in &snapshot.warnings {
        eprintln!("warning: {warning}");
    }
    if data_services > 0 {
        println!("data services: {data_services} OK");
    }
    for app in &snapshot.applications.active {
        println!(
            "carbon application {} {}: {} artifacts OK",
            app.name,
            app.version.as_deref().unwrap_or(""),
            app.artifacts.len()
        );
    }
    println!(
        "{}: {}",
        crate::deploy::describe(origin, config),
        snapshot.summary()
    );
    if snapshot.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_CONFIG)
    }
}
