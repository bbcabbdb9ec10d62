//! Where data services and data sources deploy from, through the real binary: a CApp with a
//! `service/dataservice` and a `datasource/datasource` (MI `DataServiceCappDeployer`,
//! `DataSourceCappDeployer`), a VS Code project's `data-services/` and `data-sources/`,
//! `deployment.toml` `[[datasource]]` used through `carbon_datasource_name`, `$SYSTEM:` and
//! secure-vault values; `/management/data-sources` (MI `DataSourceResource`); a hot redeploy that
//! keeps the pools of what did not change (in-memory SQLite databases live exactly as long as
//! their pool, so a row that survives proves the pool did) and gives a changed file a new one;
//! a data service named like a proxy service (MI refuses the second Axis2 service of one name);
//! and the deploy errors, each naming file:line:column.
//!
//! Every wait polls with a deadline ([`CHANGE_TIMEOUT`]); nothing asserts on timing.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::backend::request;
use support::capp::*;
use support::db::{sqlite_in_home, wait_for_get};
use support::*;

const DS_NS: &str = "http://ws.wso2.org/dataservice";

/// A shop database at `<home>/db/shop.db` with two items.
fn shop_db(home: &Path) {
    sqlite_in_home(
        home,
        "shop.db",
        &[
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
            "INSERT INTO items VALUES (1, 'pen'), (2, 'ink')",
        ],
    );
}

/// A `<datasource>` definition (the shape of MI's CarbonDataSourceTestCase.car) on `url`.
fn datasource_xml(name: &str, url: &str) -> String {
    format!(
        r#"<datasource xmlns:svns="http://org.wso2.securevault/configuration">
    <name>{name}</name>
    <description>the shop</description>
    <jndiConfig useDataSourceFactory="false"><name>jdbc/{name}</name></jndiConfig>
    <definition type="RDBMS">
        <configuration>
            <driverClassName>org.sqlite.JDBC</driverClassName>
            <url>{url}</url>
            <username>shop</username>
            <password>shop-secret</password>
            <maxActive>7</maxActive>
            <maxWait>4000</maxWait>
            <validationQuery>SELECT 1</validationQuery>
        </configuration>
    </definition>
</datasource>"#
    )
}

/// A data service `name` reading items through the data source `datasource`.
fn items_dbs(name: &str, datasource: &str) -> String {
    format!(
        r#"<data name="{name}" transports="http https">
   <config id="shop">
      <property name="carbon_datasource_name">{datasource}</property>
   </config>
   <query id="item" useConfig="shop">
      <sql>SELECT id, name FROM items WHERE id = :id</sql>
      <param name="id" sqlType="INTEGER"/>
      <result element="Items" rowName="Item">
         <element name="id" column="id" xsdType="xs:integer"/>
         <element name="name" column="name"/>
      </result>
   </query>
   <resource method="GET" path="item/{{id}}">
      <call-query href="item"><with-param name="id" query-param="id"/></call-query>
   </resource>
</data>"#
    )
}

/// A notes service on the `<config>` `config` (table created by `POST init`, rows added by
/// `POST note?id=&text=`, listed by `GET notes`).
fn notes_dbs(name: &str, config: &str) -> String {
    format!(
        r#"<data name="{name}" transports="http https">
   <config id="db">
      {config}
   </config>
   <query id="init" useConfig="db">
      <sql>CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT)</sql>
   </query>
   <query id="add" useConfig="db">
      <sql>INSERT INTO notes (id, text) VALUES (:id, :text)</sql>
      <param name="id" sqlType="INTEGER"/>
      <param name="text" sqlType="STRING"/>
   </query>
   <query id="all" useConfig="db">
      <sql>SELECT id, text FROM notes ORDER BY id</sql>
      <result element="Notes" rowName="Note">
         <element name="id" column="id" xsdType="xs:integer"/>
         <element name="text" column="text"/>
      </result>
   </query>
   <resource method="POST" path="init"><call-query href="init"/></resource>
   <resource method="POST" path="note">
      <call-query href="add">
         <with-param name="id" query-param="id"/>
         <with-param name="text" query-param="text"/>
      </call-query>
   </resource>
   <resource method="GET" path="notes"><call-query href="all"/></resource>
</data>"#
    )
}

fn notes(rows: &[(u32, &str)]) -> String {
    let body: String = rows
        .iter()
        .map(|(id, text)| format!("<Note><id>{id}</id><text>{text}</text></Note>"))
        .collect();
    if body.is_empty() {
        format!(r#"<Notes xmlns="{DS_NS}"/>"#)
    } else {
        format!(r#"<Notes xmlns="{DS_NS}">{body}</Notes>"#)
    }
}

/// `GET notes` of service `name` lists these rows.
fn assert_notes(port: u16, name: &str, rows: &[(u32, &str)]) {
    let r = get(port, &format!("/services/{name}/notes"));
    assert_eq!(r.text(), notes(rows), "{name}");
}

/// `POST init` then one note, on service `name`.
fn init_and_add(port: u16, name: &str, id: u32, text: &str) {
    let r = request("POST", port, &format!("/services/{name}/init"), &[], b"");
    assert_eq!(r.status, 202, "{name} init: {}", r.text());
    let r = request(
        "POST",
        port,
        &format!("/services/{name}/note?id={id}&text={text}"),
        &[],
        b"",
    );
    assert_eq!(r.status, 202, "{name} note: {}", r.text());
}

fn redeploys(server: &Server) -> usize {
    server.output().matches("Redeployed in ").count()
}

fn wait_for_redeploy(server: &Server, before: usize) {
    wait_for("a redeploy", CHANGE_TIMEOUT, || {
        if redeploys(server) > before {
            Ok(())
        } else {
            Err(server.output())
        }
    });
}

fn dataservices(home: &Home) -> PathBuf {
    home.path()
        .join("repository/deployment/server/dataservices")
}

/// A CApp with a data source and the data service that names it deploys as MI's CApp deployers
/// do; `/management/data-sources` lists it and describes it in MI's shape (password masked).
#[test]
fn a_capp_data_service_on_its_capp_data_source_serves_and_is_listed() {
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    shop_db(home.path());
    // A relative SQLite path is relative to the home (MI's working directory).
    let capp = CAppBuilder::new("ShopCApp")
        .artifact(
            "ShopDS",
            "datasource/datasource",
            "ShopDS-1.0.0.xml",
            datasource_xml("ShopDS", "jdbc:sqlite:db/shop.db").as_bytes(),
        )
        .artifact(
            "ShopService",
            "service/dataservice",
            "ShopService-1.0.0.dbs",
            items_dbs("ShopService", "ShopDS").as_bytes(),
        );
    capp.write_into(&carbonapps(home.path()));
    let server = start(&home);
    let port = server.port(HTTP);

    let r = get(port, "/services/ShopService/item/2");
    assert_eq!(r.status, 200, "{}\n{}", r.text(), server.output());
    assert_eq!(
        r.text(),
        format!(r#"<Items xmlns="{DS_NS}"><Item><id>2</id><name>ink</name></Item></Items>"#)
    );

    let management = Management::admin(server.port(INTERNAL_HTTPS));
    let apps = management.get_json("applications");
    assert_eq!(apps["activeCount"], 1, "{apps}");
    let list = management.get_json("data-sources");
    assert_eq!(
        list,
        serde_json::json!({"count": 1, "list": [{"name": "ShopDS", "type": "RDBMS"}]})
    );
    let detail = management.get_json("data-sources?name=ShopDS");
    assert_eq!(detail["name"], "ShopDS", "{detail}");
    assert_eq!(detail["description"], "the shop", "{detail}");
    assert_eq!(detail["type"], "RDBMS", "{detail}");
    assert_eq!(detail["driverClass"], "org.sqlite.JDBC", "{detail}");
    assert_eq!(detail["userName"], "shop", "{detail}");
    assert_eq!(detail["url"], "jdbc:sqlite:db/shop.db", "{detail}");
    let params = &detail["configurationParameters"];
    assert_eq!(params["maxActive"], 7, "{detail}");
    assert_eq!(params["maxWait"], 4000, "{detail}");
    assert_eq!(params["validationQuery"], "SELECT 1", "{detail}");
    assert_eq!(params["isDefaultReadOnly"], false, "{detail}");
    let configuration = detail["configuration"].as_str().expect("configuration");
    assert!(
        configuration.contains("<password>*****</password>"),
        "{configuration}"
    );
    assert!(!detail.to_string().contains("shop-secret"), "{detail}");
    // The pool has served one request: one connection open at most maxActive.
    assert_eq!(detail["connections"]["max"], 7, "{detail}");
    assert!(
        detail["connections"]["open"].as_u64().unwrap_or(0) >= 1,
        "{detail}"
    );

    let missing = management.call("GET", "data-sources?name=Nope", &[], b"");
    assert_eq!(missing.status, 404);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&missing.body).expect("json"),
        serde_json::json!({"Error": "datasource Nope does not exist"})
    );
    let searched = management.get_json("data-sources?searchKey=shop");
    assert_eq!(searched["count"], 1, "{searched}");
    let searched = management.get_json("data-sources?searchKey=zzz");
    assert_eq!(searched["count"], 0, "{searched}");
}

/// `[[datasource]]` in deployment.toml reached by `carbon_datasource_name`, a `.dbs` with its
/// own pool whose URL is a `$SYSTEM:` value; a redeploy for an unrelated change keeps both pools
/// (the in-memory rows survive), a changed `.dbs` gets a new pool (its rows are gone).
#[test]
fn hot_redeploy_keeps_the_pools_of_what_did_not_change() {
    let home = Home::new(
        "[server]\nhostname = \"localhost\"\n\n[[datasource]]\nid = \"MemDB\"\nurl = \"jdbc:sqlite::memory:\"\ndriver = \"org.sqlite.JDBC\"\npool_options.maxActive = 5\n",
    );
    home.write(
        "repository/deployment/server/dataservices/Shared.dbs",
        &notes_dbs(
            "Shared",
            r#"<property name="carbon_datasource_name">MemDB</property>"#,
        ),
    );
    let own = r#"<property name="driverClassName">org.sqlite.JDBC</property>
      <property name="url">$SYSTEM:own_url</property>"#;
    home.write(
        "repository/deployment/server/dataservices/Own.dbs",
        &notes_dbs("Own", own),
    );
    // `$SYSTEM:` values come from the environment (MI `SystemResolver`).
    let server = start_with_env(home.path(), &[], &[("own_url", "jdbc:sqlite::memory:")]);
    let port = server.port(HTTP);
    init_and_add(port, "Shared", 1, "kept");
    init_and_add(port, "Own", 7, "mine");
    assert_notes(port, "Shared", &[(1, "kept")]);

    // An unrelated change: both pools carry over.
    let before = redeploys(&server);
    home.write(
        &format!("{SYNAPSE}/api/Ping.xml"),
        &api(
            "Ping",
            "/ping",
            r#"<resource methods="GET"><inSequence><respond/></inSequence></resource>"#,
        ),
    );
    wait_for_redeploy(&server, before);
    assert_notes(port, "Shared", &[(1, "kept")]);
    assert_notes(port, "Own", &[(7, "mine")]);

    // Own.dbs changes (a comment only: the file is what counts, as MI redeploys a changed file):
    // a new pool, so a new (empty) in-memory database; Shared keeps MemDB.
    let before = redeploys(&server);
    home.write(
        "repository/deployment/server/dataservices/Own.dbs",
        &format!("<!-- v2 -->\n{}", notes_dbs("Own", own)),
    );
    wait_for_redeploy(&server, before);
    // On a new pool: the table is not there.
    wait_for_get(CHANGE_TIMEOUT, port, "/services/Own/notes", |r| {
        r.status == 500 && r.text().contains("notes")
    });
    init_and_add(port, "Own", 8, "fresh");
    assert_notes(port, "Own", &[(8, "fresh")]);
    assert_notes(port, "Shared", &[(1, "kept")]);

    // Removing the file undeploys the service.
    let before = redeploys(&server);
    std::fs::remove_file(dataservices(&home).join("Own.dbs")).expect("remove");
    wait_for_redeploy(&server, before);
    // Undeployed.
    wait_for_get(CHANGE_TIMEOUT, port, "/services/Own/notes", |r| {
        r.status != 200 && r.status != 500
    });
}

/// A VS Code MI project deploys its `data-sources/*.xml` and `data-services/*.dbs`.
#[test]
fn a_project_deploys_its_data_sources_and_data_services() {
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    shop_db(home.path());
    let project = tempfile::tempdir().expect("project dir");
    let artifacts = project.path().join("src/main/wso2mi/artifacts");
    for (rel, text) in [
        (
            "data-sources/ShopDS.xml",
            datasource_xml(
                "ShopDS",
                &format!("jdbc:sqlite:{}", home.path().join("db/shop.db").display()),
            ),
        ),
        (
            "data-services/ProjectShop.dbs",
            items_dbs("ProjectShop", "ShopDS"),
        ),
    ] {
        let path = artifacts.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    std::fs::create_dir_all(artifacts.join("apis")).expect("apis");
    let project_arg = project.path().to_str().expect("utf-8");
    let (code, stdout, stderr) = run(&[
        "check",
        "--home",
        home.path().to_str().expect("utf-8"),
        "--project",
        project_arg,
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("data services: 1 OK"), "{stdout}");

    let server = Server::start(home.path(), free_offset(), &["--project", project_arg]);
    let r = get(server.port(HTTP), "/services/ProjectShop/item/1");
    assert_eq!(r.status, 200, "{}\n{}", r.text(), server.output());
    assert_eq!(
        r.text(),
        format!(r#"<Items xmlns="{DS_NS}"><Item><id>1</id><name>pen</name></Item></Items>"#)
    );
}

/// `conflux check` on a home whose data services and data sources are wrong in every way this
/// task checks: each error names its file:line:column, what was found and what is valid.
#[test]
fn deploy_errors_name_the_file_line_and_what_is_valid() {
    let home = Home::new(
        "[server]\nhostname = \"localhost\"\n\n[[datasource]]\nid = \"Bad\"\nurl = \"jdbc:sqlite::memory:\"\npool_options.maxActive = \"lots\"\n\n[[datasource]]\nid = \"Ora\"\nurl = \"jdbc:oracle:thin:@db:1521:orcl\"\n",
    );
    // A data source on a database Conflux has no driver for is only a warning, until a data
    // service uses it.
    home.write(
        "repository/deployment/server/dataservices/UsesOra.dbs",
        &items_dbs("UsesOra", "Ora"),
    );
    // A data service named like a proxy service.
    home.write(
        &format!("{SYNAPSE}/proxy-services/Twin.xml"),
        r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="Twin" transports="http"><target><inSequence><respond/></inSequence></target></proxy>"#,
    );
    home.write(
        "repository/deployment/server/dataservices/Twin.dbs",
        &notes_dbs("Twin", r#"<property name="driverClassName">org.sqlite.JDBC</property><property name="url">jdbc:sqlite::memory:</property>"#),
    );
    // A data source that is not defined.
    home.write(
        "repository/deployment/server/dataservices/Orphan.dbs",
        &items_dbs("Orphan", "NoSuchDS"),
    );
    // Two services of one name (files deploy in name order: Again.dbs first).
    let memory = r#"<property name="driverClassName">org.sqlite.JDBC</property><property name="url">jdbc:sqlite::memory:</property>"#;
    home.write(
        "repository/deployment/server/dataservices/Good.dbs",
        &notes_dbs("Good", memory),
    );
    home.write(
        "repository/deployment/server/dataservices/Again.dbs",
        &notes_dbs("Good", memory),
    );
    // A secret alias the vault does not have.
    home.write(
        "repository/deployment/server/dataservices/Vaulted.dbs",
        &notes_dbs(
            "Vaulted",
            r#"<property name="driverClassName">org.sqlite.JDBC</property>
      <property name="url">jdbc:sqlite::memory:</property>
      <property name="password">{wso2:vault-lookup('db.pw')}</property>"#,
        ),
    );
    let out = check_home(home.path(), Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    let toml = home.path().join("conf/deployment.toml");
    let line_of = |needle: &str| {
        stderr
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no error with {needle:?} in:\n{stderr}"))
            .to_string()
    };
    let bad = line_of("[[datasource]] Bad");
    assert!(bad.contains("maxActive") && bad.contains("lots"), "{bad}");
    assert!(bad.contains("expected an integer"), "{bad}");
    assert!(bad.contains(&format!("{}:7:26", toml.display())), "{bad}");
    let twin = line_of("data service Twin");
    assert!(twin.contains("proxy-services/Twin.xml:1:1"), "{twin}");
    assert!(twin.contains("dataservices/Twin.dbs:1:1"), "{twin}");
    let orphan = line_of("NoSuchDS");
    assert!(orphan.contains("dataservices/Orphan.dbs:3:"), "{orphan}");
    assert!(orphan.contains("defined: none"), "{orphan}");
    let again = line_of("data service Good is deployed already");
    assert!(
        again.contains("from dataservices/Again.dbs:1:1")
            && again.ends_with("at dataservices/Good.dbs:1:1"),
        "{again}"
    );
    let ora = line_of("warning: [[datasource]] Ora");
    assert!(ora.starts_with("warning: "), "{ora}");
    assert!(
        ora.contains("jdbc:oracle:thin:@db:1521:orcl") && ora.contains("not opened"),
        "{ora}"
    );
    assert!(ora.contains(&format!("{}:11:7", toml.display())), "{ora}");
    let uses = line_of("data service UsesOra");
    assert!(uses.starts_with("error: "), "{uses}");
    assert!(
        uses.contains("uses data source 'Ora', which cannot be opened"),
        "{uses}"
    );
    assert!(uses.contains("dataservices/UsesOra.dbs:2:4"), "{uses}");
    let vaulted = line_of("secret alias 'db.pw'");
    assert!(
        vaulted.contains("dataservices/Vaulted.dbs:5:7"),
        "{vaulted}"
    );
}

/// A CApp whose data source MI would open on H2 is faulty here, naming the URL; the server
/// lists it as faulty and the rest serves (MI's own CarbonDataSourceTestCase.car).
#[test]
fn corpus_capp_on_h2_is_faulty_naming_the_url() {
    let car = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/car/CarbonDataSourceTestCase.car");
    if !car.exists() {
        println!("skipped: no CApp corpus at {}", car.display());
        return;
    }
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    let (code, _stdout, stderr) = run(&[
        "check",
        "--home",
        home.path().to_str().expect("utf-8"),
        car.to_str().expect("utf-8"),
    ]);
    assert_ne!(code, 0, "{stderr}");
    assert!(
        stderr.contains("jdbc:h2:file:./../../h2DataBase/testdb_for_DSS"),
        "{stderr}"
    );
    assert!(stderr.contains("datasource-1.0.0.xml"), "{stderr}");
    assert!(
        stderr.contains("testCompositeApplication") || stderr.contains("CarbonDataSourceTestCase"),
        "{stderr}"
    );
}

/// A `.dbs` password from the secure vault (`{wso2:vault-lookup('alias')}`, MI
/// `DBDeployer.secureVaultResolve`) deploys when `[secrets]` has the alias (ciphertext made by
/// Java's cipher tool, the config crate's fixture), and the plain text is never shown.
#[test]
fn a_vault_lookup_password_resolves_from_secrets() {
    let fixture = |name: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../config/tests/fixtures/vault")
            .join(name)
    };
    let ciphertext = std::fs::read_to_string(fixture("java-ciphertext.txt"))
        .expect("fixture")
        .lines()
        .next()
        .expect("line 0")
        .to_string();
    let home = Home::new(&format!(
        "[server]\nhostname = \"localhost\"\n[keystore.primary]\nfile_name = \"repository/resources/security/wso2carbon.jks\"\npassword = \"wso2carbon\"\nalias = \"wso2carbon\"\nkey_password = \"wso2carbon\"\n\n[secrets]\ndbpw = \"{ciphertext}\"\n"
    ));
    let keystore = home
        .path()
        .join("repository/resources/security/wso2carbon.jks");
    std::fs::create_dir_all(keystore.parent().expect("parent")).expect("mkdir");
    std::fs::copy(fixture("wso2carbon.jks"), &keystore).expect("keystore");
    home.write(
        "repository/deployment/server/dataservices/Vaulted.dbs",
        &notes_dbs(
            "Vaulted",
            r#"<property name="driverClassName">org.sqlite.JDBC</property>
      <property name="url">jdbc:sqlite::memory:</property>
      <property name="password">{wso2:vault-lookup('dbpw')}</property>"#,
        ),
    );
    let server = start(&home);
    let port = server.port(HTTP);
    init_and_add(port, "Vaulted", 1, "sealed");
    assert_notes(port, "Vaulted", &[(1, "sealed")]);
    let management = Management::admin(server.port(INTERNAL_HTTPS));
    let detail = management.get_json("data-services?dataServiceName=Vaulted");
    assert!(!detail.to_string().contains("admin"), "{detail}");
    assert!(!server.output().contains(" ERROR "), "{}", server.output());
}

/// A CApp whose `.dbs` does not parse is faulty as a whole (MI `CappDeployer` reverts a CApp
/// with a failing artifact), and the error names the file inside the CApp with line and column.
#[test]
fn a_broken_capp_data_service_makes_its_capp_faulty_naming_the_file() {
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    let capp = CAppBuilder::new("BrokenData")
        .artifact(
            "BrokenSvc",
            "service/dataservice",
            "BrokenSvc-1.0.0.dbs",
            b"<data name=\"BrokenSvc\">\n  <query id=\"q\"><sql>SELECT 1</sql></query>\n  <nonsense/>\n</data>",
        )
        .api(
            "DataApi",
            &api(
                "DataApi",
                "/data",
                r#"<resource methods="GET"><inSequence><respond/></inSequence></resource>"#,
            ),
        );
    let car = capp.write_into(home.path());
    let (code, _stdout, stderr) = run(&[
        "check",
        "--home",
        home.path().to_str().expect("utf-8"),
        car.to_str().expect("utf-8"),
    ]);
    assert_ne!(code, 0, "{stderr}");
    assert!(
        stderr.contains("BrokenData_1.0.0.car!/BrokenSvc_1.0.0/BrokenSvc-1.0.0.dbs:3:3"),
        "{stderr}"
    );
    assert!(
        stderr.contains("is faulty and none of its artifacts deployed"),
        "{stderr}"
    );
}
