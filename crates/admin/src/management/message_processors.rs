//! `/message-processors` (MI `MessageProcessorResource`): the list
//! `{count, list: [{name, type, status}]}` (filtered by `?searchKey=`), `?name=` detail (type,
//! file, parameters, message store, status, configuration), and POST
//! `{"name": .., "status": "active|inactive"}`, which switches the processor:
//! `{"Message": "P : is activated"}` / `"P : is deactivated"`, 404 "Message processor does not
//! exist", 400 "Provided state is not valid" / "Missing parameters in payload".

use bytes::Bytes;
use conflux_artifacts::message_processor::{MessageProcessor, MessageProcessorKind};
use http::{Response, StatusCode};
use serde_json::{Map, Value, json};

use super::message_stores::{configuration, file_name};
use super::{Ctx, error, json_response, list_response};

pub(super) fn get(ctx: &Ctx<'_>) -> Response<Bytes> {
    let definitions = &ctx.live.artifacts.message_processors;
    if let Some(wanted) = ctx.query.get("name") {
        return match definitions.iter().find(|p| p.name == wanted) {
            Some(p) => json_response(StatusCode::OK, &detail(ctx, p)),
            None => error(
                StatusCode::NOT_FOUND,
                &format!("Specified message processor ('{wanted}') not found"),
            ),
        };
    }
    let list = definitions
        .iter()
        .filter(|p| ctx.matches_search(&p.name))
        .map(|p| {
            json!({
                "name": p.name,
                "type": processor_type(p),
                "status": status(ctx, &p.name),
            })
        })
        .collect();
    list_response(list)
}

pub(super) fn post(ctx: &Ctx<'_>) -> Response<Bytes> {
    let body = match ctx.json_body() {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    let (Some(name), Some(wanted)) = (
        body.get("name").and_then(Value::as_str),
        body.get("status").and_then(Value::as_str),
    ) else {
        return error(StatusCode::BAD_REQUEST, "Missing parameters in payload");
    };
    let Some(state) = ctx
        .live
        .deployment
        .attached
        .message_processors
        .get(name)
        .cloned()
    else {
        return error(StatusCode::NOT_FOUND, "Message processor does not exist");
    };
    let message = if wanted.eq_ignore_ascii_case("inactive") {
        state.deactivate();
        format!("{name} : is deactivated")
    } else if wanted.eq_ignore_ascii_case("active") {
        state.activate();
        format!("{name} : is activated")
    } else {
        return error(StatusCode::BAD_REQUEST, "Provided state is not valid");
    };
    json_response(StatusCode::OK, &json!({ "Message": message }))
}

/// MI `getMessageProcessorType`.
fn processor_type(p: &MessageProcessor) -> &'static str {
    match p.kind {
        MessageProcessorKind::Forwarding(_) => "Scheduled-message-forwarding-processor",
        MessageProcessorKind::Sampling(_) => "Sampling-processor",
    }
}

/// `active` or `inactive`; a processor that does not run (its store is not deployed) is inactive.
fn status(ctx: &Ctx<'_>, name: &str) -> &'static str {
    match ctx.live.deployment.attached.message_processors.get(name) {
        Some(state) if state.is_active() => "active",
        _ => "inactive",
    }
}

fn detail(ctx: &Ctx<'_>, p: &MessageProcessor) -> Value {
    let parameters: Map<String, Value> = p
        .parameters
        .iter()
        .map(|param| (param.name.clone(), json!(param.value)))
        .collect();
    json!({
        "name": p.name,
        "type": processor_type(p),
        "fileName": file_name(&p.span.file),
        "parameters": parameters,
        "messageStore": p.message_store,
        "status": status(ctx, &p.name),
        "configuration": configuration(&p.source),
    })
}
