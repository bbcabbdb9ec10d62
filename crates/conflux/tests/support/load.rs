//! A counting load generator for end-to-end reliability tests: [`Client`] sends HTTP/1.1 requests
//! on a keep-alive connection (reconnecting when the server closes it) and classifies every
//! exchange as an [`Outcome`]; [`run`] drives several clients on their own threads until a stop
//! condition and returns a [`Tally`] with every outcome counted and the failures kept.
//!
//! The classification separates what a client must treat differently: a refused connect (the
//! server is not accepting: clean), a connection closed before any response byte (nothing of the
//! request was answered: an idempotent request may be retried, RFC 9112 §9.3.1), a complete
//! response, and everything else (a truncated response, a reset after response bytes, a hang).

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a client waits for any byte before calling the exchange hung.
pub const HANG_TIMEOUT: Duration = Duration::from_secs(20);

/// How one exchange ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A complete response: status and body.
    Answered { status: u16, body: Vec<u8> },
    /// The connect was refused (nothing listens).
    Refused,
    /// The connection closed or was reset before any byte of the response.
    ClosedBeforeResponse { reused: bool },
    /// Response bytes arrived, then the connection ended before the response was complete.
    Truncated { status: u16, got: usize },
    /// No byte for [`HANG_TIMEOUT`].
    Hung,
    /// Another error (unparsable response, unexpected connect error).
    Other(String),
}

impl Outcome {
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Answered { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn text(&self) -> String {
        match self {
            Outcome::Answered { body, .. } => String::from_utf8_lossy(body).into_owned(),
            other => format!("{other:?}"),
        }
    }
}

/// A keep-alive HTTP/1.1 client to 127.0.0.1:`port`.
pub struct Client {
    port: u16,
    reader: Option<BufReader<TcpStream>>,
    /// Exchanges done on the current connection.
    uses: usize,
}

impl Client {
    pub fn new(port: u16) -> Client {
        Client {
            port,
            reader: None,
            uses: 0,
        }
    }

    /// Drops the connection; the next request opens a new one.
    pub fn disconnect(&mut self) {
        self.reader = None;
    }

    /// `method path` with `body` (Content-Length framed) and `extra` header lines.
    pub fn request(&mut self, method: &str, path: &str, extra: &str, body: &[u8]) -> Outcome {
        if self.reader.is_none() {
            let stream = match TcpStream::connect(("127.0.0.1", self.port)) {
                Ok(s) => s,
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => return Outcome::Refused,
                Err(e) => return Outcome::Other(format!("connect: {e}")),
            };
            let _ = stream.set_nodelay(true);
            let _ = stream.set_read_timeout(Some(HANG_TIMEOUT));
            self.reader = Some(BufReader::new(stream));
            self.uses = 0;
        }
        let reused = self.uses > 0;
        self.uses += 1;
        let reader = self.reader.as_mut().expect("connected");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{extra}Content-Length: {}\r\n\r\n",
            self.port,
            body.len()
        );
        let mut message = head.into_bytes();
        message.extend_from_slice(body);
        if reader.get_mut().write_all(&message).is_err() {
            self.reader = None;
            return Outcome::ClosedBeforeResponse { reused };
        }
        let (outcome, keep) = read_response(reader, reused, method == "HEAD");
        if !keep {
            self.reader = None;
        }
        outcome
    }

    pub fn get(&mut self, path: &str) -> Outcome {
        self.request("GET", path, "", b"")
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Reads one response; the flag says whether the connection may be used again.
fn read_response(
    reader: &mut BufReader<TcpStream>,
    reused: bool,
    head_only: bool,
) -> (Outcome, bool) {
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(0) => return (Outcome::ClosedBeforeResponse { reused }, false),
        Ok(_) => {}
        Err(e) if is_timeout(&e) => return (Outcome::Hung, false),
        Err(_) => return (Outcome::ClosedBeforeResponse { reused }, false),
    }
    let Some(status) = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
    else {
        return (Outcome::Other(format!("bad status line {line:?}")), false);
    };
    let truncated = |got| (Outcome::Truncated { status, got }, false);
    let mut length = None;
    let mut chunked = false;
    let mut close = false;
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => return truncated(0),
            Ok(_) => {}
            Err(e) if is_timeout(&e) => return (Outcome::Hung, false),
            Err(_) => return truncated(0),
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase());
            match k.as_str() {
                "content-length" => length = v.parse::<usize>().ok(),
                "transfer-encoding" => chunked = v.contains("chunked"),
                "connection" => close = v.contains("close"),
                _ => {}
            }
        }
    }
    let mut body = Vec::new();
    if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
        return (Outcome::Answered { status, body }, !close);
    }
    if chunked {
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(n) if n > 0 => {}
                Err(e) if is_timeout(&e) => return (Outcome::Hung, false),
                _ => return truncated(body.len()),
            }
            let Ok(size) = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
            else {
                return (Outcome::Other(format!("bad chunk size {line:?}")), false);
            };
            if size == 0 {
                line.clear();
                if !matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
                    return truncated(body.len());
                }
                break;
            }
            let mut chunk = vec![0u8; size + 2];
            if let Err(e) = reader.read_exact(&mut chunk) {
                if is_timeout(&e) {
                    return (Outcome::Hung, false);
                }
                return truncated(body.len());
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        let mut got = 0;
        while got < n {
            match reader.read(&mut body[got..]) {
                Ok(0) => return truncated(got),
                Ok(k) => got += k,
                Err(e) if is_timeout(&e) => return (Outcome::Hung, false),
                Err(_) => return truncated(got),
            }
        }
    } else {
        // Delimited by the close: a reset on the way is a truncation.
        match reader.read_to_end(&mut body) {
            Ok(_) => close = true,
            Err(e) if is_timeout(&e) => return (Outcome::Hung, false),
            Err(_) => return truncated(body.len()),
        }
    }
    (Outcome::Answered { status, body }, !close)
}

/// What [`run`] counted.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub sent: usize,
    /// Complete responses that the check accepted.
    pub ok: usize,
    /// Connects refused.
    pub refused: usize,
    /// Connections closed before any response byte (after the retry, if any).
    pub closed_before_response: usize,
    /// Requests retried once on a new connection because a reused one closed before any
    /// response byte.
    pub retried: usize,
    /// Everything else: the check rejected the outcome (kept, up to [`KEPT_FAILURES`]).
    pub failed: usize,
    pub failures: Vec<String>,
    /// Slowest exchange.
    pub slowest: Duration,
}

/// Failures kept for the assertion message.
pub const KEPT_FAILURES: usize = 20;

impl Tally {
    fn add(&mut self, other: Tally) {
        self.sent += other.sent;
        self.ok += other.ok;
        self.refused += other.refused;
        self.closed_before_response += other.closed_before_response;
        self.retried += other.retried;
        self.failed += other.failed;
        self.slowest = self.slowest.max(other.slowest);
        for f in other.failures {
            if self.failures.len() < KEPT_FAILURES {
                self.failures.push(f);
            }
        }
    }
}

/// One request of a load run: client index and request number in, `(method, path)` out.
pub type Pick = dyn Fn(usize, usize) -> (&'static str, String) + Send + Sync;
/// Judges an outcome: `Ok(())` counts it as ok, `Err(why)` as a failure. Refusals and closes
/// before a response are counted by [`run`] before the check sees anything.
pub type Check = dyn Fn(&str, &Outcome) -> Result<(), String> + Send + Sync;

/// One exchange of a recorded run.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub started: Instant,
    pub took: Duration,
    pub outcome: Outcome,
}

impl Recorded {
    pub fn ended(&self) -> Instant {
        self.started + self.took
    }
}

/// When a load run stops.
#[derive(Clone)]
pub enum Until {
    /// After this many requests in total.
    Requests(usize),
    /// When the flag is set.
    Flag(Arc<AtomicBool>),
}

/// Runs `clients` threads against 127.0.0.1:`port` until `until`; each request is chosen by
/// `pick` and judged by `check`. Refused connects and closes before a response are counted (a
/// client then reconnects); a request whose reused connection closed before any response byte is
/// retried once on a new one. `record` (if any) receives every exchange with its final outcome.
pub fn run(
    port: u16,
    clients: usize,
    until: Until,
    pick: Arc<Pick>,
    check: Arc<Check>,
    record: Option<Arc<Mutex<Vec<Recorded>>>>,
) -> Tally {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (until, pick, check, next, record) = (
                until.clone(),
                pick.clone(),
                check.clone(),
                next.clone(),
                record.clone(),
            );
            std::thread::spawn(move || {
                let mut tally = Tally::default();
                let mut client = Client::new(port);
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    match &until {
                        Until::Requests(total) if n >= *total => break,
                        Until::Flag(stop) if stop.load(Ordering::SeqCst) => break,
                        _ => {}
                    }
                    let (method, path) = pick(c, n);
                    let started = Instant::now();
                    let mut outcome = client.request(method, &path, "", b"");
                    if let Outcome::ClosedBeforeResponse { reused: true } = outcome {
                        // The server closed an idle keep-alive connection as the request went
                        // out; a client retries that once on a new connection (RFC 9112 §9.3.1).
                        tally.retried += 1;
                        outcome = client.request(method, &path, "", b"");
                    }
                    let took = started.elapsed();
                    tally.slowest = tally.slowest.max(took);
                    tally.sent += 1;
                    match &outcome {
                        Outcome::Refused => {
                            tally.refused += 1;
                            // Nothing listens: do not spin.
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Outcome::ClosedBeforeResponse { .. } => tally.closed_before_response += 1,
                        other => match check(&path, other) {
                            Ok(()) => tally.ok += 1,
                            Err(why) => {
                                tally.failed += 1;
                                if tally.failures.len() < KEPT_FAILURES {
                                    tally.failures.push(format!("{method} {path}: {why}"));
                                }
                            }
                        },
                    }
                    if let Some(record) = &record {
                        record.lock().expect("record").push(Recorded {
                            started,
                            took,
                            outcome,
                        });
                    }
                }
                tally
            })
        })
        .collect();
    let mut total = Tally::default();
    for t in threads {
        total.add(t.join().expect("load client thread"));
    }
    total
}

/// The number of open file descriptors of process `pid` (Linux `/proc`).
pub fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// The resident set size of process `pid` in KiB (`VmRSS` of `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
