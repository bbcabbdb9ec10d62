//! The body type every response of the pass-through path carries, [`ProxyBody`]: a stream that is
//! either a backend's (or client's) `Incoming` body passed on untouched, a backend's HTTP/1.1
//! response body that drives its pooled connection ([`BackendBody`]), a small in-memory body
//! (fault payloads, `respond` output), nothing at all, or any other boxed stream a mediator builds.
//!
//! An enum rather than one boxed trait object so the common pass-through case costs no allocation
//! and keeps the exact size hint hyper uses to choose `Content-Length` versus chunked framing.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Incoming;

pub use crate::pool::BackendBody;

/// The error type of streaming bodies: any error, sendable across tasks.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A streaming HTTP body produced by the transport or by mediation.
#[derive(Default)]
pub enum ProxyBody {
    /// No body (`Content-Length: 0` when the message needs a length).
    #[default]
    Empty,
    /// A complete body held in memory; taken by the first poll.
    Full(Option<Bytes>),
    /// A body streamed from a peer without buffering.
    Incoming(Incoming),
    /// A backend's HTTP/1.1 response body, read through its pooled connection.
    Backend(BackendBody),
    /// Any other stream (for example a transformed payload).
    Boxed(UnsyncBoxBody<Bytes, BoxError>),
}

impl ProxyBody {
    /// A body of exactly these bytes.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        if bytes.is_empty() {
            ProxyBody::Empty
        } else {
            ProxyBody::Full(Some(bytes))
        }
    }

    /// Wraps any body whose error converts into [`BoxError`].
    pub fn boxed<B>(body: B) -> Self
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        use http_body_util::BodyExt;
        ProxyBody::Boxed(body.map_err(Into::into).boxed_unsync())
    }
}

impl std::fmt::Debug for ProxyBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            ProxyBody::Empty => "Empty",
            ProxyBody::Full(_) => "Full",
            ProxyBody::Incoming(_) => "Incoming",
            ProxyBody::Backend(_) => "Backend",
            ProxyBody::Boxed(_) => "Boxed",
        };
        f.debug_tuple("ProxyBody").field(&kind).finish()
    }
}

impl From<Incoming> for ProxyBody {
    fn from(body: Incoming) -> Self {
        ProxyBody::Incoming(body)
    }
}

impl From<Bytes> for ProxyBody {
    fn from(bytes: Bytes) -> Self {
        ProxyBody::full(bytes)
    }
}

impl From<&'static str> for ProxyBody {
    fn from(text: &'static str) -> Self {
        ProxyBody::full(Bytes::from_static(text.as_bytes()))
    }
}

impl From<String> for ProxyBody {
    fn from(text: String) -> Self {
        ProxyBody::full(Bytes::from(text))
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            ProxyBody::Empty => Poll::Ready(None),
            ProxyBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            ProxyBody::Incoming(body) => Pin::new(body)
                .poll_frame(cx)
                .map(|frame| frame.map(|r| r.map_err(BoxError::from))),
            ProxyBody::Backend(body) => Pin::new(body).poll_frame(cx),
            ProxyBody::Boxed(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ProxyBody::Empty => true,
            ProxyBody::Full(bytes) => bytes.is_none(),
            ProxyBody::Incoming(body) => body.is_end_stream(),
            ProxyBody::Backend(body) => body.is_end_stream(),
            ProxyBody::Boxed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ProxyBody::Empty => SizeHint::with_exact(0),
            ProxyBody::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            ProxyBody::Incoming(body) => body.size_hint(),
            ProxyBody::Backend(body) => body.size_hint(),
            ProxyBody::Boxed(body) => body.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn full_body_reports_exact_size_and_yields_once() {
        let body = ProxyBody::full("abc");
        assert_eq!(body.size_hint().exact(), Some(3));
        assert!(!body.is_end_stream());
        let collected = body.collect().await.map(|c| c.to_bytes()).ok();
        assert_eq!(collected.as_deref(), Some(&b"abc"[..]));
    }

    #[test]
    fn empty_full_body_is_empty() {
        let body = ProxyBody::full(Bytes::new());
        assert!(body.is_end_stream());
        assert_eq!(body.size_hint().exact(), Some(0));
    }
}
