//! FreeMarker templates for `<payloadFactory template-type="freemarker">`, compiled when the
//! artifact deploys and rendered per message. There is no FreeMarker for Rust, so this is the
//! subset MI users write (SYN `mediators/transform/pfutils/FreeMarkerTemplateProcessor.java`;
//! FreeMarker 2.3.30 as MI configures it: no output format, so nothing is escaped unless the
//! template says `?json_string`/`?xml`; white-space stripping on; numbers in the `en_US` number
//! format). The data model is MI's ([`Model`]): `payload`, `args`, `ctx`, `axis2`, `trp` and
//! `vars`. Anything outside the subset fails the deployment with its line and column; a
//! run-time problem is an error naming the expression, never a panic.
//!
//! Layout: [`lexer`] cuts the template into pieces and tokens, [`parser`] builds the [`ast`],
//! [`eval`] runs it with [`builtins`], and [`format`] writes numbers and escapes strings.

mod ast;
mod builtins;
mod eval;
mod format;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::rc::Rc;

use eval::{Env, Val};

/// How deep directives and expressions may nest: bounds the parser's recursion.
pub const MAX_NESTING: usize = 64;
/// How deep an expression tree may be (`a + b + c`... is a chain this long): bounds the
/// recursion of evaluating it.
pub const MAX_EXPRESSION_DEPTH: usize = 256;
/// The most loop iterations one rendering may run (all `<#list>`s together).
pub const MAX_ITERATIONS: usize = 1_000_000;
/// The most text one rendering may write.
pub const MAX_OUTPUT_BYTES: usize = 64 * 1024 * 1024;
/// The largest template accepted.
pub const MAX_TEMPLATE_BYTES: usize = 1024 * 1024;

/// A template that does not compile: what and where (1-based, in the template text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at template line {line}, column {column}")]
pub struct CompileError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

impl CompileError {
    fn at(src: &str, offset: usize, message: String) -> Self {
        let (line, column) = line_column(src, offset);
        CompileError {
            message,
            line,
            column,
        }
    }
}

/// A rendering that failed, in MI's words ("Error parsing FreeMarker template, Syntax error or
/// invalid reference : EXPR At line: L column: C", FreeMarkerTemplateProcessor
/// .generateTemplateErrorMessage) followed by why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "Error parsing FreeMarker template, Syntax error or invalid reference : {expression} At line: {line} column: {column} ({message})"
)]
pub struct RenderError {
    pub expression: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// A compiled template.
#[derive(Debug, Clone)]
pub struct Template {
    source: String,
    nodes: Vec<ast::Node>,
    ns_prefixes: Vec<(String, String)>,
    /// The template starts with `<#ftl ...>` (MI then wraps the output, not the template, in
    /// `<pfPadding>`).
    has_header: bool,
    /// Which of MI's data-model names the template mentions (MI fills only those:
    /// FreeMarkerTemplateProcessor.findRequiredInjections, a substring test).
    pub uses: Uses,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Uses {
    pub payload: bool,
    pub args: bool,
    pub ctx: bool,
    pub axis2: bool,
    pub trp: bool,
    pub vars: bool,
}

/// The payload as MI gives it to the template (FreeMarkerTemplateProcessor.injectPayloadVariables).
#[derive(Debug, Clone, Copy)]
pub enum PayloadModel<'a> {
    /// A JSON payload: objects are hashes, arrays sequences, numbers doubles (Gson's mapping).
    Json(&'a serde_json::Value),
    /// An XML payload (the first element of the SOAP body, or the document): FreeMarker's DOM.
    Xml(&'a str),
    /// A text payload: a string, XML-escaped as MI does (`escapeXml11`).
    Text(&'a str),
    /// No payload MI can read: the empty string.
    None,
}

/// MI's data model for one message.
pub struct Model<'a> {
    pub payload: PayloadModel<'a>,
    /// `args.arg1`...: the `<args>` values, prepared for the media type as for `$n`.
    pub args: Vec<String>,
    /// Default-scope properties (`ctx.NAME`), axis2 properties, transport headers, variables:
    /// all as strings, as MI copies them (`toString()`).
    pub ctx: Vec<(String, String)>,
    pub axis2: Vec<(String, String)>,
    pub trp: Vec<(String, String)>,
    pub vars: Vec<(String, String)>,
}

fn string_hash(entries: &[(String, String)]) -> Val<'_> {
    Val::Hash(Rc::new(
        entries
            .iter()
            .map(|(k, v)| (k.clone(), Val::Str(Cow::Borrowed(v.as_str()))))
            .collect(),
    ))
}

impl Template {
    /// Compiles `source`; for `media-type="xml"` MI wraps a template without `<#ftl>` in
    /// `<pfPadding>...</pfPadding>` first (FreeMarkerTemplateProcessor.compileFreeMarkerTemplate).
    pub fn compile(source: &str, xml: bool) -> Result<Template, CompileError> {
        if source.len() > MAX_TEMPLATE_BYTES {
            return Err(CompileError {
                message: format!(
                    "the template is {} bytes, more than the {MAX_TEMPLATE_BYTES} accepted",
                    source.len()
                ),
                line: 1,
                column: 1,
            });
        }
        let has_header = source.starts_with("<#ftl");
        let pad = xml && !source.is_empty() && !has_header;
        let text = if pad {
            format!("<pfPadding>{source}</pfPadding>")
        } else {
            source.to_string()
        };
        // Positions are reported in the user's template: shift the padding out of line 1.
        let shift = |mut e: CompileError| {
            if pad && e.line == 1 {
                e.column = e.column.saturating_sub("<pfPadding>".len()).max(1);
            }
            e
        };
        let pieces =
            lexer::pieces(&text).map_err(|e| shift(CompileError::at(&text, e.at, e.message)))?;
        let mut parser = parser::Parser::new(&text, pieces).map_err(shift)?;
        let nodes = parser.parse().map_err(shift)?;
        let ns_prefixes = std::mem::take(&mut parser.header.ns_prefixes);
        drop(parser);
        let uses = Uses {
            payload: source.contains("payload"),
            args: source.contains("args"),
            ctx: source.contains("ctx"),
            axis2: source.contains("axis2"),
            trp: source.contains("trp"),
            vars: source.contains("vars"),
        };
        Ok(Template {
            source: text,
            nodes,
            ns_prefixes,
            has_header,
            uses,
        })
    }

    /// Whether MI wraps the rendered text in `<pfPadding>` for an XML result.
    pub fn has_header(&self) -> bool {
        self.has_header
    }

    /// Renders the template over `model`.
    pub fn render(&self, model: &Model<'_>) -> Result<String, RenderError> {
        let doc_text;
        let doc = match model.payload {
            PayloadModel::Xml(text) if self.uses.payload => {
                doc_text = first_element(text);
                Some(
                    crate::runtime::payload::parse_document(&doc_text).map_err(|e| {
                        RenderError {
                            expression: "payload".into(),
                            line: 0,
                            column: 0,
                            message: format!("Error reading payload data: {e}"),
                        }
                    })?,
                )
            }
            _ => None,
        };
        let mut globals: Vec<(&'static str, Val)> = Vec::with_capacity(6);
        if self.uses.payload {
            let payload = match (model.payload, &doc) {
                (PayloadModel::Json(v), _) => match v {
                    serde_json::Value::Object(_) | serde_json::Value::Array(_) => Val::Json(v),
                    // MI puts a JSON primitive in as its JSON text, null as "null".
                    other => Val::Str(Cow::Owned(other.to_string())),
                },
                (PayloadModel::Xml(_), Some(doc)) => Val::Nodes(Rc::new(vec![doc.root()])),
                (PayloadModel::Text(t), _) => Val::Str(Cow::Owned(format::escape_xml11(t))),
                _ => Val::Str(Cow::Borrowed("")),
            };
            globals.push(("payload", payload));
        }
        if self.uses.args {
            let args = model
                .args
                .iter()
                .enumerate()
                .map(|(i, a)| (format!("arg{}", i + 1), Val::Str(Cow::Borrowed(a.as_str()))))
                .collect();
            globals.push(("args", Val::Hash(Rc::new(args))));
        }
        if self.uses.ctx {
            globals.push(("ctx", string_hash(&model.ctx)));
        }
        if self.uses.axis2 {
            globals.push(("axis2", string_hash(&model.axis2)));
        }
        if self.uses.trp {
            globals.push(("trp", string_hash(&model.trp)));
        }
        if self.uses.vars {
            globals.push(("vars", string_hash(&model.vars)));
        }
        let mut env = Env::new(globals, &self.ns_prefixes);
        match env.run(&self.nodes) {
            Ok(()) => Ok(env.out),
            Err(e) => {
                let (line, column) = line_column(&self.source, e.span.start);
                let column = if line == 1 && self.source.starts_with("<pfPadding>") {
                    column.saturating_sub("<pfPadding>".len()).max(1)
                } else {
                    column
                };
                Err(RenderError {
                    expression: self
                        .source
                        .get(e.span.start..e.span.end)
                        .unwrap_or("")
                        .to_string(),
                    line,
                    column,
                    message: e.message,
                })
            }
        }
    }
}

/// MI hands FreeMarker the body's first element (`getBody().getFirstElement()`): several
/// top-level elements keep only the first.
fn first_element(text: &str) -> Cow<'_, str> {
    if crate::runtime::payload::parse_document(text).is_ok() {
        return Cow::Borrowed(text);
    }
    let wrapped = format!("<pfw>{text}</pfw>");
    match crate::runtime::payload::parse_document(&wrapped) {
        Ok(doc) => match doc.root_element().children().find(|c| c.is_element()) {
            Some(first) => Cow::Owned(crate::xpath::serialize(first)),
            None => Cow::Borrowed(text),
        },
        Err(_) => Cow::Borrowed(text),
    }
}
