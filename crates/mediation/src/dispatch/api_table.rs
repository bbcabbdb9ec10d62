//! The REST API dispatch table: which API and resource a request goes to, and MI's answers when
//! none fits. Built once per deployment snapshot, with its APIs indexed by context length;
//! `dispatch` compiles no regex, asks only the APIs whose context can fit the path, and
//! allocates only what cannot borrow the request (template variables, query parameters, a
//! postfix that needs a `/` in front).
//!
//! Sources: SYN:`api/ApiUtils.java` (`getSelectedAPI`, `matchApiPath`, `getAcceptableResources`,
//! the dispatcher order), SYN:`api/API.java` (`canProcess`, `process`: sub-path,
//! `REST_URL_POSTFIX`, the 404/405/400 answers), SYN:`api/Resource.java` (`canProcess`,
//! `hasMatchingMethod`, `sendOptions`), SYN:`api/version/*`, SYN:`config/SynapseConfiguration.java`
//! (`addAPI` duplicate check, `reconstructAPITable` ordering), SYN:`api/dispatch/*Dispatcher.java`.

use super::java_compat::{MalformedEscape, split_query_params};
use super::uri_template::UriTemplate;
use super::url_mapping::UrlMapping;
use http::Method;
use std::borrow::Cow;
use thiserror::Error;

/// How an API's `version` appears in requests (`version-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionType {
    /// `/context/VERSION/...`: the first segment after the context.
    Url,
    /// `{version}` in the context is replaced by the version.
    Context,
}

/// The listener a request arrived on; also the `protocol` restriction of an API or resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Https,
}

/// How a resource recognises its paths.
#[derive(Debug, Clone)]
pub enum ResourceMatcher {
    UriTemplate(UriTemplate),
    UrlMapping(UrlMapping),
    /// Neither `uri-template` nor `url-mapping`: the catch-all resource.
    Default,
}

/// One `<resource>` as dispatch needs it.
#[derive(Debug, Clone)]
pub struct ResourceRoute {
    /// `methods`; empty means any method.
    pub methods: Vec<Method>,
    pub matcher: ResourceMatcher,
    /// `content-type`: compared for equality with the request's `Content-Type` when it has a body.
    pub content_type: Option<String>,
    /// `user-agent`: a regular expression that must match the whole `User-Agent` header.
    pub user_agent: Option<String>,
    pub protocol: Option<Protocol>,
}

/// One `<api>` as dispatch needs it.
#[derive(Debug, Clone)]
pub struct ApiRoute {
    pub name: String,
    pub context: String,
    pub version: Option<String>,
    pub version_type: Option<VersionType>,
    pub hostname: Option<String>,
    pub port: Option<u16>,
    /// API-level `protocol` (`http`/`https`).
    pub protocol: Option<Protocol>,
    pub resources: Vec<ResourceRoute>,
}

/// Why a table could not be built. Each message names the API.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DispatchBuildError {
    #[error("API {api:?}: context {context:?} must begin with '/'")]
    BadContext { api: String, context: String },
    #[error(
        "API {api:?}: attribute 'version-type' is required when 'version' ({version:?}) is set"
    )]
    VersionTypeMissing { api: String, version: String },
    #[error(
        "API {api:?}: URL context {context:?} (version {version:?}) is already registered with the API {existing:?}"
    )]
    DuplicateContext {
        api: String,
        existing: String,
        context: String,
        version: String,
    },
    #[error("API {api:?} is defined twice")]
    DuplicateName { api: String },
    #[error("API {api:?} has been configured without any resource definitions")]
    NoResources { api: String },
    #[error(
        "API {api:?}, resource #{resource}: method {method} is not supported (valid: GET POST PUT DELETE OPTIONS HEAD PATCH)"
    )]
    UnsupportedMethod {
        api: String,
        resource: usize,
        method: String,
    },
    #[error(
        "API {api:?}, resource #{resource}: user-agent pattern {pattern:?} is not a valid regular expression: {reason}"
    )]
    BadUserAgentPattern {
        api: String,
        resource: usize,
        pattern: String,
        reason: String,
    },
}

/// The parts of a request dispatch looks at. Header values are their bytes as received: most
/// requests are dispatched without reading them, and one that is read is taken as text only when
/// it is visible ASCII ([`header_text`]).
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a, 'p> {
    pub method: &'a Method,
    /// The request target as received: origin form (`/a/b?c`) or absolute form (`http://h/a?c`).
    /// What a match returns borrows from it (`'p`), not from the rest of the head (`'a`).
    pub path_and_query: &'p str,
    /// The `Host` header.
    pub host: Option<&'a [u8]>,
    pub scheme: Protocol,
    pub content_type: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
    /// The `Max-Forwards` header (only read for `OPTIONS`).
    pub max_forwards: Option<&'a [u8]>,
    /// Whether the request carries an entity body (MI: `NO_ENTITY_BODY` is not set).
    pub has_body: bool,
}

/// A header value as text, as `http::HeaderValue::to_str` reads it: only when every byte is
/// visible ASCII or a tab; a value with other bytes counts as absent, on both request paths.
pub fn header_text(value: Option<&[u8]>) -> Option<&str> {
    value
        .filter(|v| v.iter().all(|&b| b == b'\t' || (32..127).contains(&b)))
        .and_then(|v| std::str::from_utf8(v).ok())
}

/// A request handed to a resource. The paths borrow the request's target: a forward that reads
/// no property copies none of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiMatch<'p> {
    /// Index into the routes given to [`ApiTable::build`].
    pub api: usize,
    /// Index into that API's `resources`.
    pub resource: usize,
    /// `uri.var.*` values (without the prefix), in binding order.
    pub uri_vars: Vec<(String, String)>,
    /// `query.param.*` values (without the prefix), MI's split.
    pub query_params: Vec<(String, String)>,
    /// `REST_SUB_REQUEST_PATH`: path after context (and version), with the query; `/` if empty.
    pub sub_path: &'p str,
    /// Axis2 `REST_URL_POSTFIX` as `API.process` sets it (borrowed unless it needs a `/` in
    /// front).
    pub rest_url_postfix: Cow<'p, str>,
    /// `REST_FULL_REQUEST_PATH`: path and query.
    pub full_path: &'p str,
}

/// The outcome of API dispatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiDispatch<'p> {
    /// Mediate through this resource.
    Matched(ApiMatch<'p>),
    /// An API claimed the request but no resource takes it. MI answers `status` with an empty body
    /// and no transport headers (404: no path match, or acceptable resources that all miss the
    /// path; 405: the path matches a resource whose methods exclude this one; 400: path and
    /// method match but content type / user agent do not), unless a `_resource_mismatch_handler_`
    /// (404) or `_method_not_allowed_handler_` (405) sequence is deployed. `allow` lists the
    /// methods of the path-matched resource for a 405 (MI itself sends no `Allow` header).
    NoResource {
        api: usize,
        status: u16,
        allow: Vec<Method>,
    },
    /// `OPTIONS` to a resource that does not list `OPTIONS` (or does, with `Max-Forwards: 0`):
    /// MI answers directly with `Allow: <allow>` plus CORS headers (`Resource.sendOptions`).
    Options {
        api: usize,
        resource: usize,
        allow: String,
    },
    /// A `%` escape in a template capture or query value that Java's `URLDecoder` rejects: MI
    /// raises an error (for query values it sets `HTTP_SC` 400) and the fault sequence runs.
    BadRequest {
        api: usize,
        resource: Option<usize>,
        message: String,
    },
    /// No API claims the request: the `main` sequence runs (MI's answers 404, empty body).
    NoApi,
}

const SUPPORTED_METHODS: [Method; 7] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::OPTIONS,
    Method::HEAD,
    Method::PATCH,
];

/// `RESTConstants.REST_ALL_SUPPORTED_METHODS`: the `Allow` value for a resource without `methods`.
pub const ALLOW_ALL_METHODS: &str = "GET, POST, PUT, DELETE";

#[derive(Debug)]
struct CompiledResource {
    methods: Vec<Method>,
    matcher: ResourceMatcher,
    content_type: Option<String>,
    user_agent: Option<regex::Regex>,
    protocol: Option<Protocol>,
    /// `Resource.getSupportedMethods`, precomputed.
    allow: String,
}

#[derive(Debug)]
struct CompiledApi {
    /// Index in the caller's list.
    index: usize,
    /// Resolved context: trailing slashes trimmed, `{version}` replaced (`/` becomes empty).
    context: String,
    version: String,
    version_type: Option<VersionType>,
    hostname: Option<String>,
    port: Option<u16>,
    protocol: Option<Protocol>,
    resources: Vec<CompiledResource>,
    /// Resources whose only method is OPTIONS first, then the others, each in definition order.
    acceptable_order: Vec<usize>,
}

/// The immutable dispatch table of one deployment.
#[derive(Debug, Default)]
pub struct ApiTable {
    /// In MI's table order: longest context first; equal lengths in deployment order.
    apis: Vec<CompiledApi>,
    /// Positions in `apis`, in the order `getSelectedAPI` tries them: versioned APIs first.
    try_order: Vec<usize>,
    /// Positions in `try_order` by the byte length of the API's context. An API can take a
    /// path only if its context is a prefix ending where a path segment or the query starts
    /// (`matches_context`), so its length is one of the path's boundaries: dispatch looks at
    /// those lengths only, not at every API.
    /// (Contexts are stored without trailing slashes, so `/` is the empty context, at length 0.)
    by_context_len: Vec<Vec<usize>>,
}

fn trim_trailing_slashes(s: &str) -> &str {
    s.trim_end_matches('/')
}

impl ApiTable {
    /// Validates and orders the APIs as MI deploys them.
    pub fn build(routes: Vec<ApiRoute>) -> Result<ApiTable, DispatchBuildError> {
        let mut apis: Vec<(CompiledApi, String)> = Vec::with_capacity(routes.len());
        for (index, route) in routes.into_iter().enumerate() {
            let compiled = compile_api(index, &route)?;
            let qualified = if compiled.version.is_empty() {
                route.name.clone()
            } else {
                format!("{}:v{}", route.name, compiled.version)
            };
            for (existing, existing_name) in &apis {
                if *existing_name == qualified {
                    return Err(DispatchBuildError::DuplicateName { api: qualified });
                }
                if existing.version == compiled.version && existing.context == compiled.context {
                    return Err(DispatchBuildError::DuplicateContext {
                        api: qualified,
                        existing: existing_name.clone(),
                        context: compiled.context.clone(),
                        version: compiled.version.clone(),
                    });
                }
            }
            apis.push((compiled, qualified));
        }
        // Stable sort by context length (Java chars), longest first.
        apis.sort_by_key(|(api, _)| std::cmp::Reverse(api.context.encode_utf16().count()));
        let apis: Vec<CompiledApi> = apis.into_iter().map(|(api, _)| api).collect();
        let versioned = (0..apis.len()).filter(|&i| apis[i].version_type.is_some());
        let unversioned = (0..apis.len()).filter(|&i| apis[i].version_type.is_none());
        let try_order: Vec<usize> = versioned.chain(unversioned).collect();
        let mut by_context_len: Vec<Vec<usize>> = Vec::new();
        for (position, &i) in try_order.iter().enumerate() {
            let context = &apis[i].context;
            if by_context_len.len() <= context.len() {
                by_context_len.resize_with(context.len() + 1, Vec::new);
            }
            by_context_len[context.len()].push(position);
        }
        Ok(ApiTable {
            apis,
            try_order,
            by_context_len,
        })
    }

    /// Number of APIs in the table.
    pub fn len(&self) -> usize {
        self.apis.len()
    }

    /// Whether the table holds no API.
    pub fn is_empty(&self) -> bool {
        self.apis.is_empty()
    }

    /// The resolved context of the API at caller index `api` (after trimming and `{version}`).
    pub fn context_of(&self, api: usize) -> Option<&str> {
        self.apis
            .iter()
            .find(|a| a.index == api)
            .map(|a| a.context.as_str())
    }

    /// Finds the API and resource for a request, or MI's answer when there is none.
    pub fn dispatch<'p>(&self, req: &RequestHead<'_, 'p>) -> ApiDispatch<'p> {
        let full_path = full_request_path(req.path_and_query);
        let Some(position) = self.selected(full_path, req) else {
            return ApiDispatch::NoApi;
        };
        self.apis[self.try_order[position]].process(full_path, req)
    }

    /// `ApiUtils.getSelectedAPI`: the position in `try_order` of the first API that can process
    /// the request. `can_process` reads only the request, so the first that can is the one with
    /// the lowest position among all that can, whichever order they are asked in.
    fn selected(&self, path: &str, req: &RequestHead<'_, '_>) -> Option<usize> {
        let mut first: Option<usize> = None;
        let mut ask = |positions: &[usize]| {
            for &position in positions {
                if first.is_none_or(|f| position < f)
                    && self.apis[self.try_order[position]].can_process(path, req)
                {
                    first = Some(position);
                }
            }
        };
        let bytes = path.as_bytes();
        for (len, positions) in self.by_context_len.iter().enumerate() {
            if len > bytes.len() {
                break;
            }
            let boundary = len == bytes.len() || matches!(bytes[len], b'/' | b'?');
            if boundary && !positions.is_empty() {
                ask(positions);
            }
        }
        first
    }
}

/// `ApiUtils.getFullRequestPath`: an absolute-form target is reduced to its path and query.
fn full_request_path(target: &str) -> &str {
    for scheme in ["http://", "https://"] {
        if let Some(rest) = target.strip_prefix(scheme) {
            return rest.find('/').map_or("", |i| &rest[i..]);
        }
    }
    target
}

fn compile_api(index: usize, route: &ApiRoute) -> Result<CompiledApi, DispatchBuildError> {
    if !route.context.starts_with('/') {
        return Err(DispatchBuildError::BadContext {
            api: route.name.clone(),
            context: route.context.clone(),
        });
    }
    let version = route.version.clone().unwrap_or_default();
    if !version.is_empty() && route.version_type.is_none() {
        return Err(DispatchBuildError::VersionTypeMissing {
            api: route.name.clone(),
            version,
        });
    }
    let mut context = trim_trailing_slashes(&route.context).to_owned();
    if route.version_type == Some(VersionType::Context) {
        context = trim_trailing_slashes(&context.replace("{version}", &version)).to_owned();
    }
    if route.resources.is_empty() {
        return Err(DispatchBuildError::NoResources {
            api: route.name.clone(),
        });
    }
    let mut resources = Vec::with_capacity(route.resources.len());
    for (resource_index, resource) in route.resources.iter().enumerate() {
        resources.push(compile_resource(&route.name, resource_index, resource)?);
    }
    let options_only =
        |r: &CompiledResource| r.methods.len() == 1 && r.methods[0] == Method::OPTIONS;
    let acceptable_order = (0..resources.len())
        .filter(|&i| options_only(&resources[i]))
        .chain((0..resources.len()).filter(|&i| !options_only(&resources[i])))
        .collect();
    Ok(CompiledApi {
        index,
        context,
        version,
        version_type: route.version_type,
        hostname: route.hostname.clone(),
        port: route.port,
        protocol: route.protocol,
        resources,
        acceptable_order,
    })
}

fn compile_resource(
    api: &str,
    index: usize,
    route: &ResourceRoute,
) -> Result<CompiledResource, DispatchBuildError> {
    let mut methods: Vec<Method> = Vec::with_capacity(route.methods.len());
    for method in &route.methods {
        if !SUPPORTED_METHODS.contains(method) {
            return Err(DispatchBuildError::UnsupportedMethod {
                api: api.to_owned(),
                resource: index,
                method: method.to_string(),
            });
        }
        if !methods.contains(method) {
            methods.push(method.clone());
        }
    }
    let user_agent = match &route.user_agent {
        None => None,
        // Java's String.matches: the whole header must match.
        Some(pattern) => Some(regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
            DispatchBuildError::BadUserAgentPattern {
                api: api.to_owned(),
                resource: index,
                pattern: pattern.clone(),
                reason: e.to_string(),
            }
        })?),
    };
    let allow = if methods.is_empty() {
        ALLOW_ALL_METHODS.to_owned()
    } else {
        methods
            .iter()
            .filter(|m| **m != Method::OPTIONS)
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    Ok(CompiledResource {
        methods,
        matcher: route.matcher.clone(),
        content_type: route.content_type.clone(),
        user_agent,
        protocol: route.protocol,
        allow,
    })
}

/// `prefix` off the text `/` + `text` (`slash`) or `text`, as the same pair.
fn strip_slashed<'t>((slash, text): (bool, &'t str), prefix: &str) -> Option<(bool, &'t str)> {
    if !slash || prefix.is_empty() {
        return text.strip_prefix(prefix).map(|rest| (slash, rest));
    }
    let tail = prefix.strip_prefix('/')?;
    text.strip_prefix(tail).map(|rest| (false, rest))
}

/// `ApiUtils.matchApiPath`.
fn matches_context(path: &str, context: &str) -> bool {
    if context == "/" {
        return true;
    }
    match path.strip_prefix(context) {
        Some("") => true,
        Some(rest) => rest.starts_with('/') || rest.starts_with('?'),
        None => false,
    }
}

/// `URLBasedVersionStrategy.isMatchingVersion`: the segment after the context, up to `/` or `?`.
fn url_version_matches(path: &str, context: &str, version: &str) -> bool {
    let Some(after) = path.get(context.len()..) else {
        return false;
    };
    let Some(rest) = after.strip_prefix('/') else {
        return false;
    };
    let slash = rest.find('/');
    let query = rest.find('?');
    let incoming = match (slash, query) {
        (Some(s), None) => &rest[..s],
        (Some(s), Some(q)) if s < q => &rest[..s],
        (_, Some(q)) => &rest[..q],
        (None, None) => rest,
    };
    incoming == version
}

impl CompiledApi {
    /// `API.canProcess` for a request.
    fn can_process(&self, path: &str, req: &RequestHead<'_, '_>) -> bool {
        if !matches_context(path, &self.context) {
            return false;
        }
        match self.version_type {
            Some(VersionType::Url) if !url_version_matches(path, &self.context, &self.version) => {
                return false;
            }
            Some(VersionType::Context) if !path.starts_with(&self.context) => return false,
            _ => {}
        }
        if self.hostname.is_some() || self.port.is_some() {
            let Some(host_header) = header_text(req.host) else {
                return false;
            };
            // MI splits at the first ':' (so a bracketed IPv6 host never equals a hostname).
            let (host, port_text) = match host_header.find(':') {
                Some(i) => (&host_header[..i], Some(&host_header[i + 1..])),
                None => (host_header, None),
            };
            if self.hostname.as_deref().is_some_and(|want| want != host) {
                return false;
            }
            if let Some(want) = self.port {
                let port = match port_text {
                    // Java's Integer.parseInt would throw on a bad port; treat it as no match.
                    Some(text) => text.parse::<i64>().ok(),
                    None => Some(if req.scheme == Protocol::Http {
                        80
                    } else {
                        443
                    }),
                };
                if port != Some(i64::from(want)) {
                    return false;
                }
            }
        }
        self.protocol.is_none_or(|p| p == req.scheme)
    }

    fn sub_path<'p>(&self, path: &'p str) -> &'p str {
        let skip = match self.version_type {
            Some(VersionType::Url) => self.context.len() + self.version.len() + 1,
            _ => self.context.len(),
        };
        match path.get(skip..) {
            Some("") | None => "/",
            Some(rest) => rest,
        }
    }

    /// `API.process`: `REST_URL_POSTFIX` from the full path.
    fn rest_url_postfix<'p>(&self, path: &'p str) -> Cow<'p, str> {
        // Worked on borrowed text, copied only to put a `/` in front: the postfix is `slash` (a
        // `/` in front) then `text`; `path` gets a leading `/` when it has none, then loses the
        // context and then the version.
        let mut postfix = (!path.starts_with('/'), path);
        if let Some(rest) = strip_slashed(postfix, &self.context) {
            postfix = rest;
        }
        if self.version_type == Some(VersionType::Url) {
            let version = self.version.as_str();
            if let Some(rest) = strip_slashed(postfix, version) {
                postfix = rest;
            } else if let Some(rest) =
                strip_slashed(postfix, "/").and_then(|rest| strip_slashed(rest, version))
            {
                postfix = rest;
            }
        }
        match postfix {
            (false, text) => Cow::Borrowed(text),
            (true, text) => {
                let mut out = String::with_capacity(text.len() + 1);
                out.push('/');
                out.push_str(text);
                Cow::Owned(out)
            }
        }
    }

    fn process<'p>(&self, full_path: &'p str, req: &RequestHead<'_, '_>) -> ApiDispatch<'p> {
        let api = self.index;
        let sub_path = self.sub_path(full_path);
        // The acceptable resources are filtered lazily (no list per request): `can_process`
        // reads only the request head, so asking it again on a later dispatcher pass gives the
        // same answer.
        let acceptable = |i: &usize| self.resources[*i].can_process(req);
        let any_acceptable = self.acceptable_order.iter().any(acceptable);
        // No acceptable resource: look at all of them to choose 404, 405 or 400.
        let found = if any_acceptable {
            self.find_resource(
                self.acceptable_order.iter().copied().filter(acceptable),
                sub_path,
            )
        } else {
            self.find_resource(0..self.resources.len(), sub_path)
        };
        match found {
            Err(e) => ApiDispatch::BadRequest {
                api,
                resource: None,
                message: self.escape_message(req, full_path, &e),
            },
            Ok(None) => ApiDispatch::NoResource {
                api,
                status: 404,
                allow: Vec::new(),
            },
            Ok(Some((resource, uri_vars))) if any_acceptable => {
                self.matched(resource, uri_vars, sub_path, full_path, req)
            }
            Ok(Some((resource, _))) => {
                let found = &self.resources[resource];
                if found.has_matching_method(req.method) {
                    ApiDispatch::NoResource {
                        api,
                        status: 400,
                        allow: Vec::new(),
                    }
                } else {
                    ApiDispatch::NoResource {
                        api,
                        status: 405,
                        allow: found.methods.clone(),
                    }
                }
            }
        }
    }

    fn escape_message(&self, req: &RequestHead<'_, '_>, path: &str, e: &MalformedEscape) -> String {
        format!(
            "Error processing {} request for : {path} due to an error in the request sent by the client ({e})",
            req.method
        )
    }

    fn matched<'p>(
        &self,
        resource: usize,
        uri_vars: Vec<(String, String)>,
        sub_path: &'p str,
        full_path: &'p str,
        req: &RequestHead<'_, '_>,
    ) -> ApiDispatch<'p> {
        let api = self.index;
        let compiled = &self.resources[resource];
        if *req.method == Method::OPTIONS {
            let mediates = compiled.methods.contains(&Method::OPTIONS)
                && header_text(req.max_forwards).and_then(|v| v.trim().parse::<i64>().ok())
                    != Some(0);
            if !mediates {
                return ApiDispatch::Options {
                    api,
                    resource,
                    allow: compiled.allow.clone(),
                };
            }
        }
        match split_query_params(full_path) {
            Ok(query_params) => ApiDispatch::Matched(ApiMatch {
                api,
                resource,
                uri_vars,
                query_params,
                sub_path,
                rest_url_postfix: self.rest_url_postfix(full_path),
                full_path,
            }),
            Err(e) => ApiDispatch::BadRequest {
                api,
                resource: Some(resource),
                message: self.escape_message(req, full_path, &e),
            },
        }
    }

    /// The three dispatchers of `ApiUtils`, in order, over `candidates` (in their order).
    #[allow(clippy::type_complexity)]
    fn find_resource(
        &self,
        candidates: impl Iterator<Item = usize> + Clone,
        sub_path: &str,
    ) -> Result<Option<(usize, Vec<(String, String)>)>, MalformedEscape> {
        // URLMappingBasedDispatcher: exact, then the longest path mapping, then extension.
        let mappings = || {
            candidates
                .clone()
                .filter_map(|i| match &self.resources[i].matcher {
                    ResourceMatcher::UrlMapping(m) => Some((i, m)),
                    _ => None,
                })
        };
        if let Some((i, _)) = mappings().find(|(_, m)| m.is_exact_match(sub_path)) {
            return Ok(Some((i, Vec::new())));
        }
        let mut best: Option<(usize, usize)> = None;
        for (i, m) in mappings() {
            let len = m.prefix_match_len(sub_path);
            if len > best.map_or(0, |(_, l)| l) {
                best = Some((i, len));
            }
        }
        if let Some((i, _)) = best {
            return Ok(Some((i, Vec::new())));
        }
        if let Some((i, _)) = mappings().find(|(_, m)| m.is_extension_match(sub_path)) {
            return Ok(Some((i, Vec::new())));
        }
        // URITemplateBasedDispatcher: the first template that matches.
        for i in candidates.clone() {
            if let ResourceMatcher::UriTemplate(t) = &self.resources[i].matcher
                && let Some(vars) = t.try_match_path(sub_path)?
            {
                return Ok(Some((i, vars)));
            }
        }
        // DefaultDispatcher: the first resource with neither.
        Ok(candidates
            .clone()
            .find(|&i| matches!(self.resources[i].matcher, ResourceMatcher::Default))
            .map(|i| (i, Vec::new())))
    }
}

impl CompiledResource {
    /// `Resource.canProcess`.
    fn can_process(&self, req: &RequestHead<'_, '_>) -> bool {
        if self.protocol.is_some_and(|p| p != req.scheme) {
            return false;
        }
        if *req.method == Method::OPTIONS {
            return true;
        }
        if !self.methods.is_empty() && !self.methods.contains(req.method) {
            return false;
        }
        if let Some(want) = &self.content_type
            && req.has_body
            && header_text(req.content_type) != Some(want.as_str())
        {
            return false;
        }
        if let Some(pattern) = &self.user_agent
            && !header_text(req.user_agent).is_some_and(|agent| pattern.is_match(agent))
        {
            return false;
        }
        true
    }

    /// `Resource.hasMatchingMethod`.
    fn has_matching_method(&self, method: &Method) -> bool {
        *method == Method::OPTIONS || self.methods.is_empty() || self.methods.contains(method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(s: &str) -> ResourceMatcher {
        ResourceMatcher::UriTemplate(UriTemplate::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
    }

    fn mapping(s: &str) -> ResourceMatcher {
        ResourceMatcher::UrlMapping(UrlMapping::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
    }

    /// `URLMappingBasedDispatcher`: exact before longest prefix before extension, and all
    /// url-mappings before any uri-template (`ApiUtils` dispatcher order), whatever the
    /// definition order.
    #[test]
    fn dispatcher_order() {
        let t = table(vec![api(
            "A",
            "/t",
            vec![
                resource(&[], ResourceMatcher::Default),
                resource(&[], template("/a/{x}")),
                resource(&[], mapping("*.json")),
                resource(&[], mapping("/a/*")),
                resource(&[], mapping("/a/b/*")),
                resource(&[], mapping("/a/b")),
            ],
        )]);
        let cases = [
            ("/t/a/b", 5),
            ("/t/a/b/c.json", 4),
            ("/t/a/c", 3),
            ("/t/z/c.json", 2),
            ("/t/z", 0),
        ];
        for (path, expected) in cases {
            match t.dispatch(&head(&Method::GET, path)) {
                ApiDispatch::Matched(m) => assert_eq!(m.resource, expected, "{path}"),
                other => panic!("{path}: {other:?}"),
            }
        }
    }

    fn resource(methods: &[Method], matcher: ResourceMatcher) -> ResourceRoute {
        ResourceRoute {
            methods: methods.to_vec(),
            matcher,
            content_type: None,
            user_agent: None,
            protocol: None,
        }
    }

    fn api(name: &str, context: &str, resources: Vec<ResourceRoute>) -> ApiRoute {
        ApiRoute {
            name: name.into(),
            context: context.into(),
            version: None,
            version_type: None,
            hostname: None,
            port: None,
            protocol: None,
            resources,
        }
    }

    fn head<'a>(method: &'a Method, path: &'a str) -> RequestHead<'a, 'a> {
        RequestHead {
            method,
            path_and_query: path,
            host: Some("localhost:8290".as_bytes()),
            scheme: Protocol::Http,
            content_type: None,
            user_agent: None,
            max_forwards: None,
            has_body: false,
        }
    }

    fn table(routes: Vec<ApiRoute>) -> ApiTable {
        ApiTable::build(routes).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The index by context length picks the API `getSelectedAPI`'s walk in `try_order` picks,
    /// for contexts that nest, share prefixes, are versioned either way or bound to a host, and
    /// paths that end at, inside or past them, with queries and absolute forms.
    #[test]
    fn selected_by_context_length_is_the_first_in_try_order() {
        let contexts = [
            "/",
            "/a",
            "/ab",
            "/a/b",
            "/a/b/c",
            "/b",
            "/a?x",
            "/a/{version}",
        ];
        let versions = [
            (None, None),
            (Some("1.0"), Some(VersionType::Url)),
            (Some("1.0"), Some(VersionType::Context)),
        ];
        let mut routes = Vec::new();
        for (i, context) in contexts.iter().enumerate() {
            for (j, (version, version_type)) in versions.iter().enumerate() {
                if context.contains("{version}") && version_type.is_none() {
                    continue;
                }
                let mut route = api(
                    &format!("A{i}-{j}"),
                    context,
                    vec![resource(&[], ResourceMatcher::Default)],
                );
                route.version = version.map(str::to_owned);
                route.version_type = *version_type;
                // Bound to another host: can_process refuses it after its context matched.
                route.hostname = (i % 3 == 1 && j == 0).then(|| "elsewhere".to_owned());
                routes.push(route);
            }
        }
        routes.retain(|r| compile_api(0, r).is_ok());
        let mut seen = std::collections::HashSet::new();
        routes.retain(|r| {
            let c = compile_api(0, r).unwrap_or_else(|e| panic!("{e}"));
            seen.insert((c.context, c.version))
        });
        let t = table(routes);
        let paths = [
            "",
            "/",
            "?",
            "/?q",
            "/a",
            "/a/",
            "/a?",
            "/a?x",
            "/a?x/y",
            "/ab",
            "/abc",
            "/a/b",
            "/a/bc",
            "/a/b/c",
            "/a/b/c/d?e",
            "/a/1.0",
            "/a/1.0/b",
            "/a/b/1.0",
            "/b/1.0?x",
            "/b",
            "/c",
            "a",
            "*",
            "//a",
            "/a//b",
            "/1.0",
        ];
        let mut chosen = std::collections::HashSet::new();
        for path in paths {
            let req = head(&Method::GET, path);
            let walked = t
                .try_order
                .iter()
                .position(|&i| t.apis[i].can_process(path, &req));
            assert_eq!(t.selected(path, &req), walked, "{path:?}");
            chosen.insert(walked);
        }
        // The paths reach many different APIs, and some reach none.
        assert!(chosen.len() > 8 && chosen.contains(&None), "{chosen:?}");
    }

    /// Header values are read as `HeaderValue::to_str` reads them on the general path, so both
    /// request paths dispatch alike: a value with a byte outside visible ASCII and tab is absent
    /// (a resource bound to a content type or user agent does not take it).
    #[test]
    fn header_values_are_text_only_when_visible_ascii() {
        assert_eq!(header_text(Some(b"a\tb ~".as_slice())), Some("a\tb ~"));
        assert_eq!(header_text(Some("café".as_bytes())), None);
        assert_eq!(header_text(Some(b"a\x7fb".as_slice())), None);
        assert_eq!(header_text(None), None);
        let mut r = resource(&[Method::POST], template("/a"));
        r.content_type = Some("text/plain; charset=café".into());
        let t = table(vec![api("A", "/t", vec![r])]);
        let mut req = head(&Method::POST, "/t/a");
        req.has_body = true;
        req.content_type = Some("text/plain; charset=café".as_bytes());
        assert!(matches!(
            t.dispatch(&req),
            ApiDispatch::NoResource { status: 400, .. }
        ));
    }

    /// MI test `ESBJAVA4176MethodNotAllowedTest`: GET on a POST-only resource is 405.
    #[test]
    fn method_not_allowed_is_405() {
        let t = table(vec![api(
            "A",
            "/test",
            vec![resource(&[Method::POST], template("/post"))],
        )]);
        let got = t.dispatch(&head(&Method::GET, "/test/post"));
        assert_eq!(
            got,
            ApiDispatch::NoResource {
                api: 0,
                status: 405,
                allow: vec![Method::POST]
            }
        );
        let got = t.dispatch(&head(&Method::GET, "/test/other"));
        assert_eq!(
            got,
            ApiDispatch::NoResource {
                api: 0,
                status: 404,
                allow: vec![]
            }
        );
    }

    /// `API.process`: with an acceptable resource present, a path miss is 404 even if another
    /// resource with another method matches the path.
    #[test]
    fn acceptable_resource_present_gives_404_not_405() {
        let t = table(vec![api(
            "A",
            "/t",
            vec![
                resource(&[Method::POST], template("/x")),
                resource(&[Method::GET], template("/y")),
            ],
        )]);
        assert_eq!(
            t.dispatch(&head(&Method::GET, "/t/x")),
            ApiDispatch::NoResource {
                api: 0,
                status: 404,
                allow: vec![]
            }
        );
    }

    /// `Resource.canProcess` content-type check and the fall-back 400 of `API.process`.
    #[test]
    fn content_type_mismatch_is_400() {
        let mut r = resource(&[Method::POST], template("/x"));
        r.content_type = Some("application/json".into());
        let t = table(vec![api("A", "/t", vec![r])]);
        let mut req = head(&Method::POST, "/t/x");
        req.has_body = true;
        req.content_type = Some("text/xml".as_bytes());
        assert_eq!(
            t.dispatch(&req),
            ApiDispatch::NoResource {
                api: 0,
                status: 400,
                allow: vec![]
            }
        );
        req.content_type = Some("application/json".as_bytes());
        assert!(matches!(t.dispatch(&req), ApiDispatch::Matched(_)));
        // Without a body the content type is not checked.
        req.has_body = false;
        req.content_type = None;
        assert!(matches!(t.dispatch(&req), ApiDispatch::Matched(_)));
    }

    #[test]
    fn user_agent_is_a_whole_match_regex() {
        let mut r = resource(&[], ResourceMatcher::Default);
        r.user_agent = Some("curl/.*".into());
        let t = table(vec![api("A", "/t", vec![r])]);
        let mut req = head(&Method::GET, "/t");
        req.user_agent = Some("curl/8.0".as_bytes());
        assert!(matches!(t.dispatch(&req), ApiDispatch::Matched(_)));
        req.user_agent = Some("xcurl/8.0".as_bytes());
        assert_eq!(
            t.dispatch(&req),
            ApiDispatch::NoResource {
                api: 0,
                status: 400,
                allow: vec![]
            }
        );
        req.user_agent = None;
        assert_eq!(
            t.dispatch(&req),
            ApiDispatch::NoResource {
                api: 0,
                status: 400,
                allow: vec![]
            }
        );
    }

    /// `Resource.sendOptions` / `getSupportedMethods`.
    #[test]
    fn options_answers() {
        let t = table(vec![api(
            "A",
            "/t",
            vec![
                resource(&[Method::GET, Method::POST], template("/a")),
                resource(&[], template("/b")),
                resource(&[Method::OPTIONS, Method::GET], template("/c")),
            ],
        )]);
        assert_eq!(
            t.dispatch(&head(&Method::OPTIONS, "/t/a")),
            ApiDispatch::Options {
                api: 0,
                resource: 0,
                allow: "GET, POST".into()
            }
        );
        assert_eq!(
            t.dispatch(&head(&Method::OPTIONS, "/t/b")),
            ApiDispatch::Options {
                api: 0,
                resource: 1,
                allow: ALLOW_ALL_METHODS.into()
            }
        );
        assert!(
            matches!(t.dispatch(&head(&Method::OPTIONS, "/t/c")), ApiDispatch::Matched(m) if m.resource == 2)
        );
        let mut req = head(&Method::OPTIONS, "/t/c");
        req.max_forwards = Some("0".as_bytes());
        assert_eq!(
            t.dispatch(&req),
            ApiDispatch::Options {
                api: 0,
                resource: 2,
                allow: "GET".into()
            }
        );
    }

    /// `ApiUtils.getAcceptableResources`: resources with only OPTIONS come first.
    #[test]
    fn options_only_resources_are_tried_first() {
        let t = table(vec![api(
            "A",
            "/t",
            vec![
                resource(&[], ResourceMatcher::Default),
                resource(&[Method::OPTIONS], ResourceMatcher::Default),
            ],
        )]);
        assert!(
            matches!(t.dispatch(&head(&Method::OPTIONS, "/t/x")), ApiDispatch::Matched(m) if m.resource == 1)
        );
        assert!(
            matches!(t.dispatch(&head(&Method::GET, "/t/x")), ApiDispatch::Matched(m) if m.resource == 0)
        );
    }

    #[test]
    fn build_errors() {
        let bad_context = ApiTable::build(vec![api(
            "A",
            "t",
            vec![resource(&[], ResourceMatcher::Default)],
        )]);
        assert!(matches!(
            bad_context,
            Err(DispatchBuildError::BadContext { .. })
        ));
        let dup = ApiTable::build(vec![
            api("A", "/t", vec![resource(&[], ResourceMatcher::Default)]),
            api("B", "/t/", vec![resource(&[], ResourceMatcher::Default)]),
        ]);
        match dup {
            Err(e @ DispatchBuildError::DuplicateContext { .. }) => {
                let text = e.to_string();
                assert!(text.contains("\"A\"") && text.contains("\"B\""), "{text}");
            }
            other => panic!("expected duplicate context, got {other:?}"),
        }
        let no_resources = ApiTable::build(vec![api("A", "/t", vec![])]);
        assert!(matches!(
            no_resources,
            Err(DispatchBuildError::NoResources { .. })
        ));
        let mut versioned = api("A", "/t", vec![resource(&[], ResourceMatcher::Default)]);
        versioned.version = Some("1.0".into());
        assert!(matches!(
            ApiTable::build(vec![versioned]),
            Err(DispatchBuildError::VersionTypeMissing { .. })
        ));
        let trace = ApiTable::build(vec![api(
            "A",
            "/t",
            vec![resource(&[Method::TRACE], ResourceMatcher::Default)],
        )]);
        assert!(matches!(
            trace,
            Err(DispatchBuildError::UnsupportedMethod { .. })
        ));
        let mut r = resource(&[], ResourceMatcher::Default);
        r.user_agent = Some("(".into());
        assert!(matches!(
            ApiTable::build(vec![api("A", "/t", vec![r])]),
            Err(DispatchBuildError::BadUserAgentPattern { .. })
        ));
    }

    /// `API.canProcess` host/port checks; the default port comes from the listener scheme.
    #[test]
    fn host_and_port_restrictions() {
        let mut a = api("A", "/t", vec![resource(&[], ResourceMatcher::Default)]);
        a.hostname = Some("example.com".into());
        a.port = Some(80);
        let t = table(vec![a]);
        let mut req = head(&Method::GET, "/t");
        req.host = Some("example.com".as_bytes());
        assert!(matches!(t.dispatch(&req), ApiDispatch::Matched(_)));
        req.host = Some("example.com:80".as_bytes());
        assert!(matches!(t.dispatch(&req), ApiDispatch::Matched(_)));
        req.host = Some("example.com:8080".as_bytes());
        assert_eq!(t.dispatch(&req), ApiDispatch::NoApi);
        req.host = Some("example.com".as_bytes());
        req.scheme = Protocol::Https;
        assert_eq!(t.dispatch(&req), ApiDispatch::NoApi);
        req.host = None;
        assert_eq!(t.dispatch(&req), ApiDispatch::NoApi);
    }

    #[test]
    fn malformed_escape_is_bad_request() {
        let t = table(vec![api(
            "A",
            "/t",
            vec![resource(&[], template("/x/{id}"))],
        )]);
        assert!(matches!(
            t.dispatch(&head(&Method::GET, "/t/x/%zz")),
            ApiDispatch::BadRequest { resource: None, .. }
        ));
        assert!(matches!(
            t.dispatch(&head(&Method::GET, "/t/x/1?a=%zz")),
            ApiDispatch::BadRequest {
                resource: Some(0),
                ..
            }
        ));
    }

    /// `ApiUtils.matchApiPath` and `URLBasedVersionStrategy.isMatchingVersion`.
    #[test]
    fn context_and_url_version_helpers() {
        let cases = [
            ("/t", "/t", true),
            ("/t/x", "/t", true),
            ("/t?x", "/t", true),
            ("/tx", "/t", false),
            ("/anything", "", true),
        ];
        for (path, context, expected) in cases {
            assert_eq!(
                matches_context(path, context),
                expected,
                "{path:?} in {context:?}"
            );
        }
        let versions = [
            ("/t/1.0/x", "1.0", true),
            ("/t/1.0", "1.0", true),
            ("/t/1.0?a=b/c", "1.0", true),
            ("/t/1.0x/y", "1.0", false),
            ("/t?v=1.0", "1.0", false),
        ];
        for (path, version, expected) in versions {
            assert_eq!(
                url_version_matches(path, "/t", version),
                expected,
                "{path:?} v{version}"
            );
        }
    }

    /// `API.process`'s `REST_URL_POSTFIX`, as Synapse writes it (`API.java`: add a leading `/`,
    /// cut the context, then a URL version with or without its `/`), on an owned `String`: the
    /// borrowed `rest_url_postfix` gives the same text for every context, version and path.
    fn postfix_as_synapse(api: &CompiledApi, path: &str) -> String {
        let mut postfix = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        if postfix.starts_with(api.context.as_str()) {
            postfix.drain(..api.context.len());
        }
        if api.version_type == Some(VersionType::Url) {
            if postfix.starts_with(api.version.as_str()) {
                postfix.drain(..api.version.len());
            } else if postfix
                .strip_prefix('/')
                .is_some_and(|p| p.starts_with(api.version.as_str()))
            {
                postfix.drain(..api.version.len() + 1);
            }
        }
        postfix
    }

    #[test]
    fn rest_url_postfix_is_synapses() {
        let paths = [
            "",
            "/",
            "a",
            "ab",
            "abc",
            "abc/",
            "/abc",
            "/abc/",
            "/abc/1.0",
            "/abc/1.0/x?q=1",
            "abc/1.0/x",
            "/abc1.0",
            "/abc?x",
            "1.0",
            "/1.0",
            "1.0/x",
            "//abc",
            "/ab",
            "/x/y?z",
        ];
        let contexts = ["/", "/abc", "/ab", "/a/b"];
        let versions = [
            (None, None),
            (Some("1.0"), Some(VersionType::Url)),
            (Some(""), Some(VersionType::Url)),
            (Some("/1.0"), Some(VersionType::Url)),
            (Some("1.0"), Some(VersionType::Context)),
        ];
        for context in contexts {
            for (version, version_type) in versions {
                let mut route = api("A", context, vec![resource(&[], ResourceMatcher::Default)]);
                route.version = version.map(str::to_owned);
                route.version_type = version_type;
                let compiled = compile_api(0, &route).unwrap_or_else(|e| panic!("{e}"));
                for path in paths {
                    assert_eq!(
                        compiled.rest_url_postfix(path),
                        postfix_as_synapse(&compiled, path),
                        "{context} {version:?} {path:?}"
                    );
                }
            }
        }
    }
}
