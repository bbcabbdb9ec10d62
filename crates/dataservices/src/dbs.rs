//! The `.dbs` reader: roxmltree (DTDs refused, structure limits checked first) to the validated
//! [`DataService`] model, as MI's `DataServiceFactory`, `ConfigFactory`, `QueryFactory`,
//! `OperationFactory`, `ResourceFactory` and `DBDeployer.validateDataService` build and check it.
//! Every refusal is a [`DbsError`] located `file:line:column` that names the element or attribute,
//! what was found and what is valid; constructs MI has and Conflux does not (other data-source
//! kinds, SPARQL, event triggers, policies, `QUERY_STRING` splicing, OUT parameters, custom
//! validators, XSLT, RDF output) are refused by name.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use conflux_artifacts::xml_limits::{XmlLimitError, XmlLimits, check_structure, line_at};
use conflux_artifacts::{InjectedValues, Span};
use roxmltree::{Document, Node};

use crate::error::DbsError;
use crate::model::{
    BATCH_SUFFIX, CallQuery, Config, ConfigKind, ConfigProperty, DEFAULT_CONFIG_ID, DataService,
    Direction, FieldSource, Operation, OutputField, OutputGroup, OutputItem, ParamKind, Query,
    QueryKind, QueryParam, Resource, ResultMapping, SecretRef, SqlType, Validator,
    WSO2_DS_NAMESPACE, WithParam, WithParamSource, first_word, is_ncname,
};
use crate::params::{BindPlan, java_hashmap_order};

/// Largest `.dbs` file read.
pub const MAX_DBS_BYTES: usize = 4 * 1024 * 1024;

/// Deepest element nesting in a `.dbs` file (results nest element groups; MI's own test files
/// stay under 10 levels).
pub const MAX_DBS_DEPTH: usize = 64;

/// Most nodes in one `.dbs` document (roxmltree's `nodes_limit`).
pub const MAX_DBS_NODES: u32 = 1_000_000;

const DBS_XML_LIMITS: XmlLimits = XmlLimits {
    max_depth: MAX_DBS_DEPTH,
    max_attributes_per_element: 64,
    max_attributes: 1_000_000,
    max_namespaces_in_scope: 64,
    max_namespace_bindings: 100_000,
};

/// The secure-vault namespace of `svns:secretAlias` (MI `DataSourceConstants.SECURE_VAULT_NS`).
pub const SECURE_VAULT_NS: &str = "http://org.wso2.securevault/configuration";

/// What MI's `sqlType` accepts (`DBConstants.DataTypes` and `XSDTypes`).
const VALID_SQL_TYPES: &[&str] = &[
    "CHAR",
    "LONG",
    "STRING",
    "VARCHAR",
    "NVARCHAR",
    "TEXT",
    "NUMERIC",
    "DECIMAL",
    "MONEY",
    "SMALLMONEY",
    "BIT",
    "ANYURI",
    "BOOLEAN",
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "REAL",
    "FLOAT",
    "DOUBLE",
    "BINARY",
    "BLOB",
    "CLOB",
    "VARBINARY",
    "LONG VARBINARY",
    "IMAGE",
    "DATE",
    "TIME",
    "TIMESTAMP",
    "ORACLE_REF_CURSOR",
    "STRUCT",
    "ARRAY",
    "QUERY_STRING",
    "VARINT",
    "UUID",
    "INETADDRESS",
    "SQLXML",
    "DATETIME",
    "GYEARMONTH",
    "GYEAR",
    "GMONTHDAY",
    "GDAY",
    "GMONTH",
    "HEXBINARY",
    "BASE64BINARY",
    "QNAME",
    "NOTATION",
];

/// `<sql dialect>` names Conflux recognises: the `<driver>` of `jdbc:<driver>:` URLs.
const KNOWN_DIALECTS: &[&str] = &[
    "mysql",
    "mariadb",
    "postgresql",
    "sqlite",
    "oracle",
    "sqlserver",
    "jtds",
    "h2",
    "derby",
    "db2",
    "hsqldb",
    "sybase",
    "informix-sqli",
    "as400",
    "mssqlserver",
];

/// Pre-v3 property names (MI `DBConstants.RDBMSv2ToV3Map`); `None`: dropped.
const OLD_PROPERTY_NAMES: &[(&str, Option<&str>)] = &[
    ("org.wso2.ws.dataservice.driver", Some("driverClassName")),
    ("org.wso2.ws.dataservice.protocol", Some("url")),
    ("org.wso2.ws.dataservice.user", Some("username")),
    ("org.wso2.ws.dataservice.password", Some("password")),
    (
        "org.wso2.ws.dataservice.query_timeout",
        Some("queryTimeout"),
    ),
    ("org.wso2.ws.dataservice.autocommit", Some("autoCommit")),
    (
        "org.wso2.ws.dataservice.fetch_direction",
        Some("fetchDirection"),
    ),
    ("org.wso2.ws.dataservice.fetch_size", Some("fetchSize")),
    (
        "org.wso2.ws.dataservice.max_field_size",
        Some("maxFieldSize"),
    ),
    ("org.wso2.ws.dataservice.max_rows", Some("maxRows")),
    (
        "org.wso2.ws.dataservice.force_jdbc_batch_requests",
        Some("forceJDBCBatchRequests"),
    ),
    (
        "org.wso2.ws.dataservice.force_stored_proc",
        Some("forceStoredProc"),
    ),
    (
        "org.wso2.ws.dataservice.transaction_isolation",
        Some("defaultTransactionIsolation"),
    ),
    ("org.wso2.ws.dataservice.initial_size", Some("initialSize")),
    ("org.wso2.ws.dataservice.maxpoolsize", Some("maxActive")),
    ("org.wso2.ws.dataservice.max_idle", Some("maxIdle")),
    ("org.wso2.ws.dataservice.minpoolsize", Some("minIdle")),
    ("org.wso2.ws.dataservice.max_wait", Some("maxWait")),
    (
        "org.wso2.ws.dataservice.validation_query",
        Some("validationQuery"),
    ),
    (
        "org.wso2.ws.dataservice.test_on_borrow",
        Some("testOnBorrow"),
    ),
    (
        "org.wso2.ws.dataservice.test_on_return",
        Some("testOnReturn"),
    ),
    (
        "org.wso2.ws.dataservice.test_while_idle",
        Some("testWhileIdle"),
    ),
    (
        "org.wso2.ws.dataservice.time_between_eviction_runs_mills",
        Some("timeBetweenEvictionRunsMillis"),
    ),
    ("org.wso2.ws.dataservice.num_test_per_eviction_run", None),
    (
        "org.wso2.ws.dataservice.min_evictable_idle_time_millis",
        Some("minEvictableIdleTimeMillis"),
    ),
    (
        "org.wso2.ws.dataservice.remove_abandoned",
        Some("removeAbandoned"),
    ),
    (
        "org.wso2.ws.dataservice.remove_abandoned_timeout",
        Some("removeAbandonedTimeout"),
    ),
    (
        "org.wso2.ws.dataservice.log_abandoned",
        Some("logAbandoned"),
    ),
    (
        "org.wso2.ws.dataservice.xa_datasource_class",
        Some("dataSourceClassName"),
    ),
    (
        "org.wso2.ws.dataservice.xa_datasource_properties",
        Some("dataSourceProps"),
    ),
];

/// Data-source kinds MI recognises by a property and Conflux refuses (MI `ConfigFactory.getConfigType`).
const UNSUPPORTED_SOURCES: &[(&str, &str)] = &[
    ("excel_datasource", "Excel data sources"),
    ("rdf_datasource", "RDF data sources"),
    ("sparql_datasource", "SPARQL data sources"),
    ("csv_datasource", "CSV data sources"),
    ("jndi_resource_name", "JNDI data sources"),
    ("mongoDB_servers", "MongoDB data sources"),
    ("gspread_datasource", "Google Sheets data sources"),
    ("web_harvest_config", "web scraping data sources"),
    (
        "custom_tabular_datasource_class",
        "custom tabular data sources (Java classes)",
    ),
    (
        "custom_query_datasource_class",
        "custom query data sources (Java classes)",
    ),
    ("cassandraServers", "Cassandra data sources"),
];

/// Looks up the JDBC URL of a `deployment.toml` data source by name.
pub type DataSourceUrl<'a> = &'a dyn Fn(&str) -> Option<String>;

/// How to read a `.dbs` file.
#[derive(Clone, Copy, Default)]
pub struct ParseOptions<'a> {
    /// Resolves `$SYSTEM:` / `$FILE:` / `$config:` property values (MI `ResolverFactory`);
    /// None keeps them as written.
    pub values: Option<&'a dyn InjectedValues>,
    /// The JDBC URL of a `carbon_datasource_name` data source (to pick `<sql dialect>`s); None
    /// (or an unknown name) uses the dialect-less `<sql>`.
    pub datasource_url: Option<DataSourceUrl<'a>>,
}

/// Parses and validates a `.dbs` file. `file` labels errors (`dataservices/Foo.dbs`).
pub fn parse_dbs(
    file: &str,
    text: &str,
    options: &ParseOptions,
) -> std::result::Result<DataService, DbsError> {
    let file: Arc<str> = Arc::from(file);
    if text.len() > MAX_DBS_BYTES {
        return Err(DbsError::TooLarge {
            message: format!(
                "file of {} bytes exceeds the limit of {MAX_DBS_BYTES} bytes",
                text.len()
            ),
            span: Span::whole_file(&file),
        });
    }
    check_structure(text, &DBS_XML_LIMITS).map_err(|err| {
        let line = u32::try_from(line_at(text, err.offset())).unwrap_or(u32::MAX);
        let span = Span::new(file.clone(), line, 1);
        let message = match err {
            XmlLimitError::Depth { limit, .. } => {
                format!("elements nested deeper than {limit} levels")
            }
            other => format!("refused: {other}"),
        };
        DbsError::TooLarge { message, span }
    })?;
    let parsing = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_DBS_NODES,
        ..Default::default()
    };
    let doc = Document::parse_with_options(text, parsing).map_err(|err| {
        let pos = err.pos();
        let message = err.to_string();
        let suffix = format!(" at {}:{}", pos.row, pos.col);
        DbsError::XmlSyntax {
            message: message
                .strip_suffix(&suffix)
                .unwrap_or(&message)
                .to_string(),
            span: Span::new(file.clone(), pos.row, pos.col),
        }
    })?;
    let ctx = Ctx {
        file,
        doc: &doc,
        options,
    };
    let root = doc.root_element();
    if root.tag_name().name() != "data" || root.tag_name().namespace().is_some() {
        return Err(DbsError::Invalid {
            message: format!(
                "root element <{}> is not a data service: expected <data> (in no namespace)",
                qualified(root)
            ),
            span: ctx.span(root),
        });
    }
    ctx.data(root)
}

struct Ctx<'a, 'input> {
    file: Arc<str>,
    doc: &'a Document<'input>,
    options: &'a ParseOptions<'a>,
}

type Result<T> = std::result::Result<T, DbsError>;

/// What MI keys a service's configs, queries, operations and resources by: a second one with
/// the same key is refused.
trait Keyed {
    const KIND: &'static str;
    fn key(&self) -> String;
    /// How the duplicate is named in the error.
    fn label(&self) -> String {
        self.key()
    }
    fn span(&self) -> &Span;
}

/// `Keyed` for a type keyed by one of its fields.
macro_rules! keyed_by_field {
    ($($ty:ty: $kind:literal by $field:ident),+ $(,)?) => {$(
        impl Keyed for $ty {
            const KIND: &'static str = $kind;
            fn key(&self) -> String {
                self.$field.clone()
            }
            fn span(&self) -> &Span {
                &self.span
            }
        }
    )+};
}

keyed_by_field!(
    Config: "config" by id,
    Query: "query" by id,
    Operation: "operation" by name,
);

impl Keyed for Resource {
    const KIND: &'static str = "resource";
    fn key(&self) -> String {
        self.request_name()
    }
    fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
    fn span(&self) -> &Span {
        &self.span
    }
}

/// Adds `item` to `items`, or refuses it as [`DbsError::Duplicate`] of the first with its key.
fn push_unique<T: Keyed>(items: &mut Vec<T>, item: T) -> Result<()> {
    let key = item.key();
    if let Some(first) = items.iter().find(|i| i.key() == key) {
        return Err(DbsError::Duplicate {
            kind: T::KIND.into(),
            name: item.label(),
            first: first.span().clone(),
            span: item.span().clone(),
        });
    }
    items.push(item);
    Ok(())
}

fn qualified(node: Node) -> String {
    node.tag_name().name().to_string()
}

/// An attribute in no namespace.
fn attr<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    node.attributes()
        .find(|a| a.namespace().is_none() && a.name() == name)
        .map(|a| a.value())
}

/// Java `Boolean.parseBoolean` of an attribute (absent: false).
fn bool_attr(node: Node, name: &str) -> bool {
    attr(node, name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// MI `DBUtils.isEmptyString`.
fn non_blank(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

fn elements<'a, 'input>(node: Node<'a, 'input>) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children().filter(|n| n.is_element())
}

/// Axiom `getText()`: all text and CDATA children, concatenated.
fn text_of(node: Node) -> String {
    node.children()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

fn split_roles(value: Option<&str>) -> Vec<String> {
    match non_blank(value) {
        Some(v) => v.split(',').map(|r| r.trim().to_string()).collect(),
        None => Vec::new(),
    }
}

impl<'a, 'input> Ctx<'a, 'input> {
    fn span(&self, node: Node) -> Span {
        let pos = self.doc.text_pos_at(node.range().start);
        Span::new(self.file.clone(), pos.row, pos.col)
    }

    fn attr_span(&self, node: Node, name: &str) -> Span {
        match node
            .attributes()
            .find(|a| a.namespace().is_none() && a.name() == name)
        {
            Some(a) => {
                let pos = self.doc.text_pos_at(a.range().start);
                Span::new(self.file.clone(), pos.row, pos.col)
            }
            None => self.span(node),
        }
    }

    fn required<'n>(&self, node: Node<'n, '_>, name: &str, expected: &str) -> Result<&'n str> {
        match attr(node, name) {
            Some(value) if !value.trim().is_empty() => Ok(value),
            _ => Err(DbsError::Missing {
                element: qualified(node),
                what: format!("attribute '{name}'"),
                expected: expected.to_string(),
                span: self.span(node),
            }),
        }
    }

    fn unsupported(&self, node: Node, what: String, why: &str) -> DbsError {
        DbsError::Unsupported {
            what,
            why: why.to_string(),
            span: self.span(node),
        }
    }

    fn unknown(&self, node: Node, parent: Node, expected: &str) -> DbsError {
        DbsError::UnknownElement {
            element: qualified(node),
            parent: qualified(parent),
            expected: expected.to_string(),
            span: self.span(node),
        }
    }

    fn data(&self, root: Node<'a, 'input>) -> Result<DataService> {
        let name = self
            .required(root, "name", "the data service name (an NCName)")?
            .to_string();
        let service_namespace = non_blank(attr(root, "serviceNamespace"))
            .unwrap_or(WSO2_DS_NAMESPACE)
            .to_string();
        let default_namespace = non_blank(attr(root, "baseURI"))
            .map(str::to_string)
            .unwrap_or_else(|| service_namespace.clone());
        let service_group = non_blank(attr(root, "serviceGroup"))
            .unwrap_or(&name)
            .to_string();
        let transports = attr(root, "transports")
            .map(|t| t.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        if let Some(tx) = attr(root, "txManagerJNDIName") {
            let _ = tx;
            return Err(self.unsupported(
                root,
                "attribute 'txManagerJNDIName' of <data>".into(),
                "distributed (JTA) transactions",
            ));
        }
        if bool_attr(root, "enableDTP") {
            return Err(self.unsupported(
                root,
                "attribute 'enableDTP' of <data>".into(),
                "distributed (XA) transactions across data sources",
            ));
        }
        let mut description = None;
        let mut configs: Vec<Config> = Vec::new();
        let mut query_nodes = Vec::new();
        let mut operation_nodes = Vec::new();
        let mut resource_nodes = Vec::new();
        const EXPECTED: &str = "<description>, <config>, <query>, <operation> or <resource>";
        for child in elements(root) {
            if child.tag_name().namespace().is_some() {
                // Secure-vault `passwordManager` and other namespaced extensions carry no service
                // content.
                continue;
            }
            match child.tag_name().name() {
                "description" => description = Some(text_of(child)),
                "config" => {
                    push_unique(&mut configs, self.config(child)?)?;
                }
                "query" => query_nodes.push(child),
                "operation" => operation_nodes.push(child),
                "resource" => resource_nodes.push(child),
                "event-trigger" => {
                    return Err(self.unsupported(
                        child,
                        "element <event-trigger>".into(),
                        "data service event triggers (WS-Eventing)",
                    ));
                }
                "policy" | "enableSec" => {
                    return Err(self.unsupported(
                        child,
                        format!("element <{}>", child.tag_name().name()),
                        "WS-Security policies on data services",
                    ));
                }
                "authorization_provider" => {
                    return Err(self.unsupported(
                        child,
                        "element <authorization_provider>".into(),
                        "role-based authorization providers (Java classes)",
                    ));
                }
                "passwordManager" | "passwordProvider" | "protectedTokens" => {}
                _ => return Err(self.unknown(child, root, EXPECTED)),
            }
        }
        let mut queries: Vec<Query> = Vec::new();
        for node in query_nodes {
            push_unique(
                &mut queries,
                self.query(node, &configs, &default_namespace)?,
            )?;
        }
        let mut operations: Vec<Operation> = Vec::new();
        for node in operation_nodes {
            push_unique(&mut operations, self.operation(node)?)?;
        }
        let mut resources: Vec<Resource> = Vec::new();
        for node in resource_nodes {
            push_unique(&mut resources, self.resource(node)?)?;
        }
        let mut service = DataService {
            name,
            description,
            service_namespace,
            default_namespace,
            service_group,
            service_status: attr(root, "serviceStatus").map(str::to_string),
            transports,
            enable_batch_requests: bool_attr(root, "enableBatchRequests"),
            enable_boxcarring: bool_attr(root, "enableBoxcarring"),
            disable_legacy_boxcarring_mode: bool_attr(root, "disableLegacyBoxcarringMode"),
            disable_streaming: bool_attr(root, "disableStreaming"),
            configs,
            queries,
            operations,
            resources,
            span: self.span(root),
        };
        validate_service(&service)?;
        if service.enable_batch_requests {
            add_batch_requests(&mut service);
        }
        Ok(service)
    }

    fn config(&self, node: Node<'a, 'input>) -> Result<Config> {
        let id = attr(node, "id").unwrap_or(DEFAULT_CONFIG_ID).to_string();
        let mut properties: Vec<ConfigProperty> = Vec::new();
        for prop in elements(node) {
            if prop.tag_name().name() != "property" || prop.tag_name().namespace().is_some() {
                return Err(self.unknown(prop, node, "<property name=\"...\">"));
            }
            let Some(raw_name) = attr(prop, "name") else {
                return Err(DbsError::Missing {
                    element: "property".into(),
                    what: "attribute 'name'".into(),
                    expected: "driverClassName, url, username, password, or a pool setting".into(),
                    span: self.span(prop),
                });
            };
            let name = match OLD_PROPERTY_NAMES.iter().find(|(old, _)| *old == raw_name) {
                Some((_, Some(new))) => (*new).to_string(),
                Some((_, None)) => continue,
                None => raw_name.to_string(),
            };
            let alias = prop
                .attributes()
                .find(|a| a.namespace() == Some(SECURE_VAULT_NS) && a.name() == "secretAlias")
                .map(|a| a.value().to_string());
            let has_children = elements(prop).next().is_some();
            let raw = if has_children {
                self.doc.input_text()[prop.range()].to_string()
            } else {
                text_of(prop)
            };
            let mut secret = alias.map(SecretRef::Alias);
            if secret.is_none() && !has_children {
                secret = secret_reference(raw.trim());
            }
            if raw.is_empty() && secret.is_none() {
                // MI keeps only properties with a non-empty value.
                continue;
            }
            let value = match (&secret, self.options.values, has_children) {
                (None, Some(values), false) => conflux_artifacts::inject::resolve(&raw, values)
                    .map_err(|e| DbsError::Inject {
                        property: name.clone(),
                        message: e.to_string(),
                        span: self.span(prop),
                    })?
                    .into_owned(),
                _ => raw.clone(),
            };
            properties.push(ConfigProperty {
                name,
                raw,
                value,
                secret,
                span: self.span(prop),
            });
        }
        let has = |n: &str| properties.iter().any(|p| p.name == n);
        let kind = if has("dataSourceClassName") {
            return Err(self.unsupported(
                node,
                "XA data source (property 'dataSourceClassName')".into(),
                "XA data sources; use driverClassName and url",
            ));
        } else if has("driverClassName") {
            if !has("url") {
                return Err(DbsError::Missing {
                    element: "config".into(),
                    what: "property 'url'".into(),
                    expected: "a JDBC URL such as jdbc:postgresql://host:5432/db, jdbc:mysql://host:3306/db or jdbc:sqlite:path".into(),
                    span: self.span(node),
                });
            }
            ConfigKind::Rdbms
        } else if let Some(p) = properties
            .iter()
            .find(|p| p.name == "carbon_datasource_name")
        {
            ConfigKind::CarbonDataSource {
                name: p.value.clone(),
            }
        } else if let Some((_, what)) = UNSUPPORTED_SOURCES.iter().find(|(prop, _)| has(prop)) {
            return Err(self.unsupported(
                node,
                format!("data source kind of <config id=\"{id}\"> ({what})"),
                "only RDBMS data sources (driverClassName + url) and carbon_datasource_name are supported",
            ));
        } else {
            return Err(DbsError::Invalid {
                message: format!(
                    "<config id=\"{id}\"> has no data source: expected properties driverClassName and url (an RDBMS data source) or carbon_datasource_name"
                ),
                span: self.span(node),
            });
        };
        Ok(Config {
            id,
            kind,
            enable_odata: bool_attr(node, "enableOData"),
            properties,
            span: self.span(node),
        })
    }

    fn query(
        &self,
        node: Node<'a, 'input>,
        configs: &[Config],
        service_namespace: &str,
    ) -> Result<Query> {
        let id = self
            .required(node, "id", "the query id referenced by call-query href")?
            .to_string();
        let config_id = attr(node, "useConfig")
            .unwrap_or(DEFAULT_CONFIG_ID)
            .to_string();
        let Some(config) = configs.iter().find(|c| c.id == config_id) else {
            let known: Vec<&str> = configs.iter().map(|c| c.id.as_str()).collect();
            return Err(DbsError::InvalidValue {
                element: "query".into(),
                what: "attribute 'useConfig'".into(),
                value: config_id,
                expected: if known.is_empty() {
                    "the id of a <config> (none is declared)".into()
                } else {
                    format!("the id of a <config>: {}", known.join(", "))
                },
                span: self.attr_span(node, "useConfig"),
            });
        };
        for trigger in ["input-event-trigger", "output-event-trigger"] {
            if attr(node, trigger).is_some() {
                return Err(DbsError::Unsupported {
                    what: format!("attribute '{trigger}' of <query>"),
                    why: "data service event triggers".into(),
                    span: self.attr_span(node, trigger),
                });
            }
        }
        let mut default_sql: Option<String> = None;
        let mut dialect_sql: Vec<(Vec<String>, String)> = Vec::new();
        let mut param_nodes = Vec::new();
        let mut result_node = None;
        let mut properties = Vec::new();
        const EXPECTED: &str = "<sql>, <param>, <result> or <properties>";
        for child in elements(node) {
            match child.tag_name().name() {
                "sql" => {
                    let text = text_of(child);
                    match attr(child, "dialect") {
                        None => {
                            if default_sql.is_none() {
                                default_sql = Some(text);
                            }
                        }
                        Some(dialects) => {
                            // MI splits on "," without trimming.
                            let names: Vec<String> =
                                dialects.split(',').map(str::to_string).collect();
                            for name in &names {
                                if !KNOWN_DIALECTS.contains(&name.as_str()) {
                                    return Err(DbsError::InvalidValue {
                                        element: "sql".into(),
                                        what: "attribute 'dialect'".into(),
                                        value: dialects.to_string(),
                                        expected: format!(
                                            "comma-separated JDBC driver names without spaces ({})",
                                            KNOWN_DIALECTS.join(", ")
                                        ),
                                        span: self.attr_span(child, "dialect"),
                                    });
                                }
                                if dialect_sql.iter().any(|(d, _)| d.contains(name)) {
                                    return Err(DbsError::Invalid {
                                        message: format!("SQL Dialect(s) repeated: {name}"),
                                        span: self.attr_span(child, "dialect"),
                                    });
                                }
                            }
                            dialect_sql.push((names, text));
                        }
                    }
                }
                "param" => param_nodes.push(child),
                "result" => {
                    if result_node.is_none() {
                        result_node = Some(child);
                    }
                }
                "properties" => {
                    for prop in elements(child) {
                        if prop.tag_name().name() != "property" {
                            return Err(self.unknown(prop, child, "<property name=\"...\">"));
                        }
                        let text = text_of(prop);
                        if text.is_empty() {
                            continue;
                        }
                        let name = attr(prop, "name").unwrap_or_default();
                        let name = match OLD_PROPERTY_NAMES.iter().find(|(old, _)| *old == name) {
                            Some((_, Some(new))) => (*new).to_string(),
                            Some((_, None)) => continue,
                            None => name.to_string(),
                        };
                        properties.push((name, text));
                    }
                }
                "description" => {}
                "sparql" | "expression" | "excel" | "gspread" | "scraperVariable" => {
                    return Err(self.unsupported(
                        child,
                        format!("element <{}> in <query>", child.tag_name().name()),
                        "queries other than SQL",
                    ));
                }
                _ => return Err(self.unknown(child, node, EXPECTED)),
            }
        }
        let url = match &config.kind {
            ConfigKind::Rdbms => config.url().map(str::to_string),
            ConfigKind::CarbonDataSource { name } => {
                self.options.datasource_url.and_then(|lookup| lookup(name))
            }
        };
        let Some(sql) = select_sql(default_sql.as_deref(), &dialect_sql, url.as_deref()) else {
            return Err(DbsError::Invalid {
                message: format!(
                    "query '{id}' has no <sql> for the data source{}: give a <sql> without a dialect or one whose dialect names the URL's driver",
                    url.map(|u| format!(" {u}")).unwrap_or_default()
                ),
                span: self.span(node),
            });
        };
        let sql = sql.to_string();
        let mut params = Vec::new();
        let mut current_ordinal = 0usize;
        for p in param_nodes {
            let param = self.param(p, &mut current_ordinal)?;
            params.push(param);
        }
        let bind_plan = BindPlan::build(&sql, &mut params);
        let result = match result_node {
            Some(r) => Some(self.result(r, &id, service_namespace)?),
            None => None,
        };
        let upper = sql.trim().to_ascii_uppercase();
        let force_stored_proc = properties
            .iter()
            .any(|(k, v)| k == "forceStoredProc" && v.eq_ignore_ascii_case("true"));
        let kind = if !force_stored_proc
            && [
                "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "DROP",
            ]
            .iter()
            .any(|k| upper.starts_with(k))
        {
            QueryKind::Normal
        } else {
            QueryKind::StoredProc
        };
        let input_namespace = non_blank(attr(node, "inputNamespace"))
            .map(str::to_string)
            .or_else(|| result.as_ref().map(|r| r.namespace.clone()))
            .unwrap_or_else(|| service_namespace.to_string());
        let key_columns = non_blank(attr(node, "keyColumns"))
            .map(|k| k.split(',').map(|c| c.trim().to_string()).collect())
            .unwrap_or_default();
        Ok(Query {
            id,
            config_id,
            sql,
            default_sql,
            dialect_sql,
            bind_plan,
            kind,
            params,
            result,
            return_generated_keys: bool_attr(node, "returnGeneratedKeys"),
            return_updated_row_count: bool_attr(node, "returnUpdatedRowCount"),
            key_columns,
            input_namespace,
            properties,
            span: self.span(node),
        })
    }

    fn param(&self, node: Node<'a, 'input>, current_ordinal: &mut usize) -> Result<QueryParam> {
        let name = self
            .required(node, "name", "the parameter name")?
            .trim()
            .to_string();
        let sql_type_raw = match attr(node, "sqlType") {
            Some(t) => t.to_uppercase(),
            None => {
                return Err(DbsError::Missing {
                    element: "param".into(),
                    what: "attribute 'sqlType'".into(),
                    expected: "STRING, INTEGER, BIGINT, DOUBLE, NUMERIC, BOOLEAN, DATE, TIME, TIMESTAMP, BINARY, ...".into(),
                    span: self.span(node),
                });
            }
        };
        if !VALID_SQL_TYPES.contains(&sql_type_raw.as_str()) {
            return Err(DbsError::InvalidValue {
                element: "param".into(),
                what: "attribute 'sqlType'".into(),
                value: attr(node, "sqlType").unwrap_or_default().to_string(),
                expected: format!("one of {}", VALID_SQL_TYPES.join(", ")),
                span: self.attr_span(node, "sqlType"),
            });
        }
        let sql_type = match sql_type_raw.as_str() {
            "STRING" => SqlType::String,
            "UUID" => SqlType::Uuid,
            "INETADDRESS" => SqlType::InetAddress,
            "INTEGER" => SqlType::Integer,
            "TINYINT" => SqlType::TinyInt,
            "SMALLINT" => SqlType::SmallInt,
            "BIGINT" | "VARINT" => SqlType::BigInt,
            "DOUBLE" => SqlType::Double,
            "REAL" => SqlType::Real,
            "NUMERIC" => SqlType::Numeric,
            "BIT" | "BOOLEAN" => SqlType::Boolean,
            "DATE" => SqlType::Date,
            "TIME" => SqlType::Time,
            "TIMESTAMP" => SqlType::Timestamp,
            "BINARY" | "BLOB" => SqlType::Binary,
            "CLOB" => SqlType::Clob,
            "QUERY_STRING" => {
                return Err(DbsError::Unsupported {
                    what: "sqlType QUERY_STRING".into(),
                    why:
                        "it splices the request value into the SQL text; Conflux only binds values"
                            .into(),
                    span: self.attr_span(node, "sqlType"),
                });
            }
            "ORACLE_REF_CURSOR" | "STRUCT" | "ARRAY" | "SQLXML" => {
                return Err(DbsError::Unsupported {
                    what: format!("sqlType {sql_type_raw}"),
                    why: "Oracle cursors, user-defined types, SQL arrays and SQLXML parameters"
                        .into(),
                    span: self.attr_span(node, "sqlType"),
                });
            }
            other => SqlType::Unbindable(other.to_string()),
        };
        let direction = match non_blank(attr(node, "type"))
            .map(str::to_uppercase)
            .as_deref()
        {
            None | Some("IN") => Direction::In,
            Some("OUT") | Some("INOUT") => {
                return Err(DbsError::Unsupported {
                    what: format!("parameter type {}", attr(node, "type").unwrap_or_default()),
                    why: "stored procedure OUT/INOUT parameters".into(),
                    span: self.attr_span(node, "type"),
                });
            }
            Some(_) => {
                return Err(DbsError::InvalidValue {
                    element: "param".into(),
                    what: "attribute 'type'".into(),
                    value: attr(node, "type").unwrap_or_default().to_string(),
                    expected: "IN (OUT and INOUT are MI stored-procedure types)".into(),
                    span: self.attr_span(node, "type"),
                });
            }
        };
        let param_type = match non_blank(attr(node, "paramType"))
            .map(str::to_uppercase)
            .as_deref()
        {
            None | Some("SCALAR") => ParamKind::Scalar,
            Some("ARRAY") => ParamKind::Array,
            Some(_) => {
                return Err(DbsError::InvalidValue {
                    element: "param".into(),
                    what: "attribute 'paramType'".into(),
                    value: attr(node, "paramType").unwrap_or_default().to_string(),
                    expected: "SCALAR or ARRAY".into(),
                    span: self.attr_span(node, "paramType"),
                });
            }
        };
        // MI: an ordinal > 0 is taken (and raises the running counter); otherwise the next one.
        let ordinal = match attr(node, "ordinal") {
            Some(text) => {
                let n: i64 = text.trim().parse().map_err(|_| DbsError::InvalidValue {
                    element: "param".into(),
                    what: "attribute 'ordinal'".into(),
                    value: text.to_string(),
                    expected: "an integer (the 1-based position of its ? in the SQL)".into(),
                    span: self.attr_span(node, "ordinal"),
                })?;
                if n > 0 {
                    let n = n as usize;
                    *current_ordinal = (*current_ordinal).max(n);
                    n
                } else {
                    *current_ordinal += 1;
                    *current_ordinal
                }
            }
            None => {
                *current_ordinal += 1;
                *current_ordinal
            }
        };
        let mut validators = Vec::new();
        // MI's order: long range, double range, length, pattern (first of each), custom.
        for kind in [
            "validateLongRange",
            "validateDoubleRange",
            "validateLength",
            "validatePattern",
        ] {
            if let Some(v) = elements(node).find(|c| c.tag_name().name() == kind) {
                validators.push(self.validator(v)?);
            }
        }
        for child in elements(node) {
            match child.tag_name().name() {
                "validateLongRange"
                | "validateDoubleRange"
                | "validateLength"
                | "validatePattern" => {}
                "validateCustom" => {
                    return Err(self.unsupported(
                        child,
                        "element <validateCustom>".into(),
                        "custom validators are Java classes",
                    ));
                }
                _ => {
                    return Err(self.unknown(
                        child,
                        node,
                        "<validateLength>, <validateLongRange>, <validateDoubleRange> or <validatePattern>",
                    ));
                }
            }
        }
        Ok(QueryParam {
            name,
            sql_type,
            param_type,
            direction,
            ordinals: BTreeSet::from([ordinal]),
            default_value: attr(node, "defaultValue").map(str::to_string),
            optional: bool_attr(node, "optional"),
            force_default: bool_attr(node, "forceDefault"),
            validators,
            span: self.span(node),
        })
    }

    fn validator(&self, node: Node) -> Result<Validator> {
        let kind = node.tag_name().name();
        fn bound<T: std::str::FromStr>(
            ctx: &Ctx,
            node: Node,
            name: &str,
            expected: &str,
        ) -> Result<Option<T>> {
            match attr(node, name) {
                None => Ok(None),
                Some(text) => text
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| DbsError::InvalidValue {
                        element: node.tag_name().name().to_string(),
                        what: format!("attribute '{name}'"),
                        value: text.to_string(),
                        expected: expected.to_string(),
                        span: ctx.attr_span(node, name),
                    }),
            }
        }
        Ok(match kind {
            "validateLength" => Validator::Length {
                min: bound(self, node, "minimum", "a 32-bit integer")?,
                max: bound(self, node, "maximum", "a 32-bit integer")?,
            },
            "validateLongRange" => Validator::LongRange {
                min: bound(self, node, "minimum", "a 64-bit integer")?,
                max: bound(self, node, "maximum", "a 64-bit integer")?,
            },
            "validateDoubleRange" => Validator::DoubleRange {
                min: bound(self, node, "minimum", "a number")?,
                max: bound(self, node, "maximum", "a number")?,
            },
            _ => {
                let Some(source) = attr(node, "pattern") else {
                    return Err(DbsError::Missing {
                        element: "validatePattern".into(),
                        what: "attribute 'pattern'".into(),
                        expected: "a regular expression the whole value must match".into(),
                        span: self.span(node),
                    });
                };
                let regex = regex::Regex::new(&format!("^(?:{source})$")).map_err(|e| {
                    DbsError::InvalidValue {
                        element: "validatePattern".into(),
                        what: "attribute 'pattern'".into(),
                        value: source.to_string(),
                        expected: format!(
                            "a regular expression without look-around or back-references ({})",
                            e.to_string().lines().last().unwrap_or_default().trim()
                        ),
                        span: self.attr_span(node, "pattern"),
                    }
                })?;
                Validator::Pattern {
                    source: source.to_string(),
                    regex,
                }
            }
        })
    }

    fn result(
        &self,
        node: Node<'a, 'input>,
        query_id: &str,
        service_namespace: &str,
    ) -> Result<ResultMapping> {
        let namespace = non_blank(attr(node, "defaultNamespace"))
            .unwrap_or(service_namespace)
            .to_string();
        if attr(node, "xsltPath").is_some() {
            return Err(DbsError::Unsupported {
                what: "attribute 'xsltPath' of <result>".into(),
                why: "XSLT transformation of data service results".into(),
                span: self.attr_span(node, "xsltPath"),
            });
        }
        let use_column_numbers = bool_attr(node, "useColumnNumbers");
        let escape_non_printable = bool_attr(node, "escapeNonPrintableChar");
        match non_blank(attr(node, "outputType")) {
            Some("rdf") => Err(DbsError::Unsupported {
                what: "outputType \"rdf\" of <result>".into(),
                why: "RDF output; use xml or json".into(),
                span: self.attr_span(node, "outputType"),
            }),
            Some("json") => {
                // MI QueryFactory.calculateJSONXMLQueryNS.
                let namespace = if namespace.ends_with('/') {
                    format!("{namespace}{query_id}")
                } else {
                    format!("{namespace}/{query_id}")
                };
                let (element, row_name, content) =
                    json_template(&text_of(node), &namespace, &self.span(node))?;
                Ok(ResultMapping {
                    element: Some(element),
                    row_name,
                    namespace,
                    json_template: true,
                    use_column_numbers,
                    escape_non_printable,
                    content,
                    span: self.span(node),
                })
            }
            _ => {
                let element = non_blank(attr(node, "element")).map(str::to_string);
                let row_name = attr(node, "rowName")
                    .filter(|r| !r.is_empty())
                    .map(str::to_string);
                for (what, value) in [("element", &element), ("rowName", &row_name)] {
                    if let Some(v) = value
                        && !is_ncname(v)
                    {
                        return Err(DbsError::InvalidValue {
                            element: "result".into(),
                            what: format!("attribute '{what}'"),
                            value: v.clone(),
                            expected: "an XML NCName".into(),
                            span: self.attr_span(node, what),
                        });
                    }
                }
                let top_optional = row_name.is_none();
                let content = self.group(node, None, &namespace, Vec::new(), top_optional)?;
                Ok(ResultMapping {
                    element,
                    row_name,
                    namespace,
                    json_template: false,
                    use_column_numbers,
                    escape_non_printable,
                    content,
                    span: self.span(node),
                })
            }
        }
    }

    /// An element group from `node`'s children. `optional_override`: fields directly in a result
    /// without a `rowName` are optional (MI `createOutputElementGroup`'s `targetOptionalOverride`).
    fn group(
        &self,
        node: Node<'a, 'input>,
        name: Option<String>,
        namespace: &str,
        required_roles: Vec<String>,
        optional_override: bool,
    ) -> Result<OutputGroup> {
        let mut attributes: Vec<OutputField> = Vec::new();
        let mut items = Vec::new();
        for child in elements(node) {
            match child.tag_name().name() {
                "element" if is_element_group(child) => {
                    if attr(child, "arrayName").is_some() {
                        return Err(self.unsupported(
                            child,
                            "attribute 'arrayName' of <element>".into(),
                            "SQL ARRAY / user-defined type columns",
                        ));
                    }
                    let group_name = attr(child, "name").map(str::to_string);
                    if let Some(n) = &group_name
                        && !is_ncname(n)
                    {
                        return Err(DbsError::InvalidValue {
                            element: "element".into(),
                            what: "attribute 'name'".into(),
                            value: n.clone(),
                            expected: "an XML NCName".into(),
                            span: self.attr_span(child, "name"),
                        });
                    }
                    let ns = non_blank(attr(child, "namespace")).unwrap_or(namespace);
                    items.push(OutputItem::Group(self.group(
                        child,
                        group_name,
                        ns,
                        split_roles(attr(child, "requiredRoles")),
                        false,
                    )?));
                }
                "element" => items.push(OutputItem::Field(self.field(
                    child,
                    namespace,
                    optional_override,
                )?)),
                "attribute" => {
                    let field = self.field(child, namespace, optional_override)?;
                    if attributes.iter().any(|a| a.name == field.name) {
                        return Err(DbsError::Invalid {
                            message: format!(
                                "Error while adding attributes. Cannot use same attribute name more than once: '{}'",
                                field.name
                            ),
                            span: field.span,
                        });
                    }
                    attributes.push(field);
                }
                "call-query" => items.push(OutputItem::CallQuery(self.call_query(child)?)),
                _ => {
                    return Err(self.unknown(
                        child,
                        node,
                        "<element>, <attribute> or <call-query>",
                    ));
                }
            }
        }
        Ok(OutputGroup {
            name,
            namespace: namespace.to_string(),
            required_roles,
            attributes,
            items,
            span: self.span(node),
        })
    }

    fn field(&self, node: Node, namespace: &str, optional_override: bool) -> Result<OutputField> {
        let kind = node.tag_name().name();
        let name = self
            .required(node, "name", "the output name (an XML NCName)")?
            .to_string();
        if !is_ncname(&name) {
            return Err(DbsError::InvalidValue {
                element: kind.into(),
                what: "attribute 'name'".into(),
                value: name,
                expected: "an XML NCName".into(),
                span: self.attr_span(node, "name"),
            });
        }
        if attr(node, "arrayName").is_some() {
            return Err(self.unsupported(
                node,
                format!("attribute 'arrayName' of <{kind}>"),
                "SQL ARRAY / user-defined type columns",
            ));
        }
        // MI's precedence: column, query-param, value, rdf-ref-uri.
        let source = if let Some(c) = attr(node, "column") {
            FieldSource::Column(c.to_lowercase())
        } else if let Some(q) = attr(node, "query-param") {
            FieldSource::QueryParam(q.to_lowercase())
        } else if let Some(v) = attr(node, "value") {
            FieldSource::Value(v.to_string())
        } else if attr(node, "rdf-ref-uri").is_some() {
            return Err(self.unsupported(
                node,
                format!("attribute 'rdf-ref-uri' of <{kind}>"),
                "RDF output",
            ));
        } else {
            return Err(DbsError::Missing {
                element: kind.into(),
                what: "a value source".into(),
                expected: "attribute 'column', 'query-param' or 'value'".into(),
                span: self.span(node),
            });
        };
        let xsd = non_blank(attr(node, "xsdType")).unwrap_or("xs:string");
        let xsd_type = match xsd.split(':').collect::<Vec<_>>().as_slice() {
            [local] => local.to_string(),
            [_, local, ..] => local.to_string(),
            [] => "string".to_string(),
        };
        Ok(OutputField {
            name,
            source,
            namespace: non_blank(attr(node, "namespace"))
                .unwrap_or(namespace)
                .to_string(),
            xsd_type,
            required_roles: split_roles(attr(node, "requiredRoles")),
            optional: optional_override || bool_attr(node, "optional"),
            export: attr(node, "export").map(str::to_string),
            span: self.span(node),
        })
    }

    fn call_query(&self, node: Node) -> Result<CallQuery> {
        let href = self
            .required(node, "href", "the id of the query to call")?
            .to_string();
        let mut with_params: Vec<WithParam> = Vec::new();
        for child in elements(node) {
            if child.tag_name().name() != "with-param" {
                return Err(self.unknown(
                    child,
                    node,
                    "<with-param name=\"...\" query-param|column=\"...\">",
                ));
            }
            let name = attr(child, "name").unwrap_or_default().trim().to_string();
            let source = if let Some(c) = attr(child, "column") {
                WithParamSource::Column {
                    original: c.to_string(),
                    lower: c.to_lowercase(),
                }
            } else if let Some(q) = attr(child, "query-param") {
                let q = q.trim();
                if !is_ncname(q) {
                    return Err(DbsError::InvalidValue {
                        element: "with-param".into(),
                        what: "attribute 'query-param'".into(),
                        value: q.to_string(),
                        expected: "an XML NCName (Invalid query param name)".into(),
                        span: self.attr_span(child, "query-param"),
                    });
                }
                WithParamSource::QueryParam {
                    original: q.to_string(),
                    lower: q.to_lowercase(),
                }
            } else {
                return Err(DbsError::Missing {
                    element: "with-param".into(),
                    what: "a value source".into(),
                    expected: "attribute 'query-param' or 'column'".into(),
                    span: self.span(child),
                });
            };
            let wp = WithParam {
                name,
                source,
                span: self.span(child),
            };
            // MI keeps with-params in a map keyed by name: the last one wins.
            match with_params.iter_mut().find(|w| w.name == wp.name) {
                Some(existing) => *existing = wp,
                None => with_params.push(wp),
            }
        }
        Ok(CallQuery {
            href,
            with_params,
            required_roles: split_roles(attr(node, "requiredRoles")),
            span: self.span(node),
        })
    }

    fn first_call_query(&self, node: Node) -> Result<CallQuery> {
        match elements(node).find(|c| c.tag_name().name() == "call-query") {
            Some(cq) => self.call_query(cq),
            None => Err(DbsError::Missing {
                element: qualified(node),
                what: "a <call-query href=\"...\"> child".into(),
                expected: "the query it runs".into(),
                span: self.span(node),
            }),
        }
    }

    fn description(node: Node) -> Option<String> {
        elements(node)
            .find(|c| c.tag_name().name() == "description")
            .map(text_of)
    }

    fn operation(&self, node: Node) -> Result<Operation> {
        let name = self
            .required(node, "name", "the operation name")?
            .to_string();
        Ok(Operation {
            name,
            description: Self::description(node),
            call_query: Some(self.first_call_query(node)?),
            return_request_status: bool_attr(node, "returnRequestStatus"),
            disable_streaming: bool_attr(node, "disableStreaming"),
            batch: false,
            span: self.span(node),
        })
    }

    fn resource(&self, node: Node) -> Result<Resource> {
        let path = self
            .required(node, "path", "the resource path, e.g. employee/{id}")?
            .trim_start_matches('/')
            .to_string();
        let method = self.required(node, "method", "GET, POST, PUT or DELETE")?;
        let upper = method.to_ascii_uppercase();
        if !["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"].contains(&upper.as_str()) {
            return Err(DbsError::InvalidValue {
                element: "resource".into(),
                what: "attribute 'method'".into(),
                value: method.to_string(),
                expected: "GET, POST, PUT, DELETE, PATCH, HEAD or OPTIONS".into(),
                span: self.attr_span(node, "method"),
            });
        }
        for segment in path.split('?').next().unwrap_or("").split('/') {
            let open = segment.matches('{').count();
            let close = segment.matches('}').count();
            let is_param = segment.starts_with('{') && segment.ends_with('}') && open == 1;
            if (open > 0 || close > 0) && !is_param {
                return Err(DbsError::InvalidValue {
                    element: "resource".into(),
                    what: "attribute 'path'".into(),
                    value: path.clone(),
                    expected: "segments that are literal text or a whole {name} placeholder".into(),
                    span: self.attr_span(node, "path"),
                });
            }
        }
        Ok(Resource {
            method: upper,
            path,
            description: Self::description(node),
            call_query: Some(self.first_call_query(node)?),
            return_request_status: bool_attr(node, "returnRequestStatus"),
            disable_streaming: bool_attr(node, "disableStreaming"),
            batch: false,
            span: self.span(node),
        })
    }
}

/// MI `QueryFactory.isElementGroup`: an `<element>` with none of column, query-param, value,
/// rdf-ref-uri.
fn is_element_group(node: Node) -> bool {
    ["column", "query-param", "value", "rdf-ref-uri"]
        .iter()
        .all(|a| attr(node, a).is_none())
}

/// A secure-vault reference written as the property text.
fn secret_reference(text: &str) -> Option<SecretRef> {
    if let Some(alias) = text
        .strip_prefix("$secret{")
        .and_then(|t| t.strip_suffix('}'))
    {
        return Some(SecretRef::Secret(alias.to_string()));
    }
    // `{<prefix>:vault-lookup('<alias>')}` (MI DBDeployer.secureVaultRegex).
    let inner = text.strip_prefix('{')?.strip_suffix('}')?;
    let (_, call) = inner.split_once(":vault-lookup('")?;
    let alias = call.strip_suffix("')")?;
    Some(SecretRef::VaultLookup(alias.to_string()))
}

/// MI `QueryFactory.getSQLQueryForConnectionURL`: the dialect naming the URL's driver
/// (`jdbc:<driver>:...`), else the SQL without a dialect.
pub fn select_sql<'s>(
    default: Option<&'s str>,
    dialects: &'s [(Vec<String>, String)],
    url: Option<&str>,
) -> Option<&'s str> {
    if let Some(url) = url {
        let parts: Vec<&str> = url.split(':').collect();
        if parts.len() > 2 {
            let driver = parts[1];
            if let Some((_, sql)) = dialects
                .iter()
                .find(|(names, _)| names.iter().any(|n| n == driver))
            {
                return Some(sql);
            }
        }
    }
    default
}

/// MI `DBDeployer.validateDataService` and `CallQuery.init`: references resolve, with-params
/// name parameters of the target query, request results have a wrapper element; plus a check
/// MI lacks: nested queries must not call themselves (MI recurses until the stack overflows).
fn validate_service(service: &DataService) -> Result<()> {
    let requests = service
        .operations
        .iter()
        .map(|o| (o.name.clone(), o.call_query.as_ref()))
        .chain(
            service
                .resources
                .iter()
                .map(|r| (r.request_name(), r.call_query.as_ref())),
        );
    for (request, call) in requests {
        let Some(call) = call else { continue };
        let Some(query) = service.query(&call.href) else {
            return Err(DbsError::Invalid {
                message: format!(
                    "Call query with id: {} doesn't exist as referenced by the operation/resource: {request} (queries: {})",
                    call.href,
                    query_ids(service)
                ),
                span: call.span.clone(),
            });
        };
        for wp in &call.with_params {
            if query.param(&wp.name).is_none() {
                return Err(DbsError::Invalid {
                    message: format!(
                        "with-param with name: {} doesn't exist in query with id: {} as referenced by the operation/resource: {request}",
                        wp.name, query.id
                    ),
                    span: wp.span.clone(),
                });
            }
        }
        if let Some(result) = &query.result
            && result.element.is_none()
        {
            return Err(DbsError::Invalid {
                message: format!(
                    "The request '{request}' contains the query with id '{}' contains an XML result with no element wrapper.",
                    query.id
                ),
                span: result.span.clone(),
            });
        }
    }
    // Nested call-queries: targets exist, and no cycles.
    let mut edges: HashMap<&str, Vec<&CallQuery>> = HashMap::new();
    for query in &service.queries {
        if let Some(result) = &query.result {
            let mut calls = Vec::new();
            collect_calls(&result.content, &mut calls);
            for call in &calls {
                if service.query(&call.href).is_none() {
                    return Err(DbsError::Invalid {
                        message: format!(
                            "Query with the query id: '{}' cannot be found (queries: {})",
                            call.href,
                            query_ids(service)
                        ),
                        span: call.span.clone(),
                    });
                }
            }
            edges.insert(query.id.as_str(), calls);
        }
    }
    for query in &service.queries {
        let mut path: Vec<&str> = Vec::new();
        let mut done: HashSet<&str> = HashSet::new();
        if let Some(call) = find_cycle(query.id.as_str(), &edges, &mut path, &mut done) {
            return Err(DbsError::Invalid {
                message: format!(
                    "nested queries call each other in a cycle: {} -> {}",
                    path.join(" -> "),
                    call.href
                ),
                span: call.span.clone(),
            });
        }
    }
    Ok(())
}

fn query_ids(service: &DataService) -> String {
    service
        .queries
        .iter()
        .map(|q| q.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn collect_calls<'s>(group: &'s OutputGroup, out: &mut Vec<&'s CallQuery>) {
    for item in &group.items {
        match item {
            OutputItem::CallQuery(c) => out.push(c),
            OutputItem::Group(g) => collect_calls(g, out),
            OutputItem::Field(_) => {}
        }
    }
}

/// Depth-first search for a call cycle from `id`; returns the call that closes it.
fn find_cycle<'s>(
    id: &'s str,
    edges: &HashMap<&'s str, Vec<&'s CallQuery>>,
    path: &mut Vec<&'s str>,
    done: &mut HashSet<&'s str>,
) -> Option<&'s CallQuery> {
    if done.contains(id) {
        return None;
    }
    path.push(id);
    for call in edges.get(id).map(Vec::as_slice).unwrap_or_default() {
        if path.contains(&call.href.as_str()) {
            return Some(call);
        }
        if let Some(found) = find_cycle(call.href.as_str(), edges, path, done) {
            return Some(found);
        }
    }
    path.pop();
    done.insert(id);
    None
}

/// MI `DataServiceFactory.populateBatchOperations` / `populateBatchResources`: a request whose
/// call passes parameters and whose query has no result (or returns generated keys) gets a
/// `_batch_req` twin.
fn add_batch_requests(service: &mut DataService) {
    let compatible = |call: Option<&CallQuery>| {
        call.is_some_and(|c| {
            !c.with_params.is_empty()
                && service
                    .query(&c.href)
                    .is_some_and(|q| !q.has_result() || q.return_generated_keys)
        })
    };
    let ops: Vec<Operation> = service
        .operations
        .iter()
        .filter(|o| !["begin_boxcar", "end_boxcar", "abort_boxcar"].contains(&o.name.as_str()))
        .filter(|o| compatible(o.call_query.as_ref()))
        .map(|o| Operation {
            name: format!("{}{BATCH_SUFFIX}", o.name),
            description: Some(format!("batch operation for '{}'", o.name)),
            batch: true,
            ..o.clone()
        })
        .collect();
    let resources: Vec<Resource> = service
        .resources
        .iter()
        .filter(|r| compatible(r.call_query.as_ref()))
        .map(|r| Resource {
            path: match r.path.strip_suffix('/') {
                Some(p) => format!("{p}{BATCH_SUFFIX}/"),
                None => format!("{}{BATCH_SUFFIX}", r.path),
            },
            description: Some(format!("batch resource for [{}:{}]", r.method, r.path)),
            batch: true,
            ..r.clone()
        })
        .collect();
    service.operations.extend(ops);
    service.resources.extend(resources);
}

impl Resource {
    /// MI `Resource.generateRequestName`: `_` + method + path with `/` as `_` and braces
    /// removed, lower-cased (`GET employee/{id}` -> `_getemployee_id`).
    pub fn request_name(&self) -> String {
        let path = self.path.replace('/', "_").replace(['{', '}'], "");
        format!("_{}{}", self.method, path).to_lowercase()
    }
}

/// MI `QueryFactory.getJSONResultFromText`: a JSON template to the wrapper name, row name and
/// row content. Keys are taken in Java `HashMap` order, as MI's `org.json` `JSONObject` gives them.
fn json_template(
    text: &str,
    namespace: &str,
    span: &Span,
) -> Result<(String, Option<String>, OutputGroup)> {
    let invalid = |message: String| DbsError::Invalid {
        message: format!("invalid JSON result mapping: {message}"),
        span: span.clone(),
    };
    let value: serde_json::Value = serde_json::from_str(text.trim())
        .map_err(|e| invalid(format!("Error in parsing JSON result mapping: {e}")))?;
    let serde_json::Value::Object(top) = value else {
        return Err(invalid(
            "There must be exactly 1 top level object in the JSON mapping, found 0".into(),
        ));
    };
    if top.len() != 1 {
        return Err(invalid(format!(
            "There must be exactly 1 top level object in the JSON mapping, found {}",
            top.len()
        )));
    }
    let (wrapper, root) = top.iter().next().ok_or_else(|| invalid("empty".into()))?;
    if !is_ncname(wrapper) {
        return Err(invalid(format!(
            "Invalid wrapper element name: '{wrapper}', must be an NCName."
        )));
    }
    let root = match root {
        serde_json::Value::Array(_) => {
            return Err(invalid("The top level object cannot be an array".into()));
        }
        serde_json::Value::Object(o) => o,
        _ => {
            return Err(invalid(
                "The top level object cannot be a simple type".into(),
            ));
        }
    };
    let (row_name, record) = match root.iter().collect::<Vec<_>>().as_slice() {
        [(name, serde_json::Value::Array(items))] => {
            if items.len() != 1 {
                return Err(invalid(format!(
                    "The JSON array should be of size 1, found {}",
                    items.len()
                )));
            }
            let serde_json::Value::Object(record) = &items[0] else {
                return Err(invalid(
                    "The JSON array element must be a JSON Object".into(),
                ));
            };
            if !is_ncname(name) {
                return Err(invalid(format!(
                    "Invalid row name: '{name}', must be an NCName."
                )));
            }
            (Some((*name).clone()), record)
        }
        _ => (None, root),
    };
    let top_optional = row_name.is_none();
    let content = json_record(record, None, namespace, span, top_optional, &invalid)?;
    Ok((wrapper.clone(), row_name, content))
}

fn json_record(
    record: &serde_json::Map<String, serde_json::Value>,
    name: Option<String>,
    namespace: &str,
    span: &Span,
    optional_override: bool,
    invalid: &dyn Fn(String) -> DbsError,
) -> Result<OutputGroup> {
    let keys: Vec<&str> = record.keys().map(String::as_str).collect();
    let mut items = Vec::new();
    for index in java_hashmap_order(&keys) {
        let key = keys[index];
        let item = &record[key];
        if let Some(href) = key.strip_prefix('@') {
            let spec = json_scalar_text(item);
            let mut with_params: Vec<WithParam> = Vec::new();
            for wp in spec.trim().split(',') {
                let tokens: Vec<&str> = wp.split("->").collect();
                if tokens.len() != 2 {
                    return Err(invalid(format!(
                        "The nested query call parameters should be separated by a single '->', found: {wp}"
                    )));
                }
                let lhs = tokens[0].trim();
                let rhs = tokens[1].trim();
                let Some(lhs) = lhs.strip_prefix('$') else {
                    return Err(invalid(format!(
                        "The nested query call parameter LHS should be a reference to an existing column/query-param, which should start with a $, found: {lhs}"
                    )));
                };
                if !is_ncname(rhs) {
                    return Err(invalid(format!(
                        "Invalid query param name: '{rhs}', must be an NCName."
                    )));
                }
                // MI names the with-param after the LHS and reads the RHS as its query-param.
                let wp = WithParam {
                    name: lhs.trim().to_string(),
                    source: WithParamSource::QueryParam {
                        original: rhs.to_string(),
                        lower: rhs.to_lowercase(),
                    },
                    span: span.clone(),
                };
                match with_params.iter_mut().find(|w| w.name == wp.name) {
                    Some(existing) => *existing = wp,
                    None => with_params.push(wp),
                }
            }
            items.push(OutputItem::CallQuery(CallQuery {
                href: href.to_string(),
                with_params,
                required_roles: Vec::new(),
                span: span.clone(),
            }));
            continue;
        }
        if !is_ncname(key) {
            return Err(invalid(format!(
                "Invalid output element name: '{key}', must be an NCName."
            )));
        }
        match item {
            serde_json::Value::Object(inner) => {
                items.push(OutputItem::Group(json_record(
                    inner,
                    Some(key.to_string()),
                    namespace,
                    span,
                    false,
                    invalid,
                )?));
            }
            serde_json::Value::Array(_) => {
                return Err(invalid(
                    "A JSON Array cannot be contained in the result records".into(),
                ));
            }
            other => {
                let value = json_scalar_text(other);
                let info = column_info(&value).map_err(invalid)?;
                items.push(OutputItem::Field(OutputField {
                    name: key.to_string(),
                    source: FieldSource::Column(info.name.to_lowercase()),
                    namespace: namespace.to_string(),
                    xsd_type: info
                        .data_type
                        .map(|t| t.rsplit(':').next().unwrap_or(&t).to_string())
                        .unwrap_or_else(|| "string".into()),
                    required_roles: split_roles(info.required_roles.as_deref()),
                    optional: optional_override
                        || info
                            .optional
                            .is_some_and(|o| o.eq_ignore_ascii_case("true")),
                    export: None,
                    span: span.clone(),
                }));
            }
        }
    }
    Ok(OutputGroup {
        name,
        namespace: namespace.to_string(),
        required_roles: Vec::new(),
        attributes: Vec::new(),
        items,
        span: span.clone(),
    })
}

/// `Object.toString()` of an org.json value.
fn json_scalar_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct ColumnInfo {
    name: String,
    data_type: Option<String>,
    required_roles: Option<String>,
    optional: Option<String>,
}

/// MI `ResultEntryColumnInfo`: `$name(type:integer;requiredRoles:a,b;optional:true)`.
fn column_info(value: &str) -> std::result::Result<ColumnInfo, String> {
    let value = value.trim();
    let Some(rest) = value.strip_prefix('$') else {
        return Err(format!(
            "A result entry column value must start with $, found: {value}"
        ));
    };
    let mut info = ColumnInfo {
        name: rest.to_string(),
        data_type: None,
        required_roles: None,
        optional: None,
    };
    if let Some(open) = rest.find('(') {
        info.name = rest[..open].to_string();
        let Some(close) = rest.rfind(')') else {
            return Err(format!(
                "A result entry column value with options must end with ')', found: {value}"
            ));
        };
        let options = rest.get(open + 1..close).unwrap_or_default();
        for token in options.split(';') {
            let parts: Vec<&str> = token.split(':').collect();
            if parts.len() != 2 {
                return Err(format!(
                    "An option section must be separate by a single ':', found: {token}"
                ));
            }
            let (name, v) = (parts[0].trim(), parts[1].trim().to_string());
            match name {
                "requiredRoles" => info.required_roles = Some(v),
                "type" => info.data_type = Some(v),
                "optional" => info.optional = Some(v),
                other => {
                    return Err(format!(
                        "Unrecognized option type '{other}', found: {other}"
                    ));
                }
            }
        }
    }
    Ok(info)
}

/// Whether a query is an `UPDATE` (re-exported for callers that only have the SQL).
pub fn is_update_sql(sql: &str) -> bool {
    first_word(sql).eq_ignore_ascii_case("update")
}

#[cfg(test)]
mod tests;
