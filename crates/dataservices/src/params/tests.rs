//! Binding plans, conversions and validation against MI's `ExpressionQuery`, `SQLQuery` setters,
//! `validation/standard/*Validator` and Axis2 `ConverterUtil` behaviour.

use std::collections::BTreeSet;

use super::*;
use crate::model::{QueryKind, ResultMapping};

fn param(name: &str, sql_type: SqlType, ordinal: usize) -> QueryParam {
    QueryParam {
        name: name.into(),
        sql_type,
        param_type: ParamKind::Scalar,
        direction: Direction::In,
        ordinals: BTreeSet::from([ordinal]),
        default_value: None,
        optional: false,
        force_default: false,
        validators: Vec::new(),
        span: conflux_artifacts::Span::whole_file("t.dbs"),
    }
}

fn query(sql: &str, mut params: Vec<QueryParam>) -> Query {
    let bind_plan = BindPlan::build(sql, &mut params);
    Query {
        id: "q".into(),
        config_id: "default".into(),
        sql: sql.into(),
        default_sql: Some(sql.into()),
        dialect_sql: Vec::new(),
        bind_plan,
        kind: QueryKind::Normal,
        params,
        result: None::<ResultMapping>,
        return_generated_keys: false,
        return_updated_row_count: false,
        key_columns: Vec::new(),
        input_namespace: String::new(),
        properties: Vec::new(),
        span: conflux_artifacts::Span::whole_file("t.dbs"),
    }
}

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, RequestValue> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), RequestValue::text(*v)))
        .collect()
}

fn names(prepared: &Prepared) -> Vec<&str> {
    prepared.binds.iter().map(|b| b.name.as_str()).collect()
}

#[test]
fn positional_params_bind_by_ordinal() {
    // MI ResourcesServiceTest.dbs updateProductQuery: ordinals 5,1,2,3,4 in declaration order.
    let q = query(
        "update Products set productName=?, productLine=?,quantityInStock=?,buyPrice=? WHERE productCode=?",
        vec![
            param("productCode", SqlType::String, 5),
            param("productName", SqlType::String, 1),
            param("productLine", SqlType::String, 2),
            param("quantityInStock", SqlType::Integer, 3),
            param("buyPrice", SqlType::Double, 4),
        ],
    );
    let p = prepare(
        "svc",
        &q,
        DriverFamily::Postgres,
        &values(&[
            ("productCode", "S10"),
            ("productName", "Car"),
            ("productLine", "Classic"),
            ("quantityInStock", "7"),
            ("buyPrice", "12.5"),
        ]),
    )
    .unwrap();
    assert_eq!(
        p.sql,
        "update Products set productName=$1, productLine=$2,quantityInStock=$3,buyPrice=$4 WHERE productCode=$5"
    );
    assert_eq!(
        names(&p),
        [
            "productName",
            "productLine",
            "quantityInStock",
            "buyPrice",
            "productCode"
        ]
    );
    assert_eq!(p.binds[2].value, Value::Int(7));
    assert_eq!(p.binds[3].value, Value::Double(12.5));
    assert_eq!(p.binds[4].value, Value::Text("S10".into()));
}

#[test]
fn named_params_become_placeholders_and_repeat() {
    // MI ExpressionQuery.processNamedParams: every :name use is a placeholder of its own.
    let q = query(
        "SELECT * FROM t WHERE a = :a OR b = :b OR a2 = :a AND s = ':a' AND t = \":b\"",
        vec![
            param("a", SqlType::Integer, 1),
            param("b", SqlType::String, 2),
        ],
    );
    assert_eq!(
        q.bind_plan.jdbc_sql(),
        "SELECT * FROM t WHERE a = ? OR b = ? OR a2 = ? AND s = ':a' AND t = \":b\""
    );
    assert_eq!(
        q.params[0].ordinals.iter().copied().collect::<Vec<_>>(),
        [1, 3]
    );
    let p = prepare(
        "svc",
        &q,
        DriverFamily::Sqlite,
        &values(&[("a", "1"), ("b", "x")]),
    )
    .unwrap();
    assert_eq!(names(&p), ["a", "b", "a"]);
    assert_eq!(p.sql, q.bind_plan.jdbc_sql());
}

#[test]
fn named_param_names_end_at_mi_delimiters() {
    // `:id::int` (a PostgreSQL cast) names `id`; `:ids` does not name `id`; `a:b` inside a word
    // names `b` only when b is a parameter.
    let q = query(
        "select :id::int, :ids, x.y:id, (:id)",
        vec![param("id", SqlType::Integer, 1)],
    );
    assert_eq!(q.bind_plan.jdbc_sql(), "select ?::int, :ids, x.y?, (?)");
    assert_eq!(q.bind_plan.placeholder_count(), 3);
}

#[test]
fn positional_param_displaced_by_a_named_one_binds_nowhere() {
    // MI cleanupProcessedNamedParams: `b` declared with ordinal 1 while `:a` takes position 1.
    let q = query(
        "select :a, ?",
        vec![
            param("a", SqlType::String, 2),
            param("b", SqlType::String, 1),
        ],
    );
    assert!(q.params[1].ordinals.is_empty());
    // Position 2 has no parameter: the statement fails as in MI.
    let err = prepare(
        "svc",
        &q,
        DriverFamily::MySql,
        &values(&[("a", "x"), ("b", "y")]),
    )
    .unwrap_err();
    assert_eq!(err.code, FaultCode::DatabaseError);
    assert_eq!(
        err.message.as_deref(),
        Some(
            "Error in 'SQLQuery.processPreNormalQuery': Parameters are not Defined Correctly, missing parameter ordinal - 2"
        )
    );
}

#[test]
fn array_params_expand_their_placeholder() {
    // MI ExpressionQuery.createProcessedQuery: one ? per array element.
    let mut ids = param("ids", SqlType::Integer, 1);
    ids.param_type = ParamKind::Array;
    let q = query(
        "select * from t where id in (:ids) and n = :n",
        vec![ids, param("n", SqlType::String, 2)],
    );
    let mut v = values(&[("n", "x")]);
    v.insert(
        "ids".into(),
        RequestValue::Array(vec![Some("1".into()), Some("2".into()), None]),
    );
    let p = prepare("svc", &q, DriverFamily::Postgres, &v).unwrap();
    assert_eq!(p.sql, "select * from t where id in ($1,$2,$3) and n = $4");
    assert_eq!(p.jdbc_sql, "select * from t where id in (?,?,?) and n = ?");
    assert_eq!(
        p.binds.iter().map(|b| b.value.clone()).collect::<Vec<_>>(),
        [
            Value::Int(1),
            Value::Int(2),
            Value::Null,
            Value::Text("x".into())
        ]
    );
    // A scalar given for an ARRAY parameter is a one-element array (MI preprocessParams).
    let p = prepare(
        "svc",
        &q,
        DriverFamily::MySql,
        &values(&[("ids", "5"), ("n", "x")]),
    )
    .unwrap();
    assert_eq!(p.sql, "select * from t where id in (?) and n = ?");
}

#[test]
fn bind_count_limit_refuses_one_past() {
    let mut ids = param("ids", SqlType::Integer, 1);
    ids.param_type = ParamKind::Array;
    let q = query("select * from t where id in (?)", vec![ids]);
    let array = |n: usize| {
        BTreeMap::from([(
            "ids".to_string(),
            RequestValue::Array(vec![Some("1".to_string()); n]),
        )])
    };
    assert!(prepare("svc", &q, DriverFamily::Sqlite, &array(MAX_BIND_PARAMETERS)).is_ok());
    let err = prepare(
        "svc",
        &q,
        DriverFamily::Sqlite,
        &array(MAX_BIND_PARAMETERS + 1),
    )
    .unwrap_err();
    assert_eq!(err.code, FaultCode::IncompatibleParameters);
}

#[test]
fn missing_params_and_optional_update_columns() {
    let q = query(
        "select * from t where id = ?",
        vec![param("id", SqlType::Integer, 1)],
    );
    let err = prepare("svc", &q, DriverFamily::MySql, &BTreeMap::new()).unwrap_err();
    assert_eq!(err.code, FaultCode::IncompatibleParameters);
    assert_eq!(
        err.message.as_deref(),
        Some("Error in 'Query.extractParams', cannot find query param with name:id")
    );
    // MI SQLQuery.generateSQLupdateQuery: a missing optional parameter's assignment is dropped.
    let mut name = param("name", SqlType::String, 1);
    name.optional = true;
    let mut salary = param("salary", SqlType::Double, 2);
    salary.optional = true;
    let q = query(
        "UPDATE emp SET name=?, salary = ? WHERE id=?",
        vec![name, salary, param("id", SqlType::Integer, 3)],
    );
    let p = prepare(
        "svc",
        &q,
        DriverFamily::Postgres,
        &values(&[("salary", "10"), ("id", "3")]),
    )
    .unwrap();
    assert_eq!(p.sql, "UPDATE emp SET salary = $1 WHERE id=$2");
    assert_eq!(names(&p), ["salary", "id"]);
    let p = prepare(
        "svc",
        &q,
        DriverFamily::Postgres,
        &values(&[("name", "n"), ("id", "3")]),
    )
    .unwrap();
    assert_eq!(p.sql, "UPDATE emp SET name=$1 WHERE id=$2");
}

#[test]
fn conversions_follow_mi_setters() {
    let c = |t: SqlType, v: &str| convert("svc", "p", &t, Some(v));
    assert_eq!(c(SqlType::Integer, "+42").unwrap(), Value::Int(42));
    assert_eq!(
        c(SqlType::BigInt, "-9000000000").unwrap(),
        Value::Int(-9_000_000_000)
    );
    assert_eq!(c(SqlType::Double, " 1.5e2 ").unwrap(), Value::Double(150.0));
    assert_eq!(c(SqlType::Double, "2d").unwrap(), Value::Double(2.0));
    assert_eq!(
        c(SqlType::Numeric, "12.50").unwrap(),
        Value::Decimal("12.50".into())
    );
    assert_eq!(
        c(SqlType::Numeric, "1.5E+3").unwrap(),
        Value::Decimal("1500".into())
    );
    assert_eq!(
        c(SqlType::Numeric, "-0.0012").unwrap(),
        Value::Decimal("-0.0012".into())
    );
    // Boolean.valueOf: anything but "true" (any case) is false.
    assert_eq!(c(SqlType::Boolean, "TRUE").unwrap(), Value::Bool(true));
    assert_eq!(c(SqlType::Boolean, "yes").unwrap(), Value::Bool(false));
    assert_eq!(
        c(SqlType::String, "O'Brien; DROP TABLE t").unwrap(),
        Value::Text("O'Brien; DROP TABLE t".into())
    );
    assert_eq!(
        c(SqlType::Binary, "aGk=\n").unwrap(),
        Value::Bytes(b"hi".to_vec())
    );
    // An empty DATE is NULL; a null binds NULL.
    assert_eq!(c(SqlType::Date, "").unwrap(), Value::Null);
    assert_eq!(
        convert("svc", "p", &SqlType::Integer, None).unwrap(),
        Value::Null
    );
    let date = time::Date::from_calendar_date(2024, time::Month::March, 9).unwrap();
    assert_eq!(c(SqlType::Date, "2024-03-09").unwrap(), Value::Date(date));
    assert_eq!(
        c(SqlType::Date, "2024-03-09+05:30").unwrap(),
        Value::Date(date)
    );
    assert_eq!(
        c(SqlType::Date, "2024-03-09T10:00:00").unwrap(),
        Value::Date(date)
    );
    // Timestamps are normalised to UTC (MI's UTC calendar).
    let ts = |h, m, s, ms| {
        Value::Timestamp(time::PrimitiveDateTime::new(
            date,
            time::Time::from_hms_milli(h, m, s, ms).unwrap(),
        ))
    };
    assert_eq!(
        c(SqlType::Timestamp, "2024-03-09T10:20:30").unwrap(),
        ts(10, 20, 30, 0)
    );
    assert_eq!(
        c(SqlType::Timestamp, "2024-03-09T10:20:30.5Z").unwrap(),
        ts(10, 20, 30, 500)
    );
    assert_eq!(
        c(SqlType::Timestamp, "2024-03-09T10:20:30.123+02:00").unwrap(),
        ts(8, 20, 30, 123)
    );
    assert_eq!(
        c(SqlType::Time, "10:20").unwrap(),
        Value::Time(time::Time::from_hms(10, 20, 0).unwrap())
    );
}

#[test]
fn conversion_errors_carry_mi_messages() {
    let err = |t: SqlType, v: &str| convert("EmployeeService", "id", &t, Some(v)).unwrap_err();
    let e = err(SqlType::Integer, "abc");
    assert_eq!(e.code, FaultCode::IncompatibleParameters);
    assert_eq!(
        e.message.as_deref(),
        Some("Error in 'SQLQuery.processPreNormalQuery': For input string: \"abc\"")
    );
    assert_eq!(
        e.nested.as_deref(),
        Some("java.lang.NumberFormatException: For input string: \"abc\"")
    );
    // Integer.parseInt refuses values past 32 bits; Short.parseShort names its range.
    assert!(
        err(SqlType::Integer, "2147483648")
            .message
            .unwrap()
            .ends_with("For input string: \"2147483648\"")
    );
    assert!(
        err(SqlType::SmallInt, "40000")
            .message
            .unwrap()
            .ends_with("Value out of range. Value:\"40000\" Radix:10")
    );
    assert!(
        err(SqlType::Double, "")
            .message
            .unwrap()
            .ends_with("empty String")
    );
    assert!(
        err(SqlType::Double, "1,5")
            .message
            .unwrap()
            .ends_with("For input string: \"1,5\"")
    );
    assert!(err(SqlType::Numeric, "12a").message.unwrap().ends_with(
        "Character a is neither a decimal digit number, decimal point, nor \"e\" notation exponential mark."
    ));
    let e = err(SqlType::Timestamp, "2024-03-09 10:20:30");
    assert_eq!(e.code, FaultCode::DatabaseError);
    assert_eq!(
        e.message.as_deref(),
        Some(
            "Error in 'SQLQuery.processPreNormalQuery': invalid date format (2024-03-09 10:20:30) with out - s at correct place "
        )
    );
    assert!(
        err(SqlType::Timestamp, "2024-03-09")
            .message
            .unwrap()
            .ends_with("date string can not be less than 19 characters")
    );
    assert!(err(SqlType::Time, "ten").message.unwrap().ends_with(
        "Incorrect Time format for parameter : id. Time should be in the format hh:mm:ss"
    ));
    let e = err(SqlType::Unbindable("VARCHAR".into()), "x");
    assert_eq!(e.code, FaultCode::DatabaseError);
    assert!(
        e.message.unwrap().ends_with(
            "[EmployeeService]  Found Unsupported data type : VARCHAR as input parameter."
        )
    );
}

#[test]
fn validators_use_mi_messages() {
    let check = |v: Validator, value: RequestValue| {
        let mut p = param("name", SqlType::String, 1);
        if let RequestValue::Array(_) = value {
            p.param_type = ParamKind::Array;
        }
        p.validators = vec![v];
        validate(&p, &value).err().map(|f| {
            assert_eq!(f.code, FaultCode::ValidationError);
            f.nested.unwrap()
        })
    };
    let len = || Validator::Length {
        min: Some(2),
        max: Some(4),
    };
    assert_eq!(check(len(), RequestValue::text("abc")), None);
    assert_eq!(
        check(len(), RequestValue::text("abcde")).as_deref(),
        Some("The value length must be between 2 and 4\nField Name: name\nField Value: abcde")
    );
    // Java String.length counts UTF-16 units: one emoji is 2.
    assert_eq!(check(len(), RequestValue::text("\u{1F600}")), None);
    assert_eq!(
        check(
            Validator::LongRange {
                min: None,
                max: Some(10)
            },
            RequestValue::text("11")
        )
        .as_deref(),
        Some("The long value range expected is [0,10]\nField Name: name\nField Value: 11")
    );
    assert!(
        check(
            Validator::LongRange {
                min: Some(1),
                max: None
            },
            RequestValue::text("x")
        )
        .is_some()
    );
    assert_eq!(
        check(
            Validator::DoubleRange {
                min: Some(0.5),
                max: Some(100.0)
            },
            RequestValue::text("0.25")
        )
        .as_deref(),
        Some("The double value range expected is [0.5,100.0]\nField Name: name\nField Value: 0.25")
    );
    let pattern = || Validator::Pattern {
        source: "[a-z]+".into(),
        regex: regex::Regex::new("^(?:[a-z]+)$").unwrap(),
    };
    assert_eq!(check(pattern(), RequestValue::text("abc")), None);
    assert_eq!(
        check(pattern(), RequestValue::text("abc1")).as_deref(),
        Some("Pattern {[a-z]+} is expected\nField Name: name\nField Value: abc1")
    );
    assert_eq!(
        check(
            pattern(),
            RequestValue::Array(vec![Some("ok".into()), Some("NO".into())])
        )
        .as_deref(),
        Some(
            "Pattern {[a-z]+} is expected at array index 1\nField Name: name\nField Value: {ok,NO}"
        )
    );
    // A NULL fails every validator (MI dereferences it).
    assert_eq!(
        check(len(), RequestValue::Scalar(None)).as_deref(),
        Some("The value length must be between 2 and 4\nField Name: name\nField Value: null")
    );
    // A scalar parameter given many values fails the built-in type check.
    let p = param("name", SqlType::String, 1);
    let f = validate(&p, &RequestValue::Array(vec![Some("a".into())])).unwrap_err();
    assert_eq!(
        f.nested.as_deref(),
        Some("Scalar type expected\nField Name: name\nField Value: {a}")
    );
}

#[test]
fn default_values_and_array_splitting() {
    let ctx = DefaultContext {
        now: Some("2024-01-01T00:00:00.000Z".into()),
        ..Default::default()
    };
    assert_eq!(
        evaluate_default("#{NULL}", ParamKind::Scalar, &ctx).unwrap(),
        RequestValue::Scalar(None)
    );
    assert_eq!(
        evaluate_default("#{CURRENT_TIMESTAMP}", ParamKind::Scalar, &ctx).unwrap(),
        RequestValue::text("2024-01-01T00:00:00.000Z")
    );
    assert_eq!(
        evaluate_default("#{TENANT_ID}", ParamKind::Scalar, &ctx).unwrap(),
        RequestValue::text("-1234")
    );
    assert_eq!(
        evaluate_default("plain", ParamKind::Scalar, &ctx).unwrap(),
        RequestValue::text("plain")
    );
    assert_eq!(
        evaluate_default("a,'b,c',\"d\\\"e\"", ParamKind::Array, &ctx).unwrap(),
        RequestValue::Array(vec![
            Some("a".into()),
            Some("b,c".into()),
            Some("d\"e".into())
        ])
    );
    assert!(split_array_default("'a'b").is_err());
    assert_eq!(
        split_array_default("x\\").unwrap_err(),
        "Input ended abruptly with \\"
    );
    let now = evaluate_default(
        "#{CURRENT_TIMESTAMP}",
        ParamKind::Scalar,
        &DefaultContext::default(),
    )
    .unwrap();
    let text = now.scalar().unwrap();
    assert_eq!(text.len(), "2024-01-01T00:00:00.000Z".len(), "{text}");
    assert!(text.ends_with('Z') && text.as_bytes()[10] == b'T', "{text}");
}

#[test]
fn java_hashmap_order_and_param_strings() {
    // Keys in the order Java's HashMap iterates them (checked against docs-mi output).
    let keys = [
        "OfficeCode",
        "City",
        "Country",
        "Phone",
        "@EmployeeOfficeSQL",
    ];
    let order: Vec<&str> = java_hashmap_order(&keys)
        .into_iter()
        .map(|i| keys[i])
        .collect();
    assert_eq!(
        order,
        [
            "Phone",
            "Country",
            "OfficeCode",
            "City",
            "@EmployeeOfficeSQL"
        ]
    );
    assert_eq!(java_string_hash("hello"), 99162322);
    assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
    // 13 keys grow the table to 32 buckets.
    let many: Vec<String> = (0..13).map(|i| format!("k{i}")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(java_hashmap_order(&refs).len(), 13);
    assert_eq!(
        mi_params_string(&[
            ("name".into(), RequestValue::text("x")),
            ("id".into(), RequestValue::Scalar(None)),
        ]),
        "{name=x, id=null}"
    );
}

#[test]
fn driver_families_from_jdbc_urls() {
    assert_eq!(
        DriverFamily::from_jdbc_url("jdbc:postgresql://h:5432/d"),
        Some(DriverFamily::Postgres)
    );
    assert_eq!(
        DriverFamily::from_jdbc_url("jdbc:mariadb://h/d"),
        Some(DriverFamily::MySql)
    );
    assert_eq!(
        DriverFamily::from_jdbc_url("jdbc:sqlite:/tmp/x.db"),
        Some(DriverFamily::Sqlite)
    );
    assert_eq!(DriverFamily::from_jdbc_url("jdbc:h2:mem:x"), None);
    assert_eq!(DriverFamily::from_jdbc_url("postgresql://h"), None);
}

#[test]
fn java_number_parsing() {
    assert_eq!(parse_java_long("+7"), Some(7));
    assert_eq!(parse_java_long(" 7"), None);
    assert_eq!(parse_java_long(""), None);
    assert_eq!(parse_java_double("NaN").map(f64::is_nan), Some(true));
    assert_eq!(parse_java_double("-Infinity"), Some(f64::NEG_INFINITY));
    assert_eq!(parse_java_double("inf"), None);
    assert_eq!(parse_java_double("1e"), None);
    assert_eq!(parse_java_double("."), None);
}

#[test]
fn json_request_values_are_checked_against_the_schema_type() {
    use serde_json::json;
    // MI CARBON15235JsonValueTypeMissMatchTest / DS1190JsonValueTypeMisMatchTest.
    let err = |t: SqlType, v: serde_json::Value| json_request_value(&t, &v).unwrap_err();
    assert_eq!(
        err(SqlType::String, json!(123)),
        "Value type miss match, Expected value type - 'string', but found - 'NUMBER'"
    );
    assert_eq!(
        err(SqlType::Integer, json!("111")),
        "Value type miss match, Expected value type - 'int', but found - 'STRING'"
    );
    assert_eq!(
        err(SqlType::String, json!(true)),
        "Value type miss match, Expected value type - 'string', but found - 'BOOLEAN'"
    );
    assert_eq!(
        err(SqlType::Integer, json!(true)),
        "Value type miss match, Expected value type - 'int', but found - 'BOOLEAN'"
    );
    assert_eq!(
        err(SqlType::Numeric, json!("14")),
        "Value type miss match, Expected value type - 'decimal', but found - 'STRING'"
    );
    let ok = |t: SqlType, v: serde_json::Value| json_request_value(&t, &v).unwrap();
    assert_eq!(ok(SqlType::Integer, json!(111)).as_deref(), Some("111"));
    assert_eq!(ok(SqlType::Numeric, json!(14)).as_deref(), Some("14.0"));
    assert_eq!(ok(SqlType::Double, json!(2.5)).as_deref(), Some("2.5"));
    assert_eq!(ok(SqlType::Boolean, json!(false)).as_deref(), Some("false"));
    assert_eq!(ok(SqlType::Binary, json!("aGk=")).as_deref(), Some("aGk="));
    assert_eq!(
        ok(SqlType::Timestamp, json!("2024-01-01T00:00:00")).as_deref(),
        Some("2024-01-01T00:00:00")
    );
    assert_eq!(ok(SqlType::Integer, json!(null)), None);
}
