//! The response a client gets when a backend fails and no fault sequence answers.
//!
//! What MI does (checked in wso2/wso2-synapse and wso2/micro-integrator): the failure becomes a
//! fault message with `ERROR_CODE`/`ERROR_MESSAGE`/`ERROR_DETAIL` (`TargetErrorHandler`), the
//! nearest fault sequence runs, and the shipped global `fault` sequence only logs and `<drop/>`s.
//! `DropMediator` sends nothing, so with the shipped configuration an MI client waits until the
//! 180 s socket timeout closes its connection (`SourceHandler.timeout` in state REQUEST_DONE).
//! Conflux answers at once instead (DESIGN.md §5): 502 or 504 ([`BackendError::http_status`]) with
//! a small payload carrying the same code and message a fault sequence would see, as JSON when the
//! client sent or accepts JSON and as XML otherwise (MI's native message format). The backend's
//! address is not put in the payload; it is logged.

use http::{HeaderValue, Request, Response, header};

use crate::body::ProxyBody;
use crate::error::BackendError;

/// Which payload format a client prefers, judged from `Accept` and `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultFormat {
    /// `application/json`.
    Json,
    /// `application/xml`.
    Xml,
}

impl FaultFormat {
    /// JSON when the request's `Accept` or `Content-Type` mentions JSON, else XML.
    pub fn for_request<B>(req: &Request<B>) -> Self {
        let mentions_json = |name| {
            req.headers().get_all(name).iter().any(|v| {
                v.to_str()
                    .is_ok_and(|v| v.to_ascii_lowercase().contains("json"))
            })
        };
        if mentions_json(header::ACCEPT) || mentions_json(header::CONTENT_TYPE) {
            FaultFormat::Json
        } else {
            FaultFormat::Xml
        }
    }
}

/// The client response for an unhandled backend failure; the connection stays usable.
pub fn backend_fault_response(error: &BackendError, format: FaultFormat) -> Response<ProxyBody> {
    let status = error.http_status();
    let code = error.mi_error_code();
    let message = error.mi_error_message();
    let description = status.canonical_reason().unwrap_or("Error");
    let (body, content_type) = match format {
        FaultFormat::Json => (
            format!(
                "{{\"fault\":{{\"code\":{code},\"message\":\"{message}\",\"description\":\"{description}\"}}}}"
            ),
            "application/json",
        ),
        FaultFormat::Xml => (
            format!(
                "<fault><code>{code}</code><message>{message}</message><description>{description}</description></fault>"
            ),
            "application/xml",
        ),
    };
    let mut response = Response::new(ProxyBody::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;
    use std::time::Duration;

    #[test]
    fn timeout_fault_is_504_with_code_in_json() {
        let e = BackendError::ResponseTimeout {
            target: "http://secret:1".into(),
            timeout: Duration::from_millis(1),
        };
        let resp = backend_fault_response(&e, FaultFormat::Json);
        assert_eq!(resp.status(), StatusCode::GATEWAY_TIMEOUT);
        let ProxyBody::Full(Some(bytes)) = resp.body() else {
            panic!("expected a full body")
        };
        let text = String::from_utf8_lossy(bytes);
        assert!(text.contains("\"code\":101504"), "{text}");
        assert!(
            !text.contains("secret"),
            "backend address must not leak: {text}"
        );
    }

    #[test]
    fn format_follows_accept_then_content_type() {
        let req = Request::builder()
            .header(header::ACCEPT, "application/json")
            .body(())
            .unwrap_or_default();
        assert_eq!(FaultFormat::for_request(&req), FaultFormat::Json);
        let req = Request::builder()
            .header(header::CONTENT_TYPE, "text/xml")
            .body(())
            .unwrap_or_default();
        assert_eq!(FaultFormat::for_request(&req), FaultFormat::Xml);
    }
}
