//! Configuration of a Conflux server: the command line's `-Dkey=value` system properties and
//! `conf/deployment.toml` become one validated [`Config`], including the [`PortPlan`] that every
//! listener takes its address from.
//!
//! The pipeline runs in stages, each testable on its own and none touching a socket:
//! `deployment.toml` text -> [`document::Document`] (spanned, flattened, placeholders resolved)
//! -> [`settings`] (typed values with MI's defaults, unknown keys reported)
//! -> [`ports::PortPlan`] (offset resolved, arithmetic checked, clashes found).
//! Every error names the key, where it came from (file:line:column or the command line), the value
//! and what would be valid.

#![forbid(unsafe_code)]
// Configuration errors are built once, at start-up, and carry every detail a user needs; their size
// does not matter, their completeness does.
#![allow(clippy::result_large_err)]

pub mod datasource;
pub mod document;
pub mod error;
pub mod known_keys;
pub mod ports;
pub mod properties;
pub mod secrets;
pub mod settings;

pub use error::{ConfigError, ConfigErrors, ConfigWarning, Origin};
pub use ports::{
    InboundPortEntry, InboundPortError, InboundPortSpec, OffsetSource, PortEntry, PortPlan, Role,
};
pub use properties::SystemProperties;
pub use settings::{Config, load, load_with};
