//! `<makefault>`: replaces the message with a SOAP 1.1, SOAP 1.2 or POX fault built from a code,
//! a reason, and optional role, node and detail (SYN `mediators/transform/FaultMediator.java`):
//! SOAP 1.1 writes `faultcode`/`faultstring`/`faultactor`/`detail`, SOAP 1.2 `Code/Value`,
//! `Reason/Text xml:lang="en"`, `Node`, `Role`, `Detail`; POX replaces the body's first element
//! with `<Exception>` holding the detail, else the reason. The message is marked as a fault, so
//! it goes out with status 500 unless `HTTP_SC` says otherwise, and with `response="true"` it
//! becomes the response (the engine's `<send/>` then answers the client).

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;
use crate::runtime::payload::{Payload, SOAP11_NS, SOAP12_NS, escape_attribute, escape_text};
use crate::runtime::value::ValueSource;

/// SOAP 1.1, SOAP 1.2 or POX, as the artifact declares it.
pub use conflux_artifacts::mediators::FaultVersion;

#[derive(Debug, Clone)]
pub enum FaultCodeValue {
    /// A QName: `namespace` empty for none; `prefix` as the artifact wrote it.
    QName {
        namespace: String,
        prefix: Option<String>,
        local: String,
    },
    /// An expression giving the local name, in the envelope's namespace.
    Expression(ValueSource),
}

#[derive(Debug, Clone)]
pub enum FaultDetailValue {
    Text(String),
    Expression(ValueSource),
    Xml(String),
}

#[derive(Debug, Clone)]
pub struct MakeFault {
    pub version: FaultVersion,
    pub code: Option<FaultCodeValue>,
    pub reason: Option<ValueSource>,
    pub role: Option<String>,
    pub node: Option<String>,
    pub detail: Option<FaultDetailValue>,
    pub response: bool,
}

impl MakeFault {
    pub fn apply<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<(), String> {
        let reason = match &self.reason {
            Some(r) => r.resolve(ctx)?,
            None => String::new(),
        };
        let detail = match &self.detail {
            None => None,
            Some(FaultDetailValue::Text(t)) => Some(escape_text(t).into_owned()),
            Some(FaultDetailValue::Xml(x)) => Some(x.clone()),
            Some(FaultDetailValue::Expression(e)) => {
                Some(escape_text(&e.resolve(ctx)?).into_owned())
            }
        };
        let payload = match self.version {
            FaultVersion::Pox => {
                let text = detail.unwrap_or_else(|| escape_text(&reason).into_owned());
                Payload::xml(format!("<Exception>{text}</Exception>")).map_err(|e| e.to_string())?
            }
            FaultVersion::Soap11 | FaultVersion::Soap12 => {
                let soap12 = self.version == FaultVersion::Soap12;
                let envelope_ns = if soap12 { SOAP12_NS } else { SOAP11_NS };
                let (code_text, code_decl) = match &self.code {
                    None => (
                        format!("soapenv:{}", if soap12 { "Receiver" } else { "Server" }),
                        String::new(),
                    ),
                    Some(FaultCodeValue::QName {
                        namespace,
                        prefix,
                        local,
                    }) => fault_code_text(namespace, prefix.as_deref(), local, envelope_ns),
                    Some(FaultCodeValue::Expression(e)) => {
                        (format!("soapenv:{}", e.resolve(ctx)?), String::new())
                    }
                };
                let reason = escape_text(&reason);
                let mut fault = String::new();
                if soap12 {
                    fault.push_str(&format!(
                        "<soapenv:Code><soapenv:Value{code_decl}>{code_text}</soapenv:Value></soapenv:Code><soapenv:Reason><soapenv:Text xml:lang=\"en\">{reason}</soapenv:Text></soapenv:Reason>"
                    ));
                    if let Some(node) = &self.node {
                        fault.push_str(&format!(
                            "<soapenv:Node>{}</soapenv:Node>",
                            escape_text(node)
                        ));
                    }
                    if let Some(role) = &self.role {
                        fault.push_str(&format!(
                            "<soapenv:Role>{}</soapenv:Role>",
                            escape_text(role)
                        ));
                    }
                    if let Some(detail) = &detail {
                        fault.push_str(&format!("<soapenv:Detail>{detail}</soapenv:Detail>"));
                    }
                } else {
                    fault.push_str(&format!(
                        "<faultcode{code_decl}>{code_text}</faultcode><faultstring>{reason}</faultstring>"
                    ));
                    if let Some(role) = &self.role {
                        fault.push_str(&format!("<faultactor>{}</faultactor>", escape_text(role)));
                    }
                    if let Some(detail) = &detail {
                        fault.push_str(&format!("<detail>{detail}</detail>"));
                    }
                }
                Payload::xml(format!(
                    "<soapenv:Envelope xmlns:soapenv=\"{envelope_ns}\"><soapenv:Body><soapenv:Fault>{fault}</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
                ))
                .map_err(|e| e.to_string())?
            }
        };
        ctx.set_payload(payload);
        ctx.fault_response = true;
        if self.response {
            ctx.is_response = true;
        }
        Ok(())
    }
}

/// The text of a fault code QName and the declaration it needs on its element, as Axiom's
/// `OMElement.setText(QName)` writes it (FaultMediator.setFaultCode): the artifact's prefix when it
/// has one, declared on the element unless it is the envelope's own `soapenv`; no prefix means the
/// one in scope for the namespace (`soapenv` for the envelope's), else a generated `tns`.
fn fault_code_text(
    namespace: &str,
    prefix: Option<&str>,
    local: &str,
    envelope_ns: &str,
) -> (String, String) {
    match prefix.filter(|p| !p.is_empty()) {
        _ if namespace.is_empty() => (local.to_string(), String::new()),
        Some("soapenv") | None if namespace == envelope_ns => {
            (format!("soapenv:{local}"), String::new())
        }
        Some(prefix) => (
            format!("{prefix}:{local}"),
            format!(" xmlns:{prefix}=\"{}\"", escape_attribute(namespace)),
        ),
        None => (
            format!("tns:{local}"),
            format!(" xmlns:tns=\"{}\"", escape_attribute(namespace)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn ctx() -> MessageContext<http_body_util::Full<bytes::Bytes>> {
        crate::runtime::context::test_context(Method::POST, "/a")
    }

    fn text(ctx: &MessageContext<http_body_util::Full<bytes::Bytes>>) -> String {
        match ctx.payload.as_ref().unwrap() {
            Payload::Xml { text, .. } => text.clone(),
            other => panic!("{other:?}"),
        }
    }

    // FaultMediator.makeSOAPFault for SOAP 1.1: faultcode / faultstring / faultactor / detail.
    #[test]
    fn soap11_fault_has_mi_elements() {
        let mut c = ctx();
        MakeFault {
            version: FaultVersion::Soap11,
            code: Some(FaultCodeValue::QName {
                namespace: SOAP11_NS.into(),
                prefix: None,
                local: "Client".into(),
            }),
            reason: Some(ValueSource::Literal("bad <input>".into())),
            role: Some("urn:role".into()),
            node: None,
            detail: Some(FaultDetailValue::Text("d".into())),
            response: true,
        }
        .apply(&mut c)
        .unwrap();
        let t = text(&c);
        assert!(t.contains("<faultcode>soapenv:Client</faultcode><faultstring>bad &lt;input&gt;</faultstring><faultactor>urn:role</faultactor><detail>d</detail>"), "{t}");
        assert!(c.fault_response && c.is_response);
    }

    // MI's Soap11FaultCodeServerTestCase expects `soap11Env:Server</faultcode>`: the artifact's
    // prefix, declared on the code element (Axiom setText(QName)).
    #[test]
    fn a_fault_code_keeps_the_prefix_the_artifact_declared() {
        assert_eq!(
            fault_code_text(SOAP11_NS, Some("soap11Env"), "Server", SOAP11_NS),
            (
                "soap11Env:Server".to_string(),
                format!(" xmlns:soap11Env=\"{SOAP11_NS}\"")
            )
        );
        assert_eq!(
            fault_code_text(SOAP12_NS, Some("soapenv"), "Receiver", SOAP12_NS).0,
            "soapenv:Receiver"
        );
        assert_eq!(fault_code_text("", None, "Client", SOAP11_NS).0, "Client");
    }

    // FaultMediator SOAP 1.2: Code/Value, Reason/Text xml:lang="en".
    #[test]
    fn soap12_fault_has_code_value_and_reason_text() {
        let mut c = ctx();
        MakeFault {
            version: FaultVersion::Soap12,
            code: Some(FaultCodeValue::QName {
                namespace: "urn:x".into(),
                prefix: None,
                local: "Custom".into(),
            }),
            reason: Some(ValueSource::Literal("r".into())),
            role: None,
            node: Some("n".into()),
            detail: None,
            response: false,
        }
        .apply(&mut c)
        .unwrap();
        let t = text(&c);
        assert!(
            t.contains("<soapenv:Value xmlns:tns=\"urn:x\">tns:Custom</soapenv:Value>"),
            "{t}"
        );
        assert!(
            t.contains("<soapenv:Text xml:lang=\"en\">r</soapenv:Text>"),
            "{t}"
        );
        assert!(t.contains("<soapenv:Node>n</soapenv:Node>"), "{t}");
        assert!(!c.is_response);
    }

    // FaultMediator.makePOXFault: <Exception> with the detail, else the reason.
    #[test]
    fn pox_fault_is_an_exception_element() {
        let mut c = ctx();
        MakeFault {
            version: FaultVersion::Pox,
            code: None,
            reason: Some(ValueSource::Literal("why".into())),
            role: None,
            node: None,
            detail: None,
            response: true,
        }
        .apply(&mut c)
        .unwrap();
        assert_eq!(text(&c), "<Exception>why</Exception>");
    }
}
