//! `<cache collector="true|false">`: MI 4.x's cache mediator as MI's `CacheMediatorFactory`
//! (micro-integrator `components/mediation/mediators/cache-mediator`) reads it. A finder
//! (`collector="false"`) takes `timeout` (seconds, default 5000), `maxMessageSize`, `id`,
//! `hashGenerator`, `<protocol type="HTTP">` with `<methods>`, `<headersToIncludeInHash>`,
//! `<headersToExcludeInHash>`, `<responseCodes>`, `<hashGenerator>`, `<enableCacheControl>`,
//! `<includeAgeHeader>`, then `<onCacheHit [sequence]>` and `<implementation maxSize>`; a collector
//! reads nothing else (the factory ignores its other attributes and children).

use roxmltree::Node;

use crate::mediators::{Mediator, parse_mediator_list};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named, text_of};

/// CachingConstants.DEFAULT_TIMEOUT: seconds an entry lives after it was created.
pub const DEFAULT_CACHE_TIMEOUT_SECS: u64 = 5000;

/// The digest generators MI ships (`org.wso2.carbon.mediator.cache.digest`); any other class is a
/// Java plug-in.
const HTTP_REQUEST_HASH_GENERATOR: &str =
    "org.wso2.carbon.mediator.cache.digest.HttpRequestHashGenerator";
const REQUEST_HASH_GENERATOR: &str = "org.wso2.carbon.mediator.cache.digest.REQUESTHASHGenerator";
const DOM_HASH_GENERATOR: &str = "org.wso2.carbon.mediator.cache.digest.DOMHASHGenerator";

/// The methods `<methods>` may list (CacheMediatorFactory's check), `*` for all.
const CACHEABLE_METHODS: &[&str] = &[
    "POST", "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "*",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Cache {
    /// `collector="true"`: stores the response the finder of the same request asked for.
    pub collector: bool,
    /// The finder's settings; `None` for a collector.
    pub finder: Option<CacheFinder>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CacheFinder {
    /// Seconds an entry lives after it was created (Guava `expireAfterWrite`).
    pub timeout_secs: u64,
    /// Largest response (bytes) stored; `None` for MI's -1 (no bound of its own).
    pub max_message_size: Option<u64>,
    /// `<implementation maxSize>`: most entries kept; `None` for MI's -1 (no bound of its own).
    pub max_size: Option<u64>,
    pub hash: HashGenerator,
    /// `<protocol type>` upper-cased; `HTTP` unless set.
    pub protocol: String,
    /// `<methods>` (upper-case) whose responses are stored; `["*"]` for all.
    pub methods: Vec<String>,
    /// `<headersToIncludeInHash>`: only these headers are hashed (`*` or empty: see exclude).
    pub include_headers: Vec<String>,
    /// `<headersToExcludeInHash>`: these are not hashed (`*`: no header is).
    pub exclude_headers: Vec<String>,
    /// `<responseCodes>`: a Java regex the whole status code must match (`.*` unless set).
    pub response_codes: String,
    pub response_codes_span: Span,
    pub cache_control: bool,
    pub age_header: bool,
    pub on_cache_hit: Option<OnCacheHit>,
}

/// What builds the request hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashGenerator {
    /// `HttpRequestHashGenerator` (the default) and `REQUESTHASHGenerator`: the To address, the
    /// selected headers and, except for a REST GET/DELETE/HEAD, the payload.
    Request,
    /// `DOMHASHGenerator`: the payload only.
    Payload,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OnCacheHit {
    Inline(Vec<Mediator>),
    Sequence(String, Span),
}

pub(crate) fn parse(ctx: &Ctx, node: Node) -> Result<Cache> {
    let span = ctx.span(node);
    // CacheMediatorFactory compares with "true"/"false" exactly.
    let collector = match ctx.attr(node, "collector") {
        None => {
            return Err(ctx.missing(node, "attribute 'collector'", "true or false"));
        }
        Some("true") => true,
        Some("false") => false,
        Some(other) => return Err(ctx.invalid_attr(node, "collector", other, "true or false")),
    };
    if collector {
        return Ok(Cache {
            collector,
            finder: None,
            span,
        });
    }
    let timeout_secs = match ctx.attr(node, "timeout") {
        None => DEFAULT_CACHE_TIMEOUT_SECS,
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map_err(|_| ctx.invalid_attr(node, "timeout", v, "a number of seconds"))?,
    };
    let max_message_size = unbounded_or(ctx, node, "maxMessageSize", None)?;
    let mut hash = match ctx.attr(node, "hashGenerator") {
        Some(class) => hash_generator(ctx, node, class)?,
        None => HashGenerator::Request,
    };
    let mut finder = CacheFinder {
        timeout_secs,
        max_message_size,
        max_size: None,
        hash,
        protocol: "HTTP".into(),
        methods: vec!["*".into()],
        include_headers: Vec::new(),
        exclude_headers: Vec::new(),
        response_codes: ".*".into(),
        response_codes_span: span.clone(),
        cache_control: false,
        age_header: false,
        on_cache_hit: None,
    };
    let mut seen_protocol = false;
    for child in element_children(node) {
        if is_synapse_named(child, "protocol") && !seen_protocol {
            seen_protocol = true;
            if let Some(kind) = ctx.attr(child, "type") {
                finder.protocol = kind.trim().to_uppercase();
                // With a <protocol>, the class named inside it replaces the attribute's.
                hash = HashGenerator::Request;
                if let Some(g) = first_named(child, "hashGenerator") {
                    let class = text_of(g);
                    if !class.trim().is_empty() {
                        hash = hash_generator(ctx, g, class.trim())?;
                    }
                }
                if finder.protocol == "HTTP" {
                    http_protocol(ctx, child, &mut finder)?;
                }
            }
        } else if is_synapse_named(child, "onCacheHit") && finder.on_cache_hit.is_none() {
            finder.on_cache_hit = match ctx.attr(child, "sequence") {
                Some(name) => Some(OnCacheHit::Sequence(
                    name.to_string(),
                    ctx.attr_span(child, "sequence"),
                )),
                None if element_children(child).next().is_some() => {
                    Some(OnCacheHit::Inline(parse_mediator_list(ctx, child)?))
                }
                None => None,
            };
        } else if is_synapse_named(child, "implementation") {
            finder.max_size = unbounded_or(ctx, child, "maxSize", None)?;
        } else {
            return Err(ctx.unknown(child, node, "protocol, onCacheHit or implementation"));
        }
    }
    finder.hash = hash;
    Ok(Cache {
        collector,
        finder: Some(finder),
        span,
    })
}

/// The children of `<protocol type="HTTP">`.
fn http_protocol(ctx: &Ctx, protocol: Node, finder: &mut CacheFinder) -> Result<()> {
    for child in element_children(protocol) {
        let known = [
            "methods",
            "headersToIncludeInHash",
            "headersToExcludeInHash",
            "responseCodes",
            "hashGenerator",
            "enableCacheControl",
            "includeAgeHeader",
        ];
        if !known.iter().any(|n| is_synapse_named(child, n)) {
            return Err(ctx.unknown(child, protocol, &known.join(", ")));
        }
    }
    if let Some(m) = first_named(protocol, "methods") {
        let text = text_of(m);
        let methods: Vec<String> = text.split(',').map(|s| s.trim().to_uppercase()).collect();
        if !methods[0].is_empty() {
            if let Some(bad) = methods
                .iter()
                .find(|m| !CACHEABLE_METHODS.contains(&m.as_str()))
            {
                return Err(ctx.invalid_text(m, bad, "an HTTP method or *"));
            }
            finder.methods = methods;
        }
    }
    finder.include_headers = header_list(first_named(protocol, "headersToIncludeInHash"));
    finder.exclude_headers = header_list(first_named(protocol, "headersToExcludeInHash"));
    if let Some(codes) = first_named(protocol, "responseCodes") {
        let text = text_of(codes);
        if !text.is_empty() {
            finder.response_codes = text;
            finder.response_codes_span = ctx.span(codes);
        }
    }
    if let Some(e) = first_named(protocol, "enableCacheControl") {
        let text = text_of(e);
        if !text.is_empty() {
            finder.cache_control = text.trim().eq_ignore_ascii_case("true");
        }
    }
    match first_named(protocol, "includeAgeHeader") {
        Some(e) => {
            let text = text_of(e);
            if !text.is_empty() {
                finder.age_header = text.trim().eq_ignore_ascii_case("true");
            }
        }
        // CacheMediatorFactory: without <includeAgeHeader> it sets cacheControlEnabled (not the
        // age flag) to DEFAULT_ADD_AGE_HEADER, false: cache control then stays off.
        None => finder.cache_control = false,
    }
    Ok(())
}

/// A comma-separated header list, trimmed; empty when absent or blank.
fn header_list(node: Option<Node>) -> Vec<String> {
    let Some(node) = node else {
        return Vec::new();
    };
    text_of(node)
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn first_named<'a, 'i>(node: Node<'a, 'i>, local: &str) -> Option<Node<'a, 'i>> {
    element_children(node).find(|c| is_synapse_named(*c, local))
}

fn hash_generator(ctx: &Ctx, node: Node, class: &str) -> Result<HashGenerator> {
    match class.trim() {
        HTTP_REQUEST_HASH_GENERATOR | REQUEST_HASH_GENERATOR => Ok(HashGenerator::Request),
        DOM_HASH_GENERATOR => Ok(HashGenerator::Payload),
        other => Err(ctx.unsupported(
            node,
            format!("hash generator class {other}"),
            "needs a Java plug-in; use org.wso2.carbon.mediator.cache.digest.HttpRequestHashGenerator",
        )),
    }
}

/// An integer attribute where a negative value (MI's -1) means "no bound"; `default` when absent.
fn unbounded_or(ctx: &Ctx, node: Node, name: &str, default: Option<u64>) -> Result<Option<u64>> {
    match ctx.attr(node, name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n < 0 => Ok(None),
            Ok(n) => Ok(Some(n as u64)),
            Err(_) => Err(ctx.invalid_attr(node, name, v, "a whole number")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::test_support::*;

    fn finder(body: &str) -> CacheFinder {
        match parse_one(body) {
            Mediator::Cache(Cache {
                finder: Some(f), ..
            }) => f,
            other => panic!("{other:?}"),
        }
    }

    // The corpus's max_age_api.xml form (MI CacheControlHeadersTestCase).
    #[test]
    fn the_mi4_form() {
        let f = finder(
            r#"<cache collector="false" maxMessageSize="10000" timeout="120">
                 <protocol type="http">
                   <methods>POST, get</methods>
                   <headersToExcludeInHash/>
                   <headersToIncludeInHash> a , b </headersToIncludeInHash>
                   <responseCodes>2[0-9][0-9]</responseCodes>
                   <hashGenerator>org.wso2.carbon.mediator.cache.digest.HttpRequestHashGenerator</hashGenerator>
                   <enableCacheControl>true</enableCacheControl>
                   <includeAgeHeader>true</includeAgeHeader>
                 </protocol>
                 <onCacheHit><respond/></onCacheHit>
                 <implementation maxSize="2"/>
               </cache>"#,
        );
        assert_eq!(f.timeout_secs, 120);
        assert_eq!(f.max_message_size, Some(10000));
        assert_eq!(f.max_size, Some(2));
        assert_eq!(f.protocol, "HTTP");
        assert_eq!(f.methods, ["POST", "GET"]);
        assert_eq!(f.include_headers, ["a", "b"]);
        assert!(f.exclude_headers.is_empty());
        assert_eq!(f.response_codes, "2[0-9][0-9]");
        assert!(f.cache_control && f.age_header);
        assert_eq!(f.hash, HashGenerator::Request);
        assert!(matches!(f.on_cache_hit, Some(OnCacheHit::Inline(ref l)) if l.len() == 1));
    }

    #[test]
    fn defaults_and_the_legacy_form() {
        let f = finder(
            r#"<cache collector="false" hashGenerator="org.wso2.carbon.mediator.cache.digest.DOMHASHGenerator" scope="per-host">
                 <onCacheHit sequence="hit"/><implementation type="memory" maxSize="-1"/></cache>"#,
        );
        assert_eq!(f.timeout_secs, DEFAULT_CACHE_TIMEOUT_SECS);
        assert_eq!((f.max_message_size, f.max_size), (None, None));
        assert_eq!(f.hash, HashGenerator::Payload);
        assert_eq!(f.methods, ["*"]);
        assert_eq!(f.response_codes, ".*");
        assert!(matches!(f.on_cache_hit, Some(OnCacheHit::Sequence(ref s, _)) if s == "hit"));
        // CacheMediatorFactory: enableCacheControl without includeAgeHeader stays off.
        let f = finder(
            r#"<cache collector="false"><protocol type="HTTP"><enableCacheControl>true</enableCacheControl></protocol></cache>"#,
        );
        assert!(!f.cache_control);
        // A collector reads nothing else.
        assert!(matches!(
            parse_one(r#"<cache id="x" scope="per-host" collector="true"><foo/></cache>"#),
            Mediator::Cache(Cache {
                collector: true,
                finder: None,
                ..
            })
        ));
    }

    #[test]
    fn errors() {
        assert!(parse_err("<cache/>").contains("<cache> requires attribute 'collector'"));
        assert!(parse_err(r#"<cache collector="yes"/>"#).contains("invalid value \"yes\""));
        assert!(parse_err(r#"<cache collector="false" timeout="x"/>"#).contains("'timeout'"));
        assert!(
            parse_err(
                r#"<cache collector="false"><protocol type="HTTP"><methods>FETCH</methods></protocol></cache>"#
            )
            .contains("invalid value \"FETCH\"")
        );
        assert!(
            parse_err(r#"<cache collector="false" hashGenerator="com.acme.Gen"/>"#)
                .starts_with("unsupported hash generator class com.acme.Gen (needs a Java plug-in")
        );
        assert!(
            parse_err(r#"<cache collector="false"><log/></cache>"#)
                .starts_with("unknown element <log> in <cache>")
        );
    }
}
