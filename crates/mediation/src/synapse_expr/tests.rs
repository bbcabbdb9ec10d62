//! Ported synapse unit-test vectors.
