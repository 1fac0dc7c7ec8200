//! dha core: the portable, blocking part of the device-hardening agent.
//!
//! Everything here runs against a [`Root`] (the device's `/`, or a directory
//! holding an extracted device image) and never calls the operating system
//! except through `std` or a trait that `agent-linux` implements. See
//! `../shared/DESIGN.md` for the four flows and the conventions.
//!
//! ```no_run
//! use dha_core::{Auditor, Config, Root, SystemClock};
//! let root = Root::open("/").unwrap();
//! let report = Auditor::new(&Config::default(), &SystemClock).run(&root);
//! for f in &report.findings {
//!     println!("{} {} {} {}", f.check_id, f.severity, f.location(), f.title);
//! }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod allow;
pub mod audit;
pub mod boot;
pub mod catalogue;
pub mod checks;
pub mod clock;
pub mod config;
pub mod durable;
pub mod events;
pub mod evidence;
mod fault;
pub mod finding;
pub mod forward;
pub mod install;
pub mod integrity;
pub mod live;
pub mod monitor;
pub mod parse;
pub mod process;
pub mod recovery;
pub mod report;
pub mod root;
pub mod sbom;
#[cfg(test)]
pub(crate) mod testing;
pub mod tuf;

pub use audit::{AuditContext, Auditor, CheckFn, CheckOutcome, FindingBuilder, HostProbe, Source};
pub use catalogue::{CATALOGUE, CheckInfo};
pub use clock::{Clock, FixedClock, SystemClock};
pub use config::{Config, ConfigError};
pub use durable::write_atomic;
pub use evidence::{Answer, EvidenceReport};
pub use finding::{Diagnostic, Evidence, Finding, References, Severity};
pub use report::{CheckResult, CheckStatus, DeviceIdentity, Report, SeverityCounts};
pub use root::{FileKind, FileMeta, ReadLimits, ResolvedDir, Root, RootError, TextFile};

/// The version of dha (from `Cargo.toml`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
