//! Data services (`.dbs`, MI `repository/deployment/server/dataservices`) through the real
//! binary on SQLite: REST resources on `/services/<name>/...` with path and query parameters,
//! JSON and XML request bodies, MI's XML and JSON (`Accept: application/json`,
//! `DBInOutMessageReceiver`) answers with exact bodies, `REQUEST_STATUS`, a validation fault, an
//! SQL injection attempt that returns and changes nothing, and a broken `.dbs` that leaves the
//! others deployed. PostgreSQL/MariaDB runs are not wired here yet (see the t16_serve report).

mod support;

use support::backend::request;
use support::capp::wait_for;
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
    std::fs::create_dir_all(home.path().join("db")).expect("db dir");
    let url = format!("jdbc:sqlite:{}", home.path().join("db/emp.db").display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        use conflux_dataservices::db::{DataSource, DataSourceConfig};
        let (cfg, _) =
            DataSourceConfig::from_properties([("url", url.as_str())], None).expect("config");
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
    });
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
    wait_for(
        "GET /services/Second/count",
        std::time::Duration::from_secs(30),
        || {
            let r = get(port, "/services/Second/count");
            if r.status == 200 && r.text() == want {
                Ok(())
            } else {
                Err(format!("{} {}", r.status, r.text()))
            }
        },
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

/// The same service on a private PostgreSQL or MariaDB server (t16_db's test servers; skipped with
/// a message when the server binaries are not installed): exact XML, then the database stopped
/// (MI's `CONNECTION_UNAVAILABLE_ERROR` / `DATABASE_ERROR` fault) and the service answering again
/// once it is back (the pool reconnects).
fn on_server(kind: conflux_dataservices::db::testing::Kind, driver: &str, double: &str) {
    use conflux_dataservices::db::testing::DbServer;
    use conflux_dataservices::db::{DataSource, DataSourceConfig};
    let mut db_server = match DbServer::start(kind) {
        Ok(s) => s,
        Err(skip) => {
            eprintln!("skipped: {skip}");
            return;
        }
    };
    let url = db_server.db().url;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let ds = DataSource::connect(DataSourceConfig::new(url.clone()))
            .await
            .expect("connect");
        ds.update(
            &format!(
                "CREATE TABLE employees (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, salary {double})"
            ),
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
    });
    let home = home();
    let escaped = url.replace('&', "&amp;");
    home.write(
        "repository/deployment/server/dataservices/EmpService.dbs",
        &DBS.replace("jdbc:sqlite:db/emp.db", &escaped)
            .replace("org.sqlite.JDBC", driver),
    );
    let server = start(&home);
    let port = server.port(HTTP);
    let want = r#"<Employees xmlns="http://ws.wso2.org/dataservice"><Employee><id>1</id><name>Ann</name><salary>1500.0</salary></Employee></Employees>"#;
    let r = get(port, "/services/EmpService/employee/1");
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, want),
        "{}",
        server.output()
    );

    db_server.stop();
    let r = get(port, "/services/EmpService/employee/1");
    assert_eq!(r.status, 500, "{}", r.text());
    let text = r.text();
    assert!(
        text.contains("CONNECTION_UNAVAILABLE_ERROR") || text.contains("DATABASE_ERROR"),
        "{text}"
    );

    db_server.restart().expect("restart");
    wait_for(
        "the service after the database is back",
        std::time::Duration::from_secs(60),
        || {
            let r = get(port, "/services/EmpService/employee/1");
            if r.status == 200 && r.text() == want {
                Ok(())
            } else {
                Err(format!("{} {}", r.status, r.text()))
            }
        },
    );
}

#[test]
fn postgres_serves_faults_while_down_and_recovers() {
    on_server(
        conflux_dataservices::db::testing::Kind::Postgres,
        "org.postgresql.Driver",
        "DOUBLE PRECISION",
    );
}

#[test]
fn mariadb_serves_faults_while_down_and_recovers() {
    on_server(
        conflux_dataservices::db::testing::Kind::MariaDb,
        "org.mariadb.jdbc.Driver",
        "DOUBLE",
    );
}
