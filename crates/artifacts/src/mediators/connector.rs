//! Operations of the MI connectors Conflux runs natively besides HTTP, read as Synapse reads any
//! connector element (SYN `config/xml/MediatorFactoryFinder.java` getDynamicInvokeMediator):
//! `<email.send configKey="Smtp">` names the connection local entry (`<email.init>`), and each
//! child element is a parameter, static or `{expression}` ([`parse_param`]). [`CONNECTORS`] lists
//! each connector's operations and their parameters, taken from the connector's own templates
//! (wso2-extensions/esb-connector-email `src/main/resources/functions/*.xml`, `config/init.xml`);
//! an operation Conflux does not run is a located "unsupported" error naming it. The file
//! connector's spec follows wso2-extensions/esb-connector-file (`functions/*.xml`, `config/init.xml`).

use roxmltree::Node;

use crate::mediators::http_connector::{ConnectorParam, parse_param};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse};

/// One natively run connector: its element prefix, the operations run, and the parameters of its
/// connection (`<name.init>`).
#[derive(Debug)]
pub struct ConnectorSpec {
    pub name: &'static str,
    /// `(operation, element, its parameters)`.
    pub operations: &'static [(&'static str, &'static str, &'static [&'static str])],
    /// Operations the connector has that Conflux does not run, with why.
    pub unsupported: &'static [(&'static str, &'static str)],
    /// The parameters of `<name.init>`.
    pub connection: &'static [&'static str],
}

/// The email connector (esb-connector-email 2.x, which MI 4.4 and 4.5 list; 1.x templates have
/// the same `send` parameters but `personalName`, `inlineImages`, `responseVariable` and
/// `overwriteBody`, and a `headers` one its Java class never reads).
pub const EMAIL: ConnectorSpec = ConnectorSpec {
    name: "email",
    operations: &[(
        "send",
        "email.send",
        &[
            "from",
            "personalName",
            "to",
            "cc",
            "bcc",
            "replyTo",
            "subject",
            "headers",
            "content",
            "contentType",
            "encoding",
            "attachments",
            "inlineImages",
            "contentTransferEncoding",
            "responseVariable",
            "overwriteBody",
        ],
    )],
    unsupported: &[
        (
            "list",
            "reading mailboxes (IMAP/POP3) is not supported: Conflux's email connector sends only",
        ),
        (
            "getEmailBody",
            "reading mailboxes (IMAP/POP3) is not supported: Conflux's email connector sends only",
        ),
        (
            "getEmailAttachment",
            "reading mailboxes (IMAP/POP3) is not supported: Conflux's email connector sends only",
        ),
        (
            "getEmailAttachments",
            "reading mailboxes (IMAP/POP3) is not supported: Conflux's email connector sends only",
        ),
        (
            "delete",
            "mailbox operations (IMAP/POP3) are not supported: Conflux's email connector sends only",
        ),
        (
            "markAsRead",
            "mailbox operations (IMAP/POP3) are not supported: Conflux's email connector sends only",
        ),
        (
            "markAsDeleted",
            "mailbox operations (IMAP/POP3) are not supported: Conflux's email connector sends only",
        ),
        (
            "expungeFolder",
            "mailbox operations (IMAP/POP3) are not supported: Conflux's email connector sends only",
        ),
    ],
    connection: &[
        "name",
        "connectionType",
        "host",
        "port",
        "username",
        "password",
        "readTimeout",
        "connectionTimeout",
        "writeTimeout",
        "requireTLS",
        "checkServerIdentity",
        "trustedHosts",
        "sslProtocols",
        "cipherSuites",
        "maxActiveConnections",
        "maxIdleConnections",
        "maxWaitTime",
        "minEvictionTime",
        "evictionCheckInterval",
        "exhaustedAction",
        "requireAuthentication",
        "enableOAuth2",
        "grantType",
        "clientId",
        "clientSecret",
        "refreshToken",
        "scope",
        "tokenUrl",
    ],
};

/// Why a file connector operation is not run.
const FILE_UNSUPPORTED: &str = "Conflux's file connector runs write, read, checkExist, createDirectory, delete, listFiles, move, copy and rename";

/// The file connector (wso2-extensions/esb-connector-file 5.x/6.x, `functions/*.xml` and
/// `config/init.xml`); run on the local filesystem only (runtime/mediators/file_connector.rs).
pub const FILE: ConnectorSpec = ConnectorSpec {
    name: "file",
    operations: &[
        (
            "write",
            "file.write",
            &[
                "filePath",
                "contentOrExpression",
                "encoding",
                "mimeType",
                "compress",
                "writeMode",
                "appendPosition",
                "enableStreaming",
                "appendNewLine",
                "enableLock",
                "updateLastModified",
                "maxRetries",
                "retryDelay",
                "timeBetweenSizeCheck",
                "updateFilePermission",
                "diskShareAccessMask",
                "responseVariable",
                "overwriteBody",
            ],
        ),
        (
            "read",
            "file.read",
            &[
                "path",
                "filePattern",
                "readMode",
                "metadataOutputFormat",
                "startLineNum",
                "endLineNum",
                "lineNum",
                "contentType",
                "encoding",
                "enableStreaming",
                "enableLock",
                "maxRetries",
                "retryDelay",
                "fileFilterType",
                "includeFiles",
                "excludeFiles",
                "maxFileAge",
                "timeBetweenSizeCheck",
                "diskShareAccessMask",
                "responseVariable",
                "overwriteBody",
            ],
        ),
        (
            "checkExist",
            "file.checkExist",
            &[
                "path",
                "diskShareAccessMask",
                "responseVariable",
                "overwriteBody",
            ],
        ),
        (
            "createDirectory",
            "file.createDirectory",
            &[
                "directoryPath",
                "diskShareAccessMask",
                "autoCreate",
                "permissions",
                "responseVariable",
                "overwriteBody",
            ],
        ),
        (
            "delete",
            "file.delete",
            &[
                "path",
                "matchingPattern",
                "fileFilterType",
                "includeFiles",
                "excludeFiles",
                "maxFileAge",
                "maxRetries",
                "retryDelay",
                "diskShareAccessMask",
                "responseVariable",
                "overwriteBody",
            ],
        ),
        (
            "listFiles",
            "file.listFiles",
            &[
                "directoryPath",
                "matchingPattern",
                "fileFilterType",
                "includeFiles",
                "excludeFiles",
                "maxFileAge",
                "recursive",
                "subDirectoryMaxDepth",
                "responseFormat",
                "sortingAttribute",
                "sortingOrder",
                "maxRetries",
                "retryDelay",
                "diskShareAccessMask",
                "appendFileAttributes",
                "responseVariable",
                "overwriteBody",
            ],
        ),
        (
            "move",
            "file.move",
            &[
                "sourcePath",
                "targetPath",
                "createParentDirectories",
                "includeParent",
                "overwrite",
                "renameTo",
                "filePattern",
                "fileFilterType",
                "includeFiles",
                "excludeFiles",
                "maxFileAge",
                "timeBetweenSizeCheck",
                "isSourceMounted",
                "isTargetMounted",
                "diskShareAccessMask",
                "responseVariable",
                "overwriteBody",
            ],
        ),
        (
            "copy",
            "file.copy",
            &[
                "sourcePath",
                "targetPath",
                "sourceFilePattern",
                "fileFilterType",
                "includeFiles",
                "excludeFiles",
                "maxFileAge",
                "timeBetweenSizeCheck",
                "includeParent",
                "overwrite",
                "renameTo",
                "maxRetries",
                "retryDelay",
                "diskShareAccessMask",
                "responseVariable",
                "overwriteBody",
            ],
        ),
        (
            "rename",
            "file.rename",
            &[
                "path",
                "renameTo",
                "timeBetweenSizeCheck",
                "overwrite",
                "diskShareAccessMask",
                "responseVariable",
                "overwriteBody",
            ],
        ),
    ],
    unsupported: &[
        ("compress", FILE_UNSUPPORTED),
        ("unzip", FILE_UNSUPPORTED),
        ("splitFile", FILE_UNSUPPORTED),
        ("mergeFiles", FILE_UNSUPPORTED),
        ("exploreZipFile", FILE_UNSUPPORTED),
        ("fetchDirectoryContent", FILE_UNSUPPORTED),
    ],
    connection: &[
        "name",
        "connectionType",
        "workingDir",
        "fileLockScheme",
        "maxFailureRetryCount",
        "host",
        "port",
        "username",
        "password",
        "encodePassword",
        "userDirIsRoot",
        "enableEncryption",
        "isPassive",
        "ftpConnectionTimeout",
        "ftpSocketTimeout",
        "retryCount",
        "keyStorePath",
        "keyStorePassword",
        "keyPassword",
        "trustStorePath",
        "trustStorePassword",
        "implicitModeEnabled",
        "channelProtectionLevel",
        "sftpConnectionTimeout",
        "sftpSessionTimeout",
        "strictHostKeyChecking",
        "privateKeyFilePath",
        "privateKeyPassword",
        "setAvoidPermission",
        "sftpPathFromRoot",
        "sftpPoolConnectionAgedTimeout",
        "maxActiveConnections",
        "maxIdleConnections",
        "maxWaitTime",
        "evictionCheckInterval",
        "minEvictionTime",
        "exhaustedAction",
        "fileCacheEnabled",
        "suspendOnConnectionFailure",
        "retriesBeforeSuspension",
        "suspendInitialDuration",
        "suspendProgressionFactor",
        "suspendMaximumDuration",
    ],
};

/// The connectors run natively (besides HTTP, which has its own typed model).
pub const CONNECTORS: [&ConnectorSpec; 2] = [&EMAIL, &FILE];

/// The spec of connector `name`, if Conflux runs it.
pub fn spec(name: &str) -> Option<&'static ConnectorSpec> {
    CONNECTORS.iter().copied().find(|c| c.name == name)
}

/// `<email.send configKey="Conn">...</email.send>`: one operation and its parameters as written.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorOperation {
    pub connector: &'static str,
    pub operation: &'static str,
    /// The element: `email.send`.
    pub element: &'static str,
    /// `configKey`: the key of the local entry holding the connection.
    pub config_key: String,
    pub config_key_span: Span,
    /// At most one per name (InvokeMediator keeps a map: a repeated one replaces the earlier).
    pub params: Vec<ConnectorParam>,
    pub span: Span,
}

impl ConnectorOperation {
    pub fn param(&self, name: &str) -> Option<&ConnectorParam> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// A connection: `<localEntry key="Smtp"><email.init>...</email.init></localEntry>`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorConnection {
    pub connector: &'static str,
    pub params: Vec<ConnectorParam>,
    pub span: Span,
}

impl ConnectorConnection {
    pub fn param(&self, name: &str) -> Option<&ConnectorParam> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// Reads the parameters of `node` that `allowed` names; another child is an error naming them.
fn params(ctx: &Ctx, node: Node, allowed: &[&str], what: &str) -> Result<Vec<ConnectorParam>> {
    let mut out: Vec<ConnectorParam> = Vec::new();
    for child in element_children(node) {
        let local = child.tag_name().name();
        if !is_synapse(child) || !allowed.contains(&local) {
            return Err(ctx.unknown(child, node, &format!("{what} ({})", allowed.join(", "))));
        }
        out.retain(|p| p.name != local);
        out.extend(parse_param(ctx, child)?);
    }
    Ok(out)
}

/// Parses `<connector.operation>` of a connector in [`CONNECTORS`].
pub(crate) fn parse(
    ctx: &Ctx,
    node: Node,
    spec: &'static ConnectorSpec,
    operation: &str,
) -> Result<ConnectorOperation> {
    let connector = spec.name;
    let Some((operation, element, allowed)) =
        spec.operations.iter().find(|(o, _, _)| *o == operation)
    else {
        if operation == "init" {
            return Err(ctx.invalid(
                node,
                format!("<{connector}.init> is a connection: put it in a local entry and name that entry in the operation's configKey"),
            ));
        }
        let why = spec
            .unsupported
            .iter()
            .find(|(o, _)| *o == operation)
            .map(|(_, why)| (*why).to_string())
            .unwrap_or_else(|| {
                let ops: Vec<&str> = spec.operations.iter().map(|(o, _, _)| *o).collect();
                format!("the {connector} connector has {}", ops.join(", "))
            });
        return Err(ctx.unsupported(
            node,
            format!("{connector} connector operation <{connector}.{operation}>"),
            &why,
        ));
    };
    let key = ctx.required_attr(
        node,
        "configKey",
        &format!("the key of the <{connector}.init> connection local entry"),
    )?;
    if key.trim().starts_with('{') {
        return Err(ctx.unsupported(
            node,
            format!("dynamic configKey {}", key.trim()),
            "name the connection local entry",
        ));
    }
    Ok(ConnectorOperation {
        connector,
        operation,
        element,
        config_key: key.trim().to_string(),
        config_key_span: ctx.attr_span(node, "configKey"),
        params: params(
            ctx,
            node,
            allowed,
            &format!("a parameter of {connector}.{operation}"),
        )?,
        span: ctx.span(node),
    })
}

/// Parses a `<connector.init>` connection element, if `node` is one of a connector in
/// [`CONNECTORS`].
pub(crate) fn parse_connection(ctx: &Ctx, node: Node) -> Result<Option<ConnectorConnection>> {
    let local = node.tag_name().name();
    let Some(spec) = local
        .strip_suffix(".init")
        .and_then(spec)
        .filter(|_| is_synapse(node))
    else {
        return Ok(None);
    };
    Ok(Some(ConnectorConnection {
        connector: spec.name,
        params: params(
            ctx,
            node,
            spec.connection,
            &format!("a setting of the {} connector connection", spec.name),
        )?,
        span: ctx.span(node),
    }))
}

#[cfg(test)]
mod tests {
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    #[test]
    fn email_send_reads_its_parameters_as_written() {
        let Mediator::Connector(op) = parse_one(
            r#"<email.send configKey="Smtp">
  <from>a@example.com</from>
  <to>{${payload.to}}</to>
  <subject>Hi</subject>
  <subject>Hello</subject>
</email.send>"#,
        ) else {
            panic!()
        };
        assert_eq!(op.element, "email.send");
        assert_eq!(op.config_key, "Smtp");
        assert_eq!(
            op.param("from").unwrap().value.as_text(),
            Some("a@example.com")
        );
        assert!(op.param("to").unwrap().value.as_text().is_none());
        assert_eq!(op.param("subject").unwrap().value.as_text(), Some("Hello"));
    }

    #[test]
    fn what_the_email_connector_cannot_do_is_named() {
        assert_eq!(
            parse_err(r#"<email.list configKey="Imap"/>"#),
            "unsupported email connector operation <email.list> (reading mailboxes (IMAP/POP3) is not supported: Conflux's email connector sends only) at sequences/S.xml:2:1"
        );
        assert!(
            parse_err(r#"<email.send configKey="S"><too>x</too></email.send>"#)
                .starts_with("unknown element <too> in <email.send>: expected a parameter of email.send (from, personalName, to,")
        );
        assert!(
            parse_err("<email.init><host>h</host></email.init>")
                .starts_with("<email.init> is a connection: put it in a local entry")
        );
    }

    #[test]
    fn file_operations_read_their_parameters_and_name_what_is_not_run() {
        let Mediator::Connector(op) = parse_one(
            r#"<file.write configKey="Local">
  <filePath>out/a.txt</filePath>
  <contentOrExpression>${payload.text}</contentOrExpression>
</file.write>"#,
        ) else {
            panic!()
        };
        assert_eq!((op.connector, op.element), ("file", "file.write"));
        assert_eq!(
            op.param("filePath").unwrap().value.as_text(),
            Some("out/a.txt")
        );
        assert_eq!(
            parse_err(r#"<file.unzip configKey="L"/>"#),
            "unsupported file connector operation <file.unzip> (Conflux's file connector runs write, read, checkExist, createDirectory, delete, listFiles, move, copy and rename) at sequences/S.xml:2:1"
        );
        assert!(
            parse_err(r#"<file.read configKey="L"><filePath>x</filePath></file.read>"#)
                .starts_with("unknown element <filePath> in <file.read>: expected a parameter of file.read (path,")
        );
    }
}
