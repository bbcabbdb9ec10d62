//! The pass-through transport: HTTP/HTTPS listeners that accept client connections, the pooled
//! backend client that forwards requests to endpoints with streaming bodies, TLS material
//! (keystores, self-signed certificates, trust roots), and the endpoint suspension state machine.
//!
//! This crate owns sockets and bytes on the wire; it does not decide where a request goes (that is
//! `conflux-mediation`) nor which ports exist (that is the port plan in `conflux-config`).

#![forbid(unsafe_code)]

mod accept_share;
pub mod body;
pub mod client;
pub mod conn_io;
pub mod data_services;
pub mod endpoint_state;
pub mod error;
pub mod fault;
pub mod forward;
pub mod framing;
pub mod h1;
pub mod headers;
pub mod location;
pub mod passthrough;
mod pool;
pub mod server;
pub mod tls;
