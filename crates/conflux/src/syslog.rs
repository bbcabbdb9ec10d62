//! The syslog sink of a log4j2 `Syslog` appender: each log line goes to the configured host:port
//! as one RFC 5424 message (`format = RFC5424`) or BSD/RFC 3164 message (Log4j2's default), over
//! UDP (one datagram per line) or TCP (newline-framed, RFC 6587 non-transparent framing, which is
//! what Log4j2's TCP syslog sends).
//!
//! Sockets: UDP binds one ephemeral local port when the sink is created, i.e. only when a syslog
//! appender is configured (DESIGN.md §1 rule 5: a client's source port, not a listener); TCP
//! connects on first use and reconnects after a failure.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use tracing::Level;

use crate::log4j2::{SyslogProtocol, SyslogTarget};
use crate::logging::civil_from_days;

/// Longest message sent; a longer line is cut at a character boundary (RFC 5424 §6.1: receivers
/// should accept 2048 octets; common receivers accept 8 KiB).
pub const MAX_SYSLOG_MESSAGE_BYTES: usize = 8 * 1024;
/// How long a TCP connect to the syslog host may take before the line is dropped.
pub const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A problem setting up the sink.
#[derive(Debug, thiserror::Error)]
pub enum SyslogError {
    #[error("syslog appender host {host:?} port {port}: cannot resolve: {reason}")]
    Resolve {
        host: String,
        port: u16,
        reason: String,
    },
    #[error("syslog appender: cannot open a UDP socket: {0}")]
    Socket(std::io::Error),
}

enum Connection {
    Udp(UdpSocket),
    Tcp(Option<TcpStream>),
}

/// Sends formatted log lines to one syslog destination.
pub struct SyslogSender {
    target: SyslogTarget,
    destination: SocketAddr,
    /// The HOSTNAME and APP-NAME header fields, cleaned once ([`header_field`]).
    hostname: String,
    app_name: String,
    connection: Mutex<Outgoing>,
}

/// The connection and the buffer each message is framed in, reused from line to line.
struct Outgoing {
    connection: Connection,
    message: String,
}

impl std::fmt::Debug for SyslogSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyslogSender")
            .field("destination", &self.destination)
            .finish_non_exhaustive()
    }
}

impl SyslogSender {
    /// Resolves the destination and, for UDP, opens the one ephemeral source socket.
    ///
    /// # Errors
    /// The host does not resolve, or no UDP socket can be opened.
    pub fn new(target: SyslogTarget, hostname: &str) -> Result<SyslogSender, SyslogError> {
        let destination = (target.host.as_str(), target.port)
            .to_socket_addrs()
            .map_err(|e| e.to_string())
            .and_then(|mut a| a.next().ok_or_else(|| "no address".to_string()))
            .map_err(|reason| SyslogError::Resolve {
                host: target.host.clone(),
                port: target.port,
                reason,
            })?;
        let connection = match target.protocol {
            SyslogProtocol::Udp => {
                let local: SocketAddr = if destination.is_ipv4() {
                    ([0, 0, 0, 0], 0).into()
                } else {
                    ([0u16; 8], 0).into()
                };
                let socket = UdpSocket::bind(local).map_err(SyslogError::Socket)?;
                Connection::Udp(socket)
            }
            SyslogProtocol::Tcp => Connection::Tcp(None),
        };
        Ok(SyslogSender {
            app_name: header_field(&target.app_name),
            target,
            destination,
            hostname: header_field(hostname),
            connection: Mutex::new(Outgoing {
                connection,
                message: String::new(),
            }),
        })
    }

    /// Sends one log line (without its trailing newline). Failures are dropped: logging must not
    /// fail the server; TCP reconnects on the next line.
    pub fn send(&self, level: Level, line: &str) {
        let Ok(mut outgoing) = self.connection.lock() else {
            return;
        };
        let Outgoing {
            connection,
            message,
        } = &mut *outgoing;
        message.clear();
        self.frame_into(
            message,
            level,
            line.trim_end_matches(['\r', '\n']),
            SystemTime::now(),
        );
        match connection {
            Connection::Udp(socket) => {
                let _ = socket.send_to(message.as_bytes(), self.destination);
            }
            Connection::Tcp(stream) => {
                if stream.is_none() {
                    *stream =
                        TcpStream::connect_timeout(&self.destination, TCP_CONNECT_TIMEOUT).ok();
                }
                if let Some(s) = stream {
                    message.push('\n');
                    if s.write_all(message.as_bytes()).is_err() {
                        *stream = None;
                    }
                }
            }
        }
        if message.capacity() > 2 * MAX_SYSLOG_MESSAGE_BYTES {
            *message = String::new();
        }
    }

    /// The syslog message for one line at `now`.
    pub fn frame(&self, level: Level, line: &str, now: SystemTime) -> String {
        let mut out = String::new();
        self.frame_into(&mut out, level, line, now);
        out
    }

    /// [`SyslogSender::frame`] appended to `out`.
    fn frame_into(&self, out: &mut String, level: Level, line: &str, now: SystemTime) {
        let pri = u32::from(self.target.facility) * 8 + severity(level);
        let line = truncate(line, MAX_SYSLOG_MESSAGE_BYTES);
        let since = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let secs = since.as_secs();
        let (y, mo, d) = civil_from_days((secs / 86_400) as i64);
        let rem = secs % 86_400;
        let (h, mi, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
        if self.target.rfc5424 {
            // <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG (RFC 5424 §6).
            let _ = write!(
                out,
                "<{pri}>1 {y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z {} {} {} - - {line}",
                since.subsec_millis(),
                self.hostname,
                self.app_name,
                std::process::id(),
            );
        } else {
            // <PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG (RFC 3164 §4.1).
            const MONTHS: [&str; 12] = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            let month = MONTHS[(mo as usize).saturating_sub(1) % 12];
            let _ = write!(
                out,
                "<{pri}>{month} {d:>2} {h:02}:{mi:02}:{s:02} {} {}: {line}",
                self.hostname, self.app_name,
            );
        }
    }
}

/// Log4j2's level to syslog severity (Log4j2 `Priority.getSeverity`).
fn severity(level: Level) -> u32 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// Header fields are printable ASCII without spaces (RFC 5424 §6.2); `-` when empty.
fn header_field(v: &str) -> String {
    let cleaned: String = v
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(48)
        .collect();
    if cleaned.is_empty() {
        "-".into()
    } else {
        cleaned
    }
}

fn truncate(line: &str, max: usize) -> &str {
    if line.len() <= max {
        return line;
    }
    let mut end = max;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    &line[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn sender(rfc5424: bool, protocol: SyslogProtocol, port: u16) -> SyslogSender {
        SyslogSender::new(
            SyslogTarget {
                host: "127.0.0.1".into(),
                port,
                protocol,
                facility: 16,
                rfc5424,
                app_name: "conflux".into(),
            },
            "myhost",
        )
        .unwrap()
    }

    #[test]
    fn frames_follow_rfc_5424_and_3164() {
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789);
        let s = sender(true, SyslogProtocol::Tcp, 514);
        let m = s.frame(Level::WARN, "[x]  WARN {a} - hi", t);
        assert_eq!(
            m,
            format!(
                "<132>1 2024-02-29T12:34:56.789Z myhost conflux {} - - [x]  WARN {{a}} - hi",
                std::process::id()
            )
        );
        let s = sender(false, SyslogProtocol::Tcp, 514);
        assert_eq!(
            s.frame(Level::ERROR, "boom", t),
            "<131>Feb 29 12:34:56 myhost conflux: boom"
        );
    }

    #[test]
    fn udp_lines_arrive_and_long_lines_are_cut() {
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let port = receiver.local_addr().unwrap().port();
        let s = sender(true, SyslogProtocol::Udp, port);
        s.send(Level::INFO, "hello syslog\n");
        let mut buf = vec![0u8; 65_536];
        let n = receiver.recv(&mut buf).unwrap();
        let got = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(got.starts_with("<134>1 "), "{got}");
        assert!(got.ends_with(" - - hello syslog"), "{got}");

        let at_limit = "a".repeat(MAX_SYSLOG_MESSAGE_BYTES);
        assert_eq!(
            truncate(&at_limit, MAX_SYSLOG_MESSAGE_BYTES).len(),
            MAX_SYSLOG_MESSAGE_BYTES
        );
        let over = "a".repeat(MAX_SYSLOG_MESSAGE_BYTES + 1);
        assert_eq!(
            truncate(&over, MAX_SYSLOG_MESSAGE_BYTES).len(),
            MAX_SYSLOG_MESSAGE_BYTES
        );
        let utf = format!("{}é", "a".repeat(MAX_SYSLOG_MESSAGE_BYTES - 1));
        assert_eq!(
            truncate(&utf, MAX_SYSLOG_MESSAGE_BYTES).len(),
            MAX_SYSLOG_MESSAGE_BYTES - 1
        );
    }

    #[test]
    fn tcp_lines_are_newline_framed() {
        use std::io::{BufRead, BufReader};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let s = sender(false, SyslogProtocol::Tcp, port);
        s.send(Level::DEBUG, "one");
        s.send(Level::DEBUG, "two");
        let (conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut lines = BufReader::new(conn).lines();
        assert!(lines.next().unwrap().unwrap().ends_with("conflux: one"));
        assert!(lines.next().unwrap().unwrap().ends_with("conflux: two"));
    }
}
