//! Endpoint suspension state machine (placeholder, being written).
