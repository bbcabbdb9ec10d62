//! Deploy time: turns parsed artifacts (`conflux-artifacts`) into a [`Deployment`] the engine runs,
//! resolving every named endpoint and sequence reference and compiling every value, so that
//! nothing is looked up or parsed per request. An artifact that cannot be compiled (an unsupported
//! mediator or expression, a reference to something missing, a dispatch conflict) is left out and
//! reported with its file:line:column; the others deploy.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use conflux_artifacts as art;
use conflux_artifacts::Span;
use conflux_artifacts::mediators as am;
use conflux_artifacts::registry::{has_registry_prefix, normalize_key, registry_file_path};
use http::Method;

use crate::dispatch::{
    ApiRoute, ApiTable, EndpointUriTemplate, Protocol, ProxyTable, ResourceMatcher, ResourceRoute,
    UriTemplate, UrlMapping, VersionType,
};
use crate::runtime::context::Scope;
use crate::runtime::deployment::{DeployedApi, Deployment};
use crate::runtime::endpoint::{
    Endpoint, EndpointGroup, EndpointKind, GroupChild, GroupKind, SuspensionSettings, TimeoutAction,
};
use crate::runtime::engine::{Route, Sequence};
use crate::runtime::mediators::{self as rt, Mediator};
use crate::runtime::payload;
use crate::runtime::value::ValueSource;
use crate::runtime::wsdl_endpoint::WsdlEndpoint;

/// The separator of log mediator properties when none is given (SYN LogMediator).
pub const DEFAULT_LOG_SEPARATOR: &str = ", ";

/// Why an artifact did not deploy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at {span}")]
pub struct CompileError {
    /// The artifact's file (label, e.g. `api/Foo.xml`).
    pub file: String,
    pub span: String,
    pub message: String,
}

impl CompileError {
    fn at(span: &Span, message: impl Into<String>) -> Self {
        CompileError {
            file: span.file.to_string(),
            span: span.to_string(),
            message: message.into(),
        }
    }
}

type Result<T> = std::result::Result<T, CompileError>;

/// Compiles everything; returns the deployment and the artifacts left out.
pub fn compile(artifacts: &art::Artifacts) -> (Deployment, Vec<CompileError>) {
    let mut c = Compiler {
        endpoints: Vec::new(),
        named_endpoints: HashMap::new(),
        endpoint_sources: artifacts
            .endpoints
            .iter()
            .filter_map(|e| Some((e.name.clone()?, e.clone())))
            .collect(),
        endpoints_started: HashSet::new(),
        endpoints_compiling: HashSet::new(),
        sequence_names: artifacts
            .sequences
            .iter()
            .filter_map(|s| s.name.clone())
            .collect(),
        message_store_names: artifacts
            .message_stores
            .iter()
            .map(|s| s.name.clone())
            .collect(),
        local_entries: artifacts
            .local_entries
            .iter()
            .filter_map(|e| match &e.value {
                art::LocalEntryValue::Text(t) | art::LocalEntryValue::Xml(t) => {
                    Some((e.key.clone(), t.clone()))
                }
                // A `src` entry serves the content the deployer read (`load_src`).
                art::LocalEntryValue::Src(_) => match e.loaded.as_deref() {
                    Some(art::LocalEntryValue::Text(t) | art::LocalEntryValue::Xml(t)) => {
                        Some((e.key.clone(), t.clone()))
                    }
                    _ => None,
                },
            })
            .collect(),
        template_names: artifacts
            .templates
            .iter()
            .filter(|t| t.endpoint.is_none())
            .map(|t| t.name.clone())
            .collect(),
        endpoint_templates: artifacts
            .templates
            .iter()
            .filter(|t| t.endpoint.is_some())
            .map(|t| (t.name.clone(), Arc::new(t.clone())))
            .collect(),
        expanding: Vec::new(),
        template_handlers: false,
        dynamic_targets: None,
        registry: Arc::new(artifacts.registry.clone()),
        registry_sequences: HashMap::new(),
        registry_compiling: HashSet::new(),
        registry_failures: HashMap::new(),
        http_connections: HashMap::new(),
        email_connections: HashMap::new(),
        file_connections: HashMap::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
    };

    for endpoint in &artifacts.endpoints {
        let Some(name) = endpoint.name.clone() else {
            continue;
        };
        // A group compiles the named endpoints it refers to first; each is compiled once.
        if let Err(e) = c.named_endpoint(&name, endpoint) {
            c.errors.push(e);
        }
    }

    // HTTP connector connections, with the endpoint MI deploys for each
    // (`<name>_INTERNAL_ENDPOINT_REFERENCE`, SYN deployers/LocalEntryDeployer.java).
    for entry in &artifacts.local_entries {
        let Some(connection) = &entry.http_connection else {
            continue;
        };
        let compiled = c.http_connection(connection);
        if let Err(e) = &compiled {
            c.errors.push(e.clone());
        }
        c.http_connections
            .insert(entry.key.clone(), compiled.map_err(|e| e.to_string()));
    }

    // Email connector connections (`<email.init>`); the transport opens on the first send.
    for entry in &artifacts.local_entries {
        let Some(connection) = entry
            .connector_connection
            .as_ref()
            .filter(|c| c.connector == "email")
        else {
            continue;
        };
        let compiled = rt::email_connector::EmailConnection::compile(&entry.key, connection)
            .map(|c| c.map(Arc::new));
        if let Err(e) = &compiled {
            c.errors.push(CompileError::at(&connection.span, e.clone()));
        }
        c.email_connections.insert(entry.key.clone(), compiled);
    }

    // File connector connections (`<file.init>`, runtime/mediators/file_connector.rs).
    for entry in &artifacts.local_entries {
        let Some(connection) = entry
            .connector_connection
            .as_ref()
            .filter(|c| c.connector == "file")
        else {
            continue;
        };
        let compiled =
            rt::file_connector::FileConnection::compile(&entry.key, connection).map(Arc::new);
        if let Err(e) = &compiled {
            c.errors.push(CompileError::at(&connection.span, e.clone()));
        }
        c.file_connections.insert(entry.key.clone(), compiled);
    }

    // Every named endpoint is compiled: `<endpoint key-expression>` chooses among them.
    c.dynamic_targets = Some(Arc::new(c.named_endpoints.clone()));

    let mut sequences = HashMap::new();
    for seq in &artifacts.sequences {
        let Some(name) = seq.name.clone() else {
            continue;
        };
        match c.sequence(seq, &name) {
            Ok(s) => {
                sequences.insert(name, Arc::new(s));
            }
            Err(e) => c.errors.push(e),
        }
    }

    let mut templates = HashMap::new();
    for t in &artifacts.templates {
        c.warnings.extend(t.warnings.iter().cloned());
    }
    for t in artifacts.templates.iter().filter(|t| t.endpoint.is_none()) {
        match c.template(t) {
            Ok(t) => {
                templates.insert(t.name.to_string(), Arc::new(t));
            }
            Err(e) => c.errors.push(e),
        }
    }

    let mut apis = Vec::new();
    let mut api_routes = Vec::new();
    let mut seen_contexts: HashMap<(String, String), String> = HashMap::new();
    for api in &artifacts.apis {
        c.warnings.extend(api.warnings.iter().cloned());
        match c.api(api, &sequences) {
            Ok((deployed, route)) => {
                let key = (
                    deployed.context.clone(),
                    deployed.version.clone().unwrap_or_default(),
                );
                if let Some(other) = seen_contexts.get(&key) {
                    c.errors.push(CompileError::at(
                        &api.span,
                        format!(
                            "API {} has the same context {} and version as API {other}",
                            api.name, api.context
                        ),
                    ));
                    continue;
                }
                // Each API alone must build (templates, methods, context) before it joins the table.
                if let Err(e) = ApiTable::build(vec![route.clone()]) {
                    c.errors.push(CompileError::at(
                        &api.span,
                        format!("API {}: {e}", api.name),
                    ));
                    continue;
                }
                seen_contexts.insert(key, api.name.clone());
                apis.push(deployed);
                api_routes.push(route);
            }
            Err(e) => c.errors.push(e),
        }
    }
    let api_table = match ApiTable::build(api_routes) {
        Ok(table) => table,
        Err(e) => {
            for api in &apis {
                c.errors.push(CompileError {
                    file: String::new(),
                    span: api.name.clone(),
                    message: format!("the API table could not be built: {e}"),
                });
            }
            apis.clear();
            ApiTable::default()
        }
    };

    let mut proxies = Vec::new();
    let mut proxy_names = Vec::new();
    for proxy in &artifacts.proxies {
        c.warnings.extend(proxy.warnings.iter().cloned());
        match c.proxy(proxy, &sequences) {
            Ok(route) => {
                proxy_names.push(proxy.name.clone());
                proxies.push(route);
            }
            Err(e) => c.errors.push(e),
        }
    }

    // Sequences compiled from registry resources, looked up by their canonical key
    // (`conf:/seq/x.xml`), which every reference to them was rewritten to. A deployed sequence of
    // the same name keeps it: MI's local registry answers first.
    for (key, seq) in std::mem::take(&mut c.registry_sequences) {
        sequences.entry(key).or_insert(seq);
    }

    // A scheduled task whose target is not deployed fails at each firing, as in MI; say so now.
    for task in &artifacts.tasks {
        c.warnings.extend(task.deploy_warnings(
            |s| sequences.contains_key(s),
            |p| proxy_names.iter().any(|n| n == p),
        ));
    }

    // A message processor whose store, endpoint or sequences are missing deploys in MI too, and
    // fails when it runs; say so now (artifacts/src/message_processor.rs).
    for processor in &artifacts.message_processors {
        c.warnings.extend(processor.deploy_warnings(
            |s| artifacts.message_stores.iter().any(|m| m.name == s),
            |e| c.named_endpoints.contains_key(e),
            |s| sequences.contains_key(s),
        ));
    }

    // An inbound endpoint whose sequence is missing deploys in MI too and fails per message.
    for inbound in &artifacts.inbound_endpoints {
        c.warnings
            .extend(inbound.deploy_warnings(|s| sequences.contains_key(s)));
    }

    let deployment = Deployment {
        api_table,
        apis,
        proxy_table: ProxyTable::build(proxy_names),
        proxies,
        main_route: main_route(&sequences),
        sequences,
        templates,
        endpoints: c.endpoints,
        named_endpoints: c.named_endpoints,
        failures: c.errors.iter().map(|e| e.to_string()).collect(),
        warnings: c.warnings,
        has_fault_handlers: false,
        max_message_bytes: crate::runtime::payload::DEFAULT_MAX_MESSAGE_BYTES,
        max_inflight_branches: crate::runtime::limits::DEFAULT_MAX_INFLIGHT_BRANCHES,
        local_entries: Arc::new(std::mem::take(&mut c.local_entries)),
        registry: c.registry.clone(),
        configs: Arc::new(artifacts.configs.clone()),
        api_definitions: crate::dispatch::swagger::ApiDefinitions::from_artifacts(artifacts),
        attached: Default::default(),
    };
    let has_fault_handlers = c.template_handlers
        || deployment.sequences.contains_key("fault")
        || deployment.sequences.values().any(|s| s.on_error.is_some())
        || deployment
            .apis
            .iter()
            .flat_map(|a| a.resources.iter())
            .chain(deployment.proxies.iter())
            .any(|r| {
                // An empty fault sequence (the tooling default) reads nothing.
                r.fault_sequence
                    .as_ref()
                    .is_some_and(|f| !f.mediators.is_empty() || f.on_error.is_some())
                    || [&r.in_sequence, &r.out_sequence]
                        .iter()
                        .any(|s| s.as_ref().is_some_and(|s| s.on_error.is_some()))
            });
    let deployment = Deployment {
        has_fault_handlers,
        ..deployment
    };
    (deployment, c.errors)
}

/// The route of requests no API or proxy matches: the `main` sequence, if deployed.
fn main_route(sequences: &HashMap<String, Arc<Sequence>>) -> Option<Route> {
    sequences.get("main").map(|main| {
        Route {
            artifact: "sequence:main".into(),
            in_sequence: Some(main.clone()),
            ..Route::default()
        }
        .planned()
    })
}

struct Compiler {
    /// Every endpoint definition so far, in id order.
    endpoints: Vec<Arc<Endpoint>>,
    named_endpoints: HashMap<String, Arc<Endpoint>>,
    /// The named endpoint artifacts, for groups that refer to them by key.
    endpoint_sources: HashMap<String, art::Endpoint>,
    /// Named endpoints whose compilation started (each compiles once, in dependency order).
    endpoints_started: HashSet<String>,
    /// Named endpoints being compiled now: a key back to one of them is a loop.
    endpoints_compiling: HashSet<String>,
    sequence_names: HashSet<String>,
    /// Deployed message stores: a `<store>` naming another fails at each message.
    message_store_names: HashSet<String>,
    /// Local entries with inline content, by key.
    local_entries: HashMap<String, String>,
    /// Deployed sequence templates, by name (a `<call-template>` to another name warns).
    template_names: HashSet<String>,
    /// Whether a template or a `<call-template>` has an `onError` handler.
    template_handlers: bool,
    /// Endpoint templates, by name, and the ones being expanded now (a loop is an error).
    endpoint_templates: HashMap<String, Arc<art::Template>>,
    expanding: Vec<String>,
    /// The named endpoints a `key-expression` may name, once they are all compiled.
    dynamic_targets: Option<Arc<HashMap<String, Arc<Endpoint>>>>,
    /// The file registry: keys that name no deployed artifact are looked up here.
    registry: Arc<art::Registry>,
    /// Sequences compiled from registry resources, by canonical key.
    registry_sequences: HashMap<String, Arc<Sequence>>,
    /// Registry sequences being compiled now (a reference back to one is looked up per message).
    registry_compiling: HashSet<String>,
    /// Registry resources that did not compile, by canonical key: every reference fails alike.
    registry_failures: HashMap<String, String>,
    /// HTTP connector connections by local entry key; `Err` says why one did not deploy.
    http_connections: HashMap<String, std::result::Result<Arc<rt::HttpConnection>, String>>,
    /// Email connections by local entry key; `None` for a mailbox-reading (IMAP/POP3) one.
    email_connections: HashMap<
        String,
        std::result::Result<Option<Arc<rt::email_connector::EmailConnection>>, String>,
    >,
    /// File connector connections by local entry key.
    file_connections:
        HashMap<String, std::result::Result<Arc<rt::file_connector::FileConnection>, String>>,
    errors: Vec<CompileError>,
    /// Deployed, but worth an operator's attention (`file:line:column` included).
    warnings: Vec<String>,
}

/// A key that names a registry resource (`conf:`, `gov:`, `local:`, `resources:` paths, and the
/// unsupported `file:`) rather than an artifact.
fn is_registry_key(key: &str) -> bool {
    has_registry_prefix(key) || key.starts_with("file:")
}

/// A registry resource read as an artifact of `kind` (the whole file parsed, so that errors carry
/// the resource's `file:line:column`); `Err` says why it is not one.
fn registry_artifact(
    resource: &art::RegistryResource,
    key: &str,
    kind: art::ArtifactKind,
) -> std::result::Result<art::Artifact, String> {
    let text = String::from_utf8_lossy(resource.content());
    let text = with_root_name(&text, key);
    match art::parse_artifact(resource.origin(), &text) {
        Ok(artifact) if artifact.kind() == kind => Ok(artifact),
        Ok(artifact) => Err(format!(
            "registry resource {key} is a <{}>, not a <{}>",
            artifact.kind().root_element(),
            kind.root_element()
        )),
        Err(e) => Err(format!(
            "registry resource {key} is not a valid <{}>: {e}",
            kind.root_element()
        )),
    }
}

/// `text` with a `name` attribute on its root element when it has none: a registry resource
/// needs no name (MI's test registry has `<endpoint>`s without one, e.g. tests-mediator-2
/// `registry/config/myEndpoint/iterateEndpoint.xml`), but the artifact parser requires it of a
/// top-level sequence or endpoint. The key is the name. Columns after the insertion on that
/// line shift by its length in error messages.
fn with_root_name<'t>(text: &'t str, key: &str) -> std::borrow::Cow<'t, str> {
    let Ok(doc) = roxmltree::Document::parse(text) else {
        return std::borrow::Cow::Borrowed(text);
    };
    let root = doc.root_element();
    if root.has_attribute("name") {
        return std::borrow::Cow::Borrowed(text);
    }
    let start = root.range().start + 1;
    let name_end = text[start..]
        .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
        .map_or(text.len(), |n| start + n);
    std::borrow::Cow::Owned(format!(
        "{} name=\"{}\"{}",
        &text[..name_end],
        payload::escape_attribute(key),
        &text[name_end..]
    ))
}

/// Why a registry key names nothing: where MI's file registry looks for it
/// (`MicroIntegratorRegistry.resolveRegistryURI`).
fn missing_registry_resource(what: &str, key: &str) -> String {
    if key.starts_with("file:") {
        return format!(
            "{what} {key} is a file: registry key (not supported: use conf:, gov: or local:)"
        );
    }
    match registry_file_path(key) {
        Some(path) => format!(
            "{what} {key} is not deployed and not in the registry (no file registry/{path}, and no CApp registry resource of that key)"
        ),
        None => format!(
            "{what} {key}: the registry key is illegal: it points to a location outside the registry"
        ),
    }
}

impl Compiler {
    fn endpoint(&mut self, e: &art::Endpoint) -> Result<Arc<Endpoint>> {
        let kind = match &e.kind {
            art::EndpointKind::Template {
                template,
                parameters,
            } => return self.template_endpoint(e, template, parameters),
            art::EndpointKind::Address {
                uri,
                format,
                addressing,
            } => {
                // MI builds the endpoint with any text and fails when a message is sent to it
                // (MI's car-deployment-before-transport-start test CApp has `uri="http://"`);
                // Conflux deploys it too, says so, and each send faults.
                if let Err(err) = uri.parse::<http::Uri>() {
                    self.warnings.push(format!(
                        "address uri {uri:?} is not a valid URI ({err}): messages sent to it fail at {}",
                        e.span
                    ));
                }
                EndpointKind::Address {
                    uri: uri.clone(),
                    format: *format,
                    addressing: *addressing,
                }
            }
            art::EndpointKind::Http {
                uri_template,
                method,
            } => {
                let template = EndpointUriTemplate::parse(uri_template).map_err(|err| {
                    CompileError::at(
                        &e.span,
                        format!("http endpoint uri-template {uri_template:?}: {err}"),
                    )
                })?;
                let method = match method {
                    Some(m) => Some(Method::from_bytes(m.as_bytes()).map_err(|_| {
                        CompileError::at(
                            &e.span,
                            format!("http endpoint method {m:?} is not an HTTP method"),
                        )
                    })?),
                    None => None,
                };
                EndpointKind::Http { template, method }
            }
            // An inline document was resolved when the artifact was read: an address endpoint
            // with the port's format. A `uri` document is fetched at the first send.
            art::EndpointKind::Wsdl {
                inline: Some(port),
                addressing,
                ..
            } => EndpointKind::Address {
                uri: port.address.clone(),
                format: Some(port.format),
                addressing: *addressing,
            },
            art::EndpointKind::Wsdl {
                uri,
                service,
                port,
                addressing,
                inline: None,
            } => {
                let uri = uri.clone().unwrap_or_default();
                match uri.parse::<http::Uri>() {
                    Ok(u) if u.scheme().is_some() && u.host().is_some() => {}
                    _ => {
                        return Err(CompileError::at(
                            &e.span,
                            format!("wsdl uri {uri:?} is not an absolute http(s) URL"),
                        ));
                    }
                }
                EndpointKind::Wsdl(Arc::new(WsdlEndpoint::new(
                    uri,
                    service.clone(),
                    port.clone(),
                    *addressing,
                )))
            }
            // Sends to the message's To address (set with <header name="To">).
            art::EndpointKind::Default { .. } => EndpointKind::Default,
            art::EndpointKind::Failover {
                children,
                dynamic,
                build_message,
            } => EndpointKind::Group(Arc::new(EndpointGroup::new(
                GroupKind::Failover { dynamic: *dynamic },
                self.group_children(children)?,
                build_message.unwrap_or(false),
            ))),
            art::EndpointKind::Loadbalance {
                children,
                algorithm,
                failover,
                build_message,
                session,
            } => {
                let mut group = EndpointGroup::new(
                    GroupKind::Loadbalance {
                        failover: *failover,
                    },
                    self.group_children(children)?,
                    build_message.unwrap_or(false),
                );
                // SALoadbalanceEndpoint (runtime/lb_session.rs).
                if let Some(session) = session {
                    group = group.with_session(crate::runtime::lb_session::SessionAffinity::new(
                        session.kind,
                        session.timeout_ms.map_or(
                            crate::runtime::lb_session::DEFAULT_SESSION_TIMEOUT,
                            Duration::from_millis,
                        ),
                    ));
                }
                EndpointKind::Group(Arc::new(match algorithm {
                    art::LoadbalanceAlgorithm::RoundRobin => group,
                    // WeightedRoundRobin.init: `loadbalance.weight` of each child, default 1.
                    art::LoadbalanceAlgorithm::WeightedRoundRobin => group.weighted(
                        children
                            .iter()
                            .map(|c| match c {
                                art::EndpointRef::Inline(e) => e
                                    .properties
                                    .iter()
                                    .find(|p| p.name == art::endpoint::LOADBALANCE_WEIGHT)
                                    .and_then(|p| match &p.value {
                                        art::ValueOrExpression::Value(v) => v.trim().parse().ok(),
                                        _ => None,
                                    })
                                    .unwrap_or(1),
                                _ => 1,
                            })
                            .collect(),
                    ),
                }))
            }
            // RecipientListEndpoint (runtime/recipient_list.rs).
            art::EndpointKind::RecipientList { recipients } => {
                use crate::runtime::recipient_list::{RecipientList, Recipients};
                let recipients = match recipients {
                    art::Recipients::Endpoints(children) => {
                        Recipients::Static(self.recipient_members(children)?)
                    }
                    art::Recipients::Dynamic { value, max_cache } => Recipients::Dynamic {
                        value: match value {
                            art::Value::Literal(text, _) => ValueSource::Literal(text.clone()),
                            art::Value::Dynamic(expr) => expression(expr)?,
                        },
                        max_cache: *max_cache,
                    },
                };
                EndpointKind::RecipientList(Arc::new(RecipientList { recipients }))
            }
        };
        let mut dynamic_timeout = None;
        let (timeout, timeout_action) = match &e.timeout {
            None => (None, TimeoutAction::Never),
            Some(t) => {
                let duration = match &t.duration {
                    None => None,
                    // A timeout applies only above 0 (SYN core/axis2/Axis2FlexibleMEPClient.java:
                    // `endpoint.getEffectiveTimeout() > 0`); `<duration>0</duration>` means none.
                    Some(art::TimeoutDuration::Millis(ms)) if *ms > 0 => {
                        Some(Duration::from_millis(*ms))
                    }
                    Some(art::TimeoutDuration::Millis(_)) => None,
                    Some(art::TimeoutDuration::Dynamic(expr)) => {
                        dynamic_timeout = Some(expression(expr)?);
                        None
                    }
                };
                let action = match t.response_action {
                    art::ResponseAction::Fault => TimeoutAction::Fault,
                    art::ResponseAction::Discard => TimeoutAction::Discard,
                    art::ResponseAction::Never => TimeoutAction::Never,
                };
                (duration, action)
            }
        };
        // A child's timeout with responseAction discard ends a group's message without its fault
        // handlers (SYN AbstractEndpoint.onFault); the engine drops it when every child discards.
        let timeout_action = match &kind {
            EndpointKind::Group(g)
                if g.children
                    .iter()
                    .all(|c| c.endpoint.timeout_action == TimeoutAction::Discard) =>
            {
                TimeoutAction::Discard
            }
            _ => timeout_action,
        };
        let endpoint = Arc::new(Endpoint {
            id: self.endpoints.len(),
            name: Arc::from(e.name.as_deref().unwrap_or("anonymous")),
            kind,
            timeout,
            dynamic_timeout,
            timeout_action,
            suspension: SuspensionSettings {
                suspend_error_codes: e.suspend_on_failure.error_codes.clone(),
                initial_duration_ms: Some(e.suspend_on_failure.initial_duration_ms),
                progression_factor: Some(e.suspend_on_failure.progression_factor as f32),
                maximum_duration_ms: e.suspend_on_failure.maximum_duration_ms,
                timeout_error_codes: e.mark_for_suspension.error_codes.clone(),
                retries_before_suspension: e.mark_for_suspension.retries_before_suspension,
                retry_delay_ms: e.mark_for_suspension.retry_delay_ms,
            },
        });
        self.endpoints.push(endpoint.clone());
        Ok(endpoint)
    }

    /// Compiles the named endpoint `name` (defined by `e`) unless that was done already.
    fn named_endpoint(&mut self, name: &str, e: &art::Endpoint) -> Result<()> {
        if !self.endpoints_started.insert(name.to_string()) {
            return Ok(());
        }
        self.endpoints_compiling.insert(name.to_string());
        let compiled = self.endpoint(e);
        self.endpoints_compiling.remove(name);
        self.named_endpoints.insert(name.to_string(), compiled?);
        Ok(())
    }

    /// The children of a failover or load-balance group, with the retry settings of each child's
    /// definition (a key child uses the definition it names, as Synapse's `IndirectEndpoint`
    /// hands the failure of its real endpoint to the group).
    fn group_children(&mut self, children: &[art::EndpointRef]) -> Result<Vec<GroupChild>> {
        let mut out = Vec::with_capacity(children.len());
        for r in children {
            if let art::EndpointRef::Key(name, span) = r
                && self.endpoints_compiling.contains(name)
            {
                return Err(CompileError::at(
                    span,
                    format!("endpoint {name} contains itself (a group refers back to it)"),
                ));
            }
            let endpoint = self.endpoint_ref(r)?;
            if let EndpointKind::RecipientList(_) = &endpoint.kind {
                let span = match r {
                    art::EndpointRef::Inline(e) => &e.span,
                    art::EndpointRef::Key(_, span) => span,
                    art::EndpointRef::Expression(expr) => &expr.span,
                };
                return Err(CompileError::at(
                    span,
                    format!(
                        "unsupported: recipient list endpoint {} as a child of a failover or load-balance group (a recipient list answers once per member; use it from <send> or <call>)",
                        endpoint.name
                    ),
                ));
            }
            let definition = match r {
                art::EndpointRef::Inline(e) => Some(&**e),
                art::EndpointRef::Key(name, _) => self.endpoint_sources.get(name).or_else(|| {
                    normalize_key(name).and_then(|key| self.endpoint_sources.get(&key))
                }),
                art::EndpointRef::Expression(_) => None,
            };
            let (retry_disabled, retry_enabled, budget) = match definition {
                Some(d) if d.kind.children().is_empty() => (
                    d.retry_disabled_error_codes.clone(),
                    d.retry_enabled_error_codes.clone(),
                    d.mark_for_suspension
                        .retries_before_suspension
                        .saturating_add(1),
                ),
                // A group as a child has no definition of its own: every failure is retried.
                _ => (Vec::new(), Vec::new(), 1),
            };
            out.push(GroupChild {
                endpoint,
                retry_disabled,
                retry_enabled,
                budget,
            });
        }
        Ok(out)
    }

    /// The `<endpoint>` members of a recipient list (a key naming the list itself is refused, as
    /// for groups).
    fn recipient_members(&mut self, children: &[art::EndpointRef]) -> Result<Vec<Arc<Endpoint>>> {
        let mut out = Vec::with_capacity(children.len());
        for r in children {
            if let art::EndpointRef::Key(name, span) = r
                && self.endpoints_compiling.contains(name)
            {
                return Err(CompileError::at(
                    span,
                    format!("endpoint {name} contains itself (a recipient list refers back to it)"),
                ));
            }
            out.push(self.endpoint_ref(r)?);
        }
        Ok(out)
    }

    fn endpoint_ref(&mut self, r: &art::EndpointRef) -> Result<Arc<Endpoint>> {
        match r {
            art::EndpointRef::Inline(e) => self.endpoint(e),
            art::EndpointRef::Expression(expr) => {
                let Some(named) = self.dynamic_targets.clone() else {
                    return Err(CompileError::at(
                        &expr.span,
                        "unsupported endpoint key-expression inside a named endpoint",
                    ));
                };
                Ok(Arc::new(Endpoint {
                    id: usize::MAX,
                    name: Arc::from(format!("{{{}}}", expr.text)),
                    kind: EndpointKind::Dynamic(Arc::new(
                        crate::runtime::dynamic_endpoint::DynamicEndpoint {
                            key: expression(expr)?,
                            named,
                        },
                    )),
                    timeout: None,
                    dynamic_timeout: None,
                    timeout_action: TimeoutAction::Never,
                    suspension: Default::default(),
                }))
            }
            art::EndpointRef::Key(name, span) => {
                if let Some(e) = self.named_endpoints.get(name) {
                    return Ok(e.clone());
                }
                // A named endpoint not compiled yet (a group defined before its children).
                if !self.endpoints_started.contains(name)
                    && let Some(e) = self.endpoint_sources.get(name).cloned()
                {
                    match self.named_endpoint(name, &e) {
                        Ok(()) => {
                            if let Some(e) = self.named_endpoints.get(name) {
                                return Ok(e.clone());
                            }
                        }
                        Err(err) => self.errors.push(err),
                    }
                }
                // SYN `config/SynapseConfiguration.java` getEndpoint: a key the local registry does
                // not know is a registry resource (a key without prefix is a governance key).
                if let Some(endpoint) = self.registry_endpoint(name, span)? {
                    return Ok(endpoint);
                }
                if is_registry_key(name) {
                    return Err(CompileError::at(
                        span,
                        missing_registry_resource("endpoint", name),
                    ));
                }
                // MI resolves an endpoint key when a message is sent (SYN endpoints/IndirectEndpoint.java):
                // the artifact deploys and each send to the missing endpoint is a fault. Conflux does the
                // same, and says so when deploying.
                self.warnings.push(format!(
                    "endpoint {name} is not deployed (no endpoints/{name}.xml, or it failed): messages sent to it fail at {span}"
                ));
                let missing = Arc::new(Endpoint {
                    id: usize::MAX,
                    name: Arc::from(name.as_str()),
                    kind: EndpointKind::Missing,
                    timeout: None,
                    dynamic_timeout: None,
                    timeout_action: TimeoutAction::Never,
                    suspension: Default::default(),
                });
                Ok(missing)
            }
        }
    }

    /// A reference to a sequence that is not deployed. MI looks sequences up when a message
    /// needs them (SYN `mediators/base/SequenceMediator.java`, `ProxyService`, `Resource`), so the
    /// artifact deploys and the message that reaches the reference faults; Conflux does the same
    /// and warns when deploying. A registry key (`conf:`, `gov:`) that the registry does not hold
    /// is an error naming where the registry looks.
    fn missing_sequence(&mut self, what: &str, name: &str, span: &Span) -> Result<()> {
        if is_registry_key(name) {
            return Err(CompileError::at(
                span,
                missing_registry_resource(what, name),
            ));
        }
        self.warnings.push(format!(
            "{what} {name} is not deployed (no sequences/{name}.xml, or it failed): messages that reach it fail at {span}"
        ));
        Ok(())
    }

    fn sequence(&mut self, s: &art::Sequence, name: &str) -> Result<Sequence> {
        let on_error = match &s.on_error {
            Some((handler, span)) => Some(self.sequence_key("onError sequence", handler, span)?),
            None => None,
        };
        Ok(Sequence {
            name: Arc::from(name),
            mediators: self.mediators(&s.mediators)?,
            on_error,
        })
    }

    /// The name a message looks the sequence `key` up by: a deployed sequence's own name; for a
    /// registry resource, its canonical key (the sequence is compiled now, once); otherwise `key`
    /// itself, which warns or fails as [`Compiler::missing_sequence`] says.
    fn sequence_key(&mut self, what: &str, key: &str, span: &Span) -> Result<String> {
        if self.sequence_names.contains(key) {
            return Ok(key.to_string());
        }
        if let Some(canonical) = self.registry_sequence(what, key, span)? {
            return Ok(canonical);
        }
        self.missing_sequence(what, key, span)?;
        Ok(key.to_string())
    }

    /// SYN `config/SynapseConfiguration.java` getSequence: a key the local registry does not know
    /// is fetched from the registry and built as a sequence (`AbstractRegistry.getResource` with
    /// the sequence mapper). `Ok(None)` when the registry has no resource of that key.
    fn registry_sequence(&mut self, what: &str, key: &str, span: &Span) -> Result<Option<String>> {
        let Some(canonical) = normalize_key(key) else {
            return Ok(None);
        };
        if self.registry_sequences.contains_key(&canonical)
            || self.registry_compiling.contains(&canonical)
        {
            return Ok(Some(canonical));
        }
        if let Some(why) = self.registry_failures.get(&canonical) {
            return Err(CompileError::at(span, format!("{what} {key}: {why}")));
        }
        let registry = self.registry.clone();
        let Some(resource) = registry.get(&canonical) else {
            return Ok(None);
        };
        let compiled = match registry_artifact(resource, &canonical, art::ArtifactKind::Sequence) {
            Ok(art::Artifact::Sequence(seq)) => {
                self.registry_compiling.insert(canonical.clone());
                let compiled = self.sequence(&seq, &canonical);
                self.registry_compiling.remove(&canonical);
                compiled.map_err(|e| format!("registry resource {canonical} does not deploy: {e}"))
            }
            Ok(_) => Err(format!("registry resource {canonical} is not a <sequence>")),
            Err(why) => Err(why),
        };
        match compiled {
            Ok(seq) => {
                self.registry_sequences
                    .insert(canonical.clone(), Arc::new(seq));
                Ok(Some(canonical))
            }
            Err(why) => {
                self.registry_failures.insert(canonical, why.clone());
                Err(CompileError::at(span, format!("{what} {key}: {why}")))
            }
        }
    }

    /// SYN `config/SynapseConfiguration.java` getEndpoint for a key the local registry does not
    /// know: the registry resource built as an endpoint, compiled once as a named endpoint whose
    /// name is the canonical key. `Ok(None)` when the registry has no resource of that key.
    fn registry_endpoint(&mut self, key: &str, span: &Span) -> Result<Option<Arc<Endpoint>>> {
        let Some(canonical) = normalize_key(key) else {
            return Ok(None);
        };
        if let Some(e) = self.named_endpoints.get(&canonical) {
            return Ok(Some(e.clone()));
        }
        if self.endpoints_compiling.contains(&canonical) {
            return Err(CompileError::at(
                span,
                format!("endpoint {key} contains itself (a group refers back to it)"),
            ));
        }
        if let Some(why) = self.registry_failures.get(&canonical) {
            return Err(CompileError::at(span, format!("endpoint {key}: {why}")));
        }
        let registry = self.registry.clone();
        let Some(resource) = registry.get(&canonical) else {
            return Ok(None);
        };
        let failed = |c: &mut Compiler, why: String| {
            c.registry_failures.insert(canonical.clone(), why.clone());
            Err(CompileError::at(span, format!("endpoint {key}: {why}")))
        };
        let mut endpoint =
            match registry_artifact(resource, &canonical, art::ArtifactKind::Endpoint) {
                Ok(art::Artifact::Endpoint(e)) => e,
                Ok(_) => {
                    return failed(
                        self,
                        format!("registry resource {canonical} is not an <endpoint>"),
                    );
                }
                Err(why) => return failed(self, why),
            };
        endpoint.name = Some(canonical.clone());
        self.endpoint_sources
            .insert(canonical.clone(), endpoint.clone());
        if let Err(e) = self.named_endpoint(&canonical, &endpoint) {
            return failed(
                self,
                format!("registry resource {canonical} does not deploy: {e}"),
            );
        }
        Ok(self.named_endpoints.get(&canonical).cloned())
    }

    fn sequence_ref(
        &mut self,
        r: &art::SequenceRef,
        owner: &str,
        named: &HashMap<String, Arc<Sequence>>,
    ) -> Result<Option<Arc<Sequence>>> {
        match r {
            art::SequenceRef::None => Ok(None),
            art::SequenceRef::Inline(s) => Ok(Some(Arc::new(self.sequence(s, owner)?))),
            art::SequenceRef::Named(name, span) => match named.get(name) {
                Some(seq) => Ok(Some(seq.clone())),
                None => {
                    if let Some(key) = self.registry_sequence("sequence", name, span)?
                        && let Some(seq) = self.registry_sequences.get(&key)
                    {
                        return Ok(Some(seq.clone()));
                    }
                    self.missing_sequence("sequence", name, span)?;
                    // Looked up per message, which then faults as MI's missing sequence does.
                    Ok(Some(Arc::new(Sequence {
                        name: Arc::from(name.as_str()),
                        mediators: vec![Mediator::Sequence(rt::SequenceCall::Named(
                            ValueSource::Literal(name.clone()),
                        ))],
                        on_error: None,
                    })))
                }
            },
        }
    }

    fn api(
        &mut self,
        api: &art::Api,
        named: &HashMap<String, Arc<Sequence>>,
    ) -> Result<(DeployedApi, ApiRoute)> {
        let artifact: Arc<str> = Arc::from(format!("api:{}", api.name));
        let mut routes = Vec::new();
        let mut resources = Vec::new();
        for r in &api.resources {
            let matcher = match (&r.uri_template, &r.url_mapping) {
                (Some((t, span)), _) => ResourceMatcher::UriTemplate(
                    UriTemplate::parse(t)
                        .map_err(|e| CompileError::at(span, format!("uri-template {t:?}: {e}")))?,
                ),
                (None, Some((m, span))) => ResourceMatcher::UrlMapping(
                    UrlMapping::parse(m)
                        .map_err(|e| CompileError::at(span, format!("url-mapping {m:?}: {e}")))?,
                ),
                (None, None) => ResourceMatcher::Default,
            };
            let methods = r
                .methods
                .iter()
                .map(|m| {
                    Method::from_bytes(m.as_bytes()).map_err(|_| {
                        CompileError::at(&r.span, format!("method {m:?} is not an HTTP method"))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            resources.push(ResourceRoute {
                methods,
                matcher,
                content_type: r.content_type.clone(),
                user_agent: r.user_agent.clone(),
                protocol: r.protocol.map(protocol),
            });
            // The direct path or the general flow, decided here once (runtime/direct.rs).
            let route = Route {
                artifact: artifact.clone(),
                in_sequence: self.sequence_ref(&r.in_sequence, &artifact, named)?,
                out_sequence: self.sequence_ref(&r.out_sequence, &artifact, named)?,
                fault_sequence: self.sequence_ref(&r.fault_sequence, &artifact, named)?,
                target: None,
                direct: Default::default(),
            };
            routes.push(route.planned());
        }
        let route = ApiRoute {
            name: api.name.clone(),
            context: api.context.clone(),
            version: api.version.clone(),
            version_type: api.version_type.map(|v| match v {
                art::VersionType::Url => VersionType::Url,
                art::VersionType::Context => VersionType::Context,
            }),
            hostname: api.hostname.clone(),
            port: api.port,
            protocol: None,
            resources,
        };
        let deployed = DeployedApi {
            name: api.name.clone(),
            context: api.context.clone(),
            version: api.version.clone(),
            resources: routes,
        };
        Ok((deployed, route))
    }

    fn proxy(
        &mut self,
        p: &art::ProxyService,
        named: &HashMap<String, Arc<Sequence>>,
    ) -> Result<Route> {
        let artifact: Arc<str> = Arc::from(format!("proxy:{}", p.name));
        let target = match &p.target.endpoint {
            Some(r) => Some(self.endpoint_ref(r)?),
            None => None,
        };
        Ok(Route {
            in_sequence: self.sequence_ref(&p.target.in_sequence, &artifact, named)?,
            out_sequence: self.sequence_ref(&p.target.out_sequence, &artifact, named)?,
            fault_sequence: self.sequence_ref(&p.target.fault_sequence, &artifact, named)?,
            target,
            artifact,
            direct: Default::default(),
        }
        .planned())
    }

    fn mediators(&mut self, list: &[art::Mediator]) -> Result<Vec<Mediator>> {
        let mut out = Vec::with_capacity(list.len());
        for m in list {
            match m {
                art::Mediator::Log(l) => out.push(Mediator::Log(self.log(l)?)),
                art::Mediator::Property(p) => out.push(Mediator::Property(property(p)?)),
                art::Mediator::PropertyGroup(g) => {
                    for p in &g.properties {
                        out.push(Mediator::Property(property(p)?));
                    }
                }
                art::Mediator::Header(h) => out.push(Mediator::Header(header(h)?)),
                art::Mediator::PayloadFactory(p) => {
                    out.push(Mediator::PayloadFactory(self.payload_factory(p)?))
                }
                art::Mediator::Respond(_) => out.push(Mediator::Respond(rt::Respond)),
                art::Mediator::Drop(_) => out.push(Mediator::Drop(rt::Drop)),
                art::Mediator::Loopback(_) => out.push(Mediator::Loopback(rt::Loopback)),
                art::Mediator::Send(s) => {
                    let receive = match &s.receive {
                        None => None,
                        Some(art::Value::Literal(name, span)) => Some(ValueSource::Literal(
                            self.sequence_key("receive sequence", name, span)?,
                        )),
                        Some(art::Value::Dynamic(expr)) => Some(expression(expr)?),
                    };
                    let endpoint = match &s.endpoint {
                        Some(r) => Some(self.endpoint_ref(r)?),
                        None => None,
                    };
                    out.push(Mediator::Send(rt::Send { endpoint, receive }));
                }
                art::Mediator::Call(call) => {
                    let endpoint = match &call.endpoint {
                        Some(r) => self.endpoint_ref(r)?,
                        // Without an endpoint, call goes to the message's To address.
                        None => crate::runtime::engine::to_address_endpoint(),
                    };
                    out.push(Mediator::Call(rt::Call { endpoint }));
                }
                art::Mediator::Sequence(s) => match &s.target {
                    am::SequenceTarget::Key(art::Value::Literal(key, span)) => {
                        let key = self.sequence_key("sequence", key, span)?;
                        out.push(Mediator::Sequence(rt::SequenceCall::Named(
                            ValueSource::Literal(key),
                        )));
                    }
                    am::SequenceTarget::Key(art::Value::Dynamic(expr)) => {
                        out.push(Mediator::Sequence(rt::SequenceCall::Named(expression(
                            expr,
                        )?)));
                    }
                    am::SequenceTarget::Inline(mediators) => {
                        out.push(Mediator::Sequence(rt::SequenceCall::Inline(Arc::new(
                            Sequence {
                                name: Arc::from("anonymous"),
                                mediators: self.mediators(mediators)?,
                                on_error: None,
                            },
                        ))));
                    }
                },
                art::Mediator::Filter(f) => {
                    let condition = match &f.condition {
                        am::FilterCondition::Xpath(e) => rt::Condition::Boolean(expression(e)?),
                        am::FilterCondition::SourceRegex {
                            source,
                            regex,
                            regex_span,
                        } => rt::Condition::matches(expression(source)?, regex)
                            .map_err(|e| CompileError::at(regex_span, e))?,
                    };
                    out.push(Mediator::Filter(rt::Filter {
                        condition,
                        then: self.mediators(&f.then)?,
                        otherwise: match &f.otherwise {
                            Some(list) => self.mediators(list)?,
                            None => Vec::new(),
                        },
                    }));
                }
                art::Mediator::Switch(s) => {
                    let mut cases = Vec::with_capacity(s.cases.len());
                    for case in &s.cases {
                        let mediators = self.mediators(&case.mediators)?;
                        cases.push(
                            rt::Case::new(&case.regex, mediators)
                                .map_err(|e| CompileError::at(&case.span, e))?,
                        );
                    }
                    out.push(Mediator::Switch(rt::Switch {
                        source: expression(&s.source)?,
                        cases,
                        default: match &s.default {
                            Some(list) => self.mediators(list)?,
                            None => Vec::new(),
                        },
                    }));
                }
                art::Mediator::Enrich(e) => out.push(Mediator::Enrich(self.enrich(e)?)),
                art::Mediator::MakeFault(f) => out.push(Mediator::MakeFault(makefault(f)?)),
                art::Mediator::In(i) => out.push(Mediator::In(self.mediators(&i.mediators)?)),
                art::Mediator::Out(o) => out.push(Mediator::Out(self.mediators(&o.mediators)?)),
                art::Mediator::CallTemplate(t) => {
                    out.push(Mediator::CallTemplate(self.call_template(t)?))
                }
                art::Mediator::Callout(c) => {
                    let endpoint = match &c.service {
                        am::CalloutService::Url(url, span) => {
                            rt::Callout::service_url(url).map_err(|e| CompileError::at(span, e))?
                        }
                        am::CalloutService::Endpoint(r) => self.endpoint_ref(r)?,
                        am::CalloutService::To => crate::runtime::engine::to_address_endpoint(),
                    };
                    let local_entry = match &c.source {
                        am::CalloutSource::Key(key) => self.entry_text(key),
                        _ => None,
                    };
                    let callout = rt::Callout::compile(c, endpoint, local_entry)
                        .map_err(|(span, e)| CompileError::at(&span, e))?;
                    out.push(Mediator::Callout(callout));
                }
                art::Mediator::Clone(c) => out.push(Mediator::Clone(self.clone_mediator(c)?)),
                art::Mediator::Iterate(i) => {
                    out.push(Mediator::Iterate(Box::new(self.iterate(i)?)))
                }
                art::Mediator::Aggregate(a) => {
                    out.push(Mediator::Aggregate(Arc::new(self.aggregate(a)?)))
                }
                art::Mediator::HttpConnector(op) => {
                    out.push(Mediator::HttpConnector(Box::new(self.http_operation(op)?)))
                }
                art::Mediator::Connector(op) => out.push(self.connector_operation(op)?),
                art::Mediator::Variable(v) => out.push(Mediator::Variable(variable(v)?)),
                art::Mediator::ForEach(fe) => {
                    out.push(Mediator::ForEach(Box::new(self.foreach(fe)?)))
                }
                art::Mediator::ForEachClassic(fe) => out.push(Mediator::ForEachClassic(Box::new(
                    self.foreach_classic(fe)?,
                ))),
                art::Mediator::Throttle(t) => {
                    out.push(Mediator::Throttle(Arc::new(self.throttle(t)?)))
                }
                art::Mediator::ScatterGather(sg) => {
                    out.push(Mediator::ScatterGather(Box::new(self.scatter_gather(sg)?)))
                }
                art::Mediator::ThrowError(t) => out.push(Mediator::ThrowError(rt::ThrowError {
                    error_type: t.error_type.clone(),
                    message: match &t.message {
                        art::Value::Literal(text, _) => ValueSource::Literal(text.clone()),
                        art::Value::Dynamic(e) => expression(e)?,
                    },
                })),
                art::Mediator::Validate(v) => {
                    out.push(Mediator::Validate(Box::new(self.validate(v)?)))
                }
                art::Mediator::Cache(c) => out.push(Mediator::Cache(Box::new(self.cache(c)?))),
                art::Mediator::DataMapper(d) => {
                    out.push(Mediator::DataMapper(Box::new(self.datamapper(d)?)))
                }
                art::Mediator::Xslt(x) => out.push(Mediator::Xslt(Box::new(self.xslt(x)?))),
                // runtime/mediators/store.rs: the store is looked up per message (MI does too).
                art::Mediator::Store(st) => out.push(Mediator::Store(Box::new(rt::Store {
                    message_store: match &st.message_store {
                        am::StoreTarget::Name(n) => {
                            if !self.message_store_names.contains(n) {
                                self.warnings.push(format!(
                                    "message store {n} is not deployed (no message-stores/{n}.xml, or it failed): every message reaching this <store> fails with \"Message Store does not exist\" at {}",
                                    st.span
                                ));
                            }
                            ValueSource::Literal(n.clone())
                        }
                        am::StoreTarget::Expression(e) => expression(e)?,
                    },
                    on_store_sequence: st.on_store_sequence.clone(),
                }))),
                // runtime/mediators/db.rs: the pool is made here, once per mediator.
                art::Mediator::Db(d) => out.push(Mediator::Db(Arc::new(
                    rt::compile_db(d).map_err(|(span, e)| CompileError::at(&span, e))?,
                ))),
                // runtime/mediators/data_service_call.rs: the service is looked up per message.
                art::Mediator::DataServiceCall(d) => out.push(Mediator::DataServiceCall(Box::new(
                    rt::compile_data_service_call(d)
                        .map_err(|(span, e)| CompileError::at(&span, e))?,
                ))),
                // runtime/mediators/script.rs: inline sources and static keys are syntax-checked here.
                art::Mediator::Script(s) => out.push(Mediator::Script(Box::new(
                    rt::compile_script(s, &|key| self.entry_text(key))
                        .map_err(|(span, e)| CompileError::at(&span, e))?,
                ))),
            }
        }
        Ok(out)
    }

    /// `<validate>` (runtime/mediators/validate.rs): schemas of static keys compile here.
    fn validate(&mut self, v: &am::Validate) -> Result<rt::Validate> {
        let on_fail = self.mediators(&v.on_fail)?;
        let (validate, warnings) = rt::compile_validate(v, &|key| self.entry_text(key), on_fail)
            .map_err(|(span, e)| CompileError::at(&span, e))?;
        self.warnings.extend(warnings);
        Ok(validate)
    }

    /// `<xslt>`/`<fastXSLT>` (runtime/mediators/xslt.rs): stylesheets of static keys compile here.
    fn xslt(&mut self, x: &am::Xslt) -> Result<rt::Xslt> {
        let (xslt, warnings) = rt::compile_xslt(x, &|key| self.entry_text(key))
            .map_err(|(span, e)| CompileError::at(&span, e))?;
        self.warnings.extend(warnings);
        Ok(xslt)
    }

    /// `<datamapper>` (runtime/mediators/datamapper.rs): static keys are read and the mapping
    /// built here.
    fn datamapper(&mut self, d: &am::DataMapper) -> Result<rt::DataMapper> {
        let entry = |key: &str| {
            let text = self.entry_text(key)?;
            let label = if self.local_entries.contains_key(key) {
                format!("{key} (local entry)")
            } else {
                match self.registry.get(key) {
                    Some(resource) => format!("{key} ({})", resource.origin()),
                    None => key.to_string(),
                }
            };
            Some((text, label))
        };
        rt::compile_datamapper(d, &entry).map_err(|(span, e)| CompileError::at(&span, e))
    }

    /// `<cache>` (runtime/mediators/cache.rs).
    fn cache(&mut self, c: &am::Cache) -> Result<rt::Cache> {
        let on_hit = match c.finder.as_ref().and_then(|f| f.on_cache_hit.as_ref()) {
            None => rt::OnHit::Respond,
            Some(am::OnCacheHit::Inline(list)) => rt::OnHit::Inline(self.mediators(list)?),
            Some(am::OnCacheHit::Sequence(name, span)) => {
                rt::OnHit::Sequence(self.sequence_key("onCacheHit sequence", name, span)?)
            }
        };
        rt::compile_cache(c, on_hit).map_err(|(span, e)| CompileError::at(&span, e))
    }

    /// An operation of a natively run connector other than HTTP: `<email.send>`, `<file.*>`.
    fn connector_operation(
        &self,
        op: &art::mediators::connector::ConnectorOperation,
    ) -> Result<Mediator> {
        if op.connector == "file" {
            return self.file_operation(op);
        }
        let Some(connection) = connector_connection(op, &self.email_connections, "email")? else {
            return Err(CompileError::at(
                &op.config_key_span,
                format!(
                    "{} configKey {}: that connection reads mailboxes (IMAP/POP3); sending needs an SMTP or SMTPS connection",
                    op.element, op.config_key
                ),
            ));
        };
        let params = connector_params(
            op,
            EMAIL_SEND_PARAMS,
            &rt::email_connector::EmailSend::INLINE_PARAMS,
        )?;
        Ok(Mediator::EmailSend(Box::new(
            rt::email_connector::EmailSend::new(op, connection, params),
        )))
    }

    /// `<file.write>` and the file connector's other operations (runtime/mediators/file_connector.rs).
    fn file_operation(
        &self,
        op: &art::mediators::connector::ConnectorOperation,
    ) -> Result<Mediator> {
        let connection = connector_connection(op, &self.file_connections, "file")?;
        let names = art::mediators::connector::FILE
            .operations
            .iter()
            .find(|(o, _, _)| *o == op.operation)
            .map_or(&[][..], |(_, _, names)| *names);
        let params =
            connector_params(op, names, &rt::file_connector::FileOperation::INLINE_PARAMS)?;
        rt::file_connector::FileOperation::new(op, connection, params)
            .map(|f| Mediator::FileConnector(Box::new(f)))
            .map_err(|e| CompileError::at(&op.span, e))
    }

    /// An HTTP connector connection (runtime/mediators/http_connector.rs): its endpoint joins
    /// the named endpoints, as the one MI's LocalEntryDeployer deploys.
    fn http_connection(
        &mut self,
        c: &art::local_entry::HttpConnection,
    ) -> Result<Arc<rt::HttpConnection>> {
        let endpoint_name = c.endpoint.name.clone().unwrap_or_default();
        if self.named_endpoints.contains_key(&endpoint_name) {
            return Err(CompileError::at(
                &c.span,
                format!(
                    "HTTP connection {}: endpoint {endpoint_name} is already deployed (two connections with the same <name>, or an endpoint of that name)",
                    c.name
                ),
            ));
        }
        let endpoint = self.endpoint(&c.endpoint)?;
        self.named_endpoints
            .insert(endpoint_name.clone(), endpoint.clone());
        let auth = match &c.auth {
            art::local_entry::HttpAuth::None => rt::http_connector::Auth::None,
            art::local_entry::HttpAuth::Basic { username, password } => {
                rt::http_connector::Auth::Basic(Box::new(rt::http_connector::BasicAuth {
                    username: connector_param(username, false)?,
                    password: connector_param(password, false)?,
                }))
            }
            art::local_entry::HttpAuth::OAuth {
                grant,
                client_id,
                client_secret,
                token_url,
                mode,
                parameters,
                timeouts,
            } => {
                let token_url = connector_param(token_url, false)?;
                let token_endpoint = Arc::new(Endpoint {
                    // Not in the endpoint table: the token endpoint is never suspended.
                    id: usize::MAX,
                    name: Arc::from(format!("{endpoint_name}_OAUTH_TOKEN")),
                    kind: EndpointKind::Address {
                        uri: token_url.literal().unwrap_or_default().trim().to_string(),
                        format: None,
                        addressing: false,
                    },
                    timeout: rt::http_connector::token_timeout(timeouts),
                    dynamic_timeout: None,
                    timeout_action: TimeoutAction::Never,
                    suspension: Default::default(),
                });
                let grant = match grant {
                    art::local_entry::OAuthGrant::ClientCredentials => {
                        rt::http_connector::Grant::ClientCredentials
                    }
                    art::local_entry::OAuthGrant::Password { username, password } => {
                        rt::http_connector::Grant::Password {
                            username: connector_param(username, false)?,
                            password: connector_param(password, false)?,
                        }
                    }
                    art::local_entry::OAuthGrant::AuthorizationCode { refresh_token } => {
                        rt::http_connector::Grant::RefreshToken {
                            refresh_token: connector_param(refresh_token, false)?,
                        }
                    }
                };
                rt::http_connector::Auth::OAuth(Box::new(rt::http_connector::OAuth::new(
                    grant,
                    connector_param(client_id, false)?,
                    connector_param(client_secret, false)?,
                    token_url,
                    *mode == art::local_entry::OAuthMode::Payload,
                    parameters.clone(),
                    token_endpoint,
                )))
            }
        };
        Ok(Arc::new(rt::HttpConnection {
            name: Arc::from(c.name.as_str()),
            base_url: connector_param(&c.base_url, false)?,
            auth,
            endpoint,
        }))
    }

    /// `<http.get configKey>` and the other operations (wso2-extensions/mi-connector-http
    /// `functions/*.xml`).
    fn http_operation(&mut self, op: &am::HttpOperation) -> Result<rt::HttpOperation> {
        let element = http_element(op.kind);
        let connection = match self.http_connections.get(&op.config_key) {
            Some(Ok(c)) => c.clone(),
            Some(Err(why)) => {
                return Err(CompileError::at(
                    &op.config_key_span,
                    format!(
                        "{element} configKey {}: the connection did not deploy: {why}",
                        op.config_key
                    ),
                ));
            }
            None if self.local_entries.contains_key(&op.config_key) => {
                return Err(CompileError::at(
                    &op.config_key_span,
                    format!(
                        "{element} configKey {}: that local entry is not an HTTP connection (<http.init>)",
                        op.config_key
                    ),
                ));
            }
            None => {
                return Err(CompileError::at(
                    &op.config_key_span,
                    format!(
                        "{element} configKey {}: no HTTP connection of that key is deployed (a local entry local-entries/{}.xml holding <http.init>)",
                        op.config_key, op.config_key
                    ),
                ));
            }
        };
        let body_params = [
            &op.request_body_type,
            &op.request_body_json,
            &op.request_body_xml,
            &op.request_body_text,
        ];
        let body = if op.kind.takes_body() {
            match &op.request_body_type {
                None => None,
                Some(body_type) => {
                    if let Some(t) = body_type.value.as_text()
                        && !matches!(t, "JSON" | "XML" | "TEXT")
                    {
                        return Err(CompileError::at(
                            &body_type.span,
                            format!(
                                "{element} requestBodyType {t:?}: expected JSON, XML or TEXT (RestURLBuilder compares them exactly)"
                            ),
                        ));
                    }
                    let optional = |p: &Option<am::ConnectorParam>| -> Result<Option<rt::http_connector::ParamValue>> {
                        p.as_ref().map(|p| connector_param(p, true)).transpose()
                    };
                    Some(rt::http_connector::RequestBody {
                        body_type: connector_param(body_type, false)?,
                        json: optional(&op.request_body_json)?,
                        xml: optional(&op.request_body_xml)?,
                        text: optional(&op.request_body_text)?,
                    })
                }
            }
        } else {
            if let Some(p) = body_params.into_iter().flatten().next() {
                self.warnings.push(format!(
                    "{element} has no request body: the connector's {} template does not declare <{}>, so MI ignores it at {}",
                    op.kind.operation(),
                    p.name,
                    p.span
                ));
            }
            None
        };
        let headers = match &op.headers {
            None => None,
            Some(p) => {
                if let Some(text) = p.value.as_text()
                    && !text.contains("${")
                    && let Err(e) = rt::http_connector::parse_headers(text)
                {
                    return Err(CompileError::at(&p.span, format!("{element} headers: {e}")));
                }
                Some(connector_param(p, true)?)
            }
        };
        let mut transport = Vec::with_capacity(op.transport.len());
        for p in &op.transport {
            let Some((_, property)) = am::TRANSPORT_PARAMETERS
                .iter()
                .find(|(name, _)| *name == p.name)
            else {
                continue;
            };
            if property.is_empty() {
                // restUrlPostfix: declared by the templates, read by none of them.
                continue;
            }
            if UNSUPPORTED_TRANSPORT_PROPERTIES.contains(property) {
                let harmless = p
                    .value
                    .as_text()
                    .is_some_and(|v| v.trim().is_empty() || v.trim().eq_ignore_ascii_case("false"));
                if !harmless {
                    return Err(CompileError::at(
                        &p.span,
                        format!(
                            "unsupported {element} parameter <{}> (it sets the axis2 property {property}, which Conflux's transport does not implement)",
                            p.name
                        ),
                    ));
                }
                continue;
            }
            transport.push((*property, connector_param(p, false)?));
        }
        let optional = |p: &Option<am::ConnectorParam>, inline: bool| {
            p.as_ref().map(|p| connector_param(p, inline)).transpose()
        };
        Ok(rt::HttpOperation {
            element,
            method: Method::from_bytes(op.kind.method().as_bytes()).unwrap_or(Method::GET),
            connection,
            relative_path: optional(&op.relative_path, true)?,
            headers,
            body,
            response_variable: optional(&op.response_variable, false)?,
            overwrite_body: optional(&op.overwrite_body, false)?,
            transport,
        })
    }

    /// `<clone>` (runtime/mediators/clone.rs): each target's sequence, or else its endpoint, as
    /// Synapse's `Target` uses them.
    fn clone_mediator(&mut self, c: &am::CloneMediator) -> Result<rt::CloneMediator> {
        let mut targets = Vec::with_capacity(c.targets.len());
        for t in &c.targets {
            let action = match (&t.sequence, &t.endpoint) {
                (Some(am::TargetSequence::Key(key, span)), _) => {
                    let key = self.sequence_key("sequence", key, span)?;
                    rt::TargetAction::Sequence(rt::SequenceCall::Named(ValueSource::Literal(key)))
                }
                (Some(am::TargetSequence::Inline(list)), _) => {
                    rt::TargetAction::Sequence(rt::SequenceCall::Inline(Arc::new(Sequence {
                        name: Arc::from("anonymous"),
                        mediators: self.mediators(list)?,
                        on_error: None,
                    })))
                }
                (None, Some(r)) => rt::TargetAction::Endpoint(self.endpoint_ref(r)?),
                (None, None) => rt::TargetAction::Nothing,
            };
            targets.push(rt::CloneTarget {
                to: t.to.clone(),
                soap_action: t.soap_action.clone(),
                action,
            });
        }
        Ok(rt::CloneMediator {
            id: c.id.as_deref().map(Arc::from),
            sequential: c.sequential,
            continue_parent: c.continue_parent,
            targets,
        })
    }

    /// `<scatter-gather>` (runtime/mediators/scatter_gather.rs): each branch an anonymous
    /// sequence; a literal `min-messages` / `max-messages` is checked here.
    fn scatter_gather(&mut self, sg: &am::ScatterGather) -> Result<rt::ScatterGather> {
        let mut branches = Vec::with_capacity(sg.branches.len());
        for list in &sg.branches {
            branches.push(Arc::new(Sequence {
                name: Arc::from("anonymous"),
                mediators: self.mediators(list)?,
                on_error: None,
            }));
        }
        let agg = &sg.aggregation;
        let message_count = |v: &Option<art::Value>, what: &str| -> Result<Option<ValueSource>> {
            match v {
                None => Ok(None),
                Some(art::Value::Literal(text, span)) => match text.trim().parse::<i64>() {
                    Ok(_) => Ok(Some(ValueSource::Literal(text.trim().to_string()))),
                    Err(_) => Err(CompileError::at(
                        span,
                        format!("scatter-gather: {what} '{text}' is not a whole number"),
                    )),
                },
                Some(art::Value::Dynamic(e)) => Ok(Some(expression(e)?)),
            }
        };
        let timeout = match agg.timeout_ms {
            None => None,
            Some(ms) if ms > 0 => Some(std::time::Duration::from_millis(ms as u64)),
            // Aggregate: a timeout of 0 or less never fires.
            Some(_) => None,
        };
        Ok(rt::ScatterGather {
            parallel: sg.parallel_execution,
            target: match &sg.target {
                am::ResultTarget::Body => rt::ResultTarget::Body,
                am::ResultTarget::Variable(name) => rt::ResultTarget::Variable(name.clone()),
            },
            content: match &sg.content {
                am::ResultContent::Json => rt::ResultContent::Json,
                am::ResultContent::Xml { enclosing_element } => rt::ResultContent::Xml {
                    enclosing_element: enclosing_element.clone(),
                },
            },
            expression: expression(&agg.expression)?,
            condition: match &agg.condition {
                Some(c) => Some(expression(c)?),
                None => None,
            },
            timeout,
            min_messages: message_count(&agg.min_messages, "min-messages")?,
            max_messages: message_count(&agg.max_messages, "max-messages")?,
            branches,
        })
    }

    /// `<foreach collection>` (runtime/mediators/foreach.rs): with `update-original`, the
    /// collection must be a plain path (`${payload.a}`, `${vars.v.b[0]}`) or an `xpath(...)`
    /// node list to write the results back to.
    fn foreach(&mut self, fe: &am::ForEach) -> Result<rt::ForEach> {
        let result = match &fe.result {
            am::ForEachResult::ContinueWithoutAggregation => {
                rt::ForEachResult::ContinueWithoutAggregation
            }
            am::ForEachResult::Variable { name, content } => rt::ForEachResult::Variable {
                name: name.clone(),
                content: match content {
                    am::ResultContent::Json => rt::ResultContent::Json,
                    am::ResultContent::Xml { enclosing_element } => rt::ResultContent::Xml {
                        enclosing_element: enclosing_element.clone(),
                    },
                },
            },
            am::ForEachResult::UpdateOriginal => {
                rt::ForEachResult::update_original(&fe.collection.text, &fe.collection.namespaces)
                    .map_err(|e| CompileError::at(&fe.collection.span, e))?
            }
        };
        Ok(rt::ForEach {
            collection: expression(&fe.collection)?,
            parallel: fe.parallel_execution,
            result,
            counter_variable: fe.counter_variable.clone(),
            sequence: Arc::new(Sequence {
                name: Arc::from("anonymous"),
                mediators: self.mediators(&fe.sequence)?,
                on_error: None,
            }),
        })
    }

    /// `<iterate>` (runtime/mediators/iterate.rs).
    fn iterate(&mut self, i: &am::Iterate) -> Result<rt::Iterate> {
        let split = expression(&i.expression)?;
        let attach_path = match &i.attach_path {
            Some(a) => expression(a)?,
            // IterateMediatorFactory.DEFAULT_JSON_ATTACHPATH / DEFAULT_XML_ATTACHPATH.
            None => {
                let default = if i.expression.is_json_eval() {
                    "json-eval($)"
                } else {
                    "."
                };
                ValueSource::compile_text(default, &[]).map_err(|e| CompileError::at(&i.span, e))?
            }
        };
        Ok(rt::Iterate {
            id: i.id.clone(),
            expression: split,
            attach_path,
            preserve_payload: i.preserve_payload,
            continue_parent: i.continue_parent,
            sequential: i.sequential,
            target: rt::EipTarget {
                sequence: match &i.target.sequence {
                    Some(s) => Some(self.eip_sequence(s)?),
                    None => None,
                },
                endpoint: match &i.target.endpoint {
                    Some(r) => Some(self.endpoint_ref(r)?),
                    None => None,
                },
            },
        })
    }

    /// `<aggregate>` (runtime/mediators/aggregate.rs).
    fn aggregate(&mut self, a: &am::Aggregate) -> Result<rt::Aggregate> {
        Ok(rt::Aggregate {
            id: a.id.clone(),
            timeout: (a.timeout_seconds > 0.0)
                .then(|| std::time::Duration::from_secs_f64(a.timeout_seconds)),
            min_messages: rt::MessageCount::compile(&a.min_messages)
                .map_err(|e| CompileError::at(&a.span, e))?,
            max_messages: rt::MessageCount::compile(&a.max_messages)
                .map_err(|e| CompileError::at(&a.span, e))?,
            expression: expression(&a.expression)?,
            enclosing_element_property: a.enclosing_element_property.clone(),
            on_complete: self.eip_sequence(&a.on_complete)?,
        })
    }

    /// The classic `<foreach expression>` (runtime/mediators/foreach_classic.rs).
    fn foreach_classic(&mut self, f: &am::ForEachClassic) -> Result<rt::ForEachClassic> {
        let sequence = self.eip_sequence(&f.sequence)?;
        rt::ForEachClassic::new(
            f.id.as_deref(),
            expression(&f.expression)?,
            sequence,
            f.continue_loop_on_failure,
        )
        .map_err(|e| CompileError::at(&f.span, e))
    }

    /// `<throttle>` (runtime/mediators/throttle.rs): a `<policy key>` is read at deploy.
    fn throttle(&mut self, t: &am::Throttle) -> Result<rt::Throttle> {
        // MI throttles nothing when the policy holds no throttle assertion
        // (ThrottleFactory.createMediatorThrottle returns null): said here, once.
        let no_assertion = |span: &Span| {
            format!(
                "throttle {}: the policy has no throttle:MediatorThrottleAssertion in namespace {}: nothing is throttled, as in MI, at {span}",
                t.id,
                am::throttle::THROTTLE_NS
            )
        };
        let mut missing_policy = None;
        let policy = match &t.policy {
            None => None,
            Some(am::ThrottlePolicySource::Inline(p)) => Some(p.clone()),
            Some(am::ThrottlePolicySource::NoAssertion(span)) => {
                self.warnings.push(no_assertion(span));
                None
            }
            // A key that names nothing deployed (a local entry whose `src` failed): MI deploys
            // the mediator and faults each message; Conflux too, saying so.
            Some(am::ThrottlePolicySource::Key(key, span)) if self.entry_text(key).is_none() => {
                self.warnings.push(format!(
                    "throttle {}: policy key {key} is not a deployed local entry nor a registry resource: each message faults, as in MI, at {span}",
                    t.id
                ));
                missing_policy = Some(key.clone());
                None
            }
            Some(am::ThrottlePolicySource::Key(key, span)) => {
                let text = self.local_entry(&art::Value::Literal(key.clone(), span.clone()))?;
                let parsed = am::throttle::parse_policy_text(&text)
                    .map_err(|e| CompileError::at(span, format!("throttle policy {key}: {e}")))?;
                if parsed.is_none() {
                    self.warnings.push(no_assertion(span));
                }
                parsed
            }
        };
        let mut branch = |what: &str, b: &Option<am::ThrottleBranch>| -> Result<_> {
            Ok(match b {
                None => None,
                Some(am::ThrottleBranch::Key(key, span)) => Some(rt::ThrottleBranch::Named(
                    self.sequence_key(what, key, span)?,
                )),
                Some(am::ThrottleBranch::Inline(list)) => {
                    Some(rt::ThrottleBranch::Inline(Arc::new(Sequence {
                        name: Arc::from("anonymous"),
                        mediators: self.mediators(list)?,
                        on_error: None,
                    })))
                }
            })
        };
        let on_accept = branch("onAccept sequence", &t.on_accept)?;
        let on_reject = branch("onReject sequence", &t.on_reject)?;
        let mut throttle = rt::Throttle::new(&t.id, policy.as_ref(), on_accept, on_reject);
        throttle.missing_policy = missing_policy;
        Ok(throttle)
    }

    fn eip_sequence(&mut self, s: &am::EipSequence) -> Result<rt::EipSequence> {
        Ok(match s {
            am::EipSequence::Key(key, span) => {
                rt::EipSequence::Named(self.sequence_key("sequence", key, span)?)
            }
            am::EipSequence::Inline(list) => rt::EipSequence::Inline(Arc::new(Sequence {
                name: Arc::from("anonymous"),
                mediators: self.mediators(list)?,
                on_error: None,
            })),
        })
    }

    /// `<endpoint template>` (SYN `endpoints/TemplateEndpoint.java`): the endpoint template
    /// expanded with the parameters, compiled as the endpoint it gives.
    fn template_endpoint(
        &mut self,
        e: &art::Endpoint,
        template: &str,
        parameters: &[(String, String)],
    ) -> Result<Arc<Endpoint>> {
        let Some(t) = self.endpoint_templates.get(template).cloned() else {
            return Err(CompileError::at(
                &e.span,
                format!(
                    "endpoint template {template} is not deployed (no templates/{template}.xml with an <endpoint>, or it failed)"
                ),
            ));
        };
        if self.expanding.iter().any(|n| n == template) {
            return Err(CompileError::at(
                &e.span,
                format!("endpoint template {template} uses itself"),
            ));
        }
        let expanded = t.expand_endpoint(parameters).map_err(|err| {
            CompileError::at(&e.span, format!("endpoint template {template}: {err}"))
        })?;
        self.expanding.push(template.to_string());
        let compiled = self.endpoint(&expanded);
        self.expanding.pop();
        // Located at the endpoint that uses the template (the artifact that does not deploy).
        compiled.map_err(|err| {
            CompileError::at(
                &e.span,
                format!(
                    "endpoint template {template}: {} at {}",
                    err.message, err.span
                ),
            )
        })
    }

    /// A sequence template (SYN `config/xml/TemplateMediatorFactory.java`).
    fn template(&mut self, t: &art::Template) -> Result<rt::Template> {
        let on_error = self.on_error_handler(&t.on_error)?;
        let name: Arc<str> = Arc::from(t.name.as_str());
        Ok(rt::Template {
            name: name.clone(),
            params: t
                .parameters
                .iter()
                .map(|p| rt::TemplateParam {
                    name: p.name.clone(),
                    default_value: p.default_value.clone(),
                    mandatory: p.mandatory,
                })
                .collect(),
            sequence: Arc::new(Sequence {
                name,
                mediators: self.mediators(&t.mediators)?,
                on_error,
            }),
        })
    }

    /// `<call-template>` (SYN `config/xml/InvokeMediatorFactory.java`). The template is looked up
    /// per message, as Synapse does: one that is not deployed warns here and faults the messages
    /// that reach the call.
    fn call_template(&mut self, c: &am::CallTemplate) -> Result<rt::CallTemplate> {
        if !self.template_names.contains(&c.target) {
            self.warnings.push(format!(
                "template {} is not deployed (no templates/{}.xml, or it failed): messages that reach it fail at {}",
                c.target, c.target, c.target_span
            ));
        }
        let on_error = self.on_error_handler(&c.on_error)?;
        let params = c
            .params
            .iter()
            .map(|p| {
                let source = match &p.value {
                    am::ParamValue::Literal(v) => {
                        rt::ParamSource::Value(ValueSource::Literal(v.clone()))
                    }
                    am::ParamValue::Expression(e) => rt::ParamSource::Value(expression(e)?),
                    am::ParamValue::Deferred(e) => rt::ParamSource::Deferred(expression(e)?),
                };
                Ok((p.name.clone(), source))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(rt::CallTemplate {
            target: Arc::from(c.target.as_str()),
            params,
            on_error,
        })
    }

    /// The `onError` of a template or a template call: a fault handler, checked like a sequence's;
    /// the name a message looks it up by.
    fn on_error_handler(&mut self, on_error: &Option<(String, Span)>) -> Result<Option<String>> {
        match on_error {
            Some((handler, span)) => {
                self.template_handlers = true;
                Ok(Some(self.sequence_key(
                    "onError sequence",
                    handler,
                    span,
                )?))
            }
            None => Ok(None),
        }
    }

    fn log(&mut self, l: &am::Log) -> Result<rt::Log> {
        let properties = l
            .properties
            .iter()
            .map(|p| Ok((p.name.clone(), value(&p.value, &p.span)?)))
            .collect::<Result<Vec<_>>>()?;
        // LogMediator.setMessageTemplate turns a written `\n` / `\t` into a newline / tab, then
        // initInlineSynapseExpressions compiles the placeholders (an invalid one fails the
        // deployment: "Invalid message template").
        let message = match &l.message {
            Some(m) => Some(
                crate::synapse_expr::InlineTemplate::compile(
                    &m.text.replace("\\n", "\n").replace("\\t", "\t"),
                )
                .map_err(|e| {
                    CompileError::at(&m.span, format!("Invalid message template : {e}"))
                })?,
            ),
            None => None,
        };
        Ok(rt::Log {
            level: l.level,
            category: l.category,
            // LogMediator.setSeparator: a written `\n` / `\t` is a newline / tab.
            separator: l
                .separator
                .as_deref()
                .map(|s| s.replace("\\n", "\n").replace("\\t", "\t"))
                .unwrap_or_else(|| DEFAULT_LOG_SEPARATOR.to_string()),
            message,
            log_message_id: l.log_message_id,
            properties,
        })
    }

    /// The text of an entry: a local entry, else a registry resource (SYN
    /// `MessageContext.getEntry`: the local registry first, then the registry).
    fn entry_text(&self, key: &str) -> Option<String> {
        if let Some(text) = self.local_entries.get(key) {
            return Some(text.clone());
        }
        self.registry.text(key).map(|t| t.into_owned())
    }

    /// The text of a local entry or registry resource used as a key (payloadFactory format,
    /// enrich inline key).
    fn local_entry(&self, key: &art::Value) -> Result<String> {
        match key {
            art::Value::Literal(name, span) => match self.entry_text(name) {
                Some(text) => Ok(text),
                None if is_registry_key(name) => Err(CompileError::at(
                    span,
                    missing_registry_resource("key", name),
                )),
                None => Err(CompileError::at(
                    span,
                    format!(
                        "key {name} is not a deployed local entry (nor a registry resource: no file registry/{})",
                        registry_file_path(name).unwrap_or_default()
                    ),
                )),
            },
            art::Value::Dynamic(expr) => Err(CompileError::at(
                &expr.span,
                "unsupported dynamic key (name a local entry)",
            )),
        }
    }

    fn payload_factory(&mut self, p: &am::PayloadFactory) -> Result<rt::PayloadFactory> {
        let media_type = match p.media_type {
            am::MediaType::Xml => rt::MediaType::Xml,
            am::MediaType::Json => rt::MediaType::Json,
            am::MediaType::Text => rt::MediaType::Text,
        };
        let format = match &p.format {
            am::Format::Inline {
                raw,
                text,
                namespaces,
                span,
            } => match media_type {
                rt::MediaType::Xml => payload_factory_xml_format(raw, text, namespaces)
                    .map_err(|e| CompileError::at(span, format!("payloadFactory <format>: {e}")))?,
                rt::MediaType::Json | rt::MediaType::Text => text.trim().to_string(),
            },
            am::Format::Key(v) => {
                let text = self.local_entry(v)?;
                match (media_type, v) {
                    // PayloadFactoryMediator.mediate: an XML registry resource is an element,
                    // its indentation removed (`removeIndentations`) before `toString()`.
                    (rt::MediaType::Xml, art::Value::Literal(key, span))
                        if !self.local_entries.contains_key(key)
                            && self.registry.get(key).is_some_and(|r| r.is_xml()) =>
                    {
                        payload_factory_xml_format(&text, &text, &[(String::new(), String::new())])
                            .map_err(|e| {
                                CompileError::at(span, format!("payloadFactory <format key>: {e}"))
                            })?
                    }
                    _ => text.trim().to_string(),
                }
            }
        };
        let args = p
            .args
            .iter()
            .map(|a| {
                let value = match &a.value {
                    am::ArgValue::Literal(s) => ValueSource::Literal(s.clone()),
                    am::ArgValue::Expression {
                        expression: e,
                        evaluator: am::Evaluator::Json,
                    } if !e.is_json_eval() => ValueSource::compile_json_path(&e.text)
                        .map_err(|err| CompileError::at(&e.span, err))?,
                    am::ArgValue::Expression { expression: e, .. } => expression(e)?,
                };
                Ok(rt::Arg {
                    value,
                    literal: a.literal,
                    deep_check: a.deep_check,
                    escape_xml_chars: p.escape_xml_chars,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // FreeMarkerTemplateProcessor.init compiles the template when the artifact deploys.
        if p.freemarker {
            let (source, span) = match &p.format {
                am::Format::Inline { text, span, .. } => (text.clone(), span),
                am::Format::Key(v) => (self.local_entry(v)?, &p.span),
            };
            let template =
                crate::freemarker::Template::compile(&source, media_type == rt::MediaType::Xml)
                    .map_err(|e| {
                        CompileError::at(span, format!("payloadFactory FreeMarker template: {e}"))
                    })?;
            return Ok(rt::PayloadFactory {
                media_type,
                format: source,
                args,
                template: Some(Arc::new(template).into()),
            });
        }
        // RegexTemplateProcessor.init compiles the format's `${...}` placeholders: an invalid one
        // fails the deployment ("Invalid Payload format").
        let template = if format.contains("${") {
            Some(
                crate::synapse_expr::PayloadTemplate::compile(&format)
                    .map_err(|e| {
                        CompileError::at(&p.span, format!("Invalid Payload format : {e}"))
                    })?
                    .into(),
            )
        } else {
            None
        };
        Ok(rt::PayloadFactory {
            media_type,
            format,
            args,
            template,
        })
    }

    fn enrich(&mut self, e: &am::Enrich) -> Result<rt::Enrich> {
        let source = match &e.source.kind {
            am::EnrichSourceKind::Custom(x) => rt::EnrichSource::Custom(enrich_path(x)?),
            am::EnrichSourceKind::Envelope => rt::EnrichSource::Envelope,
            am::EnrichSourceKind::Body => rt::EnrichSource::Body,
            am::EnrichSourceKind::Property(p) => rt::EnrichSource::Property(p.clone()),
            am::EnrichSourceKind::InlineXml(x) => rt::EnrichSource::InlineXml(
                xml_format(x, &[]).map_err(|err| CompileError::at(&e.source.span, err))?,
            ),
            am::EnrichSourceKind::InlineText(t) => rt::EnrichSource::InlineText(t.clone()),
            am::EnrichSourceKind::InlineKey(k) => {
                let text = self.local_entry(k)?;
                if payload::parse_document(text.trim()).is_ok() {
                    rt::EnrichSource::InlineXml(text.trim().to_string())
                } else {
                    rt::EnrichSource::InlineText(text)
                }
            }
        };
        let target = match &e.target.kind {
            am::EnrichTargetKind::Custom(x) => rt::EnrichTarget::Custom(enrich_path(x)?),
            am::EnrichTargetKind::Envelope => rt::EnrichTarget::Envelope,
            am::EnrichTargetKind::Body => rt::EnrichTarget::Body,
            am::EnrichTargetKind::Property(p) => rt::EnrichTarget::Property(p.clone()),
            am::EnrichTargetKind::Key(k) => rt::EnrichTarget::Key(enrich_path(k)?),
        };
        Ok(rt::Enrich::new(source, target, e.target.action))
    }
}

/// The namespace of Synapse configuration, which the elements of an XML `<format>` inherit unless
/// they declare another (`xmlns=""` for none).
pub const SYNAPSE_NS: &str = "http://ws.apache.org/ns/synapse";

/// An XML `<format>` as MI writes it out: each element serialised with the namespaces it inherits
/// from the artifact (so an element without `xmlns=""` is in the Synapse namespace, as MI's output
/// shows: synapse-subset.md §3.11); comments dropped.
/// `raw` inside a wrapper element that declares `namespaces`, so that prefixes declared around
/// `<format>` (or inherited from the artifact) resolve.
fn wrapped_template(raw: &str, namespaces: &[(String, String)]) -> String {
    let default = namespaces
        .iter()
        .find(|(prefix, _)| prefix.is_empty())
        .map_or(SYNAPSE_NS, |(_, uri)| uri.as_str());
    let mut wrapper = format!("<w xmlns=\"{}\"", payload::escape_attribute(default));
    for (prefix, uri) in namespaces {
        if prefix.is_empty() || prefix == "xml" {
            continue;
        }
        wrapper.push_str(&format!(
            " xmlns:{prefix}=\"{}\"",
            payload::escape_attribute(uri)
        ));
    }
    wrapper.push('>');
    wrapper.push_str(raw);
    wrapper.push_str("</w>");
    wrapper
}

/// A standalone element in no namespace needs no `xmlns=""` undeclaration.
fn without_empty_default_namespace(element: roxmltree::Node, xml: String) -> String {
    match (element.tag_name().namespace(), xml.find('>')) {
        (None | Some(""), Some(end)) if xml[..end].contains(" xmlns=\"\"") => {
            let at = xml[..end].find(" xmlns=\"\"").unwrap_or(0);
            format!("{}{}", &xml[..at], &xml[at + " xmlns=\"\"".len()..])
        }
        _ => xml,
    }
}

/// Inline XML (an enrich source): its elements and text as written.
fn xml_format(raw: &str, namespaces: &[(String, String)]) -> std::result::Result<String, String> {
    let wrapper = wrapped_template(raw, namespaces);
    let doc = payload::parse_document(&wrapper)?;
    let mut out = String::new();
    for child in doc.root_element().children() {
        if child.is_element() {
            out.push_str(&without_empty_default_namespace(
                child,
                crate::xpath::serialize(child),
            ));
        } else if child.is_text() {
            out.push_str(&payload::escape_text(child.text().unwrap_or("")));
        }
    }
    Ok(out.trim().to_string())
}

/// The template of an XML `<format>` as Synapse's PayloadFactoryMediatorFactory reads it: every
/// whitespace-only text node removed (`removeIndentations`), then the first element as Axiom
/// writes it; a format with no element gives its decoded text instead (escaped markup or CDATA:
/// `&lt;Result&gt;$1&lt;/Result&gt;`), which becomes XML when the message is built.
fn payload_factory_xml_format(
    raw: &str,
    text: &str,
    namespaces: &[(String, String)],
) -> std::result::Result<String, String> {
    let wrapper = wrapped_template(raw, namespaces);
    let doc = payload::parse_document(&wrapper)?;
    match doc.root_element().children().find(|c| c.is_element()) {
        Some(first) => Ok(without_empty_default_namespace(
            first,
            crate::xpath::serialize_without_indentation(first),
        )),
        None => Ok(text.trim().to_string()),
    }
}

/// An enrich `xpath=` value: XPath, `json-eval(...)`, or a bare JSONPath (`$.a`), which MI's
/// EnrichMediator also accepts.
fn enrich_path(x: &art::Expression) -> Result<ValueSource> {
    let t = x.text.trim();
    if t.starts_with("$.") || t == "$" || t.starts_with("$[") {
        return ValueSource::compile_json_path(t).map_err(|e| CompileError::at(&x.span, e));
    }
    expression(x)
}

fn makefault(f: &am::MakeFault) -> Result<rt::MakeFault> {
    Ok(rt::MakeFault {
        version: f.version,
        code: match &f.code {
            None => None,
            Some(am::FaultCode::Value {
                namespace,
                prefix,
                local,
            }) => Some(rt::FaultCodeValue::QName {
                namespace: namespace.clone().unwrap_or_default(),
                prefix: prefix.clone(),
                local: local.clone(),
            }),
            Some(am::FaultCode::Expression(e)) => {
                Some(rt::FaultCodeValue::Expression(expression(e)?))
            }
        },
        reason: match &f.reason {
            None => None,
            Some(v) => Some(value(v, &f.span)?),
        },
        role: f.role.clone(),
        node: f.node.clone(),
        detail: match &f.detail {
            None => None,
            Some(am::FaultDetail::Text(t)) => Some(rt::FaultDetailValue::Text(t.clone())),
            Some(am::FaultDetail::Xml(x)) => Some(rt::FaultDetailValue::Xml(x.clone())),
            Some(am::FaultDetail::Expression(e)) => {
                Some(rt::FaultDetailValue::Expression(expression(e)?))
            }
        },
        response: f.response,
    })
}

fn protocol(p: art::Protocol) -> Protocol {
    match p {
        art::Protocol::Http => Protocol::Http,
        art::Protocol::Https => Protocol::Https,
    }
}

/// The axis2 properties an HTTP connector operation can set that Conflux's transport does not
/// act on in a way MI does; a value other than empty or `false` is refused.
const UNSUPPORTED_TRANSPORT_PROPERTIES: [&str; 6] = [
    "FORCE_HTTP_1.0",
    "HTTP_SC_DESC",
    "FAULTS_AS_HTTP_200",
    "FORCE_POST_PUT_NOBODY",
    "FORCE_HTTP_CONTENT_LENGTH",
    "COPY_CONTENT_LENGTH_FROM_INCOMING",
];

/// `http.get`, ... for messages.
fn http_element(kind: am::HttpOperationKind) -> &'static str {
    match kind {
        am::HttpOperationKind::Get => "http.get",
        am::HttpOperationKind::Post => "http.post",
        am::HttpOperationKind::Put => "http.put",
        am::HttpOperationKind::Delete => "http.delete",
        am::HttpOperationKind::Patch => "http.patch",
        am::HttpOperationKind::Head => "http.head",
        am::HttpOperationKind::Options => "http.options",
    }
}

/// A connector parameter: static text (where the connector renders inline `${...}`, `inline`,
/// compiled as a template), or a `{...}` expression (ValueFactory.createTextValue: `{${e}}` a
/// Synapse expression, else XPath or json-eval).
/// The connection `op`'s `configKey` names in `table` (`kind`: `email`, `file`), or the error
/// naming what is wrong with it, at the `configKey`.
fn connector_connection<T: Clone>(
    op: &art::mediators::connector::ConnectorOperation,
    table: &HashMap<String, std::result::Result<T, String>>,
    kind: &str,
) -> Result<T> {
    match table.get(&op.config_key) {
        Some(Ok(c)) => Ok(c.clone()),
        Some(Err(why)) => Err(CompileError::at(
            &op.config_key_span,
            format!(
                "{} configKey {}: the connection did not deploy: {why}",
                op.element, op.config_key
            ),
        )),
        None => Err(CompileError::at(
            &op.config_key_span,
            format!(
                "{} configKey {}: no {kind} connection of that key is deployed (a local entry local-entries/{}.xml holding <{kind}.init>)",
                op.element, op.config_key, op.config_key
            ),
        )),
    }
}

/// The parameters of `op` that its template declares (`names`), compiled; those in `inline`
/// render inline `${...}`.
fn connector_params(
    op: &art::mediators::connector::ConnectorOperation,
    names: &[&'static str],
    inline: &[&str],
) -> Result<HashMap<&'static str, rt::http_connector::ParamValue>> {
    let mut params = HashMap::new();
    for p in &op.params {
        if let Some(name) = names.iter().find(|n| **n == p.name) {
            params.insert(*name, connector_param(p, inline.contains(name))?);
        }
    }
    Ok(params)
}

/// The parameters of `<email.send>` (the connector's functions/send.xml).
const EMAIL_SEND_PARAMS: &[&str] = art::mediators::connector::EMAIL.operations[0].2;

fn connector_param(p: &am::ConnectorParam, inline: bool) -> Result<rt::http_connector::ParamValue> {
    use crate::synapse_expr::{InlineTemplate, SynapseExpression};
    use rt::http_connector::ParamValue;
    let located = |err: crate::synapse_expr::ExprError| {
        CompileError::at(&p.span, format!("<{}>: {err}", p.name))
    };
    match &p.value {
        am::ConnectorValue::Text(text) if inline && text.contains("${") => {
            let template = InlineTemplate::compile(text).map_err(located)?;
            Ok(if template.has_expressions() {
                ParamValue::Template(template)
            } else {
                ParamValue::Literal(text.clone())
            })
        }
        am::ConnectorValue::Text(text) => Ok(ParamValue::Literal(text.clone())),
        am::ConnectorValue::Expression(e) => {
            if let Some(inner) = e
                .text
                .strip_prefix("${")
                .and_then(|rest| rest.strip_suffix('}'))
            {
                return SynapseExpression::compile(inner)
                    .map(ParamValue::Synapse)
                    .map_err(located);
            }
            ValueSource::compile(e).map(ParamValue::Legacy).map_err(|err| {
                CompileError::at(
                    &p.span,
                    format!(
                        "<{}>: {{{}}} is read as an expression (the text starts with '{{' and ends with '}}', as MI's ValueFactory reads it), and it is not a valid one: {err}; for a literal JSON body, put a space or newline before the first brace or after the last",
                        p.name, e.text
                    ),
                )
            })
        }
    }
}

fn expression(expr: &art::Expression) -> Result<ValueSource> {
    ValueSource::compile(expr).map_err(|e| CompileError::at(&expr.span, e))
}

fn value(v: &art::ValueOrExpression, span: &Span) -> Result<ValueSource> {
    match v {
        art::ValueOrExpression::Value(s) => Ok(ValueSource::Literal(s.clone())),
        art::ValueOrExpression::Expression(e) => expression(e).map_err(|mut err| {
            if err.span.is_empty() {
                err.span = span.to_string();
            }
            err
        }),
    }
}

fn scope(s: am::PropertyScope, span: &Span) -> Result<Scope> {
    match s {
        am::PropertyScope::Default => Ok(Scope::Default),
        am::PropertyScope::Axis2 => Ok(Scope::Axis2),
        am::PropertyScope::Transport => Ok(Scope::Transport),
        am::PropertyScope::Operation => Ok(Scope::Operation),
        am::PropertyScope::Axis2Client => Ok(Scope::Axis2Client),
        other => Err(CompileError::at(
            span,
            format!(
                "unsupported property scope {other:?} (supported: default, axis2, transport, operation, axis2-client)"
            ),
        )),
    }
}

fn property(p: &am::Property) -> Result<rt::Property> {
    let name = match &p.name {
        art::Value::Literal(n, _) => rt::PropertyName::Fixed(n.clone()),
        art::Value::Dynamic(e) => rt::PropertyName::Dynamic(expression(e)?),
    };
    let label = match &p.name {
        art::Value::Literal(n, _) => n.clone(),
        art::Value::Dynamic(e) => format!("{{{}}}", e.text),
    };
    let pattern = match &p.pattern {
        None => None,
        Some(pat) => Some((
            regex::Regex::new(&format!("^(?:{pat})$")).map_err(|e| {
                CompileError::at(
                    &p.span,
                    format!("property {label}: invalid pattern {pat:?}: {e}"),
                )
            })?,
            p.group.unwrap_or(0) as usize,
        )),
    };
    let action = match p.action {
        am::PropertyAction::Remove => rt::PropertyAction::Remove,
        am::PropertyAction::Set => match &p.value {
            Some(am::PropertyValue::Literal(s)) => {
                rt::PropertyAction::Set(ValueSource::Literal(s.clone()))
            }
            Some(am::PropertyValue::Expression(e)) => rt::PropertyAction::Set(expression(e)?),
            Some(am::PropertyValue::Xml(x)) => {
                rt::PropertyAction::Set(ValueSource::Literal(x.clone()))
            }
            None => {
                return Err(CompileError::at(
                    &p.span,
                    format!("property {label} has neither value nor expression"),
                ));
            }
        },
    };
    let value_type = p.value_type;
    // A literal of the wrong type fails at deploy time rather than on every message.
    if let rt::PropertyAction::Set(ValueSource::Literal(v)) = &action
        && p.pattern.is_none()
    {
        let probe = rt::Property {
            name: rt::PropertyName::Fixed(label.clone()),
            scope: Scope::Default,
            action: rt::PropertyAction::Set(ValueSource::Literal(v.clone())),
            value_type,
            pattern: None,
        };
        probe
            .check_literal()
            .map_err(|e| CompileError::at(&p.span, e))?;
    }
    Ok(rt::Property {
        name,
        scope: scope(p.scope, &p.span)?,
        action,
        value_type,
        pattern,
    })
}

/// `<variable>` (SYN `config/xml/VariableMediatorFactory.java`): a `value` is converted to its
/// type here, as the factory does (a bad one fails the deployment); an `expression` is checked
/// against the type per message.
fn variable(v: &am::Variable) -> Result<rt::Variable> {
    let action = match &v.action {
        am::VariableAction::Remove => rt::VariableAction::Remove,
        am::VariableAction::Set(am::VariableValue::Literal(text)) => rt::VariableAction::Set(
            rt::convert_value(text, v.value_type.as_deref())
                .map_err(|e| CompileError::at(&v.span, format!("variable {}: {e}", v.name)))?,
        ),
        am::VariableAction::Set(am::VariableValue::Expression(e)) => rt::VariableAction::Evaluate {
            text: e.text.clone(),
            source: expression(e)?,
            value_type: match v.value_type.as_deref() {
                None => rt::ExpressionType::Untyped,
                Some(name) => match rt::VariableType::parse(name) {
                    Some(t) => rt::ExpressionType::Typed(t),
                    None => rt::ExpressionType::Unknown(name.to_string()),
                },
            },
        },
    };
    Ok(rt::Variable {
        name: v.name.clone(),
        action,
    })
}

fn header(h: &am::Header) -> Result<rt::Header> {
    let Some(name) = h.name.clone() else {
        return Err(CompileError::at(&h.span, "header without a name"));
    };
    let content = match h.action {
        am::HeaderAction::Remove => None,
        am::HeaderAction::Set => Some(match &h.value {
            Some(am::HeaderValue::Literal(s)) => {
                rt::HeaderContent::Value(ValueSource::Literal(s.clone()))
            }
            Some(am::HeaderValue::Expression(e)) => rt::HeaderContent::Value(expression(e)?),
            Some(am::HeaderValue::Xml(x)) => rt::HeaderContent::Xml(x.clone()),
            None => {
                return Err(CompileError::at(
                    &h.span,
                    format!("header {name} needs a value, an expression or inline XML"),
                ));
            }
        }),
    };
    let target = if h.scope == am::HeaderScope::Transport {
        if matches!(content, Some(rt::HeaderContent::Xml(_))) {
            return Err(CompileError::at(
                &h.span,
                "a transport header takes a value, not XML",
            ));
        }
        rt::HeaderTarget::Transport(name)
    } else {
        let (prefix, local) = match name.split_once(':') {
            Some((p, l)) => (p.to_string(), l.to_string()),
            None => (String::new(), name.clone()),
        };
        if h.namespace.is_none() && rt::ADDRESSING_HEADERS.contains(&local.as_str()) {
            rt::HeaderTarget::Addressing(local)
        } else {
            rt::HeaderTarget::SoapBlock {
                prefix,
                namespace: h.namespace.clone().unwrap_or_default(),
                local,
            }
        }
    };
    Ok(rt::Header { target, content })
}

#[cfg(test)]
mod tests {
    use super::*;

    // PayloadFactoryMediatorFactory: indentation removed, the first element only; a format with
    // escaped markup or CDATA instead of elements is its decoded text.
    #[test]
    fn an_xml_format_is_read_as_synapse_reads_it() {
        let ns = vec![(String::new(), SYNAPSE_NS.to_string())];
        let raw = "\n   <m:r xmlns:m=\"urn:m\">\n      <m:a>$1</m:a>\n      <m:b> x </m:b>\n   </m:r>\n   <second/>\n";
        assert_eq!(
            payload_factory_xml_format(raw, "", &ns).unwrap(),
            "<m:r xmlns:m=\"urn:m\"><m:a>$1</m:a><m:b> x </m:b></m:r>"
        );
        let escaped = "&lt;Result&gt;$1&lt;/Result&gt;";
        assert_eq!(
            payload_factory_xml_format(escaped, "<Result>$1</Result>", &ns).unwrap(),
            "<Result>$1</Result>"
        );
        let cdata = "<![CDATA[<Result>$1</Result>]]>";
        assert_eq!(
            payload_factory_xml_format(cdata, " <Result>$1</Result> ", &ns).unwrap(),
            "<Result>$1</Result>"
        );
    }

    fn deploy(files: &[(&str, &str)]) -> (Deployment, Vec<CompileError>) {
        let mut artifacts = art::Artifacts::default();
        for (label, xml) in files {
            artifacts
                .insert(art::parse_artifact(label, xml).unwrap())
                .unwrap();
        }
        compile(&artifacts)
    }

    // FailoverEndpointFactory / LoadbalanceEndpointFactory: children inline or by key; a key child
    // takes the retry settings of the definition it names (IndirectEndpoint hands on its real
    // endpoint's failure). Named endpoints compile in dependency order, whatever the file order.
    #[test]
    fn endpoint_groups_compile_with_their_children() {
        let ns = r#"xmlns="http://ws.apache.org/ns/synapse""#;
        let group = format!(
            r#"<endpoint {ns} name="A"><failover dynamic="false"><endpoint key="Z"/><endpoint><address uri="http://b/"><markForSuspension><retriesBeforeSuspension>2</retriesBeforeSuspension></markForSuspension></address></endpoint><endpoint key="Nowhere"/></failover></endpoint>"#
        );
        let leaf = format!(
            r#"<endpoint {ns} name="Z"><address uri="http://z/"><retryConfig><disabledErrorCodes>101504</disabledErrorCodes></retryConfig></address></endpoint>"#
        );
        let (d, errors) = deploy(&[("endpoints/A.xml", &group), ("endpoints/Z.xml", &leaf)]);
        assert!(errors.is_empty(), "{errors:?}");
        let a = &d.named_endpoints["A"];
        let EndpointKind::Group(g) = &a.kind else {
            panic!("{:?}", a.kind)
        };
        assert_eq!(g.kind, GroupKind::Failover { dynamic: false });
        assert!(Arc::ptr_eq(
            &g.children[0].endpoint,
            &d.named_endpoints["Z"]
        ));
        assert_eq!(g.children[0].retry_disabled, vec![101_504]);
        assert_eq!(g.children[1].budget, 3);
        assert!(matches!(g.children[2].endpoint.kind, EndpointKind::Missing));
        assert!(d.warnings.iter().any(|w| w.contains("Nowhere")));
        // Every definition has its own state slot, the group too.
        assert!(d.endpoints.iter().any(|e| Arc::ptr_eq(e, a)));
        assert_eq!(d.endpoints.len(), 3);

        let looping = format!(
            r#"<endpoint {ns} name="L"><loadbalance><endpoint key="L"/></loadbalance></endpoint>"#
        );
        let (d, errors) = deploy(&[("endpoints/L.xml", &looping)]);
        assert!(!d.named_endpoints.contains_key("L"));
        assert!(
            errors[0].to_string().contains("endpoint L contains itself"),
            "{errors:?}"
        );
    }

    /// Registry resources of MI's test servers (integration/mediation-tests/*/src/test/resources/
    /// artifacts/ESB/server/registry/), by key.
    mod registry {
        use std::collections::BTreeMap;
        use std::sync::Mutex;

        use bytes::Bytes;
        use http::{Request, Response, StatusCode};
        use http_body_util::{BodyExt, Full};

        use super::*;
        use crate::runtime::endpoint::{SendFault, SendFuture, Sender};

        const NS: &str = SYNAPSE_NS;
        type B = Full<Bytes>;

        /// Answers every send with 200 `backend` and records the URIs it was asked for.
        #[derive(Default)]
        struct Backend {
            seen: Mutex<Vec<String>>,
        }

        impl Sender<B> for Backend {
            fn send<'a>(&'a self, _: &'a Endpoint, request: Request<B>) -> SendFuture<'a, B> {
                self.seen.lock().unwrap().push(request.uri().to_string());
                Box::pin(async move {
                    Ok::<_, SendFault>(Response::new(B::from(Bytes::from_static(b"backend"))))
                })
            }
        }

        fn resource(text: &str, properties: &[(&str, &str)]) -> art::RegistryResource {
            art::RegistryResource::new(
                text.as_bytes().to_vec(),
                None,
                properties
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
                "test-registry",
            )
        }

        fn deploy_with(
            files: &[(&str, &str)],
            resources: &[(&str, art::RegistryResource)],
        ) -> (Deployment, Vec<CompileError>) {
            let mut artifacts = art::Artifacts::default();
            for (label, xml) in files {
                artifacts
                    .insert(art::parse_artifact(label, xml).unwrap())
                    .unwrap();
            }
            for (key, r) in resources {
                artifacts.registry.insert(key, r.clone()).unwrap();
            }
            compile(&artifacts)
        }

        async fn get(d: &Deployment, backend: &Backend, path: &str) -> (StatusCode, String) {
            let request = Request::get(path).body(B::default()).unwrap();
            let response = d.handle(backend, request, Protocol::Http).await;
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&body).into_owned())
        }

        fn registry_resources() -> Vec<(&'static str, art::RegistryResource)> {
            vec![
                // tests-mediator-1 registry/config/custom/test/property_mediator_test.txt(.properties)
                (
                    "conf:/custom/test/property_mediator_test.txt",
                    resource(
                        "Property mediator test resources",
                        &[("resourceName", "Config Reg Test String")],
                    ),
                ),
                (
                    "conf:/payloadFactory/payload-in.xml",
                    resource(
                        "<m:getQuote xmlns:m=\"http://services.samples\">\n    <m:request>\n        <m:symbol>$1</m:symbol>\n    </m:request>\n</m:getQuote>\n",
                        &[],
                    ),
                ),
                (
                    "conf:/json/format.json",
                    art::RegistryResource::new(
                        b"{\"symbol\": \"$1\"}\n".to_vec(),
                        Some("application/json".into()),
                        BTreeMap::new(),
                        "test-registry",
                    ),
                ),
                (
                    "conf:/seq/in.xml",
                    resource(
                        &format!(
                            r#"<sequence xmlns="{NS}" name="in"><payloadFactory media-type="json"><format>{{"from":"registry"}}</format><args/></payloadFactory><respond/></sequence>"#
                        ),
                        &[],
                    ),
                ),
                (
                    "gov:/seq/mark.xml",
                    resource(
                        &format!(
                            r#"<sequence xmlns="{NS}" name="mark"><property name="mark" value="marked"/></sequence>"#
                        ),
                        &[],
                    ),
                ),
                (
                    "conf:/ep/backend.xml",
                    resource(
                        &format!(
                            r#"<endpoint xmlns="{NS}" name="backendEP"><address uri="http://backend:9000/svc"/></endpoint>"#
                        ),
                        &[],
                    ),
                ),
            ]
        }

        fn api() -> String {
            format!(
                r#"<api xmlns="{NS}" name="RegApi" context="/reg">
  <resource methods="GET" uri-template="/text"><inSequence>
    <payloadFactory media-type="text"><format>$1|$2|$3|$4</format><args>
      <arg expression="get-property('registry', 'conf:/custom/test/property_mediator_test.txt')"/>
      <arg expression="get-property('registry', 'conf:/custom/test/property_mediator_test.txt@resourceName')"/>
      <arg expression="get-property('registry','conf:custom/test/property_mediator_test.txt/@resourceName')"/>
      <arg expression="get-property('registry', 'conf:/nothing.txt')"/>
    </args></payloadFactory>
    <respond/>
  </inSequence></resource>
  <resource methods="GET" uri-template="/format"><inSequence>
    <payloadFactory media-type="xml"><format key="conf:/payloadFactory/payload-in.xml"/><args><arg value="WSO2"/></args></payloadFactory>
    <respond/>
  </inSequence></resource>
  <resource methods="GET" uri-template="/json"><inSequence>
    <payloadFactory media-type="json"><format key="conf:json/format.json"/><args><arg value="WSO2"/></args></payloadFactory>
    <respond/>
  </inSequence></resource>
  <resource methods="GET" uri-template="/base64"><inSequence>
    <payloadFactory media-type="text"><format>$1</format><args>
      <arg expression="get-property('registry', 'conf:/json/format.json')"/>
    </args></payloadFactory>
    <respond/>
  </inSequence></resource>
  <resource methods="GET" uri-template="/seq" inSequence="conf:seq/in.xml"/>
  <resource methods="GET" uri-template="/send"><inSequence>
    <sequence key="gov:/seq/mark.xml"/>
    <send><endpoint key="conf:/ep/backend.xml"/></send>
  </inSequence></resource>
  <resource methods="GET" uri-template="/again"><inSequence>
    <sequence key="gov:seq/mark.xml"/>
    <payloadFactory media-type="text"><format>$1</format><args><arg expression="$ctx:mark"/></args></payloadFactory>
    <respond/>
  </inSequence></resource>
</api>"#
            )
        }

        // GetPropertyFunction SCOPE_REGISTRY (MI PropertyIntegrationRegistryValuesTestCase's
        // 'conf:/custom/test/property_mediator_test.txt/@resourceName'); PayloadFactoryMediator
        // with a registry format key; SynapseConfiguration.getSequence / getEndpoint for keys the
        // local registry does not know (MicroIntegratorRegistry.lookup).
        #[tokio::test]
        async fn registry_keys_deploy_and_run_like_micro_integrator_registry() {
            let (d, errors) = deploy_with(&[("api/RegApi.xml", &api())], &registry_resources());
            assert!(errors.is_empty(), "{errors:?}");
            assert!(d.warnings.is_empty(), "{:?}", d.warnings);
            let backend = Backend::default();

            let (status, body) = get(&d, &backend, "/reg/text").await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                body,
                "Property mediator test resources|Config Reg Test String|Config Reg Test String|"
            );

            let (_, body) = get(&d, &backend, "/reg/format").await;
            assert_eq!(
                body,
                r#"<m:getQuote xmlns:m="http://services.samples"><m:request><m:symbol>WSO2</m:symbol></m:request></m:getQuote>"#
            );
            let (_, body) = get(&d, &backend, "/reg/json").await;
            assert_eq!(body, r#"{"symbol": "WSO2"}"#);
            // A binary media type reads as base64 through get-property (OMText.getText()).
            let (_, body) = get(&d, &backend, "/reg/base64").await;
            assert_eq!(body, "eyJzeW1ib2wiOiAiJDEifQo=");

            let (status, body) = get(&d, &backend, "/reg/seq").await;
            assert_eq!(
                (status, body.as_str()),
                (StatusCode::OK, r#"{"from":"registry"}"#)
            );

            let (status, body) = get(&d, &backend, "/reg/send").await;
            assert_eq!((status, body.as_str()), (StatusCode::OK, "backend"));
            let seen = backend.seen.lock().unwrap().clone();
            assert_eq!(seen.len(), 1);
            assert!(seen[0].starts_with("http://backend:9000/svc"), "{seen:?}");

            // Each key compiles once, under its canonical spelling, whatever spelling refers to it.
            let (_, body) = get(&d, &backend, "/reg/again").await;
            assert_eq!(body, "marked");
            assert!(d.sequences.contains_key("gov:/seq/mark.xml"));
            assert!(d.sequences.contains_key("conf:/seq/in.xml"));
            assert_eq!(
                &*d.named_endpoints["conf:/ep/backend.xml"].name,
                "conf:/ep/backend.xml"
            );
        }

        #[test]
        fn a_registry_key_the_registry_lacks_fails_the_artifact_and_says_where_it_looked() {
            let proxy = format!(
                r#"<proxy xmlns="{NS}" name="P"><target inSequence="conf:/sequence/proxy_sequence.xml"><outSequence><send/></outSequence></target></proxy>"#
            );
            let api = format!(
                r#"<api xmlns="{NS}" name="A" context="/a"><resource><inSequence><send><endpoint key="conf:/test_ep_config/addressEP_Test.xml"/></send></inSequence></resource></api>"#
            );
            let format = format!(
                r#"<sequence xmlns="{NS}" name="S"><payloadFactory><format key="gov:/missing.xml"/><args/></payloadFactory></sequence>"#
            );
            let plain = format!(
                r#"<sequence xmlns="{NS}" name="T"><sequence key="NotDeployed"/></sequence>"#
            );
            let (d, errors) = deploy_with(
                &[
                    ("proxy-services/P.xml", &proxy),
                    ("api/A.xml", &api),
                    ("sequences/S.xml", &format),
                    ("sequences/T.xml", &plain),
                ],
                &[],
            );
            let errors: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            assert_eq!(errors.len(), 3, "{errors:#?}");
            assert!(errors.iter().any(|e| e.starts_with(
                "sequence conf:/sequence/proxy_sequence.xml is not deployed and not in the registry (no file registry/config/sequence/proxy_sequence.xml"
            )), "{errors:#?}");
            assert!(errors.iter().any(|e| e.starts_with(
                "endpoint conf:/test_ep_config/addressEP_Test.xml is not deployed and not in the registry (no file registry/config/test_ep_config/addressEP_Test.xml"
            )), "{errors:#?}");
            assert!(
                errors
                    .iter()
                    .any(|e| e.starts_with("key gov:/missing.xml is not deployed and not in the registry (no file registry/governance/missing.xml")),
                "{errors:#?}"
            );
            // A plain name keeps MI's per-message failure: deployed, with a warning.
            assert!(d.sequences.contains_key("T"));
            assert!(
                d.warnings.iter().any(|w| w.contains("NotDeployed")),
                "{:?}",
                d.warnings
            );
        }

        #[test]
        fn a_registry_resource_that_is_not_the_artifact_asked_for_fails_each_reference() {
            let seq = |name: &str| {
                format!(
                    r#"<sequence xmlns="{NS}" name="{name}"><send><endpoint key="conf:/ep/wrong.xml"/></send></sequence>"#
                )
            };
            let (s1, s2) = (seq("S1"), seq("S2"));
            let (d, errors) = deploy_with(
                &[("sequences/S1.xml", &s1), ("sequences/S2.xml", &s2)],
                &[(
                    "conf:/ep/wrong.xml",
                    resource(&format!(r#"<sequence xmlns="{NS}" name="x"/>"#), &[]),
                )],
            );
            let errors: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            assert_eq!(errors.len(), 2, "{errors:#?}");
            for (e, file) in errors.iter().zip(["sequences/S1.xml", "sequences/S2.xml"]) {
                assert!(
                    e.starts_with("endpoint conf:/ep/wrong.xml: registry resource conf:/ep/wrong.xml is a <sequence>, not a <endpoint>"),
                    "{e}"
                );
                assert!(e.contains(file), "{e}");
            }
            assert!(d.sequences.is_empty());

            // A resource that is not valid XML for an endpoint: located in the resource.
            let (_, errors) = deploy_with(
                &[("sequences/S1.xml", &s1)],
                &[("conf:/ep/wrong.xml", resource("<endpoint>\n<broken", &[]))],
            );
            assert_eq!(errors.len(), 1);
            let e = errors[0].to_string();
            assert!(
                e.contains("registry resource conf:/ep/wrong.xml is not a valid <endpoint>: XML syntax error")
                    && e.contains("at test-registry:"),
                "{e}"
            );
        }

        #[test]
        fn a_registry_endpoint_group_that_contains_itself_is_refused() {
            let api = format!(
                r#"<api xmlns="{NS}" name="A" context="/a"><resource><inSequence><send><endpoint key="conf:/ep/lb.xml"/></send></inSequence></resource></api>"#
            );
            let group = format!(
                r#"<endpoint xmlns="{NS}" name="lb"><loadbalance><endpoint key="conf:ep/lb.xml"/></loadbalance></endpoint>"#
            );
            let (d, errors) = deploy_with(
                &[("api/A.xml", &api)],
                &[("conf:/ep/lb.xml", resource(&group, &[]))],
            );
            assert!(d.apis.is_empty());
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert!(
                errors[0]
                    .to_string()
                    .contains("endpoint conf:ep/lb.xml contains itself"),
                "{}",
                errors[0]
            );
        }

        // MI's test registry holds endpoints without a name (tests-mediator-2
        // registry/config/myEndpoint/iterateEndpoint.xml): the key names them.
        #[test]
        fn a_registry_resource_needs_no_name() {
            let s = format!(
                r#"<sequence xmlns="{NS}" name="S"><send><endpoint key="conf:/myEndpoint/iterateEndpoint.xml"/></send></sequence>"#
            );
            let ep = format!(
                "<?xml version=\"1.0\"?>\n<!-- c -->\n<endpoint xmlns=\"{NS}\">\n<address uri=\"http://localhost:9000/services/SimpleStockQuoteService\"/></endpoint>"
            );
            let (d, errors) = deploy_with(
                &[("sequences/S.xml", &s)],
                &[("conf:/myEndpoint/iterateEndpoint.xml", resource(&ep, &[]))],
            );
            assert!(errors.is_empty(), "{errors:?}");
            assert!(
                d.named_endpoints
                    .contains_key("conf:/myEndpoint/iterateEndpoint.xml")
            );
            assert_eq!(
                with_root_name("<a:b xmlns:a=\"urn:a\"/>", "k\"1"),
                "<a:b name=\"k&quot;1\" xmlns:a=\"urn:a\"/>"
            );
            assert_eq!(with_root_name("<a name=\"n\"/>", "k"), "<a name=\"n\"/>");
        }

        // A sequence that refers to itself through the registry compiles once; the reference is
        // looked up per message, as a deployed sequence's is.
        #[test]
        fn a_registry_sequence_may_refer_to_itself() {
            let s = format!(
                r#"<sequence xmlns="{NS}" name="S"><sequence key="conf:/seq/rec.xml"/></sequence>"#
            );
            let rec = format!(
                r#"<sequence xmlns="{NS}" name="rec"><filter xpath="false()"><sequence key="conf:seq/rec.xml"/></filter></sequence>"#
            );
            let (d, errors) = deploy_with(
                &[("sequences/S.xml", &s)],
                &[("conf:/seq/rec.xml", resource(&rec, &[]))],
            );
            assert!(errors.is_empty(), "{errors:?}");
            assert!(d.sequences.contains_key("conf:/seq/rec.xml"));
        }
    }
}
