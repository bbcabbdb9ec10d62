//! `conflux-mediation`: what happens to a request between the transport and the backend. Today
//! the crate owns request **dispatch** ([`dispatch`]): choosing the proxy service or the REST API
//! and resource exactly as WSO2 MI (Synapse) does, with MI's 404/405/400/OPTIONS answers, and the
//! URI templates (resource matching, HTTP-endpoint expansion). Later it also owns the message
//! context, the mediators and the expressions that run the chosen sequences. Pure logic: no
//! sockets, no async.

pub mod dispatch;
pub mod runtime;
