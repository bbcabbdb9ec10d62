//! `<iterate>`: splits the message by an XPath (or `json-eval`) expression into one message per
//! match and runs each through the `<target>`, as SYN `mediators/eip/splitter/IterateMediator.java`
//! with `mediators/eip/Target.java` and `mediators/eip/EIPUtils.java` (getDetachedMatchingElements)
//! do:
//!
//! - the matches are taken out of a copy of the envelope; with `preservePayload` each part is the
//!   rest of the envelope with its match added as the last child of the first `attachPath` element
//!   (default `.`), otherwise the part's body holds only its match;
//! - every part is a copy of the message (properties, headers, function stack) with a new message
//!   id and the properties `messageSequence[.id]` = `n/total` and `aggregateCorelation[.id]` = the
//!   parent's id, which the `<aggregate>` with the same `id` reads;
//! - the parts run concurrently (in the parent's task, each with its own copy of the message), at
//!   most `[mediation] max_inflight_branches` at once (runtime/limits.rs
//!   `DEFAULT_MAX_INFLIGHT_BRANCHES`, MI's 20 Synapse worker threads), the others waiting unbuilt;
//!   or one after the other with `sequential="true"`; the parent goes on only with
//!   `continueParent="true"`. An aggregate gets the parts in the order they finish (in order
//!   when sequential).
//!
//! The engine runs the parts and collects those that reach an `<aggregate>`
//! ([`crate::runtime::engine`], `iterate`).

use std::sync::Arc;

use http::Response;

use serde_json::Value as Json;

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope};
use crate::runtime::endpoint::Endpoint;
use crate::runtime::engine::{Ended, Engine, Fault, Route, Sequence, Step, response_from};
use crate::runtime::mediators::Aggregate;
use crate::runtime::mediators::aggregate::Merging;
use crate::runtime::mediators::branches::{Bounded, Branch};
use crate::runtime::mediators::clone::copy_without_payload;
use crate::runtime::mediators::{FrameValue, copy_message};
use crate::runtime::payload::{
    Payload, append_child_content, parse_document, replace_body_content,
};
use crate::runtime::value::{CtxEnv, ValueSource};
use crate::xpath::{XValue, serialize};

/// SYN `EIPConstants.MESSAGE_SEQUENCE` (`n/total` on each part) and `AGGREGATE_CORRELATION` (sic:
/// the parent's message id on each part), shared with `<clone>`.
pub use crate::runtime::mediators::clone::{AGGREGATE_CORRELATION, MESSAGE_SEQUENCE};

#[derive(Debug, Clone)]
pub struct Iterate {
    pub id: Option<String>,
    pub expression: ValueSource,
    /// Where a part is attached with `preservePayload` (`.`, or `$` for a json-eval expression,
    /// when not given, as IterateMediatorFactory; JSON parts: iterate_json.rs).
    pub attach_path: ValueSource,
    pub preserve_payload: bool,
    pub continue_parent: bool,
    pub sequential: bool,
    pub target: EipTarget,
}

/// SYN `mediators/eip/Target.java`: the sequence a part runs, then (when there is no sequence) the
/// endpoint it is sent to.
#[derive(Debug, Clone, Default)]
pub struct EipTarget {
    pub sequence: Option<EipSequence>,
    pub endpoint: Option<Arc<Endpoint>>,
}

#[derive(Debug, Clone)]
pub enum EipSequence {
    Named(String),
    Inline(Arc<Sequence>),
}

/// The property that numbers the parts for the aggregate with this `id`.
pub fn sequence_property(id: Option<&str>) -> String {
    match id {
        Some(id) => format!("{MESSAGE_SEQUENCE}.{id}"),
        None => MESSAGE_SEQUENCE.to_string(),
    }
}

/// `$func:name` naming a template parameter passed as `{{expr}}`: that expression, read where it is
/// used (Synapse resolves the variable to the expression's node list); the value itself otherwise.
pub fn effective<'v, B>(value: &'v ValueSource, ctx: &'v MessageContext<B>) -> &'v ValueSource {
    if let ValueSource::XPath(x) = value
        && let Some(name) = x.text().trim().strip_prefix("$func:")
        && let Some(frame) = ctx.func_stack.last()
        && let Some((_, FrameValue::Deferred(inner))) = frame.values.iter().find(|(n, _)| n == name)
    {
        return inner;
    }
    value
}

impl Iterate {
    pub fn needs_payload(&self) -> bool {
        true
    }

    /// The payloads of the parts, in document order.
    pub fn split<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<Vec<Payload>, String> {
        match effective(&self.expression, ctx) {
            ValueSource::Json(j) => {
                let root = match &ctx.payload {
                    Some(Payload::Json(v)) => v.value(),
                    _ => {
                        return Err(format!("iterate: {} needs a JSON payload", j.text()));
                    }
                };
                match j.evaluate(root) {
                    Some(Json::Array(items)) => {
                        let items = match effective(&self.attach_path, ctx) {
                            ValueSource::Json(attach) if self.preserve_payload => {
                                super::iterate_json::preserved_parts(j, attach, root, items)?
                            }
                            _ => items,
                        };
                        Ok(items.into_iter().map(|v| Payload::Json(v.into())).collect())
                    }
                    _ => Err(format!(
                        "JSON element expressed by the path {} is not a valid JSON array that can be iterated",
                        j.text()
                    )),
                }
            }
            ValueSource::XPath(x) => self.split_xml(x, ctx),
            other => Err(format!(
                "Error splitting message with XPath : {} - result not an OMNode",
                other.describe()
            )),
        }
    }

    fn split_xml<B: MessageBody>(
        &self,
        x: &crate::xpath::XPath,
        ctx: &MessageContext<B>,
    ) -> Result<Vec<Payload>, String> {
        let payload = ctx.payload.clone().unwrap_or(Payload::Empty);
        let envelope = payload.envelope_xml().into_owned();
        let doc = parse_document(&envelope)
            .map_err(|e| format!("the message is not well-formed XML: {e}"))?;
        let nodes = match x.evaluate(&doc, &CtxEnv(ctx)).map_err(|e| e.to_string())? {
            XValue::Nodes(nodes) => nodes,
            _ => {
                return Err(format!(
                    "Error splitting message with XPath : {} - result not an OMNode",
                    x.text()
                ));
            }
        };
        // Matches inside an earlier match go with it (detached together).
        let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
        let mut parts = Vec::new();
        for node in nodes {
            let range = node.range();
            if ranges
                .iter()
                .any(|r| r.start <= range.start && range.end <= r.end)
            {
                continue;
            }
            parts.push(serialize(node));
            ranges.push(range);
        }
        let base = if self.preserve_payload {
            let mut text = envelope.clone();
            ranges.sort_by_key(|r| std::cmp::Reverse(r.start));
            for r in &ranges {
                text.replace_range(r.clone(), "");
            }
            text
        } else {
            replace_body_content(&envelope, "")?
        };
        let soap = match &payload {
            Payload::Xml { soap: Some(v), .. } => Some(*v),
            _ => None,
        };
        let mut out = Vec::with_capacity(parts.len());
        for part in parts {
            let text = if self.preserve_payload {
                let doc = parse_document(&base)
                    .map_err(|e| format!("the message is not well-formed XML: {e}"))?;
                let attach = match effective(&self.attach_path, ctx) {
                    ValueSource::XPath(a) => match a.evaluate(&doc, &CtxEnv(ctx)) {
                        Ok(XValue::Nodes(n)) => n.into_iter().find(|n| n.is_element()),
                        _ => None,
                    },
                    _ => None,
                };
                let Some(attach) = attach else {
                    return Err(format!(
                        "Error in attaching the splitted elements :: Unable to get the attach path specified by the expression {}",
                        self.attach_path.describe()
                    ));
                };
                append_child_content(&base, attach, &part)
            } else {
                replace_body_content(&base, &part)?
            };
            out.push(payload_from_envelope(text, soap)?);
        }
        Ok(out)
    }

    /// Part `number` of `total`, carrying `payload`: a copy of `proto` (the split message copied
    /// without its payload, [`copy_without_payload`]) correlated with `parent_id`, the split
    /// message's id.
    pub fn part<B: MessageBody>(
        &self,
        proto: &MessageContext<B>,
        parent_id: &str,
        payload: Payload,
        number: usize,
        total: usize,
    ) -> MessageContext<B> {
        let mut part = copy_without_payload(proto);
        part.set_payload(payload);
        let _ = part.set(
            Scope::Default,
            &sequence_property(self.id.as_deref()),
            format!("{number}/{total}"),
        );
        if let Some(id) = &self.id {
            let _ = part.set(
                Scope::Default,
                &format!("{AGGREGATE_CORRELATION}.{id}"),
                parent_id.to_string(),
            );
        }
        part
    }
}

/// The split envelope as the payload of a part: an envelope for a SOAP message, the body's content
/// (POX) otherwise.
pub(crate) fn payload_from_envelope(
    envelope: String,
    soap: Option<crate::runtime::payload::SoapVersion>,
) -> Result<Payload, String> {
    let as_soap = Payload::Xml {
        text: envelope,
        soap: Some(soap.unwrap_or(crate::runtime::payload::SoapVersion::Soap11)),
    };
    if soap.is_some() {
        return Ok(as_soap);
    }
    let body = as_soap.body_xml();
    match Payload::xml(body.trim().to_string()) {
        Ok(p) => Ok(p),
        // Several elements (or none) in the body: kept as an envelope.
        Err(_) if body.trim().is_empty() => Ok(Payload::Empty),
        Err(_) => Ok(as_soap),
    }
}

/// One part's run: the part and how it ended.
type PartOutcome<B> = (MessageContext<B>, Result<Ended<B>, Fault>);

impl<B: MessageBody> Engine<'_, B> {
    /// Runs `<iterate>`: the parts through the target, concurrently (at most
    /// `max_inflight_branches` at once) or in order; the parts that reach an `<aggregate>` are
    /// merged when its condition is met (or when its timeout passes, or when every part has
    /// ended), and the merged message runs `onComplete`. The parts still running then are
    /// dropped, as Synapse drops messages that arrive after an aggregation completed, and those
    /// still waiting never start. Without an aggregation, the first part's answer (or failure) is
    /// the flow's.
    pub(crate) fn run_iterate<'a>(
        &'a self,
        it: &'a Iterate,
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            let payloads = it.split(ctx).map_err(Fault::mediation)?;
            let total = payloads.len();
            // A part is built when it starts, from one copy of the message without its payload.
            let proto = copy_without_payload(ctx);
            let parent_id = ctx.message_id();
            let parts = payloads.into_iter().enumerate().map(move |(n, p)| {
                let mut part = it.part(&proto, &parent_id, p, n, total);
                Box::pin(async move {
                    let result = self
                        .run_eip_target(&it.target, &mut part, route, depth)
                        .await;
                    (part, result)
                }) as Branch<'a, PartOutcome<B>>
            });
            let limit = if it.sequential {
                1
            } else {
                self.max_inflight_branches
            };
            let mut running = Bounded::new(limit, parts);
            // The aggregation: the first part to arrive (the merged message to be), what the
            // aggregate selected in every part so far, and how many arrived. A part is read as it
            // arrives and dropped.
            let mut aggregation: Option<(MessageContext<B>, Arc<Aggregate>, Merging)> = None;
            let mut arrived = 0usize;
            // The messageCount bounds, read on the first part to arrive (the aggregation starts).
            let mut bounds = None;
            let mut deadline: Option<tokio::time::Instant> = None;
            let mut answer: Option<Response<B>> = None;
            let mut failure: Option<(MessageContext<B>, Fault)> = None;
            loop {
                let Ok(next) = running.next_before(deadline).await else {
                    // completeCondition timeout: complete with what has arrived.
                    break;
                };
                let Some((part, result)) = next else { break };
                match result {
                    Ok(Ended::Aggregated(aggregate)) => {
                        match &mut aggregation {
                            None => {
                                deadline =
                                    aggregate.timeout.map(|t| tokio::time::Instant::now() + t);
                                match aggregate.bounds(&part) {
                                    Ok(b) => bounds = Some(b),
                                    Err(e) => {
                                        failure.get_or_insert((part, Fault::mediation(e)));
                                        break;
                                    }
                                }
                                let mut merging = aggregate.start(&part);
                                aggregate.add(&mut merging, &part);
                                aggregation = Some((part, aggregate, merging));
                            }
                            // The parts are merged by the aggregate the first one reached.
                            Some((_, first, merging)) => first.add(merging, &part),
                        }
                        arrived += 1;
                        if bounds.is_some_and(|b| Aggregate::is_complete(b, arrived, total)) {
                            break;
                        }
                    }
                    Ok(Ended::Responded(response)) => {
                        answer.get_or_insert(response);
                    }
                    Ok(Ended::Continue | Ended::Dropped) => {}
                    Err(fault) => {
                        if failure.is_none() {
                            failure = Some((part, fault));
                        } else {
                            tracing::warn!(target: "conflux::mediation", "{{{}}} an iterated message failed: {}", ctx.artifact, fault.message);
                        }
                    }
                }
            }
            drop(running);
            let ended = if let Some((first, aggregate, merging)) = aggregation {
                let (merged, result) = self
                    .complete_merging(&aggregate, first, merging, route, depth)
                    .await;
                if let Ok(Ended::Aggregated(outer)) = result {
                    // The merged message is itself a part of an enclosing iterate: it goes on as
                    // this message, to be collected there.
                    if let Some(merged) = merged {
                        *ctx = merged;
                    }
                    return Ok(Ended::Aggregated(outer));
                }
                Some(result)
            } else if let Some(response) = answer {
                Some(Ok(Ended::Responded(response)))
            } else if let Some((part, fault)) = failure {
                // The part's failure goes to the handlers in force here, with the part as the message.
                *ctx = part;
                Some(Err(fault))
            } else {
                None
            };
            match ended {
                Some(Ok(Ended::Responded(r))) => Ok(Ended::Responded(r)),
                Some(Err(f)) => Err(f),
                _ if it.continue_parent => Ok(Ended::Continue),
                _ => Ok(Ended::Dropped),
            }
        })
    }

    /// Target.mediate: the sequence, else the endpoint.
    fn run_eip_target<'a>(
        &'a self,
        target: &'a EipTarget,
        part: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            match (&target.sequence, &target.endpoint) {
                (Some(seq), _) => {
                    let seq = self.eip_sequence(seq)?;
                    self.run_guarded(seq, part, route, depth + 1).await
                }
                (None, Some(endpoint)) => {
                    self.send_then_out(endpoint.clone(), None, part, route, depth + 1)
                        .await
                }
                (None, None) => Ok(Ended::Continue),
            }
        })
    }

    pub(crate) fn eip_sequence(&self, seq: &EipSequence) -> Result<Arc<Sequence>, Fault> {
        match seq {
            EipSequence::Inline(s) => Ok(s.clone()),
            EipSequence::Named(name) => self
                .sequences
                .get(name)
                .cloned()
                .ok_or_else(|| Fault::mediation(format!("sequence {name} is not deployed"))),
        }
    }

    /// `<aggregate>` reached: a part of an iterate stops here and is collected by the iterate's
    /// run; any other message completes the aggregation alone.
    pub(crate) fn run_aggregate<'a>(
        &'a self,
        aggregate: &'a Arc<Aggregate>,
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            if aggregate.collects(ctx) {
                return Ok(Ended::Aggregated(aggregate.clone()));
            }
            let alone = copy_message(ctx);
            let (merged, result) = self
                .complete_aggregation(aggregate, vec![alone], route, depth)
                .await;
            if let Some(merged) = merged {
                *ctx = merged;
            }
            result
        })
    }

    /// The merged message of `parts` (arrival order) runs `onComplete`; an `onComplete` that does
    /// not end the flow answers with the merged message in the response flow (as an out-sequence
    /// does in Conflux) and ends it in the request flow. The merged message is handed back with
    /// the result (an `onComplete` may reach the aggregate of an enclosing iterate).
    pub(crate) async fn complete_aggregation(
        &self,
        aggregate: &Aggregate,
        parts: Vec<MessageContext<B>>,
        route: &Route,
        depth: usize,
    ) -> (Option<MessageContext<B>>, Result<Ended<B>, Fault>) {
        let mut parts = parts.into_iter();
        let Some(first) = parts.next() else {
            return (None, Ok(Ended::Dropped));
        };
        let mut merging = aggregate.start(&first);
        aggregate.add(&mut merging, &first);
        for part in parts {
            aggregate.add(&mut merging, &part);
        }
        self.complete_merging(aggregate, first, merging, route, depth)
            .await
    }

    /// [`Engine::complete_aggregation`] of parts read as they arrived: `merged` is the first
    /// part, `merging` what the aggregate selected in every part.
    pub(crate) async fn complete_merging(
        &self,
        aggregate: &Aggregate,
        mut merged: MessageContext<B>,
        merging: Merging,
        route: &Route,
        depth: usize,
    ) -> (Option<MessageContext<B>>, Result<Ended<B>, Fault>) {
        let payload = match aggregate.finish(merging, &merged) {
            Ok(p) => p,
            Err(e) => return (Some(merged), Err(Fault::mediation(e))),
        };
        merged.set_payload(payload);
        // The aggregation is over: an aggregate the merged message meets again is a new one.
        merged.remove(
            crate::runtime::context::Scope::Default,
            &sequence_property(aggregate.id.as_deref()),
        );
        let seq = match self.eip_sequence(&aggregate.on_complete) {
            Ok(seq) => seq,
            Err(f) => return (Some(merged), Err(f)),
        };
        let result = match self.run_guarded(seq, &mut merged, route, depth + 1).await {
            Ok(Ended::Continue) if merged.is_response => {
                response_from(&mut merged).map(Ended::Responded)
            }
            Ok(Ended::Continue) => Ok(Ended::Dropped),
            other => other,
        };
        (Some(merged), result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::Full;

    type B = Full<Bytes>;

    fn xpath(text: &str) -> ValueSource {
        ValueSource::compile_text(
            text,
            &[("m0".to_string(), "http://services.samples".to_string())],
        )
        .unwrap()
    }

    fn iterate(expr: &str, preserve: Option<&str>) -> Iterate {
        Iterate {
            id: None,
            expression: xpath(expr),
            attach_path: xpath(preserve.unwrap_or(".")),
            preserve_payload: preserve.is_some(),
            continue_parent: false,
            sequential: false,
            target: EipTarget::default(),
        }
    }

    fn ctx(xml: &str) -> MessageContext<B> {
        let mut c = MessageContext::new(
            http::Method::POST,
            http::Uri::from_static("/"),
            http::HeaderMap::new(),
            B::default(),
            Arc::from("proxy:P"),
        );
        c.set_payload(Payload::xml(xml.to_string()).unwrap());
        c
    }

    const ENV: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><m0:getQuote xmlns:m0="http://services.samples"><m0:request><m0:symbol>A</m0:symbol></m0:request><m0:request><m0:symbol>B</m0:symbol></m0:request></m0:getQuote></soapenv:Body></soapenv:Envelope>"#;

    #[test]
    fn preserve_payload_attaches_each_match_to_the_attach_path() {
        let c = ctx(ENV);
        let parts = iterate("//m0:getQuote/m0:request", Some("//m0:getQuote"))
            .split(&c)
            .unwrap();
        assert_eq!(parts.len(), 2);
        let Payload::Xml {
            text,
            soap: Some(_),
        } = &parts[1]
        else {
            panic!("{parts:?}")
        };
        assert!(text.contains("<m0:getQuote xmlns:m0=\"http://services.samples\"><m0:request"));
        assert!(text.contains(">B<") && !text.contains(">A<"), "{text}");
    }

    #[test]
    fn without_preserve_payload_the_body_holds_the_match_only() {
        let c = ctx(ENV);
        let parts = iterate("//m0:request", None).split(&c).unwrap();
        let Payload::Xml { text, .. } = &parts[0] else {
            panic!()
        };
        assert!(!text.contains("getQuote") && text.contains(">A<"), "{text}");
    }

    #[test]
    fn a_pox_message_splits_into_pox_parts_with_sequence_numbers() {
        let c = ctx("<r><t>1</t><t>2</t><t>3</t></r>");
        let it = iterate("//t", Some("//r"));
        let parts = it.split(&c).unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts[2],
            Payload::Xml {
                text: "<r><t>3</t></r>".into(),
                soap: None
            }
        );
        let part = it.part(
            &copy_without_payload(&c),
            &c.message_id(),
            parts[2].clone(),
            2,
            3,
        );
        assert_eq!(
            part.get(Scope::Default, MESSAGE_SEQUENCE).as_deref(),
            Some("2/3")
        );
    }

    async fn run_api(in_sequence: &str, body: &str) -> (http::StatusCode, String) {
        use crate::runtime::expr_context::test_support::*;
        let d = deployed(&[("apis/A.xml", &api("A", in_sequence, ""))]);
        let (status, _, body) = call(&d, "POST", "/A/x", Some("application/json"), body).await;
        (status, body)
    }

    // AggregateMediatorFactory: messageCount is a ValueFactory value, so `{${...}}` is read (on
    // the first part, when the aggregation starts); here the aggregation completes after 2 of 3.
    #[tokio::test]
    async fn aggregate_message_count_from_a_synapse_expression() {
        let seq = r#"<variable name="max" type="INTEGER" value="2"/>
            <iterate expression="json-eval($.items)" sequential="true"><target><sequence>
              <aggregate><completeCondition><messageCount min="-1" max="{${vars.max}}"/></completeCondition>
                <onComplete expression="json-eval($)"><respond/></onComplete></aggregate>
            </sequence></target></iterate>"#;
        let (status, body) = run_api(seq, r#"{"items":[1,2,3]}"#).await;
        assert_eq!((status, body.as_str()), (http::StatusCode::OK, "[1,2]"));
        // A bound that is not a number fails (Double.parseDouble's NumberFormatException).
        let seq = seq
            .replace("value=\"2\"", "value=\"two\"")
            .replace("INTEGER", "STRING");
        let (status, body) = run_api(&seq, r#"{"items":[1,2,3]}"#).await;
        assert_eq!(status, http::StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    }

    // MI 4.4 deploys `${...}` in iterate's expression (SynapsePathFactory) but IterateMediator
    // casts it to SynapseXPath: every message fails. So does Conflux's.
    #[tokio::test]
    async fn a_synapse_expression_cannot_split() {
        let seq = r#"<iterate expression="${payload.items}"><target><sequence><respond/></sequence></target></iterate>"#;
        let (status, body) = run_api(seq, r#"{"items":[1,2]}"#).await;
        assert_eq!(status, http::StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        assert!(body.contains("${payload.items}"), "{body}");
    }

    #[test]
    fn json_eval_splits_an_array() {
        let mut c = ctx("<a/>");
        c.set_payload(Payload::Json(
            serde_json::json!({"items": [1, {"a": 2}]}).into(),
        ));
        let it = Iterate {
            expression: ValueSource::compile_text("json-eval($.items)", &[]).unwrap(),
            ..iterate("//a", None)
        };
        let parts = it.split(&c).unwrap();
        assert_eq!(parts[1], Payload::Json(serde_json::json!({"a": 2}).into()));
    }
}
