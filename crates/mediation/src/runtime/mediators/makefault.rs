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
    /// A QName: `namespace` empty for none.
    QName { namespace: String, local: String },
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
                    Some(FaultCodeValue::QName { namespace, local })
                        if namespace == envelope_ns =>
                    {
                        (format!("soapenv:{local}"), String::new())
                    }
                    Some(FaultCodeValue::QName { namespace, local }) if namespace.is_empty() => {
                        (local.clone(), String::new())
                    }
                    Some(FaultCodeValue::QName { namespace, local }) => (
                        format!("tns:{local}"),
                        format!(" xmlns:tns=\"{}\"", escape_attribute(namespace)),
                    ),
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

    // FaultMediator SOAP 1.2: Code/Value, Reason/Text xml:lang="en".
    #[test]
    fn soap12_fault_has_code_value_and_reason_text() {
        let mut c = ctx();
        MakeFault {
            version: FaultVersion::Soap12,
            code: Some(FaultCodeValue::QName {
                namespace: "urn:x".into(),
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
