//! `/apis` (MI `ApiResource`): list `{name, url, urlList, tracing}`, `?apiName=` detail with
//! `version`, `stats`, `tracing`, `context`, `host`, `port`, `resources` and `configuration`.

use bytes::Bytes;
use conflux_artifacts::{Api, VersionType};
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{Ctx, empty, json_response, list_response, stats_and_tracing};

/// One URL per pass-through listener, HTTP first (MI `ApiResource.getUrlList`).
fn urls(ctx: &Ctx<'_>, api: &Api) -> Vec<String> {
    let mut path = api.context.clone();
    if api.version_type == Some(VersionType::Url)
        && let Some(v) = &api.version
    {
        path = format!("{}/{v}", path.trim_end_matches('/'));
    }
    [&ctx.facts.http_base, &ctx.facts.https_base]
        .into_iter()
        .flatten()
        .map(|base| format!("{base}{path}"))
        .collect()
}

/// APIs that were compiled and serve traffic, in deployment order.
fn deployed<'a>(ctx: &'a Ctx<'_>) -> impl Iterator<Item = &'a Api> {
    ctx.live
        .artifacts
        .apis
        .iter()
        .filter(|a| ctx.live.deployment.apis.iter().any(|d| d.name == a.name))
}

pub(super) fn get(ctx: &Ctx<'_>) -> Response<Bytes> {
    if let Some(name) = ctx.query.get("apiName") {
        return match deployed(ctx).find(|a| a.name == name) {
            Some(api) => json_response(StatusCode::OK, &detail(ctx, api)),
            None => empty(StatusCode::NOT_FOUND),
        };
    }
    let list: Vec<Value> = deployed(ctx)
        .filter(|a| ctx.matches_search(&a.name))
        .map(|api| {
            let urls = urls(ctx, api);
            let (_, tracing) = stats_and_tracing(Some(&api.source));
            json!({
                "name": api.name,
                "url": urls.first().cloned().unwrap_or_default(),
                "urlList": urls,
                "tracing": tracing,
            })
        })
        .collect();
    list_response(list)
}

fn detail(ctx: &Ctx<'_>, api: &Api) -> Value {
    let urls = urls(ctx, api);
    let (stats, tracing) = stats_and_tracing(Some(&api.source));
    let resources: Vec<Value> = api
        .resources
        .iter()
        .map(|r| {
            let url = r
                .uri_template
                .as_ref()
                .or(r.url_mapping.as_ref())
                .map(|(t, _)| t.clone())
                .unwrap_or_else(|| "N/A".into());
            json!({"methods": r.methods, "url": url})
        })
        .collect();
    let mut value = json!({
        "name": api.name,
        "url": urls.first().cloned().unwrap_or_default(),
        "urlList": urls,
        "version": api.version.clone().unwrap_or_else(|| "N/A".into()),
        "stats": stats,
        "tracing": tracing,
        "context": api.context,
        "port": api.port.map_or(-1, i64::from),
        "resources": resources,
        "configuration": api.source,
    });
    if let (Some(host), Some(map)) = (&api.hostname, value.as_object_mut()) {
        map.insert("host".into(), json!(host));
    }
    value
}
