//! Requests end to end over closure row sources: exact XML (MI `XMLWriterHelper`) and JSON
//! (Axis2 `GsonXMLStreamWriter` as MI's data-service formatter) bodies, nested queries,
//! `REQUEST_STATUS`, faults.

use std::sync::{Arc, Mutex};

use super::*;
use crate::dbs::{ParseOptions, parse_dbs};
use crate::model::Value;

const SERVICE: &str = r#"<data name="EmployeeService" serviceNamespace="http://example.com/emp">
   <config id="default">
      <property name="driverClassName">org.postgresql.Driver</property>
      <property name="url">jdbc:postgresql://localhost:5432/emp</property>
   </config>
   <query id="getEmployee">
      <sql>SELECT id, name, salary, active, dept FROM employees WHERE id = :id</sql>
      <param name="id" sqlType="INTEGER"><validateLongRange minimum="1"/></param>
      <result element="Employees" rowName="Employee">
         <element name="id" column="ID" xsdType="xs:integer"/>
         <element name="name" column="name"/>
         <element name="salary" column="salary" xsdType="double"/>
         <element name="active" column="active" xsdType="xs:boolean"/>
         <attribute name="dept" column="dept"/>
         <element name="requested" query-param="id"/>
         <element name="source" value="hr &amp; co"/>
         <element name="secret" column="name" requiredRoles="admin"/>
         <call-query href="getProjects">
            <with-param name="empId" column="id"/>
         </call-query>
      </result>
   </query>
   <query id="getProjects">
      <sql>SELECT title FROM projects WHERE emp = ?</sql>
      <param name="empId" sqlType="INTEGER" ordinal="1"/>
      <result element="Projects" rowName="Project" defaultNamespace="http://example.com/projects">
         <element name="title" column="title"/>
      </result>
   </query>
   <query id="countEmployees">
      <sql>SELECT count(*) AS n FROM employees</sql>
      <result element="Count"><element name="n" column="n" xsdType="long"/></result>
   </query>
   <query id="addEmployee">
      <sql>INSERT INTO employees (name) VALUES (:name)</sql>
      <param name="name" sqlType="STRING"><validateLength minimum="2" maximum="10"/></param>
   </query>
   <query id="status">
      <sql>select '1 &amp; 2' as status</sql>
      <result outputType="json">{"Entries": {"Entry": [{"status": "$status"}]}}</result>
   </query>
   <resource method="GET" path="employee/{id}">
      <call-query href="getEmployee"><with-param name="id" query-param="id"/></call-query>
   </resource>
   <resource method="GET" path="count"><call-query href="countEmployees"/></resource>
   <resource method="POST" path="employee" returnRequestStatus="true">
      <call-query href="addEmployee"><with-param name="name" query-param="name"/></call-query>
   </resource>
   <resource method="PUT" path="employee">
      <call-query href="addEmployee"><with-param name="name" query-param="name"/></call-query>
   </resource>
   <resource method="GET" path="status"><call-query href="status"/></resource>
</data>"#;

fn service() -> DataService {
    parse_dbs(
        "dataservices/EmployeeService.dbs",
        SERVICE,
        &ParseOptions::default(),
    )
    .unwrap()
}

fn row(columns: &[&str], values: Vec<Value>) -> Row {
    let columns: Arc<[String]> = columns.iter().map(|c| c.to_string()).collect();
    Row::new(columns, values)
}

/// Statements seen by the source, as (query id, SQL, bound values).
type Log = Arc<Mutex<Vec<(String, String, Vec<Value>)>>>;

fn employees_source(log: Log) -> impl FnMut(&Query, &Prepared) -> Result<Vec<Row>, Fault> + Send {
    move |query: &Query, p: &Prepared| {
        log.lock().unwrap().push((
            query.id.clone(),
            p.sql.clone(),
            p.binds.iter().map(|b| b.value.clone()).collect(),
        ));
        Ok(match query.id.as_str() {
            "getEmployee" => vec![row(
                &["ID", "NAME", "SALARY", "ACTIVE", "DEPT"],
                vec![
                    Value::Int(7),
                    Value::Text("Ann <A&B>".into()),
                    Value::Double(1500.0),
                    Value::Bool(true),
                    Value::Text("R&D".into()),
                ],
            )],
            "getProjects" => vec![
                row(&["TITLE"], vec![Value::Text("Apollo".into())]),
                row(&["TITLE"], vec![Value::Null]),
            ],
            "countEmployees" => vec![row(&["n"], vec![Value::Int(42)])],
            "status" => vec![row(&["STATUS"], vec![Value::Text("1 & 2".into())])],
            _ => Vec::new(),
        })
    }
}

fn get(
    s: &DataService,
    method: &str,
    path: &str,
    params: &[(&str, RequestValue)],
    ctx: &RequestContext,
    log: Log,
) -> Result<Response, Fault> {
    let resource = s.resource(method, path).unwrap();
    let params: Vec<(String, RequestValue)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    execute_blocking(
        s,
        Callable::Resource(resource),
        &params,
        ctx,
        employees_source(log),
    )
}

#[test]
fn xml_result_with_nested_query_matches_mi_writer() {
    let s = service();
    let log = Log::default();
    // Request parameter names match case-insensitively (MI lower-cases them).
    let response = get(
        &s,
        "GET",
        "employee/{id}",
        &[("ID", RequestValue::text("7"))],
        &RequestContext::default(),
        log.clone(),
    )
    .unwrap();
    assert_eq!(
        response.to_xml().unwrap(),
        concat!(
            r#"<Employees xmlns="http://example.com/emp"><Employee dept="R&amp;D">"#,
            "<id>7</id><name>Ann &lt;A&amp;B&gt;</name><salary>1500.0</salary><active>true</active>",
            "<requested>7</requested><source>hr &amp; co</source>",
            r#"<Projects xmlns="http://example.com/projects"><Project><title>Apollo</title></Project>"#,
            r#"<Project><title xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/></Project></Projects>"#,
            "</Employee></Employees>"
        )
    );
    let log = log.lock().unwrap();
    assert_eq!(
        log[0],
        (
            "getEmployee".to_string(),
            "SELECT id, name, salary, active, dept FROM employees WHERE id = $1".to_string(),
            vec![Value::Int(7)]
        )
    );
    // The nested query got the outer row's column.
    assert_eq!(
        log[1],
        (
            "getProjects".to_string(),
            "SELECT title FROM projects WHERE emp = $1".to_string(),
            vec![Value::Int(7)]
        )
    );
}

#[test]
fn json_result_is_typed_by_xsd_type_and_rows_are_arrays() {
    let s = service();
    let ctx = RequestContext {
        user_roles: vec!["admin".into()],
        ..Default::default()
    };
    let response = get(
        &s,
        "GET",
        "employee/{id}",
        &[("id", RequestValue::text("7"))],
        &ctx,
        Log::default(),
    )
    .unwrap();
    // Attributes are dropped, NULL is null, the admin-only element is present for an admin.
    assert_eq!(
        response.to_json().unwrap(),
        concat!(
            r#"{"Employees":{"Employee":[{"id":7,"name":"Ann <A&B>","salary":1500.0,"active":true,"#,
            r#""requested":"7","source":"hr & co","secret":"Ann <A&B>","#,
            r#""Projects":{"Project":[{"title":"Apollo"},{"title":null}]}}]}}"#
        )
    );
}

#[test]
fn json_template_output_matches_mi_test_ds1186() {
    // MI DS1186JsonRenderTestCase: {"Entries":{"Entry":[{"status":"1 & 2"}]}}.
    let s = service();
    let response = get(
        &s,
        "GET",
        "status",
        &[],
        &RequestContext::default(),
        Log::default(),
    )
    .unwrap();
    assert_eq!(
        response.to_json().unwrap(),
        r#"{"Entries":{"Entry":[{"status":"1 & 2"}]}}"#
    );
    assert_eq!(
        response.to_xml().unwrap(),
        r#"<Entries xmlns="http://example.com/emp/status"><Entry><status>1 &amp; 2</status></Entry></Entries>"#
    );
}

#[test]
fn results_without_rows_and_without_row_names() {
    let s = service();
    let empty = execute_blocking(
        &s,
        Callable::Resource(s.resource("GET", "employee/{id}").unwrap()),
        &[("id".into(), RequestValue::text("1"))],
        &RequestContext::default(),
        |_: &Query, _: &Prepared| Ok(Vec::new()),
    )
    .unwrap();
    assert_eq!(
        empty.to_xml().unwrap(),
        r#"<Employees xmlns="http://example.com/emp"/>"#
    );
    assert_eq!(empty.to_json().unwrap(), r#"{"Employees":{}}"#);
    let count = get(
        &s,
        "GET",
        "count",
        &[],
        &RequestContext::default(),
        Log::default(),
    )
    .unwrap();
    assert_eq!(
        count.to_xml().unwrap(),
        r#"<Count xmlns="http://example.com/emp"><n>42</n></Count>"#
    );
    assert_eq!(count.to_json().unwrap(), r#"{"Count":{"n":42}}"#);
}

#[test]
fn writes_answer_request_status_or_nothing() {
    let s = service();
    let log = Log::default();
    let status = get(
        &s,
        "POST",
        "employee",
        &[("name", RequestValue::text("Bob"))],
        &RequestContext::default(),
        log.clone(),
    )
    .unwrap();
    assert_eq!(status, Response::RequestStatus);
    assert_eq!(
        status.to_xml().unwrap(),
        r#"<axis2ns1:REQUEST_STATUS xmlns:axis2ns1="http://ws.wso2.org/dataservice">SUCCESSFUL</axis2ns1:REQUEST_STATUS>"#
    );
    assert_eq!(
        status.to_json().unwrap(),
        r#"{"REQUEST_STATUS":"SUCCESSFUL"}"#
    );
    assert_eq!(
        log.lock().unwrap()[0].1,
        "INSERT INTO employees (name) VALUES ($1)"
    );
    let none = get(
        &s,
        "PUT",
        "employee",
        &[("name", RequestValue::text("Bob"))],
        &RequestContext::default(),
        Log::default(),
    )
    .unwrap();
    assert_eq!(none, Response::Empty);
    assert_eq!(none.to_xml(), None);
}

#[test]
fn injection_text_is_bound_not_spliced() {
    let s = service();
    let log = Log::default();
    let evil = "x'); DROP TABLE employees; --";
    // Too long for the validator: nothing runs.
    let err = get(
        &s,
        "POST",
        "employee",
        &[("name", RequestValue::text(evil))],
        &RequestContext::default(),
        log.clone(),
    )
    .unwrap_err();
    assert_eq!(err.code, FaultCode::ValidationError);
    assert!(log.lock().unwrap().is_empty());
    // Within the limits: bound as one value, the SQL unchanged.
    get(
        &s,
        "POST",
        "employee",
        &[("name", RequestValue::text("';--"))],
        &RequestContext::default(),
        log.clone(),
    )
    .unwrap();
    let log = log.lock().unwrap();
    assert_eq!(log[0].1, "INSERT INTO employees (name) VALUES ($1)");
    assert_eq!(log[0].2, [Value::Text("';--".into())]);
}

#[test]
fn faults_carry_mi_codes_and_the_request() {
    let s = service();
    // Validation: MI's VALIDATION_ERROR with the validator message as nested exception.
    let err = get(
        &s,
        "GET",
        "employee/{id}",
        &[("id", RequestValue::text("0"))],
        &RequestContext::default(),
        Log::default(),
    )
    .unwrap_err();
    assert_eq!(err.code, FaultCode::ValidationError);
    assert_eq!(err.request_name.as_deref(), Some("_getemployee_id"));
    assert_eq!(err.current_params.as_deref(), Some("{id=0}"));
    assert_eq!(
        err.to_xml(&s, "/EmployeeService.dbs"),
        concat!(
            r#"<axis2ns1:DataServiceFault xmlns:axis2ns1="http://ws.wso2.org/dataservice">"#,
            "<axis2ns1:current_params>{id=0}</axis2ns1:current_params>",
            "<axis2ns1:current_request_name>_getemployee_id</axis2ns1:current_request_name>",
            "<axis2ns1:nested_exception>The long value range expected is [1,0]\nField Name: id\nField Value: 0</axis2ns1:nested_exception>",
            "<axis2ns1:source_data_service><axis2ns1:location>/EmployeeService.dbs</axis2ns1:location>",
            "<axis2ns1:default_namespace>http://example.com/emp</axis2ns1:default_namespace>",
            "<axis2ns1:description>N/A</axis2ns1:description>",
            "<axis2ns1:data_service_name>EmployeeService</axis2ns1:data_service_name></axis2ns1:source_data_service>",
            "<axis2ns1:ds_code>VALIDATION_ERROR</axis2ns1:ds_code></axis2ns1:DataServiceFault>"
        )
    );
    // A parameter the request lacks: MI CallQuery.extractParams.
    let err = get(
        &s,
        "GET",
        "employee/{id}",
        &[],
        &RequestContext::default(),
        Log::default(),
    )
    .unwrap_err();
    assert_eq!(err.code, FaultCode::IncompatibleParameters);
    assert_eq!(
        err.message.as_deref(),
        Some(
            "Error in 'CallQuery.extractParams', cannot find parameter with type:query-param name:id"
        )
    );
    // A column the result maps and the row lacks: MI StaticOutputElement (attributes are written
    // first, so the missing attribute column fails first; with a rowName; without
    // one, top-level fields are optional).
    let err = execute_blocking(
        &s,
        Callable::Resource(s.resource("GET", "employee/{id}").unwrap()),
        &[("id".into(), RequestValue::text("7"))],
        &RequestContext::default(),
        |_: &Query, _: &Prepared| Ok(vec![row(&["ID"], vec![Value::Int(7)])]),
    )
    .unwrap_err();
    assert_eq!(
        err.message.as_deref(),
        Some(
            "Error in 'StaticOutputElement.execute', cannot find parameter with type:column name:dept"
        )
    );
    // The source's own fault comes back with the request filled in.
    let err = execute_blocking(
        &s,
        Callable::Resource(s.resource("GET", "count").unwrap()),
        &[],
        &RequestContext::default(),
        |_: &Query, _: &Prepared| {
            Err(Fault::new(
                FaultCode::ConnectionUnavailable,
                "connection refused",
            ))
        },
    )
    .unwrap_err();
    assert_eq!(err.code, FaultCode::ConnectionUnavailable);
    assert_eq!(err.request_name.as_deref(), Some("_getcount"));
    assert_eq!(err.current_params.as_deref(), Some("{}"));
    assert!(
        err.full_message()
            .starts_with("DS Fault Message: connection refused\n")
    );
}

#[test]
fn optional_fields_and_rowless_results() {
    let text = r#"<data name="S">
   <config><property name="driverClassName">org.sqlite.JDBC</property><property name="url">jdbc:sqlite:x</property></config>
   <query id="q">
      <sql>select a, b from t</sql>
      <result element="Out" escapeNonPrintableChar="true">
         <element name="a" column="a"/>
         <element name="missing" column="nope"/>
         <element name="Inner"><element name="b" column="b" xsdType="xs:int"/></element>
      </result>
   </query>
   <operation name="op"><call-query href="q"/></operation>
</data>"#;
    let s = parse_dbs("s.dbs", text, &ParseOptions::default()).unwrap();
    let response = execute_blocking(
        &s,
        Callable::Operation(s.operation("op").unwrap()),
        &[],
        &RequestContext::default(),
        |_: &Query, _: &Prepared| {
            Ok(vec![
                row(
                    &["a", "b"],
                    vec![Value::Text("x\u{1}y".into()), Value::Int(1)],
                ),
                row(&["a", "b"], vec![Value::Text("z".into()), Value::Int(2)]),
            ])
        },
    )
    .unwrap();
    // Without a rowName, top-level fields are optional (MI targetOptionalOverride) and each row's
    // content goes straight into the wrapper; non-printable characters become '?'.
    assert_eq!(
        response.to_xml().unwrap(),
        concat!(
            r#"<Out xmlns="http://ws.wso2.org/dataservice"><a>x?y</a><Inner><b>1</b></Inner>"#,
            "<a>z</a><Inner><b>2</b></Inner></Out>"
        )
    );
}

#[test]
fn update_row_count_and_column_numbers() {
    let text = r#"<data name="S">
   <config><property name="driverClassName">org.sqlite.JDBC</property><property name="url">jdbc:sqlite:x</property></config>
   <query id="u" returnUpdatedRowCount="true" useConfig="default">
      <sql>update t set a = 1</sql>
      <result element="Updated" useColumnNumbers="true"><element name="count" column="1" xsdType="integer"/></result>
   </query>
   <operation name="op"><call-query href="u"/></operation>
</data>"#;
    let s = parse_dbs("s.dbs", text, &ParseOptions::default()).unwrap();
    let response = execute_blocking(
        &s,
        Callable::Operation(s.operation("op").unwrap()),
        &[],
        &RequestContext::default(),
        |q: &Query, _: &Prepared| {
            assert!(q.return_updated_row_count);
            Ok(vec![row(&["1"], vec![Value::Int(3)])])
        },
    )
    .unwrap();
    assert_eq!(response.to_json().unwrap(), r#"{"Updated":{"count":3}}"#);
}

#[test]
fn json_strings_are_escaped_as_gson_does() {
    let node = OutputNode {
        name: "W".into(),
        namespace: "n".into(),
        kind: NodeKind::Wrapper,
        attributes: Vec::new(),
        children: vec![OutputNode {
            name: "v".into(),
            namespace: "n".into(),
            kind: NodeKind::Field {
                xsd_type: "integer".into(),
                value: Some("\"q\"\\\n\t\u{1}\u{2028}".into()),
            },
            attributes: Vec::new(),
            children: Vec::new(),
        }],
    };
    // Not an integer: written as a string.
    assert_eq!(node.to_json(), r#"{"W":{"v":"\"q\"\\\n\t\u0001\u2028"}}"#);
}

/// The async entry point works with a source whose futures are `Send` (a server's), and the
/// request future itself is `Send`.
#[test]
fn execute_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    struct Source;
    impl RowSource for Source {
        async fn fetch(&mut self, _: &Query, _: &Prepared) -> Result<Vec<Row>, Fault> {
            Ok(Vec::new())
        }
    }
    let s = service();
    let resource = s.resource("GET", "count").unwrap();
    let ctx = RequestContext::default();
    let mut source = Source;
    let future = execute(&s, Callable::Resource(resource), &[], &ctx, &mut source);
    assert_send(&future);
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(r) => assert_eq!(
            r.unwrap().to_xml().unwrap(),
            r#"<Count xmlns="http://example.com/emp"/>"#
        ),
        std::task::Poll::Pending => panic!("ready source must complete"),
    }
}

#[test]
fn output_size_limit_refuses_one_past() {
    // The status query writes a wrapper, then a row and a field per row: 1 + 2n elements.
    let s = service();
    let run = |rows: usize, limit: usize| {
        let mut source = FnSource(move |_: &Query, _: &Prepared| {
            Ok(vec![
                row(&["status"], vec![Value::Text(String::new())]);
                rows
            ])
        });
        let ctx = RequestContext::default();
        let future = execute_limited(
            &s,
            Callable::Resource(s.resource("GET", "status").unwrap()),
            &[],
            &ctx,
            &mut source,
            limit,
        );
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(r) => r,
            std::task::Poll::Pending => panic!("ready source must complete"),
        }
    };
    assert!(run(10, 21).is_ok());
    let err = run(10, 20).unwrap_err();
    assert_eq!(
        err.message.as_deref(),
        Some("the result has more than 20 elements")
    );
    assert_eq!(MAX_OUTPUT_NODES, 5_000_000);
}

#[test]
fn batch_requests_run_every_parameter_set() {
    let text = r#"<data name="S" enableBatchRequests="true">
   <config><property name="driverClassName">org.sqlite.JDBC</property><property name="url">jdbc:sqlite:x</property></config>
   <query id="add"><sql>insert into t (a) values (:a)</sql><param name="a" sqlType="INTEGER"/></query>
   <operation name="addA" returnRequestStatus="true"><call-query href="add"><with-param name="a" query-param="a"/></call-query></operation>
</data>"#;
    let s = parse_dbs("s.dbs", text, &ParseOptions::default()).unwrap();
    let op = s.operation("addA_batch_req").unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let mut source = FnSource(move |_: &Query, p: &Prepared| {
        log.lock().unwrap().push(p.binds[0].value.clone());
        Ok(Vec::new())
    });
    let batch = vec![
        vec![("a".to_string(), RequestValue::text("1"))],
        vec![("a".to_string(), RequestValue::text("2"))],
    ];
    let ctx = RequestContext::default();
    let future = execute_batch(&s, Callable::Operation(op), &batch, &ctx, &mut source);
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let std::task::Poll::Ready(result) = future.as_mut().poll(&mut cx) else {
        panic!("ready source must complete")
    };
    assert_eq!(result.unwrap(), Response::RequestStatus);
    assert_eq!(*seen.lock().unwrap(), [Value::Int(1), Value::Int(2)]);
}
