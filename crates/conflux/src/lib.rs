//! The Conflux server binary as a library: the command line ([`cli`]), the server lifecycle
//! ([`server`]: load, bind every port of the plan or none, serve, drain on a signal), the
//! all-or-nothing binder ([`bind`]), what the kernel says about sockets ([`sockets`]) and the log
//! layout ([`logging`]).

#![forbid(unsafe_code)]

pub mod access_log;
pub mod bind;
pub mod cipher_tool;
pub mod cli;
pub mod data_services;
pub mod deploy;
pub mod h1_names;
pub mod h1_router;
pub mod hot_deploy;
pub mod launcher;
pub mod log4j2;
pub mod logging;
pub mod management;
pub mod observe;
pub mod server;
pub mod sockets;
pub mod syslog;

/// The version printed by `conflux version` and reported by the probes.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
