//! Runs a request through its route: the in-sequence, a send to an endpoint, the out-sequence, the
//! fault sequence, and the answer to the client. MI's message flow (synapse-subset.md §3.6):
//!
//! ```text
//! request -> inSequence --send--> endpoint --reply--> outSequence --send/respond--> client
//!               |  respond / loopback / drop / call (reply becomes the message, continue)
//!               `- error --> onError | faultSequence | global `fault` --> client
//! nothing answered -> 202 Accepted, empty (passthru ServerWorker#sendAck)
//! ```
//!
//! Bodies are never read here: a body is handed from the client to the backend and back as a
//! stream unless a mediator replaced it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri};

use crate::runtime::payload::PayloadError;

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope, props};
pub use crate::runtime::direct::DirectPlan;
use crate::runtime::endpoint::{
    Endpoint, EndpointFormat, EndpointKind, ResponseTimeout, SendFault, Sender, TimeoutAction,
    error_codes,
};
use crate::runtime::fault;
use crate::runtime::mediators::{CallTemplate, Mediator, SequenceCall, Template};

/// The error code of an endpoint failure a mediation rule declared (a SOAP fault reply with
/// `FORCE_ERROR_ON_SOAP_FAULT`): SYN `SynapseConstants.ENDPOINT_CUSTOM_ERROR`.
pub const ENDPOINT_CUSTOM_ERROR: u32 = 500_000;

/// How deep `<sequence key>` calls may nest before the message fails (a loop of references).
pub const MAX_SEQUENCE_DEPTH: usize = 64;

/// A named or inline sequence of mediators.
#[derive(Debug, Clone)]
pub struct Sequence {
    pub name: Arc<str>,
    pub mediators: Vec<Mediator>,
    /// `onError`: the sequence that handles a fault inside this one.
    pub on_error: Option<String>,
}

impl Sequence {
    /// Whether any mediator here reads or replaces the body (then the body is built; otherwise it
    /// streams through).
    pub fn touches_body(&self) -> bool {
        self.mediators.iter().any(Mediator::touches_body)
    }
}

/// What a dispatched request runs: an API resource or a proxy service.
#[derive(Debug, Clone, Default)]
pub struct Route {
    /// `api:NAME` or `proxy:NAME`: the log prefix.
    pub artifact: Arc<str>,
    pub in_sequence: Option<Arc<Sequence>>,
    pub out_sequence: Option<Arc<Sequence>>,
    pub fault_sequence: Option<Arc<Sequence>>,
    /// A proxy's `<target>` endpoint: used when the in-sequence did not end the flow.
    pub target: Option<Arc<Endpoint>>,
    /// How the engine runs this route: set by [`Route::planned`] when the deployment is built;
    /// the general flow otherwise.
    pub direct: DirectPlan,
}

impl Route {
    /// The route with its [`DirectPlan`], decided once when the deployment is built
    /// (runtime/direct.rs).
    pub fn planned(mut self) -> Route {
        self.direct = crate::runtime::direct::classify(&self);
        if let DirectPlan::Direct(d) = &self.direct {
            tracing::debug!(target: crate::runtime::direct::DIRECT_TARGET, "{{{}}} takes the direct path ({})", self.artifact, d.idiom.as_str());
        }
        self
    }

    /// Whether nothing on this route reads the message's properties: a direct route to an
    /// `<address>` (which reads only `REST_URL_POSTFIX` and `NO_ENTITY_BODY`) with a static
    /// timeout, whose steps read only literals and transport headers. When no fault handler is
    /// deployed either, dispatch skips setting the REST properties MI defines for mediators
    /// (`REST_METHOD`, `uri.var.*`, ...): nobody could see them.
    pub fn reads_no_properties(&self) -> bool {
        matches!(&self.direct, DirectPlan::Direct(d) if d.reads_no_properties)
    }
}

/// Why mediation of a message failed.
#[derive(Debug, Clone)]
pub struct Fault {
    pub code: u32,
    pub message: String,
    /// The status for the client when no fault sequence answers, when it is not the one MI's
    /// error code implies (413 for a body over the limit, 400 for a malformed one).
    pub status: Option<StatusCode>,
}

impl Fault {
    /// A mediation error (MI logs these with no error code of their own).
    pub fn mediation(message: impl Into<String>) -> Fault {
        Fault {
            code: 0,
            message: message.into(),
            status: None,
        }
    }

    pub(crate) fn payload(e: PayloadError, is_response: bool) -> Fault {
        let status = match (&e, is_response) {
            // The backend's reply is the problem: a gateway error, whatever its size or shape.
            (_, true) => StatusCode::BAD_GATEWAY,
            (PayloadError::TooLarge { .. }, false) => StatusCode::PAYLOAD_TOO_LARGE,
            (PayloadError::Malformed { .. }, false) => StatusCode::BAD_REQUEST,
            (PayloadError::OverLimit { .. }, false) => StatusCode::BAD_REQUEST,
            (PayloadError::Read(_), false) => StatusCode::BAD_REQUEST,
        };
        Fault {
            code: 0,
            message: e.to_string(),
            status: Some(status),
        }
    }
}

impl From<SendFault> for Fault {
    fn from(f: SendFault) -> Self {
        Fault {
            code: f.code,
            message: f.message,
            status: None,
        }
    }
}

/// A mediator's future built and boxed in a frame of its own: an unstarted future is as large as
/// its largest state, and built in place it would sit in the frame of the recursive `run_list`,
/// once per level of nested sequences (a debug build overflowed the stack before
/// [`MAX_SEQUENCE_DEPTH`]).
#[inline(never)]
fn out_of_line<'a, T, F>(make: impl FnOnce() -> F) -> Pin<Box<dyn Future<Output = T> + Send + 'a>>
where
    F: Future<Output = T> + Send + 'a,
{
    Box::pin(make())
}

/// How a sequence ended.
pub(crate) enum Ended<B> {
    /// Ran to the end: the caller decides what comes next.
    Continue,
    /// The client's answer is ready.
    Responded(Response<B>),
    /// Dropped: nothing more happens to this message.
    Dropped,
    /// A part of an `<iterate>` reached this `<aggregate>`: its run collects it
    /// (runtime/mediators/iterate.rs).
    Aggregated(Arc<crate::runtime::mediators::Aggregate>),
}

pub(crate) type Step<'a, B> = Pin<Box<dyn Future<Output = Result<Ended<B>, Fault>> + Send + 'a>>;

/// The engine over one deployment: named sequences, the global fault sequence, and the sender.
pub struct Engine<'d, B: MessageBody> {
    pub sequences: &'d HashMap<String, Arc<Sequence>>,
    /// Sequence templates, run by `<call-template>`.
    pub templates: &'d HashMap<String, Arc<Template>>,
    pub sender: &'d dyn Sender<B>,
    /// Copy the request headers before a send, because a fault handler may read them after the
    /// send failed; without fault handlers the headers move to the backend request uncopied.
    pub keep_request_headers: bool,
    /// The most bytes a body is read into memory when a mediator needs its content.
    pub max_message_bytes: usize,
    /// The most branches of one message that run at once
    /// ([`crate::runtime::limits::DEFAULT_MAX_INFLIGHT_BRANCHES`]).
    pub max_inflight_branches: usize,
    /// Message stores and data services (`Deployment::attached`).
    pub attached: &'d crate::runtime::deployment::Attached,
}

impl<'d, B: MessageBody> Engine<'d, B> {
    /// Mediates one request to the client's answer.
    pub async fn mediate(&self, route: &Route, mut ctx: MessageContext<B>) -> Response<B> {
        self.mediate_in_place(route, &mut ctx).await
    }

    /// [`Engine::mediate`], leaving the message context with the caller (an inbound endpoint
    /// reads what the flow set, such as RabbitMQ's `SET_ROLLBACK_ONLY`).
    pub async fn mediate_in_place(
        &self,
        route: &Route,
        ctx: &mut MessageContext<B>,
    ) -> Response<B> {
        // The idioms that neither read nor change the content: the same answers as the general
        // flow below, without boxing each step (runtime/direct.rs).
        if let DirectPlan::Direct(plan) = &route.direct {
            return self.run_direct(plan, ctx, route).await;
        }
        let result = match &route.in_sequence {
            Some(seq) => self.run_guarded(seq.clone(), ctx, route, 0).await,
            None => Ok(Ended::Continue),
        };
        let result = match (result, &route.target) {
            (Ok(Ended::Continue), Some(target)) => {
                self.send_then_out(target.clone(), None, ctx, route, 0)
                    .await
            }
            (other, _) => other,
        };
        // axis2 FORCE_SC_ACCEPTED: the client gets 202 whatever the backend answered (MI sends it
        // before the backend replies; Conflux after, with the same answer).
        let forced = ctx.is_true(Scope::Axis2, props::FORCE_SC_ACCEPTED);
        match result {
            Ok(Ended::Responded(_)) if forced => accepted(),
            Ok(Ended::Responded(response)) => response,
            Ok(Ended::Continue) | Ok(Ended::Dropped) | Ok(Ended::Aggregated(_)) => accepted(),
            Err(fault) => self.handle_fault(fault, ctx, route).await,
        }
    }

    /// A blocking send as `<call>` does it, mediation going on after: the reply becomes the
    /// message (with OUT_ONLY the request as it was sent stays the message); a timeout the
    /// endpoint discards drops the message (`Some(Ended::Dropped)`).
    pub(crate) async fn call_in_place(
        &self,
        endpoint: &Endpoint,
        ctx: &mut MessageContext<B>,
    ) -> Result<Option<Ended<B>>, Fault> {
        let out_only = ctx.is_true(Scope::Default, props::OUT_ONLY);
        match self.send(endpoint, ctx).await {
            Ok(_) if out_only => Ok(None),
            Ok(response) => {
                become_response(ctx, response);
                self.soap_fault_is_an_error(ctx).await?;
                Ok(None)
            }
            Err(f)
                if f.code == error_codes::TIMEOUT
                    && endpoint.timeout_action == TimeoutAction::Discard =>
            {
                Ok(Some(Ended::Dropped))
            }
            Err(f) => Err(f.into()),
        }
    }

    /// Runs `seq`; a fault inside it goes to its `onError` sequence when it has one.
    pub(crate) fn run_guarded<'a>(
        &'a self,
        seq: Arc<Sequence>,
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            match self.run_sequence(seq.clone(), ctx, route, depth).await {
                Err(fault) => match seq.on_error.as_deref().and_then(|n| self.sequences.get(n)) {
                    Some(handler) => {
                        set_error(ctx, &fault);
                        match self
                            .run_sequence(handler.clone(), ctx, route, depth + 1)
                            .await?
                        {
                            // A handler that does not answer: the client gets the fault answer, as
                            // after a fault sequence that does not answer (never a 202 for a failure).
                            Ended::Continue => {
                                Ok(Ended::Responded(self.default_fault(&fault, ctx)))
                            }
                            other => Ok(other),
                        }
                    }
                    None => Err(fault),
                },
                ok => ok,
            }
        })
    }

    fn run_sequence<'a>(
        &'a self,
        seq: Arc<Sequence>,
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            if depth > MAX_SEQUENCE_DEPTH {
                return Err(Fault::mediation(format!(
                    "sequences nested deeper than {MAX_SEQUENCE_DEPTH} (a loop of <sequence key> references?) at {}",
                    seq.name
                )));
            }
            self.run_list(&seq.mediators, ctx, route, depth).await
        })
    }

    /// Runs mediators in order until one ends the flow.
    pub(crate) fn run_list<'a>(
        &'a self,
        mediators: &'a [Mediator],
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            for (index, mediator) in mediators.iter().enumerate() {
                // A cancellation point: after MEDIATION_YIELD_INTERVAL of mediation without a
                // wait, give way once, so that a client connection whose client has gone can
                // drop this exchange (runtime/context.rs).
                if ctx.should_give_way() {
                    tokio::task::yield_now().await;
                }
                if mediator.needs_payload() {
                    ctx.build_payload(self.max_message_bytes)
                        .await
                        .map_err(|e| Fault::payload(e, ctx.is_response))?;
                }
                match mediator {
                    // `<in>` / `<out>`: their children run only in the request / response flow.
                    Mediator::In(children) | Mediator::Out(children) => {
                        if matches!(mediator, Mediator::In(_)) != ctx.is_response {
                            match self.run_list(children, ctx, route, depth).await? {
                                Ended::Continue => {}
                                other => return Ok(other),
                            }
                        }
                    }
                    Mediator::Filter(filter) => {
                        let branch = filter.branch(ctx).map_err(Fault::mediation)?;
                        match self.run_list(branch, ctx, route, depth).await? {
                            Ended::Continue => {}
                            other => return Ok(other),
                        }
                    }
                    Mediator::Switch(switch) => {
                        let branch = switch.branch(ctx).map_err(Fault::mediation)?;
                        match self.run_list(branch, ctx, route, depth).await? {
                            Ended::Continue => {}
                            other => return Ok(other),
                        }
                    }
                    Mediator::Respond(_) => return Ok(Ended::Responded(response_from(ctx)?)),
                    Mediator::Drop(_) => return Ok(Ended::Dropped),
                    Mediator::Loopback(_) => {
                        ctx.is_response = true;
                        return self.out_flow(None, ctx, route, depth).await;
                    }
                    Mediator::Send(send) => {
                        let receive = match &send.receive {
                            Some(name) => {
                                let name = name.resolve(ctx).map_err(Fault::mediation)?;
                                Some(self.sequences.get(&name).cloned().ok_or_else(|| {
                                    Fault::mediation(format!(
                                        "receive sequence {name} is not deployed"
                                    ))
                                })?)
                            }
                            None => None,
                        };
                        return match &send.endpoint {
                            // An endpoint is sent to in either flow (SYN SendMediator: a response
                            // sent on chains services; its reply runs the out-sequence again).
                            Some(endpoint) => {
                                self.send_then_out(endpoint.clone(), receive, ctx, route, depth + 1)
                                    .await
                            }
                            // In the response flow, or the legacy echo idiom (RESPONSE=true), a
                            // send without endpoint answers the client.
                            None if ctx.is_response
                                || ctx.is_true(Scope::Default, props::RESPONSE) =>
                            {
                                Ok(Ended::Responded(response_from(ctx)?))
                            }
                            // No endpoint: the message's own To address, set by a header
                            // mediator or by the request's WS-Addressing headers (which MI's
                            // addressing module reads on arrival, so the body is read for them).
                            None => {
                                if ctx.may_carry_addressing() {
                                    ctx.build_payload(self.max_message_bytes)
                                        .await
                                        .map_err(|e| Fault::payload(e, ctx.is_response))?;
                                }
                                self.send_then_out(
                                    to_address_endpoint(),
                                    receive,
                                    ctx,
                                    route,
                                    depth,
                                )
                                .await
                            }
                        };
                    }
                    Mediator::Call(call) => {
                        let endpoint = call.endpoint.clone();
                        // A copy per member; each reply goes on with the rest of this list
                        // (runtime/recipient_list.rs).
                        if let EndpointKind::RecipientList(list) = &endpoint.kind {
                            let rest = &mediators[index + 1..];
                            let after = crate::runtime::recipient_list::AfterSend::Continue(rest);
                            return self
                                .send_to_recipients(&endpoint, list, after, ctx, route, depth)
                                .await;
                        }
                        if let Some(ended) = self.call_in_place(&endpoint, ctx).await? {
                            return Ok(ended);
                        }
                    }
                    Mediator::Sequence(call) => {
                        let target = match call {
                            SequenceCall::Inline(seq) => seq.clone(),
                            SequenceCall::Named(key) => {
                                let key = key.resolve(ctx).map_err(Fault::mediation)?;
                                self.sequences.get(&key).cloned().ok_or_else(|| {
                                    Fault::mediation(format!("sequence {key} is not deployed"))
                                })?
                            }
                        };
                        match self
                            .run_guarded(target.clone(), ctx, route, depth + 1)
                            .await?
                        {
                            Ended::Continue => {}
                            other => return Ok(other),
                        }
                    }
                    Mediator::CallTemplate(call) => {
                        match self.call_template(call, ctx, route, depth).await? {
                            Ended::Continue => {}
                            other => return Ok(other),
                        }
                    }
                    // A blocking call whose reply is written into the request (runtime/mediators/callout.rs).
                    Mediator::Callout(callout) => {
                        if !callout.call(self, ctx).await? {
                            return Ok(Ended::Dropped);
                        }
                    }
                    // Copies of the message per target (runtime/mediators/clone.rs).
                    Mediator::Clone(clone) => {
                        let rest = &mediators[index + 1..];
                        match self.run_clone(clone, rest, ctx, route, depth).await? {
                            Ended::Continue => {}
                            other => return Ok(other),
                        }
                    }
                    // Split and aggregate (runtime/mediators/{iterate,aggregate}.rs), and MI 4.4's
                    // scatter-gather and v2 foreach (runtime/mediators/{scatter_gather,foreach}.rs):
                    // one await point for all three keeps this (recursive) future's frame small;
                    // the classic foreach, throttle, validate and cache go through it too.
                    Mediator::Iterate(_)
                    | Mediator::ScatterGather(_)
                    | Mediator::ForEach(_)
                    | Mediator::ForEachClassic(_)
                    | Mediator::Throttle(_)
                    | Mediator::Validate(_)
                    | Mediator::Cache(_) => {
                        match self.run_splitter(mediator, ctx, route, depth).await? {
                            Ended::Continue => {}
                            other => return Ok(other),
                        }
                    }
                    Mediator::Aggregate(aggregate) => {
                        return self.run_aggregate(aggregate, ctx, route, depth).await;
                    }
                    // A call through the HTTP connector (runtime/mediators/http_connector.rs).
                    Mediator::HttpConnector(op) => match op.run(self, ctx).await? {
                        crate::runtime::mediators::http_connector::Outcome::Continue => {}
                        crate::runtime::mediators::http_connector::Outcome::Dropped => {
                            return Ok(Ended::Dropped);
                        }
                    },
                    // The email connector's send (runtime/mediators/email_connector.rs).
                    Mediator::EmailSend(op) => out_of_line(|| op.run(ctx)).await?,
                    // runtime/mediators/file_connector.rs: local filesystem operations.
                    Mediator::FileConnector(op) => op.run(ctx)?,
                    // runtime/mediators/store.rs: a copy goes to the store; the flow goes on.
                    // Built and boxed outside this (recursive) future's frame.
                    Mediator::Store(store) => {
                        self.store_step(store, ctx, route, depth).await?;
                    }
                    // runtime/mediators/db.rs.
                    Mediator::Db(db) => {
                        out_of_line(|| db.run(ctx, &self.attached.data_sources))
                            .await
                            .map_err(Fault::mediation)?;
                    }
                    // runtime/mediators/data_service_call.rs: a deployed data service, in-process.
                    Mediator::DataServiceCall(call) => {
                        out_of_line(|| self.data_service_call(call, ctx)).await?;
                    }
                    // runtime/mediators/script.rs: a script that returns false ends the flow.
                    Mediator::Script(script) => {
                        if !script.run(ctx).map_err(Fault::mediation)? {
                            return Ok(Ended::Dropped);
                        }
                    }
                    other => other.apply(ctx).map_err(Fault::mediation)?,
                }
            }
            Ok(Ended::Continue)
        })
    }

    /// `<call-template>` (SYN InvokeMediator, TemplateMediator): the parameters, evaluated in the
    /// caller's context, become the template's frame on the function stack while it runs; the
    /// frame is popped when the template runs to its end. A fault inside goes to the template's
    /// `onError`, then the call's (also for a missing mandatory parameter, as in Synapse).
    fn call_template<'a>(
        &'a self,
        call: &'a CallTemplate,
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            let template = self.templates.get(&*call.target).cloned().ok_or_else(|| {
                Fault::mediation(format!("Sequence template {} cannot be found", call.target))
            })?;
            let body = match &call.on_error {
                None => template.sequence.clone(),
                Some(handler) => Arc::new(Sequence {
                    name: template.name.clone(),
                    mediators: vec![Mediator::Sequence(SequenceCall::Inline(
                        template.sequence.clone(),
                    ))],
                    on_error: Some(handler.clone()),
                }),
            };
            match call.frame(&template, ctx) {
                Ok(frame) => ctx.func_stack.push(frame),
                Err(e) => {
                    let fault = Fault {
                        code: e.code,
                        message: e.message,
                        status: None,
                    };
                    // Raised inside the template: its handlers, innermost first, see it.
                    let Some(handler) = [&template.sequence.on_error, &call.on_error]
                        .into_iter()
                        .flatten()
                        .find_map(|n| self.sequences.get(n))
                    else {
                        return Err(fault);
                    };
                    set_error(ctx, &fault);
                    return match self
                        .run_sequence(handler.clone(), ctx, route, depth + 2)
                        .await?
                    {
                        Ended::Continue => Ok(Ended::Responded(self.default_fault(&fault, ctx))),
                        other => Ok(other),
                    };
                }
            }
            let ended = self.run_guarded(body, ctx, route, depth + 1).await?;
            if matches!(ended, Ended::Continue) {
                ctx.func_stack.pop();
            }
            Ok(ended)
        })
    }

    /// Sends the current message to `endpoint`; the reply runs through the out-sequence, or goes
    /// straight back to the client when there is none.
    pub(crate) fn send_then_out<'a>(
        &'a self,
        endpoint: Arc<Endpoint>,
        receive: Option<Arc<Sequence>>,
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            // A copy per member; each reply runs the out flow (runtime/recipient_list.rs).
            if let EndpointKind::RecipientList(list) = &endpoint.kind {
                let after = crate::runtime::recipient_list::AfterSend::Out(receive);
                return self
                    .send_to_recipients(&endpoint, list, after, ctx, route, depth)
                    .await;
            }
            let out_only = ctx.is_true(Scope::Default, props::OUT_ONLY);
            match self.send(&endpoint, ctx).await {
                // OUT_ONLY: no reply is expected; the client gets MI's 202.
                Ok(_) if out_only => Ok(Ended::Dropped),
                Ok(response) => {
                    become_response(ctx, response);
                    self.soap_fault_is_an_error(ctx).await?;
                    self.out_flow(receive, ctx, route, depth).await
                }
                Err(f)
                    if f.code == error_codes::TIMEOUT
                        && endpoint.timeout_action == TimeoutAction::Discard =>
                {
                    Ok(Ended::Dropped)
                }
                Err(f) => Err(f.into()),
            }
        })
    }

    /// The response flow: `receive` (a send's `receive=` sequence) or the route's out-sequence.
    fn out_flow<'a>(
        &'a self,
        receive: Option<Arc<Sequence>>,
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            match receive.or_else(|| route.out_sequence.clone()) {
                None => Ok(Ended::Responded(response_from(ctx)?)),
                Some(out) => match self.run_guarded(out, ctx, route, depth + 1).await? {
                    // MI leaves the client waiting when an out-sequence neither sends nor responds;
                    // Conflux answers with the message as it stands.
                    Ended::Continue => Ok(Ended::Responded(response_from(ctx)?)),
                    other => Ok(other),
                },
            }
        })
    }

    pub(crate) async fn send(
        &self,
        endpoint: &Endpoint,
        ctx: &mut MessageContext<B>,
    ) -> Result<Response<B>, SendFault> {
        // `<endpoint key-expression>`: the named endpoint it gives for this message.
        let resolved;
        let endpoint = match &endpoint.kind {
            EndpointKind::Dynamic(d) => {
                if d.key.needs_payload() {
                    ctx.build_payload(self.max_message_bytes)
                        .await
                        .map_err(|e| SendFault {
                            code: 0,
                            message: e.to_string(),
                        })?;
                }
                resolved = d.resolve(ctx)?;
                &*resolved
            }
            _ => endpoint,
        };
        // `<wsdl uri>`: the port's address, read from the document at the first send
        // (runtime/wsdl_endpoint.rs).
        let from_wsdl;
        let endpoint = match &endpoint.kind {
            EndpointKind::Wsdl(w) => {
                from_wsdl = w.resolve(endpoint, self.sender).await?;
                &*from_wsdl
            }
            _ => endpoint,
        };
        // A failover / load-balance group sends through its children (runtime/endpoint_group.rs).
        if let EndpointKind::Group(group) = &endpoint.kind {
            return self.send_group(endpoint, group, ctx).await;
        }
        // A recipient list answers with one reply per member: only <send> and <call> take it
        // (runtime/recipient_list.rs).
        if let EndpointKind::RecipientList(_) = &endpoint.kind {
            return Err(SendFault {
                code: crate::runtime::recipient_list::ENDPOINT_RL_NONE_READY,
                message: format!(
                    "recipient list endpoint {} can only be used by <send> or <call>",
                    endpoint.name
                ),
            });
        }
        // The content is needed when a default endpoint sends to the message's To, which a SOAP
        // request may carry in its WS-Addressing headers (read on arrival in MI), when a forced
        // format converts the message, and when addressing edits its SOAP header.
        let needs_content = match &endpoint.kind {
            // DISABLE_CHUNKING: MI builds the message to send it with a Content-Length.
            _ if ctx.is_true(Scope::Axis2, "DISABLE_CHUNKING") => true,
            EndpointKind::Default => ctx.may_carry_addressing(),
            EndpointKind::Address {
                format, addressing, ..
            } => {
                *addressing
                    || matches!(
                        format,
                        Some(EndpointFormat::Soap11 | EndpointFormat::Soap12 | EndpointFormat::Pox)
                    )
            }
            _ => false,
        };
        if needs_content {
            ctx.build_payload(self.max_message_bytes)
                .await
                .map_err(|e| SendFault {
                    code: error_codes::CONNECTION_FAILED,
                    message: e.to_string(),
                })?;
        }
        // A dynamic timeout is evaluated before the message is taken apart for the send.
        let timeout = match &endpoint.dynamic_timeout {
            Some(expr) => dynamic_timeout(expr, endpoint, ctx),
            None => None,
        };
        let mut request =
            outbound_request(endpoint, ctx, self.keep_request_headers).map_err(|message| {
                SendFault {
                    code: error_codes::CONNECTION_FAILED,
                    message,
                }
            })?;
        if let Some(timeout) = timeout {
            request.extensions_mut().insert(timeout);
        }
        if ctx.is_true(Scope::Axis2, props::POST_TO_URI) {
            request
                .extensions_mut()
                .insert(crate::runtime::AbsoluteRequestTarget);
        }
        if ctx.is_true(Scope::Axis2, props::NO_KEEPALIVE) {
            request.extensions_mut().insert(crate::runtime::NoKeepAlive);
        }
        if let Some(host) = ctx.get(Scope::Axis2, "REQUEST_HOST_HEADER") {
            request
                .extensions_mut()
                .insert(crate::runtime::RequestHostHeader(host));
        }
        self.sender.send(endpoint, request).await
    }

    pub(crate) async fn handle_fault(
        &self,
        fault: Fault,
        ctx: &mut MessageContext<B>,
        route: &Route,
    ) -> Response<B> {
        set_error(ctx, &fault);
        let handler = route
            .fault_sequence
            .clone()
            .or_else(|| self.sequences.get("fault").cloned());
        if let Some(handler) = handler {
            // A fault handler sees the request as it was; a half-built reply is not its message.
            ctx.payload.take_if(|_| fault.status.is_some());
            match self.run_sequence(handler, ctx, route, 1).await {
                Ok(Ended::Responded(response)) => return response,
                // A handler that drops the message ends it as a drop anywhere does (MI test
                // SequenceIntegrationNonExistingSequenceNegativeTestCase: an empty answer).
                Ok(Ended::Dropped) => return accepted(),
                Ok(_) => {}
                Err(inner) => {
                    tracing::error!(target: "conflux::mediation", "{{{}}} the fault sequence failed too: {}", ctx.artifact, inner.message)
                }
            }
        }
        self.default_fault(&fault, ctx)
    }

    /// With `FORCE_ERROR_ON_SOAP_FAULT` set, a SOAP fault reply is a failure of the endpoint: the
    /// fault handler runs with ERROR_CODE 500000 (SYN `SynapseCallbackReceiver`,
    /// `SynapseConstants.ENDPOINT_CUSTOM_ERROR`). Only then is the reply read.
    pub(crate) async fn soap_fault_is_an_error(
        &self,
        ctx: &mut MessageContext<B>,
    ) -> Result<(), Fault> {
        if !ctx.is_true(Scope::Default, props::FORCE_ERROR_ON_SOAP_FAULT) {
            return Ok(());
        }
        ctx.build_payload(self.max_message_bytes)
            .await
            .map_err(|e| Fault::payload(e, true))?;
        match ctx
            .payload
            .as_ref()
            .and_then(crate::runtime::payload::soap_fault_reason)
        {
            Some(reason) => Err(Fault {
                code: ENDPOINT_CUSTOM_ERROR,
                message: reason,
                status: None,
            }),
            None => Ok(()),
        }
    }

    /// The answer to a failure no handler answered: MI's error code, the status for it.
    fn default_fault(&self, fault: &Fault, ctx: &MessageContext<B>) -> Response<B> {
        tracing::warn!(target: "conflux::mediation", "{{{}}} {} (error code {}); no fault sequence answered the client", ctx.artifact, fault.message, fault.code);
        let mut response = fault::default_response(fault.code, &fault.message, ctx.fault_format);
        if let Some(status) = fault.status {
            *response.status_mut() = status;
        }
        response
    }
}

/// The error properties a fault handler reads (SYN `FaultHandler.handleFault`), unless
/// `<throwError>` set them for this failure.
fn set_error<B: MessageBody>(ctx: &mut MessageContext<B>, fault: &Fault) {
    if std::mem::take(&mut ctx.thrown_error) {
        return;
    }
    ctx.properties
        .insert(props::ERROR_CODE.into(), fault.code.to_string());
    ctx.properties
        .insert(props::ERROR_MESSAGE.into(), fault.message.clone());
    ctx.properties
        .insert(props::ERROR_DETAIL.into(), fault.message.clone());
    ctx.properties
        .insert(props::ERROR_EXCEPTION.into(), fault.message.clone());
}

/// The message becomes the backend's reply.
pub(crate) fn become_response<B: MessageBody>(ctx: &mut MessageContext<B>, response: Response<B>) {
    let (parts, body) = response.into_parts();
    ctx.is_response = true;
    ctx.status = parts.status;
    ctx.headers = parts.headers;
    ctx.body = body;
    ctx.axis2
        .insert(props::HTTP_SC.into(), parts.status.as_u16().to_string());
    ctx.axis2.remove(props::NO_ENTITY_BODY);
    ctx.axis2.remove(props::CONTENT_TYPE);
    ctx.axis2.remove(props::MESSAGE_TYPE);
    ctx.payload = None;
    ctx.fault_response = false;
}

/// An endpoint's `<duration>{expr}</duration>` for this message, in milliseconds.
fn dynamic_timeout<B: MessageBody>(
    expr: &crate::runtime::value::ValueSource,
    endpoint: &Endpoint,
    ctx: &MessageContext<B>,
) -> Option<ResponseTimeout> {
    let text = expr.resolve(ctx).unwrap_or_default();
    // XPath numbers come as Java doubles ("3000.0").
    let parsed = text
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| ResponseTimeout(std::time::Duration::from_millis(ms as u64)));
    if parsed.is_none() {
        // EndpointDefinition.evaluateDynamicEndpointTimeout: a value that is not a number is
        // warned about and the global timeout applies.
        tracing::warn!(target: "conflux::mediation", "Error while evaluating dynamic endpoint timeout expression: {} in endpoint: '{}' gave {text:?}. Using the global timeout as the effective timeout.", expr.describe(), endpoint.name);
    }
    parsed
}

/// The endpoint a `<send/>` without one uses: the message's `To` address.
pub(crate) fn to_address_endpoint() -> Arc<Endpoint> {
    static DEFAULT: std::sync::OnceLock<Arc<Endpoint>> = std::sync::OnceLock::new();
    DEFAULT
        .get_or_init(|| {
            Arc::new(Endpoint {
                // No state in the transport's table: an implicit endpoint is never suspended.
                id: usize::MAX,
                name: Arc::from("AnonymousEndpoint"),
                kind: EndpointKind::Default,
                timeout: None,
                dynamic_timeout: None,
                timeout_action: TimeoutAction::Never,
                suspension: Default::default(),
            })
        })
        .clone()
}

/// MI's implicit acknowledgement: 202 with an empty body.
pub fn accepted<B: MessageBody>() -> Response<B> {
    let mut r = Response::new(B::default());
    *r.status_mut() = StatusCode::ACCEPTED;
    r
}

/// The client's answer from the current message.
pub(crate) fn response_from<B: MessageBody>(
    ctx: &mut MessageContext<B>,
) -> Result<Response<B>, Fault> {
    let body = if ctx.is_true(Scope::Axis2, props::NO_ENTITY_BODY) {
        ctx.payload = None;
        B::default()
    } else {
        ctx.take_outgoing_body()
            .map_err(|e| Fault::mediation(e.to_string()))?
    };
    let status = ctx
        .get(Scope::Axis2, props::HTTP_SC)
        .and_then(|s| s.trim().parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(if ctx.fault_response {
            StatusCode::INTERNAL_SERVER_ERROR
        } else if ctx.is_response {
            ctx.status
        } else {
            StatusCode::OK
        });
    let no_body = ctx.is_true(Scope::Axis2, props::NO_ENTITY_BODY);
    let mut headers = if ctx.is_response {
        std::mem::take(&mut ctx.headers)
    } else {
        // A request turned into a response keeps the headers mediators set on it, and the type
        // of the body it carries back (the echo idiom returns the request's own content).
        let mut h = http::HeaderMap::new();
        for name in &ctx.headers_set {
            if let Some(v) = ctx.headers.get(name) {
                h.insert(name.clone(), v.clone());
            }
        }
        if let Some(ct) = ctx.headers.get(CONTENT_TYPE) {
            h.entry(CONTENT_TYPE).or_insert_with(|| ct.clone());
        }
        h
    };
    if let Some(ct) = content_type_to_write(ctx, headers.get(CONTENT_TYPE)) {
        headers.insert(CONTENT_TYPE, ct);
    }
    if no_body {
        headers.remove(CONTENT_LENGTH);
    }
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// The Content-Type a message goes out with: the `ContentType`/`messageType` a mediator set, unless
/// the header already names that media type (it then carries the charset the formatter added).
fn content_type_to_write<B: MessageBody>(
    ctx: &MessageContext<B>,
    current: Option<&HeaderValue>,
) -> Option<HeaderValue> {
    let wanted = ctx
        .get(Scope::Axis2, props::CONTENT_TYPE)
        .or_else(|| ctx.get(Scope::Axis2, props::MESSAGE_TYPE))?;
    let media_type = |t: &str| {
        t.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    match current.and_then(|c| c.to_str().ok()) {
        Some(c) if media_type(c) == media_type(&wanted) => Some(HeaderValue::from_str(c).ok()?),
        _ => HeaderValue::try_from(wanted).ok(),
    }
}

/// The request to send to `endpoint` from the current message.
fn outbound_request<B: MessageBody>(
    endpoint: &Endpoint,
    ctx: &mut MessageContext<B>,
    keep_request_headers: bool,
) -> Result<Request<B>, String> {
    let (uri, method) = match &endpoint.kind {
        EndpointKind::Address {
            uri,
            format,
            addressing,
        } => {
            // Axis2FlexibleMEPClient: the postfix goes on for a REST message only; a forced SOAP
            // format never takes it.
            let rest = match format {
                Some(EndpointFormat::Soap11 | EndpointFormat::Soap12) => false,
                Some(EndpointFormat::Rest) => true,
                _ => ctx.method != Method::POST || ctx.doing_rest,
            };
            let uri = match ctx.get(Scope::Axis2, props::REST_URL_POSTFIX) {
                Some(postfix) if rest => append_postfix(uri, Some(&postfix)),
                _ => uri.clone(),
            };
            let method = force_format(*format, ctx);
            if *addressing {
                crate::runtime::addressing::engage(ctx, &uri)?;
            }
            (uri, method)
        }
        EndpointKind::Http { template, method } => {
            // MI expands only when the message carries uri.var.* / query.param.* properties
            // (SYN endpoints/HTTPEndpoint.java).
            let has_variables = ctx
                .properties
                .keys()
                .any(|k| k.starts_with("uri.var.") || k.starts_with("query.param."));
            let expanded = template
                .expand_for_http_endpoint(has_variables, |name| ctx.get(Scope::Default, name));
            // HTTPEndpoint.processHttpMethod marks the definition an HTTP endpoint (which drops
            // REST_URL_POSTFIX) only when it has a method; without one the postfix goes on like
            // an address endpoint's (MI test ESBJAVA4852URITemplateWithCompleteURLTestCase).
            let expanded = match ctx.get(Scope::Axis2, props::REST_URL_POSTFIX) {
                Some(postfix)
                    if method.is_none() && (ctx.method != Method::POST || ctx.doing_rest) =>
                {
                    append_postfix(&expanded, Some(&postfix))
                }
                _ => expanded,
            };
            (expanded, method.clone())
        }
        EndpointKind::Missing => {
            return Err(format!(
                "reference to non-existent endpoint for key : {}",
                endpoint.name
            ));
        }
        // Groups, dynamic and WSDL endpoints never reach here: `Engine::send` resolves them (and
        // refuses a recipient list).
        EndpointKind::Group(_)
        | EndpointKind::Dynamic(_)
        | EndpointKind::Wsdl(_)
        | EndpointKind::RecipientList(_) => {
            return Err(format!("endpoint group {} has no address", endpoint.name));
        }
        EndpointKind::Default => {
            let to = ctx.to_address();
            if !(to.starts_with("http://") || to.starts_with("https://")) {
                return Err(format!(
                    "send to the message's To address {to:?}: a default endpoint needs an absolute http(s) address (set one with <header name=\"To\" value=\"http://...\"/>)"
                ));
            }
            (to.to_string(), None)
        }
    };
    let body = if ctx.is_true(Scope::Axis2, props::NO_ENTITY_BODY) {
        ctx.payload = None;
        ctx.headers.remove(CONTENT_LENGTH);
        B::default()
    } else {
        ctx.take_outgoing_body().map_err(|e| e.to_string())?
    };
    let uri: Uri = uri.parse().map_err(|e| {
        format!(
            "endpoint {} target {uri:?} is not a valid URI: {e}",
            endpoint.name
        )
    })?;
    let method = ctx
        // Only a method a mediator set (the request's own is the default below); an http
        // endpoint's method wins over the request's.
        .axis2
        .get(props::HTTP_METHOD)
        .cloned()
        .and_then(|m| Method::from_bytes(m.trim().to_ascii_uppercase().as_bytes()).ok())
        .or(method)
        .unwrap_or_else(|| ctx.method.clone());
    let mut headers = if keep_request_headers {
        ctx.headers.clone()
    } else {
        std::mem::take(&mut ctx.headers)
    };
    if let Some(ct) = content_type_to_write(ctx, headers.get(CONTENT_TYPE)) {
        headers.insert(CONTENT_TYPE, ct);
    }
    // An action set with <header name="Action"> is the outgoing SOAPAction (Axis2 writes the
    // message's WSA action there; MI test SetHeaderActionTestCase).
    if let Some(action) = ctx.addressing.get("Action")
        && headers.contains_key("soapaction")
        && let Ok(value) = HeaderValue::try_from(format!("\"{action}\""))
    {
        headers.insert("soapaction", value);
    }
    let mut request = Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
}

/// What an endpoint's `format` does to the message before it is written (Axis2FlexibleMEPClient):
/// `soap11`/`soap12` send a SOAP envelope of that version with POST (the SOAPAction from the WSA
/// action when there is none), `pox` plain XML, `get` a GET; the method to use, if forced.
fn force_format<B: MessageBody>(
    format: Option<EndpointFormat>,
    ctx: &mut MessageContext<B>,
) -> Option<Method> {
    let action = ctx.wsa_action();
    // SOAP 1.2 carries the action as a Content-Type parameter (Axis2 SOAPMessageFormatter).
    let soap12 = match &action {
        Some(action) => format!("application/soap+xml; action=\"{action}\""),
        None => "application/soap+xml".to_string(),
    };
    let message_type = match format? {
        EndpointFormat::Soap11 => "text/xml",
        EndpointFormat::Soap12 => soap12.as_str(),
        EndpointFormat::Pox => "application/xml",
        EndpointFormat::Get => return Some(Method::GET),
        EndpointFormat::Rest => return None,
    };
    let soap = format != Some(EndpointFormat::Pox);
    ctx.doing_rest = !soap;
    ctx.axis2
        .insert(props::MESSAGE_TYPE.into(), message_type.to_string());
    ctx.axis2.remove(props::CONTENT_TYPE);
    if let Ok(value) = HeaderValue::try_from(message_type) {
        ctx.headers.insert(CONTENT_TYPE, value);
    }
    if format == Some(EndpointFormat::Soap12) {
        ctx.headers.remove("soapaction");
    } else if soap
        && !ctx.headers.contains_key("soapaction")
        && let Some(action) = &action
        && let Ok(value) = HeaderValue::try_from(format!("\"{action}\""))
    {
        ctx.headers.insert("soapaction", value);
    }
    soap.then_some(Method::POST)
}

/// Appends `REST_URL_POSTFIX` to an address as Synapse does: a query postfix is added as a query,
/// a path postfix joined with exactly one `/` (SYN `Axis2FlexibleMEPClient`, MI test `RestPostFixUrlTest`).
pub fn append_postfix(address: &str, postfix: Option<&str>) -> String {
    let Some(postfix) = postfix.filter(|p| !p.is_empty()) else {
        return address.to_string();
    };
    // Built with one allocation and no formatting machinery: this runs per forwarded request.
    let (sep, rest) = if let Some(query) = postfix.strip_prefix('?') {
        (Some(if address.contains('?') { '&' } else { '?' }), query)
    } else {
        match (address.ends_with('/'), postfix.starts_with('/')) {
            (true, true) => (None, &postfix[1..]),
            (false, false) => (Some('/'), postfix),
            _ => (None, postfix),
        }
    };
    let mut url = String::with_capacity(address.len() + 1 + rest.len());
    url.push_str(address);
    if let Some(sep) = sep {
        url.push(sep);
    }
    url.push_str(rest);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    // MI RestPostFixUrlTest: /client/x?y=1 against http://b/svc -> http://b/svc/x?y=1
    #[test]
    fn postfix_is_joined_like_synapse() {
        assert_eq!(
            append_postfix("http://b/svc", Some("/x?y=1")),
            "http://b/svc/x?y=1"
        );
        assert_eq!(
            append_postfix("http://b/svc/", Some("/x")),
            "http://b/svc/x"
        );
        assert_eq!(
            append_postfix("http://b/svc", Some("?y=1")),
            "http://b/svc?y=1"
        );
        assert_eq!(
            append_postfix("http://b/svc?a=1", Some("?y=1")),
            "http://b/svc?a=1&y=1"
        );
        assert_eq!(append_postfix("http://b/svc", None), "http://b/svc");
        assert_eq!(append_postfix("http://b/svc", Some("")), "http://b/svc");
    }
}

#[cfg(test)]
mod flow_tests {
    //! The message flow of synapse-subset.md §3.6 over an in-memory sender.

    use std::sync::Mutex;

    use bytes::Bytes;
    use http::HeaderMap;
    use http_body_util::{BodyExt, Full};

    use super::*;
    use crate::runtime::endpoint::SendFuture;
    use crate::runtime::mediators::{
        Arg, Header, HeaderContent, HeaderTarget, Loopback, MediaType, PayloadFactory, Property,
        PropertyAction, PropertyName, PropertyType, Respond, Send,
    };
    use crate::runtime::value::ValueSource;

    type B = Full<Bytes>;

    /// Answers every send with a fixed result and records the URIs it was asked for.
    struct FakeSender {
        result: Result<(u16, &'static str), u32>,
        seen: Mutex<Vec<String>>,
    }

    impl Sender<B> for FakeSender {
        fn send<'a>(&'a self, _endpoint: &'a Endpoint, request: Request<B>) -> SendFuture<'a, B> {
            self.seen.lock().unwrap().push(request.uri().to_string());
            let result = self.result;
            Box::pin(async move {
                match result {
                    Ok((status, body)) => {
                        let mut r = Response::new(B::from(Bytes::from_static(body.as_bytes())));
                        *r.status_mut() = StatusCode::from_u16(status).unwrap();
                        Ok(r)
                    }
                    Err(code) => Err(SendFault {
                        code,
                        message: "Error connecting to the back end".into(),
                    }),
                }
            })
        }
    }

    /// `<send>` to the test backend.
    fn send_to_backend() -> Mediator {
        Mediator::Send(Send {
            endpoint: Some(endpoint()),
            receive: None,
        })
    }

    /// A text payloadFactory whose `$n` are these default-scope properties.
    fn text_of_properties(format: &str, names: &[&str]) -> Mediator {
        Mediator::PayloadFactory(PayloadFactory {
            template: None,
            media_type: MediaType::Text,
            format: format.into(),
            args: names
                .iter()
                .map(|n| Arg::literal(ValueSource::Property(Scope::Default, (*n).into())))
                .collect(),
        })
    }

    fn endpoint() -> Arc<Endpoint> {
        Arc::new(Endpoint::plain_address(0, "be", "http://backend/svc"))
    }

    #[test]
    fn only_a_static_address_forward_reads_no_properties() {
        let forward = |endpoint: Arc<Endpoint>| {
            Route {
                in_sequence: seq(vec![Mediator::Send(Send {
                    endpoint: Some(endpoint),
                    receive: None,
                })]),
                ..Route::default()
            }
            .planned()
        };
        assert!(forward(endpoint()).reads_no_properties());
        let mut template = (*endpoint()).clone();
        template.kind = EndpointKind::Http {
            template: crate::dispatch::EndpointUriTemplate::parse("http://b/{uri.var.id}").unwrap(),
            method: None,
        };
        assert!(!forward(Arc::new(template)).reads_no_properties());
        let mut dynamic = (*endpoint()).clone();
        dynamic.dynamic_timeout = Some(ValueSource::Property(Scope::Default, "t".into()));
        assert!(!forward(Arc::new(dynamic)).reads_no_properties());
        let mediated = Route {
            in_sequence: seq(vec![
                text_of_properties("$1", &["REST_METHOD"]),
                send_to_backend(),
            ]),
            ..Route::default()
        }
        .planned();
        assert!(!mediated.reads_no_properties());
        // An empty fault sequence (the tooling default) reads nothing; one that does something
        // may read anything.
        let with_empty_fault_sequence = Route {
            fault_sequence: seq(vec![]),
            ..forward(endpoint())
        }
        .planned();
        assert!(with_empty_fault_sequence.reads_no_properties());
        let with_fault_sequence = Route {
            fault_sequence: seq(vec![text_of_properties("$1", &["REST_METHOD"])]),
            ..forward(endpoint())
        }
        .planned();
        assert!(!with_fault_sequence.reads_no_properties());
        // Not planned: the general flow.
        let unplanned = Route {
            in_sequence: seq(vec![send_to_backend()]),
            ..Route::default()
        };
        assert!(!unplanned.reads_no_properties());
    }

    fn seq(mediators: Vec<Mediator>) -> Option<Arc<Sequence>> {
        Some(Arc::new(Sequence {
            name: "s".into(),
            mediators,
            on_error: None,
        }))
    }

    fn ctx() -> MessageContext<B> {
        let mut c = MessageContext::new(
            Method::GET,
            Uri::from_static("/api/x?y=1"),
            HeaderMap::new(),
            B::default(),
            "api:A".into(),
        );
        c.axis2
            .insert(props::REST_URL_POSTFIX.into(), "/x?y=1".into());
        c
    }

    async fn run(
        route: &Route,
        sender: &FakeSender,
        sequences: &HashMap<String, Arc<Sequence>>,
    ) -> (StatusCode, HeaderMap, String) {
        let engine = Engine {
            sequences,
            templates: &HashMap::new(),
            sender,
            keep_request_headers: true,
            max_message_bytes: crate::runtime::payload::DEFAULT_MAX_MESSAGE_BYTES,
            max_inflight_branches: crate::runtime::limits::DEFAULT_MAX_INFLIGHT_BRANCHES,
            attached: &Default::default(),
        };
        let r = engine.mediate(route, ctx()).await;
        let (parts, body) = r.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        (
            parts.status,
            parts.headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    fn sender(result: Result<(u16, &'static str), u32>) -> FakeSender {
        FakeSender {
            result,
            seen: Mutex::new(Vec::new()),
        }
    }

    // passthru ServerWorker#sendAck: nothing answered -> 202, empty.
    #[tokio::test]
    async fn a_sequence_that_answers_nothing_gets_the_implicit_202() {
        let route = Route {
            in_sequence: seq(vec![]),
            ..Route::default()
        };
        let (status, _, body) = run(&route, &sender(Ok((200, ""))), &HashMap::new()).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert!(body.is_empty());
    }

    #[tokio::test]
    async fn payload_factory_and_respond_answer_by_themselves() {
        let route = Route {
            in_sequence: seq(vec![
                Mediator::PayloadFactory(PayloadFactory {
                    template: None,
                    media_type: MediaType::Json,
                    format: r#"{"a":"$1"}"#.into(),
                    args: vec![Arg::literal(ValueSource::Literal("b".into()))],
                }),
                Mediator::Property(Property {
                    name: PropertyName::Fixed(props::HTTP_SC.into()),
                    scope: Scope::Axis2,
                    action: PropertyAction::Set(ValueSource::Literal("201".into())),
                    value_type: PropertyType::String,
                    pattern: None,
                }),
                Mediator::Respond(Respond),
            ]),
            ..Route::default()
        };
        let (status, headers, body) = run(&route, &sender(Ok((200, ""))), &HashMap::new()).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        assert_eq!(body, r#"{"a":"b"}"#);
    }

    #[tokio::test]
    async fn send_appends_the_postfix_and_the_out_sequence_sees_the_reply() {
        let route = Route {
            in_sequence: seq(vec![send_to_backend()]),
            out_sequence: seq(vec![
                Mediator::Header(Header {
                    target: HeaderTarget::Transport("X-Out".into()),
                    content: Some(HeaderContent::Value(ValueSource::Property(
                        Scope::Axis2,
                        props::HTTP_SC.into(),
                    ))),
                }),
                Mediator::Send(Send {
                    endpoint: None,
                    receive: None,
                }),
            ]),
            ..Route::default()
        };
        let s = sender(Ok((200, "reply")));
        let (status, headers, body) = run(&route, &s, &HashMap::new()).await;
        assert_eq!(
            s.seen.lock().unwrap().as_slice(),
            ["http://backend/svc/x?y=1"]
        );
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["x-out"], "200");
        assert_eq!(body, "reply");
    }

    #[tokio::test]
    async fn a_failed_send_runs_the_fault_sequence_with_error_code() {
        let route = Route {
            in_sequence: seq(vec![send_to_backend()]),
            fault_sequence: seq(vec![
                text_of_properties("failed $1", &[props::ERROR_CODE]),
                Mediator::Respond(Respond),
            ]),
            ..Route::default()
        };
        let (status, _, body) = run(&route, &sender(Err(101_503)), &HashMap::new()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "failed 101503");
    }

    #[tokio::test]
    async fn without_a_fault_sequence_the_client_gets_a_gateway_status() {
        let route = Route {
            in_sequence: seq(vec![send_to_backend()]),
            ..Route::default()
        };
        let (status, _, body) = run(&route, &sender(Err(101_504)), &HashMap::new()).await;
        assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
        assert!(body.contains("101504"), "{body}");
    }

    fn set(scope: Scope, name: &str, value: &str) -> Mediator {
        Mediator::Property(Property {
            name: PropertyName::Fixed(name.into()),
            scope,
            action: PropertyAction::Set(ValueSource::Literal(value.into())),
            value_type: PropertyType::String,
            pattern: None,
        })
    }

    // OUT_ONLY (default scope): the backend gets the message, the client MI's 202 (DOCS
    // property-reference/generic-properties).
    #[tokio::test]
    async fn out_only_sends_and_answers_202() {
        let route = Route {
            in_sequence: seq(vec![
                set(Scope::Default, props::OUT_ONLY, "true"),
                send_to_backend(),
            ]),
            ..Route::default()
        };
        let s = sender(Ok((200, "ignored")));
        let (status, _, body) = run(&route, &s, &HashMap::new()).await;
        assert_eq!(s.seen.lock().unwrap().len(), 1);
        assert_eq!(status, StatusCode::ACCEPTED);
        assert!(body.is_empty());
    }

    // FORCE_ERROR_ON_SOAP_FAULT: a SOAP fault reply runs the fault handler with 500000
    // (SYN SynapseCallbackReceiver, SynapseConstants.ENDPOINT_CUSTOM_ERROR).
    #[tokio::test]
    async fn force_error_on_soap_fault_runs_the_fault_sequence() {
        let route = Route {
            in_sequence: seq(vec![
                set(Scope::Default, props::FORCE_ERROR_ON_SOAP_FAULT, "true"),
                send_to_backend(),
            ]),
            fault_sequence: seq(vec![
                text_of_properties("failed $1: $2", &[props::ERROR_CODE, props::ERROR_MESSAGE]),
                Mediator::Respond(Respond),
            ]),
            ..Route::default()
        };
        let fault = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>down</faultstring></s:Fault></s:Body></s:Envelope>";
        let (_, _, body) = run(&route, &sender(Ok((200, fault))), &HashMap::new()).await;
        assert_eq!(body, "failed 500000: down");
    }

    // FORCE_SC_ACCEPTED (axis2): the client's answer is 202 whatever the backend said.
    #[tokio::test]
    async fn force_sc_accepted_answers_202() {
        let route = Route {
            in_sequence: seq(vec![
                set(Scope::Axis2, props::FORCE_SC_ACCEPTED, "true"),
                send_to_backend(),
            ]),
            ..Route::default()
        };
        let (status, _, body) = run(&route, &sender(Ok((500, "boom"))), &HashMap::new()).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert!(body.is_empty());
    }

    #[tokio::test]
    async fn loopback_runs_the_out_sequence() {
        let route = Route {
            in_sequence: seq(vec![Mediator::Loopback(Loopback)]),
            out_sequence: seq(vec![
                Mediator::Header(Header {
                    target: HeaderTarget::Transport("X-Looped".into()),
                    content: Some(HeaderContent::Value(ValueSource::Literal("yes".into()))),
                }),
                Mediator::Respond(Respond),
            ]),
            ..Route::default()
        };
        let (status, headers, _) = run(&route, &sender(Ok((200, ""))), &HashMap::new()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["x-looped"], "yes");
    }

    #[test]
    fn a_loop_of_sequence_references_fails_instead_of_overflowing() {
        // On a thread with a mediation worker's stack (the server's runtime sets the same size).
        std::thread::Builder::new()
            .stack_size(crate::runtime::limits::WORKER_STACK_BYTES)
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(a_loop_of_sequence_references_fails())
            })
            .unwrap()
            .join()
            .unwrap();
    }

    async fn a_loop_of_sequence_references_fails() {
        let looping = Arc::new(Sequence {
            name: "loop".into(),
            mediators: vec![Mediator::Sequence(SequenceCall::Named(
                ValueSource::Literal("loop".into()),
            ))],
            on_error: None,
        });
        let mut sequences = HashMap::new();
        sequences.insert("loop".to_string(), looping.clone());
        let route = Route {
            in_sequence: Some(looping),
            ..Route::default()
        };
        let (status, _, body) = run(&route, &sender(Ok((200, ""))), &sequences).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.contains("nested deeper"), "{body}");
    }

    /// A transport-scope property mediator.
    fn transport(name: &str, action: PropertyAction) -> Mediator {
        Mediator::Property(Property {
            name: PropertyName::Fixed(name.into()),
            scope: Scope::Transport,
            action,
            value_type: PropertyType::String,
            pattern: None,
        })
    }

    // runtime/direct.rs: each idiom answers the same on the direct path as on the general flow,
    // for a reply, a failed send and a timeout; the planned route is direct, the unplanned general.
    #[tokio::test]
    async fn direct_routes_answer_as_the_general_flow_does() {
        use crate::runtime::mediators::Call;
        let call = Mediator::Call(Call {
            endpoint: endpoint(),
        });
        let send_back = Mediator::Send(Send {
            endpoint: None,
            receive: None,
        });
        let set = |name: &str, v: &str| {
            transport(name, PropertyAction::Set(ValueSource::Literal(v.into())))
        };
        let routes = [
            Route {
                in_sequence: seq(vec![send_to_backend()]),
                out_sequence: seq(vec![]),
                fault_sequence: seq(vec![]),
                ..Route::default()
            },
            Route {
                in_sequence: seq(vec![set("X-Req", "1"), send_to_backend()]),
                out_sequence: seq(vec![set("X-Reply", "2"), send_back.clone()]),
                ..Route::default()
            },
            Route {
                in_sequence: seq(vec![
                    call.clone(),
                    set("X-Reply", "3"),
                    transport("X-Gone", PropertyAction::Remove),
                    Mediator::Respond(Respond),
                ]),
                fault_sequence: seq(vec![]),
                ..Route::default()
            },
            Route {
                target: Some(endpoint()),
                out_sequence: seq(vec![send_back]),
                ..Route::default()
            },
        ];
        // A timeout the endpoint discards: 202 on both paths.
        let mut discarding = (*endpoint()).clone();
        discarding.timeout_action = TimeoutAction::Discard;
        let discarding = Route {
            in_sequence: seq(vec![Mediator::Send(Send {
                endpoint: Some(Arc::new(discarding)),
                receive: None,
            })]),
            out_sequence: seq(vec![set("X-Reply", "4")]),
            ..Route::default()
        };
        for (i, route) in routes.into_iter().chain([discarding]).enumerate() {
            let planned = route.clone().planned();
            assert!(
                matches!(planned.direct, DirectPlan::Direct(_)),
                "route {i} is direct"
            );
            assert!(matches!(route.direct, DirectPlan::General));
            for result in [
                Ok((201, "reply")),
                Err(error_codes::CONNECTION_FAILED),
                Err(error_codes::TIMEOUT),
            ] {
                let general = run(&route, &sender(result), &HashMap::new()).await;
                let direct = run(&planned, &sender(result), &HashMap::new()).await;
                assert_eq!(direct, general, "route {i}, {result:?}");
            }
        }
    }
}
