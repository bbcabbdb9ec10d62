//! How the engine writes header lines on: as hyper writes an http `HeaderMap` entry
//! (`name: value\r\n`, the name lower-case), received lines copied as they are where they
//! already read that way, and lines that lie next to each other in the received head copied in
//! one run instead of one copy each (issue 22: a copy per line, with its checks, cost about 150
//! instructions).

use std::ops::Range;

use super::HeaderEdit;
use super::head::HeaderLine;

/// Copies received header lines of one buffer to an output, adjacent ones in one copy.
///
/// The buffer's header names must be lower-case already ([`lowercase_names`]): a run is copied
/// as its bytes stand.
pub(crate) struct LineRuns<'b> {
    buf: &'b [u8],
    /// The received bytes not yet copied (empty: none).
    run: Range<usize>,
}

impl<'b> LineRuns<'b> {
    pub(crate) fn new(buf: &'b [u8]) -> Self {
        Self { buf, run: 0..0 }
    }

    /// Writes the received `line` after what was written before (in one run with the line
    /// before it when that one ends where this one starts).
    #[inline]
    pub(crate) fn push(&mut self, out: &mut Vec<u8>, line: &HeaderLine) {
        if !written_as_received(self.buf, line) {
            self.flush(out);
            push_line(
                out,
                &self.buf[line.name.clone()],
                &self.buf[line.value.clone()],
            );
        } else if !self.run.is_empty() && self.run.end == line.line.start {
            self.run.end = line.line.end;
        } else {
            self.flush(out);
            self.run = line.line.clone();
        }
    }

    /// Writes `name: value` (not received) after what was written before.
    pub(crate) fn push_value(&mut self, out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
        self.flush(out);
        push_line(out, name, value);
    }

    /// Writes the value an edit set, if any.
    pub(crate) fn push_edit(&mut self, out: &mut Vec<u8>, edit: &HeaderEdit) {
        if let Some(value) = &edit.value {
            self.push_value(out, edit.name.as_str().as_bytes(), value.as_bytes());
        }
    }

    /// Copies the pending run: call before writing anything else to `out`, and at the end.
    pub(crate) fn flush(&mut self, out: &mut Vec<u8>) {
        if !self.run.is_empty() {
            out.extend_from_slice(&self.buf[self.run.clone()]);
            self.run = 0..0;
        }
    }
}

/// Whether the received `line` already reads `name: value\r\n` (most lines do), so that its
/// bytes go out as they are.
#[inline]
fn written_as_received(buf: &[u8], line: &HeaderLine) -> bool {
    // Byte by byte: a slice comparison calls `bcmp` for two bytes.
    line.value.start == line.name.end + 2
        && line.line.end == line.value.end + 2
        && buf.get(line.name.end + 1) == Some(&b' ')
        && buf.get(line.value.end) == Some(&b'\r')
}

/// Appends `name: value` as hyper writes a header-map entry: the name lower-case (http
/// `HeaderName` keeps names lower-case; no case is preserved on either hop).
pub(crate) fn push_line(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    // Copied, then lower-cased in place (a byte-by-byte push costs several times more).
    let start = out.len();
    out.extend_from_slice(name);
    lowercase_ascii(&mut out[start..]);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Lower-cases the names of `lines` in `buf`, where they were received (the head's bytes are
/// the engine's own, and every later reader of a name compares it ignoring case).
pub(crate) fn lowercase_names(buf: &mut [u8], lines: &[HeaderLine]) {
    for line in lines {
        lowercase_ascii(&mut buf[line.name.clone()]);
    }
}

/// `make_ascii_lowercase`, eight bytes at a time (header names are a few words long; byte by
/// byte it was the larger part of copying a line). The last window overlaps the one before it
/// rather than leaving a tail to do byte by byte: lower-casing a byte twice changes nothing.
/// Exact for every byte value: only `A`-`Z` change.
pub(crate) fn lowercase_ascii(bytes: &mut [u8]) {
    let len = bytes.len();
    if len >= 8 {
        let mut at = 0;
        while at + 8 < len {
            lowercase_window::<8>(&mut bytes[at..at + 8]);
            at += 8;
        }
        lowercase_window::<8>(&mut bytes[len - 8..]);
    } else if len >= 4 {
        lowercase_window::<4>(&mut bytes[..4]);
        lowercase_window::<4>(&mut bytes[len - 4..]);
    } else {
        bytes.make_ascii_lowercase();
    }
}

/// Whether `name`, lower-cased, is `lower` (a lower-case name, as the names the engine tells
/// apart are written), compared a word at a time as [`lowercase_ascii`] lower-cases: the same
/// answer as `eq_ignore_ascii_case` for such a `lower`, which compared byte by byte cost about a
/// quarter of a thousand instructions per exchange (issue 22).
#[inline]
pub(crate) fn eq_lowercase(name: &[u8], lower: &[u8]) -> bool {
    debug_assert!(!lower.iter().any(u8::is_ascii_uppercase));
    let len = name.len();
    if len != lower.len() {
        return false;
    }
    let same = |at: usize, n| lowercase_word(word_at(name, at, n)) == word_at(lower, at, n);
    if len >= 8 {
        let mut at = 0;
        while at + 8 < len {
            if !same(at, 8) {
                return false;
            }
            at += 8;
        }
        same(len - 8, 8)
    } else if len >= 4 {
        same(0, 4) && same(len - 4, 4)
    } else {
        name.eq_ignore_ascii_case(lower)
    }
}

/// The `n` (4 or 8) bytes of `bytes` from `at` as a word, zero above them.
#[inline]
fn word_at(bytes: &[u8], at: usize, n: usize) -> u64 {
    let mut word = [0; 8];
    word[..n].copy_from_slice(&bytes[at..at + n]);
    u64::from_ne_bytes(word)
}

/// Lower-cases the `N` (at most 8) bytes of `window` as one word.
#[inline]
fn lowercase_window<const N: usize>(window: &mut [u8]) {
    let lowered = lowercase_word(word_at(window, 0, N)).to_ne_bytes();
    window[..N].copy_from_slice(&lowered[..N]);
}

/// Each byte of `word` lower-cased: `A`-`Z` get the 0x20 bit, every other byte stays.
fn lowercase_word(word: u64) -> u64 {
    const LOW_SEVEN: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Per byte, on its low seven bits (no carry leaves a byte): the high bit is set when the
    // bits are >= 'A', and when they are > 'Z'.
    let low = word & LOW_SEVEN;
    let from_a = low + ONES * u64::from(0x80 - b'A');
    let past_z = low + ONES * u64::from(0x80 - b'Z' - 1);
    // Upper case: >= 'A', not > 'Z', and the byte's own high bit clear.
    let upper = from_a & !past_z & !word & HIGH;
    word | (upper >> 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercased_exactly_as_byte_by_byte_at_every_position() {
        for value in 0..=255u8 {
            for at in 0..8 {
                let mut bytes = *b"aZ~@[`{M";
                bytes[at] = value;
                let mut expected = bytes;
                expected.make_ascii_lowercase();
                let word = lowercase_word(u64::from_ne_bytes(bytes));
                assert_eq!(word.to_ne_bytes(), expected, "byte {value:#04x} at {at}");
            }
        }
    }

    #[test]
    fn lowercase_comparison_is_eq_ignore_ascii_case_for_lower_case_names() {
        let lower: &[&[u8]] = &[
            b"",
            b"a",
            b"te",
            b"abc",
            b"host",
            b"date",
            b"expect",
            b"trailer",
            b"upgrade",
            b"x-8bytes",
            b"connection",
            b"keep-alive",
            b"content-length",
            b"proxy-connection",
            b"transfer-encoding",
            b"proxy-authenticate",
            b"proxy-authorization",
        ];
        for &known in lower {
            // Every byte value at every position, and every length around it.
            for at in 0..known.len() {
                for value in 0..=255u8 {
                    let mut name = known.to_vec();
                    name[at] = value;
                    assert_eq!(
                        eq_lowercase(&name, known),
                        name.eq_ignore_ascii_case(known),
                        "{name:?} against {known:?}"
                    );
                }
            }
            let upper = known.to_ascii_uppercase();
            assert!(eq_lowercase(&upper, known));
            for other in lower {
                assert_eq!(eq_lowercase(other, known), *other == known);
            }
            let mut longer = known.to_vec();
            longer.push(b'a');
            assert!(!eq_lowercase(&longer, known));
        }
    }

    #[test]
    fn slices_of_every_length_are_lowercased_whole() {
        let text = b"Content-Type-X-Forwarded-For-\xc3\x84BC-\xffZ";
        for len in 0..=text.len() {
            let mut bytes = text[..len].to_vec();
            let mut expected = bytes.clone();
            expected.make_ascii_lowercase();
            lowercase_ascii(&mut bytes);
            assert_eq!(bytes, expected, "length {len}");
        }
    }
}
