//! The assembler: reads every source ([`Sources`]) into deployment units (one loose artifact
//! file, or one whole carbon application), puts them together in dependency order, compiles the
//! result, and hands out one [`Snapshot`]. It remembers the last good version of every unit, so
//! that a hot redeploy of a broken file or CApp keeps the previous version serving.
//!
//! Rules, MI's and Conflux's:
//! - A CApp deploys whole or not at all (MI `CappDeployer`: a faulty CApp's deployed artifacts are
//!   reverted). Any artifact of it that fails to parse, resolve, or compile, a registry resource
//!   it cannot hold, or a name another unit already uses makes the whole CApp faulty.
//! - Loose files deploy one by one: a broken file never takes the others down.
//! - CApps deploy in the order of the references between them ([`crate::order`]); loose files
//!   first, so a CApp that redefines a hand-placed artifact is the one refused, and CApps already
//!   serving before new ones, so a CApp added later cannot take a name over.
//! - A unit whose new version fails keeps its last good version, when it had one.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use conflux_artifacts::capp::{
    CApp, CAppArtifact, CAppArtifactKind, application_from_error, read_capp,
};
use conflux_artifacts::inject::{InjectedValues, ProcessValues, parse_artifact_with};
use conflux_artifacts::registry::{Registry, RegistryResource, registry_key_for_path};
use conflux_artifacts::{
    Application, Applications, Artifact, ArtifactError, ArtifactKind, Artifacts, Span,
    read_artifact_file,
};
use conflux_mediation::runtime::compile::compile;
use conflux_mediation::runtime::deployment::Deployment;

use crate::order::{CAppRefs, deploy_order};
use crate::sources::{RegistryFolder, Sources, capp_files};

/// Everything one assembly produced: what serves, and what failed.
pub struct Snapshot {
    pub artifacts: Artifacts,
    pub deployment: Deployment,
    /// Units that failed (`reason at file:line:column`), including those whose previous version
    /// keeps serving.
    pub failures: Vec<String>,
    /// Deployed, with something to say (a reference to something not deployed).
    pub warnings: Vec<String>,
    pub applications: Applications,
    /// The data services and data sources of the active CApps, in deploy order: the server
    /// deploys them (they need database pools), after [`CAppCheck`] passed them.
    pub capp_data: Vec<CAppArtifact>,
}

/// Checks a CApp's data service or data source artifact while the CApp is assembled (with the
/// values `$SYSTEM:`/`$config:` resolve from); an error fails the CApp, as a Synapse artifact's
/// parse error does.
pub type CAppCheck =
    Arc<dyn Fn(&CAppArtifact, &dyn InjectedValues) -> Result<(), String> + Send + Sync>;

impl Snapshot {
    /// `2 APIs, 1 proxy services, ...` for the log.
    pub fn summary(&self) -> String {
        let d = &self.deployment;
        format!(
            "{} APIs, {} proxy services, {} sequences, {} endpoints, {} carbon applications deployed; {} failed",
            d.apis.len(),
            d.proxies.len(),
            d.sequences.len(),
            d.named_endpoints.len(),
            self.applications.active.len(),
            self.failures.len()
        )
    }
}

/// One carbon application, read and parsed.
#[derive(Debug, Clone, PartialEq)]
struct ParsedCApp {
    artifacts: Vec<Artifact>,
    registry: Vec<(String, RegistryResource)>,
    application: Application,
    /// `kind:name` this CApp refers to and does not define (for the deploy order).
    refers_to: Vec<String>,
    /// `(API name, definition text)` of its `metadata/<api>_swagger_<v>/` entries.
    swagger: Vec<(String, String)>,
    /// Its data services and data sources (deployed by the server).
    data: Vec<CAppArtifact>,
}

#[derive(Debug, Clone, PartialEq)]
enum Body {
    File(Box<Artifact>),
    CApp(Arc<ParsedCApp>),
}

/// A deployment unit: a loose file (id = its label) or a CApp (id = its label).
#[derive(Debug, Clone, PartialEq)]
struct Unit {
    id: String,
    body: Body,
    /// This is the last good version, kept because the new one failed.
    kept: bool,
}

/// Builds snapshots from sources; keeps the last good version of each unit between builds.
pub struct Deployer {
    sources: Sources,
    /// `-D` properties of the command line (`$config:` values may come from them).
    system_properties: HashMap<String, String>,
    /// `conf/file.properties` (`$FILE:` values, and `$config:` values).
    file_properties: Option<PathBuf>,
    last_good: HashMap<String, Unit>,
    /// The server home: `file:` sources of local entries are relative to it.
    home: Option<PathBuf>,
    /// Checks CApp data services and data sources.
    capp_check: Option<CAppCheck>,
}

impl Deployer {
    pub fn new(
        sources: Sources,
        system_properties: HashMap<String, String>,
        file_properties: Option<PathBuf>,
    ) -> Deployer {
        Deployer {
            sources,
            system_properties,
            file_properties,
            last_good: HashMap::new(),
            home: None,
            capp_check: None,
        }
    }

    /// Sets the server home, against which `<localEntry src="file:...">` paths resolve.
    pub fn with_home(mut self, home: PathBuf) -> Deployer {
        self.home = Some(home);
        self
    }

    /// Sets the check of CApp data services and data sources.
    pub fn with_capp_check(mut self, check: CAppCheck) -> Deployer {
        self.capp_check = Some(check);
        self
    }

    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// Reads every source and builds the next snapshot.
    pub fn assemble(&mut self) -> Snapshot {
        let mut failures = Vec::new();
        let mut faulty_apps = Vec::new();

        // CApps are read first: their config.properties declare the `$config:` names that the
        // artifacts of every unit may use.
        let capps = self.read_capps(&mut failures, &mut faulty_apps);
        let mut declared: Vec<String> = capps
            .iter()
            .filter_map(|(_, c)| c.as_ref().ok())
            .flat_map(|c| c.config_properties.iter().map(|p| p.name.clone()))
            .collect();
        if let Some(path) = &self.sources.config_properties {
            declared.extend(declared_config_names(path, &mut failures));
        }
        let declared: HashSet<String> = declared.into_iter().collect();
        let declared_names = declared.clone();
        let values = match ProcessValues::new(
            self.system_properties.clone(),
            self.file_properties.as_deref(),
            declared.clone(),
        ) {
            Ok(values) => values,
            Err(e) => {
                failures.push(e.to_string());
                ProcessValues::with_file_properties(
                    self.system_properties.clone(),
                    HashMap::new(),
                    declared,
                )
            }
        };

        // What `${configs.NAME}` reads per message: every declared name that has a value.
        let configs: std::collections::BTreeMap<String, String> = declared_names
            .iter()
            .filter_map(|name| Some((name.clone(), values.config(name)?)))
            .collect();
        let mut units = Vec::new();
        for unit in self.read_files(&values, &mut failures) {
            units.push(unit);
        }
        let mut capp_units = Vec::new();
        for (label, capp) in capps {
            let capp = match capp {
                Ok(capp) => capp,
                // MI: "No artifacts found to be deployed in this server. Ignoring Carbon
                // Application" -- neither active nor faulty.
                Err(e @ conflux_artifacts::capp::CAppError::NothingToDeploy { .. }) => {
                    tracing::warn!(target: "conflux::deployer", "{e}");
                    continue;
                }
                Err(e) => {
                    let kept = self.keep_previous(&label, &e.to_string(), &mut failures);
                    faulty_apps.push(application_from_error(file_name(&label), &e));
                    capp_units.extend(kept);
                    continue;
                }
            };
            match parse_capp(
                &label,
                &capp,
                &values,
                self.home.as_deref(),
                self.capp_check.as_ref(),
            ) {
                Ok(parsed) => capp_units.push(Unit {
                    id: label,
                    body: Body::CApp(Arc::new(parsed)),
                    kept: false,
                }),
                Err(error) => {
                    let kept = self.keep_previous(&label, &error, &mut failures);
                    faulty_apps.push(Application {
                        error: Some(error),
                        ..capp.application()
                    });
                    capp_units.extend(kept);
                }
            }
        }
        order_capps(&mut capp_units);
        // What serves keeps its names: a CApp deployed by the last assembly goes before the new
        // ones, so a newcomer that redefines one of its artifacts is the one refused (MI: the
        // second deployment of a name fails while the first keeps serving).
        capp_units.sort_by_key(|u| !self.last_good.contains_key(&u.id));
        units.extend(capp_units);
        let base_registry = self.load_registry(&mut failures);

        // Put the units together and compile; a CApp with a compile error is taken out whole
        // (or replaced by its last good version) and the rest compiled again.
        let mut rejected: HashSet<String> = HashSet::new();
        let mut substituted: HashSet<String> = HashSet::new();
        // Failures of units taken out in an earlier round, which the next round no longer sees.
        let mut taken_out = Vec::new();
        // Units the last round could not put into the set (a name taken), with why.
        let mut set_aside: Vec<(String, String)>;
        let (artifacts, deployment, compile_failures, accepted) = loop {
            let (mut artifacts, accepted, set_failures) =
                put_together(&units, &rejected, &base_registry);
            artifacts.configs = configs.clone();
            let (deployment, errors) = compile(&artifacts);
            let mut retry = false;
            let mut compile_failures: Vec<String> =
                set_failures.iter().map(|(_, f)| f.clone()).collect();
            set_aside = set_failures;
            let mut round_taken_out = Vec::new();
            for error in &errors {
                let owner = units
                    .iter()
                    .position(|u| owns(u, &error.file) && accepted.contains(&u.id));
                let Some(i) = owner else {
                    compile_failures.push(error.to_string());
                    continue;
                };
                let id = units[i].id.clone();
                let is_capp = matches!(units[i].body, Body::CApp(_));
                let previous = self
                    .last_good
                    .get(&id)
                    .filter(|p| !units[i].kept && **p != units[i])
                    .cloned();
                if let Some(previous) = previous.filter(|_| !substituted.contains(&id)) {
                    round_taken_out.push(format!(
                        "{error}; the previous version of {id} keeps serving"
                    ));
                    if let Body::CApp(c) = &units[i].body {
                        faulty_apps.push(faulty_application_of(c, &error.to_string()));
                    }
                    substituted.insert(id);
                    units[i] = Unit {
                        kept: true,
                        ..previous
                    };
                    retry = true;
                } else if is_capp && !rejected.contains(&id) {
                    let message = format!(
                        "{error}; carbon application {id} is faulty and none of its artifacts deployed"
                    );
                    if let Body::CApp(c) = &units[i].body {
                        faulty_apps.push(faulty_application_of(c, &message));
                    }
                    round_taken_out.push(message);
                    rejected.insert(id);
                    retry = true;
                } else if !is_capp {
                    compile_failures.push(error.to_string());
                }
            }
            taken_out.extend(round_taken_out);
            if !retry {
                break (artifacts, deployment, compile_failures, accepted);
            }
        };
        failures.extend(taken_out);
        failures.extend(compile_failures);

        let mut active = Vec::new();
        let mut capp_data = Vec::new();
        self.last_good.clear();
        for unit in units {
            if !accepted.contains(&unit.id) {
                if let Body::CApp(c) = &unit.body
                    && !faulty_apps
                        .iter()
                        .any(|a| a.file_name == c.application.file_name)
                {
                    let error = set_aside
                        .iter()
                        .find(|(id, _)| *id == unit.id)
                        .map(|(_, why)| why.clone());
                    faulty_apps.push(Application {
                        error,
                        ..c.application.clone()
                    });
                }
                continue;
            }
            if let Body::CApp(c) = &unit.body {
                active.push(c.application.clone());
                capp_data.extend(c.data.iter().cloned());
            }
            self.last_good.insert(
                unit.id.clone(),
                Unit {
                    kept: false,
                    ..unit
                },
            );
        }
        let warnings = deployment.warnings.clone();
        Snapshot {
            artifacts,
            deployment,
            failures,
            warnings,
            applications: Applications {
                active,
                faulty: faulty_apps,
            },
            capp_data,
        }
    }

    /// `(label, read result)` of every CApp, by file name.
    fn read_capps(
        &self,
        failures: &mut Vec<String>,
        faulty_apps: &mut Vec<Application>,
    ) -> Vec<(String, Result<CApp, conflux_artifacts::capp::CAppError>)> {
        let mut paths = Vec::new();
        if let Some(dir) = &self.sources.carbonapps {
            match capp_files(dir) {
                Ok(files) => paths.extend(files),
                Err(e) => failures.push(format!("cannot read {}: {e}", dir.display())),
            }
        }
        paths.extend(self.sources.capp_files.iter().cloned());
        let mut out = Vec::new();
        for path in paths {
            let label = capp_label(&path);
            match read_capp_file(&path, &label) {
                Ok(capp) => out.push((label, capp)),
                Err(message) => {
                    faulty_apps.push(unreadable_application(&label, &message));
                    failures.push(message);
                }
            }
        }
        out
    }

    /// The loose files of every folder, parsed; a broken file is reported and, when it had a
    /// good version before, that version stays.
    fn read_files(&self, values: &dyn InjectedValues, failures: &mut Vec<String>) -> Vec<Unit> {
        let mut units = Vec::new();
        for folder in &self.sources.folders {
            for file in folder.files() {
                let file = match file {
                    Ok(file) => file,
                    Err((label, e)) => {
                        failures.push(format!("cannot read {label}: {e}"));
                        continue;
                    }
                };
                let Some(kind) = file.kind else {
                    failures.push(
                        ArtifactError::Unsupported {
                            what: "artifact kind".into(),
                            why: file.unsupported.unwrap_or_default().to_string(),
                            span: Span::whole_file(&file.label),
                        }
                        .to_string(),
                    );
                    continue;
                };
                let parsed = read_artifact_file(&file.label, &file.path)
                    .and_then(|text| parse_artifact_with(&file.label, &text, values))
                    .and_then(|artifact| load_local_entry_src(artifact, self.home.as_deref()))
                    .and_then(|artifact| {
                        if artifact.kind() == kind {
                            Ok(artifact)
                        } else {
                            Err(ArtifactError::WrongRoot {
                                found: artifact.kind().root_element().to_string(),
                                expected: kind.root_element().to_string(),
                                span: artifact.span().clone(),
                            })
                        }
                    });
                match parsed {
                    Ok(artifact) => units.push(Unit {
                        id: file.label,
                        body: Body::File(Box::new(artifact)),
                        kept: false,
                    }),
                    Err(e) => {
                        if let Some(unit) =
                            self.keep_previous(&file.label, &e.to_string(), failures)
                        {
                            units.push(unit);
                        }
                    }
                }
            }
        }
        units
    }

    /// Reports a unit's failure; returns its last good version, which keeps serving.
    fn keep_previous(&self, id: &str, error: &str, failures: &mut Vec<String>) -> Option<Unit> {
        match self.last_good.get(id) {
            Some(previous) => {
                failures.push(format!(
                    "{error}; the previous version of {id} keeps serving"
                ));
                Some(Unit {
                    kept: true,
                    ..previous.clone()
                })
            }
            None => {
                failures.push(error.to_string());
                None
            }
        }
    }

    /// The file registry of every registry folder (CApp resources are added on top).
    fn load_registry(&self, failures: &mut Vec<String>) -> Registry {
        let mut registry = Registry::default();
        for folder in &self.sources.registry {
            let (loaded, errors) = match folder {
                RegistryFolder::Root(root) => conflux_artifacts::registry::load_file_registry(root),
                RegistryFolder::Prefixed { dir, prefix } => {
                    conflux_artifacts::registry::load_registry_folder(dir, prefix)
                }
                RegistryFolder::Described { descriptor } => {
                    (load_described_registry(descriptor, failures), Vec::new())
                }
            };
            failures.extend(errors.iter().map(|e| e.to_string()));
            registry.extend(loaded);
        }
        if let Some(path) = &self.sources.registry_descriptor {
            apply_registry_descriptor(path, &mut registry, failures);
        }
        registry
    }
}

/// The artifact set of the units not rejected, in order: each loose file alone, each CApp whole
/// or not at all, over the file registry `base`. Returns the set, the ids of the units in it, and
/// the failures.
fn put_together(
    units: &[Unit],
    rejected: &HashSet<String>,
    base: &Registry,
) -> (Artifacts, HashSet<String>, Vec<(String, String)>) {
    let mut artifacts = Artifacts::default();
    let mut registry = base.clone();
    let mut accepted = HashSet::new();
    let mut failures = Vec::new();
    for unit in units {
        if rejected.contains(&unit.id) {
            continue;
        }
        match &unit.body {
            Body::File(artifact) => match artifacts.insert((**artifact).clone()) {
                Ok(()) => {
                    accepted.insert(unit.id.clone());
                }
                Err(e) => failures.push((unit.id.clone(), e.to_string())),
            },
            Body::CApp(capp) => {
                let mut trial = artifacts.clone();
                let errors: Vec<String> = capp
                    .artifacts
                    .iter()
                    .filter_map(|a| trial.insert(a.clone()).err())
                    .map(|e| e.to_string())
                    .collect();
                if errors.is_empty() {
                    artifacts = trial;
                    for (key, resource) in &capp.registry {
                        // The key was checked when the CApp was parsed.
                        let _ = registry.insert(key, resource.clone());
                    }
                    artifacts.swagger.extend(capp.swagger.iter().cloned());
                    accepted.insert(unit.id.clone());
                } else {
                    failures.push((
                        unit.id.clone(),
                        format!(
                            "carbon application {} is faulty and none of its artifacts deployed: {}",
                            unit.id,
                            errors.join("; ")
                        ),
                    ));
                }
            }
        }
    }
    artifacts.registry = registry;
    (artifacts, accepted, failures)
}

/// Gives the files of a VS Code project's registry folders the media types and properties its
/// `resources/registry/artifact.xml` declares (a missing descriptor declares nothing).
fn apply_registry_descriptor(path: &Path, registry: &mut Registry, failures: &mut Vec<String>) {
    let label = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            failures.push(format!("cannot read {label}: {e}"));
            return;
        }
    };
    let items = match conflux_artifacts::capp::project_registry_items(&label, &text) {
        Ok(items) => items,
        Err(errors) => {
            failures.extend(errors);
            return;
        }
    };
    for item in items {
        let key = registry_key_for_path(&item.path, Some(&item.file_name));
        let Some(file) = registry.get(&key) else {
            failures.push(format!(
                "{label}: registry item {} at {} has no file {} in the project's registry folders",
                item.file_name, item.path, key
            ));
            continue;
        };
        let mut properties = file.properties().clone();
        properties.extend(item.properties);
        let updated = RegistryResource::new(
            file.content().to_vec(),
            item.media_type
                .or_else(|| file.media_type().map(str::to_string)),
            properties,
            file.origin().to_string(),
        );
        let _ = registry.insert(&key, updated);
    }
}

/// The files an Integration Studio Registry Resources project's `artifact.xml` lists, each read
/// from the project folder and keyed by its registry path (MI `createRegistryPath`).
fn load_described_registry(descriptor: &Path, failures: &mut Vec<String>) -> Registry {
    let mut registry = Registry::default();
    let label = descriptor.display().to_string();
    let Some(project) = descriptor.parent() else {
        return registry;
    };
    let items = match std::fs::read_to_string(descriptor)
        .map_err(|e| vec![format!("cannot read {label}: {e}")])
        .and_then(|text| conflux_artifacts::capp::project_registry_items(&label, &text))
    {
        Ok(items) => items,
        Err(errors) => {
            failures.extend(errors);
            return registry;
        }
    };
    for item in items {
        let file = project.join(&item.file_name);
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        if size > conflux_artifacts::registry::MAX_REGISTRY_FILE_BYTES {
            failures.push(format!(
                "{}: {size} bytes, over the registry file limit of {} bytes",
                file.display(),
                conflux_artifacts::registry::MAX_REGISTRY_FILE_BYTES
            ));
            continue;
        }
        let content = match std::fs::read(&file) {
            Ok(content) => content,
            Err(e) => {
                failures.push(format!(
                    "{label}: registry item {} cannot be read at {}: {e}",
                    item.file_name,
                    file.display()
                ));
                continue;
            }
        };
        let name = item.file_name.rsplit('/').next().unwrap_or(&item.file_name);
        let key = registry_key_for_path(&item.path, Some(name));
        let resource = RegistryResource::new(
            content,
            item.media_type,
            item.properties,
            file.display().to_string(),
        );
        if let Err(e) = registry.insert(&key, resource) {
            failures.push(format!("{label}: {e}"));
        }
    }
    registry
}

/// Whether an error located in `file` belongs to this unit.
fn owns(unit: &Unit, file: &str) -> bool {
    match &unit.body {
        Body::File(_) => unit.id == file,
        Body::CApp(_) => file
            .strip_prefix(unit.id.as_str())
            .is_some_and(|rest| rest.starts_with("!/")),
    }
}

/// How errors name a CApp: `carbonapps/NAME.car` (or the path given for a single file).
fn capp_label(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match path.parent().and_then(|p| p.file_name()) {
        Some(parent) if parent == "carbonapps" => format!("carbonapps/{name}"),
        _ => path.display().to_string(),
    }
}

fn read_capp_file(
    path: &Path,
    label: &str,
) -> Result<Result<CApp, conflux_artifacts::capp::CAppError>, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read carbon application {label}: {e}"))?
        .len();
    if size > conflux_artifacts::capp::MAX_CAPP_BYTES {
        return Err(format!(
            "carbon application {label} is {size} bytes, over the limit of {} bytes",
            conflux_artifacts::capp::MAX_CAPP_BYTES
        ));
    }
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read carbon application {label}: {e}"))?;
    Ok(read_capp(label, &bytes))
}

/// Reads a `src` local entry's content (`conflux_artifacts::local_entry::load_src`).
fn load_local_entry_src(
    artifact: Artifact,
    home: Option<&Path>,
) -> Result<Artifact, ArtifactError> {
    match artifact {
        Artifact::LocalEntry(mut entry) => {
            conflux_artifacts::local_entry::load_src(&mut entry, home)?;
            Ok(Artifact::LocalEntry(entry))
        }
        other => Ok(other),
    }
}

/// Parses the Synapse artifacts of a CApp with injected values, and keys its registry
/// resources; any error fails the whole CApp (all of them are listed).
fn parse_capp(
    label: &str,
    capp: &CApp,
    values: &dyn InjectedValues,
    home: Option<&Path>,
    check: Option<&CAppCheck>,
) -> Result<ParsedCApp, String> {
    let mut artifacts = Vec::new();
    let mut data = Vec::new();
    let mut errors = Vec::new();
    // CApp artifact name -> the `name` of the API in its file: MI keys a swagger definition by
    // the API's name (CappDeployer `apiArtifactMap`, `getApiNameFromFile`).
    let mut api_names: HashMap<&str, String> = HashMap::new();
    for artifact in &capp.artifacts {
        let CAppArtifactKind::Synapse(kind) = artifact.kind else {
            if matches!(
                artifact.kind,
                CAppArtifactKind::DataService | CAppArtifactKind::DataSource
            ) {
                if let Some(Err(e)) = check.map(|check| check(artifact, values)) {
                    errors.push(e);
                }
                data.push(artifact.clone());
            }
            continue;
        };
        match parse_artifact_with(&artifact.label, &artifact.text, values)
            .and_then(|parsed| load_local_entry_src(parsed, home))
        {
            Ok(parsed) if parsed.kind() == kind => {
                if let Artifact::Api(api) = &parsed {
                    api_names.insert(artifact.name.as_str(), api.name.clone());
                }
                artifacts.push(parsed)
            }
            Ok(parsed) => errors.push(
                ArtifactError::WrongRoot {
                    found: parsed.kind().root_element().to_string(),
                    expected: kind.root_element().to_string(),
                    span: parsed.span().clone(),
                }
                .to_string(),
            ),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !errors.is_empty() {
        return Err(format!(
            "carbon application {label} is faulty and none of its artifacts deployed: {}",
            errors.join("; ")
        ));
    }
    let mut registry = Vec::new();
    for r in &capp.registry {
        let key = registry_key_for_path(&r.path, Some(&r.file_name));
        if conflux_artifacts::registry::normalize_key(&key).is_none() {
            errors.push(format!(
                "registry resource key {key} points outside the registry at {}",
                r.label
            ));
            continue;
        }
        let properties: std::collections::BTreeMap<String, String> =
            r.properties.iter().cloned().collect();
        let resource = RegistryResource::new(
            r.content.clone(),
            r.media_type.clone(),
            properties,
            r.label.clone(),
        );
        registry.push((key, resource));
    }
    if !errors.is_empty() {
        return Err(format!(
            "carbon application {label} is faulty and none of its artifacts deployed: {}",
            errors.join("; ")
        ));
    }
    let mut alone = Artifacts::default();
    for artifact in &artifacts {
        let _ = alone.insert(artifact.clone());
    }
    let refers_to = alone
        .check_references()
        .into_iter()
        .filter_map(|e| match e {
            ArtifactError::UnresolvedReference { kind, name, .. } => Some(format!("{kind}:{name}")),
            _ => None,
        })
        .collect();
    let swagger = capp
        .swagger
        .iter()
        .filter_map(|(artifact, text)| {
            Some((api_names.get(artifact.as_str())?.clone(), text.clone()))
        })
        .collect();
    Ok(ParsedCApp {
        artifacts,
        registry,
        application: capp.application(),
        refers_to,
        swagger,
        data,
    })
}

/// Reorders the CApp units by the references between them.
fn order_capps(units: &mut Vec<Unit>) {
    let refs: Vec<CAppRefs> = units
        .iter()
        .map(|u| match &u.body {
            Body::CApp(c) => CAppRefs {
                name: u.id.clone(),
                defines: c.artifacts.iter().map(defined_name).collect(),
                refers_to: c.refers_to.clone(),
            },
            Body::File(_) => CAppRefs::default(),
        })
        .collect();
    let (order, cycle) = deploy_order(&refs);
    if !cycle.is_empty() {
        // Not an error: the set compiles as a whole, so references resolve in any order.
        tracing::info!(target: "conflux::deployer", "carbon applications refer to each other in a cycle ({}); they deploy in file-name order", cycle.join(", "));
    }
    let mut taken: Vec<Option<Unit>> = std::mem::take(units).into_iter().map(Some).collect();
    units.extend(order.into_iter().filter_map(|i| taken[i].take()));
}

/// `kind:name` as `check_references` names references.
fn defined_name(artifact: &Artifact) -> String {
    let kind = match artifact.kind() {
        ArtifactKind::Sequence => "sequence",
        ArtifactKind::Endpoint => "endpoint",
        ArtifactKind::Template => "template",
        ArtifactKind::Api => "api",
        ArtifactKind::ProxyService => "proxy",
        ArtifactKind::LocalEntry => "localEntry",
        ArtifactKind::Task => "task",
        ArtifactKind::MessageStore => "messageStore",
        ArtifactKind::MessageProcessor => "messageProcessor",
        ArtifactKind::InboundEndpoint => "inboundEndpoint",
    };
    format!("{kind}:{}", artifact.name())
}

/// The file name of a CApp label (`carbonapps/Foo.car` -> `Foo.car`).
fn file_name(label: &str) -> &str {
    label.rsplit('/').next().unwrap_or(label)
}

/// A CApp that could not be read at all (too large, unreadable), as the Management API lists it.
fn unreadable_application(label: &str, error: &str) -> Application {
    let file_name = file_name(label).to_string();
    Application {
        name: file_name
            .strip_suffix(".car")
            .unwrap_or(&file_name)
            .to_string(),
        version: None,
        file_name,
        artifacts: Vec::new(),
        error: Some(error.to_string()),
    }
}

fn faulty_application_of(capp: &ParsedCApp, error: &str) -> Application {
    Application {
        error: Some(error.to_string()),
        ..capp.application.clone()
    }
}

/// The names declared in a `config.properties` (`name:type` lines); a missing file declares none.
fn declared_config_names(path: &Path, failures: &mut Vec<String>) -> Vec<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => conflux_artifacts::inject::parse_properties(&path.display().to_string(), &text)
            .map(|props| props.into_iter().map(|(name, _kind)| name).collect())
            .unwrap_or_else(|e| {
                failures.push(e.to_string());
                Vec::new()
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            failures.push(format!("cannot read {}: {e}", path.display()));
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const NS: &str = r#"xmlns="http://ws.apache.org/ns/synapse""#;

    /// A `.car` holding Synapse artifacts `(name, type, xml)`.
    fn car(app: &str, artifacts: &[(&str, &str, String)]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        let deps: String = artifacts
            .iter()
            .map(|(name, _, _)| {
                format!(r#"<dependency artifact="{name}" version="1.0.0" include="true" serverRole="EnterpriseIntegrator"/>"#)
            })
            .collect();
        zip.start_file("artifacts.xml", options).unwrap();
        write!(zip, r#"<artifacts><artifact name="{app}" version="1.0.0" type="carbon/application">{deps}</artifact></artifacts>"#).unwrap();
        for (name, kind, xml) in artifacts {
            zip.start_file(format!("{name}_1.0.0/artifact.xml"), options)
                .unwrap();
            write!(zip, r#"<artifact name="{name}" version="1.0.0" type="{kind}" serverRole="EnterpriseIntegrator"><file>{name}-1.0.0.xml</file></artifact>"#).unwrap();
            zip.start_file(format!("{name}_1.0.0/{name}-1.0.0.xml"), options)
                .unwrap();
            zip.write_all(xml.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn api(name: &str, context: &str, inner: &str) -> String {
        format!(
            r#"<api {NS} name="{name}" context="{context}"><resource methods="GET"><inSequence>{inner}<respond/></inSequence></resource></api>"#
        )
    }

    fn endpoint(name: &str) -> String {
        format!(r#"<endpoint {NS} name="{name}"><address uri="http://localhost:9/x"/></endpoint>"#)
    }

    struct Home {
        dir: tempfile::TempDir,
    }

    impl Home {
        fn new() -> Home {
            let dir = tempfile::tempdir().unwrap();
            for d in ["synapse/api", "carbonapps", "registry/config"] {
                std::fs::create_dir_all(dir.path().join(d)).unwrap();
            }
            Home { dir }
        }
        fn path(&self, rel: &str) -> PathBuf {
            self.dir.path().join(rel)
        }
        fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
            std::fs::write(self.path(rel), bytes).unwrap();
        }
        fn deployer(&self) -> Deployer {
            let sources = Sources::home(
                self.dir.path(),
                &self.path("synapse"),
                &self.path("carbonapps"),
                &self.path("registry"),
            );
            Deployer::new(sources, HashMap::new(), None)
        }
    }

    fn api_names(s: &Snapshot) -> Vec<String> {
        let mut names: Vec<String> = s.artifacts.apis.iter().map(|a| a.name.clone()).collect();
        names.sort();
        names
    }

    #[test]
    fn a_capp_with_one_bad_artifact_deploys_nothing_and_the_rest_serves() {
        let home = Home::new();
        home.write("synapse/api/Loose.xml", api("Loose", "/loose", ""));
        home.write(
            "carbonapps/Bad_1.0.0.car",
            car(
                "Bad",
                &[
                    ("GoodApi", "synapse/api", api("GoodApi", "/good", "")),
                    ("BadApi", "synapse/api", api("BadApi", "/bad", "<xquery/>")),
                ],
            ),
        );
        let snapshot = home.deployer().assemble();
        assert_eq!(api_names(&snapshot), ["Loose"]);
        assert!(snapshot.applications.active.is_empty());
        let faulty = &snapshot.applications.faulty;
        assert_eq!(faulty.len(), 1, "{faulty:?}");
        assert_eq!(faulty[0].name, "Bad");
        let error = faulty[0].error.as_deref().unwrap();
        assert!(
            error.contains("carbonapps/Bad_1.0.0.car!/BadApi_1.0.0/BadApi-1.0.0.xml:1:"),
            "{error}"
        );
        assert!(error.contains("none of its artifacts deployed"), "{error}");
    }

    #[test]
    fn two_capps_defining_one_name_fail_the_later_naming_both() {
        let home = Home::new();
        home.write(
            "carbonapps/A.car",
            car("A", &[("Ep", "synapse/endpoint", endpoint("Ep"))]),
        );
        home.write(
            "carbonapps/B.car",
            car("B", &[("Ep", "synapse/endpoint", endpoint("Ep"))]),
        );
        let snapshot = home.deployer().assemble();
        assert_eq!(snapshot.applications.active.len(), 1);
        assert_eq!(snapshot.applications.active[0].name, "A");
        let failure = snapshot.failures.join("\n");
        assert!(failure.contains("duplicate endpoint 'Ep'"), "{failure}");
        assert!(failure.contains("carbonapps/A.car!/"), "{failure}");
        assert!(failure.contains("carbonapps/B.car!/"), "{failure}");
        let listed = snapshot.applications.faulty[0]
            .error
            .as_deref()
            .unwrap_or_default();
        assert!(
            listed.contains("duplicate endpoint 'Ep'") && listed.contains("carbonapps/A.car!/"),
            "{listed}"
        );
    }

    #[test]
    fn a_capp_added_later_cannot_take_a_name_from_one_that_serves() {
        let home = Home::new();
        home.write(
            "carbonapps/Load_1.0.0.car",
            car("Load", &[("Ep", "synapse/endpoint", endpoint("Ep"))]),
        );
        let mut deployer = home.deployer();
        assert_eq!(deployer.assemble().applications.active[0].name, "Load");
        // `Load3` sorts before `Load_` by file name; the running one still keeps `Ep`.
        home.write(
            "carbonapps/Load3_1.0.0.car",
            car("Load3", &[("Ep", "synapse/endpoint", endpoint("Ep"))]),
        );
        let snapshot = deployer.assemble();
        let active: Vec<&str> = snapshot
            .applications
            .active
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(active, ["Load"]);
        assert_eq!(snapshot.applications.faulty[0].name, "Load3");
    }

    #[test]
    fn capps_deploy_after_the_capps_they_refer_to() {
        let home = Home::new();
        // "A" sorts first but calls an endpoint that "Z" defines.
        home.write(
            "carbonapps/A.car",
            car(
                "A",
                &[(
                    "Calls",
                    "synapse/api",
                    api(
                        "Calls",
                        "/calls",
                        r#"<call><endpoint key="Backend"/></call>"#,
                    ),
                )],
            ),
        );
        home.write(
            "carbonapps/Z.car",
            car("Z", &[("Backend", "synapse/endpoint", endpoint("Backend"))]),
        );
        let snapshot = home.deployer().assemble();
        let order: Vec<&str> = snapshot
            .applications
            .active
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(order, ["Z", "A"]);
        assert!(snapshot.failures.is_empty(), "{:?}", snapshot.failures);
        assert!(snapshot.warnings.is_empty(), "{:?}", snapshot.warnings);
    }

    #[test]
    fn a_broken_change_keeps_the_previous_version_and_a_removal_undeploys() {
        let home = Home::new();
        home.write("synapse/api/A.xml", api("A", "/a", ""));
        home.write(
            "carbonapps/C.car",
            car("C", &[("CApi", "synapse/api", api("CApi", "/c", ""))]),
        );
        let mut deployer = home.deployer();
        assert_eq!(api_names(&deployer.assemble()), ["A", "CApi"]);

        home.write("synapse/api/A.xml", "<api broken");
        home.write("carbonapps/C.car", b"not a zip");
        let snapshot = deployer.assemble();
        assert_eq!(api_names(&snapshot), ["A", "CApi"], "both keep serving");
        assert_eq!(snapshot.failures.len(), 2, "{:?}", snapshot.failures);
        assert!(
            snapshot
                .failures
                .iter()
                .all(|f| f.contains("keeps serving"))
        );

        // A compile error (not a parse error) keeps the previous version too.
        home.write("synapse/api/A.xml", api("A", "/a", "<xquery/>"));
        let snapshot = deployer.assemble();
        assert_eq!(api_names(&snapshot), ["A", "CApi"]);
        assert!(
            snapshot.failures.iter().any(|f| f.contains("xquery")
                && f.contains("the previous version of api/A.xml keeps serving")),
            "{:?}",
            snapshot.failures
        );

        home.write("synapse/api/A.xml", api("A", "/a2", ""));
        std::fs::remove_file(home.path("carbonapps/C.car")).unwrap();
        let snapshot = deployer.assemble();
        assert_eq!(api_names(&snapshot), ["A"]);
        assert_eq!(snapshot.artifacts.api("A").unwrap().context, "/a2");
        assert!(snapshot.failures.is_empty(), "{:?}", snapshot.failures);
        assert!(snapshot.applications.active.is_empty());
    }

    #[test]
    fn capp_registry_resources_serve_conf_keys() {
        let home = Home::new();
        home.write("registry/config/ep.xml", endpoint("ignored-name"));
        home.write(
            "carbonapps/R.car",
            car(
                "R",
                &[(
                    "UsesReg",
                    "synapse/api",
                    api(
                        "UsesReg",
                        "/r",
                        r#"<call><endpoint key="conf:/ep.xml"/></call>"#,
                    ),
                )],
            ),
        );
        let snapshot = home.deployer().assemble();
        assert!(snapshot.failures.is_empty(), "{:?}", snapshot.failures);
        assert!(snapshot.artifacts.registry.get("conf:/ep.xml").is_some());
        assert_eq!(api_names(&snapshot), ["UsesReg"]);
    }

    #[test]
    fn a_vscode_project_deploys_with_its_registry_and_media_types() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write(
            "src/main/wso2mi/artifacts/apis/Orders.xml",
            &api(
                "Orders",
                "/orders",
                r#"<call><endpoint key="conf:/ep/orders.xml"/></call>"#,
            ),
        );
        write(
            "src/main/wso2mi/resources/registry/conf/ep/orders.xml",
            &endpoint("x"),
        );
        write(
            "src/main/wso2mi/resources/registry/gov/json/schema.json",
            "{}",
        );
        write(
            "src/main/wso2mi/resources/registry/artifact.xml",
            r#"<artifacts><artifact name="gov_json_schema_json" version="1.0.0" type="registry/resource" serverRole="EnterpriseIntegrator"><item><file>schema.json</file><path>/_system/governance/json</path><mediaType>application/json</mediaType><properties/></item></artifact></artifacts>"#,
        );
        let sources = Sources::project(root).unwrap();
        let snapshot = Deployer::new(sources, HashMap::new(), None).assemble();
        assert!(snapshot.failures.is_empty(), "{:?}", snapshot.failures);
        assert_eq!(api_names(&snapshot), ["Orders"]);
        let schema = snapshot
            .artifacts
            .registry
            .get("gov:/json/schema.json")
            .unwrap();
        assert_eq!(schema.media_type(), Some("application/json"));
    }

    #[test]
    fn an_integration_studio_registry_resources_project_feeds_the_registry() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write(
            "OrdersConfigs/src/main/synapse-config/api/Orders.xml",
            &api(
                "Orders",
                "/orders",
                r#"<call><endpoint key="conf:/ep/orders.xml"/></call>"#,
            ),
        );
        write("OrdersRegistryResources/orders.xml", &endpoint("x"));
        write(
            "OrdersRegistryResources/artifact.xml",
            r#"<artifacts><artifact name="orders" version="1.0.0" type="registry/resource" serverRole="EnterpriseServiceBus"><item><file>orders.xml</file><path>/_system/config/ep</path><mediaType>application/vnd.wso2.esb.endpoint</mediaType></item></artifact></artifacts>"#,
        );
        let sources = Sources::project(root).unwrap();
        let snapshot = Deployer::new(sources, HashMap::new(), None).assemble();
        assert!(snapshot.failures.is_empty(), "{:?}", snapshot.failures);
        assert_eq!(api_names(&snapshot), ["Orders"]);
        assert!(
            snapshot
                .artifacts
                .registry
                .get("conf:/ep/orders.xml")
                .is_some()
        );
    }

    #[test]
    fn declared_config_values_are_what_configs_expressions_read() {
        let home = Home::new();
        std::fs::create_dir_all(home.path("conf")).unwrap();
        home.write("conf/config.properties", "greeting:string\nunset:string\n");
        let sources = Sources::home(
            home.dir.path(),
            &home.path("synapse"),
            &home.path("carbonapps"),
            &home.path("registry"),
        );
        let properties = HashMap::from([("greeting".to_string(), "hello".to_string())]);
        let snapshot = Deployer::new(sources, properties, None).assemble();
        assert_eq!(
            snapshot.artifacts.configs,
            std::collections::BTreeMap::from([("greeting".to_string(), "hello".to_string())])
        );
        assert_eq!(
            snapshot
                .deployment
                .configs
                .get("greeting")
                .map(String::as_str),
            Some("hello")
        );
    }
}
