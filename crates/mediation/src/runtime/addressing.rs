//! WS-Addressing on requests to an endpoint with `<enableAddressing/>`: what Axis2's
//! AddressingOutHandler adds when Synapse engages addressing for the send
//! (Axis2FlexibleMEPClient, AddressEndpointFactory). The message goes out as a SOAP envelope whose
//! header carries `wsa:From`, `wsa:MessageID`, `wsa:Action`, `wsa:RelatesTo` (as the message has
//! them, e.g. from header mediators) and `wsa:To` (the endpoint's address), in the final
//! WS-Addressing namespace.

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;
use crate::runtime::payload::{ContentKind, Payload, escape_text, parse_document, soap_version};
#[cfg(test)]
use crate::runtime::payload::{SOAP11_NS, SOAP12_NS};

/// The final WS-Addressing namespace Axis2 writes.
pub const WSA_NS: &str = "http://www.w3.org/2005/08/addressing";

/// Turns the built payload into a SOAP envelope (of the version the message goes out as) carrying
/// the WS-Addressing headers for a request to `to`.
pub fn engage<B: MessageBody>(ctx: &mut MessageContext<B>, to: &str) -> Result<(), String> {
    let soap12 = ctx
        .get(
            crate::runtime::Scope::Axis2,
            crate::runtime::context::props::MESSAGE_TYPE,
        )
        .or_else(|| {
            ctx.headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .is_some_and(|t| ContentKind::of(&t) == ContentKind::Soap12);
    let kind = if soap12 {
        ContentKind::Soap12
    } else {
        ContentKind::Soap11
    };
    let payload = ctx.payload.take().unwrap_or(Payload::Empty);
    let bytes = payload.serialize(Some(kind)).map_err(|e| e.to_string())?;
    let envelope = String::from_utf8(bytes.to_vec()).map_err(|e| e.to_string())?;
    let action = ctx.wsa_action();
    let message_id = ctx
        .addressing
        .get("MessageID")
        .cloned()
        .unwrap_or_else(|| ctx.message_id());
    let mut fields: Vec<(&str, String)> = Vec::new();
    if let Some(from) = ctx.addressing.get("From") {
        fields.push((
            "From",
            format!("<wsa:Address>{}</wsa:Address>", escape_text(from)),
        ));
    }
    fields.push(("MessageID", escape_text(&message_id).into_owned()));
    if let Some(action) = &action {
        fields.push(("Action", escape_text(action).into_owned()));
    }
    if let Some(relates) = ctx.addressing.get("RelatesTo") {
        fields.push(("RelatesTo", escape_text(relates).into_owned()));
    }
    fields.push(("To", escape_text(to).into_owned()));
    let text = insert_header_blocks(&envelope, &fields)?;
    ctx.set_payload(Payload::xml(text).map_err(|e| e.to_string())?);
    Ok(())
}

/// Appends the `wsa:` blocks (name, content as XML) to the envelope's header; a header created
/// here declares the namespace once (as Axis2 writes it), an existing one gets it on each block
/// unless it is in scope already.
fn insert_header_blocks(envelope: &str, fields: &[(&str, String)]) -> Result<String, String> {
    let write = |declare: bool, present: &[&str]| -> String {
        let declaration = if declare {
            format!(" xmlns:wsa=\"{WSA_NS}\"")
        } else {
            String::new()
        };
        fields
            .iter()
            .filter(|(name, _)| !present.contains(name))
            .map(|(name, content)| format!("<wsa:{name}{declaration}>{content}</wsa:{name}>"))
            .collect()
    };
    let doc = parse_document(envelope)?;
    let root = doc.root_element();
    let version = soap_version(root).ok_or("the message is not a SOAP envelope")?;
    let ns = version.namespace();
    let header = root.children().find(|n| {
        n.is_element() && n.tag_name().name() == "Header" && n.tag_name().namespace() == Some(ns)
    });
    match header {
        Some(h) => {
            // Blocks the message already carries (a preserved request header) stay as they are.
            let present: Vec<&str> = h
                .children()
                .filter(|b| b.is_element() && b.tag_name().namespace() == Some(WSA_NS))
                .map(|b| b.tag_name().name())
                .collect();
            let declared = h.lookup_namespace_uri(Some("wsa")) == Some(WSA_NS);
            Ok(crate::runtime::payload::append_child_content(
                envelope,
                h,
                &write(!declared, &present),
            ))
        }
        None => crate::runtime::payload::insert_soap_header(
            envelope,
            root,
            &format!(" xmlns:wsa=\"{WSA_NS}\""),
            &write(false, &[]),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // AddressingOutHandler with the final namespace (MI test ESBJAVA5098_WSAddressingSupportTest):
    // a header is created with the prefix declared once; an existing one gets the blocks.
    #[test]
    fn blocks_go_into_a_new_or_the_existing_header() {
        let fields = [
            ("MessageID", "urn:uuid:1".to_string()),
            ("To", "http://b/s".to_string()),
        ];
        let bare =
            format!(r#"<s:Envelope xmlns:s="{SOAP11_NS}"><s:Body><a/></s:Body></s:Envelope>"#);
        assert_eq!(
            insert_header_blocks(&bare, &fields).unwrap(),
            format!(
                r#"<s:Envelope xmlns:s="{SOAP11_NS}"><s:Header xmlns:wsa="{WSA_NS}"><wsa:MessageID>urn:uuid:1</wsa:MessageID><wsa:To>http://b/s</wsa:To></s:Header><s:Body><a/></s:Body></s:Envelope>"#
            )
        );
        let with_header = format!(
            r#"<s:Envelope xmlns:s="{SOAP12_NS}"><s:Header><h/></s:Header><s:Body/></s:Envelope>"#
        );
        let out = insert_header_blocks(&with_header, &fields).unwrap();
        assert!(
            out.contains(&format!(
                r#"<h/><wsa:MessageID xmlns:wsa="{WSA_NS}">urn:uuid:1</wsa:MessageID>"#
            )),
            "{out}"
        );
        assert!(insert_header_blocks("<a/>", &fields).is_err());
    }
}
