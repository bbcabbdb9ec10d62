//! Local entries: `<localEntry key>` holding text, an XML element, or a `src` URL
//! (SYN:`config/xml/EntryFactory.java`). An entry holding `<http.init>` is also an HTTP connector
//! connection ([`HttpConnection`]): MI deploys it as an XML entry and, next to it, an endpoint
//! named `<name>_INTERNAL_ENDPOINT_REFERENCE` (SYN `deployers/LocalEntryDeployer.java`
//! deployEndpointsForHTTPConnection, `util/HTTPConnectionUtils.java`), which the connection's
//! [`HttpConnection::endpoint`] is.
//!
//! A `src` entry's content is read at deploy by [`load_src`] (SYN:`config/xml/EntryFactory.java`
//! sets `Entry.URL_SRC` and loads the value with `SynapseConfigUtils.getObject` while the entry
//! is built): a `file:` URL relative to the server home, parsed as XML when it is XML, else kept
//! as text; a file that cannot be read fails the entry, as `getObject`'s "Error connecting to
//! URL" does in MI. `http(s):` sources, which MI fetches while deploying, are refused: Conflux
//! does not make deployment wait on the network.

use std::io::Read;
use std::path::{Path, PathBuf};

use roxmltree::Node;

use crate::endpoint::{
    Endpoint, EndpointKind, MarkForSuspension, ResponseAction, SuspendOnFailure, Timeout,
    TimeoutDuration,
};
use crate::error::ArtifactError;
use crate::mediators::http_connector::{ConnectorParam, ConnectorValue, parse_param};
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse_named, text_of};

#[derive(Debug, Clone, PartialEq)]
pub struct LocalEntry {
    pub key: String,
    pub value: LocalEntryValue,
    pub span: Span,
    /// The file as written (returned by the Management API as `configuration`).
    pub source: String,
    /// The connection, when the entry holds `<http.init>`.
    pub http_connection: Option<HttpConnection>,
    /// The connection, when the entry holds another natively run connector's `<name.init>`
    /// (`<email.init>`).
    pub connector_connection: Option<crate::mediators::connector::ConnectorConnection>,
    /// For a `src` entry, its content once [`load_src`] read it: `Text` or `Xml`.
    pub loaded: Option<Box<LocalEntryValue>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LocalEntryValue {
    Text(String),
    /// An inline XML element, as written.
    Xml(String),
    /// `src="file:..."` / URL: content fetched from there.
    Src(String),
}

pub(crate) fn parse_local_entry(ctx: &Ctx, node: Node, source: &str) -> Result<LocalEntry> {
    let key = ctx
        .required_attr(node, "key", "the entry's key")?
        .trim()
        .to_string();
    // EntryFactory.createEntry: a <description> is the entry's description, not its value.
    let elements: Vec<Node> = element_children(node)
        .filter(|e| !crate::xml::is_synapse_named(*e, "description"))
        .collect();
    let http_connection = match elements.as_slice() {
        [init] if is_synapse_named(*init, "http.init") => Some(parse_http_connection(ctx, *init)?),
        _ => None,
    };
    let connector_connection = match elements.as_slice() {
        [init] => crate::mediators::connector::parse_connection(ctx, *init)?,
        _ => None,
    };
    let value = if let Some(src) = ctx.attr(node, "src") {
        if let Some(el) = elements.first() {
            return Err(ctx.invalid(
                *el,
                "a localEntry with 'src' cannot have inline content".into(),
            ));
        }
        LocalEntryValue::Src(src.trim().to_string())
    } else {
        match elements.as_slice() {
            // EntryFactory: inline text is trimmed.
            [] => LocalEntryValue::Text(text_of(node).trim().to_string()),
            [el] => LocalEntryValue::Xml(ctx.source(*el)),
            [_, second, ..] => {
                return Err(ctx.invalid(*second, "a localEntry holds a single XML element".into()));
            }
        }
    };
    Ok(LocalEntry {
        key,
        value,
        span: ctx.span(node),
        source: source.to_string(),
        http_connection,
        connector_connection,
        loaded: None,
    })
}

/// Largest `src` content read: the artifact file limit (a local entry is artifact content).
pub const MAX_SRC_BYTES: u64 = crate::artifact::MAX_ARTIFACT_BYTES;

/// Reads a `src` entry's content into [`LocalEntry::loaded`]; other entries are left as they are.
/// `file:` URLs: `file:/abs`, `file:///abs` and `file:rel`, a relative path being resolved against
/// `home` (MI's `SynapseConfigUtils.getObject` retries it under `synapse.home`, the server home
/// MI also runs in), or against the working directory when there is no home. Content that parses
/// as an XML document is kept as its root element, anything else as text (`readNonXML`).
pub fn load_src(entry: &mut LocalEntry, home: Option<&Path>) -> Result<()> {
    let LocalEntryValue::Src(url) = &entry.value else {
        return Ok(());
    };
    let span = entry.span.clone();
    let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    let path = match scheme.as_deref() {
        Some("file") => src_file_path(&url["file:".len()..], home),
        Some("http" | "https") => {
            return Err(ArtifactError::Unsupported {
                what: format!("localEntry src {url:?}"),
                why: "Conflux does not fetch over the network while deploying (MI does); save the content to a file and use src=\"file:...\", or write it inline in the entry".into(),
                span,
            });
        }
        _ => {
            return Err(ArtifactError::Invalid {
                message: format!(
                    "invalid value {url:?} for attribute 'src' of <localEntry>: expected a file: URL (or http/https, which Conflux does not fetch)"
                ),
                span,
            });
        }
    };
    let io = |e: std::io::Error| ArtifactError::Io {
        message: format!(
            "localEntry {} src {url:?} ({}): {e}",
            entry.key,
            path.display()
        ),
        span: span.clone(),
    };
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(MAX_SRC_BYTES + 1).read_to_end(&mut bytes))
        .map_err(io)?;
    if bytes.len() as u64 > MAX_SRC_BYTES {
        return Err(ArtifactError::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_SRC_BYTES,
            span,
        });
    }
    let text = String::from_utf8(bytes).map_err(|e| ArtifactError::Io {
        message: format!(
            "localEntry {} src {url:?}: not UTF-8 text (invalid byte at offset {})",
            entry.key,
            e.utf8_error().valid_up_to()
        ),
        span: span.clone(),
    })?;
    let value = match roxmltree::Document::parse(&text) {
        Ok(doc) => LocalEntryValue::Xml(text[doc.root_element().range()].to_string()),
        Err(_) => LocalEntryValue::Text(text),
    };
    entry.loaded = Some(Box::new(value));
    Ok(())
}

/// The path of a `file:` URL's rest (`/abs`, `///abs`, `//localhost/abs` or `rel`).
fn src_file_path(rest: &str, home: Option<&Path>) -> PathBuf {
    let rest = rest.strip_prefix("//localhost").unwrap_or(rest);
    let rest = match rest.strip_prefix("//") {
        Some(abs) if abs.starts_with('/') => abs,
        _ => rest,
    };
    let path = Path::new(rest);
    match home {
        Some(home) if path.is_relative() => home.join(path),
        _ => path.to_path_buf(),
    }
}

/// The suffix of the endpoint MI deploys for a connection (`SynapseConstants.ENDPOINT_IDENTIFIER`).
pub const HTTP_CONNECTION_ENDPOINT_SUFFIX: &str = "_INTERNAL_ENDPOINT_REFERENCE";

/// The uri-template of that endpoint (`HTTPConnectionUtils.generateHTTPEndpointOMElement`); the
/// operations set `uri.var.base`, `uri.var.path` and `uri.var.query` before each call.
pub const HTTP_CONNECTION_URI_TEMPLATE: &str = "{uri.var.base}{+uri.var.path}{+uri.var.query}";

/// An HTTP connector connection: `<localEntry key><http.init>...</http.init></localEntry>`
/// (wso2-extensions/mi-connector-http `uischema/http.json`, `https.json`, `config/init.xml`).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConnection {
    /// `<name>`: the connection's name; its endpoint is `<name>_INTERNAL_ENDPOINT_REFERENCE`.
    pub name: String,
    /// `<baseUrl>`: what `relativePath` is joined to (the init template's `HTTP_CONN_BASE_PATH`).
    pub base_url: ConnectorParam,
    pub auth: HttpAuth,
    /// The generated `<endpoint name="<name>_INTERNAL_ENDPOINT_REFERENCE"><http
    /// uri-template="{uri.var.base}{+uri.var.path}{+uri.var.query}">` with the connection's
    /// timeout, suspendOnFailure and markForSuspension.
    pub endpoint: Endpoint,
    /// Where `<http.init>` is.
    pub span: Span,
}

/// The connection's `authType` (the endpoint's `<authentication>` in MI).
// One per connection, read once per deployment: the size of the OAuth variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum HttpAuth {
    None,
    /// `Basic Auth`: `Authorization: Basic base64(username:password)` on each request
    /// (SYN `endpoints/auth/basicauth/BasicAuthHandler.java`).
    Basic {
        username: ConnectorParam,
        password: ConnectorParam,
    },
    /// `OAuth` (SYN `endpoints/auth/oauth/OAuthHandler.java` and the handler of its grant).
    OAuth {
        grant: OAuthGrant,
        client_id: ConnectorParam,
        client_secret: ConnectorParam,
        token_url: ConnectorParam,
        mode: OAuthMode,
        /// `additionalProperties` (`name:value,name:value`): more token request parameters.
        parameters: Vec<(String, String)>,
        /// `oauthConnectionTimeout`, `oauthConnectionRequestTimeout`, `oauthSocketTimeout`.
        timeouts: OAuthTimeouts,
    },
}

/// `oauthGrantType` (`SynapseConstants.OAUTH_GRANT_TYPE_*`, compared ignoring case) and what
/// the grant adds to the token request.
#[derive(Debug, Clone, PartialEq)]
pub enum OAuthGrant {
    /// `Client Credentials` (SYN `ClientCredentialsHandler.java`).
    ClientCredentials,
    /// `Password` (SYN `PasswordCredentialsHandler.java`): `username` and `password`.
    Password {
        username: ConnectorParam,
        password: ConnectorParam,
    },
    /// `Authorization Code` (SYN `AuthorizationCodeHandler.java`): the configured refresh token
    /// is exchanged for access tokens (`grant_type=refresh_token`).
    AuthorizationCode { refresh_token: ConnectorParam },
}

/// The token request's timeouts in milliseconds (OAuthClient's RequestConfig); None: not set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OAuthTimeouts {
    pub connect_ms: Option<u64>,
    pub connection_request_ms: Option<u64>,
    pub socket_ms: Option<u64>,
}

/// `oauthAuthorizationMode`: where the client credentials go in the token request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthMode {
    /// `Authorization: Basic base64(clientId:clientSecret)` (the default).
    Header,
    /// `client_id` and `client_secret` in the form body.
    Payload,
}

/// The `<http.init>` children MI reads (`HTTPConnectionUtils.generateConnectionElementsMap`, the
/// connector's `init.xml` and ui schemas); others are refused unless empty.
const HTTP_INIT_ELEMENTS: &[&str] = &[
    "name",
    "connectionType",
    "baseUrl",
    "authType",
    "username",
    "password",
    "oauthAuthorizationMode",
    "oauthGrantType",
    "clientId",
    "clientSecret",
    "tokenUrl",
    "refreshToken",
    "additionalProperties",
    "oauthConnectionTimeout",
    "oauthConnectionRequestTimeout",
    "oauthSocketTimeout",
    "timeoutDuration",
    "timeoutAction",
    "retryErrorCodes",
    "retryCount",
    "retryDelay",
    "suspendErrorCodes",
    "suspendInitialDuration",
    "suspendProgressionFactor",
    "suspendMaximumDuration",
    "trace",
    "statistics",
    "miscellaneousProperties",
    "miscellaneousDescription",
    "qualityServiceAddressOption",
    "qualityServiceAddressVersion",
    "qualityServiceAddressSeparateListener",
    "qualityServiceSecurityOption",
    "qualityServiceSecurityInboundOutboundPolicyOption",
    "qualityServiceSecurityInboundPolicyKey",
    "qualityServiceSecurityOutboundPolicyKey",
    "qualityServiceSecurityPolicyKey",
];

/// Reads `<http.init>` as MI deploys it: the init template's parameters, and the endpoint
/// `HTTPConnectionUtils.generateHTTPEndpointOMElement` generates from the same elements.
fn parse_http_connection(ctx: &Ctx, init: Node) -> Result<HttpConnection> {
    let mut params: Vec<(ConnectorParam, Node)> = Vec::new();
    for child in element_children(init) {
        let local = child.tag_name().name();
        if !HTTP_INIT_ELEMENTS.contains(&local) {
            if text_of(child).trim().is_empty() && element_children(child).next().is_none() {
                continue;
            }
            return Err(ctx.unknown(
                child,
                init,
                "a setting of the HTTP connector connection (name, baseUrl, authType, timeoutDuration, ...)",
            ));
        }
        if let Some(mut param) = parse_param(ctx, child)? {
            // Settings are resolved like endpoint attributes ($SYSTEM:, $FILE:, ${configs.x}).
            if let ConnectorValue::Text(text) = &param.value {
                let resolved =
                    ctx.inject(child, &format!("<{local}>"), text, param.span.clone())?;
                param.value = ConnectorValue::Text(resolved.into_owned());
            }
            // A later element replaces an earlier one (the elements map in MI).
            params.retain(|(p, _)| p.name != local);
            params.push((param, child));
        }
    }
    let get = |name: &str| params.iter().find(|(p, _)| p.name == name);
    // The text of a setting that must be static (it shapes the deployed endpoint), trimmed;
    // None when absent or blank.
    let static_text = |name: &str| -> Result<Option<(String, Node)>> {
        match get(name) {
            None => Ok(None),
            Some((p, node)) => match &p.value {
                ConnectorValue::Text(t) if t.trim().is_empty() => Ok(None),
                ConnectorValue::Text(t) => Ok(Some((t.trim().to_string(), *node))),
                ConnectorValue::Expression(_) => Err(ctx.invalid(
                    *node,
                    format!("<{name}> of a connection must be a value, not an expression"),
                )),
            },
        }
    };
    let required = |name: &str, what: &str| -> Result<ConnectorParam> {
        match get(name) {
            Some((p, _)) if p.value.as_text().is_none_or(|t| !t.trim().is_empty()) => Ok(p.clone()),
            _ => Err(ctx.missing(init, &format!("a child <{name}>"), what)),
        }
    };

    let Some((name, _)) = static_text("name")? else {
        return Err(ctx.missing(
            init,
            "a child <name>",
            "the connection's name (its endpoint is <name>_INTERNAL_ENDPOINT_REFERENCE)",
        ));
    };
    let base_url = required(
        "baseUrl",
        "the base URL the operations' relativePath is joined to",
    )?;
    if let Some((kind, node)) = static_text("connectionType")?
        && !matches!(kind.to_ascii_uppercase().as_str(), "HTTP" | "HTTPS")
    {
        return Err(ctx.invalid_text(node, &kind, "HTTP or HTTPS"));
    }

    let auth = match static_text("authType")? {
        None => HttpAuth::None,
        Some((t, _)) if t.eq_ignore_ascii_case("None") => HttpAuth::None,
        Some((t, _)) if t.eq_ignore_ascii_case("Basic Auth") => HttpAuth::Basic {
            username: required("username", "the Basic Auth user name")?,
            password: required("password", "the Basic Auth password")?,
        },
        Some((t, node)) if t.eq_ignore_ascii_case("OAuth") => {
            // HTTPConnectionUtils.populateAuthenticationElement: a grant type it does not know
            // leaves the endpoint without authentication; Conflux says so instead.
            let grant = match static_text("oauthGrantType")? {
                None => {
                    return Err(ctx.missing(
                        node,
                        "a sibling <oauthGrantType>",
                        "Authorization Code, Client Credentials or Password",
                    ));
                }
                Some((g, _)) if g.eq_ignore_ascii_case("Client Credentials") => {
                    OAuthGrant::ClientCredentials
                }
                Some((g, _)) if g.eq_ignore_ascii_case("Password") => OAuthGrant::Password {
                    username: required("username", "the OAuth resource owner's user name")?,
                    password: required("password", "the OAuth resource owner's password")?,
                },
                Some((g, _)) if g.eq_ignore_ascii_case("Authorization Code") => {
                    OAuthGrant::AuthorizationCode {
                        refresh_token: required(
                            "refreshToken",
                            "the refresh token the Authorization Code grant exchanges for access tokens",
                        )?,
                    }
                }
                Some((g, n)) => {
                    return Err(ctx.invalid_text(
                        n,
                        &g,
                        "Authorization Code, Client Credentials or Password",
                    ));
                }
            };
            let mode = match static_text("oauthAuthorizationMode")? {
                None => OAuthMode::Header,
                Some((m, _)) if m.eq_ignore_ascii_case("Header") => OAuthMode::Header,
                Some((m, _)) if m.eq_ignore_ascii_case("Payload") => OAuthMode::Payload,
                Some((m, n)) => return Err(ctx.invalid_text(n, &m, "Header or Payload")),
            };
            let millis = |name: &str| -> Result<Option<u64>> {
                match static_text(name)? {
                    None => Ok(None),
                    Some((ms, n)) => ms
                        .parse()
                        .map(Some)
                        .map_err(|_| ctx.invalid_text(n, &ms, "milliseconds")),
                }
            };
            HttpAuth::OAuth {
                grant,
                client_id: required("clientId", "the OAuth client id")?,
                client_secret: required("clientSecret", "the OAuth client secret")?,
                token_url: required("tokenUrl", "the OAuth token endpoint URL")?,
                mode,
                parameters: match static_text("additionalProperties")? {
                    None => Vec::new(),
                    Some((text, _)) => oauth_parameters(&text),
                },
                timeouts: OAuthTimeouts {
                    connect_ms: millis("oauthConnectionTimeout")?,
                    connection_request_ms: millis("oauthConnectionRequestTimeout")?,
                    socket_ms: millis("oauthSocketTimeout")?,
                },
            }
        }
        Some((t, node)) => return Err(ctx.invalid_text(node, &t, "None, Basic Auth or OAuth")),
    };

    for (name, what) in [
        (
            "qualityServiceAddressOption",
            "WS-Addressing on a connection",
        ),
        (
            "qualityServiceSecurityOption",
            "WS-Security on a connection",
        ),
    ] {
        if let Some((value, node)) = static_text(name)?
            && value.eq_ignore_ascii_case("enable")
        {
            return Err(ctx.unsupported(node, what.to_string(), "Tier 3"));
        }
    }
    if let Some((_, node)) = static_text("miscellaneousProperties")? {
        return Err(ctx.unsupported(
            node,
            "connection setting <miscellaneousProperties> (endpoint properties)".into(),
            "endpoint <property> elements are not applied by Conflux",
        ));
    }
    // LocalEntryDeployer.handleSSLSenderCertificates: a value naming a .crt file is loaded into
    // the sender's trust store.
    if let Some((p, node)) = params.iter().find(|(p, _)| {
        p.value
            .as_text()
            .is_some_and(|t| t.trim().ends_with(".crt"))
    }) {
        return Err(ctx.unsupported(
            *node,
            format!("connection certificate <{}>", p.name),
            "add the certificate to the truststore of deployment.toml instead",
        ));
    }

    let endpoint = Endpoint {
        name: Some(format!("{name}{HTTP_CONNECTION_ENDPOINT_SUFFIX}")),
        kind: EndpointKind::Http {
            uri_template: HTTP_CONNECTION_URI_TEMPLATE.to_string(),
            method: None,
        },
        timeout: connection_timeout(ctx, &static_text)?,
        suspend_on_failure: suspend_on_failure(ctx, &static_text)?,
        mark_for_suspension: mark_for_suspension(ctx, &static_text)?,
        retry_disabled_error_codes: Vec::new(),
        retry_enabled_error_codes: Vec::new(),
        properties: Vec::new(),
        span: ctx.span(init),
    };
    Ok(HttpConnection {
        name,
        base_url,
        auth,
        endpoint,
        span: ctx.span(init),
    })
}

type StaticText<'a, 'input> = dyn Fn(&str) -> Result<Option<(String, Node<'a, 'input>)>> + 'a;

/// `additionalProperties`: `name:value` pairs separated by commas; a pair without exactly one
/// `:` is skipped (`HTTPConnectionUtils.generateOAuthAdditionalPropertiesElement`).
fn oauth_parameters(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|pair| {
            let parts: Vec<&str> = pair.split(':').collect();
            match parts.as_slice() {
                [name, value] => Some((name.trim().to_string(), value.trim().to_string())),
                _ => None,
            }
        })
        .collect()
}

/// `<timeout>` from timeoutDuration / timeoutAction (`populateTimeoutElement`: no
/// `<responseAction>` for Never).
fn connection_timeout(ctx: &Ctx, text: &StaticText) -> Result<Option<Timeout>> {
    let duration = text("timeoutDuration")?;
    let action = text("timeoutAction")?;
    if duration.is_none() && action.is_none() {
        return Ok(None);
    }
    let duration = match duration {
        None => None,
        Some((ms, node)) => Some(TimeoutDuration::Millis(
            ms.parse()
                .map_err(|_| ctx.invalid_text(node, &ms, "milliseconds"))?,
        )),
    };
    let response_action = match action {
        None => ResponseAction::Never,
        Some((a, node)) => match a.to_ascii_lowercase().as_str() {
            "never" => ResponseAction::Never,
            "discard" => ResponseAction::Discard,
            "fault" => ResponseAction::Fault,
            _ => return Err(ctx.invalid_text(node, &a, "Never, Discard or Fault")),
        },
    };
    Ok(Some(Timeout {
        duration,
        response_action,
    }))
}

/// `<suspendOnFailure>` from suspendErrorCodes, suspendInitialDuration (-1: MI's default),
/// suspendProgressionFactor and suspendMaximumDuration.
fn suspend_on_failure(ctx: &Ctx, text: &StaticText) -> Result<SuspendOnFailure> {
    let mut s = SuspendOnFailure::default();
    if let Some((codes, node)) = text("suspendErrorCodes")? {
        s.error_codes = error_codes(ctx, node, &codes)?;
    }
    if let Some((ms, node)) = text("suspendInitialDuration")? {
        let ms: i64 = ms
            .parse()
            .map_err(|_| ctx.invalid_text(node, &ms, "milliseconds (-1 for the default)"))?;
        if ms >= 0 {
            s.initial_duration_ms = ms as u64;
        }
    }
    if let Some((factor, node)) = text("suspendProgressionFactor")? {
        s.progression_factor = factor
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or_else(|| ctx.invalid_text(node, &factor, "a decimal number"))?;
    }
    if let Some((ms, node)) = text("suspendMaximumDuration")? {
        let ms: i64 = ms
            .parse()
            .map_err(|_| ctx.invalid_text(node, &ms, "milliseconds"))?;
        s.maximum_duration_ms = u64::try_from(ms).ok();
    }
    Ok(s)
}

/// `<markForSuspension>` from retryErrorCodes, retryCount and retryDelay.
fn mark_for_suspension(ctx: &Ctx, text: &StaticText) -> Result<MarkForSuspension> {
    let mut m = MarkForSuspension::default();
    if let Some((codes, node)) = text("retryErrorCodes")? {
        m.error_codes = error_codes(ctx, node, &codes)?;
    }
    if let Some((n, node)) = text("retryCount")? {
        m.retries_before_suspension = n
            .parse()
            .map_err(|_| ctx.invalid_text(node, &n, "a count of retries"))?;
    }
    if let Some((ms, node)) = text("retryDelay")? {
        m.retry_delay_ms = ms
            .parse()
            .map_err(|_| ctx.invalid_text(node, &ms, "milliseconds"))?;
    }
    Ok(m)
}

/// Error codes separated by commas or spaces (EndpointDefinitionFactory's `StringTokenizer`).
fn error_codes(ctx: &Ctx, node: Node, text: &str) -> Result<Vec<i32>> {
    text.split([',', ' ', '\t', '\n', '\r'])
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| ctx.invalid_text(node, text, "error codes separated by commas"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::{Artifact, parse_artifact};

    // EntryFactory.createEntry (MI test LocalEntryWhiteSpaceTestCase): the text is trimmed and a
    // <description> is not part of the value.
    #[test]
    fn inline_text_is_trimmed_and_the_description_left_out() {
        let e = entry(
            r#"<localEntry xmlns="http://ws.apache.org/ns/synapse" key="L">
   http://localhost:9000/services/S
   <description>where the service is</description></localEntry>"#,
        );
        assert_eq!(
            e.value,
            LocalEntryValue::Text("http://localhost:9000/services/S".into())
        );
    }

    fn entry(xml: &str) -> LocalEntry {
        match parse_artifact("local-entries/L.xml", xml) {
            Ok(Artifact::LocalEntry(l)) => l,
            other => panic!("{other:?}"),
        }
    }

    fn connection(init: &str) -> HttpConnection {
        let e = entry(&format!(
            r#"<localEntry xmlns="http://ws.apache.org/ns/synapse" key="Conn">{init}</localEntry>"#
        ));
        assert!(matches!(e.value, LocalEntryValue::Xml(_)));
        e.http_connection.expect("an http connection")
    }

    fn connection_err(init: &str) -> String {
        parse_artifact(
            "local-entries/L.xml",
            &format!(
                r#"<localEntry xmlns="http://ws.apache.org/ns/synapse" key="Conn">{init}</localEntry>"#
            ),
        )
        .unwrap_err()
        .to_string()
    }

    // HTTPConnectionUtils.generateHTTPEndpointOMElement: <name>_INTERNAL_ENDPOINT_REFERENCE,
    // uri-template {uri.var.base}{+uri.var.path}{+uri.var.query}, timeout / suspendOnFailure /
    // markForSuspension from the connection's settings (uischema/http.json defaults).
    #[test]
    fn an_http_init_entry_is_a_connection_with_its_endpoint() {
        let c = connection(
            "<http.init><connectionType>HTTP</connectionType><name>JsonPlaceHolderConn</name>
  <baseUrl>http://jsonplaceholder.typicode.com</baseUrl><authType>None</authType>
  <timeoutDuration>3000</timeoutDuration><timeoutAction>Fault</timeoutAction>
  <retryErrorCodes>101503</retryErrorCodes><retryCount>2</retryCount><retryDelay>10</retryDelay>
  <suspendErrorCodes>101503, 101504</suspendErrorCodes><suspendInitialDuration>-1</suspendInitialDuration>
  <suspendProgressionFactor>2</suspendProgressionFactor><suspendMaximumDuration>60000</suspendMaximumDuration>
  <trace>disable</trace><statistics>disable</statistics><certificateConfigurable/>
</http.init>",
        );
        assert_eq!(c.name, "JsonPlaceHolderConn");
        assert_eq!(
            c.base_url.value.as_text(),
            Some("http://jsonplaceholder.typicode.com")
        );
        assert_eq!(c.auth, HttpAuth::None);
        let e = &c.endpoint;
        assert_eq!(
            e.name.as_deref(),
            Some("JsonPlaceHolderConn_INTERNAL_ENDPOINT_REFERENCE")
        );
        assert_eq!(
            e.kind,
            EndpointKind::Http {
                uri_template: "{uri.var.base}{+uri.var.path}{+uri.var.query}".into(),
                method: None
            }
        );
        assert_eq!(
            e.timeout,
            Some(Timeout {
                duration: Some(TimeoutDuration::Millis(3000)),
                response_action: ResponseAction::Fault
            })
        );
        assert_eq!(e.suspend_on_failure.error_codes, vec![101503, 101504]);
        assert_eq!(e.suspend_on_failure.initial_duration_ms, 30_000);
        assert_eq!(e.suspend_on_failure.progression_factor, 2.0);
        assert_eq!(e.suspend_on_failure.maximum_duration_ms, Some(60_000));
        assert_eq!(e.mark_for_suspension.error_codes, vec![101503]);
        assert_eq!(e.mark_for_suspension.retries_before_suspension, 2);
        assert_eq!(e.mark_for_suspension.retry_delay_ms, 10);
        assert_eq!(e.span.to_string(), "local-entries/L.xml:1:64");

        // Without settings: no timeout, MI's suspension defaults.
        let plain = connection("<http.init><name>C</name><baseUrl>http://b</baseUrl></http.init>");
        assert_eq!(plain.endpoint.timeout, None);
        assert_eq!(
            plain.endpoint.mark_for_suspension,
            MarkForSuspension::default()
        );
        assert_eq!(
            plain.endpoint.suspend_on_failure,
            SuspendOnFailure::default()
        );
        // Other connectors' connections stay plain XML entries.
        let other = entry(
            r#"<localEntry xmlns="http://ws.apache.org/ns/synapse" key="S"><salesforce.init><username>u</username></salesforce.init></localEntry>"#,
        );
        assert!(other.http_connection.is_none());
    }

    // BasicAuthHandler / ClientCredentialsHandler settings; `{...}` values are expressions
    // (OAuthUtils.resolveExpression), additionalProperties `name:value,...`.
    #[test]
    fn authentication_settings() {
        let basic = connection(
            "<http.init><name>C</name><baseUrl>http://b</baseUrl><authType>Basic Auth</authType><username>ada</username><password>{$ctx:pw}</password></http.init>",
        );
        let HttpAuth::Basic { username, password } = basic.auth else {
            panic!("{:?}", basic.auth)
        };
        assert_eq!(username.value.as_text(), Some("ada"));
        assert!(matches!(password.value, ConnectorValue::Expression(ref e) if e.text == "$ctx:pw"));

        let oauth = connection(
            "<http.init><name>C</name><baseUrl>http://b</baseUrl><authType>OAuth</authType>
  <oauthGrantType>Client Credentials</oauthGrantType><oauthAuthorizationMode>Payload</oauthAuthorizationMode>
  <clientId>id</clientId><clientSecret>secret</clientSecret><tokenUrl>http://idp/token</tokenUrl>
  <additionalProperties>scope:read, audience : api,broken</additionalProperties></http.init>",
        );
        let HttpAuth::OAuth {
            grant,
            mode,
            parameters,
            token_url,
            timeouts,
            ..
        } = oauth.auth
        else {
            panic!("{:?}", oauth.auth)
        };
        assert_eq!(grant, OAuthGrant::ClientCredentials);
        assert_eq!(timeouts, OAuthTimeouts::default());
        assert_eq!(mode, OAuthMode::Payload);
        assert_eq!(token_url.value.as_text(), Some("http://idp/token"));
        assert_eq!(
            parameters,
            vec![
                ("scope".to_string(), "read".to_string()),
                ("audience".to_string(), "api".to_string())
            ]
        );
    }

    // HTTPConnectionUtils.populateAuthenticationElement: the Password grant takes the
    // username / password elements Basic Auth uses, Authorization Code the refresh token; the
    // OAuth timeouts are the token request's (handleOAuthTimeouts).
    #[test]
    fn oauth_grants_and_timeouts() {
        let base = "<name>C</name><baseUrl>http://b</baseUrl><authType>OAuth</authType><clientId>i</clientId><clientSecret>s</clientSecret><tokenUrl>http://idp/t</tokenUrl>";
        let password = connection(&format!(
            "<http.init>{base}<oauthGrantType>password</oauthGrantType><username>u</username><password>p</password><oauthConnectionTimeout>100</oauthConnectionTimeout><oauthSocketTimeout>2000</oauthSocketTimeout></http.init>"
        ));
        let HttpAuth::OAuth {
            grant:
                OAuthGrant::Password {
                    username,
                    password: secret,
                },
            timeouts,
            ..
        } = password.auth
        else {
            panic!("{:?}", password.auth)
        };
        assert_eq!(
            (username.value.as_text(), secret.value.as_text()),
            (Some("u"), Some("p"))
        );
        assert_eq!(
            timeouts,
            OAuthTimeouts {
                connect_ms: Some(100),
                connection_request_ms: None,
                socket_ms: Some(2000)
            }
        );
        let code = connection(&format!(
            "<http.init>{base}<oauthGrantType>Authorization Code</oauthGrantType><refreshToken>{{$ctx:rt}}</refreshToken></http.init>"
        ));
        let HttpAuth::OAuth {
            grant: OAuthGrant::AuthorizationCode { refresh_token },
            ..
        } = code.auth
        else {
            panic!("{:?}", code.auth)
        };
        assert!(
            matches!(refresh_token.value, ConnectorValue::Expression(ref e) if e.text == "$ctx:rt")
        );
        assert!(
            connection_err(&format!("<http.init>{base}<oauthGrantType>Password</oauthGrantType><username>u</username></http.init>"))
                .starts_with("<http.init> requires a child <password>")
        );
        assert!(
            connection_err(&format!("<http.init>{base}<oauthGrantType>Client Credentials</oauthGrantType><oauthSocketTimeout>soon</oauthSocketTimeout></http.init>"))
                .starts_with("invalid value \"soon\" for text of <oauthSocketTimeout>: expected milliseconds")
        );
    }

    #[test]
    fn connections_mi_would_not_run_as_written_are_refused() {
        assert!(
            connection_err("<http.init><name>C</name><baseUrl>http://b</baseUrl><authType>OAuth</authType><oauthGrantType>Authorization Code</oauthGrantType><clientId>i</clientId></http.init>")
                .starts_with("<http.init> requires a child <refreshToken>: the refresh token")
        );
        assert!(
            connection_err("<http.init><name>C</name><baseUrl>http://b</baseUrl><authType>OAuth</authType><oauthGrantType>Implicit</oauthGrantType></http.init>")
                .starts_with("invalid value \"Implicit\" for text of <oauthGrantType>: expected Authorization Code, Client Credentials or Password")
        );
        assert!(
            connection_err("<http.init><baseUrl>http://b</baseUrl></http.init>")
                .starts_with("<http.init> requires a child <name>")
        );
        assert!(
            connection_err("<http.init><name>C</name></http.init>")
                .starts_with("<http.init> requires a child <baseUrl>")
        );
        assert!(
            connection_err("<http.init><name>C</name><baseUrl>http://b</baseUrl><authType>Basic Auth</authType><username>u</username></http.init>")
                .starts_with("<http.init> requires a child <password>: the Basic Auth password")
        );
        assert!(
            connection_err("<http.init><name>C</name><baseUrl>http://b</baseUrl><authType>Digest</authType></http.init>")
                .starts_with("invalid value \"Digest\" for text of <authType>: expected None, Basic Auth or OAuth")
        );
        assert!(
            connection_err("<http.init><name>C</name><baseUrl>http://b</baseUrl><timeoutDuration>soon</timeoutDuration></http.init>")
                .starts_with("invalid value \"soon\" for text of <timeoutDuration>: expected milliseconds")
        );
        assert!(
            connection_err("<http.init><name>C</name><baseUrl>http://b</baseUrl><proxyHost>p</proxyHost></http.init>")
                .starts_with("unknown element <proxyHost> in <http.init>")
        );
        assert!(
            connection_err("<http.init><name>C</name><baseUrl>https://b</baseUrl><trustStoreCertificatePath>resources:certs/b.crt</trustStoreCertificatePath></http.init>")
                .contains("unknown element <trustStoreCertificatePath>")
        );
        assert!(
            connection_err("<http.init><name>C</name><baseUrl>http://b</baseUrl><miscellaneousProperties>a:default:b</miscellaneousProperties></http.init>")
                .starts_with("unsupported connection setting <miscellaneousProperties>")
        );
    }

    fn src_entry(src: &str) -> LocalEntry {
        entry(&format!(
            "<localEntry xmlns=\"http://ws.apache.org/ns/synapse\"\n key=\"k\" src=\"{src}\"/>"
        ))
    }

    fn loaded(src: &str, home: &Path) -> std::result::Result<LocalEntryValue, String> {
        let mut e = src_entry(src);
        load_src(&mut e, Some(home)).map_err(|e| e.to_string())?;
        Ok(*e.loaded.expect("a src entry is loaded"))
    }

    /// SYN:`config/xml/EntryFactory.java` loads a `src` entry while it is built
    /// (`SynapseConfigUtils.getObject`): a relative `file:` path under `synapse.home`, XML kept
    /// as XML (its root element), anything else as text (`readNonXML`).
    #[test]
    fn a_src_entry_is_read_relative_to_the_home_as_xml_or_text() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("samples/resources");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("policy.xml"),
            "<?xml version=\"1.0\"?>\n<!-- c -->\n<wsp:Policy xmlns:wsp=\"urn:p\"><a/></wsp:Policy>\n",
        )
        .unwrap();
        std::fs::write(dir.join("note.txt"), "plain <text").unwrap();
        assert_eq!(
            loaded("file:samples/resources/policy.xml", home.path()).unwrap(),
            LocalEntryValue::Xml(r#"<wsp:Policy xmlns:wsp="urn:p"><a/></wsp:Policy>"#.into())
        );
        assert_eq!(
            loaded("file:samples/resources/note.txt", home.path()).unwrap(),
            LocalEntryValue::Text("plain <text".into())
        );
        let absolute = dir.join("note.txt");
        for url in [
            format!("file:{}", absolute.display()),
            format!("file://{}", absolute.display()),
            format!("file://localhost{}", absolute.display()),
        ] {
            assert_eq!(
                loaded(&url, Path::new("/nowhere")).unwrap(),
                LocalEntryValue::Text("plain <text".into()),
                "{url}"
            );
        }
        // Entries without src are left alone.
        let mut inline =
            entry(r#"<localEntry xmlns="http://ws.apache.org/ns/synapse" key="k">v</localEntry>"#);
        load_src(&mut inline, Some(home.path())).unwrap();
        assert_eq!(inline.loaded, None);
    }

    /// MI fails the entry when the file cannot be opened (`getObject`: "Error connecting to
    /// URL"); Conflux names the entry, the URL, the path tried and where the entry is.
    #[test]
    fn a_src_entry_that_cannot_be_read_or_is_not_a_file_url_is_refused() {
        let home = tempfile::tempdir().unwrap();
        let err = loaded("file:samples/missing.xml", home.path()).unwrap_err();
        assert!(
            err.starts_with("cannot read: localEntry k src \"file:samples/missing.xml\" (")
                && err.contains("samples/missing.xml): ")
                && err.ends_with(" at local-entries/L.xml:1:1"),
            "{err}"
        );
        assert_eq!(
            loaded("https://example.org/t.xslt", home.path()).unwrap_err(),
            "unsupported localEntry src \"https://example.org/t.xslt\" (Conflux does not fetch over the network while deploying (MI does); save the content to a file and use src=\"file:...\", or write it inline in the entry) at local-entries/L.xml:1:1"
        );
        assert!(
            loaded("ftp://h/x", home.path())
                .unwrap_err()
                .contains("expected a file: URL")
        );
    }

    #[test]
    fn src_content_over_the_limit_is_refused() {
        let home = tempfile::tempdir().unwrap();
        let file = std::fs::File::create(home.path().join("big.txt")).unwrap();
        file.set_len(MAX_SRC_BYTES).unwrap();
        assert!(matches!(
            loaded("file:big.txt", home.path()),
            Ok(LocalEntryValue::Text(t)) if t.len() as u64 == MAX_SRC_BYTES
        ));
        file.set_len(MAX_SRC_BYTES + 1).unwrap();
        let err = loaded("file:big.txt", home.path()).unwrap_err();
        assert!(err.contains(&format!("{}", MAX_SRC_BYTES)), "{err}");
    }

    #[test]
    fn text_xml_and_src() {
        let ns = r#"xmlns="http://ws.apache.org/ns/synapse""#;
        assert_eq!(
            entry(&format!(r#"<localEntry {ns} key="k">0.1</localEntry>"#)).value,
            LocalEntryValue::Text("0.1".into())
        );
        assert_eq!(
            entry(&format!(
                r#"<localEntry {ns} key="k"><description/><x xmlns="">1</x></localEntry>"#
            ))
            .value,
            LocalEntryValue::Xml(r#"<x xmlns="">1</x>"#.into())
        );
        assert_eq!(
            entry(&format!(r#"<localEntry {ns} key="k" src="file:a.xsd"/>"#)).value,
            LocalEntryValue::Src("file:a.xsd".into())
        );
        let err =
            parse_artifact("local-entries/L.xml", &format!("<localEntry {ns}/>")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "<localEntry> requires attribute 'key': the entry's key at local-entries/L.xml:1:1"
        );
    }
}
