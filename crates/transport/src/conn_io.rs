//! The byte stream of one client connection as hyper sees it: [`GuardedIo`] wraps the socket (or
//! its TLS session), stamps an [`ActivityClock`] on every read and write for the idle watchdog, and
//! runs the [`RequestFramingScanner`] over HTTP/1 bytes, holding each request head back until it is
//! known to be acceptable.
//!
//! When a head breaks the framing rules, hyper is shown a clean end of input right before it (so
//! earlier requests on the connection complete normally), and when hyper then shuts the
//! connection down the wrapper writes `400 Bad Request` with `Connection: close` first. The
//! offending request never reaches hyper, the handler, or a backend.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::framing::{FramingViolation, RequestFramingScanner};

/// The response written for a refused request head (RFC 9112 §6.3: respond, then close).
const FRAMING_REJECTION: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

/// How many bytes are read from the socket at a time while a head is being held.
const HEAD_READ_CHUNK: usize = 8 * 1024;

/// When the last byte moved on a connection, readable from the watchdog without a lock.
#[derive(Debug)]
pub struct ActivityClock {
    origin: Instant,
    last_millis: AtomicU64,
}

impl ActivityClock {
    /// A clock whose last activity is now.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            origin: Instant::now(),
            last_millis: AtomicU64::new(0),
        })
    }

    /// Records activity now.
    pub fn touch(&self) {
        let millis = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_millis.store(millis, Ordering::Relaxed);
    }

    /// The instant of the last recorded activity.
    pub fn last_activity(&self) -> Instant {
        self.origin + Duration::from_millis(self.last_millis.load(Ordering::Relaxed))
    }
}

/// A connection stream with activity stamping and HTTP/1 request-framing enforcement.
pub struct GuardedIo<T> {
    inner: T,
    clock: Arc<ActivityClock>,
    /// `None` when the connection is not HTTP/1 (TLS with ALPN h2) and nothing is scanned.
    scanner: Option<RequestFramingScanner>,
    /// Bytes read and scanned but not yet handed to hyper; `held[0]` is at stream offset
    /// `held_offset`.
    held: BytesMut,
    held_offset: u64,
    /// Largest head held back before the verdict is left to hyper (which answers 431).
    max_held: usize,
    violation: Option<FramingViolation>,
    rejection_written: usize,
    read_eof: bool,
}

impl<T> GuardedIo<T> {
    /// Wraps `inner`; `scan_http1` enables the framing scanner, `max_head_bytes` bounds a held head.
    pub fn new(
        inner: T,
        clock: Arc<ActivityClock>,
        scan_http1: bool,
        max_head_bytes: usize,
    ) -> Self {
        Self {
            inner,
            clock,
            scanner: scan_http1.then(RequestFramingScanner::new),
            held: BytesMut::new(),
            held_offset: 0,
            max_held: max_head_bytes,
            violation: None,
            rejection_written: 0,
            read_eof: false,
        }
    }

    /// The violation that ended this connection, if any.
    pub fn violation(&self) -> Option<FramingViolation> {
        self.violation
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
            if this.violation.is_some() || (this.read_eof && this.held.is_empty()) {
                return Poll::Ready(Ok(()));
            }
            let Some(scanner) = this.scanner.as_mut() else {
                let before = buf.filled().len();
                ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
                if buf.filled().len() > before {
                    this.clock.touch();
                }
                return Poll::Ready(Ok(()));
            };
            if this.held.is_empty() && !scanner.in_head() {
                // Body bytes (or the start of the next request): read straight into hyper's
                // buffer and keep back only what turns out to be the start of a head.
                let before = buf.filled().len();
                ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
                let read = buf.filled().len() - before;
                if read == 0 {
                    this.read_eof = true;
                    return Poll::Ready(Ok(()));
                }
                this.clock.touch();
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
                if keep > 0 {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            // A head is in progress: collect it in the hold buffer.
            let mut chunk = [0u8; HEAD_READ_CHUNK];
            let mut chunk_buf = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut chunk_buf))?;
            let read = chunk_buf.filled().len();
            let before = this.held.len();
            this.held.extend_from_slice(chunk_buf.filled());
            if read == 0 {
                // End of input inside a head: hand hyper what there is; it reports the
                // incomplete message.
                this.read_eof = true;
                continue;
            }
            this.clock.touch();
            if let Err(violation) = scanner.scan(&this.held[before..]) {
                this.violation = Some(violation);
            } else if this.held.len() > this.max_held {
                // Too large to hold: hyper's own head limit answers 431.
                scanner.give_up();
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for GuardedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        this.clock.touch();
        Poll::Ready(Ok(written))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = ready!(Pin::new(&mut this.inner).poll_write_vectored(cx, bufs))?;
        this.clock.touch();
        Poll::Ready(Ok(written))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.violation.is_some() {
            while this.rejection_written < FRAMING_REJECTION.len() {
                let rest = &FRAMING_REJECTION[this.rejection_written..];
                let n = ready!(Pin::new(&mut this.inner).poll_write(cx, rest))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                this.rejection_written += n;
            }
            ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn valid_requests_pass_unchanged_even_byte_by_byte() {
        let input = b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nokGET / HTTP/1.1\r\n\r\n";
        let (mut client, server) = tokio::io::duplex(1);
        let mut io = GuardedIo::new(server, ActivityClock::new(), true, 1024);
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
        let mut io = GuardedIo::new(server, ActivityClock::new(), true, 1024);
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
}
