//! `/tasks` (MI `TaskResource`): the list `{count, list: [{name}]}` (filtered by `?searchKey=`),
//! and `?taskName=` detail with the task's group, implementation class, trigger, properties and
//! configuration, or 404 `{"Error": "Specified task X not found"}`.

use bytes::Bytes;
use conflux_artifacts::task::{Task, Trigger};
use http::{Response, StatusCode};
use serde_json::{Map, Value, json};

use super::message_stores::configuration;
use super::{Ctx, error, json_response, list_response};

pub(super) fn get(ctx: &Ctx<'_>) -> Response<Bytes> {
    let tasks = &ctx.live.artifacts.tasks;
    if let Some(wanted) = ctx.query.get("taskName") {
        return match tasks.iter().find(|t| t.name == wanted) {
            Some(task) => json_response(StatusCode::OK, &detail(task)),
            None => error(
                StatusCode::NOT_FOUND,
                &format!("Specified task {wanted} not found"),
            ),
        };
    }
    let list = tasks
        .iter()
        .filter(|t| ctx.matches_search(&t.name))
        .map(|t| json!({ "name": t.name }))
        .collect();
    list_response(list)
}

/// MI `TaskResource.getTaskAsJson`: the trigger as the `TaskDescription` holds it (`count` -1
/// for forever, the interval in ms), each property's value or inline XML, and the XML.
fn detail(task: &Task) -> Value {
    let mut v = Map::new();
    v.insert("name".into(), json!(task.name));
    // JSONObject.put drops a null value: a task without a group has no taskGroup.
    if let Some(group) = &task.group {
        v.insert("taskGroup".into(), json!(group));
    }
    v.insert("implementation".into(), json!(task.class));
    match &task.trigger {
        Trigger::Cron(expression) => {
            v.insert("cronExpression".into(), json!(expression));
        }
        Trigger::Simple { interval_ms, count } => {
            let count = count.map_or_else(|| "-1".to_string(), |c| c.to_string());
            v.insert("triggerCount".into(), json!(count));
            v.insert("triggerInterval".into(), json!(interval_ms.to_string()));
        }
    }
    v.insert("triggerType".into(), json!(task.trigger.kind()));
    let properties: Map<String, Value> = task
        .properties
        .iter()
        .map(|p| (p.name.clone(), json!(p.value)))
        .collect();
    v.insert("properties".into(), Value::Object(properties));
    v.insert("configuration".into(), json!(configuration(&task.source)));
    Value::Object(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use conflux_artifacts::task::parse_task;

    #[test]
    fn detail_has_mi_field_names_and_string_numbers() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<task xmlns="http://ws.apache.org/ns/synapse" name="T" class="org.apache.synapse.startup.tasks.MessageInjector" group="synapse.simple.quartz">
    <trigger interval="5"/>
    <property xmlns:task="http://www.wso2.org/products/wso2commons/tasks" name="message"><m xmlns="">1</m></property>
    <property name="injectTo" value="sequence"/><property name="sequenceName" value="S"/>
</task>"#;
        let v = detail(&parse_task("tasks/T.xml", xml).unwrap());
        assert_eq!(v["name"], "T");
        assert_eq!(v["taskGroup"], "synapse.simple.quartz");
        assert_eq!(
            v["implementation"],
            "org.apache.synapse.startup.tasks.MessageInjector"
        );
        assert_eq!(v["triggerType"], "simple");
        assert_eq!(v["triggerCount"], "-1");
        assert_eq!(v["triggerInterval"], "5000");
        assert!(v.get("cronExpression").is_none());
        assert_eq!(v["properties"]["sequenceName"], "S");
        assert_eq!(v["properties"]["message"], r#"<m xmlns="">1</m>"#);
        let c = v["configuration"].as_str().unwrap();
        assert!(c.starts_with("<task ") && c.ends_with("</task>"), "{c}");
    }

    #[test]
    fn a_cron_task_has_its_expression_and_no_count() {
        let xml = r#"<task xmlns="http://ws.apache.org/ns/synapse" name="C" class="org.apache.synapse.startup.tasks.MessageInjector"><trigger cron="0/2 * * * * ?"/></task>"#;
        let v = detail(&parse_task("tasks/C.xml", xml).unwrap());
        assert_eq!(v["triggerType"], "cron");
        assert_eq!(v["cronExpression"], "0/2 * * * * ?");
        assert!(v.get("triggerCount").is_none());
        assert!(v.get("taskGroup").is_none());
    }
}
