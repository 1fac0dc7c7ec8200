//! Device hardening, monitoring and recovery checks (CHECKS.md "Device
//! hardening, monitoring, inventory"): BOOT-01 boot-loader password and
//! grub.cfg permissions, BOOT-02 verified boot ([`boot`]); INT-01 the
//! integrity baseline and the dpkg digests ([`integrity`]); UPD-01 package
//! sources and the update trust root ([`update`]); BAK-01 a known-good or
//! recovery slot ([`backup`]); LOG-01 audit daemon, journal and time
//! synchronisation ([`logging`]); ENC-01 data at rest ([`encryption`]).
//!
//! Each offline part reads the audited root through the context, so it runs
//! the same on `/` and on an extracted image; live parts ask the
//! [`crate::HostProbe`] only when the root is `/`. What each check expects
//! is set in `[hardening]` ([`HardeningPolicy`]).

use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::Diagnostic;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

pub mod backup;
pub mod boot;
pub mod encryption;
pub mod integrity;
pub mod logging;
pub mod update;

pub use backup::bak01_recovery_slot;
pub use boot::{boot01_bootloader, boot02_verified_boot};
pub use encryption::enc01_encryption;
pub use integrity::int01_integrity;
pub use logging::log01_audit_logging;
pub use update::upd01_update_trust;

/// What the system checks want (`[hardening]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HardeningPolicy {
    /// The device boots through GRUB: a root without `grub.cfg` is then a
    /// BOOT-01 finding instead of "not applicable". Default false (also
    /// implied by `boot.backend = "grub"`).
    pub grub_required: bool,
    /// Oldest acceptable integrity baseline, in days since it was made
    /// (INT-01); 0 turns the age limit off. Default 90.
    pub baseline_max_age_days: u32,
    /// Longest acceptable time since the last integrity check against the
    /// baseline, in days (INT-01; the check's record beside the baseline);
    /// 0 turns the limit off. Default 7.
    pub check_max_age_days: u32,
    /// Most package files hashed against their dpkg digests in one audit
    /// (INT-01), taken package by package in name order; 0 skips the dpkg
    /// comparison. Default 5000.
    pub dpkg_verify_max_files: u32,
    /// The directory of the update client's trusted TUF metadata, holding
    /// `root.json` (UPD-01; `dha update --metadata-dir`). Default
    /// `/var/lib/dha/tuf`.
    pub tuf_metadata_dir: PathBuf,
    /// Largest slot image hashed to verify it against the install journal
    /// (BAK-01), in bytes; a larger one is reported as not verified.
    /// Default 1 GiB.
    pub slot_verify_max_bytes: u64,
    /// Mount points that hold data and must be on an encrypted filesystem
    /// (ENC-01): each is judged by the filesystem that holds it (the
    /// longest fstab or `/proc/mounts` mount point above it). Default
    /// `/data`, `/home`, `/srv`, `/var/lib`.
    pub data_mounts: Vec<String>,
}

impl Default for HardeningPolicy {
    fn default() -> Self {
        HardeningPolicy {
            grub_required: false,
            baseline_max_age_days: 90,
            check_max_age_days: 7,
            dpkg_verify_max_files: 5000,
            tuf_metadata_dir: PathBuf::from("/var/lib/dha/tuf"),
            slot_verify_max_bytes: 1 << 30,
            data_mounts: ["/data", "/home", "/srv", "/var/lib"]
                .map(String::from)
                .to_vec(),
        }
    }
}

/// A value read from an input file, quoted and escaped for a report (a
/// hostile value cannot inject terminal escapes or fake report lines).
fn q(s: &str) -> String {
    format!("{s:?}")
}

fn na(reason: impl Into<String>) -> CheckOutcome {
    CheckOutcome::NotApplicable(reason.into())
}

/// Reports an input the check cannot interpret (not a weakness by itself).
fn warn_at(ctx: &AuditContext<'_>, file: &str, line: Option<u32>, field: &str, message: String) {
    ctx.warn(Diagnostic {
        file: file.to_owned(),
        line,
        field: (!field.is_empty()).then(|| field.to_owned()),
        message,
    });
}

/// A device path from the configuration (`PathBuf`) as the root reads it.
fn device_path(p: &std::path::Path) -> String {
    crate::root::display_path(&p.to_string_lossy())
}

/// Seconds in a day.
const DAY_SECS: u64 = 86_400;

/// Opens a regular file for streaming (a dpkg-listed file, a slot image)
/// that the caller resolved inside the root: never follows a final link,
/// never blocks on a FIFO swapped in since the caller's check
/// (`O_NOFOLLOW | O_NONBLOCK`; the latter has no effect on regular files),
/// and refuses anything that is not a regular file once open.
fn open_regular(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(f)
}
