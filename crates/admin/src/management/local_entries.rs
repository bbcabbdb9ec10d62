//! `/local-entries` (MI `LocalEntryResource`): list `{name, type}`, `?name=` detail with `value`.
//! MI hides its two server-defined entries and subtracts 2 from `count`; Conflux defines none, so
//! `count` is the list's length.

use bytes::Bytes;
use conflux_artifacts::{LocalEntry, LocalEntryValue};
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{Ctx, error, json_response, list_response};

/// MI's type names (`LocalEntryResource.getLocalEntryType` via Synapse `Entry` types).
fn type_name(entry: &LocalEntry) -> &'static str {
    match entry.value {
        LocalEntryValue::Text(_) => "Inline Text",
        LocalEntryValue::Xml(_) => "Inline XML",
        LocalEntryValue::Src(_) => "Source URL",
    }
}

fn value(entry: &LocalEntry) -> &str {
    match &entry.value {
        LocalEntryValue::Text(t) | LocalEntryValue::Xml(t) | LocalEntryValue::Src(t) => t,
    }
}

pub(super) fn get(ctx: &Ctx<'_>) -> Response<Bytes> {
    let entries = &ctx.live.artifacts.local_entries;
    if let Some(name) = ctx.query.get("name") {
        return match entries.iter().find(|e| e.key == name) {
            Some(e) => json_response(
                StatusCode::OK,
                &json!({
                    "name": e.key,
                    "type": type_name(e),
                    "value": value(e),
                    "description": "",
                    "configuration": e.source,
                }),
            ),
            None => error(
                StatusCode::NOT_FOUND,
                &format!("Reference for {name} could not be resolved"),
            ),
        };
    }
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| ctx.matches_search(&e.key))
        .map(|e| json!({"name": e.key, "type": type_name(e)}))
        .collect();
    list_response(list)
}
