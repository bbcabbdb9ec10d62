//! `<loopback/>`: move the message from the request flow to the response flow (the out-sequence
//! runs with the current message as the response).

#[derive(Debug, Clone, Default)]
pub struct Loopback;
