//! The client side of a case: turns a [`Request`] into the bytes MI's Java test clients put on the
//! wire (Axis2's `ServiceClient` for SOAP and the stock quote payloads of `StockQuoteClient`,
//! integration-test-utils in wso2/micro-integrator) and sends it over a fresh connection.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use crate::case::{Request, StockQuote};

/// How long one exchange may take before it counts as no answer.
pub const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
const WSA_NS: &str = "http://www.w3.org/2005/08/addressing";

/// A request ready to send: method, path, headers and body.
#[derive(Debug, Clone, PartialEq)]
pub struct WireRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What came back.
#[derive(Debug, Clone, Default)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Builds what goes on the wire for `request`. `message_id` names the WS-Addressing MessageID.
pub fn wire_request(request: &Request, message_id: &str) -> WireRequest {
    let mut headers: Vec<(String, String)> = Vec::new();
    let body: Option<String> = if let Some(body) = &request.body {
        Some(body.clone())
    } else if request.payload.is_some() || request.stockquote.is_some() {
        let (payload, operation) = match &request.stockquote {
            Some(quote) => stockquote_payload(quote),
            None => (
                request.payload.clone().unwrap_or_default(),
                "mediate".into(),
            ),
        };
        let action = request
            .action
            .clone()
            .unwrap_or_else(|| format!("urn:{operation}"));
        let soap = request.soap.as_deref().unwrap_or("1.1");
        let (content_type, text) = soap_message(
            soap,
            &payload,
            &action,
            request.addressing_to.as_deref(),
            message_id,
        );
        headers.push(("Content-Type".into(), content_type));
        if soap == "1.1" {
            headers.push(("SOAPAction".into(), format!("\"{action}\"")));
        }
        Some(text)
    } else {
        None
    };
    for (name, value) in &request.headers {
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        headers.push((name.clone(), value.clone()));
    }
    let method = request.method.clone().unwrap_or_else(|| {
        if body.is_some() {
            "POST".into()
        } else {
            "GET".into()
        }
    });
    WireRequest {
        method,
        path: request.path.clone(),
        headers,
        body: body.map(String::into_bytes).unwrap_or_default(),
    }
}

/// `StockQuoteClient`'s payload for `quote`, and the operation its SOAPAction names.
fn stockquote_payload(quote: &StockQuote) -> (String, String) {
    let symbol = escape(&quote.symbol);
    let ns = r#"xmlns:ns="http://services.samples""#;
    match quote.operation.as_str() {
        "getSimpleQuote" => (
            format!(
                r#"<ns:getSimpleQuote {ns}><ns:symbol>{symbol}</ns:symbol></ns:getSimpleQuote>"#
            ),
            "getSimpleQuote".into(),
        ),
        "customQuote" => (
            format!(
                r#"<ns:CheckPriceRequest {ns}><ns:Code>{symbol}</ns:Code></ns:CheckPriceRequest>"#
            ),
            "getQuote".into(),
        ),
        "multipleQuote" => {
            let one = format!("<ns:request><ns:symbol>{symbol}</ns:symbol></ns:request>");
            (
                format!(
                    "<ns:getQuote {ns}>{}</ns:getQuote>",
                    one.repeat(quote.count)
                ),
                "getQuote".into(),
            )
        }
        "placeOrder" => (
            format!(
                r#"<m0:placeOrder xmlns:m0="http://services.samples"><m0:order><m0:price>172.23182849731984</m0:price><m0:quantity>18398</m0:quantity><m0:symbol>{symbol}</m0:symbol></m0:order></m0:placeOrder>"#
            ),
            "placeOrder".into(),
        ),
        "getFullQuote" => (
            format!(
                r#"<m0:getFullQuote xmlns:m0="http://services.samples"><m0:request><m0:symbol>{symbol}</m0:symbol></m0:request></m0:getFullQuote>"#
            ),
            "getFullQuote".into(),
        ),
        "getMarketActivity" => (
            format!(
                r#"<m0:getMarketActivity xmlns:m0="http://services.samples"><m0:request><m0:symbols>{symbol}</m0:symbols></m0:request></m0:getMarketActivity>"#
            ),
            "getMarketActivity".into(),
        ),
        // getQuote (sendSimpleStockQuoteRequest) and anything unknown.
        _ => (
            format!(
                "<ns:getQuote {ns}><ns:request><ns:symbol>{symbol}</ns:symbol></ns:request></ns:getQuote>"
            ),
            "getQuote".into(),
        ),
    }
}

/// The message Axis2's ServiceClient writes for `payload`: its Content-Type and text.
fn soap_message(
    soap: &str,
    payload: &str,
    action: &str,
    addressing_to: Option<&str>,
    message_id: &str,
) -> (String, String) {
    let declaration = "<?xml version='1.0' encoding='UTF-8'?>";
    let (ns, content_type) = match soap {
        "pox" => {
            return (
                "application/xml; charset=UTF-8".into(),
                format!("{declaration}{payload}"),
            );
        }
        "1.2" => (
            SOAP12_NS,
            format!("application/soap+xml; charset=UTF-8; action=\"{action}\""),
        ),
        _ => (SOAP11_NS, "text/xml; charset=UTF-8".to_string()),
    };
    let header = match addressing_to {
        Some(to) => format!(
            r#"<soapenv:Header xmlns:wsa="{WSA_NS}"><wsa:To>{}</wsa:To><wsa:MessageID>{message_id}</wsa:MessageID><wsa:Action>{}</wsa:Action></soapenv:Header>"#,
            escape(to),
            escape(action)
        ),
        None => String::new(),
    };
    (
        content_type,
        format!(
            r#"{declaration}<soapenv:Envelope xmlns:soapenv="{ns}">{header}<soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>"#
        ),
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Sends `request` to `127.0.0.1:port` over a new connection (HTTP/1.1, over TLS when `tls`,
/// accepting the server's self-signed certificate) and reads the whole answer.
pub async fn send(port: u16, tls: bool, request: &WireRequest) -> Result<Response, String> {
    tokio::time::timeout(EXCHANGE_TIMEOUT, async {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| format!("connect 127.0.0.1:{port}: {e}"))?;
        if tls {
            let name =
                rustls::pki_types::ServerName::try_from("localhost").map_err(|e| e.to_string())?;
            let stream = tls_connector()
                .connect(name, stream)
                .await
                .map_err(|e| format!("TLS handshake with 127.0.0.1:{port}: {e}"))?;
            exchange(stream, port, request).await
        } else {
            exchange(stream, port, request).await
        }
    })
    .await
    .map_err(|_| format!("no answer within {EXCHANGE_TIMEOUT:?}"))?
}

async fn exchange<S>(stream: S, port: u16, request: &WireRequest) -> Result<Response, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::Builder::new()
        .title_case_headers(true)
        .handshake::<_, Full<Bytes>>(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut builder = hyper::Request::builder()
        .method(request.method.as_str())
        .uri(request.path.as_str())
        .header("Host", format!("localhost:{port}"));
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let req = builder
        .body(Full::new(Bytes::from(request.body.clone())))
        .map_err(|e| format!("request: {e}"))?;
    let response = sender
        .send_request(req)
        .await
        .map_err(|e| format!("send: {e}"))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading the body after status {status}: {e}"))?
        .to_bytes();
    Ok(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// A TLS client that accepts any server certificate: the server's keystore is generated,
/// self-signed, on its first start.
fn tls_connector() -> tokio_rustls::TlsConnector {
    tokio_rustls::TlsConnector::from(Arc::new(accept_any_certificate()))
}

/// A rustls client configuration that accepts any server certificate (still checking the
/// handshake signatures): for tests against a server with a generated self-signed certificate.
pub fn accept_any_certificate() -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("rustls: default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
        .with_no_client_auth()
}

#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Headers as a map with lower-case names (for the recorded backend side).
pub fn lower_headers(headers: &[(String, String)]) -> BTreeMap<String, String> {
    headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(op: &str) -> Request {
        Request {
            path: "/services/P".into(),
            stockquote: Some(StockQuote {
                operation: op.into(),
                symbol: "IBM".into(),
                count: 2,
            }),
            ..Request::default()
        }
    }

    #[test]
    fn a_stock_quote_request_is_soap11_with_the_soap_action_of_its_operation() {
        let wire = wire_request(&quote("getQuote"), "urn:uuid:1");
        assert_eq!(wire.method, "POST");
        assert!(
            wire.headers
                .contains(&("Content-Type".into(), "text/xml; charset=UTF-8".into()))
        );
        assert!(
            wire.headers
                .contains(&("SOAPAction".into(), "\"urn:getQuote\"".into()))
        );
        let body = String::from_utf8(wire.body).unwrap();
        assert!(body.contains("<soapenv:Body><ns:getQuote xmlns:ns=\"http://services.samples\"><ns:request><ns:symbol>IBM</ns:symbol></ns:request></ns:getQuote></soapenv:Body>"), "{body}");
    }

    #[test]
    fn soap12_carries_the_action_in_the_content_type_and_pox_has_no_envelope() {
        let mut r = quote("getSimpleQuote");
        r.soap = Some("1.2".into());
        let wire = wire_request(&r, "urn:uuid:1");
        assert!(wire.headers.iter().any(|(n, v)| n == "Content-Type"
            && v == "application/soap+xml; charset=UTF-8; action=\"urn:getSimpleQuote\""));
        assert!(!wire.headers.iter().any(|(n, _)| n == "SOAPAction"));
        r.soap = Some("pox".into());
        let body = String::from_utf8(wire_request(&r, "x").body).unwrap();
        assert!(!body.contains("Envelope") && body.contains("<ns:getSimpleQuote"));
    }

    #[test]
    fn addressing_adds_the_wsa_headers_and_case_headers_override() {
        let mut r = quote("multipleQuote");
        r.addressing_to = Some("http://localhost:9000/services/SimpleStockQuoteService".into());
        r.headers.insert("SOAPAction".into(), "urn:other".into());
        let wire = wire_request(&r, "urn:uuid:7");
        let body = String::from_utf8(wire.body).unwrap();
        assert!(body.contains("<wsa:To>http://localhost:9000/services/SimpleStockQuoteService</wsa:To><wsa:MessageID>urn:uuid:7</wsa:MessageID><wsa:Action>urn:getQuote</wsa:Action>"));
        assert_eq!(body.matches("<ns:request>").count(), 2);
        assert_eq!(
            wire.headers
                .iter()
                .filter(|(n, _)| n == "SOAPAction")
                .count(),
            1
        );
        assert!(
            wire.headers
                .contains(&("SOAPAction".into(), "urn:other".into()))
        );
    }

    #[test]
    fn a_plain_request_without_body_is_a_get() {
        let r = Request {
            path: "/api/x".into(),
            ..Request::default()
        };
        let wire = wire_request(&r, "x");
        assert_eq!((wire.method.as_str(), wire.body.len()), ("GET", 0));
    }
}
