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
    assert_eq!(
        r.body.as_deref(),
        Some("<Employees xmlns=\"http://ws.wso2.org/dataservice\"/>")
    );
}

#[tokio::test]
async fn post_json_then_get_and_delete() {
    let f = fixture().await;
    let body = br#"{"_postemployee": {"id": 7, "name": "Cleo", "salary": 10.5}}"#;
    let r = f
        .service
        .invoke(&ServiceRequest {
            method: "POST",
            path: "employee",
            query: "",
            content_type: Some("application/json"),
            accept: None,
            body,
        })
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
    assert_eq!(
        r.body.as_deref(),
        Some("<Employees xmlns=\"http://ws.wso2.org/dataservice\"/>")
    );
}

#[tokio::test]
async fn post_xml_body_validation_error_is_a_fault() {
    let f = fixture().await;
    let r = f
        .service
        .invoke(&ServiceRequest {
            method: "POST",
            path: "employee",
            query: "",
            content_type: Some("application/xml"),
            accept: None,
            body: b"<_postemployee><id>8</id><name>X</name><salary>1</salary></_postemployee>",
        })
        .await;
    assert_eq!(r.status, 500);
    let body = r.body.unwrap_or_default();
    assert!(body.contains("VALIDATION_ERROR"), "{body}");
    assert!(body.contains("<axis2ns1:DataServiceFault"), "{body}");
    let r = f.service.invoke(&get("employee/8", "", None)).await;
    assert_eq!(
        r.body.as_deref(),
        Some("<Employees xmlns=\"http://ws.wso2.org/dataservice\"/>")
    );
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
    assert_eq!(
        r.body.as_deref(),
        Some("<Employees xmlns=\"http://ws.wso2.org/dataservice\"/>")
    );
}

#[tokio::test]
async fn unknown_resource_is_404_and_oversized_body_refused() {
    let f = fixture().await;
    let r = f.service.invoke(&get("nothing/here", "", None)).await;
    assert_eq!(r.status, 404);
    let big = vec![b' '; MAX_REQUEST_BODY_BYTES + 1];
    let r = f
        .service
        .invoke(&ServiceRequest {
            method: "POST",
            path: "employee",
            query: "",
            content_type: Some("application/json"),
            accept: None,
            body: &big,
        })
        .await;
    assert_eq!(r.status, 413);
}

#[tokio::test]
async fn soap_operation_by_body_element() {
    let f = fixture().await;
    let body = br#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><p:getEmployeeOp xmlns:p="http://ws.wso2.org/dataservice"><p:id>1</p:id></p:getEmployeeOp></soapenv:Body></soapenv:Envelope>"#;
    let request = ServiceRequest {
        method: "POST",
        path: "",
        query: "",
        content_type: Some("text/xml"),
        accept: None,
        body,
    };
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
        text.contains("<soapenv:Fault><faultcode>soapenv:Server</faultcode>"),
        "{text}"
    );
    assert!(
        text.contains("<detail><axis2ns1:DataServiceFault"),
        "{text}"
    );
}
