//! Data services on the pass-through ports: `/services/<name>/<resource path>` goes to the
//! deployed `.dbs` service of that name (MI serves data services as Axis2 services next to the
//! proxy services; a proxy of the same name wins here, as MI refuses to deploy the second service
//! of one name). The body is read up to [`MAX_REQUEST_BODY_BYTES`] and the request handed to
//! [`DeployedService::invoke`].

use std::sync::Arc;

use conflux_dataservices::service::{DeployedService, MAX_REQUEST_BODY_BYTES, ServiceRequest};
use http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;

use crate::body::ProxyBody;

pub use conflux_dataservices::service::DataServices;

/// The data service a `/services/NAME...` path names, if one is deployed under that name.
pub fn lookup<'a>(services: &'a DataServices, path: &str) -> Option<&'a Arc<DeployedService>> {
    let rest = path.strip_prefix("/services/")?;
    let end = rest.find(['/', '?', '.']).unwrap_or(rest.len());
    services.get(&rest[..end])
}

/// Answers a request for `service`.
pub async fn serve(service: &DeployedService, request: Request<Incoming>) -> Response<ProxyBody> {
    let (parts, body) = request.into_parts();
    let limited = http_body_util::Limited::new(body, MAX_REQUEST_BODY_BYTES);
    let bytes = match limited.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let mut response = Response::new(ProxyBody::Empty);
            *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
            return response;
        }
    };
    let path = parts.uri.path();
    let after = path
        .strip_prefix("/services/")
        .and_then(|r| r.strip_prefix(service.name()))
        .unwrap_or("");
    let header_text = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
    // The Cookie header names a legacy boxcarring session (begin_boxcar answers Set-Cookie).
    let answer = service
        .invoke_in_session(
            &ServiceRequest {
                method: parts.method.as_str(),
                path: after,
                query: parts.uri.query().unwrap_or(""),
                content_type: header_text(header::CONTENT_TYPE),
                accept: header_text(header::ACCEPT),
                body: &bytes,
            },
            header_text(header::COOKIE),
        )
        .await;
    let mut response = Response::new(answer.body.map_or(ProxyBody::Empty, ProxyBody::from));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(cookie) = answer
        .set_cookie
        .as_deref()
        .and_then(|c| header::HeaderValue::from_str(c).ok())
    {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    if response.status() != StatusCode::ACCEPTED {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static(answer.content_type),
        );
    }
    response
}
