//! The preamble the parsers of tasks, message stores, message processors and inbound endpoints
//! share: the artifact size limit, the XML parse, the root element check (`<local>` in the
//! Synapse namespace, or bare where MI's factory does not look at the namespace), the trimmed
//! `name`, `class` and optional attributes, and `<parameter name>value</parameter>` elements read
//! into [`StoreParameter`]s. Each parser keeps only what is its own: which attributes are
//! required, its defaults and its settings.

use std::sync::Arc;

use roxmltree::{Document, Node};

use crate::error::ArtifactError;
use crate::message_store::StoreParameter;
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named, parse_document, text_of};
use crate::{MAX_ARTIFACT_BYTES, SYNAPSE_NS};

/// Whether the root element may be written without the Synapse namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RootNamespace {
    /// `<local xmlns="http://ws.apache.org/ns/synapse">` only.
    Synapse,
    /// The Synapse namespace or none (SYN:`config/xml/inbound/InboundEndpointFactory.java` does
    /// not check the root's namespace).
    SynapseOrBare,
}

/// One artifact file, checked against [`MAX_ARTIFACT_BYTES`] and parsed.
pub(crate) struct ArtifactDocument<'input> {
    file: Arc<str>,
    doc: Document<'input>,
}

impl<'input> ArtifactDocument<'input> {
    /// # Errors
    /// [`ArtifactError::TooLarge`] over [`MAX_ARTIFACT_BYTES`], or the XML error.
    pub fn parse(file_label: &str, xml: &'input str) -> Result<Self> {
        check_size(file_label, xml)?;
        let file: Arc<str> = Arc::from(file_label);
        let doc = parse_document(&file, xml)?;
        Ok(ArtifactDocument { file, doc })
    }

    /// The parsing context (no injected values) and the root element, whatever it is.
    pub fn context(&self) -> (Ctx<'_, 'input>, Node<'_, 'input>) {
        let ctx = Ctx {
            file: self.file.clone(),
            doc: &self.doc,
            values: None,
        };
        (ctx, self.doc.root_element())
    }

    /// The parsing context and the root element, which must be `<local>` (in `namespace`).
    ///
    /// # Errors
    /// [`ArtifactError::Invalid`] naming the element found and the one expected.
    pub fn root(
        &self,
        local: &str,
        namespace: RootNamespace,
    ) -> Result<(Ctx<'_, 'input>, Node<'_, 'input>)> {
        let (ctx, root) = self.context();
        let found = root.tag_name();
        let bare_ok = namespace == RootNamespace::SynapseOrBare && found.namespace().is_none();
        if found.name() != local || !(bare_ok || found.namespace() == Some(SYNAPSE_NS)) {
            let expected = if bare_ok {
                format!("<{local}>")
            } else {
                format!("<{local} xmlns=\"{SYNAPSE_NS}\">")
            };
            return Err(ctx.invalid(
                root,
                format!("expected {expected}, found <{}>", found.name()),
            ));
        }
        Ok((ctx, root))
    }
}

/// [`ArtifactError::TooLarge`] when `xml` is over [`MAX_ARTIFACT_BYTES`].
pub(crate) fn check_size(file_label: &str, xml: &str) -> Result<()> {
    if xml.len() as u64 > MAX_ARTIFACT_BYTES {
        return Err(ArtifactError::TooLarge {
            size: xml.len() as u64,
            limit: MAX_ARTIFACT_BYTES,
            span: Span::whole_file(file_label),
        });
    }
    Ok(())
}

/// Attribute `attr` of `node`, required (present and not blank), trimmed.
pub(crate) fn required_trimmed(
    ctx: &Ctx,
    node: Node,
    attr: &str,
    expected: &str,
) -> Result<String> {
    Ok(ctx.required_attr(node, attr, expected)?.trim().to_string())
}

/// Attribute `attr` of `node`, trimmed, when present.
pub(crate) fn trimmed(ctx: &Ctx, node: Node, attr: &str) -> Option<String> {
    ctx.attr(node, attr).map(|value| value.trim().to_string())
}

/// One `<parameter name>value</parameter>`: the name is required, the value is the trimmed text,
/// and a value taken from the registry (`key`) is refused.
pub(crate) fn parse_parameter(ctx: &Ctx, node: Node) -> Result<StoreParameter> {
    let name = required_trimmed(ctx, node, "name", "the parameter's name")?;
    if ctx.attr(node, "key").is_some() {
        return Err(ctx.unsupported(
            node,
            format!("parameter '{name}' with a registry 'key'"),
            "not supported yet: write the value inline",
        ));
    }
    Ok(StoreParameter {
        name,
        value: text_of(node).trim().to_string(),
        span: ctx.span(node),
    })
}

/// The `<parameter>` children of a message store or processor, in document order (a
/// `<description>` is skipped, anything else refused).
pub(crate) fn parse_parameters(ctx: &Ctx, root: Node) -> Result<Vec<StoreParameter>> {
    let mut out = Vec::new();
    for child in element_children(root) {
        if is_synapse_named(child, "description") {
            continue;
        }
        if !is_synapse_named(child, "parameter") {
            return Err(ctx.unknown(child, root, "<parameter> or <description>"));
        }
        out.push(parse_parameter(ctx, child)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error of `root(local, namespace)` on `xml`, as text.
    fn root_error(xml: &str, local: &str, namespace: RootNamespace) -> String {
        let doc = ArtifactDocument::parse("a.xml", xml).unwrap();
        match doc.root(local, namespace) {
            Ok(_) => panic!("<{local}> accepted in {xml}"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn root_in_the_synapse_namespace_is_required_unless_bare_is_allowed() {
        let bare = "<task name=\"T\"/>";
        let err = root_error(bare, "task", RootNamespace::Synapse);
        assert!(
            err.contains(&format!(
                "expected <task xmlns=\"{SYNAPSE_NS}\">, found <task>"
            )),
            "{err}"
        );
        let doc = ArtifactDocument::parse("a.xml", bare).unwrap();
        assert!(doc.root("task", RootNamespace::SynapseOrBare).is_ok());
        let err = root_error(bare, "messageStore", RootNamespace::SynapseOrBare);
        assert!(
            err.contains("expected <messageStore>, found <task>"),
            "{err}"
        );
        let other_ns = "<task xmlns=\"urn:other\" name=\"T\"/>";
        let err = root_error(other_ns, "task", RootNamespace::SynapseOrBare);
        assert!(
            err.contains(&format!("expected <task xmlns=\"{SYNAPSE_NS}\">")),
            "{err}"
        );
    }

    #[test]
    fn a_file_over_the_size_limit_is_refused_before_parsing() {
        let limit = usize::try_from(MAX_ARTIFACT_BYTES).unwrap();
        assert!(check_size("a.xml", &" ".repeat(limit)).is_ok());
        let over = format!("<a>{}</a>", " ".repeat(limit - 6));
        let Err(ArtifactError::TooLarge { size, limit: l, .. }) =
            ArtifactDocument::parse("a.xml", &over).map(|_| ())
        else {
            panic!("not refused as too large")
        };
        assert_eq!((size, l), (MAX_ARTIFACT_BYTES + 1, MAX_ARTIFACT_BYTES));
    }
}
