//! `<dataServiceCall serviceName>`: calls a deployed data service in-process (MI
//! `components/mediation/mediators/dataservices-mediator/.../DataServiceCallMediatorFactory.java`
//! and `DataServiceCallMediator.java`). This file owns the syntax: `<source type="inline|body">`,
//! `<operations type="single|batch|request-box">` with `<operation name>` and its `<param name
//! value|expression evaluator>`, and `<target type="body|property" name>` (a property name may
//! be `{expression}`). The runtime side is `conflux_mediation::runtime::mediators::data_service_call`.

use roxmltree::Node;

use crate::expression::{Value, ValueOrExpression};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

/// The most operations one `<operations>` may hold, and params one `<operation>`.
pub const MAX_DS_CALL_ITEMS: usize = 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct DataServiceCall {
    pub service_name: String,
    pub source: DsCallSource,
    pub target: DsCallTarget,
    pub span: Span,
}

/// Where the request comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum DsCallSource {
    /// The message body: its first element names the operation (MI's default).
    Body,
    /// Built from the mediator's `<operations>`.
    Inline(DsOperations),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DsOperationsKind {
    Single,
    Batch,
    RequestBox,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DsOperations {
    pub kind: DsOperationsKind,
    pub operations: Vec<DsOperation>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DsOperation {
    pub name: String,
    /// Parameter name and value; a JSON `evaluator` expression is stored as `json-eval(...)`.
    pub params: Vec<(String, ValueOrExpression)>,
}

/// Where the result goes.
#[derive(Debug, Clone, PartialEq)]
pub enum DsCallTarget {
    /// Replaces the message body (MI's default).
    Body,
    /// Into a default-scope property (as an XML element).
    Property(Value),
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<DataServiceCall> {
    // DataServiceCallMediatorFactory: "The 'serviceName' attribute ... is missing".
    let service_name = ctx
        .required_injected_attr(node, "serviceName", "the data service's name")?
        .trim()
        .to_string();
    let mut source_node = None;
    let mut operations_node = None;
    let mut target_node = None;
    for child in element_children(node) {
        let slot = if is_synapse_named(child, "source") {
            &mut source_node
        } else if is_synapse_named(child, "operations") {
            &mut operations_node
        } else if is_synapse_named(child, "target") {
            &mut target_node
        } else {
            return Err(ctx.unknown(child, node, "<source>, <operations> or <target>"));
        };
        if slot.is_some() {
            return Err(ctx.invalid(
                child,
                format!("only one <{}> is allowed", child.tag_name().name()),
            ));
        }
        *slot = Some(child);
    }
    // The source type defaults to body (configureSourceElement).
    let inline = match source_node.and_then(|s| ctx.attr(s, "type").map(|t| (s, t))) {
        Some((_, t)) if t.trim().eq_ignore_ascii_case("inline") => true,
        Some((_, t)) if t.trim().eq_ignore_ascii_case("body") => false,
        Some((s, t)) => return Err(ctx.invalid_attr(s, "type", t, "inline or body")),
        None => false,
    };
    let source = if inline {
        let ops = operations_node.ok_or_else(|| {
            ctx.missing(
                node,
                "element <operations>",
                "<operations type=\"single|batch|request-box\"> for source type inline",
            )
        })?;
        DsCallSource::Inline(parse_operations(ctx, ops)?)
    } else {
        if let Some(ops) = operations_node {
            return Err(ctx.invalid(
                ops,
                "The 'source' type is set to body. Inline configurations are only applicable for source type 'inline'.".into(),
            ));
        }
        DsCallSource::Body
    };
    let target = match target_node {
        None => DsCallTarget::Body,
        Some(t) => match ctx.attr(t, "type").map(str::trim) {
            None | Some("body") => DsCallTarget::Body,
            Some("property") => {
                let name = ctx.required_attr(t, "name", "the property to set")?;
                DsCallTarget::Property(ctx.value_from(t, name, ctx.attr_span(t, "name")))
            }
            Some(other) => return Err(ctx.invalid_attr(t, "type", other, "body or property")),
        },
    };
    Ok(DataServiceCall {
        service_name,
        source,
        target,
        span: ctx.span(node),
    })
}

fn parse_operations(ctx: &Ctx, node: Node) -> Result<DsOperations> {
    let raw = ctx.required_attr(node, "type", "single, batch or request-box")?;
    let kind = match raw.trim() {
        "single" => DsOperationsKind::Single,
        "batch" => DsOperationsKind::Batch,
        "request-box" => DsOperationsKind::RequestBox,
        _ => {
            return Err(ctx.invalid_attr(node, "type", raw, "single, batch or request-box"));
        }
    };
    let mut operations = Vec::new();
    for child in element_children(node) {
        if is_synapse_named(child, "operations") {
            return Err(ctx.unsupported(
                child,
                "nested <operations>".into(),
                "list the operations directly in one <operations>",
            ));
        }
        if !is_synapse_named(child, "operation") {
            return Err(ctx.unknown(child, node, "<operation name>"));
        }
        if operations.len() == MAX_DS_CALL_ITEMS {
            return Err(ctx.invalid(
                child,
                format!("more than {MAX_DS_CALL_ITEMS} <operation> elements"),
            ));
        }
        let name = ctx
            .required_attr(child, "name", "the operation's name")?
            .trim()
            .to_string();
        let mut params = Vec::new();
        for param in element_children(child) {
            if !is_synapse_named(param, "param") {
                return Err(ctx.unknown(param, child, "<param name value|expression>"));
            }
            if params.len() == MAX_DS_CALL_ITEMS {
                return Err(ctx.invalid(
                    param,
                    format!("more than {MAX_DS_CALL_ITEMS} <param> elements"),
                ));
            }
            let pname = ctx
                .required_attr(param, "name", "the parameter's name")?
                .trim()
                .to_string();
            let json = ctx
                .attr(param, "evaluator")
                .is_some_and(|e| e.trim() == "json");
            let value = match (
                ctx.attr(param, "value"),
                ctx.expression_attr(param, "expression")?,
            ) {
                (_, Some(mut expr)) => {
                    if json && !expr.is_json_eval() {
                        expr.text = format!("json-eval({})", expr.text);
                    }
                    ValueOrExpression::Expression(expr)
                }
                (Some(v), None) => ValueOrExpression::Value(v.to_string()),
                // addParams: a param with neither sends an empty value.
                (None, None) => ValueOrExpression::Value(String::new()),
            };
            params.push((pname, value));
        }
        operations.push(DsOperation { name, params });
    }
    if operations.is_empty() {
        return Err(ctx.missing(node, "element <operation>", "<operation name>"));
    }
    // "The 'single operation' should contain one operation in the configuration."
    if kind == DsOperationsKind::Single && operations.len() > 1 {
        return Err(ctx.invalid(
            node,
            "The 'single operation' should contain one operation in the configuration.".into(),
        ));
    }
    Ok(DsOperations { kind, operations })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::test_support::parse_root;

    fn parse_str(xml: &str) -> std::result::Result<DataServiceCall, String> {
        parse_root(xml, parse)
    }

    const NS: &str = "xmlns=\"http://ws.apache.org/ns/synapse\"";

    #[test]
    fn inline_batch_with_property_target() {
        let c = parse_str(&format!(
            "<dataServiceCall {NS} serviceName=\"DS\"><source type=\"inline\"/>\
             <operations type=\"batch\"><operation name=\"add\"><param name=\"id\" value=\"1\"/></operation>\
             <operation name=\"add\"><param name=\"id\" expression=\"$.id\" evaluator=\"json\"/></operation></operations>\
             <target type=\"property\" name=\"out\"/></dataServiceCall>"
        ))
        .unwrap();
        assert_eq!(c.service_name, "DS");
        let DsCallSource::Inline(ops) = &c.source else {
            panic!("inline expected")
        };
        assert_eq!(ops.kind, DsOperationsKind::Batch);
        assert_eq!(ops.operations.len(), 2);
        match &ops.operations[1].params[0].1 {
            ValueOrExpression::Expression(e) => assert_eq!(e.text, "json-eval($.id)"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(&c.target, DsCallTarget::Property(v) if v.literal() == Some("out")));
    }

    #[test]
    fn defaults_are_body_source_and_body_target() {
        let c = parse_str(&format!("<dataServiceCall {NS} serviceName=\"DS\"/>")).unwrap();
        assert_eq!(c.source, DsCallSource::Body);
        assert_eq!(c.target, DsCallTarget::Body);
    }

    #[test]
    fn mi_factory_errors() {
        let err = parse_str(&format!("<dataServiceCall {NS}/>")).unwrap_err();
        assert!(err.contains("serviceName"), "{err}");
        let err = parse_str(&format!(
            "<dataServiceCall {NS} serviceName=\"D\"><source type=\"inline\"/><operations type=\"single\">\
             <operation name=\"a\"/><operation name=\"b\"/></operations></dataServiceCall>"
        ))
        .unwrap_err();
        assert!(err.contains("single operation"), "{err}");
        let err = parse_str(&format!(
            "<dataServiceCall {NS} serviceName=\"D\"><operations type=\"single\"><operation name=\"a\"/></operations></dataServiceCall>"
        ))
        .unwrap_err();
        assert!(err.contains("source type 'inline'"), "{err}");
        let err = parse_str(&format!(
            "<dataServiceCall {NS} serviceName=\"D\"><source type=\"inline\"/><operations type=\"many\"><operation name=\"a\"/></operations></dataServiceCall>"
        ))
        .unwrap_err();
        assert!(err.contains("request-box"), "{err}");
    }

    #[test]
    fn operation_limit_is_enforced() {
        let op = "<operation name=\"a\"/>";
        let xml = |n: usize| {
            format!(
                "<dataServiceCall {NS} serviceName=\"D\"><source type=\"inline\"/><operations type=\"batch\">{}</operations></dataServiceCall>",
                op.repeat(n)
            )
        };
        assert!(parse_str(&xml(MAX_DS_CALL_ITEMS)).is_ok());
        let err = parse_str(&xml(MAX_DS_CALL_ITEMS + 1)).unwrap_err();
        assert!(
            err.contains(&format!("more than {MAX_DS_CALL_ITEMS}")),
            "{err}"
        );
    }
}
