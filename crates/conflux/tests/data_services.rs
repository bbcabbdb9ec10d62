//! Data services (`.dbs`, MI `repository/deployment/server/dataservices`) through the real
//! binary. On SQLite: REST resources on `/services/<name>/...` with path and query parameters,
//! JSON and XML request bodies, MI's XML and JSON (`Accept: application/json`,
//! `DBInOutMessageReceiver`) answers with exact bodies, `REQUEST_STATUS`, a validation fault, an
//! SQL injection attempt that returns and changes nothing, a broken `.dbs` that leaves the
//! others deployed, hot deployment, the management API and legacy boxcarring sessions (cookie).
//! Then one scenario on SQLite, PostgreSQL and MariaDB (private servers from
//! `conflux_dataservices::db::testing`, skipped with a message when the Debian packages are
//! missing): GET/POST/PUT/DELETE, nested queries, exact XML and JSON, validation and parameter
//! faults (POX and MI's JSON fault), injection attempts, batch requests and a request box rolled
//! back on error, and the database stopped (MI's `DATABASE_ERROR` fault) and started again.

mod support;

use std::time::Duration;

use conflux_dataservices::db::testing::Kind;
use support::backend::request;
use support::db::{Backend, sqlite_in_home, wait_for_get};
use support::*;

const DBS: &str = r#"<data name="EmpService" transports="http https">
   <config id="db">
      <property name="driverClassName">org.sqlite.JDBC</property>
      <property name="url">jdbc:sqlite:db/emp.db</property>
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
      <sql>SELECT id, name FROM employees WHERE name = :name</sql>
      <param name="name" sqlType="STRING"/>
      <result element="Employees" rowName="Employee">
         <element name="id" column="id" xsdType="xs:integer"/>
         <element name="name" column="name"/>
      </result>
   </query>
   <query id="count" useConfig="db">
      <sql>SELECT count(*) AS n FROM employees</sql>
      <result element="Count"><element name="n" column="n" xsdType="xs:long"/></result>
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
   <resource method="GET" path="employee/{id}">
      <call-query href="getEmployee"><with-param name="id" query-param="id"/></call-query>
   </resource>
   <resource method="GET" path="employee">
      <call-query href="findByName"><with-param name="name" query-param="name"/></call-query>
   </resource>
   <resource method="GET" path="count"><call-query href="count"/></resource>
   <resource method="POST" path="employee" returnRequestStatus="true">
      <call-query href="addEmployee">
         <with-param name="id" query-param="id"/>
         <with-param name="name" query-param="name"/>
         <with-param name="salary" query-param="salary"/>
      </call-query>
   </resource>
   <resource method="DELETE" path="employee/{id}">
      <call-query href="deleteEmployee"><with-param name="id" query-param="id"/></call-query>
   </resource>
</data>"#;

const EMPTY: &str = r#"<Employees xmlns="http://ws.wso2.org/dataservice"/>"#;

/// A home with `EmpService.dbs`, a broken `.dbs` and `db/emp.db` holding two employees.
fn home() -> Home {
    let home = Home::new(
        "[server]\nhostname = \"localhost\"\n\n[[internal_apis.users]]\nuser.name = \"ops\"\nuser.password = \"ops-pass\"\nuser.is_admin = true\n",
    );
    home.write(
        "repository/deployment/server/dataservices/EmpService.dbs",
        DBS,
    );
    home.write(
        "repository/deployment/server/dataservices/Broken.dbs",
        "<data name=\"Broken\"><query id=\"q\"><sql>SELECT 1</sql></query><nonsense/></data>",
    );
    sqlite_in_home(
        home.path(),
        "emp.db",
        &[
            "CREATE TABLE employees (id INTEGER PRIMARY KEY, name TEXT NOT NULL, salary REAL)",
            "INSERT INTO employees VALUES (1, 'Ann', 1500.0), (2, 'Bob', NULL)",
        ],
    );
    home
}

#[test]
fn rest_get_post_delete_on_sqlite() {
    let home = home();
    // The URL through `$FILE:` (`conf/file.properties`), resolved at deploy.
    home.write("conf/file.properties", "emp_url=jdbc:sqlite:db/emp.db\n");
    home.write(
        "repository/deployment/server/dataservices/EmpService.dbs",
        &DBS.replace("jdbc:sqlite:db/emp.db", "$FILE:emp_url"),
    );
    let server = start(&home);
    let port = server.port(HTTP);

    let r = get(port, "/services/EmpService/employee/1");
    assert_eq!(r.status, 200, "{}\n{}", r.text(), server.output());
    assert_eq!(r.header("Content-Type"), Some("application/xml"));
    assert_eq!(
        r.text(),
        r#"<Employees xmlns="http://ws.wso2.org/dataservice"><Employee><id>1</id><name>Ann</name><salary>1500.0</salary></Employee></Employees>"#
    );

    // NULL column: xsi:nil in XML, null in JSON.
    let r = request(
        "GET",
        port,
        "/services/EmpService/employee/2",
        &[("Accept", "application/json")],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(
        r.text(),
        r#"{"Employees":{"Employee":[{"id":2,"name":"Bob","salary":null}]}}"#
    );

    let r = get(port, "/services/EmpService/employee?name=Bob");
    assert_eq!(
        r.text(),
        r#"<Employees xmlns="http://ws.wso2.org/dataservice"><Employee><id>2</id><name>Bob</name></Employee></Employees>"#
    );

    // MI's JSON request form.
    let r = request(
        "POST",
        port,
        "/services/EmpService/employee",
        &[("Content-Type", "application/json")],
        br#"{"_postemployee": {"id": 3, "name": "Cleo", "salary": 10.5}}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.text(),
        r#"<axis2ns1:REQUEST_STATUS xmlns:axis2ns1="http://ws.wso2.org/dataservice">SUCCESSFUL</axis2ns1:REQUEST_STATUS>"#
    );
    // The XML request form.
    let r = request(
        "POST",
        port,
        "/services/EmpService/employee",
        &[("Content-Type", "application/xml")],
        b"<_postemployee><id>4</id><name>Dan</name><salary>2</salary></_postemployee>",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = get(port, "/services/EmpService/employee/4");
    assert!(
        r.text().contains("<name>Dan</name><salary>2.0</salary>"),
        "{}",
        r.text()
    );

    let r = request("DELETE", port, "/services/EmpService/employee/3", &[], b"");
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(get(port, "/services/EmpService/employee/3").text(), EMPTY);

    let r = get(port, "/services/EmpService/count");
    assert_eq!(
        r.text(),
        r#"<Count xmlns="http://ws.wso2.org/dataservice"><n>3</n></Count>"#
    );
}

#[test]
fn validation_fault_and_injection_change_nothing() {
    let home = home();
    let server = start(&home);
    let port = server.port(HTTP);

    let r = request(
        "POST",
        port,
        "/services/EmpService/employee",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"id=9&name=X&salary=1",
    );
    assert_eq!(r.status, 500, "{}", r.text());
    let body = r.text();
    assert!(body.starts_with("<axis2ns1:DataServiceFault"), "{body}");
    assert!(body.contains("VALIDATION_ERROR"), "{body}");
    assert_eq!(get(port, "/services/EmpService/employee/9").text(), EMPTY);

    let r = get(
        port,
        "/services/EmpService/employee?name=x%27%3B%20DELETE%20FROM%20employees%3B%20--",
    );
    assert_eq!(r.text(), EMPTY);
    let r = get(
        port,
        "/services/EmpService/employee?name=x%27%20OR%20%271%27%3D%271",
    );
    assert_eq!(r.text(), EMPTY);
    assert_eq!(
        get(port, "/services/EmpService/count").text(),
        r#"<Count xmlns="http://ws.wso2.org/dataservice"><n>2</n></Count>"#
    );

    // The broken file did not deploy; the good one did.
    assert!(
        server.output_with(&["Broken.dbs"]).contains("Broken.dbs"),
        "{}",
        server.output()
    );
}

#[test]
fn check_names_the_broken_dbs_file() {
    let home = home();
    let out = check_home(home.path(), std::time::Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("dataservices/Broken.dbs:1:"), "{stderr}");
    assert!(stdout.contains("data services: 1 OK"), "{stdout}");
}

#[test]
fn a_dbs_file_dropped_in_is_hot_deployed() {
    let home = home();
    let server = start(&home);
    let port = server.port(HTTP);
    home.write(
        "repository/deployment/server/dataservices/Second.dbs",
        &DBS.replace("name=\"EmpService\"", "name=\"Second\""),
    );
    let want = r#"<Count xmlns="http://ws.wso2.org/dataservice"><n>2</n></Count>"#;
    wait_for_get(
        Duration::from_secs(30),
        port,
        "/services/Second/count",
        |r| r.status == 200 && r.text() == want,
    );
}

/// `GET /management/data-services` (MI `DataServiceResource`): the list and one service's detail.
#[test]
fn management_api_lists_and_describes_data_services() {
    use support::backend::https_request_with;
    let home = home();
    let server = start(&home);
    let port = server.port(INTERNAL_HTTPS);
    // "ops:ops-pass" in Base64.
    let login = https_request_with(
        "GET",
        port,
        "/management/login",
        &[("Authorization", "Basic b3BzOm9wcy1wYXNz".to_string())],
        b"",
    );
    assert_eq!(login.status, 200, "{}", login.text());
    let token: serde_json::Value = serde_json::from_slice(&login.body).expect("json");
    let bearer = format!("Bearer {}", token["AccessToken"].as_str().expect("token"));
    let call = |path: &str| {
        let r = https_request_with("GET", port, path, &[("Authorization", bearer.clone())], b"");
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        serde_json::from_slice::<serde_json::Value>(&r.body).expect("json")
    };
    let list = call("/management/data-services");
    assert_eq!(list["count"], 1, "{list}");
    assert_eq!(list["list"][0]["name"], "EmpService", "{list}");
    assert!(
        list["list"][0]["wsdl1_1"]
            .as_str()
            .is_some_and(|u| u.ends_with("/services/EmpService?wsdl")),
        "{list}"
    );
    let detail = call("/management/data-services?dataServiceName=EmpService");
    assert_eq!(detail["serviceName"], "EmpService", "{detail}");
    assert_eq!(detail["dataSources"][0]["dataSourceId"], "db", "{detail}");
    assert_eq!(
        detail["dataSources"][0]["dataSourceType"], "RDBMS",
        "{detail}"
    );
    let resources = detail["resources"].as_array().expect("resources");
    assert_eq!(resources.len(), 5, "{detail}");
    assert_eq!(resources[0]["resourcePath"], "employee/{id}", "{detail}");
    assert_eq!(resources[0]["resourceMethod"], "GET", "{detail}");
    assert_eq!(resources[0]["resourceQuery"], "getEmployee", "{detail}");
    assert_eq!(resources[0]["queryParams"][0]["name"], "id", "{detail}");
    let missing = https_request_with(
        "GET",
        port,
        "/management/data-services?dataServiceName=Nope",
        &[("Authorization", bearer.clone())],
        b"",
    );
    assert_eq!(missing.status, 404);
}

// ---------------------------------------------------------------------------------------------
// The same cases on SQLite, PostgreSQL and MariaDB (issue 16): one database server per test (it
// is stopped and started again at the end), one `conflux` process, exact bodies that must not
// depend on the database.

/// The service the cross-database scenario runs: nested queries, path + query parameters on
/// GET/POST/PUT/DELETE, a validator, batch requests and a request box.
const STAFF_DBS: &str = r#"<data name="Staff" enableBatchRequests="true" enableBoxcarring="true" disableLegacyBoxcarringMode="true" transports="http https">
   <config id="db">
      <property name="driverClassName">DRIVER</property>
      <property name="url">URL</property>
   </config>
   <query id="getEmployee" useConfig="db">
      <sql>SELECT id, name, salary, dept_id FROM employees WHERE id = :id</sql>
      <param name="id" sqlType="INTEGER"/>
      <result element="Employees" rowName="Employee">
         <element name="id" column="id" xsdType="xs:integer"/>
         <element name="name" column="name"/>
         <element name="salary" column="salary" xsdType="xs:double"/>
         <call-query href="getDepartment">
            <with-param name="deptId" column="dept_id"/>
         </call-query>
      </result>
   </query>
   <query id="getDepartment" useConfig="db">
      <sql>SELECT name FROM departments WHERE id = :deptId</sql>
      <param name="deptId" sqlType="INTEGER"/>
      <result element="Departments" rowName="Department">
         <element name="deptName" column="name"/>
      </result>
   </query>
   <query id="findByName" useConfig="db">
      <sql>SELECT id, name FROM employees WHERE name = :name ORDER BY id</sql>
      <param name="name" sqlType="STRING"/>
      <result element="Employees" rowName="Employee">
         <element name="id" column="id" xsdType="xs:integer"/>
         <element name="name" column="name"/>
      </result>
   </query>
   <query id="deptEmployees" useConfig="db">
      <sql>SELECT id, name FROM employees WHERE dept_id = :deptId AND salary &gt;= :minSalary ORDER BY id</sql>
      <param name="deptId" sqlType="INTEGER"/>
      <param name="minSalary" sqlType="DOUBLE"/>
      <result element="Employees" rowName="Employee">
         <element name="id" column="id" xsdType="xs:integer"/>
         <element name="name" column="name"/>
      </result>
   </query>
   <query id="count" useConfig="db">
      <sql>SELECT COUNT(*) AS n FROM employees</sql>
      <result element="Count"><element name="n" column="n" xsdType="xs:long"/></result>
   </query>
   <query id="addEmployee" useConfig="db">
      <sql>INSERT INTO employees (id, name, salary, dept_id) VALUES (:id, :name, :salary, :deptId)</sql>
      <param name="id" sqlType="INTEGER"/>
      <param name="name" sqlType="STRING"><validateLength minimum="2" maximum="40"/></param>
      <param name="salary" sqlType="DOUBLE"/>
      <param name="deptId" sqlType="INTEGER"/>
   </query>
   <query id="setSalary" useConfig="db">
      <sql>UPDATE employees SET salary = :salary WHERE id = :id</sql>
      <param name="salary" sqlType="DOUBLE"/>
      <param name="id" sqlType="INTEGER"/>
   </query>
   <query id="deleteEmployee" useConfig="db">
      <sql>DELETE FROM employees WHERE id = :id</sql>
      <param name="id" sqlType="INTEGER"/>
   </query>
   <resource method="GET" path="employee/{id}">
      <call-query href="getEmployee"><with-param name="id" query-param="id"/></call-query>
   </resource>
   <resource method="GET" path="employee">
      <call-query href="findByName"><with-param name="name" query-param="name"/></call-query>
   </resource>
   <resource method="GET" path="department/{deptId}/employees">
      <call-query href="deptEmployees">
         <with-param name="deptId" query-param="deptId"/>
         <with-param name="minSalary" query-param="minSalary"/>
      </call-query>
   </resource>
   <resource method="GET" path="count"><call-query href="count"/></resource>
   <resource method="POST" path="employee" returnRequestStatus="true">
      <call-query href="addEmployee">
         <with-param name="id" query-param="id"/>
         <with-param name="name" query-param="name"/>
         <with-param name="salary" query-param="salary"/>
         <with-param name="deptId" query-param="deptId"/>
      </call-query>
   </resource>
   <resource method="PUT" path="employee/{id}">
      <call-query href="setSalary">
         <with-param name="salary" query-param="salary"/>
         <with-param name="id" query-param="id"/>
      </call-query>
   </resource>
   <resource method="DELETE" path="employee/{id}">
      <call-query href="deleteEmployee"><with-param name="id" query-param="id"/></call-query>
   </resource>
</data>"#;

/// The statements that create and fill `departments` and `employees`.
fn tables(double: &str) -> [String; 4] {
    [
        "CREATE TABLE departments (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL)".to_string(),
        format!(
            "CREATE TABLE employees (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, salary {double}, dept_id INTEGER)"
        ),
        "INSERT INTO departments VALUES (1, 'R&D'), (2, 'Sales')".to_string(),
        "INSERT INTO employees VALUES (1, 'Ann', 1500.0, 1), (2, 'Bob', NULL, 1), (3, 'Cy', 900.5, 2)"
            .to_string(),
    ]
}

const NS: &str = "http://ws.wso2.org/dataservice";

fn xml(inner: &str) -> String {
    format!("<Employees xmlns=\"{NS}\">{inner}</Employees>")
}

fn count_is(port: u16, n: u32) {
    let r = get(port, "/services/Staff/count");
    assert_eq!(
        (r.status, r.text()),
        (200, format!("<Count xmlns=\"{NS}\"><n>{n}</n></Count>")),
        "row count"
    );
}

/// A fault body: status 500, POX `DataServiceFault` with this `ds_code`.
fn assert_fault(r: &support::HttpResponse, code: &str) -> String {
    let body = r.text();
    assert_eq!(r.status, 500, "{body}");
    assert!(
        body.starts_with(
            "<axis2ns1:DataServiceFault xmlns:axis2ns1=\"http://ws.wso2.org/dataservice\">"
        ),
        "{body}"
    );
    assert!(
        body.contains(&format!("<axis2ns1:ds_code>{code}</axis2ns1:ds_code>")),
        "{body}"
    );
    body
}

/// Every case of issue 16's list on one database, through the binary.
fn scenario(mut backend: Backend) {
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    std::fs::create_dir_all(home.path().join("db")).expect("db dir");
    let (service_url, setup_url) = backend.urls(&home, "staff.db", true);
    support::db::execute(&setup_url, &tables(backend.double()));
    home.write(
        "repository/deployment/server/dataservices/Staff.dbs",
        &STAFF_DBS
            .replace("URL", &service_url.replace('&', "&amp;"))
            .replace("DRIVER", backend.driver()),
    );
    let server = start(&home);
    let port = server.port(HTTP);
    let json = [("Accept", "application/json")];

    // GET with a path parameter: nested query, escaping, NULL.
    let ann = "<Employee><id>1</id><name>Ann</name><salary>1500.0</salary><Departments><Department><deptName>R&amp;D</deptName></Department></Departments></Employee>";
    let r = get(port, "/services/Staff/employee/1");
    assert_eq!((r.status, r.text()), (200, xml(ann)), "{}", server.output());
    assert_eq!(r.header("Content-Type"), Some("application/xml"));
    let r = request("GET", port, "/services/Staff/employee/1", &json, b"");
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(
        r.text(),
        r#"{"Employees":{"Employee":[{"id":1,"name":"Ann","salary":1500.0,"Departments":{"Department":[{"deptName":"R&D"}]}}]}}"#
    );
    let r = get(port, "/services/Staff/employee/2");
    assert_eq!(
        r.text(),
        xml(
            "<Employee><id>2</id><name>Bob</name><salary xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:nil=\"true\"/><Departments><Department><deptName>R&amp;D</deptName></Department></Departments></Employee>"
        )
    );
    let r = request("GET", port, "/services/Staff/employee/2", &json, b"");
    assert_eq!(
        r.text(),
        r#"{"Employees":{"Employee":[{"id":2,"name":"Bob","salary":null,"Departments":{"Department":[{"deptName":"R&D"}]}}]}}"#
    );
    // Path and query parameters together.
    let r = get(
        port,
        "/services/Staff/department/1/employees?minSalary=1000",
    );
    assert_eq!(
        r.text(),
        xml("<Employee><id>1</id><name>Ann</name></Employee>")
    );
    let r = request(
        "GET",
        port,
        "/services/Staff/department/2/employees?minSalary=100",
        &json,
        b"",
    );
    assert_eq!(
        r.text(),
        r#"{"Employees":{"Employee":[{"id":3,"name":"Cy"}]}}"#
    );
    let r = get(
        port,
        "/services/Staff/department/2/employees?minSalary=5000",
    );
    assert_eq!(r.text(), format!("<Employees xmlns=\"{NS}\"/>"));
    let r = request(
        "GET",
        port,
        "/services/Staff/department/2/employees?minSalary=5000",
        &json,
        b"",
    );
    assert_eq!(r.text(), r#"{"Employees":{}}"#);

    // POST (JSON and XML request forms), PUT (query parameter), DELETE.
    let r = request(
        "POST",
        port,
        "/services/Staff/employee",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ],
        br#"{"_postemployee":{"id":4,"name":"Dee","salary":10.5,"deptId":2}}"#,
    );
    assert_eq!(
        (r.status, r.text()),
        (200, r#"{"REQUEST_STATUS":"SUCCESSFUL"}"#.to_string())
    );
    let r = request(
        "POST",
        port,
        "/services/Staff/employee",
        &[("Content-Type", "application/xml")],
        b"<_postemployee><id>5</id><name>Eve</name><salary>20</salary><deptId>2</deptId></_postemployee>",
    );
    assert_eq!(
        (r.status, r.text()),
        (
            200,
            format!(
                "<axis2ns1:REQUEST_STATUS xmlns:axis2ns1=\"{NS}\">SUCCESSFUL</axis2ns1:REQUEST_STATUS>"
            )
        )
    );
    let r = request(
        "PUT",
        port,
        "/services/Staff/employee/5?salary=2500.25",
        &[],
        b"",
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let r = get(port, "/services/Staff/employee/5");
    assert_eq!(
        r.text(),
        xml(
            "<Employee><id>5</id><name>Eve</name><salary>2500.25</salary><Departments><Department><deptName>Sales</deptName></Department></Departments></Employee>"
        )
    );
    let r = request("DELETE", port, "/services/Staff/employee/5", &[], b"");
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(
        get(port, "/services/Staff/employee/5").text(),
        format!("<Employees xmlns=\"{NS}\"/>")
    );
    count_is(port, 4);

    // Validation and parameter faults change nothing.
    let r = request(
        "POST",
        port,
        "/services/Staff/employee",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"id=6&name=X&salary=1&deptId=1",
    );
    let body = assert_fault(&r, "VALIDATION_ERROR");
    assert!(
        body.contains(
            "<axis2ns1:current_request_name>_postemployee</axis2ns1:current_request_name>"
        ),
        "{body}"
    );
    // A JSON request gets MI's JSON fault.
    let r = request(
        "POST",
        port,
        "/services/Staff/employee",
        &[("Content-Type", "application/json")],
        br#"{"_postemployee":{"id":6,"name":"X","salary":1,"deptId":1}}"#,
    );
    assert_eq!(r.status, 500);
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    let fault: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON fault");
    assert_eq!(
        fault["Fault"]["faultcode"], "axis2ns1:VALIDATION_ERROR",
        "{fault}"
    );
    assert_eq!(fault["Fault"]["detail"], "", "{fault}");
    let faultstring = fault["Fault"]["faultstring"].as_str().unwrap_or("");
    assert!(
        faultstring.contains("Current Request Name: _postemployee\n"),
        "{faultstring}"
    );
    assert!(
        faultstring.ends_with(
            "Default Namespace: http://ws.wso2.org/dataservice\nDS Code: VALIDATION_ERROR\n"
        ),
        "{faultstring}"
    );
    let r = request(
        "PUT",
        port,
        "/services/Staff/employee/1?salary=lots",
        &[],
        b"",
    );
    assert_fault(&r, "INCOMPATIBLE_PARAMETERS_ERROR");
    let r = get(port, "/services/Staff/employee");
    assert_fault(&r, "INCOMPATIBLE_PARAMETERS_ERROR");
    count_is(port, 4);

    // SQL injection: values are bound, never spliced.
    let none = format!("<Employees xmlns=\"{NS}\"/>");
    for attack in [
        "x%27%20OR%20%271%27%3D%271",
        "x%27%3B%20DELETE%20FROM%20employees%3B%20--",
        "Ann%27%20--",
        "%27%20UNION%20SELECT%20id%2C%20name%20FROM%20departments%20--",
    ] {
        let r = get(port, &format!("/services/Staff/employee?name={attack}"));
        assert_eq!((r.status, r.text()), (200, none.clone()), "{attack}");
    }
    let r = get(port, "/services/Staff/employee/1%20OR%201%3D1");
    assert_fault(&r, "INCOMPATIBLE_PARAMETERS_ERROR");
    let r = request(
        "DELETE",
        port,
        "/services/Staff/employee/1%3B%20DELETE%20FROM%20employees",
        &[],
        b"",
    );
    assert_fault(&r, "INCOMPATIBLE_PARAMETERS_ERROR");
    let r = request(
        "POST",
        port,
        "/services/Staff/employee",
        &[("Content-Type", "application/json")],
        br#"{"_postemployee":{"id":7,"name":"Robert'); DROP TABLE employees;--","salary":1,"deptId":1}}"#,
    );
    assert_eq!(r.status, 200, "stored as text: {}", r.text());
    let r = get(
        port,
        "/services/Staff/employee?name=Robert%27%29%3B%20DROP%20TABLE%20employees%3B--",
    );
    assert_eq!(
        r.text(),
        xml("<Employee><id>7</id><name>Robert'); DROP TABLE employees;--</name></Employee>")
    );
    let r = request("DELETE", port, "/services/Staff/employee/7", &[], b"");
    assert_eq!(r.status, 202);
    count_is(port, 4);

    // Batch requests: one transaction; a duplicate key in the last set rolls back the others.
    let r = request(
        "POST",
        port,
        "/services/Staff/employee_batch_req",
        &[("Content-Type", "application/json")],
        br#"{"_postemployee_batch_req":{"_postemployee":[{"id":10,"name":"Ten","salary":1,"deptId":1},{"id":11,"name":"Eleven","salary":2,"deptId":2}]}}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    count_is(port, 6);
    let r = request(
        "POST",
        port,
        "/services/Staff/employee_batch_req",
        &[("Content-Type", "application/xml")],
        b"<_postemployee_batch_req><_postemployee><id>12</id><name>Twelve</name><salary>1</salary><deptId>1</deptId></_postemployee><_postemployee><id>1</id><name>Dup</name><salary>1</salary><deptId>1</deptId></_postemployee></_postemployee_batch_req>",
    );
    let body = assert_fault(&r, "DATABASE_ERROR");
    assert!(!body.contains("<axis2ns1:nested_exception/>"), "{body}");
    assert_eq!(get(port, "/services/Staff/employee/12").text(), none);
    count_is(port, 6);

    // A request box: the calls in one transaction, the last one's result wrapped.
    let r = request(
        "POST",
        port,
        "/services/Staff/request_box",
        &[("Content-Type", "application/json"), ("Accept", "application/json")],
        br#"{"request_box":{"_putemployee_id":{"id":10,"salary":99.5},"_getemployee_id":{"id":10}}}"#,
    );
    assert_eq!(
        (r.status, r.text()),
        (
            200,
            r#"{"DATA_SERVICE_REQUEST_BOX_RESPONSE":{"Employees":{"Employee":[{"id":10,"name":"Ten","salary":99.5,"Departments":{"Department":[{"deptName":"R&D"}]}}]}}}"#.to_string()
        )
    );
    let r = request(
        "POST",
        port,
        "/services/Staff/request_box",
        &[("Content-Type", "application/xml")],
        b"<request_box><_deleteemployee_id><id>11</id></_deleteemployee_id><_postemployee><id>3</id><name>Dup</name><salary>1</salary><deptId>1</deptId></_postemployee></request_box>",
    );
    assert_fault(&r, "DATABASE_ERROR");
    assert_ne!(
        get(port, "/services/Staff/employee/11").text(),
        none,
        "rolled back"
    );
    count_is(port, 6);

    // The database goes away: MI's DATABASE_ERROR fault; then it comes back.
    if let Some(db) = backend.own_server() {
        db.stop();
        // The first request may meet a pooled connection the server cut (a statement error);
        // after that the pool cannot connect.
        let r = get(port, "/services/Staff/employee/1");
        assert_fault(&r, "DATABASE_ERROR");
        let r = get(port, "/services/Staff/employee/1");
        let body = assert_fault(&r, "DATABASE_ERROR");
        assert!(body.contains("Error in opening DBMS connection."), "{body}");
        db.restart().expect("restart");
        let want = xml(ann);
        // The service after the database is back.
        wait_for_get(
            Duration::from_secs(60),
            port,
            "/services/Staff/employee/1",
            |r| r.status == 200 && r.text() == want,
        );
        count_is(port, 6);
    }
}

#[test]
fn sqlite_runs_the_whole_scenario() {
    scenario(Backend::Sqlite);
}

#[test]
fn postgres_runs_the_whole_scenario_and_survives_an_outage() {
    if let Some(backend) = Backend::own(Kind::Postgres) {
        scenario(backend);
    }
}

#[test]
fn mariadb_runs_the_whole_scenario_and_survives_an_outage() {
    if let Some(backend) = Backend::own(Kind::MariaDb) {
        scenario(backend);
    }
}

/// MI's legacy boxcarring through the binary (DS937BoxcarringTestCase): `begin_boxcar` sets the
/// `JSESSIONID` cookie; SOAP calls with that cookie are queued (another client does not see
/// their writes) and run in one transaction at `end_boxcar`, which answers the last result.
#[test]
fn legacy_boxcarring_keeps_calls_per_session_cookie() {
    let home = home();
    home.write(
        "repository/deployment/server/dataservices/EmpService.dbs",
        &DBS.replace(
            "<data name=\"EmpService\"",
            "<data name=\"EmpService\" enableBoxcarring=\"true\"",
        )
        .replace(
            "</data>",
            r#"<operation name="addEmployeeOp">
      <call-query href="addEmployee">
         <with-param name="id" query-param="id"/>
         <with-param name="name" query-param="name"/>
         <with-param name="salary" query-param="salary"/>
      </call-query>
   </operation>
   <operation name="countOp"><call-query href="count"/></operation>
</data>"#,
        ),
    );
    let server = start(&home);
    let port = server.port(HTTP);
    let soap = |op: &str, inner: &str| {
        format!(
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:dat=\"http://ws.wso2.org/dataservice\"><soapenv:Body><dat:{op}>{inner}</dat:{op}></soapenv:Body></soapenv:Envelope>"
        )
    };
    let call = |op: &str, inner: &str, cookie: Option<&str>| {
        let mut headers = vec![
            ("Content-Type", "text/xml".to_string()),
            ("SOAPAction", format!("\"urn:{op}\"")),
        ];
        if let Some(c) = cookie {
            headers.push(("Cookie", c.to_string()));
        }
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        request(
            "POST",
            port,
            "/services/EmpService",
            &headers,
            soap(op, inner).as_bytes(),
        )
    };
    let begin = call("begin_boxcar", "", None);
    assert_eq!(begin.status, 200, "{}\n{}", begin.text(), server.output());
    let cookie = begin
        .header("Set-Cookie")
        .and_then(|c| c.split(';').next())
        .expect("Set-Cookie")
        .to_string();
    assert!(cookie.starts_with("JSESSIONID="), "{cookie}");
    let r = call(
        "addEmployeeOp",
        "<dat:id>40</dat:id><dat:name>Forty</dat:name><dat:salary>4</dat:salary>",
        Some(&cookie),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(get(port, "/services/EmpService/employee/40").text(), EMPTY);
    let r = call("countOp", "", Some(&cookie));
    assert_eq!(r.status, 200, "{}", r.text());
    let r = call("end_boxcar", "", Some(&cookie));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.text(),
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><axis2ns1:DATA_SERVICE_REQUEST_BOX_RESPONSE xmlns:axis2ns1=\"http://ws.wso2.org/dataservice\"><Count xmlns=\"http://ws.wso2.org/dataservice\"><n>3</n></Count></axis2ns1:DATA_SERVICE_REQUEST_BOX_RESPONSE></soapenv:Body></soapenv:Envelope>"
    );
    assert!(
        get(port, "/services/EmpService/employee/40")
            .text()
            .contains("<name>Forty</name>")
    );
    // abort_boxcar drops the queued calls.
    let begin = call("begin_boxcar", "", None);
    let cookie = begin
        .header("Set-Cookie")
        .and_then(|c| c.split(';').next())
        .expect("Set-Cookie")
        .to_string();
    call(
        "addEmployeeOp",
        "<dat:id>41</dat:id><dat:name>FortyOne</dat:name><dat:salary>4</dat:salary>",
        Some(&cookie),
    );
    let r = call("abort_boxcar", "", Some(&cookie));
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(get(port, "/services/EmpService/employee/41").text(), EMPTY);
}
