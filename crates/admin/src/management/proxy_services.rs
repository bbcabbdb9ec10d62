//! `/proxy-services` (MI `ProxyServiceResource`): list `{name, wsdl1_1, wsdl2_0}`,
//! `?proxyServiceName=` detail with `stats`, `tracing`, `eprs`, `isRunning`, `configuration`, and
//! `POST {"name","status":"active"|"inactive"}` to start or stop a proxy service.

use bytes::Bytes;
use conflux_artifacts::ProxyService;
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{Ctx, empty, error, json_response, list_response, stats_and_tracing};

/// The index of a deployed proxy in `deployment.proxies` (routes are named `proxy:NAME`).
fn index_of(ctx: &Ctx<'_>, name: &str) -> Option<usize> {
    ctx.live
        .deployment
        .proxies
        .iter()
        .position(|r| r.artifact.strip_prefix("proxy:") == Some(name))
}

fn deployed<'a>(ctx: &'a Ctx<'_>) -> impl Iterator<Item = &'a ProxyService> {
    ctx.live
        .artifacts
        .proxies
        .iter()
        .filter(|p| index_of(ctx, &p.name).is_some())
}

fn wsdl(ctx: &Ctx<'_>, name: &str, suffix: &str) -> String {
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
    if let Some(name) = ctx.query.get("proxyServiceName") {
        return match deployed(ctx).find(|p| p.name == name) {
            Some(p) => json_response(StatusCode::OK, &detail(ctx, p)),
            None => empty(StatusCode::NOT_FOUND),
        };
    }
    let list: Vec<Value> = deployed(ctx)
        .filter(|p| ctx.matches_search(&p.name))
        .map(|p| {
            json!({
                "name": p.name,
                "wsdl1_1": wsdl(ctx, &p.name, "wsdl"),
                "wsdl2_0": wsdl(ctx, &p.name, "wsdl2"),
            })
        })
        .collect();
    list_response(list)
}

fn detail(ctx: &Ctx<'_>, p: &ProxyService) -> Value {
    let (stats, tracing) = stats_and_tracing(Some(&p.source));
    let mut eprs = Vec::new();
    for (scheme, base) in [
        ("http", &ctx.facts.http_base),
        ("https", &ctx.facts.https_base),
    ] {
        if let Some(base) = base
            && p.transports.iter().any(|t| t == scheme)
        {
            eprs.push(format!("{base}/services/{}", p.name));
        }
    }
    let running = index_of(ctx, &p.name).is_some_and(|i| ctx.live.proxy_running.is_running(i));
    json!({
        "name": p.name,
        "wsdl1_1": wsdl(ctx, &p.name, "wsdl"),
        "wsdl2_0": wsdl(ctx, &p.name, "wsdl2"),
        "stats": stats,
        "tracing": tracing,
        "eprs": eprs,
        "isRunning": running,
        "configuration": p.source,
    })
}

/// MI `ProxyServiceResource.changeProxyState`: messages and statuses as MI answers them.
pub(super) fn post(ctx: &Ctx<'_>) -> Response<Bytes> {
    let body = match ctx.json_body() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let name = body.get("name").and_then(Value::as_str);
    let status = body.get("status").and_then(Value::as_str);
    let (Some(name), Some(status)) = (name, status) else {
        if body.contains_key("trace") {
            return error(
                StatusCode::BAD_REQUEST,
                "Tracing of a proxy service is not supported by Conflux yet",
            );
        }
        return error(StatusCode::BAD_REQUEST, "Missing parameters in payload");
    };
    let Some(index) = index_of(ctx, name) else {
        return error(StatusCode::NOT_FOUND, "Proxy service could not be found");
    };
    let (on, verb) = match status {
        "active" => (true, "started"),
        "inactive" => (false, "stopped"),
        _ => return error(StatusCode::BAD_REQUEST, "Provided state is not valid"),
    };
    ctx.live.proxy_running.set_running(index, on);
    tracing::info!(target: "conflux::audit", "proxy service {name} {verb} through the Management API");
    json_response(
        StatusCode::OK,
        &json!({"Message": format!("Proxy service {name} {verb} successfully")}),
    )
}
