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
            | Mediator::Sequence(_) => Ok(()),
        }
    }

    /// Whether this mediator reads or replaces the message body (decided at deploy time: a
    /// sequence without such a mediator streams the body through untouched).
    pub fn touches_body(&self) -> bool {
        matches!(self, Mediator::PayloadFactory(_))
    }
}
