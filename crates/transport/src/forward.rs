//! Pure pass-through of one request: the client's request goes to a backend through the pooled
//! [`BackendClient`] and the backend's response comes back, both bodies streamed, hop-by-hop
//! headers removed both ways. A backend failure before the response head becomes MI's fault
//! response ([`crate::fault`]); a failure inside the response body aborts the client's
//! connection (HTTP/1) or stream (h2), so a cut response never looks complete.

use std::time::Duration;

use http::{Request, Response, Uri};
use hyper::body::Incoming;

use crate::body::ProxyBody;
use crate::client::BackendClient;
use crate::error::BackendError;
use crate::fault::{FaultFormat, backend_fault_response};
use crate::headers::prepare_client_response;

/// Forwards `req` to `target` and returns the response for the client, or the error together with
/// the fault response to send when nothing else handles it.
///
/// # Errors
/// The [`BackendError`] and a ready fault response.
pub async fn pass_through(
    client: &BackendClient,
    req: Request<Incoming>,
    target: &Uri,
    timeout: Option<Duration>,
) -> Result<Response<ProxyBody>, (BackendError, Response<ProxyBody>)> {
    let format = FaultFormat::for_request(req.headers());
    match client
        .forward(req.map(ProxyBody::from), target, timeout)
        .await
    {
        Ok(response) => Ok(client_response(response)),
        Err(error) => {
            tracing::warn!(
                error_code = error.mi_error_code(),
                %error,
                "back end call failed"
            );
            let fault = backend_fault_response(&error, format);
            Err((error, fault))
        }
    }
}

/// The backend's response prepared for the client, its body still streaming.
pub fn client_response(mut response: Response<ProxyBody>) -> Response<ProxyBody> {
    prepare_client_response(&mut response);
    response
}
