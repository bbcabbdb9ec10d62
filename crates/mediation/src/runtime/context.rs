//! The message context: the current message (request or response: method, URI, transport headers,
//! body, status) and the properties mediators read and write, in MI's scopes.
//!
//! Scopes (synapse-subset.md §3.9): `default` survives from request to response; `axis2` belongs to
//! the current message (`HTTP_SC`, `messageType`, `ContentType`, `REST_URL_POSTFIX`,
//! `NO_ENTITY_BODY`, `HTTP_METHOD`); `transport` is the current message's HTTP headers.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};

use crate::runtime::body::MessageBody;
use crate::runtime::fault::FaultFormat;

/// Well-known axis2-scope property names.
pub mod props {
    pub const REST_URL_POSTFIX: &str = "REST_URL_POSTFIX";
    pub const HTTP_SC: &str = "HTTP_SC";
    pub const HTTP_SC_DESC: &str = "HTTP_SC_DESC";
    pub const MESSAGE_TYPE: &str = "messageType";
    pub const CONTENT_TYPE: &str = "ContentType";
    pub const NO_ENTITY_BODY: &str = "NO_ENTITY_BODY";
    pub const HTTP_METHOD: &str = "HTTP_METHOD";
    pub const FORCE_SC_ACCEPTED: &str = "FORCE_SC_ACCEPTED";
    /// Default scope: do not wait for a reply.
    pub const OUT_ONLY: &str = "OUT_ONLY";
    /// Default scope: treat the message as a response (legacy echo idiom).
    pub const RESPONSE: &str = "RESPONSE";
    pub const ERROR_CODE: &str = "ERROR_CODE";
    pub const ERROR_MESSAGE: &str = "ERROR_MESSAGE";
    pub const ERROR_DETAIL: &str = "ERROR_DETAIL";
    pub const ERROR_EXCEPTION: &str = "ERROR_EXCEPTION";
}

/// Where a property lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Default,
    Axis2,
    Transport,
}

/// The message being mediated and its properties.
pub struct MessageContext<B> {
    /// The client's request method (the outgoing method unless `HTTP_METHOD` says otherwise).
    pub method: Method,
    /// The client's request URI (path and query).
    pub uri: Uri,
    /// Transport headers of the current message.
    pub headers: HeaderMap,
    /// Body of the current message.
    pub body: B,
    /// Status of the current message when it is a response.
    pub status: StatusCode,
    /// Whether the current message is a response (after send/call/loopback).
    pub is_response: bool,
    /// `default` scope.
    pub properties: HashMap<String, String>,
    /// `axis2` scope.
    pub axis2: HashMap<String, String>,
    /// Sequence number of this message in the process; formatted as MI's `urn:uuid:` id only when
    /// something asks for it ([`MessageContext::message_id`]), which keeps formatting off the
    /// pass-through path.
    sequence: u64,
    /// `api:NAME` or `proxy:NAME`, the prefix of log mediator lines.
    pub artifact: Arc<str>,
    /// Headers set by mediators: what a request turned into a response (respond) carries back.
    pub headers_set: Vec<HeaderName>,
    /// How the client wants an unhandled fault reported, judged from its request.
    pub fault_format: FaultFormat,
}

impl<B: MessageBody> MessageContext<B> {
    pub fn new(method: Method, uri: Uri, headers: HeaderMap, body: B, artifact: Arc<str>) -> Self {
        let fault_format = FaultFormat::for_request(&headers);
        MessageContext {
            method,
            uri,
            headers,
            body,
            status: StatusCode::OK,
            is_response: false,
            properties: HashMap::new(),
            axis2: HashMap::new(),
            sequence: MESSAGE_COUNTER.fetch_add(1, Ordering::Relaxed),
            artifact,
            headers_set: Vec::new(),
            fault_format,
        }
    }

    pub fn get(&self, scope: Scope, name: &str) -> Option<String> {
        match scope {
            Scope::Default => self.properties.get(name).cloned(),
            Scope::Axis2 => self.axis2.get(name).cloned(),
            Scope::Transport => self
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        }
    }

    /// Sets a property. A transport-scope value that is not a valid header is reported.
    pub fn set(&mut self, scope: Scope, name: &str, value: String) -> Result<(), String> {
        match scope {
            Scope::Default => {
                self.properties.insert(name.to_string(), value);
            }
            Scope::Axis2 => {
                self.axis2.insert(name.to_string(), value);
            }
            Scope::Transport => {
                let name =
                    HeaderName::try_from(name).map_err(|e| format!("header name {name:?}: {e}"))?;
                let value = HeaderValue::try_from(value)
                    .map_err(|e| format!("header {name} value: {e}"))?;
                if !self.headers_set.contains(&name) {
                    self.headers_set.push(name.clone());
                }
                self.headers.insert(name, value);
            }
        }
        Ok(())
    }

    pub fn remove(&mut self, scope: Scope, name: &str) {
        match scope {
            Scope::Default => {
                self.properties.remove(name);
            }
            Scope::Axis2 => {
                self.axis2.remove(name);
            }
            Scope::Transport => {
                self.headers.remove(name);
            }
        }
    }

    pub fn is_true(&self, scope: Scope, name: &str) -> bool {
        self.get(scope, name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Replaces the current message's body.
    pub fn set_body(&mut self, body: B) {
        self.body = body;
    }

    /// Takes the body out, leaving an empty one.
    pub fn take_body(&mut self) -> B {
        std::mem::take(&mut self.body)
    }

    /// MI's `To` of the current request: the request path as received.
    pub fn to(&self) -> &str {
        self.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    }
}

/// Counts messages in this process.
static MESSAGE_COUNTER: AtomicU64 = AtomicU64::new(0);

impl<B> MessageContext<B> {
    /// MI's `urn:uuid:` message id: random per process, then the message's sequence number.
    pub fn message_id(&self) -> String {
        static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        let seed = *SEED.get_or_init(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            t ^ (u64::from(std::process::id()) << 32)
        });
        let n = self.sequence;
        format!(
            "urn:uuid:{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (seed >> 32) as u32,
            (seed >> 16) as u16,
            (seed & 0xfff) as u16,
            (n >> 48) as u16 & 0xfff,
            n & 0xffff_ffff_ffff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> MessageContext<http_body_util::Full<bytes::Bytes>> {
        MessageContext::new(
            Method::GET,
            Uri::from_static("/a?b=1"),
            HeaderMap::new(),
            Default::default(),
            "api:A".into(),
        )
    }

    #[test]
    fn scopes_are_separate_and_transport_is_headers() {
        let mut c = ctx();
        c.set(Scope::Default, "x", "1".into()).unwrap();
        c.set(Scope::Axis2, "x", "2".into()).unwrap();
        c.set(Scope::Transport, "X-Test", "3".into()).unwrap();
        assert_eq!(c.get(Scope::Default, "x").as_deref(), Some("1"));
        assert_eq!(c.get(Scope::Axis2, "x").as_deref(), Some("2"));
        assert_eq!(c.get(Scope::Transport, "x-test").as_deref(), Some("3"));
        c.remove(Scope::Transport, "X-TEST");
        assert!(c.get(Scope::Transport, "x-test").is_none());
        assert!(c.set(Scope::Transport, "bad header", "v".into()).is_err());
    }

    #[test]
    fn message_ids_are_unique_and_uuid_shaped() {
        let a = ctx().message_id();
        let b = ctx().message_id();
        assert_ne!(a, b);
        assert!(a.starts_with("urn:uuid:") && a.len() == 45, "{a}");
    }
}
