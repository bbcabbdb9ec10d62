//! MI's email connector, `<email.send configKey>`, sending over SMTP with lettre (Tokio, rustls).
//! It follows wso2-extensions/esb-connector-email 2.x: `EmailSend` builds the MIME message as its
//! `MessageBuilder` does (content type `text/html`, charset UTF-8 and transfer encoding Base64
//! unless given; subject and content render inline `${...}`; `EMAIL-HEADER:<name>` properties
//! become headers; attachments are file paths or a JSON array of `{name, content}`), and the
//! result is `{"success": true}` into `responseVariable` (and the body with `overwriteBody`), or,
//! for 1.x operations without `responseVariable`, the body `<result><success>true</success></result>`
//! (1.x `ResponseHandler.generateOutput`). A failure sets `ERROR_CODE` (700203 connectivity,
//! 700204 invalid configuration; the connector's `Error` enum) and faults, as the connector's
//! `handleException` does. A connection (`<email.init>`) opens its SMTP transport (pooled) on the
//! first send.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use conflux_artifacts::mediators::connector::{ConnectorConnection, ConnectorOperation};
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, Mailboxes, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope, props};
use crate::runtime::engine::Fault;
use crate::runtime::mediators::http_connector::ParamValue;
use crate::runtime::payload::Payload;
use crate::synapse_expr::ExprValue;

/// The connector's `Error.CONNECTIVITY` code.
pub const ERROR_CONNECTIVITY: u32 = 700203;
/// The connector's `Error.INVALID_CONFIGURATION` code.
pub const ERROR_INVALID_CONFIGURATION: u32 = 700204;
/// Prefix of the properties whose values become email headers (`EmailSend`).
pub const HEADER_PROPERTY_PREFIX: &str = "EMAIL-HEADER:";
/// SMTP ports when `<port>` is not given.
pub const DEFAULT_SMTP_PORT: u16 = 25;
pub const DEFAULT_SMTPS_PORT: u16 = 465;

const DEFAULT_CONTENT_TYPE: &str = "text/html";
const DEFAULT_ENCODING: &str = "UTF-8";

/// How the connection secures SMTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `SMTP` without `requireTLS`.
    Plain,
    /// `SMTP` with `requireTLS=true`: STARTTLS, required.
    StartTls,
    /// `SMTPS`: TLS from the first byte.
    Wrapper,
}

/// What `<email.init>` says, checked at deploy.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// `checkServerIdentity=false` or `trustedHosts=*`: the server's certificate is not checked.
    pub accept_invalid_certs: bool,
    pub credentials: Option<(String, String)>,
    /// The largest of `connectionTimeout`, `readTimeout` and `writeTimeout` (milliseconds):
    /// lettre has one timeout for every step.
    pub timeout: Option<Duration>,
}

/// A deployed `<email.init>` connection.
pub struct EmailConnection {
    pub name: Arc<str>,
    pub settings: SmtpSettings,
    transport: OnceLock<Result<AsyncSmtpTransport<Tokio1Executor>, String>>,
}

impl std::fmt::Debug for EmailConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailConnection")
            .field("name", &self.name)
            .field("settings", &self.settings)
            .finish()
    }
}

fn literal<'a>(c: &'a ConnectorConnection, name: &str) -> Result<Option<&'a str>, String> {
    match c.param(name) {
        None => Ok(None),
        Some(p) => match p.value.as_text() {
            Some(text) => Ok(Some(text.trim())),
            None => Err(format!(
                "<{name}> of an <email.init> connection must be static text (at {})",
                p.span
            )),
        },
    }
}

impl EmailConnection {
    /// The connection of entry `key`. `Ok(None)`: a mailbox-reading connection (IMAP, POP3),
    /// which deploys but which no operation Conflux runs can use.
    pub fn compile(key: &str, c: &ConnectorConnection) -> Result<Option<EmailConnection>, String> {
        let kind = literal(c, "connectionType")?
            .unwrap_or("SMTP")
            .to_ascii_uppercase();
        let security = match kind.as_str() {
            "SMTP" => match literal(c, "requireTLS")? {
                Some(v) if v.eq_ignore_ascii_case("true") => Security::StartTls,
                _ => Security::Plain,
            },
            "SMTPS" => Security::Wrapper,
            "IMAP" | "IMAPS" | "POP3" | "POP3S" => return Ok(None),
            other => {
                return Err(format!(
                    "email connection {key}: connectionType {other} is not one of SMTP, SMTPS, IMAP, IMAPS, POP3, POP3S"
                ));
            }
        };
        if literal(c, "enableOAuth2")?.is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Err(format!(
                "email connection {key}: OAuth2 (enableOAuth2) is not supported; use username and password"
            ));
        }
        let host = literal(c, "host")?
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("email connection {key}: <host> is required"))?
            .to_string();
        let port = match literal(c, "port")? {
            None | Some("") => match security {
                Security::Wrapper => DEFAULT_SMTPS_PORT,
                _ => DEFAULT_SMTP_PORT,
            },
            Some(p) => p.parse().map_err(|_| {
                format!("email connection {key}: port {p} is not a port number (1-65535)")
            })?,
        };
        let flag_false = |name| -> Result<bool, String> {
            Ok(literal(c, name)?.is_some_and(|v| v.eq_ignore_ascii_case("false")))
        };
        let accept_invalid_certs =
            flag_false("checkServerIdentity")? || literal(c, "trustedHosts")? == Some("*");
        let username = literal(c, "username")?.filter(|u| !u.is_empty());
        let credentials = match username {
            Some(user) if !flag_false("requireAuthentication")? => Some((
                user.to_string(),
                literal(c, "password")?.unwrap_or_default().to_string(),
            )),
            _ => None,
        };
        let mut timeout = None;
        for name in ["connectionTimeout", "readTimeout", "writeTimeout"] {
            if let Some(ms) = literal(c, name)?.filter(|v| !v.is_empty()) {
                let ms: u64 = ms.parse().map_err(|_| {
                    format!("email connection {key}: {name} {ms} is not a number of milliseconds")
                })?;
                timeout = Some(
                    timeout
                        .unwrap_or(Duration::ZERO)
                        .max(Duration::from_millis(ms)),
                );
            }
        }
        let name = literal(c, "name")?.filter(|n| !n.is_empty()).unwrap_or(key);
        Ok(Some(EmailConnection {
            name: name.into(),
            settings: SmtpSettings {
                host,
                port,
                security,
                accept_invalid_certs,
                credentials,
                timeout,
            },
            transport: OnceLock::new(),
        }))
    }

    fn transport(&self) -> Result<&AsyncSmtpTransport<Tokio1Executor>, String> {
        self.transport
            .get_or_init(|| {
                let s = &self.settings;
                let tls = || {
                    TlsParameters::builder(s.host.clone())
                        .dangerous_accept_invalid_certs(s.accept_invalid_certs)
                        .dangerous_accept_invalid_hostnames(s.accept_invalid_certs)
                        .build_rustls()
                        .map_err(|e| format!("TLS settings for {}: {e}", s.host))
                };
                let tls = match s.security {
                    Security::Plain => Tls::None,
                    Security::StartTls => Tls::Required(tls()?),
                    Security::Wrapper => Tls::Wrapper(tls()?),
                };
                let mut builder =
                    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.as_str())
                        .port(s.port)
                        .tls(tls);
                if let Some(timeout) = s.timeout {
                    builder = builder.timeout(Some(timeout));
                }
                if let Some((user, password)) = &s.credentials {
                    builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
                }
                Ok(builder.build())
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// A compiled `<email.send>`.
#[derive(Debug, Clone)]
pub struct EmailSend {
    pub element: &'static str,
    pub connection: Arc<EmailConnection>,
    /// By parameter name; subject and content render inline `${...}`.
    pub params: HashMap<&'static str, ParamValue>,
}

/// A failure of the operation: the connector's error code and the exception's message.
struct SendError {
    code: u32,
    message: String,
}

fn invalid(message: impl Into<String>) -> SendError {
    SendError {
        code: ERROR_INVALID_CONFIGURATION,
        message: message.into(),
    }
}

impl EmailSend {
    /// The parameters whose text is a template the connector renders (`InlineExpressionUtil`).
    pub const INLINE_PARAMS: [&'static str; 2] = ["subject", "content"];

    pub fn new(
        op: &ConnectorOperation,
        connection: Arc<EmailConnection>,
        params: HashMap<&'static str, ParamValue>,
    ) -> EmailSend {
        EmailSend {
            element: op.element,
            connection,
            params,
        }
    }

    pub fn needs_payload(&self) -> bool {
        self.params.values().any(ParamValue::needs_payload)
    }

    fn text<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
        name: &str,
    ) -> Result<Option<String>, SendError> {
        match self.params.get(name) {
            None => Ok(None),
            Some(v) => v
                .render(ctx)
                .map(|t| Some(t).filter(|t| !t.is_empty()))
                .map_err(|e| invalid(format!("<{name}>: {e}"))),
        }
    }

    /// Sends the email; sets the result or faults.
    pub(crate) async fn run<B: MessageBody>(
        &self,
        ctx: &mut MessageContext<B>,
    ) -> Result<(), Fault> {
        let variable = self
            .text(ctx, "responseVariable")
            .map_err(|e| self.fault(ctx, e))?;
        let overwrite = self
            .text(ctx, "overwriteBody")
            .map_err(|e| self.fault(ctx, e))?
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        // Built before the await: the message context is not held across it.
        let sent = match self.message(ctx) {
            Ok(message) => self.send(message).await,
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            return Err(self.fault(ctx, e));
        }
        tracing::debug!(target: "conflux::mediation", "{{{}}} {}: the email was sent through connection {}", ctx.artifact, self.element, self.connection.name);
        let result = serde_json::json!({"success": true});
        match variable {
            // 1.x: the result replaces the body as XML.
            None => {
                let payload = Payload::xml("<result><success>true</success></result>".into())
                    .map_err(|e| Fault::mediation(e.to_string()))?;
                ctx.set_payload(payload);
            }
            // 2.x: InvokeMediator stores the ConnectorResponse; overwriteBody puts it in the body.
            Some(name) => {
                if overwrite {
                    ctx.set_payload(Payload::Json(result.clone().into()));
                    for p in [props::MESSAGE_TYPE, props::CONTENT_TYPE] {
                        ctx.axis2.insert(p.into(), "application/json".into());
                    }
                    ctx.headers.insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/json"),
                    );
                }
                ctx.variables.insert(
                    name,
                    ExprValue::Json(serde_json::json!({
                        "payload": result,
                        "headers": {},
                        "attributes": {},
                    })),
                );
            }
        }
        Ok(())
    }

    /// The connector's `setErrorPropertiesToMessage` and `handleException`.
    fn fault<B: MessageBody>(&self, ctx: &mut MessageContext<B>, e: SendError) -> Fault {
        let _ = ctx.set(Scope::Default, props::ERROR_CODE, e.code.to_string());
        Fault {
            code: e.code,
            message: format!(
                "{} (connection {}): {}",
                self.element, self.connection.name, e.message
            ),
            status: None,
        }
    }

    async fn send(&self, message: Message) -> Result<(), SendError> {
        let transport = self.connection.transport().map_err(invalid)?;
        transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| SendError {
                code: ERROR_CONNECTIVITY,
                message: format!("Error occurred while sending the email: {e}"),
            })
    }

    /// `MessageBuilder` of the connector.
    fn message<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<Message, SendError> {
        let get = |name| self.text(ctx, name);
        let (to, cc, bcc) = (get("to")?, get("cc")?, get("bcc")?);
        if to.is_none() && cc.is_none() && bcc.is_none() {
            return Err(invalid(
                "Error occurred while sending the email. Recipients are not provided.",
            ));
        }
        let mailboxes = |name: &str, text: &str| {
            text.parse::<Mailboxes>()
                .map_err(|e| invalid(format!("<{name}> {text}: {e}")))
        };
        let from = get("from")?.ok_or_else(|| invalid("<from> is required"))?;
        let mut from: Mailbox = from
            .parse()
            .map_err(|e| invalid(format!("<from> {from}: {e}")))?;
        if let Some(personal) = get("personalName")? {
            from.name = Some(personal);
        }
        let mut builder = Message::builder().from(from);
        for (name, value) in [("to", &to), ("cc", &cc), ("bcc", &bcc)] {
            if let Some(text) = value {
                for mailbox in mailboxes(name, text)? {
                    builder = match name {
                        "to" => builder.to(mailbox),
                        "cc" => builder.cc(mailbox),
                        _ => builder.bcc(mailbox),
                    };
                }
            }
        }
        if let Some(reply_to) = get("replyTo")? {
            for mailbox in mailboxes("replyTo", &reply_to)? {
                builder = builder.reply_to(mailbox);
            }
        }
        if let Some(subject) = get("subject")? {
            builder = builder.subject(subject);
        }
        for (name, value) in ctx.properties.iter() {
            if let Some(header) = name.strip_prefix(HEADER_PROPERTY_PREFIX) {
                let header = HeaderName::new_from_ascii(header.to_string())
                    .map_err(|_| invalid(format!("{name}: not a valid header name")))?;
                builder = builder.raw_header(HeaderValue::new(header, value.to_string()));
            }
        }
        let content_type = format!(
            "{}; charset={}",
            get("contentType")?
                .as_deref()
                .unwrap_or(DEFAULT_CONTENT_TYPE),
            get("encoding")?.as_deref().unwrap_or(DEFAULT_ENCODING)
        );
        let content_type = ContentType::parse(&content_type)
            .map_err(|e| invalid(format!("content type {content_type}: {e}")))?;
        let encoding = transfer_encoding(get("contentTransferEncoding")?.as_deref())?;
        let body = SinglePart::builder()
            .header(content_type)
            .header(encoding)
            .body(get("content")?.unwrap_or_default());
        if get("inlineImages")?.is_some_and(|v| v.trim() != "[]") {
            return Err(invalid(
                "<inlineImages> is not supported by Conflux's email connector",
            ));
        }
        let message = match get("attachments")? {
            None => builder.singlepart(body),
            Some(list) => {
                let mut parts = MultiPart::mixed().singlepart(body);
                for (name, bytes) in attachments(&list)? {
                    let kind = ContentType::parse("application/octet-stream")
                        .map_err(|e| invalid(e.to_string()))?;
                    parts = parts.singlepart(Attachment::new(name).body(bytes, kind));
                }
                builder.multipart(parts)
            }
        };
        message.map_err(|e| invalid(format!("Error occurred while building the email: {e}")))
    }
}

/// `contentTransferEncoding`: Base64 unless given.
fn transfer_encoding(value: Option<&str>) -> Result<ContentTransferEncoding, SendError> {
    Ok(match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("base64") => ContentTransferEncoding::Base64,
        Some("quoted-printable") => ContentTransferEncoding::QuotedPrintable,
        Some("7bit") => ContentTransferEncoding::SevenBit,
        Some("8bit") => ContentTransferEncoding::EightBit,
        Some("binary") => ContentTransferEncoding::Binary,
        Some(other) => {
            return Err(invalid(format!(
                "contentTransferEncoding {other} is not one of Base64, quoted-printable, 7bit, 8bit, binary"
            )));
        }
    })
}

/// The attachments: a JSON array of `{"name", "content"}` (content in Base64 or as text), or
/// comma-separated file paths (`MessageBuilder.buildMultipartMessageWithAttachments`).
fn attachments(list: &str) -> Result<Vec<(String, Vec<u8>)>, SendError> {
    use base64::Engine as _;
    let list = list.trim();
    if list.starts_with('[') {
        let items: Vec<serde_json::Value> = serde_json::from_str(list)
            .map_err(|e| invalid(format!("Invalid JSON data format for attachments: {e}")))?;
        return items
            .iter()
            .map(|item| {
                let name = item["name"].as_str().unwrap_or_default().to_string();
                let content = item["content"].as_str().unwrap_or_default();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(content)
                    .unwrap_or_else(|_| content.as_bytes().to_vec());
                Ok((name, bytes))
            })
            .collect();
    }
    list.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|path| {
            let bytes = std::fs::read(path).map_err(|e| SendError {
                code: ERROR_CONNECTIVITY,
                message: format!("Error occurred while adding attachment {path} to the email: {e}"),
            })?;
            let name = std::path::Path::new(path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.to_string());
            Ok((name, bytes))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use conflux_artifacts::mediators::http_connector::{ConnectorParam, ConnectorValue};
    use conflux_artifacts::span::Span;

    fn connection(params: &[(&str, &str)]) -> ConnectorConnection {
        ConnectorConnection {
            connector: "email",
            params: params
                .iter()
                .map(|(n, v)| ConnectorParam {
                    name: n.to_string(),
                    value: ConnectorValue::Text(v.to_string()),
                    span: Span::whole_file("local-entries/Smtp.xml"),
                })
                .collect(),
            span: Span::whole_file("local-entries/Smtp.xml"),
        }
    }

    #[test]
    fn an_smtp_connection_is_read_as_the_connector_reads_it() {
        let c = EmailConnection::compile(
            "Smtp",
            &connection(&[
                ("connectionType", "SMTP"),
                ("host", "mail.example.com"),
                ("port", "2525"),
                ("requireTLS", "true"),
                ("username", "u"),
                ("password", "p"),
                ("readTimeout", "5000"),
                ("connectionTimeout", "2000"),
            ]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            c.settings,
            SmtpSettings {
                host: "mail.example.com".into(),
                port: 2525,
                security: Security::StartTls,
                accept_invalid_certs: false,
                credentials: Some(("u".into(), "p".into())),
                timeout: Some(Duration::from_secs(5)),
            }
        );
        assert_eq!(&*c.name, "Smtp");
        let s = EmailConnection::compile(
            "S",
            &connection(&[("connectionType", "smtps"), ("host", "h"), ("name", "N")]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (s.settings.port, s.settings.security),
            (465, Security::Wrapper)
        );
        assert_eq!(&*s.name, "N");
    }

    #[test]
    fn connections_conflux_cannot_use_say_why() {
        assert!(
            EmailConnection::compile("I", &connection(&[("connectionType", "IMAP")]))
                .unwrap()
                .is_none()
        );
        for (params, want) in [
            (
                vec![("connectionType", "X400")],
                "connectionType X400 is not one of",
            ),
            (vec![("connectionType", "SMTP")], "<host> is required"),
            (
                vec![("host", "h"), ("port", "99999")],
                "port 99999 is not a port number",
            ),
            (
                vec![("host", "h"), ("enableOAuth2", "true")],
                "OAuth2 (enableOAuth2) is not supported",
            ),
        ] {
            let e = EmailConnection::compile("C", &connection(&params)).unwrap_err();
            assert!(e.contains(want), "{e}");
        }
    }

    #[test]
    fn attachments_are_json_or_file_paths() {
        let got = attachments(
            r#"[{"name":"a.txt","content":"aGVsbG8="},{"name":"b","content":"plain text"}]"#,
        )
        .ok()
        .unwrap();
        assert_eq!(got[0], ("a.txt".to_string(), b"hello".to_vec()));
        assert_eq!(got[1].1, b"plain text".to_vec());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        std::fs::write(&path, "x,y").unwrap();
        let got = attachments(&format!(" {} ", path.display())).ok().unwrap();
        assert_eq!(got, [("c.csv".to_string(), b"x,y".to_vec())]);
        assert!(attachments("/no/such/file").is_err());
    }
}
