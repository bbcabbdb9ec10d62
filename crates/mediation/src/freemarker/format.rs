//! How FreeMarker (2.3.30, MI's configuration: `en_US`, no output format) writes numbers and
//! escapes strings: the default `number` format (`#,##0.###`, half-even), `?c`, simple
//! `DecimalFormat` patterns for `?string("0.00")`, and the `?json_string`, `?js_string`,
//! `?xml`/`?html` and `?url` escapes.

/// `${n}` and `n?string`: Java's `NumberFormat.getNumberInstance(Locale.US)`, i.e. the pattern
/// `#,##0.###` with half-even rounding (why MI users write `?c` for JSON numbers).
pub fn number(n: f64) -> String {
    decimal(n, 1, 0, 3, true)
}

/// `n?c`: the computer format: no grouping, up to 16 fraction digits, never an exponent.
pub fn computer(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "INF" } else { "-INF" }.into();
    }
    decimal(n, 1, 0, 16, false)
}

/// A Java `DecimalFormat` pattern of the common shapes (`0.00`, `#,##0.##`, `000`), with an
/// optional literal prefix and suffix; `None` for a pattern this subset does not read.
pub fn pattern(n: f64, pattern: &str) -> Option<String> {
    match pattern {
        "number" | "" => return Some(number(n)),
        "computer" | "c" => return Some(computer(n)),
        _ => {}
    }
    let body_start = pattern.find(['0', '#', ',', '.'])?;
    let body_end = pattern.rfind(['0', '#', ',', '.'])? + 1;
    let (prefix, body, suffix) = (
        &pattern[..body_start],
        &pattern[body_start..body_end],
        &pattern[body_end..],
    );
    if prefix.contains(['\'', ';', '%', '\u{2030}', '\u{a4}', 'E'])
        || suffix.contains(['\'', ';', '%', '\u{2030}', '\u{a4}', 'E'])
    {
        return None;
    }
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    if frac_part.contains(',') || !int_part.chars().all(|c| matches!(c, '0' | '#' | ',')) {
        return None;
    }
    let min_int = int_part.chars().filter(|c| *c == '0').count();
    let min_frac = frac_part.chars().take_while(|c| *c == '0').count();
    let max_frac = frac_part.chars().filter(|c| matches!(c, '0' | '#')).count();
    if frac_part.chars().any(|c| !matches!(c, '0' | '#')) {
        return None;
    }
    let grouping = int_part.contains(',');
    let text = decimal(n, min_int, min_frac, max_frac, grouping);
    Some(format!("{prefix}{text}{suffix}"))
}

/// `n` with `min_int` integer digits at least, `min_frac..=max_frac` fraction digits (half-even)
/// and optional groups of three.
fn decimal(n: f64, min_int: usize, min_frac: usize, max_frac: usize, grouping: bool) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "\u{221e}" } else { "-\u{221e}" }.into();
    }
    // The shortest digits that read back as `n` (what Java's formatting starts from).
    let plain = format!("{}", n.abs());
    let (int_digits, frac_digits) = plain.split_once('.').unwrap_or((&plain, ""));
    let mut digits: Vec<u8> = int_digits
        .bytes()
        .chain(frac_digits.bytes())
        .map(|b| b - b'0')
        .collect();
    let mut int_len = int_digits.len();
    if frac_digits.len() > max_frac
        && crate::xpath::functions::round_digits_half_even(&mut digits, int_len + max_frac)
    {
        int_len += 1;
    }
    let (int_part, frac_part) = digits.split_at(int_len);
    let mut frac: Vec<u8> = frac_part.to_vec();
    while frac.len() > min_frac && frac.last() == Some(&0) {
        frac.pop();
    }
    while frac.len() < min_frac {
        frac.push(0);
    }
    let mut int: Vec<u8> = int_part.to_vec();
    while int.len() > min_int && int.first() == Some(&0) {
        int.remove(0);
    }
    while int.len() < min_int {
        int.insert(0, 0);
    }
    let negative = n < 0.0 && (int.iter().chain(frac.iter()).any(|d| *d != 0));
    let mut out = String::with_capacity(int.len() + frac.len() + 8);
    if negative {
        out.push('-');
    }
    for (i, d) in int.iter().enumerate() {
        if grouping && i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push((b'0' + d) as char);
    }
    if !frac.is_empty() {
        out.push('.');
        out.extend(frac.iter().map(|d| (b'0' + d) as char));
    }
    out
}

/// `?json_string`: a JSON string's content (no quotes) as FreeMarker escapes it.
pub fn json_string(s: &str) -> String {
    escape_js_like(s, false)
}

/// `?js_string` (and `?j_string`): JavaScript string content.
pub fn js_string(s: &str) -> String {
    escape_js_like(s, true)
}

/// FreeMarker's `jsStringEnc`: quotes, backslash and control characters; `<` before `/` or `!`
/// and `>` after `]]` or `--`, so that the text can sit in HTML `<script>` or XML CDATA.
fn escape_js_like(s: &str, js: bool) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let after = |a: char| i >= 2 && chars[i - 1] == a && chars[i - 2] == a;
        match c {
            '"' => out.push_str("\\\""),
            '\'' if js => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' if matches!(next, Some('/' | '!')) => {
                out.push_str(if js { "\\x3C" } else { "\\u003C" })
            }
            '>' if after(']') || after('-') => out.push_str(if js { "\\x3E" } else { "\\u003E" }),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                if js && (c as u32) < 0x100 {
                    out.push_str(&format!("\\x{:02X}", c as u32))
                } else {
                    out.push_str(&format!("\\u{:04X}", c as u32))
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// `?xml` and `?html` (FreeMarker 2.3.24+ escapes the apostrophe in both).
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `?url`: UTF-8 percent-encoding of everything but `A-Za-z0-9` and `_-.!~*'()`.
pub fn url(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"_-.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Apache commons `StringEscapeUtils.escapeXml11`, which MI applies to a text payload before
/// handing it to the template (FreeMarkerTemplateProcessor.getTextValue).
pub fn escape_xml11(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\u{0}' | '\u{fffe}' | '\u{ffff}' => {}
            c if matches!(c as u32, 0x1..=0x8 | 0xb | 0xc | 0xe..=0x1f | 0x7f..=0x84 | 0x86..=0x9f) => {
                out.push_str(&format!("&#{};", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_en_us_number_format() {
        assert_eq!(number(23.0), "23");
        assert_eq!(number(1234567.0), "1,234,567");
        assert_eq!(number(-1234.5678), "-1,234.568");
        assert_eq!(number(0.0005), "0");
        // Half-even: 0.0125 -> 0.012, 0.0135 -> 0.014.
        assert_eq!(number(2.0125), "2.012");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(999.9999), "1,000");
    }

    #[test]
    fn computer_format() {
        assert_eq!(computer(1234567.0), "1234567");
        assert_eq!(computer(1.5), "1.5");
        assert_eq!(computer(-0.25), "-0.25");
        assert_eq!(computer(1e21), "1000000000000000000000");
    }

    #[test]
    fn decimal_patterns() {
        assert_eq!(pattern(2.71555, "0.00").as_deref(), Some("2.72"));
        assert_eq!(pattern(3.0, "0.00").as_deref(), Some("3.00"));
        assert_eq!(pattern(1234.5, "#,##0.00").as_deref(), Some("1,234.50"));
        assert_eq!(pattern(7.0, "000").as_deref(), Some("007"));
        assert_eq!(pattern(0.5, "#.#").as_deref(), Some(".5"));
        assert_eq!(pattern(12.0, "$0.00 USD").as_deref(), Some("$12.00 USD"));
        assert_eq!(pattern(1.0, "0.0E0"), None);
        assert_eq!(pattern(1.0, "0%"), None);
    }

    #[test]
    fn escapes() {
        assert_eq!(
            json_string("a\"b\\c\n</x> ]]>"),
            "a\\\"b\\\\c\\n\\u003C/x> ]]\\u003E"
        );
        assert_eq!(js_string("it's \"x\""), "it\\'s \\\"x\\\"");
        assert_eq!(
            xml("<a href='x'>&</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(url("a b/é"), "a%20b%2F%C3%A9");
        assert_eq!(escape_xml11("a<'b'>\u{1}"), "a&lt;&apos;b&apos;&gt;&#1;");
    }
}
