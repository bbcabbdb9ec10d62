//! Synapse expressions (`${...}`, MI 4.4): compilation, then evaluation in object and string
//! context over a message whose JSON payload is the rest of the input. Input: the expression on
//! the first line, the payload after it (a fixed document when the rest is not JSON).

#![no_main]

use conflux_mediation::synapse_expr::{ExprContext, ExprValue, PropertyScope, SynapseExpression};
use libfuzzer_sys::fuzz_target;

const PAYLOAD: &str = r#"{"name":"apple","qty":2,"price":1.5,"items":[1,2,3],"nested":{"a":{"b":"c"}},"flag":true,"none":null}"#;

struct Message {
    payload: Option<serde_json::Value>,
}

impl ExprContext for Message {
    fn payload_json(&self) -> Result<serde_json::Value, String> {
        self.payload
            .clone()
            .ok_or_else(|| "Payload is empty".to_owned())
    }
    fn variable(&self, name: &str) -> Option<ExprValue> {
        match name {
            "num" => Some(ExprValue::Int(42)),
            "text" => Some(ExprValue::String("hello".to_owned())),
            "json" => Some(ExprValue::Json(serde_json::json!({"k": [1, "two", null]}))),
            "xml" => Some(ExprValue::Xml("<a><b>1</b></a>".to_owned())),
            _ => None,
        }
    }
    fn header(&self, name: &str) -> Option<String> {
        name.eq_ignore_ascii_case("content-type")
            .then(|| "application/json".to_owned())
    }
    fn property(&self, _scope: PropertyScope, name: &str) -> Option<String> {
        (name == "p").then(|| "value".to_owned())
    }
    fn query_param(&self, name: &str) -> Option<String> {
        (name == "q").then(|| "1".to_owned())
    }
    fn path_param(&self, name: &str) -> Option<String> {
        (name == "id").then(|| "7".to_owned())
    }
    fn function_param(&self, _name: &str) -> Option<String> {
        None
    }
    fn config(&self, _name: &str) -> Option<String> {
        None
    }
    fn xpath(
        &self,
        _expr: &str,
        _variable: Option<&str>,
        _string_mode: bool,
    ) -> Result<ExprValue, String> {
        Ok(ExprValue::Null)
    }
    fn registry_text(&self, _key: &str) -> Option<String> {
        None
    }
    fn registry_property(&self, _key: &str, _name: &str) -> Option<String> {
        None
    }
    fn now_millis(&self) -> i64 {
        1_700_000_000_000
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (expression, rest) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(compiled) = SynapseExpression::compile(expression) else {
        return;
    };
    let payload = if rest.is_empty() {
        Some(serde_json::from_str(PAYLOAD).expect("the fixed payload parses"))
    } else {
        serde_json::from_str(rest).ok()
    };
    let message = Message { payload };
    let _ = compiled.evaluate(&message);
    let _ = compiled.evaluate_in_string_context(&message);
    let _ = compiled.string_value_with_warning(&message);
});
