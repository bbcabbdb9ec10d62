//! The byte stream of one client connection as hyper sees it: [`GuardedIo`] wraps the socket (or
//! its TLS session), records activity in the connection's [`ConnState`] for the listener's
//! watchdog, runs the [`RequestFramingScanner`] over HTTP/1 bytes, holding each request head back
//! until it is known to be acceptable, and enforces the client-side deadlines of [`IoTimeouts`].
//!
//! When a head breaks the framing rules, or is not complete when its deadline passes, hyper is
//! shown a clean end of input right before it (so earlier requests on the connection complete
//! normally), and when hyper then shuts the connection down the wrapper writes `400 Bad Request`
//! (framing) or `408 Request Timeout` (deadline) with `Connection: close` first. The offending
//! request never reaches hyper, the handler, or a backend. That end of input is held back while
//! a request is in flight: hyper reads an end of input then as the client having gone.
//!
//! A real end of input, or a read error (a reset), is recorded in [`ConnState::client_closed`]:
//! the listener reports the exchanges it gives up because of it.
//!
//! Deadlines (reliability.md §5; slowloris, R-U-Dead-Yet and slow read):
//! - a request head must be complete within `header` of its first byte; reads do not extend it;
//! - while the server waits for request body bytes, one wait may last at most `body_read` (nginx
//!   `client_body_timeout`), and all waits of one body together at most `body_rate_grace` plus one
//!   second per `min_body_rate` bytes received (Apache `mod_reqtimeout` `MinRate`). Time in which
//!   the server does not ask for body bytes (a slow backend) is not counted against the client.
//!   The read then fails with `TimedOut`: the handler's body stream ends in an error, so the
//!   backend exchange is aborted rather than completed with a truncated body, and the listener
//!   answers 408 when no response has started;
//! - a write to the client that makes no progress for `send` fails with `TimedOut` (nginx
//!   `send_timeout`), and so does one of a client that reads less than `min_send_rate` bytes per
//!   second on average while writes wait (a trickling slow reader, slowhttptest `-X`): waiting
//!   spends a budget that starts at `send` and that reading earns back at that rate, capped at
//!   `send` so that reading fast once does not pay for trickling later. A reader below the rate
//!   is cut within `send / (1 - its rate / min_send_rate)` of waiting (twice `send` at half the
//!   rate). The unsent queue in the kernel is capped at [`CLIENT_NOTSENT_LOWAT`], so a write goes
//!   through only when the client has taken bytes; the first queue's worth written after writes
//!   first wait is not counted (it may only fill a send buffer the kernel grew). The socket is
//!   then reset. Memory stays
//!   bounded meanwhile because hyper polls a response body only when its write buffer has room.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use futures_util::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use crate::framing::{FramingViolation, RequestFramingScanner};
use crate::server::ListenerStats;

/// The response written for a refused request head (RFC 9112 §6.3: respond, then close).
const FRAMING_REJECTION: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

/// The response written when a started request head misses its deadline (RFC 9110 §15.5.9: 408,
/// and the server closes the connection).
pub const HEAD_TIMEOUT_RESPONSE: &[u8] =
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

/// The most response bytes a client connection keeps queued in the kernel and not yet sent
/// (`TCP_NOTSENT_LOWAT`, set by the listener on every accepted socket): a write succeeds only
/// once the client's reading has let the unsent queue drop below half of this. It makes a
/// client's reading progress visible to the send rate check in steps of at most this size
/// (without it a write fills whatever the kernel's autotuned send buffer grew to, several MiB
/// on loopback, which looks like reading), and bounds the kernel memory a client that does not
/// read can hold. 16 KiB is the value Cloudflare and others run with for HTTP/2.
pub const CLIENT_NOTSENT_LOWAT: u32 = 16 * 1024;

/// How many bytes are read from the socket at a time while a head is being held.
const HEAD_READ_CHUNK: usize = 8 * 1024;

/// A stream whose close can be made abortive. A client cut for not reading would otherwise leave
/// its unsent response bytes trickling out of an orphaned socket, and the client would not see
/// the close until it had read them all; with `SO_LINGER` 0 the close resets the connection.
pub trait AbortOnClose {
    /// Makes the coming close of the underlying socket send RST.
    fn abort_on_close(&self) {}

    /// How many bytes writes may hand to the kernel without the client taking any: the unsent
    /// queue a listener's socket is capped at ([`CLIENT_NOTSENT_LOWAT`]); 0 for a stream with no
    /// queue of its own. The send rate check does not count that many bytes, written once
    /// writes first wait, as the client's reading: they may only have filled the queue (the
    /// kernel grows a socket's send buffer after a first wait).
    fn unsent_queue_bytes(&self) -> u64 {
        0
    }
}

impl AbortOnClose for tokio::net::TcpStream {
    fn abort_on_close(&self) {
        let _ = socket2::SockRef::from(self).set_linger(Some(Duration::ZERO));
    }

    fn unsent_queue_bytes(&self) -> u64 {
        u64::from(CLIENT_NOTSENT_LOWAT)
    }
}

impl<S: AbortOnClose> AbortOnClose for tokio_rustls::server::TlsStream<S> {
    fn abort_on_close(&self) {
        self.get_ref().0.abort_on_close();
    }

    fn unsent_queue_bytes(&self) -> u64 {
        self.get_ref().0.unsent_queue_bytes()
    }
}

impl AbortOnClose for tokio::io::DuplexStream {}

impl<T: AbortOnClose> AbortOnClose for GuardedIo<T> {
    fn abort_on_close(&self) {
        self.inner.abort_on_close();
    }

    fn unsent_queue_bytes(&self) -> u64 {
        self.inner.unsent_queue_bytes()
    }
}

/// The client-side deadlines [`GuardedIo`] enforces; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoTimeouts {
    /// A request head must be complete within this long of its first byte.
    pub header: Duration,
    /// Longest single wait for request body bytes.
    pub body_read: Duration,
    /// Bytes per second a body must average over the time the server waits for it, after the
    /// grace period; 0 disables the rate check.
    pub min_body_rate: u64,
    /// Waiting time every body is allowed before the minimum rate counts.
    pub body_rate_grace: Duration,
    /// Longest time a write to the client may make no progress.
    pub send: Duration,
    /// Bytes per second a client must read on average over the time writes to it wait, once
    /// `send` of waiting is used up; 0 disables the rate check.
    pub min_send_rate: u64,
}

/// What the listener knows about one connection, shared by its stream wrapper, its request
/// service and its watchdog without locks.
#[derive(Debug)]
pub struct ConnState {
    origin: Instant,
    /// Nanoseconds since `origin` of the last byte moved either way (nanoseconds, not coarser:
    /// the engine times its exchanges from it instead of reading the clock again, issue 22).
    last_activity: AtomicU64,
    /// Nanoseconds since `origin` when the last request in flight ended (or the connection
    /// opened); meaningful while `in_flight` is 0.
    idle_since: AtomicU64,
    /// Requests handed to the service whose responses have not ended.
    in_flight: AtomicUsize,
    /// Bytes of a request head have arrived that no request in flight accounts for.
    request_started: AtomicBool,
    /// A request body missed its deadline.
    body_timed_out: AtomicBool,
    /// A read from the client met the end of its input or failed (FIN or RST): the client has
    /// gone, or at least will send nothing more.
    client_closed: AtomicBool,
    /// The reader waiting for the last request in flight to end before it shows hyper the end of
    /// input of a cut stream (see [`GuardedIo`]).
    cut_waiter: AtomicWaker,
    stats: Arc<ListenerStats>,
}

impl ConnState {
    /// The state of a connection opened now.
    pub fn new(stats: Arc<ListenerStats>) -> Arc<Self> {
        Arc::new(Self {
            origin: Instant::now(),
            last_activity: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            request_started: AtomicBool::new(false),
            body_timed_out: AtomicBool::new(false),
            client_closed: AtomicBool::new(false),
            cut_waiter: AtomicWaker::new(),
            stats,
        })
    }

    /// Now, as nanoseconds since `origin` (a u64 holds 584 years of them).
    fn stamp_now(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn instant_of(&self, stamp: u64) -> Instant {
        self.origin + Duration::from_nanos(stamp)
    }

    /// Records activity now.
    pub fn touch(&self) {
        self.last_activity
            .store(self.stamp_now(), Ordering::Relaxed);
    }

    /// The instant of the last recorded activity.
    pub fn last_activity(&self) -> Instant {
        self.instant_of(self.last_activity.load(Ordering::Relaxed))
    }

    /// The service took a request: the connection is busy until [`ConnState::request_ended`].
    pub fn request_began(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.stats.in_flight.fetch_add(1, Ordering::Relaxed);
        self.request_started.store(false, Ordering::Release);
    }

    /// A response ended (fully written or abandoned).
    pub fn request_ended(&self) {
        self.request_ended_at(self.stamp_now());
    }

    /// A response ended with the last recorded activity, the write of its last byte: the
    /// connection is idle from then on, and the clock is not read again (issue 22). Only for a
    /// caller that knows no write is still to come for this response.
    pub fn request_ended_by_last_write(&self) {
        self.request_ended_at(self.last_activity.load(Ordering::Relaxed));
    }

    fn request_ended_at(&self, stamp: u64) {
        // Stamped before the count drops so that a reader seeing 0 sees the new stamp.
        self.idle_since.store(stamp, Ordering::Release);
        self.stats.in_flight.fetch_sub(1, Ordering::Relaxed);
        if self.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.cut_waiter.wake();
        }
    }

    /// Requests handed to the service whose responses have not ended.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// True once a read from the client met the end of its input or failed: a client that
    /// closed its connection, or half-closed it (which HTTP/1 cannot tell apart from a close).
    pub fn client_closed(&self) -> bool {
        self.client_closed.load(Ordering::Acquire)
    }

    /// Since when the connection has been waiting for the first byte of its next request; `None`
    /// while a request is in flight or a head is arriving.
    pub fn idle_since(&self) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0
            || self.request_started.load(Ordering::Acquire)
        {
            return None;
        }
        Some(self.instant_of(self.idle_since.load(Ordering::Acquire)))
    }

    /// True once a request body on this connection missed its deadline.
    pub fn body_timed_out(&self) -> bool {
        self.body_timed_out.load(Ordering::Acquire)
    }

    /// The listener's counters.
    pub fn stats(&self) -> &ListenerStats {
        &self.stats
    }
}

/// Why the read side of a connection was ended by a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expired {
    Head,
    Body,
}

/// A one-shot timer that is allocated on first use and re-armed in place.
#[derive(Default)]
struct Deadline {
    sleep: Option<Pin<Box<Sleep>>>,
    at: Option<Instant>,
}

impl Deadline {
    /// True once `at` has passed; otherwise the task is woken when it does.
    fn poll_expired(&mut self, at: Instant, cx: &mut Context<'_>) -> bool {
        if at <= Instant::now() {
            return true;
        }
        match &mut self.sleep {
            Some(sleep) => {
                if self.at != Some(at) {
                    sleep.as_mut().reset(at.into());
                }
            }
            None => self.sleep = Some(Box::pin(tokio::time::sleep_until(at.into()))),
        }
        self.at = Some(at);
        self.sleep
            .as_mut()
            .is_some_and(|sleep| sleep.as_mut().poll(cx).is_ready())
    }
}

/// A connection stream with activity stamping, HTTP/1 request-framing enforcement and the
/// client-side deadlines.
pub struct GuardedIo<T> {
    inner: T,
    state: Arc<ConnState>,
    timeouts: IoTimeouts,
    /// `None` when the connection is not HTTP/1 (TLS with ALPN h2) and nothing is scanned.
    scanner: Option<RequestFramingScanner>,
    /// Bytes read and scanned but not yet handed to hyper; `held[0]` is at stream offset
    /// `held_offset`.
    held: BytesMut,
    held_offset: u64,
    /// Largest head held back before the verdict is left to hyper (which answers 431).
    max_held: usize,
    violation: Option<FramingViolation>,
    expired: Option<Expired>,
    rejection_written: usize,
    read_eof: bool,
    /// When the first byte of the head being received arrived.
    head_started: Option<Instant>,
    /// When the pending wait for body bytes began.
    body_wait_started: Option<Instant>,
    /// Time spent waiting for the current body's bytes, and how many arrived.
    body_waited: Duration,
    body_bytes: u64,
    read_deadline: Deadline,
    /// When the pending write began to make no progress.
    write_blocked_since: Option<Instant>,
    /// The waiting time writes to the client may still spend: `None` until a write first has to
    /// wait, then `send`, less the time writes have waited since, plus one second per
    /// `min_send_rate` bytes written since (once writes wait and the unsent queue, capped at
    /// [`CLIENT_NOTSENT_LOWAT`], is full, every byte written is one the client has taken),
    /// never more than [`GuardedIo::write_budget_cap`].
    write_budget: Option<Duration>,
    /// Bytes still to be written before writing counts as the client's reading again: set to
    /// the inner stream's [`AbortOnClose::unsent_queue_bytes`] when writes first wait.
    write_uncredited: u64,
    write_deadline: Deadline,
}

impl<T> GuardedIo<T> {
    /// Wraps `inner`; `scan_http1` enables the framing scanner (and with it the head and body
    /// deadlines), `max_head_bytes` bounds a held head.
    pub fn new(
        inner: T,
        state: Arc<ConnState>,
        timeouts: IoTimeouts,
        scan_http1: bool,
        max_head_bytes: usize,
    ) -> Self {
        Self {
            inner,
            state,
            timeouts,
            scanner: scan_http1.then(RequestFramingScanner::new),
            held: BytesMut::new(),
            held_offset: 0,
            max_held: max_head_bytes,
            violation: None,
            expired: None,
            rejection_written: 0,
            read_eof: false,
            head_started: None,
            body_wait_started: None,
            body_waited: Duration::ZERO,
            body_bytes: 0,
            read_deadline: Deadline::default(),
            write_blocked_since: None,
            write_budget: None,
            write_uncredited: 0,
            write_deadline: Deadline::default(),
        }
    }

    /// The violation that ended this connection, if any.
    pub fn violation(&self) -> Option<FramingViolation> {
        self.violation
    }

    /// Stream offset of the next byte a read hands out: how many bytes reads have handed out.
    pub(crate) fn delivered(&self) -> u64 {
        self.held_offset
    }

    /// Whether the framing scanner judged a whole request head whose request line starts at
    /// stream offset `at`, and accepted it: it still follows the connection (did not give up or
    /// stop at a violation), its last head started there, and it is past that head. A reader
    /// holding that head need not judge it again (the Conflux HTTP/1 engine's parser).
    pub(crate) fn accepted_head_at(&self, at: u64) -> bool {
        self.violation.is_none()
            && self.expired.is_none()
            && self.scanner.as_ref().is_some_and(|scanner| {
                !scanner.is_pass_through() && !scanner.in_head() && scanner.head_start() == at
            })
    }

    fn releasable_len(&self) -> usize {
        let limit = match &self.scanner {
            Some(s) if !self.read_eof => s.releasable(),
            _ => u64::MAX,
        };
        let len = limit.saturating_sub(self.held_offset);
        usize::try_from(len)
            .unwrap_or(usize::MAX)
            .min(self.held.len())
    }

    /// Bookkeeping after `read` bytes arrived (`in_body`: the scanner was inside a body).
    fn on_bytes(&mut self, read: usize, in_body: bool) {
        self.state.touch();
        if let Some(started) = self.body_wait_started.take() {
            self.body_waited += started.elapsed();
        }
        if in_body {
            self.body_bytes = self.body_bytes.saturating_add(read as u64);
        }
    }

    /// Tracks where a head begins and ends after the scanner moved.
    fn after_scan(&mut self) {
        let Some(scanner) = &self.scanner else {
            return;
        };
        if scanner.in_head() {
            if self.head_started.is_none() {
                self.head_started = Some(Instant::now());
                self.body_waited = Duration::ZERO;
                self.body_bytes = 0;
                self.state.request_started.store(true, Ordering::Release);
            }
        } else {
            self.head_started = None;
        }
    }

    /// The deadline of the read that just found no bytes, if one applies.
    fn read_wait_deadline(&mut self) -> Option<(Instant, Expired)> {
        let scanner = self.scanner.as_ref()?;
        if scanner.is_pass_through() {
            return None;
        }
        if let Some(started) = self.head_started {
            return Some((started + self.timeouts.header, Expired::Head));
        }
        if !scanner.in_body() {
            return None;
        }
        let started = *self.body_wait_started.get_or_insert_with(Instant::now);
        let mut allowed = self.timeouts.body_read;
        // One second per `min_body_rate` bytes received (in whole milliseconds); rate 0: no check.
        if let Some(earned_ms) = self
            .body_bytes
            .saturating_mul(1000)
            .checked_div(self.timeouts.min_body_rate)
        {
            let budget = self
                .timeouts
                .body_rate_grace
                .saturating_add(Duration::from_millis(earned_ms));
            allowed = allowed.min(budget.saturating_sub(self.body_waited));
        }
        Some((started + allowed, Expired::Body))
    }

    /// Called when the socket had nothing to read: pending, or the deadline that passed.
    fn poll_read_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some((at, kind)) = self.read_wait_deadline() else {
            return Poll::Pending;
        };
        if !self.read_deadline.poll_expired(at, cx) {
            return Poll::Pending;
        }
        self.expired = Some(kind);
        match kind {
            Expired::Head => {
                self.state
                    .stats()
                    .head_timeouts
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!("request head not complete within its deadline; answering 408");
                // Hyper sees the end of input before the late head (once the requests before
                // it have ended); the 408 goes out when it shuts the connection down.
                self.held.clear();
                self.poll_cut(cx)
            }
            Expired::Body => {
                self.state
                    .stats()
                    .body_timeouts
                    .fetch_add(1, Ordering::Relaxed);
                self.state.body_timed_out.store(true, Ordering::Release);
                tracing::debug!(
                    received = self.body_bytes,
                    "request body arrived too slowly; aborting the exchange"
                );
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "request body arrived too slowly",
                )))
            }
        }
    }

    /// Records that the client closed (end of input) or broke (an error) its side of the
    /// connection, from the result of a read from the socket and the bytes it delivered.
    fn note_read(&self, result: &io::Result<()>, read: usize) {
        if result.is_err() || read == 0 {
            self.state.client_closed.store(true, Ordering::Release);
        }
    }

    /// The end of input shown to hyper before a refused or late head. hyper treats an end of
    /// input while a request is in flight as the client having gone (and drops that request), so
    /// the cut is held back until the requests before it have ended: they complete normally, and
    /// only then does hyper see the end and shut down (which writes the 400 or 408).
    fn poll_cut(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.state.in_flight() > 0 {
            self.state.cut_waiter.register(cx.waker());
            // Re-checked after registering: the last request may have ended in between.
            if self.state.in_flight() > 0 {
                return Poll::Pending;
            }
        }
        Poll::Ready(Ok(()))
    }

    fn rejection(&self) -> Option<&'static [u8]> {
        if self.violation.is_some() {
            Some(FRAMING_REJECTION)
        } else if self.expired == Some(Expired::Head) {
            Some(HEAD_TIMEOUT_RESPONSE)
        } else {
            None
        }
    }
}

/// Turns a pending inner read into the wrapper's deadline check.
macro_rules! read_or_wait {
    ($this:ident, $cx:ident, $poll:expr) => {
        match $poll {
            Poll::Ready(result) => result,
            Poll::Pending => return $this.poll_read_wait($cx),
        }
    };
}

impl<T: AsyncRead + Unpin> AsyncRead for GuardedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            let ready = this.releasable_len();
            if ready > 0 {
                let n = ready.min(buf.remaining());
                buf.put_slice(&this.held[..n]);
                this.held.advance(n);
                this.held_offset += n as u64;
                return Poll::Ready(Ok(()));
            }
            if this.violation.is_some() || this.expired == Some(Expired::Head) {
                return this.poll_cut(cx);
            }
            if this.expired.is_some() || (this.read_eof && this.held.is_empty()) {
                return Poll::Ready(Ok(()));
            }
            let Some(scanner) = this.scanner.as_ref() else {
                let before = buf.filled().len();
                let read = ready!(Pin::new(&mut this.inner).poll_read(cx, buf));
                this.note_read(&read, buf.filled().len() - before);
                read?;
                if buf.filled().len() > before {
                    this.state.touch();
                }
                return Poll::Ready(Ok(()));
            };
            if this.held.is_empty() && !scanner.in_head() {
                // Body bytes (or the start of the next request): read straight into hyper's
                // buffer and keep back only what turns out to be the start of a head.
                let in_body = scanner.in_body();
                let before = buf.filled().len();
                let result = read_or_wait!(this, cx, Pin::new(&mut this.inner).poll_read(cx, buf));
                let read = buf.filled().len() - before;
                this.note_read(&result, read);
                result?;
                if read == 0 {
                    this.read_eof = true;
                    return Poll::Ready(Ok(()));
                }
                this.on_bytes(read, in_body);
                let Some(scanner) = this.scanner.as_mut() else {
                    return Poll::Ready(Ok(()));
                };
                let start = this.held_offset;
                let verdict = scanner.scan(&buf.filled()[before..]);
                let keep = usize::try_from(scanner.releasable().saturating_sub(start))
                    .unwrap_or(usize::MAX)
                    .min(read);
                if keep < read {
                    this.held.extend_from_slice(&buf.filled()[before + keep..]);
                    buf.set_filled(before + keep);
                }
                this.held_offset = start + keep as u64;
                if let Err(violation) = verdict {
                    this.violation = Some(violation);
                }
                this.after_scan();
                if keep > 0 {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            // A head is in progress: collect it in the hold buffer.
            let mut chunk = [0u8; HEAD_READ_CHUNK];
            let mut chunk_buf = ReadBuf::new(&mut chunk);
            let result = read_or_wait!(
                this,
                cx,
                Pin::new(&mut this.inner).poll_read(cx, &mut chunk_buf)
            );
            let read = chunk_buf.filled().len();
            this.note_read(&result, read);
            result?;
            let before = this.held.len();
            this.held.extend_from_slice(chunk_buf.filled());
            if read == 0 {
                // End of input inside a head: hand hyper what there is; it reports the
                // incomplete message.
                this.read_eof = true;
                continue;
            }
            this.on_bytes(read, false);
            let Some(scanner) = this.scanner.as_mut() else {
                continue;
            };
            if let Err(violation) = scanner.scan(&this.held[before..]) {
                this.violation = Some(violation);
            } else if this.held.len() > this.max_held {
                // Too large to hold: hyper's own head limit answers 431.
                scanner.give_up();
            }
            this.after_scan();
        }
    }
}

impl<T: AsyncWrite + AbortOnClose + Unpin> GuardedIo<T> {
    /// Called when a write could not proceed: pending, or the send deadline's error.
    fn poll_write_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let since = *self.write_blocked_since.get_or_insert_with(Instant::now);
        if self.write_budget.is_none() {
            self.write_uncredited = self.inner.unsent_queue_bytes();
        }
        let budget = *self.write_budget.get_or_insert(self.timeouts.send);
        let mut allowed = self.timeouts.send;
        // A reader that trickles keeps each single wait short; it must still read at
        // `min_send_rate` on average while writes wait, with at most the cap banked.
        if self.timeouts.min_send_rate > 0 {
            allowed = allowed.min(budget);
        }
        if self.write_deadline.poll_expired(since + allowed, cx) {
            self.inner.abort_on_close();
            self.state
                .stats()
                .send_timeouts
                .fetch_add(1, Ordering::Relaxed);
            tracing::debug!("client stopped reading or reads too slowly; closing");
            return Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                "client stopped reading the response",
            ));
        }
        Poll::Pending
    }

    /// A write, flush or shutdown went through (`written` bytes).
    fn wrote(&mut self, written: usize) {
        let waited = self.write_blocked_since.take().map(|since| since.elapsed());
        let rate = self.timeouts.min_send_rate;
        let cap = self.write_budget_cap();
        if let Some(budget) = &mut self.write_budget {
            *budget = budget.saturating_sub(waited.unwrap_or_default());
            let uncredited = self.write_uncredited.min(written as u64);
            self.write_uncredited -= uncredited;
            let credited = written as u64 - uncredited;
            if rate > 0 && credited > 0 {
                let earned = credited.saturating_mul(1_000_000_000) / rate;
                *budget = budget.saturating_add(Duration::from_nanos(earned)).min(cap);
            }
        }
        if written > 0 {
            self.state.touch();
        }
    }

    /// The most waiting time a client's reading can bank: the send timeout, so that a client
    /// must read at `min_send_rate` on average over any stretch of that much waiting (reading
    /// fast once does not pay for trickling later). At rates so low that one step of the capped
    /// unsent queue ([`CLIENT_NOTSENT_LOWAT`] / 2, the smallest progress the kernel reports)
    /// takes longer than that, the cap is two such steps, so that a client reading at the rate
    /// is never cut.
    fn write_budget_cap(&self) -> Duration {
        let step = u64::from(CLIENT_NOTSENT_LOWAT)
            .saturating_mul(1_000_000_000)
            .checked_div(self.timeouts.min_send_rate)
            .map_or(Duration::ZERO, Duration::from_nanos);
        self.timeouts.send.max(step)
    }
}

impl<T: AsyncWrite + AbortOnClose + Unpin> AsyncWrite for GuardedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(result) => {
                let written = result?;
                this.wrote(written);
                Poll::Ready(Ok(written))
            }
            Poll::Pending => this.poll_write_wait(cx).map(Err),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(result) => {
                let written = result?;
                this.wrote(written);
                Poll::Ready(Ok(written))
            }
            Poll::Pending => this.poll_write_wait(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Ready(result) => {
                this.wrote(0);
                Poll::Ready(result)
            }
            Poll::Pending => this.poll_write_wait(cx).map(Err),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(rejection) = this.rejection() {
            while this.rejection_written < rejection.len() {
                let rest = &rejection[this.rejection_written..];
                let n = match Pin::new(&mut this.inner).poll_write(cx, rest) {
                    Poll::Ready(result) => result?,
                    Poll::Pending => return this.poll_write_wait(cx).map(Err),
                };
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                this.rejection_written += n;
                this.wrote(n);
            }
            match Pin::new(&mut this.inner).poll_flush(cx) {
                Poll::Ready(result) => result?,
                Poll::Pending => return this.poll_write_wait(cx).map(Err),
            }
            this.wrote(0);
        }
        match Pin::new(&mut this.inner).poll_shutdown(cx) {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => this.poll_write_wait(cx).map(Err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Limits long enough never to fire in these tests.
    const RELAXED: IoTimeouts = IoTimeouts {
        header: Duration::from_secs(60),
        body_read: Duration::from_secs(60),
        min_body_rate: 0,
        body_rate_grace: Duration::from_secs(60),
        send: Duration::from_secs(60),
        min_send_rate: 0,
    };

    fn guarded<T>(inner: T, timeouts: IoTimeouts) -> GuardedIo<T> {
        GuardedIo::new(inner, ConnState::new(Arc::default()), timeouts, true, 1024)
    }

    #[test]
    fn a_request_ended_by_its_last_write_is_idle_from_that_write() {
        let state = ConnState::new(Arc::default());
        state.request_began();
        state.touch();
        let written = state.last_activity();
        std::thread::sleep(Duration::from_millis(2));
        state.request_ended_by_last_write();
        assert_eq!(state.idle_since(), Some(written));
        // Read from the clock otherwise: later than that write.
        state.request_began();
        state.request_ended();
        assert!(state.idle_since().is_some_and(|idle| idle > written));
    }

    #[tokio::test]
    async fn valid_requests_pass_unchanged_even_byte_by_byte() {
        let input = b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nokGET / HTTP/1.1\r\n\r\n";
        let (mut client, server) = tokio::io::duplex(1);
        let mut io = guarded(server, RELAXED);
        let writer = tokio::spawn(async move {
            let _ = client.write_all(input).await;
            let _ = client.shutdown().await;
            client
        });
        let mut out = Vec::new();
        let read = io.read_to_end(&mut out).await;
        assert!(read.is_ok());
        assert_eq!(out, input.to_vec());
        assert!(io.violation().is_none());
        drop(writer);
    }

    #[tokio::test]
    async fn smuggling_head_is_cut_and_rejected_on_shutdown() {
        let first = b"GET /ok HTTP/1.1\r\n\r\n";
        let bad =
            b"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        let (mut client, server) = tokio::io::duplex(4096);
        let mut io = guarded(server, RELAXED);
        let _ = client.write_all(first).await;
        let _ = client.write_all(bad).await;
        let mut out = Vec::new();
        let _ = io.read_to_end(&mut out).await;
        assert_eq!(out, first.to_vec());
        assert_eq!(
            io.violation(),
            Some(FramingViolation::ContentLengthWithTransferEncoding)
        );
        let _ = io.shutdown().await;
        let mut answer = Vec::new();
        let _ = client.read_to_end(&mut answer).await;
        assert_eq!(answer, FRAMING_REJECTION.to_vec());
    }

    /// What the Conflux HTTP/1 engine's parser relies on to skip its own scan of a head: the
    /// scanner accepted exactly the head at that offset, whole; nothing else counts.
    #[tokio::test]
    async fn an_accepted_head_is_known_by_its_offset_and_nothing_else_is() {
        let (mut client, server) = tokio::io::duplex(4096);
        let mut io = guarded(server, RELAXED);
        // Empty lines first: the head starts at its request line.
        let first = b"\r\nGET /a HTTP/1.1\r\nHost: a\r\n\r\n";
        let _ = client.write_all(first).await;
        let mut buf = vec![0u8; 256];
        let n = io.read(&mut buf).await.expect("read");
        assert_eq!(&buf[..n], first);
        assert_eq!(io.delivered(), first.len() as u64);
        assert!(io.accepted_head_at(2));
        assert!(!io.accepted_head_at(0) && !io.accepted_head_at(3));
        // A body, then the start of the next head: the first head is no longer the scanner's
        // last, and the next one is not complete.
        let second =
            b"POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nokGET /c HTTP/1.1\r\n";
        let _ = client.write_all(second).await;
        let mut got = 0;
        while got < second.len() - b"GET /c HTTP/1.1\r\n".len() {
            got += io.read(&mut buf).await.expect("read");
        }
        let second_at = first.len() as u64;
        assert!(!io.accepted_head_at(2));
        let third_at = second_at + (second.len() - b"GET /c HTTP/1.1\r\n".len()) as u64;
        assert!(!io.accepted_head_at(second_at) && !io.accepted_head_at(third_at));
        // A violation: nothing is accepted any more.
        let _ = client
            .write_all(b"Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")
            .await;
        let _ = io.read(&mut buf).await;
        assert!(io.violation().is_some());
        assert!(!io.accepted_head_at(third_at));
        // A scanner that gave up vouches for nothing.
        let (mut client, server) = tokio::io::duplex(4096);
        let mut io = guarded(server, RELAXED);
        let _ = client.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
        let _ = io.read(&mut buf).await.expect("read");
        assert!(io.accepted_head_at(0));
        if let Some(scanner) = io.scanner.as_mut() {
            scanner.give_up();
        }
        assert!(!io.accepted_head_at(0));
    }

    #[tokio::test]
    async fn a_trickled_head_gets_408_at_its_deadline_despite_reads() {
        let timeouts = IoTimeouts {
            header: Duration::from_millis(300),
            ..RELAXED
        };
        let (mut client, server) = tokio::io::duplex(4096);
        let mut io = guarded(server, timeouts);
        let state = io.state.clone();
        let trickle = tokio::spawn(async move {
            let _ = client.write_all(b"GET / HTTP/1.1\r\n").await;
            for _ in 0..40 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                if client.write_all(b"X-A: b\r\n").await.is_err() {
                    break;
                }
            }
            client
        });
        let mut out = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), io.read_to_end(&mut out)).await;
        assert!(matches!(read, Ok(Ok(0))), "{read:?}");
        assert!(out.is_empty(), "no part of the late head reaches hyper");
        assert_eq!(ListenerStats::get(&state.stats().head_timeouts), 1);
        let _ = io.shutdown().await;
        let mut client = trickle.await.expect("trickle task");
        let mut answer = Vec::new();
        let _ = client.read_to_end(&mut answer).await;
        assert_eq!(answer, HEAD_TIMEOUT_RESPONSE.to_vec());
    }

    #[tokio::test]
    async fn a_body_below_the_minimum_rate_fails_the_read() {
        let timeouts = IoTimeouts {
            min_body_rate: 1000,
            body_rate_grace: Duration::from_millis(200),
            ..RELAXED
        };
        let (mut client, server) = tokio::io::duplex(4096);
        let mut io = guarded(server, timeouts);
        let state = io.state.clone();
        let _ = client
            .write_all(b"POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n")
            .await;
        let writer = tokio::spawn(async move {
            for _ in 0..100 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                if client.write_all(b"x").await.is_err() {
                    break;
                }
            }
            client
        });
        let mut out = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), io.read_to_end(&mut out)).await;
        let error = match read {
            Ok(Err(error)) => error,
            other => panic!("expected a timed-out read, got {other:?}"),
        };
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(state.body_timed_out());
        assert!(
            out.len() < 100,
            "cut long before the body completed: {}",
            out.len()
        );
        drop(writer);
    }

    #[tokio::test]
    async fn a_body_at_a_fair_rate_is_not_cut() {
        let timeouts = IoTimeouts {
            min_body_rate: 10,
            body_rate_grace: Duration::from_millis(300),
            ..RELAXED
        };
        let (mut client, server) = tokio::io::duplex(4096);
        let mut io = guarded(server, timeouts);
        let request = b"POST / HTTP/1.1\r\nContent-Length: 40\r\n\r\n";
        let _ = client.write_all(request).await;
        let writer = tokio::spawn(async move {
            for _ in 0..4 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = client.write_all(b"0123456789").await;
            }
            let _ = client.shutdown().await;
            client
        });
        let mut out = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), io.read_to_end(&mut out)).await;
        assert!(matches!(read, Ok(Ok(_))), "{read:?}");
        assert_eq!(out.len(), request.len() + 40);
        drop(writer);
    }

    #[tokio::test]
    async fn a_write_without_progress_fails_after_the_send_timeout() {
        let timeouts = IoTimeouts {
            send: Duration::from_millis(200),
            ..RELAXED
        };
        let (client, server) = tokio::io::duplex(64);
        let mut io = guarded(server, timeouts);
        let state = io.state.clone();
        let big = vec![b'x'; 4096];
        let write = tokio::time::timeout(Duration::from_secs(10), io.write_all(&big)).await;
        let error = match write {
            Ok(Err(error)) => error,
            other => panic!("expected a timed-out write, got {other:?}"),
        };
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(ListenerStats::get(&state.stats().send_timeouts), 1);
        drop(client);
    }

    #[tokio::test]
    async fn a_reader_below_the_minimum_send_rate_is_cut_though_each_wait_is_short() {
        let timeouts = IoTimeouts {
            send: Duration::from_millis(300),
            min_send_rate: 10_000,
            ..RELAXED
        };
        let (mut client, server) = tokio::io::duplex(64);
        let mut io = guarded(server, timeouts);
        // 8 bytes every 20 ms: 400 bytes/s, every single wait far below the 300 ms send timeout.
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 8];
            for _ in 0..1000 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                if !matches!(client.read(&mut buf).await, Ok(n) if n > 0) {
                    break;
                }
            }
        });
        let big = vec![b'x'; 100_000];
        let write = tokio::time::timeout(Duration::from_secs(10), io.write_all(&big)).await;
        let error = match write {
            Ok(Err(error)) => error,
            other => panic!("expected a timed-out write, got {other:?}"),
        };
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        drop(io);
        let _ = reader.await;
    }

    #[tokio::test]
    async fn reading_fast_once_does_not_pay_for_trickling_later() {
        let timeouts = IoTimeouts {
            send: Duration::from_millis(300),
            min_send_rate: 10_000,
            ..RELAXED
        };
        let (mut client, server) = tokio::io::duplex(64);
        let mut io = guarded(server, timeouts);
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            let mut got = 0usize;
            // 200 kB as fast as they come: 20 s of waiting at the rate, were it all banked.
            while got < 200_000 {
                match client.read(&mut buf).await {
                    Ok(n) if n > 0 => got += n,
                    _ => return got,
                }
            }
            // Then 400 bytes per second.
            loop {
                tokio::time::sleep(Duration::from_millis(20)).await;
                match client.read(&mut buf[..8]).await {
                    Ok(n) if n > 0 => got += n,
                    _ => return got,
                }
            }
        });
        let big = vec![b'x'; 10_000_000];
        let write = tokio::time::timeout(Duration::from_secs(10), io.write_all(&big)).await;
        match write {
            Ok(Err(error)) => assert_eq!(error.kind(), io::ErrorKind::TimedOut),
            other => panic!("expected a timed-out write, got {other:?}"),
        }
        drop(io);
        let got = reader.await.unwrap_or(0);
        assert!(got < 300_000, "the trickle went on: {got} bytes");
    }

    #[test]
    fn the_banked_waiting_time_is_the_send_timeout_or_two_kernel_steps() {
        let with = |send: Duration, min_send_rate: u64| {
            let timeouts = IoTimeouts {
                send,
                min_send_rate,
                ..RELAXED
            };
            guarded(tokio::io::duplex(64).1, timeouts).write_budget_cap()
        };
        assert_eq!(with(Duration::from_secs(60), 500), Duration::from_secs(60));
        // 16 KiB at 100 B/s is 163.84 s: a reader at the rate still gets its steps in.
        assert_eq!(
            with(Duration::from_secs(60), 100),
            Duration::from_millis(163_840)
        );
        assert_eq!(with(Duration::from_secs(60), 0), Duration::from_secs(60));
    }

    #[tokio::test]
    async fn a_reader_above_the_minimum_send_rate_gets_everything() {
        let timeouts = IoTimeouts {
            send: Duration::from_millis(300),
            min_send_rate: 100,
            ..RELAXED
        };
        let (mut client, server) = tokio::io::duplex(64);
        let mut io = guarded(server, timeouts);
        let reader = tokio::spawn(async move {
            let mut got = 0;
            let mut buf = [0u8; 8];
            while got < 800 {
                tokio::time::sleep(Duration::from_millis(10)).await;
                match client.read(&mut buf).await {
                    Ok(n) if n > 0 => got += n,
                    _ => break,
                }
            }
            got
        });
        let payload = vec![b'x'; 800];
        let write = tokio::time::timeout(Duration::from_secs(10), io.write_all(&payload)).await;
        assert!(matches!(write, Ok(Ok(()))), "{write:?}");
        assert_eq!(reader.await.unwrap_or(0), 800);
    }
}
