//! End to end through the real binary: Synapse artifacts in a temporary home, real sockets to the
//! HTTP/HTTPS listeners, and in-process backends that record what reaches them. Covers APIs that
//! answer by themselves, send to address/http/named endpoints (MI's REST_URL_POSTFIX rule, header
//! handling, outSequence), proxy services, dispatch answers (404/405/main/versioned APIs), backend
//! faults (101503/101504/101505, suspension 303001, fault sequences), 64 MiB streaming both ways,
//! HTTPS, bad artifacts, and the bundled home. Each test owns its home and port offset.

mod support;

use support::backend::*;
use support::*;

// 1. An API answering by itself (synapse-subset §3.11 payloadFactory, §3.6 respond; uri.var.* and
//    query.param.* as SYN api/Resource.java sets them).
#[test]
fn api_with_payload_factory_and_respond_answers_by_itself() {
    let home = home_with(&[(
        "api/GreetApi.xml",
        api(
            "GreetApi",
            "/greet",
            r#"<resource methods="GET" uri-template="/{name}/{n}">
        <inSequence>
            <payloadFactory media-type="json">
                <format>{"name": "$1", "n": "$2", "q": "$3"}</format>
                <args>
                    <arg expression="get-property('uri.var.name')"/>
                    <arg expression="get-property('uri.var.n')"/>
                    <arg expression="$url:q"/>
                </args>
            </payloadFactory>
            <header name="X-Greeting" scope="transport" value="yes"/>
            <property name="HTTP_SC" scope="axis2" value="201"/>
            <respond/>
        </inSequence>
    </resource>"#,
        ),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);

    let r = get(port, "/greet/Ann%20Lee/7?q=x");
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.text(), r#"{"name": "Ann Lee", "n": "7", "q": "x"}"#);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-greeting"), Some("yes"));
    if let Some(cl) = r.header("content-length") {
        assert_eq!(cl, r.body.len().to_string());
    }

    // No API matches and no main sequence is deployed: MI's shipped main answers 404, no body.
    let none = get(port, "/nothing/here");
    assert_eq!(none.status, 404);
    assert!(none.body.is_empty(), "{:?}", none.text());
}

// 2. send to an address endpoint: REST_URL_POSTFIX appended (SYN Axis2FlexibleMEPClient, MI test
//    RestPostFixUrlTest), Host is the backend's and hop-by-hop headers dropped (passthru
//    TargetRequestFactory / PassThroughTransportUtils.removeUnwantedHeaders), outSequence runs.
#[test]
fn api_send_to_address_appends_postfix_and_runs_out_sequence() {
    let backend = Backend::start(Behaviour::Echo);
    let address = format!("{}/base", backend.url());
    let home = home_with(&[
        (
            "api/CtxApi.xml",
            api(
                "CtxApi",
                "/ctx",
                &format!(
                    r#"<resource methods="GET POST" url-mapping="/*">
        <inSequence>
            <send><endpoint><address uri="{address}"/></endpoint></send>
        </inSequence>
        <outSequence>
            <header name="X-Out" scope="transport" value="ran"/>
            <send/>
        </outSequence>
    </resource>"#
                ),
            ),
        ),
        (
            "api/PlainApi.xml",
            api(
                "PlainApi",
                "/plain",
                &format!(
                    r#"<resource url-mapping="/*">
        <inSequence>
            <send><endpoint><address uri="{address}"/></endpoint></send>
        </inSequence>
    </resource>"#
                ),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);

    let body = b"hello backend";
    let raw = format!(
        "POST /ctx/a/b?x=1 HTTP/1.1\r\nHost: client.example:{port}\r\nConnection: close, X-Hop\r\n\
         X-Hop: secret\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\n\
         X-Custom: kept\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut bytes = raw.into_bytes();
    bytes.extend_from_slice(body);
    let r = raw_exchange(port, &bytes);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body, body);
    assert_eq!(r.header("x-out"), Some("ran"), "{r:?}");
    assert_eq!(r.header("x-backend"), Some("echo"));
    assert_eq!(r.header("content-type"), Some("text/plain"));

    let seen = backend.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let s = &seen[0];
    assert_eq!(s.method, "POST");
    assert_eq!(s.path_and_query, "/base/a/b?x=1");
    assert_eq!(s.body_len, body.len() as u64);
    assert_eq!(s.body_sha256, sha256_hex(body));
    assert_eq!(s.header("host"), Some(backend.addr.to_string().as_str()));
    assert_eq!(s.header("x-custom"), Some("kept"));
    assert_eq!(s.header("content-type"), Some("text/plain"));
    for hop in ["x-hop", "keep-alive", "proxy-connection", "te"] {
        assert_eq!(s.header(hop), None, "{hop} was forwarded: {s:?}");
    }
    if let Some(c) = s.header("connection") {
        assert!(!c.to_ascii_lowercase().contains("x-hop"), "{s:?}");
    }

    // A GET carries no body; the context alone gives an empty postfix.
    let r = get(port, "/ctx");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    let s = &backend.requests()[1];
    assert_eq!(
        (s.method.as_str(), s.path_and_query.as_str()),
        ("GET", "/base")
    );
    assert_eq!(s.body_len, 0);

    // No outSequence: the backend's response goes straight back.
    let r = request(
        "PUT",
        port,
        "/plain/p?y=2",
        &[("Content-Type", "application/json")],
        b"{\"a\":1}",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "{\"a\":1}");
    assert_eq!(r.header("x-out"), None);
    assert_eq!(r.header("x-echo-method"), Some("PUT"));
    assert_eq!(r.header("x-echo-path"), Some("/base/p?y=2"));
}

// 3. <endpoint key> from endpoints/, and an http endpoint: uri-template expanded from uri.var.*,
//    method overridden, REST_URL_POSTFIX never appended (SYN endpoints/HTTPEndpoint.java, MI test
//    ESBJAVA3751UriTemplateReservedCharacterEncodingTest).
#[test]
fn named_endpoint_and_http_endpoint_with_uri_template() {
    let backend = Backend::start(Behaviour::Echo);
    let home = home_with(&[
        (
            "endpoints/NamedBackend.xml",
            format!(
                r#"<endpoint xmlns="http://ws.apache.org/ns/synapse" name="NamedBackend">
    <address uri="{}/named"/>
</endpoint>"#,
                backend.url()
            ),
        ),
        (
            "api/NamedApi.xml",
            api(
                "NamedApi",
                "/named",
                r#"<resource methods="GET" url-mapping="/*">
        <inSequence><send><endpoint key="NamedBackend"/></send></inSequence>
    </resource>"#,
            ),
        ),
        (
            "api/ItemsApi.xml",
            api(
                "ItemsApi",
                "/items",
                &format!(
                    r#"<resource methods="GET" uri-template="/{{id}}">
        <inSequence>
            <send><endpoint>
                <http uri-template="{}/items/{{uri.var.id}}" method="post"/>
            </endpoint></send>
        </inSequence>
    </resource>"#,
                    backend.url()
                ),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);

    let r = get(port, "/named/x/y?z=3");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-echo-path"), Some("/named/x/y?z=3"));

    let r = get(port, "/items/42?ignored=1");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-echo-method"), Some("POST"));
    assert_eq!(r.header("x-echo-path"), Some("/items/42"));

    // {uri.var.id} percent-encodes what it inserts: the decoded "a b" goes out as a%20b.
    let r = get(port, "/items/a%20b");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-echo-path"), Some("/items/a%20b"));

    let seen = backend.requests();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[1].method, "POST");
    assert_eq!(seen[1].body_len, 0);
}

// 4. Proxy services at /services/NAME: the rest of the path is REST_URL_POSTFIX (MI docs
//    proxy-service-properties); <target inSequence="name"> runs a named sequence.
#[test]
fn proxy_services_with_target_endpoint_and_named_in_sequence() {
    let backend = Backend::start(Behaviour::Echo);
    let url = backend.url();
    let home = home_with(&[
        (
            "proxy-services/PassProxy.xml",
            format!(
                r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="PassProxy" transports="http https" startOnLoad="true">
    <target><endpoint><address uri="{url}/svc"/></endpoint></target>
</proxy>"#
            ),
        ),
        (
            "proxy-services/SeqProxy.xml",
            r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="SeqProxy" transports="http https" startOnLoad="true">
    <target inSequence="ProxyIn"/>
</proxy>"#
                .to_string(),
        ),
        (
            "sequences/ProxyIn.xml",
            format!(
                r#"<sequence xmlns="http://ws.apache.org/ns/synapse" name="ProxyIn">
    <header name="X-Seq" scope="transport" value="proxy-in"/>
    <send><endpoint><address uri="{url}/seq"/></endpoint></send>
</sequence>"#
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);

    let r = request("POST", port, "/services/PassProxy/rest?q=1", &[], b"abc");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.text(), "abc");
    assert_eq!(r.header("x-echo-path"), Some("/svc/rest?q=1"));
    assert_eq!(r.header("x-echo-method"), Some("POST"));

    let r = get(port, "/services/SeqProxy/p?x=1");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-echo-path"), Some("/seq/p?x=1"));
    let seen = backend.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].header("x-seq"), None);
    assert_eq!(seen[1].header("x-seq"), Some("proxy-in"));
}

// 5. Dispatch answers (SYN api/API.java process, synapse-subset §3.3; MI test
//    ESBJAVA4176MethodNotAllowedTest for 405), the main sequence (MI's shipped main.xml), and
//    url versioning (SYN api/version/URLBasedVersionStrategy).
#[test]
fn dispatch_answers_404_405_main_and_versioned_api() {
    let respond_with = |text: &str| {
        format!(
            r#"<inSequence>
            <payloadFactory media-type="text"><format>{text}</format><args/></payloadFactory>
            <respond/>
        </inSequence>"#
        )
    };
    let home = home_with(&[
        (
            "api/DispApi.xml",
            api(
                "DispApi",
                "/disp",
                &format!(
                    r#"<resource methods="GET" uri-template="/items/{{id}}">{}</resource>
    <resource methods="POST" uri-template="/only-post">{}</resource>"#,
                    respond_with("item"),
                    respond_with("posted")
                ),
            ),
        ),
        (
            "api/VersionedApi.xml",
            format!(
                r#"<api xmlns="http://ws.apache.org/ns/synapse" name="VersionedApi" context="/ver" version="1.0.0" version-type="url">
    <resource methods="GET" uri-template="/ping">{}</resource>
</api>"#,
                respond_with("pong 1.0.0")
            ),
        ),
        (
            "sequences/main.xml",
            r#"<sequence xmlns="http://ws.apache.org/ns/synapse" name="main">
    <header name="X-Main" scope="transport" value="ran"/>
    <property name="NO_ENTITY_BODY" scope="axis2" value="true" type="BOOLEAN"/>
    <property name="HTTP_SC" scope="axis2" value="404"/>
    <respond/>
</sequence>"#
                .to_string(),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);

    let ok = get(port, "/disp/items/1");
    assert_eq!((ok.status, ok.text().as_str()), (200, "item"));
    let ok = request("POST", port, "/disp/only-post", &[], b"x");
    assert_eq!((ok.status, ok.text().as_str()), (200, "posted"));

    // A GET resource exists but no path matches: 404, empty.
    let r = get(port, "/disp/nothing");
    assert_eq!(r.status, 404);
    assert!(r.body.is_empty());
    assert_eq!(
        r.header("x-main"),
        None,
        "an API claimed it; main must not run"
    );
    // MI quirk: a GET resource is acceptable, so a POST-only path gives 404, not 405.
    assert_eq!(get(port, "/disp/only-post").status, 404);
    // No resource accepts DELETE and a path matches: 405.
    let r = request("DELETE", port, "/disp/items/1", &[], b"");
    assert_eq!(r.status, 405);
    assert!(r.body.is_empty());

    let v = get(port, "/ver/1.0.0/ping");
    assert_eq!((v.status, v.text().as_str()), (200, "pong 1.0.0"));
    // Without the version segment no API matches: the deployed main answers.
    let m = get(port, "/ver/ping");
    assert_eq!(m.status, 404);
    assert_eq!(m.header("x-main"), Some("ran"));
    assert!(m.body.is_empty());
    let m = get(port, "/unknown");
    assert_eq!(m.status, 404);
    assert_eq!(m.header("x-main"), Some("ran"));
    assert!(m.body.is_empty(), "{:?}", m.text());
}

// 6. Backend faults: error codes of SYN SynapseConstants, suspension of SYN
//    endpoints/AbstractEndpoint + EndpointContext (default: suspend on any error; an unset
//    initialDuration (-1) becomes SynapseConstants.DEFAULT_ENDPOINT_SUSPEND_TIME = 30 s), timeout
//    with responseAction fault, and a resource faultSequence that sees ERROR_CODE.
#[test]
fn backend_faults_suspension_timeout_and_fault_sequence() {
    let stall = Backend::start(Behaviour::Stall);
    let closer = Backend::start(Behaviour::Close);
    let dead = format!("http://127.0.0.1:{}/x", closed_port());
    let send_to = |endpoint: &str| {
        format!(
            r#"<resource methods="GET" url-mapping="/*">
        <inSequence><send><endpoint>{endpoint}</endpoint></send></inSequence>
    </resource>"#
        )
    };
    let home = home_with(&[
        (
            "api/DownApi.xml",
            api(
                "DownApi",
                "/down",
                &send_to(&format!(r#"<address uri="{dead}"/>"#)),
            ),
        ),
        (
            "api/NoSuspendApi.xml",
            api(
                "NoSuspendApi",
                "/nosuspend",
                &send_to(&format!(
                    r#"<address uri="{dead}">
                <suspendOnFailure><errorCodes>-1</errorCodes></suspendOnFailure>
                <markForSuspension><errorCodes>-1</errorCodes></markForSuspension>
            </address>"#
                )),
            ),
        ),
        (
            "api/RecoverApi.xml",
            api(
                "RecoverApi",
                "/recover",
                &send_to(&format!(
                    r#"<address uri="{dead}">
                <suspendOnFailure><initialDuration>100</initialDuration></suspendOnFailure>
            </address>"#
                )),
            ),
        ),
        (
            "api/SlowApi.xml",
            api(
                "SlowApi",
                "/slow",
                &send_to(&format!(
                    r#"<address uri="{}/stall">
                <timeout><duration>300</duration><responseAction>fault</responseAction></timeout>
            </address>"#,
                    stall.url()
                )),
            ),
        ),
        (
            "api/ClosedApi.xml",
            api(
                "ClosedApi",
                "/closed",
                &send_to(&format!(r#"<address uri="{}/close"/>"#, closer.url())),
            ),
        ),
        (
            "api/GuardedApi.xml",
            api(
                "GuardedApi",
                "/guarded",
                &format!(
                    r#"<resource methods="GET" url-mapping="/*">
        <inSequence><send><endpoint><address uri="{dead}"/></endpoint></send></inSequence>
        <faultSequence>
            <payloadFactory media-type="json">
                <format>{{"handled": true, "code": "$1"}}</format>
                <args><arg expression="get-property('ERROR_CODE')"/></args>
            </payloadFactory>
            <header name="X-Error" scope="transport" expression="get-property('ERROR_CODE')"/>
            <property name="HTTP_SC" scope="axis2" value="503"/>
            <respond/>
        </faultSequence>
    </resource>"#
                ),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);

    let first = get(port, "/down");
    assert_eq!(first.status, 502, "{first:?}");
    assert!(first.text().contains("101503"), "{}", first.text());
    // MI's default: any error suspends the endpoint for 30 s; the next call fails fast.
    let second = get(port, "/down");
    assert_eq!(second.status, 503, "{second:?}");
    assert!(second.text().contains("303001"), "{}", second.text());

    for _ in 0..3 {
        let r = get(port, "/nosuspend");
        assert_eq!(r.status, 502, "{r:?}");
        assert!(r.text().contains("101503"), "{}", r.text());
    }

    // A short initialDuration: the endpoint is tried again once it has passed (no assertion on
    // the short window itself: that would depend on timing).
    assert!(get(port, "/recover").text().contains("101503"));
    std::thread::sleep(std::time::Duration::from_millis(400));
    let again = get(port, "/recover");
    assert!(
        again.text().contains("101503"),
        "not retried after the suspension: {again:?}"
    );

    let slow = get(port, "/slow");
    assert_eq!(slow.status, 504, "{slow:?}");
    assert!(slow.text().contains("101504"), "{}", slow.text());
    assert_eq!(stall.requests().len(), 1);

    let closed = get(port, "/closed");
    assert_eq!(closed.status, 502, "{closed:?}");
    assert!(closed.text().contains("101505"), "{}", closed.text());
    assert_eq!(closer.requests()[0].path_and_query, "/close");

    let guarded = get(port, "/guarded");
    assert_eq!(guarded.status, 503, "{guarded:?}");
    assert_eq!(guarded.text(), r#"{"handled": true, "code": "101503"}"#);
    assert_eq!(guarded.header("x-error"), Some("101503"));
    assert_eq!(guarded.header("content-type"), Some("application/json"));

    // The server kept serving throughout.
    assert_eq!(get(server.port(INTERNAL_HTTP), "/liveness").status, 200);
}

// 7. Pass-through streaming (DESIGN.md "Pass-through first"): 64 MiB each way, hashed on both
//    sides; the request's framing is kept (MI re-frames, but keeps chunked as chunked and a length
//    as a length: passthru TargetRequest).
#[test]
fn streams_64_mib_both_ways_and_keeps_request_framing() {
    const BIG: u64 = 64 * 1024 * 1024;
    let sink = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("X-Sink".into(), "stored".into())],
        body: "stored".into(),
    });
    let source = Backend::start(Behaviour::Generate { len: BIG, seed: 7 });
    let home = home_with(&[
        (
            "api/UpApi.xml",
            api(
                "UpApi",
                "/up",
                &format!(
                    r#"<resource methods="POST" url-mapping="/*">
        <inSequence><send><endpoint><address uri="{}/sink"/></endpoint></send></inSequence>
    </resource>"#,
                    sink.url()
                ),
            ),
        ),
        (
            "api/DownloadApi.xml",
            api(
                "DownloadApi",
                "/download",
                &format!(
                    r#"<resource methods="GET" url-mapping="/*">
        <inSequence><send><endpoint><address uri="{}/blob"/></endpoint></send></inSequence>
    </resource>"#,
                    source.url()
                ),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);

    let r = stream_upload(port, "/up/big", BIG, 42, Framing::ContentLength);
    assert_eq!((r.status, r.text().as_str()), (200, "stored"), "{r:?}");
    assert_eq!(r.header("x-sink"), Some("stored"));
    let seen = sink.requests();
    assert_eq!(seen[0].path_and_query, "/sink/big");
    assert_eq!(seen[0].body_len, BIG);
    assert_eq!(seen[0].body_sha256, pattern_sha256(BIG, 42));
    assert_eq!(
        seen[0].header("content-length"),
        Some(BIG.to_string().as_str())
    );
    assert_eq!(seen[0].header("transfer-encoding"), None);

    let small = 300_000;
    let r = stream_upload(port, "/up/chunked", small, 3, Framing::Chunked);
    assert_eq!(r.status, 200, "{r:?}");
    let seen = &sink.requests()[1];
    assert_eq!(seen.body_len, small);
    assert_eq!(seen.body_sha256, pattern_sha256(small, 3));
    assert_eq!(
        seen.header("transfer-encoding"),
        Some("chunked"),
        "{seen:?}"
    );
    assert_eq!(seen.header("content-length"), None);

    let d = stream_download(port, "/download/file");
    assert_eq!(d.status, 200);
    assert_eq!(d.body_len, BIG);
    assert_eq!(d.body_sha256, pattern_sha256(BIG, 7));
    assert_eq!(d.header("content-type"), Some("application/octet-stream"));
    assert_eq!(source.requests()[0].path_and_query, "/blob/file");
}

// 8. HTTPS on the secured pass-through port; the keystore is generated on first start (DESIGN.md §3).
#[test]
fn https_listener_serves_apis_with_a_generated_keystore() {
    let home = home_with(&[(
        "api/TlsApi.xml",
        api(
            "TlsApi",
            "/tls",
            r#"<resource methods="GET POST" uri-template="/{who}">
        <inSequence>
            <payloadFactory media-type="json">
                <format>{"secure": "$1"}</format>
                <args><arg expression="get-property('uri.var.who')"/></args>
            </payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#,
        ),
    )]);
    let server = start(&home);
    assert!(
        home.path()
            .join("repository/resources/security/wso2carbon.jks")
            .exists(),
        "no keystore generated:\n{}",
        server.output()
    );
    let r = https_request("GET", server.port(HTTPS), "/tls/me", b"");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.text(), r#"{"secure": "me"}"#);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let r = https_request("POST", server.port(HTTPS), "/tls/you", b"ignored");
    assert_eq!(r.text(), r#"{"secure": "you"}"#);
    // The same API on plain HTTP.
    assert_eq!(
        get(server.port(HTTP), "/tls/me").text(),
        r#"{"secure": "me"}"#
    );
}

// 9. A broken artifact never takes the server down (DESIGN.md §5); /healthz reports faulty
//    artifacts with 500 (MI ReadinessResource), `conflux check` exits 2.
#[test]
fn bad_artifacts_are_reported_and_the_rest_serves() {
    let good = api(
        "GoodApi",
        "/good",
        r#"<resource methods="GET" url-mapping="/*">
        <inSequence>
            <payloadFactory media-type="text"><format>good</format><args/></payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#,
    );
    let unparsable = "<?xml version=\"1.0\"?>\n<api xmlns=\"http://ws.apache.org/ns/synapse\" name=\"Broken\" context=\"/broken\">\n    <resource methods=\"GET\">\n        <inSequence>\n    </resource>\n</api>\n".to_string();
    let unsupported = api(
        "XqueryApi",
        "/xquery",
        r#"<resource methods="GET" url-mapping="/*">
        <inSequence>
            <xquery key="k"/>
            <respond/>
        </inSequence>
    </resource>"#,
    );
    let home = home_with(&[
        ("api/GoodApi.xml", good.clone()),
        ("api/Broken.xml", unparsable),
        ("api/XqueryApi.xml", unsupported),
    ]);
    let server = start(&home);
    let r = get(server.port(HTTP), "/good/x");
    assert_eq!((r.status, r.text().as_str()), (200, "good"));
    assert_eq!(get(server.port(HTTP), "/xquery/x").status, 404);

    let health = get(server.port(INTERNAL_HTTP), "/healthz");
    assert_eq!(health.status, 500, "{}", health.text());
    let text = health.text();
    assert!(text.contains("Broken.xml:"), "{text}");
    assert!(text.contains("XqueryApi.xml:"), "{text}");
    assert!(text.contains("xquery"), "{text}");
    let log = server.output();
    assert!(log.contains("Broken.xml:"), "{log}");
    assert!(log.contains("XqueryApi.xml:"), "{log}");
    // file:line (and column) for both.
    for name in ["Broken.xml", "XqueryApi.xml"] {
        let after = text.split(name).nth(1).unwrap_or("");
        assert!(
            after.starts_with(':') && after[1..].starts_with(|c: char| c.is_ascii_digit()),
            "{name} has no line number in {text}"
        );
    }

    let (code, stdout, stderr) = run(&["check", "--home", home.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("Broken.xml:"), "{stderr}");
    assert!(stderr.contains("XqueryApi.xml:"), "{stderr}");

    let clean = home_with(&[("api/GoodApi.xml", good)]);
    let (code, stdout, stderr) = run(&["check", "--home", clean.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

// 10. The home shipped in the repository serves its HelloApi on any offset.
#[test]
fn bundled_home_answers_hello_world() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&bundled_home(), dir.path());
    let server = Server::start(dir.path(), free_offset(), &[]);
    let r = get(server.port(HTTP), "/hello/world");
    assert_eq!(r.status, 200, "{r:?}");
    let json: serde_json::Value =
        serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.text()));
    assert_eq!(json, serde_json::json!({"hello": "world"}));
    assert_eq!(r.header("content-type"), Some("application/json"));
}

// 11. Message-flow details of synapse-subset §3.3/§3.6: the implicit 202 (passthru
//     ServerWorker.sendAck, MI test ESBJAVA4852URITemplateWithCompleteURLTestCase), call resumes
//     with the reply (the postfix applies to it too), loopback runs the outSequence, a backend's
//     HTTP error status is a reply and not an endpoint fault (no suspension), response hop-by-hop
//     headers are dropped, the query-parameter quirk (MI test LastQueryParamEmptyTestCase), and
//     keep-alive with pipelined requests.
#[test]
fn message_flow_call_loopback_accept_and_backend_errors() {
    let echo = Backend::start(Behaviour::Echo);
    let failing = Backend::start(Behaviour::Fixed {
        status: 500,
        headers: vec![
            ("Connection".into(), "X-Secret".into()),
            ("X-Secret".into(), "s".into()),
            ("X-Kept".into(), "k".into()),
        ],
        body: "boom".into(),
    });
    let resources = format!(
        r#"<resource methods="GET" uri-template="/accept">
        <inSequence><log level="custom"><property name="x" value="y"/></log></inSequence>
    </resource>
    <resource methods="GET" uri-template="/call">
        <inSequence>
            <call><endpoint><address uri="{echo}/called"/></endpoint></call>
            <header name="X-After-Call" scope="transport" value="yes"/>
            <respond/>
        </inSequence>
    </resource>
    <resource methods="GET" uri-template="/loop">
        <inSequence>
            <payloadFactory media-type="text"><format>looped</format><args/></payloadFactory>
            <loopback/>
        </inSequence>
        <outSequence>
            <header name="X-Out" scope="transport" value="ran"/>
            <send/>
        </outSequence>
    </resource>
    <resource methods="GET" uri-template="/status">
        <inSequence><send><endpoint><address uri="{failing}/s"/></endpoint></send></inSequence>
    </resource>
    <resource methods="GET" uri-template="/geo">
        <inSequence>
            <payloadFactory media-type="text">
                <format>$1|$2|$3</format>
                <args>
                    <arg expression="get-property('query.param.latitude')"/>
                    <arg expression="get-property('query.param.longitude')"/>
                    <arg expression="get-property('query.param.floor')"/>
                </args>
            </payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#,
        echo = echo.url(),
        failing = failing.url()
    );
    let home = home_with(&[("api/FlowApi.xml", api("FlowApi", "/flow", &resources))]);
    let server = start(&home);
    let port = server.port(HTTP);

    let r = get(port, "/flow/accept");
    assert_eq!(r.status, 202, "{r:?}");
    assert!(r.body.is_empty());

    let r = get(port, "/flow/call");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-after-call"), Some("yes"));
    assert_eq!(r.header("x-echo-path"), Some("/called/call"));

    let r = get(port, "/flow/loop");
    assert_eq!((r.status, r.text().as_str()), (200, "looped"), "{r:?}");
    assert_eq!(r.header("x-out"), Some("ran"));

    for _ in 0..2 {
        let r = get(port, "/flow/status");
        assert_eq!((r.status, r.text().as_str()), (500, "boom"), "{r:?}");
        assert_eq!(r.header("x-kept"), Some("k"));
        assert_eq!(r.header("x-secret"), None, "{r:?}");
    }
    assert_eq!(failing.requests().len(), 2, "a 500 reply must not suspend");

    let r = get(port, "/flow/geo?latitude=10&longitude=20&floor");
    assert_eq!(r.text(), "10|20&floor|", "{r:?}");

    let pipelined = format!(
        "GET /flow/loop HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n\
         GET /flow/geo?latitude=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    );
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    std::io::Write::write_all(&mut stream, pipelined.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = std::io::Read::read_to_end(&mut stream, &mut raw);
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(text.matches("HTTP/1.1 200").count(), 2, "{text}");
    assert!(text.contains("looped") && text.contains("1||"), "{text}");
}

// 12. Endpoint and framing edge cases: a named endpoint is one object, so its suspension is shared
//     by every artifact that references it (SYN endpoints/AbstractEndpoint keeps one
//     EndpointContext per definition); removing REST_URL_POSTFIX stops the append
//     (synapse-subset §3.7); HTTP_SC set in an outSequence is the client's status; a proxy's
//     `<target endpoint="name">`; HEAD; Expect: 100-continue; an EOF-delimited backend body; a
//     malformed backend response is 101506 (SYN SynapseConstants).
#[test]
fn endpoint_sharing_postfix_removal_and_framing_edges() {
    let echo = Backend::start(Behaviour::Echo);
    let eof_body = Backend::start(Behaviour::Raw(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nuntil the end"
            .into(),
    ));
    let garbage = Backend::start(Behaviour::Raw("this is not HTTP\r\n\r\n".into()));
    let dead = format!("http://127.0.0.1:{}/dead", closed_port());
    let send_key = |key: &str| {
        format!(
            r#"<resource url-mapping="/*">
        <inSequence><send><endpoint key="{key}"/></send></inSequence>
    </resource>"#
        )
    };
    let send_to = |uri: &str| {
        format!(
            r#"<resource url-mapping="/*">
        <inSequence><send><endpoint><address uri="{uri}"/></endpoint></send></inSequence>
    </resource>"#
        )
    };
    let home = home_with(&[
        (
            "endpoints/DeadShared.xml",
            format!(
                r#"<endpoint xmlns="http://ws.apache.org/ns/synapse" name="DeadShared"><address uri="{dead}"/></endpoint>"#
            ),
        ),
        (
            "endpoints/EchoNamed.xml",
            format!(
                r#"<endpoint xmlns="http://ws.apache.org/ns/synapse" name="EchoNamed"><address uri="{}/named"/></endpoint>"#,
                echo.url()
            ),
        ),
        ("api/SharedA.xml", api("SharedA", "/shared-a", &send_key("DeadShared"))),
        ("api/SharedB.xml", api("SharedB", "/shared-b", &send_key("DeadShared"))),
        (
            "api/NoPostfixApi.xml",
            api(
                "NoPostfixApi",
                "/nopostfix",
                &format!(
                    r#"<resource url-mapping="/*">
        <inSequence>
            <property name="REST_URL_POSTFIX" scope="axis2" action="remove"/>
            <send><endpoint><address uri="{}/fixed"/></endpoint></send>
        </inSequence>
        <outSequence>
            <property name="HTTP_SC" scope="axis2" value="299"/>
            <send/>
        </outSequence>
    </resource>"#,
                    echo.url()
                ),
            ),
        ),
        ("api/EchoApi.xml", api("EchoApi", "/echo", &send_to(&echo.url()))),
        ("api/EofApi.xml", api("EofApi", "/eof", &send_to(&eof_body.url()))),
        ("api/GarbageApi.xml", api("GarbageApi", "/garbage", &send_to(&garbage.url()))),
        (
            "proxy-services/KeyProxy.xml",
            r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="KeyProxy" transports="http https" startOnLoad="true">
    <target endpoint="EchoNamed"/>
</proxy>"#
                .to_string(),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);

    let a = get(port, "/shared-a");
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.text().contains("101503"), "{}", a.text());
    let b = get(port, "/shared-b");
    assert!(
        b.text().contains("303001"),
        "shared endpoint not suspended: {b:?}"
    );

    let r = get(port, "/nopostfix/a/b?c=d");
    assert_eq!(r.status, 299, "{r:?}");
    assert_eq!(r.header("x-echo-path"), Some("/fixed"));

    let r = get(port, "/services/KeyProxy/k?v=1");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-echo-path"), Some("/named/k?v=1"));

    let r = request("HEAD", port, "/echo/h", &[], b"");
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.is_empty());
    assert_eq!(
        echo.requests().last().map(|s| s.method.clone()),
        Some("HEAD".into())
    );

    let body = b"expecting";
    let raw = format!(
        "POST /echo/expect HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut bytes = raw.into_bytes();
    bytes.extend_from_slice(body);
    let r = raw_exchange(port, &bytes);
    // A 100 Continue may come first; the final answer carries the echo.
    let final_text = String::from_utf8_lossy(&r.body).into_owned();
    assert!(
        r.status == 200 || (r.status == 100 && final_text.contains("expecting")),
        "{r:?}"
    );
    let seen = echo.requests();
    let expect = seen
        .iter()
        .find(|s| s.path_and_query == "/expect")
        .expect("expect request");
    assert_eq!(expect.body_len, body.len() as u64);
    assert_eq!(expect.header("expect"), None);

    let r = get(port, "/eof/x");
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "until the end"),
        "{r:?}"
    );

    let r = get(port, "/garbage/x");
    assert_eq!(r.status, 502, "{r:?}");
    assert!(r.text().contains("101506"), "{}", r.text());
}

// 13. What passes through untouched: the raw (still percent-encoded) postfix, repeated headers
//     both ways, Content-Type parameters; the longest context wins (SYN SynapseConfiguration
//     reconstructAPITable); context versioning (SYN api/version/ContextVersionStrategy); reserved
//     characters in {uri.var.x} are encoded, in {+uri.var.x} not (MI test
//     ESBJAVA3751UriTemplateReservedCharacterEncodingTest).
#[test]
fn raw_postfix_repeated_headers_longest_context_and_template_encoding() {
    let echo = Backend::start(Behaviour::Echo);
    let cookies = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![
            ("Set-Cookie".into(), "a=1".into()),
            ("Set-Cookie".into(), "b=2".into()),
        ],
        body: "cookies".into(),
    });
    let send_to = |uri: &str| {
        format!(
            r#"<resource url-mapping="/*">
        <inSequence><send><endpoint><address uri="{uri}"/></endpoint></send></inSequence>
    </resource>"#
        )
    };
    let url = echo.url();
    let home = home_with(&[
        (
            "api/Outer.xml",
            api("Outer", "/nest", &send_to(&format!("{url}/outer"))),
        ),
        (
            "api/Inner.xml",
            api("Inner", "/nest/inner", &send_to(&format!("{url}/inner"))),
        ),
        (
            "api/Cookies.xml",
            api("Cookies", "/cookies", &send_to(&cookies.url())),
        ),
        (
            "api/CtxVersion.xml",
            format!(
                r#"<api xmlns="http://ws.apache.org/ns/synapse" name="CtxVersion" context="/v{{version}}/cv" version="2.0" version-type="context">
    {}
</api>"#,
                send_to(&format!("{url}/cv"))
            ),
        ),
        (
            "api/Enc.xml",
            api(
                "Enc",
                "/enc",
                &format!(
                    r#"<resource methods="GET" uri-template="/plain/{{id}}">
        <inSequence><send><endpoint><http method="get" uri-template="{url}/p/{{uri.var.id}}"/></endpoint></send></inSequence>
    </resource>
    <resource methods="GET" uri-template="/reserved/{{id}}">
        <inSequence><send><endpoint><http method="get" uri-template="{url}/r/{{+uri.var.id}}"/></endpoint></send></inSequence>
    </resource>
    <resource methods="GET" uri-template="/nomethod/{{id}}">
        <inSequence><send><endpoint><http uri-template="{url}/p/{{uri.var.id}}"/></endpoint></send></inSequence>
    </resource>"#
                ),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);

    let r = request(
        "POST",
        port,
        "/nest/a%2Fb/c%20d?x=%20&y=a+b",
        &[
            ("X-Multi", "one"),
            ("X-Multi", "two"),
            ("Content-Type", "application/json; charset=UTF-8"),
        ],
        b"{}",
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.header("x-echo-path"),
        Some("/outer/a%2Fb/c%20d?x=%20&y=a+b")
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
    let seen = echo.requests();
    let multi: Vec<&str> = seen[0]
        .headers
        .iter()
        .filter(|(k, _)| k == "x-multi")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(multi, ["one", "two"]);

    assert_eq!(
        get(port, "/nest/inner/z").header("x-echo-path"),
        Some("/inner/z")
    );
    assert_eq!(
        get(port, "/nest/innerz").header("x-echo-path"),
        Some("/outer/innerz")
    );

    let r = get(port, "/cookies");
    let set: Vec<&str> = r
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(set, ["a=1", "b=2"], "{r:?}");

    let r = get(port, "/v2.0/cv/q");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-echo-path"), Some("/cv/q"));

    let r = get(port, "/enc/plain/a%2Fb%20c");
    assert_eq!(r.header("x-echo-path"), Some("/p/a%2Fb%20c"), "{r:?}");
    let r = get(port, "/enc/reserved/a%2Fb");
    assert_eq!(r.header("x-echo-path"), Some("/r/a/b"), "{r:?}");
    // Without a method an http endpoint is no "HTTP endpoint" to Synapse
    // (HTTPEndpoint.processHttpMethod), so a REST message's postfix goes on as for an address.
    let r = get(port, "/enc/nomethod/a");
    assert_eq!(r.header("x-echo-path"), Some("/p/a/nomethod/a"), "{r:?}");
}

// MI's passthru message size validation (SourceHandler, `[transport.http]
// enable_message_size_validation` / `max_message_size_bytes`): a body past the limit is answered
// 413 and never reaches the backend, whether Content-Length announces it or it comes chunked; the
// backend's non-redirect Location is rewritten to the client-facing prefix (passthru
// ClientWorker); GET /favicon.ico is redirected (MI's HTTP GET processor).
#[test]
fn message_size_validation_location_rewrite_and_favicon() {
    let backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Location".into(), "http://backend.example:9000/a/b".into())],
        body: "ok".into(),
    });
    let home = Home::new(
        "[server]\nhostname = \"localhost\"\n[transport.http]\nenable_message_size_validation = true\nmax_message_size_bytes = 1000\n",
    );
    home.write(
        &format!("{SYNAPSE}/api/SizeApi.xml"),
        &api(
            "SizeApi",
            "/size",
            &format!(
                r#"<resource methods="POST" url-mapping="/*">
        <inSequence><send><endpoint><address uri="{}/sink"/></endpoint></send></inSequence>
    </resource>"#,
                backend.url()
            ),
        ),
    );
    let server = start(&home);
    let port = server.port(HTTP);

    let small = stream_upload(port, "/size/x", 1000, 1, Framing::Chunked);
    assert_eq!(small.status, 200, "{small:?}");
    // MI: the service prefix (local address and port, the request path before its postfix) + path.
    assert_eq!(
        small.header("location"),
        Some(format!("http://127.0.0.1:{port}/a/b").as_str())
    );
    let big = stream_upload(port, "/size/x", 1001, 1, Framing::Chunked);
    assert_eq!(big.status, 413, "{big:?}");
    let big = stream_upload(port, "/size/x", 5000, 1, Framing::ContentLength);
    assert_eq!(big.status, 413, "{big:?}");
    assert_eq!(
        backend.requests().len(),
        1,
        "only the small request is sent"
    );

    let favicon = get(port, "/favicon.ico");
    assert_eq!(favicon.status, 301);
    assert_eq!(
        favicon.header("location"),
        Some("http://wso2.org/favicon.ico")
    );
}

/// The names of the threads of process `pid` (`/proc/<pid>/task/*/comm`).
fn thread_names(pid: u32) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("/proc task dir")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_string())
        .collect();
    names.sort();
    names
}

// With the Conflux HTTP/1 engine (the default) on several CPUs, the plain pass-through listener
// runs one thread with its own runtime per CPU, all accepting from the one socket of the port
// plan (transport server.rs `serve_routed_per_core`); with `http1_engine = "hyper"` it stays on
// the shared worker pool. Either way requests are answered the same.
#[test]
fn plain_http_listener_gets_one_thread_per_cpu_with_the_engine() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpus < 2 {
        eprintln!("skipped: one CPU available, the listener then runs on the one runtime");
        return;
    }
    let backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![],
        body: "pong".into(),
    });
    for (engine, threads) in [("conflux", cpus), ("hyper", 0)] {
        let home = Home::new(&format!(
            "[server]\nhostname = \"localhost\"\n[transport]\nhttp1_engine = \"{engine}\"\n"
        ));
        home.write(
            &format!("{SYNAPSE}/api/Ping.xml"),
            &api(
                "Ping",
                "/ping",
                &format!(
                    r#"<resource methods="GET" url-mapping="/*"><inSequence><send><endpoint><address uri="{}"/></endpoint></send></inSequence></resource>"#,
                    backend.url()
                ),
            ),
        );
        let server = start(&home);
        let port = server.port(HTTP);
        let answers: Vec<u16> = std::thread::scope(|scope| {
            let clients: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| get(port, "/ping").status))
                .collect();
            clients.into_iter().map(|c| c.join().unwrap()).collect()
        });
        assert_eq!(answers, vec![200; 8], "{engine}");
        let names = thread_names(server.pid());
        let listener_threads = names
            .iter()
            .filter(|n| n.starts_with("conflux-http-"))
            .count();
        assert_eq!(listener_threads, threads, "{engine}: {names:?}");
    }
}
