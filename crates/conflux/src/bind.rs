//! All-or-nothing binding of the port plan: every listener of the plan is bound before anything is
//! served; if one port cannot be bound, everything bound so far is released and the failure says
//! which port, which role, base + offset, who holds it, and the smallest offset at which the whole
//! plan is free. (MI logs "started" and runs on without the port: mi-ports.md §3.)

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, ToSocketAddrs};

use conflux_config::{PortEntry, PortPlan};
use socket2::{Domain, Protocol, Socket, Type};

use crate::sockets::{ProcessInfo, tcp_listener_holder};

/// Pending connections the kernel queues per listener before accepting stops keeping up.
pub const LISTEN_BACKLOG: i32 = 1024;

/// A bound listener of the plan.
#[derive(Debug)]
pub struct BoundListener {
    pub entry: PortEntry,
    pub address: SocketAddr,
    pub listener: TcpListener,
}

/// Why the plan could not be bound.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("cannot resolve bind address {host:?} of {role} ({key}): {reason}")]
    Resolve {
        role: &'static str,
        key: &'static str,
        host: String,
        reason: String,
    },
    #[error("{}", describe_taken(.entry, .address, .source, .holder, *.offset, .free_offset))]
    Taken {
        entry: Box<PortEntry>,
        address: SocketAddr,
        source: io::Error,
        holder: Option<ProcessInfo>,
        offset: i32,
        free_offset: Option<i32>,
    },
}

fn describe_taken(
    entry: &PortEntry,
    address: &SocketAddr,
    source: &io::Error,
    holder: &Option<ProcessInfo>,
    offset: i32,
    free_offset: &Option<i32>,
) -> String {
    let mut s = format!(
        "cannot listen on {address} for {role} ({key} = {base} + offset {offset} = {port}): {source}",
        role = entry.role.name(),
        key = entry.role.key(),
        base = entry.base,
        port = entry.port,
    );
    if let Some(h) = holder {
        s.push_str(&format!(" (held by pid {} `{}`)", h.pid, h.command));
    }
    s.push_str("; nothing was started");
    match free_offset {
        Some(o) => s.push_str(&format!(
            ". The whole port plan is free at offset {o}: try -DportOffset={o}"
        )),
        None => s.push_str(". No free offset was found for the whole plan"),
    }
    s
}

/// Resolves a bind host of the plan to one socket address (IPv4 preferred, as MI's
/// `-Djava.net.preferIPv4Stack=true`).
pub fn resolve(entry: &PortEntry) -> Result<SocketAddr, BindError> {
    if let Ok(ip) = entry.bind.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, entry.port));
    }
    let addrs: Vec<SocketAddr> = (entry.bind.as_str(), entry.port)
        .to_socket_addrs()
        .map_err(|e| BindError::Resolve {
            role: entry.role.name(),
            key: entry.role.key(),
            host: entry.bind.clone(),
            reason: e.to_string(),
        })?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| BindError::Resolve {
            role: entry.role.name(),
            key: entry.role.key(),
            host: entry.bind.clone(),
            reason: "no address".into(),
        })
}

fn bind_one(address: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    // Lets a restarted server rebind while old connections sit in TIME_WAIT; on Linux it does not
    // allow two live listeners on one port.
    socket.set_reuse_address(true)?;
    if address.is_ipv6() {
        socket.set_only_v6(false).ok();
    }
    socket.bind(&address.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Whether `entry`'s port could be bound right now (bound and released at once).
pub fn is_free(entry: &PortEntry) -> bool {
    match resolve(entry) {
        Ok(address) => bind_one(address).is_ok(),
        Err(_) => false,
    }
}

/// Binds every listener of `plan`, or none.
pub fn bind_all(plan: &PortPlan) -> Result<Vec<BoundListener>, BindError> {
    let mut bound = Vec::new();
    for entry in plan.listeners() {
        let address = resolve(entry)?;
        match bind_one(address) {
            Ok(listener) => bound.push(BoundListener {
                entry: entry.clone(),
                address,
                listener,
            }),
            Err(source) => {
                // Release what this attempt holds before probing other offsets.
                drop(bound);
                let free_offset = plan.smallest_free_offset(is_free);
                return Err(BindError::Taken {
                    entry: Box::new(entry.clone()),
                    address,
                    holder: tcp_listener_holder(entry.port),
                    source,
                    offset: plan.offset().value,
                    free_offset,
                });
            }
        }
    }
    Ok(bound)
}
