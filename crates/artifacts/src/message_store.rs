//! Message stores: `<messageStore name class>` with `<parameter>`s, one per file under
//! `message-stores/` (SYN:`config/xml/MessageStoreFactory.java`). Conflux runs Synapse's in-memory
//! store (SYN:`message/store/impl/memory/InMemoryStore.java`), the JDBC store
//! (SYN:`message/store/impl/jdbc/JDBCMessageStore.java`, parameters `store.jdbc.*` read as
//! `util/JDBCConfiguration.java` reads them) and the RabbitMQ store
//! (SYN:`message/store/impl/rabbitmq/RabbitMQStore.java`, parameters `store.rabbitmq.*` with its
//! defaults). The JMS, resequence and WSO2 MB store classes, and any custom class, are refused
//! with an error naming the artifact and saying the class is not supported yet; so are the
//! parameters of the supported stores that Conflux cannot honour (a JNDI provider class, SSL to
//! the broker), each at its own position.

use roxmltree::Node;

use crate::error::ArtifactError;
use crate::preamble::{
    ArtifactDocument, RootNamespace, parse_parameters, required_trimmed, trimmed,
};
use crate::span::Span;
use crate::xml::{Ctx, Result};

/// SYN:`message/store/impl/memory/InMemoryStore.java`.
pub const IN_MEMORY_STORE_CLASS: &str =
    "org.apache.synapse.message.store.impl.memory.InMemoryStore";

/// SYN:`message/store/impl/jdbc/JDBCMessageStore.java`.
pub const JDBC_STORE_CLASS: &str = "org.apache.synapse.message.store.impl.jdbc.JDBCMessageStore";

/// SYN:`message/store/impl/rabbitmq/RabbitMQStore.java`.
pub const RABBITMQ_STORE_CLASS: &str =
    "org.apache.synapse.message.store.impl.rabbitmq.RabbitMQStore";

/// JDBCMessageStoreConstants.JDBC_DEFAULT_TABLE_NAME.
pub const JDBC_DEFAULT_TABLE: &str = "jdbc_message_store";

/// The longest `store.jdbc.table` accepted (PostgreSQL's identifier limit is 63 bytes, MySQL's
/// 64; a schema-qualified name counts both parts and the dot).
pub const MAX_JDBC_TABLE_NAME_CHARS: usize = 128;

/// RabbitMQ's Java client defaults (`ConnectionFactory.DEFAULT_*`), which RabbitMQStore uses for
/// absent parameters.
pub const RABBITMQ_DEFAULT_HOST: &str = "localhost";
pub const RABBITMQ_DEFAULT_PORT: u16 = 5672;
pub const RABBITMQ_DEFAULT_USER: &str = "guest";
pub const RABBITMQ_DEFAULT_PASSWORD: &str = "guest";
pub const RABBITMQ_DEFAULT_VHOST: &str = "/";

/// Most broker addresses one store lists (`store.rabbitmq.host.name` is comma-separated).
pub const MAX_RABBITMQ_ADDRESSES: usize = 16;

/// Store classes MI ships that Conflux knows by name but does not run yet.
const KNOWN_UNSUPPORTED_STORES: &[(&str, &str)] = &[
    ("org.apache.synapse.message.store.impl.jms.JmsStore", "JMS"),
    (
        "org.apache.synapse.message.store.impl.resequencer.ResequenceMessageStore",
        "resequence",
    ),
    (
        "org.wso2.carbon.message.store.persistence.jms.JMSMessageStore",
        "WSO2 MB (JMS)",
    ),
    (
        "org.apache.synapse.message.store.impl.kafka.KafkaMessageStore",
        "Kafka",
    ),
];

/// One `<parameter name>value</parameter>` of a store or processor, in document order.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreParameter {
    pub name: String,
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MessageStoreKind {
    /// Volatile, FIFO, lost on restart (as in MI).
    InMemory,
    /// A database table (`JDBCMessageStore`).
    Jdbc(JdbcStoreSettings),
    /// A durable queue on a RabbitMQ broker (`RabbitMQStore`).
    RabbitMq(RabbitMqStoreSettings),
}

/// `store.jdbc.*` (JDBCConfiguration.buildDataSource): how to connect, and the table.
#[derive(Debug, Clone, PartialEq)]
pub struct JdbcStoreSettings {
    pub connection: JdbcConnection,
    /// `store.jdbc.table`, default [`JDBC_DEFAULT_TABLE`]; a plain or schema-qualified
    /// identifier (it is written into SQL).
    pub table: String,
}

/// Where a JDBC store's database is.
#[derive(Clone, PartialEq)]
pub enum JdbcConnection {
    /// `store.jdbc.connection.url` with `store.jdbc.driver` (required by MI when no
    /// `store.jdbc.dsName` is given) and the credentials.
    Url {
        /// A JDBC URL (PostgreSQL, MySQL/MariaDB or SQLite).
        url: String,
        driver: String,
        username: Option<String>,
        password: Option<String>,
    },
    /// `store.jdbc.dsName`: a data source of the server (`[[datasource]]` in deployment.toml),
    /// by its name or its JNDI name `jdbc/<name>`; `span` is the parameter's position.
    DataSource { name: String, span: Span },
}

impl std::fmt::Debug for JdbcConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JdbcConnection::Url {
                url,
                driver,
                username,
                password,
            } => f
                .debug_struct("Url")
                .field("url", url)
                .field("driver", driver)
                .field("username", username)
                .field("password", &password.as_ref().map(|_| "***"))
                .finish(),
            JdbcConnection::DataSource { name, span } => f
                .debug_struct("DataSource")
                .field("name", name)
                .field("span", span)
                .finish(),
        }
    }
}

/// `store.rabbitmq.*` with RabbitMQStore's defaults.
#[derive(Clone, PartialEq)]
pub struct RabbitMqStoreSettings {
    /// `store.rabbitmq.host.name` and `.host.port`, paired in order (both comma-separated; MI
    /// requires as many ports as host names). Tried in order when connecting.
    pub addresses: Vec<(String, u16)>,
    pub username: String,
    pub password: String,
    pub virtual_host: String,
    /// `store.rabbitmq.queue.name`, default the store's name.
    pub queue: String,
    /// `store.rabbitmq.exchange.name`: when set, a durable direct exchange (unless its name
    /// starts with `amq.`) that the queue is bound to with the routing key.
    pub exchange: Option<String>,
    /// `store.rabbitmq.route.key`, default the queue name.
    pub routing_key: String,
}

impl std::fmt::Debug for RabbitMqStoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RabbitMqStoreSettings")
            .field("addresses", &self.addresses)
            .field("username", &self.username)
            .field("password", &"***")
            .field("virtual_host", &self.virtual_host)
            .field("queue", &self.queue)
            .field("exchange", &self.exchange)
            .field("routing_key", &self.routing_key)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessageStore {
    pub name: String,
    pub kind: MessageStoreKind,
    pub class: String,
    pub parameters: Vec<StoreParameter>,
    pub span: Span,
    /// The file as written (the Management API's `configuration`).
    pub source: String,
}

/// Parses a `message-stores/*.xml` file.
pub fn parse_message_store(
    file_label: &str,
    xml: &str,
) -> std::result::Result<MessageStore, ArtifactError> {
    let doc = ArtifactDocument::parse(file_label, xml)?;
    let (ctx, root) = doc.root("messageStore", RootNamespace::Synapse)?;
    // MessageStoreFactory: "Message Store name not specified".
    let name = required_trimmed(&ctx, root, "name", "the message store's name")?;
    let class = trimmed(&ctx, root, "class").unwrap_or_else(|| IN_MEMORY_STORE_CLASS.to_string());
    let parameters = parse_parameters(&ctx, root)?;
    let kind = match class.as_str() {
        IN_MEMORY_STORE_CLASS => MessageStoreKind::InMemory,
        JDBC_STORE_CLASS => MessageStoreKind::Jdbc(jdbc_settings(&ctx, root, &name, &parameters)?),
        RABBITMQ_STORE_CLASS => {
            MessageStoreKind::RabbitMq(rabbitmq_settings(&ctx, root, &name, &parameters)?)
        }
        other => {
            let what = KNOWN_UNSUPPORTED_STORES
                .iter()
                .find(|(c, _)| *c == other)
                .map(|(_, label)| format!("{label} message store '{name}' (class {other})"))
                .unwrap_or_else(|| format!("message store '{name}' with class {other}"));
            return Err(ctx.unsupported(
                root,
                what,
                "not supported yet: the supported classes are the in-memory store (org.apache.synapse.message.store.impl.memory.InMemoryStore), the JDBC store (org.apache.synapse.message.store.impl.jdbc.JDBCMessageStore) and the RabbitMQ store (org.apache.synapse.message.store.impl.rabbitmq.RabbitMQStore)",
            ));
        }
    };
    Ok(MessageStore {
        name,
        kind,
        class,
        parameters,
        span: ctx.span(root),
        source: xml.to_string(),
    })
}

/// The last value of parameter `name` (MI keeps parameters in a map: a repeated one wins), with
/// empty values counting as absent (`StringUtils.isEmpty`).
fn param<'a>(params: &'a [StoreParameter], name: &str) -> Option<&'a StoreParameter> {
    params
        .iter()
        .rev()
        .find(|p| p.name == name)
        .filter(|p| !p.value.is_empty())
}

/// The value of parameter `p` is not `expected`.
pub(crate) fn invalid_param(p: &StoreParameter, expected: &str) -> ArtifactError {
    ArtifactError::InvalidValue {
        element: "parameter".into(),
        what: format!("parameter '{}'", p.name),
        value: p.value.clone(),
        expected: expected.into(),
        span: p.span.clone(),
    }
}

fn unsupported_param(p: &StoreParameter, why: &str) -> ArtifactError {
    ArtifactError::Unsupported {
        what: format!("parameter '{}'", p.name),
        why: why.into(),
        span: p.span.clone(),
    }
}

/// Whether `table` is safe to write into SQL: one identifier, or `schema.table`, of ASCII
/// letters, digits and `_`, not starting with a digit.
fn is_table_name(table: &str) -> bool {
    table.len() <= MAX_JDBC_TABLE_NAME_CHARS
        && table.split('.').count() <= 2
        && table.split('.').all(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// JDBCConfiguration.buildDataSource: `store.jdbc.dsName` names a data source (looked up by
/// name first, then through JNDI); otherwise
/// `store.jdbc.driver` (and the URL) must be given ("The DataSource connection information must
/// be specified").
fn jdbc_settings(
    ctx: &Ctx,
    root: Node,
    name: &str,
    params: &[StoreParameter],
) -> Result<JdbcStoreSettings> {
    let table = match param(params, "store.jdbc.table") {
        None => JDBC_DEFAULT_TABLE.to_string(),
        Some(p) if is_table_name(&p.value) => p.value.clone(),
        Some(p) => {
            return Err(invalid_param(
                p,
                &format!(
                    "a table name of letters, digits and '_' (optionally schema.table), at most {MAX_JDBC_TABLE_NAME_CHARS} characters"
                ),
            ));
        }
    };
    if let Some(p) = param(params, "store.jdbc.dsName") {
        if let Some(ic) = param(params, "store.jdbc.icClass") {
            return Err(unsupported_param(
                ic,
                "not supported yet: store.jdbc.dsName names a [[datasource]] of deployment.toml; there is no JNDI provider",
            ));
        }
        return Ok(JdbcStoreSettings {
            connection: JdbcConnection::DataSource {
                name: p.value.clone(),
                span: p.span.clone(),
            },
            table,
        });
    }
    let Some(driver) = param(params, "store.jdbc.driver") else {
        return Err(ctx.invalid(
            root,
            format!(
                "JDBC message store '{name}' has no connection information: give the parameters 'store.jdbc.driver' and 'store.jdbc.connection.url'"
            ),
        ));
    };
    let Some(url) = param(params, "store.jdbc.connection.url") else {
        return Err(ctx.invalid(
            root,
            format!(
                "JDBC message store '{name}' has no parameter 'store.jdbc.connection.url' (a jdbc:postgresql:, jdbc:mysql:, jdbc:mariadb: or jdbc:sqlite: URL)"
            ),
        ));
    };
    if !url.value.starts_with("jdbc:") {
        return Err(invalid_param(
            url,
            "a JDBC URL (jdbc:postgresql://…, jdbc:mysql://…, jdbc:mariadb://…, jdbc:sqlite:…)",
        ));
    }
    Ok(JdbcStoreSettings {
        connection: JdbcConnection::Url {
            url: url.value.clone(),
            driver: driver.value.clone(),
            username: param(params, "store.jdbc.username").map(|p| p.value.clone()),
            password: param(params, "store.jdbc.password").map(|p| p.value.clone()),
        },
        table,
    })
}

/// RabbitMQStore.loadAndValidateParams and initConnectionFactory.
fn rabbitmq_settings(
    ctx: &Ctx,
    root: Node,
    name: &str,
    params: &[StoreParameter],
) -> Result<RabbitMqStoreSettings> {
    if let Some(p) = param(params, "rabbitmq.connection.ssl.enabled")
        && p.value.eq_ignore_ascii_case("true")
    {
        return Err(unsupported_param(
            p,
            "not supported yet: the RabbitMQ message store connects over plain AMQP (amqp://)",
        ));
    }
    let value = |n: &str, default: &str| {
        param(params, n).map_or_else(|| default.to_string(), |p| p.value.clone())
    };
    let hosts: Vec<String> = value("store.rabbitmq.host.name", RABBITMQ_DEFAULT_HOST)
        .split(',')
        .map(|h| h.trim().to_string())
        .collect();
    let port_param = param(params, "store.rabbitmq.host.port");
    let ports: Vec<u16> = match port_param {
        None => vec![RABBITMQ_DEFAULT_PORT],
        Some(p) => p
            .value
            .split(',')
            .map(|port| port.trim().parse::<u16>().ok().filter(|n| *n > 0))
            .collect::<Option<Vec<u16>>>()
            .ok_or_else(|| invalid_param(p, "port numbers from 1 to 65535, comma-separated"))?,
    };
    let host_param = param(params, "store.rabbitmq.host.name");
    if hosts.len() != ports.len() || hosts.iter().any(String::is_empty) {
        // RabbitMQStore: "The number of hostnames must be equal to the number of ports".
        let expected = "as many host names as ports (store.rabbitmq.host.name and store.rabbitmq.host.port are comma-separated lists)";
        return Err(match host_param.or(port_param) {
            Some(p) => invalid_param(p, expected),
            None => ctx.invalid(root, expected.to_string()),
        });
    }
    if hosts.len() > MAX_RABBITMQ_ADDRESSES
        && let Some(p) = host_param
    {
        return Err(invalid_param(
            p,
            &format!("at most {MAX_RABBITMQ_ADDRESSES} broker addresses"),
        ));
    }
    let queue = value("store.rabbitmq.queue.name", name);
    let routing_key = value("store.rabbitmq.route.key", &queue);
    Ok(RabbitMqStoreSettings {
        addresses: hosts.into_iter().zip(ports).collect(),
        username: value("store.rabbitmq.username", RABBITMQ_DEFAULT_USER),
        password: value("store.rabbitmq.password", RABBITMQ_DEFAULT_PASSWORD),
        virtual_host: value("store.rabbitmq.virtual.host", RABBITMQ_DEFAULT_VHOST),
        exchange: param(params, "store.rabbitmq.exchange.name").map(|p| p.value.clone()),
        queue,
        routing_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "xmlns=\"http://ws.apache.org/ns/synapse\"";

    #[test]
    fn in_memory_store_parses_with_parameters() {
        let xml = format!(
            "<messageStore {NS} name=\"S\" class=\"{IN_MEMORY_STORE_CLASS}\">\n<parameter name=\"a\">1</parameter></messageStore>"
        );
        let s = parse_message_store("message-stores/S.xml", &xml).unwrap();
        assert_eq!(s.name, "S");
        assert_eq!(s.kind, MessageStoreKind::InMemory);
        assert_eq!(s.parameters.len(), 1);
        assert_eq!(s.parameters[0].value, "1");
        assert_eq!(s.parameters[0].span.to_string(), "message-stores/S.xml:2:1");
    }

    #[test]
    fn jms_store_is_refused_naming_the_artifact() {
        let xml = format!(
            "<messageStore {NS} name=\"Q\" class=\"org.apache.synapse.message.store.impl.jms.JmsStore\"/>"
        );
        let err = parse_message_store("message-stores/Q.xml", &xml)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("unsupported JMS message store 'Q'"),
            "{err}"
        );
        assert!(err.contains("not supported yet"), "{err}");
        assert!(err.ends_with("at message-stores/Q.xml:1:1"), "{err}");
    }

    #[test]
    fn kafka_and_custom_store_classes_are_refused_naming_the_class() {
        for (class, expected) in [
            (
                "org.apache.synapse.message.store.impl.kafka.KafkaMessageStore",
                "unsupported Kafka message store 'Q'",
            ),
            (
                "com.example.MyStore",
                "unsupported message store 'Q' with class com.example.MyStore",
            ),
        ] {
            let xml = format!("<messageStore {NS} name=\"Q\" class=\"{class}\"/>");
            let err = parse_message_store("m.xml", &xml).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err}");
        }
    }

    fn store(
        params: &[(&str, &str)],
        class: &str,
    ) -> std::result::Result<MessageStore, ArtifactError> {
        let params: String = params
            .iter()
            .map(|(n, v)| format!("\n<parameter name=\"{n}\">{v}</parameter>"))
            .collect();
        let xml =
            format!("<messageStore {NS} name=\"S\" class=\"{class}\">{params}</messageStore>");
        parse_message_store("message-stores/S.xml", &xml)
    }

    #[test]
    fn jdbc_store_reads_mi_parameters_with_the_default_table() {
        let s = store(
            &[
                ("store.jdbc.driver", "org.postgresql.Driver"),
                ("store.jdbc.connection.url", "jdbc:postgresql://db:5432/mi"),
                ("store.jdbc.username", "mi"),
                ("store.jdbc.password", "secret"),
            ],
            JDBC_STORE_CLASS,
        )
        .unwrap();
        let MessageStoreKind::Jdbc(j) = &s.kind else {
            panic!("{:?}", s.kind)
        };
        assert_eq!(j.table, JDBC_DEFAULT_TABLE);
        assert!(!format!("{j:?}").contains("secret"));
        let JdbcConnection::Url {
            url,
            driver,
            username,
            password,
        } = &j.connection
        else {
            panic!("{j:?}")
        };
        assert_eq!(url, "jdbc:postgresql://db:5432/mi");
        assert_eq!(driver, "org.postgresql.Driver");
        assert_eq!(username.as_deref(), Some("mi"));
        assert_eq!(password.as_deref(), Some("secret"));
    }

    #[test]
    fn jdbc_store_without_driver_or_url_is_refused() {
        let err = store(
            &[("store.jdbc.connection.url", "jdbc:sqlite:/tmp/x.db")],
            JDBC_STORE_CLASS,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("'store.jdbc.driver'"), "{err}");
        assert!(err.ends_with("at message-stores/S.xml:1:1"), "{err}");
        let err = store(
            &[("store.jdbc.driver", "org.sqlite.JDBC")],
            JDBC_STORE_CLASS,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("'store.jdbc.connection.url'"), "{err}");
    }

    #[test]
    fn jdbc_ds_name_names_a_data_source_and_its_position() {
        let s = store(
            &[
                ("store.jdbc.dsName", "jdbc/WSO2"),
                ("store.jdbc.table", "t"),
            ],
            JDBC_STORE_CLASS,
        )
        .unwrap();
        let MessageStoreKind::Jdbc(j) = &s.kind else {
            panic!("{:?}", s.kind)
        };
        assert_eq!(j.table, "t");
        let JdbcConnection::DataSource { name, span } = &j.connection else {
            panic!("{j:?}")
        };
        assert_eq!(name, "jdbc/WSO2");
        assert_eq!(span.to_string(), "message-stores/S.xml:2:1");
        // A JNDI provider class cannot be honoured.
        let err = store(
            &[
                ("store.jdbc.dsName", "jdbc/WSO2"),
                ("store.jdbc.icClass", "com.example.Ctx"),
            ],
            JDBC_STORE_CLASS,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("unsupported parameter 'store.jdbc.icClass'"),
            "{err}"
        );
        assert!(err.ends_with("at message-stores/S.xml:3:1"), "{err}");
    }

    #[test]
    fn jdbc_table_must_be_an_identifier_of_at_most_the_limit() {
        let base = [
            ("store.jdbc.driver", "org.sqlite.JDBC"),
            ("store.jdbc.connection.url", "jdbc:sqlite:/tmp/x.db"),
        ];
        let with_table = |t: &str| {
            let mut p = base.to_vec();
            p.push(("store.jdbc.table", t));
            store(&p, JDBC_STORE_CLASS)
        };
        assert!(with_table("mi.store_1").is_ok());
        let at_limit = "t".repeat(MAX_JDBC_TABLE_NAME_CHARS);
        assert!(with_table(&at_limit).is_ok());
        let over = "t".repeat(MAX_JDBC_TABLE_NAME_CHARS + 1);
        let err = with_table(&over).unwrap_err().to_string();
        assert!(err.contains("'store.jdbc.table'"), "{err}");
        for bad in ["t; DROP TABLE x", "1t", "a.b.c", "t-1"] {
            let err = with_table(bad).unwrap_err().to_string();
            assert!(err.contains("at message-stores/S.xml:4:1"), "{bad}: {err}");
        }
    }

    #[test]
    fn rabbitmq_store_defaults_follow_rabbitmq_store() {
        let s = store(&[], RABBITMQ_STORE_CLASS).unwrap();
        let MessageStoreKind::RabbitMq(r) = &s.kind else {
            panic!("{:?}", s.kind)
        };
        assert_eq!(r.addresses, vec![("localhost".to_string(), 5672)]);
        assert_eq!(
            (r.username.as_str(), r.password.as_str()),
            ("guest", "guest")
        );
        assert_eq!(r.virtual_host, "/");
        assert_eq!(r.queue, "S");
        assert_eq!(r.routing_key, "S");
        assert_eq!(r.exchange, None);
    }

    #[test]
    fn rabbitmq_store_reads_mi_parameters() {
        let s = store(
            &[
                ("store.rabbitmq.host.name", "a, b"),
                ("store.rabbitmq.host.port", "5672,5673"),
                ("store.rabbitmq.username", "u"),
                ("store.rabbitmq.password", "p"),
                ("store.rabbitmq.virtual.host", "v"),
                ("store.rabbitmq.queue.name", "q"),
                ("store.rabbitmq.exchange.name", "x"),
                ("store.rabbitmq.route.key", "k"),
            ],
            RABBITMQ_STORE_CLASS,
        )
        .unwrap();
        let MessageStoreKind::RabbitMq(r) = &s.kind else {
            panic!("{:?}", s.kind)
        };
        assert_eq!(r.addresses, vec![("a".into(), 5672), ("b".into(), 5673)]);
        assert_eq!(r.virtual_host, "v");
        assert_eq!((r.queue.as_str(), r.routing_key.as_str()), ("q", "k"));
        assert_eq!(r.exchange.as_deref(), Some("x"));
        assert!(!format!("{r:?}").contains("\"p\""));
    }

    #[test]
    fn rabbitmq_bad_ports_ssl_and_address_counts_are_refused_at_the_parameter() {
        let err = store(
            &[("store.rabbitmq.host.port", "70000")],
            RABBITMQ_STORE_CLASS,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("'store.rabbitmq.host.port'") && err.ends_with("S.xml:2:1"),
            "{err}"
        );
        let err = store(&[("store.rabbitmq.host.name", "a,b")], RABBITMQ_STORE_CLASS)
            .unwrap_err()
            .to_string();
        assert!(err.contains("as many host names as ports"), "{err}");
        let err = store(
            &[("rabbitmq.connection.ssl.enabled", "true")],
            RABBITMQ_STORE_CLASS,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("unsupported parameter 'rabbitmq.connection.ssl.enabled'"),
            "{err}"
        );
        let hosts = |n: usize| vec!["h"; n].join(",");
        let ports = |n: usize| vec!["1"; n].join(",");
        let (h, p) = (hosts(MAX_RABBITMQ_ADDRESSES), ports(MAX_RABBITMQ_ADDRESSES));
        assert!(
            store(
                &[
                    ("store.rabbitmq.host.name", &h),
                    ("store.rabbitmq.host.port", &p)
                ],
                RABBITMQ_STORE_CLASS
            )
            .is_ok()
        );
        let (h, p) = (
            hosts(MAX_RABBITMQ_ADDRESSES + 1),
            ports(MAX_RABBITMQ_ADDRESSES + 1),
        );
        let err = store(
            &[
                ("store.rabbitmq.host.name", &h),
                ("store.rabbitmq.host.port", &p),
            ],
            RABBITMQ_STORE_CLASS,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(&format!("at most {MAX_RABBITMQ_ADDRESSES}")),
            "{err}"
        );
    }

    #[test]
    fn nameless_store_is_refused() {
        let err = parse_message_store("m.xml", &format!("<messageStore {NS}/>")).unwrap_err();
        assert!(
            err.to_string().contains("requires attribute 'name'"),
            "{err}"
        );
    }

    #[test]
    fn registry_key_parameter_is_refused() {
        let xml = format!(
            "<messageStore {NS} name=\"S\"><parameter name=\"p\" key=\"conf:/x\"/></messageStore>"
        );
        let err = parse_message_store("m.xml", &xml).unwrap_err().to_string();
        assert!(err.contains("registry 'key'"), "{err}");
    }
}
