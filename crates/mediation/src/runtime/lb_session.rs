//! Session affinity of a `<loadbalance>` endpoint with a `<session type>`: which child a
//! message's session is bound to, how a session is found in a request and learnt from a
//! response, and when it expires. After SYN `endpoints/SALoadbalanceEndpoint.java` and
//! `endpoints/dispatch/{AbstractDispatcher,HttpSessionDispatcher,SimpleClientSessionDispatcher,
//! SoapSessionDispatcher,SALSessions,SessionInformation}.java` (wso2/wso2-synapse).
//!
//! - **Where a session id is.** `http` (server-initiated): the backend's `Set-Cookie` opens it
//!   (its first `;`-separated entry naming `JSESSIONID`, `PHPSESSID`, `phpMyAdmin` or
//!   `wordpress_test_cookie`, e.g. `JSESSIONID=760764CB`, with its `Path=` entry, `Path=/` when
//!   none); the client's `Cookie` carries it back. `soap` (server-initiated): the response's
//!   `wsa:ReplyTo/wsa:ReferenceParameters/axis2:ServiceGroupId` opens it, the request's
//!   `axis2:ServiceGroupId` SOAP header carries it. `simpleClientSession` (client-initiated): the
//!   request's `<syn:ClientID>` SOAP header both opens and carries it.
//! - **A request on a live session** goes to the child bound to it, and only there: if that child
//!   is not ready the message fails with 309001 (`ENDPOINT_SAL_NOT_READY`), and if it fails, with
//!   the child's own error; Synapse never moves an established session to another child.
//! - **A request without a live session** is load-balanced as usual (round robin, failing over to
//!   the next child, which Synapse allows for the first message of a session only); the session
//!   ids of a server-initiated type are first taken off the request (`removeSessionID`), since
//!   the chosen backend does not know them. A client session is bound to the child the message is
//!   sent to (rebound when the first message fails over); a server session when the response
//!   opens one.
//! - **Renewal** (`SALSessions.updateSession`): a response on a live session that opens a session
//!   with another id (for `http`: on the same cookie path) replaces the old session, bound to the
//!   same child; a session that expired while its message was out is re-created from it.
//! - **Expiry**: a session lives `sessionTimeout` ms (default 120 s) from when it was bound, not
//!   from its last use; `SessionInformation.isExpired` is `expiry < now`. The time is passed in.
//!
//! Differences: Synapse keeps one process-wide table (`SALSessions`), so a session bound through
//! one endpoint is found by every other; Conflux keeps one table per endpoint. The table is held
//! to [`MAX_LB_SESSIONS`] (Synapse's only grows, emptied of expired sessions by a timer): a new
//! session past it first drops the expired ones, then the one that expires first.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::HeaderMap;
use http::header::{COOKIE, HeaderValue, SET_COOKIE};

pub use conflux_artifacts::SessionKind;

/// `SynapseConstants.SAL_ENDPOINTS_DEFAULT_SESSION_TIMEOUT`: how long a session lives when
/// `<sessionTimeout>` is not given.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_millis(120_000);

/// The most sessions one session-affinity endpoint remembers.
pub const MAX_LB_SESSIONS: usize = 10_000;

/// `SynapseConstants.ENDPOINT_SAL_NOT_READY`: the child a session is bound to is not ready.
pub const ENDPOINT_SAL_NOT_READY: u32 = 309_001;

/// `AbstractDispatcher.SESSION_COOKIES`: a cookie entry containing one of these is a session id.
const SESSION_COOKIES: [&str; 4] = [
    "JSESSIONID",
    "PHPSESSID",
    "phpMyAdmin",
    "wordpress_test_cookie",
];

/// `SimpleClientSessionDispatcher.CSID_QNAME`.
const SYNAPSE_NS: &str = "http://ws.apache.org/ns/synapse";
/// `SoapSessionDispatcher.QNAME_SERVICE_GROUP_ID`.
const AXIS2_NS: &str = "http://ws.apache.org/namespaces/axis2";
/// `AddressingConstants.Final`: the `ReplyTo` a SOAP session response carries.
const WSA_NS: &str = "http://www.w3.org/2005/08/addressing";

/// The session affinity of one load-balance endpoint: its dispatcher, timeout and sessions.
pub struct SessionAffinity {
    pub kind: SessionKind,
    pub timeout: Duration,
    table: Mutex<SessionTable>,
}

/// The settings only: the sessions are runtime state (and their ids are the clients' secrets).
impl std::fmt::Debug for SessionAffinity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionAffinity")
            .field("kind", &self.kind)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl SessionAffinity {
    pub fn new(kind: SessionKind, timeout: Duration) -> Self {
        SessionAffinity {
            kind,
            timeout,
            table: Mutex::new(SessionTable::new(timeout, MAX_LB_SESSIONS)),
        }
    }

    /// The session table (a poisoned lock still holds a usable table).
    pub fn table(&self) -> std::sync::MutexGuard<'_, SessionTable> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the backend opens the session (`Dispatcher.isServerInitiatedSession`).
    pub fn server_initiated(&self) -> bool {
        !matches!(self.kind, SessionKind::SimpleClientSession)
    }
}

/// A session as a message found it (Synapse keeps this `SessionInformation` on the message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    pub id: String,
    /// The index of the child the session is bound to.
    pub child: usize,
    /// The cookie path of an `http` session (`Path=/`).
    pub path: Option<String>,
}

#[derive(Debug, Clone)]
struct Entry {
    child: usize,
    path: Option<String>,
    expires: Instant,
}

/// The sessions of one endpoint: a state machine over the time it is given.
#[derive(Debug)]
pub struct SessionTable {
    timeout: Duration,
    max: usize,
    sessions: HashMap<String, Entry>,
}

impl SessionTable {
    pub fn new(timeout: Duration, max: usize) -> Self {
        SessionTable {
            timeout,
            max,
            sessions: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// `SALSessions.getSession` for each id in turn: the first one with a live session. An
    /// expired session met on the way is removed.
    pub fn find(&mut self, ids: &[String], now: Instant) -> Option<Bound> {
        for id in ids {
            let Some(entry) = self.sessions.get(id) else {
                continue;
            };
            if entry.expires < now {
                self.sessions.remove(id);
                continue;
            }
            return Some(Bound {
                id: id.clone(),
                child: entry.child,
                path: entry.path.clone(),
            });
        }
        None
    }

    /// `SALSessions.updateSession`: the message (on session `current`, if it had one, else sent
    /// to `child`) learnt session `id` (with cookie `path` for `http`). A new session is bound to
    /// `child`; on a live session, another id (on the same path) renews it and the same id leaves
    /// it as it is; a current session that expired meanwhile is re-created from the message's copy.
    pub fn update(
        &mut self,
        current: Option<&Bound>,
        id: &str,
        path: Option<&str>,
        child: usize,
        now: Instant,
    ) {
        if id.is_empty() {
            return;
        }
        let child = match current {
            None => child,
            Some(old) => {
                let same_path = path.is_none() || old.path.as_deref() == path;
                if id != old.id && same_path {
                    self.sessions.remove(&old.id);
                } else if self.sessions.contains_key(&old.id) {
                    return;
                }
                old.child
            }
        };
        self.insert(id, child, path, now);
    }

    /// `Dispatcher.unbind`: forgets a session.
    pub fn remove(&mut self, id: &str) {
        self.sessions.remove(id);
    }

    fn insert(&mut self, id: &str, child: usize, path: Option<&str>, now: Instant) {
        if !self.sessions.contains_key(id) && self.sessions.len() >= self.max {
            self.sessions.retain(|_, e| e.expires >= now);
            if self.sessions.len() >= self.max
                && let Some(first) = self
                    .sessions
                    .iter()
                    .min_by_key(|(_, e)| e.expires)
                    .map(|(k, _)| k.clone())
            {
                self.sessions.remove(&first);
            }
        }
        self.sessions.insert(
            id.to_string(),
            Entry {
                child,
                path: path.map(str::to_string),
                expires: now + self.timeout,
            },
        );
    }
}

/// `AbstractDispatcher.isASessionCookie`.
fn is_session_cookie(entry: &str) -> bool {
    SESSION_COOKIES.iter().any(|name| entry.contains(name))
}

/// The session ids a request carries, in order: its session cookies (`http`), or its
/// `ClientID` / `ServiceGroupId` SOAP header (`envelope` is the request's SOAP envelope, when it
/// is one).
pub fn request_ids(kind: SessionKind, headers: &HeaderMap, envelope: Option<&str>) -> Vec<String> {
    match kind {
        SessionKind::Http => headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter(|entry| is_session_cookie(entry))
            .map(|entry| entry.trim().to_string())
            .collect(),
        SessionKind::SimpleClientSession => {
            header_block_text(envelope, SYNAPSE_NS, "ClientID", &[])
                .into_iter()
                .collect()
        }
        SessionKind::Soap => header_block_text(envelope, AXIS2_NS, "ServiceGroupId", &[])
            .into_iter()
            .collect(),
    }
}

/// The session a response opens, as (id, cookie path): `http` reads the first `Set-Cookie` that
/// names a session cookie (`AbstractDispatcher.extractSessionCookie`), `soap` the
/// `ServiceGroupId` in the `ReplyTo` reference parameters. A client-initiated session is never
/// opened by a response.
pub fn response_session(
    kind: SessionKind,
    headers: &HeaderMap,
    envelope: Option<&str>,
) -> Option<(String, Option<String>)> {
    match kind {
        SessionKind::Http => headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(session_cookie)
            .map(|(id, path)| (id, Some(path))),
        SessionKind::Soap => header_block_text(
            envelope,
            WSA_NS,
            "ReplyTo",
            &[
                (WSA_NS, "ReferenceParameters"),
                (AXIS2_NS, "ServiceGroupId"),
            ],
        )
        .map(|id| (id, None)),
        SessionKind::SimpleClientSession => None,
    }
}

/// A `Set-Cookie` value's session id and path (`Path=/` when it has none).
fn session_cookie(value: &str) -> Option<(String, String)> {
    let mut id = None;
    let mut path = "Path=/".to_string();
    for entry in value.split(';') {
        if id.is_none() && is_session_cookie(entry) {
            id = Some(entry.trim().to_string());
        } else if entry.contains("Path") {
            path = entry.trim().to_string();
        }
    }
    id.map(|id| (id, path))
}

/// The `Cookie` header without its session cookies (`AbstractDispatcher.removeSessionID`); `None`
/// when nothing is left. The entries left are joined with `"; "`.
pub fn without_session_cookies(cookie: &str) -> Option<String> {
    let rest: Vec<&str> = cookie
        .split(';')
        .map(str::trim)
        .filter(|e| !e.is_empty() && !is_session_cookie(e))
        .collect();
    (!rest.is_empty()).then(|| rest.join("; "))
}

/// Takes the session cookies off a request's `Cookie` headers (a header left empty is removed).
pub fn strip_session_cookies(headers: &mut HeaderMap) {
    let values: Vec<String> = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    if !values.iter().any(|v| v.split(';').any(is_session_cookie)) {
        return;
    }
    headers.remove(COOKIE);
    for value in values {
        if let Some(kept) = without_session_cookies(&value)
            && let Ok(v) = HeaderValue::from_str(&kept)
        {
            headers.append(COOKIE, v);
        }
    }
}

/// The SOAP envelope without its `axis2:ServiceGroupId` header block
/// (`SoapSessionDispatcher.removeSessionID`), or `None` when it has none.
pub fn without_service_group_id(envelope: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(envelope).ok()?;
    let block = header(&doc)?
        .children()
        .find(|n| is_named(n, AXIS2_NS, "ServiceGroupId"))?;
    let range = block.range();
    Some(format!(
        "{}{}",
        &envelope[..range.start],
        &envelope[range.end..]
    ))
}

fn is_named(node: &roxmltree::Node, ns: &str, local: &str) -> bool {
    node.is_element() && node.tag_name().name() == local && node.tag_name().namespace() == Some(ns)
}

/// The SOAP `Header` of an envelope.
fn header<'a, 'i>(doc: &'a roxmltree::Document<'i>) -> Option<roxmltree::Node<'a, 'i>> {
    let root = doc.root_element();
    let soap = crate::runtime::payload::soap_version(root)?.namespace();
    root.children().find(|n| is_named(n, soap, "Header"))
}

/// The trimmed text of the header block `{ns}local` (then of the descendants `path` under it,
/// each the first child of that name), when it is not empty (`AbstractDispatcher.extractSessionID`).
fn header_block_text(
    envelope: Option<&str>,
    ns: &str,
    local: &str,
    path: &[(&str, &str)],
) -> Option<String> {
    let doc = roxmltree::Document::parse(envelope?).ok()?;
    let mut node = header(&doc)?.children().find(|n| is_named(n, ns, local))?;
    for (ns, local) in path {
        node = node.children().find(|n| is_named(n, ns, local))?;
    }
    let text: String = node.children().filter_map(|c| c.text()).collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_session_routes_to_its_child_until_it_expires() {
        let t0 = Instant::now();
        let timeout = Duration::from_millis(5_000);
        let mut table = SessionTable::new(timeout, MAX_LB_SESSIONS);
        table.update(None, "JSESSIONID=a", Some("Path=/"), 2, t0);
        let found = table.find(&ids(&["other=1", "JSESSIONID=a"]), t0).unwrap();
        assert_eq!(
            found,
            Bound {
                id: "JSESSIONID=a".into(),
                child: 2,
                path: Some("Path=/".into())
            }
        );
        // Still live at its expiry instant (`expiryTime < now` expires it), also when it was
        // used in between: the expiry is counted from when it was bound.
        assert!(table.find(&ids(&["JSESSIONID=a"]), t0 + timeout).is_some());
        assert_eq!(
            table.find(
                &ids(&["JSESSIONID=a"]),
                t0 + timeout + Duration::from_millis(1)
            ),
            None
        );
        // The expired session was removed when it was met.
        assert!(table.is_empty());
    }

    #[test]
    fn a_new_id_on_the_same_path_renews_the_session_on_the_same_child() {
        let t0 = Instant::now();
        let mut table = SessionTable::new(Duration::from_secs(10), MAX_LB_SESSIONS);
        table.update(None, "JSESSIONID=a", Some("Path=/"), 1, t0);
        let current = table.find(&ids(&["JSESSIONID=a"]), t0).unwrap();
        let t1 = t0 + Duration::from_secs(8);
        // The same id again: the session is left as it is (its expiry does not move).
        table.update(Some(&current), "JSESSIONID=a", Some("Path=/"), 0, t1);
        assert!(
            table
                .find(&ids(&["JSESSIONID=a"]), t0 + Duration::from_secs(11))
                .is_none()
        );
        table.update(None, "JSESSIONID=a", Some("Path=/"), 1, t0);
        // Another id on another path while the session is live: nothing changes.
        table.update(Some(&current), "JSESSIONID=p", Some("Path=/app"), 0, t1);
        assert_eq!(table.find(&ids(&["JSESSIONID=p"]), t1), None);
        assert!(table.find(&ids(&["JSESSIONID=a"]), t1).is_some());
        // Another id on the same path: the old session is replaced, the child kept, the clock
        // restarted.
        table.update(Some(&current), "JSESSIONID=b", Some("Path=/"), 0, t1);
        assert_eq!(table.find(&ids(&["JSESSIONID=a"]), t1), None);
        let renewed = table.find(&ids(&["JSESSIONID=b"]), t1 + Duration::from_secs(10));
        assert_eq!(renewed.map(|b| b.child), Some(1));
        // A session that expired while its message was out is re-created from the message's copy.
        let t2 = t1 + Duration::from_secs(30);
        let stale = Bound {
            id: "JSESSIONID=b".into(),
            child: 1,
            path: Some("Path=/".into()),
        };
        assert!(table.find(&ids(&["JSESSIONID=b"]), t2).is_none());
        table.update(Some(&stale), "JSESSIONID=b", Some("Path=/"), 0, t2);
        assert_eq!(
            table.find(&ids(&["JSESSIONID=b"]), t2).map(|b| b.child),
            Some(1)
        );
        // An empty id binds nothing (SALSessions.updateSession).
        let before = table.len();
        table.update(None, "", None, 0, t2);
        assert_eq!(table.len(), before);
    }

    #[test]
    fn the_table_holds_at_most_max_lb_sessions() {
        let t0 = Instant::now();
        let mut table = SessionTable::new(Duration::from_secs(60), MAX_LB_SESSIONS);
        for i in 0..MAX_LB_SESSIONS {
            let at = t0 + Duration::from_millis(i as u64);
            table.update(None, &format!("JSESSIONID={i}"), None, i % 3, at);
        }
        assert_eq!(table.len(), MAX_LB_SESSIONS);
        // Session limit + 1: the one that expires first (the oldest) makes room.
        let late = t0 + Duration::from_millis(MAX_LB_SESSIONS as u64);
        table.update(None, "JSESSIONID=new", None, 0, late);
        assert_eq!(table.len(), MAX_LB_SESSIONS);
        assert_eq!(table.find(&ids(&["JSESSIONID=0"]), late), None);
        assert!(table.find(&ids(&["JSESSIONID=1"]), late).is_some());
        assert!(table.find(&ids(&["JSESSIONID=new"]), late).is_some());
        // Rebinding a known id at the limit evicts nothing.
        table.update(None, "JSESSIONID=1", None, 2, late);
        assert_eq!(table.len(), MAX_LB_SESSIONS);
        // Past every expiry, a new session clears all the expired ones first.
        let much_later = late + Duration::from_secs(61);
        table.update(None, "JSESSIONID=fresh", None, 0, much_later);
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn http_sessions_come_from_set_cookie_and_go_back_in_cookie() {
        let mut response = HeaderMap::new();
        response.append(SET_COOKIE, HeaderValue::from_static("theme=dark"));
        response.append(
            SET_COOKIE,
            HeaderValue::from_static("JSESSIONID=760764CB; Path=/shop; HttpOnly"),
        );
        assert_eq!(
            response_session(SessionKind::Http, &response, None),
            Some(("JSESSIONID=760764CB".into(), Some("Path=/shop".into())))
        );
        let mut plain = HeaderMap::new();
        plain.append(SET_COOKIE, HeaderValue::from_static("PHPSESSID=9"));
        assert_eq!(
            response_session(SessionKind::Http, &plain, None),
            Some(("PHPSESSID=9".into(), Some("Path=/".into())))
        );
        assert_eq!(
            response_session(SessionKind::SimpleClientSession, &plain, None),
            None
        );

        let mut request = HeaderMap::new();
        request.append(
            COOKIE,
            HeaderValue::from_static("theme=dark; JSESSIONID=a;  PHPSESSID=b"),
        );
        assert_eq!(
            request_ids(SessionKind::Http, &request, None),
            ids(&["JSESSIONID=a", "PHPSESSID=b"])
        );
        strip_session_cookies(&mut request);
        assert_eq!(request.get(COOKIE).unwrap(), "theme=dark");
        let mut only_session = HeaderMap::new();
        only_session.append(COOKIE, HeaderValue::from_static("JSESSIONID=a"));
        strip_session_cookies(&mut only_session);
        assert!(only_session.get(COOKIE).is_none());
    }

    const CLIENT: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header><syn:ClientID xmlns:syn="http://ws.apache.org/ns/synapse"> c-7 </syn:ClientID><axis2:ServiceGroupId xmlns:axis2="http://ws.apache.org/namespaces/axis2">urn:uuid:42</axis2:ServiceGroupId></soapenv:Header><soapenv:Body><m:getQuote xmlns:m="http://services.samples"/></soapenv:Body></soapenv:Envelope>"#;

    #[test]
    fn soap_header_sessions() {
        let none = HeaderMap::new();
        assert_eq!(
            request_ids(SessionKind::SimpleClientSession, &none, Some(CLIENT)),
            ids(&["c-7"])
        );
        assert_eq!(
            request_ids(SessionKind::Soap, &none, Some(CLIENT)),
            ids(&["urn:uuid:42"])
        );
        // Not a SOAP envelope, or no such header: no session.
        assert!(request_ids(SessionKind::Soap, &none, Some("<a/>")).is_empty());
        assert!(request_ids(SessionKind::SimpleClientSession, &none, None).is_empty());
        assert_eq!(
            without_service_group_id(CLIENT).unwrap(),
            CLIENT.replace(
                r#"<axis2:ServiceGroupId xmlns:axis2="http://ws.apache.org/namespaces/axis2">urn:uuid:42</axis2:ServiceGroupId>"#,
                ""
            )
        );
        let reply = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header><wsa:ReplyTo xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address><wsa:ReferenceParameters><axis2:ServiceGroupId xmlns:axis2="http://ws.apache.org/namespaces/axis2">urn:uuid:sg1</axis2:ServiceGroupId></wsa:ReferenceParameters></wsa:ReplyTo></s:Header><s:Body/></s:Envelope>"#;
        assert_eq!(
            response_session(SessionKind::Soap, &none, Some(reply)),
            Some(("urn:uuid:sg1".into(), None))
        );
        assert_eq!(
            response_session(SessionKind::Soap, &none, Some(CLIENT)),
            None
        );
    }
}
