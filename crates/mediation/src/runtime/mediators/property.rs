//! `<property>`: set or remove a property in the default, axis2 or transport scope
//! (synapse-subset.md §3.9; SYN `mediators/builtin/PropertyMediator.java`).

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope};
use crate::runtime::value::ValueSource;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertyAction {
    Set(ValueSource),
    Remove,
}

#[derive(Debug, Clone)]
pub struct Property {
    pub name: String,
    pub scope: Scope,
    pub action: PropertyAction,
}

impl Property {
    pub fn apply<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<(), String> {
        match &self.action {
            PropertyAction::Set(value) => {
                let v = value.resolve(ctx);
                ctx.set(self.scope, &self.name, v)
            }
            PropertyAction::Remove => {
                ctx.remove(self.scope, &self.name);
                Ok(())
            }
        }
    }
}
