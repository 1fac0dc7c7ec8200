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
    /// A local file or directory could not be read or written (the store,
    /// a target directory, removable media).
    #[error("{path}: {message}")]
    Io {
        /// The file or directory.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// The transport has no file at this path (a missing file on the media,
    /// later an HTTP 404): distinct so that "no newer root" (TUF 1.0.34
    /// §5.3.3) is not mistaken for a failure.
    #[error("{path}: not found")]
    NotFound {
        /// The path relative to the repository base.
        path: String,
    },
    /// A download delivered more bytes than its bound (a limit from
    /// [`crate::tuf::Limits`] or a length from the parent metadata).
    #[error("{path}: more than {limit} bytes")]
    TooLarge {
        /// The path relative to the repository base, or the local file.
        path: String,
        /// The bound in bytes.
        limit: u64,
    },
    /// A role name, target name or repository path that could escape its
    /// directory or cannot be stored.
    #[error("unsafe name {name:?}: {reason}")]
    UnsafeName {
        /// The name as given.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// A target ended before the length its metadata gives.
    #[error("target {target}: got {got} bytes, expected {expected}")]
    TargetLength {
        /// The target name.
        target: String,
        /// The length in the targets metadata.
        expected: u64,
        /// The bytes received.
        got: u64,
    },
    /// A target delivered more bytes than the length its metadata gives.
    #[error("target {target}: more than the expected {expected} bytes")]
    TargetTooLong {
        /// The target name.
        target: String,
        /// The length in the targets metadata.
        expected: u64,
    },
    /// A target's digest differs from the hash its metadata lists.
    #[error("target {target}: {algorithm} hash does not match")]
    TargetHash {
        /// The target name.
        target: String,
        /// The hash algorithm (`sha256`, `sha512`).
        algorithm: String,
    },
    /// The metadata lists no hash algorithm this client supports for a target.
    #[error("target {target}: no supported hash listed (sha256, sha512)")]
    NoSupportedHash {
        /// The target name.
        target: String,
    },
    /// A target's release counter is below its persisted anti-rollback floor.
    #[error("target {target}: release {offered} is below the anti-rollback floor {floor}")]
    FloorRollback {
        /// The target name.
        target: String,
        /// The floor recorded on the device.
        floor: u64,
        /// The release offered.
        offered: u64,
    },
}
