//! Shared XML helpers over roxmltree: spans from byte offsets, attribute access with located errors,
//! Synapse-namespace children, the nesting-depth guard, and raw source slices.

use std::borrow::Cow;
use std::sync::Arc;

use roxmltree::{Document, Node};

use crate::error::ArtifactError;
use crate::expression::{Expression, Value};
use crate::inject::InjectedValues;
use crate::span::Span;
use crate::xml_limits::{XmlLimitError, XmlLimits, check_structure, line_at};

/// The Synapse configuration namespace every artifact element lives in.
pub const SYNAPSE_NS: &str = "http://ws.apache.org/ns/synapse";

/// Deepest element nesting accepted in one artifact. The parser and the mediation engine recurse
/// over nested mediators; MI's own test corpus stays well under 40 levels.
pub const MAX_NESTING_DEPTH: usize = 256;

pub(crate) type Result<T> = std::result::Result<T, ArtifactError>;

/// Parsing context: the file label, the document (for positions and source slices) and the
/// injected values to resolve.
pub(crate) struct Ctx<'a, 'input> {
    pub file: Arc<str>,
    pub doc: &'a Document<'input>,
    /// Resolves `$SYSTEM:`, `$FILE:`, `$config(s):`, `${configs.}` values where MI's factories call
    /// `ResolverFactory` ([`Ctx::inject`]); `None` leaves them as written.
    pub values: Option<&'a dyn InjectedValues>,
}

impl<'a, 'input> Ctx<'a, 'input> {
    pub fn pos_span(&self, pos: usize) -> Span {
        let text_pos = self.doc.text_pos_at(pos);
        Span::new(self.file.clone(), text_pos.row, text_pos.col)
    }

    pub fn span(&self, node: Node) -> Span {
        self.pos_span(node.range().start)
    }

    /// Span of an attribute (its name), or of the element when absent.
    pub fn attr_span(&self, node: Node, name: &str) -> Span {
        match node
            .attributes()
            .find(|a| a.namespace().is_none() && a.name() == name)
        {
            Some(attr) => self.pos_span(attr.range().start),
            None => self.span(node),
        }
    }

    /// The exact source text of a node (an element with its tags, as written).
    pub fn source(&self, node: Node) -> String {
        self.doc
            .input_text()
            .get(node.range())
            .unwrap_or_default()
            .to_string()
    }

    /// The source text of an element that is used on its own (inline XML values): the prefixed
    /// namespace declarations it inherits from the artifact are added to its start tag, so that the
    /// text parses by itself, as Axiom's serialisation of the element would (MI keeps inline values
    /// as elements with their namespaces).
    pub fn standalone_source(&self, node: Node) -> String {
        let text = self.source(node);
        if !node.is_element() {
            return text;
        }
        let own: Vec<&str> = node
            .namespaces()
            .filter(|ns| {
                node.parent_element()
                    .is_none_or(|p| p.lookup_namespace_uri(ns.name()) != Some(ns.uri()))
            })
            .filter_map(|ns| ns.name())
            .collect();
        // Only the namespaces the element's subtree uses (for its names or attribute names).
        let used: Vec<&str> = node
            .descendants()
            .filter(|n| n.is_element())
            .flat_map(|n| {
                n.tag_name()
                    .namespace()
                    .into_iter()
                    .chain(n.attributes().filter_map(|a| a.namespace()))
            })
            .collect();
        let mut declarations = String::new();
        for ns in node.namespaces() {
            let Some(prefix) = ns.name() else { continue };
            if prefix == "xml" || own.contains(&prefix) || !used.contains(&ns.uri()) {
                continue;
            }
            declarations.push_str(&format!(
                " xmlns:{prefix}=\"{}\"",
                ns.uri().replace('&', "&amp;").replace('"', "&quot;")
            ));
        }
        if declarations.is_empty() {
            return text;
        }
        let name_end = text[1..]
            .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
            .map_or(text.len(), |i| i + 1);
        format!("{}{declarations}{}", &text[..name_end], &text[name_end..])
    }

    /// The source text between an element's start and end tags.
    pub fn inner_source(&self, node: Node) -> String {
        let (Some(first), Some(last)) = (node.first_child(), node.last_child()) else {
            return String::new();
        };
        let range = first.range().start..last.range().end;
        self.doc
            .input_text()
            .get(range)
            .unwrap_or_default()
            .to_string()
    }

    /// `value`, the `what` (e.g. `attribute 'uri'`) of `node`, as SYN
    /// `ResolverFactory.getResolver(value).resolve()` gives it; a value that cannot be resolved is
    /// an error at `span` naming the value (the artifact does not deploy, as in MI).
    pub fn inject<'v>(
        &self,
        node: Node,
        what: &str,
        value: &'v str,
        span: Span,
    ) -> Result<Cow<'v, str>> {
        let Some(values) = self.values else {
            return Ok(Cow::Borrowed(value));
        };
        crate::inject::resolve(value, values).map_err(|err| ArtifactError::Invalid {
            message: format!(
                "cannot resolve \"{value}\" in {what} of <{}>: {err}",
                element_name(node)
            ),
            span,
        })
    }

    /// Attribute `name` after [`Ctx::inject`].
    pub fn injected_attr<'n>(
        &self,
        node: Node<'n, 'input>,
        name: &str,
    ) -> Result<Option<Cow<'n, str>>> {
        match self.attr(node, name) {
            None => Ok(None),
            Some(raw) => self
                .inject(
                    node,
                    &format!("attribute '{name}'"),
                    raw,
                    self.attr_span(node, name),
                )
                .map(Some),
        }
    }

    /// [`Ctx::required_attr`] after [`Ctx::inject`]: the resolved value must not be blank either.
    pub fn required_injected_attr<'n>(
        &self,
        node: Node<'n, 'input>,
        name: &str,
        expected: &str,
    ) -> Result<Cow<'n, str>> {
        let raw = self.required_attr(node, name, expected)?;
        let value = self.inject(
            node,
            &format!("attribute '{name}'"),
            raw,
            self.attr_span(node, name),
        )?;
        if value.trim().is_empty() {
            return Err(self.invalid_attr(
                node,
                name,
                raw,
                &format!("{expected} (it resolved to an empty value)"),
            ));
        }
        Ok(value)
    }

    pub fn attr<'n>(&self, node: Node<'n, 'input>, name: &str) -> Option<&'n str> {
        node.attributes()
            .find(|a| a.namespace().is_none() && a.name() == name)
            .map(|a| a.value())
    }

    pub fn required_attr<'n>(
        &self,
        node: Node<'n, 'input>,
        name: &str,
        expected: &str,
    ) -> Result<&'n str> {
        match self.attr(node, name) {
            Some(value) if !value.trim().is_empty() => Ok(value),
            _ => Err(self.missing(node, &format!("attribute '{name}'"), expected)),
        }
    }

    pub fn missing(&self, node: Node, what: &str, expected: &str) -> ArtifactError {
        ArtifactError::Missing {
            element: element_name(node),
            what: what.to_string(),
            expected: expected.to_string(),
            span: self.span(node),
        }
    }

    pub fn invalid_attr(
        &self,
        node: Node,
        name: &str,
        value: &str,
        expected: &str,
    ) -> ArtifactError {
        ArtifactError::InvalidValue {
            element: element_name(node),
            what: format!("attribute '{name}'"),
            value: value.to_string(),
            expected: expected.to_string(),
            span: self.attr_span(node, name),
        }
    }

    pub fn invalid_text(&self, node: Node, value: &str, expected: &str) -> ArtifactError {
        ArtifactError::InvalidValue {
            element: element_name(node),
            what: "text".to_string(),
            value: value.to_string(),
            expected: expected.to_string(),
            span: self.span(node),
        }
    }

    pub fn invalid(&self, node: Node, message: String) -> ArtifactError {
        ArtifactError::Invalid {
            message,
            span: self.span(node),
        }
    }

    pub fn unsupported(&self, node: Node, what: String, why: &str) -> ArtifactError {
        ArtifactError::Unsupported {
            what,
            why: why.to_string(),
            span: self.span(node),
        }
    }

    pub fn unknown(&self, node: Node, parent: Node, expected: &str) -> ArtifactError {
        ArtifactError::UnknownElement {
            element: element_name(node),
            parent: element_name(parent),
            expected: expected.to_string(),
            span: self.span(node),
        }
    }

    /// `true`/`false` attribute (case-insensitive, as Java's `Boolean.parseBoolean` reads it for
    /// the flags used here), `default` when absent.
    pub fn bool_attr(&self, node: Node, name: &str, default: bool) -> Result<bool> {
        match self.attr(node, name) {
            None => Ok(default),
            Some(v) if v.trim().eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.trim().eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(self.invalid_attr(node, name, v, "true or false")),
        }
    }

    /// An expression written in attribute `name`, with the element's namespaces in scope.
    pub fn expression_attr(&self, node: Node, name: &str) -> Result<Option<Expression>> {
        match self.attr(node, name) {
            None => Ok(None),
            Some(text) if text.trim().is_empty() => {
                Err(self.invalid_attr(node, name, text, "a non-empty expression"))
            }
            Some(text) => Ok(Some(self.expression(
                node,
                text,
                self.attr_span(node, name),
            ))),
        }
    }

    pub fn expression(&self, node: Node, text: &str, span: Span) -> Expression {
        Expression {
            text: text.trim().to_string(),
            namespaces: prefixed_namespaces(node),
            span,
        }
    }

    /// A key/name attribute that may be dynamic (`{expr}`), SYN:`config/xml/ValueFactory.java`.
    pub fn value_attr(&self, node: Node, name: &str) -> Option<Value> {
        let text = self.attr(node, name)?;
        let span = self.attr_span(node, name);
        Some(self.value_from(node, text, span))
    }

    pub fn value_from(&self, node: Node, text: &str, span: Span) -> Value {
        let trimmed = text.trim();
        if trimmed.len() >= 2 && trimmed.starts_with('{') && trimmed.ends_with('}') {
            let inner = &trimmed[1..trimmed.len() - 1];
            Value::Dynamic(self.expression(node, inner, span))
        } else {
            Value::Literal(text.to_string(), span)
        }
    }
}

/// `prefix:local` as written, for messages.
pub fn element_name(node: Node) -> String {
    let local = node.tag_name().name();
    match node
        .tag_name()
        .namespace()
        .and_then(|ns| node.lookup_prefix(ns))
    {
        Some(prefix) if !prefix.is_empty() => format!("{prefix}:{local}"),
        _ => local.to_string(),
    }
}

pub fn is_synapse(node: Node) -> bool {
    node.is_element() && node.tag_name().namespace() == Some(SYNAPSE_NS)
}

pub fn is_synapse_named(node: Node, local: &str) -> bool {
    is_synapse(node) && node.tag_name().name() == local
}

/// Element children, without `<description>` (accepted and ignored everywhere, synapse-subset §2.4).
pub fn element_children<'a, 'input>(
    node: Node<'a, 'input>,
) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children()
        .filter(|c| c.is_element() && !is_synapse_named(*c, "description"))
}

/// Concatenated text content of an element's direct text children.
pub fn text_of(node: Node) -> String {
    node.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect()
}

fn prefixed_namespaces(node: Node) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = node
        .namespaces()
        .filter_map(|ns| ns.name().map(|p| (p.to_string(), ns.uri().to_string())))
        .filter(|(prefix, _)| prefix != "xml")
        .collect();
    out.sort();
    out
}

/// Every namespace in scope including the default one (prefix `""`), for templates such as a
/// payloadFactory `<format>` whose elements inherit the Synapse default namespace.
pub fn all_namespaces(node: Node) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = node
        .namespaces()
        .map(|ns| (ns.name().unwrap_or("").to_string(), ns.uri().to_string()))
        .filter(|(prefix, _)| prefix != "xml")
        .collect();
    out.sort();
    out
}

/// Most attributes on one element of an artifact (roxmltree's duplicate check is quadratic per
/// element; Synapse elements carry a handful).
pub const MAX_ARTIFACT_ATTRIBUTES_PER_ELEMENT: usize = 256;

/// Most attributes in one artifact file.
pub const MAX_ARTIFACT_ATTRIBUTES: usize = 1_000_000;

/// Most namespace bindings in scope on one artifact element.
pub const MAX_ARTIFACT_NAMESPACES_IN_SCOPE: usize = 128;

/// Most namespace bindings roxmltree copies while parsing one artifact (see
/// [`crate::xml_limits::XmlLimits::max_namespace_bindings`]).
pub const MAX_ARTIFACT_NAMESPACE_BINDINGS: usize = 1_000_000;

/// Most nodes in one artifact document (roxmltree's `nodes_limit`).
pub const MAX_ARTIFACT_NODES: u32 = 4_000_000;

const ARTIFACT_XML_LIMITS: XmlLimits = XmlLimits {
    max_depth: MAX_NESTING_DEPTH,
    max_attributes_per_element: MAX_ARTIFACT_ATTRIBUTES_PER_ELEMENT,
    max_attributes: MAX_ARTIFACT_ATTRIBUTES,
    max_namespaces_in_scope: MAX_ARTIFACT_NAMESPACES_IN_SCOPE,
    max_namespace_bindings: MAX_ARTIFACT_NAMESPACE_BINDINGS,
};

/// Parses `text` with DTDs refused (no entity expansion, no XXE: nothing is ever fetched), after a
/// linear scan against [`ARTIFACT_XML_LIMITS`] (depth, attributes, namespaces) so that neither the
/// parser nor any recursive walk pays more than linear time for a hostile file; the nesting depth
/// is checked again on the tree.
pub(crate) fn parse_document<'input>(
    file: &Arc<str>,
    text: &'input str,
) -> Result<Document<'input>> {
    check_structure(text, &ARTIFACT_XML_LIMITS).map_err(|err| {
        let line = u32::try_from(line_at(text, err.offset())).unwrap_or(u32::MAX);
        let span = Span::new(file.clone(), line, 1);
        match err {
            XmlLimitError::Depth { limit, .. } => ArtifactError::TooDeep { limit, span },
            other => ArtifactError::Invalid {
                message: format!("refused: {other}"),
                span,
            },
        }
    })?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_ARTIFACT_NODES,
        ..Default::default()
    };
    let doc = Document::parse_with_options(text, options).map_err(|err| {
        let pos = err.pos();
        let message = err.to_string();
        let suffix = format!(" at {}:{}", pos.row, pos.col);
        let message = message
            .strip_suffix(&suffix)
            .unwrap_or(&message)
            .to_string();
        ArtifactError::XmlSyntax {
            message,
            span: Span::new(file.clone(), pos.row, pos.col),
        }
    })?;
    check_depth(file, &doc)?;
    Ok(doc)
}

fn check_depth(file: &Arc<str>, doc: &Document) -> Result<()> {
    // Depth per node id, filled in document order (a parent always precedes its children).
    let mut depth: Vec<u32> = Vec::new();
    for node in doc.descendants() {
        let id = node.id().get_usize();
        let parent_depth = node
            .parent()
            .map(|p| depth.get(p.id().get_usize()).copied().unwrap_or(0));
        let d = parent_depth.map(|p| p + 1).unwrap_or(0);
        if depth.len() <= id {
            depth.resize(id + 1, 0);
        }
        depth[id] = d;
        if node.is_element() && d as usize > MAX_NESTING_DEPTH {
            let pos = doc.text_pos_at(node.range().start);
            return Err(ArtifactError::TooDeep {
                limit: MAX_NESTING_DEPTH,
                span: Span::new(file.clone(), pos.row, pos.col),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        let mut s = String::new();
        for _ in 0..depth {
            s.push_str("<a>");
        }
        for _ in 0..depth {
            s.push_str("</a>");
        }
        s
    }

    #[test]
    fn depth_at_limit_is_accepted_and_one_more_is_rejected() {
        let file: Arc<str> = Arc::from("t.xml");
        // The root element has depth 1 (the document node is 0).
        assert!(parse_document(&file, &nested(MAX_NESTING_DEPTH)).is_ok());
        let err = parse_document(&file, &nested(MAX_NESTING_DEPTH + 1)).unwrap_err();
        assert_eq!(err.kind(), "too-deep");
        assert!(err.to_string().contains("t.xml:1:"), "{err}");
    }

    #[test]
    fn fifty_thousand_levels_do_not_overflow_the_stack() {
        let file: Arc<str> = Arc::from("deep.xml");
        let err = parse_document(&file, &nested(50_000)).unwrap_err();
        assert!(matches!(err.kind(), "too-deep" | "xml-syntax"), "{err}");
    }

    #[test]
    fn dtd_is_refused() {
        let file: Arc<str> = Arc::from("x.xml");
        let text = r#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>"#;
        let err = parse_document(&file, text).unwrap_err();
        assert_eq!(err.kind(), "xml-syntax");
        assert!(err.to_string().contains("x.xml:1:"), "{err}");
    }

    #[test]
    fn huge_attribute_is_fine() {
        let file: Arc<str> = Arc::from("x.xml");
        let text = format!("<a b=\"{}\"/>", "x".repeat(4_000_000));
        assert!(parse_document(&file, &text).is_ok());
    }
}
