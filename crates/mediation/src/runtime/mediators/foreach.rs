//! `<foreach collection>` (MI 4.4; SYN `mediators/v2/ForEachMediatorV2.java`): the sequence runs
//! once per item of a JSON array or an XML node list, each on its own copy of the message
//! whose whole payload is the item, concurrently (the default; at most `[mediation]
//! max_inflight_branches` at once, the others waiting unbuilt, runtime/mediators/branches.rs) or
//! one after the other; the original message then goes on.
//!
//! - **The collection** is `objectValueOf(collection)` on the original message and must be a JSON
//!   array or a node list (`${xpath('//data/list')}`, `${xpath('//item', 'order')}` over a
//!   variable's XML; "did not resolve to a valid array" otherwise); an empty one is logged at
//!   INFO and the flow goes on. An XML item becomes the iteration's body (a text node its text).
//! - **`counter-variable`** (sequential only) is set to the item's index (a Java Integer).
//! - **`update-original`** (the default): each iteration's final payload (`payload`, as JSON)
//!   replaces its item, by index, at the collection's path: `payload` is the whole body,
//!   `payload.a.b` / `payload.a[0]` a path in it, `vars.v` / `vars.v.a` a variable or a path in it
//!   (MI turns the expression into a JSONPath and `set`s it). For an XML collection written as
//!   `${xpath('X')}` (or `${xpath('X', 'name')}`), MI evaluates the XPath again on the original
//!   message (or variable), detaches the nodes it selects and appends each iteration's first body
//!   element, in item order, to the parent of the first of them ([`XmlCollection`]): the results
//!   end up after the parent's other children. A collection that is none of these cannot be
//!   written back and is refused when the artifact deploys.
//! - **`update-original="false"`**: the variable gets a JSON array of each iteration's payload
//!   (null when it is not JSON) or `<result-enclosing-element>` holding each body's first element.
//! - **`continue-without-aggregation="true"`**: nothing is gathered.
//!
//! Differences: a node list is split from the XML text of the expression's value, so adjacent
//! text nodes are one item; an XML collection read from `${vars.name}` is written back as the
//! variable's new value (the results, in order); an iteration whose body has no element adds
//! nothing on write-back (MI fails on the null); with `continue-without-aggregation` Conflux runs the iterations to their end before the
//! original goes on (MI goes on at once), the results still discarded; an iteration that fails
//! fails the mediator, and one that answers the client or drops its message fails it too (MI's
//! aggregation would wait for it forever).

use std::sync::Arc;

use serde_json::Value as Json;

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;
use crate::runtime::engine::{Ended, Engine, Fault, Route, Sequence, Step};
use crate::runtime::mediators::branches::{Branch, gather};
use crate::runtime::mediators::clone::copy_without_payload;
use crate::runtime::mediators::scatter_gather::ResultContent;
use crate::runtime::payload::parse_document;
use crate::runtime::payload::{JsonPayload, Payload};
use crate::runtime::value::{CtxEnv, ValueSource};
use crate::synapse_expr::ExprValue;
use crate::xpath::{XPath, XValue};

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

/// An XML collection written as `xpath('X')` or `xpath('X', 'name')`, the two forms
/// ForEachMediatorV2.updateOriginalPayload writes back to (SynapseExpressionUtils'
/// `xpath\(['"](.*?)['"]\s*(,\s*['"](.*?)['"])?\)?` and the `substring(7, len - 2)` it takes
/// otherwise).
#[derive(Debug, Clone)]
pub struct XmlCollection {
    /// The XPath; over a variable, relative to its element (`.` + X, see `runtime::xpath_variable`).
    pub xpath: XPath,
    /// The variable whose XML holds the collection; None: the message.
    pub variable: Option<String>,
}

impl XmlCollection {
    /// The collection of `text` (the expression inside `${...}`), None when it is not an
    /// `xpath('...')` call with literal arguments; `Err` when its XPath does not compile.
    pub fn parse(
        text: &str,
        namespaces: &[(String, String)],
    ) -> Option<Result<XmlCollection, String>> {
        let inside = text
            .trim()
            .strip_prefix("xpath(")?
            .strip_suffix(')')?
            .trim();
        let (path, rest) = quoted(inside)?;
        let rest = rest.trim();
        let variable = if rest.is_empty() {
            None
        } else {
            let (name, rest) = quoted(rest.strip_prefix(',')?.trim())?;
            if !rest.trim().is_empty() {
                return None;
            }
            Some(name.to_string())
        };
        let compiled = match &variable {
            None => XPath::compile(path, namespaces).map_err(|e| e.to_string()),
            Some(_) => crate::runtime::xpath_variable::relative_path(path)
                .and_then(|p| XPath::compile(&p, namespaces).map_err(|e| e.to_string())),
        };
        Some(compiled.map(|xpath| XmlCollection { xpath, variable }))
    }
}

/// A string literal at the start of `text` and what follows it.
fn quoted(text: &str) -> Option<(&str, &str)> {
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let end = text[1..].find(quote)? + 1;
    Some((&text[1..end], &text[end + 1..]))
}

/// What happens to the results (runtime form of the artifact's `ForEachResult`).
#[derive(Debug, Clone)]
pub enum ForEachResult {
    UpdateOriginal(CollectionPath),
    /// update-original over an XML collection.
    UpdateOriginalXml(XmlCollection),
    Variable {
        name: String,
        content: ResultContent,
    },
    ContinueWithoutAggregation,
}

impl ForEachResult {
    /// update-original for the collection `text` (as written, `${...}`): a plain path in the
    /// payload or a variable, or an `xpath(...)` node list; `Err` says why it cannot be written
    /// back.
    pub fn update_original(
        text: &str,
        namespaces: &[(String, String)],
    ) -> Result<ForEachResult, String> {
        let inner = crate::synapse_expr::whole_expression(text.trim());
        if let Some(path) = inner.and_then(CollectionPath::parse) {
            return Ok(ForEachResult::UpdateOriginal(path));
        }
        match inner.and_then(|i| XmlCollection::parse(i, namespaces)) {
            Some(Ok(xml)) => Ok(ForEachResult::UpdateOriginalXml(xml)),
            Some(Err(e)) => Err(format!("foreach: the collection {text}: {e}")),
            None => Err(format!(
                "foreach: with update-original the collection must be a path in the payload or a variable (${{payload.items}}, ${{vars.list.items}}) or an XPath node list (${{xpath('//items/item')}}, ${{xpath('//item', 'var')}}) to write the results back to, not {text}; or set update-original=\"false\" with a target-variable"
            )),
        }
    }
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
        Some(Payload::Json(json)) => Some(json.value().clone()),
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
            Mediator::ForEachClassic(fe) => self.run_foreach_classic(fe, ctx, route, depth),
            Mediator::Throttle(t) => self.run_throttle(t, ctx, route, depth),
            // runtime/mediators/cache.rs: validate's on-fail, and cache hits.
            Mediator::Validate(_) | Mediator::Cache(_) => {
                self.run_check(mediator, ctx, route, depth)
            }
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
            let items: Vec<Payload> = match fe
                .collection
                .object_value(ctx)
                .map_err(Fault::mediation)?
            {
                ExprValue::Json(Json::Array(items)) => items
                    .into_iter()
                    .map(|item| Payload::Json(JsonPayload::from(item)))
                    .collect(),
                ExprValue::Xml(xml) => xml_items(&xml).map_err(Fault::mediation)?,
                // `xpath(...)` in object context is a node list, empty when nothing matched
                // (reads as "" here).
                ExprValue::String(s) if s.is_empty() && is_xpath_call(&fe.collection) => Vec::new(),
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
            let count = items.len();
            // Each iteration's copy is built when it starts, from one copy of the message without
            // its payload (MessageHelper.cloneMessageContext; the item replaces the payload).
            let proto = copy_without_payload(ctx);
            let copies = items.into_iter().enumerate().map(move |(index, item)| {
                let mut copy = copy_without_payload(&proto);
                copy.set_payload(item);
                if let Some(counter) = &fe.counter_variable {
                    copy.variables
                        .insert(counter.clone(), ExprValue::Int(index as i32));
                }
                copy
            });
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
                let iterations = copies
                    .enumerate()
                    .map(|(i, copy)| Box::pin(run_one(i, copy)) as Branch<'_, Done<B>>);
                // A failed iteration ends the wait: it fails the mediator.
                gather(
                    self.max_inflight_branches,
                    iterations,
                    None,
                    |d: &Done<B>| d.is_err(),
                )
                .await
            } else {
                let mut done = Vec::with_capacity(count);
                for (i, copy) in copies.enumerate() {
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
            let mut results: Vec<Option<MessageContext<B>>> = (0..count).map(|_| None).collect();
            for d in done {
                let (index, copy) = d?;
                results[index] = Some(copy);
            }
            let results: Vec<MessageContext<B>> = results.into_iter().flatten().collect();
            match &fe.result {
                ForEachResult::ContinueWithoutAggregation => {}
                ForEachResult::UpdateOriginal(CollectionPath {
                    root: CollectionRoot::Variable(name),
                    ..
                }) if matches!(ctx.variables.get(name), Some(ExprValue::Xml(_))) => {
                    // A node list read from a variable: the results are its new nodes.
                    let xml = xml_results(&results).map_err(Fault::mediation)?;
                    ctx.variables.insert(name.clone(), ExprValue::Xml(xml));
                }
                ForEachResult::UpdateOriginal(path) => {
                    let updated: Vec<Json> = results
                        .iter()
                        .map(|r| payload_json(r).unwrap_or(Json::Null))
                        .collect();
                    write_back(ctx, path, Json::Array(updated)).map_err(Fault::mediation)?;
                }
                ForEachResult::UpdateOriginalXml(collection) => {
                    let xml = xml_results(&results).map_err(Fault::mediation)?;
                    write_back_xml(ctx, collection, &xml).map_err(Fault::mediation)?;
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

/// Whether the collection is an `xpath(...)` call, whose value is always a node list.
fn is_xpath_call(collection: &ValueSource) -> bool {
    matches!(collection, ValueSource::Synapse(e) if e.expression.text().trim_start().starts_with("xpath("))
}

/// The items of a node list given as its XML text: each element as an XML body, each
/// non-blank text node as a text body.
fn xml_items(xml: &str) -> Result<Vec<Payload>, String> {
    let wrapped = format!("<w>{xml}</w>");
    let doc = parse_document(&wrapped)
        .map_err(|e| format!("foreach: the collection's XML does not parse: {e}"))?;
    let mut items = Vec::new();
    for node in doc.root_element().children() {
        if node.is_element() {
            items.push(Payload::xml(crate::xpath::serialize(node)).map_err(|e| e.to_string())?);
        } else if let Some(text) = node
            .text()
            .filter(|t| node.is_text() && !t.trim().is_empty())
        {
            items.push(Payload::Text(text.to_string()));
        }
    }
    Ok(items)
}

/// Each iteration's first body element, in item order (getXMLPayloadsAsList), concatenated.
fn xml_results<B>(results: &[MessageContext<B>]) -> Result<String, String> {
    let mut xml = String::new();
    for r in results {
        if let Some(element) = first_element(r)? {
            xml.push_str(&element);
        }
    }
    Ok(xml)
}

/// update-original over an XML collection (updateOriginalPayload, updateXMLCollection): the nodes
/// the XPath selects now are removed and `results` appended to the parent of the first.
fn write_back_xml<B: MessageBody>(
    ctx: &mut MessageContext<B>,
    collection: &XmlCollection,
    results: &str,
) -> Result<(), String> {
    match &collection.variable {
        None => {
            let soap = match &ctx.payload {
                Some(Payload::Xml { soap, .. }) => *soap,
                _ => {
                    return Err(
                        "foreach: the payload is no longer XML; the results cannot be written back"
                            .into(),
                    );
                }
            };
            let updated = {
                let Some(payload) = &ctx.payload else {
                    return Ok(());
                };
                let envelope = payload.envelope_xml();
                let doc = parse_document(&envelope)?;
                let nodes = selected(&collection.xpath, &doc, &CtxEnv(ctx))?;
                if nodes.is_empty() {
                    return Ok(());
                }
                replace_nodes(&envelope, &nodes, results)?
            };
            let payload = match soap {
                Some(version) => Payload::Xml {
                    text: updated,
                    soap: Some(version),
                },
                None => {
                    let body = Payload::Xml {
                        text: updated,
                        soap: Some(crate::runtime::payload::SoapVersion::Soap11),
                    }
                    .body_xml();
                    Payload::xml(body).map_err(|e| {
                        format!("foreach: the updated payload is not one XML document: {e}")
                    })?
                }
            };
            ctx.set_payload(payload);
        }
        Some(name) => {
            let Some(ExprValue::Xml(xml)) = ctx.variables.get(name) else {
                return Err(format!(
                    "foreach: the variable {name} no longer holds XML; the results cannot be written back"
                ));
            };
            let doc = parse_document(xml).map_err(|e| {
                format!("foreach: the variable {name} is not one XML element ({e}); the results cannot be written back")
            })?;
            let nodes = selected(&collection.xpath, &doc, &CtxEnv(ctx))?;
            if nodes.is_empty() {
                return Ok(());
            }
            let updated = replace_nodes(xml, &nodes, results)?;
            ctx.variables.insert(name.clone(), ExprValue::Xml(updated));
        }
    }
    Ok(())
}

/// The tree nodes `xpath` selects in `doc`.
fn selected<'a, 'i>(
    xpath: &XPath,
    doc: &'a roxmltree::Document<'i>,
    env: &dyn crate::xpath::XPathEnv,
) -> Result<Vec<roxmltree::Node<'a, 'i>>, String> {
    match xpath.evaluate(doc, env).map_err(|e| e.to_string())? {
        XValue::Nodes(nodes) => Ok(nodes),
        _ => Err(format!(
            "foreach: {} does not select elements; the results cannot be written back",
            xpath.text()
        )),
    }
}

/// `text` (the source of the nodes' document) without `nodes` and with `replacement` appended
/// as the last children of the first node's parent.
fn replace_nodes(
    text: &str,
    nodes: &[roxmltree::Node],
    replacement: &str,
) -> Result<String, String> {
    let Some(parent) = nodes.first().and_then(|n| n.parent_element()) else {
        return Err("foreach: the collection has no parent element to write the results to".into());
    };
    // Nodes inside another selected node go with it.
    let mut removed: Vec<std::ops::Range<usize>> = Vec::new();
    for node in nodes {
        let range = node.range();
        if !removed
            .iter()
            .any(|r| r.start <= range.start && range.end <= r.end)
        {
            removed.push(range);
        }
    }
    removed.sort_by_key(|r| r.start);
    let parent_range = parent.range();
    let insert_at = parent_range.start
        + text[parent_range.clone()]
            .rfind("</")
            .ok_or("foreach: the collection's parent has no end tag")?;
    let mut out = String::with_capacity(text.len() + replacement.len());
    let mut at = 0;
    let mut inserted = false;
    for r in removed {
        if !inserted && insert_at <= r.start {
            out.push_str(&text[at..insert_at]);
            out.push_str(replacement);
            at = insert_at;
            inserted = true;
        }
        out.push_str(&text[at..r.start]);
        at = r.end;
    }
    if !inserted {
        out.push_str(&text[at..insert_at]);
        out.push_str(replacement);
        at = insert_at;
    }
    out.push_str(&text[at..]);
    Ok(out)
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
                Some(Payload::Json(json)) => json.value().clone(),
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
    fn update_original_needs_a_path_or_a_node_list() {
        for collection in [
            "${vars.a + 1}",
            "${xpath(vars.p)}",
            "${xpath('//a', 'v', 'w')}",
        ] {
            let fe = format!(r#"<foreach collection="{collection}"><sequence/></foreach>"#);
            let (_, errors) = deploy(&[("apis/A.xml", &api("A", &fe, ""))]);
            assert!(
                errors
                    .iter()
                    .any(|e| e.to_string().contains("must be a path")),
                "{collection}: {errors:?}"
            );
        }
        let fe = r#"<foreach collection="${xpath('//a', 'v')}"><sequence/></foreach>"#;
        assert!(deploy(&[("apis/A.xml", &api("A", fe, ""))]).1.is_empty());
        // Over a variable the XPath is appended to `$var:v`: it must start with '/'.
        let fe = r#"<foreach collection="${xpath('a', 'v')}"><sequence/></foreach>"#;
        let (_, errors) = deploy(&[("apis/A.xml", &api("A", fe, ""))]);
        assert!(
            errors
                .iter()
                .any(|e| e.to_string().contains("must start with '/'")),
            "{errors:?}"
        );
    }

    #[test]
    fn xml_collection_forms() {
        let c = XmlCollection::parse(r#" xpath("//a/b") "#, &[])
            .unwrap()
            .unwrap();
        assert_eq!((c.xpath.text(), c.variable), ("//a/b", None));
        let c = XmlCollection::parse("xpath('//i' , 'order')", &[])
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.xpath.text(), c.variable.as_deref()),
            (".//i", Some("order"))
        );
        assert!(XmlCollection::parse("xpath('//a') + 1", &[]).is_none());
        assert!(XmlCollection::parse("xpath('//a[')", &[]).unwrap().is_err());
    }

    async fn run_xml(in_sequence: &str, body: &str) -> (http::StatusCode, http::HeaderMap, String) {
        let d = deployed(&[("apis/A.xml", &api("A", in_sequence, ""))]);
        call(&d, "POST", "/A/x", Some("application/xml"), body).await
    }

    // docs-mi ForEach mediator, example 1: `${xpath('//data/list')}` iterates the `list`
    // elements; each result replaces them, appended to their parent after its other children
    // (updateXMLCollection: detach, then parent.addChild), in item order.
    #[tokio::test]
    async fn xml_node_lists_are_iterated_and_written_back() {
        let fe = r#"<foreach collection="${xpath('//data/list')}" parallel-execution="false" counter-variable="i">
               <sequence><payloadFactory media-type="xml"><format><person xmlns=""><surname>${xpath('//list/name/text()')}</surname><n>${vars.i}</n></person></format></payloadFactory></sequence>
             </foreach><respond/>"#;
        let (status, _, body) = run_xml(
            fe,
            "<data><list><name>Doe</name></list><total>2</total><list><name>Roe</name></list></data>",
        )
        .await;
        assert_eq!(status, http::StatusCode::OK, "{body}");
        assert_eq!(
            body,
            "<data><total>2</total><person><surname>Doe</surname><n>0</n></person><person><surname>Roe</surname><n>1</n></person></data>"
        );
        // Parallel (the default): the same results, in item order.
        let fe = fe
            .replace(r#" parallel-execution="false" counter-variable="i""#, "")
            .replace("${vars.i}", "p");
        let (_, _, body) = run_xml(
            &fe,
            "<data><list><name>A</name></list><list><name>B</name></list></data>",
        )
        .await;
        assert_eq!(
            body,
            "<data><person><surname>A</surname><n>p</n></person><person><surname>B</surname><n>p</n></person></data>"
        );
        // No match: nothing runs, the message goes on unchanged.
        let (status, _, body) = run_xml(&fe, "<data/>").await;
        assert_eq!((status, body.as_str()), (http::StatusCode::OK, "<data/>"));
    }

    // `xpath('//item', 'order')` over a variable's XML (PredefinedFunctionNode: `$var:order` +
    // the path), written back into the variable; the body is untouched.
    #[tokio::test]
    async fn a_variables_node_list_is_written_back_to_the_variable() {
        let fe = r#"<variable name="order" type="XML" value="&lt;order&gt;&lt;item&gt;1&lt;/item&gt;&lt;id&gt;7&lt;/id&gt;&lt;item&gt;2&lt;/item&gt;&lt;/order&gt;"/>
             <foreach collection="${xpath('//item', 'order')}" parallel-execution="false">
               <sequence><payloadFactory media-type="xml"><format><line xmlns="">${xpath('//item/text()')}0</line></format></payloadFactory></sequence>
             </foreach>
             <foreach collection="${xpath('//line', 'order')}" update-original="false" target-variable="lines" result-content-type="JSON">
               <sequence><payloadFactory media-type="json"><format>{"v":${xpath('//line/text()')}}</format></payloadFactory></sequence>
             </foreach>
             <header name="X-Order" scope="transport" expression="${vars.order}"/>
             <header name="X-Id" scope="transport" expression="${xpath('/id', 'order')}"/>
             <header name="X-Lines" scope="transport" expression="${vars.lines}"/><respond/>"#;
        let (status, headers, body) = run_xml(fe, "<in/>").await;
        assert_eq!(status, http::StatusCode::OK, "{body}");
        assert_eq!(body, "<in/>");
        assert_eq!(
            headers["x-order"],
            "<order><id>7</id><line>10</line><line>20</line></order>"
        );
        assert_eq!(headers["x-id"], "7");
        assert_eq!(headers["x-lines"], r#"[{"v":10},{"v":20}]"#);
    }

    #[test]
    fn replacing_nodes_keeps_the_rest_of_the_text() {
        let text = "<r><a>1</a> <b/><a>2<a>3</a></a><c/></r>";
        let doc = parse_document(text).unwrap();
        let nodes: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("a")).collect();
        assert_eq!(
            replace_nodes(text, &nodes, "<x/>").unwrap(),
            "<r> <b/><c/><x/></r>"
        );
        // The nodes of several parents go to the first one's.
        let text = "<r><p><a/><k/></p><q><a/></q></r>";
        let doc = parse_document(text).unwrap();
        let nodes: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("a")).collect();
        assert_eq!(
            replace_nodes(text, &nodes, "<x/><y/>").unwrap(),
            "<r><p><k/><x/><y/></p><q></q></r>"
        );
        let root: Vec<_> = doc.root().children().collect();
        assert!(replace_nodes(text, &root, "").is_err());
    }
}
