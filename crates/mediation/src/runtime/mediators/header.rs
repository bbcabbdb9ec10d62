//! `<header>` with `scope="transport"`: set or remove an HTTP header of the current message
//! (SYN `mediators/transform/HeaderMediator.java`). SOAP headers need the XML engine and are
//! rejected at deploy time until then.

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope};
use crate::runtime::value::ValueSource;

#[derive(Debug, Clone)]
pub struct Header {
    pub name: String,
    /// `None` removes the header.
    pub value: Option<ValueSource>,
}

impl Header {
    pub fn apply<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<(), String> {
        match &self.value {
            Some(v) => {
                let v = v.resolve(ctx);
                ctx.set(Scope::Transport, &self.name, v)
            }
            None => {
                ctx.remove(Scope::Transport, &self.name);
                Ok(())
            }
        }
    }
}
