//! Runs a compiled template over MI's data model. Values ([`Val`]) borrow the message: a JSON
//! payload is read in place (objects as hashes, arrays as sequences, numbers as doubles, as Gson
//! hands them to FreeMarker in MI), an XML payload is a DOM tree read with FreeMarker's node rules
//! (`doc.a.b` is the sequence of child elements named `b`; `@attr`, `@@text`, `@@markup`, `*`).
//! Missing values are `None`; only `!`, `??`, `?has_content` and `?default` accept them.

use std::borrow::Cow;
use std::rc::Rc;

use super::ast::{BinOp, Expr, ExprKind, Node, RangeEnd, Span, StrPart};
use super::{MAX_ITERATIONS, MAX_OUTPUT_BYTES, builtins, format};

/// A value of the template language.
#[derive(Debug, Clone)]
pub enum Val<'a> {
    Str(Cow<'a, str>),
    Num(f64),
    Bool(bool),
    /// A JSON value of the payload (never `null`: that is missing, as in MI).
    Json(&'a serde_json::Value),
    Seq(Rc<Vec<Val<'a>>>),
    Hash(Rc<Vec<(String, Val<'a>)>>),
    /// A node sequence of the XML payload (the document node is one too).
    Nodes(Rc<Vec<roxmltree::Node<'a, 'a>>>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub span: Span,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, EvalError>;

pub fn fail<T>(span: Span, message: impl Into<String>) -> Result<T> {
    Err(EvalError {
        span,
        message: message.into(),
    })
}

/// Whether `<#break>` was met.
enum Flow {
    Normal,
    Break,
}

/// One active `<#list>`: its variables and where the loop is.
pub struct LoopFrame<'a> {
    pub var: String,
    pub value_var: Option<String>,
    pub item: Option<Val<'a>>,
    pub value: Option<Val<'a>>,
    pub index: usize,
    pub has_next: bool,
}

pub struct Env<'t, 'a> {
    /// `payload`, `ctx`, `axis2`, `trp`, `vars`, `args`.
    pub globals: Vec<(&'static str, Val<'a>)>,
    /// `<#assign>`ed variables, which hide the data model's.
    assigned: Vec<(String, Val<'a>)>,
    pub loops: Vec<LoopFrame<'a>>,
    pub out: String,
    iterations: usize,
    /// `<#ftl ns_prefixes>`: prefix -> namespace URI.
    pub ns_prefixes: &'t [(String, String)],
}

impl<'t, 'a> Env<'t, 'a> {
    pub fn new(globals: Vec<(&'static str, Val<'a>)>, ns_prefixes: &'t [(String, String)]) -> Self {
        Env {
            globals,
            assigned: Vec::new(),
            loops: Vec::new(),
            out: String::new(),
            iterations: 0,
            ns_prefixes,
        }
    }

    pub fn run(&mut self, nodes: &[Node]) -> Result<()> {
        self.exec(nodes).map(|_| ())
    }

    fn write(&mut self, s: &str, span: Span) -> Result<()> {
        if self.out.len() + s.len() > MAX_OUTPUT_BYTES {
            return fail(
                span,
                format!("the template wrote more than {MAX_OUTPUT_BYTES} bytes"),
            );
        }
        self.out.push_str(s);
        Ok(())
    }

    fn exec(&mut self, nodes: &[Node]) -> Result<Flow> {
        for node in nodes {
            match node {
                Node::Text(t) => self.write(t, Span { start: 0, end: 0 })?,
                Node::Interpolation(e) => {
                    let v = self.eval(e)?;
                    let s = display(v.as_ref(), e.span)?;
                    self.write(&s, e.span)?;
                }
                Node::If {
                    branches,
                    otherwise,
                } => {
                    let mut chosen = otherwise.as_deref();
                    for (cond, body) in branches {
                        if self.truth(cond)? {
                            chosen = Some(body);
                            break;
                        }
                    }
                    if let Some(body) = chosen
                        && let Flow::Break = self.exec(body)?
                    {
                        return Ok(Flow::Break);
                    }
                }
                Node::List {
                    source,
                    var,
                    value_var,
                    body,
                    otherwise,
                } => {
                    let items = self.listable(source, value_var.is_some())?;
                    if items.is_empty() {
                        if let Some(o) = otherwise
                            && let Flow::Break = self.exec(o)?
                        {
                            return Ok(Flow::Break);
                        }
                        continue;
                    }
                    let count = items.len();
                    self.loops.push(LoopFrame {
                        var: var.clone(),
                        value_var: value_var.clone(),
                        item: None,
                        value: None,
                        index: 0,
                        has_next: false,
                    });
                    for (index, (item, value)) in items.into_iter().enumerate() {
                        self.iterations += 1;
                        if self.iterations > MAX_ITERATIONS {
                            self.loops.pop();
                            return fail(
                                source.span,
                                format!("the template looped more than {MAX_ITERATIONS} times"),
                            );
                        }
                        let frame = self.loops.last_mut().expect("pushed above");
                        frame.item = item;
                        frame.value = value;
                        frame.index = index;
                        frame.has_next = index + 1 < count;
                        match self.exec(body) {
                            Ok(Flow::Normal) => {}
                            Ok(Flow::Break) => break,
                            Err(e) => {
                                self.loops.pop();
                                return Err(e);
                            }
                        }
                    }
                    self.loops.pop();
                }
                Node::Sep(body) => {
                    if self.loops.last().is_some_and(|f| f.has_next)
                        && let Flow::Break = self.exec(body)?
                    {
                        return Ok(Flow::Break);
                    }
                }
                Node::Assign(assigns) => {
                    for (name, e) in assigns {
                        let Some(v) = self.eval(e)? else {
                            return fail(e.span, missing_message(e));
                        };
                        match self.assigned.iter_mut().find(|(n, _)| n == name) {
                            Some(slot) => slot.1 = v,
                            None => self.assigned.push((name.clone(), v)),
                        }
                    }
                }
                Node::Switch { value, cases } => {
                    let v = self.eval(value)?;
                    let Some(v) = v else {
                        return fail(value.span, missing_message(value));
                    };
                    let mut start = None;
                    for (i, (cond, _)) in cases.iter().enumerate() {
                        if let Some(c) = cond {
                            let cv = self.eval(c)?;
                            let Some(cv) = cv else {
                                return fail(c.span, missing_message(c));
                            };
                            if compare(&v, &cv, BinOp::Eq, c.span)? {
                                start = Some(i);
                                break;
                            }
                        }
                    }
                    let start = start.or_else(|| cases.iter().position(|(cond, _)| cond.is_none()));
                    if let Some(start) = start {
                        for (_, body) in &cases[start..] {
                            if let Flow::Break = self.exec(body)? {
                                break;
                            }
                        }
                    }
                }
                Node::Break => return Ok(Flow::Break),
            }
        }
        Ok(Flow::Normal)
    }

    /// The items of a `<#list>` source; `(key, value)` pairs for `as k, v`.
    #[allow(clippy::type_complexity)]
    fn listable(
        &mut self,
        source: &Expr,
        pairs: bool,
    ) -> Result<Vec<(Option<Val<'a>>, Option<Val<'a>>)>> {
        let Some(v) = self.eval(source)? else {
            return fail(source.span, missing_message(source));
        };
        if pairs {
            let Some(entries) = hash_entries(&v) else {
                return fail(
                    source.span,
                    format!(
                        "<#list ... as k, v> needs a hash, but this is {}",
                        type_name(&v)
                    ),
                );
            };
            return Ok(entries
                .into_iter()
                .map(|(k, v)| (Some(Val::Str(Cow::Owned(k))), v))
                .collect());
        }
        match seq_items(&v) {
            Some(items) => Ok(items.into_iter().map(|i| (i, None)).collect()),
            None => fail(
                source.span,
                format!(
                    "<#list> needs a sequence, but this has evaluated to {}",
                    type_name(&v)
                ),
            ),
        }
    }

    fn truth(&mut self, e: &Expr) -> Result<bool> {
        match self.eval(e)? {
            Some(v) => as_bool(&v, e.span),
            None => fail(e.span, missing_message(e)),
        }
    }

    fn lookup(&self, name: &str) -> Option<Option<Val<'a>>> {
        for frame in self.loops.iter().rev() {
            if frame.var == name {
                return Some(frame.item.clone());
            }
            if frame.value_var.as_deref() == Some(name) {
                return Some(frame.value.clone());
            }
            // FreeMarker's old loop variables `x_index` and `x_has_next` (MI's own tests use them).
            if let Some(base) = name.strip_suffix("_index")
                && base == frame.var
            {
                return Some(Some(Val::Num(frame.index as f64)));
            }
            if let Some(base) = name.strip_suffix("_has_next")
                && base == frame.var
            {
                return Some(Some(Val::Bool(frame.has_next)));
            }
        }
        if let Some((_, v)) = self.assigned.iter().find(|(n, _)| n == name) {
            return Some(Some(v.clone()));
        }
        self.globals
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| Some(v.clone()))
    }

    pub fn eval(&mut self, e: &Expr) -> Result<Option<Val<'a>>> {
        self.eval_mode(e, false)
    }

    /// `lenient`: inside `(...)!` and `(...)??`, a missing value anywhere in a chain is missing
    /// rather than an error.
    pub fn eval_mode(&mut self, e: &Expr, lenient: bool) -> Result<Option<Val<'a>>> {
        Ok(Some(match &e.kind {
            ExprKind::Str(s) => Val::Str(Cow::Owned(s.clone())),
            ExprKind::Num(n) => Val::Num(*n),
            ExprKind::Bool(b) => Val::Bool(*b),
            ExprKind::Interpolated(parts) => {
                let mut s = String::new();
                for part in parts {
                    match part {
                        StrPart::Lit(l) => s.push_str(l),
                        StrPart::Expr(x) => {
                            let v = self.eval(x)?;
                            s.push_str(&display(v.as_ref(), x.span)?);
                        }
                    }
                }
                Val::Str(Cow::Owned(s))
            }
            ExprKind::Var(name) => return Ok(self.lookup(name).flatten()),
            ExprKind::Paren(inner) => return self.eval_mode(inner, lenient),
            ExprKind::Dot(target, key) => {
                let Some(t) = self.eval_mode(target, lenient)? else {
                    return if lenient {
                        Ok(None)
                    } else {
                        fail(target.span, missing_message(target))
                    };
                };
                return self.key(&t, key, e.span);
            }
            ExprKind::Index(target, index) => {
                let Some(t) = self.eval_mode(target, lenient)? else {
                    return if lenient {
                        Ok(None)
                    } else {
                        fail(target.span, missing_message(target))
                    };
                };
                let Some(i) = self.eval(index)? else {
                    return fail(index.span, missing_message(index));
                };
                return self.index(&t, &i, e.span);
            }
            ExprKind::BuiltIn { target, name, args } => {
                return builtins::apply(self, target, name, args.as_deref(), e.span, lenient);
            }
            ExprKind::Default(inner, default) => {
                let lenient_inner = matches!(inner.kind, ExprKind::Paren(_));
                return match self.eval_mode(inner, lenient_inner)? {
                    Some(v) => Ok(Some(v)),
                    None => match default {
                        Some(d) => self.eval(d),
                        // `x!` alone: an empty string, sequence and hash at once; a string serves.
                        None => Ok(Some(Val::Str(Cow::Borrowed("")))),
                    },
                };
            }
            ExprKind::Exists(inner) => {
                let lenient_inner = matches!(inner.kind, ExprKind::Paren(_));
                Val::Bool(self.eval_mode(inner, lenient_inner)?.is_some())
            }
            ExprKind::Not(inner) => Val::Bool(!self.truth(inner)?),
            ExprKind::Neg(inner) => {
                let Some(v) = self.eval(inner)? else {
                    return fail(inner.span, missing_message(inner));
                };
                Val::Num(-as_number(&v, inner.span)?)
            }
            ExprKind::Binary(BinOp::And, l, r) => Val::Bool(self.truth(l)? && self.truth(r)?),
            ExprKind::Binary(BinOp::Or, l, r) => Val::Bool(self.truth(l)? || self.truth(r)?),
            ExprKind::Binary(op, l, r) => {
                let Some(lv) = self.eval(l)? else {
                    return fail(l.span, missing_message(l));
                };
                let Some(rv) = self.eval(r)? else {
                    return fail(r.span, missing_message(r));
                };
                binary(*op, &lv, &rv, e.span)?
            }
            ExprKind::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match self.eval(item)? {
                        Some(v) => out.push(v),
                        None => return fail(item.span, missing_message(item)),
                    }
                }
                Val::Seq(Rc::new(out))
            }
            ExprKind::Hash(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let key = match self.eval(k)? {
                        Some(kv) => as_string(&kv, k.span)?.into_owned(),
                        None => return fail(k.span, missing_message(k)),
                    };
                    let Some(value) = self.eval(v)? else {
                        return fail(v.span, missing_message(v));
                    };
                    out.retain(|(k, _): &(String, Val)| *k != key);
                    out.push((key, value));
                }
                Val::Hash(Rc::new(out))
            }
            ExprKind::Range(from, to, end) => {
                let Some(f) = self.eval(from)? else {
                    return fail(from.span, missing_message(from));
                };
                let f = as_number(&f, from.span)?.trunc() as i64;
                let t = match to {
                    Some(t) => {
                        let Some(tv) = self.eval(t)? else {
                            return fail(t.span, missing_message(t));
                        };
                        let t_num = as_number(&tv, t.span)?.trunc() as i64;
                        match end {
                            RangeEnd::Inclusive => Some(t_num),
                            RangeEnd::Exclusive if t_num > f => Some(t_num - 1),
                            RangeEnd::Exclusive if t_num < f => Some(t_num + 1),
                            RangeEnd::Exclusive => None,
                        }
                    }
                    None => Some(f.saturating_add(MAX_ITERATIONS as i64 - 1)),
                };
                let items: Vec<Val> = match t {
                    None => Vec::new(),
                    Some(t) => {
                        if f.abs_diff(t) as usize >= MAX_ITERATIONS {
                            return fail(
                                e.span,
                                format!("the range is longer than {MAX_ITERATIONS} items"),
                            );
                        }
                        if t >= f {
                            (f..=t).map(|i| Val::Num(i as f64)).collect()
                        } else {
                            (t..=f).rev().map(|i| Val::Num(i as f64)).collect()
                        }
                    }
                };
                Val::Seq(Rc::new(items))
            }
        }))
    }

    /// `target.key` (also `target["key"]`).
    pub fn key(&self, target: &Val<'a>, key: &str, span: Span) -> Result<Option<Val<'a>>> {
        match target {
            Val::Json(serde_json::Value::Object(map)) => Ok(map.get(key).and_then(json_val)),
            // A name not found exactly is matched ignoring ASCII case: header names arrive
            // lowercased (HTTP/2, and hyper), while MI templates write `trp["Content-Type"]`.
            Val::Hash(entries) => Ok(entries
                .iter()
                .find(|(k, _)| k == key)
                .or_else(|| entries.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
                .map(|(_, v)| v.clone())),
            Val::Nodes(nodes) => self.node_key(nodes, key, span),
            other => fail(
                span,
                format!(
                    "expected a hash, but this has evaluated to {} (looking up \"{key}\")",
                    type_name(other)
                ),
            ),
        }
    }

    fn index(&self, target: &Val<'a>, index: &Val<'a>, span: Span) -> Result<Option<Val<'a>>> {
        if let Val::Num(_) | Val::Json(serde_json::Value::Number(_)) = index {
            let i = as_number(index, span)?;
            if i < 0.0 || i.fract() != 0.0 {
                return fail(span, format!("bad sequence index {}", format::computer(i)));
            }
            let i = i as usize;
            return match target {
                Val::Seq(items) => Ok(items.get(i).cloned()),
                Val::Json(serde_json::Value::Array(items)) => Ok(items.get(i).and_then(json_val)),
                Val::Nodes(nodes) => Ok(nodes.get(i).map(|n| Val::Nodes(Rc::new(vec![*n])))),
                Val::Str(_) | Val::Json(serde_json::Value::String(_)) => {
                    let s = as_string(target, span)?;
                    match s.chars().nth(i) {
                        Some(c) => Ok(Some(Val::Str(Cow::Owned(c.to_string())))),
                        None => fail(span, format!("string index {i} out of bounds")),
                    }
                }
                other => fail(
                    span,
                    format!(
                        "expected a sequence, but this has evaluated to {}",
                        type_name(other)
                    ),
                ),
            };
        }
        let key = as_string(index, span)?;
        self.key(target, &key, span)
    }

    /// FreeMarker's DOM keys on a node sequence.
    fn node_key(
        &self,
        nodes: &[roxmltree::Node<'a, 'a>],
        key: &str,
        span: Span,
    ) -> Result<Option<Val<'a>>> {
        if let Some(special) = key.strip_prefix("@@") {
            let [node] = nodes else {
                return fail(
                    span,
                    format!(
                        "@@{special} needs exactly one node, but there are {}",
                        nodes.len()
                    ),
                );
            };
            return Ok(Some(Val::Str(Cow::Owned(match special {
                "text" => node
                    .descendants()
                    .filter(|d| d.is_text())
                    .filter_map(|d| d.text())
                    .collect(),
                "markup" => markup(*node),
                "nested_markup" => node.children().map(markup).collect(),
                "qname" => node.tag_name().name().to_string(),
                _ => {
                    return fail(
                        span,
                        format!(
                            "@@{special} is not supported (supported: @@text, @@markup, @@nested_markup, @@qname)"
                        ),
                    );
                }
            }))));
        }
        if let Some(attr) = key.strip_prefix('@') {
            let (ns, local) = self.resolve(attr, span)?;
            let values: Vec<Val> = nodes
                .iter()
                .filter_map(|n| {
                    n.attributes()
                        .find(|a| a.name() == local && a.namespace().unwrap_or("") == ns)
                        .map(|a| Val::Str(Cow::Borrowed(a.value())))
                })
                .collect();
            return Ok(match values.len() {
                0 => None,
                1 => values.into_iter().next(),
                _ => Some(Val::Seq(Rc::new(values))),
            });
        }
        let matched: Vec<roxmltree::Node> = if key == "*" {
            nodes
                .iter()
                .flat_map(|n| n.children().filter(|c| c.is_element()))
                .collect()
        } else {
            let (ns, local) = self.resolve(key, span)?;
            nodes
                .iter()
                .flat_map(|n| n.children())
                .filter(|c| {
                    c.is_element()
                        && c.tag_name().name() == local
                        && c.tag_name().namespace().unwrap_or("") == ns
                })
                .collect()
        };
        Ok(Some(Val::Nodes(Rc::new(matched))))
    }

    /// `prefix:name` -> (namespace URI, local name) by `<#ftl ns_prefixes>`; `N:` is no
    /// namespace and an unprefixed name is in the `D` namespace when one is declared.
    fn resolve<'k>(&self, key: &'k str, span: Span) -> Result<(&'t str, &'k str)> {
        let lookup = |p: &str| {
            self.ns_prefixes
                .iter()
                .find(|(k, _)| k == p)
                .map(|(_, v)| v.as_str())
        };
        match key.split_once(':') {
            Some(("N", local)) => Ok(("", local)),
            Some((prefix, local)) => match lookup(prefix) {
                Some(uri) => Ok((uri, local)),
                None => fail(
                    span,
                    format!(
                        "the namespace prefix \"{prefix}\" is not declared: add <#ftl ns_prefixes={{\"{prefix}\": \"...\"}}> at the top of the template"
                    ),
                ),
            },
            None => Ok((lookup("D").unwrap_or(""), key)),
        }
    }
}

/// A JSON value of the payload as a template value (`null` is missing).
pub fn json_val(v: &serde_json::Value) -> Option<Val<'_>> {
    (!v.is_null()).then_some(Val::Json(v))
}

/// The node as XML text.
fn markup(node: roxmltree::Node) -> String {
    if node.is_text() {
        return crate::runtime::payload::escape_text(node.text().unwrap_or("")).into_owned();
    }
    if node.is_element() {
        return crate::xpath::serialize(node);
    }
    node.children().map(markup).collect()
}

pub fn missing_message(e: &Expr) -> String {
    let _ = e;
    "the following has evaluated to null or missing (use expr!default or expr?? to allow that)"
        .to_string()
}

pub fn type_name(v: &Val) -> &'static str {
    match v {
        Val::Str(_) | Val::Json(serde_json::Value::String(_)) => "a string",
        Val::Num(_) | Val::Json(serde_json::Value::Number(_)) => "a number",
        Val::Bool(_) | Val::Json(serde_json::Value::Bool(_)) => "a boolean",
        Val::Seq(_) | Val::Json(serde_json::Value::Array(_)) => "a sequence",
        Val::Hash(_) | Val::Json(_) => "a hash",
        Val::Nodes(_) => "an XML node sequence",
    }
}

/// The items of a sequence-like value (`None` inside for JSON nulls).
pub fn seq_items<'a>(v: &Val<'a>) -> Option<Vec<Option<Val<'a>>>> {
    match v {
        Val::Seq(items) => Some(items.iter().cloned().map(Some).collect()),
        Val::Json(serde_json::Value::Array(items)) => Some(items.iter().map(json_val).collect()),
        Val::Nodes(nodes) => Some(
            nodes
                .iter()
                .map(|n| Some(Val::Nodes(Rc::new(vec![*n]))))
                .collect(),
        ),
        _ => None,
    }
}

/// The entries of a hash-like value.
#[allow(clippy::type_complexity)]
pub fn hash_entries<'a>(v: &Val<'a>) -> Option<Vec<(String, Option<Val<'a>>)>> {
    match v {
        Val::Hash(entries) => Some(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), Some(v.clone())))
                .collect(),
        ),
        Val::Json(serde_json::Value::Object(map)) => {
            Some(map.iter().map(|(k, v)| (k.clone(), json_val(v))).collect())
        }
        _ => None,
    }
}

/// A node's string value: text, an attribute's value, or an element's text when it has no
/// child elements (FreeMarker's ElementModel.getAsString).
fn node_string<'a>(node: roxmltree::Node<'a, 'a>, span: Span) -> Result<Cow<'a, str>> {
    if node.is_text() {
        return Ok(Cow::Borrowed(node.text().unwrap_or("")));
    }
    if node.is_root() {
        return fail(
            span,
            "the XML document node cannot be written as a string; name an element: payload.root.child",
        );
    }
    if let Some(child) = node.children().find(|c| c.is_element()) {
        return fail(
            span,
            format!(
                "only elements with no child elements can be processed as text; element \"{}\" has a child element named \"{}\"",
                node.tag_name().name(),
                child.tag_name().name()
            ),
        );
    }
    Ok(Cow::Owned(
        node.children()
            .filter(|c| c.is_text())
            .filter_map(|c| c.text())
            .collect(),
    ))
}

/// A value where a string is wanted: strings, numbers in the number format, one XML node.
pub fn as_string<'a>(v: &Val<'a>, span: Span) -> Result<Cow<'a, str>> {
    match v {
        Val::Str(s) => Ok(s.clone()),
        Val::Json(serde_json::Value::String(s)) => Ok(Cow::Borrowed(s.as_str())),
        Val::Num(n) => Ok(Cow::Owned(format::number(*n))),
        Val::Json(serde_json::Value::Number(n)) => {
            Ok(Cow::Owned(format::number(n.as_f64().unwrap_or(f64::NAN))))
        }
        Val::Bool(_) | Val::Json(serde_json::Value::Bool(_)) => fail(
            span,
            "can't convert a boolean to string automatically; write ?c (true/false) or ?string(\"yes\", \"no\")",
        ),
        Val::Nodes(nodes) => match nodes.as_slice() {
            [node] => node_string(*node, span),
            _ => fail(
                span,
                format!(
                    "only a single XML node can be written as a string, but this node sequence has {}; list it or pick one with [0]",
                    nodes.len()
                ),
            ),
        },
        other => fail(
            span,
            format!(
                "expected a string or number, but this has evaluated to {}",
                type_name(other)
            ),
        ),
    }
}

/// `${v}`.
pub fn display<'a>(v: Option<&Val<'a>>, span: Span) -> Result<Cow<'a, str>> {
    match v {
        Some(v) => as_string(v, span),
        None => fail(
            span,
            "the following has evaluated to null or missing (use expr!default or expr?? to allow that)",
        ),
    }
}

pub fn as_number(v: &Val, span: Span) -> Result<f64> {
    match v {
        Val::Num(n) => Ok(*n),
        Val::Json(serde_json::Value::Number(n)) => Ok(n.as_f64().unwrap_or(f64::NAN)),
        other => fail(
            span,
            format!(
                "expected a number, but this has evaluated to {} (convert a string with ?number)",
                type_name(other)
            ),
        ),
    }
}

pub fn as_bool(v: &Val, span: Span) -> Result<bool> {
    match v {
        Val::Bool(b) => Ok(*b),
        Val::Json(serde_json::Value::Bool(b)) => Ok(*b),
        other => fail(
            span,
            format!(
                "expected a boolean, but this has evaluated to {}",
                type_name(other)
            ),
        ),
    }
}

fn is_numeric(v: &Val) -> bool {
    matches!(v, Val::Num(_) | Val::Json(serde_json::Value::Number(_)))
}

fn is_boolean(v: &Val) -> bool {
    matches!(v, Val::Bool(_) | Val::Json(serde_json::Value::Bool(_)))
}

/// A string-like value: strings and single nodes (FreeMarker scalars).
fn is_scalar(v: &Val) -> bool {
    matches!(
        v,
        Val::Str(_) | Val::Json(serde_json::Value::String(_)) | Val::Nodes(_)
    )
}

/// `==`, `!=`, `<`... (FreeMarker's EvalUtil.compare).
pub fn compare(l: &Val, r: &Val, op: BinOp, span: Span) -> Result<bool> {
    let ordering = if is_numeric(l) && is_numeric(r) {
        let (a, b) = (as_number(l, span)?, as_number(r, span)?);
        a.partial_cmp(&b)
    } else if is_boolean(l) && is_boolean(r) {
        if !matches!(op, BinOp::Eq | BinOp::Ne) {
            return fail(span, "booleans can only be compared with == and !=");
        }
        Some(as_bool(l, span)?.cmp(&as_bool(r, span)?))
    } else if is_scalar(l) && is_scalar(r) {
        if !matches!(op, BinOp::Eq | BinOp::Ne) {
            return fail(
                span,
                "strings can only be compared with == and != (convert with ?number to compare numbers)",
            );
        }
        Some(as_string(l, span)?.cmp(&as_string(r, span)?))
    } else {
        return fail(
            span,
            format!(
                "can't compare values of these types: {} and {}",
                type_name(l),
                type_name(r)
            ),
        );
    };
    use std::cmp::Ordering::*;
    Ok(match (op, ordering) {
        (BinOp::Ne, o) => o != Some(Equal),
        (BinOp::Eq, o) => o == Some(Equal),
        (_, None) => false,
        (BinOp::Lt, Some(o)) => o == Less,
        (BinOp::Le, Some(o)) => o != Greater,
        (BinOp::Gt, Some(o)) => o == Greater,
        (BinOp::Ge, Some(o)) => o != Less,
        _ => false,
    })
}

fn binary<'a>(op: BinOp, l: &Val<'a>, r: &Val<'a>, span: Span) -> Result<Val<'a>> {
    match op {
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            Ok(Val::Bool(compare(l, r, op, span)?))
        }
        BinOp::Add if is_numeric(l) && is_numeric(r) => {
            Ok(Val::Num(as_number(l, span)? + as_number(r, span)?))
        }
        BinOp::Add => {
            if let (Some(a), Some(b)) = (seq_items(l), seq_items(r))
                && !matches!((l, r), (Val::Nodes(_), _) | (_, Val::Nodes(_)))
            {
                let items = a.into_iter().chain(b).flatten().collect();
                return Ok(Val::Seq(Rc::new(items)));
            }
            if let (Some(a), Some(b)) = (hash_entries(l), hash_entries(r)) {
                let mut out: Vec<(String, Val)> = a
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k, v)))
                    .collect();
                for (k, v) in b {
                    out.retain(|(x, _)| *x != k);
                    if let Some(v) = v {
                        out.push((k, v));
                    }
                }
                return Ok(Val::Hash(Rc::new(out)));
            }
            let mut s = as_string(l, span)?.into_owned();
            s.push_str(&as_string(r, span)?);
            Ok(Val::Str(Cow::Owned(s)))
        }
        _ => {
            let (a, b) = (as_number(l, span)?, as_number(r, span)?);
            Ok(Val::Num(match op {
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div | BinOp::Rem if b == 0.0 => return fail(span, "division by zero"),
                BinOp::Div => a / b,
                BinOp::Rem => a % b,
                _ => unreachable!("comparisons and logic are handled above"),
            }))
        }
    }
}
