//! conflux-artifacts: Synapse XML artifacts (APIs, proxy services, endpoints, sequences, local
//! entries, sequence templates, one per file as MI deploys them from
//! `synapse-configs/default/<kind>/`) to a typed model with `file:line:column` errors. Expressions are kept as text for the mediation crate to
//! compile. No sockets, no HTTP; XML is parsed by roxmltree with DTDs refused.

pub mod api;
pub mod application;
pub mod artifact;
pub mod capp;
pub mod endpoint;
pub mod error;
pub mod expression;
pub mod inbound_endpoint;
pub mod inject;
pub mod loader;
pub mod local_entry;
pub mod mediators;
pub mod message_processor;
pub mod message_store;
mod preamble;
pub mod proxy;
pub mod registry;
pub mod sequence;
pub mod span;
pub mod task;
pub mod template;
pub mod wsdl;
mod xml;
pub mod xml_limits;

pub use api::{Api, Protocol, Resource, VersionType};
pub use application::{Application, ApplicationArtifact, Applications};
pub use artifact::{
    Artifact, ArtifactKind, MAX_ARTIFACT_BYTES, parse_artifact, parse_artifact_with,
};
pub use capp::{
    CApp, CAppArtifact, CAppArtifactKind, CAppError, CAppRegistryResource, ConfigProperty,
    ConfigPropertyKind, application_from_error, read_capp,
};
pub use endpoint::{
    Endpoint, EndpointKind, EndpointProperty, EndpointRef, LoadbalanceAlgorithm, MarkForSuspension,
    MessageFormat, Recipients, ResponseAction, SessionAffinity, SessionKind, SuspendOnFailure,
    Timeout, TimeoutDuration,
};
pub use error::ArtifactError;
pub use expression::{Expression, Value, ValueOrExpression};
pub use inject::{
    InjectError, InjectedValues, MAX_PROPERTIES_FILE_BYTES, NoValues, ProcessValues,
    PropertiesError, parse_properties, read_properties_file, resolve,
};
pub use loader::{Artifacts, IMPLICIT_SEQUENCES, LoadReport, load_synapse_dir, read_artifact_file};
pub use local_entry::{LocalEntry, LocalEntryValue};
pub use mediators::{Mediator, walk_mediators};
pub use proxy::{ProxyParameter, ProxyService, ProxyTarget, PublishWsdl};
pub use registry::{
    Registry, RegistryKeyError, RegistryResource, load_file_registry, load_registry_folder,
    registry_key_for_path,
};
pub use sequence::{Sequence, SequenceRef};
pub use span::Span;
pub use template::{Template, TemplateParameter};
pub use xml::{MAX_NESTING_DEPTH, SYNAPSE_NS};
