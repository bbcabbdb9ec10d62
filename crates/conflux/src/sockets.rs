//! What the kernel says about sockets (Linux `/proc`): which process holds a listening port, and
//! which ports a process listens on. `conflux ports --check` and the port-conflict message use it
//! to name the holder of a taken port; the end-to-end tests use it to prove Conflux opens no port
//! outside its plan. Elsewhere than Linux every query answers "unknown".

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// TCP state "LISTEN" in `/proc/net/tcp` (include/net/tcp_states.h: TCP_LISTEN = 10).
const TCP_LISTEN: &str = "0A";

/// One socket line of `/proc/net/{tcp,tcp6,udp,udp6}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SocketEntry {
    /// `tcp`, `tcp6`, `udp` or `udp6`.
    pub table: &'static str,
    pub local_port: u16,
    /// Hex state as the kernel prints it (`0A` = listening for TCP).
    pub state: String,
    pub inode: u64,
}

impl SocketEntry {
    /// A TCP socket accepting connections, or any bound UDP socket (UDP has no listen state).
    pub fn is_listening(&self) -> bool {
        if self.table.starts_with("tcp") {
            self.state == TCP_LISTEN
        } else {
            self.local_port != 0
        }
    }
}

/// A process, as far as `/proc` tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: u32,
    pub command: String,
}

/// Parses one `/proc/net/*` table (the first line is a header).
pub fn parse_table(table: &'static str, text: &str) -> Vec<SocketEntry> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local = fields.get(1)?;
            let port_hex = local.rsplit(':').next()?;
            Some(SocketEntry {
                table,
                local_port: u16::from_str_radix(port_hex, 16).ok()?,
                state: fields.get(3)?.to_string(),
                inode: fields.get(9)?.parse().ok()?,
            })
        })
        .collect()
}

/// Every socket of the host's network namespace.
pub fn all_sockets() -> Vec<SocketEntry> {
    let mut out = Vec::new();
    for table in ["tcp", "tcp6", "udp", "udp6"] {
        if let Ok(text) = fs::read_to_string(Path::new("/proc/net").join(table)) {
            out.extend(parse_table(table, &text));
        }
    }
    out
}

/// The socket inodes open in process `pid` (its `/proc/PID/fd` links `socket:[N]`).
pub fn socket_inodes_of(pid: u32) -> BTreeSet<u64> {
    let mut inodes = BTreeSet::new();
    let Ok(dir) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return inodes;
    };
    for entry in dir.flatten() {
        if let Ok(target) = fs::read_link(entry.path()) {
            let target = target.to_string_lossy();
            if let Some(n) = target
                .strip_prefix("socket:[")
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|s| s.parse().ok())
            {
                inodes.insert(n);
            }
        }
    }
    inodes
}

/// The listening TCP ports and bound UDP ports of process `pid`.
pub fn listening_sockets_of(pid: u32) -> Vec<SocketEntry> {
    let inodes = socket_inodes_of(pid);
    let mut found: Vec<SocketEntry> = all_sockets()
        .into_iter()
        .filter(|s| inodes.contains(&s.inode) && s.is_listening())
        .collect();
    found.sort();
    found.dedup();
    found
}

/// The process listening on TCP `port`, if the kernel tells (it may belong to another user).
pub fn tcp_listener_holder(port: u16) -> Option<ProcessInfo> {
    let inodes: BTreeSet<u64> = all_sockets()
        .into_iter()
        .filter(|s| s.table.starts_with("tcp") && s.local_port == port && s.is_listening())
        .map(|s| s.inode)
        .collect();
    if inodes.is_empty() {
        return None;
    }
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if !socket_inodes_of(pid).is_disjoint(&inodes) {
            let command = fs::read_to_string(format!("/proc/{pid}/comm"))
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            return Some(ProcessInfo { pid, command });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:206A 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:C350 0100007F:206A 01 00000000:00000000 00:00000000 00000000     0        0 23456 1 0000000000000000 20 4 30 10 -1
";

    #[test]
    fn parses_proc_net_tcp() {
        let entries = parse_table("tcp", SAMPLE);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].local_port, 8298);
        assert!(entries[0].is_listening());
        assert_eq!(entries[0].inode, 12345);
        assert!(
            !entries[1].is_listening(),
            "an established connection is not a listener"
        );
    }

    #[test]
    fn garbage_lines_are_skipped() {
        assert!(parse_table("tcp", "header\nnot a socket line\n\n").is_empty());
    }

    #[test]
    fn finds_its_own_listener() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        if !Path::new("/proc/net/tcp").exists() {
            eprintln!("skipping: no /proc/net/tcp");
            return;
        }
        let mine = listening_sockets_of(std::process::id());
        assert!(mine.iter().any(|s| s.local_port == port), "{mine:?}");
        let holder = tcp_listener_holder(port).expect("holder found");
        assert_eq!(holder.pid, std::process::id());
    }
}
