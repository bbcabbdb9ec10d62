//! `<xslt>` (SYN `mediators/transform/XSLTMediator.java`) and `<fastXSLT>` (carbon-mediation
//! `mediator/fastXSLT/FastXSLTMediator.java`): an XSLT 1.0 transformation by libxslt
//! ([`crate::runtime::xslt`]) of part of the message.
//!
//! - The stylesheet is a local entry or registry resource (`key`, or `key="{expr}"` evaluated per
//!   message); `<resource location key>`s serve its `xsl:import`s and `xsl:include`s. Static keys
//!   compile when the artifact deploys (a redeployment compiles again); dynamic keys compile on
//!   first use and are kept per key, at most [`MAX_CACHED_STYLESHEETS`].
//! - The source is what `source` selects (its first node; a string result is parsed as XML), by
//!   default the first child of the SOAP body; no source and an empty body skips the mediator, as
//!   MI does. A JSON payload is transformed as MI's JSON-to-XML form of it and leaves the message
//!   XML (MI drops the JSON stream).
//! - `<property name value|expression>`s are string parameters (`xsl:param`); a property
//!   reference that is not set passes nothing.
//! - The output replaces the source element; a source that is the envelope is replaced by the
//!   output (which must be a SOAP envelope); the body or header gets the output element's
//!   children. `<xsl:output method="text">` output is wrapped in MI's
//!   `{http://ws.apache.org/commons/ns/payload}text` element. With `target`, the output goes to
//!   that property instead (as XML; as the raw string when `transform.xslt.result.disableBuild`
//!   is `true`).
//! - `<fastXSLT>` transforms the whole message (the SOAP envelope, or the XML document) and its
//!   output becomes the whole message.
//!
//! Failures fault the message with MI's "Unable to perform XSLT transformation using : KEY against
//! source XPath : SOURCE reason : ..." and libxslt's own error lines.

use std::sync::{Arc, Mutex};

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope};
use crate::runtime::mediators::enrich::store_envelope;
use crate::runtime::mediators::validate::DEFAULT_XML_SOURCE;
use crate::runtime::payload::{
    PAYLOAD_NS, Payload, body_element, escape_text, parse_document, soap_version, strip_prolog,
};
use crate::runtime::value::{CtxEnv, ValueSource};
use crate::runtime::xslt::{OutputMethod, XsltStylesheet};
use crate::xpath::{XValue, serialize};

/// Most stylesheets of dynamic keys kept per mediator; past it the oldest is dropped.
pub const MAX_CACHED_STYLESHEETS: usize = 64;

/// SYN XSLTMediator.TRANSFORM_XSLT_RESULT_DISABLE_BUILD.
pub const DISABLE_BUILD_PROPERTY: &str = "transform.xslt.result.disableBuild";

/// XSLTMediator.USE_DOM_SOURCE_AND_RESULTS: DOM rather than stream source and result, a Java
/// detail with no effect on the output.
pub const FEATURE_DOM: &str = "http://ws.apache.org/ns/synapse/transform/feature/dom";

/// JAXP's `XMLConstants.FEATURE_SECURE_PROCESSING`: Conflux always processes securely.
pub const FEATURE_SECURE_PROCESSING: &str =
    "http://javax.xml.XMLConstants/feature/secure-processing";

/// Stylesheets of dynamic keys compiled so far, by key, oldest first.
pub type CompiledStylesheets = Arc<Mutex<Vec<(String, Arc<XsltStylesheet>)>>>;

/// Where the stylesheet comes from.
#[derive(Debug, Clone)]
pub enum Stylesheet {
    /// A static key: compiled at deploy, or the message that says why it did not compile.
    Static(Result<Arc<XsltStylesheet>, String>),
    /// `key="{expr}"`: looked up per message.
    Dynamic {
        key: ValueSource,
        resources: Arc<Vec<(String, String)>>,
        /// `useCache="false"`: compiled for every message.
        use_cache: bool,
        compiled: CompiledStylesheets,
    },
}

#[derive(Debug, Clone)]
pub struct Xslt {
    pub fast: bool,
    /// The key as written, for messages.
    pub key_text: String,
    pub stylesheet: Stylesheet,
    pub source: Option<ValueSource>,
    /// The source as written, for messages.
    pub source_text: Option<String>,
    pub target: Option<String>,
    /// `xsl:param` name and value.
    pub params: Vec<(String, ValueSource)>,
}

/// The part of the message a transformation reads and replaces.
enum Source {
    Envelope,
    Body,
    Header,
    /// An element of the envelope, at this byte range of its text.
    Element(std::ops::Range<usize>),
    /// A string the source expression gave, parsed as XML: not part of the message.
    Detached,
}

impl Xslt {
    pub fn needs_payload(&self) -> bool {
        true
    }

    pub fn apply<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<(), String> {
        let source_name = self.source_text.as_deref().unwrap_or(DEFAULT_XML_SOURCE);
        let fail = |reason: String| {
            format!(
                "Unable to perform XSLT transformation using : {} against source XPath : {source_name} reason : {reason}",
                self.key_text
            )
        };
        if self.fast {
            return self.apply_fast(ctx).map_err(fail);
        }
        let envelope = match &ctx.payload {
            Some(p) => p.envelope_xml().into_owned(),
            None => Payload::Empty.envelope_xml().into_owned(),
        };
        let doc = parse_document(&envelope)
            .map_err(|e| fail(format!("the message is not well-formed XML: {e}")))?;
        let (source, input) = match &self.source {
            None => match body_element(&doc).and_then(|b| b.first_element_child()) {
                Some(first) => (Source::Element(first.range()), serialize(first)),
                // "Found empty soap body, skipping XSLT transformation and continuing the
                // mediation".
                None => {
                    tracing::warn!(
                        "Found empty soap body, skipping XSLT transformation and continuing the mediation"
                    );
                    return Ok(());
                }
            },
            Some(expr) => select(expr, &doc, ctx).map_err(fail)?,
        };
        let stylesheet = self.stylesheet(ctx).map_err(fail)?;
        let mut params = Vec::with_capacity(self.params.len());
        for (name, value) in &self.params {
            if let Some(v) = value.resolve_optional(ctx).map_err(fail)? {
                params.push((name.clone(), v));
            }
        }
        let output = stylesheet
            .transform(&input, &params)
            .map_err(|e| fail(e.to_string()))?;
        for message in &output.messages {
            tracing::info!(target: "conflux::xslt", "{}: {message}", self.key_text);
        }
        if let Some(target) = &self.target
            && ctx
                .get(Scope::Default, DISABLE_BUILD_PROPERTY)
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        {
            return ctx.set(Scope::Default, target, output.text);
        }
        let result = match output.method {
            OutputMethod::Text => text_wrapper(&output.text),
            OutputMethod::Xml | OutputMethod::Html => {
                let xml = strip_prolog(&output.text).to_string();
                // StreamResultBuilder.getNode: the output must be one XML element.
                if let Err(e) = parse_document(&xml) {
                    return Err(fail(format!(
                        "Unable to create an OMElement using XSLT result: {e}"
                    )));
                }
                xml
            }
        };
        if let Some(target) = &self.target {
            ctx.mark_om(Scope::Default, target, true);
            return ctx.set(Scope::Default, target, result);
        }
        let edited = match source {
            Source::Envelope => {
                let payload = Payload::xml(result).map_err(|e| fail(e.to_string()))?;
                if !matches!(payload, Payload::Xml { soap: Some(_), .. }) {
                    return Err(fail(
                        "Unable to replace SOAP envelope with result: the result is not a SOAP envelope"
                            .into(),
                    ));
                }
                ctx.set_payload(payload);
                return Ok(());
            }
            Source::Body | Source::Header => {
                let part = if matches!(source, Source::Body) {
                    "Body"
                } else {
                    "Header"
                };
                let result_doc = parse_document(&result).map_err(fail)?;
                let children: String = result_doc
                    .root_element()
                    .children()
                    .filter(|n| n.is_element())
                    .map(serialize)
                    .collect();
                let root = doc.root_element();
                let element = root
                    .children()
                    .find(|n| n.is_element() && n.tag_name().name() == part)
                    .ok_or_else(|| fail(format!("the envelope has no {part}")))?;
                crate::runtime::payload::splice_element_content(&envelope, element, &children)
            }
            Source::Element(range) => {
                format!(
                    "{}{result}{}",
                    &envelope[..range.start],
                    &envelope[range.end..]
                )
            }
            Source::Detached => {
                return Err(fail(
                    "the source is not part of the message (a string parsed as XML): the result has nowhere to go without a target"
                        .into(),
                ));
            }
        };
        store_envelope(ctx, edited, "xslt").map_err(fail)
    }

    /// `<fastXSLT>`: the whole message in, the whole message out.
    fn apply_fast<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<(), String> {
        let input = match &ctx.payload {
            Some(p @ Payload::Xml { soap: Some(_), .. }) => p.envelope_xml().into_owned(),
            Some(p) => p.body_xml(),
            None => String::new(),
        };
        if input.trim().is_empty() {
            return Err("the message has no content to transform".into());
        }
        let stylesheet = self.stylesheet(ctx)?;
        let output = stylesheet
            .transform(&input, &[])
            .map_err(|e| e.to_string())?;
        let payload = match output.method {
            OutputMethod::Text => Payload::Text(output.text),
            OutputMethod::Xml | OutputMethod::Html => {
                Payload::xml(strip_prolog(&output.text).to_string()).map_err(|e| e.to_string())?
            }
        };
        ctx.set_payload(payload);
        Ok(())
    }

    fn stylesheet<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
    ) -> Result<Arc<XsltStylesheet>, String> {
        let (key, resources, use_cache, compiled) = match &self.stylesheet {
            Stylesheet::Static(compiled) => return compiled.clone(),
            Stylesheet::Dynamic {
                key,
                resources,
                use_cache,
                compiled,
            } => (key, resources, *use_cache, compiled),
        };
        let name = key.resolve(ctx)?;
        if use_cache
            && let Some(found) = compiled
                .lock()
                .ok()
                .and_then(|c| c.iter().find(|(k, _)| *k == name).map(|(_, s)| s.clone()))
        {
            return Ok(found);
        }
        let text = entry_text(ctx, &name).ok_or_else(|| {
            format!("Error creating XSLT transformer using : {name}: no local entry or registry resource of that key")
        })?;
        let stylesheet = Arc::new(
            XsltStylesheet::compile(&name, &text, resources)
                .map_err(|e| format!("Error creating XSLT transformer using : {name}: {e}"))?,
        );
        if use_cache && let Ok(mut c) = compiled.lock() {
            if c.len() >= MAX_CACHED_STYLESHEETS {
                c.remove(0);
            }
            c.push((name, stylesheet.clone()));
        }
        Ok(stylesheet)
    }
}

/// The node `expr` selects, and its XML text (SYN SourceXPathSupport.selectOMNode: the first
/// node; a string is parsed as XML).
fn select<B: MessageBody>(
    expr: &ValueSource,
    doc: &roxmltree::Document,
    ctx: &MessageContext<B>,
) -> Result<(Source, String), String> {
    let missing = |x: &str| {
        format!("The evaluation of the XPath expression {x} did not result in an OMNode : null")
    };
    let text = match expr {
        ValueSource::XPath(x) => {
            match x
                .evaluate(doc, &CtxEnv(ctx))
                .map_err(|e| format!("Error evaluating XPath expression : {}: {e}", x.text()))?
            {
                XValue::Nodes(nodes) => {
                    let Some(node) = nodes.into_iter().next() else {
                        return Err(missing(x.text()));
                    };
                    let root = doc.root_element();
                    if node.is_root() || node == root {
                        return Ok((Source::Envelope, serialize(root)));
                    }
                    if !node.is_element() {
                        return Err(format!(
                            "The evaluation of the XPath expression {} did not result in an element",
                            x.text()
                        ));
                    }
                    let ns = soap_version(root).map(|v| v.namespace());
                    let is_part = |name: &str| {
                        node.parent() == Some(root)
                            && node.tag_name().name() == name
                            && node.tag_name().namespace() == ns
                    };
                    let source = if is_part("Body") {
                        Source::Body
                    } else if is_part("Header") {
                        Source::Header
                    } else {
                        Source::Element(node.range())
                    };
                    return Ok((source, serialize(node)));
                }
                XValue::String(s) if !s.is_empty() => s,
                _ => return Err(missing(x.text())),
            }
        }
        other => match other.resolve(ctx)? {
            s if s.is_empty() => return Err(missing(&other.describe())),
            s => s,
        },
    };
    // SynapseConfigUtils.stringToOM.
    parse_document(&text).map_err(|e| format!("the source is not an XML element: {e}"))?;
    Ok((Source::Detached, text))
}

/// TextFileDataSource: text output as MI's `{http://ws.apache.org/commons/ns/payload}text`.
fn text_wrapper(text: &str) -> String {
    format!(
        "<ns:text xmlns:ns=\"{PAYLOAD_NS}\">{}</ns:text>",
        escape_text(text)
    )
}

/// An entry's text: a local entry, else a registry resource (SYN `MessageContext.getEntry`).
fn entry_text<B>(ctx: &MessageContext<B>, key: &str) -> Option<String> {
    if let Some(text) = ctx.local_entries.get(key) {
        return Some(text.clone());
    }
    ctx.registry.text(key).map(|t| t.into_owned())
}

/// Compiles an artifact's `<xslt>`/`<fastXSLT>`: `entry` gives a local entry's or registry
/// resource's text. A static key compiles here: a key that names no entry fails the deployment;
/// a stylesheet that does not compile is a warning (the second value) and a fault for the
/// messages that reach it, as in MI, which compiles on first use. Features other than
/// [`FEATURE_DOM`] and [`FEATURE_SECURE_PROCESSING`] set to true, and every `<attribute>`, are
/// JAXP settings libxslt has no counterpart for: warnings.
pub(crate) fn compile(
    x: &conflux_artifacts::mediators::Xslt,
    entry: &dyn Fn(&str) -> Option<String>,
) -> Result<(Xslt, Vec<String>), (conflux_artifacts::Span, String)> {
    use conflux_artifacts::{Value, ValueOrExpression};
    let element = if x.fast { "fastXSLT" } else { "xslt" };
    let mut warnings = Vec::new();
    for f in &x.features {
        match (f.name.as_str(), f.enabled) {
            (FEATURE_DOM, _) | (FEATURE_SECURE_PROCESSING, true) => {}
            (FEATURE_SECURE_PROCESSING, false) => warnings.push(format!(
                "<{element}> feature {FEATURE_SECURE_PROCESSING} false is ignored: Conflux never lets a stylesheet read or write files or the network, at {}",
                f.span
            )),
            (name, _) => warnings.push(format!(
                "<{element}> feature {name} is a JAXP/Saxon setting libxslt has no counterpart for: ignored, at {}",
                f.span
            )),
        }
    }
    for a in &x.attributes {
        warnings.push(format!(
            "<{element}> attribute {} is a JAXP TransformerFactory setting libxslt has no counterpart for: ignored, at {}",
            a.name, a.span
        ));
    }
    let mut resources = Vec::with_capacity(x.resources.len());
    for r in &x.resources {
        match entry(&r.key) {
            Some(text) => resources.push((r.location.clone(), text)),
            None => warnings.push(format!(
                "resource key {} of <{element}> is not a local entry or registry resource: imports of {} fail at {}",
                r.key, r.location, r.span
            )),
        }
    }
    let source = match &x.source {
        Some(e) => Some(ValueSource::compile(e).map_err(|err| {
            (
                e.span.clone(),
                format!(
                    "Invalid XPath specified for the source attribute : {}: {err}",
                    e.text
                ),
            )
        })?),
        None => None,
    };
    let mut params = Vec::with_capacity(x.properties.len());
    for p in &x.properties {
        let value = match &p.value {
            ValueOrExpression::Value(v) => ValueSource::Literal(v.clone()),
            ValueOrExpression::Expression(e) => {
                ValueSource::compile(e).map_err(|err| (e.span.clone(), err))?
            }
        };
        params.push((p.name.clone(), value));
    }
    let (key_text, stylesheet) = match &x.key {
        Value::Literal(name, span) => {
            let text = entry(name).ok_or_else(|| {
                (
                    span.clone(),
                    format!("<{element}> key {name} is not a local entry or registry resource"),
                )
            })?;
            let compiled = match XsltStylesheet::compile(name, &text, &resources) {
                Ok(s) => {
                    warnings.extend(s.warnings().iter().map(|w| {
                        format!(
                            "stylesheet {name}: {w} (libxslt runs XSLT 1.0), at {}",
                            x.span
                        )
                    }));
                    Ok(Arc::new(s))
                }
                Err(e) => {
                    let message = format!("Error creating XSLT transformer using : {name}: {e}");
                    warnings.push(format!(
                        "{message}: messages that reach <{element}> at {} fail",
                        x.span
                    ));
                    Err(message)
                }
            };
            (name.clone(), Stylesheet::Static(compiled))
        }
        Value::Dynamic(e) => (
            format!("{{{}}}", e.text),
            Stylesheet::Dynamic {
                key: ValueSource::compile(e).map_err(|err| (e.span.clone(), err))?,
                resources: Arc::new(resources),
                use_cache: x.use_cache,
                compiled: Arc::new(Mutex::new(Vec::new())),
            },
        ),
    };
    Ok((
        Xslt {
            fast: x.fast,
            key_text,
            stylesheet,
            source,
            source_text: x.source.as_ref().map(|e| e.text.clone()),
            target: x.target.clone(),
            params,
        },
        warnings,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    type Ctx = MessageContext<http_body_util::Full<bytes::Bytes>>;

    fn ctx(payload: Payload) -> Ctx {
        let mut c = crate::runtime::context::test_context(Method::POST, "/a");
        c.payload = Some(payload);
        c
    }

    fn mediator(body: &str, source: Option<&str>, target: Option<&str>) -> Xslt {
        let text = format!(
            r#"<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:output omit-xml-declaration="yes"/>{body}</xsl:stylesheet>"#
        );
        let namespaces = [(
            "s".to_string(),
            crate::runtime::payload::SOAP11_NS.to_string(),
        )];
        Xslt {
            fast: false,
            key_text: "k".into(),
            stylesheet: Stylesheet::Static(Ok(Arc::new(
                XsltStylesheet::compile("k", &text, &[]).unwrap(),
            ))),
            source: source.map(|s| ValueSource::compile_text(s, &namespaces).unwrap()),
            source_text: source.map(str::to_string),
            target: target.map(str::to_string),
            params: Vec::new(),
        }
    }

    fn xml(c: &Ctx) -> String {
        match c.payload.as_ref().unwrap() {
            Payload::Xml { text, .. } => text.clone(),
            other => panic!("{other:?}"),
        }
    }

    const RENAME: &str = r#"<xsl:template match="/*"><renamed><xsl:copy-of select="node()"/></renamed></xsl:template>"#;

    // XSLTMediator.performXSLT: the output replaces the source node; a POX message stays POX.
    #[test]
    fn the_output_replaces_the_source() {
        let mut c = ctx(Payload::xml("<a><b>1</b><c>2</c></a>".into()).unwrap());
        mediator(RENAME, None, None).apply(&mut c).unwrap();
        assert_eq!(xml(&c), "<renamed><b>1</b><c>2</c></renamed>");
        mediator(RENAME, Some("//c"), None).apply(&mut c).unwrap();
        assert_eq!(xml(&c), "<renamed><b>1</b><renamed>2</renamed></renamed>");
        // A JSON payload is transformed as its XML form and leaves the message XML.
        let mut c = ctx(Payload::Json(serde_json::json!({"x": 1}).into()));
        mediator(RENAME, None, None).apply(&mut c).unwrap();
        assert_eq!(xml(&c), "<renamed><x>1</x></renamed>");
    }

    // The body or the header as the source: its children are replaced by the output element's
    // children; an empty body without a source is skipped.
    #[test]
    fn body_and_header_sources() {
        let envelope = |header: &str, body: &str| {
            format!(
                r#"<s:Envelope xmlns:s="{}"><s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"#,
                crate::runtime::payload::SOAP11_NS
            )
        };
        let wrap = r#"<xsl:template match="/*"><w><x/><y/></w></xsl:template>"#;
        let mut c = ctx(Payload::xml(envelope("<h/>", "<a/>")).unwrap());
        mediator(wrap, Some("//s:Body"), None)
            .apply(&mut c)
            .unwrap();
        assert_eq!(xml(&c), envelope("<h/>", "<x/><y/>"));
        mediator(wrap, Some("//s:Header"), None)
            .apply(&mut c)
            .unwrap();
        assert_eq!(xml(&c), envelope("<x/><y/>", "<x/><y/>"));
        let empty = envelope("", "");
        let mut c = ctx(Payload::xml(empty.clone()).unwrap());
        mediator(wrap, None, None).apply(&mut c).unwrap();
        assert_eq!(xml(&c), empty);
    }

    // Text output is wrapped in MI's text element; `target` keeps the message and sets the
    // property (as nodes); a string source needs a target.
    #[test]
    fn text_output_and_targets() {
        let text = r#"<xsl:output method="text"/><xsl:template match="/">a &lt; b</xsl:template>"#;
        let mut c = ctx(Payload::xml("<a/>".into()).unwrap());
        mediator(text, None, None).apply(&mut c).unwrap();
        assert_eq!(
            xml(&c),
            format!(r#"<ns:text xmlns:ns="{PAYLOAD_NS}">a &lt; b</ns:text>"#)
        );
        let mut c = ctx(Payload::xml("<a>1</a>".into()).unwrap());
        mediator(RENAME, None, Some("out")).apply(&mut c).unwrap();
        assert_eq!(xml(&c), "<a>1</a>");
        assert_eq!(
            c.get(Scope::Default, "out").as_deref(),
            Some("<renamed>1</renamed>")
        );
        c.set(Scope::Default, "p", "<q>2</q>".into()).unwrap();
        mediator(RENAME, Some("get-property('p')"), Some("out2"))
            .apply(&mut c)
            .unwrap();
        assert_eq!(
            c.get(Scope::Default, "out2").as_deref(),
            Some("<renamed>2</renamed>")
        );
        let err = mediator(RENAME, Some("get-property('p')"), None)
            .apply(&mut c)
            .unwrap_err();
        assert!(err.contains("without a target"), "{err}");
    }

    // SourceXPathSupport: a source that selects nothing faults with MI's message.
    #[test]
    fn a_source_that_selects_nothing_faults() {
        let mut c = ctx(Payload::xml("<a/>".into()).unwrap());
        let err = mediator(RENAME, Some("//missing"), None)
            .apply(&mut c)
            .unwrap_err();
        assert_eq!(
            err,
            "Unable to perform XSLT transformation using : k against source XPath : //missing reason : The evaluation of the XPath expression //missing did not result in an OMNode : null"
        );
    }

    // Dynamic keys compile once per key and keep at most MAX_CACHED_STYLESHEETS.
    #[test]
    fn dynamic_stylesheets_are_cached_and_bounded() {
        let compiled: CompiledStylesheets = Arc::default();
        let m = Xslt {
            fast: false,
            key_text: "{$ctx:k}".into(),
            stylesheet: Stylesheet::Dynamic {
                key: ValueSource::Property(Scope::Default, "k".into()),
                resources: Arc::default(),
                use_cache: true,
                compiled: compiled.clone(),
            },
            source: None,
            source_text: None,
            target: None,
            params: Vec::new(),
        };
        let mut c = ctx(Payload::xml("<a/>".into()).unwrap());
        let sheet = format!(
            r#"<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">{RENAME}</xsl:stylesheet>"#
        );
        c.local_entries = Arc::new(
            (0..=MAX_CACHED_STYLESHEETS)
                .map(|i| (format!("s{i}"), sheet.clone()))
                .collect(),
        );
        for i in 0..=MAX_CACHED_STYLESHEETS {
            c.set(Scope::Default, "k", format!("s{i}")).unwrap();
            m.stylesheet(&c).unwrap();
        }
        let kept = compiled.lock().unwrap();
        assert_eq!(kept.len(), MAX_CACHED_STYLESHEETS);
        assert_eq!(kept[0].0, "s1");
    }
}
