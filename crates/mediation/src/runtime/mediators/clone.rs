//! `<clone>`: every `<target>` gets its own copy of the message, which runs the target's sequence
//! or is sent to the target's endpoint (SYN `mediators/eip/splitter/CloneMediator.java`,
//! `mediators/eip/Target.java`, `util/MessageHelper.java`).
//!
//! - **The copies** (`MessageHelper.cloneMessageContext`): the message is built and each copy gets
//!   the payload, the transport headers and every property scope, a message id of its own, and a
//!   deep copy of the template function stack (`_SYNAPSE_FUNCTION_STACK` is cloned), so a
//!   `<call-template>` in one target never sees another's parameters (MI test
//!   TestFunctionStackDeepClone). Copy `i` of `n` gets `messageSequence[.ID]` = `i/n` and, with
//!   an `id`, `aggregateCorelation.ID` = the original's message id, as `getClonedMessageContext`
//!   sets them.
//! - **A target** (`Target.mediate`) first sets the copy's `To` (`to`) and SOAP action
//!   (`soapAction`), then runs its sequence (inline, or `sequence="name"`) **or**, only when it
//!   has no sequence, sends the copy to its endpoint (inline or `endpoint="name"`): Synapse never
//!   does both. A send's reply is a message of its own that runs the out-sequence, as any reply.
//! - **`sequential="true"`** runs the targets one after the other; otherwise they run
//!   concurrently (Synapse hands each copy to a worker thread with `injectAsync`; Conflux polls
//!   the copies together in the request's task, each with its own context, at most `[mediation]
//!   max_inflight_branches` at once, runtime/mediators/branches.rs).
//! - **The original**: `continueParent="true"` lets it go on after the clone; by default it ends
//!   there (Synapse returns `false` and marks the response `SKIP`, so no 202 is written for it).
//! - **Who answers the client.** Every copy shares the client's connection: the first copy that
//!   reaches a `<respond>` (or a `<send/>` in the out flow) writes the answer and the others' are
//!   dropped (Synapse's passthru writes once per request: `RESPONSE_WRITTEN`). Conflux waits for
//!   every copy and takes the first answer: the first in target order when sequential, the first to
//!   finish otherwise. A copy whose sequence fails runs the fault handlers that were in force where
//!   the `<clone>` stands (the fault stack is copied too: the enclosing sequence's `onError`, else
//!   the proxy's or API's fault sequence) with the copy as the message (`Target.mediateMessage`);
//!   a failure counts as that copy's answer. When no copy answers and the original does not go
//!   on, the client gets MI's empty 202.
//! - With `continueParent="true"` and a copy that answered or failed, the rest of the original's
//!   list runs next, and the copy's answer wins when sequential (it came first), the original's
//!   otherwise (MI's original continues while the copies wait for their worker threads). The
//!   mediators after the enclosing sequence do not run then: the client has its answer.
//!
//! - **With `<aggregate>`** (the copies' replies reaching an aggregate in the out-sequence, or a
//!   target's sequence reaching one): the copies collected are merged once every copy has ended
//!   and the merged message runs `onComplete` (shared with `<iterate>`,
//!   runtime/mediators/iterate.rs); that answer is the client's.
//!
//! Differences: Conflux answers the client only after every copy has ended (MI writes the first
//! answer as soon as it exists), the handlers of a second failing copy do not run (its failure is
//! logged), and `iterations` is refused when the artifact is parsed.

use std::sync::Arc;

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;
use crate::runtime::endpoint::Endpoint;
use crate::runtime::engine::{Ended, Engine, Fault, Route, Step};
use crate::runtime::mediators::branches::{Branch, gather};
use crate::runtime::mediators::{Aggregate, Mediator, SequenceCall};

/// EIPConstants.MESSAGE_SEQUENCE: `i/n` on copy `i` of `n`.
pub const MESSAGE_SEQUENCE: &str = "messageSequence";
/// EIPConstants.AGGREGATE_CORRELATION: the original's message id.
pub const AGGREGATE_CORRELATION: &str = "aggregateCorelation";

#[derive(Debug, Clone)]
pub struct CloneMediator {
    pub id: Option<Arc<str>>,
    pub sequential: bool,
    pub continue_parent: bool,
    pub targets: Vec<CloneTarget>,
}

#[derive(Debug, Clone)]
pub struct CloneTarget {
    pub to: Option<String>,
    pub soap_action: Option<String>,
    pub action: TargetAction,
}

/// What a target does with its copy.
#[derive(Debug, Clone)]
pub enum TargetAction {
    /// Runs a sequence (named or anonymous).
    Sequence(SequenceCall),
    /// Sends the copy; the reply runs the out-sequence.
    Endpoint(Arc<Endpoint>),
    /// A target with neither: the copy ends there.
    Nothing,
}

impl CloneMediator {
    /// Whether a target reads the body (the message is built for the copies anyway).
    pub fn touches_body(&self) -> bool {
        self.targets.iter().any(|t| match &t.action {
            TargetAction::Sequence(SequenceCall::Inline(seq)) => seq.touches_body(),
            _ => false,
        })
    }
}

/// A copy of the message for one target (MessageHelper.cloneMessageContext): the content must
/// have been built; the copy has its own message id.
pub fn copy_message<B: MessageBody>(ctx: &MessageContext<B>) -> MessageContext<B> {
    let mut copy = copy_without_payload(ctx);
    copy.payload = ctx.payload.clone();
    copy
}

/// [`copy_message`] but for the payload, which the copy does not have: for the parts of a split,
/// which each carry their own (copying the whole payload for each part only to replace it costs
/// the payload's size per part).
pub(crate) fn copy_without_payload<B: MessageBody>(ctx: &MessageContext<B>) -> MessageContext<B> {
    let mut copy = MessageContext::new(
        ctx.method.clone(),
        ctx.uri.clone(),
        ctx.headers.clone(),
        B::default(),
        ctx.artifact.clone(),
    );
    copy.status = ctx.status;
    copy.is_response = ctx.is_response;
    copy.properties = ctx.properties.clone();
    copy.axis2 = ctx.axis2.clone();
    copy.headers_set = ctx.headers_set.clone();
    copy.fault_format = ctx.fault_format;
    copy.addressing = ctx.addressing.clone();
    copy.operation = ctx.operation.clone();
    copy.axis2_client = ctx.axis2_client.clone();
    copy.fault_response = ctx.fault_response;
    copy.transport_in = ctx.transport_in;
    copy.doing_rest = ctx.doing_rest;
    copy.om_properties = ctx.om_properties.clone();
    // The function stack is copied frame by frame: a deep copy (MessageHelper clones the stack).
    copy.func_stack = ctx.func_stack.clone();
    copy.local_entries = ctx.local_entries.clone();
    copy.registry = ctx.registry.clone();
    copy.configs = ctx.configs.clone();
    // Variables go with the message, as properties do (MessageHelper.cloneMessageContext).
    copy.variables = ctx.variables.clone();
    copy.thrown_error = ctx.thrown_error;
    copy
}

/// How one copy ended: its context and its result.
pub(crate) type Outcome<B> = (MessageContext<B>, Result<Ended<B>, Fault>);

/// Whether a copy's result is an answer for the client (a response or a failure).
impl<B: MessageBody> Engine<'_, B> {
    /// Copies (of a clone or a recipient list) that reached an `<aggregate>`, once every copy
    /// has ended: merged and run through its `onComplete`. `Some`: the flow ends with it now (the
    /// merged message is a part of an enclosing split, collected there; or an answer without a
    /// merged message). Otherwise a merged answer replaces `answer`.
    pub(crate) async fn aggregate_copies(
        &self,
        collected: Vec<(MessageContext<B>, Arc<Aggregate>)>,
        ctx: &mut MessageContext<B>,
        answer: &mut Option<Outcome<B>>,
        route: &Route,
        depth: usize,
    ) -> Option<Result<Ended<B>, Fault>> {
        let aggregate = collected.first()?.1.clone();
        let parts = collected.into_iter().map(|(p, _)| p).collect();
        let (merged, result) = self
            .complete_aggregation(&aggregate, parts, route, depth)
            .await;
        if let Ok(Ended::Aggregated(outer)) = result {
            if let Some(merged) = merged {
                *ctx = merged;
            }
            return Some(Ok(Ended::Aggregated(outer)));
        }
        if answers(&result) {
            match merged {
                Some(merged) => *answer = Some((merged, result)),
                None => return Some(result),
            }
        }
        None
    }
}

fn answers<B>(result: &Result<Ended<B>, Fault>) -> bool {
    matches!(result, Ok(Ended::Responded(_)) | Err(_))
}

/// Makes a copy's answer the flow's: a failure goes to the enclosing handlers with the copy as the
/// message.
fn take_answer<B: MessageBody>(
    ctx: &mut MessageContext<B>,
    (copy, result): Outcome<B>,
) -> Result<Ended<B>, Fault> {
    if result.is_err() {
        *ctx = copy;
    }
    result
}

impl<B: MessageBody> Engine<'_, B> {
    /// Runs `<clone>`; `rest` is what follows it in the same list (run here when the original goes
    /// on after a copy answered). `Continue` tells the caller to go on with `rest` itself.
    pub(crate) fn run_clone<'a>(
        &'a self,
        clone: &'a CloneMediator,
        rest: &'a [Mediator],
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            ctx.build_payload(self.max_message_bytes)
                .await
                .map_err(|e| Fault::payload(e, ctx.is_response))?;
            let count = clone.targets.len();
            let parent_id = clone.id.as_ref().map(|_| ctx.message_id());
            let copies = (0..count).map(|i| {
                let mut copy = copy_message(ctx);
                let sequence = format!("{i}/{count}");
                match (&clone.id, &parent_id) {
                    (Some(id), Some(parent)) => {
                        copy.properties
                            .insert(format!("{AGGREGATE_CORRELATION}.{id}"), parent.clone());
                        copy.properties
                            .insert(format!("{MESSAGE_SEQUENCE}.{id}"), sequence);
                    }
                    _ => {
                        copy.properties
                            .insert(AGGREGATE_CORRELATION.to_string(), ctx.message_id());
                        copy.properties
                            .insert(MESSAGE_SEQUENCE.to_string(), sequence);
                    }
                }
                copy
            });
            let copies: Vec<_> = copies.collect();
            let outcomes = if clone.sequential {
                let mut outcomes = Vec::with_capacity(count);
                for (target, mut copy) in clone.targets.iter().zip(copies) {
                    let result = self.run_target(target, &mut copy, route, depth).await;
                    outcomes.push((copy, result));
                }
                outcomes
            } else {
                let branches = clone.targets.iter().zip(copies).map(|(target, mut copy)| {
                    Box::pin(async move {
                        let result = self.run_target(target, &mut copy, route, depth).await;
                        (copy, result)
                    }) as Branch<'a, Outcome<B>>
                });
                // Every copy runs to its end, in completion order.
                gather(self.max_inflight_branches, branches, None, |_| false).await
            };
            // The first answer is the client's; the others are dropped, as MI's passthru writes
            // one response per request. Copies that reached an <aggregate> are merged below.
            let mut answer: Option<Outcome<B>> = None;
            let mut collected: Vec<(MessageContext<B>, Arc<Aggregate>)> = Vec::new();
            for outcome in outcomes {
                if let (copy, Ok(Ended::Aggregated(aggregate))) = outcome {
                    collected.push((copy, aggregate));
                    continue;
                }
                if !answers(&outcome.1) {
                    continue;
                }
                if answer.is_none() {
                    answer = Some(outcome);
                } else {
                    let what = match &outcome.1 {
                        Err(f) => format!("failed ({}), its fault handlers do not run", f.message),
                        _ => "answered".to_string(),
                    };
                    tracing::warn!(target: "conflux::mediation", "{{{}}} a copy of the clone mediator {what}; the client has its answer already, dropped", ctx.artifact);
                }
            }
            // Clone + aggregate (the scatter-gather idiom): every copy has ended, so the copies
            // collected are merged and the merged message runs onComplete
            // (runtime/mediators/iterate.rs); its answer is the client's.
            if let Some(ended) = self
                .aggregate_copies(collected, ctx, &mut answer, route, depth)
                .await
            {
                return ended;
            }
            match answer {
                None if clone.continue_parent => Ok(Ended::Continue),
                // The original ends here (CloneMediator returns false; RESPONSE_WRITTEN = SKIP).
                None => Ok(Ended::Dropped),
                Some(copy) if !clone.continue_parent => take_answer(ctx, copy),
                Some(copy) => {
                    let parent = self.run_list(rest, ctx, route, depth).await;
                    if clone.sequential || !answers(&parent) {
                        take_answer(ctx, copy)
                    } else {
                        parent
                    }
                }
            }
        })
    }

    /// One target with its copy (Target.mediate): `To`, SOAP action, then the sequence or else
    /// the endpoint.
    fn run_target<'a>(
        &'a self,
        target: &'a CloneTarget,
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            if let Some(to) = &target.to {
                ctx.addressing.insert("To".to_string(), to.clone());
            }
            if let Some(action) = &target.soap_action {
                ctx.addressing.insert("Action".to_string(), action.clone());
            }
            match &target.action {
                TargetAction::Sequence(call) => {
                    let seq = match call {
                        SequenceCall::Inline(seq) => seq.clone(),
                        SequenceCall::Named(key) => {
                            let key = key.resolve(ctx).map_err(Fault::mediation)?;
                            self.sequences.get(&key).cloned().ok_or_else(|| {
                                Fault::mediation(format!(
                                    "Couldn't find the sequence named : {key}"
                                ))
                            })?
                        }
                    };
                    self.run_guarded(seq, ctx, route, depth + 1).await
                }
                TargetAction::Endpoint(endpoint) => {
                    self.send_then_out(endpoint.clone(), None, ctx, route, depth + 1)
                        .await
                }
                TargetAction::Nothing => Ok(Ended::Continue),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::context::Scope;
    use crate::runtime::mediators::{FrameValue, TemplateFrame};
    use bytes::Bytes;
    use http_body_util::Full;

    #[tokio::test]
    async fn a_copy_is_independent_with_its_own_id_and_function_stack() {
        let mut ctx: MessageContext<Full<Bytes>> = MessageContext::new(
            http::Method::POST,
            "/x".parse().unwrap(),
            http::HeaderMap::new(),
            Full::new(Bytes::from_static(b"<a>1</a>")),
            Arc::from("api:X"),
        );
        ctx.build_payload(1024).await.unwrap();
        ctx.set(Scope::Default, "p", "v".into()).unwrap();
        ctx.func_stack.push(TemplateFrame {
            template: Arc::from("T"),
            values: vec![("MSG".into(), FrameValue::Text("parent".into()))],
        });
        let mut copy = copy_message(&ctx);
        assert_ne!(copy.message_id(), ctx.message_id());
        assert_eq!(copy.get(Scope::Default, "p").as_deref(), Some("v"));
        assert!(copy.payload.is_some());
        copy.set(Scope::Default, "p", "changed".into()).unwrap();
        copy.func_stack[0].values[0].1 = FrameValue::Text("copy".into());
        copy.func_stack.pop();
        assert_eq!(ctx.get(Scope::Default, "p").as_deref(), Some("v"));
        assert_eq!(ctx.func_stack.len(), 1);
        assert!(matches!(&ctx.func_stack[0].values[0].1, FrameValue::Text(t) if t == "parent"));
    }

    // MessageHelper.cloneMessageContext copies the variables; each copy then has its own.
    #[test]
    fn a_copy_has_its_own_variables() {
        use crate::synapse_expr::ExprValue;
        let mut ctx = crate::runtime::context::test_context(http::Method::GET, "/x");
        ctx.variables.insert("v".into(), ExprValue::Int(1));
        let mut copy = copy_message(&ctx);
        assert_eq!(copy.variables["v"], ExprValue::Int(1));
        copy.variables.insert("v".into(), ExprValue::Int(2));
        assert_eq!(ctx.variables["v"], ExprValue::Int(1));
    }
}
