//! Unit tests of the FreeMarker engine: the language subset, MI's data model, the limits, and
//! the errors (compile errors with line and column, run-time errors naming the expression).
//! Cases marked SYN are from synapse `pfutils/FreeMarkerTemplateProcessorTest.java`.

use super::*;

fn model<'a>(payload: PayloadModel<'a>) -> Model<'a> {
    Model {
        payload,
        args: Vec::new(),
        ctx: Vec::new(),
        axis2: Vec::new(),
        trp: Vec::new(),
        vars: Vec::new(),
    }
}

fn json_render(template: &str, json: &str) -> Result<String, String> {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    let t = Template::compile(template, false).map_err(|e| e.to_string())?;
    t.render(&model(PayloadModel::Json(&value)))
        .map_err(|e| e.to_string())
}

fn ok(template: &str, json: &str) -> String {
    json_render(template, json).unwrap_or_else(|e| panic!("{template}: {e}"))
}

fn compile_err(template: &str) -> CompileError {
    Template::compile(template, false).expect_err(template)
}

#[test]
fn interpolation_and_text() {
    assert_eq!(ok("a ${payload.x} b", r#"{"x": "y"}"#), "a y b");
    assert_eq!(ok("${payload.n}", r#"{"n": 1234567}"#), "1,234,567");
    assert_eq!(ok("${payload.n?c}", r#"{"n": 1234567}"#), "1234567");
    assert_eq!(ok("${payload.f}", r#"{"f": 2.71828}"#), "2.718");
    assert_eq!(
        ok("${payload.a[1].b}", r#"{"a": [{"b": 1}, {"b": "two"}]}"#),
        "two"
    );
    assert_eq!(ok("${payload['k-1']}", r#"{"k-1": "v"}"#), "v");
    assert_eq!(ok("${\"x${payload.a}y\"}", r#"{"a": 5}"#), "x5y");
}

#[test]
fn booleans_need_a_format() {
    let e = json_render("${payload.b}", r#"{"b": true}"#).unwrap_err();
    assert!(e.contains("can't convert a boolean"), "{e}");
    assert!(e.contains(": payload.b At line: 1 column: 3"), "{e}");
    assert_eq!(ok("${payload.b?c}", r#"{"b": true}"#), "true");
    assert_eq!(ok("${payload.b?string('Y','N')}", r#"{"b": false}"#), "N");
    assert_eq!(ok("${payload.b?then(1,2)}", r#"{"b": false}"#), "2");
}

#[test]
fn missing_values() {
    let e = json_render("{\n  \"a\": ${payload.missing}\n}", "{}").unwrap_err();
    assert_eq!(
        e,
        "Error parsing FreeMarker template, Syntax error or invalid reference : payload.missing At line: 2 column: 10 (the following has evaluated to null or missing (use expr!default or expr?? to allow that))"
    );
    assert_eq!(ok("${payload.missing!'d'}", "{}"), "d");
    assert_eq!(ok("${payload.nil!'d'}", r#"{"nil": null}"#), "d");
    assert_eq!(ok("[${payload.missing!}]", "{}"), "[]");
    assert_eq!(ok("${(payload.a.b.c)!'deep'}", "{}"), "deep");
    assert!(json_render("${payload.a.b!'x'}", "{}").is_err());
    assert_eq!(
        ok("<#if payload.a??>yes<#else>no</#if>", r#"{"a": 1}"#),
        "yes"
    );
    assert_eq!(ok("${payload.b???c}", "{}"), "false");
    assert_eq!(ok("${payload.s?has_content?c}", r#"{"s": ""}"#), "false");
    assert_eq!(ok("${payload.zz?has_content?c}", "{}"), "false");
    assert_eq!(ok("${payload.zz?default('q')}", "{}"), "q");
}

#[test]
fn if_elseif_else_and_operators() {
    let t = "<#if payload.n gt 10>big<#elseif payload.n == 10>ten<#else>small</#if>";
    assert_eq!(ok(t, r#"{"n": 11}"#), "big");
    assert_eq!(ok(t, r#"{"n": 10}"#), "ten");
    assert_eq!(ok(t, r#"{"n": 1}"#), "small");
    assert_eq!(
        ok(
            "<#if (payload.n > 1) && !payload.f>x</#if>",
            r#"{"n": 2, "f": false}"#
        ),
        "x"
    );
    assert_eq!(
        ok(
            "<#if payload.s = 'a' || payload.s != 'b'>x</#if>",
            r#"{"s": "a"}"#
        ),
        "x"
    );
    assert_eq!(ok("${1 + 2 * 3 - 4 / 2 % 3}", "{}"), "5");
    assert_eq!(ok("${'a' + 1000}", "{}"), "a1,000");
    assert_eq!(ok("${-payload.n + 1}", r#"{"n": 3}"#), "-2");
    assert!(
        json_render("<#if payload.s>x</#if>", r#"{"s": "a"}"#)
            .unwrap_err()
            .contains("expected a boolean")
    );
    assert!(
        json_render("${1/0}", "{}")
            .unwrap_err()
            .contains("division by zero")
    );
    assert!(
        json_render("<#if payload.s gt 1>x</#if>", r#"{"s": "a"}"#)
            .unwrap_err()
            .contains("can't compare")
    );
}

#[test]
fn lists_with_sep_index_else_and_break() {
    let json = r#"{"items": [{"id": 1}, {"id": 2}, {"id": 3}]}"#;
    assert_eq!(
        ok(
            "[<#list payload.items as i>${i.id}<#sep>, </#sep></#list>]",
            json
        ),
        "[1, 2, 3]"
    );
    assert_eq!(
        ok("[<#list payload.items as i>${i.id}<#sep>,</#list>]", json),
        "[1,2,3]"
    );
    assert_eq!(
        ok(
            "<#list payload.items as i>${i?index}${i?counter}${i?has_next?c} </#list>",
            json
        ),
        "01true 12true 23false "
    );
    assert_eq!(
        ok(
            "<#list payload.items as i>${i_index}<#if i_has_next>,</#if></#list>",
            json
        ),
        "0,1,2"
    );
    assert_eq!(
        ok(
            "<#list payload.none as i>x<#else>empty</#list>",
            r#"{"none": []}"#
        ),
        "empty"
    );
    assert_eq!(
        ok(
            "<#list payload.items as i><#if i.id == 2><#break></#if>${i.id}</#list>",
            json
        ),
        "1"
    );
    assert_eq!(ok("<#list 1..3 as n>${n}</#list>", "{}"), "123");
    assert_eq!(ok("<#list 3..<1 as n>${n}</#list>", "{}"), "32");
    assert_eq!(
        ok(
            "<#list payload.h as k, v>${k}=${v};</#list>",
            r#"{"h": {"a": 1, "b": "x"}}"#
        ),
        "a=1;b=x;"
    );
    assert_eq!(
        ok(
            "${payload.items?size} ${payload.h?keys?join(',')}",
            r#"{"items": [1, 2], "h": {"x": 1, "y": 2}}"#
        ),
        "2 x,y"
    );
}

#[test]
fn whitespace_stripping_of_tag_only_lines() {
    let t = "[\n  <#list payload.a as x>\n  ${x}<#sep>,</#sep>\n  </#list>\n]";
    assert_eq!(ok(t, r#"{"a": [1, 2]}"#), "[\n  1,\n  2\n]");
    // <#-- comments --> are tags too; a line with text keeps its white space.
    assert_eq!(
        ok("a\n  <#-- c -->\nb <#if true>x</#if>\n", "{}"),
        "a\nb x\n"
    );
    assert_eq!(
        ok("<#ftl strip_whitespace=false>\n  <#if true>\n</#if>", "{}"),
        "  \n"
    );
}

#[test]
fn assign_and_switch() {
    assert_eq!(
        ok(
            "<#assign total = 0><#list payload.a as x><#assign total = total + x></#list>${total}",
            r#"{"a": [1, 2, 3]}"#
        ),
        "6"
    );
    assert_eq!(ok("<#assign a = 1 b = 'two'>${a}${b}", "{}"), "1two");
    let t = "<#switch payload.s><#case 'a'>A<#break><#case 'b'>B<#case 'c'>C<#break><#default>D</#switch>";
    assert_eq!(ok(t, r#"{"s": "a"}"#), "A");
    assert_eq!(ok(t, r#"{"s": "b"}"#), "BC");
    assert_eq!(ok(t, r#"{"s": "z"}"#), "D");
}

#[test]
fn string_builtins() {
    let j = r#"{"s": "  walkers TOURS  "}"#;
    assert_eq!(ok("${payload.s?trim?capitalize}", j), "Walkers Tours");
    assert_eq!(
        ok(
            "${payload.s?trim?upper_case}|${payload.s?trim?lower_case}",
            j
        ),
        "WALKERS TOURS|walkers tours"
    );
    assert_eq!(
        ok("${payload.s?trim?cap_first}${payload.s?trim?length}", j),
        "Walkers TOURS13"
    );
    assert_eq!(
        ok("${payload.q?json_string}", r#"{"q": "say \"hi\"\n"}"#),
        "say \\\"hi\\\"\\n"
    );
    assert_eq!(
        ok("${payload.q?xml}", r#"{"q": "<a&b>"}"#),
        "&lt;a&amp;b&gt;"
    );
    assert_eq!(ok("${'a-b-c'?replace('-', '+')}", "{}"), "a+b+c");
    assert_eq!(ok("${'a,b'?split(',')?size}", "{}"), "2");
    assert_eq!(
        ok("${'abc'?contains('b')?c}${'abc'?starts_with('a')?c}", "{}"),
        "truetrue"
    );
    assert_eq!(ok("${'7'?left_pad(3, '0')}", "{}"), "007");
    assert_eq!(
        ok(
            "${'a.b.c'?keep_after('.')}|${'a.b.c'?keep_before_last('.')}",
            "{}"
        ),
        "b.c|a.b"
    );
    assert_eq!(ok("${'12.5'?number + 1}", "{}"), "13.5");
    assert_eq!(
        ok("${payload.n?string('0.00')}", r#"{"n": 3.14159}"#),
        "3.14"
    );
    assert_eq!(
        ok("${payload.n?round}|${payload.n?floor}", r#"{"n": 2.5}"#),
        "3|2"
    );
    assert_eq!(
        ok(
            "${payload.n?string[\"0.0\"]}|${payload.n?string.computer}",
            r#"{"n": 1234.56}"#
        ),
        "1234.6|1234.56"
    );
    assert_eq!(ok("${'x'?upperCase}", "{}"), "X");
    assert!(
        json_render("${'x'?number}", "{}")
            .unwrap_err()
            .contains("can't be converted to a number")
    );
}

#[test]
fn type_tests() {
    let j = r#"{"s": "x", "n": 1, "b": true, "a": [], "o": {}}"#;
    assert_eq!(
        ok(
            "${payload.s?is_string?c}${payload.n?is_number?c}${payload.b?is_boolean?c}${payload.a?is_sequence?c}${payload.o?is_hash?c}${payload.s?is_number?c}",
            j
        ),
        "truetruetruetruetruefalse"
    );
}

// SYN testWithJSONArrayPayload: a top-level array is the `payload` sequence.
#[test]
fn json_array_payload() {
    let t = "<people>\n<#list payload as person>\n  <person>\n    <index>${person.id}</index>\n    <name>${person.first_name} ${person.last_name}</name>\n  </person>\n</#list>\n</people>";
    let got = ok(
        t,
        r#"[{"id": 1, "first_name": "Veronika", "last_name": "Lacroux"}, {"id": 2, "first_name": "Trescha", "last_name": "Campaigne"}]"#,
    );
    assert_eq!(
        got,
        "<people>\n  <person>\n    <index>1</index>\n    <name>Veronika Lacroux</name>\n  </person>\n  <person>\n    <index>2</index>\n    <name>Trescha Campaigne</name>\n  </person>\n</people>"
    );
}

fn xml_render(template: &str, xml: &str) -> Result<String, String> {
    let t = Template::compile(template, false).map_err(|e| e.to_string())?;
    t.render(&model(PayloadModel::Xml(xml)))
        .map_err(|e| e.to_string())
}

// SYN testWithXMLPayload: the DOM model, XML in and JSON out, `room_has_next`.
#[test]
fn xml_payload_as_dom() {
    let xml = "<contract>\n  <hotelName>Kingsbury</hotelName>\n  <agent><name>walkers tours</name><id>1567</id></agent>\n  <rooms><room><code>LX</code><available>23</available></room><room><code>SV</code><available>10</available></room></rooms>\n</contract>";
    let t = "{\n  \"agent\": \"agn${payload.contract.agent.id}\",\n  \"name\": \"${payload.contract.agent.name?capitalize}\",\n  \"rooms\": [\n    <#list payload.contract.rooms.room as room>\n    {\"code\": \"${room.code}\", \"n\": ${room.available}}<#if room_has_next>,</#if>\n    </#list>\n  ]\n}";
    assert_eq!(
        xml_render(t, xml).unwrap(),
        "{\n  \"agent\": \"agn1567\",\n  \"name\": \"Walkers Tours\",\n  \"rooms\": [\n    {\"code\": \"LX\", \"n\": 23},\n    {\"code\": \"SV\", \"n\": 10}\n  ]\n}"
    );
    let x = r#"<o id="7" xmlns:p="urn:p"><i>a</i><i>b</i><p:q>ns</p:q><e/></o>"#;
    assert_eq!(xml_render("${payload.o.@id}", x).unwrap(), "7");
    assert_eq!(
        xml_render("${payload.o.i?size} ${payload.o.i[1]}", x).unwrap(),
        "2 b"
    );
    assert_eq!(
        xml_render("${payload.o.*?size} ${payload.o?node_name}", x).unwrap(),
        "4 o"
    );
    assert_eq!(
        xml_render(
            "${payload.o.e?has_content?c} ${payload.o.zz?has_content?c}",
            x
        )
        .unwrap(),
        "true false"
    );
    assert_eq!(
        xml_render("${payload.o.i[0].@@markup}", x).unwrap(),
        "<i>a</i>"
    );
    assert_eq!(xml_render("${payload.o.@@text}", x).unwrap(), "abns");
    assert_eq!(
        xml_render("<#if payload.o.i[0] == 'a'>eq</#if>", x).unwrap(),
        "eq"
    );
    // An element with child elements is not a string; a sequence of two is not either.
    assert!(
        xml_render("${payload.o}", x)
            .unwrap_err()
            .contains("has a child element named \"i\"")
    );
    assert!(
        xml_render("${payload.o.i}", x)
            .unwrap_err()
            .contains("has 2")
    );
    // A namespaced element needs <#ftl ns_prefixes> (FreeMarker's rule).
    assert_eq!(xml_render("${payload.o.q?size}", x).unwrap(), "0");
    assert!(
        xml_render("${payload.o['p:q']}", x)
            .unwrap_err()
            .contains("prefix \"p\" is not declared")
    );
    assert_eq!(
        xml_render(
            "<#ftl ns_prefixes={\"x\": \"urn:p\"}>\n${payload.o['x:q']}",
            x
        )
        .unwrap(),
        "ns"
    );
}

// SYN testWithXMLPayloadWithFtlHeader.
#[test]
fn ftl_header_namespaces() {
    let xml = "<int0:saveHeader xmlns:int0=\"http://integration.eib.org/admin/report/mediation/inf/integration\">\n  <int0:reportId>M551</int0:reportId>\n  <int0:title>title</int0:title>\n</int0:saveHeader>";
    let t = "<#ftl ns_prefixes={\"int0\": \"http://integration.eib.org/admin/report/mediation/inf/integration\", \"xsi\": \"http://www.w3.org/2001/XMLSchema-instance\"}>\n<int:saveHeader xmlns:int=\"urn:b\">\n<int:reportId>${payload['int0:saveHeader']['int0:reportId']}</int:reportId>\n<int:title>${payload['int0:saveHeader']['int0:title']}</int:title>\n</int:saveHeader>";
    let compiled = Template::compile(t, true).unwrap();
    assert!(compiled.has_header());
    assert_eq!(
        compiled.render(&model(PayloadModel::Xml(xml))).unwrap(),
        "<int:saveHeader xmlns:int=\"urn:b\">\n<int:reportId>M551</int:reportId>\n<int:title>title</int:title>\n</int:saveHeader>"
    );
}

// SYN testWithTextPayload, testWithStaticArgumentsFreeMarker, testWithCtxPropertyInjection.
#[test]
fn text_payload_args_and_properties() {
    let t = Template::compile("{\"text\": \"${payload}\"}", false).unwrap();
    assert_eq!(
        t.render(&model(PayloadModel::Text("hello <b>"))).unwrap(),
        "{\"text\": \"hello &lt;b&gt;\"}"
    );
    let t = Template::compile(
        "<r><a>${args.arg1}</a><c>${ctx.name}</c><x>${axis2.p}</x><t>${trp[\"Content-Type\"]}</t><v>${vars.v}</v></r>",
        true,
    )
    .unwrap();
    let mut m = model(PayloadModel::None);
    m.args = vec!["John".into()];
    m.ctx = vec![("name".into(), "Smith".into())];
    m.axis2 = vec![("p".into(), "2021".into())];
    m.trp = vec![("content-type".into(), "application/json".into())];
    m.vars = vec![("v".into(), "123".into())];
    assert_eq!(
        t.render(&m).unwrap(),
        "<pfPadding><r><a>John</a><c>Smith</c><x>2021</x><t>application/json</t><v>123</v></r></pfPadding>"
    );
    // Only the names the template mentions are filled (MI's findRequiredInjections).
    assert_eq!(
        t.uses,
        Uses {
            payload: false,
            args: true,
            ctx: true,
            axis2: true,
            trp: true,
            vars: true
        }
    );
    // `var` is not MI 4.4 GA's name: it is missing.
    let t = Template::compile("${var.v}", false).unwrap();
    let e = t.render(&m).unwrap_err().to_string();
    assert!(e.contains(": var At line: 1 column: 3"), "{e}");
}

#[test]
fn compile_errors_have_line_and_column() {
    let e = compile_err("{\n  \"a\": ${payload.x?no_such}\n}");
    assert_eq!((e.line, e.column), (2, 20), "{e}");
    assert!(
        e.message
            .starts_with("?no_such is not a supported built-in"),
        "{e}"
    );
    let e = compile_err("<#if true>x");
    assert!(e.message.contains("<#if> is not closed"), "{e}");
    let e = compile_err("a\n<#macro m>x</#macro>");
    assert_eq!((e.line, e.column), (2, 1));
    assert!(
        e.message
            .starts_with("<#macro> is not supported (supported: if/elseif/else"),
        "{e}"
    );
    assert!(compile_err("${a").message.contains("unclosed ${"));
    assert!(
        compile_err("<@m/>")
            .message
            .contains("user-defined directives")
    );
    assert!(compile_err("${.now}").message.contains("special variables"));
    assert!(
        compile_err("${x?date}")
            .message
            .contains("?date is not a supported built-in")
    );
    assert!(
        compile_err("${x(1)}")
            .message
            .contains("method and function calls")
    );
    assert!(
        compile_err("<#ftl output_format=\"XML\">")
            .message
            .contains("not supported")
    );
    assert!(compile_err("</#if>").message.contains("unexpected </#if>"));
    assert!(
        compile_err("<#list x>y</#list>")
            .message
            .contains("needs 'as'")
    );
    assert!(
        compile_err("<#-- open")
            .message
            .contains("unclosed comment")
    );
    // With the XML padding the column is still the user's.
    let e = Template::compile("<a>${x?nope}</a>", true).unwrap_err();
    assert_eq!((e.line, e.column), (1, 8), "{e}");
}

#[test]
fn noparse_and_comments() {
    assert_eq!(ok("<#noparse>${x}<#if></#noparse>!", "{}"), "${x}<#if>!");
    assert_eq!(ok("a<#-- ${broken -->b", "{}"), "ab");
}

#[test]
fn nesting_limit() {
    let deep_ok = format!(
        "${{{}1{}}}",
        "(".repeat(MAX_NESTING - 1),
        ")".repeat(MAX_NESTING - 1)
    );
    if let Err(e) = Template::compile(&deep_ok, false) {
        panic!("{e}");
    }
    let too_deep = format!(
        "${{{}1{}}}",
        "(".repeat(MAX_NESTING + 1),
        ")".repeat(MAX_NESTING + 1)
    );
    assert!(compile_err(&too_deep).message.contains("nested more than"));
    let chain = format!("${{1{}}}", " + 1".repeat(MAX_EXPRESSION_DEPTH - 1));
    assert_eq!(ok(&chain, "{}"), MAX_EXPRESSION_DEPTH.to_string());
    let chain = format!("${{1{}}}", " + 1".repeat(MAX_EXPRESSION_DEPTH));
    assert!(compile_err(&chain).message.contains("operations deep"));
    let nots = format!("${{{}true}}", "!".repeat(MAX_EXPRESSION_DEPTH + 1));
    assert!(compile_err(&nots).message.contains("operations deep"));
    let dots = format!("${{a{}}}", ".b".repeat(MAX_EXPRESSION_DEPTH + 1));
    assert!(compile_err(&dots).message.contains("operations deep"));
    let strings = format!(
        "${{{}1{}}}",
        "\"${".repeat(MAX_NESTING + 1),
        "}\"".repeat(MAX_NESTING + 1)
    );
    assert!(
        compile_err(&strings)
            .message
            .contains("string literals is nested")
    );
    let ifs = "<#if true>".repeat(MAX_NESTING + 1) + &"</#if>".repeat(MAX_NESTING + 1);
    assert!(compile_err(&ifs).message.contains("nested more than"));
}

#[test]
fn iteration_and_output_limits() {
    let at_limit = format!("<#list 1..{MAX_ITERATIONS} as i></#list>done");
    assert_eq!(ok(&at_limit, "{}"), "done");
    let over = format!("<#list 0..{MAX_ITERATIONS} as i></#list>");
    assert!(
        json_render(&over, "{}")
            .unwrap_err()
            .contains("longer than")
    );
    let nested = "<#list 1..1000 as i><#list 1..1000 as j></#list></#list>";
    assert!(
        json_render(nested, "{}")
            .unwrap_err()
            .contains("looped more than")
    );
    let big = "<#list 1..100 as i>${payload.s}</#list>";
    let s = "x".repeat(MAX_OUTPUT_BYTES / 100 + 1);
    let json = serde_json::json!({ "s": s }).to_string();
    assert!(
        json_render(big, &json)
            .unwrap_err()
            .contains("wrote more than")
    );
    let too_big = "x".repeat(MAX_TEMPLATE_BYTES + 1);
    assert!(compile_err(&too_big).message.contains("more than the"));
}

// No input panics: templates glued from random fragments of the language compile or fail with
// an error, and the ones that compile render or fail with an error.
#[test]
fn random_templates_never_panic() {
    const FRAGMENTS: &[&str] = &[
        "${",
        "}",
        "<#if ",
        "<#elseif ",
        "<#else>",
        "</#if>",
        "<#list ",
        " as x>",
        "</#list>",
        "<#sep>",
        "</#sep>",
        "<#assign a = ",
        ">",
        "<#switch ",
        "<#case ",
        "<#default>",
        "</#switch>",
        "<#break>",
        "<#--",
        "-->",
        "payload",
        ".a",
        "[0]",
        "['b']",
        "?size",
        "?c",
        "?string('0.0')",
        "?join(',')",
        "?keys",
        "!",
        "!'d'",
        "??",
        "(",
        ")",
        " + ",
        " - ",
        " * ",
        " / 0",
        " == ",
        " gt ",
        " && ",
        " || ",
        "1",
        "2.5",
        "'s'",
        "\"${x}\"",
        "true",
        "x",
        "x?index",
        "1..3",
        "[1, 2]",
        "{'k': 1}",
        "?json_string",
        "?number",
        "@id",
        ".*",
        "?node_name",
        "é",
        "\n",
        " ",
        "<a>",
        "</a>",
        "<#noparse>",
        "</#noparse>",
        "r'raw'",
        "\\",
        "'",
        "\"",
        "?has_content",
        "?then(1, 2)",
        "-",
        "?left_pad(3)",
        "?children",
    ];
    let json: serde_json::Value =
        serde_json::from_str(r#"{"a": [1, "two", {"b": null}], "b": {"c": true}}"#).unwrap();
    let xml = r#"<r id="1"><a>x</a><a><b>y</b></a></r>"#;
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..4000 {
        let len = (next() % 12) as usize + 1;
        let template: String = (0..len)
            .map(|_| FRAGMENTS[(next() % FRAGMENTS.len() as u64) as usize])
            .collect();
        for xml_media in [false, true] {
            if let Ok(t) = Template::compile(&template, xml_media) {
                let _ = t.render(&model(PayloadModel::Json(&json)));
                let _ = t.render(&model(PayloadModel::Xml(xml)));
                let _ = t.render(&model(PayloadModel::Text("t")));
            }
        }
    }
}
