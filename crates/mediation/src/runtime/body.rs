//! What mediation needs of a message body: to move it untouched (a client's or backend's stream
//! passed on as it is), to replace it with bytes a mediator built, to leave an empty one behind,
//! and, only when a mediator needs the content, to read it whole up to a limit. The concrete type
//! is the transport's streaming body.

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::runtime::payload::PayloadError;

/// Errors of the bodies mediation handles.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A message body as mediation handles it.
pub trait MessageBody:
    http_body::Body<Data = Bytes, Error: Into<BoxError>>
    + Default
    + From<Bytes>
    + Send
    + Unpin
    + 'static
{
}

impl<T> MessageBody for T where
    T: http_body::Body<Data = Bytes, Error: Into<BoxError>>
        + Default
        + From<Bytes>
        + Send
        + Unpin
        + 'static
{
}

/// Reads a whole body, failing as soon as it grows past `limit` bytes (nothing beyond the limit
/// is buffered).
pub async fn read_limited<B: MessageBody>(body: B, limit: usize) -> Result<Bytes, PayloadError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(PayloadError::TooLarge { limit }),
        Err(e) => Err(PayloadError::Read(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    #[tokio::test]
    async fn a_body_one_byte_over_the_limit_is_refused() {
        let limit = 16;
        let at_limit = Full::new(Bytes::from(vec![b'a'; limit]));
        assert_eq!(read_limited(at_limit, limit).await.unwrap().len(), limit);
        let over = Full::new(Bytes::from(vec![b'a'; limit + 1]));
        assert_eq!(
            read_limited(over, limit).await,
            Err(PayloadError::TooLarge { limit })
        );
    }
}
