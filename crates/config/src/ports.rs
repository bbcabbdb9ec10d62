//! The port plan: every socket Conflux listens on, computed once from the configuration before
//! anything binds. Listeners take their address from it, `conflux ports` prints it, and start-up
//! logs it.
//!
//! MI's rules (mi-ports.md §2, checked in MI's source): one offset, resolved as `-DportOffset`
//! (system property) over `[server] offset` over the built-in 10
//! (`config-tool/templates/conf/carbon.xml.j2`); a user offset replaces 10 rather than adding to it;
//! the offset is added to every port, explicitly configured ones included
//! (`PassThroughHttpListener#init`, `internal/http/api/ConfigurationLoader#getPort`).
//! Conflux adds what MI lacks: the arithmetic is checked (1..=65535) and two roles on one port are
//! an error, all before binding.

use std::fmt::Write as _;

use serde_json::json;

use crate::error::{ConfigError, Origin};

/// MI's offset when none is configured (`carbon.xml.j2`: `Offset` defaults to 10).
pub const DEFAULT_PORT_OFFSET: i32 = 10;
/// The largest port number.
pub const MAX_PORT: u32 = 65_535;
/// How many offsets `smallest_free_offset` tries before giving up.
pub const MAX_OFFSET_SEARCH: i32 = 2_000;

/// What a port is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Http,
    Https,
    InternalHttp,
    InternalHttps,
    JmxRmiRegistry,
    JmxRmiServer,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Http,
        Role::Https,
        Role::InternalHttp,
        Role::InternalHttps,
        Role::JmxRmiRegistry,
        Role::JmxRmiServer,
    ];

    /// The stable name used in `conflux ports --json` and logs.
    pub fn name(self) -> &'static str {
        match self {
            Role::Http => "http",
            Role::Https => "https",
            Role::InternalHttp => "internal_http",
            Role::InternalHttps => "internal_https",
            Role::JmxRmiRegistry => "jmx_rmi_registry",
            Role::JmxRmiServer => "jmx_rmi_server",
        }
    }

    /// The flattened deployment.toml key that sets the base port.
    pub fn key(self) -> &'static str {
        match self {
            Role::Http => "transport.http.listener.port",
            Role::Https => "transport.http.listener.secured_port",
            Role::InternalHttp => "mediation.internal_http_api_port",
            Role::InternalHttps => "mediation.internal_https_api_port",
            Role::JmxRmiRegistry => "monitoring.jmx.rmi_registry_port",
            Role::JmxRmiServer => "monitoring.jmx.rmi_server_port",
        }
    }

    /// The base port at offset 0 (MI: `config-tool/default.json`, internal API `Constants`).
    pub fn default_base(self) -> u32 {
        match self {
            Role::Http => 8280,
            Role::Https => 8243,
            Role::InternalHttp => 9191,
            Role::InternalHttps => 9154,
            Role::JmxRmiRegistry => 9999,
            Role::JmxRmiServer => 11111,
        }
    }

    /// What the port serves, for the start-up table.
    pub fn purpose(self) -> &'static str {
        match self {
            Role::Http => "pass-through HTTP (APIs, proxy services)",
            Role::Https => "pass-through HTTPS (APIs, proxy services)",
            Role::InternalHttp => "internal HTTP API (health probes, metrics)",
            Role::InternalHttps => "internal HTTPS API (Management API)",
            Role::JmxRmiRegistry => "remote monitoring (Jolokia over HTTP)",
            Role::JmxRmiServer => "reserved (second JMX port, not opened)",
        }
    }
}

/// Where the offset came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSource {
    Default,
    DeploymentToml,
    CommandLine,
}

impl OffsetSource {
    pub fn name(self) -> &'static str {
        match self {
            OffsetSource::Default => "default",
            OffsetSource::DeploymentToml => "deployment.toml",
            OffsetSource::CommandLine => "command line",
        }
    }
}

/// The resolved offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offset {
    /// Any integer, as MI parses it (`Integer.parseInt`): a negative offset lowers every port.
    pub value: i32,
    pub source: OffsetSource,
    pub origin: Origin,
}

/// One role's configuration before the offset is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    pub role: Role,
    /// The base port (may be out of range; the plan checks it).
    pub base: u32,
    /// Where the base came from (the deployment.toml line, or the default).
    pub origin: Origin,
    /// The host or address to bind (`0.0.0.0`, `localhost`, ...).
    pub bind: String,
    /// Switched on in the configuration.
    pub enabled: bool,
    /// `false` for a port kept in the plan but never opened (the second JMX port).
    pub opened: bool,
}

/// One role of the plan, offset applied and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortEntry {
    pub role: Role,
    pub base: u32,
    pub port: u16,
    pub bind: String,
    pub enabled: bool,
    pub opened: bool,
    pub origin: Origin,
}

impl PortEntry {
    /// Whether Conflux binds this port at start-up.
    pub fn is_listener(&self) -> bool {
        self.enabled && self.opened
    }
}

/// Every port of the server, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortPlan {
    offset: Offset,
    specs: Vec<PortSpec>,
    entries: Vec<PortEntry>,
    /// `[mediation] inbound.port_offset_enable` (MI default false): whether inbound HTTP(S)
    /// endpoints' `inbound.http.port` gets the offset too (see [`PortPlan::plan_inbound`]).
    inbound_offset: bool,
}

impl PortPlan {
    /// Applies `offset` to every spec, checking the range of each port and that no two roles
    /// that are switched on share a port.
    pub fn build(specs: Vec<PortSpec>, offset: Offset) -> Result<PortPlan, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut entries = Vec::with_capacity(specs.len());
        for spec in &specs {
            let result = i64::from(spec.base) + i64::from(offset.value);
            if spec.base == 0 || !(1..=i64::from(MAX_PORT)).contains(&result) {
                errors.push(ConfigError::PortOutOfRange {
                    role: spec.role.name(),
                    key: spec.role.key().to_string(),
                    origin: spec.origin.clone(),
                    base: spec.base,
                    offset: offset.value,
                    result,
                    min_offset: 1 - i64::from(spec.base),
                    max_offset: i64::from(MAX_PORT) - i64::from(spec.base),
                });
                continue;
            }
            entries.push(PortEntry {
                role: spec.role,
                base: spec.base,
                port: result as u16,
                bind: spec.bind.clone(),
                enabled: spec.enabled,
                opened: spec.opened,
                origin: spec.origin.clone(),
            });
        }
        let enabled: Vec<&PortEntry> = entries.iter().filter(|e| e.enabled).collect();
        for (i, first) in enabled.iter().enumerate() {
            for second in &enabled[i + 1..] {
                if first.port == second.port {
                    errors.push(ConfigError::PortClash {
                        port: first.port,
                        offset: offset.value,
                        first_role: first.role.name(),
                        first_key: first.role.key().to_string(),
                        first_base: first.base,
                        first_origin: first.origin.clone(),
                        second_role: second.role.name(),
                        second_key: second.role.key().to_string(),
                        second_base: second.base,
                        second_origin: second.origin.clone(),
                    });
                }
            }
        }
        if errors.is_empty() {
            Ok(PortPlan {
                offset,
                specs,
                entries,
                inbound_offset: false,
            })
        } else {
            Err(errors)
        }
    }

    /// The same configuration with another offset (used to suggest a free one).
    pub fn with_offset(&self, value: i32) -> Result<PortPlan, Vec<ConfigError>> {
        PortPlan::build(
            self.specs.clone(),
            Offset {
                value,
                source: OffsetSource::CommandLine,
                origin: Origin::CommandLine(format!("-DportOffset={value}")),
            },
        )
        .map(|plan| plan.with_inbound_offset(self.inbound_offset))
    }

    /// The plan with `[mediation] inbound.port_offset_enable` set to `enabled`.
    pub fn with_inbound_offset(mut self, enabled: bool) -> PortPlan {
        self.inbound_offset = enabled;
        self
    }

    /// Whether inbound HTTP(S) ports get the offset (`[mediation] inbound.port_offset_enable`).
    pub fn inbound_offset_enabled(&self) -> bool {
        self.inbound_offset
    }

    pub fn offset(&self) -> &Offset {
        &self.offset
    }

    pub fn entries(&self) -> &[PortEntry] {
        &self.entries
    }

    pub fn get(&self, role: Role) -> Option<&PortEntry> {
        self.entries.iter().find(|e| e.role == role)
    }

    /// The ports Conflux binds: switched on and not merely reserved.
    pub fn listeners(&self) -> impl Iterator<Item = &PortEntry> {
        self.entries.iter().filter(|e| e.is_listener())
    }

    /// The smallest offset above the current one at which `is_free` holds for every listener (so
    /// that instances keep their order on the host), else the smallest below it.
    pub fn smallest_free_offset(&self, mut is_free: impl FnMut(&PortEntry) -> bool) -> Option<i32> {
        let current = self.offset.value;
        let above = current.saturating_add(1)..current.saturating_add(MAX_OFFSET_SEARCH);
        above
            .chain(0..current)
            .find(|&o| match self.with_offset(o) {
                Ok(plan) => plan.listeners().all(&mut is_free),
                Err(_) => false,
            })
    }

    /// The plan as `conflux ports --json` prints it.
    pub fn to_json(&self) -> serde_json::Value {
        let ports: Vec<serde_json::Value> = self
            .entries
            .iter()
            .map(|e| {
                json!({
                    "role": e.role.name(),
                    "key": e.role.key(),
                    "base": e.base,
                    "port": e.port,
                    "bind": e.bind,
                    "enabled": e.enabled,
                    "opened": e.is_listener(),
                    "purpose": e.role.purpose(),
                })
            })
            .collect();
        json!({
            "offset": self.offset.value,
            "offset_source": self.offset.source.name(),
            "ports": ports,
        })
    }

    /// The plan as a table for people (`conflux ports`, the start-up log).
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "port plan (offset {} from {}):",
            self.offset.value,
            self.offset.source.name()
        );
        let _ = writeln!(
            out,
            "  {:<17} {:>6} {:>6}  {:<10} {:<9} KEY / PURPOSE",
            "ROLE", "BASE", "PORT", "BIND", "STATE"
        );
        for e in &self.entries {
            let state = match (e.enabled, e.opened) {
                (false, _) => "disabled",
                (true, false) => "reserved",
                (true, true) => "listen",
            };
            let _ = writeln!(
                out,
                "  {:<17} {:>6} {:>6}  {:<10} {:<9} {} - {}",
                e.role.name(),
                e.base,
                e.port,
                e.bind,
                state,
                e.role.key(),
                e.role.purpose()
            );
        }
        out
    }
}

/// An inbound HTTP(S) endpoint's port as its artifact writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundPortSpec {
    /// The inbound endpoint's name.
    pub name: String,
    /// `http` or `https`.
    pub protocol: String,
    /// `inbound.http.port`.
    pub base: u32,
    /// Where `inbound.http.port` is written (file:line:column).
    pub origin: String,
}

/// An inbound endpoint's port, checked against the plan and the other inbound endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundPortEntry {
    pub name: String,
    pub protocol: String,
    pub base: u32,
    /// The offset added to `base` (0 unless `[mediation] inbound.port_offset_enable = true`).
    pub offset: i32,
    pub port: u16,
    pub origin: String,
}

/// Why an inbound endpoint's port is refused; each names the endpoint and what it clashes with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundPortError {
    #[error(
        "inbound endpoint {name}: inbound.http.port {base} + offset {offset} = {result} is not a port (1..=65535) at {origin}"
    )]
    OutOfRange {
        name: String,
        base: u32,
        offset: i32,
        result: i64,
        origin: String,
    },
    #[error(
        "inbound endpoint {name} wants port {port} (inbound.http.port {base} + offset {offset}, at {origin}), which the port plan gives to {role} ({key}); give the inbound endpoint another port"
    )]
    ClashWithPlan {
        name: String,
        port: u16,
        base: u32,
        offset: i32,
        origin: String,
        role: &'static str,
        key: &'static str,
    },
    #[error(
        "inbound endpoints {first} (at {first_origin}) and {second} (at {second_origin}) both want port {port}; give one of them another inbound.http.port"
    )]
    Clash {
        port: u16,
        first: String,
        first_origin: String,
        second: String,
        second_origin: String,
    },
}

impl InboundPortError {
    /// The inbound endpoint that is refused.
    pub fn endpoint(&self) -> &str {
        match self {
            InboundPortError::OutOfRange { name, .. }
            | InboundPortError::ClashWithPlan { name, .. } => name,
            InboundPortError::Clash { second, .. } => second,
        }
    }
}

impl PortPlan {
    /// The ports of inbound HTTP(S) endpoints, in `specs` order. MI adds the server's offset to
    /// `inbound.http.port` only when `[mediation] inbound.port_offset_enable = true` (synapse
    /// property `inbound.port.offset.enable`, default false: micro-integrator
    /// `InboundHttpListener` / `InboundHttpsListener` constructors, `PersistenceUtils.getPortOffset()`
    /// = `-DportOffset` over carbon.xml's `Ports/Offset`). So by default `inbound.http.port` is the
    /// port, whatever the offset. An endpoint whose port is out of range, is a listener of the
    /// plan, or is taken by an earlier endpoint in `specs` is refused (the earlier one keeps it).
    pub fn plan_inbound(
        &self,
        specs: &[InboundPortSpec],
    ) -> (Vec<InboundPortEntry>, Vec<InboundPortError>) {
        let offset = if self.inbound_offset {
            self.offset.value
        } else {
            0
        };
        let mut accepted: Vec<InboundPortEntry> = Vec::new();
        let mut errors = Vec::new();
        for spec in specs {
            let result = i64::from(spec.base) + i64::from(offset);
            if !(1..=i64::from(MAX_PORT)).contains(&result) {
                errors.push(InboundPortError::OutOfRange {
                    name: spec.name.clone(),
                    base: spec.base,
                    offset,
                    result,
                    origin: spec.origin.clone(),
                });
                continue;
            }
            let port = result as u16;
            if let Some(planned) = self.entries.iter().find(|e| e.enabled && e.port == port) {
                errors.push(InboundPortError::ClashWithPlan {
                    name: spec.name.clone(),
                    port,
                    base: spec.base,
                    offset,
                    origin: spec.origin.clone(),
                    role: planned.role.name(),
                    key: planned.role.key(),
                });
                continue;
            }
            if let Some(first) = accepted.iter().find(|e| e.port == port) {
                errors.push(InboundPortError::Clash {
                    port,
                    first: first.name.clone(),
                    first_origin: first.origin.clone(),
                    second: spec.name.clone(),
                    second_origin: spec.origin.clone(),
                });
                continue;
            }
            accepted.push(InboundPortEntry {
                name: spec.name.clone(),
                protocol: spec.protocol.clone(),
                base: spec.base,
                offset,
                port,
                origin: spec.origin.clone(),
            });
        }
        (accepted, errors)
    }
}

/// The inbound endpoints' rows of the `conflux ports` table.
pub fn render_inbound_table(entries: &[InboundPortEntry], offset_enabled: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "inbound endpoints (inbound.http.port{}):",
        if offset_enabled {
            " + offset: [mediation] inbound.port_offset_enable = true"
        } else {
            " as written: MI adds no offset unless [mediation] inbound.port_offset_enable = true"
        }
    );
    for e in entries {
        let _ = writeln!(
            out,
            "  {:<17} {:>6} {:>6}  {:<10} {:<9} inbound endpoint {} ({})",
            format!("inbound_{}", e.protocol),
            e.base,
            e.port,
            "0.0.0.0",
            "listen",
            e.name,
            e.origin
        );
    }
    out
}

/// The inbound endpoints as `conflux ports --json` prints them (`"inbound"`).
pub fn inbound_json(entries: &[InboundPortEntry]) -> serde_json::Value {
    serde_json::Value::Array(
        entries
            .iter()
            .map(|e| {
                json!({
                    "name": e.name,
                    "protocol": e.protocol,
                    "base": e.base,
                    "offset": e.offset,
                    "port": e.port,
                    "origin": e.origin,
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn inbound(name: &str, base: u32) -> InboundPortSpec {
        InboundPortSpec {
            name: name.into(),
            protocol: "http".into(),
            base,
            origin: format!("inbound-endpoints/{name}.xml:3:5"),
        }
    }

    // micro-integrator InboundHttpListener: the offset is added only with
    // inbound.port.offset.enable (`[mediation] inbound.port_offset_enable`).
    #[test]
    fn inbound_ports_get_the_offset_only_when_enabled() {
        let plan = PortPlan::build(specs(), offset(10)).unwrap();
        let (ok, errors) = plan.plan_inbound(&[inbound("A", 8085)]);
        assert!(errors.is_empty());
        assert_eq!((ok[0].port, ok[0].offset), (8085, 0));
        let plan = plan.with_inbound_offset(true);
        let (ok, _) = plan.plan_inbound(&[inbound("A", 8085)]);
        assert_eq!((ok[0].port, ok[0].offset), (8095, 10));
        // with_offset keeps the switch.
        let (ok, _) = plan
            .with_offset(3)
            .unwrap()
            .plan_inbound(&[inbound("A", 8085)]);
        assert_eq!(ok[0].port, 8088);
    }

    #[test]
    fn inbound_clashes_name_both_sides() {
        let plan = PortPlan::build(specs(), offset(10)).unwrap();
        let (ok, errors) = plan.plan_inbound(&[
            inbound("A", 8085),
            inbound("B", 8085),
            inbound("C", 8290),
            inbound("D", 8086),
        ]);
        let names: Vec<&str> = ok.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["A", "D"]);
        let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(
            texts[0].contains("inbound endpoints A (at inbound-endpoints/A.xml:3:5) and B"),
            "{texts:?}"
        );
        assert!(texts[0].contains("port 8085"), "{texts:?}");
        assert_eq!(errors[0].endpoint(), "B");
        assert!(
            texts[1].contains("inbound endpoint C wants port 8290"),
            "{texts:?}"
        );
        assert!(
            texts[1].contains("http (transport.http.listener.port)"),
            "{texts:?}"
        );
    }

    #[test]
    fn inbound_port_limit() {
        let plan = PortPlan::build(specs(), offset(10))
            .unwrap()
            .with_inbound_offset(true);
        let (ok, errors) = plan.plan_inbound(&[inbound("A", MAX_PORT - 10)]);
        assert_eq!(ok[0].port as u32, MAX_PORT);
        assert!(errors.is_empty());
        let (ok, errors) = plan.plan_inbound(&[inbound("A", MAX_PORT - 9)]);
        assert!(ok.is_empty());
        assert!(
            errors[0].to_string().contains("= 65536 is not a port"),
            "{}",
            errors[0]
        );
    }

    fn specs() -> Vec<PortSpec> {
        Role::ALL
            .iter()
            .map(|&role| PortSpec {
                role,
                base: role.default_base(),
                origin: Origin::Default,
                bind: "0.0.0.0".into(),
                enabled: true,
                opened: role != Role::JmxRmiServer,
            })
            .collect()
    }

    fn offset(value: i32) -> Offset {
        Offset {
            value,
            source: OffsetSource::Default,
            origin: Origin::Default,
        }
    }

    fn ports(plan: &PortPlan) -> Vec<u16> {
        plan.entries().iter().map(|e| e.port).collect()
    }

    // mi-ports.md §2.2 worked examples, MI docs "changing the default ports with offset".
    #[test]
    fn default_offset_gives_mi_default_ports() {
        let plan = PortPlan::build(specs(), offset(DEFAULT_PORT_OFFSET)).unwrap();
        assert_eq!(ports(&plan), vec![8290, 8253, 9201, 9164, 10009, 11121]);
    }

    #[test]
    fn offset_zero_gives_classic_ports_and_three_replaces_ten() {
        let plan = PortPlan::build(specs(), offset(0)).unwrap();
        assert_eq!(ports(&plan), vec![8280, 8243, 9191, 9154, 9999, 11111]);
        let plan = PortPlan::build(specs(), offset(3)).unwrap();
        assert_eq!(ports(&plan), vec![8283, 8246, 9194, 9157, 10002, 11114]);
    }

    #[test]
    fn out_of_range_shows_the_arithmetic() {
        let errors = PortPlan::build(specs(), offset(65_300)).unwrap_err();
        let text = errors[0].to_string();
        assert!(text.contains("8280 + offset 65300 = 73580"), "{text}");
        assert!(text.contains("transport.http.listener.port"), "{text}");
        assert!(text.contains("from -8279 to 57255"), "{text}");
    }

    // MI parses any integer as the offset (a public project runs `offset = -810`, HTTP on 7470);
    // the plan checks the ports it gives: the lowest base (8243) sets the floor.
    #[test]
    fn a_negative_offset_lowers_every_port_down_to_port_1() {
        let plan = PortPlan::build(specs(), offset(-810)).unwrap();
        assert_eq!(plan.get(Role::Http).unwrap().port, 7470);
        assert!(PortPlan::build(specs(), offset(1 - 8243)).is_ok());
        let errors = PortPlan::build(specs(), offset(-8243)).unwrap_err();
        assert!(
            errors[0].to_string().contains("8243 + offset -8243 = 0"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn highest_valid_offset_is_accepted_and_one_more_is_not() {
        // 11111 is the largest base, so 65535 - 11111 is the limit.
        assert!(PortPlan::build(specs(), offset(MAX_PORT as i32 - 11_111)).is_ok());
        assert!(PortPlan::build(specs(), offset(MAX_PORT as i32 - 11_111 + 1)).is_err());
    }

    #[test]
    fn base_zero_is_out_of_range() {
        let mut s = specs();
        s[0].base = 0;
        assert!(PortPlan::build(s, offset(0)).is_err());
    }

    #[test]
    fn clash_names_both_roles() {
        let mut s = specs();
        s[2].base = 8280; // internal_http on the http port
        let errors = PortPlan::build(s, offset(10)).unwrap_err();
        let text = errors[0].to_string();
        assert!(text.contains("port 8290"), "{text}");
        assert!(
            text.contains("http (transport.http.listener.port"),
            "{text}"
        );
        assert!(
            text.contains("internal_http (mediation.internal_http_api_port"),
            "{text}"
        );
    }

    #[test]
    fn disabled_role_does_not_clash_and_is_not_a_listener() {
        let mut s = specs();
        s[2].base = 8280;
        s[2].enabled = false;
        let plan = PortPlan::build(s, offset(10)).unwrap();
        assert!(plan.listeners().all(|e| e.role != Role::InternalHttp));
        assert_eq!(
            plan.listeners().count(),
            4,
            "jmx_rmi_server is reserved, not opened"
        );
    }

    #[test]
    fn smallest_free_offset_skips_taken_ports() {
        let plan = PortPlan::build(specs(), offset(10)).unwrap();
        // Pretend 8290..=8295 are taken: offsets 11..=15 fail for http, 16 is the first free one.
        let found = plan.smallest_free_offset(|e| !(8290..=8295).contains(&e.port));
        assert_eq!(found, Some(16));
        assert_eq!(plan.smallest_free_offset(|_| true), Some(11));
        // Nothing free above: fall back below the current offset.
        let top = PortPlan::build(specs(), offset(MAX_PORT as i32 - 11_111)).unwrap();
        assert_eq!(top.smallest_free_offset(|_| true), Some(0));
    }

    #[test]
    fn json_has_the_documented_shape() {
        let plan = PortPlan::build(specs(), offset(10)).unwrap();
        let v = plan.to_json();
        assert_eq!(v["offset"], 10);
        assert_eq!(v["offset_source"], "default");
        assert_eq!(v["ports"][0]["role"], "http");
        assert_eq!(v["ports"][0]["key"], "transport.http.listener.port");
        assert_eq!(v["ports"][0]["base"], 8280);
        assert_eq!(v["ports"][0]["port"], 8290);
        assert_eq!(v["ports"][0]["bind"], "0.0.0.0");
        assert_eq!(v["ports"][0]["enabled"], true);
    }

    proptest! {
        // Every port is base + offset, or the plan is rejected: never a wrapped or clamped port.
        #[test]
        fn ports_are_base_plus_offset_or_rejected(off in -70_000i32..70_000, base in 0u32..70_000) {
            let mut s = specs();
            s[0].base = base;
            match PortPlan::build(s, offset(off)) {
                Ok(plan) => {
                    for e in plan.entries() {
                        prop_assert_eq!(i64::from(e.port), i64::from(e.base) + i64::from(off));
                        prop_assert!(e.port >= 1);
                    }
                }
                Err(errors) => prop_assert!(!errors.is_empty()),
            }
        }
    }
}
