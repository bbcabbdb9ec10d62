//! The pieces of the Java runtime whose exact behaviour Synapse expressions show: `Double.toString`,
//! `Integer/Long/Double.parseX`, `BigDecimal` arithmetic as BinaryOperationNode uses it (exact sums,
//! differences and products; division rounded HALF_UP to the dividend's scale; remainders),
//! `Matcher.appendReplacement`/`replaceFirst` replacement strings, `Charset.forName` for the
//! charsets MI installs, `URLEncoder`/`URLDecoder`, and `String.split`'s rules around empty
//! strings. Strings are measured in UTF-16 code units where Java does (`length`, `charAt`,
//! `indexOf`, `subString`).

use std::cmp::Ordering;

/// Java `Double.toString(d)` (JDK 19+ shortest representation): plain notation for
/// 1e-3 <= |d| < 1e7 with at least one fraction digit (`5.0`, `0.001`), otherwise computerized
/// scientific notation (`1.0E7`, `1.0E-4`); `NaN`, `Infinity`, `-0.0`.
pub(crate) fn double_to_string(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sign = if d.is_sign_negative() { "-" } else { "" };
    if d == 0.0 {
        return format!("{sign}0.0");
    }
    // Rust's `{:e}` gives the shortest round-tripping digits: "d.ddde<exp>". When that is one
    // digit, Java picks the two-digit decimal closest to the value (4.9E-324, not 5.0E-324).
    let mut formatted = format!("{:e}", d.abs());
    if !formatted.contains('.') {
        let two = format!("{:.1e}", d.abs());
        if two.parse::<f64>() == Ok(d.abs()) {
            formatted = two;
        }
    }
    let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let abs = d.abs();
    if (1e-3..1e7).contains(&abs) {
        if exponent >= 0 {
            let point = exponent as usize + 1;
            let (int_part, frac_part) = if digits.len() > point {
                (digits[..point].to_string(), digits[point..].to_string())
            } else {
                (
                    format!("{digits}{}", "0".repeat(point - digits.len())),
                    String::new(),
                )
            };
            let frac_part = if frac_part.is_empty() {
                "0".to_string()
            } else {
                frac_part
            };
            format!("{sign}{int_part}.{frac_part}")
        } else {
            let zeros = "0".repeat((-exponent - 1) as usize);
            format!("{sign}0.{zeros}{digits}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exponent}")
    }
}

/// Java `Integer.parseInt(s)`: an optional sign and ASCII digits, in range.
pub(crate) fn parse_int(s: &str) -> Option<i32> {
    parse_long(s).and_then(|v| i32::try_from(v).ok())
}

/// Java `Long.parseLong(s)`.
pub(crate) fn parse_long(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.strip_prefix('+').unwrap_or(s).parse::<i64>().ok()
}

/// Java `Double.parseDouble(s)` (FloatingDecimal.readJavaFormatString): surrounding characters
/// <= U+0020 trimmed, an optional sign, `NaN`, `Infinity`, decimal digits with an optional point
/// and exponent, an optional `f`/`F`/`d`/`D` suffix, or a hexadecimal float (`0x1.8p1`).
pub(crate) fn parse_double(s: &str) -> Option<f64> {
    let s = s.trim_matches(|c: char| c <= ' ');
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let sign = if negative { -1.0 } else { 1.0 };
    if body == "NaN" {
        return Some(f64::NAN);
    }
    if body == "Infinity" {
        return Some(sign * f64::INFINITY);
    }
    if body.starts_with("0x") || body.starts_with("0X") {
        return parse_hex_double(&body[2..]).map(|v| sign * v);
    }
    let body = body.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(body);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
        || (int_part.is_empty() && frac_part.is_empty())
    {
        return None;
    }
    if let Some(exponent) = exponent {
        let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let normal = format!(
        "{}{}.{}e{}",
        if negative { "-" } else { "" },
        if int_part.is_empty() { "0" } else { int_part },
        if frac_part.is_empty() { "0" } else { frac_part },
        exponent.unwrap_or("0")
    );
    normal.parse::<f64>().ok()
}

fn parse_hex_double(s: &str) -> Option<f64> {
    let s = s.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(s);
    let (mantissa, exponent) = s.split_once(['p', 'P'])?;
    let exponent: i32 = exponent
        .strip_prefix('+')
        .unwrap_or(exponent)
        .parse()
        .ok()?;
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in int_part.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        value += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    Some(value * 2f64.powi(exponent))
}

/// Java `Math.round(double)` (floor(x + 0.5) without the double-rounding error), as a long.
pub(super) fn math_round(d: f64) -> i64 {
    if d.is_nan() {
        return 0;
    }
    let floor = d.floor();
    let rounded = if d - floor >= 0.5 { floor + 1.0 } else { floor };
    rounded as i64
}

/// Java `Math.pow` (differs from C's `pow` for a NaN exponent and for ±1 to an infinite power).
pub(super) fn math_pow(a: f64, b: f64) -> f64 {
    if b.is_nan() || (a.abs() == 1.0 && b.is_infinite()) {
        return if b == 0.0 { 1.0 } else { f64::NAN };
    }
    a.powf(b)
}

// ---------------------------------------------------------------------------------------------
// BigDecimal, as far as BinaryOperationNode and ExpressionUtils.round need it.

/// An exact decimal number: `(-1)^negative * digits * 10^-scale`, `digits` little-endian base 10.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    scale: i64,
}

/// Largest power of ten a scale difference may ask for (exponents of doubles stay far below).
const MAX_DECIMAL_DIGITS: i64 = 4096;

impl Decimal {
    /// `new BigDecimal(String)`: `[sign] digits [. digits] [e|E [sign] digits]`; None where Java
    /// throws NumberFormatException (`NaN`, `Infinity`, empty).
    pub(super) fn parse(s: &str) -> Option<Decimal> {
        let (negative, body) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], body[i + 1..].parse::<i64>().ok()?),
            None => (body, 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if (int_part.is_empty() && frac_part.is_empty())
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
            || exponent.unsigned_abs() > MAX_DECIMAL_DIGITS as u64
        {
            return None;
        }
        let digits: Vec<u8> = int_part
            .bytes()
            .chain(frac_part.bytes())
            .rev()
            .map(|b| b - b'0')
            .collect();
        Some(
            Decimal {
                negative,
                digits: trim(digits),
                scale: frac_part.len() as i64 - exponent,
            }
            .normalize_zero(),
        )
    }

    fn normalize_zero(mut self) -> Decimal {
        if self.digits.is_empty() {
            self.negative = false;
        }
        self
    }

    fn scaled_to(&self, scale: i64) -> Vec<u8> {
        shift(&self.digits, scale - self.scale)
    }

    pub(super) fn add(&self, other: &Decimal) -> Decimal {
        let scale = self.scale.max(other.scale);
        let a = self.scaled_to(scale);
        let b = other.scaled_to(scale);
        let (negative, digits) = if self.negative == other.negative {
            (self.negative, add_mag(&a, &b))
        } else {
            match cmp_mag(&a, &b) {
                Ordering::Less => (other.negative, sub_mag(&b, &a)),
                _ => (self.negative, sub_mag(&a, &b)),
            }
        };
        Decimal {
            negative,
            digits,
            scale,
        }
        .normalize_zero()
    }

    pub(super) fn negate(&self) -> Decimal {
        Decimal {
            negative: !self.negative,
            ..self.clone()
        }
        .normalize_zero()
    }

    pub(super) fn subtract(&self, other: &Decimal) -> Decimal {
        self.add(&other.negate())
    }

    pub(super) fn multiply(&self, other: &Decimal) -> Decimal {
        Decimal {
            negative: self.negative != other.negative,
            digits: mul_mag(&self.digits, &other.digits),
            scale: self.scale + other.scale,
        }
        .normalize_zero()
    }

    /// `this.divide(divisor, RoundingMode.HALF_UP)`: the quotient at this number's scale; None
    /// for a zero divisor.
    pub(super) fn divide_half_up(&self, divisor: &Decimal) -> Option<Decimal> {
        if divisor.digits.is_empty() {
            return None;
        }
        // q = A * 10^sb / B at scale sa.
        let (numerator, denominator) = if divisor.scale >= 0 {
            (shift(&self.digits, divisor.scale), divisor.digits.clone())
        } else {
            (self.digits.clone(), shift(&divisor.digits, -divisor.scale))
        };
        let (quotient, remainder) = divmod_mag(&numerator, &denominator);
        let twice = add_mag(&remainder, &remainder);
        let quotient = if cmp_mag(&twice, &denominator) != Ordering::Less {
            add_mag(&quotient, &[1])
        } else {
            quotient
        };
        Some(
            Decimal {
                negative: self.negative != divisor.negative,
                digits: quotient,
                scale: self.scale,
            }
            .normalize_zero(),
        )
    }

    /// `this.remainder(divisor)`: `this - trunc(this / divisor) * divisor`, the sign of this.
    pub(super) fn remainder(&self, divisor: &Decimal) -> Option<Decimal> {
        if divisor.digits.is_empty() {
            return None;
        }
        let scale = self.scale.max(divisor.scale);
        let (_, remainder) = divmod_mag(&self.scaled_to(scale), &divisor.scaled_to(scale));
        Some(
            Decimal {
                negative: self.negative,
                digits: remainder,
                scale,
            }
            .normalize_zero(),
        )
    }

    /// `setScale(scale, RoundingMode.HALF_UP)`.
    pub(super) fn set_scale_half_up(&self, scale: i64) -> Decimal {
        if scale >= self.scale {
            return Decimal {
                digits: self.scaled_to(scale),
                scale,
                ..self.clone()
            };
        }
        let divisor = shift(&[1], self.scale - scale);
        let (quotient, remainder) = divmod_mag(&self.digits, &divisor);
        let twice = add_mag(&remainder, &remainder);
        let quotient = if cmp_mag(&twice, &divisor) != Ordering::Less {
            add_mag(&quotient, &[1])
        } else {
            quotient
        };
        Decimal {
            negative: self.negative,
            digits: quotient,
            scale,
        }
        .normalize_zero()
    }

    /// `doubleValue()`, correctly rounded.
    pub(super) fn to_f64(&self) -> f64 {
        if self.digits.is_empty() {
            return 0.0;
        }
        let digits: String = self
            .digits
            .iter()
            .rev()
            .map(|d| char::from(b'0' + d))
            .collect();
        let text = format!(
            "{}{}e{}",
            if self.negative { "-" } else { "" },
            digits,
            -self.scale
        );
        text.parse().unwrap_or(f64::NAN)
    }
}

fn trim(mut digits: Vec<u8>) -> Vec<u8> {
    while digits.last() == Some(&0) {
        digits.pop();
    }
    digits
}

/// `digits * 10^by` (by >= 0; a negative shift never happens for aligned scales).
fn shift(digits: &[u8], by: i64) -> Vec<u8> {
    if digits.is_empty() {
        return Vec::new();
    }
    let by = by.clamp(0, MAX_DECIMAL_DIGITS * 2) as usize;
    let mut out = vec![0; by];
    out.extend_from_slice(digits);
    out
}

fn cmp_mag(a: &[u8], b: &[u8]) -> Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.iter().rev().cmp(b.iter().rev()))
}

fn add_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let mut carry = 0;
    for i in 0..a.len().max(b.len()) {
        let sum = a.get(i).copied().unwrap_or(0) + b.get(i).copied().unwrap_or(0) + carry;
        out.push(sum % 10);
        carry = sum / 10;
    }
    if carry > 0 {
        out.push(carry);
    }
    trim(out)
}

/// a - b for a >= b.
fn sub_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let mut borrow = 0i8;
    for (i, &digit) in a.iter().enumerate() {
        let mut d = digit as i8 - b.get(i).copied().unwrap_or(0) as i8 - borrow;
        if d < 0 {
            d += 10;
            borrow = 1;
        } else {
            borrow = 0;
        }
        out.push(d as u8);
    }
    trim(out)
}

fn mul_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let mut acc = vec![0u32; a.len() + b.len()];
    for (i, &x) in a.iter().enumerate() {
        for (j, &y) in b.iter().enumerate() {
            acc[i + j] += u32::from(x) * u32::from(y);
        }
    }
    let mut out = Vec::with_capacity(acc.len() + 1);
    let mut carry = 0u32;
    for v in acc {
        let total = v + carry;
        out.push((total % 10) as u8);
        carry = total / 10;
    }
    while carry > 0 {
        out.push((carry % 10) as u8);
        carry /= 10;
    }
    trim(out)
}

/// Long division of magnitudes: (quotient, remainder); `b` is not zero.
fn divmod_mag(a: &[u8], b: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut quotient = vec![0u8; a.len()];
    let mut remainder: Vec<u8> = Vec::new();
    for i in (0..a.len()).rev() {
        remainder.insert(0, a[i]);
        remainder = trim(remainder);
        let mut q = 0;
        while cmp_mag(&remainder, b) != Ordering::Less {
            remainder = sub_mag(&remainder, b);
            q += 1;
        }
        quotient[i] = q;
    }
    (trim(quotient), remainder)
}

// ---------------------------------------------------------------------------------------------
// Strings.

/// Java `String.length()`: UTF-16 code units.
pub(super) fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `s.substring(start, end)` in UTF-16 units (callers check the bounds); a split surrogate pair
/// becomes U+FFFD.
pub(super) fn utf16_substring(s: &str, start: usize, end: usize) -> String {
    let units: Vec<u16> = s.encode_utf16().collect();
    String::from_utf16_lossy(units.get(start..end).unwrap_or(&[]))
}

/// Java `String.indexOf(str, fromIndex)` in UTF-16 units.
pub(super) fn utf16_index_of(s: &str, needle: &str, from: i64) -> i32 {
    let hay: Vec<u16> = s.encode_utf16().collect();
    let needle: Vec<u16> = needle.encode_utf16().collect();
    let from = from.max(0) as usize;
    if from >= hay.len() {
        return if needle.is_empty() {
            hay.len() as i32
        } else {
            -1
        };
    }
    if needle.is_empty() {
        return from as i32;
    }
    (from..=hay.len().saturating_sub(needle.len()))
        .find(|&i| hay[i..].starts_with(&needle))
        .map_or(-1, |i| i as i32)
}

/// Java `String.trim()`: strips characters <= U+0020 at both ends.
pub(super) fn trim_java(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// Java `Matcher.appendReplacement` processing of a replacement string: `\x` is `x`, `$n` is group
/// `n` (the longest number that names a group), `${name}` a named group. Errors are the
/// IllegalArgumentException / IndexOutOfBoundsException Java throws.
pub(super) fn replacement(text: &str, groups: &[Option<&str>]) -> Result<String, String> {
    let group_count = groups.len().saturating_sub(1);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                let Some(&next) = chars.get(i + 1) else {
                    return Err("character to be escaped is missing".into());
                };
                out.push(next);
                i += 2;
            }
            '$' => {
                let Some(&next) = chars.get(i + 1) else {
                    return Err("Illegal group reference: group index is missing".into());
                };
                if next == '{' {
                    return Err("No group with name {".into());
                }
                let Some(first) = next.to_digit(10) else {
                    return Err("Illegal group reference".into());
                };
                let mut number = first as usize;
                if number > group_count {
                    return Err(format!("No group {number}"));
                }
                i += 2;
                while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                    let candidate = number * 10 + d as usize;
                    if candidate > group_count {
                        break;
                    }
                    number = candidate;
                    i += 1;
                }
                if let Some(Some(group)) = groups.get(number) {
                    out.push_str(group);
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Java `Matcher.quoteReplacement`.
pub(super) fn quote_replacement(s: &str) -> String {
    if !s.contains(['\\', '$']) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c == '\\' || c == '$' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Charsets.

/// The charsets `Charset.forName` resolves (the standard ones every JVM has), by canonical name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Charset {
    Utf8,
    UsAscii,
    Latin1,
    Utf16,
    Utf16Be,
    Utf16Le,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CharsetError {
    /// IllegalCharsetNameException (not caught by MI).
    IllegalName(String),
    /// UnsupportedCharsetException.
    Unsupported(String),
}

/// `Charset.forName(name)`: case-insensitive names and the JDK's aliases of the standard charsets.
pub(super) fn charset_for_name(name: &str) -> Result<Charset, CharsetError> {
    let legal = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | ':' | '_' | '.'));
    if !legal {
        return Err(CharsetError::IllegalName(name.to_string()));
    }
    let lower = name.to_ascii_lowercase();
    Ok(match lower.as_str() {
        "utf-8" | "utf8" | "unicode-1-1-utf-8" => Charset::Utf8,
        "us-ascii" | "ascii" | "iso646-us" | "iso_646.irv:1991" | "ascii7" | "646" | "us"
        | "default" | "cp367" | "csascii" | "ibm367" | "iso-ir-6" => Charset::UsAscii,
        "iso-8859-1" | "iso8859_1" | "iso8859-1" | "iso_8859-1" | "latin1" | "l1" | "ibm819"
        | "cp819" | "csisolatin1" | "819" | "iso-ir-100" | "iso_8859_1" | "8859_1" => {
            Charset::Latin1
        }
        "utf-16" | "utf_16" | "utf16" | "unicode" => Charset::Utf16,
        "utf-16be" | "utf_16be" | "iso-10646-ucs-2" | "unicodebigunmarked" | "x-utf-16be" => {
            Charset::Utf16Be
        }
        "utf-16le" | "utf_16le" | "unicodelittleunmarked" | "x-utf-16le" => Charset::Utf16Le,
        _ => return Err(CharsetError::Unsupported(name.to_string())),
    })
}

/// `String.getBytes(charset)`; unmappable characters become `?` as Java's encoder replaces them.
pub(super) fn encode(s: &str, charset: Charset) -> Vec<u8> {
    match charset {
        Charset::Utf8 => s.as_bytes().to_vec(),
        Charset::UsAscii => s
            .chars()
            .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
            .collect(),
        Charset::Latin1 => s
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect(),
        Charset::Utf16 => {
            let mut out = vec![0xFE, 0xFF];
            out.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
            out
        }
        Charset::Utf16Be => s.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        Charset::Utf16Le => s.encode_utf16().flat_map(u16::to_le_bytes).collect(),
    }
}

/// `URLEncoder.encode(s, charset)`: `a-z A-Z 0-9 . - * _` kept, space as `+`, every other run of
/// characters encoded in the charset and written as `%XX`.
pub(super) fn url_encode(s: &str, charset: Charset) -> String {
    let keep = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '*' | '_');
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        for b in encode(run, charset) {
            out.push_str(&format!("%{b:02X}"));
        }
        run.clear();
    };
    for c in s.chars() {
        if keep(c) || c == ' ' {
            flush(&mut run, &mut out);
            out.push(if c == ' ' { '+' } else { c });
        } else {
            run.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// `URLDecoder.decode(s, "UTF-8")`: `+` is a space, runs of `%XX` are UTF-8 bytes (malformed ones
/// become U+FFFD); Err for an incomplete or non-hex escape (IllegalArgumentException).
pub(super) fn url_decode(s: &str) -> Result<String, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '+' => {
                out.push(' ');
                i += 1;
            }
            '%' => {
                let mut bytes = Vec::new();
                while i < chars.len() && chars[i] == '%' {
                    if i + 2 >= chars.len() {
                        return Err("URLDecoder: Incomplete trailing escape (%) pattern".into());
                    }
                    let hex: String = chars[i + 1..i + 3].iter().collect();
                    let value = java_parse_hex_byte(&hex)?;
                    bytes.push(value);
                    i += 3;
                }
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// `Integer.parseInt(hex, 16)` of a two-character escape as URLDecoder checks it.
fn java_parse_hex_byte(hex: &str) -> Result<u8, String> {
    let digits = hex.strip_prefix(['+', '-']).unwrap_or(hex);
    let value = if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_hexdigit()) {
        i64::from_str_radix(digits, 16).ok()
    } else {
        None
    };
    match value {
        Some(v) if hex.starts_with('-') && v != 0 => {
            Err("URLDecoder: Illegal hex characters in escape (%) pattern - negative value".into())
        }
        Some(v) => u8::try_from(v).map_err(|_| "URLDecoder: Illegal hex value".to_string()),
        None => Err(format!(
            "URLDecoder: Illegal hex characters in escape (%) pattern - Error at index 0 in: \"{hex}\""
        )),
    }
}

/// Java `String.split(regex)` (limit 0) with the pattern compiled by the `regex` crate: a
/// zero-width match at the start gives no leading empty string, no match gives the whole input,
/// and trailing empty strings are removed. Err when the pattern does not compile (Java throws
/// PatternSyntaxException for invalid patterns; Conflux also for Java-only features such as
/// look-around and back-references).
pub(super) fn split(s: &str, pattern: &str) -> Result<Vec<String>, String> {
    let re = regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("invalid or unsupported regular expression {pattern:?}: {e}"))?;
    let mut parts = Vec::new();
    let mut index = 0;
    let mut matched = false;
    for m in re.find_iter(s) {
        if index == 0 && m.start() == 0 && m.end() == 0 {
            continue;
        }
        parts.push(s[index..m.start()].to_string());
        index = m.end();
        matched = true;
    }
    if !matched {
        return Ok(vec![s.to_string()]);
    }
    parts.push(s[index..].to_string());
    while parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_java_does() {
        for (d, text) in [
            (5.0, "5.0"),
            (0.001, "0.001"),
            (1.0e-4, "1.0E-4"),
            (2.0e9, "2.0E9"),
            (1.0e7, "1.0E7"),
            (9999999.0, "9999999.0"),
            (17.94, "17.94"),
            (-4.0, "-4.0"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (1.234e-5, "1.234E-5"),
            (123456.789, "123456.789"),
            (1.0e21, "1.0E21"),
            (4.9e-324, "4.9E-324"),
            (0.1 + 0.2, "0.30000000000000004"),
        ] {
            assert_eq!(double_to_string(d), text, "{d}");
        }
    }

    #[test]
    fn java_number_parsing() {
        assert_eq!(parse_int("400"), Some(400));
        assert_eq!(parse_int("+7"), Some(7));
        assert_eq!(parse_int("007"), Some(7));
        assert_eq!(parse_int("-2147483648"), Some(i32::MIN));
        assert_eq!(parse_int("2147483648"), None);
        assert_eq!(parse_long("2147483648"), Some(2_147_483_648));
        assert_eq!(parse_int(" 1"), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("-"), None);
        assert_eq!(parse_double("1e5"), Some(100000.0));
        assert_eq!(parse_double(" 12 "), Some(12.0));
        assert_eq!(parse_double("12d"), Some(12.0));
        assert_eq!(parse_double(".5"), Some(0.5));
        assert_eq!(parse_double("1."), Some(1.0));
        assert_eq!(parse_double("-Infinity"), Some(f64::NEG_INFINITY));
        assert!(parse_double("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_double("0x1.8p1"), Some(3.0));
        assert_eq!(parse_double("0x10"), None);
        assert_eq!(parse_double("."), None);
        assert_eq!(parse_double("1e"), None);
        assert_eq!(parse_double("abc"), None);
        assert_eq!(parse_double("1,5"), None);
    }

    #[test]
    fn math_round_and_pow_follow_java() {
        assert_eq!(math_round(-2.5), -2);
        assert_eq!(math_round(2.5), 3);
        assert_eq!(math_round(0.49999999999999994), 0);
        assert_eq!(math_round(f64::NAN), 0);
        assert_eq!(math_round(1e30), i64::MAX);
        assert!(math_pow(1.0, f64::NAN).is_nan());
        assert!(math_pow(-1.0, f64::INFINITY).is_nan());
        assert_eq!(math_pow(f64::NAN, 0.0), 1.0);
        assert_eq!(math_pow(2.0, -2.0), 0.25);
    }

    fn dec(s: &str) -> Decimal {
        Decimal::parse(s).expect(s)
    }

    #[test]
    fn decimal_arithmetic_is_exact_and_divides_at_the_dividend_scale() {
        assert_eq!(dec("8.95").add(&dec("8.99")).to_f64(), 17.94);
        assert_eq!(dec("8.9567").subtract(&dec("8.9456")).to_f64(), 0.0111);
        assert_eq!(dec("72.0").multiply(&dec("1.032145")).to_f64(), 74.31444);
        let divide = |a: &str, b: &str| dec(a).divide_half_up(&dec(b)).map(|d| d.to_f64());
        assert_eq!(divide("34.45", "3.44"), Some(10.01));
        assert_eq!(divide("1.5", "4.0"), Some(0.4));
        assert_eq!(divide("1.0", "3.0"), Some(0.3));
        assert_eq!(divide("100.0", "10.0"), Some(10.0));
        assert_eq!(divide("5.0", "-2.5"), Some(-2.0));
        assert_eq!(divide("2.0E9", "3.0"), Some(7.0e8));
        assert_eq!(divide("1.0E-4", "3.0"), Some(3.0e-5));
        assert_eq!(divide("1.0", "0.0"), None);
        let rem = |a: &str, b: &str| dec(a).remainder(&dec(b)).map(|d| d.to_f64());
        assert_eq!(rem("34.56", "3.45"), Some(0.06));
        assert_eq!(rem("5.5", "3.0"), Some(2.5));
        assert_eq!(rem("-5.5", "3.0"), Some(-2.5));
        assert_eq!(rem("5.5", "3.5"), Some(2.0));
        let round = |a: &str, n: i64| dec(a).set_scale_half_up(n).to_f64();
        assert_eq!(round("0.115", 2), 0.12);
        assert_eq!(round("9.01", 1), 9.0);
        assert_eq!(round("0.111", 4), 0.111);
        assert_eq!(round("-0.125", 2), -0.13);
        assert!(Decimal::parse("NaN").is_none());
        assert!(Decimal::parse("Infinity").is_none());
        assert!(Decimal::parse("").is_none());
        assert!(Decimal::parse("1e-9223372036854775808").is_none());
        assert_eq!(dec("1.7976931348623157E308").to_f64(), f64::MAX);
        assert_eq!(
            dec("1.7976931348623157E308")
                .subtract(&dec("4.9E-324"))
                .to_f64(),
            f64::MAX
        );
    }

    #[test]
    fn utf16_string_functions() {
        assert_eq!(utf16_len("a😀"), 3);
        assert_eq!(utf16_substring("Lahiru", 2, 4), "hi");
        assert_eq!(utf16_substring("😀", 0, 1), "\u{FFFD}");
        assert_eq!(utf16_index_of("Hello World", "l", 5), 9);
        assert_eq!(utf16_index_of("Hello World", "l", 50), -1);
        assert_eq!(utf16_index_of("abc", "", 50), 3);
        assert_eq!(utf16_index_of("abc", "c", -5), 2);
        assert_eq!(trim_java("\u{1} a \n"), "a");
    }

    #[test]
    fn replacement_strings_follow_append_replacement() {
        let groups = [Some("whole"), Some("one"), None, Some("three")];
        assert_eq!(replacement(r"a\$b\\c", &groups).as_deref(), Ok(r"a$b\c"));
        assert_eq!(
            replacement("<$1|$2|$3>", &groups).as_deref(),
            Ok("<one||three>")
        );
        assert_eq!(replacement("$12", &groups).as_deref(), Ok("one2"));
        assert!(replacement("$9", &groups).is_err());
        assert!(replacement("$x", &groups).is_err());
        assert!(replacement("a\\", &groups).is_err());
        assert!(replacement("$", &groups).is_err());
        assert!(replacement("${a}", &groups).is_err());
        assert_eq!(quote_replacement(r"a$b\c"), r"a\$b\\c");
        for s in ["plain", r"C:\dir", "cost $5", r"\$\\"] {
            assert_eq!(
                replacement(&quote_replacement(s), &[Some("")]).as_deref(),
                Ok(s)
            );
        }
    }

    #[test]
    fn charsets_and_url_coding() {
        assert_eq!(charset_for_name("UTF-8"), Ok(Charset::Utf8));
        assert_eq!(charset_for_name("utf8"), Ok(Charset::Utf8));
        assert_eq!(charset_for_name("Latin1"), Ok(Charset::Latin1));
        assert!(matches!(
            charset_for_name("UTF-99"),
            Err(CharsetError::Unsupported(_))
        ));
        assert!(matches!(
            charset_for_name("UTF 8"),
            Err(CharsetError::IllegalName(_))
        ));
        assert!(matches!(
            charset_for_name(""),
            Err(CharsetError::IllegalName(_))
        ));
        assert_eq!(encode("é", Charset::Latin1), [0xE9]);
        assert_eq!(encode("é", Charset::UsAscii), b"?");
        assert_eq!(encode("a", Charset::Utf16), [0xFE, 0xFF, 0, 0x61]);
        assert_eq!(
            url_encode("Hello World *~é", Charset::Utf8),
            "Hello+World+*%7E%C3%A9"
        );
        assert_eq!(url_encode("é", Charset::Latin1), "%E9");
        assert_eq!(
            url_decode("Hello+World%26%C3%A9").as_deref(),
            Ok("Hello World&é")
        );
        assert_eq!(url_decode("%ZZ").map_err(|_| ()), Err(()));
        assert_eq!(url_decode("100%").map_err(|_| ()), Err(()));
        assert_eq!(url_decode("%4").map_err(|_| ()), Err(()));
        assert_eq!(url_decode("%-1").map_err(|_| ()), Err(()));
        assert_eq!(url_decode("%C3").as_deref(), Ok("\u{FFFD}"));
    }

    #[test]
    fn split_follows_java_string_split() {
        let split = |s: &str, p: &str| split(s, p).expect("valid");
        assert_eq!(
            split("Split a string by spaces and,comma", "[, ]"),
            ["Split", "a", "string", "by", "spaces", "and", "comma"]
        );
        assert_eq!(split(" Moon Mars ", ","), [" Moon Mars "]);
        assert_eq!(split("a,b,,", ","), ["a", "b"]);
        assert_eq!(split(",a", ","), ["", "a"]);
        assert_eq!(split("abc", ""), ["a", "b", "c"]);
        assert_eq!(split("", ","), [""]);
        assert_eq!(split(",,", ","), Vec::<String>::new());
        assert!(super::split("a", "(").is_err());
        assert!(super::split("a", "(?=a)").is_err());
    }
}
