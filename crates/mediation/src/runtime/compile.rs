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
use http::Method;

use crate::dispatch::{
    ApiRoute, ApiTable, EndpointUriTemplate, Protocol, ProxyTable, ResourceMatcher, ResourceRoute,
    UriTemplate, UrlMapping, VersionType,
};
use crate::runtime::context::Scope;
use crate::runtime::deployment::{DeployedApi, Deployment};
use crate::runtime::endpoint::{Endpoint, EndpointKind, SuspensionSettings, TimeoutAction};
use crate::runtime::engine::{Route, Sequence};
use crate::runtime::mediators::{self as rt, Mediator};
use crate::runtime::value::ValueSource;

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
        sequence_names: artifacts
            .sequences
            .iter()
            .filter_map(|s| s.name.clone())
            .collect(),
        errors: Vec::new(),
    };

    for endpoint in &artifacts.endpoints {
        let Some(name) = endpoint.name.clone() else {
            continue;
        };
        match c.endpoint(endpoint) {
            Ok(e) => {
                c.named_endpoints.insert(name, e);
            }
            Err(e) => c.errors.push(e),
        }
    }

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

    let mut apis = Vec::new();
    let mut api_routes = Vec::new();
    let mut seen_contexts: HashMap<(String, String), String> = HashMap::new();
    for api in &artifacts.apis {
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
        match c.proxy(proxy, &sequences) {
            Ok(route) => {
                proxy_names.push(proxy.name.clone());
                proxies.push(route);
            }
            Err(e) => c.errors.push(e),
        }
    }

    let deployment = Deployment {
        api_table,
        apis,
        proxy_table: ProxyTable::build(proxy_names),
        proxies,
        sequences,
        endpoints: c.endpoints,
        named_endpoints: c.named_endpoints,
        failures: c.errors.iter().map(|e| e.to_string()).collect(),
        has_fault_handlers: false,
    };
    let has_fault_handlers = deployment.sequences.contains_key("fault")
        || deployment.sequences.values().any(|s| s.on_error.is_some())
        || deployment
            .apis
            .iter()
            .flat_map(|a| a.resources.iter())
            .chain(deployment.proxies.iter())
            .any(|r| {
                r.fault_sequence.is_some()
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

struct Compiler {
    /// Every endpoint definition so far, in id order.
    endpoints: Vec<Arc<Endpoint>>,
    named_endpoints: HashMap<String, Arc<Endpoint>>,
    sequence_names: HashSet<String>,
    errors: Vec<CompileError>,
}

impl Compiler {
    fn endpoint(&mut self, e: &art::Endpoint) -> Result<Arc<Endpoint>> {
        let kind = match &e.kind {
            art::EndpointKind::Address { uri, .. } => {
                uri.parse::<http::Uri>().map_err(|err| {
                    CompileError::at(
                        &e.span,
                        format!("address uri {uri:?} is not a valid URI: {err}"),
                    )
                })?;
                EndpointKind::Address { uri: uri.clone() }
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
            art::EndpointKind::Default { .. } => {
                return Err(CompileError::at(
                    &e.span,
                    "unsupported endpoint <default> (it sends to the message's To address, which REST requests do not carry)",
                ));
            }
        };
        let (timeout, timeout_action) = match &e.timeout {
            None => (None, TimeoutAction::Never),
            Some(t) => {
                let duration = match &t.duration {
                    None => None,
                    Some(art::TimeoutDuration::Millis(ms)) => Some(Duration::from_millis(*ms)),
                    Some(art::TimeoutDuration::Dynamic(expr)) => {
                        return Err(CompileError::at(
                            &expr.span,
                            "unsupported dynamic endpoint timeout (expressions come with mediation tier 1)",
                        ));
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
        let endpoint = Arc::new(Endpoint {
            id: self.endpoints.len(),
            name: Arc::from(e.name.as_deref().unwrap_or("anonymous")),
            kind,
            timeout,
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

    fn endpoint_ref(&mut self, r: &art::EndpointRef) -> Result<Arc<Endpoint>> {
        match r {
            art::EndpointRef::Inline(e) => self.endpoint(e),
            art::EndpointRef::Key(name, span) => self
                .named_endpoints
                .get(name)
                .cloned()
                .ok_or_else(|| CompileError::at(span, format!("endpoint {name} is not deployed (no endpoints/{name}.xml, or it failed)"))),
        }
    }

    fn sequence(&mut self, s: &art::Sequence, name: &str) -> Result<Sequence> {
        if let Some((handler, span)) = &s.on_error
            && !self.sequence_names.contains(handler)
        {
            return Err(CompileError::at(
                span,
                format!("onError sequence {handler} is not deployed"),
            ));
        }
        Ok(Sequence {
            name: Arc::from(name),
            mediators: self.mediators(&s.mediators)?,
            on_error: s.on_error.as_ref().map(|(n, _)| n.clone()),
        })
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
            art::SequenceRef::Named(name, span) => named
                .get(name)
                .cloned()
                .map(Some)
                .ok_or_else(|| CompileError::at(span, format!("sequence {name} is not deployed (no sequences/{name}.xml, or it failed)"))),
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
            routes.push(Route {
                artifact: artifact.clone(),
                in_sequence: self.sequence_ref(&r.in_sequence, &artifact, named)?,
                out_sequence: self.sequence_ref(&r.out_sequence, &artifact, named)?,
                fault_sequence: self.sequence_ref(&r.fault_sequence, &artifact, named)?,
                target: None,
            });
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
        })
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
                    out.push(Mediator::PayloadFactory(payload_factory(p)?))
                }
                art::Mediator::Respond(_) => out.push(Mediator::Respond(rt::Respond)),
                art::Mediator::Drop(_) => out.push(Mediator::Drop(rt::Drop)),
                art::Mediator::Loopback(_) => out.push(Mediator::Loopback(rt::Loopback)),
                art::Mediator::Send(s) => {
                    if let Some(receive) = &s.receive {
                        return Err(CompileError::at(
                            receive.span(),
                            "unsupported send attribute receive= (mediation tier 1)",
                        ));
                    }
                    let endpoint = match &s.endpoint {
                        Some(r) => Some(self.endpoint_ref(r)?),
                        None => None,
                    };
                    out.push(Mediator::Send(rt::Send { endpoint }));
                }
                art::Mediator::Call(call) => {
                    let Some(r) = &call.endpoint else {
                        return Err(CompileError::at(
                            &call.span,
                            "unsupported <call> without an endpoint (it would send to the To address)",
                        ));
                    };
                    out.push(Mediator::Call(rt::Call {
                        endpoint: self.endpoint_ref(r)?,
                    }));
                }
                art::Mediator::Sequence(s) => match &s.target {
                    am::SequenceTarget::Key(art::Value::Literal(key, span)) => {
                        if !self.sequence_names.contains(key) {
                            return Err(CompileError::at(
                                span,
                                format!("sequence {key} is not deployed"),
                            ));
                        }
                        out.push(Mediator::Sequence(rt::SequenceCall { key: key.clone() }));
                    }
                    am::SequenceTarget::Key(art::Value::Dynamic(expr)) => {
                        return Err(CompileError::at(
                            &expr.span,
                            "unsupported dynamic sequence key (mediation tier 1)",
                        ));
                    }
                    am::SequenceTarget::Inline(_) => {
                        return Err(CompileError::at(
                            &s.span,
                            "unsupported inline <sequence> mediator (mediation tier 1)",
                        ));
                    }
                },
                art::Mediator::Filter(f) => return Err(not_yet("filter", &f.span)),
                art::Mediator::Switch(s) => return Err(not_yet("switch", &s.span)),
                art::Mediator::Enrich(e) => return Err(not_yet("enrich", &e.span)),
                art::Mediator::MakeFault(f) => return Err(not_yet("makefault", &f.span)),
                art::Mediator::In(i) => out.push(Mediator::In(self.mediators(&i.mediators)?)),
                art::Mediator::Out(o) => out.push(Mediator::Out(self.mediators(&o.mediators)?)),
            }
        }
        Ok(out)
    }

    fn log(&mut self, l: &am::Log) -> Result<rt::Log> {
        let properties = l
            .properties
            .iter()
            .map(|p| Ok((p.name.clone(), value(&p.value, &p.span)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(rt::Log {
            level: match l.level {
                am::LogLevel::Simple => rt::LogLevel::Simple,
                am::LogLevel::Headers => rt::LogLevel::Headers,
                am::LogLevel::Full => rt::LogLevel::Full,
                am::LogLevel::Custom => rt::LogLevel::Custom,
            },
            category: match l.category {
                am::LogCategory::Trace => rt::LogCategory::Trace,
                am::LogCategory::Debug => rt::LogCategory::Debug,
                am::LogCategory::Info => rt::LogCategory::Info,
                am::LogCategory::Warn => rt::LogCategory::Warn,
                am::LogCategory::Error => rt::LogCategory::Error,
                am::LogCategory::Fatal => rt::LogCategory::Fatal,
            },
            separator: l
                .separator
                .clone()
                .unwrap_or_else(|| DEFAULT_LOG_SEPARATOR.to_string()),
            properties,
        })
    }
}

fn not_yet(name: &str, span: &Span) -> CompileError {
    CompileError::at(
        span,
        format!(
            "unsupported mediator <{name}> (parsed, but the runtime does not execute it yet: mediation tier 1)"
        ),
    )
}

fn protocol(p: art::Protocol) -> Protocol {
    match p {
        art::Protocol::Http => Protocol::Http,
        art::Protocol::Https => Protocol::Https,
    }
}

fn expression(expr: &art::Expression) -> Result<ValueSource> {
    ValueSource::parse_expression(&expr.text).map_err(|e| CompileError::at(&expr.span, e))
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
        other => Err(CompileError::at(
            span,
            format!("unsupported property scope {other:?} (supported: default, axis2, transport)"),
        )),
    }
}

fn property(p: &am::Property) -> Result<rt::Property> {
    let name = match &p.name {
        art::Value::Literal(n, _) => n.clone(),
        art::Value::Dynamic(e) => {
            return Err(CompileError::at(
                &e.span,
                "unsupported dynamic property name (mediation tier 1)",
            ));
        }
    };
    if p.pattern.is_some() || p.group.is_some() {
        return Err(CompileError::at(
            &p.span,
            "unsupported property pattern/group (mediation tier 1)",
        ));
    }
    let action = match p.action {
        am::PropertyAction::Remove => rt::PropertyAction::Remove,
        am::PropertyAction::Set => match &p.value {
            Some(am::PropertyValue::Literal(s)) => {
                rt::PropertyAction::Set(ValueSource::Literal(s.clone()))
            }
            Some(am::PropertyValue::Expression(e)) => rt::PropertyAction::Set(expression(e)?),
            Some(am::PropertyValue::Xml(_)) => {
                return Err(CompileError::at(
                    &p.span,
                    "unsupported inline XML property value (type OM: mediation tier 1)",
                ));
            }
            None => {
                return Err(CompileError::at(
                    &p.span,
                    format!("property {name} has neither value nor expression"),
                ));
            }
        },
    };
    Ok(rt::Property {
        name,
        scope: scope(p.scope, &p.span)?,
        action,
    })
}

fn header(h: &am::Header) -> Result<rt::Header> {
    if h.scope != am::HeaderScope::Transport {
        return Err(CompileError::at(
            &h.span,
            "unsupported SOAP header (scope=\"default\"): only scope=\"transport\" headers so far",
        ));
    }
    let Some(name) = h.name.clone() else {
        return Err(CompileError::at(&h.span, "header without a name"));
    };
    let value = match h.action {
        am::HeaderAction::Remove => None,
        am::HeaderAction::Set => Some(match &h.value {
            Some(am::HeaderValue::Literal(s)) => ValueSource::Literal(s.clone()),
            Some(am::HeaderValue::Expression(e)) => expression(e)?,
            Some(am::HeaderValue::Xml(_)) | None => {
                return Err(CompileError::at(
                    &h.span,
                    "transport header needs a value or an expression",
                ));
            }
        }),
    };
    Ok(rt::Header { name, value })
}

fn payload_factory(p: &am::PayloadFactory) -> Result<rt::PayloadFactory> {
    let media_type = match p.media_type {
        am::MediaType::Xml => rt::MediaType::Xml,
        am::MediaType::Json => rt::MediaType::Json,
        am::MediaType::Text => rt::MediaType::Text,
    };
    let format = match &p.format {
        am::Format::Inline { raw, text, .. } => match media_type {
            rt::MediaType::Xml => raw.trim().to_string(),
            rt::MediaType::Json | rt::MediaType::Text => text.trim().to_string(),
        },
        am::Format::Key(v) => {
            return Err(CompileError::at(
                v.span(),
                "unsupported payloadFactory <format key=...> (mediation tier 1)",
            ));
        }
    };
    let args = p
        .args
        .iter()
        .map(|a| match &a.value {
            am::ArgValue::Literal(s) => Ok(ValueSource::Literal(s.clone())),
            am::ArgValue::Expression { expression: e, .. } => expression(e),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(rt::PayloadFactory {
        media_type,
        format,
        args,
    })
}
