//! The XPath 1.0 core function library (§4), Jaxen's extension functions that Synapse inherits
//! (`lower-case`, `upper-case`, `ends-with`), and the number <-> string conversions, formatted the
//! way Jaxen's `StringFunction` does (a `DecimalFormat` with no grouping and at most 32 fraction
//! digits: `5.0` -> `"5"`, `1e21` -> `"1000000000000000000000"`). Synapse's own functions are
//! dispatched to [`super::synapse`].

use roxmltree::NodeType;

use super::XPathError;
use super::ast::{Call, Function};
use super::eval::{Context, Evaluator, Value, XNode};
use super::serialize;
use super::synapse;
use super::xpath2;

/// Most fraction digits Jaxen's number formatting prints (StringFunction: setMaximumFractionDigits(32)).
const MAX_FRACTION_DIGITS: usize = 32;

/// Java's `String.trim()`: strips every char <= U+0020 (Jaxen's NumberFunction trims this way).
pub(crate) fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// XPath number(string): optional whitespace, optional '-', digits with an optional fraction,
/// optional whitespace; anything else is NaN (Jaxen NumberFunction.isXPathNumber).
pub(crate) fn parse_number(s: &str) -> f64 {
    let t = java_trim(s);
    let body = t.strip_prefix('-').unwrap_or(t);
    let mut digits = 0;
    let mut dots = 0;
    for c in body.chars() {
        match c {
            '0'..='9' => digits += 1,
            '.' => dots += 1,
            _ => return f64::NAN,
        }
    }
    if digits == 0 || dots > 1 {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

/// XPath string(number) as Jaxen formats it.
pub(crate) fn format_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".to_string();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if n == 0.0 {
        return "0".to_string();
    }
    // Rust's Display prints the shortest round-trip digits without an exponent, as
    // DecimalFormat does; only the fraction-digit cap needs applying.
    let text = format!("{n}");
    match text.split_once('.') {
        Some((_, fraction)) if fraction.len() > MAX_FRACTION_DIGITS => {
            round_fraction(&text, MAX_FRACTION_DIGITS)
        }
        _ => text,
    }
}

/// Cuts `digits` (decimal digits, most significant first) to their first `keep`, rounding
/// half-even as Java's `DecimalFormat` does; true when the carry added a new leading digit.
pub(crate) fn round_digits_half_even(digits: &mut Vec<u8>, keep: usize) -> bool {
    if digits.len() <= keep {
        return false;
    }
    let first_dropped = digits[keep];
    let tail_nonzero = digits[keep + 1..].iter().any(|&d| d != 0);
    let last_kept_odd = keep > 0 && digits[keep - 1] % 2 == 1;
    let round_up = first_dropped > 5 || (first_dropped == 5 && (tail_nonzero || last_kept_odd));
    digits.truncate(keep);
    if !round_up {
        return false;
    }
    for d in digits.iter_mut().rev() {
        if *d == 9 {
            *d = 0;
        } else {
            *d += 1;
            return false;
        }
    }
    digits.insert(0, 1);
    true
}

/// Rounds a plain decimal string to `keep` fraction digits, half-even (DecimalFormat's default).
fn round_fraction(text: &str, keep: usize) -> String {
    let negative = text.starts_with('-');
    let unsigned = text.trim_start_matches('-');
    let (int_part, frac_part) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let mut digits: Vec<u8> = int_part
        .bytes()
        .chain(frac_part.bytes())
        .map(|b| b - b'0')
        .collect();
    let mut int_len = int_part.len();
    if round_digits_half_even(&mut digits, int_len + keep) {
        int_len += 1;
    }
    let mut int_str: String = digits[..int_len]
        .iter()
        .map(|d| char::from(b'0' + d))
        .collect();
    let mut frac_str: String = digits[int_len..]
        .iter()
        .map(|d| char::from(b'0' + d))
        .collect();
    while frac_str.ends_with('0') {
        frac_str.pop();
    }
    let trimmed = int_str.trim_start_matches('0');
    int_str = if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_string()
    };
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&int_str);
    if !frac_str.is_empty() {
        out.push('.');
        out.push_str(&frac_str);
    }
    out
}

/// XPath round() as Jaxen's RoundFunction computes it: NaN and infinities unchanged, [-0.5, 0)
/// and -0 give -0, otherwise Java's `Math.round` (halves up, saturating at the `long` range, so
/// `round(1e20)` is 2^63 - 1 as a double).
fn xpath_round(n: f64) -> f64 {
    if n.is_nan() || n.is_infinite() {
        return n;
    }
    if (-0.5..0.0).contains(&n) || (n == 0.0 && n.is_sign_negative()) {
        return -0.0;
    }
    let floor = n.floor();
    // `n - floor` is exact, unlike `n + 0.5` (0.49999999999999994 + 0.5 == 1.0).
    let rounded = if n - floor >= 0.5 { floor + 1.0 } else { floor };
    rounded.clamp(i64::MIN as f64, i64::MAX as f64)
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// The prefix an element or attribute was written with, read from the source text (roxmltree
/// keeps only the namespace URI).
pub(crate) fn written_prefix<'i>(node: XNode<'_, 'i>) -> Option<&'i str> {
    match node {
        XNode::Node(n) if n.is_element() => serialize::element_prefix(n),
        XNode::Attribute(element, _) => node
            .attribute()
            .and_then(|attr| serialize::attribute_written_prefix(element, &attr)),
        _ => None,
    }
}

fn local_name(node: XNode) -> String {
    match node {
        XNode::Node(n) => match n.node_type() {
            NodeType::Element => n.tag_name().name().to_string(),
            NodeType::PI => n.pi().map(|pi| pi.target.to_string()).unwrap_or_default(),
            _ => String::new(),
        },
        XNode::Attribute(..) => node
            .attribute()
            .map(|a| a.name().to_string())
            .unwrap_or_default(),
        XNode::Namespace(..) => node
            .namespace()
            .and_then(|ns| ns.name())
            .unwrap_or("")
            .to_string(),
    }
}

fn namespace_uri(node: XNode) -> String {
    match node {
        XNode::Node(n) if n.is_element() => n.tag_name().namespace().unwrap_or("").to_string(),
        XNode::Attribute(..) => node
            .attribute()
            .and_then(|a| a.namespace())
            .unwrap_or("")
            .to_string(),
        _ => String::new(),
    }
}

fn qualified_name(node: XNode) -> String {
    let local = local_name(node);
    match written_prefix(node) {
        Some(prefix) if !prefix.is_empty() => format!("{prefix}:{local}"),
        _ => local,
    }
}

/// XPath substring() with the §4.2 rounding rules, on characters.
fn substring(s: &str, start: f64, length: Option<f64>) -> String {
    let first = xpath_round(start);
    let end = match length {
        Some(len) => first + xpath_round(len),
        None => f64::INFINITY,
    };
    s.chars()
        .enumerate()
        .filter(|(i, _)| {
            let p = (*i + 1) as f64;
            p >= first && p < end
        })
        .map(|(_, c)| c)
        .collect()
}

fn translate(s: &str, from: &str, to: &str) -> String {
    let from: Vec<char> = from.chars().collect();
    let to: Vec<char> = to.chars().collect();
    s.chars()
        .filter_map(|c| match from.iter().position(|&f| f == c) {
            Some(i) => to.get(i).copied(),
            None => Some(c),
        })
        .collect()
}

fn normalize_space(s: &str) -> String {
    s.split(is_xml_space)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// lang(): the nearest xml:lang on the context node or an ancestor, compared case-insensitively
/// ignoring a `-suffix` (XPath 1.0 §4.3).
fn lang(node: XNode, wanted: &str) -> bool {
    const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
    let lang = node
        .tree_node()
        .ancestors()
        .find_map(|n| n.attribute((XML_NS, "lang")));
    match lang {
        Some(lang) => {
            let lang = lang.to_lowercase();
            let wanted = wanted.to_lowercase();
            lang == wanted
                || lang
                    .strip_prefix(wanted.as_str())
                    .is_some_and(|rest| rest.starts_with('-'))
        }
        None => false,
    }
}

pub(crate) fn call<'a, 'i>(
    ev: &mut Evaluator<'_, 'a, 'i>,
    call: &Call,
    ctx: &Context<'a, 'i>,
) -> Result<Value<'a, 'i>, XPathError> {
    let mut args = Vec::with_capacity(call.args.len());
    for arg in &call.args {
        args.push(ev.eval(arg, ctx)?);
    }
    let column = Some(call.column);
    let string_arg = |i: usize| -> String {
        match (args.get(i), &ev.context_item) {
            (Some(v), _) => v.to_xpath_string(),
            // In a predicate over a string sequence the context item is the string.
            (None, Some(item)) => item.clone(),
            (None, None) => XNode::string_value(&ctx.node),
        }
    };
    let node_arg =
        |ev: &Evaluator, i: usize, name: &str| -> Result<Option<XNode<'a, 'i>>, XPathError> {
            match args.get(i) {
                None => Ok(Some(ctx.node)),
                Some(Value::Nodes(nodes)) => Ok(nodes.first().copied()),
                Some(_) => Err(ev.error(format!("{name}() needs a node-set argument"), column)),
            }
        };
    let value = match call.function {
        Function::Last => Value::Number(ctx.size as f64),
        Function::Position => Value::Number(ctx.position as f64),
        Function::Count => match args.first() {
            Some(Value::Nodes(nodes)) => Value::Number(nodes.len() as f64),
            Some(Value::Strings(items)) => Value::Number(items.len() as f64),
            _ => return Err(ev.error("count() needs a node-set argument".to_string(), column)),
        },
        // Axiom has no DTD-declared IDs, so Jaxen's navigator finds no element by ID.
        Function::Id => Value::Nodes(Vec::new()),
        Function::LocalName => Value::String(
            node_arg(ev, 0, "local-name")?
                .map(local_name)
                .unwrap_or_default(),
        ),
        Function::NamespaceUri => Value::String(
            node_arg(ev, 0, "namespace-uri")?
                .map(namespace_uri)
                .unwrap_or_default(),
        ),
        Function::Name => Value::String(
            node_arg(ev, 0, "name")?
                .map(qualified_name)
                .unwrap_or_default(),
        ),
        Function::String => Value::String(string_arg(0)),
        Function::Concat => Value::String(args.iter().map(Value::to_xpath_string).collect()),
        Function::StartsWith => Value::Boolean(string_arg(0).starts_with(&string_arg(1))),
        Function::Contains => Value::Boolean(string_arg(0).contains(&string_arg(1))),
        Function::EndsWith => Value::Boolean(string_arg(0).ends_with(&string_arg(1))),
        Function::SubstringBefore => {
            let s = string_arg(0);
            let needle = string_arg(1);
            Value::String(
                s.find(&needle)
                    .map(|i| s[..i].to_string())
                    .unwrap_or_default(),
            )
        }
        Function::SubstringAfter => {
            let s = string_arg(0);
            let needle = string_arg(1);
            Value::String(
                s.find(&needle)
                    .map(|i| s[i + needle.len()..].to_string())
                    .unwrap_or_default(),
            )
        }
        Function::Substring => Value::String(substring(
            &string_arg(0),
            args.get(1).map_or(f64::NAN, Value::to_number),
            args.get(2).map(Value::to_number),
        )),
        Function::StringLength => Value::Number(string_arg(0).chars().count() as f64),
        Function::NormalizeSpace => Value::String(normalize_space(&string_arg(0))),
        Function::Translate => {
            Value::String(translate(&string_arg(0), &string_arg(1), &string_arg(2)))
        }
        Function::LowerCase => Value::String(string_arg(0).to_lowercase()),
        Function::UpperCase => Value::String(string_arg(0).to_uppercase()),
        Function::Boolean => Value::Boolean(args.first().is_some_and(Value::to_boolean)),
        Function::Not => Value::Boolean(!args.first().is_some_and(Value::to_boolean)),
        Function::True => Value::Boolean(true),
        Function::False => Value::Boolean(false),
        Function::Lang => Value::Boolean(lang(ctx.node, &string_arg(0))),
        Function::Number => Value::Number(match args.first() {
            Some(v) => v.to_number(),
            None => parse_number(&ctx.node.string_value()),
        }),
        Function::Sum => match args.first().and_then(Value::item_strings) {
            Some(items) => Value::Number(
                // Start from +0 like Jaxen's SumFunction (`Iterator::sum` starts from -0.0).
                items
                    .iter()
                    .map(|s| parse_number(s))
                    .fold(0.0, |total, n| total + n),
            ),
            _ => return Err(ev.error("sum() needs a node-set argument".to_string(), column)),
        },
        Function::Floor => Value::Number(args.first().map_or(f64::NAN, Value::to_number).floor()),
        Function::Ceiling => Value::Number(args.first().map_or(f64::NAN, Value::to_number).ceil()),
        Function::Round => {
            Value::Number(xpath_round(args.first().map_or(f64::NAN, Value::to_number)))
        }
        Function::Tokenize
        | Function::Matches
        | Function::Replace
        | Function::StringJoin
        | Function::CurrentDateTime
        | Function::CurrentDate
        | Function::CurrentTime => xpath2::call(ev, call.function, &args, call.column)?,
        Function::GetProperty
        | Function::Base64Encode
        | Function::Base64Decode
        | Function::UrlEncode
        | Function::VaultLookup => {
            let strings: Vec<String> = args.iter().map(Value::to_xpath_string).collect();
            Value::String(synapse::call_function(
                ev,
                call.function,
                &strings,
                call.column,
            )?)
        }
    };
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaxen_string_function_formats_numbers_without_exponent() {
        // org/jaxen/function/StringFunction.java: DecimalFormat, no grouping, 32 fraction digits.
        let cases: &[(f64, &str)] = &[
            (5.0, "5"),
            (-5.0, "-5"),
            (0.5, "0.5"),
            (-0.0, "0"),
            (1e21, "1000000000000000000000"),
            (1e-7, "0.0000001"),
            (123.456, "123.456"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (1e-40, "0"),
            (1.5e-32, "0.00000000000000000000000000000002"),
        ];
        for &(n, want) in cases {
            assert_eq!(format_number(n), want, "format_number({n:e})");
        }
    }

    #[test]
    fn number_parsing_follows_xpath_not_java() {
        let cases: &[(&str, f64)] = &[
            ("12", 12.0),
            (" 12.5 ", 12.5),
            ("-3", -3.0),
            (".5", 0.5),
            ("5.", 5.0),
        ];
        for &(s, want) in cases {
            assert_eq!(parse_number(s), want, "parse_number({s:?})");
        }
        for s in [
            "", "abc", "1e5", "+1", "1.2.3", "NaN", "Infinity", "-", ".", "5d",
        ] {
            assert!(
                parse_number(s).is_nan(),
                "parse_number({s:?}) should be NaN"
            );
        }
    }

    #[test]
    fn substring_rounding_rules_of_xpath_4_2() {
        assert_eq!(substring("12345", 2.0, Some(3.0)), "234");
        assert_eq!(substring("12345", 1.5, Some(2.6)), "234");
        assert_eq!(substring("12345", 0.0, Some(3.0)), "12");
        assert_eq!(substring("12345", f64::NAN, Some(3.0)), "");
        assert_eq!(substring("12345", 1.0, Some(f64::NAN)), "");
        assert_eq!(substring("12345", -42.0, Some(f64::INFINITY)), "12345");
        assert_eq!(
            substring("12345", f64::NEG_INFINITY, Some(f64::INFINITY)),
            ""
        );
        assert_eq!(substring("12345", 2.0, None), "2345");
    }

    #[test]
    fn round_halves_go_up() {
        assert_eq!(xpath_round(2.5), 3.0);
        assert_eq!(xpath_round(-2.5), -2.0);
        assert!(xpath_round(-0.3).is_sign_negative());
        assert!(xpath_round(f64::NAN).is_nan());
        assert_eq!(xpath_round(0.49999999999999994), 0.0);
        assert_eq!(xpath_round(1e20), i64::MAX as f64);
        assert_eq!(format_number(xpath_round(1e20)), "9223372036854776000");
        assert_eq!(xpath_round(-1e20), i64::MIN as f64);
    }

    #[test]
    fn translate_and_normalize_space() {
        assert_eq!(translate("bar", "abc", "ABC"), "BAr");
        assert_eq!(translate("--aaa--", "abc-", "ABC"), "AAA");
        assert_eq!(normalize_space("  a \n b\t c  "), "a b c");
    }
}
