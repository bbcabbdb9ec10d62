//! The per-core listener (server.rs `serve_routed_per_core`) shares a burst of connections
//! among its threads: without the hand-off in `accept_share`, the thread the kernel woke first
//! took 13 or 15 of 16 connections opened at once in two of five runs.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use conflux_transport::body::ProxyBody;
use conflux_transport::server::{ConnInfo, ServerLimits, serve_routed_per_core};
use http::{Request, Response};
use hyper::body::Incoming;
use tokio_util::sync::CancellationToken;

const THREADS: usize = 2;
const CONNECTIONS: usize = 16;
/// An even split plus the hand-off margin, plus one for two threads placing at the same moment.
const MOST_PER_THREAD: usize = CONNECTIONS / THREADS + 2;

/// Sends one keep-alive GET on `tcp` and returns the body (the name of the serving thread).
fn ask(tcp: &mut TcpStream) -> String {
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = tcp.read(&mut buf).expect("read");
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&answer).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_string())
                })
                .expect("content-length")
                .parse()
                .expect("length");
            if body.len() >= length {
                return body[..length].to_string();
            }
        }
    }
}

#[test]
fn a_burst_of_connections_is_shared_by_the_threads() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shutdown = CancellationToken::new();
    let handler = |_req: Request<Incoming>, _conn: ConnInfo| async {
        let name = std::thread::current().name().unwrap_or("?").to_string();
        Response::new(ProxyBody::from(name))
    };
    let served = serve_routed_per_core(
        listener,
        THREADS,
        2 * 1024 * 1024,
        handler,
        None,
        ServerLimits::default(),
        Arc::default(),
        shutdown.clone(),
    )
    .expect("threads");

    // All connected before any is asked, so that they arrive as one burst and stay open.
    let mut clients: Vec<TcpStream> = (0..CONNECTIONS)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    let mut per_thread = std::collections::BTreeMap::<String, usize>::new();
    for tcp in &mut clients {
        *per_thread.entry(ask(tcp)).or_default() += 1;
    }
    assert_eq!(per_thread.values().sum::<usize>(), CONNECTIONS);
    assert!(
        per_thread
            .keys()
            .all(|name| name.starts_with("conflux-http-")),
        "{per_thread:?}"
    );
    assert!(
        per_thread.values().all(|&n| n <= MOST_PER_THREAD),
        "{per_thread:?}: a thread served more than {MOST_PER_THREAD}"
    );
    // Each connection is still served by its thread for its next request.
    let again: Vec<String> = clients.iter_mut().map(ask).collect();
    let mut per_thread_again = std::collections::BTreeMap::<String, usize>::new();
    for name in again {
        *per_thread_again.entry(name).or_default() += 1;
    }
    assert_eq!(per_thread_again, per_thread);

    drop(clients);
    shutdown.cancel();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(served);
}
