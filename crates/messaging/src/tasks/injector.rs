//! One firing of a MessageInjector task (SYN:`startup/tasks/MessageInjector.java` `execute`):
//! the message (inline, or the registry entry `registryKey` names) in the envelope `format` asks
//! for, with `to` and `soapAction`, run through the main sequence, a named sequence or a proxy
//! service of the deployment that is live when it fires. The messages of the two paths differ as
//! in MI: a sequence (or main) gets the default-scope properties `task.name` and
//! `CURRENT_TASK_EXECUTING_TENANT_IDENTIFIER` (MI's ntask `NTaskAdapter`); a proxy gets none.
//! What fails is returned as MI's words, for the caller to log.

use bytes::Bytes;
use conflux_artifacts::task::{InjectFormat, InjectTarget, MessageInjectorSettings, Task};
use conflux_mediation::runtime::deployment::Deployment;
use conflux_mediation::runtime::inject::{self, InjectError, InjectedMessage, ToAddress};
use conflux_transport::body::ProxyBody;
use conflux_transport::passthrough::Live;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::BodyExt as _;

/// The most bytes of the flow's answer read and thrown away (so a pooled backend connection can
/// be reused); a longer answer is dropped unread.
pub const MAX_DRAINED_BYTES: usize = 1024 * 1024;

/// The transport an injected task message says it came on (MI: `Constants.TRANSPORT_LOCAL`).
pub const TASK_TRANSPORT: &str = "local";

/// MI's super tenant, which every task runs as (`NTaskAdapter` adds it as a runtime property).
const TENANT_PROPERTY: (&str, &str) = ("CURRENT_TASK_EXECUTING_TENANT_IDENTIFIER", "-1234");
/// SYN:`SynapseConstants.TASK_NAME`.
const TASK_NAME_PROPERTY: &str = "task.name";

const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";

/// Why a firing injected nothing, in MI's words (what `MessageInjector.handleError` logs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FireError {
    #[error("message or registry-key not set")]
    NoMessage,
    #[error("Key {0} not found")]
    NoRegistryEntry(String),
    #[error(
        "Error parsing XML for JSON conversion, please check your property values return valid XML (registry key {key}: {why})"
    )]
    RegistryEntryNotXml { key: String, why: String },
    #[error("Sequence: {0} not found")]
    NoSequence(String),
    #[error("Proxy Service: {0} not found")]
    NoProxy(String),
    /// MI injects into its shipped main sequence (which logs the message); Conflux has none
    /// unless `sequences/main.xml` is deployed.
    #[error("no main sequence is deployed (sequences/main.xml): the message is dropped")]
    NoMain,
}

/// A task message ready to inject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub method: Method,
    pub payload: String,
    pub content_type: &'static str,
    /// `SOAPAction` request header: always for SOAP 1.1 (`""` without `soapAction`, as a SOAP
    /// client sends it, so the message reads as SOAP and not as plain XML).
    pub soap_action: Option<String>,
    pub to: Option<String>,
    /// Default-scope properties set before mediation.
    pub properties: Vec<(String, String)>,
}

impl Message {
    /// The message `task` injects, reading `registryKey` from `deployment`'s local entries and
    /// registry (MI `MessageContext.getEntry`).
    ///
    /// # Errors
    /// No message, or a registry entry that is missing or not XML.
    pub fn build(task: &Task, deployment: &Deployment) -> Result<Message, FireError> {
        let settings = &task.injector;
        let xml = match (&settings.message, &settings.registry_key) {
            // MI reads `registryKey` first when both are given (`registryKey == null` decides).
            (_, Some(key)) => registry_message(key, deployment)?,
            (Some(inline), None) => inline.clone(),
            (None, None) => return Err(FireError::NoMessage),
        };
        let to_proxy = matches!(settings.target, InjectTarget::Proxy(_));
        let properties = if to_proxy {
            Vec::new()
        } else {
            vec![
                (TENANT_PROPERTY.0.to_string(), TENANT_PROPERTY.1.to_string()),
                (TASK_NAME_PROPERTY.to_string(), task.name.clone()),
            ]
        };
        Ok(Message::shaped(settings, xml, properties))
    }

    /// `xml` in the envelope or plain form of `settings.format` (SOAP 1.2 when unset).
    fn shaped(
        settings: &MessageInjectorSettings,
        xml: String,
        properties: Vec<(String, String)>,
    ) -> Message {
        let format = settings.format.unwrap_or(InjectFormat::Soap12);
        let action = settings.soap_action.clone();
        let envelope = |ns: &str| {
            format!(
                "<soapenv:Envelope xmlns:soapenv=\"{ns}\"><soapenv:Body>{xml}</soapenv:Body></soapenv:Envelope>"
            )
        };
        let (method, payload, content_type, soap_action) = match format {
            InjectFormat::Soap11 => (
                Method::POST,
                envelope(SOAP11_NS),
                "text/xml; charset=UTF-8",
                Some(format!("\"{}\"", action.unwrap_or_default())),
            ),
            InjectFormat::Soap12 => (
                Method::POST,
                envelope(SOAP12_NS),
                "application/soap+xml; charset=UTF-8",
                action,
            ),
            InjectFormat::Pox => (Method::POST, xml, "application/xml; charset=UTF-8", action),
            InjectFormat::Get => (Method::GET, xml, "application/xml; charset=UTF-8", action),
        };
        Message {
            method,
            payload,
            content_type,
            soap_action,
            to: settings.to.clone(),
            properties,
        }
    }

    /// The request [`Deployment::inject`] takes, addressed to `uri`.
    pub fn into_request(self, uri: Uri) -> (Request<ProxyBody>, Vec<(String, String)>) {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_LENGTH, self.payload.len().into());
        if let Some(action) = self
            .soap_action
            .as_deref()
            .and_then(|a| HeaderValue::from_str(a).ok())
        {
            headers.insert("soapaction", action);
        }
        let (mut request, properties) = InjectedMessage {
            payload: Bytes::from(self.payload),
            content_type: Some(self.content_type.to_string()),
            headers,
            properties: self.properties,
        }
        .into_request::<ProxyBody>(uri);
        *request.method_mut() = self.method;
        if let Some(to) = self.to {
            request.extensions_mut().insert(ToAddress(to));
        }
        (request, properties)
    }
}

/// The registry entry `key` as XML text (MI `AXIOMUtil.stringToOM` of the entry).
fn registry_message(key: &str, deployment: &Deployment) -> Result<String, FireError> {
    let text = match deployment.local_entries.get(key) {
        Some(text) => text.clone(),
        None => deployment
            .registry
            .text(key)
            .map(|t| t.into_owned())
            .ok_or_else(|| FireError::NoRegistryEntry(key.to_string()))?,
    };
    let not_xml = |why: String| FireError::RegistryEntryNotXml {
        key: key.to_string(),
        why,
    };
    let doc = roxmltree::Document::parse(&text).map_err(|e| not_xml(e.to_string()))?;
    let range = doc.root_element().range();
    text.get(range)
        .map(str::to_string)
        .ok_or_else(|| not_xml("no root element".into()))
}

/// Where `task`'s message goes in `deployment`, and the URI it is addressed to.
fn target<'a>(
    task: &'a Task,
    deployment: &Deployment,
) -> Result<(inject::InjectTarget<'a>, Uri), FireError> {
    Ok(match &task.injector.target {
        InjectTarget::Main if deployment.sequences.contains_key("main") => (
            inject::InjectTarget::Sequence("main"),
            Uri::from_static("/"),
        ),
        InjectTarget::Main => return Err(FireError::NoMain),
        InjectTarget::Sequence(name) => {
            (inject::InjectTarget::Sequence(name), Uri::from_static("/"))
        }
        InjectTarget::Proxy(name) => (
            inject::InjectTarget::Proxy(name),
            format!("/services/{name}")
                .parse()
                .unwrap_or_else(|_| Uri::from_static("/services")),
        ),
    })
}

/// Injects `task`'s message into `live` and waits for the flow to end; the status it answered.
///
/// # Errors
/// What MI would log for this firing.
pub async fn fire(task: &Task, live: &Live) -> Result<StatusCode, FireError> {
    let message = Message::build(task, &live.deployment)?;
    let (target, uri) = target(task, &live.deployment)?;
    let (request, properties) = message.into_request(uri);
    let response = live
        .deployment
        .inject(&live.sender, target, request, properties, TASK_TRANSPORT)
        .await
        .map_err(|e| match e {
            InjectError::NoSuchSequence(s) => FireError::NoSequence(s),
            InjectError::NoSuchProxy(p) => FireError::NoProxy(p),
        })?;
    let status = response.status();
    let mut body = response.into_body();
    let mut drained = 0usize;
    while drained <= MAX_DRAINED_BYTES {
        match body.frame().await {
            Some(Ok(frame)) => drained += frame.data_ref().map_or(0, Bytes::len),
            Some(Err(_)) | None => break,
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use conflux_artifacts::task::parse_task;

    fn task(props: &str) -> Task {
        parse_task(
            "tasks/T.xml",
            &format!(
                r#"<task xmlns="http://ws.apache.org/ns/synapse" name="T" class="org.apache.synapse.startup.tasks.MessageInjector"><trigger interval="1"/>{props}</task>"#
            ),
        )
        .unwrap()
    }

    fn empty() -> Deployment {
        conflux_mediation::runtime::compile::compile(&conflux_artifacts::Artifacts::default()).0
    }

    const MSG: &str = r#"<property name="message"><m:ping xmlns:m="urn:m">hi</m:ping></property>"#;

    #[test]
    fn a_sequence_message_defaults_to_soap12_with_the_task_properties() {
        let t = task(&format!(
            r#"{MSG}<property name="injectTo" value="sequence"/><property name="sequenceName" value="S"/><property name="soapAction" value="urn:ping"/>"#
        ));
        let m = Message::build(&t, &empty()).unwrap();
        assert_eq!(m.method, Method::POST);
        assert_eq!(m.content_type, "application/soap+xml; charset=UTF-8");
        assert_eq!(
            m.payload,
            r#"<soapenv:Envelope xmlns:soapenv="http://www.w3.org/2003/05/soap-envelope"><soapenv:Body><m:ping xmlns:m="urn:m">hi</m:ping></soapenv:Body></soapenv:Envelope>"#
        );
        assert_eq!(m.soap_action.as_deref(), Some("urn:ping"));
        assert!(
            m.properties
                .contains(&("task.name".to_string(), "T".to_string()))
        );
        assert!(m.properties.contains(&(
            "CURRENT_TASK_EXECUTING_TENANT_IDENTIFIER".to_string(),
            "-1234".to_string()
        )));
    }

    #[test]
    fn formats_shape_the_envelope_content_type_and_method() {
        let t = task(&format!(
            r#"{MSG}<property name="format" value="soap11"/><property name="injectTo" value="proxy"/><property name="proxyName" value="P"/><property name="to" value="http://b/x"/>"#
        ));
        let m = Message::build(&t, &empty()).unwrap();
        assert_eq!(m.content_type, "text/xml; charset=UTF-8");
        assert!(m.payload.contains(SOAP11_NS));
        assert_eq!(m.soap_action.as_deref(), Some("\"\""));
        assert!(m.properties.is_empty(), "a proxy gets no task properties");
        let length = m.payload.len().to_string();
        let (request, _) = m.into_request(Uri::from_static("/services/P"));
        assert_eq!(request.headers()["soapaction"], "\"\"");
        assert_eq!(request.headers()["content-length"], length.as_str());
        assert_eq!(
            request.extensions().get::<ToAddress>(),
            Some(&ToAddress("http://b/x".into()))
        );

        let pox = task(&format!(r#"{MSG}<property name="format" value="POX"/>"#));
        let m = Message::build(&pox, &empty()).unwrap();
        assert_eq!(m.payload, r#"<m:ping xmlns:m="urn:m">hi</m:ping>"#);
        assert_eq!(m.content_type, "application/xml; charset=UTF-8");
        let get = task(&format!(r#"{MSG}<property name="format" value="get"/>"#));
        let m = Message::build(&get, &empty()).unwrap();
        assert_eq!(m.method, Method::GET);
    }

    #[test]
    fn a_registry_key_reads_a_local_entry_and_refuses_what_is_not_xml() {
        let t = task(
            r#"<property name="registryKey" value="msg"/><property name="format" value="pox"/>"#,
        );
        let mut d = empty();
        assert_eq!(
            Message::build(&t, &d).unwrap_err(),
            FireError::NoRegistryEntry("msg".into())
        );
        std::sync::Arc::make_mut(&mut d.local_entries).insert(
            "msg".into(),
            "<?xml version=\"1.0\"?>\n<order><id>7</id></order>".into(),
        );
        assert_eq!(
            Message::build(&t, &d).unwrap().payload,
            "<order><id>7</id></order>"
        );
        std::sync::Arc::make_mut(&mut d.local_entries).insert("msg".into(), "just text".into());
        let err = Message::build(&t, &d).unwrap_err().to_string();
        assert!(err.starts_with("Error parsing XML"), "{err}");
    }

    #[test]
    fn no_message_and_missing_targets_are_mi_errors() {
        let t = task("");
        assert_eq!(
            Message::build(&t, &empty()).unwrap_err().to_string(),
            "message or registry-key not set"
        );
        let main = task(MSG);
        assert_eq!(target(&main, &empty()).unwrap_err(), FireError::NoMain);
        let proxy = task(&format!(
            r#"{MSG}<property name="injectTo" value="proxy"/><property name="proxyName" value="P"/>"#
        ));
        let (t, uri) = target(&proxy, &empty()).unwrap();
        assert_eq!(t, inject::InjectTarget::Proxy("P"));
        assert_eq!(uri, "/services/P");
    }
}
