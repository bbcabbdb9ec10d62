//! Running a request of a data service and writing its response as MI does: the call-query
//! parameter mapping (MI `CallQuery.extractParams`, default values), the statements it runs
//! (through a caller-supplied [`RowSource`], the database layer), the result mapping of the rows
//! (MI `Query.writeResultEntry`, `OutputElementGroup`, `StaticOutputElement`), nested
//! `<call-query>`s run per row, and the response text: XML as MI's `XMLWriterHelper` writes it,
//! JSON as Axis2's schema-driven `GsonXMLStreamWriter` (MI's data-service JSON formatter) turns
//! that XML into JSON (rows as arrays, values typed by `xsdType`, `xsi:nil` as `null`), and the
//! `REQUEST_STATUS` answer of writes.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;

use crate::error::{Fault, FaultCode};
use crate::model::{
    CallQuery, Config, DataService, FieldSource, Operation, OutputField, OutputGroup, OutputItem,
    Query, Resource, Row, WSO2_DS_NAMESPACE, WithParamSource,
};
use crate::params::{
    DefaultContext, DriverFamily, Prepared, RequestValue, evaluate_default, mi_params_string,
    prepare,
};

/// Deepest chain of nested `<call-query>`s run for one request (cycles are refused at deploy;
/// this bounds deep acyclic chains).
pub const MAX_CALL_DEPTH: usize = 32;

/// Most output elements one response may hold (rows times mapped fields, nested results
/// included); a larger result fails with a fault instead of exhausting memory.
pub const MAX_OUTPUT_NODES: usize = 5_000_000;

/// The XML Schema instance namespace (`xsi:nil`).
pub const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Runs the statements of a request: the database layer. `fetch` gets a query and its prepared
/// statement and returns the rows: the selected rows for a query with a result, the generated
/// keys for `returnGeneratedKeys`, one row `[("1", count)]` for `returnUpdatedRowCount`, nothing
/// for other writes. All statements of one request belong to one transaction, which the caller
/// commits when [`execute`] succeeds and rolls back when it fails.
pub trait RowSource {
    /// The dialect to render a query's SQL for (default: from the config's JDBC URL; MySQL-style
    /// `?` when unknown).
    fn family(&self, config: &Config) -> DriverFamily {
        config
            .url()
            .and_then(DriverFamily::from_jdbc_url)
            .unwrap_or(DriverFamily::MySql)
    }

    /// Runs one statement.
    fn fetch(
        &mut self,
        query: &Query,
        statement: &Prepared,
    ) -> impl Future<Output = Result<Vec<Row>, Fault>> + Send;
}

/// A [`RowSource`] over a plain closure (tests, and callers with synchronous databases).
pub struct FnSource<F>(pub F);

impl<F> RowSource for FnSource<F>
where
    F: FnMut(&Query, &Prepared) -> Result<Vec<Row>, Fault> + Send,
{
    fn fetch(
        &mut self,
        query: &Query,
        statement: &Prepared,
    ) -> impl Future<Output = Result<Vec<Row>, Fault>> + Send {
        std::future::ready((self.0)(query, statement))
    }
}

/// What is being called: an operation (SOAP) or a resource (REST).
#[derive(Debug, Clone, Copy)]
pub enum Callable<'s> {
    Operation(&'s Operation),
    Resource(&'s Resource),
}

impl Callable<'_> {
    /// MI's request name: the operation name, or `_<method><path>` for a resource.
    pub fn request_name(&self) -> String {
        match self {
            Callable::Operation(o) => o.name.clone(),
            Callable::Resource(r) => r.request_name(),
        }
    }

    fn call_query(&self) -> Option<&CallQuery> {
        match self {
            Callable::Operation(o) => o.call_query.as_ref(),
            Callable::Resource(r) => r.call_query.as_ref(),
        }
    }

    fn return_request_status(&self) -> bool {
        match self {
            Callable::Operation(o) => o.return_request_status,
            Callable::Resource(r) => r.return_request_status,
        }
    }
}

/// Who is calling: roles for `requiredRoles` and values for `#{...}` defaults.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// The caller's roles (output elements with `requiredRoles` need one of them; none: such
    /// elements are left out, as MI does for anonymous callers).
    pub user_roles: Vec<String>,
    /// `#{USERNAME}`, `#{CURRENT_TIMESTAMP}` ...
    pub defaults: DefaultContext,
}

/// The answer to a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// The result element (wrapper with rows).
    Result(OutputNode),
    /// A write with `returnRequestStatus="true"`: `REQUEST_STATUS` `SUCCESSFUL`.
    RequestStatus,
    /// A write without request status: MI answers 202 with no body.
    Empty,
}

impl Response {
    /// The XML body (None for [`Response::Empty`]).
    pub fn to_xml(&self) -> Option<String> {
        match self {
            Response::Result(node) => Some(node.to_xml()),
            Response::RequestStatus => Some(request_status_xml()),
            Response::Empty => None,
        }
    }

    /// The JSON body (None for [`Response::Empty`]).
    pub fn to_json(&self) -> Option<String> {
        match self {
            Response::Result(node) => Some(node.to_json()),
            Response::RequestStatus => Some(request_status_json()),
            Response::Empty => None,
        }
    }
}

/// MI `DataServiceProcessor.generateRequestSuccessElement`, as Axiom writes it (a generated
/// prefix; Axiom numbers them `axis2ns<N>`, Conflux always writes 1).
pub fn request_status_xml() -> String {
    format!(
        "<axis2ns1:REQUEST_STATUS xmlns:axis2ns1=\"{WSO2_DS_NAMESPACE}\">SUCCESSFUL</axis2ns1:REQUEST_STATUS>"
    )
}

/// `REQUEST_STATUS` through the JSON formatter (an `xs:string` element).
pub fn request_status_json() -> String {
    "{\"REQUEST_STATUS\":\"SUCCESSFUL\"}".to_string()
}

/// One element of a response.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputNode {
    pub name: String,
    pub namespace: String,
    pub kind: NodeKind,
    /// `<attribute>` mappings written on this element (XML only: MI's JSON formatter has no
    /// attributes).
    pub attributes: Vec<(String, String)>,
    pub children: Vec<OutputNode>,
}

/// What an output element is, which decides its JSON shape.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A result's `element` wrapper: a JSON object.
    Wrapper,
    /// A result's `rowName` element: one item of a JSON array.
    Row,
    /// A named element group: a JSON object.
    Group,
    /// A value (`<element column|query-param|value>`): None is SQL NULL (`xsi:nil`).
    Field {
        /// Local part of the `xsdType`.
        xsd_type: String,
        value: Option<String>,
    },
}

/// Runs a request: the call's parameters from `params` (names as the request gives them,
/// matched case-insensitively as MI does), its query and nested queries through `source`, and
/// the response. A fault carries the request name and parameters (MI
/// `DataService.fillInDataServiceFault`).
pub async fn execute<R: RowSource + Send>(
    service: &DataService,
    callable: Callable<'_>,
    params: &[(String, RequestValue)],
    ctx: &RequestContext,
    source: &mut R,
) -> Result<Response, Fault> {
    execute_limited(service, callable, params, ctx, source, MAX_OUTPUT_NODES).await
}

/// [`execute`] with another output-size limit than [`MAX_OUTPUT_NODES`].
pub(crate) async fn execute_limited<R: RowSource + Send>(
    service: &DataService,
    callable: Callable<'_>,
    params: &[(String, RequestValue)],
    ctx: &RequestContext,
    source: &mut R,
    max_nodes: usize,
) -> Result<Response, Fault> {
    let request_name = callable.request_name();
    let fail = |fault: Fault| fault.in_request(&request_name, mi_params_string(params));
    let Some(call) = callable.call_query() else {
        return Ok(Response::Empty);
    };
    let Some(query) = service.query(&call.href) else {
        return Err(fail(Fault::new(
            FaultCode::UnknownError,
            format!("Query with the query id: '{}' cannot be found", call.href),
        )));
    };
    let mut ext = ExternalParams::default();
    for (name, value) in params {
        ext.query_params.insert(name.to_lowercase(), value.clone());
    }
    let mut env = Env {
        service,
        ctx,
        source,
        nodes: 0,
        max_nodes,
    };
    let nodes = run_call(&mut env, call, &ext, 0).await.map_err(fail)?;
    if query.has_result() {
        match nodes.into_iter().next() {
            Some(node) => Ok(Response::Result(node)),
            None => Ok(Response::Empty),
        }
    } else if callable.return_request_status() {
        Ok(Response::RequestStatus)
    } else {
        Ok(Response::Empty)
    }
}

/// A `_batch_req` request (MI `BatchDataServiceRequest`): the call runs once per parameter set,
/// all through `source` (the caller keeps them in one transaction and rolls it back on a fault).
/// Answers `REQUEST_STATUS` when the request returns it, else nothing; results of the individual
/// calls (generated keys) are not returned, as in MI.
pub async fn execute_batch<R: RowSource + Send>(
    service: &DataService,
    callable: Callable<'_>,
    batch: &[Vec<(String, RequestValue)>],
    ctx: &RequestContext,
    source: &mut R,
) -> Result<Response, Fault> {
    for params in batch {
        execute(service, callable, params, ctx, source).await?;
    }
    Ok(if callable.return_request_status() {
        Response::RequestStatus
    } else {
        Response::Empty
    })
}

/// [`execute`] for a closure source, without an async runtime.
pub fn execute_blocking<F>(
    service: &DataService,
    callable: Callable<'_>,
    params: &[(String, RequestValue)],
    ctx: &RequestContext,
    fetch: F,
) -> Result<Response, Fault>
where
    F: FnMut(&Query, &Prepared) -> Result<Vec<Row>, Fault> + Send,
{
    let mut source = FnSource(fetch);
    let future = execute(service, callable, params, ctx, &mut source);
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(result) => result,
        // FnSource's futures are always ready, so the whole future completes in one poll.
        std::task::Poll::Pending => Err(Fault::new(
            FaultCode::UnknownError,
            "internal error: a synchronous data service call did not complete",
        )),
    }
}

struct Env<'e, R> {
    service: &'e DataService,
    ctx: &'e RequestContext,
    source: &'e mut R,
    /// Output elements built so far.
    nodes: usize,
    /// The most output elements allowed ([`MAX_OUTPUT_NODES`]).
    max_nodes: usize,
}

impl<R> Env<'_, R> {
    /// Counts one more output element against the limit.
    fn count_node(&mut self) -> Result<(), Fault> {
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            return Err(Fault::new(
                FaultCode::UnknownError,
                format!("the result has more than {} elements", self.max_nodes),
            ));
        }
        Ok(())
    }
}

/// MI `ExternalParamCollection`: the current row's columns and the query's parameters, by
/// lower-cased name.
#[derive(Debug, Default, Clone)]
struct ExternalParams {
    columns: HashMap<String, RequestValue>,
    query_params: HashMap<String, RequestValue>,
}

impl ExternalParams {
    fn by_kind(&self, column: bool, name: &str) -> Option<&RequestValue> {
        if column {
            self.columns.get(name)
        } else {
            self.query_params.get(name)
        }
    }

    /// MI `getParam(name)`: a query-param, else a column.
    fn any(&self, name: &str) -> Option<&RequestValue> {
        self.query_params
            .get(name)
            .or_else(|| self.columns.get(name))
    }
}

type BoxFuture<'f, T> = Pin<Box<dyn Future<Output = T> + Send + 'f>>;

/// MI `CallQuery.executeElement`: maps parameters, runs the query, writes its result (the
/// wrapper element when there is one, else the rows' content).
fn run_call<'f, R: RowSource + Send>(
    env: &'f mut Env<'_, R>,
    call: &'f CallQuery,
    ext: &'f ExternalParams,
    depth: usize,
) -> BoxFuture<'f, Result<Vec<OutputNode>, Fault>> {
    Box::pin(async move {
        if depth > MAX_CALL_DEPTH {
            return Err(Fault::new(
                FaultCode::UnknownError,
                format!("nested call-queries deeper than {MAX_CALL_DEPTH} levels"),
            ));
        }
        let service = env.service;
        let Some(query) = service.query(&call.href) else {
            return Err(Fault::new(
                FaultCode::UnknownError,
                format!("Query with the query id: '{}' cannot be found", call.href),
            ));
        };
        let values = call_params(call, query, ext, &env.ctx.defaults)?;
        let family = match service.config(&query.config_id) {
            Some(config) => env.source.family(config),
            None => DriverFamily::MySql,
        };
        let prepared = prepare(&service.name, query, family, &values)?;
        let rows = env.source.fetch(query, &prepared).await?;
        let Some(result) = &query.result else {
            return Ok(Vec::new());
        };
        let mut query_params: HashMap<String, RequestValue> = HashMap::new();
        for (name, value) in &prepared.values {
            query_params.insert(name.clone(), value.clone());
        }
        if result.element.is_some() {
            env.count_node()?;
        }
        let mut wrapper = result.element.as_ref().map(|name| OutputNode {
            name: name.clone(),
            namespace: result.namespace.clone(),
            kind: NodeKind::Wrapper,
            attributes: Vec::new(),
            children: Vec::new(),
        });
        let mut loose: Vec<OutputNode> = Vec::new();
        for row in rows {
            let mut row_ext = ExternalParams {
                columns: HashMap::new(),
                query_params: query_params.clone(),
            };
            for (i, (label, value)) in row.iter().enumerate() {
                let name = if result.use_column_numbers {
                    (i + 1).to_string()
                } else {
                    label.to_lowercase()
                };
                row_ext
                    .columns
                    .insert(name, RequestValue::Scalar(crate::model::mi_text(value)));
            }
            let mut content = Content::default();
            write_group(
                env,
                &result.content,
                &row_ext,
                result.escape_non_printable,
                depth,
                &mut content,
            )
            .await?;
            match &result.row_name {
                Some(row_name) => {
                    let node = OutputNode {
                        name: row_name.clone(),
                        namespace: result.namespace.clone(),
                        kind: NodeKind::Row,
                        attributes: content.attributes,
                        children: content.children,
                    };
                    push_node(env, &mut wrapper, &mut loose, node)?;
                }
                None => {
                    // Without a row element, attributes land on the wrapper and the content
                    // goes straight into it.
                    if let Some(w) = &mut wrapper {
                        w.attributes.extend(content.attributes);
                    }
                    for node in content.children {
                        push_node(env, &mut wrapper, &mut loose, node)?;
                    }
                }
            }
        }
        Ok(match wrapper {
            Some(w) => vec![w],
            None => loose,
        })
    })
}

fn push_node<R>(
    env: &mut Env<'_, R>,
    wrapper: &mut Option<OutputNode>,
    loose: &mut Vec<OutputNode>,
    node: OutputNode,
) -> Result<(), Fault> {
    if node.kind == NodeKind::Row {
        env.count_node()?;
    }
    match wrapper {
        Some(w) => w.children.push(node),
        None => loose.push(node),
    }
    Ok(())
}

/// MI `CallQuery.extractParams` with `processDefaultValues`: the target query's parameter
/// values from the with-params, then default values for the rest.
fn call_params(
    call: &CallQuery,
    query: &Query,
    ext: &ExternalParams,
    defaults: &DefaultContext,
) -> Result<BTreeMap<String, RequestValue>, Fault> {
    let mut temp: BTreeMap<String, RequestValue> = BTreeMap::new();
    for param in &query.params {
        if let Some(raw) = &param.default_value {
            temp.insert(
                param.name.clone(),
                evaluate_default(raw, param.param_type, defaults)?,
            );
        }
    }
    let target = |name: &str| {
        let lower = name.to_lowercase();
        query.params.iter().find(|p| p.name.to_lowercase() == lower)
    };
    let mut values: BTreeMap<String, RequestValue> = BTreeMap::new();
    for wp in &call.with_params {
        let lookup = wp.source.lookup_name();
        let is_column = matches!(wp.source, WithParamSource::Column { .. });
        let found = ext.by_kind(is_column, lookup).or_else(|| ext.any(lookup));
        match found {
            Some(value) => {
                let force_default = target(&wp.name).is_some_and(|p| p.force_default);
                if value.scalar().is_none() && temp.contains_key(&wp.name) && force_default {
                    continue;
                }
                values.insert(wp.name.clone(), value.clone());
            }
            None if temp.contains_key(&wp.name) => {}
            None if query.is_update() && target(&wp.name).is_some_and(|p| p.optional) => {}
            None => {
                return Err(Fault::new(
                    FaultCode::IncompatibleParameters,
                    format!(
                        "Error in 'CallQuery.extractParams', cannot find parameter with type:{} name:{}",
                        wp.source.kind(),
                        wp.source.original()
                    ),
                ));
            }
        }
    }
    for (name, value) in temp {
        values.entry(name).or_insert(value);
    }
    Ok(values)
}

/// Attributes and children produced by an element group for the element that holds it.
#[derive(Default)]
struct Content {
    attributes: Vec<(String, String)>,
    children: Vec<OutputNode>,
}

/// MI `OutputElementGroup.executeElement` (with `applyUserRoles`).
fn write_group<'f, R: RowSource + Send>(
    env: &'f mut Env<'_, R>,
    group: &'f OutputGroup,
    ext: &'f ExternalParams,
    escape: bool,
    depth: usize,
    out: &'f mut Content,
) -> BoxFuture<'f, Result<(), Fault>> {
    Box::pin(async move {
        for attribute in &group.attributes {
            if !roles_allow(&env.ctx.user_roles, &attribute.required_roles) {
                continue;
            }
            // XMLWriterHelper.addAttribute: a null value writes no attribute.
            if let Some(Some(value)) = field_value(attribute, ext, escape)? {
                out.attributes.push((attribute.name.clone(), value));
            }
        }
        for item in &group.items {
            match item {
                OutputItem::Field(field) => {
                    if !roles_allow(&env.ctx.user_roles, &field.required_roles) {
                        continue;
                    }
                    let Some(value) = field_value(field, ext, escape)? else {
                        continue;
                    };
                    env.count_node()?;
                    out.children.push(OutputNode {
                        name: field.name.clone(),
                        namespace: field.namespace.clone(),
                        kind: NodeKind::Field {
                            xsd_type: field.xsd_type.clone(),
                            value,
                        },
                        attributes: Vec::new(),
                        children: Vec::new(),
                    });
                }
                OutputItem::Group(inner) => {
                    if !roles_allow(&env.ctx.user_roles, &inner.required_roles) {
                        continue;
                    }
                    env.count_node()?;
                    let mut content = Content::default();
                    write_group(env, inner, ext, escape, depth, &mut content).await?;
                    match &inner.name {
                        Some(name) => out.children.push(OutputNode {
                            name: name.clone(),
                            namespace: inner.namespace.clone(),
                            kind: NodeKind::Group,
                            attributes: content.attributes,
                            children: content.children,
                        }),
                        None => {
                            out.attributes.extend(content.attributes);
                            out.children.extend(content.children);
                        }
                    }
                }
                OutputItem::CallQuery(call) => {
                    if !roles_allow(&env.ctx.user_roles, &call.required_roles) {
                        continue;
                    }
                    let nodes = run_call(env, call, ext, depth + 1).await?;
                    out.children.extend(nodes);
                }
            }
        }
        Ok(())
    })
}

/// MI `OutputElementGroup.rolesCompatible`.
fn roles_allow(user_roles: &[String], required: &[String]) -> bool {
    required.is_empty() || required.iter().any(|r| user_roles.contains(r))
}

/// MI `StaticOutputElement.getParamValue`: the field's value; `Ok(None)` leaves an optional
/// field out; `Ok(Some(None))` is SQL NULL.
fn field_value(
    field: &OutputField,
    ext: &ExternalParams,
    escape: bool,
) -> Result<Option<Option<String>>, Fault> {
    let (kind, name, found) = match &field.source {
        FieldSource::Value(v) => return Ok(Some(Some(escape_if(v, escape)))),
        FieldSource::Column(name) => (
            "column",
            name,
            ext.by_kind(true, name).or_else(|| ext.by_kind(false, name)),
        ),
        FieldSource::QueryParam(name) => (
            "query-param",
            name,
            ext.by_kind(false, name).or_else(|| ext.by_kind(true, name)),
        ),
    };
    match found {
        Some(RequestValue::Scalar(v)) => Ok(Some(v.as_deref().map(|v| escape_if(v, escape)))),
        // XMLWriterHelper.writeElementValue: an array's values are written one after another.
        Some(RequestValue::Array(items)) => Ok(Some(Some(
            items
                .iter()
                .map(|v| v.as_deref().unwrap_or("null"))
                .collect::<String>(),
        ))),
        None if field.optional || !field.required_roles.is_empty() => Ok(None),
        None => Err(Fault::new(
            FaultCode::IncompatibleParameters,
            format!(
                "Error in 'StaticOutputElement.execute', cannot find parameter with type:{kind} name:{name}"
            ),
        )),
    }
}

/// `escapeNonPrintableChar`: characters XML 1.0 cannot carry become `?` (MI
/// `StaticOutputElement.NON_PRINTABLE_CHARS`).
fn escape_if(value: &str, escape: bool) -> String {
    if !escape {
        return value.to_string();
    }
    value
        .chars()
        .map(|c| match c {
            '\t' | '\r' | '\n' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' => c,
            c if (c as u32) >= 0x10000 => c,
            _ => '?',
        })
        .collect()
}

/// Text content escaped for XML (`&`, `<`, `>`).
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            other => out.push(other),
        }
    }
    out
}

fn escape_attribute(text: &str) -> String {
    escape_text(text).replace('"', "&quot;")
}

impl OutputNode {
    /// The element as MI's `XMLWriterHelper` writes it: a default-namespace declaration wherever
    /// the namespace changes, `xsi:nil` for NULLs, empty elements self-closed.
    pub fn to_xml(&self) -> String {
        let mut out = String::new();
        self.write_xml(&mut out, None);
        out
    }

    fn write_xml(&self, out: &mut String, scope: Option<&str>) {
        out.push('<');
        out.push_str(&self.name);
        if scope != Some(self.namespace.as_str()) {
            out.push_str(" xmlns=\"");
            out.push_str(&escape_attribute(&self.namespace));
            out.push('"');
        }
        let value = match &self.kind {
            NodeKind::Field { value, .. } => Some(value.as_deref()),
            _ => None,
        };
        if value == Some(None) {
            out.push_str(&format!(" xmlns:xsi=\"{XSI_NAMESPACE}\" xsi:nil=\"true\""));
        }
        for (name, v) in &self.attributes {
            out.push_str(&format!(" {name}=\"{}\"", escape_attribute(v)));
        }
        match value {
            Some(None) => out.push_str("/>"),
            Some(Some(text)) => {
                out.push('>');
                out.push_str(&escape_text(text));
                out.push_str("</");
                out.push_str(&self.name);
                out.push('>');
            }
            None if self.children.is_empty() => out.push_str("/>"),
            None => {
                out.push('>');
                for child in &self.children {
                    child.write_xml(out, Some(&self.namespace));
                }
                out.push_str("</");
                out.push_str(&self.name);
                out.push('>');
            }
        }
    }

    /// The element through MI's data-service JSON formatter (Axis2 `GsonXMLStreamWriter` over the
    /// service's generated schema): `{"<name>": ...}`, rows as arrays (one row is still an
    /// array), no rows as `{}`, values typed by `xsdType` (`int`/`integer`, `long`, `double`,
    /// `boolean`; everything else a string), NULL as `null`, attributes dropped.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        write_json_string(&mut out, &self.name);
        out.push(':');
        self.write_json_value(&mut out);
        out.push('}');
        out
    }

    fn write_json_value(&self, out: &mut String) {
        if let NodeKind::Field { xsd_type, value } = &self.kind {
            write_typed(out, xsd_type, value.as_deref());
            return;
        }
        out.push('{');
        let mut first = true;
        let mut done: Vec<&str> = Vec::new();
        for (i, child) in self.children.iter().enumerate() {
            if child.kind == NodeKind::Row {
                if done.contains(&child.name.as_str()) {
                    continue;
                }
                done.push(&child.name);
                if !first {
                    out.push(',');
                }
                first = false;
                write_json_string(out, &child.name);
                out.push_str(":[");
                let rows = self.children[i..]
                    .iter()
                    .filter(|c| c.kind == NodeKind::Row && c.name == child.name);
                for (k, row) in rows.enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    row.write_json_value(out);
                }
                out.push(']');
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            write_json_string(out, &child.name);
            out.push(':');
            child.write_json_value(out);
        }
        out.push('}');
    }
}

/// `GsonXMLStreamWriter.writeCharacters` by schema value type. A value that does not parse as its
/// type is written as a string (MI fails the response instead).
fn write_typed(out: &mut String, xsd_type: &str, value: Option<&str>) {
    let Some(text) = value else {
        out.push_str("null");
        return;
    };
    match xsd_type {
        "int" | "integer" => match crate::params::parse_java_int(text) {
            Some(n) => out.push_str(&n.to_string()),
            None => write_json_string(out, text),
        },
        "long" => match crate::params::parse_java_long(text) {
            Some(n) => out.push_str(&n.to_string()),
            None => write_json_string(out, text),
        },
        "double" => match crate::params::parse_java_double(text).filter(|d| d.is_finite()) {
            Some(d) => out.push_str(&crate::model::java_double_to_string(d)),
            None => write_json_string(out, text),
        },
        "boolean" => out.push_str(if text.eq_ignore_ascii_case("true") {
            "true"
        } else {
            "false"
        }),
        _ => write_json_string(out, text),
    }
}

/// A JSON string as gson's `JsonWriter` writes it (not HTML-safe: `&`, `<`, `>` and `'` stay).
fn write_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests;
