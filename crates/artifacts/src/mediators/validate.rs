//! `<validate [source] [cache-schema] [json-source]>` with `<schema key>`s, `<feature name value>`s,
//! `<resource location key>`s and a non-empty `<on-fail>` (SYN `config/xml/ValidateMediatorFactory.java`).
//! A `<property>` child is accepted and ignored, as the factory ignores it (MI's own test artifacts
//! carry `<property name="validation-feature-id">` there).

use roxmltree::Node;

use crate::expression::{Expression, Value};
use crate::mediators::{Mediator, parse_mediator_list};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

#[derive(Debug, Clone, PartialEq)]
pub struct Validate {
    /// What is validated: an XPath (an element) or a `json-eval`; `None` is the first child of the
    /// SOAP body, or the whole JSON payload.
    pub source: Option<Expression>,
    /// The schema keys, in order (`key="{expr}"` is evaluated per message).
    pub schemas: Vec<Value>,
    /// `<feature name value>`: Xerces schema-factory features, `true` or `false`.
    pub features: Vec<ValidateFeature>,
    /// `<resource location key>`: where an `xs:import`/`xs:include` location is read from.
    pub resources: Vec<ValidateResource>,
    /// `cache-schema` (default true): MI keeps compiled schemas between messages.
    pub cache_schema: bool,
    /// `json-source="true"`: validate as JSON even when the payload is not JSON.
    pub json_source: bool,
    pub on_fail: Vec<Mediator>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidateFeature {
    pub name: String,
    pub enabled: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidateResource {
    pub location: String,
    pub key: String,
    pub span: Span,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Validate> {
    let source = ctx.expression_attr(node, "source")?;
    let cache_schema = java_boolean(ctx.attr(node, "cache-schema"), true);
    let json_source = java_boolean(ctx.attr(node, "json-source"), false);
    let mut schemas = Vec::new();
    let mut features = Vec::new();
    let mut resources = Vec::new();
    let mut on_fail = None;
    for child in element_children(node) {
        if is_synapse_named(child, "schema") {
            // ValidateMediatorFactory: "A 'schema' definition must contain a local property 'key'".
            if ctx.attr(child, "key").is_none() {
                return Err(ctx.missing(child, "attribute 'key'", "the schema's entry key"));
            }
            schemas.extend(ctx.value_attr(child, "key"));
        } else if is_synapse_named(child, "feature") {
            let name = ctx.required_attr(child, "name", "the feature name")?;
            let value = ctx.attr(child, "value").unwrap_or_default();
            // "The feature must have value true or false" (exact, case-sensitive).
            let enabled = match value {
                "true" => true,
                "false" => false,
                other => return Err(ctx.invalid_attr(child, "value", other, "true or false")),
            };
            features.push(ValidateFeature {
                name: name.to_string(),
                enabled,
                span: ctx.span(child),
            });
        } else if is_synapse_named(child, "resource") {
            let location = ctx.required_attr(child, "location", "the schema location to map")?;
            let key = ctx.required_attr(child, "key", "the entry that holds the resource")?;
            resources.push(ValidateResource {
                location: location.to_string(),
                key: key.to_string(),
                span: ctx.span(child),
            });
        } else if is_synapse_named(child, "on-fail") {
            if on_fail.is_some() {
                return Err(ctx.invalid(child, "<validate> takes one <on-fail>".into()));
            }
            on_fail = Some(parse_mediator_list(ctx, child)?);
        } else if is_synapse_named(child, "property") {
            // Ignored by ValidateMediatorFactory.
        } else {
            return Err(ctx.unknown(child, node, "schema, feature, resource or on-fail"));
        }
    }
    if schemas.is_empty() {
        return Err(ctx.missing(
            node,
            "a <schema key> child",
            "the schema to validate against",
        ));
    }
    let on_fail = match on_fail {
        Some(list) if !list.is_empty() => list,
        _ => {
            return Err(ctx.invalid(
                node,
                "A non-empty <on-fail> child element is required for the <validate> mediator"
                    .into(),
            ));
        }
    };
    Ok(Validate {
        source,
        schemas,
        features,
        resources,
        cache_schema,
        json_source,
        on_fail,
        span: ctx.span(node),
    })
}

/// Java's `Boolean.parseBoolean`: "true" in any case is true, anything else false.
fn java_boolean(value: Option<&str>, default: bool) -> bool {
    value.map_or(default, |v| v.eq_ignore_ascii_case("true"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::test_support::*;

    #[test]
    fn the_corpus_forms_parse() {
        let Mediator::Validate(v) = parse_one(
            r#"<validate source="//m0:a" xmlns:m0="urn:m" cache-schema="false">
                 <property name="validation-feature-id" value="true"/>
                 <feature name="http://javax.xml.XMLConstants/feature/secure-processing" value="true"/>
                 <resource location="http://x/a.xsd" key="a.xsd"/>
                 <schema key="s1"/><schema key="{get-property('k')}"/>
                 <on-fail><drop/></on-fail>
               </validate>"#,
        ) else {
            panic!()
        };
        assert_eq!(v.source.as_ref().map(|e| e.text.as_str()), Some("//m0:a"));
        assert_eq!(v.schemas.len(), 2);
        assert_eq!(v.schemas[0].literal(), Some("s1"));
        assert!(matches!(v.schemas[1], Value::Dynamic(_)));
        assert!(!v.cache_schema && !v.json_source);
        assert_eq!(v.features.len(), 1);
        assert!(v.features[0].enabled);
        assert_eq!(v.resources[0].location, "http://x/a.xsd");
        assert_eq!(v.on_fail.len(), 1);
    }

    // ValidateMediatorFactory's deploy errors.
    #[test]
    fn errors() {
        assert_eq!(
            parse_err("<validate><on-fail><drop/></on-fail></validate>"),
            "<validate> requires a <schema key> child: the schema to validate against at sequences/S.xml:2:1"
        );
        assert!(
            parse_err(r#"<validate><schema key="s"/><on-fail/></validate>"#).starts_with(
                "A non-empty <on-fail> child element is required for the <validate> mediator"
            )
        );
        assert!(
            parse_err(r#"<validate><schema key="s"/></validate>"#)
                .starts_with("A non-empty <on-fail> child element is required")
        );
        assert!(
            parse_err(r#"<validate><schema/><on-fail><drop/></on-fail></validate>"#)
                .contains("requires attribute 'key'")
        );
        assert!(
            parse_err(
                r#"<validate><schema key="s"/><feature name="f" value="yes"/><on-fail><drop/></on-fail></validate>"#
            )
            .contains("invalid value \"yes\" for attribute 'value' of <feature>")
        );
        assert!(
            parse_err(r#"<validate><schema key="s"/><log/><on-fail><drop/></on-fail></validate>"#)
                .starts_with("unknown element <log> in <validate>")
        );
    }
}
