//! The XPath 2.0 functions Conflux runs inside its XPath 1.0 evaluator (see the module docs of
//! [`super`]): `fn:tokenize`, `fn:matches`, `fn:replace` (W3C XQuery and XPath Functions and
//! Operators 2.0, §7.6, with the §7.6.1 flags `s`, `m`, `i`, `x`), `fn:string-join` (§7.4.2) and
//! `fn:current-dateTime` / `current-date` / `current-time` (§16.3). MI serves them through Saxon
//! when `synapse.enable_xpath_dom_failover` is set (wso2-synapse
//! modules/core/src/main/java/org/apache/synapse/util/xpath/SynapseXPath.java, evaluateDOMXPath).
//!
//! XSD regular expressions are run by the `regex` crate: the syntax the two share (classes,
//! `\d`, `\s`, `\w`, `\p{..}`, quantifiers, groups, `^`/`$`) behaves the same; XSD-only parts
//! (class subtraction `[a-z-[aeiou]]`, `\i`, `\c`) and back-references are refused with an
//! evaluation error.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use regex::{Regex, RegexBuilder};

use super::XPathError;
use super::ast::Function;
use super::eval::{Evaluator, Value};

/// Largest compiled regex accepted (bytes of the regex crate's program), so a pattern taken from
/// a message cannot use unbounded memory.
const MAX_REGEX_SIZE: usize = 1 << 20;
/// Compiled patterns kept for reuse across evaluations; the cache is emptied when full.
const MAX_CACHED_REGEXES: usize = 256;

static REGEX_CACHE: LazyLock<Mutex<HashMap<(String, String), Regex>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

pub(crate) fn call<'a, 'i>(
    ev: &Evaluator<'_, 'a, 'i>,
    function: Function,
    args: &[Value<'a, 'i>],
    column: usize,
) -> Result<Value<'a, 'i>, XPathError> {
    let fail = |message: String| ev.error(message, Some(column));
    let string = |i: usize| args.get(i).map(Value::to_xpath_string).unwrap_or_default();
    let flags = |i: usize| args.get(i).map(Value::to_xpath_string).unwrap_or_default();
    Ok(match function {
        Function::Tokenize => {
            let input = string(0);
            let re = regex(&string(1), &flags(2)).map_err(|e| fail(format!("tokenize(): {e}")))?;
            Value::Strings(tokenize(&input, &re).map_err(|e| fail(format!("tokenize(): {e}")))?)
        }
        Function::Matches => {
            let re = regex(&string(1), &flags(2)).map_err(|e| fail(format!("matches(): {e}")))?;
            Value::Boolean(re.is_match(&string(0)))
        }
        Function::Replace => {
            let re = regex(&string(1), &flags(3)).map_err(|e| fail(format!("replace(): {e}")))?;
            Value::String(
                replace(&string(0), &re, &string(2))
                    .map_err(|e| fail(format!("replace(): {e}")))?,
            )
        }
        Function::StringJoin => {
            let items = match args.first() {
                Some(value) => value
                    .item_strings()
                    .unwrap_or_else(|| vec![value.to_xpath_string()]),
                None => Vec::new(),
            };
            Value::String(items.join(&string(1)))
        }
        Function::CurrentDateTime | Function::CurrentDate | Function::CurrentTime => {
            Value::String(current(function, ev.now_millis).map_err(fail)?)
        }
        other => {
            return Err(fail(format!(
                "internal: {other:?} is not an XPath 2.0 function"
            )));
        }
    })
}

/// Compiles an XPath 2.0 pattern with its flags (F&O §7.6.1), cached.
fn regex(pattern: &str, flags: &str) -> Result<Regex, String> {
    let key = (pattern.to_string(), flags.to_string());
    if let Ok(cache) = REGEX_CACHE.lock()
        && let Some(re) = cache.get(&key)
    {
        return Ok(re.clone());
    }
    let mut builder_pattern = pattern.to_string();
    let (mut dot_all, mut multi_line, mut case_insensitive) = (false, false, false);
    for flag in flags.chars() {
        match flag {
            's' => dot_all = true,
            'm' => multi_line = true,
            'i' => case_insensitive = true,
            // §7.6.1: whitespace is removed from the pattern before it is used.
            'x' => builder_pattern.retain(|c| !matches!(c, ' ' | '\t' | '\n' | '\r')),
            other => {
                return Err(format!(
                    "invalid regular expression flag '{other}' (FORX0001)"
                ));
            }
        }
    }
    if pattern.contains("-[") {
        return Err(format!(
            "character class subtraction in '{pattern}' is not supported (FORX0002)"
        ));
    }
    let re = RegexBuilder::new(&builder_pattern)
        .dot_matches_new_line(dot_all)
        .multi_line(multi_line)
        .case_insensitive(case_insensitive)
        .size_limit(MAX_REGEX_SIZE)
        .dfa_size_limit(MAX_REGEX_SIZE)
        .build()
        .map_err(|e| format!("invalid regular expression '{pattern}' (FORX0002): {e}"))?;
    if let Ok(mut cache) = REGEX_CACHE.lock() {
        if cache.len() >= MAX_CACHED_REGEXES {
            cache.clear();
        }
        cache.insert(key, re.clone());
    }
    Ok(re)
}

/// F&O §7.6.4: the parts between matches; an empty input gives no items, a pattern that matches
/// the empty string is an error (FORX0003).
fn tokenize(input: &str, re: &Regex) -> Result<Vec<String>, String> {
    if re.is_match("") {
        return Err(format!(
            "the pattern '{}' matches a zero-length string (FORX0003)",
            re.as_str()
        ));
    }
    if input.is_empty() {
        return Ok(Vec::new());
    }
    Ok(re.split(input).map(str::to_string).collect())
}

/// F&O §7.6.3: `$N` is group N (the longest run of digits naming an existing group, at least
/// one digit; a group that did not match or does not exist gives ""), `\$` and `\\` are `$`
/// and `\`; any other `$` or `\` is an error (FORX0004), as is a pattern matching "" (FORX0003).
fn replace(input: &str, re: &Regex, replacement: &str) -> Result<String, String> {
    if re.is_match("") {
        return Err(format!(
            "the pattern '{}' matches a zero-length string (FORX0003)",
            re.as_str()
        ));
    }
    let groups = re.captures_len() - 1;
    // Validate and pre-split the replacement.
    enum Part {
        Text(String),
        Group(usize),
    }
    let mut parts = Vec::new();
    let mut text = String::new();
    let chars: Vec<char> = replacement.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => match chars.get(i + 1) {
                Some(&c @ ('\\' | '$')) => {
                    text.push(c);
                    i += 2;
                }
                _ => {
                    return Err(format!(
                        "invalid replacement string '{replacement}': '\\' must be followed by '\\' or '$' (FORX0004)"
                    ));
                }
            },
            '$' => {
                let Some(first) = chars.get(i + 1).and_then(|c| c.to_digit(10)) else {
                    return Err(format!(
                        "invalid replacement string '{replacement}': '$' must be followed by a digit (FORX0004)"
                    ));
                };
                let mut group = first as usize;
                i += 2;
                while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                    let longer = group.saturating_mul(10).saturating_add(d as usize);
                    if longer > groups {
                        break;
                    }
                    group = longer;
                    i += 1;
                }
                parts.push(Part::Text(std::mem::take(&mut text)));
                parts.push(Part::Group(group));
            }
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    parts.push(Part::Text(text));
    let mut out = String::with_capacity(input.len());
    let mut last = 0;
    for caps in re.captures_iter(input) {
        let Some(whole) = caps.get(0) else { continue };
        out.push_str(&input[last..whole.start()]);
        for part in &parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Group(g) => out.push_str(caps.get(*g).map_or("", |m| m.as_str())),
            }
        }
        last = whole.end();
    }
    out.push_str(&input[last..]);
    Ok(out)
}

/// The canonical lexical forms of `xs:dateTime`, `xs:date`, `xs:time` for now, in UTC (`Z`):
/// milliseconds, trailing zeros of the fraction dropped (`2017-06-02T10:15:30.12Z`).
fn current(function: Function, now_millis: i64) -> Result<String, String> {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_millis) * 1_000_000)
        .map_err(|e| format!("current time out of range: {e}"))?;
    let date = format!(
        "{:04}-{:02}-{:02}",
        at.year(),
        u8::from(at.month()),
        at.day()
    );
    let mut fraction = format!("{:03}", at.millisecond());
    while fraction.ends_with('0') {
        fraction.pop();
    }
    let mut time = format!("{:02}:{:02}:{:02}", at.hour(), at.minute(), at.second());
    if !fraction.is_empty() {
        time.push('.');
        time.push_str(&fraction);
    }
    Ok(match function {
        Function::CurrentDate => format!("{date}Z"),
        Function::CurrentTime => format!("{time}Z"),
        _ => format!("{date}T{time}Z"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str, f: &str) -> Regex {
        regex(p, f).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn tokenize_follows_functions_and_operators_7_6_4() {
        assert_eq!(
            tokenize("0537522332_20170602_0406469194", &re("_", "")),
            Ok(vec![
                "0537522332".to_string(),
                "20170602".to_string(),
                "0406469194".to_string()
            ])
        );
        assert_eq!(
            tokenize(" a b ", &re("\\s+", "")),
            Ok(vec![String::new(), "a".into(), "b".into(), String::new()])
        );
        assert_eq!(tokenize("", &re(",", "")), Ok(Vec::new()));
        assert!(tokenize("abc", &re("x*", "")).is_err());
    }

    #[test]
    fn replace_expands_groups_and_escapes() {
        assert_eq!(
            replace("abracadabra", &re("a(.)", ""), "a$1$1"),
            Ok("abbraccaddabbra".into())
        );
        assert_eq!(replace("abc", &re("b", ""), "\\$"), Ok("a$c".into()));
        // `$12` with one group is group 1 followed by "2".
        assert_eq!(replace("abc", &re("(b)", ""), "$12"), Ok("ab2c".into()));
        assert!(replace("abc", &re("b", ""), "$x").is_err());
        assert!(replace("abc", &re("b", ""), "\\n").is_err());
        assert!(replace("abc", &re(".?", ""), "x").is_err());
    }

    #[test]
    fn flags_of_7_6_1() {
        assert!(re("HELLO", "i").is_match("hello"));
        assert!(re("h e l l o", "x").is_match("hello"));
        assert!(re("^b$", "m").is_match("a\nb\nc"));
        assert!(!re("^b$", "").is_match("a\nb\nc"));
        assert!(regex("a", "q").is_err());
        assert!(regex("[a-z-[aeiou]]", "").is_err());
    }

    #[test]
    fn current_date_time_forms() {
        // 2017-06-02T10:15:30.120Z
        let millis = 1_496_398_530_120;
        assert_eq!(
            current(Function::CurrentDateTime, millis),
            Ok("2017-06-02T10:15:30.12Z".into())
        );
        assert_eq!(
            current(Function::CurrentDate, millis),
            Ok("2017-06-02Z".into())
        );
        assert_eq!(
            current(Function::CurrentTime, 1_496_398_530_000),
            Ok("10:15:30Z".into())
        );
    }
}
