//! Deployment as the binary does it: which sources a configuration (or a `--project` folder)
//! means, the deployer that assembles them, and what is applied to every snapshot (the message
//! size limit, the process-wide JSON settings). A broken artifact never stops the others.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use conflux_config::Config;
use conflux_deployer::{Deployer, NotAProject, Snapshot, Sources};

/// MI's `-Dproperties.file.path` (where `$FILE:` values come from); `default` means
/// `conf/file.properties` (MI `FilePropertyLoader`, `bin/micro-integrator.sh`).
pub const PROPERTIES_FILE_PROPERTY: &str = "properties.file.path";

/// What artifacts come from: the home's folders, a project folder (`--project`), or one CApp
/// (`conflux check FILE.car`).
#[derive(Debug, Clone, Default)]
pub enum Origin {
    #[default]
    Home,
    Project(PathBuf),
    CApp(PathBuf),
}

/// The sources `origin` means for this configuration.
pub fn sources(config: &Config, origin: &Origin) -> Result<Sources, NotAProject> {
    match origin {
        Origin::Home => Ok(Sources::home(
            &config.home,
            &config.synapse_config_dir,
            &config.carbonapps_dir,
            &config.registry_dir,
        )),
        Origin::Project(dir) => Sources::project(dir),
        Origin::CApp(file) => Ok(Sources::capp_file(file)),
    }
}

/// The deployer of `sources`, with the command line's `-D` properties and `conf/file.properties`
/// for injected values.
pub fn deployer(config: &Config, sources: Sources) -> Deployer {
    let system_properties: HashMap<String, String> = config
        .properties
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let file_properties = match config.properties.value(PROPERTIES_FILE_PROPERTY) {
        Some(path) if path != "default" => PathBuf::from(path),
        _ => config.home.join("conf/file.properties"),
    };
    Deployer::new(sources, system_properties, Some(file_properties))
        .with_home(config.home.clone())
        .with_capp_check(crate::data_services::capp_check(config))
}

// The configuration's default for `[mediation] max_inflight_branches` is mediation's limit.
const _: () = assert!(
    conflux_config::settings::DEFAULT_MAX_INFLIGHT_BRANCHES as usize
        == conflux_mediation::runtime::limits::DEFAULT_MAX_INFLIGHT_BRANCHES
);

/// Assembles the next snapshot, applies the configuration's run-time settings to it, and
/// deploys the data sources and data services (their failures join the snapshot's), keeping the
/// pools of those unchanged since `previous` (needs the Tokio runtime).
pub fn snapshot(
    deployer: &mut Deployer,
    config: &Config,
    previous: Option<&conflux_mediation::runtime::deployment::Attached>,
) -> Snapshot {
    let mut snapshot = synapse_snapshot(deployer, config);
    let plan = crate::data_services::plan(config, deployer.sources(), &mut snapshot);
    crate::data_services::attach(plan, previous, &config.home, &mut snapshot);
    snapshot
}

/// What `conflux check` reports: the snapshot, its data services and data sources checked but no
/// pool opened; with how many data services would deploy.
pub fn check_snapshot(deployer: &mut Deployer, config: &Config) -> (Snapshot, usize) {
    let mut snapshot = synapse_snapshot(deployer, config);
    let plan = crate::data_services::plan(config, deployer.sources(), &mut snapshot);
    (snapshot, plan.services.len())
}

/// Assembles the next snapshot and applies the configuration's run-time settings to it.
fn synapse_snapshot(deployer: &mut Deployer, config: &Config) -> Snapshot {
    let mut snapshot = deployer.assemble();
    snapshot.deployment.max_message_bytes =
        usize::try_from(config.transport.max_message_bytes).unwrap_or(usize::MAX);
    snapshot.deployment.max_inflight_branches =
        usize::try_from(config.transport.max_inflight_branches).unwrap_or(usize::MAX);
    // Generated API definitions (`?swagger.json`) name this server's pass-through ports.
    let port = |role| config.ports.get(role).map(|e| e.port);
    if let (Some(http), Some(https)) = (
        port(conflux_config::Role::Http),
        port(conflux_config::Role::Https),
    ) {
        snapshot.deployment.api_definitions.server =
            conflux_mediation::dispatch::swagger::ServerAddress::new(&config.hostname, http, https);
    }
    conflux_mediation::json::configure(json_settings(&config.json));
    snapshot
}

/// Where a snapshot came from, for `conflux check` output.
pub fn describe(origin: &Origin, config: &Config) -> String {
    match origin {
        Origin::Home => config.synapse_config_dir.display().to_string(),
        Origin::Project(dir) | Origin::CApp(dir) => dir.display().to_string(),
    }
}

/// Whether `path` is a `.car` file (`conflux check FILE.car`).
pub fn is_capp(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "car")
}

/// `[mediation]`'s JSON settings for the XML <-> JSON conversions, which are process-wide as MI's
/// `JsonUtil` factories are. The configuration has checked the regular expressions already.
fn json_settings(
    json: &conflux_config::settings::JsonConfig,
) -> conflux_mediation::json::JsonSettings {
    use conflux_mediation::json::JsonSettings;
    JsonSettings {
        preserve_namespaces: json.preserve_namespace,
        namespace_declarations: json.namespace_declarations,
        namespace_separator: json.namespace_separator,
        auto_primitive: json.auto_primitive,
        auto_array: json.json_out_auto_array,
        multiple_pi: json.json_out_multiple_pi,
        disable_auto_primitive: json
            .disable_auto_primitive_regex
            .as_deref()
            .and_then(|p| JsonSettings::disable_auto_primitive_regex(p).ok()),
        custom_replace: json
            .custom_replace_regex
            .as_deref()
            .and_then(|p| JsonSettings::custom_replace_regex(p).ok())
            .map(|regex| (regex, json.custom_replace_sequence.clone())),
        xml_nil: json.xml_nil,
        null_for_empty_element: json.null_for_empty_element,
        xml_out_multiple_pi: json.xml_out_multiple_pi,
    }
}

/// The injected values the deployer uses for artifacts: the environment, the `-D` properties and
/// `conf/file.properties` (an unreadable file is reported and left out).
pub(crate) fn injected_values(
    config: &Config,
    errors: &mut Vec<String>,
) -> conflux_artifacts::ProcessValues {
    use conflux_artifacts::ProcessValues;
    let system_properties: HashMap<String, String> = config
        .properties
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let file_properties = match config.properties.value(PROPERTIES_FILE_PROPERTY) {
        Some(path) if path != "default" => PathBuf::from(path),
        _ => config.home.join("conf/file.properties"),
    };
    match ProcessValues::new(
        system_properties.clone(),
        Some(&file_properties),
        Default::default(),
    ) {
        Ok(values) => values,
        Err(e) => {
            errors.push(e.to_string());
            ProcessValues::with_file_properties(
                system_properties,
                HashMap::new(),
                Default::default(),
            )
        }
    }
}
