//! Byte-exact re-implementations of the few Java library behaviours that MI's dispatch depends on:
//! `String.split` (trailing empty pieces dropped), `java.net.URLDecoder.decode` (including which
//! escapes it rejects), and Synapse's query-parameter splitting
//! (SYN:`api/ApiUtils.java` `populateQueryParamsToMessageContext`). Dispatch results must equal MI's,
//! so these quirks are reproduced on purpose and each one is tested.

use std::fmt;

/// A `%` escape that `java.net.URLDecoder` rejects with an `IllegalArgumentException`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedEscape {
    /// Byte offset of the `%` in the decoded text.
    pub offset: usize,
    /// The offending text: the `%` and up to two following characters.
    pub found: String,
}

impl fmt::Display for MalformedEscape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "malformed percent escape {:?} at byte {} (expected '%' followed by two hex digits)",
            self.found, self.offset
        )
    }
}

impl std::error::Error for MalformedEscape {}

/// `String.split(sep)` for a single literal separator: splits on every `sep`, then drops trailing
/// empty pieces; an empty input gives one empty piece (Java returns the input itself when nothing
/// matched).
pub(crate) fn java_split(input: &[u8], sep: u8) -> Vec<&[u8]> {
    if input.is_empty() {
        return vec![input];
    }
    let mut pieces: Vec<&[u8]> = input.split(|b| *b == sep).collect();
    while pieces.last().is_some_and(|p| p.is_empty()) {
        pieces.pop();
    }
    pieces
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The byte value `Integer.parseInt(twoChars, 16)` gives inside `URLDecoder`, or `None` where
/// URLDecoder throws. Java accepts a sign: `+a` is 10, `-0` is 0; any other negative is rejected.
fn java_escape_value(first: u8, second: u8) -> Option<u8> {
    match (first, hex_value(first), hex_value(second)) {
        (_, Some(high), Some(low)) => Some(high * 16 + low),
        (b'+', _, Some(low)) => Some(low),
        (b'-', _, Some(0)) => Some(0),
        _ => None,
    }
}

/// `java.net.URLDecoder.decode(text, "UTF-8")`. With `plus_as_space` false, `+` is kept as `+`
/// (Synapse's URI-template decoding first rewrites `+` to `%2B`:
/// SYN commons `templates/uri/parser/Expression.java` `decodeValue`). A run of escapes is decoded
/// as UTF-8 on its own, invalid sequences becoming U+FFFD, as `new String(bytes, UTF_8)` does.
pub(crate) fn java_url_decode(
    input: &[u8],
    plus_as_space: bool,
) -> Result<String, MalformedEscape> {
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    let mut plain_start = 0;
    while i < input.len() {
        match input[i] {
            b'+' if plus_as_space => {
                out.push_str(&String::from_utf8_lossy(&input[plain_start..i]));
                out.push(' ');
                i += 1;
                plain_start = i;
            }
            b'%' => {
                out.push_str(&String::from_utf8_lossy(&input[plain_start..i]));
                let mut bytes = Vec::new();
                // Java's loop condition is `i + 2 < length`: an escape needs both digits present.
                while i + 2 < input.len() && input[i] == b'%' {
                    let value = java_escape_value(input[i + 1], input[i + 2]).ok_or_else(|| {
                        MalformedEscape {
                            offset: i,
                            found: String::from_utf8_lossy(&input[i..i + 3]).into_owned(),
                        }
                    })?;
                    bytes.push(value);
                    i += 3;
                }
                if i < input.len() && input[i] == b'%' {
                    return Err(MalformedEscape {
                        offset: i,
                        found: String::from_utf8_lossy(&input[i..]).into_owned(),
                    });
                }
                out.push_str(&String::from_utf8_lossy(&bytes));
                plain_start = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&String::from_utf8_lossy(&input[plain_start..]));
    Ok(out)
}

/// Synapse's decoding of a URI-template capture: `+` stays `+`, `%XX` is decoded.
pub(crate) fn template_decode(input: &[u8]) -> Result<String, MalformedEscape> {
    java_url_decode(input, false)
}

/// Splits the query of `path_and_query` into `query.param.*` values the way MI does
/// (SYN:`api/ApiUtils.java` `populateQueryParamsToMessageContext`): the query is split on `&`
/// (Java split, trailing empty pieces dropped); a piece with `=` sets `name = URLDecoder(value)`
/// (`+` becomes a space; a later duplicate replaces the earlier value); a piece without `=` is
/// appended, undecoded and prefixed by `&`, to the value of the previous name. Before any name has
/// been seen, MI's `null` name gives the property `query.param.null` whose value starts with the
/// text `null` (Java string concatenation of a missing value); that is reproduced.
pub(crate) fn split_query_params(
    path_and_query: &str,
) -> Result<Vec<(String, String)>, MalformedEscape> {
    let mut params: Vec<(String, String)> = Vec::new();
    let Some(query_start) = path_and_query.find('?') else {
        return Ok(params);
    };
    let query = &path_and_query.as_bytes()[query_start + 1..];
    let mut current_name: Option<String> = None;
    for entry in java_split(query, b'&') {
        if let Some(eq) = entry.iter().position(|b| *b == b'=') {
            let name = String::from_utf8_lossy(&entry[..eq]).into_owned();
            let value = java_url_decode(&entry[eq + 1..], true)?;
            set_param(&mut params, &name, value);
            current_name = Some(name);
        } else {
            let name = current_name.clone().unwrap_or_else(|| "null".to_owned());
            let existing = params
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| "null".to_owned());
            let appended = format!("{existing}&{}", String::from_utf8_lossy(entry));
            set_param(&mut params, &name, appended);
        }
    }
    Ok(params)
}

fn set_param(params: &mut Vec<(String, String)>, name: &str, value: String) {
    if let Some(slot) = params.iter_mut().find(|(n, _)| n == name) {
        slot.1 = value;
    } else {
        params.push((name.to_owned(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_split_drops_trailing_empty_pieces() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[""]),
            ("a,b", &["a", "b"]),
            ("a,", &["a"]),
            (",a", &["", "a"]),
            (",,", &[]),
            ("a,,b,,", &["a", "", "b"]),
        ];
        for (input, expected) in cases {
            let got: Vec<&str> = java_split(input.as_bytes(), b',')
                .into_iter()
                .map(|p| std::str::from_utf8(p).unwrap_or("<bad>"))
                .collect();
            assert_eq!(&got, expected, "split of {input:?}");
        }
    }

    #[test]
    fn url_decoder_matches_java() {
        let ok: &[(&str, bool, &str)] = &[
            ("ESB%3AWSO2", true, "ESB:WSO2"),
            ("ESB+WSO2", true, "ESB WSO2"),
            ("ESB+WSO2", false, "ESB+WSO2"),
            ("ESB%20WSO2", false, "ESB WSO2"),
            ("%C3%A9t%C3%A9", true, "été"),
            ("%+a", true, "\n"),
            ("%-0x", true, "\0x"),
            ("%C3", true, "\u{FFFD}"),
            ("plain", true, "plain"),
        ];
        for (input, plus, expected) in ok {
            assert_eq!(
                java_url_decode(input.as_bytes(), *plus).as_deref(),
                Ok(*expected),
                "decode {input:?}"
            );
        }
        for bad in ["%", "%4", "a%zz", "%-1", "100%", "%4g"] {
            assert!(
                java_url_decode(bad.as_bytes(), true).is_err(),
                "{bad:?} must be rejected"
            );
        }
    }

    /// MI test `LastQueryParamEmptyTestCase` and the reference §3.3 last paragraph.
    #[test]
    fn query_params_follow_mi_split() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            (
                "/q?latitude=10&longitude=20&floor",
                &[("latitude", "10"), ("longitude", "20&floor")],
            ),
            (
                "/q?latitude=10&longitude=20&floor=",
                &[("latitude", "10"), ("longitude", "20"), ("floor", "")],
            ),
            ("/q?a=1+2&b=%41", &[("a", "1 2"), ("b", "A")]),
            ("/q?a=1&a=2", &[("a", "2")]),
            ("/q?a=1&&b=2", &[("a", "1&"), ("b", "2")]),
            ("/q?a=1&", &[("a", "1")]),
            ("/q?flag", &[("null", "null&flag")]),
            ("/q?x=a=b", &[("x", "a=b")]),
            ("/q", &[]),
            ("/q?", &[("null", "null&")]),
        ];
        for (input, expected) in cases {
            let got = split_query_params(input).unwrap_or_default();
            let got: Vec<(&str, &str)> =
                got.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            assert_eq!(&got, expected, "query of {input:?}");
        }
        assert!(split_query_params("/q?a=%zz").is_err());
    }
}
