//! Endpoints: `<endpoint>` with an `address`, `http` or `default` leaf, its QoS options (timeout,
//! suspendOnFailure, markForSuspension, legacy suspendDurationOnFailure, retryConfig) with MI's
//! defaults, `<endpoint key>` references, the endpoint groups `<failover>` and `<loadbalance>`
//! (with `<session>` affinity: SYN:`config/xml/endpoints/SALoadbalanceEndpointFactory.java`), and
//! `<recipientlist>` (SYN:`config/xml/endpoints/RecipientListEndpointFactory.java`).
//! Checked against SYN:`config/xml/endpoints/EndpointDefinitionFactory.java`,
//! SYN:`endpoints/EndpointDefinition.java`, SYN:`config/xml/endpoints/FailoverEndpointFactory.java`,
//! SYN:`config/xml/endpoints/LoadbalanceEndpointFactory.java` and
//! SYN:`config/xml/endpoints/utils/LoadbalanceAlgorithmFactory.java`; `<wsdl uri|definitions
//! service port>` after SYN:`config/xml/endpoints/WSDLEndpointFactory.java` (see [`crate::wsdl`]).

use roxmltree::Node;

use crate::expression::{Expression, Value, ValueOrExpression};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse, is_synapse_named, text_of};

/// MI's default `markForSuspension` error codes: 101504 (timeout) and 101505 (connection closed)
/// (synapse-subset.md §3.7; `AbstractEndpoint.isTimeout`).
pub const DEFAULT_TIMEOUT_ERROR_CODES: [i32; 2] = [101504, 101505];
/// `EndpointDefinition.initialSuspendDuration` is -1 (unset); the endpoint context then suspends for
/// 30 s (synapse-subset.md §3.7).
pub const DEFAULT_INITIAL_SUSPEND_MS: u64 = 30_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// `Some` for a named (top-level) endpoint, `None` for an inline one.
    pub name: Option<String>,
    pub kind: EndpointKind,
    pub timeout: Option<Timeout>,
    pub suspend_on_failure: SuspendOnFailure,
    pub mark_for_suspension: MarkForSuspension,
    /// `retryConfig` (only meaningful inside failover groups).
    pub retry_disabled_error_codes: Vec<i32>,
    pub retry_enabled_error_codes: Vec<i32>,
    /// `<property name value|expression scope>` children of `<endpoint>`.
    pub properties: Vec<EndpointProperty>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EndpointKind {
    Address {
        uri: String,
        format: Option<MessageFormat>,
        /// `<enableAddressing/>`: the request carries WS-Addressing headers.
        addressing: bool,
    },
    /// `uri_template` as written (expanded at send time); `method` upper-cased, `None` keeps the
    /// incoming method.
    Http {
        uri_template: String,
        method: Option<String>,
    },
    /// The target is the message's `To`.
    Default { format: Option<MessageFormat> },
    /// `<failover [dynamic] [buildMessage]>` over child endpoints (SYN `FailoverEndpoint`).
    Failover {
        children: Vec<EndpointRef>,
        /// `dynamic` (default true): go back to the first child as soon as it is ready again;
        /// `false` keeps sending to the child that last worked.
        dynamic: bool,
        /// `buildMessage`, when written.
        build_message: Option<bool>,
    },
    /// `<loadbalance [algorithm|policy] [failover] [buildMessage]>` over child endpoints
    /// (SYN `LoadbalanceEndpoint`).
    Loadbalance {
        children: Vec<EndpointRef>,
        algorithm: LoadbalanceAlgorithm,
        /// `failover` (default true): a failed child's message goes to the next child.
        failover: bool,
        build_message: Option<bool>,
        /// `<session type [sessionTimeout]>` beside the `<loadbalance>`: session affinity
        /// (SYN `SALoadbalanceEndpoint`); `None` for plain load balancing.
        session: Option<SessionAffinity>,
    },
    /// `<recipientlist>`: a copy of the message to every member (SYN
    /// `endpoints/RecipientListEndpoint.java`).
    RecipientList { recipients: Recipients },
    /// `<endpoint template="T" [uri]><parameter name value/></endpoint>`: the endpoint template `T`
    /// with `$name` replaced (SYN `endpoints/TemplateEndpoint.java`; see [`crate::template`]).
    Template {
        template: String,
        /// `name`, `uri` (from the attributes) and the `<parameter>`s, as written.
        parameters: Vec<(String, String)>,
    },
    /// `<wsdl uri|definitions service port>`: the address of `service`/`port` in a WSDL 1.1
    /// document, with the message format of its binding (SYN `endpoints/WSDLEndpoint.java`,
    /// `config/xml/endpoints/WSDLEndpointFactory.java`; see [`crate::wsdl`]).
    Wsdl {
        /// `uri`: the document to fetch (the runtime fetches it once, at the first send).
        uri: Option<String>,
        service: String,
        port: String,
        /// An inline `<wsdl:definitions>`, resolved when the artifact deploys.
        inline: Option<crate::wsdl::WsdlPort>,
        /// `<enableAddressing/>`.
        addressing: bool,
    },
}

/// The algorithm of a `<loadbalance>` group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadbalanceAlgorithm {
    /// `org.apache.synapse.endpoints.algorithms.RoundRobin`, the default.
    RoundRobin,
    /// `org.apache.synapse.endpoints.algorithms.WeightedRoundRobin`: each child in turn as many
    /// times in a row as its `<property name="loadbalance.weight">` (default 1) says.
    WeightedRoundRobin,
}

/// `<session type="http|simpleClientSession|soap"><sessionTimeout>ms</sessionTimeout></session>`.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionAffinity {
    pub kind: SessionKind,
    /// `<sessionTimeout>` in milliseconds; `None`: Synapse's default
    /// (`SynapseConstants.SAL_ENDPOINTS_DEFAULT_SESSION_TIMEOUT`, 120 s).
    pub timeout_ms: Option<u64>,
    pub span: Span,
}

/// The session dispatcher a `<session type>` names (SYN `endpoints/dispatch/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// `HttpSessionDispatcher`: the backend's `Set-Cookie` (JSESSIONID, PHPSESSID, ...) and the
    /// client's `Cookie`.
    Http,
    /// `SimpleClientSessionDispatcher`: the client's `<syn:ClientID>` SOAP header.
    SimpleClientSession,
    /// `SoapSessionDispatcher`: the axis2 `ServiceGroupId` SOAP header.
    Soap,
}

/// The members of a `<recipientlist>`.
#[derive(Debug, Clone, PartialEq)]
pub enum Recipients {
    /// `<endpoint>` children.
    Endpoints(Vec<EndpointRef>),
    /// `<endpoints value="url,url" | value="{expr}" [max-cache]/>`: addresses separated by commas,
    /// read per message.
    Dynamic {
        value: Value,
        /// `max-cache`: the size of MI's pool of endpoints built for the addresses (default
        /// [`DEFAULT_RECIPIENT_POOL`]).
        max_cache: usize,
    },
}

/// `RecipientListEndpoint.DEFAULT_MAX_POOL`: `max-cache` when it is absent or not a number.
pub const DEFAULT_RECIPIENT_POOL: usize = 20;

/// `WeightedRoundRobin.LOADBALANCE_WEIGHT`: the child endpoint property holding its weight.
pub const LOADBALANCE_WEIGHT: &str = "loadbalance.weight";

impl EndpointKind {
    /// The child endpoints of a failover or load-balance group or a static recipient list (empty
    /// for a leaf).
    pub fn children(&self) -> &[EndpointRef] {
        match self {
            EndpointKind::Failover { children, .. }
            | EndpointKind::Loadbalance { children, .. }
            | EndpointKind::RecipientList {
                recipients: Recipients::Endpoints(children),
            } => children,
            _ => &[],
        }
    }
}

/// `format` attribute of address/default endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageFormat {
    Soap11,
    Soap12,
    Pox,
    Rest,
    Get,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Timeout {
    /// `None`: no `<duration>`, the global socket timeout applies.
    pub duration: Option<TimeoutDuration>,
    pub response_action: ResponseAction,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TimeoutDuration {
    Millis(u64),
    /// `<duration>{expr}</duration>`, evaluated per message.
    Dynamic(Expression),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseAction {
    /// Run the fault handler with ERROR_CODE 101504.
    Fault,
    /// Drop the late reply.
    Discard,
    /// No `<responseAction>` (Synapse `NONE`).
    Never,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SuspendOnFailure {
    /// Empty: any error suspends.
    pub error_codes: Vec<i32>,
    pub initial_duration_ms: u64,
    pub progression_factor: f64,
    /// `None`: unbounded (`Long.MAX_VALUE` in MI).
    pub maximum_duration_ms: Option<u64>,
}

impl Default for SuspendOnFailure {
    fn default() -> Self {
        SuspendOnFailure {
            error_codes: Vec::new(),
            initial_duration_ms: DEFAULT_INITIAL_SUSPEND_MS,
            progression_factor: 1.0,
            maximum_duration_ms: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MarkForSuspension {
    pub error_codes: Vec<i32>,
    pub retries_before_suspension: u32,
    pub retry_delay_ms: u64,
}

impl Default for MarkForSuspension {
    fn default() -> Self {
        MarkForSuspension {
            error_codes: DEFAULT_TIMEOUT_ERROR_CODES.to_vec(),
            retries_before_suspension: 0,
            retry_delay_ms: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EndpointProperty {
    pub name: String,
    pub value: ValueOrExpression,
    pub scope: Option<String>,
    pub span: Span,
}

/// An endpoint used by `send`, `call` or a proxy target.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointRef {
    Inline(Box<Endpoint>),
    /// `<endpoint key="name"/>` or `<target endpoint="name">`.
    Key(String, Span),
    /// `<endpoint key-expression="expr"/>`: the named endpoint the expression gives, per message
    /// (SYN `endpoints/ResolvingEndpoint.java`).
    Expression(Expression),
}

/// Parses `<endpoint key=".."/>` as a reference, anything else as an inline endpoint.
pub(crate) fn parse_endpoint_ref(ctx: &Ctx, node: Node) -> Result<EndpointRef> {
    if ctx.attr(node, "key").is_none()
        && let Some(expr) = ctx.expression_attr(node, "key-expression")?
    {
        return Ok(EndpointRef::Expression(expr));
    }
    if let Some(key) = ctx.attr(node, "key") {
        if key.trim().is_empty() {
            return Err(ctx.invalid_attr(node, "key", key, "the name of an endpoint"));
        }
        if key.trim().starts_with('{') {
            return Err(ctx.unsupported(node, "dynamic endpoint key".into(), "Tier 2"));
        }
        return Ok(EndpointRef::Key(
            key.trim().to_string(),
            ctx.attr_span(node, "key"),
        ));
    }
    Ok(EndpointRef::Inline(Box::new(parse_endpoint(
        ctx, node, false,
    )?)))
}

/// Parses an `<endpoint>` element; `named` requires the `name` attribute (top-level artifacts).
pub(crate) fn parse_endpoint(ctx: &Ctx, node: Node, named: bool) -> Result<Endpoint> {
    let span = ctx.span(node);
    let name = match ctx.attr(node, "name") {
        Some(n) if !n.trim().is_empty() => Some(n.trim().to_string()),
        _ if named => return Err(ctx.missing(node, "attribute 'name'", "the endpoint's name")),
        _ => None,
    };
    if let Some(template) = ctx.attr(node, "template") {
        return crate::template::parse_template_endpoint(ctx, node, name, template);
    }
    if ctx.attr(node, "key-expression").is_some() {
        return Err(ctx.unsupported(node, "endpoint key-expression".into(), "Tier 2"));
    }
    if ctx.attr(node, "key").is_some() {
        return Err(ctx.invalid(node, "a named endpoint cannot be a reference (key=)".into()));
    }
    let mut leaf: Option<Node> = None;
    let mut session: Option<Node> = None;
    let mut properties = Vec::new();
    for child in element_children(node) {
        if !is_synapse(child) {
            return Err(ctx.unknown(child, node, "address, http, default or property"));
        }
        match child.tag_name().name() {
            "address" | "http" | "default" => {
                if leaf.is_some() {
                    return Err(ctx.invalid(
                        child,
                        "an endpoint has exactly one of <address>, <http>, <default>".into(),
                    ));
                }
                leaf = Some(child);
            }
            "failover" | "loadbalance" | "recipientlist" => {
                if leaf.is_some() {
                    return Err(ctx.invalid(
                        child,
                        "an endpoint has exactly one of <address>, <http>, <default>, <failover>, <loadbalance>, <recipientlist>".into(),
                    ));
                }
                leaf = Some(child);
            }
            // SYN EndpointFactory.getEndpointFactory: a <session> makes a <loadbalance> the
            // session-affinity one; beside any other child it is not read.
            "session" => session = Some(child),
            "property" => properties.push(parse_endpoint_property(ctx, child)?),
            "wsdl" => {
                if leaf.is_some() {
                    return Err(ctx.invalid(
                        child,
                        "an endpoint has exactly one of <address>, <http>, <default>, <wsdl>"
                            .into(),
                    ));
                }
                leaf = Some(child);
            }
            "parameter" => {
                return Err(ctx.unsupported(
                    child,
                    "endpoint template <parameter>".into(),
                    "Tier 2: templates",
                ));
            }
            _ => {
                return Err(ctx.unknown(
                    child,
                    node,
                    "address, http, default, failover, loadbalance, recipientlist, session or property",
                ));
            }
        }
    }
    let Some(leaf) = leaf else {
        return Err(ctx.missing(
            node,
            "a child <address>, <http>, <default>, <failover>, <loadbalance> or <recipientlist>",
            "",
        ));
    };
    if matches!(
        leaf.tag_name().name(),
        "failover" | "loadbalance" | "recipientlist"
    ) {
        let mut kind = if leaf.tag_name().name() == "recipientlist" {
            parse_recipient_list(ctx, leaf)?
        } else {
            parse_group(ctx, leaf)?
        };
        if let (EndpointKind::Loadbalance { session: slot, .. }, Some(session)) =
            (&mut kind, session)
        {
            *slot = Some(parse_session(ctx, session)?);
        }
        return Ok(Endpoint {
            name,
            kind,
            timeout: None,
            suspend_on_failure: SuspendOnFailure::default(),
            mark_for_suspension: MarkForSuspension::default(),
            retry_disabled_error_codes: Vec::new(),
            retry_enabled_error_codes: Vec::new(),
            properties,
            span,
        });
    }
    let kind = match leaf.tag_name().name() {
        // SYN `AddressEndpointFactory`: the uri is resolved (`$SYSTEM:`...) then trimmed.
        "address" => EndpointKind::Address {
            uri: ctx
                .required_injected_attr(leaf, "uri", "the backend URL")?
                .trim()
                .to_string(),
            format: parse_format(ctx, leaf)?,
            addressing: false,
        },
        // SYN `HTTPEndpointFactory` resolves `uri-template`.
        "http" => EndpointKind::Http {
            uri_template: ctx
                .required_injected_attr(leaf, "uri-template", "the backend URL template")?
                .trim()
                .to_string(),
            method: parse_http_method(ctx, leaf)?,
        },
        "wsdl" => parse_wsdl(ctx, leaf)?,
        _ => EndpointKind::Default {
            format: parse_format(ctx, leaf)?,
        },
    };
    let qos = parse_qos(ctx, leaf)?;
    let mut kind = kind;
    if let EndpointKind::Address { addressing, .. } | EndpointKind::Wsdl { addressing, .. } =
        &mut kind
    {
        *addressing = qos.addressing;
    } else if qos.addressing {
        return Err(ctx.unsupported(
            leaf,
            format!(
                "<enableAddressing> on a <{}> endpoint",
                leaf.tag_name().name()
            ),
            "WS-Addressing is sent by address endpoints only",
        ));
    }
    Ok(Endpoint {
        name,
        kind,
        timeout: qos.timeout,
        suspend_on_failure: qos.suspend_on_failure,
        mark_for_suspension: qos.mark_for_suspension,
        retry_disabled_error_codes: qos.retry_disabled,
        retry_enabled_error_codes: qos.retry_enabled,
        properties,
        span,
    })
}

/// The class names `algorithm=` accepts (SYN `LoadbalanceAlgorithmFactory` loads the class).
const ROUND_ROBIN_CLASS: &str = "org.apache.synapse.endpoints.algorithms.RoundRobin";
const WEIGHTED_ROUND_ROBIN_CLASS: &str =
    "org.apache.synapse.endpoints.algorithms.WeightedRoundRobin";

/// `<failover>` or `<loadbalance>` (SYN `FailoverEndpointFactory`, `LoadbalanceEndpointFactory`).
fn parse_group(ctx: &Ctx, group: Node) -> Result<EndpointKind> {
    let is_failover = group.tag_name().name() == "failover";
    let what = if is_failover {
        "a failover"
    } else {
        "a load-balance group"
    };
    let mut children = Vec::new();
    for child in element_children(group) {
        match child.tag_name().name() {
            "endpoint" if is_synapse(child) => push_sibling(ctx, child, &mut children, what)?,
            "member" if !is_failover && is_synapse(child) => {
                return Err(ctx.unsupported(
                    child,
                    "load-balance <member> (application members)".into(),
                    "Tier 2",
                ));
            }
            _ => return Err(ctx.unknown(child, group, "endpoint")),
        }
    }
    if children.is_empty() {
        return Err(ctx.missing(
            group,
            "child <endpoint> elements",
            &format!("{what} sends to its child endpoints"),
        ));
    }
    // JavaUtils.isTrueExplicitly: anything else is false.
    let build_message = ctx
        .attr(group, "buildMessage")
        .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "yes" | "1"));
    if is_failover {
        // Only an explicit false turns dynamic fail-over off (JavaUtils.isFalseExplicitly).
        let dynamic = !ctx.attr(group, "dynamic").is_some_and(|v| {
            matches!(v.trim().to_ascii_lowercase().as_str(), "false" | "no" | "0")
        });
        return Ok(EndpointKind::Failover {
            children,
            dynamic,
            build_message,
        });
    }
    let algorithm = match (ctx.attr(group, "algorithm"), ctx.attr(group, "policy")) {
        (Some(_), Some(_)) => {
            return Err(ctx.invalid(
                group,
                "<loadbalance> cannot have both 'policy' and 'algorithm' (give only the algorithm)"
                    .into(),
            ));
        }
        (Some(a), None) if a.trim() == ROUND_ROBIN_CLASS => LoadbalanceAlgorithm::RoundRobin,
        (Some(a), None) if a.trim() == WEIGHTED_ROUND_ROBIN_CLASS => {
            // WeightedRoundRobin.init: a weight must be an integer above zero.
            for child in &children {
                let EndpointRef::Inline(e) = child else {
                    continue;
                };
                let Some(p) = e.properties.iter().find(|p| p.name == LOADBALANCE_WEIGHT) else {
                    continue;
                };
                let ok = matches!(&p.value, ValueOrExpression::Value(v) if v.trim().parse::<u32>().is_ok_and(|w| w > 0));
                if !ok {
                    return Err(ctx.invalid(
                        group,
                        format!(
                            "the loadbalance.weight of a child endpoint at {} must be an integer greater than zero",
                            p.span
                        ),
                    ));
                }
            }
            LoadbalanceAlgorithm::WeightedRoundRobin
        }
        (Some(a), None) => {
            return Err(ctx.unsupported(
                group,
                format!("load-balance algorithm {}", a.trim()),
                "Tier 2: only org.apache.synapse.endpoints.algorithms.RoundRobin",
            ));
        }
        (None, Some(p)) if p.trim() == "roundRobin" => LoadbalanceAlgorithm::RoundRobin,
        (None, Some(p)) => {
            return Err(ctx.invalid_attr(group, "policy", p, "roundRobin"));
        }
        (None, None) => LoadbalanceAlgorithm::RoundRobin,
    };
    let failover = !ctx
        .attr(group, "failover")
        .is_some_and(|v| v.eq_ignore_ascii_case("false"));
    Ok(EndpointKind::Loadbalance {
        children,
        algorithm,
        failover,
        build_message,
        session: None,
    })
}

/// `<session type>` with its optional `<sessionTimeout>` (SYN `SALoadbalanceEndpointFactory`: the
/// type is matched ignoring case; the timeout is `Long.parseLong` of the trimmed text, in ms).
fn parse_session(ctx: &Ctx, node: Node) -> Result<SessionAffinity> {
    const TYPES: &str = "http, simpleClientSession or soap";
    let written = ctx.required_attr(node, "type", TYPES)?;
    let kind = match written.trim().to_ascii_lowercase().as_str() {
        "http" => SessionKind::Http,
        "simpleclientsession" => SessionKind::SimpleClientSession,
        "soap" => SessionKind::Soap,
        _ => return Err(ctx.invalid_attr(node, "type", written, TYPES)),
    };
    let mut timeout_ms = None;
    for child in element_children(node) {
        if !is_synapse_named(child, "sessionTimeout") {
            return Err(ctx.unknown(child, node, "sessionTimeout"));
        }
        let text = text_of(child);
        // -1 is Synapse's "not set" (the serializer leaves the element out for it).
        timeout_ms = match text.trim().parse::<i64>() {
            Ok(-1) => None,
            Ok(ms) if ms >= 0 => Some(ms as u64),
            _ => {
                return Err(ctx.invalid_text(
                    child,
                    &text,
                    "milliseconds (0 or more; -1 for the default)",
                ));
            }
        };
    }
    Ok(SessionAffinity {
        kind,
        timeout_ms,
        span: ctx.span(node),
    })
}

/// Adds the `<endpoint>` child `child` of a group or recipient list (`what`) to `children`.
/// EndpointFactory.getEndpoints: "Same endpoint definition cannot be used with in the siblings".
fn push_sibling(ctx: &Ctx, child: Node, children: &mut Vec<EndpointRef>, what: &str) -> Result<()> {
    let r = parse_endpoint_ref(ctx, child)?;
    if let EndpointRef::Key(key, _) = &r
        && children
            .iter()
            .any(|c| matches!(c, EndpointRef::Key(k, _) if k == key))
    {
        return Err(ctx.invalid(
            child,
            format!(
                "endpoint {key} is used twice in {what} (the same endpoint definition cannot be used by siblings)"
            ),
        ));
    }
    children.push(r);
    Ok(())
}

/// `<recipientlist>` (SYN `RecipientListEndpointFactory`): `<endpoint>` children, or one
/// `<endpoints value max-cache>`. MI reads `<member>` elements too (application members on the
/// incoming transport's host and port); Conflux refuses them, as it does for `<loadbalance>`.
fn parse_recipient_list(ctx: &Ctx, list: Node) -> Result<EndpointKind> {
    let mut children = Vec::new();
    let mut dynamic: Option<Node> = None;
    for child in element_children(list) {
        match child.tag_name().name() {
            "endpoint" if is_synapse(child) => {
                push_sibling(ctx, child, &mut children, "a recipient list")?;
            }
            "endpoints" if is_synapse(child) => {
                if dynamic.is_some() {
                    return Err(
                        ctx.invalid(child, "a recipient list has one <endpoints> element".into())
                    );
                }
                dynamic = Some(child);
            }
            "member" if is_synapse(child) => {
                return Err(ctx.unsupported(
                    child,
                    "recipient list <member> (application members)".into(),
                    "Tier 2: give the members as <endpoint> children",
                ));
            }
            _ => return Err(ctx.unknown(child, list, "endpoint or endpoints")),
        }
    }
    let recipients = match (children.is_empty(), dynamic) {
        (false, None) => Recipients::Endpoints(children),
        (true, Some(node)) => {
            let Some(value) = ctx.value_attr(node, "value") else {
                return Err(ctx.missing(
                    node,
                    "attribute 'value'",
                    "the recipients' addresses, separated by commas, or {expression}",
                ));
            };
            // MI reads max-cache with Integer.parseInt and falls back to the default for
            // anything that is not a number or is negative.
            let max_cache = ctx
                .attr(node, "max-cache")
                .and_then(|v| v.trim().parse::<i64>().ok())
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(DEFAULT_RECIPIENT_POOL);
            Recipients::Dynamic { value, max_cache }
        }
        // MI sends to the <endpoint> children and never reads the <endpoints> then.
        (false, Some(node)) => {
            return Err(ctx.invalid(
                node,
                "a recipient list has either <endpoint> children or one <endpoints value>, not both (MI would ignore the <endpoints>)".into(),
            ));
        }
        (true, None) => {
            return Err(ctx.missing(
                list,
                "child <endpoint> elements or an <endpoints value>",
                "a recipient list sends a copy of the message to each member",
            ));
        }
    };
    Ok(EndpointKind::RecipientList { recipients })
}

/// A `<wsdl:definitions>` (or WSDL 2.0 `<description>`) child of a `<wsdl>` leaf.
fn is_inline_wsdl(leaf: Node, child: Node) -> bool {
    leaf.tag_name().name() == "wsdl"
        && matches!(
            (child.tag_name().namespace(), child.tag_name().name()),
            (Some(crate::wsdl::WSDL11_NS), "definitions")
                | (Some(crate::wsdl::WSDL20_NS), "description")
        )
}

/// `<wsdl uri service port>` or `<wsdl service port><wsdl:definitions>..`, as
/// SYN `WSDLEndpointFactory.createEndpoint` reads it (`service`, `port` and `uri` resolved, in
/// that order). An inline document is resolved here, so a wrong service or port is a deploy
/// error; a `uri` document is fetched by the runtime.
fn parse_wsdl(ctx: &Ctx, leaf: Node) -> Result<EndpointKind> {
    let service = ctx
        .required_injected_attr(leaf, "service", "the service name in the WSDL")?
        .trim()
        .to_string();
    let port = ctx
        .required_injected_attr(leaf, "port", "the port name in the WSDL service")?
        .trim()
        .to_string();
    let uri = ctx
        .injected_attr(leaf, "uri")?
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty());
    let inline_doc = element_children(leaf).find(|c| is_inline_wsdl(leaf, *c));
    let inline = match (&uri, inline_doc) {
        (Some(_), _) => None,
        (None, Some(doc)) => Some(
            crate::wsdl::resolve_port(doc, &service, &port)
                .map_err(|why| ctx.invalid(doc, format!("inline WSDL: {why}")))?,
        ),
        (None, None) => {
            return Err(ctx.missing(
                leaf,
                "attribute 'uri' or a child <wsdl:definitions>",
                "the WSDL document",
            ));
        }
    };
    Ok(EndpointKind::Wsdl {
        uri,
        service,
        port,
        inline,
        addressing: false,
    })
}

fn parse_format(ctx: &Ctx, leaf: Node) -> Result<Option<MessageFormat>> {
    let Some(value) = ctx.attr(leaf, "format") else {
        return Ok(None);
    };
    let format = match value.trim() {
        "soap11" => MessageFormat::Soap11,
        "soap12" => MessageFormat::Soap12,
        "pox" => MessageFormat::Pox,
        "rest" => MessageFormat::Rest,
        "get" => MessageFormat::Get,
        _ => {
            return Err(ctx.invalid_attr(
                leaf,
                "format",
                value,
                "soap11, soap12, pox, rest or get",
            ));
        }
    };
    Ok(Some(format))
}

const HTTP_METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"];

fn parse_http_method(ctx: &Ctx, leaf: Node) -> Result<Option<String>> {
    let Some(value) = ctx.attr(leaf, "method") else {
        return Ok(None);
    };
    let upper = value.trim().to_ascii_uppercase();
    if upper.is_empty() {
        return Ok(None);
    }
    if !HTTP_METHODS.contains(&upper.as_str()) {
        return Err(ctx.invalid_attr(
            leaf,
            "method",
            value,
            "GET, POST, PUT, DELETE, HEAD, OPTIONS or PATCH",
        ));
    }
    Ok(Some(upper))
}

fn parse_endpoint_property(ctx: &Ctx, node: Node) -> Result<EndpointProperty> {
    let name = ctx
        .required_attr(node, "name", "the property name")?
        .to_string();
    let value = if let Some(expr) = ctx.expression_attr(node, "expression")? {
        ValueOrExpression::Expression(expr)
    } else if let Some(v) = ctx.attr(node, "value") {
        ValueOrExpression::Value(v.to_string())
    } else {
        return Err(ctx.missing(node, "attribute 'value' or 'expression'", ""));
    };
    Ok(EndpointProperty {
        name,
        value,
        scope: ctx.attr(node, "scope").map(str::to_string),
        span: ctx.span(node),
    })
}

struct Qos {
    timeout: Option<Timeout>,
    suspend_on_failure: SuspendOnFailure,
    mark_for_suspension: MarkForSuspension,
    retry_disabled: Vec<i32>,
    retry_enabled: Vec<i32>,
    /// `<enableAddressing/>`.
    addressing: bool,
}

fn parse_qos(ctx: &Ctx, leaf: Node) -> Result<Qos> {
    let mut qos = Qos {
        timeout: None,
        suspend_on_failure: SuspendOnFailure::default(),
        mark_for_suspension: MarkForSuspension::default(),
        retry_disabled: Vec::new(),
        retry_enabled: Vec::new(),
        addressing: false,
    };
    // The legacy element is read before suspendOnFailure, which overrides it (factory order).
    for child in element_children(leaf) {
        if is_inline_wsdl(leaf, child) {
            continue;
        }
        if !is_synapse(child) {
            return Err(ctx.unknown(child, leaf, "QoS options"));
        }
        match child.tag_name().name() {
            "timeout" => qos.timeout = Some(parse_timeout(ctx, child)?),
            "markForSuspension" => {
                for opt in element_children(child) {
                    match opt.tag_name().name() {
                        "errorCodes" if is_synapse(opt) => {
                            qos.mark_for_suspension.error_codes = parse_codes(ctx, opt)?
                        }
                        "retriesBeforeSuspension" if is_synapse(opt) => {
                            qos.mark_for_suspension.retries_before_suspension =
                                parse_number(ctx, opt)?
                        }
                        "retryDelay" if is_synapse(opt) => {
                            qos.mark_for_suspension.retry_delay_ms = parse_number(ctx, opt)?
                        }
                        _ => {
                            return Err(ctx.unknown(
                                opt,
                                child,
                                "errorCodes, retriesBeforeSuspension or retryDelay",
                            ));
                        }
                    }
                }
            }
            "suspendDurationOnFailure" => {
                // Legacy Synapse 1.2 form: seconds, progression factor 1.
                let seconds: i64 = parse_number(ctx, child)?;
                if seconds >= 0 {
                    qos.suspend_on_failure.initial_duration_ms =
                        (seconds as u64).saturating_mul(1000);
                }
                qos.suspend_on_failure.progression_factor = 1.0;
            }
            "suspendOnFailure" => {}
            "retryConfig" => {
                for opt in element_children(child) {
                    match opt.tag_name().name() {
                        "disabledErrorCodes" if is_synapse(opt) => {
                            qos.retry_disabled = parse_codes(ctx, opt)?
                        }
                        "enabledErrorCodes" if is_synapse(opt) => {
                            qos.retry_enabled = parse_codes(ctx, opt)?
                        }
                        _ => {
                            return Err(ctx.unknown(
                                opt,
                                child,
                                "disabledErrorCodes or enabledErrorCodes",
                            ));
                        }
                    }
                }
            }
            // AddressEndpointFactory / EndpointDefinitionFactory: addressing on the request;
            // `separateListener` (replies on a second channel) has no listener here.
            "enableAddressing" => {
                if ctx.bool_attr(child, "separateListener", false)? {
                    return Err(ctx.unsupported(
                        child,
                        "<enableAddressing separateListener=\"true\">".into(),
                        "replies on a separate listener",
                    ));
                }
                qos.addressing = true;
            }
            "enableSec" => {
                return Err(ctx.unsupported(
                    child,
                    "endpoint <enableSec>".into(),
                    "Tier 3: WS-Security",
                ));
            }
            "enableRM" => {
                return Err(ctx.unsupported(
                    child,
                    "endpoint <enableRM>".into(),
                    "Tier 3: WS-ReliableMessaging",
                ));
            }
            "authentication" => {
                return Err(ctx.unsupported(child, "endpoint <authentication>".into(), "Tier 2"));
            }
            _ => {
                return Err(ctx.unknown(
                    child,
                    leaf,
                    "timeout, suspendOnFailure, markForSuspension, retryConfig",
                ));
            }
        }
    }
    if let Some(child) = element_children(leaf).find(|c| is_synapse_named(*c, "suspendOnFailure")) {
        for opt in element_children(child) {
            match opt.tag_name().name() {
                "errorCodes" if is_synapse(opt) => {
                    qos.suspend_on_failure.error_codes = parse_codes(ctx, opt)?
                }
                "initialDuration" if is_synapse(opt) => {
                    // MI stores -1 as "unset"; any negative value keeps the default.
                    let ms: i64 = parse_number(ctx, opt)?;
                    if ms >= 0 {
                        qos.suspend_on_failure.initial_duration_ms = ms as u64;
                    }
                }
                "progressionFactor" if is_synapse(opt) => {
                    let text = text_of(opt);
                    let factor: f64 = text
                        .trim()
                        .parse()
                        .map_err(|_| ctx.invalid_text(opt, &text, "a decimal number"))?;
                    if !factor.is_finite() {
                        return Err(ctx.invalid_text(opt, &text, "a finite decimal number"));
                    }
                    qos.suspend_on_failure.progression_factor = factor;
                }
                "maximumDuration" if is_synapse(opt) => {
                    let ms: i64 = parse_number(ctx, opt)?;
                    qos.suspend_on_failure.maximum_duration_ms = u64::try_from(ms).ok();
                }
                _ => {
                    return Err(ctx.unknown(
                        opt,
                        child,
                        "errorCodes, initialDuration, progressionFactor or maximumDuration",
                    ));
                }
            }
        }
    }
    Ok(qos)
}

fn parse_timeout(ctx: &Ctx, node: Node) -> Result<Timeout> {
    let mut timeout = Timeout {
        duration: None,
        response_action: ResponseAction::Never,
    };
    for child in element_children(node) {
        match child.tag_name().name() {
            "duration" if is_synapse(child) => {
                let text = text_of(child);
                let trimmed = text.trim();
                timeout.duration = Some(
                    if trimmed.starts_with('{') && trimmed.ends_with('}') && trimmed.len() >= 2 {
                        let inner = &trimmed[1..trimmed.len() - 1];
                        TimeoutDuration::Dynamic(ctx.expression(child, inner, ctx.span(child)))
                    } else {
                        TimeoutDuration::Millis(trimmed.parse().map_err(|_| {
                            ctx.invalid_text(child, &text, "milliseconds or {expression}")
                        })?)
                    },
                );
            }
            "responseAction" if is_synapse(child) => {
                let text = text_of(child);
                timeout.response_action = match text.trim().to_ascii_lowercase().as_str() {
                    "fault" => ResponseAction::Fault,
                    "discard" => ResponseAction::Discard,
                    // Only discard and fault are accepted by EndpointDefinitionFactory.
                    _ => return Err(ctx.invalid_text(child, &text, "fault or discard")),
                };
            }
            // WSO2 ESB 3.x wrote `<action>`; MI's EndpointDefinitionFactory reads only
            // `responseAction`, so `<action>` has no effect there and deploys (ESBCApp-3.2.2.car).
            "action" if is_synapse(child) => {}
            _ => return Err(ctx.unknown(child, node, "duration or responseAction")),
        }
    }
    Ok(timeout)
}

/// Comma/space separated integers (`StringTokenizer(text, ", ")` in the factory).
fn parse_codes(ctx: &Ctx, node: Node) -> Result<Vec<i32>> {
    let text = text_of(node);
    text.split([',', ' ', '\t', '\n', '\r'])
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| ctx.invalid_text(node, &text, "error codes separated by commas"))
        })
        .collect()
}

fn parse_number<T: std::str::FromStr>(ctx: &Ctx, node: Node) -> Result<T> {
    let text = text_of(node);
    text.trim()
        .parse()
        .map_err(|_| ctx.invalid_text(node, &text, "an integer"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::{Artifact, parse_artifact};

    fn endpoint(xml: &str) -> Endpoint {
        match parse_artifact("endpoints/E.xml", xml) {
            Ok(Artifact::Endpoint(e)) => e,
            other => panic!("expected endpoint, got {other:?}"),
        }
    }

    fn error(xml: &str) -> String {
        parse_artifact("endpoints/E.xml", xml)
            .unwrap_err()
            .to_string()
    }

    const NS: &str = r#"xmlns="http://ws.apache.org/ns/synapse""#;

    #[test]
    fn address_endpoint_with_mi_defaults() {
        let e = endpoint(&format!(
            r#"<endpoint {NS} name="E"><address uri="http://b/svc"/></endpoint>"#
        ));
        assert_eq!(e.name.as_deref(), Some("E"));
        assert_eq!(
            e.kind,
            EndpointKind::Address {
                uri: "http://b/svc".into(),
                format: None,
                addressing: false,
            }
        );
        assert_eq!(e.timeout, None);
        assert_eq!(e.suspend_on_failure, SuspendOnFailure::default());
        assert_eq!(e.suspend_on_failure.initial_duration_ms, 30_000);
        assert_eq!(e.mark_for_suspension.error_codes, vec![101504, 101505]);
        assert_eq!(e.span.to_string(), "endpoints/E.xml:1:1");
    }

    #[test]
    fn http_endpoint_with_qos() {
        let e = endpoint(&format!(
            r#"<endpoint {NS} name="E"><http method="get" uri-template="http://b/{{uri.var.id}}">
  <timeout><duration>{{get-property('t')}}</duration><responseAction>Fault</responseAction></timeout>
  <suspendOnFailure><errorCodes>-1</errorCodes><initialDuration>0</initialDuration>
    <progressionFactor>2.0</progressionFactor><maximumDuration>60000</maximumDuration></suspendOnFailure>
  <markForSuspension><errorCodes>101504, 101505,101507</errorCodes><retriesBeforeSuspension>3</retriesBeforeSuspension><retryDelay>10</retryDelay></markForSuspension>
</http></endpoint>"#
        ));
        assert_eq!(
            e.kind,
            EndpointKind::Http {
                uri_template: "http://b/{uri.var.id}".into(),
                method: Some("GET".into())
            }
        );
        let t = e.timeout.unwrap();
        assert_eq!(t.response_action, ResponseAction::Fault);
        assert!(
            matches!(t.duration, Some(TimeoutDuration::Dynamic(ref x)) if x.text == "get-property('t')")
        );
        assert_eq!(e.suspend_on_failure.error_codes, vec![-1]);
        assert_eq!(e.suspend_on_failure.initial_duration_ms, 0);
        assert_eq!(e.suspend_on_failure.progression_factor, 2.0);
        assert_eq!(e.suspend_on_failure.maximum_duration_ms, Some(60_000));
        assert_eq!(
            e.mark_for_suspension.error_codes,
            vec![101504, 101505, 101507]
        );
        assert_eq!(e.mark_for_suspension.retries_before_suspension, 3);
        assert_eq!(e.mark_for_suspension.retry_delay_ms, 10);
    }

    #[test]
    fn legacy_suspend_duration_is_seconds() {
        let e = endpoint(&format!(
            r#"<endpoint {NS} name="E"><default format="soap11"><suspendDurationOnFailure>5</suspendDurationOnFailure></default></endpoint>"#
        ));
        assert_eq!(
            e.kind,
            EndpointKind::Default {
                format: Some(MessageFormat::Soap11)
            }
        );
        assert_eq!(e.suspend_on_failure.initial_duration_ms, 5_000);
    }

    #[test]
    fn located_errors() {
        let msg = error(&format!(
            "<endpoint {NS} name=\"E\">\n  <recipientlist/></endpoint>"
        ));
        assert_eq!(
            msg,
            "<recipientlist> requires child <endpoint> elements or an <endpoints value>: a recipient list sends a copy of the message to each member at endpoints/E.xml:2:3"
        );
        let msg = error(&format!(
            "<endpoint {NS} name=\"E\"><address uri=\"http://x\"><timeout><responseAction>never</responseAction></timeout></address></endpoint>"
        ));
        assert!(msg.starts_with("invalid value \"never\" for text of <responseAction>: expected fault or discard at endpoints/E.xml:1:"), "{msg}");
        // ESB 3.x's `<action>` is ignored, as MI's factory ignores it.
        let legacy = endpoint(&format!(
            "<endpoint {NS} name=\"E\"><address uri=\"http://x\"><timeout><duration>0</duration><action>discard</action></timeout></address></endpoint>"
        ));
        assert_eq!(legacy.name.as_deref(), Some("E"));
        let msg = error(&format!(
            "<endpoint {NS}><address uri=\"http://x\"/></endpoint>"
        ));
        assert!(msg.contains("requires attribute 'name'"), "{msg}");
        let msg = error(&format!(
            "<endpoint {NS} name=\"E\"><address format=\"json\" uri=\"http://x\"/></endpoint>"
        ));
        assert!(msg.contains("attribute 'format' of <address>"), "{msg}");
        let msg = error(&format!(
            "<endpoint {NS} name=\"E\"><address uri=\"http://x\"><enableAddressing separateListener=\"true\"/></address></endpoint>"
        ));
        assert!(
            msg.starts_with("unsupported <enableAddressing separateListener"),
            "{msg}"
        );
        let e = endpoint(&format!(
            "<endpoint {NS} name=\"E\"><address uri=\"http://x\"><enableAddressing/></address></endpoint>"
        ));
        assert!(matches!(
            e.kind,
            EndpointKind::Address {
                addressing: true,
                ..
            }
        ));
    }

    #[test]
    fn failover_group_with_inline_and_key_children() {
        let e = endpoint(&format!(
            r#"<endpoint {NS} name="FO"><failover buildMessage="true">
  <endpoint name="a"><address uri="http://a/svc"><suspendOnFailure><initialDuration>2000</initialDuration></suspendOnFailure></address></endpoint>
  <endpoint key="B"/>
</failover><property name="p" value="v"/></endpoint>"#
        ));
        let EndpointKind::Failover {
            children,
            dynamic,
            build_message,
        } = &e.kind
        else {
            panic!("{:?}", e.kind)
        };
        assert!(*dynamic);
        assert_eq!(*build_message, Some(true));
        assert_eq!(children.len(), 2);
        match &children[0] {
            EndpointRef::Inline(a) => {
                assert_eq!(a.name.as_deref(), Some("a"));
                assert_eq!(a.suspend_on_failure.initial_duration_ms, 2000);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&children[1], EndpointRef::Key(k, _) if k == "B"));
        assert_eq!(e.kind.children().len(), 2);
        assert_eq!(e.properties.len(), 1);

        let e = endpoint(&format!(
            r#"<endpoint {NS} name="FO"><failover dynamic="false"><endpoint key="B"/></failover></endpoint>"#
        ));
        assert!(matches!(
            e.kind,
            EndpointKind::Failover {
                dynamic: false,
                build_message: None,
                ..
            }
        ));
    }

    #[test]
    fn loadbalance_group_algorithms() {
        // Round robin is the default; a misspelt attribute is ignored, as Synapse ignores it.
        for attrs in [
            "",
            r#"algorithm="org.apache.synapse.endpoints.algorithms.RoundRobin""#,
            r#"policy="roundRobin""#,
            r#"alogorithm="org.apache.synapse.endpoints.algorithms.WeightedRoundRobin""#,
        ] {
            let e = endpoint(&format!(
                r#"<endpoint {NS} name="LB"><loadbalance {attrs}><endpoint key="A"/><endpoint><http uri-template="http://b/{{uri.var.x}}"/></endpoint></loadbalance></endpoint>"#
            ));
            let EndpointKind::Loadbalance {
                children,
                algorithm,
                failover,
                build_message,
                session: None,
            } = &e.kind
            else {
                panic!("{:?}", e.kind)
            };
            assert_eq!(*algorithm, LoadbalanceAlgorithm::RoundRobin, "{attrs}");
            assert!(*failover);
            assert_eq!(*build_message, None);
            assert_eq!(children.len(), 2);
        }
        let e = endpoint(&format!(
            r#"<endpoint {NS} name="LB"><loadbalance failover="false" buildMessage="false"><endpoint key="A"/></loadbalance></endpoint>"#
        ));
        assert!(matches!(
            e.kind,
            EndpointKind::Loadbalance {
                failover: false,
                build_message: Some(false),
                ..
            }
        ));
    }

    #[test]
    fn group_errors_are_located() {
        let msg = error(&format!(
            "<endpoint {NS} name=\"E\">\n  <failover/></endpoint>"
        ));
        assert!(
            msg.contains("child <endpoint> elements") && msg.ends_with("at endpoints/E.xml:2:3"),
            "{msg}"
        );
        let msg = error(&format!(
            r#"<endpoint {NS} name="E"><failover><endpoint key="A"/><endpoint key="A"/></failover></endpoint>"#
        ));
        assert!(msg.contains("endpoint A is used twice"), "{msg}");
        let msg = error(&format!(
            r#"<endpoint {NS} name="E"><loadbalance algorithm="org.example.Custom"><endpoint key="A"/></loadbalance></endpoint>"#
        ));
        assert!(
            msg.starts_with("unsupported load-balance algorithm org.example.Custom"),
            "{msg}"
        );
        let msg = error(&format!(
            r#"<endpoint {NS} name="E"><loadbalance algorithm="org.apache.synapse.endpoints.algorithms.WeightedRoundRobin"><endpoint><address uri="http://a"/><property name="loadbalance.weight" value="0"/></endpoint></loadbalance></endpoint>"#
        ));
        assert!(
            msg.contains("must be an integer greater than zero"),
            "{msg}"
        );
        let e = endpoint(&format!(
            r#"<endpoint {NS} name="E"><loadbalance algorithm="org.apache.synapse.endpoints.algorithms.WeightedRoundRobin"><endpoint><address uri="http://a"/><property name="loadbalance.weight" value="3"/></endpoint><endpoint key="B"/></loadbalance></endpoint>"#
        ));
        assert!(matches!(
            e.kind,
            EndpointKind::Loadbalance {
                algorithm: LoadbalanceAlgorithm::WeightedRoundRobin,
                ..
            }
        ));
        let msg = error(&format!(
            "<endpoint {NS} name=\"E\"><session type=\"cookie\"/><loadbalance><endpoint key=\"A\"/></loadbalance></endpoint>"
        ));
        assert!(
            msg.starts_with("invalid value \"cookie\" for attribute 'type' of <session>: expected http, simpleClientSession or soap"),
            "{msg}"
        );
        let msg = error(&format!(
            r#"<endpoint {NS} name="E"><loadbalance><member hostName="h" httpPort="1"/></loadbalance></endpoint>"#
        ));
        assert!(
            msg.starts_with("unsupported load-balance <member>"),
            "{msg}"
        );
        let msg = error(&format!(
            r#"<endpoint {NS} name="E"><address uri="http://x"/><failover><endpoint key="A"/></failover></endpoint>"#
        ));
        assert!(msg.contains("exactly one of"), "{msg}");
        let msg = error(&format!(
            r#"<endpoint {NS} name="E"><failover><endpoint><failover><endpoint><recipientlist><member hostName="h" httpPort="1"/></recipientlist></endpoint></failover></endpoint></failover></endpoint>"#
        ));
        assert!(
            msg.starts_with("unsupported recipient list <member>"),
            "{msg}"
        );
    }

    /// SYN `RecipientListEndpointFactory`: `<endpoint>` children, or `<endpoints value max-cache>`
    /// (MI samples 60-62: `value="{get-property('EP_LIST')}" max-cache="20"`).
    #[test]
    fn recipient_list_static_and_dynamic() {
        let e = endpoint(&format!(
            r#"<endpoint {NS} name="RL"><recipientlist>
  <endpoint><address uri="http://a/svc"/></endpoint>
  <endpoint key="B"/>
</recipientlist></endpoint>"#
        ));
        let EndpointKind::RecipientList {
            recipients: Recipients::Endpoints(children),
        } = &e.kind
        else {
            panic!("{:?}", e.kind)
        };
        assert_eq!(children.len(), 2);
        assert!(matches!(&children[1], EndpointRef::Key(k, _) if k == "B"));
        assert_eq!(e.kind.children().len(), 2);

        let e = endpoint(&format!(
            r#"<endpoint {NS} name="RL"><recipientlist><endpoints value="{{get-property('EP_LIST')}}" max-cache="5"/></recipientlist></endpoint>"#
        ));
        let EndpointKind::RecipientList {
            recipients: Recipients::Dynamic { value, max_cache },
        } = &e.kind
        else {
            panic!("{:?}", e.kind)
        };
        assert!(matches!(value, Value::Dynamic(x) if x.text == "get-property('EP_LIST')"));
        assert_eq!(*max_cache, 5);
        assert!(e.kind.children().is_empty());
        // A literal list, and a max-cache that is not a number: MI's default pool of 20.
        for cache in ["", r#"max-cache="lots""#, r#"max-cache="-3""#] {
            let e = endpoint(&format!(
                r#"<endpoint {NS} name="RL"><recipientlist><endpoints value="http://a/x, http://b/y" {cache}/></recipientlist></endpoint>"#
            ));
            assert!(
                matches!(&e.kind, EndpointKind::RecipientList { recipients: Recipients::Dynamic { value: Value::Literal(v, _), max_cache: DEFAULT_RECIPIENT_POOL } } if v == "http://a/x, http://b/y"),
                "{cache}: {:?}",
                e.kind
            );
        }
    }

    #[test]
    fn recipient_list_errors_are_located() {
        let msg = error(&format!(
            "<endpoint {NS} name=\"E\"><recipientlist>\n<endpoints max-cache=\"2\"/></recipientlist></endpoint>"
        ));
        assert_eq!(
            msg,
            "<endpoints> requires attribute 'value': the recipients' addresses, separated by commas, or {expression} at endpoints/E.xml:2:1"
        );
        let msg = error(&format!(
            r#"<endpoint {NS} name="E"><recipientlist><endpoint key="A"/><endpoints value="http://x"/></recipientlist></endpoint>"#
        ));
        assert!(
            msg.contains("either <endpoint> children or one <endpoints value>"),
            "{msg}"
        );
        let msg = error(&format!(
            r#"<endpoint {NS} name="E"><recipientlist><endpoint key="A"/><endpoint key="A"/></recipientlist></endpoint>"#
        ));
        assert!(
            msg.contains("endpoint A is used twice in a recipient list"),
            "{msg}"
        );
        for (group, what) in [
            ("failover", "a failover"),
            ("loadbalance", "a load-balance group"),
        ] {
            let msg = error(&format!(
                r#"<endpoint {NS} name="E"><{group}><endpoint key="A"/><endpoint key="A"/></{group}></endpoint>"#
            ));
            assert!(
                msg.contains(&format!("endpoint A is used twice in {what} (the same")),
                "{msg}"
            );
        }
        let msg = error(&format!(
            r#"<endpoint {NS} name="E"><recipientlist><target/></recipientlist></endpoint>"#
        ));
        assert!(msg.contains("expected endpoint or endpoints"), "{msg}");
        let msg = error(&format!(
            r#"<endpoint {NS} name="E"><address uri="http://x"/><recipientlist><endpoint key="A"/></recipientlist></endpoint>"#
        ));
        assert!(msg.contains("exactly one of"), "{msg}");
    }

    /// SYN `SALoadbalanceEndpointFactory` and `SALoadbalanceEndpointSerializer`: the three
    /// dispatchers by `type` (any case), `<sessionTimeout>` in ms (-1: unset).
    #[test]
    fn loadbalance_session_affinity() {
        for (written, inner, expected, timeout) in [
            ("http", "", SessionKind::Http, None),
            (
                "HTTP",
                "<sessionTimeout> 5000 </sessionTimeout>",
                SessionKind::Http,
                Some(5000),
            ),
            (
                "simpleClientSession",
                "<sessionTimeout>-1</sessionTimeout>",
                SessionKind::SimpleClientSession,
                None,
            ),
            (
                "soap",
                "<sessionTimeout>0</sessionTimeout>",
                SessionKind::Soap,
                Some(0),
            ),
        ] {
            let e = endpoint(&format!(
                r#"<endpoint {NS} name="SA"><session type="{written}">{inner}</session><loadbalance algorithm="org.apache.synapse.endpoints.algorithms.RoundRobin"><endpoint key="A"/><endpoint key="B"/></loadbalance></endpoint>"#
            ));
            let EndpointKind::Loadbalance {
                session: Some(session),
                children,
                ..
            } = &e.kind
            else {
                panic!("{written}: {:?}", e.kind)
            };
            assert_eq!(session.kind, expected, "{written}");
            assert_eq!(session.timeout_ms, timeout, "{written}");
            assert_eq!(children.len(), 2);
        }
        // Without <session>, a plain load balancer; beside another endpoint kind, not read.
        let e = endpoint(&format!(
            r#"<endpoint {NS} name="LB"><loadbalance><endpoint key="A"/></loadbalance></endpoint>"#
        ));
        assert!(matches!(
            e.kind,
            EndpointKind::Loadbalance { session: None, .. }
        ));
        let e = endpoint(&format!(
            r#"<endpoint {NS} name="F"><session type="http"/><failover><endpoint key="A"/></failover></endpoint>"#
        ));
        assert!(matches!(e.kind, EndpointKind::Failover { .. }));
        let msg = error(&format!(
            "<endpoint {NS} name=\"E\"><session type=\"http\">\n<sessionTimeout>soon</sessionTimeout></session><loadbalance><endpoint key=\"A\"/></loadbalance></endpoint>"
        ));
        assert_eq!(
            msg,
            "invalid value \"soon\" for text of <sessionTimeout>: expected milliseconds (0 or more; -1 for the default) at endpoints/E.xml:2:1"
        );
        let msg = error(&format!(
            r#"<endpoint {NS} name="E"><session/><loadbalance><endpoint key="A"/></loadbalance></endpoint>"#
        ));
        assert!(msg.contains("<session> requires attribute 'type'"), "{msg}");
    }

    #[test]
    fn wsdl_endpoint_by_uri_or_inline() {
        let e = endpoint(&format!(
            r#"<endpoint {NS} name="W"><wsdl uri=" http://localhost:9000/services/SimpleStockQuoteService?wsdl" service="SimpleStockQuoteService" port="SimpleStockQuoteServiceHttpSoap11Endpoint"><timeout><duration>5000</duration></timeout></wsdl></endpoint>"#
        ));
        assert_eq!(
            e.kind,
            EndpointKind::Wsdl {
                uri: Some("http://localhost:9000/services/SimpleStockQuoteService?wsdl".into()),
                service: "SimpleStockQuoteService".into(),
                port: "SimpleStockQuoteServiceHttpSoap11Endpoint".into(),
                inline: None,
                addressing: false,
            }
        );
        assert!(e.timeout.is_some());
        let e = endpoint(&format!(
            r#"<endpoint {NS} name="W"><wsdl service="S" port="P"><enableAddressing/><wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/" targetNamespace="urn:t"><wsdl:service name="S"><wsdl:port name="P" binding="b"><soap12:address location="http://b/s"/></wsdl:port></wsdl:service></wsdl:definitions></wsdl></endpoint>"#
        ));
        let EndpointKind::Wsdl {
            inline: Some(port),
            addressing: true,
            ..
        } = e.kind
        else {
            panic!("{:?}", e.kind);
        };
        assert_eq!(port.address, "http://b/s");
        assert_eq!(port.format, MessageFormat::Soap12);
    }

    #[test]
    fn wsdl_endpoint_errors() {
        let msg = error(&format!(
            r#"<endpoint {NS} name="W"><wsdl service="S" port="P"/></endpoint>"#
        ));
        assert!(
            msg.contains("attribute 'uri' or a child <wsdl:definitions>"),
            "{msg}"
        );
        let msg = error(&format!(
            r#"<endpoint {NS} name="W"><wsdl uri="http://x?wsdl" port="P"/></endpoint>"#
        ));
        assert!(msg.contains("'service'"), "{msg}");
        let msg = error(&format!(
            r#"<endpoint {NS} name="W"><wsdl service="S" port="Q">
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"><service name="S"/></definitions></wsdl></endpoint>"#
        ));
        assert!(
            msg.contains("inline WSDL: Couldn't retrieve endpoint information"),
            "{msg}"
        );
        assert!(msg.ends_with("endpoints/E.xml:2:1"), "{msg}");
    }

    /// Values for the injected-value tests: `$SYSTEM:` reads `env`, `$FILE:` the file
    /// properties, `$config:`/`${configs.}` declared names (env, then -D, then the file).
    fn injected_values() -> crate::inject::ProcessValues {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        crate::inject::ProcessValues::from_parts(
            map(&[("BACKEND", " http://env-backend/svc "), ("EMPTY", "")]),
            map(&[("port_name", "SimpleStockQuoteServiceHttpSoap11Endpoint")]),
            map(&[
                ("wsdl_url", "http://file-host/svc?wsdl"),
                ("http_url", "http://file-host/{uri.var.id}"),
                ("service_name", "SimpleStockQuoteService"),
            ]),
            ["port_name", "service_name", "http_url"]
                .into_iter()
                .map(String::from)
                .collect(),
        )
    }

    fn endpoint_with(xml: &str) -> std::result::Result<Endpoint, String> {
        match crate::artifact::parse_artifact_with("endpoints/E.xml", xml, &injected_values()) {
            Ok(Artifact::Endpoint(e)) => Ok(e),
            Ok(other) => panic!("expected endpoint, got {other:?}"),
            Err(e) => Err(e.to_string()),
        }
    }

    /// SYN `config/xml/endpoints/AddressEndpointFactory.java`, `HTTPEndpointFactory.java` and
    /// `WSDLEndpointFactory.java` pass `uri`, `uri-template`, `service` and `port` through
    /// `ResolverFactory` (SystemResolver, FilePropertyResolver/FilePropertyLoader, ConfigResolver).
    #[test]
    fn resolver_factory_in_address_http_and_wsdl_endpoints() {
        let e = endpoint_with(&format!(
            r#"<endpoint {NS} name="E"><address uri="$SYSTEM:BACKEND"/></endpoint>"#
        ))
        .unwrap();
        assert!(
            matches!(&e.kind, EndpointKind::Address { uri, .. } if uri == "http://env-backend/svc"),
            "{:?}",
            e.kind
        );
        for form in ["$FILE:http_url", "$config:http_url", "${configs.http_url}"] {
            let e = endpoint_with(&format!(
                r#"<endpoint {NS} name="E"><http method="GET" uri-template="{form}"/></endpoint>"#
            ))
            .unwrap();
            assert!(
                matches!(&e.kind, EndpointKind::Http { uri_template, .. } if uri_template == "http://file-host/{uri.var.id}"),
                "{form}: {:?}",
                e.kind
            );
        }
        let e = endpoint_with(&format!(
            r#"<endpoint {NS} name="W"><wsdl uri="$FILE:wsdl_url" service="$configs:service_name" port="${{configs.port_name}}"/></endpoint>"#
        ))
        .unwrap();
        assert_eq!(
            e.kind,
            EndpointKind::Wsdl {
                uri: Some("http://file-host/svc?wsdl".into()),
                service: "SimpleStockQuoteService".into(),
                port: "SimpleStockQuoteServiceHttpSoap11Endpoint".into(),
                inline: None,
                addressing: false,
            }
        );
        // Only values starting with a prefix are resolved; the rest stays as written.
        let e = endpoint_with(&format!(
            r#"<endpoint {NS} name="E"><address uri="http://h/$SYSTEM:BACKEND"/><property name="p" value="$SYSTEM:NOPE"/></endpoint>"#
        ))
        .unwrap();
        assert!(
            matches!(&e.kind, EndpointKind::Address { uri, .. } if uri == "http://h/$SYSTEM:BACKEND")
        );
        // parse_artifact resolves nothing.
        let e = endpoint(&format!(
            r#"<endpoint {NS} name="E"><address uri="$SYSTEM:NOPE"/></endpoint>"#
        ));
        assert!(matches!(&e.kind, EndpointKind::Address { uri, .. } if uri == "$SYSTEM:NOPE"));
    }

    /// SYN `resolvers/ResolverException`: a value that cannot be resolved fails the endpoint.
    #[test]
    fn unresolvable_values_are_located_at_their_attribute() {
        assert_eq!(
            endpoint_with(&format!(
                "<endpoint {NS} name=\"E\">\n  <address uri=\"$SYSTEM:NOPE\"/></endpoint>"
            ))
            .unwrap_err(),
            "cannot resolve \"$SYSTEM:NOPE\" in attribute 'uri' of <address>: environment variable NOPE could not be found at endpoints/E.xml:2:12"
        );
        assert_eq!(
            endpoint_with(&format!(
                "<endpoint {NS} name=\"E\">\n<http uri-template=\"$FILE:nope\"/></endpoint>"
            ))
            .unwrap_err(),
            "cannot resolve \"$FILE:nope\" in attribute 'uri-template' of <http>: file parameter key nope could not be found at endpoints/E.xml:2:7"
        );
        // Set in the file but not declared in a config.properties.
        let msg = endpoint_with(&format!(
            "<endpoint {NS} name=\"W\">\n<wsdl uri=\"http://x?wsdl\" service=\"S\" port=\"${{configs.wsdl_url}}\"/></endpoint>"
        ))
        .unwrap_err();
        assert!(
            msg.starts_with("cannot resolve \"${configs.wsdl_url}\" in attribute 'port' of <wsdl>: configuration parameter wsdl_url could not be found; declare it in config.properties")
                && msg.ends_with("at endpoints/E.xml:2:39"),
            "{msg}"
        );
        assert_eq!(
            endpoint_with(&format!(
                r#"<endpoint {NS} name="E"><address uri="$SYSTEM:EMPTY"/></endpoint>"#
            ))
            .unwrap_err(),
            "invalid value \"$SYSTEM:EMPTY\" for attribute 'uri' of <address>: expected the backend URL (it resolved to an empty value) at endpoints/E.xml:1:69"
        );
    }

    /// Inline endpoints of mediators go through the same factories (SYN `CallMediatorFactory`
    /// -> `EndpointFactory`), so their values resolve too.
    #[test]
    fn inline_endpoints_in_apis_resolve() {
        let xml = format!(
            r#"<api {NS} name="A" context="/a"><resource methods="GET"><inSequence>
<call><endpoint><http uri-template="${{configs.http_url}}/ignored"/></endpoint></call>
<send><endpoint><address uri="$SYSTEM:BACKEND"/></endpoint></send></inSequence></resource></api>"#
        );
        let Ok(Artifact::Api(api)) =
            crate::artifact::parse_artifact_with("api/A.xml", &xml, &injected_values())
        else {
            panic!("not an api")
        };
        let crate::SequenceRef::Inline(seq) = &api.resources[0].in_sequence else {
            panic!("no inline inSequence")
        };
        let mut addresses = Vec::new();
        crate::walk_mediators(&seq.mediators, &mut |m| {
            let endpoint = match m {
                crate::Mediator::Call(c) => c.endpoint.as_ref(),
                crate::Mediator::Send(s) => s.endpoint.as_ref(),
                _ => None,
            };
            if let Some(EndpointRef::Inline(e)) = endpoint {
                addresses.push(match &e.kind {
                    EndpointKind::Http { uri_template, .. } => uri_template.clone(),
                    EndpointKind::Address { uri, .. } => uri.clone(),
                    other => format!("{other:?}"),
                });
            }
        });
        // `${configs.x}/ignored`: the match replaces the whole value, as in MI.
        assert_eq!(
            addresses,
            ["http://file-host/{uri.var.id}", "http://env-backend/svc"]
        );
        let err = crate::artifact::parse_artifact_with(
            "api/A.xml",
            &xml.replace("$SYSTEM:BACKEND", "$SYSTEM:GONE"),
            &injected_values(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("environment variable GONE could not be found at api/A.xml:3:"),
            "{err}"
        );
    }
}
