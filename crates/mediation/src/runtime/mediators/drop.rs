//! `<drop/>`: stop mediating this message. With no response sent yet the client gets MI's implicit
//! `202 Accepted` with an empty body (passthru `ServerWorker#sendAck`).

#[derive(Debug, Clone, Default)]
pub struct Drop;
