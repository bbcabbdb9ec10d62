//! The validated model of a data service (`.dbs` file) as MI's `DataServiceFactory`,
//! `QueryFactory`, `OperationFactory` and `ResourceFactory` build it
//! (MI `components/data/data-services/org.wso2.micro.integrator.dataservices.core/.../core/`), and the
//! typed values ([`Value`], [`Row`], [`Bind`]) that flow between the parameter layer, the database
//! layer and the output mapping. Built by [`crate::dbs::parse_dbs`]; read by everything else.

use std::collections::BTreeSet;

use conflux_artifacts::Span;

use crate::params::BindPlan;

/// MI `DBConstants.WSO2_DS_NAMESPACE`: the default `serviceNamespace`, and the namespace of
/// `REQUEST_STATUS` and `DataServiceFault`.
pub const WSO2_DS_NAMESPACE: &str = "http://ws.wso2.org/dataservice";

/// MI `DBConstants.BATCH_OPERATON_NAME_SUFFIX`: the suffix of generated batch operations/resources.
pub const BATCH_SUFFIX: &str = "_batch_req";

/// MI `DBConstants.DEFAULT_CONFIG_ID`: the config a query without `useConfig` uses.
pub const DEFAULT_CONFIG_ID: &str = "default";

/// A whole data service.
#[derive(Debug, Clone, PartialEq)]
pub struct DataService {
    /// `<data name>`: the service name (`/services/<name>`).
    pub name: String,
    /// `<description>` text.
    pub description: Option<String>,
    /// `serviceNamespace` (default [`WSO2_DS_NAMESPACE`]).
    pub service_namespace: String,
    /// `baseURI`, else the service namespace: the namespace of results without `defaultNamespace`.
    pub default_namespace: String,
    /// `serviceGroup` (default: the name).
    pub service_group: String,
    /// `serviceStatus` (`active` / `inactive`), as written.
    pub service_status: Option<String>,
    /// `transports`, split on whitespace (empty: all).
    pub transports: Vec<String>,
    /// `enableBatchRequests`.
    pub enable_batch_requests: bool,
    /// `enableBoxcarring`.
    pub enable_boxcarring: bool,
    /// `disableLegacyBoxcarringMode`.
    pub disable_legacy_boxcarring_mode: bool,
    /// `disableStreaming`.
    pub disable_streaming: bool,
    /// `<config>` elements, in document order.
    pub configs: Vec<Config>,
    /// `<query>` elements, in document order.
    pub queries: Vec<Query>,
    /// `<operation>` elements, then the generated `_batch_req` operations.
    pub operations: Vec<Operation>,
    /// `<resource>` elements, then the generated `_batch_req` resources.
    pub resources: Vec<Resource>,
    /// The `<data>` element.
    pub span: Span,
}

impl DataService {
    /// The query with this `id`.
    pub fn query(&self, id: &str) -> Option<&Query> {
        self.queries.iter().find(|q| q.id == id)
    }

    /// The config with this `id`.
    pub fn config(&self, id: &str) -> Option<&Config> {
        self.configs.iter().find(|c| c.id == id)
    }

    /// The operation with this name (batch twins included).
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.iter().find(|o| o.name == name)
    }

    /// The resource declared with this method (case-insensitive) and path (as written, without
    /// a leading `/`).
    pub fn resource(&self, method: &str, path: &str) -> Option<&Resource> {
        let path = path.trim_start_matches('/');
        self.resources
            .iter()
            .find(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
    }
}

/// `<config id>`: an RDBMS data source.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub id: String,
    /// What the config connects to.
    pub kind: ConfigKind,
    /// `enableOData` (parsed, not served).
    pub enable_odata: bool,
    /// `<property>` children with non-empty values, in document order; MI's pre-v3 names
    /// (`org.wso2.ws.dataservice.*`) are stored under their v3 names (MI `RDBMSv2ToV3Map`).
    pub properties: Vec<ConfigProperty>,
    pub span: Span,
}

impl Config {
    /// The (resolved) value of a property.
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.as_str())
    }

    /// The property itself (for its span or secret marker).
    pub fn property_entry(&self, name: &str) -> Option<&ConfigProperty> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// `url`: the JDBC URL.
    pub fn url(&self) -> Option<&str> {
        self.property("url")
    }

    /// `driverClassName`.
    pub fn driver_class_name(&self) -> Option<&str> {
        self.property("driverClassName")
    }

    /// `username`.
    pub fn username(&self) -> Option<&str> {
        self.property("username")
    }

    /// `password`.
    pub fn password(&self) -> Option<&str> {
        self.property("password")
    }
}

/// The kind of data source a config describes (MI `ConfigFactory.getConfigType`); the other kinds
/// MI knows (CSV, Excel, Google Sheets, MongoDB, Cassandra, RDF, SPARQL, JNDI, web, custom, XA)
/// are refused at deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigKind {
    /// `driverClassName` + `url`: a JDBC data source.
    Rdbms,
    /// `carbon_datasource_name`: a data source declared in `deployment.toml`
    /// (`[[datasource]]`), looked up by name when the service deploys.
    CarbonDataSource { name: String },
}

/// One `<property name>` of a config.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigProperty {
    /// The v3 name (`driverClassName`, `url`, `username`, `password`, `maxActive`, ...).
    pub name: String,
    /// The text as written.
    pub raw: String,
    /// The value after `$SYSTEM:` / `$FILE:` / `$config:` resolution (equal to `raw` when nothing
    /// was resolved, and for secrets).
    pub value: String,
    /// Set when the value is a secure-vault reference, resolved by the caller.
    pub secret: Option<SecretRef>,
    pub span: Span,
}

/// A secure-vault reference in a property (MI `DBDeployer.secureVaultResolve`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// `svns:secretAlias="alias"` on the `<property>` element.
    Alias(String),
    /// Text `{wso2:vault-lookup('alias')}` (any prefix before `:vault-lookup`).
    VaultLookup(String),
    /// Text `$secret{alias}` (MI 4.x secret syntax).
    Secret(String),
}

/// `<query>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub id: String,
    /// `useConfig` (default `default`).
    pub config_id: String,
    /// The SQL MI picks for this config's URL: the `<sql dialect>` naming the URL's driver
    /// (`jdbc:<driver>:...`), else the `<sql>` without a dialect (MI
    /// `QueryFactory.getSQLQueryForConnectionURL`).
    pub sql: String,
    /// The `<sql>` without a `dialect` (MI uses it when no dialect matches).
    pub default_sql: Option<String>,
    /// `<sql dialect="a,b">` entries: the dialect names and the SQL.
    pub dialect_sql: Vec<(Vec<String>, String)>,
    /// How `sql`'s placeholders bind to `params` (named `:name` and positional `?`).
    pub bind_plan: BindPlan,
    /// Normal statement (starts with SELECT/INSERT/UPDATE/DELETE/CREATE/ALTER/DROP) or a stored
    /// procedure call (MI `SQLQuery.inferQueryType`).
    pub kind: QueryKind,
    /// `<param>` children, in document order.
    pub params: Vec<QueryParam>,
    /// `<result>`.
    pub result: Option<ResultMapping>,
    /// `returnGeneratedKeys`.
    pub return_generated_keys: bool,
    /// `returnUpdatedRowCount`.
    pub return_updated_row_count: bool,
    /// `keyColumns`, split on `,` and trimmed.
    pub key_columns: Vec<String>,
    /// `inputNamespace`, else the result namespace, else the service default namespace.
    pub input_namespace: String,
    /// `<properties>` advanced query properties (`queryTimeout`, `fetchSize`, `maxRows`, ...).
    pub properties: Vec<(String, String)>,
    pub span: Span,
}

impl Query {
    /// The parameter with this name (exact).
    pub fn param(&self, name: &str) -> Option<&QueryParam> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Whether MI writes a result element for this query.
    pub fn has_result(&self) -> bool {
        self.result.is_some()
    }

    /// Whether this is an `UPDATE` statement (MI `SQLQuery.QueryType.UPDATE`, which changes how
    /// missing optional parameters are treated).
    pub fn is_update(&self) -> bool {
        first_word(&self.sql).eq_ignore_ascii_case("update")
    }
}

pub(crate) fn first_word(sql: &str) -> &str {
    sql.split_whitespace().next().unwrap_or("")
}

/// MI `SQLQuery.DS_QUERY_TYPE_NORMAL` / `DS_QUERY_TYPE_STORED_PROC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    Normal,
    StoredProc,
}

/// `<param>` of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryParam {
    /// `name`, trimmed.
    pub name: String,
    pub sql_type: SqlType,
    /// `paramType`: SCALAR (default) or ARRAY.
    pub param_type: ParamKind,
    /// `type`: IN (default); OUT and INOUT are refused at deploy.
    pub direction: Direction,
    /// 1-based placeholder positions this parameter binds to (after named-parameter processing:
    /// every `:name` occurrence adds one). Empty when the parameter binds nowhere.
    pub ordinals: BTreeSet<usize>,
    /// `defaultValue` as written (`#{NULL}`, `#{CURRENT_TIMESTAMP}` ... are evaluated per call).
    pub default_value: Option<String>,
    /// `optional`.
    pub optional: bool,
    /// `forceDefault`.
    pub force_default: bool,
    /// `<validate*>` children, in MI's order: long range, double range, length, pattern.
    pub validators: Vec<Validator>,
    pub span: Span,
}

/// `paramType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Scalar,
    Array,
}

/// `type` of a `<param>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
    InOut,
}

/// A `<validate*>` of a parameter (MI `validation/standard/*Validator`); messages are MI's.
#[derive(Debug, Clone)]
pub enum Validator {
    /// `validateLength minimum maximum` (characters, as Java `String.length()`: UTF-16 units).
    Length { min: Option<i32>, max: Option<i32> },
    /// `validateLongRange minimum maximum`.
    LongRange { min: Option<i64>, max: Option<i64> },
    /// `validateDoubleRange minimum maximum`.
    DoubleRange { min: Option<f64>, max: Option<f64> },
    /// `validatePattern pattern`: the whole value must match.
    Pattern { source: String, regex: regex::Regex },
}

impl PartialEq for Validator {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Length { min: a, max: b }, Self::Length { min: c, max: d }) => a == c && b == d,
            (Self::LongRange { min: a, max: b }, Self::LongRange { min: c, max: d }) => {
                a == c && b == d
            }
            (Self::DoubleRange { min: a, max: b }, Self::DoubleRange { min: c, max: d }) => {
                a == c && b == d
            }
            (Self::Pattern { source: a, .. }, Self::Pattern { source: b, .. }) => a == b,
            _ => false,
        }
    }
}

/// The `sqlType` of a parameter: MI `DBConstants.DataTypes` and `XSDTypes` are all accepted at
/// deploy; only the types MI's `SQLQuery.setParamInPreparedStatement` binds have a variant, the
/// others are [`SqlType::Unbindable`] and fail when a request binds them, as in MI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlType {
    String,
    /// `UUID`: bound as a string in MI.
    Uuid,
    /// `INETADDRESS`: bound as a string in MI.
    InetAddress,
    Integer,
    TinyInt,
    SmallInt,
    /// `BIGINT` and `VARINT`.
    BigInt,
    Double,
    Real,
    Numeric,
    /// `BIT` and `BOOLEAN`.
    Boolean,
    Date,
    Time,
    Timestamp,
    /// `BINARY` and `BLOB`: base64 text in, bytes bound.
    Binary,
    /// `CLOB`: bound as text.
    Clob,
    /// A type MI accepts at deploy but cannot bind (`VARCHAR`, `DECIMAL`, `FLOAT`, ...): the
    /// upper-cased name as written.
    Unbindable(String),
}

impl SqlType {
    /// The name as MI spells it (for messages).
    pub fn name(&self) -> &str {
        match self {
            SqlType::String => "STRING",
            SqlType::Uuid => "UUID",
            SqlType::InetAddress => "INETADDRESS",
            SqlType::Integer => "INTEGER",
            SqlType::TinyInt => "TINYINT",
            SqlType::SmallInt => "SMALLINT",
            SqlType::BigInt => "BIGINT",
            SqlType::Double => "DOUBLE",
            SqlType::Real => "REAL",
            SqlType::Numeric => "NUMERIC",
            SqlType::Boolean => "BOOLEAN",
            SqlType::Date => "DATE",
            SqlType::Time => "TIME",
            SqlType::Timestamp => "TIMESTAMP",
            SqlType::Binary => "BINARY",
            SqlType::Clob => "CLOB",
            SqlType::Unbindable(name) => name,
        }
    }
}

/// `<result>` (or a JSON template turned into the same shape, as MI's
/// `QueryFactory.getJSONResultFromText` does).
#[derive(Debug, Clone, PartialEq)]
pub struct ResultMapping {
    /// `element`: the wrapper element (None when absent or empty).
    pub element: Option<String>,
    /// `rowName`: the element around each row (None: the row's content goes straight into the
    /// wrapper).
    pub row_name: Option<String>,
    /// `defaultNamespace`, else the service default namespace; for JSON templates MI appends
    /// `/<query id>` (`QueryFactory.calculateJSONXMLQueryNS`).
    pub namespace: String,
    /// `outputType="json"`: the mapping came from a JSON template.
    pub json_template: bool,
    /// `useColumnNumbers`: columns are named `1`, `2`, ... instead of their labels.
    pub use_column_numbers: bool,
    /// `escapeNonPrintableChar`: characters XML 1.0 cannot carry become `?`.
    pub escape_non_printable: bool,
    /// The content of each row (MI's default element group: no name).
    pub content: OutputGroup,
    pub span: Span,
}

/// An element group: `<element name>` without a value source, or a row's whole content.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputGroup {
    /// None for a row's content; the element name otherwise.
    pub name: Option<String>,
    /// `namespace`, else the enclosing one.
    pub namespace: String,
    /// `requiredRoles` (the group is left out for callers without one of them).
    pub required_roles: Vec<String>,
    /// `<attribute>` children, in order.
    pub attributes: Vec<OutputField>,
    /// `<element>` / nested groups / `<call-query>` children, in order.
    pub items: Vec<OutputItem>,
    pub span: Span,
}

/// One child of an element group.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputItem {
    Field(OutputField),
    Group(OutputGroup),
    CallQuery(CallQuery),
}

/// `<element>` / `<attribute>` with a value source (MI `StaticOutputElement`).
#[derive(Debug, Clone, PartialEq)]
pub struct OutputField {
    /// `name`: an NCName.
    pub name: String,
    pub source: FieldSource,
    /// `namespace`, else the enclosing one.
    pub namespace: String,
    /// Local part of `xsdType` (default `string`): drives the JSON value type.
    pub xsd_type: String,
    /// `requiredRoles`.
    pub required_roles: Vec<String>,
    /// `optional`: a missing column/parameter leaves the field out instead of failing.
    pub optional: bool,
    /// `export` (boxcarring; parsed, not used).
    pub export: Option<String>,
    pub span: Span,
}

/// Where an output field's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldSource {
    /// `column` (lower-cased: MI matches RDBMS columns case-insensitively).
    Column(String),
    /// `query-param` (lower-cased).
    QueryParam(String),
    /// `value`: a constant.
    Value(String),
}

/// `<call-query href>` in an operation, resource or result.
#[derive(Debug, Clone, PartialEq)]
pub struct CallQuery {
    /// `href`: the query id.
    pub href: String,
    /// `<with-param>` children, in order (MI keeps them in a map keyed by name: a repeated name
    /// keeps the last).
    pub with_params: Vec<WithParam>,
    /// `requiredRoles`.
    pub required_roles: Vec<String>,
    pub span: Span,
}

/// `<with-param name column|query-param>`.
#[derive(Debug, Clone, PartialEq)]
pub struct WithParam {
    /// The target query's parameter name (trimmed).
    pub name: String,
    pub source: WithParamSource,
    pub span: Span,
}

/// The value source of a `<with-param>`: the name as written and lower-cased for lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WithParamSource {
    Column { original: String, lower: String },
    QueryParam { original: String, lower: String },
}

impl WithParamSource {
    /// The lower-cased name MI looks up.
    pub fn lookup_name(&self) -> &str {
        match self {
            WithParamSource::Column { lower, .. } | WithParamSource::QueryParam { lower, .. } => {
                lower
            }
        }
    }

    /// The name as written (for messages).
    pub fn original(&self) -> &str {
        match self {
            WithParamSource::Column { original, .. }
            | WithParamSource::QueryParam { original, .. } => original,
        }
    }

    /// `column` or `query-param`.
    pub fn kind(&self) -> &'static str {
        match self {
            WithParamSource::Column { .. } => "column",
            WithParamSource::QueryParam { .. } => "query-param",
        }
    }
}

/// `<operation name>` (SOAP).
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub name: String,
    pub description: Option<String>,
    /// The first `<call-query>` (MI uses only the first); None: the operation does nothing.
    pub call_query: Option<CallQuery>,
    /// `returnRequestStatus`.
    pub return_request_status: bool,
    /// `disableStreaming`.
    pub disable_streaming: bool,
    /// Generated `<name>_batch_req` twin: the request carries many parameter sets.
    pub batch: bool,
    pub span: Span,
}

/// `<resource method path>` (REST).
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// `method`, upper-cased.
    pub method: String,
    /// `path` as written, without a leading `/` (`employee/{id}`); batch twins end in `_batch_req`.
    pub path: String,
    pub description: Option<String>,
    /// The first `<call-query>`.
    pub call_query: Option<CallQuery>,
    /// `returnRequestStatus`.
    pub return_request_status: bool,
    /// `disableStreaming`.
    pub disable_streaming: bool,
    /// Generated `_batch_req` twin.
    pub batch: bool,
    pub span: Span,
}

impl Resource {
    /// The path split into segments: literal text and `{param}` placeholders.
    pub fn path_segments(&self) -> Vec<PathSegment<'_>> {
        self.path
            .split('?')
            .next()
            .unwrap_or("")
            .split('/')
            .filter(|s| !s.is_empty())
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => PathSegment::Param(name),
                    None => PathSegment::Literal(s),
                },
            )
            .collect()
    }

    /// The names of the `{param}` placeholders in the path, in order.
    pub fn path_params(&self) -> Vec<&str> {
        self.path_segments()
            .into_iter()
            .filter_map(|s| match s {
                PathSegment::Param(name) => Some(name),
                PathSegment::Literal(_) => None,
            })
            .collect()
    }
}

/// A segment of a resource path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathSegment<'a> {
    Literal(&'a str),
    Param(&'a str),
}

/// The typed values and rows shared with the database layer ([`crate::db::value`]): one enum
/// for bound parameters and result columns.
pub use crate::db::value::{Row, Value};

/// One bound placeholder of a prepared statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Bind {
    /// The parameter it came from.
    pub name: String,
    /// Its declared type (a NULL keeps it, so the database can be told the parameter type).
    pub sql_type: SqlType,
    pub value: Value,
}

/// The text MI writes for a column value (`SQLQuery.getDataEntryFromRS` with Axis2's
/// `ConverterUtil`); None for SQL NULL (written `xsi:nil="true"`). Dates, times and timestamps
/// carry the server's offset, which Conflux fixes at UTC (`+00:00`); a timestamp with a zone is
/// converted to UTC first.
pub fn mi_text(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Double(d) => java_double_to_string(*d),
        Value::Decimal(s) | Value::Text(s) => s.clone(),
        Value::Date(d) => format!("{}+00:00", format_date(*d)),
        Value::Time(t) => format!("{}+00:00", format_time(*t)),
        Value::Timestamp(ts) => format!(
            "{}T{}+00:00",
            format_date(ts.date()),
            format_time(ts.time())
        ),
        Value::TimestampTz(ts) => {
            let utc = ts.to_offset(time::UtcOffset::UTC);
            format!(
                "{}T{}+00:00",
                format_date(utc.date()),
                format_time(utc.time())
            )
        }
        Value::Bytes(b) => base64_encode(b),
    })
}

fn format_date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `HH:mm:ss.SSS` (Axis2 `ConverterUtil.appendTime`).
fn format_time(t: time::Time) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Standard base64 with padding, as commons-codec `Base64.encodeBase64`.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Java's `Double.toString(double)`: shortest round-trip digits, plain between 10^-3 and 10^7,
/// computerized scientific notation (`1.0E10`) outside, always with a fraction digit.
pub fn java_double_to_string(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    java_decimal_format(&format!("{d:e}"), d.abs() >= 1e-3 && d.abs() < 1e7)
}

/// Java's `Float.toString(float)`.
pub fn java_float_to_string(f: f32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    java_decimal_format(&format!("{f:e}"), f.abs() >= 1e-3 && f.abs() < 1e7)
}

/// Turns Rust's shortest `{:e}` output (`-1.2345e3`) into Java's layout.
fn java_decimal_format(sci: &str, plain: bool) -> String {
    let (negative, sci) = match sci.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, sci),
    };
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if negative { "-" } else { "" };
    if plain {
        // Value = 0.d1d2d3... x 10^(exponent+1)
        let point = exponent + 1;
        let text = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if (point as usize) >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            let (int, frac) = digits.split_at(point as usize);
            format!("{int}.{frac}")
        };
        format!("{sign}{text}")
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exponent}")
    }
}

/// Whether `name` is an XML NCName (MI validates element, row and attribute names with Axis2's
/// `NCName.isValid`).
pub fn is_ncname(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_alphabetic() || first == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '\u{b7}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_double_to_string_matches_double_tostring() {
        for (d, want) in [
            (1.0, "1.0"),
            (2.5, "2.5"),
            (100.0, "100.0"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1234567.0, "1234567.0"),
            (12345678.0, "1.2345678E7"),
            (1e10, "1.0E10"),
            (-3.25, "-3.25"),
            (0.1 + 0.2, "0.30000000000000004"),
            (0.0, "0.0"),
        ] {
            assert_eq!(java_double_to_string(d), want, "{d}");
        }
        assert_eq!(java_float_to_string(1.1), "1.1");
        assert_eq!(java_float_to_string(3.0e8), "3.0E8");
    }

    #[test]
    fn mi_strings_of_column_values() {
        // MI SQLQuery.getDataEntryFromRS + Axis2 ConverterUtil (JVM in UTC).
        let date = time::Date::from_calendar_date(2024, time::Month::January, 5).unwrap();
        let t = time::Time::from_hms_milli(9, 3, 7, 45).unwrap();
        let text = |v: Value| mi_text(&v);
        assert_eq!(text(Value::Date(date)).as_deref(), Some("2024-01-05+00:00"));
        assert_eq!(text(Value::Time(t)).as_deref(), Some("09:03:07.045+00:00"));
        let ts = time::PrimitiveDateTime::new(date, t);
        assert_eq!(
            text(Value::Timestamp(ts)).as_deref(),
            Some("2024-01-05T09:03:07.045+00:00")
        );
        // An instant in +02:00 is written in UTC.
        let tz = ts.assume_offset(time::UtcOffset::from_hms(2, 0, 0).unwrap());
        assert_eq!(
            text(Value::TimestampTz(tz)).as_deref(),
            Some("2024-01-05T07:03:07.045+00:00")
        );
        assert_eq!(text(Value::Bytes(b"hi!".to_vec())).as_deref(), Some("aGkh"));
        assert_eq!(text(Value::Bool(true)).as_deref(), Some("true"));
        assert_eq!(text(Value::Double(2.0)).as_deref(), Some("2.0"));
        assert_eq!(text(Value::Int(-7)).as_deref(), Some("-7"));
        assert_eq!(text(Value::Null), None);
    }

    #[test]
    fn ncnames() {
        assert!(is_ncname("Entry"));
        assert!(is_ncname("_a-b.c1"));
        assert!(!is_ncname("1a"));
        assert!(!is_ncname("a:b"));
        assert!(!is_ncname(""));
        assert!(!is_ncname("a b"));
    }
}
