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
//!
//! Also as in MI: an inline source whose text holds `{expression}`s has them replaced per message
//! before it is used (Source.containsInlineExpressions, util/InlineExpressionUtil.java); a property
//! holding markup (one element or several, as an enrich property target stores a node list) reads
//! back as those nodes; a target `get-property('scope', 'name')` is that property
//! (Target.handleProperty); `action="remove"` deletes the source JSONPath's matches from a JSON
//! body or property (Target.removeJsonFromBody/removeJsonFromProperty); `type="key"` renames the JSON
//! key its path selects (Target.renameKey).

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value as Json;

use crate::json::{JsonEval, JsonSource};
use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope};
use crate::runtime::payload::{
    Payload, append_child_content, body_element, escape_text, parse_document,
};
use crate::runtime::value::{CtxEnv, ValueSource};
use crate::xpath::{XValue, serialize};

/// InlineExpressionUtil.EXPRESSION_PATTERN: an inline `{expression}` (no whitespace, `"`, `,`,
/// `<`, `>`, `}` or `]` inside).
static INLINE_EXPRESSION: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"\{[^\s",<>}\]]+\}"#).ok());

/// Target.XPATH_PROPERTY_PATTERN: the quoted arguments of a `get-property(...)` target.
static QUOTED_ARGUMENT: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new("'[^']*'").ok());

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
    /// `type="key"`: the JSON key the `json-eval` path ends with is renamed to the source's text.
    Key(ValueSource),
}

/// Replace, child, sibling or remove, as the artifact declares it.
pub use conflux_artifacts::mediators::EnrichAction;

#[derive(Debug, Clone)]
pub struct Enrich {
    pub source: EnrichSource,
    pub target: EnrichTarget,
    pub action: EnrichAction,
    /// The `{expression}`s of an inline source that has them (empty otherwise), compiled when the
    /// artifact deploys; [`Enrich::new`] finds them.
    pub inline_expressions: Vec<InlineExpression>,
}

/// One `{expression}` of an inline source.
#[derive(Debug, Clone)]
pub struct InlineExpression {
    /// As written, braces included.
    placeholder: String,
    /// `json-eval(...)` or XPath (no namespaces, as InlineExpressionUtil.getDynamicValue builds
    /// it). MI compiles it per message, so an expression that does not compile fails the message,
    /// not the deployment.
    value: Result<ValueSource, String>,
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
    /// The mediator, with the inline expressions of an inline source found and compiled as
    /// EnrichMediatorFactory does: an inline text is searched whole; an inline element only in
    /// its own text (`OMElement.getText()`), but when that has one, every `{...}` of the element
    /// is replaced (EnrichMediator.mediate replaces over `inlineOMNode.toString()`).
    pub fn new(source: EnrichSource, target: EnrichTarget, action: EnrichAction) -> Enrich {
        let has_expressions = match &source {
            EnrichSource::InlineText(t) => contains_inline_expressions(t),
            EnrichSource::InlineXml(x) => contains_inline_expressions(&first_element_text(x)),
            _ => false,
        };
        let inline_expressions = match &source {
            EnrichSource::InlineText(t) | EnrichSource::InlineXml(t) if has_expressions => {
                let mut found: Vec<InlineExpression> = Vec::new();
                for placeholder in placeholders(t) {
                    if found.iter().any(|e| e.placeholder == placeholder) {
                        continue;
                    }
                    let inside = &placeholder[1..placeholder.len() - 1];
                    found.push(InlineExpression {
                        placeholder: placeholder.to_string(),
                        value: ValueSource::compile_text(inside, &[]).map_err(|e| {
                            format!(
                                "Invalid expression for inline source format {placeholder}: {e}"
                            )
                        }),
                    });
                }
                found
            }
            _ => Vec::new(),
        };
        Enrich {
            source,
            target,
            action,
            inline_expressions,
        }
    }

    pub fn needs_payload(&self) -> bool {
        if self
            .inline_expressions
            .iter()
            .any(|e| e.value.as_ref().is_ok_and(ValueSource::needs_payload))
        {
            return true;
        }
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
        if !self.inline_expressions.is_empty() {
            return self.apply_with_inline_values(ctx);
        }
        self.apply_resolved(ctx, false)
    }

    /// EnrichMediator.mediate with `source.containsInlineExpressions()`: the inline content with
    /// its expressions replaced is parsed again; markup makes an XML source (and the XML flow),
    /// anything else a text/JSON one, which must then be JSON in the JSON flow.
    fn apply_with_inline_values<B: MessageBody>(
        &self,
        ctx: &mut MessageContext<B>,
    ) -> Result<(), String> {
        let (EnrichSource::InlineText(text) | EnrichSource::InlineXml(text)) = &self.source else {
            return self.apply_resolved(ctx, false);
        };
        let replaced = replace_dynamic_values(text, &mut |placeholder| match self
            .inline_expressions
            .iter()
            .find(|e| e.placeholder == placeholder)
        {
            Some(e) => e.value.clone()?.resolve(ctx),
            None => Ok(placeholder.to_string()),
        })?;
        let source = if holds_elements(replaced.trim()) {
            EnrichSource::InlineXml(replaced.trim().to_string())
        } else {
            EnrichSource::InlineText(replaced)
        };
        Enrich {
            source,
            target: self.target.clone(),
            action: self.action,
            inline_expressions: Vec::new(),
        }
        .apply_resolved(ctx, true)
    }

    /// `from_expressions`: the source is inline content whose expressions were just replaced.
    fn apply_resolved<B: MessageBody>(
        &self,
        ctx: &mut MessageContext<B>,
        from_expressions: bool,
    ) -> Result<(), String> {
        let inline_xml = from_expressions && matches!(self.source, EnrichSource::InlineXml(_));
        if self.json_mode(ctx) && !inline_xml {
            // EnrichMediator.mediate: remove is handled apart, on a JSON body or property.
            if self.action == EnrichAction::Remove
                && matches!(ctx.payload, Some(Payload::Json(_)))
                && matches!(self.target, EnrichTarget::Body | EnrichTarget::Property(_))
            {
                return self.remove_json(ctx);
            }
            return self.apply_json(ctx, from_expressions);
        }
        let source = self.xml_source(ctx)?;
        self.apply_xml(ctx, source)
    }

    // ---- JSON ----

    fn json_source<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
        from_expressions: bool,
    ) -> Result<Json, String> {
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
            // Source.evaluateJson: `JsonPath.parse(text)` of the text with its expressions
            // replaced; text that is not JSON fails the mediation.
            EnrichSource::InlineText(t) if from_expressions => serde_json::from_str(t.trim())
                .map_err(|e| {
                    format!(
                        "enrich inline source is not valid JSON once its inline expressions are replaced ({e}): {}",
                        t.trim()
                    )
                })?,
            EnrichSource::InlineText(t) => parse_or_string(t.trim().to_string()),
            EnrichSource::InlineXml(x) => match parse_document(x) {
                Ok(doc) => crate::json::xml_to_json(doc.root_element()),
                Err(_) => Json::String(x.clone()),
            },
        })
    }

    fn apply_json<B: MessageBody>(
        &self,
        ctx: &mut MessageContext<B>,
        from_expressions: bool,
    ) -> Result<(), String> {
        let value = self.json_source(ctx, from_expressions)?;
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
            EnrichTarget::Key(path) => rename_key(ctx, path, value)?,
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
            EnrichTarget::Property(name) => match self.action {
                EnrichAction::Replace | EnrichAction::Remove => {
                    let text = match value {
                        Json::String(s) => s,
                        other => other.to_string(),
                    };
                    ctx.set(Scope::Default, name, text)?;
                }
                // Target.insertJson PROPERTY: a child is added to the JSON array the property
                // holds; anything else is logged and the property kept.
                EnrichAction::Child => match ctx.get(Scope::Default, name) {
                    None => tracing::error!(
                        "enrich: cannot find the property with name \"{name}\" to enrich"
                    ),
                    Some(raw) => match serde_json::from_str::<Json>(&raw) {
                        Ok(Json::Array(mut items)) => {
                            items.push(value);
                            ctx.set(Scope::Default, name, Json::Array(items).to_string())?;
                        }
                        Ok(other) => tracing::error!(
                            "enrich: cannot add child, since the target {other} is not an JSON array"
                        ),
                        Err(_) => tracing::error!(
                            "enrich: value inside the given property : {name} is not a valid JSON"
                        ),
                    },
                },
                EnrichAction::Sibling => tracing::error!(
                    "enrich: action sibling is not supported when enriching properties with JSON data"
                ),
            },
        }
        Ok(())
    }

    /// EnrichMediator ACTION_REMOVE: every match of the source's JSONPath(s) is deleted from the
    /// JSON body (Target.removeJsonFromBody) or from the JSON text of the property
    /// (Target.removeJsonFromProperty).
    fn remove_json<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<(), String> {
        let EnrichSource::Custom(ValueSource::Json(source)) = &self.source else {
            return Err("enrich: source xpath is mandatory for the remove action".into());
        };
        let paths = remove_paths(ctx, source)?;
        match &self.target {
            EnrichTarget::Body => {
                let root = json_payload(ctx);
                match remove_json_paths(root, &paths)? {
                    Some(rest) => ctx.set_payload(Payload::Json(rest.into())),
                    None => ctx.set_payload(Payload::Empty),
                }
            }
            EnrichTarget::Property(name) => {
                let raw = ctx.get(Scope::Default, name).ok_or_else(|| {
                    format!(
                        "Cannot perform the remove operation. Data type of the property {name} is not string | JSON"
                    )
                })?;
                let root = serde_json::from_str(&raw).map_err(|e| {
                    format!("enrich remove: the property {name} does not hold JSON: {e}")
                })?;
                let rest =
                    remove_json_paths(root, &paths)?.map_or(String::new(), |v| v.to_string());
                ctx.set(Scope::Default, name, rest)?;
            }
            _ => return Err("enrich: the remove action takes a body or property target".into()),
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
            // `get-property(...)` of a property holding nodes selects those nodes (Source CUSTOM:
            // xpath.selectNodes gives the OMElement / node list the property holds).
            EnrichSource::Custom(v @ ValueSource::Property(scope, name)) => {
                match ctx.get(*scope, name) {
                    Some(raw) if holds_elements(&raw) => Fragment::Xml(raw),
                    _ => Fragment::Text(v.resolve(ctx)?),
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
            // Source PROPERTY: an element or a node list (markup here) gives its nodes, a string
            // its text.
            EnrichSource::Property(name) => {
                let v = ctx.get(Scope::Default, name).unwrap_or_default();
                if holds_elements(&v) {
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
                self.set_property(ctx, Scope::Default, name, &source)
            }
            EnrichTarget::Key(_) => Err(
                "enrich: a target of type key renames a key of a JSON payload (MI: Invalid Target type)"
                    .into(),
            ),
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
                store_envelope(ctx, edited, "enrich")
            }
            // Target.insert CUSTOM: an xpath starting with get-property( names a property
            // (Target.handleProperty).
            EnrichTarget::Custom(ValueSource::Property(scope, name)) => {
                self.set_property(ctx, *scope, name, &source)
            }
            EnrichTarget::Custom(ValueSource::XPath(x))
                if x.text().trim_start().starts_with("get-property(") =>
            {
                let (scope, name) = get_property_target(x.text())?;
                match scope {
                    Some(scope) => self.set_property(ctx, scope, &name, &source),
                    // Target.setProperty sets nothing in a scope other than default, axis2 and
                    // operation.
                    None => Ok(()),
                }
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
                store_envelope(ctx, edited, "enrich")
            }
            EnrichTarget::Custom(other) => Err(format!(
                "enrich target {} is not an XPath for an XML message",
                other.describe()
            )),
        }
    }

    /// Target PROPERTY and Target.handleProperty: `action="child"` into a property holding an
    /// element adds the source's elements as its last children; otherwise the property becomes
    /// the source (its node list: the elements' markup, or the text).
    fn set_property<B: MessageBody>(
        &self,
        ctx: &mut MessageContext<B>,
        scope: Scope,
        name: &str,
        source: &Fragment,
    ) -> Result<(), String> {
        if self.action == EnrichAction::Child
            && let Some(current) = ctx.get(scope, name)
            && let Ok(doc) = parse_document(&current)
        {
            // insertElement ACTION_ADD_CHILD adds elements only.
            let edited = match source {
                Fragment::Xml(markup) => append_child_content(&current, doc.root_element(), markup),
                Fragment::Text(_) => current.clone(),
            };
            return ctx.set(scope, name, edited);
        }
        // The property holds nodes (MI stores the OMNode list), which read as their text where a
        // string is wanted (SynapseXPath.stringValueOf of a one-element list).
        ctx.mark_om(scope, name, matches!(source, Fragment::Xml(_)));
        ctx.set(scope, name, source.as_string().to_string())
    }
}

/// Puts an envelope that `mediator` (`"enrich"`, `"xslt"`) edited back as the payload, in the form
/// the message had: a SOAP message stays one; otherwise the body's single element is the payload
/// again.
pub(super) fn store_envelope<B: MessageBody>(
    ctx: &mut MessageContext<B>,
    envelope: String,
    mediator: &str,
) -> Result<(), String> {
    let was_soap = matches!(ctx.payload, Some(Payload::Xml { soap: Some(_), .. }));
    let edited = Payload::xml(envelope).map_err(|e| e.to_string())?;
    if was_soap {
        ctx.set_payload(edited);
        return Ok(());
    }
    let Payload::Xml { text, .. } = &edited else {
        return Err(format!("{mediator} produced a message that is not XML"));
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

/// Whether a property's text stands for XML nodes: one element (an OM property), or several
/// elements side by side (the node list an enrich property target stores, Target.java PROPERTY
/// `setProperty(property, sourceNodeList)`), whitespace allowed between them.
fn holds_elements(value: &str) -> bool {
    if !value.trim_start().starts_with('<') {
        return false;
    }
    if parse_document(value).is_ok() {
        return true;
    }
    let wrapped = format!("<w>{value}</w>");
    let Ok(doc) = parse_document(&wrapped) else {
        return false;
    };
    let mut elements = 0;
    for child in doc.root_element().children() {
        if child.is_element() {
            elements += 1;
        } else if child.is_text() && !child.text().unwrap_or("").trim().is_empty() {
            return false;
        }
    }
    elements > 0
}

/// The scope and name of a `get-property(...)` target as Target.handleProperty reads them: the
/// single-quoted arguments, the first the scope when there are two. `None` for a scope the
/// property is not set in (Target.setProperty knows default, axis2 and operation).
fn get_property_target(expression: &str) -> Result<(Option<Scope>, String), String> {
    let arguments: Vec<&str> = QUOTED_ARGUMENT
        .as_ref()
        .map(|re| {
            re.find_iter(expression)
                .map(|m| m.as_str().trim_matches('\''))
                .collect()
        })
        .unwrap_or_default();
    let (scope, name) = match arguments.as_slice() {
        [] => {
            return Err(format!(
                "enrich target {expression}: no single-quoted property name"
            ));
        }
        [name] => ("default", *name),
        [scope, name, ..] => (*scope, *name),
    };
    let scope = match scope {
        "default" => Some(Scope::Default),
        "axis2" => Some(Scope::Axis2),
        "operation" => Some(Scope::Operation),
        _ => None,
    };
    Ok((scope, name.to_string()))
}

/// The root element's own text (`OMElement.getText()`) of inline markup.
fn first_element_text(markup: &str) -> String {
    let wrapped = format!("<w>{markup}</w>");
    let Ok(doc) = parse_document(&wrapped) else {
        return String::new();
    };
    doc.root_element()
        .first_element_child()
        .map(|e| {
            e.children()
                .filter(|c| c.is_text())
                .filter_map(|c| c.text())
                .collect()
        })
        .unwrap_or_default()
}

/// InlineExpressionUtil.checkForInlineExpressions.
fn contains_inline_expressions(text: &str) -> bool {
    INLINE_EXPRESSION
        .as_ref()
        .is_some_and(|re| re.is_match(text))
}

fn placeholders(text: &str) -> Vec<&str> {
    INLINE_EXPRESSION
        .as_ref()
        .map(|re| re.find_iter(text).map(|m| m.as_str()).collect())
        .unwrap_or_default()
}

/// InlineExpressionUtil.replaceDynamicValues (replaceValue with isInline): each `{expression}`
/// is replaced, everywhere it occurs, by its value (`value_of` gets the placeholder, braces
/// included); a value that is neither XML nor JSON is put in double quotes unless quotes
/// already surround the placeholder, and an empty value always is.
fn replace_dynamic_values(
    text: &str,
    value_of: &mut dyn FnMut(&str) -> Result<String, String>,
) -> Result<String, String> {
    let mut out = text.to_string();
    for placeholder in placeholders(text) {
        let Some(at) = out.find(placeholder) else {
            continue;
        };
        let end = at + placeholder.len();
        // `text.substring(index - 1, index + length + 1)`, "" when that is out of range.
        let surrounded = at >= 1
            && end < out.len()
            && out.as_bytes()[at - 1] == b'"'
            && out.as_bytes()[end] == b'"';
        let mut value = value_of(placeholder)?;
        let is_xml = parse_document(&value).is_ok();
        let is_json = serde_json::from_str::<Json>(&value).is_ok();
        if !is_xml && !is_json && (value.is_empty() || !surrounded) {
            value = format!("\"{value}\"");
        }
        out = out.replace(placeholder, &value);
    }
    Ok(out)
}

/// The JSONPaths of a remove action's source (Target.removeJSONFromString): the text inside
/// `json-eval(...)`, its inline expressions replaced (quotes around the result dropped), split at
/// every comma.
fn remove_paths<B: MessageBody>(
    ctx: &MessageContext<B>,
    source: &JsonEval,
) -> Result<Vec<String>, String> {
    let text = source.text().trim();
    let mut inner = text
        .strip_prefix("json-eval(")
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or(text)
        .to_string();
    if contains_inline_expressions(&inner) {
        inner = replace_dynamic_values(&inner, &mut |placeholder| {
            ValueSource::compile_text(&placeholder[1..placeholder.len() - 1], &[])?.resolve(ctx)
        })?;
        inner = inner.strip_prefix('"').unwrap_or(&inner).to_string();
        inner = inner.strip_suffix('"').unwrap_or(&inner).to_string();
    }
    Ok(inner.split(',').map(|p| p.trim().to_string()).collect())
}

/// Deletes every match of each path in turn; `$` empties everything (`None`). A path that
/// matches an empty array (or an indefinite one that matches nothing) removes nothing; a definite
/// path that is missing is Jayway's PathNotFoundException (MI's `jsonpath.ignore.not.found.error`
/// is off by default).
fn remove_json_paths(root: Json, paths: &[String]) -> Result<Option<Json>, String> {
    let mut root = Some(root);
    for text in paths {
        if text == "$" || text == "$." {
            root = None;
            continue;
        }
        let Some(current) = root.as_mut() else {
            return Err(format!(
                "enrich remove: nothing is left to remove {text} from"
            ));
        };
        let path = JsonEval::compile(text).map_err(|e| e.to_string())?;
        match path.evaluate(current) {
            None => return Err(format!("enrich remove: no results for path: {text}")),
            Some(Json::Array(items)) if items.is_empty() => {
                tracing::info!(
                    "No matching elements were found for the given JSONPath: {text}. Therefore, no elements were removed."
                );
            }
            Some(_) => {
                path.remove(current)
                    .map_err(|e| format!("enrich remove {text}: {e}"))?;
            }
        }
    }
    Ok(root)
}

/// EnrichMediator KEY + Target.renameKey: the target path `json-eval($.a.b)` is split at its last
/// `.` into the path of the object (`$.a`) and the key (`b`), which is renamed to the source's
/// text (a JSON primitive). Like Jayway's `renameInMap`, the renamed member moves to the end and
/// a missing key or a target that is not an object is an error.
fn rename_key<B: MessageBody>(
    ctx: &mut MessageContext<B>,
    target: &ValueSource,
    source: Json,
) -> Result<(), String> {
    let new_name = match source {
        Json::String(s) => s,
        Json::Number(n) => n.to_string(),
        Json::Bool(b) => b.to_string(),
        _ => {
            return Err(
                "Failed to get the new key name from source for Enriching. Key name must be a string."
                    .into(),
            );
        }
    };
    let ValueSource::Json(path) = target else {
        return Err(format!(
            "enrich target type key needs a json-eval path, not {}",
            target.describe()
        ));
    };
    let text = path.text().trim();
    let inner = text
        .strip_prefix("json-eval(")
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or(text)
        .trim();
    let (object_path, key) = inner
        .rsplit_once('.')
        .ok_or_else(|| format!("enrich target type key: {inner} does not end in .key"))?;
    let object_path = JsonEval::compile(object_path).map_err(|e| e.to_string())?;
    let mut root = json_payload(ctx);
    let rename = |object: &mut Json| -> Result<(), String> {
        let Json::Object(members) = object else {
            return Err("Can only rename properties in a map".into());
        };
        let Some(value) = members.get(key).cloned() else {
            return Err(format!("No results for Key {key} found in map!"));
        };
        members.insert(new_name.clone(), value);
        members.shift_remove(key);
        Ok(())
    };
    if object_path.is_whole() {
        rename(&mut root)?;
    } else if object_path.is_definite() {
        let mut object = object_path
            .evaluate(&root)
            .ok_or_else(|| format!("No results for path: {}", object_path.text()))?;
        rename(&mut object)?;
        object_path
            .replace(&mut root, object)
            .map_err(|e| e.to_string())?;
    } else {
        return Err(format!(
            "enrich target type key: the path {} selects several places; name one object",
            object_path.text()
        ));
    }
    ctx.set_payload(Payload::Json(root.into()));
    Ok(())
}

fn envelope_of<B>(ctx: &MessageContext<B>) -> String {
    match &ctx.payload {
        Some(p) => p.envelope_xml().into_owned(),
        None => Payload::Empty.envelope_xml().into_owned(),
    }
}

fn json_payload<B>(ctx: &MessageContext<B>) -> Json {
    match &ctx.payload {
        Some(Payload::Json(v)) => v.value().clone(),
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
            Enrich::new(
                EnrichSource::Custom(xpath("//a")),
                EnrichTarget::Custom(xpath("//b")),
                action,
            )
            .apply(&mut c)
            .unwrap();
            assert_eq!(xml_text(&c), expected, "{action:?}");
        }
        let mut c = ctx(pox());
        Enrich::new(
            EnrichSource::InlineText("x".into()),
            EnrichTarget::Custom(xpath("//a")),
            EnrichAction::Remove,
        )
        .apply(&mut c)
        .unwrap();
        assert_eq!(xml_text(&c), "<r><b/></r>");
    }

    // Target.insertElement: a text source replacing an element sets the element's text.
    #[test]
    fn a_text_source_sets_an_elements_text() {
        let mut c = ctx(Payload::xml("<r><a>1</a></r>".into()).unwrap());
        c.set(Scope::Default, "v", "2 < 3".into()).unwrap();
        Enrich::new(
            EnrichSource::Property("v".into()),
            EnrichTarget::Custom(xpath("//a")),
            EnrichAction::Replace,
        )
        .apply(&mut c)
        .unwrap();
        assert_eq!(xml_text(&c), "<r><a>2 &lt; 3</a></r>");
    }

    // Source.BODY is the body's first element; Target.PROPERTY stores it.
    #[test]
    fn body_to_property_and_json_text_to_body() {
        let mut c = ctx(Payload::xml("<r><a>1</a></r>".into()).unwrap());
        Enrich::new(
            EnrichSource::Body,
            EnrichTarget::Property("saved".into()),
            EnrichAction::Replace,
        )
        .apply(&mut c)
        .unwrap();
        assert_eq!(
            c.get(Scope::Default, "saved").as_deref(),
            Some("<r><a>1</a></r>")
        );
        // Target.insertElementToBody: JSON object text replacing the body makes a JSON payload.
        Enrich::new(
            EnrichSource::InlineText("{\"k\": 1}".into()),
            EnrichTarget::Body,
            EnrichAction::Replace,
        )
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
        Enrich::new(
            EnrichSource::Property("p".into()),
            EnrichTarget::Custom(ValueSource::compile_text("json-eval($.a.b)", &[]).unwrap()),
            EnrichAction::Replace,
        )
        .apply(&mut c)
        .unwrap();
        Enrich::new(
            EnrichSource::InlineText("2".into()),
            EnrichTarget::Custom(ValueSource::compile_text("json-eval($.list)", &[]).unwrap()),
            EnrichAction::Child,
        )
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
        let err = Enrich::new(
            EnrichSource::Custom(xpath("//missing")),
            EnrichTarget::Body,
            EnrichAction::Child,
        )
        .apply(&mut c)
        .unwrap_err();
        assert!(err.contains("selects nothing"), "{err}");
    }

    fn json_ctx(v: serde_json::Value) -> MessageContext<http_body_util::Full<bytes::Bytes>> {
        ctx(Payload::Json(v.into()))
    }

    fn json_of(c: &MessageContext<http_body_util::Full<bytes::Bytes>>) -> serde_json::Value {
        match c.payload.as_ref().unwrap() {
            Payload::Json(v) => v.value().clone(),
            other => panic!("{other:?}"),
        }
    }

    fn json_eval(text: &str) -> ValueSource {
        ValueSource::compile_text(text, &[]).unwrap()
    }

    // EnrichMediator ACTION_REMOVE + Target.removeJsonFromBody / removeJSONFromString: every
    // comma-separated path's matches are deleted in turn; `$` empties the body.
    #[test]
    fn remove_deletes_the_source_paths_from_a_json_body() {
        let mut c = json_ctx(serde_json::json!({
            "book": [{"a": "x", "t": 1}, {"a": "y", "t": 2}, {"a": "z", "t": 3}],
            "n": 10
        }));
        Enrich::new(
            EnrichSource::Custom(json_eval("json-eval($.book[*].a,$.book[0])")),
            EnrichTarget::Body,
            EnrichAction::Remove,
        )
        .apply(&mut c)
        .unwrap();
        assert_eq!(
            json_of(&c),
            serde_json::json!({"book": [{"t": 2}, {"t": 3}], "n": 10})
        );
        // An indefinite path matching nothing removes nothing; a missing definite one fails.
        let remove = |path: &str| {
            Enrich::new(
                EnrichSource::Custom(json_eval(path)),
                EnrichTarget::Body,
                EnrichAction::Remove,
            )
        };
        remove("json-eval($.book[?(@.t > 5)])")
            .apply(&mut c)
            .unwrap();
        assert_eq!(json_of(&c)["book"].as_array().unwrap().len(), 2);
        assert!(remove("json-eval($.missing)").apply(&mut c).is_err());
        remove("json-eval($)").apply(&mut c).unwrap();
        assert_eq!(c.payload, Some(Payload::Empty));
    }

    // Target.removeJsonFromProperty: the matches are removed from the property's JSON text.
    #[test]
    fn remove_deletes_the_source_paths_from_a_json_property() {
        let mut c = json_ctx(serde_json::json!({}));
        c.set(
            Scope::Default,
            "p",
            r#"{"book": [{"a": "x", "price": 5}, {"a": "y", "price": 12}]}"#.into(),
        )
        .unwrap();
        Enrich::new(
            EnrichSource::Custom(json_eval("json-eval($.book[*].a,$.book[?(@.price > 10)])")),
            EnrichTarget::Property("p".into()),
            EnrichAction::Remove,
        )
        .apply(&mut c)
        .unwrap();
        assert_eq!(
            c.get(Scope::Default, "p").as_deref(),
            Some(r#"{"book":[{"price":5}]}"#)
        );
        assert_eq!(json_of(&c), serde_json::json!({}));
    }

    // Source.containsInlineExpressions + InlineExpressionUtil.replaceDynamicValues: values are
    // substituted; one already between quotes stays as it is, other non-JSON text is quoted.
    #[test]
    fn inline_expressions_are_replaced_before_the_source_is_used() {
        let mut c = json_ctx(serde_json::json!({}));
        c.set(Scope::Default, "value", "67E 262".into()).unwrap();
        c.set(Scope::Default, "word", "abc".into()).unwrap();
        c.set(Scope::Default, "n", "3".into()).unwrap();
        Enrich::new(
            EnrichSource::InlineText(
                r#"{"value": "{$ctx:value}", "w": {$ctx:word}, "n": {$ctx:n}}"#.into(),
            ),
            EnrichTarget::Custom(json_eval("json-eval($)")),
            EnrichAction::Child,
        )
        .apply(&mut c)
        .unwrap();
        assert_eq!(
            json_of(&c),
            serde_json::json!({"value": "67E 262", "w": "abc", "n": 3})
        );
        // An empty value is quoted even between quotes, which breaks the JSON: the mediation
        // fails (EnrichInvalidAndValidJSONTestCase).
        c.set(Scope::Default, "value", String::new()).unwrap();
        let err = Enrich::new(
            EnrichSource::InlineText(r#"{"value" :"{$ctx:value}"}"#.into()),
            EnrichTarget::Custom(json_eval("json-eval($)")),
            EnrichAction::Child,
        )
        .apply(&mut c)
        .unwrap_err();
        assert!(err.contains("not valid JSON"), "{err}");
    }

    // EnrichMediatorFactory: an inline element is searched in its own text only; when that has an
    // expression, every one in the element is replaced (XPath expressions too).
    #[test]
    fn inline_xml_expressions() {
        let found = Enrich::new(
            EnrichSource::InlineXml("<a><b>{$ctx:x}</b></a>".into()),
            EnrichTarget::Body,
            EnrichAction::Replace,
        );
        assert!(found.inline_expressions.is_empty());
        let mut c = ctx(Payload::xml("<r><s>v</s></r>".into()).unwrap());
        c.set(Scope::Default, "x", "<y/>".into()).unwrap();
        Enrich::new(
            EnrichSource::InlineXml("<a>{//s}<b>{$ctx:x}</b></a>".into()),
            EnrichTarget::Body,
            EnrichAction::Replace,
        )
        .apply(&mut c)
        .unwrap();
        assert_eq!(xml_text(&c), r#"<a>"v"<b><y/></b></a>"#);
    }

    // EnrichMediator KEY + Target.renameKey: the key the path ends with is renamed to the source
    // text; the renamed member moves to the end (Jayway renameInMap: set, then remove).
    #[test]
    fn key_target_renames_a_json_key() {
        let mut c = json_ctx(serde_json::json!({"accountNo": "1001", "customerNo": "0001"}));
        Enrich::new(
            EnrichSource::InlineText("avcId".into()),
            EnrichTarget::Key(json_eval("json-eval($.accountNo)")),
            EnrichAction::Replace,
        )
        .apply(&mut c)
        .unwrap();
        let Some(Payload::Json(v)) = &c.payload else {
            panic!()
        };
        assert_eq!(
            serde_json::to_string(v.value()).unwrap(),
            r#"{"customerNo":"0001","avcId":"1001"}"#
        );
        let mut c = json_ctx(serde_json::json!({"u": {"name": "n"}}));
        Enrich::new(
            EnrichSource::InlineText("login".into()),
            EnrichTarget::Key(json_eval("json-eval($.u.name)")),
            EnrichAction::Replace,
        )
        .apply(&mut c)
        .unwrap();
        assert_eq!(json_of(&c), serde_json::json!({"u": {"login": "n"}}));
        let err = Enrich::new(
            EnrichSource::InlineText("x".into()),
            EnrichTarget::Key(json_eval("json-eval($.u.missing)")),
            EnrichAction::Replace,
        )
        .apply(&mut c)
        .unwrap_err();
        assert!(err.contains("No results for Key missing"), "{err}");
    }

    // Target PROPERTY stores the source's node list; Source PROPERTY and a get-property() source
    // give those nodes back, so replace puts them where the target was (Target.insertElement).
    #[test]
    fn a_property_holding_several_nodes_reads_back_as_nodes() {
        let mut c = ctx(Payload::xml("<r><ret><a>1</a><b>2</b></ret></r>".into()).unwrap());
        Enrich::new(
            EnrichSource::Custom(xpath("//ret/*")),
            EnrichTarget::Property("nodes".into()),
            EnrichAction::Replace,
        )
        .apply(&mut c)
        .unwrap();
        Enrich::new(
            EnrichSource::Property("nodes".into()),
            EnrichTarget::Custom(xpath("//ret")),
            EnrichAction::Replace,
        )
        .apply(&mut c)
        .unwrap();
        assert_eq!(xml_text(&c), "<r><a>1</a><b>2</b></r>");
        let mut c = ctx(Payload::xml("<r><q>IBM</q></r>".into()).unwrap());
        c.set(Scope::Default, "body", "<q><s>WSO2</s></q>".into())
            .unwrap();
        Enrich::new(
            EnrichSource::Custom(xpath("get-property('body')")),
            EnrichTarget::Custom(xpath("//q")),
            EnrichAction::Replace,
        )
        .apply(&mut c)
        .unwrap();
        assert_eq!(xml_text(&c), "<r><q><s>WSO2</s></q></r>");
    }

    // Target.handleProperty: a target xpath get-property('scope', 'name') is that property; child
    // adds the source to the element it holds.
    #[test]
    fn a_get_property_target_edits_the_property() {
        let mut c = ctx(Payload::xml("<article><t>x</t></article>".into()).unwrap());
        c.set(Scope::Operation, "C", "<Content></Content>".into())
            .unwrap();
        Enrich::new(
            EnrichSource::Custom(xpath("$body/*[1]")),
            EnrichTarget::Custom(xpath("get-property('operation', 'C')")),
            EnrichAction::Child,
        )
        .apply(&mut c)
        .unwrap();
        assert_eq!(
            c.get(Scope::Operation, "C").as_deref(),
            Some("<Content><article><t>x</t></article></Content>")
        );
        assert_eq!(
            get_property_target("get-property('axis2','P')").unwrap(),
            (Some(Scope::Axis2), "P".to_string())
        );
        assert_eq!(
            get_property_target("get-property('registry','P')").unwrap(),
            (None, "P".to_string())
        );
    }

    // Target.insertJson PROPERTY with ACTION_ADD_CHILD: the source is added to the JSON array the
    // property holds (PayloadFactoryXMLJSONTestCase JSONToJSON).
    #[test]
    fn child_into_a_json_array_property_appends() {
        let mut c = json_ctx(serde_json::json!({"test": "Hello World"}));
        Enrich::new(
            EnrichSource::InlineText("[]".into()),
            EnrichTarget::Property("p".into()),
            EnrichAction::Replace,
        )
        .apply(&mut c)
        .unwrap();
        Enrich::new(
            EnrichSource::Body,
            EnrichTarget::Property("p".into()),
            EnrichAction::Child,
        )
        .apply(&mut c)
        .unwrap();
        assert_eq!(
            c.get(Scope::Default, "p").as_deref(),
            Some(r#"[{"test":"Hello World"}]"#)
        );
    }

    // MI 4.4's EnrichMediatorFactory reads `xpath="${...}"` with SynapsePathFactory, but
    // Source.evaluate calls selectNodes, which SynapseExpression does not override (the XPath
    // behind it is "/"), so MI never evaluates the expression there; Conflux reads the
    // expression's value as a source (a JSON value stays JSON). As a target nothing can be
    // selected: the message faults.
    #[tokio::test]
    async fn synapse_expressions_in_enrich() {
        use crate::runtime::expr_context::test_support::*;
        let run = |in_sequence: &str| {
            let d = deployed(&[("apis/A.xml", &api("A", in_sequence, ""))]);
            async move {
                call(
                    &d,
                    "POST",
                    "/A/x",
                    Some("application/json"),
                    r#"{"a":{"b":[1,2]},"x":"y"}"#,
                )
                .await
            }
        };
        let (status, headers, _) = run(
            r#"<enrich><source type="custom" xpath="${toUpper(payload.x)}"/><target type="property" property="p"/></enrich>
               <enrich><source type="custom" xpath="${payload.a}" clone="true"/><target type="property" property="q"/></enrich>
               <header name="X-P" scope="transport" expression="$ctx:p"/><header name="X-Q" scope="transport" expression="$ctx:q"/><respond/>"#,
        )
        .await;
        assert_eq!(status, http::StatusCode::OK);
        assert_eq!(
            (&headers["x-p"], &headers["x-q"]),
            (
                &"Y".parse::<http::HeaderValue>().unwrap(),
                &r#"{"b":[1,2]}"#.parse::<http::HeaderValue>().unwrap()
            )
        );
        let (status, _, _) = run(
            r#"<enrich><source type="inline" clone="true">{"v": 1}</source><target type="custom" xpath="${payload.a}"/></enrich><respond/>"#,
        )
        .await;
        assert_eq!(status, http::StatusCode::INTERNAL_SERVER_ERROR);
    }
}
