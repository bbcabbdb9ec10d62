//! Endpoint groups: `<failover>` and `<loadbalance>` over child endpoints, as Synapse's
//! `endpoints/FailoverEndpoint.java`, `endpoints/LoadbalanceEndpoint.java`,
//! `endpoints/algorithms/RoundRobin.java` and `endpoints/algorithms/WeightedRoundRobin.java`
//! (wso2/wso2-synapse) choose between them.
//!
//! The choice is a pure state machine: [`EndpointGroup::choose`] is given whether each child is
//! ready (the transport's suspension state of a leaf, at the current time) and how often each
//! child was already tried for this message; [`EndpointGroup::retries_after`] says whether a
//! failure moves on to another child (`AbstractEndpoint.isRetry` and the load balancer's
//! `failover` flag). The sending itself is the engine's, over the same sender (pool, suspension
//! states) as every other endpoint.
//!
//! A load balancer with a `<session>` (SYN `endpoints/SALoadbalanceEndpoint.java`) first looks
//! for the message's session: a live one sends to its child only (309001 when that child is not
//! ready, the child's own fault when it fails); otherwise the message is load-balanced and may
//! fail over, and the session it opens is remembered ([`crate::runtime::lb_session`]).
//!
//! One deliberate difference: Synapse picks "the first ready child" again after every failure,
//! so a child that stays ready after failing (an error outside both error-code lists, or a
//! suspension of 0 ms) is retried forever. Conflux tries a child at most
//! `retriesBeforeSuspension + 1` times per message (exactly as often as Synapse does when its
//! timeout retries run out), then moves on.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use http::Response;

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;
use crate::runtime::endpoint::{
    Endpoint, EndpointKind, SendFault, SendFuture, TimeoutAction, error_codes,
};
use crate::runtime::engine::Engine;
use crate::runtime::lb_session::{
    self, Bound, ENDPOINT_SAL_NOT_READY, SessionAffinity, SessionKind,
};
use crate::runtime::payload::Payload;

/// `SynapseConstants.ENDPOINT_FO_NONE_READY` / `ENDPOINT_LB_NONE_READY`: no child of a group is
/// ready (both are 303000).
pub const GROUP_NONE_READY: u32 = 303_000;

/// Failover or load balance, with their flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    /// `dynamic` (the default): always start from the first ready child; static: keep sending to
    /// the child that was chosen last while it stays ready.
    Failover { dynamic: bool },
    /// Round robin; `failover` (the default): a failed message goes on to the next child.
    Loadbalance { failover: bool },
}

/// One child endpoint of a group.
#[derive(Debug, Clone)]
pub struct GroupChild {
    pub endpoint: Arc<Endpoint>,
    /// `<retryConfig><disabledErrorCodes>` of the child's definition.
    pub retry_disabled: Vec<i32>,
    /// `<retryConfig><enabledErrorCodes>`: when given, only these codes are retried.
    pub retry_enabled: Vec<i32>,
    /// The most sends to this child per message (see the module documentation).
    pub budget: u32,
}

impl GroupChild {
    /// `AbstractEndpoint.isRetry`: may the group try another child after this one failed?
    pub fn is_retry(&self, code: u32) -> bool {
        let code = i32::try_from(code).unwrap_or(i32::MAX);
        if self.retry_disabled.contains(&code) {
            false
        } else if !self.retry_enabled.is_empty() {
            self.retry_enabled.contains(&code)
        } else {
            true
        }
    }
}

/// A deployed failover or load-balance group.
#[derive(Debug)]
pub struct EndpointGroup {
    pub kind: GroupKind,
    pub children: Vec<GroupChild>,
    /// `buildMessage="true"` (informational: Conflux always holds the message of a group that
    /// may fail over, since a streamed body can be sent only once; MI makes the children
    /// content-aware for the same reason).
    pub build_message: bool,
    /// A load balancer's `WeightedRoundRobin` weights, one per child; `None`: plain round robin.
    pub weights: Option<Vec<u32>>,
    /// The round-robin position (`AlgorithmContext.currentEndpointIndex`), or the child a static
    /// failover sends to (`FailoverEndpoint.currentEndpoint`).
    cursor: Mutex<usize>,
    /// `WeightedRoundRobin`'s `EndpointState.currentWeight` of each child.
    weights_left: Mutex<Vec<u32>>,
    /// A load balancer's `<session>`: session affinity (SYN `SALoadbalanceEndpoint`).
    pub session: Option<SessionAffinity>,
}

impl EndpointGroup {
    pub fn new(kind: GroupKind, children: Vec<GroupChild>, build_message: bool) -> Self {
        EndpointGroup {
            kind,
            children,
            build_message,
            weights: None,
            cursor: Mutex::new(0),
            weights_left: Mutex::new(Vec::new()),
            session: None,
        }
    }

    /// A load balancer with session affinity.
    pub fn with_session(mut self, session: SessionAffinity) -> Self {
        self.session = Some(session);
        self
    }

    /// A load balancer with `WeightedRoundRobin`: `weights[i]` (at least 1) turns in a row for
    /// child `i`.
    pub fn weighted(mut self, weights: Vec<u32>) -> Self {
        let weights: Vec<u32> = weights.into_iter().map(|w| w.max(1)).collect();
        self.weights_left = Mutex::new(weights.clone());
        self.weights = Some(weights);
        self
    }

    /// `WeightedRoundRobin.getNextEndpoint`: the child at the cursor until its current weight is
    /// spent, then (weight reset) the next one. Readiness is not asked: a suspended child fails
    /// fast (303001) and the load balancer fails over from it, as in Synapse.
    fn next_weighted(&self, cursor: &mut usize, weights: &[u32]) -> usize {
        let n = weights.len();
        let mut left = self.weights_left.lock().unwrap_or_else(|e| e.into_inner());
        if left.len() != n {
            *left = weights.to_vec();
        }
        if *cursor >= n {
            *cursor = 0;
        }
        if left[*cursor] == 0 {
            left[*cursor] = weights[*cursor];
            *cursor = if *cursor == n - 1 { 0 } else { *cursor + 1 };
        }
        left[*cursor] = left[*cursor].saturating_sub(1);
        *cursor
    }

    /// Whether the message must be held in memory before the first send: a group that may send it
    /// again to another child.
    pub fn may_resend(&self) -> bool {
        match self.kind {
            GroupKind::Failover { .. } => true,
            // SALoadbalanceEndpointFactory never reads `failover`: the first message of a session
            // always fails over.
            GroupKind::Loadbalance { .. } if self.session.is_some() => true,
            GroupKind::Loadbalance { failover } => failover,
        }
    }

    /// The word MI's messages use for this group.
    pub fn label(&self) -> &'static str {
        match self.kind {
            GroupKind::Failover { .. } => "Failover",
            GroupKind::Loadbalance { .. } => "Loadbalance",
        }
    }

    /// The child to send to next, or `None` when no child is ready. `ready(i)` is child `i`'s
    /// `readyToSend()`; `tries[i]` how often child `i` was already sent this message.
    pub fn choose(&self, ready: impl Fn(usize) -> bool, tries: &[u32]) -> Option<usize> {
        let n = self.children.len();
        if n == 0 {
            return None;
        }
        let usable =
            |i: usize| tries.get(i).copied().unwrap_or(0) < self.children[i].budget && ready(i);
        let mut cursor = self.cursor.lock().unwrap_or_else(|e| e.into_inner());
        match self.kind {
            // FailoverEndpoint.sendMessage, dynamic: the first ready child.
            GroupKind::Failover { dynamic: true } => (0..n).find(|&i| usable(i)),
            // Static: the current child while it is ready, else the first ready one becomes current.
            GroupKind::Failover { dynamic: false } => {
                if *cursor < n && usable(*cursor) {
                    return Some(*cursor);
                }
                let found = (0..n).find(|&i| usable(i))?;
                *cursor = found;
                Some(found)
            }
            // RoundRobin.getNextEndpoint: take the child at the index, advance (wrapping), and stop
            // with none after more attempts than children.
            GroupKind::Loadbalance { .. } if self.weights.is_some() => {
                let weights = self.weights.as_deref().unwrap_or_default();
                // Passes over the children already tried up to their budget, for at most one
                // full weighted round.
                let round: u32 = weights.iter().sum();
                for _ in 0..=round {
                    let next = self.next_weighted(&mut cursor, weights);
                    if tries.get(next).copied().unwrap_or(0) < self.children[next].budget {
                        return Some(next);
                    }
                }
                None
            }
            GroupKind::Loadbalance { .. } => {
                let mut attempts = 0;
                loop {
                    let next = *cursor % n;
                    *cursor = if next == n - 1 { 0 } else { next + 1 };
                    attempts += 1;
                    if attempts > n {
                        return None;
                    }
                    if usable(next) {
                        return Some(next);
                    }
                }
            }
        }
    }

    /// After child `i` failed with `code`: does the message go on to another child
    /// (`onChildEndpointFail`)? A load balancer with `failover="false"` hands the fault on at once.
    pub fn retries_after(&self, i: usize, code: u32) -> bool {
        match self.kind {
            GroupKind::Loadbalance { failover: false } => false,
            _ => self.children.get(i).is_some_and(|c| c.is_retry(code)),
        }
    }
}

impl<B: MessageBody> Engine<'_, B> {
    /// `readyToSend()`: a leaf asks its suspension state, a missing key is never ready
    /// (`IndirectEndpoint`), a group is ready when it is not switched off and a child is ready.
    pub(crate) fn endpoint_ready(&self, endpoint: &Endpoint) -> bool {
        match &endpoint.kind {
            EndpointKind::Missing => false,
            // RecipientListEndpoint.readyToSend: not switched off, and a member is ready.
            EndpointKind::RecipientList(list) => {
                self.sender.is_ready(endpoint) && list.any_ready(|m| self.endpoint_ready(m))
            }
            EndpointKind::Group(group) => {
                self.sender.is_ready(endpoint)
                    && group
                        .children
                        .iter()
                        .any(|c| self.endpoint_ready(&c.endpoint))
            }
            _ => self.sender.is_ready(endpoint),
        }
    }

    /// Sends the message through a group: to the child [`EndpointGroup::choose`] picks, and on a
    /// failure that [`EndpointGroup::retries_after`] allows, to the next one, until a child answers
    /// or none is left. The fault is then the last child's (Synapse keeps the last endpoint's
    /// ERROR_CODE), or 303000 when no child was ready at all.
    pub(crate) fn send_group<'a>(
        &'a self,
        endpoint: &'a Endpoint,
        group: &'a EndpointGroup,
        ctx: &'a mut MessageContext<B>,
    ) -> SendFuture<'a, B> {
        Box::pin(async move {
            if !self.sender.is_ready(endpoint) {
                // Sic: MI's message is only the name (Java operator precedence in
                // `"... : " + getName() != null ? getName() : ...`).
                return Err(SendFault {
                    code: GROUP_NONE_READY,
                    message: endpoint.name.to_string(),
                });
            }
            if let Some(affinity) = &group.session {
                return self.send_on_session(endpoint, group, affinity, ctx).await;
            }
            if group.may_resend() {
                // A streamed body can be sent only once: hold it to send it again (MI builds the
                // message for its failover children, FailoverEndpoint: setContentAware).
                ctx.build_payload(self.max_message_bytes)
                    .await
                    .map_err(|e| SendFault {
                        code: 0,
                        message: format!("Error while building the message: {e}"),
                    })?;
            }
            let headers = group.may_resend().then(|| ctx.headers.clone());
            let mut tries = vec![0u32; group.children.len()];
            let mut last: Option<SendFault> = None;
            loop {
                let Some(i) =
                    group.choose(|i| self.endpoint_ready(&group.children[i].endpoint), &tries)
                else {
                    if let Some(fault) = last {
                        return Err(fault);
                    }
                    let message = format!(
                        "{} endpoint : {} - no ready child endpoints",
                        group.label(),
                        endpoint.name
                    );
                    tracing::warn!(target: "conflux::endpoint", "{message}");
                    return Err(SendFault {
                        code: GROUP_NONE_READY,
                        message,
                    });
                };
                let child = &group.children[i];
                if tries.iter().any(|t| *t > 0)
                    && let Some(headers) = &headers
                {
                    ctx.headers = headers.clone();
                }
                tries[i] += 1;
                match self.send(&child.endpoint, ctx).await {
                    Ok(response) => return Ok(response),
                    Err(fault) => {
                        tracing::warn!(target: "conflux::endpoint", "{} endpoint {} detected a failure in child endpoint {} ({fault})", group.label(), endpoint.name, child.endpoint.name);
                        // A timeout the child discards is not handed to the group
                        // (AbstractEndpoint.onFault with responseAction discard).
                        let discarded = fault.code == error_codes::TIMEOUT
                            && child.endpoint.timeout_action == TimeoutAction::Discard;
                        if discarded || !group.retries_after(i, fault.code) {
                            return Err(fault);
                        }
                        last = Some(fault);
                    }
                }
            }
        })
    }
}

/// The request's SOAP envelope, when its built payload is one (the SOAP session dispatchers read
/// its header).
fn soap_envelope<B>(ctx: &MessageContext<B>) -> Option<&str> {
    match &ctx.payload {
        Some(Payload::Xml {
            text,
            soap: Some(_),
        }) => Some(text),
        _ => None,
    }
}

impl<B: MessageBody> Engine<'_, B> {
    /// `SALoadbalanceEndpoint.sendMessage`: on the message's live session, to its child only;
    /// otherwise a new session, load-balanced with fail-over, bound to the child that takes it.
    async fn send_on_session(
        &self,
        endpoint: &Endpoint,
        group: &EndpointGroup,
        affinity: &SessionAffinity,
        ctx: &mut MessageContext<B>,
    ) -> Result<Response<B>, SendFault> {
        let build = |e: crate::runtime::payload::PayloadError| SendFault {
            code: 0,
            message: format!("Error while building the message: {e}"),
        };
        // The SOAP dispatchers read the envelope (Synapse builds every message but an HTTP
        // session's); a new session may be resent, so its message is held too (below).
        if affinity.kind != SessionKind::Http {
            ctx.build_payload(self.max_message_bytes)
                .await
                .map_err(build)?;
        }
        let ids = lb_session::request_ids(affinity.kind, &ctx.headers, soap_envelope(ctx));
        let current = affinity.table().find(&ids, Instant::now());
        if let Some(bound) = current {
            return self
                .send_on_current_session(endpoint, group, affinity, bound, ctx)
                .await;
        }
        // sendMessageOnNewSession: "we are free to failover if the currently selected endpoint is
        // not working. but for failover to work, we have to build the soap envelope."
        ctx.build_payload(self.max_message_bytes)
            .await
            .map_err(build)?;
        let headers = ctx.headers.clone();
        let client_id = ids.first().filter(|_| !affinity.server_initiated());
        let mut tries = vec![0u32; group.children.len()];
        let mut last: Option<SendFault> = None;
        loop {
            let Some(i) =
                group.choose(|i| self.endpoint_ready(&group.children[i].endpoint), &tries)
            else {
                if let Some(fault) = last {
                    return Err(fault);
                }
                let message = format!(
                    "SLALoadbalance endpoint : {} - no ready child endpoints",
                    endpoint.name
                );
                tracing::warn!(target: "conflux::endpoint", "{message}");
                return Err(SendFault {
                    code: GROUP_NONE_READY,
                    message,
                });
            };
            let child = &group.children[i];
            if tries.iter().any(|t| *t > 0) {
                ctx.headers = headers.clone();
            }
            tries[i] += 1;
            let nested =
                matches!(&child.endpoint.kind, EndpointKind::Group(g) if g.session.is_some());
            if affinity.server_initiated() && !nested {
                // prepareEndPointSequence -> removeSessionID: the chosen backend does not know the
                // client's old session.
                strip_session(affinity.kind, ctx);
            }
            // A client session is bound when its first message is sent (Axis2SynapseEnvironment
            // .send -> updateSession).
            if let Some(id) = client_id {
                affinity.table().update(None, id, None, i, Instant::now());
            }
            match self.send(&child.endpoint, ctx).await {
                Ok(response) => return self.learn_session(affinity, None, i, response).await,
                Err(fault) => {
                    tracing::warn!(target: "conflux::endpoint", "Loadbalance endpoint {} detected a failure in child endpoint {} ({fault})", endpoint.name, child.endpoint.name);
                    let discarded = fault.code == error_codes::TIMEOUT
                        && child.endpoint.timeout_action == TimeoutAction::Discard;
                    // onChildEndpointFail: the first message of a session is resent when the
                    // child's retry settings allow, after the session is unbound.
                    if discarded || !child.is_retry(fault.code) {
                        return Err(fault);
                    }
                    if let Some(id) = client_id {
                        affinity.table().remove(id);
                    }
                    last = Some(fault);
                }
            }
        }
    }

    /// `sendMessageOnCurrentSession`: the session's child, or 309001 when it is not ready; a
    /// failure is not failed over ("the session has already started").
    async fn send_on_current_session(
        &self,
        endpoint: &Endpoint,
        group: &EndpointGroup,
        affinity: &SessionAffinity,
        bound: Bound,
        ctx: &mut MessageContext<B>,
    ) -> Result<Response<B>, SendFault> {
        let child = group
            .children
            .get(bound.child)
            .filter(|c| self.endpoint_ready(&c.endpoint));
        let Some(child) = child else {
            let name = group
                .children
                .get(bound.child)
                .map_or("-", |c| &*c.endpoint.name);
            let message = format!(
                "The endpoint {name} on the session with id {} is not ready.",
                bound.id
            );
            tracing::warn!(target: "conflux::endpoint", "Loadbalance endpoint {}: {message}", endpoint.name);
            return Err(SendFault {
                code: ENDPOINT_SAL_NOT_READY,
                message,
            });
        };
        match self.send(&child.endpoint, ctx).await {
            Ok(response) => {
                self.learn_session(affinity, Some(&bound), bound.child, response)
                    .await
            }
            Err(fault) => {
                // The child's error code stays the message's (Synapse keeps LAST_ENDPOINT's).
                tracing::warn!(target: "conflux::endpoint", "Loadbalance endpoint {}: failure of endpoint {} in the current session {} ({fault})", endpoint.name, child.endpoint.name, bound.id);
                Err(fault)
            }
        }
    }

    /// A server-initiated session opened (or renewed) by the response of `child`
    /// (`SynapseCallbackReceiver` -> `updateSession`). A SOAP session's response is read whole to
    /// find its header, and handed on with the same bytes.
    async fn learn_session(
        &self,
        affinity: &SessionAffinity,
        current: Option<&Bound>,
        child: usize,
        response: Response<B>,
    ) -> Result<Response<B>, SendFault> {
        match affinity.kind {
            SessionKind::SimpleClientSession => Ok(response),
            SessionKind::Http => {
                if let Some((id, path)) =
                    lb_session::response_session(SessionKind::Http, response.headers(), None)
                {
                    affinity
                        .table()
                        .update(current, &id, path.as_deref(), child, Instant::now());
                }
                Ok(response)
            }
            SessionKind::Soap => {
                let (parts, body) = response.into_parts();
                let bytes = crate::runtime::body::read_limited(body, self.max_message_bytes)
                    .await
                    .map_err(|e| SendFault {
                        code: 0,
                        message: format!("Error while building the response: {e}"),
                    })?;
                let text = std::str::from_utf8(&bytes).ok();
                if let Some((id, _)) =
                    lb_session::response_session(SessionKind::Soap, &parts.headers, text)
                {
                    affinity
                        .table()
                        .update(current, &id, None, child, Instant::now());
                }
                Ok(Response::from_parts(parts, B::from(bytes)))
            }
        }
    }
}

/// `Dispatcher.removeSessionID` on the request: its session cookies, or its `ServiceGroupId`
/// SOAP header.
fn strip_session<B: MessageBody>(kind: SessionKind, ctx: &mut MessageContext<B>) {
    match kind {
        SessionKind::Http => lb_session::strip_session_cookies(&mut ctx.headers),
        SessionKind::Soap => {
            if let Some(Payload::Xml { text, soap }) = &ctx.payload
                && let Some(stripped) = lb_session::without_service_group_id(text)
            {
                let soap = *soap;
                ctx.set_payload(Payload::Xml {
                    text: stripped,
                    soap,
                });
            }
        }
        SessionKind::SimpleClientSession => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(id: usize) -> GroupChild {
        GroupChild {
            endpoint: Arc::new(Endpoint::plain_address(
                id,
                format!("c{id}"),
                format!("http://b{id}/"),
            )),
            retry_disabled: Vec::new(),
            retry_enabled: Vec::new(),
            budget: 1,
        }
    }

    fn group(kind: GroupKind, n: usize) -> EndpointGroup {
        EndpointGroup::new(kind, (0..n).map(child).collect(), false)
    }

    #[test]
    fn round_robin_rotates_and_skips_children_that_are_not_ready() {
        let g = group(GroupKind::Loadbalance { failover: true }, 3);
        let all = |_| true;
        let picks: Vec<_> = (0..5).map(|_| g.choose(all, &[0; 3]).unwrap()).collect();
        assert_eq!(picks, [0, 1, 2, 0, 1]);
        // Child 2 suspended: the rotation skips it and goes on from the next one.
        let not_2 = |i| i != 2;
        let picks: Vec<_> = (0..3).map(|_| g.choose(not_2, &[0; 3]).unwrap()).collect();
        assert_eq!(picks, [0, 1, 0]);
        // None ready: RoundRobin gives up after trying each once.
        assert_eq!(g.choose(|_| false, &[0; 3]), None);
    }

    #[test]
    fn load_balance_fails_over_to_the_next_child_within_one_message() {
        let g = group(GroupKind::Loadbalance { failover: true }, 3);
        let mut tries = [0u32; 3];
        // First message: child 0 fails but stays ready (an ignored error): the retry goes to 1.
        let first = g.choose(|_| true, &tries).unwrap();
        assert_eq!(first, 0);
        tries[first] += 1;
        assert!(g.retries_after(first, 101_503));
        assert_eq!(g.choose(|_| true, &tries), Some(1));
        tries[1] += 1;
        assert_eq!(g.choose(|_| true, &tries), Some(2));
        tries[2] += 1;
        // Every child tried once: the message fails instead of going round forever.
        assert_eq!(g.choose(|_| true, &tries), None);
        // failover="false": the fault is handed on after the first child.
        let g = group(GroupKind::Loadbalance { failover: false }, 2);
        assert!(!g.retries_after(0, 101_503));
        assert!(!g.may_resend());
    }

    #[test]
    fn dynamic_failover_returns_to_the_first_ready_child() {
        let g = group(GroupKind::Failover { dynamic: true }, 3);
        assert_eq!(g.choose(|_| true, &[0; 3]), Some(0));
        // The primary is suspended: the backup; once it is ready again, back to the primary.
        assert_eq!(g.choose(|i| i != 0, &[0; 3]), Some(1));
        assert_eq!(g.choose(|_| true, &[0; 3]), Some(0));
        // Within one message, a child already tried up to its budget is passed over.
        assert_eq!(g.choose(|_| true, &[1, 0, 0]), Some(1));
        assert_eq!(g.choose(|_| true, &[1, 1, 1]), None);
        assert_eq!(g.choose(|_| false, &[0; 3]), None);
    }

    #[test]
    fn weighted_round_robin_gives_each_child_its_weight_in_turns() {
        let g = group(GroupKind::Loadbalance { failover: true }, 3).weighted(vec![1, 2, 1]);
        let picks: Vec<_> = (0..8)
            .map(|_| g.choose(|_| true, &[0; 3]).unwrap())
            .collect();
        assert_eq!(picks, [0, 1, 1, 2, 0, 1, 1, 2]);
        // Readiness is not asked (the child's send fails fast); a child already tried this message
        // is passed over.
        assert_eq!(g.choose(|_| false, &[0; 3]), Some(0));
        assert_eq!(g.choose(|_| true, &[0, 1, 0]), Some(2));
        assert_eq!(g.choose(|_| true, &[1, 1, 1]), None);
    }

    #[test]
    fn static_failover_stays_on_the_backup() {
        let g = group(GroupKind::Failover { dynamic: false }, 3);
        assert_eq!(g.choose(|_| true, &[0; 3]), Some(0));
        assert_eq!(g.choose(|i| i != 0, &[0; 3]), Some(1));
        // The primary is back, but a static failover keeps the current child while it is ready.
        assert_eq!(g.choose(|_| true, &[0; 3]), Some(1));
        assert_eq!(g.choose(|i| i != 1, &[0; 3]), Some(0));
    }

    #[test]
    fn retry_config_decides_whether_to_fail_over() {
        let mut g = group(GroupKind::Failover { dynamic: true }, 2);
        g.children[0].retry_disabled = vec![101_504];
        g.children[1].retry_enabled = vec![101_503];
        assert!(!g.retries_after(0, 101_504));
        assert!(g.retries_after(0, 101_503));
        assert!(g.retries_after(1, 101_503));
        assert!(!g.retries_after(1, 101_505));
        // A child with timeout retries (retriesBeforeSuspension = 2) may be sent three times.
        g.children[0].budget = 3;
        assert_eq!(g.choose(|_| true, &[2, 0]), Some(0));
        assert_eq!(g.choose(|_| true, &[3, 0]), Some(1));
    }
}
