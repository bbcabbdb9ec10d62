//! The response a client gets when a backend fails and no fault sequence answers.
//!
//! What MI does (checked in wso2/wso2-synapse and wso2/micro-integrator): the failure becomes a
//! fault message with `ERROR_CODE`/`ERROR_MESSAGE`/`ERROR_DETAIL` (`TargetErrorHandler`), the
//! nearest fault sequence runs, and the shipped global `fault` sequence only logs and `<drop/>`s.
//! `DropMediator` sends nothing, so with the shipped configuration an MI client waits until the
//! 180 s socket timeout closes its connection (`SourceHandler.timeout` in state REQUEST_DONE).
//! Conflux answers at once instead (DESIGN.md §5) with the payload mediation uses for unhandled
//! faults ([`conflux_mediation::runtime::fault`]); the backend's address is logged, never sent.

pub use conflux_mediation::runtime::fault::FaultFormat;
use conflux_mediation::runtime::fault::default_response;
use http::Response;

use crate::body::ProxyBody;
use crate::error::BackendError;

/// The client response for an unhandled backend failure; the connection stays usable.
pub fn backend_fault_response(error: &BackendError, format: FaultFormat) -> Response<ProxyBody> {
    let mut response = default_response(error.mi_error_code(), error.mi_error_message(), format);
    *response.status_mut() = error.http_status();
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
}
