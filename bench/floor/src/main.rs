//! The floor: the least an HTTP/1 reverse proxy on tokio does per request (README.md). Only for
//! measurement: GET and Content-Length bodies, no limits, no timeouts; any surprise closes the
//! connection.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Conflux's HTTP port before the offset.
const HTTP_PORT: u16 = 8280;
const MAX_HEADERS: usize = 64;
const BUFFER_BYTES: usize = 64 * 1024;
const PREFIX: &[u8] = b"/bench";

fn main() -> io::Result<()> {
    let offset: u16 = std::env::args()
        .find_map(|arg| arg.strip_prefix("-DportOffset=").map(str::to_owned))
        .map_or(Ok(0), |n| n.parse())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("portOffset: {e}")))?;
    let backend: SocketAddr = std::env::var("FLOOR_BACKEND")
        .unwrap_or_else(|_| "127.0.0.1:22001".into())
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("FLOOR_BACKEND: {e}")))?;
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?
        .block_on(async move {
            let listener = TcpListener::bind(("127.0.0.1", HTTP_PORT + offset)).await?;
            loop {
                let (client, _) = listener.accept().await?;
                client.set_nodelay(true)?;
                tokio::spawn(async move {
                    let _ = serve(client, backend).await;
                });
            }
        })
}

/// Serves one client connection until either side closes or anything unexpected arrives.
async fn serve(mut client: TcpStream, backend_addr: SocketAddr) -> io::Result<()> {
    let mut backend: Option<TcpStream> = None;
    let mut inbuf = Vec::with_capacity(BUFFER_BYTES);
    let mut outbuf = Vec::with_capacity(BUFFER_BYTES);
    let mut reply = Vec::with_capacity(BUFFER_BYTES);
    let mut relay = vec![0u8; BUFFER_BYTES];
    loop {
        // The request head.
        let (head_len, body_len) = loop {
            if let Some(parsed) = parse_request(&inbuf, &mut outbuf)? {
                break parsed;
            }
            if read_more(&mut client, &mut inbuf).await? == 0 {
                return Ok(());
            }
        };
        let sock = match &mut backend {
            Some(sock) => sock,
            None => {
                let sock = TcpStream::connect(backend_addr).await?;
                sock.set_nodelay(true)?;
                backend.insert(sock)
            }
        };
        // Head and the body bytes that came with it in one write, then the rest of the body.
        let with_head = (inbuf.len() - head_len).min(body_len);
        outbuf.extend_from_slice(&inbuf[head_len..head_len + with_head]);
        sock.write_all(&outbuf).await?;
        inbuf.drain(..head_len + with_head);
        copy_exact(&mut client, sock, body_len - with_head, &mut relay).await?;

        // The response head, then its body.
        reply.clear();
        let (reply_head, reply_body) = loop {
            if let Some(parsed) = parse_response(&reply)? {
                break parsed;
            }
            if read_more(sock, &mut reply).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        };
        let with_head = (reply.len() - reply_head).min(reply_body);
        client.write_all(&reply[..reply_head + with_head]).await?;
        copy_exact(sock, &mut client, reply_body - with_head, &mut relay).await?;
    }
}

async fn read_more(from: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(BUFFER_BYTES);
    }
    from.read_buf(buf).await
}

/// Copies exactly `len` bytes from `from` to `to`.
async fn copy_exact(
    from: &mut TcpStream,
    to: &mut TcpStream,
    mut len: usize,
    buf: &mut [u8],
) -> io::Result<()> {
    while len > 0 {
        let want = len.min(buf.len());
        let n = from.read(&mut buf[..want]).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        to.write_all(&buf[..n]).await?;
        len -= n;
    }
    Ok(())
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// A complete request head in `buf`: writes the head to send to the backend into `out` (the
/// request line with the prefix taken off the path, then the client's header bytes as they
/// came) and returns the head's length and the body's.
fn parse_request(buf: &[u8], out: &mut Vec<u8>) -> io::Result<Option<(usize, usize)>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let head_len = match request.parse(buf).map_err(|_| invalid("request head"))? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Ok(None),
    };
    let body_len = content_length(request.headers)?;
    let (method, path) = (request.method.unwrap_or("GET"), request.path.unwrap_or("/"));
    let path = path.as_bytes();
    let path = path
        .strip_prefix(PREFIX)
        .filter(|p| p.starts_with(b"/"))
        .unwrap_or(path);
    let line_end = buf.windows(2).position(|w| w == b"\r\n").unwrap_or(0) + 2;
    out.clear();
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(path);
    out.extend_from_slice(b" HTTP/1.1\r\n");
    out.extend_from_slice(&buf[line_end..head_len]);
    Ok(Some((head_len, body_len)))
}

/// A complete response head in `buf`: its length and the body's.
fn parse_response(buf: &[u8]) -> io::Result<Option<(usize, usize)>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(buf).map_err(|_| invalid("response head"))? {
        httparse::Status::Complete(n) => Ok(Some((n, content_length(response.headers)?))),
        httparse::Status::Partial => Ok(None),
    }
}

fn content_length(headers: &[httparse::Header<'_>]) -> io::Result<usize> {
    let mut len = 0;
    for header in headers {
        if header.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(invalid("chunked bodies are not supported"));
        }
        if header.name.eq_ignore_ascii_case("content-length") {
            len = std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| invalid("content-length"))?;
        }
    }
    Ok(len)
}
