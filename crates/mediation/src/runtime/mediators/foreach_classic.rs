//! The classic `<foreach expression [sequence] [id] [continueLoopOnFailure]>` (SYN
//! `mediators/builtin/ForEachMediator.java`, the form before MI 4.4's `collection=`): the message
//! is split by the expression and each match runs through the sequence **on the message itself**,
//! one after the other, and the results are merged back into the original message in place:
//!
//! - `[ID_]FOREACH_ORIGINAL_MESSAGE` holds the envelope as it was (an element: XPath walks it,
//!   a string reads its XML) and `[ID_]FOREACH_COUNTER` counts the iterations done (0 inside the
//!   first, the number of iterations after the loop). Since the iterations run on the message,
//!   the properties they set stay on it.
//! - **XPath**: the matches are taken out of the envelope; each iteration's body is its match
//!   alone (in an envelope of the message's SOAP version); after it, the first element of the
//!   iteration's body is appended to the parent of the first match, so the results follow the
//!   parent's other children, in order. No match: the flow goes on unchanged.
//! - **json-eval**: the path must give a JSON array (else "JSON element expressed by the path
//!   ... is not a valid JSON array"); each item becomes the whole JSON payload, and the
//!   iteration's final JSON (`{}` when it is no longer JSON, as `JsonUtil.jsonPayloadToString`)
//!   replaces it; the array is set back at the path (or is the body for `$`). An empty array is
//!   logged ("No elements found for the JSONPath") and the flow goes on.
//! - An iteration that drops its message (Synapse's `false`) ends the loop, the results so far
//!   merged; one that answers the client answers it. A failure fails the foreach unless
//!   `continueLoopOnFailure`, which logs it and goes on (the JSON loop skips that item's result
//!   and count, the XML loop keeps whatever body the iteration left, as MI does).
//! - A `sequence=` key whose sequence holds `call`, `send` or `callout` at its top level fails
//!   the message ("ForEach: Referred sequence cannot contain Call, Send or CallOut mediators");
//!   inline sequences are checked at deploy (artifacts `mediators/foreach_classic.rs`).
//!
//! Difference: a match inside an earlier match goes with it (MI detaches both, iterating the
//! inner one a second time).

use std::sync::Arc;

use serde_json::Value as Json;

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope};
use crate::runtime::engine::{Ended, Engine, Fault, Route, Sequence, Step};
use crate::runtime::mediators::iterate::payload_from_envelope;
use crate::runtime::mediators::{EipSequence, Mediator};
use crate::runtime::payload::{
    JsonPayload, Payload, SoapVersion, parse_document, wrap_in_envelope,
};
use crate::runtime::value::{CtxEnv, ValueSource};
use crate::xpath::{XValue, serialize};

/// SYN ForEachMediator.FOREACH_ORIGINAL_MESSAGE / FOREACH_COUNTER (prefixed `ID_` with an id).
pub const FOREACH_ORIGINAL_MESSAGE: &str = "FOREACH_ORIGINAL_MESSAGE";
pub const FOREACH_COUNTER: &str = "FOREACH_COUNTER";

#[derive(Debug, Clone)]
pub struct ForEachClassic {
    pub expression: ValueSource,
    pub sequence: EipSequence,
    pub continue_loop_on_failure: bool,
    /// `[ID_]FOREACH_ORIGINAL_MESSAGE`, `[ID_]FOREACH_COUNTER`.
    original_property: String,
    counter_property: String,
}

impl ForEachClassic {
    pub fn new(
        id: Option<&str>,
        expression: ValueSource,
        sequence: EipSequence,
        continue_loop_on_failure: bool,
    ) -> Result<ForEachClassic, String> {
        if !matches!(expression, ValueSource::XPath(_) | ValueSource::Json(_)) {
            return Err(format!(
                "foreach: expression {} must be an XPath or json-eval(...) path",
                expression.describe()
            ));
        }
        let prefix = id.map(|id| format!("{id}_")).unwrap_or_default();
        Ok(ForEachClassic {
            expression,
            sequence,
            continue_loop_on_failure,
            original_property: format!("{prefix}{FOREACH_ORIGINAL_MESSAGE}"),
            counter_property: format!("{prefix}{FOREACH_COUNTER}"),
        })
    }
}

/// What one iteration's run came to.
enum Iteration<B> {
    Done,
    /// The message was dropped (Synapse's `false`): the loop ends.
    Stop,
    Answered(http::Response<B>),
}

impl<B: MessageBody> Engine<'_, B> {
    /// Runs the classic `<foreach>`; `Continue` lets the merged message go on.
    pub(crate) fn run_foreach_classic<'a>(
        &'a self,
        fe: &'a ForEachClassic,
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            ctx.build_payload(self.max_message_bytes)
                .await
                .map_err(|e| Fault::payload(e, ctx.is_response))?;
            let sequence = self.foreach_sequence(fe)?;
            let envelope = ctx
                .payload
                .as_ref()
                .unwrap_or(&Payload::Empty)
                .envelope_xml()
                .into_owned();
            ctx.set(Scope::Default, &fe.original_property, envelope.clone())
                .map_err(Fault::mediation)?;
            ctx.mark_om(Scope::Default, &fe.original_property, true);
            self.set_counter(fe, ctx, 0)?;
            match &fe.expression {
                ValueSource::Json(path) => {
                    self.foreach_json(fe, path, sequence, ctx, route, depth)
                        .await
                }
                ValueSource::XPath(xpath) => {
                    self.foreach_xml(fe, xpath, &envelope, sequence, ctx, route, depth)
                        .await
                }
                _ => Ok(Ended::Continue),
            }
        })
    }

    fn set_counter(
        &self,
        fe: &ForEachClassic,
        ctx: &mut MessageContext<B>,
        count: usize,
    ) -> Result<(), Fault> {
        ctx.set(Scope::Default, &fe.counter_property, count.to_string())
            .map_err(Fault::mediation)
    }

    /// The sequence each match runs through; a referred one is checked as MI checks it.
    fn foreach_sequence(&self, fe: &ForEachClassic) -> Result<Arc<Sequence>, Fault> {
        match &fe.sequence {
            EipSequence::Inline(seq) => Ok(seq.clone()),
            EipSequence::Named(key) => {
                let seq = self.sequences.get(key).cloned().ok_or_else(|| {
                    Fault::mediation(format!("Couldn't find the sequence named : {key}"))
                })?;
                if seq.mediators.iter().any(|m| {
                    matches!(
                        m,
                        Mediator::Call(_) | Mediator::Send(_) | Mediator::Callout(_)
                    )
                }) {
                    return Err(Fault::mediation(
                        "ForEach: Referred sequence cannot contain Call, Send or CallOut mediators",
                    ));
                }
                Ok(seq)
            }
        }
    }

    /// Runs one iteration on the message.
    async fn foreach_iteration(
        &self,
        fe: &ForEachClassic,
        sequence: &Arc<Sequence>,
        ctx: &mut MessageContext<B>,
        route: &Route,
        depth: usize,
    ) -> Result<Iteration<B>, Fault> {
        match self
            .run_guarded(sequence.clone(), ctx, route, depth + 1)
            .await
        {
            Ok(Ended::Continue) => {
                // An iteration that ended with a reply holds it as a stream.
                ctx.build_payload(self.max_message_bytes)
                    .await
                    .map_err(|e| Fault::payload(e, ctx.is_response))?;
                Ok(Iteration::Done)
            }
            Ok(Ended::Responded(response)) => Ok(Iteration::Answered(response)),
            Ok(Ended::Dropped | Ended::Aggregated(_)) => Ok(Iteration::Stop),
            Err(fault) if fe.continue_loop_on_failure => {
                tracing::warn!(target: "conflux::mediation", "{{{}}} Error occurred while mediating the sequence for the foreach mediator, {}. Continuing with the remaining.", ctx.artifact, fault.message);
                Err(fault)
            }
            Err(fault) => Err(fault),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn foreach_json(
        &self,
        fe: &ForEachClassic,
        path: &crate::json::JsonEval,
        sequence: Arc<Sequence>,
        ctx: &mut MessageContext<B>,
        route: &Route,
        depth: usize,
    ) -> Result<Ended<B>, Fault> {
        let mut root = match &ctx.payload {
            Some(Payload::Json(json)) => json.value().clone(),
            // JsonUtil.jsonPayloadToString of a message without a JSON stream.
            _ => Json::Object(Default::default()),
        };
        let items = match path.evaluate(&root) {
            Some(Json::Array(items)) => items,
            _ => {
                return Err(Fault::mediation(format!(
                    "JSON element expressed by the path {} is not a valid JSON array",
                    path.text()
                )));
            }
        };
        if items.is_empty() {
            tracing::info!(target: "conflux::mediation", "{{{}}} No elements found for the JSONPath : {}", ctx.artifact, path.text());
            return Ok(Ended::Continue);
        }
        let mut results = Vec::with_capacity(items.len());
        let mut count = 0;
        for item in items {
            ctx.set_payload(Payload::Json(JsonPayload::from(item)));
            match self
                .foreach_iteration(fe, &sequence, ctx, route, depth)
                .await
            {
                // continueLoopOnFailure: no result, no count for this item.
                Err(_) if fe.continue_loop_on_failure => continue,
                Err(fault) => return Err(fault),
                Ok(Iteration::Answered(response)) => return Ok(Ended::Responded(response)),
                Ok(outcome) => {
                    results.push(match &ctx.payload {
                        Some(Payload::Json(json)) => json.value().clone(),
                        _ => Json::Object(Default::default()),
                    });
                    count += 1;
                    self.set_counter(fe, ctx, count)?;
                    if matches!(outcome, Iteration::Stop) {
                        break;
                    }
                }
            }
        }
        let merged = Json::Array(results);
        if path.is_whole() {
            root = merged;
        } else {
            path.replace(&mut root, merged)
                .map_err(|e| Fault::mediation(e.to_string()))?;
        }
        ctx.set_payload(Payload::Json(JsonPayload::from(root)));
        Ok(Ended::Continue)
    }

    #[allow(clippy::too_many_arguments)]
    async fn foreach_xml(
        &self,
        fe: &ForEachClassic,
        xpath: &crate::xpath::XPath,
        envelope: &str,
        sequence: Arc<Sequence>,
        ctx: &mut MessageContext<B>,
        route: &Route,
        depth: usize,
    ) -> Result<Ended<B>, Fault> {
        let soap = match &ctx.payload {
            Some(Payload::Xml { soap: Some(v), .. }) => Some(*v),
            _ => None,
        };
        let split = split(xpath, envelope, ctx).map_err(Fault::mediation)?;
        let Some(split) = split else {
            return Ok(Ended::Continue);
        };
        let version = soap.unwrap_or(SoapVersion::Soap11);
        let mut merged = String::new();
        let mut count = 0;
        for part in &split.parts {
            let payload = match soap {
                Some(v) => Payload::Xml {
                    text: wrap_in_envelope(part, v),
                    soap: Some(v),
                },
                None => Payload::xml(part.clone()).map_err(|e| Fault::mediation(e.to_string()))?,
            };
            ctx.set_payload(payload);
            let outcome = match self
                .foreach_iteration(fe, &sequence, ctx, route, depth)
                .await
            {
                // continueLoopOnFailure: the body the iteration left is merged all the same.
                Err(_) if fe.continue_loop_on_failure => Iteration::Done,
                Err(fault) => return Err(fault),
                Ok(Iteration::Answered(response)) => return Ok(Ended::Responded(response)),
                Ok(outcome) => outcome,
            };
            if let Some(element) = first_body_element(ctx).map_err(Fault::mediation)? {
                merged.push_str(&element);
            }
            count += 1;
            self.set_counter(fe, ctx, count)?;
            if matches!(outcome, Iteration::Stop) {
                break;
            }
        }
        let text = split.merge(&merged).map_err(Fault::mediation)?;
        let payload =
            payload_from_envelope(text, soap.map(|_| version)).map_err(Fault::mediation)?;
        ctx.set_payload(payload);
        Ok(Ended::Continue)
    }
}

/// The envelope without its matches, and the matches.
struct Split {
    /// The envelope with the matches taken out.
    base: String,
    /// Where the first match's parent ends in `base`: the results go there.
    insert_at: usize,
    parts: Vec<String>,
}

impl Split {
    /// The merged envelope, serialised again as Axiom writes the tree (so a result's namespace
    /// declarations that its new parent already makes are not repeated).
    fn merge(&self, results: &str) -> Result<String, String> {
        let text = format!(
            "{}{results}{}",
            &self.base[..self.insert_at],
            &self.base[self.insert_at..]
        );
        let doc = parse_document(&text)
            .map_err(|e| format!("foreach: the merged message is not well-formed XML: {e}"))?;
        Ok(serialize(doc.root_element()))
    }
}

/// Takes the matches of `xpath` out of `envelope` (getDetachedMatchingElements); None when
/// nothing matches.
fn split<B: MessageBody>(
    xpath: &crate::xpath::XPath,
    envelope: &str,
    ctx: &MessageContext<B>,
) -> Result<Option<Split>, String> {
    let doc =
        parse_document(envelope).map_err(|e| format!("the message is not well-formed XML: {e}"))?;
    let nodes = match xpath
        .evaluate(&doc, &CtxEnv(ctx))
        .map_err(|e| e.to_string())?
    {
        XValue::Nodes(nodes) => nodes,
        // A string, number or boolean selects nothing to iterate.
        _ => return Ok(None),
    };
    let Some(first) = nodes.first() else {
        return Ok(None);
    };
    let Some(parent) = first.parent_element() else {
        return Err("Error detecting parent element to merge".into());
    };
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    let mut parts = Vec::new();
    for node in &nodes {
        if !node.is_element() && !node.is_text() {
            return Err(format!(
                "Error splitting message with XPath : {} - result not an OMNode",
                xpath.text()
            ));
        }
        let range = node.range();
        // A match inside an earlier one goes with it.
        if ranges
            .iter()
            .any(|r| r.start <= range.start && range.end <= r.end)
        {
            continue;
        }
        parts.push(serialize(*node));
        ranges.push(range);
    }
    let parent_range = parent.range();
    let whole = &envelope[parent_range.clone()];
    // The parent had the first match as a child, so it has an end tag.
    let end_tag = parent_range.start + whole.rfind("</").unwrap_or(whole.len());
    ranges.sort_by_key(|r| r.start);
    let mut base = String::with_capacity(envelope.len());
    let mut at = 0;
    let mut insert_at = None;
    for r in &ranges {
        if insert_at.is_none() && end_tag <= r.start {
            base.push_str(&envelope[at..end_tag]);
            insert_at = Some(base.len());
            at = end_tag;
        }
        base.push_str(&envelope[at..r.start]);
        at = r.end;
    }
    if insert_at.is_none() {
        base.push_str(&envelope[at..end_tag.max(at)]);
        insert_at = Some(base.len());
        at = end_tag.max(at);
    }
    base.push_str(&envelope[at..]);
    Ok(Some(Split {
        base,
        insert_at: insert_at.unwrap_or(0),
        parts,
    }))
}

/// The first element of the iteration's body, serialised (`getBody().getFirstElement()`).
fn first_body_element<B>(ctx: &MessageContext<B>) -> Result<Option<String>, String> {
    let Some(payload) = &ctx.payload else {
        return Ok(None);
    };
    let body = format!("<w>{}</w>", payload.body_xml());
    let doc = parse_document(&body)?;
    Ok(doc
        .root_element()
        .children()
        .find(|n| n.is_element())
        .map(serialize))
}

#[cfg(test)]
mod tests {
    use crate::runtime::expr_context::test_support::*;

    async fn run(
        in_sequence: &str,
        content_type: &str,
        body: &str,
    ) -> (http::StatusCode, http::HeaderMap, String) {
        let d = deployed(&[("apis/A.xml", &api("A", in_sequence, ""))]);
        call(&d, "POST", "/A/x", Some(content_type), body).await
    }

    // docs-mi "ForEach Mediator" (classic) / MI Sample18: each request is replaced in place by
    // the iteration's result, after the parent's other children; FOREACH_COUNTER counts.
    #[tokio::test]
    async fn xml_matches_are_replaced_by_the_results_in_place() {
        let fe = r#"<foreach xmlns:m0="http://services.samples" expression="//m0:getQuote/m0:request">
               <sequence><payloadFactory media-type="xml"><format><m0:checkPriceRequest><m0:code>$1</m0:code><m0:n>$2</m0:n></m0:checkPriceRequest></format>
               <args><arg expression="//m0:symbol"/><arg expression="get-property('FOREACH_COUNTER')"/></args></payloadFactory></sequence>
             </foreach>
             <header name="X-Count" scope="transport" expression="get-property('FOREACH_COUNTER')"/><respond/>"#;
        let (status, headers, body) = run(
            fe,
            "application/xml",
            r#"<m0:getQuote xmlns:m0="http://services.samples"><m0:request><m0:symbol>IBM</m0:symbol></m0:request><m0:group>g</m0:group><m0:request><m0:symbol>WSO2</m0:symbol></m0:request></m0:getQuote>"#,
        )
        .await;
        assert_eq!(status, http::StatusCode::OK, "{body}");
        assert_eq!(
            body,
            r#"<m0:getQuote xmlns:m0="http://services.samples"><m0:group>g</m0:group><m0:checkPriceRequest><m0:code>IBM</m0:code><m0:n>0</m0:n></m0:checkPriceRequest><m0:checkPriceRequest><m0:code>WSO2</m0:code><m0:n>1</m0:n></m0:checkPriceRequest></m0:getQuote>"#
        );
        assert_eq!(headers["x-count"], "2");
        // No match: nothing runs, the message goes on as it was, the counter is 0.
        let (_, headers, body) = run(fe, "application/xml", "<a/>").await;
        assert_eq!(
            (body.as_str(), headers["x-count"].to_str().unwrap()),
            ("<a/>", "0")
        );
    }

    // ForEachMediator: the iterations run on the message itself, so properties they set stay;
    // FOREACH_ORIGINAL_MESSAGE is the envelope, walkable by XPath; an id prefixes both names.
    #[tokio::test]
    async fn properties_accumulate_and_the_original_message_is_kept() {
        let fe = r#"<property name="acc" value=""/>
             <foreach id="f" expression="//item">
               <sequence><property name="acc" expression="concat(get-property('acc'), //item, get-property('f_FOREACH_COUNTER'))"/></sequence>
             </foreach>
             <header name="X-Acc" scope="transport" expression="get-property('acc')"/>
             <header name="X-Group" scope="transport" expression="$ctx:f_FOREACH_ORIGINAL_MESSAGE//group"/>
             <header name="X-Group2" scope="transport" expression="get-property('f_FOREACH_ORIGINAL_MESSAGE')//group"/><respond/>"#;
        let (status, headers, body) = run(
            fe,
            "application/xml",
            "<r><group>G</group><item>a</item><item>b</item></r>",
        )
        .await;
        assert_eq!(status, http::StatusCode::OK, "{body}");
        assert_eq!(headers["x-acc"], "a0b1");
        assert_eq!(headers["x-group"], "G");
        assert_eq!(headers["x-group2"], "G");
        assert_eq!(body, "<r><group>G</group><item>a</item><item>b</item></r>");
    }

    // json-eval: each item is the payload; the results replace the array at the path.
    #[tokio::test]
    async fn json_arrays_are_replaced_at_the_path() {
        let fe = r#"<foreach expression="json-eval($.order.items)">
               <sequence><payloadFactory media-type="json"><format>{"n":$1,"i":$2}</format>
               <args><arg evaluator="json" expression="$.n"/><arg expression="get-property('FOREACH_COUNTER')"/></args></payloadFactory></sequence>
             </foreach><respond/>"#;
        let (status, _, body) = run(
            fe,
            "application/json",
            r#"{"order":{"items":[{"n":5},{"n":6}],"k":1}}"#,
        )
        .await;
        assert_eq!(status, http::StatusCode::OK, "{body}");
        assert_eq!(
            body,
            r#"{"order":{"items":[{"n":5,"i":0},{"n":6,"i":1}],"k":1}}"#
        );
        // Not an array: the foreach fails.
        let (status, _, body) = run(fe, "application/json", r#"{"order":{"items":{}}}"#).await;
        assert_eq!(status, http::StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.contains("is not a valid JSON array"), "{body}");
        // Empty: the flow goes on unchanged.
        let (_, _, body) = run(fe, "application/json", r#"{"order":{"items":[]}}"#).await;
        assert_eq!(body, r#"{"order":{"items":[]}}"#);
    }

    // A drop ends the loop (Synapse's false); the results so far are merged and the flow goes on.
    #[tokio::test]
    async fn a_drop_ends_the_loop_and_continue_on_failure_skips() {
        let fe = r#"<foreach expression="json-eval($)">
               <sequence><filter source="json-eval($.v)" regex="2"><then><drop/></then></filter>
               <payloadFactory media-type="json"><format>{"w":$1}</format><args><arg evaluator="json" expression="$.v"/></args></payloadFactory></sequence>
             </foreach><respond/>"#;
        let (_, _, body) = run(fe, "application/json", r#"[{"v":1},{"v":2},{"v":3}]"#).await;
        assert_eq!(body, r#"[{"w":1},{"v":2}]"#);
        let fe = r#"<foreach expression="json-eval($)" continueLoopOnFailure="true">
               <sequence><filter source="json-eval($.v)" regex="2"><then><throwError errorMessage="no"/></then></filter>
               <payloadFactory media-type="json"><format>{"w":$1}</format><args><arg evaluator="json" expression="$.v"/></args></payloadFactory></sequence>
             </foreach><respond/>"#;
        let (status, _, body) = run(fe, "application/json", r#"[{"v":1},{"v":2},{"v":3}]"#).await;
        assert_eq!(
            (status, body.as_str()),
            (http::StatusCode::OK, r#"[{"w":1},{"w":3}]"#)
        );
    }

    // A referred sequence holding a send fails the message when it is reached (MI checks it in
    // mediateSequence).
    #[tokio::test]
    async fn a_referred_sequence_with_send_fails_at_run_time() {
        let d = deployed(&[
            (
                "apis/A.xml",
                &api(
                    "A",
                    r#"<foreach expression="//a" sequence="each"/><respond/>"#,
                    "",
                ),
            ),
            (
                "sequences/each.xml",
                r#"<sequence xmlns="http://ws.apache.org/ns/synapse" name="each"><send/></sequence>"#,
            ),
        ]);
        let (status, _, body) =
            call(&d, "POST", "/A/x", Some("application/xml"), "<r><a/></r>").await;
        assert_eq!(status, http::StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            body.contains("Referred sequence cannot contain Call, Send or CallOut"),
            "{body}"
        );
    }
}
