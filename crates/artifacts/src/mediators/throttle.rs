//! `<throttle id [onAccept] [onReject]>(<policy key/> | <policy>WS-Policy</policy>)
//! <onAccept>..</onAccept>? <onReject>..</onReject>?</throttle>` and the WS-Policy it carries, read
//! as SYN `mediators/throttle/ThrottleMediatorFactory.java` and the throttle core's
//! `ThrottleFactory.buildThrottle` (`throttle:MediatorThrottleAssertion`) and
//! `ThrottlePolicyProcessor.processPolicy` (the legacy `throttle:ThrottleAssertion`) read them:
//!
//! - `id` is required (trimmed); `onAccept=` / `onReject=` keys win over the inline elements;
//!   `<policy key>` names a local entry or registry resource (compiled at deploy, see
//!   mediation `runtime/compile.rs`), otherwise the policy's first element is the inline policy.
//! - `MaximumConcurrentAccess` above 0 limits concurrent messages (anything else: no limit).
//! - Each caller entry is `throttle:ID throttle:type="IP|DOMAIN|ROLE"` (an IP, an IP range
//!   `a.b.c.d - a.b.c.e`, `a.b.c.*`, a domain, `*.domain`, or `other`) with `Allow`, `Deny` or
//!   `Control` (`MaximumCount`, `UnitTime` in ms, optional `ProhibitTimePeriod` in ms). A
//!   `MaximumCount` that is not a number allows everything (MI logs it and sets ACCESS_ALLOWED);
//!   a `ProhibitTimePeriod` that is not a number is 0. Values go through `$SYSTEM:`/`$FILE:`
//!   injection (ThrottleFactory's `ResolverFactory.resolve`) for inline policies.
//!
//! Differences: a `Control` without a usable `UnitTime` is refused at deploy (MI deploys it and
//! fails every request in `CallerContext.canAccess` with "Invalid Throttle Configuration").

use roxmltree::Node;

use crate::mediators::{Mediator, parse_mediator_list};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named};

/// The WSO2 throttle policy namespace (ThrottleConstants.THROTTLE_NS).
pub const THROTTLE_NS: &str = "http://www.wso2.org/products/wso2commons/throttle";

#[derive(Debug, Clone, PartialEq)]
pub struct Throttle {
    /// The throttle group id (ThrottleMediator.setId).
    pub id: String,
    pub policy: Option<ThrottlePolicySource>,
    pub on_accept: Option<ThrottleBranch>,
    pub on_reject: Option<ThrottleBranch>,
    pub span: Span,
}

/// Where the policy comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ThrottlePolicySource {
    Inline(ThrottlePolicy),
    /// An inline policy without a throttle assertion in the throttle namespace: MI's
    /// `ThrottleFactory.createMediatorThrottle` returns no throttle, and nothing is throttled
    /// (MI test InvalidThrottlingPolicyTest); the compiler warns about it.
    NoAssertion(Span),
    /// `<policy key>`: a local entry or registry resource holding the policy.
    Key(String, Span),
}

/// `onAccept` / `onReject`: a sequence by key or inline mediators.
#[derive(Debug, Clone, PartialEq)]
pub enum ThrottleBranch {
    Key(String, Span),
    Inline(Vec<Mediator>),
}

/// A throttle policy: a concurrency limit and per-caller rules.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ThrottlePolicy {
    /// `MaximumConcurrentAccess` (only a value above 0 makes a limit).
    pub max_concurrent_access: Option<u32>,
    pub callers: Vec<CallerPolicy>,
}

/// Which caller attribute an entry is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallerKind {
    Ip,
    Domain,
    /// Role-based entries are read (APIM uses them) but the mediator never consults them.
    Role,
}

/// One `throttle:ID` entry and its control.
#[derive(Debug, Clone, PartialEq)]
pub struct CallerPolicy {
    pub kind: CallerKind,
    /// The ID as written, trimmed (an IP, a range, a domain, `other`).
    pub id: String,
    pub access: CallerAccess,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerAccess {
    Allow,
    Deny,
    /// At most `max_count` messages per `unit_time_ms`; after that, none until the window ends or
    /// `prohibit_ms` (when above 0) has passed.
    Control {
        max_count: u32,
        unit_time_ms: u64,
        prohibit_ms: u64,
    },
}

/// Why a throttle policy cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThrottlePolicyError {
    #[error("the policy is not XML: {0}")]
    NotXml(String),
    #[error("the throttle assertion is empty")]
    Empty,
    #[error("throttle:ID needs throttle:type IP, DOMAIN or ROLE, not {0:?}")]
    UnsupportedType(String),
    #[error("throttle:ID is empty")]
    EmptyId,
    #[error("caller {0}: no Allow, Deny or Control (an ID and a control are mandatory)")]
    NoControl(String),
    #[error("caller {id}: {what}")]
    InvalidControl { id: String, what: String },
    #[error("unexpected policy element <{0}>")]
    Unexpected(String),
    #[error("cannot resolve {value:?}: {why}")]
    Unresolved { value: String, why: String },
}

type PolicyResult<T> = std::result::Result<T, ThrottlePolicyError>;

/// How a policy value is resolved (`$SYSTEM:` / `$FILE:` injection, or as written).
pub type Resolve<'r> = &'r dyn Fn(&str) -> std::result::Result<String, String>;

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Throttle> {
    let id = match ctx.attr(node, "id").map(str::trim) {
        Some(id) if !id.is_empty() => id.to_string(),
        // ThrottleMediatorFactory: "Idy attribute must have defined".
        _ => return Err(ctx.missing(node, "attribute 'id'", "the throttle group id")),
    };
    let mut policy = None;
    let mut inline_accept = None;
    let mut inline_reject = None;
    for child in element_children(node) {
        if is_synapse_named(child, "policy") {
            // The first <policy> counts (getFirstChildWithName).
            if policy.is_none() {
                policy = parse_policy_element(ctx, child)?;
            }
        } else if is_synapse_named(child, "onAccept") {
            if inline_accept.is_none() {
                inline_accept = Some(parse_mediator_list(ctx, child)?);
            }
        } else if is_synapse_named(child, "onReject") {
            if inline_reject.is_none() {
                inline_reject = Some(parse_mediator_list(ctx, child)?);
            }
        } else {
            return Err(ctx.unknown(child, node, "policy, onAccept or onReject"));
        }
    }
    let branch = |name: &str, inline: Option<Vec<Mediator>>| match ctx.attr(node, name) {
        Some(key) => Some(ThrottleBranch::Key(
            key.trim().to_string(),
            ctx.attr_span(node, name),
        )),
        None => inline.map(ThrottleBranch::Inline),
    };
    Ok(Throttle {
        id,
        policy,
        on_accept: branch("onAccept", inline_accept),
        on_reject: branch("onReject", inline_reject),
        span: ctx.span(node),
    })
}

fn parse_policy_element(ctx: &Ctx, node: Node) -> Result<Option<ThrottlePolicySource>> {
    if let Some(key) = ctx.attr(node, "key") {
        if key.is_empty() {
            return Err(ctx.invalid_attr(
                node,
                "key",
                key,
                "a policy key (\"key attribute should have a value\")",
            ));
        }
        return Ok(Some(ThrottlePolicySource::Key(
            key.to_string(),
            ctx.attr_span(node, "key"),
        )));
    }
    let Some(inline) = node.children().find(|c| c.is_element()) else {
        return Ok(None);
    };
    let resolve = |value: &str| {
        ctx.inject(inline, "a throttle policy value", value, ctx.span(inline))
            .map(|v| v.into_owned())
            .map_err(|e| e.to_string())
    };
    match parse_policy(inline, &resolve) {
        Ok(Some(p)) => Ok(Some(ThrottlePolicySource::Inline(p))),
        Ok(None) => Ok(Some(ThrottlePolicySource::NoAssertion(ctx.span(inline)))),
        Err(e) => Err(ctx.invalid(inline, format!("throttle policy: {e}"))),
    }
}

/// A policy held as text (a local entry or registry resource); None without a throttle
/// assertion (see [`ThrottlePolicySource::NoAssertion`]).
pub fn parse_policy_text(text: &str) -> PolicyResult<Option<ThrottlePolicy>> {
    let doc =
        roxmltree::Document::parse(text).map_err(|e| ThrottlePolicyError::NotXml(e.to_string()))?;
    parse_policy(doc.root_element(), &|v| Ok(v.to_string()))
}

/// The policy of a `wsp:Policy` element (or of the assertion element itself); None when it
/// holds no throttle assertion in the throttle namespace.
pub fn parse_policy(node: Node, resolve: Resolve) -> PolicyResult<Option<ThrottlePolicy>> {
    let Some(assertion) = node.descendants().find(|n| {
        in_throttle_ns(*n)
            && matches!(
                n.tag_name().name(),
                "MediatorThrottleAssertion" | "ThrottleAssertion"
            )
    }) else {
        return Ok(None);
    };
    let legacy = assertion.tag_name().name() == "ThrottleAssertion";
    let mut policy = ThrottlePolicy::default();
    let mut components = 0;
    for child in assertion.children().filter(|c| c.is_element()) {
        components += 1;
        let name = child.tag_name().name();
        if in_throttle_ns(child) && name == "MaximumConcurrentAccess" {
            // ThrottleFactory: a value that is not a number above 0 makes no controller.
            policy.max_concurrent_access = value_of(child, resolve)?
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|v| *v > 0)
                .map(|v| u32::try_from(v).unwrap_or(u32::MAX));
        } else if is_wsp(child, "Policy") && !legacy {
            policy.callers.push(caller(child, resolve, false)?);
        } else if is_wsp(child, "All") && legacy {
            policy.callers.push(caller(child, resolve, true)?);
        } else {
            return Err(ThrottlePolicyError::Unexpected(name.to_string()));
        }
    }
    if components == 0 {
        return Err(ThrottlePolicyError::Empty);
    }
    Ok(Some(policy))
}

/// One caller entry: `<wsp:Policy><throttle:ID/><wsp:Policy><throttle:Control|Allow|Deny/>...`
/// (buildThrottle) or the legacy `<wsp:All><throttle:ID/><wsp:ExactlyOne>...` (processPolicy).
fn caller(node: Node, resolve: Resolve, legacy: bool) -> PolicyResult<CallerPolicy> {
    let mut id = None;
    let mut access = None;
    for child in node.children().filter(|c| c.is_element()) {
        if in_throttle_ns(child) && child.tag_name().name() == "ID" {
            let kind = match child
                .attributes()
                .find(|a| a.name() == "type")
                .map(|a| a.value())
            {
                Some("IP") => CallerKind::Ip,
                Some("DOMAIN") => CallerKind::Domain,
                Some("ROLE") if !legacy => CallerKind::Role,
                other => {
                    return Err(ThrottlePolicyError::UnsupportedType(
                        other.unwrap_or_default().to_string(),
                    ));
                }
            };
            let text = child.text().unwrap_or_default().trim().to_string();
            if text.is_empty() {
                return Err(ThrottlePolicyError::EmptyId);
            }
            id = Some((kind, text));
        } else if !legacy && is_wsp(child, "Policy") {
            access = access_of(child, resolve, id_text(&id))?.or(access);
        } else if legacy && is_wsp(child, "ExactlyOne") {
            access = legacy_access(child, resolve, id_text(&id))?.or(access);
        }
    }
    match (id, access) {
        (Some((kind, id)), Some(access)) => Ok(CallerPolicy { kind, id, access }),
        (Some((_, id)), None) => Err(ThrottlePolicyError::NoControl(id)),
        (None, _) => Err(ThrottlePolicyError::EmptyId),
    }
}

fn id_text(id: &Option<(CallerKind, String)>) -> &str {
    id.as_ref().map_or("?", |(_, id)| id.as_str())
}

/// fillCallerConfiguration: `Allow`, `Deny` or `Control` (the last one written wins, as there).
fn access_of(node: Node, resolve: Resolve, id: &str) -> PolicyResult<Option<CallerAccess>> {
    let mut access = None;
    for child in node.children().filter(|c| c.is_element()) {
        match child.tag_name().name() {
            "Allow" => access = Some(CallerAccess::Allow),
            "Deny" => access = Some(CallerAccess::Deny),
            "Control" => {
                let values = child
                    .children()
                    .filter(|c| is_wsp(*c, "Policy"))
                    .flat_map(|p| p.children().filter(|c| c.is_element()));
                access = Some(control(values, resolve, id)?);
            }
            other => return Err(ThrottlePolicyError::Unexpected(other.to_string())),
        }
    }
    Ok(access)
}

/// processPolicy's `wsp:ExactlyOne`: its first component decides, a `wsp:All` of control
/// values or `throttle:IsAllow` true/false.
fn legacy_access(node: Node, resolve: Resolve, id: &str) -> PolicyResult<Option<CallerAccess>> {
    let Some(first) = node.children().find(|c| c.is_element()) else {
        return Ok(None);
    };
    if is_wsp(first, "All") {
        return control(first.children().filter(|c| c.is_element()), resolve, id).map(Some);
    }
    match (first.tag_name().name(), value_of(first, resolve)?.trim()) {
        ("IsAllow", "true") => Ok(Some(CallerAccess::Allow)),
        ("IsAllow", "false") => Ok(Some(CallerAccess::Deny)),
        ("IsAllow", other) => Err(ThrottlePolicyError::InvalidControl {
            id: id.to_string(),
            what: format!("IsAllow must be true or false, not {other:?}"),
        }),
        (other, _) => Err(ThrottlePolicyError::Unexpected(other.to_string())),
    }
}

/// fillControlConfiguration: `MaximumCount`, `UnitTime`, `ProhibitTimePeriod`.
fn control<'a, 'i: 'a>(
    values: impl Iterator<Item = Node<'a, 'i>>,
    resolve: Resolve,
    id: &str,
) -> PolicyResult<CallerAccess> {
    let invalid = |what: String| ThrottlePolicyError::InvalidControl {
        id: id.to_string(),
        what,
    };
    let mut max_count: Option<Option<u32>> = None;
    let mut unit_time = None;
    let mut prohibit = 0;
    for node in values {
        let name = node.tag_name().name();
        let value = value_of(node, resolve)?;
        let value = value.trim();
        if value.is_empty() {
            if name == "ProhibitTimePeriod" {
                continue;
            }
            return Err(invalid(format!("{name} has no value")));
        }
        match name {
            // Not a number: MI logs it and lets every message through (ACCESS_ALLOWED).
            "MaximumCount" => max_count = Some(value.parse::<u32>().ok()),
            "UnitTime" => match value.parse::<u64>() {
                Ok(ms) if ms > 0 => unit_time = Some(ms),
                _ => {
                    return Err(invalid(format!(
                        "UnitTime must be a number of milliseconds above 0, not {value:?}"
                    )));
                }
            },
            "ProhibitTimePeriod" => prohibit = value.parse::<u64>().unwrap_or(0),
            other => return Err(ThrottlePolicyError::Unexpected(other.to_string())),
        }
    }
    let Some(unit_time_ms) = unit_time else {
        return Err(invalid("Maximum Count and UnitTime are mandatory".into()));
    };
    Ok(match max_count {
        Some(None) => CallerAccess::Allow,
        // A missing MaximumCount is 0: nothing is let through (CallerContext: maxRequest 0).
        Some(Some(max_count)) => CallerAccess::Control {
            max_count,
            unit_time_ms,
            prohibit_ms: prohibit,
        },
        None => CallerAccess::Control {
            max_count: 0,
            unit_time_ms,
            prohibit_ms: prohibit,
        },
    })
}

fn value_of(node: Node, resolve: Resolve) -> PolicyResult<String> {
    let text: String = node
        .children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect();
    resolve(text.trim()).map_err(|why| ThrottlePolicyError::Unresolved {
        value: text.trim().to_string(),
        why,
    })
}

fn in_throttle_ns(node: Node) -> bool {
    node.is_element() && node.tag_name().namespace() == Some(THROTTLE_NS)
}

/// A WS-Policy element (either namespace version; MI's samples use the 2004/09 one).
fn is_wsp(node: Node, local: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == local
        && matches!(
            node.tag_name().namespace(),
            Some("http://schemas.xmlsoap.org/ws/2004/09/policy" | "http://www.w3.org/ns/ws-policy")
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::test_support::*;

    fn throttle(body: &str) -> Throttle {
        match parse_one(body) {
            Mediator::Throttle(t) => t,
            other => panic!("expected throttle, got {other:?}"),
        }
    }

    const WSP: &str = r#"xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy" xmlns:throttle="http://www.wso2.org/products/wso2commons/throttle""#;

    // MI test artifact registry/config/policy/throttle_policy.xml (SpecifyThrottlingPolicyAsRegistryKeyTest).
    fn mediator_policy() -> String {
        format!(
            r#"<wsp:Policy {WSP}><throttle:MediatorThrottleAssertion>
                 <throttle:MaximumConcurrentAccess>10</throttle:MaximumConcurrentAccess>
                 <wsp:Policy><throttle:ID throttle:type="IP">other</throttle:ID>
                   <wsp:Policy><throttle:Control><wsp:Policy>
                     <throttle:MaximumCount>4</throttle:MaximumCount>
                     <throttle:UnitTime>800000</throttle:UnitTime>
                     <throttle:ProhibitTimePeriod wsp:Optional="true">1000
                     </throttle:ProhibitTimePeriod>
                   </wsp:Policy></throttle:Control></wsp:Policy></wsp:Policy>
                 <wsp:Policy><throttle:ID throttle:type="IP">10.100.1.160 - 10.100.1.165</throttle:ID>
                   <wsp:Policy><throttle:Deny/></wsp:Policy></wsp:Policy>
                 <wsp:Policy><throttle:ID throttle:type="DOMAIN">*.wso2.com</throttle:ID>
                   <wsp:Policy><throttle:Allow/></wsp:Policy></wsp:Policy>
               </throttle:MediatorThrottleAssertion></wsp:Policy>"#
        )
    }

    #[test]
    fn inline_mediator_policy_and_branches() {
        let t = throttle(&format!(
            r#"<throttle id=" A "><policy>{}</policy><onAccept><log/></onAccept><onReject><drop/></onReject></throttle>"#,
            mediator_policy()
        ));
        assert_eq!(t.id, "A");
        let Some(ThrottlePolicySource::Inline(p)) = t.policy else {
            panic!("{:?}", t.policy)
        };
        assert_eq!(p.max_concurrent_access, Some(10));
        assert_eq!(
            p.callers,
            vec![
                CallerPolicy {
                    kind: CallerKind::Ip,
                    id: "other".into(),
                    access: CallerAccess::Control {
                        max_count: 4,
                        unit_time_ms: 800_000,
                        prohibit_ms: 1000
                    }
                },
                CallerPolicy {
                    kind: CallerKind::Ip,
                    id: "10.100.1.160 - 10.100.1.165".into(),
                    access: CallerAccess::Deny
                },
                CallerPolicy {
                    kind: CallerKind::Domain,
                    id: "*.wso2.com".into(),
                    access: CallerAccess::Allow
                },
            ]
        );
        assert!(matches!(t.on_accept, Some(ThrottleBranch::Inline(ref l)) if l.len() == 1));
        assert!(matches!(t.on_reject, Some(ThrottleBranch::Inline(ref l)) if l.len() == 1));
    }

    // MI test proxy throttlingMaxConcurrentAccessProxy: the legacy ThrottleAssertion; keys win
    // over inline branches; `<throttle id="A"/>` alone (the out-sequence idiom) has no policy.
    #[test]
    fn legacy_assertion_keys_and_the_bare_form() {
        let t = throttle(&format!(
            r#"<throttle id="A" onAccept="acc" onReject="rej"><policy><wsp:Policy {WSP}><throttle:ThrottleAssertion>
                 <throttle:MaximumConcurrentAccess>100</throttle:MaximumConcurrentAccess>
                 <wsp:All><throttle:ID throttle:type="IP">other</throttle:ID>
                   <wsp:ExactlyOne><wsp:All><throttle:MaximumCount>2</throttle:MaximumCount><throttle:UnitTime>1000</throttle:UnitTime></wsp:All>
                   <throttle:IsAllow>false</throttle:IsAllow></wsp:ExactlyOne></wsp:All>
               </throttle:ThrottleAssertion></wsp:Policy></policy><onAccept><log/></onAccept></throttle>"#
        ));
        let Some(ThrottlePolicySource::Inline(p)) = &t.policy else {
            panic!()
        };
        assert_eq!(p.max_concurrent_access, Some(100));
        assert_eq!(
            p.callers[0].access,
            CallerAccess::Control {
                max_count: 2,
                unit_time_ms: 1000,
                prohibit_ms: 0
            }
        );
        assert!(matches!(t.on_accept, Some(ThrottleBranch::Key(ref k, _)) if k == "acc"));
        assert!(matches!(t.on_reject, Some(ThrottleBranch::Key(ref k, _)) if k == "rej"));
        let t = throttle(r#"<throttle id="A"/>"#);
        assert_eq!((t.policy, t.on_accept, t.on_reject), (None, None, None));
        let t = throttle(r#"<throttle id="A"><policy key="conf:/policy/p.xml"/></throttle>"#);
        assert!(
            matches!(t.policy, Some(ThrottlePolicySource::Key(ref k, _)) if k == "conf:/policy/p.xml")
        );
    }

    #[test]
    fn policy_values() {
        let control = |values: &str| {
            parse_policy_text(&format!(
                r#"<wsp:Policy {WSP}><throttle:MediatorThrottleAssertion><wsp:Policy><throttle:ID throttle:type="IP">other</throttle:ID>
                   <wsp:Policy><throttle:Control><wsp:Policy>{values}</wsp:Policy></throttle:Control></wsp:Policy></wsp:Policy>
                   </throttle:MediatorThrottleAssertion></wsp:Policy>"#
            ))
            .map(|p| p.unwrap().callers[0].access)
        };
        // A MaximumCount that is not a number lets everything through.
        assert_eq!(
            control(
                "<throttle:MaximumCount>x</throttle:MaximumCount><throttle:UnitTime>5</throttle:UnitTime>"
            ),
            Ok(CallerAccess::Allow)
        );
        // No MaximumCount: 0, nothing passes.
        assert_eq!(
            control(
                "<throttle:UnitTime>5</throttle:UnitTime><throttle:ProhibitTimePeriod>y</throttle:ProhibitTimePeriod>"
            ),
            Ok(CallerAccess::Control {
                max_count: 0,
                unit_time_ms: 5,
                prohibit_ms: 0
            })
        );
        for bad in [
            "<throttle:MaximumCount>1</throttle:MaximumCount>",
            "<throttle:MaximumCount>1</throttle:MaximumCount><throttle:UnitTime>0</throttle:UnitTime>",
            "<throttle:MaximumCount>1</throttle:MaximumCount><throttle:UnitTime>x</throttle:UnitTime>",
        ] {
            assert!(
                matches!(
                    control(bad),
                    Err(ThrottlePolicyError::InvalidControl { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            control("<throttle:Other>1</throttle:Other>"),
            Err(ThrottlePolicyError::Unexpected("Other".into()))
        );
        // Concurrency: only a number above 0 limits.
        let concurrency = |v: &str| {
            parse_policy_text(&format!(
                r#"<wsp:Policy {WSP}><throttle:MediatorThrottleAssertion><throttle:MaximumConcurrentAccess>{v}</throttle:MaximumConcurrentAccess></throttle:MediatorThrottleAssertion></wsp:Policy>"#
            ))
            .unwrap()
            .unwrap()
            .max_concurrent_access
        };
        assert_eq!(concurrency("3"), Some(3));
        assert_eq!(concurrency("0"), None);
        assert_eq!(concurrency("x"), None);
    }

    #[test]
    fn factory_errors() {
        assert!(parse_err(r#"<throttle><policy key="p"/></throttle>"#).contains("attribute 'id'"));
        assert!(parse_err(r#"<throttle id="A"><policy key=""/></throttle>"#).contains("key"));
        assert!(
            parse_err(r#"<throttle id="A"><foo/></throttle>"#).contains("unknown element <foo>")
        );
        let e = parse_err(&format!(
            r#"<throttle id="A"><policy><wsp:Policy {WSP}><throttle:MediatorThrottleAssertion><wsp:Policy><throttle:ID throttle:type="USER">x</throttle:ID></wsp:Policy></throttle:MediatorThrottleAssertion></wsp:Policy></policy></throttle>"#
        ));
        assert!(
            e.contains("throttle policy: throttle:ID needs throttle:type IP, DOMAIN or ROLE"),
            "{e}"
        );
        assert_eq!(parse_policy_text("<a/>"), Ok(None));
        // MI test artifact invalidThrottlingPolicyTestProxy: another namespace is no policy.
        let t = throttle(
            r#"<throttle id="A"><policy><wsp:Policy xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy" xmlns:throttle="http://www.wso2.org/products/google/throttle"><throttle:MediatorThrottleAssertion/></wsp:Policy></policy></throttle>"#,
        );
        assert!(matches!(
            t.policy,
            Some(ThrottlePolicySource::NoAssertion(_))
        ));
        assert!(matches!(
            parse_policy_text("<a"),
            Err(ThrottlePolicyError::NotXml(_))
        ));
    }
}
