//! Messages that start inside the server rather than at a pass-through listener: a scheduled
//! task's message, a message processor's reply, a file or a queue message from an inbound
//! endpoint, a request on an inbound HTTP port. [`Deployment::inject`] runs such a message through
//! a named sequence or proxy service of the deployment, as MI's
//! `Axis2SynapseEnvironment.injectMessage` / `injectInbound` and `MessageInjector` do: the
//! sequence (with its `onError`), or the proxy's in-sequence, target and out-sequence.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, Uri};

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, props};
use crate::runtime::deployment::Deployment;
use crate::runtime::endpoint::Sender;
use crate::runtime::engine::Route;

/// Where an injected message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectTarget<'a> {
    /// A named sequence (`injectTo=sequence`, an inbound endpoint's `sequence`).
    Sequence(&'a str),
    /// A proxy service (`injectTo=proxy`, a VFS proxy).
    Proxy(&'a str),
    /// An inbound endpoint's `sequence` with its `onError` as the fault sequence (MI
    /// `InboundHttpServerWorker.injectToSequence` / `FileInjectHandler`: a missing `onError`
    /// leaves the default fault handling).
    SequenceOnError {
        sequence: &'a str,
        on_error: Option<&'a str>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InjectError {
    /// MI's MessageInjector: "Sequence: X not found" (the message is dropped and logged).
    #[error("sequence {0} is not deployed")]
    NoSuchSequence(String),
    /// MI's MessageInjector: "Proxy Service: X not found".
    #[error("proxy service {0} is not deployed")]
    NoSuchProxy(String),
}

/// The transport an injected message says it came on (`TRANSPORT_IN_NAME`).
pub type TransportName = &'static str;

/// The `To` address of an injected message (a task's `to`, MI `MessageInjector.setTo`), carried
/// as an extension of the request given to [`Deployment::inject`]: it becomes the message's
/// `To`, where a `<send/>` without endpoint goes and what `get-property('To')` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToAddress(pub String);

/// A message built inside the server: a payload with its content type, and default-scope
/// properties to set before mediation (a task's, an inbound endpoint's).
#[derive(Debug, Clone, Default)]
pub struct InjectedMessage {
    pub payload: Bytes,
    pub content_type: Option<String>,
    pub headers: HeaderMap,
    pub properties: Vec<(String, String)>,
}

impl InjectedMessage {
    /// The message as a `POST` request to `uri`, the shape every mediator expects.
    pub fn into_request<B: MessageBody>(self, uri: Uri) -> (Request<B>, Vec<(String, String)>) {
        let mut request = Request::new(B::from(self.payload));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri;
        *request.headers_mut() = self.headers;
        if let Some(content_type) = self
            .content_type
            .as_deref()
            .and_then(|c| HeaderValue::from_str(c).ok())
        {
            request
                .headers_mut()
                .insert(http::header::CONTENT_TYPE, content_type);
        }
        (request, self.properties)
    }
}

impl Deployment {
    /// The route of a message injected into `sequence`, with `on_error` as its fault sequence.
    fn sequence_route(&self, sequence: &str, on_error: Option<&str>) -> Result<Route, InjectError> {
        Ok(Route {
            artifact: format!("sequence:{sequence}").into(),
            in_sequence: Some(
                self.sequences
                    .get(sequence)
                    .ok_or_else(|| InjectError::NoSuchSequence(sequence.into()))?
                    .clone(),
            ),
            fault_sequence: on_error.and_then(|f| self.sequences.get(f).cloned()),
            ..Route::default()
        })
    }

    /// Runs `request` through `target`, with `properties` set in the default scope first, and
    /// returns what the flow answered (the reply of the last `<respond>`/`<send>`, a fault
    /// answer, or 202 when the flow ended without one). `transport` is `TRANSPORT_IN_NAME`.
    pub async fn inject<B: MessageBody>(
        &self,
        sender: &dyn Sender<B>,
        target: InjectTarget<'_>,
        request: Request<B>,
        properties: Vec<(String, String)>,
        transport: TransportName,
    ) -> Result<Response<B>, InjectError> {
        self.inject_reading(sender, target, request, properties, transport, &[])
            .await
            .map(|(response, _)| response)
    }

    /// [`Deployment::inject`], also returning the default-scope properties named in `read` as
    /// the flow left them (RabbitMQ's `SET_ROLLBACK_ONLY` decides the acknowledgement).
    pub async fn inject_reading<B: MessageBody>(
        &self,
        sender: &dyn Sender<B>,
        target: InjectTarget<'_>,
        request: Request<B>,
        properties: Vec<(String, String)>,
        transport: TransportName,
        read: &[&str],
    ) -> Result<(Response<B>, Vec<Option<String>>), InjectError> {
        let route = match target {
            InjectTarget::Sequence(sequence) => self.sequence_route(sequence, None)?,
            InjectTarget::SequenceOnError { sequence, on_error } => {
                self.sequence_route(sequence, on_error)?
            }
            InjectTarget::Proxy(name) => {
                let artifact = format!("proxy:{name}");
                self.proxies
                    .iter()
                    .find(|r| *r.artifact == *artifact)
                    .ok_or_else(|| InjectError::NoSuchProxy(name.into()))?
                    .clone()
            }
        };
        let (parts, body) = request.into_parts();
        let mut ctx = MessageContext::new(
            parts.method,
            parts.uri,
            parts.headers,
            body,
            route.artifact.clone(),
        );
        ctx.transport_in = transport;
        if let Some(ToAddress(to)) = parts.extensions.get::<ToAddress>() {
            ctx.addressing.insert("To".into(), to.clone());
        }
        self.share_with(&mut ctx);
        ctx.axis2
            .insert(props::REST_URL_POSTFIX.into(), String::new());
        for (name, value) in properties {
            ctx.properties.insert(name, value);
        }
        let response = self.engine(sender).mediate_in_place(&route, &mut ctx).await;
        let values = read
            .iter()
            .map(|name| ctx.properties.get(*name).cloned())
            .collect();
        Ok((response, values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::expr_context::test_support::deployed;
    use http_body_util::{BodyExt as _, Full};

    type B = Full<Bytes>;

    struct NoBackend;
    impl Sender<B> for NoBackend {
        fn send<'a>(
            &'a self,
            _endpoint: &'a crate::runtime::endpoint::Endpoint,
            _request: Request<B>,
        ) -> crate::runtime::endpoint::SendFuture<'a, B> {
            Box::pin(async { unreachable!("no send in these tests") })
        }
    }

    async fn body(response: Response<B>) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn message(payload: &'static str) -> (Request<B>, Vec<(String, String)>) {
        InjectedMessage {
            payload: Bytes::from_static(payload.as_bytes()),
            content_type: Some("application/xml".into()),
            properties: vec![("origin".into(), "task".into())],
            ..InjectedMessage::default()
        }
        .into_request(Uri::from_static("/"))
    }

    #[tokio::test]
    async fn a_message_injected_into_a_sequence_runs_it_with_its_properties() {
        let d = deployed(&[(
            "sequences/S.xml",
            r#"<sequence xmlns="http://ws.apache.org/ns/synapse" name="S">
                 <payloadFactory media-type="xml"><format><r xmlns=""><o>$1</o><p>$2</p></r></format>
                   <args><arg evaluator="xml" expression="get-property('origin')"/>
                         <arg evaluator="xml" expression="//v"/></args></payloadFactory>
                 <respond/></sequence>"#,
        )]);
        let (request, properties) = message("<m><v>7</v></m>");
        let response = d
            .inject(
                &NoBackend,
                InjectTarget::Sequence("S"),
                request,
                properties,
                "http",
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(body(response).await, "<r><o>task</o><p>7</p></r>");
    }

    #[tokio::test]
    async fn injecting_into_what_is_not_deployed_names_it() {
        let d = deployed(&[]);
        let (request, properties) = message("<m/>");
        let error = d
            .inject(
                &NoBackend,
                InjectTarget::Sequence("Nope"),
                request,
                properties,
                "http",
            )
            .await
            .unwrap_err();
        assert_eq!(error.to_string(), "sequence Nope is not deployed");
        let (request, properties) = message("<m/>");
        let error = d
            .inject(
                &NoBackend,
                InjectTarget::Proxy("P"),
                request,
                properties,
                "http",
            )
            .await
            .unwrap_err();
        assert_eq!(error, InjectError::NoSuchProxy("P".into()));
    }

    #[tokio::test]
    async fn a_message_injected_into_a_proxy_runs_its_in_sequence() {
        let d = deployed(&[(
            "proxy-services/P.xml",
            r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="P" transports="http">
                 <target><inSequence><log level="custom"><property name="x" value="y"/></log>
                 <payloadFactory media-type="json"><format>{"in":"proxy"}</format><args/></payloadFactory>
                 <respond/></inSequence></target></proxy>"#,
        )]);
        let (request, properties) = message("<m/>");
        let response = d
            .inject(
                &NoBackend,
                InjectTarget::Proxy("P"),
                request,
                properties,
                "vfs",
            )
            .await
            .unwrap();
        assert_eq!(body(response).await, r#"{"in":"proxy"}"#);
    }
}
