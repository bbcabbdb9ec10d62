//! A fault-injecting TCP proxy for end-to-end tests (reliability.md §8: toxiproxy is not
//! available, so this replaces it): [`FaultProxy`] listens on 127.0.0.1:0, sits between Conflux
//! and a real backend, and treats every connection it accepts with the [`Fault`] set at that
//! moment: relay it untouched, refuse it (the port is closed), reset it in the middle of the
//! response body (RST through `SO_LINGER` 0), stall (read and never answer), drip the response a
//! byte at a time, answer garbage that is not HTTP, or half-close (shut down its write side after
//! the request, keep reading). The fault can change while the proxy runs, so one endpoint can fail
//! and then recover. Connections are counted, so a test can tell whether Conflux dialled at all.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Bytes read from a peer at once.
const BUFFER_BYTES: usize = 16 * 1024;
/// How long a reset waits after writing the bytes it lets through, so that the peer reads them
/// before the RST arrives (an RST can make the peer drop data it has not read yet).
const RESET_GRACE: Duration = Duration::from_millis(30);
/// How many times re-opening the port after [`Fault::Refuse`] is tried (another process may hold
/// it for a moment).
const REBIND_ATTEMPTS: usize = 50;

/// What the proxy does to the connections it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Relay both directions untouched.
    Pass,
    /// The port is closed: connecting is refused (ECONNREFUSED).
    Refuse,
    /// Relay the request; let `after` bytes of the response through, then reset (RST).
    ResetMidBody { after: usize },
    /// Read the request and reset (RST) before any response byte.
    ResetBeforeResponse,
    /// Read everything, answer nothing, keep the connection open.
    Stall,
    /// Relay the request; relay the response one byte every `every`.
    Drip { every: Duration },
    /// Read the request head and answer these non-HTTP bytes, then close.
    Garbage,
    /// Read the request head, shut down the write side (FIN), keep reading until the peer closes.
    HalfClose,
}

/// A running fault proxy in front of `upstream`; stops on drop.
pub struct FaultProxy {
    pub addr: SocketAddr,
    fault: watch::Sender<Fault>,
    accepted: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` with `fault`.
    pub fn start(upstream: SocketAddr, fault: Fault) -> FaultProxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("fault proxy runtime");
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind fault proxy");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("fault proxy addr");
        let (tx, rx) = watch::channel(fault);
        let accepted = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        {
            let (accepted, open) = (accepted.clone(), open.clone());
            runtime.spawn(async move {
                let listener = TcpListener::from_std(std_listener).expect("register fault proxy");
                accept_loop(listener, addr, upstream, rx, accepted, open).await;
            });
        }
        FaultProxy {
            addr,
            fault: tx,
            accepted,
            open,
            runtime: Some(runtime),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Applies `fault` to the connections accepted from now on (open ones keep theirs).
    pub fn set(&self, fault: Fault) {
        self.fault.send_replace(fault);
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Connections currently open on the client side of the proxy.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    addr: SocketAddr,
    upstream: SocketAddr,
    mut fault: watch::Receiver<Fault>,
    accepted: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
) {
    let mut listener = Some(listener);
    loop {
        let current = fault.borrow_and_update().clone();
        if current == Fault::Refuse {
            // Closing the listening socket makes the kernel refuse connections to the port.
            listener = None;
            if fault.changed().await.is_err() {
                return;
            }
            continue;
        }
        let active = match &listener {
            Some(l) => l,
            None => match rebind(addr).await {
                Some(l) => listener.insert(l),
                None => return,
            },
        };
        tokio::select! {
            changed = fault.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            accepted_conn = active.accept() => {
                let Ok((client, _)) = accepted_conn else { continue };
                // The fault in force now: a change may have raced with this accept.
                let current = fault.borrow().clone();
                accepted.fetch_add(1, Ordering::SeqCst);
                open.fetch_add(1, Ordering::SeqCst);
                let open = open.clone();
                tokio::spawn(async move {
                    let _ = handle(client, upstream, current).await;
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        }
    }
}

/// Opens `addr` again after a refusal period.
async fn rebind(addr: SocketAddr) -> Option<TcpListener> {
    for _ in 0..REBIND_ATTEMPTS {
        match TcpListener::bind(addr).await {
            Ok(l) => return Some(l),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    None
}

async fn handle(mut client: TcpStream, upstream: SocketAddr, fault: Fault) -> std::io::Result<()> {
    let _ = client.set_nodelay(true);
    match fault {
        Fault::Refuse => Ok(()),
        Fault::Pass => {
            let mut backend = TcpStream::connect(upstream).await?;
            let _ = backend.set_nodelay(true);
            tokio::io::copy_bidirectional(&mut client, &mut backend).await?;
            Ok(())
        }
        Fault::Stall => {
            drain(&mut client).await;
            Ok(())
        }
        Fault::Garbage => {
            read_head(&mut client).await?;
            client
                .write_all(b"\x16\x03\x01\x00\x2a SSH-2.0-not-http \x00\xff\r\n\r\n")
                .await?;
            client.shutdown().await?;
            drain(&mut client).await;
            Ok(())
        }
        Fault::HalfClose => {
            read_head(&mut client).await?;
            client.shutdown().await?;
            drain(&mut client).await;
            Ok(())
        }
        Fault::ResetBeforeResponse => {
            read_head(&mut client).await?;
            reset(client).await;
            Ok(())
        }
        Fault::ResetMidBody { after } => relay_response(client, upstream, Some(after), None).await,
        Fault::Drip { every } => relay_response(client, upstream, None, Some(every)).await,
    }
}

/// Relays one connection: requests go through as they come; the response is cut with an RST
/// after `cut_after` bytes, or written one byte every `drip`.
async fn relay_response(
    client: TcpStream,
    upstream: SocketAddr,
    cut_after: Option<usize>,
    drip: Option<Duration>,
) -> std::io::Result<()> {
    let backend = TcpStream::connect(upstream).await?;
    let _ = backend.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut backend_read, mut backend_write) = backend.into_split();
    let upload = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_read, &mut backend_write).await;
        let _ = backend_write.shutdown().await;
        client_read
    });
    let mut buf = vec![0u8; BUFFER_BYTES];
    let mut sent = 0usize;
    loop {
        let n = backend_read.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        let mut chunk = &buf[..n];
        if let Some(limit) = cut_after {
            let allowed = limit.saturating_sub(sent).min(chunk.len());
            client_write.write_all(&chunk[..allowed]).await?;
            sent += allowed;
            if sent >= limit {
                upload.abort();
                let client_read = upload.await.ok();
                tokio::time::sleep(RESET_GRACE).await;
                if let Some(read) = client_read
                    && let Ok(stream) = read.reunite(client_write)
                {
                    reset(stream).await;
                }
                return Ok(());
            }
            chunk = &chunk[allowed..];
        }
        match drip {
            Some(every) => {
                for byte in chunk {
                    client_write.write_all(std::slice::from_ref(byte)).await?;
                    tokio::time::sleep(every).await;
                }
            }
            None => client_write.write_all(chunk).await?,
        }
    }
    client_write.shutdown().await?;
    let _ = upload.await;
    Ok(())
}

/// Closes `stream` with an RST instead of a FIN.
async fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// Reads until the end of a request head (or EOF).
async fn read_head(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(())
}

/// Reads and discards until the peer closes or fails.
async fn drain(stream: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
}
