//! Requests through [`DeployedService::invoke`] on a real SQLite file: path and query
//! parameters, JSON and XML bodies, exact XML / JSON answers, `REQUEST_STATUS`, validation and
//! SQL faults, and a transaction rolled back when a later statement of the request fails.

use super::*;
use crate::dbs::{ParseOptions, parse_dbs};

fn dbs(url: &str) -> String {
    format!(
        r#"<data name="EmpService" transports="http">
   <config id="db">
      <property name="driverClassName">org.sqlite.JDBC</property>
      <property name="url">{url}</property>
   </config>
   <query id="getEmployee" useConfig="db">
      <sql>SELECT id, name, salary FROM employees WHERE id = :id</sql>
      <param name="id" sqlType="INTEGER"/>
      <result element="Employees" rowName="Employee">
         <element name="id" column="id" xsdType="xs:integer"/>
         <element name="name" column="name"/>
         <element name="salary" column="salary" xsdType="xs:double"/>
      </result>
   </query>
   <query id="findByName" useConfig="db">
      <sql>SELECT id, name, salary FROM employees WHERE name = :name</sql>
      <param name="name" sqlType="STRING"/>
      <result element="Employees" rowName="Employee">
         <element name="id" column="id" xsdType="xs:integer"/>
         <element name="name" column="name"/>
      </result>
   </query>
   <query id="addEmployee" useConfig="db">
      <sql>INSERT INTO employees (id, name, salary) VALUES (:id, :name, :salary)</sql>
      <param name="id" sqlType="INTEGER"/>
      <param name="name" sqlType="STRING"><validateLength minimum="2" maximum="20"/></param>
      <param name="salary" sqlType="DOUBLE"/>
   </query>
   <query id="deleteEmployee" useConfig="db">
      <sql>DELETE FROM employees WHERE id = :id</sql>
      <param name="id" sqlType="INTEGER"/>
   </query>
   <query id="addTwice" useConfig="db">
      <sql>INSERT INTO employees (id, name, salary) VALUES (:id, :name, 1.0) RETURNING id</sql>
      <param name="id" sqlType="INTEGER"/>
      <param name="name" sqlType="STRING"/>
      <result element="Out" rowName="Row">
         <element name="id" column="id"/>
         <call-query href="addEmployeeAgain">
            <with-param name="id" column="id"/>
            <with-param name="name" query-param="name"/>
         </call-query>
      </result>
   </query>
   <query id="addEmployeeAgain" useConfig="db">
      <sql>INSERT INTO employees (id, name, salary) VALUES (:id, :name, 2.0)</sql>
      <param name="id" sqlType="INTEGER"/>
      <param name="name" sqlType="STRING"/>
   </query>
   <operation name="getEmployeeOp">
      <call-query href="getEmployee"><with-param name="id" query-param="id"/></call-query>
   </operation>
   <resource method="GET" path="employee/{{id}}">
      <call-query href="getEmployee"><with-param name="id" query-param="id"/></call-query>
   </resource>
   <resource method="GET" path="employee">
      <call-query href="findByName"><with-param name="name" query-param="name"/></call-query>
   </resource>
   <resource method="POST" path="employee" returnRequestStatus="true">
      <call-query href="addEmployee">
         <with-param name="id" query-param="id"/>
         <with-param name="name" query-param="name"/>
         <with-param name="salary" query-param="salary"/>
      </call-query>
   </resource>
   <resource method="DELETE" path="employee/{{id}}">
      <call-query href="deleteEmployee"><with-param name="id" query-param="id"/></call-query>
   </resource>
   <resource method="POST" path="twice">
      <call-query href="addTwice">
         <with-param name="id" query-param="id"/>
         <with-param name="name" query-param="name"/>
      </call-query>
   </resource>
</data>"#
    )
}

struct Fixture {
    _dir: tempfile::TempDir,
    service: DeployedService,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("jdbc:sqlite:{}", dir.path().join("emp.db").display());
    let (cfg, _) = DataSourceConfig::from_properties([("url", url.as_str())], None).expect("cfg");
    let ds = DataSource::connect(cfg).await.expect("sqlite");
    ds.update(
        "CREATE TABLE employees (id INTEGER PRIMARY KEY, name TEXT NOT NULL, salary REAL)",
        &[],
    )
    .await
    .expect("create");
    ds.update(
        "INSERT INTO employees VALUES (1, 'Ann', 1500.0), (2, 'Bob', NULL)",
        &[],
    )
    .await
    .expect("insert");
    ds.close().await;
    let model = parse_dbs(
        "dataservices/EmpService.dbs",
        &dbs(&url),
        &ParseOptions::default(),
    )
    .expect("parse");
    let service = DeployedService::new(model, "/EmpService.dbs", None).expect("deploy");
    Fixture { _dir: dir, service }
}

fn get<'a>(path: &'a str, query: &'a str, accept: Option<&'a str>) -> ServiceRequest<'a> {
    ServiceRequest {
        method: "GET",
        path,
        query,
        content_type: None,
        accept,
        body: b"",
    }
}

#[tokio::test]
async fn get_by_path_param_answers_mi_xml() {
    let f = fixture().await;
    let r = f.service.invoke(&get("/employee/1", "", None)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "application/xml");
    assert_eq!(
        r.body.as_deref(),
        Some(
            "<Employees xmlns=\"http://ws.wso2.org/dataservice\"><Employee><id>1</id><name>Ann</name><salary>1500.0</salary></Employee></Employees>"
        )
    );
}

#[tokio::test]
async fn accept_json_selects_json_output() {
    let f = fixture().await;
    let r = f
        .service
        .invoke(&get("employee/1", "", Some("application/json")))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "application/json");
    assert_eq!(
        r.body.as_deref(),
        Some(r#"{"Employees":{"Employee":[{"id":1,"name":"Ann","salary":1500.0}]}}"#)
    );
}

#[tokio::test]
async fn query_param_and_sql_injection_returns_nothing_extra() {
    let f = fixture().await;
    let r = f.service.invoke(&get("employee", "name=Bob", None)).await;
    assert_eq!(
        r.body.as_deref(),
        Some(
            "<Employees xmlns=\"http://ws.wso2.org/dataservice\"><Employee><id>2</id><name>Bob</name></Employee></Employees>"
        )
    );
    let r = f
        .service
        .invoke(&get("employee", "name=x%27%20OR%20%271%27%3D%271", None))
        .await;
    assert_eq!(r.body.as_deref(), Some(NO_ROWS));
}

#[tokio::test]
async fn post_json_then_get_and_delete() {
    let f = fixture().await;
    let body = br#"{"_postemployee": {"id": 7, "name": "Cleo", "salary": 10.5}}"#;
    let r = f
        .service
        .invoke(&post("employee", "application/json", body))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.body.as_deref(),
        Some(
            "<axis2ns1:REQUEST_STATUS xmlns:axis2ns1=\"http://ws.wso2.org/dataservice\">SUCCESSFUL</axis2ns1:REQUEST_STATUS>"
        )
    );
    let r = f.service.invoke(&get("employee/7", "", None)).await;
    assert!(
        r.body
            .as_deref()
            .is_some_and(|b| b.contains("<name>Cleo</name>")),
        "{r:?}"
    );
    let r = f
        .service
        .invoke(&ServiceRequest {
            method: "DELETE",
            ..get("employee/7", "", None)
        })
        .await;
    assert_eq!((r.status, r.body), (202, None));
    let r = f.service.invoke(&get("employee/7", "", None)).await;
    assert_eq!(r.body.as_deref(), Some(NO_ROWS));
}

#[tokio::test]
async fn post_xml_body_validation_error_is_a_fault() {
    let f = fixture().await;
    let r = f
        .service
        .invoke(&post(
            "employee",
            "application/xml",
            b"<_postemployee><id>8</id><name>X</name><salary>1</salary></_postemployee>",
        ))
        .await;
    assert_eq!(r.status, 500);
    let body = r.body.unwrap_or_default();
    assert!(body.contains("VALIDATION_ERROR"), "{body}");
    assert!(body.contains("<axis2ns1:DataServiceFault"), "{body}");
    let r = f.service.invoke(&get("employee/8", "", None)).await;
    assert_eq!(r.body.as_deref(), Some(NO_ROWS));
}

#[tokio::test]
async fn failing_nested_write_rolls_back_the_first() {
    let f = fixture().await;
    let r = f
        .service
        .invoke(&ServiceRequest {
            method: "POST",
            path: "twice",
            query: "id=9&name=Dup",
            content_type: None,
            accept: None,
            body: b"",
        })
        .await;
    assert_eq!(r.status, 500, "{r:?}");
    assert!(r.body.unwrap_or_default().contains("DATABASE_ERROR"));
    let r = f.service.invoke(&get("employee/9", "", None)).await;
    assert_eq!(r.body.as_deref(), Some(NO_ROWS));
}

#[tokio::test]
async fn unknown_resource_is_404_and_oversized_body_refused() {
    let f = fixture().await;
    let r = f.service.invoke(&get("nothing/here", "", None)).await;
    assert_eq!(r.status, 404);
    let big = vec![b' '; MAX_REQUEST_BODY_BYTES + 1];
    let r = f
        .service
        .invoke(&post("employee", "application/json", &big))
        .await;
    assert_eq!(r.status, 413);
}

#[tokio::test]
async fn soap_operation_by_body_element() {
    let f = fixture().await;
    let body = br#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><p:getEmployeeOp xmlns:p="http://ws.wso2.org/dataservice"><p:id>1</p:id></p:getEmployeeOp></soapenv:Body></soapenv:Envelope>"#;
    let request = post("", "text/xml", body);
    let r = f.service.invoke(&request).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.content_type, "text/xml");
    assert_eq!(
        r.body.as_deref(),
        Some(
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><Employees xmlns=\"http://ws.wso2.org/dataservice\"><Employee><id>1</id><name>Ann</name><salary>1500.0</salary></Employee></Employees></soapenv:Body></soapenv:Envelope>"
        )
    );
    // A value that does not convert: a SOAP fault with the DataServiceFault detail.
    let body = br#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><getEmployeeOp><id>one</id></getEmployeeOp></soapenv:Body></soapenv:Envelope>"#;
    let r = f.service.invoke(&ServiceRequest { body, ..request }).await;
    assert_eq!(r.status, 500, "{r:?}");
    let text = r.body.unwrap_or_default();
    assert!(
        text.contains(
            "<soapenv:Fault xmlns:axis2ns1=\"http://ws.wso2.org/dataservice\"><faultcode>axis2ns1:INCOMPATIBLE_PARAMETERS_ERROR</faultcode><faultstring>DS Fault Message: "
        ),
        "{text}"
    );
    assert!(
        text.contains("<detail><axis2ns1:DataServiceFault"),
        "{text}"
    );
}

/// The fixture service with `enableBatchRequests`, `enableBoxcarring` (legacy mode on unless
/// `legacy` is false) and a SOAP insert operation (which gets an `addEmployeeOp_batch_req` twin).
async fn boxcar_fixture(legacy: bool) -> Fixture {
    let f = fixture().await;
    let url = f.service.model().configs[0].url().expect("url").to_string();
    let extra = r#"<operation name="addEmployeeOp">
      <call-query href="addEmployee">
         <with-param name="id" query-param="id"/>
         <with-param name="name" query-param="name"/>
         <with-param name="salary" query-param="salary"/>
      </call-query>
   </operation>
</data>"#;
    let attrs = format!(
        "<data name=\"EmpService\" enableBatchRequests=\"true\" enableBoxcarring=\"true\" disableLegacyBoxcarringMode=\"{}\"",
        !legacy
    );
    let text = dbs(&url)
        .replace("<data name=\"EmpService\"", &attrs)
        .replace("</data>", extra);
    let model = parse_dbs(
        "dataservices/EmpService.dbs",
        &text,
        &ParseOptions::default(),
    )
    .expect("parse");
    let service = DeployedService::new(model, "/EmpService.dbs", None).expect("deploy");
    Fixture {
        _dir: f._dir,
        service,
    }
}

fn post<'a>(path: &'a str, content_type: &'a str, body: &'a [u8]) -> ServiceRequest<'a> {
    ServiceRequest {
        method: "POST",
        path,
        query: "",
        content_type: Some(content_type),
        accept: None,
        body,
    }
}

const NO_ROWS: &str = "<Employees xmlns=\"http://ws.wso2.org/dataservice\"/>";

/// docs-mi "batch requests": `POST .../employee_batch_req` with
/// `{"_postemployee_batch_req":{"_postemployee":[..]}}` inserts every set in one transaction;
/// one failing set (a validation fault here, a duplicate key below) leaves nothing behind.
#[tokio::test]
async fn batch_requests_insert_all_or_nothing() {
    let f = boxcar_fixture(true).await;
    let body = br#"{"_postemployee_batch_req":{"_postemployee":[{"id":10,"name":"Ten","salary":1},{"id":11,"name":"Eleven","salary":2}]}}"#;
    let r = f
        .service
        .invoke(&post("employee_batch_req", "application/json", body))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.body.as_deref(),
        Some(
            "<axis2ns1:REQUEST_STATUS xmlns:axis2ns1=\"http://ws.wso2.org/dataservice\">SUCCESSFUL</axis2ns1:REQUEST_STATUS>"
        )
    );
    for id in ["10", "11"] {
        let path = format!("employee/{id}");
        let r = f.service.invoke(&get(&path, "", None)).await;
        assert_ne!(r.body.as_deref(), Some(NO_ROWS), "{id}");
    }
    // The SOAP twin of an operation, XML form: the second set breaks the primary key.
    let body = br#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><addEmployeeOp_batch_req><addEmployeeOp><id>12</id><name>Twelve</name><salary>1</salary></addEmployeeOp><addEmployeeOp><id>10</id><name>Again</name><salary>1</salary></addEmployeeOp></addEmployeeOp_batch_req></soapenv:Body></soapenv:Envelope>"#;
    let r = f.service.invoke(&post("", "text/xml", body)).await;
    assert_eq!(r.status, 500, "{r:?}");
    let text = r.body.unwrap_or_default();
    assert!(text.contains("DATABASE_ERROR"), "{text}");
    assert!(
        text.contains("<faultstring>DS Fault Message: Error in 'SQLQuery.processPreNormalQuery': "),
        "{text}"
    );
    assert!(
        text.contains("Current Request Name: addEmployeeOp_batch_req\n"),
        "{text}"
    );
    let r = f.service.invoke(&get("employee/12", "", None)).await;
    assert_eq!(r.body.as_deref(), Some(NO_ROWS), "rolled back");
    // A validation fault in the last set rolls back the first.
    let body = br#"{"_postemployee_batch_req":{"_postemployee":[{"id":13,"name":"Thirteen","salary":1},{"id":14,"name":"X","salary":1}]}}"#;
    let r = f
        .service
        .invoke(&post("employee_batch_req", "application/json", body))
        .await;
    assert_eq!(r.status, 500, "{r:?}");
    assert_eq!(r.content_type, "application/json");
    let fault: serde_json::Value =
        serde_json::from_str(r.body.as_deref().unwrap_or("")).expect("json fault");
    assert_eq!(
        fault["Fault"]["faultcode"], "axis2ns1:VALIDATION_ERROR",
        "{fault}"
    );
    assert_eq!(fault["Fault"]["detail"], "", "{fault}");
    let faultstring = fault["Fault"]["faultstring"].as_str().unwrap_or("");
    assert!(
        faultstring.contains("Current Request Name: _postemployee_batch_req"),
        "{faultstring}"
    );
    assert!(
        faultstring
            .contains("Source Data Service:-\nName: EmpService\nLocation: /EmpService.dbs\n"),
        "{faultstring}"
    );
    assert!(
        faultstring.ends_with("DS Code: VALIDATION_ERROR\n"),
        "{faultstring}"
    );
    let r = f.service.invoke(&get("employee/13", "", None)).await;
    assert_eq!(r.body.as_deref(), Some(NO_ROWS), "rolled back");
    // Too many sets: refused before any statement runs.
    let mut big = String::from(r#"{"_postemployee_batch_req":{"_postemployee":["#);
    for i in 0..=requests::MAX_BATCH_SIZE {
        if i > 0 {
            big.push(',');
        }
        big.push_str(&format!(
            "{{\"id\":{},\"name\":\"Nn\",\"salary\":1}}",
            1000 + i
        ));
    }
    big.push_str("]}}");
    let r = f
        .service
        .invoke(&post(
            "employee_batch_req",
            "application/json",
            big.as_bytes(),
        ))
        .await;
    assert_eq!(r.status, 500, "{r:?}");
    let r = f.service.invoke(&get("employee/1000", "", None)).await;
    assert_eq!(r.body.as_deref(), Some(NO_ROWS));
}

/// docs-mi "Invoking Multiple Operations via Request Box" and MI's RequestBoxJsonTestCase:
/// the calls run in order in one transaction; the last one's result comes back wrapped.
#[tokio::test]
async fn request_box_runs_calls_in_one_transaction() {
    let f = boxcar_fixture(false).await;
    let body = br#"{"request_box":{"_postemployee":{"id":20,"name":"Twenty","salary":3},"getEmployeeOp":{"id":20}}}"#;
    let r = f
        .service
        .invoke(&ServiceRequest {
            accept: Some("application/json"),
            ..post("request_box", "application/json", body)
        })
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.body.as_deref(),
        Some(
            r#"{"DATA_SERVICE_REQUEST_BOX_RESPONSE":{"Employees":{"Employee":[{"id":20,"name":"Twenty","salary":3.0}]}}}"#
        )
    );
    // SOAP form; the last call is a write: an empty wrapper.
    let body = br#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><request_box><addEmployeeOp><id>21</id><name>TwentyOne</name><salary>1</salary></addEmployeeOp></request_box></soapenv:Body></soapenv:Envelope>"#;
    let r = f.service.invoke(&post("", "text/xml", body)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.body.as_deref(),
        Some(
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><axis2ns1:DATA_SERVICE_REQUEST_BOX_RESPONSE xmlns:axis2ns1=\"http://ws.wso2.org/dataservice\"/></soapenv:Body></soapenv:Envelope>"
        )
    );
    // A failing call rolls back the ones before it; an unknown request name is a fault.
    let body = b"<request_box><_postemployee><id>22</id><name>TwentyTwo</name><salary>1</salary></_postemployee><_postemployee><id>1</id><name>Dup</name><salary>1</salary></_postemployee></request_box>";
    let r = f
        .service
        .invoke(&post("request_box", "application/xml", body))
        .await;
    assert_eq!(r.status, 500, "{r:?}");
    let r = f.service.invoke(&get("employee/22", "", None)).await;
    assert_eq!(r.body.as_deref(), Some(NO_ROWS));
    let body = b"<request_box><nosuch/></request_box>";
    let r = f
        .service
        .invoke(&post("request_box", "application/xml", body))
        .await;
    assert_eq!(r.status, 500, "{r:?}");
    let text = r.body.unwrap_or_default();
    // MI's POX fault detail has no message element: the code says what kind of fault it is.

    assert!(
        text.contains("<axis2ns1:ds_code>UNKNOWN_ERROR</axis2ns1:ds_code>"),
        "{text}"
    );
    // Legacy boxcarring is off here: begin_boxcar is no operation.
    let r = f
        .service
        .invoke(&post("begin_boxcar", "application/xml", b"<begin_boxcar/>"))
        .await;
    assert_eq!(r.status, 404, "{r:?}");
}

/// MI's legacy boxcarring (DS937BoxcarringTestCase): calls between `begin_boxcar` and
/// `end_boxcar` with the session cookie are queued and run together; `abort_boxcar` drops them.
#[tokio::test]
async fn legacy_boxcarring_queues_calls_per_session_cookie() {
    let f = boxcar_fixture(true).await;
    let begin = f
        .service
        .invoke(&post("begin_boxcar", "application/xml", b"<begin_boxcar/>"))
        .await;
    assert_eq!((begin.status, begin.body.as_deref()), (200, None));
    let set_cookie = begin.set_cookie.expect("a session cookie");
    assert!(set_cookie.starts_with("JSESSIONID="), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap_or("").to_string();
    let insert = b"<addEmployeeOp><id>30</id><name>Thirty</name><salary>1</salary></addEmployeeOp>";
    let r = f
        .service
        .invoke_in_session(
            &post("addEmployeeOp", "application/xml", insert),
            Some(&cookie),
        )
        .await;
    assert_eq!((r.status, r.body.as_deref()), (202, None), "queued");
    // Another client (no cookie) does not see it yet.
    let r = f.service.invoke(&get("employee/30", "", None)).await;
    assert_eq!(r.body.as_deref(), Some(NO_ROWS));
    // A read in the session answers its empty wrapper.
    let read = b"<getEmployeeOp><id>30</id></getEmployeeOp>";
    let r = f
        .service
        .invoke_in_session(
            &post("getEmployeeOp", "application/xml", read),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.body.as_deref(), Some(NO_ROWS));
    let r = f
        .service
        .invoke_in_session(
            &post("end_boxcar", "application/xml", b"<end_boxcar/>"),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.body.as_deref(),
        Some(
            "<axis2ns1:DATA_SERVICE_REQUEST_BOX_RESPONSE xmlns:axis2ns1=\"http://ws.wso2.org/dataservice\"><Employees xmlns=\"http://ws.wso2.org/dataservice\"><Employee><id>30</id><name>Thirty</name><salary>1.0</salary></Employee></Employees></axis2ns1:DATA_SERVICE_REQUEST_BOX_RESPONSE>"
        )
    );
    // The session is over: the same cookie now calls directly.
    let insert =
        b"<addEmployeeOp><id>31</id><name>ThirtyOne</name><salary>1</salary></addEmployeeOp>";
    let r = f
        .service
        .invoke_in_session(
            &post("addEmployeeOp", "application/xml", insert),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, 202);
    let r = f.service.invoke(&get("employee/31", "", None)).await;
    assert_ne!(r.body.as_deref(), Some(NO_ROWS));
    // abort_boxcar drops what was queued.
    let begin = f
        .service
        .invoke(&post("begin_boxcar", "application/xml", b"<begin_boxcar/>"))
        .await;
    let cookie = begin
        .set_cookie
        .expect("cookie")
        .split(';')
        .next()
        .unwrap_or("")
        .to_string();
    let insert =
        b"<addEmployeeOp><id>32</id><name>ThirtyTwo</name><salary>1</salary></addEmployeeOp>";
    f.service
        .invoke_in_session(
            &post("addEmployeeOp", "application/xml", insert),
            Some(&cookie),
        )
        .await;
    let r = f
        .service
        .invoke_in_session(
            &post("abort_boxcar", "application/xml", b"<abort_boxcar/>"),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, 202);
    let r = f.service.invoke(&get("employee/32", "", None)).await;
    assert_eq!(r.body.as_deref(), Some(NO_ROWS));
}

/// A database that cannot be reached at request time (nothing listens on the port): MI's
/// `DATABASE_ERROR` fault "Error in opening DBMS connection." nested in the query's fault
/// (`SQLQuery.createConnection` inside `processPreNormalQuery`), status 500.
#[tokio::test]
async fn unreachable_database_is_a_database_error_fault() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let url = format!("jdbc:postgresql://127.0.0.1:{port}/db?user=u&amp;password=p");
    let model = parse_dbs(
        "dataservices/EmpService.dbs",
        &dbs(&url).replace("org.sqlite.JDBC", "org.postgresql.Driver"),
        &ParseOptions::default(),
    )
    .expect("parse");
    let service = DeployedService::new(model, "/EmpService.dbs", None).expect("deploy");
    let r = service.invoke(&get("employee/1", "", None)).await;
    assert_eq!(r.status, 500, "{r:?}");
    assert_eq!(r.content_type, "application/xml");
    let body = r.body.unwrap_or_default();
    assert!(
        body.contains("<axis2ns1:ds_code>DATABASE_ERROR</axis2ns1:ds_code>"),
        "{body}"
    );
    assert!(
        body.contains("<axis2ns1:nested_exception>DS Fault Message: Error in opening DBMS connection.\nNested Exception:-\ncannot connect to"),
        "{body}"
    );
    assert!(
        body.contains(
            "<axis2ns1:current_request_name>_getemployee_id</axis2ns1:current_request_name>"
        ),
        "{body}"
    );
    assert!(
        body.contains("<axis2ns1:current_params>{id=1}</axis2ns1:current_params>"),
        "{body}"
    );
}

/// MI parses `Accept` up to the first `;` and wants exactly `application/json` in that list.
#[test]
fn accept_is_parsed_as_mi_does() {
    assert!(accepts_json(Some("application/json")));
    assert!(accepts_json(Some("text/xml, application/json")));
    assert!(accepts_json(Some("application/json;q=0.9")));
    assert!(!accepts_json(Some("application/xml;q=1, application/json")));
    assert!(!accepts_json(Some("application/jsonx")));
    assert!(!accepts_json(None));
}

/// A SOAP 1.2 request gets a SOAP 1.2 fault: the `ds_code` as the Code Value (Axis2
/// `MessageContextBuilder` with MI's fault code QName), MI's full message as the Reason.
#[tokio::test]
async fn soap12_fault_carries_the_ds_code() {
    let f = fixture().await;
    let body = br#"<soapenv:Envelope xmlns:soapenv="http://www.w3.org/2003/05/soap-envelope"><soapenv:Body><getEmployeeOp><id>x</id></getEmployeeOp></soapenv:Body></soapenv:Envelope>"#;
    let r = f
        .service
        .invoke(&post("", "application/soap+xml", body))
        .await;
    assert_eq!(r.status, 500, "{r:?}");
    assert_eq!(r.content_type, "application/soap+xml");
    let text = r.body.unwrap_or_default();
    assert!(
        text.starts_with("<soapenv:Envelope xmlns:soapenv=\"http://www.w3.org/2003/05/soap-envelope\"><soapenv:Body><soapenv:Fault xmlns:axis2ns1=\"http://ws.wso2.org/dataservice\"><soapenv:Code><soapenv:Value>axis2ns1:INCOMPATIBLE_PARAMETERS_ERROR</soapenv:Value></soapenv:Code><soapenv:Reason><soapenv:Text xml:lang=\"en-US\">DS Fault Message: "),
        "{text}"
    );
    assert!(
        text.contains("Current Request Name: getEmployeeOp\nNested Exception:-\n"),
        "{text}"
    );
    assert!(
        text.contains("Source Data Service:-\nName: EmpService\nLocation: /EmpService.dbs\nDescription: N/A\nDefault Namespace: http://ws.wso2.org/dataservice\nDS Code: INCOMPATIBLE_PARAMETERS_ERROR\n</soapenv:Text>"),
        "{text}"
    );
}
