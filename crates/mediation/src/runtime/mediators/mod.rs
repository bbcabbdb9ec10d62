//! The mediators the runtime executes, one file each, behind the [`Mediator`] enum. Mediators that
//! only change the message context implement `apply`; those that end or redirect the flow (send,
//! call, respond, drop, loopback, sequence) are interpreted by the engine.

mod call;
mod drop;
mod header;
mod log;
mod loopback;
mod payload_factory;
mod property;
mod respond;
mod send;
mod sequence;

pub use call::Call;
pub use drop::Drop;
pub use header::Header;
pub use log::{Log, LogCategory, LogLevel};
pub use loopback::Loopback;
pub use payload_factory::{MediaType, PayloadFactory};
pub use property::{Property, PropertyAction};
pub use respond::Respond;
pub use send::Send;
pub use sequence::SequenceCall;

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;

/// One step of a sequence.
#[derive(Debug, Clone)]
pub enum Mediator {
    Log(Log),
    Property(Property),
    Header(Header),
    PayloadFactory(PayloadFactory),
    Respond(Respond),
    Send(Send),
    Call(Call),
    Drop(Drop),
    Loopback(Loopback),
    Sequence(SequenceCall),
    /// `<in>`: children run in the request flow only.
    In(Vec<Mediator>),
    /// `<out>`: children run in the response flow only.
    Out(Vec<Mediator>),
}

impl Mediator {
    /// Applies a context-changing mediator; flow mediators are the engine's and do nothing here.
    pub fn apply<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<(), String> {
        match self {
            Mediator::Log(m) => {
                m.apply(ctx);
                Ok(())
            }
            Mediator::Property(m) => m.apply(ctx),
            Mediator::Header(m) => m.apply(ctx),
            Mediator::PayloadFactory(m) => {
                m.apply(ctx);
                Ok(())
            }
            Mediator::Respond(_)
            | Mediator::Send(_)
            | Mediator::Call(_)
            | Mediator::Drop(_)
            | Mediator::Loopback(_)
            | Mediator::Sequence(_)
            | Mediator::In(_)
            | Mediator::Out(_) => Ok(()),
        }
    }

    /// Whether this mediator reads or replaces the message body (decided at deploy time: a
    /// sequence without such a mediator streams the body through untouched).
    pub fn touches_body(&self) -> bool {
        match self {
            Mediator::PayloadFactory(_) => true,
            Mediator::In(children) | Mediator::Out(children) => {
                children.iter().any(Mediator::touches_body)
            }
            _ => false,
        }
    }
}
