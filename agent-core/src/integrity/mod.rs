//! File integrity monitoring (issue 4; IEC 62443-4-2 CR 3.4, software and
//! information integrity; the "monitoring devices" principle of DITTA/NEMA
//! CPSP 2).
//!
//! The flow (DESIGN.md "Integrity"): a [`policy`] (paths, exclusions,
//! attributes) → the walker and the hashing pool ([`scan`](mod@scan)) → a
//! [`baseline`] sealed with a signature or an HMAC ([`seal`]), or a diff
//! against one ([`diff`](mod@diff)) → changes → events.
//!
//! Unlike AIDE, whose database cannot be signed and which rehashes every
//! file on every check, a dha baseline is sealed (Ed25519 or HMAC-SHA-256)
//! and refused when altered, and a quick check rehashes only the files whose
//! size, mtime, ctime, inode or device changed.

pub mod attrs;
pub mod baseline;
pub mod checked;
pub mod diff;
pub mod error;
pub mod fsx;
pub mod ops;
pub mod policy;
pub mod record;
pub mod render;
pub mod report;
pub mod scan;
pub mod seal;
pub mod store;

pub use attrs::{Attr, AttrSet};
pub use baseline::{Baseline, read_baseline, write_baseline};
pub use checked::CheckRecord;
pub use diff::{
    AttrChange, Change, ChangeKind, diff, diff_paths, diff_paths_records, diff_records,
};
pub use error::IntegrityError;
pub use fsx::{FsExtras, NoExtras};
pub use policy::{
    BUILTIN_GROUPS, CompiledPolicy, CompiledRule, IntegrityPolicy, RuleConfig, builtin_group,
    policy_digest_for_paths,
};
pub use record::{EntryType, FileRecord, FileTime, RecordExtra, Xattr};
pub use report::{BaselineInfo, CheckMode, IntegrityReport, Problem, ReportStats};
pub use scan::{
    ScanMode, ScanOptions, ScanOutcome, ScanProblem, ScanProblemKind, ScanProgress, ScanStats,
    scan, scan_paths,
};
pub use seal::{KeyId, Seal, SealError, SealKey, SealKind, VerifyKey};
pub use store::{KnownGoodStore, NotStored, NotStoredReason, RestoreOutcome, StoreStats};
