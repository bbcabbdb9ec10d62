//! One HTTP/1 exchange through the listener's hyper path, in memory, for the HTTP/1 fuzz targets:
//! the client's bytes go through Conflux's connection wrapper (`conn_io::GuardedIo`, with its
//! request-framing scanner) into a hyper server whose service applies the listener's own request
//! validation and reads the whole body, as a forwarding handler would. Included by `#[path]`.

use std::convert::Infallible;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use bytes::Bytes;
use conflux_transport::conn_io::{ConnState, GuardedIo, IoTimeouts};
use conflux_transport::headers::validate_request;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The listener's default head limit (`ServerLimits::default()`).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Far above what one in-memory exchange of a few KiB needs; reaching it is a hang.
pub const EXCHANGE_DEADLINE: Duration = Duration::from_secs(10);
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

pub static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
});

/// Sends `input`, closes the client's side, and returns every byte the server answered.
pub async fn serve(input: Vec<u8>) -> Vec<u8> {
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
