//! `<enrich>`: copies a part of the message (or a property, or inline content) into another part
//! of it (or into a property), as SYN `mediators/elementary/{EnrichMediator,Source,Target}.java` do.
//!
//! XML payloads are edited as text: XPath finds the target node in the document parsed from the
//! message, and the edit splices new markup at that node's byte range, so everything around it
//! (prefixes, comments, whitespace) stays exactly as it was. Copied elements are serialised with
//! the namespace declarations they use, so they stay well-formed wherever they land.
//! JSON payloads with JSONPath source or target are edited as JSON, like MI's native JSON enrich.
//!
//! MI details kept: the body source is the body's *first element*; a body target acts on that first
//! element too (replace it, add a child to it, add a sibling after it); a text source replacing an
//! element sets its text; a JSON object or array text replacing the body becomes a JSON payload.
//! `clone="false"` (move instead of copy) is treated as a copy.

use serde_json::Value as Json;

use crate::json::JsonSource;
use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope};
use crate::runtime::payload::{
    Payload, append_child_content, body_element, escape_text, parse_document,
};
use crate::runtime::value::{CtxEnv, ValueSource};
use crate::xpath::{XValue, serialize};

#[derive(Debug, Clone)]
pub enum EnrichSource {
    /// `type="custom"` with `xpath="..."` (XPath or `json-eval`).
    Custom(ValueSource),
    Envelope,
    Body,
    Property(String),
    InlineXml(String),
    InlineText(String),
}

#[derive(Debug, Clone)]
pub enum EnrichTarget {
    Custom(ValueSource),
    Envelope,
    Body,
    Property(String),
}

/// Replace, child, sibling or remove, as the artifact declares it.
pub use conflux_artifacts::mediators::EnrichAction;

#[derive(Debug, Clone)]
pub struct Enrich {
    pub source: EnrichSource,
    pub target: EnrichTarget,
    pub action: EnrichAction,
}

/// What the source gave, in XML terms.
#[derive(Debug, Clone, PartialEq)]
enum Fragment {
    /// One or more elements as markup.
    Xml(String),
    Text(String),
}

impl Fragment {
    fn as_markup(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Fragment::Xml(x) => x.into(),
            Fragment::Text(t) => escape_text(t),
        }
    }

    fn as_string(&self) -> &str {
        match self {
            Fragment::Xml(x) | Fragment::Text(x) => x,
        }
    }
}

impl Enrich {
    pub fn needs_payload(&self) -> bool {
        !matches!(
            (&self.source, &self.target),
            (
                EnrichSource::Property(_)
                    | EnrichSource::InlineXml(_)
                    | EnrichSource::InlineText(_),
                EnrichTarget::Property(_)
            )
        ) && !matches!(
            (&self.source, &self.target),
            (EnrichSource::Custom(v), EnrichTarget::Property(_)) if !v.needs_payload()
        )
    }

    fn is_json_path(v: &ValueSource) -> bool {
        matches!(v, ValueSource::Json(_))
    }

    /// JSON mode: the payload is JSON and no side speaks XPath.
    fn json_mode<B>(&self, ctx: &MessageContext<B>) -> bool {
        let json_payload = matches!(ctx.payload, Some(Payload::Json(_)));
        let xpath_source = matches!(&self.source, EnrichSource::Custom(v) if !Self::is_json_path(v) && v.needs_payload());
        let xpath_target =
            matches!(&self.target, EnrichTarget::Custom(v) if !Self::is_json_path(v));
        let json_side = matches!(&self.source, EnrichSource::Custom(v) if Self::is_json_path(v))
            || matches!(&self.target, EnrichTarget::Custom(v) if Self::is_json_path(v));
        (json_payload || json_side) && !xpath_source && !xpath_target
    }

    pub fn apply<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<(), String> {
        if self.json_mode(ctx) {
            return self.apply_json(ctx);
        }
        let source = self.xml_source(ctx)?;
        self.apply_xml(ctx, source)
    }

    // ---- JSON ----

    fn json_source<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<Json, String> {
        let parse_or_string = |s: String| serde_json::from_str(&s).unwrap_or(Json::String(s));
        Ok(match &self.source {
            EnrichSource::Custom(ValueSource::Json(j)) => {
                let root = match j.source() {
                    JsonSource::Body => json_payload(ctx),
                    JsonSource::Property { .. } => {
                        // The value source resolves property-based paths itself.
                        return Ok(parse_or_string(ValueSource::Json(j.clone()).resolve(ctx)?));
                    }
                };
                j.evaluate(&root).unwrap_or(Json::Null)
            }
            EnrichSource::Custom(other) => parse_or_string(other.resolve(ctx)?),
            EnrichSource::Body | EnrichSource::Envelope => json_payload(ctx),
            EnrichSource::Property(name) => {
                parse_or_string(ctx.get(Scope::Default, name).unwrap_or_default())
            }
            EnrichSource::InlineText(t) => parse_or_string(t.trim().to_string()),
            EnrichSource::InlineXml(x) => match parse_document(x) {
                Ok(doc) => crate::json::xml_to_json(doc.root_element()),
                Err(_) => Json::String(x.clone()),
            },
        })
    }

    fn apply_json<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<(), String> {
        let value = self.json_source(ctx)?;
        match &self.target {
            EnrichTarget::Custom(ValueSource::Json(path)) => {
                let mut root = json_payload(ctx);
                let result = match self.action {
                    EnrichAction::Replace => path.replace(&mut root, value),
                    EnrichAction::Child => path.add_child(&mut root, value),
                    EnrichAction::Sibling => path.add_sibling(&mut root, value),
                    EnrichAction::Remove => path.remove(&mut root).map(|_| ()),
                };
                result.map_err(|e| format!("enrich target {}: {e}", path.text()))?;
                ctx.set_payload(Payload::Json(root.into()));
            }
            EnrichTarget::Custom(other) => {
                return Err(format!(
                    "enrich target {} is not a JSON path for a JSON payload",
                    other.describe()
                ));
            }
            EnrichTarget::Body | EnrichTarget::Envelope => match self.action {
                EnrichAction::Replace => ctx.set_payload(Payload::Json(value.into())),
                EnrichAction::Child => {
                    let mut root = json_payload(ctx);
                    match (&mut root, value) {
                        (Json::Array(items), v) => items.push(v),
                        (Json::Object(map), Json::Object(extra)) => map.extend(extra),
                        (_, v) => {
                            return Err(format!(
                                "enrich cannot add {v} as a child of a JSON body that is neither an array nor an object"
                            ));
                        }
                    }
                    ctx.set_payload(Payload::Json(root.into()));
                }
                EnrichAction::Sibling | EnrichAction::Remove => {
                    return Err("enrich: a JSON body target takes action replace or child".into());
                }
            },
            EnrichTarget::Property(name) => {
                let text = match value {
                    Json::String(s) => s,
                    other => other.to_string(),
                };
                ctx.set(Scope::Default, name, text)?;
            }
        }
        Ok(())
    }

    // ---- XML ----

    fn xml_source<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<Fragment, String> {
        Ok(match &self.source {
            EnrichSource::Custom(ValueSource::XPath(x)) => {
                let envelope = envelope_of(ctx);
                let doc = parse_document(&envelope)
                    .map_err(|e| format!("the message is not well-formed XML: {e}"))?;
                match x.evaluate(&doc, &CtxEnv(ctx)).map_err(|e| e.to_string())? {
                    XValue::Nodes(nodes) => {
                        if nodes.is_empty() {
                            return Err(format!(
                                "enrich source {} selects nothing (MI: cannot enrich message from an empty source)",
                                x.text()
                            ));
                        }
                        if nodes.iter().any(|n| n.is_element()) {
                            Fragment::Xml(
                                nodes
                                    .iter()
                                    .filter(|n| n.is_element())
                                    .map(|n| serialize(*n))
                                    .collect(),
                            )
                        } else {
                            Fragment::Text(nodes.iter().map(|n| serialize(*n)).collect())
                        }
                    }
                    // Attributes (or namespaces) among the nodes: their values.
                    XValue::NodeSet(nodes) => {
                        Fragment::Text(nodes.iter().map(|n| n.string_value()).collect())
                    }
                    XValue::String(s) => Fragment::Text(s),
                    XValue::Number(n) => Fragment::Text(
                        x.string_value(&doc, &CtxEnv(ctx))
                            .unwrap_or_else(|_| n.to_string()),
                    ),
                    XValue::Boolean(b) => Fragment::Text(b.to_string()),
                }
            }
            EnrichSource::Custom(other) => Fragment::Text(other.resolve(ctx)?),
            EnrichSource::Envelope => Fragment::Xml(envelope_of(ctx)),
            EnrichSource::Body => {
                let envelope = envelope_of(ctx);
                let doc = parse_document(&envelope)
                    .map_err(|e| format!("the message is not well-formed XML: {e}"))?;
                match body_element(&doc).and_then(|b| b.first_element_child()) {
                    Some(first) => Fragment::Xml(serialize(first)),
                    None => {
                        return Err("enrich source body: the message body is empty".into());
                    }
                }
            }
            EnrichSource::Property(name) => {
                let v = ctx.get(Scope::Default, name).unwrap_or_default();
                if parse_document(&v).is_ok() {
                    Fragment::Xml(v)
                } else {
                    Fragment::Text(v)
                }
            }
            EnrichSource::InlineXml(x) => Fragment::Xml(x.clone()),
            EnrichSource::InlineText(t) => Fragment::Text(t.clone()),
        })
    }

    fn apply_xml<B: MessageBody>(
        &self,
        ctx: &mut MessageContext<B>,
        source: Fragment,
    ) -> Result<(), String> {
        match &self.target {
            EnrichTarget::Property(name) => {
                ctx.set(Scope::Default, name, source.as_string().to_string())
            }
            EnrichTarget::Envelope => {
                let payload =
                    Payload::xml(source.as_string().to_string()).map_err(|e| e.to_string())?;
                if !matches!(payload, Payload::Xml { soap: Some(_), .. }) {
                    return Err(
                        "enrich: an envelope target needs a SOAP envelope as its source".into(),
                    );
                }
                ctx.set_payload(payload);
                Ok(())
            }
            EnrichTarget::Body => {
                // A JSON object or array text replacing the body makes a JSON payload (Target.insertElementToBody).
                if let (EnrichAction::Replace, Fragment::Text(t)) = (self.action, &source)
                    && let Ok(json @ (Json::Object(_) | Json::Array(_))) =
                        serde_json::from_str::<Json>(t)
                {
                    ctx.set_payload(Payload::Json(json.into()));
                    return Ok(());
                }
                let envelope = envelope_of(ctx);
                let doc = parse_document(&envelope)
                    .map_err(|e| format!("the message is not well-formed XML: {e}"))?;
                let body = body_element(&doc).ok_or("the message has no SOAP body")?;
                let edited = match body.first_element_child() {
                    Some(first) => edit(&envelope, first, self.action, &source)?,
                    None => append_child_content(&envelope, body, &source.as_markup()),
                };
                self.store(ctx, edited)
            }
            EnrichTarget::Custom(ValueSource::XPath(x)) => {
                let envelope = envelope_of(ctx);
                let doc = parse_document(&envelope)
                    .map_err(|e| format!("the message is not well-formed XML: {e}"))?;
                let nodes = match x.evaluate(&doc, &CtxEnv(ctx)).map_err(|e| e.to_string())? {
                    XValue::Nodes(nodes) => nodes,
                    _ => return Err(format!("enrich target {} does not select a node", x.text())),
                };
                let Some(target) = nodes.first() else {
                    return Err(format!("enrich target {} selects nothing", x.text()));
                };
                let edited = if target.is_text() {
                    let range = target.range();
                    match (&source, self.action) {
                        (_, EnrichAction::Remove) => {
                            format!("{}{}", &envelope[..range.start], &envelope[range.end..])
                        }
                        (s, _) => format!(
                            "{}{}{}",
                            &envelope[..range.start],
                            s.as_markup(),
                            &envelope[range.end..]
                        ),
                    }
                } else if target.is_element() {
                    edit(&envelope, *target, self.action, &source)?
                } else {
                    return Err(format!(
                        "enrich target {} is not an element or text",
                        x.text()
                    ));
                };
                self.store(ctx, edited)
            }
            EnrichTarget::Custom(other) => Err(format!(
                "enrich target {} is not an XPath for an XML message",
                other.describe()
            )),
        }
    }

    /// Puts an edited envelope back as the payload, in the form the message had.
    fn store<B: MessageBody>(
        &self,
        ctx: &mut MessageContext<B>,
        envelope: String,
    ) -> Result<(), String> {
        let was_soap = matches!(ctx.payload, Some(Payload::Xml { soap: Some(_), .. }));
        let edited = Payload::xml(envelope).map_err(|e| e.to_string())?;
        if was_soap {
            ctx.set_payload(edited);
            return Ok(());
        }
        // A plain message: the body's single element is the payload again.
        let Payload::Xml { text, .. } = &edited else {
            return Err("enrich produced a message that is not XML".into());
        };
        let doc = parse_document(text).map_err(|e| e.to_string())?;
        let body = body_element(&doc).ok_or("the message has no SOAP body")?;
        let elements: Vec<_> = body.children().filter(|n| n.is_element()).collect();
        let payload = match elements.as_slice() {
            [] => Payload::Empty,
            [one] => Payload::xml(serialize(*one)).map_err(|e| e.to_string())?,
            _ => edited.clone(),
        };
        ctx.set_payload(payload);
        Ok(())
    }
}

/// One of MI's element edits (`Target.insertElement`) on `text` at `element`.
fn edit(
    text: &str,
    element: roxmltree::Node,
    action: EnrichAction,
    source: &Fragment,
) -> Result<String, String> {
    let range = element.range();
    Ok(match (action, source) {
        (EnrichAction::Replace, Fragment::Xml(markup)) => {
            format!("{}{markup}{}", &text[..range.start], &text[range.end..])
        }
        // A text source replacing an element sets the element's text.
        (EnrichAction::Replace, Fragment::Text(t)) => {
            crate::runtime::payload::splice_element_content(text, element, &escape_text(t))
        }
        (EnrichAction::Child, s) => append_child_content(text, element, &s.as_markup()),
        (EnrichAction::Sibling, s) => {
            format!(
                "{}{}{}",
                &text[..range.end],
                s.as_markup(),
                &text[range.end..]
            )
        }
        (EnrichAction::Remove, _) => format!("{}{}", &text[..range.start], &text[range.end..]),
    })
}

fn envelope_of<B>(ctx: &MessageContext<B>) -> String {
    match &ctx.payload {
        Some(p) => p.envelope_xml().into_owned(),
        None => Payload::Empty.envelope_xml().into_owned(),
    }
}

fn json_payload<B>(ctx: &MessageContext<B>) -> Json {
    match &ctx.payload {
        Some(Payload::Json(v)) => v.value.clone(),
        Some(Payload::Empty) | None => Json::Null,
        Some(other) => match parse_document(&other.body_xml()) {
            Ok(doc) => crate::json::xml_to_json(doc.root_element()),
            Err(_) => Json::Null,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn ctx(payload: Payload) -> MessageContext<http_body_util::Full<bytes::Bytes>> {
        let mut c = crate::runtime::context::test_context(Method::POST, "/a");
        c.payload = Some(payload);
        c
    }

    fn xpath(text: &str) -> ValueSource {
        ValueSource::compile_text(text, &[]).unwrap()
    }

    fn xml_text(c: &MessageContext<http_body_util::Full<bytes::Bytes>>) -> String {
        match c.payload.as_ref().unwrap() {
            Payload::Xml { text, .. } => text.clone(),
            other => panic!("{other:?}"),
        }
    }

    // Target.insertElement: child appends, sibling inserts after, replace swaps the element.
    #[test]
    fn xpath_source_and_target_edit_the_xml_payload() {
        let pox = || Payload::xml("<r><a>1</a><b/></r>".into()).unwrap();
        for (action, expected) in [
            (EnrichAction::Child, "<r><a>1</a><b><a>1</a></b></r>"),
            (EnrichAction::Sibling, "<r><a>1</a><b/><a>1</a></r>"),
            (EnrichAction::Replace, "<r><a>1</a><a>1</a></r>"),
        ] {
            let mut c = ctx(pox());
            Enrich {
                source: EnrichSource::Custom(xpath("//a")),
                target: EnrichTarget::Custom(xpath("//b")),
                action,
            }
            .apply(&mut c)
            .unwrap();
            assert_eq!(xml_text(&c), expected, "{action:?}");
        }
        let mut c = ctx(pox());
        Enrich {
            source: EnrichSource::InlineText("x".into()),
            target: EnrichTarget::Custom(xpath("//a")),
            action: EnrichAction::Remove,
        }
        .apply(&mut c)
        .unwrap();
        assert_eq!(xml_text(&c), "<r><b/></r>");
    }

    // Target.insertElement: a text source replacing an element sets the element's text.
    #[test]
    fn a_text_source_sets_an_elements_text() {
        let mut c = ctx(Payload::xml("<r><a>1</a></r>".into()).unwrap());
        c.set(Scope::Default, "v", "2 < 3".into()).unwrap();
        Enrich {
            source: EnrichSource::Property("v".into()),
            target: EnrichTarget::Custom(xpath("//a")),
            action: EnrichAction::Replace,
        }
        .apply(&mut c)
        .unwrap();
        assert_eq!(xml_text(&c), "<r><a>2 &lt; 3</a></r>");
    }

    // Source.BODY is the body's first element; Target.PROPERTY stores it.
    #[test]
    fn body_to_property_and_json_text_to_body() {
        let mut c = ctx(Payload::xml("<r><a>1</a></r>".into()).unwrap());
        Enrich {
            source: EnrichSource::Body,
            target: EnrichTarget::Property("saved".into()),
            action: EnrichAction::Replace,
        }
        .apply(&mut c)
        .unwrap();
        assert_eq!(
            c.get(Scope::Default, "saved").as_deref(),
            Some("<r><a>1</a></r>")
        );
        // Target.insertElementToBody: JSON object text replacing the body makes a JSON payload.
        Enrich {
            source: EnrichSource::InlineText("{\"k\": 1}".into()),
            target: EnrichTarget::Body,
            action: EnrichAction::Replace,
        }
        .apply(&mut c)
        .unwrap();
        assert_eq!(
            c.payload,
            Some(Payload::Json(serde_json::json!({"k": 1}).into()))
        );
    }

    #[test]
    fn json_paths_edit_a_json_payload() {
        let mut c = ctx(Payload::Json(
            serde_json::json!({"a": {"b": 1}, "list": [1]}).into(),
        ));
        c.set(Scope::Default, "p", "{\"x\": true}".into()).unwrap();
        Enrich {
            source: EnrichSource::Property("p".into()),
            target: EnrichTarget::Custom(
                ValueSource::compile_text("json-eval($.a.b)", &[]).unwrap(),
            ),
            action: EnrichAction::Replace,
        }
        .apply(&mut c)
        .unwrap();
        Enrich {
            source: EnrichSource::InlineText("2".into()),
            target: EnrichTarget::Custom(
                ValueSource::compile_text("json-eval($.list)", &[]).unwrap(),
            ),
            action: EnrichAction::Child,
        }
        .apply(&mut c)
        .unwrap();
        assert_eq!(
            c.payload,
            Some(Payload::Json(
                serde_json::json!({"a": {"b": {"x": true}}, "list": [1, 2]}).into()
            ))
        );
    }

    #[test]
    fn an_empty_source_is_an_error_as_in_mi() {
        let mut c = ctx(Payload::xml("<r/>".into()).unwrap());
        let err = Enrich {
            source: EnrichSource::Custom(xpath("//missing")),
            target: EnrichTarget::Body,
            action: EnrichAction::Child,
        }
        .apply(&mut c)
        .unwrap_err();
        assert!(err.contains("selects nothing"), "{err}");
    }
}
