//! Header rules of the pass-through path as a transparent proxy (RFC 9110 §7.6.1, RFC 9112 §6-7):
//! which headers are hop-by-hop and never cross the proxy, how the outgoing request's Host is
//! chosen, and which request shapes are refused before anything is forwarded.
//!
//! MI compatibility (wso2-synapse `passthru/util/TargetRequestFactory.java`,
//! `PassThroughTransportUtils.removeUnwantedHeaders`): MI drops the client's `Host` and lets the
//! HTTP client write the backend's authority (unless `http.headers.preserve` lists Host or the
//! `REQUEST_HOST_HEADER` property is set), drops `Transfer-Encoding`, `Connection`, `Keep-Alive`
//! and re-frames the body, and adds no `X-Forwarded-For` (only `DynamicLoadbalanceEndpoint` does).
//! Conflux does the same. Unlike MI it keeps `User-Agent`, `Date` and `Server` (MI replaces them
//! unless preserved), because a transparent pass-through should not rewrite end-to-end headers.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode, Uri, Version};

/// Hop-by-hop headers that never cross the proxy (RFC 9110 §7.6.1, plus the legacy
/// `Proxy-Connection` and the proxy credentials, which belong to the client-proxy hop).
pub(crate) const HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
    header::PROXY_AUTHENTICATE,
];

/// Removes hop-by-hop headers, including every header named in `Connection`.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // One pass over the (few) names present, noting which hop-by-hop names occur, is much
    // cheaper than removing each of the nine names (a hash each); most messages carry none of
    // them, or only `Connection: keep-alive` (every nginx response).
    let mut present = 0u16;
    for name in headers.keys() {
        if let Some(index) = HOP_BY_HOP.iter().position(|h| h == name) {
            present |= 1 << index;
        }
    }
    if present == 0 {
        return;
    }
    // Names listed in Connection are hop-by-hop too (RFC 9110 §7.6.1). Collect them first: the
    // header map cannot be borrowed while it is being modified. The option `keep-alive` names a
    // header of the fixed list (removed below when present), so the vector allocates only when a
    // peer lists other names (`close` too: a header of that name must go as well).
    let listed: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|name| !name.eq_ignore_ascii_case("keep-alive"))
        .filter_map(|name| HeaderName::from_bytes(name.as_bytes()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    for (index, name) in HOP_BY_HOP.iter().enumerate() {
        if present & (1 << index) != 0 {
            headers.remove(name);
        }
    }
}

/// Why a request is refused before forwarding (connection closed; [`RequestRejection::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestRejection {
    /// More than one `Host` header (RFC 9112 §3.2).
    #[error("more than one Host header")]
    MultipleHost,
    /// An HTTP/1.1 request without `Host` (RFC 9112 §3.2: "MUST respond with a 400").
    #[error("HTTP/1.1 request without a Host header")]
    MissingHost,
    /// A `Host` that is not a valid authority (RFC 9112 §3.2: "an invalid field value"), or that
    /// carries userinfo (RFC 9110 §4.2.4 forbids it in http URIs).
    #[error("the Host header is not a valid host[:port]")]
    InvalidHost,
    /// More than one `Content-Length` value (duplicates that hyper folded are refused too).
    #[error("more than one Content-Length value")]
    DuplicateContentLength,
    /// An `Expect` other than `100-continue` (RFC 9110 §10.1.1: 417).
    #[error("unsupported expectation")]
    UnsupportedExpectation,
}

impl RequestRejection {
    /// The status the client gets: 417 for an expectation, otherwise 400.
    pub fn status(&self) -> StatusCode {
        match self {
            RequestRejection::UnsupportedExpectation => StatusCode::EXPECTATION_FAILED,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// Checks the request shapes hyper accepts but a proxy must refuse (reliability.md §4), and
/// normalises an absolute-form HTTP/1 request: the target's authority wins over the `Host`
/// header, which is replaced by it (RFC 9112 §3.2.2: the server "MUST ignore the received Host
/// header field ... and instead use the host information of the request-target").
///
/// # Errors
/// The first rule the request breaks.
pub fn validate_request<B>(req: &mut Request<B>) -> Result<(), RequestRejection> {
    let version = req.version();
    let headers = req.headers();
    let mut hosts = headers.get_all(header::HOST).iter();
    let host = hosts.next();
    if hosts.next().is_some() {
        return Err(RequestRejection::MultipleHost);
    }
    if headers
        .get_all(header::CONTENT_LENGTH)
        .iter()
        .nth(1)
        .is_some()
    {
        return Err(RequestRejection::DuplicateContentLength);
    }
    if let Some(expect) = headers.get(header::EXPECT)
        && !expect
            .as_bytes()
            .trim_ascii()
            .eq_ignore_ascii_case(b"100-continue")
    {
        return Err(RequestRejection::UnsupportedExpectation);
    }
    // h2 carries the authority in `:authority`; HTTP/1.0 has no Host requirement.
    if version == Version::HTTP_11 && host.is_none() {
        return Err(RequestRejection::MissingHost);
    }
    if let Some(host) = host
        && !is_valid_host(host.as_bytes())
    {
        return Err(RequestRejection::InvalidHost);
    }
    if version < Version::HTTP_2
        && let Some(authority) = req.uri().authority()
        && host.is_none_or(|h| {
            !authority
                .as_str()
                .eq_ignore_ascii_case(h.to_str().unwrap_or(""))
        })
    {
        if authority.as_str().contains('@') {
            return Err(RequestRejection::InvalidHost);
        }
        if let Ok(value) = HeaderValue::from_str(authority.as_str()) {
            req.headers_mut().insert(header::HOST, value);
        }
    }
    Ok(())
}

/// A Host value: empty (allowed for a target without authority, RFC 9110 §7.2) or a `host[:port]`
/// authority without userinfo.
pub(crate) fn is_valid_host(value: &[u8]) -> bool {
    value.is_empty() || (!value.contains(&b'@') && http::uri::Authority::try_from(value).is_ok())
}

/// Turns a client's request into the request for `target`: hop-by-hop headers and
/// `Expect: 100-continue` removed (the proxy already answered the expectation when it started
/// reading the body, and hyper's client does not wait for a 100), the URI set to `target` (the
/// client connector needs the absolute form; hyper writes origin-form on the wire), the version
/// left to the connection, and `Host` set to the backend's authority as MI does.
pub fn prepare_backend_request<B>(req: &mut Request<B>, target: &Uri) {
    let headers = req.headers_mut();
    strip_hop_by_hop(headers);
    if headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
    {
        headers.remove(header::EXPECT);
    }
    if let Some(authority) = target.authority() {
        let host = host_header_for(target, authority.as_str());
        if let Ok(value) = HeaderValue::from_str(host) {
            headers.insert(header::HOST, value);
        }
    }
    *req.uri_mut() = target.clone();
    // Let the pooled connection decide between HTTP/1.1 and h2; an h2 client's request must not
    // force h2 onto an HTTP/1.1 backend.
    *req.version_mut() = http::Version::HTTP_11;
}

/// The Host value for `target`: its authority without userinfo, and without the port when it is
/// the scheme's default (what HTTP clients, and MI's httpcore, write).
pub fn host_header_for<'a>(target: &Uri, authority: &'a str) -> &'a str {
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let default_port = match target.scheme_str() {
        Some("https") => ":443",
        _ => ":80",
    };
    authority.strip_suffix(default_port).unwrap_or(authority)
}

/// Turns a backend's response into the response for the client: hop-by-hop headers removed;
/// `Content-Length` is kept, and a response without one is re-framed chunked by hyper.
pub fn prepare_client_response<B>(resp: &mut Response<B>) {
    strip_hop_by_hop(resp.headers_mut());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_hop_by_hop_and_connection_listed_names() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("x-secret, keep-alive"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(header::TE, HeaderValue::from_static("trailers"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert("proxy-connection", HeaderValue::from_static("keep-alive"));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        h.insert("x-end-to-end", HeaderValue::from_static("kept"));
        strip_hop_by_hop(&mut h);
        let names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, vec!["content-length", "x-end-to-end"]);
    }

    #[test]
    fn connection_keep_alive_strips_keep_alive_and_close_strips_a_close_header() {
        let mut h = HeaderMap::new();
        h.insert(header::CONNECTION, HeaderValue::from_static("Keep-Alive"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(
            "close",
            HeaderValue::from_static("not listed, so end-to-end"),
        );
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        strip_hop_by_hop(&mut h);
        let mut names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, vec!["close", "content-type"]);
        // RFC 9110 §7.6.1: a field named like a listed option goes, `close` included.
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
        strip_hop_by_hop(&mut h);
        let names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, vec!["content-type"]);
    }

    #[test]
    fn host_is_the_backend_authority_without_default_port() {
        let mut req = Request::builder()
            .uri("/a?b=1")
            .header(header::HOST, "client.example")
            .header(header::EXPECT, "100-continue")
            .body(())
            .unwrap_or_default();
        let target: Uri = "http://backend:80/svc/a?b=1".parse().unwrap_or_default();
        prepare_backend_request(&mut req, &target);
        assert_eq!(req.headers()[header::HOST], "backend");
        assert!(req.headers().get(header::EXPECT).is_none());
        assert_eq!(req.uri(), &target);
        let target: Uri = "https://user@backend:8443/x".parse().unwrap_or_default();
        prepare_backend_request(&mut req, &target);
        assert_eq!(req.headers()[header::HOST], "backend:8443");
    }

    fn request(version: Version, uri: &str, headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::builder().version(version).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap_or_default()
    }

    #[test]
    fn rejects_two_missing_and_invalid_hosts() {
        let cases = [
            (
                Version::HTTP_11,
                &[("host", "a"), ("host", "b")][..],
                Err(RequestRejection::MultipleHost),
            ),
            (Version::HTTP_11, &[], Err(RequestRejection::MissingHost)),
            (Version::HTTP_10, &[], Ok(())),
            (Version::HTTP_2, &[], Ok(())),
            (Version::HTTP_11, &[("host", "")], Ok(())),
            (Version::HTTP_11, &[("host", "[::1]:8290")], Ok(())),
            (
                Version::HTTP_11,
                &[("host", "a/b")],
                Err(RequestRejection::InvalidHost),
            ),
            (
                Version::HTTP_11,
                &[("host", "user@a")],
                Err(RequestRejection::InvalidHost),
            ),
            (
                Version::HTTP_11,
                &[("host", "a b")],
                Err(RequestRejection::InvalidHost),
            ),
        ];
        for (version, headers, expected) in cases {
            let mut req = request(version, "/", headers);
            assert_eq!(
                validate_request(&mut req),
                expected,
                "{version:?} {headers:?}"
            );
        }
    }

    #[test]
    fn absolute_form_authority_replaces_host() {
        let mut req = request(
            Version::HTTP_11,
            "http://a.example:8290/x",
            &[("host", "b.example")],
        );
        assert_eq!(validate_request(&mut req), Ok(()));
        assert_eq!(req.headers()[header::HOST], "a.example:8290");
        // RFC 9112 §3.2: HTTP/1.1 needs Host even with an absolute-form target.
        let mut req = request(Version::HTTP_11, "http://a.example/x", &[]);
        assert_eq!(
            validate_request(&mut req),
            Err(RequestRejection::MissingHost)
        );
        let mut req = request(Version::HTTP_10, "http://u@a.example/x", &[]);
        assert_eq!(
            validate_request(&mut req),
            Err(RequestRejection::InvalidHost)
        );
    }

    #[test]
    fn only_100_continue_is_an_acceptable_expectation() {
        for (value, expected) in [
            ("100-continue", Ok(())),
            ("100-Continue", Ok(())),
            ("teapot", Err(RequestRejection::UnsupportedExpectation)),
            (
                "100-continue, x",
                Err(RequestRejection::UnsupportedExpectation),
            ),
        ] {
            let mut req = request(Version::HTTP_11, "/", &[("host", "a"), ("expect", value)]);
            assert_eq!(validate_request(&mut req), expected, "{value}");
        }
        assert_eq!(RequestRejection::UnsupportedExpectation.status(), 417);
        assert_eq!(RequestRejection::MissingHost.status(), 400);
    }
}
