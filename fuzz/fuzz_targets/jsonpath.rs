//! JSONPath as `json-eval(...)` and bare `$.` paths (`JsonEval`): compilation, then evaluation and
//! MI's string form against a JSON document. Input: the path on the first line, JSON after it (a
//! fixed order document when the rest is not JSON).

#![no_main]

use conflux_mediation::json::JsonEval;
use libfuzzer_sys::fuzz_target;

const ORDER: &str = r#"{"order":{"id":7,"items":[{"name":"apple","qty":2,"price":1.5},{"name":"pear","qty":5,"price":0.25,"tags":["x",null,true]}],"note":null,"big":1e308,"neg":-0.0}}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (path, rest) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(eval) = JsonEval::compile(path) else {
        return;
    };
    let root = serde_json::from_str(rest)
        .unwrap_or_else(|_| serde_json::from_str(ORDER).expect("the fixed document parses"));
    let _ = eval.evaluate(&root);
    let _ = eval.string_value(&root);
    let _ = eval.is_definite();
});
