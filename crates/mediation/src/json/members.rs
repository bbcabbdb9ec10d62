//! Reads one member of a JSON document along a chain of member names without building the rest
//! of the document: every other value is parsed and checked exactly as `serde_json::Value`'s
//! deserializer parses and checks it (numbers in range, strings with valid escapes and UTF-8,
//! the same nesting limit, nothing after the value but whitespace), and then dropped. Used where
//! a whole-document parse would be thrown away but for one field (the HTTP/1 engine's
//! content-based routing, mediation runtime/direct.rs `JsonFilterRoute::holds`; a JSON payload
//! read by one member-chain `json-eval` before anything builds it, runtime/payload.rs
//! `JsonPayload::member_view`).

use std::fmt;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// What a document holds along a member chain.
#[derive(Debug, Clone, PartialEq)]
pub enum Member {
    /// The value at the end of the chain (for a repeated name, the last one: a `Value` map keeps
    /// the last).
    Found(Value),
    /// Every level is an object, and one lacks the next name.
    Absent,
    /// Some level (the document itself included) is not an object.
    NotAnObject,
}

/// The member of `bytes` at `names` (non-empty), with the document checked whole.
///
/// # Errors
/// `bytes` is not a document `serde_json::from_slice::<Value>` accepts.
pub fn read_member(bytes: &[u8], names: &[String]) -> Result<Member, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let member = Chain(names, Checks::Whole).deserialize(&mut de)?;
    de.end()?;
    Ok(member)
}

/// [`read_member`] of a document [`check_document`] accepted: the values off the chain are
/// skipped as serde_json skips ignored values, which checks less (see [`Skip`]) and costs less.
/// On a checked document both read the same member.
///
/// # Errors
/// `bytes` is not JSON (only possible when it was not checked).
pub fn read_member_of_checked(bytes: &[u8], names: &[String]) -> Result<Member, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let member = Chain(names, Checks::Done).deserialize(&mut de)?;
    de.end()?;
    Ok(member)
}

/// How the values off the chain are read.
#[derive(Clone, Copy)]
enum Checks {
    /// As `Value` checks them ([`Skip`]).
    Whole,
    /// Already checked: skipped (`IgnoredAny`).
    Done,
}

impl Checks {
    fn skip_value<'de, A: MapAccess<'de>>(self, map: &mut A) -> Result<(), A::Error> {
        match self {
            Checks::Whole => map.next_value_seed(Skip),
            Checks::Done => map.next_value::<serde::de::IgnoredAny>().map(drop),
        }
    }
}

/// Checks `bytes` as `serde_json::from_slice::<Value>` would, without building anything.
///
/// # Errors
/// `bytes` is not a document `serde_json::from_slice::<Value>` accepts.
pub fn check_document(bytes: &[u8]) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    Skip.deserialize(&mut de)?;
    de.end()
}

/// The rest of the chain from one level.
struct Chain<'n>(&'n [String], Checks);

impl<'de> DeserializeSeed<'de> for Chain<'_> {
    type Value = Member;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Member, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Chain<'_> {
    type Value = Member;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Member, A::Error> {
        let Some((first, rest)) = self.0.split_first() else {
            return Err(A::Error::custom("an empty member chain"));
        };
        let mut member = Member::Absent;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key.as_ref() != first.as_str() {
                self.1.skip_value(&mut map)?;
            } else if rest.is_empty() {
                member = Member::Found(map.next_value::<Value>()?);
            } else {
                member = map.next_value_seed(Chain(rest, self.1))?;
            }
        }
        Ok(member)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Member, A::Error> {
        match self.1 {
            Checks::Whole => Skip.visit_seq(seq).map(|()| Member::NotAnObject),
            Checks::Done => {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Member::NotAnObject)
            }
        }
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Member, E> {
        Ok(Member::NotAnObject)
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Member, E> {
        Ok(Member::NotAnObject)
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Member, E> {
        Ok(Member::NotAnObject)
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Member, E> {
        Ok(Member::NotAnObject)
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Member, E> {
        Ok(Member::NotAnObject)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Member, E> {
        Ok(Member::NotAnObject)
    }
}

/// A value parsed through `deserialize_any`, as `Value` parses it, and dropped. (serde's
/// `IgnoredAny` goes through `deserialize_ignored_any`, which serde_json checks less: it takes a
/// number out of `f64`'s range or a lone surrogate escape that `Value` refuses.)
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Skip)?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(path: &[&str]) -> Vec<String> {
        path.iter().map(|s| s.to_string()).collect()
    }

    /// The member as a whole-document parse gives it, for comparison.
    fn by_value(bytes: &[u8], names: &[String]) -> Result<Member, ()> {
        let mut value: Value = serde_json::from_slice(bytes).map_err(|_| ())?;
        for name in names {
            let Value::Object(map) = value else {
                return Ok(Member::NotAnObject);
            };
            match map.get(name) {
                Some(v) => value = v.clone(),
                None => return Ok(Member::Absent),
            }
        }
        Ok(Member::Found(value))
    }

    #[test]
    fn members_and_verdicts_are_a_whole_parse_s() {
        let documents: &[&str] = &[
            r#"{"kind":"a","n":1}"#,
            r#"{"n":[1,2,{"kind":"x"}],"kind":{"b":true}}"#,
            r#"{"kind":"a","kind":"b"}"#,
            r#"{"kind":{"b":1},"kind":7}"#,
            r#"{"a":{"b":{"c":"deep"}}}"#,
            r#"{"a":{"x":1}}"#,
            r#"{"a":null}"#,
            r#"[{"kind":"a"}]"#,
            r#""kind""#,
            "12",
            "null",
            r#"{"k\u0069nd":"escaped name","s":"caf\u00e9 \ud83d\ude00"}"#,
            " \n {\"kind\" : \"spaced\" } \n",
            // What Value refuses and a lenient skip would take:
            r#"{"kind":"a","x":1e400}"#,
            r#"{"kind":"a","x":"\ud800"}"#,
            r#"{"kind":"a","x":"\q"}"#,
            r#"{"kind":"a","x":01}"#,
            r#"{"kind":"a"} x"#,
            r#"{"kind":"a","#,
            "{\"kind\":\"a\",\"x\":\"raw\u{1}control\"}",
            "",
        ];
        let paths = [
            chain(&["kind"]),
            chain(&["a", "b"]),
            chain(&["a", "b", "c"]),
            chain(&["kind", "b"]),
        ];
        for doc in documents {
            for path in &paths {
                let fast = read_member(doc.as_bytes(), path).map_err(|_| ());
                assert_eq!(fast, by_value(doc.as_bytes(), path), "{doc} {path:?}");
            }
        }
        // Deeper than serde_json's recursion limit, in a member that is skipped: refused alike.
        let deep = format!(
            r#"{{"kind":"a","x":{}{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(read_member(deep.as_bytes(), &paths[0]).is_err());
        assert!(by_value(deep.as_bytes(), &paths[0]).is_err());
        for doc in documents {
            if check_document(doc.as_bytes()).is_ok() {
                for path in &paths {
                    assert_eq!(
                        read_member_of_checked(doc.as_bytes(), path).map_err(|_| ()),
                        by_value(doc.as_bytes(), path),
                        "{doc} {path:?}"
                    );
                }
            }
        }
        for doc in documents
            .iter()
            .copied()
            .chain([deep.as_str(), "", "{} x", "[1,]"])
        {
            assert_eq!(
                check_document(doc.as_bytes()).is_ok(),
                serde_json::from_slice::<Value>(doc.as_bytes()).is_ok(),
                "{doc}"
            );
        }
    }
}
