//! Bounds on what the client downloads and how far it searches, with the
//! safe defaults of the reference implementation (python-tuf `UpdaterConfig`).

/// Bounds on downloads and searches. Every field has a safe default; raising
/// one is a deliberate choice of the integrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest `root.json` accepted (bytes). Default 512,000.
    pub max_root_bytes: u64,
    /// Largest `timestamp.json` (bytes). Default 16,384.
    pub max_timestamp_bytes: u64,
    /// Largest `snapshot.json` when the timestamp gives no length (bytes). Default 2,000,000.
    pub max_snapshot_bytes: u64,
    /// Largest targets or delegated-targets metadata when the snapshot gives no length (bytes). Default 5,000,000.
    pub max_targets_bytes: u64,
    /// Most root versions applied in one refresh (TUF 1.0.34 §5.3.3). Default 256.
    pub max_root_rotations: u32,
    /// Most delegated roles visited in one target search (TUF 1.0.34 §5.6.7). Default 32.
    pub max_delegations: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_root_bytes: 512_000,
            max_timestamp_bytes: 16_384,
            max_snapshot_bytes: 2_000_000,
            max_targets_bytes: 5_000_000,
            max_root_rotations: 256,
            max_delegations: 32,
        }
    }
}
