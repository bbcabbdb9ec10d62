//! Carbon applications (CApps, `carbonapps/*.car`): a `.car` read in memory as MI's
//! `CappDeployer` reads it (`INIT/deployment/application/deployer/CappDeployer.java`, with
//! `CDEP/config/ApplicationConfiguration.java` and `CDEP/AppDeployerUtils.java`), into the texts
//! of its Synapse artifacts, its registry resources, its config property declarations and its
//! API swagger definitions. Synapse XML is NOT parsed here: the deployer parses the texts (after
//! injecting values). A CApp deploys whole or not at all, so every problem found is collected and
//! any problem makes the whole CApp an error.

mod archive;
mod config;
mod descriptor;
mod registry;
#[cfg(test)]
mod test_zip;

use std::collections::HashSet;

use crate::application::{Application, ApplicationArtifact};
use crate::artifact::ArtifactKind;

pub use archive::{
    CAPP_COMPRESSION_RATIO_FLOOR_BYTES, MAX_CAPP_BYTES, MAX_CAPP_COMPRESSION_RATIO,
    MAX_CAPP_ENTRIES, MAX_CAPP_UNPACKED_BYTES,
};
pub use config::{ConfigProperty, ConfigPropertyKind};
pub use registry::{CAppRegistryResource, ProjectRegistryItem, project_registry_items};

use archive::Entries;
use descriptor::{Dependency, Descriptor, parse_application, parse_artifact_xml, utf8_text};

/// Server roles a dependency's `serverRole` must be one of for MI to deploy it: MI's default
/// `server.roles` (`distribution/src/resources/config-tool/default.json`). A dependency without a
/// `serverRole` is kept (MI fails on it with a NullPointerException).
pub const CAPP_SERVER_ROLES: [&str; 3] = [
    "EnterpriseIntegrator",
    "EnterpriseServiceBus",
    "DataServicesServer",
];

/// Artifact types Conflux deploys from a CApp.
pub const CAPP_SUPPORTED_TYPES: [&str; 15] = [
    "synapse/api",
    "synapse/task",
    "synapse/message-store",
    "synapse/message-processors",
    "synapse/inbound-endpoint",
    "synapse/proxy-service",
    "synapse/sequence",
    "synapse/endpoint",
    "synapse/local-entry",
    "synapse/template",
    "registry/resource",
    "config/property",
    "synapse/metadata",
    "service/dataservice",
    "datasource/datasource",
];

/// `synapse/metadata` artifacts carry Service Catalog YAML and swagger definitions.
const METADATA_TYPE: &str = "synapse/metadata";
/// A metadata sub-directory whose name contains this holds an API's swagger definition.
const SWAGGER_MARKER: &str = "_swagger";

/// A CApp that read cleanly: everything the deployer needs, nothing deployed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CApp {
    /// `name` of the `carbon/application` artifact (the file name without `.car` when absent).
    pub name: String,
    pub version: Option<String>,
    /// The file's name (`HelloCApp_1.0.0.car`).
    pub file_name: String,
    /// How the file is named in errors (`carbonapps/HelloCApp_1.0.0.car`).
    pub label: String,
    /// In MI's deploy order: config properties, registry resources, then local entries,
    /// endpoints, sequences, templates, proxy services, APIs (MI `ConfigDeployer`,
    /// `FileRegistryResourceDeployer`, then `SynapseAppDeployer.getOrderedArtifactsMap`); within
    /// a type in `artifacts.xml` dependency order.
    pub artifacts: Vec<CAppArtifact>,
    /// Every registry file of the `registry/resource` artifacts, in dependency order.
    pub registry: Vec<CAppRegistryResource>,
    /// Every `config/property` declaration (a name declared twice keeps the later type).
    pub config_properties: Vec<ConfigProperty>,
    /// `(API artifact name, swagger text)` from `metadata/<api>_swagger_<v>/`, for APIs of this
    /// CApp. MI keys the definition by the `name` of the API in that artifact's file.
    pub swagger: Vec<(String, String)>,
}

/// One deployable artifact of a CApp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CAppArtifact {
    pub name: String,
    pub version: Option<String>,
    /// The full type as `artifact.xml` writes it (`synapse/api`, `registry/resource`, ...).
    pub kind_name: String,
    pub kind: CAppArtifactKind,
    /// Where `text` comes from: `"{capp}!/{dir}/{file}"`.
    pub label: String,
    /// The artifact's file: the Synapse XML, `registry-info.xml`, or `config.properties`.
    pub text: String,
    /// Position of its `<dependency>` among the CApp's dependencies for this server, in
    /// `artifacts.xml` order (the order MI's management API lists).
    pub dependency_index: usize,
}

/// What a CApp artifact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CAppArtifactKind {
    /// A Synapse artifact: `text` is its XML, parsed by the deployer.
    Synapse(ArtifactKind),
    /// `registry/resource`: its files are in `CApp::registry`.
    RegistryResource,
    /// `config/property`: its declarations are in `CApp::config_properties`.
    ConfigProperty,
    /// `service/dataservice`: `text` is the `.dbs` file (MI `DataServiceCappDeployer`), deployed
    /// by the server beside the Synapse artifacts.
    DataService,
    /// `datasource/datasource`: `text` is a `<datasource>` definition (MI
    /// `DataSourceCappDeployer`), a named data source for data services and DB mediators.
    DataSource,
}

impl CAppArtifactKind {
    fn from_type(kind_name: &str) -> Option<Self> {
        Some(match kind_name {
            "synapse/api" => CAppArtifactKind::Synapse(ArtifactKind::Api),
            "synapse/proxy-service" => CAppArtifactKind::Synapse(ArtifactKind::ProxyService),
            "synapse/sequence" => CAppArtifactKind::Synapse(ArtifactKind::Sequence),
            "synapse/endpoint" => CAppArtifactKind::Synapse(ArtifactKind::Endpoint),
            "synapse/local-entry" => CAppArtifactKind::Synapse(ArtifactKind::LocalEntry),
            "synapse/template" => CAppArtifactKind::Synapse(ArtifactKind::Template),
            "synapse/task" => CAppArtifactKind::Synapse(ArtifactKind::Task),
            "synapse/message-store" => CAppArtifactKind::Synapse(ArtifactKind::MessageStore),
            "synapse/message-processors" => {
                CAppArtifactKind::Synapse(ArtifactKind::MessageProcessor)
            }
            "synapse/inbound-endpoint" => CAppArtifactKind::Synapse(ArtifactKind::InboundEndpoint),
            "registry/resource" => CAppArtifactKind::RegistryResource,
            "config/property" => CAppArtifactKind::ConfigProperty,
            "service/dataservice" => CAppArtifactKind::DataService,
            "datasource/datasource" => CAppArtifactKind::DataSource,
            _ => return None,
        })
    }

    /// Rank in MI's deploy order within one CApp (`SynapseAppDeployer.getOrderedArtifactsMap`:
    /// local entries, endpoints, sequences, message stores, templates, proxy services, tasks,
    /// message processors, APIs, inbound endpoints).
    fn deploy_rank(self) -> u8 {
        match self {
            CAppArtifactKind::ConfigProperty => 0,
            CAppArtifactKind::RegistryResource => 1,
            // Data sources before the data services that name them.
            CAppArtifactKind::DataSource => 12,
            CAppArtifactKind::DataService => 13,
            CAppArtifactKind::Synapse(kind) => match kind {
                ArtifactKind::LocalEntry => 2,
                ArtifactKind::Endpoint => 3,
                ArtifactKind::Sequence => 4,
                ArtifactKind::MessageStore => 5,
                ArtifactKind::Template => 6,
                ArtifactKind::ProxyService => 7,
                ArtifactKind::Task => 8,
                ArtifactKind::MessageProcessor => 9,
                ArtifactKind::Api => 10,
                ArtifactKind::InboundEndpoint => 11,
            },
        }
    }
}

/// Why a `.car` could not be read or cannot be deployed. Every variant names the CApp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CAppError {
    #[error("{capp}: {size} bytes is larger than the limit of {limit} bytes for a CApp")]
    TooLarge { capp: String, size: u64, limit: u64 },

    #[error("{capp} is not a readable zip file: {reason}")]
    Corrupt { capp: String, reason: String },

    #[error("{capp} has {count} zip entries, more than the limit of {limit}")]
    TooManyEntries {
        capp: String,
        count: usize,
        limit: usize,
    },

    #[error("{capp} unpacks to more than the limit of {limit} bytes")]
    UnpackedTooLarge { capp: String, limit: u64 },

    #[error("{capp}!/{entry}: compressed more than {limit}:1, refused as a likely zip bomb")]
    CompressionRatio {
        capp: String,
        entry: String,
        limit: u64,
    },

    #[error("{capp}: zip entry \"{entry}\" is refused: {why}")]
    UnsafeEntryName {
        capp: String,
        entry: String,
        why: String,
    },

    #[error("artifacts.xml not found in {capp} (nor metadata.xml): it declares the application")]
    DescriptorMissing { capp: String },

    /// No dependency is for this server's roles: MI warns "No artifacts found to be deployed in
    /// this server. Ignoring Carbon Application" and neither activates nor faulty-lists it. The
    /// deployer should do the same.
    #[error(
        "no artifacts found to be deployed in this server in {capp} (no dependency has serverRole {}); ignoring it",
        CAPP_SERVER_ROLES.join(", ")
    )]
    NothingToDeploy { capp: String, name: String },

    /// The CApp was read, but cannot be deployed (every problem found is listed).
    #[error("{capp} cannot be deployed: {}", errors.join("; "))]
    Faulty {
        capp: String,
        /// The application's name and version, when `artifacts.xml` could be read.
        name: Option<String>,
        version: Option<String>,
        /// Its resolved artifacts in dependency order (metadata left out), for listing.
        artifacts: Vec<ApplicationArtifact>,
        errors: Vec<String>,
    },
}

impl CApp {
    /// The application as MI's Management API lists it: the resolved artifacts in
    /// `artifacts.xml` dependency order with their full types (metadata entries left out).
    pub fn application(&self) -> Application {
        let mut ordered: Vec<&CAppArtifact> = self.artifacts.iter().collect();
        ordered.sort_by_key(|a| a.dependency_index);
        Application {
            name: self.name.clone(),
            version: self.version.clone(),
            file_name: self.file_name.clone(),
            artifacts: ordered
                .into_iter()
                .map(|a| ApplicationArtifact {
                    name: a.name.clone(),
                    kind: a.kind_name.clone(),
                })
                .collect(),
            error: None,
        }
    }
}

/// A faulty CApp as an `Application` with `error` set, named from its `artifacts.xml` when that
/// could be read (best effort), else from `file_name` without `.car`.
pub fn application_from_error(file_name: &str, err: &CAppError) -> Application {
    let (name, version, artifacts) = match err {
        CAppError::Faulty {
            name,
            version,
            artifacts,
            ..
        } => (name.clone(), version.clone(), artifacts.clone()),
        CAppError::NothingToDeploy { name, .. } => (Some(name.clone()), None, Vec::new()),
        _ => (None, None, Vec::new()),
    };
    Application {
        name: name.unwrap_or_else(|| file_stem(file_name).to_string()),
        version,
        file_name: file_name.to_string(),
        artifacts,
        error: Some(err.to_string()),
    }
}

fn file_name_of(label: &str) -> &str {
    label.rsplit(['/', '\\']).next().unwrap_or(label)
}

fn file_stem(file_name: &str) -> &str {
    file_name.strip_suffix(".car").unwrap_or(file_name)
}

/// One top-level directory with an `artifact.xml`.
struct Found {
    dir: String,
    descriptor: Descriptor,
}

impl Found {
    fn name(&self) -> &str {
        self.descriptor.name.as_deref().unwrap_or_default()
    }

    fn kind(&self) -> &str {
        self.descriptor.kind.as_deref().unwrap_or_default()
    }

    fn matches(&self, dependency: &Dependency) -> bool {
        dependency.name.as_deref() == Some(self.name())
            && dependency.version == self.descriptor.version
    }
}

/// Reads a `.car` (`bytes`) named `label` in errors (e.g. `carbonapps/Foo_1.0.0.car`).
///
/// Deliberate differences from MI, each reported instead of skipped silently:
/// - a dependency that no artifact directory resolves (same name and version) is an error; MI
///   logs "Some dependencies were not satisfied" and leaves the CApp neither active nor faulty;
/// - a registry file or collection named in `registry-info.xml` but absent is an error (MI logs
///   it and deploys the rest);
/// - artifact types Conflux cannot run (Java class mediators, Java connectors, event sources,
///   Axis2 services) and unknown types are errors; MI deploys the first kinds and skips unknown
///   ones.
///   The connectors accepted are MI's HTTP, email and file connectors (a `synapse/lib` zip
///   whose `connector.xml` names component `http`, `email` or `file`): Conflux has them built
///   in, so nothing is deployed for them.
pub fn read_capp(label: &str, bytes: &[u8]) -> Result<CApp, CAppError> {
    let entries = archive::read_entries(label, bytes)?;
    let file_name = file_name_of(label).to_string();

    // MI reads metadata.xml first ("new CApp format"), else artifacts.xml.
    let descriptor_name = ["metadata.xml", "artifacts.xml"]
        .into_iter()
        .find(|name| entries.files.contains_key(*name))
        .ok_or_else(|| CAppError::DescriptorMissing {
            capp: label.to_string(),
        })?;
    let descriptor_label = format!("{label}!/{descriptor_name}");
    let application = parse_application(&descriptor_label, &entries.files[descriptor_name])
        .map_err(|err| CAppError::Faulty {
            capp: label.to_string(),
            name: None,
            version: None,
            artifacts: Vec::new(),
            errors: vec![err],
        })?;
    let name = application
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| file_stem(&file_name).to_string());
    let version = application.version.clone().filter(|v| !v.is_empty());

    let mut dependencies: Vec<Dependency> = Vec::new();
    for dependency in application.dependencies {
        let for_this_server = dependency
            .server_role
            .as_deref()
            .is_none_or(|role| CAPP_SERVER_ROLES.contains(&role));
        let duplicate = dependencies
            .iter()
            .any(|d| d.name == dependency.name && d.version == dependency.version);
        if for_this_server && !duplicate {
            dependencies.push(dependency);
        }
    }
    if dependencies.is_empty() {
        return Err(CAppError::NothingToDeploy {
            capp: label.to_string(),
            name,
        });
    }

    let mut errors = Vec::new();
    let mut found = Vec::new();
    let mut metadata = Metadata::default();
    for dir in entries.top_dirs() {
        let artifact_xml = format!("{dir}/artifact.xml");
        match entries.files.get(&artifact_xml) {
            Some(bytes) => match parse_artifact_xml(&format!("{label}!/{artifact_xml}"), bytes) {
                Ok(descriptor) => found.push(Found {
                    dir: dir.to_string(),
                    descriptor,
                }),
                Err(err) => errors.push(err),
            },
            // MI: a directory without artifact.xml whose path ends with "metadata".
            None if dir.ends_with("metadata") => {
                read_metadata(label, dir, &entries, &mut metadata, &mut errors)
            }
            None => {}
        }
    }
    // Metadata artifacts are removed from the dependency list (by name, as MI does).
    dependencies.retain(|d| {
        !d.name
            .as_deref()
            .is_some_and(|n| metadata.names.iter().any(|m| m == n))
    });

    let resolved = resolve(label, &dependencies, &found, &mut errors);
    let listed: Vec<ApplicationArtifact> = resolved
        .iter()
        .map(|(_, f)| f)
        .filter(|f| f.kind() != METADATA_TYPE)
        .map(|f| ApplicationArtifact {
            name: f.name().to_string(),
            kind: f.kind().to_string(),
        })
        .collect();

    let mut artifacts = Vec::new();
    let mut registry = Vec::new();
    let mut config_properties: Vec<ConfigProperty> = Vec::new();
    for (dependency_index, artifact) in &resolved {
        let Some(built) = build_artifact(label, artifact, &entries, &mut errors) else {
            continue;
        };
        match built.kind {
            CAppArtifactKind::RegistryResource => {
                registry.extend(registry::registry_resources(
                    label,
                    &artifact.dir,
                    &built.label,
                    &built.text,
                    &entries,
                    &mut errors,
                ));
            }
            CAppArtifactKind::ConfigProperty => {
                match config::parse_config_properties(&built.label, &built.text) {
                    Ok(declared) => {
                        for property in declared {
                            match config_properties
                                .iter_mut()
                                .find(|p| p.name == property.name)
                            {
                                Some(existing) => *existing = property,
                                None => config_properties.push(property),
                            }
                        }
                    }
                    Err(mut problems) => errors.append(&mut problems),
                }
            }
            CAppArtifactKind::Synapse(_)
            | CAppArtifactKind::DataService
            | CAppArtifactKind::DataSource => {}
        }
        artifacts.push(CAppArtifact {
            dependency_index: *dependency_index,
            ..built
        });
    }

    if !errors.is_empty() {
        return Err(CAppError::Faulty {
            capp: label.to_string(),
            name: Some(name),
            version,
            artifacts: listed,
            errors,
        });
    }

    let api_names: HashSet<&str> = artifacts
        .iter()
        .filter(|a| a.kind == CAppArtifactKind::Synapse(ArtifactKind::Api))
        .map(|a| a.name.as_str())
        .collect();
    let swagger = metadata
        .swagger
        .into_iter()
        .filter(|(api, _)| api_names.contains(api.as_str()))
        .collect();
    artifacts.sort_by_key(|a| (a.kind.deploy_rank(), a.dependency_index));
    Ok(CApp {
        name,
        version,
        file_name,
        label: label.to_string(),
        artifacts,
        registry,
        config_properties,
        swagger,
    })
}

#[derive(Default)]
struct Metadata {
    /// Names of the metadata artifacts (dropped from the dependency list).
    names: Vec<String>,
    /// `(API artifact name, swagger text)`.
    swagger: Vec<(String, String)>,
}

/// A `metadata` directory: each sub-directory with an `artifact.xml` is a metadata artifact;
/// one whose directory name contains `_swagger` holds the swagger text of the API artifact named
/// before `_swagger` in its first `<file>` (MI `CappDeployer.searchArtifacts`).
fn read_metadata(
    capp: &str,
    dir: &str,
    entries: &Entries,
    metadata: &mut Metadata,
    errors: &mut Vec<String>,
) {
    for sub in entries.sub_dirs(dir) {
        let artifact_xml = format!("{sub}/artifact.xml");
        let Some(bytes) = entries.files.get(&artifact_xml) else {
            continue;
        };
        let artifact_label = format!("{capp}!/{artifact_xml}");
        let descriptor = match parse_artifact_xml(&artifact_label, bytes) {
            Ok(descriptor) => descriptor,
            Err(err) => {
                errors.push(err);
                continue;
            }
        };
        let name = descriptor.name.clone().unwrap_or_default();
        metadata.names.push(name.clone());
        let sub_name = &sub[dir.len() + 1..];
        if !sub_name.contains(SWAGGER_MARKER) {
            continue;
        }
        let Some(api) = name.find(SWAGGER_MARKER).map(|at| &name[..at]) else {
            errors.push(format!(
                "{artifact_label}: swagger metadata artifact '{name}' (directory {sub_name}) has no '{SWAGGER_MARKER}' in its name, so its API is unknown"
            ));
            continue;
        };
        let Some(file) = descriptor.files.first() else {
            errors.push(format!(
                "{artifact_label}: swagger metadata artifact '{name}' has no <file>"
            ));
            continue;
        };
        let path = format!("{sub}/{file}");
        let file_label = format!("{capp}!/{path}");
        match entries.files.get(&path) {
            Some(bytes) => match utf8_text(&file_label, bytes) {
                Ok(text) => metadata.swagger.push((api.to_string(), text.to_string())),
                Err(err) => errors.push(err),
            },
            None => errors.push(format!("{file_label}: file not found in the CApp")),
        }
    }
}

/// Resolves every dependency to the one artifact directory with the same name and version (MI
/// `buildDependencyTree`), checking the artifacts' own dependencies too; returns
/// `(dependency index, artifact)` in dependency order.
fn resolve<'f>(
    capp: &str,
    dependencies: &[Dependency],
    found: &'f [Found],
    errors: &mut Vec<String>,
) -> Vec<(usize, &'f Found)> {
    let mut resolved = Vec::new();
    let mut pending: Vec<usize> = Vec::new();
    for (index, dependency) in dependencies.iter().enumerate() {
        if let Some(at) = resolve_one(capp, dependency, found, errors) {
            resolved.push((index, &found[at]));
            pending.push(at);
        }
    }
    // Nested <dependency> elements of artifact.xml must resolve as well (MI recurses); each
    // artifact is checked once, so cycles end.
    let mut checked = vec![false; found.len()];
    while let Some(at) = pending.pop() {
        if std::mem::replace(&mut checked[at], true) {
            continue;
        }
        for dependency in &found[at].descriptor.dependencies {
            pending.extend(resolve_one(capp, dependency, found, errors));
        }
    }
    resolved
}

/// The index in `found` of the one artifact `dependency` names, or `None` with the error pushed.
fn resolve_one(
    capp: &str,
    dependency: &Dependency,
    found: &[Found],
    errors: &mut Vec<String>,
) -> Option<usize> {
    let Some(name) = dependency.name.as_deref() else {
        errors.push(format!(
            "{}: <dependency> requires an artifact attribute",
            dependency.at
        ));
        return None;
    };
    let version = dependency.version.as_deref().unwrap_or("(none)");
    let matching: Vec<usize> = (0..found.len())
        .filter(|&i| found[i].matches(dependency))
        .collect();
    match matching.as_slice() {
        [one] => Some(*one),
        [] => {
            errors.push(format!(
                "{}: dependency '{name}' version {version} is not in {capp} (no top-level directory has an artifact.xml with that name and version)",
                dependency.at
            ));
            None
        }
        several => {
            let dirs: Vec<&str> = several.iter().map(|&i| found[i].dir.as_str()).collect();
            errors.push(format!(
                "{}: dependency '{name}' version {version} matches several artifacts in {capp}: {}",
                dependency.at,
                dirs.join(", ")
            ));
            None
        }
    }
}

/// The artifact type of a connector (a zip of templates and Java classes).
const CONNECTOR_TYPE: &str = "synapse/lib";

/// The name of the connector a `synapse/lib` artifact holds: the `name` of the `<component>` in
/// its zip's `connector.xml` (what MI's `LibDeployer` registers, e.g. `http` for
/// `http-connector-0.1.8.zip`), else, for a zip without one, the file name's
/// `<name>-connector-<version>.zip` or `mi-connector-<name>-<version>.zip`.
fn connector_name(capp: &str, found: &Found, entries: &Entries) -> Result<String, String> {
    let [file] = found.descriptor.files.as_slice() else {
        return Err(format!(
            "a connector artifact has exactly one <file> (its zip), found {}",
            found.descriptor.files.len()
        ));
    };
    let path = format!("{}/{file}", found.dir);
    let label = format!("{capp}!/{path}");
    let bytes = entries
        .files
        .get(&path)
        .ok_or_else(|| format!("its file {label} is not in the CApp"))?;
    let zip = archive::read_entries(&label, bytes).map_err(|e| e.to_string())?;
    if let Some(xml) = zip.files.get("connector.xml") {
        let text =
            std::str::from_utf8(xml).map_err(|_| format!("{label}!/connector.xml is not UTF-8"))?;
        let doc = roxmltree::Document::parse(text)
            .map_err(|e| format!("{label}!/connector.xml is not XML: {e}"))?;
        return doc
            .root_element()
            .children()
            .find(|c| c.has_tag_name("component"))
            .and_then(|c| c.attribute("name"))
            .map(|n| n.trim().to_string())
            .ok_or_else(|| format!("{label}!/connector.xml has no <component name>"));
    }
    let stem = file.rsplit('/').next().unwrap_or(file);
    let stem = stem.strip_suffix(".zip").unwrap_or(stem);
    let from_name = stem
        .strip_prefix("mi-connector-")
        .map(|rest| rest.split('-').next().unwrap_or(rest))
        .or_else(|| stem.find("-connector").map(|at| &stem[..at]))
        .filter(|n| !n.is_empty());
    from_name
        .map(str::to_string)
        .ok_or_else(|| format!("{label} has no connector.xml, so the connector is unknown"))
}

/// Why Conflux cannot deploy an artifact of this type.
fn unsupported_reason(kind_name: &str) -> Option<&'static str> {
    Some(match kind_name {
        "lib/synapse/mediator" => {
            "it is a Java class mediator (a .jar), and Conflux runs no Java code"
        }
        "synapse/event-source" => "event sources are not implemented in Conflux",
        "service/axis2" => "it is an Axis2 service (a Java archive), and Conflux runs no Java code",
        _ => return None,
    })
}

/// The deployable artifact of a resolved directory (its file read), or `None` with errors pushed;
/// also `None` (no error) for a top-level `synapse/metadata` artifact, which MI skips.
fn build_artifact(
    capp: &str,
    found: &Found,
    entries: &Entries,
    errors: &mut Vec<String>,
) -> Option<CAppArtifact> {
    let name = found.name();
    let kind_name = found.kind();
    let at = format!("{capp}!/{}/artifact.xml", found.dir);
    let files = &found.descriptor.files;
    if kind_name == CONNECTOR_TYPE {
        match connector_name(capp, found, entries) {
            // Built in (mediation runtime/mediators/http_connector.rs, email_connector.rs,
            // file_connector.rs): nothing to deploy.
            Ok(connector)
                if connector == crate::mediators::http_connector::HTTP_CONNECTOR_NAME
                    || crate::mediators::connector::spec(&connector).is_some() => {}
            Ok(connector) => errors.push(format!(
                "{at}: artifact '{name}' of type {kind_name} cannot be deployed: connector '{connector}' is a Java connector; Conflux runs only the HTTP, email and file connectors (built in)"
            )),
            Err(why) => errors.push(format!(
                "{at}: artifact '{name}' of type {kind_name} cannot be deployed: the connector cannot be identified: {why}"
            )),
        }
        return None;
    }
    if let Some(why) = unsupported_reason(kind_name) {
        errors.push(format!(
            "{at}: artifact '{name}' of type {kind_name} cannot be deployed: {why}"
        ));
        return None;
    }
    if let Some(jar) = files
        .iter()
        .find(|f| f.to_ascii_lowercase().ends_with(".jar"))
    {
        errors.push(format!(
            "{at}: artifact '{name}' of type {kind_name} cannot be deployed: its file {jar} is a Java archive, and Conflux runs no Java code"
        ));
        return None;
    }
    if kind_name == METADATA_TYPE {
        return None;
    }
    let Some(kind) = CAppArtifactKind::from_type(kind_name) else {
        let shown = if kind_name.is_empty() {
            "no type".to_string()
        } else {
            format!("unknown type '{kind_name}'")
        };
        errors.push(format!(
            "{at}: artifact '{name}' has {shown}: valid types are {}",
            CAPP_SUPPORTED_TYPES.join(", ")
        ));
        return None;
    };
    // MI: "Synapse artifact types must have a single file"; likewise registry-info.xml and the
    // config/property file.
    let [file] = files.as_slice() else {
        errors.push(format!(
            "{at}: artifact '{name}' of type {kind_name} must have exactly one <file>, found {}",
            files.len()
        ));
        return None;
    };
    // ConfigDeployer always reads config.properties, whatever <file> says.
    let file = match kind {
        CAppArtifactKind::ConfigProperty => "config.properties",
        _ => file.as_str(),
    };
    let path = format!("{}/{file}", found.dir);
    let label = format!("{capp}!/{path}");
    let text = match entries.files.get(&path) {
        Some(bytes) => match utf8_text(&label, bytes) {
            Ok(text) => text.to_string(),
            Err(err) => {
                errors.push(err);
                return None;
            }
        },
        None => {
            errors.push(format!(
                "{label}: file of artifact '{name}' ({kind_name}) not found in the CApp"
            ));
            return None;
        }
    };
    Some(CAppArtifact {
        name: name.to_string(),
        version: found.descriptor.version.clone(),
        kind_name: kind_name.to_string(),
        kind,
        label,
        text,
        dependency_index: 0,
    })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod connector_tests {
    //! `synapse/lib` artifacts: MI's HTTP connector is built in, other connectors are refused.
    use super::test_zip::{ZipBuilder, zip_of};
    use super::*;

    /// A CApp with one `synapse/lib` artifact `Lib` whose file `file` holds `zip`.
    fn capp_with_lib(file: &str, zip: &[u8]) -> Vec<u8> {
        let mut car = ZipBuilder::new();
        car.deflated(
            "artifacts.xml",
            br#"<artifacts><artifact name="App" version="1.0.0" type="carbon/application">
<dependency artifact="Lib" version="0.1.8" include="true" serverRole="EnterpriseIntegrator"/>
<dependency artifact="Api" version="1.0.0" include="true" serverRole="EnterpriseIntegrator"/>
</artifact></artifacts>"#,
        );
        car.deflated(
            "Lib_0.1.8/artifact.xml",
            format!(r#"<artifact name="Lib" version="0.1.8" type="synapse/lib" serverRole="EnterpriseIntegrator"><file>{file}</file></artifact>"#).as_bytes(),
        );
        car.stored(&format!("Lib_0.1.8/{file}"), zip);
        car.deflated(
            "Api_1.0.0/artifact.xml",
            br#"<artifact name="Api" version="1.0.0" type="synapse/api" serverRole="EnterpriseIntegrator"><file>Api.xml</file></artifact>"#,
        );
        car.deflated("Api_1.0.0/Api.xml", b"<api/>");
        car.finish()
    }

    fn connector_xml(name: &str) -> Vec<u8> {
        format!(r#"<connector><component name="{name}" package="org.wso2.carbon.connector"><dependency component="config"/></component><displayName>X</displayName></connector>"#).into_bytes()
    }

    // mi-connector-http src/main/resources/connector.xml: <component name="http">; the zip is
    // accepted and nothing is deployed for it.
    #[test]
    fn the_http_connector_zip_is_accepted_as_built_in() {
        let zip = zip_of(&[
            ("connector.xml", &connector_xml("http")),
            ("functions/get.xml", b"<template name=\"get\"/>"),
        ]);
        let capp = read_capp(
            "carbonapps/App.car",
            &capp_with_lib("http-connector-0.1.8.zip", &zip),
        )
        .expect("the HTTP connector is built in");
        let app = capp.application();
        assert_eq!(app.error, None);
        assert_eq!(capp.artifacts.len(), 1, "only the API is deployed");
        // Without connector.xml the file name says which connector it is.
        let unnamed = zip_of(&[("functions/get.xml", b"<template/>")]);
        assert!(
            read_capp(
                "carbonapps/App.car",
                &capp_with_lib("http-connector-0.1.8.zip", &unnamed)
            )
            .is_ok()
        );
        assert!(
            read_capp(
                "carbonapps/App.car",
                &capp_with_lib("mi-connector-http-0.1.8.zip", &unnamed)
            )
            .is_ok()
        );
    }

    // The email and file connectors run natively too: their zips deploy nothing and are accepted.
    #[test]
    fn the_email_and_file_connectors_are_built_in() {
        for name in ["email", "file"] {
            let zip = zip_of(&[("connector.xml", &connector_xml(name))]);
            assert!(
                read_capp(
                    "carbonapps/App.car",
                    &capp_with_lib(&format!("mi-connector-{name}-2.0.0.zip"), &zip)
                )
                .is_ok(),
                "{name}"
            );
        }
    }

    #[test]
    fn another_connector_is_refused_naming_it() {
        let zip = zip_of(&[("connector.xml", &connector_xml("salesforce"))]);
        let err = read_capp(
            "carbonapps/App.car",
            &capp_with_lib("salesforce-connector-2.0.0.zip", &zip),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("carbonapps/App.car!/Lib_0.1.8/artifact.xml: artifact 'Lib' of type synapse/lib cannot be deployed: connector 'salesforce' is a Java connector; Conflux runs only the HTTP, email and file connectors (built in)"),
            "{err}"
        );
        let unnamed = zip_of(&[("x.txt", b"x")]);
        let err = read_capp(
            "carbonapps/App.car",
            &capp_with_lib("kafkaTransport-connector-3.1.0.zip", &unnamed),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("connector 'kafkaTransport' is a Java connector"),
            "{err}"
        );
        let err = read_capp("carbonapps/App.car", &capp_with_lib("lib.zip", &unnamed))
            .unwrap_err()
            .to_string();
        assert!(err.contains("the connector cannot be identified"), "{err}");
    }
}
