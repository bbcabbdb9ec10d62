//! Sequences: named `<sequence name onError>` artifacts, anonymous `<inSequence>`-style blocks, and
//! `SequenceRef`, the "inline, by name, or none" slot used by resources and proxy targets.

use roxmltree::Node;

use crate::mediators::{Mediator, parse_mediator_list};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

#[derive(Debug, Clone, PartialEq)]
pub struct Sequence {
    /// `Some` for a named artifact, `None` for an inline block.
    pub name: Option<String>,
    /// Error handler sequence (`onError="name"`), honoured, not ignored (synapse-subset §2.4).
    pub on_error: Option<(String, Span)>,
    pub mediators: Vec<Mediator>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub enum SequenceRef {
    #[default]
    None,
    Inline(Sequence),
    Named(String, Span),
}

impl SequenceRef {
    pub fn is_none(&self) -> bool {
        matches!(self, SequenceRef::None)
    }
}

pub(crate) fn parse_sequence(ctx: &Ctx, node: Node, named: bool) -> Result<Sequence> {
    let name = match ctx.attr(node, "name") {
        Some(n) if !n.trim().is_empty() => Some(n.trim().to_string()),
        _ if named => return Err(ctx.missing(node, "attribute 'name'", "the sequence's name")),
        _ => None,
    };
    if named && ctx.attr(node, "key").is_some() {
        return Err(ctx.invalid(
            node,
            "a sequence artifact cannot be a reference (key=)".into(),
        ));
    }
    let on_error = ctx
        .attr(node, "onError")
        .filter(|v| !v.trim().is_empty())
        .map(|v| (v.trim().to_string(), ctx.attr_span(node, "onError")));
    Ok(Sequence {
        name,
        on_error,
        mediators: parse_mediator_list(ctx, node)?,
        span: ctx.span(node),
    })
}

/// Reads a sequence slot given either as attribute `attr="name"` or as child `<child>...</child>`.
pub(crate) fn parse_sequence_slot(
    ctx: &Ctx,
    parent: Node,
    attr: &str,
    child: &str,
) -> Result<SequenceRef> {
    let element = element_children(parent).find(|c| is_synapse_named(*c, child));
    match (
        ctx.attr(parent, attr).filter(|v| !v.trim().is_empty()),
        element,
    ) {
        (Some(_), Some(el)) => Err(ctx.invalid(
            el,
            format!("<{child}> given both as attribute '{attr}' and as an element"),
        )),
        (Some(name), None) => Ok(SequenceRef::Named(
            name.trim().to_string(),
            ctx.attr_span(parent, attr),
        )),
        (None, Some(el)) => Ok(SequenceRef::Inline(parse_sequence(ctx, el, false)?)),
        (None, None) => Ok(SequenceRef::None),
    }
}

#[cfg(test)]
mod tests {
    use crate::artifact::{Artifact, parse_artifact};

    #[test]
    fn named_sequence_with_on_error() {
        let xml = "<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"S\" onError=\"E\" trace=\"disable\">\n<log/><drop/></sequence>";
        let Ok(Artifact::Sequence(s)) = parse_artifact("sequences/S.xml", xml) else {
            panic!()
        };
        assert_eq!(s.name.as_deref(), Some("S"));
        assert_eq!(
            s.on_error
                .as_ref()
                .map(|(n, sp)| (n.as_str(), sp.to_string())),
            Some(("E", "sequences/S.xml:1:60".into()))
        );
        assert_eq!(s.mediators.len(), 2);
        assert_eq!(s.mediators[1].span().to_string(), "sequences/S.xml:2:7");
    }

    #[test]
    fn nameless_sequence_is_rejected() {
        let err = parse_artifact(
            "sequences/S.xml",
            "<sequence xmlns=\"http://ws.apache.org/ns/synapse\"/>",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "<sequence> requires attribute 'name': the sequence's name at sequences/S.xml:1:1"
        );
    }
}
