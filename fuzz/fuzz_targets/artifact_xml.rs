//! The XML artifact loader: one Synapse artifact file (`parse_artifact`), then, when it parses,
//! its compilation into the runtime (`compile`), which parses every XPath, JSONPath and `${...}`
//! expression and endpoint the artifact holds. Errors are expected; panics and hangs are bugs.

#![no_main]

use conflux_artifacts::{Artifacts, parse_artifact};
use libfuzzer_sys::fuzz_target;

/// The folders of `synapse-configs/default/` an artifact file can come from.
const LABELS: [&str; 7] = [
    "api/Fuzz.xml",
    "proxy-services/Fuzz.xml",
    "endpoints/Fuzz.xml",
    "sequences/Fuzz.xml",
    "local-entries/Fuzz.xml",
    "templates/Fuzz.xml",
    "inbound-endpoints/Fuzz.xml",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(xml) = std::str::from_utf8(rest) else {
        return;
    };
    let label = LABELS[usize::from(selector) % LABELS.len()];
    let Ok(artifact) = parse_artifact(label, xml) else {
        return;
    };
    let mut artifacts = Artifacts::default();
    if artifacts.insert(artifact).is_ok() {
        let _ = conflux_mediation::runtime::compile::compile(&artifacts);
    }
});
