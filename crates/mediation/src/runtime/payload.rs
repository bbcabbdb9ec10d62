//! The built message: what a body becomes when a mediator needs its content (an XPath or JSONPath
//! expression over it, `payloadFactory`, `enrich`, `makefault`, a full log). Bodies are read at
//! most once, up to a size limit, and kept in the form they arrived in: XML text (a SOAP envelope or
//! a plain document), a JSON value, text, or raw bytes. XPath sees every form as a SOAP envelope the
//! way MI does (JSON through MI's JSON-to-XML mapping, text and bytes in MI's wrapper elements);
//! on the way out the message is written in the format its `messageType` asks for.
//!
//! MI equivalents: the message builders (`ApplicationXMLBuilder`, `SOAPBuilder`, `JsonStreamBuilder`,
//! `PlainTextBuilder`, `BinaryBuilder`) and formatters (`POXMessageFormatter`,
//! `SOAPMessageFormatter`, `JsonStreamFormatter`, `PlainTextFormatter`) that MI's
//! `deployment.toml` maps to content types (wso2/micro-integrator `axis2.xml.j2`).

use std::borrow::Cow;

use bytes::Bytes;

use crate::json;
use crate::json::members::{Member, read_member, read_member_of_checked};
use crate::runtime::limits;

/// The largest body mediation reads into memory, unless `[mediation] max_message_size` says
/// otherwise. A larger request is answered 413; a sequence that never reads the body streams any
/// size.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;

pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
/// The namespace of MI's `<ns:text>` and `<ns:binary>` wrappers (Axiom `BaseConstants`).
pub const PAYLOAD_NS: &str = "http://ws.apache.org/commons/ns/payload";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoapVersion {
    Soap11,
    Soap12,
}

impl SoapVersion {
    pub fn namespace(self) -> &'static str {
        match self {
            SoapVersion::Soap11 => SOAP11_NS,
            SoapVersion::Soap12 => SOAP12_NS,
        }
    }

    /// The content type MI writes a SOAP message of this version with.
    pub fn content_type(self) -> &'static str {
        match self {
            SoapVersion::Soap11 => "text/xml",
            SoapVersion::Soap12 => "application/soap+xml",
        }
    }
}

/// A message's content, built.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// No body (a GET, or a body of zero bytes).
    Empty,
    /// An XML document as text; `soap` when its root is a SOAP envelope.
    Xml {
        text: String,
        soap: Option<SoapVersion>,
    },
    Json(JsonPayload),
    Text(String),
    /// Anything else, kept byte for byte.
    Binary(Bytes),
}

/// A JSON payload: the value, and the text it was received or built as while it is unchanged,
/// which is what goes out (MI passes JSON on as a stream of the original text until a mediator
/// edits it; so do template spacing and key order).
///
/// A received body is checked whole when it is built (the JSON limits, then every value as
/// `serde_json::Value`'s deserializer checks it) but its value is built only when something reads
/// more than one member chain of it: a route that reads one field and forwards the body (the
/// content-based routing of MI projects) reads that field from the text
/// ([`JsonPayload::member_view`]) and never holds the document as a tree, which for a 100 KiB
/// order costs ten times the text's size and most of the request's time.
#[derive(Debug, Clone)]
pub struct JsonPayload {
    value: std::sync::OnceLock<serde_json::Value>,
    text: Option<String>,
    /// Set by the first [`JsonPayload::member_view`]: a second read builds the value, so a
    /// route that reads several fields scans the text at most once more than it parses it.
    viewed: std::sync::OnceLock<()>,
}

impl JsonPayload {
    /// The text the payload was received or built as, while it is unchanged (untrimmed).
    pub fn original_text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// A payload built from text that is known to hold `value`.
    pub fn with_text(value: serde_json::Value, text: String) -> JsonPayload {
        JsonPayload {
            value: value.into(),
            text: Some(text),
            viewed: std::sync::OnceLock::new(),
        }
    }

    /// A payload of `text`, which [`crate::json::members::check_document`] accepted and the JSON
    /// limits passed; its value is built when first needed.
    fn checked_text(text: String) -> JsonPayload {
        JsonPayload {
            value: std::sync::OnceLock::new(),
            text: Some(text),
            viewed: std::sync::OnceLock::new(),
        }
    }

    /// The value, built from the text the first time it is needed.
    pub fn value(&self) -> &serde_json::Value {
        self.value.get_or_init(|| {
            let text = self.text.as_deref().unwrap_or("null");
            // The text was checked as this parse checks it (`checked_text`); Null is unreachable.
            serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
        })
    }

    /// Whether the value has been built (or the payload was made from one).
    pub fn is_built(&self) -> bool {
        self.value.get().is_some()
    }

    /// What a member-chain path (`$.a.b`, [`crate::json::JsonEval::member_chain`]) reads of this
    /// payload, without building it: a document holding only the members along `names` (an
    /// empty object when one is absent), on which the path evaluates as on the whole value.
    /// `None` once the value is built (read that), after a first view (build it then), or when
    /// a level is not an object.
    pub fn member_view(&self, names: &[String]) -> Option<serde_json::Value> {
        if self.is_built() || names.is_empty() || self.viewed.set(()).is_err() {
            return None;
        }
        // Not built, so `checked_text` made it: the text passed `check_document`.
        let text = self.text.as_deref()?.as_bytes();
        document_of_member(names, read_member_of_checked(text, names).ok()?)
    }
}

/// A document holding only the members of `bytes` along `names` (an empty object when one is
/// absent), on which a member-chain path evaluates as on the whole document. `None` when `bytes`
/// is not a document serde accepts or a level is not an object.
pub(crate) fn member_document(bytes: &[u8], names: &[String]) -> Option<serde_json::Value> {
    document_of_member(names, read_member(bytes, names).ok()?)
}

fn document_of_member(names: &[String], member: Member) -> Option<serde_json::Value> {
    match member {
        Member::NotAnObject => None,
        Member::Absent => Some(serde_json::Value::Object(serde_json::Map::new())),
        Member::Found(value) => Some(names.iter().rev().fold(value, |inner, name| {
            let mut level = serde_json::Map::new();
            level.insert(name.clone(), inner);
            serde_json::Value::Object(level)
        })),
    }
}

impl From<serde_json::Value> for JsonPayload {
    fn from(value: serde_json::Value) -> JsonPayload {
        JsonPayload {
            value: value.into(),
            text: None,
            viewed: std::sync::OnceLock::new(),
        }
    }
}

impl std::ops::Deref for JsonPayload {
    type Target = serde_json::Value;
    fn deref(&self) -> &serde_json::Value {
        self.value()
    }
}

/// Equal when the values are equal, however they are spelt.
impl PartialEq for JsonPayload {
    fn eq(&self, other: &JsonPayload) -> bool {
        self.value() == other.value()
    }
}

/// The original text while there is one, else the compact serialisation.
impl std::fmt::Display for JsonPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.text {
            Some(text) => f.write_str(text.trim()),
            None => write!(f, "{}", self.value()),
        }
    }
}

/// Why a body could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error(
        "the message body is larger than {limit} bytes, the most mediation reads (`[mediation] max_message_size`)"
    )]
    TooLarge { limit: usize },
    #[error("the message body could not be read: {0}")]
    Read(String),
    #[error("the {kind} payload is not well-formed: {detail}")]
    Malformed { kind: &'static str, detail: String },
    /// Refused before it was built: past one of the structural limits of [`crate::runtime::limits`]
    /// (depth, counts, number length), which keep the time and memory one message costs bounded.
    #[error("the {kind} payload exceeds a limit: {detail}")]
    OverLimit { kind: &'static str, detail: String },
}

/// The families of content types mediation tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Json,
    /// `application/xml` and other `+xml` types: plain XML (POX).
    Xml,
    /// `text/xml`: SOAP 1.1 in MI's builder and formatter table.
    Soap11,
    /// `application/soap+xml`.
    Soap12,
    Text,
    Other,
}

impl ContentKind {
    /// Classifies a `Content-Type` value (parameters ignored, case-insensitive).
    pub fn of(content_type: &str) -> ContentKind {
        // Called for every request that is mediated: compared in place, no lower-cased copy.
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .as_bytes();
        let is = |media: &str| essence.eq_ignore_ascii_case(media.as_bytes());
        let ends_with = |suffix: &str| {
            essence.len() >= suffix.len()
                && essence[essence.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
        };
        if is("application/json") || is("text/json") || is("application/javascript") {
            ContentKind::Json
        } else if is("text/xml") {
            ContentKind::Soap11
        } else if is("application/soap+xml") {
            ContentKind::Soap12
        } else if is("application/xml") {
            ContentKind::Xml
        } else if is("text/plain") {
            ContentKind::Text
        } else if ends_with("+json") {
            ContentKind::Json
        } else if ends_with("+xml") {
            ContentKind::Xml
        } else {
            ContentKind::Other
        }
    }

    pub fn is_xml(self) -> bool {
        matches!(
            self,
            ContentKind::Xml | ContentKind::Soap11 | ContentKind::Soap12
        )
    }
}

/// The value of a JSON body as [`Payload::parse`] reads it: checked against the JSON limits (and
/// the XML limits of its XML view when it has `@` keys), parsed as MI's reader parses it. The
/// HTTP/1 engine's router (conflux h1_router.rs) routes on a JSON body with it.
pub fn parse_json_body(bytes: &[u8]) -> Result<serde_json::Value, PayloadError> {
    parse_scanned_json(bytes, limits::check_json(bytes)?)
}

/// [`parse_json_body`] of a body whose JSON limits scan gave `scan`.
fn parse_scanned_json(
    bytes: &[u8],
    scan: limits::JsonScan,
) -> Result<serde_json::Value, PayloadError> {
    let value = json::parse_json(bytes).map_err(|e| PayloadError::Malformed {
        kind: "JSON",
        detail: e.to_string(),
    })?;
    if scan.attribute_keys {
        limits::check_json_xml_view(&value)?;
    }
    Ok(value)
}

/// The payload of a JSON body: checked whole and kept as text when serde accepts it as it is
/// and no `@` key makes its XML view need checking too; else built at once as
/// [`parse_json_body`] builds it (which also takes raw control characters in strings, as MI's
/// builder does).
fn json_payload(bytes: &[u8]) -> Result<JsonPayload, PayloadError> {
    let scan = limits::check_json(bytes)?;
    if !scan.attribute_keys
        && json::members::check_document(bytes).is_ok()
        && let Ok(text) = std::str::from_utf8(bytes)
    {
        return Ok(JsonPayload::checked_text(text.to_owned()));
    }
    let value = parse_scanned_json(bytes, scan)?;
    // Valid JSON is valid UTF-8 (RFC 8259 §8.1); keep the text as it came.
    let text = String::from_utf8(bytes.to_vec()).ok();
    Ok(JsonPayload {
        value: value.into(),
        text,
        viewed: std::sync::OnceLock::new(),
    })
}

impl Payload {
    /// Builds a payload from a whole body and its `Content-Type`. Without a type, the first
    /// non-blank byte decides: `<` is XML, `{`/`[` JSON, anything else is kept as bytes.
    pub fn parse(bytes: Bytes, content_type: Option<&str>) -> Result<Payload, PayloadError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Payload::Empty);
        }
        let kind = match content_type {
            // An empty Content-Type finds no builder in MI, which then reads the body as plain
            // XML (DeferredMessageBuilder.getDocument; MI test PayloadMediaTypeJsonXmlDefault).
            Some(ct) if ct.trim().is_empty() => ContentKind::Xml,
            Some(ct) => ContentKind::of(ct),
            None => match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'<') => ContentKind::Xml,
                Some(b'{') | Some(b'[') => ContentKind::Json,
                _ => ContentKind::Other,
            },
        };
        match kind {
            ContentKind::Json => Ok(Payload::Json(json_payload(&bytes)?)),
            ContentKind::Xml | ContentKind::Soap11 | ContentKind::Soap12 => {
                let text =
                    String::from_utf8(bytes.to_vec()).map_err(|e| PayloadError::Malformed {
                        kind: "XML",
                        detail: format!("not UTF-8: {e}"),
                    })?;
                Payload::xml(text)
            }
            ContentKind::Text => match String::from_utf8(bytes.to_vec()) {
                Ok(text) => Ok(Payload::Text(text)),
                Err(_) => Ok(Payload::Binary(bytes)),
            },
            ContentKind::Other => Ok(Payload::Binary(bytes)),
        }
    }

    /// An XML payload from text, checked for well-formedness; a root `Envelope` in a SOAP
    /// namespace makes it a SOAP message.
    pub fn xml(text: String) -> Result<Payload, PayloadError> {
        limits::check_xml(&text)?;
        let soap = {
            let doc = parse_document(&text).map_err(|detail| PayloadError::Malformed {
                kind: "XML",
                detail,
            })?;
            soap_version(doc.root_element())
        };
        Ok(Payload::Xml { text, soap })
    }

    /// The message as MI's XPath sees it: a SOAP envelope whose body holds the payload.
    pub fn envelope_xml(&self) -> Cow<'_, str> {
        match self {
            Payload::Xml {
                text,
                soap: Some(_),
            } => Cow::Borrowed(text.as_str()),
            Payload::Xml { text, soap: None } => {
                Cow::Owned(wrap_in_envelope(strip_prolog(text), SoapVersion::Soap11))
            }
            Payload::Json(value) => {
                Cow::Owned(wrap_in_envelope(&json_as_xml(value), SoapVersion::Soap11))
            }
            Payload::Text(text) => Cow::Owned(wrap_in_envelope(
                &format!(
                    "<ns:text xmlns:ns=\"{PAYLOAD_NS}\">{}</ns:text>",
                    escape_text(text)
                ),
                SoapVersion::Soap11,
            )),
            Payload::Binary(bytes) => {
                use base64::Engine as _;
                Cow::Owned(wrap_in_envelope(
                    &format!(
                        "<ns:binary xmlns:ns=\"{PAYLOAD_NS}\">{}</ns:binary>",
                        base64::engine::general_purpose::STANDARD.encode(bytes)
                    ),
                    SoapVersion::Soap11,
                ))
            }
            Payload::Empty => Cow::Owned(wrap_in_envelope("", SoapVersion::Soap11)),
        }
    }

    /// The payload element(s) as XML text: the children of the SOAP body for an envelope, the
    /// document itself otherwise.
    pub fn body_xml(&self) -> String {
        match self {
            Payload::Xml {
                text,
                soap: Some(_),
            } => body_children_xml(text),
            Payload::Xml { text, soap: None } => strip_prolog(text).to_string(),
            Payload::Json(value) => json_as_xml(value),
            Payload::Text(_) | Payload::Binary(_) | Payload::Empty => {
                body_children_xml(&self.envelope_xml())
            }
        }
    }

    /// Replaces the payload with XML: the body's content when the message is a SOAP envelope
    /// (and `xml` is not an envelope itself), the whole message otherwise.
    pub fn set_body_xml(&mut self, xml: &str) -> Result<(), PayloadError> {
        let replacement = Payload::xml(xml.to_string())?;
        if let (
            Payload::Xml {
                text,
                soap: Some(version),
            },
            Payload::Xml { soap: None, .. },
        ) = (&*self, &replacement)
        {
            let version = *version;
            let spliced =
                replace_body_content(text, xml).map_err(|detail| PayloadError::Malformed {
                    kind: "XML",
                    detail,
                })?;
            *self = Payload::Xml {
                text: spliced,
                soap: Some(version),
            };
            return Ok(());
        }
        *self = replacement;
        Ok(())
    }

    /// The bytes to send for this payload in the format `out` asks for, and the content type
    /// they are in when `out` does not say (`None` keeps the message's own).
    pub fn serialize(&self, out: Option<ContentKind>) -> Result<Bytes, PayloadError> {
        let out = out.unwrap_or(match self {
            Payload::Json(_) => ContentKind::Json,
            Payload::Xml {
                soap: Some(SoapVersion::Soap11),
                ..
            } => ContentKind::Soap11,
            Payload::Xml {
                soap: Some(SoapVersion::Soap12),
                ..
            } => ContentKind::Soap12,
            Payload::Xml { soap: None, .. } => ContentKind::Xml,
            Payload::Text(_) => ContentKind::Text,
            Payload::Binary(_) | Payload::Empty => ContentKind::Other,
        });
        let text: String = match (self, out) {
            (Payload::Empty, _) => String::new(),
            (Payload::Binary(bytes), _) => return Ok(bytes.clone()),
            (Payload::Json(json), ContentKind::Json | ContentKind::Text | ContentKind::Other) => {
                json.to_string()
            }
            (Payload::Json(value), ContentKind::Xml) => json_as_xml(value),
            (Payload::Json(value), ContentKind::Soap11) => {
                wrap_in_envelope(&json_as_xml(value), SoapVersion::Soap11)
            }
            (Payload::Json(value), ContentKind::Soap12) => {
                wrap_in_envelope(&json_as_xml(value), SoapVersion::Soap12)
            }
            (Payload::Xml { text, soap }, ContentKind::Json) => {
                let xml = match soap {
                    Some(_) => self.body_xml(),
                    None => strip_prolog(text).to_string(),
                };
                match parse_document(&xml) {
                    Ok(doc) => json::xml_to_json_text(doc.root_element()),
                    // A body with several payload elements: each converted, MI keeps the first.
                    Err(_) => first_element_json(&xml),
                }
            }
            (
                Payload::Xml {
                    text,
                    soap: Some(_),
                },
                ContentKind::Soap11 | ContentKind::Soap12,
            ) => text.clone(),
            (Payload::Xml { soap: Some(_), .. }, _) => self.body_xml(),
            (Payload::Xml { text, soap: None }, ContentKind::Soap11) => {
                wrap_in_envelope(strip_prolog(text), SoapVersion::Soap11)
            }
            (Payload::Xml { text, soap: None }, ContentKind::Soap12) => {
                wrap_in_envelope(strip_prolog(text), SoapVersion::Soap12)
            }
            (Payload::Xml { text, soap: None }, ContentKind::Text) => match parse_document(text) {
                // MI's PlainTextFormatter writes the text of the payload element.
                Ok(doc) => doc
                    .root_element()
                    .descendants()
                    .filter(|n| n.is_text())
                    .filter_map(|n| n.text())
                    .collect(),
                Err(_) => text.clone(),
            },
            (Payload::Xml { text, soap: None }, _) => text.clone(),
            (Payload::Text(text), ContentKind::Xml) => format!(
                "<ns:text xmlns:ns=\"{PAYLOAD_NS}\">{}</ns:text>",
                escape_text(text)
            ),
            (Payload::Text(text), ContentKind::Soap11 | ContentKind::Soap12) => {
                let version = if out == ContentKind::Soap12 {
                    SoapVersion::Soap12
                } else {
                    SoapVersion::Soap11
                };
                wrap_in_envelope(
                    &format!(
                        "<ns:text xmlns:ns=\"{PAYLOAD_NS}\">{}</ns:text>",
                        escape_text(text)
                    ),
                    version,
                )
            }
            (Payload::Text(text), _) => text.clone(),
        };
        Ok(Bytes::from(text))
    }

    /// The content type this payload is naturally written with.
    pub fn natural_content_type(&self) -> Option<&'static str> {
        match self {
            Payload::Json(_) => Some("application/json"),
            Payload::Xml {
                soap: Some(version),
                ..
            } => Some(version.content_type()),
            Payload::Xml { soap: None, .. } => Some("application/xml"),
            Payload::Text(_) => Some("text/plain"),
            Payload::Binary(_) | Payload::Empty => None,
        }
    }
}

fn first_element_json(xml: &str) -> String {
    let wrapped = format!("<w>{xml}</w>");
    match parse_document(&wrapped) {
        Ok(doc) => doc
            .root_element()
            .children()
            .find(|n| n.is_element())
            .map(json::xml_to_json_text)
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// A JSON value as MI shows it to XPath and writes it as XML: `<jsonObject>`... without the
/// `xml-multiple` processing instructions (MI's defaults: `JsonDataSource`, `JsonUtil.toXml`;
/// `[mediation]` JSON settings can change that, see [`json::JsonToXmlOptions::configured`]).
pub fn json_as_xml(value: &serde_json::Value) -> String {
    json::json_to_xml_with(value, json::JsonToXmlOptions::configured())
}

/// Parses message XML: no DTDs (no entity expansion, no external entity is ever fetched; MI's
/// own parsers set `SUPPORT_DTD` false, e.g. wso2/micro-integrator `RequestProcessorUtil`), and
/// at most [`MAX_XML_NODES`] nodes. Text from outside passes [`limits::check_xml`] first
/// ([`Payload::xml`]).
pub fn parse_document(text: &str) -> Result<roxmltree::Document<'_>, String> {
    roxmltree::Document::parse_with_options(
        text,
        roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: MAX_XML_NODES,
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())
}

pub use limits::MAX_XML_NODES;

/// The SOAP version of an `Envelope` root element, if it is one.
pub fn soap_version(root: roxmltree::Node) -> Option<SoapVersion> {
    if root.tag_name().name() != "Envelope" {
        return None;
    }
    match root.tag_name().namespace() {
        Some(SOAP11_NS) => Some(SoapVersion::Soap11),
        Some(SOAP12_NS) => Some(SoapVersion::Soap12),
        _ => None,
    }
}

/// The element children of a SOAP envelope's body, serialised one after the other.
fn body_children_xml(envelope: &str) -> String {
    let Ok(doc) = parse_document(envelope) else {
        return String::new();
    };
    body_element(&doc)
        .map(|body| {
            body.children()
                .filter(|n| n.is_element())
                .map(crate::xpath::serialize)
                .collect()
        })
        .unwrap_or_default()
}

/// The reason of a SOAP fault message (`faultstring`, or SOAP 1.2 `Reason/Text`), when the payload
/// is one; `None` for any other message.
pub fn soap_fault_reason(payload: &Payload) -> Option<String> {
    let Payload::Xml {
        text,
        soap: Some(version),
    } = payload
    else {
        return None;
    };
    let doc = parse_document(text).ok()?;
    let fault = body_element(&doc)?.first_element_child().filter(|f| {
        f.tag_name().name() == "Fault" && f.tag_name().namespace() == Some(version.namespace())
    })?;
    let reason = fault
        .descendants()
        .find(|n| n.is_element() && matches!(n.tag_name().name(), "faultstring" | "Text"))
        .and_then(|n| n.text())
        .unwrap_or("SOAP fault")
        .trim()
        .to_string();
    Some(reason)
}

/// The `Body` element of a SOAP envelope document.
pub fn body_element<'a, 'i>(doc: &'a roxmltree::Document<'i>) -> Option<roxmltree::Node<'a, 'i>> {
    let root = doc.root_element();
    let ns = soap_version(root)?.namespace();
    root.children().find(|n| {
        n.is_element() && n.tag_name().name() == "Body" && n.tag_name().namespace() == Some(ns)
    })
}

/// `xml` without its XML declaration, processing instructions before the root, or leading
/// whitespace, so that it can be placed inside another element.
pub fn strip_prolog(xml: &str) -> &str {
    let mut rest = xml.trim_start();
    while let Some(after) = rest.strip_prefix("<?") {
        match after.find("?>") {
            Some(end) => rest = after[end + 2..].trim_start(),
            None => break,
        }
    }
    while let Some(after) = rest.strip_prefix("<!--") {
        match after.find("-->") {
            Some(end) => rest = after[end + 3..].trim_start(),
            None => break,
        }
    }
    rest.trim_end()
}

/// `payload` as the body of a SOAP envelope (MI wraps POX and JSON messages the same way).
pub fn wrap_in_envelope(payload: &str, version: SoapVersion) -> String {
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"{}\"><soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>",
        version.namespace()
    )
}

/// The envelope text with the content of its `Body` replaced by `content`.
pub fn replace_body_content(envelope: &str, content: &str) -> Result<String, String> {
    let doc = parse_document(envelope)?;
    let body = body_element(&doc).ok_or("the SOAP envelope has no Body")?;
    Ok(splice_element_content(envelope, body, content))
}

/// `text` with the content of `element` (a node of a document parsed from `text`) replaced.
pub fn splice_element_content(text: &str, element: roxmltree::Node, content: &str) -> String {
    let range = element.range();
    let whole = &text[range.clone()];
    if let Some(start_tag) = whole.strip_suffix("/>") {
        // `<x .../>`: open it up.
        let qname = qualified_name(whole);
        return format!(
            "{}{start_tag}>{content}</{qname}>{}",
            &text[..range.start],
            &text[range.end..]
        );
    }
    let inner_start = range.start + start_tag_len(whole);
    let inner_end = range.end - whole.rfind("</").map_or(0, |i| whole.len() - i);
    format!("{}{content}{}", &text[..inner_start], &text[inner_end..])
}

/// `text` with `content` appended as the last children of `element`.
pub fn append_child_content(text: &str, element: roxmltree::Node, content: &str) -> String {
    let range = element.range();
    let whole = &text[range.clone()];
    if whole.ends_with("/>") {
        return splice_element_content(text, element, content);
    }
    let end_tag_start = range.start + whole.rfind("</").unwrap_or(whole.len());
    format!(
        "{}{content}{}",
        &text[..end_tag_start],
        &text[end_tag_start..]
    )
}

/// The qualified name of the element whose text starts `tag` (`<p:name ...`).
fn qualified_name(tag: &str) -> &str {
    let after = tag.strip_prefix('<').unwrap_or(tag);
    let end = after
        .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
        .unwrap_or(after.len());
    &after[..end]
}

/// The length of the start tag at the beginning of `element_text`, quotes respected.
fn start_tag_len(element_text: &str) -> usize {
    let mut quote: Option<u8> = None;
    for (i, b) in element_text.bytes().enumerate() {
        match (quote, b) {
            (Some(q), b) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"') | (None, b'\'') => quote = Some(b),
            (None, b'>') => return i + 1,
            _ => {}
        }
    }
    element_text.len()
}

/// Escapes character data for XML text content.
pub fn escape_text(s: &str) -> Cow<'_, str> {
    if !s.contains(['<', '>', '&']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Escapes an attribute value (double-quoted).
pub fn escape_attribute(s: &str) -> Cow<'_, str> {
    if !s.contains(['<', '>', '&', '"']) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(escape_text(s).replace('"', "&quot;"))
}

/// `envelope` with a new SOAP `Header` (carrying `declarations`, e.g. ` xmlns:wsa="..."`, and
/// `content`) inserted before its `Body`, named with the envelope's own prefix; for envelopes that
/// have no header yet.
pub fn insert_soap_header(
    envelope: &str,
    root: roxmltree::Node,
    declarations: &str,
    content: &str,
) -> Result<String, String> {
    let body = root
        .children()
        .find(|n| n.is_element() && n.tag_name().name() == "Body")
        .ok_or("the SOAP envelope has no Body")?;
    let at = body.range().start;
    let prefix = root
        .tag_name()
        .namespace()
        .and_then(|u| root.lookup_prefix(u))
        .filter(|p| !p.is_empty())
        .map(|p| format!("{p}:"))
        .unwrap_or_default();
    Ok(format!(
        "{}<{prefix}Header{declarations}>{content}</{prefix}Header>{}",
        &envelope[..at],
        &envelope[at..]
    ))
}

/// Synapse's string value of one element (SynapseXPath.stringValueOf): its trimmed direct text,
/// or its XML when it has none. Text that is not XML stays as it is.
pub fn element_string_value(xml: &str) -> String {
    let Ok(doc) = parse_document(xml.trim()) else {
        return xml.to_string();
    };
    let root = doc.root_element();
    let text: String = root
        .children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect();
    if text.trim().is_empty() {
        crate::xpath::serialize(root)
    } else {
        text.trim().to_string()
    }
}

/// An `application/x-www-form-urlencoded` body as MI writes a built one (synapse
/// XFormURLEncodedFormatter.getBytes): each name and value decoded, then encoded as Java's
/// `URLEncoder` does with `+` turned into `%20`. `None` when the body is not such a form.
pub fn reencode_form(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let decode = |part: &str| -> Option<String> {
        percent_encoding::percent_decode_str(&part.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    };
    // URLEncoder keeps ASCII letters, digits and `.-*_`; everything else is %XX of its UTF-8.
    let encode = |value: &str| -> String {
        let mut out = String::with_capacity(value.len());
        for byte in value.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'*' | b'_') {
                out.push(byte as char);
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
        out
    };
    let mut pairs = Vec::new();
    for pair in text.trim().split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        pairs.push(format!(
            "{}={}",
            encode(&decode(name)?),
            encode(&decode(value)?)
        ));
    }
    Some(pairs.join("&"))
}

/// The WS-Addressing namespaces MI's addressing module understands (final and submission).
const WSA_NAMESPACES: [&str; 2] = [
    "http://www.w3.org/2005/08/addressing",
    "http://schemas.xmlsoap.org/ws/2004/08/addressing",
];

/// The WS-Addressing header blocks of a SOAP envelope as (field, value): `To`, `Action`,
/// `MessageID` and `RelatesTo` by their text, `ReplyTo`/`FaultTo`/`From` by their `Address`.
pub fn addressing_headers(envelope: &str) -> Vec<(String, String)> {
    let Ok(doc) = parse_document(envelope) else {
        return Vec::new();
    };
    let root = doc.root_element();
    let Some(ns) = soap_version(root).map(|v| v.namespace()) else {
        return Vec::new();
    };
    let is_wsa = |n: &roxmltree::Node| {
        n.is_element()
            && n.tag_name()
                .namespace()
                .is_some_and(|uri| WSA_NAMESPACES.contains(&uri))
    };
    let text = |n: roxmltree::Node| -> String {
        n.descendants()
            .filter(|d| d.is_text())
            .filter_map(|d| d.text())
            .collect::<String>()
            .trim()
            .to_string()
    };
    let mut out = Vec::new();
    let headers = root.children().filter(|n| {
        n.is_element() && n.tag_name().name() == "Header" && n.tag_name().namespace() == Some(ns)
    });
    for block in headers.flat_map(|h| h.children()).filter(is_wsa) {
        let name = block.tag_name().name();
        let value = match name {
            "To" | "Action" | "MessageID" | "RelatesTo" => text(block),
            "ReplyTo" | "FaultTo" | "From" => match block
                .children()
                .find(|c| is_wsa(c) && c.tag_name().name() == "Address")
            {
                Some(address) => text(address),
                None => continue,
            },
            _ => continue,
        };
        out.push((name.to_string(), value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_body(text: &str) -> Result<JsonPayload, PayloadError> {
        match Payload::parse(Bytes::from(text.to_owned()), Some("application/json"))? {
            Payload::Json(json) => Ok(json),
            other => panic!("{text}: not JSON: {other:?}"),
        }
    }

    // A received body is checked whole but built only when read: what it builds to, what it
    // refuses and the text it goes out as are the eager parse's (parse_json_body).
    #[test]
    fn a_received_json_body_is_checked_at_once_and_built_when_read() {
        let documents = [
            r#"{"kind":"a","items":[{"sku":"S-1","qty":2}],"n":1.5e3}"#,
            " [1, 2, {\"a\": null}] ",
            r#"{"k\u0069nd":"x","s":"caf\u00e9 \ud83d\ude00"}"#,
            r#"{"kind":"a","kind":"b"}"#,
            "\"text\"",
            // Kept eager: a raw control character (MI's builder takes it), an `@` key.
            "{\"a\":\"tab\there\"}",
            r#"{"@id":"1","a":2}"#,
        ];
        for text in documents {
            let lazy = json_body(text).unwrap();
            let eager = parse_json_body(text.as_bytes()).unwrap();
            assert_eq!(lazy.original_text(), Some(text));
            assert_eq!(lazy.value(), &eager, "{text}");
            assert!(lazy.is_built());
        }
        assert!(!json_body(documents[0]).unwrap().is_built());
        assert!(json_body(documents[5]).unwrap().is_built());
        assert!(json_body(documents[6]).unwrap().is_built());
        for bad in [
            r#"{"a":1e400}"#,
            r#"{"a":"\ud800"}"#,
            "{\"a\":1} x",
            "[1,]",
            "{",
        ] {
            assert_eq!(
                json_body(bad).err(),
                parse_json_body(bad.as_bytes()).err(),
                "{bad}"
            );
            assert!(json_body(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn one_member_chain_read_views_the_text_and_the_next_builds_the_value() {
        let text = r#"{"kind":"a","customer":{"tier":"gold","n":[1,2]},"items":[{"q":1}]}"#;
        let names = |path: &[&str]| path.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let json = json_body(text).unwrap();
        assert_eq!(
            json.member_view(&names(&["customer", "tier"])),
            Some(serde_json::json!({"customer": {"tier": "gold"}}))
        );
        assert!(!json.is_built());
        assert_eq!(json.member_view(&names(&["kind"])), None, "second read");
        let fresh = json_body(text).unwrap();
        assert_eq!(
            fresh.member_view(&names(&["missing", "x"])),
            Some(serde_json::json!({}))
        );
        let fresh = json_body(text).unwrap();
        assert_eq!(
            fresh.member_view(&names(&["kind", "x"])),
            None,
            "not an object"
        );
        let built = json_body(text).unwrap();
        built.value();
        assert_eq!(
            built.member_view(&names(&["kind"])),
            None,
            "built: read the value"
        );
    }

    // MI test UrlEncordedFormPostViaProxyTestCase: spaces become %20, %25 stays, + becomes %2B.
    #[test]
    fn a_built_form_is_written_as_mi_encodes_it() {
        assert_eq!(
            reencode_form(b"test1=Hello+World&test2=a+%25&test3=x%2By&flag").as_deref(),
            Some("test1=Hello%20World&test2=a%20%25&test3=x%2By&flag=")
        );
        assert_eq!(reencode_form(&[0xff]), None);
    }

    // Axis2 AddressingInHandler (final and submission namespaces): To, Action, MessageID by text,
    // ReplyTo by its Address; other header blocks are not addressing.
    #[test]
    fn addressing_headers_are_read_from_the_soap_header() {
        let envelope = format!(
            r#"<s:Envelope xmlns:s="{SOAP11_NS}"><s:Header xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:To>http://localhost:9000/services/S</wsa:To><wsa:MessageID>urn:uuid:1</wsa:MessageID><wsa:Action>urn:getQuote</wsa:Action><wsa:ReplyTo><wsa:Address>http://r</wsa:Address></wsa:ReplyTo><x:Other xmlns:x="urn:x">o</x:Other></s:Header><s:Body/></s:Envelope>"#
        );
        assert_eq!(
            addressing_headers(&envelope),
            [
                ("To", "http://localhost:9000/services/S"),
                ("MessageID", "urn:uuid:1"),
                ("Action", "urn:getQuote"),
                ("ReplyTo", "http://r"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert!(addressing_headers("<a/>").is_empty());
    }

    #[test]
    fn content_types_are_classified_like_mi_builders() {
        assert_eq!(
            ContentKind::of("application/json; charset=UTF-8"),
            ContentKind::Json
        );
        assert_eq!(ContentKind::of("text/xml"), ContentKind::Soap11);
        assert_eq!(
            ContentKind::of("application/soap+xml;action=x"),
            ContentKind::Soap12
        );
        assert_eq!(ContentKind::of("APPLICATION/XML"), ContentKind::Xml);
        assert_eq!(ContentKind::of("application/atom+xml"), ContentKind::Xml);
        assert_eq!(ContentKind::of("application/vnd.x+json"), ContentKind::Json);
        assert_eq!(ContentKind::of("text/plain"), ContentKind::Text);
        assert_eq!(ContentKind::of("image/png"), ContentKind::Other);
    }

    #[test]
    fn bodies_build_by_type_and_malformed_ones_are_errors() {
        assert_eq!(
            Payload::parse(Bytes::from_static(b"{\"a\":1}"), Some("application/json")).unwrap(),
            Payload::Json(serde_json::json!({"a": 1}).into())
        );
        assert!(matches!(
            Payload::parse(Bytes::from_static(b"{\"a\":"), Some("application/json")),
            Err(PayloadError::Malformed { kind: "JSON", .. })
        ));
        assert!(matches!(
            Payload::parse(Bytes::from_static(b"<a><b></a>"), Some("application/xml")),
            Err(PayloadError::Malformed { kind: "XML", .. })
        ));
        let soap = format!(
            "<s:Envelope xmlns:s=\"{SOAP11_NS}\"><s:Body><m:q xmlns:m=\"urn:m\">IBM</m:q></s:Body></s:Envelope>"
        );
        assert!(matches!(
            Payload::parse(Bytes::from(soap), Some("text/xml")).unwrap(),
            Payload::Xml {
                soap: Some(SoapVersion::Soap11),
                ..
            }
        ));
        assert_eq!(
            Payload::parse(Bytes::from_static(b"  "), Some("application/json")).unwrap(),
            Payload::Empty
        );
        assert_eq!(
            Payload::parse(Bytes::from_static(b"<a/>"), None).unwrap(),
            Payload::Xml {
                text: "<a/>".into(),
                soap: None
            }
        );
    }

    #[test]
    fn a_dtd_is_refused_so_entities_cannot_expand() {
        let bomb = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]><a>&lol2;</a>";
        assert!(Payload::parse(Bytes::from(bomb), Some("application/xml")).is_err());
    }

    #[test]
    fn soap_faults_are_recognised_by_their_body() {
        let fault = format!(
            "<s:Envelope xmlns:s=\"{SOAP11_NS}\"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>down</faultstring></s:Fault></s:Body></s:Envelope>"
        );
        assert_eq!(
            soap_fault_reason(&Payload::xml(fault).unwrap()).as_deref(),
            Some("down")
        );
        let ok = format!("<s:Envelope xmlns:s=\"{SOAP11_NS}\"><s:Body><r/></s:Body></s:Envelope>");
        assert_eq!(soap_fault_reason(&Payload::xml(ok).unwrap()), None);
        assert_eq!(
            soap_fault_reason(&Payload::xml("<Fault/>".into()).unwrap()),
            None
        );
    }

    #[test]
    fn pox_is_wrapped_in_an_envelope_for_xpath() {
        let p = Payload::xml("<?xml version=\"1.0\"?>\n<a>1</a>".into()).unwrap();
        let env = p.envelope_xml();
        assert!(
            env.contains("<soapenv:Body><a>1</a></soapenv:Body>"),
            "{env}"
        );
    }

    #[test]
    fn body_content_is_replaced_inside_an_envelope() {
        let soap = format!(
            "<s:Envelope xmlns:s=\"{SOAP11_NS}\"><s:Header/><s:Body><old/></s:Body></s:Envelope>"
        );
        let mut p = Payload::xml(soap).unwrap();
        p.set_body_xml("<new>1</new>").unwrap();
        let Payload::Xml { text, soap } = &p else {
            panic!()
        };
        assert_eq!(*soap, Some(SoapVersion::Soap11));
        assert!(text.contains("<s:Body><new>1</new></s:Body>"), "{text}");

        let empty_body = format!("<s:Envelope xmlns:s=\"{SOAP11_NS}\"><s:Body/></s:Envelope>");
        let mut p = Payload::xml(empty_body).unwrap();
        p.set_body_xml("<n/>").unwrap();
        let Payload::Xml { text, .. } = &p else {
            panic!()
        };
        assert!(text.contains("<s:Body><n/></s:Body>"), "{text}");
    }

    #[test]
    fn serialising_converts_between_formats_as_mi_formatters_do() {
        let soap = format!(
            "<s:Envelope xmlns:s=\"{SOAP11_NS}\"><s:Body><r><a>1</a></r></s:Body></s:Envelope>"
        );
        let p = Payload::xml(soap.clone()).unwrap();
        assert_eq!(
            p.serialize(Some(ContentKind::Xml)).unwrap(),
            Bytes::from_static(b"<r><a>1</a></r>")
        );
        assert_eq!(p.serialize(None).unwrap(), Bytes::from(soap));
        let pox = Payload::xml("<r><a>x</a></r>".into()).unwrap();
        let soap_out = pox.serialize(Some(ContentKind::Soap11)).unwrap();
        assert!(
            std::str::from_utf8(&soap_out)
                .unwrap()
                .contains("<soapenv:Body><r><a>x</a></r>")
        );
        let text = Payload::Text("a<b".into());
        assert_eq!(
            text.serialize(Some(ContentKind::Text)).unwrap(),
            Bytes::from_static(b"a<b")
        );
    }

    #[test]
    fn element_content_splices_respect_quotes_and_self_closing_tags() {
        let text = "<r a=\"x>y\"><c/><d/></r>";
        let doc = parse_document(text).unwrap();
        let r = doc.root_element();
        assert_eq!(
            splice_element_content(text, r, "<z/>"),
            "<r a=\"x>y\"><z/></r>"
        );
        assert_eq!(
            append_child_content(text, r, "<z/>"),
            "<r a=\"x>y\"><c/><d/><z/></r>"
        );
        let c = r.first_element_child().unwrap();
        assert_eq!(
            splice_element_content(text, c, "1"),
            "<r a=\"x>y\"><c>1</c><d/></r>"
        );
    }
}
