//! The errors of file integrity monitoring.

use std::path::PathBuf;

/// What went wrong in a baseline, a scan, a seal or a restore.
///
/// Every variant names the file (and where it helps the field or offset)
/// and never carries key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrityError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The policy is not usable (an unknown attribute or group, a bad glob, a
    /// relative path).
    #[error("integrity policy: {field}: {reason}")]
    Policy {
        /// The dotted key, e.g. `integrity.rules[2].attributes`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A baseline file is not a well-formed dha baseline (bad magic, unknown
    /// version, truncated, a field out of range).
    #[error("{path}: not a valid baseline: {reason} (at byte {offset})")]
    BaselineFormat {
        /// The baseline file.
        path: PathBuf,
        /// Where the problem was found.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A baseline carries no seal, or its seal does not verify with the key
    /// given: altered, truncated, or sealed with another key.
    #[error("{path}: baseline refused: {reason}")]
    BaselineSeal {
        /// The baseline file.
        path: PathBuf,
        /// Which check failed (never key material).
        reason: String,
    },
    /// A key file is missing, unreadable, of the wrong kind or malformed.
    #[error("{path}: sealing key: {reason}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong (never key material).
        reason: String,
    },
    /// The records given for a new baseline cannot be stored (a path given
    /// twice or out of order, an empty or over-long path, extended
    /// attributes out of order).
    #[error("baseline records: {reason}")]
    InvalidRecords {
        /// What is wrong, naming the path.
        reason: String,
    },
    /// The known-good store is unusable, or holds no good copy of a file
    /// (missing object, or an object whose content no longer matches its
    /// hash: never put back).
    #[error("{path}: known-good store: {reason}")]
    Store {
        /// The store directory or the object file.
        path: PathBuf,
        /// What is wrong (which hash).
        reason: String,
    },
    /// A restore from the known-good store was refused: the baseline does
    /// not record the path as a regular file with a hash, a directory or
    /// another object now sits at the path, or its directory is missing.
    /// Nothing was changed at the path.
    #[error("{path}: restore refused: {reason}")]
    RestoreRefused {
        /// The device path to restore.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl IntegrityError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        IntegrityError::Io {
            path: path.into(),
            source,
        }
    }
}
