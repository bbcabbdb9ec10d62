//! `<foreach collection>` (MI 4.4; SYN `mediators/v2/ForEachMediatorV2.java`): the sequence runs
//! once per item of a JSON array, each on its own copy of the message ([`copy_message`]) whose
//! whole payload is the item, concurrently (the default) or one after the other; the original
//! message then goes on.
//!
//! - **The collection** is `objectValueOf(collection)` on the original message and must be a JSON
//!   array ("did not resolve to a valid array" otherwise); an empty one is logged at INFO and the
//!   flow goes on.
//! - **`counter-variable`** (sequential only) is set to the item's index (a Java Integer).
//! - **`update-original`** (the default): each iteration's final payload (`payload`, as JSON)
//!   replaces its item, by index, at the collection's path: `payload` is the whole body,
//!   `payload.a.b` / `payload.a[0]` a path in it, `vars.v` / `vars.v.a` a variable or a path in it
//!   (MI turns the expression into a JSONPath and `set`s it). A collection that is not such a path
//!   cannot be written back and is refused when the artifact deploys.
//! - **`update-original="false"`**: the variable gets a JSON array of each iteration's payload
//!   (null when it is not JSON) or `<result-enclosing-element>` holding each body's first element.
//! - **`continue-without-aggregation="true"`**: nothing is gathered.
//!
//! Differences: XML collections (`${xpath(...)}` node lists) are refused at run time with an
//! error; with `continue-without-aggregation` Conflux runs the iterations to their end before the
//! original goes on (MI goes on at once), the results still discarded; an iteration that fails
//! fails the mediator, and one that answers the client or drops its message fails it too (MI's
//! aggregation would wait for it forever).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value as Json;

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;
use crate::runtime::engine::{Ended, Engine, Fault, Route, Sequence, Step};
use crate::runtime::mediators::copy_message;
use crate::runtime::mediators::scatter_gather::{ResultContent, gather};
use crate::runtime::payload::{JsonPayload, Payload};
use crate::runtime::value::ValueSource;
use crate::synapse_expr::ExprValue;

/// Where the collection lives, for writing the results back.
#[derive(Debug, Clone, PartialEq)]
pub enum CollectionRoot {
    Payload,
    Variable(String),
}

/// One step of a collection path: `.name` / `["name"]` or `[index]`.
#[derive(Debug, Clone, PartialEq)]
pub enum PathStep {
    Key(String),
    Index(usize),
}

/// A collection written as a plain path (`payload.a[0].b`, `vars.v.a`).
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionPath {
    pub root: CollectionRoot,
    pub steps: Vec<PathStep>,
}

impl CollectionPath {
    /// The path of `text` (the expression inside `${...}`), or None when it is not a plain path.
    pub fn parse(text: &str) -> Option<CollectionPath> {
        let text = text.trim();
        let (root, mut rest) = if let Some(rest) = text.strip_prefix("payload") {
            (CollectionRoot::Payload, rest)
        } else {
            let rest = text.strip_prefix("vars.")?;
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let name = &rest[..end];
            if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return None;
            }
            (CollectionRoot::Variable(name.to_string()), &rest[end..])
        };
        let mut steps = Vec::new();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('.') {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                let key = &after[..end];
                if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    return None;
                }
                steps.push(PathStep::Key(key.to_string()));
                rest = &after[end..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let end = after.find(']')?;
                let inside = after[..end].trim();
                let quoted = |q: char| inside.strip_prefix(q).and_then(|s| s.strip_suffix(q));
                let step = match quoted('"').or_else(|| quoted('\'')) {
                    Some(key) => PathStep::Key(key.to_string()),
                    None => PathStep::Index(inside.parse().ok()?),
                };
                steps.push(step);
                rest = &after[end + 1..];
            } else {
                return None;
            }
        }
        Some(CollectionPath { root, steps })
    }
}

/// What happens to the results (runtime form of the artifact's `ForEachResult`).
#[derive(Debug, Clone)]
pub enum ForEachResult {
    UpdateOriginal(CollectionPath),
    Variable {
        name: String,
        content: ResultContent,
    },
    ContinueWithoutAggregation,
}

#[derive(Debug, Clone)]
pub struct ForEach {
    pub collection: ValueSource,
    pub parallel: bool,
    pub result: ForEachResult,
    pub counter_variable: Option<String>,
    pub sequence: Arc<Sequence>,
}

/// The JSON at `steps` under `value`, to replace.
fn locate<'v>(value: &'v mut Json, steps: &[PathStep]) -> Option<&'v mut Json> {
    steps.iter().try_fold(value, |v, step| match step {
        PathStep::Key(k) => v.get_mut(k.as_str()),
        PathStep::Index(i) => v.get_mut(*i),
    })
}

/// An iteration's final payload as JSON (`SynapseExpression("payload").objectValueOf`); None
/// when it is not JSON.
fn payload_json<B>(ctx: &MessageContext<B>) -> Option<Json> {
    match &ctx.payload {
        Some(Payload::Json(json)) => Some(json.value.clone()),
        _ => None,
    }
}

/// The first element of an iteration's body, serialised.
fn first_element<B>(ctx: &MessageContext<B>) -> Result<Option<String>, String> {
    let Some(payload) = &ctx.payload else {
        return Ok(None);
    };
    let body = format!("<w>{}</w>", payload.body_xml());
    let doc = crate::runtime::payload::parse_document(&body)?;
    Ok(doc
        .root_element()
        .children()
        .find(|n| n.is_element())
        .map(crate::xpath::serialize))
}

impl<B: MessageBody> Engine<'_, B> {
    /// Runs `<iterate>`, `<scatter-gather>` or `<foreach collection>` (one entry point for the
    /// engine's mediator loop); any other mediator continues.
    pub(crate) fn run_splitter<'a>(
        &'a self,
        mediator: &'a crate::runtime::mediators::Mediator,
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        use crate::runtime::mediators::Mediator;
        match mediator {
            Mediator::Iterate(it) => self.run_iterate(it, ctx, route, depth),
            Mediator::ScatterGather(sg) => self.run_scatter_gather(sg, ctx, route, depth),
            Mediator::ForEach(fe) => self.run_foreach(fe, ctx, route, depth),
            _ => Box::pin(async { Ok(Ended::Continue) }),
        }
    }

    /// Runs `<foreach collection>`; `Continue` lets the original message go on.
    pub(crate) fn run_foreach<'a>(
        &'a self,
        fe: &'a ForEach,
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            ctx.build_payload(self.max_message_bytes)
                .await
                .map_err(|e| Fault::payload(e, ctx.is_response))?;
            let items = match fe.collection.object_value(ctx).map_err(Fault::mediation)? {
                ExprValue::Json(Json::Array(items)) => items,
                ExprValue::Xml(_) => {
                    return Err(Fault::mediation(format!(
                        "foreach: the collection {} is an XML node list; Conflux iterates JSON arrays only",
                        fe.collection.describe()
                    )));
                }
                _ => {
                    return Err(Fault::mediation(format!(
                        "The evaluated collection expression {} did not resolve to a valid array",
                        fe.collection.describe()
                    )));
                }
            };
            if items.is_empty() {
                tracing::info!(target: "conflux::mediation", "{{{}}} No elements found for the expression : {}", ctx.artifact, fe.collection.describe());
                return Ok(Ended::Continue);
            }
            let artifact = ctx.artifact.clone();
            let copies: Vec<MessageContext<B>> = items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    let mut copy = copy_message(ctx);
                    copy.set_payload(Payload::Json(JsonPayload::from(item.clone())));
                    if let Some(counter) = &fe.counter_variable {
                        copy.variables
                            .insert(counter.clone(), ExprValue::Int(index as i32));
                    }
                    copy
                })
                .collect();
            let run_one = |index: usize, mut copy: MessageContext<B>| {
                let seq = fe.sequence.clone();
                let artifact = artifact.clone();
                async move {
                    match self.run_guarded(seq, &mut copy, route, depth + 1).await? {
                        Ended::Continue => {
                            // An iteration that ended with a call holds the reply as a stream.
                            copy.build_payload(self.max_message_bytes)
                                .await
                                .map_err(|e| Fault::payload(e, copy.is_response))?;
                            Ok((index, copy))
                        }
                        _ => Err(Fault::mediation(format!(
                            "{{{artifact}}} foreach: iteration {index} ended its message before the aggregation"
                        ))),
                    }
                }
            };
            type Done<B> = Result<(usize, MessageContext<B>), Fault>;
            let done: Vec<Done<B>> = if fe.parallel {
                let futures = copies
                    .into_iter()
                    .enumerate()
                    .map(|(i, copy)| {
                        Box::pin(run_one(i, copy))
                            as Pin<Box<dyn Future<Output = Done<B>> + Send + '_>>
                    })
                    .collect();
                // A failed iteration ends the wait: it fails the mediator.
                gather(futures, None, |d: &Done<B>| d.is_err()).await
            } else {
                let mut done = Vec::with_capacity(copies.len());
                for (i, copy) in copies.into_iter().enumerate() {
                    let d = run_one(i, copy).await;
                    let failed = d.is_err();
                    done.push(d);
                    if failed {
                        break;
                    }
                }
                done
            };
            // The results by the item's index, not arrival order.
            let mut results: Vec<Option<MessageContext<B>>> =
                (0..items.len()).map(|_| None).collect();
            for d in done {
                let (index, copy) = d?;
                results[index] = Some(copy);
            }
            let results: Vec<MessageContext<B>> = results.into_iter().flatten().collect();
            match &fe.result {
                ForEachResult::ContinueWithoutAggregation => {}
                ForEachResult::UpdateOriginal(path) => {
                    let updated: Vec<Json> = results
                        .iter()
                        .map(|r| payload_json(r).unwrap_or(Json::Null))
                        .collect();
                    write_back(ctx, path, Json::Array(updated)).map_err(Fault::mediation)?;
                }
                ForEachResult::Variable { name, content } => {
                    let value = match content {
                        ResultContent::Json => ExprValue::Json(Json::Array(
                            results
                                .iter()
                                .map(|r| payload_json(r).unwrap_or(Json::Null))
                                .collect(),
                        )),
                        ResultContent::Xml { enclosing_element } => {
                            let mut xml = format!("<{enclosing_element}>");
                            for r in &results {
                                if let Some(element) = first_element(r).map_err(Fault::mediation)? {
                                    xml.push_str(&element);
                                }
                            }
                            xml.push_str(&format!("</{enclosing_element}>"));
                            crate::runtime::payload::parse_document(&xml).map_err(|e| {
                                Fault::mediation(format!(
                                    "foreach: result-enclosing-element '{enclosing_element}' does not make an XML element ({e})"
                                ))
                            })?;
                            ExprValue::Xml(xml)
                        }
                    };
                    ctx.variables.insert(name.clone(), value);
                }
            }
            Ok(Ended::Continue)
        })
    }
}

/// Writes the updated collection at its path (JsonPath `set`).
fn write_back<B: MessageBody>(
    ctx: &mut MessageContext<B>,
    path: &CollectionPath,
    updated: Json,
) -> Result<(), String> {
    let lost =
        || "foreach: the collection's path no longer exists after the iterations".to_string();
    match &path.root {
        CollectionRoot::Payload => {
            let mut body = match &ctx.payload {
                Some(Payload::Json(json)) => json.value.clone(),
                _ if path.steps.is_empty() => Json::Null,
                _ => return Err(
                    "foreach: the payload is no longer JSON; the results cannot be written back"
                        .into(),
                ),
            };
            match locate(&mut body, &path.steps) {
                Some(slot) => *slot = updated,
                None => return Err(lost()),
            }
            ctx.set_payload(Payload::Json(JsonPayload::from(body)));
        }
        CollectionRoot::Variable(name) => {
            let Some(ExprValue::Json(mut value)) = ctx.variables.get(name).cloned() else {
                return Err(format!(
                    "foreach: the variable {name} no longer holds JSON; the results cannot be written back"
                ));
            };
            match locate(&mut value, &path.steps) {
                Some(slot) => *slot = updated,
                None => return Err(lost()),
            }
            ctx.variables.insert(name.clone(), ExprValue::Json(value));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::expr_context::test_support::*;

    async fn run(in_sequence: &str, body: &str) -> (http::StatusCode, http::HeaderMap, String) {
        let d = deployed(&[("apis/A.xml", &api("A", in_sequence, ""))]);
        call(&d, "POST", "/A/x", Some("application/json"), body).await
    }

    #[test]
    fn collection_paths() {
        let p = CollectionPath::parse("payload.a[2][\"b c\"].d").unwrap();
        assert_eq!(p.root, CollectionRoot::Payload);
        assert_eq!(
            p.steps,
            vec![
                PathStep::Key("a".into()),
                PathStep::Index(2),
                PathStep::Key("b c".into()),
                PathStep::Key("d".into())
            ]
        );
        let p = CollectionPath::parse("vars.list").unwrap();
        assert_eq!(p.root, CollectionRoot::Variable("list".into()));
        assert!(p.steps.is_empty());
        assert!(CollectionPath::parse("payload").unwrap().steps.is_empty());
        for bad in [
            "xpath('//a')",
            "payload.a + 1",
            "vars.",
            "payload[x]",
            "payloads.a",
        ] {
            assert_eq!(CollectionPath::parse(bad), None, "{bad}");
        }
    }

    // ForEachMediatorV2 update-original: each result replaces its item by index; the counter
    // variable is the Integer index.
    #[tokio::test]
    async fn results_replace_the_items_in_place() {
        let fe = r#"<foreach collection="${payload.order.items}" parallel-execution="false" counter-variable="i">
               <sequence><payloadFactory media-type="json"><format>{"n":${payload.n},"i":${vars.i}}</format></payloadFactory></sequence>
             </foreach><respond/>"#;
        let (status, _, body) = run(fe, r#"{"order":{"items":[{"n":5},{"n":6}],"k":1}}"#).await;
        assert_eq!(status, http::StatusCode::OK, "{body}");
        assert_eq!(
            body,
            r#"{"order":{"items":[{"n":5,"i":0},{"n":6,"i":1}],"k":1}}"#
        );
        // Parallel over the whole payload.
        let fe = r#"<foreach collection="${payload}">
               <sequence><payloadFactory media-type="json"><format>{"v":${payload}}</format></payloadFactory></sequence>
             </foreach><respond/>"#;
        assert_eq!(run(fe, "[1,2,3]").await.2, r#"[{"v":1},{"v":2},{"v":3}]"#);
    }

    // update-original="false": the results go to the variable; the body is untouched.
    #[tokio::test]
    async fn results_to_a_variable() {
        let fe = r#"<variable name="list" type="JSON" value="[{&quot;a&quot;:1},{&quot;a&quot;:2}]"/>
             <foreach collection="${vars.list}" update-original="false" target-variable="out" result-content-type="JSON">
               <sequence><payloadFactory media-type="json"><format>{"b":${payload.a}}</format></payloadFactory></sequence>
             </foreach>
             <foreach collection="${vars.list}" update-original="false" target-variable="xml" result-content-type="XML" result-enclosing-element="all">
               <sequence><payloadFactory media-type="xml"><format><b xmlns="">${payload.a}</b></format></payloadFactory></sequence>
             </foreach>
             <header name="X-Out" scope="transport" expression="${vars.out}"/>
             <header name="X-Xml" scope="transport" expression="${vars.xml}"/>
             <header name="X-List" scope="transport" expression="${vars.list}"/><respond/>"#;
        let (status, headers, body) = run(fe, r#"{"k":1}"#).await;
        assert_eq!(status, http::StatusCode::OK, "{body}");
        assert_eq!(body, r#"{"k":1}"#);
        assert_eq!(headers["x-out"], r#"[{"b":1},{"b":2}]"#);
        assert_eq!(headers["x-xml"], "<all><b>1</b><b>2</b></all>");
        assert_eq!(headers["x-list"], r#"[{"a":1},{"a":2}]"#);
    }

    #[tokio::test]
    async fn a_collection_must_be_an_array() {
        let fe = r#"<foreach collection="${payload.x}"><sequence><drop/></sequence></foreach><respond/>"#;
        let (status, _, body) = run(fe, r#"{"x":{"a":1}}"#).await;
        assert_eq!(status, http::StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.contains("did not resolve to a valid array"), "{body}");
        // Empty: nothing runs and the flow goes on.
        assert_eq!(run(fe, r#"{"x":[]}"#).await.2, r#"{"x":[]}"#);
        // An iteration that drops its message never reaches the aggregation.
        let (status, _, body) = run(fe, r#"{"x":[1]}"#).await;
        assert_eq!(status, http::StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.contains("before the aggregation"), "{body}");
    }

    #[tokio::test]
    async fn continue_without_aggregation_keeps_the_message() {
        let fe = r#"<foreach collection="${payload}" continue-without-aggregation="true">
               <sequence><payloadFactory media-type="json"><format>{}</format></payloadFactory></sequence>
             </foreach><respond/>"#;
        assert_eq!(run(fe, "[1,2]").await.2, "[1,2]");
    }

    #[test]
    fn update_original_needs_a_path() {
        let fe = r#"<foreach collection="${xpath('//a')}"><sequence/></foreach>"#;
        let (_, errors) = deploy(&[("apis/A.xml", &api("A", fe, ""))]);
        assert!(
            errors
                .iter()
                .any(|e| e.to_string().contains("must be a path")),
            "{errors:?}"
        );
    }
}
