//! The consumer of a `rabbitmq` inbound endpoint (MI `protocol/rabbitmq/RabbitMQConsumer.java`,
//! `RabbitMQInjectHandler.java`), over AMQP 0-9-1 with `lapin`: it declares the queue (durable)
//! and, with `rabbitmq.exchange.name`, binds it to that exchange; each delivery is injected into
//! the endpoint's sequence (with `onError`), one at a time, with its content type (else
//! `rabbitmq.message.content.type`, else `text/plain`) and its AMQP headers as transport headers.
//!
//! With `rabbitmq.queue.auto.ack=false` a message is acknowledged after its flow, as MI does:
//! rejected without requeue when the flow set `SET_ROLLBACK_ONLY` to true, put back (after
//! `rabbitmq.message.requeue.delay`) when it set `SET_REQUEUE_ON_ROLLBACK`, else acknowledged —
//! so a message is never lost to a crash mid-flow. With the default auto-ack the broker forgets a
//! message once it is handed over. A broker that is down or goes away is retried every
//! [`RECONNECT_INTERVAL`] until the endpoint is undeployed.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use conflux_artifacts::inbound_endpoint::{InboundEndpoint, RabbitMqInbound};
use conflux_mediation::runtime::inject::{InjectTarget, InjectedMessage};
use conflux_transport::body::ProxyBody;
use futures_util::StreamExt as _;
use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use http_body_util::BodyExt as _;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicQosOptions, BasicRejectOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::uri::{AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo};
use lapin::{Connection, ConnectionProperties};
use tokio_util::sync::CancellationToken;

use crate::LiveSwap;

const LOG: &str = "conflux::inbound";

/// How long the consumer waits before it connects again after the broker went away or refused.
pub const RECONNECT_INTERVAL: Duration = Duration::from_secs(2);
/// How long connecting may take before the attempt counts as failed.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The flow's property that rejects the message without requeue (MI `RabbitMQConstants`).
pub const SET_ROLLBACK_ONLY: &str = "SET_ROLLBACK_ONLY";
/// The flow's property that puts the message back on the queue.
pub const SET_REQUEUE_ON_ROLLBACK: &str = "SET_REQUEUE_ON_ROLLBACK";
/// MI's content type of a message that declares none (`RabbitMQUtils.buildMessage`).
const DEFAULT_CONTENT_TYPE: &str = "text/plain";

/// What becomes of one delivery (MI `AcknowledgementMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acknowledgement {
    Acknowledge,
    Requeue,
    Discard,
}

/// MI `RabbitMQInjectHandler.onMessage`: the properties the flow left decide.
pub fn acknowledgement(rollback_only: Option<&str>, requeue: Option<&str>) -> Acknowledgement {
    let set = |v: Option<&str>| v.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if set(rollback_only) {
        Acknowledgement::Discard
    } else if set(requeue) {
        Acknowledgement::Requeue
    } else {
        Acknowledgement::Acknowledge
    }
}

/// Consumes until `stop` is cancelled, connecting again whenever the connection is lost.
pub async fn consume(
    endpoint: Arc<InboundEndpoint>,
    settings: RabbitMqInbound,
    live: LiveSwap,
    stop: CancellationToken,
) {
    let mut reported = false;
    loop {
        let session = tokio::select! {
            () = stop.cancelled() => return,
            session = session(&endpoint, &settings, &live, &stop) => session,
        };
        match session {
            Ok(()) => return,
            Err(e) if !reported => {
                tracing::error!(target: LOG, "inbound endpoint {}: {e}; trying again every {} s", endpoint.name, RECONNECT_INTERVAL.as_secs());
                reported = true;
            }
            Err(e) => tracing::debug!(target: LOG, "inbound endpoint {}: {e}", endpoint.name),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(RECONNECT_INTERVAL) => {}
        }
    }
}

/// One connection: declare, consume, inject each delivery. `Ok` when stopped, `Err` when the
/// broker could not be reached or went away.
async fn session(
    endpoint: &InboundEndpoint,
    s: &RabbitMqInbound,
    live: &LiveSwap,
    stop: &CancellationToken,
) -> Result<(), String> {
    let uri = AMQPUri {
        scheme: AMQPScheme::AMQP,
        authority: AMQPAuthority {
            userinfo: AMQPUserInfo {
                username: s.username.clone(),
                password: s.password.clone(),
            },
            host: s.host.clone(),
            port: s.port,
        },
        vhost: s.virtual_host.clone(),
        query: AMQPQueryString::default(),
    };
    let connection = tokio::time::timeout(
        CONNECT_TIMEOUT,
        Connection::connect_uri(uri, ConnectionProperties::default()),
    )
    .await
    .map_err(|_| {
        format!(
            "no answer from {}:{} within {CONNECT_TIMEOUT:?}",
            s.host, s.port
        )
    })?
    .map_err(|e| format!("cannot connect to {}:{}: {e}", s.host, s.port))?;
    let channel = connection
        .create_channel()
        .await
        .map_err(|e| format!("opening a channel: {e}"))?;
    channel
        .queue_declare(
            ShortString::from(s.queue.as_str()),
            QueueDeclareOptions::durable(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| format!("declaring queue {}: {e}", s.queue))?;
    if let Some(exchange) = &s.exchange {
        let key = s.routing_key.as_deref().unwrap_or(&s.queue);
        channel
            .queue_bind(
                ShortString::from(s.queue.as_str()),
                ShortString::from(exchange.as_str()),
                ShortString::from(key),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| format!("binding queue {} to exchange {exchange}: {e}", s.queue))?;
    }
    // One message at a time: the next is not handed over before this one is acknowledged.
    channel
        .basic_qos(1, BasicQosOptions::default())
        .await
        .map_err(|e| format!("setting the prefetch count: {e}"))?;
    let mut consumer = channel
        .basic_consume(
            ShortString::from(s.queue.as_str()),
            ShortString::from(format!("conflux-{}", endpoint.name)),
            BasicConsumeOptions {
                no_ack: s.auto_ack,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(|e| format!("consuming queue {}: {e}", s.queue))?;
    tracing::info!(target: LOG, "Start consuming queue: {} for inbound endpoint: {}", s.queue, endpoint.name);
    loop {
        let delivery = tokio::select! {
            () = stop.cancelled() => {
                let _ = connection.close(200, ShortString::from("undeployed")).await;
                return Ok(());
            }
            next = consumer.next() => next,
        };
        let delivery = match delivery {
            Some(Ok(d)) => d,
            Some(Err(e)) => return Err(format!("the broker connection failed: {e}")),
            None => return Err("the broker ended the consumer".into()),
        };
        let ack = inject(endpoint, s, live, &delivery).await;
        if s.auto_ack {
            continue;
        }
        let done = match ack {
            Acknowledgement::Acknowledge => delivery.acker.ack(BasicAckOptions::default()).await,
            Acknowledgement::Discard => {
                delivery
                    .acker
                    .reject(BasicRejectOptions { requeue: false })
                    .await
            }
            Acknowledgement::Requeue => {
                tokio::time::sleep(Duration::from_millis(s.requeue_delay_ms)).await;
                delivery
                    .acker
                    .reject(BasicRejectOptions { requeue: true })
                    .await
            }
        };
        done.map_err(|e| format!("acknowledging a message: {e}"))?;
    }
}

/// Injects one delivery into the endpoint's sequence; what the flow left decides its fate.
async fn inject(
    endpoint: &InboundEndpoint,
    s: &RabbitMqInbound,
    live: &LiveSwap,
    delivery: &lapin::message::Delivery,
) -> Acknowledgement {
    let Some(sequence) = endpoint.sequence.as_deref() else {
        return Acknowledgement::Discard;
    };
    let content_type = delivery
        .properties
        .content_type()
        .as_ref()
        .map(|c| c.as_str().to_string())
        .or_else(|| s.content_type.clone())
        .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_string());
    let mut headers = HeaderMap::new();
    if let Some(table) = delivery.properties.headers() {
        for (name, value) in table.inner() {
            let text = match value {
                AMQPValue::LongString(v) => String::from_utf8_lossy(v.as_bytes()).into_owned(),
                AMQPValue::ShortString(v) => v.as_str().to_string(),
                AMQPValue::LongInt(v) => v.to_string(),
                AMQPValue::LongLongInt(v) => v.to_string(),
                AMQPValue::Boolean(v) => v.to_string(),
                _ => continue,
            };
            if let (Ok(h), Ok(v)) = (
                HeaderName::from_bytes(name.as_str().as_bytes()),
                HeaderValue::from_str(&text),
            ) {
                headers.insert(h, v);
            }
        }
    }
    let message = InjectedMessage {
        payload: Bytes::copy_from_slice(&delivery.data),
        content_type: Some(content_type),
        headers,
        properties: vec![("inbound.endpoint.name".to_string(), endpoint.name.clone())],
    };
    let (request, properties) = message.into_request::<ProxyBody>(Uri::from_static("/"));
    let live = live.load_full();
    let target = InjectTarget::SequenceOnError {
        sequence,
        on_error: endpoint.on_error.as_deref(),
    };
    match live
        .deployment
        .inject_reading(
            &live.sender,
            target,
            request,
            properties,
            "rabbitmq",
            &[SET_ROLLBACK_ONLY, SET_REQUEUE_ON_ROLLBACK],
        )
        .await
    {
        Ok((response, read)) => {
            // What the flow answered goes nowhere (there is no client).
            let _ = response.into_body().collect().await;
            acknowledgement(read[0].as_deref(), read[1].as_deref())
        }
        Err(e) => {
            // MI: "Sequence: X not found"; the message is rejected without requeue.
            tracing::error!(target: LOG, "inbound endpoint {}: {e}", endpoint.name);
            Acknowledgement::Discard
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flows_properties_decide_the_acknowledgement() {
        assert_eq!(acknowledgement(None, None), Acknowledgement::Acknowledge);
        assert_eq!(
            acknowledgement(Some("true"), Some("true")),
            Acknowledgement::Discard
        );
        assert_eq!(
            acknowledgement(Some("false"), Some("TRUE")),
            Acknowledgement::Requeue
        );
        assert_eq!(
            acknowledgement(Some("yes"), None),
            Acknowledgement::Acknowledge
        );
    }
}
