//! `/data-sources` (MI `DataSourceResource`): the named data sources (`[[datasource]]`, CApp and
//! project `<datasource>`s) as the list `{count, list: [{name, type}]}` (with `searchKey`), and
//! `?name=` detail `{name, description, type, configuration, driverClass, url, userName,
//! configurationParameters: {isDefaultReadOnly, removeAbandoned, validationQuery,
//! validationQueryTimeout, maxActive, maxIdle, maxWait, maxAge}}`; an unknown name is 404 with
//! `{"Error": "datasource NAME does not exist"}`. The URL has its password masked and the
//! definition its `<password>` text. Conflux adds `connections` (open, idle, max) of the pool.
//!
//! Tomcat JDBC defaults stand in for what the pool has no setting for (`maxIdle` = `maxActive`,
//! `removeAbandoned` false, `validationQueryTimeout` -1); `isDefaultAutoCommit`, which MI
//! leaves out when unset, is left out.

use bytes::Bytes;
use conflux_dataservices::service::NamedDataSource;
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{Ctx, error, json_response, list_response};

/// Tomcat's `validationQueryTimeout` default (no timeout).
const TOMCAT_VALIDATION_QUERY_TIMEOUT: i64 = -1;

pub(super) fn get(ctx: &Ctx<'_>) -> Response<Bytes> {
    let sources = &ctx.live.deployment.attached.data_sources;
    if let Some(name) = ctx.query.get("name") {
        return match sources.get(name) {
            Some(source) => json_response(StatusCode::OK, &detail(source)),
            None => error(
                StatusCode::NOT_FOUND,
                &format!("datasource {name} does not exist"),
            ),
        };
    }
    let list: Vec<Value> = sources
        .values()
        .filter(|s| ctx.matches_search(&s.name))
        .map(|s| json!({"name": s.name, "type": s.kind}))
        .collect();
    list_response(list)
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn detail(source: &NamedDataSource) -> Value {
    let pool = &source.config.pool;
    let stats = source.pool.stats();
    let mut parameters = json!({
        "isDefaultReadOnly": pool.read_only,
        "removeAbandoned": false,
        "validationQueryTimeout": TOMCAT_VALIDATION_QUERY_TIMEOUT,
        "maxActive": pool.max_active,
        "maxIdle": pool.max_active,
        "maxWait": millis(pool.max_wait),
        "maxAge": pool.max_age.map_or(0, millis),
    });
    if let (Some(query), Some(map)) = (&pool.validation_query, parameters.as_object_mut()) {
        map.insert("validationQuery".into(), Value::String(query.clone()));
    }
    let mut detail = json!({
        "name": source.name,
        "description": source.description,
        "type": source.kind,
        "configuration": source.definition,
        "url": source.url,
        "configurationParameters": parameters,
        "connections": {"open": stats.open, "idle": stats.idle, "max": stats.max},
    });
    if let Some(map) = detail.as_object_mut() {
        if let Some(driver) = &source.driver_class {
            map.insert("driverClass".into(), Value::String(driver.clone()));
        }
        if let Some(user) = &source.username {
            map.insert("userName".into(), Value::String(user.clone()));
        }
    }
    detail
}
