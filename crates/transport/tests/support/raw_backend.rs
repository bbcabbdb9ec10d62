//! A raw recording backend for framing tests: a TCP server on 127.0.0.1 port 0 that records the
//! exact bytes it receives (every connection, in arrival order), delimits each request it gets
//! with its own minimal HTTP/1.1 framing reader (Content-Length or chunked), and answers each
//! complete request with the next scripted raw reply. Nothing in it trusts hyper, so a test can
//! assert what really reached the wire on the backend side.
//!
//! Also a tiny raw client that reads back a whole sequence of responses, so a test can assert the
//! exact list of statuses a client got on one connection (pipelining) and whether the connection
//! was closed or hung.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long a raw read waits before the test calls it a hang.
pub const HANG: Duration = Duration::from_secs(5);

/// One scripted answer of the backend.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Write these bytes and keep the connection for the next request.
    KeepAlive(&'static [u8]),
    /// Write these bytes and close the connection.
    ThenClose(&'static [u8]),
}

/// What the backend has seen.
#[derive(Default)]
struct Record {
    bytes: Mutex<Vec<u8>>,
    requests: AtomicUsize,
    connections: AtomicUsize,
    open: AtomicUsize,
}

/// A running recording backend; see the module docs.
pub struct RecordingBackend {
    pub addr: SocketAddr,
    record: Arc<Record>,
}

impl RecordingBackend {
    /// A backend answering every request with `200 OK`, body `ok`, keep-alive.
    pub async fn ok() -> Self {
        Self::start(vec![Reply::KeepAlive(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        )])
        .await
    }

    /// A backend answering the n-th request (over all connections) with `replies[n]`, the last
    /// reply repeating.
    pub async fn start(replies: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("backend address");
        let record = Arc::new(Record::default());
        let replies = Arc::new(replies);
        let shared = record.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                shared.connections.fetch_add(1, Ordering::SeqCst);
                shared.open.fetch_add(1, Ordering::SeqCst);
                let record = shared.clone();
                let replies = replies.clone();
                tokio::spawn(async move {
                    serve_connection(tcp, &record, &replies).await;
                    record.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        RecordingBackend { addr, record }
    }

    /// Every byte received so far, all connections.
    pub fn received(&self) -> Vec<u8> {
        self.record
            .bytes
            .lock()
            .map(|b| b.clone())
            .unwrap_or_default()
    }

    /// [`Self::received`] as lossy text.
    pub fn received_text(&self) -> String {
        String::from_utf8_lossy(&self.received()).into_owned()
    }

    /// Complete requests received.
    pub fn requests(&self) -> usize {
        self.record.requests.load(Ordering::SeqCst)
    }

    /// Connections accepted.
    pub fn connections(&self) -> usize {
        self.record.connections.load(Ordering::SeqCst)
    }

    /// Waits (up to [`HANG`]) until no connection is open, so that what an aborted exchange
    /// delivered is fully recorded.
    pub async fn settle(&self) {
        let deadline = tokio::time::Instant::now() + HANG;
        while self.record.open.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn serve_connection(mut tcp: TcpStream, record: &Record, replies: &[Reply]) {
    let mut buf = Vec::new();
    loop {
        let end = loop {
            match request_end(&buf) {
                Framing::Complete(end) => break end,
                Framing::Invalid => {
                    // Unframeable input: keep recording until the peer goes, answer nothing.
                    let mut sink = [0u8; 4096];
                    while let Ok(n) = tcp.read(&mut sink).await {
                        if n == 0 {
                            return;
                        }
                        push(record, &sink[..n]);
                    }
                    return;
                }
                Framing::Partial => {}
            }
            let mut chunk = [0u8; 4096];
            match tcp.read(&mut chunk).await {
                Ok(n) if n > 0 => {
                    push(record, &chunk[..n]);
                    buf.extend_from_slice(&chunk[..n]);
                }
                _ => return,
            }
        };
        buf.drain(..end);
        let n = record.requests.fetch_add(1, Ordering::SeqCst);
        let reply = replies
            .get(n)
            .or(replies.last())
            .cloned()
            .unwrap_or(Reply::ThenClose(b""));
        match reply {
            Reply::KeepAlive(bytes) => {
                if tcp.write_all(bytes).await.is_err() {
                    return;
                }
            }
            Reply::ThenClose(bytes) => {
                let _ = tcp.write_all(bytes).await;
                let _ = tcp.shutdown().await;
                return;
            }
        }
    }
}

fn push(record: &Record, bytes: &[u8]) {
    if let Ok(mut all) = record.bytes.lock() {
        all.extend_from_slice(bytes);
    }
}

enum Framing {
    Complete(usize),
    Partial,
    Invalid,
}

/// Where the first request in `buf` ends, by its own Content-Length or chunked framing.
fn request_end(buf: &[u8]) -> Framing {
    let Some(head_end) = find(buf, b"\r\n\r\n").map(|i| i + 4) else {
        return Framing::Partial;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let mut length = 0usize;
    let mut chunked = false;
    for line in head.split("\r\n").skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            match name {
                "content-length" => match value.trim().parse() {
                    Ok(n) => length = n,
                    Err(_) => return Framing::Invalid,
                },
                "transfer-encoding" => chunked = value.trim().ends_with("chunked"),
                _ => {}
            }
        }
    }
    if !chunked {
        return if buf.len() >= head_end + length {
            Framing::Complete(head_end + length)
        } else {
            Framing::Partial
        };
    }
    let mut at = head_end;
    loop {
        let Some(line_end) = find(&buf[at..], b"\r\n").map(|i| at + i) else {
            return Framing::Partial;
        };
        let size_text = String::from_utf8_lossy(&buf[at..line_end]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            return Framing::Invalid;
        };
        at = line_end + 2;
        if size == 0 {
            // Trailer lines up to an empty line.
            loop {
                let Some(end) = find(&buf[at..], b"\r\n").map(|i| at + i) else {
                    return Framing::Partial;
                };
                let empty = end == at;
                at = end + 2;
                if empty {
                    return Framing::Complete(at);
                }
            }
        }
        if buf.len() < at + size + 2 {
            return Framing::Partial;
        }
        at += size + 2;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What a raw client got on one connection.
#[derive(Debug, Default)]
pub struct Exchange {
    /// The status of each complete response, in order.
    pub statuses: Vec<u16>,
    /// Every byte received.
    pub raw: String,
    /// The bodies of the complete responses, in order.
    pub bodies: Vec<Vec<u8>>,
    /// True when the server closed the connection (or reset it) before [`HANG`] passed.
    pub closed: bool,
    /// True when bytes after the last complete response were left over (a cut response).
    pub trailing_garbage: bool,
}

impl Exchange {
    /// The head of the `n`-th response, lower-cased.
    pub fn head(&self, n: usize) -> String {
        let mut rest = self.raw.as_str();
        for _ in 0..n {
            match rest.find("\r\n\r\n") {
                Some(i) => rest = &rest[i + 4..],
                None => return String::new(),
            }
            if let Some(i) = rest.find("HTTP/1.1 ") {
                rest = &rest[i..];
            }
        }
        rest.split("\r\n\r\n")
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
    }
}

/// Sends `bytes` on a fresh connection (without closing the write side, so a server waiting
/// for more shows up as a hang), reads until the server closes or [`HANG`] passes, and splits
/// what came back into responses. A `HEAD` exchange passes `head_request` so bodies are not
/// expected.
pub async fn exchange(addr: SocketAddr, bytes: &[u8], head_request: bool) -> Exchange {
    let mut out = Exchange::default();
    let Ok(mut tcp) = TcpStream::connect(addr).await else {
        return out;
    };
    let _ = tcp.write_all(bytes).await;
    let mut raw = Vec::new();
    let mut chunk = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + HANG;
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                out.closed = true;
                break;
            }
            Ok(Ok(n)) => raw.extend_from_slice(&chunk[..n]),
            Err(_) => break,
        }
    }
    out.raw = String::from_utf8_lossy(&raw).into_owned();
    let mut at = 0;
    while at < raw.len() {
        match parse_response(&raw[at..], head_request) {
            Some((status, body, used)) => {
                // Interim 1xx responses have no body and precede the final one.
                out.statuses.push(status);
                out.bodies.push(body);
                at += used;
            }
            None => {
                out.trailing_garbage = true;
                break;
            }
        }
    }
    out
}

/// One complete response at the start of `raw`: status, decoded body, bytes used.
fn parse_response(raw: &[u8], head_request: bool) -> Option<(u16, Vec<u8>, usize)> {
    let head_end = find(raw, b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let status: u16 = head
        .strip_prefix("http/1.1 ")
        .or_else(|| head.strip_prefix("http/1.0 "))?
        .get(..3)?
        .parse()
        .ok()?;
    let mut length = None;
    let mut chunked = false;
    for line in head.split("\r\n").skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            match name {
                "content-length" => length = Some(value.trim().parse::<usize>().ok()?),
                "transfer-encoding" => chunked = value.trim() == "chunked",
                _ => {}
            }
        }
    }
    if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
        return Some((status, Vec::new(), head_end));
    }
    if chunked {
        let mut body = Vec::new();
        let mut at = head_end;
        loop {
            let line_end = at + find(&raw[at..], b"\r\n")?;
            let size =
                usize::from_str_radix(String::from_utf8_lossy(&raw[at..line_end]).trim(), 16)
                    .ok()?;
            at = line_end + 2;
            if size == 0 {
                let end = at + find(&raw[at..], b"\r\n")? + 2;
                return Some((status, body, end));
            }
            body.extend_from_slice(raw.get(at..at + size)?);
            at += size + 2;
            if at > raw.len() {
                return None;
            }
        }
    }
    match length {
        Some(n) => {
            let body = raw.get(head_end..head_end + n)?.to_vec();
            Some((status, body, head_end + n))
        }
        // Close-delimited: the rest of the stream.
        None => Some((status, raw[head_end..].to_vec(), raw.len())),
    }
}
