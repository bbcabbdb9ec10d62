//! The cache mediator end to end through the real binary (micro-integrator
//! `mediators/cache/CacheMediator.java`, `CacheMediatorFactory.java`,
//! `digest/HttpRequestHashGenerator.java`, and MI's tests-mediator-1 `cache/` test cases): a finder
//! and a collector around a call, hits proven by the backend's request count, `onCacheHit`,
//! `headersToExcludeInHash`, `responseCodes`, `maxMessageSize` and `maxSize` at their limits,
//! `timeout`, cache-control, and a collector in the request flow.

mod support;

use std::time::Duration;

use support::backend::*;
use support::*;

/// An API `/c` whose POST resource runs `finder`, calls `backend`, runs a collector, responds.
fn cached_api(finder: &str, backend: &Backend) -> Home {
    home_with(&[(
        "api/C.xml",
        api(
            "C",
            "/c",
            &format!(
                r#"<resource methods="POST GET">
        <inSequence>
            {finder}
            <call><endpoint><http uri-template="{}/backend"/></endpoint></call>
            <cache collector="true"/>
            <respond/>
        </inSequence>
    </resource>"#,
                backend.url()
            ),
        ),
    )])
}

fn post_json(port: u16, body: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    request("POST", port, "/c", &all, body.as_bytes())
}

// A miss goes to the backend and is stored; the same request is then answered from the cache
// (exact body and status), a different payload is not.
#[test]
fn the_same_request_is_answered_from_the_cache() {
    let backend = Backend::start(Behaviour::Echo);
    let home = cached_api(r#"<cache collector="false" timeout="60"/>"#, &backend);
    let server = start(&home);
    let port = server.port(HTTP);
    let first = post_json(port, r#"{"symbol":"IBM"}"#, &[]);
    let second = post_json(port, r#"{"symbol":"IBM"}"#, &[]);
    assert_eq!(
        (first.status, first.text().as_str()),
        (200, r#"{"symbol":"IBM"}"#)
    );
    assert_eq!(
        (second.status, second.text().as_str()),
        (200, r#"{"symbol":"IBM"}"#)
    );
    assert_eq!(second.header("Content-Type"), Some("application/json"));
    assert_eq!(backend.requests().len(), 1);
    // Other spacing is another Content-Length, a header MI hashes too: another request.
    post_json(port, r#"{ "symbol" : "IBM" }"#, &[]);
    assert_eq!(backend.requests().len(), 2);
    let other = post_json(port, r#"{"symbol":"WSO2"}"#, &[]);
    assert_eq!(other.text(), r#"{"symbol":"WSO2"}"#);
    assert_eq!(backend.requests().len(), 3);
}

// CacheMediator.replaceEnvelopeWithCachedResponse: on a hit the onCacheHit sequence runs over the
// cached response, and nothing after the cache mediator does.
#[test]
fn on_cache_hit_runs_instead_of_the_rest() {
    let backend = Backend::start(Behaviour::Echo);
    let home = cached_api(
        r#"<cache collector="false" timeout="60">
                <onCacheHit>
                    <payloadFactory media-type="json">
                        <format>{"cached":$1}</format>
                        <args><arg evaluator="json" expression="$.n"/></args>
                    </payloadFactory>
                    <respond/>
                </onCacheHit>
            </cache>"#,
        &backend,
    );
    let server = start(&home);
    let port = server.port(HTTP);
    assert_eq!(post_json(port, r#"{"n":7}"#, &[]).text(), r#"{"n":7}"#);
    assert_eq!(post_json(port, r#"{"n":7}"#, &[]).text(), r#"{"cached":7}"#);
    assert_eq!(backend.requests().len(), 1);
}

// MI ExcludeHeadersWithCacheTestCase: an excluded header does not change the hash; any other
// header does.
#[test]
fn excluded_headers_do_not_change_the_hash() {
    let backend = Backend::start(Behaviour::Echo);
    let home = cached_api(
        r#"<cache collector="false" timeout="60">
                <protocol type="HTTP">
                    <methods>POST</methods>
                    <headersToExcludeInHash>user</headersToExcludeInHash>
                    <responseCodes>.*</responseCodes>
                    <hashGenerator>org.wso2.carbon.mediator.cache.digest.HttpRequestHashGenerator</hashGenerator>
                </protocol>
            </cache>"#,
        &backend,
    );
    let server = start(&home);
    let port = server.port(HTTP);
    post_json(port, "{}", &[]);
    post_json(port, "{}", &[("user", "Peter")]);
    assert_eq!(backend.requests().len(), 1);
    post_json(port, "{}", &[("user", "Peter"), ("country", "UK")]);
    assert_eq!(backend.requests().len(), 2);
}

// MI CacheResponseCodeRegexTestCase: only responses whose status matches `responseCodes` (the
// whole code) are stored; GET requests are hashed without a payload.
#[test]
fn only_matching_response_codes_are_stored() {
    for (status, stored) in [(202, true), (404, false)] {
        let backend = Backend::start(Behaviour::Fixed {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: r#"{"status":"fixed"}"#.into(),
        });
        let home = cached_api(
            r#"<cache collector="false" timeout="60">
                <protocol type="HTTP">
                    <methods>*</methods>
                    <responseCodes>2[0-9][0-9]</responseCodes>
                </protocol>
            </cache>"#,
            &backend,
        );
        let server = start(&home);
        let port = server.port(HTTP);
        for _ in 0..2 {
            let r = request("GET", port, "/c?q=1", &[], b"");
            assert_eq!(
                (r.status, r.text().as_str()),
                (status, r#"{"status":"fixed"}"#)
            );
        }
        assert_eq!(
            backend.requests().len(),
            if stored { 1 } else { 2 },
            "{status}"
        );
    }
}

// MI CacheTestCase.testSmallMessageSize: a response over maxMessageSize is not stored; one of
// exactly maxMessageSize bytes is.
#[test]
fn max_message_size_at_the_limit_and_one_over() {
    let backend = Backend::start(Behaviour::Echo);
    let home = cached_api(
        r#"<cache collector="false" timeout="60" maxMessageSize="20"/>"#,
        &backend,
    );
    let server = start(&home);
    let port = server.port(HTTP);
    let at_limit = format!(r#"{{"a":"{}"}}"#, "x".repeat(12));
    assert_eq!(at_limit.len(), 20);
    let over = format!(r#"{{"a":"{}"}}"#, "x".repeat(13));
    for _ in 0..2 {
        assert_eq!(post_json(port, &at_limit, &[]).text(), at_limit);
    }
    assert_eq!(backend.requests().len(), 1);
    for _ in 0..2 {
        assert_eq!(post_json(port, &over, &[]).text(), over);
    }
    assert_eq!(backend.requests().len(), 3);
}

// MI CacheTestCase.testMaxSize: with maxSize 2, the third distinct request evicts the least
// recently used entry.
#[test]
fn max_size_plus_one_evicts() {
    let backend = Backend::start(Behaviour::Echo);
    let home = cached_api(
        r#"<cache collector="false" timeout="60"><implementation maxSize="2"/></cache>"#,
        &backend,
    );
    let server = start(&home);
    let port = server.port(HTTP);
    let send = |symbol: &str| post_json(port, &format!(r#"{{"symbol":"{symbol}"}}"#), &[]);
    send("ABCD");
    send("ABC");
    send("AB");
    assert_eq!(backend.requests().len(), 3);
    send("AB");
    send("ABC");
    assert_eq!(backend.requests().len(), 3, "AB and ABC are cached");
    send("ABCD");
    assert_eq!(backend.requests().len(), 4, "ABCD was evicted");
}

// Guava expireAfterWrite: an entry lives `timeout` seconds from the first lookup.
#[test]
fn entries_expire_after_the_timeout() {
    let backend = Backend::start(Behaviour::Echo);
    let home = cached_api(r#"<cache collector="false" timeout="1"/>"#, &backend);
    let server = start(&home);
    let port = server.port(HTTP);
    post_json(port, "{}", &[]);
    post_json(port, "{}", &[]);
    assert_eq!(backend.requests().len(), 1);
    std::thread::sleep(Duration::from_millis(2200));
    post_json(port, "{}", &[]);
    assert_eq!(backend.requests().len(), 2);
}

// HttpCachingFilter with enableCacheControl: a `no-store` response is not stored; a stored one is
// served with an `Age` header.
#[test]
fn cache_control_no_store_and_the_age_header() {
    let finder = r#"<cache collector="false" timeout="60">
                <protocol type="HTTP">
                    <enableCacheControl>true</enableCacheControl>
                    <includeAgeHeader>true</includeAgeHeader>
                </protocol>
            </cache>"#;
    let no_store = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("Cache-Control".into(), "no-store".into()),
        ],
        body: "{}".into(),
    });
    let home = cached_api(finder, &no_store);
    let server = start(&home);
    let port = server.port(HTTP);
    post_json(port, "{}", &[]);
    post_json(port, "{}", &[]);
    assert_eq!(no_store.requests().len(), 2);
    drop(server);

    let plain = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: r#"{"v":1}"#.into(),
    });
    let home = cached_api(finder, &plain);
    let server = start(&home);
    let port = server.port(HTTP);
    assert_eq!(post_json(port, "{}", &[]).header("Age"), None);
    let hit = post_json(port, "{}", &[]);
    assert_eq!(hit.text(), r#"{"v":1}"#);
    let age: u64 = hit.header("Age").expect("Age on a hit").parse().unwrap();
    assert!(age < 60, "{age}");
    assert_eq!(plain.requests().len(), 1);
}

// The classic proxy form (finder in the inSequence, collector in the outSequence) and MI's
// CollectorTypeTestCase: a collector in the request flow is a mediation fault.
#[test]
fn finder_and_collector_across_send_and_a_misplaced_collector() {
    let backend = Backend::start(Behaviour::Echo);
    let proxy = |name: &str, in_cache: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<proxy xmlns="http://ws.apache.org/ns/synapse" name="{name}" transports="http">
    <target>
        <inSequence>
            {in_cache}
            <send><endpoint><address uri="{}/svc"/></endpoint></send>
        </inSequence>
        <outSequence>
            <cache collector="true"/>
            <send/>
        </outSequence>
    </target>
</proxy>"#,
            backend.url()
        )
    };
    let home = home_with(&[
        (
            "proxy-services/Cached.xml",
            proxy("Cached", r#"<cache collector="false" timeout="60"/>"#),
        ),
        (
            "proxy-services/Misplaced.xml",
            proxy("Misplaced", r#"<cache collector="true"/>"#),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let body = "<getQuote><symbol>IBM</symbol></getQuote>";
    for _ in 0..2 {
        let r = request(
            "POST",
            port,
            "/services/Cached",
            &[("Content-Type", "application/xml")],
            body.as_bytes(),
        );
        assert_eq!((r.status, r.text().as_str()), (200, body));
    }
    assert_eq!(backend.requests().len(), 1);
    let r = request(
        "POST",
        port,
        "/services/Misplaced",
        &[("Content-Type", "application/xml")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(
        r.text()
            .contains("Request messages cannot be handled in a collector cache"),
        "{}",
        r.text()
    );
    assert_eq!(backend.requests().len(), 1);
}
