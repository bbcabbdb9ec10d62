//! Parser tests: authored fixtures for every construct and refusal, and (when the MI mirror is on
//! this machine) every `.dbs` file of MI's own integration tests.

use std::collections::HashMap;

use super::*;
use crate::model::{PathSegment, Value};

const EMPLOYEES: &str = r#"<data name="EmployeeService" serviceNamespace="http://example.com/emp"
      transports="http https" enableBatchRequests="true"
      xmlns:svns="http://org.wso2.securevault/configuration">
   <description>Employees</description>
   <config id="default">
      <property name="driverClassName">org.sqlite.JDBC</property>
      <property name="url">$SYSTEM:EMP_DB_URL</property>
      <property name="username">sa</property>
      <property name="password" svns:secretAlias="emp.db.password"/>
      <property name="maxActive">20</property>
      <property name="validationQuery"></property>
   </config>
   <query id="getEmployee" useConfig="default">
      <sql>SELECT id, name, salary FROM employees WHERE id = :id</sql>
      <sql dialect="postgresql">SELECT id, name, salary FROM emp WHERE id = :id</sql>
      <param name="id" sqlType="INTEGER">
         <validateLongRange minimum="1" maximum="99999"/>
      </param>
      <result element="Employees" rowName="Employee">
         <element name="id" column="ID" xsdType="xs:integer"/>
         <element name="name" column="name"/>
         <attribute name="salary" column="salary" xsdType="xs:double"/>
         <element name="Office">
            <element name="code" query-param="id"/>
         </element>
         <call-query href="getDepartment">
            <with-param name="empId" column="id"/>
         </call-query>
      </result>
   </query>
   <query id="getDepartment">
      <sql>SELECT dept FROM departments WHERE emp = ?</sql>
      <param name="empId" sqlType="INTEGER" ordinal="1"/>
      <result outputType="json">{"Departments":{"Department":[{"dept":"$DEPT(type:string)"}]}}</result>
   </query>
   <query id="addEmployee" returnGeneratedKeys="true">
      <sql>INSERT INTO employees (name, salary) VALUES (?, ?)</sql>
      <param name="name" sqlType="STRING" ordinal="1">
         <validateLength minimum="1" maximum="50"/>
         <validatePattern pattern="[A-Za-z ]+"/>
      </param>
      <param name="salary" sqlType="DOUBLE" ordinal="2" defaultValue="1000.0">
         <validateDoubleRange minimum="0" maximum="1e6"/>
      </param>
   </query>
   <operation name="getEmployee" returnRequestStatus="false">
      <call-query href="getEmployee">
         <with-param name="id" query-param="id"/>
      </call-query>
   </operation>
   <resource method="get" path="/employee/{id}">
      <call-query href="getEmployee">
         <with-param name="id" query-param="id"/>
      </call-query>
   </resource>
   <resource method="POST" path="employee" returnRequestStatus="true">
      <call-query href="addEmployee">
         <with-param name="name" query-param="name"/>
         <with-param name="salary" query-param="salary"/>
      </call-query>
   </resource>
</data>"#;

struct Env(HashMap<String, String>);

impl InjectedValues for Env {
    fn env(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
    fn file_property(&self, _: &str) -> Option<String> {
        None
    }
    fn config(&self, _: &str) -> Option<String> {
        None
    }
}

fn env(url: &str) -> Env {
    Env(HashMap::from([("EMP_DB_URL".to_string(), url.to_string())]))
}

fn parse_with(text: &str, url: &str) -> std::result::Result<DataService, DbsError> {
    let values = env(url);
    parse_dbs(
        "dataservices/EmployeeService.dbs",
        text,
        &ParseOptions {
            values: Some(&values),
            datasource_url: None,
        },
    )
}

fn parse(text: &str) -> std::result::Result<DataService, DbsError> {
    parse_with(text, "jdbc:sqlite:employees.db")
}

fn error(text: &str) -> String {
    parse(text).expect_err("must not deploy").to_string()
}

#[test]
fn service_attributes_and_configs() {
    let s = parse(EMPLOYEES).unwrap();
    assert_eq!(s.name, "EmployeeService");
    assert_eq!(s.service_namespace, "http://example.com/emp");
    assert_eq!(s.default_namespace, "http://example.com/emp");
    assert_eq!(s.service_group, "EmployeeService");
    assert_eq!(s.transports, ["http", "https"]);
    assert!(s.enable_batch_requests);
    assert_eq!(s.description.as_deref(), Some("Employees"));
    let c = s.config("default").unwrap();
    assert_eq!(c.kind, ConfigKind::Rdbms);
    assert_eq!(c.driver_class_name(), Some("org.sqlite.JDBC"));
    // $SYSTEM: resolved at deploy, the raw text kept.
    assert_eq!(c.url(), Some("jdbc:sqlite:employees.db"));
    assert_eq!(c.property_entry("url").unwrap().raw, "$SYSTEM:EMP_DB_URL");
    // The secret stays raw and marked; the empty property is dropped (MI extractProperties).
    let password = c.property_entry("password").unwrap();
    assert_eq!(
        password.secret,
        Some(SecretRef::Alias("emp.db.password".into()))
    );
    assert!(c.property("validationQuery").is_none());
    assert_eq!(c.property("maxActive"), Some("20"));
}

#[test]
fn queries_params_and_results() {
    let s = parse(EMPLOYEES).unwrap();
    let q = s.query("getEmployee").unwrap();
    assert_eq!(q.config_id, "default");
    assert_eq!(q.kind, QueryKind::Normal);
    assert_eq!(
        q.sql,
        "SELECT id, name, salary FROM employees WHERE id = :id"
    );
    assert_eq!(
        q.bind_plan.jdbc_sql(),
        "SELECT id, name, salary FROM employees WHERE id = ?"
    );
    let id = q.param("id").unwrap();
    assert_eq!(id.sql_type, SqlType::Integer);
    assert_eq!(id.ordinals.iter().copied().collect::<Vec<_>>(), [1]);
    assert_eq!(
        id.validators,
        [Validator::LongRange {
            min: Some(1),
            max: Some(99999)
        }]
    );
    let r = q.result.as_ref().unwrap();
    assert_eq!(r.element.as_deref(), Some("Employees"));
    assert_eq!(r.row_name.as_deref(), Some("Employee"));
    assert_eq!(r.namespace, "http://example.com/emp");
    assert!(!r.json_template);
    let OutputItem::Field(f) = &r.content.items[0] else {
        panic!("field expected")
    };
    assert_eq!(f.name, "id");
    // Columns are matched case-insensitively (MI lower-cases RDBMS column names).
    assert_eq!(f.source, FieldSource::Column("id".into()));
    assert_eq!(f.xsd_type, "integer");
    assert!(!f.optional);
    assert_eq!(r.content.attributes[0].name, "salary");
    assert_eq!(r.content.attributes[0].xsd_type, "double");
    let OutputItem::Group(g) = &r.content.items[2] else {
        panic!("group expected")
    };
    assert_eq!(g.name.as_deref(), Some("Office"));
    let OutputItem::CallQuery(cq) = &r.content.items[3] else {
        panic!("call-query expected")
    };
    assert_eq!(cq.href, "getDepartment");
    assert_eq!(cq.with_params[0].name, "empId");
    assert_eq!(
        cq.with_params[0].source,
        WithParamSource::Column {
            original: "id".into(),
            lower: "id".into()
        }
    );
    let add = s.query("addEmployee").unwrap();
    assert!(add.return_generated_keys);
    assert!(!add.has_result());
    let name = add.param("name").unwrap();
    assert!(matches!(
        name.validators[0],
        Validator::Length {
            min: Some(1),
            max: Some(50)
        }
    ));
    assert!(
        matches!(&name.validators[1], Validator::Pattern { source, .. } if source == "[A-Za-z ]+")
    );
    assert_eq!(
        add.param("salary").unwrap().default_value.as_deref(),
        Some("1000.0")
    );
}

#[test]
fn dialect_sql_is_chosen_by_the_url_driver() {
    // MI QueryFactory.getSQLQueryForConnectionURL: jdbc:<driver>: picks <sql dialect="driver">.
    let s = parse_with(EMPLOYEES, "jdbc:postgresql://localhost:5432/emp").unwrap();
    let q = s.query("getEmployee").unwrap();
    assert_eq!(q.sql, "SELECT id, name, salary FROM emp WHERE id = :id");
    assert_eq!(
        q.bind_plan
            .render(crate::params::DriverFamily::Postgres, &[1]),
        "SELECT id, name, salary FROM emp WHERE id = $1"
    );
    assert_eq!(
        q.default_sql.as_deref(),
        Some("SELECT id, name, salary FROM employees WHERE id = :id")
    );
    assert_eq!(q.dialect_sql.len(), 1);
}

#[test]
fn json_template_becomes_a_result_mapping() {
    // MI QueryFactory.getJSONResultFromText and calculateJSONXMLQueryNS.
    let s = parse(EMPLOYEES).unwrap();
    let r = s.query("getDepartment").unwrap().result.as_ref().unwrap();
    assert!(r.json_template);
    assert_eq!(r.element.as_deref(), Some("Departments"));
    assert_eq!(r.row_name.as_deref(), Some("Department"));
    assert_eq!(r.namespace, "http://example.com/emp/getDepartment");
    let OutputItem::Field(f) = &r.content.items[0] else {
        panic!("field expected")
    };
    assert_eq!(f.source, FieldSource::Column("dept".into()));
    assert_eq!(f.xsd_type, "string");
}

#[test]
fn json_template_keys_follow_java_hashmap_order() {
    // docs-mi "Defining nested queries": MI's JSON output lists Phone, Country, OfficeCode, City
    // then the nested query, the iteration order of org.json's HashMap.
    let text = r#"<data name="Offices">
   <config><property name="driverClassName">org.sqlite.JDBC</property><property name="url">jdbc:sqlite:x</property></config>
   <query id="listOfficeSQL">
      <sql>select * from offices</sql>
      <result outputType="json">{"Offices":{"Office":[{"OfficeCode":"$OfficeCode(type:integer)","City":"$City","Country":"$Country","Phone":"$Phone","@EmployeeOfficeSQL":"$OfficeCode->OfficeCode"}]}}</result>
   </query>
   <query id="EmployeeOfficeSQL">
      <sql>select * from employees where officeCode = :OfficeCode</sql>
      <param name="OfficeCode" sqlType="STRING"/>
      <result element="Entries" rowName="Entry"><element name="n" column="n"/></result>
   </query>
</data>"#;
    let s = parse(text).unwrap();
    let content = &s
        .query("listOfficeSQL")
        .unwrap()
        .result
        .as_ref()
        .unwrap()
        .content;
    let names: Vec<String> = content
        .items
        .iter()
        .map(|i| match i {
            OutputItem::Field(f) => f.name.clone(),
            OutputItem::CallQuery(c) => format!("@{}", c.href),
            OutputItem::Group(g) => g.name.clone().unwrap_or_default(),
        })
        .collect();
    assert_eq!(
        names,
        [
            "Phone",
            "Country",
            "OfficeCode",
            "City",
            "@EmployeeOfficeSQL"
        ]
    );
    let OutputItem::CallQuery(cq) = &content.items[4] else {
        panic!()
    };
    // MI names the with-param after the LHS and reads the RHS as its query-param.
    assert_eq!(cq.with_params[0].name, "OfficeCode");
    assert_eq!(cq.with_params[0].source.lookup_name(), "officecode");
}

#[test]
fn operations_resources_and_batch_twins() {
    let s = parse(EMPLOYEES).unwrap();
    let op = s.operation("getEmployee").unwrap();
    assert!(!op.batch);
    let get = s.resource("GET", "/employee/{id}").unwrap();
    assert_eq!(get.method, "GET");
    assert_eq!(get.path, "employee/{id}");
    assert_eq!(get.request_name(), "_getemployee_id");
    assert_eq!(get.path_params(), ["id"]);
    assert_eq!(
        get.path_segments(),
        [PathSegment::Literal("employee"), PathSegment::Param("id")]
    );
    let post = s.resource("POST", "employee").unwrap();
    assert!(post.return_request_status);
    // MI DataServiceFactory.populateBatchResources: a write with parameters gets a _batch_req twin;
    // a query with a result does not.
    let batch = s.resource("POST", "employee_batch_req").unwrap();
    assert!(batch.batch);
    assert!(batch.return_request_status);
    assert!(s.operation("getEmployee_batch_req").is_none());
    assert!(s.resource("GET", "employee/{id}_batch_req").is_none());
}

#[test]
fn old_property_names_and_carbon_datasources() {
    let text = r#"<data name="Old">
   <config id="legacy">
      <property name="org.wso2.ws.dataservice.driver">org.postgresql.Driver</property>
      <property name="org.wso2.ws.dataservice.protocol">jdbc:postgresql://db/x</property>
      <property name="org.wso2.ws.dataservice.maxpoolsize">10</property>
      <property name="org.wso2.ws.dataservice.num_test_per_eviction_run">3</property>
   </config>
   <config id="shared"><property name="carbon_datasource_name">WSO2_SHARED</property></config>
   <query id="a" useConfig="legacy"><sql>select 1</sql></query>
   <query id="b" useConfig="shared">
      <sql>select 2</sql><sql dialect="mysql">select 3</sql>
   </query>
</data>"#;
    let s = parse(text).unwrap();
    let legacy = s.config("legacy").unwrap();
    assert_eq!(legacy.driver_class_name(), Some("org.postgresql.Driver"));
    assert_eq!(legacy.url(), Some("jdbc:postgresql://db/x"));
    assert_eq!(legacy.property("maxActive"), Some("10"));
    assert_eq!(legacy.properties.len(), 3);
    assert_eq!(
        s.config("shared").unwrap().kind,
        ConfigKind::CarbonDataSource {
            name: "WSO2_SHARED".into()
        }
    );
    assert_eq!(s.query("b").unwrap().sql, "select 2");
    // With the data source's URL known, its dialect is used.
    let lookup = |name: &str| (name == "WSO2_SHARED").then(|| "jdbc:mysql://h/x".to_string());
    let s = parse_dbs(
        "x.dbs",
        text,
        &ParseOptions {
            values: None,
            datasource_url: Some(&lookup),
        },
    )
    .unwrap();
    assert_eq!(s.query("b").unwrap().sql, "select 3");
}

#[test]
fn vault_lookup_and_secret_text_are_marked() {
    assert_eq!(
        secret_reference("{wso2:vault-lookup('db.pass')}"),
        Some(SecretRef::VaultLookup("db.pass".into()))
    );
    assert_eq!(
        secret_reference("$secret{db.pass}"),
        Some(SecretRef::Secret("db.pass".into()))
    );
    assert_eq!(secret_reference("plain"), None);
}

fn with_query(query: &str) -> String {
    format!(
        r#"<data name="T">
<config id="default"><property name="driverClassName">org.sqlite.JDBC</property><property name="url">jdbc:sqlite:x</property></config>
{query}
</data>"#
    )
}

#[test]
fn refusals_name_the_element_and_what_is_valid() {
    let file = "dataservices/EmployeeService.dbs";
    let cases: Vec<(String, &str)> = vec![
        (
            with_query(r#"<query id="q"><sql>select 1</sql><param name="a"/></query>"#),
            "<param> requires attribute 'sqlType': STRING, INTEGER, BIGINT, DOUBLE, NUMERIC, BOOLEAN, DATE, TIME, TIMESTAMP, BINARY, ... at dataservices/EmployeeService.dbs:3:34",
        ),
        (
            with_query(r#"<query id="q"><sql>select 1</sql><param name="a" sqlType="WORD"/></query>"#),
            "invalid value \"WORD\" for attribute 'sqlType' of <param>: expected one of CHAR, LONG, STRING",
        ),
        (
            with_query(r#"<query id="q"><sql>select :a</sql><param name="a" sqlType="QUERY_STRING"/></query>"#),
            "unsupported sqlType QUERY_STRING (it splices the request value into the SQL text; Conflux only binds values) at dataservices/EmployeeService.dbs:3:51",
        ),
        (
            with_query(r#"<query id="q"><sql>call p(?)</sql><param name="a" sqlType="STRING" type="OUT"/></query>"#),
            "unsupported parameter type OUT (stored procedure OUT/INOUT parameters)",
        ),
        (
            with_query(r#"<query id="q"><sql>select 1</sql><param name="a" sqlType="STRING"><validateCustom class="x.Y"/></param></query>"#),
            "unsupported element <validateCustom> (custom validators are Java classes)",
        ),
        (
            with_query(r#"<query id="q"><sql>select 1</sql><param name="a" sqlType="STRING"><validatePattern pattern="(?=a)b"/></param></query>"#),
            "invalid value \"(?=a)b\" for attribute 'pattern' of <validatePattern>: expected a regular expression without look-around or back-references",
        ),
        (
            with_query(r#"<query id="q"><sql dialect="mysql, oracle">select 1</sql></query>"#),
            "invalid value \"mysql, oracle\" for attribute 'dialect' of <sql>: expected comma-separated JDBC driver names without spaces",
        ),
        (
            with_query(r#"<query id="q"><sql dialect="mysql">a</sql><sql dialect="oracle,mysql">b</sql></query>"#),
            "SQL Dialect(s) repeated: mysql at dataservices/EmployeeService.dbs:3",
        ),
        (
            with_query(r#"<query id="q"><sql dialect="oracle">a</sql></query>"#),
            "query 'q' has no <sql> for the data source jdbc:sqlite:x",
        ),
        (
            with_query(r#"<query id="q" useConfig="other"><sql>a</sql></query>"#),
            "invalid value \"other\" for attribute 'useConfig' of <query>: expected the id of a <config>: default",
        ),
        (
            with_query(r#"<query id="q"><sparql>select ?x</sparql></query>"#),
            "unsupported element <sparql> in <query> (queries other than SQL)",
        ),
        (
            with_query(r#"<query id="q"><sql>a</sql><result element="E" rowName="R"><element name="x" rdf-ref-uri="u"/></result></query>"#),
            "unsupported attribute 'rdf-ref-uri' of <element> (RDF output)",
        ),
        (
            with_query(r#"<query id="q"><sql>a</sql><result element="E" rowName="R"><element name="1x" column="c"/></result></query>"#),
            "invalid value \"1x\" for attribute 'name' of <element>: expected an XML NCName",
        ),
        (
            with_query(r#"<query id="q"><sql>a</sql><result element="E" rowName="R"><attribute name="a" column="c"/><attribute name="a" column="d"/></result></query>"#),
            "Cannot use same attribute name more than once: 'a'",
        ),
        (
            with_query(r#"<query id="q"><sql>a</sql><result outputType="rdf"/></query>"#),
            "unsupported outputType \"rdf\" of <result> (RDF output; use xml or json)",
        ),
        (
            with_query(r#"<query id="q"><sql>a</sql><result outputType="json">{"a":[{"x":"$x"}]}</result></query>"#),
            "invalid JSON result mapping: The top level object cannot be an array",
        ),
        (
            with_query(r#"<query id="q"><sql>a</sql><result outputType="json">{"a":{"r":[{"x":"x"}]}}</result></query>"#),
            "A result entry column value must start with $, found: x",
        ),
        (
            with_query(r#"<query id="q"><sql>a</sql><result outputType="json">{"a":{"r":[{"x":"$x(kind:int)"}]}}</result></query>"#),
            "Unrecognized option type 'kind'",
        ),
        (
            with_query(r#"<event-trigger id="t" language="XPath"><expression>/a</expression></event-trigger>"#),
            "unsupported element <event-trigger> (data service event triggers (WS-Eventing)) at dataservices/EmployeeService.dbs:3:1",
        ),
        (
            with_query(r#"<policy key="conf:/p.xml"/>"#),
            "unsupported element <policy> (WS-Security policies on data services)",
        ),
        (
            with_query(r#"<qeury id="q"/>"#),
            "unknown element <qeury> in <data>: expected <description>, <config>, <query>, <operation> or <resource> at dataservices/EmployeeService.dbs:3:1",
        ),
        (
            with_query(r#"<query id="q"><sql>a</sql></query><operation name="o"><call-query href="missing"/></operation>"#),
            "Call query with id: missing doesn't exist as referenced by the operation/resource: o (queries: q)",
        ),
        (
            with_query(r#"<query id="q"><sql>a</sql></query><operation name="o"><call-query href="q"><with-param name="p" query-param="p"/></call-query></operation>"#),
            "with-param with name: p doesn't exist in query with id: q as referenced by the operation/resource: o",
        ),
        (
            with_query(r#"<query id="q"><sql>a</sql><result rowName="r"><element name="x" column="x"/></result></query><resource method="GET" path="x"><call-query href="q"/></resource>"#),
            "The request '_getx' contains the query with id 'q' contains an XML result with no element wrapper.",
        ),
        (
            with_query(r#"<query id="q"><sql>a</sql><result element="E"><call-query href="r"/></result></query><query id="r"><sql>b</sql><result element="F"><call-query href="q"/></result></query>"#),
            "nested queries call each other in a cycle: q -> r -> q",
        ),
        (
            with_query(r#"<query id="q"><sql>a</sql><result element="E"><call-query href="nope"/></result></query>"#),
            "Query with the query id: 'nope' cannot be found (queries: q)",
        ),
        (
            with_query(r#"<query id="q"><sql>a</sql></query><operation name="o"/>"#),
            "<operation> requires a <call-query href=\"...\"> child: the query it runs",
        ),
        (
            with_query(r#"<query id="q"><sql>a</sql></query><query id="q"><sql>b</sql></query>"#),
            "duplicate query 'q' (first defined at dataservices/EmployeeService.dbs:3:1) at dataservices/EmployeeService.dbs:3:35",
        ),
        (
            with_query(r#"<query id="q"><sql>a</sql></query><operation name="o"><call-query href="q"/></operation><operation name="o"><call-query href="q"/></operation>"#),
            "duplicate operation 'o' (first defined at dataservices/EmployeeService.dbs:3:35)",
        ),
        (
            with_query(r#"<query id="q"><sql>a</sql></query><resource method="GET" path="a/b"><call-query href="q"/></resource><resource method="get" path="a_b"><call-query href="q"/></resource>"#),
            "duplicate resource 'GET a_b' (first defined at dataservices/EmployeeService.dbs:3:35)",
        ),
        (
            with_query(r#"<query id="q"><sql>a</sql></query><resource method="FETCH" path="x"><call-query href="q"/></resource>"#),
            "invalid value \"FETCH\" for attribute 'method' of <resource>: expected GET, POST, PUT, DELETE, PATCH, HEAD or OPTIONS",
        ),
        (
            r#"<data name="C"><config id="csv"><property name="csv_datasource">/x.csv</property></config></data>"#.to_string(),
            "unsupported data source kind of <config id=\"csv\"> (CSV data sources) (only RDBMS data sources (driverClassName + url) and carbon_datasource_name are supported) at dataservices/EmployeeService.dbs:1:16",
        ),
        (
            r#"<data name="C"><config><property name="driverClassName">org.sqlite.JDBC</property></config></data>"#.to_string(),
            "<config> requires property 'url': a JDBC URL such as",
        ),
        (
            r#"<data name="C"><config><property name="url">$SYSTEM:NOPE</property><property name="driverClassName">x</property></config></data>"#.to_string(),
            "cannot resolve property 'url': environment variable NOPE could not be found at dataservices/EmployeeService.dbs:1:24",
        ),
        (
            r#"<service name="x"/>"#.to_string(),
            "root element <service> is not a data service: expected <data> (in no namespace) at dataservices/EmployeeService.dbs:1:1",
        ),
        (
            r#"<data name="x"><config>"#.to_string(),
            "XML syntax error: the root node was opened but never closed at dataservices/EmployeeService.dbs:1:1",
        ),
    ];
    let mut failures = Vec::new();
    for (text, expected) in cases {
        let message = error(&text);
        if !message.contains(expected) || !message.contains(file) {
            failures.push(format!("for {text}\n got: {message}\nwant: {expected}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn size_and_depth_limits_refuse_one_past_the_limit() {
    let filler = |n: usize| format!("<data name=\"x\"><!--{}--></data>", "a".repeat(n));
    let at_limit = filler(MAX_DBS_BYTES - "<data name=\"x\"><!----></data>".len());
    assert_eq!(at_limit.len(), MAX_DBS_BYTES);
    assert!(parse(&at_limit).is_ok());
    let over = filler(MAX_DBS_BYTES + 1 - "<data name=\"x\"><!----></data>".len());
    assert!(
        matches!(parse(&over), Err(DbsError::TooLarge { .. })),
        "one byte over the limit"
    );
    // Depth: <data> plus nested groups.
    let nested = |depth: usize| {
        with_query(&format!(
            r#"<query id="q"><sql>a</sql><result element="E">{}<element name="x" column="x"/>{}</result></query>"#,
            "<element name=\"g\">".repeat(depth),
            "</element>".repeat(depth)
        ))
    };
    // data(1) query(2) result(3) groups... field: depth = 3 + groups + 1.
    assert!(parse(&nested(MAX_DBS_DEPTH - 4)).is_ok());
    let err = parse(&nested(MAX_DBS_DEPTH - 3)).unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "elements nested deeper than {MAX_DBS_DEPTH} levels"
        )),
        "{err}"
    );
}

#[test]
fn stored_procedures_and_advanced_properties() {
    let s = parse(&with_query(
        r#"<query id="p"><sql>call add_emp(?)</sql><param name="a" sqlType="STRING"/>
           <properties><property name="org.wso2.ws.dataservice.query_timeout">30</property><property name="maxRows">5</property></properties></query>
           <query id="u" returnUpdatedRowCount="true" keyColumns="id, code"><sql>update t set a = ?</sql><param name="a" sqlType="STRING"/></query>"#,
    ))
    .unwrap();
    let p = s.query("p").unwrap();
    assert_eq!(p.kind, QueryKind::StoredProc);
    assert_eq!(
        p.properties,
        [
            ("queryTimeout".to_string(), "30".to_string()),
            ("maxRows".to_string(), "5".to_string())
        ]
    );
    let u = s.query("u").unwrap();
    assert!(u.return_updated_row_count);
    assert!(u.is_update());
    assert_eq!(u.key_columns, ["id", "code"]);
}

#[test]
fn unbindable_types_deploy_and_value_enum_is_shared() {
    // VARCHAR is a valid MI sqlType that MI's SQLQuery cannot bind: it deploys and fails per
    // request (see params tests).
    let s = parse(&with_query(
        r#"<query id="q"><sql>select ?</sql><param name="a" sqlType="varchar"/></query>"#,
    ))
    .unwrap();
    assert_eq!(
        s.query("q").unwrap().params[0].sql_type,
        SqlType::Unbindable("VARCHAR".into())
    );
    // The db layer's value type is the model's.
    let v: Value = Value::Int(1);
    assert_eq!(crate::model::mi_text(&v).as_deref(), Some("1"));
}

/// Every `.dbs` file in MI's own integration tests: each either deploys or is refused with a
/// located `unsupported` / `invalid` error (other data-source kinds, H2-only dialects ...), never a
/// syntax error or a panic. Read from the MI mirror when it is on this machine.
#[test]
fn mi_integration_test_dbs_files_parse_or_are_refused_by_name() {
    let mirror = std::path::Path::new("/work/.mirror/wso2+micro-integrator/repo");
    if !mirror.exists() {
        eprintln!("skipped: MI mirror not found at {}", mirror.display());
        return;
    }
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("--git-dir")
            .arg(mirror)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
    };
    let Some(list) = git(&["ls-tree", "-r", "--name-only", "HEAD"]) else {
        eprintln!("skipped: git cannot read the MI mirror");
        return;
    };
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    let files: Vec<&str> = list.lines().filter(|p| p.ends_with(".dbs")).collect();
    assert!(files.len() > 100, "found {} .dbs files", files.len());
    let mut ok = 0;
    let mut kinds: HashMap<&'static str, usize> = HashMap::new();
    let mut reasons: HashMap<String, usize> = HashMap::new();
    for path in &files {
        let Some(out) = git(&["show", &format!("HEAD:{path}")]) else {
            continue;
        };
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        match parse_dbs(path, &text, &ParseOptions::default()) {
            Ok(_) => ok += 1,
            Err(e) => {
                *kinds.entry(e.kind()).or_default() += 1;
                let reason = match &e {
                    DbsError::Unsupported { what, .. } => format!("unsupported {what}"),
                    other => other
                        .to_string()
                        .split(" at ")
                        .next()
                        .unwrap_or("")
                        .chars()
                        .take(90)
                        .collect(),
                };
                *reasons.entry(reason).or_default() += 1;
                // MI's deliberately broken FaultyDataService.dbs, and a file repeating an
                // attribute, which MI's StAX parser refuses too.
                assert!(
                    path.contains("Faulty")
                        || !matches!(&e, DbsError::XmlSyntax { message, .. } if !message.contains("is already defined")),
                    "{path}: MI's own file refused as XML: {e}"
                );
                assert!(e.to_string().contains(path), "{e}");
            }
        }
    }
    let mut reasons: Vec<_> = reasons.into_iter().collect();
    reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
    eprintln!(
        "MI .dbs files: {} read, {ok} deploy; refused by kind {kinds:?}",
        files.len()
    );
    for (reason, n) in reasons.iter().take(25) {
        eprintln!("  {n:>4}  {reason}");
    }
    assert!(ok >= 100, "only {ok} of {} deploy", files.len());
}
