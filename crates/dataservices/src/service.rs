//! A deployed data service: the parsed [`DataService`] model plus one database pool per
//! `<config>`, and [`DeployedService::invoke`], which turns an HTTP request on
//! `/services/<name>/<resource path>` into MI's answer (body, content type, status).
//!
//! MI sources followed: `DBInOutMessageReceiver` / `DBInOnlyMessageReceiver` (JSON output when the
//! request's `Accept` is `application/json`; 202 with no body for writes without
//! `returnRequestStatus`), `DataServiceRequest` (all queries of one request in one transaction,
//! rolled back on a fault), and Axis2's REST dispatch of data-service resources (path template
//! segments bind `{param}`s; query string, form and body elements give the other parameters).

use std::collections::BTreeMap;
use std::path::PathBuf;

use percent_encoding::percent_decode_str;

use crate::db::{DataSource, DataSourceConfig, DbError, Outcome, ParamType, Returns, Statement};
use crate::error::{Fault, FaultCode};
use crate::model::{DataService, Query, Resource, Row, SqlType, Value};
use crate::output::{Callable, RequestContext, Response, RowSource, execute};
use crate::params::{Prepared, RequestValue};

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

/// A data service ready to answer requests.
pub struct DeployedService {
    model: DataService,
    /// Path of the `.dbs` file after `dataservices` (`/Foo.dbs`), for fault details.
    location: String,
    pools: BTreeMap<String, DataSource>,
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
        })
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

    /// Answers one REST request.
    pub async fn invoke(&self, request: &ServiceRequest<'_>) -> ServiceResponse {
        let json = request
            .accept
            .is_some_and(|a| a.to_ascii_lowercase().contains("application/json"));
        let soap = soap_version(request.body);
        let (callable, mut params) = match self.match_resource(request.method, request.path) {
            Some((resource, params)) => (Callable::Resource(resource), params),
            None => match self.match_operation(request) {
                Some(operation) => (Callable::Operation(operation), Vec::new()),
                None => {
                    return ServiceResponse {
                        status: 404,
                        content_type: "application/xml",
                        body: Some(format!(
                            "<faultstring>No resource or operation {} /{} in data service {}</faultstring>",
                            request.method,
                            crate::output::escape_text(request.path.trim_start_matches('/')),
                            crate::output::escape_text(&self.model.name)
                        )),
                    };
                }
            },
        };
        params.extend(query_pairs(request.query));
        if request.body.len() > MAX_REQUEST_BODY_BYTES {
            return ServiceResponse {
                status: 413,
                content_type: "text/plain",
                body: Some(format!(
                    "request body larger than {MAX_REQUEST_BODY_BYTES} bytes"
                )),
            };
        }
        match body_params(request.content_type, request.body) {
            Ok(body) => params.extend(body),
            Err(message) => {
                return self.fault_response(Fault::new(FaultCode::UnknownError, message), soap);
            }
        }
        let mut source = TxSource {
            pools: &self.pools,
            open: BTreeMap::new(),
        };
        let result = execute(
            &self.model,
            callable,
            &params,
            &RequestContext::default(),
            &mut source,
        )
        .await;
        let result = match result {
            Ok(response) => source.commit().await.map(|()| response),
            Err(fault) => {
                source.rollback().await;
                Err(fault)
            }
        };
        match result {
            Ok(response) => {
                let body = if json {
                    response.to_json()
                } else {
                    response.to_xml()
                };
                match (&response, body) {
                    (Response::Empty, _) | (_, None) => ServiceResponse {
                        status: 202,
                        content_type: "application/xml",
                        body: None,
                    },
                    (_, Some(body)) => match soap {
                        Some(version) if !json => ServiceResponse {
                            status: 200,
                            content_type: version.content_type(),
                            body: Some(version.envelope(&body)),
                        },
                        _ => ServiceResponse {
                            status: 200,
                            content_type: if json {
                                "application/json"
                            } else {
                                "application/xml"
                            },
                            body: Some(body),
                        },
                    },
                }
            }
            Err(fault) => self.fault_response(fault, soap),
        }
    }

    fn fault_response(&self, fault: Fault, soap: Option<Soap>) -> ServiceResponse {
        let detail = fault.to_xml(&self.model, &self.location);
        match soap {
            None => ServiceResponse {
                status: 500,
                content_type: "application/xml",
                body: Some(detail),
            },
            Some(version) => ServiceResponse {
                status: 500,
                content_type: version.content_type(),
                body: Some(version.fault(&fault.full_message(), &detail)),
            },
        }
    }

    /// A SOAP (or plain XML) POST to `/services/<name>` (or `/services/<name>/<operation>`):
    /// the operation the body's element (inside the SOAP Body) names (Axis2 dispatches on the
    /// body's first element, `SOAPMessageBodyBasedDispatcher`).
    fn match_operation(&self, request: &ServiceRequest<'_>) -> Option<&crate::model::Operation> {
        if !request.method.eq_ignore_ascii_case("POST") {
            return None;
        }
        let path = request.path.trim_matches('/');
        if !path.is_empty() {
            return self.model.operation(path);
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
        self.model.operation(element.tag_name().name())
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

    /// A SOAP fault with MI's fault string and the `DataServiceFault` detail.
    fn fault(self, message: &str, detail: &str) -> String {
        let message = crate::output::escape_text(message);
        let fault = match self {
            Soap::V11 => format!(
                "<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>{message}</faultstring><detail>{detail}</detail></soapenv:Fault>"
            ),
            Soap::V12 => format!(
                "<soapenv:Fault><soapenv:Code><soapenv:Value>soapenv:Receiver</soapenv:Value></soapenv:Code><soapenv:Reason><soapenv:Text xml:lang=\"en-US\">{message}</soapenv:Text></soapenv:Reason><soapenv:Detail>{detail}</soapenv:Detail></soapenv:Fault>"
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

/// MI's fault for a database error (`DBConstants.FaultCodes`).
fn db_fault(e: DbError) -> Fault {
    let code = if e.is_unavailable() {
        FaultCode::ConnectionUnavailable
    } else {
        FaultCode::DatabaseError
    };
    Fault::new(code, e.to_string())
}

/// The request's statements, one transaction per config, opened on first use.
struct TxSource<'a> {
    pools: &'a BTreeMap<String, DataSource>,
    open: BTreeMap<String, crate::db::Transaction>,
}

impl TxSource<'_> {
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
