//! The client's answer when mediation fails and no fault sequence answers: a 5xx status chosen
//! from MI's error code, and a small XML fault naming the code and the reason, so that operators
//! can grep for the same codes MI logs (101503, 101504, ...).
//!
//! MI's shipped global `fault` sequence logs and drops, which leaves the client with an empty
//! answer; Conflux gives it a status and a reason instead (a deliberate difference, in the README).

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};

use crate::runtime::body::MessageBody;
use crate::runtime::endpoint::error_codes;

/// The HTTP status for an MI error code.
pub fn status_for(code: u32) -> StatusCode {
    match code {
        error_codes::TIMEOUT | error_codes::CONNECT_TIMEOUT => StatusCode::GATEWAY_TIMEOUT,
        error_codes::ENDPOINT_NOT_READY => StatusCode::SERVICE_UNAVAILABLE,
        101_500..=101_599 => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `<fault><code>101503</code><message>...</message></fault>` with the status for `code`.
pub fn default_response<B: MessageBody>(code: u32, message: &str) -> Response<B> {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let body = format!("<fault><code>{code}</code><message>{escaped}</message></fault>");
    let mut r = Response::new(B::from(bytes::Bytes::from(body)));
    *r.status_mut() = status_for(code);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_gateway_statuses() {
        assert_eq!(status_for(101_503), StatusCode::BAD_GATEWAY);
        assert_eq!(status_for(101_505), StatusCode::BAD_GATEWAY);
        assert_eq!(status_for(101_504), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(status_for(303_001), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(status_for(0), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
