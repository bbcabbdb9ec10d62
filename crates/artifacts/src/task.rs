//! Scheduled tasks: `<task name class group>` with one `<trigger interval count | cron | once>`
//! and `<property name value|inline XML>`s, one per file under `tasks/` (SYN:
//! `config/xml/StartupFinder.java`, `startup/quartz/SimpleQuartzFactory.java`,
//! `task/TaskDescriptionFactory.java`). Only `org.apache.synapse.startup.tasks.MessageInjector` is
//! accepted (SYN:`startup/tasks/MessageInjector.java`); its properties are read into
//! [`MessageInjectorSettings`]. Any other class is a custom Java task and is refused naming the
//! artifact. [`Trigger::fire_offsets`] is the trigger's schedule with time passed in, so it is
//! tested without a clock. A cron trigger is parsed here as Quartz reads it ([`quartz_cron`]), so
//! a bad expression is a deploy error naming the file and line; a property MessageInjector has no
//! setter for is one too (MI's `PropertyHelper.setStaticProperty` fails the deployment).

use roxmltree::Node;

use crate::error::ArtifactError;
use crate::preamble::{ArtifactDocument, RootNamespace, required_trimmed, trimmed};
use crate::span::Span;
use crate::xml::{Ctx, element_children, is_synapse_named, text_of};

/// SYN:`startup/tasks/MessageInjector.java`.
pub const MESSAGE_INJECTOR_CLASS: &str = "org.apache.synapse.startup.tasks.MessageInjector";
/// The task namespace MI's tooling writes on `<property>` (SYN:`TaskDescriptionFactory.java`
/// accepts properties in it as well as in the Synapse namespace).
pub const TASK_NS: &str = "http://www.wso2.org/products/wso2commons/tasks";
/// Shortest interval accepted, in ms: a smaller one would make the scheduler spin.
pub const MIN_INTERVAL_MS: u64 = 1;
/// Largest `count` accepted: a task firing more often than this is written as `count="-1"`.
pub const MAX_TRIGGER_COUNT: u64 = 1_000_000_000;

/// The `<property>` names MessageInjector has a setter for (SYN:`MessageInjector.java`:
/// `setMessage`, `setTo`, ...). MI sets each with `PropertyHelper.setStaticProperty` and fails the
/// deployment for any other name, so Conflux refuses it too.
pub const INJECTOR_PROPERTIES: [&str; 10] = [
    "message",
    "registryKey",
    "format",
    "to",
    "soapAction",
    "injectTo",
    "sequenceName",
    "proxyName",
    "sequential",
    "invokeHandlers",
];

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

/// Parses `expression` as Quartz's `CronExpression` reads it (MI's `<trigger cron>` goes to
/// `CronScheduleBuilder.cronSchedule`): 6 or 7 fields (seconds, minutes, hours, day of month,
/// month, day of week, optional year), weekdays 1-7 for SUN-SAT or their names, `0/5` steps, and
/// `?` in exactly one of day of month and day of week (Quartz refuses both set and both `?`).
/// `L`, `W` and `#` are read by croner; `L-3` and `LW` (Quartz only) are refused.
///
/// # Errors
/// What is wrong with the expression, in words.
pub fn quartz_cron(expression: &str) -> Result<croner::Cron, String> {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    if !(6..=7).contains(&fields.len()) {
        return Err(format!(
            "{} fields found; a five-field Unix expression needs a seconds field first",
            fields.len()
        ));
    }
    let (day_of_month, day_of_week) = (fields[3], fields[5]);
    match (day_of_month == "?", day_of_week == "?") {
        (true, true) => {
            return Err("'?' can only be given for one of day of month and day of week".into());
        }
        (false, false) => {
            return Err(
                "Quartz needs '?' in day of month or in day of week (both set is not supported)"
                    .into(),
            );
        }
        _ => {}
    }
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .year(croner::parser::Year::Optional)
        .alternative_weekdays(true)
        .sloppy_ranges(true)
        .build()
        .parse(expression)
        .map_err(|e| e.to_string())
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
    /// `None`: MI's default, a SOAP 1.2 envelope both for a proxy (SYN:`MessageInjector.java`
    /// execute) and for a sequence (the envelope of `Axis2SynapseEnvironment.createMessageContext`).
    pub format: Option<InjectFormat>,
    pub to: Option<String>,
    pub soap_action: Option<String>,
    pub target: InjectTarget,
    /// `sequential="true"`: MI mediates in the task's own thread (`mediateMessageSequentially`),
    /// so a firing waits for the previous one to finish; otherwise firings run side by side.
    pub sequential: bool,
    /// `invokeHandlers`: MI runs its Synapse handlers first; Conflux has none, so it is kept only
    /// to be reported.
    pub invoke_handlers: bool,
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

impl Task {
    /// What to warn about when this task deploys next to these sequences and proxy services: a
    /// target that is not deployed, or no message at all. MI deploys such a task and fails each
    /// firing (SYN:`MessageInjector.java` execute: "Sequence: X not found", "Proxy Service: X not
    /// found", "message or registry-key not set"); Conflux does the same and says so at deploy.
    pub fn deploy_warnings(
        &self,
        has_sequence: impl Fn(&str) -> bool,
        has_proxy: impl Fn(&str) -> bool,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let name = &self.name;
        let span = &self.span;
        match &self.injector.target {
            InjectTarget::Sequence(seq) if !has_sequence(seq) => out.push(format!(
                "task {name} injects into sequence {seq}, which is not deployed (no sequences/{seq}.xml, or it failed): every firing fails with \"Sequence: {seq} not found\" at {span}"
            )),
            InjectTarget::Proxy(proxy) if !has_proxy(proxy) => out.push(format!(
                "task {name} injects into proxy service {proxy}, which is not deployed (no proxy-services/{proxy}.xml, or it failed): every firing fails with \"Proxy Service: {proxy} not found\" at {span}"
            )),
            _ => {}
        }
        if self.injector.message.is_none() && self.injector.registry_key.is_none() {
            out.push(format!(
                "task {name} has no message and no registryKey: every firing fails with \"message or registry-key not set\" at {span}"
            ));
        }
        out
    }
}

/// Parses a `tasks/*.xml` file.
pub fn parse_task(file_label: &str, xml: &str) -> Result<Task, ArtifactError> {
    let doc = ArtifactDocument::parse(file_label, xml)?;
    let (ctx, root) = doc.root("task", RootNamespace::Synapse)?;
    let name = required_trimmed(&ctx, root, "name", "the task's name")?;
    let class = required_trimmed(&ctx, root, "class", MESSAGE_INJECTOR_CLASS)?;
    if class != MESSAGE_INJECTOR_CLASS {
        return Err(ctx.unsupported(
            root,
            format!("task '{name}' with class {class}"),
            "a custom Java task; only org.apache.synapse.startup.tasks.MessageInjector runs (see README \"Java class mediators and connectors\")",
        ));
    }
    let group = trimmed(&ctx, root, "group");
    let pinned_servers = trimmed(&ctx, root, "pinnedServers");
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
        if let Err(why) = quartz_cron(cron) {
            return Err(ctx.invalid_attr(
                node,
                "cron",
                cron,
                &format!("a Quartz cron expression of 6 or 7 fields, seconds first ({why})"),
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
    if let Some(unknown) = properties
        .iter()
        .find(|p| !INJECTOR_PROPERTIES.contains(&p.name.as_str()))
    {
        return Err(ArtifactError::Invalid {
            message: format!(
                "task '{task}' has property '{}', which MessageInjector has no setter for: expected one of {}",
                unknown.name,
                INJECTOR_PROPERTIES.join(", ")
            ),
            span: unknown.span.clone(),
        });
    }
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
    // MessageInjector has `setMessage(OMElement)` only: a text value finds no setter in MI.
    let message = match get("message") {
        None => None,
        Some(p) if p.inline_xml => Some(p.value.clone()),
        Some(p) if p.value.trim().is_empty() => None,
        Some(p) => {
            return Err(ArtifactError::Invalid {
                message: format!(
                    "task '{task}' has a text message; MessageInjector injects an XML element: write it inside <property name=\"message\"> (or use registryKey)"
                ),
                span: p.span.clone(),
            });
        }
    };
    let flag = |n: &str| -> Result<bool, ArtifactError> {
        match get(n) {
            None => Ok(false),
            Some(p) if p.value.trim().eq_ignore_ascii_case("true") => Ok(true),
            Some(p) if p.value.trim().eq_ignore_ascii_case("false") => Ok(false),
            Some(p) => Err(ArtifactError::Invalid {
                message: format!(
                    "invalid value \"{}\" for task property '{n}' of task '{task}': expected true or false",
                    p.value.trim()
                ),
                span: p.span.clone(),
            }),
        }
    };
    let sequential = flag("sequential")?;
    let invoke_handlers = flag("invokeHandlers")?;
    let registry_key = text("registryKey");
    Ok(MessageInjectorSettings {
        message,
        registry_key,
        format,
        to: text("to"),
        soap_action: text("soapAction"),
        target,
        sequential,
        invoke_handlers,
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
    fn quartz_cron_rules_are_checked_at_deploy() {
        for ok in [
            "0/2 * * * * ?",
            "0 0 12 ? * MON-FRI",
            "0 15 10 ? * 6L",
            "0 0 12 L * ? 2030",
            "0 0 8 ? * 2#1",
        ] {
            assert!(quartz_cron(ok).is_ok(), "{ok}: {:?}", quartz_cron(ok).err());
            let t = parse_task("t.xml", &task(&format!("<trigger cron=\"{ok}\"/>"))).unwrap();
            assert_eq!(t.trigger, Trigger::Cron(ok.into()));
        }
        let err = parse_task("t.xml", &task("<trigger cron=\"0 0 12 * * *\"/>"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'?' in day of month or in day of week"),
            "{err}"
        );
        assert!(err.ends_with("t.xml:2:10"), "{err}");
        let err = quartz_cron("0 0 12 ? * ?").unwrap_err();
        assert!(err.contains("only be given for one"), "{err}");
        let err = quartz_cron("0 0 25 ? * MON").map(|_| ()).unwrap_err();
        assert!(!err.is_empty());
        assert!(quartz_cron("0 0 12 ? * FUNDAY").is_err());
    }

    #[test]
    fn a_property_message_injector_has_no_setter_for_is_refused() {
        let xml = task("<trigger interval=\"1\"/>\n<property name=\"colour\" value=\"red\"/>");
        let err = parse_task("t.xml", &xml).unwrap_err().to_string();
        assert!(
            err.starts_with("task 'T' has property 'colour', which MessageInjector has no setter for: expected one of message, registryKey"),
            "{err}"
        );
        assert!(err.ends_with("t.xml:3:1"), "{err}");
    }

    #[test]
    fn a_text_message_is_refused_and_flags_are_read() {
        let xml = task("<trigger interval=\"1\"/>\n<property name=\"message\" value=\"hello\"/>");
        let err = parse_task("t.xml", &xml).unwrap_err().to_string();
        assert!(err.contains("has a text message"), "{err}");
        let xml = task(
            "<trigger interval=\"1\"/><property name=\"message\"><a xmlns=\"\"/></property>
<property name=\"sequential\" value=\"true\"/><property name=\"invokeHandlers\" value=\"FALSE\"/>",
        );
        let t = parse_task("t.xml", &xml).unwrap();
        assert!(t.injector.sequential);
        assert!(!t.injector.invoke_handlers);
        let xml = task("<trigger interval=\"1\"/><property name=\"sequential\" value=\"yes\"/>");
        let err = parse_task("t.xml", &xml).unwrap_err().to_string();
        assert!(err.contains("expected true or false"), "{err}");
    }

    #[test]
    fn deploy_warnings_name_a_missing_target_and_a_missing_message() {
        let xml = task(
            "<trigger interval=\"1\"/><property name=\"injectTo\" value=\"sequence\"/><property name=\"sequenceName\" value=\"Gone\"/>",
        );
        let t = parse_task("tasks/T.xml", &xml).unwrap();
        let w = t.deploy_warnings(|_| false, |_| true);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[0].contains("sequence Gone, which is not deployed"),
            "{w:?}"
        );
        assert!(w[0].ends_with("at tasks/T.xml:1:1"), "{w:?}");
        assert!(w[1].contains("message or registry-key not set"), "{w:?}");
        let xml = task(
            "<trigger interval=\"1\"/><property name=\"injectTo\" value=\"proxy\"/><property name=\"proxyName\" value=\"P\"/><property name=\"registryKey\" value=\"conf:/m.xml\"/>",
        );
        let t = parse_task("tasks/T.xml", &xml).unwrap();
        assert!(t.deploy_warnings(|_| false, |p| p == "P").is_empty());
        let w = t.deploy_warnings(|_| true, |_| false);
        assert!(w[0].contains("Proxy Service: P not found"), "{w:?}");
    }

    #[test]
    fn missing_trigger_is_refused() {
        let err = parse_task("t.xml", &task("")).unwrap_err().to_string();
        assert!(err.contains("<trigger"), "{err}");
    }
}
