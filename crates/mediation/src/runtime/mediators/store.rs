//! `<store messageStore="name|{expr}" sequence?>` (SYN `mediators/store/MessageStoreMediator.java`):
//! looks the store up by name (a missing store is a fault, "Message Store does not exist."), runs
//! the `sequence` on the message itself (a sequence that is not deployed is skipped, as in MI),
//! then stores a copy of the message and lets the flow go on (`mediate` returns true). A store
//! that refuses the message (full, unreachable) is a fault: "Failed to store message [id] in
//! store [name]."
//!
//! What is stored is what a forwarding processor needs to send the message again
//! ([`message_to_store`] / [`restore`]): the payload as it would be sent, its content type, the
//! method, URI and transport headers of the request, and the default- and axis2-scope
//! properties (`REST_URL_POSTFIX`, `OUT_ONLY`, `HTTP_METHOD` ...), each under a prefix in
//! [`NewMessage::properties`] so a durable store keeps them as plain name/value pairs.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

use crate::messaging::{NewMessage, StoredMessage};
use crate::runtime::body::{MessageBody, read_limited};
use crate::runtime::context::MessageContext;
use crate::runtime::engine::{Engine, Fault, Route, response_from};
use crate::runtime::mediators::copy_message;
use crate::runtime::value::ValueSource;

/// Stored property: the request method.
pub const STORED_METHOD: &str = "@method";
/// Stored property: the request URI (path and query).
pub const STORED_URI: &str = "@uri";
/// Stored property: MI's `doingREST` of the request.
pub const STORED_DOING_REST: &str = "@doingREST";
/// Prefix of a stored transport header.
pub const STORED_HEADER: &str = "header:";
/// Prefix of a stored default-scope property.
pub const STORED_PROPERTY: &str = "default:";
/// Prefix of a stored axis2-scope property.
pub const STORED_AXIS2: &str = "axis2:";

#[derive(Debug, Clone)]
pub struct Store {
    /// The store's name, literal or `{expression}`.
    pub message_store: ValueSource,
    /// `sequence`: run on the message before the copy is stored.
    pub on_store_sequence: Option<String>,
}

/// The future of one `<store>`, boxed.
type StoreStep<'a> = Pin<Box<dyn Future<Output = Result<(), Fault>> + Send + 'a>>;

impl<B: MessageBody> Engine<'_, B> {
    /// [`Engine::store_message`] built and boxed here, not in the caller's frame: the engine's
    /// recursive `run_list` keeps a small stack frame per nesting level.
    #[inline(never)]
    pub(crate) fn store_step<'a>(
        &'a self,
        store: &'a Store,
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> StoreStep<'a> {
        Box::pin(self.store_message(store, ctx, route, depth))
    }

    /// Runs one `<store>`; `Ok` means the flow goes on.
    pub(crate) async fn store_message(
        &self,
        store: &Store,
        ctx: &mut MessageContext<B>,
        route: &Route,
        depth: usize,
    ) -> Result<(), Fault> {
        let name = store.message_store.resolve(ctx).map_err(Fault::mediation)?;
        let Some(target) = self.attached.message_stores.get(name.trim()).cloned() else {
            return Err(Fault::mediation(format!(
                "Message Store does not exist: {name}"
            )));
        };
        if let Some(seq) = store
            .on_store_sequence
            .as_deref()
            .and_then(|n| self.sequences.get(n))
        {
            // MessageStoreMediator: `sequence.mediate(synCtx)`, its result ignored.
            self.run_guarded(seq.clone(), ctx, route, depth + 1).await?;
        }
        ctx.build_payload(self.max_message_bytes)
            .await
            .map_err(|e| Fault::payload(e, ctx.is_response))?;
        let (body, mut message) = message_to_store(ctx).map_err(Fault::mediation)?;
        message.payload = read_limited(body, self.max_message_bytes)
            .await
            .map_err(|e| Fault::mediation(e.to_string()))?;
        target.store(message).await.map_err(|e| {
            Fault::mediation(format!(
                "Failed to store message [{}] in store [{}]: {e}",
                ctx.message_id(),
                target.name()
            ))
        })?;
        Ok(())
    }
}

/// A copy of the current message as a store keeps it (the content must have been built), with
/// the body to read into its `payload`.
pub fn message_to_store<B: MessageBody>(
    ctx: &MessageContext<B>,
) -> Result<(B, NewMessage), String> {
    let mut copy = copy_message(ctx);
    let outgoing = response_from(&mut copy).map_err(|f| f.message)?;
    let content_type = outgoing
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut properties = vec![
        (STORED_METHOD.to_string(), ctx.method.to_string()),
        (STORED_URI.to_string(), ctx.uri.to_string()),
        (STORED_DOING_REST.to_string(), ctx.doing_rest.to_string()),
    ];
    for (name, value) in &ctx.headers {
        if [CONTENT_LENGTH, TRANSFER_ENCODING, HOST, CONTENT_TYPE].contains(name) {
            continue;
        }
        if let Ok(value) = value.to_str() {
            properties.push((format!("{STORED_HEADER}{name}"), value.to_string()));
        }
    }
    let mut sorted: Vec<_> = ctx.properties.iter().collect();
    sorted.sort();
    properties.extend(
        sorted
            .into_iter()
            .map(|(n, v)| (format!("{STORED_PROPERTY}{n}"), v.clone())),
    );
    let mut sorted: Vec<_> = ctx.axis2.iter().collect();
    sorted.sort();
    properties.extend(
        sorted
            .into_iter()
            .map(|(n, v)| (format!("{STORED_AXIS2}{n}"), v.clone())),
    );
    Ok((
        outgoing.into_body(),
        NewMessage {
            payload: Bytes::new(),
            content_type,
            properties,
        },
    ))
}

/// The message a store kept, as a request context again (for `artifact`, e.g. a processor).
pub fn restore<B: MessageBody>(message: &StoredMessage, artifact: Arc<str>) -> MessageContext<B> {
    let mut method = Method::POST;
    let mut uri = Uri::from_static("/");
    let mut headers = HeaderMap::new();
    let mut doing_rest = false;
    let mut properties = Vec::new();
    let mut axis2 = Vec::new();
    for (name, value) in &message.properties {
        if name == STORED_METHOD {
            method = Method::from_bytes(value.as_bytes()).unwrap_or(Method::POST);
        } else if name == STORED_URI {
            uri = value.parse().unwrap_or_else(|_| Uri::from_static("/"));
        } else if name == STORED_DOING_REST {
            doing_rest = value == "true";
        } else if let Some(header) = name.strip_prefix(STORED_HEADER) {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(header.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.append(n, v);
            }
        } else if let Some(p) = name.strip_prefix(STORED_PROPERTY) {
            properties.push((p.to_string(), value.clone()));
        } else if let Some(p) = name.strip_prefix(STORED_AXIS2) {
            axis2.push((p.to_string(), value.clone()));
        }
    }
    if let Some(ct) = message
        .content_type
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
    {
        headers.insert(CONTENT_TYPE, ct);
    }
    let body = B::from(Bytes::clone(&message.payload));
    let mut ctx = MessageContext::new(method, uri, headers, body, artifact);
    ctx.doing_rest = doing_rest;
    ctx.properties.extend(properties);
    ctx.axis2.extend(axis2);
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::context::{props, test_context};
    use http_body_util::{BodyExt as _, Full};

    #[tokio::test]
    async fn a_stored_message_restores_method_uri_headers_and_properties() {
        let mut ctx: MessageContext<Full<Bytes>> = test_context(Method::PUT, "/orders/7?x=1");
        ctx.headers
            .insert("x-trace", HeaderValue::from_static("abc"));
        ctx.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        ctx.body = Full::new(Bytes::from_static(b"{\"a\":1}"));
        ctx.properties.insert("p".into(), "v".into());
        ctx.axis2
            .insert(props::REST_URL_POSTFIX.into(), "/orders/7".into());
        ctx.build_payload(1 << 20).await.unwrap();
        let (body, mut stored) = message_to_store(&ctx).unwrap();
        stored.payload = read_limited(body, 1 << 20).await.unwrap();
        assert_eq!(stored.content_type.as_deref(), Some("application/json"));
        let message = StoredMessage {
            id: 1,
            payload: stored.payload,
            content_type: stored.content_type,
            properties: stored.properties,
        };
        let back: MessageContext<Full<Bytes>> = restore(&message, Arc::from("processor:P"));
        assert_eq!(back.method, Method::PUT);
        assert_eq!(back.uri, "/orders/7?x=1");
        assert_eq!(back.headers["x-trace"], "abc");
        assert_eq!(back.properties["p"], "v");
        assert_eq!(back.axis2[props::REST_URL_POSTFIX], "/orders/7");
        let body = back.body.collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"{\"a\":1}");
    }

    mod flow {
        //! `<store>` inside whole artifacts, with stores attached as the server attaches them.
        use std::collections::HashMap;
        use std::sync::Arc;

        use super::super::STORED_AXIS2;
        use crate::messaging::{InMemoryStore, MessageStore};
        use crate::runtime::expr_context::test_support::*;
        use http::StatusCode;

        // MessageStoreMediator.mediate: the store named by the expression is looked up, the
        // on-store sequence runs on the message, a copy is stored, and mediation goes on (it
        // returns true).
        #[tokio::test]
        async fn the_copy_is_stored_and_the_flow_goes_on() {
            let mut d = deployed(&[
                (
                    "sequences/OnStore.xml",
                    &format!(
                        r#"<sequence xmlns="{NS}" name="OnStore"><property name="marked" value="yes"/></sequence>"#
                    ),
                ),
                (
                    "api/A.xml",
                    &api(
                        "A",
                        r#"<property name="target" value="S"/><store messageStore="{get-property('target')}" sequence="OnStore"/><payloadFactory media-type="json"><format>{"after": "$1"}</format><args><arg expression="get-property('marked')"/></args></payloadFactory><respond/>"#,
                        "",
                    ),
                ),
            ]);
            let store = Arc::new(InMemoryStore::new("S"));
            let as_dyn: Arc<dyn MessageStore> = store.clone();
            d.attached.message_stores = Arc::new(HashMap::from([("S".to_string(), as_dyn)]));
            let (status, _, body) =
                call(&d, "POST", "/A/x", Some("application/json"), r#"{"n":1}"#).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, r#"{"after": "yes"}"#);
            assert_eq!(store.len(), 1);
            let stored = store.peek().unwrap();
            assert_eq!(&stored.payload[..], br#"{"n":1}"#);
            assert!(
                stored
                    .properties
                    .contains(&("default:marked".to_string(), "yes".to_string()))
            );
            assert!(
                stored
                    .properties
                    .contains(&(format!("{STORED_AXIS2}REST_URL_POSTFIX"), "/x".to_string())),
                "{:?}",
                stored.properties
            );
        }

        // MessageStoreMediator: "Message Store does not exist." is a fault for the handler.
        #[tokio::test]
        async fn a_store_that_is_not_deployed_is_a_fault() {
            let d = deployed(&[(
                "api/A.xml",
                &api(
                    "A",
                    r#"<store messageStore="Nope"/><respond/>"#,
                    r#"<payloadFactory media-type="json"><format>{"e": "$1"}</format><args><arg expression="get-property('ERROR_MESSAGE')"/></args></payloadFactory><respond/>"#,
                ),
            )]);
            let (_, _, body) = call(&d, "POST", "/A", Some("application/json"), "{}").await;
            assert_eq!(body, r#"{"e": "Message Store does not exist: Nope"}"#);
        }
    }
}
