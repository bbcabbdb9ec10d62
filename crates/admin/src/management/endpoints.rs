//! `/endpoints` (MI `EndpointResource`, Synapse `*Endpoint.createJsonRepresentation`): list
//! `{name, type, isActive}`, `?endpointName=` detail (Synapse's JSON plus `configuration`,
//! `isActive`, `tracing`), and `POST {"name","status"}` switching an endpoint on or off.

use bytes::Bytes;
use conflux_artifacts::{Endpoint, EndpointKind};
use conflux_transport::endpoint_state::EndpointStatus;
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{Ctx, empty, error, json_response, list_response, stats_and_tracing};

/// Named endpoints that were compiled, with their state index: the endpoint artifacts, then the
/// `<name>_INTERNAL_ENDPOINT_REFERENCE` endpoints of HTTP connector connections (MI's
/// LocalEntryDeployer adds them to the configuration's defined endpoints, which this lists).
fn deployed<'a>(ctx: &'a Ctx<'_>) -> impl Iterator<Item = (&'a Endpoint, usize)> {
    let connections = ctx
        .live
        .artifacts
        .local_entries
        .iter()
        .filter_map(|l| l.http_connection.as_ref().map(|c| &c.endpoint));
    ctx.live
        .artifacts
        .endpoints
        .iter()
        .chain(connections)
        .filter_map(|e| {
            let name = e.name.as_deref()?;
            let compiled = ctx.live.deployment.named_endpoints.get(name)?;
            Some((e, compiled.id))
        })
}

fn name(e: &Endpoint) -> &str {
    e.name.as_deref().unwrap_or_default()
}

/// The list's `type`: the local name of the endpoint's child element.
fn element_name(e: &Endpoint) -> &'static str {
    match e.kind {
        EndpointKind::Address { .. } => "address",
        EndpointKind::Http { .. } => "http",
        EndpointKind::Default { .. } => "default",
        EndpointKind::Failover { .. } => "failover",
        EndpointKind::Loadbalance { .. } => "loadbalance",
        EndpointKind::Template { .. } => "template",
        EndpointKind::Wsdl { .. } => "wsdl",
        EndpointKind::RecipientList { .. } => "recipientlist",
    }
}

fn is_active(ctx: &Ctx<'_>, id: usize) -> bool {
    ctx.live.sender.endpoint_status(id) == Some(EndpointStatus::Active)
}

pub(super) fn get(ctx: &Ctx<'_>) -> Response<Bytes> {
    if let Some(wanted) = ctx.query.get("endpointName") {
        return match deployed(ctx).find(|(e, _)| name(e) == wanted) {
            Some((e, id)) => json_response(StatusCode::OK, &detail(ctx, e, id)),
            None => empty(StatusCode::NOT_FOUND),
        };
    }
    let list: Vec<Value> = deployed(ctx)
        .filter(|(e, _)| ctx.matches_search(name(e)))
        .map(|(e, id)| json!({"name": name(e), "type": element_name(e), "isActive": is_active(ctx, id)}))
        .collect();
    list_response(list)
}

fn detail(ctx: &Ctx<'_>, e: &Endpoint, id: usize) -> Value {
    let configuration = ctx.artifact_file(&e.span.file);
    let (stats, tracing) = stats_and_tracing(configuration.as_deref());
    let suspend = &e.suspend_on_failure;
    let advanced = json!({
        "suspendState": {
            "errorCodes": suspend.error_codes,
            "maxDuration": suspend.maximum_duration_ms.map_or(i64::MAX, |d| i64::try_from(d).unwrap_or(i64::MAX)),
            "initialDuration": suspend.initial_duration_ms,
        },
        "timeoutState": {
            "errorCodes": e.mark_for_suspension.error_codes,
            // Sic: Synapse spells the key this way.
            "reties": e.mark_for_suspension.retries_before_suspension,
        },
    });
    let mut value = json!({
        "name": name(e),
        "isActive": is_active(ctx, id),
        "tracing": tracing,
        "stats": stats,
        "advanced": advanced,
    });
    if let Some(map) = value.as_object_mut() {
        match &e.kind {
            EndpointKind::Address { uri, .. } => {
                map.insert("type".into(), json!("Address Endpoint"));
                map.insert("address".into(), json!(uri));
            }
            EndpointKind::Http {
                uri_template,
                method,
            } => {
                map.insert("type".into(), json!("HTTP Endpoint"));
                map.insert("uriTemplate".into(), json!(uri_template));
                map.insert(
                    "method".into(),
                    json!(method.clone().unwrap_or_default().to_lowercase()),
                );
            }
            EndpointKind::Default { .. } => {
                map.insert("type".into(), json!("Default Endpoint"));
            }
            // FailoverEndpoint / LoadbalanceEndpoint.createJsonRepresentation.
            EndpointKind::Failover { children, .. } => {
                map.insert("type".into(), json!("Failover Endpoint"));
                map.insert("children".into(), children_json(children));
            }
            EndpointKind::Loadbalance {
                children,
                algorithm,
                failover,
                build_message,
                ..
            } => {
                map.insert("type".into(), json!("Load Balance Endpoint"));
                // LoadbalanceAlgorithm.getName: RoundRobin says "RoundRobin", WeightedRoundRobin
                // its class name.
                let algorithm = match algorithm {
                    conflux_artifacts::LoadbalanceAlgorithm::RoundRobin => "RoundRobin",
                    conflux_artifacts::LoadbalanceAlgorithm::WeightedRoundRobin => {
                        "org.apache.synapse.endpoints.algorithms.WeightedRoundRobin"
                    }
                };
                map.insert("algorithm".into(), json!(algorithm));
                map.insert("buildMessage".into(), json!(build_message.unwrap_or(false)));
                map.insert("isFailover".into(), json!(failover));
                map.insert("children".into(), children_json(children));
            }
            // RecipientListEndpoint.createJsonRepresentation.
            EndpointKind::RecipientList { recipients } => {
                map.insert("type".into(), json!("Recipient List Endpoint"));
                let (pool, children) = match recipients {
                    conflux_artifacts::Recipients::Endpoints(children) => (
                        conflux_artifacts::endpoint::DEFAULT_RECIPIENT_POOL,
                        children_json(children),
                    ),
                    conflux_artifacts::Recipients::Dynamic { max_cache, .. } => {
                        (*max_cache, Value::Array(Vec::new()))
                    }
                };
                map.insert("poolSize".into(), json!(pool));
                map.insert("children".into(), children);
            }
            EndpointKind::Template { template, .. } => {
                map.insert("type".into(), json!("Template Endpoint"));
                map.insert("template".into(), json!(template));
            }
            // WSDLEndpoint.createJsonRepresentation.
            EndpointKind::Wsdl {
                uri, service, port, ..
            } => {
                map.insert("type".into(), json!("WSDL Endpoint"));
                map.insert("wsdlUri".into(), json!(uri));
                map.insert("serviceName".into(), json!(service));
                map.insert("portName".into(), json!(port));
            }
        }
        if let Some(c) = configuration {
            map.insert("configuration".into(), json!(c));
        }
    }
    value
}

/// `AbstractEndpoint.getEndpointChildrenAsJson`: each child's name and type.
fn children_json(children: &[conflux_artifacts::EndpointRef]) -> Value {
    use conflux_artifacts::EndpointRef;
    let list: Vec<Value> = children
        .iter()
        .map(|c| match c {
            EndpointRef::Key(key, _) => json!({"name": key, "type": "Indirect Endpoint"}),
            EndpointRef::Expression(_) => {
                json!({"name": "anonymous", "type": "Resolving Endpoint"})
            }
            EndpointRef::Inline(e) => json!({
                "name": e.name.as_deref().unwrap_or("anonymous"),
                "type": element_name(e),
            }),
        })
        .collect();
    Value::Array(list)
}

/// MI `EndpointResource.changeEndpointStatus`.
pub(super) fn post(ctx: &Ctx<'_>) -> Response<Bytes> {
    let body = match ctx.json_body() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let wanted = body.get("name").and_then(Value::as_str);
    let status = body.get("status").and_then(Value::as_str);
    let (Some(wanted), Some(status)) = (wanted, status) else {
        if body.contains_key("trace") {
            return error(
                StatusCode::BAD_REQUEST,
                "Tracing of an endpoint is not supported by Conflux yet",
            );
        }
        return error(StatusCode::BAD_REQUEST, "Missing parameters in payload");
    };
    let Some((_, id)) = deployed(ctx).find(|(e, _)| name(e) == wanted) else {
        return error(StatusCode::NOT_FOUND, "Endpoint does not exist");
    };
    let (on, word) = match status {
        "active" => (true, "On"),
        "inactive" => (false, "Off"),
        _ => return error(StatusCode::BAD_REQUEST, "Provided state is not valid"),
    };
    ctx.live.sender.switch_endpoint(id, on);
    tracing::info!(target: "conflux::audit", "endpoint {wanted} switched {word} through the Management API");
    json_response(
        StatusCode::OK,
        &json!({"Message": format!("{wanted} is switched {word}")}),
    )
}
