//! Backend failures of the pass-through sender, classified the way MI's pass-through transport
//! classifies them, with the error code a fault sequence sees in `ERROR_CODE` and the HTTP status a
//! client gets when no fault sequence answers.
//!
//! Sources (wso2/wso2-synapse, `modules/transports/core/nhttp/.../transport/passthru/`):
//! `ErrorCodes.java` (the base codes), `ConnectCallback.java` (refused/failed connect -> 101503,
//! connect timeout -> 101508, both reported by `DeliveryAgent.errorConnecting` in state
//! REQUEST_READY with the message "Error connecting to the back end"), `TargetHandler.java`
//! (`closed` -> 101505, `timeout` -> 101504, `exception`: `IOException` -> 101500 and
//! `HttpException` -> 101506), `TargetErrorHandler.getErrorCode` (the `ERROR_CODE` property is the
//! base code plus the ordinal of the connection's `ProtocolState`), and synapse core
//! `TimeoutHandler.java` (an endpoint timeout sets `ERROR_CODE` 101504, `HANDLER_TIME_OUT`, message
//! "Send timeout", without a state offset).

use std::time::Duration;

use http::StatusCode;

/// MI's `ProtocolState` of the backend connection when a failure happened; its ordinal is added to
/// the base error code in MI's `ERROR_CODE` property (`TargetErrorHandler.getErrorCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolState {
    /// No request bytes written yet (connect phase).
    RequestReady = 0,
    /// Writing the request head.
    RequestHead = 1,
    /// Writing the request body.
    RequestBody = 2,
    /// The request is written; waiting for the response head.
    RequestDone = 3,
    /// Reading the response head.
    ResponseHead = 4,
    /// Reading the response body.
    ResponseBody = 5,
}

/// MI base error codes (wso2-synapse `passthru/ErrorCodes.java`, `SynapseConstants.java`).
pub mod codes {
    /// `SND_IO_ERROR`: I/O error while talking to the backend.
    pub const SEND_IO_ERROR: u32 = 101_500;
    /// `RCV_IO_ERROR_RECEIVING`: reading the client's request failed.
    pub const RECEIVE_IO_ERROR: u32 = 101_001;
    /// `CONNECTION_FAILED`: the backend could not be reached (refused, unreachable, DNS).
    pub const CONNECTION_FAILED: u32 = 101_503;
    /// `CONNECTION_TIMEOUT`: timed out waiting for the backend.
    pub const CONNECTION_TIMEOUT: u32 = 101_504;
    /// `CONNECTION_CLOSED`: the backend closed the connection mid-exchange.
    pub const CONNECTION_CLOSED: u32 = 101_505;
    /// `PROTOCOL_VIOLATION`: the backend's response broke HTTP.
    pub const PROTOCOL_VIOLATION: u32 = 101_506;
    /// `CONNECT_TIMEOUT`: the TCP/TLS connect did not finish in time.
    pub const CONNECT_TIMEOUT: u32 = 101_508;
}

/// Why forwarding a request to a backend failed.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The connection to the backend was refused, unreachable, or the name did not resolve.
    #[error("error connecting to the back end {target}: {source}")]
    ConnectFailed {
        /// The backend URI.
        target: String,
        /// The underlying connect error.
        #[source]
        source: crate::body::BoxError,
    },
    /// The connect (TCP and TLS handshake) did not finish within the connect timeout.
    #[error("timed out connecting to the back end {target}")]
    ConnectTimeout {
        /// The backend URI.
        target: String,
    },
    /// No response head arrived within the endpoint timeout.
    #[error("no response from the back end {target} within {} ms", timeout.as_millis())]
    ResponseTimeout {
        /// The backend URI.
        target: String,
        /// The timeout that elapsed.
        timeout: Duration,
    },
    /// The backend closed the connection before the response was complete.
    #[error("the back end {target} closed the connection ({state:?}): {source}")]
    ConnectionClosed {
        /// The backend URI.
        target: String,
        /// Where in the exchange the connection was lost.
        state: ProtocolState,
        /// The underlying error.
        #[source]
        source: crate::body::BoxError,
    },
    /// The backend's response was not valid HTTP (bad status line, bad framing, oversized head).
    #[error("HTTP protocol violation by the back end {target}: {source}")]
    ProtocolViolation {
        /// The backend URI.
        target: String,
        /// The underlying error.
        #[source]
        source: crate::body::BoxError,
    },
    /// Another I/O error (for example a reset) while exchanging data with the backend.
    #[error("I/O error with the back end {target}: {source}")]
    Io {
        /// The backend URI.
        target: String,
        /// The underlying error.
        #[source]
        source: crate::body::BoxError,
    },
    /// The client's request body failed while it was being streamed to the backend.
    #[error("reading the client's request body failed while forwarding to {target}: {source}")]
    RequestBody {
        /// The backend URI.
        target: String,
        /// The underlying error.
        #[source]
        source: crate::body::BoxError,
    },
    /// The target URI cannot be used (no scheme/authority, unsupported scheme).
    #[error(
        "invalid back end URI {target:?}: {reason}; valid: an absolute http:// or https:// URI"
    )]
    InvalidTarget {
        /// The URI as given.
        target: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl BackendError {
    /// MI's base error code for this failure, as MI logs it (`ERROR_CODE = 101503, ...`).
    pub fn mi_error_code(&self) -> u32 {
        match self {
            BackendError::ConnectFailed { .. } | BackendError::InvalidTarget { .. } => {
                codes::CONNECTION_FAILED
            }
            BackendError::ConnectTimeout { .. } => codes::CONNECT_TIMEOUT,
            BackendError::ResponseTimeout { .. } => codes::CONNECTION_TIMEOUT,
            BackendError::ConnectionClosed { .. } => codes::CONNECTION_CLOSED,
            BackendError::ProtocolViolation { .. } => codes::PROTOCOL_VIOLATION,
            BackendError::Io { .. } => codes::SEND_IO_ERROR,
            BackendError::RequestBody { .. } => codes::RECEIVE_IO_ERROR,
        }
    }

    /// The value MI puts in the `ERROR_CODE` property for a fault sequence: the base code plus the
    /// `ProtocolState` ordinal for failures detected on an open connection
    /// (`TargetErrorHandler.getErrorCode`); connect failures are reported in REQUEST_READY (+0)
    /// and an endpoint timeout carries 101504 unchanged (`TimeoutHandler`).
    pub fn mi_error_code_with_state(&self) -> u32 {
        match self {
            BackendError::ConnectionClosed { state, .. } => {
                codes::CONNECTION_CLOSED + *state as u32
            }
            BackendError::ProtocolViolation { .. } => {
                codes::PROTOCOL_VIOLATION + ProtocolState::RequestDone as u32
            }
            BackendError::Io { .. } => codes::SEND_IO_ERROR + ProtocolState::RequestDone as u32,
            other => other.mi_error_code(),
        }
    }

    /// MI's `ERROR_MESSAGE` for this failure.
    pub fn mi_error_message(&self) -> &'static str {
        match self {
            BackendError::ConnectFailed { .. }
            | BackendError::ConnectTimeout { .. }
            | BackendError::InvalidTarget { .. } => "Error connecting to the back end",
            BackendError::ResponseTimeout { .. } => "Send timeout",
            _ => "Error in Sender",
        }
    }

    /// The status a client sees when no fault sequence answers: 504 for timeouts, 400 when the
    /// client's own body failed, 502 for everything else the backend did wrong.
    pub fn http_status(&self) -> StatusCode {
        match self {
            BackendError::ConnectTimeout { .. } | BackendError::ResponseTimeout { .. } => {
                StatusCode::GATEWAY_TIMEOUT
            }
            BackendError::RequestBody { .. } => StatusCode::BAD_REQUEST,
            _ => StatusCode::BAD_GATEWAY,
        }
    }

    /// True when the client, not the backend, caused the failure (its request body broke off or
    /// was malformed while it streamed). Such a failure must never change the endpoint's state:
    /// MI reads the client's bytes in its `SourceHandler`, and only `TargetHandler` failures reach
    /// `AbstractEndpoint.onFault` and the endpoint's `EndpointContext`.
    pub fn is_client_error(&self) -> bool {
        matches!(self, BackendError::RequestBody { .. })
    }

    /// True when the request never reached the backend, so retrying it elsewhere is safe even
    /// for non-idempotent methods.
    pub fn is_connect_failure(&self) -> bool {
        matches!(
            self,
            BackendError::ConnectFailed { .. }
                | BackendError::ConnectTimeout { .. }
                | BackendError::InvalidTarget { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_map_to_gateway_timeout_and_mi_codes() {
        let e = BackendError::ResponseTimeout {
            target: "http://b".into(),
            timeout: Duration::from_millis(5),
        };
        assert_eq!(e.mi_error_code(), 101_504);
        assert_eq!(e.mi_error_code_with_state(), 101_504);
        assert_eq!(e.http_status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(e.mi_error_message(), "Send timeout");
        let e = BackendError::ConnectTimeout {
            target: "http://b".into(),
        };
        assert_eq!(e.mi_error_code(), 101_508);
        assert_eq!(e.http_status(), StatusCode::GATEWAY_TIMEOUT);
        assert!(e.is_connect_failure());
    }

    #[test]
    fn only_a_failed_request_body_is_the_clients_error() {
        let body = BackendError::RequestBody {
            target: "http://b".into(),
            source: "bad chunk size".into(),
        };
        assert!(body.is_client_error());
        assert_eq!(body.http_status(), StatusCode::BAD_REQUEST);
        let closed = BackendError::ConnectionClosed {
            target: "http://b".into(),
            state: ProtocolState::RequestBody,
            source: "eof".into(),
        };
        assert!(!closed.is_client_error());
    }

    #[test]
    fn invalid_target_is_a_connect_failure() {
        let e = BackendError::InvalidTarget {
            target: "x".into(),
            reason: "no scheme",
        };
        assert_eq!(e.mi_error_code(), 101_503);
        assert_eq!(e.http_status(), StatusCode::BAD_GATEWAY);
        assert!(e.to_string().contains("valid: an absolute http://"));
    }
}
