//! MI's HTTP connector operations, `<http.get|post|put|delete|patch|head|options configKey>`
//! (wso2-extensions/mi-connector-http `src/main/resources/functions/*.xml`), read as Synapse reads
//! any connector element (SYN `config/xml/MediatorFactoryFinder.java` getDynamicInvokeMediator):
//! `configKey` names the connection local entry, and each child element is a parameter whose text
//! is static, or an expression when the whole text is `{...}` (SYN `config/xml/ValueFactory.java`
//! createTextValue). Also owns that parameter reader ([`parse_param`]), which `<http.init>`
//! connections (`crate::local_entry`) share, and the error for other connectors' operations.

use roxmltree::Node;

use crate::expression::Expression;
use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse, text_of};

/// The connector name of MI's HTTP connector (`<component name="http">` in its `connector.xml`),
/// the prefix of its elements.
pub const HTTP_CONNECTOR_NAME: &str = "http";

/// An operation of the HTTP connector: one template each in the connector's `functions/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpOperationKind {
    Get,
    Post,
    Put,
    Delete,
    Patch,
    Head,
    Options,
}

impl HttpOperationKind {
    pub const ALL: [HttpOperationKind; 7] = [
        HttpOperationKind::Get,
        HttpOperationKind::Post,
        HttpOperationKind::Put,
        HttpOperationKind::Delete,
        HttpOperationKind::Patch,
        HttpOperationKind::Head,
        HttpOperationKind::Options,
    ];

    /// The operation of an element's local name after `http.` (`get`, `post`, ...).
    pub fn from_operation(name: &str) -> Option<HttpOperationKind> {
        HttpOperationKind::ALL
            .into_iter()
            .find(|k| k.operation() == name)
    }

    /// The template name: `get`, `post`, ...
    pub fn operation(self) -> &'static str {
        match self {
            HttpOperationKind::Get => "get",
            HttpOperationKind::Post => "post",
            HttpOperationKind::Put => "put",
            HttpOperationKind::Delete => "delete",
            HttpOperationKind::Patch => "patch",
            HttpOperationKind::Head => "head",
            HttpOperationKind::Options => "options",
        }
    }

    /// The `HTTP_METHOD` the template sets before its `<call>`.
    pub fn method(self) -> &'static str {
        match self {
            HttpOperationKind::Get => "GET",
            HttpOperationKind::Post => "POST",
            HttpOperationKind::Put => "PUT",
            HttpOperationKind::Delete => "DELETE",
            HttpOperationKind::Patch => "PATCH",
            HttpOperationKind::Head => "HEAD",
            HttpOperationKind::Options => "OPTIONS",
        }
    }

    /// Whether the template declares `requestBodyType` and the bodies: every operation but `get`
    /// and `delete` (their templates have no such parameters, so MI ignores them there).
    pub fn takes_body(self) -> bool {
        !matches!(self, HttpOperationKind::Get | HttpOperationKind::Delete)
    }
}

/// The value of one connector parameter as written.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectorValue {
    /// Static text, exactly as written (not trimmed); `relativePath`, `headers` and the request
    /// bodies may hold inline `${...}` templates, which the connector renders per message.
    Text(String),
    /// The whole text was `{...}`: `{${expr}}` (its `text` is `${expr}`), `{json-eval(path)}`
    /// (`json-eval(path)`), or else an XPath (the text between the braces).
    Expression(Expression),
}

impl ConnectorValue {
    /// The static text, if this is one.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            ConnectorValue::Text(t) => Some(t),
            ConnectorValue::Expression(_) => None,
        }
    }
}

/// One parameter element of a connector operation or connection.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorParam {
    pub name: String,
    pub value: ConnectorValue,
    pub span: Span,
}

/// The transport parameters every operation template declares, with the axis2 property the
/// template sets from each (`<property name=".." scope="axis2" expression="$func:..">`);
/// `restUrlPostfix` is declared but the templates never read it (empty property name).
pub const TRANSPORT_PARAMETERS: [(&str, &str); 15] = [
    ("postToUri", "POST_TO_URI"),
    ("forceScAccepted", "FORCE_SC_ACCEPTED"),
    ("disableChunking", "DISABLE_CHUNKING"),
    ("noEntityBody", "NO_ENTITY_BODY"),
    ("forceHttp10", "FORCE_HTTP_1.0"),
    ("httpSc", "HTTP_SC"),
    ("nonErrorHttpStatusCodes", "non.error.http.status.codes"),
    ("httpScDesc", "HTTP_SC_DESC"),
    ("faultsAsHttp200", "FAULTS_AS_HTTP_200"),
    ("noKeepAlive", "NO_KEEPALIVE"),
    ("restUrlPostfix", ""),
    ("requestHostHeader", "REQUEST_HOST_HEADER"),
    ("forcePostPutNobody", "FORCE_POST_PUT_NOBODY"),
    ("forceHttpContentLength", "FORCE_HTTP_CONTENT_LENGTH"),
    (
        "copyContentLengthFromIncoming",
        "COPY_CONTENT_LENGTH_FROM_INCOMING",
    ),
];

/// The parameters of an operation besides the transport ones (get.xml / post.xml).
const OPERATION_PARAMETERS: [&str; 8] = [
    "relativePath",
    "headers",
    "requestBodyType",
    "requestBodyJson",
    "requestBodyXml",
    "requestBodyText",
    "responseVariable",
    "overwriteBody",
];

/// `<http.get configKey="Conn">...</http.get>` and the other operations.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpOperation {
    pub kind: HttpOperationKind,
    /// `configKey`: the key of the local entry holding the `<http.init>` connection.
    pub config_key: String,
    pub config_key_span: Span,
    pub relative_path: Option<ConnectorParam>,
    /// A JSON array of `[name, value]` pairs or `{name: value}` objects.
    pub headers: Option<ConnectorParam>,
    /// `JSON`, `XML` or `TEXT`; the request body is replaced only when it is set.
    pub request_body_type: Option<ConnectorParam>,
    pub request_body_json: Option<ConnectorParam>,
    pub request_body_xml: Option<ConnectorParam>,
    pub request_body_text: Option<ConnectorParam>,
    /// The variable the response goes into (`{payload, headers, attributes}`).
    pub response_variable: Option<ConnectorParam>,
    /// `true` (the connector UI's default): the response also replaces the message body.
    pub overwrite_body: Option<ConnectorParam>,
    /// The transport parameters written (names from [`TRANSPORT_PARAMETERS`]).
    pub transport: Vec<ConnectorParam>,
    pub span: Span,
}

/// Reads one parameter element as Synapse's `createInvokeParam` + `ValueFactory.createTextValue`
/// do. `Ok(None)` for an empty element (MI then passes no value). Child elements or attributes
/// make MI pass an object the connector cannot read as text, so they are refused here.
pub(crate) fn parse_param(ctx: &Ctx, node: Node) -> Result<Option<ConnectorParam>> {
    let name = node.tag_name().name().to_string();
    if let Some(child) = element_children(node).next() {
        return Err(ctx.invalid(
            child,
            format!(
                "parameter <{name}> holds an element; connector parameters are text (write XML escaped, &lt;a&gt;, or in a CDATA section)"
            ),
        ));
    }
    if let Some(attr) = node.attributes().next() {
        return Err(ctx.invalid_attr(
            node,
            attr.name(),
            attr.value(),
            "no attributes (connector parameters are text)",
        ));
    }
    let text = text_of(node);
    if text.is_empty() {
        return Ok(None);
    }
    let span = ctx.span(node);
    let trimmed = text.trim();
    let escaped = trimmed.len() > 3 && trimmed.starts_with("{{") && trimmed.ends_with("}}");
    let value = if escaped {
        // ValueFactory: `{{...}}` is the literal `{...}`.
        ConnectorValue::Text(trimmed[1..trimmed.len() - 1].to_string())
    } else if text.len() >= 2 && text.starts_with('{') && text.ends_with('}') {
        // isDynamicKey looks at the text as written, whitespace included.
        let inner = &text[1..text.len() - 1];
        ConnectorValue::Expression(ctx.expression(node, inner, span.clone()))
    } else {
        ConnectorValue::Text(text)
    };
    Ok(Some(ConnectorParam { name, value, span }))
}

/// Parses an `http.<operation>` element.
pub(crate) fn parse(ctx: &Ctx, node: Node, operation: &str) -> Result<HttpOperation> {
    let Some(kind) = HttpOperationKind::from_operation(operation) else {
        if operation == "init" {
            return Err(ctx.invalid(
                node,
                "<http.init> is a connection: put it in a local entry and name that entry in the operation's configKey".into(),
            ));
        }
        return Err(ctx.unsupported(
            node,
            format!("HTTP connector operation <http.{operation}>"),
            "the HTTP connector has get, post, put, delete, patch, head and options",
        ));
    };
    let key = ctx.required_attr(
        node,
        "configKey",
        "the key of the <http.init> connection local entry",
    )?;
    if key.trim().starts_with('{') {
        return Err(ctx.unsupported(
            node,
            format!("dynamic configKey {}", key.trim()),
            "name the connection local entry",
        ));
    }
    let mut op = HttpOperation {
        kind,
        config_key: key.trim().to_string(),
        config_key_span: ctx.attr_span(node, "configKey"),
        relative_path: None,
        headers: None,
        request_body_type: None,
        request_body_json: None,
        request_body_xml: None,
        request_body_text: None,
        response_variable: None,
        overwrite_body: None,
        transport: Vec::new(),
        span: ctx.span(node),
    };
    for child in element_children(node) {
        let local = child.tag_name().name();
        let known = is_synapse(child)
            && (OPERATION_PARAMETERS.contains(&local)
                || TRANSPORT_PARAMETERS.iter().any(|(p, _)| *p == local));
        if !known {
            return Err(ctx.unknown(
                child,
                node,
                "a parameter of the HTTP connector (relativePath, headers, requestBodyType, requestBodyJson, requestBodyXml, requestBodyText, responseVariable, overwriteBody, or a transport flag such as noKeepAlive)",
            ));
        }
        let param = parse_param(ctx, child)?;
        let slot = match local {
            "relativePath" => &mut op.relative_path,
            "headers" => &mut op.headers,
            "requestBodyType" => &mut op.request_body_type,
            "requestBodyJson" => &mut op.request_body_json,
            "requestBodyXml" => &mut op.request_body_xml,
            "requestBodyText" => &mut op.request_body_text,
            "responseVariable" => &mut op.response_variable,
            "overwriteBody" => &mut op.overwrite_body,
            _ => {
                // A repeated transport flag: the later one wins, as in the invoke's parameter map.
                op.transport.retain(|p| p.name != local);
                op.transport.extend(param);
                continue;
            }
        };
        // InvokeMediator keeps parameters in a map: a repeated one replaces the earlier.
        *slot = param;
    }
    Ok(op)
}

/// The error for an operation of a connector other than HTTP (`<salesforce.query>`): Conflux runs
/// no Java connector.
pub(crate) fn other_connector(ctx: &Ctx, node: Node, element: &str) -> crate::ArtifactError {
    let connector = element.split('.').next().unwrap_or(element);
    ctx.unsupported(
        node,
        format!("connector operation <{element}>"),
        &format!(
            "connector '{connector}' is a Java connector; Conflux runs only the HTTP, email and file connectors"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mediators::Mediator;
    use crate::mediators::test_support::*;

    fn op(body: &str) -> HttpOperation {
        match parse_one(body) {
            Mediator::HttpConnector(op) => *op,
            other => panic!("{other:?}"),
        }
    }

    fn text(p: &Option<ConnectorParam>) -> Option<&str> {
        p.as_ref().and_then(|p| p.value.as_text())
    }

    // get.xml / post.xml parameters; MediatorFactoryFinder.getDynamicInvokeMediator reads each
    // child's text as written (ValueFactory.createTextValue).
    #[test]
    fn an_operation_reads_its_parameters_as_written() {
        let o = op(r#"<http.post configKey="Conn">
  <relativePath>/posts/${params.pathParams.id}</relativePath>
  <headers>[["Accept","application/json"]]</headers>
  <requestBodyType>JSON</requestBodyType>
  <requestBodyJson>{${payload}}</requestBodyJson>
  <requestBodyXml>{{literal}}</requestBodyXml>
  <requestBodyText>
  {"a": 1}
  </requestBodyText>
  <noKeepAlive>true</noKeepAlive>
  <noKeepAlive>false</noKeepAlive>
  <responseVariable>r</responseVariable>
  <overwriteBody></overwriteBody>
</http.post>"#);
        assert_eq!(o.kind, HttpOperationKind::Post);
        assert_eq!(o.config_key, "Conn");
        assert_eq!(o.config_key_span.to_string(), "sequences/S.xml:2:12");
        assert_eq!(
            text(&o.relative_path),
            Some("/posts/${params.pathParams.id}")
        );
        assert_eq!(text(&o.headers), Some(r#"[["Accept","application/json"]]"#));
        assert!(matches!(
            &o.request_body_json.as_ref().unwrap().value,
            ConnectorValue::Expression(e) if e.text == "${payload}"
        ));
        // `{{...}}` is the escaped literal `{...}`.
        assert_eq!(text(&o.request_body_xml), Some("{literal}"));
        // Whitespace around braces: static text, kept as written.
        assert_eq!(text(&o.request_body_text), Some("\n  {\"a\": 1}\n  "));
        assert_eq!(o.transport.len(), 1);
        assert_eq!(o.transport[0].value.as_text(), Some("false"));
        assert_eq!(text(&o.response_variable), Some("r"));
        assert!(o.overwrite_body.is_none());
        assert_eq!(
            o.request_body_json.as_ref().unwrap().span.to_string(),
            "sequences/S.xml:6:3"
        );
    }

    #[test]
    fn other_connectors_and_unknown_operations_are_named() {
        assert_eq!(
            parse_err(r#"<salesforce.query configKey="S"/>"#),
            "unsupported connector operation <salesforce.query> (connector 'salesforce' is a Java connector; Conflux runs only the HTTP, email and file connectors) at sequences/S.xml:2:1"
        );
        assert!(
            parse_err(r#"<http.trace configKey="C"/>"#)
                .starts_with("unsupported HTTP connector operation <http.trace>")
        );
        assert!(
            parse_err("<http.init><baseUrl>http://x</baseUrl></http.init>")
                .starts_with("<http.init> is a connection: put it in a local entry")
        );
        assert_eq!(
            parse_err("<http.get/>"),
            "<http.get> requires attribute 'configKey': the key of the <http.init> connection local entry at sequences/S.xml:2:1"
        );
        assert!(
            parse_err(r#"<http.get configKey="C"><relativepath>/x</relativepath></http.get>"#)
                .starts_with("unknown element <relativepath> in <http.get>: expected a parameter of the HTTP connector")
        );
        assert!(
            parse_err(
                r#"<http.post configKey="C"><requestBodyXml><a/></requestBodyXml></http.post>"#
            )
            .starts_with("parameter <requestBodyXml> holds an element")
        );
        assert!(
            parse_err(r#"<http.get configKey="{$ctx:k}"/>"#).starts_with(
                "unsupported dynamic configKey {$ctx:k} (name the connection local entry)"
            )
        );
    }
}
