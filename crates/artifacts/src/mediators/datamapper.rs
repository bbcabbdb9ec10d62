//! `<datamapper config inputSchema outputSchema [inputType] [outputType] [xsltStyleSheet]
//! [target variable]>` (carbon-mediation `mediator/datamapper/config/xml/DataMapperMediatorFactory.java`):
//! the keys of a data mapper's mapping script (`.dmc`) and its input and output schemas, written by
//! Integration Studio (`gov:datamapper/X.dmc`) or the MI 4.4 VS Code extension
//! (`resources:datamapper/X/X.dmc`). The types may be left out: the schemas then carry them.

use roxmltree::Node;

use crate::expression::Value;
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children};

#[derive(Debug, Clone, PartialEq)]
pub struct DataMapper {
    /// The mapping script's entry key (`config`); `{expr}` is evaluated when the first message
    /// arrives, as MI does.
    pub config: Value,
    pub input_schema: Value,
    pub output_schema: Value,
    /// `inputType`; `None` reads `"inputType"` from the input schema.
    pub input_type: Option<DataType>,
    /// `outputType`; `None` reads `"outputType"` from the output schema.
    pub output_type: Option<DataType>,
    /// `xsltStyleSheet`: an XSLT rendering of the same XML-to-XML mapping that MI may run instead
    /// of the script; Conflux always runs the script (MI's own fallback).
    pub xslt_style_sheet: Option<Value>,
    /// `target` (carbon-mediation's schema-less mode, 2025): where the script's result goes.
    pub target: Option<DataMapperTarget>,
    pub span: Span,
}

/// The message formats a data mapper reads and writes (`InputOutputDataType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    Xml,
    Json,
    Csv,
}

impl DataType {
    /// `InputOutputDataType.fromString`: the name in any case.
    pub fn parse(text: &str) -> Option<DataType> {
        match text.trim().to_ascii_uppercase().as_str() {
            "XML" => Some(DataType::Xml),
            "JSON" => Some(DataType::Json),
            "CSV" => Some(DataType::Csv),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DataType::Xml => "XML",
            DataType::Json => "JSON",
            DataType::Csv => "CSV",
        }
    }
}

/// `target="body"` or `target="variable" variable="NAME"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataMapperTarget {
    Body,
    Variable(String),
}

const TYPES: &str = "XML, JSON or CSV";

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<DataMapper> {
    // DataMapperMediatorFactory: "The attribute config is required for the DataMapper mediator",
    // and likewise inputSchema and outputSchema.
    let key = |name: &str, expected: &str| {
        ctx.value_attr(node, name)
            .filter(|_| ctx.attr(node, name).is_some_and(|t| !t.trim().is_empty()))
            .ok_or_else(|| ctx.missing(node, &format!("attribute '{name}'"), expected))
    };
    let config = key("config", "the mapping configuration's key (the .dmc file)")?;
    let input_schema = key("inputSchema", "the input schema's key")?;
    let output_schema = key("outputSchema", "the output schema's key")?;
    let data_type = |name: &str| -> Result<Option<DataType>> {
        match ctx.attr(node, name) {
            None => Ok(None),
            Some(text) => DataType::parse(text)
                .map(Some)
                .ok_or_else(|| ctx.invalid_attr(node, name, text, TYPES)),
        }
    };
    let input_type = data_type("inputType")?;
    let output_type = data_type("outputType")?;
    let xslt_style_sheet = ctx.value_attr(node, "xsltStyleSheet");
    // DataMapperMediator.mediate: with `target` or `variable` set, "body" (any case) or
    // "variable" with a variable name; anything else is "Invalid target attribute found in
    // DataMapper mediator".
    let variable = ctx.attr(node, "variable");
    let target = match (ctx.attr(node, "target"), variable) {
        (None, None) => None,
        (Some(t), _) if t.eq_ignore_ascii_case("body") => Some(DataMapperTarget::Body),
        (Some(t), Some(name)) if t.eq_ignore_ascii_case("variable") && !name.trim().is_empty() => {
            Some(DataMapperTarget::Variable(name.to_string()))
        }
        (Some(t), _) if t.eq_ignore_ascii_case("variable") => {
            return Err(ctx.missing(
                node,
                "attribute 'variable'",
                "the variable that receives the mapping's result (target=\"variable\")",
            ));
        }
        (Some(t), _) => return Err(ctx.invalid_attr(node, "target", t, "body or variable")),
        (None, Some(_)) => {
            return Err(ctx.missing(
                node,
                "attribute 'target'",
                "target=\"variable\" with attribute 'variable' (MI: \"Invalid target attribute found in DataMapper mediator\")",
            ));
        }
    };
    if let Some(child) = element_children(node).next() {
        return Err(ctx.unknown(child, node, "no children"));
    }
    Ok(DataMapper {
        config,
        input_schema,
        output_schema,
        input_type,
        output_type,
        xslt_style_sheet,
        target,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    fn one(body: &str) -> DataMapper {
        match parse_one(body) {
            Mediator::DataMapper(d) => d,
            other => panic!("expected a datamapper, got {other:?}"),
        }
    }

    // The Integration Studio form (MI test proxy dataMapperOneToOneXmlToXmlTestProxy's shape).
    #[test]
    fn the_integration_studio_form_parses() {
        let d = one(r#"<datamapper config="gov:datamapper/Orders.dmc"
                 inputSchema="gov:datamapper/Orders_inputSchema.json"
                 outputSchema="gov:datamapper/Orders_outputSchema.json"
                 inputType="XML" outputType="JSON"
                 xsltStyleSheet="gov:datamapper/Orders_xsltStyleSheet.xml"/>"#);
        assert_eq!(d.config.literal(), Some("gov:datamapper/Orders.dmc"));
        assert_eq!(
            d.input_schema.literal(),
            Some("gov:datamapper/Orders_inputSchema.json")
        );
        assert_eq!(
            d.output_schema.literal(),
            Some("gov:datamapper/Orders_outputSchema.json")
        );
        assert_eq!(d.input_type, Some(DataType::Xml));
        assert_eq!(d.output_type, Some(DataType::Json));
        assert!(d.xslt_style_sheet.is_some());
        assert_eq!(d.target, None);
    }

    // docs-mi "weatherDataMapper": the VS Code form names no types, the schemas carry them.
    #[test]
    fn the_vscode_form_parses_without_types() {
        let d = one(
            r#"<datamapper config="resources:datamapper/W/W.dmc" inputSchema="resources:datamapper/W/W_inputSchema.json" outputSchema="resources:datamapper/W/W_outputSchema.json"/>"#,
        );
        assert_eq!(d.input_type, None);
        assert_eq!(d.output_type, None);
        assert_eq!(d.config.literal(), Some("resources:datamapper/W/W.dmc"));
    }

    #[test]
    fn dynamic_keys_targets_and_lower_case_types() {
        let d = one(
            r#"<datamapper config="{get-property('dmc')}" inputSchema="a" outputSchema="b" inputType="json" target="Variable" variable="mapped"/>"#,
        );
        assert!(matches!(d.config, Value::Dynamic(_)));
        assert_eq!(d.input_type, Some(DataType::Json));
        assert_eq!(d.target, Some(DataMapperTarget::Variable("mapped".into())));
        let d = one(r#"<datamapper config="c" inputSchema="a" outputSchema="b" target="BODY"/>"#);
        assert_eq!(d.target, Some(DataMapperTarget::Body));
    }

    #[test]
    fn missing_keys_bad_types_and_targets_are_located() {
        assert_eq!(
            parse_err(r#"<datamapper inputSchema="a" outputSchema="b"/>"#),
            "<datamapper> requires attribute 'config': the mapping configuration's key (the .dmc file) at sequences/S.xml:2:1"
        );
        assert!(
            parse_err(r#"<datamapper config="c" inputSchema=" " outputSchema="b"/>"#)
                .starts_with("<datamapper> requires attribute 'inputSchema'")
        );
        assert!(
            parse_err(r#"<datamapper config="c" inputSchema="a"/>"#)
                .starts_with("<datamapper> requires attribute 'outputSchema'")
        );
        assert_eq!(
            parse_err(
                r#"<datamapper config="c" inputSchema="a" outputSchema="b" outputType="YAML"/>"#
            ),
            "invalid value \"YAML\" for attribute 'outputType' of <datamapper>: expected XML, JSON or CSV at sequences/S.xml:2:57"
        );
        assert!(
            parse_err(r#"<datamapper config="c" inputSchema="a" outputSchema="b" target="header"/>"#)
                .starts_with("invalid value \"header\" for attribute 'target' of <datamapper>: expected body or variable")
        );
        assert!(
            parse_err(
                r#"<datamapper config="c" inputSchema="a" outputSchema="b" target="variable"/>"#
            )
            .starts_with("<datamapper> requires attribute 'variable'")
        );
        assert!(
            parse_err(r#"<datamapper config="c" inputSchema="a" outputSchema="b" variable="v"/>"#)
                .starts_with("<datamapper> requires attribute 'target'")
        );
        assert!(
            parse_err(
                r#"<datamapper config="c" inputSchema="a" outputSchema="b"><x/></datamapper>"#
            )
            .starts_with("unknown element <x> in <datamapper>")
        );
    }
}
