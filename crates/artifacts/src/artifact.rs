//! `Artifact`, `parse_artifact` and `parse_artifact_with`: one Synapse XML file (one artifact) to
//! its typed model, dispatched on the root element.

use std::sync::Arc;

use crate::api::{Api, parse_api};
use crate::endpoint::{Endpoint, parse_endpoint};
use crate::error::ArtifactError;
use crate::inbound_endpoint::{InboundEndpoint, parse_inbound_endpoint};
use crate::inject::InjectedValues;
use crate::local_entry::{LocalEntry, parse_local_entry};
use crate::message_processor::{MessageProcessor, parse_message_processor};
use crate::message_store::{MessageStore, parse_message_store};
use crate::proxy::{ProxyService, parse_proxy};
use crate::sequence::{Sequence, parse_sequence};
use crate::span::Span;
use crate::task::{Task, parse_task};
use crate::template::{Template, parse_template};
use crate::xml::{Ctx, SYNAPSE_NS, element_name, parse_document};

/// Largest artifact file accepted (MI's own artifacts are a few KiB; inline WSDLs reach ~100 KiB).
pub const MAX_ARTIFACT_BYTES: u64 = 16 * 1024 * 1024;

// Artifacts are parsed once and moved into `Artifacts`; boxing the larger variants buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Artifact {
    Api(Api),
    ProxyService(ProxyService),
    /// A named endpoint.
    Endpoint(Endpoint),
    /// A named sequence.
    Sequence(Sequence),
    LocalEntry(LocalEntry),
    /// A sequence template.
    Template(Template),
    /// A scheduled task (`tasks/`).
    Task(Task),
    MessageStore(MessageStore),
    MessageProcessor(MessageProcessor),
    /// An inbound endpoint (`inbound-endpoints/`).
    InboundEndpoint(InboundEndpoint),
}

/// The artifact kinds Conflux deploys, with their folder and root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArtifactKind {
    Api,
    ProxyService,
    Endpoint,
    Sequence,
    LocalEntry,
    Template,
    Task,
    MessageStore,
    MessageProcessor,
    InboundEndpoint,
}

impl ArtifactKind {
    /// In deployment order (MI's `SynapseImportDeployer`/CApp order: what others refer to first).
    pub const ALL: [ArtifactKind; 10] = [
        ArtifactKind::LocalEntry,
        ArtifactKind::Endpoint,
        ArtifactKind::Template,
        ArtifactKind::Sequence,
        ArtifactKind::MessageStore,
        ArtifactKind::MessageProcessor,
        ArtifactKind::ProxyService,
        ArtifactKind::Api,
        ArtifactKind::Task,
        ArtifactKind::InboundEndpoint,
    ];

    /// Folder under `synapse-configs/default/`.
    pub fn folder(self) -> &'static str {
        match self {
            ArtifactKind::Api => "api",
            ArtifactKind::ProxyService => "proxy-services",
            ArtifactKind::Endpoint => "endpoints",
            ArtifactKind::Sequence => "sequences",
            ArtifactKind::LocalEntry => "local-entries",
            ArtifactKind::Template => "templates",
            ArtifactKind::Task => "tasks",
            ArtifactKind::MessageStore => "message-stores",
            ArtifactKind::MessageProcessor => "message-processors",
            ArtifactKind::InboundEndpoint => "inbound-endpoints",
        }
    }

    pub fn root_element(self) -> &'static str {
        match self {
            ArtifactKind::Api => "api",
            ArtifactKind::ProxyService => "proxy",
            ArtifactKind::Endpoint => "endpoint",
            ArtifactKind::Sequence => "sequence",
            ArtifactKind::LocalEntry => "localEntry",
            ArtifactKind::Template => "template",
            ArtifactKind::Task => "task",
            ArtifactKind::MessageStore => "messageStore",
            ArtifactKind::MessageProcessor => "messageProcessor",
            ArtifactKind::InboundEndpoint => "inboundEndpoint",
        }
    }
}

impl Artifact {
    pub fn kind(&self) -> ArtifactKind {
        match self {
            Artifact::Api(_) => ArtifactKind::Api,
            Artifact::ProxyService(_) => ArtifactKind::ProxyService,
            Artifact::Endpoint(_) => ArtifactKind::Endpoint,
            Artifact::Sequence(_) => ArtifactKind::Sequence,
            Artifact::LocalEntry(_) => ArtifactKind::LocalEntry,
            Artifact::Template(_) => ArtifactKind::Template,
            Artifact::Task(_) => ArtifactKind::Task,
            Artifact::MessageStore(_) => ArtifactKind::MessageStore,
            Artifact::MessageProcessor(_) => ArtifactKind::MessageProcessor,
            Artifact::InboundEndpoint(_) => ArtifactKind::InboundEndpoint,
        }
    }

    /// The name (key for local entries).
    pub fn name(&self) -> &str {
        match self {
            Artifact::Api(a) => &a.name,
            Artifact::ProxyService(p) => &p.name,
            Artifact::Endpoint(e) => e.name.as_deref().unwrap_or_default(),
            Artifact::Sequence(s) => s.name.as_deref().unwrap_or_default(),
            Artifact::LocalEntry(l) => &l.key,
            Artifact::Template(t) => &t.name,
            Artifact::Task(t) => &t.name,
            Artifact::MessageStore(s) => &s.name,
            Artifact::MessageProcessor(p) => &p.name,
            Artifact::InboundEndpoint(i) => &i.name,
        }
    }

    pub fn span(&self) -> &Span {
        match self {
            Artifact::Api(a) => &a.span,
            Artifact::ProxyService(p) => &p.span,
            Artifact::Endpoint(e) => &e.span,
            Artifact::Sequence(s) => &s.span,
            Artifact::LocalEntry(l) => &l.span,
            Artifact::Template(t) => &t.span,
            Artifact::Task(t) => &t.span,
            Artifact::MessageStore(s) => &s.span,
            Artifact::MessageProcessor(p) => &p.span,
            Artifact::InboundEndpoint(i) => &i.span,
        }
    }
}

/// Root elements of artifact kinds Synapse knows but Conflux does not deploy (synapse-subset §1.2).
const UNSUPPORTED_ROOTS: &[(&str, &str)] = &[
    (
        "definitions",
        "legacy <definitions> bundle; use one artifact per file",
    ),
    ("import", "Tier 3: connector imports"),
    ("eventSource", "Tier 3"),
    ("priorityExecutor", "Tier 3"),
    ("registry", "registry configuration"),
];

/// Parses one artifact file. `file_label` names it in every span (e.g. `api/Foo.xml`); the raw
/// `xml` is kept in the artifact as its `source`. Injected values (`$SYSTEM:NAME`...) are kept
/// as written; [`parse_artifact_with`] resolves them.
pub fn parse_artifact(file_label: &str, xml: &str) -> Result<Artifact, ArtifactError> {
    parse(file_label, xml, None)
}

/// [`parse_artifact`], resolving injected values (`$SYSTEM:`, `$FILE:`, `$config:`/`$configs:`,
/// `${configs.}`) from `values` where MI resolves them (see [`crate::inject`]): a value that
/// cannot be resolved fails the artifact, located at its attribute.
pub fn parse_artifact_with(
    file_label: &str,
    xml: &str,
    values: &dyn InjectedValues,
) -> Result<Artifact, ArtifactError> {
    parse(file_label, xml, Some(values))
}

fn parse(
    file_label: &str,
    xml: &str,
    values: Option<&dyn InjectedValues>,
) -> Result<Artifact, ArtifactError> {
    crate::preamble::check_size(file_label, xml)?;
    let file: Arc<str> = Arc::from(file_label);
    let doc = parse_document(&file, xml)?;
    let ctx = Ctx {
        file,
        doc: &doc,
        values,
    };
    let root = doc.root_element();
    let local = root.tag_name().name();
    // MI's local-entry deployer builds the entry without checking the element's namespace
    // (SYN:`config/xml/EntryFactory.java`), so a bare `<localEntry>` deploys; other roots are
    // looked up by qualified name and must be in the Synapse namespace.
    let bare_local_entry = local == "localEntry" && root.tag_name().namespace().is_none();
    // MI's inbound endpoint deployer does not check the root's namespace either
    // (SYN:`config/xml/inbound/InboundEndpointFactory.java`; MI's test artifact HttpListenerEP.xml
    // has a bare root with `p:parameters` in the Synapse namespace).
    let bare_inbound = local == "inboundEndpoint" && root.tag_name().namespace().is_none();
    if root.tag_name().namespace() != Some(SYNAPSE_NS) && !bare_local_entry && !bare_inbound {
        return Err(ctx.invalid(
            root,
            format!(
                "root element <{}> is not in the Synapse namespace (xmlns=\"{SYNAPSE_NS}\")",
                element_name(root)
            ),
        ));
    }
    match local {
        "api" => Ok(Artifact::Api(parse_api(&ctx, root, xml)?)),
        "proxy" => Ok(Artifact::ProxyService(parse_proxy(&ctx, root, xml)?)),
        "endpoint" => Ok(Artifact::Endpoint(parse_endpoint(&ctx, root, true)?)),
        "sequence" => Ok(Artifact::Sequence(parse_sequence(&ctx, root, true)?)),
        "localEntry" => Ok(Artifact::LocalEntry(parse_local_entry(&ctx, root, xml)?)),
        "template" => Ok(Artifact::Template(parse_template(&ctx, root, xml)?)),
        "task" => Ok(Artifact::Task(parse_task(file_label, xml)?)),
        "messageStore" => Ok(Artifact::MessageStore(parse_message_store(
            file_label, xml,
        )?)),
        "messageProcessor" => Ok(Artifact::MessageProcessor(parse_message_processor(
            file_label, xml,
        )?)),
        "inboundEndpoint" => Ok(Artifact::InboundEndpoint(parse_inbound_endpoint(
            file_label, xml,
        )?)),
        other => match UNSUPPORTED_ROOTS.iter().find(|(name, _)| *name == other) {
            Some((_, why)) => Err(ctx.unsupported(root, format!("artifact kind <{other}>"), why)),
            None => Err(ctx.invalid(
                root,
                format!("<{other}> is not a Synapse artifact root element"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_are_located() {
        let err = parse_artifact("api/Bad.xml", "<api>\n  <resource>\n</api>").unwrap_err();
        assert_eq!(err.kind(), "xml-syntax");
        assert!(err.to_string().ends_with("at api/Bad.xml:3:1"), "{err}");
    }

    #[test]
    fn foreign_and_unsupported_roots() {
        let err = parse_artifact("api/A.xml", "<api name=\"a\" context=\"/a\"/>").unwrap_err();
        assert!(
            err.to_string().contains("not in the Synapse namespace"),
            "{err}"
        );
        assert!(
            parse_artifact(
                "local-entries/L.xml",
                "<localEntry key=\"k\"><x/></localEntry>"
            )
            .is_ok()
        );
        let err = parse_artifact(
            "imports/I.xml",
            "<import xmlns=\"http://ws.apache.org/ns/synapse\" name=\"I\"/>",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported artifact kind <import> (Tier 3: connector imports) at imports/I.xml:1:1"
        );
    }

    #[test]
    fn size_limit_plus_one_is_rejected() {
        let body = "x".repeat(
            MAX_ARTIFACT_BYTES as usize + 1
                - "<localEntry xmlns=\"http://ws.apache.org/ns/synapse\" key=\"k\"></localEntry>"
                    .len(),
        );
        let xml = format!(
            "<localEntry xmlns=\"http://ws.apache.org/ns/synapse\" key=\"k\">{body}</localEntry>"
        );
        assert_eq!(xml.len() as u64, MAX_ARTIFACT_BYTES + 1);
        assert_eq!(
            parse_artifact("local-entries/L.xml", &xml)
                .unwrap_err()
                .kind(),
            "too-large"
        );
        assert!(parse_artifact("local-entries/L.xml", "").is_err());
        let at_limit = format!(
            "<localEntry xmlns=\"http://ws.apache.org/ns/synapse\" key=\"k\">{}</localEntry>",
            &body[1..]
        );
        assert!(parse_artifact("local-entries/L.xml", &at_limit).is_ok());
    }
}
