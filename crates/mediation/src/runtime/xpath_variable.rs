//! `xpath(expr, 'name')`: an XPath over the XML a variable holds, as MI 4.4 evaluates it (SYN
//! `util/synapse/expression/ast/PredefinedFunctionNode.java` evaluateXPATHExpression builds the
//! XPath `$var:NAME` + `expr`; `util/xpath/SynapseXPathVariableContext.java` resolves `$var:NAME`
//! to the variable's element). The path is therefore relative to the variable's own element:
//! `xpath('//item', 'order')` selects the `item` descendants of the element, and
//! `xpath('/order/item', 'order')` the `order` children of it (none when the variable is the
//! `<order>` element itself), exactly as in MI. Conflux evaluates `.` + `expr` with the element
//! as the context node, which is the same path.
//!
//! A variable holding several nodes (set from an `xpath(...)` node list) is read as that list:
//! the path runs from each node, results in order. A variable that does not hold XML is an
//! evaluation error (MI's Jaxen cannot navigate a String or a JSON element).

use crate::runtime::payload::parse_document;
use crate::synapse_expr::ExprValue;
use crate::xpath::{XPath, XPathEnv, XValue};

/// The XPath MI evaluates for `xpath(expr, 'name')`, relative to the variable's element.
/// MI concatenates `$var:NAME` and `expr`; a path that does not start with `/` would change the
/// variable's name there, and is refused here.
pub(crate) fn relative_path(expr: &str) -> Result<String, String> {
    let expr = expr.trim();
    if expr.starts_with('/') {
        Ok(format!(".{expr}"))
    } else {
        Err(format!(
            "xpath('{expr}', ...) over a variable must start with '/' (MI evaluates $var:NAME{expr})"
        ))
    }
}

/// The variable's XML as standalone documents, one per top-level element (a single element is
/// returned as it is).
pub(crate) fn documents(xml: &str) -> Result<Vec<String>, String> {
    if parse_document(xml).is_ok() {
        return Ok(vec![xml.to_string()]);
    }
    let wrapped = format!("<w>{xml}</w>");
    let doc = parse_document(&wrapped).map_err(|e| format!("the variable's XML: {e}"))?;
    Ok(doc
        .root_element()
        .children()
        .filter(|n| n.is_element())
        .map(crate::xpath::serialize)
        .collect())
}

/// An XPath result as a Synapse expression value in object context: a node list as its XML
/// (text nodes as their text), `Null` for no node.
pub(crate) fn object_value(value: XValue) -> ExprValue {
    match value {
        XValue::Nodes(nodes) if nodes.is_empty() => ExprValue::Null,
        XValue::Nodes(nodes) => ExprValue::Xml(
            nodes
                .into_iter()
                .map(|n| {
                    if n.is_text() {
                        n.text().unwrap_or_default().to_string()
                    } else {
                        crate::xpath::serialize(n)
                    }
                })
                .collect(),
        ),
        XValue::NodeSet(nodes) => ExprValue::Xml(nodes.iter().map(|n| n.string_value()).collect()),
        XValue::String(s) => ExprValue::String(s),
        XValue::Number(n) => ExprValue::Double(n),
        XValue::Boolean(b) => ExprValue::Bool(b),
    }
}

/// `xpath(expr, 'name')` with `value` the variable's value (None when unset).
pub(crate) fn evaluate(
    expr: &str,
    namespaces: &[(String, String)],
    name: &str,
    value: Option<&ExprValue>,
    env: &dyn XPathEnv,
    string_mode: bool,
) -> Result<ExprValue, String> {
    let xml = match value {
        Some(ExprValue::Xml(xml)) => xml,
        None | Some(ExprValue::Null) => return Err(format!("the variable {name} is not set")),
        Some(_) => return Err(format!("the variable {name} does not hold XML")),
    };
    let xpath = XPath::compile(&relative_path(expr)?, namespaces).map_err(|e| e.to_string())?;
    let mut strings = String::new();
    let mut nodes = String::new();
    let mut any = false;
    for text in documents(xml)? {
        let doc = parse_document(&text).map_err(|e| format!("the variable {name}: {e}"))?;
        if string_mode {
            strings.push_str(&xpath.string_value(&doc, env).map_err(|e| e.to_string())?);
            continue;
        }
        match object_value(xpath.evaluate(&doc, env).map_err(|e| e.to_string())?) {
            ExprValue::Null => {}
            ExprValue::Xml(x) => {
                any = true;
                nodes.push_str(&x);
            }
            // A number, string or boolean result does not depend on the node list's length.
            other => return Ok(other),
        }
    }
    Ok(match (string_mode, any) {
        (true, _) => ExprValue::String(strings),
        (false, true) => ExprValue::Xml(nodes),
        (false, false) => ExprValue::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoProperties;

    impl XPathEnv for NoProperties {
        fn property(&self, _: &str, _: &str) -> Option<String> {
            None
        }
    }

    fn eval(expr: &str, xml: &str, string_mode: bool) -> Result<ExprValue, String> {
        let value = ExprValue::Xml(xml.to_string());
        evaluate(expr, &[], "v", Some(&value), &NoProperties, string_mode)
    }

    const ORDER: &str = "<order><item>a</item><item>b</item><n>2</n></order>";

    #[test]
    fn paths_are_relative_to_the_variables_element() {
        assert_eq!(
            eval("//item", ORDER, false).unwrap(),
            ExprValue::Xml("<item>a</item><item>b</item>".into())
        );
        assert_eq!(
            eval("/n", ORDER, true).unwrap(),
            ExprValue::String("2".into())
        );
        // `$var:v/order/item`: the element's `order` children; there are none.
        assert_eq!(eval("/order/item", ORDER, false).unwrap(), ExprValue::Null);
        // String context: SynapseXPath.stringValueOf, several elements serialised.
        assert_eq!(
            eval("//item", ORDER, true).unwrap(),
            ExprValue::String("<item>a</item><item>b</item>".into())
        );
        assert_eq!(
            eval("//item/text()", ORDER, true).unwrap(),
            ExprValue::String("ab".into())
        );
    }

    #[test]
    fn a_node_list_variable_is_read_node_by_node() {
        let list = "<item><id>1</id></item><item><id>2</id></item>";
        assert_eq!(
            eval("//id", list, false).unwrap(),
            ExprValue::Xml("<id>1</id><id>2</id>".into())
        );
    }

    #[test]
    fn errors() {
        assert!(
            eval("item", ORDER, false)
                .unwrap_err()
                .contains("must start with '/'")
        );
        let json = ExprValue::Json(serde_json::json!({"a": 1}));
        assert!(
            evaluate("//a", &[], "v", Some(&json), &NoProperties, false)
                .unwrap_err()
                .contains("does not hold XML")
        );
        assert!(
            evaluate("//a", &[], "v", None, &NoProperties, false)
                .unwrap_err()
                .contains("not set")
        );
    }
}
