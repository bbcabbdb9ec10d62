//! The HTTP/1 framing and smuggling matrix (issue 20, reliability.md §4 and §9 rows 7-9): a table
//! of raw requests from RFC 9112 and the PortSwigger / sozu `h1_security_tests.rs` / HAProxy
//! regression suites, each sent on its own connection through the real listener and backend
//! client to a recording backend ([`raw_backend`]). Every row asserts both sides: the statuses
//! the client got (and that the connection was closed, not hung), and the bytes the backend
//! received. A second table does the same for hostile backend responses: the client gets a 502,
//! or an aborted connection, never a truncated success.
//!
//! Decisions this file pins (RFC 9112 section in brackets):
//! - CL+TE, TE not ending in `chunked`, `chunked` twice, TE on HTTP/1.0, any duplicate or
//!   non-decimal CL, bare LF or bare CR, obs-fold, whitespace before a colon, a request line
//!   without a version (HTTP/0.9), and a missing (HTTP/1.1) or duplicate Host: 400 and close,
//!   the backend sees nothing [§2.2, §3.2, §5.1, §5.2, §6.1, §6.3].
//! - A chunk-size line the proxy cannot parse (hex overflow, `0x5`, `-5`, bare LF): the head has
//!   already been streamed, so the client gets 400 and the backend connection is aborted before
//!   the request completes (the backend never sees a complete request) [§7.1].
//! - Chunk extensions are accepted and stripped: the body is re-framed for the backend, so the
//!   extensions (which belong to the client-proxy hop) do not cross [§7.1.1].
//! - Absolute-form: the target's authority wins over a differing Host [§3.2.2]; the backend gets
//!   origin-form and its own authority as Host (MI's `TargetRequestFactory`).
//! - `Expect: 100-continue` is answered by the proxy (100, then the final status) and not
//!   forwarded; any other expectation gets 417 [RFC 9110 §10.1.1].
//! - `Upgrade` (h2c, websocket) on HTTP/1.1 is not forwarded: the request is served as plain
//!   HTTP/1.1 without the Upgrade, Connection and Connection-listed fields.
//! - Nothing after an error response is processed on that connection.

#[path = "support/raw_backend.rs"]
mod raw_backend;
mod support;

use raw_backend::{Exchange, RecordingBackend, Reply, exchange};
use support::proxy;

/// What the backend must have received for a row.
#[derive(Clone, Copy, Debug)]
enum Seen {
    /// Not one byte (the proxy never connected, or connected and sent nothing).
    Nothing,
    /// Exactly this many complete requests, with these (lower-cased) fragments present and
    /// those absent in the received bytes.
    Requests(usize, &'static [&'static str], &'static [&'static str]),
    /// No complete request (an aborted exchange); the head may have been streamed.
    NoCompleteRequest,
}

struct Row {
    name: &'static str,
    request: &'static [u8],
    /// Statuses of the responses on the connection, in order (1xx included).
    statuses: &'static [u16],
    backend: Seen,
}

const fn row(
    name: &'static str,
    request: &'static [u8],
    statuses: &'static [u16],
    backend: Seen,
) -> Row {
    Row {
        name,
        request,
        statuses,
        backend,
    }
}

const NONE: &[&str] = &[];

/// The request table. Valid rows end with `Connection: close` so that a correct server closes.
const REQUEST_ROWS: &[Row] = &[
    // --- Content-Length with Transfer-Encoding [§6.3] ---
    row(
        "cl_then_te",
        b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGPOST /b HTTP/1.1\r\nHost: h\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "te_then_cl",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    // --- Transfer-Encoding obfuscation [§6.1, §6.3] ---
    row(
        "te_chunked_then_identity",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "te_xchunked",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "te_gzip_then_chunked_unsupported_coding",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "te_chunked_twice_in_two_lines",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "te_header_line_starting_with_space_is_obs_fold",
        b"POST /a HTTP/1.1\r\nHost: h\r\n Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
        &[400],
        Seen::Nothing,
    ),
    row(
        "te_space_before_colon",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc",
        &[400],
        Seen::Nothing,
    ),
    row(
        "te_identity_only",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\nabc",
        &[400],
        Seen::Nothing,
    ),
    row(
        "te_chunked_with_trailing_comma",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked,\r\n\r\n0\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "te_in_http10",
        b"POST /a HTTP/1.0\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "te_with_tab_ows_is_chunked",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\tchunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        &[200],
        Seen::Requests(1, &["abc"], &["transfer-encoding:\t"]),
    ),
    row(
        "te_with_extra_space_ows_is_chunked",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:   Chunked  \r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        &[200],
        Seen::Requests(1, &["abc"], NONE),
    ),
    // --- Content-Length [§6.2, §6.3] ---
    row(
        "cl_duplicate_same_value",
        b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        &[400],
        Seen::Nothing,
    ),
    row(
        "cl_duplicate_differing",
        b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 8\r\n\r\nabcGET /x",
        &[400],
        Seen::Nothing,
    ),
    row(
        "cl_list_value",
        b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc",
        &[400],
        Seen::Nothing,
    ),
    row(
        "cl_plus_sign",
        b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello",
        &[400],
        Seen::Nothing,
    ),
    row(
        "cl_negative",
        b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: -5\r\n\r\nhello",
        &[400],
        Seen::Nothing,
    ),
    row(
        "cl_hex",
        b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 0x5\r\n\r\nhello",
        &[400],
        Seen::Nothing,
    ),
    row(
        "cl_empty_cve_2023_40225",
        b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\nhello",
        &[400],
        Seen::Nothing,
    ),
    row(
        "cl_leading_zeros_is_valid",
        b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 003\r\nConnection: close\r\n\r\nabc",
        &[200],
        Seen::Requests(1, &["content-length: 003\r\n\r\nabc"], NONE),
    ),
    row(
        "cl_overflow",
        b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 184467440737095516160\r\n\r\nhello",
        &[400],
        Seen::Nothing,
    ),
    // --- Chunked body [§7.1] ---
    row(
        "chunk_size_hex_prefix_0x5",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
        &[400],
        Seen::NoCompleteRequest,
    ),
    row(
        "chunk_size_overflow",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nhello\r\n0\r\n\r\n",
        &[400],
        Seen::NoCompleteRequest,
    ),
    row(
        "chunk_size_not_hex",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        &[400],
        Seen::NoCompleteRequest,
    ),
    row(
        "chunk_size_negative",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
        &[400],
        Seen::NoCompleteRequest,
    ),
    row(
        "chunk_line_bare_lf",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
        &[400],
        Seen::NoCompleteRequest,
    ),
    row(
        "chunk_line_bare_cr",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\rhello\r\n0\r\n\r\n",
        &[400],
        Seen::NoCompleteRequest,
    ),
    row(
        "chunk_data_longer_than_size",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n",
        &[400],
        Seen::NoCompleteRequest,
    ),
    row(
        "chunk_extensions_are_stripped",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3;name=value\r\nabc\r\n2;quoted=\"x y\"\r\nde\r\n0;last\r\n\r\n",
        &[200],
        Seen::Requests(1, &["abc", "de"], &["name=value", "quoted", "last"]),
    ),
    row(
        "chunked_body_is_forwarded_whole",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0005\r\nhello\r\n0\r\n\r\n",
        &[200],
        Seen::Requests(1, &["post /a http/1.1", "hello"], NONE),
    ),
    // --- Line endings, folding, field syntax [§2.2, §5.1, §5.2] ---
    row(
        "bare_lf_in_head",
        b"GET /a HTTP/1.1\nHost: h\n\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "bare_cr_in_header_value",
        b"GET /a HTTP/1.1\r\nHost: h\rX-Smuggle: 1\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "bare_cr_in_request_line",
        b"GET /a\r HTTP/1.1\r\nHost: h\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "obs_fold_continuation_line",
        b"GET /a HTTP/1.1\r\nHost: h\r\nX-Folded: a\r\n b\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "whitespace_before_colon",
        b"GET /a HTTP/1.1\r\nHost : h\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "nul_in_header_value",
        b"GET /a HTTP/1.1\r\nHost: h\r\nX-A: a\x00b\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "empty_header_name_cve_2023_25725",
        b"GET /a HTTP/1.1\r\nHost: h\r\n: empty\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    // --- Request line [§3] ---
    row(
        "invalid_method_character",
        b"G(T /a HTTP/1.1\r\nHost: h\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "invalid_target_character_space",
        b"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "invalid_target_character_del",
        b"GET /a\x7fb HTTP/1.1\r\nHost: h\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "http09_request_line",
        b"GET /a\r\n",
        &[400],
        Seen::Nothing,
    ),
    // --- Host [§3.2, §3.2.2] ---
    row(
        "missing_host_http11",
        b"GET /a HTTP/1.1\r\nConnection: close\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "missing_host_http10_is_fine",
        b"GET /a HTTP/1.0\r\n\r\n",
        &[200],
        Seen::Requests(1, &["get /a http/1.1"], NONE),
    ),
    row(
        "duplicate_host",
        b"GET /a HTTP/1.1\r\nHost: h\r\nHost: evil\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "invalid_host_value",
        b"GET /a HTTP/1.1\r\nHost: h/evil\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "absolute_form_authority_wins",
        b"GET http://client.example/a?q=1 HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n",
        &[200],
        Seen::Requests(
            1,
            &["get /a?q=1 http/1.1", "host: 127.0.0.1:"],
            &["client.example", "other.example"],
        ),
    ),
    row(
        "absolute_form_without_host_http11",
        b"GET http://client.example/a HTTP/1.1\r\nConnection: close\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    // --- Expect [RFC 9110 §10.1.1] ---
    row(
        "unknown_expectation_gets_417",
        b"POST /a HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\nContent-Length: 3\r\n\r\nabc",
        &[417],
        Seen::Nothing,
    ),
    // --- Upgrade ---
    row(
        "h2c_upgrade_is_not_forwarded",
        b"GET /a HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
        &[200],
        Seen::Requests(1, &["get /a http/1.1"], &["upgrade", "http2-settings", "h2c"]),
    ),
    row(
        "websocket_upgrade_is_not_forwarded",
        b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        &[200],
        Seen::Requests(1, &["get /ws http/1.1"], &["upgrade:", "websocket\r"]),
    ),
    // --- Pipelining after an error ---
    row(
        "pipelined_after_validation_error",
        b"GET /a HTTP/1.1\r\nHost: h\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: h\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "pipelined_after_parse_error",
        b"G(T /a HTTP/1.1\r\nHost: h\r\n\r\nGET /second HTTP/1.1\r\nHost: h\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "pipelined_after_missing_host",
        b"GET /a HTTP/1.1\r\n\r\nGET /second HTTP/1.1\r\nHost: h\r\n\r\n",
        &[400],
        Seen::Nothing,
    ),
    row(
        "pipelined_after_bad_chunk",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\nGET /second HTTP/1.1\r\nHost: h\r\n\r\n",
        &[400],
        Seen::NoCompleteRequest,
    ),
    row(
        "pipelined_valid_then_smuggle",
        b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /third HTTP/1.1\r\nHost: h\r\n\r\n",
        &[200, 400],
        Seen::Requests(1, &["get /a http/1.1"], &["/b", "/third"]),
    ),
];

fn check_backend(row: &str, seen: Seen, backend: &RecordingBackend) -> Result<(), String> {
    let text = backend.received_text().to_ascii_lowercase();
    match seen {
        Seen::Nothing if !text.is_empty() => Err(format!("backend got {text:?}")),
        Seen::Nothing => Ok(()),
        Seen::NoCompleteRequest if backend.requests() != 0 => Err(format!(
            "backend got {} complete request(s): {text:?}",
            backend.requests()
        )),
        Seen::NoCompleteRequest => Ok(()),
        Seen::Requests(n, has, lacks) => {
            if backend.requests() != n {
                return Err(format!(
                    "backend got {} request(s), expected {n}: {text:?}",
                    backend.requests()
                ));
            }
            if let Some(missing) = has.iter().find(|f| !text.contains(*f)) {
                return Err(format!("{row}: backend lacks {missing:?}: {text:?}"));
            }
            if let Some(present) = lacks.iter().find(|f| text.contains(*f)) {
                return Err(format!("{row}: backend got {present:?}: {text:?}"));
            }
            Ok(())
        }
    }
}

fn check_client(row: &Row, got: &Exchange) -> Result<(), String> {
    if got.statuses != row.statuses {
        return Err(format!(
            "client got statuses {:?}, expected {:?}: {:?}",
            got.statuses, row.statuses, got.raw
        ));
    }
    if !got.closed {
        return Err(format!("connection not closed (hung): {:?}", got.raw));
    }
    if got.trailing_garbage {
        return Err(format!(
            "partial response after the last one: {:?}",
            got.raw
        ));
    }
    // A refusal of a head says it closes (RFC 9112 §6.3 / §9.6). A body that fails after its
    // head was forwarded gets the sender's fault answer; the connection is closed all the same
    // (checked above).
    if let Some(last) = row.statuses.last()
        && *last >= 400
        && !matches!(row.backend, Seen::NoCompleteRequest)
        && !got
            .head(row.statuses.len() - 1)
            .contains("connection: close")
    {
        return Err(format!("refusal without Connection: close: {:?}", got.raw));
    }
    Ok(())
}

/// Every request row, each on a fresh proxy and backend; all failures are reported together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_framing_matrix() {
    assert!(
        REQUEST_ROWS.len() >= 25,
        "the matrix has {} rows",
        REQUEST_ROWS.len()
    );
    let mut failures = Vec::new();
    for row in REQUEST_ROWS {
        let backend = RecordingBackend::ok().await;
        let p = proxy(backend.addr, None).await;
        let got = exchange(p.addr, row.request, false).await;
        if matches!(row.backend, Seen::NoCompleteRequest) {
            // The aborted backend exchange may still be arriving; a complete one was recorded
            // before the backend answered.
            backend.settle().await;
        }
        if let Err(e) = check_client(row, &got) {
            failures.push(format!("{}: client: {e}", row.name));
        }
        if let Err(e) = check_backend(row.name, row.backend, &backend) {
            failures.push(format!("{}: backend: {e}", row.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `Expect: 100-continue`: the proxy answers 100 itself once the body is wanted, the backend gets
/// the body without the expectation, and the client gets the final status.
#[tokio::test]
async fn expect_100_continue_is_answered_by_the_proxy() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let backend = RecordingBackend::ok().await;
    let p = proxy(backend.addr, None).await;
    let mut tcp = tokio::net::TcpStream::connect(p.addr)
        .await
        .expect("connect");
    tcp.write_all(
        b"POST /a HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n",
    )
    .await
    .expect("write head");
    let mut interim = [0u8; 25];
    tokio::time::timeout(raw_backend::HANG, tcp.read_exact(&mut interim))
        .await
        .expect("100 Continue in time")
        .expect("read 100");
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    tcp.write_all(b"hello").await.expect("write body");
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(raw_backend::HANG, tcp.read_to_end(&mut rest)).await;
    let rest = String::from_utf8_lossy(&rest);
    assert!(rest.starts_with("HTTP/1.1 200"), "{rest}");
    let seen = backend.received_text().to_ascii_lowercase();
    assert_eq!(backend.requests(), 1);
    assert!(seen.ends_with("hello"), "{seen}");
    assert!(!seen.contains("expect"), "{seen}");
}

/// One row of the backend-response table.
struct ResponseRow {
    name: &'static str,
    request: &'static [u8],
    replies: &'static [Reply],
    /// What the client must get on its connection.
    client: Outcome,
}

#[derive(Clone, Copy, Debug)]
enum Outcome {
    /// Exactly these complete responses, with these bodies.
    Responses(&'static [(u16, &'static [u8])]),
    /// The head (and maybe part of the body) of a success, then the connection aborted: the
    /// client can tell the response is cut.
    Aborted,
}

const GET: &[u8] = b"GET /r HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
const HEAD: &[u8] = b"HEAD /r HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
/// Two requests on one client connection: the second shows whether bytes left over from the
/// first response poisoned the pooled backend connection.
const TWO_GETS: &[u8] =
    b"GET /r HTTP/1.1\r\nHost: h\r\n\r\nGET /r2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
const OK2: Reply = Reply::KeepAlive(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond");

const RESPONSE_ROWS: &[ResponseRow] = &[
    ResponseRow {
        name: "bad_content_length",
        request: GET,
        replies: &[Reply::ThenClose(b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nabc")],
        client: Outcome::Responses(&[(502, b"")]),
    },
    ResponseRow {
        name: "signed_content_length",
        request: GET,
        replies: &[Reply::ThenClose(b"HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc")],
        client: Outcome::Responses(&[(502, b"")]),
    },
    ResponseRow {
        name: "duplicate_differing_content_length",
        request: GET,
        replies: &[Reply::ThenClose(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde",
        )],
        client: Outcome::Responses(&[(502, b"")]),
    },
    ResponseRow {
        name: "content_length_and_chunked",
        request: GET,
        replies: &[Reply::ThenClose(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        )],
        client: Outcome::Responses(&[(502, b"")]),
    },
    ResponseRow {
        name: "content_length_and_chunked_connection_not_reused",
        request: TWO_GETS,
        replies: &[
            Reply::KeepAlive(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            ),
            OK2,
        ],
        client: Outcome::Responses(&[(502, b""), (200, b"second")]),
    },
    ResponseRow {
        name: "garbage_status_line",
        request: GET,
        replies: &[Reply::ThenClose(b"HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok")],
        client: Outcome::Responses(&[(502, b"")]),
    },
    ResponseRow {
        name: "not_http_at_all",
        request: GET,
        replies: &[Reply::ThenClose(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")],
        client: Outcome::Responses(&[(502, b"")]),
    },
    ResponseRow {
        name: "obs_fold_in_response_header",
        request: GET,
        replies: &[Reply::ThenClose(
            b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
        )],
        client: Outcome::Responses(&[(502, b"")]),
    },
    ResponseRow {
        name: "close_before_any_byte",
        request: GET,
        replies: &[Reply::ThenClose(b"")],
        client: Outcome::Responses(&[(502, b"")]),
    },
    ResponseRow {
        name: "close_mid_head",
        request: GET,
        replies: &[Reply::ThenClose(b"HTTP/1.1 200 OK\r\nContent-Le")],
        client: Outcome::Responses(&[(502, b"")]),
    },
    ResponseRow {
        name: "close_mid_body_with_length",
        request: GET,
        replies: &[Reply::ThenClose(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")],
        client: Outcome::Aborted,
    },
    ResponseRow {
        name: "close_mid_chunked_body",
        request: GET,
        replies: &[Reply::ThenClose(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        )],
        client: Outcome::Aborted,
    },
    ResponseRow {
        name: "bad_chunk_size_in_response",
        request: GET,
        replies: &[Reply::ThenClose(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n",
        )],
        client: Outcome::Aborted,
    },
    ResponseRow {
        name: "close_delimited_body_is_complete",
        request: GET,
        replies: &[Reply::ThenClose(b"HTTP/1.1 200 OK\r\n\r\nuntil close")],
        client: Outcome::Responses(&[(200, b"until close")]),
    },
    ResponseRow {
        name: "interim_100_is_swallowed",
        request: GET,
        replies: &[Reply::KeepAlive(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        )],
        client: Outcome::Responses(&[(200, b"ok")]),
    },
    ResponseRow {
        name: "interim_103_early_hints_is_swallowed",
        request: GET,
        replies: &[Reply::KeepAlive(
            b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        )],
        client: Outcome::Responses(&[(200, b"ok")]),
    },
    ResponseRow {
        name: "switching_protocols_without_upgrade_request",
        request: GET,
        replies: &[Reply::KeepAlive(
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
        )],
        client: Outcome::Responses(&[(502, b"")]),
    },
    ResponseRow {
        name: "switching_protocols_connection_not_reused",
        request: TWO_GETS,
        replies: &[
            Reply::KeepAlive(
                b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
            ),
            OK2,
        ],
        client: Outcome::Responses(&[(502, b""), (200, b"second")]),
    },
    ResponseRow {
        name: "body_on_204_is_discarded",
        request: TWO_GETS,
        replies: &[
            Reply::KeepAlive(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello"),
            OK2,
        ],
        client: Outcome::Responses(&[(204, b""), (200, b"second")]),
    },
    ResponseRow {
        name: "body_on_304_is_discarded",
        request: TWO_GETS,
        replies: &[
            Reply::KeepAlive(b"HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil"),
            OK2,
        ],
        client: Outcome::Responses(&[(304, b""), (200, b"second")]),
    },
    ResponseRow {
        name: "extra_bytes_after_content_length",
        request: TWO_GETS,
        replies: &[
            Reply::KeepAlive(
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
            ),
            OK2,
        ],
        client: Outcome::Responses(&[(200, b"ok"), (200, b"second")]),
    },
    ResponseRow {
        name: "head_response_keeps_length_without_body",
        request: HEAD,
        replies: &[Reply::KeepAlive(b"HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n")],
        client: Outcome::Responses(&[(200, b"")]),
    },
];

fn check_response_row(row: &ResponseRow, got: &Exchange) -> Result<(), String> {
    if !got.closed {
        return Err(format!("connection hung: {:?}", got.raw));
    }
    match row.client {
        Outcome::Responses(expected) => {
            let got_pairs: Vec<(u16, &[u8])> = got
                .statuses
                .iter()
                .copied()
                .zip(got.bodies.iter().map(Vec::as_slice))
                .collect();
            let bodies_match = expected.len() == got_pairs.len()
                && expected
                    .iter()
                    .zip(&got_pairs)
                    .all(|((s, b), (gs, gb))| s == gs && (*s >= 500 || b == gb));
            if !bodies_match || got.trailing_garbage {
                return Err(format!("expected {expected:?}, got {:?}", got.raw));
            }
            Ok(())
        }
        Outcome::Aborted => {
            if got.trailing_garbage && !got.statuses.is_empty() {
                return Err(format!("garbage after a response: {:?}", got.raw));
            }
            if got.statuses.iter().any(|s| (200..300).contains(s)) {
                return Err(format!("a cut response looks complete: {:?}", got.raw));
            }
            Ok(())
        }
    }
}

/// Every backend-response row: a 502, or an aborted client connection, never a truncated
/// success; interim responses are consumed; stray bytes never reach a later response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_framing_matrix() {
    let mut failures = Vec::new();
    for row in RESPONSE_ROWS {
        let backend = RecordingBackend::start(row.replies.to_vec()).await;
        let p = proxy(backend.addr, None).await;
        let head = row.request.starts_with(b"HEAD");
        let got = exchange(p.addr, row.request, head).await;
        if let Err(e) = check_response_row(row, &got) {
            failures.push(format!("{}: {e}", row.name));
        }
        if head && !got.head(0).contains("content-length: 42") {
            failures.push(format!("{}: HEAD length lost: {:?}", row.name, got.raw));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every test above again with the proxy on the Conflux HTTP/1 engine (`[transport]
/// http1_engine = "conflux"`, crates/transport/src/h1): a case it accepts that hyper refused
/// is a regression.
mod on_conflux_engine {
    use super::support::{Engine, on_engine};

    #[test]
    fn request_framing_matrix() {
        on_engine(Engine::Conflux, super::request_framing_matrix);
    }

    #[test]
    fn expect_100_continue_is_answered_by_the_proxy() {
        on_engine(
            Engine::Conflux,
            super::expect_100_continue_is_answered_by_the_proxy,
        );
    }

    #[test]
    fn response_framing_matrix() {
        on_engine(Engine::Conflux, super::response_framing_matrix);
    }
}
