//! Serialising a `roxmltree` subtree the way Axiom's `OMElement.toString()` does, which is what
//! Synapse logs and stores for element results: prefixes as written, the namespace declarations
//! made on each element, plus a declaration for any prefix an element or attribute uses that is
//! declared only on an ancestor outside the subtree (so `$body/m0:getQuote` carries
//! `xmlns:m0="..."`). Text is escaped; empty elements are written `<a/>`. The walk is iterative,
//! so deeply nested payloads cannot overflow the stack.

use roxmltree::{Attribute, Node, NodeType};

/// The prefix an element's start tag was written with, read from the source text (roxmltree
/// keeps only the namespace URI).
pub(crate) fn element_prefix<'i>(node: Node<'_, 'i>) -> Option<&'i str> {
    let input: &'i str = node.document().input_text();
    let start = node.range().start;
    match input.get(start + 1..) {
        Some(tag) if input.as_bytes().get(start) == Some(&b'<') => {
            let end = tag
                .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
                .unwrap_or(tag.len());
            tag[..end].split_once(':').map(|(prefix, _)| prefix)
        }
        _ => node
            .tag_name()
            .namespace()
            .and_then(|uri| node.lookup_prefix(uri)),
    }
}

fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
}

fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
}

/// The prefix a namespaced attribute was written with, read from the source text.
pub(crate) fn attribute_written_prefix<'i>(
    element: Node<'_, 'i>,
    attr: &Attribute<'_, 'i>,
) -> Option<&'i str> {
    let uri = attr.namespace()?;
    let input: &'i str = element.document().input_text();
    let range = attr.range_qname();
    let qname = input.get(range)?;
    match qname.split_once(':') {
        Some((prefix, _)) => Some(prefix),
        None => element.lookup_prefix(uri),
    }
}

enum Frame<'a, 'i> {
    Open(Node<'a, 'i>),
    Close(Node<'a, 'i>, usize),
}

/// The XML text of a node as Axiom would serialise it: an element (with the namespace
/// declarations it needs), a text node's text, a comment or PI as markup, the root as its
/// children in order.
pub fn serialize(node: Node) -> String {
    let mut out = String::new();
    match node.node_type() {
        NodeType::Text => return node.text().unwrap_or("").to_string(),
        NodeType::Root => {
            for child in node.children() {
                out.push_str(&serialize_tree(child, Whitespace::Keep));
            }
            return out;
        }
        _ => out.push_str(&serialize_tree(node, Whitespace::Keep)),
    }
    out
}

/// An element as [`serialize`] writes it, less every whitespace-only text node inside it: what
/// Synapse's PayloadFactoryMediatorFactory.removeIndentations does to a `<format>` before it
/// takes the template's text.
pub fn serialize_without_indentation(element: Node) -> String {
    serialize_tree(element, Whitespace::DropIndentation)
}

/// Whether whitespace-only text nodes are written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Whitespace {
    Keep,
    DropIndentation,
}

fn qualified(prefix: Option<&str>, local: &str) -> String {
    match prefix {
        Some(p) if !p.is_empty() => format!("{p}:{local}"),
        _ => local.to_string(),
    }
}

fn serialize_tree(top: Node, whitespace: Whitespace) -> String {
    let mut out = String::new();
    // Output namespace scope: (prefix, uri); prefix None is the default namespace.
    let mut scope: Vec<(Option<String>, String)> = Vec::new();
    let mut stack = vec![Frame::Open(top)];
    while let Some(frame) = stack.pop() {
        let node = match frame {
            Frame::Close(n, scope_len) => {
                out.push_str("</");
                out.push_str(&qualified(element_prefix(n), n.tag_name().name()));
                out.push('>');
                scope.truncate(scope_len);
                continue;
            }
            Frame::Open(n) => n,
        };
        match node.node_type() {
            NodeType::Text => {
                let text = node.text().unwrap_or("");
                if whitespace == Whitespace::Keep || !text.trim().is_empty() {
                    escape_text(text, &mut out)
                }
            }
            NodeType::Comment => {
                out.push_str("<!--");
                out.push_str(node.text().unwrap_or(""));
                out.push_str("-->");
            }
            NodeType::PI => {
                if let Some(pi) = node.pi() {
                    out.push_str("<?");
                    out.push_str(pi.target);
                    if let Some(value) = pi.value {
                        out.push(' ');
                        out.push_str(value);
                    }
                    out.push_str("?>");
                }
            }
            NodeType::Root => {}
            NodeType::Element => {
                let scope_len = scope.len();
                let lookup = |scope: &[(Option<String>, String)], prefix: Option<&str>| {
                    scope
                        .iter()
                        .rev()
                        .find(|(p, _)| p.as_deref() == prefix)
                        .map(|(_, uri)| uri.clone())
                };
                let mut declarations: Vec<(Option<String>, String)> = Vec::new();
                // Declarations made on this element (in scope here, not inherited from the
                // parent).
                let parent_namespaces: Vec<(Option<&str>, &str)> = node
                    .parent_element()
                    .map(|p| p.namespaces().map(|ns| (ns.name(), ns.uri())).collect())
                    .unwrap_or_default();
                for ns in node.namespaces() {
                    // `xmlns=""` where no default namespace is in scope says nothing (Axiom
                    // does not write it).
                    let redundant = ns.name().is_none()
                        && ns.uri().is_empty()
                        && lookup(&scope, None).is_none_or(|uri| uri.is_empty());
                    if !redundant && !parent_namespaces.contains(&(ns.name(), ns.uri())) {
                        declarations.push((ns.name().map(str::to_string), ns.uri().to_string()));
                    }
                }
                let declare = |scope: &Vec<(Option<String>, String)>,
                               declarations: &mut Vec<(Option<String>, String)>,
                               prefix: Option<&str>,
                               uri: &str| {
                    let prefix = prefix.filter(|p| !p.is_empty());
                    let current = declarations
                        .iter()
                        .rev()
                        .find(|(p, _)| p.as_deref() == prefix)
                        .map(|(_, u)| u.clone())
                        .or_else(|| lookup(scope, prefix));
                    let needed = match current {
                        Some(current) => current != uri,
                        None => !(uri.is_empty() && prefix.is_none()),
                    };
                    if needed {
                        declarations.push((prefix.map(str::to_string), uri.to_string()));
                    }
                };
                let prefix = element_prefix(node);
                declare(
                    &scope,
                    &mut declarations,
                    prefix,
                    node.tag_name().namespace().unwrap_or(""),
                );
                let attributes: Vec<_> = node.attributes().collect();
                for attr in &attributes {
                    if let Some(uri) = attr.namespace() {
                        let ap = attribute_written_prefix(node, attr);
                        declare(&scope, &mut declarations, ap, uri);
                    }
                }
                // Axiom writes the element's own namespace first, then the other declarations
                // (OMSerializerUtil.serializeStartpart).
                let own = prefix.filter(|p| !p.is_empty());
                if let Some(at) = declarations.iter().position(|(p, _)| p.as_deref() == own) {
                    let first = declarations.remove(at);
                    declarations.insert(0, first);
                }
                out.push('<');
                out.push_str(&qualified(prefix, node.tag_name().name()));
                for (p, uri) in &declarations {
                    match p {
                        Some(p) => {
                            out.push_str(" xmlns:");
                            out.push_str(p);
                        }
                        None => out.push_str(" xmlns"),
                    }
                    out.push_str("=\"");
                    escape_attr(uri, &mut out);
                    out.push('"');
                }
                for attr in &attributes {
                    out.push(' ');
                    let ap = attr
                        .namespace()
                        .and_then(|_| attribute_written_prefix(node, attr));
                    out.push_str(&qualified(ap, attr.name()));
                    out.push_str("=\"");
                    escape_attr(attr.value(), &mut out);
                    out.push('"');
                }
                scope.extend(declarations);
                if node.has_children() {
                    out.push('>');
                    stack.push(Frame::Close(node, scope_len));
                    let children: Vec<_> = node.children().collect();
                    for child in children.into_iter().rev() {
                        stack.push(Frame::Open(child));
                    }
                } else {
                    out.push_str("/>");
                    scope.truncate(scope_len);
                }
            }
        }
    }
    out
}
