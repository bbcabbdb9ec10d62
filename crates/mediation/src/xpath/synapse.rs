//! Synapse's layer over XPath 1.0: the `get-property`, `base64Encode`, `base64Decode` and
//! `url-encode` functions (org/apache/synapse/mediators/GetPropertyFunction.java,
//! util/xpath/Base64EncodeFunction.java, Base64DecodeFunction.java, URLEncodeFunction.java),
//! `SYSTEM_DATE` formatting with a subset of Java's `SimpleDateFormat`, and the rule
//! `SynapseXPath.stringValueOf` uses to turn a result into a string (which differs from
//! XPath's `string()`: node-sets are serialised or concatenated, numbers use Java's
//! `Double.toString`, so `count(//a)` reads `"2.0"`).

use base64::Engine as _;
use roxmltree::NodeType;

use super::XPathError;
use super::ast::Function;
use super::eval::{Evaluator, Value, XNode};
use super::functions::java_trim;
use super::serialize::serialize;

/// The scopes the two-argument `get-property(scope, name)` recognises
/// (GetPropertyFunction.call: XMLConfigConstants.SCOPE_*). Any other first argument makes it the
/// property name and the second a date format.
pub(crate) const PROPERTY_SCOPES: &[&str] = &[
    "axis2",
    "operation",
    "default",
    "transport",
    "registry",
    "func",
    "system",
    "env",
    "file",
];

/// `new SimpleDateFormat()` in the en_US locale on Java 9+ (CLDR data: SHORT date, SHORT time).
pub const DEFAULT_SYSTEM_DATE_PATTERN: &str = "M/d/yy, h:mm a";

/// Longest `SYSTEM_DATE` pattern accepted (characters).
pub const MAX_DATE_PATTERN_LEN: usize = 256;

pub(crate) fn call_function(
    ev: &Evaluator,
    function: Function,
    args: &[String],
    column: usize,
) -> Result<String, XPathError> {
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    match function {
        Function::GetProperty => get_property(ev, args, column),
        Function::Base64Encode => {
            let charset = if args.len() > 1 { arg(1) } else { "UTF-8" };
            base64_encode(arg(0), charset)
                .map_err(|e| ev.error(format!("base64Encode(): {e}"), Some(column)))
        }
        Function::Base64Decode => {
            let charset = if args.len() > 1 { arg(1) } else { "UTF-8" };
            base64_decode(arg(0), charset)
                .map_err(|e| ev.error(format!("base64Decode(): {e}"), Some(column)))
        }
        Function::UrlEncode => {
            let charset = if args.len() > 1 { arg(1) } else { "UTF-8" };
            url_encode(arg(0), charset)
                .map_err(|e| ev.error(format!("url-encode(): {e}"), Some(column)))
        }
        // VaultLookupFunction.call: the decrypted `[secrets]` value, or the alias itself.
        Function::VaultLookup => Ok(crate::vault::lookup(arg(0))),
        other => Err(ev.error(
            format!("internal: {other:?} is not a Synapse function"),
            Some(column),
        )),
    }
}

/// GetPropertyFunction.call / evaluate.
fn get_property(ev: &Evaluator, args: &[String], column: usize) -> Result<String, XPathError> {
    let (scope, key, date_format) = match args {
        [key] => ("default", key.as_str(), None),
        [first, second] if PROPERTY_SCOPES.contains(&first.as_str()) => {
            (first.as_str(), second.as_str(), None)
        }
        // `get-property('SYSTEM_DATE', 'yyyy-MM-dd')`: the second argument is a date format.
        [key, format] => ("default", key.as_str(), Some(format.as_str())),
        [scope, key, format] => (scope.as_str(), key.as_str(), Some(format.as_str())),
        _ => {
            return Err(ev.error(
                "get-property() takes 1 to 3 arguments".to_string(),
                Some(column),
            ));
        }
    };
    if key.is_empty() {
        return Ok(String::new());
    }
    // SYSTEM_DATE and SYSTEM_TIME are answered whatever the scope.
    if key == "SYSTEM_DATE" {
        let pattern = date_format.unwrap_or(DEFAULT_SYSTEM_DATE_PATTERN);
        return format_date(ev.now_millis, pattern).map_err(|e| {
            ev.error(
                format!("get-property('SYSTEM_DATE', '{pattern}'): {e}"),
                Some(column),
            )
        });
    }
    if key == "SYSTEM_TIME" {
        return Ok(ev.now_millis.to_string());
    }
    if !PROPERTY_SCOPES.contains(&scope) {
        // GetPropertyFunction logs "Invalid scope" and returns "".
        return Ok(String::new());
    }
    Ok(ev.env.property(scope, key).unwrap_or_default())
}

/// A Java charset name (case-insensitive, common aliases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    Utf8,
    Ascii,
    Latin1,
    Utf16Be,
    Utf16Le,
    /// Java's "UTF-16": big-endian with a byte-order mark when encoding.
    Utf16,
}

fn charset(name: &str) -> Result<Charset, String> {
    let normalized = name.trim().to_ascii_uppercase().replace('_', "-");
    Ok(match normalized.as_str() {
        "UTF-8" | "UTF8" => Charset::Utf8,
        "US-ASCII" | "ASCII" => Charset::Ascii,
        "ISO-8859-1" | "ISO8859-1" | "LATIN1" | "ISO-LATIN-1" => Charset::Latin1,
        "UTF-16BE" => Charset::Utf16Be,
        "UTF-16LE" => Charset::Utf16Le,
        "UTF-16" | "UTF16" => Charset::Utf16,
        _ => {
            return Err(format!(
                "unsupported charset '{name}' (supported: UTF-8, US-ASCII, ISO-8859-1, UTF-16, UTF-16BE, UTF-16LE)"
            ));
        }
    })
}

/// `String.getBytes(charset)`: unmappable characters become '?'.
fn encode_chars(s: &str, cs: Charset) -> Vec<u8> {
    match cs {
        Charset::Utf8 => s.as_bytes().to_vec(),
        Charset::Ascii => s
            .chars()
            .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
            .collect(),
        Charset::Latin1 => s
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect(),
        Charset::Utf16Be | Charset::Utf16 => {
            let mut out = if cs == Charset::Utf16 {
                vec![0xFE, 0xFF]
            } else {
                Vec::new()
            };
            for unit in s.encode_utf16() {
                out.extend_from_slice(&unit.to_be_bytes());
            }
            out
        }
        Charset::Utf16Le => s.encode_utf16().flat_map(u16::to_le_bytes).collect(),
    }
}

/// `new String(bytes, charset)`: malformed input becomes U+FFFD.
fn decode_bytes(bytes: &[u8], cs: Charset) -> String {
    match cs {
        Charset::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
        Charset::Ascii => bytes
            .iter()
            .map(|&b| {
                if b.is_ascii() {
                    char::from(b)
                } else {
                    '\u{FFFD}'
                }
            })
            .collect(),
        Charset::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
        Charset::Utf16Be | Charset::Utf16Le | Charset::Utf16 => {
            let (mut big_endian, mut body) = (cs != Charset::Utf16Le, bytes);
            if cs == Charset::Utf16 {
                match bytes {
                    [0xFE, 0xFF, rest @ ..] => body = rest,
                    [0xFF, 0xFE, rest @ ..] => {
                        big_endian = false;
                        body = rest;
                    }
                    _ => {}
                }
            }
            let units = body.chunks(2).map(|pair| match pair {
                [a, b] if big_endian => u16::from_be_bytes([*a, *b]),
                [a, b] => u16::from_le_bytes([*a, *b]),
                _ => 0xFFFD,
            });
            char::decode_utf16(units)
                .map(|r| r.unwrap_or('\u{FFFD}'))
                .collect()
        }
    }
}

/// Base64EncodeFunction.encode: "" stays "", otherwise base64 of the value's bytes in `charset`.
pub(crate) fn base64_encode(value: &str, charset_name: &str) -> Result<String, String> {
    if value.is_empty() {
        return Ok(String::new());
    }
    let cs = charset(charset_name)?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(encode_chars(value, cs));
    // Synapse turns the base64 bytes back into a String in the same charset, then trims.
    Ok(java_trim(&decode_bytes(encoded.as_bytes(), cs)).replace("\r\n", ""))
}

/// Base64DecodeFunction.decode: commons-codec decoding is lenient: characters outside the
/// alphabet are skipped, decoding stops at '=', and a dangling 6 bits are dropped.
pub(crate) fn base64_decode(value: &str, charset_name: &str) -> Result<String, String> {
    if value.is_empty() {
        return Ok(String::new());
    }
    let cs = charset(charset_name)?;
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut out = Vec::new();
    for &b in &encode_chars(value, cs) {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => continue,
        };
        bits = (bits << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push(((bits >> nbits) & 0xFF) as u8);
        }
    }
    Ok(java_trim(&decode_bytes(&out, cs)).to_string())
}

/// Bytes commons-httpclient's `URI.allowed_abs_path` keeps: alphanumerics, the marks
/// `-_.!~*'()`, `:@&=$,;/` (no '%', no '+').
fn allowed_in_path(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'():@&=$,;/".contains(&b)
}

/// `URI.allowed_query`: every URI character (reserved and unreserved) except '%'.
fn allowed_in_query(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'();/?:@&=+$,".contains(&b)
}

/// URLEncodeFunction uses commons-httpclient `URIUtil.encodePathQuery(value, charset)` (not
/// java.net.URLEncoder): the part before the first '?' is escaped as a path, the rest as a
/// query, so a space becomes `%20` and `&`, `=`, `/` stay as they are.
pub(crate) fn url_encode(value: &str, charset_name: &str) -> Result<String, String> {
    if value.is_empty() {
        return Ok(String::new());
    }
    let cs = charset(charset_name)?;
    let escape = |part: &str, allowed: fn(u8) -> bool, out: &mut String| {
        for b in encode_chars(part, cs) {
            if allowed(b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    };
    let mut out = String::new();
    match value.split_once('?') {
        Some((path, query)) => {
            escape(path, allowed_in_path, &mut out);
            out.push('?');
            escape(query, allowed_in_query, &mut out);
        }
        None => escape(value, allowed_in_path, &mut out),
    }
    Ok(out)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Formats `millis` (UTC) with a `SimpleDateFormat` pattern. Supported letters: G y Y M L d D E u
/// a H k K h m s S z Z X; quoted text `'...'` and `''`. Other ASCII letters are an error, as
/// SimpleDateFormat rejects unknown pattern letters.
pub(crate) fn format_date(millis: i64, pattern: &str) -> Result<String, String> {
    if pattern.chars().count() > MAX_DATE_PATTERN_LEN {
        return Err(format!(
            "date pattern is longer than {MAX_DATE_PATTERN_LEN} characters"
        ));
    }
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map_err(|e| format!("the time {millis} ms is out of range: {e}"))?;
    let year = i64::from(at.year());
    let month = u32::from(u8::from(at.month()));
    let day = u32::from(at.day());
    let hour = i64::from(at.hour());
    let minute = i64::from(at.minute());
    let second = i64::from(at.second());
    let milli = i64::from(at.millisecond());
    let weekday = usize::from(at.weekday().number_days_from_monday());
    let day_of_year = i64::from(at.ordinal());
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            let mut j = i + 1;
            while j < chars.len() {
                if chars[j] == '\'' {
                    if chars.get(j + 1) == Some(&'\'') {
                        out.push('\'');
                        j += 2;
                        continue;
                    }
                    break;
                }
                out.push(chars[j]);
                j += 1;
            }
            if j >= chars.len() {
                return Err("unterminated quote in date pattern".to_string());
            }
            i = j + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let mut count = 1;
        while chars.get(i + count) == Some(&c) {
            count += 1;
        }
        i += count;
        let num = |v: i64, out: &mut String| out.push_str(&format!("{v:0count$}"));
        match c {
            'G' => out.push_str(if year > 0 { "AD" } else { "BC" }),
            'y' | 'Y' => {
                if count == 2 {
                    out.push_str(&format!("{:02}", year.rem_euclid(100)));
                } else {
                    num(year, &mut out);
                }
            }
            'M' | 'L' => match count {
                1 | 2 => num(i64::from(month), &mut out),
                3 => out.push_str(&MONTHS[month as usize - 1][..3]),
                _ => out.push_str(MONTHS[month as usize - 1]),
            },
            'd' => num(i64::from(day), &mut out),
            'D' => num(day_of_year, &mut out),
            'E' => {
                if count >= 4 {
                    out.push_str(WEEKDAYS[weekday]);
                } else {
                    out.push_str(&WEEKDAYS[weekday][..3]);
                }
            }
            'u' => num(weekday as i64 + 1, &mut out),
            'a' => out.push_str(if hour < 12 { "AM" } else { "PM" }),
            'H' => num(hour, &mut out),
            'k' => num(if hour == 0 { 24 } else { hour }, &mut out),
            'K' => num(hour % 12, &mut out),
            'h' => num(if hour % 12 == 0 { 12 } else { hour % 12 }, &mut out),
            'm' => num(minute, &mut out),
            's' => num(second, &mut out),
            'S' => num(milli, &mut out),
            'z' => out.push_str(if count >= 4 {
                "Coordinated Universal Time"
            } else {
                "UTC"
            }),
            'Z' => out.push_str("+0000"),
            'X' => out.push('Z'),
            other => {
                return Err(format!(
                    "unsupported pattern letter '{other}' (supported: G y Y M L d D E u a H k K h m s S z Z X)"
                ));
            }
        }
    }
    Ok(out)
}

/// Java's `Double.toString`: plain notation with at least one fraction digit for
/// 1e-3 <= |d| < 1e7, otherwise computerised scientific notation (`1.0E7`, `1.5E-4`).
pub(crate) fn java_double_to_string(d: f64) -> String {
    if d.is_nan() {
        return "NaN".to_string();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    let magnitude = d.abs();
    if (1e-3..1e7).contains(&magnitude) {
        let s = format!("{d}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{d:e}");
    let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_string()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exponent}")
}

/// Direct text children of an element, concatenated (Axiom's `OMElement.getText()`).
fn direct_text(node: roxmltree::Node) -> String {
    node.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect()
}

/// The smallest cap on a node-set's string value ([`string_value_of`]); the cap is twice the
/// document when that is larger. Nested elements are each serialised whole, so `//a` over 10,000
/// nested levels was hundreds of megabytes (and as many seconds); disjoint nodes never exceed the
/// document.
pub const MAX_STRING_VALUE_BYTES: usize = 32 * 1024 * 1024;

/// SynapseXPath.stringValueOf applied to an evaluation result. `text` is the expression text:
/// Synapse looks for `node()` in it literally. Fails once the string passes `limit` bytes.
pub(crate) fn string_value_of(text: &str, value: &Value, limit: usize) -> Result<String, String> {
    let nodes = match value {
        Value::Nodes(nodes) => nodes,
        Value::String(s) => return Ok(s.clone()),
        // SynapseXPath.evaluateDOMXPath: Saxon's string result, the first item.
        Value::Strings(items) => return Ok(items.first().cloned().unwrap_or_default()),
        Value::Number(n) => return Ok(java_double_to_string(*n)),
        Value::Boolean(b) => return Ok(b.to_string()),
    };
    let single = nodes.len() == 1;
    let mut out = String::new();
    for &node in nodes {
        if out.len() > limit {
            return Err(format!(
                "the string value of {} nodes is longer than {limit} bytes (MAX_STRING_VALUE_BYTES)",
                nodes.len()
            ));
        }
        let mut node = node;
        // "return parent only when Expression contains the node()": a lone text node selected by
        // an expression ending in node() stands for its parent element.
        if single
            && text.ends_with("node()")
            && let XNode::Node(n) = node
            && n.is_text()
            && let Some(parent) = n.parent().filter(|p| p.is_element())
        {
            node = XNode::Node(parent);
        }
        match node {
            XNode::Node(n) => match n.node_type() {
                NodeType::Text => out.push_str(n.text().unwrap_or("")),
                NodeType::Element => {
                    let text_children = direct_text(n);
                    let trimmed = java_trim(&text_children.replace('\u{A0}', " ")).to_string();
                    let mut s = if single && !text.contains("node()") {
                        text_children.clone()
                    } else {
                        serialize(n)
                    };
                    if !text_children.is_empty() {
                        s = s.replace(&text_children, &trimmed);
                    }
                    if trimmed.is_empty() {
                        s = serialize(n);
                    }
                    out.push_str(&s);
                }
                NodeType::Root => {
                    if let Some(element) = n.children().find(|c| c.is_element()) {
                        out.push_str(&serialize(element));
                    }
                }
                // Comments and processing instructions are neither OMText nor OMElement.
                NodeType::Comment | NodeType::PI => {}
            },
            XNode::Attribute(..) => {
                if let Some(attr) = node.attribute() {
                    out.push_str(attr.value());
                }
            }
            XNode::Namespace(..) => {}
        }
    }
    if out.len() > limit {
        return Err(format!(
            "the string value of {} nodes is longer than {limit} bytes (MAX_STRING_VALUE_BYTES)",
            nodes.len()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_value_at_the_cap_is_returned_and_one_byte_more_fails() {
        let doc = roxmltree::Document::parse("<r><a>abc</a><a>de</a></r>").unwrap();
        let texts: Vec<XNode> = doc
            .descendants()
            .filter(|n| n.is_text())
            .map(XNode::Node)
            .collect();
        let value = Value::Nodes(texts);
        assert_eq!(
            string_value_of("//a/text()", &value, 5).as_deref(),
            Ok("abcde")
        );
        let err = string_value_of("//a/text()", &value, 4).unwrap_err();
        assert!(err.contains("MAX_STRING_VALUE_BYTES"), "{err}");
    }

    #[test]
    fn nested_elements_stop_at_the_cap_instead_of_serialising_each_level() {
        // 100 levels over a 400 KB text: each `a` serialises it again, 40 MB in all.
        let text = "x".repeat(400 * 1024);
        let xml = format!("{}{text}{}", "<a>".repeat(100), "</a>".repeat(100));
        let doc = roxmltree::Document::parse(&xml).unwrap();
        struct NoProperties;
        impl super::super::XPathEnv for NoProperties {
            fn property(&self, _: &str, _: &str) -> Option<String> {
                None
            }
        }
        let xpath = super::super::XPath::compile("//a", &[]).unwrap();
        let err = xpath.string_value_at(&doc, &NoProperties, 0).unwrap_err();
        assert!(err.message().contains("MAX_STRING_VALUE_BYTES"), "{err}");
    }

    #[test]
    fn base64_encode_function_java() {
        // Base64EncodeFunction.java: UTF-8 by default, "" for "".
        assert_eq!(base64_encode("abc", "UTF-8").as_deref(), Ok("YWJj"));
        assert_eq!(base64_encode("", "UTF-8").as_deref(), Ok(""));
        assert_eq!(base64_encode("é", "UTF-8").as_deref(), Ok("w6k="));
        assert_eq!(base64_encode("é", "ISO-8859-1").as_deref(), Ok("6Q=="));
        assert!(base64_encode("a", "EBCDIC-X").is_err());
    }

    #[test]
    fn base64_decode_function_java_is_lenient_and_trims() {
        assert_eq!(base64_decode("YWJj", "UTF-8").as_deref(), Ok("abc"));
        assert_eq!(base64_decode("YW Jj\n", "UTF-8").as_deref(), Ok("abc"));
        assert_eq!(base64_decode("IGFiYyA=", "UTF-8").as_deref(), Ok("abc"));
        assert_eq!(base64_decode("YQ", "UTF-8").as_deref(), Ok("a"));
        assert_eq!(base64_decode("6Q==", "ISO-8859-1").as_deref(), Ok("é"));
        assert_eq!(base64_decode("", "UTF-8").as_deref(), Ok(""));
    }

    #[test]
    fn url_encode_function_java_uses_encode_path_query() {
        // URLEncodeFunction.java -> commons-httpclient URIUtil.encodePathQuery.
        let cases = [
            ("a b", "a%20b"),
            ("a+b", "a%2Bb"),
            ("x/y?q=a b&r=c+d", "x/y?q=a%20b&r=c+d"),
            ("100%", "100%25"),
            ("é", "%C3%A9"),
            ("a#b", "a%23b"),
        ];
        for (input, want) in cases {
            assert_eq!(url_encode(input, "UTF-8").as_deref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn java_double_to_string_cases() {
        let cases: &[(f64, &str)] = &[
            (2.0, "2.0"),
            (-2.0, "-2.0"),
            (0.5, "0.5"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1e7, "1.0E7"),
            (1234567.0, "1234567.0"),
            (1.5e10, "1.5E10"),
            (0.0, "0.0"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for &(d, want) in cases {
            assert_eq!(java_double_to_string(d), want, "{d:e}");
        }
    }

    #[test]
    fn simple_date_format_subset() {
        // 2024-02-29T13:05:09.007Z, a Thursday.
        let millis = 1_709_211_909_007;
        let cases = [
            ("yyyy-MM-dd", "2024-02-29"),
            ("yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2024-02-29T13:05:09.007+0000"),
            ("dd/MMM/yy hh:mm a", "29/Feb/24 01:05 PM"),
            ("EEEE, MMMM d", "Thursday, February 29"),
            ("EEE DDD u", "Thu 060 4"),
            ("'it''s' H", "it's 13"),
            (DEFAULT_SYSTEM_DATE_PATTERN, "2/29/24, 1:05 PM"),
        ];
        for (pattern, want) in cases {
            assert_eq!(
                format_date(millis, pattern).as_deref(),
                Ok(want),
                "{pattern}"
            );
        }
        assert!(format_date(millis, "yyyy-qq").is_err());
        assert!(format_date(millis, "'open").is_err());
        assert_eq!(
            format_date(0, "yyyy-MM-dd HH:mm:ss").as_deref(),
            Ok("1970-01-01 00:00:00")
        );
        assert_eq!(
            format_date(-1, "yyyy-MM-dd HH:mm:ss.SSS").as_deref(),
            Ok("1969-12-31 23:59:59.999")
        );
    }

    #[test]
    fn date_pattern_limit() {
        let at_limit = "y".repeat(MAX_DATE_PATTERN_LEN);
        assert!(format_date(0, &at_limit).is_ok());
        let over = "y".repeat(MAX_DATE_PATTERN_LEN + 1);
        assert!(format_date(0, &over).is_err());
    }
}
