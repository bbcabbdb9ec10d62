//! The servers beside the pass-through transport: the internal API (MI's health probes
//! `/liveness` and `/healthz`, on the internal HTTP and HTTPS ports) and remote monitoring in the
//! Jolokia protocol on the `[monitoring.jmx] rmi_registry_port`.
//!
//! Handlers here are plain functions from a request head to a complete response; the binary
//! serves them over the listeners of the port plan. The Management API (`/management`) and
//! Prometheus metrics are not implemented yet and answer 404 like any unknown path.

#![forbid(unsafe_code)]

pub mod internal_api;
pub mod monitoring;
pub mod status;

pub use internal_api::InternalApi;
pub use monitoring::Monitoring;
pub use status::ServerStatus;
