//! One delivery of a stored message through a deployment, as MI's message processors do it:
//! [`Deployment::forward`] sends it to the processor's named target endpoint and judges the reply
//! (SYN `message/processor/impl/forwarder/ForwardingService.java` `tryToDispatchToEndpoint`):
//!
//! - no reply (connection refused, timeout): failed; the fault sequence runs on the message;
//! - a reply that is neither 2xx nor a `non.retry.status.codes` code: failed; the fault sequence
//!   runs on the reply;
//! - a good reply to an `OUT_ONLY` message: delivered;
//! - a good reply otherwise: the reply sequence runs on it and it is delivered; without a reply
//!   sequence the processor deactivates and the message stays ("Reply sequence does not Exist.
//!   Deactivated the message processor.");
//! - a target endpoint that is not deployed deactivates the processor.
//!
//! [`Deployment::run_stored`] runs a stored message through a sequence (the sampling processor's
//! `sequence`, a forwarding processor's deactivate sequence).

use std::sync::Arc;

use crate::messaging::{DeliveryOutcome, StoredMessage, is_delivered};
use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope, props};
use crate::runtime::deployment::Deployment;
use crate::runtime::endpoint::Sender;
use crate::runtime::engine::{Engine, Route, become_response};
use crate::runtime::mediators::store::restore;

/// Where and how a forwarding processor delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardTarget {
    /// The processor's name (log prefix `processor:NAME`).
    pub processor: String,
    /// `targetEndpoint`: a named endpoint of the deployment.
    pub endpoint: String,
    pub non_retry_status_codes: Vec<u16>,
    /// `message.processor.reply.sequence`.
    pub reply_sequence: Option<String>,
    /// `message.processor.fault.sequence`.
    pub fault_sequence: Option<String>,
}

impl Deployment {
    /// Sends `message` to `target.endpoint` once and says what came of it.
    pub async fn forward<B: MessageBody>(
        &self,
        sender: &dyn Sender<B>,
        target: &ForwardTarget,
        message: &StoredMessage,
    ) -> DeliveryOutcome {
        let Some(endpoint) = self.named_endpoints.get(&target.endpoint).cloned() else {
            return DeliveryOutcome::Deactivate(format!(
                "Endpoint {} does not exist",
                target.endpoint
            ));
        };
        let artifact: Arc<str> = Arc::from(format!("processor:{}", target.processor));
        let mut ctx: MessageContext<B> = restore(message, artifact.clone());
        self.share_with(&mut ctx);
        let out_only = ctx.is_true(Scope::Default, props::OUT_ONLY);
        let engine = self.engine(sender);
        let route = Route {
            artifact,
            ..Route::default()
        };
        match engine.send(&endpoint, &mut ctx).await {
            Err(fault) => {
                // The request went into the send: the fault sequence gets a fresh copy of the
                // stored message (ForwardingService.getFreshCopyOfOriginalMessage).
                ctx = restore(message, route.artifact.clone());
                self.share_with(&mut ctx);
                for (name, value) in [
                    (props::ERROR_CODE, fault.code.to_string()),
                    (props::ERROR_MESSAGE, fault.message.clone()),
                    (props::ERROR_DETAIL, fault.message.clone()),
                ] {
                    ctx.properties.insert(name.into(), value);
                }
                run_fault_sequence(&engine, target.fault_sequence.as_deref(), &mut ctx, &route)
                    .await;
                DeliveryOutcome::Failed(fault.message)
            }
            Ok(response) => {
                let status = response.status().as_u16();
                if !is_delivered(status, &target.non_retry_status_codes) {
                    become_response(&mut ctx, response);
                    run_fault_sequence(&engine, target.fault_sequence.as_deref(), &mut ctx, &route)
                        .await;
                    return DeliveryOutcome::Failed(format!(
                        "received a response with HTTP_SC: {status} from backend {}",
                        target.endpoint
                    ));
                }
                if out_only {
                    return DeliveryOutcome::Delivered;
                }
                let Some(reply) = target
                    .reply_sequence
                    .as_deref()
                    .and_then(|n| self.sequences.get(n))
                    .cloned()
                else {
                    return DeliveryOutcome::Deactivate(format!(
                        "Failed to send the out message. Reply sequence [{}] does not exist",
                        target.reply_sequence.as_deref().unwrap_or_default()
                    ));
                };
                become_response(&mut ctx, response);
                if let Err(fault) = engine.run_guarded(reply, &mut ctx, &route, 0).await {
                    tracing::warn!(target: "conflux::messaging", "message processor [{}]: reply sequence failed: {}", target.processor, fault.message);
                }
                DeliveryOutcome::Delivered
            }
        }
    }

    /// Runs `message` through the sequence `name` (nothing when it is not deployed, as MI logs
    /// and goes on); false when there is no such sequence.
    pub async fn run_stored<B: MessageBody>(
        &self,
        sender: &dyn Sender<B>,
        name: &str,
        artifact: &str,
        message: &StoredMessage,
    ) -> bool {
        let artifact: Arc<str> = Arc::from(artifact);
        let mut ctx: MessageContext<B> = restore(message, artifact.clone());
        self.share_with(&mut ctx);
        let route = Route {
            artifact,
            ..Route::default()
        };
        let Some(seq) = self.sequences.get(name).cloned() else {
            return false;
        };
        if let Err(fault) = self
            .engine(sender)
            .run_guarded(seq, &mut ctx, &route, 0)
            .await
        {
            tracing::warn!(target: "conflux::messaging", "sequence {name} failed on a stored message: {}", fault.message);
        }
        true
    }
}

/// ForwardingService.sendThroughFaultSeq: runs the fault sequence when there is one.
async fn run_fault_sequence<B: MessageBody>(
    engine: &Engine<'_, B>,
    name: Option<&str>,
    ctx: &mut MessageContext<B>,
    route: &Route,
) {
    let Some(name) = name else { return };
    let Some(seq) = engine.sequences.get(name).cloned() else {
        tracing::warn!(target: "conflux::messaging", "Failed to send the message through the fault sequence. Sequence [{name}] does not Exist.");
        return;
    };
    if let Err(fault) = engine.run_guarded(seq, ctx, route, 0).await {
        tracing::warn!(target: "conflux::messaging", "fault sequence {name} failed: {}", fault.message);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, VecDeque};
    use std::sync::Mutex;

    use bytes::Bytes;
    use http::{Request, Response, StatusCode};

    use super::*;
    use crate::messaging::{InMemoryStore, MessageStore};
    use crate::runtime::endpoint::{Endpoint, SendFault, SendFuture};
    use crate::runtime::expr_context::test_support::*;

    /// Answers each send with the next scripted status (`None`: connection refused) and
    /// records the URIs it was sent to.
    #[derive(Default)]
    struct Scripted {
        answers: Mutex<VecDeque<Option<u16>>>,
        sent: Mutex<Vec<String>>,
    }

    impl Sender<B> for Scripted {
        fn send<'a>(&'a self, _: &'a Endpoint, request: Request<B>) -> SendFuture<'a, B> {
            self.sent.lock().unwrap().push(request.uri().to_string());
            let answer = self.answers.lock().unwrap().pop_front().flatten();
            Box::pin(async move {
                match answer {
                    Some(status) => {
                        let mut r = Response::new(B::from(Bytes::from_static(b"<r/>")));
                        *r.status_mut() = StatusCode::from_u16(status).unwrap();
                        Ok(r)
                    }
                    None => Err(SendFault {
                        code: 101_503,
                        message: "Connection refused".into(),
                    }),
                }
            })
        }
    }

    fn deployment() -> (Deployment, Arc<InMemoryStore>, Arc<InMemoryStore>) {
        let mut d = deployed(&[
            (
                "endpoints/E.xml",
                &format!(
                    r#"<endpoint xmlns="{NS}" name="E"><address uri="http://backend.test/in"/></endpoint>"#
                ),
            ),
            (
                "sequences/Reply.xml",
                &format!(
                    r#"<sequence xmlns="{NS}" name="Reply"><store messageStore="Replies"/></sequence>"#
                ),
            ),
            (
                "sequences/Fault.xml",
                &format!(
                    r#"<sequence xmlns="{NS}" name="Fault"><store messageStore="Faults"/></sequence>"#
                ),
            ),
        ]);
        let replies = Arc::new(InMemoryStore::new("Replies"));
        let faults = Arc::new(InMemoryStore::new("Faults"));
        let (r, f): (Arc<dyn MessageStore>, Arc<dyn MessageStore>) =
            (replies.clone(), faults.clone());
        d.attached.message_stores = Arc::new(HashMap::from([
            ("Replies".to_string(), r),
            ("Faults".to_string(), f),
        ]));
        (d, replies, faults)
    }

    fn message(out_only: bool) -> StoredMessage {
        let mut properties = vec![
            ("@method".to_string(), "POST".to_string()),
            ("@uri".to_string(), "/orders/7".to_string()),
            ("@doingREST".to_string(), "true".to_string()),
            ("axis2:REST_URL_POSTFIX".to_string(), "/7".to_string()),
        ];
        if out_only {
            properties.push(("default:OUT_ONLY".to_string(), "true".to_string()));
        }
        StoredMessage {
            id: 1,
            payload: Bytes::from_static(b"{\"n\":7}"),
            content_type: Some("application/json".into()),
            properties,
        }
    }

    fn target(reply: Option<&str>) -> ForwardTarget {
        ForwardTarget {
            processor: "P".into(),
            endpoint: "E".into(),
            non_retry_status_codes: vec![404],
            reply_sequence: reply.map(str::to_string),
            fault_sequence: Some("Fault".into()),
        }
    }

    // ForwardingService.tryToDispatchToEndpoint / validateResponse / sendThroughReplySeq /
    // sendThroughFaultSeq.
    #[tokio::test]
    async fn replies_are_judged_as_the_forwarding_service_does() {
        let (d, replies, faults) = deployment();
        let sender = Scripted::default();
        sender.answers.lock().unwrap().extend([
            Some(503),
            None,
            Some(200),
            Some(404),
            Some(200),
            Some(200),
        ]);
        let t = target(Some("Reply"));
        // 503: failed, the fault sequence sees the reply.
        assert!(matches!(
            d.forward(&sender, &t, &message(false)).await,
            DeliveryOutcome::Failed(_)
        ));
        assert_eq!(faults.len(), 1);
        // No answer: failed, the fault sequence sees the message.
        assert!(matches!(
            d.forward(&sender, &t, &message(false)).await,
            DeliveryOutcome::Failed(_)
        ));
        assert_eq!(faults.len(), 2);
        assert_eq!(&faults.snapshot()[1].payload[..], b"{\"n\":7}");
        // 200: the reply sequence gets the reply.
        assert_eq!(
            d.forward(&sender, &t, &message(false)).await,
            DeliveryOutcome::Delivered
        );
        assert_eq!(&replies.peek().unwrap().payload[..], b"<r/>");
        // A non-retry status counts as delivered.
        assert_eq!(
            d.forward(&sender, &t, &message(false)).await,
            DeliveryOutcome::Delivered
        );
        // OUT_ONLY: no reply sequence needed.
        assert_eq!(
            d.forward(&sender, &target(None), &message(true)).await,
            DeliveryOutcome::Delivered
        );
        // A reply without a reply sequence deactivates the processor.
        assert!(matches!(
            d.forward(&sender, &target(None), &message(false)).await,
            DeliveryOutcome::Deactivate(_)
        ));
        // The REST postfix goes on the endpoint's address.
        assert_eq!(sender.sent.lock().unwrap()[0], "http://backend.test/in/7");
        // An endpoint that is not deployed deactivates it without sending.
        let gone = ForwardTarget {
            endpoint: "Gone".into(),
            ..target(None)
        };
        assert!(matches!(
            d.forward(&sender, &gone, &message(true)).await,
            DeliveryOutcome::Deactivate(_)
        ));
        assert_eq!(sender.sent.lock().unwrap().len(), 6);
    }
}
