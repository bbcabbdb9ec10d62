//! The RabbitMQ message store (SYN `message/store/impl/rabbitmq/RabbitMQStore.java`,
//! `RabbitMQProducer.java`, `RabbitMQConsumer.java`): a durable queue on a broker, over AMQP 0-9-1
//! with `lapin`.
//!
//! As in MI: the queue (`store.rabbitmq.queue.name`, default the store's name) is declared
//! durable; with `store.rabbitmq.exchange.name` a durable direct exchange is declared (unless it
//! is an `amq.` one) and the queue bound to it with the routing key (default the queue name);
//! messages are published persistent (delivery mode 2); the consumer takes the head with
//! `basic.get` without auto-ack and acknowledges it only when the processor removes it, so a
//! crash in between leaves it on the broker, which hands it out again. Stricter than MI's
//! default (`store.producer.guaranteed.delivery.enable=false`), every publish waits for the
//! broker's publisher confirm and is published `mandatory`: `store` succeeds only once the
//! broker has routed the message to a queue and taken responsibility for it.
//!
//! MI writes a Java-serialized `StorableMessage` as the body; Conflux writes the payload itself,
//! the content type as the AMQP `content-type` and the properties, in order, as the header
//! [`PROPERTIES_HEADER`] (an array of name, value, name, value...). Any other message on the
//! queue is read as its body and content type.
//!
//! A broker that is down makes `store`, `peek`, `remove` and `size` fail with
//! [`StoreError::Unavailable`] (the `<store>` mediator's fault path; the processor retries);
//! each operation after a failure connects afresh (trying the addresses in order), so the
//! store recovers by itself when the broker is back. `rabbitmq.connection.retry.*` are not
//! used: Conflux never sleeps inside an operation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use conflux_artifacts::message_store::{RABBITMQ_STORE_CLASS, RabbitMqStoreSettings};
use conflux_mediation::messaging::{
    MessageStore, NewMessage, StoreError, StoreFuture, StoredMessage,
};
use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions,
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldArray, FieldTable, LongString, ShortString};
use lapin::uri::{AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};

/// How long connecting to one broker address may take before the next is tried.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one AMQP operation (publish and its confirm, get, ack, declare) may take before
/// the broker counts as unavailable.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);
/// The header that carries a stored message's properties.
pub const PROPERTIES_HEADER: &str = "conflux-properties";
/// AMQP's persistent delivery mode (`MessageProperties.MINIMAL_PERSISTENT_BASIC`).
const PERSISTENT: u8 = 2;

/// The connection and channel in use, and the message taken from the queue but not yet
/// acknowledged.
struct Session {
    connection: Connection,
    channel: Channel,
    held: Option<Held>,
}

struct Held {
    message: StoredMessage,
    delivery_tag: u64,
}

/// One deployed RabbitMQ message store.
pub struct RabbitMqStore {
    name: String,
    settings: RabbitMqStoreSettings,
    session: tokio::sync::Mutex<Option<Session>>,
    next_id: AtomicU64,
}

impl std::fmt::Debug for RabbitMqStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RabbitMqStore")
            .field("name", &self.name)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl RabbitMqStore {
    /// The store; it connects on first use.
    pub fn new(name: &str, settings: &RabbitMqStoreSettings) -> RabbitMqStore {
        RabbitMqStore {
            name: name.to_string(),
            settings: settings.clone(),
            session: tokio::sync::Mutex::new(None),
            next_id: AtomicU64::new(1),
        }
    }

    fn unavailable(&self, reason: impl std::fmt::Display) -> StoreError {
        StoreError::Unavailable {
            store: self.name.clone(),
            reason: reason.to_string(),
        }
    }

    /// Runs one AMQP operation with [`OPERATION_TIMEOUT`].
    async fn op<T>(
        &self,
        what: &str,
        f: impl Future<Output = lapin::Result<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(OPERATION_TIMEOUT, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.unavailable(format!("{what}: {e}"))),
            Err(_) => Err(self.unavailable(format!(
                "{what}: no answer from the broker within {OPERATION_TIMEOUT:?}"
            ))),
        }
    }

    fn uri(&self, host: &str, port: u16) -> AMQPUri {
        AMQPUri {
            scheme: AMQPScheme::AMQP,
            authority: AMQPAuthority {
                userinfo: AMQPUserInfo {
                    username: self.settings.username.clone(),
                    password: self.settings.password.clone(),
                },
                host: host.to_string(),
                port,
            },
            vhost: self.settings.virtual_host.clone(),
            query: AMQPQueryString::default(),
        }
    }

    /// Connects to the first address that answers, then opens a confirm-mode channel and
    /// declares the queue (and the exchange and binding) as RabbitMQStore does.
    async fn connect(&self) -> Result<Session, StoreError> {
        let mut errors = Vec::new();
        let mut connection = None;
        for (host, port) in &self.settings.addresses {
            let attempt =
                Connection::connect_uri(self.uri(host, *port), ConnectionProperties::default());
            match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
                Ok(Ok(c)) => {
                    connection = Some(c);
                    break;
                }
                Ok(Err(e)) => errors.push(format!("{host}:{port}: {e}")),
                Err(_) => errors.push(format!(
                    "{host}:{port}: no answer within {CONNECT_TIMEOUT:?}"
                )),
            }
        }
        let Some(connection) = connection else {
            return Err(self.unavailable(format!(
                "cannot connect to the RabbitMQ broker ({})",
                errors.join("; ")
            )));
        };
        let channel = self
            .op("opening a channel", connection.create_channel())
            .await?;
        self.op(
            "enabling publisher confirms",
            channel.confirm_select(ConfirmSelectOptions::default()),
        )
        .await?;
        let s = &self.settings;
        self.op(
            "declaring the queue",
            channel.queue_declare(
                ShortString::from(s.queue.as_str()),
                QueueDeclareOptions::durable(),
                FieldTable::default(),
            ),
        )
        .await?;
        if let Some(exchange) = &s.exchange {
            if !exchange.starts_with("amq.") {
                self.op(
                    "declaring the exchange",
                    channel.exchange_declare(
                        ShortString::from(exchange.as_str()),
                        lapin::ExchangeKind::Direct,
                        ExchangeDeclareOptions {
                            durable: true,
                            ..ExchangeDeclareOptions::default()
                        },
                        FieldTable::default(),
                    ),
                )
                .await?;
            }
            self.op(
                "binding the queue",
                channel.queue_bind(
                    ShortString::from(s.queue.as_str()),
                    ShortString::from(exchange.as_str()),
                    ShortString::from(s.routing_key.as_str()),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                ),
            )
            .await?;
        }
        tracing::info!(target: "conflux::messaging", "Store [{}] Successfully connected to RabbitMQ Broker", self.name);
        Ok(Session {
            connection,
            channel,
            held: None,
        })
    }

    /// The open session, connecting when there is none or it was lost (its unacknowledged
    /// message went back to the queue with it).
    async fn session<'a>(
        &self,
        slot: &'a mut Option<Session>,
    ) -> Result<&'a mut Session, StoreError> {
        let alive = slot
            .as_ref()
            .is_some_and(|s| s.connection.status().connected() && s.channel.status().connected());
        if !alive {
            if let Some(old) = slot.take() {
                drop_session(old);
            }
            *slot = Some(self.connect().await?);
        }
        slot.as_mut()
            .ok_or_else(|| self.unavailable("no session to the broker"))
    }

    async fn publish(&self, message: NewMessage) -> Result<u64, StoreError> {
        let channel = {
            let mut slot = self.session.lock().await;
            match self.session(&mut slot).await {
                Ok(s) => s.channel.clone(),
                Err(e) => return Err(e),
            }
        };
        let mut properties = BasicProperties::default().with_delivery_mode(PERSISTENT);
        if let Some(ct) = &message.content_type {
            properties = properties.with_content_type(ShortString::from(ct.as_str()));
        }
        if !message.properties.is_empty() {
            let mut array = FieldArray::default();
            for (name, value) in &message.properties {
                array.push(AMQPValue::LongString(LongString::from(name.as_bytes())));
                array.push(AMQPValue::LongString(LongString::from(value.as_bytes())));
            }
            let mut headers = FieldTable::default();
            headers.insert(
                ShortString::from(PROPERTIES_HEADER),
                AMQPValue::FieldArray(array),
            );
            properties = properties.with_headers(headers);
        }
        let s = &self.settings;
        let exchange = s.exchange.clone().unwrap_or_default();
        let result = async {
            let confirm = self
                .op(
                    "publishing",
                    channel.basic_publish(
                        ShortString::from(exchange.as_str()),
                        ShortString::from(s.routing_key.as_str()),
                        BasicPublishOptions {
                            mandatory: true,
                            ..BasicPublishOptions::default()
                        },
                        &message.payload,
                        properties,
                    ),
                )
                .await?;
            match self.op("waiting for the publisher confirm", confirm).await? {
                Confirmation::Ack(None) => Ok(()),
                Confirmation::Ack(Some(_)) => Err(self.unavailable(format!(
                    "the broker could not route the message to a queue (exchange '{exchange}', routing key '{}')",
                    s.routing_key
                ))),
                Confirmation::Nack(_) => {
                    Err(self.unavailable("the broker refused the message (nack)"))
                }
                Confirmation::NotRequested => Err(self.unavailable(
                    "the broker did not confirm the message (publisher confirms are off)",
                )),
            }
        }
        .await;
        if let Err(e) = result {
            self.forget_channel(&channel).await;
            return Err(e);
        }
        Ok(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// Drops the session if it still uses `channel` (an operation on it failed).
    async fn forget_channel(&self, channel: &Channel) {
        let mut slot = self.session.lock().await;
        if slot
            .as_ref()
            .is_some_and(|s| s.channel.id() == channel.id())
            && let Some(old) = slot.take()
        {
            drop_session(old);
        }
    }

    async fn head(&self) -> Result<Option<StoredMessage>, StoreError> {
        let mut slot = self.session.lock().await;
        let session = self.session(&mut slot).await?;
        if let Some(held) = &session.held {
            return Ok(Some(held.message.clone()));
        }
        let queue = ShortString::from(self.settings.queue.as_str());
        let got = self
            .op(
                "reading the queue",
                session
                    .channel
                    .basic_get(queue, BasicGetOptions { no_ack: false }),
            )
            .await;
        let got = match got {
            Ok(got) => got,
            Err(e) => {
                if let Some(old) = slot.take() {
                    drop_session(old);
                }
                return Err(e);
            }
        };
        let Some(got) = got else {
            return Ok(None);
        };
        let delivery = got.delivery;
        let message = StoredMessage {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            content_type: delivery
                .properties
                .content_type()
                .as_ref()
                .map(|ct| ct.as_str().to_string()),
            properties: read_properties(delivery.properties.headers().as_ref()),
            payload: Bytes::from(delivery.data),
        };
        session.held = Some(Held {
            message: message.clone(),
            delivery_tag: delivery.delivery_tag,
        });
        Ok(Some(message))
    }

    async fn ack(&self, id: u64) -> Result<bool, StoreError> {
        let mut slot = self.session.lock().await;
        let Some(session) = slot.as_mut() else {
            // The session (and with it the unacknowledged message) is gone: the broker hands
            // the message out again.
            return Ok(false);
        };
        let Some(held) = session.held.as_ref().filter(|h| h.message.id == id) else {
            return Ok(false);
        };
        let tag = held.delivery_tag;
        let acked = self
            .op(
                "acknowledging the message",
                session.channel.basic_ack(tag, BasicAckOptions::default()),
            )
            .await;
        match acked {
            Ok(()) => {
                session.held = None;
                Ok(true)
            }
            Err(e) => {
                if let Some(old) = slot.take() {
                    drop_session(old);
                }
                Err(e)
            }
        }
    }

    async fn count(&self) -> Result<usize, StoreError> {
        let mut slot = self.session.lock().await;
        let session = self.session(&mut slot).await?;
        let held = usize::from(session.held.is_some());
        let declared = self
            .op(
                "counting the queue",
                session.channel.queue_declare(
                    ShortString::from(self.settings.queue.as_str()),
                    QueueDeclareOptions::durable(),
                    FieldTable::default(),
                ),
            )
            .await;
        match declared {
            Ok(queue) => Ok(queue.message_count() as usize + held),
            Err(e) => {
                if let Some(old) = slot.take() {
                    drop_session(old);
                }
                Err(e)
            }
        }
    }
}

/// Closes a session in the background (its unacknowledged message goes back to the queue).
fn drop_session(session: Session) {
    if tokio::runtime::Handle::try_current().is_ok() {
        tokio::spawn(async move {
            let _ = tokio::time::timeout(
                OPERATION_TIMEOUT,
                session
                    .connection
                    .close(200, ShortString::from("store closed")),
            )
            .await;
        });
    }
}

/// The properties Conflux wrote into [`PROPERTIES_HEADER`]; none for other messages.
fn read_properties(headers: Option<&FieldTable>) -> Vec<(String, String)> {
    let Some(AMQPValue::FieldArray(array)) = headers.and_then(|h| h.inner().get(PROPERTIES_HEADER))
    else {
        return Vec::new();
    };
    let text = |v: &AMQPValue| match v {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        _ => None,
    };
    array
        .as_slice()
        .chunks_exact(2)
        .filter_map(|pair| Some((text(&pair[0])?, text(&pair[1])?)))
        .collect()
}

impl MessageStore for RabbitMqStore {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &str {
        RABBITMQ_STORE_CLASS
    }

    fn store(&self, message: NewMessage) -> StoreFuture<'_, u64> {
        Box::pin(self.publish(message))
    }

    fn peek(&self) -> StoreFuture<'_, Option<StoredMessage>> {
        Box::pin(self.head())
    }

    fn remove(&self, id: u64) -> StoreFuture<'_, bool> {
        Box::pin(self.ack(id))
    }

    fn size(&self) -> StoreFuture<'_, usize> {
        Box::pin(self.count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_header_round_trips_in_order_and_ignores_foreign_values() {
        let mut array = FieldArray::default();
        for s in ["b", "2", "a", "1"] {
            array.push(AMQPValue::LongString(LongString::from(s)));
        }
        array.push(AMQPValue::Boolean(true));
        let mut headers = FieldTable::default();
        headers.insert(PROPERTIES_HEADER.into(), AMQPValue::FieldArray(array));
        assert_eq!(
            read_properties(Some(&headers)),
            vec![("b".into(), "2".into()), ("a".into(), "1".into())]
        );
        assert!(read_properties(None).is_empty());
    }

    #[tokio::test]
    async fn a_broker_that_is_not_there_is_unavailable_not_a_hang() {
        // A port nothing listens on: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let settings = RabbitMqStoreSettings {
            addresses: vec![("127.0.0.1".into(), port)],
            username: "guest".into(),
            password: "guest".into(),
            virtual_host: "/".into(),
            queue: "q".into(),
            exchange: None,
            routing_key: "q".into(),
        };
        let store = RabbitMqStore::new("S", &settings);
        let err = store.store(NewMessage::default()).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Unavailable { store, reason } if store == "S" && reason.contains(&format!("127.0.0.1:{port}"))),
            "{err}"
        );
        assert!(matches!(
            store.peek().await,
            Err(StoreError::Unavailable { .. })
        ));
        assert!(!store.remove(1).await.unwrap());
    }
}
