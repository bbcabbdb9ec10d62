//! `<sequence key="name"/>`: runs a named sequence inline, then continues; `key="{expr}"` picks the
//! sequence per message; `<sequence>` with mediators inside is an anonymous sequence run in place
//! (SYN `mediators/base/SequenceMediator.java`, dynamic keys via `config/xml/ValueFactory.java`).

use std::sync::Arc;

use crate::runtime::engine::Sequence;
use crate::runtime::value::ValueSource;

#[derive(Debug, Clone)]
pub enum SequenceCall {
    /// A literal name, or an expression giving one.
    Named(ValueSource),
    Inline(Arc<Sequence>),
}
