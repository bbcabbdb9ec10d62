//! `<clone [id] [sequential] [continueParent]><target [to] [soapAction] [sequence] [endpoint]>
//! [<sequence>...</sequence>] [<endpoint>...</endpoint>]</target>...</clone>`: every target gets
//! its own copy of the message. As SYN:`config/xml/CloneMediatorFactory.java` reads it:
//! `sequential` is true only for the exact text `true`, `continueParent` only for a
//! case-insensitive `true` (`JavaUtils.isTrueExplicitly`), and only the `<target>` children count
//! (anything else inside `<clone>` is ignored). Each target is read as
//! SYN:`config/xml/TargetFactory.java` does: the attributes `to`, `soapAction`, `sequence` (a
//! sequence name) and `endpoint` (an endpoint name), and the first `<sequence>` (an anonymous
//! sequence) and first `<endpoint>` child; other children are ignored as in Synapse (MI's own
//! EndpointErrorTestCloneSequence has a stray `<log>` there). The `iterations` attribute (one
//! target run N times) is reported as unsupported.

use roxmltree::Node;

use crate::endpoint::{EndpointRef, parse_endpoint_ref};
use crate::mediators::{Mediator, parse_mediator_list};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

#[derive(Debug, Clone, PartialEq)]
pub struct CloneMediator {
    /// `id`: names the `messageSequence.ID` / `aggregateCorelation.ID` properties of the copies.
    pub id: Option<String>,
    /// `sequential="true"`: the targets run one after the other, else concurrently.
    pub sequential: bool,
    /// `continueParent="true"`: the original message goes on after the clone (default: dropped).
    pub continue_parent: bool,
    pub targets: Vec<CloneTarget>,
    pub span: Span,
}

/// One `<target>` (SYN `mediators/eip/Target.java`).
#[derive(Debug, Clone, PartialEq)]
pub struct CloneTarget {
    /// `to`: the copy's To address.
    pub to: Option<String>,
    /// `soapAction`: the copy's SOAP action.
    pub soap_action: Option<String>,
    /// The sequence the copy runs: `sequence="name"` or an inline `<sequence>`.
    pub sequence: Option<TargetSequence>,
    /// The endpoint the copy is sent to: `endpoint="name"` or an inline `<endpoint>`. Synapse
    /// uses it only when the target has no sequence.
    pub endpoint: Option<EndpointRef>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TargetSequence {
    /// `sequence="name"`.
    Key(String, Span),
    /// An anonymous `<sequence>` child.
    Inline(Vec<Mediator>),
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<CloneMediator> {
    if ctx.attr(node, "iterations").is_some() {
        return Err(ctx.unsupported(node, "clone attribute 'iterations'".into(), "Tier 2"));
    }
    let targets = element_children(node)
        .filter(|c| is_synapse_named(*c, "target"))
        .map(|t| parse_target(ctx, t))
        .collect::<Result<Vec<_>>>()?;
    Ok(CloneMediator {
        id: ctx.attr(node, "id").map(str::to_string),
        // CloneMediatorFactory: `getAttributeValue().equals("true")`.
        sequential: ctx.attr(node, "sequential") == Some("true"),
        continue_parent: ctx
            .attr(node, "continueParent")
            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        targets,
        span: ctx.span(node),
    })
}

fn parse_target(ctx: &Ctx, node: Node) -> Result<CloneTarget> {
    let name_attr = |name: &str| -> Result<Option<(String, Span)>> {
        match ctx.attr(node, name) {
            None => Ok(None),
            Some(v) if v.trim().is_empty() => Err(ctx.invalid_attr(
                node,
                name,
                v,
                &format!(
                    "the name of a{} {name}",
                    if name == "endpoint" { "n" } else { "" }
                ),
            )),
            Some(v) => Ok(Some((v.trim().to_string(), ctx.attr_span(node, name)))),
        }
    };
    let mut sequence = name_attr("sequence")?.map(|(k, s)| TargetSequence::Key(k, s));
    let mut endpoint = name_attr("endpoint")?.map(|(k, s)| EndpointRef::Key(k, s));
    // TargetFactory: the first <sequence> / <endpoint> child (set after the attributes, so it wins).
    if let Some(child) = element_children(node).find(|c| is_synapse_named(*c, "sequence")) {
        sequence = Some(TargetSequence::Inline(parse_mediator_list(ctx, child)?));
    }
    if let Some(child) = element_children(node).find(|c| is_synapse_named(*c, "endpoint")) {
        endpoint = Some(parse_endpoint_ref(ctx, child)?);
    }
    Ok(CloneTarget {
        to: ctx.attr(node, "to").map(str::to_string),
        soap_action: ctx.attr(node, "soapAction").map(str::to_string),
        sequence,
        endpoint,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::test_support::*;

    fn clone_of(body: &str) -> CloneMediator {
        match parse_one(body) {
            Mediator::Clone(c) => c,
            other => panic!("expected a clone, got {other:?}"),
        }
    }

    #[test]
    fn attributes_and_targets() {
        let c = clone_of(
            r#"<clone id="c1" sequential="true" continueParent="TRUE">
                 <target to="http://x/a" soapAction="urn:a"><sequence><log/><drop/></sequence></target>
                 <target sequence="Seq" endpoint="Ep"/>
                 <target><endpoint><address uri="http://b"/></endpoint></target>
               </clone>"#,
        );
        assert_eq!(c.id.as_deref(), Some("c1"));
        assert!(c.sequential && c.continue_parent);
        assert_eq!(c.targets.len(), 3);
        assert_eq!(c.targets[0].to.as_deref(), Some("http://x/a"));
        assert_eq!(c.targets[0].soap_action.as_deref(), Some("urn:a"));
        assert!(
            matches!(c.targets[0].sequence, Some(TargetSequence::Inline(ref l)) if l.len() == 2)
        );
        assert!(matches!(c.targets[1].sequence, Some(TargetSequence::Key(ref k, _)) if k == "Seq"));
        assert!(matches!(c.targets[1].endpoint, Some(EndpointRef::Key(ref k, _)) if k == "Ep"));
        assert!(c.targets[2].sequence.is_none());
        assert!(matches!(
            c.targets[2].endpoint,
            Some(EndpointRef::Inline(_))
        ));
    }

    #[test]
    fn defaults_follow_the_factory() {
        // `sequential` must be exactly "true"; unknown children are ignored as in Synapse.
        let c = clone_of(
            r#"<clone sequential="TRUE"><target><log/><sequence><log/></sequence></target><foo/></clone>"#,
        );
        assert!(!c.sequential && !c.continue_parent && c.id.is_none());
        assert_eq!(c.targets.len(), 1);
        assert!(
            matches!(c.targets[0].sequence, Some(TargetSequence::Inline(ref l)) if l.len() == 1)
        );
    }

    #[test]
    fn errors() {
        assert!(
            parse_err(r#"<clone iterations="3"><target/></clone>"#)
                .starts_with("unsupported clone attribute 'iterations'")
        );
        assert!(
            parse_err(r#"<clone><target sequence=""/></clone>"#).contains("attribute 'sequence'")
        );
        assert!(
            parse_err(r#"<clone><target><sequence><xquery key="k"/></sequence></target></clone>"#)
                .contains("unsupported mediator <xquery>")
        );
    }
}
