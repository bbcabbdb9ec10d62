//! HTTP/1 request framing: the bytes a client sends, through Conflux's request-framing scanner and
//! its connection wrapper (`conn_io::GuardedIo`) into a hyper server over an in-memory pipe, with
//! the listener's own request validation in the service.
//!
//! Besides "no panic, no hang", it checks that the scanner's verdict does not depend on how the
//! stream is split into reads (whole, at a fuzzer-chosen point, byte by byte): a verdict that
//! changes with packet boundaries would be a smuggling hole.

#![no_main]

use conflux_transport::framing::{FramingViolation, RequestFramingScanner};
use libfuzzer_sys::fuzz_target;

#[path = "../common/hyper_exchange.rs"]
mod hyper_exchange;
use hyper_exchange::{EXCHANGE_DEADLINE, RUNTIME, serve};

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
