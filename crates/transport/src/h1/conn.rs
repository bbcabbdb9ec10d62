//! The connection driver of the Conflux HTTP/1 engine: one task per plain-HTTP client
//! connection, owning the client socket, one reused read buffer, and the backend connection it
//! forwards to.
//!
//! What holds as on the hyper path (server.rs, conn_io.rs, passthrough.rs), and how:
//! - the client stream is the same [`GuardedIo`]: request-smuggling refusal (400 + close), the
//!   head deadline (408 + close), the body read timeout and minimum rate, the send timeout and
//!   minimum read rate, activity stamps; the listener's watchdog closes a connection silent for
//!   the socket timeout or idle past the keep-alive timeout (counted in `idle_closes`);
//! - the connection cap, accept back-off and `ListenerStats::accepted`/`open` are the listener's;
//!   `in_flight` is kept through [`ConnState::request_began`]/[`ConnState::request_ended`];
//! - a request body that misses its deadline is answered 408 and the backend exchange aborted,
//!   and one whose client sends its end of input or a malformed chunk is answered as a failed
//!   request body (101001, 400); the router records each as hyper's handler answered it;
//! - a client that closes while its request is in flight (read while the backend is awaited, or
//!   a failed write of the response after its FIN) is counted in `client_gone` and logged with
//!   MI's wording, and the backend connection is dropped, not cached;
//! - a backend failure before the response head gets MI's fault response (502/504, JSON or XML
//!   as the request prefers) and the client connection stays usable; a failure inside the
//!   response body aborts the client connection, so a cut response never looks complete;
//! - both heads are written as hyper writes an http `HeaderMap` (names lower-case, one name's
//!   values together, removals swap-removed in `strip_hop_by_hop`'s order: `in_map_order`);
//! - response heads lose their hop-by-hop fields, get `Date` when the backend sent none, and a
//!   chunked or close-delimited body is re-framed chunked (extensions and trailers dropped), as
//!   hyper's server writes them; a request that asks to close gets `connection: close`;
//! - shutdown: no new request is read once the token is cancelled; the one in flight finishes.
//!
//! Anything else, including `Expect: 100-continue`, HTTP/1.0 and every
//! refusal, is the hyper server's: the connection is handed over with the bytes already read.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime};

use bytes::{Buf, BytesMut};
use conflux_mediation::dispatch::api_table::header_text;
use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::backend;
use super::body::{BodyFramer, LAST_CHUNK, chunk_header};
use super::head::{
    ConnectionOptions, Framing, HeaderKind, HeaderLine, RequestHead, RequestParser, ResponseHead,
    parse_response,
};
use super::lines::{LineRuns, eq_lowercase, lowercase_names};
use super::rewind::Rewind;
use super::{BackendTarget, DirectForward, DirectRecord, HeaderEdit, RequestView, Route, Router};
use crate::body::ProxyBody;
use crate::conn_io::{AbortOnClose, ConnState, GuardedIo};
use crate::error::{BackendError, ProtocolState};
use crate::fault::{FaultFormat, backend_fault_response};
use crate::server::{ConnInfo, Handler, ServerLimits, Watchdog, watchdog};

/// Spare room kept in a read buffer before a read of a head (it grows to what actually arrives).
const READ_RESERVE: usize = 16 * 1024;
/// Most room made for one read of a body: a 100 KiB response then crosses in two reads and two
/// writes instead of seven of each (nginx's `proxy_buffers` do the same). The room is made only
/// for as much body as is still to come, and given back when the exchange ends.
const MAX_BODY_READ: usize = 128 * 1024;
/// Longest request-target forwarded directly (hyper refuses longer ones with 414).
const MAX_DIRECT_TARGET: usize = (u16::MAX - 1) as usize;
/// The answer to a request body that missed its deadline (as server.rs answers it).
const REQUEST_TIMEOUT_HEAD: &[u8] =
    b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n";

/// How a connection's direct phase ended.
enum Outcome {
    /// Close the connection (cleanly: a pending 400/408 is written first).
    Closed,
    /// Reset the connection: a response was cut.
    Abort,
    /// Hand the connection to hyper with the bytes read so far.
    Handoff,
}

/// What comes after one exchange.
enum Next {
    KeepGoing,
    Close,
    Abort,
}

/// Serves one plain-HTTP client connection; see the module docs.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn serve<H: Handler>(
    tcp: TcpStream,
    conn: ConnInfo,
    router: Arc<dyn Router>,
    handler: H,
    limits: ServerLimits,
    builder: Arc<auto::Builder<TokioExecutor>>,
    state: Arc<ConnState>,
    shutdown: CancellationToken,
) {
    let io = GuardedIo::new(
        tcp,
        state.clone(),
        limits.io_timeouts(),
        true,
        limits.effective_max_header_bytes(),
    );
    let mut driver = Driver {
        timer: ExchangeTimer::default(),
        parser: RequestParser::new(limits.effective_max_header_bytes(), limits.max_headers),
        x: Exchanges {
            io,
            buf: BytesMut::new(),
            out: Vec::new(),
            order: Vec::new(),
            request_map: http::HeaderMap::new(),
            response_map: http::HeaderMap::new(),
            rbuf: BytesMut::new(),
            rhead: ResponseHead::default(),
            backend: None,
            router,
            conn,
            limits,
            state: state.clone(),
            request_line: Vec::new(),
            method_len: 0,
            started: Instant::now(),
            date: (0, String::new()),
        },
    };
    let outcome = {
        let run = driver.run(&shutdown);
        tokio::pin!(run);
        let watch = watchdog(
            state.clone(),
            limits.socket_timeout,
            limits.keepalive_timeout,
        );
        tokio::pin!(watch);
        tokio::select! {
            outcome = &mut run => outcome,
            verdict = &mut watch => {
                match verdict {
                    Watchdog::SocketTimeout => {
                        tracing::debug!(remote = %conn.remote, "client connection idle past the socket timeout; closing");
                    }
                    Watchdog::KeepAliveTimeout => {
                        tracing::debug!(remote = %conn.remote, "no request within the keep-alive timeout; closing");
                        state.stats().idle_closes.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Outcome::Closed
            }
        }
    };
    let Exchanges {
        mut io,
        buf,
        backend,
        ..
    } = driver.x;
    if let Some((addr, stream)) = backend {
        backend::put(addr, stream);
    }
    match outcome {
        Outcome::Closed => {
            // Writes a pending 400 or 408 first (GuardedIo), bounded by the send timeout.
            let _ = tokio::time::timeout(limits.send_timeout, io.shutdown()).await;
        }
        Outcome::Abort => io.abort_on_close(),
        Outcome::Handoff => {
            crate::server::serve_guarded(
                Rewind::new(buf, io),
                conn,
                handler,
                limits,
                builder,
                state,
                shutdown,
            )
            .await;
        }
    }
}

struct Driver {
    parser: RequestParser,
    x: Exchanges,
    timer: ExchangeTimer,
}

/// The endpoint deadline of a connection's exchanges (connecting, sending and the response head
/// within [`DirectForward::timeout`]): one timer for the connection, not one per request. Each
/// request's deadline is later than the one before it (the same timeout from a later start), so
/// an armed timer is left where it is, and when it goes off before the current deadline it is
/// re-armed to that one. A busy keep-alive connection then touches the runtime's timer wheel
/// about once per timeout period, not twice per request (arm, then cancel when the response
/// came first). The timer going off early wakes the task once for nothing; that is all.
#[derive(Default)]
struct ExchangeTimer {
    sleep: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl ExchangeTimer {
    /// Ready once `at` has passed.
    fn poll_until(&mut self, at: Instant, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        let at = tokio::time::Instant::from_std(at);
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        loop {
            if sleep.deadline() > at {
                // An earlier deadline than the armed one (a route with a shorter timeout).
                sleep.as_mut().reset(at);
            }
            std::task::ready!(sleep.as_mut().poll(cx));
            if sleep.deadline() >= at {
                return std::task::Poll::Ready(());
            }
            // It went off for an earlier exchange's deadline.
            sleep.as_mut().reset(at);
        }
    }

    /// Completes once `at` has passed; never for no deadline.
    async fn until(&mut self, at: Option<Instant>) {
        match at {
            Some(at) => std::future::poll_fn(|cx| self.poll_until(at, cx)).await,
            None => std::future::pending().await,
        }
    }
}

/// Why a request that parsed cleanly still goes to hyper: what the direct path does not do.
pub fn needs_general_path(head: &RequestHead, buf: &[u8]) -> Option<&'static str> {
    let target = &buf[head.target.clone()];
    let method = &buf[head.method.clone()];
    if method == b"CONNECT" || method == b"PRI" {
        Some("CONNECT or an h2 preface")
    } else if !head.http11 {
        Some("HTTP/1.0")
    } else if head.expect {
        Some("Expect")
    } else if head.upgrade {
        Some("Upgrade")
    } else if head.connection.other {
        Some("Connection options")
    } else if target.first() != Some(&b'/')
        || target.len() > MAX_DIRECT_TARGET
        || !(plainly_valid_target(target) || http::uri::PathAndQuery::try_from(target).is_ok())
    {
        Some("request-target not in origin form")
    } else {
        None
    }
}

/// Whether every byte of `target` is one that http's `PathAndQuery` accepts anywhere in a path
/// and in a query (RFC 3986 unreserved and sub-delims, `%`, `:`, `@`, `/`, `?`): such a target
/// needs no parse (which copies it into a buffer of its own) to be known valid. Others are
/// parsed.
pub fn plainly_valid_target(target: &[u8]) -> bool {
    target.iter().all(|&b| PLAIN_TARGET_BYTE[usize::from(b)])
}

/// The bytes of [`plainly_valid_target`], as a table (one load per byte).
const PLAIN_TARGET_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'%'
                    | b':'
                    | b'@'
                    | b'/'
                    | b'?'
            );
        b += 1;
    }
    table
};

impl Driver {
    async fn run(&mut self, shutdown: &CancellationToken) -> Outcome {
        // One wait for shutdown for the connection's life: made per request, it joined and left
        // the token's list of waiters (a lock each time) at every wait for a request.
        let cancelled = shutdown.cancelled();
        tokio::pin!(cancelled);
        loop {
            // (Nothing to parse after an exchange that used up what was read.)
            let parsed = if self.x.buf.is_empty() {
                Ok(None)
            } else {
                // The listener's scanner judged the bytes `buf` holds as they were read: a head
                // it accepted whole where `buf` has it is not scanned again.
                let io = &self.x.io;
                let buf_at = io.delivered() - self.x.buf.len() as u64;
                self.parser.parse_judged(&self.x.buf, |line| {
                    io.accepted_head_at(buf_at + line as u64)
                })
            };
            let head = match parsed {
                Ok(Some(head)) => head,
                Ok(None) => {
                    // A cancelled token is seen by the first (biased) branch before any read: no
                    // separate `is_cancelled` here, which takes the token's lock (shared by every
                    // connection of the listener) once more per request.
                    let read = tokio::select! {
                        biased;
                        () = &mut cancelled, if self.x.buf.is_empty() => return Outcome::Closed,
                        read = read_some(&mut self.x.io, &mut self.x.buf) => read,
                    };
                    match read {
                        Ok(0) | Err(_) => return Outcome::Closed,
                        Ok(_) => continue,
                    }
                }
                Err(refusal) => {
                    tracing::debug!(%refusal, remote = %self.x.conn.remote, "request left to hyper");
                    return Outcome::Handoff;
                }
            };
            if let Some(reason) = needs_general_path(head, &self.x.buf) {
                tracing::trace!(reason, "request left to hyper");
                return Outcome::Handoff;
            }
            let route = self
                .x
                .router
                .route(&RequestView::new(&self.x.buf, head), &self.x.conn);
            let forward = match route {
                Route::Direct(forward) => forward,
                Route::General => return Outcome::Handoff,
            };
            let next = self
                .x
                .exchange(head, &forward, shutdown, &mut self.timer)
                .await;
            release_if_grown(&mut self.x.buf);
            release_if_grown(&mut self.x.rbuf);
            match next {
                Next::KeepGoing => {}
                Next::Close => return Outcome::Closed,
                Next::Abort => return Outcome::Abort,
            }
        }
    }
}

/// Marks a request in flight for as long as it lives.
struct Flight {
    state: Arc<ConnState>,
    /// The response's last byte is written: its write's stamp ends the request.
    written: bool,
}

impl Flight {
    fn new(state: Arc<ConnState>) -> Self {
        state.request_began();
        Flight {
            state,
            written: false,
        }
    }

    /// Ends the request whose response was written whole (the last activity is that write).
    fn end_written(mut self) {
        self.written = true;
    }
}

impl Drop for Flight {
    fn drop(&mut self) {
        if self.written {
            self.state.request_ended_by_last_write();
        } else {
            self.state.request_ended();
        }
    }
}

/// Where the client's going away was noticed.
#[derive(Clone, Copy)]
enum Gone {
    Handling,
    Answering,
}

/// How a response body ended.
enum BodyEnd {
    /// Complete; whether the backend connection can be reused.
    Complete(bool),
    /// The backend's side broke: the client's response is cut.
    Cut,
    /// Writing to the client failed.
    ClientFailed(io::ErrorKind),
    /// The client closed its connection (its end of input, read while the body streamed).
    ClientGone,
}

/// Everything of a connection but the head parser (whose result borrows it during an exchange).
struct Exchanges {
    io: GuardedIo<TcpStream>,
    /// Client bytes read and not yet used; a request head starts at 0.
    buf: BytesMut,
    /// The head being written (to the backend, then to the client).
    out: Vec<u8>,
    /// Scratch space for the order of header lines (`in_map_order`).
    order: Vec<(Entry, Option<usize>)>,
    /// The request's and the response's header maps, for records when the router wants them.
    request_map: http::HeaderMap,
    response_map: http::HeaderMap,
    /// Backend bytes read and not yet forwarded.
    rbuf: BytesMut,
    rhead: ResponseHead,
    backend: Option<(SocketAddr, TcpStream)>,
    router: Arc<dyn Router>,
    conn: ConnInfo,
    limits: ServerLimits,
    state: Arc<ConnState>,
    /// `METHOD target` of the exchange, for logs and records (bytes: most exchanges never need
    /// them as text).
    request_line: Vec<u8>,
    /// Where the method ends in `request_line`.
    method_len: usize,
    /// When the exchange's request head was read, for records.
    started: Instant,
    /// The `Date` value and the second it was made for.
    date: (u64, String),
}

/// Reads what the stream has into `buf`, keeping some spare room.
async fn read_some<R: AsyncRead + Unpin>(io: &mut R, buf: &mut BytesMut) -> io::Result<usize> {
    read_up_to(io, buf, READ_RESERVE).await
}

/// Reads what the stream has into `buf` after making about `room` bytes of spare room.
async fn read_up_to<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut BytesMut,
    room: usize,
) -> io::Result<usize> {
    if buf.capacity() - buf.len() < room / 4 {
        buf.reserve(room);
    }
    io.read_buf(buf).await
}

/// The room for the next body read when `remaining` bytes are still to come (`None`: unknown).
fn body_read_room(remaining: Option<u64>) -> usize {
    remaining.map_or(MAX_BODY_READ, |left| {
        usize::try_from(left)
            .unwrap_or(MAX_BODY_READ)
            .clamp(READ_RESERVE, MAX_BODY_READ)
    })
}

/// Gives a buffer's memory back when it is empty and grew past a head's reserve (a body went
/// through it), so an idle keep-alive connection holds little.
fn release_if_grown(buf: &mut BytesMut) {
    if buf.is_empty() && buf.capacity() > 2 * READ_RESERVE {
        *buf = BytesMut::new();
    }
}

/// Writes `a` then `b`, vectored.
async fn write_both<W: AsyncWrite + Unpin>(
    w: &mut W,
    mut a: &[u8],
    mut b: &[u8],
) -> io::Result<()> {
    while !a.is_empty() || !b.is_empty() {
        let n = if a.is_empty() {
            w.write(b).await?
        } else if b.is_empty() {
            w.write(a).await?
        } else {
            w.write_vectored(&[IoSlice::new(a), IoSlice::new(b)])
                .await?
        };
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        let from_a = n.min(a.len());
        a = &a[from_a..];
        b = &b[n - from_a..];
    }
    Ok(())
}

thread_local! {
    /// The worker thread's buffer for response bodies in transit (see
    /// [`Exchanges::stream_response_body`]); [`MAX_BODY_READ`] bytes once the thread relayed one.
    static RELAY: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What one relay step of a response body came to.
enum Relayed {
    /// The body goes on.
    More,
    /// The body is complete; `clean`: nothing came after it (the connection can be reused).
    Done { clean: bool },
    /// The backend's side broke.
    Cut,
    /// Writing to the client failed.
    ClientFailed(io::ErrorKind),
}

/// Appends `data` as one chunk (nothing for no data).
fn frame_chunk(data: &[u8], out: &mut Vec<u8>) {
    if !data.is_empty() {
        chunk_header(data.len(), out);
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
}

/// Writes `first` then `rest` to `w` as far as it takes them without waiting; the bytes written.
fn write_now<W: AsyncWrite + Unpin>(
    w: &mut W,
    first: &[u8],
    rest: [&[u8]; 2],
) -> io::Result<usize> {
    let total = first.len() + rest[0].len() + rest[1].len();
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut written = 0;
    while written < total {
        let mut skip = written;
        let mut slices = [IoSlice::new(&[]); 3];
        let mut count = 0;
        for part in std::iter::once(first).chain(rest) {
            if skip >= part.len() {
                skip -= part.len();
                continue;
            }
            slices[count] = IoSlice::new(&part[skip..]);
            skip = 0;
            count += 1;
        }
        // A pending write leaves a no-op waker behind; the awaited write of the rest replaces it.
        match std::pin::Pin::new(&mut *w).poll_write_vectored(&mut cx, &slices[..count]) {
            std::task::Poll::Ready(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
            std::task::Poll::Ready(Ok(n)) => written += n,
            std::task::Poll::Ready(Err(error)) => return Err(error),
            std::task::Poll::Pending => break,
        }
    }
    Ok(written)
}

/// Reads what `stream` has into `buf` without waiting (`WouldBlock`: nothing yet).
///
/// Unlike `TcpStream::try_read`, a read that does not fill `buf` clears the stream's read
/// readiness (tokio's `poll_read` does, knowing the socket is drained), so the next look at the
/// stream (the next relay step, or [`backend::is_reusable`] before the next request) waits for
/// the kernel's word instead of making a `recvfrom` that only says `EAGAIN`.
fn read_now(stream: &mut TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut read = tokio::io::ReadBuf::new(buf);
    // A pending read leaves a no-op waker behind; the awaited `readable()` replaces it.
    match std::pin::Pin::new(stream).poll_read(&mut cx, &mut read) {
        std::task::Poll::Ready(Ok(())) => Ok(read.filled().len()),
        std::task::Poll::Ready(Err(error)) => Err(error),
        std::task::Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
    }
}

/// Leaves in `out` what [`write_now`] did not write of `out` then `rest`.
fn keep_unwritten(out: &mut Vec<u8>, rest: [&[u8]; 2], written: usize) {
    let from_rest = written.saturating_sub(out.len());
    out.drain(..written.min(out.len()));
    let mut skip = from_rest;
    for part in rest {
        let used = skip.min(part.len());
        out.extend_from_slice(&part[used..]);
        skip -= used;
    }
}

/// Whether the request prefers a JSON fault (`FaultFormat::for_request`: `Accept` or
/// `Content-Type` mentions JSON in a visible-ASCII value).
fn prefers_json(head: &RequestHead, buf: &[u8]) -> bool {
    head.headers.iter().any(|line| {
        let name = &buf[line.name.clone()];
        let value = &buf[line.value.clone()];
        // A value the general path's `HeaderValue::to_str` refuses is not read there either.
        (eq_lowercase(name, b"accept") || eq_lowercase(name, b"content-type"))
            && header_text(Some(value))
                .is_some_and(|v| v.as_bytes().windows(4).any(|w| eq_lowercase(w, b"json")))
    })
}

/// An entry of the header map hyper's path writes a head from: a name's lines (by its first)
/// or a value an edit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    Line(usize),
    Edit(usize),
}

/// What hyper's path writes of a head's `lines`, in the order it writes it from the header map
/// it parsed them into (http `HeaderMap`): one entry per name, in the order the names first came,
/// each entry's values in the order they came. `edits` are then made as
/// `HeaderMap::insert`/`remove` make them (an insert of a present name replaces its entry in
/// place; a new name goes last; a remove swap-removes: the last entry takes the removed one's
/// place); then the lines `removal` ranks are removed, lowest rank first, the same way. Quadratic
/// in the number of lines, which a head bounds; `order` is scratch space, reused.
///
/// An iterator, not a callback per line: the writers' loops then keep their state in registers
/// (a closure per line cost about 80 instructions a line, issue 22).
fn in_map_order<'l>(
    buf: &'l [u8],
    lines: &'l [HeaderLine],
    edits: &'l [HeaderEdit],
    order: &'l mut Vec<(Entry, Option<usize>)>,
    removal: impl Fn(&[u8], HeaderKind) -> Option<usize>,
) -> InMapOrder<'l> {
    let line_name = |i: usize| &buf[lines[i].name.clone()];
    let name_of = |e: Entry| match e {
        Entry::Line(i) => line_name(i),
        Entry::Edit(k) => edits[k].name.as_str().as_bytes(),
    };
    order.clear();
    // Whether a name came twice (most heads: no; their lines then need no grouping).
    let mut repeated = false;
    // A filter of the names seen, by length and last letter: a name whose bit is not set yet
    // came first, without comparing it with every earlier name.
    let mut seen = 0u64;
    for i in 0..lines.len() {
        let name = line_name(i);
        let key = name.len() * 31 + usize::from(name.last().map_or(0, |b| b | 0x20));
        let bit = 1u64 << (key % 64);
        let first = seen & bit == 0;
        seen |= bit;
        if !first
            && order
                .iter()
                .any(|&(e, _)| name_of(e).eq_ignore_ascii_case(name))
        {
            repeated = true;
        } else {
            order.push((Entry::Line(i), None));
        }
    }
    for (k, edit) in edits.iter().enumerate() {
        let name = edit.name.as_str().as_bytes();
        let at = order
            .iter()
            .position(|&(e, _)| name_of(e).eq_ignore_ascii_case(name));
        match (at, &edit.value) {
            (Some(at), Some(_)) => order[at] = (Entry::Edit(k), None),
            (None, Some(_)) => order.push((Entry::Edit(k), None)),
            (Some(at), None) => {
                order.swap_remove(at);
            }
            (None, None) => {}
        }
    }
    // Each entry's rank among the removals (it depends on the entry alone), once.
    for (e, rank) in order.iter_mut() {
        let kind = match *e {
            Entry::Line(i) => lines[i].kind,
            Entry::Edit(_) => HeaderKind::Other,
        };
        *rank = removal(name_of(*e), kind);
    }
    // The removals, lowest rank first, each a swap-remove of its entry.
    while let Some((at, _)) = order
        .iter()
        .enumerate()
        .filter_map(|(at, &(_, rank))| rank.map(|rank| (at, rank)))
        .min_by_key(|&(_, rank)| rank)
    {
        order.swap_remove(at);
    }
    InMapOrder {
        buf,
        lines,
        edits,
        entries: order.iter(),
        repeated,
        group: None,
    }
}

/// The iterator [`in_map_order`] returns.
struct InMapOrder<'l> {
    buf: &'l [u8],
    lines: &'l [HeaderLine],
    edits: &'l [HeaderEdit],
    entries: std::slice::Iter<'l, (Entry, Option<usize>)>,
    /// Some name came twice: an entry's later lines are looked for.
    repeated: bool,
    /// The entry whose later lines are being handed on: its first line, and where to look next.
    group: Option<(usize, usize)>,
}

impl<'l> Iterator for InMapOrder<'l> {
    type Item = Emit<'l>;

    fn next(&mut self) -> Option<Emit<'l>> {
        if let Some((first, from)) = self.group {
            let name = &self.buf[self.lines[first].name.clone()];
            let later = self.lines[from..]
                .iter()
                .position(|l| self.buf[l.name.clone()].eq_ignore_ascii_case(name));
            if let Some(offset) = later {
                self.group = Some((first, from + offset + 1));
                return Some(Emit::Line(&self.lines[from + offset]));
            }
            self.group = None;
        }
        match self.entries.next()?.0 {
            Entry::Line(i) => {
                if self.repeated {
                    self.group = Some((i, i + 1));
                }
                Some(Emit::Line(&self.lines[i]))
            }
            Entry::Edit(k) => Some(Emit::Edit(&self.edits[k])),
        }
    }
}

/// What [`in_map_order`] hands on: a line as received, or a value an edit set.
enum Emit<'l> {
    Line(&'l HeaderLine),
    Edit(&'l HeaderEdit),
}

/// The removals of transport headers.rs `strip_hop_by_hop` on one head: the names `Connection`
/// lists but `keep-alive`, in the order listed, then the hop-by-hop names in `HOP_BY_HOP` order;
/// nothing when no hop-by-hop name is present.
#[derive(Clone, Copy)]
struct HopByHop {
    /// A hop-by-hop name is present.
    any: bool,
    /// `Connection` lists a name besides `close` and `keep-alive`.
    listed: bool,
}

impl HopByHop {
    fn of(lines: &[HeaderLine], connection: ConnectionOptions) -> Self {
        Self {
            any: lines.iter().any(|l| {
                matches!(
                    l.kind,
                    HeaderKind::Connection | HeaderKind::HopByHop | HeaderKind::TransferEncoding
                )
            }),
            listed: connection.other,
        }
    }

    /// The rank of the entry `name` (of `kind`) among the removals (`None`: kept), plus `base`.
    #[inline]
    fn rank(
        self,
        buf: &[u8],
        lines: &[HeaderLine],
        name: &[u8],
        kind: HeaderKind,
        base: usize,
    ) -> Option<usize> {
        // (Most entries: an ordinary name no `Connection` lists.)
        if !self.any || (kind == HeaderKind::Other && !self.listed) {
            return None;
        }
        if self.listed
            && let Some(at) = lines
                .iter()
                .filter(|l| l.kind == HeaderKind::Connection)
                .flat_map(|l| buf[l.value.clone()].split(|b| *b == b','))
                .map(<[u8]>::trim_ascii)
                .filter(|token| !token.eq_ignore_ascii_case(b"keep-alive"))
                .position(|token| token.eq_ignore_ascii_case(name))
        {
            return Some(base + at);
        }
        let at = match kind {
            HeaderKind::Connection => HOP_BY_HOP_CONNECTION,
            HeaderKind::TransferEncoding => HOP_BY_HOP_TRANSFER_ENCODING,
            HeaderKind::HopByHop => crate::headers::HOP_BY_HOP
                .iter()
                .position(|h| h.as_str().as_bytes().eq_ignore_ascii_case(name))?,
            _ => return None,
        };
        Some(base + 1_000 + at)
    }
}

/// Where `Connection` and `Transfer-Encoding` stand in `headers::HOP_BY_HOP` (checked by a test).
const HOP_BY_HOP_CONNECTION: usize = 0;
const HOP_BY_HOP_TRANSFER_ENCODING: usize = 5;

impl Exchanges {
    /// The method and the request-target of the exchange (`request_line` split at its space).
    fn request_bytes(&self) -> (&[u8], &[u8]) {
        let method = self.request_line.get(..self.method_len).unwrap_or(b"");
        let target = self.request_line.get(self.method_len + 1..).unwrap_or(b"");
        (method, target)
    }

    /// [`Exchanges::request_bytes`] as text (empty where they are not UTF-8, which the parser
    /// does not let through).
    fn request_parts(&self) -> (&str, &str) {
        let (method, target) = self.request_bytes();
        let text = |bytes| std::str::from_utf8(bytes).unwrap_or("");
        (text(method), text(target))
    }

    /// Appends a `date` line (the value is made once a second).
    fn push_date(&mut self) {
        let now = SystemTime::now();
        let secs = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if self.date.0 != secs || self.date.1.is_empty() {
            self.date = (secs, httpdate::fmt_http_date(now));
        }
        self.out.extend_from_slice(b"date: ");
        self.out.extend_from_slice(self.date.1.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    fn client_gone(&self, at: Gone) {
        self.state
            .stats()
            .client_gone
            .fetch_add(1, Ordering::Relaxed);
        let (method, url) = self.request_parts();
        match at {
            Gone::Handling => tracing::warn!(
                target: "conflux::transport",
                "Connection closed by the client after the request was read and before the response was sent; the exchange is cancelled (mediation and the back end call stop), HTTP_METHOD = {}, HTTP_URL = {}, CLIENT_ADDRESS = {}",
                method, url, self.conn.remote
            ),
            Gone::Answering => tracing::warn!(
                target: "conflux::transport",
                "Connection closed by the client while the response was being written; the rest of the response is dropped, HTTP_METHOD = {}, HTTP_URL = {}, CLIENT_ADDRESS = {}",
                method, url, self.conn.remote
            ),
        }
    }

    /// A connection to the backend, and the address it goes to: the one this connection used
    /// last when it goes to one of the forward's addresses (any address of the backend's name:
    /// the hyper client pools by authority), else a cached one, else a new one. The bool says
    /// whether it was used before.
    async fn backend_for(
        &mut self,
        forward: &DirectForward,
    ) -> Result<(SocketAddr, TcpStream, bool), BackendError> {
        if let Some((addr, stream)) = self.backend.take() {
            let same = addr == forward.backend || forward.fallbacks.contains(&addr);
            if same && backend::is_reusable(&stream) {
                return Ok((addr, stream, true));
            }
            if backend::is_reusable(&stream) {
                backend::put(addr, stream);
            }
        }
        for &addr in std::iter::once(&forward.backend).chain(forward.fallbacks.iter()) {
            if let Some(stream) = backend::take(addr) {
                return Ok((addr, stream, true));
            }
        }
        self.connect(forward)
            .await
            .map(|(addr, stream)| (addr, stream, false))
    }

    /// A new connection to the first of the forward's addresses that accepts, in order, all
    /// within the connect timeout (as the hyper path's transport pool.rs `connect_tcp` under
    /// `Connector::connect`).
    async fn connect(
        &self,
        forward: &DirectForward,
    ) -> Result<(SocketAddr, TcpStream), BackendError> {
        let addresses = std::iter::once(forward.backend).chain(forward.fallbacks.iter().copied());
        match backend::connect_any(addresses, forward.connect_timeout).await {
            Ok(connected) => Ok(connected),
            Err(backend::ConnectError::TimedOut) => Err(BackendError::ConnectTimeout {
                target: forward.uri.to_string(),
            }),
            Err(backend::ConnectError::Failed(e)) => {
                // The hyper path names the URI's authority (client.rs: `connect_authority`).
                let uri = forward.uri.parse::<http::Uri>().ok();
                let authority = uri.as_ref().and_then(http::Uri::authority);
                match authority {
                    Some(authority) => {
                        tracing::warn!(target: "conflux::transport", "Connection refused or failed for : {authority}")
                    }
                    None => {
                        tracing::warn!(target: "conflux::transport", "Connection refused or failed for : {}", forward.backend)
                    }
                }
                Err(BackendError::ConnectFailed {
                    target: forward.uri.to_string(),
                    source: Box::new(e),
                })
            }
        }
    }

    /// Serves one direct request; `head` is parsed from the start of `buf`.
    async fn exchange(
        &mut self,
        head: &RequestHead,
        forward: &DirectForward,
        shutdown: &CancellationToken,
        timer: &mut ExchangeTimer,
    ) -> Next {
        // The read that completed the head (or the write that ended the exchange before a
        // pipelined one) stamped the connection's activity: that is when this exchange starts,
        // without reading the clock once more (issue 22).
        let started = self.state.last_activity();
        self.started = started;
        let keep_alive = head.keep_alive();
        let json = prefers_json(head, &self.buf);
        if self.router.wants_headers() {
            self.request_map.clear();
            for line in &head.headers {
                if let (Ok(name), Ok(value)) = (
                    http::HeaderName::from_bytes(&self.buf[line.name.clone()]),
                    http::HeaderValue::from_bytes(&self.buf[line.value.clone()]),
                ) {
                    self.request_map.append(name, value);
                }
            }
        }
        let method = &self.buf[head.method.clone()];
        let head_request = method == b"HEAD";
        self.request_line.clear();
        self.request_line.extend_from_slice(method);
        self.method_len = self.request_line.len();
        self.request_line.push(b' ');
        self.request_line
            .extend_from_slice(&self.buf[head.target.clone()]);
        // The backend's head: the client's lines but the hop-by-hop ones and Host.
        self.out.clear();
        self.out.extend_from_slice(method);
        self.out.push(b' ');
        match &forward.target {
            BackendTarget::Client => self.out.extend_from_slice(&self.buf[head.target.clone()]),
            BackendTarget::InUri(at) => {
                // The router made `at` from this URI; "/" only if it broke that promise.
                let path = forward.uri.get(*at..).unwrap_or("/");
                self.out.extend_from_slice(path.as_bytes());
            }
            BackendTarget::Own(target) => self.out.extend_from_slice(target.as_bytes()),
        }
        self.out.extend_from_slice(b" HTTP/1.1\r\n");
        // `Content-Length: 0` declares no body; behind mediation the field is dropped (see
        // `Router::drops_empty_content_length`).
        let no_body = self.router.drops_empty_content_length()
            && matches!(head.body(), Framing::Empty | Framing::Length(0));
        // Mediation drops an empty body's Content-Length (runtime/engine.rs), then the client
        // the hop-by-hop fields (headers.rs `prepare_backend_request`; `Expect` never comes here).
        let strip = HopByHop::of(&head.headers, head.connection);
        lowercase_names(&mut self.buf, &head.headers);
        let removal = |name: &[u8], kind: HeaderKind| {
            if no_body && kind == HeaderKind::ContentLength {
                Some(0)
            } else {
                strip.rank(&self.buf, &head.headers, name, kind, 1)
            }
        };
        let out = &mut self.out;
        let mut runs = LineRuns::new(&self.buf);
        // The route's edits come first: mediation makes them before the send.
        let entries = in_map_order(
            &self.buf,
            &head.headers,
            &forward.request_edits,
            &mut self.order,
            removal,
        );
        for entry in entries {
            match entry {
                Emit::Line(line) if line.kind == HeaderKind::Host => {
                    // In place, where hyper's header map keeps a replaced value.
                    runs.push_value(out, b"host", forward.host.as_bytes());
                }
                Emit::Line(line) => runs.push(out, line),
                Emit::Edit(edit) => runs.push_edit(out, edit),
            }
        }
        runs.flush(out);
        if head.host.is_none() {
            self.out.extend_from_slice(b"host: ");
            self.out.extend_from_slice(forward.host.as_bytes());
            self.out.extend_from_slice(b"\r\n");
        }
        // A chunked body is re-framed for the backend (the client's chunk extensions and
        // trailer fields belong to its hop), as hyper's client re-frames it.
        let chunked = head.body() == Framing::Chunked;
        if chunked {
            self.out
                .extend_from_slice(b"transfer-encoding: chunked\r\n");
        }
        self.out.extend_from_slice(b"\r\n");
        let body_len = match head.body() {
            Framing::Length(n) => n,
            _ => 0,
        };
        let flight = Flight::new(self.state.clone());
        let head_len = head.len;
        let in_buf = (self.buf.len() - head_len) as u64;
        let first = usize::try_from(body_len.min(in_buf)).unwrap_or(0);
        let remaining = body_len - first as u64;
        // Body bytes still to come from the client after the first write.
        let streaming = chunked || remaining > 0;
        let deadline = forward.timeout.map(|t| started + t);

        // Send the request (once more on a fresh connection when a reused one turns out dead
        // before answering and the whole request went in one write).
        let mut fresh_retry = false;
        let (mut peer, mut stream, reused) = loop {
            let sending = async {
                let (peer, mut stream, reused) = if fresh_retry {
                    let (peer, stream) = self.connect(forward).await?;
                    (peer, stream, false)
                } else {
                    self.backend_for(forward).await?
                };
                let body = &self.buf[head_len..head_len + first];
                match write_both(&mut stream, &self.out, body).await {
                    Ok(()) => Ok((peer, stream, reused)),
                    Err(_) if reused && !streaming => Err(None),
                    Err(e) => Err(Some(BackendError::Io {
                        target: forward.uri.to_string(),
                        source: Box::new(e),
                    })),
                }
            };
            // The send first: a write that goes through at once never looks at the timer.
            let result = tokio::select! {
                biased;
                result = sending => result,
                () = timer.until(deadline) => Err(Some(response_timeout(forward))),
            };
            match result {
                Ok(sent) => break sent,
                Err(None) if !fresh_retry => fresh_retry = true,
                Err(None) => {
                    drop(flight);
                    self.buf.advance(head_len + first);
                    return self
                        .fault(
                            forward,
                            io_closed(forward),
                            json,
                            keep_alive && !streaming,
                            shutdown,
                        )
                        .await;
                }
                Err(Some(error)) => {
                    // The body not yet read from the client makes the connection unusable.
                    drop(flight);
                    self.buf.advance(head_len + first);
                    return self
                        .fault(forward, error, json, keep_alive && !streaming, shutdown)
                        .await;
                }
            }
        };
        let replayable = reused && !streaming;
        // A request sent whole stays in `buf` until it is answered, for a replay.
        let mut unconsumed = head_len + first;
        if streaming {
            self.buf.advance(unconsumed);
            unconsumed = 0;
        }

        // The rest of the body, as the client sends it, within the endpoint timeout (which
        // bounds the whole exchange up to the response head, as on the hyper path).
        if streaming {
            let upload = self.upload(&mut stream, chunked, remaining);
            let result = tokio::select! {
                biased;
                result = upload => result,
                () = timer.until(deadline) => Err(Upload::TimedOut),
            };
            match result {
                Ok(()) => {}
                Err(Upload::ClientGone) => {
                    // hyper hands the handler the end of input as a body error: mediation
                    // answers it as a failed request body (101001, 400), hyper writes that
                    // answer, and only a write that fails counts the client as gone.
                    self.buf.clear();
                    drop(flight);
                    let error = BackendError::RequestBody {
                        target: forward.uri.to_string(),
                        source: Box::new(io::Error::from(io::ErrorKind::UnexpectedEof)),
                    };
                    return self.fault(forward, error, json, false, shutdown).await;
                }
                Err(Upload::ClientFailed) => return Next::Close,
                Err(Upload::BodyTimedOut) => {
                    drop(flight);
                    // On hyper's path the handler had the request and saw its body fail
                    // (mediation's 101001, a 400 it counts and logs) before server.rs told the
                    // client 408: the same record here.
                    let error = BackendError::RequestBody {
                        target: forward.uri.to_string(),
                        source: Box::new(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "the request body missed its deadline",
                        )),
                    };
                    let format = if json {
                        FaultFormat::Json
                    } else {
                        FaultFormat::Xml
                    };
                    let answer = backend_fault_response(&error, format);
                    self.record(
                        forward,
                        answer.status().as_u16(),
                        Some(&error),
                        answer.headers(),
                    );
                    return self.request_timeout().await;
                }
                Err(failure) => {
                    // The rest of the client's body is unread: answer, then close.
                    self.buf.clear();
                    drop(flight);
                    let error = match failure {
                        Upload::Backend(e) => BackendError::Io {
                            target: forward.uri.to_string(),
                            source: Box::new(e),
                        },
                        Upload::BadBody(e) => BackendError::RequestBody {
                            target: forward.uri.to_string(),
                            source: Box::new(e),
                        },
                        _ => response_timeout(forward),
                    };
                    return self.fault(forward, error, json, false, shutdown).await;
                }
            }
        }

        // The response head, while watching the client for its going away.
        let mut retried = fresh_retry;
        loop {
            let failure = match self
                .read_response_head(&mut stream, forward, deadline, timer)
                .await
            {
                Ok(()) => {
                    self.buf.advance(unconsumed);
                    break;
                }
                Err(failure) => failure,
            };
            if !matches!(failure, HeadFailure::Stale { .. }) || !replayable || retried {
                self.buf.advance(unconsumed);
            }
            match failure {
                HeadFailure::ClientGone => {
                    self.client_gone(Gone::Handling);
                    return Next::Close;
                }
                HeadFailure::Stale { .. } if replayable && !retried => {
                    // Nothing came back on a reused connection: send the request once more on
                    // a new one. Only a request whose body was all in hand reaches here.
                    retried = true;
                    match self.connect(forward).await {
                        Ok((fresh_peer, mut fresh)) => {
                            let body = &self.buf[head_len..head_len + first];
                            if let Err(e) = write_both(&mut fresh, &self.out, body).await {
                                self.buf.advance(unconsumed);
                                drop(flight);
                                let error = BackendError::Io {
                                    target: forward.uri.to_string(),
                                    source: Box::new(e),
                                };
                                return self
                                    .fault(forward, error, json, keep_alive, shutdown)
                                    .await;
                            }
                            stream = fresh;
                            peer = fresh_peer;
                        }
                        Err(error) => {
                            self.buf.advance(unconsumed);
                            drop(flight);
                            return self.fault(forward, error, json, keep_alive, shutdown).await;
                        }
                    }
                }
                HeadFailure::Stale { reset } => {
                    drop(flight);
                    // As hyper's client classifies them (client.rs `classify`): a reset is an
                    // I/O error (101500), an end of input an incomplete message (101505).
                    let error = if reset {
                        BackendError::Io {
                            target: forward.uri.to_string(),
                            source: Box::new(io::Error::from(io::ErrorKind::ConnectionReset)),
                        }
                    } else {
                        io_closed(forward)
                    };
                    return self.fault(forward, error, json, keep_alive, shutdown).await;
                }
                HeadFailure::Backend(error) => {
                    drop(flight);
                    return self.fault(forward, error, json, keep_alive, shutdown).await;
                }
            }
        }

        // The client's head: the backend's lines but the hop-by-hop ones.
        let framing = self.rhead.framing(head_request);
        let close = !keep_alive || shutdown.is_cancelled();
        let status = self.rhead.status;
        self.write_response_head(framing, close, head_request, &forward.response_edits);
        let response_head_len = self.rhead.len;
        self.record(forward, status, None, &self.response_map);
        self.rbuf.advance(response_head_len);
        let reusable = self.rhead.reusable(framing);
        let end = self.stream_response_body(&mut stream, framing).await;
        if matches!(end, BodyEnd::Complete(_)) {
            flight.end_written();
        } else {
            drop(flight);
        }
        match end {
            BodyEnd::Complete(clean) => {
                if reusable && clean {
                    self.backend = Some((peer, stream));
                }
                if close { Next::Close } else { Next::KeepGoing }
            }
            BodyEnd::Cut => Next::Abort,
            BodyEnd::ClientFailed(kind) => {
                let gone = matches!(
                    kind,
                    io::ErrorKind::BrokenPipe
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                );
                if gone || self.state.client_closed() {
                    self.client_gone(Gone::Answering);
                }
                Next::Close
            }
            BodyEnd::ClientGone => {
                self.client_gone(Gone::Answering);
                Next::Close
            }
        }
    }

    /// Reads more of the request body from the client into `buf`.
    async fn read_body(&mut self, remaining: Option<u64>) -> Result<(), Upload> {
        match read_up_to(&mut self.io, &mut self.buf, body_read_room(remaining)).await {
            Ok(0) => Err(Upload::ClientGone),
            Ok(_) => Ok(()),
            Err(_) if self.state.body_timed_out() => Err(Upload::BodyTimedOut),
            Err(_) if self.state.client_closed() => Err(Upload::ClientGone),
            Err(error) => {
                tracing::debug!(%error, "reading the request body failed");
                Err(Upload::ClientFailed)
            }
        }
    }

    /// Streams the rest of the request body from the client to the backend: `remaining` bytes,
    /// or the chunks of a chunked body, re-framed.
    async fn upload(
        &mut self,
        stream: &mut TcpStream,
        chunked: bool,
        remaining: u64,
    ) -> Result<(), Upload> {
        if chunked {
            return self.upload_chunked(stream).await;
        }
        let mut remaining = remaining;
        while remaining > 0 {
            if self.buf.is_empty() {
                self.read_body(Some(remaining)).await?;
            }
            let take = usize::try_from(remaining)
                .unwrap_or(usize::MAX)
                .min(self.buf.len());
            stream
                .write_all(&self.buf[..take])
                .await
                .map_err(Upload::Backend)?;
            self.buf.advance(take);
            remaining -= take as u64;
        }
        Ok(())
    }

    /// Streams a chunked request body: payload as it arrives, in canonical chunks, then the last
    /// chunk; extensions and trailers are dropped.
    async fn upload_chunked(&mut self, stream: &mut TcpStream) -> Result<(), Upload> {
        let mut framer = BodyFramer::new(Framing::Chunked);
        let mut frames = Vec::new();
        loop {
            while !self.buf.is_empty() && !framer.is_done() {
                let step = framer.decode(&self.buf).map_err(Upload::BadBody)?;
                if !step.data.is_empty() {
                    chunk_header(step.data.len(), &mut frames);
                    frames.extend_from_slice(&self.buf[step.data]);
                    frames.extend_from_slice(b"\r\n");
                }
                self.buf.advance(step.consumed);
            }
            if framer.is_done() {
                frames.extend_from_slice(LAST_CHUNK);
            }
            if !frames.is_empty() {
                stream.write_all(&frames).await.map_err(Upload::Backend)?;
                frames.clear();
            }
            if framer.is_done() {
                return Ok(());
            }
            self.read_body(None).await?;
        }
    }

    fn write_response_head(
        &mut self,
        framing: Framing,
        close: bool,
        head_request: bool,
        edits: &[HeaderEdit],
    ) {
        // hyper's order (proto/h1/role.rs `Server::encode`): the header map's lines in order, its
        // own `connection: close` inserted last, then the framing line it writes itself
        // (`transfer-encoding`, or `content-length: 0` for an empty body it moved out of the
        // map's order, except for HEAD), then `date` when the map had none.
        let moved_length = framing == Framing::Empty && !head_request;
        self.out.clear();
        if edits.is_empty() {
            self.out
                .extend_from_slice(&self.rbuf[self.rhead.status_line.clone()]);
        } else {
            // Mediation rebuilt the response (runtime/engine.rs `response_from`): hyper writes
            // its version and the status's canonical reason, `<none>` for a status without one.
            let status = http::StatusCode::from_u16(self.rhead.status).ok();
            self.out.extend_from_slice(b"HTTP/1.1 ");
            self.out
                .extend_from_slice(self.rhead.status.to_string().as_bytes());
            self.out.push(b' ');
            self.out.extend_from_slice(
                status
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("<none>")
                    .as_bytes(),
            );
        }
        self.out.extend_from_slice(b"\r\n");
        let mut length = None;
        let mut out = std::mem::take(&mut self.out);
        let mut order = std::mem::take(&mut self.order);
        let lines = &self.rhead.headers;
        lowercase_names(&mut self.rbuf, lines);
        let strip = HopByHop::of(lines, self.rhead.connection);
        let mut map = self.router.wants_headers().then(|| {
            let mut map = std::mem::take(&mut self.response_map);
            map.clear();
            map
        });
        let mut runs = LineRuns::new(&self.rbuf);
        // The out-sequence's edits, then passthrough.rs `prepare_client_response`.
        let entries = in_map_order(&self.rbuf, lines, edits, &mut order, |name, kind| {
            strip.rank(&self.rbuf, lines, name, kind, 0)
        });
        // What was written is kept in `map` too, when records want it.
        let keep = |map: &mut Option<http::HeaderMap>, name: &[u8], value: &[u8]| {
            if let Some(map) = map.as_mut()
                && let (Ok(name), Ok(value)) = (
                    http::HeaderName::from_bytes(name),
                    http::HeaderValue::from_bytes(value),
                )
            {
                map.append(name, value);
            }
        };
        for entry in entries {
            match entry {
                Emit::Line(line) => {
                    let name = &self.rbuf[line.name.clone()];
                    let value = &self.rbuf[line.value.clone()];
                    if line.kind == HeaderKind::ContentLength && moved_length {
                        // Still in the map; hyper moves it when it writes the head.
                        length.get_or_insert(());
                        keep(&mut map, name, value);
                    } else if let Some(rewritten) = self.rewritten_location(line) {
                        runs.push_value(&mut out, name, rewritten.as_bytes());
                        keep(&mut map, name, rewritten.as_bytes());
                    } else {
                        runs.push(&mut out, line);
                        keep(&mut map, name, value);
                    }
                }
                Emit::Edit(edit) => {
                    if let Some(value) = &edit.value {
                        let name = edit.name.as_str().as_bytes();
                        runs.push_value(&mut out, name, value.as_bytes());
                        keep(&mut map, name, value.as_bytes());
                    }
                }
            }
        }
        runs.flush(&mut out);
        if let Some(map) = map {
            self.response_map = map;
        }
        self.out = out;
        self.order = order;
        if close {
            self.out.extend_from_slice(b"connection: close\r\n");
        }
        if matches!(framing, Framing::Chunked | Framing::UntilClose) {
            self.out
                .extend_from_slice(b"transfer-encoding: chunked\r\n");
        } else if length.is_some() {
            self.out.extend_from_slice(b"content-length: 0\r\n");
        }
        if !self.rhead.has_date {
            self.push_date();
        }
        self.out.extend_from_slice(b"\r\n");
    }

    /// The client-facing value of a backend `Location` line, as the hyper path's
    /// `location::rewrite_location` makes it (MI passthru `ClientWorker`); `None`: not a
    /// `Location` line, or one that stays as it is.
    fn rewritten_location(&self, line: &HeaderLine) -> Option<String> {
        if !self.rbuf[line.name.clone()].eq_ignore_ascii_case(b"location")
            || !self.router.rewrites_location()
        {
            return None;
        }
        let value = std::str::from_utf8(&self.rbuf[line.value.clone()]).ok()?;
        let (_, target) = self.request_parts();
        let rewritten = crate::location::rewritten_for_client(
            self.rhead.status,
            false,
            self.conn.local,
            target,
            value,
        )?;
        http::HeaderValue::try_from(rewritten.as_str()).ok()?;
        Some(rewritten)
    }

    /// Reads the backend's response head into `rbuf`/`rhead` (1xx heads skipped), watching the
    /// client for its end of input meanwhile.
    async fn read_response_head(
        &mut self,
        stream: &mut TcpStream,
        forward: &DirectForward,
        deadline: Option<Instant>,
        timer: &mut ExchangeTimer,
    ) -> Result<(), HeadFailure> {
        self.rbuf.clear();
        let pipelined_cap = self.limits.effective_max_header_bytes();
        let mut watch_client = true;
        loop {
            // (Nothing to parse before the first read.)
            let parsed = if self.rbuf.is_empty() {
                Ok(false)
            } else {
                parse_response(&self.rbuf, &mut self.rhead)
            };
            match parsed {
                Ok(true) if (100..200).contains(&self.rhead.status) => {
                    let len = self.rhead.len;
                    self.rbuf.advance(len);
                    continue;
                }
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => {
                    return Err(HeadFailure::Backend(BackendError::ProtocolViolation {
                        target: forward.uri.to_string(),
                        source: Box::new(e),
                    }));
                }
            }
            // The backend first, then the client, then the timer: a read that has bytes wins.
            tokio::select! {
                biased;
                read = read_some(stream, &mut self.rbuf) => match read {
                    Ok(0) if self.rbuf.is_empty() => return Err(HeadFailure::Stale { reset: false }),
                    Ok(0) => return Err(HeadFailure::Backend(BackendError::ConnectionClosed {
                        target: forward.uri.to_string(),
                        state: ProtocolState::ResponseHead,
                        source: "the back end closed the connection before the response head ended".into(),
                    })),
                    Ok(_) => {}
                    Err(e) if self.rbuf.is_empty() && e.kind() == io::ErrorKind::ConnectionReset => {
                        return Err(HeadFailure::Stale { reset: true });
                    }
                    Err(e) => return Err(HeadFailure::Backend(BackendError::Io {
                        target: forward.uri.to_string(),
                        source: Box::new(e),
                    })),
                },
                read = read_some(&mut self.io, &mut self.buf), if watch_client => match read {
                    Ok(0) => return Err(HeadFailure::ClientGone),
                    Ok(_) => watch_client = self.buf.len() < pipelined_cap,
                    Err(_) if self.state.client_closed() => return Err(HeadFailure::ClientGone),
                    Err(_) => watch_client = false,
                },
                () = timer.until(deadline) => return Err(HeadFailure::Backend(response_timeout(forward))),
            }
        }
    }

    /// Forwards the response body in `framing` from `rbuf` and the backend to the client.
    ///
    /// Each step reads what the backend has into the worker thread's [`RELAY`] buffer and writes
    /// it on to the client at once, head and earlier bytes in the same vectored write; only what
    /// the client does not take at once is copied into the connection's `out` and awaited. So a
    /// connection holds body bytes only while its client is slow, and 500 connections relaying
    /// 100 KiB need one relay buffer per worker thread, not 500 of their own (issue 22).
    async fn stream_response_body(&mut self, stream: &mut TcpStream, framing: Framing) -> BodyEnd {
        let mut framer = BodyFramer::new(framing);
        let chunked = matches!(framing, Framing::Chunked | Framing::UntilClose);
        let mut watch_client = true;
        loop {
            let step = RELAY.with_borrow_mut(|relay| {
                if relay.is_empty() {
                    relay.resize(MAX_BODY_READ, 0);
                }
                self.relay_step(stream, relay, &mut framer, chunked)
            });
            // What the client did not take at once.
            if !self.out.is_empty() {
                let written = self.io.write_all(&self.out).await;
                self.out.clear();
                if let Err(error) = written {
                    return BodyEnd::ClientFailed(error.kind());
                }
            }
            match step {
                Relayed::More => {}
                Relayed::Done { clean } => return BodyEnd::Complete(clean),
                Relayed::Cut => return BodyEnd::Cut,
                Relayed::ClientFailed(kind) => return BodyEnd::ClientFailed(kind),
            }
            // hyper reads the client's side while it writes a response: its end of input means
            // the client has gone, and the rest of the response is dropped.
            let watch = watch_client && self.buf.len() < self.limits.effective_max_header_bytes();
            tokio::select! {
                ready = stream.readable() => {
                    if let Err(error) = ready {
                        tracing::warn!(%error, "reading the back end's response body failed; the client's response is cut");
                        return BodyEnd::Cut;
                    }
                }
                read = read_some(&mut self.io, &mut self.buf), if watch => match read {
                    Ok(0) => return BodyEnd::ClientGone,
                    Err(_) if self.state.client_closed() => return BodyEnd::ClientGone,
                    // Pipelined bytes are kept for later.
                    Ok(_) => {}
                    // A failed read: the next write shows what became of the client.
                    Err(_) => watch_client = false,
                },
            }
        }
    }

    /// One step of [`Exchanges::stream_response_body`], without waiting: frames the body bytes in
    /// `rbuf` (read with the head) and what the backend has now (read into `relay`), writes them
    /// after `out` (the response head, the first time) as far as the client takes them, and
    /// leaves the rest in `out`.
    fn relay_step(
        &mut self,
        stream: &mut TcpStream,
        relay: &mut [u8],
        framer: &mut BodyFramer,
        chunked: bool,
    ) -> Relayed {
        let cut = |error: &dyn std::fmt::Display| {
            tracing::warn!(%error, "back end response body broke off; the client's response is cut");
            Relayed::Cut
        };
        // The bytes in `rbuf`: a fixed-length payload goes out where it lies, chunks re-framed.
        let mut from_rbuf = 0..0;
        let mut rbuf_used = 0;
        while rbuf_used < self.rbuf.len() && !framer.is_done() {
            let step = match framer.decode(&self.rbuf[rbuf_used..]) {
                Ok(step) => step,
                Err(error) => return cut(&error),
            };
            let data = rbuf_used + step.data.start..rbuf_used + step.data.end;
            if chunked {
                frame_chunk(&self.rbuf[data], &mut self.out);
            } else {
                from_rbuf = data;
            }
            rbuf_used += step.consumed;
        }
        // What the backend has now.
        let mut from_relay = 0..0;
        let mut relay_len = 0;
        let mut relay_used = 0;
        let mut backend_ended = false;
        if !framer.is_done() {
            match read_now(stream, relay) {
                Ok(0) => backend_ended = true,
                Ok(n) => relay_len = n,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) => {
                    tracing::warn!(%error, "reading the back end's response body failed; the client's response is cut");
                    return Relayed::Cut;
                }
            }
        }
        while relay_used < relay_len && !framer.is_done() {
            let step = match framer.decode(&relay[relay_used..relay_len]) {
                Ok(step) => step,
                Err(error) => return cut(&error),
            };
            let data = relay_used + step.data.start..relay_used + step.data.end;
            if chunked {
                frame_chunk(&relay[data], &mut self.out);
            } else {
                from_relay = data;
            }
            relay_used += step.consumed;
        }
        // A backend that ends inside the body: what came before its end still goes out, then
        // the client connection is cut.
        let mut cut_short = false;
        if backend_ended && let Err(error) = framer.finish() {
            tracing::warn!(%error, "back end closed the connection inside the response body; the client's response is cut");
            cut_short = true;
        }
        let done = framer.is_done();
        if done && chunked {
            self.out.extend_from_slice(LAST_CHUNK);
        }
        // Bytes after the body's end mean the backend said more than it framed.
        let clean = !backend_ended && rbuf_used == self.rbuf.len() && relay_used == relay_len;
        let parts = [&self.rbuf[from_rbuf], &relay[from_relay]];
        let result = match write_now(&mut self.io, &self.out, parts) {
            Ok(written) => {
                keep_unwritten(&mut self.out, parts, written);
                if cut_short {
                    Relayed::Cut
                } else if done {
                    Relayed::Done { clean }
                } else {
                    Relayed::More
                }
            }
            Err(error) => Relayed::ClientFailed(error.kind()),
        };
        self.rbuf.advance(rbuf_used);
        result
    }
    /// Answers a backend failure with MI's fault response (passthrough.rs / forward.rs).
    async fn fault(
        &mut self,
        forward: &DirectForward,
        error: BackendError,
        json: bool,
        keep_alive: bool,
        shutdown: &CancellationToken,
    ) -> Next {
        // As forward.rs `pass_through` logs it, unless the router writes its own line (the
        // deployment's: the one mediation writes on the hyper path).
        if !self.router.logs_failures() {
            tracing::warn!(error_code = error.mi_error_code(), %error, "back end call failed");
        }
        let format = if json {
            FaultFormat::Json
        } else {
            FaultFormat::Xml
        };
        let response = backend_fault_response(&error, format);
        let close = !keep_alive || shutdown.is_cancelled();
        let status = response.status();
        self.record(forward, status.as_u16(), Some(&error), response.headers());
        self.out.clear();
        self.out.extend_from_slice(b"HTTP/1.1 ");
        self.out.extend_from_slice(status.as_str().as_bytes());
        self.out.push(b' ');
        self.out
            .extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
        self.out.extend_from_slice(b"\r\n");
        for (name, value) in response.headers() {
            self.out.extend_from_slice(name.as_str().as_bytes());
            self.out.extend_from_slice(b": ");
            self.out.extend_from_slice(value.as_bytes());
            self.out.extend_from_slice(b"\r\n");
        }
        let body = match response.body() {
            ProxyBody::Full(Some(bytes)) => bytes.clone(),
            _ => bytes::Bytes::new(),
        };
        // hyper's order: the map, its `connection: close`, then the length it writes itself.
        if close {
            self.out.extend_from_slice(b"connection: close\r\n");
        }
        self.out
            .extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
        self.push_date();
        self.out.extend_from_slice(b"\r\n");
        if write_both(&mut self.io, &self.out, &body).await.is_err() {
            if self.state.client_closed() {
                self.client_gone(Gone::Answering);
            }
            return Next::Close;
        }
        if close { Next::Close } else { Next::KeepGoing }
    }

    /// Hands the router the record of this exchange, when it wants records.
    fn record(
        &self,
        forward: &DirectForward,
        status: u16,
        failure: Option<&BackendError>,
        response_headers: &http::HeaderMap,
    ) {
        if self.router.records() {
            let wants_headers = self.router.wants_headers();
            let (method, target) = self.request_bytes();
            self.router.answered(&DirectRecord {
                conn: &self.conn,
                method,
                target,
                status,
                elapsed: self.started.elapsed(),
                forward,
                failure,
                request_headers: wants_headers.then_some(&self.request_map),
                response_headers: wants_headers.then_some(response_headers),
            });
        }
    }

    /// 408 and close for a body that missed its deadline (server.rs answers it the same way).
    async fn request_timeout(&mut self) -> Next {
        self.out.clear();
        self.out.extend_from_slice(REQUEST_TIMEOUT_HEAD);
        self.push_date();
        self.out.extend_from_slice(b"\r\n");
        let _ = self.io.write_all(&self.out).await;
        Next::Close
    }
}

/// Why a request body did not reach the backend whole.
enum Upload {
    /// The client closed its connection.
    ClientGone,
    /// The client's connection failed otherwise.
    ClientFailed,
    /// The body arrived too slowly (the listener's body deadlines; 408).
    BodyTimedOut,
    /// The endpoint timeout passed (504).
    TimedOut,
    /// Writing to the backend failed (502).
    Backend(io::Error),
    /// The client's chunked body is malformed (400).
    BadBody(super::body::BodyError),
}

/// Why no response head came.
enum HeadFailure {
    /// The client closed its connection meanwhile.
    ClientGone,
    /// The backend closed (`reset`: reset) the connection without answering.
    Stale {
        reset: bool,
    },
    Backend(BackendError),
}

fn response_timeout(forward: &DirectForward) -> BackendError {
    BackendError::ResponseTimeout {
        target: forward.uri.to_string(),
        timeout: forward.timeout.unwrap_or_default(),
    }
}

fn io_closed(forward: &DirectForward) -> BackendError {
    BackendError::ConnectionClosed {
        target: forward.uri.to_string(),
        state: ProtocolState::RequestDone,
        source: "the back end closed the connection without answering".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_places_are_those_of_the_list() {
        let list = &crate::headers::HOP_BY_HOP;
        assert_eq!(list[HOP_BY_HOP_CONNECTION], http::header::CONNECTION);
        assert_eq!(
            list[HOP_BY_HOP_TRANSFER_ENCODING],
            http::header::TRANSFER_ENCODING
        );
    }

    // The engine writes a backend's header lines as hyper's path does after parsing them into an
    // http `HeaderMap`, mediation's edits (`insert`/`remove`) and `prepare_client_response`:
    // names lower-case, grouped, edits in place or last, removed entries swap-removed.
    #[test]
    fn response_lines_come_out_in_header_map_order() {
        let set = |name: &str, value: &str| HeaderEdit {
            name: http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            value: Some(http::HeaderValue::from_str(value).expect("value")),
        };
        let remove = |name: &str| HeaderEdit {
            name: http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            value: None,
        };
        let cases: Vec<(&str, Vec<HeaderEdit>)> = vec![
            ("A: 1\r\nB: 2\r\nA: 3\r\n", vec![]),
            // Lines not written as hyper writes them: no space, more spaces, empty values.
            (
                "A:1\r\nB:   2  \r\nC:\r\nD: \r\nE:\t5\r\nF: 6\t\r\n",
                vec![],
            ),
            (
                "Content-Type: t\r\nConnection: keep-alive\r\nX-A: a\r\nX-B: b\r\nX-C: c\r\n",
                vec![],
            ),
            (
                "X-A: a\r\nConnection: close, X-Gone, te\r\nX-Gone: g\r\nTE: trailers\r\nKeep-Alive: t=5\r\nX-B: b\r\nx-a: 2\r\nX-Z: z\r\n",
                vec![],
            ),
            (
                "Transfer-Encoding: chunked\r\nX-1: 1\r\nTrailer: x\r\nX-2: 2\r\nUpgrade: u\r\nX-3: 3\r\n",
                vec![],
            ),
            (
                "Set-Cookie: a\r\nProxy-Authenticate: p\r\nset-cookie: b\r\nX: x\r\n",
                vec![],
            ),
            (
                "A: 1\r\nB: 2\r\nA: 3\r\nC: c\r\nD: d\r\n",
                vec![
                    set("a", "new"),
                    set("x-new", "n"),
                    remove("b"),
                    set("x-new", "m"),
                ],
            ),
            (
                "Connection: keep-alive, X-Gone\r\nA: 1\r\nX-Gone: g\r\nB: 2\r\nKeep-Alive: 5\r\n",
                vec![
                    remove("a"),
                    set("x-gone", "again"),
                    set("x-add", "1"),
                    remove("nothing"),
                ],
            ),
        ];
        for (lines, edits) in &cases {
            let raw = format!("HTTP/1.1 200 OK\r\n{lines}\r\n");
            let mut head = ResponseHead::default();
            assert!(parse_response(raw.as_bytes(), &mut head).expect("parses"));
            let mut map = http::HeaderMap::new();
            for line in &head.headers {
                map.append(
                    http::HeaderName::from_bytes(&raw.as_bytes()[line.name.clone()]).expect("name"),
                    http::HeaderValue::from_bytes(&raw.as_bytes()[line.value.clone()])
                        .expect("value"),
                );
            }
            for edit in edits {
                match &edit.value {
                    Some(value) => {
                        map.insert(edit.name.clone(), value.clone());
                    }
                    None => {
                        map.remove(&edit.name);
                    }
                }
            }
            crate::headers::strip_hop_by_hop(&mut map);
            let mut expected = Vec::new();
            for (name, value) in &map {
                super::super::lines::push_line(
                    &mut expected,
                    name.as_str().as_bytes(),
                    value.as_bytes(),
                );
            }
            let strip = HopByHop::of(&head.headers, head.connection);
            let mut got = Vec::new();
            let mut raw = raw.into_bytes();
            lowercase_names(&mut raw, &head.headers);
            let mut runs = LineRuns::new(&raw);
            let mut order = Vec::new();
            let entries = in_map_order(&raw, &head.headers, edits, &mut order, |name, kind| {
                strip.rank(&raw, &head.headers, name, kind, 0)
            });
            for entry in entries {
                match entry {
                    Emit::Line(line) => runs.push(&mut got, line),
                    Emit::Edit(edit) => runs.push_edit(&mut got, edit),
                }
            }
            runs.flush(&mut got);
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&expected),
                "{lines} {edits:?}"
            );
        }
    }

    /// One timer serves every exchange of a connection: a deadline is never reported before it
    /// has passed, whether the timer was armed for an earlier deadline (which went off, or not
    /// yet) or for a later one (a route with a longer timeout before).
    #[tokio::test]
    async fn the_exchange_timer_goes_off_at_each_deadline_not_at_an_earlier_one() {
        let mut timer = ExchangeTimer::default();
        let guard = std::time::Duration::from_secs(30);
        // Armed for a deadline that passes unwatched, then asked for a later one.
        let first = Instant::now() + std::time::Duration::from_millis(5);
        let poll_once = |timer: &mut ExchangeTimer, at: Instant| {
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            timer.poll_until(at, &mut cx)
        };
        assert!(poll_once(&mut timer, first).is_pending());
        tokio::time::sleep_until((first + std::time::Duration::from_millis(5)).into()).await;
        let second = Instant::now() + std::time::Duration::from_millis(20);
        tokio::time::timeout(guard, timer.until(Some(second)))
            .await
            .expect("the second deadline is reported");
        assert!(Instant::now() >= second, "reported before its deadline");
        // Armed far out, then asked for a nearer deadline: re-armed to it.
        assert!(
            poll_once(
                &mut timer,
                Instant::now() + std::time::Duration::from_secs(3600)
            )
            .is_pending()
        );
        let near = Instant::now() + std::time::Duration::from_millis(10);
        tokio::time::timeout(guard, timer.until(Some(near)))
            .await
            .expect("the nearer deadline is reported");
        assert!(Instant::now() >= near);
        // A deadline already passed is reported, and no deadline never.
        tokio::time::timeout(guard, timer.until(Some(Instant::now())))
            .await
            .expect("a passed deadline is reported");
        let never = tokio::time::timeout(std::time::Duration::from_millis(20), timer.until(None));
        assert!(never.await.is_err());
    }

    /// The shortcut never calls valid what http's parser refuses, wherever the byte stands.
    #[test]
    fn plainly_valid_targets_are_valid_path_and_queries() {
        let mut plain = 0;
        for b in 0..=255u8 {
            for shape in [&b"/a%sb"[..], b"/a?x%sy", b"/%s", b"/?%s", b"/a/%s?%s"] {
                let target = super::super::head::with_byte(shape, b);
                if plainly_valid_target(&target) {
                    plain += 1;
                    assert!(
                        http::uri::PathAndQuery::try_from(&target[..]).is_ok(),
                        "{target:?}"
                    );
                }
            }
        }
        // The shortcut is taken for the usual targets.
        assert!(plain > 5 * 70);
        assert!(plainly_valid_target(b"/bench/1k?a=1&b=%20x"));
        assert!(!plainly_valid_target(b"/a#f") && !plainly_valid_target(b"/a b"));
    }

    #[test]
    fn only_plain_http11_requests_stay_on_the_direct_path() {
        let cases: [(&[u8], Option<&str>); 7] = [
            (b"GET /a HTTP/1.1\r\nHost: a\r\n\r\n", None),
            (b"GET /a HTTP/1.0\r\n\r\n", Some("HTTP/1.0")),
            (
                b"POST /a HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
                Some("Expect"),
            ),
            (
                b"GET /a HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n",
                Some("Upgrade"),
            ),
            (
                b"GET /a HTTP/1.1\r\nHost: a\r\nConnection: x-secret\r\n\r\n",
                Some("Connection options"),
            ),
            (
                b"POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
                None,
            ),
            (
                b"GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n",
                Some("request-target not in origin form"),
            ),
        ];
        for (input, expected) in cases {
            let mut parser = RequestParser::new(8192, 100);
            let head = parser.parse(input).expect("valid").expect("complete");
            assert_eq!(
                needs_general_path(head, input),
                expected,
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    /// Whatever a non-waiting write took of `out` then the two parts, `out` keeps exactly the rest.
    #[test]
    fn unwritten_bytes_are_kept_in_order_at_every_split() {
        let parts: [&[u8]; 2] = [b"defgh", b"ij"];
        for head in [&b""[..], b"abc"] {
            let whole = [head, parts[0], parts[1]].concat();
            for written in 0..=whole.len() {
                let mut out = head.to_vec();
                keep_unwritten(&mut out, parts, written);
                assert_eq!(out, whole[written..], "head {head:?}, {written} written");
            }
        }
    }

    #[test]
    fn json_faults_follow_accept_and_content_type() {
        for (input, json) in [
            (
                &b"GET / HTTP/1.1\r\nHost: a\r\nAccept: application/JSON\r\n\r\n"[..],
                true,
            ),
            (
                b"GET / HTTP/1.1\r\nHost: a\r\nContent-Type: text/json\r\n\r\n",
                true,
            ),
            (b"GET / HTTP/1.1\r\nHost: a\r\nX-Json: json\r\n\r\n", false),
        ] {
            let mut parser = RequestParser::new(8192, 100);
            let head = parser.parse(input).expect("valid").expect("complete");
            assert_eq!(prefers_json(head, input), json);
        }
    }
}
