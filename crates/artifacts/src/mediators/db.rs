//! `<dblookup>` and `<dbreport>`: SQL statements run against a database connection pool the
//! mediator owns (SYN:`config/xml/AbstractDBMediatorFactory.java`, `DBLookupMediatorFactory.java`,
//! `DBReportMediatorFactory.java`; SYN:`mediators/db/Statement.java`). This file owns their
//! syntax: the `<connection><pool>` (driver, url, user, password, `<property>`s), the
//! `<statement>`s with their `<sql>`, `<parameter value|expression type>` and `<result name
//! column>`, and dbreport's `useTransaction`. The runtime side is
//! `conflux_mediation::runtime::mediators::db`.
//!
//! A `<pool>` may instead name a data source (`<dsName>`): a `[[datasource]]` of deployment.toml
//! (by `id` or MI's JNDI name `jdbc/<id>`) or a data source artifact, looked up per message; JNDI
//! settings (`<icClass>`, `<url>` with `<dsName>`...) are a located "unsupported" error.

use roxmltree::Node;

use crate::expression::{Expression, ValueOrExpression};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named, text_of};

/// The most statements one mediator may hold.
pub const MAX_DB_STATEMENTS: usize = 256;
/// The most parameters (and, separately, results) one statement may hold.
pub const MAX_DB_STATEMENT_ITEMS: usize = 1024;

/// Which of the two mediators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// `<dblookup>`: the first row of each statement's result goes into properties.
    Lookup,
    /// `<dbreport useTransaction>`: each statement is an update.
    Report { use_transaction: bool },
}

/// One `<dblookup>` or `<dbreport>`.
#[derive(Debug, Clone, PartialEq)]
pub struct DbMediator {
    pub kind: DbKind,
    pub pool: DbConnection,
    pub statements: Vec<DbStatement>,
    pub span: Span,
}

/// `<connection><pool>`: a pool the mediator opens itself (MI's `BasicDataSource`), or a named
/// data source.
#[derive(Debug, Clone, PartialEq)]
pub enum DbConnection {
    Pool(DbPool),
    /// `<dsName>`: a data source of the server, by name.
    DataSource {
        name: String,
        span: Span,
    },
}

impl DbConnection {
    pub fn span(&self) -> &Span {
        match self {
            DbConnection::Pool(p) => &p.span,
            DbConnection::DataSource { span, .. } => span,
        }
    }
}

/// `<connection><pool>` with its own settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DbPool {
    /// `<driver>`: the JDBC driver class (checked against the URL at deploy).
    pub driver: String,
    /// `<url>`: the JDBC URL.
    pub url: String,
    pub user: Option<String>,
    pub password: Option<String>,
    /// `<property name value>`: pool settings (`maxactive`, `maxwait`, `isolation` ...), as written.
    pub properties: Vec<(String, String)>,
    pub span: Span,
}

/// One `<statement>`.
#[derive(Debug, Clone, PartialEq)]
pub struct DbStatement {
    /// `<sql>`, with JDBC `?` placeholders.
    pub sql: String,
    pub parameters: Vec<DbParameter>,
    /// `<result name column>`: property name and column (a name, or a 1-based number).
    pub results: Vec<(String, String)>,
    pub span: Span,
}

/// One `<parameter value|expression type>`.
#[derive(Debug, Clone, PartialEq)]
pub struct DbParameter {
    pub value: ValueOrExpression,
    pub jdbc_type: JdbcType,
    pub span: Span,
}

/// The JDBC types a parameter may be bound as (SYN `Statement.Parameter`; anything else is
/// "Unknown or unsupported JDBC type").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JdbcType {
    Char,
    Varchar,
    LongVarchar,
    Numeric,
    Decimal,
    Bit,
    TinyInt,
    SmallInt,
    Integer,
    BigInt,
    Real,
    Float,
    Double,
    Date,
    Time,
    Timestamp,
}

impl JdbcType {
    /// Every type, with its name as written in the `type` attribute (case-sensitive, as in MI).
    pub const ALL: [(&'static str, JdbcType); 16] = [
        ("CHAR", JdbcType::Char),
        ("VARCHAR", JdbcType::Varchar),
        ("LONGVARCHAR", JdbcType::LongVarchar),
        ("NUMERIC", JdbcType::Numeric),
        ("DECIMAL", JdbcType::Decimal),
        ("BIT", JdbcType::Bit),
        ("TINYINT", JdbcType::TinyInt),
        ("SMALLINT", JdbcType::SmallInt),
        ("INTEGER", JdbcType::Integer),
        ("BIGINT", JdbcType::BigInt),
        ("REAL", JdbcType::Real),
        ("FLOAT", JdbcType::Float),
        ("DOUBLE", JdbcType::Double),
        ("DATE", JdbcType::Date),
        ("TIME", JdbcType::Time),
        ("TIMESTAMP", JdbcType::Timestamp),
    ];

    pub fn from_name(name: &str) -> Option<JdbcType> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("", |(n, _)| n)
    }
}

/// Parses `<dblookup>` (`report` false) or `<dbreport>`.
pub(crate) fn parse(ctx: &Ctx, node: Node, report: bool) -> Result<DbMediator> {
    let kind = if report {
        DbKind::Report {
            use_transaction: ctx.bool_attr(node, "useTransaction", false)?,
        }
    } else {
        DbKind::Lookup
    };
    let mut pool = None;
    let mut statements = Vec::new();
    for child in element_children(node) {
        if is_synapse_named(child, "connection") {
            if pool.is_some() {
                return Err(ctx.invalid(child, "only one <connection> is allowed".into()));
            }
            pool = Some(parse_connection(ctx, child)?);
        } else if is_synapse_named(child, "statement") {
            if statements.len() == MAX_DB_STATEMENTS {
                return Err(ctx.invalid(
                    child,
                    format!("more than {MAX_DB_STATEMENTS} <statement> elements"),
                ));
            }
            statements.push(parse_statement(ctx, child, report)?);
        } else {
            return Err(ctx.unknown(child, node, "<connection> or <statement>"));
        }
    }
    // AbstractDBMediatorFactory.buildDataSource: "The DataSource connection information must be
    // specified for using a custom DataSource connection pool or for a JNDI lookup".
    let Some(pool) = pool else {
        return Err(ctx.missing(
            node,
            "element <connection>",
            "<connection><pool> with <driver>, <url>, <user> and <password>",
        ));
    };
    Ok(DbMediator {
        kind,
        pool,
        statements,
        span: ctx.span(node),
    })
}

fn parse_connection(ctx: &Ctx, node: Node) -> Result<DbConnection> {
    let mut pool_node = None;
    for child in element_children(node) {
        if is_synapse_named(child, "pool") && pool_node.is_none() {
            pool_node = Some(child);
        } else {
            return Err(ctx.unknown(child, node, "one <pool>"));
        }
    }
    let Some(pool) = pool_node else {
        return Err(ctx.missing(node, "element <pool>", "<pool> with <driver> and <url>"));
    };
    // A named data source: `<dsName>` alone (MI's JNDI lookup settings are not supported).
    if let Some(ds) = element_children(pool).find(|c| is_synapse_named(*c, "dsName")) {
        if let Some(other) = element_children(pool).find(|c| !is_synapse_named(*c, "dsName")) {
            return Err(ctx.unsupported(
                other,
                format!("<{}> with <dsName>", other.tag_name().name()),
                "JNDI lookup settings are not supported: give <dsName> alone, naming a [[datasource]] id (or jdbc/<id>) or a data source artifact",
            ));
        }
        let name = text_of(ds).trim().to_string();
        if name.is_empty() {
            return Err(ctx.missing(ds, "text", "the data source's name"));
        }
        return Ok(DbConnection::DataSource {
            name,
            span: ctx.span(ds),
        });
    }
    let mut driver = None;
    let mut url = None;
    let mut user = None;
    let mut password = None;
    let mut properties = Vec::new();
    for child in element_children(pool) {
        let local = child.tag_name().name();
        if !crate::xml::is_synapse(child) {
            return Err(ctx.unknown(
                child,
                pool,
                "<driver>, <url>, <user>, <password> or <property>",
            ));
        }
        match local {
            "icClass" => {
                return Err(ctx.unsupported(
                    child,
                    format!("<{local}> (a JNDI data source lookup)"),
                    "name a [[datasource]] with <dsName> alone, or configure the pool inline with <driver>, <url>, <user>, <password> and <property> elements",
                ));
            }
            "driver" | "url" | "user" | "password" => {
                if ctx.attr(child, "key").is_some() {
                    return Err(ctx.unsupported(
                        child,
                        format!("<{local} key> (a value read from the registry)"),
                        "write the value in the element's text",
                    ));
                }
                let raw = text_of(child);
                let value = ctx
                    .inject(child, "text", raw.trim(), ctx.span(child))?
                    .into_owned();
                let slot = match local {
                    "driver" => &mut driver,
                    "url" => &mut url,
                    "user" => &mut user,
                    _ => &mut password,
                };
                *slot = Some(value);
            }
            "property" => {
                let name = ctx.required_attr(child, "name", "a pool property name")?;
                let value = ctx.attr(child, "value").ok_or_else(|| {
                    ctx.missing(child, "attribute 'value'", "the property's value")
                })?;
                properties.push((name.trim().to_string(), value.trim().to_string()));
            }
            _ => {
                return Err(ctx.unknown(
                    child,
                    pool,
                    "<driver>, <url>, <user>, <password> or <property>",
                ));
            }
        }
    }
    let driver = driver.filter(|d| !d.is_empty()).ok_or_else(|| {
        ctx.missing(
            pool,
            "element <driver>",
            "the JDBC driver class, e.g. org.postgresql.Driver",
        )
    })?;
    let url = url.filter(|u| !u.is_empty()).ok_or_else(|| {
        ctx.missing(
            pool,
            "element <url>",
            "a JDBC URL (jdbc:postgresql://, jdbc:mysql://, jdbc:mariadb://, jdbc:sqlite:)",
        )
    })?;
    Ok(DbConnection::Pool(DbPool {
        driver,
        url,
        user: user.filter(|u| !u.is_empty()),
        password: password.filter(|p| !p.is_empty()),
        properties,
        span: ctx.span(pool),
    }))
}

fn parse_statement(ctx: &Ctx, node: Node, report: bool) -> Result<DbStatement> {
    let mut sql = None;
    let mut parameters = Vec::new();
    let mut results = Vec::new();
    for child in element_children(node) {
        if is_synapse_named(child, "sql") && sql.is_none() {
            let text = text_of(child);
            if text.trim().is_empty() {
                return Err(ctx.invalid_text(child, "", "an SQL statement"));
            }
            sql = Some(text.trim().to_string());
        } else if is_synapse_named(child, "parameter") {
            if parameters.len() == MAX_DB_STATEMENT_ITEMS {
                return Err(ctx.invalid(
                    child,
                    format!("more than {MAX_DB_STATEMENT_ITEMS} <parameter> elements"),
                ));
            }
            if let Some(p) = parse_parameter(ctx, child)? {
                parameters.push(p);
            }
        } else if is_synapse_named(child, "result") && !report {
            if results.len() == MAX_DB_STATEMENT_ITEMS {
                return Err(ctx.invalid(
                    child,
                    format!("more than {MAX_DB_STATEMENT_ITEMS} <result> elements"),
                ));
            }
            // "Invalid result element found missing either name and column [DBLookup] mediator".
            let name = ctx.required_attr(child, "name", "the property to set")?;
            let column = ctx.required_attr(child, "column", "a column name or number")?;
            results.push((name.trim().to_string(), column.trim().to_string()));
        } else {
            let expected = if report {
                "<sql> or <parameter>"
            } else {
                "<sql>, <parameter> or <result>"
            };
            return Err(ctx.unknown(child, node, expected));
        }
    }
    let sql = sql.ok_or_else(|| ctx.missing(node, "element <sql>", "the SQL statement"))?;
    Ok(DbStatement {
        sql,
        parameters,
        results,
        span: ctx.span(node),
    })
}

/// A `<parameter>`; one with neither `value` nor `expression` is skipped, as in MI.
fn parse_parameter(ctx: &Ctx, node: Node) -> Result<Option<DbParameter>> {
    let value = match (
        ctx.attr(node, "value"),
        ctx.expression_attr(node, "expression")?,
    ) {
        (_, Some(expr)) => ValueOrExpression::Expression(expr),
        (Some(v), None) => ValueOrExpression::Value(
            ctx.inject(node, "attribute 'value'", v, ctx.attr_span(node, "value"))?
                .into_owned(),
        ),
        (None, None) => return Ok(None),
    };
    let expected = JdbcType::ALL
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ");
    let raw = ctx.required_attr(node, "type", &expected)?;
    let jdbc_type = JdbcType::from_name(raw.trim())
        .ok_or_else(|| ctx.invalid_attr(node, "type", raw, &expected))?;
    Ok(Some(DbParameter {
        value,
        jdbc_type,
        span: ctx.span(node),
    }))
}

/// The expression of a parameter, when it has one.
pub fn parameter_expression(p: &DbParameter) -> Option<&Expression> {
    match &p.value {
        ValueOrExpression::Expression(e) => Some(e),
        ValueOrExpression::Value(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::test_support::parse_root;

    fn parse_str(xml: &str) -> std::result::Result<DbMediator, String> {
        parse_root(xml, |ctx, root| {
            parse(ctx, root, root.tag_name().name() == "dbreport")
        })
    }

    const NS: &str = "xmlns=\"http://ws.apache.org/ns/synapse\"";

    fn pool() -> &'static str {
        "<connection><pool><driver>org.sqlite.JDBC</driver><url>jdbc:sqlite:/tmp/x.db</url>\
         <user>u</user><password>p</password><property name=\"maxactive\" value=\"3\"/></pool></connection>"
    }

    #[test]
    fn dblookup_reads_pool_statement_parameters_and_results() {
        let m = parse_str(&format!(
            "<dblookup {NS}>{}<statement><sql>select name from t where id = ?</sql>\
             <parameter expression=\"//id\" type=\"INTEGER\"/><parameter value=\"x\" type=\"VARCHAR\"/>\
             <result name=\"n\" column=\"name\"/></statement></dblookup>",
            pool()
        ))
        .unwrap();
        assert_eq!(m.kind, DbKind::Lookup);
        let DbConnection::Pool(pool) = &m.pool else {
            panic!("{:?}", m.pool)
        };
        assert_eq!(pool.driver, "org.sqlite.JDBC");
        assert_eq!(pool.user.as_deref(), Some("u"));
        assert_eq!(pool.properties, vec![("maxactive".into(), "3".into())]);
        let s = &m.statements[0];
        assert_eq!(s.sql, "select name from t where id = ?");
        assert_eq!(s.parameters[0].jdbc_type, JdbcType::Integer);
        assert!(matches!(
            s.parameters[0].value,
            ValueOrExpression::Expression(_)
        ));
        assert_eq!(s.parameters[1].value, ValueOrExpression::Value("x".into()));
        assert_eq!(s.results, vec![("n".into(), "name".into())]);
    }

    #[test]
    fn dbreport_reads_use_transaction() {
        let m = parse_str(&format!(
            "<dbreport {NS} useTransaction=\"true\">{}<statement><sql>delete from t</sql></statement></dbreport>",
            pool()
        ))
        .unwrap();
        assert_eq!(
            m.kind,
            DbKind::Report {
                use_transaction: true
            }
        );
    }

    #[test]
    fn unknown_jdbc_type_is_refused_with_the_valid_ones() {
        // SYN Statement.Parameter: "Unknown or unsupported JDBC type".
        let err = parse_str(&format!(
            "<dblookup {NS}>{}<statement><sql>s</sql><parameter value=\"1\" type=\"CLOB\"/></statement></dblookup>",
            pool()
        ))
        .unwrap_err();
        assert!(err.contains("CLOB") && err.contains("TIMESTAMP"), "{err}");
    }

    #[test]
    fn ds_name_names_a_data_source_and_jndi_settings_are_refused() {
        let m = parse_str(&format!(
            "<dblookup {NS}><connection><pool><dsName>jdbc/x</dsName></pool></connection></dblookup>"
        ))
        .unwrap();
        assert!(
            matches!(&m.pool, DbConnection::DataSource { name, .. } if name == "jdbc/x"),
            "{m:?}"
        );
        let err = parse_str(&format!(
            "<dblookup {NS}><connection><pool><dsName>x</dsName><icClass>c</icClass></pool></connection></dblookup>"
        ))
        .unwrap_err();
        assert!(err.contains("<icClass> with <dsName>"), "{err}");
        assert!(err.contains("sequences/S.xml:1:"), "{err}");
    }

    #[test]
    fn missing_connection_driver_or_url_is_an_error() {
        let err = parse_str(&format!(
            "<dblookup {NS}><statement><sql>s</sql></statement></dblookup>"
        ))
        .unwrap_err();
        assert!(err.contains("<connection>"), "{err}");
        let err = parse_str(&format!(
            "<dblookup {NS}><connection><pool><url>jdbc:sqlite:x</url></pool></connection></dblookup>"
        ))
        .unwrap_err();
        assert!(err.contains("<driver>"), "{err}");
    }

    #[test]
    fn result_without_column_is_an_error() {
        let err = parse_str(&format!(
            "<dblookup {NS}>{}<statement><sql>s</sql><result name=\"n\"/></statement></dblookup>",
            pool()
        ))
        .unwrap_err();
        assert!(err.contains("column"), "{err}");
    }

    #[test]
    fn statement_limit_is_enforced() {
        let stmt = "<statement><sql>s</sql></statement>";
        let ok = parse_str(&format!(
            "<dbreport {NS}>{}{}</dbreport>",
            pool(),
            stmt.repeat(MAX_DB_STATEMENTS)
        ));
        assert!(ok.is_ok());
        let err = parse_str(&format!(
            "<dbreport {NS}>{}{}</dbreport>",
            pool(),
            stmt.repeat(MAX_DB_STATEMENTS + 1)
        ))
        .unwrap_err();
        assert!(
            err.contains(&format!("more than {MAX_DB_STATEMENTS}")),
            "{err}"
        );
    }
}

/// MI's own test artifacts (`shared/corpus/synapse`) that use dblookup, dbreport or
/// dataServiceCall: each parses, or fails only for a reason other than these mediators (the
/// `<transaction>` and `<smooks>` mediators), or for `<dsName>`, which is refused by name.
#[cfg(test)]
mod corpus {
    #[test]
    fn corpus_db_mediators_parse_or_fail_for_a_named_reason() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/synapse");
        if !dir.is_dir() {
            eprintln!("skipped: no corpus at {}", dir.display());
            return;
        }
        let allowed = [
            "unsupported <dsName> (a named data source)",
            "unsupported mediator <transaction>",
            "unsupported mediator <smooks>",
        ];
        let (mut parsed, mut refused) = (0, Vec::new());
        for kind in ["api", "proxy-services", "sequences"] {
            let Ok(entries) = std::fs::read_dir(dir.join(kind)) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(text) = std::fs::read_to_string(entry.path()) else {
                    continue;
                };
                if !["<dblookup", "<dbreport", "<dataServiceCall"]
                    .iter()
                    .any(|m| text.contains(m))
                {
                    continue;
                }
                let label = format!("{kind}/{}", entry.file_name().to_string_lossy());
                match crate::artifact::parse_artifact(&label, &text) {
                    Ok(_) => parsed += 1,
                    Err(e) => refused.push(e.to_string()),
                }
            }
        }
        for e in &refused {
            assert!(allowed.iter().any(|a| e.starts_with(a)), "{e}");
        }
        assert!(parsed >= 14, "only {parsed} parsed; refused: {refused:?}");
    }
}
