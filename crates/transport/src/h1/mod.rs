//! The Conflux HTTP/1 engine (`[transport] http1_engine = "conflux"`): a purpose-built driver for
//! plain-HTTP/1 pass-through client connections (issue 22). One task owns a client connection
//! and the backend connection it forwards to; request heads are parsed in place into one reused
//! buffer ([`head`]), the head's lines go to the backend with only the hop-by-hop lines and
//! `Host` edited, head and body in one vectored write, and bodies are framed without being
//! decoded into frames ([`body`]). Both heads come out as hyper's path writes them from an http
//! `HeaderMap`: names lower-case, one name's values together, a removed name's place taken by the
//! last name (conn.rs `in_map_order`). Idle backend connections are pooled for the process, as
//! hyper's client pools them ([`backend`]).
//!
//! Only requests a [`Router`] calls a direct forward, and that are plain HTTP/1.1 (a body framed
//! by `Content-Length` or chunked), take this path; the first request that is anything else
//! (another route, a refused head, `Expect`, `Upgrade`, HTTP/1.0, ...) hands the connection,
//! with the bytes already read ([`rewind`]), to the hyper server for the rest of its life. So the
//! new path never answers a request differently from hyper's: it only answers the requests it
//! fully understands, the same way, down to the order of the response's header lines. TLS and
//! h2 connections never come here. The deployment's router is the conflux crate's `h1_router`.

pub mod backend;
pub mod body;
pub mod conn;
pub mod head;
mod lines;
pub mod rewind;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::server::ConnInfo;

pub use head::RequestHead;

/// A request as the router sees it: the parsed head over the bytes it was parsed from.
pub struct RequestView<'a> {
    buf: &'a [u8],
    head: &'a RequestHead,
}

impl<'a> RequestView<'a> {
    pub(crate) fn new(buf: &'a [u8], head: &'a RequestHead) -> Self {
        Self { buf, head }
    }

    /// The method, as received.
    pub fn method(&self) -> &'a [u8] {
        &self.buf[self.head.method.clone()]
    }

    /// The request-target (origin form: path and query).
    pub fn target(&self) -> &'a str {
        std::str::from_utf8(&self.buf[self.head.target.clone()]).unwrap_or("")
    }

    /// The first value of the header `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.head
            .headers
            .iter()
            .find(|h| self.buf[h.name.clone()].eq_ignore_ascii_case(name.as_bytes()))
            .map(|h| &self.buf[h.value.clone()])
    }

    /// The body's length when it is framed by `Content-Length` (`None`: chunked, or no body).
    pub fn content_length(&self) -> Option<u64> {
        match self.head.framing {
            Some(head::Framing::Length(n)) => Some(n),
            _ => None,
        }
    }

    /// The bytes read after the head so far: the start of the body (and, when the client
    /// pipelines, of what follows it). A router that decides on a small body reads it here when
    /// it came in whole with its head (conflux h1_router.rs: content-based routing).
    pub fn body_so_far(&self) -> &'a [u8] {
        self.buf.get(self.head.len..).unwrap_or_default()
    }

    /// Every header as name and value bytes, in order.
    pub fn headers(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + '_ {
        self.head
            .headers
            .iter()
            .map(|h| (&self.buf[h.name.clone()], &self.buf[h.value.clone()]))
    }
}

/// One edit of a message's transport headers, made as mediation makes it on its header map
/// (`<header scope="transport">`, `<property scope="transport">`): a set is
/// `HeaderMap::insert` (an existing name keeps its place and loses its other values, a new one
/// goes last), a remove `HeaderMap::remove` (the last name takes the removed one's place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderEdit {
    pub name: http::HeaderName,
    /// `None`: remove.
    pub value: Option<http::HeaderValue>,
}

/// Where a direct forward goes and what changes on the way.
#[derive(Debug, Clone)]
pub struct DirectForward {
    /// The backend's socket address.
    pub backend: SocketAddr,
    /// The other addresses of the backend's host name, tried in order after `backend` when a
    /// connection is made (empty for an IP literal).
    pub fallbacks: Arc<[SocketAddr]>,
    /// The `Host` value the backend gets (its authority, as the hyper client writes it).
    pub host: Arc<str>,
    /// The request-target the backend gets.
    pub target: BackendTarget,
    /// The backend URI for logs and fault messages (never sent to the client), and the
    /// request-target's text for [`BackendTarget::InUri`]. A `String`: it is made per request,
    /// and an `Arc<str>` would copy it once more.
    pub uri: String,
    /// Deadline for the response head, connecting and sending included (the endpoint timeout);
    /// `None`: as long as the connection lives.
    pub timeout: Option<Duration>,
    /// Deadline for connecting.
    pub connect_timeout: Duration,
    /// Edits of the request's headers before it goes to the backend, in order (never of a field
    /// the engine frames or rewrites itself: `Host`, `Content-Length`, `Content-Type`, the
    /// hop-by-hop ones, ...; the router leaves such routes General).
    pub request_edits: Arc<[HeaderEdit]>,
    /// Edits of the response's headers before it goes to the client, in order (same rule). When
    /// there is any, the status line is written as hyper writes a response mediation rebuilt
    /// (`HTTP/1.1`, the canonical reason).
    pub response_edits: Arc<[HeaderEdit]>,
    /// The router's own data for this request, handed back in [`DirectRecord::forward`] (the
    /// conflux crate keeps the deployment snapshot and the route's counters here).
    pub context: Option<Arc<dyn std::any::Any + Send + Sync>>,
}

/// The request-target a direct forward sends to the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendTarget {
    /// The client's, unchanged.
    Client,
    /// The tail of [`DirectForward::uri`] from this byte offset: the backend URL's own path and
    /// query, written without a copy of its own.
    InUri(usize),
    /// A target of its own.
    Own(String),
}

/// How the driver serves one request.
#[derive(Debug, Clone)]
pub enum Route {
    /// Straight to a backend, the response straight back.
    Direct(DirectForward),
    /// Through the hyper server and the full handler, for the rest of the connection.
    General,
}

/// One exchange the direct path completed, for access logs and metrics.
pub struct DirectRecord<'a> {
    pub conn: &'a ConnInfo,
    /// The method as the client sent it (a token: ASCII).
    pub method: &'a [u8],
    /// The request-target as the client sent it (UTF-8: the parser lets nothing else through).
    pub target: &'a [u8],
    /// The status the handler answered on hyper's path: the client's (a fault's when the backend
    /// failed), but for a body that missed its deadline, which hyper's path counts as mediation's
    /// 400 (101001) before it tells the client 408.
    pub status: u16,
    /// From the request head to the response head.
    pub elapsed: Duration,
    /// The forward the router chose for this exchange.
    pub forward: &'a DirectForward,
    /// The backend failure the client got a fault answer for; `None`: the backend answered.
    pub failure: Option<&'a crate::error::BackendError>,
    /// The request's header map as hyper's path would hold it, when [`Router::wants_headers`].
    pub request_headers: Option<&'a http::HeaderMap>,
    /// The response's header map as `PassThrough::handle` would see it (hop-by-hop fields gone;
    /// `Date`, `Connection: close` and the framing hyper adds when writing not there), when
    /// [`Router::wants_headers`].
    pub response_headers: Option<&'a http::HeaderMap>,
}

impl DirectRecord<'_> {
    /// When the request head was read, by the wall clock: read only for a record that is
    /// written somewhere (an access log), not once per exchange.
    pub fn received_at(&self) -> std::time::SystemTime {
        let now = std::time::SystemTime::now();
        now.checked_sub(self.elapsed).unwrap_or(now)
    }
}

/// Decides, per request, whether the Conflux engine forwards it directly; implemented by the
/// deployment (conflux crate) and by tests.
pub trait Router: Send + Sync + 'static {
    /// The route of this request.
    fn route(&self, request: &RequestView<'_>, conn: &ConnInfo) -> Route;

    /// Whether a request's `Content-Length: 0` line is left out of what the backend gets. The
    /// deployment's router says yes: mediation marks such a message NO_ENTITY_BODY and drops the
    /// field (mediation runtime/engine.rs `outbound_request`), and hyper's client then writes
    /// none; a plain `forward::pass_through` keeps it (the default).
    fn drops_empty_content_length(&self) -> bool {
        false
    }

    /// Whether a backend's `Location` is rewritten for the client as the deployment's endpoint
    /// sender does (`location::rewrite_location`, MI passthru `ClientWorker`); a plain
    /// `forward::pass_through` leaves it alone (the default).
    fn rewrites_location(&self) -> bool {
        false
    }

    /// Whether the router logs a backend failure itself (from [`Router::answered`], which then
    /// must want records), instead of the engine's `back end call failed` line (forward.rs
    /// `pass_through`'s).
    fn logs_failures(&self) -> bool {
        false
    }

    /// Whether records carry the request's and the response's header maps (an access log
    /// needs them; they cost a map each per request).
    fn wants_headers(&self) -> bool {
        false
    }

    /// Whether [`Router::answered`] wants records (they cost a little per request).
    fn records(&self) -> bool {
        false
    }

    /// Called, when [`Router::records`] says so, once a direct exchange has its response head,
    /// or its fault answer when the backend failed.
    fn answered(&self, _record: &DirectRecord<'_>) {}
}
