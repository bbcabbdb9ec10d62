//! The backend side of the pass-through transport: [`BackendClient`] keeps a pool of keep-alive
//! connections (HTTP and HTTPS, h2 when the backend offers it by ALPN) shared by every worker, and
//! [`BackendClient::forward`] sends one request with its body streamed from the client and returns
//! the response with its body still streaming from the backend.
//!
//! The pool and the connections are [`crate::pool`]'s: an HTTP/1.1 exchange runs in the caller's
//! task, with no hand-off to a connection task. Failures become [`BackendError`]s carrying MI's
//! classification (see [`crate::error`]).

use std::error::Error as StdError;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use http::uri::Parts;
use http::{Request, Response, Uri};
use hyper::client::conn::http1;

use crate::body::ProxyBody;
use crate::error::{BackendError, ProtocolState};
use crate::headers::prepare_backend_request;
use crate::pool::{ConnectError, Connected, Connector, H1Outcome, Pool, PoolKey, send_h1};

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
/// ALPN offered to HTTPS backends: h2 when the backend prefers it, else HTTP/1.1.
const BACKEND_ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];
/// How many pooled connections one request may find stale (closed by the backend after they were
/// checked out, before the request started) before it gets a fresh connection.
const MAX_STALE_RETRIES: usize = 3;

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
    pool: Arc<Pool>,
    connector: Arc<Connector>,
    /// The HTTP proxy plain-HTTP requests go through (`[transport.http] sender.proxy_host`).
    proxy: Option<Arc<HttpProxy>>,
    /// The HTTP proxy HTTPS requests are tunnelled through with `CONNECT`
    /// (`[transport.http] sender.secured_proxy_host`).
    secured_proxy: Option<Arc<HttpProxy>>,
}

/// An outbound HTTP proxy, as MI's http sender uses `http.proxyHost` / `http.proxyPort` /
/// `http.nonProxyHosts` (wso2-synapse `nhttp/config/ProxyConfigBuilder.java`,
/// `http/conn/ProxyConfig.java`): a plain-HTTP request to a host no bypass pattern matches is sent
/// to the proxy with its absolute-form request target.
#[derive(Debug, Clone)]
pub struct HttpProxy {
    authority: http::uri::Authority,
    /// `ProxyConfig.isBypass`: the host, lower-cased, fully matches one of these Java regexes.
    bypass: Vec<regex::Regex>,
}

impl HttpProxy {
    /// A proxy at `host:port` bypassed for hosts matching one of `non_proxy_hosts`. Patterns that
    /// are not valid regular expressions are compared literally (case-insensitively).
    pub fn new(host: &str, port: u16, non_proxy_hosts: &[String]) -> Result<Self, String> {
        let authority = http::uri::Authority::try_from(format!("{host}:{port}").as_str())
            .map_err(|e| format!("[transport.http] sender.proxy_host {host:?}: {e}"))?;
        let bypass = non_proxy_hosts
            .iter()
            .map(|p| p.trim().to_lowercase())
            .filter(|p| !p.is_empty())
            .map(|p| {
                regex::Regex::new(&format!("^(?:{p})$"))
                    .or_else(|_| regex::Regex::new(&format!("^{}$", regex::escape(&p))))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("[transport.http] sender.non_proxy_hosts: {e}"))?;
        Ok(HttpProxy { authority, bypass })
    }

    /// Whether a request to `host` goes through the proxy.
    pub fn applies_to(&self, host: &str) -> bool {
        let host = host.to_lowercase();
        !self.bypass.iter().any(|pattern| pattern.is_match(&host))
    }
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
        let mut tls = (*tls).clone();
        tls.alpn_protocols = BACKEND_ALPN.iter().map(|p| p.to_vec()).collect();
        let mut h1 = http1::Builder::new();
        h1.max_buf_size(opts.max_response_header_bytes.max(MIN_RESPONSE_BUF_BYTES));
        let connector = Connector {
            tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
            connect_timeout: opts.connect_timeout,
            h1,
        };
        Self {
            pool: Pool::new(opts.pool_idle_timeout, opts.pool_max_idle_per_host),
            connector: Arc::new(connector),
            proxy: None,
            secured_proxy: None,
        }
    }

    /// Sends plain-HTTP requests through `proxy` (HTTPS backends are still reached directly).
    pub fn with_http_proxy(mut self, proxy: HttpProxy) -> Self {
        self.proxy = Some(Arc::new(proxy));
        self
    }

    /// Tunnels HTTPS requests through `proxy` with `CONNECT` (TLS stays end to end).
    pub fn with_https_proxy(mut self, proxy: HttpProxy) -> Self {
        self.secured_proxy = Some(Arc::new(proxy));
        self
    }

    /// Sends `req` to `target` (an absolute `http://` or `https://` URI) and returns the response
    /// once its head has arrived; both bodies stream. Hop-by-hop headers are removed and `Host`
    /// becomes the backend's authority (see [`crate::headers::prepare_backend_request`]).
    /// `timeout` bounds the wait for the response head (MI's endpoint timeout), connecting
    /// included; `None` waits as long as the connection lives.
    ///
    /// # Errors
    /// A [`BackendError`] classified as MI classifies it.
    pub async fn forward(
        &self,
        mut req: Request<ProxyBody>,
        target: &Uri,
        timeout: Option<Duration>,
    ) -> Result<Response<ProxyBody>, BackendError> {
        check_target(target)?;
        let Some(key) = PoolKey::for_target(target) else {
            return Err(BackendError::InvalidTarget {
                target: target.to_string(),
                reason: "it has no host",
            });
        };
        prepare_backend_request(&mut req, target);
        if let Some(HostOverride(host)) = req.extensions_mut().remove::<HostOverride>()
            && let Ok(value) = http::HeaderValue::try_from(host)
        {
            req.headers_mut().insert(http::header::HOST, value);
        }
        if req.extensions_mut().remove::<CloseAfter>().is_some() {
            req.headers_mut().insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("Close"),
            );
        }
        let sending = self.send(req, key, target);
        let response = match timeout {
            Some(limit) => match tokio::time::timeout(limit, sending).await {
                Ok(result) => result,
                Err(_) => Err(BackendError::ResponseTimeout {
                    target: target.to_string(),
                    timeout: limit,
                }),
            },
            None => sending.await,
        }?;
        match response_framing_fault(&response) {
            // Dropping the response drops its body before the end: the connection is closed,
            // never pooled with the rest of the bad message on it.
            Some(reason) => Err(BackendError::ProtocolViolation {
                target: target.to_string(),
                source: reason.into(),
            }),
            None => Ok(response),
        }
    }

    async fn send(
        &self,
        mut req: Request<ProxyBody>,
        mut key: PoolKey,
        target: &Uri,
    ) -> Result<Response<ProxyBody>, BackendError> {
        if key.https
            && let Some(proxy) = &self.secured_proxy
            && proxy.applies_to(target.host().unwrap_or(""))
        {
            key.tunnel = Some(proxy.authority.clone());
        }
        if key.https
            && let Some(sender) = self.pool.h2(&key)
        {
            return send_h2(sender, req, target).await;
        }
        let proxied = match &self.proxy {
            Some(proxy) if !key.https && proxy.applies_to(target.host().unwrap_or("")) => {
                // The connection (and its pool) is the proxy's; the target goes in the request line.
                key = PoolKey {
                    https: false,
                    authority: proxy.authority.clone(),
                    tunnel: None,
                };
                true
            }
            _ => false,
        };
        // HTTP/1.1 writes the request target in origin form (RFC 9112 §3.2.1), unless the
        // message asked for the absolute form (MI's POST_TO_URI) or it goes through a proxy.
        if req.extensions_mut().remove::<AbsoluteForm>().is_some() || proxied {
            *req.uri_mut() = target.clone();
        } else {
            *req.uri_mut() = origin_form(target);
        }
        let mut stale = 0;
        loop {
            let pooled = if stale < MAX_STALE_RETRIES {
                self.pool.checkout(&key).await
            } else {
                None
            };
            let conn = match pooled {
                Some(conn) => conn,
                None => match self.connector.connect(&key).await {
                    Ok(Connected::Http1(conn)) => conn,
                    Ok(Connected::Http2(sender)) => {
                        self.pool.put_h2(key, sender.clone());
                        *req.uri_mut() = target.clone();
                        return send_h2(sender, req, target).await;
                    }
                    Err(ConnectError::TimedOut) => {
                        return Err(BackendError::ConnectTimeout {
                            target: target.to_string(),
                        });
                    }
                    Err(ConnectError::Failed(source)) => {
                        // MI's passthru ConnectCallback.failed logs this at WARN.
                        tracing::warn!(target: "conflux::transport", "Connection refused or failed for : {}", key.connect_authority());
                        return Err(classify_connect(source, target));
                    }
                },
            };
            // Yielding before the request is written lets the runtime first finish the other
            // ready connections' work (reading their requests), so that the writes to the
            // backend go out in a run: a backend already awake for the previous write needs no
            // new wake-up, and on loopback a wake-up costs the writer more CPU than the yield
            // does. A second yield before answering the client helped at 50 connections and
            // hurt at 500 (measured in bench/BENCHMARKS.md).
            tokio::task::yield_now().await;
            match send_h1(&self.pool, conn, req).await {
                H1Outcome::Response(response) => return Ok(response),
                H1Outcome::Retry(unsent) => {
                    stale += 1;
                    req = unsent;
                }
                H1Outcome::Failed(error) => return Err(classify(error, target)),
            }
        }
    }
}

/// A request extension: write the request-target in absolute form (`POST http://host/path`), as
/// MI does for a message with `POST_TO_URI` (some proxies and gateways require it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbsoluteForm;

/// A request extension: ask the backend to close the connection after this exchange (MI's
/// `NO_KEEPALIVE`); the connection is then not returned to the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseAfter;

/// A request extension: the Host header to send instead of the target's authority (MI's
/// `REQUEST_HOST_HEADER`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostOverride(pub String);

/// What is wrong with a backend response head that hyper accepted but a proxy must not pass on
/// (reliability.md §4, response side):
/// - `Content-Length` together with `Transfer-Encoding` (RFC 9112 §6.3: "ought to be handled as
///   an error"; hyper lets chunked win, but the two disagree on where the message ends, the
///   classic response-splitting shape; nginx refuses it too);
/// - `101 Switching Protocols`: Conflux never forwards an `Upgrade` (it is hop-by-hop), so a 101
///   answers a request that was not made, and the bytes after it are not HTTP.
fn response_framing_fault<B>(response: &Response<B>) -> Option<&'static str> {
    if response.status() == http::StatusCode::SWITCHING_PROTOCOLS {
        return Some("101 Switching Protocols without an upgrade request");
    }
    let headers = response.headers();
    if headers.contains_key(http::header::TRANSFER_ENCODING)
        && headers.contains_key(http::header::CONTENT_LENGTH)
    {
        return Some("response has both Content-Length and Transfer-Encoding");
    }
    None
}

/// `target`'s path and query as a URI of its own.
fn origin_form(target: &Uri) -> Uri {
    let mut parts = Parts::default();
    parts.path_and_query = Some(
        target
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/")),
    );
    Uri::from_parts(parts).unwrap_or_else(|_| Uri::from_static("/"))
}

async fn send_h2(
    mut sender: hyper::client::conn::http2::SendRequest<ProxyBody>,
    req: Request<ProxyBody>,
    target: &Uri,
) -> Result<Response<ProxyBody>, BackendError> {
    if let Err(error) = sender.ready().await {
        return Err(classify(error, target));
    }
    match sender.send_request(req).await {
        Ok(response) => Ok(response.map(ProxyBody::from)),
        Err(error) => Err(classify(error, target)),
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

/// A failed connect: a TLS handshake that timed out inside rustls counts as a connect timeout too.
fn classify_connect(source: crate::body::BoxError, target: &Uri) -> BackendError {
    let target = target.to_string();
    if find_io_kind(source.as_ref()) == Some(io::ErrorKind::TimedOut) {
        return BackendError::ConnectTimeout { target };
    }
    BackendError::ConnectFailed { target, source }
}

/// Maps an exchange error to MI's classification by what hyper says and the I/O error below.
fn classify(error: hyper::Error, target: &Uri) -> BackendError {
    let target = target.to_string();
    if error.is_parse() || error.is_parse_status() || error.is_parse_too_large() {
        return BackendError::ProtocolViolation {
            target,
            source: Box::new(error),
        };
    }
    if error.is_body_write_aborted() || error.is_user() {
        // The client's body stream failed (client went away mid-upload).
        return BackendError::RequestBody {
            target,
            source: Box::new(error),
        };
    }
    if error.is_incomplete_message() || error.is_canceled() || error.is_closed() {
        return BackendError::ConnectionClosed {
            target,
            state: ProtocolState::RequestDone,
            source: Box::new(error),
        };
    }
    match find_io_kind(&error) {
        Some(io::ErrorKind::UnexpectedEof) => BackendError::ConnectionClosed {
            target,
            state: ProtocolState::RequestDone,
            source: Box::new(error),
        },
        _ => BackendError::Io {
            target,
            source: Box::new(error),
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

    #[test]
    fn proxy_bypass_patterns_are_full_java_regex_matches() {
        let proxy = HttpProxy::new(
            "111.wso2.com",
            7777,
            &[".*.222.wso2.com".into(), "LocalHost".into(), "[bad".into()],
        )
        .expect("proxy");
        assert!(proxy.applies_to("backend.example"));
        assert!(!proxy.applies_to("a.222.wso2.com"));
        assert!(!proxy.applies_to("localhost"));
        assert!(proxy.applies_to("localhost.example"));
        assert!(!proxy.applies_to("[bad"));
        assert!(HttpProxy::new("bad host", 1, &[]).is_err());
    }

    /// A plain-HTTP request goes to the proxy with its absolute-form target; a refused proxy
    /// connection is MI's 101503.
    #[tokio::test]
    async fn plain_http_requests_go_through_the_proxy() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let proxy_task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut head = Vec::new();
            let mut buffer = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buffer).await.expect("read");
                if n == 0 {
                    break;
                }
                head.extend_from_slice(&buffer[..n]);
            }
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await
                .expect("write");
            String::from_utf8_lossy(&head).into_owned()
        });
        let tls = crate::tls::client_config(None).expect("tls");
        let client = BackendClient::new(tls.clone(), ClientOptions::default())
            .with_http_proxy(HttpProxy::new("127.0.0.1", address.port(), &[]).expect("proxy"));
        let target: Uri = "http://backend.invalid:9000/services/X?a=1"
            .parse()
            .expect("uri");
        let response = client
            .forward(Request::new(ProxyBody::Empty), &target, None)
            .await
            .expect("response through the proxy");
        assert_eq!(response.status(), http::StatusCode::OK);
        let head = proxy_task.await.expect("proxy task");
        assert!(
            head.starts_with("GET http://backend.invalid:9000/services/X?a=1 HTTP/1.1\r\n"),
            "{head}"
        );
        assert!(
            head.to_lowercase().contains("host: backend.invalid:9000"),
            "{head}"
        );

        // Nobody listens on the proxy port now: the connect fails with 101503.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = closed.local_addr().expect("address").port();
        drop(closed);
        let client = BackendClient::new(tls, ClientOptions::default())
            .with_http_proxy(HttpProxy::new("127.0.0.1", port, &[]).expect("proxy"));
        let error = client
            .forward(Request::new(ProxyBody::Empty), &target, None)
            .await
            .expect_err("proxy refused");
        assert_eq!(error.mi_error_code(), 101503);
    }
}
