//! Message processors: `<messageProcessor name class messageStore targetEndpoint?>` with
//! `<parameter>`s, one per file under `message-processors/` (SYN:`config/xml/MessageProcessorFactory.java`).
//! The scheduled message forwarding processor's parameters are read into [`ForwardingSettings`]
//! with MI's defaults (SYN:`message/processor/impl/forwarder/ForwardingService.java`), the
//! sampling processor's into [`SamplingSettings`] (SYN:`sampler/SamplingService.java`); other
//! classes are refused with an error naming the artifact.

use crate::error::ArtifactError;
use crate::message_store::{StoreParameter, invalid_param};
use crate::preamble::{
    ArtifactDocument, RootNamespace, parse_parameters, required_trimmed, trimmed,
};
use crate::span::Span;

/// SYN:`MessageProcessorFactory.java` (the default class when `class` is absent).
pub const FORWARDING_PROCESSOR_CLASS: &str =
    "org.apache.synapse.message.processor.impl.forwarder.ScheduledMessageForwardingProcessor";
/// SYN:`message/processor/impl/sampler/SamplingProcessor.java`.
pub const SAMPLING_PROCESSOR_CLASS: &str =
    "org.apache.synapse.message.processor.impl.sampler.SamplingProcessor";

/// The forwarding processor's settings (SYN:`ForwardingService.java` field defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardingSettings {
    /// `interval`, ms between polls (MI default 1000).
    pub interval_ms: u64,
    /// `max.delivery.attempts` (MI default 4; a negative value means unlimited).
    pub max_delivery_attempts: Option<u32>,
    /// `max.delivery.drop` = `Enabled`: drop the message instead of deactivating.
    pub drop_after_max_attempts: bool,
    /// `client.retry.interval`, ms (MI default 1000).
    pub retry_interval_ms: u64,
    /// `non.retry.status.codes`, comma separated.
    pub non_retry_status_codes: Vec<u16>,
    /// `message.processor.reply.sequence`.
    pub reply_sequence: Option<String>,
    /// `message.processor.fault.sequence`.
    pub fault_sequence: Option<String>,
    /// `message.processor.deactivate.sequence`: run on the message when the processor
    /// deactivates itself.
    pub deactivate_sequence: Option<String>,
    /// `is.active` (default true).
    pub active: bool,
}

/// The sampling processor's settings (SYN:`sampler/SamplingService.java`, `SamplingProcessor.java`).
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingSettings {
    /// `sequence`: where each message is injected (required).
    pub sequence: String,
    /// `interval`, ms between rounds (MI default 1000).
    pub interval_ms: u64,
    /// `concurrency`: messages taken per round (MI default 1).
    pub concurrency: u32,
    /// `is.active` (default true).
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MessageProcessorKind {
    Forwarding(ForwardingSettings),
    Sampling(SamplingSettings),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessageProcessor {
    pub name: String,
    pub class: String,
    pub message_store: String,
    /// `targetEndpoint`, a named endpoint.
    pub target_endpoint: Option<String>,
    pub kind: MessageProcessorKind,
    pub parameters: Vec<StoreParameter>,
    pub span: Span,
    pub source: String,
}

impl MessageProcessor {
    /// What `conflux check` and the deployer warn about: a processor whose store, target
    /// endpoint or sequences are not deployed deploys in MI too, and then fails when it runs
    /// (ScheduledMessageProcessor: no consumer for a missing store, "Deactivating the message
    /// processor"; ForwardingService: "Endpoint does not exists. Deactivating the message
    /// processor"; a missing reply sequence deactivates it after the first delivery).
    pub fn deploy_warnings(
        &self,
        has_store: impl Fn(&str) -> bool,
        has_endpoint: impl Fn(&str) -> bool,
        has_sequence: impl Fn(&str) -> bool,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let (name, span) = (&self.name, &self.span);
        let store = &self.message_store;
        if !has_store(store) {
            out.push(format!(
                "message processor {name} reads message store {store}, which is not deployed (no message-stores/{store}.xml, or it failed): the processor does not run at {span}"
            ));
        }
        let mut sequences: Vec<(&str, &str)> = Vec::new();
        match &self.kind {
            MessageProcessorKind::Forwarding(f) => {
                if let Some(endpoint) = self.target_endpoint.as_deref().filter(|e| !has_endpoint(e))
                {
                    out.push(format!(
                        "message processor {name} forwards to endpoint {endpoint}, which is not deployed (no endpoints/{endpoint}.xml, or it failed): the processor deactivates at its first message at {span}"
                    ));
                }
                for (what, seq) in [
                    ("reply", &f.reply_sequence),
                    ("fault", &f.fault_sequence),
                    ("deactivate", &f.deactivate_sequence),
                ] {
                    if let Some(seq) = seq {
                        sequences.push((what, seq));
                    }
                }
            }
            MessageProcessorKind::Sampling(s) => sequences.push(("sampling", &s.sequence)),
        }
        for (what, seq) in sequences {
            if !has_sequence(seq) {
                out.push(format!(
                    "message processor {name} names {what} sequence {seq}, which is not deployed (no sequences/{seq}.xml, or it failed) at {span}"
                ));
            }
        }
        out
    }
}

/// Parses a `message-processors/*.xml` file.
pub fn parse_message_processor(
    file_label: &str,
    xml: &str,
) -> Result<MessageProcessor, ArtifactError> {
    let doc = ArtifactDocument::parse(file_label, xml)?;
    let (ctx, root) = doc.root("messageProcessor", RootNamespace::Synapse)?;
    let name = required_trimmed(&ctx, root, "name", "the message processor's name")?;
    let class =
        trimmed(&ctx, root, "class").unwrap_or_else(|| FORWARDING_PROCESSOR_CLASS.to_string());
    // MessageProcessorFactory: "Can't create a message processor with out a message Store".
    let message_store = required_trimmed(&ctx, root, "messageStore", "the message store it reads")?;
    let target_endpoint = trimmed(&ctx, root, "targetEndpoint");
    let parameters = parse_parameters(&ctx, root)?;
    let kind = match class.as_str() {
        FORWARDING_PROCESSOR_CLASS => {
            let settings = forwarding_settings(&parameters)?;
            if target_endpoint.is_none() {
                return Err(ctx.missing(
                    root,
                    "attribute 'targetEndpoint'",
                    "the named endpoint the forwarding processor sends to",
                ));
            }
            MessageProcessorKind::Forwarding(settings)
        }
        SAMPLING_PROCESSOR_CLASS => {
            let Some(sequence) = parameters.iter().rev().find(|p| p.name == "sequence") else {
                return Err(ctx.missing(
                    root,
                    "parameter 'sequence'",
                    "the sequence the sampling processor injects messages into",
                ));
            };
            let sequence = sequence.value.trim().to_string();
            let common = forwarding_settings(&parameters)?;
            let concurrency = match parameters.iter().rev().find(|p| p.name == "concurrency") {
                None => 1,
                Some(p) => match p.value.trim().parse::<u32>() {
                    Ok(n) if n >= 1 => n,
                    _ => return Err(invalid_param(p, "a positive number of messages")),
                },
            };
            MessageProcessorKind::Sampling(SamplingSettings {
                sequence,
                interval_ms: common.interval_ms,
                concurrency,
                active: common.active,
            })
        }
        other => {
            return Err(ctx.unsupported(
                root,
                format!("message processor '{name}' with class {other}"),
                "not supported: Conflux runs ScheduledMessageForwardingProcessor and SamplingProcessor",
            ));
        }
    };
    Ok(MessageProcessor {
        name,
        class,
        message_store,
        target_endpoint,
        kind,
        parameters,
        span: ctx.span(root),
        source: xml.to_string(),
    })
}

fn forwarding_settings(params: &[StoreParameter]) -> Result<ForwardingSettings, ArtifactError> {
    let get = |n: &str| params.iter().rev().find(|p| p.name == n);
    let millis = |n: &str, default: u64| match get(n) {
        None => Ok(default),
        Some(p) => p
            .value
            .parse::<u64>()
            .map_err(|_| invalid_param(p, "a number of milliseconds")),
    };
    let max_delivery_attempts = match get("max.delivery.attempts") {
        None => Some(4),
        Some(p) => match p.value.parse::<i64>() {
            Ok(n) if n < 0 => None,
            Ok(n) => Some(u32::try_from(n).map_err(|_| invalid_param(p, "an attempt count"))?),
            Err(_) => return Err(invalid_param(p, "an integer (negative: unlimited)")),
        },
    };
    let mut non_retry_status_codes = Vec::new();
    if let Some(p) = get("non.retry.status.codes") {
        for code in p.value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            match code.parse::<u16>() {
                Ok(c) if (100..=599).contains(&c) => non_retry_status_codes.push(c),
                _ => return Err(invalid_param(p, "comma separated HTTP status codes")),
            }
        }
    }
    let active = match get("is.active") {
        None => true,
        Some(p) => match p.value.as_str() {
            "true" => true,
            "false" => false,
            _ => return Err(invalid_param(p, "true or false")),
        },
    };
    Ok(ForwardingSettings {
        interval_ms: millis("interval", 1000)?,
        max_delivery_attempts,
        drop_after_max_attempts: get("max.delivery.drop").is_some_and(|p| p.value == "Enabled"),
        retry_interval_ms: millis("client.retry.interval", 1000)?,
        non_retry_status_codes,
        reply_sequence: get("message.processor.reply.sequence").map(|p| p.value.clone()),
        fault_sequence: get("message.processor.fault.sequence").map(|p| p.value.clone()),
        deactivate_sequence: get("message.processor.deactivate.sequence").map(|p| p.value.clone()),
        active,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "xmlns=\"http://ws.apache.org/ns/synapse\"";

    #[test]
    fn forwarding_processor_reads_parameters_with_mi_defaults() {
        let xml = format!(
            "<messageProcessor {NS} name=\"P\" class=\"{FORWARDING_PROCESSOR_CLASS}\" messageStore=\"S\" targetEndpoint=\"E\">
<parameter name=\"interval\">250</parameter>
<parameter name=\"non.retry.status.codes\">400, 404</parameter>
<parameter name=\"max.delivery.drop\">Enabled</parameter>
</messageProcessor>"
        );
        let p = parse_message_processor("message-processors/P.xml", &xml).unwrap();
        assert_eq!(p.message_store, "S");
        assert_eq!(p.target_endpoint.as_deref(), Some("E"));
        let MessageProcessorKind::Forwarding(s) = p.kind else {
            panic!("not a forwarding processor")
        };
        assert_eq!(s.interval_ms, 250);
        assert_eq!(s.max_delivery_attempts, Some(4));
        assert_eq!(s.retry_interval_ms, 1000);
        assert_eq!(s.non_retry_status_codes, vec![400, 404]);
        assert!(s.drop_after_max_attempts);
        assert!(s.active);
    }

    #[test]
    fn negative_max_attempts_is_unlimited() {
        let xml = format!(
            "<messageProcessor {NS} name=\"P\" messageStore=\"S\" targetEndpoint=\"E\"><parameter name=\"max.delivery.attempts\">-1</parameter></messageProcessor>"
        );
        let MessageProcessorKind::Forwarding(s) =
            parse_message_processor("p.xml", &xml).unwrap().kind
        else {
            panic!("not a forwarding processor")
        };
        assert_eq!(s.max_delivery_attempts, None);
    }

    #[test]
    fn bad_interval_names_the_parameter_and_position() {
        let xml = format!(
            "<messageProcessor {NS} name=\"P\" messageStore=\"S\" targetEndpoint=\"E\">\n<parameter name=\"interval\">soon</parameter></messageProcessor>"
        );
        let err = parse_message_processor("p.xml", &xml)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid value \"soon\" for parameter 'interval' of <parameter>: expected a number of milliseconds at p.xml:2:1"
        );
    }

    #[test]
    fn sampling_processor_reads_sequence_interval_and_concurrency() {
        let xml = format!(
            "<messageProcessor {NS} name=\"Sam\" class=\"{SAMPLING_PROCESSOR_CLASS}\" messageStore=\"S\"><parameter name=\"sequence\">Q</parameter><parameter name=\"interval\">50</parameter><parameter name=\"concurrency\">3</parameter></messageProcessor>"
        );
        let MessageProcessorKind::Sampling(s) =
            parse_message_processor("p.xml", &xml).unwrap().kind
        else {
            panic!("not a sampling processor")
        };
        assert_eq!(
            (s.sequence.as_str(), s.interval_ms, s.concurrency),
            ("Q", 50, 3)
        );
        assert!(s.active);
    }

    #[test]
    fn sampling_processor_without_sequence_is_refused() {
        let xml = format!(
            "<messageProcessor {NS} name=\"Sam\" class=\"{SAMPLING_PROCESSOR_CLASS}\" messageStore=\"S\"/>"
        );
        let err = parse_message_processor("p.xml", &xml)
            .unwrap_err()
            .to_string();
        assert!(err.contains("requires parameter 'sequence'"), "{err}");
    }

    #[test]
    fn processor_without_store_is_refused() {
        let err = parse_message_processor("p.xml", &format!("<messageProcessor {NS} name=\"P\"/>"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("requires attribute 'messageStore'"), "{err}");
    }
}
