//! `<send>`: hand the message to an endpoint; the reply continues in the out-sequence (or goes
//! straight back to the client when there is none). In the response flow, `<send/>` without an
//! endpoint returns the message to the client (DOCS reference/mediators/send-mediator).

use std::sync::Arc;

use crate::runtime::endpoint::Endpoint;

#[derive(Debug, Clone)]
pub struct Send {
    /// `None`: reply to the client (response flow) or the legacy echo idiom (request flow).
    pub endpoint: Option<Arc<Endpoint>>,
    /// `receive="seq"` (or `receive="{expr}"`): the reply runs this sequence instead of the
    /// out-sequence.
    pub receive: Option<crate::runtime::value::ValueSource>,
}
