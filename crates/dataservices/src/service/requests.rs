//! Requests that carry more than one call, and the request body as a tree of elements.
//!
//! - Batch requests (`enableBatchRequests="true"`: the generated `<name>_batch_req` operations and
//!   resources, MI `BatchDataServiceRequest`): one parameter set per child of the request element
//!   (`{"_postemployee_batch_req":{"_postemployee":[{..},{..}]}}` or the XML form), all run in one
//!   transaction.
//! - Request boxes (`enableBoxcarring="true"`: the `request_box` operation, MI
//!   `RequestBoxRequest`): each child names an operation or resource request and carries its
//!   parameters; all run in one transaction and the last one's result comes back inside
//!   `DATA_SERVICE_REQUEST_BOX_RESPONSE`.
//! - Legacy boxcarring sessions (`begin_boxcar` / `end_boxcar` / `abort_boxcar` unless
//!   `disableLegacyBoxcarringMode="true"`, MI `BoxcarringDataServiceRequest` and
//!   `DSSessionManager` on an Axis2 transport session): the calls a client makes between
//!   `begin_boxcar` and `end_boxcar` are queued under its session cookie ([`SESSION_COOKIE`])
//!   and run together, in one transaction, at `end_boxcar`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::params::RequestValue;

/// The most parameter sets in one batch request, or calls in one request box.
pub const MAX_BATCH_SIZE: usize = 10_000;
/// The most calls one boxcarring session queues before `end_boxcar`.
pub const MAX_BOXCAR_REQUESTS: usize = 1_000;
/// The most parameter text (names and values, in bytes) one boxcarring session queues.
pub const MAX_BOXCAR_SESSION_BYTES: usize = 4 * 1024 * 1024;
/// The most parameter text all boxcarring sessions of one data service queue together.
pub const MAX_BOXCAR_TOTAL_BYTES: usize = 64 * 1024 * 1024;
/// The most boxcarring sessions one data service keeps open at once.
pub const MAX_BOXCAR_SESSIONS: usize = 1_024;
/// A boxcarring session nobody used for this long is dropped (Tomcat's default session timeout,
/// which MI's transport sessions had).
pub const BOXCAR_SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// The session cookie of a boxcarring session (the servlet session cookie Axis2 clients keep
/// with `setManageSession(true)`).
pub const SESSION_COOKIE: &str = "JSESSIONID";

/// MI `DBConstants.REQUEST_BOX_ELEMENT`.
pub const REQUEST_BOX: &str = "request_box";
/// MI `DBConstants.DATA_SERVICE_REQUEST_BOX_RESPONSE_WRAPPER_ELEMENT`.
pub const REQUEST_BOX_RESPONSE: &str = "DATA_SERVICE_REQUEST_BOX_RESPONSE";

/// MI `DBConstants.BoxcarringOps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoxcarOp {
    Begin,
    End,
    Abort,
}

impl BoxcarOp {
    pub fn from_name(name: &str) -> Option<BoxcarOp> {
        match name {
            "begin_boxcar" => Some(BoxcarOp::Begin),
            "end_boxcar" => Some(BoxcarOp::End),
            "abort_boxcar" => Some(BoxcarOp::Abort),
            _ => None,
        }
    }
}

/// One element of a request body: an XML element by local name, or a JSON member (an array
/// member gives one element per item, as Axis2's JSON builder does).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Elem {
    pub name: String,
    /// The element's own text; None when it is `xsi:nil` / JSON `null`.
    pub text: Option<String>,
    pub children: Vec<Elem>,
}

impl Elem {
    /// MI `DataServiceRequest.getSingleInputValuesFromOM`: one parameter per child name, an
    /// array when the name repeats.
    pub fn params(&self) -> Vec<(String, RequestValue)> {
        let mut out: Vec<(String, RequestValue)> = Vec::new();
        for child in &self.children {
            match out.iter_mut().find(|(n, _)| *n == child.name) {
                Some((_, RequestValue::Array(items))) => items.push(child.text.clone()),
                Some((_, existing)) => {
                    let first = match existing {
                        RequestValue::Scalar(v) => v.clone(),
                        RequestValue::Array(_) => None,
                    };
                    *existing = RequestValue::Array(vec![first, child.text.clone()]);
                }
                None => out.push((child.name.clone(), RequestValue::Scalar(child.text.clone()))),
            }
        }
        out
    }

    /// MI `DataServiceRequest.isBatchRequest`: the first child has children of its own.
    pub fn is_batch(&self) -> bool {
        self.children
            .first()
            .is_some_and(|c| !c.children.is_empty())
    }

    /// MI `getBatchInputValuesFromOM`: one parameter set per child.
    pub fn batch_params(&self) -> Vec<Vec<(String, RequestValue)>> {
        self.children.iter().map(Elem::params).collect()
    }
}

/// The request element of a body: the first child of a SOAP Body, the XML document element,
/// or for JSON the value of the one member that wraps an object (`{"_postemployee":{..}}`),
/// else the whole object. None for an empty body or a form.
pub fn request_element(content_type: Option<&str>, body: &[u8]) -> Result<Option<Elem>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if ct.contains("x-www-form-urlencoded") {
        return Ok(None);
    }
    let text = std::str::from_utf8(body).map_err(|_| "request body is not UTF-8".to_string())?;
    if ct.contains("json") {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("invalid JSON request: {e}"))?;
        let object = value.as_object().ok_or("JSON request is not an object")?;
        if object.len() == 1
            && let Some((name, inner @ serde_json::Value::Object(_))) = object.iter().next()
        {
            return Ok(json_elems(name, inner).into_iter().next());
        }
        let mut root = Elem::default();
        for (name, value) in object {
            root.children.extend(json_elems(name, value));
        }
        return Ok(Some(root));
    }
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("invalid XML request: {e}"))?;
    let mut root = doc.root_element();
    if root.tag_name().name() == "Envelope"
        && let Some(op) = root
            .children()
            .find(|n| n.is_element() && n.tag_name().name() == "Body")
            .and_then(|b| b.children().find(|n| n.is_element()))
    {
        root = op;
    }
    Ok(Some(xml_elem(root)))
}

fn json_elems(name: &str, value: &serde_json::Value) -> Vec<Elem> {
    use serde_json::Value as J;
    let elem = |text: Option<String>, children: Vec<Elem>| Elem {
        name: name.to_string(),
        text,
        children,
    };
    match value {
        J::Null => vec![elem(None, Vec::new())],
        J::String(s) => vec![elem(Some(s.clone()), Vec::new())],
        J::Bool(_) | J::Number(_) => vec![elem(Some(value.to_string()), Vec::new())],
        J::Object(members) => vec![elem(
            Some(String::new()),
            members.iter().flat_map(|(k, v)| json_elems(k, v)).collect(),
        )],
        J::Array(items) => items.iter().flat_map(|i| json_elems(name, i)).collect(),
    }
}

fn xml_elem(node: roxmltree::Node<'_, '_>) -> Elem {
    const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
    let nil = node.attributes().any(|a| {
        a.name() == "nil" && a.namespace() == Some(XSI) && matches!(a.value(), "true" | "1")
    });
    let text = if nil {
        None
    } else {
        Some(
            node.children()
                .filter(|c| c.is_text())
                .filter_map(|c| c.text())
                .collect::<String>(),
        )
    };
    Elem {
        name: node.tag_name().name().to_string(),
        text,
        children: node
            .children()
            .filter(|c| c.is_element())
            .map(xml_elem)
            .collect(),
    }
}

/// A call queued in a boxcarring session, or one child of a request box: the request name and
/// its parameter sets (one set unless `batch`).
#[derive(Debug, Clone)]
pub struct BoxedCall {
    pub request_name: String,
    pub sets: Vec<Vec<(String, RequestValue)>>,
    pub batch: bool,
}

impl BoxedCall {
    /// The parameter text it holds, in bytes (what a queued call costs).
    pub fn size(&self) -> usize {
        let value = |v: &RequestValue| match v {
            RequestValue::Scalar(s) => s.as_ref().map_or(0, String::len),
            RequestValue::Array(items) => items.iter().flatten().map(String::len).sum(),
        };
        self.request_name.len()
            + self
                .sets
                .iter()
                .flatten()
                .map(|(name, v)| name.len() + value(v))
                .sum::<usize>()
    }
}

struct Session {
    calls: Vec<BoxedCall>,
    bytes: usize,
    last_used: Instant,
}

/// The open boxcarring sessions of one data service, by session id.
#[derive(Default)]
pub struct Sessions {
    open: std::sync::Mutex<HashMap<String, Session>>,
}

/// Why a boxcarring session step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("too many boxcarring sessions: at most {MAX_BOXCAR_SESSIONS} are open at once")]
    TooManySessions,
    #[error("too many calls in one boxcarring session: at most {MAX_BOXCAR_REQUESTS}")]
    TooManyCalls,
    #[error(
        "the boxcarring session holds too much: at most {MAX_BOXCAR_SESSION_BYTES} bytes of parameters per session and {MAX_BOXCAR_TOTAL_BYTES} in all sessions"
    )]
    TooLarge,
    #[error("could not make a session id")]
    Random,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `begin_boxcar`: starts (or restarts, dropping what it queued) the caller's session; the
    /// id to set as the session cookie.
    pub fn begin(&self, current: Option<&str>) -> Result<String, SessionError> {
        let mut open = self.lock();
        let now = Instant::now();
        open.retain(|_, s| now.duration_since(s.last_used) < BOXCAR_SESSION_IDLE);
        let id = match current {
            Some(id) if open.contains_key(id) => id.to_string(),
            _ => {
                if open.len() >= MAX_BOXCAR_SESSIONS {
                    return Err(SessionError::TooManySessions);
                }
                new_session_id()?
            }
        };
        open.insert(
            id.clone(),
            Session {
                calls: Vec::new(),
                bytes: 0,
                last_used: now,
            },
        );
        Ok(id)
    }

    /// Whether `id` names an open session.
    pub fn is_open(&self, id: &str) -> bool {
        let open = self.lock();
        open.get(id)
            .is_some_and(|s| s.last_used.elapsed() < BOXCAR_SESSION_IDLE)
    }

    /// Queues a call in an open session (false: no such session).
    pub fn queue(&self, id: &str, call: BoxedCall) -> Result<bool, SessionError> {
        let mut open = self.lock();
        let total: usize = open.values().map(|s| s.bytes).sum();
        let Some(session) = open.get_mut(id) else {
            return Ok(false);
        };
        if session.calls.len() >= MAX_BOXCAR_REQUESTS {
            return Err(SessionError::TooManyCalls);
        }
        let size = call.size();
        if session.bytes + size > MAX_BOXCAR_SESSION_BYTES || total + size > MAX_BOXCAR_TOTAL_BYTES
        {
            return Err(SessionError::TooLarge);
        }
        session.bytes += size;
        session.calls.push(call);
        session.last_used = Instant::now();
        Ok(true)
    }

    /// `end_boxcar` / `abort_boxcar`: closes the session and hands back its queued calls.
    pub fn take(&self, id: &str) -> Vec<BoxedCall> {
        self.lock().remove(id).map(|s| s.calls).unwrap_or_default()
    }

    /// How many sessions are open (tests, diagnostics).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn new_session_id() -> Result<String, SessionError> {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| SessionError::Random)?;
    Ok(bytes.iter().map(|b| format!("{b:02X}")).collect())
}

/// The value of [`SESSION_COOKIE`] in a `Cookie` header.
pub fn session_cookie(cookie_header: Option<&str>) -> Option<&str> {
    cookie_header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_xml_batch_bodies_give_the_same_parameter_sets() {
        let json = br#"{"_postemployee_batch_req":{"_postemployee":[{"id":1,"name":"A"},{"id":2,"name":null}]}}"#;
        let xml = br#"<_postemployee_batch_req xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><_postemployee><id>1</id><name>A</name></_postemployee><_postemployee><id>2</id><name xsi:nil="true"/></_postemployee></_postemployee_batch_req>"#;
        let j = request_element(Some("application/json"), json)
            .expect("json")
            .expect("element");
        let x = request_element(Some("application/xml"), xml)
            .expect("xml")
            .expect("element");
        assert!(j.is_batch() && x.is_batch());
        assert_eq!(j.batch_params(), x.batch_params());
        let sets = j.batch_params();
        assert_eq!(sets.len(), 2);
        assert_eq!(sets[1][1], ("name".to_string(), RequestValue::Scalar(None)));
        // A single request is not a batch; a repeated name is an array.
        let single = request_element(Some("text/xml"), b"<op><id>1</id><id>2</id></op>")
            .expect("xml")
            .expect("element");
        assert!(!single.is_batch());
        assert_eq!(
            single.params(),
            vec![(
                "id".to_string(),
                RequestValue::Array(vec![Some("1".into()), Some("2".into())])
            )]
        );
        assert_eq!(request_element(None, b"  ").expect("empty"), None);
        assert!(request_element(Some("application/json"), b"[1]").is_err());
    }

    #[test]
    fn sessions_queue_until_taken_and_are_bounded() {
        let sessions = Sessions::default();
        let id = sessions.begin(None).expect("begin");
        assert_eq!(id.len(), 32);
        assert!(sessions.is_open(&id));
        let call = BoxedCall {
            request_name: "op".into(),
            sets: vec![Vec::new()],
            batch: false,
        };
        for _ in 0..MAX_BOXCAR_REQUESTS {
            assert_eq!(sessions.queue(&id, call.clone()), Ok(true));
        }
        assert_eq!(
            sessions.queue(&id, call.clone()),
            Err(SessionError::TooManyCalls)
        );
        // begin again with the same cookie: the same session, emptied.
        assert_eq!(sessions.begin(Some(&id)).expect("again"), id);
        assert!(sessions.take(&id).is_empty());
        assert!(!sessions.is_open(&id));
        assert_eq!(sessions.queue(&id, call), Ok(false));
        for _ in 0..MAX_BOXCAR_SESSIONS {
            sessions.begin(None).expect("within the limit");
        }
        assert_eq!(sessions.begin(None), Err(SessionError::TooManySessions));
        assert_eq!(sessions.len(), MAX_BOXCAR_SESSIONS);
    }

    #[test]
    fn queued_parameter_text_is_bounded_per_session() {
        let sessions = Sessions::default();
        let id = sessions.begin(None).expect("begin");
        // One byte of name ("n") plus the value: exactly at the limit, then one byte more.
        let call = |len: usize| BoxedCall {
            request_name: String::new(),
            sets: vec![vec![("n".to_string(), RequestValue::text("v".repeat(len)))]],
            batch: false,
        };
        assert_eq!(
            sessions.queue(&id, call(MAX_BOXCAR_SESSION_BYTES - 2)),
            Ok(true)
        );
        assert_eq!(sessions.queue(&id, call(0)), Ok(true));
        assert_eq!(sessions.queue(&id, call(0)), Err(SessionError::TooLarge));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        assert_eq!(
            session_cookie(Some("a=1; JSESSIONID=AB12; b=2")),
            Some("AB12")
        );
        assert_eq!(session_cookie(Some("JSESSIONIDX=1")), None);
        assert_eq!(session_cookie(None), None);
    }
}
