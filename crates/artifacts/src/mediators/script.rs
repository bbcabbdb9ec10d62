//! `<script language [key [function]]>` with the source inline (text or CDATA) or in a local
//! entry or registry resource, and `<include key>`s (SYN `mediators/bsf/ScriptMediatorFactory.java`,
//! docs-mi reference/mediators/script-mediator). Only JavaScript runs in Conflux: `js` (GraalJS in
//! MI 4.4), `graalJs`, `nashornJs` and `rhinoJs` are all JavaScript (Rhino's E4X XML literals are
//! not: they fail the deployment as syntax errors); Groovy (`groovy`), Ruby (`rb`) and Python
//! (`py`) are unsupported, and any other language is an error, as in MI (no engine for it).

use roxmltree::Node;

use crate::expression::Value;
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

/// The function MI calls in a script loaded by key when `function` is absent.
pub const DEFAULT_SCRIPT_FUNCTION: &str = "mediate";

#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// The `language` attribute as written.
    pub language: String,
    pub flavour: ScriptFlavour,
    pub source: ScriptSource,
    /// The function called for a keyed script (`mediate` unless `function` says otherwise).
    pub function: String,
    /// `<include key>`: scripts evaluated after the main one, in order, before the call.
    pub includes: Vec<Value>,
    pub span: Span,
}

/// Which of MI's JavaScript engines the artifact names. They differ in what `mc` hands out
/// (GraalJS and Nashorn return XML as strings, Rhino as E4X objects); Conflux follows GraalJS
/// and Nashorn for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptFlavour {
    /// `js` and `graalJs`: GraalJS, MI 4.4's default.
    Graal,
    /// `nashornJs`.
    Nashorn,
    /// `rhinoJs`: Rhino with E4X in MI.
    Rhino,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ScriptSource {
    /// The element's text (`OMElement.getText`): text and CDATA, entities resolved.
    Inline {
        text: String,
        /// The line of the file the text starts on.
        first_line: u32,
    },
    /// `key`: a local entry or registry resource (`{expr}` evaluated per message).
    Key(Value),
}

/// Languages MI runs through engines Conflux does not have (ScriptMediator.initScriptEngine
/// registers Groovy, JRuby and Jython by these extensions).
const OTHER_LANGUAGES: &[&str] = &["groovy", "rb", "py"];

const JS_LANGUAGES: &str = "js, graalJs, nashornJs or rhinoJs";

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Script> {
    // "The 'language' attribute is required for a script mediator".
    let Some(language) = ctx.attr(node, "language") else {
        return Err(ctx.missing(node, "attribute 'language'", JS_LANGUAGES));
    };
    let flavour = match language {
        "js" | "graalJs" => ScriptFlavour::Graal,
        "nashornJs" => ScriptFlavour::Nashorn,
        "rhinoJs" => ScriptFlavour::Rhino,
        other if OTHER_LANGUAGES.contains(&other) => {
            return Err(ctx.unsupported(
                node,
                format!("script language \"{other}\""),
                "Conflux runs JavaScript only (language js, graalJs, nashornJs or rhinoJs)",
            ));
        }
        other => {
            // ScriptMediator: "No script engine found for language: ..." fails the deployment.
            return Err(ctx.invalid_attr(node, "language", other, JS_LANGUAGES));
        }
    };
    let key = ctx.value_attr(node, "key");
    let function = ctx.attr(node, "function");
    if key.is_none() && function.is_some() {
        return Err(ctx.invalid(
            node,
            "Cannot use 'function' attribute without 'key' attribute for a script mediator".into(),
        ));
    }
    // MI 4.4's script with `target` and `<inputs>` (arguments to the function, result kept).
    if ctx.attr(node, "target").is_some() {
        return Err(ctx.unsupported(
            node,
            "script attribute 'target'".into(),
            "MI 4.4's script with <inputs> and a result target is not implemented",
        ));
    }
    let mut includes = Vec::new();
    for child in element_children(node) {
        if !is_synapse_named(child, "include") {
            return Err(ctx.unknown(child, node, "include"));
        }
        // "Cannot use 'include' element without 'key' attribute for a script mediator".
        if ctx.attr(child, "key").is_none() {
            return Err(ctx.missing(child, "attribute 'key'", "the entry holding the script"));
        }
        includes.extend(ctx.value_attr(child, "key"));
    }
    let source = match key {
        Some(key) => ScriptSource::Key(key),
        None => {
            let first_line = node.children().find(|c| c.is_text()).map_or_else(
                || ctx.span(node).line,
                |t| ctx.pos_span(t.range().start).line,
            );
            let text: String = node
                .children()
                .filter(|c| c.is_text())
                .filter_map(|c| c.text())
                .collect();
            ScriptSource::Inline { text, first_line }
        }
    };
    Ok(Script {
        language: language.to_string(),
        flavour,
        source,
        function: function.unwrap_or(DEFAULT_SCRIPT_FUNCTION).to_string(),
        includes,
        span: ctx.span(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    fn parse_script(body: &str) -> Script {
        match parse_one(body) {
            Mediator::Script(s) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn inline_cdata_keeps_its_text_and_the_line_it_starts_on() {
        // The snippet starts on line 2 of sequences/S.xml; the text (and the CDATA) on line 2 too.
        let s = parse_script(
            "<script language=\"js\"><![CDATA[var a = 1;\n  mc.setProperty('a', a);]]></script>",
        );
        assert_eq!(s.flavour, ScriptFlavour::Graal);
        assert_eq!(
            s.source,
            ScriptSource::Inline {
                text: "var a = 1;\n  mc.setProperty('a', a);".into(),
                first_line: 2
            }
        );
        assert_eq!(s.function, "mediate");
        // Escaped text, as MI's docs write inline scripts without CDATA.
        let s = parse_script("<script language=\"nashornJs\">\n  a &lt; b &amp;&amp; c;</script>");
        assert_eq!(s.flavour, ScriptFlavour::Nashorn);
        assert!(
            matches!(&s.source, ScriptSource::Inline { text, first_line: 2 } if text == "\n  a < b && c;")
        );
    }

    #[test]
    fn keyed_scripts_with_function_and_includes() {
        let s = parse_script(
            r#"<script language="rhinoJs" key="conf:/script_js/test54.js" function="transformReq">
                 <include key="conf:/script_js/stockquoteTransform.js"/>
                 <include key="{get-property('lib')}"/>
               </script>"#,
        );
        assert_eq!(s.flavour, ScriptFlavour::Rhino);
        assert!(
            matches!(&s.source, ScriptSource::Key(Value::Literal(k, _)) if k == "conf:/script_js/test54.js")
        );
        assert_eq!(s.function, "transformReq");
        assert_eq!(s.includes.len(), 2);
        assert!(matches!(s.includes[1], Value::Dynamic(_)));
        let s = parse_script(r#"<script language="js" key="{$ctx:scriptKey}"/>"#);
        assert!(matches!(s.source, ScriptSource::Key(Value::Dynamic(_))));
        assert_eq!(s.function, "mediate");
    }

    // ScriptMediatorFactory's deploy errors, and the languages Conflux has no engine for.
    #[test]
    fn errors() {
        assert_eq!(
            parse_err(r#"<script key="k"/>"#),
            "<script> requires attribute 'language': js, graalJs, nashornJs or rhinoJs at sequences/S.xml:2:1"
        );
        assert_eq!(
            parse_err(r#"<script language="js" function="f">1</script>"#),
            "Cannot use 'function' attribute without 'key' attribute for a script mediator at sequences/S.xml:2:1"
        );
        assert_eq!(
            parse_err(r#"<script language="groovy">println 1</script>"#),
            "unsupported script language \"groovy\" (Conflux runs JavaScript only (language js, graalJs, nashornJs or rhinoJs)) at sequences/S.xml:2:1"
        );
        assert!(
            parse_err(r#"<script language="rb" key="k"/>"#)
                .starts_with("unsupported script language \"rb\"")
        );
        assert!(
            parse_err(r#"<script language="py" key="k"/>"#)
                .starts_with("unsupported script language \"py\"")
        );
        // MI InvalidScriptLanguageTestProxy: `jh` deploys nowhere.
        assert_eq!(
            parse_err(r#"<script language="jh" key="k" function="f"/>"#),
            "invalid value \"jh\" for attribute 'language' of <script>: expected js, graalJs, nashornJs or rhinoJs at sequences/S.xml:2:9"
        );
        assert!(
            parse_err(r#"<script language="js" key="k"><include/></script>"#)
                .starts_with("<include> requires attribute 'key'")
        );
        assert!(
            parse_err(r#"<script language="js" key="k"><log/></script>"#)
                .starts_with("unknown element <log> in <script>: expected include")
        );
        assert!(
            parse_err(r#"<script language="js" key="k" function="f" target="body"/>"#)
                .starts_with("unsupported script attribute 'target'")
        );
    }
}
