//! What mediation needs of a message body: nothing but to move it, to replace it with bytes a
//! mediator built, and to leave an empty one behind. The concrete type is the transport's
//! streaming body (a client's or backend's stream passed on untouched); mediation never reads it
//! unless a mediator needs the content.

use bytes::Bytes;

/// A message body as mediation handles it.
pub trait MessageBody: Default + From<Bytes> + Send + 'static {}

impl<T: Default + From<Bytes> + Send + 'static> MessageBody for T {}
