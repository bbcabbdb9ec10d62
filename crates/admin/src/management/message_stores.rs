//! `/message-stores` (MI `MessageStoreResource`): the list `{count, list: [{name, type, size}]}`
//! (filtered by `?searchKey=`), and `?name=` detail with the file, parameters (passwords
//! masked), size and configuration, or 404 "Specified message store ('X') not found".

use bytes::Bytes;
use conflux_artifacts::message_store::MessageStore as StoreDefinition;
use http::{Response, StatusCode};
use serde_json::{Map, Value, json};

use super::{Ctx, error, json_response, list_response};

/// MI `Constants.PASSWORD_MASKED_VALUE`.
const PASSWORD_MASK: &str = "*****";

pub(super) async fn get(ctx: &Ctx<'_>) -> Response<Bytes> {
    let definitions = &ctx.live.artifacts.message_stores;
    if let Some(wanted) = ctx.query.get("name") {
        let Some(definition) = definitions.iter().find(|s| s.name == wanted) else {
            return error(
                StatusCode::NOT_FOUND,
                &format!("Specified message store ('{wanted}') not found"),
            );
        };
        let size = size_of(ctx, &definition.name).await;
        return json_response(StatusCode::OK, &detail(definition, size));
    }
    let mut list = Vec::new();
    for definition in definitions.iter().filter(|s| ctx.matches_search(&s.name)) {
        list.push(json!({
            "name": definition.name,
            "type": store_type(definition),
            "size": size_of(ctx, &definition.name).await,
        }));
    }
    list_response(list)
}

/// The store's size now; -1 when it is not open or cannot tell (a durable store that is down).
async fn size_of(ctx: &Ctx<'_>, name: &str) -> i64 {
    let Some(store) = ctx
        .live
        .deployment
        .attached
        .message_stores
        .get(name)
        .cloned()
    else {
        return -1;
    };
    match store.size().await {
        Ok(n) => i64::try_from(n).unwrap_or(i64::MAX),
        Err(_) => -1,
    }
}

/// MI `MessageStoreResource.getStoreType` (by the store's class, as MI's `instanceof` checks).
fn store_type(definition: &StoreDefinition) -> &'static str {
    match definition.class.as_str() {
        "org.apache.synapse.message.store.impl.memory.InMemoryStore" => "in-memory-message-store",
        "org.apache.synapse.message.store.impl.jdbc.JDBCMessageStore" => "jdbc-message-store",
        "org.apache.synapse.message.store.impl.rabbitmq.RabbitMQStore" => "rabbitmq-message-store",
        "org.apache.synapse.message.store.impl.jms.JmsStore" => "jms-message-store",
        "org.apache.synapse.message.store.impl.resequencer.ResequenceMessageStore" => {
            "resequence-message-store"
        }
        _ => "custom-message-store",
    }
}

fn detail(definition: &StoreDefinition, size: i64) -> Value {
    let properties: Map<String, Value> = definition
        .parameters
        .iter()
        .map(|p| {
            let value = if p.name.contains("password") {
                PASSWORD_MASK.to_string()
            } else {
                p.value.clone()
            };
            (p.name.clone(), json!(value))
        })
        .collect();
    json!({
        "name": definition.name,
        "file": file_name(&definition.span.file),
        "properties": properties,
        "size": size,
        "configuration": configuration(&definition.source),
    })
}

/// The artifact's file name (MI `getFileName`).
pub(super) fn file_name(label: &str) -> &str {
    label.rsplit('/').next().unwrap_or(label)
}

/// The artifact's XML without the XML declaration.
pub(super) fn configuration(source: &str) -> &str {
    let trimmed = source.trim_start_matches('\u{feff}').trim_start();
    match trimmed.strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map_or(trimmed, |(_, r)| r.trim_start()),
        None => trimmed,
    }
    .trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use conflux_artifacts::message_store::parse_message_store;

    #[test]
    fn detail_masks_passwords_and_names_the_file() {
        let xml = r#"<?xml version="1.0"?>
<messageStore xmlns="http://ws.apache.org/ns/synapse" name="S" class="org.apache.synapse.message.store.impl.memory.InMemoryStore"><parameter name="store.password">x</parameter><parameter name="a">b</parameter></messageStore>"#;
        let s = parse_message_store("message-stores/S.xml", xml).unwrap();
        let v = detail(&s, 3);
        assert_eq!(v["file"], "S.xml");
        assert_eq!(v["size"], 3);
        assert_eq!(v["properties"]["store.password"], PASSWORD_MASK);
        assert_eq!(v["properties"]["a"], "b");
        assert!(
            v["configuration"]
                .as_str()
                .unwrap()
                .starts_with("<messageStore ")
        );
        assert_eq!(store_type(&s), "in-memory-message-store");
    }
}
