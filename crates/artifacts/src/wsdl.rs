//! The address of a WSDL endpoint (`<endpoint><wsdl uri|definitions service port>`): the location
//! of the named service's port in a WSDL 1.1 document, and the message format its binding implies.
//! Checked against SYN:`config/xml/endpoints/utils/WSDL11EndpointBuilder.java`
//! (`createEndpointDefinitionFromWSDL`): the service is looked up by QName in the document's
//! `targetNamespace`, the port by name; the first of its extensibility elements that is an address
//! decides: `soap:address` -> SOAP 1.1, `soap12:address` -> SOAP 1.2, `http:address` -> REST (GET
//! when the port's binding says `<http:binding verb="GET">`). WSDL 2.0 documents are refused as in
//! SYN:`config/xml/endpoints/WSDLEndpointFactory.java` ("WSDL 2.0 Endpoints are currently not
//! supported"). Parsing only: fetching a `uri` document is the runtime's job.

use roxmltree::{Document, Node};

use crate::endpoint::MessageFormat;

/// `org.apache.axis2.namespace.Constants.NS_URI_WSDL11`.
pub const WSDL11_NS: &str = "http://schemas.xmlsoap.org/wsdl/";
/// `WSDL2Constants.WSDL_NAMESPACE`.
pub const WSDL20_NS: &str = "http://www.w3.org/ns/wsdl";
const SOAP11_BINDING_NS: &str = "http://schemas.xmlsoap.org/wsdl/soap/";
const SOAP12_BINDING_NS: &str = "http://schemas.xmlsoap.org/wsdl/soap12/";
const HTTP_BINDING_NS: &str = "http://schemas.xmlsoap.org/wsdl/http/";

/// Where a WSDL port sends, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsdlPort {
    /// The `location` of the port's address element.
    pub address: String,
    /// `Soap11`, `Soap12`, `Rest` or `Get`, forced on the send as MI's `setForceSOAP11` & co.
    pub format: MessageFormat,
}

/// Parses a WSDL document (the text a `uri` answered) and resolves `service`/`port` in it.
pub fn resolve_port_in_text(text: &str, service: &str, port: &str) -> Result<WsdlPort, String> {
    // roxmltree's defaults refuse DTDs (no entity expansion), as for artifacts.
    let doc = Document::parse(text)
        .map_err(|e| format!("the WSDL document is not well-formed XML: {e}"))?;
    resolve_port(doc.root_element(), service, port)
}

/// Resolves `service`/`port` in a WSDL document element (`wsdl:definitions`).
pub fn resolve_port(definitions: Node, service: &str, port: &str) -> Result<WsdlPort, String> {
    match definitions.tag_name().namespace() {
        Some(WSDL11_NS) if definitions.tag_name().name() == "definitions" => {}
        Some(WSDL20_NS) => return Err("WSDL 2.0 Endpoints are currently not supported".into()),
        _ => {
            return Err(format!(
                "not a WSDL 1.1 document: the root element is <{}>, not {{{WSDL11_NS}}}definitions",
                definitions.tag_name().name()
            ));
        }
    }
    if service.is_empty() {
        return Err("Service name of the WSDL document is not specified.".into());
    }
    if port.is_empty() {
        return Err("Port name of the WSDL document is not specified.".into());
    }
    let wsdl = |n: &Node, local: &str| {
        n.is_element()
            && n.tag_name().name() == local
            && n.tag_name().namespace() == Some(WSDL11_NS)
    };
    // `definition.getService(new QName(tns, serviceName))`: services are in the target namespace.
    let not_found = || {
        format!(
            "Couldn't retrieve endpoint information from the WSDL: no port {port:?} in service {service:?}"
        )
    };
    let Some(port_node) = definitions
        .children()
        .filter(|n| wsdl(n, "service") && n.attribute("name") == Some(service))
        .flat_map(|s| s.children())
        .find(|n| wsdl(n, "port") && n.attribute("name") == Some(port))
    else {
        return Err(not_found());
    };
    for ext in port_node.children().filter(|n| n.is_element()) {
        if ext.tag_name().name() != "address" {
            continue;
        }
        let format = match ext.tag_name().namespace() {
            Some(SOAP11_BINDING_NS) => MessageFormat::Soap11,
            Some(SOAP12_BINDING_NS) => MessageFormat::Soap12,
            Some(HTTP_BINDING_NS) => http_format(definitions, port_node),
            _ => continue,
        };
        let Some(location) = ext.attribute("location").map(str::trim) else {
            continue;
        };
        if location.is_empty() {
            continue;
        }
        return Ok(WsdlPort {
            address: location.to_string(),
            format,
        });
    }
    Err(not_found())
}

/// An `http:address` port: GET when its binding's `<http:binding verb>` is GET, REST otherwise.
fn http_format(definitions: Node, port: Node) -> MessageFormat {
    let binding_local = port
        .attribute("binding")
        .map(|b| b.rsplit(':').next().unwrap_or(b))
        .unwrap_or_default();
    let verb = definitions
        .children()
        .filter(|n| {
            n.is_element()
                && n.tag_name().name() == "binding"
                && n.tag_name().namespace() == Some(WSDL11_NS)
                && n.attribute("name") == Some(binding_local)
        })
        .flat_map(|b| b.children())
        .find(|n| {
            n.is_element()
                && n.tag_name().name() == "binding"
                && n.tag_name().namespace() == Some(HTTP_BINDING_NS)
        })
        .and_then(|n| n.attribute("verb"));
    match verb {
        Some(v) if v.eq_ignore_ascii_case("GET") => MessageFormat::Get,
        _ => MessageFormat::Rest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape Axis2 1.6 generates for `?wsdl` (trimmed to the parts read here).
    const AXIS2_WSDL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/" xmlns:http="http://schemas.xmlsoap.org/wsdl/http/"
    xmlns:ns="http://services.samples" targetNamespace="http://services.samples">
  <wsdl:binding name="SimpleStockQuoteServiceHttpBinding" type="ns:SimpleStockQuoteServicePortType">
    <http:binding verb="POST"/>
  </wsdl:binding>
  <wsdl:binding name="GetBinding" type="ns:SimpleStockQuoteServicePortType">
    <http:binding verb="GET"/>
  </wsdl:binding>
  <wsdl:service name="SimpleStockQuoteService">
    <wsdl:port name="SimpleStockQuoteServiceHttpSoap11Endpoint" binding="ns:SimpleStockQuoteServiceSoap11Binding">
      <soap:address location="http://localhost:9000/services/SimpleStockQuoteService.SimpleStockQuoteServiceHttpSoap11Endpoint/"/>
    </wsdl:port>
    <wsdl:port name="SimpleStockQuoteServiceHttpSoap12Endpoint" binding="ns:SimpleStockQuoteServiceSoap12Binding">
      <soap12:address location="http://localhost:9000/services/SimpleStockQuoteService.SimpleStockQuoteServiceHttpSoap12Endpoint/"/>
    </wsdl:port>
    <wsdl:port name="SimpleStockQuoteServiceHttpEndpoint" binding="ns:SimpleStockQuoteServiceHttpBinding">
      <http:address location="http://localhost:9000/services/SimpleStockQuoteService.SimpleStockQuoteServiceHttpEndpoint/"/>
    </wsdl:port>
    <wsdl:port name="GetPort" binding="ns:GetBinding">
      <http:address location="http://localhost:9000/get"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>"#;

    fn port(name: &str) -> Result<WsdlPort, String> {
        resolve_port_in_text(AXIS2_WSDL, "SimpleStockQuoteService", name)
    }

    #[test]
    fn each_binding_gives_its_address_and_format() {
        assert_eq!(
            port("SimpleStockQuoteServiceHttpSoap11Endpoint").unwrap(),
            WsdlPort {
                address: "http://localhost:9000/services/SimpleStockQuoteService.SimpleStockQuoteServiceHttpSoap11Endpoint/".into(),
                format: MessageFormat::Soap11,
            }
        );
        let soap12 = port("SimpleStockQuoteServiceHttpSoap12Endpoint").unwrap();
        assert_eq!(soap12.format, MessageFormat::Soap12);
        assert!(soap12.address.ends_with("HttpSoap12Endpoint/"));
        assert_eq!(
            port("SimpleStockQuoteServiceHttpEndpoint").unwrap().format,
            MessageFormat::Rest
        );
        assert_eq!(port("GetPort").unwrap().format, MessageFormat::Get);
    }

    #[test]
    fn unknown_service_or_port_is_an_error() {
        assert!(port("Nope").unwrap_err().contains("no port \"Nope\""));
        let err = resolve_port_in_text(AXIS2_WSDL, "Other", "SimpleStockQuoteServiceHttpEndpoint")
            .unwrap_err();
        assert!(
            err.starts_with("Couldn't retrieve endpoint information"),
            "{err}"
        );
        assert!(port("").unwrap_err().contains("Port name"));
    }

    #[test]
    fn other_documents_are_refused() {
        assert!(
            resolve_port_in_text(
                r#"<description xmlns="http://www.w3.org/ns/wsdl"/>"#,
                "S",
                "P"
            )
            .unwrap_err()
            .contains("WSDL 2.0")
        );
        assert!(
            resolve_port_in_text("<html>oops</html>", "S", "P")
                .unwrap_err()
                .contains("not a WSDL 1.1 document")
        );
        assert!(
            resolve_port_in_text("not xml", "S", "P")
                .unwrap_err()
                .contains("not well-formed")
        );
        // A DTD is refused, as everywhere in Conflux.
        assert!(
            resolve_port_in_text(
                r#"<!DOCTYPE x [<!ENTITY a "b">]><definitions xmlns="http://schemas.xmlsoap.org/wsdl/"/>"#,
                "S",
                "P"
            )
            .is_err()
        );
    }
}
