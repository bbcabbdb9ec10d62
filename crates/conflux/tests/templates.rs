//! Sequence templates end to end through the real binary: `templates/*.xml` deployed and run by
//! `<call-template>` (SYN `mediators/template/InvokeMediator.java`, `TemplateMediator.java`,
//! `TemplateContext.java`): parameters evaluated in the caller's context, `$func:` and
//! `get-property('func', ..)` reading the innermost frame, defaults, a missing mandatory parameter
//! (ERROR_CODE 500101) and `onError`.

mod support;

use support::backend::*;
use support::*;

fn template(name: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<template xmlns="http://ws.apache.org/ns/synapse" name="{name}">
{body}
</template>"#
    )
}

fn post_json(port: u16, path: &str, body: &str) -> HttpResponse {
    request(
        "POST",
        port,
        path,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

#[test]
fn nested_templates_get_their_own_frames() {
    let home = home_with(&[
        (
            "templates/Outer.xml",
            template(
                "Outer",
                r#"<parameter name="name" isMandatory="true"/>
    <parameter name="greeting" defaultValue="Hello"/>
    <parameter name="unset"/>
    <sequence>
        <property name="outer_before" expression="$func:name"/>
        <call-template target="Inner">
            <with-param name="who" value="{$func:name}"/>
            <with-param name="tag" value="{//tag}"/>
            <with-param name="fixed" value="literal"/>
        </call-template>
        <property name="outer_after" expression="get-property('func', 'name')"/>
        <property name="outer_greeting" expression="$func:greeting"/>
        <property name="outer_unset" expression="concat('[', $func:unset, ']')"/>
    </sequence>"#,
            ),
        ),
        (
            "templates/Inner.xml",
            template(
                "Inner",
                r#"<parameter name="who"/>
    <parameter name="tag"/>
    <parameter name="fixed"/>
    <sequence>
        <property name="inner_who" expression="$func:who"/>
        <property name="inner_name" expression="concat('[', $func:name, ']')"/>
        <property name="inner_tag" expression="$func:tag"/>
        <property name="inner_fixed" expression="get-property('func', 'fixed')"/>
    </sequence>"#,
            ),
        ),
        (
            "api/T.xml",
            api(
                "T",
                "/t",
                r#"<resource methods="POST">
        <inSequence>
            <call-template target="Outer">
                <with-param name="name" value="{json-eval($.name)}"/>
            </call-template>
            <payloadFactory media-type="json">
                <format>{"outer": ["$1", "$2", "$3", "$4"], "inner": ["$5", "$6", "$7", "$8"], "after": "[$9]"}</format>
                <args>
                    <arg expression="$ctx:outer_before"/>
                    <arg expression="$ctx:outer_after"/>
                    <arg expression="$ctx:outer_greeting"/>
                    <arg expression="$ctx:outer_unset"/>
                    <arg expression="$ctx:inner_who"/>
                    <arg expression="$ctx:inner_name"/>
                    <arg expression="$ctx:inner_tag"/>
                    <arg expression="$ctx:inner_fixed"/>
                    <arg expression="$func:name"/>
                </args>
            </payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#,
            ),
        ),
    ]);
    let server = start(&home);
    let r = post_json(server.port(HTTP), "/t", r#"{"name": "Ada", "tag": "t1"}"#);
    assert_eq!(r.status, 200, "{r:?}\n{}", server.output());
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "outer": ["Ada", "Ada", "Hello", "[]"],
            "inner": ["Ada", "[]", "t1", "literal"],
            "after": "[]"
        })
    );
}

#[test]
fn a_missing_mandatory_parameter_faults_with_500101_and_on_error_runs() {
    let home = home_with(&[
        (
            "templates/Strict.xml",
            template(
                "Strict",
                r#"<parameter name="must" isMandatory="true" defaultValue="ignored"/>
    <sequence>
        <payloadFactory media-type="text">
            <format>got $1</format>
            <args><arg expression="$func:must"/></args>
        </payloadFactory>
        <respond/>
    </sequence>"#,
            ),
        ),
        (
            "templates/Failing.xml",
            r#"<template xmlns="http://ws.apache.org/ns/synapse" name="Failing" onError="Handler">
    <parameter name="p"/>
    <sequence>
        <sequence key="NotDeployed"/>
    </sequence>
</template>"#
                .to_string(),
        ),
        (
            "sequences/Handler.xml",
            r#"<sequence xmlns="http://ws.apache.org/ns/synapse" name="Handler">
    <payloadFactory media-type="text">
        <format>handled $1 with $2</format>
        <args><arg expression="$func:p"/><arg expression="$ctx:ERROR_MESSAGE"/></args>
    </payloadFactory>
    <respond/>
</sequence>"#
                .to_string(),
        ),
        (
            "api/M.xml",
            api(
                "M",
                "/m",
                r#"<resource methods="POST" uri-template="/ok">
        <inSequence>
            <call-template target="Strict"><with-param name="must" value="yes"/></call-template>
        </inSequence>
    </resource>
    <resource methods="POST" uri-template="/missing">
        <inSequence>
            <call-template target="Strict"/>
        </inSequence>
        <faultSequence>
            <payloadFactory media-type="text">
                <format>$1: $2</format>
                <args><arg expression="$ctx:ERROR_CODE"/><arg expression="$ctx:ERROR_MESSAGE"/></args>
            </payloadFactory>
            <respond/>
        </faultSequence>
    </resource>
    <resource methods="POST" uri-template="/handled">
        <inSequence>
            <call-template target="Failing"><with-param name="p" value="P1"/></call-template>
        </inSequence>
    </resource>"#,
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let r = post_json(port, "/m/ok", "{}");
    assert_eq!((r.status, r.text().as_str()), (200, "got yes"), "{r:?}");
    let r = post_json(port, "/m/missing", "{}");
    assert_eq!(
        r.text(),
        "500101: Neither a value nor default value is provided for mandatory parameter: must in seq-template Strict"
    );
    let r = post_json(port, "/m/handled", "{}");
    assert_eq!(
        r.text(),
        "handled P1 with sequence NotDeployed is not deployed",
        "{}",
        server.output()
    );
}

// TemplateEndpointFactory + Template.replaceElement: a named endpoint and an inline one built
// from an endpoint template, `$name`, `$uri` and a declared parameter replaced.
#[test]
fn endpoint_templates_expand_into_endpoints() {
    let backend = Backend::start(Behaviour::Echo);
    let home = home_with(&[
        (
            "templates/HttpTpl.xml",
            template(
                "HttpTpl",
                r#"<parameter name="method"/>
    <endpoint name="$name">
        <http uri-template="$uri" method="$method"/>
    </endpoint>"#,
            ),
        ),
        (
            "endpoints/TplEp.xml",
            format!(
                r#"<endpoint xmlns="http://ws.apache.org/ns/synapse" name="TplEp" template="HttpTpl" uri="{}/named">
    <parameter name="method" value="put"/>
</endpoint>"#,
                backend.url()
            ),
        ),
        (
            "api/E.xml",
            api(
                "E",
                "/e",
                &format!(
                    r#"<resource methods="POST" uri-template="/named">
        <inSequence><call><endpoint key="TplEp"/></call><respond/></inSequence>
    </resource>
    <resource methods="POST" uri-template="/inline">
        <inSequence>
            <call><endpoint template="HttpTpl" uri="{}/inline"><parameter name="method" value="post"/></endpoint></call>
            <respond/>
        </inSequence>
    </resource>"#,
                    backend.url()
                ),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let r = post_json(port, "/e/named", r#"{"a": 1}"#);
    assert_eq!(r.status, 200, "{r:?}\n{}", server.output());
    let r = post_json(port, "/e/inline", r#"{"a": 2}"#);
    assert_eq!(r.status, 200, "{r:?}");
    let seen: Vec<(String, String)> = backend
        .requests()
        .iter()
        .map(|r| (r.method.clone(), r.path_and_query.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("PUT".to_string(), "/named".to_string()),
            ("POST".to_string(), "/inline".to_string())
        ]
    );
}

// ResolvingEndpoint: `<endpoint key-expression>` names a deployed endpoint per message, here
// through a template parameter (MI test CallMediatorBlockingAPITestCase); an unknown name is
// MI's 305100.
#[test]
fn key_expression_endpoints_resolve_per_message() {
    let backend = Backend::start(Behaviour::Echo);
    let home = home_with(&[
        (
            "templates/CallTpl.xml",
            template(
                "CallTpl",
                r#"<parameter name="endpoint"/>
    <sequence>
        <call blocking="true"><endpoint key-expression="$func:endpoint"/></call>
        <respond/>
    </sequence>"#,
            ),
        ),
        (
            "endpoints/Echo.xml",
            format!(
                r#"<endpoint xmlns="http://ws.apache.org/ns/synapse" name="Echo"><address uri="{}/echo"/></endpoint>"#,
                backend.url()
            ),
        ),
        (
            "api/K.xml",
            api(
                "K",
                "/k",
                r#"<resource methods="POST" uri-template="/{ep}">
        <inSequence>
            <call-template target="CallTpl">
                <with-param name="endpoint" value="{$ctx:uri.var.ep}"/>
            </call-template>
        </inSequence>
        <faultSequence>
            <payloadFactory media-type="text">
                <format>$1: $2</format>
                <args><arg expression="$ctx:ERROR_CODE"/><arg expression="$ctx:ERROR_MESSAGE"/></args>
            </payloadFactory>
            <respond/>
        </faultSequence>
    </resource>"#,
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let r = post_json(port, "/k/Echo", r#"{"echo": true}"#);
    assert_eq!(r.status, 200, "{r:?}\n{}", server.output());
    assert_eq!(r.text(), r#"{"echo": true}"#);
    let r = post_json(port, "/k/Nope", "{}");
    assert_eq!(
        r.text(),
        "305100: Couldn't find the endpoint with the key : Nope"
    );
}

// What does not deploy is located: a template endpoint naming no endpoint template, one that
// uses itself, a `$param` left in a number; a call to a template that is not deployed warns.
#[test]
fn template_problems_are_reported_by_check() {
    let ep = |name: &str, attrs: &str, body: &str| {
        format!(
            r#"<endpoint xmlns="http://ws.apache.org/ns/synapse" name="{name}" {attrs}>{body}</endpoint>"#
        )
    };
    let home = home_with(&[
        (
            "templates/Loop.xml",
            template("Loop", r#"<endpoint template="Loop"/>"#),
        ),
        (
            "templates/Tpl.xml",
            template(
                "Tpl",
                r#"<parameter name="t"/>
<endpoint><address uri="$uri"><timeout><duration>$t</duration></timeout></address></endpoint>"#,
            ),
        ),
        ("endpoints/A.xml", ep("A", r#"template="Nope""#, "")),
        ("endpoints/B.xml", ep("B", r#"template="Loop""#, "")),
        (
            "endpoints/C.xml",
            ep("C", r#"template="Tpl" uri="http://x/y""#, ""),
        ),
        (
            "endpoints/D.xml",
            ep(
                "D",
                r#"template="Tpl" uri="http://x/y""#,
                r#"<parameter name="t" value="100"/>"#,
            ),
        ),
        (
            "api/X.xml",
            api(
                "X",
                "/x",
                r#"<resource><inSequence><call-template target="Missing"/></inSequence></resource>"#,
            ),
        ),
    ]);
    let (code, text) = check_output(home.path());
    assert_eq!(code, Some(2), "{text}");
    for expected in [
        "1 endpoints, 0 carbon applications deployed; 3 failed",
        "error: endpoint template Nope is not deployed (no templates/Nope.xml with an <endpoint>, or it failed) at endpoints/A.xml:1:1",
        "endpoint template Loop uses itself",
        "invalid value \"$t\" for text of <duration>",
        "warning: template Missing is not deployed (no templates/Missing.xml, or it failed): messages that reach it fail at api/X.xml:",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
}
