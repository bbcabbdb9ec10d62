//! Synapse's own unit tests of Synapse expressions, ported: each test names the Java test class
//! and method (`modules/core/src/test/java/org/apache/synapse/util/synapse/expression/*Test.java`,
//! `util/InlineExpressionUtilTest.java`, `mediators/transform/pfutils/RegexTemplateProcessorTest.java`)
//! and keeps its assertions; the payloads and variables are TestUtils.java's. Java's TestUtils
//! shares one message context between calls, so an assertion that relied on an earlier call's
//! payload states that payload here explicitly.

use super::*;
use serde_json::{Value, json};
use std::collections::HashMap;

const PAYLOAD1: &str = r#"{"name":"John","age":30,"cars":[ "Ford", "BMW", "Fiat", "Honda", "Lexus", "KIA" ],"index":1,"string":" Hello World ", "null" : null }"#;

const PAYLOAD2: &str = r#"{
  "store": {
    "book": [
      {"category": "reference", "author": "Nigel Rees", "title": "Sayings of the Century", "price": 8.95},
      {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553-21311-3", "price": 8.99},
      {"category": "fiction", "author": "J.R.R. Tolkien", "title": "The Lord of the Rings", "isbn": "0-395-19395-8", "price": 22.99},
      {"category": "fiction", "author": "Harper Lee", "title": "To Kill a Mockingbird", "price": 10.99},
      {"category": "fiction", "author": "George Orwell", "title": "Animal Farm", "price": 7.99},
      {"category": "biography", "author": "Anne Frank", "title": "The Diary of a Young Girl", "price": 6.99}
    ],
    "bicycle": {"color": "red", "price": 19.95}
  },
  "expensive": 10,
  "selectedCategory": "biography"
}
"#;

const PAYLOAD3: &str =
    r#"["When","my","time","comes","Forget","the","wrong","that","I've","done"]"#;

const PAYLOAD4: &str = r#"{
    "payload" : {
        "vars" : {
            "configs" : {
                "payload" : {
                    "iop" : 4
                },
                "zxc": 3
            },
            "pqr": 2
        },
        "abc" : 1
    }
}"#;

/// A message context for the tests: what TestUtils.java and the tests put in Synapse's.
#[derive(Default)]
pub(super) struct TestCtx {
    pub payload: Option<Value>,
    pub xml_payload: Option<String>,
    pub variables: HashMap<String, ExprValue>,
    /// XML fields of map variables (`personVar.payload`), for `xpath(e, 'var.field')`.
    pub xml_fields: HashMap<String, String>,
    pub namespaces: Vec<(String, String)>,
    pub headers: HashMap<String, String>,
    pub synapse: HashMap<String, String>,
    pub axis2: HashMap<String, String>,
    pub configs: HashMap<String, String>,
    pub function_params: Option<HashMap<String, String>>,
    pub registry: HashMap<String, String>,
    pub registry_properties: HashMap<(String, String), String>,
    pub now: i64,
    pub offset: i32,
}

impl TestCtx {
    pub(super) fn new() -> TestCtx {
        TestCtx::default()
    }

    /// TestUtils payload 1-4 (0: none).
    pub(super) fn payload(mut self, id: u8) -> TestCtx {
        let text = match id {
            1 => PAYLOAD1,
            2 => PAYLOAD2,
            3 => PAYLOAD3,
            4 => PAYLOAD4,
            _ => return self,
        };
        self.payload = Some(serde_json::from_str(text).expect("test payload"));
        self
    }

    pub(super) fn json_payload(mut self, text: &str) -> TestCtx {
        self.payload = Some(serde_json::from_str(text).expect("test payload"));
        self
    }

    /// TestUtils variable maps 1-4.
    pub(super) fn variables(mut self, id: u8) -> TestCtx {
        let s = |v: &str| ExprValue::String(v.to_string());
        let vars: Vec<(&str, ExprValue)> = match id {
            1 => vec![
                ("name", s("John")),
                ("age", ExprValue::Int(30)),
                (
                    "cars",
                    ExprValue::Json(json!(["Ford", "BMW", "Fiat", "Honda", "Lexus", "KIA"])),
                ),
                ("index", s("1")),
                ("num1", ExprValue::Int(10)),
                ("num2", ExprValue::Int(5)),
                ("num3", ExprValue::Double(-2.5)),
                ("num4", ExprValue::Double(-2.0)),
                ("encoded", s("V1NPMk1J")),
                ("empty", s("")),
            ],
            2 => vec![
                ("json1", s(PAYLOAD1)),
                ("json2", s(PAYLOAD2)),
                ("json3", s("[1,2,3,\"abc\"]")),
                ("payload", s(PAYLOAD4)),
                ("vars", s(PAYLOAD4)),
            ],
            3 => {
                let payload: Value = serde_json::from_str(PAYLOAD2).expect("payload 2");
                vec![(
                    "fileRead_1",
                    ExprValue::Json(json!({
                        "headers": {"Content-Type": "application/json", "Content-Length": "101"},
                        "attributes": {"statusCode": 201},
                        "payload": payload,
                    })),
                )]
            }
            4 => {
                self.xml_fields.insert(
                    "personVar.payload".into(),
                    "<person><name>John</name><age>30</age><address><city>Colombo</city><country>Sri Lanka</country></address></person>".into(),
                );
                self.xml_fields.insert(
                    "orderVar.payload".into(),
                    r#"<order id="ORD-001"><item quantity="3"><name>Widget</name><price>9.99</price></item></order>"#.into(),
                );
                self.xml_fields.insert(
                    "nsVar.payload".into(),
                    r#"<ns:employee xmlns:ns="http://example.com"><ns:name>Jane</ns:name><ns:department>Engineering</ns:department></ns:employee>"#.into(),
                );
                vec![
                    (
                        "personVar",
                        ExprValue::Json(json!({"headers": {}, "attributes": {}})),
                    ),
                    ("orderVar", ExprValue::Json(json!({}))),
                    ("nsVar", ExprValue::Json(json!({}))),
                    (
                        "plainXmlVar",
                        ExprValue::Xml("<root><value>42</value></root>".into()),
                    ),
                ]
            }
            _ => vec![],
        };
        for (name, value) in vars {
            self.variables.insert(name.to_string(), value);
        }
        self
    }

    pub(super) fn var(mut self, name: &str, value: ExprValue) -> TestCtx {
        self.variables.insert(name.to_string(), value);
        self
    }

    /// HeaderAndPropertyAccessTest.setUp.
    fn headers_and_properties() -> TestCtx {
        let mut ctx = TestCtx::new().payload(2);
        for (k, v) in [
            ("test", "Hello World"),
            ("toUpper", "HELLO WORLD"),
            ("te st", "HELLO"),
            ("numerical", "400"),
            ("price", "10"),
            ("payload", "Hello World"),
        ] {
            ctx.headers.insert(k.into(), v.into());
        }
        for (k, v) in [
            ("test", "Sic Mundus"),
            ("test2", "Creatus Est"),
            ("empty", "Thus the world was created"),
            ("category", "biography"),
            ("payload", "Hello"),
        ] {
            ctx.axis2.insert(k.into(), v.into());
        }
        for (k, v) in [
            ("phrase", "Now I Am Become Death, the Destroyer of Worlds"),
            ("selected book", "Animal Farm"),
            ("empty", ""),
        ] {
            ctx.synapse.insert(k.into(), v.into());
        }
        ctx
    }
}

struct NoProperties;

impl crate::xpath::XPathEnv for NoProperties {
    fn property(&self, _scope: &str, _name: &str) -> Option<String> {
        None
    }
}

impl ExprContext for TestCtx {
    fn payload_json(&self) -> Result<Value, String> {
        self.payload
            .clone()
            .ok_or_else(|| "Payload is empty".to_string())
    }

    fn variable(&self, name: &str) -> Option<ExprValue> {
        self.variables.get(name).cloned()
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).cloned()
    }

    fn property(&self, scope: PropertyScope, name: &str) -> Option<String> {
        match scope {
            PropertyScope::Synapse => self.synapse.get(name).cloned(),
            PropertyScope::Axis2 => self.axis2.get(name).cloned(),
        }
    }

    fn query_param(&self, name: &str) -> Option<String> {
        self.synapse.get(&format!("query.param.{name}")).cloned()
    }

    fn path_param(&self, name: &str) -> Option<String> {
        self.synapse.get(&format!("uri.var.{name}")).cloned()
    }

    fn function_param(&self, name: &str) -> Option<String> {
        self.function_params.as_ref()?.get(name).cloned()
    }

    fn in_template(&self) -> bool {
        self.function_params.is_some()
    }

    fn config(&self, name: &str) -> Option<String> {
        self.configs.get(name).cloned()
    }

    fn xpath(
        &self,
        expr: &str,
        variable: Option<&str>,
        string_mode: bool,
    ) -> Result<ExprValue, String> {
        let xml = match variable {
            Some(name) => match (self.xml_fields.get(name), self.variables.get(name)) {
                (Some(xml), _) => xml.clone(),
                (None, Some(ExprValue::Xml(xml))) => xml.clone(),
                _ => return Err(format!("variable {name} is not XML")),
            },
            None => self.xml_payload.clone().ok_or("no XML payload")?,
        };
        let doc = roxmltree::Document::parse(&xml).map_err(|e| e.to_string())?;
        let xpath =
            crate::xpath::XPath::compile(expr, &self.namespaces).map_err(|e| e.to_string())?;
        let text = xpath
            .string_value(&doc, &NoProperties)
            .map_err(|e| e.to_string())?;
        Ok(if string_mode {
            ExprValue::String(text)
        } else {
            ExprValue::Xml(text)
        })
    }

    fn registry_text(&self, key: &str) -> Option<String> {
        self.registry.get(key).cloned()
    }

    fn registry_property(&self, key: &str, name: &str) -> Option<String> {
        self.registry_properties
            .get(&(key.to_string(), name.to_string()))
            .cloned()
    }

    fn now_millis(&self) -> i64 {
        self.now
    }

    fn utc_offset_seconds(&self) -> i32 {
        self.offset
    }
}

/// `stringValueOf` of `expression` (TestUtils.evaluateExpression...).
#[track_caller]
fn eval(ctx: &TestCtx, expression: &str) -> String {
    let compiled = SynapseExpression::compile(expression)
        .unwrap_or_else(|e| panic!("{expression:?} does not compile: {e}"));
    compiled
        .string_value(ctx)
        .unwrap_or_else(|e| panic!("{expression:?} faulted: {e}"))
}

#[track_caller]
fn check(ctx: &TestCtx, cases: &[(&str, &str)]) {
    for (expression, expected) in cases {
        assert_eq!(eval(ctx, expression), *expected, "{expression}");
    }
}

#[track_caller]
fn faults(ctx: &TestCtx, expression: &str) -> String {
    let compiled = SynapseExpression::compile(expression)
        .unwrap_or_else(|e| panic!("{expression:?} does not compile: {e}"));
    match compiled.string_value(ctx) {
        Err(e @ EvalError::Fault { .. }) => e.message().to_string(),
        other => panic!("{expression:?}: expected a fault, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// PayloadAndVariableAccessTest

#[test]
fn payload_and_variable_access_test_payload_access() {
    // clearMessageContext: the payload is `<test/>`, which has no `name`.
    check(
        &TestCtx::new().json_payload(r#"{"test": null}"#),
        &[("payload.name", "")],
    );
    let p1 = TestCtx::new().payload(1);
    check(
        &p1,
        &[
            ("payload.name", "John"),
            ("payload[\"name\"]", "John"),
            ("$.cars[1]", "BMW"),
            ("$.cars[10]", ""),
            ("$.cars[$.index]", "BMW"),
            ("$.cars[$.index,4]", "[\"BMW\",\"Lexus\"]"),
            (
                "$.cars[$.index:5]",
                "[\"BMW\",\"Fiat\",\"Honda\",\"Lexus\"]",
            ),
            ("$.cars[:2]", "[\"Ford\",\"BMW\"]"),
            ("$.cars[-1:]", "[\"KIA\"]"),
            ("payload.cars[payload.index + 3:]", "[\"Lexus\",\"KIA\"]"),
        ],
    );
    let p3 = TestCtx::new().payload(3);
    check(
        &p3,
        &[
            ("payload.[:4]", "[\"When\",\"my\",\"time\",\"comes\"]"),
            (
                "payload[4:]",
                "[\"Forget\",\"the\",\"wrong\",\"that\",\"I've\",\"done\"]",
            ),
        ],
    );
    check(
        &TestCtx::new().payload(1).variables(1),
        &[("payload.random", "")],
    );
}

#[test]
fn payload_and_variable_access_test_json_path() {
    let p2 = TestCtx::new().payload(2);
    check(
        &p2,
        &[
            (
                "$.store.book[3].*",
                "[\"fiction\",\"Harper Lee\",\"To Kill a Mockingbird\",10.99]",
            ),
            ("$.store..price", "[8.95,8.99,22.99,10.99,7.99,6.99,19.95]"),
            ("$..price", "[8.95,8.99,22.99,10.99,7.99,6.99,19.95]"),
            (
                "$..book[*].title",
                "[\"Sayings of the Century\",\"Moby Dick\",\"The Lord of the Rings\",\"To Kill a Mockingbird\",\"Animal Farm\",\"The Diary of a Young Girl\"]",
            ),
            (
                "$..book[?(@.category=='biography')]",
                "[{\"category\":\"biography\",\"author\":\"Anne Frank\",\"title\":\"The Diary of a Young Girl\",\"price\":6.99}]",
            ),
            (
                "$..book[?(@.category==payload.selectedCategory)]",
                "[{\"category\":\"biography\",\"author\":\"Anne Frank\",\"title\":\"The Diary of a Young Girl\",\"price\":6.99}]",
            ),
            (
                "$..book[?(@.author=='George Orwell')].title",
                "[\"Animal Farm\"]",
            ),
            (
                "$..book[?(@.isbn)]",
                "[{\"category\":\"fiction\",\"author\":\"Herman Melville\",\"title\":\"Moby Dick\",\"isbn\":\"0-553-21311-3\",\"price\":8.99},{\"category\":\"fiction\",\"author\":\"J.R.R. Tolkien\",\"title\":\"The Lord of the Rings\",\"isbn\":\"0-395-19395-8\",\"price\":22.99}]",
            ),
            (
                "$..book[?(@.price > $.expensive)]",
                "[{\"category\":\"fiction\",\"author\":\"J.R.R. Tolkien\",\"title\":\"The Lord of the Rings\",\"isbn\":\"0-395-19395-8\",\"price\":22.99},{\"category\":\"fiction\",\"author\":\"Harper Lee\",\"title\":\"To Kill a Mockingbird\",\"price\":10.99}]",
            ),
            (
                "$..book[?(@.author =~ /.*Tolkien/i)]",
                "[{\"category\":\"fiction\",\"author\":\"J.R.R. Tolkien\",\"title\":\"The Lord of the Rings\",\"isbn\":\"0-395-19395-8\",\"price\":22.99}]",
            ),
            (
                "$..book[?(@.category == 'biography' || @.category == 'reference')]",
                "[{\"category\":\"reference\",\"author\":\"Nigel Rees\",\"title\":\"Sayings of the Century\",\"price\":8.95},{\"category\":\"biography\",\"author\":\"Anne Frank\",\"title\":\"The Diary of a Young Girl\",\"price\":6.99}]",
            ),
            // jsonPath functions
            ("$.store.book.length()", "6"),
            ("$.store.book.size()", "6"),
            ("$..price.min()", "6.99"),
            ("$..price.max()", "22.99"),
            ("round($..price.avg())", "12"),
            ("round($..price.stddev())", "6"),
            (
                "object($.store.book.first()).title",
                "Sayings of the Century",
            ),
            (
                "object($.store.book.last()).title",
                "The Diary of a Young Girl",
            ),
            (
                "$.store.book.[0].keys()",
                "[\"category\",\"author\",\"title\",\"price\"]",
            ),
        ],
    );
    check(
        &TestCtx::new().payload(1),
        &[(
            "$..*",
            "[\"John\",30,[\"Ford\",\"BMW\",\"Fiat\",\"Honda\",\"Lexus\",\"KIA\"],1,\" Hello World \",null,\"Ford\",\"BMW\",\"Fiat\",\"Honda\",\"Lexus\",\"KIA\"]",
        )],
    );
}

#[test]
fn payload_and_variable_access_test_variable_access() {
    check(
        &TestCtx::new().payload(1).variables(1),
        &[
            ("vars.name", "John"),
            ("vars.num1", "10"),
            (
                "(vars.num1 * vars.num3) - vars.num2 + payload.index",
                "-29.0",
            ),
            ("vars.num1 >= vars.num2", "true"),
        ],
    );
    check(
        &TestCtx::new().variables(2),
        &[
            ("vars.json3[1]", "2"),
            ("vars[\"json3\"][1]", "2"),
            (
                "vars[\"json2\"][\"store\"][\"book\"][?(@.author=='J.R.R. Tolkien')].title",
                "[\"The Lord of the Rings\"]",
            ),
            (
                "vars[\"json2\"][\"store\"][\"book\"][1,3].title",
                "[\"Moby Dick\",\"To Kill a Mockingbird\"]",
            ),
            (
                "vars[\"json2\"][\"store\"][\"book\"][-2:].title",
                "[\"Animal Farm\",\"The Diary of a Young Girl\"]",
            ),
            (
                "vars.json2.store.book[?(@.category=='fiction')].title",
                "[\"Moby Dick\",\"The Lord of the Rings\",\"To Kill a Mockingbird\",\"Animal Farm\"]",
            ),
        ],
    );
    check(
        &TestCtx::new().payload(2).variables(2),
        &[
            (
                "vars[\"json2\"][\"store\"][\"book\"][?(@.price > payload.expensive)].title",
                "[\"The Lord of the Rings\",\"To Kill a Mockingbird\"]",
            ),
            (
                "vars[\"json2\"].store.[\"book\"][?(@.price > payload.expensive)].title",
                "[\"The Lord of the Rings\",\"To Kill a Mockingbird\"]",
            ),
            (
                "vars.[\"json2\"].store.[\"book\"][?(@.price > payload.expensive)].title",
                "[\"The Lord of the Rings\",\"To Kill a Mockingbird\"]",
            ),
        ],
    );
    check(
        &TestCtx::new().variables(1),
        &[("vars.random", ""), ("vars.num1[0]", "")],
    );
    check(
        &TestCtx::new().variables(3),
        &[
            ("vars.fileRead_1.['attributes'].statusCode", "201"),
            ("vars[\"fileRead_1\"][\"headers\"]['Content-Length']", "101"),
        ],
    );
    check(
        &TestCtx::new().payload(2).variables(3),
        &[(
            "vars.fileRead_1['payload'][\"store\"][\"book\"][1,3].title",
            "[\"Moby Dick\",\"To Kill a Mockingbird\"]",
        )],
    );
}

#[test]
fn payload_and_variable_access_test_payload_access_with_keywords() {
    check(
        &TestCtx::new().payload(4),
        &[
            ("payload.payload.vars.pqr", "2"),
            (
                "payload.payload.vars.pqr * payload.payload.vars.configs.payload.iop",
                "8",
            ),
        ],
    );
    check(
        &TestCtx::new().variables(2),
        &[
            ("vars.payload.payload.vars.pqr", "2"),
            ("vars.vars.payload.vars.pqr", "2"),
            (
                "vars.vars.payload.vars.pqr + vars.payload.payload.vars.configs.payload.iop ",
                "6",
            ),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// PrimitiveExpressionsTest

#[test]
fn primitive_expressions_test_eq() {
    check(
        &TestCtx::new(),
        &[
            ("-5.3 == -5.3", "true"),
            ("5 == 3", "false"),
            ("true == true", "true"),
            ("true == false", "false"),
            ("\"abc\" == \"abc\"", "true"),
            ("\"abc\" == \"pqr\"", "false"),
            ("null == null", "true"),
        ],
    );
    check(
        &TestCtx::new().payload(1),
        &[
            ("\"John\" == payload.name", "true"),
            ("null == payload[\"null\"]", "true"),
        ],
    );
    check(
        &TestCtx::new().payload(2),
        &[
            ("\"abc\" == payload.age", ""),
            ("$.store.book[0] == $.store.book[0]", "true"),
            ("$.store.book[0] == $.store.book[1]", "false"),
        ],
    );
}

#[test]
fn primitive_expressions_test_neq() {
    check(
        &TestCtx::new(),
        &[
            ("-5.3 != -5.3", "false"),
            ("5 != 3", "true"),
            ("true != true", "false"),
            ("true != false", "true"),
            ("\"abc\" != \"abc\"", "false"),
            ("\"abc\" != \"pqr\"", "true"),
            ("null != null", "false"),
        ],
    );
    check(
        &TestCtx::new().payload(1),
        &[("\"John\" != $.name", "false")],
    );
    check(
        &TestCtx::new().payload(2),
        &[
            ("\"John\" != $.name", ""),
            ("$.store.book[0] == null", "false"),
        ],
    );
}

#[test]
fn primitive_expressions_test_gt() {
    check(
        &TestCtx::new(),
        &[
            ("5 > 3", "true"),
            ("5 > -3.4", "true"),
            ("-5 > -3.4", "false"),
            ("5 > \"bla\"", ""),
            ("5 > null", ""),
        ],
    );
    check(
        &TestCtx::new().payload(1).variables(1),
        &[("$.age > vars.num1", "true"), ("$.age > $[\"null\"]", "")],
    );
}

#[test]
fn primitive_expressions_test_lt() {
    check(
        &TestCtx::new(),
        &[
            ("5 < 3", "false"),
            ("5 < -3.4", "false"),
            ("-5 < -3.4", "true"),
            ("5 == 5", "true"),
        ],
    );
    check(&TestCtx::new().payload(1), &[("$.age < \"bla\"", "")]);
}

#[test]
fn primitive_expressions_test_gte() {
    check(
        &TestCtx::new(),
        &[
            ("5 >= 3", "true"),
            ("5 >= -3.4", "true"),
            ("-5 >= -3.4", "false"),
            ("true >= false", ""),
        ],
    );
    check(&TestCtx::new().payload(1), &[("$.age >= \"bla\"", "")]);
}

#[test]
fn primitive_expressions_test_lte() {
    check(
        &TestCtx::new(),
        &[
            ("5 <= 3", "false"),
            ("5 <= -3.4", "false"),
            ("-5 <= -3.4", "true"),
        ],
    );
    check(&TestCtx::new().payload(1), &[("$.age <= \"bla\"", "")]);
}

#[test]
fn primitive_expressions_test_and() {
    check(
        &TestCtx::new(),
        &[
            ("true and true", "true"),
            ("true and false", "false"),
            ("true && true && false", "false"),
            ("5 and \"bla\"", ""),
            ("5 and null", ""),
        ],
    );
}

#[test]
fn primitive_expressions_test_or() {
    check(
        &TestCtx::new(),
        &[
            ("true or true", "true"),
            ("true or false", "true"),
            ("true || true || false", "true"),
            ("false or false", "false"),
            ("5 or \"bla\"", ""),
        ],
    );
}

#[test]
fn primitive_expressions_test_add() {
    check(
        &TestCtx::new(),
        &[
            ("8.95 + 8.99", "17.94"),
            ("5.5 + 3", "8.5"),
            ("5 + 3 + -1", "7"),
            ("5.5 + 3.5", "9.0"),
            ("\"abc\" + 5", ""),
            ("\"abc\" + \"xyz\"", "abcxyz"),
            ("vars.num99 + 5", ""),
            ("2147483647 + 1", "2147483648"),
        ],
    );
    check(
        &TestCtx::new().payload(2).variables(1),
        &[
            ("vars.num1 + vars.num3", "7.5"),
            ("vars.num1 + payload.expensive", "20"),
            ("5 + vars.name", ""),
        ],
    );
}

#[test]
fn primitive_expressions_test_subtract() {
    check(
        &TestCtx::new(),
        &[
            ("3148483647 - 3147483647", "1000000"),
            ("8.9567 - 8.9456", "0.0111"),
            ("5 - 30 + 2 - 10", "-33"),
            ("5.5 - 3", "2.5"),
            ("5.5 - 3.5", "2.0"),
            ("vars.num99 - 5", ""),
            ("5 - \"bla\"", ""),
        ],
    );
    check(
        &TestCtx::new().payload(2).variables(1),
        &[("vars.num1 - vars.num3", "12.5")],
    );
}

#[test]
fn primitive_expressions_test_multiply() {
    check(
        &TestCtx::new(),
        &[
            ("72.0 * 1.032145", "74.31444"),
            ("8.99 * 8.99", "80.8201"),
            ("25 * 1.05", "26.25"),
            ("25 * 1.001", "25.025"),
            ("5 * 3 * -2", "-30"),
            ("5.5 * 3", "16.5"),
            ("5.5 * 3.5", "19.25"),
            ("vars.num99 * 5", ""),
            ("5 * \"bla\"", ""),
            ("2147483647 * -2", "-4294967294"),
            ("2147463647 * 2", "4294927294"),
        ],
    );
    check(
        &TestCtx::new().payload(2).variables(1),
        &[("vars.num1 * vars.num3", "-25.0")],
    );
}

#[test]
fn primitive_expressions_test_divide() {
    check(
        &TestCtx::new(),
        &[
            ("34.45 / 3.44", "10.01"),
            ("10 / 2 / -2.5 * 2", "-4.0"),
            ("9 / 3", "3"),
            ("vars.num99 / 5", ""),
            ("5 / \"bla\"", ""),
            ("5/0", ""),
            ("5.2/0", ""),
            ("10/10000", "0.001"),
            ("2147483650/0", ""),
            ("5/10", "0.5"),
            ("20000000000/10", "2.0E9"),
            ("200000000/10", "20000000"),
            ("100/10.0", "10.0"),
        ],
    );
    check(
        &TestCtx::new().payload(2).variables(1),
        &[("vars.num1 / 2", "5")],
    );
}

#[test]
fn primitive_expressions_test_mod() {
    check(
        &TestCtx::new(),
        &[
            ("34.56 % 3.45", "0.06"),
            ("10 % 3", "1"),
            ("5.5 % 3", "2.5"),
            ("5.5 % 3.5", "2.0"),
            ("vars.num99 % 5", ""),
            ("5 % \"bla\"", ""),
        ],
    );
    check(
        &TestCtx::new().payload(2).variables(1),
        &[("vars.num1 % 2", "0")],
    );
}

// ---------------------------------------------------------------------------------------------
// ConditionalExpressionTest

#[test]
fn conditional_expression_test_if_else() {
    check(
        &TestCtx::new(),
        &[
            ("true ? true : false", "true"),
            ("false ? true : false", "false"),
            ("false ? true : false ? false : true", "true"),
            ("true ? false ? false : true : false", "true"),
            (" 5 > 4 ? (false ? false : true) : false", "true"),
            (" 5.2 > 5 ? 5 : 4", "5"),
            ("\"bla\"? true : 123", ""),
            ("45 == (  5 + 34 ? true : 456)", ""),
        ],
    );
    check(
        &TestCtx::new().payload(1),
        &[
            ("45 == (  $[\"null\"] ? true : 456)", ""),
            ("$[\"null\"] ? 123 : 456", ""),
            ("$[\"null\"] == null ? 123 : 456", "123"),
            ("null ? 4 : 5", ""),
        ],
    );
    let p2 = TestCtx::new().payload(2).variables(1);
    check(
        &p2,
        &[
            (
                "vars.num1 > vars.num2 ? $..book[?(@.author =~ /.*Tolkien/i)].price : $..book[(@.\"length\"-1)].title",
                "[22.99]",
            ),
            // The Java test runs this after payload 2 was set: `$["null"]` is missing there.
            ("null == $[\"null\"] ? 123 : 456", ""),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// HeaderAndPropertyAccessTest

#[test]
fn header_and_property_access_test() {
    let ctx = TestCtx::headers_and_properties();
    check(
        &ctx,
        &[
            // testTransportHeader
            ("headers.test", "Hello World"),
            // testTransportHeaderWithReservedName
            ("toLower(headers.[\"toUpper\"])", "hello world"),
            // testTransportHeaderInFilter
            (
                "$..book[?(@.price > integer(headers.price))].title",
                "[\"The Lord of the Rings\",\"To Kill a Mockingbird\"]",
            ),
            // testTransportHeaderWithSpecialChar
            ("toLower(headers.[\"te st\"]) + \" World\"", "hello World"),
            // testTransportHeaderNotExist
            ("headers[\"toUpper2\"]", ""),
            // testTransportHeaderNumerical
            ("integer(headers.numerical)+ 4", "404"),
            // testAxis2Header
            ("props.axis2.test", "Sic Mundus"),
            // testAxis2HeaderWithExpression
            (
                "properties.axis2.test + \" \" + props.axis2.test2",
                "Sic Mundus Creatus Est",
            ),
            // testAxis2HeaderInFilter
            (
                "$..book[?(@.category == props.axis2.category)].title",
                "[\"The Diary of a Young Girl\"]",
            ),
            // testAxis2HeaderWithReservedName
            ("props.axis2.[\"empty\"]", "Thus the world was created"),
            // testSynapseHeader
            (
                "props.synapse.phrase",
                "Now I Am Become Death, the Destroyer of Worlds",
            ),
            // testSynapseHeaderWithFunction
            ("length(split(properties.synapse.phrase, \" \"))", "9"),
            // testSynapseHeaderInFilter
            (
                "$..book[?(@.title == props.synapse.[\"selected book\"])].price",
                "[7.99]",
            ),
            // testNonExistingEmptyAndNull
            ("props.synapse.nonExisting", ""),
            ("props.synapse.[\"null\"]", ""),
            ("props.synapse[\"empty\"]", ""),
            // testHeaderWithKeyword
            ("headers.payload", "Hello World"),
            // testAxis2PropertyWithKeyword
            ("props.axis2.payload", "Hello"),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// SyntaxErrorsTest

#[test]
fn syntax_errors_test() {
    // testValidExpressions
    assert!(SynapseExpression::compile("5 > 3").is_ok());
    // testOperationError
    assert!(SynapseExpression::compile("5 >> 3").is_err());
    // testInvalidExpressionByLength
    assert!(SynapseExpression::compile("payload.products[0].stock + abc").is_err());
}

// ---------------------------------------------------------------------------------------------
// ContentAwarenessTest

#[test]
fn content_awareness_test() {
    let aware = |text: &str| {
        SynapseExpression::compile(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .needs_payload()
    };
    // testPayloadAccess
    for text in ["payload", "$", "payload.name", "$.name"] {
        assert!(aware(text), "{text}");
    }
    // testComplexUsages
    for text in [
        "length(payload)",
        "5 + length(payload)",
        "5 + length(payload[\"payload\"])",
        "$..book[?(@.category==payload.category)]",
        "$..book[?(@.category==\"payload.category\")]",
        "vars.books[?(@.category==payload.category)]",
        "vars.books[?(@.category==$.category)]",
    ] {
        assert!(aware(text), "{text}");
    }
    // testWithXpath
    assert!(!aware("xpath(\"$ctx:name\")"));
    assert!(aware("xpath(\"//student\")"));
    assert!(aware("xpath(\"/student\")"));
    assert!(aware("xpath(\"//*\") + vars.abc"));
    assert!(aware("xpath(\"$ctx:bla\") + $.age"));
    assert!(aware("vars.num1 + vars.[\"payload\"] + xpath(\"//num3\")"));
    assert!(!aware(
        "vars.num1 + vars.[\"payload\"] + xpath(\"$ctx:num3\")"
    ));
    // testNegativeCases
    for text in [
        "length(vars.abc)",
        "vars[\"payload\"]",
        "5 + vars[\"payload\"].age",
        "vars.a.bc",
        "vars.books[?(@.category==\"payload.category\")]",
        "xpath('//a', 'myVar')",
    ] {
        assert!(!aware(text), "{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// PreDefinedFunctionsTest

#[test]
fn pre_defined_functions_test_length() {
    check(
        &TestCtx::new(),
        &[
            ("length(\"Lahiru\")", "6"),
            ("length(\"Lahiru\") + 10", "16"),
            ("length([\"LAHIRU\",3,5])", "3"),
            ("length(34)", ""),
            ("length(null)", ""),
        ],
    );
    check(
        &TestCtx::new().payload(2),
        &[("length(payload.store.book)", "6")],
    );
    check(
        &TestCtx::new().payload(2).variables(1),
        &[("length(vars.cars)", "6"), ("length(vars[\"empty\"])", "0")],
    );
}

#[test]
fn pre_defined_functions_test_to_upper() {
    check(
        &TestCtx::new(),
        &[
            ("toUpper(\"lahiru\")", "LAHIRU"),
            ("toUpper(\"space\") + \" X\"", "SPACE X"),
            ("toUpper(null)", ""),
            ("toUpper(34)", ""),
        ],
    );
    check(
        &TestCtx::new().payload(1).variables(1),
        &[("toUpper(payload.name)", "JOHN")],
    );
    check(
        &TestCtx::new().payload(2),
        &[("toUpper(payload.store.book[4].author)", "GEORGE ORWELL")],
    );
    check(
        &TestCtx::new().variables(1),
        &[("toUpper(vars[\"empty\"])", "")],
    );
}

#[test]
fn pre_defined_functions_test_to_lower() {
    check(
        &TestCtx::new(),
        &[
            ("toLower(\"LAHIRU\")", "lahiru"),
            ("\"europa \" + toLower(\"CLIpper\")", "europa clipper"),
            ("toLower(34)", ""),
            ("toLower(null)", ""),
        ],
    );
    check(
        &TestCtx::new().payload(2).variables(1),
        &[
            (
                "toLower(payload[\"store\"][\"book\"][5][\"title\"])",
                "the diary of a young girl",
            ),
            ("toLower(payload.store.book[4].author)", "george orwell"),
            ("toLower(vars[\"empty\"])", ""),
        ],
    );
}

#[test]
fn pre_defined_functions_test_sub_string() {
    check(
        &TestCtx::new().variables(1),
        &[
            ("subString(\"Lahiru\",2)", "hiru"),
            ("subString(\"Lahiru\",2,4)", "hi"),
            ("length(toUpper(subString(\"Lahiru\",2,4)))", "2"),
            ("subString(\"Hello\",5)", ""),
            ("subString(null,5)", ""),
            ("subString(\"hello\",null)", ""),
            ("subString(\"Hello\",\"a\",4)", ""),
            ("subString(\"Hello\",\"a\")", ""),
            ("subString(\"Hello\",20)", ""),
            ("subString(\"Hello\",-2)", ""),
            ("subString(\"Hello\",-2,4)", ""),
            ("subString(\"Hello\",2,vars.num1)", ""),
        ],
    );
}

#[test]
fn pre_defined_functions_test_starts_ends_with_and_contains() {
    check(
        &TestCtx::new(),
        &[
            ("startsWith(\"Curiosity\",\"Curi\")", "true"),
            ("startsWith(\"Curiosity\",\"sity\")", "false"),
            ("startsWith(\"Curiosity\",34)", ""),
            ("endsWith(\"Opportunity\",\"unity\")", "true"),
            ("endsWith(\"Opportunity\",\"tune\")", "false"),
            ("endsWith(\"Curiosity\",34)", ""),
            ("contains(\"Perseverance\",\"sever\")", "true"),
            ("contains(\"Perseverance\",\"server\")", "false"),
            ("contains(\"sever\",\"Perseverance\")", "false"),
            ("contains(\"Curiosity\",34)", ""),
        ],
    );
    check(
        &TestCtx::new().payload(2),
        &[
            ("startsWith(\"Curiosity\",$.store.bicycle.color)", "false"),
            ("startsWith(\"red flag\",$.store.bicycle.color)", "true"),
            ("endsWith(\"Curiosity\",$.store.bicycle.color)", "false"),
            ("endsWith(\"discovered\",$.store.bicycle.color)", "true"),
            ("contains(\"Perseverance\",$.store.bicycle.color)", "false"),
            ("contains(\"discovered\",$.store.bicycle.color)", "true"),
        ],
    );
    check(
        &TestCtx::new().payload(1),
        &[
            ("startsWith(payload.cars,\"Ford\")", ""),
            ("endsWith(payload.cars,\"Ford\")", ""),
            ("contains(payload.cars,\"Ford\")", ""),
        ],
    );
}

#[test]
fn pre_defined_functions_test_trim_and_replace() {
    check(
        &TestCtx::new(),
        &[
            ("trim(\" Ingenuity \")", "Ingenuity"),
            ("trim(\" Ingenuity \") == \"Ingenuity\"", "true"),
            ("trim(34)", ""),
            ("replace(\"Hello\", \"l\", \"p\")", "Heppo"),
            ("replace(\"Hello\", \"p\", \"q\")", "Hello"),
        ],
    );
    check(
        &TestCtx::new().payload(1),
        &[
            ("trim($[\"string\"])", "Hello World"),
            ("replace(\"Hello\", \"p\", payload.name)", "Hello"),
            (
                "replace(\"John has a \" + payload.cars[2], \"Fiat\" , payload.cars[1])",
                "John has a BMW",
            ),
            (
                "replace(\"John has a \" + payload.cars[2], \"Fiat\" , payload.cars)",
                "",
            ),
        ],
    );
}

#[test]
fn pre_defined_functions_test_split() {
    check(
        &TestCtx::new(),
        &[
            (
                "split(\"Split a string by spaces and,comma\", \"[, ]\")",
                "[\"Split\",\"a\",\"string\",\"by\",\"spaces\",\"and\",\"comma\"]",
            ),
            (
                "length(split(\"Split a string by spaces and,comma\", \"[, ]\"))",
                "7",
            ),
            (
                "length(split(\"NASA, launches; rovers to explore. Mars\", \"[,; .]+\"))",
                "6",
            ),
            ("split(\" Moon Mars \", \",\")", "[\" Moon Mars \"]"),
        ],
    );
    check(
        &TestCtx::new().payload(1),
        &[("split(payload.cars, \"34\")", "")],
    );
}

#[test]
fn pre_defined_functions_test_math() {
    check(
        &TestCtx::new(),
        &[
            // testAbs
            ("abs(-5)", "5"),
            ("abs(5)", "5"),
            ("abs(-5.0)", "5.0"),
            // testFloor
            ("floor(-5.4)", "-6.0"),
            ("floor(5.9)", "5.0"),
            // testCeil
            ("ceil(-5.4)", "-5.0"),
            ("ceil(5.9)", "6.0"),
            // testSqrt
            ("sqrt(25)", "5.0"),
            ("sqrt(-25.0)", "NaN"),
            // testPow
            ("pow(2,3)", "8.0"),
            ("pow(2,0)", "1.0"),
            ("pow(2,-2)", "0.25"),
            // testLog
            ("log(10)", "1.0"),
            ("round(log(1001))", "3"),
            ("log(\"asdf\")", ""),
            ("log(1024,2)", "10.0"),
        ],
    );
    check(
        &TestCtx::new().payload(2).variables(1),
        &[
            ("abs(vars.num4)", "2.0"),
            ("abs(vars.num4 + payload.expensive )", "8.0"),
            ("abs(vars.num1 / vars.num3)", "4.0"),
            ("floor(vars.num3)", "-3.0"),
            ("floor(-1 * vars.num3)", "2.0"),
            ("ceil(vars.num3)", "-2.0"),
            ("ceil(-1 * vars.num3)", "3.0"),
            ("sqrt(vars.num1 * vars.num1)", "10.0"),
            ("sqrt(vars.num3 * vars.num3)", "2.5"),
            ("pow(vars.num1,0)", "1.0"),
            ("pow(vars.num3,0)", "1.0"),
            ("pow(vars.num3,-2)", "0.16"),
            ("log(vars.num1,vars.num3)", "NaN"),
            ("round(log(vars.num1,vars.num2),2)", "1.43"),
        ],
    );
    check(
        &TestCtx::new().payload(1),
        &[
            ("abs(payload.cars)", ""),
            ("floor(payload.cars)", ""),
            ("ceil(payload.cars)", ""),
            ("sqrt(payload.cars)", ""),
            ("pow(payload.cars,2)", ""),
        ],
    );
}

#[test]
fn pre_defined_functions_test_base64_and_url() {
    check(
        &TestCtx::new(),
        &[
            // testB64Encode
            ("base64encode(\"Hello World\")", "SGVsbG8gV29ybGQ="),
            ("base64encode(34)", ""),
            ("base64encode(\"Hello\",\"UTF-99\")", ""),
            // testB64Decode
            ("base64decode(\"YWRtaW46YWRtaW4=\")", "admin:admin"),
            ("base64decode(34)", ""),
            // testUrlEncode
            ("urlEncode(\"Hello World\")", "Hello%20World"),
            ("urlEncode(34)", ""),
            ("urlEncode(\"Hello\",\"UTF-99\")", ""),
            ("urlEncode(\" *~\")", "%20%2A%7E"),
            // testUrlDecode
            ("urlDecode(\"Hello+World\")", "Hello World"),
            ("urlDecode(34)", ""),
        ],
    );
    check(
        &TestCtx::new().payload(1),
        &[
            ("base64encode(payload[\"name\"])", "Sm9obg=="),
            ("urlEncode(payload[\"string\"])", "%20Hello%20World%20"),
            (
                "urlDecode(payload[\"string\"]) + \" \" + urlDecode(\"%26\")",
                " Hello World  &",
            ),
        ],
    );
    check(
        &TestCtx::new().variables(1),
        &[
            ("base64encode(vars.name,\"UTF-8\")", "Sm9obg=="),
            ("base64decode(vars.encoded)", "WSO2MI"),
        ],
    );
}

#[test]
fn pre_defined_functions_test_type_checks() {
    check(
        &TestCtx::new(),
        &[
            // testIsNumber
            ("isNumber(34)", "true"),
            ("isNumber(\"34\")", "false"),
            ("isNumber(\"Hello\")", "false"),
            ("isNumber(null)", ""),
            // testIsString
            ("isString(\"Hello\")", "true"),
            ("isString(34)", "false"),
            ("isString(\"34\")", "true"),
            ("isString(null)", ""),
            // testIsArray
            ("isArray([\"Hello\",34])", "true"),
            ("isArray(\"Hello\")", "false"),
            ("isArray([\"34\"])", "true"),
            ("isArray(null)", ""),
            ("isArray(\"[1,2,{\\\"abc\\\":5}]\")", "true"),
            ("isArray(\"[1,2,{\\\"abc:5}]\")", "false"),
            // testIsObject
            ("isObject(\"Hello\")", "false"),
            ("isObject(null)", ""),
            ("isObject(\"{\\\"hello\\\": \\\"world\\\"}\")", "true"),
            ("isObject(\"{\\\"hello: \\\"world\\\"}\")", "false"),
        ],
    );
    check(
        &TestCtx::new().payload(1).variables(1),
        &[
            ("isNumber(payload[\"age\"]) && isNumber(vars.num1)", "true"),
            (
                "isNumber(payload[\"string\"]) || isNumber(vars.name)",
                "false",
            ),
            ("isNumber(vars[\"empty\"])", "false"),
            ("isNumber(vars[\"empty2\"])", ""),
            ("isString(payload[\"name\"]) && isString(vars.name)", "true"),
            ("isString(payload[\"age\"]) || isString(vars.num1)", "false"),
            ("isArray(payload[\"cars\"]) && isArray(vars.cars)", "true"),
            ("isArray(payload[\"age\"]) || isArray(vars.num1)", "false"),
            ("isObject(payload[\"age\"]) || isObject(vars.num1)", "false"),
        ],
    );
    check(
        &TestCtx::new().payload(3).variables(1),
        &[
            ("isArray(payload)", "true"),
            ("isObject(payload) && isObject(vars.name)", "false"),
        ],
    );
    check(
        &TestCtx::new().payload(2).variables(1),
        &[("isObject(payload.store)", "true")],
    );
}

#[test]
fn pre_defined_functions_test_conversions() {
    check(
        &TestCtx::new(),
        &[
            // testConvertToString
            ("string(12) + \" Angry Men\"", "12 Angry Men"),
            ("string(\"Hello\")", "Hello"),
            ("string(true)", "true"),
            ("string(false)", "false"),
            ("string(null)", ""),
            // testConvertToInteger
            ("integer(34)", "34"),
            ("integer(\"Hello\")", ""),
            ("integer(34.5)", ""),
            ("integer(null)", ""),
            // testConvertToFloat
            ("float(-34)", "-34.0"),
            ("float(\"Hello\")", ""),
            // testConvertToBoolean
            ("boolean(\"true\")", "true"),
            ("boolean(\"bla\")", "false"),
            ("boolean(\"1\")", "false"),
            ("boolean(\"0\") || (5 > 2)", "true"),
            ("boolean(null)", ""),
        ],
    );
    check(
        &TestCtx::new().payload(3),
        &[
            (
                "string(payload)",
                "[\"When\",\"my\",\"time\",\"comes\",\"Forget\",\"the\",\"wrong\",\"that\",\"I've\",\"done\"]",
            ),
            ("integer(payload)", ""),
            ("float(payload)", ""),
            ("boolean(payload)", "false"),
        ],
    );
    check(
        &TestCtx::new().variables(1),
        &[("string(vars.age * 10)", "300")],
    );
    check(
        &TestCtx::new().payload(2).variables(1),
        &[
            ("integer(payload[\"expensive\"]) + vars.num1", "20"),
            ("float(payload[\"expensive\"]) + vars.num2", "15.0"),
        ],
    );
}

#[test]
fn pre_defined_functions_test_round() {
    check(
        &TestCtx::new(),
        &[
            ("round(5.4)", "5"),
            ("round(5.6)", "6"),
            ("round(8.89 + 0.12,1)", "9.0"),
            ("round(8.89 + 0.12,2)", "9.01"),
            ("round(0.111,2)", "0.11"),
            ("round(0.115,2)", "0.12"),
            ("round(0.111,3)", "0.111"),
            ("round(0.111,4)", "0.111"),
            ("round(0.111,0)", ""),
            ("round(0.111,\"asdf\")", ""),
        ],
    );
    check(
        &TestCtx::new().variables(1),
        &[
            ("round(vars.num4)", "-2"),
            ("round(vars.num1 + vars.num2)", "15"),
        ],
    );
    check(&TestCtx::new().payload(3), &[("round(payload)", "")]);
}

#[test]
fn pre_defined_functions_test_exists_and_not() {
    // testExists: clearMessageContext first.
    check(
        &TestCtx::new(),
        &[("exists(vars.num1)", "false"), ("exists(null)", "false")],
    );
    check(
        &TestCtx::new().payload(1),
        &[("exists($.fullName) ? $.fullName : $.name", "John")],
    );
    // testNot
    check(
        &TestCtx::new(),
        &[
            ("not(true)", "false"),
            ("not(false)", "true"),
            ("not(5 > 6) ? true : false", "true"),
            ("not(123)", ""),
        ],
    );
}

#[test]
fn pre_defined_functions_test_convert_to_object_and_array() {
    check(
        &TestCtx::new().payload(2),
        &[
            (
                "object(\"{\\\"hello\\\":\\\"world\\\"}\")",
                "{\"hello\":\"world\"}",
            ),
            ("object(\"{\\\"hello\\\":\\\"world\\\"}\").hello", "world"),
            (
                "object(\"{\\\"hello\\\":\\\"world\\\"}\")[\"hello\"]",
                "world",
            ),
            ("array(payload)", ""),
        ],
    );
    check(
        &TestCtx::new(),
        &[
            ("object(\"[\\\"Hello\\\",\\\"World\\\"]\")", ""),
            ("object(34)", ""),
            ("object(null)", ""),
            ("registry(\"Hello\").bla", ""),
            (
                "array(\"[\\\"Hello\\\",\\\"World\\\"]\")",
                "[\"Hello\",\"World\"]",
            ),
            ("array(\"[\\\"Hello\\\",\\\"World\\\"]\")[0]", "Hello"),
            ("array(34)", ""),
            ("array(null)", ""),
        ],
    );
    check(
        &TestCtx::new().payload(3),
        &[
            ("object(payload)", ""),
            ("toUpper(array(payload)[2])", "TIME"),
        ],
    );
}

#[test]
fn pre_defined_functions_test_index_of_and_char_at() {
    check(
        &TestCtx::new(),
        &[
            ("indexOf(\"Hello World\", \"World\")", "6"),
            ("indexOf(\"Hello World\", \"World2\")", "-1"),
            ("indexOf(\"Hello World\", \"r\")", "8"),
            ("indexOf(\"Hello World\", \"l\",5)", "9"),
            ("indexOf(\"Hello World\", \"l\",50)", "-1"),
            ("charAt(\"Hello World\", 6)", "W"),
            ("charAt(\"Hello World\", -1)", ""),
            ("charAt(\"Hello World\", 100)", ""),
        ],
    );
    check(
        &TestCtx::new().payload(1),
        &[
            ("indexOf($.string, \"World\")", "7"),
            ("charAt($.string, 0)", " "),
        ],
    );
}

#[test]
fn pre_defined_functions_test_format_date_time() {
    // LocalDateTime.now() formatted: now() is the context's clock, the zone its offset.
    let mut ctx = TestCtx::new();
    ctx.now = 1_709_211_909_123; // 2024-02-29T13:05:09.123Z
    ctx.offset = 5 * 3600 + 1800;
    check(
        &ctx,
        &[
            (
                "formatDateTime(now(), \"dd-MM-yyyy HH:mm\")",
                "29-02-2024 18:35",
            ),
            ("formatDateTime(now(), \"yyyy-MM-dd\")", "2024-02-29"),
            (
                "formatDateTime(\"29/09/1988\",\"dd/MM/yyyy\", \"yyyy-MM-dd\")",
                "1988-09-29",
            ),
            (
                "formatDateTime(\"29-09-1988\",\"dd-MM-yyyy\", \"yyyy MMM dd\")",
                "1988 Sep 29",
            ),
            (
                "formatDateTime(\"11-22-33\",\"HH-mm-ss\", \"HH mm ss\")",
                "11 22 33",
            ),
            (
                "formatDateTime(\"50-22-33\",\"HH-mm-ss\", \"HH mm ss\")",
                "",
            ),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// XPathFunctionTest (the dot notation `'var.field'` is the runtime's: the test context resolves
// it; Synapse expressions pass the name through)

#[test]
fn xpath_function_test() {
    let ctx = TestCtx::new().variables(4);
    check(
        &ctx,
        &[
            // testTextExtractionFromConnectorPayload
            ("xpath('//name/text()', 'personVar.payload')", "John"),
            // testNumericTextFromConnectorPayload
            ("xpath('//age/text()', 'personVar.payload')", "30"),
            // testNestedElementTextFromConnectorPayload
            (
                "xpath('//address/city/text()', 'personVar.payload')",
                "Colombo",
            ),
            (
                "xpath('//address/country/text()', 'personVar.payload')",
                "Sri Lanka",
            ),
            // testRootAttributeFromConnectorPayload
            ("xpath('/order/@id', 'orderVar.payload')", "ORD-001"),
            // testChildAttributeFromConnectorPayload
            ("xpath('//item/@quantity', 'orderVar.payload')", "3"),
            // testDecimalTextFromConnectorPayload
            ("xpath('//price/text()', 'orderVar.payload')", "9.99"),
            // testXPathResultUsedInStringFunction
            (
                "toUpper(xpath('//name/text()', 'personVar.payload'))",
                "JOHN",
            ),
            // testXPathResultUsedInConcatenation
            (
                "\"Order: \" + xpath('/order/@id', 'orderVar.payload')",
                "Order: ORD-001",
            ),
            // testXPathResultUsedInConditionalExpression
            (
                "xpath('//name/text()', 'personVar.payload') == \"John\" ? \"found\" : \"not found\"",
                "found",
            ),
            // testXPathNoMatchReturnsEmpty
            ("xpath('//nonexistent/text()', 'personVar.payload')", ""),
            // testXPathNoMatchAttributeReturnsEmpty
            ("xpath('/person/@missingAttr', 'personVar.payload')", ""),
            // testUndefinedVariableReturnsEmpty
            ("xpath('//name/text()', 'ghost.payload')", ""),
            // testVariableNotAMapReturnsEmpty
            ("xpath('//value/text()', 'plainXmlVar.payload')", ""),
            // testFieldNotAnOMElementReturnsEmpty
            ("xpath('//name/text()', 'personVar.headers')", ""),
            // testEmptyVariableNameReturnsEmpty
            ("xpath('//name/text()', '')", ""),
            // testTwoArgXPathOnPlainXmlVariable
            ("xpath('//value/text()', 'plainXmlVar')", "42"),
        ],
    );
    // testNamespacedElementAccess / testNamespacedNestedElementAccess
    let mut ns = TestCtx::new().variables(4);
    ns.namespaces = vec![("ns".into(), "http://example.com".into())];
    check(
        &ns,
        &[
            ("xpath('//ns:name/text()', 'nsVar.payload')", "Jane"),
            (
                "xpath('//ns:department/text()', 'nsVar.payload')",
                "Engineering",
            ),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// InlineExpressionUtilTest

const TEAM: &str = r#"{
  "team": [
    {"name": "Alice", "role": "Developer", "experience": 3},
    {"name": "Bob", "role": "Designer", "experience": 5},
    {"name": "Charlie", "role": "Product Manager", "experience": 7}
  ]
}
"#;

const CATALOG: &str = "<catalog>
    <book>
        <id>101</id>
        <title>The Great Gatsby</title>
        <author>F. Scott Fitzgerald</author>
        <genre>Fiction</genre>
        <price>10.99</price>
        <publish_date>1925-04-10</publish_date>
    </book>
    <book>
        <id>102</id>
        <title>1984</title>
        <author>George Orwell</author>
        <genre>Dystopian</genre>
        <price>8.99</price>
        <publish_date>1949-06-08</publish_date>
    </book>
</catalog>
";

#[track_caller]
fn inline(ctx: &TestCtx, template: &str, content_aware: bool, expected: &str) {
    let compiled = InlineTemplate::compile(template).expect(template);
    assert!(compiled.has_expressions());
    assert_eq!(compiled.needs_payload(), content_aware, "{template}");
    assert_eq!(compiled.render(ctx).as_deref(), Ok(expected), "{template}");
}

#[test]
fn inline_expression_util_test_ts_in_line_synapse_expression_template_1_to_8() {
    let team = TestCtx::new().json_payload(TEAM);
    inline(
        &team,
        "Processing payload : ${payload.team[0]}",
        true,
        "Processing payload : {\"name\":\"Alice\",\"role\":\"Developer\",\"experience\":3}",
    );
    inline(
        &team,
        "Processing user : ${payload.team[0].name}",
        true,
        "Processing user : Alice",
    );
    inline(
        &team,
        "Processing user : ${payload.team[0].age}",
        true,
        "Processing user : ",
    );
    let ctx = TestCtx::new()
        .json_payload(TEAM)
        .var("age", ExprValue::Int(3))
        .var(
            "address",
            ExprValue::Json(json!({"no": 110, "street": "Palm Grove", "city": "Colombo"})),
        );
    inline(
        &ctx,
        "Processing user with age : ${vars.age} lives at ${vars.address}",
        false,
        "Processing user with age : 3 lives at {\"no\":110,\"street\":\"Palm Grove\",\"city\":\"Colombo\"}",
    );
    let mut ctx = TestCtx::new()
        .json_payload(TEAM)
        .var("role", ExprValue::String("Developer".into()))
        .var("experience", ExprValue::Json(json!({"level": "3"})));
    ctx.synapse.insert("duration".into(), "years".into());
    inline(
        &ctx,
        "Processing user : ${payload.team[0].name}, role : ${vars.role}, experience : ${vars.experience.level} ${properties.synapse.duration}",
        true,
        "Processing user : Alice, role : Developer, experience : 3 years",
    );
    let mut ctx = TestCtx::new().json_payload(TEAM).var(
        "endpoint",
        ExprValue::String("https://test.wso2.com/".into()),
    );
    ctx.synapse.insert("method".into(), "get".into());
    inline(
        &ctx,
        "Processing using endpoint : ${vars.endpoint}, method : ${properties.synapse.method}, role : ${payload.team[2].role}",
        true,
        "Processing using endpoint : https://test.wso2.com/, method : get, role : Product Manager",
    );
    let mut ctx = TestCtx::new().var(
        "endpoint",
        ExprValue::String("https://test.wso2.com/".into()),
    );
    ctx.xml_payload = Some(CATALOG.to_string());
    inline(
        &ctx,
        "Using endpoint : ${vars.endpoint} to process book : ${xpath('//catalog/book[1]')}",
        true,
        "Using endpoint : https://test.wso2.com/ to process book : <book>\n        <id>101</id>\n        <title>The Great Gatsby</title>\n        <author>F. Scott Fitzgerald</author>\n        <genre>Fiction</genre>\n        <price>10.99</price>\n        <publish_date>1925-04-10</publish_date>\n    </book>",
    );
    let ctx = TestCtx::new()
        .json_payload(TEAM)
        .var(
            "endpoint",
            ExprValue::String("https://test.wso2.com/".into()),
        )
        .var("completed", ExprValue::Bool(true));
    inline(
        &ctx,
        "Using endpoint : ${vars.endpoint + 'integration'} to process sum = ${payload.team[0].experience + 12} and status = ${(payload.team[0].experience > 2) && (vars.completed)}",
        true,
        "Using endpoint : https://test.wso2.com/integration to process sum = 15 and status = true",
    );
}

// ---------------------------------------------------------------------------------------------
// RegexTemplateProcessorTest (PayloadRegexTemplateProcessor cases 1-7; MI's XML output carries a
// `<pfPadding>` wrapper, which PayloadTemplate leaves to its caller)

#[track_caller]
fn payload_factory(ctx: &TestCtx, template: &str, media_json: bool, expected: &str) {
    let compiled = PayloadTemplate::compile(template).expect(template);
    assert_eq!(
        compiled
            .render(
                ctx,
                if media_json {
                    TemplateMedia::Json
                } else {
                    TemplateMedia::Xml
                },
                &[]
            )
            .as_deref(),
        Ok(expected),
        "{template}"
    );
}

const PERSON_ENVELOPE: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
   <soapenv:Header/>
   <soapenv:Body>
      <person>
         <first_name>John</first_name>
         <last_name>Doe</last_name>
         <contact>
            <email>john.doe@example.com</email>
         </contact>
         <is_active>false</is_active>
         <address>
            <street>1234 Elm Street</street>
            <city>Springfield</city>
         </address>
         <notes>Special characters: &amp;*()_+|~=`{}[]:&quot;&lt;&gt;?/'</notes>
      </person>
   </soapenv:Body>
</soapenv:Envelope>
"#;

#[test]
fn regex_template_processor_test_prepare_replacement_value_with_escape_xml_chars() {
    // Test Case 1: Strings with escape characters
    payload_factory(
        &TestCtx::new().json_payload(
            "{\n    \"user\": {\n        \"name\": \"John \\\"Doe\\\"\"\n    },\n    \"rawData\": \"This is a raw \\\\n string with \\\"quotes\\\".\"\n}\n",
        ),
        "{\n    \"name\": \"${payload.user.name}\",\n    \"message\": \"Welcome, ${payload.user.name}!\",\n    \"rawString\": \"${payload.rawData}\"\n}",
        true,
        "{\n    \"name\": \"John \\\"Doe\\\"\",\n    \"message\": \"Welcome, John \\\"Doe\\\"!\",\n    \"rawString\": \"This is a raw \\\\n string with \\\"quotes\\\".\"\n}",
    );
    // Test Case 2: Numbers and booleans
    payload_factory(
        &TestCtx::new().json_payload("{ \"user\": { \"age\": 30, \"isActive\": true } }"),
        "{ \"age\": ${payload.user.age}, \"isActive\": ${payload.user.isActive} }",
        true,
        "{ \"age\": 30, \"isActive\": true }",
    );
    // Test Case 3: Arrays and nested objects
    payload_factory(
        &TestCtx::new()
            .json_payload("{ \"items\": [{ \"name\": \"item1\" }, { \"name\": \"item2\" }] }"),
        "{ \"items\": ${payload.items}, \"firstItem\": \"${payload.items[0].name}\" }",
        true,
        "{ \"items\": [{\"name\":\"item1\"},{\"name\":\"item2\"}], \"firstItem\": \"item1\" }",
    );
    // Test Case 4: Special characters and escaping
    payload_factory(
        &TestCtx::new().json_payload("{ \"details\": \"Line1\\\\nLine2\" }"),
        "{ \"description\": \"${payload.details}\" }",
        true,
        "{ \"description\": \"Line1\\\\nLine2\" }",
    );
    // Test Case 5: non-existing expression
    payload_factory(
        &TestCtx::new().json_payload("{ \"details\": \"Line1\\\\nLine2\" }"),
        "{\n    \"description\": \"${payload.test1}\",\n    \"path\": ${vars.path}\n}",
        true,
        "{\n    \"description\": \"\",\n    \"path\": \n}",
    );
    let mut xml = TestCtx::new();
    xml.xml_payload = Some(PERSON_ENVELOPE.to_string());
    // Test Case 6: XML to JSON
    payload_factory(
        &xml,
        "{\n    \"first_name\": \"${xpath('//person/first_name')}\",\n    \"last_name\": \"${xpath('//person/last_name')}\",\n    \"email\": \"${xpath('//person/contact/email')}\",\n    \"is_active\": ${xpath('//person/is_active')},\n    \"address\": \"${xpath('//person/address/street')}\",\n    \"escapedAddress\": \"${xpath('//person/address/street')}\",\n    \"special_characters\": \"${xpath('//person/notes')}\"\n}\n",
        true,
        "{\n    \"first_name\": \"John\",\n    \"last_name\": \"Doe\",\n    \"email\": \"john.doe@example.com\",\n    \"is_active\": false,\n    \"address\": \"1234 Elm Street\",\n    \"escapedAddress\": \"1234 Elm Street\",\n    \"special_characters\": \"Special characters: &*()_+|~=`{}[]:\"<>?/'\"\n}\n",
    );
    // Test Case 7: XML to XML
    payload_factory(
        &xml,
        "<person>\n    <full_name>${xpath('//person/first_name')} ${xpath('//person/last_name')}</full_name>\n    <contact_info>\n        <email>${xpath('//person/contact/email')}</email>\n        <active_status>${xpath('//person/is_active')}</active_status>\n    </contact_info>\n    <address>\n        <street>${xpath('//person/address/street')}</street>\n        <city>${xpath('//person/address/city')}</city>\n    </address>\n    <notes>${xpath('//person/notes')}</notes>\n</person>\n",
        false,
        "<person>\n    <full_name>John Doe</full_name>\n    <contact_info>\n        <email>john.doe@example.com</email>\n        <active_status>false</active_status>\n    </contact_info>\n    <address>\n        <street>1234 Elm Street</street>\n        <city>Springfield</city>\n    </address>\n    <notes>Special characters: &amp;*()_+|~=`{}[]:&quot;&lt;&gt;?/&apos;</notes>\n</person>\n",
    );
}

// ---------------------------------------------------------------------------------------------
// Facts §8 and §1-§5 vectors beyond Synapse's tests.

#[test]
fn facts_operator_quirks() {
    let vars = TestCtx::new()
        .var("a", ExprValue::Int(5))
        .var("b", ExprValue::Int(1))
        .var("x", ExprValue::Int(7))
        .var("x-1", ExprValue::Int(70));
    check(
        &vars,
        &[
            // `and`/`or` bind tighter than comparisons.
            ("vars.a > 1 and vars.b < 2", ""),
            ("(vars.a > 1) and (vars.b < 2)", "true"),
            ("true or false and false", "true"),
            ("false and true or true", "false"),
            ("5 - 3", "2"),
            ("5-vars.x", "-2"),
            ("2*-1", "-2"),
            ("vars.x-1", "70"),
            ("1 == 1.0", "false"),
            ("true == \"true\"", "true"),
            ("\"abc\" == 'abc'", "true"),
            ("1.5 / 4", "0.4"),
            ("1 / 3.0", "0.3"),
            ("8.9567 - 8.9456", "0.0111"),
            ("'it\\'s'", "it\\'s"),
            (
                "[true, 2147483648, 1.5, \"a\"]",
                "[\"true\",\"2147483648\",1.5,\"a\"]",
            ),
            ("0.1 + 0.2", "0.3"),
            ("10 % -3", "1"),
            ("-10 % 3", "-1"),
        ],
    );
    for text in [
        "5-3",
        "vars.x -1",
        "-vars.x",
        "!true",
        "1.0E0 == 1",
        "length()",
    ] {
        assert!(SynapseExpression::compile(text).is_err(), "{text}");
    }
}

#[test]
fn facts_lookups_and_coercion() {
    let mut ctx = TestCtx::new();
    ctx.headers
        .insert("Content-Type".into(), "application/json".into());
    ctx.headers.insert("quoted".into(), "\"abc\"".into());
    ctx.headers.insert("lone".into(), "\"".into());
    ctx.synapse.insert("query.param.q".into(), "007".into());
    ctx.synapse.insert("uri.var.id".into(), "1e5".into());
    ctx.configs.insert("a.b".into(), "x".into());
    ctx.configs.insert("n".into(), "3000000000".into());
    check(
        &ctx,
        &[
            ("headers.Content-Type", "application/json"),
            ("headers['Content-Type']", "application/json"),
            ("headers.quoted", "abc"),
            ("params.queryParams.q", "7"),
            ("params.pathParams.id", "100000.0"),
            ("configs[\"a.b\"]", "x"),
            ("configs.n + 1", "3000000001"),
            ("configs.missing", ""),
            ("params.queryParams.missing", ""),
        ],
    );
    // asString of a lone quote throws in Java.
    faults(&ctx, "headers.lone");
    // params.functionParams outside a template: MI's NullPointerException.
    faults(&ctx, "params.functionParams.p");
    ctx.function_params = Some(HashMap::from([("p".to_string(), "v".to_string())]));
    check(
        &ctx,
        &[
            ("params.functionParams.p", "v"),
            ("params.functionParams.q", ""),
        ],
    );
}

#[test]
fn facts_variables() {
    let ctx = TestCtx::new()
        .var("s", ExprValue::String("hello world".into()))
        .var("word", ExprValue::String("hello".into()))
        .var("x", ExprValue::Xml("<a>1</a>".into()))
        .var("prim", ExprValue::Json(json!(5)))
        .var("nullv", ExprValue::Json(Value::Null))
        .var(
            "obj",
            ExprValue::Json(json!({"a": {"b": [1, 2.5, "c"]}, "n": null})),
        );
    check(
        &ctx,
        &[
            ("vars.prim + 1", "6.0"),
            ("vars.prim * 2", "10.0"),
            ("vars.obj.a.b[0] + 1", "2.0"),
            ("vars.obj.a.b[1]", "2.5"),
            ("vars.obj.a.b.length()", "3"),
            ("vars.obj.a.b.length() > 2", ""),
            ("exists(vars.obj.n)", "false"),
            ("exists(vars.nullv)", "false"),
            ("vars.x", "<a>1</a>"),
            ("vars.x.a", ""),
            ("vars.word.x", ""),
            ("vars.['x']", ""),
            ("vars.obj.a.b[?(@ > 1)]", "[2.5]"),
        ],
    );
    // vars['x'] is an IllegalArgumentException in ExpressionUtils; "hello world" is not JSON.
    faults(&ctx, "vars['x']");
    faults(&ctx, "vars.s.x");
}

#[test]
fn facts_functions_edge_cases() {
    let mut ctx = TestCtx::new();
    ctx.registry
        .insert("gov:sample.json".into(), r#"{"firstName":"John"}"#.into());
    ctx.registry_properties.insert(
        ("gov:sample.json".into(), "prop1".into()),
        "hello world".into(),
    );
    check(
        &ctx,
        &[
            (
                "registry('gov:sample.json').property('prop1')",
                "hello world",
            ),
            ("registry('gov:sample.json').firstName", "John"),
            ("registry('gov:sample.json')", r#"{"firstName":"John"}"#),
            ("registry('gov:sample.json', 'prop1')", "hello world"),
            ("registry('gov:sample.json').property('nope')", ""),
            ("registry('missing')", ""),
            ("length(\"[1,2]\")", "5"),
            ("subString(\"Hello\",5)", ""),
            ("round(-2.5)", "-2"),
            ("round(2.5)", "3"),
            ("round(5, 2)", "5"),
            ("ceil(5)", "5"),
            ("abs(2147483648)", ""),
            ("isNumber(2147483648)", "false"),
            ("integer(\"+7\")", "7"),
            ("float(\" 12 \")", "12.0"),
            ("boolean(\"TRUE\")", "true"),
            ("urlEncode(\"a b*\", \"utf-8\")", "a+b*"),
            ("urlEncode(\"é\", \"ISO-8859-1\")", "%E9"),
            ("base64encode(\"é\", \"ISO-8859-1\")", "6Q=="),
            ("indexOf(\"abc\", \"c\", -5)", "2"),
            ("split(\"a,b,,\", \",\")", "[\"a\",\"b\"]"),
            ("object(\"{a: 1}\").a", "1"),
            ("isObject(\"{a: 1}\")", "true"),
            ("now()", "0"),
            ("length(\"a\", \"b\")", ""),
            ("subString(\"a\")", ""),
            ("trim(\"a\", \"b\")", ""),
            ("replace(\"a\", \"b\", \"c\", \"d\")", ""),
            ("exists(vars.nothing)", "false"),
            (
                "formatDateTime(0, \"yyyy-MM-dd'T'HH:mm:ss.SSS\")",
                "1970-01-01T00:00:00.000",
            ),
            ("formatDateTime(0, \"YYYY\")", ""),
            ("formatDateTime(\"x\", \"yyyy\")", ""),
        ],
    );
    // Uncaught Java exceptions.
    faults(&ctx, "base64decode(\"@@\")");
    faults(&ctx, "urlDecode(\"100%\")");
    faults(&ctx, "base64encode(\"a\", \"UTF 8\")");
    faults(&ctx, "formatDateTime(0, \"ll\")");
    faults(&ctx, "split(\"a\", \"(\")");
    faults(&ctx, "[1, null]");
    faults(&ctx, "round(sqrt(-1.0), 2)");
    faults(&ctx, "sqrt(-1.0) + 1.5");
    assert!(faults(&ctx, "hashicorp-vault('p', 'f')").contains("not supported in Conflux"));
    assert!(faults(&ctx, "hashicorp-vault('n', 'p', 'f')").contains("not supported in Conflux"));
    // exists() catches evaluation errors only.
    faults(&ctx, "exists(vars['x'])");
}

// RegexTemplateProcessor.replace with TEXT_TYPE: a Gson value (a payload string) is escaped as
// for json (prepareJSONPrimitiveReplacementValue has no media-type test); a Java value (a String
// variable) is escaped only for json and xml, so text inserts its toString() as it is: quoted,
// without Matcher.quoteReplacement (appendReplacement then eats a `\\`), unquoted, with it, and
// XML stays XML (json converts it, `isXML` -> convertXMLToJSON).
#[test]
fn regex_template_processor_text_media_type_escapes_only_gson_values() {
    let mut ctx = TestCtx::new().json_payload(r#"{"name": "say \"hi\"\n"}"#);
    let s = |v: &str| ExprValue::String(v.to_string());
    ctx.variables
        .insert("xml".into(), s(r#"<a b="1"><c>2</c></a>"#));
    ctx.variables.insert("el".into(), s("<a><c>2</c></a>"));
    ctx.variables.insert("path".into(), s(r"C:\temp"));
    ctx.variables.insert("cost".into(), s("5 $"));
    let render = |template: &str, media: TemplateMedia| {
        PayloadTemplate::compile(template)
            .expect(template)
            .render(&ctx, media, &[])
    };
    let template = r#"q="${vars.xml}" u=${vars.el} p="${vars.path}" up=${vars.path} n="${payload.name}" un=${payload.name}"#;
    assert_eq!(
        render(template, TemplateMedia::Text).as_deref(),
        Ok(
            r#"q="<a b="1"><c>2</c></a>" u=<a><c>2</c></a> p="C:temp" up=C:\temp n="say \"hi\"\n" un=say \"hi\"\n"#
        )
    );
    // The same template as json: the quoted XML string escaped, the unquoted one converted.
    assert_eq!(
        render(template, TemplateMedia::Json).as_deref(),
        Ok(
            r#"q="<a b=\"1\"><c>2</c></a>" u={"a":{"c":2}} p="C:\temp" up=C:\temp n="say \"hi\"\n" un=say \"hi\"\n"#
        )
    );
    // A `$` that appendReplacement cannot read fails the quoted text form (Java's
    // IllegalArgumentException), but not the unquoted one.
    assert_eq!(
        render("${vars.cost}", TemplateMedia::Text).as_deref(),
        Ok("5 $")
    );
    assert!(render("\"${vars.cost}\"", TemplateMedia::Text).is_err_and(|e| e.is_fault()));
}

#[test]
fn wso2_vault_reads_the_secure_vault_and_an_unknown_alias_reads_as_itself() {
    // PredefinedFunctionNode.fetchSecretValue -> wso2:vault-lookup -> FileBaseSecretRepository.
    crate::vault::install_test_secrets();
    let ctx = TestCtx::new();
    check(
        &ctx,
        &[
            ("wso2-vault('expr_test_db_password')", "s3cr3t"),
            (
                "wso2-vault(\"expr_test_db_\" + \"password\") + '!'",
                "s3cr3t!",
            ),
            ("wso2-vault('expr_test_unknown')", "expr_test_unknown"),
        ],
    );
}

#[test]
fn facts_payload_paths() {
    let ctx = TestCtx::new().json_payload(
        r#"{"items": [{"id": 1, "tags": ["a", "b"]}, {"id": 2}], "n": 3, "q": "\"quoted\"",
            "index": 1, "s": "x$y", "arr": [10, 20]}"#,
    );
    check(
        &ctx,
        &[
            ("payload.items[payload.index].id", "2"),
            ("payload.items[0].tags[1]", "b"),
            ("payload.items[*].id", "[1,2]"),
            ("payload.items..id", "[1,2]"),
            ("payload.items[0]['tags'][0]", "a"),
            ("payload.q", "\"quoted\""),
            ("payload.n + 1", "4"),
            ("payload.arr[0] + 1", "11.0"),
            ("payload.arr[-1]", "20"),
            ("payload.items.length()", "2"),
            ("payload.missing.length()", ""),
            ("payload.n.length()", ""),
            (
                "payload",
                r#"{"items":[{"id":1,"tags":["a","b"]},{"id":2}],"n":3,"q":"\"quoted\"","index":1,"s":"x$y","arr":[10,20]}"#,
            ),
            (
                "$",
                r#"{"items":[{"id":1,"tags":["a","b"]},{"id":2}],"n":3,"q":"\"quoted\"","index":1,"s":"x$y","arr":[10,20]}"#,
            ),
        ],
    );
    // A `$` in a substituted string is a replaceFirst group reference: MI's exception.
    faults(&ctx, "payload.items[payload.s]");
    // An aggregation over nothing: Jayway's JsonPathException escapes MI's catch.
    faults(&ctx, "payload.items[*].id.sum()");
    check(
        &ctx,
        &[
            ("payload.items[*].nothing.min()", "[]"),
            ("payload.items[*].length()", "[2,1]"),
        ],
    );
    check(&ctx, &[("payload.missing.min()", "")]);
    // A path function that is not last: Jayway's InvalidPathException, at evaluation time.
    faults(&ctx, "payload.items.length().x");
    // An empty payload is an evaluation error.
    check(
        &TestCtx::new(),
        &[("payload.x", ""), ("exists(payload)", "false")],
    );
}

#[test]
fn object_values_keep_the_raw_java_value() {
    let ctx = TestCtx::new()
        .json_payload(r#"{"name": "John", "n": 3, "o": {"a": 1}}"#)
        .var("a", ExprValue::Int(3));
    let object = |text: &str| {
        SynapseExpression::compile(text)
            .expect(text)
            .object_value(&ctx)
    };
    assert_eq!(
        object("vars.a > 1 ? \"big\" : \"small\""),
        Ok(ExprValue::String("\"big\"".into()))
    );
    assert_eq!(object("payload.name"), Ok(ExprValue::Json(json!("John"))));
    assert_eq!(object("payload.n"), Ok(ExprValue::Int(3)));
    assert_eq!(object("payload.o"), Ok(ExprValue::Json(json!({"a": 1}))));
    assert_eq!(
        object("payload.missing"),
        Ok(ExprValue::String(String::new()))
    );
    assert_eq!(object("null"), Ok(ExprValue::String(String::new())));
    let expression = SynapseExpression::compile("payload.missing").expect("valid");
    let (value, warning) = expression
        .string_value_with_warning(&ctx)
        .expect("not a fault");
    assert_eq!(value, "");
    assert!(
        warning
            .as_deref()
            .is_some_and(|w| w.starts_with("Error evaluating expression: payload.missing cause : ")),
        "{warning:?}"
    );
    assert_eq!(expression.text(), "payload.missing");
    assert_eq!(expression.to_string(), "${payload.missing}");
    assert!(expression.evaluate(&ctx).is_err());
}

#[test]
fn xpath_contexts() {
    let mut ctx = TestCtx::new();
    ctx.xml_payload = Some("<r><a>1</a><a>2</a></r>".into());
    let expression = SynapseExpression::compile("xpath('//a[1]')").expect("valid");
    assert_eq!(expression.string_value(&ctx).as_deref(), Ok("1"));
    assert_eq!(
        expression.object_value(&ctx),
        Ok(ExprValue::Xml("1".into()))
    );
    assert!(expression.needs_payload());
    check(&ctx, &[("xpath('///')", "")]);
}

#[test]
fn attribute_forms() {
    assert_eq!(whole_expression("${vars.a}"), Some("vars.a"));
    assert_eq!(whole_expression("${}"), Some(""));
    assert_eq!(whole_expression(" ${vars.a}"), None);
    assert_eq!(whole_expression("${vars.a} "), None);
    assert_eq!(whole_expression("$ctx:a"), None);
    assert_eq!(whole_expression("${"), None);
    assert_eq!(braced_expression("{${vars.a}}"), Some("vars.a"));
    assert_eq!(braced_expression("{${}}"), Some(""));
    assert_eq!(braced_expression("${vars.a}"), None);
    assert_eq!(braced_expression("{json-eval($.a)}"), None);
    assert_eq!(braced_expression("{${}"), None);
}

#[test]
fn compile_errors_name_the_column() {
    let e = SynapseExpression::compile("vars.a +").expect_err("incomplete");
    assert_eq!(e.column, 9);
    assert!(
        e.to_string().ends_with("at column 9 of \"vars.a +\""),
        "{e}"
    );
    let e = SynapseExpression::compile("payload.a b").expect_err("leftover");
    assert_eq!(e.column, 11);
    assert!(e.message.contains("leftover input"), "{e}");
    let e = InlineTemplate::compile("a ${vars.} b").expect_err("bad placeholder");
    assert_eq!(e.text, "vars.");
    assert!(PayloadTemplate::compile("{\"a\": ${5-3}}").is_err());
}

#[test]
fn limits_at_limit_plus_one() {
    let at_limit = format!("'{}'", "a".repeat(MAX_EXPRESSION_LEN - 2));
    assert!(SynapseExpression::compile(&at_limit).is_ok());
    let over = format!("'{}'", "a".repeat(MAX_EXPRESSION_LEN - 1));
    let e = SynapseExpression::compile(&over).expect_err("too long");
    assert!(e.message.contains("MAX_EXPRESSION_LEN"), "{e}");
    let nested = |depth: usize| format!("{}1{}", "(".repeat(depth), ")".repeat(depth));
    // The whole expression is one level.
    let ok = SynapseExpression::compile(&nested(MAX_NESTING_DEPTH - 1)).expect("at the limit");
    assert_eq!(ok.string_value(&TestCtx::new()).as_deref(), Ok("1"));
    let e = SynapseExpression::compile(&nested(MAX_NESTING_DEPTH)).expect_err("too deep");
    assert!(e.message.contains("MAX_NESTING_DEPTH"), "{e}");
    let calls = |depth: usize| format!("{}1{}", "abs(".repeat(depth), ")".repeat(depth));
    assert!(SynapseExpression::compile(&calls(MAX_NESTING_DEPTH - 1)).is_ok());
    assert!(SynapseExpression::compile(&calls(MAX_NESTING_DEPTH)).is_err());
    // Long chains are not nesting, and evaluate without deep recursion.
    let sum = vec!["1"; 10_000].join(" + ");
    let compiled = SynapseExpression::compile(&sum).expect("a long chain");
    assert_eq!(
        compiled.string_value(&TestCtx::new()).as_deref(),
        Ok("10000")
    );
}

proptest::proptest! {
    #[test]
    fn random_text_never_panics(text in "\\PC{0,60}") {
        if let Ok(e) = SynapseExpression::compile(&text) {
            let ctx = TestCtx::new().payload(2).variables(1);
            let _ = e.string_value(&ctx);
            let _ = e.object_value(&ctx);
        }
        if let Ok(t) = InlineTemplate::compile(&text) {
            let _ = t.render(&TestCtx::new().payload(1));
        }
        if let Ok(t) = PayloadTemplate::compile(&text) {
            let _ = t.render(&TestCtx::new().payload(1), TemplateMedia::Json, &["x".to_string()]);
            let _ = t.render(&TestCtx::new().payload(1), TemplateMedia::Xml, &[]);
            let _ = t.render(&TestCtx::new().payload(1), TemplateMedia::Text, &[]);
        }
    }

    #[test]
    fn expression_like_text_never_panics(
        text in "(payload|vars\\.(name|cars|num3|json3)|\\$|headers\\.a|[0-9.-]{1,4}|\"[a-z$\\\\]{0,3}\"|[-+*/%()\\[\\]?:.,@=<>!&| ]|length|split|subString|round|formatDateTime|\\.\\.|\\*|==|and|or){0,16}"
    ) {
        if let Ok(e) = SynapseExpression::compile(&text) {
            let ctx = TestCtx::new().payload(2).variables(1).variables(2);
            let _ = e.string_value(&ctx);
            let _ = e.object_value(&ctx);
            let _ = e.evaluate(&ctx);
        }
    }
}

#[test]
fn compiled_forms_are_shareable_between_threads() {
    fn assert_traits<T: Clone + std::fmt::Debug + Send + Sync>() {}
    assert_traits::<SynapseExpression>();
    assert_traits::<InlineTemplate>();
    assert_traits::<PayloadTemplate>();
    assert_traits::<ExprValue>();
    assert_traits::<EvalError>();
    assert_traits::<ExprError>();
}
