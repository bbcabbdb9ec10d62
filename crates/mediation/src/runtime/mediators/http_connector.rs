//! MI's HTTP connector, built in: a connection (`<localEntry><http.init>`) and the operations
//! `<http.get|post|put|delete|patch|head|options configKey>`, run as the connector's templates
//! run them (wso2-extensions/mi-connector-http `functions/*.xml` and `RestURLBuilder.java`) on the
//! same endpoint machinery as `<call>`: the connection's endpoint
//! `<name>_INTERNAL_ENDPOINT_REFERENCE` (SYN `deployers/LocalEntryDeployer.java`) goes through the
//! engine's sender, with its suspension state, pooled connections and timeout.
//!
//! One operation, in MI's order:
//! 1. `responseVariable` set and `overwriteBody` false: the body, message type, content type,
//!    transport headers and `NO_ENTITY_BODY` are saved (SYN `mediators/template/InvokeMediator.java`
//!    prepareForMediation);
//! 2. the transport flags become axis2 properties (`POST_TO_URI`, `NO_KEEPALIVE`, ...);
//! 3. `headers` (inline `${}` rendered, then a JSON array) become transport headers;
//! 4. with `requestBodyType`, the body is replaced (JSON, XML or TEXT) and its content type set;
//! 5. `baseUrl` and `relativePath` are joined into `uri.var.base`/`uri.var.path`, `HTTP_METHOD`
//!    is set and `REST_URL_POSTFIX` removed; the connection's authentication adds its header;
//! 6. the call; the reply becomes the message (with OAuth, a 401 is retried once with a new
//!    token, SYN `endpoints/OAuthConfiguredHTTPEndpoint.java`);
//! 7. with `responseVariable`, the reply is stored as `{payload, headers, attributes:
//!    {statusCode}}` (`payload` left out when `overwriteBody` is true), and with `overwriteBody`
//!    false the saved message is restored (InvokeMediator postMediate).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};

use crate::runtime::body::{MessageBody, read_limited};
use crate::runtime::context::{MessageContext, Scope, props};
use crate::runtime::endpoint::{Endpoint, TimeoutAction, error_codes};
use crate::runtime::engine::{Engine, Fault};
use crate::runtime::expr_context::ExprView;
use crate::runtime::payload::{JsonPayload, PAYLOAD_NS, Payload, escape_text, parse_document};
use crate::runtime::value::ValueSource;
use crate::synapse_expr::{ExprValue, InlineTemplate, SynapseExpression};

/// `SynapseConstants.ENDPOINT_AUTH_FAILURE`: the token could not be obtained.
pub const ENDPOINT_AUTH_FAILURE: u32 = 303_003;

/// How long a token is cached when the token endpoint does not say (`AuthConstants.TOKEN_CACHE_TIMEOUT`,
/// 3000 s), and the most it is cached in any case.
pub const MAX_TOKEN_CACHE_SECS: u64 = 3000;

/// A token is dropped this long before the `expires_in` the token endpoint gave, so that it is
/// not sent in its last seconds.
pub const TOKEN_EXPIRY_MARGIN_SECS: u64 = 10;

/// Tokens cached per connection at most (one per distinct set of resolved credentials); when
/// full, expired tokens are dropped, then all.
pub const MAX_CACHED_TOKENS: usize = 256;

/// The deadline of a token request from the connection's OAuth timeouts (OAuthClient's
/// RequestConfig: connect, connection request and socket timeouts, in milliseconds). Conflux
/// bounds the whole exchange up to the response head, so the deadline is their sum: a token
/// endpoint that answers within MI's limits is never cut short. None when none is set (MI's
/// client then waits without a limit).
pub fn token_timeout(t: &conflux_artifacts::local_entry::OAuthTimeouts) -> Option<Duration> {
    let parts = [t.connect_ms, t.connection_request_ms, t.socket_ms];
    if parts.iter().all(Option::is_none) {
        return None;
    }
    let total = parts
        .iter()
        .flatten()
        .fold(0u64, |sum, ms| sum.saturating_add(*ms));
    Some(Duration::from_millis(total))
}

/// A parameter value, compiled.
#[derive(Debug, Clone)]
pub enum ParamValue {
    /// Static text as written.
    Literal(String),
    /// Static text with inline `${...}` placeholders, rendered per message (the connector's
    /// `InlineExpressionUtil.processInLineSynapseExpressionTemplate`: relativePath, headers and
    /// the request bodies).
    Template(InlineTemplate),
    /// `{${expr}}`: the expression's string value (ValueFactory: a SynapseExpression).
    Synapse(SynapseExpression),
    /// `{xpath}` or `{json-eval(...)}`.
    Legacy(ValueSource),
}

impl ParamValue {
    /// The value for this message. An expression that fails as MI's EvaluationException does
    /// gives "" (logged); `Err` is a failure MI does not catch either.
    pub fn render<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<String, String> {
        match self {
            ParamValue::Literal(text) => Ok(text.clone()),
            ParamValue::Template(template) => template
                .render(&ExprView(ctx))
                .map_err(|e| e.message().to_string()),
            ParamValue::Synapse(expression) => expression
                .string_value(&ExprView(ctx))
                .map_err(|e| e.message().to_string()),
            ParamValue::Legacy(source) => source.resolve(ctx),
        }
    }

    pub fn needs_payload(&self) -> bool {
        match self {
            ParamValue::Literal(_) => false,
            ParamValue::Template(template) => template.needs_payload(),
            ParamValue::Synapse(expression) => expression.needs_payload(),
            ParamValue::Legacy(source) => source.needs_payload(),
        }
    }

    /// The text, when it is static.
    pub fn literal(&self) -> Option<&str> {
        match self {
            ParamValue::Literal(text) => Some(text),
            _ => None,
        }
    }
}

/// A connection: `<localEntry key><http.init>`.
#[derive(Debug)]
pub struct HttpConnection {
    /// `<name>` of the connection.
    pub name: Arc<str>,
    /// `<baseUrl>`.
    pub base_url: ParamValue,
    pub auth: Auth,
    /// `<name>_INTERNAL_ENDPOINT_REFERENCE`, in the deployment's endpoint table.
    pub endpoint: Arc<Endpoint>,
}

/// How a connection authenticates its requests.
#[derive(Debug)]
pub enum Auth {
    None,
    /// SYN `endpoints/auth/basicauth/BasicAuthHandler.java`.
    Basic(Box<BasicAuth>),
    /// SYN `endpoints/auth/oauth/OAuthHandler.java` and the handler of its grant.
    OAuth(Box<OAuth>),
}

/// `Basic Auth`: the user name and password.
#[derive(Debug)]
pub struct BasicAuth {
    pub username: ParamValue,
    pub password: ParamValue,
}

/// What a grant adds to the token request (`buildTokenRequestPayload` of SYN
/// `ClientCredentialsHandler`, `PasswordCredentialsHandler`, `AuthorizationCodeHandler`).
#[derive(Debug)]
pub enum Grant {
    /// `grant_type=client_credentials`.
    ClientCredentials,
    /// `grant_type=password&username=..&password=..`.
    Password {
        username: ParamValue,
        password: ParamValue,
    },
    /// `grant_type=refresh_token&refresh_token=..`: the connection's refresh token (the
    /// Authorization Code grant; a new refresh token in the response is not kept, as in MI).
    RefreshToken { refresh_token: ParamValue },
}

impl Grant {
    /// The grant's part of the form for this message: `grant_type` and its parameters, values
    /// as resolved (MI does not URL-encode them).
    fn form<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<String, String> {
        Ok(match self {
            Grant::ClientCredentials => "grant_type=client_credentials".to_string(),
            Grant::Password { username, password } => format!(
                "grant_type=password&username={}&password={}",
                username.render(ctx)?,
                password.render(ctx)?
            ),
            Grant::RefreshToken { refresh_token } => format!(
                "grant_type=refresh_token&refresh_token={}",
                refresh_token.render(ctx)?
            ),
        })
    }

    fn needs_payload(&self) -> bool {
        match self {
            Grant::ClientCredentials => false,
            Grant::Password { username, password } => {
                username.needs_payload() || password.needs_payload()
            }
            Grant::RefreshToken { refresh_token } => refresh_token.needs_payload(),
        }
    }
}

/// An OAuth connection: the grant, the client, and its token cache.
#[derive(Debug)]
pub struct OAuth {
    pub grant: Grant,
    pub client_id: ParamValue,
    pub client_secret: ParamValue,
    pub token_url: ParamValue,
    /// `Payload`: the credentials go in the form body; otherwise a Basic header.
    pub credentials_in_payload: bool,
    /// `additionalProperties`, appended to the form as `&name=value`.
    pub parameters: Vec<(String, String)>,
    /// The token request goes through the engine's sender to this endpoint (not in the
    /// endpoint table: it is never suspended).
    pub token_endpoint: Arc<Endpoint>,
    /// Tokens by the resolved token URL and credentials (SYN `ClientCredentialsHandler.getHash`).
    cache: tokio::sync::Mutex<HashMap<String, CachedToken>>,
}

/// The token request resolved for one message.
struct Credentials {
    token_url: String,
    client_id: String,
    client_secret: String,
    /// The grant's part of the form ([`Grant::form`]).
    grant: String,
}

#[derive(Debug, Clone)]
struct CachedToken {
    token: String,
    expires: Instant,
}

impl OAuth {
    pub fn new(
        grant: Grant,
        client_id: ParamValue,
        client_secret: ParamValue,
        token_url: ParamValue,
        credentials_in_payload: bool,
        parameters: Vec<(String, String)>,
        token_endpoint: Arc<Endpoint>,
    ) -> OAuth {
        OAuth {
            grant,
            client_id,
            client_secret,
            token_url,
            credentials_in_payload,
            parameters,
            token_endpoint,
            cache: Default::default(),
        }
    }

    fn needs_payload(&self) -> bool {
        [&self.client_id, &self.client_secret, &self.token_url]
            .iter()
            .any(|p| p.needs_payload())
            || self.grant.needs_payload()
    }
}

/// `requestBodyType` and the bodies.
#[derive(Debug, Clone)]
pub struct RequestBody {
    pub body_type: ParamValue,
    pub json: Option<ParamValue>,
    pub xml: Option<ParamValue>,
    pub text: Option<ParamValue>,
}

/// One operation.
#[derive(Debug, Clone)]
pub struct HttpOperation {
    /// `http.get`, ... (for messages).
    pub element: &'static str,
    pub method: Method,
    pub connection: Arc<HttpConnection>,
    pub relative_path: Option<ParamValue>,
    pub headers: Option<ParamValue>,
    pub body: Option<RequestBody>,
    pub response_variable: Option<ParamValue>,
    pub overwrite_body: Option<ParamValue>,
    /// `(axis2 property, value)` of the transport flags written.
    pub transport: Vec<(&'static str, ParamValue)>,
}

/// What an operation did to the flow.
pub(crate) enum Outcome {
    Continue,
    /// The endpoint timed out with `responseAction` discard: the message ends.
    Dropped,
}

/// The message as InvokeMediator.prepareForMediation saves it when the response must not
/// overwrite it.
struct Saved {
    payload: Option<Payload>,
    headers: HeaderMap,
    message_type: Option<String>,
    content_type: Option<String>,
    no_entity_body: Option<String>,
}

impl HttpOperation {
    /// Whether the body must be built before the operation: an expression reads it, or the
    /// message is restored after the call, or an OAuth request may be sent twice.
    pub fn needs_payload(&self) -> bool {
        let saves_body = self.response_variable.is_some()
            && !self
                .overwrite_body
                .as_ref()
                .and_then(ParamValue::literal)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let body_reads = self.body.as_ref().is_some_and(|b| {
            std::iter::once(&b.body_type)
                .chain(b.json.iter())
                .chain(b.xml.iter())
                .chain(b.text.iter())
                .any(ParamValue::needs_payload)
        });
        saves_body
            || body_reads
            || matches!(self.connection.auth, Auth::OAuth(_))
            || self.connection.base_url.needs_payload()
            || match &self.connection.auth {
                Auth::Basic(basic) => {
                    basic.username.needs_payload() || basic.password.needs_payload()
                }
                Auth::OAuth(c) => c.needs_payload(),
                Auth::None => false,
            }
            || [
                &self.relative_path,
                &self.headers,
                &self.response_variable,
                &self.overwrite_body,
            ]
            .into_iter()
            .flatten()
            .any(ParamValue::needs_payload)
            || self.transport.iter().any(|(_, v)| v.needs_payload())
    }

    /// Runs the operation (the body is built already when [`Self::needs_payload`]).
    pub(crate) async fn run<B: MessageBody>(
        &self,
        engine: &Engine<'_, B>,
        ctx: &mut MessageContext<B>,
    ) -> Result<Outcome, Fault> {
        let fail = |what: &str, e: String| {
            Fault::mediation(format!(
                "{} (connection {}): {what}: {e}",
                self.element, self.connection.name
            ))
        };
        // InvokeMediator.storeResponseInVariableEnabled / isOverwriteBodyEnabled.
        let variable = match &self.response_variable {
            Some(v) => Some(v.render(ctx).map_err(|e| fail("responseVariable", e))?)
                .filter(|v| !v.is_empty()),
            None => None,
        };
        let overwrite = match &self.overwrite_body {
            Some(v) => v
                .render(ctx)
                .map_err(|e| fail("overwriteBody", e))?
                .trim()
                .eq_ignore_ascii_case("true"),
            None => false,
        };
        let saved = (variable.is_some() && !overwrite).then(|| Saved {
            payload: ctx.payload.clone(),
            headers: ctx.headers.clone(),
            message_type: ctx.axis2.get(props::MESSAGE_TYPE).cloned(),
            content_type: ctx.axis2.get(props::CONTENT_TYPE).cloned(),
            no_entity_body: ctx.axis2.get(props::NO_ENTITY_BODY).cloned(),
        });

        // The connector's init template (config/init.xml).
        let endpoint_name = self.connection.endpoint.name.to_string();
        ctx.properties.insert(
            "httpConnectorConnectionName".into(),
            self.connection.name.to_string(),
        );
        ctx.properties
            .insert("httpConnectorConnectionEndpointName".into(), endpoint_name);
        let base = self
            .connection
            .base_url
            .render(ctx)
            .map_err(|e| fail("baseUrl", e))?;

        // The operation template: transport flags, then RestURLBuilder.
        let mut flags_before = Vec::with_capacity(self.transport.len() + 1);
        for (property, value) in &self.transport {
            let value = value.render(ctx).map_err(|e| fail(property, e))?;
            flags_before.push((*property, ctx.axis2.get(*property).cloned()));
            if !value.is_empty() {
                ctx.axis2.insert((*property).to_string(), value);
            }
        }
        if let Some(headers) = &self.headers {
            let text = headers.render(ctx).map_err(|e| fail("headers", e))?;
            for (name, value) in parse_headers(&text).map_err(|e| fail("headers", e))? {
                ctx.set(Scope::Transport, &name, value)
                    .map_err(|e| fail("headers", e))?;
            }
        }
        if let Some(body) = &self.body {
            self.set_body(body, ctx)
                .map_err(|e| fail("request body", e))?;
        }
        let relative = match &self.relative_path {
            Some(p) => p.render(ctx).map_err(|e| fail("relativePath", e))?,
            None => String::new(),
        };
        let (base, path) = join_url(&base, &relative);
        ctx.properties.insert(URI_VAR_BASE.into(), base);
        ctx.properties.insert(URI_VAR_PATH.into(), path);
        ctx.properties.insert(URI_VAR_QUERY.into(), String::new());
        flags_before.push((
            props::HTTP_METHOD,
            ctx.axis2.get(props::HTTP_METHOD).cloned(),
        ));
        ctx.axis2
            .insert(props::HTTP_METHOD.into(), self.method.as_str().to_string());
        ctx.axis2.remove(props::REST_URL_POSTFIX);

        match self.call(engine, ctx).await? {
            Outcome::Continue => {}
            Outcome::Dropped => return Ok(Outcome::Dropped),
        }

        for name in [URI_VAR_BASE, URI_VAR_PATH, URI_VAR_QUERY] {
            ctx.properties.remove(name);
        }
        // The reply has the axis2 properties of its own message in MI: what the operation set
        // on the request goes. HTTP_SC and NO_ENTITY_BODY now describe the reply, and
        // FORCE_SC_ACCEPTED stays: it answers the client.
        for (property, before) in flags_before {
            if matches!(
                property,
                props::FORCE_SC_ACCEPTED | props::HTTP_SC | props::NO_ENTITY_BODY
            ) {
                continue;
            }
            match before {
                Some(v) => ctx.axis2.insert(property.to_string(), v),
                None => ctx.axis2.remove(property),
            };
        }
        if let Some(name) = variable {
            self.store_response(engine, ctx, &name, overwrite).await?;
        }
        if let Some(saved) = saved {
            restore(ctx, saved);
        }
        Ok(Outcome::Continue)
    }

    /// `RestURLBuilder.handlePayload` and `setContentType`.
    fn set_body<B: MessageBody>(
        &self,
        body: &RequestBody,
        ctx: &mut MessageContext<B>,
    ) -> Result<(), String> {
        let body_type = body.body_type.render(ctx)?;
        if body_type.is_empty() {
            return Ok(());
        }
        // getRequestBody: the first non-empty of JSON, XML, TEXT (judged before the inline
        // `${}` are rendered); a JSON body in '...' loses the quotes.
        let mut text = String::new();
        for (which, value) in [
            ("json", &body.json),
            ("xml", &body.xml),
            ("text", &body.text),
        ] {
            let Some(value) = value else { continue };
            let rendered = value.render(ctx)?;
            if rendered.is_empty() && !matches!(value, ParamValue::Template(_)) {
                continue;
            }
            text = match rendered
                .strip_prefix('\'')
                .and_then(|r| r.strip_suffix('\''))
            {
                Some(inner) if which == "json" => inner.to_string(),
                _ => rendered,
            };
            break;
        }
        let content_type = match body_type.as_str() {
            "JSON" => {
                let payload = if text.trim().is_empty() {
                    Payload::Empty
                } else {
                    let value = crate::json::parse_json(text.as_bytes()).map_err(|e| {
                        format!("Error creating JSON Payload from source {text}: {e}")
                    })?;
                    Payload::Json(JsonPayload::with_text(value, text))
                };
                ctx.set_payload(payload);
                Some("application/json")
            }
            "XML" => {
                let element = first_element(&text).ok_or_else(|| {
                    format!("Generated content is not a valid XML payload: {text}")
                })?;
                let current = ctx.payload.take().unwrap_or(Payload::Empty);
                let replacement = Payload::xml(element.clone())
                    .map_err(|e| format!("Error creating SOAP Envelope from source {text}: {e}"))?;
                let payload = match (current, &replacement) {
                    // A body element goes into the current envelope; an envelope replaces it.
                    (
                        mut envelope @ Payload::Xml { soap: Some(_), .. },
                        Payload::Xml { soap: None, .. },
                    ) => {
                        envelope.set_body_xml(&element).map_err(|e| e.to_string())?;
                        envelope
                    }
                    _ => replacement,
                };
                ctx.set_payload(payload);
                let message_type = ctx.get(Scope::Axis2, props::MESSAGE_TYPE);
                let keeps = matches!(
                    message_type.as_deref(),
                    Some("application/xml" | "text/xml" | "application/soap+xml")
                );
                (!keeps).then_some("application/xml")
            }
            "TEXT" => {
                ctx.set_payload(Payload::Text(text));
                Some("text/plain")
            }
            // RestURLBuilder changes nothing for another type, but still drops NO_ENTITY_BODY.
            _ => None,
        };
        if let Some(content_type) = content_type {
            ctx.axis2
                .insert(props::MESSAGE_TYPE.into(), content_type.to_string());
            ctx.axis2
                .insert(props::CONTENT_TYPE.into(), content_type.to_string());
            ctx.headers
                .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        ctx.axis2.remove(props::NO_ENTITY_BODY);
        Ok(())
    }

    /// The call, with the connection's authentication.
    async fn call<B: MessageBody>(
        &self,
        engine: &Engine<'_, B>,
        ctx: &mut MessageContext<B>,
    ) -> Result<Outcome, Fault> {
        let endpoint = &self.connection.endpoint;
        let out_only = ctx.is_true(Scope::Default, props::OUT_ONLY);
        // OAuthConfiguredHTTPEndpoint keeps a copy of the message to send again after a 401.
        let retry_copy = match &self.connection.auth {
            Auth::OAuth(_) => Some((ctx.payload.clone(), ctx.headers.clone())),
            _ => None,
        };
        self.authenticate(engine, ctx, false).await?;
        let mut result = engine.send(endpoint, ctx).await;
        let unauthorized = matches!(&result, Ok(r) if r.status() == StatusCode::UNAUTHORIZED);
        if unauthorized && let Some((payload, headers)) = retry_copy {
            ctx.payload = payload;
            ctx.headers = headers;
            self.authenticate(engine, ctx, true).await?;
            result = engine.send(endpoint, ctx).await;
        }
        match result {
            // OUT_ONLY: mediation goes on with the request, as after <call>.
            Ok(_) if out_only => Ok(Outcome::Continue),
            Ok(response) => {
                crate::runtime::engine::become_response(ctx, response);
                engine.soap_fault_is_an_error(ctx).await?;
                Ok(Outcome::Continue)
            }
            Err(f)
                if f.code == error_codes::TIMEOUT
                    && endpoint.timeout_action == TimeoutAction::Discard =>
            {
                Ok(Outcome::Dropped)
            }
            Err(f) => Err(f.into()),
        }
    }

    /// Sets the `Authorization` header of the connection's authentication; `renew` drops the
    /// cached OAuth token first.
    async fn authenticate<B: MessageBody>(
        &self,
        engine: &Engine<'_, B>,
        ctx: &mut MessageContext<B>,
        renew: bool,
    ) -> Result<(), Fault> {
        let auth_fault = |message: String| Fault {
            code: ENDPOINT_AUTH_FAILURE,
            message: format!(
                "Could not generate access token for oauth configured http endpoint {}. {message}",
                self.connection.endpoint.name
            ),
            status: None,
        };
        let value = match &self.connection.auth {
            Auth::None => return Ok(()),
            Auth::Basic(basic) => {
                let user = basic.username.render(ctx).map_err(Fault::mediation)?;
                let pass = basic.password.render(ctx).map_err(Fault::mediation)?;
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
                )
            }
            Auth::OAuth(oauth) => {
                let credentials = Credentials {
                    token_url: oauth.token_url.render(ctx).map_err(Fault::mediation)?,
                    client_id: oauth.client_id.render(ctx).map_err(Fault::mediation)?,
                    client_secret: oauth.client_secret.render(ctx).map_err(Fault::mediation)?,
                    grant: oauth.grant.form(ctx).map_err(Fault::mediation)?,
                };
                let token = oauth
                    .token(engine.sender, engine.max_message_bytes, credentials, renew)
                    .await
                    .map_err(auth_fault)?;
                format!("Bearer {token}")
            }
        };
        let value = HeaderValue::try_from(value)
            .map_err(|e| Fault::mediation(format!("Authorization header: {e}")))?;
        ctx.headers.insert(AUTHORIZATION, value);
        Ok(())
    }

    /// InvokeMediator.processConnectorResponse (no ConnectorResponse from this connector: the
    /// body goes into the variable as an enrich to a variable does, Target.java).
    async fn store_response<B: MessageBody>(
        &self,
        engine: &Engine<'_, B>,
        ctx: &mut MessageContext<B>,
        name: &str,
        overwrite: bool,
    ) -> Result<(), Fault> {
        let mut response = serde_json::Map::new();
        if !overwrite {
            ctx.build_payload(engine.max_message_bytes)
                .await
                .map_err(|e| Fault::payload(e, true))?;
            let payload = ctx.payload.as_ref().unwrap_or(&Payload::Empty);
            response.insert("payload".into(), variable_payload(payload));
        }
        let mut headers = serde_json::Map::new();
        for (header, value) in &ctx.headers {
            headers
                .entry(title_case(header.as_str()))
                .or_insert_with(|| {
                    serde_json::Value::String(String::from_utf8_lossy(value.as_bytes()).into())
                });
        }
        response.insert("headers".into(), serde_json::Value::Object(headers));
        let mut attributes = serde_json::Map::new();
        if let Some(status) = ctx.get(Scope::Axis2, props::HTTP_SC) {
            // HTTP_SC is an Integer after a call (MediatorEnrichUtil.populateTransportAttributes).
            attributes.insert(
                "statusCode".into(),
                match status.trim().parse::<i64>() {
                    Ok(n) => serde_json::Value::from(n),
                    Err(_) => serde_json::Value::String(status),
                },
            );
        }
        response.insert("attributes".into(), serde_json::Value::Object(attributes));
        // A map variable reads as JSON (`vars.r.payload.id`); an XML payload is its text.
        ctx.variables.insert(
            name.to_string(),
            ExprValue::Json(serde_json::Value::Object(response)),
        );
        Ok(())
    }
}

/// Properties the connector's endpoint template is expanded from.
const URI_VAR_BASE: &str = "uri.var.base";
const URI_VAR_PATH: &str = "uri.var.path";
const URI_VAR_QUERY: &str = "uri.var.query";

/// InvokeMediator.postMediate with overwriteBody false: the message as it was before the call.
fn restore<B: MessageBody>(ctx: &mut MessageContext<B>, saved: Saved) {
    ctx.headers = saved.headers;
    for (name, value) in [
        (props::MESSAGE_TYPE, saved.message_type),
        (props::CONTENT_TYPE, saved.content_type),
        (props::NO_ENTITY_BODY, saved.no_entity_body),
    ] {
        match value {
            Some(v) => ctx.axis2.insert(name.to_string(), v),
            None => ctx.axis2.remove(name),
        };
    }
    ctx.body = B::default();
    ctx.payload = Some(saved.payload.unwrap_or(Payload::Empty));
}

/// The reply's payload as the variable holds it: a JSON value for JSON, else the first element
/// of the body as XML text (a text reply is MI's `<text xmlns="...payload">` element).
fn variable_payload(payload: &Payload) -> serde_json::Value {
    match payload {
        Payload::Json(json) => json.value().clone(),
        Payload::Empty => serde_json::Value::Null,
        Payload::Text(text) => serde_json::Value::String(format!(
            "<text xmlns=\"{PAYLOAD_NS}\">{}</text>",
            escape_text(text)
        )),
        Payload::Binary(bytes) => serde_json::Value::String(format!(
            "<binary xmlns=\"{PAYLOAD_NS}\">{}</binary>",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )),
        Payload::Xml { .. } => {
            let body = payload.body_xml();
            serde_json::Value::String(first_element(&body).unwrap_or(body))
        }
    }
}

/// The first element of an XML fragment, as written (`RestURLBuilder` wraps the text in
/// `<pfPadding>` and takes its first child element).
fn first_element(fragment: &str) -> Option<String> {
    let wrapped = format!("<pfPadding>{fragment}</pfPadding>");
    let doc = parse_document(&wrapped).ok()?;
    let element = doc.root_element().children().find(|n| n.is_element())?;
    wrapped.get(element.range()).map(str::to_string)
}

/// `Content-Type` for a header name received as `content-type` (HTTP/1 names are
/// case-insensitive and the client reads them lower-cased; MI keeps the backend's spelling,
/// which is this one for the usual servers).
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// `RestURLBuilder.processAndResolveUrl`: base and relative path trimmed; unless the relative
/// path starts with `?`, joined with exactly one `/` (none added when either is empty). Returns
/// `(uri.var.base, uri.var.path)`.
pub fn join_url(base: &str, relative: &str) -> (String, String) {
    let mut base = base.trim().to_string();
    let mut relative = relative.trim().to_string();
    if !relative.starts_with('?') {
        let base_slash = base.ends_with('/');
        let relative_slash = relative.starts_with('/');
        if base_slash && relative_slash {
            relative.remove(0);
        } else if !base_slash && !relative_slash && !base.is_empty() && !relative.is_empty() {
            base.push('/');
        }
    }
    (base, relative)
}

/// `RestURLBuilder.handleInputHeaders`: a JSON array (read as org.json reads it: single quotes,
/// unquoted words and a trailing comma are accepted) of `[name, value]` pairs or `{name: value}`
/// objects; names and values trimmed, an empty name skipped. An empty text is no headers.
pub fn parse_headers(text: &str) -> Result<Vec<(String, String)>, String> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    read_headers(text).map_err(|e| {
        format!(
            "{text:?}: {e} (expected a JSON array of [\"name\", \"value\"] pairs or {{\"name\": \"value\"}} objects)"
        )
    })
}

fn read_headers(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut parser = OrgJson {
        chars: text.chars().collect(),
        at: 0,
        depth: 0,
    };
    let value = parser.value()?;
    let JsonLike::Array(items) = value else {
        return Err("A JSONArray text must start with '['".into());
    };
    if parser.next_clean().is_some() {
        return Err(parser.error("unexpected text after the array"));
    }
    let string = |v: &JsonLike, at: &str| match v {
        JsonLike::String(s) => Ok(s.trim().to_string()),
        _ => Err(format!("{at} is not a string")),
    };
    let mut out = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match item {
            JsonLike::Array(pair) if pair.len() == 2 => {
                let name = string(&pair[0], &format!("JSONArray[{index}][0]"))?;
                let value = string(&pair[1], &format!("JSONArray[{index}][1]"))?;
                if !name.is_empty() {
                    out.push((name, value));
                }
            }
            JsonLike::Object(fields) => {
                if let Some((name, value)) = fields.first() {
                    let value = string(value, &format!("JSONObject[{name:?}]"))?;
                    if !name.trim().is_empty() {
                        out.push((name.trim().to_string(), value));
                    }
                }
            }
            // Other items (a pair of another length, a bare value) are ignored.
            _ => {}
        }
    }
    Ok(out)
}

/// Deepest nesting the header parser follows.
pub const MAX_HEADERS_JSON_DEPTH: usize = 32;

#[derive(Debug)]
enum JsonLike {
    String(String),
    Array(Vec<JsonLike>),
    Object(Vec<(String, JsonLike)>),
    /// A number, boolean, null or unquoted word.
    Other,
}

/// A reader of org.json's lenient syntax (`JSONTokener.nextValue`).
struct OrgJson {
    chars: Vec<char>,
    at: usize,
    depth: usize,
}

impl OrgJson {
    fn next_clean(&mut self) -> Option<char> {
        while let Some(&c) = self.chars.get(self.at) {
            self.at += 1;
            if !c.is_whitespace() {
                return Some(c);
            }
        }
        None
    }

    fn error(&self, what: &str) -> String {
        format!("{what} at character {}", self.at)
    }

    fn value(&mut self) -> Result<JsonLike, String> {
        match self.next_clean() {
            Some(quote @ ('"' | '\'')) => Ok(JsonLike::String(self.string(quote)?)),
            Some('[') => self.nested(|p| p.array()),
            Some('{') => self.nested(|p| p.object()),
            Some(_) => {
                self.at -= 1;
                let start = self.at;
                while let Some(&c) = self.chars.get(self.at) {
                    if c < ' ' || ",:]}/\\\"[{;=#".contains(c) {
                        break;
                    }
                    self.at += 1;
                }
                let word: String = self.chars[start..self.at].iter().collect();
                let word = word.trim();
                if word.is_empty() {
                    return Err(self.error("Missing value"));
                }
                Ok(match word {
                    "true" | "false" | "null" => JsonLike::Other,
                    w if w.starts_with(|c: char| c.is_ascii_digit() || c == '-') => JsonLike::Other,
                    w => JsonLike::String(w.to_string()),
                })
            }
            None => Err(self.error("Missing value")),
        }
    }

    fn nested(
        &mut self,
        inner: impl FnOnce(&mut OrgJson) -> Result<JsonLike, String>,
    ) -> Result<JsonLike, String> {
        if self.depth >= MAX_HEADERS_JSON_DEPTH {
            return Err(self.error(&format!(
                "nested deeper than {MAX_HEADERS_JSON_DEPTH} levels"
            )));
        }
        self.depth += 1;
        let value = inner(self);
        self.depth -= 1;
        value
    }

    fn string(&mut self, quote: char) -> Result<String, String> {
        let mut out = String::new();
        loop {
            let Some(&c) = self.chars.get(self.at) else {
                return Err(self.error("Unterminated string"));
            };
            self.at += 1;
            match c {
                '\n' | '\r' => return Err(self.error("Unterminated string")),
                '\\' => {
                    let Some(&e) = self.chars.get(self.at) else {
                        return Err(self.error("Unterminated string"));
                    };
                    self.at += 1;
                    match e {
                        'b' => out.push('\u{8}'),
                        't' => out.push('\t'),
                        'n' => out.push('\n'),
                        'f' => out.push('\u{c}'),
                        'r' => out.push('\r'),
                        'u' => {
                            let hex: String = self
                                .chars
                                .get(self.at..self.at + 4)
                                .map(|h| h.iter().collect())
                                .unwrap_or_default();
                            let code = u32::from_str_radix(&hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| self.error("Illegal escape"))?;
                            self.at += 4;
                            out.push(code);
                        }
                        '"' | '\'' | '\\' | '/' => out.push(e),
                        _ => return Err(self.error("Illegal escape")),
                    }
                }
                c if c == quote => return Ok(out),
                c => out.push(c),
            }
        }
    }

    fn array(&mut self) -> Result<JsonLike, String> {
        let mut items = Vec::new();
        if self.next_clean() == Some(']') {
            return Ok(JsonLike::Array(items));
        }
        self.at -= 1;
        loop {
            if self.next_clean() == Some(',') {
                self.at -= 1;
                items.push(JsonLike::Other);
            } else {
                self.at -= 1;
                items.push(self.value()?);
            }
            match self.next_clean() {
                Some(',') => {
                    if self.next_clean() == Some(']') {
                        return Ok(JsonLike::Array(items));
                    }
                    self.at -= 1;
                }
                Some(']') => return Ok(JsonLike::Array(items)),
                _ => return Err(self.error("Expected a ',' or ']'")),
            }
        }
    }

    fn object(&mut self) -> Result<JsonLike, String> {
        let mut fields = Vec::new();
        loop {
            let key = match self.next_clean() {
                Some('}') => return Ok(JsonLike::Object(fields)),
                None => return Err(self.error("A JSONObject text must end with '}'")),
                Some(_) => {
                    self.at -= 1;
                    match self.value()? {
                        JsonLike::String(s) => s,
                        _ => return Err(self.error("A JSONObject key must be a string")),
                    }
                }
            };
            if self.next_clean() != Some(':') {
                return Err(self.error("Expected a ':' after a key"));
            }
            fields.push((key, self.value()?));
            match self.next_clean() {
                Some(',' | ';') => {
                    if self.next_clean() == Some('}') {
                        return Ok(JsonLike::Object(fields));
                    }
                    self.at -= 1;
                }
                Some('}') => return Ok(JsonLike::Object(fields)),
                _ => return Err(self.error("Expected a ',' or '}'")),
            }
        }
    }
}

/// How long a token is cached: `expires_in` less [`TOKEN_EXPIRY_MARGIN_SECS`], at most
/// [`MAX_TOKEN_CACHE_SECS`] (MI's fixed cache time, also used when the server does not say).
fn token_ttl(expires_in: Option<u64>) -> u64 {
    match expires_in {
        Some(secs) => secs
            .saturating_sub(TOKEN_EXPIRY_MARGIN_SECS)
            .min(MAX_TOKEN_CACHE_SECS),
        None => MAX_TOKEN_CACHE_SECS,
    }
}

/// Caches `token` under `key` for `ttl_secs`; a full cache drops its expired tokens, and if
/// that frees nothing, all of them.
fn remember(
    cache: &mut HashMap<String, CachedToken>,
    key: String,
    token: &str,
    ttl_secs: u64,
    now: Instant,
) {
    if cache.len() >= MAX_CACHED_TOKENS && !cache.contains_key(&key) {
        cache.retain(|_, c| c.expires > now);
        if cache.len() >= MAX_CACHED_TOKENS {
            cache.clear();
        }
    }
    cache.insert(
        key,
        CachedToken {
            token: token.to_string(),
            expires: now + Duration::from_secs(ttl_secs),
        },
    );
}

/// The token: cached, or fetched through `sender` (`OAuthClient.generateToken`: a form POST,
/// client credentials in a Basic header or in the form).
impl OAuth {
    async fn token<B: MessageBody>(
        &self,
        sender: &dyn crate::runtime::endpoint::Sender<B>,
        max_bytes: usize,
        credentials: Credentials,
        renew: bool,
    ) -> Result<String, String> {
        let Credentials {
            token_url,
            client_id,
            client_secret,
            grant,
        } = credentials;
        let mut form = grant;
        if self.credentials_in_payload {
            form.push_str(&format!(
                "&client_id={client_id}&client_secret={client_secret}"
            ));
        }
        for (name, value) in &self.parameters {
            form.push_str(&format!("&{name}={value}"));
        }
        let key = format!("{token_url}\n{client_id}\n{client_secret}\n{form}");
        let mut cache = self.cache.lock().await;
        let now = Instant::now();
        if renew {
            cache.remove(&key);
        } else if let Some(cached) = cache.get(&key).filter(|c| c.expires > now) {
            return Ok(cached.token.clone());
        }
        let mut request = Request::post(token_url.trim())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(B::from(Bytes::from(form)))
            .map_err(|e| format!("token URL {token_url:?}: {e}"))?;
        if !self.credentials_in_payload {
            let credentials = base64::engine::general_purpose::STANDARD
                .encode(format!("{client_id}:{client_secret}"));
            let value = HeaderValue::try_from(format!("Basic {credentials}"))
                .map_err(|e| format!("client credentials: {e}"))?;
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        let response = sender
            .send(&self.token_endpoint, request)
            .await
            .map_err(|f| format!("Unable to connect to the OAuth token endpoint: {f}"))?;
        let status = response.status();
        let body = read_limited(response.into_body(), max_bytes)
            .await
            .map_err(|e| format!("the token response: {e}"))?;
        if status != StatusCode::OK {
            return Err(format!(
                "Error while accessing the Token URL. HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        let json: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| format!("the token response is not JSON: {e}"))?;
        let token = match json.get("access_token") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other @ serde_json::Value::Number(_)) => other.to_string(),
            _ => {
                return Err(
                    "Missing key [access_token] in the response from the OAuth server".into(),
                );
            }
        };
        let expires_in = json.get("expires_in").and_then(|v| match v {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        let ttl = token_ttl(expires_in);
        if ttl > 0 {
            remember(&mut cache, key, &token, ttl, now);
        }
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    //! The connector over an in-memory backend: deployments compiled from XML (a connection local
    //! entry and an API), requests through `Deployment::handle`, and `HttpOperation::run` on a
    //! message context for what only the context shows (variables, the restored message).

    use std::collections::HashSet;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use conflux_artifacts as art;
    use http::{Response, Uri};
    use http_body_util::{BodyExt, Full};

    use super::*;
    use crate::dispatch::Protocol;
    use crate::runtime::compile::{CompileError, compile};
    use crate::runtime::deployment::Deployment;
    use crate::runtime::endpoint::{SendFault, SendFuture, Sender};
    use crate::runtime::mediators::Mediator;

    type B = Full<Bytes>;
    const NS: &str = "http://ws.apache.org/ns/synapse";

    /// A request the backend received.
    #[derive(Debug, Clone)]
    struct Seen {
        endpoint: String,
        method: String,
        uri: String,
        headers: HeaderMap,
        body: String,
    }

    /// Answers the connection's endpoint with `reply` (status, content type, body), the OAuth
    /// token endpoint with a new token each time (`tok-1`, `tok-2`, ...), and refuses
    /// connections to an endpoint marked down; an endpoint that failed is then suspended (sends
    /// fail with 303001 without reaching it), as the transport's state machine does with
    /// MI's default `suspendOnFailure`.
    struct Backend {
        reply: Mutex<Vec<(u16, &'static str, &'static str)>>,
        seen: Mutex<Vec<Seen>>,
        tokens: AtomicUsize,
        down: bool,
        suspended: Mutex<HashSet<usize>>,
    }

    impl Backend {
        fn new(status: u16, content_type: &'static str, body: &'static str) -> Backend {
            Backend {
                reply: Mutex::new(vec![(status, content_type, body)]),
                seen: Mutex::new(Vec::new()),
                tokens: AtomicUsize::new(0),
                down: false,
                suspended: Mutex::new(HashSet::new()),
            }
        }

        fn seen(&self) -> Vec<Seen> {
            self.seen.lock().unwrap().clone()
        }

        fn calls_to_api(&self) -> Vec<Seen> {
            self.seen()
                .into_iter()
                .filter(|s| !s.endpoint.ends_with("_OAUTH_TOKEN"))
                .collect()
        }
    }

    impl Sender<B> for Backend {
        fn send<'a>(&'a self, endpoint: &'a Endpoint, request: Request<B>) -> SendFuture<'a, B> {
            Box::pin(async move {
                if self.suspended.lock().unwrap().contains(&endpoint.id) {
                    return Err(SendFault {
                        code: error_codes::ENDPOINT_NOT_READY,
                        message: format!(
                            "Currently , Address endpoint : [ Name : {} ] [ State : SUSPENDED ]",
                            endpoint.name
                        ),
                    });
                }
                let (parts, body) = request.into_parts();
                let body = body.collect().await.unwrap().to_bytes();
                self.seen.lock().unwrap().push(Seen {
                    endpoint: endpoint.name.to_string(),
                    method: parts.method.to_string(),
                    uri: parts.uri.to_string(),
                    headers: parts.headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                if self.down {
                    self.suspended.lock().unwrap().insert(endpoint.id);
                    return Err(SendFault {
                        code: error_codes::CONNECTION_FAILED,
                        message: "Connection refused".into(),
                    });
                }
                if endpoint.name.ends_with("_OAUTH_TOKEN") {
                    let n = self.tokens.fetch_add(1, Ordering::SeqCst) + 1;
                    let mut r = Response::new(B::from(format!(
                        r#"{{"access_token":"tok-{n}","token_type":"Bearer","expires_in":3600}}"#
                    )));
                    r.headers_mut()
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    return Ok(r);
                }
                let mut replies = self.reply.lock().unwrap();
                let (status, content_type, body) = if replies.len() > 1 {
                    replies.remove(0)
                } else {
                    replies[0]
                };
                let mut r = Response::new(B::from(body));
                *r.status_mut() = StatusCode::from_u16(status).unwrap();
                r.headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
                r.headers_mut()
                    .insert("x-backend", HeaderValue::from_static("fake"));
                Ok(r)
            })
        }
    }

    fn connection(settings: &str) -> String {
        format!(
            r#"<localEntry xmlns="{NS}" key="Conn"><http.init><connectionType>HTTP</connectionType><name>Conn</name>{settings}</http.init></localEntry>"#
        )
    }

    fn api(operations: &str) -> String {
        format!(
            r#"<api xmlns="{NS}" name="A" context="/a"><resource methods="GET POST" uri-template="/*"><inSequence>
{operations}
</inSequence><faultSequence><payloadFactory media-type="text"><format>fault $1: $2</format><args><arg expression="$ctx:ERROR_CODE"/><arg expression="$ctx:ERROR_MESSAGE"/></args></payloadFactory><respond/></faultSequence></resource></api>"#
        )
    }

    fn deploy(files: &[(&str, &str)]) -> (Deployment, Vec<CompileError>) {
        let mut artifacts = art::Artifacts::default();
        for (label, xml) in files {
            artifacts
                .insert(art::parse_artifact(label, xml).unwrap())
                .unwrap();
        }
        compile(&artifacts)
    }

    fn deployed(settings: &str, operations: &str) -> Deployment {
        let (d, errors) = deploy(&[
            ("local-entries/Conn.xml", &connection(settings)),
            ("api/A.xml", &api(operations)),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        d
    }

    async fn request(
        d: &Deployment,
        backend: &dyn Sender<B>,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &'static str,
    ) -> (StatusCode, HeaderMap, String) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(ct) = content_type {
            request = request
                .header(CONTENT_TYPE, ct)
                .header(http::header::CONTENT_LENGTH, body.len());
        }
        let request = request.body(B::from(body)).unwrap();
        let response = d.handle(backend, request, Protocol::Http).await;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        (
            parts.status,
            parts.headers,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    const BASE: &str = "<baseUrl>http://backend:9000/api/</baseUrl>";

    // mi-connector-http TestRestURLBuilder.testBasePathAndRelativePathConcatenation: the
    // expected URL for each base path and relative path.
    #[test]
    fn base_and_relative_path_are_joined_as_rest_url_builder_does() {
        for (base, relative, url) in [
            ("https://example.com/api/", "", "https://example.com/api/"),
            ("https://example.com/api/", "/", "https://example.com/api/"),
            (
                "https://example.com/api/",
                "/v1",
                "https://example.com/api/v1",
            ),
            (
                "https://example.com/api/",
                "v1",
                "https://example.com/api/v1",
            ),
            ("https://example.com/api", "", "https://example.com/api"),
            ("https://example.com/api", "/", "https://example.com/api/"),
            (
                "https://example.com/api",
                "/v1",
                "https://example.com/api/v1",
            ),
            (
                "https://example.com/api",
                "v1",
                "https://example.com/api/v1",
            ),
            (
                "https://example.com/api",
                "v1?id=1",
                "https://example.com/api/v1?id=1",
            ),
            (
                "https://example.com/api/",
                "v1?id=1",
                "https://example.com/api/v1?id=1",
            ),
            (
                "https://example.com/api",
                "?id=1",
                "https://example.com/api?id=1",
            ),
            (
                "https://example.com/api/",
                "?id=1",
                "https://example.com/api/?id=1",
            ),
            (
                "https://example.com/api",
                "/?id=1",
                "https://example.com/api/?id=1",
            ),
            (
                "https://example.com/api?id=1&name=John",
                "",
                "https://example.com/api?id=1&name=John",
            ),
            (
                "  https://example.com ",
                "  /v1  ",
                "https://example.com/v1",
            ),
        ] {
            let (b, p) = join_url(base, relative);
            assert_eq!(format!("{b}{p}"), url, "{base:?} + {relative:?}");
        }
    }

    // TestRestURLBuilder header cases (pairs, objects, trimming, empty names skipped, empty
    // values kept) and org.json's leniency (a trailing comma, single quotes).
    #[test]
    fn headers_are_read_as_the_connector_reads_them() {
        let h = |text: &str| parse_headers(text).unwrap();
        assert_eq!(
            h(r#"[["Content-Type", "application/xml"], ["Accept", "application/xml"]]"#),
            [
                ("Content-Type".into(), "application/xml".into()),
                ("Accept".into(), "application/xml".into())
            ]
        );
        assert_eq!(
            h(r#"[{"Content-Type ": " application/xml "}, [" Accept ", " application/json "]]"#),
            [
                ("Content-Type".into(), "application/xml".into()),
                ("Accept".into(), "application/json".into())
            ]
        );
        assert!(h(r#"[["", "application/xml"], {"  ": "application/json"}]"#).is_empty());
        assert_eq!(
            h(r#"[["Content-Type", " "], {"Accept": ""}]"#),
            [
                ("Content-Type".into(), String::new()),
                ("Accept".into(), String::new())
            ]
        );
        assert!(h("").is_empty());
        assert!(h("[]").is_empty());
        // A VS Code sample writes a trailing comma; org.json takes it, and single quotes.
        assert_eq!(
            h(r#"[["content-type","application/xml"],]"#),
            [("content-type".into(), "application/xml".into())]
        );
        assert_eq!(h("[['X-A', 'b']]"), [("X-A".into(), "b".into())]);
        for bad in [
            r#"{"a":"b"}"#,
            r#"[["X", 5]]"#,
            r#"[["X", "y"]"#,
            "[[\"X\", \"y]]",
        ] {
            assert!(parse_headers(bad).is_err(), "{bad}");
        }
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_HEADERS_JSON_DEPTH + 1),
            "]".repeat(MAX_HEADERS_JSON_DEPTH + 1)
        );
        assert!(parse_headers(&deep).unwrap_err().contains("nested deeper"));
        let at_limit = format!(
            "{}{}",
            "[".repeat(MAX_HEADERS_JSON_DEPTH),
            "]".repeat(MAX_HEADERS_JSON_DEPTH)
        );
        assert!(parse_headers(&at_limit).is_ok());
    }

    // get.xml: HTTP_METHOD GET, REST_URL_POSTFIX removed, the call to
    // <name>_INTERNAL_ENDPOINT_REFERENCE at {uri.var.base}{+uri.var.path}{+uri.var.query};
    // RestURLBuilder.handleInputHeaders adds the headers. Without responseVariable the reply is
    // the message (plain call semantics).
    #[tokio::test]
    async fn get_joins_the_path_adds_the_headers_and_the_reply_becomes_the_message() {
        let d = deployed(
            BASE,
            r#"<http.get configKey="Conn">
  <relativePath>/posts/1?x=y z</relativePath>
  <headers>[["Accept","application/json"],{"X-Id":" 42 "}]</headers>
</http.get><respond/>"#,
        );
        let backend = Backend::new(200, "application/json", r#"{"id":1}"#);
        let (status, headers, body) = request(
            &d,
            &backend,
            "POST",
            "/a/extra/path",
            Some("application/json"),
            r#"{"in":true}"#,
        )
        .await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, r#"{"id":1}"#));
        assert_eq!(headers["x-backend"], "fake");
        let seen = backend.calls_to_api();
        assert_eq!(seen.len(), 1);
        let call = &seen[0];
        assert_eq!(call.endpoint, "Conn_INTERNAL_ENDPOINT_REFERENCE");
        assert_eq!(call.method, "GET");
        // {+uri.var.path} keeps reserved characters and encodes the space; the API's own path
        // postfix (/extra/path) is not appended.
        assert_eq!(call.uri, "http://backend:9000/api/posts/1?x=y%20z");
        assert_eq!(call.headers["accept"], "application/json");
        assert_eq!(call.headers["x-id"], "42");
        // The connection's endpoint is a named endpoint with its own state slot.
        let endpoint = &d.named_endpoints["Conn_INTERNAL_ENDPOINT_REFERENCE"];
        assert!(d.endpoints.iter().any(|e| Arc::ptr_eq(e, endpoint)));
    }

    // RestURLBuilder.handlePayload / setContentType for JSON, XML and TEXT: the body replaced,
    // messageType, ContentType and the Content-Type header set; a JSON body in '...' loses the
    // quotes; XML in <pfPadding>, the first element.
    #[tokio::test]
    async fn post_put_patch_send_the_request_body_in_its_type() {
        let d = deployed(
            BASE,
            r#"<filter source="get-property('To')" regex=".*json.*"><then>
  <http.post configKey="Conn"><relativePath>json</relativePath><requestBodyType>JSON</requestBodyType>
    <requestBodyJson>'{"a": 1}'</requestBodyJson><requestBodyXml>&lt;ignored/&gt;</requestBodyXml></http.post>
</then><else><filter source="get-property('To')" regex=".*xml.*"><then>
  <http.put configKey="Conn"><relativePath>xml</relativePath><requestBodyType>XML</requestBodyType>
    <requestBodyXml> &lt;m:order xmlns:m="urn:m"&gt;&lt;m:id&gt;7&lt;/m:id&gt;&lt;/m:order&gt;&lt;second/&gt;</requestBodyXml></http.put>
</then><else>
  <http.patch configKey="Conn"><relativePath>text</relativePath><requestBodyType>TEXT</requestBodyType>
    <requestBodyText> plain text </requestBodyText></http.patch>
</else></filter></else></filter><respond/>"#,
        );
        let backend = Backend::new(201, "text/plain", "ok");
        for path in ["/a/json", "/a/xml", "/a/text"] {
            let (status, _, body) = request(
                &d,
                &backend,
                "POST",
                path,
                Some("application/json"),
                r#"{"in":1}"#,
            )
            .await;
            assert_eq!(
                (status, body.as_str()),
                (StatusCode::CREATED, "ok"),
                "{path}"
            );
        }
        let seen = backend.calls_to_api();
        let summary: Vec<(&str, &str, &str, &str)> = seen
            .iter()
            .map(|s| {
                (
                    s.method.as_str(),
                    s.uri.as_str(),
                    s.headers[CONTENT_TYPE].to_str().unwrap(),
                    s.body.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "POST",
                    "http://backend:9000/api/json",
                    "application/json",
                    r#"{"a": 1}"#
                ),
                (
                    "PUT",
                    "http://backend:9000/api/xml",
                    "application/xml",
                    r#"<m:order xmlns:m="urn:m"><m:id>7</m:id></m:order>"#
                ),
                (
                    "PATCH",
                    "http://backend:9000/api/text",
                    "text/plain",
                    " plain text "
                ),
            ]
        );
    }

    // BasicAuthHandler: Authorization: Basic base64(username:password) on the request.
    #[tokio::test]
    async fn basic_auth_adds_the_authorization_header() {
        let d = deployed(
            &format!(
                "{BASE}<authType>Basic Auth</authType><username>ada</username><password>s3cret</password>"
            ),
            r#"<http.get configKey="Conn"><relativePath>/me</relativePath></http.get><respond/>"#,
        );
        let backend = Backend::new(200, "application/json", "{}");
        request(&d, &backend, "GET", "/a/x", None, "").await;
        let seen = backend.calls_to_api();
        assert_eq!(
            seen[0].headers[AUTHORIZATION],
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("ada:s3cret")
            )
        );
    }

    // ClientCredentialsHandler / OAuthClient.generateToken: a form POST to the token URL with
    // the credentials in a Basic header (Header mode) or in the form (Payload mode); the token
    // is cached, so two requests call the token endpoint once; a 401 from the backend gets one
    // retry with a new token (OAuthConfiguredHTTPEndpoint.retryCallWithNewToken).
    #[tokio::test]
    async fn oauth_client_credentials_fetch_cache_and_renew_the_token() {
        let d = deployed(
            &format!("{BASE}<authType>OAuth</authType><oauthGrantType>Client Credentials</oauthGrantType>
<clientId>app</clientId><clientSecret>pw</clientSecret><tokenUrl>http://idp:8080/token</tokenUrl>
<additionalProperties>scope:read</additionalProperties>"),
            r#"<http.post configKey="Conn"><relativePath>/orders</relativePath></http.post><respond/>"#,
        );
        let backend = Backend::new(200, "application/json", r#"{"ok":true}"#);
        for _ in 0..2 {
            let (status, _, body) = request(
                &d,
                &backend,
                "POST",
                "/a/x",
                Some("application/json"),
                r#"{"n":1}"#,
            )
            .await;
            assert_eq!((status, body.as_str()), (StatusCode::OK, r#"{"ok":true}"#));
        }
        let seen = backend.seen();
        let token_calls: Vec<&Seen> = seen
            .iter()
            .filter(|s| s.endpoint.ends_with("_OAUTH_TOKEN"))
            .collect();
        assert_eq!(token_calls.len(), 1, "{seen:#?}");
        let token = token_calls[0];
        assert_eq!(
            (token.method.as_str(), token.uri.as_str()),
            ("POST", "http://idp:8080/token")
        );
        assert_eq!(
            token.headers[CONTENT_TYPE],
            "application/x-www-form-urlencoded"
        );
        assert_eq!(
            token.headers[AUTHORIZATION],
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("app:pw")
            )
        );
        assert_eq!(token.body, "grant_type=client_credentials&scope=read");
        let calls = backend.calls_to_api();
        assert_eq!(calls.len(), 2);
        for call in &calls {
            assert_eq!(call.headers[AUTHORIZATION], "Bearer tok-1");
            assert_eq!(call.body, r#"{"n":1}"#);
        }

        // A 401: the token is fetched again and the request sent once more, with its body.
        let backend = Backend::new(200, "application/json", "{}");
        backend.tokens.store(10, Ordering::SeqCst);
        *backend.reply.lock().unwrap() = vec![
            (401, "application/json", "{}"),
            (200, "application/json", r#"{"again":1}"#),
        ];
        let (status, _, body) = request(
            &d,
            &backend,
            "POST",
            "/a/x",
            Some("application/json"),
            r#"{"n":2}"#,
        )
        .await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, r#"{"again":1}"#));
        let calls = backend.calls_to_api();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].headers[AUTHORIZATION], "Bearer tok-1");
        assert_eq!(calls[1].headers[AUTHORIZATION], "Bearer tok-11");
        assert_eq!(calls[1].body, r#"{"n":2}"#);

        // Payload mode: the credentials in the form, no Basic header.
        let d = deployed(
            &format!("{BASE}<authType>OAuth</authType><oauthGrantType>Client Credentials</oauthGrantType><oauthAuthorizationMode>Payload</oauthAuthorizationMode>
<clientId>app</clientId><clientSecret>pw</clientSecret><tokenUrl>http://idp:8080/token</tokenUrl>"),
            r#"<http.get configKey="Conn"/><respond/>"#,
        );
        let backend = Backend::new(200, "application/json", "{}");
        request(&d, &backend, "GET", "/a/x", None, "").await;
        let token = backend
            .seen()
            .into_iter()
            .find(|s| s.endpoint.ends_with("_OAUTH_TOKEN"))
            .unwrap();
        assert!(!token.headers.contains_key(AUTHORIZATION));
        assert_eq!(
            token.body,
            "grant_type=client_credentials&client_id=app&client_secret=pw"
        );
    }

    // OAuthClient.extractToken: a token endpoint that does not answer 200 fails the message
    // with ENDPOINT_AUTH_FAILURE (303003), and the backend is not called.
    // PasswordCredentialsHandler.buildTokenRequestPayload: `grant_type=password&username=..
    // &password=..`, then the client credentials in Payload mode, then additionalProperties;
    // AuthorizationCodeHandler: `grant_type=refresh_token&refresh_token=..` with the connection's
    // refresh token. Values are appended as resolved (`{$ctx:..}` here), not URL-encoded. The
    // token is cached and renewed after a 401 as for any grant.
    #[tokio::test]
    async fn oauth_password_and_authorization_code_grants() {
        async fn token_body(d: &Deployment) -> Seen {
            {
                let backend = Backend::new(200, "application/json", "{}");
                for _ in 0..2 {
                    let (status, _, _) = request(d, &backend, "GET", "/a/x", None, "").await;
                    assert_eq!(status, StatusCode::OK);
                }
                let tokens: Vec<Seen> = backend
                    .seen()
                    .into_iter()
                    .filter(|s| s.endpoint.ends_with("_OAUTH_TOKEN"))
                    .collect();
                assert_eq!(tokens.len(), 1, "cached: {tokens:#?}");
                for call in backend.calls_to_api() {
                    assert_eq!(call.headers[AUTHORIZATION], "Bearer tok-1");
                }
                tokens[0].clone()
            }
        }
        let call = r#"<property name="user" value="ann"/><http.get configKey="Conn"/><respond/>"#;
        let d = deployed(
            &format!("{BASE}<authType>OAuth</authType><oauthGrantType>Password</oauthGrantType><oauthAuthorizationMode>Payload</oauthAuthorizationMode>
<username>{{$ctx:user}}</username><password>s3cret</password>
<clientId>app</clientId><clientSecret>pw</clientSecret><tokenUrl>http://idp:8080/token</tokenUrl>
<additionalProperties>scope:read</additionalProperties>"),
            call,
        );
        let token = token_body(&d).await;
        assert_eq!(
            token.body,
            "grant_type=password&username=ann&password=s3cret&client_id=app&client_secret=pw&scope=read"
        );
        assert!(!token.headers.contains_key(AUTHORIZATION));

        let d = deployed(
            &format!("{BASE}<authType>OAuth</authType><oauthGrantType>Authorization Code</oauthGrantType>
<refreshToken>rt-1</refreshToken>
<clientId>app</clientId><clientSecret>pw</clientSecret><tokenUrl>http://idp:8080/token</tokenUrl>"),
            call,
        );
        let token = token_body(&d).await;
        assert_eq!(token.body, "grant_type=refresh_token&refresh_token=rt-1");
        assert_eq!(
            token.headers[AUTHORIZATION],
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("app:pw")
            )
        );
    }

    // handleOAuthTimeouts: the token request's connect / connection request / socket timeouts;
    // Conflux bounds the token exchange by their sum.
    #[test]
    fn oauth_timeouts_bound_the_token_request() {
        use conflux_artifacts::local_entry::OAuthTimeouts;
        assert_eq!(token_timeout(&OAuthTimeouts::default()), None);
        let t = OAuthTimeouts {
            connect_ms: Some(100),
            connection_request_ms: None,
            socket_ms: Some(2000),
        };
        assert_eq!(token_timeout(&t), Some(Duration::from_millis(2100)));
        let huge = OAuthTimeouts {
            connect_ms: Some(u64::MAX),
            connection_request_ms: Some(1),
            socket_ms: None,
        };
        assert_eq!(token_timeout(&huge), Some(Duration::from_millis(u64::MAX)));
        let d = deployed(
            &format!("{BASE}<authType>OAuth</authType><oauthGrantType>Client Credentials</oauthGrantType>
<clientId>app</clientId><clientSecret>pw</clientSecret><tokenUrl>http://idp:8080/token</tokenUrl>
<oauthConnectionTimeout>250</oauthConnectionTimeout><oauthSocketTimeout>750</oauthSocketTimeout>"),
            r#"<http.get configKey="Conn"/><respond/>"#,
        );
        let seq = d.apis[0].resources[0].in_sequence.clone().unwrap();
        let Mediator::HttpConnector(op) = &seq.mediators[0] else {
            panic!("{:?}", seq.mediators[0])
        };
        let Auth::OAuth(oauth) = &op.connection.auth else {
            panic!("{:?}", op.connection.auth)
        };
        assert_eq!(
            oauth.token_endpoint.timeout,
            Some(Duration::from_millis(1000))
        );
    }

    #[tokio::test]
    async fn a_failing_token_endpoint_faults_with_303003() {
        struct NoToken(Backend);
        impl Sender<B> for NoToken {
            fn send<'a>(
                &'a self,
                endpoint: &'a Endpoint,
                request: Request<B>,
            ) -> SendFuture<'a, B> {
                if endpoint.name.ends_with("_OAUTH_TOKEN") {
                    return Box::pin(async {
                        let mut r = Response::new(B::from("denied"));
                        *r.status_mut() = StatusCode::UNAUTHORIZED;
                        Ok(r)
                    });
                }
                self.0.send(endpoint, request)
            }
        }
        let d = deployed(
            &format!("{BASE}<authType>OAuth</authType><oauthGrantType>Client Credentials</oauthGrantType>
<clientId>app</clientId><clientSecret>pw</clientSecret><tokenUrl>http://idp:8080/token</tokenUrl>"),
            r#"<http.get configKey="Conn"/><respond/>"#,
        );
        let backend = NoToken(Backend::new(200, "application/json", "{}"));
        let (_, _, body) = request(&d, &backend, "GET", "/a/x", None, "").await;
        assert!(body.starts_with("fault 303003: Could not generate access token for oauth configured http endpoint Conn_INTERNAL_ENDPOINT_REFERENCE. Error while accessing the Token URL. HTTP 401 Unauthorized: denied"), "{body}");
        assert!(backend.0.calls_to_api().is_empty());
    }

    /// Runs the API's first mediator (an operation) on a JSON request, returning the context.
    async fn run_operation(
        d: &Deployment,
        backend: &Backend,
        request_body: &'static str,
    ) -> MessageContext<B> {
        let seq = d.apis[0].resources[0].in_sequence.clone().unwrap();
        let Mediator::HttpConnector(op) = &seq.mediators[0] else {
            panic!("{:?}", seq.mediators[0])
        };
        let engine = Engine {
            sequences: &d.sequences,
            templates: &d.templates,
            sender: backend,
            keep_request_headers: false,
            max_message_bytes: crate::runtime::payload::DEFAULT_MAX_MESSAGE_BYTES,
            max_inflight_branches: crate::runtime::limits::DEFAULT_MAX_INFLIGHT_BRANCHES,
            attached: &Default::default(),
        };
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert("x-client", HeaderValue::from_static("mine"));
        let mut ctx = MessageContext::new(
            Method::POST,
            Uri::from_static("/a/x"),
            headers,
            B::from(request_body),
            "api:A".into(),
        );
        if op.needs_payload() {
            ctx.build_payload(engine.max_message_bytes).await.unwrap();
        }
        assert!(matches!(
            op.run(&engine, &mut ctx).await,
            Ok(Outcome::Continue)
        ));
        ctx
    }

    // InvokeMediator.prepareForMediation / postMediate / processConnectorResponse, Target.java
    // (enrich to a variable) and MediatorEnrichUtil.populateTransportAttributes: with
    // overwriteBody false the message is restored and the variable holds the reply's payload,
    // headers and status code; with overwriteBody true the reply is the message and the
    // variable has no payload.
    #[tokio::test]
    async fn response_variable_with_overwrite_body_false_and_true() {
        let backend = Backend::new(404, "application/json", r#"{"error":"no such post"}"#);
        let d = deployed(
            BASE,
            r#"<http.get configKey="Conn"><relativePath>/posts/9</relativePath><responseVariable>r</responseVariable><overwriteBody>false</overwriteBody></http.get>"#,
        );
        let mut ctx = run_operation(&d, &backend, r#"{"original":true}"#).await;
        assert_eq!(
            ctx.variables["r"],
            ExprValue::Json(serde_json::json!({
                "payload": {"error": "no such post"},
                "headers": {"Content-Type": "application/json", "X-Backend": "fake"},
                "attributes": {"statusCode": 404}
            }))
        );
        // The request as it was: body, content type, the client's headers.
        assert_eq!(
            ctx.payload,
            Some(Payload::Json(serde_json::json!({"original": true}).into()))
        );
        assert_eq!(ctx.headers["x-client"], "mine");
        assert_eq!(ctx.headers[CONTENT_TYPE], "application/json");
        assert!(!ctx.properties.contains_key("uri.var.base"));
        assert!(!ctx.axis2.contains_key(props::HTTP_METHOD));
        let body = ctx
            .take_outgoing_body()
            .unwrap()
            .collect()
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(body, Bytes::from(r#"{"original":true}"#));

        let d = deployed(
            BASE,
            r#"<http.get configKey="Conn"><relativePath>/posts/9</relativePath><responseVariable>r</responseVariable><overwriteBody>true</overwriteBody></http.get>"#,
        );
        let ctx = run_operation(&d, &backend, r#"{"original":true}"#).await;
        assert_eq!(
            ctx.variables["r"],
            ExprValue::Json(serde_json::json!({
                "headers": {"Content-Type": "application/json", "X-Backend": "fake"},
                "attributes": {"statusCode": 404}
            }))
        );
        assert_eq!(ctx.status, StatusCode::NOT_FOUND);
        assert!(ctx.headers.contains_key("x-backend"));

        // An XML reply is held as its first element.
        let backend = Backend::new(200, "application/xml", "<order><id>7</id></order>");
        let d = deployed(
            BASE,
            r#"<http.get configKey="Conn"><responseVariable>x</responseVariable><overwriteBody>false</overwriteBody></http.get>"#,
        );
        let ctx = run_operation(&d, &backend, "{}").await;
        let ExprValue::Json(x) = &ctx.variables["x"] else {
            panic!("{:?}", ctx.variables["x"])
        };
        assert_eq!(x["payload"], "<order><id>7</id></order>");
    }

    // A 4xx/5xx reply is a reply (the template's <call> is non-blocking): the flow goes on and
    // the client gets the backend's status.
    #[tokio::test]
    async fn an_error_status_is_a_reply_not_a_fault() {
        let d = deployed(
            BASE,
            r#"<http.delete configKey="Conn"><relativePath>/posts/1</relativePath></http.delete><respond/>"#,
        );
        let backend = Backend::new(500, "application/json", r#"{"e":1}"#);
        let (status, _, body) = request(&d, &backend, "GET", "/a/x", None, "").await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::INTERNAL_SERVER_ERROR, r#"{"e":1}"#)
        );
        assert_eq!(backend.calls_to_api()[0].method, "DELETE");
    }

    // The connection's suspend*/retry* settings are the endpoint's suspendOnFailure /
    // markForSuspension (HTTPConnectionUtils); a failed send runs the fault sequence with the
    // error code, and while the endpoint is suspended the next call fails with 303001 without
    // reaching the backend.
    #[tokio::test]
    async fn a_suspended_connection_endpoint_faults_without_calling_the_backend() {
        let d = deployed(
            &format!(
                "{BASE}<suspendErrorCodes>101503</suspendErrorCodes><suspendInitialDuration>5000</suspendInitialDuration><suspendProgressionFactor>2</suspendProgressionFactor><retryErrorCodes>101504</retryErrorCodes><retryCount>1</retryCount><timeoutDuration>2000</timeoutDuration><timeoutAction>Fault</timeoutAction>"
            ),
            r#"<http.get configKey="Conn"/><respond/>"#,
        );
        let endpoint = &d.named_endpoints["Conn_INTERNAL_ENDPOINT_REFERENCE"];
        assert_eq!(endpoint.suspension.suspend_error_codes, vec![101503]);
        assert_eq!(endpoint.suspension.initial_duration_ms, Some(5000));
        assert_eq!(endpoint.suspension.progression_factor, Some(2.0));
        assert_eq!(endpoint.suspension.timeout_error_codes, vec![101504]);
        assert_eq!(endpoint.suspension.retries_before_suspension, 1);
        assert_eq!(endpoint.timeout, Some(Duration::from_millis(2000)));
        assert_eq!(endpoint.timeout_action, TimeoutAction::Fault);

        let mut backend = Backend::new(200, "application/json", "{}");
        backend.down = true;
        let (_, _, body) = request(&d, &backend, "GET", "/a/x", None, "").await;
        assert_eq!(body, "fault 101503: Connection refused");
        let (_, _, body) = request(&d, &backend, "GET", "/a/x", None, "").await;
        assert_eq!(
            body,
            "fault 303001: Currently , Address endpoint : [ Name : Conn_INTERNAL_ENDPOINT_REFERENCE ] [ State : SUSPENDED ]"
        );
        assert_eq!(backend.calls_to_api().len(), 1);
    }

    fn compile_errors(entry: &str, operations: &str) -> Vec<String> {
        let (_, errors) = deploy(&[
            ("local-entries/Conn.xml", entry),
            ("api/A.xml", &api(operations)),
        ]);
        errors.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn operations_that_cannot_run_do_not_deploy_and_say_where() {
        let conn = connection(BASE);
        let e = compile_errors(&conn, r#"<http.get configKey="Other"/>"#);
        assert_eq!(
            e,
            [
                "http.get configKey Other: no HTTP connection of that key is deployed (a local entry local-entries/Other.xml holding <http.init>) at api/A.xml:2:11"
            ]
        );
        let e = compile_errors(
            &conn,
            r#"<http.get configKey="Conn"><headers>[["Accept" "x"]]</headers></http.get>"#,
        );
        assert!(e[0].starts_with(r#"http.get headers: "[[\"Accept\" \"x\"]]": Expected a ',' or ']' at character 12 (expected a JSON array"#), "{e:?}");
        assert!(e[0].ends_with("at api/A.xml:2:28"), "{e:?}");
        let e = compile_errors(
            &conn,
            r#"<http.post configKey="Conn"><requestBodyType>json</requestBodyType></http.post>"#,
        );
        assert!(
            e[0].starts_with("http.post requestBodyType \"json\": expected JSON, XML or TEXT"),
            "{e:?}"
        );
        let e = compile_errors(
            &conn,
            r#"<http.post configKey="Conn"><forceHttp10>true</forceHttp10></http.post>"#,
        );
        assert!(e[0].starts_with("unsupported http.post parameter <forceHttp10> (it sets the axis2 property FORCE_HTTP_1.0"), "{e:?}");
        assert!(
            compile_errors(
                &conn,
                r#"<http.post configKey="Conn"><forceHttp10>false</forceHttp10></http.post>"#
            )
            .is_empty()
        );
        let e = compile_errors(
            &conn,
            r#"<http.post configKey="Conn"><requestBodyType>JSON</requestBodyType><requestBodyJson>{"a":1}</requestBodyJson></http.post>"#,
        );
        assert!(
            e[0].starts_with("<requestBodyJson>: {\"a\":1} is read as an expression"),
            "{e:?}"
        );
        // A local entry that is not a connection.
        let text = format!(r#"<localEntry xmlns="{NS}" key="Conn">just text</localEntry>"#);
        let e = compile_errors(&text, r#"<http.get configKey="Conn"/>"#);
        assert!(
            e[0].contains("that local entry is not an HTTP connection"),
            "{e:?}"
        );

        // Two connections with one <name>: the second endpoint clashes.
        let second = format!(
            r#"<localEntry xmlns="{NS}" key="Conn2"><http.init><name>Conn</name>{BASE}</http.init></localEntry>"#
        );
        let (d, errors) = deploy(&[
            ("local-entries/Conn.xml", &conn),
            ("local-entries/Conn2.xml", &second),
            ("api/A.xml", &api(r#"<http.get configKey="Conn2"/>"#)),
        ]);
        let errors: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].contains("endpoint Conn_INTERNAL_ENDPOINT_REFERENCE is already deployed"),
            "{errors:?}"
        );
        assert!(
            errors[1].contains("configKey Conn2: the connection did not deploy"),
            "{errors:?}"
        );
        assert!(d.apis.is_empty());

        // A body on a GET is ignored, as MI ignores parameters its template does not declare.
        let (d, errors) = deploy(&[
            ("local-entries/Conn.xml", &conn),
            (
                "api/A.xml",
                &api(
                    r#"<http.get configKey="Conn"><requestBodyType>JSON</requestBodyType></http.get>"#,
                ),
            ),
        ]);
        assert!(errors.is_empty());
        assert!(
            d.warnings
                .iter()
                .any(|w| w.starts_with("http.get has no request body")),
            "{:?}",
            d.warnings
        );
    }

    fn api_at(template: &str, operations: &str) -> String {
        format!(
            r#"<api xmlns="{NS}" name="A" context="/a"><resource methods="GET POST" uri-template="{template}"><inSequence>
{operations}
</inSequence></resource></api>"#
        )
    }

    fn deployed_at(template: &str, operations: &str) -> Deployment {
        let (d, errors) = deploy(&[
            ("local-entries/Conn.xml", &connection(BASE)),
            ("api/A.xml", &api_at(template, operations)),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        d
    }

    // RestURLBuilder: relativePath and headers through
    // InlineExpressionUtil.processInLineSynapseExpressionTemplate (TestRestURLBuilder
    // testResolveUrlWithInlineExpressions: "/books/${vars.id}/author/${vars.name}"), with path
    // and query parameters, a header and the payload; an expression that cannot be evaluated is
    // empty (TestRestURLBuilder: "/books/${vars.id}" without the variable gives "/books/").
    #[tokio::test]
    async fn path_query_and_headers_are_rendered_from_expressions() {
        let d = deployed_at(
            "/posts/{id}?q={q}",
            r#"<http.get configKey="Conn">
  <relativePath>/posts/${params.pathParams.id}/${vars.missing}?q=${params.queryParams.q}&amp;n=${length(payload.items)}</relativePath>
  <headers>[["X-Trace","${headers.X-Trace}"],{"X-First":"${payload.items[0]}"}]</headers>
</http.get><respond/>"#,
        );
        let backend = Backend::new(200, "application/json", "{}");
        let request = Request::post("/a/posts/17?q=rust")
            .header(CONTENT_TYPE, "application/json")
            .header("X-Trace", "t-1")
            .header(http::header::CONTENT_LENGTH, 21)
            .body(B::from(r#"{"items":["a","b",3]}"#))
            .unwrap();
        let response = d.handle(&backend, request, Protocol::Http).await;
        assert_eq!(response.status(), StatusCode::OK);
        let call = &backend.calls_to_api()[0];
        assert_eq!(call.uri, "http://backend:9000/api/posts/17/?q=rust&n=3");
        assert_eq!(call.headers["x-trace"], "t-1");
        assert_eq!(call.headers["x-first"], "a");
    }

    // requestBodyJson as inline JSON with ${} (RestURLBuilder.handlePayload, v0.1.9+) and as
    // {${payload}} (ValueFactory: a SynapseExpression, stringValueOf = compact JSON);
    // requestBodyXml {${xpath('$body/node()')}} (the connector UI's default) on an XML request.
    #[tokio::test]
    async fn request_bodies_from_templates_and_expressions() {
        let d = deployed_at(
            "/*",
            r#"<filter source="get-property('To')" regex=".*inline.*"><then>
  <http.post configKey="Conn"><relativePath>inline</relativePath><requestBodyType>JSON</requestBodyType>
    <requestBodyJson>
      {"name": "${payload.name}", "count": ${payload.n + 1}}
    </requestBodyJson></http.post>
</then><else><filter source="get-property('To')" regex=".*whole.*"><then>
  <http.post configKey="Conn"><relativePath>whole</relativePath><requestBodyType>JSON</requestBodyType>
    <requestBodyJson>{${payload}}</requestBodyJson></http.post>
</then><else>
  <http.post configKey="Conn"><relativePath>xml</relativePath><requestBodyType>XML</requestBodyType>
    <requestBodyXml>{${xpath('$body/node()')}}</requestBodyXml></http.post>
</else></filter></else></filter><respond/>"#,
        );
        let backend = Backend::new(200, "text/plain", "ok");
        let json = r#"{"name": "Ada", "n": 41}"#;
        request(
            &d,
            &backend,
            "POST",
            "/a/inline",
            Some("application/json"),
            json,
        )
        .await;
        request(
            &d,
            &backend,
            "POST",
            "/a/whole",
            Some("application/json"),
            json,
        )
        .await;
        request(
            &d,
            &backend,
            "POST",
            "/a/xml",
            Some("application/xml"),
            "<order><id>7</id></order>",
        )
        .await;
        let bodies: Vec<(String, String)> = backend
            .calls_to_api()
            .into_iter()
            .map(|c| {
                (
                    c.headers[CONTENT_TYPE].to_str().unwrap().to_string(),
                    c.body,
                )
            })
            .collect();
        assert_eq!(bodies[0].0, "application/json");
        let sent: serde_json::Value = serde_json::from_str(&bodies[0].1).unwrap();
        assert_eq!(sent, serde_json::json!({"name": "Ada", "count": 42}));
        assert_eq!(
            bodies[1],
            ("application/json".into(), r#"{"name":"Ada","n":41}"#.into())
        );
        assert_eq!(
            bodies[2],
            ("application/xml".into(), "<order><id>7</id></order>".into())
        );
    }

    // The response variable is a map variable (ExpressionUtils / PayloadAccessNode VARIABLE):
    // vars.r.payload.<path>, vars.r.headers["Content-Type"], vars.r.attributes.statusCode, read
    // here by the next operation's path and headers.
    #[tokio::test]
    async fn a_response_variable_is_read_by_expressions() {
        let d = deployed_at(
            "/*",
            r#"<http.get configKey="Conn"><relativePath>/posts/1</relativePath>
  <responseVariable>post</responseVariable><overwriteBody>false</overwriteBody></http.get>
<http.get configKey="Conn"><relativePath>/users/${vars.post.payload.userId}</relativePath>
  <headers>[["X-Status","${vars.post.attributes.statusCode}"],["X-Type","${vars.post.headers["Content-Type"]}"]]</headers>
  <responseVariable>user</responseVariable><overwriteBody>true</overwriteBody></http.get>
<respond/>"#,
        );
        let backend = Backend::new(200, "application/json", "{}");
        *backend.reply.lock().unwrap() = vec![
            (201, "application/json", r#"{"id":1,"userId":9}"#),
            (200, "application/json", r#"{"name":"Bret"}"#),
        ];
        let (status, _, body) = request(&d, &backend, "GET", "/a/x", None, "").await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, r#"{"name":"Bret"}"#)
        );
        let calls = backend.calls_to_api();
        assert_eq!(calls[1].uri, "http://backend:9000/api/users/9");
        assert_eq!(calls[1].headers["x-status"], "201");
        assert_eq!(calls[1].headers["x-type"], "application/json");
    }

    #[test]
    fn a_bad_expression_in_a_parameter_is_a_located_deploy_error() {
        let (_, errors) = deploy(&[
            ("local-entries/Conn.xml", &connection(BASE)),
            (
                "api/A.xml",
                &api(
                    r#"<http.get configKey="Conn"><relativePath>/x/${payload.}</relativePath></http.get>"#,
                ),
            ),
        ]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        let e = errors[0].to_string();
        assert!(e.starts_with("<relativePath>: "), "{e}");
        assert!(e.contains("of \"payload.\""), "{e}");
        assert!(e.ends_with("at api/A.xml:2:28"), "{e}");
        let (_, errors) = deploy(&[
            ("local-entries/Conn.xml", &connection(BASE)),
            (
                "api/A.xml",
                &api(
                    r#"<http.post configKey="Conn"><requestBodyType>JSON</requestBodyType><requestBodyJson>{${5-3}}</requestBodyJson></http.post>"#,
                ),
            ),
        ]);
        assert!(
            errors[0].to_string().starts_with("<requestBodyJson>: "),
            "{errors:?}"
        );
    }

    // AuthConstants.TOKEN_CACHE_TIMEOUT (3000 s) is the longest a token is kept; a server's
    // expires_in shortens it by the margin.
    #[test]
    fn tokens_are_cached_for_expires_in_less_the_margin_at_most_3000_s() {
        assert_eq!(token_ttl(None), MAX_TOKEN_CACHE_SECS);
        assert_eq!(
            token_ttl(Some(MAX_TOKEN_CACHE_SECS + TOKEN_EXPIRY_MARGIN_SECS)),
            MAX_TOKEN_CACHE_SECS
        );
        assert_eq!(
            token_ttl(Some(MAX_TOKEN_CACHE_SECS + TOKEN_EXPIRY_MARGIN_SECS + 1)),
            MAX_TOKEN_CACHE_SECS
        );
        assert_eq!(token_ttl(Some(3600)), MAX_TOKEN_CACHE_SECS);
        assert_eq!(token_ttl(Some(70)), 60);
        assert_eq!(token_ttl(Some(TOKEN_EXPIRY_MARGIN_SECS)), 0);
    }

    #[test]
    fn the_token_cache_holds_at_most_max_cached_tokens() {
        let now = Instant::now();
        let mut cache = HashMap::new();
        for i in 0..MAX_CACHED_TOKENS {
            remember(&mut cache, format!("k{i}"), "t", 60, now);
        }
        assert_eq!(cache.len(), MAX_CACHED_TOKENS);
        // Replacing a key that is there keeps the others.
        remember(&mut cache, "k0".into(), "t2", 60, now);
        assert_eq!(cache.len(), MAX_CACHED_TOKENS);
        // One more: nothing has expired, so the cache starts over.
        remember(&mut cache, "new".into(), "t", 60, now);
        assert_eq!(cache.len(), 1);
        // Expired tokens go first.
        let mut cache = HashMap::new();
        for i in 0..MAX_CACHED_TOKENS {
            remember(
                &mut cache,
                format!("k{i}"),
                "t",
                if i == 0 { 0 } else { 60 },
                now,
            );
        }
        remember(
            &mut cache,
            "new".into(),
            "t",
            60,
            now + Duration::from_secs(1),
        );
        assert_eq!(cache.len(), MAX_CACHED_TOKENS);
        assert!(!cache.contains_key("k0"));
    }
}
