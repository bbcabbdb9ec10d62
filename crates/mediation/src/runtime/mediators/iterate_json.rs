//! The parts of an `<iterate preservePayload="true">` over a JSON payload, as SYN
//! `mediators/eip/splitter/IterateMediator.java` (`mediate`, JSON branch, and the JSON
//! `getIteratedMessage`) and `util/xpath/SynapseJsonPath.java` (`replace`) build them:
//!
//! - when `attachPath` and `expression` are different paths, the matched array is first set to
//!   `[]` in a copy of the payload (the iterated items are taken out, as the XML form detaches
//!   them); with the same path it stays, since each part replaces it anyway;
//! - each part is that payload with the attach path set to the item (Jayway `set`: every match);
//!   `$` (the default `attachPath` for a JSON expression, IterateMediatorFactory
//!   `DEFAULT_JSON_ATTACHPATH`) makes the item the whole part;
//! - an attach path that is not in the payload fails the message with MI's "Unable to get the
//!   attach path specified by the expression ..."; one that reads JSON `null` leaves the part as
//!   the payload (`replace` only sets a non-null match).

use serde_json::Value as Json;

use crate::json::JsonEval;

/// One payload per item, in order.
pub fn preserved_parts(
    expression: &JsonEval,
    attach: &JsonEval,
    payload: &Json,
    items: Vec<Json>,
) -> Result<Vec<Json>, String> {
    let mut base = payload.clone();
    if expression.path_text() != attach.path_text() {
        expression
            .replace(&mut base, Json::Array(Vec::new()))
            .map_err(|e| e.to_string())?;
    }
    let mut parts = Vec::with_capacity(items.len());
    for item in items {
        if attach.is_whole() {
            parts.push(item);
            continue;
        }
        let part = match attach.evaluate(&base) {
            None if attach.is_definite() => {
                return Err(format!(
                    "Error in attaching the splitted elements :: Unable to get the attach path specified by the expression {}",
                    attach.text()
                ));
            }
            None | Some(Json::Null) => base.clone(),
            Some(_) => {
                let mut part = base.clone();
                attach.replace(&mut part, item).map_err(|e| e.to_string())?;
                part
            }
        };
        parts.push(part);
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(text: &str) -> JsonEval {
        JsonEval::compile(text).unwrap()
    }

    fn students() -> Json {
        json!({"students": {"studentlist": [{"Name": "Alice"}, {"Name": "Bob"}]}, "placeHolder": {}})
    }

    fn split(expression: &str, attach: &str, payload: &Json) -> Result<Vec<Json>, String> {
        let expression = path(expression);
        let items = match expression.evaluate(payload) {
            Some(Json::Array(items)) => items,
            other => panic!("{other:?}"),
        };
        preserved_parts(&expression, &path(attach), payload, items)
    }

    // tests-mediator-2 TestIterateMediatorJsonwithAttachPath: the same path for both.
    #[test]
    fn the_same_path_puts_each_item_in_place_of_the_array() {
        let parts = split(
            "json-eval($.students.studentlist)",
            "json-eval($.students.studentlist)",
            &students(),
        )
        .unwrap();
        assert_eq!(
            parts,
            [
                json!({"students": {"studentlist": {"Name": "Alice"}}, "placeHolder": {}}),
                json!({"students": {"studentlist": {"Name": "Bob"}}, "placeHolder": {}}),
            ]
        );
    }

    // TestIterateMediatorJsonWithDifferentAttachPath: the array is emptied, the item goes to
    // the attach path.
    #[test]
    fn a_different_path_empties_the_array_and_sets_the_attach_path() {
        let parts = split(
            "json-eval($.students.studentlist)",
            "json-eval($.placeHolder)",
            &students(),
        )
        .unwrap();
        assert_eq!(
            parts[1],
            json!({"students": {"studentlist": []}, "placeHolder": {"Name": "Bob"}})
        );
    }

    // TestIterateMediatorJsonwithRootAttachPath / the default `$`.
    #[test]
    fn the_root_attach_path_makes_the_item_the_part() {
        let parts = split("json-eval($.students.studentlist)", "$", &students()).unwrap();
        assert_eq!(parts, [json!({"Name": "Alice"}), json!({"Name": "Bob"})]);
    }

    #[test]
    fn a_missing_attach_path_fails_and_a_null_one_keeps_the_payload() {
        let err = split(
            "json-eval($.students.studentlist)",
            "json-eval($.nowhere)",
            &students(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "Error in attaching the splitted elements :: Unable to get the attach path specified by the expression json-eval($.nowhere)"
        );
        let payload = json!({"list": [1, 2], "slot": null});
        let parts = split("json-eval($.list)", "json-eval($.slot)", &payload).unwrap();
        assert_eq!(parts, vec![json!({"list": [], "slot": null}); 2]);
    }
}
