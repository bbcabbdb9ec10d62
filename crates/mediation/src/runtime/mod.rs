//! The mediation runtime: the message context, the mediators, endpoints as mediation sees them,
//! and the engine that runs a request through in-, out- and fault sequences.

pub mod addressing;
pub mod body;
pub mod compile;
pub mod context;
pub mod deployment;
pub mod direct;
pub mod dynamic_endpoint;
pub mod endpoint;
pub mod endpoint_group;
pub mod engine;
pub mod expr_context;
pub mod fault;
pub mod inject;
pub mod lb_session;
mod libxml;
pub mod limits;
pub mod mediators;
pub mod payload;
pub mod recipient_list;
pub mod value;
pub mod wsdl_endpoint;
pub(crate) mod xpath_variable;
pub mod xsd;
pub mod xslt;

pub use body::MessageBody;
pub use context::{MessageContext, Scope};
pub use endpoint::{
    AbsoluteRequestTarget, Endpoint, EndpointKind, NoKeepAlive, RequestHostHeader, SendFault,
    Sender,
};
pub use engine::{Engine, Route, Sequence};
