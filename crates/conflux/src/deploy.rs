//! Start-up deployment: reads the Synapse artifacts of the home, compiles them, and reports every
//! artifact that failed with its location. A broken artifact never stops the others.

use conflux_artifacts::{Artifacts, load_synapse_dir};
use conflux_config::Config;
use conflux_mediation::runtime::compile::compile;
use conflux_mediation::runtime::deployment::Deployment;

/// What was deployed and what failed (`reason at file:line:column`).
pub struct Deployed {
    pub deployment: Deployment,
    /// The parsed artifacts (the Management API shows their configuration).
    pub artifacts: Artifacts,
    pub failures: Vec<String>,
    /// Deployed artifacts with something to say (a reference to an endpoint or sequence that is
    /// not deployed, which faults per message as in MI).
    pub warnings: Vec<String>,
}

/// Loads and compiles the artifacts under the configuration's synapse-configs directory.
pub fn deploy(config: &Config) -> Deployed {
    let report = load_synapse_dir(&config.synapse_config_dir);
    let mut failures: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
    let (mut deployment, errors) = compile(&report.artifacts);
    deployment.max_message_bytes =
        usize::try_from(config.transport.max_message_bytes).unwrap_or(usize::MAX);
    conflux_mediation::json::configure(json_settings(&config.json));
    failures.extend(errors.iter().map(|e| e.to_string()));
    let warnings = deployment.warnings.clone();
    Deployed {
        deployment,
        artifacts: report.artifacts,
        failures,
        warnings,
    }
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

impl Deployed {
    /// `APIs: 2, proxy services: 1, ...` for the start-up log.
    pub fn summary(&self) -> String {
        let d = &self.deployment;
        format!(
            "{} APIs, {} proxy services, {} sequences, {} endpoints deployed; {} artifacts failed",
            d.apis.len(),
            d.proxies.len(),
            d.sequences.len(),
            d.named_endpoints.len(),
            self.failures.len()
        )
    }
}
