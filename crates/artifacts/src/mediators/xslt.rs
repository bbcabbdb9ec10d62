//! `<xslt key [source] [target] [useCache]>` with `<property name value|expression>`s (stylesheet
//! parameters), `<feature name value>`s, `<attribute name value>`s and `<resource location key>`s
//! (SYN `config/xml/XSLTMediatorFactory.java`), and `<fastXSLT key>` (carbon-mediation
//! `mediator/fastXSLT/config/xml/FastXSLTMediatorFactory.java`, which reads the key only).

use roxmltree::Node;

use crate::expression::{Expression, Value};
use crate::mediators::log::{LogProperty, parse_log_property};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

#[derive(Debug, Clone, PartialEq)]
pub struct Xslt {
    /// `<fastXSLT>`: the whole message is the transformation's input and is replaced by its
    /// output; nothing but the key is read.
    pub fast: bool,
    /// The stylesheet's entry key; `key="{expr}"` is evaluated per message.
    pub key: Value,
    /// What is transformed: `None` is the first child of the SOAP body.
    pub source: Option<Expression>,
    /// `target`: the name of a property that receives the result instead of the message.
    pub target: Option<String>,
    /// `useCache` (default true): compiled stylesheets are kept between messages.
    pub use_cache: bool,
    /// `<property>`s: stylesheet parameters (`xsl:param`), passed as strings.
    pub properties: Vec<LogProperty>,
    /// `<feature name value>`: JAXP `TransformerFactory` features, `true` or `false`.
    pub features: Vec<XsltFeature>,
    /// `<attribute name value>`: JAXP `TransformerFactory` attributes.
    pub attributes: Vec<XsltAttribute>,
    /// `<resource location key>`: where an `xsl:import`/`xsl:include` location is read from.
    pub resources: Vec<XsltResource>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct XsltFeature {
    pub name: String,
    pub enabled: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct XsltAttribute {
    pub name: String,
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct XsltResource {
    pub location: String,
    pub key: String,
    pub span: Span,
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Xslt> {
    // XSLTMediatorFactory: "The 'key' attribute is required for the XSLT mediator".
    let Some(key) = ctx.value_attr(node, "key") else {
        return Err(ctx.missing(node, "attribute 'key'", "the stylesheet's entry key"));
    };
    let source = ctx.expression_attr(node, "source")?;
    let target = ctx.attr(node, "target").map(str::to_string);
    // Boolean.parseBoolean: "true" in any case; anything else is false.
    let use_cache = ctx
        .attr(node, "useCache")
        .is_none_or(|v| v.eq_ignore_ascii_case("true"));
    let mut properties = Vec::new();
    let mut features = Vec::new();
    let mut attributes = Vec::new();
    let mut resources = Vec::new();
    for child in element_children(node) {
        if is_synapse_named(child, "property") {
            properties.push(parse_log_property(ctx, child)?);
        } else if is_synapse_named(child, "feature") {
            let name = ctx.required_attr(child, "name", "the feature name")?;
            // "The feature must have value true or false" (exact, case-sensitive).
            let enabled = match ctx.attr(child, "value").unwrap_or_default() {
                "true" => true,
                "false" => false,
                other => return Err(ctx.invalid_attr(child, "value", other, "true or false")),
            };
            features.push(XsltFeature {
                name: name.to_string(),
                enabled,
                span: ctx.span(child),
            });
        } else if is_synapse_named(child, "attribute") {
            let name = ctx.required_attr(child, "name", "the attribute name")?;
            attributes.push(XsltAttribute {
                name: name.to_string(),
                value: ctx.attr(child, "value").unwrap_or_default().to_string(),
                span: ctx.span(child),
            });
        } else if is_synapse_named(child, "resource") {
            let location = ctx.required_attr(child, "location", "the import location to map")?;
            let key = ctx.required_attr(child, "key", "the entry that holds the resource")?;
            resources.push(XsltResource {
                location: location.to_string(),
                key: key.to_string(),
                span: ctx.span(child),
            });
        } else {
            return Err(ctx.unknown(child, node, "property, feature, attribute or resource"));
        }
    }
    Ok(Xslt {
        fast: false,
        key,
        source,
        target,
        use_cache,
        properties,
        features,
        attributes,
        resources,
        span: ctx.span(node),
    })
}

/// `<fastXSLT key>`: FastXSLTMediatorFactory reads the key and nothing else.
pub(crate) fn parse_fast(ctx: &Ctx, node: Node) -> Result<Xslt> {
    let Some(key) = ctx.value_attr(node, "key") else {
        return Err(ctx.missing(node, "attribute 'key'", "the stylesheet's entry key"));
    };
    Ok(Xslt {
        fast: true,
        key,
        source: None,
        target: None,
        use_cache: true,
        properties: Vec::new(),
        features: Vec::new(),
        attributes: Vec::new(),
        resources: Vec::new(),
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use crate::expression::{Value, ValueOrExpression};
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    // The forms of MI's test artifacts (xsltTransformPropertyTestProxy, JSONProxy,
    // xsltEmptySoapBodyWithSourceXPath) and every child the factory reads.
    #[test]
    fn the_corpus_forms_parse() {
        let Mediator::Xslt(x) = parse_one(
            r#"<xslt key="xsltTransformRequestWithProperty" source="//m0:a" target="out"
                   useCache="FALSE" xmlns:m0="urn:m">
                 <property name="REQUEST_SYMBOL" expression="get-property('REQUEST_SYMBOL')"/>
                 <property name="LAST_PRICE" value="37.50"/>
                 <feature name="http://javax.xml.XMLConstants/feature/secure-processing" value="true"/>
                 <attribute name="http://ws.apache.org/ns/synapse/transform/attribute/sbf" value="x"/>
                 <resource location="common.xsl" key="conf:/xslt/common.xsl"/>
               </xslt>"#,
        ) else {
            panic!()
        };
        assert!(!x.fast);
        assert_eq!(x.key.literal(), Some("xsltTransformRequestWithProperty"));
        assert_eq!(x.source.as_ref().map(|e| e.text.as_str()), Some("//m0:a"));
        assert_eq!(x.target.as_deref(), Some("out"));
        assert!(!x.use_cache);
        assert_eq!(x.properties.len(), 2);
        assert!(matches!(&x.properties[1].value, ValueOrExpression::Value(v) if v == "37.50"));
        assert!(x.features[0].enabled);
        assert_eq!(x.attributes.len(), 1);
        assert_eq!(x.resources[0].key, "conf:/xslt/common.xsl");
        assert_eq!(x.span.to_string(), "sequences/S.xml:2:1");

        let Mediator::Xslt(dynamic) = parse_one(r#"<xslt key="{get-property('k')}"/>"#) else {
            panic!()
        };
        assert!(matches!(dynamic.key, Value::Dynamic(_)) && dynamic.use_cache);

        // DynamicKeyFastXsltTransformationProxy.
        let Mediator::Xslt(fast) =
            parse_one(r#"<fastXSLT key="{get-property('registry','conf:a/@resourceName')}"/>"#)
        else {
            panic!()
        };
        assert!(fast.fast && matches!(fast.key, Value::Dynamic(_)));
    }

    // XSLTMediatorFactory's deploy errors.
    #[test]
    fn errors() {
        assert_eq!(
            parse_err("<xslt/>"),
            "<xslt> requires attribute 'key': the stylesheet's entry key at sequences/S.xml:2:1"
        );
        assert!(parse_err("<fastXSLT/>").starts_with("<fastXSLT> requires attribute 'key'"));
        assert!(
            parse_err(r#"<xslt key="k"><feature name="f" value="yes"/></xslt>"#)
                .contains("invalid value \"yes\" for attribute 'value' of <feature>")
        );
        assert!(
            parse_err(r#"<xslt key="k"><property name="p"/></xslt>"#)
                .contains("attribute 'value' or 'expression'")
        );
        assert!(
            parse_err(r#"<xslt key="k"><resource location="a"/></xslt>"#)
                .contains("requires attribute 'key'")
        );
        assert!(
            parse_err(r#"<xslt key="k"><log/></xslt>"#)
                .starts_with("unknown element <log> in <xslt>")
        );
    }
}
