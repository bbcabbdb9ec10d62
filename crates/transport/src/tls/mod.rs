//! TLS material (placeholder, being written).
