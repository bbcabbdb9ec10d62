//! `/data-services` (MI `DataServiceResource`): the list `{count, list: [{name, wsdl1_1,
//! wsdl2_0}]}` (with `searchKey`), and `?dataServiceName=` detail with the queries, resources,
//! operations and data sources of the `.dbs` (MI `models/dataServices/*`: `DataServiceInfo`,
//! `QuerySummary`, `ResourceInfo`, `OperationInfo`, `DataSourceInfo`). Password properties are
//! left out of `dataSourceProperties`.

use bytes::Bytes;
use conflux_dataservices::{ConfigKind, DataService};
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{Ctx, empty, json_response, list_response};

fn url(ctx: &Ctx<'_>, name: &str, suffix: &str) -> String {
    let base = ctx
        .facts
        .http_base
        .as_ref()
        .or(ctx.facts.https_base.as_ref())
        .cloned()
        .unwrap_or_default();
    format!("{base}/services/{name}?{suffix}")
}

pub(super) fn get(ctx: &Ctx<'_>) -> Response<Bytes> {
    let services = &ctx.live.deployment.attached.data_services;
    if let Some(name) = ctx.query.get("dataServiceName") {
        return match services.get(name) {
            Some(s) => json_response(StatusCode::OK, &detail(ctx, s.model())),
            None => empty(StatusCode::NOT_FOUND),
        };
    }
    let list: Vec<Value> = services
        .keys()
        .filter(|name| ctx.matches_search(name))
        .map(|name| {
            json!({
                "name": name,
                "wsdl1_1": url(ctx, name, "wsdl"),
                "wsdl2_0": url(ctx, name, "wsdl2"),
            })
        })
        .collect();
    list_response(list)
}

fn query_params(ds: &DataService, href: Option<&str>) -> Vec<Value> {
    href.and_then(|h| ds.query(h))
        .map(|q| q.params.iter().map(|p| json!({"name": p.name})).collect())
        .unwrap_or_default()
}

fn detail(ctx: &Ctx<'_>, ds: &DataService) -> Value {
    let queries: Vec<Value> = ds
        .queries
        .iter()
        .map(|q| json!({"id": q.id, "dataSourceId": q.config_id, "namespace": q.input_namespace}))
        .collect();
    let resources: Vec<Value> = ds
        .resources
        .iter()
        .map(|r| {
            let href = r.call_query.as_ref().map(|c| c.href.as_str());
            json!({
                "resourcePath": r.path,
                "resourceMethod": r.method,
                "resourceQuery": href,
                "queryParams": query_params(ds, href),
            })
        })
        .collect();
    let operations: Vec<Value> = ds
        .operations
        .iter()
        .map(|o| {
            let href = o.call_query.as_ref().map(|c| c.href.as_str());
            json!({
                "operationName": o.name,
                "queryName": href,
                "queryParams": query_params(ds, href),
            })
        })
        .collect();
    let data_sources: Vec<Value> = ds
        .configs
        .iter()
        .map(|c| {
            let kind = match &c.kind {
                ConfigKind::CarbonDataSource { .. } => "CARBON_DATASOURCE",
                _ => "RDBMS",
            };
            let properties: serde_json::Map<String, Value> = c
                .properties
                .iter()
                .filter(|p| !p.name.to_ascii_lowercase().contains("password"))
                .map(|p| (p.name.clone(), Value::String(p.value.clone())))
                .collect();
            json!({
                "dataSourceId": c.id,
                "dataSourceType": kind,
                "dataSourceProperties": properties,
            })
        })
        .collect();
    json!({
        "serviceName": ds.name,
        "serviceDescription": ds.description,
        "serviceGroupName": ds.service_group,
        "wsdl1_1": url(ctx, &ds.name, "wsdl"),
        "wsdl2_0": url(ctx, &ds.name, "wsdl2"),
        "swagger_url": url(ctx, &ds.name, "swagger.json"),
        "queries": queries,
        "resources": resources,
        "operations": operations,
        "dataSources": data_sources,
    })
}
