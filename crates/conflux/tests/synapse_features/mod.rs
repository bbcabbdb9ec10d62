//! Feature classifier for one Synapse artifact file, after synapse-subset.md §1.1: the artifact
//! kind, every mediator in a mediator position, endpoint kinds (nested ones too), proxy
//! transports, WS-* options, property scopes, registry keys, non-HTTP address schemes, templates,
//! inbound endpoints and expression forms; plus the names the file references (sequences,
//! templates, endpoints, local entries) so a test can deploy it together with what it needs. It
//! reads the XML with roxmltree on its own, independent of the parser under test, and decides
//! Tier-1 against constants that mirror the text of synapse-subset.md §2.1, and Tier 2 against
//! the list of issue 14.

#![allow(dead_code)]

use std::collections::BTreeSet;

use roxmltree::{Document, Node, ParsingOptions};

pub const SYNAPSE_NS: &str = "http://ws.apache.org/ns/synapse";

// --- Tier 1 as synapse-subset.md §2.1 defines it --------------------------------------------
// "Artifacts `api`, `proxy` (HTTP/HTTPS only; `publishWSDL` accepted ...), `endpoint`,
// `sequence`, `localEntry`."
pub const TIER1_ARTIFACTS: &[&str] = &["api", "proxy", "endpoint", "sequence", "localEntry"];
// "Mediators `log`, `property`, `propertyGroup`, `respond`, `send`, `call` (non-blocking),
// `payloadFactory` (...), `header`, `filter`, `switch`, `drop`, `loopback`, `sequence` (inline and
// `key=` reference), `in`, `out`, `makefault` (...), `enrich`."
pub const TIER1_MEDIATORS: &[&str] = &[
    "log",
    "property",
    "propertyGroup",
    "respond",
    "send",
    "call",
    "payloadFactory",
    "header",
    "filter",
    "switch",
    "drop",
    "loopback",
    "sequence",
    "sequence(ref)",
    "in",
    "out",
    "makefault",
    "enrich",
];
// "Endpoints `address`, `http` (URI template + method), `default`, `<endpoint key>` references;
// timeout/suspend/retry options on them."
pub const TIER1_ENDPOINTS: &[&str] = &["address", "http", "default", "(ref key)"];
// "`proxy` (HTTP/HTTPS only ...)": the transports a Tier-1 proxy or address URI may use.
pub const TIER1_TRANSPORTS: &[&str] = &["http", "https"];
// `publishWSDL` ("accepted and served as a static document"), payloadFactory
// `template-type="default"`, and the property scopes §3.9 lists before "plus Tier-2 `operation`,
// `axis2-client`, `registry`".
pub const TIER1_OPTIONS: &[&str] = &[
    "proxy.publishWSDL",
    "payloadFactory.template-type=default",
    "property.scope=default",
    "property.scope=axis2",
    "property.scope=transport",
];
// "All expression forms in §3.10 except `${...}`": every other `expr:` feature is neutral, as in
// §2.2 ("every non-`expr` feature it has belongs to the tier").
pub const NON_TIER1_EXPRESSIONS: &[&str] = &["${...}"];

// --- Tier 2 as issue 14 scopes it ----------------------------------------------------------
// "sequence templates with `call-template`; endpoint templates; `iterate`, `aggregate`, `clone`
// and the classic `foreach`; load-balance and failover endpoints [with session affinity];
// `recipientlist`; `wsdl` endpoints; `default` endpoints [Tier 1 already]; `validate`, `cache`
// and `throttle`" (`$func:` is an expression form, neutral as every `expr:`). The other Tier-2
// items of synapse-subset.md §2.1 (xslt, script, store, registry keys, scopes...) stay outside.
pub const TIER2_ARTIFACTS: &[&str] = &["template"];
pub const TIER2_MEDIATORS: &[&str] = &[
    "call-template",
    "iterate",
    "aggregate",
    "clone",
    "foreach",
    "validate",
    "cache",
    "throttle",
];
pub const TIER2_ENDPOINTS: &[&str] = &[
    "loadbalance",
    "failover",
    "recipientlist",
    "wsdl",
    "template",
];
pub const TIER2_OPTIONS: &[&str] = &["template.sequence", "template.endpoint", "endpoint.session"];

/// Where a file's reference by name points (sequences, endpoints and local entries share one key
/// space in Synapse, synapse-subset.md §5.3; the kind is the preferred table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefKind {
    Sequence,
    Endpoint,
    LocalEntry,
    /// `call-template target` and `<endpoint template>`: only a `<template>` satisfies it.
    Template,
}

/// What one file has and needs.
#[derive(Debug, Clone, Default)]
pub struct FileFeatures {
    /// `class:name`, e.g. `mediator:log`, `endpoint:address`, `transport:jms`, `expr:$ctx:`.
    pub features: BTreeSet<String>,
    /// Static references by name (dynamic `{...}` keys and registry `gov:`/`conf:` keys excluded).
    pub references: BTreeSet<(RefKind, String)>,
    /// The name this file defines in the local key space (sequence/endpoint `name`, entry `key`).
    pub defines: Option<(RefKind, String)>,
}

impl FileFeatures {
    /// Features outside Tier 1 (empty for a Tier-1-only file).
    pub fn non_tier1(&self) -> Vec<&str> {
        self.features
            .iter()
            .map(String::as_str)
            .filter(|f| !is_tier1(f))
            .collect()
    }

    pub fn is_tier1_only(&self) -> bool {
        self.non_tier1().is_empty()
    }

    /// Features of issue 14's Tier 2 (empty for a Tier-1-only file).
    pub fn tier2(&self) -> Vec<&str> {
        self.features
            .iter()
            .map(String::as_str)
            .filter(|f| is_tier2(f))
            .collect()
    }

    /// Features outside Tier 1 and issue 14's Tier 2.
    pub fn beyond_tier2(&self) -> Vec<&str> {
        self.features
            .iter()
            .map(String::as_str)
            .filter(|f| !is_tier1(f) && !is_tier2(f))
            .collect()
    }

    /// Uses at least one Tier-2 feature and nothing beyond Tier 1 + Tier 2.
    pub fn is_tier2(&self) -> bool {
        !self.tier2().is_empty() && self.beyond_tier2().is_empty()
    }

    fn add(&mut self, class: &str, name: &str) {
        self.features.insert(format!("{class}:{name}"));
    }
}

/// Whether one `class:name` feature belongs to Tier 1 (§2.1).
pub fn is_tier1(feature: &str) -> bool {
    let Some((class, name)) = feature.split_once(':') else {
        return false;
    };
    match class {
        "artifact" => TIER1_ARTIFACTS.contains(&name),
        "mediator" => TIER1_MEDIATORS.contains(&name),
        "endpoint" => TIER1_ENDPOINTS.contains(&name),
        "transport" => TIER1_TRANSPORTS.contains(&name),
        "option" => TIER1_OPTIONS.contains(&name),
        "expr" => !NON_TIER1_EXPRESSIONS.contains(&name),
        // inbound:*, plugin:* and anything unforeseen are outside Tier 1.
        _ => false,
    }
}

/// Whether one `class:name` feature belongs to issue 14's Tier 2 (and not to Tier 1).
pub fn is_tier2(feature: &str) -> bool {
    let Some((class, name)) = feature.split_once(':') else {
        return false;
    };
    match class {
        "artifact" => TIER2_ARTIFACTS.contains(&name),
        "mediator" => TIER2_MEDIATORS.contains(&name),
        "endpoint" => TIER2_ENDPOINTS.contains(&name),
        "option" => TIER2_OPTIONS.contains(&name),
        _ => false,
    }
}

/// Why a file is not classified at all (the inventory skips such files too, §1.1).
#[derive(Debug, Clone, PartialEq)]
pub enum NotSynapse {
    /// Not well-formed XML.
    Unparsable(String),
    /// The root element is outside the Synapse namespace.
    ForeignRoot(String),
}

/// Classifies one file's text.
pub fn classify(xml: &str) -> Result<FileFeatures, NotSynapse> {
    let options = ParsingOptions {
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(xml, options)
        .map_err(|e| NotSynapse::Unparsable(e.to_string()))?;
    let root = doc.root_element();
    // MI deploys a `<localEntry>` in no namespace too: SYN `config/xml/EntryFactory.java` reads
    // its `key`/`src` attributes and content without checking the element's name
    // (`MultiXMLConfigurationBuilder.createLocalEntries` and `LocalEntryDeployer` call it as is).
    let bare_local_entry =
        root.tag_name().namespace().is_none() && root.tag_name().name() == "localEntry";
    if !is_synapse(root) && !bare_local_entry {
        return Err(NotSynapse::ForeignRoot(root.tag_name().name().to_string()));
    }
    let mut out = FileFeatures::default();
    walk_artifact(root, &mut out);
    scan_attributes(root, &mut out);
    Ok(out)
}

fn is_synapse(node: Node) -> bool {
    node.is_element() && node.tag_name().namespace() == Some(SYNAPSE_NS)
}

fn synapse_children<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(|c| is_synapse(*c))
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    synapse_children(node).find(|c| c.tag_name().name() == name)
}

/// `gov:`/`conf:` (§1.5 `registry-key`) and `local:` (the micro-registry's `/_system/local`,
/// §5.2) keys resolve against the registry, a Tier-2 feature, not against the local key space.
fn is_registry_key(value: &str) -> bool {
    ["gov:", "conf:", "local:/"]
        .iter()
        .any(|prefix| value.starts_with(prefix))
}

/// A key that names something in the local key space (not dynamic, not a registry path).
fn static_key(value: &str) -> Option<&str> {
    let value = value.trim();
    let dynamic = value.starts_with('{') && value.ends_with('}');
    let registry = is_registry_key(value);
    (!value.is_empty() && !dynamic && !registry).then_some(value)
}

fn reference(out: &mut FileFeatures, kind: RefKind, value: Option<&str>) {
    if let Some(name) = value.and_then(static_key) {
        out.references.insert((kind, name.to_string()));
    }
}

fn walk_artifact(root: Node, out: &mut FileFeatures) {
    let kind = root.tag_name().name();
    out.add("artifact", kind);
    match kind {
        "api" => {
            for resource in synapse_children(root).filter(|c| c.tag_name().name() == "resource") {
                walk_sequence_slots(resource, out);
            }
            if child(root, "handlers").is_some() {
                out.add("plugin", "api.handlers");
            }
        }
        "proxy" => walk_proxy(root, out),
        "endpoint" => {
            if let Some(name) = root.attribute("name") {
                out.defines = Some((RefKind::Endpoint, name.to_string()));
            }
            walk_endpoint(root, out);
        }
        "sequence" => {
            if let Some(name) = root.attribute("name") {
                out.defines = Some((RefKind::Sequence, name.to_string()));
            }
            reference(out, RefKind::Sequence, root.attribute("onError"));
            walk_list(root, out);
        }
        // Inline content (XML, text, a URL) is data, not configuration to walk: §2.3 counts all
        // 73 stand-alone local entries as Tier 1.
        "localEntry" => {
            if let Some(key) = root.attribute("key") {
                out.defines = Some((RefKind::LocalEntry, key.to_string()));
            }
        }
        "template" => {
            if let Some(name) = root.attribute("name") {
                out.defines = Some((RefKind::Template, name.to_string()));
            }
            if let Some(body) = child(root, "sequence") {
                out.add("option", "template.sequence");
                walk_list(body, out);
            }
            if let Some(endpoint) = child(root, "endpoint") {
                out.add("option", "template.endpoint");
                walk_endpoint(endpoint, out);
            }
        }
        "inboundEndpoint" => {
            let protocol = root
                .attribute("protocol")
                .map(str::to_string)
                .unwrap_or_else(|| "class".to_string());
            out.add("inbound", &protocol);
            reference(out, RefKind::Sequence, root.attribute("sequence"));
            reference(out, RefKind::Sequence, root.attribute("onError"));
        }
        _ => {}
    }
}

/// `inSequence`/`outSequence`/`faultSequence` as attributes (references) or children (inline).
fn walk_sequence_slots(node: Node, out: &mut FileFeatures) {
    for slot in ["inSequence", "outSequence", "faultSequence"] {
        reference(out, RefKind::Sequence, node.attribute(slot));
        if let Some(list) = child(node, slot) {
            reference(out, RefKind::Sequence, list.attribute("onError"));
            walk_list(list, out);
        }
    }
}

fn walk_proxy(root: Node, out: &mut FileFeatures) {
    let transports = root.attribute("transports").unwrap_or("http https");
    for transport in transports
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
    {
        // "all" is Synapse's spelling for "every enabled transport", HTTP(S) included.
        if transport != "all" {
            out.add("transport", transport);
        }
    }
    if let Some(target) = child(root, "target") {
        walk_sequence_slots(target, out);
        reference(out, RefKind::Endpoint, target.attribute("endpoint"));
        if let Some(endpoint) = child(target, "endpoint") {
            walk_endpoint(endpoint, out);
        }
    }
    for element in synapse_children(root) {
        match element.tag_name().name() {
            "publishWSDL" => {
                out.add("option", "proxy.publishWSDL");
                reference(out, RefKind::LocalEntry, element.attribute("key"));
                for resource in
                    synapse_children(element).filter(|c| c.tag_name().name() == "resource")
                {
                    reference(out, RefKind::LocalEntry, resource.attribute("key"));
                }
            }
            "policy" => out.add("option", "proxy.policy"),
            "enableSec" => out.add("option", "proxy.enableSec"),
            "enableRM" => out.add("option", "proxy.enableRM"),
            "enableAddressing" => out.add("option", "proxy.enableAddressing"),
            "parameter" => {
                // `transport.jms.Destination`, `transport.vfs.FileURI`, `transport.mail.Address`...
                let name = element.attribute("name").unwrap_or("");
                if let Some(rest) = name.strip_prefix("transport.")
                    && let Some((scheme, _)) = rest.split_once('.')
                {
                    out.add(
                        "transport",
                        if scheme == "mail" { "mailto" } else { scheme },
                    );
                }
            }
            _ => {}
        }
    }
}

/// An `<endpoint>` element: a key reference, a template, or one kind child (groups recurse).
fn walk_endpoint(endpoint: Node, out: &mut FileFeatures) {
    if let Some(key) = endpoint.attribute("key") {
        out.add("endpoint", "(ref key)");
        reference(out, RefKind::Endpoint, Some(key));
        return;
    }
    if endpoint.attribute("key-expression").is_some() {
        out.add("endpoint", "(key-expression)");
        return;
    }
    if let Some(template) = endpoint.attribute("template") {
        out.add("endpoint", "template");
        reference(out, RefKind::Template, Some(template));
        return;
    }
    let mut kinds = 0;
    for kind in synapse_children(endpoint) {
        let name = kind.tag_name().name();
        match name {
            "address" | "http" | "default" | "wsdl" => {
                kinds += 1;
                out.add("endpoint", name);
                if let Some(uri) = kind.attribute("uri").or(kind.attribute("uri-template")) {
                    address_scheme(uri, out);
                }
                for option in synapse_children(kind) {
                    match option.tag_name().name() {
                        "enableAddressing" => out.add("option", "endpoint.enableAddressing"),
                        "enableSec" => out.add("option", "endpoint.enableSec"),
                        "enableRM" => out.add("option", "endpoint.enableRM"),
                        "authentication" => out.add("option", "endpoint.authentication"),
                        _ => {}
                    }
                }
            }
            "loadbalance" | "failover" | "recipientlist" => {
                kinds += 1;
                out.add("endpoint", name);
                for member in synapse_children(kind).filter(|c| c.tag_name().name() == "endpoint") {
                    walk_endpoint(member, out);
                }
            }
            "session" => out.add("option", "endpoint.session"),
            _ => {}
        }
    }
    if kinds == 0 {
        out.add("endpoint", "(empty)");
    }
}

/// Non-HTTP address schemes (`jms:`, `vfs:`, `mailto:`, `local:`...) need other transports.
fn address_scheme(uri: &str, out: &mut FileFeatures) {
    let uri = uri.trim();
    if uri.starts_with('{') || uri.starts_with('$') {
        return;
    }
    if let Some((scheme, _)) = uri.split_once(':') {
        let scheme = scheme.to_ascii_lowercase();
        let plain = !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.');
        if plain {
            // `vfs:file://...` and `vfs:sftp://...` are both the VFS transport.
            out.add("transport", &scheme);
        }
    }
}

/// Mediators that hold mediator lists in named children (beyond Tier 1): walked so that every
/// mediator of the file is counted, as the inventory's walker does.
const NESTED_LISTS: &[&str] = &[
    "target",
    "onComplete",
    "onCacheHit",
    "onAccept",
    "onReject",
    "on-fail",
    "sequence",
    "then",
    "else",
    "case",
    "default",
];

/// Every element child of `parent` in a mediator position.
fn walk_list(parent: Node, out: &mut FileFeatures) {
    for mediator in synapse_children(parent) {
        walk_mediator(mediator, out);
    }
}

fn walk_mediator(node: Node, out: &mut FileFeatures) {
    let name = node.tag_name().name();
    match name {
        "description" => {}
        "sequence" => {
            if let Some(key) = node.attribute("key") {
                out.add("mediator", "sequence(ref)");
                reference(out, RefKind::Sequence, Some(key));
            } else {
                out.add("mediator", "sequence");
                walk_list(node, out);
            }
        }
        "send" | "call" => {
            out.add("mediator", name);
            reference(out, RefKind::Sequence, node.attribute("receive"));
            if name == "call" && node.attribute("blocking").map(str::trim) == Some("true") {
                out.add("option", "call.blocking");
            }
            if let Some(endpoint) = child(node, "endpoint") {
                walk_endpoint(endpoint, out);
            }
        }
        "filter" => {
            out.add("mediator", name);
            match (child(node, "then"), child(node, "else")) {
                (None, None) => walk_list(node, out),
                (then, otherwise) => {
                    for branch in [then, otherwise].into_iter().flatten() {
                        walk_list(branch, out);
                    }
                }
            }
        }
        "switch" => {
            out.add("mediator", name);
            for case in
                synapse_children(node).filter(|c| matches!(c.tag_name().name(), "case" | "default"))
            {
                walk_list(case, out);
            }
        }
        "in" | "out" => {
            out.add("mediator", name);
            walk_list(node, out);
        }
        "property" => {
            out.add("mediator", name);
            let scope = node.attribute("scope").unwrap_or("default");
            out.add("option", &format!("property.scope={scope}"));
        }
        "payloadFactory" => {
            out.add("mediator", name);
            if let Some(kind) = node.attribute("template-type") {
                out.add(
                    "option",
                    &format!("payloadFactory.template-type={}", kind.to_ascii_lowercase()),
                );
            }
            if let Some(format) = child(node, "format") {
                reference(out, RefKind::LocalEntry, format.attribute("key"));
            }
        }
        "enrich" => {
            out.add("mediator", name);
            if let Some(source) = child(node, "source") {
                reference(out, RefKind::LocalEntry, source.attribute("key"));
            }
        }
        other if other.contains('.') => out.add("mediator", "(connector op)"),
        other => {
            out.add("mediator", other);
            tier2_references(node, out);
            // Beyond Tier 1 the file is out anyway; still count what nests inside.
            for nested in synapse_children(node) {
                let nested_name = nested.tag_name().name();
                if nested_name == "sequence" && nested.attribute("key").is_some() {
                    walk_mediator(nested, out);
                } else if nested_name == "endpoint" {
                    walk_endpoint(nested, out);
                } else if NESTED_LISTS.contains(&nested_name) {
                    // An EIP `<target>` holds a `<sequence>` and/or an `<endpoint>`, not a
                    // mediator list: its endpoint is an endpoint (SYN `TargetFactory`).
                    for item in synapse_children(nested) {
                        if nested_name == "target" && item.tag_name().name() == "endpoint" {
                            walk_endpoint(item, out);
                        } else {
                            walk_mediator(item, out);
                        }
                    }
                }
            }
        }
    }
}

/// What the Tier-2 mediators name: `call-template target`, classic `foreach sequence`, throttle
/// `onAccept`/`onReject` and policy `key`, validate schema/resource keys, and `sequence`/`endpoint`
/// attributes of iterate/clone targets, aggregate `onComplete` and cache `onCacheHit`. The MI 4.4
/// `foreach collection=...` is the 4.4 language's mediator, not the classic one.
fn tier2_references(node: Node, out: &mut FileFeatures) {
    match node.tag_name().name() {
        "call-template" => reference(out, RefKind::Template, node.attribute("target")),
        "foreach" => {
            reference(out, RefKind::Sequence, node.attribute("sequence"));
            if node.attribute("collection").is_some() {
                out.add("option", "foreach.collection");
            }
        }
        "throttle" => {
            reference(out, RefKind::Sequence, node.attribute("onAccept"));
            reference(out, RefKind::Sequence, node.attribute("onReject"));
        }
        _ => {}
    }
    for nested in synapse_children(node) {
        match nested.tag_name().name() {
            "target" | "onComplete" | "onCacheHit" => {
                reference(out, RefKind::Sequence, nested.attribute("sequence"));
                reference(out, RefKind::Endpoint, nested.attribute("endpoint"));
            }
            "schema" | "resource" | "policy" => {
                reference(out, RefKind::LocalEntry, nested.attribute("key"));
            }
            _ => {}
        }
    }
}

/// Expression forms and registry keys, from every attribute in the file (§1.5, §1.6 count
/// "files whose attributes use them").
fn scan_attributes(root: Node, out: &mut FileFeatures) {
    const FORMS: &[(&str, &str)] = &[
        ("get-property(", "get-property()"),
        ("$ctx:", "$ctx:"),
        ("json-eval(", "json-eval()"),
        ("$axis2:", "$axis2:"),
        ("$trp:", "$trp:"),
        ("$body", "$body"),
        ("$func:", "$func:"),
        ("$url:", "$url:"),
        ("$header", "$header"),
        ("$env", "$env"),
        ("url-encode(", "url-encode()"),
        ("${", "${...}"),
    ];
    for node in root.descendants().filter(|n| is_synapse(*n)) {
        for attribute in node.attributes() {
            let value = attribute.value().trim();
            if is_registry_key(value) {
                out.add("option", "registry-key");
            }
            for (needle, form) in FORMS {
                if value.contains(needle) {
                    out.add("expr", form);
                }
            }
            if attribute.name() == "evaluator" {
                out.add("expr", &format!("evaluator={value}"));
            }
        }
    }
}
