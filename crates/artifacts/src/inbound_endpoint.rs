//! Inbound endpoints: `<inboundEndpoint name protocol|class sequence onError suspend>` with
//! `<parameters><parameter name>value</parameter></parameters>`, one per file under
//! `inbound-endpoints/` (SYN:`config/xml/inbound/InboundEndpointFactory.java`). Conflux runs the
//! `http` and `https` listeners (MI `InboundHttpListener`, `InboundHttpsListener`) and the `file`
//! poller (MI `FilePollingConsumer`, VFS parameters read into [`VfsSettings`], which VFS proxy
//! services share). Every other protocol, and any `class=` (custom Java consumer, or MI's Kafka,
//! JMS, RabbitMQ, MQTT ... consumers written as classes), is refused naming the protocol, the
//! artifact and the file:line, so nothing deploys that would silently never receive a message.

use std::path::PathBuf;

use roxmltree::Node;

use crate::error::ArtifactError;
use crate::message_store::StoreParameter;
use crate::preamble::{
    ArtifactDocument, RootNamespace, parse_parameter, required_trimmed, trimmed,
};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

/// Shortest file polling interval accepted, in ms: a smaller one would make the poller spin.
pub const MIN_POLL_INTERVAL_MS: u64 = 1;
/// MI's default polling interval of a polling inbound endpoint (`interval` absent), in ms
/// (`GenericPollingConsumer` / docs-mi "File Inbound Endpoint": `interval`, default 1000 ms).
pub const DEFAULT_POLL_INTERVAL_MS: u64 = 1000;
/// Longest file polling interval accepted, in ms (one day): a larger one is a typo.
pub const MAX_POLL_INTERVAL_MS: u64 = 86_400_000;
/// Longest `dispatch.filter.pattern` / `transport.vfs.FileNamePattern` accepted (characters).
pub const MAX_PATTERN_CHARS: usize = 4096;
/// Largest compiled size of a pattern (the `regex` crate's size limit), so that a hostile
/// pattern cannot make deployment allocate without bound.
pub const MAX_PATTERN_BYTES: usize = 1 << 20;

/// Protocols MI ships as inbound endpoints that Conflux knows by name but does not run yet.
const KNOWN_UNSUPPORTED_PROTOCOLS: &[&str] = &[
    "kafka",
    "jms",
    "mqtt",
    "hl7",
    "ws",
    "wss",
    "httpws",
    "httpswss",
    "cxf_ws_rm",
    "feed",
    "grpc",
];

/// Where an HTTP(S) inbound endpoint listens and what it dispatches.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpInbound {
    /// `inbound.http.port` as written (the port offset is applied, or not, by the port plan:
    /// MI adds it only with `[mediation] inbound.port_offset_enable = true`).
    pub port: u32,
    /// Where `inbound.http.port` is written.
    pub port_span: Span,
    /// `dispatch.filter.pattern`: a request whose URI matches it goes to the APIs and proxy
    /// services (else the main sequence); absent, every request goes to `sequence`.
    pub dispatch_filter_pattern: Option<String>,
}

/// What the file poller does with a file after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterAction {
    Delete,
    /// Move into this folder (created when missing).
    Move(PathBuf),
}

/// The VFS parameters Conflux reads (MI `FilePollingConsumer.setupParams`, docs-mi "File
/// Inbound Endpoint"; the same names on a VFS proxy service).
#[derive(Debug, Clone, PartialEq)]
pub struct VfsSettings {
    /// `transport.vfs.FileURI`: a local folder (`file://` or a plain path) or a single file.
    pub folder: PathBuf,
    /// `interval` (inbound, ms) or `transport.PollInterval` (proxy: seconds, or `NNNms`).
    pub interval_ms: u64,
    /// `transport.vfs.ContentType`; absent: by extension (`.xml` text/xml, `.txt` text/plain).
    pub content_type: Option<String>,
    /// `transport.vfs.FileNamePattern`: a Java regex matched against the whole file name.
    pub file_name_pattern: Option<String>,
    /// `transport.vfs.ActionAfterProcess` (default DELETE) with `transport.vfs.MoveAfterProcess`.
    pub after_process: AfterAction,
    /// `transport.vfs.ActionAfterFailure` with `transport.vfs.MoveAfterFailure`. `None`: MI's
    /// DELETE; Conflux never deletes a failed file (it is left in place and skipped until it
    /// changes), see the poller.
    pub after_failure: Option<PathBuf>,
    /// `transport.vfs.Locking` (default enabled): a `.lock` file beside the file while it is
    /// processed, so two pollers do not take the same file.
    pub locking: bool,
}

/// A RabbitMQ consumer (MI `protocol/rabbitmq/RabbitMQConsumer.java`, `RabbitMQConstants`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RabbitMqInbound {
    /// `rabbitmq.server.host.name` (default localhost) and `rabbitmq.server.port` (5672).
    pub host: String,
    pub port: u16,
    /// `rabbitmq.server.user.name` / `.password` (default guest / guest, as the Java client).
    pub username: String,
    pub password: String,
    /// `rabbitmq.server.virtual.host` (default `/`).
    pub virtual_host: String,
    /// `rabbitmq.queue.name` (default: the endpoint's name).
    pub queue: String,
    /// `rabbitmq.exchange.name`: when given, the queue is bound to it with the queue name as key
    /// (`rabbitmq.queue.routing.key` overrides it).
    pub exchange: Option<String>,
    pub routing_key: Option<String>,
    /// `rabbitmq.queue.auto.ack` (default true): false acknowledges each message after its flow,
    /// or rejects it when the flow set `SET_ROLLBACK_ONLY` / `SET_REQUEUE_ON_ROLLBACK`.
    pub auto_ack: bool,
    /// `rabbitmq.message.content.type`: the content type of a message that carries none.
    pub content_type: Option<String>,
    /// `rabbitmq.message.requeue.delay` (ms) before a message is put back.
    pub requeue_delay_ms: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InboundProtocol {
    Http(HttpInbound),
    Https(HttpInbound),
    File(VfsSettings),
    RabbitMq(RabbitMqInbound),
}

impl InboundProtocol {
    pub fn name(&self) -> &'static str {
        match self {
            InboundProtocol::Http(_) => "http",
            InboundProtocol::Https(_) => "https",
            InboundProtocol::File(_) => "file",
            InboundProtocol::RabbitMq(_) => "rabbitmq",
        }
    }

    /// The listener settings of an HTTP or HTTPS endpoint.
    pub fn http(&self) -> Option<&HttpInbound> {
        match self {
            InboundProtocol::Http(h) | InboundProtocol::Https(h) => Some(h),
            InboundProtocol::File(_) | InboundProtocol::RabbitMq(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct InboundEndpoint {
    pub name: String,
    pub protocol: InboundProtocol,
    /// The sequence messages are injected into.
    pub sequence: Option<String>,
    /// The fault sequence of that injection.
    pub on_error: Option<String>,
    /// `suspend="true"`: deployed but not started (MI `startInPausedMode`).
    pub suspend: bool,
    pub parameters: Vec<StoreParameter>,
    pub span: Span,
    /// The file as written (the Management API's `configuration`).
    pub source: String,
}

impl InboundEndpoint {
    /// The value of parameter `name`, trimmed.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        parameter(&self.parameters, name)
    }

    /// What to warn about when this endpoint deploys next to these sequences: a `sequence` or
    /// `onError` that is not deployed (MI deploys it and logs "Sequence: X not found" per
    /// message).
    pub fn deploy_warnings(&self, has_sequence: impl Fn(&str) -> bool) -> Vec<String> {
        let mut out = Vec::new();
        for (what, seq) in [("sequence", &self.sequence), ("onError", &self.on_error)] {
            if let Some(seq) = seq
                && !crate::loader::IMPLICIT_SEQUENCES.contains(&seq.as_str())
                && !has_sequence(seq)
            {
                out.push(format!(
                    "inbound endpoint {} has {what}=\"{seq}\", which is not deployed: its messages fail with \"Sequence: {seq} not found\" at {}",
                    self.name, self.span
                ));
            }
        }
        out
    }
}

fn parameter<'a>(parameters: &'a [StoreParameter], name: &str) -> Option<&'a str> {
    parameters
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.value.as_str())
}

/// Parses an `inbound-endpoints/*.xml` file.
pub fn parse_inbound_endpoint(
    file_label: &str,
    xml: &str,
) -> std::result::Result<InboundEndpoint, ArtifactError> {
    let doc = ArtifactDocument::parse(file_label, xml)?;
    // The root may be bare (InboundEndpointFactory does not check its namespace).
    let (ctx, root) = doc.root("inboundEndpoint", RootNamespace::SynapseOrBare)?;
    // InboundEndpointFactory: "Inbound Endpoint name cannot be null".
    let name = required_trimmed(&ctx, root, "name", "the inbound endpoint's name")?;
    let optional = |attr: &str| trimmed(&ctx, root, attr).filter(|v| !v.is_empty());
    let sequence = optional("sequence");
    let on_error = optional("onError");
    let suspend = ctx.bool_attr(root, "suspend", false)?;
    let parameters = parse_inbound_parameters(&ctx, root)?;
    let protocol = match (optional("protocol"), optional("class")) {
        (Some(_), Some(_)) => {
            return Err(ctx.invalid(
                root,
                format!(
                    "inbound endpoint '{name}' has both 'protocol' and 'class': give one of them"
                ),
            ));
        }
        (None, Some(class)) => {
            return Err(ctx.unsupported(
                root,
                format!("inbound endpoint '{name}' with class {class}"),
                "not supported: Conflux runs no Java code; protocol=\"http\", \"https\" and \"file\" are supported",
            ));
        }
        (None, None) => {
            return Err(ctx.missing(
                root,
                "attribute 'protocol' or 'class'",
                "protocol=\"http\", \"https\" or \"file\"",
            ));
        }
        (Some(protocol), None) => protocol,
    };
    let protocol = match protocol.as_str() {
        "http" => InboundProtocol::Http(http_settings(&ctx, root, &name, &parameters)?),
        "https" => InboundProtocol::Https(http_settings(&ctx, root, &name, &parameters)?),
        "file" => InboundProtocol::File(
            vfs_settings(&parameters, VfsFlavour::InboundEndpoint).map_err(|e| {
                e.into_artifact_error(&ctx, root, &format!("inbound endpoint '{name}'"))
            })?,
        ),
        "rabbitmq" => InboundProtocol::RabbitMq(rabbitmq_settings(&ctx, root, &name, &parameters)?),
        other => {
            let why = if KNOWN_UNSUPPORTED_PROTOCOLS.contains(&other) {
                "not supported yet; supported: http, https, file, rabbitmq"
            } else {
                "not an inbound protocol Conflux knows; supported: http, https, file, rabbitmq"
            };
            return Err(ctx.unsupported(
                root,
                format!("protocol \"{other}\" of inbound endpoint '{name}'"),
                why,
            ));
        }
    };
    if sequence.is_none()
        && !matches!(&protocol, InboundProtocol::Http(h) | InboundProtocol::Https(h) if h.dispatch_filter_pattern.is_some())
    {
        // FileInjectHandler / InboundHttpServerWorker: "Sequence name not specified".
        return Err(ctx.missing(
            root,
            "attribute 'sequence'",
            "the sequence the inbound endpoint injects its messages into",
        ));
    }
    Ok(InboundEndpoint {
        name,
        protocol,
        sequence,
        on_error,
        suspend,
        parameters,
        span: ctx.span(root),
        source: xml.to_string(),
    })
}

/// The first `<parameters>` and its `<parameter name>` children. A parameter taking its value from
/// the registry (`key`) is refused; one given twice is refused (MI keeps the last silently).
fn parse_inbound_parameters(ctx: &Ctx, root: Node) -> Result<Vec<StoreParameter>> {
    let mut out: Vec<StoreParameter> = Vec::new();
    // InboundEndpointFactory reads the first <parameters> and its <parameter> children by name;
    // anything else is not read (so neither is it here).
    let Some(parameters) = element_children(root).find(|c| is_synapse_named(*c, "parameters"))
    else {
        return Ok(out);
    };
    for p in element_children(parameters) {
        if !is_synapse_named(p, "parameter") {
            continue;
        }
        let parameter = parse_parameter(ctx, p)?;
        if let Some(first) = out.iter().find(|q| q.name == parameter.name) {
            return Err(ctx.invalid(
                p,
                format!(
                    "parameter '{}' is given twice (first at {}): give it once",
                    parameter.name, first.span
                ),
            ));
        }
        out.push(parameter);
    }
    Ok(out)
}

/// The RabbitMQ parameters Conflux reads, with MI's defaults (`RabbitMQConnectionFactory`,
/// `RabbitMQConsumer`). TLS is refused rather than ignored.
fn rabbitmq_settings(
    ctx: &Ctx,
    root: Node,
    name: &str,
    parameters: &[StoreParameter],
) -> Result<RabbitMqInbound> {
    let get = |key: &str| {
        parameters
            .iter()
            .find(|p| p.name == key)
            .map(|p| p.value.as_str())
            .filter(|v| !v.is_empty())
    };
    let at = |key: &str| {
        parameters
            .iter()
            .find(|p| p.name == key)
            .map_or_else(|| ctx.span(root), |p| p.span.clone())
    };
    if get("rabbitmq.connection.ssl.enabled").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Err(ArtifactError::Unsupported {
            what: format!("rabbitmq.connection.ssl.enabled of inbound endpoint '{name}'"),
            why: "AMQP over TLS is not supported yet".into(),
            span: at("rabbitmq.connection.ssl.enabled"),
        });
    }
    let number = |key: &str, default: u64, valid: &str| -> Result<u64> {
        match get(key) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| ArtifactError::Invalid {
                message: format!("{key} = {v:?} of inbound endpoint '{name}': expected {valid}"),
                span: at(key),
            }),
        }
    };
    let port = number("rabbitmq.server.port", 5672, "a port number (1-65535)")?;
    let port = u16::try_from(port)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| ArtifactError::Invalid {
            message: format!(
                "rabbitmq.server.port = {port} of inbound endpoint '{name}': expected a port number (1-65535)"
            ),
            span: at("rabbitmq.server.port"),
        })?;
    let auto_ack = match get("rabbitmq.queue.auto.ack") {
        None => true,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            return Err(ArtifactError::Invalid {
                message: format!(
                    "rabbitmq.queue.auto.ack = {v:?} of inbound endpoint '{name}': expected true or false"
                ),
                span: at("rabbitmq.queue.auto.ack"),
            });
        }
    };
    Ok(RabbitMqInbound {
        host: get("rabbitmq.server.host.name")
            .unwrap_or("localhost")
            .to_string(),
        port,
        username: get("rabbitmq.server.user.name")
            .unwrap_or("guest")
            .to_string(),
        password: get("rabbitmq.server.password")
            .unwrap_or("guest")
            .to_string(),
        virtual_host: get("rabbitmq.server.virtual.host")
            .unwrap_or("/")
            .to_string(),
        queue: get("rabbitmq.queue.name").unwrap_or(name).to_string(),
        exchange: get("rabbitmq.exchange.name").map(str::to_string),
        routing_key: get("rabbitmq.queue.routing.key").map(str::to_string),
        auto_ack,
        content_type: get("rabbitmq.message.content.type").map(str::to_string),
        requeue_delay_ms: number(
            "rabbitmq.message.requeue.delay",
            0,
            "a number of milliseconds",
        )?,
    })
}

fn http_settings(
    ctx: &Ctx,
    root: Node,
    name: &str,
    parameters: &[StoreParameter],
) -> Result<HttpInbound> {
    let Some(port) = parameters.iter().find(|p| p.name == "inbound.http.port") else {
        return Err(ctx.missing(
            root,
            "parameter 'inbound.http.port'",
            &format!("the port inbound endpoint '{name}' listens on (1..=65535)"),
        ));
    };
    // InboundHttpListener: "Please provide port number as integer".
    let value = port
        .value
        .parse::<u32>()
        .ok()
        .filter(|p| (1..=65_535).contains(p))
        .ok_or_else(|| ArtifactError::InvalidValue {
            element: "parameter".into(),
            what: "'inbound.http.port'".into(),
            value: port.value.clone(),
            expected: "a port number from 1 to 65535".into(),
            span: port.span.clone(),
        })?;
    let dispatch_filter_pattern = match parameter(parameters, "dispatch.filter.pattern") {
        Some(p) if !p.is_empty() => {
            check_pattern(p).map_err(|why| ArtifactError::InvalidValue {
                element: "parameter".into(),
                what: "'dispatch.filter.pattern'".into(),
                value: p.to_string(),
                expected: format!("a regular expression ({why})"),
                span: parameters
                    .iter()
                    .find(|q| q.name == "dispatch.filter.pattern")
                    .map(|q| q.span.clone())
                    .unwrap_or_else(|| ctx.span(root)),
            })?;
            Some(p.to_string())
        }
        _ => None,
    };
    Ok(HttpInbound {
        port: value,
        port_span: port.span.clone(),
        dispatch_filter_pattern,
    })
}

/// Compiles `pattern` anchored at both ends (Java's `Matcher.matches()`), within the limits.
///
/// # Errors
/// Why it is not a usable pattern.
pub fn compile_whole_match(pattern: &str) -> std::result::Result<regex::Regex, String> {
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!("longer than {MAX_PATTERN_CHARS} characters"));
    }
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(MAX_PATTERN_BYTES)
        .build()
        .map_err(|e| e.to_string())
}

fn check_pattern(pattern: &str) -> std::result::Result<(), String> {
    compile_whole_match(pattern).map(|_| ())
}

/// Whose VFS parameters these are: their interval parameter differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VfsFlavour {
    /// `interval`, in ms.
    InboundEndpoint,
    /// `transport.PollInterval`, in seconds, or in ms with an `ms` suffix.
    ProxyService,
}

/// A VFS parameter that cannot be used, with where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct VfsParameterError {
    pub parameter: String,
    pub value: Option<String>,
    pub expected: String,
    pub span: Option<Span>,
    pub unsupported: bool,
}

impl VfsParameterError {
    /// The error located in the artifact; `owner` names it (`inbound endpoint 'X'`).
    pub(crate) fn into_artifact_error(self, ctx: &Ctx, root: Node, owner: &str) -> ArtifactError {
        let span = self.span.clone().unwrap_or_else(|| ctx.span(root));
        match (self.unsupported, self.value) {
            (true, value) => ArtifactError::Unsupported {
                what: format!(
                    "parameter '{}' = \"{}\" of {owner}",
                    self.parameter,
                    value.unwrap_or_default()
                ),
                why: self.expected,
                span,
            },
            (false, Some(value)) => ArtifactError::InvalidValue {
                element: "parameter".into(),
                what: format!("'{}'", self.parameter),
                value,
                expected: self.expected,
                span,
            },
            (false, None) => ArtifactError::Missing {
                element: crate::xml::element_name(root),
                what: format!("parameter '{}'", self.parameter),
                expected: self.expected,
                span,
            },
        }
    }
}

/// A `file://` URI or plain path as a local path; other schemes are refused.
fn local_path(
    parameter_name: &str,
    p: &StoreParameter,
) -> std::result::Result<PathBuf, VfsParameterError> {
    let value = p.value.as_str();
    let err = |unsupported: bool, expected: &str| VfsParameterError {
        parameter: parameter_name.into(),
        value: Some(value.into()),
        expected: expected.into(),
        span: Some(p.span.clone()),
        unsupported,
    };
    let path = if let Some(rest) = value.strip_prefix("file://") {
        rest
    } else if let Some(rest) = value.strip_prefix("file:") {
        rest
    } else if let Some((scheme, _)) = value.split_once("://") {
        return Err(err(
            true,
            &format!(
                "not supported yet: only local folders (file:///path) are; the {scheme} scheme is not"
            ),
        ));
    } else {
        value
    };
    // `file:///C:/x` style URIs and query options (`?...`) are not local Unix paths.
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || !path.starts_with('/') {
        return Err(err(
            false,
            "an absolute local path (file:///path/to/folder)",
        ));
    }
    Ok(PathBuf::from(path))
}

/// Reads the VFS parameters of an inbound endpoint or a proxy service.
///
/// # Errors
/// The first parameter that is missing, invalid, or asks for what Conflux does not support.
pub fn vfs_settings(
    parameters: &[StoreParameter],
    flavour: VfsFlavour,
) -> std::result::Result<VfsSettings, VfsParameterError> {
    let find = |name: &str| parameters.iter().find(|p| p.name == name);
    let invalid = |p: &StoreParameter, expected: &str| VfsParameterError {
        parameter: p.name.clone(),
        value: Some(p.value.clone()),
        expected: expected.into(),
        span: Some(p.span.clone()),
        unsupported: false,
    };
    let Some(uri) = find("transport.vfs.FileURI") else {
        return Err(VfsParameterError {
            parameter: "transport.vfs.FileURI".into(),
            value: None,
            expected: "the folder to poll (file:///path/to/folder)".into(),
            span: None,
            unsupported: false,
        });
    };
    let folder = local_path("transport.vfs.FileURI", uri)?;
    let interval_ms = match flavour {
        VfsFlavour::InboundEndpoint => match find("interval") {
            None => DEFAULT_POLL_INTERVAL_MS,
            Some(p) => p
                .value
                .parse::<u64>()
                .map_err(|_| invalid(p, "a polling interval in milliseconds"))?,
        },
        VfsFlavour::ProxyService => match find("transport.PollInterval") {
            None => DEFAULT_POLL_INTERVAL_MS,
            Some(p) => {
                let v = p.value.as_str();
                let parsed = match v.strip_suffix("ms") {
                    Some(ms) => ms.trim().parse::<u64>().ok(),
                    None => v.parse::<u64>().ok().and_then(|s| s.checked_mul(1000)),
                };
                parsed
                    .ok_or_else(|| invalid(p, "a polling interval in seconds, or in ms as 500ms"))?
            }
        },
    };
    if !(MIN_POLL_INTERVAL_MS..=MAX_POLL_INTERVAL_MS).contains(&interval_ms) {
        let p = find("interval")
            .or_else(|| find("transport.PollInterval"))
            .cloned()
            .unwrap_or_else(|| uri.clone());
        return Err(invalid(
            &p,
            &format!(
                "a polling interval from {MIN_POLL_INTERVAL_MS} ms to {MAX_POLL_INTERVAL_MS} ms"
            ),
        ));
    }
    let content_type = find("transport.vfs.ContentType")
        .map(|p| p.value.clone())
        .filter(|v| !v.is_empty());
    let file_name_pattern = match find("transport.vfs.FileNamePattern") {
        Some(p) if !p.value.is_empty() => {
            check_pattern(&p.value)
                .map_err(|why| invalid(p, &format!("a regular expression ({why})")))?;
            Some(p.value.clone())
        }
        _ => None,
    };
    let action =
        |action: &str, folder: &str| -> std::result::Result<Option<PathBuf>, VfsParameterError> {
            match find(action) {
                None => Ok(None),
                Some(p) if p.value == "DELETE" => Ok(None),
                Some(p) if p.value == "MOVE" => match find(folder) {
                    Some(f) => local_path(folder, f).map(Some),
                    None => Err(VfsParameterError {
                        parameter: folder.into(),
                        value: None,
                        expected: format!("the folder to move files to, with {action}=MOVE"),
                        span: Some(p.span.clone()),
                        unsupported: false,
                    }),
                },
                Some(p) => Err(invalid(p, "MOVE or DELETE")),
            }
        };
    let after_process = match action(
        "transport.vfs.ActionAfterProcess",
        "transport.vfs.MoveAfterProcess",
    )? {
        Some(folder) => AfterAction::Move(folder),
        None => AfterAction::Delete,
    };
    let after_failure = action(
        "transport.vfs.ActionAfterFailure",
        "transport.vfs.MoveAfterFailure",
    )?;
    let locking = match find("transport.vfs.Locking") {
        None => true,
        Some(p) if p.value.eq_ignore_ascii_case("enable") => true,
        Some(p) if p.value.eq_ignore_ascii_case("disable") => false,
        Some(p) => return Err(invalid(p, "enable or disable")),
    };
    Ok(VfsSettings {
        folder,
        interval_ms,
        content_type,
        file_name_pattern,
        after_process,
        after_failure,
        locking,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "xmlns=\"http://ws.apache.org/ns/synapse\"";

    fn parse(attrs: &str, params: &[(&str, &str)]) -> std::result::Result<InboundEndpoint, String> {
        let params: String = params
            .iter()
            .map(|(n, v)| format!("\n    <parameter name=\"{n}\">{v}</parameter>"))
            .collect();
        let xml = format!(
            "<inboundEndpoint {NS} name=\"In\" {attrs}>\n  <parameters>{params}\n  </parameters>\n</inboundEndpoint>"
        );
        parse_inbound_endpoint("inbound-endpoints/In.xml", &xml).map_err(|e| e.to_string())
    }

    #[test]
    fn http_endpoint_parses_port_and_pattern() {
        let e = parse(
            "protocol=\"http\" sequence=\"S\" onError=\"F\" suspend=\"false\"",
            &[
                ("inbound.http.port", "8085"),
                ("dispatch.filter.pattern", "/api/.*"),
                ("inbound.worker.pool.size.core", "400"),
            ],
        )
        .unwrap();
        assert_eq!(e.name, "In");
        assert_eq!(e.sequence.as_deref(), Some("S"));
        assert_eq!(e.on_error.as_deref(), Some("F"));
        let h = e.protocol.http().unwrap();
        assert_eq!(h.port, 8085);
        assert_eq!(h.port_span.to_string(), "inbound-endpoints/In.xml:3:5");
        assert_eq!(h.dispatch_filter_pattern.as_deref(), Some("/api/.*"));
        assert_eq!(e.parameter("inbound.worker.pool.size.core"), Some("400"));
    }

    // MI RabbitMQConstants / RabbitMQConnectionFactory: defaults, and TLS refused at its line.
    #[test]
    fn rabbitmq_endpoints_read_mis_parameters() {
        let e = parse(
            "protocol=\"rabbitmq\" sequence=\"S\"",
            &[
                ("rabbitmq.server.port", "5673"),
                ("rabbitmq.queue.auto.ack", "false"),
                ("rabbitmq.exchange.name", "ex"),
            ],
        )
        .unwrap();
        let InboundProtocol::RabbitMq(r) = &e.protocol else {
            panic!("{:?}", e.protocol)
        };
        assert_eq!(
            (
                r.host.as_str(),
                r.port,
                r.username.as_str(),
                r.queue.as_str()
            ),
            ("localhost", 5673, "guest", "In")
        );
        assert_eq!((r.auto_ack, r.exchange.as_deref()), (false, Some("ex")));
        let err = parse(
            "protocol=\"rabbitmq\" sequence=\"S\"",
            &[("rabbitmq.connection.ssl.enabled", "true")],
        )
        .unwrap_err();
        assert!(err.contains("AMQP over TLS"), "{err}");
        assert!(err.ends_with("at inbound-endpoints/In.xml:3:5"), "{err}");
        let err = parse(
            "protocol=\"rabbitmq\" sequence=\"S\"",
            &[("rabbitmq.server.port", "70000")],
        )
        .unwrap_err();
        assert!(err.contains("expected a port number"), "{err}");
    }

    #[test]
    fn bad_and_missing_ports_are_refused_at_their_line() {
        let err = parse(
            "protocol=\"http\" sequence=\"S\"",
            &[("inbound.http.port", "65536")],
        )
        .unwrap_err();
        assert!(err.contains("65536"), "{err}");
        assert!(err.ends_with("at inbound-endpoints/In.xml:3:5"), "{err}");
        let err = parse("protocol=\"https\" sequence=\"S\"", &[]).unwrap_err();
        assert!(err.contains("inbound.http.port"), "{err}");
        assert!(
            parse(
                "protocol=\"http\" sequence=\"S\"",
                &[("inbound.http.port", "65535")]
            )
            .is_ok()
        );
    }

    #[test]
    fn unsupported_protocols_and_classes_are_named() {
        let err = parse("protocol=\"kafka\" sequence=\"S\"", &[]).unwrap_err();
        assert!(
            err.contains("protocol \"kafka\" of inbound endpoint 'In'"),
            "{err}"
        );
        assert!(err.contains("not supported yet"), "{err}");
        assert!(err.ends_with("at inbound-endpoints/In.xml:1:1"), "{err}");
        let err = parse(
            "class=\"org.wso2.carbon.inbound.kafka.KafkaMessageConsumer\" sequence=\"S\"",
            &[],
        )
        .unwrap_err();
        assert!(
            err.contains("class org.wso2.carbon.inbound.kafka.KafkaMessageConsumer"),
            "{err}"
        );
        let err = parse("sequence=\"S\"", &[]).unwrap_err();
        assert!(err.contains("'protocol' or 'class'"), "{err}");
    }

    #[test]
    fn file_endpoint_reads_vfs_parameters() {
        let e = parse(
            "protocol=\"file\" sequence=\"S\"",
            &[
                ("transport.vfs.FileURI", "file:///tmp/in"),
                ("interval", "250"),
                ("transport.vfs.ContentType", "application/json"),
                ("transport.vfs.FileNamePattern", ".*\\.json"),
                ("transport.vfs.ActionAfterProcess", "MOVE"),
                ("transport.vfs.MoveAfterProcess", "file:///tmp/done"),
                ("transport.vfs.ActionAfterFailure", "MOVE"),
                ("transport.vfs.MoveAfterFailure", "/tmp/failed"),
                ("transport.vfs.Locking", "disable"),
            ],
        )
        .unwrap();
        let InboundProtocol::File(v) = e.protocol else {
            panic!("not file")
        };
        assert_eq!(v.folder, PathBuf::from("/tmp/in"));
        assert_eq!(v.interval_ms, 250);
        assert_eq!(v.content_type.as_deref(), Some("application/json"));
        assert_eq!(v.after_process, AfterAction::Move("/tmp/done".into()));
        assert_eq!(v.after_failure, Some(PathBuf::from("/tmp/failed")));
        assert!(!v.locking);
    }

    #[test]
    fn file_defaults_and_refusals() {
        let e = parse(
            "protocol=\"file\" sequence=\"S\"",
            &[("transport.vfs.FileURI", "/data/in")],
        )
        .unwrap();
        let InboundProtocol::File(v) = e.protocol else {
            panic!("not file")
        };
        assert_eq!(v.interval_ms, DEFAULT_POLL_INTERVAL_MS);
        assert_eq!(v.after_process, AfterAction::Delete);
        assert_eq!(v.after_failure, None);
        assert!(v.locking);

        let err = parse(
            "protocol=\"file\" sequence=\"S\"",
            &[("transport.vfs.FileURI", "sftp://u:p@host/in")],
        )
        .unwrap_err();
        assert!(err.contains("sftp scheme"), "{err}");
        assert!(err.ends_with("at inbound-endpoints/In.xml:3:5"), "{err}");
        let err = parse(
            "protocol=\"file\" sequence=\"S\"",
            &[
                ("transport.vfs.FileURI", "/in"),
                ("transport.vfs.ActionAfterProcess", "MOVE"),
            ],
        )
        .unwrap_err();
        assert!(err.contains("transport.vfs.MoveAfterProcess"), "{err}");
        let err = parse("protocol=\"file\" sequence=\"S\"", &[]).unwrap_err();
        assert!(err.contains("transport.vfs.FileURI"), "{err}");
        let err = parse("protocol=\"file\"", &[("transport.vfs.FileURI", "/in")]).unwrap_err();
        assert!(err.contains("attribute 'sequence'"), "{err}");
    }

    #[test]
    fn poll_interval_limits() {
        let with = |v: &str| {
            parse(
                "protocol=\"file\" sequence=\"S\"",
                &[("transport.vfs.FileURI", "/in"), ("interval", v)],
            )
        };
        assert!(with(&MAX_POLL_INTERVAL_MS.to_string()).is_ok());
        assert!(with(&(MAX_POLL_INTERVAL_MS + 1).to_string()).is_err());
        assert!(with("0").is_err());
    }

    #[test]
    fn a_missing_sequence_is_warned_and_the_implicit_fault_is_not() {
        let e = parse(
            "protocol=\"http\" sequence=\"S\" onError=\"fault\"",
            &[("inbound.http.port", "8085")],
        )
        .unwrap();
        assert!(e.deploy_warnings(|s| s == "S").is_empty());
        let w = e.deploy_warnings(|_| false);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("sequence=\"S\", which is not deployed"),
            "{w:?}"
        );
    }

    /// MI's own inbound endpoints (`shared/corpus/synapse/inbound-endpoints`): the HTTP and
    /// RabbitMQ ones parse, every other protocol is refused naming it, none panics.
    #[test]
    fn mi_corpus_inbound_endpoints() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/corpus/synapse/inbound-endpoints");
        let Ok(listing) = std::fs::read_dir(&dir) else {
            println!("skipped: no corpus at {}", dir.display());
            return;
        };
        let mut http = 0;
        for entry in listing {
            let path = entry.unwrap().path();
            let xml = std::fs::read_to_string(&path).unwrap();
            let label = format!(
                "inbound-endpoints/{}",
                path.file_name().unwrap().to_string_lossy()
            );
            match parse_inbound_endpoint(&label, &xml) {
                Ok(e) if matches!(e.protocol, InboundProtocol::RabbitMq(_)) => {}
                Ok(e) => {
                    assert!(e.protocol.http().is_some(), "{label}: {e:?}");
                    http += 1;
                }
                Err(e) => {
                    let text = e.to_string();
                    assert!(
                        text.contains("not supported") || text.contains("not an inbound protocol"),
                        "{label}: {text}"
                    );
                    assert!(text.contains(&label), "{label}: {text}");
                }
            }
        }
        assert!(http >= 5, "{http} HTTP inbound endpoints parsed");
    }

    #[test]
    fn pattern_limit_is_enforced() {
        let long = "a".repeat(MAX_PATTERN_CHARS);
        assert!(compile_whole_match(&long).is_ok());
        assert!(compile_whole_match(&format!("{long}a")).is_err());
        assert!(compile_whole_match("/a/.*").unwrap().is_match("/a/b"));
        assert!(!compile_whole_match("/a").unwrap().is_match("/a/b"));
    }

    #[test]
    fn proxy_poll_interval_is_in_seconds_or_ms() {
        let p = |name: &str, value: &str| StoreParameter {
            name: name.into(),
            value: value.into(),
            span: Span::whole_file("p.xml"),
        };
        let v = vfs_settings(
            &[
                p("transport.vfs.FileURI", "file:///in"),
                p("transport.PollInterval", "2"),
            ],
            VfsFlavour::ProxyService,
        )
        .unwrap();
        assert_eq!(v.interval_ms, 2000);
        let v = vfs_settings(
            &[
                p("transport.vfs.FileURI", "file:///in"),
                p("transport.PollInterval", "300ms"),
            ],
            VfsFlavour::ProxyService,
        )
        .unwrap();
        assert_eq!(v.interval_ms, 300);
    }
}
