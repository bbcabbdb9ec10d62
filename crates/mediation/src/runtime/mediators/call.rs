//! `<call>`: send to an endpoint and wait; mediation resumes at the next mediator with the reply
//! as the current message (DOCS reference/mediators/call-mediator). With `OUT_ONLY=true` the reply
//! is not awaited.

use std::sync::Arc;

use crate::runtime::endpoint::Endpoint;

#[derive(Debug, Clone)]
pub struct Call {
    pub endpoint: Arc<Endpoint>,
}
