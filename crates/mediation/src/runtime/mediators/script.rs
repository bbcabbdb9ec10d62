//! `<script>` at run time: JavaScript run on the message by the script engine (crate::script), with
//! MI's `mc` object (SYN `mediators/bsf/ScriptMediator.java`, `ScriptMessageContext.java`,
//! `GraalVMJavaScriptMessageContext.java` for `js`, `NashornJavaScriptMessageContext.java`).
//!
//! An inline script runs top to bottom; its completion value decides (`false` stops the flow). A
//! script by key (a local entry or registry resource, `key="{expr}"` resolved per message) runs,
//! then its `<include>`s, then `function(mc)` is called; its return value decides. A static key's
//! source is syntax-checked at deploy time.
//!
//! `mc` follows GraalJS (MI 4.4's `js`) and Nashorn, which hand XML to scripts as strings:
//! `getPayloadJSON` (the payload as a live object; `{}` when it is not JSON), `setPayloadJSON`
//! (an object, or a string of JSON text as Rhino takes it), `getPayloadXML`/`setPayloadXML`,
//! `getEnvelopeXML`, `getPayloadText`, `getProperty(name[, scope])`,
//! `setProperty(name, value[, scope])` and `removeProperty(name[, scope])` in the scopes default,
//! axis2, transport and operation, `getJsonText`/`setJsonText`, `jsonObject`/`setJsonObject`,
//! `addHeader(mustUnderstand, xml)`, `setTo`/`setFrom`/`setFaultTo`/`setReplyTo`,
//! `getMessageID`, `getWSAAction`, `getSoapAction`, `isResponse`, `isFaultResponse`, `isSOAP11`,
//! `isDoingPOX`, `isDoingGET`, `getVariable`/`setVariable`, `getEntry`/`getLocalEntry`, `parseXml`,
//! `getEnvelope()` (an object with `build()`, `buildWithAttachments()` and `toString()`, for the
//! idioms that call them), and `getXpathResult(xpath).selectNodes(xml)` (a list with `get(i)`,
//! `size()` and nodes with `getText()`), which Nashorn scripts use in place of E4X. The global
//! `print` writes to the log. Java classes (`Java.type`, `java.util...`) do not exist.
//!
//! Property values cross as GraalJS gives them to MI: a string as it is (in the default scope, a
//! string that is an XML element is kept as XML, like MI's OMElement conversion), a whole number as
//! an integer (`137`, not `137.0`), any other number as Java's `Double.toString`, a boolean as
//! `true`/`false`, `null`/`undefined` removes the property, and an object as its JSON text
//! (which `getProperty` in the same script gives back as an object).
//!
//! The message context moves into the script's host for the execution and back afterwards, so
//! that `mc`'s functions (which QuickJS needs to be `'static`) reach it without sharing it.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use conflux_artifacts::Span;
use conflux_artifacts::mediators as am;
use conflux_artifacts::registry::registry_file_path;
use http::{HeaderMap, HeaderValue, Method, Uri};
use rquickjs::function::{Opt, Rest, This};
use rquickjs::{Array, Coerced, Ctx, Exception, Function, Object, Value};

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope, props};
use crate::runtime::payload::{self, JsonPayload, Payload, SoapVersion};
use crate::runtime::value::ValueSource;
use crate::script::{self, Limits, Script, ScriptError};
use crate::synapse_expr::ExprValue;
use crate::xpath::{XPath, XPathEnv, XValue};

/// A compiled `<script>`.
#[derive(Debug, Clone)]
pub struct ScriptMediator {
    main: Source,
    includes: Vec<Source>,
    /// The function called for a keyed script; `None` for an inline one.
    function: Option<String>,
    /// The `language` attribute, for messages.
    language: String,
    /// The key as written, for messages about a keyed script.
    key: Option<String>,
    limits: Limits,
}

#[derive(Debug, Clone)]
enum Source {
    Compiled(Script),
    /// `key="{expr}"`: the entry named per message.
    Dynamic(ValueSource),
}

/// The global the payload's JSON object is cached under for an execution (MI's `JSON_OBJECT`):
/// `getPayloadJSON` returns the same object each time, until `setPayloadJSON`/`setJsonObject`.
const JSON_OBJECT_SLOT: &str = "__conflux_json_object";

/// MI's `JSON_TEXT` property (`setJsonText` / `getJsonText`).
const JSON_TEXT: &str = "JSON_TEXT";

/// Compiles a `<script>`: an inline source or a static key's entry is syntax-checked now; `entry`
/// gives a local entry's or registry resource's text by key.
pub(crate) fn compile(
    s: &am::Script,
    entry: &dyn Fn(&str) -> Option<String>,
) -> Result<ScriptMediator, (Span, String)> {
    let hint = e4x_hint(s);
    let source_of =
        |value: &conflux_artifacts::Value, what: &str| -> Result<Source, (Span, String)> {
            match value {
                conflux_artifacts::Value::Literal(key, span) => {
                    let key = key.trim();
                    let Some(text) = entry(key) else {
                        return Err((span.clone(), missing_entry(what, key)));
                    };
                    Script::compile(key, 1, &text)
                        .map(Source::Compiled)
                        .map_err(|e| (span.clone(), format!("{what} {key}: {e}{hint}")))
                }
                conflux_artifacts::Value::Dynamic(expr) => ValueSource::compile(expr)
                    .map(Source::Dynamic)
                    .map_err(|e| (expr.span.clone(), e)),
            }
        };
    let (main, function, key) = match &s.source {
        am::ScriptSource::Inline { text, first_line } => {
            let script = Script::compile(&s.span.file, *first_line, text).map_err(|e| match e {
                ScriptError::Syntax {
                    line,
                    column,
                    message,
                    ..
                } => (
                    Span::new(s.span.file.clone(), line, column),
                    format!("{message} in the <script>{hint}"),
                ),
                other => (s.span.clone(), other.to_string()),
            })?;
            (Source::Compiled(script), None, None)
        }
        am::ScriptSource::Key(key) => {
            let written = match key {
                conflux_artifacts::Value::Literal(k, _) => k.trim().to_string(),
                conflux_artifacts::Value::Dynamic(e) => format!("{{{}}}", e.text),
            };
            (
                source_of(key, "script")?,
                Some(s.function.clone()),
                Some(written),
            )
        }
    };
    let includes = s
        .includes
        .iter()
        .map(|k| source_of(k, "script include"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ScriptMediator {
        main,
        includes,
        function,
        language: s.language.clone(),
        key,
        limits: Limits::default(),
    })
}

/// Why a script key names nothing.
fn missing_entry(what: &str, key: &str) -> String {
    match registry_file_path(key) {
        Some(path) if conflux_artifacts::registry::has_registry_prefix(key) => format!(
            "{what} {key} is not in the registry (no file registry/{path}, and no CApp registry resource of that key)"
        ),
        _ => format!("{what} {key} is not a deployed local entry nor a registry resource"),
    }
}

/// Rhino's E4X XML literals and `..` selectors are not JavaScript: a syntax error in such a
/// script says so.
fn e4x_hint(s: &am::Script) -> &'static str {
    if s.flavour == am::ScriptFlavour::Rhino {
        " (rhinoJs: E4X XML literals are not supported; Conflux runs scripts as GraalJS does, with XML as strings)"
    } else {
        ""
    }
}

impl ScriptMediator {
    /// Content-aware (SYN AbstractMediator.isContentAware): the payload is built before it runs.
    pub fn needs_payload(&self) -> bool {
        true
    }

    /// The same mediator under other limits (tests).
    pub fn with_limits(mut self, limits: Limits) -> ScriptMediator {
        self.limits = limits;
        self
    }

    /// Runs the script on the message: `Ok(false)` when it returned `false` (the flow stops there),
    /// `Err` with MI's message when it failed.
    pub fn run<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<bool, String> {
        let main = self.main.script(ctx).map_err(|e| self.failure(e))?;
        let includes = self
            .includes
            .iter()
            .map(|s| s.script(ctx))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.failure(e))?;
        let artifact = ctx.artifact.clone();
        let placeholder = MessageContext::new(
            Method::GET,
            Uri::default(),
            HeaderMap::new(),
            B::default(),
            artifact.clone(),
        );
        let host = Rc::new(RefCell::new(Host {
            ctx: Some(std::mem::replace(ctx, placeholder)),
            objects: Vec::new(),
        }));
        let outcome = script::execute(self.limits, |scope| {
            let js = scope.ctx();
            let mc = bind_mc(js, &host, &artifact).map_err(|e| scope.caught(e))?;
            js.globals()
                .set("mc", mc.clone())
                .map_err(|e| scope.caught(e))?;
            let completion = scope.eval(&main)?;
            for include in &includes {
                scope.eval(include)?;
            }
            let result = match &self.function {
                None => completion,
                Some(function) => {
                    let target: Value = js
                        .globals()
                        .get(function.as_str())
                        .map_err(|e| scope.caught(e))?;
                    let Some(target) = target.as_function() else {
                        return Err(ScriptError::NotAFunction {
                            name: function.clone(),
                        });
                    };
                    target
                        .call::<_, Value>((mc,))
                        .map_err(|e| scope.caught(e))?
                }
            };
            while js.execute_pending_job() {}
            // ScriptMediator: a Boolean result is the mediator's result; anything else is true.
            Ok(result.as_bool() != Some(false))
        });
        let restored = host.borrow_mut().ctx.take();
        match restored {
            Some(restored) => *ctx = restored,
            None => return Err("the script mediator lost the message context".into()),
        }
        outcome.map_err(|e| self.failure(e))
    }

    /// MI's message (ScriptMediator.invokeScript), with what went wrong.
    fn failure(&self, error: ScriptError) -> String {
        let language = &self.language;
        match (&self.key, &self.function) {
            (Some(key), Some(function)) => match error {
                ScriptError::NotAFunction { .. } => format!(
                    "The script engine returned a NoSuchMethodException executing the external {language} script : {key} function {function}"
                ),
                other => format!(
                    "The script engine returned an error executing the external {language} script : {key} function {function}: {other}"
                ),
            },
            _ => format!(
                "The script engine returned an error executing the inlined {language} script function {}: {error}",
                am::DEFAULT_SCRIPT_FUNCTION
            ),
        }
    }
}

impl Source {
    /// The script to run: compiled at deploy time, or the entry a dynamic key names now.
    fn script<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
    ) -> Result<Cow<'_, Script>, ScriptError> {
        match self {
            Source::Compiled(script) => Ok(Cow::Borrowed(script)),
            Source::Dynamic(key) => {
                let key = key.resolve(ctx).map_err(ScriptError::Conversion)?;
                let text = ctx
                    .local_entries
                    .get(&key)
                    .cloned()
                    .or_else(|| ctx.registry.text(&key).map(Cow::into_owned))
                    .ok_or_else(|| ScriptError::Conversion(missing_entry("script", &key)))?;
                Ok(Cow::Owned(Script::unchecked(&key, 1, &text)))
            }
        }
    }
}

/// What `mc`'s functions work on during one execution.
struct Host<B> {
    /// The message, moved in for the execution.
    ctx: Option<MessageContext<B>>,
    /// Properties this execution set to objects (held as JSON text): `getProperty` parses them.
    objects: Vec<(Scope, String)>,
}

type Shared<B> = Rc<RefCell<Host<B>>>;

/// Runs `f` on the message; a JavaScript error if the host is busy (a re-entrant call from a
/// `toString` or `toJSON` the script defined) or the message is gone.
fn with_message<'js, B, R>(
    js: &Ctx<'js>,
    host: &Shared<B>,
    f: impl FnOnce(&mut MessageContext<B>, &mut Vec<(Scope, String)>) -> Result<R, String>,
) -> rquickjs::Result<R> {
    let mut guard = host
        .try_borrow_mut()
        .map_err(|_| Exception::throw_internal(js, "mc is already in use by this call"))?;
    let Host { ctx, objects } = &mut *guard;
    let Some(ctx) = ctx.as_mut() else {
        return Err(Exception::throw_internal(
            js,
            "the message is no longer available",
        ));
    };
    f(ctx, objects).map_err(|message| Exception::throw_message(js, &message))
}

/// A scope name as `mc` takes it (`XMLConfigConstants.SCOPE_*`); `None` for one it ignores.
fn scope_of(name: Option<&str>) -> Option<Scope> {
    match name {
        None | Some("default") => Some(Scope::Default),
        Some("axis2") => Some(Scope::Axis2),
        Some("transport") => Some(Scope::Transport),
        Some("operation") => Some(Scope::Operation),
        Some(_) => None,
    }
}

/// A property value from JavaScript, as GraalJS hands it to MI.
enum PropertyValue {
    Remove,
    Text(String),
    /// An object or array, as JSON text.
    Object(String),
}

fn property_value<'js>(js: &Ctx<'js>, value: &Value<'js>) -> rquickjs::Result<PropertyValue> {
    if value.is_null() || value.is_undefined() {
        return Ok(PropertyValue::Remove);
    }
    if let Some(b) = value.as_bool() {
        return Ok(PropertyValue::Text(b.to_string()));
    }
    if let Some(i) = value.as_int() {
        return Ok(PropertyValue::Text(i.to_string()));
    }
    if let Some(f) = value.as_float() {
        return Ok(PropertyValue::Text(number_text(f)));
    }
    if let Some(s) = value.as_string() {
        return Ok(PropertyValue::Text(s.to_string()?));
    }
    if (value.is_object() || value.is_array()) && !value.is_function() {
        return match js.json_stringify(value.clone())? {
            Some(text) => Ok(PropertyValue::Object(text.to_string()?)),
            None => Ok(PropertyValue::Remove),
        };
    }
    let Coerced(text) = value.get::<Coerced<String>>()?;
    Ok(PropertyValue::Text(text))
}

/// A JavaScript number as GraalJS converts it for Java: a whole number within 2^53 as an integer,
/// anything else as a double (Java's `Double.toString`).
fn number_text(f: f64) -> String {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if f.fract() == 0.0 && f.abs() < EXACT && !(f == 0.0 && f.is_sign_negative()) {
        format!("{}", f as i64)
    } else {
        crate::synapse_expr::java_compat::double_to_string(f)
    }
}

/// The text of a JSON payload (as received while unchanged), or `{}` when the payload is not JSON
/// (ScriptMessageContext.jsonObject's empty object).
fn payload_json_text(payload: Option<&Payload>) -> String {
    match payload {
        Some(Payload::Json(json)) => match json.original_text() {
            Some(text) => text.to_string(),
            None => json.value().to_string(),
        },
        _ => "{}".to_string(),
    }
}

/// The first element of the SOAP body (ExtendedJavaScriptXmlHelper.toScriptXML of
/// `getBody().getFirstElement()`); `None` when the body is empty.
fn first_body_element(payload: &Payload) -> Result<Option<String>, String> {
    let envelope = payload.envelope_xml();
    let doc = payload::parse_document(&envelope)?;
    Ok(payload::body_element(&doc)
        .and_then(|body| body.first_element_child())
        .map(crate::xpath::serialize))
}

/// Adds a header block to a SOAP envelope (GraalVMJavaScriptMessageContext.addHeader). A message
/// that is not SOAP has no envelope to carry it: nothing to do, as its headers are not sent.
fn add_soap_header(
    payload: &mut Payload,
    must_understand: bool,
    block: &str,
) -> Result<(), String> {
    let Payload::Xml {
        text,
        soap: Some(version),
    } = payload
    else {
        return Ok(());
    };
    let version = *version;
    let header_block = payload::parse_document(block.trim())
        .map_err(|e| format!("Failed to create OMElement with provided payload: {e}"))?;
    let root = header_block.root_element();
    let mut block = crate::xpath::serialize(root);
    let edited = {
        let doc = payload::parse_document(text)?;
        let root = doc.root_element();
        if must_understand {
            // SOAPHeaderBlock.setMustUnderstand: the attribute in the envelope's namespace, under
            // the envelope's prefix.
            let value = match version {
                SoapVersion::Soap11 => "1",
                SoapVersion::Soap12 => "true",
            };
            let attribute = match root.lookup_prefix(version.namespace()) {
                Some(prefix) if !prefix.is_empty() => {
                    format!(" {prefix}:mustUnderstand=\"{value}\"")
                }
                _ => format!(
                    " xmlns:soapenv=\"{}\" soapenv:mustUnderstand=\"{value}\"",
                    version.namespace()
                ),
            };
            block.insert_str(start_tag_end(&block), &attribute);
        }
        let header = root.children().find(|n| {
            n.is_element()
                && n.tag_name().name() == "Header"
                && n.tag_name().namespace() == Some(version.namespace())
        });
        match header {
            Some(h) => payload::append_child_content(text, h, &block),
            None => payload::insert_soap_header(text, root, "", &block)?,
        }
    };
    *payload = Payload::Xml {
        text: edited,
        soap: Some(version),
    };
    Ok(())
}

/// Where the attributes of an element's start tag end (before `>` or `/>`), quotes skipped.
fn start_tag_end(element: &str) -> usize {
    let mut quote = None;
    for (i, c) in element.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') if element[..i].ends_with('/') => return i - 1,
            (None, '>') => return i,
            (None, _) => {}
        }
    }
    element.len()
}

/// XPath evaluated by `getXpathResult(...).selectNodes(...)` sees no properties.
struct NoProperties;

impl XPathEnv for NoProperties {
    fn property(&self, _scope: &str, _name: &str) -> Option<String> {
        None
    }
}

/// Axiom's `getText()`: an element's direct text children, or a text node's text.
fn direct_text(node: roxmltree::Node) -> String {
    if node.is_text() {
        return node.text().unwrap_or_default().to_string();
    }
    node.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect()
}

/// `(getText(), toString())` of each node `xpath` selects in `xml`.
fn select_nodes(xpath: &XPath, xml: &str) -> Result<Vec<(String, String)>, String> {
    let doc = payload::parse_document(xml.trim())?;
    Ok(
        match xpath
            .evaluate(&doc, &NoProperties)
            .map_err(|e| e.to_string())?
        {
            XValue::Nodes(nodes) => nodes
                .into_iter()
                .map(|n| (direct_text(n), crate::xpath::serialize(n)))
                .collect(),
            XValue::NodeSet(nodes) => nodes
                .into_iter()
                .map(|n| (n.string_value(), n.string_value()))
                .collect(),
            XValue::String(s) => vec![(s.clone(), s)],
            XValue::Number(n) => {
                let s = crate::synapse_expr::java_compat::double_to_string(n);
                vec![(s.clone(), s)]
            }
            XValue::Boolean(b) => vec![(b.to_string(), b.to_string())],
        },
    )
}

/// A JS array of node objects with Java's list and node methods (`get`, `size`, `getText`).
fn node_list<'js>(js: &Ctx<'js>, nodes: Vec<(String, String)>) -> rquickjs::Result<Array<'js>> {
    let get_text = Function::new(js.clone(), |this: This<Object<'js>>| {
        this.0.get::<_, Value<'js>>("text")
    })?;
    let to_string = Function::new(js.clone(), |this: This<Object<'js>>| {
        this.0.get::<_, Value<'js>>("xml")
    })?;
    let list = Array::new(js.clone())?;
    for (i, (text, xml)) in nodes.into_iter().enumerate() {
        let node = Object::new(js.clone())?;
        node.set("text", text)?;
        node.set("xml", xml)?;
        node.set("getText", get_text.clone())?;
        node.set("toString", to_string.clone())?;
        list.set(i, node)?;
    }
    list.as_object().set(
        "get",
        Function::new(js.clone(), |this: This<Object<'js>>, i: usize| {
            this.0.get::<_, Value<'js>>(i as u32)
        })?,
    )?;
    list.as_object().set(
        "size",
        Function::new(js.clone(), |this: This<Object<'js>>| {
            this.0.get::<_, Value<'js>>("length")
        })?,
    )?;
    Ok(list)
}

/// A variable value from JavaScript (MI 4.4 `setVariable`): JSON for objects and arrays.
fn variable_value<'js>(js: &Ctx<'js>, value: &Value<'js>) -> rquickjs::Result<ExprValue> {
    Ok(if value.is_null() || value.is_undefined() {
        ExprValue::Null
    } else if let Some(b) = value.as_bool() {
        ExprValue::Bool(b)
    } else if let Some(i) = value.as_int() {
        ExprValue::Int(i)
    } else if let Some(f) = value.as_float() {
        ExprValue::Double(f)
    } else if let Some(s) = value.as_string() {
        let s = s.to_string()?;
        if s.trim_start().starts_with('<') && payload::parse_document(s.trim()).is_ok() {
            ExprValue::Xml(s)
        } else {
            ExprValue::String(s)
        }
    } else {
        match js.json_stringify(value.clone())? {
            Some(text) => ExprValue::Json(
                serde_json::from_str(&text.to_string()?)
                    .map_err(|e| Exception::throw_message(js, &e.to_string()))?,
            ),
            None => ExprValue::Null,
        }
    })
}

/// A variable's value for JavaScript.
fn variable_js<'js>(js: &Ctx<'js>, value: Option<&ExprValue>) -> rquickjs::Result<Value<'js>> {
    use rquickjs::IntoJs;
    match value {
        None | Some(ExprValue::Null) => Ok(Value::new_null(js.clone())),
        Some(ExprValue::Bool(b)) => b.into_js(js),
        Some(ExprValue::Int(i)) => i.into_js(js),
        Some(ExprValue::Long(l)) => (*l as f64).into_js(js),
        Some(ExprValue::Double(d)) => d.into_js(js),
        Some(ExprValue::String(s) | ExprValue::Xml(s)) => s.as_str().into_js(js),
        Some(ExprValue::Json(v)) => js.json_parse(v.to_string()),
    }
}

/// Sets a property as `mc.setProperty(key, value, scope)` does.
fn set_property<B: MessageBody>(
    ctx: &mut MessageContext<B>,
    objects: &mut Vec<(Scope, String)>,
    scope: Scope,
    name: &str,
    value: PropertyValue,
) -> Result<(), String> {
    objects.retain(|(s, n)| !(*s == scope && n == name));
    ctx.mark_om(scope, name, false);
    match value {
        PropertyValue::Remove => {
            ctx.remove(scope, name);
            Ok(())
        }
        PropertyValue::Object(json) => {
            objects.push((scope, name.to_string()));
            ctx.set(scope, name, json)
        }
        PropertyValue::Text(text) => {
            // The default scope keeps a string that is an XML element as XML (xmlHelper.toOMElement).
            if scope == Scope::Default
                && text.trim_start().starts_with('<')
                && payload::parse_document(text.trim()).is_ok()
            {
                ctx.mark_om(scope, name, true);
            }
            if scope == Scope::Axis2 && name == props::MESSAGE_TYPE {
                // handleSpecialProperties: the content type follows messageType.
                ctx.set(Scope::Axis2, props::CONTENT_TYPE, text.clone())?;
                if let Ok(header) = HeaderValue::try_from(text.as_str()) {
                    ctx.headers.insert(http::header::CONTENT_TYPE, header);
                }
            }
            ctx.set(scope, name, text)
        }
    }
}

/// The `mc` object of one execution.
fn bind_mc<'js, B: MessageBody>(
    js: &Ctx<'js>,
    host: &Shared<B>,
    artifact: &Arc<str>,
) -> rquickjs::Result<Object<'js>> {
    let mc = Object::new(js.clone())?;

    // print(...): MI writes it to standard output; here it is an INFO line of the artifact.
    let who = artifact.clone();
    js.globals().set(
        "print",
        Function::new(js.clone(), move |args: Rest<Coerced<String>>| {
            let text: Vec<String> = args.0.into_iter().map(|Coerced(s)| s).collect();
            tracing::info!(target: "conflux::mediation", "{{{who}}} {}", text.join(" "));
        })?,
    )?;

    // getPayloadJSON() / jsonObject(mc): the payload as an object, the same one on every call.
    let h = host.clone();
    let payload_json = Function::new(
        js.clone(),
        move |js: Ctx<'js>| -> rquickjs::Result<Value<'js>> {
            let globals = js.globals();
            let cached: Value = globals.get(JSON_OBJECT_SLOT)?;
            if !cached.is_undefined() {
                return Ok(cached);
            }
            let text = with_message(&js, &h, |ctx, _| {
                Ok(payload_json_text(ctx.payload.as_ref()))
            })?;
            let value = js.json_parse(text)?;
            globals.set(JSON_OBJECT_SLOT, value.clone())?;
            Ok(value)
        },
    )?;
    mc.set("getPayloadJSON", payload_json.clone())?;
    mc.set("jsonObject", payload_json)?;

    // setJsonObject(mc, object): what getPayloadJSON returns from now on.
    mc.set(
        "setJsonObject",
        Function::new(
            js.clone(),
            |js: Ctx<'js>, _mc: Value<'js>, object: Value<'js>| {
                js.globals().set(JSON_OBJECT_SLOT, object).map(|_| true)
            },
        )?,
    )?;

    // setPayloadJSON(value): the payload becomes JSON.stringify(value); a string is JSON text.
    let h = host.clone();
    mc.set(
        "setPayloadJSON",
        Function::new(js.clone(), move |js: Ctx<'js>, value: Opt<Value<'js>>| -> rquickjs::Result<()> {
            let value = value.0.unwrap_or_else(|| Value::new_undefined(js.clone()));
            let as_text = match value.as_string() {
                Some(s) => Some(s.to_string()?),
                None => None,
            };
            let (text, parsed, object) = match as_text
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok().map(|v| (t, v)))
            {
                Some((text, parsed)) => (text, parsed, None),
                None => {
                    let Some(text) = js.json_stringify(value.clone())? else {
                        return Err(Exception::throw_type(
                            &js,
                            "setPayloadJSON: the value has no JSON form (undefined or a function)",
                        ));
                    };
                    let text = text.to_string()?;
                    let parsed = serde_json::from_str(&text)
                        .map_err(|e| Exception::throw_message(&js, &format!("setPayloadJSON: {e}")))?;
                    (text, parsed, Some(value))
                }
            };
            with_message(&js, &h, |ctx, _| {
                ctx.set_payload(Payload::Json(JsonPayload::with_text(parsed, text)));
                Ok(())
            })?;
            match object {
                Some(object) if object.is_object() => js.globals().set(JSON_OBJECT_SLOT, object),
                _ => js.globals().remove(JSON_OBJECT_SLOT),
            }
        })?,
    )?;

    // getPayloadXML(): the first element of the SOAP body, as a string (GraalJS, Nashorn 4.x).
    let h = host.clone();
    mc.set(
        "getPayloadXML",
        Function::new(
            js.clone(),
            move |js: Ctx<'js>| -> rquickjs::Result<Option<String>> {
                with_message(&js, &h, |ctx, _| match &ctx.payload {
                    Some(p) => first_body_element(p),
                    None => Ok(None),
                })
            },
        )?,
    )?;

    // setPayloadXML(xml): the body's content becomes `xml`.
    let h = host.clone();
    mc.set(
        "setPayloadXML",
        Function::new(
            js.clone(),
            move |js: Ctx<'js>, xml: Value<'js>| -> rquickjs::Result<()> {
                let Some(xml) = xml.as_string() else {
                    return Err(Exception::throw_type(
                        &js,
                        "setPayloadXML takes the XML as a string (E4X objects do not exist here)",
                    ));
                };
                let xml = xml.to_string()?;
                with_message(&js, &h, |ctx, _| {
                    ctx.payload_mut().set_body_xml(&xml).map_err(|e| {
                        format!("Failed to create OMElement with provided payload: {e}")
                    })
                })?;
                js.globals().remove(JSON_OBJECT_SLOT)
            },
        )?,
    )?;

    let h = host.clone();
    mc.set(
        "getEnvelopeXML",
        Function::new(
            js.clone(),
            move |js: Ctx<'js>| -> rquickjs::Result<String> {
                with_message(&js, &h, |ctx, _| {
                    Ok(ctx
                        .payload
                        .as_ref()
                        .map(|p| p.envelope_xml().into_owned())
                        .unwrap_or_else(|| Payload::Empty.envelope_xml().into_owned()))
                })
            },
        )?,
    )?;

    // getPayloadText(): the JSON text, or the envelope.
    let h = host.clone();
    mc.set(
        "getPayloadText",
        Function::new(
            js.clone(),
            move |js: Ctx<'js>| -> rquickjs::Result<String> {
                with_message(&js, &h, |ctx, _| {
                    Ok(match &ctx.payload {
                        Some(Payload::Json(_)) => payload_json_text(ctx.payload.as_ref()),
                        Some(p) => p.envelope_xml().into_owned(),
                        None => Payload::Empty.envelope_xml().into_owned(),
                    })
                })
            },
        )?,
    )?;

    // getProperty(name[, scope]).
    let h = host.clone();
    mc.set(
        "getProperty",
        Function::new(
            js.clone(),
            move |js: Ctx<'js>,
                  name: Coerced<String>,
                  scope: Opt<String>|
                  -> rquickjs::Result<Value<'js>> {
                let Some(scope) = scope_of(scope.0.as_deref()) else {
                    return Ok(Value::new_null(js.clone()));
                };
                let (value, object) = with_message(&js, &h, |ctx, objects| {
                    let object = objects.iter().any(|(s, n)| *s == scope && *n == name.0);
                    Ok((ctx.get(scope, &name.0), object))
                })?;
                match value {
                    None => Ok(Value::new_null(js.clone())),
                    Some(json) if object => js.json_parse(json),
                    Some(text) => rquickjs::IntoJs::into_js(text, &js),
                }
            },
        )?,
    )?;

    // setProperty(name, value[, scope]).
    let h = host.clone();
    mc.set(
        "setProperty",
        Function::new(
            js.clone(),
            move |js: Ctx<'js>,
                  name: Coerced<String>,
                  value: Opt<Value<'js>>,
                  scope: Opt<String>|
                  -> rquickjs::Result<()> {
                let Some(scope) = scope_of(scope.0.as_deref()) else {
                    return Ok(());
                };
                let value = match value.0 {
                    Some(v) => property_value(&js, &v)?,
                    None => PropertyValue::Remove,
                };
                with_message(&js, &h, |ctx, objects| {
                    set_property(ctx, objects, scope, &name.0, value)
                })
            },
        )?,
    )?;

    // removeProperty(name[, scope]).
    let h = host.clone();
    mc.set(
        "removeProperty",
        Function::new(
            js.clone(),
            move |js: Ctx<'js>,
                  name: Coerced<String>,
                  scope: Opt<String>|
                  -> rquickjs::Result<()> {
                let Some(scope) = scope_of(scope.0.as_deref()) else {
                    return Ok(());
                };
                with_message(&js, &h, |ctx, objects| {
                    set_property(ctx, objects, scope, &name.0, PropertyValue::Remove)
                })
            },
        )?,
    )?;

    // setJsonText(mc, text) / getJsonText(): the JSON_TEXT property ("{}" when unset).
    let h = host.clone();
    mc.set(
        "setJsonText",
        Function::new(
            js.clone(),
            move |js: Ctx<'js>, _mc: Value<'js>, text: Opt<Value<'js>>| -> rquickjs::Result<bool> {
                let value = match text.0 {
                    Some(v) => property_value(&js, &v)?,
                    None => PropertyValue::Remove,
                };
                with_message(&js, &h, |ctx, objects| {
                    set_property(ctx, objects, Scope::Default, JSON_TEXT, value)
                })?;
                Ok(true)
            },
        )?,
    )?;
    let h = host.clone();
    mc.set(
        "getJsonText",
        Function::new(
            js.clone(),
            move |js: Ctx<'js>| -> rquickjs::Result<String> {
                with_message(&js, &h, |ctx, _| {
                    Ok(ctx
                        .get(Scope::Default, JSON_TEXT)
                        .unwrap_or_else(|| "{}".to_string()))
                })
            },
        )?,
    )?;

    // addHeader(mustUnderstand, xml): a SOAP header block.
    let h = host.clone();
    mc.set(
        "addHeader",
        Function::new(
            js.clone(),
            move |js: Ctx<'js>,
                  must_understand: Coerced<bool>,
                  content: Coerced<String>|
                  -> rquickjs::Result<()> {
                with_message(&js, &h, |ctx, _| {
                    add_soap_header(ctx.payload_mut(), must_understand.0, &content.0)
                })
            },
        )?,
    )?;

    // setTo / setFrom / setFaultTo / setReplyTo: WS-Addressing, as <header name="To"> sets them.
    for (method, field) in [
        ("setTo", "To"),
        ("setFrom", "From"),
        ("setFaultTo", "FaultTo"),
        ("setReplyTo", "ReplyTo"),
    ] {
        let h = host.clone();
        mc.set(
            method,
            Function::new(
                js.clone(),
                move |js: Ctx<'js>, reference: Coerced<String>| -> rquickjs::Result<()> {
                    with_message(&js, &h, |ctx, _| {
                        ctx.addressing
                            .insert(field.to_string(), reference.0.clone());
                        Ok(())
                    })
                },
            )?,
        )?;
    }

    // Read-only facts about the message.
    let h = host.clone();
    mc.set(
        "getMessageID",
        Function::new(
            js.clone(),
            move |js: Ctx<'js>| -> rquickjs::Result<String> {
                with_message(&js, &h, |ctx, _| {
                    Ok(ctx
                        .addressing
                        .get("MessageID")
                        .cloned()
                        .unwrap_or_else(|| ctx.message_id()))
                })
            },
        )?,
    )?;
    let h = host.clone();
    let action = Function::new(
        js.clone(),
        move |js: Ctx<'js>| -> rquickjs::Result<Option<String>> {
            with_message(&js, &h, |ctx, _| Ok(ctx.wsa_action()))
        },
    )?;
    mc.set("getWSAAction", action.clone())?;
    mc.set("getSoapAction", action)?;
    let h = host.clone();
    mc.set(
        "isResponse",
        Function::new(js.clone(), move |js: Ctx<'js>| -> rquickjs::Result<bool> {
            with_message(&js, &h, |ctx, _| Ok(ctx.is_response))
        })?,
    )?;
    let h = host.clone();
    mc.set(
        "isFaultResponse",
        Function::new(js.clone(), move |js: Ctx<'js>| -> rquickjs::Result<bool> {
            with_message(&js, &h, |ctx, _| Ok(ctx.fault_response))
        })?,
    )?;
    let h = host.clone();
    mc.set(
        "isSOAP11",
        Function::new(js.clone(), move |js: Ctx<'js>| -> rquickjs::Result<bool> {
            with_message(&js, &h, |ctx, _| {
                Ok(!matches!(
                    ctx.payload,
                    Some(Payload::Xml {
                        soap: Some(SoapVersion::Soap12),
                        ..
                    })
                ))
            })
        })?,
    )?;
    let h = host.clone();
    mc.set(
        "isDoingPOX",
        Function::new(js.clone(), move |js: Ctx<'js>| -> rquickjs::Result<bool> {
            with_message(&js, &h, |ctx, _| Ok(ctx.doing_rest))
        })?,
    )?;
    let h = host.clone();
    mc.set(
        "isDoingGET",
        Function::new(js.clone(), move |js: Ctx<'js>| -> rquickjs::Result<bool> {
            with_message(&js, &h, |ctx, _| Ok(ctx.method == Method::GET))
        })?,
    )?;

    // getEnvelope(): Axiom's SOAPEnvelope is Java; scripts call `build()` or
    // `buildWithAttachments()` on it to read the whole message (MI's loadbalanceproxy), which the
    // mediator has done already, and `toString()` for its XML.
    let h = host.clone();
    mc.set(
        "getEnvelope",
        Function::new(
            js.clone(),
            move |js: Ctx<'js>| -> rquickjs::Result<Object<'js>> {
                let xml = with_message(&js, &h, |ctx, _| {
                    Ok(ctx
                        .payload
                        .as_ref()
                        .unwrap_or(&Payload::Empty)
                        .envelope_xml()
                        .into_owned())
                })?;
                let envelope = Object::new(js.clone())?;
                envelope.set("xml", xml)?;
                let built = Function::new(js.clone(), || ())?;
                envelope.set("build", built.clone())?;
                envelope.set("buildWithAttachments", built)?;
                envelope.set(
                    "toString",
                    Function::new(js.clone(), |this: This<Object<'js>>| {
                        this.0.get::<_, Value<'js>>("xml")
                    })?,
                )?;
                Ok(envelope)
            },
        )?,
    )?;

    // getVariable(name) / setVariable(name, value): MI 4.4 variables.
    let h = host.clone();
    mc.set(
        "getVariable",
        Function::new(
            js.clone(),
            move |js: Ctx<'js>, name: Coerced<String>| -> rquickjs::Result<Value<'js>> {
                let value =
                    with_message(&js, &h, |ctx, _| Ok(ctx.variables.get(&name.0).cloned()))?;
                variable_js(&js, value.as_ref())
            },
        )?,
    )?;
    let h = host.clone();
    mc.set(
        "setVariable",
        Function::new(
            js.clone(),
            move |js: Ctx<'js>,
                  name: Coerced<String>,
                  value: Opt<Value<'js>>|
                  -> rquickjs::Result<()> {
                let value = match value.0 {
                    Some(v) => variable_value(&js, &v)?,
                    None => ExprValue::Null,
                };
                with_message(&js, &h, |ctx, _| {
                    ctx.variables.insert(name.0.clone(), value);
                    Ok(())
                })
            },
        )?,
    )?;

    // getEntry(key) / getLocalEntry(key): an entry's text.
    let h = host.clone();
    let entry = Function::new(
        js.clone(),
        move |js: Ctx<'js>, key: Coerced<String>| -> rquickjs::Result<Option<String>> {
            with_message(&js, &h, |ctx, _| {
                Ok(ctx
                    .local_entries
                    .get(&key.0)
                    .cloned()
                    .or_else(|| ctx.registry.text(&key.0).map(Cow::into_owned)))
            })
        },
    )?;
    mc.set("getEntry", entry.clone())?;
    mc.set("getLocalEntry", entry)?;

    // parseXml(text): checked XML, kept as the string addHeader and setPayloadXML take.
    mc.set(
        "parseXml",
        Function::new(
            js.clone(),
            |js: Ctx<'js>, text: Coerced<String>| -> rquickjs::Result<String> {
                payload::parse_document(text.0.trim()).map_err(|e| {
                    Exception::throw_message(&js, &format!("Failed to parse provided xml: {e}"))
                })?;
                Ok(text.0)
            },
        )?,
    )?;

    // getXpathResult(expression).selectNodes(xml): Axiom's XPath, as Nashorn scripts use it.
    mc.set(
        "getXpathResult",
        Function::new(
            js.clone(),
            |js: Ctx<'js>, expression: Coerced<String>| -> rquickjs::Result<Object<'js>> {
                let xpath = XPath::compile(&expression.0, &[])
                    .map_err(|e| Exception::throw_message(&js, &e.to_string()))?;
                let result = Object::new(js.clone())?;
                result.set("expression", expression.0.clone())?;
                result.set(
                    "selectNodes",
                    Function::new(
                        js.clone(),
                        move |js: Ctx<'js>, xml: Coerced<String>| -> rquickjs::Result<Array<'js>> {
                            let nodes = select_nodes(&xpath, &xml.0)
                                .map_err(|e| Exception::throw_message(&js, &e))?;
                            node_list(&js, nodes)
                        },
                    )?,
                )?;
                Ok(result)
            },
        )?,
    )?;

    Ok(mc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::context::test_context;
    use serde_json::json;

    fn inline(text: &str) -> ScriptMediator {
        let s = am::Script {
            language: "js".into(),
            flavour: am::ScriptFlavour::Graal,
            source: am::ScriptSource::Inline {
                text: text.into(),
                first_line: 1,
            },
            function: am::DEFAULT_SCRIPT_FUNCTION.into(),
            includes: Vec::new(),
            span: Span::new("api/A.xml".into(), 1, 1),
        };
        compile(&s, &|_| None).unwrap()
    }

    fn json_ctx(body: &str) -> MessageContext<http_body_util::Full<bytes::Bytes>> {
        let mut ctx = test_context(Method::POST, "/a");
        ctx.set_payload(
            Payload::parse(body.as_bytes().to_vec().into(), Some("application/json")).unwrap(),
        );
        ctx
    }

    fn payload_text(ctx: &MessageContext<http_body_util::Full<bytes::Bytes>>) -> String {
        match &ctx.payload {
            Some(Payload::Json(j)) => j.to_string(),
            Some(Payload::Xml { text, .. }) => text.clone(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn the_payload_is_a_live_object_and_set_payload_json_writes_it() {
        let mut ctx = json_ctx(
            r#"{"order": {"id": 1042, "items": [{"price": 12.5, "qty": 2}, {"price": 99.0, "qty": 1}]}}"#,
        );
        let m = inline(
            "var p = mc.getPayloadJSON(); p.order.total = 0;
             p.order.items.forEach(function (i) { p.order.total += i.price * i.qty; });
             mc.getPayloadJSON().order.seen = true;
             mc.setPayloadJSON(p); mc.setProperty('orderId', p.order.id);
             mc.setProperty('total', p.order.total / 3);",
        );
        assert!(m.run(&mut ctx).unwrap());
        assert_eq!(
            payload_text(&ctx),
            r#"{"order":{"id":1042,"items":[{"price":12.5,"qty":2},{"price":99,"qty":1}],"total":124,"seen":true}}"#
        );
        assert_eq!(ctx.get(Scope::Default, "orderId").as_deref(), Some("1042"));
        assert_eq!(
            ctx.get(Scope::Default, "total").as_deref(),
            Some("41.333333333333336")
        );
        // The message context is the same one after the run.
        assert_eq!(ctx.artifact.as_ref(), "api:A");
    }

    #[test]
    fn a_false_completion_value_stops_the_flow_and_errors_carry_mi_s_message() {
        let mut ctx = json_ctx("{}");
        assert!(!inline("var go = false; go;").run(&mut ctx).unwrap());
        assert!(inline("var x = false;").run(&mut ctx).unwrap());
        let err = inline("\n\nnoSuchThing();").run(&mut ctx).unwrap_err();
        assert_eq!(
            err,
            "The script engine returned an error executing the inlined js script function mediate: ReferenceError: noSuchThing is not defined at api/A.xml:3:1"
        );
    }

    #[test]
    fn properties_in_each_scope_with_graal_s_conversions() {
        let mut ctx = json_ctx("{}");
        ctx.set(Scope::Default, "TIME_1", "1000".into()).unwrap();
        ctx.set(Scope::Default, "TIME_2", "1250".into()).unwrap();
        let m = inline(
            "var taken = mc.getProperty('TIME_2') - mc.getProperty('TIME_1');
             mc.setProperty('RESPONSE_TIME', taken);
             mc.setProperty('half', 0.5); mc.setProperty('big', 1e21); mc.setProperty('flag', true);
             mc.setProperty('xml', '<a><b>1</b></a>');
             mc.setProperty('obj', {k: [1, 2]}); mc.setProperty('back', mc.getProperty('obj').k[1]);
             mc.setProperty('a2', 'AXIS2_PROPERTY', 'axis2');
             mc.setProperty('X-Trp', 'TRANSPORT_PROPERTY', 'transport');
             mc.setProperty('op', 'OPERATION_PROPERTY', 'operation');
             mc.setProperty('ignored', 'x', 'nowhere');
             mc.setProperty('gone', 'soon'); mc.removeProperty('gone'); mc.setProperty('nulled', null);
             mc.setProperty('scoped', mc.getProperty('a2', 'axis2') + '/' + mc.getProperty('missing'));",
        );
        m.run(&mut ctx).unwrap();
        let get = |scope, name| ctx.get(scope, name);
        assert_eq!(get(Scope::Default, "RESPONSE_TIME").as_deref(), Some("250"));
        assert_eq!(get(Scope::Default, "half").as_deref(), Some("0.5"));
        assert_eq!(get(Scope::Default, "big").as_deref(), Some("1.0E21"));
        assert_eq!(get(Scope::Default, "flag").as_deref(), Some("true"));
        assert_eq!(
            ctx.get_string(Scope::Default, "xml").as_deref(),
            Some("<a><b>1</b></a>")
        );
        assert_eq!(
            get(Scope::Default, "obj").as_deref(),
            Some(r#"{"k":[1,2]}"#)
        );
        assert_eq!(get(Scope::Default, "back").as_deref(), Some("2"));
        assert_eq!(get(Scope::Axis2, "a2").as_deref(), Some("AXIS2_PROPERTY"));
        assert_eq!(
            get(Scope::Transport, "x-trp").as_deref(),
            Some("TRANSPORT_PROPERTY")
        );
        assert_eq!(
            get(Scope::Operation, "op").as_deref(),
            Some("OPERATION_PROPERTY")
        );
        assert_eq!(get(Scope::Default, "ignored"), None);
        assert_eq!(get(Scope::Default, "gone"), None);
        assert_eq!(get(Scope::Default, "nulled"), None);
        assert_eq!(
            get(Scope::Default, "scoped").as_deref(),
            Some("AXIS2_PROPERTY/null")
        );
    }

    #[test]
    fn xml_payloads_as_strings_and_nashorn_s_xpath_helper() {
        let mut ctx = test_context(Method::POST, "/a");
        ctx.set_payload(
            Payload::xml(
                r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><m:getQuote xmlns:m="http://services.samples"><m:request><m:symbol>WSO2</m:symbol></m:request></m:getQuote></soapenv:Body></soapenv:Envelope>"#.into(),
            )
            .unwrap(),
        );
        let m = inline(
            r#"var payload = mc.getPayloadXML();
               var nodes = mc.getXpathResult("//*[local-name()='symbol']").selectNodes(payload);
               mc.setProperty('count', nodes.size());
               mc.setPayloadXML('<m:CheckPriceResponse xmlns:m="http://services.samples/xsd"><m:Code>' + nodes.get(0).getText() + '</m:Code></m:CheckPriceResponse>');
               mc.addHeader(true, '<h:Trace xmlns:h="urn:trace">on</h:Trace>');
               mc.setProperty('json', JSON.stringify(mc.getPayloadJSON()));"#,
        );
        m.run(&mut ctx).unwrap();
        assert_eq!(ctx.get(Scope::Default, "count").as_deref(), Some("1"));
        assert_eq!(ctx.get(Scope::Default, "json").as_deref(), Some("{}"));
        assert_eq!(
            payload_text(&ctx),
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header><h:Trace xmlns:h="urn:trace" soapenv:mustUnderstand="1">on</h:Trace></soapenv:Header><soapenv:Body><m:CheckPriceResponse xmlns:m="http://services.samples/xsd"><m:Code>WSO2</m:Code></m:CheckPriceResponse></soapenv:Body></soapenv:Envelope>"#
        );
    }

    #[test]
    fn mi_s_null_json_object_idioms() {
        // MI scriptMediatorJsHandlingNullJsonObjectAPI.
        let mut ctx = json_ctx(r#"{"name": "John Doe"}"#);
        inline(
            "mc.setJsonText(mc, null);
             var parsed = JSON.parse(mc.getJsonText());
             mc.setJsonObject(mc, parsed);
             mc.setProperty('json', mc.jsonObject(mc));
             mc.setPayloadJSON(mc.getProperty('json'));",
        )
        .run(&mut ctx)
        .unwrap();
        assert_eq!(payload_text(&ctx), "{}");
        // A string of JSON text is the payload (Rhino's reading); any other string is a JSON string.
        inline("mc.setPayloadJSON('{\"a\": [1, 2.50]}')")
            .run(&mut ctx)
            .unwrap();
        assert_eq!(payload_text(&ctx), "{\"a\": [1, 2.50]}");
        assert!(
            matches!(&ctx.payload, Some(Payload::Json(j)) if *j.value() == json!({"a": [1, 2.5]}))
        );
        inline("mc.setPayloadJSON('plain')").run(&mut ctx).unwrap();
        assert_eq!(payload_text(&ctx), "\"plain\"");
    }

    #[test]
    fn a_runaway_script_is_stopped_and_the_message_is_intact() {
        let mut ctx = json_ctx(r#"{"a": 1}"#);
        ctx.set(Scope::Default, "kept", "yes".into()).unwrap();
        let m = inline("mc.setProperty('before', 'set'); while (true) {}").with_limits(Limits {
            max_time: std::time::Duration::from_millis(50),
            ..Limits::default()
        });
        let err = m.run(&mut ctx).unwrap_err();
        assert!(
            err.ends_with("the script ran longer than the limit of 50 ms"),
            "{err}"
        );
        assert_eq!(ctx.get(Scope::Default, "kept").as_deref(), Some("yes"));
        assert_eq!(ctx.get(Scope::Default, "before").as_deref(), Some("set"));
        assert_eq!(payload_text(&ctx), r#"{"a": 1}"#);
    }

    #[test]
    fn re_entering_mc_from_a_to_json_is_refused_not_a_panic() {
        let mut ctx = json_ctx("{}");
        let err = inline(
            "mc.setPayloadJSON({ toJSON: function () { mc.setProperty('x', 1); return 1; } });",
        )
        .run(&mut ctx);
        // JSON.stringify runs before the message is taken: the property is set, the payload is 1.
        assert!(err.is_ok(), "{err:?}");
        assert_eq!(payload_text(&ctx), "1");
        assert_eq!(ctx.get(Scope::Default, "x").as_deref(), Some("1"));
    }

    #[test]
    fn the_envelope_idioms_of_mi_s_corpus() {
        // MI loadbalanceproxy: `mc.getEnvelope().buildWithAttachments()` before a send.
        let mut ctx = test_context(Method::POST, "/a");
        ctx.set_payload(Payload::xml("<Value>Sample string</Value>".into()).unwrap());
        inline(
            "var payload = mc.getEnvelope().buildWithAttachments();
             mc.setProperty('env', String(mc.getEnvelope()) === mc.getEnvelopeXML());",
        )
        .run(&mut ctx)
        .unwrap();
        assert_eq!(ctx.get(Scope::Default, "env").as_deref(), Some("true"));
        assert_eq!(payload_text(&ctx), "<Value>Sample string</Value>");
    }

    #[test]
    fn number_text_follows_graal_s_java_conversion() {
        assert_eq!(number_text(137.0), "137");
        assert_eq!(number_text(-2.0), "-2");
        assert_eq!(number_text(1.5), "1.5");
        assert_eq!(number_text(1e21), "1.0E21");
        assert_eq!(number_text(-0.0), "-0.0");
        assert_eq!(number_text(f64::NAN), "NaN");
    }
}
