//! `<cache>`: MI 4.x's response cache (micro-integrator `mediators/cache/CacheMediator.java`,
//! `digest/HttpRequestHashGenerator.java`, `util/HttpCachingFilter.java`).
//!
//! - The **finder** (`collector="false"`, request flow) hashes the request, looks the hash up and,
//!   as Guava's loading cache does, creates an empty entry when there is none (it counts toward
//!   `maxSize`, and its `timeout` runs from then). A filled entry is a hit: the message becomes the
//!   cached response (status, headers, payload) and `<onCacheHit>` runs, or the response goes
//!   straight back; mediation after the cache mediator does not run. A miss continues, carrying a
//!   ticket to the entry (MI's `CachableResponse` property).
//! - The **collector** (`collector="true"`, response flow) fills the entry of the ticket when the
//!   status matches `responseCodes` (whole match), the request method is one of `methods`, and
//!   the payload is within `maxMessageSize`.
//! - With `enableCacheControl` (and `includeAgeHeader` present, see the artifact parser), a cached
//!   `Cache-Control: max-age` older than its age, or `no-cache` with an `ETag` (then sent as
//!   `If-None-Match`), goes to the backend again; a 304 answer serves the cached response; a
//!   `no-store` response is not stored. `includeAgeHeader` adds `Age`.
//!
//! Memory is bounded: at most [`MAX_CACHE_ENTRIES`] entries (or `maxSize`, if smaller) and
//! [`MAX_CACHE_BYTES`] of stored responses per finder, least recently used evicted first; one
//! response over [`MAX_CACHED_RESPONSE_BYTES`] is not stored.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderValue, StatusCode};

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope, props};
use crate::runtime::engine::{Ended, Engine, Fault, Route, Step, response_from};
use crate::runtime::mediators::Mediator;
use crate::runtime::payload::{Payload, body_element, parse_document};

/// Most entries one finder keeps when `<implementation maxSize>` is absent, -1, or larger (MI
/// keeps any number).
pub const MAX_CACHE_ENTRIES: usize = 10_000;

/// Most bytes of stored responses (payload and headers) one finder keeps.
pub const MAX_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// The largest single response stored, whatever `maxMessageSize` says (MI: unbounded at -1).
pub const MAX_CACHED_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// The correlation header MI never hashes (PassThroughConfiguration's default
/// `correlation_header_name`, CachingConstants.PERMANENTLY_EXCLUDED_HEADERS).
const CORRELATION_HEADER: &str = "activity_id";

/// The default-scope property MI sets to the request hash (CachingConstants.REQUEST_HASH).
pub const REQUEST_HASH_PROPERTY: &str = "requestHash";

/// A response as the collector stored it.
#[derive(Debug)]
pub struct CachedResponse {
    status: StatusCode,
    headers: HeaderMap,
    payload: Option<Payload>,
    /// When it was stored (MI: the response's fetched time, for `max-age` and `Age`).
    stored: Instant,
    bytes: usize,
}

/// What the finder hands to the collector of the same message (MI: the `CachableResponse`
/// object in the message's properties).
#[derive(Debug, Clone)]
pub struct CacheTicket {
    store: Arc<CacheStore>,
    hash: [u8; 32],
    /// The entry's identity: a collector fills only the entry its finder created.
    entry: u64,
    method: http::Method,
    settings: Arc<FinderSettings>,
    /// The cached response a 304 answer stands for.
    revalidating: Option<Arc<CachedResponse>>,
}

#[derive(Debug)]
struct Slot {
    entry: u64,
    created: Instant,
    /// Recency for eviction: the `order` position that is current.
    touched: u64,
    response: Option<Arc<CachedResponse>>,
}

#[derive(Debug, Default)]
struct StoreInner {
    slots: HashMap<[u8; 32], Slot>,
    /// Keys by last use; an item whose `touched` is not the slot's is stale and skipped.
    order: VecDeque<([u8; 32], u64)>,
    bytes: usize,
    clock: u64,
}

/// One finder's entries (MI: the Guava cache of the mediator's id).
#[derive(Debug)]
pub struct CacheStore {
    inner: Mutex<StoreInner>,
    max_entries: usize,
    max_bytes: usize,
    timeout: Duration,
}

enum Lookup {
    Hit(Arc<CachedResponse>, u64),
    /// No filled entry: the empty one created (or found) for it.
    Miss(u64),
}

impl CacheStore {
    pub fn new(timeout: Duration, max_size: Option<u64>) -> CacheStore {
        let max_entries = max_size.map_or(MAX_CACHE_ENTRIES, |n| {
            usize::try_from(n)
                .unwrap_or(usize::MAX)
                .min(MAX_CACHE_ENTRIES)
        });
        CacheStore {
            inner: Mutex::new(StoreInner::default()),
            max_entries,
            max_bytes: MAX_CACHE_BYTES,
            timeout,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StoreInner> {
        // A panic while holding the lock leaves consistent data (every update is one step).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Guava's `LoadingCache.get`: the entry, or a new empty one (expired entries are gone).
    fn lookup(&self, hash: [u8; 32], now: Instant) -> Lookup {
        let mut inner = self.lock();
        inner.clock += 1;
        let clock = inner.clock;
        let expired = inner
            .slots
            .get(&hash)
            .is_some_and(|s| now.duration_since(s.created) >= self.timeout);
        if expired {
            remove(&mut inner, &hash);
        }
        if let Some(slot) = inner.slots.get_mut(&hash) {
            slot.touched = clock;
            let result = match &slot.response {
                Some(r) => Lookup::Hit(r.clone(), slot.entry),
                None => Lookup::Miss(slot.entry),
            };
            inner.order.push_back((hash, clock));
            compact(&mut inner);
            return result;
        }
        inner.slots.insert(
            hash,
            Slot {
                entry: clock,
                created: now,
                touched: clock,
                response: None,
            },
        );
        inner.order.push_back((hash, clock));
        evict(&mut inner, self.max_entries, self.max_bytes);
        compact(&mut inner);
        Lookup::Miss(clock)
    }

    /// Fills the entry `entry` of `hash` if it is still there.
    fn fill(&self, hash: [u8; 32], entry: u64, response: CachedResponse) {
        let mut inner = self.lock();
        let bytes = response.bytes;
        let Some(slot) = inner.slots.get_mut(&hash) else {
            return;
        };
        if slot.entry != entry {
            return;
        }
        let old = slot
            .response
            .replace(Arc::new(response))
            .map_or(0, |r| r.bytes);
        inner.bytes = inner.bytes - old + bytes;
        evict(&mut inner, self.max_entries, self.max_bytes);
    }

    /// Entries held (filled or not).
    pub fn len(&self) -> usize {
        self.lock().slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn remove(inner: &mut StoreInner, hash: &[u8; 32]) {
    if let Some(slot) = inner.slots.remove(hash) {
        inner.bytes -= slot.response.map_or(0, |r| r.bytes);
    }
}

/// Drops least recently used entries until both bounds hold.
fn evict(inner: &mut StoreInner, max_entries: usize, max_bytes: usize) {
    while inner.slots.len() > max_entries || inner.bytes > max_bytes {
        let Some((hash, touched)) = inner.order.pop_front() else {
            return;
        };
        if inner.slots.get(&hash).is_some_and(|s| s.touched == touched) {
            remove(inner, &hash);
        }
    }
}

/// Keeps the recency queue proportional to the entries (stale items are dropped).
fn compact(inner: &mut StoreInner) {
    if inner.order.len() > 2 * inner.slots.len() + 64 {
        let slots = &inner.slots;
        inner
            .order
            .retain(|(hash, touched)| slots.get(hash).is_some_and(|s| s.touched == *touched));
    }
}

/// What the hash is built from (HttpRequestHashGenerator, DOMHASHGenerator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashMode {
    Request,
    Payload,
}

/// A finder's settings.
#[derive(Debug)]
pub struct FinderSettings {
    pub hash: HashMode,
    pub http: bool,
    /// Upper-case methods, or `*`.
    pub methods: Vec<String>,
    /// Lower-case header names; `include` wins when set (`*` means all headers).
    pub include_headers: Vec<String>,
    pub exclude_headers: Vec<String>,
    /// Anchored: the whole status code must match (Java `Matcher.matches`).
    pub response_codes: regex::Regex,
    pub max_message_size: Option<u64>,
    pub cache_control: bool,
    pub age_header: bool,
}

/// Where a hit goes.
#[derive(Debug, Clone)]
pub enum OnHit {
    /// Straight back to the client.
    Respond,
    Inline(Vec<Mediator>),
    Sequence(String),
}

#[derive(Debug, Clone)]
pub enum Cache {
    Finder {
        store: Arc<CacheStore>,
        settings: Arc<FinderSettings>,
        on_hit: OnHit,
    },
    Collector,
}

/// What the engine does after the cache mediator.
pub enum CacheStep<'a> {
    Continue,
    /// A hit: the message is the cached response; answer it, or run these first.
    Hit(&'a OnHit),
}

impl Cache {
    pub fn needs_payload(&self) -> bool {
        true
    }

    pub fn step<B: MessageBody>(
        &self,
        ctx: &mut MessageContext<B>,
    ) -> Result<CacheStep<'_>, String> {
        match self {
            Cache::Finder {
                store,
                settings,
                on_hit,
            } => {
                if ctx.is_response {
                    return Err(
                        "Response messages cannot be handled in a non collector cache".into(),
                    );
                }
                find(store, settings, ctx).map(|hit| {
                    if hit {
                        CacheStep::Hit(on_hit)
                    } else {
                        CacheStep::Continue
                    }
                })
            }
            Cache::Collector => {
                if !ctx.is_response {
                    return Err("Request messages cannot be handled in a collector cache".into());
                }
                collect(ctx);
                Ok(CacheStep::Continue)
            }
        }
    }
}

/// The finder: `Ok(true)` on a hit (the message is now the cached response).
fn find<B: MessageBody>(
    store: &Arc<CacheStore>,
    settings: &Arc<FinderSettings>,
    ctx: &mut MessageContext<B>,
) -> Result<bool, String> {
    let hash = request_hash(settings, ctx);
    ctx.set(Scope::Default, REQUEST_HASH_PROPERTY, hex(&hash))?;
    let method = ctx
        .get(Scope::Axis2, props::HTTP_METHOD)
        .and_then(|m| http::Method::from_bytes(m.as_bytes()).ok())
        .unwrap_or_else(|| ctx.method.clone());
    let mut ticket = CacheTicket {
        store: store.clone(),
        hash,
        entry: 0,
        method,
        settings: settings.clone(),
        revalidating: None,
    };
    match store.lookup(hash, Instant::now()) {
        Lookup::Miss(entry) => {
            ticket.entry = entry;
            ctx.cache_ticket = Some(ticket);
            Ok(false)
        }
        Lookup::Hit(cached, entry) => {
            ticket.entry = entry;
            if settings.http && settings.cache_control {
                let control = cache_control(&cached.headers);
                let max_age = control.iter().find_map(|d| {
                    d.split_once('=')
                        .filter(|(k, _)| k.trim().eq_ignore_ascii_case("max-age"))
                        .and_then(|(_, v)| v.trim().parse::<u64>().ok())
                });
                let expired =
                    max_age.is_some_and(|secs| cached.stored.elapsed() > Duration::from_secs(secs));
                let no_cache = control.iter().any(|d| d.eq_ignore_ascii_case("no-cache"));
                let etag = cached.headers.get(http::header::ETAG).cloned();
                // HttpCachingFilter.isValidCacheEntry: go to the backend again.
                if expired || (no_cache && etag.is_some()) {
                    if let Some(etag) = etag.filter(|_| no_cache) {
                        ctx.headers.insert(http::header::IF_NONE_MATCH, etag);
                    }
                    ticket.revalidating = Some(cached);
                    ctx.cache_ticket = Some(ticket);
                    return Ok(false);
                }
            }
            serve(ctx, &cached, settings);
            Ok(true)
        }
    }
}

/// Replaces the message with a cached response (CacheMediator.replaceEnvelopeWithCachedResponse).
fn serve<B: MessageBody>(
    ctx: &mut MessageContext<B>,
    cached: &CachedResponse,
    settings: &FinderSettings,
) {
    let mut response = http::Response::new(B::default());
    *response.status_mut() = cached.status;
    *response.headers_mut() = cached.headers.clone();
    if settings.http && settings.age_header {
        let age = cached.stored.elapsed().as_secs();
        response
            .headers_mut()
            .insert(http::header::AGE, HeaderValue::from(age));
    }
    crate::runtime::engine::become_response(ctx, response);
    ctx.payload = cached.payload.clone();
}

/// The collector (CacheMediator.processResponseMessage).
fn collect<B: MessageBody>(ctx: &mut MessageContext<B>) {
    let Some(ticket) = ctx.cache_ticket.take() else {
        tracing::warn!(target: "conflux::mediation", "A response message without a valid mapping to the request hash found. Unable to store the response in cache");
        return;
    };
    let settings = &ticket.settings;
    let status = ctx
        .get(Scope::Axis2, props::HTTP_SC)
        .and_then(|s| s.trim().parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(ctx.status);
    if settings.http {
        if settings.cache_control
            && cache_control(&ctx.headers)
                .iter()
                .any(|d| d.eq_ignore_ascii_case("no-store"))
        {
            return;
        }
        if status == StatusCode::NOT_MODIFIED
            && let Some(cached) = &ticket.revalidating
        {
            serve(ctx, cached, settings);
            return;
        }
        if !settings.response_codes.is_match(status.as_str()) {
            return;
        }
        if !settings
            .methods
            .iter()
            .any(|m| m == "*" || m == ticket.method.as_str())
        {
            return;
        }
    }
    let payload_bytes = ctx.payload.as_ref().map_or(0, payload_size);
    let limit = settings
        .max_message_size
        .map_or(MAX_CACHED_RESPONSE_BYTES, |m| {
            usize::try_from(m)
                .unwrap_or(usize::MAX)
                .min(MAX_CACHED_RESPONSE_BYTES)
        });
    if payload_bytes > limit {
        tracing::debug!(target: "conflux::mediation", "Message size exceeds the upper bound for caching, request will not be cached");
        return;
    }
    let mut headers = ctx.headers.clone();
    // The body is written anew from the payload: its framing is the transport's.
    headers.remove(http::header::CONTENT_LENGTH);
    headers.remove(http::header::TRANSFER_ENCODING);
    let header_bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    let response = CachedResponse {
        status,
        headers,
        payload: ctx.payload.clone(),
        stored: Instant::now(),
        bytes: payload_bytes + header_bytes,
    };
    ticket.store.fill(ticket.hash, ticket.entry, response);
}

impl<B: MessageBody> Engine<'_, B> {
    /// Runs `<validate>` (its `on-fail` when the message is invalid) or `<cache>` (a hit is the
    /// answer): the engine's one entry point for both; any other mediator continues.
    pub(crate) fn run_check<'a>(
        &'a self,
        mediator: &'a Mediator,
        ctx: &'a mut MessageContext<B>,
        route: &'a Route,
        depth: usize,
    ) -> Step<'a, B> {
        Box::pin(async move {
            match mediator {
                Mediator::Validate(validate) => {
                    if validate.validate(ctx).map_err(Fault::mediation)? {
                        return Ok(Ended::Continue);
                    }
                    self.run_list(&validate.on_fail, ctx, route, depth).await
                }
                Mediator::Cache(cache) => match cache.step(ctx).map_err(Fault::mediation)? {
                    CacheStep::Continue => Ok(Ended::Continue),
                    CacheStep::Hit(on_hit) => self.cache_hit(on_hit, ctx, route, depth).await,
                },
                _ => Ok(Ended::Continue),
            }
        })
    }

    /// A cache hit (CacheMediator.replaceEnvelopeWithCachedResponse): the cached response goes
    /// back, or `<onCacheHit>` runs; mediation after the cache mediator does not. An onCacheHit
    /// that neither responds nor drops answers with the message as it stands (MI leaves the
    /// client waiting).
    async fn cache_hit(
        &self,
        on_hit: &OnHit,
        ctx: &mut MessageContext<B>,
        route: &Route,
        depth: usize,
    ) -> Result<Ended<B>, Fault> {
        let ended = match on_hit {
            OnHit::Respond => Ended::Continue,
            OnHit::Inline(list) => self.run_list(list, ctx, route, depth).await?,
            OnHit::Sequence(name) => {
                let seq =
                    self.sequences.get(name).cloned().ok_or_else(|| {
                        Fault::mediation(format!("sequence {name} is not deployed"))
                    })?;
                self.run_guarded(seq, ctx, route, depth + 1).await?
            }
        };
        match ended {
            Ended::Continue => Ok(Ended::Responded(response_from(ctx)?)),
            other => Ok(other),
        }
    }
}

/// Compiles an artifact's `<cache>`; `on_hit` (the compiled `<onCacheHit>`) comes from the caller.
pub(crate) fn compile(
    c: &conflux_artifacts::mediators::Cache,
    on_hit: OnHit,
) -> Result<Cache, (conflux_artifacts::Span, String)> {
    use conflux_artifacts::mediators::HashGenerator;
    let Some(f) = &c.finder else {
        return Ok(Cache::Collector);
    };
    let response_codes =
        regex::Regex::new(&format!("^(?:{})$", f.response_codes)).map_err(|e| {
            (
                f.response_codes_span.clone(),
                format!("invalid <responseCodes> regex {:?}: {e}", f.response_codes),
            )
        })?;
    let lower = |list: &[String]| list.iter().map(|h| h.to_ascii_lowercase()).collect();
    let settings = FinderSettings {
        hash: match f.hash {
            HashGenerator::Request => HashMode::Request,
            HashGenerator::Payload => HashMode::Payload,
        },
        http: f.protocol == "HTTP",
        methods: f.methods.clone(),
        include_headers: lower(&f.include_headers),
        exclude_headers: lower(&f.exclude_headers),
        response_codes,
        max_message_size: f.max_message_size,
        cache_control: f.cache_control,
        age_header: f.age_header,
    };
    Ok(Cache::Finder {
        store: Arc::new(CacheStore::new(
            Duration::from_secs(f.timeout_secs),
            f.max_size,
        )),
        settings: Arc::new(settings),
        on_hit,
    })
}

/// The directives of a `Cache-Control` header, trimmed.
fn cache_control(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(http::header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|d| d.trim().to_string())
        .collect()
}

/// The size MI compares with `maxMessageSize`: the JSON text, or the XML as written.
fn payload_size(payload: &Payload) -> usize {
    match payload {
        Payload::Empty => 0,
        Payload::Xml { text, .. } => text.len(),
        Payload::Json(json) => json
            .original_text()
            .map_or_else(|| json.value().to_string().len(), |t| t.trim().len()),
        Payload::Text(text) => text.len(),
        Payload::Binary(bytes) => bytes.len(),
    }
}

/// The request hash (HttpRequestHashGenerator): the To address, the headers the settings select
/// (never `Date`, `User-Agent` or the correlation header; names case-insensitive) and, except for
/// a REST GET/DELETE/HEAD, the payload; DOMHASHGenerator hashes the payload only. SHA-256 where MI
/// uses MD5: the value differs from MI's, the equalities do not.
pub fn request_hash<B: MessageBody>(
    settings: &FinderSettings,
    ctx: &MessageContext<B>,
) -> [u8; 32] {
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let method = ctx.get(Scope::Axis2, props::HTTP_METHOD);
    let method = method.as_deref().unwrap_or(ctx.method.as_str());
    let get_like = ctx.doing_rest && matches!(method, "GET" | "DELETE" | "HEAD");
    if settings.hash == HashMode::Request {
        let to = ctx
            .addressing
            .get("To")
            .cloned()
            .unwrap_or_else(|| ctx.uri.to_string());
        field(&mut digest, b"to", to.as_bytes());
        for (name, value) in hashed_headers(settings, &ctx.headers) {
            field(&mut digest, b"header", name.as_bytes());
            field(
                &mut digest,
                b"value",
                value.as_deref().unwrap_or("\0").as_bytes(),
            );
        }
    }
    if !get_like || settings.hash == HashMode::Payload {
        payload_digest(&mut digest, ctx.payload.as_ref());
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.finish().as_ref());
    out
}

/// A length-prefixed field, so that no two different inputs hash the same bytes.
fn field(digest: &mut ring::digest::Context, tag: &[u8], value: &[u8]) {
    digest.update(tag);
    digest.update(&(value.len() as u64).to_be_bytes());
    digest.update(value);
}

/// The headers hashed, by lower-case name in order, with their (comma-joined) values; an
/// included header the request lacks hashes as absent.
fn hashed_headers(settings: &FinderSettings, headers: &HeaderMap) -> Vec<(String, Option<String>)> {
    let value_of = |name: &str| {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    };
    let never = |name: &str| matches!(name, "date" | "user-agent" | CORRELATION_HEADER);
    let mut out: Vec<(String, Option<String>)> =
        if !settings.include_headers.is_empty() && settings.include_headers[0] != "*" {
            settings
                .include_headers
                .iter()
                .map(|n| (n.clone(), value_of(n)))
                .collect()
        } else if settings.include_headers.is_empty()
            && settings.exclude_headers.first().is_some_and(|h| h == "*")
        {
            Vec::new()
        } else {
            let mut names: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
            names.dedup();
            names
                .into_iter()
                .filter(|n| {
                    settings.include_headers.first().is_some_and(|h| h == "*")
                        || !settings.exclude_headers.iter().any(|e| e == n)
                })
                .map(|n| (n.to_string(), value_of(n)))
                .collect()
        };
    out.retain(|(n, _)| !never(n));
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// The payload's content: XML as its element tree (expanded names, attributes in name order
/// without namespace declarations, text; comments ignored, as MI's DOM digest), JSON as its
/// value, anything else as bytes.
fn payload_digest(digest: &mut ring::digest::Context, payload: Option<&Payload>) {
    match payload {
        None | Some(Payload::Empty) => field(digest, b"empty", b""),
        Some(Payload::Json(json)) => field(digest, b"json", json.value().to_string().as_bytes()),
        Some(Payload::Text(text)) => field(digest, b"text", text.as_bytes()),
        Some(Payload::Binary(bytes)) => field(digest, b"binary", bytes),
        Some(xml @ Payload::Xml { .. }) => {
            let envelope = xml.envelope_xml();
            match parse_document(&envelope) {
                Ok(doc) => match body_element(&doc) {
                    Some(body) => node_digest(digest, body),
                    None => node_digest(digest, doc.root_element()),
                },
                Err(_) => field(digest, b"raw", envelope.as_bytes()),
            }
        }
    }
}

fn node_digest(digest: &mut ring::digest::Context, node: roxmltree::Node) {
    if node.is_text() {
        field(digest, b"t", node.text().unwrap_or_default().as_bytes());
        return;
    }
    if node.is_pi() {
        if let Some(pi) = node.pi() {
            field(digest, b"pi", pi.target.as_bytes());
            field(digest, b"piv", pi.value.unwrap_or_default().as_bytes());
        }
        return;
    }
    if !node.is_element() {
        return;
    }
    let name = node.tag_name();
    field(
        digest,
        b"e",
        name.namespace().unwrap_or_default().as_bytes(),
    );
    field(digest, b"n", name.name().as_bytes());
    let mut attributes: Vec<(&str, &str, &str)> = node
        .attributes()
        .map(|a| (a.namespace().unwrap_or_default(), a.name(), a.value()))
        .collect();
    attributes.sort();
    for (ns, local, value) in attributes {
        field(digest, b"a", ns.as_bytes());
        field(digest, b"an", local.as_bytes());
        field(digest, b"av", value.as_bytes());
    }
    field(digest, b"c", b"");
    for child in node.children() {
        node_digest(digest, child);
    }
    field(digest, b"/", b"");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::context::test_context;
    use http::Method;

    fn settings() -> FinderSettings {
        FinderSettings {
            hash: HashMode::Request,
            http: true,
            methods: vec!["*".into()],
            include_headers: Vec::new(),
            exclude_headers: Vec::new(),
            response_codes: regex::Regex::new("^(?:.*)$").unwrap(),
            max_message_size: None,
            cache_control: false,
            age_header: false,
        }
    }

    fn response(bytes: usize) -> CachedResponse {
        CachedResponse {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            payload: None,
            stored: Instant::now(),
            bytes,
        }
    }

    fn key(n: u8) -> [u8; 32] {
        [n; 32]
    }

    // MI CacheTestCase.testMaxSize: with maxSize 2, a third entry evicts the least recently used.
    #[test]
    fn max_size_plus_one_evicts_the_least_recently_used() {
        let store = CacheStore::new(Duration::from_secs(60), Some(2));
        let now = Instant::now();
        for n in 1..=2 {
            let Lookup::Miss(e) = store.lookup(key(n), now) else {
                panic!()
            };
            store.fill(key(n), e, response(10));
        }
        assert!(matches!(store.lookup(key(1), now), Lookup::Hit(..)));
        assert!(matches!(store.lookup(key(3), now), Lookup::Miss(_)));
        assert_eq!(store.len(), 2);
        assert!(matches!(store.lookup(key(1), now), Lookup::Hit(..)));
        // Key 2 was the least recently used: gone (and its lookup makes a new empty entry).
        assert!(matches!(store.lookup(key(2), now), Lookup::Miss(_)));
    }

    #[test]
    fn entries_are_bounded_without_max_size() {
        let store = CacheStore::new(Duration::from_secs(60), None);
        let now = Instant::now();
        for n in 0..=MAX_CACHE_ENTRIES as u32 {
            let mut k = [0u8; 32];
            k[..4].copy_from_slice(&n.to_be_bytes());
            store.lookup(k, now);
        }
        assert_eq!(store.len(), MAX_CACHE_ENTRIES);
        assert!(store.lock().order.len() <= 2 * MAX_CACHE_ENTRIES + 64);
    }

    #[test]
    fn stored_bytes_are_bounded() {
        let store = CacheStore::new(Duration::from_secs(60), None);
        let now = Instant::now();
        let each = MAX_CACHE_BYTES / 2;
        for n in 1..=3 {
            let Lookup::Miss(e) = store.lookup(key(n), now) else {
                panic!()
            };
            store.fill(key(n), e, response(each));
        }
        assert!(store.lock().bytes <= MAX_CACHE_BYTES);
        assert!(matches!(store.lookup(key(1), now), Lookup::Miss(_)));
        assert!(matches!(store.lookup(key(3), now), Lookup::Hit(..)));
    }

    // Guava expireAfterWrite: the timeout runs from the finder's first lookup.
    #[test]
    fn entries_expire_timeout_after_creation() {
        let store = CacheStore::new(Duration::from_secs(10), None);
        let t0 = Instant::now();
        let Lookup::Miss(e) = store.lookup(key(1), t0) else {
            panic!()
        };
        store.fill(key(1), e, response(1));
        assert!(matches!(
            store.lookup(key(1), t0 + Duration::from_secs(9)),
            Lookup::Hit(..)
        ));
        assert!(matches!(
            store.lookup(key(1), t0 + Duration::from_secs(10)),
            Lookup::Miss(_)
        ));
        // The old finder's collector no longer fills the new entry.
        store.fill(key(1), e, response(1));
        assert!(matches!(
            store.lookup(key(1), t0 + Duration::from_secs(10)),
            Lookup::Miss(_)
        ));
    }

    // One response over MAX_CACHED_RESPONSE_BYTES is not stored, even without maxMessageSize.
    #[test]
    fn a_response_over_the_size_limit_is_not_stored() {
        for (len, stored) in [
            (MAX_CACHED_RESPONSE_BYTES, true),
            (MAX_CACHED_RESPONSE_BYTES + 1, false),
        ] {
            let store = Arc::new(CacheStore::new(Duration::from_secs(60), None));
            let Lookup::Miss(entry) = store.lookup(key(1), Instant::now()) else {
                panic!()
            };
            let mut ctx = test_context(Method::POST, "/x");
            ctx.is_response = true;
            ctx.payload = Some(Payload::Text("x".repeat(len)));
            ctx.cache_ticket = Some(CacheTicket {
                store: store.clone(),
                hash: key(1),
                entry,
                method: Method::POST,
                settings: Arc::new(settings()),
                revalidating: None,
            });
            collect(&mut ctx);
            let hit = matches!(store.lookup(key(1), Instant::now()), Lookup::Hit(..));
            assert_eq!(hit, stored, "{len} bytes");
        }
    }

    #[test]
    fn the_hash_follows_the_header_rules() {
        let mut a = test_context(Method::POST, "/x");
        let mut b = test_context(Method::POST, "/x");
        a.headers.insert("user", "Peter".parse().unwrap());
        b.headers.insert("date", "today".parse().unwrap());
        b.headers.insert("user-agent", "curl".parse().unwrap());
        let s = settings();
        let plain = request_hash(&s, &b);
        // Date and User-Agent never count; any other header does.
        assert_eq!(plain, request_hash(&s, &test_context(Method::POST, "/x")));
        assert_ne!(request_hash(&s, &a), plain);
        let excluding = FinderSettings {
            exclude_headers: vec!["user".into()],
            ..settings()
        };
        assert_eq!(request_hash(&excluding, &a), plain);
        let including = FinderSettings {
            include_headers: vec!["country".into()],
            ..settings()
        };
        assert_eq!(request_hash(&including, &a), request_hash(&including, &b));
        a.headers.insert("country", "UK".parse().unwrap());
        assert_ne!(request_hash(&including, &a), request_hash(&including, &b));
        // The address counts.
        assert_ne!(plain, request_hash(&s, &test_context(Method::POST, "/y")));
    }

    #[test]
    fn xml_payloads_hash_by_content_not_spelling() {
        let mut a = test_context(Method::POST, "/x");
        let mut b = test_context(Method::POST, "/x");
        a.payload = Some(
            Payload::xml(r#"<p:a xmlns:p="urn:x" k="1" j="2"><!--c-->t</p:a>"#.into()).unwrap(),
        );
        b.payload =
            Some(Payload::xml(r#"<q:a j="2" k="1" xmlns:q="urn:x">t</q:a>"#.into()).unwrap());
        assert_eq!(request_hash(&settings(), &a), request_hash(&settings(), &b));
        b.payload =
            Some(Payload::xml(r#"<q:a j="2" k="1" xmlns:q="urn:x">u</q:a>"#.into()).unwrap());
        assert_ne!(request_hash(&settings(), &a), request_hash(&settings(), &b));
    }
}
