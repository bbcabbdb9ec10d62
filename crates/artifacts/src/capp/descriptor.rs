//! The XML descriptors of a CApp: `artifacts.xml`/`metadata.xml` (the `carbon/application`
//! artifact and its dependencies) and each directory's `artifact.xml`, read as MI's
//! `ApplicationConfiguration` and `AppDeployerUtils.populateArtifact` read them: elements matched by
//! local name, attributes without a namespace. Also the shared XML entry point of the `capp` module.

use std::sync::Arc;

use roxmltree::{Document, Node};

use crate::xml::parse_document;

/// `type` of the artifact in `artifacts.xml` that is the application itself
/// (MI `AppDeployerConstants.CARBON_APP_TYPE`).
pub(crate) const CARBON_APP_TYPE: &str = "carbon/application";

/// One `<artifact>`: the application in `artifacts.xml`, or the content of an `artifact.xml`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Descriptor {
    pub name: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    /// `<file>` texts (trimmed), relative to the artifact's directory.
    pub files: Vec<String>,
    pub dependencies: Vec<Dependency>,
}

/// One `<dependency artifact=".." version=".." serverRole=".."/>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dependency {
    pub name: Option<String>,
    pub version: Option<String>,
    pub server_role: Option<String>,
    /// `file:line:column` of the element, for errors.
    pub at: String,
}

/// Decodes `bytes` as UTF-8 (a leading byte-order mark dropped), or says why not.
pub(crate) fn utf8_text<'b>(label: &str, bytes: &'b [u8]) -> Result<&'b str, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|err| {
        format!(
            "{label}: not UTF-8 text (invalid byte at offset {})",
            err.valid_up_to()
        )
    })
}

/// Parses XML as every artifact is parsed (DTDs refused, nesting depth bounded), the error as
/// text located at `label:line:column`.
pub(crate) fn parse_xml<'t>(label: &str, text: &'t str) -> Result<Document<'t>, String> {
    let file: Arc<str> = Arc::from(label);
    parse_document(&file, text).map_err(|err| err.to_string())
}

pub(crate) fn position(label: &str, doc: &Document, node: Node) -> String {
    let pos = doc.text_pos_at(node.range().start);
    format!("{label}:{}:{}", pos.row, pos.col)
}

pub(crate) fn children_named<'a, 'input>(
    node: Node<'a, 'input>,
    local: &'static str,
) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == local)
}

/// The text of the first child element named `local` (MI `readChildText`), trimmed.
pub(crate) fn child_text(node: Node, local: &'static str) -> Option<String> {
    children_named(node, local)
        .next()
        .map(|c| c.text().unwrap_or_default().trim().to_string())
}

fn attribute(node: Node, name: &str) -> Option<String> {
    node.attribute(name).map(str::to_string)
}

fn read_artifact(label: &str, doc: &Document, node: Node) -> Descriptor {
    Descriptor {
        name: attribute(node, "name"),
        version: attribute(node, "version"),
        kind: attribute(node, "type"),
        files: children_named(node, "file")
            .map(|f| f.text().unwrap_or_default().trim().to_string())
            .collect(),
        dependencies: children_named(node, "dependency")
            .map(|d| Dependency {
                name: attribute(d, "artifact"),
                version: attribute(d, "version"),
                server_role: attribute(d, "serverRole"),
                at: position(label, doc, d),
            })
            .collect(),
    }
}

/// The first `<artifact type="carbon/application">` under the root of `artifacts.xml` (or
/// `metadata.xml`), as MI's `ApplicationConfiguration.buildConfiguration` takes it.
pub(crate) fn parse_application(label: &str, bytes: &[u8]) -> Result<Descriptor, String> {
    let text = utf8_text(label, bytes)?;
    let doc = parse_xml(label, text)?;
    children_named(doc.root_element(), "artifact")
        .find(|a| a.attribute("type") == Some(CARBON_APP_TYPE))
        .map(|a| read_artifact(label, &doc, a))
        .ok_or_else(|| {
            format!(
                "{label}: no <artifact type=\"{CARBON_APP_TYPE}\"> under <{}>: it names the application and its dependencies",
                doc.root_element().tag_name().name()
            )
        })
}

/// An `artifact.xml`: root `<artifact>` with a `name` (MI refuses the CApp otherwise).
pub(crate) fn parse_artifact_xml(label: &str, bytes: &[u8]) -> Result<Descriptor, String> {
    let text = utf8_text(label, bytes)?;
    let doc = parse_xml(label, text)?;
    let root = doc.root_element();
    if root.tag_name().name() != "artifact" {
        return Err(format!(
            "{}: root element <{}> is not <artifact>",
            position(label, &doc, root),
            root.tag_name().name()
        ));
    }
    let descriptor = read_artifact(label, &doc, root);
    if descriptor.name.as_deref().is_none_or(str::is_empty) {
        return Err(format!(
            "{}: <artifact> requires a non-empty name attribute",
            position(label, &doc, root)
        ));
    }
    Ok(descriptor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_is_the_first_carbon_application_artifact() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?><artifacts>
            <artifact name="lib" type="lib/other"/>
            <artifact name="App" version="1.0.0" type="carbon/application">
                <dependency artifact="a" version="1.0.0" include="true" serverRole="EnterpriseServiceBus"/>
                <dependency artifact="b" version="2.0.0"/>
            </artifact>
            <artifact name="Second" type="carbon/application"/>
        </artifacts>"#;
        let app = parse_application("T.car!/artifacts.xml", xml).unwrap();
        assert_eq!(app.name.as_deref(), Some("App"));
        assert_eq!(app.version.as_deref(), Some("1.0.0"));
        assert_eq!(app.dependencies.len(), 2);
        assert_eq!(app.dependencies[0].name.as_deref(), Some("a"));
        assert_eq!(
            app.dependencies[0].server_role.as_deref(),
            Some("EnterpriseServiceBus")
        );
        assert_eq!(app.dependencies[1].server_role, None);
        assert_eq!(app.dependencies[1].at, "T.car!/artifacts.xml:5:17");
    }

    #[test]
    fn application_missing_is_an_error() {
        let err = parse_application("T.car!/artifacts.xml", b"<artifacts/>").unwrap_err();
        assert!(err.contains("carbon/application"), "{err}");
    }

    #[test]
    fn dtd_is_refused() {
        let xml = br#"<!DOCTYPE a [<!ENTITY x "y">]><artifacts/>"#;
        let err = parse_application("T.car!/artifacts.xml", xml).unwrap_err();
        assert!(err.contains("T.car!/artifacts.xml:1:"), "{err}");
    }

    #[test]
    fn artifact_xml_needs_artifact_root_and_name() {
        let ok = parse_artifact_xml(
            "x/artifact.xml",
            b"<artifact name=\"a\" version=\"1\" type=\"synapse/api\"><file> a.xml </file></artifact>",
        )
        .unwrap();
        assert_eq!(ok.files, ["a.xml"]);
        assert_eq!(ok.kind.as_deref(), Some("synapse/api"));
        let err = parse_artifact_xml("x/artifact.xml", b"<other name=\"a\"/>").unwrap_err();
        assert!(
            err.contains("x/artifact.xml:1:1") && err.contains("<other>"),
            "{err}"
        );
        let err = parse_artifact_xml("x/artifact.xml", b"<artifact/>").unwrap_err();
        assert!(err.contains("name"), "{err}");
    }

    #[test]
    fn non_utf8_is_an_error_and_bom_is_dropped() {
        assert!(utf8_text("f", b"\xff\xfe").is_err());
        assert_eq!(utf8_text("f", b"\xEF\xBB\xBFabc").unwrap(), "abc");
    }
}
