//! `Artifacts` (the deployed set, by kind, with lookup by name), `load_synapse_dir` (the
//! `synapse-configs/default/` folder layout, synapse-subset.md §5.1), duplicate checks
//! (SYN:`config/SynapseConfiguration.java` `addAPI`/`assertAlreadyExists`) and `check_references`.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::Path;

use crate::api::Api;
use crate::artifact::{Artifact, ArtifactKind, MAX_ARTIFACT_BYTES, parse_artifact};
use crate::endpoint::{Endpoint, EndpointRef};
use crate::error::ArtifactError;
use crate::expression::Value;
use crate::local_entry::LocalEntry;
use crate::mediators::{Mediator, SequenceTarget, walk_mediators};
use crate::proxy::ProxyService;
use crate::registry::Registry;
use crate::sequence::{Sequence, SequenceRef};
use crate::span::Span;
use crate::template::Template;

/// Sequences MI provides implicitly (and which may therefore be referenced without being deployed).
pub const IMPLICIT_SEQUENCES: [&str; 2] = ["main", "fault"];

/// Folders of artifact kinds Conflux does not deploy; their files are reported, not ignored.
pub const UNSUPPORTED_FOLDERS: &[(&str, &str)] = &[
    ("imports", "Tier 3: connector imports"),
    ("event-sources", "Tier 3: event sources"),
    ("priority-executors", "Tier 3: priority executors"),
];

/// Every deployed artifact, each kind in load order (files sorted by name).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Artifacts {
    pub apis: Vec<Api>,
    pub proxies: Vec<ProxyService>,
    pub endpoints: Vec<Endpoint>,
    pub sequences: Vec<Sequence>,
    pub local_entries: Vec<LocalEntry>,
    /// Sequence templates (`templates/`), run by `<call-template>`.
    pub templates: Vec<Template>,
    /// Scheduled tasks (`tasks/`).
    pub tasks: Vec<crate::task::Task>,
    pub message_stores: Vec<crate::message_store::MessageStore>,
    pub message_processors: Vec<crate::message_processor::MessageProcessor>,
    /// Inbound endpoints (`inbound-endpoints/`).
    pub inbound_endpoints: Vec<crate::inbound_endpoint::InboundEndpoint>,
    /// The file registry behind `conf:`/`gov:`/`local:` keys (`registry.rs`); not counted by
    /// `len()`, which counts artifacts.
    pub registry: Registry,
    /// Custom API definitions (swagger/OpenAPI text, JSON or YAML) by API name, from the
    /// `metadata/<api>_swagger_<v>/` entries of CApps (MI `CappDeployer.searchArtifacts` ->
    /// `SynapseConfiguration.addSwaggerDefinition`); served for `?swagger.json` when the API has
    /// no `publishSwagger` resource. Not counted by `len()`.
    pub swagger: BTreeMap<String, String>,
    /// Config property values (`conf/config.properties` and CApps' `config.properties` names, with
    /// their values from the environment, `-D` or `conf/file.properties`): what `${configs.NAME}`
    /// reads per message (MI `PropertyHolder`). Not counted by `len()`.
    pub configs: BTreeMap<String, String>,
}

/// Result of loading a folder: what deployed, and every problem found (nothing stops the load).
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub artifacts: Artifacts,
    pub errors: Vec<ArtifactError>,
}

impl Artifacts {
    pub fn api(&self, name: &str) -> Option<&Api> {
        self.apis.iter().find(|a| a.name == name)
    }
    pub fn proxy(&self, name: &str) -> Option<&ProxyService> {
        self.proxies.iter().find(|p| p.name == name)
    }
    pub fn endpoint(&self, name: &str) -> Option<&Endpoint> {
        self.endpoints
            .iter()
            .find(|e| e.name.as_deref() == Some(name))
    }
    pub fn sequence(&self, name: &str) -> Option<&Sequence> {
        self.sequences
            .iter()
            .find(|s| s.name.as_deref() == Some(name))
    }
    pub fn local_entry(&self, key: &str) -> Option<&LocalEntry> {
        self.local_entries.iter().find(|l| l.key == key)
    }
    pub fn template(&self, name: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.name == name)
    }

    pub fn len(&self) -> usize {
        self.apis.len()
            + self.proxies.len()
            + self.endpoints.len()
            + self.sequences.len()
            + self.local_entries.len()
            + self.templates.len()
            + self.tasks.len()
            + self.message_stores.len()
            + self.message_processors.len()
            + self.inbound_endpoints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds an artifact, refusing names already in use in its table, an API on a context+version
    /// already served, and a sequence/endpoint name equal to a local entry key (one key space).
    pub fn insert(&mut self, artifact: Artifact) -> Result<(), ArtifactError> {
        let duplicate =
            |kind: &str, name: &str, first: &Span, span: &Span| ArtifactError::Duplicate {
                kind: kind.to_string(),
                name: name.to_string(),
                first: first.clone(),
                span: span.clone(),
            };
        match artifact {
            Artifact::Api(api) => {
                if let Some(first) = self.api(&api.name) {
                    return Err(duplicate("api", &api.name, &first.span, &api.span));
                }
                if let Some(first) = self
                    .apis
                    .iter()
                    .find(|a| a.context == api.context && a.version == api.version)
                {
                    return Err(ArtifactError::Invalid {
                        message: format!(
                            "API '{}' uses context '{}'{} already used by API '{}' at {}",
                            api.name,
                            api.context,
                            api.version
                                .as_deref()
                                .map(|v| format!(" version '{v}'"))
                                .unwrap_or_default(),
                            first.name,
                            first.span
                        ),
                        span: api.span.clone(),
                    });
                }
                self.apis.push(api);
            }
            Artifact::ProxyService(proxy) => {
                if let Some(first) = self.proxy(&proxy.name) {
                    return Err(duplicate(
                        "proxy service",
                        &proxy.name,
                        &first.span,
                        &proxy.span,
                    ));
                }
                self.proxies.push(proxy);
            }
            Artifact::Endpoint(endpoint) => {
                let name = endpoint.name.clone().unwrap_or_default();
                if let Some(first) = self.endpoint(&name) {
                    return Err(duplicate("endpoint", &name, &first.span, &endpoint.span));
                }
                if let Some(first) = self.local_entry(&name) {
                    return Err(duplicate(
                        "local registry key",
                        &name,
                        &first.span,
                        &endpoint.span,
                    ));
                }
                self.endpoints.push(endpoint);
            }
            Artifact::Sequence(sequence) => {
                let name = sequence.name.clone().unwrap_or_default();
                if let Some(first) = self.sequence(&name) {
                    return Err(duplicate("sequence", &name, &first.span, &sequence.span));
                }
                if let Some(first) = self.local_entry(&name) {
                    return Err(duplicate(
                        "local registry key",
                        &name,
                        &first.span,
                        &sequence.span,
                    ));
                }
                self.sequences.push(sequence);
            }
            Artifact::LocalEntry(entry) => {
                if let Some(first) = self.local_entry(&entry.key) {
                    return Err(duplicate(
                        "local entry",
                        &entry.key,
                        &first.span,
                        &entry.span,
                    ));
                }
                let taken = self
                    .sequence(&entry.key)
                    .map(|s| &s.span)
                    .or(self.endpoint(&entry.key).map(|e| &e.span));
                if let Some(first) = taken {
                    return Err(duplicate(
                        "local registry key",
                        &entry.key,
                        first,
                        &entry.span,
                    ));
                }
                self.local_entries.push(entry);
            }
            Artifact::Template(template) => {
                if let Some(first) = self.template(&template.name) {
                    return Err(duplicate(
                        "template",
                        &template.name,
                        &first.span,
                        &template.span,
                    ));
                }
                self.templates.push(template);
            }
            Artifact::Task(task) => {
                if let Some(first) = self.tasks.iter().find(|t| t.name == task.name) {
                    return Err(duplicate("task", &task.name, &first.span, &task.span));
                }
                self.tasks.push(task);
            }
            Artifact::MessageStore(store) => {
                if let Some(first) = self.message_stores.iter().find(|s| s.name == store.name) {
                    return Err(duplicate(
                        "message store",
                        &store.name,
                        &first.span,
                        &store.span,
                    ));
                }
                self.message_stores.push(store);
            }
            Artifact::MessageProcessor(processor) => {
                if let Some(first) = self
                    .message_processors
                    .iter()
                    .find(|p| p.name == processor.name)
                {
                    return Err(duplicate(
                        "message processor",
                        &processor.name,
                        &first.span,
                        &processor.span,
                    ));
                }
                self.message_processors.push(processor);
            }
            Artifact::InboundEndpoint(inbound) => {
                if let Some(first) = self
                    .inbound_endpoints
                    .iter()
                    .find(|i| i.name == inbound.name)
                {
                    return Err(duplicate(
                        "inbound endpoint",
                        &inbound.name,
                        &first.span,
                        &inbound.span,
                    ));
                }
                self.inbound_endpoints.push(inbound);
            }
        }
        Ok(())
    }

    /// Named endpoint and sequence references that do not resolve, located at the reference.
    /// `main` and `fault` are implicit; dynamic (`{expr}`) keys are resolved per message.
    pub fn check_references(&self) -> Vec<ArtifactError> {
        let mut errors = Vec::new();
        let check_sequence = |name: &str, span: &Span, errors: &mut Vec<ArtifactError>| {
            if self.sequence(name).is_none() && !IMPLICIT_SEQUENCES.contains(&name) {
                errors.push(ArtifactError::UnresolvedReference {
                    kind: "sequence".into(),
                    name: name.to_string(),
                    span: span.clone(),
                });
            }
        };
        // Keys anywhere in the reference, also in the children of failover/load-balance groups.
        fn endpoint_keys<'e>(endpoint: &'e EndpointRef, out: &mut Vec<(&'e String, &'e Span)>) {
            match endpoint {
                EndpointRef::Key(name, span) => out.push((name, span)),
                EndpointRef::Expression(_) => {}
                EndpointRef::Inline(e) => {
                    for child in e.kind.children() {
                        endpoint_keys(child, out);
                    }
                }
            }
        }
        let check_endpoint = |endpoint: &EndpointRef, errors: &mut Vec<ArtifactError>| {
            let mut keys = Vec::new();
            endpoint_keys(endpoint, &mut keys);
            for (name, span) in keys {
                if self.endpoint(name).is_none() {
                    errors.push(ArtifactError::UnresolvedReference {
                        kind: "endpoint".into(),
                        name: name.clone(),
                        span: span.clone(),
                    });
                }
            }
        };
        let check_list = |list: &[Mediator], errors: &mut Vec<ArtifactError>| {
            walk_mediators(list, &mut |m| match m {
                Mediator::Send(send) => {
                    if let Some(ep) = &send.endpoint {
                        check_endpoint(ep, errors);
                    }
                    if let Some(Value::Literal(name, span)) = &send.receive {
                        check_sequence(name, span, errors);
                    }
                }
                Mediator::Call(call) => {
                    if let Some(ep) = &call.endpoint {
                        check_endpoint(ep, errors);
                    }
                }
                Mediator::Callout(callout) => {
                    if let crate::mediators::CalloutService::Endpoint(ep) = &callout.service {
                        check_endpoint(ep, errors);
                    }
                }
                Mediator::Sequence(seq) => {
                    if let SequenceTarget::Key(Value::Literal(name, span)) = &seq.target {
                        check_sequence(name, span, errors);
                    }
                }
                Mediator::Clone(clone) => {
                    for target in &clone.targets {
                        if let Some(crate::mediators::TargetSequence::Key(name, span)) =
                            &target.sequence
                        {
                            check_sequence(name, span, errors);
                        }
                        if let Some(ep) = &target.endpoint {
                            check_endpoint(ep, errors);
                        }
                    }
                }
                Mediator::Iterate(it) => {
                    if let Some(crate::mediators::EipSequence::Key(name, span)) =
                        &it.target.sequence
                    {
                        check_sequence(name, span, errors);
                    }
                    if let Some(ep) = &it.target.endpoint {
                        check_endpoint(ep, errors);
                    }
                }
                Mediator::Aggregate(agg) => {
                    if let crate::mediators::EipSequence::Key(name, span) = &agg.on_complete {
                        check_sequence(name, span, errors);
                    }
                }
                Mediator::CallTemplate(call) => {
                    if self.template(&call.target).is_none() {
                        errors.push(ArtifactError::UnresolvedReference {
                            kind: "template".into(),
                            name: call.target.clone(),
                            span: call.target_span.clone(),
                        });
                    }
                    if let Some((name, span)) = &call.on_error {
                        check_sequence(name, span, errors);
                    }
                }
                _ => {}
            });
        };
        let check_sequence_body = |seq: &Sequence, errors: &mut Vec<ArtifactError>| {
            if let Some((name, span)) = &seq.on_error {
                check_sequence(name, span, errors);
            }
            check_list(&seq.mediators, errors);
        };
        let check_slot = |slot: &SequenceRef, errors: &mut Vec<ArtifactError>| match slot {
            SequenceRef::None => {}
            SequenceRef::Inline(seq) => check_sequence_body(seq, errors),
            SequenceRef::Named(name, span) => check_sequence(name, span, errors),
        };
        for endpoint in &self.endpoints {
            for child in endpoint.kind.children() {
                check_endpoint(child, &mut errors);
            }
        }
        for sequence in &self.sequences {
            check_sequence_body(sequence, &mut errors);
        }
        for template in &self.templates {
            if let Some((name, span)) = &template.on_error {
                check_sequence(name, span, &mut errors);
            }
            check_list(&template.mediators, &mut errors);
        }
        for api in &self.apis {
            for resource in &api.resources {
                check_slot(&resource.in_sequence, &mut errors);
                check_slot(&resource.out_sequence, &mut errors);
                check_slot(&resource.fault_sequence, &mut errors);
            }
        }
        for proxy in &self.proxies {
            check_slot(&proxy.target.in_sequence, &mut errors);
            check_slot(&proxy.target.out_sequence, &mut errors);
            check_slot(&proxy.target.fault_sequence, &mut errors);
            if let Some(ep) = &proxy.target.endpoint {
                check_endpoint(ep, &mut errors);
            }
        }
        errors
    }
}

/// Loads `dir` (a `synapse-configs/default/` folder): the five supported kind folders in MI's load
/// order, `*.xml` sorted by file name; files in other known folders are reported as unsupported.
/// Missing folders are fine; a broken file never stops the others.
pub fn load_synapse_dir(dir: &Path) -> LoadReport {
    let mut report = LoadReport::default();
    for kind in ArtifactKind::ALL {
        for (label, path) in xml_files(dir, kind.folder(), &mut report.errors) {
            match read_artifact_file(&label, &path).and_then(|text| parse_artifact(&label, &text)) {
                Ok(artifact) if artifact.kind() != kind => {
                    report.errors.push(ArtifactError::WrongRoot {
                        found: artifact.kind().root_element().to_string(),
                        expected: kind.root_element().to_string(),
                        span: artifact.span().clone(),
                    })
                }
                Ok(artifact) => {
                    if let Err(err) = report.artifacts.insert(artifact) {
                        report.errors.push(err);
                    }
                }
                Err(err) => report.errors.push(err),
            }
        }
    }
    for (folder, why) in UNSUPPORTED_FOLDERS {
        for (label, _) in xml_files(dir, folder, &mut report.errors) {
            report.errors.push(ArtifactError::Unsupported {
                what: format!("artifact kind {folder}/"),
                why: why.to_string(),
                span: Span::whole_file(&label),
            });
        }
    }
    report
}

/// Reads one file, refusing files over `MAX_ARTIFACT_BYTES` and text that is not UTF-8.
pub fn read_artifact_file(label: &str, path: &Path) -> Result<String, ArtifactError> {
    let io = |e: std::io::Error| ArtifactError::Io {
        message: e.to_string(),
        span: Span::whole_file(label),
    };
    let size = fs::metadata(path).map_err(io)?.len();
    if size > MAX_ARTIFACT_BYTES {
        return Err(ArtifactError::TooLarge {
            size,
            limit: MAX_ARTIFACT_BYTES,
            span: Span::whole_file(label),
        });
    }
    // Read at most one byte past the limit: a file that grew since the check, or a device,
    // is refused instead of read whole.
    let mut bytes = Vec::with_capacity(size as usize);
    fs::File::open(path)
        .and_then(|f| f.take(MAX_ARTIFACT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(io)?;
    if bytes.len() as u64 > MAX_ARTIFACT_BYTES {
        return Err(ArtifactError::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_ARTIFACT_BYTES,
            span: Span::whole_file(label),
        });
    }
    String::from_utf8(bytes).map_err(|e| ArtifactError::Io {
        message: format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
        span: Span::whole_file(label),
    })
}

/// `(label, path)` of every `*.xml` file in `dir/folder`, sorted by file name.
fn xml_files(
    dir: &Path,
    folder: &str,
    errors: &mut Vec<ArtifactError>,
) -> Vec<(String, std::path::PathBuf)> {
    let path = dir.join(folder);
    let entries = match fs::read_dir(&path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            errors.push(ArtifactError::Io {
                message: e.to_string(),
                span: Span::whole_file(&format!("{folder}/")),
            });
            return Vec::new();
        }
    };
    let mut files: Vec<(String, std::path::PathBuf)> = entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().map(|t| t.is_file()).unwrap_or(false))
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.ends_with(".xml")
                .then(|| (format!("{folder}/{name}"), entry.path()))
        })
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = r#"xmlns="http://ws.apache.org/ns/synapse""#;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn loads_reports_and_checks_references() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(
            d,
            "api/A.xml",
            &format!(
                r#"<api {NS} name="A" context="/a"><resource inSequence="Missing"><outSequence><send><endpoint key="Ep"/></send></outSequence></resource></api>"#
            ),
        );
        write(
            d,
            "api/B.xml",
            &format!(r#"<api {NS} name="B" context="/a/"><resource/></api>"#),
        );
        write(d, "api/C.xml", "<api>broken");
        write(d, "api/notes.txt", "ignored");
        write(
            d,
            "proxy-services/P.xml",
            &format!(
                r#"<proxy {NS} name="P"><target endpoint="Nope" faultSequence="fault"/></proxy>"#
            ),
        );
        write(
            d,
            "endpoints/Ep.xml",
            &format!(r#"<endpoint {NS} name="Ep"><address uri="http://b"/></endpoint>"#),
        );
        write(
            d,
            "sequences/S.xml",
            &format!(
                "<sequence {NS} name=\"S\" onError=\"Err\">\n<sequence key=\"main\"/><sequence key=\"Gone\"/></sequence>"
            ),
        );
        write(
            d,
            "sequences/T.xml",
            &format!(r#"<proxy {NS} name="X"><target/></proxy>"#),
        );
        write(
            d,
            "local-entries/L.xml",
            &format!(r#"<localEntry {NS} key="S">x</localEntry>"#),
        );
        write(d, "imports/In.xml", "<import/>");
        write(
            d,
            "templates/Tm.xml",
            &format!(
                r#"<template {NS} name="Tm"><sequence><call-template target="Nowhere"/></sequence></template>"#
            ),
        );
        let report = load_synapse_dir(d);
        let errors: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(report.artifacts.apis.len(), 1, "{errors:#?}");
        assert_eq!(report.artifacts.proxies.len(), 1);
        assert!(report.artifacts.endpoint("Ep").is_some());
        assert!(report.artifacts.local_entry("S").is_some());
        assert!(report.artifacts.template("Tm").is_some());
        assert!(
            report.artifacts.sequence("S").is_none(),
            "clashes with the local entry key"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("context '/a' already used by API 'A'")
                    && e.ends_with("api/B.xml:1:1")),
            "{errors:#?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("XML syntax error") && e.contains("api/C.xml:"))
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("duplicate local registry key 'S'")
                    && e.ends_with("sequences/S.xml:1:1"))
        );
        assert!(errors.iter().any(|e| e == "root element <proxy> does not belong in this folder (expected <sequence>) at sequences/T.xml:1:1"));
        assert!(errors.iter().any(|e| e
            == "unsupported artifact kind imports/ (Tier 3: connector imports) at imports/In.xml"));
        assert_eq!(report.errors.len(), 5, "{errors:#?}");
        let unresolved: Vec<String> = report
            .artifacts
            .check_references()
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            unresolved,
            [
                "unresolved template reference 'Nowhere' at templates/Tm.xml:1:86",
                "unresolved sequence reference 'Missing' at api/A.xml:1:78",
                "unresolved endpoint reference 'Nope' at proxy-services/P.xml:1:65",
            ]
        );
    }

    #[test]
    fn sequence_references_are_checked() {
        let mut artifacts = Artifacts::default();
        let seq = parse_artifact("sequences/S.xml", &format!("<sequence {NS} name=\"S\" onError=\"Err\">\n<sequence key=\"main\"/><filter xpath=\"a\"><sequence key=\"Gone\"/></filter><send receive=\"R\"/></sequence>")).unwrap();
        artifacts.insert(seq.clone()).unwrap();
        let errors: Vec<String> = artifacts
            .check_references()
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            errors,
            [
                "unresolved sequence reference 'Err' at sequences/S.xml:1:60",
                "unresolved sequence reference 'Gone' at sequences/S.xml:2:51",
                "unresolved sequence reference 'R' at sequences/S.xml:2:78",
            ]
        );
        let err = artifacts.insert(seq).unwrap_err();
        assert_eq!(
            err.to_string(),
            "duplicate sequence 'S' (first defined at sequences/S.xml:1:1) at sequences/S.xml:1:1"
        );
    }

    #[test]
    fn missing_dir_is_empty() {
        let report = load_synapse_dir(Path::new("/nonexistent/conflux/synapse"));
        assert!(report.artifacts.is_empty() && report.errors.is_empty());
    }
}
