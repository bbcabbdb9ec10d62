//! One immutable snapshot of what is deployed (APIs with their dispatch table, proxy services,
//! named sequences and endpoints), and [`Deployment::handle`], which takes a client request to its
//! answer: dispatch (proxy service by `/services/NAME`, else API by context and resource, else the
//! `main` sequence), the properties MI sets on a dispatched message, then the engine.
//!
//! A hot redeploy builds a new snapshot and swaps it in; requests in flight keep the old one.

use std::collections::HashMap;
use std::sync::Arc;

use http::header::{ALLOW, HeaderValue};
use http::{Request, Response, StatusCode};

use crate::dispatch::{ApiDispatch, ApiTable, Protocol, ProxyTable, RequestHead};
use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope, props};
use crate::runtime::endpoint::{Endpoint, Sender};
use crate::runtime::engine::{Engine, Route, Sequence};

/// The routes of one deployed API, in resource order.
#[derive(Debug, Clone)]
pub struct DeployedApi {
    pub name: String,
    pub context: String,
    pub version: Option<String>,
    pub resources: Vec<Route>,
}

/// Everything deployed, ready to serve.
#[derive(Debug)]
pub struct Deployment {
    pub api_table: ApiTable,
    /// Indexed like the APIs of `api_table`.
    pub apis: Vec<DeployedApi>,
    pub proxy_table: ProxyTable,
    /// Indexed like the names of `proxy_table`.
    pub proxies: Vec<Route>,
    pub sequences: HashMap<String, Arc<Sequence>>,
    /// Every endpoint definition, named and inline, indexed by `Endpoint::id`.
    pub endpoints: Vec<Arc<Endpoint>>,
    pub named_endpoints: HashMap<String, Arc<Endpoint>>,
    /// Artifacts that failed to deploy, as `file:line:column: reason`.
    pub failures: Vec<String>,
}

impl Deployment {
    /// Nothing deployed: every request gets MI's "no API matched" answer.
    pub fn empty() -> Deployment {
        Deployment {
            api_table: ApiTable::default(),
            apis: Vec::new(),
            proxy_table: ProxyTable::build(Vec::new()),
            proxies: Vec::new(),
            sequences: HashMap::new(),
            endpoints: Vec::new(),
            named_endpoints: HashMap::new(),
            failures: Vec::new(),
        }
    }

    /// Mediates one request to the client's answer.
    pub async fn handle<B: MessageBody>(
        &self,
        sender: &dyn Sender<B>,
        request: Request<B>,
        scheme: Protocol,
    ) -> Response<B> {
        let (parts, body) = request.into_parts();
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .to_string();
        let engine = Engine {
            sequences: &self.sequences,
            sender,
        };

        if let Some(proxy) = self.proxy_table.dispatch(&path_and_query)
            && let Some(route) = self.proxies.get(proxy.proxy)
        {
            let postfix = proxy.rest_url_postfix.to_string();
            let mut ctx = MessageContext::new(
                parts.method,
                parts.uri,
                parts.headers,
                body,
                route.artifact.clone(),
            );
            ctx.axis2.insert(props::REST_URL_POSTFIX.into(), postfix);
            set_no_entity_body(&mut ctx);
            return engine.mediate(route, ctx).await;
        }

        let head = RequestHead {
            method: &parts.method,
            path_and_query: &path_and_query,
            host: parts
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok()),
            scheme,
            content_type: parts
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|h| h.to_str().ok()),
            user_agent: parts
                .headers
                .get(http::header::USER_AGENT)
                .and_then(|h| h.to_str().ok()),
            max_forwards: parts
                .headers
                .get("max-forwards")
                .and_then(|h| h.to_str().ok()),
            has_body: has_body(&parts.headers),
        };
        match self.api_table.dispatch(&head) {
            ApiDispatch::Matched(m) => {
                let api = &self.apis[m.api];
                let route = &api.resources[m.resource];
                let mut ctx = MessageContext::new(
                    parts.method,
                    parts.uri,
                    parts.headers,
                    body,
                    route.artifact.clone(),
                );
                // Properties MI sets on a dispatched REST request (SYN api/API.java, Resource.java).
                for (name, value) in &m.uri_vars {
                    ctx.properties
                        .insert(format!("uri.var.{name}"), value.clone());
                }
                for (name, value) in &m.query_params {
                    ctx.properties
                        .insert(format!("query.param.{name}"), value.clone());
                }
                ctx.properties
                    .insert("REST_API_CONTEXT".into(), api.context.clone());
                ctx.properties
                    .insert("SYNAPSE_REST_API".into(), api.name.clone());
                if let Some(v) = &api.version {
                    ctx.properties
                        .insert("SYNAPSE_REST_API_VERSION".into(), v.clone());
                }
                ctx.properties
                    .insert("REST_FULL_REQUEST_PATH".into(), m.full_path.clone());
                ctx.properties
                    .insert("REST_SUB_REQUEST_PATH".into(), m.sub_path.clone());
                ctx.properties
                    .insert("REST_METHOD".into(), ctx.method.as_str().to_string());
                ctx.axis2
                    .insert(props::REST_URL_POSTFIX.into(), m.rest_url_postfix.clone());
                set_no_entity_body(&mut ctx);
                engine.mediate(route, ctx).await
            }
            ApiDispatch::NoResource { status, .. } => {
                status_only(StatusCode::from_u16(status).unwrap_or(StatusCode::NOT_FOUND))
            }
            ApiDispatch::Options { allow, .. } => {
                let mut r = status_only::<B>(StatusCode::OK);
                if let Ok(v) = HeaderValue::try_from(allow) {
                    r.headers_mut().insert(ALLOW, v);
                }
                r
            }
            // A malformed %-escape Java's URLDecoder rejects: MI answers 400.
            ApiDispatch::BadRequest { .. } => status_only(StatusCode::BAD_REQUEST),
            ApiDispatch::NoApi => match self.sequences.get("main") {
                Some(main) => {
                    let route = Route {
                        artifact: "sequence:main".into(),
                        in_sequence: Some(main.clone()),
                        ..Route::default()
                    };
                    let ctx = MessageContext::new(
                        parts.method,
                        parts.uri,
                        parts.headers,
                        body,
                        route.artifact.clone(),
                    );
                    engine.mediate(&route, ctx).await
                }
                // MI's shipped main sequence: 404 with no body.
                None => status_only(StatusCode::NOT_FOUND),
            },
        }
    }
}

/// MI's listener sets NO_ENTITY_BODY when the request has no body (e.g. a GET).
fn set_no_entity_body<B: MessageBody>(ctx: &mut MessageContext<B>) {
    if !has_body(&ctx.headers) {
        let _ = ctx.set(Scope::Axis2, props::NO_ENTITY_BODY, "true".into());
    }
}

fn has_body(headers: &http::HeaderMap) -> bool {
    headers.contains_key(http::header::TRANSFER_ENCODING)
        || headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

fn status_only<B: MessageBody>(status: StatusCode) -> Response<B> {
    let mut r = Response::new(B::default());
    *r.status_mut() = status;
    r
}
