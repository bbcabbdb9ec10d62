//! Local entries: `<localEntry key>` holding text, an XML element, or a `src` URL
//! (SYN:`config/xml/EntryFactory.java`).

use roxmltree::Node;

use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, text_of};

#[derive(Debug, Clone, PartialEq)]
pub struct LocalEntry {
    pub key: String,
    pub value: LocalEntryValue,
    pub span: Span,
    /// The file as written (returned by the Management API as `configuration`).
    pub source: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LocalEntryValue {
    Text(String),
    /// An inline XML element, as written.
    Xml(String),
    /// `src="file:..."` / URL: content fetched from there.
    Src(String),
}

pub(crate) fn parse_local_entry(ctx: &Ctx, node: Node, source: &str) -> Result<LocalEntry> {
    let key = ctx
        .required_attr(node, "key", "the entry's key")?
        .trim()
        .to_string();
    // EntryFactory.createEntry: a <description> is the entry's description, not its value.
    let elements: Vec<Node> = element_children(node)
        .filter(|e| !crate::xml::is_synapse_named(*e, "description"))
        .collect();
    let value = if let Some(src) = ctx.attr(node, "src") {
        if let Some(el) = elements.first() {
            return Err(ctx.invalid(
                *el,
                "a localEntry with 'src' cannot have inline content".into(),
            ));
        }
        LocalEntryValue::Src(src.trim().to_string())
    } else {
        match elements.as_slice() {
            // EntryFactory: inline text is trimmed.
            [] => LocalEntryValue::Text(text_of(node).trim().to_string()),
            [el] => LocalEntryValue::Xml(ctx.source(*el)),
            [_, second, ..] => {
                return Err(ctx.invalid(*second, "a localEntry holds a single XML element".into()));
            }
        }
    };
    Ok(LocalEntry {
        key,
        value,
        span: ctx.span(node),
        source: source.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::{Artifact, parse_artifact};

    // EntryFactory.createEntry (MI test LocalEntryWhiteSpaceTestCase): the text is trimmed and a
    // <description> is not part of the value.
    #[test]
    fn inline_text_is_trimmed_and_the_description_left_out() {
        let e = entry(
            r#"<localEntry xmlns="http://ws.apache.org/ns/synapse" key="L">
   http://localhost:9000/services/S
   <description>where the service is</description></localEntry>"#,
        );
        assert_eq!(
            e.value,
            LocalEntryValue::Text("http://localhost:9000/services/S".into())
        );
    }

    fn entry(xml: &str) -> LocalEntry {
        match parse_artifact("local-entries/L.xml", xml) {
            Ok(Artifact::LocalEntry(l)) => l,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn text_xml_and_src() {
        let ns = r#"xmlns="http://ws.apache.org/ns/synapse""#;
        assert_eq!(
            entry(&format!(r#"<localEntry {ns} key="k">0.1</localEntry>"#)).value,
            LocalEntryValue::Text("0.1".into())
        );
        assert_eq!(
            entry(&format!(
                r#"<localEntry {ns} key="k"><description/><x xmlns="">1</x></localEntry>"#
            ))
            .value,
            LocalEntryValue::Xml(r#"<x xmlns="">1</x>"#.into())
        );
        assert_eq!(
            entry(&format!(r#"<localEntry {ns} key="k" src="file:a.xsd"/>"#)).value,
            LocalEntryValue::Src("file:a.xsd".into())
        );
        let err =
            parse_artifact("local-entries/L.xml", &format!("<localEntry {ns}/>")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "<localEntry> requires attribute 'key': the entry's key at local-entries/L.xml:1:1"
        );
    }
}
