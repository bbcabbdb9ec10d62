//! The direct path: the routes MI users write most, run without the sequence machinery (issue 22).
//!
//! A route is classified once, when the deployment is built ([`classify`], stored on the
//! [`Route`] as its [`DirectPlan`]). A route takes the direct path when nothing on it reads or
//! changes the message content and nothing on it decides the flow per message:
//!
//! - an in-sequence that ends in a `<send>` to an endpoint (or a proxy with only a `<target>`);
//!   an out-sequence that is absent, empty, or ends in `<send/>` / `<respond/>` (the reply goes
//!   back as it came);
//! - an in-sequence that is `<call>` to an endpoint followed by `<respond/>` (the VS Code
//!   extension's default);
//! - before the send, and between the reply and the answer: `<log>` at `simple` or `custom` level
//!   without a message template, whose properties are literals or transport headers (SYN
//!   `LogMediator.getSimpleLogMessage` reads To, From, WSAction, SOAPAction, ReplyTo, MessageID
//!   and Direction: no content), and `<property scope="transport">` sets with a literal or a
//!   transport header value, and removes;
//! - a fault sequence that is absent or empty (the tooling default).
//!
//! The direct run ([`Engine::run_direct`]) applies the same mediators, through the same functions,
//! in the same order as the general flow in runtime/engine.rs, so status, headers, body, log lines
//! and metrics are the same; what it skips is boxing a future per step and walking the sequences.
//! Every failure (a send that fails, a mediator error) goes to the general fault machinery
//! (`Engine::handle_fault`), which runs the route's (empty) fault sequence as the general flow
//! does. Anything else — a log at `full` level, a property read from the body or in another
//! scope, a non-empty fault sequence, `<send receive>`, a recipient list — takes the general flow.
//!
//! Content-based routing on a JSON field ([`json_filter`], [`JsonFilterRoute`]) is planned here
//! too, for the Conflux HTTP/1 engine's router, which forwards a request whose body takes the
//! `then` branch; mediation runs such a route as the general flow.
//!
//! Each direct run writes a DEBUG event under the target [`DIRECT_TARGET`] (off by default; a
//! test turns it on with `CONFLUX_LOG=conflux::direct=debug` to see which path a request took).

use std::sync::Arc;

use http::Response;

use crate::json::{JsonEval, JsonSource};
use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope, props};
use crate::runtime::endpoint::{Endpoint, EndpointKind, TimeoutAction, error_codes};
use crate::runtime::engine::{
    Engine, Fault, Route, Sequence, accepted, become_response, response_from,
};
use crate::runtime::mediators::{
    Condition, Header, HeaderContent, HeaderTarget, Log, LogLevel, Mediator, Property,
    PropertyAction, PropertyName, Send,
};
use crate::runtime::payload::parse_json_body;
use crate::runtime::value::ValueSource;

/// The `tracing` target of the per-request event that says a request took the direct path.
pub const DIRECT_TARGET: &str = "conflux::direct";

/// How the engine runs a route, decided when the deployment is built.
#[derive(Debug, Clone, Default)]
pub enum DirectPlan {
    /// The general flow: sequences run mediator by mediator.
    #[default]
    General,
    /// The direct path.
    Direct(Arc<DirectRoute>),
}

/// Which idiom a direct route is (named in the debug events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idiom {
    /// `<send>` to an endpoint as the in-sequence's last mediator.
    Send,
    /// A proxy's `<target>` endpoint after the in-sequence.
    Target,
    /// `<call>` to an endpoint, then `<respond/>`.
    CallRespond,
}

impl Idiom {
    pub fn as_str(self) -> &'static str {
        match self {
            Idiom::Send => "send",
            Idiom::Target => "target",
            Idiom::CallRespond => "call+respond",
        }
    }
}

/// A route the direct path runs: header-level steps, one send, header-level steps on the reply.
#[derive(Debug, Clone)]
pub struct DirectRoute {
    pub idiom: Idiom,
    /// Applied to the request, in order, before the send.
    pub before: Vec<Mediator>,
    pub endpoint: Arc<Endpoint>,
    /// Applied to the reply, in order, before it goes back (the out-sequence's steps, or the steps
    /// between `<call>` and `<respond/>`). Empty: the reply goes back as it came.
    pub after: Vec<Mediator>,
    /// Nothing on the route reads a default-scope property: the endpoint is an `<address>` with
    /// a static timeout and every step reads only literals and transport headers.
    pub reads_no_properties: bool,
}

/// Content-based routing on a JSON field of the request body (issue 22's `cbr` idiom): an
/// in-sequence that is header-level steps, then `<filter source="json-eval(PATH)" regex="RE">`
/// whose `<then>` is header-level steps and a `<send>` to an endpoint. The general flow builds
/// the body for the filter, runs `then` when the path's string value matches the whole regex
/// (SYN `mediators/filters/FilterMediator.java`, `Matcher.matches()`), and sends the body as it
/// came (a JSON payload nothing changed goes out as its text, runtime/payload.rs); so when
/// [`JsonFilterRoute::holds`] for a body, the request is [`JsonFilterRoute::then`]'s to forward.
/// The `<else>` branch, and a body the condition cannot be read from, are the general flow's.
/// The mediation engine itself runs such a route as the general flow (its plan stays General);
/// the Conflux HTTP/1 engine's router (conflux h1_router.rs) forwards the matching requests.
#[derive(Debug, Clone)]
pub struct JsonFilterRoute {
    /// The route as it runs when the condition holds: the steps before the filter and the
    /// `then` branch's before its send, the send, the out-sequence's steps.
    pub then: DirectRoute,
    path: JsonEval,
    /// The path's member names when it only names members: the body is then read for those
    /// alone ([`crate::json::members`]) instead of built whole.
    chain: Option<Vec<String>>,
    regex: regex::Regex,
}

impl JsonFilterRoute {
    /// Whether the condition holds for a request whose whole body is `body` under a JSON
    /// `Content-Type`: the path's string value read as the general flow reads it
    /// (runtime/payload.rs `parse_json_body`, json `JsonEval::string_value`), matched with the
    /// filter's own compiled regex. `None`: the payload builder refuses the body (the general
    /// flow answers it).
    pub fn holds(&self, body: &[u8]) -> Option<bool> {
        let value = match self
            .chain
            .as_deref()
            .and_then(|names| member_skeleton(body, names))
        {
            Some(skeleton) => skeleton,
            None => parse_json_body(body).ok()?,
        };
        Some(self.regex.is_match(&self.path.string_value(&value)))
    }
}

/// A document holding only what a member-chain path reads of `body`: the members along `names`
/// (or an empty object when one is absent), on which the path evaluates as on the whole body.
/// `None` when only a whole parse can say (runtime/payload.rs `parse_json_body`): the JSON limits
/// refuse the body or it has `@` keys (whose XML view is checked too), a level is not an object,
/// or serde refuses it (the builder retries with raw control characters escaped).
fn member_skeleton(body: &[u8], names: &[String]) -> Option<serde_json::Value> {
    let scan = crate::runtime::limits::check_json(body).ok()?;
    if scan.attribute_keys {
        return None;
    }
    crate::runtime::payload::member_document(body, names)
}

/// The JSON filter plan of `route`, when it is the `cbr` idiom ([`JsonFilterRoute`]). Pure.
pub fn json_filter(route: &Route) -> Option<JsonFilterRoute> {
    if has_fault_handling(route) {
        return None;
    }
    let in_list = match &route.in_sequence {
        Some(seq) if seq.on_error.is_none() => seq.mediators.as_slice(),
        _ => return None,
    };
    let (before, rest) = split_header_steps(in_list);
    let [Mediator::Filter(filter)] = rest else {
        return None;
    };
    let Condition::Matches(ValueSource::Json(path), regex) = &filter.condition else {
        return None;
    };
    // `json-eval($)` reads the body's text as it came, an inline `{...}` part reads properties.
    if !matches!(path.source(), JsonSource::Body)
        || path.is_whole()
        || path.has_inline_expressions()
    {
        return None;
    }
    let (then_steps, send) = split_header_steps(&filter.then);
    let [
        Mediator::Send(Send {
            endpoint: Some(endpoint),
            receive: None,
        }),
    ] = send
    else {
        return None;
    };
    if matches!(endpoint.kind, EndpointKind::RecipientList(_)) {
        return None;
    }
    Some(JsonFilterRoute {
        then: DirectRoute {
            idiom: Idiom::Send,
            before: before.iter().chain(then_steps).cloned().collect(),
            endpoint: endpoint.clone(),
            after: out_steps(route.out_sequence.as_deref())?,
            reads_no_properties: matches!(endpoint.kind, EndpointKind::Address { .. })
                && endpoint.dynamic_timeout.is_none(),
        },
        path: path.clone(),
        chain: path.member_chain(),
        regex: regex.clone(),
    })
}

/// A fault sequence that does something (an empty one is the tooling default).
fn has_fault_handling(route: &Route) -> bool {
    route
        .fault_sequence
        .as_ref()
        .is_some_and(|f| !f.mediators.is_empty() || f.on_error.is_some())
}

/// The header-level steps at the start of `list`, and the rest.
fn split_header_steps(list: &[Mediator]) -> (&[Mediator], &[Mediator]) {
    let split = list
        .iter()
        .position(|m| !is_header_step(m))
        .unwrap_or(list.len());
    list.split_at(split)
}

/// The plan for `route`. Pure: the same route always gets the same plan.
pub fn classify(route: &Route) -> DirectPlan {
    match direct_route(route) {
        Some(direct) => DirectPlan::Direct(Arc::new(direct)),
        None => DirectPlan::General,
    }
}

fn direct_route(route: &Route) -> Option<DirectRoute> {
    // An empty fault sequence is the tooling default; it runs (as nothing) on the failure path.
    if has_fault_handling(route) {
        return None;
    }
    let in_list = match &route.in_sequence {
        Some(seq) if seq.on_error.is_some() => return None,
        Some(seq) => seq.mediators.as_slice(),
        None => &[],
    };
    let (before, rest) = split_header_steps(in_list);
    let (idiom, endpoint, after) = match rest {
        [
            Mediator::Send(Send {
                endpoint: Some(endpoint),
                receive: None,
            }),
        ] => (
            Idiom::Send,
            endpoint,
            out_steps(route.out_sequence.as_deref())?,
        ),
        [Mediator::Call(call), tail @ ..] => {
            // The steps after the call, then <respond/>; the out-sequence never runs.
            let (respond, steps) = tail.split_last()?;
            if !matches!(respond, Mediator::Respond(_)) || !steps.iter().all(is_header_step) {
                return None;
            }
            (Idiom::CallRespond, &call.endpoint, steps.to_vec())
        }
        // The in-sequence ran to its end: a proxy's target takes the message.
        [] => (
            Idiom::Target,
            route.target.as_ref()?,
            out_steps(route.out_sequence.as_deref())?,
        ),
        _ => return None,
    };
    // A recipient list's copies take the general flow (runtime/recipient_list.rs).
    if matches!(endpoint.kind, EndpointKind::RecipientList(_)) {
        return None;
    }
    let reads_no_properties =
        matches!(endpoint.kind, EndpointKind::Address { .. }) && endpoint.dynamic_timeout.is_none();
    Some(DirectRoute {
        idiom,
        before: before.to_vec(),
        endpoint: endpoint.clone(),
        after,
        reads_no_properties,
    })
}

/// The header-level steps of an out-sequence that answers with the reply: absent, empty, or
/// steps ending in `<send/>` (no endpoint, no receive: back to the client) or `<respond/>`.
fn out_steps(out: Option<&Sequence>) -> Option<Vec<Mediator>> {
    let Some(out) = out else {
        return Some(Vec::new());
    };
    if out.on_error.is_some() {
        return None;
    }
    let steps = match out.mediators.split_last() {
        Some((
            Mediator::Send(Send {
                endpoint: None,
                receive: None,
            })
            | Mediator::Respond(_),
            steps,
        )) => steps,
        _ => out.mediators.as_slice(),
    };
    steps.iter().all(is_header_step).then(|| steps.to_vec())
}

/// A mediator that reads only headers and envelope fields and changes only transport headers.
fn is_header_step(m: &Mediator) -> bool {
    if m.needs_payload() {
        return false;
    }
    match m {
        Mediator::Log(log) => is_header_log(log),
        Mediator::Property(property) => is_transport_property(property),
        // `<header scope="transport">`: the same edit as a transport property.
        Mediator::Header(Header {
            target: HeaderTarget::Transport(_),
            content,
        }) => match content {
            Some(HeaderContent::Value(value)) => is_header_value(value),
            Some(HeaderContent::Xml(_)) => false,
            None => true,
        },
        _ => false,
    }
}

/// `<log>` at simple level (or custom) without a message template, whose properties are
/// literals or transport headers.
fn is_header_log(log: &Log) -> bool {
    matches!(log.level, LogLevel::Simple | LogLevel::Custom)
        && log.message.is_none()
        && log.properties.iter().all(|(_, v)| is_header_value(v))
}

/// `<property scope="transport">`: a literal or transport-header value, or a remove.
fn is_transport_property(p: &Property) -> bool {
    p.scope == Scope::Transport
        && matches!(p.name, PropertyName::Fixed(_))
        && match &p.action {
            PropertyAction::Set(value) => is_header_value(value),
            PropertyAction::Remove => true,
        }
}

fn is_header_value(v: &ValueSource) -> bool {
    matches!(
        v,
        ValueSource::Literal(_) | ValueSource::Property(Scope::Transport, _)
    )
}

/// Applies header-level steps as the general flow's `run_list` does (`Mediator::apply`; an
/// error is a mediation fault).
fn apply_steps<B: MessageBody>(
    steps: &[Mediator],
    ctx: &mut MessageContext<B>,
) -> Result<(), Fault> {
    for step in steps {
        step.apply(ctx).map_err(Fault::mediation)?;
    }
    Ok(())
}

impl<B: MessageBody> Engine<'_, B> {
    /// Runs a direct route: the same answers as the general flow in `Engine::mediate_in_place`
    /// (the reply, 202 for a timeout the endpoint discards, the fault answer after the route's
    /// fault sequence), without boxing a future per step. No step can set `OUT_ONLY`,
    /// `FORCE_SC_ACCEPTED` or `FORCE_ERROR_ON_SOAP_FAULT` (transport scope only), so the general
    /// flow's checks of those are checked here only where the reply is mediated.
    pub(crate) async fn run_direct(
        &self,
        plan: &DirectRoute,
        ctx: &mut MessageContext<B>,
        route: &Route,
    ) -> Response<B> {
        tracing::debug!(target: DIRECT_TARGET, "{{{}}} direct path: {}", ctx.artifact, plan.idiom.as_str());
        if let Err(fault) = apply_steps(&plan.before, ctx) {
            return self.handle_fault(fault, ctx, route).await;
        }
        let response = match self.send(&plan.endpoint, ctx).await {
            Ok(response) => response,
            Err(f)
                if f.code == error_codes::TIMEOUT
                    && plan.endpoint.timeout_action == TimeoutAction::Discard =>
            {
                return accepted();
            }
            Err(f) => return self.handle_fault(f.into(), ctx, route).await,
        };
        if plan.after.is_empty() {
            // The reply as it came: `response_from` after `become_response` gives it unchanged
            // when nothing mediated it.
            return response;
        }
        become_response(ctx, response);
        let answered = match self.soap_fault_is_an_error(ctx).await {
            Ok(()) => apply_steps(&plan.after, ctx).and_then(|()| response_from(ctx)),
            Err(fault) => Err(fault),
        };
        match answered {
            Ok(_) if ctx.is_true(Scope::Axis2, props::FORCE_SC_ACCEPTED) => accepted(),
            Ok(response) => response,
            Err(fault) => self.handle_fault(fault, ctx, route).await,
        }
    }
}

#[cfg(test)]
mod tests {
    //! The classifier's table: each idiom is direct, each near miss general.

    use super::*;
    use crate::runtime::mediators::{Call, LogCategory, PropertyType, Respond};

    fn endpoint() -> Arc<Endpoint> {
        Arc::new(Endpoint::plain_address(0, "be", "http://backend/svc"))
    }

    fn seq(mediators: Vec<Mediator>) -> Option<Arc<Sequence>> {
        Some(Arc::new(Sequence {
            name: "s".into(),
            mediators,
            on_error: None,
        }))
    }

    fn send() -> Mediator {
        Mediator::Send(Send {
            endpoint: Some(endpoint()),
            receive: None,
        })
    }

    fn send_back() -> Mediator {
        Mediator::Send(Send {
            endpoint: None,
            receive: None,
        })
    }

    fn call() -> Mediator {
        Mediator::Call(Call {
            endpoint: endpoint(),
        })
    }

    fn log(level: LogLevel, properties: Vec<(&str, ValueSource)>) -> Mediator {
        Mediator::Log(Log {
            level,
            category: LogCategory::Info,
            separator: ", ".into(),
            message: None,
            log_message_id: false,
            properties: properties
                .into_iter()
                .map(|(n, v)| (n.to_string(), v))
                .collect(),
        })
    }

    fn property(scope: Scope, action: PropertyAction) -> Mediator {
        Mediator::Property(Property {
            name: PropertyName::Fixed("X-Edit".into()),
            scope,
            action,
            value_type: PropertyType::String,
            pattern: None,
        })
    }

    fn literal(v: &str) -> ValueSource {
        ValueSource::Literal(v.into())
    }

    fn route(
        in_sequence: Vec<Mediator>,
        out: Option<Vec<Mediator>>,
        fault: Option<Vec<Mediator>>,
    ) -> Route {
        Route {
            artifact: "api:T".into(),
            in_sequence: seq(in_sequence),
            out_sequence: out.and_then(seq),
            fault_sequence: fault.and_then(seq),
            ..Route::default()
        }
    }

    fn idiom(route: &Route) -> Option<Idiom> {
        match classify(route) {
            DirectPlan::Direct(d) => Some(d.idiom),
            DirectPlan::General => None,
        }
    }

    #[test]
    fn the_idioms_take_the_direct_path() {
        let table: Vec<(&str, Route, Idiom)> = vec![
            ("send alone", route(vec![send()], None, None), Idiom::Send),
            (
                "send + empty out and fault sequences",
                route(vec![send()], Some(vec![]), Some(vec![])),
                Idiom::Send,
            ),
            (
                "send + <outSequence><send/></outSequence>",
                route(vec![send()], Some(vec![send_back()]), None),
                Idiom::Send,
            ),
            (
                "send + <outSequence><respond/></outSequence>",
                route(vec![send()], Some(vec![Mediator::Respond(Respond)]), None),
                Idiom::Send,
            ),
            (
                "call + respond",
                route(vec![call(), Mediator::Respond(Respond)], None, Some(vec![])),
                Idiom::CallRespond,
            ),
            (
                "call + respond, whatever the out-sequence (it never runs)",
                route(
                    vec![call(), Mediator::Respond(Respond)],
                    Some(vec![log(LogLevel::Full, vec![])]),
                    None,
                ),
                Idiom::CallRespond,
            ),
            (
                "simple and custom logs with literal and transport properties",
                route(
                    vec![
                        log(LogLevel::Simple, vec![]),
                        log(
                            LogLevel::Custom,
                            vec![
                                ("a", literal("1")),
                                ("h", ValueSource::Property(Scope::Transport, "Host".into())),
                            ],
                        ),
                        send(),
                    ],
                    Some(vec![log(LogLevel::Simple, vec![]), send_back()]),
                    None,
                ),
                Idiom::Send,
            ),
            (
                "transport property set and remove",
                route(
                    vec![
                        property(Scope::Transport, PropertyAction::Set(literal("v"))),
                        property(Scope::Transport, PropertyAction::Remove),
                        Mediator::Header(Header {
                            target: HeaderTarget::Transport("X-H".into()),
                            content: Some(HeaderContent::Value(literal("h"))),
                        }),
                        Mediator::Header(Header {
                            target: HeaderTarget::Transport("X-Gone".into()),
                            content: None,
                        }),
                        call(),
                        property(
                            Scope::Transport,
                            PropertyAction::Set(ValueSource::Property(
                                Scope::Transport,
                                "X-In".into(),
                            )),
                        ),
                        Mediator::Respond(Respond),
                    ],
                    None,
                    None,
                ),
                Idiom::CallRespond,
            ),
        ];
        for (name, route, want) in table {
            assert_eq!(idiom(&route), Some(want), "{name}");
        }
        let target = Route {
            artifact: "proxy:P".into(),
            target: Some(endpoint()),
            out_sequence: seq(vec![send_back()]),
            fault_sequence: seq(vec![]),
            ..Route::default()
        };
        assert_eq!(idiom(&target), Some(Idiom::Target));
        let target_after_log = Route {
            in_sequence: seq(vec![log(LogLevel::Simple, vec![])]),
            ..target
        };
        assert_eq!(idiom(&target_after_log), Some(Idiom::Target));
    }

    #[test]
    fn near_misses_take_the_general_flow() {
        let body_read = ValueSource::compile_text("json-eval($.a)", &[]).unwrap();
        let xpath_read = ValueSource::compile_text("//a", &[]).unwrap();
        let table: Vec<(&str, Route)> = vec![
            (
                "log at full level",
                route(vec![log(LogLevel::Full, vec![]), send()], None, None),
            ),
            (
                "log at headers level",
                route(vec![log(LogLevel::Headers, vec![]), send()], None, None),
            ),
            (
                "log property reading the body",
                route(
                    vec![
                        log(LogLevel::Simple, vec![("b", body_read.clone())]),
                        send(),
                    ],
                    None,
                    None,
                ),
            ),
            (
                "log property reading a default-scope property",
                route(
                    vec![
                        log(
                            LogLevel::Simple,
                            vec![("p", ValueSource::Property(Scope::Default, "p".into()))],
                        ),
                        send(),
                    ],
                    None,
                    None,
                ),
            ),
            (
                "transport property from the body",
                route(
                    vec![
                        property(Scope::Transport, PropertyAction::Set(xpath_read)),
                        send(),
                    ],
                    None,
                    None,
                ),
            ),
            (
                "addressing header (it can change where the message goes)",
                route(
                    vec![
                        Mediator::Header(Header {
                            target: HeaderTarget::Addressing("To".into()),
                            content: Some(HeaderContent::Value(literal("http://elsewhere/"))),
                        }),
                        send(),
                    ],
                    None,
                    None,
                ),
            ),
            (
                "transport header from the body",
                route(
                    vec![
                        Mediator::Header(Header {
                            target: HeaderTarget::Transport("X-H".into()),
                            content: Some(HeaderContent::Value(body_read.clone())),
                        }),
                        send(),
                    ],
                    None,
                    None,
                ),
            ),
            (
                "default-scope property",
                route(
                    vec![
                        property(Scope::Default, PropertyAction::Set(literal("1"))),
                        send(),
                    ],
                    None,
                    None,
                ),
            ),
            (
                "axis2 property",
                route(
                    vec![
                        property(Scope::Axis2, PropertyAction::Set(literal("1"))),
                        send(),
                    ],
                    None,
                    None,
                ),
            ),
            (
                "non-empty fault sequence",
                route(
                    vec![send()],
                    None,
                    Some(vec![log(LogLevel::Simple, vec![])]),
                ),
            ),
            (
                "send with receive",
                route(
                    vec![Mediator::Send(Send {
                        endpoint: Some(endpoint()),
                        receive: Some(literal("r")),
                    })],
                    None,
                    None,
                ),
            ),
            (
                "out-sequence that reads the body",
                route(
                    vec![send()],
                    Some(vec![log(LogLevel::Full, vec![]), send_back()]),
                    None,
                ),
            ),
            (
                "out-sequence with a mediator after its send",
                route(
                    vec![send()],
                    Some(vec![send_back(), log(LogLevel::Simple, vec![])]),
                    None,
                ),
            ),
            ("call without respond", route(vec![call()], None, None)),
            (
                "call, then something that is not a header step, then respond",
                route(
                    vec![
                        call(),
                        log(LogLevel::Full, vec![]),
                        Mediator::Respond(Respond),
                    ],
                    None,
                    None,
                ),
            ),
            (
                "send without an endpoint in the in-sequence",
                route(vec![send_back()], None, None),
            ),
            (
                "a mediator after the send",
                route(vec![send(), log(LogLevel::Simple, vec![])], None, None),
            ),
            ("no in-sequence and no target", route(vec![], None, None)),
        ];
        for (name, route) in table {
            assert_eq!(idiom(&route), None, "{name}");
        }
        let mut with_on_error = route(vec![send()], None, None);
        with_on_error.in_sequence = Some(Arc::new(Sequence {
            name: "s".into(),
            mediators: vec![send()],
            on_error: Some("h".into()),
        }));
        assert_eq!(idiom(&with_on_error), None, "in-sequence with onError");
        let list = Endpoint {
            kind: EndpointKind::RecipientList(Arc::new(
                crate::runtime::recipient_list::RecipientList {
                    recipients: crate::runtime::recipient_list::Recipients::Static(
                        vec![endpoint()],
                    ),
                },
            )),
            ..(*endpoint()).clone()
        };
        let to_list = route(
            vec![Mediator::Send(Send {
                endpoint: Some(Arc::new(list)),
                receive: None,
            })],
            None,
            None,
        );
        assert_eq!(idiom(&to_list), None, "recipient list");
    }

    #[test]
    fn only_a_static_address_reads_no_properties() {
        let plan = |r: &Route| match classify(r) {
            DirectPlan::Direct(d) => d.reads_no_properties,
            DirectPlan::General => panic!("not direct"),
        };
        assert!(plan(&route(
            vec![log(LogLevel::Simple, vec![]), send()],
            Some(vec![]),
            Some(vec![])
        )));
        let mut dynamic = (*endpoint()).clone();
        dynamic.dynamic_timeout = Some(ValueSource::Property(Scope::Default, "t".into()));
        let r = route(
            vec![Mediator::Send(Send {
                endpoint: Some(Arc::new(dynamic)),
                receive: None,
            })],
            None,
            None,
        );
        assert!(!plan(&r));
    }

    fn cbr_api(filter: &str, fault: &str) -> String {
        api_xml(&format!(
            r#"<inSequence><property name="X-A" value="1" scope="transport"/>{filter}</inSequence>{fault}"#
        ))
    }

    fn json_plan(xml: String) -> Option<JsonFilterRoute> {
        let d = deploy(&[("api/A.xml", xml)]);
        json_filter(&d.apis[0].resources[0])
    }

    const SEND: &str = r#"<send><endpoint><address uri="http://b/"/></endpoint></send>"#;

    // The cbr idiom (bench/lib.sh cbr-json-filter): a source + regex filter on a json-eval of the
    // body whose `then` sends. FilterMediator matches the whole string value (Matcher.matches).
    #[test]
    fn a_json_filter_then_send_is_planned_and_decides_on_the_body() {
        let plan = json_plan(cbr_api(
            &format!(
                r#"<filter source="json-eval($.kind)" regex="a|b+"><then><header name="X-T" value="t" scope="transport"/>{SEND}</then><else><drop/></else></filter>"#
            ),
            "<faultSequence/>",
        ))
        .expect("planned");
        assert_eq!(plan.then.idiom, Idiom::Send);
        assert_eq!(plan.then.before.len(), 2, "the steps before and in then");
        assert!(plan.then.after.is_empty());
        assert!(plan.then.reads_no_properties);
        assert!(matches!(
            classify(&deploy(&[("api/A.xml", cbr_api("", ""))]).apis[0].resources[0]),
            DirectPlan::General
        ));
        for (body, want) in [
            (r#"{"kind":"a","n":1}"#, Some(true)),
            (r#"{"kind":"bbb"}"#, Some(true)),
            (r#"{"kind":"ab"}"#, Some(false)),
            (r#"{"kind":"xa"}"#, Some(false)),
            (r#"{"other":1}"#, Some(false)),
            (r#"{"kind":{"a":1}}"#, Some(false)),
            (r#"[1,2]"#, Some(false)),
            (r#"{"kind":"a""#, None),
            ("not json", None),
        ] {
            assert_eq!(plan.holds(body.as_bytes()), want, "{body}");
        }
        // A number's string value is its text.
        let numeric = json_plan(cbr_api(
            &format!(
                r#"<filter source="json-eval($.n)" regex="4\.5"><then>{SEND}</then></filter>"#
            ),
            "",
        ))
        .unwrap();
        assert_eq!(numeric.holds(br#"{"n":4.5}"#), Some(true));
    }

    // The member reader decides as the whole parse does (runtime/payload.rs `parse_json_body`),
    // for bodies it reads and for those it leaves to the whole parse.
    #[test]
    fn a_member_chain_filter_decides_as_the_whole_body_parse() {
        let plan = json_plan(cbr_api(
            &format!(
                r#"<filter source="json-eval($.order.kind)" regex="a"><then>{SEND}</then></filter>"#
            ),
            "",
        ))
        .unwrap();
        assert_eq!(
            plan.chain.as_deref(),
            Some(&["order".to_string(), "kind".to_string()][..])
        );
        for body in [
            r#"{"order":{"kind":"a"},"n":[1,2,3]}"#,
            r#"{"order":{"kind":"b"}}"#,
            r#"{"order":{"kind":"b"},"order":{"kind":"a"}}"#,
            r#"{"order":{}}"#,
            r#"{"order":[{"kind":"a"}]}"#,
            r#"{"order":{"kind":["a"]}}"#,
            r#"{"@id":"1","order":{"kind":"a"}}"#,
            r#"{"order":{"kind":"a"},"x":1e400}"#,
            "{\"order\":{\"kind\":\"a\u{1}\"}}",
            r#"{"order":{"kind":"a"}"#,
        ] {
            let whole = parse_json_body(body.as_bytes())
                .ok()
                .map(|v| plan.regex.is_match(&plan.path.string_value(&v)));
            assert_eq!(plan.holds(body.as_bytes()), whole, "{body}");
        }
    }

    #[test]
    fn other_filters_are_not_planned() {
        let filter = |attrs: &str, then: &str| {
            format!(r#"<filter {attrs}><then>{then}</then><else><drop/></else></filter>"#)
        };
        for (name, xml) in [
            (
                "xpath condition",
                cbr_api(&filter(r#"xpath="json-eval($.kind)""#, SEND), ""),
            ),
            (
                "the whole body",
                cbr_api(&filter(r#"source="json-eval($)" regex="a""#, SEND), ""),
            ),
            (
                "an inline expression",
                cbr_api(
                    &filter(r#"source="json-eval($.{$ctx:k})" regex="a""#, SEND),
                    "",
                ),
            ),
            (
                "a property source",
                cbr_api(&filter(r#"source="$trp:X-A" regex="a""#, SEND), ""),
            ),
            (
                "then drops",
                cbr_api(
                    &filter(r#"source="json-eval($.kind)" regex="a""#, "<drop/>"),
                    "",
                ),
            ),
            (
                "then reads the body before the send",
                cbr_api(
                    &filter(
                        r#"source="json-eval($.kind)" regex="a""#,
                        &format!(r#"<log level="full"/>{SEND}"#),
                    ),
                    "",
                ),
            ),
            (
                "a mediator after the filter",
                cbr_api(
                    &format!(
                        r#"{}<log/>"#,
                        filter(r#"source="json-eval($.kind)" regex="a""#, SEND)
                    ),
                    "",
                ),
            ),
            (
                "a fault sequence",
                cbr_api(
                    &filter(r#"source="json-eval($.kind)" regex="a""#, SEND),
                    r#"<faultSequence><log/></faultSequence>"#,
                ),
            ),
        ] {
            assert!(json_plan(xml).is_none(), "{name}");
        }
    }

    /// The deployment compiled from these `(label, xml)` artifacts.
    fn deploy(files: &[(&str, String)]) -> crate::runtime::deployment::Deployment {
        let mut artifacts = conflux_artifacts::Artifacts::default();
        for (label, xml) in files {
            artifacts
                .insert(conflux_artifacts::parse_artifact(label, xml).unwrap())
                .unwrap();
        }
        let (deployment, errors) = crate::runtime::compile::compile(&artifacts);
        assert!(errors.is_empty(), "{errors:?}");
        deployment
    }

    fn api_xml(sequences: &str) -> String {
        format!(
            r#"<api xmlns="http://ws.apache.org/ns/synapse" name="A" context="/a"><resource methods="GET" url-mapping="/*">{sequences}</resource></api>"#
        )
    }

    // Deploy time: the compiler plans each route once; an empty fault sequence (the tooling
    // default) is no fault handler, so the deployment neither copies request headers before a
    // send nor sets the REST properties for routes that read none.
    #[test]
    fn deployed_routes_are_planned_and_empty_fault_sequences_handle_nothing() {
        let direct = deploy(&[(
            "api/A.xml",
            api_xml(
                r#"<inSequence><log level="simple"/><send><endpoint><address uri="http://b/"/></endpoint></send></inSequence><outSequence><send/></outSequence><faultSequence/>"#,
            ),
        )]);
        let route = &direct.apis[0].resources[0];
        assert!(matches!(&route.direct, DirectPlan::Direct(d) if d.idiom == Idiom::Send));
        assert!(route.reads_no_properties());
        assert!(!direct.has_fault_handlers);

        let call = deploy(&[(
            "api/A.xml",
            api_xml(
                r#"<inSequence><call><endpoint><address uri="http://b/"/></endpoint></call><respond/></inSequence><faultSequence></faultSequence>"#,
            ),
        )]);
        let route = &call.apis[0].resources[0];
        assert!(matches!(&route.direct, DirectPlan::Direct(d) if d.idiom == Idiom::CallRespond));

        let general = deploy(&[(
            "api/A.xml",
            api_xml(
                r#"<inSequence><send><endpoint><address uri="http://b/"/></endpoint></send></inSequence><faultSequence><log level="full"/></faultSequence>"#,
            ),
        )]);
        assert!(matches!(
            general.apis[0].resources[0].direct,
            DirectPlan::General
        ));
        assert!(general.has_fault_handlers);

        let proxy = deploy(&[(
            "proxy-services/P.xml",
            r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="P" transports="http"><target><endpoint><address uri="http://b/"/></endpoint><outSequence><send/></outSequence><faultSequence/></target></proxy>"#
                .to_string(),
        )]);
        assert!(
            matches!(&proxy.proxies[0].direct, DirectPlan::Direct(d) if d.idiom == Idiom::Target)
        );
        assert!(!proxy.has_fault_handlers);
    }
}
