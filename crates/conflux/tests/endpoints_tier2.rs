//! `<recipientlist>` endpoints and load-balance session affinity end to end through the real
//! binary, against in-process backends that record what they received.
//!
//! Recipient lists: SYN `endpoints/RecipientListEndpoint.java`, MI samples 61 and 62 (MI tests
//! `Sample61TestCase`, `Sample62TestCase`: a copy to every member, the replies aggregated in the
//! out-sequence, `OUT_ONLY` answered 202). Session affinity: SYN
//! `endpoints/SALoadbalanceEndpoint.java` and `endpoints/dispatch/*SessionDispatcher.java`.

mod support;

use support::backend::*;
use support::*;

const NS: &str = r#"xmlns="http://ws.apache.org/ns/synapse""#;

/// The reply of a stock quote backend for `symbol`.
fn quote(symbol: &str) -> String {
    format!(
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><ns:getQuoteResponse xmlns:ns="http://services.samples"><ns:return><ns:symbol>{symbol}</ns:symbol></ns:return></ns:getQuoteResponse></soapenv:Body></soapenv:Envelope>"#
    )
}

fn quote_backend(symbol: &str) -> Backend {
    Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "text/xml; charset=UTF-8".into())],
        body: quote(symbol),
    })
}

const GET_QUOTE: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><m0:getQuote xmlns:m0="http://services.samples"><m0:request><m0:symbol>WSO2</m0:symbol></m0:request></m0:getQuote></soapenv:Body></soapenv:Envelope>"#;

fn soap_post(port: u16, path: &str, body: &str) -> HttpResponse {
    request(
        "POST",
        port,
        path,
        &[
            ("Content-Type", "text/xml; charset=UTF-8"),
            ("SOAPAction", "\"urn:getQuote\""),
        ],
        body.as_bytes(),
    )
}

/// Every order of `items`.
fn permutations<'a>(items: &[&'a str]) -> Vec<Vec<&'a str>> {
    if items.is_empty() {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for (i, first) in items.iter().enumerate() {
        let mut rest = items.to_vec();
        rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, first);
            out.push(tail);
        }
    }
    out
}

/// The aggregated reply: the `getQuoteResponse` of each symbol in one envelope, in the order the
/// replies arrived (any order).
fn assert_aggregated(text: &str, symbols: &[&str]) {
    let part = |s: &str| {
        format!(
            r#"<ns:getQuoteResponse xmlns:ns="http://services.samples"><ns:return><ns:symbol>{s}</ns:symbol></ns:return></ns:getQuoteResponse>"#
        )
    };
    let envelope = |parts: String| {
        format!(
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>{parts}</soapenv:Body></soapenv:Envelope>"#
        )
    };
    let orders = permutations(symbols);
    let expected: Vec<String> = orders
        .iter()
        .map(|o| envelope(o.iter().map(|s| part(s)).collect()))
        .collect();
    assert!(
        expected.iter().any(|e| e == text),
        "{text}\nis not one of\n{}",
        expected.join("\n")
    );
}

fn proxy(name: &str, in_sequence: &str, out_sequence: &str) -> String {
    format!(
        r#"<proxy {NS} name="{name}" transports="http" startOnLoad="true"><target>
<inSequence>{in_sequence}</inSequence>
<outSequence>{out_sequence}</outSequence>
<faultSequence><payloadFactory media-type="json"><format>{{"code": "$1"}}</format><args><arg expression="get-property('ERROR_CODE')"/></args></payloadFactory><respond/></faultSequence>
</target></proxy>"#
    )
}

/// MI sample 62's out-sequence: the replies aggregated, the result sent back.
const AGGREGATE_OUT: &str = r#"<aggregate><completeCondition><messageCount/></completeCondition>
<onComplete xmlns:m0="http://services.samples" expression="//m0:getQuoteResponse"><send/></onComplete></aggregate>"#;

fn address(url: &str) -> String {
    format!(r#"<endpoint><address uri="{url}/services/SimpleStockQuoteService"/></endpoint>"#)
}

#[test]
fn recipient_list_members_each_get_a_copy_and_the_replies_are_aggregated() {
    let (a, b, c) = (quote_backend("A"), quote_backend("B"), quote_backend("C"));
    let list = format!(
        r#"<send><endpoint><recipientlist>{}{}<endpoint key="QuoteC"/></recipientlist></endpoint></send>"#,
        address(&a.url()),
        address(&b.url())
    );
    let home = home_with(&[
        (
            "proxy-services/Static62.xml",
            proxy("Static62", &list, AGGREGATE_OUT),
        ),
        (
            "endpoints/QuoteC.xml",
            format!(
                r#"<endpoint {NS} name="QuoteC"><address uri="{}/services/SimpleStockQuoteService"/></endpoint>"#,
                c.url()
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    for round in 1..=2 {
        let r = soap_post(port, "/services/Static62", GET_QUOTE);
        assert_eq!(r.status, 200, "{}\n{}", r.text(), server.output());
        assert_aggregated(&r.text(), &["A", "B", "C"]);
        // Every member got the same copy of the request, once per message.
        let got: Vec<Recorded> = [&a, &b, &c]
            .iter()
            .flat_map(|backend| backend.requests())
            .collect();
        assert_eq!(got.len(), 3 * round);
        for g in &got {
            assert_eq!(g.method, "POST");
            assert_eq!(g.path_and_query, "/services/SimpleStockQuoteService");
            assert_eq!(g.body_sha256, sha256_hex(GET_QUOTE.as_bytes()));
            assert_eq!(g.header("soapaction"), Some("\"urn:getQuote\""));
        }
    }
}

// MI sample 62: `<endpoints value="{get-property('EP_LIST')}" max-cache="20"/>`; here the list
// comes from the request itself (an XPath over the payload).
#[test]
fn a_dynamic_recipient_list_comes_from_an_expression() {
    let (a, b) = (quote_backend("A"), quote_backend("B"));
    let in_sequence = r#"<property name="EP_LIST" expression="//m0:getQuote/m0:request/m0:targets" xmlns:m0="http://services.samples"/>
<send><endpoint><recipientlist><endpoints value="{get-property('EP_LIST')}" max-cache="20"/></recipientlist></endpoint></send>"#;
    let home = home_with(&[(
        "proxy-services/Dynamic62.xml",
        proxy("Dynamic62", in_sequence, AGGREGATE_OUT),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);
    let targets = format!(
        "{}/services/SimpleStockQuoteService, {}/services/SimpleStockQuoteService",
        a.url(),
        b.url()
    );
    let body = GET_QUOTE.replace(
        "<m0:symbol>WSO2</m0:symbol>",
        &format!("<m0:symbol>WSO2</m0:symbol><m0:targets>{targets}</m0:targets>"),
    );
    let r = soap_post(port, "/services/Dynamic62", &body);
    assert_eq!(r.status, 200, "{}\n{}", r.text(), server.output());
    assert_aggregated(&r.text(), &["A", "B"]);
    assert_eq!(a.requests().len(), 1);
    assert_eq!(b.requests().len(), 1);
    // Only the first address this time.
    let body = body.replace(
        &targets,
        &format!("{}/services/SimpleStockQuoteService", a.url()),
    );
    let r = soap_post(port, "/services/Dynamic62", &body);
    assert_eq!(r.status, 200, "{}\n{}", r.text(), server.output());
    assert_aggregated(&r.text(), &["A"]);
    assert_eq!(a.requests().len(), 2);
    assert_eq!(b.requests().len(), 1);
}

// MI sample 61 / Sample61TestCase: OUT_ONLY and FORCE_SC_ACCEPTED; every member is called and the
// client gets 202 with no body.
#[test]
fn an_out_only_recipient_list_answers_202_after_sending_to_every_member() {
    let backends = [quote_backend("A"), quote_backend("B"), quote_backend("C")];
    let list: Vec<String> = backends
        .iter()
        .map(|b| format!("{}/services/SimpleStockQuoteService", b.url()))
        .collect();
    let in_sequence = format!(
        r#"<property name="EP_LIST" value="{}"/>
<property name="OUT_ONLY" value="true"/>
<property name="FORCE_SC_ACCEPTED" value="true" scope="axis2"/>
<send><endpoint><recipientlist><endpoints value="{{get-property('EP_LIST')}}" max-cache="20"/></recipientlist></endpoint></send>"#,
        list.join(",")
    );
    let home = home_with(&[(
        "proxy-services/Sample61.xml",
        proxy("Sample61", &in_sequence, ""),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);
    for round in 1..=2 {
        let r = soap_post(port, "/services/Sample61", GET_QUOTE);
        assert_eq!(r.status, 202, "{}\n{}", r.text(), server.output());
        assert!(r.body.is_empty(), "{}", r.text());
        for b in &backends {
            assert_eq!(b.requests().len(), round);
        }
    }
}

// RecipientListEndpoint.sendToEndpointList: a member that fails does not stop the others, and it
// is then suspended on its own (here: a backend that closes the connection), so the next message
// is not sent to it at all.
#[test]
fn a_failing_member_does_not_stop_the_others_and_is_suspended_alone() {
    let (a, b) = (quote_backend("A"), quote_backend("B"));
    let closer = Backend::start(Behaviour::Close);
    let list = format!(
        r#"<send><endpoint><recipientlist>{}{}{}</recipientlist></endpoint></send>"#,
        address(&a.url()),
        address(&closer.url()),
        address(&b.url())
    );
    let home = home_with(&[(
        "proxy-services/Partial.xml",
        proxy("Partial", &list, AGGREGATE_OUT),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);
    for round in 1..=3 {
        let r = soap_post(port, "/services/Partial", GET_QUOTE);
        assert_eq!(r.status, 200, "{}\n{}", r.text(), server.output());
        assert_aggregated(&r.text(), &["A", "B"]);
        assert_eq!(a.requests().len(), round);
        assert_eq!(b.requests().len(), round);
        // Sent to once; suspended (MI's default: 30 s) after that.
        assert_eq!(closer.requests().len(), 1, "round {round}");
    }
}

// No member ready: 303000 (`ENDPOINT_RL_NONE_READY`) for the fault sequence. Before that, the
// only failure is the answer: the members' own error code.
#[test]
fn a_recipient_list_without_a_ready_member_faults_with_303000() {
    let (d1, d2) = (closed_port(), closed_port());
    let list = format!(
        r#"<send><endpoint name="Nobody"><recipientlist><endpoint><address uri="http://127.0.0.1:{d1}/svc"/></endpoint><endpoint><address uri="http://127.0.0.1:{d2}/svc"/></endpoint></recipientlist></endpoint></send>"#
    );
    let home = home_with(&[(
        "proxy-services/Down.xml",
        proxy("Down", &list, AGGREGATE_OUT),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);
    let r = soap_post(port, "/services/Down", GET_QUOTE);
    assert_eq!(r.text(), r#"{"code": "101503"}"#, "{}", server.output());
    let r = soap_post(port, "/services/Down", GET_QUOTE);
    assert_eq!(r.text(), r#"{"code": "303000"}"#, "{}", server.output());
}

// CallMediator copies its continuation to the clones: each reply goes on with the mediators after
// the <call>, where an <aggregate> collects them.
#[test]
fn call_with_a_recipient_list_continues_with_each_reply() {
    let (a, b) = (quote_backend("A"), quote_backend("B"));
    let api_body = format!(
        r#"<resource methods="POST"><inSequence>
<call><endpoint><recipientlist>{}{}</recipientlist></endpoint></call>
<log level="custom"><property name="REPLY" expression="get-property('messageSequence')"/></log>
{AGGREGATE_OUT}
</inSequence></resource>"#,
        address(&a.url()),
        address(&b.url())
    )
    .replace("<send/>", "<respond/>");
    let home = home_with(&[("api/Quotes.xml", api("Quotes", "/quotes", &api_body))]);
    let server = start(&home);
    let r = soap_post(server.port(HTTP), "/quotes", GET_QUOTE);
    assert_eq!(r.status, 200, "{}\n{}", r.text(), server.output());
    assert_aggregated(&r.text(), &["A", "B"]);
    assert_eq!((a.requests().len(), b.requests().len()), (1, 1));
}

/// A backend answering its name, opening an HTTP session `JSESSIONID=<name>-1`.
fn cookie_backend(name: &str) -> Backend {
    Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "text/plain".into()),
            (
                "Set-Cookie".into(),
                format!("JSESSIONID={name}-1; Path=/; HttpOnly"),
            ),
            ("Connection".into(), "close".into()),
        ],
        body: name.into(),
    })
}

/// A backend on a std listener that answers one request like [`cookie_backend`] and then closes
/// its listening socket: once its thread is joined, its port refuses connections.
fn one_shot_backend(name: &'static str) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind one-shot backend");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let thread = std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        drop(listener);
        let mut head = Vec::new();
        let mut chunk = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&chunk[..n]),
            }
        }
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: JSESSIONID={name}-1; Path=/\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{name}",
            name.len()
        );
    });
    (url, thread)
}

fn session_endpoint(name: &str, session: &str, members: &[String]) -> String {
    let members: String = members
        .iter()
        .map(|url| format!(r#"<endpoint><address uri="{url}/svc"/></endpoint>"#))
        .collect();
    format!(
        r#"<endpoint {NS} name="{name}">{session}<loadbalance algorithm="org.apache.synapse.endpoints.algorithms.RoundRobin">{members}</loadbalance></endpoint>"#
    )
}

fn session_home(session: &str, members: &[String]) -> Home {
    home_with(&[
        (
            "endpoints/Sticky.xml",
            session_endpoint("Sticky", session, members),
        ),
        (
            "api/S.xml",
            api(
                "S",
                "/s",
                r#"<resource methods="GET POST"><inSequence><send><endpoint key="Sticky"/></send></inSequence>
<faultSequence><payloadFactory media-type="json"><format>{"code": "$1"}</format><args><arg expression="get-property('ERROR_CODE')"/></args></payloadFactory><respond/></faultSequence></resource>"#,
            ),
        ),
    ])
}

fn get_with_cookie(port: u16, cookie: Option<&str>) -> HttpResponse {
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("Cookie", c)).into_iter().collect();
    request("GET", port, "/s", &headers, b"")
}

// HttpSessionDispatcher: the backend's Set-Cookie opens the session, the client's Cookie routes
// it back there; a cookie of no live session starts a new one, without the stale session cookie.
#[test]
fn http_sessions_stick_to_the_member_that_opened_them() {
    let (a, b, c) = (
        cookie_backend("a"),
        cookie_backend("b"),
        cookie_backend("c"),
    );
    let home = session_home(
        r#"<session type="http"><sessionTimeout>600000</sessionTimeout></session>"#,
        &[a.url(), b.url(), c.url()],
    );
    let server = start(&home);
    let port = server.port(HTTP);
    let first = get_with_cookie(port, None);
    assert_eq!(first.text(), "a", "{}", server.output());
    assert_eq!(
        first.header("set-cookie"),
        Some("JSESSIONID=a-1; Path=/; HttpOnly")
    );
    assert_eq!(get_with_cookie(port, None).text(), "b");
    let answers: Vec<String> = [
        "JSESSIONID=a-1",
        "JSESSIONID=a-1",
        "theme=dark; JSESSIONID=b-1",
        "JSESSIONID=a-1",
    ]
    .iter()
    .map(|c| get_with_cookie(port, Some(c)).text())
    .collect();
    assert_eq!(answers, ["a", "a", "b", "a"]);
    // A session no one opened: load-balanced (round robin goes on at c), and the session cookie
    // is taken off the request.
    let r = get_with_cookie(port, Some("theme=dark; JSESSIONID=zz-9"));
    assert_eq!(r.text(), "c");
    let to_c = c.requests();
    assert_eq!(to_c.len(), 1);
    assert_eq!(to_c[0].header("cookie"), Some("theme=dark"));
    // A request on a live session keeps its cookies as they are.
    let to_b = b.requests();
    assert_eq!(to_b.len(), 2);
    assert_eq!(to_b[1].header("cookie"), Some("theme=dark; JSESSIONID=b-1"));
    assert_eq!(a.requests().len(), 4);
}

// SALoadbalanceEndpoint.sendMessageOnCurrentSession / onChildEndpointFail: an established session
// is never moved to another member. Its member failing is the message's fault (the member's own
// error code); while that member is suspended the session's messages fail with 309001
// (ENDPOINT_SAL_NOT_READY), and new sessions go to the other members.
#[test]
fn a_session_whose_member_is_suspended_fails_instead_of_moving() {
    let (a_url, a) = one_shot_backend("a");
    let b = cookie_backend("b");
    let home = session_home(r#"<session type="http"/>"#, &[a_url, b.url()]);
    let server = start(&home);
    let port = server.port(HTTP);
    assert_eq!(get_with_cookie(port, None).text(), "a");
    // Member a has stopped listening: its port refuses connections from now on.
    a.join().expect("one-shot backend");
    let on_a = Some("JSESSIONID=a-1");
    assert_eq!(
        get_with_cookie(port, on_a).text(),
        r#"{"code": "101503"}"#,
        "{}",
        server.output()
    );
    assert_eq!(get_with_cookie(port, on_a).text(), r#"{"code": "309001"}"#);
    assert!(b.requests().is_empty());
    // New sessions: round robin skips the suspended member.
    assert_eq!(get_with_cookie(port, None).text(), "b");
    assert_eq!(get_with_cookie(port, None).text(), "b");
    assert_eq!(b.requests().len(), 2);
}

// `<sessionTimeout>0</sessionTimeout>`: a session expires as soon as it is opened (expiry < now at
// the next message), so the next message is load-balanced again.
#[test]
fn an_expired_session_is_load_balanced_again() {
    let (a, b) = (cookie_backend("a"), cookie_backend("b"));
    let home = session_home(
        r#"<session type="http"><sessionTimeout>0</sessionTimeout></session>"#,
        &[a.url(), b.url()],
    );
    let server = start(&home);
    let port = server.port(HTTP);
    assert_eq!(get_with_cookie(port, None).text(), "a");
    let r = get_with_cookie(port, Some("JSESSIONID=a-1"));
    assert_eq!(r.text(), "b", "{}", server.output());
    assert_eq!(b.requests()[0].header("cookie"), None);
}

fn text_backend(name: &str) -> Backend {
    Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: name.into(),
    })
}

fn client_request(client: Option<&str>) -> String {
    let header = client
        .map(|id| {
            format!(
                r#"<soapenv:Header><syn:ClientID xmlns:syn="http://ws.apache.org/ns/synapse">{id}</syn:ClientID></soapenv:Header>"#
            )
        })
        .unwrap_or_default();
    GET_QUOTE.replace("<soapenv:Body>", &format!("{header}<soapenv:Body>"))
}

// SimpleClientSessionDispatcher (MI docs "Using the Load Balance Endpoint", simpleClientSession):
// the client's <syn:ClientID> SOAP header is bound to the member its first message is sent to;
// that first message fails over (and the session is bound anew) when its member is down.
#[test]
fn client_sessions_bind_on_the_first_message_and_fail_over_only_then() {
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let (b, c) = (text_backend("b"), text_backend("c"));
    let home = session_home(
        r#"<session type="simpleClientSession"/>"#,
        &[dead, b.url(), c.url()],
    );
    let server = start(&home);
    let port = server.port(HTTP);
    let send = |client: Option<&str>| soap_post(port, "/s", &client_request(client)).text();
    // x's first message goes to the dead member, fails over to b and is bound there.
    assert_eq!(send(Some("x")), "b", "{}", server.output());
    assert_eq!(send(Some("x")), "b");
    assert_eq!(send(Some("y")), "c");
    assert_eq!(send(Some("y")), "c");
    assert_eq!(send(Some("x")), "b");
    // No ClientID: plain round robin (the dead member is suspended and passed over).
    assert_eq!(send(None), "b");
    assert_eq!(b.requests().len(), 4);
    assert_eq!(c.requests().len(), 2);
}

fn soap_session_backend(name: &str) -> Backend {
    Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "text/xml".into())],
        body: format!(
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header><wsa:ReplyTo xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address><wsa:ReferenceParameters><axis2:ServiceGroupId xmlns:axis2="http://ws.apache.org/namespaces/axis2">urn:uuid:sg-{name}</axis2:ServiceGroupId></wsa:ReferenceParameters></wsa:ReplyTo></soapenv:Header><soapenv:Body><ns:from xmlns:ns="http://services.samples">{name}</ns:from></soapenv:Body></soapenv:Envelope>"#
        ),
    })
}

fn with_service_group(id: &str) -> String {
    GET_QUOTE.replace(
        "<soapenv:Body>",
        &format!(
            r#"<soapenv:Header><axis2:ServiceGroupId xmlns:axis2="http://ws.apache.org/namespaces/axis2">{id}</axis2:ServiceGroupId></soapenv:Header><soapenv:Body>"#
        ),
    )
}

// SoapSessionDispatcher: the response's ReplyTo reference parameter ServiceGroupId opens the
// session; the request's ServiceGroupId header routes it; a stale one is taken off the request.
#[test]
fn soap_sessions_follow_the_service_group_id() {
    let (a, b) = (soap_session_backend("a"), soap_session_backend("b"));
    let home = session_home(r#"<session type="soap"/>"#, &[a.url(), b.url()]);
    let server = start(&home);
    let port = server.port(HTTP);
    let from = |r: HttpResponse| {
        let text = r.text();
        let start = text
            .find("<ns:from")
            .map(|i| i + text[i..].find('>').unwrap_or(0) + 1);
        match start {
            Some(s) => text[s..s + text[s..].find('<').unwrap_or(0)].to_string(),
            None => text,
        }
    };
    assert_eq!(
        from(soap_post(port, "/s", GET_QUOTE)),
        "a",
        "{}",
        server.output()
    );
    assert_eq!(
        from(soap_post(port, "/s", &with_service_group("urn:uuid:sg-a"))),
        "a"
    );
    let stale = with_service_group("urn:uuid:gone");
    assert_eq!(from(soap_post(port, "/s", &stale)), "b");
    assert_eq!(
        b.requests()[0].body_sha256,
        sha256_hex(
            stale
                .replace(
                    r#"<axis2:ServiceGroupId xmlns:axis2="http://ws.apache.org/namespaces/axis2">urn:uuid:gone</axis2:ServiceGroupId>"#,
                    ""
                )
                .as_bytes()
        )
    );
    assert_eq!(
        from(soap_post(port, "/s", &with_service_group("urn:uuid:sg-b"))),
        "b"
    );
    assert_eq!(
        from(soap_post(port, "/s", &with_service_group("urn:uuid:sg-a"))),
        "a"
    );
    assert_eq!((a.requests().len(), b.requests().len()), (3, 2));
}
