//! Message stores: `<messageStore name class>` with `<parameter>`s, one per file under
//! `message-stores/` (SYN:`config/xml/MessageStoreFactory.java`). Only Synapse's in-memory store
//! (SYN:`message/store/impl/memory/InMemoryStore.java`) is supported; the JMS, RabbitMQ, JDBC,
//! resequence and WSO2 MB store classes, and any custom class, are refused with an error naming the
//! artifact and saying the class is not supported yet.

use std::sync::Arc;

use roxmltree::Node;

use crate::error::ArtifactError;
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named, parse_document, text_of};
use crate::{MAX_ARTIFACT_BYTES, SYNAPSE_NS};

/// SYN:`message/store/impl/memory/InMemoryStore.java`.
pub const IN_MEMORY_STORE_CLASS: &str =
    "org.apache.synapse.message.store.impl.memory.InMemoryStore";

/// Store classes MI ships that Conflux knows by name but does not run yet.
const KNOWN_UNSUPPORTED_STORES: &[(&str, &str)] = &[
    ("org.apache.synapse.message.store.impl.jms.JmsStore", "JMS"),
    (
        "org.apache.synapse.message.store.impl.rabbitmq.RabbitMQStore",
        "RabbitMQ",
    ),
    (
        "org.apache.synapse.message.store.impl.jdbc.JDBCMessageStore",
        "JDBC",
    ),
    (
        "org.apache.synapse.message.store.impl.resequencer.ResequenceMessageStore",
        "resequence",
    ),
    (
        "org.wso2.carbon.message.store.persistence.jms.JMSMessageStore",
        "WSO2 MB (JMS)",
    ),
];

/// One `<parameter name>value</parameter>` of a store or processor, in document order.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreParameter {
    pub name: String,
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MessageStoreKind {
    /// Volatile, FIFO, lost on restart (as in MI).
    InMemory,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessageStore {
    pub name: String,
    pub kind: MessageStoreKind,
    pub class: String,
    pub parameters: Vec<StoreParameter>,
    pub span: Span,
    /// The file as written (the Management API's `configuration`).
    pub source: String,
}

/// Parses a `message-stores/*.xml` file.
pub fn parse_message_store(
    file_label: &str,
    xml: &str,
) -> std::result::Result<MessageStore, ArtifactError> {
    let file: Arc<str> = Arc::from(file_label);
    check_size(file_label, xml)?;
    let doc = parse_document(&file, xml)?;
    let ctx = Ctx {
        file,
        doc: &doc,
        values: None,
    };
    let root = doc.root_element();
    check_root(&ctx, root, "messageStore")?;
    // MessageStoreFactory: "Message Store name not specified".
    let name = ctx
        .required_attr(root, "name", "the message store's name")?
        .trim()
        .to_string();
    let class = ctx
        .attr(root, "class")
        .map(str::trim)
        .unwrap_or(IN_MEMORY_STORE_CLASS)
        .to_string();
    let kind = match class.as_str() {
        IN_MEMORY_STORE_CLASS => MessageStoreKind::InMemory,
        other => {
            let what = KNOWN_UNSUPPORTED_STORES
                .iter()
                .find(|(c, _)| *c == other)
                .map(|(_, label)| format!("{label} message store '{name}' (class {other})"))
                .unwrap_or_else(|| format!("message store '{name}' with class {other}"));
            return Err(ctx.unsupported(
                root,
                what,
                "not supported yet: only the in-memory store (class org.apache.synapse.message.store.impl.memory.InMemoryStore) is",
            ));
        }
    };
    let parameters = parse_parameters(&ctx, root)?;
    Ok(MessageStore {
        name,
        kind,
        class,
        parameters,
        span: ctx.span(root),
        source: xml.to_string(),
    })
}

pub(crate) fn check_size(file_label: &str, xml: &str) -> Result<()> {
    if xml.len() as u64 > MAX_ARTIFACT_BYTES {
        return Err(ArtifactError::TooLarge {
            size: xml.len() as u64,
            limit: MAX_ARTIFACT_BYTES,
            span: Span::whole_file(file_label),
        });
    }
    Ok(())
}

pub(crate) fn check_root(ctx: &Ctx, root: Node, local: &str) -> Result<()> {
    if root.tag_name().namespace() != Some(SYNAPSE_NS) || root.tag_name().name() != local {
        return Err(ctx.invalid(
            root,
            format!(
                "expected <{local} xmlns=\"{SYNAPSE_NS}\">, found <{}>",
                root.tag_name().name()
            ),
        ));
    }
    Ok(())
}

/// `<parameter name>` children (a `<description>` is skipped); a parameter taking its value from
/// the registry (`key`) is refused.
pub(crate) fn parse_parameters(ctx: &Ctx, root: Node) -> Result<Vec<StoreParameter>> {
    let mut out = Vec::new();
    for child in element_children(root) {
        if is_synapse_named(child, "description") {
            continue;
        }
        if !is_synapse_named(child, "parameter") {
            return Err(ctx.unknown(child, root, "<parameter> or <description>"));
        }
        let name = ctx
            .required_attr(child, "name", "the parameter's name")?
            .trim()
            .to_string();
        if ctx.attr(child, "key").is_some() {
            return Err(ctx.unsupported(
                child,
                format!("parameter '{name}' with a registry 'key'"),
                "not supported yet: write the value inline",
            ));
        }
        out.push(StoreParameter {
            name,
            value: text_of(child).trim().to_string(),
            span: ctx.span(child),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "xmlns=\"http://ws.apache.org/ns/synapse\"";

    #[test]
    fn in_memory_store_parses_with_parameters() {
        let xml = format!(
            "<messageStore {NS} name=\"S\" class=\"{IN_MEMORY_STORE_CLASS}\">\n<parameter name=\"a\">1</parameter></messageStore>"
        );
        let s = parse_message_store("message-stores/S.xml", &xml).unwrap();
        assert_eq!(s.name, "S");
        assert_eq!(s.kind, MessageStoreKind::InMemory);
        assert_eq!(s.parameters.len(), 1);
        assert_eq!(s.parameters[0].value, "1");
        assert_eq!(s.parameters[0].span.to_string(), "message-stores/S.xml:2:1");
    }

    #[test]
    fn rabbitmq_store_is_refused_naming_the_artifact() {
        let xml = format!(
            "<messageStore {NS} name=\"Q\" class=\"org.apache.synapse.message.store.impl.rabbitmq.RabbitMQStore\"/>"
        );
        let err = parse_message_store("message-stores/Q.xml", &xml)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("unsupported RabbitMQ message store 'Q'"),
            "{err}"
        );
        assert!(err.contains("not supported yet"), "{err}");
        assert!(err.ends_with("at message-stores/Q.xml:1:1"), "{err}");
    }

    #[test]
    fn nameless_store_is_refused() {
        let err = parse_message_store("m.xml", &format!("<messageStore {NS}/>")).unwrap_err();
        assert!(
            err.to_string().contains("requires attribute 'name'"),
            "{err}"
        );
    }

    #[test]
    fn registry_key_parameter_is_refused() {
        let xml = format!(
            "<messageStore {NS} name=\"S\"><parameter name=\"p\" key=\"conf:/x\"/></messageStore>"
        );
        let err = parse_message_store("m.xml", &xml).unwrap_err().to_string();
        assert!(err.contains("registry 'key'"), "{err}");
    }
}
