//! `/applications`: carbon applications (MI `CarbonAppResource`). Conflux does not deploy `.car`
//! files yet, so the answer is MI's shape with empty lists, and any `carbonAppName` is unknown.

use bytes::Bytes;
use http::{Response, StatusCode};
use serde_json::json;

use super::{Ctx, empty, json_response};

pub(super) fn get(ctx: &Ctx<'_>) -> Response<Bytes> {
    if ctx.query.get("carbonAppName").is_some() {
        return empty(StatusCode::NOT_FOUND);
    }
    json_response(
        StatusCode::OK,
        &json!({
            "totalCount": 0,
            "activeCount": 0,
            "activeList": [],
            "faultyCount": 0,
            "faultyList": [],
        }),
    )
}
