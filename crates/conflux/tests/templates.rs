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
