//! `<recipientlist>` endpoints: a copy of the message to every member, as SYN
//! `endpoints/RecipientListEndpoint.java` and `config/xml/endpoints/RecipientListEndpointFactory.java`
//! send it (MI samples 60, 61 and 62; MI tests Sample61TestCase and Sample62TestCase).
//!
//! - **Members**: the `<endpoint>` children, or the addresses `<endpoints value>` gives for the
//!   message (a literal or `{expression}`, split at commas, trimmed, empty ones skipped), each an
//!   address endpoint with MI's defaults.
//! - **The send** (`sendToEndpointList`): the message is built; every member that is ready gets a
//!   copy (`MessageHelper.cloneMessageContext`: its own message id, `aggregateCorelation` = the
//!   original's id) with `messageSequence` = `i/n`, `i` counting the members sent to and `n` all
//!   members. The copies are sent concurrently, each made when its send starts, at most
//!   `max_inflight_branches` at once (as for `<clone>`). A member that is suspended is passed over and keeps its own suspension state; when
//!   no member is ready the message fails with 303000 (`ENDPOINT_RL_NONE_READY`), as it does when
//!   the list itself is switched off.
//! - **The replies** go where a reply to that mediator goes: for `<send>`, each copy's reply runs
//!   the out-sequence (or the `receive` sequence), where an `<aggregate>` collects them (the
//!   copies that reach it are merged once every copy has ended, as for `<clone>`); for `<call>`,
//!   each reply continues with the mediators after the call. A member that fails does not stop
//!   the others: its failure is logged, and it is the client's answer only when no copy answered
//!   otherwise (its fault handlers then run with that copy). When nothing answers, the client gets
//!   MI's 202 (`OUT_ONLY` sends, sample 61).
//!
//! Differences: MI's aggregate waits for `n` replies (or its timeout) even when a member was not
//! sent to; Conflux merges once the copies it sent have ended. Conflux keeps no suspension state
//! for the addresses of a dynamic list (MI keeps one per address in a pool of `max-cache`
//! endpoints), and sends to at most [`MAX_RECIPIENTS`] of them. A `<call>` continues each copy
//! with the rest of its own mediator list only (not with what follows an enclosing sequence), and
//! a recipient list reached any other way (a group child, a `callout`, a `key-expression`) fails
//! the send.

use std::sync::Arc;

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;
use crate::runtime::endpoint::Endpoint;
use crate::runtime::engine::{Ended, Engine, Fault, Route, Sequence, Step};
use crate::runtime::mediators::{
    AGGREGATE_CORRELATION, Branch, MESSAGE_SEQUENCE, Mediator, copy_message, gather,
};
use crate::runtime::value::ValueSource;

/// `SynapseConstants.ENDPOINT_RL_NONE_READY`.
pub const ENDPOINT_RL_NONE_READY: u32 = 303_000;

/// The most addresses a dynamic recipient list sends one message to; a longer list fails the
/// message (every address is a concurrent send holding its own copy of the message).
pub const MAX_RECIPIENTS: usize = 256;

/// `RecipientListEndpoint.DELIMETER`.
const DELIMITER: char = ',';

/// A deployed `<recipientlist>`.
#[derive(Debug)]
pub struct RecipientList {
    pub recipients: Recipients,
}

#[derive(Debug)]
pub enum Recipients {
    /// The `<endpoint>` children.
    Static(Vec<Arc<Endpoint>>),
    /// `<endpoints value>`: the addresses, computed per message.
    Dynamic {
        value: ValueSource,
        /// `max-cache` as written (MI's pool size; reported, not used).
        max_cache: usize,
    },
}

impl RecipientList {
    /// The members for this message: the static children, or an address endpoint for each
    /// address the value gives (`sendToDynamicMembers`).
    pub fn members<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
    ) -> Result<Vec<Arc<Endpoint>>, String> {
        match &self.recipients {
            Recipients::Static(children) => Ok(children.clone()),
            Recipients::Dynamic { value, .. } => {
                let list = value.resolve(ctx)?;
                let addresses: Vec<&str> = list
                    .split(DELIMITER)
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .collect();
                if addresses.len() > MAX_RECIPIENTS {
                    return Err(format!(
                        "recipient list {} gives {} addresses, more than MAX_RECIPIENTS ({MAX_RECIPIENTS})",
                        value.describe(),
                        addresses.len()
                    ));
                }
                Ok(addresses.into_iter().map(dynamic_member).collect())
            }
        }
    }

    /// Whether any member may be sent to (`readyToSend`); a dynamic list always may.
    pub fn any_ready(&self, ready: impl Fn(&Endpoint) -> bool) -> bool {
        match &self.recipients {
            Recipients::Static(children) => children.iter().any(|c| ready(c)),
            Recipients::Dynamic { .. } => true,
        }
    }
}

/// The address endpoint MI builds for one address of a dynamic list (default definition). It has
/// no suspension state of its own (`id` outside the deployment's table).
fn dynamic_member(address: &str) -> Arc<Endpoint> {
    Arc::new(Endpoint::plain_address(
        usize::MAX,
        format!("DYNAMIC_RECIPIENT_LIST_EP_{address}"),
        address,
    ))
}

/// Where a member's reply goes.
#[derive(Clone)]
pub(crate) enum AfterSend<'a> {
    /// `<send>`: the `receive` sequence, else the out-sequence.
    Out(Option<Arc<Sequence>>),
    /// `<call>`: the mediators after the call.
    Continue(&'a [Mediator]),
}

/// How one copy ended: the member's name, the copy, its result.
type Outcome<B> = (Arc<str>, MessageContext<B>, Result<Ended<B>, Fault>);

/// The copy whose result is the message's, with that result.
type Answer<B> = (MessageContext<B>, Result<Ended<B>, Fault>);

impl<B: MessageBody> Engine<'_, B> {
    /// Sends a copy of the message to every ready member of `list` (the endpoint `endpoint`) and
    /// settles the copies' results into this message's.
    pub(crate) fn send_to_recipients<'a>(
        &'a self,
        endpoint: &'a Endpoint,
        list: &'a RecipientList,
        after: AfterSend<'a>,
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            if !self.sender.is_ready(endpoint) {
                // Sic: MI's message is only the name (Java operator precedence, as for groups).
                return Err(Fault {
                    code: ENDPOINT_RL_NONE_READY,
                    message: endpoint.name.to_string(),
                    status: None,
                });
            }
            // "we should build the message, its should have the same behavior as clone mediator"
            ctx.build_payload(self.max_message_bytes)
                .await
                .map_err(|e| Fault::payload(e, ctx.is_response))?;
            let members = list.members(ctx).map_err(Fault::mediation)?;
            if members.is_empty() {
                tracing::debug!(target: "conflux::endpoint", "Halted sending messages to recipients. No recipient found for recipient list {}", endpoint.name);
                return Ok(Ended::Dropped);
            }
            let total = members.len();
            let ready: Vec<Arc<Endpoint>> = members
                .into_iter()
                .filter(|m| self.endpoint_ready(m))
                .collect();
            if ready.is_empty() {
                let message = format!(
                    "Recipient List endpoint : {} - no ready child endpoints",
                    endpoint.name
                );
                tracing::warn!(target: "conflux::endpoint", "{message}");
                return Err(Fault {
                    code: ENDPOINT_RL_NONE_READY,
                    message,
                    status: None,
                });
            }
            let parent = ctx.message_id();
            // Each copy is made when its turn to run comes (at most `max_inflight_branches` at
            // once, runtime/mediators/branches.rs), from a copy the branches own.
            let template = copy_message(ctx);
            let branches = ready.into_iter().enumerate().map(move |(i, member)| {
                let mut copy = copy_message(&template);
                copy.properties
                    .insert(AGGREGATE_CORRELATION.to_string(), parent.clone());
                copy.properties
                    .insert(MESSAGE_SEQUENCE.to_string(), format!("{i}/{total}"));
                let after = after.clone();
                Box::pin(async move {
                    let result = self
                        .recipient(&member, after, &mut copy, route, depth)
                        .await;
                    (member.name.clone(), copy, result)
                }) as Branch<'a, Outcome<B>>
            });
            let outcomes = gather(self.max_inflight_branches, branches, None, |_| false).await;
            self.settle_recipients(endpoint, outcomes, ctx, route, depth)
                .await
        })
    }

    /// One member with its copy: sent to, then its reply where `after` says.
    fn recipient<'a>(
        &'a self,
        member: &'a Arc<Endpoint>,
        after: AfterSend<'a>,
        copy: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            match after {
                AfterSend::Out(receive) => {
                    self.send_then_out(member.clone(), receive, copy, route, depth + 1)
                        .await
                }
                AfterSend::Continue(rest) => {
                    if let Some(ended) = self.call_in_place(member, copy).await? {
                        return Ok(ended);
                    }
                    self.run_list(rest, copy, route, depth).await
                }
            }
        })
    }

    /// The copies' results as this message's: the replies that reached an `<aggregate>` merged
    /// and run through its `onComplete`, else the first answer (a response or a failure), else
    /// the first copy that ran to the end of a `<call>`'s list goes on, else nothing (202).
    async fn settle_recipients(
        &self,
        endpoint: &Endpoint,
        outcomes: Vec<Outcome<B>>,
        ctx: &mut MessageContext<B>,
        route: &Route,
        depth: usize,
    ) -> Result<Ended<B>, Fault> {
        let mut answer: Option<Answer<B>> = None;
        let mut collected = Vec::new();
        let mut continued = None;
        for (member, copy, result) in outcomes {
            match result {
                Ok(Ended::Aggregated(aggregate)) => collected.push((copy, aggregate)),
                Ok(Ended::Continue) => {
                    continued.get_or_insert(copy);
                }
                Ok(Ended::Dropped) => {}
                Err(fault) => {
                    tracing::warn!(target: "conflux::endpoint", "Child endpoint {member} of Recipient List endpoint {} failed: {} (error code {})", endpoint.name, fault.message, fault.code);
                    answer.get_or_insert((copy, Err(fault)));
                }
                Ok(Ended::Responded(response)) => {
                    if answer.is_none() {
                        answer = Some((copy, Ok(Ended::Responded(response))));
                    } else {
                        tracing::warn!(target: "conflux::endpoint", "{{{}}} the reply of recipient {member} of Recipient List endpoint {} is dropped: the client has its answer already", ctx.artifact, endpoint.name);
                    }
                }
            }
        }
        if let Some(ended) = self
            .aggregate_copies(collected, ctx, &mut answer, route, depth)
            .await
        {
            return ended;
        }
        match (answer, continued) {
            (Some((copy, Err(fault))), _) => {
                // The failing copy is the message its fault handlers see.
                *ctx = copy;
                Err(fault)
            }
            (Some((_, result)), _) => result,
            (None, Some(copy)) => {
                *ctx = copy;
                Ok(Ended::Continue)
            }
            (None, None) => Ok(Ended::Dropped),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::context::{Scope, test_context};
    use crate::runtime::endpoint::EndpointKind;
    use http::Method;

    fn dynamic(value: ValueSource) -> RecipientList {
        RecipientList {
            recipients: Recipients::Dynamic {
                value,
                max_cache: 20,
            },
        }
    }

    fn addresses(
        list: &RecipientList,
        ctx: &MessageContext<http_body_util::Full<bytes::Bytes>>,
    ) -> Vec<String> {
        list.members(ctx)
            .unwrap()
            .iter()
            .map(|m| match &m.kind {
                EndpointKind::Address { uri, .. } => uri.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    // RecipientListEndpoint.sendToDynamicMembers: split at commas, trimmed, empty ones skipped.
    #[test]
    fn a_dynamic_list_is_split_at_commas() {
        let mut ctx = test_context(Method::POST, "/a");
        ctx.set(
            Scope::Default,
            "EP_LIST",
            " http://a:1/s , ,http://b:2/s,".into(),
        )
        .unwrap();
        let list = dynamic(ValueSource::Property(Scope::Default, "EP_LIST".into()));
        assert_eq!(addresses(&list, &ctx), ["http://a:1/s", "http://b:2/s"]);
        let member = &list.members(&ctx).unwrap()[0];
        assert_eq!(member.id, usize::MAX);
        assert_eq!(&*member.name, "DYNAMIC_RECIPIENT_LIST_EP_http://a:1/s");
        assert!(list.any_ready(|_| false));
        // Nothing to send to: no members (the message ends without a send).
        ctx.set(Scope::Default, "EP_LIST", " , ".into()).unwrap();
        assert!(addresses(&list, &ctx).is_empty());
        let literal = dynamic(ValueSource::Literal("http://x/1,http://y/2".into()));
        assert_eq!(addresses(&literal, &ctx), ["http://x/1", "http://y/2"]);
    }

    fn deploy(
        files: &[(&str, &str)],
    ) -> (
        crate::runtime::deployment::Deployment,
        Vec<crate::runtime::compile::CompileError>,
    ) {
        let mut artifacts = conflux_artifacts::Artifacts::default();
        for (label, xml) in files {
            artifacts
                .insert(conflux_artifacts::parse_artifact(label, xml).unwrap())
                .unwrap();
        }
        crate::runtime::compile::compile(&artifacts)
    }

    const NS: &str = r#"xmlns="http://ws.apache.org/ns/synapse""#;

    // RecipientListEndpointFactory: members inline or by key, each with its own state slot; a
    // session-affinity load balancer keeps its dispatcher and timeout.
    #[test]
    fn recipient_lists_and_session_groups_compile() {
        let list = format!(
            r#"<endpoint {NS} name="RL"><recipientlist><endpoint key="Z"/><endpoint><address uri="http://b/"/></endpoint></recipientlist></endpoint>"#
        );
        let leaf = format!(r#"<endpoint {NS} name="Z"><address uri="http://z/"/></endpoint>"#);
        let sticky = format!(
            r#"<endpoint {NS} name="SA"><session type="simpleClientSession"><sessionTimeout>5000</sessionTimeout></session><loadbalance><endpoint key="Z"/></loadbalance></endpoint>"#
        );
        let (d, errors) = deploy(&[
            ("endpoints/RL.xml", &list),
            ("endpoints/Z.xml", &leaf),
            ("endpoints/SA.xml", &sticky),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        let EndpointKind::RecipientList(rl) = &d.named_endpoints["RL"].kind else {
            panic!("{:?}", d.named_endpoints["RL"].kind)
        };
        let Recipients::Static(members) = &rl.recipients else {
            panic!("{:?}", rl.recipients)
        };
        assert!(Arc::ptr_eq(&members[0], &d.named_endpoints["Z"]));
        assert!(d.endpoints.iter().any(|e| Arc::ptr_eq(e, &members[1])));
        let EndpointKind::Group(g) = &d.named_endpoints["SA"].kind else {
            panic!("{:?}", d.named_endpoints["SA"].kind)
        };
        let session = g.session.as_ref().unwrap();
        assert_eq!(
            session.kind,
            crate::runtime::lb_session::SessionKind::SimpleClientSession
        );
        assert_eq!(session.timeout, std::time::Duration::from_millis(5000));
        assert!(g.may_resend());
        // The sessions are runtime state: not part of the endpoint's identity.
        assert!(!format!("{:?}", g).contains("sessions"));
    }

    #[test]
    fn a_recipient_list_cannot_be_a_group_child_or_contain_itself() {
        let group = format!(
            r#"<endpoint {NS} name="G"><failover><endpoint><recipientlist><endpoint><address uri="http://a/"/></endpoint></recipientlist></endpoint></failover></endpoint>"#
        );
        let (_, errors) = deploy(&[("endpoints/G.xml", &group)]);
        assert!(
            errors[0].to_string().starts_with(
                "unsupported: recipient list endpoint anonymous as a child of a failover or load-balance group"
            ) && errors[0].to_string().ends_with("at endpoints/G.xml:1:70"),
            "{errors:?}"
        );
        let looping = format!(
            r#"<endpoint {NS} name="L"><recipientlist><endpoint key="L"/></recipientlist></endpoint>"#
        );
        let (d, errors) = deploy(&[("endpoints/L.xml", &looping)]);
        assert!(!d.named_endpoints.contains_key("L"));
        assert!(
            errors[0].to_string().contains("endpoint L contains itself"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_dynamic_list_longer_than_max_recipients_fails() {
        let mut ctx = test_context(Method::POST, "/a");
        let list = dynamic(ValueSource::Property(Scope::Default, "EP_LIST".into()));
        let urls = |n: usize| {
            (0..n)
                .map(|i| format!("http://h{i}/s"))
                .collect::<Vec<_>>()
                .join(",")
        };
        ctx.set(Scope::Default, "EP_LIST", urls(MAX_RECIPIENTS))
            .unwrap();
        assert_eq!(list.members(&ctx).unwrap().len(), MAX_RECIPIENTS);
        ctx.set(Scope::Default, "EP_LIST", urls(MAX_RECIPIENTS + 1))
            .unwrap();
        let err = list.members(&ctx).unwrap_err();
        assert!(
            err.ends_with("gives 257 addresses, more than MAX_RECIPIENTS (256)"),
            "{err}"
        );
    }
}
