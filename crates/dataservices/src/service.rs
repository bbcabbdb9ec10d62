//! A deployed data service: the parsed [`DataService`] model plus one database pool per
//! `<config>`, and [`DeployedService::invoke`], which turns an HTTP request on
//! `/services/<name>/<resource path>` into MI's answer (body, content type, status).
//!
//! MI sources followed: `DBInOutMessageReceiver` / `DBInOnlyMessageReceiver` (JSON output when the
//! request's `Accept` is `application/json`; 202 with no body for writes without
//! `returnRequestStatus`), `DataServiceRequest` (all queries of one request in one transaction,
//! rolled back on a fault), and Axis2's REST dispatch of data-service resources (path template
//! segments bind `{param}`s; query string, form and body elements give the other parameters).
//! Faults follow `DataServiceFault` / `DBUtils.createAxisFault` (status 500; POX detail, SOAP
//! fault with the `ds_code` as fault code, or Axis2's JSON fault for a JSON request); batch
//! requests, request boxes and legacy boxcarring sessions are in [`requests`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use percent_encoding::percent_decode_str;

use crate::db::{DataSource, DataSourceConfig, DbError, Outcome, ParamType, Returns, Statement};
use crate::error::{Fault, FaultCode};
use crate::model::{DataService, Query, Resource, Row, SqlType, Value};
use crate::output::{Callable, RequestContext, Response, RowSource, execute};
use crate::params::{Prepared, RequestValue};

pub mod requests;

use requests::{BoxcarOp, BoxedCall};

/// The largest request body read into parameters.
pub const MAX_REQUEST_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Why a data service could not be deployed (beyond `.dbs` parse errors).
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("data service {service}: config '{config}' has no JDBC url property")]
    MissingUrl { service: String, config: String },
    #[error("data service {service}: config '{config}': {source}")]
    DataSource {
        service: String,
        config: String,
        #[source]
        source: Box<DbError>,
    },
}

/// A matched resource and the values of its `{param}` path segments.
type ResourceMatch<'s> = (&'s Resource, Vec<(String, RequestValue)>);

/// The deployed data services by name (what `/services/<name>/...` and `dataServiceCall` reach).
pub type DataServices = std::sync::Arc<BTreeMap<String, std::sync::Arc<DeployedService>>>;

/// A named (Carbon) data source: a `deployment.toml` `[[datasource]]`, or a `<datasource>`
/// definition of a CApp or project. Data services reach it by `carbon_datasource_name`; the
/// Management API lists it (`/management/data-sources`).
#[derive(Debug, Clone)]
pub struct NamedDataSource {
    pub name: String,
    pub description: String,
    /// `RDBMS` (the one definition type MI ships a reader for).
    pub kind: String,
    pub driver_class: Option<String>,
    /// The JDBC URL with any password in it masked.
    pub url: String,
    pub username: Option<String>,
    /// The definition as written (passwords masked), MI's `configuration`.
    pub definition: String,
    /// Where it is defined (`deployment.toml:12:1`, `carbonapps/X.car!/ds/ds.xml`).
    pub origin: String,
    /// The configuration the pool was opened with (a redeploy keeps the pool when it is equal).
    pub config: DataSourceConfig,
    pub pool: DataSource,
}

/// The named data sources by name.
pub type DataSources = std::sync::Arc<BTreeMap<String, NamedDataSource>>;

/// A data service ready to answer requests.
pub struct DeployedService {
    model: DataService,
    /// Path of the `.dbs` file after `dataservices` (`/Foo.dbs`), for fault details.
    location: String,
    pools: BTreeMap<String, DataSource>,
    /// What the deployer identifies the source file's content by (a hash; 0 when not given):
    /// a redeploy keeps the service, and its pools, while it is unchanged.
    fingerprint: u64,
    /// Legacy boxcarring sessions (`enableBoxcarring` without `disableLegacyBoxcarringMode`).
    sessions: requests::Sessions,
}

/// An HTTP request for a data service, as the transport hands it over.
#[derive(Debug, Clone, Copy)]
pub struct ServiceRequest<'a> {
    pub method: &'a str,
    /// The path after `/services/<name>`, with or without a leading `/`, no query string.
    pub path: &'a str,
    /// The raw query string (without `?`).
    pub query: &'a str,
    pub content_type: Option<&'a str>,
    pub accept: Option<&'a str>,
    pub body: &'a [u8],
}

/// The answer: HTTP status, content type and body (None: no body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Option<String>,
    /// A `Set-Cookie` header value (the session cookie `begin_boxcar` starts).
    pub set_cookie: Option<String>,
}

impl ServiceResponse {
    fn new(status: u16, content_type: &'static str, body: Option<String>) -> Self {
        ServiceResponse {
            status,
            content_type,
            body,
            set_cookie: None,
        }
    }
}

/// What a request calls.
#[derive(Debug, Clone, Copy)]
enum Target<'s> {
    Call(Callable<'s>),
    /// `request_box` (`enableBoxcarring`).
    RequestBox,
    /// `begin_boxcar` / `end_boxcar` / `abort_boxcar` (legacy boxcarring).
    Boxcar(BoxcarOp),
}

/// How to write the answer to one request.
#[derive(Debug, Clone, Copy)]
struct Output {
    /// JSON results (the request's `Accept`).
    json: bool,
    /// The request's SOAP version: results go back in an envelope.
    soap: Option<Soap>,
    faults: FaultFormat,
}

/// The format of a fault: Axis2 formats it by the request's message type (its `Content-Type`;
/// `application/xml` for a request without a body, MI `ServerWorker`), not by `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FaultFormat {
    Xml,
    Json,
    Soap(Soap),
}

impl FaultFormat {
    fn of(content_type: Option<&str>, soap: Option<Soap>) -> FaultFormat {
        match soap {
            Some(version) => FaultFormat::Soap(version),
            None if content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("json")) => {
                FaultFormat::Json
            }
            None => FaultFormat::Xml,
        }
    }
}

/// MI `DBInOutMessageReceiver`: JSON results when one of the `Accept` media types (up to the
/// first `;`) is exactly `application/json`.
fn accepts_json(accept: Option<&str>) -> bool {
    accept.is_some_and(|accept| {
        let accept = accept.split(';').next().unwrap_or("");
        accept
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("application/json"))
    })
}

/// Runs one call (one parameter set, or a batch) through `source`.
async fn run_call(
    model: &DataService,
    callable: Callable<'_>,
    call: &BoxedCall,
    source: &mut TxSource<'_>,
) -> Result<Response, Fault> {
    let ctx = RequestContext::default();
    if call.batch {
        crate::output::execute_batch(model, callable, &call.sets, &ctx, source).await
    } else {
        let empty = Vec::new();
        let params = call.sets.first().unwrap_or(&empty);
        execute(model, callable, params, &ctx, source).await
    }
}

impl DeployedService {
    /// Opens (lazily: no I/O yet, the first request connects) one pool per `<config>` of the
    /// model. `home` is the server home that relative SQLite paths are resolved against.
    pub fn new(
        model: DataService,
        location: impl Into<String>,
        home: Option<PathBuf>,
    ) -> Result<DeployedService, DeployError> {
        let mut pools = BTreeMap::new();
        for config in &model.configs {
            if config.url().is_none() {
                return Err(DeployError::MissingUrl {
                    service: model.name.clone(),
                    config: config.id.clone(),
                });
            }
            let props = config
                .properties
                .iter()
                .map(|p| (p.name.as_str(), p.value.as_str()));
            let wrap = |source| DeployError::DataSource {
                service: model.name.clone(),
                config: config.id.clone(),
                source: Box::new(source),
            };
            let (cfg, _ignored): (DataSourceConfig, _) =
                DataSourceConfig::from_properties(props, home.clone()).map_err(wrap)?;
            pools.insert(config.id.clone(), DataSource::lazy(cfg).map_err(wrap)?);
        }
        Ok(DeployedService {
            model,
            location: location.into(),
            pools,
            fingerprint: 0,
            sessions: requests::Sessions::default(),
        })
    }

    /// A data service on pools opened by the caller (one per `<config>` id: its own, or a named
    /// data source's for `carbon_datasource_name`), so that a redeploy can keep them;
    /// `fingerprint` identifies the source file's content.
    pub fn with_pools(
        model: DataService,
        location: impl Into<String>,
        pools: BTreeMap<String, DataSource>,
        fingerprint: u64,
    ) -> DeployedService {
        DeployedService {
            model,
            location: location.into(),
            pools,
            fingerprint,
            sessions: requests::Sessions::default(),
        }
    }

    /// The fingerprint given to [`DeployedService::with_pools`].
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The `.dbs` file the service was deployed from (as given to the constructor).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// What [`DeployedService::new`] checks, without opening pools (no async runtime needed):
    /// every `<config>` has a URL and valid pool properties (`conflux check`).
    pub fn check(model: &DataService, home: Option<PathBuf>) -> Result<(), DeployError> {
        for config in &model.configs {
            if config.url().is_none() {
                return Err(DeployError::MissingUrl {
                    service: model.name.clone(),
                    config: config.id.clone(),
                });
            }
            let props = config
                .properties
                .iter()
                .map(|p| (p.name.as_str(), p.value.as_str()));
            DataSourceConfig::from_properties(props, home.clone()).map_err(|source| {
                DeployError::DataSource {
                    service: model.name.clone(),
                    config: config.id.clone(),
                    source: Box::new(source),
                }
            })?;
        }
        Ok(())
    }

    pub fn model(&self) -> &DataService {
        &self.model
    }

    pub fn name(&self) -> &str {
        &self.model.name
    }

    /// The pools by config id (for `/management/data-sources`).
    pub fn pools(&self) -> &BTreeMap<String, DataSource> {
        &self.pools
    }

    /// Answers one request (without a session cookie).
    pub async fn invoke(&self, request: &ServiceRequest<'_>) -> ServiceResponse {
        self.invoke_in_session(request, None).await
    }

    /// Answers one request. `cookie` is the request's `Cookie` header: it names the caller's
    /// legacy boxcarring session ([`requests::SESSION_COOKIE`]); `begin_boxcar` answers with
    /// the cookie to set in [`ServiceResponse::set_cookie`].
    pub async fn invoke_in_session(
        &self,
        request: &ServiceRequest<'_>,
        cookie: Option<&str>,
    ) -> ServiceResponse {
        let out = Output {
            json: accepts_json(request.accept),
            soap: soap_version(request.body),
            faults: FaultFormat::of(request.content_type, soap_version(request.body)),
        };
        if request.body.len() > MAX_REQUEST_BODY_BYTES {
            return ServiceResponse::new(
                413,
                "text/plain",
                Some(format!(
                    "request body larger than {MAX_REQUEST_BODY_BYTES} bytes"
                )),
            );
        }
        let Some((target, mut params)) = self.target(request) else {
            return ServiceResponse::new(
                404,
                "application/xml",
                Some(format!(
                    "<faultstring>No resource or operation {} /{} in data service {}</faultstring>",
                    request.method,
                    crate::output::escape_text(request.path.trim_start_matches('/')),
                    crate::output::escape_text(&self.model.name)
                )),
            );
        };
        params.extend(query_pairs(request.query));
        let legacy = self.model.enable_boxcarring && !self.model.disable_legacy_boxcarring_mode;
        let session = if legacy {
            requests::session_cookie(cookie).filter(|id| self.sessions.is_open(id))
        } else {
            None
        };
        match target {
            Target::Call(callable) => {
                let call = match self.boxed_call(callable, params, request) {
                    Ok(call) => call,
                    Err(fault) => return self.fault_response(fault, out.faults),
                };
                if let Some(id) = session {
                    return self.queue_in_session(id, callable, call, out);
                }
                let mut source = TxSource::new(&self.pools);
                let result = run_call(&self.model, callable, &call, &mut source).await;
                match source.finish(result).await {
                    Ok(response) => self.render(&response, out),
                    Err(fault) => self.fault_response(fault, out.faults),
                }
            }
            Target::RequestBox => {
                let calls = match self.request_box_calls(request) {
                    Ok(calls) => calls,
                    Err(fault) => return self.fault_response(fault, out.faults),
                };
                self.run_box(&calls, out).await
            }
            Target::Boxcar(op) => match op {
                BoxcarOp::Begin => match self.sessions.begin(requests::session_cookie(cookie)) {
                    Ok(id) => {
                        let mut answer = match out.soap {
                            Some(version) => ServiceResponse::new(
                                200,
                                version.content_type(),
                                Some(version.envelope("")),
                            ),
                            None => ServiceResponse::new(200, "application/xml", None),
                        };
                        answer.set_cookie = Some(format!(
                            "{}={id}; Path=/; HttpOnly",
                            requests::SESSION_COOKIE
                        ));
                        answer
                    }
                    Err(e) => self.fault_response(
                        Fault::new(FaultCode::UnknownError, e.to_string()),
                        out.faults,
                    ),
                },
                BoxcarOp::End => {
                    let calls = session.map(|id| self.sessions.take(id)).unwrap_or_default();
                    self.run_box(&calls, out).await
                }
                BoxcarOp::Abort => {
                    if let Some(id) = session {
                        self.sessions.take(id);
                    }
                    ServiceResponse::new(202, "application/xml", None)
                }
            },
        }
    }

    /// What a request calls, and the parameters its path gives (`{param}` segments).
    fn target(
        &self,
        request: &ServiceRequest<'_>,
    ) -> Option<(Target<'_>, Vec<(String, RequestValue)>)> {
        if let Some((resource, params)) = self.match_resource(request.method, request.path) {
            return Some((Target::Call(Callable::Resource(resource)), params));
        }
        let name = self.operation_name(request)?;
        if self.model.enable_boxcarring {
            if name == requests::REQUEST_BOX {
                return Some((Target::RequestBox, Vec::new()));
            }
            if !self.model.disable_legacy_boxcarring_mode
                && let Some(op) = BoxcarOp::from_name(&name)
            {
                return Some((Target::Boxcar(op), Vec::new()));
            }
        }
        let operation = self.model.operation(&name)?;
        Some((Target::Call(Callable::Operation(operation)), Vec::new()))
    }

    /// The operation or resource named by a request name (MI `DataService.getCallableRequest`:
    /// operation names, and resource request names such as `_postemployee`).
    fn callable(&self, name: &str) -> Option<Callable<'_>> {
        if let Some(operation) = self.model.operation(name) {
            return Some(Callable::Operation(operation));
        }
        self.model
            .resources
            .iter()
            .find(|r| r.request_name() == name)
            .map(Callable::Resource)
    }

    /// The parameter sets of one call: the body's parameters (one set per child of the request
    /// element for a `_batch_req` call), each with the path and query parameters added.
    fn boxed_call(
        &self,
        callable: Callable<'_>,
        params: Vec<(String, RequestValue)>,
        request: &ServiceRequest<'_>,
    ) -> Result<BoxedCall, Fault> {
        let request_name = callable.request_name();
        let batch = match callable {
            Callable::Operation(o) => o.batch,
            Callable::Resource(r) => r.batch,
        };
        let invalid = |message: String| Fault::new(FaultCode::UnknownError, message);
        if !batch {
            let mut set = params;
            set.extend(body_params(request.content_type, request.body).map_err(invalid)?);
            return Ok(BoxedCall {
                request_name,
                sets: vec![set],
                batch,
            });
        }
        let root =
            requests::request_element(request.content_type, request.body).map_err(invalid)?;
        let mut sets = match root {
            Some(root) if root.is_batch() => root.batch_params(),
            Some(root) => vec![root.params()],
            None => vec![query_pairs(
                std::str::from_utf8(request.body).unwrap_or("").trim(),
            )],
        };
        if sets.len() > requests::MAX_BATCH_SIZE {
            return Err(invalid(format!(
                "a batch request carries {} parameter sets; at most {} are allowed",
                sets.len(),
                requests::MAX_BATCH_SIZE
            )));
        }
        for set in &mut sets {
            set.extend(params.iter().cloned());
        }
        Ok(BoxedCall {
            request_name,
            sets,
            batch,
        })
    }

    /// The calls of a `request_box` body (MI `DataServiceRequest.createRequestBoxRequest`).
    fn request_box_calls(&self, request: &ServiceRequest<'_>) -> Result<Vec<BoxedCall>, Fault> {
        let root = requests::request_element(request.content_type, request.body)
            .map_err(|m| Fault::new(FaultCode::UnknownError, m))?
            .ok_or_else(|| {
                Fault::new(
                    FaultCode::UnknownError,
                    "Input message is null for REQUEST_BOX request",
                )
            })?;
        if root.children.len() > requests::MAX_BATCH_SIZE {
            return Err(Fault::new(
                FaultCode::UnknownError,
                format!(
                    "a request box carries {} requests; at most {} are allowed",
                    root.children.len(),
                    requests::MAX_BATCH_SIZE
                ),
            ));
        }
        Ok(root
            .children
            .iter()
            .map(|child| {
                let batch = child.is_batch();
                BoxedCall {
                    request_name: child.name.clone(),
                    sets: if batch {
                        child.batch_params()
                    } else {
                        vec![child.params()]
                    },
                    batch,
                }
            })
            .collect())
    }

    /// Runs boxed calls in one transaction (request box, `end_boxcar`): the answer is the last
    /// call's result inside `DATA_SERVICE_REQUEST_BOX_RESPONSE` (MI `RequestBox.execute`).
    async fn run_box(&self, calls: &[BoxedCall], out: Output) -> ServiceResponse {
        let mut source = TxSource::new(&self.pools);
        let mut last = None;
        let mut result = Ok(());
        for call in calls {
            let Some(callable) = self.callable(&call.request_name) else {
                result = Err(Fault::new(
                    FaultCode::UnknownError,
                    format!(
                        "A data service request named '{}' does not exist in data service '{}'",
                        call.request_name, self.model.name
                    ),
                ));
                break;
            };
            match run_call(&self.model, callable, call, &mut source).await {
                Ok(Response::Result(node)) => last = Some(node),
                Ok(_) => last = None,
                Err(fault) => {
                    result = Err(fault);
                    break;
                }
            }
        }
        if let Err(fault) = source.finish(result).await {
            return self.fault_response(fault, out.faults);
        }
        let body = if out.json {
            format!(
                "{{\"{}\":{}}}",
                requests::REQUEST_BOX_RESPONSE,
                last.as_ref()
                    .map_or_else(|| "{}".to_string(), |n| n.to_json())
            )
        } else {
            let inner = last.as_ref().map(|n| n.to_xml()).unwrap_or_default();
            let name = requests::REQUEST_BOX_RESPONSE;
            let ns = crate::model::WSO2_DS_NAMESPACE;
            if inner.is_empty() {
                format!("<axis2ns1:{name} xmlns:axis2ns1=\"{ns}\"/>")
            } else {
                format!("<axis2ns1:{name} xmlns:axis2ns1=\"{ns}\">{inner}</axis2ns1:{name}>")
            }
        };
        self.render_body(body, out)
    }

    /// A call made inside a legacy boxcarring session: queued until `end_boxcar`; the answer is
    /// the call's empty result wrapper, or nothing for a write (MI
    /// `BoxcarringDataServiceRequest.createBoxcarringRequestResultWrapper`).
    fn queue_in_session(
        &self,
        id: &str,
        callable: Callable<'_>,
        call: BoxedCall,
        out: Output,
    ) -> ServiceResponse {
        match self.sessions.queue(id, call) {
            Ok(true) => {}
            Ok(false) => {
                return self.fault_response(
                    Fault::new(FaultCode::UnknownError, "the boxcarring session has ended"),
                    out.faults,
                );
            }
            Err(e) => {
                return self.fault_response(
                    Fault::new(FaultCode::UnknownError, e.to_string()),
                    out.faults,
                );
            }
        }
        let call_query = match callable {
            Callable::Operation(o) => o.call_query.as_ref(),
            Callable::Resource(r) => r.call_query.as_ref(),
        };
        let wrapper = call_query
            .and_then(|c| self.model.query(&c.href))
            .and_then(|q| q.result.as_ref())
            .and_then(|r| r.element.clone().map(|e| (e, r.namespace.clone())));
        match wrapper {
            Some((name, namespace)) => {
                let node = crate::output::OutputNode {
                    name,
                    namespace,
                    kind: crate::output::NodeKind::Wrapper,
                    attributes: Vec::new(),
                    children: Vec::new(),
                };
                let body = if out.json {
                    node.to_json()
                } else {
                    node.to_xml()
                };
                self.render_body(body, out)
            }
            None => ServiceResponse::new(202, "application/xml", None),
        }
    }

    /// The answer for a successful call.
    fn render(&self, response: &Response, out: Output) -> ServiceResponse {
        let body = if out.json {
            response.to_json()
        } else {
            response.to_xml()
        };
        match (response, body) {
            (Response::Empty, _) | (_, None) => ServiceResponse::new(202, "application/xml", None),
            (_, Some(body)) => self.render_body(body, out),
        }
    }

    /// A 200 answer: JSON, the SOAP envelope of a SOAP request, or plain XML.
    fn render_body(&self, body: String, out: Output) -> ServiceResponse {
        match out.soap {
            Some(version) if !out.json => {
                ServiceResponse::new(200, version.content_type(), Some(version.envelope(&body)))
            }
            _ => ServiceResponse::new(
                200,
                if out.json {
                    "application/json"
                } else {
                    "application/xml"
                },
                Some(body),
            ),
        }
    }

    /// A fault, with status 500 as Axis2 answers an `AxisFault`, in the request's format: a
    /// SOAP Fault for a SOAP request, MI's JSON fault for a JSON request, else the
    /// `DataServiceFault` element (Axis2's POX fault formatter writes the fault detail).
    fn fault_response(&self, fault: Fault, format: FaultFormat) -> ServiceResponse {
        match format {
            FaultFormat::Xml => ServiceResponse::new(
                500,
                "application/xml",
                Some(fault.to_xml(&self.model, &self.location)),
            ),
            FaultFormat::Json => ServiceResponse::new(
                500,
                "application/json",
                Some(fault.to_json(&self.model, &self.location)),
            ),
            FaultFormat::Soap(version) => ServiceResponse::new(
                500,
                version.content_type(),
                Some(version.fault(
                    fault.code,
                    &fault.full_message_with_source(&self.model, &self.location),
                    &fault.to_xml(&self.model, &self.location),
                )),
            ),
        }
    }

    /// The operation a POST names: the path after the service (`/services/<name>/<op>`), or
    /// the body's element inside the SOAP Body (Axis2 `SOAPMessageBodyBasedDispatcher`).
    fn operation_name(&self, request: &ServiceRequest<'_>) -> Option<String> {
        if !request.method.eq_ignore_ascii_case("POST") {
            return None;
        }
        let path = request.path.trim_matches('/');
        if !path.is_empty() {
            return Some(path.to_string());
        }
        let text = std::str::from_utf8(request.body).ok()?;
        let doc = roxmltree::Document::parse(text).ok()?;
        let mut element = doc.root_element();
        if element.tag_name().name() == "Envelope" {
            element = element
                .children()
                .find(|n| n.is_element() && n.tag_name().name() == "Body")?
                .children()
                .find(|n| n.is_element())?;
        }
        Some(element.tag_name().name().to_string())
    }

    /// The resource for a method and path, and the values of its `{param}` segments. Literal
    /// segments win over parameters when two templates match (Axis2 picks the most specific).
    fn match_resource(&self, method: &str, path: &str) -> Option<ResourceMatch<'_>> {
        let segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let mut best: Option<(usize, ResourceMatch<'_>)> = None;
        for resource in &self.model.resources {
            if !resource.method.eq_ignore_ascii_case(method) {
                continue;
            }
            let template = resource.path_segments();
            if template.len() != segments.len() {
                continue;
            }
            let mut literals = 0;
            let mut bound = Vec::new();
            let matched = template.iter().zip(&segments).all(|(t, s)| match t {
                crate::model::PathSegment::Literal(l) => {
                    literals += 1;
                    l == s
                }
                crate::model::PathSegment::Param(name) => {
                    bound.push((name.to_string(), RequestValue::text(s.clone())));
                    true
                }
            });
            if matched && best.as_ref().is_none_or(|(n, _)| literals > *n) {
                best = Some((literals, (resource, bound)));
            }
        }
        best.map(|(_, found)| found)
    }
}

/// The SOAP version of a request body, when it is a SOAP envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Soap {
    V11,
    V12,
}

const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";

fn soap_version(body: &[u8]) -> Option<Soap> {
    let text = std::str::from_utf8(body).ok()?;
    let doc = roxmltree::Document::parse(text).ok()?;
    let root = doc.root_element();
    match (root.tag_name().name(), root.tag_name().namespace()) {
        ("Envelope", Some(SOAP11_NS)) => Some(Soap::V11),
        ("Envelope", Some(SOAP12_NS)) => Some(Soap::V12),
        _ => None,
    }
}

impl Soap {
    fn namespace(self) -> &'static str {
        match self {
            Soap::V11 => SOAP11_NS,
            Soap::V12 => SOAP12_NS,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Soap::V11 => "text/xml",
            Soap::V12 => "application/soap+xml",
        }
    }

    fn envelope(self, body: &str) -> String {
        format!(
            "<soapenv:Envelope xmlns:soapenv=\"{}\"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>",
            self.namespace()
        )
    }

    /// A SOAP fault as Axis2 builds it from MI's `AxisFault` (`DBUtils.createAxisFault`,
    /// `MessageContextBuilder.createFaultEnvelope`): the code is the `ds_code` in the data
    /// services namespace, declared on the Fault element with a generated prefix (Conflux:
    /// `axis2ns1`); the reason is MI's full fault message; the detail is the `DataServiceFault`.
    fn fault(self, code: FaultCode, message: &str, detail: &str) -> String {
        let message = crate::output::escape_text(message);
        let ns = crate::model::WSO2_DS_NAMESPACE;
        let code = code.as_str();
        let fault = match self {
            Soap::V11 => format!(
                "<soapenv:Fault xmlns:axis2ns1=\"{ns}\"><faultcode>axis2ns1:{code}</faultcode><faultstring>{message}</faultstring><detail>{detail}</detail></soapenv:Fault>"
            ),
            Soap::V12 => format!(
                "<soapenv:Fault xmlns:axis2ns1=\"{ns}\"><soapenv:Code><soapenv:Value>axis2ns1:{code}</soapenv:Value></soapenv:Code><soapenv:Reason><soapenv:Text xml:lang=\"en-US\">{message}</soapenv:Text></soapenv:Reason><soapenv:Detail>{detail}</soapenv:Detail></soapenv:Fault>"
            ),
        };
        self.envelope(&fault)
    }
}

/// `a=1&b=x%20y` as request parameters (`+` is a space, as in forms).
fn query_pairs(query: &str) -> Vec<(String, RequestValue)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), RequestValue::text(decode(v)))
        })
        .collect()
}

/// Parameters from a POST/PUT body: a form, MI's JSON request form
/// (`{"_postemployee": {"id": 1, "name": "x"}}`) or the XML request element
/// (`<_postemployee><id>1</id></_postemployee>`).
fn body_params(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Vec<(String, RequestValue)>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let text = std::str::from_utf8(body).map_err(|_| "request body is not UTF-8".to_string())?;
    if ct.contains("x-www-form-urlencoded") {
        return Ok(query_pairs(text.trim()));
    }
    if ct.contains("json") {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("invalid JSON request: {e}"))?;
        let mut object = value
            .as_object()
            .ok_or("JSON request is not an object")?
            .clone();
        // The request wrapper: one member whose value is an object.
        if object.len() == 1
            && let Some(inner) = object.values().next().and_then(|v| v.as_object())
        {
            object = inner.clone();
        }
        return Ok(object
            .into_iter()
            .map(|(k, v)| {
                let value = match v {
                    serde_json::Value::Null => RequestValue::Scalar(None),
                    serde_json::Value::String(s) => RequestValue::text(s),
                    serde_json::Value::Array(items) => RequestValue::Array(
                        items
                            .into_iter()
                            .map(|i| match i {
                                serde_json::Value::Null => None,
                                serde_json::Value::String(s) => Some(s),
                                other => Some(other.to_string()),
                            })
                            .collect(),
                    ),
                    other => RequestValue::text(other.to_string()),
                };
                (k, value)
            })
            .collect());
    }
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("invalid XML request: {e}"))?;
    let mut root = doc.root_element();
    // A SOAP envelope: the operation element is the first child of the Body.
    if root.tag_name().name() == "Envelope"
        && let Some(op) = root
            .children()
            .find(|n| n.is_element() && n.tag_name().name() == "Body")
            .and_then(|b| b.children().find(|n| n.is_element()))
    {
        root = op;
    }
    let mut out: Vec<(String, RequestValue)> = Vec::new();
    for child in root.children().filter(|n| n.is_element()) {
        let name = child.tag_name().name().to_string();
        let nil = child
            .attributes()
            .any(|a| a.name() == "nil" && a.value() == "true");
        let text = if nil {
            None
        } else {
            Some(child.text().unwrap_or("").to_string())
        };
        // Repeated elements are an ARRAY parameter.
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, RequestValue::Array(items))) => items.push(text),
            Some((_, existing)) => {
                let first = match existing {
                    RequestValue::Scalar(v) => v.clone(),
                    RequestValue::Array(_) => None,
                };
                *existing = RequestValue::Array(vec![first, text]);
            }
            None => out.push((name, RequestValue::Scalar(text))),
        }
    }
    Ok(out)
}

/// The declared type a NULL is bound with.
fn param_type(sql_type: &SqlType) -> ParamType {
    match sql_type {
        SqlType::Integer | SqlType::TinyInt | SqlType::SmallInt | SqlType::BigInt => ParamType::Int,
        SqlType::Double | SqlType::Real => ParamType::Double,
        SqlType::Numeric => ParamType::Decimal,
        SqlType::Boolean => ParamType::Bool,
        SqlType::Date => ParamType::Date,
        SqlType::Time => ParamType::Time,
        SqlType::Timestamp => ParamType::Timestamp,
        SqlType::Binary => ParamType::Bytes,
        _ => ParamType::Text,
    }
}

/// MI's fault for a database error at request time (`SQLQuery.processPreNormalQuery`): code
/// `DATABASE_ERROR` (`INCOMPATIBLE_PARAMETERS_ERROR` for a value that does not bind), message
/// `Error in 'SQLQuery.processPreNormalQuery': ...`. A database that cannot be reached is MI's
/// nested `DATABASE_ERROR` fault "Error in opening DBMS connection." (`SQLQuery.createConnection`;
/// `CONNECTION_UNAVAILABLE_ERROR` is only MI's deploy-time code).
fn db_fault(e: DbError) -> Fault {
    let code = if e.ds_code() == crate::db::error::INCOMPATIBLE_PARAMETERS_ERROR {
        FaultCode::IncompatibleParameters
    } else {
        FaultCode::DatabaseError
    };
    let opening = matches!(
        e,
        DbError::Connect { .. }
            | DbError::Auth { .. }
            | DbError::Closed
            | DbError::NoRuntime { .. }
            | DbError::Timeout {
                kind: crate::db::TimeoutKind::Acquire | crate::db::TimeoutKind::Connect,
                ..
            }
    );
    let cause = if opening {
        Fault::new(
            FaultCode::DatabaseError,
            "Error in opening DBMS connection.",
        )
        .with_nested(e.to_string())
        .full_message()
    } else {
        e.to_string()
    };
    Fault::new(
        code,
        format!("Error in 'SQLQuery.processPreNormalQuery': {cause}"),
    )
    .with_nested(cause)
}

/// The request's statements, one transaction per config, opened on first use.
struct TxSource<'a> {
    pools: &'a BTreeMap<String, DataSource>,
    open: BTreeMap<String, crate::db::Transaction>,
}

impl<'a> TxSource<'a> {
    fn new(pools: &'a BTreeMap<String, DataSource>) -> Self {
        TxSource {
            pools,
            open: BTreeMap::new(),
        }
    }

    /// Commits when `result` is Ok, else rolls back (MI `DataServiceRequest` finalizing its
    /// transaction); a failed commit is the request's fault.
    async fn finish<T>(&mut self, result: Result<T, Fault>) -> Result<T, Fault> {
        match result {
            Ok(value) => self.commit().await.map(|()| value),
            Err(fault) => {
                self.rollback().await;
                Err(fault)
            }
        }
    }

    async fn commit(&mut self) -> Result<(), Fault> {
        let open = std::mem::take(&mut self.open);
        for (_, tx) in open {
            tx.commit().await.map_err(db_fault)?;
        }
        Ok(())
    }

    async fn rollback(&mut self) {
        let open = std::mem::take(&mut self.open);
        for (id, tx) in open {
            if let Err(e) = tx.rollback().await {
                tracing::warn!(config = %id, error = %e, "data service rollback failed");
            }
        }
    }
}

impl RowSource for TxSource<'_> {
    async fn fetch(&mut self, query: &Query, statement: &Prepared) -> Result<Vec<Row>, Fault> {
        let Some(pool) = self.pools.get(&query.config_id) else {
            return Err(Fault::new(
                FaultCode::UnknownError,
                format!("no data source for config '{}'", query.config_id),
            ));
        };
        if !self.open.contains_key(&query.config_id) {
            let tx = pool.begin().await.map_err(db_fault)?;
            self.open.insert(query.config_id.clone(), tx);
        }
        let Some(tx) = self.open.get_mut(&query.config_id) else {
            return Err(Fault::new(FaultCode::UnknownError, "transaction lost"));
        };
        let returns = if query.return_generated_keys {
            Returns::GeneratedKeys(query.key_columns.clone())
        } else if query.result.is_some() && !query.return_updated_row_count {
            Returns::Rows
        } else {
            Returns::Count
        };
        let stmt = Statement {
            sql: statement.jdbc_sql.clone(),
            params: statement.binds.iter().map(|b| b.value.clone()).collect(),
            param_types: statement
                .binds
                .iter()
                .map(|b| param_type(&b.sql_type))
                .collect(),
            returns,
        };
        match tx.execute(&stmt).await.map_err(db_fault)? {
            Outcome::Rows(rows) => Ok(rows.rows),
            Outcome::Updated {
                rows_affected,
                generated_keys,
            } => {
                if let Some(keys) = generated_keys {
                    Ok(keys.rows)
                } else if query.return_updated_row_count {
                    let columns: std::sync::Arc<[String]> = vec!["1".to_string()].into();
                    Ok(vec![Row::new(
                        columns,
                        vec![Value::Int(i64::try_from(rows_affected).unwrap_or(i64::MAX))],
                    )])
                } else {
                    Ok(Vec::new())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
