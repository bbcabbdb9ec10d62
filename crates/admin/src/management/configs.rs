//! `/configs` (MI `ConfigsResource`, admin only): the one configuration MI exposes, `correlation`
//! (correlation logs). Conflux has no correlation logging yet: it reports `enabled: false`,
//! accepts switching it off, and refuses switching it on with a 400 that says so.

use bytes::Bytes;
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{Ctx, error, json_response};

const CORRELATION: &str = "correlation";

pub(super) fn get(ctx: &Ctx<'_>) -> Response<Bytes> {
    match ctx.query.get("configName") {
        Some(CORRELATION) => json_response(
            StatusCode::OK,
            &json!({"configName": CORRELATION, "configs": {"enabled": false}}),
        ),
        Some(other) => error(
            StatusCode::BAD_REQUEST,
            &format!(
                " Error : configName {other} is not supported; the supported one is {CORRELATION}"
            ),
        ),
        None => error(StatusCode::BAD_REQUEST, " Error : configName is missing"),
    }
}

pub(super) fn put(ctx: &Ctx<'_>) -> Response<Bytes> {
    let body = match ctx.json_body() {
        Ok(b) => b,
        Err(r) => return r,
    };
    if body.get("configName").and_then(Value::as_str) != Some(CORRELATION) {
        return error(
            StatusCode::BAD_REQUEST,
            &format!(" Error : configName must be {CORRELATION}"),
        );
    }
    // MI: any value other than "true" means disabled.
    let enable = match body.get("configs").and_then(|c| c.get("enabled")) {
        Some(Value::String(s)) => s == "true",
        Some(Value::Bool(b)) => *b,
        _ => false,
    };
    if enable {
        return error(
            StatusCode::BAD_REQUEST,
            " Error : correlation logs are not supported by Conflux yet",
        );
    }
    json_response(
        StatusCode::OK,
        &json!({"message": "Successfully Updated Correlation Logs Status"}),
    )
}
