//! CORS for `/management` from `[management_api.cors]` (MI: `InternalAPICORSConfiguration`,
//! Synapse `api/cors/CORSHelper.java`): every answer carries the allow headers; an `OPTIONS`
//! preflight is answered here, before authentication.

use bytes::Bytes;
use conflux_config::settings::ManagementApiConfig;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};

use super::empty;

/// MI's method list, spelled as MI sends it.
const ALLOWED_METHODS: &str = "GET, POST, PUT, DELETE,OPTIONS, PATCH";

/// The `Access-Control-Allow-Origin` value for this request: `*`, the request's listed origin, or
/// none.
fn allowed_origin(config: &ManagementApiConfig, request: &HeaderMap) -> Option<HeaderValue> {
    if config.cors_allowed_origins.iter().any(|o| o == "*") {
        return Some(HeaderValue::from_static("*"));
    }
    let origin = request.get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    config
        .cors_allowed_origins
        .iter()
        .any(|o| o == text)
        .then(|| origin.clone())
}

/// Adds the CORS headers to an answer (nothing when CORS is disabled).
pub(super) fn apply(config: &ManagementApiConfig, request: &HeaderMap, response: &mut HeaderMap) {
    if !config.cors_enabled {
        return;
    }
    if let Some(origin) = allowed_origin(config, request) {
        response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        response.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOWED_METHODS),
    );
    if let Ok(v) = HeaderValue::from_str(&config.cors_allowed_headers) {
        response.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
    }
}

/// An `OPTIONS` request: 200 without auth; 403 when origins are restricted and this one is not
/// listed (MI `CORSHelper.handleCORSHeaders`). Without CORS, MI finds no resource for OPTIONS.
pub(super) fn preflight(config: &ManagementApiConfig, request: &HeaderMap) -> Response<Bytes> {
    if !config.cors_enabled {
        return empty(StatusCode::NOT_FOUND);
    }
    if request.contains_key(header::ORIGIN) && allowed_origin(config, request).is_none() {
        return empty(StatusCode::FORBIDDEN);
    }
    empty(StatusCode::OK)
}
