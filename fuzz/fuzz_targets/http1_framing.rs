//! HTTP/1 request framing: the bytes a client sends, through Conflux's request-framing scanner and
//! its connection wrapper (`conn_io::GuardedIo`) into a hyper server over an in-memory pipe, with
//! the listener's own request validation in the service.
//!
//! Besides "no panic, no hang", it checks that the scanner's verdict does not depend on how the
//! stream is split into reads (whole, at a fuzzer-chosen point, byte by byte): a verdict that
//! changes with packet boundaries would be a smuggling hole.

#![no_main]

use std::convert::Infallible;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use bytes::Bytes;
use conflux_transport::conn_io::{ConnState, GuardedIo, IoTimeouts};
use conflux_transport::framing::{FramingViolation, RequestFramingScanner};
use conflux_transport::headers::validate_request;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The listener's default head limit (`ServerLimits::default().max_header_bytes`, 64 KiB).
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Far above what one in-memory exchange of a few KiB needs; reaching it is a hang.
const EXCHANGE_DEADLINE: Duration = Duration::from_secs(10);
/// Client deadlines beyond [`EXCHANGE_DEADLINE`]: the client sends everything at once and then
/// closes, so no deadline may be needed to end the exchange.
const TIMEOUTS: IoTimeouts = IoTimeouts {
    header: Duration::from_secs(60),
    body_read: Duration::from_secs(60),
    min_body_rate: 0,
    body_rate_grace: Duration::from_secs(60),
    send: Duration::from_secs(60),
    min_send_rate: 0,
};

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
});

/// Scans `parts` in order; the first violation, the releasable offset and whether a head is held.
fn scan_in_parts<'a>(
    parts: impl IntoIterator<Item = &'a [u8]>,
) -> (Result<(), FramingViolation>, u64, bool) {
    let mut scanner = RequestFramingScanner::new();
    for part in parts {
        if let Err(violation) = scanner.scan(part) {
            return (Err(violation), scanner.releasable(), scanner.in_head());
        }
    }
    (Ok(()), scanner.releasable(), scanner.in_head())
}

fn scanner_is_split_independent(input: &[u8], split: usize) {
    let whole = scan_in_parts([input]);
    let (left, right) = input.split_at(split);
    let two = scan_in_parts([left, right]);
    let bytes = scan_in_parts(input.chunks(1));
    assert_eq!(whole, two, "verdict changes when split at {split}");
    assert_eq!(whole, bytes, "verdict changes when fed byte by byte");
    let (_, releasable, _) = whole;
    assert!(
        releasable == u64::MAX || releasable <= input.len() as u64,
        "releasable {releasable} beyond the {} bytes scanned",
        input.len()
    );
}

async fn serve(input: Vec<u8>) -> Vec<u8> {
    let (client, server) = tokio::io::duplex(16 * 1024);
    let state = ConnState::new(Arc::default());
    let io = GuardedIo::new(server, state, TIMEOUTS, true, MAX_HEAD_BYTES);
    let service = hyper::service::service_fn(|mut req: Request<Incoming>| async move {
        if validate_request(&mut req).is_err() {
            let mut refused = Response::new(Empty::<Bytes>::new());
            *refused.status_mut() = StatusCode::BAD_REQUEST;
            return Ok::<_, Infallible>(refused);
        }
        // Read the whole body as a handler that forwards it would.
        let _ = req.into_body().collect().await;
        Ok(Response::new(Empty::<Bytes>::new()))
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .keep_alive(true)
        .half_close(true)
        .max_buf_size(MAX_HEAD_BYTES);
    let connection = tokio::spawn(async move {
        let _ = builder.serve_connection(TokioIo::new(io), service).await;
    });
    let (mut reader, mut writer) = tokio::io::split(client);
    let write = async move {
        let _ = writer.write_all(&input).await;
        let _ = writer.shutdown().await;
    };
    let read = async move {
        let mut answer = Vec::new();
        let _ = reader.read_to_end(&mut answer).await;
        answer
    };
    let ((), answer) = tokio::join!(write, read);
    let _ = connection.await;
    answer
}

fuzz_target!(|data: &[u8]| {
    let Some((&[a, b], input)) = data.split_first_chunk::<2>().map(|(h, r)| (h, r)) else {
        return;
    };
    let split = usize::from(u16::from_le_bytes([a, b])) % (input.len() + 1);
    scanner_is_split_independent(input, split);
    let answer = RUNTIME.block_on(async {
        tokio::time::timeout(EXCHANGE_DEADLINE, serve(input.to_vec()))
            .await
            .expect("the exchange finishes once the client has sent everything")
    });
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.") || answer.starts_with(&[0, 0]),
        "answer is not HTTP/1 or h2: {:?}",
        String::from_utf8_lossy(&answer[..answer.len().min(64)])
    );
});
