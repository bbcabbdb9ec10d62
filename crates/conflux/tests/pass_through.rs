//! End to end through the real binary: Synapse artifacts in a temporary home, real sockets to the
//! HTTP/HTTPS listeners, and in-process backends that record what reaches them. Covers APIs that
//! answer by themselves, send to address/http/named endpoints (MI's REST_URL_POSTFIX rule, header
//! handling, outSequence), proxy services, dispatch answers (404/405/main/versioned APIs), backend
//! faults (101503/101504/101505, suspension 303001, fault sequences), 64 MiB streaming both ways,
//! HTTPS, bad artifacts, and the bundled home. Each test owns its home and port offset.

mod support;

use support::backend::*;
use support::*;

const TOML: &str = "[server]\nhostname = \"localhost\"\n";
const SYNAPSE: &str = "repository/deployment/server/synapse-configs/default";

/// A home with these artifacts (`("api/X.xml", xml)`, relative to synapse-configs/default).
fn home_with(artifacts: &[(&str, String)]) -> Home {
    let home = Home::new(TOML);
    for (path, xml) in artifacts {
        home.write(&format!("{SYNAPSE}/{path}"), xml);
    }
    home
}

fn start(home: &Home) -> Server {
    Server::start(home.path(), free_offset(), &[])
}

fn api(name: &str, context: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<api xmlns="http://ws.apache.org/ns/synapse" name="{name}" context="{context}">
{body}
</api>"#
    )
}

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
    assert_eq!((s.method.as_str(), s.path_and_query.as_str()), ("GET", "/base"));
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
    assert_eq!(r.header("x-main"), None, "an API claimed it; main must not run");
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
//    endpoints/AbstractEndpoint + EndpointContext (default: suspend on any error, 30 s), timeout
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
    assert_eq!(seen[0].header("content-length"), Some(BIG.to_string().as_str()));
    assert_eq!(seen[0].header("transfer-encoding"), None);

    let small = 300_000;
    let r = stream_upload(port, "/up/chunked", small, 3, Framing::Chunked);
    assert_eq!(r.status, 200, "{r:?}");
    let seen = &sink.requests()[1];
    assert_eq!(seen.body_len, small);
    assert_eq!(seen.body_sha256, pattern_sha256(small, 3));
    assert_eq!(seen.header("transfer-encoding"), Some("chunked"), "{seen:?}");
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
    assert_eq!(get(server.port(HTTP), "/tls/me").text(), r#"{"secure": "me"}"#);
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
        "ScriptApi",
        "/script",
        r#"<resource methods="GET" url-mapping="/*">
        <inSequence>
            <script language="js">mc.setPayloadJSON({"a": 1});</script>
            <respond/>
        </inSequence>
    </resource>"#,
    );
    let home = home_with(&[
        ("api/GoodApi.xml", good.clone()),
        ("api/Broken.xml", unparsable),
        ("api/ScriptApi.xml", unsupported),
    ]);
    let server = start(&home);
    let r = get(server.port(HTTP), "/good/x");
    assert_eq!((r.status, r.text().as_str()), (200, "good"));
    assert_eq!(get(server.port(HTTP), "/script/x").status, 404);

    let health = get(server.port(INTERNAL_HTTP), "/healthz");
    assert_eq!(health.status, 500, "{}", health.text());
    let text = health.text();
    assert!(text.contains("Broken.xml:"), "{text}");
    assert!(text.contains("ScriptApi.xml:"), "{text}");
    assert!(text.contains("script"), "{text}");
    let log = server.output();
    assert!(log.contains("Broken.xml:"), "{log}");
    assert!(log.contains("ScriptApi.xml:"), "{log}");
    // file:line (and column) for both.
    for name in ["Broken.xml", "ScriptApi.xml"] {
        let after = text.split(name).nth(1).unwrap_or("");
        assert!(
            after.starts_with(':') && after[1..].starts_with(|c: char| c.is_ascii_digit()),
            "{name} has no line number in {text}"
        );
    }

    let (code, stdout, stderr) = run(&["check", "--home", home.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("Broken.xml:"), "{stderr}");
    assert!(stderr.contains("ScriptApi.xml:"), "{stderr}");

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
    let json: serde_json::Value = serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("{e}: {}", r.text()));
    assert_eq!(json, serde_json::json!({"hello": "world"}));
    assert_eq!(r.header("content-type"), Some("application/json"));
}
