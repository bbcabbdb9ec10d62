//! MI 4.4's mediation language end to end through the real binary (issue 13): `${...}` Synapse
//! expressions in the variable mediator (SYN `mediators/v2/VariableMediator.java`), in filter
//! (`mediators/filters/FilterMediator.java`: `Boolean.parseBoolean` of the string value), in the
//! new log `<message>` template (`mediators/builtin/LogMediator.java`, prefix from
//! `util/logging/LoggingUtils.java`), throwError into the fault sequence
//! (`mediators/v2/ThrowError.java`, `FaultHandler.java`), and payloadFactory's default template
//! (`mediators/transform/pfutils/RegexTemplateProcessor.java`). One API per feature, exact
//! bodies and status codes.

mod support;

use support::backend::*;
use support::*;

fn post_json(port: u16, path: &str, body: &str) -> HttpResponse {
    request(
        "POST",
        port,
        path,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

fn home() -> Home {
    home_with(&[
        (
            "api/Cart.xml",
            api(
                "Cart",
                "/cart",
                r#"<resource methods="POST" uri-template="/total">
        <inSequence>
            <variable name="price" expression="${payload.price}" type="DOUBLE"/>
            <variable name="qty" expression="${payload.qty}" type="INTEGER"/>
            <variable name="currency" value="EUR"/>
            <variable name="total" expression="${vars.price * vars.qty}"/>
            <variable name="discounted" expression="${vars.total > 100 ? vars.total - 10 : vars.total}"/>
            <payloadFactory media-type="json">
                <format>{"total": ${vars.total}, "due": ${vars.discounted}, "label": "${string(vars.qty) + ' x ' + toUpper(payload.item)}", "currency": "${vars.currency}"}</format>
            </payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#,
            ),
        ),
        (
            "api/Route.xml",
            api(
                "Route",
                "/route",
                r#"<resource methods="POST" uri-template="/">
        <inSequence>
            <filter xpath="${(payload.amount > 100) and (payload.country == 'NL')}">
                <then>
                    <payloadFactory media-type="text"><format>review ${payload.amount}</format></payloadFactory>
                </then>
                <else>
                    <payloadFactory media-type="text"><format>accept</format></payloadFactory>
                </else>
            </filter>
            <respond/>
        </inSequence>
    </resource>"#,
            ),
        ),
        (
            "api/Audit.xml",
            api(
                "Audit",
                "/audit",
                r#"<resource methods="POST" uri-template="/{id}">
        <inSequence>
            <variable name="user" expression="${payload.user}"/>
            <log category="WARN">
                <message>Order ${params.pathParams.id} by ${vars.user}: ${payload.items.length()} item(s)</message>
            </log>
            <log level="custom">
                <property name="who" expression="${vars.user}"/>
            </log>
            <payloadFactory media-type="text"><format>logged</format></payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#,
            ),
        ),
        (
            "api/Check.xml",
            api(
                "Check",
                "/check",
                r#"<resource methods="POST" uri-template="/">
        <inSequence>
            <filter xpath="${exists(payload.name)}">
                <else>
                    <throwError type="PAYLOAD_ERROR" errorMessage="{${'Required field name missing, id ' + string(payload.id)}}"/>
                </else>
            </filter>
            <payloadFactory media-type="text"><format>hello ${payload.name}</format></payloadFactory>
            <respond/>
        </inSequence>
        <faultSequence>
            <property name="HTTP_SC" scope="axis2" value="400"/>
            <payloadFactory media-type="json">
                <format>{"error": "${props.synapse.ERROR_CODE}", "message": "${props.synapse.ERROR_MESSAGE}"}</format>
            </payloadFactory>
            <respond/>
        </faultSequence>
    </resource>"#,
            ),
        ),
        (
            "api/Shape.xml",
            api(
                "Shape",
                "/shape",
                r#"<resource methods="POST" uri-template="/json">
        <inSequence>
            <variable name="id" value="123" type="INTEGER"/>
            <payloadFactory media-type="json" template-type="default">
                <format>{"id": ${vars.id}, "quotedId": "${vars.id}", "name": "${payload.name}", "tags": ${payload.tags}, "quotedTags": "${payload.tags}", "vip": ${payload.vip}, "first": "$1"}</format>
                <args><arg expression="json-eval($.tags[0])"/></args>
            </payloadFactory>
            <respond/>
        </inSequence>
    </resource>
    <resource methods="POST" uri-template="/xml">
        <inSequence>
            <payloadFactory media-type="xml">
                <format><customer xmlns=""><name>${payload.name}</name><tags>${payload.tags}</tags><vip flag="${payload.vip}"/></customer></format>
            </payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#,
            ),
        ),
    ])
}

// Variables from expressions with types (DOUBLE, INTEGER), arithmetic and the conditional over
// them, string functions; `string(n)` because string + number is an error in MI.
#[test]
fn variables_and_expression_arithmetic() {
    let home = home();
    let server = start(&home);
    let port = server.port(HTTP);
    let r = post_json(
        port,
        "/cart/total",
        r#"{"price": 25.5, "qty": 4, "item": "pen"}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(
        r.text(),
        r#"{"total": 102.0, "due": 92.0, "label": "4 x PEN", "currency": "EUR"}"#
    );
    let r = post_json(
        port,
        "/cart/total",
        r#"{"price": 2.5, "qty": 3, "item": "ink"}"#,
    );
    assert_eq!(
        r.text(),
        r#"{"total": 7.5, "due": 7.5, "label": "3 x INK", "currency": "EUR"}"#
    );
    // `qty` 3.5 is a Double, not an INTEGER: the variable mediator faults (SynapseException);
    // without a fault sequence the client gets the fault answer.
    let r = post_json(
        port,
        "/cart/total",
        r#"{"price": 2.5, "qty": 3.5, "item": "ink"}"#,
    );
    assert_eq!(r.status, 500, "{r:?}");
    assert!(
        r.text().contains(
            "Expression '${payload.qty}' result does not match the expected data type 'INTEGER'"
        ),
        "{r:?}"
    );
}

// FilterMediator with a SynapseExpression: Boolean.parseBoolean(stringValueOf).
#[test]
fn filter_on_a_synapse_expression() {
    let home = home();
    let server = start(&home);
    let port = server.port(HTTP);
    let r = post_json(port, "/route", r#"{"amount": 250, "country": "NL"}"#);
    assert_eq!((r.status, r.text().as_str()), (200, "review 250"));
    let r = post_json(port, "/route", r#"{"amount": 250, "country": "BE"}"#);
    assert_eq!((r.status, r.text().as_str()), (200, "accept"));
    // A missing field fails the expression: "" is false, and MI's warning is logged.
    let r = post_json(port, "/route", r#"{"country": "NL"}"#);
    assert_eq!((r.status, r.text().as_str()), (200, "accept"));
    let out = server.output_with(&["Error evaluating expression:"]);
    assert!(
        out.contains(
            "WARN {conflux::synapse_expression} - Error evaluating expression: (payload.amount > 100) and (payload.country == 'NL') cause : "
        ),
        "{out}"
    );
}

// LogMediator MESSAGE_TEMPLATE at category WARN: `{api:NAME METHOD /path?query} text` (the
// request appears only in message-template lines), then a custom line.
#[test]
fn log_message_template_line_in_the_server_log() {
    let home = home();
    let server = start(&home);
    let port = server.port(HTTP);
    let r = post_json(
        port,
        "/audit/42?src=web",
        r#"{"user": "ada", "items": [1, 2, 3]}"#,
    );
    assert_eq!((r.status, r.text().as_str()), (200, "logged"));
    let template =
        "WARN {LogMediator} - {api:Audit POST /audit/42?src=web} Order 42 by ada: 3 item(s)";
    let custom = "INFO {LogMediator} - {api:Audit} who = ada";
    let out = server.output_with(&[template, custom]);
    assert!(out.contains(template), "{out}");
    assert!(out.contains(custom), "{out}");
}

// ThrowError sets ERROR_CODE / ERROR_MESSAGE (a `{${...}}` message) and the resource's
// faultSequence reads them; FaultHandler does not overwrite them.
#[test]
fn throw_error_runs_the_fault_sequence() {
    let home = home();
    let server = start(&home);
    let port = server.port(HTTP);
    let r = post_json(port, "/check", r#"{"name": "Ada"}"#);
    assert_eq!((r.status, r.text().as_str()), (200, "hello Ada"));
    let r = post_json(port, "/check", r#"{"id": 7}"#);
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(
        r.text(),
        r#"{"error": "PAYLOAD_ERROR", "message": "Required field name missing, id 7"}"#
    );
}

// RegexTemplateProcessor: `"${e}"` is a JSON string (an array escaped into it), `${e}` goes in
// as JSON, `$n` are the args; for media-type xml a JSON array becomes elements.
#[test]
fn payload_factory_default_template() {
    let home = home();
    let server = start(&home);
    let port = server.port(HTTP);
    let r = post_json(
        port,
        "/shape/json",
        r#"{"name": "Ada \"A\" L", "tags": ["a", "b"], "vip": true}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.text(),
        r#"{"id": 123, "quotedId": "123", "name": "Ada \"A\" L", "tags": ["a","b"], "quotedTags": "[\"a\",\"b\"]", "vip": true, "first": "a"}"#
    );
    let r = post_json(
        port,
        "/shape/xml",
        r#"{"name": "A&B", "tags": {"tag": ["a", "b"]}, "vip": false}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("Content-Type"), Some("application/xml"));
    assert_eq!(
        r.text(),
        r#"<customer><name>A&amp;B</name><tags><tag>a</tag><tag>b</tag></tags><vip flag="false"/></customer>"#
    );
}

// MI 4.4's scatter-gather (SYN `mediators/v2/ScatterGather.java`): each branch calls a real
// backend with its own copy of the message; the gathered results replace the body as a JSON array.
// And the new foreach (`mediators/v2/ForEachMediatorV2.java`): each item of the collection runs the
// sequence as a message of its own, and the results are written back in place (update-original).
#[test]
fn scatter_gather_and_foreach_v2() {
    let backend = Backend::start(Behaviour::Echo);
    let home = home_with(&[(
        "api/Fan.xml",
        api(
            "Fan",
            "/fan",
            &format!(
                r#"<resource methods="POST" uri-template="/out">
        <inSequence>
            <scatter-gather parallel-execution="true" target="body" result-content-type="JSON">
                <aggregation expression="${{payload}}"/>
                <sequence>
                    <payloadFactory media-type="json" template-type="default"><format>{{"branch": "a", "item": "${{payload.item}}"}}</format></payloadFactory>
                    <call><endpoint><address uri="{url}/a"/></endpoint></call>
                </sequence>
                <sequence>
                    <payloadFactory media-type="json" template-type="default"><format>{{"branch": "b", "item": "${{payload.item}}"}}</format></payloadFactory>
                    <call><endpoint><address uri="{url}/b"/></endpoint></call>
                </sequence>
            </scatter-gather>
            <respond/>
        </inSequence>
    </resource>
    <resource methods="POST" uri-template="/each">
        <inSequence>
            <foreach collection="${{payload.items}}" parallel-execution="false" counter-variable="i">
                <sequence>
                    <payloadFactory media-type="json" template-type="default"><format>{{"n": ${{payload.n * 10}}, "at": ${{vars.i}}}}</format></payloadFactory>
                </sequence>
            </foreach>
            <respond/>
        </inSequence>
    </resource>"#,
                url = backend.url()
            ),
        ),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);

    let r = post_json(port, "/fan/out", r#"{"item": "tea"}"#);
    assert_eq!(r.status, 200, "{r:?}");
    let mut gathered: Vec<serde_json::Value> =
        serde_json::from_slice::<Vec<serde_json::Value>>(&r.body).expect("a JSON array");
    // Parallel branches arrive in any order.
    gathered.sort_by_key(|v| v["branch"].as_str().unwrap_or_default().to_string());
    assert_eq!(
        gathered,
        [
            serde_json::json!({"branch": "a", "item": "tea"}),
            serde_json::json!({"branch": "b", "item": "tea"})
        ]
    );
    assert_eq!(backend.requests().len(), 2);

    let r = post_json(
        port,
        "/fan/each",
        r#"{"items": [{"n": 1}, {"n": 2}], "keep": true}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&r.body).expect("JSON"),
        serde_json::json!({"items": [{"n": 10, "at": 0}, {"n": 20, "at": 1}], "keep": true})
    );
}

// `${configs.NAME}` reads a declared config property (MI `ConfigDeployer` + `PropertyHolder`):
// declared in conf/config.properties, its value from a -D system property.
#[test]
fn configs_expressions_read_declared_config_properties() {
    let home = home_with(&[(
        "api/Conf.xml",
        api(
            "Conf",
            "/conf",
            r#"<resource methods="GET">
        <inSequence>
            <payloadFactory media-type="json" template-type="default"><format>{"greeting": "${configs.greeting}"}</format></payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#,
        ),
    )]);
    home.write("conf/config.properties", "greeting:string\n");
    let server = Server::start(home.path(), free_offset(), &["-Dgreeting=hello"]);
    let r = get(server.port(HTTP), "/conf");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.text(), r#"{"greeting": "hello"}"#);
}
