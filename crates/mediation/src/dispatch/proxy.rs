//! Proxy-service dispatch over HTTP: `/services/NAME[.ENDPOINT][/...][?...]`.
//!
//! Sources: axis2 `dispatchers/RequestURIBasedServiceDispatcher.java` (service name = the path
//! after `services/`, query dropped; hierarchical names tried segment by segment up to depth 10;
//! `AxisConfiguration.getService` also knows `Service.EndpointName`), Synapse passthru
//! `NhttpUtil.getRestUrlPostfix` (the postfix after the service name, query included) and
//! `PassThroughNHttpGetProcessor` (a GET whose query has a `wsdl`, `wsdl2` or `xsd` parameter asks
//! for the service description). A path under `/services/` that names no proxy falls through to
//! API dispatch, as in MI.

/// Axis2's `Constants.MAX_HIERARCHICAL_DEPTH`: how many `/`-segments a service name may span.
pub const MAX_HIERARCHICAL_DEPTH: usize = 10;

/// The service path prefix (axis2 `servicePath` = `services`).
const SERVICES_PREFIX: &str = "/services/";

/// The HTTP endpoint names axis2 generates for every proxy; `NAME.<these>` addresses the proxy.
const ENDPOINT_SUFFIXES: [&str; 6] = [
    "HttpSoap11Endpoint",
    "HttpSoap12Endpoint",
    "HttpEndpoint",
    "HttpsSoap11Endpoint",
    "HttpsSoap12Endpoint",
    "HttpsEndpoint",
];

/// A metadata request answered by the transport for a GET (`PassThroughNHttpGetProcessor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataRequest {
    Wsdl,
    Wsdl2,
    Xsd,
}

/// The syntactic split of a `/services/...` target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyPath<'a> {
    /// The text after `/services/` up to the query (may hold `/` and `.`; see [`ProxyTable`]).
    pub service_part: &'a str,
    /// The first segment of `service_part`: the proxy name for the usual, flat case.
    pub name: &'a str,
    /// `REST_URL_POSTFIX`: what follows the first segment, query included (`/a?b`, `?b` or empty).
    pub rest_url_postfix: &'a str,
    pub metadata: Option<MetadataRequest>,
}

/// Splits a request target under `/services/` (origin or absolute form).
pub fn match_proxy_path(path_and_query: &str) -> Option<ProxyPath<'_>> {
    let path = strip_absolute_prefix(path_and_query);
    // Repeated leading slashes (`//services/P`, a client joining `.../` and `/services/...`)
    // still reach the proxy in MI (MI test PayloadFactoryXMLJSONTestCase ArrayAsLiteral).
    let trimmed = path.trim_start_matches('/');
    let path = if trimmed.len() + 1 < path.len() {
        &path[path.len() - trimmed.len() - 1..]
    } else {
        path
    };
    let after = path.strip_prefix(SERVICES_PREFIX)?;
    let query_at = after.find('?');
    let service_part = &after[..query_at.unwrap_or(after.len())];
    let name_end = after.find(['/', '?']).unwrap_or(after.len());
    let name = &after[..name_end];
    if name.is_empty() {
        return None;
    }
    Some(ProxyPath {
        service_part,
        name,
        rest_url_postfix: &after[name_end..],
        metadata: query_at.and_then(|q| metadata_request(&after[q + 1..])),
    })
}

fn strip_absolute_prefix(target: &str) -> &str {
    for scheme in ["http://", "https://"] {
        if let Some(rest) = target.strip_prefix(scheme) {
            return rest.find('/').map_or("", |i| &rest[i..]);
        }
    }
    target
}

/// `PassThroughNHttpGetProcessor`: `&`-separated parameters (empty ones skipped), a key with or
/// without `=`; `wsdl` wins over `wsdl2`, which wins over `xsd`.
fn metadata_request(query: &str) -> Option<MetadataRequest> {
    let keys = || {
        query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split('=').next().unwrap_or(p))
    };
    if keys().any(|k| k == "wsdl") {
        Some(MetadataRequest::Wsdl)
    } else if keys().any(|k| k == "wsdl2") {
        Some(MetadataRequest::Wsdl2)
    } else if keys().any(|k| k == "xsd") {
        Some(MetadataRequest::Xsd)
    } else {
        None
    }
}

/// A proxy chosen for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyMatch<'a> {
    /// Index into the names given to [`ProxyTable::build`].
    pub proxy: usize,
    pub name: &'a str,
    /// The endpoint named after a `.` (`StockQuoteProxy.StockQuoteProxyHttpSoap11Endpoint`).
    pub endpoint: Option<&'a str>,
    pub rest_url_postfix: &'a str,
    pub metadata: Option<MetadataRequest>,
}

/// The deployed proxy names, for resolving `/services/...` targets.
#[derive(Debug, Clone, Default)]
pub struct ProxyTable {
    names: Vec<String>,
}

impl ProxyTable {
    /// A table of proxy names (the caller keeps names unique, as deployment does).
    pub fn build(names: Vec<String>) -> ProxyTable {
        ProxyTable { names }
    }

    fn lookup(&self, candidate: &str) -> Option<(usize, Option<usize>)> {
        if let Some(i) = self.names.iter().position(|n| n == candidate) {
            return Some((i, None));
        }
        // `Service.Endpoint`: the endpoint must be one axis2 creates for the service.
        let (service, endpoint) = candidate.rsplit_once('.')?;
        let i = self.names.iter().position(|n| n == service)?;
        let known = ENDPOINT_SUFFIXES
            .iter()
            .any(|s| endpoint.strip_prefix(service) == Some(*s));
        known.then_some((i, Some(service.len() + 1)))
    }

    /// Resolves a target to a deployed proxy, trying `a`, `a/b`, ... like axis2.
    pub fn dispatch<'a>(&'a self, path_and_query: &'a str) -> Option<ProxyMatch<'a>> {
        let path = match_proxy_path(path_and_query)?;
        let mut candidate_end = 0usize;
        for (depth, segment) in path.service_part.split('/').enumerate() {
            if depth >= MAX_HIERARCHICAL_DEPTH {
                break;
            }
            candidate_end += if depth == 0 {
                segment.len()
            } else {
                segment.len() + 1
            };
            let candidate = &path.service_part[..candidate_end];
            if let Some((proxy, endpoint_at)) = self.lookup(candidate) {
                let endpoint = endpoint_at.map(|at| &candidate[at..]);
                return Some(ProxyMatch {
                    proxy,
                    name: &self.names[proxy],
                    endpoint,
                    rest_url_postfix: path.rest_url_postfix,
                    metadata: path.metadata,
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_leading_slashes_still_name_the_proxy() {
        let p = match_proxy_path("//services/P/x?a=1").expect("matches");
        assert_eq!((p.name, p.rest_url_postfix), ("P", "/x?a=1"));
        assert!(match_proxy_path("/services/").is_none());
    }

    /// Postfix values follow Synapse `RestURLPostfixTest` / `NhttpUtil.getRestUrlPostfix`.
    #[test]
    fn proxy_path_split() {
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("/services/StockQuoteProxy", Some(("StockQuoteProxy", ""))),
            ("/services/StockQuoteProxy/", Some(("StockQuoteProxy", "/"))),
            (
                "/services/StockQuoteProxy/a/b?c=1",
                Some(("StockQuoteProxy", "/a/b?c=1")),
            ),
            (
                "/services/StockQuoteProxy?wsdl",
                Some(("StockQuoteProxy", "?wsdl")),
            ),
            ("/services/epdata?size=10", Some(("epdata", "?size=10"))),
            ("http://localhost:8280/services/P/x", Some(("P", "/x"))),
            ("/services/", None),
            ("/services", None),
            ("/servicesX/P", None),
            ("/epdata/services/?size=10", None),
        ];
        for (target, expected) in cases {
            let got = match_proxy_path(target).map(|p| (p.name, p.rest_url_postfix));
            assert_eq!(got, *expected, "{target:?}");
        }
    }

    #[test]
    fn metadata_requests() {
        let cases = [
            ("/services/P?wsdl", Some(MetadataRequest::Wsdl)),
            ("/services/P?a=1&wsdl", Some(MetadataRequest::Wsdl)),
            ("/services/P?wsdl2", Some(MetadataRequest::Wsdl2)),
            ("/services/P?xsd=x.xsd", Some(MetadataRequest::Xsd)),
            ("/services/P?WSDL", None),
            ("/services/P?x=wsdl", None),
            ("/services/P", None),
        ];
        for (target, expected) in cases {
            assert_eq!(
                match_proxy_path(target).and_then(|p| p.metadata),
                expected,
                "{target:?}"
            );
        }
    }

    #[test]
    fn table_resolves_endpoints_and_hierarchy() {
        let table = ProxyTable::build(vec!["StockQuoteProxy".into(), "a/b".into()]);
        let m = table.dispatch("/services/StockQuoteProxy.StockQuoteProxyHttpSoap11Endpoint/x");
        assert_eq!(
            m.as_ref()
                .map(|m| (m.proxy, m.endpoint, m.rest_url_postfix)),
            Some((0, Some("StockQuoteProxyHttpSoap11Endpoint"), "/x"))
        );
        assert!(table.dispatch("/services/StockQuoteProxy.Other").is_none());
        assert_eq!(
            table
                .dispatch("/services/StockQuoteProxy?wsdl")
                .map(|m| m.proxy),
            Some(0)
        );
        assert_eq!(table.dispatch("/services/a/b/c").map(|m| m.proxy), Some(1));
        assert!(table.dispatch("/services/Unknown").is_none());
    }

    #[test]
    fn hierarchical_depth_limit() {
        let deep_at_limit: Vec<String> = (0..MAX_HIERARCHICAL_DEPTH)
            .map(|i| format!("s{i}"))
            .collect();
        let deep_over: Vec<String> = (0..=MAX_HIERARCHICAL_DEPTH)
            .map(|i| format!("t{i}"))
            .collect();
        let table = ProxyTable::build(vec![deep_at_limit.join("/"), deep_over.join("/")]);
        assert_eq!(
            table
                .dispatch(&format!("/services/{}", deep_at_limit.join("/")))
                .map(|m| m.proxy),
            Some(0)
        );
        assert!(
            table
                .dispatch(&format!("/services/{}/x", deep_over.join("/")))
                .is_none()
        );
    }
}
