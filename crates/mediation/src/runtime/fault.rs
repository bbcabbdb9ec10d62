//! The client's answer when mediation fails and no fault sequence answers: a status chosen from
//! MI's error code, and a small payload with the code and the reason, as JSON when the client sent
//! or accepts JSON and as XML otherwise (MI's native format). The same codes MI logs (101503,
//! 101504, ...) appear in it, so operators can grep for them.
//!
//! MI's shipped global `fault` sequence only logs and drops, which leaves the client waiting until
//! the socket timeout closes the connection (passthru `SourceHandler#timeout`); Conflux answers at
//! once instead (a deliberate difference, in the README). Backend addresses are never put in the
//! payload.

use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, Response, StatusCode};

use crate::runtime::body::MessageBody;
use crate::runtime::endpoint::error_codes;

/// Which payload format the client prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultFormat {
    Json,
    Xml,
}

impl FaultFormat {
    /// JSON when the request's `Accept` or `Content-Type` mentions JSON, else XML.
    pub fn for_request(headers: &HeaderMap) -> FaultFormat {
        let mentions_json = |name| {
            headers.get_all(name).iter().any(|v| {
                v.to_str()
                    .is_ok_and(|v| v.to_ascii_lowercase().contains("json"))
            })
        };
        if mentions_json(ACCEPT) || mentions_json(CONTENT_TYPE) {
            FaultFormat::Json
        } else {
            FaultFormat::Xml
        }
    }
}

/// The HTTP status for an MI error code.
pub fn status_for(code: u32) -> StatusCode {
    match code {
        // The client's own connection failed while its request was read (SYN RCV_IO_ERROR_*).
        101_000..=101_099 => StatusCode::BAD_REQUEST,
        error_codes::TIMEOUT | error_codes::CONNECT_TIMEOUT => StatusCode::GATEWAY_TIMEOUT,
        error_codes::ENDPOINT_NOT_READY | error_codes::GROUP_NONE_READY => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        101_500..=101_599 => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The fault payload with the status for `code`.
pub fn default_response<B: MessageBody>(
    code: u32,
    message: &str,
    format: FaultFormat,
) -> Response<B> {
    let status = status_for(code);
    let description = status.canonical_reason().unwrap_or("Error");
    let (body, content_type) = match format {
        FaultFormat::Json => (
            format!(
                r#"{{"fault":{{"code":{code},"message":"{}","description":"{description}"}}}}"#,
                escape_json(message)
            ),
            "application/json",
        ),
        FaultFormat::Xml => (
            format!(
                "<fault><code>{code}</code><message>{}</message><description>{description}</description></fault>",
                escape_xml(message)
            ),
            "application/xml",
        ),
    };
    let mut r = Response::new(B::from(bytes::Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn escape_json(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    #[test]
    fn codes_map_to_statuses() {
        assert_eq!(status_for(101_503), StatusCode::BAD_GATEWAY);
        assert_eq!(status_for(101_505), StatusCode::BAD_GATEWAY);
        assert_eq!(status_for(101_504), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(status_for(101_508), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(status_for(303_001), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(status_for(101_001), StatusCode::BAD_REQUEST);
        assert_eq!(status_for(0), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn format_follows_the_request_and_payload_is_escaped() {
        let mut h = HeaderMap::new();
        assert_eq!(FaultFormat::for_request(&h), FaultFormat::Xml);
        h.insert(ACCEPT, HeaderValue::from_static("application/json"));
        assert_eq!(FaultFormat::for_request(&h), FaultFormat::Json);
        let r: Response<Full<bytes::Bytes>> =
            default_response(101_503, "a \"b\" <c>", FaultFormat::Json);
        assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
    }
}
