//! The enrich mediator's edits of a JSON payload through a JSONPath target, as Synapse's
//! `mediators/elementary/Target.java` does them with Jayway: `replace` is `JsonPath.set`
//! (every match), `child` appends to an array or merges an object into an object
//! (`getNewJSONString` + `EIPUtils.mergeJsonObjects`), `sibling` is refused ("Action sibling is
//! not supported. Please use child action instead"), and `remove` is `DocumentContext.delete`
//! (`removeJSONFromString`; `$` empties the body).

use super::eval::JsonEval;
use super::{JsonError, type_name};
use serde_json::Value;
use serde_json_path::PathElement;
use std::cmp::Reverse;

/// One step of a match's location, owned so the tree can be edited afterwards.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    Name(String),
    Index(usize),
}

fn slot<'a>(root: &'a mut Value, location: &[Segment]) -> Option<&'a mut Value> {
    location
        .iter()
        .try_fold(root, |value, segment| match (value, segment) {
            (Value::Object(members), Segment::Name(name)) => members.get_mut(name),
            (Value::Array(items), Segment::Index(index)) => items.get_mut(*index),
            _ => None,
        })
}

impl JsonEval {
    /// Where the matches are; for a last `['a','b']` (Jayway merge case) each present member.
    fn locations(&self, root: &Value) -> Vec<Vec<Segment>> {
        let mut locations = Vec::new();
        for node in self.inner.path.query_located(root).iter() {
            let location: Vec<Segment> = node
                .location()
                .iter()
                .map(|element| match element {
                    PathElement::Name(name) => Segment::Name(name.to_string()),
                    PathElement::Index(index) => Segment::Index(*index),
                })
                .collect();
            match (&self.inner.translated.merge, node.node()) {
                (None, _) => locations.push(location),
                (Some(names), Value::Object(members)) => {
                    for name in names.iter().filter(|name| members.contains_key(*name)) {
                        let mut member = location.clone();
                        member.push(Segment::Name(name.clone()));
                        locations.push(member);
                    }
                }
                (Some(_), _) => {}
            }
        }
        locations
    }

    fn unsupported_with_function(&self, action: &'static str) -> Result<(), JsonError> {
        match self.inner.translated.function {
            Some(_) => Err(JsonError::Unsupported {
                path: self.text().to_string(),
                action,
                reason: "a path ending in a function selects a computed value, not a place in the payload",
            }),
            None => Ok(()),
        }
    }

    /// Enrich `action="replace"`: every match becomes `value` (Jayway `set`); where nothing
    /// matches (e.g. a missing key) nothing changes, as with Jayway. `$` replaces the whole payload.
    pub fn replace(&self, root: &mut Value, value: Value) -> Result<(), JsonError> {
        self.unsupported_with_function("replace")?;
        if self.is_whole() {
            *root = value;
            return Ok(());
        }
        // Jayway `set` changes nothing where nothing matches (PathToken.handleObjectProperty
        // returns for a missing leaf), so MI's payload stays as it was.
        let locations = self.locations(root);
        for location in &locations {
            if let Some(target) = slot(root, location) {
                *target = value.clone();
            }
        }
        Ok(())
    }

    /// Enrich `action="child"`: `value` is appended to each matched array, or (an object) merged
    /// into each matched object, later keys replacing earlier ones (EIPUtils.mergeJsonObjects).
    /// Nothing changes when any match cannot take it.
    pub fn add_child(&self, root: &mut Value, value: Value) -> Result<(), JsonError> {
        self.unsupported_with_function("child")?;
        let locations = if self.is_whole() {
            vec![Vec::new()]
        } else {
            self.locations(root)
        };
        if locations.is_empty() {
            return Err(JsonError::NoMatch {
                path: self.text().to_string(),
            });
        }
        for location in &locations {
            let target = slot(root, location).map(|v| &*v);
            match (target, &value) {
                (Some(Value::Array(_)), _)
                | (Some(Value::Object(_)), Value::Object(_))
                | (None, _) => {}
                (Some(Value::Object(_)), other) => {
                    return Err(JsonError::NotContainer {
                        path: self.text().to_string(),
                        found: match other {
                            Value::Array(_) => "an object and the new value an array",
                            _ => "an object and the new value not an object",
                        },
                    });
                }
                (Some(other), _) => {
                    return Err(JsonError::NotContainer {
                        path: self.text().to_string(),
                        found: type_name(other),
                    });
                }
            }
        }
        for location in &locations {
            match (slot(root, location), &value) {
                (Some(Value::Array(items)), _) => items.push(value.clone()),
                (Some(Value::Object(members)), Value::Object(extra)) => {
                    members.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Enrich `action="sibling"` on a JSON target: MI refuses it (Target.setEnrichResultToBody logs
    /// "Action sibling is not supported. Please use child action instead" and keeps the payload).
    pub fn add_sibling(&self, _root: &mut Value, _value: Value) -> Result<(), JsonError> {
        Err(JsonError::Unsupported {
            path: self.text().to_string(),
            action: "sibling",
            reason: "MI does not support it on JSON payloads; use action=\"child\"",
        })
    }

    /// Enrich `action="remove"`: deletes every match (Jayway `delete`) and returns how many were
    /// removed. `$` empties the payload: the root becomes `null` and 1 is returned (MI then sets
    /// an empty body).
    pub fn remove(&self, root: &mut Value) -> Result<usize, JsonError> {
        self.unsupported_with_function("remove")?;
        if self.is_whole() {
            *root = Value::Null;
            return Ok(1);
        }
        let mut locations = self.locations(root);
        // Later indexes and deeper nodes first, so earlier removals do not move later targets.
        locations.sort_by_key(|location| Reverse(location.clone()));
        locations.dedup();
        let mut removed = 0;
        for location in &locations {
            let Some((last, parent)) = location.split_last() else {
                continue;
            };
            let done = match (slot(root, parent), last) {
                (Some(Value::Object(members)), Segment::Name(name)) => {
                    members.shift_remove(name).is_some()
                }
                (Some(Value::Array(items)), Segment::Index(index)) if *index < items.len() => {
                    items.remove(*index);
                    true
                }
                _ => false,
            };
            removed += usize::from(done);
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(text: &str) -> JsonEval {
        JsonEval::compile(text).expect(text)
    }

    // MI docs enrich-mediator "JSON" examples: replace a property's value.
    #[test]
    fn replace_sets_every_match() {
        let mut doc = json!({"a": {"b": 1}, "items": [{"p": 1}, {"p": 2}]});
        path("json-eval($.a.b)")
            .replace(&mut doc, json!("x"))
            .expect("replace");
        path("$.items[*].p")
            .replace(&mut doc, json!(0))
            .expect("replace");
        assert_eq!(doc, json!({"a": {"b": "x"}, "items": [{"p": 0}, {"p": 0}]}));
        // Jayway set on a missing leaf is a no-op (PathToken.handleObjectProperty).
        let before = doc.clone();
        path("$.a.new")
            .replace(&mut doc, json!([1]))
            .expect("no-op");
        path("$.zz.yy").replace(&mut doc, json!(1)).expect("no-op");
        assert_eq!(doc, before);
        path("$.a['b','c']")
            .replace(&mut doc, json!(2))
            .expect("merge case sets present members");
        assert_eq!(doc["a"], json!({"b": 2}));
        path("$")
            .replace(&mut doc, json!({"fresh": true}))
            .expect("whole body");
        assert_eq!(doc, json!({"fresh": true}));
    }

    // Target.getNewJSONString: array -> add; object + object -> mergeJsonObjects; else error.
    #[test]
    fn add_child_appends_or_merges() {
        let mut doc = json!({"list": [1], "obj": {"a": 1}, "n": 3});
        path("$.list")
            .add_child(&mut doc, json!({"x": 2}))
            .expect("array");
        path("$.obj")
            .add_child(&mut doc, json!({"a": 9, "b": 2}))
            .expect("object");
        assert_eq!(
            doc,
            json!({"list": [1, {"x": 2}], "obj": {"a": 9, "b": 2}, "n": 3})
        );
        assert_eq!(
            path("$.n").add_child(&mut doc, json!(1)),
            Err(JsonError::NotContainer {
                path: "$.n".into(),
                found: "a number"
            })
        );
        assert!(path("$.obj").add_child(&mut doc, json!(1)).is_err());
        assert!(path("$.missing").add_child(&mut doc, json!(1)).is_err());
        path("$")
            .add_child(&mut doc, json!({"top": 1}))
            .expect("root object");
        assert_eq!(doc["top"], json!(1));
    }

    #[test]
    fn add_sibling_is_refused_as_mi_does() {
        let mut doc = json!({"a": 1});
        assert!(matches!(
            path("$.a").add_sibling(&mut doc, json!(2)),
            Err(JsonError::Unsupported {
                action: "sibling",
                ..
            })
        ));
        assert_eq!(doc, json!({"a": 1}));
    }

    // Target.removeJSONFromString: delete each match; "$" empties the body.
    #[test]
    fn remove_deletes_matches() {
        let mut doc = json!({"a": [{"p": 1, "q": 1}, {"p": 2}, {"p": 3}], "b": {"c": 1}});
        assert_eq!(path("$.a[?(@.p >= 2)]").remove(&mut doc), Ok(2));
        assert_eq!(path("json-eval($..q)").remove(&mut doc), Ok(1));
        assert_eq!(path("$.b.c").remove(&mut doc), Ok(1));
        assert_eq!(path("$.b.c").remove(&mut doc), Ok(0));
        assert_eq!(doc, json!({"a": [{"p": 1}], "b": {}}));
        assert_eq!(path("$..*").remove(&mut doc), Ok(4));
        assert_eq!(doc, json!({}));
        assert_eq!(path("$").remove(&mut doc), Ok(1));
        assert_eq!(doc, Value::Null);
    }

    #[test]
    fn functions_cannot_be_edit_targets() {
        let mut doc = json!({"a": [1]});
        assert!(path("$.a.length()").replace(&mut doc, json!(1)).is_err());
        assert!(path("$.a.length()").remove(&mut doc).is_err());
    }
}
