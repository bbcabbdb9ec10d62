//! `<header>` (SYN `mediators/transform/HeaderMediator.java`): with `scope="transport"` it sets or
//! removes an HTTP header of the current message; otherwise it acts on the SOAP envelope: the
//! WS-Addressing names `To`, `From`, `Action`, `FaultTo`, `ReplyTo`, `RelatesTo` set
//! or clear the message's addressing fields (a `To` address is where `<send/>` without an endpoint
//! goes), and any other name adds or removes a SOAP header block (SOAP messages only: a plain XML or
//! JSON message has no envelope on the wire, so a header block would vanish as it does in MI).

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope};
use crate::runtime::payload::{
    Payload, escape_attribute, escape_text, parse_document, soap_version,
};
use crate::runtime::value::ValueSource;

/// The addressing header names HeaderMediator maps to message fields.
pub const ADDRESSING_HEADERS: [&str; 7] = [
    "To",
    "From",
    "Action",
    "FaultTo",
    "ReplyTo",
    "RelatesTo",
    "MessageID",
];

#[derive(Debug, Clone)]
pub enum HeaderTarget {
    Transport(String),
    Addressing(String),
    /// A SOAP header block `{namespace}local`, written with `prefix`.
    SoapBlock {
        prefix: String,
        namespace: String,
        local: String,
    },
}

#[derive(Debug, Clone)]
pub enum HeaderContent {
    Value(ValueSource),
    /// Inline XML: the header block itself.
    Xml(String),
}

#[derive(Debug, Clone)]
pub struct Header {
    pub target: HeaderTarget,
    /// `None` removes.
    pub content: Option<HeaderContent>,
}

impl Header {
    pub fn needs_payload(&self) -> bool {
        matches!(self.target, HeaderTarget::SoapBlock { .. })
            || matches!(&self.content, Some(HeaderContent::Value(v)) if v.needs_payload())
    }

    pub fn apply<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<(), String> {
        let value = match &self.content {
            Some(HeaderContent::Value(v)) => Some(v.resolve(ctx)?),
            Some(HeaderContent::Xml(x)) => Some(x.clone()),
            None => None,
        };
        match (&self.target, value) {
            (HeaderTarget::Transport(name), Some(v)) => ctx.set(Scope::Transport, name, v),
            (HeaderTarget::Transport(name), None) => {
                ctx.remove(Scope::Transport, name);
                Ok(())
            }
            (HeaderTarget::Addressing(name), Some(v)) => {
                ctx.addressing.insert(name.clone(), v);
                Ok(())
            }
            (HeaderTarget::Addressing(name), None) => {
                ctx.addressing.remove(name);
                // Removing `To` also forgets the request's own address (MI sets it to null).
                if name == "To" {
                    ctx.addressing.insert("To".into(), String::new());
                }
                Ok(())
            }
            (
                HeaderTarget::SoapBlock {
                    prefix,
                    namespace,
                    local,
                },
                value,
            ) => {
                let Some(Payload::Xml {
                    text,
                    soap: Some(version),
                }) = &ctx.payload
                else {
                    return Ok(());
                };
                let version = *version;
                let edited = edit_soap_header(
                    text,
                    prefix,
                    namespace,
                    local,
                    value.as_deref(),
                    matches!(self.content, Some(HeaderContent::Xml(_))),
                )?;
                ctx.set_payload(Payload::Xml {
                    text: edited,
                    soap: Some(version),
                });
                Ok(())
            }
        }
    }
}

/// Adds (or replaces) or removes a header block in a SOAP envelope's text.
fn edit_soap_header(
    envelope: &str,
    prefix: &str,
    namespace: &str,
    local: &str,
    value: Option<&str>,
    value_is_xml: bool,
) -> Result<String, String> {
    let doc = parse_document(envelope)?;
    let root = doc.root_element();
    let ns = soap_version(root).ok_or("not a SOAP envelope")?.namespace();
    let header = root.children().find(|n| {
        n.is_element() && n.tag_name().name() == "Header" && n.tag_name().namespace() == Some(ns)
    });
    let existing = header.and_then(|h| {
        h.children().find(|n| {
            n.is_element()
                && n.tag_name().name() == local
                && n.tag_name().namespace().unwrap_or("") == namespace
        })
    });
    let mut text = envelope.to_string();
    if let Some(old) = existing {
        let r = old.range();
        text.replace_range(r, "");
    }
    let Some(value) = value else {
        return Ok(text);
    };
    let block = if value_is_xml {
        value.to_string()
    } else if prefix.is_empty() {
        format!(
            "<{local} xmlns=\"{}\">{}</{local}>",
            escape_attribute(namespace),
            escape_text(value)
        )
    } else {
        format!(
            "<{prefix}:{local} xmlns:{prefix}=\"{}\">{}</{prefix}:{local}>",
            escape_attribute(namespace),
            escape_text(value)
        )
    };
    // Re-parse: the removal above shifted offsets.
    let doc = parse_document(&text)?;
    let root = doc.root_element();
    let header = root.children().find(|n| {
        n.is_element() && n.tag_name().name() == "Header" && n.tag_name().namespace() == Some(ns)
    });
    Ok(match header {
        Some(h) => crate::runtime::payload::append_child_content(&text, h, &block),
        None => crate::runtime::payload::insert_soap_header(&text, root, "", &block)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::payload::SOAP11_NS;
    use http::Method;

    #[test]
    fn soap_header_blocks_are_added_and_removed() {
        let env = format!("<s:Envelope xmlns:s=\"{SOAP11_NS}\"><s:Body><a/></s:Body></s:Envelope>");
        let added = edit_soap_header(&env, "h", "urn:h", "Token", Some("t&1"), false).unwrap();
        assert!(
            added.contains(
                "<s:Header><h:Token xmlns:h=\"urn:h\">t&amp;1</h:Token></s:Header><s:Body>"
            ),
            "{added}"
        );
        let removed = edit_soap_header(&added, "h", "urn:h", "Token", None, false).unwrap();
        assert!(!removed.contains("Token"), "{removed}");
    }

    #[test]
    fn addressing_to_is_set_and_cleared() {
        let mut c: MessageContext<http_body_util::Full<bytes::Bytes>> =
            crate::runtime::context::test_context(Method::GET, "/a");
        let set = Header {
            target: HeaderTarget::Addressing("To".into()),
            content: Some(HeaderContent::Value(ValueSource::Literal(
                "http://b/x".into(),
            ))),
        };
        set.apply(&mut c).unwrap();
        assert_eq!(c.to_address(), "http://b/x");
        Header {
            target: HeaderTarget::Addressing("To".into()),
            content: None,
        }
        .apply(&mut c)
        .unwrap();
        assert_eq!(c.to_address(), "");
    }
}
