//! The `dblookup`, `dbreport` and `dataServiceCall` mediators through the real binary, on
//! SQLite, PostgreSQL and MariaDB (private servers from `conflux_dataservices::db::testing`,
//! skipped with a message when the Debian packages are missing). One API per database:
//! dblookup into properties then payloadFactory (SYN `DBLookupMediator`), dbreport inserts with
//! JSON-path parameters and `DBREPORT_MODIFIED_RAW_COUNT` (SYN `DBReportMediator`), SQL injection
//! attempts that read and change nothing, a failing statement that reaches the fault sequence
//! with MI's `ERROR_MESSAGE`, `useTransaction` rolled back, and `dataServiceCall` (MI
//! `DataServiceCallMediator`) single and batch, with body and property targets.

mod support;

use conflux_dataservices::db::testing::Kind;
use support::backend::{post_json, request};
use support::db::{Backend, sqlite_in_home};
use support::*;

/// The data service the mediator calls (operations, batch requests on).
const STAFF_DBS: &str = r#"<data name="Staff" enableBatchRequests="true" enableBoxcarring="true" disableLegacyBoxcarringMode="true">
   <config id="db">
      <property name="driverClassName">DRIVER</property>
      <property name="url">URL</property>
   </config>
   <query id="getEmployee" useConfig="db">
      <sql>SELECT id, name FROM employees WHERE id = :id</sql>
      <param name="id" sqlType="INTEGER"/>
      <result element="Employees" rowName="Employee">
         <element name="id" column="id" xsdType="xs:integer"/>
         <element name="name" column="name"/>
      </result>
   </query>
   <query id="addEmployee" useConfig="db">
      <sql>INSERT INTO employees (id, name, salary) VALUES (:id, :name, :salary)</sql>
      <param name="id" sqlType="INTEGER"/>
      <param name="name" sqlType="STRING"/>
      <param name="salary" sqlType="DOUBLE"/>
   </query>
   <operation name="getEmployee">
      <call-query href="getEmployee"><with-param name="id" query-param="id"/></call-query>
   </operation>
   <operation name="addEmployee">
      <call-query href="addEmployee">
         <with-param name="id" query-param="id"/>
         <with-param name="name" query-param="name"/>
         <with-param name="salary" query-param="salary"/>
      </call-query>
   </operation>
</data>"#;

/// The fault sequence of [`DB_API`]'s resources (its `FAULT`): `{"error": ERROR_MESSAGE}`, 500.
const JSON_FAULT: &str = r#"<faultSequence>
    <payloadFactory media-type="json">
      <format>{"error":"$1"}</format>
      <args><arg expression="get-property('ERROR_MESSAGE')"/></args>
    </payloadFactory>
    <property name="HTTP_SC" value="500" scope="axis2"/>
    <respond/>
  </faultSequence>"#;

/// The API: `POOL` is replaced by the `<connection>` of the database under test, `FAULT` by
/// [`JSON_FAULT`].
const DB_API: &str = r#"
<resource methods="GET" uri-template="/lookup/{id}">
  <inSequence>
    <dblookup>
      POOL
      <statement>
        <sql>SELECT name, salary FROM employees WHERE id = ?</sql>
        <parameter expression="get-property('uri.var.id')" type="INTEGER"/>
        <result name="emp_name" column="name"/>
        <result name="emp_salary" column="2"/>
      </statement>
    </dblookup>
    <payloadFactory media-type="xml">
      <format><emp xmlns=""><name>$1</name><salary>$2</salary></emp></format>
      <args>
        <arg expression="get-property('emp_name')"/>
        <arg expression="get-property('emp_salary')"/>
      </args>
    </payloadFactory>
    <respond/>
  </inSequence>
</resource>
<resource methods="GET" uri-template="/byname?name={name}">
  <inSequence>
    <property name="found" value="none"/>
    <dblookup>
      POOL
      <statement>
        <sql>SELECT count(*) AS n FROM employees WHERE name = ?</sql>
        <parameter expression="$url:name" type="VARCHAR"/>
        <result name="found" column="n"/>
      </statement>
    </dblookup>
    <payloadFactory media-type="xml">
      <format><found xmlns="">$1</found></format>
      <args><arg expression="get-property('found')"/></args>
    </payloadFactory>
    <respond/>
  </inSequence>
</resource>
<resource methods="POST" uri-template="/employees">
  <inSequence>
    <dbreport>
      POOL
      <statement>
        <sql>INSERT INTO employees (id, name, salary) VALUES (?, ?, ?)</sql>
        <parameter expression="json-eval($.id)" type="INTEGER"/>
        <parameter expression="json-eval($.name)" type="VARCHAR"/>
        <parameter expression="json-eval($.salary)" type="DOUBLE"/>
      </statement>
    </dbreport>
    <payloadFactory media-type="json">
      <format>{"inserted":$1}</format>
      <args><arg expression="get-property('DBREPORT_MODIFIED_RAW_COUNT')"/></args>
    </payloadFactory>
    <respond/>
  </inSequence>
  FAULT
</resource>
<resource methods="DELETE" uri-template="/employees?name={name}">
  <inSequence>
    <dbreport>
      POOL
      <statement>
        <sql>DELETE FROM employees WHERE name = ?</sql>
        <parameter expression="$url:name" type="VARCHAR"/>
      </statement>
    </dbreport>
    <payloadFactory media-type="json">
      <format>{"deleted":$1}</format>
      <args><arg expression="get-property('DBREPORT_MODIFIED_RAW_COUNT')"/></args>
    </payloadFactory>
    <respond/>
  </inSequence>
</resource>
<resource methods="POST" uri-template="/pair">
  <inSequence>
    <dbreport useTransaction="true">
      POOL
      <statement>
        <sql>INSERT INTO employees (id, name) VALUES (?, ?)</sql>
        <parameter expression="json-eval($.id)" type="INTEGER"/>
        <parameter value="first" type="VARCHAR"/>
      </statement>
      <statement>
        <sql>INSERT INTO employees (id, name) VALUES (?, ?)</sql>
        <parameter expression="json-eval($.second)" type="INTEGER"/>
        <parameter value="second" type="VARCHAR"/>
      </statement>
    </dbreport>
    <payloadFactory media-type="json">
      <format>{"ok":true}</format>
      <args/>
    </payloadFactory>
    <respond/>
  </inSequence>
  <faultSequence>
    <payloadFactory media-type="json">
      <format>{"rolledBack":true}</format>
      <args/>
    </payloadFactory>
    <property name="HTTP_SC" value="500" scope="axis2"/>
    <respond/>
  </faultSequence>
</resource>
<resource methods="GET" uri-template="/dss/{id}">
  <inSequence>
    <dataServiceCall serviceName="Staff">
      <source type="inline"/>
      <operations type="single">
        <operation name="getEmployee">
          <param name="id" expression="get-property('uri.var.id')"/>
        </operation>
      </operations>
      <target type="body"/>
    </dataServiceCall>
    <respond/>
  </inSequence>
</resource>
<resource methods="POST" uri-template="/dss-batch">
  <inSequence>
    <property name="written" value="unset"/>
    <property name="target" value="employee"/>
    <dataServiceCall serviceName="Staff">
      <source type="inline"/>
      <operations type="batch">
        <operation name="addEmployee">
          <param name="id" expression="json-eval($.first)"/>
          <param name="name" value="Dee"/>
          <param name="salary" value="10.5"/>
        </operation>
        <operation name="addEmployee">
          <param name="id" expression="json-eval($.second)"/>
          <param name="name" value="Eve"/>
          <param name="salary" value="20"/>
        </operation>
      </operations>
      <target type="property" name="written"/>
    </dataServiceCall>
    <dataServiceCall serviceName="Staff">
      <source type="inline"/>
      <operations type="single">
        <operation name="getEmployee">
          <param name="id" expression="json-eval($.second)"/>
        </operation>
      </operations>
      <target type="property" name="{get-property('target')}"/>
    </dataServiceCall>
    <payloadFactory media-type="xml">
      <format><batch xmlns=""><written>$1</written><emp>$2</emp></batch></format>
      <args>
        <arg expression="boolean(get-property('written'))"/>
        <arg expression="get-property('employee')"/>
      </args>
    </payloadFactory>
    <respond/>
  </inSequence>
  FAULT
</resource>
<resource methods="GET" uri-template="/dss-missing">
  <inSequence>
    <dataServiceCall serviceName="Nope">
      <source type="inline"/>
      <operations type="single"><operation name="getEmployee"/></operations>
    </dataServiceCall>
    <respond/>
  </inSequence>
  FAULT
</resource>
<resource methods="POST" uri-template="/dss-box">
  <inSequence>
    <dataServiceCall serviceName="Staff">
      <source type="inline"/>
      <operations type="request-box">
        <operation name="addEmployee">
          <param name="id" expression="json-eval($.id)"/>
          <param name="name" value="Fay &amp; Co"/>
          <param name="salary" value="1"/>
        </operation>
        <operation name="getEmployee">
          <param name="id" expression="json-eval($.id)"/>
        </operation>
      </operations>
    </dataServiceCall>
    <respond/>
  </inSequence>
</resource>
<resource methods="POST" uri-template="/dss-body">
  <inSequence>
    <dataServiceCall serviceName="Staff">
      <source type="body"/>
      <target type="body"/>
    </dataServiceCall>
    <respond/>
  </inSequence>
</resource>
"#;

/// The statements that create `employees` with two rows (dropping an older one: the servers are
/// shared).
fn table(double: &str) -> [String; 3] {
    [
        "DROP TABLE IF EXISTS employees".to_string(),
        format!(
            "CREATE TABLE employees (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, salary {double})"
        ),
        "INSERT INTO employees VALUES (1, 'Ann', 1500.5), (2, 'Bob', NULL)".to_string(),
    ]
}

/// `r` is `status` with exactly `body` (the server's output is shown when not).
fn assert_answer(r: &HttpResponse, status: u16, body: &str, server: &Server) {
    assert_eq!(
        (r.status, r.text().as_str()),
        (status, body),
        "{}",
        server.output()
    );
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;")
}

fn scenario(db: Backend) {
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    std::fs::create_dir_all(home.path().join("db")).expect("db dir");
    let (url, _) = db.urls(&home, "staff.db", false);
    let driver = db.driver();
    support::db::execute(&url, &table(db.double()));
    let pool = format!(
        "<connection><pool><driver>{driver}</driver><url>{}</url><user></user><password></password>\
         <property name=\"maxactive\" value=\"4\"/><property name=\"maxwait\" value=\"10000\"/></pool></connection>",
        escape(&url)
    );
    home.write(
        &format!("{SYNAPSE}/api/Db.xml"),
        &api(
            "Db",
            "/db",
            &DB_API.replace("POOL", &pool).replace("FAULT", JSON_FAULT),
        ),
    );
    home.write(
        "repository/deployment/server/dataservices/Staff.dbs",
        &STAFF_DBS
            .replace("URL", &escape(&url))
            .replace("DRIVER", driver),
    );
    let server = start(&home);
    let port = server.port(HTTP);

    // dblookup into properties (by name and by column number), then payloadFactory.
    let r = get(port, "/db/lookup/1");
    assert_eq!(
        (r.status, r.text()),
        (
            200,
            "<emp><name>Ann</name><salary>1500.5</salary></emp>".to_string()
        ),
        "{}",
        server.output()
    );
    // A NULL column sets nothing: get-property gives "".
    let r = get(port, "/db/lookup/2");
    assert_eq!(r.text(), "<emp><name>Bob</name><salary/></emp>");
    // No row sets nothing either.
    let r = get(port, "/db/lookup/99");
    assert_eq!(r.text(), "<emp><name/><salary/></emp>");

    // dbreport: JSON-path parameters, the update count as a property.
    let r = post_json(
        port,
        "/db/employees",
        r#"{"id":3,"name":"Cy","salary":900.25}"#,
    );
    assert_answer(&r, 200, r#"{"inserted":1}"#, &server);
    assert_eq!(
        get(port, "/db/lookup/3").text(),
        "<emp><name>Cy</name><salary>900.25</salary></emp>"
    );

    // Injection attempts: bound as text, they match nothing and change nothing.
    let r = get(port, "/db/byname?name=x%27%20OR%20%271%27%3D%271");
    assert_eq!(r.text(), "<found>0</found>");
    let r = request(
        "DELETE",
        port,
        "/db/employees?name=x%27%20OR%20%271%27%3D%271",
        &[],
        b"",
    );
    assert_answer(&r, 200, r#"{"deleted":0}"#, &server);
    let r = post_json(
        port,
        "/db/employees",
        r#"{"id":4,"name":"Z'); DROP TABLE employees; --","salary":1}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        get(port, "/db/lookup/4").text(),
        "<emp><name>Z'); DROP TABLE employees; --</name><salary>1.0</salary></emp>"
    );
    let r = request(
        "DELETE",
        port,
        "/db/employees?name=Z%27%29%3B%20DROP%20TABLE%20employees%3B%20--",
        &[],
        b"",
    );
    assert_eq!(r.text(), r#"{"deleted":1}"#);
    assert_eq!(get(port, "/db/byname?name=Ann").text(), "<found>1</found>");

    // A failing statement (duplicate key) reaches the fault sequence with MI's message.
    let r = post_json(port, "/db/employees", r#"{"id":1,"name":"Dup","salary":1}"#);
    assert_eq!(r.status, 500);
    assert!(
        r.text().starts_with(
            r#"{"error":"SQL Error while executing insert statement : INSERT INTO employees (id, name, salary) VALUES (?, ?, ?) against DataSource : jdbc:"#
        ),
        "{}",
        r.text()
    );

    // useTransaction: the second insert fails (duplicate of the first), the first is rolled back.
    let r = post_json(port, "/db/pair", r#"{"id":10,"second":10}"#);
    assert_eq!(
        (r.status, r.text()),
        (500, r#"{"rolledBack":true}"#.to_string())
    );
    assert_eq!(
        get(port, "/db/lookup/10").text(),
        "<emp><name/><salary/></emp>"
    );
    let r = post_json(port, "/db/pair", r#"{"id":10,"second":11}"#);
    assert_answer(&r, 200, r#"{"ok":true}"#, &server);
    assert_eq!(
        get(port, "/db/lookup/11").text(),
        "<emp><name>second</name><salary/></emp>"
    );

    // dataServiceCall single, target body: the data service's result is the message.
    let r = get(port, "/db/dss/1");
    assert_answer(
        &r,
        200,
        r#"<Employees xmlns="http://ws.wso2.org/dataservice"><Employee><id>1</id><name>Ann</name></Employee></Employees>"#,
        &server,
    );

    // dataServiceCall batch (a write: no result, the property is removed), then single into a
    // property named by an expression.
    let r = request(
        "POST",
        port,
        "/db/dss-batch",
        &[("Content-Type", "application/json")],
        br#"{"first":20,"second":21}"#,
    );
    assert_answer(
        &r,
        200,
        r#"<batch><written>false</written><emp><Employees xmlns="http://ws.wso2.org/dataservice"><Employee><id>21</id><name>Eve</name></Employee></Employees></emp></batch>"#,
        &server,
    );
    assert_eq!(
        get(port, "/db/lookup/20").text(),
        "<emp><name>Dee</name><salary>10.5</salary></emp>"
    );
    assert_eq!(
        get(port, "/db/lookup/21").text(),
        "<emp><name>Eve</name><salary>20.0</salary></emp>"
    );

    // A batch is one transaction in the data service: a duplicate key rolls back the whole
    // batch, and the data service's fault is a mediation fault with MI's message.
    let r = request(
        "POST",
        port,
        "/db/dss-batch",
        &[("Content-Type", "application/json")],
        br#"{"first":30,"second":21}"#,
    );
    assert_answer(
        &r,
        500,
        r#"{"error":"DataService exception occurred while accessing the dataservice to do the operation"}"#,
        &server,
    );
    assert_eq!(
        get(port, "/db/lookup/30").text(),
        "<emp><name/><salary/></emp>"
    );
    let r = get(port, "/db/dss-missing");
    assert_answer(
        &r,
        500,
        r#"{"error":"The data service,  named 'Nope' does not exist. "}"#,
        &server,
    );

    // request-box: both operations in one transaction, the last one's result in MI's wrapper;
    // the message is JSON, so the XML result goes back as JSON (MI's XML-to-JSON).
    let r = post_json(port, "/db/dss-box", r#"{"id":40}"#);
    assert_answer(
        &r,
        200,
        r#"{"DATA_SERVICE_REQUEST_BOX_RESPONSE":{"Employees":{"Employee":{"id":40,"name":"Fay & Co"}}}}"#,
        &server,
    );

    // dataServiceCall with the body as the source: the body's element names the operation.
    let r = request(
        "POST",
        port,
        "/db/dss-body",
        &[("Content-Type", "application/xml")],
        b"<getEmployee><id>21</id></getEmployee>",
    );
    assert_answer(
        &r,
        200,
        r#"<Employees xmlns="http://ws.wso2.org/dataservice"><Employee><id>21</id><name>Eve</name></Employee></Employees>"#,
        &server,
    );
}

#[test]
fn sqlite_db_mediators() {
    scenario(Backend::Sqlite);
}

#[test]
fn postgres_db_mediators() {
    if let Some(backend) = Backend::shared(Kind::Postgres) {
        scenario(backend);
    }
}

#[test]
fn mariadb_db_mediators() {
    if let Some(backend) = Backend::shared(Kind::MariaDb) {
        scenario(backend);
    }
}

// `<dsName>` names a `[[datasource]]` of deployment.toml, by its id or MI's JNDI name
// `jdbc/<id>` (MI renders `[[datasource]]` into master-datasources.xml with that JNDI name); an
// unknown name is the mediator's fault, not a crash.
#[test]
fn ds_name_uses_a_configured_data_source() {
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    sqlite_in_home(home.path(), "named.db", &table("REAL"));
    std::fs::write(
        home.path().join("conf/deployment.toml"),
        "[server]\nhostname = \"localhost\"\n\n[[datasource]]\nid = \"StaffDB\"\nurl = \"jdbc:sqlite:db/named.db\"\ndriver = \"org.sqlite.JDBC\"\n",
    )
    .expect("deployment.toml");
    let lookup = |ds: &str| {
        format!(
            r#"<dblookup><connection><pool><dsName>{ds}</dsName></pool></connection>
      <statement><sql>SELECT name FROM employees WHERE id = ?</sql>
        <parameter expression="get-property('uri.var.id')" type="INTEGER"/>
        <result name="emp_name" column="name"/></statement></dblookup>"#
        )
    };
    home.write(
        &format!("{SYNAPSE}/api/Named.xml"),
        &api(
            "Named",
            "/named",
            &format!(
                r#"<resource methods="GET" uri-template="/{{which}}/{{id}}"><inSequence>
    <switch source="get-property('uri.var.which')">
      <case regex="id">{}</case>
      <case regex="jndi">{}</case>
      <default>{}</default>
    </switch>
    <payloadFactory media-type="text"><format>$1</format>
      <args><arg evaluator="xml" expression="get-property('emp_name')"/></args></payloadFactory>
    <respond/>
  </inSequence>
  <faultSequence>
    <payloadFactory media-type="text"><format>fault: $1</format>
      <args><arg evaluator="xml" expression="get-property('ERROR_MESSAGE')"/></args></payloadFactory>
    <property name="HTTP_SC" scope="axis2" value="500"/>
    <respond/>
  </faultSequence></resource>"#,
                lookup("StaffDB"),
                lookup("jdbc/StaffDB"),
                lookup("Nowhere"),
            ),
        ),
    );
    let server = start(&home);
    let port = server.port(HTTP);
    let get = |path: &str| request("GET", port, path, &[], b"");
    let r = get("/named/id/1");
    assert_eq!(
        (r.status, r.text()),
        (200, "Ann".to_string()),
        "{}",
        server.output()
    );
    let r = get("/named/jndi/1");
    assert_answer(&r, 200, "Ann", &server);
    let r = get("/named/other/1");
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(r.text().starts_with("fault: "), "{}", r.text());
}
