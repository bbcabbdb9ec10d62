//! Request and response heads of the Conflux HTTP/1 engine, parsed with `httparse` in place: the
//! parser records where each header line, name and value lie in the connection's read buffer
//! (ranges, no copies), so that the driver can forward the raw head bytes and edit only what it
//! must (hop-by-hop lines, `Host`).
//!
//! Verdicts are those of the hyper path, by construction: the framing rules are
//! [`RequestFramingScanner`]'s own (run over the head bytes, so the same [`FramingViolation`]),
//! then hyper's refusals (its parser is `httparse` with the same defaults: 400 for a malformed
//! line or an unsupported version, 431 beyond the head size or header count caps) and the
//! listener's [`validate_request`](crate::headers::validate_request) Host rules. The driver does
//! not answer a [`Refusal`] itself: it hands the connection to hyper, which answers as it always
//! has; the verdict only tells it that the request is not one it forwards directly.

use std::mem::MaybeUninit;
use std::ops::Range;

use super::lines::eq_lowercase;
use crate::framing::{FramingViolation, RequestFramingScanner};
use crate::headers::RequestRejection;

/// Most headers the in-place parser holds; a head with more is left to hyper (which counts
/// against the listener's own `max_headers`).
pub const HEAD_PARSE_CAPACITY: usize = 128;

/// Most headers a backend response head may carry (hyper's client default is 100).
pub const MAX_RESPONSE_HEADERS: usize = 100;

/// Largest backend response head, in bytes (hyper's client read buffer default is ~400 KiB; a
/// head this large is not one a pass-through forwards in one piece).
pub const MAX_RESPONSE_HEAD_BYTES: usize = 64 * 1024;

/// Why a request head is not accepted as it stands: the status hyper answers it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A request-smuggling shape ([`crate::framing`]); 400 and close.
    #[error(transparent)]
    Framing(#[from] FramingViolation),
    /// Not a valid request line or header line (hyper: `Parse::Method`/`Uri`/`Header`); 400.
    #[error("malformed request head: {0}")]
    Malformed(&'static str),
    /// A version other than HTTP/1.0 and HTTP/1.1 (hyper: `Parse::Version`); 400.
    #[error("unsupported HTTP version")]
    Version,
    /// The head is larger than the listener's cap (hyper: `Parse::TooLarge`); 431.
    #[error("request head larger than {0} bytes")]
    TooLarge(usize),
    /// More headers than the listener's cap (hyper: `Parse::TooLarge`); 431.
    #[error("request has more than {0} headers")]
    TooManyHeaders(usize),
    /// The listener's Host and Expect rules ([`crate::headers::validate_request`]).
    #[error(transparent)]
    Rejected(#[from] RequestRejection),
}

impl Refusal {
    /// The status hyper (or the listener) answers this refusal with.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::TooLarge(_) | Refusal::TooManyHeaders(_) => 431,
            Refusal::Rejected(r) => r.status().as_u16(),
            _ => 400,
        }
    }
}

/// How a message body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the connection closes (responses only).
    UntilClose,
}

/// What a header means to the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKind {
    Host,
    ContentLength,
    TransferEncoding,
    Connection,
    /// Never forwarded (RFC 9110 §7.6.1): `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`,
    /// `Upgrade`, `Proxy-Authorization`, `Proxy-Authenticate`.
    HopByHop,
    Expect,
    Date,
    Other,
}

/// One header line of a parsed head, as ranges into the buffer it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderLine {
    /// The whole line with its CRLF.
    pub line: Range<usize>,
    pub name: Range<usize>,
    pub value: Range<usize>,
    pub kind: HeaderKind,
}

/// What `Connection` says, and whether it names anything besides `close` and `keep-alive`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionOptions {
    pub close: bool,
    pub keep_alive: bool,
    /// Another option: a header named by it is hop-by-hop too.
    pub other: bool,
}

/// A parsed request head (ranges into the read buffer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHead {
    /// Bytes of the head from the buffer's start, final CRLF included (leading empty lines too).
    pub len: usize,
    pub method: Range<usize>,
    pub target: Range<usize>,
    /// HTTP/1.1 (otherwise HTTP/1.0).
    pub http11: bool,
    pub headers: Vec<HeaderLine>,
    pub host: Option<Range<usize>>,
    pub framing: Option<Framing>,
    pub connection: ConnectionOptions,
    pub expect: bool,
    pub upgrade: bool,
}

impl RequestHead {
    /// Whether the client's connection stays open after this exchange (RFC 9112 §9.3).
    pub fn keep_alive(&self) -> bool {
        if self.http11 {
            !self.connection.close
        } else {
            self.connection.keep_alive && !self.connection.close
        }
    }

    /// The body framing (no body when no length or coding was given).
    pub fn body(&self) -> Framing {
        self.framing.unwrap_or(Framing::Empty)
    }
}

/// A parsed backend response head (ranges into the backend read buffer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHead {
    pub len: usize,
    pub status: u16,
    pub http11: bool,
    /// From the status line's start to its CRLF (exclusive).
    pub status_line: Range<usize>,
    pub headers: Vec<HeaderLine>,
    pub content_length: Option<u64>,
    pub chunked: bool,
    pub connection: ConnectionOptions,
    pub has_date: bool,
}

impl ResponseHead {
    /// The body framing of this response to a request (`head_request`: the method was HEAD)
    /// (RFC 9112 §6.3).
    pub fn framing(&self, head_request: bool) -> Framing {
        if head_request || self.status < 200 || self.status == 204 || self.status == 304 {
            return Framing::Empty;
        }
        if self.chunked {
            Framing::Chunked
        } else if let Some(n) = self.content_length {
            if n == 0 {
                Framing::Empty
            } else {
                Framing::Length(n)
            }
        } else {
            Framing::UntilClose
        }
    }

    /// Whether the backend connection may carry another request after this response.
    pub fn reusable(&self, framing: Framing) -> bool {
        framing != Framing::UntilClose
            && !self.connection.close
            && (self.http11 || self.connection.keep_alive)
    }
}

/// Why a backend response head is not forwarded (the client gets 502).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResponseHeadError {
    #[error("malformed response head: {0}")]
    Malformed(&'static str),
    #[error("response head larger than {MAX_RESPONSE_HEAD_BYTES} bytes")]
    TooLarge,
    #[error("response has both Content-Length and Transfer-Encoding")]
    LengthWithCoding,
    #[error("response Content-Length is not a single valid length")]
    InvalidContentLength,
    #[error("response Transfer-Encoding is not chunked")]
    UnsupportedCoding,
    #[error("101 Switching Protocols without an upgrade request")]
    SwitchingProtocols,
}

/// The names the driver tells apart, with their kinds ([`kind_of`] is checked against it).
#[cfg(test)]
const KINDS: [(&[u8], HeaderKind); 13] = [
    (b"host", HeaderKind::Host),
    (b"content-length", HeaderKind::ContentLength),
    (b"transfer-encoding", HeaderKind::TransferEncoding),
    (b"connection", HeaderKind::Connection),
    (b"keep-alive", HeaderKind::HopByHop),
    (b"proxy-connection", HeaderKind::HopByHop),
    (b"te", HeaderKind::HopByHop),
    (b"trailer", HeaderKind::HopByHop),
    (b"upgrade", HeaderKind::HopByHop),
    (b"proxy-authorization", HeaderKind::HopByHop),
    (b"proxy-authenticate", HeaderKind::HopByHop),
    (b"expect", HeaderKind::Expect),
    (b"date", HeaderKind::Date),
];

/// The kind of the header `name` ([`KINDS`], ASCII case-insensitive): by length first, so that
/// most names are told `Other` without a comparison, and each comparison a word at a time
/// against a literal (every line of every head comes here).
fn kind_of(name: &[u8]) -> HeaderKind {
    let is = |known: &[u8]| eq_lowercase(name, known);
    match name.len() {
        2 if is(b"te") => HeaderKind::HopByHop,
        4 if is(b"host") => HeaderKind::Host,
        4 if is(b"date") => HeaderKind::Date,
        6 if is(b"expect") => HeaderKind::Expect,
        7 if is(b"trailer") || is(b"upgrade") => HeaderKind::HopByHop,
        10 if is(b"connection") => HeaderKind::Connection,
        10 if is(b"keep-alive") => HeaderKind::HopByHop,
        14 if is(b"content-length") => HeaderKind::ContentLength,
        16 if is(b"proxy-connection") => HeaderKind::HopByHop,
        17 if is(b"transfer-encoding") => HeaderKind::TransferEncoding,
        18 if is(b"proxy-authenticate") => HeaderKind::HopByHop,
        19 if is(b"proxy-authorization") => HeaderKind::HopByHop,
        _ => HeaderKind::Other,
    }
}

/// Whether `value` is a `Host` the listener's rule (`headers::is_valid_host`) accepts without
/// parsing it (which copies it into a buffer of its own): a name of letters, digits, dots and
/// hyphens, with a port of one to five digits or none. Others are parsed.
fn plain_host(value: &[u8]) -> bool {
    let (name, port) = match value.iter().position(|b| *b == b':') {
        Some(colon) => (&value[..colon], Some(&value[colon + 1..])),
        None => (value, None),
    };
    !name.is_empty()
        && name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'-')
        && port
            .is_none_or(|port| (1..=5).contains(&port.len()) && port.iter().all(u8::is_ascii_digit))
}

/// Offset of `part` (a slice of `buf`) in `buf`.
fn offset_in(buf: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize).saturating_sub(buf.as_ptr() as usize)
}

/// The end (after LF) of the line holding `from` (the head is known to use CRLF endings).
fn line_end(buf: &[u8], from: usize) -> usize {
    // Most lines: `from` is the end of a value, at its CRLF.
    if buf.get(from) == Some(&b'\r') && buf.get(from + 1) == Some(&b'\n') {
        return from + 2;
    }
    buf[from..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(buf.len(), |i| from + i + 1)
}

fn connection_options(value: &[u8], into: &mut ConnectionOptions) {
    // Most values are a single option, told apart without splitting.
    if eq_lowercase(value, b"keep-alive") {
        into.keep_alive = true;
        return;
    }
    if eq_lowercase(value, b"close") {
        into.close = true;
        return;
    }
    for token in value.split(|b| *b == b',') {
        let token = token.trim_ascii();
        if token.is_empty() {
            continue;
        }
        if eq_lowercase(token, b"close") {
            into.close = true;
        } else if eq_lowercase(token, b"keep-alive") {
            into.keep_alive = true;
        } else {
            into.other = true;
        }
    }
}

fn records(
    buf: &[u8],
    parsed: &[httparse::Header<'_>],
    into: &mut Vec<HeaderLine>,
) -> Result<(), &'static str> {
    into.clear();
    for header in parsed {
        if header.name.is_empty() {
            return Err("empty header name");
        }
        let name = offset_in(buf, header.name.as_bytes());
        let value = offset_in(buf, header.value);
        let line_end = line_end(buf, value + header.value.len());
        into.push(HeaderLine {
            line: name..line_end,
            name: name..name + header.name.len(),
            value: value..value + header.value.len(),
            kind: kind_of(header.name.as_bytes()),
        });
    }
    Ok(())
}

/// Parses request heads into reused storage; see the module docs.
#[derive(Debug)]
pub struct RequestParser {
    max_head_bytes: usize,
    max_headers: usize,
    head: RequestHead,
}

impl RequestParser {
    /// A parser with the listener's head size and header count caps.
    pub fn new(max_head_bytes: usize, max_headers: usize) -> Self {
        Self {
            max_head_bytes,
            max_headers,
            head: RequestHead::default(),
        }
    }

    /// The head parsed last.
    pub fn head(&self) -> &RequestHead {
        &self.head
    }

    /// Parses the request head at the start of `buf` (which may hold body bytes and more
    /// requests after it). `Ok(None)`: the head is not complete yet.
    ///
    /// # Errors
    /// The [`Refusal`] hyper's path answers this head with.
    pub fn parse(&mut self, buf: &[u8]) -> Result<Option<&RequestHead>, Refusal> {
        self.parse_judged(buf, |_| false)
    }

    /// [`RequestParser::parse`] for a reader behind the listener's framing scanner: a complete
    /// head whose request line starts at an offset in `buf` that `judged` says the scanner
    /// already accepted whole is not scanned a second time (the scan was half of the parse's
    /// cost). Any other head is judged here, as `parse` judges it.
    ///
    /// # Errors
    /// As [`RequestParser::parse`].
    pub fn parse_judged(
        &mut self,
        buf: &[u8],
        judged: impl FnOnce(usize) -> bool,
    ) -> Result<Option<&RequestHead>, Refusal> {
        let capacity = self.max_headers.min(HEAD_PARSE_CAPACITY);
        // Left uninitialised: httparse writes the headers it parses (filling 128 empty ones
        // first cost more than parsing a small head).
        let mut storage =
            [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; HEAD_PARSE_CAPACITY];
        let mut request = httparse::Request::new(&mut []);
        // `Request::parse`'s configuration: the default.
        let parsed = httparse::ParserConfig::default().parse_request_with_uninit_headers(
            &mut request,
            buf,
            &mut storage[..capacity],
        );
        // The framing verdict comes first, on exactly the bytes of this head (or of everything
        // received when it is not complete), as the listener's scanner judges them.
        let prejudged = match (&parsed, request.method) {
            (Ok(httparse::Status::Complete(_)), Some(method)) => {
                judged(offset_in(buf, method.as_bytes()))
            }
            _ => false,
        };
        if !prejudged {
            let head_bytes = match &parsed {
                Ok(httparse::Status::Complete(len)) => &buf[..*len],
                _ => &buf[..head_end(buf).unwrap_or(buf.len())],
            };
            RequestFramingScanner::new().scan(head_bytes)?;
        }
        let len = match parsed {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => {
                if buf.len() >= self.max_head_bytes {
                    return Err(Refusal::TooLarge(self.max_head_bytes));
                }
                return Ok(None);
            }
            // The listener holds a head back until it has scanned all of it, and a framing
            // violation further on wins (400); only a whole head is refused for its count.
            Err(httparse::Error::TooManyHeaders) if head_end(buf).is_none() => {
                if buf.len() >= self.max_head_bytes {
                    return Err(Refusal::TooLarge(self.max_head_bytes));
                }
                return Ok(None);
            }
            Err(httparse::Error::TooManyHeaders) => {
                return Err(Refusal::TooManyHeaders(capacity));
            }
            Err(httparse::Error::Version) => return Err(Refusal::Version),
            Err(e) => return Err(Refusal::Malformed(parse_error(e))),
        };
        if len > self.max_head_bytes {
            return Err(Refusal::TooLarge(self.max_head_bytes));
        }
        let (Some(method), Some(target), Some(version)) =
            (request.method, request.path, request.version)
        else {
            return Err(Refusal::Malformed("incomplete request line"));
        };
        let head = &mut self.head;
        head.len = len;
        let method_at = offset_in(buf, method.as_bytes());
        head.method = method_at..method_at + method.len();
        let target_at = offset_in(buf, target.as_bytes());
        head.target = target_at..target_at + target.len();
        head.http11 = version == 1;
        records(buf, request.headers, &mut head.headers).map_err(Refusal::Malformed)?;
        head.host = None;
        head.framing = None;
        head.connection = ConnectionOptions::default();
        head.expect = false;
        head.upgrade = false;
        let mut hosts = 0;
        for line in &head.headers {
            let value = &buf[line.value.clone()];
            match line.kind {
                HeaderKind::Host => {
                    hosts += 1;
                    head.host = Some(line.value.clone());
                }
                HeaderKind::ContentLength => {
                    // The scanner accepted it: one decimal value.
                    let length = decimal_length(value.trim_ascii())
                        .ok_or(Refusal::Framing(FramingViolation::InvalidContentLength))?;
                    head.framing = Some(Framing::Length(length));
                }
                HeaderKind::TransferEncoding => head.framing = Some(Framing::Chunked),
                HeaderKind::Connection => connection_options(value, &mut head.connection),
                HeaderKind::Expect => head.expect = true,
                HeaderKind::HopByHop => {
                    if buf[line.name.clone()].eq_ignore_ascii_case(b"upgrade") {
                        head.upgrade = true;
                    }
                }
                HeaderKind::Date | HeaderKind::Other => {}
            }
        }
        if head.framing == Some(Framing::Length(0)) {
            head.framing = Some(Framing::Empty);
        }
        // The listener's own rules (headers.rs `validate_request`), in its order.
        if hosts > 1 {
            return Err(RequestRejection::MultipleHost.into());
        }
        if head.expect
            && head
                .headers
                .iter()
                .filter(|l| l.kind == HeaderKind::Expect)
                .any(|l| !buf[l.value.clone()].eq_ignore_ascii_case(b"100-continue"))
        {
            return Err(RequestRejection::UnsupportedExpectation.into());
        }
        if head.http11 && head.host.is_none() {
            return Err(RequestRejection::MissingHost.into());
        }
        if let Some(host) = &head.host
            && !plain_host(&buf[host.clone()])
            && !crate::headers::is_valid_host(&buf[host.clone()])
        {
            return Err(RequestRejection::InvalidHost.into());
        }
        Ok(Some(&self.head))
    }
}

/// Where the first head in `buf` ends (after its empty line) as the framing scanner delimits
/// it, if it is complete: a head the scanner accepts ends at its first CRLF CRLF after any
/// leading empty lines, and nothing after it may change the verdict on it.
fn head_end(buf: &[u8]) -> Option<usize> {
    let start = buf
        .iter()
        .position(|b| *b != b'\r' && *b != b'\n')
        .unwrap_or(buf.len());
    buf[start..]
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| start + at + 4)
}

/// `digits` as a length: one or more ASCII digits whose value fits a `u64` (what `u64`'s
/// `FromStr` accepts of digits alone), read without making a `str` of them first.
fn decimal_length(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |value, &b| {
        let digit = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        value.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

fn parse_error(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status",
        httparse::Error::Token => "invalid token",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "invalid version",
    }
}

/// Parses a backend response head at the start of `buf` into `head`. `Ok(false)`: not complete.
///
/// # Errors
/// What makes the response unfit to forward (the client gets 502, as hyper's client reports a
/// parse error or [`crate::client`] a framing fault).
pub fn parse_response(buf: &[u8], head: &mut ResponseHead) -> Result<bool, ResponseHeadError> {
    let mut storage =
        [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_RESPONSE_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    // `Response::parse`'s configuration (the default), into uninitialised storage.
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buf,
        &mut storage,
    );
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            return if buf.len() >= MAX_RESPONSE_HEAD_BYTES {
                Err(ResponseHeadError::TooLarge)
            } else {
                Ok(false)
            };
        }
        Err(e) => return Err(ResponseHeadError::Malformed(parse_error(e))),
    };
    if len > MAX_RESPONSE_HEAD_BYTES {
        return Err(ResponseHeadError::TooLarge);
    }
    let (Some(status), Some(version)) = (response.code, response.version) else {
        return Err(ResponseHeadError::Malformed("incomplete status line"));
    };
    head.len = len;
    head.status = status;
    head.http11 = version == 1;
    let start = buf
        .iter()
        .position(|b| *b != b'\r' && *b != b'\n')
        .unwrap_or(0);
    let end = line_end(buf, start);
    head.status_line = start..end.saturating_sub(2).max(start);
    records(buf, response.headers, &mut head.headers).map_err(ResponseHeadError::Malformed)?;
    head.content_length = None;
    head.chunked = false;
    head.connection = ConnectionOptions::default();
    head.has_date = false;
    let mut lengths = 0;
    let mut codings = 0;
    for line in &head.headers {
        let value = &buf[line.value.clone()];
        match line.kind {
            HeaderKind::ContentLength => {
                lengths += 1;
                let parsed = decimal_length(value.trim_ascii())
                    .ok_or(ResponseHeadError::InvalidContentLength)?;
                if head.content_length.is_some_and(|seen| seen != parsed) {
                    return Err(ResponseHeadError::InvalidContentLength);
                }
                head.content_length = Some(parsed);
            }
            HeaderKind::TransferEncoding => {
                codings += 1;
                let only_chunked = value
                    .split(|b| *b == b',')
                    .map(<[u8]>::trim_ascii)
                    .filter(|c| !c.is_empty())
                    .all(|c| c.eq_ignore_ascii_case(b"chunked"));
                if !only_chunked || codings > 1 {
                    return Err(ResponseHeadError::UnsupportedCoding);
                }
                head.chunked = true;
            }
            HeaderKind::Connection => connection_options(value, &mut head.connection),
            HeaderKind::Date => head.has_date = true,
            _ => {}
        }
    }
    if status == 101 {
        return Err(ResponseHeadError::SwitchingProtocols);
    }
    if lengths > 0 && codings > 0 {
        return Err(ResponseHeadError::LengthWithCoding);
    }
    Ok(true)
}

/// `shape` with byte `b` put at each `%s` (the byte-by-byte tests of the parsing shortcuts here
/// and in conn.rs).
#[cfg(test)]
pub(crate) fn with_byte(shape: &[u8], b: u8) -> Vec<u8> {
    shape
        .split(|c| *c == b'%')
        .enumerate()
        .flat_map(|(i, part)| {
            let mut v = if i == 0 { Vec::new() } else { vec![b] };
            v.extend_from_slice(part.strip_prefix(b"s").unwrap_or(part));
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &[u8]) -> Result<Option<RequestHead>, Refusal> {
        let mut parser = RequestParser::new(8 * 1024, 100);
        parser.parse(input).map(|h| h.cloned())
    }

    /// The shortcut never calls valid a `Host` the listener's rule refuses.
    #[test]
    fn plain_hosts_are_valid_hosts() {
        let mut plain = 0;
        for b in 0..=255u8 {
            for shape in [
                &b"a%s"[..],
                b"%sb.c",
                b"a.b:8%s",
                b"a:%s",
                b"%s:1",
                b"x%s:65535",
            ] {
                let host = with_byte(shape, b);
                if plain_host(&host) {
                    plain += 1;
                    assert!(crate::headers::is_valid_host(&host), "{host:?}");
                }
            }
        }
        assert!(plain > 100);
        for host in [
            &b"127.0.0.1:8280"[..],
            b"localhost",
            b"a-b.example.com:99999",
            b"a..b",
            b"-",
            b".:0",
        ] {
            assert!(plain_host(host) && crate::headers::is_valid_host(host));
        }
        for host in [
            &b""[..],
            b":80",
            b"a:",
            b"a:123456",
            b"[::1]:80",
            b"u@h",
            b"a b",
        ] {
            assert!(!plain_host(host), "{host:?}");
        }
    }

    /// The length-first lookup finds exactly what a search of the whole table finds.
    #[test]
    fn header_kinds_by_length_match_the_table() {
        let mut names: Vec<Vec<u8>> = KINDS.iter().map(|(n, _)| n.to_vec()).collect();
        names.extend(KINDS.iter().map(|(n, _)| n.to_ascii_uppercase()));
        names.extend(
            [
                &b"x"[..],
                b"",
                b"hosts",
                b"dates",
                b"tE",
                b"xe",
                b"content-type",
                b"content-lengthx",
                b"Proxy-Authorizatio",
                b"keep-alivE",
                b"upgradE",
            ]
            .iter()
            .map(|n| n.to_vec()),
        );
        for name in &names {
            let expected = KINDS
                .iter()
                .find(|(known, _)| known.eq_ignore_ascii_case(name))
                .map_or(HeaderKind::Other, |(_, kind)| *kind);
            assert_eq!(kind_of(name), expected, "{}", String::from_utf8_lossy(name));
        }
        for (known, kind) in KINDS {
            assert_eq!(kind_of(known), kind);
        }
    }

    #[test]
    fn a_plain_request_is_parsed_into_ranges() {
        let input = b"POST /a?b=1 HTTP/1.1\r\nHost: h:1\r\nContent-Length: 3\r\nConnection: keep-alive\r\nX-A:  v \r\n\r\nabcGET";
        let head = parse(input).unwrap().unwrap();
        assert_eq!(&input[head.method.clone()], b"POST");
        assert_eq!(&input[head.target.clone()], b"/a?b=1");
        assert!(head.http11 && head.keep_alive());
        assert_eq!(&input[head.host.clone().unwrap()], b"h:1");
        assert_eq!(head.body(), Framing::Length(3));
        assert_eq!(&input[head.len..], b"abcGET");
        let x = &head.headers[3];
        assert_eq!(&input[x.line.clone()], b"X-A:  v \r\n");
        assert_eq!(&input[x.value.clone()], b"v");
        assert_eq!(head.headers[2].kind, HeaderKind::Connection);
    }

    /// The framing verdicts are the scanner's (framing.rs), whatever httparse would say.
    #[test]
    fn framing_violations_are_the_scanners() {
        let cases: [(&[u8], FramingViolation); 6] = [
            (
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                FramingViolation::ContentLengthWithTransferEncoding,
            ),
            (b"GET / HTTP/1.1\nHost: a\r\n\r\n", FramingViolation::BareLineFeed),
            (
                b"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n",
                FramingViolation::ObsFold,
            ),
            (
                b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
                FramingViolation::MalformedHeaderLine,
            ),
            (b"GET /\r\n\r\n", FramingViolation::MissingVersion),
            (
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
                FramingViolation::DuplicateContentLength,
            ),
        ];
        for (input, violation) in cases {
            assert_eq!(
                parse(input),
                Err(Refusal::Framing(violation)),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn hypers_and_the_listeners_refusals() {
        let cases: [(&[u8], u16); 7] = [
            (b"G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (b"GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (b"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n", 417),
        ];
        for (input, status) in cases {
            let refusal = parse(input).expect_err(&String::from_utf8_lossy(input));
            assert_eq!(refusal.status(), status, "{refusal}");
        }
        assert!(parse(b"GET / HTTP/1.0\r\n\r\n").unwrap().is_some());
    }

    #[test]
    fn head_size_and_header_count_caps_are_431_one_past_the_limit() {
        let head_of = |headers: usize| {
            let mut h = String::from("GET / HTTP/1.1\r\nHost: a\r\n");
            for i in 1..headers {
                h.push_str(&format!("X-{i}: v\r\n"));
            }
            h.push_str("\r\n");
            h
        };
        let mut parser = RequestParser::new(8 * 1024, 10);
        assert!(parser.parse(head_of(10).as_bytes()).unwrap().is_some());
        assert_eq!(
            parser.parse(head_of(11).as_bytes()).unwrap_err().status(),
            431
        );
        let exact = head_of(1);
        let mut parser = RequestParser::new(exact.len(), 100);
        assert!(parser.parse(exact.as_bytes()).unwrap().is_some());
        let mut parser = RequestParser::new(exact.len() - 1, 100);
        assert_eq!(
            parser.parse(exact.as_bytes()).unwrap_err(),
            Refusal::TooLarge(exact.len() - 1)
        );
        // An incomplete head as large as the cap will not fit either.
        let partial = "GET / HTTP/1.1\r\nX: ".to_string() + &"v".repeat(100);
        let mut parser = RequestParser::new(partial.len(), 100);
        assert_eq!(parser.parse(partial.as_bytes()).unwrap_err().status(), 431);
    }

    /// The verdict and the parsed head do not depend on how much of the stream has arrived.
    #[test]
    fn results_do_not_depend_on_read_boundaries() {
        let inputs: [&[u8]; 6] = [
            b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
            b"\r\nGET / HTTP/1.1\r\nHost: h\r\nConnection: close, x\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"G@T / HTTP/1.1\r\nHost: a\r\n\r\n",
        ];
        for input in inputs {
            let whole = parse(input);
            for cut in 0..input.len() {
                match parse(&input[..cut]) {
                    Ok(None) => {}
                    Ok(Some(head)) => assert_eq!(Ok(Some(head)), whole, "head differs at {cut}"),
                    Err(e) => assert_eq!(whole, Err(e), "early verdict at {cut}"),
                }
            }
        }
    }

    /// Found by the fuzz target: a head httparse refuses (too many headers) followed by a
    /// pipelined head the scanner would refuse. The verdict is on the first head alone: hyper
    /// answers 431 and never reads the second.
    #[test]
    fn a_refused_head_is_judged_without_what_follows_it() {
        let mut input = String::from("GET / HTTP/1.1\r\nHost: a\r\n");
        for i in 0..100 {
            input.push_str(&format!("X-{i}: v\r\n"));
        }
        input.push_str("\r\nGET /\r\n\r\n");
        assert_eq!(parse(input.as_bytes()), Err(Refusal::TooManyHeaders(100)));
        // Not complete yet: a violation may still come in this head (the listener's scanner
        // would answer it 400), so there is no verdict.
        assert_eq!(parse(&input.as_bytes()[..input.len() - 12]), Ok(None));
        let with_fold = input.replace("X-99: v\r\n", "X-99: v\r\n folded\r\n");
        assert_eq!(
            parse(with_fold.as_bytes()),
            Err(Refusal::Framing(FramingViolation::ObsFold))
        );
    }

    #[test]
    fn decimal_lengths_read_as_u64_reads_digits() {
        for text in [
            "0",
            "007",
            "1024",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999",
            "",
            "1a",
            "+1",
            "-1",
            " 1",
            "1.0",
            "١",
        ] {
            let by_str = (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
                .then(|| text.parse::<u64>().ok())
                .flatten();
            assert_eq!(decimal_length(text.as_bytes()), by_str, "{text:?}");
        }
    }

    #[test]
    fn response_heads_and_their_framing() {
        let mut head = ResponseHead::default();
        let input =
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\nDate: x\r\n\r\nhello";
        assert_eq!(parse_response(input, &mut head), Ok(true));
        assert_eq!(&input[head.status_line.clone()], b"HTTP/1.1 200 OK");
        assert_eq!(head.framing(false), Framing::Length(5));
        assert_eq!(head.framing(true), Framing::Empty);
        assert!(head.has_date && !head.reusable(Framing::Length(5)));
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-", &mut head),
            Ok(false)
        );
        let bad: [(&[u8], ResponseHeadError); 4] = [
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                ResponseHeadError::LengthWithCoding,
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                ResponseHeadError::InvalidContentLength,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                ResponseHeadError::UnsupportedCoding,
            ),
            (
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
                ResponseHeadError::SwitchingProtocols,
            ),
        ];
        for (input, error) in bad {
            assert_eq!(parse_response(input, &mut head), Err(error));
        }
        let mut big = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        big.resize(MAX_RESPONSE_HEAD_BYTES, b'v');
        assert_eq!(
            parse_response(&big, &mut head),
            Err(ResponseHeadError::TooLarge)
        );
        big.truncate(MAX_RESPONSE_HEAD_BYTES - 5);
        assert_eq!(parse_response(&big, &mut head), Ok(false));
    }
}
