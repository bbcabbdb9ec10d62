//! `<scatter-gather>` (MI 4.4; SYN `mediators/v2/ScatterGather.java`): every `<sequence>` branch
//! runs on its own copy of the message ([`copy_message`], as `<clone>` copies), and the
//! aggregation `expression` of each branch's final message is gathered.
//!
//! - **Branches** run concurrently in the request's task (`parallel-execution`, the default; at
//!   most `[mediation] max_inflight_branches` at once, runtime/mediators/branches.rs) or one after
//!   the other. A copy is collected when its sequence runs to its end; a branch that
//!   answers the client or drops its copy is not collected (logged); a branch that fails fails the
//!   mediator, and the enclosing fault handlers run with the original message.
//! - **Aggregation** (EIP `Aggregate.isComplete`): a copy whose `condition` is not the text `true`
//!   (any case) is ignored; gathering completes when every branch has arrived, when
//!   `min-messages` or `max-messages` copies are collected, or when `timeout` ms have passed.
//!   Branches still running then are abandoned (their futures are dropped).
//! - **Result**: JSON is an array of each collected copy's `objectValueOf(expression)` in arrival
//!   order (branch order when sequential); a value that is not JSON is added as a string for the
//!   body and is an error for a variable. XML is `<result-enclosing-element>` holding each
//!   `stringValueOf(expression)` parsed as an element. The body target replaces the body and sets
//!   `messageType` / `ContentType` to application/json or application/xml; the variable target
//!   sets the variable on the original message, which goes on unchanged otherwise.
//!
//! Difference: in sequential mode the branches after the one that completes the aggregation
//! (min/max messages) are not started.

use std::sync::Arc;
use std::time::Duration;

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope, props};
use crate::runtime::engine::{Ended, Engine, Fault, Route, Sequence, Step};
use crate::runtime::mediators::branches::{Branch, gather};
use crate::runtime::mediators::copy_message;
use crate::runtime::payload::{JsonPayload, Payload};
use crate::runtime::value::ValueSource;
use crate::synapse_expr::ExprValue;

/// Where the result goes.
#[derive(Debug, Clone, PartialEq)]
pub enum ResultTarget {
    Body,
    Variable(String),
}

/// `result-content-type`.
#[derive(Debug, Clone, PartialEq)]
pub enum ResultContent {
    Json,
    Xml { enclosing_element: String },
}

#[derive(Debug, Clone)]
pub struct ScatterGather {
    pub parallel: bool,
    pub target: ResultTarget,
    pub content: ResultContent,
    pub expression: ValueSource,
    pub condition: Option<ValueSource>,
    pub timeout: Option<Duration>,
    pub min_messages: Option<ValueSource>,
    pub max_messages: Option<ValueSource>,
    pub branches: Vec<Arc<Sequence>>,
}

impl ScatterGather {
    pub fn touches_body(&self) -> bool {
        self.branches.iter().any(|b| b.touches_body())
    }
}

/// How one branch ended: its copy when it ran to the end, and whether the aggregation counts it
/// (the condition held).
type Arrival<B> = Result<Option<(MessageContext<B>, bool)>, Fault>;

/// A message count read from `min-messages` / `max-messages` on the original message
/// (`Integer.parseInt` of its string value).
fn count<B: MessageBody>(
    source: &Option<ValueSource>,
    ctx: &MessageContext<B>,
    what: &str,
) -> Result<Option<usize>, Fault> {
    let Some(source) = source else {
        return Ok(None);
    };
    let text = source.resolve(ctx).map_err(Fault::mediation)?;
    let n: i64 = text.trim().parse().map_err(|_| {
        Fault::mediation(format!(
            "scatter-gather: {what} '{text}' is not a whole number"
        ))
    })?;
    // A count below 1 is met by the first message (EIP Aggregate compares `>=`).
    Ok(Some(n.max(0) as usize))
}

impl<B: MessageBody> Engine<'_, B> {
    /// Runs `<scatter-gather>`; `Continue` lets the original message go on.
    pub(crate) fn run_scatter_gather<'a>(
        &'a self,
        sg: &'a ScatterGather,
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            ctx.build_payload(self.max_message_bytes)
                .await
                .map_err(|e| Fault::payload(e, ctx.is_response))?;
            let min = count(&sg.min_messages, ctx, "min-messages")?;
            let max = count(&sg.max_messages, ctx, "max-messages")?;
            let artifact = ctx.artifact.clone();
            let run_branch = |seq: Arc<Sequence>, mut copy: MessageContext<B>| {
                let artifact = artifact.clone();
                async move {
                    match self.run_guarded(seq, &mut copy, route, depth + 1).await? {
                        Ended::Continue => {
                            // A branch that ended with a call holds the reply as a stream: read
                            // it, so that the aggregation expressions see it.
                            copy.build_payload(self.max_message_bytes)
                                .await
                                .map_err(|e| Fault::payload(e, copy.is_response))?;
                            let counts = match &sg.condition {
                                None => true,
                                Some(c) => c
                                    .resolve(&copy)
                                    .map_err(Fault::mediation)?
                                    .eq_ignore_ascii_case("true"),
                            };
                            Ok(Some((copy, counts)))
                        }
                        _ => {
                            tracing::warn!(target: "conflux::mediation", "{{{artifact}}} a scatter-gather branch ended its message before the aggregation; it is not gathered");
                            Ok(None)
                        }
                    }
                }
            };
            let total = sg.branches.len();
            // EIP Aggregate.isComplete; a failed branch ends the gathering at once.
            let mut arrived = 0usize;
            let mut collected = 0usize;
            let mut complete = |arrival: &Arrival<B>| {
                arrived += 1;
                match arrival {
                    Err(_) => return true,
                    Ok(Some((_, true))) => collected += 1,
                    Ok(_) => {}
                }
                arrived >= total
                    || min.is_some_and(|m| collected >= m)
                    || max.is_some_and(|m| collected >= m)
            };
            let arrivals = if sg.parallel {
                // The copies are made before any branch starts (the branches are the artifact's,
                // few); a branch starts when a place under the limit is free.
                let copies: Vec<MessageContext<B>> =
                    sg.branches.iter().map(|_| copy_message(ctx)).collect();
                let branches = sg.branches.iter().zip(copies).map(|(seq, copy)| {
                    Box::pin(run_branch(seq.clone(), copy)) as Branch<'_, Arrival<B>>
                });
                gather(self.max_inflight_branches, branches, sg.timeout, complete).await
            } else {
                let started = tokio::time::Instant::now();
                let mut arrivals = Vec::with_capacity(total);
                for seq in &sg.branches {
                    let arrival = run_branch(seq.clone(), copy_message(ctx)).await;
                    let done = complete(&arrival);
                    arrivals.push(arrival);
                    if done || sg.timeout.is_some_and(|t| started.elapsed() >= t) {
                        break;
                    }
                }
                arrivals
            };
            let mut parts = Vec::with_capacity(arrivals.len());
            for arrival in arrivals {
                if let Some((copy, true)) = arrival? {
                    parts.push(copy);
                }
            }
            self.write_result(sg, &parts, ctx)
                .map_err(Fault::mediation)?;
            Ok(Ended::Continue)
        })
    }

    /// The gathered result, written to the body or the variable.
    fn write_result(
        &self,
        sg: &ScatterGather,
        parts: &[MessageContext<B>],
        ctx: &mut MessageContext<B>,
    ) -> Result<(), String> {
        match &sg.content {
            ResultContent::Json => {
                let mut array = Vec::with_capacity(parts.len());
                for part in parts {
                    array.push(match sg.expression.object_value(part)? {
                        ExprValue::Json(value) => value,
                        other => match &sg.target {
                            ResultTarget::Body => serde_json::Value::String(
                                other.as_mi_string().unwrap_or_else(|| "null".into()),
                            ),
                            ResultTarget::Variable(_) => {
                                return Err(format!(
                                    "Error while aggregating the scatter-gather results: the result of {} is not JSON",
                                    sg.expression.describe()
                                ));
                            }
                        },
                    });
                }
                let value = serde_json::Value::Array(array);
                match &sg.target {
                    ResultTarget::Body => {
                        ctx.set_payload(Payload::Json(JsonPayload::from(value)));
                        set_content_type(ctx, "application/json")?;
                    }
                    ResultTarget::Variable(name) => {
                        ctx.variables.insert(name.clone(), ExprValue::Json(value));
                    }
                }
            }
            ResultContent::Xml { enclosing_element } => {
                let mut xml = format!("<{enclosing_element}>");
                for part in parts {
                    let text = sg.expression.resolve(part)?;
                    // AXIOMUtil.stringToOM: each result must be one element.
                    let doc = crate::runtime::payload::parse_document(&text).map_err(|e| {
                        format!("Error while aggregating the scatter-gather results: {text} is not XML ({e})")
                    })?;
                    xml.push_str(&crate::xpath::serialize(doc.root_element()));
                }
                xml.push_str(&format!("</{enclosing_element}>"));
                // The enclosing name must make a well-formed element.
                crate::runtime::payload::parse_document(&xml).map_err(|e| {
                    format!("scatter-gather: result-enclosing-element '{enclosing_element}' does not make an XML element ({e})")
                })?;
                match &sg.target {
                    ResultTarget::Body => {
                        ctx.payload_mut()
                            .set_body_xml(&xml)
                            .map_err(|e| e.to_string())?;
                        set_content_type(ctx, "application/xml")?;
                    }
                    ResultTarget::Variable(name) => {
                        ctx.variables.insert(name.clone(), ExprValue::Xml(xml));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The body's new type (ScatterGather.setContentType: messageType and ContentType).
fn set_content_type<B: MessageBody>(
    ctx: &mut MessageContext<B>,
    content_type: &str,
) -> Result<(), String> {
    ctx.set(Scope::Axis2, props::MESSAGE_TYPE, content_type.to_string())?;
    ctx.set(Scope::Axis2, props::CONTENT_TYPE, content_type.to_string())?;
    if let Ok(v) = http::HeaderValue::try_from(content_type) {
        ctx.headers.insert(http::header::CONTENT_TYPE, v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::expr_context::test_support::*;

    fn branch(json: &str) -> String {
        format!(
            r#"<sequence><payloadFactory media-type="json"><format>{json}</format></payloadFactory></sequence>"#
        )
    }

    async fn run(in_sequence: &str, body: &str) -> (http::StatusCode, http::HeaderMap, String) {
        let d = deployed(&[("apis/A.xml", &api("A", in_sequence, ""))]);
        call(&d, "POST", "/A/x", Some("application/json"), body).await
    }

    // ScatterGather JSON to the body: an array of each branch's payload, Content-Type JSON.
    #[tokio::test]
    async fn json_results_replace_the_body() {
        let sg = format!(
            r#"<scatter-gather parallel-execution="false" target="body" result-content-type="JSON">
                 <aggregation expression="${{payload}}"/>{}{}{}
               </scatter-gather><respond/>"#,
            branch(r#"{"a":1}"#),
            branch(r#"{"b":"${payload.v}"}"#),
            branch(r#"[3]"#),
        );
        let (status, headers, body) = run(&sg, r#"{"v":"x"}"#).await;
        assert_eq!(status, http::StatusCode::OK, "{body}");
        assert_eq!(headers[http::header::CONTENT_TYPE], "application/json");
        assert_eq!(body, r#"[{"a":1},{"b":"x"},[3]]"#);
        // Parallel: the same results (these branches never wait, so they arrive in order).
        let (_, _, body) = run(
            &sg.replace(r#"parallel-execution="false" "#, ""),
            r#"{"v":"y"}"#,
        )
        .await;
        assert_eq!(body, r#"[{"a":1},{"b":"y"},[3]]"#);
        // A value that is not JSON goes into the body's array as a string.
        let sg = format!(
            r#"<scatter-gather target="body" result-content-type="JSON">
                 <aggregation expression="${{payload.a + 1}}"/>{}</scatter-gather><respond/>"#,
            branch(r#"{"a":1}"#)
        );
        assert_eq!(run(&sg, "{}").await.2, r#"["2"]"#);
    }

    // Variable target: the original message goes on untouched; the variable holds the XML.
    #[tokio::test]
    async fn xml_results_go_to_a_variable() {
        let sg = r#"<scatter-gather target="variable" target-variable="all" result-content-type="XML" result-enclosing-element="all">
                 <aggregation expression="$body/*"/>
                 <sequence><payloadFactory media-type="xml"><format><r xmlns=""><n>1</n></r></format></payloadFactory></sequence>
                 <sequence><payloadFactory media-type="xml"><format><r xmlns=""><n>2</n></r></format></payloadFactory></sequence>
               </scatter-gather>
               <header name="X-All" scope="transport" expression="${vars.all}"/><respond/>"#;
        let (status, headers, body) = run(sg, r#"{"v":"x"}"#).await;
        assert_eq!(status, http::StatusCode::OK, "{body}");
        assert_eq!(
            headers["x-all"],
            "<all><r><n>1</n></r><r><n>2</n></r></all>"
        );
        assert_eq!(body, r#"{"v":"x"}"#);
    }

    // Aggregate.isComplete: the condition filters, max-messages ends the gathering.
    #[tokio::test]
    async fn condition_and_max_messages() {
        let sg = |max: &str| {
            format!(
                r#"<scatter-gather parallel-execution="false" target="body" result-content-type="JSON">
                 <aggregation expression="${{payload.n}}" condition="${{payload.keep}}" {max}/>{}{}{}
               </scatter-gather><respond/>"#,
                branch(r#"{"n":1,"keep":false}"#),
                branch(r#"{"n":2,"keep":true}"#),
                branch(r#"{"n":3,"keep":"TRUE"}"#),
            )
        };
        // `payload.n` is a Java Integer, not a JsonElement: MI adds it as a string.
        assert_eq!(run(&sg(""), "{}").await.2, r#"["2","3"]"#);
        assert_eq!(run(&sg(r#"max-messages="1""#), "{}").await.2, r#"["2"]"#);
        assert_eq!(
            run(&sg(r#"min-messages="{${payload.min}}""#), r#"{"min":1}"#)
                .await
                .2,
            r#"["2"]"#
        );
    }

    // A non-JSON result for a variable target is an error (ScatterGather.setJSONResultToVariable).
    #[tokio::test]
    async fn a_variable_needs_json_results() {
        let sg = format!(
            r#"<scatter-gather target="variable" target-variable="v" result-content-type="JSON">
                 <aggregation expression="${{payload.a + 1}}"/>{}</scatter-gather><respond/>"#,
            branch(r#"{"a":1}"#)
        );
        let (status, _, body) = run(&sg, "{}").await;
        assert_eq!(status, http::StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.contains("is not JSON"), "{body}");
    }

    #[test]
    fn a_literal_message_count_must_be_a_number() {
        let sg = format!(
            r#"<scatter-gather target="body" result-content-type="JSON">
                 <aggregation expression="${{payload}}" min-messages="two"/>{}</scatter-gather>"#,
            branch("{}")
        );
        let (_, errors) = deploy(&[("apis/A.xml", &api("A", &sg, ""))]);
        assert!(
            errors
                .iter()
                .any(|e| e.to_string().contains("min-messages 'two'")),
            "{errors:?}"
        );
    }

    type Boxed = Branch<'static, &'static str>;
    const NO_LIMIT: usize = usize::MAX;

    fn slow(name: &'static str, yields: usize) -> Boxed {
        Box::pin(async move {
            for _ in 0..yields {
                tokio::task::yield_now().await;
            }
            name
        })
    }

    // Arrival order, early completion, and the timeout.
    #[tokio::test]
    async fn gather_in_arrival_order_until_complete() {
        let two = || [slow("slow", 3), slow("fast", 0)].into_iter();
        let all = gather(NO_LIMIT, two(), None, |_| false).await;
        assert_eq!(all, vec!["fast", "slow"]);
        let first = gather(NO_LIMIT, two(), None, |_| true).await;
        assert_eq!(first, vec!["fast"]);
        let never: Boxed = Box::pin(std::future::pending());
        let timed = gather(
            NO_LIMIT,
            [never, slow("fast", 0)].into_iter(),
            Some(Duration::from_millis(20)),
            |_| false,
        )
        .await;
        assert_eq!(timed, vec!["fast"]);
    }
}
