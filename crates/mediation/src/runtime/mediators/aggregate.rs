//! `<aggregate>`: collects the parts an `<iterate>` (with the same `id`) split a message into and
//! continues with one merged message in `<onComplete>`, as SYN
//! `mediators/eip/aggregator/AggregateMediator.java` (getAggregatedMessage), `Aggregate.java`
//! (isComplete) and `mediators/eip/EIPUtils.java` (enrichEnvelope, encloseWithElement) do:
//!
//! - the aggregation is complete when every part arrived (`messageSequence` `n/total`), when
//!   `messageCount min` or `max` parts arrived, or when `completeCondition timeout` seconds passed;
//!   a `{expr}` bound (`{${vars.n}}` too) is read on the first part to arrive, when the aggregation
//!   starts, as `Double.parseDouble(..).intValue()` (a value that is not a number fails it);
//! - the merged message is a copy of the first part to arrive whose body holds, in arrival order,
//!   what `onComplete expression` selects in each part (an XPath's elements; a `json-eval`'s values
//!   as a JSON array), wrapped in the element held by the property `enclosingElementProperty`
//!   when it is given (for JSON: `{"localName": [...]}`).
//!
//! The state of an aggregation lives with the message that was split (the engine's `iterate` run
//! collects its parts; no global store). Each part is read as it arrives ([`Merging`]): the
//! aggregation keeps the first part (the merged message to be) and what the expression selected
//! in the others, whose messages are freed at once. A message that is not a part of an iterate completes an
//! aggregation by itself (Conflux: MI would wait for more messages correlated with it).
//! `correlateOn` is read and not used: the parts of one split are one group.

use std::time::Duration;

use serde_json::Value as Json;

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope};
use crate::runtime::mediators::iterate::{
    EipSequence, effective, payload_from_envelope, sequence_property,
};
use crate::runtime::payload::{
    Payload, append_child_content, parse_document, replace_body_content, strip_prolog,
    wrap_in_envelope,
};
use crate::runtime::value::{CtxEnv, ValueSource};
use crate::xpath::{XValue, serialize};

#[derive(Debug, Clone)]
pub struct Aggregate {
    pub id: Option<String>,
    /// `completeCondition timeout`.
    pub timeout: Option<Duration>,
    /// `messageCount min` / `max`; not positive: not set.
    pub min_messages: MessageCount,
    pub max_messages: MessageCount,
    pub expression: ValueSource,
    pub enclosing_element_property: Option<String>,
    pub on_complete: EipSequence,
}

/// A `messageCount` bound.
#[derive(Debug, Clone)]
pub enum MessageCount {
    Fixed(i64),
    /// ValueFactory `{expr}`: evaluated when an aggregation starts.
    Dynamic(ValueSource),
}

impl MessageCount {
    /// The runtime form of the artifact's bound; `Err` says why its expression does not compile.
    pub fn compile(
        count: &conflux_artifacts::mediators::aggregate::MessageCount,
    ) -> Result<MessageCount, String> {
        use conflux_artifacts::mediators::aggregate::MessageCount as Written;
        Ok(match count {
            Written::Fixed(n) => MessageCount::Fixed(*n),
            Written::Dynamic(expression) => {
                MessageCount::Dynamic(ValueSource::compile(expression)?)
            }
        })
    }

    /// The bound for the aggregation `first` starts (AggregateMediator:
    /// `Double.parseDouble(evaluateValue(synCtx)).intValue()`).
    pub fn resolve<B: MessageBody>(&self, first: &MessageContext<B>) -> Result<i64, String> {
        match self {
            MessageCount::Fixed(n) => Ok(*n),
            MessageCount::Dynamic(value) => {
                let text = value.resolve(first)?;
                let n = crate::synapse_expr::java_compat::parse_double(&text).ok_or_else(|| {
                    format!(
                        "aggregate: messageCount {} is {text:?}, not a number (NumberFormatException)",
                        value.describe()
                    )
                })?;
                // Java's double-to-int conversion: toward zero, saturating, NaN is 0.
                Ok(n as i32 as i64)
            }
        }
    }
}

/// The `messageCount` bounds of one aggregation, as resolved when it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub min: i64,
    pub max: i64,
}

impl Aggregate {
    /// The bounds of the aggregation that `first` (the first part to arrive) starts.
    pub fn bounds<B: MessageBody>(&self, first: &MessageContext<B>) -> Result<Bounds, String> {
        Ok(Bounds {
            min: self.min_messages.resolve(first)?,
            max: self.max_messages.resolve(first)?,
        })
    }

    /// Whether `ctx` is a part of an iterate this aggregate collects.
    pub fn collects<B: MessageBody>(&self, ctx: &MessageContext<B>) -> bool {
        ctx.get(Scope::Default, &sequence_property(self.id.as_deref()))
            .is_some()
    }

    /// Aggregate.isComplete: `collected` of `total` parts arrived.
    pub fn is_complete(bounds: Bounds, collected: usize, total: usize) -> bool {
        let collected = collected as i64;
        collected >= total as i64
            || (bounds.min > 0 && collected >= bounds.min)
            || (bounds.max > 0 && collected >= bounds.max)
    }

    /// getAggregatedMessage: the payload of the merged message (`parts` in arrival order, at
    /// least one).
    pub fn merge<B: MessageBody>(&self, parts: &[&MessageContext<B>]) -> Result<Payload, String> {
        let Some(first) = parts.first() else {
            return Err("aggregate: no message to aggregate".into());
        };
        let mut merging = self.start(first);
        for part in parts {
            self.add(&mut merging, part);
        }
        self.finish(merging, first)
    }

    /// An aggregation that `first` (the first part to arrive) starts: a `json-eval` expression
    /// makes a JSON array, an XPath an XML body. `first` is added with [`Aggregate::add`] too.
    pub fn start<B: MessageBody>(&self, first: &MessageContext<B>) -> Merging {
        Merging {
            json: matches!(effective(&self.expression, first), ValueSource::Json(_)),
            content: String::new(),
            items: Vec::new(),
            error: None,
        }
    }

    /// Reads what the expression selects in `part` (the next to arrive) into `merging`; the part
    /// itself is not needed after this. The first failure is kept for [`Aggregate::finish`].
    pub fn add<B: MessageBody>(&self, merging: &mut Merging, part: &MessageContext<B>) {
        if merging.error.is_some() {
            return;
        }
        let read = if merging.json {
            self.select_json(part).map(|v| merging.items.extend(v))
        } else {
            self.select_xml(part)
                .map(|xml| merging.content.push_str(&xml))
        };
        if let Err(e) = read {
            merging.error = Some(e);
        }
    }

    /// The merged payload of the parts added to `merging`; `first` (the first part to arrive)
    /// gives the enclosing element and, for XML, the envelope.
    pub fn finish<B: MessageBody>(
        &self,
        merging: Merging,
        first: &MessageContext<B>,
    ) -> Result<Payload, String> {
        if let Some(e) = merging.error {
            return Err(e);
        }
        if merging.json {
            return self.finish_json(merging.items, first);
        }
        let mut content = merging.content;
        if let Some(name) = &self.enclosing_element_property {
            let enclosing = self.enclosing_element(first, name)?;
            let doc = parse_document(&enclosing).map_err(|_| {
                format!("Enclosing Element defined in the property: {name} is not an OMElement ")
            })?;
            content = append_child_content(&enclosing, doc.root_element(), &content);
        }
        match &first.payload {
            Some(Payload::Xml {
                text,
                soap: Some(version),
            }) => Ok(Payload::Xml {
                text: replace_body_content(text, &content)?,
                soap: Some(*version),
            }),
            _ => payload_from_envelope(
                wrap_in_envelope(&content, crate::runtime::payload::SoapVersion::Soap11),
                None,
            ),
        }
    }

    /// The elements the XPath selects in `part`, serialised.
    fn select_xml<B: MessageBody>(&self, part: &MessageContext<B>) -> Result<String, String> {
        let ValueSource::XPath(x) = effective(&self.expression, part) else {
            return Err(format!(
                "Error merging aggregation results using XPath : {}",
                self.expression.describe()
            ));
        };
        let empty = Payload::Empty;
        let envelope = part.payload.as_ref().unwrap_or(&empty).envelope_xml();
        let doc = parse_document(&envelope)
            .map_err(|e| format!("the message is not well-formed XML: {e}"))?;
        let mut content = String::new();
        if let XValue::Nodes(nodes) = x.evaluate(&doc, &CtxEnv(part)).map_err(|e| e.to_string())? {
            for node in nodes.into_iter().filter(|n| n.is_element()) {
                content.push_str(&serialize(node));
            }
        }
        Ok(content)
    }

    fn enclosing_element<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
        name: &str,
    ) -> Result<String, String> {
        match ctx.get(Scope::Default, name) {
            Some(v) if v.trim_start().starts_with('<') => Ok(strip_prolog(v.trim()).to_string()),
            Some(_) => Err(format!(
                "Enclosing Element defined in the property: {name} is not an OMElement "
            )),
            None => Err(format!("Enclosing Element property: {name} not found ")),
        }
    }

    /// The value the `json-eval` selects in `part`, if any (a part whose expression is not a
    /// `json-eval` adds nothing).
    fn select_json<B: MessageBody>(
        &self,
        part: &MessageContext<B>,
    ) -> Result<Option<Json>, String> {
        let ValueSource::Json(j) = effective(&self.expression, part) else {
            return Ok(None);
        };
        let selected = match &part.payload {
            Some(Payload::Json(v)) => j.evaluate(v.value()),
            Some(other @ Payload::Xml { .. }) => {
                let xml = other.body_xml();
                let doc = parse_document(&xml).map_err(|e| e.to_string())?;
                j.evaluate(&crate::json::xml_to_json(doc.root_element()))
            }
            _ => j.evaluate(&Json::Null),
        };
        Ok(selected)
    }

    fn finish_json<B: MessageBody>(
        &self,
        items: Vec<Json>,
        first: &MessageContext<B>,
    ) -> Result<Payload, String> {
        let array = Json::Array(items);
        let value = match &self.enclosing_element_property {
            Some(name) => {
                let enclosing = self.enclosing_element(first, name)?;
                let doc = parse_document(&enclosing).map_err(|_| {
                    format!(
                        "Enclosing Element defined in the property: {name} is not an OMElement "
                    )
                })?;
                let key = doc.root_element().tag_name().name().to_string();
                serde_json::json!({ key: array })
            }
            None => array,
        };
        Ok(Payload::Json(value.into()))
    }
}

/// An aggregation under way ([`Aggregate::start`]): what the `onComplete` expression selected in
/// each part so far, in arrival order. Reading each part as it arrives lets its message go at
/// once: 10,000 parts hold their selections until the aggregation completes, not 10,000 messages
/// (MI's `Aggregate` keeps every message).
#[derive(Debug)]
pub struct Merging {
    json: bool,
    /// XML: the selected elements, serialised one after the other.
    content: String,
    /// JSON: the selected values.
    items: Vec<Json>,
    /// The first part that could not be read: the aggregation fails with it when it completes.
    error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::mediators::iterate::MESSAGE_SEQUENCE;
    use bytes::Bytes;
    use http_body_util::Full;
    use std::sync::Arc;

    type B = Full<Bytes>;

    fn ctx(payload: Payload) -> MessageContext<B> {
        let mut c = MessageContext::new(
            http::Method::POST,
            http::Uri::from_static("/"),
            http::HeaderMap::new(),
            B::default(),
            Arc::from("proxy:P"),
        );
        c.set_payload(payload);
        c
    }

    fn aggregate(expr: &str, enclosing: Option<&str>) -> Aggregate {
        Aggregate {
            id: None,
            timeout: None,
            min_messages: MessageCount::Fixed(-1),
            max_messages: MessageCount::Fixed(-1),
            expression: ValueSource::compile_text(expr, &[("m".into(), "test".into())]).unwrap(),
            enclosing_element_property: enclosing.map(str::to_string),
            on_complete: EipSequence::Named("x".into()),
        }
    }

    #[test]
    fn xml_parts_are_merged_in_order_and_enclosed() {
        let a = ctx(Payload::xml(r#"<m:r xmlns:m="test">One</m:r>"#.into()).unwrap());
        let mut b = ctx(Payload::xml(r#"<m:r xmlns:m="test">Two</m:r>"#.into()).unwrap());
        let agg = aggregate("//m:r", Some("wrap"));
        assert!(agg.merge(&[&a, &b]).unwrap_err().contains("not found"));
        let mut a = a;
        a.set(Scope::Default, "wrap", r#"<m:w xmlns:m="test"/>"#.into())
            .unwrap();
        b.set(Scope::Default, MESSAGE_SEQUENCE, "1/2".into())
            .unwrap();
        assert!(agg.collects(&b) && !agg.collects(&a));
        let Payload::Xml { text, soap: None } = agg.merge(&[&a, &b]).unwrap() else {
            panic!()
        };
        assert_eq!(
            text,
            r#"<m:w xmlns:m="test"><m:r>One</m:r><m:r>Two</m:r></m:w>"#
        );
    }

    #[test]
    fn soap_parts_keep_the_envelope_of_the_first() {
        let env = |s: &str| {
            Payload::xml(format!(
                r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><m:r xmlns:m="test">{s}</m:r></e:Body></e:Envelope>"#
            ))
            .unwrap()
        };
        let (a, b) = (ctx(env("1")), ctx(env("2")));
        let Payload::Xml {
            text,
            soap: Some(_),
        } = aggregate("//m:r", None).merge(&[&a, &b]).unwrap()
        else {
            panic!()
        };
        assert!(
            text.contains(
                r#"<e:Body><m:r xmlns:m="test">1</m:r><m:r xmlns:m="test">2</m:r></e:Body>"#
            ),
            "{text}"
        );
    }

    #[test]
    fn json_parts_become_an_array() {
        let a = ctx(Payload::Json(serde_json::json!({"v": 1}).into()));
        let b = ctx(Payload::Json(serde_json::json!({"v": 2}).into()));
        let merged = aggregate("json-eval($.v)", None).merge(&[&a, &b]).unwrap();
        assert_eq!(merged, Payload::Json(serde_json::json!([1, 2]).into()));
    }

    #[test]
    fn completion_counts() {
        let mut agg = aggregate("//a", None);
        let first = ctx(Payload::Json(serde_json::json!({"n": "2.9"}).into()));
        let bounds = agg.bounds(&first).unwrap();
        assert!(!Aggregate::is_complete(bounds, 2, 3) && Aggregate::is_complete(bounds, 3, 3));
        agg.max_messages = MessageCount::Fixed(2);
        assert!(Aggregate::is_complete(agg.bounds(&first).unwrap(), 2, 3));
        // `{${...}}`: parseDouble, then intValue (2.9 -> 2).
        agg.max_messages =
            MessageCount::Dynamic(ValueSource::compile_text("${payload.n}", &[]).unwrap());
        assert_eq!(agg.bounds(&first).unwrap(), Bounds { min: -1, max: 2 });
        let not_a_number = ctx(Payload::Json(serde_json::json!({"n": "two"}).into()));
        assert!(
            agg.bounds(&not_a_number)
                .unwrap_err()
                .contains("not a number")
        );
    }
}
