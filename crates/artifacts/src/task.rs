//! Scheduled tasks: `<task name class group>` with one `<trigger interval count | cron | once>`
//! and `<property name value|inline XML>`s, one per file under `tasks/` (SYN:
//! `config/xml/StartupFinder.java`, `startup/quartz/SimpleQuartzFactory.java`,
//! `task/TaskDescriptionFactory.java`). Only `org.apache.synapse.startup.tasks.MessageInjector` is
//! accepted (SYN:`startup/tasks/MessageInjector.java`); its properties are read into
//! [`MessageInjectorSettings`]. Any other class is a custom Java task and is refused naming the
//! artifact. [`Trigger::fire_offsets`] is the trigger's schedule with time passed in, so it is
//! tested without a clock.

use std::sync::Arc;

use roxmltree::Node;

use crate::error::ArtifactError;
use crate::message_store::{check_root, check_size};
use crate::span::Span;
use crate::xml::{Ctx, element_children, is_synapse_named, parse_document, text_of};

/// SYN:`startup/tasks/MessageInjector.java`.
pub const MESSAGE_INJECTOR_CLASS: &str = "org.apache.synapse.startup.tasks.MessageInjector";
/// The task namespace MI's tooling writes on `<property>` (SYN:`TaskDescriptionFactory.java`
/// accepts properties in it as well as in the Synapse namespace).
pub const TASK_NS: &str = "http://www.wso2.org/products/wso2commons/tasks";
/// Shortest interval accepted, in ms: a smaller one would make the scheduler spin.
pub const MIN_INTERVAL_MS: u64 = 1;
/// Largest `count` accepted: a task firing more often than this is written as `count="-1"`.
pub const MAX_TRIGGER_COUNT: u64 = 1_000_000_000;

/// When a task fires (SYN:`SimpleQuartzFactory.java`: `interval` is in seconds and is stored in
/// ms; `count` absent or `-1` repeats forever; `once="true"` fires a single time).
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// Fires at start, then every `interval_ms`, `count` times (`None`: forever).
    Simple {
        interval_ms: u64,
        count: Option<u64>,
    },
    /// A Quartz cron expression (seconds field first, `?` allowed), kept as written.
    Cron(String),
}

impl Trigger {
    /// The offsets from the schedule's start, in ms, of the firings due in `[from_ms, to_ms)`,
    /// for a simple trigger; a cron trigger has no fixed offsets and yields none.
    pub fn fire_offsets(&self, from_ms: u64, to_ms: u64) -> Vec<u64> {
        let Trigger::Simple { interval_ms, count } = self else {
            return Vec::new();
        };
        let interval = (*interval_ms).max(MIN_INTERVAL_MS);
        let first = from_ms.div_ceil(interval);
        let mut out = Vec::new();
        let mut n = first;
        while let Some(at) = n.checked_mul(interval) {
            if at >= to_ms || count.is_some_and(|c| n >= c) {
                break;
            }
            out.push(at);
            n += 1;
        }
        out
    }

    /// The MI Management API's `triggerType` (MI `TaskResource`: "simple" or "cron").
    pub fn kind(&self) -> &'static str {
        match self {
            Trigger::Simple { .. } => "simple",
            Trigger::Cron(_) => "cron",
        }
    }
}

/// The message format the injected message is built in (SYN:`MessageInjector.java` `format`,
/// compared ignoring case; MI has no JSON format: `message` is XML).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectFormat {
    Soap11,
    Soap12,
    Pox,
    Get,
}

/// Where the message goes (SYN:`MessageInjector.java` `injectTo`: `sequence`, `proxy`, or the
/// main sequence when absent).
#[derive(Debug, Clone, PartialEq)]
pub enum InjectTarget {
    Main,
    Sequence(String),
    Proxy(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessageInjectorSettings {
    /// The message, as written: inline XML (MI's `message` is an OMElement).
    pub message: Option<String>,
    /// `registryKey`: the message is read from the registry instead.
    pub registry_key: Option<String>,
    /// `None`: MI's default, SOAP 1.2 for a proxy and the message context's envelope (SOAP 1.1)
    /// for a sequence (SYN:`MessageInjector.java` execute).
    pub format: Option<InjectFormat>,
    pub to: Option<String>,
    pub soap_action: Option<String>,
    pub target: InjectTarget,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskProperty {
    pub name: String,
    /// `value="..."`, or the inline element's XML.
    pub value: String,
    pub inline_xml: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub name: String,
    pub class: String,
    pub group: Option<String>,
    pub description: Option<String>,
    /// `pinnedServers`: kept for the Management API; a single instance runs every task.
    pub pinned_servers: Option<String>,
    pub trigger: Trigger,
    pub properties: Vec<TaskProperty>,
    pub injector: MessageInjectorSettings,
    pub span: Span,
    pub source: String,
}

/// Parses a `tasks/*.xml` file.
pub fn parse_task(file_label: &str, xml: &str) -> Result<Task, ArtifactError> {
    let file: Arc<str> = Arc::from(file_label);
    check_size(file_label, xml)?;
    let doc = parse_document(&file, xml)?;
    let ctx = Ctx {
        file,
        doc: &doc,
        values: None,
    };
    let root = doc.root_element();
    check_root(&ctx, root, "task")?;
    let name = ctx
        .required_attr(root, "name", "the task's name")?
        .trim()
        .to_string();
    let class = ctx
        .required_attr(root, "class", MESSAGE_INJECTOR_CLASS)?
        .trim()
        .to_string();
    if class != MESSAGE_INJECTOR_CLASS {
        return Err(ctx.unsupported(
            root,
            format!("task '{name}' with class {class}"),
            "a custom Java task; only org.apache.synapse.startup.tasks.MessageInjector runs (see README \"Java class mediators and connectors\")",
        ));
    }
    let group = ctx.attr(root, "group").map(|s| s.trim().to_string());
    let pinned_servers = ctx
        .attr(root, "pinnedServers")
        .map(|s| s.trim().to_string());
    let mut trigger = None;
    let mut description = None;
    let mut properties = Vec::new();
    for child in element_children(root) {
        let local = child.tag_name().name();
        let ns = child.tag_name().namespace();
        if is_synapse_named(child, "trigger") {
            if trigger.is_some() {
                return Err(ctx.invalid(child, "a task has a single <trigger>".into()));
            }
            trigger = Some(parse_trigger(&ctx, child)?);
        } else if is_synapse_named(child, "description") {
            description = Some(text_of(child).trim().to_string());
        } else if local == "property"
            && (ns == Some(TASK_NS) || is_synapse_named(child, "property"))
        {
            properties.push(parse_property(&ctx, child)?);
        } else {
            return Err(ctx.unknown(child, root, "<trigger>, <property> or <description>"));
        }
    }
    let Some(trigger) = trigger else {
        return Err(ctx.missing(
            root,
            "element <trigger>",
            "<trigger interval=\"5\" count=\"10\"/>, <trigger cron=\"...\"/> or <trigger once=\"true\"/>",
        ));
    };
    let injector = injector_settings(&ctx, root, &name, &properties)?;
    Ok(Task {
        name,
        class,
        group,
        description,
        pinned_servers,
        trigger,
        properties,
        injector,
        span: ctx.span(root),
        source: xml.to_string(),
    })
}

fn parse_trigger(ctx: &Ctx, node: Node) -> Result<Trigger, ArtifactError> {
    if let Some(cron) = ctx.attr(node, "cron") {
        let cron = cron.trim();
        if ctx.attr(node, "interval").is_some() {
            return Err(ctx.invalid(
                node,
                "both cron and simple trigger attributes are present".into(),
            ));
        }
        // Quartz: 6 or 7 fields (seconds, minutes, hours, day of month, month, day of week, year?).
        let fields = cron.split_whitespace().count();
        if !(6..=7).contains(&fields) {
            return Err(ctx.invalid_attr(
                node,
                "cron",
                cron,
                "a Quartz cron expression of 6 or 7 fields (seconds first)",
            ));
        }
        return Ok(Trigger::Cron(cron.to_string()));
    }
    // TaskDescriptionFactory: once="true" is count 1, interval 1000 ms; neither interval nor cron
    // is also a single firing; an interval missing with count > 1 is an error.
    let once = Trigger::Simple {
        interval_ms: 1000,
        count: Some(1),
    };
    if ctx.bool_attr(node, "once", false)? {
        return Ok(once);
    }
    let Some(interval) = ctx.attr(node, "interval") else {
        if ctx
            .attr(node, "count")
            .and_then(|c| c.trim().parse::<i64>().ok())
            .is_some_and(|c| c > 1)
        {
            return Err(ctx.missing(
                node,
                "attribute 'interval'",
                "the interval in seconds of a trigger with a count above 1",
            ));
        }
        return Ok(once);
    };
    let interval_ms = interval
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|s| s.checked_mul(1000))
        .ok_or_else(|| ctx.invalid_attr(node, "interval", interval, "a whole number of seconds"))?;
    let count = match ctx.attr(node, "count").map(str::trim) {
        None | Some("-1") => None,
        Some(text) => Some(
            text.parse::<u64>()
                .ok()
                .filter(|c| (1..=MAX_TRIGGER_COUNT).contains(c))
                .ok_or_else(|| {
                    ctx.invalid_attr(
                        node,
                        "count",
                        text,
                        "a count from 1 to 1000000000, or -1 for forever",
                    )
                })?,
        ),
    };
    if interval_ms == 0 {
        return Ok(once);
    }
    Ok(Trigger::Simple { interval_ms, count })
}

fn parse_property(ctx: &Ctx, node: Node) -> Result<TaskProperty, ArtifactError> {
    let name = ctx
        .required_attr(node, "name", "the property's name")?
        .trim()
        .to_string();
    let (value, inline_xml) = if let Some(v) = ctx.attr(node, "value") {
        (v.to_string(), false)
    } else {
        let elements: Vec<Node> = element_children(node).collect();
        match elements.as_slice() {
            [] => (text_of(node).trim().to_string(), false),
            [el] => (ctx.standalone_source(*el), true),
            [_, second, ..] => {
                return Err(ctx.invalid(
                    *second,
                    format!("task property '{name}' holds a single XML element"),
                ));
            }
        }
    };
    Ok(TaskProperty {
        name,
        value,
        inline_xml,
        span: ctx.span(node),
    })
}

fn injector_settings(
    ctx: &Ctx,
    root: Node,
    task: &str,
    properties: &[TaskProperty],
) -> Result<MessageInjectorSettings, ArtifactError> {
    let get = |n: &str| properties.iter().find(|p| p.name == n);
    let text = |n: &str| get(n).map(|p| p.value.trim().to_string());
    let format = match text("format").map(|f| f.to_ascii_lowercase()).as_deref() {
        None => None,
        Some("soap11") => Some(InjectFormat::Soap11),
        Some("soap12") => Some(InjectFormat::Soap12),
        Some("pox") => Some(InjectFormat::Pox),
        Some("get") => Some(InjectFormat::Get),
        Some(other) => {
            return Err(ArtifactError::Invalid {
                message: format!(
                    "invalid value \"{other}\" for task property 'format' of task '{task}': expected soap11, soap12, pox or get"
                ),
                span: get("format")
                    .map(|p| p.span.clone())
                    .unwrap_or_else(|| ctx.span(root)),
            });
        }
    };
    let required = |n: &str, why: &str| -> Result<String, ArtifactError> {
        text(n)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ctx.missing(root, &format!("task property '{n}'"), why))
    };
    let target = match text("injectTo").map(|f| f.to_ascii_lowercase()).as_deref() {
        None | Some("main") => InjectTarget::Main,
        Some("sequence") => InjectTarget::Sequence(required(
            "sequenceName",
            "the sequence injectTo=\"sequence\" runs",
        )?),
        Some("proxy") => {
            InjectTarget::Proxy(required("proxyName", "the proxy injectTo=\"proxy\" runs")?)
        }
        Some(other) => {
            return Err(ArtifactError::Invalid {
                message: format!(
                    "invalid value \"{other}\" for task property 'injectTo' of task '{task}': expected sequence, proxy or main"
                ),
                span: get("injectTo")
                    .map(|p| p.span.clone())
                    .unwrap_or_else(|| ctx.span(root)),
            });
        }
    };
    let message = get("message").map(|p| p.value.clone());
    let registry_key = text("registryKey");
    Ok(MessageInjectorSettings {
        message,
        registry_key,
        format,
        to: text("to"),
        soap_action: text("soapAction"),
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "xmlns=\"http://ws.apache.org/ns/synapse\"";

    fn task(body: &str) -> String {
        format!(
            "<task {NS} name=\"T\" class=\"{MESSAGE_INJECTOR_CLASS}\" group=\"synapse.simple.quartz\">\n{body}</task>"
        )
    }

    #[test]
    fn message_injector_into_sequence_reads_inline_message_and_interval_seconds() {
        let xml = task(
            "<trigger interval=\"5\" count=\"10\"/>
<property xmlns:task=\"http://www.wso2.org/products/wso2commons/tasks\" name=\"message\"><m:ping xmlns:m=\"urn:m\">hi</m:ping></property>
<property xmlns:task=\"http://www.wso2.org/products/wso2commons/tasks\" name=\"injectTo\" value=\"sequence\"/>
<property xmlns:task=\"http://www.wso2.org/products/wso2commons/tasks\" name=\"sequenceName\" value=\"Seq\"/>
",
        );
        let t = parse_task("tasks/T.xml", &xml).unwrap();
        assert_eq!(t.group.as_deref(), Some("synapse.simple.quartz"));
        assert_eq!(
            t.trigger,
            Trigger::Simple {
                interval_ms: 5000,
                count: Some(10)
            }
        );
        assert_eq!(t.injector.target, InjectTarget::Sequence("Seq".into()));
        assert_eq!(t.injector.format, None);
        let msg = t.injector.message.unwrap();
        assert!(msg.starts_with("<m:ping"), "{msg}");
        assert!(msg.contains(">hi</m:ping>"), "{msg}");
    }

    #[test]
    fn cron_and_once_triggers() {
        let t = parse_task("t.xml", &task("<trigger cron=\"0/2 * * * * ?\"/>")).unwrap();
        assert_eq!(t.trigger, Trigger::Cron("0/2 * * * * ?".into()));
        assert_eq!(t.trigger.kind(), "cron");
        assert_eq!(t.injector.target, InjectTarget::Main);
        let t = parse_task("t.xml", &task("<trigger once=\"true\"/>")).unwrap();
        assert_eq!(t.trigger.fire_offsets(0, u64::MAX), vec![0]);
        // TaskDescriptionFactory: a trigger with neither interval nor cron fires once.
        let t = parse_task("t.xml", &task("<trigger/>")).unwrap();
        assert_eq!(t.trigger.fire_offsets(0, u64::MAX), vec![0]);
        let err = parse_task("t.xml", &task("<trigger count=\"3\"/>"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("attribute 'interval'"), "{err}");
        let err = parse_task(
            "t.xml",
            &task("<trigger cron=\"0 * * * * ?\" interval=\"1\"/>"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("both cron and simple"), "{err}");
    }

    #[test]
    fn five_field_unix_cron_is_refused_with_position() {
        let err = parse_task("t.xml", &task("<trigger cron=\"* * * * *\"/>"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("Quartz cron expression"), "{err}");
        assert!(err.ends_with("t.xml:2:10"), "{err}");
    }

    #[test]
    fn custom_java_task_is_refused_naming_the_artifact() {
        let xml = format!(
            "<task {NS} name=\"Mine\" class=\"com.acme.MyTask\"><trigger interval=\"1\"/></task>"
        );
        let err = parse_task("tasks/Mine.xml", &xml).unwrap_err().to_string();
        assert!(
            err.starts_with("unsupported task 'Mine' with class com.acme.MyTask"),
            "{err}"
        );
        assert!(err.contains("Java class mediators"), "{err}");
    }

    #[test]
    fn proxy_target_requires_proxy_name() {
        let xml = task("<trigger interval=\"1\"/><property name=\"injectTo\" value=\"proxy\"/>");
        let err = parse_task("t.xml", &xml).unwrap_err().to_string();
        assert!(err.contains("task property 'proxyName'"), "{err}");
    }

    #[test]
    fn unknown_format_names_property_and_valid_values() {
        let xml = task("<trigger interval=\"1\"/>\n<property name=\"format\" value=\"yaml\"/>");
        let err = parse_task("t.xml", &xml).unwrap_err().to_string();
        assert!(err.contains("expected soap11, soap12, pox or get"), "{err}");
        assert!(err.ends_with("t.xml:3:1"), "{err}");
    }

    #[test]
    fn count_limit_and_limit_plus_one() {
        let ok = task(&format!(
            "<trigger interval=\"1\" count=\"{MAX_TRIGGER_COUNT}\"/>"
        ));
        assert!(parse_task("t.xml", &ok).is_ok());
        let over = task(&format!(
            "<trigger interval=\"1\" count=\"{}\"/>",
            MAX_TRIGGER_COUNT + 1
        ));
        let err = parse_task("t.xml", &over).unwrap_err().to_string();
        assert!(err.contains("count"), "{err}");
        // TaskDescriptionFactory: interval 0 without cron is a single firing.
        let zero = task("<trigger interval=\"0\"/>");
        let t = parse_task("t.xml", &zero).unwrap();
        assert_eq!(t.trigger.fire_offsets(0, u64::MAX), vec![0]);
        assert!(parse_task("t.xml", &task("<trigger interval=\"-5\"/>")).is_err());
    }

    #[test]
    fn simple_trigger_offsets_with_time_passed_in() {
        let t = Trigger::Simple {
            interval_ms: 1000,
            count: Some(3),
        };
        assert_eq!(t.fire_offsets(0, 10_000), vec![0, 1000, 2000]);
        assert_eq!(t.fire_offsets(1, 10_000), vec![1000, 2000]);
        assert_eq!(t.fire_offsets(0, 1500), vec![0, 1000]);
        let forever = Trigger::Simple {
            interval_ms: 500,
            count: None,
        };
        assert_eq!(forever.fire_offsets(900, 2100), vec![1000, 1500, 2000]);
        assert!(
            Trigger::Cron("0 * * * * ?".into())
                .fire_offsets(0, 1)
                .is_empty()
        );
    }

    #[test]
    fn missing_trigger_is_refused() {
        let err = parse_task("t.xml", &task("")).unwrap_err().to_string();
        assert!(err.contains("<trigger"), "{err}");
    }
}
