//! dblookup / dbreport on SQLite: parameter conversion as AbstractDBMediator binds, first-row
//! lookup into properties, update counts, transactions and MI's fault messages.

use super::*;
use crate::runtime::context::test_context;
use http::Method;

type Ctx = MessageContext<http_body_util::Full<bytes::Bytes>>;

fn mediator(xml: &str) -> DbMediator {
    let seq =
        format!("<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"S\">{xml}</sequence>");
    let art = conflux_artifacts::artifact::parse_artifact("sequences/S.xml", &seq).unwrap();
    let conflux_artifacts::Artifact::Sequence(s) = art else {
        panic!("not a sequence")
    };
    let conflux_artifacts::Mediator::Db(d) = &s.mediators[0] else {
        panic!("not a db mediator")
    };
    compile(d).map_err(|(_, e)| e).unwrap()
}

fn pool(path: &std::path::Path) -> String {
    format!(
        "<connection><pool><driver>org.sqlite.JDBC</driver><url>jdbc:sqlite:{}</url>\
         <user>u</user><password>p</password></pool></connection>",
        path.display()
    )
}

async fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let m = mediator(&format!(
        "<dbreport>{}<statement><sql>CREATE TABLE emp (id INTEGER PRIMARY KEY, name TEXT, salary REAL, note TEXT)</sql></statement>\
         <statement><sql>INSERT INTO emp VALUES (1, 'ann', 1500, NULL), (2, 'bob', 20.5, 'x')</sql></statement></dbreport>",
        pool(&path)
    ));
    let mut ctx = test_context(Method::GET, "/a");
    m.run(&mut ctx, &Default::default()).await.unwrap();
    (dir, path)
}

fn prop(ctx: &Ctx, name: &str) -> Option<String> {
    ctx.get(Scope::Default, name)
}

#[tokio::test]
async fn dblookup_sets_properties_from_the_first_row_by_name_and_number() {
    let (_dir, path) = setup().await;
    let m = mediator(&format!(
        "<dblookup>{}<statement><sql>SELECT name, salary, note FROM emp WHERE id &gt;= ? ORDER BY id</sql>\
         <parameter value=\"1\" type=\"INTEGER\"/>\
         <result name=\"n\" column=\"name\"/><result name=\"s\" column=\"2\"/><result name=\"note\" column=\"NOTE\"/></statement></dblookup>",
        pool(&path)
    ));
    let mut ctx = test_context(Method::GET, "/a");
    ctx.set(Scope::Default, "note", "kept".into()).unwrap();
    m.run(&mut ctx, &Default::default()).await.unwrap();
    assert_eq!(prop(&ctx, "n").as_deref(), Some("ann"));
    // Double.toString of 1500.0.
    assert_eq!(prop(&ctx, "s").as_deref(), Some("1500.0"));
    // A NULL column leaves the property as it was (DBLookupMediator skips it).
    assert_eq!(prop(&ctx, "note").as_deref(), Some("kept"));
}

#[tokio::test]
async fn dblookup_without_rows_sets_nothing() {
    let (_dir, path) = setup().await;
    let m = mediator(&format!(
        "<dblookup>{}<statement><sql>SELECT name FROM emp WHERE id = ?</sql>\
         <parameter value=\"99\" type=\"INTEGER\"/><result name=\"n\" column=\"name\"/></statement></dblookup>",
        pool(&path)
    ));
    let mut ctx = test_context(Method::GET, "/a");
    m.run(&mut ctx, &Default::default()).await.unwrap();
    assert_eq!(prop(&ctx, "n"), None);
}

#[tokio::test]
async fn injected_text_is_bound_not_spliced() {
    let (_dir, path) = setup().await;
    let m = mediator(&format!(
        "<dblookup>{}<statement><sql>SELECT count(*) AS c FROM emp WHERE name = ?</sql>\
         <parameter expression=\"get-property('who')\" type=\"VARCHAR\"/><result name=\"c\" column=\"c\"/></statement></dblookup>",
        pool(&path)
    ));
    let mut ctx = test_context(Method::GET, "/a");
    ctx.set(Scope::Default, "who", "x' OR '1'='1".into())
        .unwrap();
    m.run(&mut ctx, &Default::default()).await.unwrap();
    assert_eq!(prop(&ctx, "c").as_deref(), Some("0"));
}

#[tokio::test]
async fn dbreport_sets_the_modified_row_count() {
    let (_dir, path) = setup().await;
    let m = mediator(&format!(
        "<dbreport>{}<statement><sql>UPDATE emp SET note = ? WHERE id &lt; ?</sql>\
         <parameter value=\"y\" type=\"VARCHAR\"/><parameter value=\"10\" type=\"BIGINT\"/></statement></dbreport>",
        pool(&path)
    ));
    let mut ctx = test_context(Method::GET, "/a");
    m.run(&mut ctx, &Default::default()).await.unwrap();
    assert_eq!(
        prop(&ctx, DBREPORT_MODIFIED_ROW_COUNT).as_deref(),
        Some("2")
    );
}

#[tokio::test]
async fn sql_failure_is_mi_s_message_and_use_transaction_rolls_back() {
    let (_dir, path) = setup().await;
    let m = mediator(&format!(
        "<dbreport useTransaction=\"true\">{}<statement><sql>INSERT INTO emp (id, name) VALUES (3, 'cy')</sql></statement>\
         <statement><sql>INSERT INTO nowhere VALUES (1)</sql></statement></dbreport>",
        pool(&path)
    ));
    let mut ctx = test_context(Method::GET, "/a");
    let err = m.run(&mut ctx, &Default::default()).await.unwrap_err();
    assert!(
        err.starts_with(
            "SQL Error while executing insert statement : INSERT INTO nowhere VALUES (1) against DataSource : jdbc:sqlite:"
        ),
        "{err}"
    );
    let count = mediator(&format!(
        "<dblookup>{}<statement><sql>SELECT count(*) AS c FROM emp</sql><result name=\"c\" column=\"1\"/></statement></dblookup>",
        pool(&path)
    ));
    count.run(&mut ctx, &Default::default()).await.unwrap();
    assert_eq!(
        prop(&ctx, "c").as_deref(),
        Some("2"),
        "the first insert was rolled back"
    );
}

#[tokio::test]
async fn without_use_transaction_earlier_statements_stay() {
    let (_dir, path) = setup().await;
    let m = mediator(&format!(
        "<dbreport>{}<statement><sql>INSERT INTO emp (id, name) VALUES (3, 'cy')</sql></statement>\
         <statement><sql>INSERT INTO nowhere VALUES (1)</sql></statement></dbreport>",
        pool(&path)
    ));
    let mut ctx = test_context(Method::GET, "/a");
    assert!(m.run(&mut ctx, &Default::default()).await.is_err());
    let count = mediator(&format!(
        "<dblookup>{}<statement><sql>SELECT count(*) AS c FROM emp</sql><result name=\"c\" column=\"1\"/></statement></dblookup>",
        pool(&path)
    ));
    count.run(&mut ctx, &Default::default()).await.unwrap();
    assert_eq!(prop(&ctx, "c").as_deref(), Some("3"));
}

#[tokio::test]
async fn bad_parameter_and_unknown_column_are_faults() {
    let (_dir, path) = setup().await;
    let m = mediator(&format!(
        "<dblookup>{}<statement><sql>SELECT name FROM emp WHERE id = ?</sql>\
         <parameter value=\"one\" type=\"INTEGER\"/><result name=\"n\" column=\"name\"/></statement></dblookup>",
        pool(&path)
    ));
    let mut ctx = test_context(Method::GET, "/a");
    let err = m.run(&mut ctx, &Default::default()).await.unwrap_err();
    assert!(
        err.starts_with("Error executing statement : SELECT name FROM emp"),
        "{err}"
    );
    let m = mediator(&format!(
        "<dblookup>{}<statement><sql>SELECT name FROM emp</sql><result name=\"n\" column=\"nope\"/></statement></dblookup>",
        pool(&path)
    ));
    assert!(m.run(&mut ctx, &Default::default()).await.is_err());
}

#[test]
fn compile_refuses_a_driver_that_does_not_match_the_url_and_bad_pool_properties() {
    let p = |driver: &str, props: &str| am::DbPool {
        driver: driver.into(),
        url: "jdbc:postgresql://localhost/x".into(),
        user: None,
        password: None,
        properties: if props.is_empty() {
            vec![]
        } else {
            vec![("maxactive".into(), props.into())]
        },
        span: Span::whole_file("sequences/S.xml"),
    };
    let err = compile_pool(&p("com.mysql.jdbc.Driver", "")).unwrap_err();
    assert!(err.contains("com.mysql.jdbc.Driver"), "{err}");
    let err = compile_pool(&p("org.postgresql.Driver", "many")).unwrap_err();
    assert!(err.contains("maxactive"), "{err}");
    assert!(compile_pool(&p("org.postgresql.Driver", "5")).is_ok());
}

#[test]
fn conversion_follows_the_jdbc_setters() {
    use am::JdbcType as J;
    assert_eq!(convert(J::Integer, "").unwrap(), Value::Null);
    assert_eq!(convert(J::Integer, "42").unwrap(), Value::Int(42));
    assert!(convert(J::Integer, "2147483648").is_err());
    assert!(convert(J::TinyInt, "128").is_err());
    assert!(convert(J::Integer, " 1").is_err());
    assert_eq!(convert(J::Bit, "TRUE").unwrap(), Value::Bool(true));
    assert_eq!(convert(J::Bit, "yes").unwrap(), Value::Bool(false));
    assert_eq!(
        convert(J::Decimal, "-1.5E+3").unwrap(),
        Value::Decimal("-1.5E+3".into())
    );
    assert!(convert(J::Numeric, "1.2.3").is_err());
    assert!(convert(J::Numeric, "e5").is_err());
    assert_eq!(
        convert(J::Date, "2024-1-5").unwrap(),
        Value::Date(time::Date::from_calendar_date(2024, time::Month::January, 5).unwrap())
    );
    assert!(convert(J::Date, "2024-02-30").is_err());
    assert!(convert(J::Time, "25:00:00").is_err());
    let Value::Timestamp(ts) = convert(J::Timestamp, "2024-01-05 09:03:07.5").unwrap() else {
        panic!()
    };
    assert_eq!(ts.nanosecond(), 500_000_000);
    assert!(convert(J::Timestamp, "2024-01-05T09:03:07").is_err());
}

#[test]
fn column_values_read_as_java_to_string() {
    assert_eq!(java_string(&Value::Null), None);
    assert_eq!(java_string(&Value::Double(20.5)).as_deref(), Some("20.5"));
    assert_eq!(java_string(&Value::Double(2.0)).as_deref(), Some("2.0"));
    let date = time::Date::from_calendar_date(2024, time::Month::January, 5).unwrap();
    assert_eq!(
        java_string(&Value::Date(date)).as_deref(),
        Some("2024-01-05")
    );
    let t = time::Time::from_hms_milli(9, 3, 7, 0).unwrap();
    assert_eq!(
        java_string(&Value::Timestamp(time::PrimitiveDateTime::new(date, t))).as_deref(),
        Some("2024-01-05 09:03:07.0")
    );
    let t = time::Time::from_hms_milli(9, 3, 7, 45).unwrap();
    assert_eq!(
        java_string(&Value::Timestamp(time::PrimitiveDateTime::new(date, t))).as_deref(),
        Some("2024-01-05 09:03:07.045")
    );
}
