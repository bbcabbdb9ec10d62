//! `<throwError type errorMessage>` (MI 4.4; SYN `mediators/v2/ThrowError.java`): sets
//! `ERROR_CODE` to the type and `ERROR_MESSAGE` to the message, then fails the mediation, so the
//! enclosing handler (the sequence's `onError`, the API resource's or proxy's `faultSequence`,
//! the global `fault`) runs. Because `ERROR_CODE` is set, Synapse's `FaultHandler.handleFault`
//! leaves both as they are (it fills them only when `ERROR_CODE` is unset); the context's
//! `thrown_error` flag tells the engine the same.

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, props};
use crate::runtime::value::ValueSource;

#[derive(Debug, Clone)]
pub struct ThrowError {
    /// `type`: `ANY` unless given.
    pub error_type: String,
    /// `errorMessage`: a literal or a `{...}` dynamic value (`{${expr}}`).
    pub message: ValueSource,
}

impl ThrowError {
    pub fn needs_payload(&self) -> bool {
        self.message.needs_payload()
    }

    /// Always `Err(message)`: the failure the engine hands to the fault handler. A message whose
    /// evaluation fails in a way MI does not catch fails with that error instead (and the fault
    /// handler then sets `ERROR_CODE` / `ERROR_MESSAGE` as for any failure).
    pub fn apply<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<(), String> {
        let message = self.message.resolve(ctx)?;
        ctx.properties
            .insert(props::ERROR_CODE.into(), self.error_type.clone());
        ctx.properties
            .insert(props::ERROR_MESSAGE.into(), message.clone());
        ctx.thrown_error = true;
        Err(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::context::test_context;
    use crate::synapse_expr::ExprValue;
    use http::Method;

    #[test]
    fn sets_error_code_and_message_then_fails() {
        let mut ctx = test_context(Method::GET, "/a");
        ctx.variables.insert(
            "msg".into(),
            ExprValue::String("Required field missing".into()),
        );
        let throw = ThrowError {
            error_type: "PAYLOAD_ERROR".into(),
            message: ValueSource::compile_text("${vars.msg}", &[]).unwrap(),
        };
        assert_eq!(throw.apply(&mut ctx).unwrap_err(), "Required field missing");
        assert_eq!(ctx.properties[props::ERROR_CODE], "PAYLOAD_ERROR");
        assert_eq!(
            ctx.properties[props::ERROR_MESSAGE],
            "Required field missing"
        );
        assert!(ctx.thrown_error);
    }

    mod flow {
        //! throwError through whole artifacts: the handler that runs, and what it reads.
        use crate::runtime::expr_context::test_support::*;
        use http::StatusCode;

        const REPORT: &str = r#"<payloadFactory media-type="json"><format>{"code": "${props.synapse.ERROR_CODE}", "message": "${props.synapse.ERROR_MESSAGE}"}</format></payloadFactory><respond/>"#;

        // ThrowError.mediate then FaultHandler.handleFault: the resource's faultSequence reads the
        // type and message the mediator set (handleFault does not overwrite them); what follows
        // the throwError does not run.
        #[tokio::test]
        async fn the_fault_sequence_reads_the_type_and_message() {
            let d = deployed(&[(
                "api/T.xml",
                &api(
                    "T",
                    r#"<filter xpath="${exists(payload.name)}"><else><throwError type="PAYLOAD_ERROR" errorMessage="Required field does not exist"/></else></filter><property name="after" value="ran"/><payloadFactory media-type="text"><format>ok</format></payloadFactory><respond/>"#,
                    REPORT,
                ),
            )]);
            let (status, _, body) =
                call(&d, "POST", "/T/x", Some("application/json"), r#"{"id": 1}"#).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                body,
                r#"{"code": "PAYLOAD_ERROR", "message": "Required field does not exist"}"#
            );
            let (_, _, body) = call(
                &d,
                "POST",
                "/T/x",
                Some("application/json"),
                r#"{"name": "a"}"#,
            )
            .await;
            assert_eq!(body, "ok");
        }

        // ThrowErrorMediatorFactory defaults (ANY, "Error occurred in the mediation flow"), and
        // a `{${...}}` message; a sequence's onError handles a throwError inside it. (A query
        // parameter `7` reads as the Integer 7, and string + number is an error in MI, hence
        // `string(...)`.)
        #[tokio::test]
        async fn defaults_dynamic_messages_and_on_error() {
            let d = deployed(&[
                (
                    "api/U.xml",
                    &api(
                        "U",
                        r#"<filter xpath="${params.queryParams.mode == 'default'}"><then><throwError/></then></filter><variable name="msg" expression="${'Invalid id ' + string(params.queryParams.id)}"/><sequence key="Checked"/>"#,
                        REPORT,
                    ),
                ),
                (
                    "sequences/Checked.xml",
                    &format!(
                        r#"<sequence xmlns="{NS}" name="Checked" onError="Handler"><throwError type="VALIDATION" errorMessage="{{${{vars.msg}}}}"/></sequence>"#
                    ),
                ),
                (
                    "sequences/Handler.xml",
                    &format!(
                        r#"<sequence xmlns="{NS}" name="Handler"><payloadFactory media-type="text"><format>handled ${{props.synapse.ERROR_CODE}}: ${{props.synapse.ERROR_MESSAGE}}</format></payloadFactory><respond/></sequence>"#
                    ),
                ),
            ]);
            let (_, _, body) = call(&d, "GET", "/U/x?mode=default", None, "").await;
            assert_eq!(
                body,
                r#"{"code": "ANY", "message": "Error occurred in the mediation flow"}"#
            );
            let (status, _, body) = call(&d, "GET", "/U/x?id=7", None, "").await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, "handled VALIDATION: Invalid id 7");
        }

        // With no fault handler the client gets Conflux's fault answer carrying the message.
        #[tokio::test]
        async fn without_a_handler_the_client_gets_the_fault_answer() {
            let d = deployed(&[(
                "api/V.xml",
                &format!(
                    r#"<api xmlns="{NS}" name="V" context="/V"><resource methods="GET" uri-template="/*"><inSequence><throwError type="X" errorMessage="went wrong"/></inSequence></resource></api>"#
                ),
            )]);
            let (status, _, body) = call(&d, "GET", "/V/x", None, "").await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert!(body.contains("went wrong"), "{body}");
        }
    }
}
