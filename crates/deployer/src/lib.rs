//! conflux-deployer: every source of artifacts (the home's `synapse-configs/default/` folders,
//! `carbonapps/*.car`, VS Code and Integration Studio project folders, the file registry behind
//! `conf:`/`gov:` keys, and `$SYSTEM:`/`$FILE:`/`$config:` values) assembled into one validated,
//! compiled snapshot; and the hot-deployment watcher that builds the next snapshot when a file
//! changes.

pub mod assemble;
pub mod order;
pub mod sources;
pub mod watch;

pub use assemble::{CAppCheck, Deployer, Snapshot};
pub use sources::{DataFolder, NotAProject, Sources};
pub use watch::{WatchError, Watcher, watch};
