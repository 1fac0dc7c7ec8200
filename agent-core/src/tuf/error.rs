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
    /// A server answered with an HTTP status other than 200 (404 is
    /// [`TufError::NotFound`]); redirects are not followed, so 3xx lands
    /// here too.
    #[error("{url}: HTTP status {status}")]
    HttpStatus {
        /// The URL requested.
        url: String,
        /// The status code received.
        status: u16,
    },
    /// A TLS server certificate that the configured CA bundle does not
    /// vouch for (unknown issuer, wrong name, expired, …).
    #[error("{url}: TLS certificate not trusted: {message}")]
    Certificate {
        /// The URL requested.
        url: String,
        /// Why rustls rejected the certificate.
        message: String,
    },
    /// Metadata whose `expires` is not after the update's fixed start time
    /// (TUF 1.0.34 §5.3.10, §5.4.4, §5.5.6, §5.6.5: a freeze attack).
    #[error("{role}: metadata has expired")]
    Expired {
        /// The role (`root`, `timestamp`, a delegated role name).
        role: String,
    },
    /// A version lower than the one already trusted (TUF 1.0.34 §5.4.3,
    /// §5.5.5: a rollback attack).
    #[error("{role}: version {offered} is below the trusted version {trusted}")]
    Rollback {
        /// The role whose version went down.
        role: String,
        /// The version trusted so far.
        trusted: u64,
        /// The version offered.
        offered: u64,
    },
    /// A new snapshot no longer lists a role the trusted snapshot lists
    /// (TUF 1.0.34 §5.5.5; a rollback of that role).
    #[error("{role}: listed by the trusted snapshot but missing from the new one")]
    RoleRemoved {
        /// The role that disappeared.
        role: String,
    },
    /// A version other than the one required: a root that is not N+1
    /// (TUF 1.0.34 §5.3.5), or a version differing from what the referring
    /// metadata gives (§5.5.4, §5.6.4: a mix-and-match attack).
    #[error("{role}: version {got}, expected {expected}")]
    VersionMismatch {
        /// The role.
        role: String,
        /// The version required.
        expected: u64,
        /// The version received.
        got: u64,
    },
    /// A role's metadata exceeds its fixed bound from [`crate::tuf::Limits`]
    /// (TUF 1.0.34 §5.3.3, §5.4.1: an endless-data attack).
    #[error("{role}: metadata larger than {limit} bytes")]
    MetadataTooLarge {
        /// The role.
        role: String,
        /// The bound in bytes.
        limit: u64,
    },
    /// A role's metadata is not the length its referring metadata gives
    /// (TUF 1.0.34 §5.5.2, §5.6.2).
    #[error("{role}: metadata is not the {expected} bytes long its parent metadata gives")]
    MetadataLength {
        /// The role.
        role: String,
        /// The length listed by the referring metadata.
        expected: u64,
    },
    /// A role's metadata does not match a hash its referring metadata gives
    /// (TUF 1.0.34 §5.5.2, §5.6.2), or lists only unsupported algorithms.
    #[error("{role}: metadata {algorithm} hash does not match")]
    MetadataHash {
        /// The role.
        role: String,
        /// The hash algorithm (`sha256`, …).
        algorithm: String,
    },
    /// The snapshot (or timestamp) does not list a role that must be loaded
    /// (TUF 1.0.34 §5.6.1).
    #[error("{role}: not listed in the {listed_in} metadata")]
    NotListed {
        /// The role looked for.
        role: String,
        /// The metadata that should list it (`snapshot`).
        listed_in: String,
    },
    /// The trusted metadata store holds no root: the updater was never
    /// initialised with the root the device ships (TUF 1.0.34 §5.2).
    #[error("{path}: no trusted root; initialise the store with the shipped root first")]
    NoTrustedRoot {
        /// The store directory.
        path: String,
    },
    /// The trusted metadata store holds no copy of a role that a lookup
    /// without network needs ([`crate::tuf::client::Updater::load_from_store`]):
    /// no update cycle has completed since the store was initialised.
    #[error("{path}: no trusted {role} metadata; run an update cycle first")]
    NotStored {
        /// The role.
        role: String,
        /// The store directory.
        path: String,
    },
    /// The store already trusts a different root; initialising again would
    /// replace (possibly roll back) it.
    #[error("{path}: already holds a different trusted root (version {version})")]
    AlreadyInitialised {
        /// The store directory.
        path: String,
        /// The version of the root already trusted.
        version: u64,
    },
    /// No role trusted for the target lists it (TUF 1.0.34 §5.6.7, §5.7.1).
    #[error("target {target}: not found in the trusted targets metadata")]
    TargetNotFound {
        /// The target name.
        target: String,
    },
    /// A target declared for other hardware than the device's (the
    /// `hardware_id` custom field; Uptane's wrong-software protection).
    #[error("target {target}: built for hardware {listed:?}, this device is {device:?}")]
    HardwareIdMismatch {
        /// The target name.
        target: String,
        /// The `hardware_id` the target lists.
        listed: String,
        /// The device's hardware id.
        device: String,
    },
    /// A target with an anti-rollback floor on the device lists no release
    /// counter, so it cannot be shown to be at or above the floor.
    #[error("target {target}: no release counter, but the device's floor is {floor}")]
    ReleaseCounterMissing {
        /// The target name.
        target: String,
        /// The floor recorded on the device.
        floor: u64,
    },
}
