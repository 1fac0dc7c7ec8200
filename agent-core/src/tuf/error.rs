//! What can go wrong while verifying an update. Every variant names what
//! failed (which role, which threshold, which hash) and never carries key
//! material.

/// A TUF verification or processing failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TufError {
    /// Bytes that are not the JSON the role needs, or a field with a wrong
    /// type or value (the message names the role and the field).
    #[error("{role}: malformed metadata: {message}")]
    Malformed {
        /// The role (`root`, `timestamp`, a delegated role name).
        role: String,
        /// What is wrong, naming the field.
        message: String,
    },
    /// A value cannot be written as canonical JSON (a float, say).
    #[error("canonical JSON: {0}")]
    Canonical(String),
    /// A key cannot be used (unknown type or scheme, bad encoding).
    #[error("key {keyid}: {message}")]
    BadKey {
        /// The key id as listed in the metadata.
        keyid: String,
        /// Why.
        message: String,
    },
    /// Fewer valid signatures from distinct authorised keys than the threshold.
    #[error(
        "{role}: {valid} valid signature(s) from distinct authorised keys, threshold {threshold}"
    )]
    Threshold {
        /// The role whose metadata was checked.
        role: String,
        /// Distinct keys with a valid signature.
        valid: u32,
        /// The role's threshold.
        threshold: u32,
    },
    /// A role's threshold is below 1 (TUF 1.0.34 §4.3: "threshold … MUST be at least 1").
    #[error("{role}: threshold {threshold} is invalid (must be at least 1)")]
    InvalidThreshold {
        /// The role.
        role: String,
        /// The threshold given.
        threshold: i64,
    },
}
