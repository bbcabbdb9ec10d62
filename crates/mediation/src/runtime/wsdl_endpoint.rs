//! `<endpoint><wsdl uri service port>`: an address endpoint whose address and message format come
//! from a WSDL 1.1 document (SYN `endpoints/WSDLEndpoint.java`,
//! `config/xml/endpoints/WSDLEndpointFactory.java`, `config/xml/endpoints/utils/
//! WSDL11EndpointBuilder.java`; the document is read by [`conflux_artifacts::wsdl`]).
//!
//! **When the document is fetched.** MI fetches `uri` while the artifact deploys, and a failure
//! there fails the deployment. Conflux fetches it **lazily, at the first send** through the
//! endpoint, with the pooled backend client (the same [`Sender`] every send uses, so TLS,
//! pooling and proxies are the same), under a [`WSDL_FETCH_TIMEOUT`] deadline. Deployment stays
//! synchronous and never waits for a network (a backend that starts after Conflux works, and
//! `conflux check` needs no network). The fetch is made as an implicit endpoint without
//! suspension state, so it never suspends the WSDL endpoint itself. Once a fetch succeeds, its
//! address is kept for the life of the deployment (once per endpoint, as MI); a failed fetch is
//! a send fault (101503 unless the transport says otherwise: refused, timed out...) whose
//! message names the WSDL, and the next send tries again. Two first messages arriving together
//! may both fetch; the first answer is kept.
//!
//! Inline `<wsdl:definitions>` documents are resolved when the artifact deploys (the compiler
//! turns them into address endpoints).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http::{Method, Request};

use crate::runtime::body::{MessageBody, read_limited};
use crate::runtime::endpoint::{
    Endpoint, EndpointKind, ResponseTimeout, SendFault, Sender, error_codes,
};

/// How long the WSDL document may take to arrive.
pub const WSDL_FETCH_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest WSDL document read (larger ones fail the send).
pub const MAX_WSDL_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug)]
pub struct WsdlEndpoint {
    /// The document's URL (`uri`), already checked to be an absolute URI.
    pub uri: String,
    pub service: String,
    pub port: String,
    pub addressing: bool,
    /// The address endpoint the document resolved to, once fetched.
    resolved: OnceLock<Arc<Endpoint>>,
}

impl WsdlEndpoint {
    pub fn new(uri: String, service: String, port: String, addressing: bool) -> Self {
        WsdlEndpoint {
            uri,
            service,
            port,
            addressing,
            resolved: OnceLock::new(),
        }
    }

    /// The address endpoint to send to: `endpoint` (whose kind is this WSDL endpoint) with the
    /// port's address and format, fetching the document at the first call.
    pub async fn resolve<B: MessageBody>(
        &self,
        endpoint: &Endpoint,
        sender: &dyn Sender<B>,
    ) -> Result<Arc<Endpoint>, SendFault> {
        if let Some(resolved) = self.resolved.get() {
            return Ok(resolved.clone());
        }
        let port = self.fetch(endpoint, sender).await?;
        tracing::info!(target: "conflux::endpoint", "WSDL endpoint {}: service {} port {} sends to {} ({:?})", endpoint.name, self.service, self.port, port.address, port.format);
        let resolved = Arc::new(Endpoint {
            kind: EndpointKind::Address {
                uri: port.address,
                format: Some(port.format),
                addressing: self.addressing,
            },
            ..endpoint.clone()
        });
        Ok(self.resolved.get_or_init(|| resolved).clone())
    }

    async fn fetch<B: MessageBody>(
        &self,
        endpoint: &Endpoint,
        sender: &dyn Sender<B>,
    ) -> Result<conflux_artifacts::wsdl::WsdlPort, SendFault> {
        let fail = |code: u32, why: String| SendFault {
            code,
            message: format!(
                "Could not read the WSDL endpoint {} (endpoint {}): {why}",
                self.uri, endpoint.name
            ),
        };
        let mut request = Request::builder()
            .method(Method::GET)
            .uri(self.uri.as_str())
            .header(http::header::ACCEPT, "text/xml, application/xml, */*")
            .body(B::default())
            .map_err(|e| fail(error_codes::CONNECTION_FAILED, e.to_string()))?;
        request
            .extensions_mut()
            .insert(ResponseTimeout(WSDL_FETCH_TIMEOUT));
        // An implicit endpoint (no suspension state): the fetch does not suspend this one.
        let fetcher = Endpoint {
            id: usize::MAX,
            kind: EndpointKind::Missing,
            timeout: Some(WSDL_FETCH_TIMEOUT),
            dynamic_timeout: None,
            ..endpoint.clone()
        };
        let response = sender
            .send(&fetcher, request)
            .await
            .map_err(|f| fail(f.code, f.message))?;
        let status = response.status();
        let body = read_limited(response.into_body(), MAX_WSDL_BYTES)
            .await
            .map_err(|e| fail(error_codes::CONNECTION_CLOSED, e.to_string()))?;
        if !status.is_success() {
            return Err(fail(
                error_codes::CONNECTION_FAILED,
                format!("the server answered {status}"),
            ));
        }
        let text = std::str::from_utf8(&body).map_err(|_| {
            fail(
                error_codes::CONNECTION_FAILED,
                "the document is not UTF-8".into(),
            )
        })?;
        conflux_artifacts::wsdl::resolve_port_in_text(text, &self.service, &self.port)
            .map_err(|why| fail(error_codes::CONNECTION_FAILED, why))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::endpoint::{EndpointFormat, SendFuture, TimeoutAction};
    use bytes::Bytes;
    use http::Response;
    use http_body_util::Full;
    use std::sync::Mutex;

    /// Answers every request with `answer` and records the URIs asked for.
    struct FakeSender {
        answer: (u16, &'static str),
        asked: Mutex<Vec<(String, usize, Option<Duration>)>>,
    }

    impl Sender<Full<Bytes>> for FakeSender {
        fn send<'a>(
            &'a self,
            endpoint: &'a Endpoint,
            request: Request<Full<Bytes>>,
        ) -> SendFuture<'a, Full<Bytes>> {
            self.asked.lock().unwrap().push((
                request.uri().to_string(),
                endpoint.id,
                request.extensions().get::<ResponseTimeout>().map(|t| t.0),
            ));
            let (status, body) = self.answer;
            Box::pin(async move {
                let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
                *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
                Ok(response)
            })
        }
    }

    const WSDL: &str = r#"<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" targetNamespace="http://services.samples"><wsdl:service name="S"><wsdl:port name="P" binding="b"><soap:address location="http://127.0.0.1:9/services/S.P/"/></wsdl:port></wsdl:service></wsdl:definitions>"#;

    fn wsdl_endpoint(w: Arc<WsdlEndpoint>) -> Endpoint {
        Endpoint {
            id: 3,
            name: "W".into(),
            kind: EndpointKind::Wsdl(w),
            timeout: Some(Duration::from_secs(2)),
            dynamic_timeout: None,
            timeout_action: TimeoutAction::Never,
            suspension: Default::default(),
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn fetches_once_and_sends_to_the_port_address() {
        let w = Arc::new(WsdlEndpoint::new(
            "http://127.0.0.1:9/services/S?wsdl".into(),
            "S".into(),
            "P".into(),
            false,
        ));
        let endpoint = wsdl_endpoint(w.clone());
        let sender = FakeSender {
            answer: (200, WSDL),
            asked: Mutex::new(Vec::new()),
        };
        for _ in 0..2 {
            let resolved = block_on(w.resolve(&endpoint, &sender)).unwrap();
            assert_eq!(resolved.id, 3);
            assert_eq!(resolved.timeout, Some(Duration::from_secs(2)));
            let EndpointKind::Address { uri, format, .. } = &resolved.kind else {
                panic!("{:?}", resolved.kind);
            };
            assert_eq!(uri, "http://127.0.0.1:9/services/S.P/");
            assert_eq!(*format, Some(EndpointFormat::Soap11));
        }
        let asked = sender.asked.lock().unwrap();
        assert_eq!(
            *asked,
            vec![(
                "http://127.0.0.1:9/services/S?wsdl".to_string(),
                usize::MAX,
                Some(WSDL_FETCH_TIMEOUT)
            )]
        );
    }

    #[test]
    fn a_failed_fetch_is_a_send_fault_and_is_retried() {
        let w = Arc::new(WsdlEndpoint::new(
            "http://127.0.0.1:9/services/S?wsdl".into(),
            "S".into(),
            "Q".into(),
            false,
        ));
        let endpoint = wsdl_endpoint(w.clone());
        let sender = FakeSender {
            answer: (200, WSDL),
            asked: Mutex::new(Vec::new()),
        };
        let fault = block_on(w.resolve(&endpoint, &sender)).unwrap_err();
        assert_eq!(fault.code, error_codes::CONNECTION_FAILED);
        assert!(
            fault.message.starts_with(
                "Could not read the WSDL endpoint http://127.0.0.1:9/services/S?wsdl (endpoint W): Couldn't retrieve"
            ),
            "{}",
            fault.message
        );
        assert!(block_on(w.resolve(&endpoint, &sender)).is_err());
        assert_eq!(sender.asked.lock().unwrap().len(), 2);

        let sender = FakeSender {
            answer: (404, "<html/>"),
            asked: Mutex::new(Vec::new()),
        };
        let fault = block_on(w.resolve(&endpoint, &sender)).unwrap_err();
        assert!(
            fault.message.ends_with("the server answered 404 Not Found"),
            "{}",
            fault.message
        );
    }
}
