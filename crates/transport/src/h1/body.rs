//! A sans-I/O body framer for the Conflux HTTP/1 engine: it follows a message body delimited by
//! `Content-Length`, by chunks, or by the connection's close, and tells the driver which bytes of
//! what arrived are payload. The driver forwards payload bytes where they lie in its read buffer
//! and writes the framing itself: a fixed-length body as it came, a chunked one with canonical
//! chunk-size lines (the client's chunk extensions and trailer fields belong to its hop and are
//! dropped, as the hyper path drops them: hyper 1.x writes trailer fields only when the head
//! declares them in `Trailer`, which is hop-by-hop and removed; `proto/h1/encode.rs`
//! `encode_trailers`), and a close-delimited response re-framed chunked.
//!
//! Chunk syntax is that of [`crate::framing`]'s scanner (RFC 9112 §7.1): hex digits, then an
//! optional extension after `;` or whitespace, CRLF; data; CRLF. Anything else, including a
//! size that overflows 64 bits or a bare LF, is a [`BodyError`].

use std::ops::Range;

use super::head::Framing;

/// Longest chunk-size line, extensions included (hyper caps extensions per body at 16 KiB; one
/// line never needs more than this).
pub const MAX_CHUNK_LINE_BYTES: usize = 4096;
/// Most bytes of trailer fields after the last chunk (dropped, but read to find the end).
pub const MAX_TRAILER_BYTES: usize = 16 * 1024;
/// The last chunk and the empty trailer section that end a chunked body.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Why a body cannot be followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("invalid chunk size line")]
    ChunkSize,
    #[error("chunk size line longer than {MAX_CHUNK_LINE_BYTES} bytes")]
    ChunkLineTooLong,
    #[error("chunk data not followed by CRLF")]
    ChunkEnd,
    #[error("invalid trailer section")]
    Trailer,
    #[error("trailer section longer than {MAX_TRAILER_BYTES} bytes")]
    TrailersTooLarge,
    #[error("the body ended before its framing said")]
    Truncated,
}

/// The result of one [`BodyFramer::decode`] step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Bytes of the input used (framing and payload).
    pub consumed: usize,
    /// Payload within the input (possibly empty), ending at `consumed`.
    pub data: Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Length(u64),
    Size {
        value: u64,
        digits: usize,
        extension: bool,
        line: usize,
    },
    SizeLf(u64),
    Data(u64),
    DataCr,
    DataLf,
    TrailerLineStart(usize),
    TrailerLine(usize),
    TrailerLineLf(usize),
    TrailerEndLf,
    UntilClose,
    Done,
}

/// Follows one body; see the module docs.
#[derive(Debug, Clone)]
pub struct BodyFramer {
    state: State,
}

const CHUNK_SIZE_START: State = State::Size {
    value: 0,
    digits: 0,
    extension: false,
    line: 0,
};

impl BodyFramer {
    /// A framer at the start of a body framed as `framing`.
    pub fn new(framing: Framing) -> Self {
        let state = match framing {
            Framing::Empty | Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => CHUNK_SIZE_START,
            Framing::UntilClose => State::UntilClose,
        };
        Self { state }
    }

    /// True once the body's last byte has been seen.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Payload bytes still expected, when the framing says so (`Content-Length` bodies).
    pub fn remaining(&self) -> Option<u64> {
        match self.state {
            State::Length(n) => Some(n),
            State::Done => Some(0),
            _ => None,
        }
    }

    /// The end of the input: fine for a close-delimited body, otherwise the body was cut.
    ///
    /// # Errors
    /// [`BodyError::Truncated`] when more was expected.
    pub fn finish(&mut self) -> Result<(), BodyError> {
        match self.state {
            State::UntilClose | State::Done => {
                self.state = State::Done;
                Ok(())
            }
            _ => Err(BodyError::Truncated),
        }
    }

    /// Reads framing from the start of `input` up to and including the next run of payload.
    /// Call again with the rest of the input until it is used up or the body is done; bytes
    /// after the body's end are not consumed.
    ///
    /// # Errors
    /// The framing is broken; the body cannot be followed further.
    pub fn decode(&mut self, input: &[u8]) -> Result<Decoded, BodyError> {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::Done => break,
                State::UntilClose => {
                    return Ok(Decoded {
                        consumed: input.len(),
                        data: i..input.len(),
                    });
                }
                State::Length(left) | State::Data(left) => {
                    let take = usize::try_from(left)
                        .unwrap_or(usize::MAX)
                        .min(input.len() - i);
                    let rest = left - take as u64;
                    self.state = match (self.state, rest) {
                        (State::Length(_), 0) => State::Done,
                        (State::Length(_), n) => State::Length(n),
                        (_, 0) => State::DataCr,
                        (_, n) => State::Data(n),
                    };
                    return Ok(Decoded {
                        consumed: i + take,
                        data: i..i + take,
                    });
                }
                _ => {
                    self.step(input[i])?;
                    i += 1;
                }
            }
        }
        Ok(Decoded {
            consumed: i,
            data: i..i,
        })
    }

    fn step(&mut self, byte: u8) -> Result<(), BodyError> {
        self.state = match self.state {
            State::Size {
                value,
                digits,
                extension,
                line,
            } => {
                if line + 1 > MAX_CHUNK_LINE_BYTES && byte != b'\r' {
                    return Err(BodyError::ChunkLineTooLong);
                }
                match byte {
                    b'\r' if digits > 0 => State::SizeLf(value),
                    b'\n' => return Err(BodyError::ChunkSize),
                    _ if extension => State::Size {
                        value,
                        digits,
                        extension,
                        line: line + 1,
                    },
                    b';' | b' ' | b'\t' if digits > 0 => State::Size {
                        value,
                        digits,
                        extension: true,
                        line: line + 1,
                    },
                    _ => {
                        let digit = (byte as char).to_digit(16).ok_or(BodyError::ChunkSize)?;
                        let value = value
                            .checked_mul(16)
                            .and_then(|v| v.checked_add(u64::from(digit)))
                            .ok_or(BodyError::ChunkSize)?;
                        State::Size {
                            value,
                            digits: digits + 1,
                            extension,
                            line: line + 1,
                        }
                    }
                }
            }
            State::SizeLf(value) => match (byte, value) {
                (b'\n', 0) => State::TrailerLineStart(0),
                (b'\n', n) => State::Data(n),
                _ => return Err(BodyError::ChunkSize),
            },
            State::DataCr if byte == b'\r' => State::DataLf,
            State::DataLf if byte == b'\n' => CHUNK_SIZE_START,
            State::DataCr | State::DataLf => return Err(BodyError::ChunkEnd),
            State::TrailerLineStart(total) => match byte {
                b'\r' => State::TrailerEndLf,
                b'\n' | b' ' | b'\t' => return Err(BodyError::Trailer),
                _ => trailer_byte(total)?,
            },
            State::TrailerLine(total) => match byte {
                b'\r' => match trailer_byte(total)? {
                    State::TrailerLine(total) => State::TrailerLineLf(total),
                    other => other,
                },
                b'\n' => return Err(BodyError::Trailer),
                _ => trailer_byte(total)?,
            },
            State::TrailerLineLf(total) if byte == b'\n' => State::TrailerLineStart(total),
            State::TrailerEndLf if byte == b'\n' => State::Done,
            State::TrailerLineLf(_) | State::TrailerEndLf => return Err(BodyError::Trailer),
            State::Length(_) | State::Data(_) | State::UntilClose | State::Done => self.state,
        };
        Ok(())
    }
}

fn trailer_byte(total: usize) -> Result<State, BodyError> {
    if total + 1 > MAX_TRAILER_BYTES {
        return Err(BodyError::TrailersTooLarge);
    }
    Ok(State::TrailerLine(total + 1))
}

/// Appends the chunk-size line for `len` payload bytes (`len` > 0) to `out`.
pub fn chunk_header(len: usize, out: &mut Vec<u8>) {
    use std::io::Write as _;
    let _ = write!(out, "{len:x}\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a framer over `parts` in order, re-encoding chunked payload canonically; returns the
    /// payload, the bytes not consumed after the body, and the verdict.
    fn run(framing: Framing, parts: &[&[u8]]) -> (Vec<u8>, Vec<u8>, Result<bool, BodyError>) {
        let mut framer = BodyFramer::new(framing);
        let mut payload = Vec::new();
        let mut rest = Vec::new();
        for part in parts {
            let mut at = 0;
            while at < part.len() && !framer.is_done() {
                match framer.decode(&part[at..]) {
                    Ok(step) => {
                        payload.extend_from_slice(&part[at..][step.data]);
                        at += step.consumed;
                    }
                    Err(e) => return (payload, rest, Err(e)),
                }
            }
            rest.extend_from_slice(&part[at..]);
        }
        (payload, rest, Ok(framer.is_done()))
    }

    #[test]
    fn fixed_length_stops_at_its_end() {
        let (payload, rest, done) = run(Framing::Length(3), &[b"abcGET /"]);
        assert_eq!(
            (payload.as_slice(), rest.as_slice(), done),
            (&b"abc"[..], &b"GET /"[..], Ok(true))
        );
        let (_, _, done) = run(Framing::Length(4), &[b"abc"]);
        assert_eq!(done, Ok(false));
        assert!(BodyFramer::new(Framing::Empty).is_done());
    }

    #[test]
    fn chunked_payload_extensions_and_trailers() {
        let body = b"3;name=value\r\nabc\r\n2 ;x\r\nde\r\n0\r\nT: v\r\nU: w\r\n\r\nNEXT";
        let (payload, rest, done) = run(Framing::Chunked, &[body]);
        assert_eq!(payload, b"abcde");
        assert_eq!(rest, b"NEXT");
        assert_eq!(done, Ok(true));
    }

    #[test]
    fn broken_chunks_are_errors() {
        let cases: [(&[u8], BodyError); 8] = [
            (b"0x5\r\nabcde\r\n0\r\n\r\n", BodyError::ChunkSize),
            (b"-5\r\n", BodyError::ChunkSize),
            (b"fffffffffffffffff\r\n", BodyError::ChunkSize),
            (b"5\nabcde\r\n", BodyError::ChunkSize),
            (b"5\rabcde\r\n", BodyError::ChunkSize),
            (b"3\r\nabcd\r\n", BodyError::ChunkEnd),
            (b"\r\n", BodyError::ChunkSize),
            (b"0\r\nT: v\n\r\n", BodyError::Trailer),
        ];
        for (input, error) in cases {
            assert_eq!(
                run(Framing::Chunked, &[input]).2,
                Err(error),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn chunk_line_and_trailer_caps_hold_one_past_the_limit() {
        let line = |len: usize| format!("1;{}\r\nx\r\n0\r\n\r\n", "e".repeat(len - 2));
        assert_eq!(
            run(Framing::Chunked, &[line(MAX_CHUNK_LINE_BYTES).as_bytes()]).2,
            Ok(true)
        );
        assert_eq!(
            run(
                Framing::Chunked,
                &[line(MAX_CHUNK_LINE_BYTES + 1).as_bytes()]
            )
            .2,
            Err(BodyError::ChunkLineTooLong)
        );
        // Trailer bytes count every byte of every line, CR included.
        let trailers = |len: usize| format!("0\r\nT:{}\r\n\r\n", "v".repeat(len - 3));
        assert_eq!(
            run(Framing::Chunked, &[trailers(MAX_TRAILER_BYTES).as_bytes()]).2,
            Ok(true)
        );
        assert_eq!(
            run(
                Framing::Chunked,
                &[trailers(MAX_TRAILER_BYTES + 1).as_bytes()]
            )
            .2,
            Err(BodyError::TrailersTooLarge)
        );
    }

    #[test]
    fn close_delimited_takes_everything_until_the_end() {
        let mut framer = BodyFramer::new(Framing::UntilClose);
        assert_eq!(framer.decode(b"abc").unwrap().data, 0..3);
        assert_eq!(framer.finish(), Ok(()));
        assert!(framer.is_done());
        let mut cut = BodyFramer::new(Framing::Length(2));
        assert_eq!(cut.finish(), Err(BodyError::Truncated));
    }

    /// Payload, leftover and verdict do not depend on how the bytes arrive: every split point,
    /// and one byte at a time.
    #[test]
    fn results_do_not_depend_on_read_boundaries() {
        let inputs: [(Framing, &[u8]); 5] = [
            (Framing::Length(5), b"helloGET"),
            (
                Framing::Chunked,
                b"3;x=\"y\"\r\nabc\r\nA\r\n0123456789\r\n0\r\nT: v\r\n\r\nX",
            ),
            (Framing::Chunked, b"3\r\nabc\r\n0x\r\n"),
            (Framing::Chunked, b"2\r\nabc\r\n"),
            (Framing::Chunked, b"0\r\nA: b\r\n c\r\n\r\n"),
        ];
        for (framing, input) in inputs {
            let whole = run(framing, &[input]);
            let bytes: Vec<&[u8]> = input.chunks(1).collect();
            assert_eq!(
                run(framing, &bytes),
                whole,
                "{}",
                String::from_utf8_lossy(input)
            );
            for split in 1..input.len() {
                let (a, b) = input.split_at(split);
                assert_eq!(run(framing, &[a, b]), whole, "split at {split}");
            }
        }
    }

    #[test]
    fn chunk_headers_are_lower_hex() {
        let mut out = Vec::new();
        chunk_header(255, &mut out);
        chunk_header(1, &mut out);
        assert_eq!(out, b"ff\r\n1\r\n");
    }
}
