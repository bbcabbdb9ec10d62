//! `<propertyGroup>`: a list of `<property>` mediators applied in order.

use roxmltree::Node;

use crate::mediators::property::{self, Property};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

#[derive(Debug, Clone, PartialEq)]
pub struct PropertyGroup {
    pub properties: Vec<Property>,
    pub span: Span,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<PropertyGroup> {
    let mut properties = Vec::new();
    for child in element_children(node) {
        if !is_synapse_named(child, "property") {
            return Err(ctx.unknown(child, node, "property"));
        }
        properties.push(property::parse(ctx, child)?);
    }
    Ok(PropertyGroup {
        properties,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    #[test]
    fn parses_properties_and_rejects_others() {
        let Mediator::PropertyGroup(g) = parse_one(
            r#"<propertyGroup><property name="a" value="1"/><property name="b" action="remove"/></propertyGroup>"#,
        ) else {
            panic!()
        };
        assert_eq!(g.properties.len(), 2);
        assert!(
            parse_err("<propertyGroup><log/></propertyGroup>")
                .starts_with("unknown element <log> in <propertyGroup>")
        );
    }
}
