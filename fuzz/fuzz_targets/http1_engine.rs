//! The Conflux HTTP/1 engine's parsers (crates/transport/src/h1): the request head parser and
//! the body framer, on what a client sends.
//!
//! Besides "no panic", it checks that verdicts and results do not depend on how the bytes arrive
//! (the head parsed from a fuzzer-chosen prefix agrees with the whole; the body framed whole,
//! split at a fuzzer-chosen point and byte by byte gives the same payload and verdict), and the
//! engine's guard: a head the engine would forward directly must be one the hyper path accepts
//! too (hyper over the listener's `GuardedIo`, with its request validation, answers it without a
//! 4xx). A case the new path accepts that hyper refused is a regression.

#![no_main]

use conflux_transport::h1::body::{BodyError, BodyFramer};
use conflux_transport::h1::conn::needs_general_path;
use conflux_transport::h1::head::{Framing, RequestParser};
use libfuzzer_sys::fuzz_target;

#[path = "../common/hyper_exchange.rs"]
mod hyper_exchange;
use hyper_exchange::{EXCHANGE_DEADLINE, MAX_HEAD_BYTES, RUNTIME};

/// The listener's default header count (`ServerLimits::default()`).
const MAX_HEADERS: usize = 100;

/// Frames `parts` in order: the payload, the bytes left after the body, and the verdict.
fn frame<'a>(
    framing: Framing,
    parts: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<u8>, Vec<u8>, Result<bool, BodyError>) {
    let mut framer = BodyFramer::new(framing);
    let (mut payload, mut rest) = (Vec::new(), Vec::new());
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

/// The first status hyper's path answers `input` with (the client then closes).
async fn hyper_status(input: Vec<u8>) -> Option<u16> {
    let answer = hyper_exchange::serve(input).await;
    std::str::from_utf8(answer.get(9..12)?).ok()?.parse().ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&[a, b], input)) = data.split_first_chunk::<2>().map(|(h, r)| (h, r)) else {
        return;
    };
    let split = usize::from(u16::from_le_bytes([a, b])) % (input.len() + 1);
    let mut parser = RequestParser::new(MAX_HEAD_BYTES, MAX_HEADERS);
    let whole = parser.parse(input).map(|h| h.cloned());
    let mut prefix_parser = RequestParser::new(MAX_HEAD_BYTES, MAX_HEADERS);
    // A prefix yields no verdict yet, or the whole input's: the same head, or a refusal with the
    // same status. (The reason may differ: the framing scanner judges every byte that arrived,
    // httparse stops at its first error; both refusals hand the connection to hyper.)
    match (
        prefix_parser.parse(&input[..split]).map(|h| h.cloned()),
        &whole,
    ) {
        (Ok(None), _) => {}
        (Ok(Some(early)), Ok(Some(head))) => assert_eq!(&early, head, "head at {split} bytes"),
        (Err(early), Err(refusal)) => assert_eq!(
            early.status(),
            refusal.status(),
            "{early} at {split} bytes, {refusal} in the whole"
        ),
        (early, _) => panic!("{early:?} at {split} bytes, {whole:?} in the whole"),
    }
    let Ok(Some(head)) = whole else {
        return;
    };
    let body = &input[head.len..];
    let framing = head.body();
    let framed = frame(framing, [body]);
    let at = split.min(body.len());
    assert_eq!(
        framed,
        frame(framing, [&body[..at], &body[at..]]),
        "split at {at}"
    );
    assert_eq!(framed, frame(framing, body.chunks(1)), "byte by byte");
    if needs_general_path(&head, input).is_none() {
        // Direct: hyper's path must accept this request as well (a head plus its whole body).
        let end = match (framing, &framed) {
            (Framing::Length(n), _) => usize::try_from(n)
                .ok()
                .and_then(|n| n.checked_add(head.len)),
            // A chunked body that ends within the input (a broken one gets 400 on both paths
            // from the handler's forward, which this harness does not model).
            (Framing::Chunked, (_, rest, Ok(true))) => Some(input.len() - rest.len()),
            (Framing::Chunked, _) => None,
            _ => Some(head.len),
        };
        if let Some(end) = end.filter(|end| *end <= input.len()) {
            let status = RUNTIME.block_on(async {
                tokio::time::timeout(EXCHANGE_DEADLINE, hyper_status(input[..end].to_vec()))
                    .await
                    .expect("hyper answers once the client has sent everything")
            });
            assert!(
                status.is_some_and(|s| s < 400),
                "the engine forwards a request hyper's path answers {status:?}: {:?}",
                String::from_utf8_lossy(&input[..end.min(256)])
            );
        }
    }
});
