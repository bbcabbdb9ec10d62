//! The servers beside the pass-through transport: the internal API (MI's health probes
//! `/liveness` and `/healthz`, on the internal HTTP and HTTPS ports) and remote monitoring in the
//! Jolokia protocol on the `[monitoring.jmx] rmi_registry_port`.
//!
//! Handlers here are plain functions from a request head to a complete response; the binary
//! serves them over the listeners of the port plan. Prometheus metrics (`/metric-service/metrics`)
//! read the pass-through's counters through [`metrics::Observed`]. MI's Management API
//! (`/management`, JWT login) is [`management::ManagementApi`], reached through
//! [`InternalApi::handle_request`].

#![forbid(unsafe_code)]

pub mod console;
pub mod internal_api;
pub mod management;
pub mod metrics;
pub mod monitoring;
pub mod status;

pub use console::Console;
pub use internal_api::{InternalApi, MAX_INTERNAL_BODY_BYTES};
pub use management::{LogLevels, ManagementApi, ServerFacts};
pub use metrics::{Metrics, Observed};
pub use monitoring::Monitoring;
pub use status::ServerStatus;
