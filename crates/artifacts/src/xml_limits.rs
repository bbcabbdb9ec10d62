//! Structural limits for XML from outside (message bodies, artifact files), checked by one linear
//! scan of the text before roxmltree builds a tree: nesting depth, attributes per element and in
//! total, and namespace bindings. roxmltree itself bounds only the node count; its duplicate
//! attribute check is quadratic in an element's attribute count, and every element that declares
//! a namespace gets a copy of all bindings in scope, so a few megabytes of crafted XML would cost
//! minutes of CPU or gigabytes of memory without these limits (and deep documents make every
//! later recursive walk and `//x` path pay per level).
//!
//! The scan only counts: it never decides well-formedness. Text it cannot read as markup is
//! skipped to the next `>`, so it never under-counts a document the parser accepts. It stops at
//! a `<!DOCTYPE`, which every caller's parser refuses (DTDs are never read: no entity expansion,
//! no external entity is ever fetched).

/// The limits one kind of document is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlLimits {
    /// Deepest element nesting (the root element is at depth 1).
    pub max_depth: usize,
    /// Most attributes on one element, namespace declarations included.
    pub max_attributes_per_element: usize,
    /// Most attributes in the whole document, namespace declarations included.
    pub max_attributes: usize,
    /// Most namespace bindings in scope on one element (every element name and prefixed attribute
    /// is looked up through them one by one).
    pub max_namespaces_in_scope: usize,
    /// Most namespace bindings the parser copies: for each element that declares a namespace, the
    /// bindings in scope on it, summed over the document.
    pub max_namespace_bindings: usize,
}

/// Why a document was refused before parsing. `offset` is the byte offset of the element that
/// crossed the limit ([`line_at`] turns it into a line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum XmlLimitError {
    #[error("elements nest deeper than {limit} levels")]
    Depth { limit: usize, offset: usize },
    #[error("an element has more than {limit} attributes")]
    AttributesPerElement { limit: usize, offset: usize },
    #[error("the document has more than {limit} attributes")]
    Attributes { limit: usize, offset: usize },
    #[error("more than {limit} namespace bindings are in scope on an element")]
    NamespacesInScope { limit: usize, offset: usize },
    #[error("nested namespace declarations copy more than {limit} namespace bindings")]
    NamespaceBindings { limit: usize, offset: usize },
}

impl XmlLimitError {
    /// Byte offset of the element that crossed the limit.
    pub fn offset(&self) -> usize {
        match *self {
            XmlLimitError::Depth { offset, .. }
            | XmlLimitError::AttributesPerElement { offset, .. }
            | XmlLimitError::Attributes { offset, .. }
            | XmlLimitError::NamespacesInScope { offset, .. }
            | XmlLimitError::NamespaceBindings { offset, .. } => offset,
        }
    }
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Checks `text` against `limits` in one pass; `Ok` says nothing about well-formedness.
pub fn check_structure(text: &str, limits: &XmlLimits) -> Result<(), XmlLimitError> {
    let b = text.as_bytes();
    let mut i = 0;
    // Namespace declarations of each open element (the stack never outgrows `max_depth`).
    let mut declared: Vec<usize> = Vec::new();
    let mut in_scope = 0usize;
    let mut bindings = 0usize;
    let mut attributes = 0usize;
    while let Some(lt) = find(b, i, b'<') {
        let start = lt;
        i = lt + 1;
        match b.get(i) {
            Some(b'/') => {
                if let Some(n) = declared.pop() {
                    in_scope -= n;
                }
                i = find(b, i, b'>').map_or(b.len(), |gt| gt + 1);
            }
            Some(b'?') => i = find_seq(b, i, b"?>").map_or(b.len(), |p| p + 2),
            Some(b'!') if b[i..].starts_with(b"!--") => {
                i = find_seq(b, i + 3, b"-->").map_or(b.len(), |p| p + 3)
            }
            Some(b'!') if b[i..].starts_with(b"![CDATA[") => {
                i = find_seq(b, i + 8, b"]]>").map_or(b.len(), |p| p + 3)
            }
            // A DTD: the parser refuses it before reading anything after it.
            Some(b'!') => return Ok(()),
            _ => {
                let tag = scan_start_tag(b, i);
                i = tag.end;
                let depth = declared.len() + 1;
                if depth > limits.max_depth {
                    return Err(XmlLimitError::Depth {
                        limit: limits.max_depth,
                        offset: start,
                    });
                }
                if tag.attributes > limits.max_attributes_per_element {
                    return Err(XmlLimitError::AttributesPerElement {
                        limit: limits.max_attributes_per_element,
                        offset: start,
                    });
                }
                attributes += tag.attributes;
                if attributes > limits.max_attributes {
                    return Err(XmlLimitError::Attributes {
                        limit: limits.max_attributes,
                        offset: start,
                    });
                }
                if tag.namespaces > 0 {
                    if in_scope + tag.namespaces > limits.max_namespaces_in_scope {
                        return Err(XmlLimitError::NamespacesInScope {
                            limit: limits.max_namespaces_in_scope,
                            offset: start,
                        });
                    }
                    bindings += in_scope + tag.namespaces;
                    if bindings > limits.max_namespace_bindings {
                        return Err(XmlLimitError::NamespaceBindings {
                            limit: limits.max_namespace_bindings,
                            offset: start,
                        });
                    }
                }
                if !tag.self_closing {
                    declared.push(tag.namespaces);
                    in_scope += tag.namespaces;
                }
            }
        }
    }
    Ok(())
}

struct StartTag {
    /// Index just past the tag's `>` (or the end of the text).
    end: usize,
    attributes: usize,
    /// Attributes named `xmlns` or `xmlns:*`.
    namespaces: usize,
    self_closing: bool,
}

/// Reads the start tag whose name begins at `i` (just past its `<`). Anything unexpected is
/// skipped to the next `>`; the attributes counted so far stay counted.
fn scan_start_tag(b: &[u8], mut i: usize) -> StartTag {
    let mut tag = StartTag {
        end: b.len(),
        attributes: 0,
        namespaces: 0,
        self_closing: false,
    };
    while i < b.len() && !is_tag_delimiter(b[i]) {
        i += 1;
    }
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        match b.get(i) {
            None => return tag,
            Some(b'>') => {
                tag.end = i + 1;
                return tag;
            }
            Some(b'/') if b.get(i + 1) == Some(&b'>') => {
                tag.self_closing = true;
                tag.end = i + 2;
                return tag;
            }
            Some(_) => {}
        }
        let name_start = i;
        while i < b.len() && !is_tag_delimiter(b[i]) && b[i] != b'=' {
            i += 1;
        }
        let name = &b[name_start..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let quote = match (b.get(i), b.get(i + 1..).and_then(first_non_space)) {
            (Some(b'='), Some((skip, q @ (b'"' | b'\'')))) => {
                i += 1 + skip + 1;
                q
            }
            // Not `name="value"`: not markup the parser accepts; resume after the next `>`.
            _ => {
                tag.end = find(b, i, b'>').map_or(b.len(), |gt| gt + 1);
                return tag;
            }
        };
        tag.attributes += 1;
        if name == b"xmlns" || name.starts_with(b"xmlns:") {
            tag.namespaces += 1;
        }
        match find(b, i, quote) {
            Some(close) => i = close + 1,
            None => return tag,
        }
    }
}

fn is_tag_delimiter(c: u8) -> bool {
    c.is_ascii_whitespace() || c == b'>' || c == b'/'
}

fn first_non_space(b: &[u8]) -> Option<(usize, u8)> {
    b.iter()
        .position(|c| !c.is_ascii_whitespace())
        .map(|p| (p, b[p]))
}

fn find(b: &[u8], from: usize, byte: u8) -> Option<usize> {
    b.get(from..)?
        .iter()
        .position(|&c| c == byte)
        .map(|p| from + p)
}

fn find_seq(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: XmlLimits = XmlLimits {
        max_depth: 4,
        max_attributes_per_element: 3,
        max_attributes: 5,
        max_namespaces_in_scope: 3,
        max_namespace_bindings: 6,
    };

    fn nested(depth: usize) -> String {
        format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth))
    }

    #[test]
    fn depth_at_the_limit_passes_and_one_more_is_refused() {
        assert_eq!(check_structure(&nested(4), &LIMITS), Ok(()));
        let err = check_structure(&nested(5), &LIMITS).unwrap_err();
        assert_eq!(
            err,
            XmlLimitError::Depth {
                limit: 4,
                offset: 12
            }
        );
        // Siblings and self-closing elements do not add depth.
        let wide = format!("<r>{}<b/><c/></r>", "<a><b/></a>".repeat(100));
        assert_eq!(check_structure(&wide, &LIMITS), Ok(()));
    }

    #[test]
    fn attributes_per_element_and_in_total() {
        assert_eq!(
            check_structure(r#"<a x="1" y='>' z="3"/>"#, &LIMITS),
            Ok(())
        );
        let err =
            check_structure("<r>\n<a w=\"0\" x=\"1\" y=\"2\" z=\"3\"/></r>", &LIMITS).unwrap_err();
        assert!(matches!(
            err,
            XmlLimitError::AttributesPerElement { limit: 3, .. }
        ));
        assert_eq!(line_at("<r>\n<a/>", err.offset()), 2);
        let six = r#"<r a="1" b="2" c="3"><s d="4" e = "5"/><t f="6"/></r>"#;
        assert!(matches!(
            check_structure(six, &LIMITS),
            Err(XmlLimitError::Attributes { limit: 5, .. })
        ));
    }

    #[test]
    fn markup_inside_comments_cdata_values_and_instructions_is_not_counted() {
        let text = r#"<?xml version="1.0"?><!-- <a><a><a><a><a> --><r v="<a><a>"><![CDATA[<a><a><a><a><a>]]><?pi <a><a><a><a><a>?></r>"#;
        assert_eq!(check_structure(text, &LIMITS), Ok(()));
    }

    #[test]
    fn nested_namespace_declarations_are_counted_with_what_is_in_scope() {
        // Bindings copied: 1, then 1 + 1, then 2 + 1 = 6 in all.
        let ok = r#"<a xmlns:p="u"><b xmlns:q="u"><c xmlns:r="u"/></b></a>"#;
        assert_eq!(check_structure(ok, &LIMITS), Ok(()));
        let over = r#"<a xmlns:p="u"><b xmlns:q="u"><c xmlns:r="u"/><d xmlns="v"/></b></a>"#;
        assert!(matches!(
            check_structure(over, &LIMITS),
            Err(XmlLimitError::NamespaceBindings { limit: 6, .. })
        ));
        let crowded = r#"<a xmlns:p="u"><b xmlns:q="u" xmlns:r="u"><c xmlns:s="u"/></b></a>"#;
        assert!(matches!(
            check_structure(crowded, &LIMITS),
            Err(XmlLimitError::NamespacesInScope { limit: 3, .. })
        ));
        // Closed scopes are forgotten: siblings each pay only for their own declaration.
        let siblings = r#"<r><a xmlns="u"/><a xmlns="u"/><a xmlns="u"/><a xmlns="u"/></r>"#;
        assert_eq!(check_structure(siblings, &LIMITS), Ok(()));
    }

    #[test]
    fn garbage_is_left_to_the_parser_and_still_counted() {
        for text in [
            "<",
            "<a",
            "<a b",
            "<a b=",
            "<a b=\"",
            "<a b c=\"1\">",
            "</",
            "<!",
            "<!--",
            "<?",
        ] {
            assert!(check_structure(text, &LIMITS).is_ok(), "{text}");
        }
        // Depth keeps counting across unreadable tags.
        let text = format!("{}{}", "<a junk>".repeat(5), "</a>".repeat(5));
        assert!(check_structure(&text, &LIMITS).is_err());
    }

    #[test]
    fn a_doctype_stops_the_scan() {
        let text = format!("<!DOCTYPE a [<!ENTITY e \"x\">]>{}", nested(50));
        assert_eq!(check_structure(&text, &LIMITS), Ok(()));
    }
}
