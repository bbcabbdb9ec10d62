//! The backend side of the pass-through transport: [`BackendClient`] keeps a pool of keep-alive
//! connections (HTTP and HTTPS, h2 when the backend offers it by ALPN) shared by every worker, and
//! [`BackendClient::forward`] sends one request with its body streamed from the client and returns
//! the response with its body still streaming from the backend.
//!
//! Failures become [`BackendError`]s carrying MI's classification (see [`crate::error`]).

use std::error::Error as StdError;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response, Uri};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::body::ProxyBody;
use crate::error::{BackendError, ProtocolState};
use crate::headers::prepare_backend_request;

/// Default connect timeout. MI bounds a connect only by its 180 s socket timeout
/// (`http.socket.timeout`); a connect that takes longer than this is a dead host, so Conflux fails
/// it earlier as 101508 (nginx `proxy_connect_timeout` is 60 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time an idle pooled connection is kept (nginx upstream `keepalive_timeout` 60 s).
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default number of idle connections kept per backend host.
pub const DEFAULT_POOL_MAX_IDLE_PER_HOST: usize = 256;
/// Default largest backend response head, in bytes (same as the client-side cap).
pub const DEFAULT_MAX_RESPONSE_HEADER_BYTES: usize = 64 * 1024;
/// hyper refuses read buffers smaller than this.
const MIN_RESPONSE_BUF_BYTES: usize = 8 * 1024;

/// Settings of the backend client pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    /// Deadline for TCP connect plus TLS handshake (101508 when it passes).
    pub connect_timeout: Duration,
    /// How long an idle pooled connection is kept.
    pub pool_idle_timeout: Duration,
    /// Idle connections kept per host.
    pub pool_max_idle_per_host: usize,
    /// Largest backend response head (101506 beyond).
    pub max_response_header_bytes: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            pool_idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
            pool_max_idle_per_host: DEFAULT_POOL_MAX_IDLE_PER_HOST,
            max_response_header_bytes: DEFAULT_MAX_RESPONSE_HEADER_BYTES,
        }
    }
}

/// A pooled HTTP/HTTPS client for backends; cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct BackendClient {
    client: Client<HttpsConnector<HttpConnector>, ProxyBody>,
}

impl std::fmt::Debug for BackendClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendClient").finish_non_exhaustive()
    }
}

impl BackendClient {
    /// A client trusting what `tls` trusts; ALPN offers `h2` and `http/1.1` (any list in `tls` is
    /// replaced).
    pub fn new(tls: Arc<rustls::ClientConfig>, opts: ClientOptions) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(opts.connect_timeout));
        http.set_keepalive(Some(Duration::from_secs(60)));
        // hyper-rustls writes ALPN (`h2`, `http/1.1`) itself and panics when the config already
        // lists protocols, so a caller's list is cleared on this copy.
        let mut tls = (*tls).clone();
        tls.alpn_protocols.clear();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(opts.pool_idle_timeout)
            .pool_max_idle_per_host(opts.pool_max_idle_per_host)
            .http1_max_buf_size(opts.max_response_header_bytes.max(MIN_RESPONSE_BUF_BYTES))
            .build(connector);
        Self { client }
    }

    /// Sends `req` to `target` (an absolute `http://` or `https://` URI) and returns the response
    /// once its head has arrived; both bodies stream. Hop-by-hop headers are removed and `Host`
    /// becomes the backend's authority (see [`crate::headers::prepare_backend_request`]).
    /// `timeout` bounds the wait for the response head (MI's endpoint timeout); `None` waits as
    /// long as the connection lives.
    ///
    /// # Errors
    /// A [`BackendError`] classified as MI classifies it.
    pub async fn forward(
        &self,
        mut req: Request<ProxyBody>,
        target: &Uri,
        timeout: Option<Duration>,
    ) -> Result<Response<Incoming>, BackendError> {
        check_target(target)?;
        prepare_backend_request(&mut req, target);
        let sending = self.client.request(req);
        let result = match timeout {
            Some(limit) => match tokio::time::timeout(limit, sending).await {
                Ok(result) => result,
                Err(_) => {
                    return Err(BackendError::ResponseTimeout {
                        target: target.to_string(),
                        timeout: limit,
                    });
                }
            },
            None => sending.await,
        };
        result.map_err(|error| classify(error, target))
    }
}

fn check_target(target: &Uri) -> Result<(), BackendError> {
    let reason = match target.scheme_str() {
        None => Some("it has no scheme"),
        Some("http" | "https") if target.authority().is_none() => Some("it has no host"),
        Some("http" | "https") => None,
        Some(_) => Some("its scheme is not http or https"),
    };
    match reason {
        Some(reason) => Err(BackendError::InvalidTarget {
            target: target.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Maps a client error to MI's classification by walking its source chain.
fn classify(error: hyper_util::client::legacy::Error, target: &Uri) -> BackendError {
    let target = target.to_string();
    if error.is_connect() {
        if find_io_kind(&error) == Some(io::ErrorKind::TimedOut) {
            return BackendError::ConnectTimeout { target };
        }
        return BackendError::ConnectFailed {
            target,
            source: error,
        };
    }
    let hyper_error = find_source::<hyper::Error>(&error);
    if let Some(h) = hyper_error {
        if h.is_parse() || h.is_parse_status() || h.is_parse_too_large() {
            return BackendError::ProtocolViolation {
                target,
                source: error,
            };
        }
        if h.is_body_write_aborted() || h.is_user() {
            // The client's body stream failed (client went away mid-upload).
            return BackendError::RequestBody {
                target,
                source: error,
            };
        }
        if h.is_incomplete_message() || h.is_canceled() || h.is_closed() {
            return BackendError::ConnectionClosed {
                target,
                state: ProtocolState::RequestDone,
                source: error,
            };
        }
    }
    match find_io_kind(&error) {
        Some(io::ErrorKind::UnexpectedEof) => BackendError::ConnectionClosed {
            target,
            state: ProtocolState::RequestDone,
            source: error,
        },
        _ => BackendError::Io {
            target,
            source: error,
        },
    }
}

fn find_source<'a, E: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

fn find_io_kind(error: &(dyn StdError + 'static)) -> Option<io::ErrorKind> {
    find_source::<io::Error>(error).map(io::Error::kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_need_http_scheme_and_host() {
        let bad: Uri = "/relative".parse().unwrap_or_default();
        assert!(matches!(
            check_target(&bad),
            Err(BackendError::InvalidTarget { .. })
        ));
        let ftp: Uri = "ftp://h/x".parse().unwrap_or_default();
        assert!(
            matches!(check_target(&ftp), Err(BackendError::InvalidTarget { reason, .. }) if reason.contains("scheme"))
        );
        let ok: Uri = "https://h:8443/x".parse().unwrap_or_default();
        assert!(check_target(&ok).is_ok());
    }
}
