//! conflux-artifacts: Synapse XML artifacts (APIs, proxy services, endpoints, sequences, local
//! entries, sequence templates, one per file as MI deploys them from
//! `synapse-configs/default/<kind>/`) to a typed model with `file:line:column` errors. Expressions are kept as text for the mediation crate to
//! compile. No sockets, no HTTP; XML is parsed by roxmltree with DTDs refused.

pub mod api;
pub mod artifact;
pub mod endpoint;
pub mod error;
pub mod expression;
pub mod loader;
pub mod local_entry;
pub mod mediators;
pub mod proxy;
pub mod sequence;
pub mod span;
pub mod template;
pub mod wsdl;
mod xml;

pub use api::{Api, Protocol, Resource, VersionType};
pub use artifact::{Artifact, ArtifactKind, MAX_ARTIFACT_BYTES, parse_artifact};
pub use endpoint::{
    Endpoint, EndpointKind, EndpointProperty, EndpointRef, LoadbalanceAlgorithm, MarkForSuspension,
    MessageFormat, ResponseAction, SuspendOnFailure, Timeout, TimeoutDuration,
};
pub use error::ArtifactError;
pub use expression::{Expression, Value, ValueOrExpression};
pub use loader::{Artifacts, IMPLICIT_SEQUENCES, LoadReport, load_synapse_dir, read_artifact_file};
pub use local_entry::{LocalEntry, LocalEntryValue};
pub use mediators::{Mediator, walk_mediators};
pub use proxy::{ProxyParameter, ProxyService, ProxyTarget, PublishWsdl};
pub use sequence::{Sequence, SequenceRef};
pub use span::Span;
pub use template::{Template, TemplateParameter};
pub use xml::{MAX_NESTING_DEPTH, SYNAPSE_NS};
