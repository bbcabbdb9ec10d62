//! `<dataServiceCall serviceName>` at run time (MI `DataServiceCallMediator.java`): calls a data
//! service deployed on this server in-process, without HTTP (`Deployment::attached`).
//!
//! The request is the XML MI builds: for an inline source, `<op>` with one child per `<param>`
//! (single), `<op_batch_req>` with one `<op>` per operation (batch) or `<request_box>` with one
//! child per operation (request-box), all in `http://ws.wso2.org/dataservice`; for a body
//! source, the message's first body element (a `<jsonObject>`'s first child for a JSON
//! message), whose name is the operation. The result goes into the body or into a property
//! (as XML); a write without a result gives an empty body, or removes the property.
//! A data service fault is a mediation fault: "DataService exception occurred while accessing
//! the dataservice to do the operation" (the service's fault is logged).

use conflux_artifacts::mediators as am;
use conflux_artifacts::{Span, ValueOrExpression};
use conflux_dataservices::service::ServiceRequest;

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope, props};
use crate::runtime::engine::{Engine, Fault};
use crate::runtime::payload::{Payload, escape_text, parse_document};
use crate::runtime::value::ValueSource;

/// The namespace and prefix of the request MI builds (`DataServiceCallMediatorConstants`).
pub const PAYLOAD_NAMESPACE: &str = "http://ws.wso2.org/dataservice";
const PAYLOAD_PREFIX: &str = "axis2ns";

/// A compiled `<dataServiceCall>`.
#[derive(Debug, Clone)]
pub struct DataServiceCall {
    pub service_name: String,
    pub source: CallSource,
    pub target: CallTarget,
}

#[derive(Debug, Clone)]
pub enum CallSource {
    Body,
    Inline {
        kind: am::DsOperationsKind,
        operations: Vec<(String, Vec<(String, ValueSource)>)>,
    },
}

#[derive(Debug, Clone)]
pub enum CallTarget {
    Body,
    Property(ValueSource),
}

pub(crate) fn compile(c: &am::DataServiceCall) -> Result<DataServiceCall, (Span, String)> {
    let compile_expr = |e: &conflux_artifacts::Expression| {
        ValueSource::compile(e).map_err(|err| (e.span.clone(), err))
    };
    let source = match &c.source {
        am::DsCallSource::Body => CallSource::Body,
        am::DsCallSource::Inline(ops) => CallSource::Inline {
            kind: ops.kind,
            operations: ops
                .operations
                .iter()
                .map(|op| {
                    let params = op
                        .params
                        .iter()
                        .map(|(name, v)| {
                            Ok((
                                name.clone(),
                                match v {
                                    ValueOrExpression::Value(s) => ValueSource::Literal(s.clone()),
                                    ValueOrExpression::Expression(e) => compile_expr(e)?,
                                },
                            ))
                        })
                        .collect::<Result<Vec<_>, (Span, String)>>()?;
                    Ok((op.name.clone(), params))
                })
                .collect::<Result<Vec<_>, (Span, String)>>()?,
        },
    };
    let target = match &c.target {
        am::DsCallTarget::Body => CallTarget::Body,
        am::DsCallTarget::Property(conflux_artifacts::Value::Literal(name, _)) => {
            CallTarget::Property(ValueSource::Literal(name.clone()))
        }
        am::DsCallTarget::Property(conflux_artifacts::Value::Dynamic(e)) => {
            CallTarget::Property(compile_expr(e)?)
        }
    };
    Ok(DataServiceCall {
        service_name: c.service_name.clone(),
        source,
        target,
    })
}

impl DataServiceCall {
    pub fn needs_payload(&self) -> bool {
        match &self.source {
            CallSource::Body => true,
            CallSource::Inline { operations, .. } => {
                matches!(self.target, CallTarget::Body)
                    || operations
                        .iter()
                        .flat_map(|(_, params)| params.iter())
                        .any(|(_, v)| v.needs_payload())
                    || matches!(&self.target, CallTarget::Property(v) if v.needs_payload())
            }
        }
    }

    /// The operation (or `request_box`, `<op>_batch_req`) and the request body.
    fn request<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<(String, String), String> {
        match &self.source {
            CallSource::Inline { kind, operations } => {
                let first = operations.first().map(|(n, _)| n.as_str()).unwrap_or("");
                let root = match kind {
                    am::DsOperationsKind::Single => first.to_string(),
                    am::DsOperationsKind::Batch => format!("{first}_batch_req"),
                    am::DsOperationsKind::RequestBox => "request_box".to_string(),
                };
                let mut xml = format!(
                    "<{PAYLOAD_PREFIX}:{root} xmlns:{PAYLOAD_PREFIX}=\"{PAYLOAD_NAMESPACE}\">"
                );
                for (name, params) in operations {
                    let nested = *kind != am::DsOperationsKind::Single;
                    if nested {
                        xml.push_str(&format!("<{PAYLOAD_PREFIX}:{name}>"));
                    }
                    for (param, value) in params {
                        let text = value.resolve(ctx)?;
                        xml.push_str(&format!(
                            "<{PAYLOAD_PREFIX}:{param}>{}</{PAYLOAD_PREFIX}:{param}>",
                            escape_text(&text)
                        ));
                    }
                    if nested {
                        xml.push_str(&format!("</{PAYLOAD_PREFIX}:{name}>"));
                    }
                }
                xml.push_str(&format!("</{PAYLOAD_PREFIX}:{root}>"));
                Ok((root, xml))
            }
            CallSource::Body => {
                let body = ctx.payload.as_ref().unwrap_or(&Payload::Empty).body_xml();
                let doc = parse_document(&body).ok();
                let element = doc.as_ref().and_then(|d| {
                    let root = d.root().first_element_child()?;
                    if root.tag_name().name() == "jsonObject" {
                        root.first_element_child()
                    } else {
                        Some(root)
                    }
                });
                let Some(element) = element else {
                    return Err(
                        "Source type is set to body. Received empty payload for request."
                            .to_string(),
                    );
                };
                Ok((
                    element.tag_name().name().to_string(),
                    body[element.range()].to_string(),
                ))
            }
        }
    }
}

impl<B: MessageBody> Engine<'_, B> {
    /// Runs one `<dataServiceCall>`; `Ok` means the flow goes on.
    pub(crate) async fn data_service_call(
        &self,
        call: &DataServiceCall,
        ctx: &mut MessageContext<B>,
    ) -> Result<(), Fault> {
        let Some(service) = self
            .attached
            .data_services
            .get(call.service_name.as_str())
            .cloned()
        else {
            return Err(Fault::mediation(format!(
                "The data service,  named '{}' does not exist. ",
                call.service_name
            )));
        };
        let (operation, body) = call.request(ctx).map_err(Fault::mediation)?;
        let request = ServiceRequest {
            method: "POST",
            path: &operation,
            query: "",
            content_type: Some("application/xml"),
            accept: Some("application/xml"),
            body: body.as_bytes(),
        };
        let response = service.invoke(&request).await;
        if !(200..300).contains(&response.status) {
            tracing::error!(
                target: "conflux::mediation",
                "dataServiceCall {}/{operation}: {} {}",
                call.service_name,
                response.status,
                response.body.as_deref().unwrap_or("")
            );
            return Err(Fault::mediation(
                "DataService exception occurred while accessing the dataservice to do the operation",
            ));
        }
        let result = response.body.filter(|b| !b.trim().is_empty());
        match &call.target {
            CallTarget::Property(name) => {
                let name = name.resolve(ctx).map_err(Fault::mediation)?;
                if name.is_empty() {
                    return Err(Fault::mediation(
                        "Target type is set to property. Evaluated value for target property name is null or empty",
                    ));
                }
                match result {
                    Some(xml) => {
                        ctx.set(Scope::Default, &name, xml)
                            .map_err(Fault::mediation)?;
                        ctx.mark_om(Scope::Default, &name, true);
                    }
                    None => {
                        ctx.remove(Scope::Default, &name);
                        ctx.mark_om(Scope::Default, &name, false);
                    }
                }
            }
            CallTarget::Body => match result {
                Some(xml) => {
                    let payload = Payload::xml(xml).map_err(|e| Fault::mediation(e.to_string()))?;
                    ctx.set_payload(payload);
                    ctx.remove(Scope::Axis2, props::NO_ENTITY_BODY);
                }
                None => {
                    // An empty envelope, sent as application/xml.
                    ctx.set_payload(Payload::Empty);
                    for name in [props::MESSAGE_TYPE, props::CONTENT_TYPE] {
                        ctx.set(Scope::Axis2, name, "application/xml".to_string())
                            .map_err(Fault::mediation)?;
                    }
                }
            },
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::context::test_context;
    use http::Method;

    fn call(xml: &str) -> DataServiceCall {
        let seq = format!(
            "<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"S\">{xml}</sequence>"
        );
        let art = conflux_artifacts::artifact::parse_artifact("sequences/S.xml", &seq).unwrap();
        let conflux_artifacts::Artifact::Sequence(s) = art else {
            panic!("not a sequence")
        };
        let conflux_artifacts::Mediator::DataServiceCall(c) = &s.mediators[0] else {
            panic!("not a dataServiceCall")
        };
        compile(c).map_err(|(_, e)| e).unwrap()
    }

    const NS: &str = "xmlns:axis2ns=\"http://ws.wso2.org/dataservice\"";

    #[test]
    fn inline_requests_are_built_as_mi_builds_them() {
        let ctx = test_context(Method::GET, "/a");
        let single = call(
            "<dataServiceCall serviceName=\"D\"><source type=\"inline\"/><operations type=\"single\">\
             <operation name=\"get\"><param name=\"id\" value=\"1&lt;2\"/></operation></operations></dataServiceCall>",
        );
        assert_eq!(
            single.request(&ctx).unwrap(),
            (
                "get".to_string(),
                format!("<axis2ns:get {NS}><axis2ns:id>1&lt;2</axis2ns:id></axis2ns:get>")
            )
        );
        let batch = call(
            "<dataServiceCall serviceName=\"D\"><source type=\"inline\"/><operations type=\"batch\">\
             <operation name=\"add\"><param name=\"id\" value=\"1\"/></operation>\
             <operation name=\"add\"><param name=\"id\" value=\"2\"/></operation></operations></dataServiceCall>",
        );
        assert_eq!(
            batch.request(&ctx).unwrap(),
            (
                "add_batch_req".to_string(),
                format!(
                    "<axis2ns:add_batch_req {NS}><axis2ns:add><axis2ns:id>1</axis2ns:id></axis2ns:add>\
                     <axis2ns:add><axis2ns:id>2</axis2ns:id></axis2ns:add></axis2ns:add_batch_req>"
                )
            )
        );
        let boxed = call(
            "<dataServiceCall serviceName=\"D\"><source type=\"inline\"/><operations type=\"request-box\">\
             <operation name=\"add\"/><operation name=\"get\"/></operations></dataServiceCall>",
        );
        assert_eq!(
            boxed.request(&ctx).unwrap().1,
            format!(
                "<axis2ns:request_box {NS}><axis2ns:add></axis2ns:add><axis2ns:get></axis2ns:get></axis2ns:request_box>"
            )
        );
    }

    #[test]
    fn body_source_takes_the_first_element_and_unwraps_json_object() {
        let c = call("<dataServiceCall serviceName=\"D\"/>");
        let mut ctx = test_context(Method::POST, "/a");
        assert_eq!(
            c.request(&ctx).unwrap_err(),
            "Source type is set to body. Received empty payload for request."
        );
        ctx.set_payload(Payload::xml("<op><id>7</id></op>".into()).unwrap());
        assert_eq!(
            c.request(&ctx).unwrap(),
            ("op".to_string(), "<op><id>7</id></op>".to_string())
        );
        ctx.set_payload(Payload::Json(serde_json::json!({"op": {"id": 7}}).into()));
        let (op, body) = c.request(&ctx).unwrap();
        assert_eq!(op, "op");
        assert!(
            body.starts_with("<op") && body.contains("<id>7</id>"),
            "{body}"
        );
    }
}
