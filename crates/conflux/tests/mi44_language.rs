//! MI 4.4's mediation language end to end through the real binary (issue 13): `${...}` Synapse
//! expressions in the variable mediator (SYN `mediators/v2/VariableMediator.java`), in filter
//! (`mediators/filters/FilterMediator.java`: `Boolean.parseBoolean` of the string value), in the
//! new log `<message>` template (`mediators/builtin/LogMediator.java`, prefix from
//! `util/logging/LoggingUtils.java`), throwError into the fault sequence
//! (`mediators/v2/ThrowError.java`, `FaultHandler.java`), and payloadFactory's default template
//! (`mediators/transform/pfutils/RegexTemplateProcessor.java`), the new foreach over JSON arrays
//! and XML node lists (`mediators/v2/ForEachMediatorV2.java`), `xpath(e, 'var')`, and the HTTP
//! connector's OAuth grants with its connection endpoint in the Management API. One API per
//! feature, exact bodies and status codes.

mod support;

use support::backend::*;
use support::capp::{Management, base64};
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

// docs-mi ForEach mediator, example 1: `${xpath('//order/item')}` iterates the XML node list, each
// item's sequence calls a real backend, and update-original replaces the items with the replies
// (ForEachMediatorV2.updateXMLCollection: detached, then appended to their parent, in item order).
// `xpath(expr, 'var')` reads a variable's XML (PredefinedFunctionNode: `$var:NAME` + the path).
#[test]
fn foreach_over_an_xml_node_list_and_xpath_over_a_variable() {
    let backend = Backend::start(Behaviour::Echo);
    let home = home_with(&[(
        "api/Orders.xml",
        api(
            "Orders",
            "/orders",
            &format!(
                r#"<resource methods="POST" uri-template="/lines">
        <inSequence>
            <foreach collection="${{xpath('//order/item')}}" parallel-execution="false" counter-variable="i">
                <sequence>
                    <payloadFactory media-type="xml" template-type="default"><format><line xmlns="" no="${{vars.i}}"><sku>${{xpath('//item/@sku')}}</sku></line></format></payloadFactory>
                    <call><endpoint><address uri="{url}/price"/></endpoint></call>
                </sequence>
            </foreach>
            <respond/>
        </inSequence>
    </resource>
    <resource methods="POST" uri-template="/skus">
        <inSequence>
            <variable name="order" expression="${{xpath('//order')}}" type="XML"/>
            <payloadFactory media-type="json" template-type="default"><format>{{"skus": "${{xpath('//item/@sku', 'order')}}", "id": "${{xpath('/id', 'order')}}"}}</format></payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#,
                url = backend.url()
            ),
        ),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);
    let order = r#"<order><id>7</id><item sku="a1"/><note>x</note><item sku="b2"/></order>"#;
    let r = request(
        "POST",
        port,
        "/orders/lines",
        &[("Content-Type", "application/xml")],
        order.as_bytes(),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.text(),
        r#"<order><id>7</id><note>x</note><line no="0"><sku>a1</sku></line><line no="1"><sku>b2</sku></line></order>"#
    );
    let calls = backend.requests();
    assert_eq!(calls.len(), 2);
    // An address endpoint gets the API's REST_URL_POSTFIX (`/lines`) appended, as in MI.
    assert!(
        calls.iter().all(|c| c.path_and_query == "/price/lines"),
        "{calls:?}"
    );

    let r = request(
        "POST",
        port,
        "/orders/skus",
        &[("Content-Type", "application/xml")],
        order.as_bytes(),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.text(), r#"{"skus": "a1b2", "id": "7"}"#);
}

// The HTTP connector's OAuth Password grant (SYN `PasswordCredentialsHandler`, `OAuthClient`):
// one token request (a form POST with the client in a Basic header), the token cached across
// requests and sent as a Bearer header; the connection's generated endpoint
// `<name>_INTERNAL_ENDPOINT_REFERENCE` is listed by /management/endpoints, as MI's
// LocalEntryDeployer adds it to the configuration's endpoints.
#[test]
fn http_connector_password_grant_and_its_endpoint_in_the_management_api() {
    let token = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: r#"{"access_token":"t-1","token_type":"Bearer","expires_in":3600}"#.into(),
    });
    let service = Backend::start(Behaviour::Echo);
    let home = home_with(&[
        (
            "local-entries/Shop.xml",
            format!(
                r#"<localEntry xmlns="http://ws.apache.org/ns/synapse" key="Shop"><http.init>
    <connectionType>HTTP</connectionType><name>Shop</name><baseUrl>{base}</baseUrl>
    <authType>OAuth</authType><oauthGrantType>Password</oauthGrantType>
    <username>ann</username><password>s3cret</password>
    <clientId>app</clientId><clientSecret>sec</clientSecret><tokenUrl>{token}/token</tokenUrl>
    <oauthConnectionTimeout>5000</oauthConnectionTimeout><oauthSocketTimeout>5000</oauthSocketTimeout>
    <timeoutDuration>10000</timeoutDuration><timeoutAction>Fault</timeoutAction>
</http.init></localEntry>"#,
                base = service.url(),
                token = token.url()
            ),
        ),
        (
            "api/Shop.xml",
            api(
                "Shop",
                "/shop",
                r#"<resource methods="POST" uri-template="/orders">
        <inSequence>
            <http.post configKey="Shop"><relativePath>/orders</relativePath></http.post>
            <respond/>
        </inSequence>
    </resource>"#,
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    for n in 1..=2 {
        let body = format!(r#"{{"n": {n}}}"#);
        let r = post_json(port, "/shop/orders", &body);
        assert_eq!((r.status, r.text()), (200, body), "{r:?}");
    }
    let token_calls = token.requests();
    assert_eq!(token_calls.len(), 1, "the token is cached");
    let t = &token_calls[0];
    assert_eq!(
        (t.method.as_str(), t.path_and_query.as_str()),
        ("POST", "/token")
    );
    assert_eq!(
        t.header("Content-Type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        t.header("Authorization").map(str::to_string),
        Some(format!("Basic {}", base64(b"app:sec")))
    );
    assert_eq!(
        t.body_sha256,
        sha256_hex(b"grant_type=password&username=ann&password=s3cret")
    );
    let calls = service.requests();
    assert_eq!(calls.len(), 2);
    for c in &calls {
        assert_eq!(c.path_and_query, "/orders");
        assert_eq!(c.header("Authorization"), Some("Bearer t-1"));
    }

    let management = Management::admin(server.port(INTERNAL_HTTPS));
    let list = management.get_json("endpoints");
    let entry = list["list"]
        .as_array()
        .and_then(|l| {
            l.iter()
                .find(|e| e["name"] == "Shop_INTERNAL_ENDPOINT_REFERENCE")
        })
        .unwrap_or_else(|| panic!("no connection endpoint in {list}"));
    assert_eq!(
        entry,
        &serde_json::json!({"name": "Shop_INTERNAL_ENDPOINT_REFERENCE", "type": "http", "isActive": true})
    );
    let detail = management.get_json("endpoints?endpointName=Shop_INTERNAL_ENDPOINT_REFERENCE");
    assert_eq!(detail["name"], "Shop_INTERNAL_ENDPOINT_REFERENCE");
    // And it is switched off there like any endpoint (EndpointResource POST).
    let off = management.call(
        "POST",
        "endpoints",
        &[("Content-Type", "application/json".into())],
        br#"{"name": "Shop_INTERNAL_ENDPOINT_REFERENCE", "status": "inactive"}"#,
    );
    assert_eq!(off.status, 200, "{}", off.text());
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&off.body).expect("JSON"),
        serde_json::json!({"Message": "Shop_INTERNAL_ENDPOINT_REFERENCE is switched Off"})
    );
    let detail = management.get_json("endpoints?endpointName=Shop_INTERNAL_ENDPOINT_REFERENCE");
    assert_eq!(detail["isActive"], false);
}

// The variable mediator with an XPath / `get-property` expression (SYN `mediators/v2/Utils.java`
// getResolvedValue): `SynapseXPath.objectValueOf` is null, so without a type the variable keeps
// its value (`Axis2MessageContext.setVariable` ignores null); STRING and XML take the string
// value; INTEGER (any other type) faults with the expression shown as `${<path>}`.
#[test]
fn variables_from_xpath_and_json_eval_expressions() {
    let home = home_with(&[(
        "api/Legacy.xml",
        api(
            "Legacy",
            "/legacy",
            r#"<resource methods="POST" uri-template="/xml">
        <inSequence>
            <property name="frag" value="&lt;tag&gt;x&lt;/tag&gt;"/>
            <variable name="who" value="nobody"/>
            <variable name="who" expression="//name"/>
            <variable name="name" expression="//name" type="STRING"/>
            <variable name="item" expression="$ctx:frag" type="XML"/>
            <payloadFactory media-type="text"><format>who=${vars.who} name=${vars.name} item=${vars.item}</format></payloadFactory>
            <respond/>
        </inSequence>
    </resource>
    <resource methods="POST" uri-template="/json">
        <inSequence>
            <variable name="name" expression="json-eval($.name)" type="STRING"/>
            <variable name="n" expression="json-eval($.n)" type="INTEGER"/>
            <payloadFactory media-type="text"><format>not reached</format></payloadFactory>
            <respond/>
        </inSequence>
        <faultSequence>
            <property name="HTTP_SC" scope="axis2" value="500"/>
            <payloadFactory media-type="text"><format>${vars.name}: ${props.synapse.ERROR_MESSAGE}</format></payloadFactory>
            <respond/>
        </faultSequence>
    </resource>"#,
        ),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);
    let r = request(
        "POST",
        port,
        "/legacy/xml",
        &[("Content-Type", "application/xml")],
        b"<order><name>tea</name></order>",
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.text(), "who=nobody name=tea item=<tag>x</tag>");
    let r = post_json(port, "/legacy/json", r#"{"name": "ink", "n": 5}"#);
    assert_eq!(r.status, 500, "{r:?}");
    assert_eq!(
        r.text(),
        "ink: Expression '${$.n}' result does not match the expected data type 'INTEGER'"
    );
}

// payloadFactory media-type="text" with `${...}` (SYN `pfutils/RegexTemplateProcessor.java`
// replace), and `$n` value arguments: a payload value (a Gson primitive) is escaped as for json, a variable's Java String
// is inserted as it is: quoted without quoteReplacement (appendReplacement drops the `\` of
// `\t`), unquoted with it; XML stays XML.
#[test]
fn payload_factory_text_template_escapes_only_payload_values() {
    let home = home_with(&[(
        "api/Plain.xml",
        api(
            "Plain",
            "/plain",
            r#"<resource methods="POST" uri-template="/">
        <inSequence>
            <variable name="xml" value="&lt;a b=&quot;1&quot;&gt;&lt;c&gt;2&lt;/c&gt;&lt;/a&gt;"/>
            <variable name="path" value="C:\temp"/>
            <payloadFactory media-type="text"><format>q="${vars.xml}" u=${vars.xml} p="${vars.path}" up=${vars.path} n="${payload.name}"</format></payloadFactory>
            <respond/>
        </inSequence>
    </resource>
    <resource methods="POST" uri-template="/args">
        <inSequence>
            <payloadFactory media-type="json">
                <format>{"v": "$1", "e": "$2", "x": $3}</format>
                <args><arg value="Tom &amp; &quot;Jerry&quot;"/><arg expression="json-eval($.name)"/><arg value="&lt;b&gt;2&lt;/b&gt;" literal="true"/></args>
            </payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#,
        ),
    )]);
    let server = start(&home);
    let port = server.port(HTTP);
    let r = post_json(port, "/plain", r#"{"name": "say \"hi\""}"#);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("Content-Type"), Some("text/plain"));
    assert_eq!(
        r.text(),
        r#"q="<a b="1"><c>2</c></a>" u=<a b="1"><c>2</c></a> p="C:temp" up=C:\temp n="say \"hi\"""#
    );
    // TemplateProcessor.getArgValues: a `value` argument is XML-escaped (escapeXml10) for every
    // media type, unless it is XML, which json converts (`literal` counts for expressions only);
    // an expression's value is escaped for JSON only.
    let r = post_json(port, "/plain/args", r#"{"name": "say \"hi\""}"#);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.text(),
        r#"{"v": "Tom &amp; &quot;Jerry&quot;", "e": "say \"hi\"", "x": {"b":2}}"#
    );
}
