//! The `Location` rewrite of backend responses, as MI's pass-through transport does it
//! (wso2-synapse `transport/passthru/ClientWorker.java`): when a backend answers with a
//! `Location` header and a status other than 301, 302, 303, 307 or 201, the header becomes the
//! client-facing *service prefix* followed by the Location's path (its `URL.getFile()`, or the
//! value itself when it is relative: ESBJAVA-3461), the path's leading `/` dropped.
//!
//! The service prefix is computed per client request as `ServerWorker.processHttpRequestUri`
//! does: `scheme://<local address>:<local port>` plus the request URI up to its REST URL postfix
//! (`NhttpUtil.getRestUrlPostfix`, service path `services`). It reaches the backend sender through
//! a task-local set around mediation ([`with_service_prefix`]).

use std::future::Future;
use std::net::SocketAddr;

use http::{HeaderValue, Response, StatusCode, header};

tokio::task_local! {
    static SERVICE_PREFIX: String;
}

/// Runs `f` (the mediation of one client request) with its service prefix available to
/// [`rewrite_location`].
pub async fn with_service_prefix<F: Future>(prefix: String, f: F) -> F::Output {
    SERVICE_PREFIX.scope(prefix, f).await
}

/// The service prefix of a request to `uri` (path and query) received on `local`.
pub fn service_prefix(tls: bool, local: SocketAddr, uri: &str) -> String {
    // `NhttpUtil.getRestUrlPostfix` with the service path `services`, as mediation computes it.
    let postfix = conflux_mediation::runtime::deployment::main_rest_url_postfix(uri);
    let before = uri.find(postfix.as_str()).map_or("", |at| &uri[..at]);
    if before.contains("://") {
        return before.to_owned();
    }
    let scheme = if tls { "https" } else { "http" };
    // Java's InetAddress.getHostAddress: no brackets around IPv6.
    format!(
        "{scheme}://{}:{}{before}",
        local.ip().to_canonical(),
        local.port()
    )
}

/// Rewrites the `Location` header of a backend's `response` as MI's ClientWorker does, when a
/// service prefix is set for the current task.
pub fn rewrite_location<B>(response: &mut Response<B>) {
    if matches!(
        response.status(),
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::CREATED
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
    ) {
        return;
    }
    let Some(original) = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return;
    };
    let Ok(Some(rewritten)) =
        SERVICE_PREFIX.try_with(|prefix| rewritten_location(prefix, &original))
    else {
        return;
    };
    if let Ok(value) = HeaderValue::try_from(rewritten) {
        response.headers_mut().insert(header::LOCATION, value);
    }
}

/// What [`rewrite_location`] makes of a backend's `Location` value `location` in a response
/// with `status`, for a client request to `uri` (path and query) received on `local`; `None`:
/// the value stays as it is (the Conflux HTTP/1 engine, which forwards raw header lines).
pub(crate) fn rewritten_for_client(
    status: u16,
    tls: bool,
    local: SocketAddr,
    uri: &str,
    location: &str,
) -> Option<String> {
    if matches!(status, 301 | 302 | 201 | 303 | 307) {
        return None;
    }
    rewritten_location(&service_prefix(tls, local, uri), location)
}

/// `prefix` + the path of `location` without its leading `/`.
fn rewritten_location(prefix: &str, location: &str) -> Option<String> {
    // java.net.URL accepts an absolute URL with a known protocol; getFile() is path + query.
    let context = match location.parse::<http::Uri>() {
        Ok(uri) if uri.scheme().is_some() && uri.authority().is_some() => {
            let path = uri.path();
            let path = if path == "/" && !location.ends_with('/') && uri.query().is_none() {
                ""
            } else {
                path
            };
            match uri.query() {
                Some(query) => format!("{path}?{query}"),
                None => path.to_owned(),
            }
        }
        _ => location.to_owned(),
    };
    let context = context.strip_prefix('/').unwrap_or(&context);
    Some(format!("{prefix}{context}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 8480))
    }

    #[test]
    fn service_prefix_follows_server_worker() {
        assert_eq!(
            service_prefix(false, local(), "/services/LocationHeaderTestProxy"),
            "http://127.0.0.1:8480"
        );
        assert_eq!(
            service_prefix(false, local(), "/services/P/a/b"),
            "http://127.0.0.1:8480/services/P"
        );
        assert_eq!(
            service_prefix(true, local(), "/stock/quote"),
            "https://127.0.0.1:8480/"
        );
    }

    #[test]
    fn relative_and_absolute_locations_get_the_prefix() {
        assert_eq!(
            rewritten_location("http://127.0.0.1:8480", "//services").as_deref(),
            Some("http://127.0.0.1:8480/services")
        );
        assert_eq!(
            rewritten_location("http://10.0.0.1:8290/", "http://backend:9000/a/b?c=1").as_deref(),
            Some("http://10.0.0.1:8290/a/b?c=1")
        );
    }

    #[tokio::test]
    async fn only_non_redirect_answers_are_rewritten_inside_a_request() {
        let answer = |status: u16| {
            let mut r = Response::new(());
            *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            r.headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static("//services"));
            r
        };
        let (ok, redirect) = with_service_prefix("http://127.0.0.1:8480".into(), async move {
            let mut ok = answer(200);
            rewrite_location(&mut ok);
            let mut redirect = answer(302);
            rewrite_location(&mut redirect);
            (ok, redirect)
        })
        .await;
        assert_eq!(
            ok.headers()[header::LOCATION],
            "http://127.0.0.1:8480/services"
        );
        assert_eq!(redirect.headers()[header::LOCATION], "//services");
        // Outside a client request nothing changes.
        let mut outside = answer(200);
        rewrite_location(&mut outside);
        assert_eq!(outside.headers()[header::LOCATION], "//services");
    }
}
