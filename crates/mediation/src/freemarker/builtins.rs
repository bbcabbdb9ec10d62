//! The `?name` built-ins Conflux implements: the ones MI templates use (strings, numbers,
//! booleans, sequences, hashes, XML nodes, loop variables, type tests). Any other name fails the
//! deployment ([`KNOWN`] is the list the parser checks), dates included: MI's templates have no
//! date values (payloads and properties are strings), and FreeMarker's date formats are not
//! reproduced.

use std::borrow::Cow;
use std::rc::Rc;

use super::ast::{Expr, ExprKind, Span};
use super::eval::{
    Env, Result, Val, as_bool, as_number, as_string, compare, fail, hash_entries, missing_message,
    seq_items, type_name,
};
use super::format;

/// Every built-in the parser accepts.
pub const KNOWN: &[&str] = &[
    // strings
    "upper_case",
    "lower_case",
    "cap_first",
    "uncap_first",
    "capitalize",
    "trim",
    "length",
    "json_string",
    "js_string",
    "j_string",
    "xml",
    "html",
    "url",
    "contains",
    "starts_with",
    "ends_with",
    "index_of",
    "last_index_of",
    "replace",
    "split",
    "left_pad",
    "right_pad",
    "keep_before",
    "keep_after",
    "keep_before_last",
    "keep_after_last",
    "remove_beginning",
    "remove_ending",
    "ensure_starts_with",
    "ensure_ends_with",
    "number",
    "boolean",
    "string",
    "c",
    "chop_linebreak",
    // numbers
    "round",
    "floor",
    "ceiling",
    "abs",
    "int",
    "is_infinite",
    "is_nan",
    // sequences and hashes
    "size",
    "first",
    "last",
    "join",
    "reverse",
    "seq_contains",
    "seq_index_of",
    "sort",
    "keys",
    "values",
    // any value
    "has_content",
    "default",
    "if_exists",
    "then",
    "is_string",
    "is_number",
    "is_boolean",
    "is_sequence",
    "is_hash",
    "is_hash_ex",
    "is_enumerable",
    "is_collection",
    "is_node",
    "is_date",
    "is_method",
    "is_macro",
    // XML nodes
    "node_name",
    "node_type",
    "node_namespace",
    "children",
    "parent",
    "root",
    // loop variables
    "index",
    "counter",
    "has_next",
    "is_first",
    "is_last",
    "item_parity",
    "is_even_item",
    "is_odd_item",
];

/// FreeMarker accepts camelCase built-in names too (`upperCase`).
pub fn canonical_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 4);
    for c in raw.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

const LOOP_BUILTINS: &[&str] = &[
    "index",
    "counter",
    "has_next",
    "is_first",
    "is_last",
    "item_parity",
    "is_even_item",
    "is_odd_item",
];

fn str_val<'a>(s: impl Into<Cow<'a, str>>) -> Option<Val<'a>> {
    Some(Val::Str(s.into()))
}

fn bool_val<'a>(b: bool) -> Option<Val<'a>> {
    Some(Val::Bool(b))
}

fn num_val<'a>(n: f64) -> Option<Val<'a>> {
    Some(Val::Num(n))
}

pub fn apply<'a>(
    env: &mut Env<'_, 'a>,
    target: &Expr,
    name: &str,
    args: Option<&[Expr]>,
    span: Span,
    lenient: bool,
) -> Result<Option<Val<'a>>> {
    // Loop-variable built-ins read the loop's state, not the value.
    if LOOP_BUILTINS.contains(&name) {
        let frame = match &target.kind {
            ExprKind::Var(v) => env.loops.iter().rev().find(|f| f.var == *v),
            _ => None,
        };
        let Some(frame) = frame else {
            return fail(
                span,
                format!("?{name} only works on a <#list> loop variable"),
            );
        };
        let (i, has_next) = (frame.index, frame.has_next);
        return Ok(match name {
            "index" => num_val(i as f64),
            "counter" => num_val((i + 1) as f64),
            "has_next" => bool_val(has_next),
            "is_first" => bool_val(i == 0),
            "is_last" => bool_val(!has_next),
            "item_parity" => str_val(if i % 2 == 0 { "odd" } else { "even" }),
            "is_even_item" => bool_val(i % 2 == 1),
            _ => bool_val(i % 2 == 0),
        });
    }
    let lenient_target = lenient || matches!(target.kind, ExprKind::Paren(_));
    // The built-ins that accept a missing value.
    match name {
        "has_content" => {
            let v = env.eval_mode(target, true)?;
            return Ok(bool_val(v.as_ref().is_some_and(has_content)));
        }
        "default" | "if_exists" => {
            if let Some(v) = env.eval_mode(target, lenient_target)? {
                return Ok(Some(v));
            }
            return match (name, args) {
                ("default", Some([d, ..])) => env.eval(d),
                ("default", _) => fail(span, "?default needs an argument"),
                _ => Ok(str_val("")),
            };
        }
        _ => {}
    }
    let v = match env.eval_mode(target, lenient)? {
        Some(v) => v,
        None if lenient => return Ok(None),
        None => return fail(target.span, missing_message(target)),
    };
    let mut arg_vals = Vec::new();
    for a in args.unwrap_or(&[]) {
        match env.eval(a)? {
            Some(x) => arg_vals.push(x),
            None => return fail(a.span, missing_message(a)),
        }
    }
    let argc = |min: usize, max: usize| -> Result<()> {
        if arg_vals.len() < min || arg_vals.len() > max {
            let want = if min == max {
                format!("{min}")
            } else {
                format!("{min} to {max}")
            };
            return fail(
                span,
                format!("?{name} takes {want} argument(s), {} given", arg_vals.len()),
            );
        }
        Ok(())
    };
    let sarg = |i: usize| -> Result<Cow<'a, str>> { as_string(&arg_vals[i], span) };
    Ok(match name {
        "is_string" => bool_val(matches!(
            v,
            Val::Str(_) | Val::Json(serde_json::Value::String(_)) | Val::Nodes(_)
        )),
        "is_number" => bool_val(matches!(
            v,
            Val::Num(_) | Val::Json(serde_json::Value::Number(_))
        )),
        "is_boolean" => bool_val(matches!(
            v,
            Val::Bool(_) | Val::Json(serde_json::Value::Bool(_))
        )),
        "is_sequence" | "is_enumerable" | "is_collection" => bool_val(seq_items(&v).is_some()),
        "is_hash" | "is_hash_ex" => {
            bool_val(hash_entries(&v).is_some() || matches!(v, Val::Nodes(_)))
        }
        "is_node" => bool_val(matches!(v, Val::Nodes(ref n) if n.len() == 1)),
        "is_date" | "is_method" | "is_macro" => bool_val(false),
        "then" => {
            argc(2, 2)?;
            let b = as_bool(&v, target.span)?;
            Some(arg_vals.swap_remove(if b { 0 } else { 1 }))
        }
        "c" => match &v {
            Val::Bool(_) | Val::Json(serde_json::Value::Bool(_)) => {
                str_val(if as_bool(&v, span)? { "true" } else { "false" })
            }
            _ if is_num(&v) => str_val(format::computer(as_number(&v, span)?)),
            other => {
                return fail(
                    span,
                    format!(
                        "?c needs a number or a boolean, but this is {}",
                        type_name(other)
                    ),
                );
            }
        },
        "string" => match &v {
            Val::Bool(_) | Val::Json(serde_json::Value::Bool(_)) => {
                argc(0, 2)?;
                let b = as_bool(&v, span)?;
                match arg_vals.len() {
                    0 => str_val(if b { "true" } else { "false" }),
                    2 => Some(arg_vals.swap_remove(if b { 0 } else { 1 })),
                    _ => return fail(span, "?string on a boolean takes 0 or 2 arguments"),
                }
            }
            _ if is_num(&v) => {
                argc(0, 1)?;
                let n = as_number(&v, span)?;
                match arg_vals.first() {
                    None => str_val(format::number(n)),
                    Some(p) => {
                        let p = as_string(p, span)?;
                        match format::pattern(n, &p) {
                            Some(s) => str_val(s),
                            None => {
                                return fail(
                                    span,
                                    format!(
                                        "number format \"{p}\" is not supported (supported: number, computer, and patterns of 0 # , . with a literal prefix or suffix)"
                                    ),
                                );
                            }
                        }
                    }
                }
            }
            _ => {
                argc(0, 0)?;
                str_val(as_string(&v, span)?)
            }
        },
        "number" => {
            if is_num(&v) {
                Some(v)
            } else {
                let s = as_string(&v, target.span)?;
                num_val(parse_number(&s).ok_or_else(|| super::eval::EvalError {
                    span,
                    message: format!("\"{s}\" can't be converted to a number"),
                })?)
            }
        }
        "boolean" => {
            let s = as_string(&v, target.span)?;
            match s.as_ref() {
                "true" => bool_val(true),
                "false" => bool_val(false),
                _ => return fail(span, format!("\"{s}\" can't be converted to a boolean")),
            }
        }
        "round" | "floor" | "ceiling" | "abs" | "int" | "is_infinite" | "is_nan" => {
            let n = as_number(&v, target.span)?;
            match name {
                "round" => num_val((n + 0.5).floor()),
                "floor" => num_val(n.floor()),
                "ceiling" => num_val(n.ceil()),
                "abs" => num_val(n.abs()),
                "int" => num_val(n.trunc()),
                "is_infinite" => bool_val(n.is_infinite()),
                _ => bool_val(n.is_nan()),
            }
        }
        "size" => match (&v, seq_items(&v), hash_entries(&v)) {
            (Val::Nodes(n), _, _) => num_val(n.len() as f64),
            (_, Some(items), _) => num_val(items.len() as f64),
            (_, _, Some(entries)) => num_val(entries.len() as f64),
            (other, ..) => {
                return fail(
                    span,
                    format!(
                        "?size needs a sequence or hash, but this is {}",
                        type_name(other)
                    ),
                );
            }
        },
        "first" | "last" | "reverse" | "join" | "seq_contains" | "seq_index_of" | "sort" => {
            let Some(items) = seq_items(&v) else {
                return fail(
                    span,
                    format!("?{name} needs a sequence, but this is {}", type_name(&v)),
                );
            };
            match name {
                "first" => items.into_iter().next().flatten(),
                "last" => items.into_iter().last().flatten(),
                "reverse" => Some(Val::Seq(Rc::new(
                    items.into_iter().rev().flatten().collect(),
                ))),
                "join" => {
                    argc(1, 3)?;
                    let sep = sarg(0)?;
                    let parts = items
                        .iter()
                        .flatten()
                        .map(|i| as_string(i, span).map(Cow::into_owned))
                        .collect::<Result<Vec<String>>>()?;
                    if parts.is_empty() && arg_vals.len() > 1 {
                        str_val(sarg(1)?)
                    } else {
                        let mut s = parts.join(&sep);
                        if !parts.is_empty() && arg_vals.len() > 2 {
                            s.push_str(&sarg(2)?);
                        }
                        str_val(s)
                    }
                }
                "seq_contains" | "seq_index_of" => {
                    argc(1, 1)?;
                    let mut found = None;
                    for (i, item) in items.iter().enumerate() {
                        if let Some(item) = item
                            && compare(item, &arg_vals[0], super::ast::BinOp::Eq, span)
                                .unwrap_or(false)
                        {
                            found = Some(i);
                            break;
                        }
                    }
                    if name == "seq_contains" {
                        bool_val(found.is_some())
                    } else {
                        num_val(found.map_or(-1.0, |i| i as f64))
                    }
                }
                _ => {
                    let mut items: Vec<Val> = items.into_iter().flatten().collect();
                    if items.iter().all(is_num) {
                        let mut keyed = items
                            .into_iter()
                            .map(|i| Ok((as_number(&i, span)?, i)))
                            .collect::<Result<Vec<_>>>()?;
                        keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
                        items = keyed.into_iter().map(|(_, i)| i).collect();
                    } else {
                        let mut keyed = items
                            .into_iter()
                            .map(|i| Ok((as_string(&i, span)?.into_owned(), i)))
                            .collect::<Result<Vec<_>>>()?;
                        keyed.sort_by(|a, b| a.0.cmp(&b.0));
                        items = keyed.into_iter().map(|(_, i)| i).collect();
                    }
                    Some(Val::Seq(Rc::new(items)))
                }
            }
        }
        "keys" | "values" => {
            let Some(entries) = hash_entries(&v) else {
                return fail(
                    span,
                    format!("?{name} needs a hash, but this is {}", type_name(&v)),
                );
            };
            let items = if name == "keys" {
                entries
                    .into_iter()
                    .map(|(k, _)| Val::Str(Cow::Owned(k)))
                    .collect()
            } else {
                entries.into_iter().filter_map(|(_, v)| v).collect()
            };
            Some(Val::Seq(Rc::new(items)))
        }
        "node_name" | "node_type" | "node_namespace" | "children" | "parent" | "root" => {
            let Val::Nodes(nodes) = &v else {
                return fail(
                    span,
                    format!("?{name} needs an XML node, but this is {}", type_name(&v)),
                );
            };
            let [node] = nodes.as_slice() else {
                return fail(
                    span,
                    format!(
                        "?{name} needs one node, but this node sequence has {}",
                        nodes.len()
                    ),
                );
            };
            match name {
                "node_name" => str_val(if node.is_root() {
                    "@document".to_string()
                } else if node.is_text() {
                    "@text".to_string()
                } else {
                    node.tag_name().name().to_string()
                }),
                "node_type" => str_val(if node.is_root() {
                    "document"
                } else if node.is_element() {
                    "element"
                } else if node.is_text() {
                    "text"
                } else if node.is_comment() {
                    "comment"
                } else {
                    "pi"
                }),
                "node_namespace" => node
                    .tag_name()
                    .namespace()
                    .map(|ns| Val::Str(Cow::Borrowed(ns))),
                // NodeModel.parse drops comments and processing instructions.
                "children" => Some(Val::Nodes(Rc::new(
                    node.children()
                        .filter(|c| c.is_element() || c.is_text())
                        .collect(),
                ))),
                "parent" => node.parent().map(|p| Val::Nodes(Rc::new(vec![p]))),
                _ => Some(Val::Nodes(Rc::new(vec![node.document().root()]))),
            }
        }
        // The string built-ins.
        _ => {
            let s = as_string(&v, target.span)?;
            string_builtin(name, &s, &arg_vals, span)?
        }
    })
}

fn is_num(v: &Val) -> bool {
    matches!(v, Val::Num(_) | Val::Json(serde_json::Value::Number(_)))
}

fn has_content(v: &Val) -> bool {
    match v {
        Val::Str(s) => !s.is_empty(),
        Val::Json(serde_json::Value::String(s)) => !s.is_empty(),
        Val::Json(serde_json::Value::Array(a)) => !a.is_empty(),
        Val::Json(serde_json::Value::Object(o)) => !o.is_empty(),
        Val::Seq(s) => !s.is_empty(),
        Val::Hash(h) => !h.is_empty(),
        Val::Nodes(n) => !n.is_empty(),
        _ => true,
    }
}

/// FreeMarker's `?number`: a decimal number, `INF`, `-INF` or `NaN`.
fn parse_number(s: &str) -> Option<f64> {
    match s {
        "INF" | "Infinity" => return Some(f64::INFINITY),
        "-INF" | "-Infinity" => return Some(f64::NEG_INFINITY),
        "NaN" => return Some(f64::NAN),
        _ => {}
    }
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    ok.then(|| s.parse::<f64>().ok()).flatten()
}

fn string_builtin<'a>(
    name: &str,
    s: &str,
    args: &[Val<'a>],
    span: Span,
) -> Result<Option<Val<'a>>> {
    let count = |min: usize, max: usize| -> Result<()> {
        if args.len() < min || args.len() > max {
            return fail(
                span,
                format!(
                    "?{name} takes {min} to {max} argument(s), {} given",
                    args.len()
                ),
            );
        }
        Ok(())
    };
    let arg = |i: usize| -> Result<Cow<'a, str>> { as_string(&args[i], span) };
    let owned = |x: String| Ok(str_val(x));
    match name {
        "upper_case" => owned(s.to_uppercase()),
        "lower_case" => owned(s.to_lowercase()),
        "cap_first" | "uncap_first" => {
            // The first non-white-space character.
            let at = s.find(|c: char| !c.is_whitespace()).unwrap_or(s.len());
            let mut out = s[..at].to_string();
            let mut rest = s[at..].chars();
            if let Some(c) = rest.next() {
                if name == "cap_first" {
                    out.extend(c.to_uppercase());
                } else {
                    out.extend(c.to_lowercase());
                }
            }
            out.push_str(rest.as_str());
            owned(out)
        }
        "capitalize" => {
            let mut out = String::with_capacity(s.len());
            let mut word_start = true;
            for c in s.chars() {
                if c.is_whitespace() {
                    word_start = true;
                    out.push(c);
                } else if word_start {
                    out.extend(c.to_uppercase());
                    word_start = false;
                } else {
                    out.extend(c.to_lowercase());
                }
            }
            owned(out)
        }
        "trim" => owned(s.trim_matches(|c: char| c <= ' ').to_string()),
        "chop_linebreak" => owned(
            s.strip_suffix("\r\n")
                .or_else(|| s.strip_suffix('\n'))
                .or_else(|| s.strip_suffix('\r'))
                .unwrap_or(s)
                .to_string(),
        ),
        // Java counts UTF-16 units.
        "length" => Ok(num_val(s.encode_utf16().count() as f64)),
        "json_string" => owned(format::json_string(s)),
        "js_string" | "j_string" => owned(format::js_string(s)),
        "xml" | "html" => owned(format::xml(s)),
        "url" => {
            count(0, 1)?;
            owned(format::url(s))
        }
        "contains" | "starts_with" | "ends_with" => {
            count(1, 1)?;
            let a = arg(0)?;
            Ok(bool_val(match name {
                "contains" => s.contains(a.as_ref()),
                "starts_with" => s.starts_with(a.as_ref()),
                _ => s.ends_with(a.as_ref()),
            }))
        }
        "index_of" | "last_index_of" => {
            count(1, 1)?;
            let a = arg(0)?;
            let at = if name == "index_of" {
                s.find(a.as_ref())
            } else {
                s.rfind(a.as_ref())
            };
            Ok(num_val(
                at.map_or(-1.0, |b| s[..b].encode_utf16().count() as f64),
            ))
        }
        "replace" => {
            count(2, 2)?;
            owned(s.replace(arg(0)?.as_ref(), &arg(1)?))
        }
        "split" => {
            count(1, 1)?;
            let sep = arg(0)?;
            let parts: Vec<Val> = if sep.is_empty() {
                s.chars()
                    .map(|c| Val::Str(Cow::Owned(c.to_string())))
                    .collect()
            } else {
                s.split(sep.as_ref())
                    .map(|p| Val::Str(Cow::Owned(p.to_string())))
                    .collect()
            };
            Ok(Some(Val::Seq(Rc::new(parts))))
        }
        "left_pad" | "right_pad" => {
            count(1, 2)?;
            let width = as_number(&args[0], span)?.max(0.0) as usize;
            if width > super::MAX_OUTPUT_BYTES {
                return fail(span, format!("?{name} width {width} is too large"));
            }
            let pad: Vec<char> = if args.len() > 1 {
                arg(1)?.chars().collect()
            } else {
                vec![' ']
            };
            if pad.is_empty() {
                return fail(span, format!("?{name} needs a non-empty padding string"));
            }
            let len = s.chars().count();
            if len >= width {
                return owned(s.to_string());
            }
            let fill: String = (0..width - len).map(|i| pad[i % pad.len()]).collect();
            owned(if name == "left_pad" {
                format!("{fill}{s}")
            } else {
                format!("{s}{fill}")
            })
        }
        "keep_before" | "keep_after" | "keep_before_last" | "keep_after_last" => {
            count(1, 1)?;
            let a = arg(0)?;
            let at = if name.ends_with("_last") {
                s.rfind(a.as_ref())
            } else {
                s.find(a.as_ref())
            };
            owned(match (name.starts_with("keep_before"), at) {
                (true, Some(i)) => s[..i].to_string(),
                (true, None) => s.to_string(),
                (false, Some(i)) => s[i + a.len()..].to_string(),
                (false, None) => String::new(),
            })
        }
        "remove_beginning" => {
            count(1, 1)?;
            owned(s.strip_prefix(arg(0)?.as_ref()).unwrap_or(s).to_string())
        }
        "remove_ending" => {
            count(1, 1)?;
            owned(s.strip_suffix(arg(0)?.as_ref()).unwrap_or(s).to_string())
        }
        "ensure_starts_with" => {
            count(1, 1)?;
            let a = arg(0)?;
            owned(if s.starts_with(a.as_ref()) {
                s.to_string()
            } else {
                format!("{a}{s}")
            })
        }
        "ensure_ends_with" => {
            count(1, 1)?;
            let a = arg(0)?;
            owned(if s.ends_with(a.as_ref()) {
                s.to_string()
            } else {
                format!("{s}{a}")
            })
        }
        other => fail(span, format!("?{other} does not apply to a string")),
    }
}
