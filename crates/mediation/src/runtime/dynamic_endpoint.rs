//! `<endpoint key-expression="expr"/>` in a send or call: the expression names a deployed endpoint
//! for each message (SYN `endpoints/ResolvingEndpoint.java`; `config/xml/endpoints/
//! ResolvingEndpointFactory.java`). A name that resolves to no endpoint fails the send with MI's
//! 305100, "Couldn't find the endpoint with the key : NAME". The expression is typically a
//! template parameter (`$func:endpoint`).

use std::collections::HashMap;
use std::sync::Arc;

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;
use crate::runtime::endpoint::{Endpoint, SendFault};
use crate::runtime::value::ValueSource;

/// SynapseConstants.ENDPOINT_IN_DIRECT_NOT_READY.
pub const ENDPOINT_IN_DIRECT_NOT_READY: u32 = 305_100;

#[derive(Debug, Clone)]
pub struct DynamicEndpoint {
    pub key: ValueSource,
    /// The named endpoints of the deployment (none of which is dynamic itself).
    pub named: Arc<HashMap<String, Arc<Endpoint>>>,
}

impl DynamicEndpoint {
    /// The endpoint this message goes to.
    pub fn resolve<B: MessageBody>(
        &self,
        ctx: &MessageContext<B>,
    ) -> Result<Arc<Endpoint>, SendFault> {
        let key = self.key.resolve(ctx).map_err(|e| SendFault {
            code: ENDPOINT_IN_DIRECT_NOT_READY,
            message: format!("endpoint key-expression {}: {e}", self.key.describe()),
        })?;
        self.named.get(&key).cloned().ok_or_else(|| SendFault {
            code: ENDPOINT_IN_DIRECT_NOT_READY,
            message: format!("Couldn't find the endpoint with the key : {key}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::context::{Scope, test_context};
    use crate::runtime::endpoint::{EndpointKind, TimeoutAction};
    use http::Method;

    #[test]
    fn the_key_names_a_deployed_endpoint_per_message() {
        let ep = Arc::new(Endpoint {
            id: 0,
            name: "Reply_EP".into(),
            kind: EndpointKind::Missing,
            timeout: None,
            dynamic_timeout: None,
            timeout_action: TimeoutAction::Never,
            suspension: Default::default(),
        });
        let d = DynamicEndpoint {
            key: ValueSource::Property(Scope::Default, "ep".into()),
            named: Arc::new(HashMap::from([("Reply_EP".to_string(), ep)])),
        };
        let mut ctx = test_context(Method::POST, "/a");
        ctx.set(Scope::Default, "ep", "Reply_EP".into()).unwrap();
        assert_eq!(&*d.resolve(&ctx).unwrap().name, "Reply_EP");
        ctx.set(Scope::Default, "ep", "Nope".into()).unwrap();
        let err = d.resolve(&ctx).unwrap_err();
        assert_eq!(err.code, ENDPOINT_IN_DIRECT_NOT_READY);
        assert_eq!(
            err.message,
            "Couldn't find the endpoint with the key : Nope"
        );
    }
}
